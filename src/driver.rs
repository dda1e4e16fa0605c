//! The one driver: the SPMD skeleton every workload runs on.
//!
//! A workload says only what is its own (its plan, its local state, one
//! round of work, its result file, its validation and report); this module
//! says, once for all of them, how a run goes:
//!
//! 1. the workload's plan, from its validated job: the checks every rank
//!    makes alike, so every rank reaches the same verdict;
//! 2. rank 0 reserves the result file (nothing existing is replaced without
//!    `--force`), and every rank learns whether that worked before any work;
//! 3. the round loop: one round of local work, progress (a bar or log
//!    lines, rank 0), then one small all-reduce in which the ranks agree on
//!    stop signals and faults, so they always stop together, at the same
//!    round;
//! 4. the wall clock, the report (stored in the file and printed by rank 0)
//!    and the exit code every rank returns alike.
//!
//! To add a workload, implement [`Workload`] and call [`run`] from the CLI.

use mpi::collective::SystemOperation;
use mpi::traits::*;
use serde::Serialize;

use crate::error::{ExitCode, Failure, Outcome};
use crate::progress::{Meter, Progress};
use crate::stop::{signal_name, StopSignal};

/// How far a run has come, for progress and messages: `done` of `total`
/// units (steps, chunks, chains...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub done: u64,
    pub total: u64,
}

/// What the ranks agreed on after a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreed {
    /// Go on (or finish, when no round is left).
    Continue,
    /// A stop signal (this number) reached some rank.
    Stop(i32),
    /// Some rank saw its workload fault (e.g. a value out of range).
    Fault,
}

/// A finished (or stopped) run's report as rank 0 prints it.
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
    /// Whether a round is left to do.
    fn rounds_left(&self) -> bool;
    /// One round of this rank's work. Returns whether this rank saw a
    /// fault (the ranks agree on it right after).
    fn advance(&mut self) -> Outcome<bool>;
    /// The failure every rank returns after the ranks agreed on a fault.
    fn fault(&self) -> Failure;
    /// What stops at a signal; `None` when the run keeps no checkpoint.
    /// With one, the driver has the workload write it first.
    fn checkpoint(&mut self) -> Option<Outcome<String>> {
        None
    }
    /// After the last round: gather, validate, write the result file, and
    /// build the report (rank 0's is printed).
    fn finish(&mut self, wall: f64) -> Outcome<Printed<Self::Report>>;
}

/// Collective: run `w` from its first round to its report; `quiet` hides
/// progress, `json` prints the report as JSON on stdout.
pub fn run<W: Workload>(mut w: W, stop: &StopSignal, quiet: bool, json: bool) -> Outcome {
    let rank = w.comm().rank();
    let mut progress = Progress::new(rank, quiet, w.meter());
    let from = w.position().done;
    w.comm().barrier();
    let t0 = mpi::time();
    while w.rounds_left() {
        let fault = w.advance()?;
        progress.update(w.position().done, from);
        match agree_round(w.comm(), stop, fault) {
            Agreed::Continue => {}
            Agreed::Fault => return Err(w.fault()),
            Agreed::Stop(sig) => {
                progress.finish();
                return Err(stopped::<W>(&mut w, sig));
            }
        }
    }
    w.comm().barrier();
    let wall = mpi::time() - t0;
    progress.finish();
    let printed = w.finish(wall)?;
    if rank == 0 {
        crate::report::emit(&printed.text, &printed.report, json);
    }
    crate::par::root_verdict(
        w.comm(),
        printed.passed,
        &format!(
            "{}: {} failed its validation (see report)",
            W::NAME,
            W::JUDGED
        ),
    )
}

/// Collective: the verdict of one round: faults win over stop signals.
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

/// The failure of a run stopped by `sig`, after writing the checkpoint if
/// the workload keeps one.
fn stopped<W: Workload>(w: &mut W, sig: i32) -> Failure {
    let Position { done, total } = w.position();
    let unit = w.meter().unit;
    let at = format!(
        "{}: stopped by {} with {done} of {total} {unit}s done",
        W::NAME,
        signal_name(sig)
    );
    match w.checkpoint() {
        Some(Ok(path)) => Failure::with_code(
            ExitCode::Stopped,
            format!("{at}; checkpoint '{path}' written: resume with --restart {path}"),
        ),
        Some(Err(e)) => e,
        None => Failure::with_code(
            ExitCode::Stopped,
            format!(
                "{at}; {} keeps no checkpoint, nothing was written: run it again",
                W::NAME
            ),
        ),
    }
}
