//! The batched evaluator against the reference, bit for bit: on a corpus
//! of expressions and on random programs (a property test: every
//! function, constants, deep nesting, integer and real powers, and
//! points that make NaN and infinities).

use rand::RngExt;

use super::batch::{Arg, Batch, BLOCK};
use super::*;

/// Equal bits, or both NaN (IEEE leaves which NaN's payload an operation
/// keeps to the hardware, and the compiler may swap `a + b`).
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Points that exercise every branch of the functions: signs, zeros,
/// infinities, NaN, subnormals, huge and tiny values, integers and
/// half-integers (round, floor), and the domains' edges (1, -1).
fn hostile_points(rng: &mut impl RngExt, n: usize) -> Vec<f64> {
    let special = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE / 4.0,
        1e308,
        -1e308,
        1e-300,
        710.0,
        -745.5,
        std::f64::consts::PI,
    ];
    (0..n)
        .map(|k| match k % 3 {
            0 => special[rng.random_range(0..special.len())],
            1 => rng.random_range(-4.0..4.0),
            _ => f64::from_bits(rng.next_u64()),
        })
        .collect()
}

/// Both evaluators at `xs` (one variable); panics on the first point where
/// they differ.
fn check_one_var(text: &str, tree: &Node, xs: &[f64]) {
    let program = Program::new(tree);
    let batch = Batch::new(&program);
    let mut scratch = Vec::new();
    for block in xs.chunks(BLOCK) {
        let got = batch
            .eval(&[Arg::Col(block)], block.len(), &mut scratch)
            .to_vec();
        // And scaled straight into a slice (heat's dt * S).
        let mut scaled = vec![0.0; block.len()];
        batch.eval_into(&[Arg::Col(block)], &mut scaled, &mut scratch, 0.3);
        for ((x, g), s) in block.iter().zip(got).zip(scaled) {
            let want = program.eval(*x);
            assert!(
                same(g, want),
                "{text} at x = {x:e}: batched {g:e}, reference {want:e}"
            );
            assert!(same(s, 0.3 * want), "{text} at x = {x:e}: scaled {s:e}");
        }
    }
}

#[test]
fn the_corpus_gives_the_reference_bits() {
    let mut rng = crate::rng::stream(41, 0);
    let xs = hostile_points(&mut rng, 3 * BLOCK + 17);
    let poly: Vec<String> = (0..40)
        .map(|k| format!("{}*x^{k}", 1.0 / (k as f64 + 1.0)))
        .collect();
    let mut corpus = vec![
        "x^2 - x".to_string(),
        "exp(-x^2)".into(),
        "sin(3*x) + x^3".into(),
        "1/(1+x^2)".into(),
        poly.join(" + "),
        "x".into(),
        "2".into(),
        "-x".into(),
        "x^-3 + x^0 + x^1 + x^7 + x^1024 + x^1025 + x^0.5 + x^-1024".into(),
        "2^x + x^x + (-x)^x".into(),
        "pi*e - tau + sqrt(2)".into(),
        "x/0 + 0/x + x - x".into(),
        "1e999 * x - 1e999".into(),
    ];
    for (name, _) in Func::ALL {
        corpus.push(format!("{name}(x) * {name}(1/x) - {name}(x^2 - 2)"));
    }
    corpus.push(format!("{}x{}", "sin(".repeat(60), ")".repeat(60)));
    corpus.push(format!("{}x{}", "(1+".repeat(63), ")".repeat(63)));
    corpus.push(vec!["x*x"; 500].join("-"));
    for text in &corpus {
        let tree = parse(text, &["x"]).unwrap_or_else(|e| panic!("{text}: {e}"));
        check_one_var(text, &tree, &xs);
    }
}

/// A random tree of at most `depth` levels in `vars` variables: every
/// node kind and function, numbers that are integers (so `powi`), reals,
/// zeros and infinities.
fn random_tree(rng: &mut impl RngExt, depth: usize, vars: usize) -> Node {
    let leaf = depth == 0 || rng.random_range(0..4) == 0;
    if leaf {
        return match rng.random_range(0..6) {
            0..=2 => Var(rng.random_range(0..vars)),
            3 => Num(rng.random_range(-5..=12) as f64),
            4 => Num(rng.random_range(-3.0..3.0)),
            _ => Num([0.0, -0.0, f64::INFINITY, 1e300, 0.5][rng.random_range(0..5)]),
        };
    }
    let sub = |rng: &mut _| Box::new(random_tree(rng, depth - 1, vars));
    match rng.random_range(0..9) {
        0 => Neg(sub(rng)),
        1 => Add(sub(rng), sub(rng)),
        2 => Sub(sub(rng), sub(rng)),
        3 => Mul(sub(rng), sub(rng)),
        4 => Div(sub(rng), sub(rng)),
        5 => Pow(sub(rng), sub(rng)),
        6 => Pow(sub(rng), Box::new(Num(rng.random_range(-6..=9) as f64))),
        _ => Call(Func::ALL[rng.random_range(0..Func::ALL.len())].1, sub(rng)),
    }
}

#[test]
fn random_programs_give_the_reference_bits() {
    let mut rng = crate::rng::stream(41, 1);
    let xs = hostile_points(&mut rng, BLOCK + 5);
    for case in 0..3000 {
        let tree = random_tree(&mut rng, 1 + case % 9, 1);
        check_one_var(&tree.to_string(), &tree, &xs);
    }
}

#[test]
fn programs_in_three_variables_give_the_reference_bits() {
    let mut rng = crate::rng::stream(41, 2);
    let n = BLOCK - 3;
    let cols: Vec<Vec<f64>> = (0..3).map(|_| hostile_points(&mut rng, n)).collect();
    let vars: Vec<Arg> = cols.iter().map(|c| Arg::Col(c)).collect();
    for case in 0..1000 {
        let tree = random_tree(&mut rng, 1 + case % 7, 3);
        let program = Program::new(&tree);
        let batch = Batch::new(&program);
        let mut scratch = Vec::new();
        let got = batch.eval(&vars, n, &mut scratch).to_vec();
        for (i, g) in got.iter().enumerate() {
            let want = program.eval_at(&[cols[0][i], cols[1][i], cols[2][i]]);
            assert!(same(*g, want), "{tree} at point {i}: {g:e} vs {want:e}");
        }
        // Added to 16 lane sums as integrate's chunk sum adds them.
        let m = n - n % 16;
        let mut acc = [0.0f64; 16];
        batch.eval_lanes(&vars, m, &mut scratch, &mut acc);
        let mut want = [0.0f64; 16];
        for (i, g) in got[..m].iter().enumerate() {
            want[i % 16] += g;
        }
        for l in 0..16 {
            assert!(
                same(acc[l], want[l]),
                "{tree}: lane {l}: {} vs {}",
                acc[l],
                want[l]
            );
        }
        // y one number for every point (heat's row), t a column.
        let y = cols[1][case % n];
        let mixed = [vars[0], Arg::Scalar(y), vars[2]];
        let row = batch.eval(&mixed, n, &mut scratch).to_vec();
        for (i, g) in row.iter().enumerate() {
            let want = program.eval_at(&[cols[0][i], y, cols[2][i]]);
            assert!(
                same(*g, want),
                "{tree} at point {i}, y = {y}: {g:e} vs {want:e}"
            );
        }
        // Too few variables: NaN, as the reference.
        if program.vars() > 1 {
            let short = batch.eval(&vars[..1], n, &mut scratch);
            assert!(short.iter().all(|v| v.is_nan()), "{tree}");
        }
    }
}

#[test]
fn integer_powers_are_repeated_squaring() {
    let x = 1.1f64;
    assert_eq!(powi(x, 2).to_bits(), (x * x).to_bits());
    assert_eq!(powi(x, 3).to_bits(), (x * (x * x)).to_bits());
    let (x2, x4) = (x * x, x * x * (x * x));
    assert_eq!(powi(x, 6).to_bits(), (x2 * x4).to_bits());
    assert_eq!(powi(x, -2).to_bits(), (1.0 / (x * x)).to_bits());
    assert_eq!(powi(f64::NAN, 0), 1.0);
    // A literal integer exponent is powi; a real one or a large one powf.
    let at = |t: &str| Program::new(&parse(t, &["x"]).unwrap()).eval(x);
    assert_eq!(at("x^2").to_bits(), (x * x).to_bits());
    assert_eq!(at("x^2.5").to_bits(), x.powf(2.5).to_bits());
    assert_eq!(at("x^2000").to_bits(), x.powf(2000.0).to_bits());
}
