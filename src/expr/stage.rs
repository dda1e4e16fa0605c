//! A tree split by how often its parts change, so a caller that walks a
//! grid row by row evaluates each part only as often as it must: heat's
//! `--source` along a row of cells (x varies; y and t are fixed for the
//! row), issue 41.
//!
//! Each largest subtree that reads only the fast variable (x) becomes a
//! *cached* column: computed once for every column of the grid. Each
//! largest subtree that does not read it at all (y, t, sin(pi*y)*exp(-t))
//! becomes a *scalar*: computed once per row. What is left, the *vector*
//! tree, reads those as variables of their own and is all that runs per
//! cell: for `exp(-t)*sin(pi*x)*cos(2*pi*y)`, two multiplications.
//!
//! The same bits as the whole tree: every node computes the same
//! operation from the same operand values, only earlier (a subtree's value
//! does not depend on when it is computed). Constants stay where they are,
//! so `x^2` keeps its integer power.

use super::Node::{self, *};

/// The three parts. Variables of `vector`: the original ones (`0..vars`),
/// then `cached[k]` as `vars + k`, then `scalars[k]` as
/// `vars + cached.len() + k`.
#[derive(Debug, Clone, PartialEq)]
pub struct Staged {
    pub vector: Node,
    /// Subtrees in the fast variable alone.
    pub cached: Vec<Node>,
    /// Subtrees without the fast variable (not constants).
    pub scalars: Vec<Node>,
}

/// Split `tree` (in `vars` variables) along variable `fast`.
pub fn stage(tree: &Node, fast: usize, vars: usize) -> Staged {
    let mut cached = Vec::new();
    let mut scalars = Vec::new();
    let vector = split(tree, fast, &mut cached, &mut scalars);
    // Scalars were numbered from 0 while cached ones were still being
    // found: shift them past the cached ones now.
    let n_cached = cached.len();
    let vector = vector.substitute(&|i| match i {
        i if i >= SCALAR => Var(vars + n_cached + (i - SCALAR)),
        i if i >= CACHED => Var(vars + (i - CACHED)),
        i => Var(i),
    });
    Staged {
        vector,
        cached,
        scalars,
    }
}

/// Temporary variable numbers while splitting (far above any real one).
const CACHED: usize = 1 << 40;
const SCALAR: usize = 1 << 50;

/// Whether the tree reads the fast variable, and whether it reads another.
fn reads(n: &Node, fast: usize) -> (bool, bool) {
    match n {
        Num(_) => (false, false),
        Var(i) => (*i == fast, *i != fast),
        Neg(a) | Call(_, a) => reads(a, fast),
        Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => {
            let ((fa, sa), (fc, sc)) = (reads(a, fast), reads(c, fast));
            (fa || fc, sa || sc)
        }
    }
}

fn split(n: &Node, fast: usize, cached: &mut Vec<Node>, scalars: &mut Vec<Node>) -> Node {
    match reads(n, fast) {
        (false, false) => n.clone(),
        (true, false) => {
            cached.push(n.clone());
            Var(CACHED + cached.len() - 1)
        }
        (false, true) => {
            scalars.push(n.clone());
            Var(SCALAR + scalars.len() - 1)
        }
        (true, true) => {
            let mut go = |a: &Node| Box::new(split(a, fast, cached, scalars));
            match n {
                Neg(a) => Neg(go(a)),
                Call(f, a) => Call(*f, go(a)),
                Add(a, c) => Add(go(a), go(c)),
                Sub(a, c) => Sub(go(a), go(c)),
                Mul(a, c) => Mul(go(a), go(c)),
                Div(a, c) => Div(go(a), go(c)),
                Pow(a, c) => Pow(go(a), go(c)),
                Num(_) | Var(_) => n.clone(), // both read nothing or one
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::batch::{Arg, Batch};
    use super::super::{parse, Program};
    use super::*;

    #[test]
    fn a_separable_source_leaves_two_products_per_cell() {
        let tree = parse("exp(-t)*sin(pi*x)*cos(2*pi*y) + x^2", &["x", "y", "t"]).unwrap();
        let s = stage(&tree, 0, 3);
        assert_eq!(s.cached.len(), 2, "{:?}", s.cached); // sin(pi*x), x^2
        assert_eq!(s.scalars.len(), 2, "{:?}", s.scalars); // exp(-t), cos(2*pi*y)
        assert_eq!(s.vector.size(), 7, "{}", s.vector);
    }

    #[test]
    fn staged_values_are_the_whole_trees_bits() {
        let xs: Vec<f64> = (0..37).map(|i| -1.3 + 0.11 * i as f64).collect();
        for text in [
            "exp(-t)*sin(pi*x)*cos(2*pi*y) + x^2 - y^3*t",
            "x",
            "y*t",
            "3",
            "(x + y)^(t + 1) / (1 + x^2)",
            "sin(x*y*t) + sqrt(x) - ln(y) * x",
            "x^-2 + 2^t * x",
        ] {
            let tree = parse(text, &["x", "y", "t"]).unwrap();
            let whole = Program::new(&tree);
            let s = stage(&tree, 0, 3);
            let cached: Vec<Vec<f64>> = s
                .cached
                .iter()
                .map(|c| xs.iter().map(|&x| Program::new(c).eval_at(&[x])).collect())
                .collect();
            let batch = Batch::new(&Program::new(&s.vector));
            let mut scratch = Vec::new();
            for (y, t) in [(0.7, 0.0), (-2.0, 1.5), (0.0, -0.25)] {
                let scalars: Vec<f64> = s
                    .scalars
                    .iter()
                    .map(|c| Program::new(c).eval_at(&[f64::NAN, y, t]))
                    .collect();
                let mut args = vec![Arg::Col(&xs), Arg::Scalar(y), Arg::Scalar(t)];
                args.extend(cached.iter().map(|c| Arg::Col(c)));
                args.extend(scalars.iter().map(|v| Arg::Scalar(*v)));
                let got = batch.eval(&args, xs.len(), &mut scratch);
                for (x, g) in xs.iter().zip(got) {
                    let want = whole.eval_at(&[*x, y, t]);
                    assert!(
                        g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()),
                        "{text} at ({x}, {y}, {t}): {g} vs {want}"
                    );
                }
            }
        }
    }
}
