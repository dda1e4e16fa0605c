//! `parsim ou` on the driver: an Ornstein-Uhlenbeck ensemble (optionally a
//! parameter sweep) spread over ranks.
//!
//! 1. Every rank builds the same plan from the validated job (the sweep's
//!    parameter table comes from the options or, with `--params`, from a
//!    file rank 0 read and broadcast); rank 0 reserves the output file.
//! 2. Rank 0 deals out contiguous member ranges; each rank cuts its range
//!    into segments of one parameter set from the plan it holds.
//! 3. Rounds of a fixed number of steps ([`super::members::Work`]), which
//!    may end part-way along a path: after each the ranks agree on stop
//!    signals and on values that left the range of exact statistics, and
//!    write a checkpoint when due or stopping ([`super::checkpoint`]); it
//!    keeps the members part-way, and a restart takes them up where they
//!    were and runs only what is left.
//! 4. The end: mean and variance at every recorded time reduced as exact
//!    fixed-point sums (bitwise identical for any P), per-member results
//!    gathered to rank 0 and written as they arrive ([`super::gather`],
//!    [`super::file`]), validated against theory ([`super::report`]).

use std::ops::Range;
use std::path::PathBuf;

use mpi::traits::*;

use super::checkpoint::{self as ou_checkpoint, OuCheckpointMeta, Target};
use super::file::OuFile;
use super::gather::{gather, statistics};
use super::members::{cadence, Members, Work};
use super::model::{OuPlan, OuRequest};
use super::report::{text, Figures, OuPhases, OuReport, SetReport};
use crate::driver::{self, After, Clock, Position, Printed, Workload};
use crate::error::{Failure, Outcome};
use crate::h5::RunMeta;
use crate::par::{self, Spread};
use crate::progress::Meter;
use crate::rounds::{scatter_ranges, Schedule};
use crate::stop::StopSignal;

/// Everything `parsim ou` was asked to do: its plan (made by
/// `super::options` with the inputs step's table and checkpoint; the
/// ensemble is complete and checked there).
#[derive(Debug, Clone)]
pub struct OuJob {
    /// The ensemble: as given, with the `--params` table's sets and the
    /// checkpoint's values for what was not given (`store_paths`
    /// included); checked ([`OuRequest::check`]).
    pub request: OuRequest,
    /// The result file and how the report is shown.
    pub out: crate::driver::Output,
    /// Checkpoints: every N steps (heat) or members' work per rank (ou), the
    /// file, the restart.
    pub checkpointing: crate::driver::Checkpointing,
    /// The parameter table (CSV) the request's sweep came from.
    pub params: Option<PathBuf>,
    /// The restart's checkpoint, checked to be the same ensemble.
    pub resume: Option<OuCheckpointMeta>,
}

/// Collective over `world`: run the job and print the report on rank 0.
pub fn run<C: Communicator>(world: &C, job: &OuJob, meta: &RunMeta, stop: &StopSignal) -> Outcome {
    let request = &job.request;
    crate::par::check_memory(
        world,
        request.memory_need(world.size() as u128),
        "members' summaries and records",
    )?;
    // The checked request's table of sets, built once the memory for it
    // is known to be there (a sweep's product can be large).
    let plan = OuPlan::new(request).map_err(Failure::usage)?;
    let resume = job.resume.clone();
    let ou = OuRun::new(world, job, (plan, request.store_paths), resume, meta)?;
    driver::run(ou, stop, &job.out)
}

/// An OU run in progress on this rank.
pub struct OuRun<'a, C: Communicator> {
    world: &'a C,
    job: &'a OuJob,
    meta: &'a RunMeta,
    plan: OuPlan,
    /// `--store paths` (the request's, or the checkpoint's on a restart).
    store_paths: bool,
    file: Option<OuFile>,
    /// This rank's members and every rank's (rank 0 only).
    range: Range<usize>,
    table: Vec<Range<usize>>,
    st: Members,
    /// This rank's unfinished members, advanced a round at a time.
    work: Work,
    /// Group-steps per round, and rounds per periodic checkpoint (0: none).
    round: u64,
    per_checkpoint: u64,
    /// Rounds: the same number on every rank.
    schedule: Schedule,
    t_compute: f64,
    /// Rank 0: the checkpoint path, held for the whole run.
    _claim: Option<crate::output::CheckpointClaim>,
}

impl<'a, C: Communicator> OuRun<'a, C> {
    /// Collective: reserve the output, deal out the members, restore the
    /// finished ones of a restart.
    pub fn new(
        world: &'a C,
        job: &'a OuJob,
        (plan, store_paths): (OuPlan, bool),
        resume: Option<OuCheckpointMeta>,
        meta: &'a RunMeta,
    ) -> Outcome<Self> {
        let mut claim = None;
        let file = par::create_on_root(
            world,
            || {
                claim = Some(job.checkpointing.reserve(job.out.force)?);
                Ok(())
            },
            job.out.path.as_deref(),
            job.out.force,
            |out| OuFile::create(out, &plan, store_paths, meta),
        )?;
        let (range, table) = scatter_ranges(world, plan.members() as usize);
        let mut st = Members::new(range.len(), &plan, store_paths);
        if let Some(m) = &resume {
            ou_checkpoint::restore(world, m, (&range, plan.samples()), store_paths, &mut st)?;
        }
        let work = Work::new(&plan, &range, &st, store_paths);
        let (round, per_checkpoint) = cadence(plan.steps, job.checkpointing.every);
        // Each round but the last does exactly `round` group-steps, so
        // this rank needs ceil(left / round) of them; the ranks agree on
        // the most.
        let mine = work.left(plan.steps).div_ceil(round as u128);
        let mine = usize::try_from(mine).unwrap_or(usize::MAX);
        let schedule = Schedule::new(world, mine, 1, plan.members());
        Ok(Self {
            world,
            job,
            meta,
            plan,
            store_paths,
            file,
            range,
            table,
            st,
            work,
            round,
            per_checkpoint,
            schedule,
            t_compute: 0.0,
            _claim: claim,
        })
    }
}

impl<C: Communicator> Workload for OuRun<'_, C> {
    type Comm = C;
    type Report = OuReport;
    const NAME: &'static str = "ou";
    const JUDGED: &'static str = "the ensemble";

    fn comm(&self) -> &C {
        self.world
    }

    fn meter(&self) -> Meter {
        Meter {
            label: "ou",
            total: self.plan.members(),
            unit: "member",
            work_per_unit: self.plan.steps as f64,
            rate_name: "Msteps/s",
        }
    }

    fn position(&self) -> Position {
        self.schedule.position()
    }

    fn rounds_left(&self) -> bool {
        self.schedule.left()
    }

    fn advance(&mut self) -> Outcome<After> {
        let a = mpi::time();
        self.schedule.next_round();
        let in_range = self.work.round(&self.plan, self.round, &mut self.st);
        self.t_compute += mpi::time() - a;
        Ok(After::Check { fault: !in_range })
    }

    fn fault(&self) -> Failure {
        Failure::runtime(anyhow::anyhow!(
            "a path left the range of exact statistics (|x| >= 2^70 times the set's scale)"
        ))
    }

    fn checkpoint_due(&self) -> bool {
        self.per_checkpoint > 0
            && self.rounds_left()
            && self.schedule.rounds_done() % self.per_checkpoint == 0
    }

    fn checkpoint(&mut self) -> Option<Outcome<String>> {
        let to = Target {
            path: &self.job.checkpointing.path,
            plan: &self.plan,
            store_paths: self.store_paths,
            meta: self.meta,
        };
        let written = ou_checkpoint::write(self.world, &to, &self.range, &self.table, &self.st);
        Some(written.map(|()| self.job.checkpointing.shown()))
    }

    /// Collective: the members finished and part-way over all ranks.
    fn stopped_at(&self, signal: &str) -> String {
        let finished = self.st.done.iter().filter(|&&d| d).count() as u64;
        let mine = [finished, self.st.partial.len() as u64];
        let mut all = [0u64; 2];
        self.world.all_reduce_into(
            &mine[..],
            &mut all[..],
            mpi::collective::SystemOperation::sum(),
        );
        let part = match all[1] {
            0 => String::new(),
            n => format!(", {n} part-way"),
        };
        format!(
            "ou: stopped by {signal} with {} of {} members finished{part}",
            all[0],
            self.plan.members()
        )
    }

    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<OuReport>> {
        let t1 = mpi::time();
        let total = par::reduce_exact_sums(self.world, &self.st.sums);
        let t_reduce = mpi::time() - t1;
        // Phases known now (collective), so the report stored in the file
        // can carry them; the gather/write phase is added after.
        let times = [self.t_compute, clock.checkpoint, t_reduce];
        let [compute, checkpoint, reduce] = par::spreads(self.world, times);
        let busy = par::sum(self.world, self.t_compute);
        let figures = |gather_io| Figures {
            ranks: self.world.size() as usize,
            wall: clock.wall,
            busy,
            phases: OuPhases {
                compute,
                checkpoint,
                reduce,
                gather_io,
            },
        };
        let t2 = mpi::time();
        let (plan, version) = (self.plan.clone(), self.meta.version);
        let output = self.job.out.path.as_ref().map(|p| p.display().to_string());
        let (sets, written) = self.gather_and_write(&total, |sets, so_far| {
            let spread = Spread::uniform(so_far);
            OuReport::new(&plan, version, figures(spread), sets, output.clone())
        });
        let t_io = mpi::time() - t2;
        let io_ok = par::agree(self.world, written.as_ref().map(drop).map_err(Clone::clone));
        let [gather_io] = par::spreads(self.world, [t_io]);
        io_ok?;
        let written = written.ok().flatten();
        let report = OuReport::new(&plan, version, figures(gather_io), sets, written);
        Ok(Printed {
            text: text(&report),
            passed: report.passed,
            report,
        })
    }
}

impl<C: Communicator> OuRun<'_, C> {
    /// Collective: gather every member's results to rank 0, which writes
    /// them as they arrive, validates every set and finishes the file with
    /// the report `stored(sets, seconds so far)`; rank 0 gets the sets and
    /// the path written, the others nothing.
    fn gather_and_write(
        &mut self,
        total: &[i64],
        stored: impl Fn(Vec<SetReport>, f64) -> OuReport,
    ) -> (Vec<SetReport>, Outcome<Option<String>>) {
        let t0 = mpi::time();
        let store = self.store_paths;
        let file = self.file.as_ref();
        let gathered = gather(self.world, &self.plan, &self.table, &self.st, store, file);
        let Some(sink) = gathered else {
            return (Vec::new(), Ok(None));
        };
        let sets = sink.validate(&self.plan);
        let json = crate::report::stored_json(&stored(sets.clone(), mpi::time() - t0));
        let stats = statistics(&self.plan, total);
        let error = sink.error;
        let written = match (self.file.take(), error) {
            (Some(f), None) => f
                .finish(&stats, &sets, &json)
                .map(|p| Some(p.display().to_string())),
            (_, Some(e)) => Err(e),
            (None, None) => Ok(None),
        };
        (sets, written)
    }
}
