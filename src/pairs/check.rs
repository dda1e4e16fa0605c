//! The end of the ring: every rank's neighbours and histogram reduced to
//! rank 0, and the checks that prove the run (pairs met once, counts,
//! the closest pair, sampled rows by brute force).

use mpi::collective::SystemOperation;
use mpi::traits::*;

use super::kernel::{d2_scaled, nearest_brute, Histogram, Nearest, Points};
use super::range::{agrees, robust_distance, Scale};
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
    /// With `--rmax`: pairs at R or beyond (the ring counts them; the
    /// cells leave them out, so rank 0 sets them to the pairs not binned).
    pub(super) beyond: u64,
    /// Pairs the cells counted in bulk (on every rank).
    pub(super) bulk: u64,
    met: u64,
}

/// Collective: the neighbours and counts of every rank combined on rank 0.
pub(super) fn combine<C: Communicator>(
    comm: &C,
    mine: &Nearest,
    histogram: Option<&Histogram>,
    (pairs, bulk): (u64, u64),
) -> Combined {
    let (nearest, mut counts) = reduce(comm, mine, histogram);
    let mut sums = [0u64; 2];
    comm.all_reduce_into(&[pairs, bulk][..], &mut sums[..], SystemOperation::sum());
    Combined {
        closest: nearest.closest(),
        nearest,
        // The last value reduced is the pairs beyond R.
        beyond: counts.pop().unwrap_or(0),
        counts,
        bulk: sums[1],
        met: sums[0],
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
    let local = histogram.map_or(Vec::new(), |h| [&h.counts[..], &[h.beyond]].concat());
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
/// the counts (the matrix rows are judged as they are written). `points`
/// unscaled, `all` as the ring met them, scaled by `scale`.
///
/// Each distance is checked twice: its bits against the kernel's sum
/// recomputed from the scaled points (the ring met the pair and no other
/// had that sum), and its value, unscaled, against [`robust_distance`],
/// which can neither underflow nor overflow, so a distance the sum got
/// wrong (squares below f64's range flushed to 0, say) fails here however
/// consistently the kernel and the brute force got it wrong.
pub(super) fn judge(points: &Points, scale: Scale, all: &Combined, histogram: bool) -> PairsCheck {
    let n = points.n as u64;
    let (unit, back) = (scale.unit(), scale.back());
    let binned = all.counts.iter().sum::<u64>() + all.beyond;
    let counts_ok = !histogram || binned == n * (n - 1) / 2;
    let row = |i: u64| points.row(i as usize);
    // The reported distance of (i, j) from its scaled square d: right?
    let right = |i: u64, j: u64, d: f64| {
        d.to_bits() == d2_scaled(row(i), row(j), unit).to_bits()
            && agrees(d.sqrt() * back, robust_distance(row(i), row(j)), points.dim)
    };
    let closest_ok = all.closest.is_some_and(|(i, j, d)| i < j && right(i, j, d));
    let rows = sample_rows(points.n);
    let nearest = &all.nearest;
    let samples_ok = rows.iter().all(|&i| {
        let (d, j) = nearest_brute(points, i, unit);
        // And no point nearer by the reference than the neighbour found.
        let least = (0..points.n)
            .filter(|&k| k != i)
            .map(|k| robust_distance(points.row(i), points.row(k)))
            .fold(f64::INFINITY, f64::min);
        (d.to_bits(), j) == (nearest.d2[i].to_bits(), nearest.index[i])
            && right(i as u64, j, d)
            && agrees(robust_distance(points.row(i), row(j)), least, points.dim)
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
    /// Every check passed, with `pairs` the pairs there are when every pair
    /// was to be met (the ring; the tree meets only those it cannot prune).
    pub(super) fn passed(&self, pairs: Option<u64>) -> bool {
        pairs.is_none_or(|p| self.pairs_met == p)
            && self.counts_ok
            && self.closest_ok
            && self.samples_ok
            && self.matrix_ok
    }
}

#[cfg(test)]
mod tests {
    use super::super::range::choose_scale;
    use super::*;

    /// What a ring meeting `points` at `scale` reports, by brute force.
    fn combined(points: &Points, scale: Scale) -> Combined {
        let mut nearest = Nearest::new(points.n);
        for i in 0..points.n {
            let (d, j) = nearest_brute(points, i, scale.unit());
            nearest.offer(i, d, j);
        }
        Combined {
            closest: nearest.closest(),
            nearest,
            counts: Vec::new(),
            beyond: 0,
            bulk: 0,
            met: total_pairs(points.n),
        }
    }

    #[test]
    fn distances_the_squares_got_wrong_fail_the_check() {
        let issue = Points {
            n: 3,
            dim: 1,
            xs: vec![0.0, 3e-170, 5e-170],
        };
        // Unscaled, the squares flush to 0: (0, 1) at 0, consistently so
        // with the kernel's own sum, but not with the reference.
        let unscaled = combined(&issue, Scale::ONE);
        assert_eq!(unscaled.closest, Some((0, 1, 0.0)));
        let c = judge(&issue, Scale::ONE, &unscaled, false);
        assert!(!c.closest_ok && !c.samples_ok);
        // Scaled as the run scales them: (1, 2), and the checks pass.
        let (scale, _) = choose_scale(&issue).unwrap();
        let all = combined(&issue, scale);
        let (i, j, d) = all.closest.unwrap();
        assert_eq!((i, j, d.sqrt() * scale.back()), (1, 2, 2e-170));
        let c = judge(&issue, scale, &all, false);
        assert!(c.passed(Some(3)), "{c:?}");
        // 1e-160 with five digits lost: caught too.
        let lost = Points {
            n: 2,
            dim: 1,
            xs: vec![0.0, 1e-160],
        };
        assert!(!judge(&lost, Scale::ONE, &combined(&lost, Scale::ONE), false).closest_ok);
    }
}
