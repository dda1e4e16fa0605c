//! A [`Program`] run over a block of points at a time: issue 41's fast
//! path for a user's expression.
//!
//! Why: the reference evaluator ([`Program::eval`]) walks the postfix
//! program once per point, so every operation pays a dispatch, a stack
//! read and a stack write, and nothing is vectorised: `x^2 - x` ran 300x
//! slower than the same function written in Rust. Here the program is
//! compiled once into steps over registers (slots) of [`BLOCK`] values, and
//! each step is one tight loop over the block (`out[i] = a[i] - c[i]`) that
//! the compiler vectorises; a block stays in L1, so the passes cost loads
//! and stores in L1, not memory traffic.
//!
//! Same bits as the reference, by construction: each point gets the same
//! operations on the same values in the same order (the tree's), the same
//! [`powi`] for integer powers, and the same libm call through Rust for
//! every function. What changes is only the loop order (op by op across
//! the block instead of point by point), which no result depends on. NaN
//! results are NaN in both (IEEE does not fix which NaN's payload an
//! operation passes on, and the compiler may swap the operands of `+`).
//! The property test in `tests.rs` checks it on random programs.
//!
//! Why not a JIT (Cranelift): measured and written down in
//! docs/performance.md. In short, the loops here already run at the
//! speed of L1 for arithmetic, a transcendental function costs the same
//! libm call in either, and a batched evaluator cannot write outside its
//! buffers (safe Rust, no generated code to trust).

use super::{powi, Func, Op, Program};

/// Points per block: 256 values (2 KiB) per slot, so a program with a
/// dozen live values still stays in a 32 KiB L1 data cache.
pub const BLOCK: usize = 256;

/// Where a step reads a value from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Src {
    /// The variable's column (the caller's slice).
    Var(usize),
    /// A register of the scratch space.
    Slot(usize),
    /// The same number for every point (a constant, or a constant
    /// subexpression folded when compiling: the same operation on the same
    /// numbers, so the same bits).
    Num(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unary {
    Neg,
    PowI(i32),
    Call(Func),
}

impl Unary {
    #[inline(always)]
    fn apply(self, a: f64) -> f64 {
        match self {
            Unary::Neg => -a,
            Unary::PowI(n) => powi(a, n),
            Unary::Call(f) => f.apply(a),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl Binary {
    #[inline(always)]
    fn apply(self, a: f64, c: f64) -> f64 {
        match self {
            Binary::Add => a + c,
            Binary::Sub => a - c,
            Binary::Mul => a * c,
            Binary::Div => a / c,
            Binary::Pow => a.powf(c),
        }
    }
}

/// One loop over the block: `out = op(a)` or `out = op(a, c)`. `out` is
/// the slot of an operand when one is a slot (the value is computed in
/// place: each element is read before it is written).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    One {
        op: Unary,
        a: Src,
        out: usize,
    },
    Two {
        op: Binary,
        a: Src,
        c: Src,
        out: usize,
    },
}

/// A program compiled for blocks of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    steps: Vec<Step>,
    slots: usize,
    result: Src,
    vars: usize,
}

/// A variable's values over a block: a column of them, or one value for
/// every point (heat's y and t along a row).
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Col(&'a [f64]),
    Scalar(f64),
}

impl Batch {
    /// Compile `program`: the postfix ops on a stack of sources, a slot per
    /// live intermediate (freed as soon as it is read, so the slots are at
    /// most the program's stack depth).
    pub fn new(program: &Program) -> Self {
        let mut c = Compiler::default();
        for op in &program.ops {
            c.op(*op);
        }
        let result = match c.stack.as_slice() {
            [one] => *one,
            _ => Src::Num(f64::NAN), // not a program `Program::new` makes
        };
        Batch {
            steps: c.steps,
            slots: c.slots.max(1),
            result,
            vars: program.vars,
        }
    }

    /// The program's values at the first `n` points (n <= [`BLOCK`]):
    /// variable i's values are `vars[i]` (NaN for a variable past the end
    /// of `vars`, as [`Program::eval_at`]). `scratch` holds the registers
    /// (grown here the first time; keep it between calls). The result is
    /// in `scratch` or in a variable's column.
    #[inline(always)]
    pub fn eval<'a>(&self, vars: &[Arg<'a>], n: usize, scratch: &'a mut Vec<f64>) -> &'a [f64] {
        self.ready(vars, n, scratch);
        let buf = &mut scratch[..self.slots * BLOCK];
        if vars.len() < self.vars {
            buf[..n].fill(f64::NAN);
            return &scratch[..n];
        }
        self.run_steps(&self.steps, buf, vars, n);
        let result = match self.result {
            Src::Var(i) => match vars[i] {
                Arg::Col(c) => return &c[..n],
                Arg::Scalar(v) => v,
            },
            Src::Slot(k) => return &scratch[k * BLOCK..][..n],
            Src::Num(v) => v,
        };
        scratch[..n].fill(result);
        &scratch[..n]
    }

    /// `out[i] = scale * f(point i)` for the `out.len()` (at most
    /// [`BLOCK`]) points: as [`Batch::eval`] then a multiplication, but
    /// the last step writes its values, scaled, straight into `out` (heat's
    /// `dt * S` for a row, without a pass more). The same bits: the step's
    /// value is rounded, then multiplied.
    #[inline(always)]
    pub fn eval_into(&self, vars: &[Arg], out: &mut [f64], scratch: &mut Vec<f64>, scale: f64) {
        let n = out.len();
        self.ready(vars, n, scratch);
        if vars.len() < self.vars {
            out.fill(f64::NAN);
            return;
        }
        let buf = &mut scratch[..self.slots * BLOCK];
        let post = move |v: f64| scale * v;
        let last = self.result_step();
        let before = self.steps.len() - usize::from(last.is_some());
        self.run_steps(&self.steps[..before], buf, vars, n);
        let buf = &*buf;
        match last {
            Some(Step::One { op, a, .. }) => one(out, read(a, buf, vars, n), op, post),
            Some(Step::Two { op, a, c, .. }) => {
                let (a, c) = (read(a, buf, vars, n), read(c, buf, vars, n));
                match op {
                    Binary::Add => zip(out, (a, c), |a, c| post(a + c)),
                    Binary::Sub => zip(out, (a, c), |a, c| post(a - c)),
                    Binary::Mul => zip(out, (a, c), |a, c| post(a * c)),
                    Binary::Div => zip(out, (a, c), |a, c| post(a / c)),
                    Binary::Pow => zip(out, (a, c), |a, c| post(a.powf(c))),
                }
            }
            None => map(out, read(self.result, buf, vars, n), post),
        }
    }

    /// Add the program's values at the first `n` points (a multiple of
    /// 16, at most [`BLOCK`]) to 16 lane sums: point k to `acc[k % 16]`, in
    /// the order of k (integrate's chunk sum). The last step adds as it
    /// computes, without writing its values out: a pass less. The same
    /// bits as [`Batch::eval`] then the additions.
    #[inline(always)]
    pub fn eval_lanes(&self, vars: &[Arg], n: usize, scratch: &mut Vec<f64>, acc: &mut [f64; 16]) {
        assert!(n <= BLOCK && n % 16 == 0);
        let last = match self.result_step() {
            Some(step @ Step::Two { .. }) => step,
            _ => {
                let values = self.eval(vars, n, scratch);
                return lanes(acc, (In::Slice(values), In::Num(0.0)), n, |v, _| v);
            }
        };
        self.ready(vars, n, scratch);
        let buf = &mut scratch[..self.slots * BLOCK];
        if vars.len() < self.vars {
            return acc.iter_mut().for_each(|a| *a += f64::NAN);
        }
        self.run_steps(&self.steps[..self.steps.len() - 1], buf, vars, n);
        let buf = &*buf;
        let Step::Two { op, a, c, .. } = last else {
            return;
        };
        let ac = (read(a, buf, vars, n), read(c, buf, vars, n));
        match op {
            Binary::Add => lanes(acc, ac, n, |a, c| a + c),
            Binary::Sub => lanes(acc, ac, n, |a, c| a - c),
            Binary::Mul => lanes(acc, ac, n, |a, c| a * c),
            Binary::Div => lanes(acc, ac, n, |a, c| a / c),
            Binary::Pow => lanes(acc, ac, n, f64::powf),
        }
    }

    /// Check a block of `n` points against its columns, and grow
    /// `scratch` to the registers (what every evaluation does first).
    #[inline(always)]
    fn ready(&self, vars: &[Arg], n: usize, scratch: &mut Vec<f64>) {
        assert!(n <= BLOCK);
        assert!(vars.iter().all(|v| match v {
            Arg::Col(c) => c.len() >= n,
            Arg::Scalar(_) => true,
        }));
        if scratch.len() < self.slots * BLOCK {
            scratch.resize(self.slots * BLOCK, 0.0);
        }
    }

    /// The last step, when it is the one that computes the result (so
    /// it can write or add its values where they go, a pass less).
    fn result_step(&self) -> Option<Step> {
        match (self.steps.last(), self.result) {
            (Some(&step), Src::Slot(r)) if step.out() == r => Some(step),
            _ => None,
        }
    }

    /// Run `steps` in order over the registers `buf`.
    #[inline(always)]
    fn run_steps(&self, steps: &[Step], buf: &mut [f64], vars: &[Arg], n: usize) {
        for step in steps {
            match *step {
                Step::One { op, a, out } => {
                    let (o, a) = operand(buf, out, a, vars, n);
                    one(o, a, op, |v| v);
                }
                Step::Two { op, a, c, out } => match op {
                    Binary::Add => two(buf, |a, c| a + c, (a, c), out, vars, n),
                    Binary::Sub => two(buf, |a, c| a - c, (a, c), out, vars, n),
                    Binary::Mul => two(buf, |a, c| a * c, (a, c), out, vars, n),
                    Binary::Div => two(buf, |a, c| a / c, (a, c), out, vars, n),
                    Binary::Pow => two(buf, f64::powf, (a, c), out, vars, n),
                },
            }
        }
    }
}

impl Step {
    /// The slot the step writes.
    fn out(self) -> usize {
        match self {
            Step::One { out, .. } | Step::Two { out, .. } => out,
        }
    }
}

/// A source read-only: a slot of `buf`, a variable or a number.
#[inline(always)]
fn read<'a>(src: Src, buf: &'a [f64], vars: &[Arg<'a>], n: usize) -> In<'a> {
    match src {
        Src::Slot(k) => In::Slice(&buf[k * BLOCK..][..n]),
        other => outside(other, vars, n),
    }
}

/// `acc[k % 16] += f(a[k], c[k])` in the order of k, for operands that
/// are slices or numbers.
#[inline(always)]
fn lanes(acc: &mut [f64; 16], (a, c): (In, In), n: usize, f: impl Fn(f64, f64) -> f64) {
    // The sums in a local array (registers), not through `acc`'s memory.
    let mut sum = *acc;
    match (a, c) {
        (In::Slice(a), In::Slice(c)) => {
            for (av, cv) in a.chunks_exact(16).zip(c.chunks_exact(16)) {
                for l in 0..16 {
                    sum[l] += f(av[l], cv[l]);
                }
            }
        }
        (In::Slice(a), In::Num(c)) => {
            for av in a.chunks_exact(16) {
                for l in 0..16 {
                    sum[l] += f(av[l], c);
                }
            }
        }
        (In::Num(a), In::Slice(c)) => {
            for cv in c.chunks_exact(16) {
                for l in 0..16 {
                    sum[l] += f(a, cv[l]);
                }
            }
        }
        (In::Num(a), In::Num(c)) => {
            for _ in 0..n / 16 {
                sum.iter_mut().for_each(|s| *s += f(a, c));
            }
        }
        // Not what `eval_lanes` passes (`read` gives no Own).
        (In::Own, _) | (_, In::Own) => sum.iter_mut().for_each(|s| *s += f64::NAN),
    }
    *acc = sum;
}

/// `out[i] = f(a[i], c[i])` for operands that are slices or numbers.
#[inline(always)]
fn zip(out: &mut [f64], (a, c): (In, In), f: impl Fn(f64, f64) -> f64) {
    match (a, c) {
        (In::Slice(a), In::Slice(c)) => {
            for ((o, a), c) in out.iter_mut().zip(a).zip(c) {
                *o = f(*a, *c);
            }
        }
        (In::Slice(a), In::Num(c)) => out.iter_mut().zip(a).for_each(|(o, a)| *o = f(*a, c)),
        (In::Num(a), In::Slice(c)) => out.iter_mut().zip(c).for_each(|(o, c)| *o = f(a, *c)),
        (In::Num(a), In::Num(c)) => out.fill(f(a, c)),
        _ => out.fill(f64::NAN), // an operand that is the output itself
    }
}

/// A unary step, the operation chosen outside the loop (a match inside
/// it would stop the compiler vectorising it).
#[inline(always)]
fn one(o: &mut [f64], a: In, op: Unary, post: impl Fn(f64) -> f64 + Copy) {
    macro_rules! calls {
        ($f:expr, $($name:ident => $call:expr),*) => {
            match $f {
                $(Func::$name => map(o, a, |v| post($call(v))),)*
            }
        };
    }
    match op {
        Unary::Neg => map(o, a, |a| post(-a)),
        // Squares and cubes unrolled: the products `powi` makes (1 * v is
        // exact).
        Unary::PowI(2) => map(o, a, |a| post(a * a)),
        Unary::PowI(3) => map(o, a, |a| post(a * (a * a))),
        Unary::PowI(n) => powi_block(o, a, n, post),
        Unary::Call(f) => calls!(f,
            Sin => f64::sin, Cos => f64::cos, Tan => f64::tan, Asin => f64::asin,
            Acos => f64::acos, Atan => f64::atan, Sinh => f64::sinh, Cosh => f64::cosh,
            Tanh => f64::tanh, Asinh => f64::asinh, Acosh => f64::acosh, Atanh => f64::atanh,
            Exp => f64::exp, Ln => f64::ln, Log2 => f64::log2, Log10 => f64::log10,
            Sqrt => f64::sqrt, Cbrt => f64::cbrt, Abs => f64::abs, Signum => f64::signum,
            Floor => f64::floor, Ceil => f64::ceil, Round => f64::round, Trunc => f64::trunc,
            Fract => f64::fract),
    }
}

/// [`powi`] over a block: its squarings and products each a vectorised
/// pass (the per-value loop over the exponent's bits is not vectorised),
/// in `powi`'s order, so the same bits (`r = 1 * v` is `v`).
#[inline(always)]
fn powi_block(o: &mut [f64], a: In, n: i32, post: impl Fn(f64) -> f64 + Copy) {
    let mut v = [0.0f64; BLOCK];
    let v = &mut v[..o.len()];
    match a {
        In::Slice(a) => v.copy_from_slice(a),
        In::Num(a) => v.fill(a),
        In::Own => v.copy_from_slice(o),
    }
    let mut e = n.unsigned_abs();
    let mut started = false;
    while e != 0 {
        if e & 1 == 1 {
            if started {
                o.iter_mut().zip(v.iter()).for_each(|(r, v)| *r *= v);
            } else {
                o.iter_mut().zip(v.iter()).for_each(|(r, v)| *r = 1.0 * v);
                started = true;
            }
        }
        e >>= 1;
        if e != 0 {
            v.iter_mut().for_each(|v| *v *= *v);
        }
    }
    match (started, n < 0) {
        (false, _) => o.fill(post(1.0)),
        (true, true) => o.iter_mut().for_each(|r| *r = post(1.0 / *r)),
        (true, false) => o.iter_mut().for_each(|r| *r = post(*r)),
    }
}

/// A binary step: one loop for each kind of operand pair, so each is a
/// plain loop over slices the compiler vectorises.
#[inline(always)]
fn two(
    buf: &mut [f64],
    f: impl Fn(f64, f64) -> f64,
    (a, c): (Src, Src),
    out: usize,
    vars: &[Arg],
    n: usize,
) {
    if a == Src::Slot(out) {
        let (o, c) = operand(buf, out, c, vars, n);
        match c {
            In::Slice(c) => o.iter_mut().zip(c).for_each(|(o, c)| *o = f(*o, *c)),
            In::Num(c) => o.iter_mut().for_each(|o| *o = f(*o, c)),
            In::Own => o.iter_mut().for_each(|o| *o = f(*o, *o)),
        }
    } else if c == Src::Slot(out) {
        let (o, a) = operand(buf, out, a, vars, n);
        match a {
            In::Slice(a) => o.iter_mut().zip(a).for_each(|(o, a)| *o = f(*a, *o)),
            In::Num(a) => o.iter_mut().for_each(|o| *o = f(a, *o)),
            In::Own => o.iter_mut().for_each(|o| *o = f(*o, *o)),
        }
    } else {
        // Neither is a slot: variables or numbers, into a fresh slot (a
        // slot here is not what `Batch::new` makes: NaN).
        let o = &mut buf[out * BLOCK..][..n];
        zip(o, (outside(a, vars, n), outside(c, vars, n)), f);
    }
}

/// An operand as a loop reads it.
enum In<'a> {
    Slice(&'a [f64]),
    Num(f64),
    /// The output slot itself.
    Own,
}

/// A variable or a number (no slot).
#[inline(always)]
fn outside<'a>(src: Src, vars: &[Arg<'a>], n: usize) -> In<'a> {
    match src {
        Src::Var(i) => match vars[i] {
            Arg::Col(c) => In::Slice(&c[..n]),
            Arg::Scalar(v) => In::Num(v),
        },
        Src::Num(v) => In::Num(v),
        Src::Slot(_) => In::Own,
    }
}

/// The output slot `out` (its first n values), and operand `src` beside
/// it: another slot (split off the same buffer), a variable or a number.
#[inline(always)]
fn operand<'b>(
    buf: &'b mut [f64],
    out: usize,
    src: Src,
    vars: &[Arg<'b>],
    n: usize,
) -> (&'b mut [f64], In<'b>) {
    match src {
        Src::Slot(k) if k == out => (&mut buf[out * BLOCK..][..n], In::Own),
        Src::Slot(k) => {
            let (lo, hi) = buf.split_at_mut(out.max(k) * BLOCK);
            if out < k {
                (&mut lo[out * BLOCK..][..n], In::Slice(&hi[..n]))
            } else {
                (&mut hi[..n], In::Slice(&lo[k * BLOCK..][..n]))
            }
        }
        other => (&mut buf[out * BLOCK..][..n], outside(other, vars, n)),
    }
}

/// A unary step's loop.
#[inline(always)]
fn map(o: &mut [f64], a: In, f: impl Fn(f64) -> f64) {
    match a {
        In::Slice(a) => o.iter_mut().zip(a).for_each(|(o, a)| *o = f(*a)),
        In::Num(a) => o.fill(f(a)),
        In::Own => o.iter_mut().for_each(|o| *o = f(*o)),
    }
}

/// The compiler's state: the stack of sources, free slots, steps so far.
#[derive(Default)]
struct Compiler {
    stack: Vec<Src>,
    free: Vec<usize>,
    slots: usize,
    steps: Vec<Step>,
}

impl Compiler {
    fn op(&mut self, op: Op) {
        let unary = match op {
            Op::Num(v) => return self.stack.push(Src::Num(v)),
            Op::Var(i) => return self.stack.push(Src::Var(i)),
            Op::Neg => Unary::Neg,
            Op::PowI(n) => Unary::PowI(n),
            Op::Call(f) => Unary::Call(f),
            Op::Add => return self.binary(Binary::Add),
            Op::Sub => return self.binary(Binary::Sub),
            Op::Mul => return self.binary(Binary::Mul),
            Op::Div => return self.binary(Binary::Div),
            Op::Pow => return self.binary(Binary::Pow),
        };
        let a = self.stack.pop().unwrap_or(Src::Num(f64::NAN));
        if let Src::Num(v) = a {
            return self.stack.push(Src::Num(unary.apply(v)));
        }
        let out = self.slot_for(a, None);
        self.steps.push(Step::One { op: unary, a, out });
        self.stack.push(Src::Slot(out));
    }

    fn binary(&mut self, op: Binary) {
        let c = self.stack.pop().unwrap_or(Src::Num(f64::NAN));
        let a = self.stack.pop().unwrap_or(Src::Num(f64::NAN));
        if let (Src::Num(a), Src::Num(c)) = (a, c) {
            return self.stack.push(Src::Num(op.apply(a, c)));
        }
        let out = self.slot_for(a, Some(c));
        self.steps.push(Step::Two { op, a, c, out });
        self.stack.push(Src::Slot(out));
    }

    /// The slot a step writes: its first operand's slot, else its
    /// second's (the other one, read by this step, is freed), else a free
    /// or new one.
    fn slot_for(&mut self, a: Src, c: Option<Src>) -> usize {
        let mut mine = [a, c.unwrap_or(Src::Num(0.0))]
            .into_iter()
            .filter_map(|s| match s {
                Src::Slot(k) => Some(k),
                _ => None,
            });
        match (mine.next(), mine.next()) {
            (Some(k), other) => {
                self.free.extend(other);
                k
            }
            (None, _) => self.free.pop().unwrap_or_else(|| {
                self.slots += 1;
                self.slots - 1
            }),
        }
    }
}

/// Which vector instructions the batched loops run with on this CPU,
/// chosen at run time (the binary is built for the baseline x86-64, and
/// the same loops are compiled again for AVX2): the name the report and
/// `--version` give. (AVX-512 would need Rust 1.89, past the declared
/// minimum, and Zen 4 runs it as two 256-bit halves.)
pub fn simd() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            return "avx2";
        }
    }
    "portable"
}

/// How a user's expression is evaluated in this run: `batched (avx2)`,
/// `batched (portable)`, or `reference` where `PARSIM_NO_JIT=1` asks for
/// the point-by-point evaluator (for a bug report: the two give the same
/// bits, so a difference is a bug).
pub fn evaluator() -> String {
    if reference_forced() {
        "reference (PARSIM_NO_JIT=1)".into()
    } else {
        format!("batched ({})", simd())
    }
}

/// Whether `PARSIM_NO_JIT` asks for the reference evaluator (any value
/// but empty or 0).
pub fn reference_forced() -> bool {
    std::env::var_os("PARSIM_NO_JIT").is_some_and(|v| !v.is_empty() && v != "0")
}
