//! Monte Carlo estimators, the pure part: pi by hit-or-miss and the
//! 3-state Markov chain (bull / bear / recession). No MPI here.
//!
//! Work is cut into units with their own random stream (pi: fixed-size
//! chunks of samples, by chunk index; Markov: whole chains), so the integer
//! counts they produce, and therefore the totals, are the same on any
//! number of ranks.

use rand::Rng;

use crate::rng::{Lanes, Stream};

/// Default samples per pi chunk: large enough to amortise stream set-up,
/// small enough to balance across ranks.
pub const DEFAULT_PI_CHUNK: u64 = 1 << 20;

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

/// Hits inside the quarter disc among `n` points drawn from `rng`.
///
/// One 64-bit draw gives both coordinates as 32-bit integers `x, y`; the
/// point (x, y) / 2^32 is inside when `x^2 + y^2 < 2^64`, which is exactly
/// "the sum does not overflow u64". Pure integer work, no division, no
/// float conversion. The lattice of 2^64 points differs from the continuum
/// quarter disc by O(2^-32) in area, far below any reachable standard error.
pub fn pi_hits(rng: &mut Stream, n: u64) -> u64 {
    let mut hits = 0u64;
    for _ in 0..n {
        let r = rng.next_u64();
        let (x, y) = (r >> 32, r & 0xffff_ffff);
        hits += u64::from(!(x * x).overflowing_add(y * y).1);
    }
    hits
}

/// [`pi_hits`] for `L` chunks of `n` samples each at once, one per lane:
/// the same hits per chunk, with the lanes' generator chains overlapped.
pub fn pi_hits_lanes<const L: usize>(lanes: &mut Lanes<L>, n: u64) -> [u64; L] {
    let mut hits = [0u64; L];
    for _ in 0..n {
        let r = lanes.next_u64s();
        for l in 0..L {
            let (x, y) = (r[l] >> 32, r[l] & 0xffff_ffff);
            hits[l] += u64::from(!(x * x).overflowing_add(y * y).1);
        }
    }
    hits
}

/// The chain's transition matrix, rows = today's state, columns = tomorrow's
/// (bull, bear, recession).
pub const MARKOV_P: [[f64; 3]; 3] = [[0.9, 0.075, 0.025], [0.15, 0.8, 0.05], [0.25, 0.25, 0.5]];
/// Its stationary distribution.
pub const MARKOV_PI: [f64; 3] = [0.625, 0.3125, 0.0625];
pub const MARKOV_STATES: [&str; 3] = ["bull", "bear", "recession"];

/// Cumulative probabilities as 64-bit thresholds: a uniform u64 below
/// `t[0]` picks state 0, below `t[1]` state 1, else state 2.
fn thresholds(p: &[f64; 3]) -> [u64; 2] {
    let scale = 2f64.powi(64);
    [(p[0] * scale) as u64, ((p[0] + p[1]) * scale) as u64]
}

#[inline]
fn pick(t: &[u64; 2], u: u64) -> usize {
    usize::from(u >= t[0]) + usize::from(u >= t[1])
}

/// Days spent in each state by one chain of `days` days. The first day's
/// state is drawn from the stationary distribution, so the fraction of days
/// is an unbiased estimate of it for any chain length.
pub fn markov_days(rng: &mut Stream, days: u64) -> [u64; 3] {
    let rows = MARKOV_P.map(|row| thresholds(&row));
    let mut state = pick(&thresholds(&MARKOV_PI), rng.next_u64());
    let mut counts = [0u64; 3];
    for _ in 0..days {
        counts[state] += 1;
        state = pick(&rows[state], rng.next_u64());
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn chunking_covers_total() {
        let c = Chunking { total: 10, size: 4 };
        assert_eq!(c.count(), 3);
        assert_eq!((0..3).map(|k| c.len(k)).collect::<Vec<_>>(), vec![4, 4, 2]);
    }

    #[test]
    fn pi_within_four_sigma() {
        let (chunks, size) = (16u64, 1u64 << 16);
        let hits: u64 = (0..chunks).map(|c| pi_hits(&mut stream(3, c), size)).sum();
        let n = (chunks * size) as f64;
        let p = std::f64::consts::PI / 4.0;
        let est = 4.0 * hits as f64 / n;
        let se = 4.0 * (p * (1.0 - p) / n).sqrt();
        let z = (est - std::f64::consts::PI) / se;
        assert!(z.abs() < 4.0, "pi = {est}, z = {z}");
    }

    #[test]
    fn pi_lanes_count_what_single_chunks_count() {
        let streams = [stream(5, 0), stream(5, 1)];
        let lanes = pi_hits_lanes(&mut Lanes::new(&streams), 10_000);
        assert_eq!(lanes[0], pi_hits(&mut stream(5, 0), 10_000));
        assert_eq!(lanes[1], pi_hits(&mut stream(5, 1), 10_000));
    }

    #[test]
    fn pi_integer_test_is_exact_at_the_edge() {
        // x = 2^32 - 1, y = 0: x^2 < 2^64, inside.
        assert!(!((u32::MAX as u64).pow(2)).overflowing_add(0).1);
        // x = y = 2^31 * sqrt(2) rounded up lands outside.
        let v = 3_037_000_500u64;
        assert!((v * v).overflowing_add(v * v).1);
    }

    #[test]
    fn markov_fractions_within_four_sigma() {
        let (chains, days) = (400u64, 5000u64);
        let fr: Vec<[f64; 3]> = (0..chains)
            .map(|c| markov_days(&mut stream(8, c), days).map(|d| d as f64 / days as f64))
            .collect();
        for k in 0..3 {
            let mean = fr.iter().map(|f| f[k]).sum::<f64>() / chains as f64;
            let var = fr.iter().map(|f| (f[k] - mean).powi(2)).sum::<f64>() / (chains - 1) as f64;
            let z = (mean - MARKOV_PI[k]) / (var / chains as f64).sqrt();
            assert!(
                z.abs() < 4.0,
                "state {k}: {mean} vs {}, z = {z}",
                MARKOV_PI[k]
            );
        }
    }

    #[test]
    fn markov_rows_are_distributions() {
        for row in MARKOV_P {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        }
        // pi P = pi
        for j in 0..3 {
            let v: f64 = (0..3).map(|i| MARKOV_PI[i] * MARKOV_P[i][j]).sum();
            assert!((v - MARKOV_PI[j]).abs() < 1e-15);
        }
        let t = thresholds(&[0.9, 0.075, 0.025]);
        assert_eq!(pick(&t, 0), 0);
        assert_eq!(pick(&t, u64::MAX), 2);
    }
}
