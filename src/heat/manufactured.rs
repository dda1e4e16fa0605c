//! `--exact 'EXPR(x, y, t)'`: verification by a manufactured solution.
//!
//! Any smooth u(x, y, t) solves u_t = alpha (u_xx + u_yy) + S with the
//! source S = u_t - alpha (u_xx + u_yy): S is derived here symbolically
//! (the expression code's derivatives, [`crate::expr`]), the initial field
//! is u at t = 0 in every interior cell, and the four walls are expression
//! walls ([`super::walls`]) holding u at the wall's position (x = 0 and
//! (nx + 1) dx, y = 0 and (ny + 1) dy) and t_n. The run's error against u
//! at the final time is then the scheme's own: O(dx^2 + dt), so O(dx^2)
//! with dt in proportion to dx^2, which `--refine` measures.
//!
//! No MPI here, and nothing of the field: the initial field is filled by
//! `super::checkpoint`, the errors summed exactly ([`crate::exact`]) by
//! `super::validate`, both from [`Manufactured::at`].

use serde::{Serialize, Serializer};

use super::source::{shown, Source, VARS};
use crate::expr::{self, add, mul, sub, NoDerivative, Node, Program};

/// A parsed `--exact`: its text and its program in x, y, t.
#[derive(Debug, Clone, PartialEq)]
pub struct Manufactured {
    pub text: String,
    program: Program,
}

impl Serialize for Manufactured {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// What `--exact` makes of a problem: the solution, its source and walls.
pub struct Derived {
    pub exact: Manufactured,
    pub source: Source,
    /// The left, right, bottom and top walls' expressions, in (y, t) for
    /// left and right, (x, t) for bottom and top (expression walls).
    pub walls: [String; 4],
}

/// The source's name in reports (its text is derived, not the user's).
pub const SOURCE_TEXT: &str = "u_t - alpha (u_xx + u_yy) of --exact";

/// Derive the problem of `text` with diffusivity `alpha` on a domain of
/// `(lx, ly)` (the walls' positions); one line naming the option when it
/// does not parse, is not smooth, or its derivatives grow too large.
pub fn derive(text: &str, alpha: f64, (lx, ly): (f64, f64)) -> Result<Derived, String> {
    let bad = |why: String| format!("--exact {}: {why}", shown(text));
    let u = expr::parse(text, &VARS).map_err(bad)?;
    for var in 0..VARS.len() {
        if let Some((f, _)) = u.rough_calls(var).first() {
            return Err(bad(format!(
                "{}() has no derivative where its argument crosses a break; a manufactured \
                 solution needs u_t, u_xx and u_yy everywhere",
                f.name()
            )));
        }
    }
    let too_large = |NoDerivative::TooLarge| {
        bad(format!(
            "its derivatives grow past {} terms (u_t, u_xx and u_yy are needed)",
            expr::MAX_NODES
        ))
    };
    let d = |n: &Node, v: usize| n.derivative(v).map_err(too_large);
    let (u_t, u_xx, u_yy) = (d(&u, 2)?, d(&d(&u, 0)?, 0)?, d(&d(&u, 1)?, 1)?);
    let s = sub(u_t, mul(Node::Num(alpha), add(u_xx, u_yy)));
    // A wall: u with x (or y) fixed at the wall, in (along, t).
    let wall = |fixed: usize, at: f64, along: &str| {
        let on = u.substitute(&|i| match i {
            _ if i == fixed => Node::Num(at),
            2 => Node::Var(1),
            _ => Node::Var(0),
        });
        on.text(&[along, "t"])
    };
    let walls = [
        wall(0, 0.0, "y"),
        wall(0, lx, "y"),
        wall(1, 0.0, "x"),
        wall(1, ly, "x"),
    ];
    // A wall's text can outgrow the expression limits that u's own text
    // is within (each x becomes a number): refused here, in one line, not
    // where the ranks compile the walls.
    for (text, (at, along)) in walls.iter().zip([
        ("x = 0".to_string(), "y"),
        (format!("x = {lx:?}"), "y"),
        ("y = 0".to_string(), "x"),
        (format!("y = {ly:?}"), "x"),
    ]) {
        expr::parse(text, &[along, "t"]).map_err(|why| {
            bad(format!(
                "u at the wall {at}, as an expression in ({along}, t), is {why}"
            ))
        })?;
    }
    Ok(Derived {
        exact: Manufactured {
            text: text.to_string(),
            program: Program::new(&u),
        },
        source: Source::from_tree(SOURCE_TEXT, &s),
        walls,
    })
}

impl Manufactured {
    /// u(x, y, t).
    pub fn at(&self, x: f64, y: f64, t: f64) -> f64 {
        self.program.eval_at(&[x, y, t])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_and_walls_are_those_of_the_solution() {
        let d = derive("x^2*y + 3*t*y^2", 0.5, (2.0, 4.0)).unwrap();
        // u_t = 3 y^2, u_xx = 2 y, u_yy = 6 t: S = 3 y^2 - 0.5 (2 y + 6 t).
        let (x, y, t) = (0.3, 0.7, 0.2);
        let want = 3.0 * y * y - 0.5 * (2.0 * y + 6.0 * t);
        assert!((d.source.at(x, y, t) - want).abs() < 1e-15);
        assert!(d.source.is_unsteady());
        let p = Program::new(&expr::parse(&d.walls[1], &["y", "t"]).unwrap());
        assert_eq!(p.eval_at(&[y, t]), d.exact.at(2.0, y, t));
        let p = Program::new(&expr::parse(&d.walls[3], &["x", "t"]).unwrap());
        assert_eq!(p.eval_at(&[x, t]), d.exact.at(x, 4.0, t));
    }

    #[test]
    fn a_solution_without_derivatives_is_one_line() {
        let err = derive("abs(x - 0.5)*t", 1.0, (1.0, 1.0)).err().unwrap();
        assert!(
            err.starts_with("--exact 'abs(x - 0.5)*t': abs() has no derivative"),
            "{err}"
        );
        // Within the limits, with walls beyond them once x is a number.
        let long = format!("x*t{}", " + 0.0001*x*y*t".repeat(250));
        let err = derive(&long, 1.0, (1.0, 1.0)).err().unwrap();
        assert!(
            err.contains("u at the wall x = 0, as an expression in (y, t), is 4")
                && err.ends_with(" bytes long (at most 4096)"),
            "{err}"
        );
        let err = derive("x*q", 1.0, (1.0, 1.0)).err().unwrap();
        assert!(
            err.contains("unknown name 'q' (this expression may use x, y, t)"),
            "{err}"
        );
    }
}
