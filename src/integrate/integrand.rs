//! The integrand: a built-in (the lessons' x^2 - x, sin, exp, pi's
//! 4/(1+x^2)) with its known integral and derivatives, or a user's
//! expression in x, parsed and differentiated symbolically by
//! [`crate::expr`].

use std::ops::Range;

use super::kernel::{batch_chunk_sum, chunk_sum, chunk_sum_fast, lesson, lesson_chunk_sum, Grid};
use crate::expr::{batch, Batch, NoDerivative, Node, Program};

/// A built-in integrand, with what validation needs: its antiderivative
/// and bounds of its derivatives on an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Builtin {
    /// x^2 - x, the lessons' f (exact integral over [0, 2]: 2/3),
    /// evaluated fused: fma(x, x, -x).
    Lesson,
    /// sin x.
    Sin,
    /// e^x.
    Exp,
    /// 4 / (1 + x^2) (over [0, 1]: pi).
    Pi,
}

impl Builtin {
    pub const ALL: [Builtin; 4] = [Builtin::Lesson, Builtin::Sin, Builtin::Exp, Builtin::Pi];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Lesson => "lesson",
            Builtin::Sin => "sin",
            Builtin::Exp => "exp",
            Builtin::Pi => "pi",
        }
    }

    /// The formula, as reports show it.
    pub fn formula(self) -> &'static str {
        match self {
            Builtin::Lesson => "x^2 - x",
            Builtin::Sin => "sin(x)",
            Builtin::Exp => "exp(x)",
            Builtin::Pi => "4/(1+x^2)",
        }
    }

    #[inline(always)]
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Builtin::Lesson => lesson(x),
            Builtin::Sin => x.sin(),
            Builtin::Exp => x.exp(),
            Builtin::Pi => 4.0 / (1.0 + x * x),
        }
    }

    /// The exact integral over [a, b].
    pub fn integral(self, a: f64, b: f64) -> f64 {
        let big_f = |x: f64| match self {
            Builtin::Lesson => x * x * x / 3.0 - x * x / 2.0,
            Builtin::Sin => -x.cos(),
            Builtin::Exp => x.exp(),
            Builtin::Pi => 4.0 * x.atan(),
        };
        big_f(b) - big_f(a)
    }

    /// max |f^(k)| on [a, b] (k = 0 bounds the terms' magnitude: for x^2 - x
    /// the sum of |x^2| and |x|, what round-off scales with).
    pub fn derivative_bound(self, k: usize, a: f64, b: f64) -> f64 {
        let m = a.abs().max(b.abs());
        match (self, k) {
            (Builtin::Lesson, 0) => m * m + m,
            (Builtin::Lesson, 1) => (2.0 * a - 1.0).abs().max((2.0 * b - 1.0).abs()),
            (Builtin::Lesson, 2) => 2.0,
            (Builtin::Lesson, _) => 0.0,
            (Builtin::Sin, _) => 1.0,
            (Builtin::Exp, _) => b.exp(),
            // 4/(1+x^2) and its derivatives peak at x = 0 (|f'| at
            // x = 1/sqrt 3): 4, 3 sqrt(3)/2, 8, 36 sqrt(3)... , 96.
            (Builtin::Pi, 0) => 4.0,
            (Builtin::Pi, 1) => 2.6,
            (Builtin::Pi, 2) => 8.0,
            (Builtin::Pi, _) => 96.0,
        }
    }
}

/// What `--f` names: a built-in integrand or the user's expression in x
/// (parsed, evaluated and differentiated by [`crate::expr`]: the
/// validation needs f's derivatives).
#[derive(Debug, Clone)]
pub enum Integrand {
    Builtin(Builtin),
    Expr {
        text: String,
        program: Box<Program>,
        /// The tree, and its k-th derivative once made
        /// ([`Integrand::with_derivative`]).
        tree: Box<Node>,
        derivative: Option<(usize, Box<Program>)>,
        /// The program compiled for blocks of points (the fast path, the
        /// same bits); `None` where `PARSIM_NO_JIT=1` asks for the
        /// reference evaluator.
        batch: Option<Box<Batch>>,
    },
}

/// An expression as a message shows it: quoted, its first 40 characters.
fn shown_expr(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() {
        format!("'{cut}...'")
    } else {
        format!("'{cut}'")
    }
}

impl Integrand {
    /// A built-in's name, or an expression in x (see [`crate::expr`]: its
    /// precedence, functions and limits).
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(b) = Builtin::ALL.iter().find(|b| b.name() == text) {
            return Ok(Integrand::Builtin(*b));
        }
        let tree = crate::expr::parse(text, &["x"]).map_err(|why| {
            let names: Vec<_> = Builtin::ALL.iter().map(|b| b.name()).collect();
            format!(
                "--f {} is neither a built-in ({}) nor an expression in x: {why}",
                shown_expr(text),
                names.join(", "),
            )
        })?;
        let program = Program::new(&tree);
        Ok(Integrand::Expr {
            text: text.to_string(),
            batch: (!batch::reference_forced()).then(|| Box::new(Batch::new(&program))),
            program: Box::new(program),
            tree: Box::new(tree),
            derivative: None,
        })
    }

    /// An expression with its `k`-th derivative made (what the rule's
    /// error bound needs), refused in one line when one grows past
    /// [`crate::expr::MAX_NODES`]: the bound could not be made, and a run
    /// that cannot be validated is not started. Functions with breaks
    /// (abs, floor, ...) get their derivative between the breaks, which
    /// the validation locates on [a, b].
    pub fn with_derivative(self, k: usize) -> Result<Self, String> {
        let Integrand::Expr {
            text,
            program,
            tree,
            batch,
            ..
        } = self
        else {
            return Ok(self);
        };
        let mut d = Some((*tree).clone());
        for order in 1..=k {
            d = match d.as_ref().map(|d| d.derivative(0)) {
                Some(Ok(next)) => Some(next),
                None => None,
                Some(Err(NoDerivative::TooLarge)) => {
                    return Err(format!(
                        "--f {} is too complex to bound the rule's error: its derivative of \
                         order {order} has more than {} terms (the bound needs order {k})",
                        shown_expr(&text),
                        crate::expr::MAX_NODES
                    ))
                }
            };
        }
        Ok(Integrand::Expr {
            text,
            program,
            batch,
            derivative: d.map(|d| (k, Box::new(Program::new(&d)))),
            tree,
        })
    }

    /// f(x); an expression that cannot be evaluated gives NaN (then the run
    /// fails its validation, saying the integrand is not finite).
    #[inline(always)]
    pub fn eval(&self, x: f64) -> f64 {
        match self {
            Integrand::Builtin(b) => b.eval(x),
            Integrand::Expr { program, .. } => program.eval(x),
        }
    }

    /// The weighted sum of f over `range` (see [`chunk_sum`]), with the
    /// choice of integrand made once per chunk, not per point, so each
    /// built-in's loop is compiled (and vectorised) for it alone.
    pub fn chunk_sum(&self, grid: &Grid, range: Range<u64>) -> f64 {
        match self {
            Integrand::Builtin(Builtin::Lesson) => lesson_chunk_sum(grid, range),
            Integrand::Builtin(b) => chunk_sum_fast(&|x| b.eval(x), grid, range),
            Integrand::Expr {
                batch: Some(batch), ..
            } => batch_chunk_sum(batch, &|x| self.eval(x), grid, range),
            Integrand::Expr { .. } => chunk_sum(&|x| self.eval(x), grid, range),
        }
    }

    /// How f is evaluated: `built-in`, or the expression evaluator this
    /// run uses ([`batch::evaluator`]).
    pub fn evaluator(&self) -> String {
        match self {
            Integrand::Builtin(_) => "built-in".into(),
            Integrand::Expr { .. } => batch::evaluator(),
        }
    }

    /// The formula as reports and files show it.
    pub fn formula(&self) -> String {
        match self {
            Integrand::Builtin(b) => b.formula().to_string(),
            Integrand::Expr { text, .. } => text.clone(),
        }
    }

    /// f's k-th derivative, for an expression, as made by
    /// [`Integrand::with_derivative`] (`None` for another order).
    pub fn derivative(&self, k: usize) -> Option<Box<dyn Fn(f64) -> f64>> {
        match self {
            Integrand::Expr {
                derivative: Some((order, d)),
                ..
            } if *order == k => {
                let d = d.clone();
                Some(Box::new(move |x| d.eval(x)))
            }
            _ => None,
        }
    }
}
