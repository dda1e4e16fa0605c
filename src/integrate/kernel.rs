//! `parsim integrate`, the pure part: quadrature rules as weighted sums
//! over points, cut into fixed chunks of point indices, and everything the
//! validation needs (exact integrals, closed forms of the discrete sums,
//! error bounds). No MPI here.
//!
//! Why chunks: the sum over N points is cut into chunks of `chunk` indices
//! whose size does not depend on the number of ranks; each chunk is summed
//! the same way whichever rank owns it, and rank 0 adds the chunk sums in
//! chunk order. So the result is bitwise identical on any number of ranks
//! (it depends on the chunk size, which is part of the problem, like a
//! seed).

use std::ops::Range;

/// The quadrature rule over N intervals of width h = (b - a) / N.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// h sum_{i<N} f(a + i h): the lessons' `integrate_f`; error O(h).
    Left,
    /// h sum_{i<N} f(a + (i + 1/2) h); error O(h^2).
    Midpoint,
    /// h (f0/2 + f1 + ... + f_{N-1} + fN/2); error O(h^2).
    Trapezoid,
    /// h/3 (f0 + 4 f1 + 2 f2 + ... + 4 f_{N-1} + fN), N even; error O(h^4).
    Simpson,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Left => "left",
            Rule::Midpoint => "midpoint",
            Rule::Trapezoid => "trapezoid",
            Rule::Simpson => "simpson",
        }
    }

    /// Points the rule evaluates for N intervals.
    pub fn points(self, n: u64) -> u64 {
        match self {
            Rule::Left | Rule::Midpoint => n,
            Rule::Trapezoid | Rule::Simpson => n + 1,
        }
    }

    /// Offset of point i in units of h (midpoint: i + 1/2).
    fn shift(self) -> f64 {
        if self == Rule::Midpoint {
            0.5
        } else {
            0.0
        }
    }

    /// The weighted sum is multiplied by h times this.
    pub fn scale(self) -> f64 {
        if self == Rule::Simpson {
            1.0 / 3.0
        } else {
            1.0
        }
    }

    /// The derivative whose maximum bounds the rule's error, and the
    /// bound's factor c: |error| <= c (b - a) h^p max|f^(k)|, (k, p, c).
    pub fn error_term(self) -> (usize, i32, f64) {
        match self {
            Rule::Left => (1, 1, 0.5),
            Rule::Midpoint => (2, 2, 1.0 / 24.0),
            Rule::Trapezoid => (2, 2, 1.0 / 12.0),
            Rule::Simpson => (4, 4, 1.0 / 180.0),
        }
    }
}

/// The grid of points: x_i = a + (i + shift) h, i in 0..points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub a: f64,
    pub b: f64,
    pub n: u64,
    pub h: f64,
    pub rule: Rule,
    /// Points as fma(i, h, a), one rounding (the x^2 - x kernel, where the
    /// fused form halves the floating-point operations); else a + i*h as
    /// the lessons write it. Equal when a = 0, the lessons' case.
    pub fused: bool,
}

impl Grid {
    pub fn new(a: f64, b: f64, n: u64, rule: Rule) -> Self {
        Self {
            a,
            b,
            n,
            h: (b - a) / n as f64,
            rule,
            fused: false,
        }
    }

    pub fn points(&self) -> u64 {
        self.rule.points(self.n)
    }

    /// Point i, computed as the lessons do: a + i*dx (one multiply, one
    /// add; no FMA).
    pub fn x(&self, i: u64) -> f64 {
        self.point(i as f64 + self.rule.shift())
    }

    /// The point at (fractional) index `idx`.
    #[inline(always)]
    pub fn point(&self, idx: f64) -> f64 {
        if self.fused {
            idx.mul_add(self.h, self.a)
        } else {
            self.a + idx * self.h
        }
    }

    /// The weight of point i in the sum (before h and the rule's scale).
    fn weight(&self, i: u64) -> f64 {
        match self.rule {
            Rule::Left | Rule::Midpoint => 1.0,
            Rule::Trapezoid if i == 0 || i == self.n => 0.5,
            Rule::Trapezoid => 1.0,
            Rule::Simpson if i == 0 || i == self.n => 1.0,
            Rule::Simpson if i % 2 == 1 => 4.0,
            Rule::Simpson => 2.0,
        }
    }

    /// The integral estimate from the weighted sum of every point.
    pub fn estimate(&self, weighted: f64) -> f64 {
        weighted * self.h * self.rule.scale()
    }
}

/// Lanes of the chunk sum: independent partial sums (four AVX2 vectors in
/// the x^2 - x kernel). Fixed, so the sum's order is.
const LANES: usize = 16;

/// The weighted sum of f over the points `range` of `grid`, in a fixed
/// order: lane l sums points start + l, start + l + 16, ...; the lanes are
/// then combined in lane order with their weights. Depends only on the
/// range, never on which rank computes it.
#[inline(always)]
pub fn chunk_sum(f: &impl Fn(f64) -> f64, grid: &Grid, range: Range<u64>) -> f64 {
    let mut acc = [0.0f64; LANES];
    let full = (range.end - range.start) / LANES as u64;
    let shift = grid.rule.shift();
    // Point indices as exact f64 counters (indices < 2^53): converting a
    // u64 per point would cost more than the integrand.
    let mut idx: [f64; LANES] = std::array::from_fn(|l| (range.start + l as u64) as f64 + shift);
    for _ in 0..full {
        for l in 0..LANES {
            acc[l] += f(grid.point(idx[l]));
            idx[l] += LANES as f64;
        }
    }
    combine_lanes(f, grid, range, full, acc)
}

/// The tail of a chunk (after `full` rounds of the lanes), then the lanes
/// combined in lane order with their weights, then the end points'
/// weights corrected.
#[inline(always)]
fn combine_lanes(
    f: &impl Fn(f64) -> f64,
    grid: &Grid,
    range: Range<u64>,
    full: u64,
    mut acc: [f64; LANES],
) -> f64 {
    let tail = range.start + full * LANES as u64;
    for (l, i) in (tail..range.end).enumerate() {
        acc[l] += f(grid.x(i));
    }
    // Interior weights depend only on the parity of the index (Simpson),
    // and lane l holds indices of one parity (start + l + 16k).
    let mut sum = 0.0;
    for (l, s) in acc.iter().enumerate() {
        let w = match grid.rule {
            Rule::Simpson if (range.start + l as u64) % 2 == 1 => 4.0,
            Rule::Simpson => 2.0,
            _ => 1.0,
        };
        sum += w * s;
    }
    // The end points' weights differ from the interior ones.
    for end in [0, grid.n] {
        if matches!(grid.rule, Rule::Trapezoid | Rule::Simpson) && range.contains(&end) {
            let interior = if grid.rule == Rule::Simpson { 2.0 } else { 1.0 };
            sum -= (interior - grid.weight(end)) * f(grid.x(end));
        }
    }
    sum
}

/// [`chunk_sum`] compiled for AVX2 where the CPU has it (the same
/// arithmetic: no FMA contraction, so the same bits), else the portable
/// build.
pub fn chunk_sum_fast(f: &impl Fn(f64) -> f64, grid: &Grid, range: Range<u64>) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { chunk_sum_avx2(f, grid, range) };
        }
    }
    chunk_sum(f, grid, range)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn chunk_sum_avx2(f: &impl Fn(f64) -> f64, grid: &Grid, range: Range<u64>) -> f64 {
    chunk_sum(f, grid, range)
}

/// [`chunk_sum`] of x^2 - x (the lessons' f, the benchmark) on a fused
/// grid: the lanes' loop written with AVX2 + FMA intrinsics, since the
/// compiler's own vectorisation of it stays at two lanes. Lane for lane
/// the same operations in the same order as the portable loop
/// (x = fma(idx, h, a), fma(x, x, -x), acc += ...), so the same bits: a
/// unit test pins it. Four floating-point operations per four points: on
/// a core with two add and two multiply pipes, two points per cycle.
pub fn lesson_chunk_sum(grid: &Grid, range: Range<u64>) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports AVX2 and FMA (checked just above).
            return unsafe { lesson_avx2::chunk_sum(grid, range) };
        }
    }
    chunk_sum(&|x| Builtin::Lesson.eval(x), grid, range)
}

#[cfg(target_arch = "x86_64")]
mod lesson_avx2 {
    use std::arch::x86_64::*;
    use std::ops::Range;

    use super::{combine_lanes, Builtin, Grid, LANES};

    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn chunk_sum(grid: &Grid, range: Range<u64>) -> f64 {
        let full = (range.end - range.start) / LANES as u64;
        let shift = grid.rule.shift();
        let base = range.start as f64 + shift;
        debug_assert!(grid.fused);
        let (a, h) = (_mm256_set1_pd(grid.a), _mm256_set1_pd(grid.h));
        let mut idx: [__m256d; 4] = std::array::from_fn(|v| {
            let b = base + 4.0 * v as f64;
            _mm256_setr_pd(b, b + 1.0, b + 2.0, b + 3.0)
        });
        let mut s = [_mm256_setzero_pd(); 4];
        let step = _mm256_set1_pd(LANES as f64);
        for _ in 0..full {
            for (sv, iv) in s.iter_mut().zip(idx.iter_mut()) {
                let x = _mm256_fmadd_pd(*iv, h, a);
                *sv = _mm256_add_pd(*sv, _mm256_fmsub_pd(x, x, x));
                *iv = _mm256_add_pd(*iv, step);
            }
        }
        let mut acc = [0.0f64; LANES];
        for (v, sv) in s.iter().enumerate() {
            _mm256_storeu_pd(acc.as_mut_ptr().add(4 * v), *sv);
        }
        combine_lanes(&|x| Builtin::Lesson.eval(x), grid, range, full, acc)
    }
}

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
            // Fused (one rounding): see `Grid::fused`.
            Builtin::Lesson => x.mul_add(x, -x),
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
/// (parsed by `exmex`, a maintained expression crate that also
/// differentiates symbolically: the validation needs f's derivatives).
#[derive(Debug, Clone)]
pub enum Integrand {
    Builtin(Builtin),
    Expr {
        text: String,
        expr: Box<exmex::FlatEx<f64>>,
    },
}

impl Integrand {
    /// A built-in's name, or an expression whose only variable is x.
    pub fn parse(text: &str) -> Result<Self, String> {
        use exmex::prelude::*;
        if let Some(b) = Builtin::ALL.iter().find(|b| b.name() == text) {
            return Ok(Integrand::Builtin(*b));
        }
        let expr = exmex::parse::<f64>(text).map_err(|e| {
            let names: Vec<_> = Builtin::ALL.iter().map(|b| b.name()).collect();
            format!(
                "--f '{text}' is neither a built-in ({}) nor an expression in x: {}",
                names.join(", "),
                crate::error::one_line(&e.to_string())
            )
        })?;
        match expr.var_names() {
            [] => {}
            [x] if x == "x" => {}
            other => {
                return Err(format!(
                    "--f '{text}' may use only the variable x (found {})",
                    other.join(", ")
                ))
            }
        }
        Ok(Integrand::Expr {
            text: text.to_string(),
            expr: Box::new(expr),
        })
    }

    /// f(x); an expression that cannot be evaluated gives NaN (then the run
    /// fails its validation, saying the integrand is not finite).
    #[inline(always)]
    pub fn eval(&self, x: f64) -> f64 {
        use exmex::prelude::*;
        match self {
            Integrand::Builtin(b) => b.eval(x),
            Integrand::Expr { expr, .. } => {
                let vars = if expr.var_names().is_empty() {
                    &[][..]
                } else {
                    &[x][..]
                };
                expr.eval(vars).unwrap_or(f64::NAN)
            }
        }
    }

    /// The weighted sum of f over `range` (see [`chunk_sum`]), with the
    /// choice of integrand made once per chunk, not per point, so each
    /// built-in's loop is compiled (and vectorised) for it alone.
    pub fn chunk_sum(&self, grid: &Grid, range: Range<u64>) -> f64 {
        match self {
            Integrand::Builtin(Builtin::Lesson) => lesson_chunk_sum(grid, range),
            Integrand::Builtin(b) => chunk_sum_fast(&|x| b.eval(x), grid, range),
            Integrand::Expr { .. } => chunk_sum(&|x| self.eval(x), grid, range),
        }
    }

    /// The formula as reports and files show it.
    pub fn formula(&self) -> String {
        match self {
            Integrand::Builtin(b) => b.formula().to_string(),
            Integrand::Expr { text, .. } => text.clone(),
        }
    }

    /// f's k-th derivative, for an expression (symbolic, by exmex).
    pub fn derivative(&self, k: usize) -> Option<Box<dyn Fn(f64) -> f64>> {
        use exmex::prelude::*;
        let Integrand::Expr { expr, .. } = self else {
            return None;
        };
        if expr.var_names().is_empty() {
            return Some(Box::new(|_| 0.0));
        }
        let d = (**expr).clone().partial_nth(0, k).ok()?;
        Some(Box::new(move |x| {
            let vars = if d.var_names().is_empty() {
                &[][..]
            } else {
                &[x][..]
            };
            d.eval(vars).unwrap_or(f64::NAN)
        }))
    }
}

/// The closed form of the rule's weighted sum for x^2 - x (the lessons'
/// f), from sum i = n(n-1)/2 and sum i^2 = (n-1)n(2n-1)/6: the discrete sum
/// itself, so a run must match it to round-off.
pub fn lesson_closed_form(grid: &Grid) -> f64 {
    let f = Builtin::Lesson;
    // sum_{i<m} f(x0 + i s)
    let s_of = |x0: f64, s: f64, m: u64| {
        let m = m as f64;
        let s1 = m * (m - 1.0) / 2.0;
        let s2 = (m - 1.0) * m * (2.0 * m - 1.0) / 6.0;
        m * x0 * x0 + 2.0 * x0 * s * s1 + s * s * s2 - m * x0 - s * s1
    };
    let (a, h, n) = (grid.a, grid.h, grid.n);
    let ends = f.eval(grid.x(0)) + f.eval(grid.x(n));
    match grid.rule {
        Rule::Left => s_of(a, h, n),
        Rule::Midpoint => s_of(a + 0.5 * h, h, n),
        Rule::Trapezoid => s_of(a, h, n + 1) - 0.5 * ends,
        Rule::Simpson => 2.0 * s_of(a, h, n + 1) + 2.0 * s_of(a + h, 2.0 * h, n / 2) - ends,
    }
}

/// A bound on the round-off of the chunked sum relative to exact
/// arithmetic: each of the `points` terms (magnitude at most `m0`, weight
/// at most 4) passes through at most chunk/8 + 8 + chunks additions (lane,
/// lanes, chunk order), each off by half an ulp, plus the evaluation of
/// x and f (a few ulps); scaled to the integral (h times the rule's scale).
pub fn roundoff_bound(grid: &Grid, chunk: u64, m0: f64) -> f64 {
    let chunks = grid.points().div_ceil(chunk) as f64;
    let adds = chunk as f64 / LANES as f64 + LANES as f64 + chunks + 16.0;
    let weighted_terms = 4.0 * m0 * grid.points() as f64;
    f64::EPSILON * adds * weighted_terms * grid.h * grid.rule.scale()
}

/// The rule's truncation error bound c (b - a) h^p max|f^(k)|.
pub fn truncation_bound(grid: &Grid, max_derivative: f64) -> f64 {
    let (_, p, c) = grid.rule.error_term();
    c * (grid.b - grid.a) * grid.h.powi(p) * max_derivative
}

/// Adaptive Gauss-Kronrod (7-15) on [a, b] to a relative tolerance: the
/// reference value for an integrand with no known antiderivative (a user's
/// expression). Recursion depth is capped; the estimated error is
/// returned with the value.
pub fn gauss_kronrod(f: &dyn Fn(f64) -> f64, a: f64, b: f64, tol: f64) -> (f64, f64) {
    fn rec(f: &dyn Fn(f64) -> f64, a: f64, b: f64, tol: f64, depth: u32) -> (f64, f64) {
        let (k, g) = gk15(f, a, b);
        let err = (k - g).abs();
        if err <= tol.max(f64::EPSILON * 50.0 * k.abs()) || depth == 0 || !err.is_finite() {
            return (k, err);
        }
        let m = 0.5 * (a + b);
        let (l, el) = rec(f, a, m, tol / 2.0, depth - 1);
        let (r, er) = rec(f, m, b, tol / 2.0, depth - 1);
        (l + r, el + er)
    }
    let (whole, _) = gk15(f, a, b);
    rec(f, a, b, tol * whole.abs().max(1e-300), 40)
}

/// One Kronrod 15-point estimate and its embedded Gauss 7-point one.
fn gk15(f: &dyn Fn(f64) -> f64, a: f64, b: f64) -> (f64, f64) {
    const XK: [f64; 8] = [
        0.991_455_371_120_812_6,
        0.949_107_912_342_758_5,
        0.864_864_423_359_769_1,
        0.741_531_185_599_394_4,
        0.586_087_235_467_691_1,
        0.405_845_151_377_397_2,
        0.207_784_955_007_898_5,
        0.0,
    ];
    const WK: [f64; 8] = [
        0.022_935_322_010_529_22,
        0.063_092_092_629_978_55,
        0.104_790_010_322_250_2,
        0.140_653_259_715_525_9,
        0.169_004_726_639_267_9,
        0.190_350_578_064_785_4,
        0.204_432_940_075_298_9,
        0.209_482_141_084_728_8,
    ];
    const WG: [f64; 4] = [
        0.129_484_966_168_869_7,
        0.279_705_391_489_276_7,
        0.381_830_050_505_118_9,
        0.417_959_183_673_469_4,
    ];
    let (c, r) = (0.5 * (a + b), 0.5 * (b - a));
    let fc = f(c);
    let (mut k, mut g) = (WK[7] * fc, WG[3] * fc);
    for j in 0..7 {
        let s = f(c - r * XK[j]) + f(c + r * XK[j]);
        k += WK[j] * s;
        if j % 2 == 1 {
            g += WG[j / 2] * s;
        }
    }
    (k * r, g * r)
}

/// max |g| sampled at `samples` + 1 equally spaced points of [a, b]: an
/// estimate (not a bound) of a derivative's maximum for an integrand known
/// only as an expression.
pub fn sampled_max(g: &dyn Fn(f64) -> f64, a: f64, b: f64, samples: u32) -> f64 {
    (0..=samples)
        .map(|k| g(a + (b - a) * f64::from(k) / f64::from(samples)).abs())
        .fold(0.0, f64::max)
}

/// A run's validation: what its value was compared with, how far off it
/// is and what bound that distance had to stay within.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Validation {
    /// "closed form of the sum", "exact integral" or "Gauss-Kronrod".
    pub against: &'static str,
    pub reference: f64,
    pub error: f64,
    pub bound: f64,
    /// The exact integral (built-ins) or the Gauss-Kronrod value.
    pub integral: f64,
    /// value - integral, and the rule's error bound (derived for
    /// built-ins, estimated from sampled derivatives for expressions).
    pub integral_error: f64,
    pub truncation_bound: f64,
    pub passed: bool,
}

/// Judge `value`, the rule's estimate on `grid` summed in chunks of
/// `chunk` points. x^2 - x: the closed form of the discrete sum, to
/// round-off (and the exact integral within the rule's bound). Other
/// built-ins: the exact integral within the rule's bound plus round-off.
/// An expression: an adaptive Gauss-Kronrod reference, within the bound
/// from its symbolic derivatives' maxima sampled on [a, b] (doubled: a
/// sample can miss the peak).
pub fn validate(f: &Integrand, grid: &Grid, chunk: u64, value: f64) -> Validation {
    let (a, b) = (grid.a, grid.b);
    let (k, _, _) = grid.rule.error_term();
    let (integral, gk_err, m0, mk) = match f {
        Integrand::Builtin(bi) => (
            bi.integral(a, b),
            0.0,
            bi.derivative_bound(0, a, b),
            bi.derivative_bound(k, a, b),
        ),
        Integrand::Expr { .. } => {
            let g = |x| f.eval(x);
            let (v, err) = gauss_kronrod(&g, a, b, 1e-13);
            let mk = f
                .derivative(k)
                .map_or(f64::INFINITY, |d| 2.0 * sampled_max(&*d, a, b, 4096));
            (v, err, 2.0 * sampled_max(&g, a, b, 4096), mk)
        }
    };
    let roundoff = roundoff_bound(grid, chunk, m0);
    let truncation = truncation_bound(grid, mk);
    let integral_error = value - integral;
    let (against, reference, bound) = match f {
        Integrand::Builtin(Builtin::Lesson) => (
            "closed form of the sum",
            grid.estimate(lesson_closed_form(grid)),
            roundoff,
        ),
        Integrand::Builtin(_) => ("exact integral", integral, truncation + roundoff),
        Integrand::Expr { .. } => ("Gauss-Kronrod", integral, truncation + roundoff + gk_err),
    };
    let error = value - reference;
    let passed = value.is_finite()
        && error.abs() <= bound
        && integral_error.abs() <= truncation + roundoff + gk_err;
    Validation {
        against,
        reference,
        error,
        bound,
        integral,
        integral_error,
        truncation_bound: truncation,
        passed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial(f: impl Fn(f64) -> f64, g: &Grid) -> f64 {
        (0..g.points()).map(|i| g.weight(i) * f(g.x(i))).sum()
    }

    #[test]
    fn the_lessons_left_sum_matches_the_closed_form_and_the_known_value() {
        let g = Grid {
            fused: true,
            ..Grid::new(0.0, 2.0, 1_000_000, Rule::Left)
        };
        let f = |x| Builtin::Lesson.eval(x);
        let s: f64 = (0..16)
            .map(|c| chunk_sum(&f, &g, c * 65536..((c + 1) * 65536).min(1_000_000)))
            .sum();
        let v = g.estimate(s);
        // WORKLOADS.md: 0.666664666668
        assert!((v - 0.666_664_666_668).abs() < 1e-12, "{v}");
        let closed = g.estimate(lesson_closed_form(&g));
        assert!(
            (v - closed).abs() < roundoff_bound(&g, 65536, 6.0),
            "{v} vs {closed}"
        );
        // The document's own closed form.
        let n = 1e6f64;
        let doc = 4.0 / 3.0 * (n - 1.0) * (2.0 * n - 1.0) / (n * n) - 2.0 * (n - 1.0) / n;
        assert!((closed - doc).abs() < 1e-13);
    }

    #[test]
    fn chunk_sums_equal_the_weighted_sum_for_every_rule_and_any_split() {
        for rule in [Rule::Left, Rule::Midpoint, Rule::Trapezoid, Rule::Simpson] {
            let g = Grid {
                fused: true,
                ..Grid::new(-0.5, 1.25, 1000, rule)
            };
            let f = |x| Builtin::Lesson.eval(x);
            let whole = chunk_sum(&f, &g, 0..g.points());
            let split: f64 = [0..13, 13..500, 500..g.points()]
                .into_iter()
                .map(|r| chunk_sum(&f, &g, r))
                .sum();
            let reference = serial(f, &g);
            for v in [whole, split] {
                assert!(
                    (v - reference).abs() < 1e-10,
                    "{rule:?}: {v} vs {reference}"
                );
            }
            let closed = lesson_closed_form(&g);
            assert!(
                (whole - closed).abs() < 1e-10,
                "{rule:?}: closed form {closed}"
            );
            // The AVX2 builds give the same bits.
            assert_eq!(
                whole.to_bits(),
                chunk_sum_fast(&f, &g, 0..g.points()).to_bits()
            );
            for r in [0..g.points(), 3..g.points() - 5, 0..7] {
                let portable = chunk_sum(&f, &g, r.clone());
                assert_eq!(
                    portable.to_bits(),
                    lesson_chunk_sum(&g, r).to_bits(),
                    "{rule:?}"
                );
            }
        }
    }

    #[test]
    fn each_rule_converges_at_its_order_within_its_bound() {
        for f in Builtin::ALL {
            for rule in [Rule::Left, Rule::Midpoint, Rule::Trapezoid, Rule::Simpson] {
                let (a, b) = (0.25, 1.5);
                let g = Grid::new(a, b, 64, rule);
                let est = g.estimate(chunk_sum(&|x| f.eval(x), &g, 0..g.points()));
                let err = (est - f.integral(a, b)).abs();
                let (k, _, _) = rule.error_term();
                let bound = truncation_bound(&g, f.derivative_bound(k, a, b)) + 1e-14;
                assert!(err <= bound, "{f:?} {rule:?}: {err} > {bound}");
            }
        }
    }

    #[test]
    fn validation_passes_right_sums_and_fails_wrong_ones() {
        let g = Grid {
            fused: true,
            ..Grid::new(0.0, 2.0, 100_000, Rule::Left)
        };
        let lesson = Integrand::Builtin(Builtin::Lesson);
        let v = g.estimate(lesson.chunk_sum(&g, 0..g.points()));
        assert!(validate(&lesson, &g, 1 << 20, v).passed);
        // One point lost (a chunk boundary off by one) is far above round-off.
        let lost = g.estimate(lesson.chunk_sum(&g, 0..g.points() - 1));
        assert!(!validate(&lesson, &g, 1 << 20, lost).passed);
        assert!(!validate(&lesson, &g, 1 << 20, f64::NAN).passed);
        // An expression: Gauss-Kronrod reference, sampled derivative bound.
        let e = Integrand::parse("x^3 + sin(3*x)").unwrap();
        for rule in [Rule::Left, Rule::Simpson] {
            let g = Grid::new(-1.0, 2.0, 2000, rule);
            let v = g.estimate(e.chunk_sum(&g, 0..g.points()));
            let check = validate(&e, &g, 512, v);
            assert!(check.passed, "{rule:?}: {check:?}");
            assert!(!validate(&e, &g, 512, v + 10.0 * check.bound).passed);
        }
    }

    #[test]
    fn integrands_parse_by_name_or_expression() {
        assert!(matches!(
            Integrand::parse("sin"),
            Ok(Integrand::Builtin(Builtin::Sin))
        ));
        let e = Integrand::parse("x^2 - x").unwrap();
        assert_eq!(e.eval(3.0), 6.0);
        assert_eq!(Integrand::parse("2").unwrap().eval(7.0), 2.0);
        assert_eq!(e.derivative(1).unwrap()(3.0), 5.0);
        assert!(Integrand::parse("x^^2").is_err());
        assert!(Integrand::parse("x*y")
            .unwrap_err()
            .contains("only the variable x"));
    }

    #[test]
    fn gauss_kronrod_finds_the_known_integrals() {
        for f in Builtin::ALL {
            let (v, _) = gauss_kronrod(&|x| f.eval(x), -0.3, 2.0, 1e-14);
            let exact = f.integral(-0.3, 2.0);
            assert!(
                (v - exact).abs() < 1e-13 * exact.abs().max(1.0),
                "{f:?}: {v} vs {exact}"
            );
        }
        let (v, _) = gauss_kronrod(&|x: f64| x.sqrt(), 0.0, 1.0, 1e-12);
        assert!((v - 2.0 / 3.0).abs() < 1e-10);
    }
}
