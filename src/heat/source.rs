//! heat's source term, `--source 'EXPR'` in x, y and t: the equation
//! becomes u_t = alpha (u_xx + u_yy) + S(x, y, t), stepped as
//!
//! ```text
//! u^{n+1} = [the 5-point update of u^n] + dt S(x_i, y_j, t_n)
//! ```
//!
//! the stencil's value rounded first (the same bits as without a source),
//! then `dt * S` added, one rounding more. Why this order: the kernel
//! without a source stays exactly as it is (its bits and its speed), and
//! the source is a pass of its own over the block after each step.
//!
//! Every value is a function of the cell's global index and of the step
//! number only, so the field is the same bits on any rank count, process
//! grid or thread count: x = (i + 1) dx and y = (j + 1) dy for global
//! interior cell (i, j) (the walls at 0 and (n + 1) d, as the `sine` start
//! and the file's x and y datasets), t_n = n dt computed as a product from
//! the step number (never accumulated, so a restart gives the same bits).
//! A source that does not read t is evaluated once into a field of
//! `dt * S` values; one that does, at every step.
//!
//! Time blocking advances several steps per sweep inside the kernel, which
//! has no place for the source: a run with a source steps one at a time
//! (time block 1), and the plan, the dry run and the report say so when
//! another depth was asked for or would have been chosen.

use std::ops::Range;

use serde::{Serialize, Serializer};

use super::decomp::Block;
use super::kernel::Field;
use crate::expr::{self, Program};

/// The variables a source may use, in the order [`Program::eval_at`]
/// reads them.
pub const VARS: [&str; 3] = ["x", "y", "t"];

/// Index of t in [`VARS`].
const T: usize = 2;

/// A parsed `--source`: its text (as files and reports show it) and its
/// program. Serialised as the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub text: String,
    program: Program,
    /// Whether it reads t (then evaluated at every step).
    unsteady: bool,
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// An expression as a message shows it: quoted, its first 40 characters.
pub fn shown(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() {
        format!("'{cut}...'")
    } else {
        format!("'{cut}'")
    }
}

impl Source {
    /// Parse `text` in x, y, t; the error is one line naming the option,
    /// e.g. `--source 'z*x': unknown name 'z' (this expression may use x,
    /// y, t)`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let tree =
            expr::parse(text, &VARS).map_err(|why| format!("--source {}: {why}", shown(text)))?;
        Ok(Self::from_tree(text, &tree))
    }

    /// A source from a tree in [`VARS`] (`--exact` derives one), shown as
    /// `text`.
    pub fn from_tree(text: &str, tree: &expr::Node) -> Self {
        Self {
            text: text.to_string(),
            program: Program::new(tree),
            unsteady: tree.has_var(T),
        }
    }

    /// Whether it depends on t.
    pub fn is_unsteady(&self) -> bool {
        self.unsteady
    }

    /// S(x, y, t).
    pub fn at(&self, x: f64, y: f64, t: f64) -> f64 {
        self.program.eval_at(&[x, y, t])
    }
}

/// What the plan, the dry run and the report say when a source holds the
/// time block to 1 where `asked` was asked for or would have been chosen.
pub fn depth_note(asked: usize) -> String {
    format!("not {asked}: the source is added after each step, which time blocking cannot carry")
}

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
    /// `cfg`'s source term on `block`, if it has a source.
    pub fn for_config(cfg: &super::config::HeatConfig, block: &Block) -> Option<Self> {
        let source = cfg.source.as_ref()?;
        Some(Self::new(source, block, (cfg.dx, cfg.dy), cfg.dt))
    }

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

    #[test]
    fn a_bad_source_is_one_line_naming_the_option_and_the_variables() {
        let err = Source::parse("z*x").unwrap_err();
        assert_eq!(
            err,
            "--source 'z*x': unknown name 'z' (this expression may use x, y, t)"
        );
        assert!(Source::parse("sin(x")
            .unwrap_err()
            .starts_with("--source 'sin(x': "));
        assert!(!Source::parse("x*y").unwrap().is_unsteady());
        assert!(Source::parse("x*exp(-t)").unwrap().is_unsteady());
    }

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
