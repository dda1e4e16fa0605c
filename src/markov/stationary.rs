//! The stationary distribution and the fundamental matrix of a chain,
//! solved (dense Gaussian elimination with partial pivoting), never
//! hard-coded. Pure: no MPI.
//!
//! - pi (P - I) = 0 with sum(pi) = 1: the transposed system with its last
//!   equation replaced by the sum (an irreducible chain's P - I has rank
//!   n - 1, so any one equation is redundant);
//! - Z = (I - P + 1 pi)^-1 (Kemeny and Snell), which gives the occupation
//!   counts' asymptotic variance per day, sigma_k^2 = pi_k (2 Z_kk - 1 -
//!   pi_k), and the bias of a chain started in state s instead of from pi,
//!   sum over days t of (P^t - 1 pi)_sk -> Z_sk - pi_k.

/// An n x n matrix factored by Gaussian elimination with partial
/// pivoting (P A = L U, L's multipliers below U's diagonal), for solving
/// with many right-hand sides at O(n^2) each.
pub struct Lu {
    n: usize,
    lu: Vec<f64>,
    /// Row swapped with row k at step k.
    swaps: Vec<usize>,
}

impl Lu {
    /// Factor the row-major `a`; None when a pivot is 0 (singular).
    pub fn new(mut a: Vec<f64>, n: usize) -> Option<Lu> {
        let mut swaps = Vec::with_capacity(n);
        for col in 0..n {
            let pivot =
                (col..n).max_by(|&r, &s| a[r * n + col].abs().total_cmp(&a[s * n + col].abs()))?;
            let d = a[pivot * n + col];
            if d == 0.0 || !d.is_finite() {
                return None;
            }
            if pivot != col {
                for j in 0..n {
                    a.swap(pivot * n + j, col * n + j);
                }
            }
            swaps.push(pivot);
            for r in col + 1..n {
                let f = a[r * n + col] / d;
                a[r * n + col] = f;
                if f != 0.0 {
                    for j in col + 1..n {
                        a[r * n + j] -= f * a[col * n + j];
                    }
                }
            }
        }
        Some(Lu { n, lu: a, swaps })
    }

    /// x with A x = b.
    pub fn solve(&self, mut b: Vec<f64>) -> Vec<f64> {
        let (n, a) = (self.n, &self.lu);
        // Every interchange first: the multipliers moved with their rows
        // at each later step, so L is in the final row order.
        for (col, &pivot) in self.swaps.iter().enumerate() {
            b.swap(pivot, col);
        }
        // Forward, then back substitution, each along rows (contiguous).
        for r in 1..n {
            b[r] -= dot(&a[r * n..r * n + r], &b[..r]);
        }
        for r in (0..n).rev() {
            let s = dot(&a[r * n + r + 1..(r + 1) * n], &b[r + 1..]);
            b[r] = (b[r] - s) / a[r * n + r];
        }
        b
    }
}

/// sum of x_i y_i in four interleaved sums: a chain of dependent
/// additions would wait on each one (a run of 1024 states spent 3.5 s
/// in the Z solves, now about 1.5 s).
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (xc, yc) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail: f64 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(p, q)| p * q)
        .sum();
    for (p, q) in xc.zip(yc) {
        for k in 0..4 {
            acc[k] += p[k] * q[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Solve `a x = b` for the n x n row-major `a` (consumed); None when `a`
/// is singular.
pub fn solve(a: Vec<f64>, b: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    Lu::new(a, n).map(|lu| lu.solve(b))
}

/// The stationary distribution of the row-stochastic `p` (n x n,
/// row-major) and the solve's residual, max(|pi P - pi|_inf, |sum pi -
/// 1|); None when the system is singular (no unique distribution).
///
/// The elimination's answer is refined (up to 3 times: the residual
/// computed as if in twice the precision, the correction solved with the
/// same factors and added), then rounded to 15 significant digits.
pub fn stationary(p: &[f64], n: usize) -> Option<(Vec<f64>, f64)> {
    // Row j of the system: sum_i pi_i (P_ij - [i = j]) = 0; the last: sum = 1.
    let mut a = vec![0.0; n * n];
    for j in 0..n - 1 {
        for i in 0..n {
            a[j * n + i] = p[i * n + j] - f64::from(u8::from(i == j));
        }
    }
    a[(n - 1) * n..].fill(1.0);
    let mut b = vec![0.0; n];
    b[n - 1] = 1.0;
    let lu = Lu::new(a, n)?;
    let mut pi = lu.solve(b);
    for _ in 0..3 {
        let r = precise_residual(p, &pi);
        if r.iter().all(|&x| x == 0.0) {
            break;
        }
        let dx = lu.solve(r);
        pi.iter_mut().zip(dx).for_each(|(x, d)| *x += d);
    }
    // 15 significant digits: every double holds them, and the solve is
    // far more accurate than their last; a law a user would write in
    // decimal is then that decimal (the built-in chain's 0.0625, which
    // the doubles of its matrix make 0.06249999999999995).
    let pi: Vec<f64> = pi.iter().map(|&x| decimal15(x)).collect();
    Some((pi.clone(), residual(p, &pi)))
}

/// `x` rounded to 15 significant digits (as `crate::h5::time_label`).
fn decimal15(x: f64) -> f64 {
    format!("{x:.14e}").parse().unwrap_or(x)
}

/// b - A pi of the system [`stationary`] solves: -(pi P - pi)_j for j <
/// n - 1 and 1 - sum(pi), each summed as if in twice the precision
/// (Ogita, Rump and Oishi's Dot2: error-free products and sums).
fn precise_residual(p: &[f64], pi: &[f64]) -> Vec<f64> {
    let n = pi.len();
    let mut r: Vec<f64> = (0..n - 1)
        .map(|j| {
            let terms = (0..n).map(|i| (pi[i], p[i * n + j])).chain([(-pi[j], 1.0)]);
            -dot2(terms)
        })
        .collect();
    r.push(-dot2(pi.iter().map(|&x| (x, 1.0)).chain([(-1.0, 1.0)])));
    r
}

/// sum of a_i b_i, as if computed in twice the precision and rounded.
fn dot2(terms: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for (a, b) in terms {
        let prod = a * b;
        let prod_err = a.mul_add(b, -prod);
        let sum = s + prod;
        let z = sum - s;
        let sum_err = (s - (sum - z)) + (prod - z);
        s = sum;
        c += prod_err + sum_err;
    }
    s + c
}

/// max(|pi P - pi|_inf, |sum pi - 1|).
pub fn residual(p: &[f64], pi: &[f64]) -> f64 {
    let n = pi.len();
    let flow = (0..n)
        .map(|j| ((0..n).map(|i| pi[i] * p[i * n + j]).sum::<f64>() - pi[j]).abs())
        .fold(0.0, f64::max);
    flow.max((pi.iter().sum::<f64>() - 1.0).abs())
}

/// The fundamental matrix Z = (I - P + 1 pi)^-1 (row-major), column by
/// column; None if singular (not an irreducible chain's).
pub fn fundamental(p: &[f64], pi: &[f64]) -> Option<Vec<f64>> {
    let n = pi.len();
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            m[i * n + j] = f64::from(u8::from(i == j)) - p[i * n + j] + pi[j];
        }
    }
    let lu = Lu::new(m, n)?;
    let mut z = vec![0.0; n * n];
    for col in 0..n {
        let mut e = vec![0.0; n];
        e[col] = 1.0;
        let x = lu.solve(e);
        for (i, v) in x.into_iter().enumerate() {
            z[i * n + col] = v;
        }
    }
    Some(z)
}

/// Per-day asymptotic variance of the days spent in state k:
/// pi_k (2 Z_kk - 1 - pi_k).
pub fn occupation_variance(z: &[f64], pi: &[f64], k: usize) -> f64 {
    let n = pi.len();
    pi[k] * (2.0 * z[k * n + k] - 1.0 - pi[k])
}

/// The 5-state matrix of the tests and the user guide.
#[cfg(test)]
pub fn five_state() -> Vec<f64> {
    vec![
        0.5, 0.2, 0.1, 0.1, 0.1, //
        0.1, 0.6, 0.1, 0.1, 0.1, //
        0.2, 0.2, 0.2, 0.2, 0.2, //
        0.0, 0.3, 0.3, 0.4, 0.0, //
        0.25, 0.0, 0.25, 0.0, 0.5,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_with_pivoting() {
        // A zero on the diagonal needs the row swap.
        let x = solve(vec![0.0, 2.0, 3.0, 1.0], vec![4.0, 5.0], 2).unwrap();
        assert!(
            (x[0] - 1.0).abs() < 1e-15 && (x[1] - 2.0).abs() < 1e-15,
            "{x:?}"
        );
        assert!(solve(vec![1.0, 2.0, 2.0, 4.0], vec![1.0, 1.0], 2).is_none());
        // A system of 60 whose pivots come from many rows (every step
        // swaps): A x = b to rounding.
        let n = 60;
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let a: Vec<f64> = (0..n * n).map(|_| next()).collect();
        let b: Vec<f64> = (0..n).map(|_| next()).collect();
        let x = solve(a.clone(), b.clone(), n).unwrap();
        for i in 0..n {
            let ax: f64 = (0..n).map(|j| a[i * n + j] * x[j]).sum();
            assert!((ax - b[i]).abs() < 1e-12, "row {i}: {ax} vs {}", b[i]);
        }
    }

    #[test]
    fn the_builtin_chain_s_law_is_solved_exactly() {
        let p = super::super::kernel::MARKOV_P.concat();
        let (pi, res) = stationary(&p, 3).unwrap();
        assert_eq!(pi, [0.625, 0.3125, 0.0625]);
        assert!(res < 1e-15, "{res}");
    }

    #[test]
    fn a_two_state_chain_s_law_and_variance_are_the_closed_forms() {
        // P = [[1-a, a], [b, 1-b]]: pi = (b, a)/(a+b), and the days in
        // state 0 have asymptotic variance a b (2 - a - b) / (a + b)^3.
        let (a, b) = (0.3, 0.1);
        let p = [1.0 - a, a, b, 1.0 - b];
        let (pi, res) = stationary(&p, 2).unwrap();
        assert!((pi[0] - b / (a + b)).abs() < 1e-15 && res < 1e-15);
        let z = fundamental(&p, &pi).unwrap();
        let v = occupation_variance(&z, &pi, 0);
        let exact = a * b * (2.0 - a - b) / (a + b).powi(3);
        assert!((v - exact).abs() < 1e-13, "{v} vs {exact}");
    }

    #[test]
    fn a_reducible_chain_has_no_unique_law() {
        assert!(stationary(&[1.0, 0.0, 0.0, 1.0], 2).is_none());
    }

    #[test]
    fn the_five_state_law_is_stationary() {
        let p = five_state();
        let (pi, res) = stationary(&p, 5).unwrap();
        assert!(res < 1e-15, "{res}");
        assert!(pi.iter().all(|&x| x > 0.0));
        // A wrong pi is caught by the residual.
        let mut wrong = pi.clone();
        wrong[0] += 1e-3;
        wrong[1] -= 1e-3;
        assert!(residual(&p, &wrong) > 1e-4);
    }
}
