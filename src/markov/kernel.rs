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

/// The law's standard error of the fraction of days in state `k` over
/// `chains` chains of `days` days, and the normal score of `count`, the
/// days counted there: the quantile of the count's tail under the chain's
/// exact law ([`crate::stats::markov_count_cgf`], saddlepoint tails), so
/// that |z| >= 5 is as rare as the normal promise for any ensemble.
///
/// Why not (fraction - pi) / (the spread between chains / sqrt(chains)),
/// as before: with few chains that ratio is Student's t, not normal (two
/// chains: Cauchy, |t| >= 5 one time in eight; a third of correct runs of
/// 2 chains failed, counting the three states), and with few days the
/// fractions are lumpy and skewed.
pub fn state_score(chains: u64, days: u64, k: usize, count: u64) -> (f64, f64) {
    let c = chains as f64;
    let cgf = |t| {
        let (a, b, d) = crate::stats::markov_count_cgf(&MARKOV_P, &MARKOV_PI, k, days, t);
        (c * a, c * b, c * d)
    };
    let n = c * days as f64;
    let stderr = cgf(0.0).2.sqrt() / n;
    let (lower, upper) = crate::stats::ln_count_tails(&cgf, n * MARKOV_PI[k], n, count as f64);
    (stderr, crate::stats::z_from_tails(lower, upper))
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

    /// Over `runs` simulated runs of `chains` chains of `days` days: how
    /// many states' scores reach each of `limits`.
    fn exceedances(chains: u64, days: u64, runs: u64, limits: &[f64]) -> Vec<u64> {
        let mut over = vec![0; limits.len()];
        for run in 0..runs {
            let mut counts = [0u64; 3];
            for c in 0..chains {
                let d = markov_days(&mut stream(1000 + run, c), days);
                (0..3).for_each(|k| counts[k] += d[k]);
            }
            for (k, &count) in counts.iter().enumerate() {
                let (_, z) = state_score(chains, days, k, count);
                for (i, lim) in limits.iter().enumerate() {
                    over[i] += u64::from(z.abs() >= *lim);
                }
            }
        }
        over
    }

    #[test]
    fn small_ensembles_fail_correct_runs_no_more_often_than_promised() {
        // The counts are discrete, so a score reaches a limit at most as
        // often as a normal one would (and less where the lattice is
        // coarse): within 5 binomial standard deviations (+1) above the
        // normal rate, at |z| 2 to 4. The old score failed a third of
        // correct runs of 2 chains (|z| >= 5, any state).
        let limits = [2.0, 3.0, 4.0];
        let runs = 5_000u64;
        for (chains, days) in [(1u64, 10u64), (2, 10), (2, 1000), (3, 100), (10, 3)] {
            let over = exceedances(chains, days, runs, &limits);
            for (i, lim) in limits.iter().enumerate() {
                let p = 2.0 * crate::stats::ln_normal_upper(*lim).exp();
                let expect = 3.0 * runs as f64 * p;
                let slack = 5.0 * expect.sqrt() + 1.0;
                assert!(
                    (over[i] as f64) <= expect + slack,
                    "{chains} chains of {days} days: {} scores at |z| >= {lim}, expected {expect:.0}",
                    over[i]
                );
            }
            // Long chains are close to normal: the rates are near it.
            if days >= 1000 {
                let expect = 3.0 * runs as f64 * 2.0 * crate::stats::ln_normal_upper(2.0).exp();
                assert!(over[0] as f64 > 0.8 * expect, "{over:?}");
            }
        }
    }

    #[test]
    fn scores_follow_the_law_and_wrong_counts_fail() {
        // The exact expected count scores 0 (or the lattice's +-half step).
        let (chains, days) = (1000u64, 100_000u64);
        let n = (chains * days) as f64;
        for (k, pi) in MARKOV_PI.iter().enumerate() {
            let (se, z) = state_score(chains, days, k, (n * pi).round() as u64);
            assert!(z.abs() < 1e-2 && se > 0.0 && se < 1e-2, "{k}: {se} {z}");
            // 0.5 % of the days moved out of state k: far beyond 5 sd.
            let (_, z) = state_score(chains, days, k, (n * (pi - 0.005)) as u64);
            assert!(z < -5.0, "{k}: {z}");
        }
        // One chain of one day in the bull state: 0.625, no alarm.
        let (_, z) = state_score(1, 1, 0, 1);
        assert!(z.abs() < 1.0, "{z}");
        // Ten chains of 10 days, never a recession: a chance of about
        // 0.94^100 / ..., which the law knows is not rare enough to fail.
        let (_, z) = state_score(10, 10, 2, 0);
        assert!(z < 0.0 && z > -5.0, "{z}");
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
