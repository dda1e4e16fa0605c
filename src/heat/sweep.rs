//! Sweeps: how the kernel walks a block, for one step or for several.
//!
//! A plain step reads the whole field and writes the whole new one: on a
//! block larger than the caches it runs at memory speed, whatever the
//! arithmetic costs. Time blocking ("wavefront") advances `m` steps in one
//! pass: row `j` at level 1 is computed as soon as rows `j-1..=j+1` of the
//! old field have been read, row `j-1` at level 2 right after, and so on;
//! levels 1..m-1 live in small rings of four rows each (cache-resident), and
//! only level `m` is written to the new field. Memory traffic per update
//! drops by about `m` times.
//!
//! Near the block's edges a level-`s` row or column needs level `s-1`
//! values one cell further out. Toward a neighbouring rank (or another
//! thread's band) those cells are computed too, redundantly, from the
//! `m`-deep halo ([`Reach`]); toward a wall they are the fixed boundary
//! values kept in the ghost layers. Every cell of every level is computed
//! by the same expression from the same five values as in a plain step, so
//! results are bitwise identical for any `m`, band split or rank count.
//!
//! Threads split a region into bands of rows; each band runs its own
//! wavefront with its own rings and writes only its own rows. MPI is never
//! called from here (MPI_THREAD_FUNNELED).

use std::ops::Range;

use super::kernel::{update_cols, Field, Stencil};

/// Storage rows and columns (ghost layers included in the numbering) of the
/// cells a sweep must produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub rows: Range<usize>,
    pub cols: Range<usize>,
}

impl Region {
    /// The whole interior of a field.
    pub fn interior(f: &Field) -> Self {
        let g = f.ghosts();
        Self {
            rows: g..g + f.ny(),
            cols: g..g + f.nx(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() || self.cols.is_empty()
    }
}

/// For each side of a region: do the cells beyond it hold valid current
/// values (neighbour rank's halo, another band) for as deep as the sweep
/// needs, or is it a wall (fixed ghost values, never updated)?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reach {
    pub down: bool,
    pub up: bool,
    pub left: bool,
    pub right: bool,
}

/// Advance the rows `band` of `region` of `src` by `m >= 1` steps into
/// `dst`, which holds the destination's storage rows from `dst_row0` on.
/// Toward the other bands of the region the sweep reaches as far as it
/// needs; toward the region's sides only as `reach` allows. `ring` is
/// scratch space kept between calls (so a sweep allocates nothing).
#[allow(clippy::too_many_arguments)]
pub fn advance_band(
    src: &[f64],
    w: usize,
    dst: &mut [f64],
    dst_row0: usize,
    region: &Region,
    band: Range<usize>,
    reach: Reach,
    m: usize,
    st: &Stencil,
    ring: &mut Vec<f64>,
) {
    assert!(m >= 1);
    if region.is_empty() {
        return;
    }
    let e = m - 1;
    let (r, c) = (&region.rows, &region.cols);
    // Every level's row and column range must stay inside the buffers.
    assert!(r.start > e * usize::from(reach.down) && c.start > e * usize::from(reach.left));
    assert!((r.end + 1 + e * usize::from(reach.up)) * w <= src.len());
    assert!(c.end + e * usize::from(reach.right) < w);
    assert!(band.start >= r.start && band.end <= r.end);
    assert!(band.start >= dst_row0 && (band.end - dst_row0) * w <= dst.len());
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { advance_avx2(src, w, dst, dst_row0, region, band, reach, m, st, ring) };
            return;
        }
    }
    advance_generic(src, w, dst, dst_row0, region, band, reach, m, st, ring);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn advance_avx2(
    src: &[f64],
    w: usize,
    dst: &mut [f64],
    dst_row0: usize,
    region: &Region,
    band: Range<usize>,
    reach: Reach,
    m: usize,
    st: &Stencil,
    ring: &mut Vec<f64>,
) {
    advance_generic(src, w, dst, dst_row0, region, band, reach, m, st, ring)
}

/// Rows kept per intermediate level: level `s` row `j` needs level `s-1`
/// rows `j-1..=j+1`, and level `s-1` has just produced row `j+1`.
const RING: usize = 4;

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn advance_generic(
    src: &[f64],
    w: usize,
    dst: &mut [f64],
    dst_row0: usize,
    region: &Region,
    band: Range<usize>,
    reach: Reach,
    m: usize,
    st: &Stencil,
    ring: &mut Vec<f64>,
) {
    // Level s (1..=m) covers rows lo(s)..hi(s) and columns cols(s): the
    // band grown by m - s cells, but past the region's sides only where
    // they reach.
    let grow = |s: usize, side: bool| (m - s) * usize::from(side);
    let lo = |s: usize| {
        band.start
            .saturating_sub(m - s)
            .max(region.rows.start - grow(s, reach.down))
    };
    let hi = |s: usize| (band.end + (m - s)).min(region.rows.end + grow(s, reach.up));
    let cols =
        |s: usize| region.cols.start - grow(s, reach.left)..region.cols.end + grow(s, reach.right);
    let (wall_left, wall_right) = (region.cols.start - 1, region.cols.end);

    let levels = m - 1;
    if ring.len() < levels * RING * w {
        ring.resize(levels * RING * w, 0.0);
    }
    let src_row = |j: usize| &src[j * w..(j + 1) * w];

    // Front f: level s works on row f - (s - 1), so level s-1 has already
    // produced the row above the one level s needs.
    for f in lo(1)..hi(1) + levels {
        for s in 1..=m {
            let Some(j) = f.checked_sub(s - 1) else { break };
            if j < lo(s) || j >= hi(s) {
                continue;
            }
            let (prev_levels, cur_levels) = ring.split_at_mut((s - 1) * RING * w);
            // Level s-1's row i: the old field for level 0; a ring row inside
            // level s-1's range; otherwise a wall ghost row (fixed values).
            let prev = |i: usize| -> &[f64] {
                if s == 1 || i < lo(s - 1) || i >= hi(s - 1) {
                    src_row(i)
                } else {
                    let k = ((s - 2) * RING + i % RING) * w;
                    &prev_levels[k..k + w]
                }
            };
            let (south, row, north) = (prev(j - 1), prev(j), prev(j + 1));
            if s == m {
                let k = (j - dst_row0) * w;
                update_cols(&mut dst[k..k + w], row, south, north, cols(s), st);
            } else {
                let out = &mut cur_levels[(j % RING) * w..(j % RING + 1) * w];
                update_cols(out, row, south, north, cols(s), st);
                // The next level reads one column beyond this level's range;
                // on a wall that is the boundary value.
                if !reach.left {
                    out[wall_left] = src_row(j)[wall_left];
                }
                if !reach.right {
                    out[wall_right] = src_row(j)[wall_right];
                }
            }
        }
    }
}

/// The threads of one rank and their scratch rings.
pub struct Team {
    pool: Option<rayon::ThreadPool>,
    rings: Vec<Vec<f64>>,
}

impl Team {
    /// `threads >= 1`; with one thread everything runs on the caller's.
    pub fn new(threads: usize) -> anyhow::Result<Self> {
        let threads = threads.max(1);
        let pool = if threads > 1 {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("parsim-stencil-{i}"))
                    .build()?,
            )
        } else {
            None
        };
        Ok(Self {
            pool,
            rings: vec![Vec::new(); threads],
        })
    }

    pub fn threads(&self) -> usize {
        self.rings.len()
    }

    /// Advance `region` of `u` by `m` steps into `un`, the rows split into
    /// one band per thread.
    pub fn advance(
        &mut self,
        u: &Field,
        un: &mut Field,
        region: &Region,
        reach: Reach,
        m: usize,
        st: &Stencil,
    ) {
        assert_eq!(
            (u.nx(), u.ny(), u.ghosts()),
            (un.nx(), un.ny(), un.ghosts())
        );
        let (w, src) = (u.stride(), u.as_slice());
        let (n, r0) = (region.rows.len(), region.rows.start);
        let bands: Vec<Range<usize>> = (0..self.threads())
            .map(|t| crate::partition::split_range(n, self.threads(), t))
            .filter(|b| !b.is_empty())
            .map(|b| r0 + b.start..r0 + b.end)
            .collect();
        let dst = un.as_mut_slice();
        let Some(pool) = &self.pool else {
            let rows = region.rows.clone();
            let dst = &mut dst[rows.start * w..rows.end * w];
            let ring = &mut self.rings[0];
            advance_band(src, w, dst, rows.start, region, rows, reach, m, st, ring);
            return;
        };
        // Cut the destination into the bands' rows.
        let mut rest = &mut dst[region.rows.start * w..region.rows.end * w];
        let mut work = Vec::with_capacity(bands.len());
        for (band, ring) in bands.into_iter().zip(self.rings.iter_mut()) {
            let (mine, tail) = rest.split_at_mut(band.len() * w);
            rest = tail;
            work.push((mine, band, ring));
        }
        pool.scope(|scope| {
            for (mine, band, ring) in work {
                scope.spawn(move |_| {
                    let row0 = band.start;
                    advance_band(src, w, mine, row0, region, band, reach, m, st, ring);
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A field whose interior and ghosts all hold distinct values.
    fn irregular(nx: usize, ny: usize, g: usize, seed: f64) -> Field {
        let mut u = Field::with_ghosts(nx, ny, g);
        for (k, v) in u.as_mut_slice().iter_mut().enumerate() {
            *v = 50.0 + 30.0 * (k as f64 * 0.618 + seed).sin();
        }
        u
    }

    fn bits(f: &Field) -> Vec<u64> {
        f.interior().iter().map(|v| v.to_bits()).collect()
    }

    /// `m` plain steps on a field whose ghosts are all walls.
    fn plain_steps(u: &Field, m: usize, st: &Stencil) -> Field {
        let (mut a, mut b) = (u.clone(), u.clone());
        for _ in 0..m {
            super::super::kernel::step(&a, &mut b, st);
            std::mem::swap(&mut a, &mut b);
        }
        a
    }

    #[test]
    fn blocked_sweep_equals_plain_steps_between_walls() {
        let st = Stencil::new(0.19, 0.23);
        for (nx, ny) in [(13, 11), (4, 17), (1, 6), (9, 1)] {
            for m in 1..=5 {
                for threads in [1, 2, 3] {
                    let u = irregular(nx, ny, 5, 0.3);
                    let want = plain_steps(&u, m, &st);
                    let mut un = u.clone();
                    let mut team = Team::new(threads).unwrap();
                    team.advance(&u, &mut un, &Region::interior(&u), Reach::default(), m, &st);
                    assert_eq!(bits(&un), bits(&want), "{nx}x{ny} m={m} threads={threads}");
                }
            }
        }
    }

    #[test]
    fn blocked_sweep_reaches_into_valid_halos() {
        // A 30x20 field with walls; cut out the centre 10x8 block with m
        // layers of true values around it: the block's sweep must match the
        // whole field's plain steps.
        let st = Stencil::new(0.21, 0.17);
        let whole = irregular(30, 20, 1, 1.7);
        for m in 1..=4 {
            for threads in [1, 2] {
                let want = plain_steps(&whole, m, &st);
                let (x0, y0, bx, by) = (11, 6, 10, 8);
                let mut part = Field::with_ghosts(bx, by, m);
                let g = m as isize;
                for j in -g..by as isize + g {
                    for i in -g..bx as isize + g {
                        let (gi, gj) = ((x0 as isize + i) as usize, (y0 as isize + j) as usize);
                        let k = (j + g) as usize * part.stride() + (i + g) as usize;
                        part.as_mut_slice()[k] = whole.get(gi, gj);
                    }
                }
                let mut out = part.clone();
                let reach = Reach {
                    down: true,
                    up: true,
                    left: true,
                    right: true,
                };
                let mut team = Team::new(threads).unwrap();
                team.advance(&part, &mut out, &Region::interior(&part), reach, m, &st);
                for j in 0..by {
                    for i in 0..bx {
                        assert_eq!(
                            out.get(i, j).to_bits(),
                            want.get(x0 + i, y0 + j).to_bits(),
                            "m={m} threads={threads} ({i},{j})"
                        );
                    }
                }
            }
        }
    }
}
