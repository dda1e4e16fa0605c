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
//! neighbours and the closest pair are too.

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
    fn offer(&mut self, i: usize, d: f64, j: u64) {
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

/// Point i's nearest neighbour by brute force (squared distance, index).
pub fn nearest_brute(points: &Points, i: usize) -> (f64, u64) {
    let mut best = (f64::INFINITY, u64::MAX);
    for j in (0..points.n).filter(|&j| j != i) {
        let d = d2(points.row(i), points.row(j));
        if d < best.0 {
            best = (d, j as u64);
        }
    }
    best
}

/// Counts of pair distances in `bins` equal bins over [0, diagonal]: a
/// distance d goes to bin floor(d * bins / diagonal), the last bin taking
/// the diagonal itself (and anything rounding above it).
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub counts: Vec<u64>,
    scale: f64,
}

impl Histogram {
    pub fn new(bins: usize, diagonal: f64) -> Self {
        Self {
            counts: vec![0; bins],
            scale: if diagonal > 0.0 {
                bins as f64 / diagonal
            } else {
                0.0
            },
        }
    }

    #[inline]
    pub fn bin(&self, d: f64) -> usize {
        ((d * self.scale) as usize).min(self.counts.len() - 1)
    }

    /// The bins' edges (bins + 1 values).
    pub fn edges(bins: usize, diagonal: f64) -> Vec<f64> {
        (0..=bins)
            .map(|k| diagonal * k as f64 / bins as f64)
            .collect()
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

/// Meet `rows` (this rank's block, row-major, first point `first`) with
/// the columns `cols` as `piece` says; what it leaves goes into `tally`.
/// `buf`: scratch, reused between calls.
pub fn meet(
    rows: &[f64],
    first: usize,
    cols: &Columns,
    piece: &Piece,
    tally: &mut Tally,
    buf: &mut Vec<f64>,
) {
    let dim = cols.dim;
    buf.resize(G * PS, 0.0);
    let (rr, cc) = (piece.rows.clone(), piece.cols.clone());
    for i0 in rr.clone().step_by(G) {
        let gn = G.min(rr.end - i0);
        let row = |g: usize| {
            let i = i0 + g.min(gn - 1);
            &rows[i * dim..(i + 1) * dim]
        };
        // Row g's first column that is a pair (none for padding rows).
        let from: [usize; G] = std::array::from_fn(|g| match (g < gn, piece.diag) {
            (false, _) => usize::MAX,
            (true, true) => (i0 + g + 1).max(cc.start),
            (true, false) => cc.start,
        });
        for p0 in (from[0]..cc.end).step_by(PANEL) {
            let group = Group {
                rows: [row(0), row(1), row(2), row(3)],
                from,
                end: (p0 + PANEL).min(cc.end),
                row_first: first + i0,
                block_first: first,
                diag: piece.diag,
            };
            meet_panel(&group, gn, cols, p0, tally, buf);
        }
    }
}

/// Columns per panel: a group's squared distances over a panel (G x
/// PANEL values, 16 KiB) stay in the L1 cache while they are used.
const PANEL: usize = 512;
/// Values per row of the panel buffer.
const PS: usize = PANEL + W;

/// One group of rows against the panel of columns p0..grp.end.
fn meet_panel(
    grp: &Group,
    gn: usize,
    cols: &Columns,
    p0: usize,
    tally: &mut Tally,
    buf: &mut [f64],
) {
    let end = grp.end;
    let row_min = group_d2(grp, cols, p0, buf, tally.nearest);
    for (g, &m) in row_min.iter().enumerate().take(gn) {
        let i = grp.row_first + g;
        if m <= tally.nearest.d2[i] && m < f64::INFINITY {
            let j = p0 + position_of(&buf[g * PS..g * PS + end - p0], m);
            tally.nearest.offer(i, m, (cols.first + j) as u64);
        }
    }
    let lo = |g: usize| grp.from[g].clamp(p0, end);
    if let Some(h) = tally.histogram.as_deref_mut() {
        for g in 0..gn {
            for &d in &buf[g * PS + lo(g) - p0..g * PS + end - p0] {
                let b = h.bin(d.sqrt());
                h.counts[b] += 1;
            }
        }
    }
    if let Some(strip) = tally.strip.as_deref_mut() {
        let n = tally.n_total;
        for g in 0..gn {
            let i = grp.row_first + g; // global
            let li = i - grp.block_first;
            for j in lo(g)..end {
                let d = buf[g * PS + j - p0].sqrt();
                strip[li * n + cols.first + j] = d;
                if grp.diag {
                    // The own block: its lower triangle too.
                    strip[j * n + i] = d;
                }
            }
        }
    }
}

/// The first index of `m` in `v` (which holds it), a vector at a time.
#[inline]
fn position_of(v: &[f64], m: f64) -> usize {
    let chunk = v
        .chunks(W)
        .position(|c| c.iter().fold(false, |h, &d| h | (d == m)))
        .expect("the least value is there");
    chunk * W + v[chunk * W..].iter().position(|&d| d == m).unwrap()
}

/// G rows met at once: their points, each one's first column that is a
/// pair, the columns' end, the global index of the first row and of the
/// first point of their block, whether the columns are that block.
struct Group<'a> {
    rows: [&'a [f64]; G],
    from: [usize; G],
    end: usize,
    row_first: usize,
    block_first: usize,
    diag: bool,
}

/// Squared distances of a group's rows against columns j0..end (vectors of
/// W from j0): into `out[g * stride + j]` (+inf where not a pair, up to
/// W - 1 values past the end); each row's least value (returned); each
/// column's nearest neighbour among the rows, offered where it may beat
/// the column's best (rarely, once the best is good).
#[inline]
fn group_d2(
    grp: &Group,
    cols: &Columns,
    j0: usize,
    out: &mut [f64],
    nearest: &mut Nearest,
) -> [f64; G] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked above).
            return unsafe { group_d2_avx2(grp, cols, j0, out, nearest) };
        }
    }
    group_d2_portable(grp, cols, j0, out, nearest)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn group_d2_avx2(
    grp: &Group,
    cols: &Columns,
    j0: usize,
    out: &mut [f64],
    nearest: &mut Nearest,
) -> [f64; G] {
    group_d2_portable(grp, cols, j0, out, nearest)
}

/// The kernel as plain Rust: LLVM keeps the G x W sums in registers and
/// vectorises over the W columns (no FMA: Rust never contracts). The first
/// coordinate's square starts each sum (0 + t*t is t*t, bit for bit).
// Indexed loops over the G x W sums: the form LLVM keeps in registers.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn group_d2_portable(
    grp: &Group,
    cols: &Columns,
    j0: usize,
    out: &mut [f64],
    nearest: &mut Nearest,
) -> [f64; G] {
    let (dim, s, end) = (cols.dim, Columns::stride(cols.n), grp.end);
    for r in grp.rows {
        assert_eq!(r.len(), dim);
    }
    assert!(dim >= 1 && end <= cols.n && end - j0 <= PANEL && out.len() >= G * PS);
    assert!(cols.data.len() >= dim * s);
    let masked_below = grp
        .from
        .iter()
        .copied()
        .filter(|&f| f != usize::MAX)
        .max()
        .unwrap_or(end);
    let partial = grp.from.contains(&usize::MAX);
    let cf = cols.first;
    // Row minima in 4 lanes (W = 8 would crowd the sums out of registers).
    let mut rmin = [[f64::INFINITY; 4]; G];
    let mut j = j0;
    while j < end {
        let mut acc = [[0.0f64; W]; G];
        let b: &[f64; W] = cols.data[j..][..W].try_into().unwrap();
        for g in 0..G {
            let x = grp.rows[g][0];
            for l in 0..W {
                let t = x - b[l];
                acc[g][l] = t * t;
            }
        }
        for k in 1..dim {
            let b: &[f64; W] = cols.data[k * s + j..][..W].try_into().unwrap();
            for g in 0..G {
                let x = grp.rows[g][k];
                for l in 0..W {
                    let t = x - b[l];
                    acc[g][l] += t * t;
                }
            }
        }
        if partial || j < masked_below || j + W > end {
            for g in 0..G {
                for l in 0..W {
                    if j + l < grp.from[g] || j + l >= end {
                        acc[g][l] = f64::INFINITY;
                    }
                }
            }
        }
        let mut cm = acc[0];
        for g in 0..G {
            out[g * PS + j - j0..][..W].copy_from_slice(&acc[g]);
            for l in 0..W {
                cm[l] = if acc[g][l] < cm[l] { acc[g][l] } else { cm[l] };
            }
            for l in 0..4 {
                let h = if acc[g][l + 4] < acc[g][l] {
                    acc[g][l + 4]
                } else {
                    acc[g][l]
                };
                rmin[g][l] = if h < rmin[g][l] { h } else { rmin[g][l] };
            }
        }
        let lanes = W.min(end - j);
        let hit = if lanes == W {
            let best: &[f64; W] = nearest.d2[cf + j..][..W].try_into().unwrap();
            (0..W).fold(false, |h, l| h | (cm[l] <= best[l]))
        } else {
            (0..lanes).any(|l| cm[l] <= nearest.d2[cf + j + l])
        };
        if hit {
            // From `out`, not `acc`: taking acc's address would keep it
            // out of registers.
            for l in 0..lanes {
                if cm[l] > nearest.d2[cf + j + l] {
                    continue;
                }
                // The first row holding the least value: the smallest index.
                let g = (0..G).position(|g| out[g * PS + j - j0 + l] == cm[l]);
                if let Some(g) = g {
                    nearest.offer(cf + j + l, cm[l], (grp.row_first + g) as u64);
                }
            }
        }
        j += W;
    }
    // Row minima from `out` (kept in registers through the loop they
    // would crowd out the sums).
    rmin.map(|r| r.iter().fold(f64::INFINITY, |a, &b| a.min(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, dim: usize, seed: u64) -> Points {
        Points::generated(n, dim, seed)
    }

    /// Every meeting of a ring of p ranks over `points`, as the ranks
    /// would do them, into one tally per rank.
    fn ring(
        points: &Points,
        p: usize,
        bins: usize,
        matrix: bool,
    ) -> Vec<(Nearest, Histogram, Vec<f64>)> {
        let (n, dim) = (points.n, points.dim);
        let diag = points.diagonal();
        (0..p)
            .map(|r| {
                let own = block_range(n, p, r);
                let rows = &points.xs[own.start * dim..own.end * dim];
                let mut nearest = Nearest::new(n);
                let mut hist = Histogram::new(bins.max(1), diag);
                let mut strip = vec![f64::NAN; if matrix { own.len() * n } else { 0 }];
                let mut buf = Vec::new();
                for s in 0..=ring_steps(p) {
                    let c = block_at(p, r, s);
                    let other = block_range(n, p, c);
                    let cols = Columns::from_rows(
                        other.start,
                        dim,
                        &points.xs[other.start * dim..other.end * dim],
                    );
                    let Some(pc) = piece(p, r, s, own.len(), other.len()) else {
                        continue;
                    };
                    let mut t = Tally {
                        nearest: &mut nearest,
                        histogram: (bins > 0).then_some(&mut hist),
                        strip: matrix.then_some(&mut strip[..]),
                        n_total: n,
                    };
                    meet(rows, own.start, &cols, &pc, &mut t, &mut buf);
                }
                (nearest, hist, strip)
            })
            .collect()
    }

    fn merged(parts: &[(Nearest, Histogram, Vec<f64>)], n: usize) -> (Nearest, Vec<u64>) {
        let mut all = Nearest::new(n);
        for (nn, _, _) in parts {
            for i in 0..n {
                all.offer(i, nn.d2[i], nn.index[i]);
            }
        }
        let mut counts = vec![0; parts[0].1.counts.len()];
        for (_, h, _) in parts {
            for (c, x) in counts.iter_mut().zip(&h.counts) {
                *c += x;
            }
        }
        (all, counts)
    }

    #[test]
    fn the_ring_meets_every_pair_once_on_any_number_of_ranks() {
        for p in 1..=7 {
            for n in [2, 3, 5, 9, 17, 40] {
                let mut met = vec![0u32; n * n];
                for r in 0..p {
                    let own = block_range(n, p, r);
                    for s in 0..=ring_steps(p) {
                        let other = block_range(n, p, block_at(p, r, s));
                        let Some(pc) = piece(p, r, s, own.len(), other.len()) else {
                            continue;
                        };
                        for i in pc.rows.clone() {
                            for j in pc.cols.clone() {
                                let (a, b) = (own.start + i, other.start + j);
                                if !pc.diag || j > i {
                                    met[a.min(b) * n + a.max(b)] += 1;
                                }
                            }
                        }
                    }
                }
                for a in 0..n {
                    for b in 0..n {
                        let want = u32::from(a < b);
                        assert_eq!(met[a * n + b], want, "p={p} n={n} pair ({a},{b})");
                    }
                }
            }
        }
    }

    #[test]
    fn the_kernel_gives_the_one_by_one_distances_bit_for_bit() {
        for (n, dim) in [(13, 1), (29, 2), (21, 3), (18, 100), (40, 7)] {
            let pts = random(n, dim, 3);
            let cols = Columns::from_rows(0, dim, &pts.xs);
            for start in [0, 1, 5, n - 1] {
                let mut out = vec![f64::NAN; G * PS];
                let rows = [pts.row(0), pts.row(1), pts.row(2), pts.row(n - 1)];
                let grp = Group {
                    rows,
                    from: [start; G],
                    end: n,
                    row_first: 0,
                    block_first: 0,
                    diag: false,
                };
                let mut nn = Nearest::new(n);
                let mins = group_d2(&grp, &cols, start, &mut out, &mut nn);
                for (g, r) in rows.iter().enumerate() {
                    let want: Vec<f64> = (start..n).map(|j| d2(r, pts.row(j))).collect();
                    for (j, w) in (start..n).zip(&want) {
                        assert_eq!(out[g * PS + j - start].to_bits(), w.to_bits());
                    }
                    let least = want.iter().fold(f64::INFINITY, |a, &b| a.min(b));
                    assert_eq!(mins[g].to_bits(), least.to_bits());
                }
                let mut port = vec![f64::NAN; G * PS];
                let mut nn2 = Nearest::new(n);
                group_d2_portable(&grp, &cols, start, &mut port, &mut nn2);
                for (a, b) in out.iter().zip(&port).take(n - start) {
                    assert_eq!(a.to_bits(), b.to_bits());
                }
                assert_eq!(nn, nn2);
            }
        }
    }

    #[test]
    fn neighbours_histogram_and_matrix_are_the_same_bits_for_any_p() {
        for (n, dim) in [(2, 1), (7, 2), (37, 3), (64, 5), (1100, 2)] {
            let pts = random(n, dim, 11);
            let one = ring(&pts, 1, 16, true);
            let (nn1, h1) = merged(&one, n);
            // Brute force: every point's neighbour, every distance.
            for i in 0..n {
                let (d, j) = nearest_brute(&pts, i);
                assert_eq!(
                    (nn1.d2[i].to_bits(), nn1.index[i]),
                    (d.to_bits(), j),
                    "n={n} i={i}"
                );
                for j in 0..n {
                    let want = if i == j {
                        0.0
                    } else {
                        d2(pts.row(i), pts.row(j)).sqrt()
                    };
                    let got = if i == j { 0.0 } else { one[0].2[i * n + j] };
                    assert_eq!(got.to_bits(), want.to_bits());
                }
            }
            assert_eq!(h1.iter().sum::<u64>(), (n * (n - 1) / 2) as u64);
            for p in 2..=5 {
                let parts = ring(&pts, p, 16, false);
                let (nn, h) = merged(&parts, n);
                assert_eq!(nn, nn1, "n={n} p={p}");
                assert_eq!(h, h1, "n={n} p={p}");
            }
        }
    }

    #[test]
    fn ties_go_to_the_smallest_indices() {
        // Points on a line at 0, 1, 2, 3: pairs (0,1), (1,2), (2,3) all at 1.
        let pts = Points {
            n: 4,
            dim: 1,
            xs: vec![3.0, 0.0, 1.0, 2.0],
        };
        for p in 1..=4 {
            let (nn, _) = merged(&ring(&pts, p, 0, false), 4);
            assert_eq!(nn.index, vec![3, 2, 1, 0]);
            assert_eq!(nn.closest(), Some((0, 3, 1.0)), "p={p}");
        }
        // Duplicates: distance 0, the first pair of them.
        let dup = Points {
            n: 5,
            dim: 2,
            xs: vec![0.0, 0.0, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5, 0.5],
        };
        let (nn, _) = merged(&ring(&dup, 3, 4, false), 5);
        assert_eq!(nn.closest(), Some((1, 3, 0.0)));
        assert_eq!(dup.diagonal(), 2f64.sqrt());
    }

    #[test]
    fn histogram_bins_cover_zero_to_the_diagonal() {
        let h = Histogram::new(4, 2.0);
        assert_eq!(
            [0.0, 0.49, 0.5, 1.99, 2.0, 2.5].map(|d| h.bin(d)),
            [0, 0, 1, 3, 3, 3]
        );
        assert_eq!(Histogram::edges(4, 2.0), vec![0.0, 0.5, 1.0, 1.5, 2.0]);
        let flat = Histogram::new(3, 0.0);
        assert_eq!(flat.bin(0.0), 0);
    }

    #[test]
    fn generated_points_do_not_depend_on_who_makes_them() {
        let all = Points::generated(10, 3, 5);
        let tail = Points::generated(10, 3, 5);
        assert_eq!(all, tail);
        assert!(all.xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert_ne!(Points::generated(10, 3, 6), all);
        let bad = Points {
            n: 2,
            dim: 2,
            xs: vec![0.0, 1.0, f64::NAN, 2.0],
        };
        assert_eq!(bad.first_non_finite(), Some((1, 0)));
    }
}
