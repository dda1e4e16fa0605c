//! The 3-state Markov chain (bull / bear / recession), the pure part. No
//! MPI here.
//!
//! Each chain is a unit of work with its own random stream, so the days
//! counted in each state, and therefore the totals, are the same on any
//! number of ranks.

use rand::Rng;

use crate::rng::Stream;

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
