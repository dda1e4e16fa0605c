//! Derivatives of expression trees, grown under a budget of nodes so that
//! one that would explode (the chain rule through deep nesting) stops
//! early instead of eating the memory; and the builders that fold the
//! obvious zeros and ones away, so that the derivatives of sums stay sums.

use super::{Func, Node, MAX_NODES};
use Node::*;

pub(super) fn b(n: Node) -> Box<Node> {
    charge(1);
    Box::new(n)
}

thread_local! {
    /// Nodes a derivative may still make (see [`Node::derivative`]).
    static BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// Spend `k` nodes of the budget (saturating at 0: then exhausted).
fn charge(k: usize) {
    BUDGET.with(|b| b.set(b.get().saturating_sub(k)));
}

fn exhausted() -> bool {
    BUDGET.with(|b| b.get() == 0)
}

/// A copy of `n`, charged to the budget.
fn cl(n: &Node) -> Node {
    charge(n.size());
    if exhausted() {
        Num(0.0)
    } else {
        n.clone()
    }
}

/// Why a derivative was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoDerivative {
    /// It would grow past [`MAX_NODES`].
    TooLarge,
}

impl Node {
    /// d/d(variable `var`), with the obvious zeros and ones folded away and constants
    /// folded (so that the derivatives of sums stay sums). Refused past
    /// [`MAX_NODES`], counted while it is made, so a derivative that would
    /// explode (the chain rule through 60 nested calls) stops early. The
    /// functions with breaks (abs, signum, floor, ...) get their
    /// derivative between the breaks (abs: signum, floor: 0, fract: 1):
    /// what bounds a rule's error on a piece where the argument stays on
    /// one side of them; the validation finds the breaks
    /// ([`Node::rough_calls`]).
    pub fn derivative(&self, var: usize) -> Result<Node, NoDerivative> {
        BUDGET.with(|b| b.set(MAX_NODES));
        let d = self.d(var);
        let over = exhausted() || d.size() > MAX_NODES;
        BUDGET.with(|b| b.set(usize::MAX));
        if over {
            Err(NoDerivative::TooLarge)
        } else {
            Ok(d)
        }
    }

    fn d(&self, v: usize) -> Node {
        if exhausted() {
            return Num(0.0);
        }
        match self {
            Num(_) => Num(0.0),
            Var(i) => Num(if *i == v { 1.0 } else { 0.0 }),
            Neg(a) => neg(a.d(v)),
            Add(a, c) => add(a.d(v), c.d(v)),
            Sub(a, c) => sub(a.d(v), c.d(v)),
            Mul(a, c) => add(times(a.d(v), c), times(c.d(v), a)),
            Div(a, c) => div(
                sub(times(a.d(v), c), times(c.d(v), a)),
                pow(cl(c), Num(2.0)),
            ),
            Pow(a, c) if !c.has_var(v) => mul(mul(cl(c), pow(cl(a), sub(cl(c), Num(1.0)))), a.d(v)),
            Pow(a, c) => mul(
                cl(self),
                add(
                    mul(c.d(v), call(Func::Ln, cl(a))),
                    div(mul(cl(c), a.d(v)), cl(a)),
                ),
            ),
            Call(f, a) => mul(outer(*f, a), a.d(v)),
        }
    }
}

/// `da * c`, with `c` copied only when `da` is not 0 (the budget).
fn times(da: Node, c: &Node) -> Node {
    if is(&da, 0.0) {
        Num(0.0)
    } else {
        mul(da, cl(c))
    }
}

/// f'(a) for f(a), as a tree in a.
fn outer(f: Func, a: &Node) -> Node {
    let a = cl(a);
    let one = || Num(1.0);
    let sq = |n: Node| pow(n, Num(2.0));
    match f {
        Func::Sin => call(Func::Cos, a),
        Func::Cos => neg(call(Func::Sin, a)),
        Func::Tan => div(one(), sq(call(Func::Cos, a))),
        Func::Asin => div(one(), call(Func::Sqrt, sub(one(), sq(a)))),
        Func::Acos => neg(div(one(), call(Func::Sqrt, sub(one(), sq(a))))),
        Func::Atan => div(one(), add(one(), sq(a))),
        Func::Sinh => call(Func::Cosh, a),
        Func::Cosh => call(Func::Sinh, a),
        Func::Tanh => sub(one(), sq(call(Func::Tanh, a))),
        Func::Asinh => div(one(), call(Func::Sqrt, add(sq(a), one()))),
        Func::Acosh => div(one(), call(Func::Sqrt, sub(sq(a), one()))),
        Func::Atanh => div(one(), sub(one(), sq(a))),
        Func::Exp => call(Func::Exp, a),
        Func::Ln => div(one(), a),
        Func::Log2 => div(one(), mul(a, Num(std::f64::consts::LN_2))),
        Func::Log10 => div(one(), mul(a, Num(std::f64::consts::LN_10))),
        Func::Sqrt => div(one(), mul(Num(2.0), call(Func::Sqrt, a))),
        Func::Cbrt => div(one(), mul(Num(3.0), sq(call(Func::Cbrt, a)))),
        Func::Abs => call(Func::Signum, a),
        Func::Fract => one(),
        Func::Signum | Func::Floor | Func::Ceil | Func::Round | Func::Trunc => Num(0.0),
    }
}

fn is(n: &Node, v: f64) -> bool {
    matches!(n, Num(x) if *x == v)
}

/// Both constants: folded to one.
fn both(a: &Node, c: &Node) -> Option<(f64, f64)> {
    match (a, c) {
        (Num(x), Num(y)) => Some((*x, *y)),
        _ => None,
    }
}

fn neg(a: Node) -> Node {
    match a {
        Num(v) => Num(-v),
        Neg(inner) => *inner,
        a => Neg(b(a)),
    }
}

/// a + c, constants folded, a 0 dropped.
pub fn add(a: Node, c: Node) -> Node {
    if let Some((x, y)) = both(&a, &c) {
        Num(x + y)
    } else if is(&a, 0.0) {
        c
    } else if is(&c, 0.0) {
        a
    } else {
        Add(b(a), b(c))
    }
}

/// a - c, constants folded, a 0 dropped.
pub fn sub(a: Node, c: Node) -> Node {
    if let Some((x, y)) = both(&a, &c) {
        Num(x - y)
    } else if is(&c, 0.0) {
        a
    } else if is(&a, 0.0) {
        neg(c)
    } else {
        Sub(b(a), b(c))
    }
}

/// a * c, constants folded, a 0 or 1 folded away.
pub fn mul(a: Node, c: Node) -> Node {
    if let Some((x, y)) = both(&a, &c) {
        Num(x * y)
    } else if is(&a, 0.0) || is(&c, 0.0) {
        Num(0.0)
    } else if is(&a, 1.0) {
        c
    } else if is(&c, 1.0) {
        a
    } else {
        Mul(b(a), b(c))
    }
}

fn div(a: Node, c: Node) -> Node {
    if is(&a, 0.0) {
        Num(0.0)
    } else if is(&c, 1.0) {
        a
    } else {
        Div(b(a), b(c))
    }
}

fn pow(a: Node, c: Node) -> Node {
    if is(&c, 0.0) {
        Num(1.0)
    } else if is(&c, 1.0) {
        a
    } else {
        Pow(b(a), b(c))
    }
}

fn call(f: Func, a: Node) -> Node {
    Call(f, b(a))
}
