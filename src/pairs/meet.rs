//! Meeting two blocks of points, the hot loop of `parsim pairs`: G rows of
//! one block against a panel of the other's columns, W columns a vector,
//! squared distances summed in the order of k with no FMA (so every lane,
//! block and rank gives the same bits), the rows' minima and the columns'
//! nearest neighbours on the way, then what the piece leaves in the tally
//! (neighbours, histogram, matrix rows). AVX2 where the CPU has it: the
//! same Rust compiled for it. Pure.

use super::kernel::{Columns, Nearest, Piece, Tally, G, W};

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
    // Every row group meets one tile of columns before the next tile: the
    // tile stays in L2 while all the rows stream past it once, where
    // meeting each group with the whole block would stream the block from
    // memory once per group (in 64-D, 50k columns are 25 MB). The order
    // changes no bit: each distance is the same sum, and a point's nearest
    // is the least (distance, index) whatever order they are offered in.
    let tile = tile_columns(dim);
    for t0 in cc.clone().step_by(tile) {
        let t_end = (t0 + tile).min(cc.end);
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
            for p0 in (from[0].max(t0)..t_end).step_by(PANEL) {
                let group = Group {
                    rows: [row(0), row(1), row(2), row(3)],
                    from,
                    end: (p0 + PANEL).min(t_end),
                    row_first: first + i0,
                    block_first: first,
                    diag: piece.diag,
                };
                meet_panel(&group, gn, cols, p0, tally, buf);
            }
        }
    }
}

/// Columns per tile: whole panels whose coordinates take at most
/// [`TILE_BYTES`], at least one panel.
fn tile_columns(dim: usize) -> usize {
    let panels = TILE_BYTES / (PANEL * dim.max(1) * 8);
    panels.max(1) * PANEL
}

/// A tile's coordinates: half of a 1 MiB L2 (the other half for the rows
/// streaming past, the panel buffer and the tally), and on a smaller L2
/// still well under what streaming the whole block costs.
const TILE_BYTES: usize = 512 * 1024;

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
                h.add(d.sqrt());
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

/// Columns per panel: a group's squared distances over a panel (G x
/// PANEL values, 16 KiB) stay in the L1 cache while they are used.
const PANEL: usize = 512;

/// Values per row of the panel buffer.
pub(super) const PS: usize = PANEL + W;

/// G rows met at once: their points, each one's first column that is a
/// pair, the columns' end, the global index of the first row and of the
/// first point of their block, whether the columns are that block.
pub(super) struct Group<'a> {
    pub(super) rows: [&'a [f64]; G],
    pub(super) from: [usize; G],
    pub(super) end: usize,
    pub(super) row_first: usize,
    pub(super) block_first: usize,
    pub(super) diag: bool,
}

/// Squared distances of a group's rows against columns j0..end (vectors of
/// W from j0): into `out[g * stride + j]` (+inf where not a pair, up to
/// W - 1 values past the end); each row's least value (returned); each
/// column's nearest neighbour among the rows, offered where it may beat
/// the column's best (rarely, once the best is good).
#[inline]
pub(super) fn group_d2(
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
/// vectorises over the W columns (no FMA: Rust never contracts).
// Indexed loops over the G x W sums: the form LLVM keeps in registers.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
pub(super) fn group_d2_portable(
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
        let mut acc = sums(grp, cols, dim, s, j);
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
            offer_columns(grp, &out[j - j0..], (cf + j, lanes), &cm, nearest);
        }
        j += W;
    }
    // Row minima from `out` (kept in registers through the loop they
    // would crowd out the sums).
    rmin.map(|r| r.iter().fold(f64::INFINITY, |a, &b| a.min(b)))
}

/// The G x W squared distances of the group's rows to columns j..j + W
/// (`s`: the columns' stride per coordinate), in the order of k. The first
/// coordinate's square starts each sum (0 + t*t is t*t, bit for bit).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn sums(grp: &Group, cols: &Columns, dim: usize, s: usize, j: usize) -> [[f64; W]; G] {
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
    acc
}

/// Offer each of `lanes` columns from global index `first` its nearest
/// neighbour among the group's rows: the first row holding the column's
/// least value `cm` (the smallest index), where it may beat the column's
/// best. Read from `out` (the rows' values from this vector on, PS apart),
/// not from the sums: taking their address would keep them out of
/// registers.
#[inline(always)]
fn offer_columns(
    grp: &Group,
    out: &[f64],
    (first, lanes): (usize, usize),
    cm: &[f64; W],
    nearest: &mut Nearest,
) {
    for l in 0..lanes {
        if cm[l] > nearest.d2[first + l] {
            continue;
        }
        let g = (0..G).position(|g| out[g * PS + l] == cm[l]);
        if let Some(g) = g {
            nearest.offer(first + l, cm[l], (grp.row_first + g) as u64);
        }
    }
}
