//! The 3-state Markov chain (bull / bear / recession), the pure part. No
//! MPI here.
//!
//! Each chain is a unit of work with its own random stream, so the days
//! counted in each state, and therefore the totals, are the same on any
//! number of ranks.

use rand::Rng;

use crate::rng::Stream;
use crate::stats::MarkovLaw;

/// The chain's transition matrix, rows = today's state, columns = tomorrow's
/// (bull, bear, recession).
pub const MARKOV_P: [[f64; 3]; 3] = [[0.9, 0.075, 0.025], [0.15, 0.8, 0.05], [0.25, 0.25, 0.5]];
/// Its stationary distribution.
pub const MARKOV_PI: [f64; 3] = [0.625, 0.3125, 0.0625];
pub const MARKOV_STATES: [&str; 3] = ["bull", "bear", "recession"];

/// Cumulative probabilities as 64-bit thresholds: a uniform u64 below
/// `t[0]` picks state 0, below `t[1]` state 1, ..., else the last state
/// (which takes whatever a row's rounding leaves). The sums run left to
/// right, so the thresholds never decrease.
fn cumulative(p: &[f64]) -> Vec<u64> {
    let scale = 2f64.powi(64);
    let mut acc = 0.0;
    p[..p.len() - 1]
        .iter()
        .map(|&x| {
            acc += x;
            (acc * scale) as u64
        })
        .collect()
}

#[cfg(test)]
fn thresholds(p: &[f64; 3]) -> [u64; 2] {
    let t = cumulative(p);
    [t[0], t[1]]
}

#[inline]
fn pick<const M: usize>(t: &[u64; M], u: u64) -> usize {
    t.iter().map(|&x| usize::from(u >= x)).sum()
}

/// How a chain's first day is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum First {
    /// Drawn from this law (the stationary one): one draw of the stream.
    Drawn(Vec<f64>),
    /// This state, no draw.
    State(usize),
}

/// A chain ready to walk: the thresholds of each row (n - 1 each) and how
/// its first day is chosen.
#[derive(Debug, Clone)]
pub struct Walk {
    n: usize,
    rows: Vec<u64>,
    first: First,
    first_t: Vec<u64>,
}

impl Walk {
    /// `p`: n x n row-major, row-stochastic.
    pub fn new(p: &[f64], n: usize, first: First) -> Walk {
        let rows = p.chunks_exact(n).flat_map(cumulative).collect();
        let first_t = match &first {
            First::Drawn(law) => cumulative(law),
            First::State(_) => Vec::new(),
        };
        Walk {
            n,
            rows,
            first,
            first_t,
        }
    }

    /// Add the days one chain of `days` days spends in each state to
    /// `counts` (n of them).
    pub fn days(&self, rng: &mut Stream, days: u64, counts: &mut [u64]) {
        let state = match self.first {
            First::State(s) => s,
            First::Drawn(_) => {
                let u = rng.next_u64();
                self.first_t.partition_point(|&x| x <= u)
            }
        };
        // Up to 8 states the row's thresholds are compared all at once
        // (branch-free); beyond, found by bisection.
        match self.n {
            2 => walk::<1>(&self.rows, state, rng, days, counts),
            3 => walk::<2>(&self.rows, state, rng, days, counts),
            4 => walk::<3>(&self.rows, state, rng, days, counts),
            5 => walk::<4>(&self.rows, state, rng, days, counts),
            6 => walk::<5>(&self.rows, state, rng, days, counts),
            7 => walk::<6>(&self.rows, state, rng, days, counts),
            8 => walk::<7>(&self.rows, state, rng, days, counts),
            _ => self.walk_far(state, rng, days, counts),
        }
    }

    fn walk_far(&self, mut state: usize, rng: &mut Stream, days: u64, counts: &mut [u64]) {
        let m = self.n - 1;
        for _ in 0..days {
            counts[state] += 1;
            let u = rng.next_u64();
            state = self.rows[state * m..(state + 1) * m].partition_point(|&x| x <= u);
        }
    }
}

fn walk<const M: usize>(
    rows: &[u64],
    mut state: usize,
    rng: &mut Stream,
    days: u64,
    counts: &mut [u64],
) {
    let rows: Vec<[u64; M]> = rows
        .chunks_exact(M)
        .map(|c| c.try_into().expect("M thresholds"))
        .collect();
    let counts = &mut counts[..M + 1];
    for _ in 0..days {
        counts[state] += 1;
        state = pick(&rows[state], rng.next_u64());
    }
}

/// Days spent in each state by one chain of `days` days of the built-in
/// chain. The first day's state is drawn from the stationary distribution,
/// so the fraction of days is an unbiased estimate of it for any chain
/// length.
pub fn markov_days(rng: &mut Stream, days: u64) -> [u64; 3] {
    let walk = Walk::new(&MARKOV_P.concat(), 3, First::Drawn(MARKOV_PI.to_vec()));
    let mut counts = [0u64; 3];
    walk.days(rng, days, &mut counts);
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
    let p = MARKOV_P.concat();
    let law = MarkovLaw {
        p: &p,
        n: 3,
        start: &MARKOV_PI,
        pi_k: MARKOV_PI[k],
    };
    count_score(&law, chains, days, k, count)
}

/// [`state_score`] for any chain: `law` (its matrix, its first day's law
/// and the stationary share `pi_k` of state `k`).
pub fn count_score(law: &MarkovLaw, chains: u64, days: u64, k: usize, count: u64) -> (f64, f64) {
    let c = chains as f64;
    let cgf = |t| {
        let (a, b, d) = law.count_cgf(k, days, t);
        (c * a, c * b, c * d)
    };
    let n = c * days as f64;
    let stderr = cgf(0.0).2.sqrt() / n;
    let (lower, upper) = crate::stats::ln_count_tails(&cgf, n * law.pi_k, n, count as f64);
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
