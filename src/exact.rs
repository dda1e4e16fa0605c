//! Exact, order-independent sums of floating-point values.
//!
//! Ensemble statistics (mean and variance over members) must be bitwise
//! identical whatever the number of ranks, yet floating-point addition is
//! not associative: summing per rank and then across ranks would change the
//! last bits with P. Instead each value is rounded once to a fixed-point
//! integer with [`FRAC_BITS`] fractional bits (a deterministic, per-member
//! operation), and integers are summed. Integer addition is associative, so
//! any partition and any reduction tree give the same bits.
//!
//! Resolution is 2^-56 (1.4e-17) absolute, below f64 precision for values
//! of order 1 and far below the statistical error of any ensemble. Range:
//! a sum must stay below 2^71 (2.4e21) in magnitude; [`ExactSum::add`]
//! reports overflow instead of wrapping.
//!
//! Across ranks, a sum travels as four 32-bit limbs of its two's-complement
//! representation held in `i64`s: MPI can then add them with its ordinary
//! integer `MPI_SUM` (no carry is lost for fewer than 2^31 ranks), and
//! [`from_limbs`] folds the carries back.

use thiserror::Error;

/// Fractional bits of the fixed-point representation.
pub const FRAC_BITS: i32 = 56;
const SCALE: f64 = (1u64 << FRAC_BITS) as f64;
/// Largest magnitude one value may have (2^70).
const MAX_VALUE: f64 = (1u128 << 70) as f64;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("value out of range for exact accumulation (|x| must be below 2^70 and finite)")]
pub struct OutOfRange;

/// A running exact sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExactSum(i128);

impl ExactSum {
    /// Add `x`, rounded to the nearest multiple of 2^-56.
    #[inline]
    pub fn add(&mut self, x: f64) -> Result<(), OutOfRange> {
        // NaN fails this comparison too.
        if x.is_nan() || x.abs() >= MAX_VALUE {
            return Err(OutOfRange);
        }
        let fixed = (x * SCALE).round() as i128;
        self.0 = self.0.checked_add(fixed).ok_or(OutOfRange)?;
        Ok(())
    }

    /// The sum, rounded once to f64.
    pub fn value(self) -> f64 {
        self.0 as f64 / SCALE
    }

    /// Four 32-bit limbs, least significant first, for an MPI integer sum.
    pub fn limbs(self) -> [i64; 4] {
        let u = self.0 as u128;
        std::array::from_fn(|k| ((u >> (32 * k)) & 0xffff_ffff) as i64)
    }
}

/// Recombine limb-wise sums (each the sum of up to 2^31 limbs) into the
/// exact total. The true total must fit in an i128, which [`ExactSum::add`]
/// guarantees for each part; sums of parts wrap consistently.
pub fn from_limbs(limbs: [i64; 4]) -> ExactSum {
    let mut total: u128 = 0;
    for (k, limb) in limbs.iter().enumerate() {
        total = total.wrapping_add((*limb as u128) << (32 * k));
    }
    ExactSum(total as i128)
}

/// Turn sums of `x` and `x^2` over `n` values into (mean, unbiased variance).
pub fn mean_variance(sum: ExactSum, sum_sq: ExactSum, n: u64) -> (f64, f64) {
    let nf = n as f64;
    let mean = sum.value() / nf;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = (sum_sq.value() - sum.value() * mean) / (nf - 1.0);
    (mean, var.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Vec<f64> {
        (0..1000)
            .map(|i| ((i as f64) * 0.7368).sin() * 10f64.powi(i % 7 - 3))
            .collect()
    }

    #[test]
    fn order_and_partition_do_not_matter() {
        let v = values();
        let mut forward = ExactSum::default();
        v.iter().for_each(|&x| forward.add(x).unwrap());
        let mut backward = ExactSum::default();
        v.iter().rev().for_each(|&x| backward.add(x).unwrap());
        assert_eq!(forward, backward);
        // Three "ranks", combined limb-wise as MPI_SUM would.
        let mut limbs = [0i64; 4];
        for part in [&v[..123], &v[123..700], &v[700..]] {
            let mut s = ExactSum::default();
            part.iter().for_each(|&x| s.add(x).unwrap());
            for (acc, l) in limbs.iter_mut().zip(s.limbs()) {
                *acc += l;
            }
        }
        assert_eq!(from_limbs(limbs), forward);
    }

    #[test]
    fn negative_totals_survive_limbs() {
        let mut limbs = [0i64; 4];
        for x in [-3.25, 1.0, -1e6, 0.125] {
            let mut s = ExactSum::default();
            s.add(x).unwrap();
            for (acc, l) in limbs.iter_mut().zip(s.limbs()) {
                *acc += l;
            }
        }
        assert_eq!(from_limbs(limbs).value(), -3.25 + 1.0 - 1e6 + 0.125);
    }

    #[test]
    fn accurate_where_naive_float_sum_is_not() {
        let mut s = ExactSum::default();
        for x in [1e15, 1.0, -1e15] {
            s.add(x).unwrap();
        }
        assert_eq!(s.value(), 1.0);
        let (mean, var) = {
            let (mut a, mut b) = (ExactSum::default(), ExactSum::default());
            for x in [1.0, 2.0, 3.0, 4.0] {
                a.add(x).unwrap();
                b.add(x * x).unwrap();
            }
            mean_variance(a, b, 4)
        };
        assert_eq!((mean, var), (2.5, 5.0 / 3.0));
    }

    #[test]
    fn out_of_range_is_reported() {
        let mut s = ExactSum::default();
        assert_eq!(s.add(f64::NAN), Err(OutOfRange));
        assert_eq!(s.add(f64::INFINITY), Err(OutOfRange));
        assert_eq!(s.add(2f64.powi(71)), Err(OutOfRange));
        s.add(2f64.powi(69)).unwrap();
        s.add(2f64.powi(69)).unwrap();
        s.add(2f64.powi(69)).unwrap();
        assert_eq!(s.add(2f64.powi(69)), Err(OutOfRange));
    }
}
