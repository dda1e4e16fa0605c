//! The lock a run holds on an output from reservation to commit, and how a
//! dead run's lock is told from a live one's.

use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::live::live;
use super::names::{beside, cannot_write};
use crate::error::{Failure, Outcome};

/// The lock a run holds on an output from reservation to commit, so that
/// two runs on one output cannot both write it: `.<name>.lock` beside it,
/// created exclusively, holding "host pid". A lock left by a run that died
/// on this host (kill -9) is taken over, and that run's temporary removed.
#[derive(Debug)]
pub(super) struct Lock {
    path: PathBuf,
}

impl Lock {
    pub(super) fn acquire(dest: &Path, what: &str) -> Outcome<Self> {
        let path = beside(dest, ".lock");
        let me = format!("{} {}\n", host(), std::process::id());
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(f) => {
                    live(&path, true);
                    let lock = Lock { path };
                    std::io::Write::write_all(&mut &f, me.as_bytes())
                        .map_err(|e| cannot_write(dest, what, e))?;
                    // A pair a dead run left half-committed: finish it
                    // before anything.
                    finish_journals(dest);
                    return Ok(lock);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let held = fs::read_to_string(&path).unwrap_or_default();
                    match stale_pid(&held) {
                        Some(pid) => {
                            // A run killed while committing a pair: finish
                            // its commit first (its temporaries are whole).
                            finish_journals(dest);
                            let _ = fs::remove_file(beside(dest, &format!(".tmp-{pid}")));
                            let _ = fs::remove_file(&path);
                        }
                        None => return Err(locked(dest, what, &path, &held)),
                    }
                }
                Err(e) => return Err(cannot_write(dest, what, e)),
            }
        }
        Err(locked(dest, what, &path, ""))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        live(&self.path, false);
    }
}

fn locked(dest: &Path, what: &str, lock: &Path, held: &str) -> Failure {
    let by = match held.split_whitespace().collect::<Vec<_>>()[..] {
        [host, pid] => format!(" (pid {pid} on {host})"),
        _ => String::new(),
    };
    Failure::usage(format!(
        "{what} '{}' is being written by another parsim run{by}; wait for it, \
         or remove '{}' if that run is gone",
        dest.display(),
        lock.display()
    ))
}

/// This host's name (for locks).
pub(super) fn host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The pid of a lock's holder if it was on this host and is no longer a
/// running parsim (so the lock is stale); `None` while it may be alive,
/// or if the lock cannot be read (another run is just writing it).
pub(super) fn stale_pid(held: &str) -> Option<u32> {
    let [h, pid] = held.split_whitespace().collect::<Vec<_>>()[..] else {
        return None;
    };
    let pid: u32 = pid.parse().ok()?;
    if h != host() || pid == std::process::id() {
        return None;
    }
    let running = |stat: String| {
        // "PID (comm) STATE ...": a zombie (Z) or dead (X) process holds
        // nothing any more.
        let (comm, rest) = stat.rsplit_once(')')?;
        let alive = !matches!(rest.split_whitespace().next(), Some("Z" | "X"));
        (alive && comm.ends_with("(parsim")).then_some(())
    };
    match fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(running)
    {
        Some(()) => None,
        None => Some(pid),
    }
}

/// The result a sidecar belongs to (`run.xmf` -> `run.h5`): a pair's
/// journal lies beside its result, and a run that reserves the sidecar
/// must find it too.
fn result_of_sidecar(dest: &Path) -> Option<std::path::PathBuf> {
    (dest.extension()? == "xmf").then(|| dest.with_extension("h5"))
}

/// Finish any pair commit a dead run left for `dest`: the journal beside
/// it, and for a sidecar (`run.xmf`) the one beside its result (`run.h5`),
/// where a pair's journal lies.
fn finish_journals(dest: &Path) {
    finish_journal(dest);
    if let Some(result) = result_of_sidecar(dest) {
        finish_journal(&result);
    }
}

/// Finish the pair commit journaled beside `dest` by a run that is gone:
/// move its temporaries that are still there into place, then remove the
/// journal. A journal of a live run, of another host, or unreadable is
/// left alone.
fn finish_journal(dest: &Path) {
    let journal = beside(dest, ".commit");
    let Ok(text) = fs::read_to_string(&journal) else {
        return;
    };
    let mut lines = text.lines();
    let (Some(who), Some(main), Some(side)) = (lines.next(), lines.next(), lines.next()) else {
        return;
    };
    let Some(pid) = stale_pid(who) else {
        return;
    };
    let dir = dest.parent().unwrap_or(Path::new(""));
    for name in [main, side] {
        // Bare names only: the journal moves nothing outside its directory.
        if name.contains('/') || name.is_empty() {
            return;
        }
        let to = dir.join(name);
        let from = beside(&to, &format!(".tmp-{pid}"));
        if from.is_file() {
            let _ = fs::rename(&from, &to);
        }
    }
    let _ = fs::remove_file(&journal);
}
