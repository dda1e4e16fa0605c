//! A user's expression in named variables, `--f 'x^3 + sin(3*x)'` (in x),
//! `heat --source 'exp(-t)*sin(pi*x)*y'` (in x, y, t): parsed, evaluated
//! and differentiated here, with limits that make any input a one-line
//! answer. One parser and one evaluator for every workload.
//!
//! Why not a crate: the one used before (exmex 0.21) read `exp(-x^2)` as
//! `exp((-x)^2)` (its unary minus binds tighter than `^`), `a*b/c` as
//! `a*(b/c)`, and its recursive parser and differentiator overflowed the
//! stack on a sum of 100 x's or hung on 1000 nested calls. Here precedence
//! is the one of mathematics and of Python (`^` binds tightest and to the
//! right, a sign binds looser than `^`, then `*` `/`, then `+` `-`, each
//! left to right); parsing recurses only into parentheses, function calls,
//! signs and powers, each bounded; evaluation is a loop over a postfix
//! program (no recursion on the hot path).
//!
//! Grammar: `sum = product (('+'|'-') product)*`, `product = unary
//! (('*'|'/') unary)*`, `unary = ('+'|'-') unary | power`, `power = atom
//! ('^' unary)?`, `atom = number | variable | constant | name '(' sum ')' |
//! '(' sum ')'`. Constants: PI (pi), E (e), TAU. Functions: see [`Func`].
//! Variables: the names the caller declares ([`parse`]'s `vars`).
//!
//! # Using it
//!
//! ```
//! use parsim::expr::{parse, Program};
//! // The caller declares the variables, in the order its values come in.
//! const VARS: [&str; 3] = ["x", "y", "t"];
//! let tree = parse("exp(-t) * sin(pi*x) * y", &VARS).unwrap();
//! let at = Program::new(&tree);
//! let v = at.eval_at(&[0.5, 2.0, 0.0]); // x, y, t
//! assert_eq!(v, 2.0);
//! // d/dt, by the variable's index in VARS; a tree again.
//! let dt = Program::new(&tree.derivative(2).unwrap());
//! assert_eq!(dt.eval_at(&[0.5, 2.0, 0.0]), -2.0);
//! // An unknown name is one line, naming the declared variables.
//! assert!(parse("z*x", &VARS).unwrap_err().contains("unknown name 'z' (this expression may use x, y, t)"));
//! ```
//!
//! heat's `--source` is parsed in x, y, t and evaluated per cell with
//! [`Program::eval_at`] (`[x, y, t_n]`, each from the cell's global index,
//! so every rank count gives the same bits); `--exact` builds its source
//! u_t - alpha (u_xx + u_yy) from [`Node::derivative`] and the builders
//! [`add`], [`sub`], [`mul`]. integrate's `--f` is parsed in x alone and
//! evaluated with [`Program::eval`], the one-variable fast path.
//!
//! A [`Program`] is a flat postfix program over a slice of variable values
//! (what a compiler of it, issue 41, starts from): no tree, no names.

use std::fmt;

pub use batch::Batch;
use derive::b;
pub use derive::{add, mul, sub, NoDerivative};

/// The longest expression taken, in bytes.
pub const MAX_BYTES: usize = 4096;
/// The deepest nesting taken: parentheses, calls, signs and powers.
pub const MAX_DEPTH: usize = 64;
/// The largest expression tree a derivative may grow to, in nodes.
pub const MAX_NODES: usize = 100_000;

/// A one-argument function of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Exp,
    Ln,
    Log2,
    Log10,
    Sqrt,
    Cbrt,
    Abs,
    Signum,
    Floor,
    Ceil,
    Round,
    Trunc,
    Fract,
}

impl Func {
    const ALL: [(&'static str, Func); 26] = [
        ("sin", Func::Sin),
        ("cos", Func::Cos),
        ("tan", Func::Tan),
        ("asin", Func::Asin),
        ("acos", Func::Acos),
        ("atan", Func::Atan),
        ("sinh", Func::Sinh),
        ("cosh", Func::Cosh),
        ("tanh", Func::Tanh),
        ("asinh", Func::Asinh),
        ("acosh", Func::Acosh),
        ("atanh", Func::Atanh),
        ("exp", Func::Exp),
        ("ln", Func::Ln),
        ("log", Func::Ln),
        ("log2", Func::Log2),
        ("log10", Func::Log10),
        ("sqrt", Func::Sqrt),
        ("cbrt", Func::Cbrt),
        ("abs", Func::Abs),
        ("signum", Func::Signum),
        ("floor", Func::Floor),
        ("ceil", Func::Ceil),
        ("round", Func::Round),
        ("trunc", Func::Trunc),
        ("fract", Func::Fract),
    ];

    fn named(name: &str) -> Option<Func> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// The name [`parse`] knows it by.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }

    #[inline(always)]
    fn apply(self, a: f64) -> f64 {
        match self {
            Func::Sin => a.sin(),
            Func::Cos => a.cos(),
            Func::Tan => a.tan(),
            Func::Asin => a.asin(),
            Func::Acos => a.acos(),
            Func::Atan => a.atan(),
            Func::Sinh => a.sinh(),
            Func::Cosh => a.cosh(),
            Func::Tanh => a.tanh(),
            Func::Asinh => a.asinh(),
            Func::Acosh => a.acosh(),
            Func::Atanh => a.atanh(),
            Func::Exp => a.exp(),
            Func::Ln => a.ln(),
            Func::Log2 => a.log2(),
            Func::Log10 => a.log10(),
            Func::Sqrt => a.sqrt(),
            Func::Cbrt => a.cbrt(),
            Func::Abs => a.abs(),
            Func::Signum => a.signum(),
            Func::Floor => a.floor(),
            Func::Ceil => a.ceil(),
            Func::Round => a.round(),
            Func::Trunc => a.trunc(),
            Func::Fract => a.fract(),
        }
    }
}

impl Func {
    /// Whether f has breaks: jumps (signum, floor, ceil, round, trunc,
    /// fract) or a kink (abs) where its argument crosses 0 or an integer
    /// (round: a half-integer).
    pub fn is_rough(self) -> bool {
        matches!(
            self,
            Func::Abs
                | Func::Signum
                | Func::Floor
                | Func::Ceil
                | Func::Round
                | Func::Trunc
                | Func::Fract
        )
    }

    /// Which smooth piece of a rough f the argument `a` falls in: two
    /// arguments on the same piece have the same value here (abs and
    /// signum: the sign, 0 at 0; fract: the integer part; the others:
    /// their own value). NaN for NaN.
    pub fn piece(self, a: f64) -> f64 {
        match self {
            Func::Abs | Func::Signum if a == 0.0 || a.is_nan() => a * 0.0, // 0 or NaN
            Func::Abs | Func::Signum => a.signum(),
            Func::Fract => a.trunc(),
            _ => self.apply(a),
        }
    }
}

/// An expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Num(f64),
    /// The variable at this index of the names [`parse`] was given.
    Var(usize),
    Neg(Box<Node>),
    Add(Box<Node>, Box<Node>),
    Sub(Box<Node>, Box<Node>),
    Mul(Box<Node>, Box<Node>),
    Div(Box<Node>, Box<Node>),
    Pow(Box<Node>, Box<Node>),
    Call(Func, Box<Node>),
}

use Node::*;

impl Node {
    /// Nodes in the tree.
    pub fn size(&self) -> usize {
        match self {
            Num(_) | Var(_) => 1,
            Neg(a) | Call(_, a) => 1 + a.size(),
            Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => 1 + a.size() + c.size(),
        }
    }

    /// Every call of a rough function ([`Func::is_rough`]) whose argument
    /// depends on variable `var`, with that argument: where the expression
    /// may break along it.
    pub fn rough_calls(&self, var: usize) -> Vec<(Func, &Node)> {
        let mut out = Vec::new();
        let mut todo = vec![self];
        while let Some(n) = todo.pop() {
            match n {
                Num(_) | Var(_) => {}
                Neg(a) => todo.push(a),
                Call(f, a) => {
                    if f.is_rough() && a.has_var(var) {
                        out.push((*f, &**a));
                    }
                    todo.push(a);
                }
                Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => {
                    todo.push(a);
                    todo.push(c);
                }
            }
        }
        out
    }

    /// Whether variable `var` appears in it.
    pub fn has_var(&self, var: usize) -> bool {
        match self {
            Num(_) => false,
            Var(i) => *i == var,
            Neg(a) | Call(_, a) => a.has_var(var),
            Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => {
                a.has_var(var) || c.has_var(var)
            }
        }
    }
}

impl Node {
    /// The tree with each variable `i` replaced by `by(i)` (a number, or
    /// a variable of another list): a solution on a wall, say.
    pub fn substitute(&self, by: &dyn Fn(usize) -> Node) -> Node {
        match self {
            Num(v) => Num(*v),
            Var(i) => by(*i),
            Neg(a) => Neg(b(a.substitute(by))),
            Call(f, a) => Call(*f, b(a.substitute(by))),
            Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => {
                let (a, c) = (b(a.substitute(by)), b(c.substitute(by)));
                match self {
                    Add(..) => Add(a, c),
                    Sub(..) => Sub(a, c),
                    Mul(..) => Mul(a, c),
                    Div(..) => Div(a, c),
                    _ => Pow(a, c),
                }
            }
        }
    }

    /// The tree as text in the variables `names` that [`parse`] reads
    /// back to a tree of the same values, bit for bit: parentheses only
    /// where precedence needs them (so a long sum stays shallow), numbers
    /// in Rust's shortest round-trip form, a negative one as a sign.
    pub fn text(&self, names: &[&str]) -> String {
        let mut out = String::new();
        self.write_text(names, 0, &mut out);
        out
    }

    /// How tightly the text of this node binds: 1 sums, 2 products, 3
    /// signs, 4 powers, 5 atoms.
    fn binding(&self) -> u8 {
        match self {
            Add(..) | Sub(..) => 1,
            Mul(..) | Div(..) => 2,
            Neg(_) => 3,
            Num(v) if v.is_sign_negative() => 3,
            Pow(..) => 4,
            Num(_) | Var(_) | Call(..) => 5,
        }
    }

    fn write_text(&self, names: &[&str], at_least: u8, out: &mut String) {
        let wrap = self.binding() < at_least;
        if wrap {
            out.push('(');
        }
        let mut pair = |a: &Node, op: &str, c: &Node, (l, r): (u8, u8)| {
            a.write_text(names, l, out);
            out.push_str(op);
            c.write_text(names, r, out);
        };
        match self {
            Num(v) if v.is_sign_negative() => out.push_str(&format!("-{:?}", -v)),
            Num(v) => out.push_str(&format!("{v:?}")),
            Var(i) => out.push_str(names.get(*i).copied().unwrap_or("?")),
            Neg(a) => {
                out.push('-');
                a.write_text(names, 3, out);
            }
            Call(f, a) => {
                out.push_str(f.name());
                out.push('(');
                a.write_text(names, 0, out);
                out.push(')');
            }
            Add(a, c) => pair(a, " + ", c, (1, 2)),
            Sub(a, c) => pair(a, " - ", c, (1, 2)),
            Mul(a, c) => pair(a, "*", c, (2, 3)),
            Div(a, c) => pair(a, "/", c, (2, 3)),
            Pow(a, c) => pair(a, "^", c, (5, 3)),
        }
        if wrap {
            out.push(')');
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Num(v) => write!(f, "{v:?}"),
            Var(i) => write!(f, "v{i}"),
            Neg(a) => write!(f, "(-{a})"),
            Add(a, c) => write!(f, "({a} + {c})"),
            Sub(a, c) => write!(f, "({a} - {c})"),
            Mul(a, c) => write!(f, "({a} * {c})"),
            Div(a, c) => write!(f, "({a} / {c})"),
            Pow(a, c) => write!(f, "({a}^{c})"),
            Call(func, a) => write!(f, "{}({a})", func.name()),
        }
    }
}

/// One step of a postfix program.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Num(f64),
    /// The value of the variable at this index.
    Var(usize),
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    /// The power to an integer written as a number: [`powi`].
    PowI(i32),
    Call(Func),
}

/// The largest integer exponent [`powi`] takes (|n|); a larger one, or one
/// that is not an integer, is `powf`.
pub const MAX_POWI: f64 = 1024.0;

/// `a^n` for an exponent written as an integer number (`x^2`, `x^-3`), as
/// numba computes `x ** 2` with a literal: repeated squaring from the low
/// bit up (x^2 = x*x, x^3 = x*(x*x), x^6 = x^2*x^4), then 1/r for a
/// negative n. Why not `powf`: x*x is the correctly rounded square and a
/// multiply costs a cycle where libm's pow costs tens, so a polynomial in
/// a user's expression runs as fast as one written in Rust (issue 41).
/// The reference evaluator and the batched one both call this, so they
/// agree bit for bit.
#[inline(always)]
pub fn powi(a: f64, n: i32) -> f64 {
    let mut e = n.unsigned_abs();
    let (mut r, mut v) = (1.0, a);
    while e != 0 {
        if e & 1 == 1 {
            r *= v;
        }
        e >>= 1;
        if e != 0 {
            v *= v;
        }
    }
    if n < 0 {
        1.0 / r
    } else {
        r
    }
}

/// The exponent of `a^c` as an integer for [`powi`]: c a number that is
/// an integer of at most [`MAX_POWI`].
fn integer_exponent(c: &Node) -> Option<i32> {
    match c {
        Num(v) if v.fract() == 0.0 && v.abs() <= MAX_POWI => Some(*v as i32),
        _ => None,
    }
}

/// An expression compiled for evaluation: a postfix program run on a
/// small stack, in the tree's order (so the same operations in the same
/// order as the tree says, bit for bit).
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    ops: Vec<Op>,
    depth: usize,
    /// How many values an evaluation reads: the highest variable index in
    /// it, plus one (0 for a constant).
    vars: usize,
}

impl Program {
    /// Compile `tree`. Its depth is bounded by how it was made (the
    /// parser's limits, or a derivative of such a tree), so recursion here
    /// is bounded too.
    pub fn new(tree: &Node) -> Self {
        fn emit(n: &Node, ops: &mut Vec<Op>, depth: usize, deepest: &mut usize) {
            *deepest = (*deepest).max(depth);
            match n {
                Num(v) => ops.push(Op::Num(*v)),
                Var(i) => ops.push(Op::Var(*i)),
                Neg(a) => {
                    emit(a, ops, depth, deepest);
                    ops.push(Op::Neg);
                }
                Call(f, a) => {
                    emit(a, ops, depth, deepest);
                    ops.push(Op::Call(*f));
                }
                Pow(a, c) if integer_exponent(c).is_some() => {
                    emit(a, ops, depth, deepest);
                    ops.push(Op::PowI(integer_exponent(c).unwrap_or(1)));
                }
                Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => {
                    emit(a, ops, depth, deepest);
                    emit(c, ops, depth + 1, deepest);
                    ops.push(match n {
                        Add(..) => Op::Add,
                        Sub(..) => Op::Sub,
                        Mul(..) => Op::Mul,
                        Div(..) => Op::Div,
                        _ => Op::Pow,
                    });
                }
            }
        }
        let (mut ops, mut deepest) = (Vec::new(), 0);
        emit(tree, &mut ops, 1, &mut deepest);
        let vars = ops
            .iter()
            .filter_map(|op| match op {
                Op::Var(i) => Some(i + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        Program {
            ops,
            depth: deepest + 1,
            vars,
        }
    }

    /// How many variable values [`Program::eval_at`] reads.
    pub fn vars(&self) -> usize {
        self.vars
    }

    /// The value of a program in one variable at `x` (the fast path
    /// integrate's `--f` runs on: no slice, no index checks; every
    /// variable reads `x`, so it is meant for a parse with one name). No
    /// allocation for the usual expression: its stack on the thread's own
    /// stack.
    #[inline]
    pub fn eval(&self, x: f64) -> f64 {
        debug_assert!(
            self.vars <= 1,
            "eval(x) of a program in {} variables",
            self.vars
        );
        self.stacked(|_| x)
    }

    /// The value with variable `i` at `values[i]` (in the order of the
    /// names [`parse`] was given); NaN when `values` is too short.
    pub fn eval_at(&self, values: &[f64]) -> f64 {
        if values.len() < self.vars {
            return f64::NAN;
        }
        self.stacked(|i| values[i])
    }

    #[inline(always)]
    fn stacked(&self, var: impl Fn(usize) -> f64) -> f64 {
        const SMALL: usize = 32;
        if self.depth <= SMALL {
            self.run(var, &mut [0.0; SMALL])
        } else {
            self.run(var, &mut vec![0.0; self.depth])
        }
    }

    #[inline(always)]
    fn run(&self, var: impl Fn(usize) -> f64, stack: &mut [f64]) -> f64 {
        let mut top = 0usize;
        for op in &self.ops {
            let v = match *op {
                Op::Num(v) => v,
                Op::Var(i) => var(i),
                Op::Neg | Op::Call(_) | Op::PowI(_) if top >= 1 => {
                    top -= 1;
                    let a = stack[top];
                    match *op {
                        Op::Call(f) => f.apply(a),
                        Op::PowI(n) => powi(a, n),
                        _ => -a,
                    }
                }
                Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow if top >= 2 => {
                    top -= 2;
                    let (a, c) = (stack[top], stack[top + 1]);
                    match *op {
                        Op::Add => a + c,
                        Op::Sub => a - c,
                        Op::Mul => a * c,
                        Op::Div => a / c,
                        _ => a.powf(c),
                    }
                }
                _ => return f64::NAN, // not a program `new` makes
            };
            let Some(slot) = stack.get_mut(top) else {
                return f64::NAN;
            };
            *slot = v;
            top += 1;
        }
        if top == 1 {
            stack[0]
        } else {
            f64::NAN
        }
    }
}

/// Parse `text` into a tree in the variables `vars` (their names; a
/// variable is [`Node::Var`] of its index here), within [`MAX_BYTES`] and
/// [`MAX_DEPTH`]; the error says what and where, in one line (an unknown
/// name lists the variables allowed).
pub fn parse(text: &str, vars: &[&str]) -> Result<Node, String> {
    if text.len() > MAX_BYTES {
        return Err(format!("{} bytes long (at most {MAX_BYTES})", text.len()));
    }
    let mut p = Parser {
        chars: text.char_indices().collect(),
        at: 0,
        depth: 0,
        vars,
    };
    let tree = p.sum()?;
    p.skip_space();
    match p.peek() {
        None => Ok(tree),
        Some(c) => Err(p.unexpected(c)),
    }
}

struct Parser<'a> {
    chars: Vec<(usize, char)>,
    at: usize,
    depth: usize,
    vars: &'a [&'a str],
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).map(|&(_, c)| c)
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    /// The next character after blanks, taken if it is one of `these`.
    fn take(&mut self, these: &[char]) -> Option<char> {
        self.skip_space();
        let c = self.peek().filter(|c| these.contains(c))?;
        self.at += 1;
        Some(c)
    }

    fn unexpected(&self, c: char) -> String {
        let pos = self.chars.get(self.at).map_or(0, |&(i, _)| i) + 1;
        format!("unexpected '{}' at character {pos}", c.escape_default())
    }

    /// Enter one level of nesting (parentheses, a call, a sign, a power).
    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} deep"));
        }
        Ok(())
    }

    fn sum(&mut self) -> Result<Node, String> {
        let mut acc = self.product()?;
        while let Some(op) = self.take(&['+', '-']) {
            let rhs = self.product()?;
            acc = if op == '+' {
                Add(b(acc), b(rhs))
            } else {
                Sub(b(acc), b(rhs))
            };
        }
        Ok(acc)
    }

    fn product(&mut self) -> Result<Node, String> {
        let mut acc = self.unary()?;
        while let Some(op) = self.take(&['*', '/']) {
            let rhs = self.unary()?;
            acc = if op == '*' {
                Mul(b(acc), b(rhs))
            } else {
                Div(b(acc), b(rhs))
            };
        }
        Ok(acc)
    }

    fn unary(&mut self) -> Result<Node, String> {
        if let Some(sign) = self.take(&['+', '-']) {
            self.deeper()?;
            let operand = self.unary()?;
            self.depth -= 1;
            return Ok(if sign == '-' {
                Neg(b(operand))
            } else {
                operand
            });
        }
        self.power()
    }

    fn power(&mut self) -> Result<Node, String> {
        let base = self.atom()?;
        if self.take(&['^']).is_none() {
            return Ok(base);
        }
        self.deeper()?;
        // Right to left, and a sign binds looser: 2^-x, x^2^3 = x^(2^3).
        let exponent = self.unary()?;
        self.depth -= 1;
        Ok(Pow(b(base), b(exponent)))
    }

    fn atom(&mut self) -> Result<Node, String> {
        self.skip_space();
        let Some(c) = self.peek() else {
            return Err("the expression ends too soon".into());
        };
        if c == '(' {
            self.at += 1;
            self.deeper()?;
            let inner = self.sum()?;
            self.depth -= 1;
            return match self.take(&[')']) {
                Some(_) => Ok(inner),
                None => Err(match self.peek() {
                    Some(c) => self.unexpected(c),
                    None => "a '(' is not closed".into(),
                }),
            };
        }
        if c.is_ascii_digit() || c == '.' {
            return self.number();
        }
        if c.is_alphabetic() || c == '_' {
            return self.name();
        }
        Err(self.unexpected(c))
    }

    fn number(&mut self) -> Result<Node, String> {
        let start = self.at;
        let digits = |p: &mut Parser<'_>| {
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.at += 1;
            }
        };
        digits(self);
        if self.peek() == Some('.') {
            self.at += 1;
            digits(self);
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let mark = self.at;
            self.at += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.at += 1;
            }
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                digits(self);
            } else {
                self.at = mark; // `2e` is 2 times e? No: refused below.
            }
        }
        let text: String = self.chars[start..self.at].iter().map(|&(_, c)| c).collect();
        text.parse()
            .map(Num)
            .map_err(|_| format!("'{text}' is not a number"))
    }

    fn name(&mut self) -> Result<Node, String> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.at += 1;
        }
        let name: String = self.chars[start..self.at].iter().map(|&(_, c)| c).collect();
        if let Some(i) = self.vars.iter().position(|v| *v == name) {
            return Ok(Var(i));
        }
        match name.as_str() {
            "PI" | "pi" | "π" => return Ok(Num(std::f64::consts::PI)),
            "E" | "e" => return Ok(Num(std::f64::consts::E)),
            "TAU" | "tau" | "τ" => return Ok(Num(std::f64::consts::TAU)),
            _ => {}
        }
        let Some(f) = Func::named(&name) else {
            return Err(if self.take(&['(']).is_some() {
                format!("unknown function '{name}'")
            } else {
                unknown_name(&name, self.vars)
            });
        };
        if self.take(&['(']).is_none() {
            return Err(format!(
                "{name} needs its argument in parentheses: {name}(...)"
            ));
        }
        self.deeper()?;
        let arg = self.sum()?;
        self.depth -= 1;
        if self.take(&[')']).is_none() {
            return Err(format!("{name}( is not closed"));
        }
        Ok(Call(f, b(arg)))
    }
}

/// `unknown name 'z' (this expression may use x, y, t)`; with one
/// variable, `(the variable is x)`.
fn unknown_name(name: &str, vars: &[&str]) -> String {
    match vars {
        [] => format!("unknown name '{name}' (this expression takes no variable)"),
        [one] => format!("unknown name '{name}' (the variable is {one})"),
        many => format!(
            "unknown name '{name}' (this expression may use {})",
            many.join(", ")
        ),
    }
}

pub mod batch;
#[cfg(test)]
mod batch_tests;
mod derive;
pub mod stage;
#[cfg(test)]
mod tests;
