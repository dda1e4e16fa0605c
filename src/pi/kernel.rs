//! The Monte Carlo estimate of pi, the pure part: hit-or-miss on a lattice
//! of 2^64 points. No MPI here.
//!
//! Work is cut into fixed-size chunks of samples, each with its own random
//! stream (by chunk index), so the integer counts, and therefore the
//! total, are the same on any number of ranks.

use rand::Rng;

use crate::rng::{Lanes, Stream};

/// Default samples per pi chunk: large enough to amortise stream set-up,
/// small enough to balance across ranks.
pub const DEFAULT_PI_CHUNK: u64 = 1 << 20;

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

/// The normal score of `hits` among `samples` points (each inside with
/// probability pi/4): the hits are binomial, and the score is the normal
/// quantile of their tail on the side they fall
/// ([`crate::stats::z_from_tails`], saddlepoint tails). For many samples
/// it is (estimate - pi) / stderr; for few, that plain score is skewed
/// (7 samples, none inside: -5.06, a chance of 2e-5, 37 times the
/// normal tail), this one is not.
pub fn hits_z(samples: u64, hits: u64) -> f64 {
    let (n, p) = (samples as f64, std::f64::consts::FRAC_PI_4);
    let cgf = |t| crate::stats::binomial_cgf(n, p, t);
    let (lower, upper) = crate::stats::ln_count_tails(&cgf, n * p, n, hits as f64);
    crate::stats::z_from_tails(lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

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

    /// The chance that a correct run of `n` samples fails (|z| >= 5),
    /// summed over the exact binomial law of its hits.
    fn false_failure_rate(n: u64, z: impl Fn(u64) -> f64) -> f64 {
        let p = std::f64::consts::FRAC_PI_4;
        let ln_fact = |k: u64| crate::stats::ln_gamma(k as f64 + 1.0);
        (0..=n)
            .filter(|&k| z(k).abs() >= crate::report::Z_LIMIT)
            .map(|k| {
                (ln_fact(n) - ln_fact(k) - ln_fact(n - k)
                    + k as f64 * p.ln()
                    + (n - k) as f64 * (1.0 - p).ln())
                .exp()
            })
            .sum()
    }

    #[test]
    fn few_samples_fail_correct_runs_no_more_often_than_promised() {
        // The promise: P(|Z| >= 5) = 5.73e-7. The plain score broke it by
        // 37x at 7 samples, 8x at 20, 5x at 100.
        let promise = 5.733e-7;
        let plain = |n: u64| {
            move |k: u64| {
                let p = std::f64::consts::FRAC_PI_4;
                (k as f64 - n as f64 * p) / (n as f64 * p * (1.0 - p)).sqrt()
            }
        };
        assert!(false_failure_rate(7, plain(7)) > 30.0 * promise);
        for n in [1u64, 2, 7, 8, 10, 20, 30, 100, 200, 1000, 3000] {
            let rate = false_failure_rate(n, |k| hits_z(n, k));
            assert!(rate <= 1.25 * promise, "{n} samples: {rate:.3e}");
        }
        // Many samples: the plain score, to 1e-4.
        let n = 1u64 << 30;
        let p = std::f64::consts::FRAC_PI_4;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        for z in [-5.0, -1.0, 0.5, 5.0] {
            let k = (n as f64 * std::f64::consts::FRAC_PI_4 + z * sd).round() as u64;
            assert!((hits_z(n, k) - plain(n)(k)).abs() < 1e-3, "{z}");
        }
        // A wrong count still fails: 1e6 samples, 1 % too few inside.
        assert!(hits_z(1_000_000, 777_000) < -20.0);
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
}
