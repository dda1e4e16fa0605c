//! The expression parser's unit tests: precedence, derivatives, and a
//! one-line refusal for every kind of bad input.

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
    let d = |text: &str, x: f64| Program::new(&parse(text).unwrap().derivative().unwrap()).eval(x);
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

#[test]
fn rough_functions_have_their_derivative_between_breaks_and_constants_fold() {
    let d = |text: &str, x: f64| Program::new(&parse(text).unwrap().derivative().unwrap()).eval(x);
    for (rough, x, want) in [
        ("abs(x)", -2.0, -1.0),
        ("abs(x - 0.3)", 1.0, 1.0),
        ("floor(x)", 0.5, 0.0),
        ("x + signum(x - 1)", 3.0, 1.0),
        ("fract(3*x)", 0.1, 3.0),
        ("round(x)^2", 0.7, 0.0),
    ] {
        assert_eq!(d(rough, x), want, "{rough}");
    }
    let tree = parse("abs(x - 0.3) + floor(2*x) + 7*trunc(3) + sin(x)").unwrap();
    let calls = tree.rough_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(Func::Floor.piece(1.5), 1.0);
    assert_eq!(Func::Abs.piece(-0.2), -1.0);
    assert_eq!(Func::Abs.piece(0.0), 0.0);
    assert!(Func::Abs.piece(f64::NAN).is_nan());
    assert_eq!(Func::Fract.piece(-2.5), -2.0);
    // x^3 three times: 6 everywhere, no 0 * x^-1 left to be NaN at 0.
    let mut t = parse("x^3").unwrap();
    for _ in 0..3 {
        t = t.derivative().unwrap();
    }
    assert_eq!(Program::new(&t).eval(0.0), 6.0);
    assert_eq!(t.derivative().unwrap(), Node::Num(0.0));
}
