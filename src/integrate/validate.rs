//! What proves an integrate run: the value against the closed form of the
//! discrete sum (the lesson's integrand) or against an adaptive Gauss-Kronrod
//! integral, within the rule's error bound plus round-off.

use super::integrand::{Builtin, Integrand};
use super::kernel::{Grid, Rule, LANES};

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
    /// Whether the bound can tell a right value from a wrong one: finite
    /// and no larger than the reference itself (or 1). A pole inside
    /// [a, b] makes the sampled derivatives, and so the bound, huge; an
    /// integrand that is not smooth has no bound at all: "within the
    /// bound" then proves nothing, and the run fails its validation.
    pub conclusive: bool,
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
    let conclusive = bound.is_finite() && bound <= reference.abs().max(1.0);
    let passed = value.is_finite()
        && conclusive
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
        conclusive,
        passed,
    }
}
