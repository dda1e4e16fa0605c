//! An output reserved before a run, written at its temporary path, and
//! committed (renamed into place) when complete; a checkpoint's claim.

use std::fs::{self, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::live::live;
use super::lock::Lock;
use super::names::{
    beside, cannot_write, check_destination, free_bytes, replaceable, same_file, unsaved_name,
};
use crate::error::{Failure, Outcome};

/// A destination that has been checked and reserved: its lock is held, the
/// temporary file exists (so the directory is writable) and the final path
/// may be replaced. Dropping it without [`PendingOutput::commit`] removes
/// the temporary and leaves the final path as it was.
#[derive(Debug)]
pub struct PendingOutput {
    pub(super) dest: PathBuf,
    pub(super) temp: PathBuf,
    force: bool,
    pub(super) what: &'static str,
    committed: bool,
    /// Its own lock, or `None` for a checkpoint this run has claimed (the
    /// claim holds the lock for the whole run, see [`CheckpointClaim`]).
    _lock: Option<Lock>,
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
        Self::check(dest, force, what)?;
        // A checkpoint this run claimed is locked already, by the claim.
        let lock = match claimed(dest) {
            Some(_) => None,
            None => Some(Lock::acquire(dest, what)?),
        };
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

    /// What [`PendingOutput::prepare_as`] refuses before it touches
    /// anything: an existing `dest` without `force`, anything but a regular
    /// file, a missing parent directory, a file `force` may not replace.
    /// `--dry-run` asks the same, so it refuses what the run would.
    pub fn check(dest: &Path, force: bool, what: &'static str) -> Outcome<()> {
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
        Ok(())
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
        // `ulimit -f` (batch systems set it): a file past it cannot be
        // written at all (SIGXFSZ, ignored here, or EFBIG), so say so now.
        if let Some(limit) = crate::memory::rlimit(libc::RLIMIT_FSIZE) {
            if u128::from(bytes) > limit {
                anyhow::bail!(
                    "'{}' needs about {}, more than this process's file-size limit \
                     (ulimit -f) of {}",
                    self.dest.display(),
                    crate::memory::shown(bytes.into()),
                    crate::memory::shown(limit)
                );
            }
        }
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
    /// error); with it, only a regular file is. A result that cannot be
    /// moved is kept under a name the error gives, never removed.
    pub fn commit(mut self) -> Outcome<PathBuf> {
        self.sync()?;
        self.move_into_place()
    }

    /// Make the temporary durable (before anything is renamed).
    pub(super) fn sync(&self) -> Outcome {
        let sync = fs::File::open(&self.temp).and_then(|f| f.sync_all());
        sync.map_err(|e| {
            Failure::runtime(anyhow::anyhow!(
                "cannot flush '{}': {e}",
                self.temp.display()
            ))
        })
    }

    /// May the temporary be moved to the destination now? `Ok(false)`:
    /// nothing is there; `Ok(true)`: a file is there that this run may
    /// replace (with `--force`; for a claimed checkpoint, only the file
    /// that was there when the run claimed it or that it wrote itself).
    /// `Err`: why not (nothing is done about it here).
    pub(super) fn judge(&self) -> Result<bool, Refusal> {
        let there =
            check_destination(&self.dest, self.what).map_err(|f| Refusal::NotAFile(f.message))?;
        if !there {
            return Ok(false);
        }
        match (&self._lock, claimed(&self.dest)) {
            (None, Some(ours)) if ours.is_none() || ours != identity(&self.dest) => {
                Err(Refusal::NotOurs)
            }
            (None, Some(_)) => Ok(true),
            _ if self.force => Ok(true),
            _ => Err(Refusal::Appeared),
        }
    }

    /// As [`PendingOutput::judge`], with the result kept and named in the
    /// error when it may not be moved.
    pub(super) fn may_replace(&mut self) -> Outcome<bool> {
        self.judge().map_err(|r| self.refused(r))
    }

    /// What a refusal means for this run's result: kept, and said in the
    /// refusal's own words ([`Refusal::words`]).
    pub(super) fn refused(&mut self, why: Refusal) -> Failure {
        let words = why.words(self.what, &self.dest);
        match why {
            Refusal::NotAFile(_) => self.keep(&words),
            Refusal::NotOurs => self.keep(&format!("{words}, and was not overwritten")),
            Refusal::Appeared => self.appeared(),
        }
    }

    /// The destination appeared during the run (without `--force`): the
    /// result stays at its temporary path, named in the error.
    fn appeared(&mut self) -> Failure {
        self.committed = true;
        live(&self.temp, false);
        Failure::runtime(anyhow::anyhow!(
            "{}; this run's result is '{}'",
            Refusal::Appeared.words(self.what, &self.dest),
            self.temp.display()
        ))
    }

    /// Rename the (durable) temporary into place, keeping the lock until
    /// this is dropped (a pair holds both locks until both are moved).
    pub(super) fn move_into_place(&mut self) -> Outcome<PathBuf> {
        let replace = self.may_replace()?;
        match rename(&self.temp, &self.dest, !replace) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(self.appeared()),
            Err(e) => {
                return Err(self.keep(&format!(
                    "cannot move the {} to '{}': {e}",
                    self.what,
                    self.dest.display()
                )))
            }
        }
        self.committed = true;
        live(&self.temp, false);
        if self._lock.is_none() {
            set_claimed(&self.dest, identity(&self.dest));
        }
        Ok(self.dest.clone())
    }

    /// The complete result could not be committed (`why`): keep it under
    /// a name of its own (the temporary's, if even that rename fails) and
    /// say where.
    pub(super) fn keep(&mut self, why: &str) -> Failure {
        self.committed = true;
        live(&self.temp, false);
        let kept = unsaved_name(&self.dest);
        let kept = match fs::rename(&self.temp, &kept) {
            Ok(()) => kept,
            Err(_) => self.temp.clone(),
        };
        Failure::runtime(anyhow::anyhow!(
            "{why}; this run's {} is kept as '{}'",
            if self.what == "output" {
                "result"
            } else {
                self.what
            },
            kept.display()
        ))
    }
}

/// Why a complete result may not be moved to its destination.
#[derive(Debug)]
pub(super) enum Refusal {
    /// Something other than a regular file is there now (the message).
    NotAFile(String),
    /// A file appeared there during the run, and `--force` was not given.
    Appeared,
    /// A claimed checkpoint's path holds a file the run did not write.
    NotOurs,
}

impl Refusal {
    /// The refusal in words, for `what` at `dest`.
    pub(super) fn words(&self, what: &str, dest: &Path) -> String {
        match self {
            Refusal::NotAFile(m) => m.clone(),
            Refusal::Appeared => format!(
                "{what} '{}' appeared during the run and was not replaced",
                dest.display()
            ),
            Refusal::NotOurs => format!(
                "{what} '{}' was replaced during the run by a file this run did not write",
                dest.display()
            ),
        }
    }
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

/// A file's identity (device, inode), or `None` where there is none.
type Identity = Option<(u64, u64)>;

fn identity(path: &Path) -> Identity {
    fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The checkpoints this process has claimed, each with the file at its
/// path that the run may replace (the one there when it was claimed, if
/// the run restarts from it or was given `--force`; then the last one the
/// run wrote).
static CLAIMS: Mutex<Vec<(PathBuf, Identity)>> = Mutex::new(Vec::new());

/// `Some(ours)` if this process has claimed `dest` as its checkpoint.
fn claimed(dest: &Path) -> Option<Identity> {
    let claims = CLAIMS.lock().ok()?;
    claims.iter().find(|(p, _)| p == dest).map(|(_, id)| *id)
}

fn set_claimed(dest: &Path, id: Identity) {
    if let Ok(mut claims) = CLAIMS.lock() {
        claims.retain(|(p, _)| p != dest);
        claims.push((dest.to_path_buf(), id));
    }
}

/// A run's checkpoint, held from the start of the run to its end, as a
/// result file is from reservation to commit: its lock is held all along
/// (a second run naming it is refused at its start), and every checkpoint
/// the run writes replaces only what the run may replace: the file that
/// was there when it started (the restart file, or with `--force`) or its
/// own last checkpoint. Anything else found there (a user's file copied in
/// during the run) is left alone, and this run's checkpoint kept beside it
/// under a name the error gives. Held by rank 0; dropping it frees the
/// path.
#[derive(Debug)]
pub struct CheckpointClaim {
    dest: PathBuf,
    _lock: Lock,
}

impl Drop for CheckpointClaim {
    fn drop(&mut self) {
        if let Ok(mut claims) = CLAIMS.lock() {
            claims.retain(|(p, _)| p != &self.dest);
        }
    }
}

/// Rank 0, before a run: claim the checkpoint `path` for the run (see
/// [`CheckpointClaim`]). Only a regular file or a new path; an existing
/// one only when it is the file the run restarts from, or with `force`;
/// and its directory must be writable (proved by creating the temporary).
pub fn reserve_checkpoint(
    path: &Path,
    restart: Option<&Path>,
    force: bool,
) -> Outcome<CheckpointClaim> {
    let shown = path.display();
    let there = check_destination(path, "checkpoint")?;
    let restarts_from_it = restart.is_some_and(|r| same_file(r, path));
    if there && !restarts_from_it && !force {
        return Err(Failure::usage(format!(
            "checkpoint '{shown}' exists; pass --force to overwrite it, or --restart {shown} to continue from it"
        )));
    }
    if claimed(path).is_some() {
        return Err(Failure::usage(format!(
            "checkpoint '{shown}' is claimed twice by this run"
        )));
    }
    let mut probe = PendingOutput::prepare_as(path, true, "checkpoint")?;
    let lock = probe._lock.take().expect("an unclaimed path is locked");
    drop(probe);
    set_claimed(path, identity(path));
    Ok(CheckpointClaim {
        dest: path.to_path_buf(),
        _lock: lock,
    })
}
