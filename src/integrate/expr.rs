//! A user's integrand, `--f 'x^3 + sin(3*x)'`: parsed, evaluated and
//! differentiated here, with limits that make any input a one-line answer.
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
//! ('^' unary)?`, `atom = number | 'x' | constant | name '(' sum ')' | '('
//! sum ')'`. Constants: PI (pi), E (e), TAU. Functions: see [`Func`].

use std::fmt;

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

    fn name(self) -> &'static str {
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

/// An expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Num(f64),
    X,
    Neg(Box<Node>),
    Add(Box<Node>, Box<Node>),
    Sub(Box<Node>, Box<Node>),
    Mul(Box<Node>, Box<Node>),
    Div(Box<Node>, Box<Node>),
    Pow(Box<Node>, Box<Node>),
    Call(Func, Box<Node>),
}

use Node::*;

fn b(n: Node) -> Box<Node> {
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

impl Node {
    /// Nodes in the tree.
    pub fn size(&self) -> usize {
        match self {
            Num(_) | X => 1,
            Neg(a) | Call(_, a) => 1 + a.size(),
            Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => 1 + a.size() + c.size(),
        }
    }

    /// Whether x appears in it.
    pub fn has_x(&self) -> bool {
        match self {
            Num(_) => false,
            X => true,
            Neg(a) | Call(_, a) => a.has_x(),
            Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => a.has_x() || c.has_x(),
        }
    }

    /// d/dx, with the obvious zeros and ones folded away (so that the
    /// derivatives of sums stay sums). `None` when it would grow past
    /// [`MAX_NODES`]: counted while it is made, so a derivative that would
    /// explode (the chain rule through 60 nested calls) stops early.
    pub fn derivative(&self) -> Option<Node> {
        BUDGET.with(|b| b.set(MAX_NODES));
        let d = self.d();
        let over = exhausted();
        BUDGET.with(|b| b.set(usize::MAX));
        (!over && d.size() <= MAX_NODES).then_some(d)
    }

    fn d(&self) -> Node {
        if exhausted() {
            return Num(0.0);
        }
        match self {
            Num(_) => Num(0.0),
            X => Num(1.0),
            Neg(a) => neg(a.d()),
            Add(a, c) => add(a.d(), c.d()),
            Sub(a, c) => sub(a.d(), c.d()),
            Mul(a, c) => add(mul(a.d(), cl(c)), mul(cl(a), c.d())),
            Div(a, c) => div(
                sub(mul(a.d(), cl(c)), mul(cl(a), c.d())),
                pow(cl(c), Num(2.0)),
            ),
            Pow(a, c) if !c.has_x() => mul(mul(cl(c), pow(cl(a), sub(cl(c), Num(1.0)))), a.d()),
            Pow(a, c) => mul(
                cl(self),
                add(
                    mul(c.d(), call(Func::Ln, cl(a))),
                    div(mul(cl(c), a.d()), cl(a)),
                ),
            ),
            Call(f, a) => mul(outer(*f, a), a.d()),
        }
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

fn neg(a: Node) -> Node {
    match a {
        Num(v) => Num(-v),
        Neg(inner) => *inner,
        a => Neg(b(a)),
    }
}

fn add(a: Node, c: Node) -> Node {
    if is(&a, 0.0) {
        c
    } else if is(&c, 0.0) {
        a
    } else {
        Add(b(a), b(c))
    }
}

fn sub(a: Node, c: Node) -> Node {
    if is(&c, 0.0) {
        a
    } else if is(&a, 0.0) {
        neg(c)
    } else {
        Sub(b(a), b(c))
    }
}

fn mul(a: Node, c: Node) -> Node {
    if is(&a, 0.0) || is(&c, 0.0) {
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
    if is(&c, 1.0) {
        a
    } else {
        Pow(b(a), b(c))
    }
}

fn call(f: Func, a: Node) -> Node {
    Call(f, b(a))
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Num(v) => write!(f, "{v:?}"),
            X => write!(f, "x"),
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
    X,
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Call(Func),
}

/// An expression compiled for evaluation: a postfix program run on a
/// small stack, in the tree's order (so the same operations in the same
/// order as the tree says, bit for bit).
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    ops: Vec<Op>,
    depth: usize,
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
                X => ops.push(Op::X),
                Neg(a) => {
                    emit(a, ops, depth, deepest);
                    ops.push(Op::Neg);
                }
                Call(f, a) => {
                    emit(a, ops, depth, deepest);
                    ops.push(Op::Call(*f));
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
        Program {
            ops,
            depth: deepest + 1,
        }
    }

    /// The value at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        let mut stack: Vec<f64> = Vec::with_capacity(self.depth);
        for op in &self.ops {
            let v = match *op {
                Op::Num(v) => v,
                Op::X => x,
                Op::Neg => -stack.pop().unwrap_or(f64::NAN),
                Op::Call(f) => f.apply(stack.pop().unwrap_or(f64::NAN)),
                bin => {
                    let c = stack.pop().unwrap_or(f64::NAN);
                    let a = stack.pop().unwrap_or(f64::NAN);
                    match bin {
                        Op::Add => a + c,
                        Op::Sub => a - c,
                        Op::Mul => a * c,
                        Op::Div => a / c,
                        _ => a.powf(c),
                    }
                }
            };
            stack.push(v);
        }
        stack.pop().unwrap_or(f64::NAN)
    }
}

/// Parse `text` into a tree, within [`MAX_BYTES`] and [`MAX_DEPTH`]; the
/// error says what and where, in one line.
pub fn parse(text: &str) -> Result<Node, String> {
    if text.len() > MAX_BYTES {
        return Err(format!("{} bytes long (at most {MAX_BYTES})", text.len()));
    }
    let mut p = Parser {
        chars: text.char_indices().collect(),
        at: 0,
        depth: 0,
    };
    let tree = p.sum()?;
    p.skip_space();
    match p.peek() {
        None => Ok(tree),
        Some(c) => Err(p.unexpected(c)),
    }
}

struct Parser {
    chars: Vec<(usize, char)>,
    at: usize,
    depth: usize,
}

impl Parser {
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
        let digits = |p: &mut Parser| {
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
        match name.as_str() {
            "x" => return Ok(X),
            "PI" | "pi" | "π" => return Ok(Num(std::f64::consts::PI)),
            "E" | "e" => return Ok(Num(std::f64::consts::E)),
            "TAU" | "tau" | "τ" => return Ok(Num(std::f64::consts::TAU)),
            _ => {}
        }
        let Some(f) = Func::named(&name) else {
            return Err(if self.take(&['(']).is_some() {
                format!("unknown function '{name}'")
            } else {
                format!("unknown name '{name}' (the variable is x)")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, x: f64) -> f64 {
        Program::new(&parse(text).unwrap()).eval(x)
    }

    #[test]
    fn precedence_is_that_of_mathematics() {
        assert_eq!(at("-x^2", 3.0), -9.0);
        assert_eq!(at("exp(-x^2)", 2.0), (-4.0f64).exp());
        assert_eq!(at("2^3^2", 0.0), 512.0);
        assert_eq!(at("2^-1", 0.0), 0.5);
        assert_eq!(at("x - 1 - 1", 5.0), 3.0);
        assert_eq!(at("12 / 3 / 2", 0.0), 2.0);
        assert_eq!(at("1 + 2 * 3", 0.0), 7.0);
        assert_eq!(at("-(x)", 1.5), -1.5);
        assert_eq!(
            at("pi * e", 0.0),
            std::f64::consts::PI * std::f64::consts::E
        );
        assert_eq!(at("1.5e2 + .5", 0.0), 150.5);
        // Left to right, in the order written: a*b/c is (a*b)/c.
        let (a, b_, c) = (0.1f64, 0.7f64, 0.3f64);
        assert_eq!(at("0.1*x/0.3", b_).to_bits(), (a * b_ / c).to_bits());
    }

    #[test]
    fn derivatives_are_right() {
        let d =
            |text: &str, x: f64| Program::new(&parse(text).unwrap().derivative().unwrap()).eval(x);
        assert_eq!(d("x^3", 2.0), 12.0);
        assert_eq!(d("x^2 - x", 3.0), 5.0);
        assert!((d("sin(3*x)", 0.5) - 3.0 * 1.5f64.cos()).abs() < 1e-15);
        assert!((d("exp(-x^2)", 1.0) + 2.0 * (-1.0f64).exp()).abs() < 1e-15);
        assert!((d("x^x", 2.0) - 4.0 * (2f64.ln() + 1.0)).abs() < 1e-12);
        assert!((d("1/x", 2.0) + 0.25).abs() < 1e-15);
        assert!((d("log10(x)", 10.0) - 1.0 / (10.0 * std::f64::consts::LN_10)).abs() < 1e-15);
        // A sum of 120 terms stays a sum: its 4th derivative is small.
        let sum: Vec<String> = (1..=120).map(|k| format!("sin({k}*x)")).collect();
        let mut t = parse(&sum.join("+")).unwrap();
        for _ in 0..4 {
            t = t.derivative().unwrap();
        }
        assert!(t.size() < 20 * 120, "{}", t.size());
    }

    #[test]
    fn bad_expressions_are_one_line_each() {
        for (text, want) in [
            ("sin(x", "is not closed"),
            ("x +* 2", "unexpected '*' at character 4"),
            ("y", "unknown name 'y'"),
            ("foo(x)", "unknown function 'foo'"),
            ("sin x", "needs its argument in parentheses"),
            ("", "ends too soon"),
            ("(x", "not closed"),
            ("x)", "unexpected ')'"),
            ("2 x", "unexpected 'x'"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
        let deep = format!("{}x{}", "(".repeat(65), ")".repeat(65));
        assert!(parse(&deep).unwrap_err().contains("nested more than 64"));
        let signs = format!("{}x", "-".repeat(65));
        assert!(parse(&signs).unwrap_err().contains("nested more than 64"));
        assert!(parse(&"x+".repeat(3000))
            .unwrap_err()
            .contains("bytes long"));
        // 2000 terms: a long chain, not deep: parsed and evaluated.
        let long = vec!["x"; 2000].join("+");
        assert_eq!(at(&long, 1.0), 2000.0);
    }
}
