//! Graceful stop on SIGTERM, SIGUSR1, SIGINT (Ctrl-C) and SIGHUP (the
//! terminal closed).
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
//! gives the ranks all the time they need. Without `mpirun`, Ctrl-C and a
//! closed terminal reach parsim itself: they stop it the same way (a
//! checkpoint, exit 75, nothing left behind); a second one ends it at once
//! (exit 130), for a run that must not wait for its round to end. Where
//! they are ignored (`nohup`, a background job), they stay ignored.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};

/// The last stop signal received, 0 if none.
#[derive(Debug, Clone)]
pub struct StopSignal {
    last: Arc<AtomicUsize>,
}

impl StopSignal {
    /// Install the handlers (once per process).
    pub fn install() -> std::io::Result<Self> {
        let last = Arc::new(AtomicUsize::new(0));
        let interrupted = Arc::new(AtomicBool::new(false));
        // SIGINT and SIGHUP only where nothing asked to ignore them: under
        // `nohup`, or in a script's background job (`&`), they are ignored
        // on purpose and must stay so.
        let interrupts: Vec<i32> = [SIGINT, SIGHUP]
            .into_iter()
            .filter(|&s| !ignored(s))
            .collect();
        for &sig in &interrupts {
            // Registered first, so it runs before the flag below is set:
            // exits only when an interrupt came before this one.
            signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&interrupted))?;
            signal_hook::flag::register(sig, Arc::clone(&interrupted))?;
        }
        for sig in [SIGTERM, SIGUSR1].into_iter().chain(interrupts) {
            // The handler stores the signal's number: an atomic store,
            // async-signal-safe (signal-hook's safe API).
            signal_hook::flag::register_usize(sig, Arc::clone(&last), sig as usize)?;
        }
        // PARSIM_INJECT_STOP=1 (tests): SIGUSR1 arrives during start-up,
        // so the first check is known to see it.
        if std::env::var_os("PARSIM_INJECT_STOP").is_some() {
            signal_hook::low_level::raise(SIGUSR1)?;
        }
        Ok(Self { last })
    }

    /// The signal number received, if any.
    pub fn received(&self) -> i32 {
        self.last.load(Ordering::Relaxed) as i32
    }
}

/// Whether `sig` is ignored by this process (inherited `SIG_IGN`).
fn ignored(sig: i32) -> bool {
    // SAFETY: all-zero is a valid sigaction; passing a null new action only
    // reads the current one into `old`.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) };
    rc == 0 && old.sa_sigaction == libc::SIG_IGN
}

/// Name of a stop signal for messages.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        SIGTERM => "SIGTERM",
        SIGUSR1 => "SIGUSR1",
        SIGINT => "SIGINT (Ctrl-C)",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}
