//! What proves an integrate run: the value against the closed form of the
//! discrete sum (the lesson's integrand) or against an adaptive Gauss-Kronrod
//! integral, within the rule's error bound plus round-off.
//!
//! A user's expression may break on [a, b]: abs, floor and the like where
//! their argument crosses 0 or an integer, or a singularity of f or of the
//! derivative the bound needs (sqrt(x) at 0). Such places are found (the
//! breaks by bisection, singularities and spikes where the adaptive
//! reference had to refine far below the derivative samples' spacing), the
//! rule's panels around them are bounded by their width times f's
//! oscillation there, the rest by the derivative bound. What cannot be
//! bounded (f unbounded near a place, too many breaks, a bound too loose
//! to tell) is "not validated": said, and no failure; a value outside a
//! finite bound still fails.

use super::integrand::{Builtin, Integrand};
use super::kernel::{Grid, Rule, LANES};
use crate::expr::{Func, Program};
use crate::report::num;

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
    let r = adaptive_reference(f, a, b, tol);
    (r.value, r.err)
}

/// Depth of the adaptive reference's recursion.
const GK_DEPTH: u32 = 40;
/// Splits the reference may make (about 1.5 million evaluations): past
/// them it stops refining, its error estimate saying so.
const GK_SPLITS: u32 = 50_000;
/// A leaf this deep is 1/16 of the derivative samples' spacing (4096 per
/// [a, b]) or less: f changes there faster than the samples can see.
const DEEP: u32 = 16;

/// The adaptive reference: its value, its summed error estimate, and its
/// leaves as (from, to, depth, converged) in order along [a, b].
pub struct Reference {
    pub value: f64,
    pub err: f64,
    pub leaves: Vec<(f64, f64, u32, bool)>,
}

impl Reference {
    /// Where f needed refining far below the derivative samples' spacing
    /// (a break, a singularity, a spike): the leaves at depth `DEEP` or
    /// more that are as deep as their neighbours (the bottom of a cascade
    /// of halvings, not its sides), and every leaf that did not meet its
    /// tolerance.
    pub fn trouble(&self) -> Vec<(f64, f64)> {
        let l = &self.leaves;
        let depth = |i: usize| l.get(i).map_or(0, |x| x.2);
        (0..l.len())
            .filter(|&i| {
                let d = l[i].2;
                let lowest = d >= DEEP && d >= depth(i + 1) && (i == 0 || d >= depth(i - 1));
                lowest || !l[i].3
            })
            .map(|i| (l[i].0, l[i].1))
            .collect()
    }
}

/// [`gauss_kronrod`] keeping its leaves (see [`Reference`]).
pub fn adaptive_reference(f: &dyn Fn(f64) -> f64, a: f64, b: f64, tol: f64) -> Reference {
    struct Walk<'a> {
        f: &'a dyn Fn(f64) -> f64,
        splits: u32,
        leaves: Vec<(f64, f64, u32, bool)>,
    }
    fn rec(w: &mut Walk, a: f64, b: f64, tol: f64, depth: u32) -> (f64, f64) {
        let (k, g) = gk15(w.f, a, b);
        let err = (k - g).abs();
        let met = err <= tol.max(f64::EPSILON * 50.0 * k.abs());
        if met || depth == 0 || !err.is_finite() || w.splits == 0 {
            w.leaves.push((a, b, GK_DEPTH - depth, met));
            return (k, err);
        }
        w.splits -= 1;
        let m = 0.5 * (a + b);
        let (l, el) = rec(w, a, m, tol / 2.0, depth - 1);
        let (r, er) = rec(w, m, b, tol / 2.0, depth - 1);
        (l + r, el + er)
    }
    let (whole, _) = gk15(f, a, b);
    let mut w = Walk {
        f,
        splits: GK_SPLITS,
        leaves: Vec::new(),
    };
    let (value, err) = rec(&mut w, a, b, tol * whole.abs().max(1e-300), GK_DEPTH);
    Reference {
        value,
        err,
        leaves: w.leaves,
    }
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
    /// [a, b], or a handful of points, makes the bound huge: "within the
    /// bound" then proves nothing.
    pub conclusive: bool,
    /// Whether the value was proven right: within a conclusive bound.
    pub validated: bool,
    /// Why it was not, when it was not and did not fail either (f not
    /// finite at a point of the rule, unbounded near a point, too many
    /// breaks, a bound too loose): a run that cannot be validated is
    /// said to be so, and does not fail.
    pub note: Option<String>,
    /// False only for a value shown wrong: outside its bound (or not
    /// finite with f finite wherever the rule was seen to meet trouble).
    pub passed: bool,
}

/// Judge `value`, the rule's estimate on `grid` summed in chunks of
/// `chunk` points. x^2 - x: the closed form of the discrete sum, to
/// round-off (and the exact integral within the rule's bound). Other
/// built-ins: the exact integral within the rule's bound plus round-off.
/// An expression: an adaptive Gauss-Kronrod reference, within the bound
/// from its symbolic derivatives' maxima sampled on [a, b] (doubled: a
/// sample can miss the peak), plus the reference's own error estimate;
/// where f breaks or is singular, see [`expression_bound`].
pub fn validate(f: &Integrand, grid: &Grid, chunk: u64, value: f64) -> Validation {
    let (a, b) = (grid.a, grid.b);
    let (k, _, _) = grid.rule.error_term();
    let mut note = None;
    let (integral, gk_err, m0, truncation) = match f {
        Integrand::Builtin(bi) => (
            bi.integral(a, b),
            0.0,
            bi.derivative_bound(0, a, b),
            truncation_bound(grid, bi.derivative_bound(k, a, b)),
        ),
        Integrand::Expr { .. } => {
            let g = |x| f.eval(x);
            let reference = adaptive_reference(&g, a, b, 1e-13);
            let e = expression_bound(f, grid, &reference);
            note = e.note;
            (reference.value, reference.err, e.m0, e.truncation)
        }
    };
    let roundoff = roundoff_bound(grid, chunk, m0);
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
    let within = error.abs() <= bound && integral_error.abs() <= truncation + roundoff + gk_err;
    let (validated, passed) = verdict(f, grid, value, (bound, within, conclusive), &mut note);
    if passed && validated {
        note = None;
    }
    Validation {
        against,
        reference,
        error,
        bound,
        integral,
        integral_error,
        truncation_bound: truncation,
        conclusive,
        validated,
        note: if passed { note } else { None },
        passed,
    }
}

/// Whether the value is validated and whether the run passes, given the
/// bound, whether the errors are within it and whether it is tight enough
/// to prove anything; `note` gets why a passing value is not validated.
fn verdict(
    f: &Integrand,
    grid: &Grid,
    value: f64,
    (bound, within, conclusive): (f64, bool, bool),
    note: &mut Option<String>,
) -> (bool, bool) {
    if !value.is_finite() {
        // The rule's own sum is not finite when f is not at one of its
        // points: a value as right as the rule, which nothing validates.
        match f {
            Integrand::Expr { .. } => match rule_point_not_finite(f, grid) {
                Some(x) => {
                    *note = Some(format!(
                        "f is not finite at x = {}, a point of the rule",
                        num(x, None)
                    ));
                    (false, true)
                }
                None => (false, false),
            },
            Integrand::Builtin(_) => (false, false),
        }
    } else if !bound.is_finite() {
        note.get_or_insert_with(|| "no finite bound on the rule's error".into());
        (false, true)
    } else if !within {
        (false, false)
    } else if !conclusive {
        note.get_or_insert_with(|| {
            format!(
                "the bound {bound:.3e} is too loose to prove the value (few points, or f \
             steep or singular in [a, b])"
            )
        });
        (false, true)
    } else {
        (true, true)
    }
}

/// The derivative samples' count on [a, b].
const SAMPLES: u32 = 4096;
/// Breaks located before the validation gives up on them.
const MAX_BREAKS: usize = 10_000;

/// What bounds a user's expression's run: the rule's truncation bound,
/// the terms' magnitude (for round-off) and, when no bound can be made,
/// why.
pub struct ExprBound {
    pub truncation: f64,
    pub m0: f64,
    pub note: Option<String>,
}

/// The rule's error bound for an expression. Smooth on [a, b] (no break
/// of abs, floor... inside, no spot where the reference refined far below
/// the samples' spacing): c (b - a) h^p max|f^(k)|, the maxima sampled
/// at 4097 points and doubled, as for every expression before breaks were
/// located. Else the panels of the rule (one interval, two for Simpson)
/// around each such spot are taken out: each is off by at most its width
/// times f's oscillation on it (the rule's weights are positive and add up
/// to the width), sampled and doubled; the others keep the derivative
/// bound, with samples added on a geometric ladder towards each spot
/// (where a singular derivative peaks).
pub fn expression_bound(f: &Integrand, grid: &Grid, reference: &Reference) -> ExprBound {
    let (a, b) = (grid.a, grid.b);
    let (k, _, _) = grid.rule.error_term();
    let g = |x: f64| f.eval(x);
    let d = f.derivative(k);
    let mk_at = |x: f64| d.as_ref().map_or(f64::INFINITY, |d| d(x).abs());
    let sample = |i: u32| a + (b - a) * f64::from(i) / f64::from(SAMPLES);
    let no = |note: String| ExprBound {
        truncation: f64::INFINITY,
        m0: f64::INFINITY,
        note: Some(note),
    };
    // Where f may break: the rough functions' breaks, the reference's
    // deepest leaves, samples where f or its derivative is not finite.
    let mut spots = match rough_breaks(f, grid) {
        Some(s) => s,
        None => {
            return no(format!(
                "more than {MAX_BREAKS} breaks (abs, floor, ... changing branch) in [a, b]"
            ))
        }
    };
    spots.extend(reference.trouble());
    for i in 0..=SAMPLES {
        let x = sample(i);
        if !(g(x).is_finite() && mk_at(x).is_finite()) {
            spots.push((x, x));
        }
    }
    if spots.is_empty() {
        let mk = d.map_or(f64::INFINITY, |d| 2.0 * sampled_max(&*d, a, b, SAMPLES));
        return ExprBound {
            truncation: truncation_bound(grid, mk),
            m0: 2.0 * sampled_max(&g, a, b, SAMPLES),
            note: None,
        };
    }
    let ranges = panel_ranges(grid, &mut spots);
    // Inside a range: its open interior, and its edges at a or b (an edge
    // inside [a, b] is also the edge of a smooth panel next to it).
    let inside = |x: f64| {
        ranges
            .iter()
            .any(|&(lo, hi)| x >= lo && x <= hi && (x > lo || lo == a) && (x < hi || hi == b))
    };
    let smooth = smooth_points(grid, &ranges, inside);
    let (mut mk, mut m0) = (0.0f64, 0.0f64);
    for &x in &smooth {
        let (v, dk) = (g(x).abs(), mk_at(x));
        if !(v.is_finite() && dk.is_finite()) {
            return no(format!(
                "f or its derivative is not finite near x = {}",
                num(x, None)
            ));
        }
        mk = mk.max(dk);
        m0 = m0.max(v);
    }
    let panels = match oscillation(&g, grid, &ranges, &spots) {
        Ok((panels, largest)) => {
            m0 = m0.max(largest);
            panels
        }
        Err(x) => return no(format!("f is not bounded near x = {}", num(x, None))),
    };
    ExprBound {
        truncation: truncation_bound(grid, 2.0 * mk) + panels,
        m0: 2.0 * m0,
        note: None,
    }
}

/// Where the smooth panels are sampled: the samples outside the ranges
/// around the spots (`inside` says which are in one), and ladders from
/// each range's edges outwards, down to the width of a panel.
fn smooth_points(grid: &Grid, ranges: &[(f64, f64)], inside: impl Fn(f64) -> bool) -> Vec<f64> {
    let (a, b) = (grid.a, grid.b);
    let sample = |i: u32| a + (b - a) * f64::from(i) / f64::from(SAMPLES);
    let width = panel_width(grid);
    let spacing = (b - a) / f64::from(SAMPLES);
    let mut smooth: Vec<f64> = (0..=SAMPLES).map(sample).filter(|&x| !inside(x)).collect();
    for &(lo, hi) in ranges {
        let mut step = 0.0;
        while step <= 2.0 * spacing {
            for x in [lo - step, hi + step] {
                if x >= a && x <= b && !inside(x) {
                    smooth.push(x);
                }
            }
            step = if step == 0.0 { 0.5 * width } else { 2.0 * step };
        }
    }
    smooth
}

/// The panels around the spots (`ranges`): the sum of their widths times
/// f's oscillation there (doubled: the samples can miss the extremes), and
/// the largest |f| met; `Err(x)` where f is not finite at x.
fn oscillation(
    g: &impl Fn(f64) -> f64,
    grid: &Grid,
    ranges: &[(f64, f64)],
    spots: &[(f64, f64)],
) -> Result<(f64, f64), f64> {
    let (mut panels, mut m0) = (0.0, 0.0f64);
    for &(lo, hi) in ranges {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        let points = (0..=64)
            .map(|j| lo + (hi - lo) * f64::from(j) / 64.0)
            .chain(rule_points_in(grid, lo, hi))
            .chain(
                spots
                    .iter()
                    .filter(|s| s.1 >= lo && s.0 <= hi)
                    .flat_map(|s| [s.0, s.1]),
            );
        for x in points {
            let v = g(x);
            if !v.is_finite() {
                return Err(x);
            }
            min = min.min(v);
            max = max.max(v);
            m0 = m0.max(v.abs());
        }
        panels += (hi - lo) * 2.0 * (max - min);
    }
    Ok((panels, m0))
}

/// The width of the rule's panel: one interval, two for Simpson.
fn panel_width(grid: &Grid) -> f64 {
    if grid.rule == Rule::Simpson {
        2.0 * grid.h
    } else {
        grid.h
    }
}

/// The panels that meet the spots (closed: a break on the edge of two
/// panels touches both, through the end weights), merged: disjoint ranges
/// in order.
fn panel_ranges(grid: &Grid, spots: &mut [(f64, f64)]) -> Vec<(f64, f64)> {
    let (a, b) = (grid.a, grid.b);
    let width = panel_width(grid);
    let panels = (b - a) / width;
    let edge = |j: f64| (a + j.clamp(0.0, panels) * width).clamp(a, b);
    spots.sort_by(|p, q| p.0.total_cmp(&q.0));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for &(lo, hi) in spots.iter() {
        // A millionth of a panel of slack: an edge computed a rounding
        // away from the spot still counts as met.
        let j0 = ((lo - a) / width - 1e-6).floor();
        let j1 = ((hi - a) / width + 1e-6).floor() + 1.0;
        let (r0, r1) = (edge(j0), edge(j1));
        match out.last_mut() {
            Some(last) if r0 <= last.1 => last.1 = last.1.max(r1),
            _ => out.push((r0, r1)),
        }
    }
    out
}

/// Up to 65 of the rule's points in [lo, hi], evenly chosen, the first and
/// last among them.
fn rule_points_in(grid: &Grid, lo: f64, hi: f64) -> Vec<f64> {
    let last = grid.points() - 1;
    let idx = |x: f64| ((x - grid.a) / grid.h).clamp(0.0, last as f64);
    let (i0, i1) = (idx(lo).floor() as u64, idx(hi).ceil() as u64);
    let step = ((i1 - i0) / 64).max(1);
    (i0..=i1)
        .step_by(step as usize)
        .chain([i1])
        .map(|i| grid.x(i))
        .filter(|&x| x >= lo && x <= hi)
        .collect()
}

/// Where the rough functions of the expression (abs, floor, ...) change
/// branch on [a, b]: each break as a bracket narrower than a quarter of an
/// interval (or as narrow as doubles go), found by bisection between the
/// derivative samples wherever a piece differs, and again inside any half
/// that still differs (several breaks between two samples). `None` past
/// [`MAX_BREAKS`]. Two breaks between the same two samples that undo each
/// other are not seen, as a sample misses a derivative's peak.
pub fn rough_breaks(f: &Integrand, grid: &Grid) -> Option<Vec<(f64, f64)>> {
    let Integrand::Expr { tree, .. } = f else {
        return Some(Vec::new());
    };
    let calls: Vec<(Func, Program)> = tree
        .rough_calls(0)
        .into_iter()
        .map(|(func, arg)| (func, Program::new(arg)))
        .collect();
    if calls.is_empty() {
        return Some(Vec::new());
    }
    let pieces = |x: f64| -> Vec<f64> { calls.iter().map(|(f, p)| f.piece(p.eval(x))).collect() };
    let same = |p: &[f64], q: &[f64]| {
        p.iter()
            .zip(q)
            .all(|(u, v)| u == v || (u.is_nan() && v.is_nan()))
    };
    let narrow = 0.25 * grid.h;
    let mut out = Vec::new();
    // Depth-first bisection of [lo, hi] whose ends' pieces differ.
    let mut todo = Vec::new();
    let (a, b) = (grid.a, grid.b);
    let mut prev = (a, pieces(a));
    for i in 1..=SAMPLES {
        let x = a + (b - a) * f64::from(i) / f64::from(SAMPLES);
        let next = (x, pieces(x));
        if !same(&prev.1, &next.1) {
            todo.push((prev.clone(), next.clone()));
        }
        while let Some(((lo, plo), (hi, phi))) = todo.pop() {
            let mid = 0.5 * (lo + hi);
            if hi - lo <= narrow || mid <= lo || mid >= hi {
                out.push((lo, hi));
                if out.len() > MAX_BREAKS {
                    return None;
                }
                continue;
            }
            let pm = pieces(mid);
            if !same(&pm, &phi) {
                todo.push(((mid, pm.clone()), (hi, phi)));
            }
            if !same(&plo, &pm) {
                todo.push(((lo, plo), (mid, pm)));
            }
        }
        prev = next;
    }
    Some(out)
}

/// A point of the rule where f is not finite, looked for where a value
/// that is not finite would come from: the ends, and the rule's points
/// near every spot where f breaks or the reference refined deepest.
fn rule_point_not_finite(f: &Integrand, grid: &Grid) -> Option<f64> {
    let g = |x: f64| f.eval(x);
    let ends = [grid.x(0), grid.x(grid.points() - 1)];
    if let Some(&x) = ends.iter().find(|&&x| !g(x).is_finite()) {
        return Some(x);
    }
    let reference = adaptive_reference(&g, grid.a, grid.b, 1e-13);
    let mut spots = rough_breaks(f, grid).unwrap_or_default();
    spots.extend(reference.trouble());
    panel_ranges(grid, &mut spots)
        .into_iter()
        .flat_map(|(lo, hi)| rule_points_in(grid, lo, hi))
        .find(|&x| !g(x).is_finite())
}
