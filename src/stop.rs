//! Graceful stop on SIGTERM and SIGUSR1.
//!
//! Schedulers warn a job before killing it: SLURM sends SIGTERM at the time
//! limit (and any signal chosen with `--signal` some time before), and
//! `mpirun` forwards SIGUSR1 to every rank. The handler only records the
//! signal; the solver polls it at step boundaries and the ranks agree
//! collectively (an all-reduce) before anyone stops, so no rank leaves a
//! collective the others are still in.
//!
//! Under `mpirun`, SIGTERM sent to `mpirun` itself is followed by SIGKILL of
//! the ranks after one second (`--mca odls_base_sigkill_timeout`); SIGUSR1
//! gives the ranks all the time they need.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGTERM, SIGUSR1};

/// The last stop signal received, 0 if none.
#[derive(Debug, Clone)]
pub struct StopSignal {
    last: Arc<AtomicI32>,
}

impl StopSignal {
    /// Install the handlers (once per process).
    pub fn install() -> std::io::Result<Self> {
        let last = Arc::new(AtomicI32::new(0));
        for sig in [SIGTERM, SIGUSR1] {
            let slot = Arc::clone(&last);
            // SAFETY: the handler only stores to an atomic, which is
            // async-signal-safe.
            unsafe {
                signal_hook::low_level::register(sig, move || slot.store(sig, Ordering::Relaxed))?;
            }
        }
        Ok(Self { last })
    }

    /// The signal number received, if any.
    pub fn received(&self) -> i32 {
        self.last.load(Ordering::Relaxed)
    }
}

/// Name of a stop signal for messages.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        SIGTERM => "SIGTERM",
        SIGUSR1 => "SIGUSR1",
        _ => "a signal",
    }
}
