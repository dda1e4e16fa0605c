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
