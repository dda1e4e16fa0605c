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
//! `dt * S` values; one that does, at every step, by parts
//! ([`crate::expr::stage`]).
//!
//! The term a block gets at each step is [`super::source_term`]'s: the
//! sweep adds it to each row right after computing the row, at every level
//! of a time block, so a run with a source is time-blocked as one without
//! (the same bits for any depth: each cell gets the same two roundings).

use serde::{Serialize, Serializer};

use crate::expr::{self, Program};

/// The variables a source may use, in the order [`Program::eval_at`]
/// reads them.
pub const VARS: [&str; 3] = ["x", "y", "t"];

/// Index of t in [`VARS`].
pub const T: usize = 2;

/// A 3D run's source variables (`--nz`): t last, as in 2D.
pub const VARS3: [&str; 4] = ["x", "y", "z", "t"];

/// A parsed `--source`: its text (as files and reports show it) and its
/// program. Serialised as the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub text: String,
    tree: expr::Node,
    program: Program,
    /// Whether it reads t (then evaluated at every step).
    unsteady: bool,
    /// How many variables it is in: [`VARS`] (2D) or [`VARS3`], t last.
    vars: usize,
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
        Self::parse_in(text, &VARS)
    }

    /// Parse `text` in `vars` ([`VARS`] or [`VARS3`]: t last).
    pub fn parse_in(text: &str, vars: &[&str]) -> Result<Self, String> {
        let tree =
            expr::parse(text, vars).map_err(|why| format!("--source {}: {why}", shown(text)))?;
        Ok(Self::from_tree_in(text, &tree, vars.len()))
    }

    /// A source from a tree in [`VARS`] (`--exact` derives one), shown as
    /// `text`.
    pub fn from_tree(text: &str, tree: &expr::Node) -> Self {
        Self::from_tree_in(text, tree, VARS.len())
    }

    /// A source from a tree in `vars` variables, t the last.
    pub fn from_tree_in(text: &str, tree: &expr::Node, vars: usize) -> Self {
        Self {
            text: text.to_string(),
            program: Program::new(tree),
            tree: tree.clone(),
            unsteady: tree.has_var(vars - 1),
            vars,
        }
    }

    /// How many variables it reads values of (t the last).
    pub fn vars(&self) -> usize {
        self.vars
    }

    /// S at `values` (one per variable, t last).
    pub fn eval(&self, values: &[f64]) -> f64 {
        self.program.eval_at(values)
    }

    /// The expression's tree (in [`VARS`]).
    pub fn tree(&self) -> &expr::Node {
        &self.tree
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
}
