//! What a `--source` ([`super::source`]) adds to the cells of one rank's
//! block at each step: dt S(x, y, t_n), from the cell's global index and
//! the step number (see there why, and in which order). The sweep adds it
//! to each row right after the stencil computes the row, at every level
//! of a time block (so a source runs time-blocked, issue 41), including
//! the cells it computes in the halos.
//!
//! Cost: a source without t is `dt * S` per cell, computed once. One with
//! t is split ([`crate::expr::stage`]): what reads x alone is computed once
//! per column, what does not read x once per row and step, and only the
//! rest per cell, by the batched evaluator; the same bits as evaluating
//! the whole expression per cell.

use std::ops::Range;

use super::decomp::Block;
use super::decomp3d::Block3;
use super::kernel::Field;
use super::source::Source;
use crate::expr::batch::{Arg, Batch, BLOCK};
use crate::expr::{stage, Program};

/// One rank's source term over its field's storage (ghost layers
/// included: a time block computes cells there too).
#[derive(Debug, Clone)]
pub struct SourceTerm {
    dt: f64,
    /// Row length of the storage.
    w: usize,
    /// x of each storage column, and the other coordinates of each
    /// storage row, `per` a row: y in 2D, (y, z) in 3D (a 3D block's
    /// storage is `(nz + 2)(ny + 2)` rows of `nx + 2`, row `k (ny + 2) + j`).
    xs: Vec<f64>,
    rows: Vec<f64>,
    per: usize,
    how: How,
}

#[derive(Debug, Clone)]
enum How {
    /// `dt * S(x, y)` per storage cell, for a source without t.
    Steady(Vec<f64>),
    /// The staged expression.
    Unsteady(Box<Unsteady>),
}

/// A source with t, split by what each part reads ([`stage::stage`]).
#[derive(Debug, Clone)]
struct Unsteady {
    /// What runs per cell.
    vector: Batch,
    /// The parts in x alone: a value per storage column.
    cached: Vec<Vec<f64>>,
    /// The parts in x and t: their programs, and their values per column
    /// for each step of the round ([`SourceTerm::prepare`]): level l, part
    /// k at `[(l * stepped.len() + k) * w..][..w]`, for step `first + l`.
    stepped: Vec<Batch>,
    levels: Vec<f64>,
    first: u64,
    /// The parts without x: evaluated once per row and step.
    scalars: Vec<Program>,
}

/// The coordinates of storage indices `0..len` of a block whose first
/// interior cell is global cell `first`, `g` ghost layers deep, at spacing
/// `d`: (i + 1) d for global index i (negative in ghosts past a wall, never
/// read there).
fn coords(first: usize, g: usize, len: usize, d: f64) -> Vec<f64> {
    (0..len)
        .map(|k| (first as i64 + k as i64 - g as i64 + 1) as f64 * d)
        .collect()
}

impl SourceTerm {
    /// For `block` held in fields shaped like `u` (its ghost layers), on a
    /// grid of spacing `(dx, dy)` stepped by `dt`.
    pub fn new(source: &Source, block: &Block, u: &Field, (dx, dy): (f64, f64), dt: f64) -> Self {
        let (g, w) = (u.ghosts(), u.stride());
        let xs = coords(block.cols.start, g, w, dx);
        let ys = coords(block.rows.start, g, u.ny() + 2 * g, dy);
        Self::over(source, xs, (ys, 1), dt)
    }

    /// For a 3D `block` held in fields of interior extents `[nx, ny, nz]`
    /// (one ghost layer), on a grid of spacing `d` stepped by `dt`.
    pub fn new3(
        source: &Source,
        block: &Block3,
        extents: [usize; 3],
        d: [f64; 3],
        dt: f64,
    ) -> Self {
        let [nx, ny, nz] = extents;
        let xs = coords(block.cols.start, 1, nx + 2, d[0]);
        let ys = coords(block.rows.start, 1, ny + 2, d[1]);
        let zs = coords(block.planes.start, 1, nz + 2, d[2]);
        let rows = (zs.iter())
            .flat_map(|&z| ys.iter().flat_map(move |&y| [y, z]))
            .collect();
        Self::over(source, xs, (rows, 2), dt)
    }

    /// Over storage columns at `xs` and rows at `rows`, `per` coordinates
    /// a row (the source's variables: x, those, t).
    fn over(source: &Source, xs: Vec<f64>, (rows, per): (Vec<f64>, usize), dt: f64) -> Self {
        debug_assert_eq!(source.vars(), per + 2);
        let w = xs.len();
        let staged = stage::stage(source.tree(), 0, Some(per + 1), per + 2);
        let cached = (staged.cached.iter())
            .map(|c| {
                let p = Program::new(c);
                xs.iter().map(|&x| p.eval_at(&[x])).collect()
            })
            .collect();
        let how = How::Unsteady(Box::new(Unsteady {
            vector: Batch::new(&Program::new(&staged.vector)),
            cached,
            stepped: (staged.stepped.iter())
                .map(|c| Batch::new(&Program::new(c)))
                .collect(),
            levels: Vec::new(),
            first: 0,
            scalars: staged.scalars.iter().map(Program::new).collect(),
        }));
        let mut term = Self {
            dt,
            w,
            xs,
            rows,
            per,
            how,
        };
        if !source.is_unsteady() {
            // Once, by the staged evaluator (the same bits as per cell,
            // many times faster: a 3D block's every cell).
            term.how = How::Steady(term.every_row());
        }
        term
    }

    /// `dt * S` at t = 0 over every storage row, row after row.
    fn every_row(&self) -> Vec<f64> {
        let (w, rows) = (self.w, self.rows.len() / self.per);
        let mut values = vec![0.0; rows * w];
        let (mut into, mut scratch) = (vec![0.0; w], Vec::new());
        for (r, row) in values.chunks_mut(w).enumerate() {
            row.copy_from_slice(self.addend((0, r), 0..w, &mut into, &mut scratch));
        }
        values
    }

    /// `dt * S(x, y, t_n)`, t_n = `step` * dt, for columns `cols` of
    /// storage row `r`, as a whole storage row (only `cols` meaningful):
    /// the steady values themselves, or computed into `into` (a row's
    /// length). `scratch`: the evaluator's registers, kept by the caller.
    #[inline(always)]
    pub fn addend<'s>(
        &'s self,
        (step, r): (u64, usize),
        cols: Range<usize>,
        into: &'s mut [f64],
        scratch: &mut Vec<f64>,
    ) -> &'s [f64] {
        let u = match &self.how {
            How::Steady(values) => return &values[r * self.w..(r + 1) * self.w],
            How::Unsteady(u) => u,
        };
        let (vector, cached, scalars) = (&u.vector, &u.cached, &u.scalars);
        let (per, t) = (self.per, step as f64 * self.dt);
        let other = &self.rows[r * per..(r + 1) * per];
        // The variables' values for the parts without x: x (unread), the
        // row's coordinates, t.
        let mut point = [0.0f64; 4];
        point[1..=per].copy_from_slice(other);
        point[per + 1] = t;
        let point = &point[..per + 2];
        let w = self.w;
        let level = (step - u.first) as usize * u.stepped.len();
        assert!(
            (level + u.stepped.len()) * w <= u.levels.len(),
            "step {step} not prepared"
        );
        // At most a few per expression: on the stack, not the heap.
        let mut at = [0.0f64; 16];
        let mut more = Vec::new();
        let at: &[f64] = if scalars.len() <= at.len() {
            for (v, p) in at.iter_mut().zip(scalars) {
                *v = p.eval_at(point);
            }
            &at[..scalars.len()]
        } else {
            more.extend(scalars.iter().map(|p| p.eval_at(point)));
            &more
        };
        let mut args = Vec::with_capacity(per + 2 + cached.len() + at.len());
        for (k, part) in into[cols.clone()].chunks_mut(BLOCK).enumerate() {
            let c0 = cols.start + k * BLOCK;
            let c = c0..c0 + part.len();
            args.clear();
            args.push(Arg::Col(&self.xs[c.clone()]));
            args.extend(point[1..].iter().map(|&v| Arg::Scalar(v)));
            args.extend(cached.iter().map(|col| Arg::Col(&col[c.clone()])));
            args.extend(
                (0..u.stepped.len()).map(|k| Arg::Col(&u.levels[(level + k) * w..][c.clone()])),
            );
            args.extend(at.iter().map(|&v| Arg::Scalar(v)));
            vector.eval_into(&args, part, scratch, self.dt);
        }
        into
    }

    /// Before a round of `m` steps from step `from`: the parts in x and t
    /// for each of its steps, once per column (not per row).
    pub fn prepare(&mut self, from: u64, m: usize) {
        let (dt, w, xs, per) = (self.dt, self.w, &self.xs, self.per);
        let How::Unsteady(u) = &mut self.how else {
            return;
        };
        let n = u.stepped.len();
        u.first = from;
        if n == 0 {
            return;
        }
        u.levels.resize(m * n * w, 0.0);
        let mut scratch = Vec::new();
        for (l, level) in u.levels.chunks_mut(n * w).enumerate() {
            let t = (from + l as u64) as f64 * dt;
            for (part, values) in u.stepped.iter().zip(level.chunks_mut(w)) {
                for (c, out) in xs.chunks(BLOCK).zip(values.chunks_mut(BLOCK)) {
                    // x, the row's coordinates (unread), t.
                    let mut args = [Arg::Scalar(f64::NAN); 4];
                    args[0] = Arg::Col(c);
                    args[per + 1] = Arg::Scalar(t);
                    part.eval_into(&args[..per + 2], out, &mut scratch, 1.0);
                }
            }
        }
    }

    /// A row's length in the storage.
    pub fn row_len(&self) -> usize {
        self.w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::source::Source;

    /// The term added to every interior row of `u` at `step`, as the
    /// sweep adds it to a stencil value.
    fn add(term: &SourceTerm, u: &mut Field, step: u64) {
        let (g, w, nx, ny) = (u.ghosts(), u.stride(), u.nx(), u.ny());
        let (mut scratch, mut into) = (Vec::new(), vec![0.0; w]);
        let mut term = term.clone();
        term.prepare(step, 1);
        for r in g..g + ny {
            let s = term.addend((step, r), g..g + nx, &mut into, &mut scratch);
            let row = &mut u.as_mut_slice()[r * w..(r + 1) * w];
            for c in g..g + nx {
                row[c] += s[c];
            }
        }
    }

    /// The old term, cell by cell: dt * S(x, y, t) from the global index.
    fn per_cell(
        s: &Source,
        block: &Block,
        u: &mut Field,
        (dx, dy): (f64, f64),
        dt: f64,
        step: u64,
    ) {
        let t = step as f64 * dt;
        for (j, gj) in block.rows.clone().enumerate() {
            for (i, gi) in block.cols.clone().enumerate() {
                let v = u.get(i, j) + dt * s.at((gi + 1) as f64 * dx, (gj + 1) as f64 * dy, t);
                u.set(i, j, v);
            }
        }
    }

    fn irregular(nx: usize, ny: usize, g: usize) -> Field {
        let mut u = Field::with_ghosts(nx, ny, g);
        u.as_mut_slice()
            .iter_mut()
            .enumerate()
            .for_each(|(k, v)| *v = (k as f64 * 0.37).sin());
        u
    }

    #[test]
    fn every_source_adds_the_bits_of_its_expression_per_cell() {
        let block = Block {
            cols: 2..300,
            rows: 1..4,
        };
        let (d, dt) = ((0.01, 0.2), 1e-3);
        for text in [
            "sin(3*x)*y",
            "sin(3*x)*y + 0*t",
            "exp(-t)*sin(pi*x)*cos(2*pi*y) + x^2 - y*t",
            "t",
            "x*y*t^2 + sqrt(t*x)",
        ] {
            let s = Source::parse(text).unwrap();
            for g in [1, 3] {
                let mut u = irregular(298, 3, g);
                let mut want = u.clone();
                let term = SourceTerm::new(&s, &block, &u, d, dt);
                add(&term, &mut u, 7);
                per_cell(&s, &block, &mut want, d, dt, 7);
                assert_eq!(u, want, "{text} with {g} ghost layers");
            }
        }
    }

    #[test]
    fn time_is_the_step_times_dt_never_a_running_sum() {
        let block = Block {
            cols: 0..1,
            rows: 0..1,
        };
        let s = Source::parse("t").unwrap();
        let dt = 0.1;
        let mut u = Field::zeros(1, 1);
        let term = SourceTerm::new(&s, &block, &u, (1.0, 1.0), dt);
        add(&term, &mut u, 3);
        assert_eq!(u.get(0, 0), dt * (3.0 * dt));
    }
}
