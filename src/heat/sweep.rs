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

use super::kernel::{
    update_cols, update_cols2, update_cols2_plus, update_cols_plus, Field, Stencil,
};
use super::source_term::SourceTerm;

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

/// One band's share of a sweep: advance rows `band` of `region` of `src`
/// (a whole field of row length `w`) by `m >= 1` steps. Toward the other
/// bands of the region the sweep reaches as far as it needs; toward the
/// region's sides only as `reach` allows.
pub struct Band<'a> {
    pub src: &'a [f64],
    pub w: usize,
    pub region: &'a Region,
    pub band: Range<usize>,
    pub reach: Reach,
    pub m: usize,
    pub st: &'a Stencil,
    /// A source and the step the sweep starts from: level s adds the
    /// source at step from + s - 1 to each row it computes.
    pub source: Option<(&'a SourceTerm, u64)>,
}

impl Band<'_> {
    /// Write the band's rows into `dst`, which holds the destination's
    /// storage rows from `band.start` on. `ring` and `scratch` (the
    /// source's evaluator) are scratch space kept between calls (so a sweep
    /// allocates nothing).
    pub fn run(&self, dst: &mut [f64], (ring, scratch): (&mut Vec<f64>, &mut SourceScratch)) {
        let (w, m, region, reach, band) = (self.w, self.m, self.region, self.reach, &self.band);
        assert!(m >= 1);
        if region.is_empty() || band.is_empty() {
            return;
        }
        let e = m - 1;
        let (r, c) = (&region.rows, &region.cols);
        // Every level's row and column range must stay inside the buffers.
        assert!(r.start > e * usize::from(reach.down) && c.start > e * usize::from(reach.left));
        assert!((r.end + 1 + e * usize::from(reach.up)) * w <= self.src.len());
        assert!(c.end + e * usize::from(reach.right) < w);
        assert!(band.start >= r.start && band.end <= r.end);
        assert!(band.len() * w <= dst.len());
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                unsafe { self.run_avx2(dst, ring, scratch) };
                return;
            }
        }
        self.run_generic(dst, ring, scratch);
    }

    /// The same code compiled for 256-bit vectors and the FMA instruction
    /// (`mul_add` is fused in every path: same rounding).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(&self, dst: &mut [f64], ring: &mut Vec<f64>, scratch: &mut SourceScratch) {
        self.run_generic(dst, ring, scratch)
    }

    #[inline(always)]
    fn run_generic(&self, dst: &mut [f64], ring: &mut Vec<f64>, scratch: &mut SourceScratch) {
        let (w, levels) = (self.w, self.m - 1);
        if ring.len() < levels * RING * w {
            ring.resize(levels * RING * w, 0.0);
        }
        if self.source.is_some() && scratch.rows.len() < 2 * w {
            scratch.rows.resize(2 * w, 0.0);
        }
        // Front f (every other row): level s works on rows j = f - (s - 1)
        // and j + 1, so level s-1 has already produced the rows up to j + 2
        // it needs.
        for f in (self.lo(1)..self.hi(1) + levels).step_by(2) {
            for s in 1..=self.m {
                let Some(j) = f.checked_sub(s - 1) else {
                    break;
                };
                self.level_rows(s, j, dst, (ring, scratch));
            }
        }
    }

    /// The source's `dt * S` for level s's rows j and j + 1 (those in its
    /// range), added to each cell's stencil value (so the same bits as
    /// adding it after the step). Direct calls, not a closure: `addend` is
    /// inlined here, so its evaluator is compiled for AVX2 with the sweep.
    #[inline(always)]
    fn source_rows<'s>(
        &'s self,
        s: usize,
        j: usize,
        cs: &Range<usize>,
        scratch: &'s mut SourceScratch,
    ) -> (Option<&'s [f64]>, Option<&'s [f64]>) {
        let Some((source, from)) = self.source else {
            return (None, None);
        };
        let inside = |i: usize| i >= self.lo(s) && i < self.hi(s);
        let (a0, a1) = scratch.rows.split_at_mut(source.row_len());
        let (step, regs) = (from + (s - 1) as u64, &mut scratch.regs);
        let add_j = if inside(j) {
            Some(source.addend((step, j), cs.clone(), a0, regs))
        } else {
            None
        };
        let add_j1 = if inside(j + 1) {
            Some(source.addend((step, j + 1), cs.clone(), a1, regs))
        } else {
            None
        };
        (add_j, add_j1)
    }

    /// Level s (1..=m) covers rows `lo(s)..hi(s)` and columns `cols(s)`:
    /// the band grown by m - s cells, but past the region's sides only
    /// where they reach.
    #[inline(always)]
    fn grow(&self, s: usize, side: bool) -> usize {
        (self.m - s) * usize::from(side)
    }

    #[inline(always)]
    fn lo(&self, s: usize) -> usize {
        let start = self.region.rows.start - self.grow(s, self.reach.down);
        self.band.start.saturating_sub(self.m - s).max(start)
    }

    #[inline(always)]
    fn hi(&self, s: usize) -> usize {
        let end = self.region.rows.end + self.grow(s, self.reach.up);
        (self.band.end + (self.m - s)).min(end)
    }

    #[inline(always)]
    fn cols(&self, s: usize) -> Range<usize> {
        let c = &self.region.cols;
        c.start - self.grow(s, self.reach.left)..c.end + self.grow(s, self.reach.right)
    }

    /// Level s's rows j and j + 1, those in its range: together where both
    /// are (unroll and jam), alone at the range's ends. Level s-1's rows
    /// come from the old field (level 0), its ring inside its range, or
    /// else the wall ghost rows (fixed values); level s writes into its
    /// ring, or into `dst` at the last level.
    #[inline(always)]
    fn level_rows(
        &self,
        s: usize,
        j: usize,
        dst: &mut [f64],
        (ring, scratch): (&mut [f64], &mut SourceScratch),
    ) {
        let (w, m, src) = (self.w, self.m, self.src);
        let inside = |i: usize| i >= self.lo(s) && i < self.hi(s);
        if !inside(j) && !inside(j + 1) {
            return;
        }
        let src_row = |i: usize| &src[i * w..(i + 1) * w];
        let (prev_levels, cur_levels) = ring.split_at_mut((s - 1) * RING * w);
        let prev = |i: usize| -> &[f64] {
            if s == 1 || i < self.lo(s - 1) || i >= self.hi(s - 1) {
                src_row(i)
            } else {
                let k = ((s - 2) * RING + i % RING) * w;
                &prev_levels[k..k + w]
            }
        };
        let out_at = |i: usize| {
            if s == m {
                (i - self.band.start) * w
            } else {
                (i % RING) * w
            }
        };
        let out: &mut [f64] = if s == m {
            dst
        } else {
            &mut cur_levels[..RING * w]
        };
        let cs = self.cols(s);
        let (add_j, add_j1) = self.source_rows(s, j, &cs, scratch);
        if inside(j) && inside(j + 1) {
            let rows = [prev(j - 1), prev(j), prev(j + 1), prev(j + 2)];
            let out2 = two_rows(out, w, out_at(j), out_at(j + 1));
            match (add_j, add_j1) {
                (Some(p0), Some(p1)) => update_cols2_plus(out2, rows, cs, self.st, (p0, p1)),
                _ => update_cols2(out2, rows, cs, self.st),
            }
        } else {
            let (i, add) = if inside(j) {
                (j, add_j)
            } else {
                (j + 1, add_j1)
            };
            let k = out_at(i);
            let (row, south, north) = (prev(i), prev(i - 1), prev(i + 1));
            match add {
                Some(p) => {
                    update_cols_plus(&mut out[k..k + w], (row, south, north), cs, self.st, p)
                }
                None => update_cols(&mut out[k..k + w], row, south, north, cs, self.st),
            }
        }
        if s == m {
            return;
        }
        // The next level reads one column beyond this level's range; on a
        // wall that is the boundary value.
        let (wall_left, wall_right) = (self.region.cols.start - 1, self.region.cols.end);
        for i in [j, j + 1].into_iter().filter(|&i| inside(i)) {
            let row = &mut out[out_at(i)..out_at(i) + w];
            if !self.reach.left {
                row[wall_left] = src_row(i)[wall_left];
            }
            if !self.reach.right {
                row[wall_right] = src_row(i)[wall_right];
            }
        }
    }
}

/// Two distinct rows of length `w` of `buf`, starting at `a` and `b`.
fn two_rows(buf: &mut [f64], w: usize, a: usize, b: usize) -> (&mut [f64], &mut [f64]) {
    if a < b {
        let (x, y) = buf.split_at_mut(b);
        (&mut x[a..a + w], &mut y[..w])
    } else {
        let (y, x) = buf.split_at_mut(a);
        (&mut x[..w], &mut y[b..b + w])
    }
}

/// Rows kept per intermediate level: level `s` row `j` needs level `s-1`
/// rows `j-1..=j+1`, and level `s-1` has just produced row `j+1`.
pub(super) const RING: usize = 4;

/// The cells of a block that need no ghost value from a neighbour (updated
/// while the halos travel) and the strips along the sides that face a
/// neighbour (updated after). Sides on a wall need no waiting.
pub fn split_edges(u: &Field, reach: Reach) -> (Region, Vec<Region>) {
    let whole = Region::interior(u);
    let (r, c) = (whole.rows.clone(), whole.cols.clone());
    let cut = |side: bool| usize::from(side);
    let inner_rows = r.start + cut(reach.down)..r.end.saturating_sub(cut(reach.up));
    let inner_cols = c.start + cut(reach.left)..c.end.saturating_sub(cut(reach.right));
    if inner_rows.is_empty() || inner_cols.is_empty() {
        let empty = Region {
            rows: r.start..r.start,
            cols: c,
        };
        return (empty, vec![whole]);
    }
    let mut edges = Vec::new();
    if reach.down {
        edges.push(Region {
            rows: r.start..r.start + 1,
            cols: c.clone(),
        });
    }
    if reach.up {
        edges.push(Region {
            rows: r.end - 1..r.end,
            cols: c.clone(),
        });
    }
    if reach.left {
        edges.push(Region {
            rows: inner_rows.clone(),
            cols: c.start..c.start + 1,
        });
    }
    if reach.right {
        edges.push(Region {
            rows: inner_rows.clone(),
            cols: c.end - 1..c.end,
        });
    }
    let inner = Region {
        rows: inner_rows,
        cols: inner_cols,
    };
    (inner, edges)
}

/// A thread's space for a source: two rows of `dt * S` (the rows a level
/// computes together) and the evaluator's registers.
#[derive(Debug, Clone, Default)]
pub struct SourceScratch {
    rows: Vec<f64>,
    regs: Vec<f64>,
}

/// The threads of one rank and their scratch rings.
pub struct Team {
    pool: Option<rayon::ThreadPool>,
    /// Each thread's rings and source scratch.
    rings: Vec<(Vec<f64>, SourceScratch)>,
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
            rings: vec![(Vec::new(), SourceScratch::default()); threads],
        })
    }

    pub fn threads(&self) -> usize {
        self.rings.len()
    }

    /// Advance `region` of `u` by `m` steps into `un`, the rows split into
    /// one band per thread, adding `source` (from its step) at each.
    pub fn advance(
        &mut self,
        u: &Field,
        un: &mut Field,
        region: &Region,
        (reach, m): (Reach, usize),
        st: &Stencil,
        source: Option<(&SourceTerm, u64)>,
    ) {
        assert_eq!(
            (u.nx(), u.ny(), u.ghosts()),
            (un.nx(), un.ny(), un.ghosts())
        );
        let (w, src) = (u.stride(), u.as_slice());
        let (n, r0) = (region.rows.len(), region.rows.start);
        let threads = self.threads();
        let job = move |band| Band {
            src,
            w,
            region,
            band,
            reach,
            m,
            st,
            source,
        };
        // Cut the destination into one band of rows per thread.
        let mut rest = &mut un.as_mut_slice()[region.rows.start * w..region.rows.end * w];
        let mut work = Vec::with_capacity(threads);
        for (t, ring) in self.rings.iter_mut().enumerate() {
            let b = crate::partition::split_range(n, threads, t);
            if b.is_empty() {
                continue;
            }
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(b.len() * w);
            rest = tail;
            work.push((mine, r0 + b.start..r0 + b.end, ring));
        }
        match &self.pool {
            None => {
                for (mine, band, (ring, scratch)) in work {
                    job(band).run(mine, (ring, scratch));
                }
            }
            Some(pool) => pool.scope(|scope| {
                for (mine, band, (ring, scratch)) in work {
                    scope.spawn(move |_| job(band).run(mine, (ring, scratch)));
                }
            }),
        }
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
        for (nx, ny) in [(13, 11), (4, 17), (1, 6), (9, 1), (7, 23), (5, 8), (3, 2)] {
            for m in 1..=5 {
                for threads in [1, 2, 3] {
                    let u = irregular(nx, ny, 5, 0.3);
                    let want = plain_steps(&u, m, &st);
                    let mut un = u.clone();
                    let mut team = Team::new(threads).unwrap();
                    team.advance(
                        &u,
                        &mut un,
                        &Region::interior(&u),
                        (Reach::default(), m),
                        &st,
                        None,
                    );
                    assert_eq!(bits(&un), bits(&want), "{nx}x{ny} m={m} threads={threads}");
                }
            }
        }
    }

    #[test]
    fn overlap_split_covers_the_block_once() {
        let st = Stencil::new(0.2, 0.15);
        for (nx, ny) in [(9, 7), (2, 5), (1, 1), (6, 2)] {
            let u = irregular(nx, ny, 1, 0.9);
            let want = plain_steps(&u, 1, &st);
            for bits_of in 0..16u8 {
                let reach = Reach {
                    down: bits_of & 1 != 0,
                    up: bits_of & 2 != 0,
                    left: bits_of & 4 != 0,
                    right: bits_of & 8 != 0,
                };
                let (inner, edges) = split_edges(&u, reach);
                let mut out = u.clone();
                let mut team = Team::new(1).unwrap();
                for part in std::iter::once(&inner).chain(&edges) {
                    team.advance(&u, &mut out, part, (Reach::default(), 1), &st, None);
                }
                assert_eq!(bits(&out), bits(&want), "{nx}x{ny} {reach:?}");
                // Sides on a wall are not held back.
                if reach == Reach::default() {
                    assert!(edges.is_empty() || nx < 3 || ny < 3);
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
                team.advance(
                    &part,
                    &mut out,
                    &Region::interior(&part),
                    (reach, m),
                    &st,
                    None,
                );
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
