//! The one driver: the SPMD skeleton every workload runs on.
//!
//! A workload ([`Workload`]) says only what is its own: its plan (built
//! from its validated job before [`run`] is called, with rank 0's
//! reservation of its result file), one round of its local work, its
//! checkpoint, and its ending (gather, validate, write, report). This
//! module says, once for all of them, how a run goes:
//!
//! ```text
//! reserve the result file on rank 0 (the plan, with a restart's
//! metadata, was made before: crate::workloads)           (the workload)
//! loop {
//!     advance one round                                   (the workload)
//!     progress: a bar or log lines on rank 0
//!     at a check: all ranks agree on stop signals and faults (one all-reduce)
//!     after the round (e.g. a snapshot); a checkpoint when due or stopping
//! }
//! finish: validate, write, report (stored, printed by rank 0), exit code
//! ```
//!
//! The ranks always stop together, at the same round, so no rank is ever
//! left waiting in a collective the others skipped.

use std::path::PathBuf;

use mpi::collective::SystemOperation;
use mpi::traits::*;
use serde::Serialize;

use crate::error::{ExitCode, Failure, Outcome};
use crate::output::PendingOutput;
use crate::progress::{Meter, Progress};
use crate::stop::{signal_name, StopSignal};
use crate::trace::{chrome_json, Trace, Track};

/// What every run does with its result, as asked: the file (`None` with
/// `--no-output`), whether it may replace one (`--force`), the report as
/// JSON on stdout, progress or not (`--quiet`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Output {
    pub path: Option<PathBuf>,
    pub force: bool,
    pub json: bool,
    pub quiet: bool,
    /// `--trace FILE.json`: the per-rank timeline (see [`crate::trace`]).
    pub trace: Option<PathBuf>,
}

/// Checkpointing as asked (heat, ou): where, how often (in the workload's
/// units of work: steps, members' work per rank; 0: only when stopped), and the
/// file the run resumes from. `crate::options::CheckpointArgs` made sure
/// `path` is not the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpointing {
    pub path: PathBuf,
    pub every: u64,
    pub restart: Option<PathBuf>,
}

impl Checkpointing {
    /// Rank 0, before a run: claim the checkpoint for the run, if it may
    /// be written (see [`crate::output::reserve_checkpoint`]); the run
    /// holds the claim to its end.
    pub fn reserve(&self, force: bool) -> Outcome<crate::output::CheckpointClaim> {
        crate::output::reserve_checkpoint(&self.path, self.restart.as_deref(), force)
    }

    /// The path as messages and reports show it.
    pub fn shown(&self) -> String {
        self.path.display().to_string()
    }
}

/// How far a run has come: `done` of `total` units (steps, chunks...), the
/// same on every rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub done: u64,
    pub total: u64,
}

/// What a round asks of the driver afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Go on without communicating (heat between its checks).
    Continue,
    /// Agree now on stop signals and faults; `fault` is this rank's view.
    Check { fault: bool },
}

/// What the ranks agreed on at a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreed {
    Continue,
    /// A stop signal (this number) reached some rank.
    Stop(i32),
    /// Some rank saw its workload fault.
    Fault,
}

/// Time the driver spent on the workload's behalf, per rank, in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    /// From the first round to the last (slowest rank: ends on a barrier).
    pub wall: f64,
    /// In the stop/fault agreements.
    pub agree: f64,
    /// Writing checkpoints.
    pub checkpoint: f64,
}

/// A report as rank 0 prints it.
pub struct Printed<R> {
    pub text: String,
    pub report: R,
    /// The validation verdict (known on rank 0).
    pub passed: bool,
}

/// One workload on the driver. Every method is collective over
/// [`Workload::comm`] unless it says otherwise.
pub trait Workload {
    /// The communicator the workload computes on.
    type Comm: Communicator;
    /// The end-of-run report (stored in the result file, printed).
    type Report: Serialize;

    /// Short name, as in messages: "pi".
    const NAME: &'static str;
    /// What its validation judges, as in "pi: the estimate failed its
    /// validation".
    const JUDGED: &'static str = "the run";

    fn comm(&self) -> &Self::Comm;
    /// The progress meter (what is counted, its total, its rate).
    fn meter(&self) -> Meter;
    /// Where the run stands (the same on every rank).
    fn position(&self) -> Position;
    /// Whether a round is left to do (the same on every rank).
    fn rounds_left(&self) -> bool;
    /// One round of work.
    fn advance(&mut self) -> Outcome<After>;
    /// The failure every rank returns after the ranks agreed on a fault.
    fn fault(&self) -> Failure;
    /// After a round and its check (`stopping`: a stop was agreed); whether
    /// it did anything (the trace draws it only then).
    fn after_round(&mut self, _stopping: bool) -> Outcome<bool> {
        Ok(false)
    }
    /// What [`Workload::after_round`] does, as the trace names it.
    const AFTER_ROUND: &'static str = "after round";
    /// Seconds this rank spent so far in each of the workload's own
    /// phases of a round (heat: stencil, halo wait), for the trace; none
    /// by default (a round is then one "compute" span).
    fn trace_phases(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
    /// Whether a periodic checkpoint is due after this round.
    fn checkpoint_due(&self) -> bool {
        false
    }
    /// Write a checkpoint; its path. `None`: the workload keeps none.
    fn checkpoint(&mut self) -> Option<Outcome<String>> {
        None
    }
    /// How a stop by `signal` is told: where the run stood.
    fn stopped_at(&self, signal: &str) -> String {
        let Position { done, total } = self.position();
        let unit = self.meter().unit;
        format!(
            "{}: stopped by {signal} with {done} of {total} {unit}s done",
            Self::NAME
        )
    }
    /// The report of a stopped run, printed before it exits; `None` for
    /// none.
    fn report_stopped(&mut self, _clock: &Clock, _signal: &str) -> Option<Printed<Self::Report>> {
        None
    }
    /// After the last round: gather, validate, write the result file and
    /// build the report (rank 0's is printed).
    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<Self::Report>>;
}

/// Collective: run `w` from its first round to its report, shown as `out`
/// asks (progress or not, text or JSON, a trace or not).
pub fn run<W: Workload>(mut w: W, stop: &StopSignal, out: &Output) -> Outcome {
    let (rank, json) = (w.comm().rank(), out.json);
    let trace_file = reserve_trace(w.comm(), out)?;
    crate::par::share_live(w.comm());
    let mut progress = Progress::new(rank, out.quiet, w.meter());
    let from = w.position().done;
    let mut clock = Clock::default();
    let mut stopped = None;
    w.comm().barrier();
    let t0 = mpi::time();
    let mut trace = Trace::new(out.trace.is_some(), t0);
    while w.rounds_left() && stopped.is_none() {
        stopped = round(&mut w, stop, &mut clock, &mut trace)?;
        progress.update(w.position().done, from);
    }
    w.comm().barrier();
    clock.wall = mpi::time() - t0;
    progress.finish();
    let hosts = crate::par::gather_strings(w.comm(), &host_name()).unwrap_or_default();
    let emit = |p: &Printed<W::Report>| {
        if rank == 0 {
            crate::report::emit(&p.text, &p.report, &hosts, json);
        }
    };
    if let Some(Stopped { signal, failure }) = stopped {
        if let Some(p) = w.report_stopped(&clock, signal) {
            emit(&p);
        }
        write_trace(w.comm(), trace_file, &trace, W::NAME)?;
        return Err(failure);
    }
    let a = mpi::time();
    let printed = w.finish(&clock)?;
    trace.span("finish", a, mpi::time());
    emit(&printed);
    write_trace(w.comm(), trace_file, &trace, W::NAME)?;
    let failed = format!(
        "{}: {} failed its validation (see report)",
        W::NAME,
        W::JUDGED
    );
    crate::par::root_verdict(w.comm(), printed.passed, &failed)
}

/// This rank's host name, as MPI reports it.
fn host_name() -> String {
    mpi::environment::processor_name().unwrap_or_else(|_| "unknown".into())
}

/// Collective: rank 0 reserves the trace file (`--trace`), refused like
/// any output (an existing file without `--force`, anything but a regular
/// file; one another option names is refused before, with every written
/// path, in `crate::workloads`); every rank learns the verdict before the
/// first round.
fn reserve_trace<C: Communicator>(comm: &C, out: &Output) -> Outcome<Option<PendingOutput>> {
    let Some(path) = out.trace.as_deref() else {
        return Ok(None);
    };
    crate::par::create_on_root_as(comm, || Ok(()), (Some(path), out.force, "trace"), Ok)
}

/// Collective: gather every rank's track on rank 0, which writes the trace
/// file (temporary, then renamed into place); every rank learns whether it
/// was written. Nothing to do when no trace was asked for.
fn write_trace<C: Communicator>(
    comm: &C,
    file: Option<PendingOutput>,
    trace: &Trace,
    workload: &str,
) -> Outcome {
    if !trace.is_on() {
        return Ok(());
    }
    let texts = crate::par::gather_strings(comm, &trace.encode());
    let hosts = crate::par::gather_strings(comm, &host_name());
    let local = match (file, texts, hosts) {
        (Some(file), Some(texts), Some(hosts)) => {
            let tracks = texts
                .iter()
                .zip(hosts)
                .enumerate()
                .map(|(r, (text, host))| Track::decode(r, host, text))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Failure::runtime(anyhow::anyhow!("cannot read a rank's trace: {e}")));
            let meta = serde_json::json!({"workload": workload, "ranks": comm.size(),
                "parsim_version": env!("CARGO_PKG_VERSION")});
            tracks.and_then(|t| {
                std::fs::write(file.temp_path(), chrome_json(&t, meta)).map_err(|e| {
                    Failure::runtime(anyhow::anyhow!(
                        "cannot write the trace '{}': {e}",
                        file.dest().display()
                    ))
                })?;
                file.commit().map(|_| ())
            })
        }
        _ => Ok(()),
    };
    crate::par::agree(comm, local)
}

/// A stop the ranks agreed on: the signal, and the failure every rank
/// returns (exit 75, with the checkpoint to resume from).
struct Stopped {
    signal: &'static str,
    failure: Failure,
}

/// Collective: one round: advance, agree at a check, what follows the
/// round, a checkpoint when due or stopping; each traced when `trace` is on.
fn round<W: Workload>(
    w: &mut W,
    stop: &StopSignal,
    clock: &mut Clock,
    trace: &mut Trace,
) -> Outcome<Option<Stopped>> {
    let mut signal = None;
    let before = if trace.is_on() {
        w.trace_phases()
    } else {
        Vec::new()
    };
    let a = mpi::time();
    let after = w.advance()?;
    let b = mpi::time();
    if trace.is_on() {
        let phases: Vec<_> = w
            .trace_phases()
            .iter()
            .zip(&before)
            .map(|(&(n, now), &(_, then))| (n, now - then))
            .collect();
        trace.round(a, b, &phases);
    }
    if let After::Check { fault } = after {
        let agreed = agree_round(w.comm(), stop, fault);
        let c = mpi::time();
        clock.agree += c - b;
        trace.span("check (stop, faults)", b, c);
        match agreed {
            Agreed::Continue => {}
            // A stop that arrives with the work complete: finish normally
            // (a checkpoint of a finished run would only be resumed to
            // finish it).
            Agreed::Stop(_) if !w.rounds_left() => {}
            Agreed::Fault => return Err(w.fault()),
            Agreed::Stop(sig) => signal = Some(signal_name(sig)),
        }
    }
    let c = mpi::time();
    let busy = w.after_round(signal.is_some())?;
    let d = mpi::time();
    if busy {
        trace.span(W::AFTER_ROUND, c, d);
    }
    if signal.is_none() && !w.checkpoint_due() {
        return Ok(None);
    }
    let written = match (w.checkpoint().transpose(), signal) {
        (Ok(written), _) => written,
        // A stop whose checkpoint failed says both: the run is over, and
        // nothing was kept to resume from (exit 1: not a stop to resume).
        (Err(f), Some(signal)) => {
            return Err(Failure::with_code(
                ExitCode::Runtime,
                format!(
                    "{}, but its checkpoint could not be written: {}",
                    w.stopped_at(signal),
                    f.message
                ),
            ))
        }
        (Err(f), None) => return Err(f),
    };
    let e = mpi::time();
    clock.checkpoint += e - d;
    trace.span("checkpoint", d, e);
    Ok(signal.map(|signal| Stopped {
        signal,
        failure: stop_failure(&w.stopped_at(signal), written.as_deref(), W::NAME),
    }))
}

/// Collective: the verdict of one check: faults win over stop signals.
pub fn agree_round<C: Communicator>(comm: &C, stop: &StopSignal, fault: bool) -> Agreed {
    let local = [stop.received(), i32::from(fault)];
    let mut global = [0i32; 2];
    comm.all_reduce_into(&local[..], &mut global[..], SystemOperation::max());
    match global {
        [_, f] if f != 0 => Agreed::Fault,
        [0, _] => Agreed::Continue,
        [sig, _] => Agreed::Stop(sig),
    }
}

/// The failure of a run stopped where `at` says, after writing the
/// checkpoint at `path` if the workload keeps one.
fn stop_failure(at: &str, path: Option<&str>, name: &str) -> Failure {
    let then = match path {
        Some(p) => format!("checkpoint '{p}' written: resume with --restart {p}"),
        None => format!("{name} keeps no checkpoint, nothing was written: run it again"),
    };
    Failure::with_code(ExitCode::Stopped, format!("{at}; {then}"))
}
