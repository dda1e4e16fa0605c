//! The 3D field, its initial states, the 7-point explicit update and the
//! `sine` mode's exact solutions (pure; no MPI).
//!
//! The field is one buffer `[nz + 2g][ny + 2g][nx + 2g]` (`g` ghost
//! layers around the block: 1, or the time block's depth), x fastest, so the update's inner loop runs with unit
//! stride along a row and reads its six neighbours from six row slices.

use std::ops::Range;

use super::config::Init;
use super::decomp3d::Block3;
use super::plan3d::Config3d;
use super::source_term::SourceTerm;

/// A block of the field with `g` ghost layers on every face.
#[derive(Debug, Clone, PartialEq)]
pub struct Field3 {
    n: [usize; 3],
    g: usize,
    data: Vec<f64>,
}

impl Field3 {
    pub fn zeros(nx: usize, ny: usize, nz: usize) -> Self {
        Self::zeros_deep([nx, ny, nz], 1)
    }

    /// Zeros with `g >= 1` ghost layers (a time block's halo).
    pub fn zeros_deep(n: [usize; 3], g: usize) -> Self {
        assert!(g >= 1);
        Self {
            n,
            g,
            data: vec![0.0; n.iter().map(|m| m + 2 * g).product()],
        }
    }

    /// Ghost layers on every face.
    pub fn ghosts(&self) -> usize {
        self.g
    }

    /// The interior in storage indices.
    pub fn inside(&self) -> Box3 {
        self.n.map(|m| self.g..self.g + m)
    }

    /// Interior extents `[nx, ny, nz]`.
    pub fn extents(&self) -> [usize; 3] {
        self.n
    }

    /// Elements between rows (`nx + 2g`) and between planes.
    pub fn strides(&self) -> (usize, usize) {
        let row = self.n[0] + 2 * self.g;
        (row, row * (self.n[1] + 2 * self.g))
    }

    /// Storage index of `(i, j, k)` in storage coordinates (ghosts at 0).
    pub fn at(&self, i: usize, j: usize, k: usize) -> usize {
        let (row, plane) = self.strides();
        k * plane + j * row + i
    }

    /// Interior cell `(i, j, k)` (0-based, without ghosts).
    pub fn get(&self, i: usize, j: usize, k: usize) -> f64 {
        let g = self.g;
        self.data[self.at(i + g, j + g, k + g)]
    }

    /// Set interior cell `(i, j, k)` (0-based, without ghosts).
    pub fn set(&mut self, i: usize, j: usize, k: usize, v: f64) {
        let g = self.g;
        let at = self.at(i + g, j + g, k + g);
        self.data[at] = v;
    }

    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Every interior value, x fastest, then y, then z.
    pub fn interior(&self) -> impl Iterator<Item = f64> + Clone + '_ {
        let [nx, ny, nz, g] = [self.n[0], self.n[1], self.n[2], self.g];
        (g..nz + g).flat_map(move |k| {
            (g..ny + g).flat_map(move |j| {
                let a = self.at(g, j, k);
                self.data[a..a + nx].iter().copied()
            })
        })
    }

    /// The initial field of `block`, and its ghosts on global value walls
    /// at the walls' values (ghosts facing another rank or a periodic wall
    /// are the halo's, those of insulated and expression walls
    /// [`super::walls3d::WallFill3`]'s). An `--init` expression is filled
    /// over it by [`super::init_expr::fill3`].
    pub fn initial(cfg: &Config3d, block: &Block3) -> Self {
        Self::initial_deep(cfg, block, 1)
    }

    /// [`Field3::initial`] with `g` ghost layers: a wall's values in the
    /// layer next to the block (the only one a step reads).
    pub fn initial_deep(cfg: &Config3d, block: &Block3, g: usize) -> Self {
        let [nx, ny, nz] = [block.nx(), block.ny(), block.nz()];
        let mut f = Self::zeros_deep([nx, ny, nz], g);
        let o = [block.cols.start, block.rows.start, block.planes.start];
        for k in 0..nz {
            for j in 0..ny {
                for i in 0..nx {
                    f.set(i, j, k, initial_value(cfg, [o[0] + i, o[1] + j, o[2] + k]));
                }
            }
        }
        let n = [cfg.nx, cfg.ny, cfg.nz];
        let ends = [block.cols.end, block.rows.end, block.planes.end];
        for (face, wall) in cfg.walls.faces().into_iter().enumerate() {
            let Some(wall) = wall.value() else {
                continue;
            };
            let (axis, high) = (face / 2, face % 2 == 1);
            let on_wall = if high {
                ends[axis] == n[axis]
            } else {
                o[axis] == 0
            };
            if on_wall {
                f.fill_face(axis, if high { f.n[axis] + g } else { g - 1 }, wall);
            }
        }
        f
    }

    /// Set the whole storage layer `at` across `axis` (ghost edges
    /// included) to `v`.
    fn fill_face(&mut self, axis: usize, at: usize, v: f64) {
        let m = self.n.map(|n| n + 2 * self.g);
        for k in 0..m[2] {
            for j in 0..m[1] {
                for i in 0..m[0] {
                    if [i, j, k][axis] == at {
                        let a = self.at(i, j, k);
                        self.data[a] = v;
                    }
                }
            }
        }
    }
}

/// Initial temperature of global cell `g = [i, j, k]`.
///
/// `disk` in 3D is a sphere: 5 inside a radius of a sixth of the smallest
/// extent around the centre (integer halving, as the 2D disk), 65 outside.
/// With `--exact`, its u at t = 0 at the cell's centre.
pub fn initial_value(cfg: &Config3d, g: [usize; 3]) -> f64 {
    let n = [cfg.nx, cfg.ny, cfg.nz];
    if let Some(e) = &cfg.exact {
        let d = [cfg.dx, cfg.dy, cfg.dz];
        let [x, y, z] = [0, 1, 2].map(|a| (g[a] + 1) as f64 * d[a]);
        return e.eval(&[x, y, z, 0.0]);
    }
    match cfg.init {
        Init::Sine => sine_mode(cfg, g),
        // Filled over by `super::init_expr::fill3`.
        Init::Expr(_) | Init::File(_) => 0.0,
        Init::Disk => {
            let r = n.iter().min().copied().unwrap_or(0) as f64 / 6.0;
            let d2: f64 = (0..3)
                .map(|a| {
                    let d = g[a] as f64 - (n[a] / 2) as f64;
                    d * d
                })
                .sum();
            if d2 < r * r {
                5.0
            } else {
                65.0
            }
        }
    }
}

/// sin(pi x/Lx) sin(pi y/Ly) sin(pi z/Lz) at cell `g`, with x/Lx =
/// (i + 1)/(nx + 1) from integers (independent of how dx rounds).
pub fn sine_mode(cfg: &Config3d, g: [usize; 3]) -> f64 {
    let pi = std::f64::consts::PI;
    let n = [cfg.nx, cfg.ny, cfg.nz];
    (0..3)
        .map(|a| (pi * (g[a] + 1) as f64 / (n[a] + 1) as f64).sin())
        .product()
}

/// The factor one explicit step multiplies the sine mode by.
///
/// Derivation: the mode is a product `X(i) Y(j) Z(k)` of 1D sines, each an
/// eigenvector of its 1D second difference: `X(i-1) - 2 X(i) + X(i+1) =
/// -4 sin^2(pi / (2 (nx + 1))) X(i)` (zero at the walls, where the ghosts
/// hold 0). The 7-point update adds `c_a` times each axis' second
/// difference to the cell, so the three eigenvalues add:
/// `g = 1 - 4 cx sx^2 - 4 cy sy^2 - 4 cz sz^2` with `s_a = sin(pi / (2
/// (n_a + 1)))`: the sum of the three 1D decay rates `4 c_a s_a^2`, not
/// the product of the 1D factors `(1 - 4 c_a s_a^2)`, which differs by the
/// cross terms `16 cx cy sx^2 sy^2 + ...` (the factor of a split scheme
/// that sweeps one axis at a time). After `m` steps the field is the mode
/// times `g^m`.
pub fn discrete_growth(cfg: &Config3d) -> f64 {
    let pi = std::f64::consts::PI;
    let n = [cfg.nx, cfg.ny, cfg.nz];
    let c = cfg.coefficients();
    (0..3).fold(1.0, |g, a| {
        let s = (pi / (2.0 * (n[a] + 1) as f64)).sin();
        g - 4.0 * c[a] * s * s
    })
}

/// The exact solution of the discrete scheme at cell `g` after `steps`.
pub fn sine_discrete(cfg: &Config3d, g: [usize; 3], steps: u64) -> f64 {
    sine_mode(cfg, g) * discrete_growth(cfg).powf(steps as f64)
}

/// The heat equation's own solution at cell `g` and time `t`: the mode
/// decays at `alpha pi^2 (1/Lx^2 + 1/Ly^2 + 1/Lz^2)`, `L = (n + 1) d`.
pub fn sine_continuum(cfg: &Config3d, g: [usize; 3], t: f64) -> f64 {
    let pi = std::f64::consts::PI;
    let l = |n: usize, d: f64| (n + 1) as f64 * d;
    let inv = |l: f64| 1.0 / (l * l);
    let rate = cfg.alpha
        * pi
        * pi
        * (inv(l(cfg.nx, cfg.dx)) + inv(l(cfg.ny, cfg.dy)) + inv(l(cfg.nz, cfg.dz)));
    sine_mode(cfg, g) * (-rate * t).exp()
}

/// The update's coefficients: `c_a = alpha dt / d_a^2` and the centre's
/// weight `k = 1 - 2 (cx + cy + cz)`.
///
/// Every cell is `((k c + cx (w + e)) + cy (s + n)) + cz (b + f)`, in this
/// order, with plain multiplications and additions (Rust never fuses them),
/// so every code path (SSE2, AVX2, any thread split or decomposition)
/// rounds identically.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stencil3 {
    pub c: [f64; 3],
    pub k: f64,
    /// Update rows two at a time ([`update_row2`]) or one at a time
    /// ([`update_row`]): the same bits, at different speeds
    /// ([`Stencil3::for_fields`]).
    pub pairs: bool,
}

impl Stencil3 {
    pub fn new(c: [f64; 3]) -> Self {
        Self {
            c,
            k: 1.0 - 2.0 * c[0] - 2.0 * c[1] - 2.0 * c[2],
            pairs: true,
        }
    }

    /// The row kernel for a block whose two fields take `bytes`, swept by
    /// `threads` cores with `l2` bytes of L2 each. Rows in pairs load 6
    /// values a cell instead of 7 but read 8 rows and write 2 at once; the
    /// hardware prefetchers keep up with that only while the fields stay
    /// in L2. Measured on Zen 4 (EPYC, 1 MiB L2 a core), 1 rank: pairs
    /// 1.10x single rows at 40^3 (fields in L2), single rows 1.5-2.1x
    /// pairs at 100^3, 160^3 and 256^3 (fields in L3 or memory).
    pub fn for_fields(self, bytes: usize, l2: u64, threads: usize) -> Self {
        let room = u128::from(l2) * threads as u128;
        Self {
            pairs: bytes as u128 <= room,
            ..self
        }
    }
}

/// A source's term and the step it is added at ([`SourceTerm::addend`]).
pub type Added<'a> = Option<(&'a SourceTerm, u64)>;

/// A box of storage indices `[i, j, k]` (x fastest) inside the interior.
pub type Box3 = [Range<usize>; 3];

/// Update the cells of box `b` of `u` into `dst`, the destination's
/// storage from index `base` on (so a thread can hold a disjoint part of
/// it); other cells of `dst` are left as they were. With a source, each
/// row's `dt S` is added to its stencil values.
pub fn update_box_at(
    u: &Field3,
    dst: &mut [f64],
    base: usize,
    b: &Box3,
    (st, source): (&Stencil3, Added),
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { update_box_avx2(u, dst, base, b, (st, source)) };
        return;
    }
    update_box_any(u, dst, base, b, (st, source));
}

/// The same code compiled for AVX2 (4 doubles a vector); no FMA, so the
/// same bits as [`update_box_any`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_box_avx2(
    u: &Field3,
    dst: &mut [f64],
    base: usize,
    b: &Box3,
    how: (&Stencil3, Added),
) {
    update_box_any(u, dst, base, b, how);
}

#[inline(always)]
fn update_box_any(
    u: &Field3,
    dst: &mut [f64],
    base: usize,
    b: &Box3,
    (st, source): (&Stencil3, Added),
) {
    if let Some(source) = source {
        return update_box_plus(u, dst, base, b, (st, source));
    }
    let (row, plane) = u.strides();
    let src = u.as_slice();
    let (i0, nx) = (b[0].start, b[0].len());
    // Row `j` of plane `k` from x = i0 on, `d` cells more on each side.
    let at = |k: usize, j: usize| k * plane + j * row + i0;
    let seg = |a: usize, d: usize| &src[a - d..a + nx + d];
    for k in b[2].clone() {
        let mut j = b[1].start;
        while st.pairs && j + 1 < b[1].end {
            let (a0, a1) = (at(k, j), at(k, j + 1));
            let (o0, o1) = (a0 - base, a1 - base);
            let (head, tail) = dst.split_at_mut(o1);
            update_row2(
                (&mut head[o0..o0 + nx], &mut tail[..nx]),
                [seg(a0 - row, 0), seg(a0, 1), seg(a1, 1), seg(a1 + row, 0)],
                [seg(a0 - plane, 0), seg(a0 + plane, 0)],
                [seg(a1 - plane, 0), seg(a1 + plane, 0)],
                st,
            );
            j += 2;
        }
        while j < b[1].end {
            let a = at(k, j);
            let o = a - base;
            update_row(
                &mut dst[o..o + nx],
                seg(a, 1),
                [
                    seg(a - row, 0),
                    seg(a + row, 0),
                    seg(a - plane, 0),
                    seg(a + plane, 0),
                ],
                st,
            );
            j += 1;
        }
    }
}

/// Rows `ys` and columns `xs` (storage indices within a plane) of one
/// plane into `out` (a plane, indexed as the planes), from the plane
/// itself (`mid`), the one below and the one above (`row` elements a
/// row): each cell [`update_box`]'s expression from the same seven
/// values, so the same bits (a time block's sweep, `super::sweep3d`).
pub fn update_plane(
    out: &mut [f64],
    planes: [&[f64]; 3],
    row: usize,
    (xs, ys): (Range<usize>, Range<usize>),
    st: &Stencil3,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { update_plane_avx2(out, planes, row, (xs, ys), st) };
        return;
    }
    update_plane_any(out, planes, row, (xs, ys), st);
}

/// [`update_plane_any`] compiled for AVX2 (no FMA, as [`update_box_avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_plane_avx2(
    out: &mut [f64],
    planes: [&[f64]; 3],
    row: usize,
    at: (Range<usize>, Range<usize>),
    st: &Stencil3,
) {
    update_plane_any(out, planes, row, at, st);
}

/// The `nx` cells of `p` from index `a` on, `d` more on each side.
#[inline(always)]
fn seg(p: &[f64], a: usize, nx: usize, d: usize) -> &[f64] {
    &p[a - d..a + nx + d]
}

#[inline(always)]
fn update_plane_any(
    out: &mut [f64],
    [below, mid, above]: [&[f64]; 3],
    row: usize,
    (xs, ys): (Range<usize>, Range<usize>),
    st: &Stencil3,
) {
    let (i0, nx) = (xs.start, xs.len());
    let mut j = ys.start;
    while st.pairs && j + 1 < ys.end {
        let (a0, a1) = (j * row + i0, (j + 1) * row + i0);
        let (head, tail) = out.split_at_mut(a1);
        update_row2(
            (&mut head[a0..a0 + nx], &mut tail[..nx]),
            [
                seg(mid, a0 - row, nx, 0),
                seg(mid, a0, nx, 1),
                seg(mid, a1, nx, 1),
                seg(mid, a1 + row, nx, 0),
            ],
            [seg(below, a0, nx, 0), seg(above, a0, nx, 0)],
            [seg(below, a1, nx, 0), seg(above, a1, nx, 0)],
            st,
        );
        j += 2;
    }
    while j < ys.end {
        let a = j * row + i0;
        let yz = [a - row, a + row].map(|b| seg(mid, b, nx, 0));
        let z = [seg(below, a, nx, 0), seg(above, a, nx, 0)];
        let centre = seg(mid, a, nx, 1);
        update_row(&mut out[a..a + nx], centre, [yz[0], yz[1], z[0], z[1]], st);
        j += 1;
    }
}

/// [`update_box_any`] with a source, a row at a time: each row's `dt S`
/// (computed for the box's columns of that row) added to its stencil
/// values by [`update_row_plus`].
#[inline(always)]
fn update_box_plus(
    u: &Field3,
    dst: &mut [f64],
    base: usize,
    b: &Box3,
    (st, (term, step)): (&Stencil3, (&SourceTerm, u64)),
) {
    let (row, plane) = u.strides();
    let ny = u.extents()[1];
    let src = u.as_slice();
    let (i0, nx) = (b[0].start, b[0].len());
    // A row of `dt S` and the evaluator's registers, for a source with t.
    let (mut into, mut scratch) = (vec![0.0; row], Vec::new());
    for k in b[2].clone() {
        for j in b[1].clone() {
            let a = k * plane + j * row + i0;
            let o = a - base;
            let yz = [a - row, a + row, a - plane, a + plane].map(|c| &src[c..c + nx]);
            // Storage row k (ny + 2) + j of the block (see `SourceTerm::new3`).
            let r = k * (ny + 2) + j;
            let add = term.addend((step, r), b[0].clone(), &mut into, &mut scratch);
            let (out, centre) = (&mut dst[o..o + nx], &src[a - 1..a + nx + 1]);
            update_row_plus(out, centre, yz, st, &add[b[0].clone()]);
        }
    }
}

/// Two adjacent rows `j`, `j + 1` of a plane at once (unroll and jam, as
/// 2D's `update_cols2`): `rows` are rows `j - 1`, `j` and `j + 1` (each
/// with one neighbour on either side) and `j + 2`; `zj`, `zj1` the rows
/// below and above each. The two rows share rows `j` and `j + 1`, so a
/// pass loads 6 values a cell instead of 7. Each cell is the same
/// expression, in the same order, as [`update_row`]'s.
#[inline(always)]
fn update_row2(
    (out0, out1): (&mut [f64], &mut [f64]),
    rows: [&[f64]; 4],
    zj: [&[f64]; 2],
    zj1: [&[f64]; 2],
    st: &Stencil3,
) {
    let n = out0.len();
    let (out1, south, north) = (&mut out1[..n], &rows[0][..n], &rows[3][..n]);
    let (r0, r1) = (&rows[1][..n + 2], &rows[2][..n + 2]);
    let (w0, c0, e0) = (&r0[..n], &r0[1..n + 1], &r0[2..n + 2]);
    let (w1, c1, e1) = (&r1[..n], &r1[1..n + 1], &r1[2..n + 2]);
    let (b0, f0, b1, f1) = (&zj[0][..n], &zj[1][..n], &zj1[0][..n], &zj1[1][..n]);
    let ([cx, cy, cz], k) = (st.c, st.k);
    for i in 0..n {
        out0[i] = k * c0[i] + cx * (w0[i] + e0[i]) + cy * (south[i] + c1[i]) + cz * (b0[i] + f0[i]);
        out1[i] = k * c1[i] + cx * (w1[i] + e1[i]) + cy * (c0[i] + north[i]) + cz * (b1[i] + f1[i]);
    }
}

/// One row: `row` is the segment with one neighbour on each side, `yz`
/// the rows south, north, below (z - 1) and above (z + 1), each exactly
/// the segment. Slicing every input to `out.len()` first lets the compiler
/// drop the bounds checks and vectorise.
#[inline(always)]
fn update_row(out: &mut [f64], row: &[f64], yz: [&[f64]; 4], st: &Stencil3) {
    let n = out.len();
    let (w, c, e) = (&row[..n], &row[1..n + 1], &row[2..n + 2]);
    let (s, nn, b, f) = (&yz[0][..n], &yz[1][..n], &yz[2][..n], &yz[3][..n]);
    for i in 0..n {
        out[i] = cell(w[i], c[i], e[i], [s[i], nn[i], b[i], f[i]], st);
    }
}

/// [`update_row`] plus a source: each cell's stencil value rounded, then
/// `add[i]` (`dt S`) added: the same two roundings as adding the source
/// in a pass after the step, in the same loop (2D's
/// `super::kernel::update_cols_plus`).
#[inline(always)]
fn update_row_plus(out: &mut [f64], row: &[f64], yz: [&[f64]; 4], st: &Stencil3, add: &[f64]) {
    let n = out.len();
    let (w, c, e) = (&row[..n], &row[1..n + 1], &row[2..n + 2]);
    let (s, nn, b, f) = (&yz[0][..n], &yz[1][..n], &yz[2][..n], &yz[3][..n]);
    let add = &add[..n];
    for i in 0..n {
        out[i] = cell(w[i], c[i], e[i], [s[i], nn[i], b[i], f[i]], st) + add[i];
    }
}

/// The update of one cell from its row neighbours `w`, `e` and the
/// south, north, below and above values `o`: the one expression every
/// path computes.
#[inline(always)]
fn cell(w: f64, c: f64, e: f64, o: [f64; 4], st: &Stencil3) -> f64 {
    let ([cx, cy, cz], k) = (st.c, st.k);
    k * c + cx * (w + e) + cy * (o[0] + o[1]) + cz * (o[2] + o[3])
}

/// The whole interior of a field of interior extents `n`.
pub fn interior_box(n: [usize; 3]) -> Box3 {
    n.map(|m| 1..m + 1)
}

/// One step of the whole interior of `u` into `un` (same shape), the
/// planes shared among `threads` scoped threads (each cell computed the
/// same way whoever computes it), a source's term added if any.
pub fn step(u: &Field3, un: &mut Field3, st: &Stencil3, threads: usize, source: Added) {
    update_box(u, un, &u.inside(), (st, source), threads);
}

/// Update box `b` of `u` into `un` (same shape) on `threads` scoped
/// threads, each given a contiguous part of `un`: a share of the box's
/// planes, or of its rows when it is one plane thick (an overlapped
/// step's z faces).
pub fn update_box(u: &Field3, un: &mut Field3, b: &Box3, how: (&Stencil3, Added), threads: usize) {
    assert_eq!(u.extents(), un.extents());
    if b.iter().any(|r| r.is_empty()) {
        return;
    }
    let (row, plane) = u.strides();
    let (axis, stride) = if b[2].len() > 1 { (2, plane) } else { (1, row) };
    let n = b[axis].len();
    let parts = threads.clamp(1, n);
    if parts == 1 {
        update_box_at(u, un.as_mut_slice(), 0, b, how);
        return;
    }
    // The storage from the box's first plane (or row) on, cut into one
    // contiguous run of whole planes (rows) per thread.
    let first = b[2].start * plane + if axis == 1 { b[1].start * row } else { 0 };
    let mut rest = &mut un.as_mut_slice()[first..];
    std::thread::scope(|s| {
        for t in 0..parts {
            let r = crate::partition::split_range(n, parts, t);
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(r.len() * stride);
            rest = tail;
            let mut part = b.clone();
            part[axis] = b[axis].start + r.start..b[axis].start + r.end;
            let base = first + r.start * stride;
            s.spawn(move || update_box_at(u, mine, base, &part, how));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::plan3d::Request3d;

    fn config(n: [usize; 3], init: Init) -> Config3d {
        Config3d::new(&Request3d {
            n: n.map(Some),
            d: [Some(0.01), Some(0.02), Some(0.015)],
            init: Some(init),
            steps: Some(5),
            ..Request3d::default()
        })
        .unwrap()
    }

    fn whole(c: &Config3d) -> Block3 {
        Block3 {
            cols: 0..c.nx,
            rows: 0..c.ny,
            planes: 0..c.nz,
        }
    }

    #[test]
    fn disk_in_3d_is_a_sphere_in_a_box() {
        // 60^3: radius 10 around cell 30; the ball's volume in cells.
        let c = config([60, 60, 60], Init::Disk);
        let mut inside = 0;
        for k in 0..60 {
            for j in 0..60 {
                for i in 0..60 {
                    let v = initial_value(&c, [i, j, k]);
                    assert!(v == 5.0 || v == 65.0);
                    inside += usize::from(v == 5.0);
                }
            }
        }
        let ball = 4.0 / 3.0 * std::f64::consts::PI * 1000.0;
        assert!(
            (inside as f64 - ball).abs() < 0.03 * ball,
            "{inside} vs {ball}"
        );
        assert_eq!(initial_value(&c, [30, 30, 39]), 5.0, "along z as along x");
        assert_eq!(initial_value(&c, [30, 30, 40]), 65.0);
        assert_eq!(c.walls.shown(|v| v.to_string())[4..], ["35", "50"]);
    }

    #[test]
    fn stencil_matches_the_scheme_by_hand() {
        let c = config([3, 3, 3], Init::Disk);
        let mut u = Field3::initial(&c, &whole(&c));
        let centre = u.at(2, 2, 2);
        u.as_mut_slice()[centre] = 100.0;
        let mut un = u.clone();
        let st = Stencil3::new(c.coefficients());
        step(&u, &mut un, &st, 1, None);
        let g = |i, j, k| u.as_slice()[u.at(i, j, k)];
        let [cx, cy, cz] = st.c;
        let lap = |a: f64, b: f64, m: f64| a - 2.0 * m + b;
        let m = g(2, 2, 2);
        let want = m
            + cx * lap(g(1, 2, 2), g(3, 2, 2), m)
            + cy * lap(g(2, 1, 2), g(2, 3, 2), m)
            + cz * lap(g(2, 2, 1), g(2, 2, 3), m);
        assert!(
            (un.get(1, 1, 1) - want).abs() < 1e-12,
            "{} vs {want}",
            un.get(1, 1, 1)
        );
        // A corner cell reads three walls: left 20, bottom 5, front 35.
        let want = g(1, 1, 1)
            + cx * lap(20.0, g(2, 1, 1), g(1, 1, 1))
            + cy * lap(5.0, g(1, 2, 1), g(1, 1, 1))
            + cz * lap(35.0, g(1, 1, 2), g(1, 1, 1));
        assert!((un.get(0, 0, 0) - want).abs() < 1e-12);
    }

    #[test]
    fn sine_mode_decays_by_the_sum_of_the_axis_rates() {
        let c = config([9, 6, 7], Init::Sine);
        let st = Stencil3::new(c.coefficients());
        let mut u = Field3::initial(&c, &whole(&c));
        let mut un = u.clone();
        for _ in 0..3 {
            step(&u, &mut un, &st, 1, None);
            std::mem::swap(&mut u, &mut un);
        }
        let mut worst = 0.0f64;
        for k in 0..7 {
            for j in 0..6 {
                for i in 0..9 {
                    let e = sine_discrete(&c, [i, j, k], 3);
                    worst = worst.max((u.get(i, j, k) - e).abs());
                }
            }
        }
        assert!(worst < 1e-14, "{worst}");
        // The product of the 1D factors is a different (split) scheme's.
        let pi = std::f64::consts::PI;
        let product: f64 = [9usize, 6, 7]
            .iter()
            .zip(c.coefficients())
            .map(|(&n, ca)| 1.0 - 4.0 * ca * (pi / (2.0 * (n + 1) as f64)).sin().powi(2))
            .product();
        assert!((product - discrete_growth(&c)).abs() > 1e-4);
    }

    #[test]
    fn a_source_adds_the_bits_of_a_pass_after_the_step() {
        let c = config([13, 5, 11], Init::Disk);
        let u = Field3::initial(&c, &whole(&c));
        let st = Stencil3::new(c.coefficients());
        let d = [c.dx, c.dy, c.dz];
        for text in ["x*y - sin(z)", "exp(-t)*sin(3*x)*cos(y)*z + t*x^2"] {
            let s =
                crate::heat::source::Source::parse_in(text, &crate::heat::source::VARS3).unwrap();
            let mut term = SourceTerm::new3(&s, &whole(&c), u.extents(), d, c.dt);
            term.prepare(4, 1);
            let mut want = u.clone();
            step(&u, &mut want, &st, 1, None);
            let t = 4.0 * c.dt;
            for k in 0..11 {
                for j in 0..5 {
                    for i in 0..13 {
                        let x = [i, j, k].map(|g| (g + 1) as f64);
                        let at = [x[0] * d[0], x[1] * d[1], x[2] * d[2], t];
                        let v = want.get(i, j, k) + c.dt * s.eval(&at);
                        want.set(i, j, k, v);
                    }
                }
            }
            for threads in [1, 3] {
                let mut got = u.clone();
                step(&u, &mut got, &st, threads, Some((&term, 4)));
                assert_eq!(got, want, "{text}, {threads} threads");
            }
        }
    }

    #[test]
    fn threads_and_paths_give_the_same_bits() {
        let c = config([13, 5, 11], Init::Disk);
        let u = Field3::initial(&c, &whole(&c));
        let st = Stencil3::new(c.coefficients());
        let mut one = u.clone();
        step(&u, &mut one, &st, 1, None);
        for t in [2, 3, 4, 11, 16] {
            let mut many = u.clone();
            step(&u, &mut many, &st, t, None);
            assert_eq!(one, many, "{t} threads");
        }
        let mut plain = u.clone();
        update_box_any(
            &u,
            plain.as_mut_slice(),
            0,
            &interior_box(u.extents()),
            (&st, None),
        );
        assert_eq!(one, plain, "the portable path");
    }

    #[test]
    fn rows_go_in_pairs_only_while_both_fields_fit_in_l2() {
        let st = Stencil3::new([0.1; 3]);
        assert!(st.for_fields(1 << 20, 1 << 20, 1).pairs);
        assert!(!st.for_fields((1 << 20) + 1, 1 << 20, 1).pairs);
        assert!(
            st.for_fields(3 << 20, 1 << 20, 4).pairs,
            "threads' L2s add up"
        );
    }

    #[test]
    fn two_rows_a_pass_give_the_bits_of_one_row_a_pass() {
        let pairs = Stencil3::new([0.13, 0.07, 0.21]);
        let single = pairs.for_fields(usize::MAX, 1 << 20, 1);
        assert!(pairs.pairs && !single.pairs);
        for (st, n) in [pairs, single]
            .into_iter()
            .flat_map(|st| [[5, 6, 3], [7, 5, 2], [4, 1, 3], [9, 2, 1]].map(|n| (st, n)))
        {
            let mut u = Field3::zeros(n[0], n[1], n[2]);
            for (k, v) in u.as_mut_slice().iter_mut().enumerate() {
                *v = 40.0 + 25.0 * (k as f64 * 0.377).sin();
            }
            let (row, plane) = u.strides();
            let mut want = u.clone();
            let src = u.as_slice();
            for k in 1..=n[2] {
                for j in 1..=n[1] {
                    let a = k * plane + j * row + 1;
                    let yz = [a - row, a + row, a - plane, a + plane].map(|b| &src[b..b + n[0]]);
                    let out = &mut want.as_mut_slice()[a..a + n[0]];
                    update_row(out, &src[a - 1..a + n[0] + 1], yz, &st);
                }
            }
            // Boxes starting on odd and even rows, of odd and even height.
            for rows in [1..n[1] + 1, 2..n[1] + 1, 1..n[1]] {
                let b = [1..n[0] + 1, rows.clone(), 1..n[2] + 1];
                let mut got = want.clone();
                for v in got.as_mut_slice().iter_mut() {
                    *v = f64::NAN;
                }
                update_box_at(&u, got.as_mut_slice(), 0, &b, (&st, None));
                for k in 1..=n[2] {
                    for j in rows.clone() {
                        let a = k * plane + j * row + 1;
                        let (g, w) = (&got.as_slice()[a..a + n[0]], &want.as_slice()[a..a + n[0]]);
                        let bits = |r: &[f64]| r.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(g), bits(w), "{st:?} {n:?} rows {rows:?} j={j} k={k}");
                    }
                }
            }
        }
    }
}
