//! A tree split by how often its parts change, so a caller that walks a
//! grid row by row evaluates each part only as often as it must: heat's
//! `--source` along a row of cells (x varies; y and t are fixed for the
//! row), issue 41.
//!
//! Each largest subtree that reads only the fast variable (x) becomes a
//! *cached* column: computed once for every column of the grid. With a
//! *step* variable (t), each largest one that reads x and t but not the
//! row's other variable (y) becomes a *stepped* column: computed once per
//! column and step (`exp(-t)*sin(pi*x)`). Each largest subtree that does
//! not read x at all (y, t, sin(pi*y)*exp(-t)) becomes a *scalar*: computed
//! once per row. What is left, the *vector* tree, reads those as variables
//! of their own and is all that runs per cell: for
//! `exp(-t)*sin(pi*x)*cos(2*pi*y)`, one multiplication.
//!
//! The same bits as the whole tree: every node computes the same
//! operation from the same operand values, only earlier (a subtree's value
//! does not depend on when it is computed). Constants stay where they are,
//! so `x^2` keeps its integer power.

use super::Node::{self, *};

/// The parts. Variables of `vector`: the original ones (`0..vars`), then
/// `cached[k]` as `vars + k`, then `stepped[k]`, then `scalars[k]`, each
/// numbered on from the one before.
#[derive(Debug, Clone, PartialEq)]
pub struct Staged {
    pub vector: Node,
    /// Subtrees in the fast variable alone.
    pub cached: Vec<Node>,
    /// Subtrees in the fast and the step variable only (both).
    pub stepped: Vec<Node>,
    /// Subtrees without the fast variable (not constants).
    pub scalars: Vec<Node>,
}

/// Split `tree` (in `vars` variables) along variable `fast`, with `step`
/// (if any) the variable of the stepped parts.
pub fn stage(tree: &Node, fast: usize, step: Option<usize>, vars: usize) -> Staged {
    let mut parts = [Vec::new(), Vec::new(), Vec::new()];
    let vector = split(tree, (fast, step), &mut parts);
    // Each kind was numbered from its own base while the others were
    // still being found: number them one after the other now.
    let [cached, stepped, scalars] = parts;
    let (nc, ns) = (cached.len(), stepped.len());
    let vector = vector.substitute(&|i| match i {
        i if i >= BASE[2] => Var(vars + nc + ns + (i - BASE[2])),
        i if i >= BASE[1] => Var(vars + nc + (i - BASE[1])),
        i if i >= BASE[0] => Var(vars + (i - BASE[0])),
        i => Var(i),
    });
    Staged {
        vector,
        cached,
        stepped,
        scalars,
    }
}

/// Temporary variable numbers of the cached, stepped and scalar parts
/// while splitting (far above any real one).
const BASE: [usize; 3] = [1 << 40, 1 << 45, 1 << 50];

/// Which variables the tree reads: (the fast one, the step one, another).
fn reads(n: &Node, (fast, step): (usize, Option<usize>)) -> (bool, bool, bool) {
    match n {
        Num(_) => (false, false, false),
        Var(i) if *i == fast => (true, false, false),
        Var(i) if Some(*i) == step => (false, true, false),
        Var(_) => (false, false, true),
        Neg(a) | Call(_, a) => reads(a, (fast, step)),
        Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => {
            let (x, y) = (reads(a, (fast, step)), reads(c, (fast, step)));
            (x.0 || y.0, x.1 || y.1, x.2 || y.2)
        }
    }
}

fn split(n: &Node, vars: (usize, Option<usize>), parts: &mut [Vec<Node>; 3]) -> Node {
    let mut part = |k: usize| {
        parts[k].push(n.clone());
        Var(BASE[k] + parts[k].len() - 1)
    };
    match reads(n, vars) {
        (false, false, false) => n.clone(),
        (true, false, false) => part(0),
        (true, true, false) => part(1),
        (false, _, _) => part(2),
        (true, _, true) => {
            let mut go = |a: &Node| Box::new(split(a, vars, parts));
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
        let s = stage(&tree, 0, None, 3);
        assert_eq!(s.cached.len(), 2, "{:?}", s.cached); // sin(pi*x), x^2
        assert_eq!(s.scalars.len(), 2, "{:?}", s.scalars); // exp(-t), cos(2*pi*y)
        assert_eq!(s.vector.size(), 7, "{}", s.vector);
        // With t the step variable: exp(-t)*sin(pi*x) once per column and
        // step, one product per cell.
        let s = stage(&tree, 0, Some(2), 3);
        assert_eq!(s.stepped.len(), 1, "{:?}", s.stepped);
        assert_eq!((s.cached.len(), s.scalars.len()), (1, 1));
        assert_eq!(s.vector.size(), 5, "{}", s.vector);
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
            let s = stage(&tree, 0, Some(2), 3);
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
                let stepped: Vec<Vec<f64>> = (s.stepped.iter())
                    .map(|c| {
                        let p = Program::new(c);
                        xs.iter().map(|&x| p.eval_at(&[x, f64::NAN, t])).collect()
                    })
                    .collect();
                let mut args = vec![Arg::Col(&xs), Arg::Scalar(y), Arg::Scalar(t)];
                args.extend(cached.iter().map(|c| Arg::Col(c)));
                args.extend(stepped.iter().map(|c| Arg::Col(c)));
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
