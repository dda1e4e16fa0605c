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

use super::source::{shown, Source, VARS, VARS3};
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
    /// The walls' expressions, low and high along x, then y (then z): in
    /// the coordinates along each wall and t ((y, t) for left and right,
    /// (x, t) for bottom and top in 2D; in 3D (y, z, t), (x, z, t) and
    /// (x, y, t) for front and back).
    pub walls: Vec<String>,
}

/// The source's name in reports (its text is derived, not the user's).
pub const SOURCE_TEXT: &str = "u_t - alpha (u_xx + u_yy) of --exact";

/// The same in 3D.
pub const SOURCE_TEXT3: &str = "u_t - alpha (u_xx + u_yy + u_zz) of --exact";

/// Derive the problem of `text` with diffusivity `alpha` on a domain of
/// `(lx, ly)` (the walls' positions); one line naming the option when it
/// does not parse, is not smooth, or its derivatives grow too large.
pub fn derive(text: &str, alpha: f64, (lx, ly): (f64, f64)) -> Result<Derived, String> {
    derive_in(text, alpha, &[lx, ly])
}

/// [`derive`] in as many dimensions as `lengths` has (2 or 3): u in x, y
/// (z) and t.
pub fn derive_in(text: &str, alpha: f64, lengths: &[f64]) -> Result<Derived, String> {
    let dims = lengths.len();
    let (vars, source_text): (&[&str], _) = match dims {
        2 => (&VARS, SOURCE_TEXT),
        _ => (&VARS3, SOURCE_TEXT3),
    };
    let bad = |why: String| format!("--exact {}: {why}", shown(text));
    // "u_t, u_xx and u_yy" (and u_zz): the derivatives a source needs.
    let seconds: Vec<String> = (vars[..dims].iter()).map(|v| format!("u_{v}{v}")).collect();
    let needed = format!(
        "u_t, {} and {}",
        seconds[..dims - 1].join(", "),
        seconds[dims - 1]
    );
    let u = expr::parse(text, vars).map_err(bad)?;
    for var in 0..vars.len() {
        if let Some((f, _)) = u.rough_calls(var).first() {
            return Err(bad(format!(
                "{}() has no derivative where its argument crosses a break; a manufactured \
                 solution needs {needed} everywhere",
                f.name()
            )));
        }
    }
    let too_large = |NoDerivative::TooLarge| {
        bad(format!(
            "its derivatives grow past {} terms ({needed} are needed)",
            expr::MAX_NODES
        ))
    };
    let d = |n: &Node, v: usize| n.derivative(v).map_err(too_large);
    let mut laplacian = d(&d(&u, 0)?, 0)?;
    for a in 1..dims {
        laplacian = add(laplacian, d(&d(&u, a)?, a)?);
    }
    let s = sub(d(&u, dims)?, mul(Node::Num(alpha), laplacian));
    let mut walls = Vec::with_capacity(2 * dims);
    for (fixed, &length) in lengths.iter().enumerate() {
        for at in [0.0, length] {
            walls.push(wall(&u, vars, fixed, at).map_err(bad)?);
        }
    }
    Ok(Derived {
        exact: Manufactured {
            text: text.to_string(),
            program: Program::new(&u),
        },
        source: Source::from_tree_in(source_text, &s, vars.len()),
        walls,
    })
}

/// u on the wall where space variable `fixed` is `at`, as an expression
/// in the other space variables and t (`vars`: the space variables, then
/// t). A wall's text can outgrow the expression limits that u's own text
/// is within (each x becomes a number): refused here, in one line, not
/// where the ranks compile the walls.
fn wall(u: &Node, vars: &[&str], fixed: usize, at: f64) -> Result<String, String> {
    let along: Vec<usize> = (0..vars.len()).filter(|&v| v != fixed).collect();
    let on = u.substitute(&|i| match along.iter().position(|&v| v == i) {
        _ if i == fixed => Node::Num(at),
        Some(k) => Node::Var(k),
        None => Node::Var(i),
    });
    let names: Vec<&str> = along.iter().map(|&v| vars[v]).collect();
    let text = on.text(&names);
    let place = if at == 0.0 {
        format!("{} = 0", vars[fixed])
    } else {
        format!("{} = {at:?}", vars[fixed])
    };
    expr::parse(&text, &names).map_err(|why| {
        format!(
            "u at the wall {place}, as an expression in ({}), is {why}",
            names.join(", ")
        )
    })?;
    Ok(text)
}

impl Manufactured {
    /// u(x, y, t).
    pub fn at(&self, x: f64, y: f64, t: f64) -> f64 {
        self.program.eval_at(&[x, y, t])
    }

    /// u at `values` (the space coordinates, then t).
    pub fn eval(&self, values: &[f64]) -> f64 {
        self.program.eval_at(values)
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
