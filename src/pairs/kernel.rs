//! `parsim pairs`, the pure part: squared distances of a block of points
//! against another (the kernel), what each rank meets at each step of the
//! travelling-block ring (so that every pair is met exactly once), and what
//! a meeting leaves: nearest neighbours, a histogram of distances, rows of
//! the distance matrix. No MPI here.
//!
//! Every squared distance is the lessons' sum `sum_k (x_ik - x_jk)^2` in
//! the order of k, with no FMA, in whichever rank, block or vector lane it
//! is computed: d(i, j) and d(j, i) have the same bits (the squares of
//! opposite differences are equal), and every result is bitwise the same
//! on any number of ranks. Ties go to the smaller index, so the nearest
//! neighbours and the closest pair are too. The points arrive multiplied
//! by a power of two (`super::range`), so that no square under- or
//! overflows; the kernel does not know.

use std::ops::Range;

use crate::partition::split_range;

/// Rows of a block met in one pass of the kernel (their squared distances
/// to a run of columns stay in registers).
pub const G: usize = 4;
/// Columns per vector of the kernel.
pub const W: usize = 8;

/// N points in D dimensions, row-major (point i is `xs[i*dim..(i+1)*dim]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    pub n: usize,
    pub dim: usize,
    pub xs: Vec<f64>,
}

impl Points {
    pub fn row(&self, i: usize) -> &[f64] {
        &self.xs[i * self.dim..(i + 1) * self.dim]
    }

    /// `n` points uniform in [0, 1)^dim; point i from its own stream
    /// `rng::stream(seed, i)`, so any rank could make any point.
    pub fn generated(n: usize, dim: usize, seed: u64) -> Self {
        let mut xs = Vec::with_capacity(n * dim);
        for i in 0..n {
            let mut s = crate::rng::stream(seed, i as u64);
            xs.extend((0..dim).map(|_| crate::rng::unit_f64(rand::Rng::next_u64(&mut s))));
        }
        Self { n, dim, xs }
    }

    /// The first coordinate that is not a finite number: (row, column).
    pub fn first_non_finite(&self) -> Option<(usize, usize)> {
        let k = self.xs.iter().position(|x| !x.is_finite())?;
        Some((k / self.dim, k % self.dim))
    }

    /// The diagonal of the points' bounding box: no distance exceeds it
    /// (the histogram's range).
    pub fn diagonal(&self) -> f64 {
        let mut lo = vec![f64::INFINITY; self.dim];
        let mut hi = vec![f64::NEG_INFINITY; self.dim];
        for p in self.xs.chunks_exact(self.dim) {
            for (k, &x) in p.iter().enumerate() {
                lo[k] = lo[k].min(x);
                hi[k] = hi[k].max(x);
            }
        }
        lo.iter()
            .zip(&hi)
            .map(|(l, h)| (h - l) * (h - l))
            .sum::<f64>()
            .sqrt()
    }
}

/// The squared distance of two points, one by one: the reference the
/// kernel is pinned to.
pub fn d2(a: &[f64], b: &[f64]) -> f64 {
    let mut d = 0.0;
    for (x, y) in a.iter().zip(b) {
        let t = x - y;
        d += t * t;
    }
    d
}

/// The squared distance of two points multiplied by `unit` (the power of
/// two of `super::range::Scale`), as the kernel computes it from rows
/// scaled by it: `d2` when unit is 1.
pub fn d2_scaled(a: &[f64], b: &[f64], unit: f64) -> f64 {
    let mut d = 0.0;
    for (x, y) in a.iter().zip(b) {
        let t = x * unit - y * unit;
        d += t * t;
    }
    d
}

/// A block of points as the kernel's columns: coordinate-major, each
/// coordinate's run padded by W values, so a vector of W columns can start
/// anywhere in the block. This is also the form a block travels in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    /// Global index of the block's first point.
    pub first: usize,
    pub n: usize,
    pub dim: usize,
    pub data: Vec<f64>,
}

impl Columns {
    pub fn stride(n: usize) -> usize {
        n + W
    }

    /// Values a block of `n` points takes.
    pub fn len(n: usize, dim: usize) -> usize {
        dim * Self::stride(n)
    }

    pub fn from_rows(first: usize, dim: usize, rows: &[f64]) -> Self {
        let n = rows.len() / dim;
        let s = Self::stride(n);
        let mut data = vec![0.0; Self::len(n, dim)];
        for (j, p) in rows.chunks_exact(dim).enumerate() {
            for (k, &x) in p.iter().enumerate() {
                data[k * s + j] = x;
            }
        }
        Self {
            first,
            n,
            dim,
            data,
        }
    }

    /// A block whose data will arrive (zeros until then).
    pub fn empty(first: usize, n: usize, dim: usize) -> Self {
        Self {
            first,
            n,
            dim,
            data: vec![0.0; Self::len(n, dim)],
        }
    }
}

/// The part of a tile one rank computes: rows of its own block against
/// columns of another (or its own: `diag`, pairs i < j only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub rows: Range<usize>,
    pub cols: Range<usize>,
    pub diag: bool,
}

impl Piece {
    pub fn pairs(&self) -> u64 {
        let (r, c) = (self.rows.len() as u64, self.cols.len() as u64);
        if self.diag {
            r * r.saturating_sub(1) / 2
        } else {
            r * c
        }
    }
}

/// Steps of the ring after the first (own block against itself): each
/// rank meets the blocks up to P/2 places ahead, so every pair of blocks
/// meets once (symmetry halves the work).
pub fn ring_steps(p: usize) -> usize {
    p / 2
}

/// The block rank r holds at step s.
pub fn block_at(p: usize, r: usize, s: usize) -> usize {
    (r + s) % p
}

/// What rank r of p computes at step s, with `n_own` points of its own and
/// `n_other` in the block it holds. With P even, the two ranks P/2 apart
/// meet each other's block at the last step: each takes half of the pairs
/// (the lower rank its first half rows, the upper one the second half of
/// the lower's points), so neither idles.
pub fn piece(p: usize, r: usize, s: usize, n_own: usize, n_other: usize) -> Option<Piece> {
    let full = |diag| Piece {
        rows: 0..n_own,
        cols: 0..n_other,
        diag,
    };
    match s {
        0 => Some(full(true)),
        s if s > ring_steps(p) => None,
        s if p % 2 == 0 && 2 * s == p => Some(if r < p / 2 {
            Piece {
                rows: 0..n_own / 2,
                cols: 0..n_other,
                diag: false,
            }
        } else {
            Piece {
                rows: 0..n_own,
                cols: n_other / 2..n_other,
                diag: false,
            }
        }),
        _ => Some(full(false)),
    }
}

/// Global point ranges of the p blocks of n points.
pub fn block_range(n: usize, p: usize, b: usize) -> Range<usize> {
    split_range(n, p, b)
}

/// Nearest neighbour of every point: squared distance and index (ties to
/// the smaller index; `u64::MAX` until one is met).
#[derive(Debug, Clone, PartialEq)]
pub struct Nearest {
    pub d2: Vec<f64>,
    pub index: Vec<u64>,
}

impl Nearest {
    pub fn new(n: usize) -> Self {
        Self {
            d2: vec![f64::INFINITY; n],
            index: vec![u64::MAX; n],
        }
    }

    /// Point i met j at squared distance d.
    #[inline]
    pub(super) fn offer(&mut self, i: usize, d: f64, j: u64) {
        let (bd, bj) = (self.d2[i], self.index[i]);
        if d < bd || (d == bd && j < bj && d < f64::INFINITY) {
            self.d2[i] = d;
            self.index[i] = j;
        }
    }

    /// The closest pair (i < j, ties to the smallest (i, j)) and its
    /// squared distance. Among the pairs tied at the least distance, the
    /// smallest (a, b) has b as a's nearest neighbour (a smaller one would
    /// make a smaller pair), so looking at each point's neighbour is enough.
    pub fn closest(&self) -> Option<(u64, u64, f64)> {
        let mut best: Option<(f64, u64, u64)> = None;
        for (i, (&d, &j)) in self.d2.iter().zip(&self.index).enumerate() {
            if j == u64::MAX {
                continue;
            }
            let (a, b) = ((i as u64).min(j), (i as u64).max(j));
            if best.is_none_or(|(bd, ba, bb)| (d, a, b) < (bd, ba, bb)) {
                best = Some((d, a, b));
            }
        }
        best.map(|(d, a, b)| (a, b, d))
    }
}

/// Point i's nearest neighbour by brute force (squared distance, index),
/// the points scaled by `unit` as the ring meets them.
pub fn nearest_brute(points: &Points, i: usize, unit: f64) -> (f64, u64) {
    let mut best = (f64::INFINITY, u64::MAX);
    for j in (0..points.n).filter(|&j| j != i) {
        let d = d2_scaled(points.row(i), points.row(j), unit);
        if d < best.0 {
            best = (d, j as u64);
        }
    }
    best
}

/// Counts of pair distances in `bins` equal bins over [0, range]: a
/// distance d goes to bin floor(d * bins / range) (`bins / range` rounded
/// once), the last bin taking the range itself and anything rounding
/// above it. Without `--rmax` the range is the diagonal and every pair is
/// binned; with `--rmax R` it is R and a pair is binned only when d < R,
/// strictly (a pair at exactly R is beyond, as in Corrfunc's r < rmax):
/// the others are counted in `beyond`. Both the test and the bin are
/// non-decreasing in d, which is what lets `super::cells` count a range of
/// distances in bulk.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub counts: Vec<u64>,
    /// Pairs at distance R or more (`--rmax`; 0 without).
    pub beyond: u64,
    scale: f64,
    /// R (scaled), or +inf without `--rmax`.
    limit: f64,
}

impl Histogram {
    pub fn new(bins: usize, diagonal: f64) -> Self {
        Self {
            counts: vec![0; bins],
            beyond: 0,
            scale: if diagonal > 0.0 {
                bins as f64 / diagonal
            } else {
                0.0
            },
            limit: f64::INFINITY,
        }
    }

    /// Bins over [0, rmax] for the pairs at distance below `rmax` (> 0).
    pub fn within(bins: usize, rmax: f64) -> Self {
        Self {
            limit: rmax,
            ..Self::new(bins, rmax)
        }
    }

    /// The bin of distance d, or None when d is R or beyond.
    #[inline]
    pub fn bin(&self, d: f64) -> Option<usize> {
        (d < self.limit).then(|| ((d * self.scale) as usize).min(self.counts.len() - 1))
    }

    /// Count one pair at distance d.
    #[inline]
    pub fn add(&mut self, d: f64) {
        match self.bin(d) {
            Some(b) => self.counts[b] += 1,
            None => self.beyond += 1,
        }
    }

    /// R, with `--rmax`.
    pub fn rmax(&self) -> Option<f64> {
        (self.limit < f64::INFINITY).then_some(self.limit)
    }

    /// The bins' edges (bins + 1 values).
    pub fn edges(bins: usize, range: f64) -> Vec<f64> {
        (0..=bins).map(|k| range * k as f64 / bins as f64).collect()
    }
}

/// What a rank's meetings leave. `strip`: its rows of the distance matrix
/// (rows x `n_total`), when asked for.
pub struct Tally<'s> {
    pub nearest: &'s mut Nearest,
    pub histogram: Option<&'s mut Histogram>,
    pub strip: Option<&'s mut [f64]>,
    pub n_total: usize,
}

#[cfg(test)]
mod tests;
