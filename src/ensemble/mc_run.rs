//! What `parsim pi` and `parsim markov` share: Monte Carlo estimators
//! whose work units (pi chunks, Markov chains) are dealt out to ranks in
//! contiguous ranges and run in rounds on the one driver; each unit draws
//! from `stream(seed, unit)`; the integer counts of every unit are
//! gathered to rank 0 in unit order, so totals and statistics are
//! identical on any number of ranks. The workloads: [`super::pi_run`],
//! [`super::markov_run`].

use std::ops::Range;
use std::path::Path;

use anyhow::Context;
use mpi::traits::*;
use serde::Serialize;

use super::gather_ordered;
use crate::driver::{After, Clock, Position, Printed, Workload};
use crate::error::{Failure, Outcome};
use crate::h5::{ResultFile, RunMeta};
use crate::par::{self, Spread};
use crate::progress::Meter;

/// Units are counted in `i32` by MPI's gather: keep well inside it.
pub const MAX_UNITS: u64 = 1 << 30;

/// Collective: rank 0 writes with `layout`, stores the report on `/`, then
/// closes and renames; all ranks agree. `report(gather_io, output)` builds
/// the report (collectively) from this rank's gather/I-O time since `t1`:
/// the stored one is built before the file is written (with the planned
/// `output`), the returned one after (with the path actually written).
pub fn finish<C: Communicator, R: Serialize>(
    world: &C,
    file: Option<ResultFile>,
    t1: f64,
    output: Option<&Path>,
    report: impl Fn(f64, Option<String>) -> R,
    layout: impl FnOnce(&hdf5::File) -> hdf5::Result<()>,
) -> Outcome<R> {
    let stored = report(mpi::time() - t1, output.map(|p| p.display().to_string()));
    let written = match file {
        Some(f) => layout(f.root())
            .context("cannot write results")
            .and_then(|_| f.write_report(&serde_json::to_string(&stored).unwrap_or_default()))
            .map_err(Failure::runtime)
            .and_then(|_| f.finish())
            .map(|p| Some(p.display().to_string())),
        None => Ok(None),
    };
    par::agree(world, written.as_ref().map(|_| ()).map_err(Clone::clone))?;
    Ok(report(mpi::time() - t1, written?))
}

#[derive(Debug, Clone, Serialize)]
pub struct McPhases {
    pub compute: Spread,
    pub gather_io: Spread,
}

/// Samples, chains... per round of work (about a tenth of a second): a
/// stop signal is honoured within one round.
pub const ROUND_WORK: u64 = 1 << 25;

/// Collective: rank 0 reserves `output` and creates the result file.
pub fn create_result<C: Communicator>(
    comm: &C,
    output: Option<&Path>,
    force: bool,
    meta: &RunMeta,
) -> Outcome<Option<ResultFile>> {
    par::create_on_root(
        comm,
        || Ok(()),
        output,
        force,
        |out| ResultFile::create(out, meta),
    )
}

pub fn mc_phases(compute: &Spread, gather_io: &Spread) -> String {
    crate::report::phase_table(&[("compute", compute), ("gather/I-O", gather_io)])
}

pub fn output_line(output: &Option<String>) -> String {
    output
        .as_ref()
        .map_or(String::new(), |o| format!("Output           : {o}\n"))
}

/// What a Monte Carlo estimator brings to [`McRun`]: its units of work,
/// how to count a range of them, and its ending (estimate, file, report).
pub trait Estimator {
    type Report: Serialize;
    /// What a unit leaves: integer counts (pi, markov) or partial sums
    /// (integrate), gathered to rank 0 in unit order.
    type Count: mpi::datatype::Equivalence + Default + Clone;
    const NAME: &'static str;
    /// Counts each unit leaves (pi: its hits; markov: days in each state).
    const PER_UNIT: usize;
    /// What a unit is called in progress lines ("chunk", "chain").
    const UNIT: &'static str;
    /// The rate's name: millions of the items a unit counts, per second.
    const RATE: &'static str;
    /// Units in the run.
    fn units(&self) -> u64;
    /// Items (samples, chain-days) a unit counts: the work it stands for.
    fn work_per_unit(&self) -> u64;
    /// Append the counts of `units` to `out`, in unit order.
    fn count(&self, units: Range<usize>, out: &mut Vec<Self::Count>);
    /// Collective: the estimate, the file (rank 0) and the report.
    fn conclude<C: Communicator>(
        &self,
        comm: &C,
        end: Gathered<Self::Count>,
    ) -> Outcome<Printed<Self::Report>>;
}

/// What an estimator concludes from: every unit's counts (`all`, on rank
/// 0; empty elsewhere), rank 0's result file, and what the run measured:
/// its wall time, this rank's compute time, when the gather began.
pub struct Gathered<T> {
    pub all: Vec<T>,
    pub file: Option<ResultFile>,
    pub wall: f64,
    pub compute: f64,
    pub gather_start: f64,
}

/// A Monte Carlo estimator's run on the driver: units dealt out in rounds,
/// counted, gathered in unit order.
pub struct McRun<'a, C: Communicator, E: Estimator> {
    comm: &'a C,
    est: E,
    file: Option<ResultFile>,
    rounds: super::Rounds,
    /// This rank's finished units' counts, `E::PER_UNIT` each, in order.
    counts: Vec<E::Count>,
    t_compute: f64,
}

impl<'a, C: Communicator, E: Estimator> McRun<'a, C, E> {
    /// Collective: reserve `output` (rank 0), deal out the units.
    pub fn new(
        comm: &'a C,
        est: E,
        (output, force): (Option<&Path>, bool),
        meta: &RunMeta,
    ) -> Outcome<Self> {
        // Every unit's counts, gathered on rank 0 (twice: buffer and copy).
        let item = std::mem::size_of::<E::Count>() as u128;
        let need = 2 * est.units() as u128 * E::PER_UNIT as u128 * item;
        let need = if comm.rank() == 0 {
            need
        } else {
            need / comm.size() as u128
        };
        crate::memory::check(comm, need, "every unit's counts")?;
        let file = create_result(comm, output, force, meta)?;
        // Rounds of about ROUND_WORK items: a stop is honoured within one.
        let per_round = (ROUND_WORK / est.work_per_unit()).max(1) as usize;
        let rounds = super::Rounds::new(comm, est.units() as usize, per_round);
        Ok(Self {
            comm,
            counts: Vec::with_capacity(E::PER_UNIT * rounds.range.len()),
            est,
            file,
            rounds,
            t_compute: 0.0,
        })
    }
}

impl<C: Communicator, E: Estimator> Workload for McRun<'_, C, E> {
    type Comm = C;
    type Report = E::Report;
    const NAME: &'static str = E::NAME;
    const JUDGED: &'static str = "the estimate";

    fn comm(&self) -> &C {
        self.comm
    }

    fn meter(&self) -> Meter {
        Meter {
            label: E::NAME,
            total: self.est.units(),
            unit: E::UNIT,
            work_per_unit: self.est.work_per_unit() as f64,
            rate_name: E::RATE,
        }
    }

    fn position(&self) -> Position {
        self.rounds.schedule.position()
    }

    fn rounds_left(&self) -> bool {
        self.rounds.schedule.left()
    }

    fn advance(&mut self) -> Outcome<After> {
        let a = mpi::time();
        let units = self.rounds.next_units();
        self.est.count(units, &mut self.counts);
        self.t_compute += mpi::time() - a;
        Ok(After::Check { fault: false })
    }

    fn fault(&self) -> Failure {
        Failure::runtime(anyhow::anyhow!("{}: a rank reported a fault", E::NAME))
    }

    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<E::Report>> {
        let gather_start = mpi::time();
        let end = Gathered {
            all: gather_ordered(self.comm, &self.counts, &self.rounds.table, E::PER_UNIT),
            file: self.file.take(),
            wall: clock.wall,
            compute: self.t_compute,
            gather_start,
        };
        self.est.conclude(self.comm, end)
    }
}
