//! The temporaries and locks a run holds, so that what no destructor
//! removes (a panic ends in MPI_Abort) is removed by the panic hook: this
//! process's, and rank 0's as the other ranks learnt them.

use std::fs::{self};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporaries and locks of this process not yet committed or removed: the
/// panic hook removes them before it aborts the job (no destructor runs
/// then).
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

pub(super) fn live(path: &Path, add: bool) {
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
