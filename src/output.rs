//! Output files that never exist half-written: data goes to a temporary
//! name in the destination directory and is renamed into place only when
//! complete. A crash at any moment leaves either the previous file or the
//! new complete one at the final path (rename is atomic within a file
//! system, which is why the temporary lives in the same directory).

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Failure, Outcome};

/// A destination that has been checked and reserved: the temporary file
/// exists (so the directory is writable) and the final path may be
/// replaced. Dropping it without [`PendingOutput::commit`] removes the
/// temporary and leaves the final path as it was.
#[derive(Debug)]
pub struct PendingOutput {
    dest: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl PendingOutput {
    /// Check `dest` and create its temporary. Refuses an existing `dest`
    /// unless `force`, a directory, and a missing or unwritable parent.
    pub fn prepare(dest: &Path, force: bool) -> Outcome<Self> {
        let shown = dest.display();
        let name = dest
            .file_name()
            .ok_or_else(|| Failure::usage(format!("output '{shown}' is not a file name")))?;
        if dest.is_dir() {
            return Err(Failure::usage(format!("output '{shown}' is a directory")));
        }
        if dest.exists() && !force {
            return Err(Failure::usage(format!(
                "output '{shown}' exists; pass --force to overwrite it"
            )));
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(Failure::usage(format!(
                "cannot write output '{shown}': directory '{}' does not exist",
                parent.display()
            )));
        }
        let temp = parent.join(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| Failure::usage(format!("cannot write output '{shown}': {e}")))?;
        Ok(Self {
            dest: dest.to_path_buf(),
            temp,
            committed: false,
        })
    }

    /// The final file name (without directory).
    pub fn file_name(&self) -> String {
        self.dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Where the data is written until commit.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Make the complete temporary file durable and move it to the final path.
    pub fn commit(mut self) -> Outcome<PathBuf> {
        let sync = |p: &Path| fs::File::open(p).and_then(|f| f.sync_all());
        sync(&self.temp).map_err(|e| {
            Failure::runtime(anyhow::anyhow!(
                "cannot flush '{}': {e}",
                self.temp.display()
            ))
        })?;
        fs::rename(&self.temp, &self.dest).map_err(|e| {
            Failure::runtime(anyhow::anyhow!(
                "cannot move '{}' to '{}': {e}",
                self.temp.display(),
                self.dest.display()
            ))
        })?;
        self.committed = true;
        Ok(self.dest.clone())
    }
}

impl Drop for PendingOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Rank 0, before a run: may a checkpoint be written at `path`? Only when
/// it does not exist yet, is the file the run restarts from, or `force`;
/// and its directory must be writable (proved by creating the temporary).
pub fn reserve_checkpoint(path: &Path, restart: Option<&Path>, force: bool) -> Outcome {
    if path.exists() && restart != Some(path) && !force {
        return Err(Failure::usage(format!(
            "checkpoint '{}' exists; pass --force to overwrite it, or --restart {} to continue from it",
            path.display(),
            path.display()
        )));
    }
    PendingOutput::prepare(path, true).map(drop)
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
        let p = PendingOutput::prepare(&dest, true).unwrap();
        fs::write(p.temp_path(), b"new").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"old", "untouched before commit");
        p.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert_eq!(fs::read_dir(&d).unwrap().count(), 1, "no temporary left");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn dropped_output_leaves_nothing() {
        let d = scratch("drop");
        let dest = d.join("b.h5");
        {
            let p = PendingOutput::prepare(&dest, false).unwrap();
            fs::write(p.temp_path(), b"partial").unwrap();
        }
        assert_eq!(fs::read_dir(&d).unwrap().count(), 0);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn bad_destinations_refused() {
        let d = scratch("bad");
        assert!(PendingOutput::prepare(&d, true).is_err(), "a directory");
        assert!(PendingOutput::prepare(&d.join("no/such/dir.h5"), true).is_err());
        fs::remove_dir_all(&d).unwrap();
    }
}
