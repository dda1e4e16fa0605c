//! The expression parser's unit tests: precedence, derivatives, and a
//! one-line refusal for every kind of bad input.

use super::*;

/// integrate's variables: x alone.
const X: &[&str] = &["x"];

fn at(text: &str, x: f64) -> f64 {
    Program::new(&parse(text, X).unwrap()).eval(x)
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
        |text: &str, x: f64| Program::new(&parse(text, X).unwrap().derivative(0).unwrap()).eval(x);
    assert_eq!(d("x^3", 2.0), 12.0);
    assert_eq!(d("x^2 - x", 3.0), 5.0);
    assert!((d("sin(3*x)", 0.5) - 3.0 * 1.5f64.cos()).abs() < 1e-15);
    assert!((d("exp(-x^2)", 1.0) + 2.0 * (-1.0f64).exp()).abs() < 1e-15);
    assert!((d("x^x", 2.0) - 4.0 * (2f64.ln() + 1.0)).abs() < 1e-12);
    assert!((d("1/x", 2.0) + 0.25).abs() < 1e-15);
    assert!((d("log10(x)", 10.0) - 1.0 / (10.0 * std::f64::consts::LN_10)).abs() < 1e-15);
    // A sum of 120 terms stays a sum: its 4th derivative is small.
    let sum: Vec<String> = (1..=120).map(|k| format!("sin({k}*x)")).collect();
    let mut t = parse(&sum.join("+"), X).unwrap();
    for _ in 0..4 {
        t = t.derivative(0).unwrap();
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
        let err = parse(text, X).unwrap_err();
        assert!(err.contains(want), "{text}: {err}");
    }
    let deep = format!("{}x{}", "(".repeat(65), ")".repeat(65));
    assert!(parse(&deep, X).unwrap_err().contains("nested more than 64"));
    let signs = format!("{}x", "-".repeat(65));
    assert!(parse(&signs, X)
        .unwrap_err()
        .contains("nested more than 64"));
    assert!(parse(&"x+".repeat(3000), X)
        .unwrap_err()
        .contains("bytes long"));
    // 2000 terms: a long chain, not deep: parsed and evaluated.
    let long = vec!["x"; 2000].join("+");
    assert_eq!(at(&long, 1.0), 2000.0);
}

#[test]
fn rough_functions_have_their_derivative_between_breaks_and_constants_fold() {
    let d =
        |text: &str, x: f64| Program::new(&parse(text, X).unwrap().derivative(0).unwrap()).eval(x);
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
    let tree = parse("abs(x - 0.3) + floor(2*x) + 7*trunc(3) + sin(x)", X).unwrap();
    let calls = tree.rough_calls(0);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(Func::Floor.piece(1.5), 1.0);
    assert_eq!(Func::Abs.piece(-0.2), -1.0);
    assert_eq!(Func::Abs.piece(0.0), 0.0);
    assert!(Func::Abs.piece(f64::NAN).is_nan());
    assert_eq!(Func::Fract.piece(-2.5), -2.0);
    // x^3 three times: 6 everywhere, no 0 * x^-1 left to be NaN at 0.
    let mut t = parse("x^3", X).unwrap();
    for _ in 0..3 {
        t = t.derivative(0).unwrap();
    }
    assert_eq!(Program::new(&t).eval(0.0), 6.0);
    assert_eq!(t.derivative(0).unwrap(), Node::Num(0.0));
}

/// heat's variables.
const XYT: &[&str] = &["x", "y", "t"];

#[test]
fn named_variables_are_read_from_the_slice_in_their_declared_order() {
    let p = Program::new(&parse("x - 2*y + 10*t", XYT).unwrap());
    assert_eq!(p.vars(), 3);
    assert_eq!(p.eval_at(&[1.0, 3.0, 0.5]), 1.0 - 6.0 + 5.0);
    // Too few values: NaN, not a panic.
    assert!(p.eval_at(&[1.0, 3.0]).is_nan());
    // Only y used: still read at index 1; a constant reads nothing.
    let only_y = Program::new(&parse("y^2", XYT).unwrap());
    assert_eq!((only_y.vars(), only_y.eval_at(&[7.0, 3.0, 9.0])), (2, 9.0));
    assert_eq!(Program::new(&parse("pi", XYT).unwrap()).vars(), 0);
    // The names are the caller's: the same text in other names.
    let q = Program::new(&parse("a*b", &["b", "a"]).unwrap());
    assert_eq!(q.eval_at(&[2.0, 5.0]), 10.0);
    // One variable: eval(x) and eval_at(&[x]) are the same bits.
    let f = Program::new(&parse("sin(3*x)/x + x^2.5", X).unwrap());
    for x in [0.1, 0.7, 3.3] {
        assert_eq!(f.eval(x).to_bits(), f.eval_at(&[x]).to_bits());
    }
}

#[test]
fn derivatives_by_each_named_variable() {
    let tree = parse("exp(-t) * sin(x) * y^3 + x*t", XYT).unwrap();
    let at = [0.3, 2.0, 0.5];
    let d = |v: usize| Program::new(&tree.derivative(v).unwrap()).eval_at(&at);
    let (x, y, t) = (at[0], at[1], at[2]);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs().max(1.0);
    assert!(close(d(0), (-t).exp() * x.cos() * y.powi(3) + t));
    assert!(close(d(1), (-t).exp() * x.sin() * 3.0 * y * y));
    assert!(close(d(2), -(-t).exp() * x.sin() * y.powi(3) + x));
    // x^y in y: through ln; t^2 in x: 0.
    let p = parse("x^y", XYT).unwrap();
    let dy = Program::new(&p.derivative(1).unwrap()).eval_at(&[2.0, 3.0, 0.0]);
    assert!(close(dy, 8.0 * 2f64.ln()));
    assert_eq!(
        parse("t^2", XYT).unwrap().derivative(0).unwrap(),
        Node::Num(0.0)
    );
    assert!(tree.has_var(2) && !parse("x*y", XYT).unwrap().has_var(2));
    // The builders make a tree the derivatives fold into.
    let s = sub(
        tree.derivative(2).unwrap(),
        mul(Node::Num(0.5), tree.derivative(0).unwrap()),
    );
    assert!(Program::new(&s).eval_at(&at).is_finite());
}

#[test]
fn an_unknown_name_lists_the_variables_allowed() {
    let err = parse("z*x", XYT).unwrap_err();
    assert_eq!(err, "unknown name 'z' (this expression may use x, y, t)");
    assert_eq!(
        parse("y", X).unwrap_err(),
        "unknown name 'y' (the variable is x)"
    );
    assert!(parse("x", &[]).unwrap_err().contains("takes no variable"));
    // A function name is not a variable, and a variable is not a function.
    assert!(parse("sin", XYT)
        .unwrap_err()
        .contains("needs its argument"));
    assert!(parse("t(x)", XYT).unwrap_err().contains("unexpected '('"));
}

#[test]
fn a_tree_as_text_reads_back_to_the_same_values_bit_for_bit() {
    for text in [
        "exp(-t)*sin(pi*x)*cos(2*pi*y) + x^2*y - 0.3*t",
        "-x^2 + (x - y) - (t - x) / (y*2) / 3",
        "2^-x + (-x)^2 + x^2^0.5 - -x + 1e-7*x - 1.5e300/1e300",
        "a", // a variable alone
    ] {
        let names = ["x", "y", "t"];
        let tree = match parse(text, &names) {
            Ok(t) => t,
            Err(_) => continue,
        };
        let again = parse(&tree.text(&names), &names).unwrap();
        let (p, q) = (Program::new(&tree), Program::new(&again));
        for at in [[0.3, 0.7, 0.1], [1.9, -2.0, 3.0]] {
            assert_eq!(p.eval_at(&at).to_bits(), q.eval_at(&at).to_bits(), "{text}");
        }
    }
    // Derivatives fold constants into negative numbers: still read back.
    let d = parse("exp(-2*t)*x^3", XYT).unwrap().derivative(2).unwrap();
    let again = parse(&d.text(XYT), XYT).unwrap();
    let at = [0.4, 0.0, 0.2];
    assert_eq!(
        Program::new(&d).eval_at(&at).to_bits(),
        Program::new(&again).eval_at(&at).to_bits()
    );
    // A long sum stays shallow (no parenthesis per term).
    let long = vec!["x"; 200].join("+");
    let t = parse(&long, X).unwrap();
    assert!(parse(&t.text(&["x"]), X).is_ok());
    // Substituted: x = 0 on a wall, y and t renumbered.
    let wall = parse("x + 10*y + 100*t", XYT).unwrap().substitute(&|i| {
        if i == 0 {
            Node::Num(0.5)
        } else {
            Node::Var(i - 1)
        }
    });
    assert_eq!(Program::new(&wall).eval_at(&[2.0, 3.0]), 320.5);
    assert_eq!(wall.text(&["y", "t"]), "0.5 + 10.0*y + 100.0*t");
}
