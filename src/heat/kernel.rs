//! The physics: a rank's block of the field with its ghost layer, initial
//! conditions, the 5-point explicit update, and the exact solutions the runs
//! are validated against. No MPI here.
//!
//! Bitwise reproducibility across rank counts rests on one rule: the update
//! of a cell is the same expression of the same five values whoever owns it.
//! Nothing in this file may depend on where a block sits, except the
//! initial/boundary fill, which works in global indices.

use std::ops::Range;

use ndarray::{s, Array2, ArrayView2};

use super::config::{HeatConfig, Init};
use super::decomp::Block;

/// One rank's block with `g` ghost layers on each side: `ny + 2g` rows of
/// `nx + 2g` values, row-major. Local interior cell `(i, j)` (0-based) is
/// stored at `[j + g, i + g]`. One layer is all a single step needs; `g`
/// layers let the ranks exchange halos once every `g` steps (time blocking).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    data: Array2<f64>,
    g: usize,
}

impl Field {
    /// A field with one ghost layer.
    pub fn zeros(nx: usize, ny: usize) -> Self {
        Self::with_ghosts(nx, ny, 1)
    }

    /// A field with `g >= 1` ghost layers.
    pub fn with_ghosts(nx: usize, ny: usize, g: usize) -> Self {
        assert!(g >= 1);
        Self {
            data: Array2::zeros((ny + 2 * g, nx + 2 * g)),
            g,
        }
    }

    /// Ghost layers on each side.
    pub fn ghosts(&self) -> usize {
        self.g
    }

    /// Interior width.
    pub fn nx(&self) -> usize {
        self.data.ncols() - 2 * self.g
    }

    /// Interior height.
    pub fn ny(&self) -> usize {
        self.data.nrows() - 2 * self.g
    }

    /// Row length including both ghost columns.
    pub fn stride(&self) -> usize {
        self.data.ncols()
    }

    /// The whole buffer, ghosts included, row-major.
    pub fn as_slice(&self) -> &[f64] {
        self.data
            .as_slice()
            .expect("Field is always in standard layout")
    }

    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        self.data
            .as_slice_mut()
            .expect("Field is always in standard layout")
    }

    /// The owned cells without ghosts.
    pub fn interior(&self) -> ArrayView2<'_, f64> {
        let (nx, ny, g) = (self.nx(), self.ny(), self.g);
        self.data.slice(s![g..g + ny, g..g + nx])
    }

    /// Interior value at local `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[[j + self.g, i + self.g]]
    }

    /// Set interior value at local `(i, j)`.
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[[j + self.g, i + self.g]] = v;
    }

    /// True when every interior value of rows `rows` (local) lies in
    /// `[lo, hi]` (so is finite). Used to detect blow-up cheaply.
    pub fn rows_within(&self, rows: &[usize], lo: f64, hi: f64) -> bool {
        let (nx, w, g) = (self.nx(), self.stride(), self.g);
        let d = self.as_slice();
        rows.iter().all(|&j| {
            d[(j + g) * w + g..(j + g) * w + g + nx]
                .iter()
                .all(|v| (lo..=hi).contains(v))
        })
    }

    /// Fill interior from `value(global_i, global_j)` and the ghost cells on
    /// global value walls with their values. Ghosts facing another rank or
    /// a periodic wall are left for the halo exchange, those of insulated
    /// and expression walls for [`super::walls::WallFill`].
    pub fn fill(&mut self, cfg: &HeatConfig, block: &Block) {
        let (nx, ny, g) = (self.nx(), self.ny(), self.g);
        debug_assert_eq!((nx, ny), (block.nx(), block.ny()));
        let b = &cfg.boundaries;
        for j in 0..ny {
            for i in 0..nx {
                self.data[[j + g, i + g]] =
                    initial_value(cfg, block.cols.start + i, block.rows.start + j);
            }
        }
        // Every ghost layer on a value wall holds the wall value: the
        // time-blocked sweep reads the innermost one at every level. The
        // corners take the bottom or top wall's value where it has one
        // (written last), else the left or right wall's.
        if let (0, Some(v)) = (block.cols.start, b.left.value()) {
            self.data.slice_mut(s![.., ..g]).fill(v);
        }
        if let (true, Some(v)) = (block.cols.end == cfg.nx, b.right.value()) {
            self.data.slice_mut(s![.., g + nx..]).fill(v);
        }
        if let (0, Some(v)) = (block.rows.start, b.bottom.value()) {
            self.data.slice_mut(s![..g, ..]).fill(v);
        }
        if let (true, Some(v)) = (block.rows.end == cfg.ny, b.top.value()) {
            self.data.slice_mut(s![g + ny.., ..]).fill(v);
        }
    }
}

/// Initial temperature of global interior cell `(i, j)`.
pub fn initial_value(cfg: &HeatConfig, i: usize, j: usize) -> f64 {
    match cfg.init {
        Init::Disk => {
            // Integer halving of the centre, real radius: the rule shared
            // with the C baseline and the training material.
            let di = i as f64 - (cfg.nx / 2) as f64;
            let dj = j as f64 - (cfg.ny / 2) as f64;
            let r = cfg.nx.min(cfg.ny) as f64 / 6.0;
            if di * di + dj * dj < r * r {
                5.0
            } else {
                65.0
            }
        }
        Init::Sine => sine_mode(cfg, i, j),
        // Read over by `super::checkpoint::initial_field`.
        Init::File(_) | Init::Expr(_) => 0.0,
    }
}

/// sin(pi x / Lx) sin(pi y / Ly) at interior cell `(i, j)`, with
/// x / Lx = (i + 1) / (nx + 1) computed from integers so it does not depend on
/// how dx rounds. Along a periodic axis (period n d, cells at (i + 1) d)
/// the lowest mode with a period of the domain: sin(2 pi (i + 1) / n).
fn sine_mode(cfg: &HeatConfig, i: usize, j: usize) -> f64 {
    let b = &cfg.boundaries;
    axis_mode(i, cfg.nx, b.periodic_x()) * axis_mode(j, cfg.ny, b.periodic_y())
}

fn axis_mode(i: usize, n: usize, periodic: bool) -> f64 {
    let pi = std::f64::consts::PI;
    if periodic {
        (2.0 * pi * (i + 1) as f64 / n as f64).sin()
    } else {
        (pi * (i + 1) as f64 / (n + 1) as f64).sin()
    }
}

/// Growth factor per step of the lowest sine mode under the discrete scheme:
/// g = 1 - 4 cx sin^2(pi / (2 (nx+1))) - 4 cy sin^2(pi / (2 (ny+1))), with
/// sin^2(pi / n) along a periodic axis.
pub fn discrete_growth(cfg: &HeatConfig) -> f64 {
    let pi = std::f64::consts::PI;
    let (cx, cy) = cfg.coefficients();
    let b = &cfg.boundaries;
    let half_angle = |n: usize, periodic: bool| {
        if periodic {
            pi / n as f64
        } else {
            pi / (2.0 * (n + 1) as f64)
        }
    };
    let sx = half_angle(cfg.nx, b.periodic_x()).sin();
    let sy = half_angle(cfg.ny, b.periodic_y()).sin();
    1.0 - 4.0 * cx * sx * sx - 4.0 * cy * sy * sy
}

/// Exact solution of the discrete scheme for `init = sine` after `steps`.
pub fn sine_discrete(cfg: &HeatConfig, i: usize, j: usize, steps: u64) -> f64 {
    sine_mode(cfg, i, j) * discrete_growth(cfg).powf(steps as f64)
}

/// Continuum solution of the heat equation for `init = sine` at time `t`.
pub fn sine_continuum(cfg: &HeatConfig, i: usize, j: usize, t: f64) -> f64 {
    let pi = std::f64::consts::PI;
    let (lx, ly) = cfg.lengths();
    // The mode's wavelength: twice the length between walls, the period.
    let b = &cfg.boundaries;
    let wave = |l: f64, periodic: bool| if periodic { l / 2.0 } else { l };
    let (kx, ky) = (wave(lx, b.periodic_x()), wave(ly, b.periodic_y()));
    let rate = cfg.alpha * pi * pi * (1.0 / (kx * kx) + 1.0 / (ky * ky));
    sine_mode(cfg, i, j) * (-rate * t).exp()
}

/// The update's coefficients.
///
/// Every cell is computed as `fma(cy, s + n, fma(cx, w + e, k c))` with
/// the centre weight `k = 1 - 2 cx - 2 cy`: the scheme's `c + cx (w - 2c +
/// e) + cy (s - 2c + n)` regrouped. Why: written out, an update costs 6
/// additions and 3 multiplications, and the additions bound the in-cache
/// stencil (two add pipes; see the README's performance section); the
/// regrouped form costs 2 additions, 1 multiplication and 2 fused
/// multiply-adds, which run on the multiply pipes. Every code path computes
/// exactly this expression (portable: `f64::mul_add`, the correctly
/// rounded fused operation; AVX2: its FMA instruction), so all paths round
/// identically: results depend neither on the CPU, nor on how the block is
/// cut into regions (overlap), row bands (threads) or time levels
/// (blocking). (The regrouping changed the last bits of every result once,
/// against builds before it: see the README.)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stencil {
    pub cx: f64,
    pub cy: f64,
    /// The centre's weight, `1 - 2 cx - 2 cy`, computed once.
    pub k: f64,
}

impl Stencil {
    pub fn new(cx: f64, cy: f64) -> Self {
        Self {
            cx,
            cy,
            k: 1.0 - 2.0 * cx - 2.0 * cy,
        }
    }
}

/// One explicit Euler step of the whole interior of `u` into `un`
/// (ghosts of `un` are not touched). Both fields must have the same shape.
///
/// The portable reference, row by row: the solver itself sweeps through
/// [`super::sweep`] (AVX2, time blocking, threads), whose tests compare
/// every path with this one bit for bit.
pub fn step(u: &Field, un: &mut Field, st: &Stencil) {
    assert_eq!(
        (u.nx(), u.ny(), u.ghosts()),
        (un.nx(), un.ny(), un.ghosts())
    );
    let (nx, ny, w, g) = (u.nx(), u.ny(), u.stride(), u.ghosts());
    let src = u.as_slice();
    let dst = un.as_mut_slice();
    for j in g..g + ny {
        let row = |j: usize| &src[j * w..(j + 1) * w];
        update_cols(
            &mut dst[j * w..(j + 1) * w],
            row(j),
            row(j - 1),
            row(j + 1),
            g..g + nx,
            st,
        );
    }
}

/// Update columns `cols` of one full-width destination row from three
/// full-width source rows (the time-blocked sweep's unit of work).
#[inline(always)]
pub(crate) fn update_cols(
    out: &mut [f64],
    row: &[f64],
    south: &[f64],
    north: &[f64],
    cols: Range<usize>,
    st: &Stencil,
) {
    let (a, b) = (cols.start, cols.end);
    update_row(
        &mut out[a..b],
        &row[a - 1..b + 1],
        &south[a..b],
        &north[a..b],
        st,
    );
}

/// Update columns `cols` of two adjacent destination rows at once (unroll
/// and jam): `rows` are the source rows below, of, and above them
/// (`j-1, j, j+1, j+2` for destination rows `j, j+1`). Why: the two rows
/// share rows `j` and `j+1`, so a pass loads 4 values per cell instead of
/// 5, and the loads bound the in-cache stencil once the update uses FMAs.
/// Each cell is the same [`cell`] expression as in [`update_cols`].
#[inline(always)]
pub(crate) fn update_cols2(
    (out0, out1): (&mut [f64], &mut [f64]),
    rows: [&[f64]; 4],
    cols: Range<usize>,
    st: &Stencil,
) {
    let (a, b) = (cols.start, cols.end);
    let n = b - a;
    let (o0, o1) = (&mut out0[a..b], &mut out1[a..b]);
    let (south, north) = (&rows[0][a..b], &rows[3][a..b]);
    let (r1, r2) = (&rows[1][a - 1..b + 1], &rows[2][a - 1..b + 1]);
    let (w1, c1, e1) = (&r1[..n], &r1[1..n + 1], &r1[2..n + 2]);
    let (w2, c2, e2) = (&r2[..n], &r2[1..n + 1], &r2[2..n + 2]);
    for i in 0..n {
        o0[i] = cell(w1[i], c1[i], e1[i], south[i], c2[i], st);
        o1[i] = cell(w2[i], c2[i], e2[i], c1[i], north[i], st);
    }
}

/// [`update_cols2`] plus a source: each cell's stencil value, rounded,
/// then `add0[c]` (row j) or `add1[c]` (row j + 1) added: the same two
/// roundings as adding the source in a pass after the step, in the same
/// loop (one load more per cell instead of a pass that loads and stores
/// the row again).
#[inline(always)]
pub(crate) fn update_cols2_plus(
    (out0, out1): (&mut [f64], &mut [f64]),
    rows: [&[f64]; 4],
    cols: Range<usize>,
    st: &Stencil,
    (add0, add1): (&[f64], &[f64]),
) {
    let (a, b) = (cols.start, cols.end);
    let n = b - a;
    let (o0, o1) = (&mut out0[a..b], &mut out1[a..b]);
    let (p0, p1) = (&add0[a..b], &add1[a..b]);
    let (south, north) = (&rows[0][a..b], &rows[3][a..b]);
    let (r1, r2) = (&rows[1][a - 1..b + 1], &rows[2][a - 1..b + 1]);
    let (w1, c1, e1) = (&r1[..n], &r1[1..n + 1], &r1[2..n + 2]);
    let (w2, c2, e2) = (&r2[..n], &r2[1..n + 1], &r2[2..n + 2]);
    for i in 0..n {
        o0[i] = cell(w1[i], c1[i], e1[i], south[i], c2[i], st) + p0[i];
        o1[i] = cell(w2[i], c2[i], e2[i], c1[i], north[i], st) + p1[i];
    }
}

/// [`update_cols`] plus a source (see [`update_cols2_plus`]).
#[inline(always)]
pub(crate) fn update_cols_plus(
    out: &mut [f64],
    (row, south, north): (&[f64], &[f64], &[f64]),
    cols: Range<usize>,
    st: &Stencil,
    add: &[f64],
) {
    let (a, b) = (cols.start, cols.end);
    let n = b - a;
    let out = &mut out[a..b];
    let (west, centre, east) = (&row[a - 1..b - 1], &row[a..b], &row[a + 1..b + 1]);
    let (south, north, add) = (&south[a..b], &north[a..b], &add[a..b]);
    for i in 0..n {
        out[i] = cell(west[i], centre[i], east[i], south[i], north[i], st) + add[i];
    }
}

/// Update one row segment: `row` has the segment plus one neighbour on each
/// side, `south` and `north` exactly the segment. Slicing every input to
/// exactly `out.len()` elements up front lets the compiler drop the bounds
/// checks and vectorise the loop.
#[inline(always)]
fn update_row(out: &mut [f64], row: &[f64], south: &[f64], north: &[f64], st: &Stencil) {
    let n = out.len();
    let (west, centre, east) = (&row[..n], &row[1..n + 1], &row[2..n + 2]);
    let (south, north) = (&south[..n], &north[..n]);
    for i in 0..n {
        out[i] = cell(west[i], centre[i], east[i], south[i], north[i], st);
    }
}

/// The update of one cell: the one expression every path computes.
#[inline(always)]
fn cell(west: f64, c: f64, east: f64, south: f64, north: f64, st: &Stencil) -> f64 {
    st.cy
        .mul_add(south + north, st.cx.mul_add(west + east, st.k * c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::config::{HeatConfig, HeatRequest};

    fn config(nx: usize, ny: usize, init: Init) -> HeatConfig {
        HeatConfig::new(&HeatRequest {
            nx: Some(nx),
            ny: Some(ny),
            steps: Some(1),
            init: Some(init),
            ..HeatRequest::default()
        })
        .unwrap()
    }

    fn whole(cfg: &HeatConfig) -> Block {
        Block {
            cols: 0..cfg.nx,
            rows: 0..cfg.ny,
        }
    }

    #[test]
    fn stencil_matches_hand_computation() {
        // 2x2 interior, walls left 20, right 70, bottom 5, top 85, interior 65.
        let cfg = config(2, 2, Init::Disk);
        let mut u = Field::zeros(2, 2);
        u.fill(&cfg, &whole(&cfg));
        // r = 2/6: only the centre cell (1, 1) is inside the disk.
        assert_eq!(u.get(1, 1), 5.0);
        assert_eq!([u.get(0, 0), u.get(1, 0), u.get(0, 1)], [65.0; 3]);
        let mut un = u.clone();
        step(&u, &mut un, &Stencil::new(0.25, 0.25));
        // (0,0): west 20, east 65, south 5, north 65, centre 65
        let c00 = 65.0 + 0.25 * (20.0 - 130.0 + 65.0) + 0.25 * (5.0 - 130.0 + 65.0);
        // (1,1): west 65, east 70, south 65, north 85, centre 5
        let c11 = 5.0 + 0.25 * (65.0 - 10.0 + 70.0) + 0.25 * (65.0 - 10.0 + 85.0);
        // (1,0): west 65, east 70, south 5, north 5 (cell (1,1)), centre 65
        let c10 = 65.0 + 0.25 * (65.0 - 130.0 + 70.0) + 0.25 * (5.0 - 130.0 + 5.0);
        assert_eq!(un.get(0, 0), c00);
        assert_eq!(un.get(1, 1), c11);
        assert_eq!(un.get(1, 0), c10);
        assert_eq!(c00, 38.75);
        assert_eq!(c11, 71.25);
        assert_eq!(c10, 36.25);
        // ghosts untouched
        assert_eq!(un.as_slice()[..4], u.as_slice()[..4]);
    }

    #[test]
    fn disk_average_matches_known_answer() {
        // WORKLOADS.md: the 2000x2000 disk starts at average 59.763305.
        let cfg = config(2000, 2000, Init::Disk);
        let mut sum = 0.0;
        for j in 0..2000 {
            for i in 0..2000 {
                sum += initial_value(&cfg, i, j);
            }
        }
        assert_eq!(format!("{:.6}", sum / 4e6), "59.763305");
    }

    #[test]
    fn sine_mode_decays_by_discrete_growth_factor() {
        let cfg = config(15, 9, Init::Sine);
        let mut u = Field::zeros(15, 9);
        u.fill(&cfg, &whole(&cfg));
        let mut un = u.clone();
        let (cx, cy) = cfg.coefficients();
        for _ in 0..3 {
            step(&u, &mut un, &Stencil::new(cx, cy));
            std::mem::swap(&mut u, &mut un);
        }
        for j in 0..9 {
            for i in 0..15 {
                let exact = sine_discrete(&cfg, i, j, 3);
                assert!((u.get(i, j) - exact).abs() < 1e-14, "({i},{j})");
            }
        }
    }

    #[test]
    fn fill_sets_only_global_walls() {
        let cfg = config(6, 4, Init::Disk);
        let block = Block {
            cols: 3..6,
            rows: 0..2,
        };
        let mut f = Field::zeros(3, 2);
        f.fill(&cfg, &block);
        let w = f.stride();
        let d = f.as_slice();
        assert_eq!(d[w], 0.0, "left ghost faces a neighbour");
        assert_eq!(d[w + 4], 70.0, "right wall");
        assert_eq!(d[1], 5.0, "bottom wall");
        assert_eq!(d[3 * w + 1], 0.0, "top ghost faces a neighbour");
        let packed: Vec<f64> = f.interior().iter().copied().collect();
        assert_eq!(packed[0], initial_value(&cfg, 3, 0));
        assert_eq!(packed[5], initial_value(&cfg, 5, 1));
    }
}
