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
//! SIGTERM sent to `mpirun` itself ends the job on the launcher's clock:
//! Open MPI 4.1's passes it on one second later and kills the ranks one
//! second after that (`--mca odls_base_sigkill_timeout`); Open MPI 5's
//! (PRRTE's `prterun`) sends them SIGTERM 0.25 s after it got the signal
//! and SIGKILL 0.25 s after that, and reads none of their output meanwhile
//! (see [`prterun_child`]); `srun` kills the tasks at once. SIGUSR1 gives
//! the ranks all the time they need.
//! Without `mpirun`, Ctrl-C and a closed terminal reach parsim itself: they
//! stop it the same way (a checkpoint, exit 75, nothing left behind); a
//! second one ends it at once (exit 130), for a run that must not wait for
//! its round to end. Where they are ignored (`nohup`, a background job),
//! they stay ignored.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGTERM, SIGUSR1};

/// The last stop signal received, 0 if none.
#[derive(Debug, Clone)]
pub struct StopSignal {
    last: Arc<AtomicUsize>,
}

impl StopSignal {
    /// Install the handlers (once per process).
    pub fn install() -> std::io::Result<Self> {
        let last = Arc::new(AtomicUsize::new(0));
        // Before SIGTERM's flag below: whether Open MPI 5's mpirun is ending
        // the job is known by the time the stop is seen.
        watch_prterun()?;
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
        // A stop that came before these handlers, since the loader ran
        // `record_early_stops`: honoured like any other.
        let early = EARLY.load(Ordering::SeqCst);
        if early != 0 && last.load(Ordering::SeqCst) == 0 {
            last.store(early, Ordering::SeqCst);
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

/// Whether this rank was started by Open MPI 5's `mpirun`, from the PMIx
/// namespace its launcher gave it (`PMIX_NAMESPACE`) and the name of its
/// parent process (`/proc/PPID/comm`).
///
/// Why it matters: Open MPI 5's `mpirun` is PRRTE's `prterun` (the
/// `mpirun` program execs it: the ranks' parent is named `prterun`, their
/// namespace `prterun-HOST-PID@1`). On SIGTERM, SIGINT or SIGHUP it ends
/// the job in PRRTE's `kill_local_procs` (3.0.x,
/// `src/mca/odls/base/odls_base_default_fns.c`): SIGCONT to every rank,
/// 0.25 s asleep, SIGTERM, 0.25 s asleep, SIGKILL, the delay hard-coded
/// (no MCA parameter sets it). It sleeps inside its event loop, so it reads
/// none of the ranks' stdout and stderr meanwhile, and quits once they are
/// dead: all a rank prints after that SIGTERM is lost. A rank whose parent
/// is that `prterun` can still reach its stderr, through
/// `/proc/PPID/fd/2` (see `crate::console`). Open MPI 4.1's `mpirun`
/// (`orterun`, a numeric namespace), a PRRTE DVM (`prte-...`), a remote
/// node's `prted` and `srun` (`slurm.pmix...`) are not it.
pub fn prterun_child(namespace: Option<&str>, parent_comm: Option<&str>) -> bool {
    namespace.is_some_and(|n| n.starts_with("prterun-"))
        && parent_comm.is_some_and(|c| c.trim_end() == "prterun")
}

/// Whether a SIGTERM sent by `term_from` is `prterun` (pid `prterun`)
/// ending the job: its own SIGTERM (not a user's `kill` of the rank), with
/// its SIGCONT (sent by `cont_from`) before it, which `kill_local_procs`
/// sends first and signal forwarding (`--forward-signals`) never does.
pub fn prterun_kill_sequence(prterun: i32, cont_from: i32, term_from: i32) -> bool {
    prterun > 0 && cont_from == prterun && term_from == prterun
}

/// The pid of the `prterun` that is this rank's parent, 0 if none.
static PRTERUN: AtomicI32 = AtomicI32::new(0);
/// Who sent the last SIGCONT.
static CONT_FROM: AtomicI32 = AtomicI32::new(0);
/// Where rank 0 says so at once: the launcher's stderr, else its own; -1
/// on the other ranks.
static SAY_FD: AtomicI32 = AtomicI32::new(-1);

/// Rank 0's line on hearing `prterun`'s SIGTERM: the stop itself may not
/// finish before SIGKILL, so the user learns at once what happened.
const PRTERUN_ENDING_LINE: &[u8] = b"parsim: Open MPI 5's mpirun is ending the job: \
SIGTERM to the ranks now, SIGKILL 0.25 s later; stopping at once, the stop line and checkpoint \
follow only if done by then (SIGUSR1 to mpirun gives a stop the time it needs)\n";

/// Under Open MPI 5's `mpirun` ([`prterun_child`]): note who sends SIGCONT
/// and SIGTERM, so that its ending of the job is known; rank 0 opens the
/// launcher's stdout and stderr now and, on its SIGTERM, says so in one
/// line there.
fn watch_prterun() -> std::io::Result<()> {
    let ppid = std::os::unix::process::parent_id() as i32;
    let comm = std::fs::read_to_string(format!("/proc/{ppid}/comm")).ok();
    let namespace = std::env::var("PMIX_NAMESPACE").ok();
    if !prterun_child(namespace.as_deref(), comm.as_deref()) {
        return Ok(());
    }
    PRTERUN.store(ppid, Ordering::SeqCst);
    if crate::mpi_check::launcher_rank() == 0 {
        let fd = crate::console::reach_launcher(ppid).unwrap_or(2);
        SAY_FD.store(fd, Ordering::SeqCst);
    }
    // SAFETY: both actions only load and store atomics and write(2) a
    // static buffer, all async-signal-safe. `si_pid` is the sender's for a
    // signal sent by kill(2) (as prterun sends both); for one the kernel
    // sends it is 0 or another number, which ends the job here only if it
    // is prterun's pid for both signals.
    unsafe {
        signal_hook_registry::register_sigaction(SIGCONT, |info| {
            CONT_FROM.store(info.si_pid(), Ordering::SeqCst);
        })?;
        signal_hook_registry::register_sigaction(SIGTERM, |info| {
            let (prterun, cont) = (
                PRTERUN.load(Ordering::SeqCst),
                CONT_FROM.load(Ordering::SeqCst),
            );
            let fd = SAY_FD.load(Ordering::SeqCst);
            if prterun_kill_sequence(prterun, cont, info.si_pid())
                && crate::console::launcher_stopped_reading()
                && fd >= 0
            {
                let line = PRTERUN_ENDING_LINE;
                libc::write(fd, line.as_ptr().cast(), line.len());
            }
        })?;
    }
    Ok(())
}

/// A stop signal that arrived before [`StopSignal::install`], 0 if none.
static EARLY: AtomicUsize = AtomicUsize::new(0);

extern "C" fn record_early(sig: libc::c_int) {
    EARLY.store(sig as usize, Ordering::SeqCst);
}

/// The earliest a process can hear a stop: the binary's loader calls this
/// before `main` and before the shared libraries' initialisers (a
/// `.preinit_array` entry in `main.rs`), once they are mapped and
/// relocated, so that SIGTERM, SIGUSR1 (and SIGINT, SIGHUP where they are
/// not ignored) during start-up, MPI_Init included, are recorded and
/// honoured at the first check instead of killing the process. Left: the
/// time from exec to here, the loader mapping and relocating about 45
/// libraries (most of them Debian's HDF5's), measured in
/// docs/user-guide.md; nothing in a process can shorten it (exec resets a
/// signal's handler). SIGTERM and SIGUSR1 are unblocked: a
/// launcher that left them blocked would otherwise keep a job's stop from
/// it for good (and one that arrived meanwhile, pending, is heard now).
/// Also ignores SIGXFSZ, so that a file larger than `ulimit -f` is a failed
/// write, said in one line, not a kill.
pub extern "C" fn record_early_stops() {
    // SAFETY: all-zero is a valid sigaction; the handler only stores an
    // atomic (async-signal-safe); sigaction reads the new action.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = record_early as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut act.sa_mask);
        // SIGINT and SIGHUP stay ignored where they are (as `install`
        // leaves them); the stop signals are always heard.
        for sig in [SIGTERM, SIGUSR1, SIGINT, SIGHUP] {
            if matches!(sig, SIGTERM | SIGUSR1) || !ignored(sig) {
                libc::sigaction(sig, &act, std::ptr::null_mut());
            }
        }
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut stops: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut stops);
        libc::sigaddset(&mut stops, SIGTERM);
        libc::sigaddset(&mut stops, SIGUSR1);
        libc::sigprocmask(libc::SIG_UNBLOCK, &stops, std::ptr::null_mut());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_mpi_5s_mpirun_as_parent_is_prterun() {
        let ns = Some("prterun-vm-17921@1");
        assert!(prterun_child(ns, Some("prterun\n")));
        assert!(prterun_child(
            Some("prterun-node-1.example-42@3"),
            Some("prterun")
        ));
        // A remote node's daemon, a persistent DVM, Open MPI 4.1, srun.
        assert!(!prterun_child(ns, Some("prted\n")));
        assert!(!prterun_child(Some("prte-vm-17921@1"), Some("prte\n")));
        assert!(!prterun_child(Some("557056001"), Some("mpirun\n")));
        assert!(!prterun_child(
            Some("slurm.pmix.42.0"),
            Some("slurmstepd\n")
        ));
        // No launcher, or the parent gone.
        assert!(!prterun_child(None, Some("bash\n")));
        assert!(!prterun_child(ns, None));
    }

    #[test]
    fn only_prteruns_own_sigterm_after_its_sigcont_ends_the_job() {
        assert!(prterun_kill_sequence(100, 100, 100));
        // --forward-signals: SIGTERM from prterun without SIGCONT.
        assert!(!prterun_kill_sequence(100, 0, 100));
        // A user's kill of the rank, after a job-control SIGCONT or not.
        assert!(!prterun_kill_sequence(100, 100, 7));
        assert!(!prterun_kill_sequence(100, 7, 7));
        // Not under prterun: a parent of pid 0 never matches a zeroed si_pid.
        assert!(!prterun_kill_sequence(0, 0, 0));
    }

    #[test]
    fn the_early_line_is_one_line_without_the_stop_lines_words() {
        let line = std::str::from_utf8(PRTERUN_ENDING_LINE).unwrap();
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "{line}"
        );
        assert!(
            line.starts_with("parsim: ") && !line.contains("stopped by"),
            "{line}"
        );
        assert!(
            line.contains("0.25 s") && line.contains("SIGUSR1"),
            "{line}"
        );
    }
}
