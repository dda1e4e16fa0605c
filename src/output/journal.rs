//! A result and its sidecar committed together (heat's `.h5` and `.xmf`):
//! both durable first, a journal naming both renames, the renames back to
//! back; the next run finishes a journal a killed run left (see
//! `super::lock`, which takes the dead run's lock over).

use std::fs::{self};
use std::path::{Path, PathBuf};

use super::live::live;
use super::names::beside;
use super::pending::PendingOutput;
use crate::error::{Failure, Outcome};

/// Commit a result and its sidecar (heat's `.h5` and `.xmf`) so that they
/// change together: both temporaries are made durable first, a journal
/// `.<name>.commit` beside the result names both renames, then the two
/// renames follow back to back and the journal goes. A job killed between
/// the renames (a window of microseconds) leaves the journal, and the next
/// run on that output, taking over the dead run's lock, finishes it, so a
/// new result never stays beside an old sidecar.
pub fn commit_pair(main: PendingOutput, side: PendingOutput) -> Outcome<PathBuf> {
    let fail = |what: String| Failure::runtime(anyhow::anyhow!(what));
    let sync = |p: &Path| fs::File::open(p).and_then(|f| f.sync_all());
    for p in [&main.temp, &side.temp] {
        sync(p).map_err(|e| fail(format!("cannot flush '{}': {e}", p.display())))?;
    }
    let journal = beside(&main.dest, ".commit");
    let text = format!(
        "{}\t{}\n{}\t{}\n",
        main.temp.display(),
        main.dest.display(),
        side.temp.display(),
        side.dest.display()
    );
    let written = fs::write(&journal, text).and_then(|()| sync(&journal));
    if let Err(e) = written {
        let _ = fs::remove_file(&journal);
        return Err(fail(format!("cannot write '{}': {e}", journal.display())));
    }
    live(&journal, true);
    let path = main.commit();
    let side = path
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|_| side.commit());
    // Alive to here: whatever happened was said; the journal is only for
    // a run that dies between the renames.
    let _ = fs::remove_file(&journal);
    live(&journal, false);
    side.and(path)
}
