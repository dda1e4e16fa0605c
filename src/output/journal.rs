//! A result and its sidecar committed together (heat's `.h5` and `.xmf`).
//!
//! Both temporaries are made durable first; a journal `.<name>.commit`
//! beside the result (written whole: a temporary renamed into place) names
//! the run (host, pid) and the two files; the two renames follow back to
//! back (both destinations judged first), with both locks held until both are done; then the journal goes.
//! A run killed between the renames leaves its journal and its locks: the
//! next run on either output that finds the journal of a run that is gone
//! finishes it (`super::lock::finish_journals`), moving that run's own temporaries only
//! (`.<name>.tmp-<its pid>`), so a new result never stays beside an old
//! sidecar and nothing else is ever renamed.

use std::fs;
use std::path::{Path, PathBuf};

use super::live::live;
use super::lock::host;
use super::names::beside;
use super::pending::PendingOutput;
use crate::error::Outcome;

/// Commit `main` and its sidecar `side` together (see the module).
pub fn commit_pair(mut main: PendingOutput, mut side: PendingOutput) -> Outcome<PathBuf> {
    main.sync()?;
    side.sync()?;
    // Both destinations are judged before either is renamed: a result is
    // never moved beside a sidecar that it cannot replace (one that
    // appeared during the run), which would show another file.
    main.may_replace()?;
    if let Err(why) = side.judge() {
        let words = why.words(side.what, &side.dest);
        return Err(main.keep(&format!(
            "{words}, so '{}' was not moved either (its sidecar would show another file)",
            main.dest.display()
        )));
    }
    let journal = beside(&main.dest, ".commit");
    let name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let text = format!(
        "{} {}\n{}\n{}\n",
        host(),
        std::process::id(),
        name(&main.dest),
        name(&side.dest)
    );
    // Whole or not at all: a temporary renamed into place. Without a
    // journal (a full disk) the pair is committed all the same.
    let temp = beside(&main.dest, &format!(".commit-{}", std::process::id()));
    let journaled = fs::write(&temp, text)
        .and_then(|()| fs::File::open(&temp).and_then(|f| f.sync_all()))
        .and_then(|()| fs::rename(&temp, &journal))
        .is_ok();
    let _ = fs::remove_file(&temp);
    if journaled {
        live(&journal, true);
    }
    let path = main.move_into_place();
    let moved = match &path {
        Ok(_) => side.move_into_place(),
        Err(_) => Ok(PathBuf::new()),
    };
    // Alive to here: whatever happened was said; the journal is only for
    // a run that dies between the renames. The locks go with `main` and
    // `side`, after this.
    if journaled {
        let _ = fs::remove_file(&journal);
        live(&journal, false);
    }
    moved.and(path)
}
