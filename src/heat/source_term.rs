//! What a `--source` ([`super::source`]) adds to one rank's block after
//! each step: dt S(x, y, t_n) per interior cell, from the cell's global
//! index and the step number (see there why, and in which order).

use std::ops::Range;

use super::decomp::Block;
use super::kernel::Field;
use super::source::Source;

/// One rank's source term: what it adds to its block after each step.
#[derive(Debug, Clone)]
pub struct SourceTerm {
    source: Source,
    dt: f64,
    /// x of each column and y of each row of the block.
    xs: Vec<f64>,
    ys: Vec<f64>,
    /// `dt * S(x, y)` per cell, row-major, for a source without t.
    steady: Option<Vec<f64>>,
}

/// The coordinates of global interior cells `range` at spacing `d`:
/// (i + 1) d.
fn coords(range: Range<usize>, d: f64) -> Vec<f64> {
    range.map(|i| (i + 1) as f64 * d).collect()
}

impl SourceTerm {
    /// For `block` of a grid of spacing `(dx, dy)` stepped by `dt`.
    pub fn new(source: &Source, block: &Block, (dx, dy): (f64, f64), dt: f64) -> Self {
        let mut term = Self {
            source: source.clone(),
            dt,
            xs: coords(block.cols.clone(), dx),
            ys: coords(block.rows.clone(), dy),
            steady: None,
        };
        if !source.is_unsteady() {
            let (xs, ys) = (&term.xs, &term.ys);
            let values = ys
                .iter()
                .flat_map(|&y| xs.iter().map(move |&x| dt * source.at(x, y, 0.0)))
                .collect();
            term.steady = Some(values);
        }
        term
    }

    /// Add `dt * S(x, y, t_n)`, with t_n = `step` * dt, to every interior
    /// cell of `u` (this block's field after the step from `step`).
    pub fn add(&self, u: &mut Field, step: u64) {
        let (nx, g, w) = (u.nx(), u.ghosts(), u.stride());
        debug_assert_eq!((nx, u.ny()), (self.xs.len(), self.ys.len()));
        let data = u.as_mut_slice();
        let t = step as f64 * self.dt;
        for (j, &y) in self.ys.iter().enumerate() {
            let row = &mut data[(j + g) * w + g..(j + g) * w + g + nx];
            match &self.steady {
                Some(values) => {
                    for (v, s) in row.iter_mut().zip(&values[j * nx..(j + 1) * nx]) {
                        *v += s;
                    }
                }
                None => {
                    for (v, &x) in row.iter_mut().zip(&self.xs) {
                        *v += self.dt * self.source.at(x, y, t);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::source::Source;

    #[test]
    fn steady_and_unsteady_terms_add_the_same_bits_per_cell() {
        // The steady path precomputes dt*S; the unsteady one computes it
        // per step: for a source without t, `x*y + 0*t` takes the other
        // path with the same values.
        let block = Block {
            cols: 2..5,
            rows: 1..3,
        };
        let steady = Source::parse("sin(3*x)*y").unwrap();
        let unsteady = Source::parse("sin(3*x)*y + 0*t").unwrap();
        let (d, dt) = ((0.1, 0.2), 1e-3);
        let (a, b) = (
            SourceTerm::new(&steady, &block, d, dt),
            SourceTerm::new(&unsteady, &block, d, dt),
        );
        let mut u = Field::with_ghosts(3, 2, 2);
        u.as_mut_slice()
            .iter_mut()
            .enumerate()
            .for_each(|(k, v)| *v = k as f64);
        let mut v = u.clone();
        a.add(&mut u, 7);
        b.add(&mut v, 7);
        assert_eq!(u, v);
        // Cell (0, 0) of the block is global (2, 1): x = 3 dx, y = 2 dy.
        let (x, y) = (3.0 * 0.1f64, 2.0 * 0.2f64);
        let k = 2 * u.stride() + 2;
        assert_eq!(u.as_slice()[k], k as f64 + dt * ((3.0 * x).sin() * y));
        // Ghosts untouched.
        assert_eq!(u.as_slice()[0], 0.0);
    }

    #[test]
    fn time_is_the_step_times_dt_never_a_running_sum() {
        let block = Block {
            cols: 0..1,
            rows: 0..1,
        };
        let s = Source::parse("t").unwrap();
        let dt = 0.1;
        let term = SourceTerm::new(&s, &block, (1.0, 1.0), dt);
        let mut u = Field::zeros(1, 1);
        term.add(&mut u, 3);
        assert_eq!(u.get(0, 0), dt * (3.0 * dt));
    }
}
