//! The lock a run holds on an output from reservation to commit, and how a
//! dead run's lock is told from a live one's.
//!
//! Liveness is decided by what a renamed or copied binary cannot change:
//! the holder keeps an advisory lock (`flock`) on the lock file for as long
//! as it lives (the kernel drops it when the process dies, however it
//! dies), and the file names the holder as "host pid start", where start is
//! the process's start time in clock ticks since boot (/proc/PID/stat field
//! 22), so a recycled pid is not taken for the holder. A lock is stale only
//! when it names this host, its `flock` is free, and no process with that
//! pid and start time runs. A lock of another host is never judged: a
//! shared file system's `flock` may be local to each node.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::live::live;
use super::names::{beside, cannot_write};
use crate::error::{Failure, Outcome};

/// The lock a run holds on an output from reservation to commit, so that
/// two runs on one output cannot both write it: `.<name>.lock` beside it,
/// holding "host pid start" and `flock`ed by its holder. It appears whole
/// and already held (written under a private name, then linked into
/// place), so no other run ever sees it half-made. A lock left by a run
/// that died on this host (kill -9) is taken over, and that run's
/// temporary removed.
#[derive(Debug)]
pub(super) struct Lock {
    path: PathBuf,
    /// Open for the lock's life: its `flock` says the holder is alive.
    _held: File,
}

impl Lock {
    pub(super) fn acquire(dest: &Path, what: &str) -> Outcome<Self> {
        let path = beside(dest, ".lock");
        let me = format!("{}\n", Holder::me());
        let mine = beside(dest, &format!(".lock-{}", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&mine)
            .map_err(|e| cannot_write(dest, what, e))?;
        let _ = try_flock(&file);
        let written = std::io::Write::write_all(&mut &file, me.as_bytes());
        if let Err(e) = written {
            let _ = fs::remove_file(&mine);
            return Err(cannot_write(dest, what, e));
        }
        live(&mine, true);
        let taken = (|| {
            for _ in 0..3 {
                match link_into_place(&mine, &path) {
                    Ok(made) => return Ok(made),
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                        if let Err(held) = take_over_if_stale(dest, &path) {
                            return Err(locked(dest, what, &path, &held));
                        }
                    }
                    Err(e) => return Err(cannot_write(dest, what, e)),
                }
            }
            Err(locked(dest, what, &path, ""))
        })();
        let _ = fs::remove_file(&mine);
        live(&mine, false);
        let made_in_place = taken?;
        live(&path, true);
        let lock = Lock {
            path,
            _held: made_in_place.unwrap_or(file),
        };
        // A pair a dead run left half-committed: finish it before anything.
        finish_journals(dest);
        Ok(lock)
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        live(&self.path, false);
    }
}

/// Give the complete, held lock file `mine` the name `path`, failing with
/// `AlreadyExists` if that name is taken. A hard link does it atomically
/// (`Ok(None)`: `mine`'s open file is the lock); where the file system has
/// none, the lock is made in place (exclusive create) and its own open file
/// returned: a checker could see it unheld and empty for a moment, and
/// leaves a holder it cannot read alone.
fn link_into_place(mine: &Path, path: &Path) -> std::io::Result<Option<File>> {
    match fs::hard_link(mine, path) {
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EPERM | libc::EOPNOTSUPP | libc::ENOSYS | libc::EMLINK)
            ) =>
        {
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(path)?;
            let _ = try_flock(&f);
            let text = fs::read(mine)?;
            std::io::Write::write_all(&mut &f, &text)?;
            Ok(Some(f))
        }
        other => other.map(|()| None),
    }
}

/// What `flock(LOCK_EX | LOCK_NB)` on `file` said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flock {
    /// Taken by us: nobody else holds it.
    Taken,
    /// Held by another open file: its holder is alive.
    Held,
    /// This file system does not do it: judge by the process alone.
    Unsupported,
}

fn try_flock(file: &File) -> Flock {
    // SAFETY: a valid open descriptor; flock only reads its arguments.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Flock::Taken;
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EWOULDBLOCK) => Flock::Held,
        _ => Flock::Unsupported,
    }
}

/// The existing lock at `path` (for `dest`): if its holder is gone, finish
/// its pair commit, remove its temporary and the lock, and return `Ok`;
/// else its text, to name it.
fn take_over_if_stale(dest: &Path, path: &Path) -> Result<(), String> {
    // Read-write where we may: over NFS, flock is a POSIX lock, which
    // needs a writable descriptor to be exclusive.
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .or_else(|_| File::open(path));
    let Ok(file) = opened else {
        // Gone already (its holder committed): try again.
        return Ok(());
    };
    let flock = try_flock(&file);
    let held = fs::read_to_string(path).unwrap_or_default();
    if flock == Flock::Held {
        return Err(held);
    }
    let Some(pid) = stale_pid(&held) else {
        return Err(held);
    };
    // Still the file we judged (not a new run's lock made since)?
    let same = match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    };
    if same {
        // A run killed while committing a pair: finish its commit first
        // (its temporaries are whole).
        finish_journals(dest);
        let _ = fs::remove_file(beside(dest, &format!(".tmp-{pid}")));
        let _ = fs::remove_file(path);
    }
    Ok(())
}

fn locked(dest: &Path, what: &str, lock: &Path, held: &str) -> Failure {
    let by = match Holder::parse(held) {
        Some(h) if h.pid == std::process::id() && h.host == host() => {
            " (this run, under another of its options)".to_string()
        }
        Some(h) => format!(" (pid {} on {})", h.pid, h.host),
        None => String::new(),
    };
    let hint = if what == "checkpoint" {
        "; name another with --checkpoint FILE, or wait for it"
    } else {
        "; wait for it"
    };
    Failure::usage(format!(
        "{what} '{}' is being written by another parsim run{by}{hint}, \
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

/// Who holds a lock or wrote a journal: "host pid [start]" (start: the
/// process's start time in clock ticks since boot; absent in locks of
/// parsim before 2026-12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Holder {
    pub host: String,
    pub pid: u32,
    pub start: Option<u64>,
}

impl Holder {
    /// This process.
    pub(super) fn me() -> Self {
        let pid = std::process::id();
        Holder {
            host: host(),
            pid,
            start: process_start(pid).map(|(start, _)| start),
        }
    }

    pub(super) fn parse(text: &str) -> Option<Self> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let (host, pid, start) = match words[..] {
            [h, p] => (h, p, None),
            [h, p, s] => (h, p, Some(s.parse().ok()?)),
            _ => return None,
        };
        Some(Holder {
            host: host.to_string(),
            pid: pid.parse().ok()?,
            start,
        })
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.host, self.pid)?;
        match self.start {
            Some(s) => write!(f, " {s}"),
            None => Ok(()),
        }
    }
}

/// A process's start time (clock ticks since boot) and whether it is still
/// running (not a zombie), from /proc/PID/stat; `None` if there is no such
/// process.
fn process_start(pid: u32) -> Option<(u64, bool)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

/// "PID (comm) STATE f4 ... f22=starttime ...": the name may hold spaces
/// and parentheses, so the fields are counted from the last ')'. A zombie
/// (Z) or dead (X) process holds nothing any more.
fn parse_stat(stat: &str) -> Option<(u64, bool)> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let running = !matches!(fields.first(), Some(&("Z" | "X")));
    // Field 3 (state) is fields[0], so field 22 is fields[19].
    let start = fields.get(19)?.parse().ok()?;
    Some((start, running))
}

/// The pid of a lock's or journal's holder if it was on this host and no
/// such process runs any more (so it is stale); `None` while it may be
/// alive, or if the text cannot be read (another run is just writing it).
/// The process is the holder only if its start time is the one recorded;
/// without one (an older parsim's lock), any process of that pid is taken
/// for the holder. The command name is never looked at: a binary may be
/// called anything.
pub(super) fn stale_pid(held: &str) -> Option<u32> {
    let h = Holder::parse(held)?;
    if h.host != host() || h.pid == std::process::id() {
        return None;
    }
    match process_start(h.pid) {
        None => Some(h.pid),
        Some((_, false)) => Some(h.pid),
        Some((now, true)) => match h.start {
            Some(then) if then != now => Some(h.pid),
            _ => None,
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_known_by_pid_and_start_time_never_by_name() {
        let stat =
            "4242 (my (odd) parsim-0.1) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 123456 99";
        assert_eq!(parse_stat(stat), Some((123456, true)));
        let zombie = "4242 (x) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 77 99";
        assert_eq!(parse_stat(zombie), Some((77, false)));
        let me = Holder::me();
        assert!(me.start.is_some(), "this process has a start time");
        assert_eq!(Holder::parse(&me.to_string()), Some(me.clone()));
        assert_eq!(
            Holder::parse("h 12"),
            Some(Holder {
                host: "h".into(),
                pid: 12,
                start: None
            })
        );
        assert_eq!(Holder::parse("h 12 x"), None);
        // Our parent (cargo's test runner) is alive whatever it is called.
        let parent = std::os::unix::process::parent_id();
        let (start, _) = process_start(parent).unwrap();
        let alive = format!("{} {parent} {start}", host());
        assert_eq!(stale_pid(&alive), None, "a live process, any name");
        let reused = format!("{} {parent} {}", host(), start + 1);
        assert_eq!(stale_pid(&reused), Some(parent), "a recycled pid");
        let old_format = format!("{} {parent}", host());
        assert_eq!(stale_pid(&old_format), None, "no start time: alive");
        assert_eq!(stale_pid(&format!("other-host {parent} {start}")), None);
    }
}
