//! Where an output's companions live (its temporary, lock and commit
//! journal: dot-files beside it), what may be replaced, and the messages
//! that say why not.

use std::ffi::OsString;
use std::fs::{self};
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Failure, Outcome};

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
pub(super) fn beside(dest: &Path, suffix: &str) -> PathBuf {
    const NAME_MAX: usize = 255;
    let file = dest.file_name().unwrap_or_default().as_bytes();
    let mut name = OsString::from(".");
    if 1 + file.len() + suffix.len() <= NAME_MAX {
        name.push(dest.file_name().unwrap_or_default());
    } else {
        let hash = file.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let mut keep = (NAME_MAX - 1 - suffix.len() - 17).min(file.len());
        // At a character's start: the name stays UTF-8 (HDF5 needs text).
        while keep > 0 && (file[keep] & 0xC0) == 0x80 {
            keep -= 1;
        }
        name.push(std::ffi::OsStr::from_bytes(&file[..keep]));
        name.push(format!("~{hash:016x}"));
    }
    name.push(suffix);
    dest.with_file_name(name)
}

pub(super) fn cannot_write(dest: &Path, what: &str, e: std::io::Error) -> Failure {
    Failure::usage(format!("cannot write {what} '{}': {e}", dest.display()))
}

/// Where a complete result that could not replace `dest` is kept:
/// `NAME.unsaved-PID.EXT` beside it (visible, with its extension, so that
/// it opens as what it is).
pub(super) fn unsaved_name(dest: &Path) -> PathBuf {
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
pub(super) fn replaceable(dest: &Path, parent: &Path) -> Result<(), String> {
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

/// Free bytes for unprivileged users on the file system holding `path`.
pub(super) fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: all-zero is a valid statvfs (plain integers).
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a pointer to a live statvfs.
    (unsafe { libc::statvfs(c.as_ptr(), &mut st) } == 0).then_some(st.f_bavail * st.f_frsize)
}

/// Whether `a` and `b` name one file, resolved rather than as text
/// (`./r.h5` and `r.h5`, `d/../r.h5`, a link to the directory, a hard
/// link): the same directory (by device and inode) and the same name, or
/// the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    if a == b {
        return true;
    }
    let id = |p: &Path| fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    if let (Some(x), Some(y)) = (id(a), id(b)) {
        return x == y;
    }
    let dir = |p: &Path| match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => id(d),
        _ => id(Path::new(".")),
    };
    a.file_name() == b.file_name() && dir(a).is_some() && dir(a) == dir(b)
}
