//! Squared distances within f64's range (pure).
//!
//! The kernel sums squared coordinate differences, the lessons' formula bit
//! for bit. A difference below 2^-511 has a square below f64's normal range,
//! where it loses digits or vanishes (0, 3e-170 and 5e-170 were once met at
//! distance 0, and 1e-160 came out with five digits lost); one of 2^512 or
//! more has a square that overflows. So rank 0 scales the points by a power
//! of two 2^k chosen from the whole data. Multiplying by 2^k is exact in
//! binary floating point, so every difference, square, sum and square root
//! is the one an f64 with an unbounded exponent would give, times 2^k (2^2k
//! for squares), and every distance unscales exactly: the same bits as the
//! unscaled sum wherever that stays in range (then k = 0 and nothing
//! changes at all), and the same on any number of ranks (each rank scales
//! its own rows the same way; comparisons and ties are those of the
//! unscaled values).
//!
//! A k exists when the smallest nonzero difference between two values of a
//! coordinate, g, and the largest extent of a coordinate, E, are less than
//! about 2^1006 apart (and the coordinates leave room to scale up); else no
//! single scale holds both, and the points are refused in one line rather
//! than reported at wrong distances. Differences below f64's normal range
//! (2^-1022, about 2.2e-308) are refused too: a distance that small cannot
//! be written to full precision. Finding g sorts each coordinate once on
//! rank 0, N log N beside the N^2 / 2 pairs.
//!
//! [`robust_distance`] is the validation's independent reference: a
//! distance that can neither underflow nor overflow, whatever the scale.

use serde::{Deserialize, Serialize};

use super::kernel::Points;

/// Scaled differences at least 2^-511 in magnitude: their squares, at
/// least 2^-1022, are normal (full precision).
const LEAST_DIFFERENCE_EXP: i32 = -511;

/// Scaled extents below 2^496: a squared distance of up to 2^30
/// coordinates (`plan::MAX_COORDS`) stays below 2^1022, and N of the
/// distances added (the mean) far below f64's largest number.
const EXTENT_EXP: i32 = 496;

/// The power of two 2^k the points are multiplied by before the ring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scale {
    pub k: i32,
}

impl Scale {
    /// No scaling: the points as they are.
    pub const ONE: Self = Self { k: 0 };

    /// 2^k.
    pub fn unit(self) -> f64 {
        pow2(self.k)
    }

    /// 2^-k: a scaled distance times this is the distance.
    pub fn back(self) -> f64 {
        pow2(-self.k)
    }

    /// Scale coordinates in place (nothing to do for k = 0).
    pub fn apply(self, xs: &mut [f64]) {
        if self.k != 0 {
            let u = self.unit();
            xs.iter_mut().for_each(|x| *x *= u);
        }
    }

    /// Scaled distances back to the points' units, in place (nothing to
    /// do for k = 0): exact, every nonzero distance being a normal f64.
    pub fn apply_back(self, ds: &mut [f64]) {
        if self.k != 0 {
            let b = self.back();
            ds.iter_mut().for_each(|d| *d *= b);
        }
    }
}

/// 2^k exactly, for k in f64's normal exponents.
pub fn pow2(k: i32) -> f64 {
    assert!((-1022..=1023).contains(&k), "2^{k} is not a normal f64");
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// floor(log2 |x|) of a finite nonzero x (subnormals too), from its bits.
pub fn exponent(x: f64) -> i32 {
    debug_assert!(x != 0.0 && x.is_finite());
    let b = x.abs().to_bits();
    match (b >> 52) as i32 {
        0 => -1011 - b.leading_zeros() as i32,
        e => e - 1023,
    }
}

/// The exponent of b - a as f64 rounds it with an unbounded exponent
/// (a < b, finite): halved when the difference overflows. None when 0.
fn difference_exponent(a: f64, b: f64) -> Option<i32> {
    let d = b - a;
    if d == 0.0 {
        None
    } else if d.is_finite() {
        Some(exponent(d))
    } else {
        // Both halves exact (|a| or |b| is huge; a tiny one's lost bit lies
        // far below the difference's last digit).
        Some(exponent(b * 0.5 - a * 0.5) + 1)
    }
}

/// One coordinate over all the points: its extremes and its two closest
/// distinct values.
struct Column {
    lo: f64,
    hi: f64,
    closest: Option<(f64, f64)>,
}

fn column(points: &Points, c: usize, buf: &mut Vec<f64>) -> Column {
    buf.clear();
    buf.extend(points.xs.iter().skip(c).step_by(points.dim));
    buf.sort_unstable_by(f64::total_cmp);
    // Rounding is monotone, so the least nonzero |fl(x - y)| of the column
    // is between neighbours in order.
    let closest = buf
        .windows(2)
        .filter(|w| w[1] - w[0] != 0.0)
        .min_by(|v, w| (v[1] - v[0]).total_cmp(&(w[1] - w[0])))
        .map(|w| (w[0], w[1]));
    Column {
        lo: buf[0],
        hi: buf[buf.len() - 1],
        closest,
    }
}

/// The scale the points are met at, and the diagonal of their bounding
/// box (unscaled: the histogram's range); or why no scale will do, as the
/// end of a line that names the points. The points are finite.
pub fn choose_scale(points: &Points) -> Result<(Scale, f64), String> {
    let mut buf = Vec::with_capacity(points.n);
    let cols: Vec<Column> = (0..points.dim)
        .map(|c| column(points, c, &mut buf))
        .collect();
    // The closest distinct values of any coordinate: (column, a, b, exponent).
    let least = cols
        .iter()
        .enumerate()
        .filter_map(|(c, col)| col.closest.map(|(a, b)| (c, a, b)))
        .filter_map(|(c, a, b)| Some((c, a, b, difference_exponent(a, b)?)))
        .min_by_key(|&(_, _, _, e)| e);
    // The largest extent of a coordinate: (column, exponent).
    let widest = cols
        .iter()
        .enumerate()
        .filter_map(|(c, col)| Some((c, difference_exponent(col.lo, col.hi)?)))
        .max_by_key(|&(c, e)| (e, std::cmp::Reverse(c)));
    // The largest coordinate in magnitude: (column, value, exponent).
    let largest = cols
        .iter()
        .enumerate()
        .flat_map(|(c, col)| [(c, col.lo), (c, col.hi)])
        .filter(|&(_, x)| x != 0.0)
        .map(|(c, x)| (c, x, exponent(x)))
        .max_by_key(|&(c, _, e)| (e, std::cmp::Reverse(c)));
    if let Some((c, a, b, e)) = least {
        if e < -1022 {
            return Err(format!(
                "coordinate {c} has values {a:e} and {b:e}, {:e} apart: below f64's normal \
                 range ({:e}), a distance that small cannot be held to full precision \
                 (scale the coordinates)",
                b - a,
                f64::MIN_POSITIVE
            ));
        }
    }
    // Scaled: least difference >= 2^-511, extents < 2^496, coordinates < 2^1024.
    let k_lo = least.map_or(i32::MIN, |(.., e)| LEAST_DIFFERENCE_EXP - e);
    let k_extent = widest.map_or(i32::MAX, |(_, e)| EXTENT_EXP - 1 - e);
    let k_size = largest.map_or(i32::MAX, |(.., e)| 1023 - e);
    if let Some((c, a, b, _)) = least.filter(|_| k_lo > k_extent.min(k_size)) {
        let small = format!("coordinate {c}'s values {a:e} and {b:e}, {:e} apart", b - a);
        return Err(if k_lo > k_extent {
            let (w, _) = widest.expect("an extent bounds k");
            format!(
                "the differences span too many orders of magnitude for squared distances \
                 in f64, even scaled by a power of two: {small}, and coordinate {w} from \
                 {:e} to {:e} (more than 2^1006 times as wide)",
                cols[w].lo, cols[w].hi
            )
        } else {
            let (w, x, _) = largest.expect("a coordinate bounds k");
            format!(
                "{small}, need a scale that would overflow coordinate {w}'s {x:e}: \
                 too many orders of magnitude for squared distances in f64"
            )
        });
    }
    let scale = Scale {
        k: 0.max(k_lo).min(k_extent).min(k_size),
    };
    let diagonal = diagonal(&cols, scale)?;
    Ok((scale, diagonal))
}

/// The diagonal of the points' bounding box (from each column's extremes),
/// summed over the scaled extremes and unscaled: `Points::diagonal`'s sum,
/// its bits for k = 0; refused where it exceeds f64.
fn diagonal(cols: &[Column], scale: Scale) -> Result<f64, String> {
    let u = scale.unit();
    let diagonal = cols
        .iter()
        .map(|col| {
            let (l, h) = (col.lo * u, col.hi * u);
            (h - l) * (h - l)
        })
        .sum::<f64>()
        .sqrt()
        * scale.back();
    if !diagonal.is_finite() {
        return Err(format!(
            "the points spread too far for f64: their bounding box's diagonal exceeds {:e}",
            f64::MAX
        ));
    }
    Ok(diagonal)
}

/// The distance of two points by a route that can neither underflow nor
/// overflow (hypot's: the differences divided by the largest one), to
/// within (D/2 + 3) rounding errors: the validation's reference for a
/// reported distance, independent of the scale and the kernel.
pub fn robust_distance(a: &[f64], b: &[f64]) -> f64 {
    // Differences that overflow are taken halved (and the result doubled).
    let halved = a.iter().zip(b).any(|(x, y)| !(x - y).is_finite());
    let t = |x: f64, y: f64| if halved { x * 0.5 - y * 0.5 } else { x - y };
    let m = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| t(x, y).abs())
        .fold(0.0, f64::max);
    if m == 0.0 {
        return 0.0;
    }
    let s: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let r = t(x, y) / m;
            r * r
        })
        .sum();
    let d = m * s.sqrt();
    if halved {
        2.0 * d
    } else {
        d
    }
}

/// A reported distance agrees with [`robust_distance`]'s `reference`:
/// equal when that is 0, else within the rounding of both in `dim`
/// coordinates ((D + 4) units of the last place, twice their bounds).
pub fn agrees(reported: f64, reference: f64, dim: usize) -> bool {
    if reference == 0.0 || !reference.is_finite() {
        return reported == reference;
    }
    (reported - reference).abs() <= (dim as f64 + 4.0) * f64::EPSILON * reference
}

#[cfg(test)]
mod tests {
    use super::super::kernel::d2;
    use super::*;

    fn pts(dim: usize, xs: &[f64]) -> Points {
        Points {
            n: xs.len() / dim,
            dim,
            xs: xs.to_vec(),
        }
    }

    /// The scaled squared distance of rows i and j, unscaled as a distance.
    fn distance(p: &Points, s: Scale, i: usize, j: usize) -> f64 {
        let (mut a, mut b) = (p.row(i).to_vec(), p.row(j).to_vec());
        s.apply(&mut a);
        s.apply(&mut b);
        d2(&a, &b).sqrt() * s.back()
    }

    #[test]
    fn exponents_and_powers_of_two_from_the_bits() {
        for k in [-1022, -511, -1, 0, 1, 496, 1023] {
            assert_eq!(pow2(k), 2f64.powi(k));
            assert_eq!(exponent(pow2(k)), k);
            assert_eq!(exponent(-1.5 * pow2(k)), k);
        }
        assert_eq!(exponent(f64::from_bits(1)), -1074);
        assert_eq!(exponent(f64::from_bits(3)), -1073);
        assert_eq!(exponent(f64::MAX), 1023);
        assert_eq!(difference_exponent(-f64::MAX, f64::MAX), Some(1024));
        assert_eq!(difference_exponent(1.0, 1.0), None);
    }

    #[test]
    fn points_in_range_are_not_scaled_and_keep_their_diagonal() {
        let p = Points::generated(50, 3, 1);
        assert_eq!(choose_scale(&p), Ok((Scale::ONE, p.diagonal())));
        let ints = pts(2, &[0.0, 0.0, 3.0, 4.0, 1e9, -1e9]);
        assert_eq!(choose_scale(&ints).unwrap(), (Scale::ONE, ints.diagonal()));
    }

    #[test]
    fn underflowing_differences_are_scaled_up_and_exact() {
        // The points: unscaled, (0, 1) met at 0.
        let p = pts(1, &[0.0, 3e-170, 5e-170]);
        assert_eq!(d2(p.row(0), p.row(1)), 0.0);
        let (s, diag) = choose_scale(&p).unwrap();
        assert!(s.k > 0);
        assert_eq!(diag, 5e-170);
        assert_eq!(distance(&p, s, 1, 2), 2e-170);
        assert_eq!(distance(&p, s, 0, 1), 3e-170);
        // 1e-160: five digits lost unscaled, none scaled.
        let q = pts(2, &[0.0, 0.0, 1e-160, 0.0, 0.0, 2e-160]);
        assert_ne!(d2(q.row(0), q.row(1)).sqrt(), 1e-160);
        let (s, _) = choose_scale(&q).unwrap();
        assert_eq!(distance(&q, s, 0, 1), 1e-160);
        let want = robust_distance(q.row(1), q.row(2));
        assert!(agrees(distance(&q, s, 1, 2), want, 2));
        // Mixed scales: coordinate 0 in 1e120s, coordinate 1 in 1e-170s.
        let m = pts(2, &[0.0, 0.0, 1e120, 1e-170, 1e120, 3e-170]);
        assert!(d2(m.row(0), m.row(1)).is_finite() && d2(m.row(1), m.row(2)) == 0.0);
        let (s, _) = choose_scale(&m).unwrap();
        assert_eq!(distance(&m, s, 1, 2), 3e-170 - 1e-170);
        assert_eq!(distance(&m, s, 0, 1), 1e120);
    }

    #[test]
    fn overflowing_squares_are_scaled_down_and_exact() {
        let p = pts(2, &[1e200, 0.0, 3e200, 0.0, 0.0, 1e200]);
        assert!(d2(p.row(0), p.row(1)).is_infinite());
        let (s, diag) = choose_scale(&p).unwrap();
        assert!(s.k < 0);
        assert_eq!(distance(&p, s, 0, 1), 2e200);
        assert!(agrees(diag, 3e200f64.hypot(1e200), 2));
        assert!(agrees(distance(&p, s, 0, 2), 2f64.sqrt() * 1e200, 2));
        // Differences that overflow, and coordinates at f64's ends.
        let q = pts(1, &[-1e308, 1e308, 0.0]);
        assert!(choose_scale(&q).unwrap_err().contains("spread too far"));
        let r = pts(1, &[-f64::MAX / 4.0, f64::MAX / 4.0]);
        let (s, diag) = choose_scale(&r).unwrap();
        assert_eq!(
            (distance(&r, s, 0, 1), diag),
            (f64::MAX / 2.0, f64::MAX / 2.0)
        );
        assert_eq!(robust_distance(r.row(0), r.row(1)), f64::MAX / 2.0);
    }

    #[test]
    fn any_scale_that_fits_gives_the_same_bits() {
        // Scaled up or down by any k in range: the unscaled results' bits.
        let p = Points::generated(20, 4, 9);
        for k in [-400, -3, 5, 300] {
            let s = Scale { k };
            for (i, j) in [(0, 1), (3, 17), (19, 2)] {
                let plain = d2(p.row(i), p.row(j)).sqrt();
                assert_eq!(distance(&p, s, i, j).to_bits(), plain.to_bits());
            }
        }
    }

    #[test]
    fn what_no_scale_holds_is_refused() {
        let cases: [(Points, &str); 4] = [
            // A tiny difference and a huge extent in one coordinate ...
            (
                pts(1, &[0.0, 1e-200, 1e200]),
                "coordinate 0's values 0e0 and 1e-200",
            ),
            // ... or in two.
            (
                pts(2, &[0.0, 0.0, 0.0, 3e-170, 1e150, 0.0]),
                "and coordinate 0 from 0e0 to 1e150",
            ),
            // A coordinate too large to scale up by what a tiny one needs.
            (
                pts(2, &[1e300, 0.0, 1e300, 1e-170]),
                "would overflow coordinate 0's 1e300",
            ),
            // Subnormal differences.
            (pts(1, &[0.0, 1e-310]), "below f64's normal range"),
        ];
        for (p, want) in cases {
            let err = choose_scale(&p).unwrap_err();
            assert!(err.contains(want), "{err} lacks {want}");
        }
        // A subnormal coordinate far from the others is harmless.
        assert!(choose_scale(&pts(1, &[1e-310, 1.0, 2.0])).is_ok());
        // All points equal: no differences at all.
        assert_eq!(
            choose_scale(&pts(2, &[7.0, 1e300, 7.0, 1e300])),
            Ok((Scale::ONE, 0.0))
        );
    }

    #[test]
    fn the_reference_distance_neither_underflows_nor_overflows() {
        assert_eq!(robust_distance(&[0.0], &[3e-170]), 3e-170);
        assert_eq!(robust_distance(&[3.0, 0.0], &[0.0, 4.0]), 5.0);
        assert_eq!(robust_distance(&[1e200, 0.0], &[0.0, 0.0]), 1e200);
        assert_eq!(robust_distance(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        let d = robust_distance(&[0.0, 0.0], &[1e-160, 1e-160]);
        assert!(agrees(d, 2f64.sqrt() * 1e-160, 2));
        // What the unscaled kernel reported for the points fails.
        assert!(!agrees(0.0, 3e-170, 1));
        assert!(!agrees(d2(&[0.0], &[1e-160]).sqrt(), 1e-160, 1));
        assert!(agrees(1.0 + f64::EPSILON, 1.0, 1));
    }
}
