//! What a run of any chain is validated against: its stationary
//! distribution pi, solved ([`super::stationary`]), and the law of the
//! days counted in each state. Pure: no MPI.
//!
//! - Up to [`EXACT_MAX`] states, the count's exact law for the run's
//!   length (its cumulant generating function from powers of the
//!   transition matrix, [`crate::stats::MarkovLaw`], saddlepoint tails):
//!   the built-in chain's test, unchanged, for any chain.
//! - Above, the central limit law of an ergodic chain: the days in state
//!   k over `chains` chains of `days` days are about normal, with mean
//!   chains (days pi_k + b_k) (b_k = Z_sk - pi_k for chains started in
//!   state s, 0 when started from pi) and variance chains days sigma_k^2,
//!   sigma_k^2 = pi_k (2 Z_kk - 1 - pi_k), Z the fundamental matrix. An
//!   approximation, good once a chain is much longer than the chain's
//!   mixing time; the report names which law scored the run.
//! - A reducible or periodic chain, or one whose solve's residual is not
//!   small, is run and reported "not validated", with the reason.

use super::chain::{Matrix, Shape};
use super::kernel::{count_score, First};
use super::stationary::{fundamental, occupation_variance};
use crate::stats::MarkovLaw;

/// States up to which a run is scored by the count's exact law (its cost
/// is n^3 log2(days) per evaluation, some tens of evaluations a state).
pub const EXACT_MAX: usize = 12;

/// Largest residual of the stationary solve a validation trusts.
pub const RESIDUAL_MAX: f64 = 1e-10;

/// A chain's law, as the plan found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Law {
    pub shape: Shape,
    /// The stationary distribution and the solve's residual, when the
    /// system has a unique solution.
    pub stationary: Option<(Vec<f64>, f64)>,
}

impl Law {
    /// Why this chain's run cannot be validated (None when it can).
    pub fn not_validated(&self) -> Option<String> {
        if let Some(why) = self.shape.not_validated() {
            return Some(why);
        }
        match &self.stationary {
            None => Some("the stationary system is singular".into()),
            Some((_, r)) if *r > RESIDUAL_MAX => Some(format!(
                "the stationary solve's residual is {r:.1e} (above {RESIDUAL_MAX:.0e}): the \
                 matrix is too ill-conditioned to trust pi"
            )),
            Some(_) => None,
        }
    }

    /// Which law scores a chain of `n` states.
    pub fn method(n: usize) -> &'static str {
        if n <= EXACT_MAX {
            "exact law of the counts (saddlepoint)"
        } else {
            "central limit law (fundamental matrix)"
        }
    }
}

/// Per state: the standard error of the fraction of days and the normal
/// score of the days counted (`totals`, over `chains` chains of `days`
/// days), against `pi` (the stationary law the run is validated against).
pub fn scores(
    m: &Matrix,
    pi: &[f64],
    first: &First,
    (chains, days): (u64, u64),
    totals: &[u64],
) -> Vec<(f64, f64)> {
    if m.n <= EXACT_MAX {
        exact_scores(m, pi, first, (chains, days), totals)
    } else {
        clt_scores(m, pi, first, (chains, days), totals)
    }
}

/// [`scores`] by the count's exact law under `m`, the first day drawn
/// from `first`, centred at days pi_k: started from the solved pi, the
/// law's mean is days pi_k (pi P = pi), so counts away from it fail.
pub fn exact_scores(
    m: &Matrix,
    pi: &[f64],
    first: &First,
    (chains, days): (u64, u64),
    totals: &[u64],
) -> Vec<(f64, f64)> {
    let n = m.n;
    let mut one_hot = vec![0.0; n];
    let start = match first {
        First::Drawn(law) => law.as_slice(),
        First::State(s) => {
            one_hot[*s] = 1.0;
            &one_hot
        }
    };
    (0..n)
        .map(|k| {
            let law = MarkovLaw {
                p: &m.p,
                n,
                start,
                pi_k: pi[k],
            };
            count_score(&law, chains, days, k, totals[k])
        })
        .collect()
}

/// [`scores`] by the central limit law: mean chains (days pi_k + b_k),
/// variance chains days pi_k (2 Z_kk - 1 - pi_k).
pub fn clt_scores(
    m: &Matrix,
    pi: &[f64],
    first: &First,
    (chains, days): (u64, u64),
    totals: &[u64],
) -> Vec<(f64, f64)> {
    let n = m.n;
    let Some(z) = fundamental(&m.p, pi) else {
        return vec![(f64::NAN, f64::NAN); n];
    };
    let (c, d) = (chains as f64, days as f64);
    (0..n)
        .map(|k| {
            let bias = match first {
                First::Drawn(_) => 0.0,
                First::State(s) => z[s * n + k] - pi[k],
            };
            let mean = c * (d * pi[k] + bias);
            let sd = (c * d * occupation_variance(&z, pi, k)).sqrt();
            (sd / (c * d), (totals[k] as f64 - mean) / sd)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::chain::{checked, Source};
    use super::super::kernel::Walk;
    use super::super::stationary::stationary;
    use super::*;
    use crate::rng::stream;

    fn matrix(p: Vec<f64>, n: usize) -> Matrix {
        let rows = p.chunks(n).map(<[f64]>::to_vec).collect();
        checked(rows, Source::Inline("test".into()), 0).unwrap()
    }

    fn totals(m: &Matrix, first: &First, chains: u64, days: u64, seed: u64) -> Vec<u64> {
        let walk = Walk::new(&m.p, m.n, first.clone());
        let mut t = vec![0u64; m.n];
        for c in 0..chains {
            walk.days(&mut stream(seed, c), days, &mut t);
        }
        t
    }

    fn five() -> Matrix {
        matrix(super::super::stationary::five_state(), 5)
    }

    #[test]
    fn a_five_state_chain_passes_its_law_and_fails_a_wrong_one() {
        let m = five();
        let (pi, _) = stationary(&m.p, 5).unwrap();
        // A chain whose row 0 moves 0.03 from state 0 to state 1: its law
        // is not the simulated one.
        let mut p = m.p.clone();
        p[0] -= 0.03;
        p[1] += 0.03;
        let wrong = matrix(p, 5);
        let (wrong_pi, _) = stationary(&wrong.p, 5).unwrap();
        for first in [First::Drawn(pi.clone()), First::State(3)] {
            let t = totals(&m, &first, 200, 2000, 7);
            for s in [
                exact_scores(&m, &pi, &first, (200, 2000), &t),
                clt_scores(&m, &pi, &first, (200, 2000), &t),
            ] {
                assert!(s.iter().all(|(se, z)| z.abs() < 5.0 && *se > 0.0), "{s:?}");
            }
            let s = exact_scores(&wrong, &wrong_pi, &first, (200, 2000), &t);
            assert!(s.iter().any(|(_, z)| z.abs() > 5.0), "{s:?}");
            // The central limit law against pi with 1 % of state 0's
            // share moved to state 1: caught.
            let mut off = pi.clone();
            off[0] -= 0.01;
            off[1] += 0.01;
            let s = clt_scores(&m, &off, &first, (200, 2000), &t);
            assert!(s[0].1 > 5.0 && s[1].1 < -5.0, "{s:?}");
        }
    }

    #[test]
    fn the_central_limit_law_agrees_with_the_exact_one_for_long_chains() {
        // A 13-state ring with a lazy step is scored by the central limit
        // law; its sub-chain of 12 states by the exact one: both pass and
        // the exact law's stderr matches sigma from Z for 5 states.
        let n = 13;
        let mut p = vec![0.0; n * n];
        for i in 0..n {
            p[i * n + i] = 0.5;
            p[i * n + (i + 1) % n] = 0.3;
            p[i * n + (i + n - 1) % n] = 0.2;
        }
        let m = matrix(p, n);
        let (pi, _) = stationary(&m.p, n).unwrap();
        let first = First::State(0);
        let t = totals(&m, &first, 50, 20_000, 3);
        let s = scores(&m, &pi, &first, (50, 20_000), &t);
        assert!(s.iter().all(|(_, z)| z.abs() < 5.0), "{s:?}");
        let m5 = five();
        let (pi5, _) = stationary(&m5.p, 5).unwrap();
        let exact = scores(
            &m5,
            &pi5,
            &First::Drawn(pi5.clone()),
            (10, 100_000),
            &[0; 5],
        );
        let z = fundamental(&m5.p, &pi5).unwrap();
        for (k, (se, _)) in exact.iter().enumerate() {
            let clt = (occupation_variance(&z, &pi5, k) / 1e6).sqrt();
            assert!((se / clt - 1.0).abs() < 1e-3, "{k}: {se} vs {clt}");
        }
    }

    #[test]
    fn chains_that_cannot_be_validated_say_why() {
        let law = Law {
            shape: Shape::Periodic { period: 2 },
            stationary: Some((vec![0.5, 0.5], 0.0)),
        };
        assert!(law.not_validated().unwrap().contains("periodic"));
        let law = Law {
            shape: Shape::Ergodic,
            stationary: Some((vec![0.5, 0.5], 1e-6)),
        };
        assert!(law.not_validated().unwrap().contains("residual"));
    }
}
