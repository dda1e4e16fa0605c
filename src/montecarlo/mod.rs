//! The engine `parsim pi`, `parsim markov` and `parsim integrate` share:
//! estimators whose work units (pi chunks, Markov chains, quadrature
//! chunks) are dealt out to ranks in contiguous ranges and run in rounds on
//! the one driver; each unit draws from `stream(seed, unit)` (or needs no
//! randomness); the counts of every unit are gathered to rank 0 in unit
//! order, so totals and statistics are identical on any number of ranks.

use std::ops::Range;
use std::path::Path;

use mpi::traits::*;
use serde::Serialize;

use crate::driver::{After, Clock, Position, Printed, Workload};
use crate::error::{Failure, Outcome};
use crate::h5::{ResultFile, RunMeta};
use crate::par::Spread;
use crate::progress::Meter;
use crate::rounds::{gather_ordered, Rounds};

/// Units are counted in `i32` by MPI's gather: keep well inside it.
pub const MAX_UNITS: u64 = 1 << 30;

/// `total` items cut into chunks of `size` (the last may be shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    pub total: u64,
    pub size: u64,
}

impl Chunking {
    pub fn count(&self) -> u64 {
        self.total.div_ceil(self.size)
    }

    /// Items in chunk `c`.
    pub fn len(&self, c: u64) -> u64 {
        self.size.min(self.total - c * self.size)
    }
}

/// Collective: run estimator `est` on the driver, with its result file
/// and report as `out` asks (the `run` of pi, markov and integrate).
pub fn run<C: Communicator, E: Estimator>(
    world: &C,
    est: E,
    out: &crate::driver::Output,
    meta: &RunMeta,
    stop: &crate::stop::StopSignal,
) -> crate::error::Outcome {
    let run = McRun::new(world, est, (out.path.as_deref(), out.force), meta)?;
    crate::driver::run(run, stop, out)
}

/// An estimator's work units, as the plan and the dry run see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units {
    /// Units in the run.
    pub count: u64,
    /// What a unit is called ("chunk", "chain").
    pub name: &'static str,
    /// Items (samples, days, points) a unit stands for.
    pub work: u64,
    /// Counts a unit leaves, and the bytes of one.
    pub counts_per_unit: usize,
    pub count_bytes: usize,
}

impl Units {
    /// Bytes rank `rank` of `ranks` needs for the units' counts: rank 0
    /// gathers every unit's (twice: buffer and copy), the others hold
    /// their share.
    pub fn need(&self, rank: usize, ranks: usize) -> u128 {
        let all = 2 * self.count as u128 * self.counts_per_unit as u128 * self.count_bytes as u128;
        if rank == 0 {
            all
        } else {
            all / ranks as u128
        }
    }

    /// Units per round: about [`ROUND_WORK`] items, so that a stop signal
    /// is honoured within one round.
    pub fn per_round(&self) -> u64 {
        (ROUND_WORK / self.work.max(1)).max(1)
    }
}

/// What `--dry-run` shows of a Monte Carlo plan on `ranks` ranks: the
/// units, each rank's share, the rounds, rank 0's memory.
pub fn resolved(u: &Units, ranks: usize) -> String {
    let ranks = ranks.max(1);
    let (least, most) = (u.count / ranks as u64, u.count.div_ceil(ranks as u64));
    let share = if least == most {
        format!("{most}")
    } else {
        format!("{least} to {most}")
    };
    format!(
        "# resolved on {ranks} ranks: {count} {name}s of {work} (the last may be shorter),\n\
         # {share} {name}s a rank in rounds of {round} (a stop is honoured within one round),\n\
         # rank 0 gathers every {name}'s counts: about {need} of memory\n\
         # checked when the run starts: free memory, the output file\n",
        count = u.count,
        name = u.name,
        work = u.work,
        round = u.per_round(),
        need = crate::memory::shown(u.need(0, ranks)),
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct McPhases {
    pub compute: Spread,
    pub gather_io: Spread,
}

/// Samples, chains... per round of work (about a tenth of a second): a
/// stop signal is honoured within one round.
pub const ROUND_WORK: u64 = 1 << 25;

pub fn mc_phases(compute: &Spread, gather_io: &Spread) -> String {
    crate::report::phase_table(&[("compute", compute), ("gather/I-O", gather_io)])
}

/// What a Monte Carlo estimator brings to [`McRun`]: its units of work,
/// how to count a range of them, and its ending (estimate, file, report).
pub trait Estimator {
    type Report: Serialize;
    /// What a unit leaves: integer counts (pi, markov) or partial sums
    /// (integrate), gathered to rank 0 in unit order.
    type Count: mpi::datatype::Equivalence + Default + Clone;
    const NAME: &'static str;
    /// Counts each unit leaves (pi: its hits; markov: days in each of
    /// the chain's states).
    fn per_unit(&self) -> usize;
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
    rounds: Rounds,
    /// This rank's finished units' counts, `per_unit()` each, in order.
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
        let units = Units {
            count: est.units(),
            name: E::UNIT,
            work: est.work_per_unit(),
            counts_per_unit: est.per_unit(),
            count_bytes: std::mem::size_of::<E::Count>(),
        };
        let need = units.need(comm.rank() as usize, comm.size() as usize);
        crate::par::check_memory(comm, need, "every unit's counts")?;
        let file = crate::result::create_result(comm, output, force, meta)?;
        // Rounds of about ROUND_WORK items: a stop is honoured within one.
        let per_round = units.per_round() as usize;
        let rounds = Rounds::new(comm, est.units() as usize, per_round);
        Ok(Self {
            comm,
            counts: Vec::with_capacity(est.per_unit() * rounds.range.len()),
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
            all: gather_ordered(
                self.comm,
                &self.counts,
                &self.rounds.table,
                self.est.per_unit(),
            ),
            file: self.file.take(),
            wall: clock.wall,
            compute: self.t_compute,
            gather_start,
        };
        self.est.conclude(self.comm, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking_covers_total() {
        let c = Chunking { total: 10, size: 4 };
        assert_eq!(c.count(), 3);
        assert_eq!((0..3).map(|k| c.len(k)).collect::<Vec<_>>(), vec![4, 4, 2]);
    }
}
