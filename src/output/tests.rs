//! Unit tests of output files: commit, destinations, locks, races, pairs.

use std::fs;
use std::path::{Path, PathBuf};

use super::journal::*;
use super::lock::host;
use super::pending::*;

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("parsim-out-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn commit_replaces_only_when_complete() {
    let d = scratch("commit");
    let dest = d.join("a.h5");
    fs::write(&dest, b"old").unwrap();
    assert!(PendingOutput::prepare(&dest, false).is_err());
    // Dropped before commit: the temporary goes, the old file stays.
    drop(fs::write(
        PendingOutput::prepare(&dest, true).unwrap().temp_path(),
        b"partial",
    ));
    assert_eq!(fs::read_dir(&d).unwrap().count(), 1);
    let p = PendingOutput::prepare(&dest, true).unwrap();
    fs::write(p.temp_path(), b"new").unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"old", "untouched before commit");
    p.commit().unwrap();
    assert_eq!(fs::read(&dest).unwrap(), b"new");
    assert_eq!(fs::read_dir(&d).unwrap().count(), 1, "no temporary left");
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn only_absent_paths_and_regular_files_become_outputs() {
    use std::os::unix::fs::symlink;
    let d = scratch("bad");
    let fifo = d.join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    symlink("nowhere", d.join("dangling")).unwrap();
    fs::write(d.join("real.h5"), b"x").unwrap();
    symlink("real.h5", d.join("link.h5")).unwrap();
    for (path, why) in [
        (d.clone(), "is a directory"),
        (d.join("sub/"), "names a directory"),
        (d.join("no/such/dir.h5"), "does not exist"),
        (fifo, "not a regular file"),
        (d.join("dangling"), "symbolic link"),
        (d.join("link.h5"), "symbolic link"),
    ] {
        refused(&path, why);
    }
    assert_eq!(fs::read(d.join("real.h5")).unwrap(), b"x");
    assert!(fs::symlink_metadata(d.join("dangling"))
        .unwrap()
        .file_type()
        .is_symlink());
    fs::remove_dir_all(&d).unwrap();
}

/// `dest` is refused, with a message saying `why`.
fn refused(dest: &Path, why: &str) {
    let err = PendingOutput::prepare(dest, true).unwrap_err();
    assert!(
        err.message.contains(why),
        "{}: {}",
        dest.display(),
        err.message
    );
}

#[test]
fn a_held_output_is_refused_and_a_dead_runs_lock_taken_over() {
    let d = scratch("lock");
    let dest = d.join("r.h5");
    let held = PendingOutput::prepare(&dest, false).unwrap();
    refused(&dest, "another parsim run");
    drop(held);
    // A lock from another host cannot be judged: refused, named.
    fs::write(d.join(".r.h5.lock"), "elsewhere 12\n").unwrap();
    refused(&dest, "pid 12 on elsewhere");
    // A lock of a process that is gone, on this host: taken over, and
    // that run's temporary removed.
    let dead = u32::MAX - 1;
    fs::write(d.join(".r.h5.lock"), format!("{} {dead}\n", host())).unwrap();
    fs::write(d.join(format!(".r.h5.tmp-{dead}")), b"partial").unwrap();
    let p = PendingOutput::prepare(&dest, false).unwrap();
    assert!(!d.join(format!(".r.h5.tmp-{dead}")).exists());
    p.commit().unwrap();
    let left: Vec<_> = fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("r.h5")],
        "no lock or temporary left"
    );
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_file_that_appears_during_the_run_is_not_replaced() {
    let d = scratch("race");
    let dest = d.join("s.h5");
    let p = PendingOutput::prepare(&dest, false).unwrap();
    fs::write(p.temp_path(), b"mine").unwrap();
    let temp = p.temp_path().to_path_buf();
    fs::write(&dest, b"theirs").unwrap();
    let err = p.commit().unwrap_err();
    assert!(
        err.message.contains("appeared during the run"),
        "{}",
        err.message
    );
    assert_eq!(fs::read(&dest).unwrap(), b"theirs");
    assert_eq!(
        fs::read(&temp).unwrap(),
        b"mine",
        "the result is kept and named"
    );
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_pair_commits_together_and_a_killed_commit_is_finished_by_the_next_run() {
    let d = scratch("pair");
    let (h5, xmf) = (d.join("fw.h5"), d.join("fw.xmf"));
    fs::write(&h5, b"old h5").unwrap();
    fs::write(&xmf, b"old xmf").unwrap();
    let (a, b) = (
        PendingOutput::prepare(&h5, true).unwrap(),
        PendingOutput::prepare(&xmf, true).unwrap(),
    );
    fs::write(a.temp_path(), b"new h5").unwrap();
    fs::write(b.temp_path(), b"new xmf").unwrap();
    commit_pair(a, b).unwrap();
    assert_eq!(fs::read(&h5).unwrap(), b"new h5");
    assert_eq!(fs::read(&xmf).unwrap(), b"new xmf");
    // Killed between the renames: the result moved; the sidecar's
    // temporary, the journal and both locks left. The next run on fw.h5
    // finishes the commit.
    let dead = u32::MAX - 2;
    let txmf = d.join(format!(".fw.xmf.tmp-{dead}"));
    let journal = d.join(".fw.h5.commit");
    let dead_journal = format!("{} {dead}\nfw.h5\nfw.xmf\n", host());
    fs::write(&h5, b"newer h5").unwrap();
    fs::write(&txmf, b"newer xmf").unwrap();
    fs::write(&journal, &dead_journal).unwrap();
    for lock in [".fw.h5.lock", ".fw.xmf.lock"] {
        fs::write(d.join(lock), format!("{} {dead}\n", host())).unwrap();
    }
    drop(PendingOutput::prepare(&h5, true).unwrap());
    assert_eq!(
        fs::read(&xmf).unwrap(),
        b"newer xmf",
        "the sidecar caught up"
    );
    assert!(!journal.exists() && !txmf.exists());
    // The journal of a live run (this one) is left alone.
    let mine = format!("{} {}\nfw.h5\nfw.xmf\n", host(), std::process::id());
    fs::write(&journal, mine).unwrap();
    fs::write(&txmf, b"not yet").unwrap();
    drop(PendingOutput::prepare(&h5, true).unwrap());
    assert_eq!(fs::read(&xmf).unwrap(), b"newer xmf");
    // One that names a file elsewhere moves nothing.
    let away = format!("{} {dead}\nfw.h5\n../elsewhere\n", host());
    fs::write(&journal, away).unwrap();
    drop(PendingOutput::prepare(&h5, true).unwrap());
    assert!(
        txmf.exists(),
        "nothing moved for a journal naming another place"
    );
    // Reserving the sidecar alone finishes its result's journal too.
    fs::write(&journal, &dead_journal).unwrap();
    fs::write(&txmf, b"newest xmf").unwrap();
    drop(PendingOutput::prepare(&xmf, true).unwrap());
    assert_eq!(fs::read(&xmf).unwrap(), b"newest xmf");
    assert!(!journal.exists());
    fs::remove_dir_all(&d).unwrap();
}
