//! `parsim pairs --rmax R`, the pure part: the histogram of the pairs
//! closer than R counted over a grid of cells of side about R / [`REFINE`],
//! without meeting every pair. No MPI here.
//!
//! The points are sorted into cells of a grid over their first (up to 3)
//! coordinates; each cell has the bounding box of its points in every
//! coordinate. A cell meets only the cells up to [`Grid::reach`] cells
//! away along each gridded axis (farther ones hold no pair closer than R),
//! and each of its points meets each such cell:
//! - when the point's whole range of distances to the cell's box is R or
//!   beyond, the cell is skipped (its pairs are beyond);
//! - when the whole range falls in one bin, the cell's points are counted
//!   there in bulk, without a distance;
//! - else each distance is computed as the ring's kernel computes it
//!   (`super::kernel::d2`'s sum, in the order of k, no FMA: the same bits)
//!   and binned by [`Histogram::add`].
//!
//! Exactness, pair for pair as the ring with the same binning: the range
//! is bounded in floating point, not in exact arithmetic. [`near_d2`] and
//! [`far_d2`] sum per-coordinate gaps and spans like the kernel sums
//! differences, and for points inside the boxes each rounded difference is
//! at least the gap and at most the span (rounding is monotone), so each
//! rounded square and partial sum is too: the bounds bracket the very
//! squared distance the kernel computes. On top of that proof each bound
//! is widened by a relative 2^-40 ([`widen`]). The bin and the "beyond"
//! test are non-decreasing in d, and so is the rounded square root, so a
//! pair whose bounds land in one bin lands there itself.

use std::ops::Range;

use super::kernel::Histogram;
use super::tree::box_d2;

/// Cells per R along each gridded axis (the grid is coarsened when the
/// cells would outnumber [`MAX_CELLS_PER_POINT`] x N). Measured on 1 rank
/// at N = 3e5, R = 0.05, 20 bins in the unit cube (CPU time of the run,
/// the tree's neighbours 0.43 s of it): 1 took 0.94 s, 1.25 1.04, 1.5
/// 1.10, 2 1.37, 3 2.12, 0.75 1.05: the cost per cell and per point
/// against a cell outweighs the distances finer cells spare.
pub const REFINE: f64 = 1.0;

/// Cells at most per point (and at least [`MIN_CELLS`]): the grid stays
/// O(N) in memory however small R is.
pub const MAX_CELLS_PER_POINT: usize = 2;
const MIN_CELLS: usize = 1024;

/// Coordinates the grid is laid over (the others are only in the boxes).
pub const GRIDDED: usize = 3;

/// The points sorted into cells, each cell's box.
pub struct Grid {
    dim: usize,
    /// Cells along each gridded axis (1 beyond the point's dimension).
    m: [usize; GRIDDED],
    /// Cells a pair closer than R can be apart along an axis, at most.
    pub reach: usize,
    /// Cell c's points are `start[c]..start[c + 1]` in `cols`.
    start: Vec<usize>,
    /// The points in cell order, coordinate-major (`cols[k * n + i]`).
    cols: Vec<f64>,
    n: usize,
    /// Each cell's box: lo.., hi.. (dim each; empty cells +inf, -inf).
    boxes: Vec<f64>,
    /// Squared distances above this are beyond R surely ([`far_beyond`]).
    beyond2: f64,
}

/// Below this many points a cell's distances are computed rather than
/// its range decided (cheaper than two roots).
const DECIDE_FROM: usize = 4;

/// A squared distance above which the widened lower bound's root is R or
/// more, with no root taken: R^2 rounded, widened up twice (the root of
/// anything above is above R by a relative 2^-41, far beyond a rounding).
pub fn far_beyond(rmax: f64) -> f64 {
    widen(widen(rmax * rmax, false), false)
}

/// Widen a bound by a relative 2^-40 (down for `lower`, up otherwise): on
/// top of the proof that the bounds hold, so a slip of a rounding or two
/// could not count a pair in the wrong bin.
#[inline(always)]
pub fn widen(d2: f64, lower: bool) -> f64 {
    const E: f64 = 1.0 / (1u64 << 40) as f64;
    if lower {
        d2 * (1.0 - E)
    } else {
        d2 * (1.0 + E)
    }
}

/// A lower bound of the squared distance the kernel computes between the
/// point `x` and any point of the box `b` (lo.., hi..): the gaps, squared
/// and summed in the order of k.
#[inline(always)]
pub fn near_d2(x: &[f64], b: &[f64]) -> f64 {
    let dim = x.len();
    let mut d = 0.0;
    for k in 0..dim {
        let (lo, hi) = (b[k], b[dim + k]);
        let t = if x[k] < lo {
            lo - x[k]
        } else if x[k] > hi {
            x[k] - hi
        } else {
            0.0
        };
        d += t * t;
    }
    d
}

/// An upper bound of the same: the farther side of the box along each
/// coordinate, squared and summed in the order of k.
#[inline(always)]
pub fn far_d2(x: &[f64], b: &[f64]) -> f64 {
    let dim = x.len();
    let mut d = 0.0;
    for k in 0..dim {
        let t = (x[k] - b[k]).max(b[dim + k] - x[k]);
        d += t * t;
    }
    d
}

/// An upper bound of the squared distance the kernel computes between any
/// point of box `a` and any of box `b`: the farther spans, squared and
/// summed in the order of k.
#[inline(always)]
pub fn box_far_d2(a: &[f64], b: &[f64]) -> f64 {
    let dim = a.len() / 2;
    let mut d = 0.0;
    for k in 0..dim {
        let t = (a[dim + k] - b[k]).max(b[dim + k] - a[k]);
        d += t * t;
    }
    d
}

/// What a point does with a cell whose squared distances to it lie in
/// [near, far] (the bounds, unwidened): skip it, count it in bulk in a bin,
/// or compute its distances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Beyond,
    Bulk(usize),
    Each,
}

/// The decision for squared distances in [near, far] (see the module's
/// comment for why it is exact).
#[inline(always)]
pub fn decide(h: &Histogram, near: f64, far: f64) -> Decision {
    let lo = h.bin(widen(near, true).sqrt());
    let Some(a) = lo else {
        return Decision::Beyond;
    };
    match h.bin(widen(far, false).sqrt()) {
        Some(b) if b == a => Decision::Bulk(a),
        _ => Decision::Each,
    }
}

impl Grid {
    /// The grid of the n points of `xs` (row-major, `dim` each, scaled as
    /// the kernel meets them) for distances below `rmax` (> 0).
    pub fn new(xs: &[f64], dim: usize, rmax: f64) -> Self {
        let n = xs.len() / dim;
        let g = dim.min(GRIDDED);
        let mut lo = [0.0; GRIDDED];
        let mut ext = [0.0f64; GRIDDED];
        for k in 0..g {
            let col = xs.iter().skip(k).step_by(dim);
            lo[k] = col.clone().fold(f64::INFINITY, |a, &b| a.min(b));
            ext[k] = col.fold(f64::NEG_INFINITY, |a, &b| a.max(b)) - lo[k];
        }
        let most = (MAX_CELLS_PER_POINT * n).max(MIN_CELLS) as f64;
        let mut w = rmax / REFINE;
        let cells = |w: f64| ext.map(|e| ((e / w).floor() + 1.0).min(1e9));
        while cells(w)[..g].iter().product::<f64>() > most {
            w *= 2.0;
        }
        let mut m = [1; GRIDDED];
        for (mk, c) in m.iter_mut().zip(cells(w)).take(g) {
            *mk = c as usize;
        }
        // Exactly, |x - y| < R puts x and y at most ceil(R / w) cells
        // apart; one more for the roundings of the cell's computation.
        let reach = (rmax / w).ceil() as usize + 1;
        let cell = |x: &[f64]| {
            let mut c = 0;
            for k in (0..g).rev() {
                let i = ((x[k] - lo[k]) / w) as usize;
                c = c * m[k] + i.min(m[k] - 1);
            }
            c
        };
        let ids: Vec<usize> = xs.chunks_exact(dim).map(cell).collect();
        let total = m.iter().product::<usize>();
        let mut start = vec![0usize; total + 1];
        for &c in &ids {
            start[c + 1] += 1;
        }
        for c in 0..total {
            start[c + 1] += start[c];
        }
        let mut at = start.clone();
        let mut cols = vec![0.0; n * dim];
        let empty = [vec![f64::INFINITY; dim], vec![f64::NEG_INFINITY; dim]].concat();
        let mut boxes = empty.repeat(total);
        for (x, &c) in xs.chunks_exact(dim).zip(&ids) {
            let i = at[c];
            at[c] += 1;
            let b = &mut boxes[2 * dim * c..][..2 * dim];
            for k in 0..dim {
                cols[k * n + i] = x[k];
                b[k] = b[k].min(x[k]);
                b[dim + k] = b[dim + k].max(x[k]);
            }
        }
        Self {
            dim,
            m,
            reach,
            start,
            cols,
            n,
            boxes,
            beyond2: far_beyond(rmax),
        }
    }

    pub fn cells(&self) -> usize {
        self.start.len() - 1
    }

    fn pts(&self, c: usize) -> Range<usize> {
        self.start[c]..self.start[c + 1]
    }

    fn bx(&self, c: usize) -> &[f64] {
        &self.boxes[2 * self.dim * c..][..2 * self.dim]
    }

    /// The cells cell c meets after itself: within `reach` along each
    /// gridded axis and later in the cells' order (each pair of cells once).
    #[inline(always)]
    fn ahead(&self, c: usize, mut f: impl FnMut(usize)) {
        let [m0, m1, m2] = self.m;
        let (i0, i1, i2) = (c % m0, c / m0 % m1, c / (m0 * m1));
        let r = self.reach;
        let span = |i: usize, m: usize| i.saturating_sub(r)..(i + r + 1).min(m);
        for j2 in span(i2, m2) {
            for j1 in span(i1, m1) {
                for j0 in span(i0, m0) {
                    let b = (j2 * m1 + j1) * m0 + j0;
                    if b > c {
                        f(b);
                    }
                }
            }
        }
    }

    /// Cells split into `p` contiguous runs of about equal work (a cell's
    /// points times the points of the cells it meets): run r.
    pub fn share(&self, p: usize, r: usize) -> Range<usize> {
        let mut work = Vec::with_capacity(self.cells() + 1);
        let mut sum = 0u64;
        work.push(0);
        for c in 0..self.cells() {
            let n = self.pts(c).len() as u64;
            if n > 0 {
                let mut met = n;
                self.ahead(c, |b| met += self.pts(b).len() as u64);
                sum += n * met;
            }
            work.push(sum);
        }
        let cut = |q: usize| {
            let target = (sum as u128 * q as u128 / p as u128) as u64;
            work.partition_point(|&w| w < target).min(self.cells())
        };
        cut(r)..if r + 1 == p { self.cells() } else { cut(r + 1) }
    }

    /// Count the pairs of the cells `cells` (each with itself and the cells
    /// ahead of it) into `h`; returns (distances computed, pairs counted in
    /// bulk). Pairs beyond R are not counted at all: their number is the
    /// pairs there are less those binned. A pair of cells is decided whole
    /// first (from their boxes' gaps and spans), then point by point.
    pub fn count(&self, cells: Range<usize>, h: &mut Histogram) -> (u64, u64) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked above).
                return unsafe { self.count_avx2(cells, h) };
            }
        }
        self.count_portable(cells, h)
    }

    /// `count` compiled for AVX2 (the same Rust: the same bits, no FMA).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn count_avx2(&self, cells: Range<usize>, h: &mut Histogram) -> (u64, u64) {
        self.count_portable(cells, h)
    }

    #[inline(always)]
    fn count_portable(&self, cells: Range<usize>, h: &mut Histogram) -> (u64, u64) {
        let mut tally = (0, 0);
        let (mut buf, mut met) = (Vec::new(), Vec::new());
        for a in cells {
            if self.pts(a).is_empty() {
                continue;
            }
            // The cells a meets, listed first: a closure per cell would
            // not be compiled for AVX2 with `count_avx2`.
            met.clear();
            met.push(a);
            self.ahead(a, |b| met.push(b));
            for &b in &met {
                self.cells_meet(a, b, h, &mut buf, &mut tally);
            }
        }
        tally
    }

    /// Cell a against cell b (a's pairs within itself when b is a): skipped,
    /// counted in bulk, or point by point.
    #[inline(always)]
    fn cells_meet(
        &self,
        a: usize,
        b: usize,
        h: &mut Histogram,
        buf: &mut Vec<f64>,
        tally: &mut (u64, u64),
    ) {
        let (na, nb) = (self.pts(a).len() as u64, self.pts(b).len() as u64);
        let (ba, bb) = (self.bx(a), self.bx(b));
        let whole = if a == b { na * (na - 1) / 2 } else { na * nb };
        let near = box_d2(ba, bb);
        if whole == 0 || near > self.beyond2 {
            return;
        }
        match decide(h, near, box_far_d2(ba, bb)) {
            Decision::Beyond => {}
            Decision::Bulk(k) => {
                h.counts[k] += whole;
                tally.1 += whole;
            }
            Decision::Each => self.cell_pair(a, b, h, buf, tally),
        }
    }

    /// Each point of cell a against cell b (its later points if b is a).
    #[inline(always)]
    fn cell_pair(
        &self,
        a: usize,
        b: usize,
        h: &mut Histogram,
        buf: &mut Vec<f64>,
        tally: &mut (u64, u64),
    ) {
        let mut x = [0.0; 64];
        let x = &mut x[..self.dim.min(64)];
        let mut row = vec![];
        for i in self.pts(a) {
            let x: &[f64] = if self.dim <= 64 {
                for (k, v) in x.iter_mut().enumerate() {
                    *v = self.cols[k * self.n + i];
                }
                x
            } else {
                row = (0..self.dim).map(|k| self.cols[k * self.n + i]).collect();
                &row
            };
            let js = if a == b {
                i + 1..self.start[b + 1]
            } else {
                self.pts(b)
            };
            self.point_cell(x, js, b, h, buf, tally);
        }
    }

    /// Point x against the points `js` of cell b.
    #[inline(always)]
    fn point_cell(
        &self,
        x: &[f64],
        js: Range<usize>,
        b: usize,
        h: &mut Histogram,
        buf: &mut Vec<f64>,
        (computed, bulk): &mut (u64, u64),
    ) {
        if js.is_empty() {
            return;
        }
        let bx = self.bx(b);
        let near = near_d2(x, bx);
        if near > self.beyond2 {
            return;
        }
        let decision = if js.len() < DECIDE_FROM {
            Decision::Each
        } else {
            decide(h, near, far_d2(x, bx))
        };
        match decision {
            Decision::Beyond => {}
            Decision::Bulk(k) => {
                h.counts[k] += js.len() as u64;
                *bulk += js.len() as u64;
            }
            Decision::Each => {
                *computed += js.len() as u64;
                self.squares(x, js, buf);
                // Above `beyond2` a pair is beyond R surely: no root, no
                // bin (the cells never count the pairs beyond). The others
                // are moved to the front first without a branch (most
                // pairs are beyond, unpredictably: a branch per pair
                // mispredicted often), then binned.
                let mut m = 0;
                for i in 0..buf.len() {
                    let d2 = buf[i];
                    buf[m] = d2;
                    m += usize::from(d2 <= self.beyond2);
                }
                for &d2 in &buf[..m] {
                    h.add(d2.sqrt());
                }
            }
        }
    }

    /// The squared distances of x to the points js, as the kernel computes
    /// them: the squares of the differences summed in the order of k (the
    /// first square is the sum's start: 0 + t*t is t*t); their roots are
    /// the kernel's distances.
    #[inline(always)]
    fn squares(&self, x: &[f64], js: Range<usize>, buf: &mut Vec<f64>) {
        buf.clear();
        buf.resize(js.len(), 0.0);
        for (k, &xk) in x.iter().enumerate() {
            let col = &self.cols[k * self.n + js.start..k * self.n + js.end];
            for (d, &y) in buf.iter_mut().zip(col) {
                let t = xk - y;
                *d += t * t;
            }
        }
    }
}

#[cfg(test)]
mod tests;
