//! Tail probabilities of the laws the statistical validations test
//! against, and the z-score that says the same thing: pure arithmetic, no
//! MPI, no crate.
//!
//! Why: a validation fails a score at |z| >= [`crate::report::Z_LIMIT`],
//! which promises a correct run a false failure with the two-sided normal
//! tail, 5.7e-7 at 5. A normal approximation keeps that promise only for
//! large ensembles: the variance of 2 paths is chi-square with one degree
//! of freedom, and `(s^2 - v) / (v sqrt 2)` passed 5 once in 220 correct
//! sets; a count of a few samples or days is skewed and discrete. So each
//! score is the normal quantile of its statistic's own tail probability
//! under the law ([`z_from_tails`]): exactly normal scores are unchanged,
//! and |z| >= 5 means "a tail as rare as 5.7e-7", whatever the ensemble.
//!
//! Everything is computed in logarithms, so a wildly wrong result gets a
//! large finite z instead of an infinite one.

use std::f64::consts::PI;

/// ln sqrt(2 pi).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// ln P(Z > z) for a standard normal Z, for any z (to about 1e-15
/// relative for tails down to the smallest doubles and beyond).
pub fn ln_normal_upper(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    if z < 0.0 {
        // 1 - P(Z > -z), with P(Z > -z) <= 1/2.
        return (-ln_normal_upper(-z).exp()).ln_1p();
    }
    if z >= 3.0 {
        // density times Mills' ratio: no cancellation, however far.
        return ln_normal_density(z) - mills_ratio(z).recip().ln();
    }
    // P(Z > z) = Q(1/2, z^2/2) / 2.
    ln_gamma_tails(0.5, 0.5 * z * z).1 - std::f64::consts::LN_2
}

/// Mills' ratio P(Z > z) / density(z) for z >= 3, by its continued
/// fraction 1 / (z + 1 / (z + 2 / (z + 3 / (z + ...)))) (modified Lentz).
fn mills_ratio(z: f64) -> f64 {
    let tiny = 1e-300;
    let (mut f, mut c, mut d) = (z, z, 0.0);
    for i in 1..10_000 {
        let a = i as f64;
        d = z + a * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = z + a / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    1.0 / f
}

/// density(z) / P(Z > z), the normal hazard: 1 / Mills' ratio, computed
/// so that it stays finite where both logs are -1e20.
fn normal_hazard(z: f64) -> f64 {
    if z >= 3.0 {
        1.0 / mills_ratio(z)
    } else {
        (ln_normal_density(z) - ln_normal_upper(z)).exp()
    }
}

/// ln of the standard normal density at z.
fn ln_normal_density(z: f64) -> f64 {
    -0.5 * z * z - LN_SQRT_2PI
}

/// The z with ln P(Z > z) = `ln_p` (ln_p <= 0): the inverse of
/// [`ln_normal_upper`], to about 1e-14.
pub fn normal_upper_quantile(ln_p: f64) -> f64 {
    if ln_p.is_nan() || ln_p > 0.0 {
        return f64::NAN;
    }
    if ln_p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if ln_p == f64::NEG_INFINITY {
        return f64::INFINITY;
    }
    if ln_p > -std::f64::consts::LN_2 {
        // p > 1/2: z < 0, the mirror of the smaller tail 1 - p.
        return -normal_upper_quantile((-ln_p.exp()).ln_1p());
    }
    // Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4) from t = sqrt(-2 ln p),
    // then Newton on ln P(Z > z), which is concave.
    let t = (-2.0 * ln_p).sqrt();
    let mut z = t
        - (2.515_517 + 0.802_853 * t + 0.010_328 * t * t)
            / (1.0 + 1.432_788 * t + 0.189_269 * t * t + 0.001_308 * t * t * t);
    for _ in 0..50 {
        let lq = ln_normal_upper(z);
        // d/dz ln P(Z > z) = -density / tail.
        let step = (lq - ln_p) / normal_hazard(z);
        z += step;
        if step.abs() <= 1e-15 * z.abs().max(1.0) {
            break;
        }
    }
    z
}

/// The equivalent normal score of a statistic whose tails under the law
/// are P(X <= x) = exp(`ln_lower`) and P(X >= x) = exp(`ln_upper`): the z
/// whose normal tail on the same side equals the smaller of the two,
/// positive when x lies above the law's centre. So |z| >= 5 exactly when
/// the smaller tail is below P(Z > 5): an equal-tailed test at the normal
/// two-sided 5.7e-7, for any law. 0 when both tails exceed 1/2 (a
/// discrete law's atom at its median).
pub fn z_from_tails(ln_lower: f64, ln_upper: f64) -> f64 {
    let half = -std::f64::consts::LN_2;
    // A tail of exactly 0 (a variance of 0 against a continuous law) would
    // give an infinite z, which JSON cannot carry: 1e-300 in the log is a
    // z of 1.4e150, as decisive.
    let (ln_lower, ln_upper) = (ln_lower.max(-1e300), ln_upper.max(-1e300));
    if ln_upper.min(ln_lower) >= half {
        return 0.0;
    }
    if ln_upper < ln_lower {
        normal_upper_quantile(ln_upper.min(half))
    } else {
        -normal_upper_quantile(ln_lower.min(half))
    }
}

/// ln Gamma(a) for a > 0: Stirling's series from 20 up (error below
/// 1e-17 relative there), the recurrence below.
pub fn ln_gamma(a: f64) -> f64 {
    if a < 20.0 {
        let mut prod = 1.0;
        let mut x = a;
        while x < 20.0 {
            prod *= x;
            x += 1.0;
        }
        return ln_gamma(x) - prod.ln();
    }
    (a - 0.5) * a.ln() - a + 0.5 * (2.0 * PI).ln() + stirling_tail(a)
}

/// ln Gamma(a) - ((a - 1/2) ln a - a + ln sqrt(2 pi)), for a >= 20.
fn stirling_tail(a: f64) -> f64 {
    let r = 1.0 / a;
    let r2 = r * r;
    r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0 - r2 / 1188.0))))
}

/// ln(x^a e^-x / Gamma(a)), without the cancellation of its terms for a
/// large (a = 1e12: each term is 1e13, the sum a few units).
fn ln_gamma_prefactor(a: f64, x: f64) -> f64 {
    if a < 20.0 {
        return a * x.ln() - x - ln_gamma(a);
    }
    // a ln x - x - ln Gamma(a) = -a (d - ln(1 + d)) + ln sqrt(a / 2 pi) - tail,
    // d = x/a - 1.
    let d = (x - a) / a;
    -a * (d - d.ln_1p()) + 0.5 * (a / (2.0 * PI)).ln() - stirling_tail(a)
}

/// Shape above which the regularised incomplete gamma function is
/// evaluated by Temme's uniform expansion: the series and the continued
/// fraction need O(sqrt a) terms, and there the expansion's first
/// neglected term is below 1e-11 of the result.
const TEMME_FROM: f64 = 1e5;

/// ln P(a, x) and ln Q(a, x) = ln(1 - P(a, x)): the regularised lower and
/// upper incomplete gamma functions, a > 0, x >= 0 (so the two tails of a
/// Gamma(a, 1) law at x).
pub fn ln_gamma_tails(a: f64, x: f64) -> (f64, f64) {
    if x.is_nan() || a.is_nan() || a <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    if x <= 0.0 {
        return (f64::NEG_INFINITY, 0.0);
    }
    if x == f64::INFINITY {
        return (0.0, f64::NEG_INFINITY);
    }
    if a > TEMME_FROM {
        return temme(a, x);
    }
    let pre = ln_gamma_prefactor(a, x);
    if x < a + 1.0 {
        // P by its series: sum x^n / (a (a+1) ... (a+n)).
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..100_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term < sum * 1e-17 {
                break;
            }
        }
        let lp = (pre + sum.ln()).min(0.0);
        (lp, (-lp.exp()).ln_1p())
    } else {
        // Q by its continued fraction (modified Lentz).
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..100_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        let lq = (pre + h.ln()).min(0.0);
        ((-lq.exp()).ln_1p(), lq)
    }
}

/// Temme's uniform asymptotic expansion to its first correction:
/// Q(a, x) = P(Z > w) + density(w) c0(eta) / sqrt(a), w = eta sqrt(a),
/// eta^2 / 2 = lambda - 1 - ln lambda, lambda = x / a (DLMF 8.12.3-8).
fn temme(a: f64, x: f64) -> (f64, f64) {
    let d = (x - a) / a; // lambda - 1
    let eta = d.signum() * (2.0 * (d - d.ln_1p())).sqrt();
    let c0 = if eta.abs() < 1e-3 {
        -1.0 / 3.0 + eta / 12.0
    } else {
        1.0 / d - 1.0 / eta
    };
    let w = eta * a.sqrt();
    let corr = c0 / a.sqrt();
    // Each tail as the normal tail times (1 +- its correction's share).
    let lq = ln_normal_upper(w) + (corr * normal_hazard(w)).max(-1.0 + 1e-16).ln_1p();
    let lp = ln_normal_upper(-w) + (-corr * normal_hazard(-w)).max(-1.0 + 1e-16).ln_1p();
    (lp, lq)
}

/// ln P(X <= x) and ln P(X >= x) for X chi-square with `k` degrees of
/// freedom.
pub fn ln_chi_square_tails(k: f64, x: f64) -> (f64, f64) {
    ln_gamma_tails(0.5 * k, 0.5 * x)
}

/// The cumulant generating function of a centred count, Y = X - shift, and
/// its first two derivatives at theta: (K(theta), K'(theta), K''(theta)).
pub type Cgf<'a> = &'a dyn Fn(f64) -> (f64, f64, f64);

/// ln P(X <= x) and ln P(X >= x) for an integer count X in [0, max],
/// known by the cumulant generating function `cgf` of Y = X - `shift`
/// (a shift near the mean keeps the arithmetic free of cancellation for
/// counts of 1e12): the Lugannani-Rice saddlepoint approximation with
/// Daniels' continuity correction for lattice laws. Its relative error is
/// O(1/n) uniformly into the far tails (n: the independent draws behind
/// the count), where a normal approximation's grows without bound; the
/// unit tests hold it to the exact binomial and Markov-chain laws.
pub fn ln_count_tails(cgf: Cgf, shift: f64, max: f64, x: f64) -> (f64, f64) {
    let upper = ln_count_upper(cgf, x - shift, (-shift, max - shift));
    let mirrored = |t: f64| {
        let (k, k1, k2) = cgf(-t);
        (k, -k1, k2)
    };
    let lower = ln_count_upper(&mirrored, shift - x, (shift - max, shift));
    (lower, upper)
}

/// ln P(Y >= y) for Y on a lattice of unit spacing within `range`, with
/// `cgf` the cumulant generating function of Y.
fn ln_count_upper(cgf: Cgf, y: f64, (lo, hi): (f64, f64)) -> f64 {
    if y <= lo {
        return 0.0;
    }
    if y > hi {
        return f64::NEG_INFINITY;
    }
    let yc = y - 0.5; // the continuity correction
    let (_, mean, var) = cgf(0.0);
    let sd = var.sqrt();
    if sd.is_nan() || sd <= 0.0 {
        return if yc < mean { 0.0 } else { f64::NEG_INFINITY };
    }
    let delta = (yc - mean) / sd;
    if delta.abs() < 1e-2 {
        // At the centre the saddlepoint formula is 0/0: the normal tail
        // (a probability near 1/2, where nothing is judged).
        return ln_normal_upper(delta);
    }
    let s = saddlepoint(cgf, yc, delta);
    let (k, _, k2) = cgf(s);
    let w = s.signum() * (2.0 * (s * yc - k)).max(0.0).sqrt();
    let u = 2.0 * (0.5 * s).sinh() * k2.sqrt();
    // P = P(Z > w) + density(w) (1/u - 1/w), as P(Z > w) (1 + share).
    let share = normal_hazard(w) * (1.0 / u - 1.0 / w);
    (ln_normal_upper(w) + share.max(-1.0 + 1e-16).ln_1p()).min(0.0)
}

/// The theta with K'(theta) = y: safeguarded Newton inside a bracket
/// (K' increases; `delta`, y's distance from the mean in standard
/// deviations, gives the side).
fn saddlepoint(cgf: Cgf, y: f64, delta: f64) -> f64 {
    let slope = |t: f64| cgf(t).1 - y;
    // Bracket: [lo, hi] with slope(lo) < 0 < slope(hi).
    let (mut lo, mut hi) = if delta > 0.0 { (0.0, 1.0) } else { (-1.0, 0.0) };
    while slope(hi) < 0.0 && hi < 800.0 {
        lo = hi;
        hi *= 2.0;
    }
    while slope(lo) > 0.0 && lo > -800.0 {
        hi = lo;
        lo *= 2.0;
    }
    let mut t = 0.5 * (lo + hi);
    for _ in 0..200 {
        let (_, k1, k2) = cgf(t);
        let f = k1 - y;
        if f == 0.0 {
            break;
        }
        if f < 0.0 {
            lo = t;
        } else {
            hi = t;
        }
        let newton = t - f / k2;
        let next = if newton > lo && newton < hi && k2 > 0.0 {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - t).abs() <= 1e-15 * t.abs().max(1e-300) || hi - lo <= 1e-15 * t.abs() {
            t = next;
            break;
        }
        t = next;
    }
    t
}

/// The cumulant generating function of Y = X - n p for X ~ Binomial(n, p):
/// n ln(q e^(-theta p) + p e^(theta q)), and its derivatives.
pub fn binomial_cgf(n: f64, p: f64, theta: f64) -> (f64, f64, f64) {
    let q = 1.0 - p;
    // The tilted success probability m = p e^t / (q + p e^t), and
    // m - p = p q (e^t - 1) / (q + p e^t), free of cancellation near 0.
    // ln(q e^(-t p) + p e^(t q)) = t q + ln(1 + q (e^-t - 1)) for t > 0,
    // -t p + ln(1 + p (e^t - 1)) else: ln_1p keeps K's absolute error at
    // eps t, against its size t^2 p q / 2.
    let (k, m, m_minus_p) = if theta > 0.0 {
        let em1 = (-theta).exp_m1(); // e^-t - 1
        let den = 1.0 + q * em1;
        (theta * q + (q * em1).ln_1p(), p / den, -p * q * em1 / den)
    } else {
        let em1 = theta.exp_m1();
        let den = 1.0 + p * em1;
        (
            -theta * p + (p * em1).ln_1p(),
            p * (1.0 + em1) / den,
            p * q * em1 / den,
        )
    };
    (n * k, n * m_minus_p, n * m * (1.0 - m))
}

/// A value with its first and second derivatives in one variable (forward
/// differentiation): what [`markov_count_cgf`] carries through its matrix
/// products to get K' and K'' without differencing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dual {
    pub v: f64,
    pub d: f64,
    pub dd: f64,
}

impl Dual {
    pub const ZERO: Dual = Dual {
        v: 0.0,
        d: 0.0,
        dd: 0.0,
    };

    pub fn constant(v: f64) -> Dual {
        Dual { v, d: 0.0, dd: 0.0 }
    }

    fn add(self, o: Dual) -> Dual {
        Dual {
            v: self.v + o.v,
            d: self.d + o.d,
            dd: self.dd + o.dd,
        }
    }

    fn mul(self, o: Dual) -> Dual {
        Dual {
            v: self.v * o.v,
            d: self.d * o.v + self.v * o.d,
            dd: self.dd * o.v + 2.0 * self.d * o.d + self.v * o.dd,
        }
    }

    fn scale(self, c: f64) -> Dual {
        Dual {
            v: self.v * c,
            d: self.d * c,
            dd: self.dd * c,
        }
    }
}

/// a b for n x n row-major matrices of duals, divided by its largest
/// value (returned as a log): matrix powers of thousands of days stay in
/// range.
fn mat_mul(a: &[Dual], b: &[Dual], n: usize) -> (Vec<Dual>, f64) {
    let mut c = vec![Dual::ZERO; n * n];
    let mut big: f64 = 0.0;
    for i in 0..n {
        for j in 0..n {
            let mut s = Dual::ZERO;
            for k in 0..n {
                s = s.add(a[i * n + k].mul(b[k * n + j]));
            }
            big = big.max(s.v.abs());
            c[i * n + j] = s;
        }
    }
    let scale = if big > 0.0 { big } else { 1.0 };
    for e in &mut c {
        *e = e.scale(1.0 / scale);
    }
    (c, scale.ln())
}

/// The cumulant generating function of Y = X - days pi_k, X the days a
/// stationary 3-state chain (transition matrix `p`, stationary law `pi`,
/// first day drawn from it) spends in state `k` over `days` days, at
/// theta: [`markov_count_cgf_n`] for 3 states started from `pi`.
pub fn markov_count_cgf(
    p: &[[f64; 3]; 3],
    pi: &[f64; 3],
    k: usize,
    days: u64,
    theta: f64,
) -> (f64, f64, f64) {
    let chain = MarkovLaw {
        p: &p.concat(),
        n: 3,
        start: pi,
        pi_k: pi[k],
    };
    chain.count_cgf(k, days, theta)
}

/// A chain of n states whose counts are scored: its transition matrix
/// (row-major), the law of its first day, and the centre of the count
/// (pi_k, the stationary share of the state scored).
#[derive(Debug, Clone, Copy)]
pub struct MarkovLaw<'a> {
    pub p: &'a [f64],
    pub n: usize,
    pub start: &'a [f64],
    pub pi_k: f64,
}

impl MarkovLaw<'_> {
    /// The cumulant generating function of Y = X - days pi_k, X the days
    /// the chain spends in state `k` over `days` days (first day drawn
    /// from `start`), at theta: with D = diag(e^(theta (1[j = k] - pi_k))),
    /// E[e^(theta Y)] = start D (P D)^(days - 1) 1, the power by squaring
    /// (log2 days products of n x n dual matrices), so a chain of 1e12
    /// days costs 40 products. Exact for any chain, ergodic or not.
    pub fn count_cgf(&self, k: usize, days: u64, theta: f64) -> (f64, f64, f64) {
        let n = self.n;
        let tilt = |j: usize| {
            let c = f64::from(u8::from(j == k)) - self.pi_k;
            let e = (theta * c).exp();
            Dual {
                v: e,
                d: c * e,
                dd: c * c * e,
            }
        };
        let mut step = vec![Dual::ZERO; n * n];
        for i in 0..n {
            for j in 0..n {
                step[i * n + j] = tilt(j).scale(self.p[i * n + j]);
            }
        }
        let (power, ln_power) = dual_power(step, n, days.saturating_sub(1));
        // s = start D power 1.
        let mut s = Dual::ZERO;
        for i in 0..n {
            let start = tilt(i).scale(self.start[i]);
            for e in &power[i * n..(i + 1) * n] {
                s = s.add(start.mul(*e));
            }
        }
        let d1 = s.d / s.v;
        (s.v.ln() + ln_power, d1, s.dd / s.v - d1 * d1)
    }
}

/// base^e by squaring, with its log scale (n x n, row-major).
fn dual_power(mut base: Vec<Dual>, n: usize, mut e: u64) -> (Vec<Dual>, f64) {
    let mut power = vec![Dual::ZERO; n * n];
    for i in 0..n {
        power[i * n + i] = Dual::constant(1.0);
    }
    let (mut ln_power, mut ln_base) = (0.0, 0.0);
    while e > 0 {
        if e & 1 == 1 {
            let (m, l) = mat_mul(&power, &base, n);
            power = m;
            ln_power += l + ln_base;
        }
        e >>= 1;
        if e > 0 {
            let (m, l) = mat_mul(&base, &base, n);
            base = m;
            ln_base = 2.0 * ln_base + l;
        }
    }
    (power, ln_power)
}

#[cfg(test)]
mod tests;
