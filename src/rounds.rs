//! Work units dealt out to ranks and worked through in rounds: members of
//! an ensemble, Monte Carlo or quadrature chunks, each rank a contiguous
//! range (scattered by rank 0), results gathered back in unit order, so
//! that every total is the same on any number of ranks. Rounds are the
//! same in number on every rank, so the ranks can agree on stop signals
//! after each (`crate::driver`).

use std::ops::Range;

use mpi::traits::*;

use crate::partition::split_range;

/// Collective: rank 0 cuts `n` items into one contiguous range per rank and
/// scatters them; each rank gets its own. Returns (this rank's range, the
/// whole table on rank 0 and an empty one elsewhere).
pub fn scatter_ranges<C: Communicator>(comm: &C, n: usize) -> (Range<usize>, Vec<Range<usize>>) {
    let p = comm.size() as usize;
    let root = comm.process_at_rank(0);
    let mut mine = [0u64; 2];
    let mut table = Vec::new();
    if comm.rank() == 0 {
        table = (0..p).map(|r| split_range(n, p, r)).collect();
        let flat: Vec<u64> = table
            .iter()
            .flat_map(|r| [r.start as u64, r.end as u64])
            .collect();
        root.scatter_into_root(&flat[..], &mut mine[..]);
    } else {
        root.scatter_into(&mut mine[..]);
    }
    (mine[0] as usize..mine[1] as usize, table)
}

/// Collective: concatenate every rank's `local` values at rank 0 in rank
/// order (so in item order, ranges being contiguous); empty elsewhere.
/// `table` is rank 0's range table from [`scatter_ranges`], scaled by
/// `per_item` values per item.
pub fn gather_ordered<C: Communicator, T>(
    comm: &C,
    local: &[T],
    table: &[Range<usize>],
    per_item: usize,
) -> Vec<T>
where
    T: mpi::datatype::Equivalence + Default + Clone,
{
    let root = comm.process_at_rank(0);
    if comm.rank() == 0 {
        let counts: Vec<i32> = table.iter().map(|r| (r.len() * per_item) as i32).collect();
        let displs: Vec<i32> = table.iter().map(|r| (r.start * per_item) as i32).collect();
        let total = table.last().map_or(0, |r| r.end * per_item);
        let mut all = vec![T::default(); total];
        {
            let mut partition =
                mpi::datatype::PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
            root.gather_varcount_into_root(local, &mut partition);
        }
        all
    } else {
        root.gather_varcount_into(local);
        Vec::new()
    }
}

/// Rounds of at most `per_round` of this rank's `local` units: the same
/// number of rounds on every rank (a rank with fewer units does empty
/// ones), so the ranks can agree on stop signals after each. Used by every
/// ensemble: over a contiguous range ([`Rounds`]) or a list of unfinished
/// members (ou).
#[derive(Debug)]
pub struct Schedule {
    local: usize,
    per_round: usize,
    total_units: u64,
    rounds: u64,
    done: u64,
}

impl Schedule {
    /// Collective: agree on the number of rounds; `total_units` is the
    /// count over all ranks (for progress).
    pub fn new<C: Communicator>(
        comm: &C,
        local: usize,
        per_round: usize,
        total_units: u64,
    ) -> Self {
        let per_round = per_round.max(1);
        let mine = local.div_ceil(per_round) as u64;
        let mut rounds = 0u64;
        comm.all_reduce_into(&mine, &mut rounds, mpi::collective::SystemOperation::max());
        Self {
            local,
            per_round,
            total_units,
            rounds,
            done: 0,
        }
    }

    pub fn left(&self) -> bool {
        self.done < self.rounds
    }

    /// Rounds done so far (the same on every rank).
    pub fn rounds_done(&self) -> u64 {
        self.done
    }

    /// The positions in `0..local` of the next round (possibly none).
    pub fn next_round(&mut self) -> Range<usize> {
        let start = (self.done as usize * self.per_round).min(self.local);
        self.done += 1;
        start..(start + self.per_round).min(self.local)
    }

    /// Units done over all ranks, as the ranks advance alike: exact at the
    /// start and the end, proportional to the rounds in between.
    pub fn position(&self) -> crate::driver::Position {
        let done = match self.rounds {
            0 => self.total_units,
            r => (self.total_units as u128 * self.done as u128 / r as u128) as u64,
        };
        crate::driver::Position {
            done,
            total: self.total_units,
        }
    }
}

/// A rank's share of the work units (its contiguous range, scattered by
/// rank 0), worked through in a [`Schedule`].
#[derive(Debug)]
pub struct Rounds {
    /// This rank's units.
    pub range: Range<usize>,
    /// Every rank's range (rank 0 only; empty elsewhere).
    pub table: Vec<Range<usize>>,
    pub schedule: Schedule,
}

impl Rounds {
    /// Collective: deal out `units` and count the rounds.
    pub fn new<C: Communicator>(comm: &C, units: usize, per_round: usize) -> Self {
        let (range, table) = scatter_ranges(comm, units);
        let schedule = Schedule::new(comm, range.len(), per_round, units as u64);
        Self {
            range,
            table,
            schedule,
        }
    }

    /// The next round's units of this rank (possibly none).
    pub fn next_units(&mut self) -> Range<usize> {
        let r = self.schedule.next_round();
        self.range.start + r.start..self.range.start + r.end
    }
}
