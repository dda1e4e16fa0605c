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

    /// Add a value already in fixed point ([`Scale::fixed`]). No check:
    /// 2^64 such values (each below 2^62) fit.
    #[inline]
    pub fn add_fixed(&mut self, fixed: i64) {
        self.0 += i128::from(fixed);
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

/// Where a [`Scale`] brings the largest magnitude of the values it is made
/// for: into [2^(SCALED_TOP-1), 2^SCALED_TOP), so that each value in fixed
/// point ([`FRAC_BITS`] fractional bits) fits in an i64 (below 2^62) and a
/// sum of up to 2^64 of them in an [`ExactSum`].
const SCALED_TOP: i32 = 6;

/// A power of two, 2^exp, that values are scaled by before they go into
/// an [`ExactSum`] ([`Scale::fixed`]), undone on the total.
///
/// Why a scale at all: a fixed point of 2^-56 keeps ensemble statistics of
/// order 1 to round-off but would lose a field of values near 1e-300
/// entirely and cannot hold one near 1e308 (a heat wall may be either).
/// Scaling by a power of two chosen from the largest magnitude (the same
/// on every rank, as a global maximum is) gives every field the same
/// relative resolution: 2^-61 of its largest value. Each value's fixed
/// point is a function of that value alone (scaled, then truncated), so
/// sums of them are as order-free as [`ExactSum::add`]'s, and one i64
/// conversion a value keeps a field's sum cheap (about a cell update).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    exp: i32,
    /// 2^(exp + FRAC_BITS) as two factors, each a normal f64.
    to_fixed: [f64; 2],
}

impl Scale {
    /// The scale for values of magnitude at most `max_abs` (finite, or
    /// 0: then any scale would do, and this one is 1).
    pub fn for_max(max_abs: f64) -> Self {
        let exp = if max_abs > 0.0 && max_abs.is_finite() {
            SCALED_TOP - 1 - floor_log2(max_abs)
        } else {
            0
        };
        Self {
            exp,
            to_fixed: split_pow2(exp + FRAC_BITS),
        }
    }

    /// `x` (|x| at most the `max_abs` this scale was made for) scaled, in
    /// fixed point, truncated toward zero: a multiple of 2^-56 below 2^6
    /// in magnitude, held as an integer. NaN gives 0 (count it apart).
    #[inline]
    pub fn fixed(self, x: f64) -> i64 {
        (x * self.to_fixed[0] * self.to_fixed[1]) as i64
    }

    /// A scaled value brought back: y * 2^-exp.
    pub fn undo(self, y: f64) -> f64 {
        let [a, b] = split_pow2(-self.exp);
        y * a * b
    }
}

/// floor(log2(x)) for finite x > 0, subnormals included, from the bits
/// (exact, unlike `x.log2().floor()` just below a power of two).
fn floor_log2(x: f64) -> i32 {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: x = m * 2^-1074 with m < 2^52.
        let m = bits & ((1u64 << 52) - 1);
        63 - m.leading_zeros() as i32 - 1074
    } else {
        biased - 1023
    }
}

/// 2^k as two normal f64 factors (their product, for |k| up to 2044).
fn split_pow2(k: i32) -> [f64; 2] {
    let pow2 = |k: i32| f64::from_bits(((k + 1023) as u64) << 52);
    let first = k.clamp(-1022, 1023);
    [pow2(first), pow2(k - first)]
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
    fn scale_keeps_any_magnitude() {
        let top = (1i64 << (SCALED_TOP - 1 + FRAC_BITS))..(1i64 << (SCALED_TOP + FRAC_BITS));
        for max in [1e308, f64::MAX, 100.0, 1.0, 0.75, 1e-300, 5e-324, 3e-310] {
            let s = Scale::for_max(max);
            let fixed = s.fixed(max);
            assert!(top.contains(&fixed), "{max:e} -> {fixed}");
            assert!(top.contains(&-s.fixed(-max)), "{max:e}");
            let mut sum = ExactSum::default();
            sum.add_fixed(fixed);
            assert_eq!(s.undo(sum.value()), max, "{max:e}");
        }
        assert_eq!(Scale::for_max(0.0).fixed(3.5), 7 << 55);
        assert_eq!(Scale::for_max(1.0).fixed(f64::NAN), 0);
        // Just below a power of two, where log2 rounds up.
        let below = f64::from_bits(2f64.powi(60).to_bits() - 1);
        assert!(top.contains(&Scale::for_max(below).fixed(below)));
    }

    #[test]
    fn scaled_sums_average_huge_and_tiny_fields() {
        let mean_of = |v: &[f64]| {
            let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let s = Scale::for_max(max);
            let mut sum = ExactSum::default();
            v.iter().for_each(|&x| sum.add_fixed(s.fixed(x)));
            s.undo(sum.value() / v.len() as f64)
        };
        assert_eq!(mean_of(&[1e308, 1e308, 1e308]), 1e308);
        assert_eq!(mean_of(&[f64::MAX, -f64::MAX, f64::MAX]), f64::MAX / 3.0);
        assert_eq!(mean_of(&[1e-300, 3e-300]), 2e-300);
        assert_eq!(mean_of(&[20.0, 70.0, 85.0, 5.0]), 45.0);
        // In any order and any partition, the same bits.
        let v: Vec<f64> = (0..999)
            .map(|i| 60.0 + (i as f64 * 0.37).sin() * 25.0)
            .collect();
        let mut r = v.clone();
        r.reverse();
        assert_eq!(mean_of(&v).to_bits(), mean_of(&r).to_bits());
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
