//! Output files that never exist half-written: data goes to a temporary
//! name in the destination directory and is renamed into place only when
//! complete. A crash at any moment leaves either the previous file or the
//! new complete one at the final path (rename is atomic within a file
//! system, which is why the temporary lives in the same directory).

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Failure, Outcome};

/// Temporaries and locks of this process not yet committed or removed: the
/// panic hook removes them before it aborts the job (no destructor runs
/// then).
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live(path: &Path, add: bool) {
    if let Ok(mut v) = LIVE.lock() {
        if add {
            v.push(path.to_path_buf());
        } else {
            v.retain(|p| p != path);
        }
    }
}

/// Rank 0's temporaries and locks as the other ranks know them (absolute
/// paths; a lock with the text it held then): a rank that panics removes
/// them too, since MPI_Abort kills rank 0 before its own cleanup can run.
static JOB_LIVE: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());

/// This process's live temporaries and locks, absolute, each with its
/// text if it is a lock (a lock is removed by another rank only while it
/// still holds that text: another run may have taken the name since).
pub fn live_paths() -> Vec<(PathBuf, String)> {
    let cwd = std::env::current_dir().unwrap_or_default();
    LIVE.lock()
        .map(|v| {
            v.iter()
                .map(|p| {
                    let text = if p.extension().is_some_and(|e| e == "lock") {
                        fs::read_to_string(p).unwrap_or_default()
                    } else {
                        String::new()
                    };
                    (cwd.join(p), text)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Adopt rank 0's live paths (see [`live_paths`]) on another rank.
pub fn adopt_job_live(paths: Vec<(PathBuf, String)>) {
    if let Ok(mut v) = JOB_LIVE.lock() {
        *v = paths;
    }
}

/// Remove every live temporary and lock, this process's and rank 0's (from
/// the panic hook; never blocks, since the panicking thread may hold a
/// registry). How many files it removed.
pub fn remove_live() -> usize {
    let mut removed = 0;
    if let Ok(v) = LIVE.try_lock() {
        for p in v.iter() {
            removed += usize::from(fs::remove_file(p).is_ok());
        }
    }
    if let Ok(v) = JOB_LIVE.try_lock() {
        for (p, text) in v.iter() {
            let held = fs::read_to_string(p).unwrap_or_default();
            if text.is_empty() || held == *text {
                removed += usize::from(fs::remove_file(p).is_ok());
            }
        }
    }
    removed
}

/// Only an absent path or a regular file may become an output: never a
/// directory, a device, a FIFO, a socket or a symbolic link (even with
/// --force: replacing `/dev/null` or a link's target is never what was
/// meant). `what` names the file in messages ("output", "checkpoint").
/// Returns whether a regular file is there.
pub fn check_destination(dest: &Path, what: &str) -> Outcome<bool> {
    let shown = dest.display();
    let refuse = |why: &str| Err(Failure::usage(format!("{what} '{shown}' {why}")));
    if dest.as_os_str().as_bytes().ends_with(b"/") || dest.file_name().is_none() {
        return refuse("names a directory, not a file");
    }
    if dest.to_str().is_none() {
        return refuse("is not valid UTF-8; the HDF5 library takes file names as text");
    }
    match fs::symlink_metadata(dest) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => refuse(&format!("cannot be checked: {e}")),
        Ok(m) if m.is_dir() => refuse("is a directory"),
        Ok(m) if m.file_type().is_symlink() => {
            refuse("is a symbolic link; parsim creates or replaces only regular files")
        }
        Ok(m) if !m.is_file() => refuse(
            "is not a regular file (a device, FIFO or socket); \
             parsim creates or replaces only regular files",
        ),
        Ok(_) => Ok(true),
    }
}

/// `.<name><suffix>` beside `dest`: where its temporary, lock and commit
/// journal live. A name too long for that (file names have at most 255
/// bytes) is cut and given a hash of the whole name, so every legal output
/// name has them, the same ones on every run.
fn beside(dest: &Path, suffix: &str) -> PathBuf {
    const NAME_MAX: usize = 255;
    let file = dest.file_name().unwrap_or_default().as_bytes();
    let mut name = OsString::from(".");
    if 1 + file.len() + suffix.len() <= NAME_MAX {
        name.push(dest.file_name().unwrap_or_default());
    } else {
        let hash = file.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let keep = NAME_MAX - 1 - suffix.len() - 17;
        name.push(std::ffi::OsStr::from_bytes(&file[..keep.min(file.len())]));
        name.push(format!("~{hash:016x}"));
    }
    name.push(suffix);
    dest.with_file_name(name)
}

/// The lock a run holds on an output from reservation to commit, so that
/// two runs on one output cannot both write it: `.<name>.lock` beside it,
/// created exclusively, holding "host pid". A lock left by a run that died
/// on this host (kill -9) is taken over, and that run's temporary removed.
#[derive(Debug)]
struct Lock {
    path: PathBuf,
}

impl Lock {
    fn acquire(dest: &Path, what: &str) -> Outcome<Self> {
        let path = beside(dest, ".lock");
        let me = format!("{} {}\n", host(), std::process::id());
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(f) => {
                    live(&path, true);
                    let lock = Lock { path };
                    std::io::Write::write_all(&mut &f, me.as_bytes())
                        .map_err(|e| cannot_write(dest, what, e))?;
                    return Ok(lock);
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let held = fs::read_to_string(&path).unwrap_or_default();
                    match stale_pid(&held) {
                        Some(pid) => {
                            // A run killed while committing a pair: finish
                            // its commit (both temporaries are complete).
                            finish_journal(dest);
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

/// Free bytes for unprivileged users on the file system holding `path`.
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: all-zero is a valid statvfs (plain integers).
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a pointer to a live statvfs.
    (unsafe { libc::statvfs(c.as_ptr(), &mut st) } == 0).then_some(st.f_bavail * st.f_frsize)
}

fn cannot_write(dest: &Path, what: &str, e: std::io::Error) -> Failure {
    Failure::usage(format!("cannot write {what} '{}': {e}", dest.display()))
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
fn host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The pid of a lock's holder if it was on this host and is no longer a
/// running parsim (so the lock is stale); `None` while it may be alive,
/// or if the lock cannot be read (another run is just writing it).
fn stale_pid(held: &str) -> Option<u32> {
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

/// A destination that has been checked and reserved: its lock is held, the
/// temporary file exists (so the directory is writable) and the final path
/// may be replaced. Dropping it without [`PendingOutput::commit`] removes
/// the temporary and leaves the final path as it was.
#[derive(Debug)]
pub struct PendingOutput {
    dest: PathBuf,
    temp: PathBuf,
    force: bool,
    what: &'static str,
    committed: bool,
    _lock: Lock,
}

impl PendingOutput {
    /// Check the result file `dest` and create its temporary. Refuses an
    /// existing `dest` unless `force`, anything but a regular file (see
    /// [`check_destination`]), a missing or unwritable parent, and an
    /// output another run holds.
    pub fn prepare(dest: &Path, force: bool) -> Outcome<Self> {
        Self::prepare_as(dest, force, "output")
    }

    /// As [`PendingOutput::prepare`], for a file called `what` in messages.
    pub fn prepare_as(dest: &Path, force: bool, what: &'static str) -> Outcome<Self> {
        let shown = dest.display();
        if check_destination(dest, what)? && !force {
            return Err(Failure::usage(format!(
                "{what} '{shown}' exists; pass --force to overwrite it"
            )));
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(Failure::usage(format!(
                "cannot write {what} '{shown}': directory '{}' does not exist",
                parent.display()
            )));
        }
        if force {
            replaceable(dest, &parent)
                .map_err(|why| Failure::usage(format!("{what} '{shown}' {why}")))?;
        }
        let lock = Lock::acquire(dest, what)?;
        let temp = beside(dest, &format!(".tmp-{}", std::process::id()));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| cannot_write(dest, what, e))?;
        live(&temp, true);
        Ok(Self {
            dest: dest.to_path_buf(),
            temp,
            force,
            what,
            committed: false,
            _lock: lock,
        })
    }

    /// The final file name (without directory).
    pub fn file_name(&self) -> String {
        self.dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Reserve `bytes` of disk for the temporary file now (it stays this
    /// long until written over), so that a disk filling up during the run
    /// cannot make its writes fail. `Ok(false)` where the file system
    /// cannot preallocate (some parallel ones): nothing reserved. Refused
    /// in one line when the file system has not that much room.
    pub fn reserve(&self, bytes: u64) -> anyhow::Result<bool> {
        use std::os::fd::AsRawFd;
        let f = fs::OpenOptions::new().write(true).open(&self.temp)?;
        let len = libc::off_t::try_from(bytes).unwrap_or(libc::off_t::MAX);
        // SAFETY: a valid open descriptor; fallocate only reads its arguments.
        if unsafe { libc::fallocate(f.as_raw_fd(), 0, 0, len) } == 0 {
            return Ok(true);
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOSPC) {
            return Ok(false);
        }
        let _ = f.set_len(0);
        let free = free_bytes(&self.temp)
            .map(|b| {
                format!(
                    ", its file system has {} free",
                    crate::memory::shown(b.into())
                )
            })
            .unwrap_or_default();
        anyhow::bail!(
            "not enough disk space for '{}': it needs about {}{free}",
            self.dest.display(),
            crate::memory::shown(bytes.into())
        )
    }

    /// Write `data` as the temporary file's content into the space
    /// [`PendingOutput::reserve`] kept: without truncating first (that
    /// would give the reservation back), then cut to its length.
    pub fn write_reserved(&self, data: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let mut f = fs::OpenOptions::new().write(true).open(&self.temp)?;
        f.write_all(data)?;
        f.set_len(data.len() as u64)
    }

    /// The final path, as asked.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Where the data is written until commit.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Make the complete temporary file durable and move it to the final
    /// path. Without `force`, a file that appeared there during the run is
    /// not replaced (the result stays at the temporary path, named in the
    /// error); with it, only a regular file is.
    pub fn commit(mut self) -> Outcome<PathBuf> {
        let fail = |what: String| Failure::runtime(anyhow::anyhow!(what));
        let sync = |p: &Path| fs::File::open(p).and_then(|f| f.sync_all());
        sync(&self.temp)
            .map_err(|e| fail(format!("cannot flush '{}': {e}", self.temp.display())))?;
        let there = check_destination(&self.dest, self.what)?;
        let moved = if self.force || !there {
            rename(&self.temp, &self.dest, !self.force)
        } else {
            Err(ErrorKind::AlreadyExists.into())
        };
        match moved {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                self.committed = true;
                live(&self.temp, false);
                return Err(fail(format!(
                    "{} '{}' appeared during the run and was not replaced; this run's \
                     result is '{}'",
                    self.what,
                    self.dest.display(),
                    self.temp.display()
                )));
            }
            Err(e) => {
                // The result is complete: keep it under a name of its own
                // (the temporary's, if even that rename fails).
                self.committed = true;
                live(&self.temp, false);
                let kept = unsaved_name(&self.dest);
                let kept = match fs::rename(&self.temp, &kept) {
                    Ok(()) => kept,
                    Err(_) => self.temp.clone(),
                };
                return Err(fail(format!(
                    "cannot move the {} to '{}': {e}; this run's result is kept as '{}'",
                    self.what,
                    self.dest.display(),
                    kept.display()
                )));
            }
        }
        self.committed = true;
        live(&self.temp, false);
        Ok(self.dest.clone())
    }
}

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

/// Finish the pair commit a killed run journaled beside `dest` (see
/// [`commit_pair`]): every temporary still there is moved to its
/// destination, then the journal is removed.
fn finish_journal(dest: &Path) {
    let journal = beside(dest, ".commit");
    let Ok(text) = fs::read_to_string(&journal) else {
        return;
    };
    for line in text.lines() {
        if let Some((temp, to)) = line.split_once('\t') {
            if Path::new(temp).is_file() {
                let _ = fs::rename(temp, to);
            }
        }
    }
    let _ = fs::remove_file(&journal);
}

/// Where a complete result that could not replace `dest` is kept:
/// `NAME.unsaved-PID.EXT` beside it (visible, with its extension, so that
/// it opens as what it is).
fn unsaved_name(dest: &Path) -> PathBuf {
    let stem = dest.file_stem().unwrap_or_default().to_string_lossy();
    let pid = std::process::id();
    let name = match dest.extension() {
        Some(ext) => format!("{stem}.unsaved-{pid}.{}", ext.to_string_lossy()),
        None => format!("{stem}.unsaved-{pid}"),
    };
    dest.with_file_name(name)
}

/// Whether this process may replace the existing `dest`: in a directory
/// with the sticky bit (/tmp, shared scratch), only the owner of the file
/// or of the directory (or root) may, whatever the file's permissions.
fn replaceable(dest: &Path, parent: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let (Ok(file), Ok(dir)) = (fs::symlink_metadata(dest), fs::metadata(parent)) else {
        return Ok(());
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let sticky = dir.mode() & libc::S_ISVTX != 0;
    if sticky && me != 0 && file.uid() != me && dir.uid() != me {
        return Err(format!(
            "belongs to another user (uid {}) in a directory with the sticky bit ('{}'): \
             only its owner may replace it; name another file",
            file.uid(),
            parent.display()
        ));
    }
    Ok(())
}

/// Rename `from` to `to`; with `no_replace`, never over an existing `to`
/// (atomically where the file system has RENAME_NOREPLACE, else through a
/// hard link, which fails on an existing name too).
fn rename(from: &Path, to: &Path, no_replace: bool) -> std::io::Result<()> {
    if !no_replace {
        return fs::rename(from, to);
    }
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (f, t) = (c(from)?, c(to)?);
    // SAFETY: two valid NUL-terminated paths; renameat2 only reads them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            f.as_ptr(),
            libc::AT_FDCWD,
            t.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL) | Some(libc::ENOSYS) => {
            fs::hard_link(from, to)?;
            fs::remove_file(from)
        }
        _ => Err(e),
    }
}

impl Drop for PendingOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
            live(&self.temp, false);
        }
    }
}

/// Rank 0, before a run: may a checkpoint be written at `path`? Only a
/// regular file or a new path; an existing one only when it is the file
/// the run restarts from, or with `force`; and its directory must be
/// writable (proved by creating the temporary).
pub fn reserve_checkpoint(path: &Path, restart: Option<&Path>, force: bool) -> Outcome {
    let shown = path.display();
    if check_destination(path, "checkpoint")? && restart != Some(path) && !force {
        return Err(Failure::usage(format!(
            "checkpoint '{shown}' exists; pass --force to overwrite it, or --restart {shown} to continue from it"
        )));
    }
    PendingOutput::prepare_as(path, true, "checkpoint").map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Killed between the renames: the result moved, the sidecar and
        // the journal and the locks left. The next run on fw.h5 finishes.
        let dead = u32::MAX - 2;
        let (th5, txmf) = (
            d.join(format!(".fw.h5.tmp-{dead}")),
            d.join(format!(".fw.xmf.tmp-{dead}")),
        );
        fs::write(&h5, b"newer h5").unwrap();
        fs::write(&txmf, b"newer xmf").unwrap();
        fs::write(
            d.join(".fw.h5.commit"),
            format!(
                "{}\t{}\n{}\t{}\n",
                th5.display(),
                h5.display(),
                txmf.display(),
                xmf.display()
            ),
        )
        .unwrap();
        for lock in [".fw.h5.lock", ".fw.xmf.lock"] {
            fs::write(d.join(lock), format!("{} {dead}\n", host())).unwrap();
        }
        let next = PendingOutput::prepare(&h5, true).unwrap();
        assert_eq!(
            fs::read(&xmf).unwrap(),
            b"newer xmf",
            "the sidecar caught up"
        );
        assert!(!d.join(".fw.h5.commit").exists() && !txmf.exists());
        drop(next);
        fs::remove_dir_all(&d).unwrap();
    }
}
