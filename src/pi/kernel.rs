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
