//! `parsim pairs --algorithm tree`, the pure part: every point's nearest
//! neighbour without meeting every pair. The points are sorted along a
//! Morton (Z-order) curve of a grid over their bounding box, and a binary
//! tree of bounding boxes is built over cells of that grid down to leaves
//! of at most [`LEAF`] points; each query leaf walks the tree nearest
//! box first and skips every box that cannot hold a point nearer than the
//! leaf's current worst neighbour. No MPI here.
//!
//! Exactness, bit for bit as the ring ([`super::kernel`]):
//! - a pair's squared distance is [`super::kernel::d2`]'s sum, in the
//!   order of k, no FMA: the ring kernel's bits for the same pair (the
//!   squares of opposite differences are equal);
//! - each point's neighbour is the least (distance, index) over all other
//!   points, which is what the ring's `Nearest::offer` keeps whatever the
//!   order it meets them in: ties to the smaller index;
//! - so the answer does not depend on the order of the curve, the leaves,
//!   or which rank asks: any rank count gives the same bits.
//!
//! Pruning never skips a point that could win, ties included: the bound
//! [`box_d2`] is summed like the kernel's distance from per-coordinate
//! gaps `lo - hi` between the boxes, and for points inside them the
//! difference `x - y` is at least the gap exactly, so by the monotonicity
//! of rounding each rounded square, and each rounded partial sum, is at
//! least the bound's: the bound is at most the distance the kernel
//! computes, in floating point. On top of that proof the bound is shrunk by
//! a relative 2^-30 ([`MARGIN`]) before it is compared. A box is skipped
//! only when (bound, least index in it) is at least the query's current
//! (distance, index): then none of its points can be strictly better, so
//! many identical points (distance 0) only visit the boxes that hold a
//! smaller index.

use std::ops::Range;

use super::kernel::Nearest;

/// Points per leaf at most (a leaf is a cell of the Morton grid holding
/// no more): measured at N = 1e5 and 1e6 in 2-D and 3-D, 64 beat 32 and
/// 16 (the walk's cost per leaf outweighs the extra distances).
pub const LEAF: usize = 64;

/// The relative amount a bound is shrunk by before it prunes (see the
/// module's comment: the bound is exact without it).
pub const MARGIN: f64 = 1.0 - 1.0 / (1u64 << 30) as f64;

/// Morton key of a point's grid cell: `bits` bits per coordinate (of the
/// first `64 / bits` coordinates), interleaved, coordinate 0 the lowest.
/// `lo` and `inv` (cells per unit) map the bounding box onto the grid.
pub fn morton_key(x: &[f64], lo: &[f64], inv: &[f64], bits: u32) -> u64 {
    let top = (1u64 << bits) - 1;
    let used = x.len().min(64 / bits as usize);
    let cell = |k: usize| {
        let c = (x[k] - lo[k]) * inv[k];
        // NaN (a flat axis gives inv 0) and negatives go to 0.
        if c >= top as f64 {
            top
        } else if c > 0.0 {
            c as u64
        } else {
            0
        }
    };
    match used {
        2 if bits <= 32 => spread2(cell(0)) | spread2(cell(1)) << 1,
        3 if bits <= 21 => spread3(cell(0)) | spread3(cell(1)) << 1 | spread3(cell(2)) << 2,
        _ => {
            let mut key = 0u64;
            for b in 0..bits {
                for k in 0..used {
                    key |= ((cell(k) >> b) & 1) << (b as usize * used + k);
                }
            }
            key
        }
    }
}

/// The low 32 bits of v, one every second bit.
fn spread2(v: u64) -> u64 {
    let mut v = v & 0xffff_ffff;
    v = (v | v << 16) & 0x0000_ffff_0000_ffff;
    v = (v | v << 8) & 0x00ff_00ff_00ff_00ff;
    v = (v | v << 4) & 0x0f0f_0f0f_0f0f_0f0f;
    v = (v | v << 2) & 0x3333_3333_3333_3333;
    (v | v << 1) & 0x5555_5555_5555_5555
}

/// The low 21 bits of v, one every third bit.
fn spread3(v: u64) -> u64 {
    let mut v = v & 0x1f_ffff;
    v = (v | v << 32) & 0x1f_0000_0000_ffff;
    v = (v | v << 16) & 0x1f_0000_ff00_00ff;
    v = (v | v << 8) & 0x100f_00f0_0f00_f00f;
    v = (v | v << 4) & 0x10c3_0c30_c30c_30c3;
    (v | v << 2) & 0x1249_2492_4924_9249
}

/// Bits per coordinate of the Morton grid in `dim` dimensions.
pub fn key_bits(dim: usize) -> u32 {
    match dim {
        1 => 32,
        2 => 32,
        3 => 21,
        d => (64 / d).max(1) as u32,
    }
}

/// A lower bound of the squared distance of any point of box `a` to any
/// point of box `b` (each `[lo.., hi..]`, 2 x dim values), as the kernel
/// would compute it (see the module's comment). 0 when they overlap.
#[inline]
pub fn box_d2(a: &[f64], b: &[f64]) -> f64 {
    let dim = a.len() / 2;
    let mut d = 0.0;
    for k in 0..dim {
        let t = gap(a[k], a[dim + k], b[k], b[dim + k]);
        d += t * t;
    }
    d
}

/// The gap between the intervals [alo, ahi] and [blo, bhi] (0 if they meet).
#[inline(always)]
fn gap(alo: f64, ahi: f64, blo: f64, bhi: f64) -> f64 {
    if blo > ahi {
        blo - ahi
    } else if alo > bhi {
        alo - bhi
    } else {
        0.0
    }
}

/// The bound of a point against a box.
#[inline]
pub fn point_box_d2(x: &[f64], b: &[f64]) -> f64 {
    let dim = x.len();
    let mut d = 0.0;
    for k in 0..dim {
        let t = gap(x[k], x[k], b[k], b[dim + k]);
        d += t * t;
    }
    d
}

/// Whether a box at `bound` whose least point index is `least` can hold a
/// point better than `(d, j)` (strictly less in (distance, index)).
#[inline(always)]
pub fn may_beat(bound: f64, least: u64, (d, j): (f64, u64)) -> bool {
    let b = bound * MARGIN;
    b < d || (b == d && least < j)
}

/// The points along the curve, their leaves and the tree of boxes.
pub struct Tree {
    dim: usize,
    /// Points in curve order, row-major (as given: scaled).
    xs: Vec<f64>,
    /// Their indices in the input.
    ids: Vec<u64>,
    /// Each leaf's points as columns (LEAF values per coordinate, padded
    /// with +inf: never nearer), the form its scan vectorises over.
    cols: Vec<f64>,
    /// Each leaf's indices, padded with `u64::MAX`.
    col_ids: Vec<u64>,
    /// Nodes in preorder; node 0 the root.
    nodes: Vec<Node>,
    /// Each node's box: 2 x dim values (lo.., hi..).
    boxes: Vec<f64>,
    /// The node of each leaf, and its points (positions along the curve).
    leaf_node: Vec<u32>,
    leaf_pts: Vec<(u32, u32)>,
}

#[derive(Clone, Copy)]
struct Node {
    /// Its leaf's number (`u32::MAX`: not a leaf).
    leaf: u32,
    /// The second child (the first is the next node).
    right: u32,
    /// The least input index of its points.
    least: u64,
}

impl Tree {
    /// The tree of `n` points of `xs` (row-major, `dim` each).
    pub fn new(xs: &[f64], dim: usize) -> Self {
        let n = xs.len() / dim;
        let (lo, hi) = bounds(xs, dim);
        let bits = key_bits(dim);
        let cells = (1u64 << bits) as f64;
        let inv: Vec<f64> = (0..dim)
            .map(|k| {
                let w = hi[k] - lo[k];
                if w > 0.0 {
                    cells / w
                } else {
                    0.0
                }
            })
            .collect();
        let mut order: Vec<(u64, u64)> = xs
            .chunks_exact(dim)
            .enumerate()
            .map(|(i, x)| (morton_key(x, &lo, &inv, bits), i as u64))
            .collect();
        order.sort_unstable();
        let mut sorted = Vec::with_capacity(xs.len());
        for &(_, i) in &order {
            sorted.extend_from_slice(&xs[i as usize * dim..][..dim]);
        }
        let (keys, ids): (Vec<u64>, Vec<u64>) = order.into_iter().unzip();
        let mut t = Tree {
            dim,
            xs: sorted,
            ids,
            cols: Vec::new(),
            col_ids: Vec::new(),
            nodes: Vec::with_capacity(4 * n / LEAF + 1),
            boxes: Vec::with_capacity(8 * dim * n / LEAF + 1),
            leaf_node: Vec::new(),
            leaf_pts: Vec::new(),
        };
        t.build(0, n, &keys);
        t.columns();
        t
    }

    /// Each leaf's points as padded columns.
    fn columns(&mut self) {
        let (dim, leaves) = (self.dim, self.leaves());
        self.cols = vec![f64::INFINITY; leaves * LEAF * dim];
        self.col_ids = vec![u64::MAX; leaves * LEAF];
        for l in 0..leaves {
            for (c, i) in self.leaf(l).enumerate() {
                for k in 0..dim {
                    self.cols[(l * dim + k) * LEAF + c] = self.xs[i * dim + k];
                }
                self.col_ids[l * LEAF + c] = self.ids[i];
            }
        }
    }

    pub fn leaves(&self) -> usize {
        self.leaf_node.len()
    }

    /// Points of leaf l (positions along the curve).
    fn leaf(&self, l: usize) -> Range<usize> {
        let (a, b) = self.leaf_pts[l];
        a as usize..b as usize
    }

    fn bx(&self, node: usize) -> &[f64] {
        &self.boxes[2 * self.dim * node..][..2 * self.dim]
    }

    /// Build the subtree over points a..b (along the curve, `keys` theirs);
    /// returns its node. A range splits where its keys' highest differing
    /// bit turns on, so every node is a cell of the Morton grid (tight
    /// boxes that barely overlap); equal keys split in the middle.
    fn build(&mut self, a: usize, b: usize, keys: &[u64]) -> usize {
        let me = self.nodes.len();
        let dim = self.dim;
        self.nodes.push(Node {
            leaf: u32::MAX,
            right: 0,
            least: u64::MAX,
        });
        self.boxes.extend(std::iter::repeat_n(0.0, 2 * dim));
        let (bx, least) = if b - a <= LEAF {
            self.nodes[me].leaf = self.leaf_node.len() as u32;
            self.leaf_node.push(me as u32);
            self.leaf_pts.push((a as u32, b as u32));
            let (l, h) = bounds(&self.xs[a * dim..b * dim], dim);
            let least = self.ids[a..b].iter().copied().min().unwrap_or(u64::MAX);
            ([l, h].concat(), least)
        } else {
            let (ka, kb) = (keys[a], keys[b - 1]);
            let mid = if ka == kb {
                (a + b) / 2
            } else {
                let bit = 63 - (ka ^ kb).leading_zeros();
                a + keys[a..b].partition_point(|k| (k >> bit) & 1 == 0)
            };
            let c0 = self.build(a, mid, keys);
            let c1 = self.build(mid, b, keys);
            self.nodes[me].right = c1 as u32;
            let (ba, bb) = (self.bx(c0), self.bx(c1));
            let mut bx = vec![0.0; 2 * dim];
            for k in 0..dim {
                bx[k] = ba[k].min(bb[k]);
                bx[dim + k] = ba[dim + k].max(bb[dim + k]);
            }
            (bx, self.nodes[c0].least.min(self.nodes[c1].least))
        };
        self.boxes[2 * dim * me..][..2 * dim].copy_from_slice(&bx);
        self.nodes[me].least = least;
        me
    }

    /// Every point of leaves `queries` offered its nearest neighbour into
    /// `nearest` (indexed by input index); returns the distances computed.
    pub fn nearest(&self, queries: Range<usize>, nearest: &mut Nearest) -> u64 {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked above).
                return unsafe { self.nearest_avx2(queries, nearest) };
            }
        }
        self.nearest_portable(queries, nearest)
    }

    /// The same Rust compiled for AVX2 (no FMA: the sums' bits stay).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn nearest_avx2(&self, queries: Range<usize>, nearest: &mut Nearest) -> u64 {
        self.nearest_portable(queries, nearest)
    }

    #[inline(always)]
    fn nearest_portable(&self, queries: Range<usize>, nearest: &mut Nearest) -> u64 {
        let mut q = Query::new();
        let mut met = 0;
        for l in queries {
            met += self.query_leaf(l, &mut q);
            for (s, i) in self.leaf(l).enumerate() {
                nearest.offer(self.ids[i] as usize, q.best[s].0, q.best[s].1);
            }
        }
        met
    }

    /// Leaf l's points' neighbours into `q.best`: the tree walked nearest
    /// box first, boxes that cannot beat the leaf's worst skipped.
    #[inline(always)]
    fn query_leaf(&self, l: usize, q: &mut Query) -> u64 {
        let pts = self.leaf(l);
        q.best.clear();
        q.best.resize(pts.len(), (f64::INFINITY, u64::MAX));
        let qbox = self.bx(self.leaf_node[l] as usize);
        let mut worst = (f64::INFINITY, u64::MAX);
        let mut met = 0;
        q.stack.clear();
        q.stack.push((0.0, 0));
        while let Some((bound, node)) = q.stack.pop() {
            let nd = self.nodes[node as usize];
            if !may_beat(bound, nd.least, worst) {
                continue;
            }
            if nd.leaf != u32::MAX {
                met += self.scan(pts.clone(), node as usize, q);
                worst = q
                    .best
                    .iter()
                    .fold((0.0, 0), |w, &b| if b > w { b } else { w });
                continue;
            }
            let (a, b) = (node as usize + 1, nd.right as usize);
            let (da, db) = (box_d2(qbox, self.bx(a)), box_d2(qbox, self.bx(b)));
            let key = |d: f64, c: usize| (d, self.nodes[c].least);
            // The nearer child on top of the stack.
            let (near, far) = if key(da, a) <= key(db, b) {
                ((da, a), (db, b))
            } else {
                ((db, b), (da, a))
            };
            for (d, c) in [far, near] {
                if may_beat(d, self.nodes[c].least, worst) {
                    q.stack.push((d, c as u32));
                }
            }
        }
        met
    }

    /// The query points `pts` against leaf `node`'s points; returns the
    /// distances computed.
    #[inline(always)]
    fn scan(&self, pts: Range<usize>, node: usize, q: &mut Query) -> u64 {
        let nd = self.nodes[node];
        let l = nd.leaf as usize;
        let cand = self.leaf(l);
        let (dim, bx) = (self.dim, self.bx(node));
        let cols: &[f64] = &self.cols[l * dim * LEAF..][..dim * LEAF];
        let ids: &[u64; LEAF] = self.col_ids[l * LEAF..][..LEAF].try_into().unwrap();
        let mut met = 0;
        for (s, i) in pts.enumerate() {
            let x = &self.xs[i * dim..][..dim];
            if !may_beat(point_box_d2(x, bx), nd.least, q.best[s]) {
                continue;
            }
            let mut d = match dim {
                1 => leaf_d2::<1>(x, cols),
                2 => leaf_d2::<2>(x, cols),
                3 => leaf_d2::<3>(x, cols),
                _ => leaf_d2_dyn(x, cols),
            };
            met += cand.len() as u64;
            if cand.contains(&i) {
                d[i - cand.start] = f64::INFINITY;
                met -= 1;
            }
            q.best[s] = least(&d, ids, q.best[s]);
        }
        met
    }
}

/// The squared distances of `x` to a leaf's LEAF columns (`cols`: LEAF
/// values per coordinate), summed in the order of k as the kernel sums:
/// the first square starts the sum (0 + t*t is t*t, bit for bit).
#[inline(always)]
fn leaf_d2<const D: usize>(x: &[f64], cols: &[f64]) -> [f64; LEAF] {
    let x: &[f64; D] = x.try_into().unwrap();
    let cols: &[f64] = &cols[..D * LEAF];
    let mut d = [0.0; LEAF];
    let c0: &[f64; LEAF] = cols[..LEAF].try_into().unwrap();
    for c in 0..LEAF {
        let t = x[0] - c0[c];
        d[c] = t * t;
    }
    for k in 1..D {
        let ck: &[f64; LEAF] = cols[k * LEAF..][..LEAF].try_into().unwrap();
        for c in 0..LEAF {
            let t = x[k] - ck[c];
            d[c] += t * t;
        }
    }
    d
}

/// [`leaf_d2`] for any dimension.
#[inline(always)]
fn leaf_d2_dyn(x: &[f64], cols: &[f64]) -> [f64; LEAF] {
    let mut d = [0.0; LEAF];
    for (k, &xk) in x.iter().enumerate() {
        let ck: &[f64; LEAF] = cols[k * LEAF..][..LEAF].try_into().unwrap();
        for c in 0..LEAF {
            let t = xk - ck[c];
            d[c] = if k == 0 { t * t } else { d[c] + t * t };
        }
    }
    d
}

/// The least of `best` and the (distance, index) pairs of a leaf.
#[inline(always)]
fn least(d: &[f64; LEAF], ids: &[u64; LEAF], best: (f64, u64)) -> (f64, u64) {
    let m = d
        .iter()
        .fold(f64::INFINITY, |a, &b| if b < a { b } else { a });
    if m > best.0 || m == f64::INFINITY {
        return best;
    }
    let j = (0..LEAF)
        .filter(|&c| d[c] == m)
        .map(|c| ids[c])
        .min()
        .unwrap_or(u64::MAX);
    if m < best.0 {
        (m, j)
    } else {
        (m, j.min(best.1))
    }
}

/// A query's scratch: its points' best (d2, index) and the walk's stack
/// of (bound, node).
struct Query {
    best: Vec<(f64, u64)>,
    stack: Vec<(f64, u32)>,
}

impl Query {
    fn new() -> Self {
        Self {
            best: Vec::with_capacity(LEAF),
            stack: Vec::with_capacity(64),
        }
    }
}

/// The bounding box of row-major points: (lo, hi).
fn bounds(xs: &[f64], dim: usize) -> (Vec<f64>, Vec<f64>) {
    let mut lo = vec![f64::INFINITY; dim];
    let mut hi = vec![f64::NEG_INFINITY; dim];
    for p in xs.chunks_exact(dim) {
        for (k, &x) in p.iter().enumerate() {
            lo[k] = lo[k].min(x);
            hi[k] = hi[k].max(x);
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests;
