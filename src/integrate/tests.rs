//! Unit tests of the integrate kernels, integrands and validation.

use super::integrand::*;
use super::kernel::*;
use super::validate::*;

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
    for rule in [Rule::Left, Rule::Simpson] {
        let e = Integrand::parse("x^3 + sin(3*x)")
            .and_then(|e| e.with_derivative(rule.error_term().0))
            .unwrap();
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
    let e = Integrand::parse("x^2 - x")
        .and_then(|e| e.with_derivative(1))
        .unwrap();
    assert_eq!(e.eval(3.0), 6.0);
    assert_eq!(Integrand::parse("2").unwrap().eval(7.0), 2.0);
    assert_eq!(e.derivative(1).unwrap()(3.0), 5.0);
    assert!(Integrand::parse("x^^2").is_err());
    assert!(Integrand::parse("x*y")
        .unwrap_err()
        .contains("unknown name 'y' (the variable is x)"));
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

// Issue 39, cause 5: an expression that breaks or is singular on [a, b]
// is judged by what can be known there.

/// The run's value for `text` on [a, b] by `rule` with `n` intervals, and
/// its validation.
fn judged(text: &str, a: f64, b: f64, n: u64, rule: Rule) -> (f64, Validation) {
    let e = Integrand::parse(text)
        .and_then(|e| e.with_derivative(rule.error_term().0))
        .unwrap();
    let g = Grid::new(a, b, n, rule);
    let v = g.estimate(e.chunk_sum(&g, 0..g.points()));
    (v, validate(&e, &g, 4096, v))
}

#[test]
fn breaks_and_singular_derivatives_are_bounded_and_wrong_values_still_fail() {
    let rules = [Rule::Left, Rule::Midpoint, Rule::Trapezoid, Rule::Simpson];
    for (text, a, b) in [
        ("abs(x)", 1.0, 2.0),       // no break inside: smooth
        ("abs(x - 0.3)", 0.0, 1.0), // a kink
        ("abs(x - 1)", 0.0, 2.0),   // a kink on a point of the rule
        ("floor(x)", 0.5, 2.5),     // jumps
        ("floor(x)", 0.0, 2.0),     // jumps on points of the rule
        ("x + signum(x - 0.7)", 0.0, 1.0),
        ("fract(3*x)^2", -0.4, 1.1),
        ("sqrt(x)", 0.0, 1.0),       // f' infinite at a
        ("cbrt(x - 0.3)", 0.0, 1.0), // f' infinite inside
        ("sqrt(abs(x - 0.3))", 0.0, 1.0),
    ] {
        for rule in rules {
            for n in [1000u64, 20_000] {
                let (v, check) = judged(text, a, b, n, rule);
                let what = format!("{text} on [{a}, {b}], {rule:?}, n {n}: {check:?}");
                assert!(check.passed && check.validated, "{what}");
                // Tight enough to catch a lost chunk (a singular f' makes
                // the left rule's bound shrink only as h^(1/3)).
                assert!(n < 20_000 || check.bound < 2e-2, "{what}");
                // A value off by ten bounds is wrong, and fails.
                let e = Integrand::parse(text)
                    .and_then(|e| e.with_derivative(rule.error_term().0))
                    .unwrap();
                let g = Grid::new(a, b, n, rule);
                assert!(
                    !validate(&e, &g, 4096, v + 10.0 * check.bound).passed,
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn what_cannot_be_bounded_is_not_validated_and_does_not_fail() {
    // f infinite at a point of the rule: the rule's sum is infinite.
    for (text, rule) in [
        ("1/sqrt(x)", Rule::Left),
        ("1/x", Rule::Left),
        ("x*ln(x)", Rule::Trapezoid),
    ] {
        let (v, check) = judged(text, 0.0, 1.0, 1000, rule);
        assert!(!v.is_finite(), "{text}");
        assert!(check.passed && !check.validated, "{text}: {check:?}");
        assert!(
            check
                .note
                .as_deref()
                .unwrap()
                .contains("not finite at x = 0"),
            "{check:?}"
        );
    }
    // f unbounded near a point the rule does not touch.
    for text in ["1/sqrt(x)", "ln(x)", "1/x"] {
        let (_, check) = judged(text, 0.0, 1.0, 1000, Rule::Midpoint);
        assert!(check.passed && !check.validated, "{text}: {check:?}");
        assert!(
            check
                .note
                .as_deref()
                .unwrap()
                .contains("not bounded near x = 0"),
            "{check:?}"
        );
    }
    // Breaks by the hundred thousand.
    let (_, check) = judged("floor(1e5*x)", 0.0, 1.0, 1_000_000, Rule::Left);
    assert!(check.passed && !check.validated, "{check:?}");
    assert!(
        check.note.as_deref().unwrap().contains("breaks"),
        "{check:?}"
    );
    // Two intervals: a bound as large as the value proves nothing.
    let (_, check) = judged("exp(3*x)", 0.0, 2.0, 2, Rule::Left);
    assert!(check.passed && !check.validated, "{check:?}");
    assert!(
        check.note.as_deref().unwrap().contains("too loose"),
        "{check:?}"
    );
}

#[test]
fn values_that_are_not_finite_for_no_reason_fail() {
    // f is finite everywhere on [0, 1]: a NaN or an infinity from the sum
    // is a wrong value, not the rule's.
    let e = Integrand::parse("x^2 + abs(x - 0.5)")
        .and_then(|e| e.with_derivative(1))
        .unwrap();
    let g = Grid::new(0.0, 1.0, 1000, Rule::Left);
    for v in [f64::NAN, f64::INFINITY] {
        let check = validate(&e, &g, 4096, v);
        assert!(!check.passed && !check.validated, "{check:?}");
    }
    // A lost chunk of a non-smooth integrand fails, as a smooth one's does.
    let lost = g.estimate(e.chunk_sum(&g, 0..g.points() - 64));
    assert!(!validate(&e, &g, 64, lost).passed);
}
