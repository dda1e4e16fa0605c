//! `parsim integrate`, the pure part: quadrature rules as weighted sums
//! over points, cut into fixed chunks of point indices, and everything the
//! validation needs (exact integrals, closed forms of the discrete sums,
//! error bounds). No MPI here.
//!
//! Why chunks: the sum over N points is cut into chunks of `chunk` indices
//! whose size does not depend on the number of ranks; each chunk is summed
//! the same way whichever rank owns it, and rank 0 adds the chunk sums in
//! chunk order. So the result is bitwise identical on any number of ranks
//! (it depends on the chunk size, which is part of the problem, like a
//! seed).

use std::ops::Range;

use crate::expr::batch::{Arg, Batch, BLOCK};

/// The quadrature rule over N intervals of width h = (b - a) / N.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// h sum_{i<N} f(a + i h): the lessons' `integrate_f`; error O(h).
    Left,
    /// h sum_{i<N} f(a + (i + 1/2) h); error O(h^2).
    Midpoint,
    /// h (f0/2 + f1 + ... + f_{N-1} + fN/2); error O(h^2).
    Trapezoid,
    /// h/3 (f0 + 4 f1 + 2 f2 + ... + 4 f_{N-1} + fN), N even; error O(h^4).
    Simpson,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Left => "left",
            Rule::Midpoint => "midpoint",
            Rule::Trapezoid => "trapezoid",
            Rule::Simpson => "simpson",
        }
    }

    /// Points the rule evaluates for N intervals.
    pub fn points(self, n: u64) -> u64 {
        match self {
            Rule::Left | Rule::Midpoint => n,
            Rule::Trapezoid | Rule::Simpson => n + 1,
        }
    }

    /// Offset of point i in units of h (midpoint: i + 1/2).
    fn shift(self) -> f64 {
        if self == Rule::Midpoint {
            0.5
        } else {
            0.0
        }
    }

    /// The weighted sum is multiplied by h times this.
    pub fn scale(self) -> f64 {
        if self == Rule::Simpson {
            1.0 / 3.0
        } else {
            1.0
        }
    }

    /// The derivative whose maximum bounds the rule's error, and the
    /// bound's factor c: |error| <= c (b - a) h^p max|f^(k)|, (k, p, c).
    pub fn error_term(self) -> (usize, i32, f64) {
        match self {
            Rule::Left => (1, 1, 0.5),
            Rule::Midpoint => (2, 2, 1.0 / 24.0),
            Rule::Trapezoid => (2, 2, 1.0 / 12.0),
            Rule::Simpson => (4, 4, 1.0 / 180.0),
        }
    }
}

/// The lessons' integrand x^2 - x, fused (one rounding: see
/// [`Grid::fused`]), as the AVX2 kernel computes it.
#[inline(always)]
pub fn lesson(x: f64) -> f64 {
    x.mul_add(x, -x)
}

/// The grid of points: x_i = a + (i + shift) h, i in 0..points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub a: f64,
    pub b: f64,
    pub n: u64,
    pub h: f64,
    pub rule: Rule,
    /// Points as fma(i, h, a), one rounding (the x^2 - x kernel, where the
    /// fused form halves the floating-point operations); else a + i*h as
    /// the lessons write it. Equal when a = 0, the lessons' case.
    pub fused: bool,
}

impl Grid {
    pub fn new(a: f64, b: f64, n: u64, rule: Rule) -> Self {
        Self {
            a,
            b,
            n,
            h: (b - a) / n as f64,
            rule,
            fused: false,
        }
    }

    pub fn points(&self) -> u64 {
        self.rule.points(self.n)
    }

    /// Point i, computed as the lessons do: a + i*dx (one multiply, one
    /// add; no FMA).
    pub fn x(&self, i: u64) -> f64 {
        self.point(i as f64 + self.rule.shift())
    }

    /// The point at (fractional) index `idx`.
    #[inline(always)]
    pub fn point(&self, idx: f64) -> f64 {
        if self.fused {
            self.point_fused(idx)
        } else {
            self.point_plain(idx)
        }
    }

    /// [`Grid::point`] of a fused grid.
    #[inline(always)]
    fn point_fused(&self, idx: f64) -> f64 {
        idx.mul_add(self.h, self.a)
    }

    /// [`Grid::point`] of a grid that is not fused.
    #[inline(always)]
    fn point_plain(&self, idx: f64) -> f64 {
        self.a + idx * self.h
    }

    /// The weight of point i in the sum (before h and the rule's scale).
    pub(super) fn weight(&self, i: u64) -> f64 {
        match self.rule {
            Rule::Left | Rule::Midpoint => 1.0,
            Rule::Trapezoid if i == 0 || i == self.n => 0.5,
            Rule::Trapezoid => 1.0,
            Rule::Simpson if i == 0 || i == self.n => 1.0,
            Rule::Simpson if i % 2 == 1 => 4.0,
            Rule::Simpson => 2.0,
        }
    }

    /// The integral estimate from the weighted sum of every point.
    pub fn estimate(&self, weighted: f64) -> f64 {
        weighted * self.h * self.rule.scale()
    }
}

/// Lanes of the chunk sum: independent partial sums (four AVX2 vectors in
/// the x^2 - x kernel). Fixed, so the sum's order is.
pub(super) const LANES: usize = 16;

/// The weighted sum of f over the points `range` of `grid`, in a fixed
/// order: lane l sums points start + l, start + l + 16, ...; the lanes are
/// then combined in lane order with their weights. Depends only on the
/// range, never on which rank computes it.
#[inline(always)]
pub fn chunk_sum(f: &impl Fn(f64) -> f64, grid: &Grid, range: Range<u64>) -> f64 {
    let mut acc = [0.0f64; LANES];
    let full = (range.end - range.start) / LANES as u64;
    let shift = grid.rule.shift();
    // Point indices as exact f64 counters (indices < 2^53): converting a
    // u64 per point would cost more than the integrand.
    let mut idx: [f64; LANES] = std::array::from_fn(|l| (range.start + l as u64) as f64 + shift);
    for _ in 0..full {
        for l in 0..LANES {
            acc[l] += f(grid.point(idx[l]));
            idx[l] += LANES as f64;
        }
    }
    combine_lanes(f, grid, range, full, acc)
}

/// The tail of a chunk (after `full` rounds of the lanes), then the lanes
/// combined in lane order with their weights, then the end points'
/// weights corrected.
#[inline(always)]
fn combine_lanes(
    f: &impl Fn(f64) -> f64,
    grid: &Grid,
    range: Range<u64>,
    full: u64,
    mut acc: [f64; LANES],
) -> f64 {
    let tail = range.start + full * LANES as u64;
    for (l, i) in (tail..range.end).enumerate() {
        acc[l] += f(grid.x(i));
    }
    // Interior weights depend only on the parity of the index (Simpson),
    // and lane l holds indices of one parity (start + l + 16k).
    let mut sum = 0.0;
    for (l, s) in acc.iter().enumerate() {
        let w = match grid.rule {
            Rule::Simpson if (range.start + l as u64) % 2 == 1 => 4.0,
            Rule::Simpson => 2.0,
            _ => 1.0,
        };
        sum += w * s;
    }
    // The end points' weights differ from the interior ones.
    for end in [0, grid.n] {
        if matches!(grid.rule, Rule::Trapezoid | Rule::Simpson) && range.contains(&end) {
            let interior = if grid.rule == Rule::Simpson { 2.0 } else { 1.0 };
            sum -= (interior - grid.weight(end)) * f(grid.x(end));
        }
    }
    sum
}

/// [`chunk_sum`] compiled for AVX2 where the CPU has it (the same
/// arithmetic: no FMA contraction, so the same bits), else the portable
/// build.
pub fn chunk_sum_fast(f: &impl Fn(f64) -> f64, grid: &Grid, range: Range<u64>) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { chunk_sum_avx2(f, grid, range) };
        }
    }
    chunk_sum(f, grid, range)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn chunk_sum_avx2(f: &impl Fn(f64) -> f64, grid: &Grid, range: Range<u64>) -> f64 {
    chunk_sum(f, grid, range)
}

/// [`chunk_sum`] of x^2 - x (the lessons' f, the benchmark) on a fused
/// grid: the lanes' loop written with AVX2 + FMA intrinsics, since the
/// compiler's own vectorisation of it stays at two lanes. Lane for lane
/// the same operations in the same order as the portable loop
/// (x = fma(idx, h, a), fma(x, x, -x), acc += ...), so the same bits: a
/// unit test pins it. Four floating-point operations per four points: on
/// a core with two add and two multiply pipes, two points per cycle.
pub fn lesson_chunk_sum(grid: &Grid, range: Range<u64>) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { lesson_avx2::chunk_sum(grid, range) };
        }
    }
    chunk_sum(&lesson, grid, range)
}

#[cfg(target_arch = "x86_64")]
mod lesson_avx2 {
    use std::arch::x86_64::*;
    use std::ops::Range;

    use super::{combine_lanes, lesson, Grid, LANES};

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn chunk_sum(grid: &Grid, range: Range<u64>) -> f64 {
        let full = (range.end - range.start) / LANES as u64;
        let shift = grid.rule.shift();
        let base = range.start as f64 + shift;
        debug_assert!(grid.fused);
        let (a, h) = (_mm256_set1_pd(grid.a), _mm256_set1_pd(grid.h));
        let mut idx: [__m256d; 4] = std::array::from_fn(|v| {
            let b = base + 4.0 * v as f64;
            _mm256_setr_pd(b, b + 1.0, b + 2.0, b + 3.0)
        });
        let mut s = [_mm256_setzero_pd(); 4];
        let step = _mm256_set1_pd(LANES as f64);
        for _ in 0..full {
            for (sv, iv) in s.iter_mut().zip(idx.iter_mut()) {
                let x = _mm256_fmadd_pd(*iv, h, a);
                *sv = _mm256_add_pd(*sv, _mm256_fmsub_pd(x, x, x));
                *iv = _mm256_add_pd(*iv, step);
            }
        }
        let mut acc = [0.0f64; LANES];
        for (v, sv) in s.iter().enumerate() {
            _mm256_storeu_pd(acc.as_mut_ptr().add(4 * v), *sv);
        }
        combine_lanes(&lesson, grid, range, full, acc)
    }
}

/// [`chunk_sum`] of a user's expression with the batched evaluator
/// ([`crate::expr::Batch`]): the points of [`BLOCK`] / 16 rounds of the
/// lanes made at once (the same counters, the same `grid.point`), the
/// program run over them op by op, and the values added to the lanes in
/// the order the point-by-point loop adds them. So the same bits as
/// `chunk_sum(&|x| program.eval(x), ..)`, which the tail and the end
/// points still use (`f`). Compiled for AVX2 where the CPU has it.
pub fn batch_chunk_sum(
    batch: &Batch,
    f: &impl Fn(f64) -> f64,
    grid: &Grid,
    range: Range<u64>,
) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { batch_chunk_sum_avx2(batch, f, grid, range) };
        }
    }
    batch_chunk_sum_body(batch, f, grid, range)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn batch_chunk_sum_avx2(
    batch: &Batch,
    f: &impl Fn(f64) -> f64,
    grid: &Grid,
    range: Range<u64>,
) -> f64 {
    batch_chunk_sum_body(batch, f, grid, range)
}

#[inline(always)]
fn batch_chunk_sum_body(
    batch: &Batch,
    f: &impl Fn(f64) -> f64,
    grid: &Grid,
    range: Range<u64>,
) -> f64 {
    const ROUNDS: usize = BLOCK / LANES;
    let mut acc = [0.0f64; LANES];
    let full = (range.end - range.start) / LANES as u64;
    let shift = grid.rule.shift();
    let mut idx: [f64; LANES] = std::array::from_fn(|l| (range.start + l as u64) as f64 + shift);
    let mut xs = [0.0f64; BLOCK];
    let mut scratch = Vec::new();
    // Offsets 0, 1, 2, ... of a block's points: while every index is an
    // exact f64 (below 2^52, with the midpoint's half), counter + k is the
    // lane counter the point-by-point loop would hold, so x is computed
    // in one vectorised pass; past that, the lanes' counters themselves.
    let ks: [f64; BLOCK] = std::array::from_fn(|k| k as f64);
    let exact = (range.end as f64 + LANES as f64) < (1u64 << 52) as f64;
    let mut left = full;
    while left > 0 {
        let rounds = left.min(ROUNDS as u64) as usize;
        if exact {
            let base = idx[0];
            if grid.fused {
                for (x, k) in xs.iter_mut().zip(&ks) {
                    *x = grid.point_fused(base + k);
                }
            } else {
                for (x, k) in xs.iter_mut().zip(&ks) {
                    *x = grid.point_plain(base + k);
                }
            }
            idx.iter_mut().for_each(|i| *i += (rounds * LANES) as f64);
        } else {
            for round in xs.chunks_exact_mut(LANES).take(rounds) {
                for l in 0..LANES {
                    round[l] = grid.point(idx[l]);
                    idx[l] += LANES as f64;
                }
            }
        }
        batch.eval_lanes(&[Arg::Col(&xs)], rounds * LANES, &mut scratch, &mut acc);
        left -= rounds as u64;
    }
    combine_lanes(f, grid, range, full, acc)
}
