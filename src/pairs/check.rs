//! The end of the ring: every rank's neighbours and histogram reduced to
//! rank 0, and the checks that prove the run (pairs met once, counts,
//! the closest pair, sampled rows by brute force).

use mpi::collective::SystemOperation;
use mpi::traits::*;

use super::kernel::{d2, nearest_brute, Histogram, Nearest, Points};
use super::report::PairsCheck;

/// Rows whose nearest neighbour rank 0 recomputes by brute force.
const SAMPLE_ROWS: usize = 32;

/// Pairs among n points: N(N-1)/2.
pub(super) fn total_pairs(n: usize) -> u64 {
    n as u64 * (n as u64 - 1) / 2
}

/// What the ranks' meetings add up to, on rank 0 (empty elsewhere): every
/// point's nearest neighbour, the histogram counts, the closest pair read
/// off the neighbours once, and the pairs met (on every rank).
pub(super) struct Combined {
    pub(super) nearest: Nearest,
    pub(super) counts: Vec<u64>,
    pub(super) closest: Option<(u64, u64, f64)>,
    met: u64,
}

/// Collective: the neighbours and counts of every rank combined on rank 0.
pub(super) fn combine<C: Communicator>(
    comm: &C,
    mine: &Nearest,
    histogram: Option<&Histogram>,
    pairs: u64,
) -> Combined {
    let (nearest, counts) = reduce(comm, mine, histogram);
    let mut met = 0u64;
    comm.all_reduce_into(&pairs, &mut met, SystemOperation::sum());
    Combined {
        closest: nearest.closest(),
        nearest,
        counts,
        met,
    }
}

/// Collective: every rank's neighbours and counts combined on rank 0 (the
/// least squared distance, then the least index among the ranks that
/// found it: order-free, so the same on any P). Empty elsewhere.
fn reduce<C: Communicator>(
    comm: &C,
    mine: &Nearest,
    histogram: Option<&Histogram>,
) -> (Nearest, Vec<u64>) {
    let n = mine.d2.len();
    let mut d2 = vec![0.0; n];
    comm.all_reduce_into(&mine.d2[..], &mut d2[..], SystemOperation::min());
    let index: Vec<u64> = mine
        .index
        .iter()
        .zip(mine.d2.iter().zip(&d2))
        .map(|(&j, (a, b))| if a == b { j } else { u64::MAX })
        .collect();
    let root = comm.process_at_rank(0);
    let local = histogram.map_or(Vec::new(), |h| h.counts.clone());
    if comm.rank() == 0 {
        let mut all = vec![0u64; n];
        root.reduce_into_root(&index[..], &mut all[..], SystemOperation::min());
        let mut counts = vec![0u64; local.len()];
        root.reduce_into_root(&local[..], &mut counts[..], SystemOperation::sum());
        (Nearest { d2, index: all }, counts)
    } else {
        root.reduce_into(&index[..], SystemOperation::min());
        root.reduce_into(&local[..], SystemOperation::sum());
        (Nearest::new(0), Vec::new())
    }
}

/// Rows rank 0 checks by brute force: spread over the points.
pub(super) fn sample_rows(n: usize) -> Vec<usize> {
    let k = SAMPLE_ROWS.min(n);
    (0..k).map(|s| s * n / k).collect()
}

/// Rank 0's verdict on the pairs met, the neighbours, the closest pair and
/// the counts (the matrix rows are judged as they are written).
pub(super) fn judge(points: &Points, all: &Combined, histogram: bool) -> PairsCheck {
    let n = points.n as u64;
    let counts_ok = !histogram || all.counts.iter().sum::<u64>() == n * (n - 1) / 2;
    let closest_ok = all.closest.is_some_and(|(i, j, d)| {
        i < j && d.to_bits() == d2(points.row(i as usize), points.row(j as usize)).to_bits()
    });
    let rows = sample_rows(points.n);
    let nearest = &all.nearest;
    let samples_ok = rows.iter().all(|&i| {
        let (d, j) = nearest_brute(points, i);
        (d.to_bits(), j) == (nearest.d2[i].to_bits(), nearest.index[i])
    });
    PairsCheck {
        pairs_met: all.met,
        counts_ok,
        closest_ok,
        sampled_rows: rows.len(),
        samples_ok,
        matrix_rows_checked: 0,
        matrix_ok: true,
    }
}

impl PairsCheck {
    /// Every check passed, with `pairs` the pairs there are.
    pub(super) fn passed(&self, pairs: u64) -> bool {
        self.pairs_met == pairs
            && self.counts_ok
            && self.closest_ok
            && self.samples_ok
            && self.matrix_ok
    }
}
