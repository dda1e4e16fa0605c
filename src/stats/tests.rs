//! Unit tests of the tail probabilities: against values computed to 40
//! digits with mpmath (`gammainc`, `loggamma`, `erfc`), against exact laws
//! summed term by term, and against each other where two methods meet.

use super::*;

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs() || (got - want).abs() < 1e-30
}

#[test]
fn ln_gamma_matches_known_values() {
    for (a, want) in [
        (0.5, 0.572_364_942_924_700_1),
        (1.0, 0.0),
        (1.5, -0.120_782_237_635_245_22),
        (7.25, 7.052_185_450_738_539),
        (20.0, 39.339_884_187_199_49),
        (123.456, 469.605_547_129_929_5),
        (1e6, 12_815_504.569_147_612),
        (1e15, 33_538_776_394_910_668.9),
    ] {
        let got = ln_gamma(a);
        assert!(
            (got - want).abs() <= 1e-14 * want.abs().max(1.0),
            "ln_gamma({a}) = {got}, want {want}"
        );
    }
}

#[test]
fn incomplete_gamma_tails_match_known_values() {
    // (a, x, ln P(a, x), ln Q(a, x)) from mpmath.
    for (a, x, lp, lq) in [
        (0.5, 0.1, -1.063_402_047_154_528_6, -0.423_546_323_475_965_7),
        (
            0.5,
            2.0,
            -0.046_567_912_292_390_16,
            -3.090_037_153_122_086_6,
        ),
        (1.0, 3.0, -0.051_069_180_942_701_59, -3.0),
        (3.5, 1.2, -2.724_744_980_308_085, -0.067_810_984_927_994_22),
        (
            10.0,
            25.0,
            -0.000_221_501_167_821_313_6,
            -8.415_193_444_701_624,
        ),
        (
            100.0,
            150.0,
            -5.924_557_885_642_327e-6,
            -12.036_407_454_461_646,
        ),
        (
            100.0,
            60.0,
            -13.422_436_818_303_8,
            -1.481_528_730_109_194e-6,
        ),
        (
            1e4,
            10_400.0,
            -3.888_092_642_741_2e-5,
            -10.155_026_191_190_605,
        ),
        (
            1e4,
            9600.0,
            -10.577_996_933_601_545,
            -2.547_063_855_780_668e-5,
        ),
        (0.5, 200.0, 0.0, -203.224_008_190_537_32),
        // Beyond TEMME_FROM: the uniform expansion.
        (
            3e5,
            303_000.0,
            -2.384_940_801_998_265_8e-8,
            -17.551_506_452_809_9,
        ),
        (
            3e5,
            297_000.0,
            -17.750_924_649_365_903,
            -1.953_760_748_783_923e-8,
        ),
    ] {
        let (gp, gq) = ln_gamma_tails(a, x);
        assert!(close(gp, lp, 1e-9), "ln P({a}, {x}) = {gp}, want {lp}");
        assert!(close(gq, lq, 1e-9), "ln Q({a}, {x}) = {gq}, want {lq}");
    }
    assert_eq!(ln_gamma_tails(2.0, 0.0), (f64::NEG_INFINITY, 0.0));
}

#[test]
fn the_uniform_expansion_meets_the_series_and_the_fraction() {
    // Just above TEMME_FROM, against the series and continued fraction
    // run just below it, across the body and both far tails.
    let a = TEMME_FROM;
    for sds in [
        -40.0, -8.0, -5.0, -1.0, -0.01, 0.0, 0.01, 1.0, 5.0, 8.0, 40.0,
    ] {
        let x = a + sds * a.sqrt();
        let (tp, tq) = temme(a, x);
        // The exact methods at a just below: shift x by the same amount.
        let b = a * (1.0 - 1e-12);
        let (ep, eq) = ln_gamma_tails(b, x - (a - b));
        assert!(
            close(tp, ep, 1e-9) || (tp - ep).abs() < 1e-12,
            "{sds}: P {tp} vs {ep}"
        );
        assert!(
            close(tq, eq, 1e-9) || (tq - eq).abs() < 1e-12,
            "{sds}: Q {tq} vs {eq}"
        );
    }
}

#[test]
fn chi_square_tails_match_the_tables() {
    // Upper 5 % and 0.1 % points: 1 and 10 degrees of freedom.
    for (k, x, p) in [
        (1.0, 3.841_458_820_694_124, 0.05),
        (10.0, 18.307_038_053_275_146, 0.05),
        (1.0, 10.827_566_170_662_733, 0.001),
        (10.0, 29.588_298_445_074_42, 0.001),
    ] {
        let (lower, upper) = ln_chi_square_tails(k, x);
        assert!(
            close(upper.exp(), p, 1e-12),
            "chi2({k}) > {x}: {}",
            upper.exp()
        );
        assert!(close(lower.exp(), 1.0 - p, 1e-12));
    }
}

#[test]
fn normal_tails_and_quantiles_match_known_values_and_invert() {
    for (z, want) in [
        (0.0, -std::f64::consts::LN_2),
        (0.5, -1.175_911_761_593_618_6),
        (1.0, -1.841_021_645_009_263_5),
        (-1.0, -0.172_753_779_023_449_9),
        (3.0, -6.607_726_221_510_343),
        (5.0, -15.064_998_393_988_726),
        (8.0, -35.013_437_159_914_55),
        (20.0, -203.917_155_371_097_26),
        (40.0, -804.608_442_013_753_8),
        (-6.0, -9.865_876_455_243_757e-10),
    ] {
        let got = ln_normal_upper(z);
        assert!(
            close(got, want, 1e-13),
            "ln P(Z > {z}) = {got}, want {want}"
        );
        if z > -6.0 {
            let back = normal_upper_quantile(want);
            assert!((back - z).abs() < 1e-12 * z.abs().max(1.0), "{z}: {back}");
        }
    }
    // P(|Z| >= 5), the threshold's promise.
    assert!(close(
        2.0 * ln_normal_upper(5.0).exp(),
        5.733_031_437_583_892e-7,
        1e-13
    ));
    // Far beyond doubles: still finite, still monotone.
    let far = normal_upper_quantile(-1e6);
    assert!(far.is_finite() && far > 1000.0, "{far}");
    assert!(close(ln_normal_upper(far), -1e6, 1e-12));
}

#[test]
fn equivalent_z_of_a_normal_law_is_its_own_z() {
    for z in [-7.0, -5.0, -2.0, -0.3, 0.0, 0.3, 2.0, 5.0, 7.0] {
        let (lower, upper) = (ln_normal_upper(-z), ln_normal_upper(z));
        let back = z_from_tails(lower, upper);
        assert!((back - z).abs() < 1e-12, "{z}: {back}");
    }
    // Both tails above 1/2 (a median atom): z = 0.
    assert_eq!(z_from_tails(-0.1, -0.2), 0.0);
}

/// ln P(X <= x) and ln P(X >= x) for X ~ Binomial(n, p), summed.
fn binomial_exact(n: u64, p: f64, x: u64) -> (f64, f64) {
    let pmf = |k: u64| {
        (ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
            + k as f64 * p.ln()
            + (n - k) as f64 * (1.0 - p).ln())
        .exp()
    };
    let lower: f64 = (0..=x).map(pmf).sum();
    let upper: f64 = (x..=n).map(pmf).sum();
    (lower.ln(), upper.ln())
}

/// Compares saddlepoint tails with exact ones at every count `x` of a law:
/// the equivalent z within `dz` wherever it is 2 to 30, and the tail
/// probability within 20 % (0.2 in its log) around the threshold, |z| 4
/// to 6.5, where a run is judged.
fn holds_to(exact: (f64, f64), saddle: (f64, f64), dz: f64, what: &str) {
    let (ze, zs) = (
        z_from_tails(exact.0, exact.1),
        z_from_tails(saddle.0, saddle.1),
    );
    if !(ze.abs() > 2.0 && ze.abs() < 30.0) {
        return;
    }
    assert!((zs - ze).abs() < dz, "{what}: z {zs} vs exact {ze}");
    let ln_tail = |t: (f64, f64)| if ze > 0.0 { t.1 } else { t.0 };
    if ze.abs() > 4.0 && ze.abs() < 6.5 {
        let (s, e) = (ln_tail(saddle), ln_tail(exact));
        assert!((s - e).abs() < 0.2, "{what}: ln P {s} vs exact {e}");
    }
}

#[test]
fn saddlepoint_tails_of_a_binomial_match_the_exact_law() {
    let p = std::f64::consts::FRAC_PI_4;
    for n in [1u64, 2, 5, 7, 10, 30, 100, 1000] {
        let cgf = |t| binomial_cgf(n as f64, p, t);
        for x in 0..=n {
            let saddle = ln_count_tails(&cgf, n as f64 * p, n as f64, x as f64);
            holds_to(
                binomial_exact(n, p, x),
                saddle,
                0.03,
                &format!("n {n} x {x}"),
            );
        }
    }
}

#[test]
fn saddlepoint_tails_of_a_huge_binomial_agree_with_the_normal_law() {
    // n = 1e12: skewness 5e-7, so the normal tail is exact to 1e-5 at 5 sd.
    let (n, p) = (1e12, std::f64::consts::FRAC_PI_4);
    let sd = (n * p * (1.0 - p)).sqrt();
    let cgf = |t| binomial_cgf(n, p, t);
    for z in [-6.0, -5.0, 5.0, 6.0] {
        let x = (n * p + z * sd).round();
        let (l, u) = ln_count_tails(&cgf, n * p, n, x);
        let zz = z_from_tails(l, u);
        assert!((zz - z).abs() < 1e-3, "{z}: {zz}");
    }
}

/// Exact law of the days a stationary chain of `days` days spends in
/// state `k`, summed over `chains` independent chains: dynamic
/// programming over (state, count), then convolution.
fn markov_exact(
    p: &[[f64; 3]; 3],
    pi: &[f64; 3],
    k: usize,
    days: usize,
    chains: usize,
) -> Vec<f64> {
    // f[s][c]: probability of being in state s today having counted c.
    let mut f = vec![vec![0.0; days + 1]; 3];
    for s in 0..3 {
        f[s][usize::from(s == k)] = pi[s];
    }
    for _ in 1..days {
        let mut g = vec![vec![0.0; days + 1]; 3];
        for s in 0..3 {
            for (c, &q) in f[s].iter().enumerate() {
                if q == 0.0 {
                    continue;
                }
                for t in 0..3 {
                    g[t][c + usize::from(t == k)] += q * p[s][t];
                }
            }
        }
        f = g;
    }
    let one: Vec<f64> = (0..=days).map(|c| (0..3).map(|s| f[s][c]).sum()).collect();
    let mut total = vec![1.0];
    for _ in 0..chains {
        let mut next = vec![0.0; total.len() + days];
        for (i, a) in total.iter().enumerate() {
            for (j, b) in one.iter().enumerate() {
                next[i + j] += a * b;
            }
        }
        total = next;
    }
    total
}

#[test]
fn saddlepoint_tails_of_markov_counts_match_the_exact_law() {
    let p = [[0.9, 0.075, 0.025], [0.15, 0.8, 0.05], [0.25, 0.25, 0.5]];
    let pi = [0.625, 0.3125, 0.0625];
    for (days, chains) in [
        (1, 50),
        (1, 200),
        (3, 2),
        (10, 1),
        (10, 5),
        (60, 1),
        (40, 10),
        (300, 1),
    ] {
        for k in 0..3 {
            let law = markov_exact(&p, &pi, k, days, chains);
            let n = (days * chains) as f64;
            let cgf = |t: f64| {
                let (a, b, c) = markov_count_cgf(&p, &pi, k, days as u64, t);
                (a * chains as f64, b * chains as f64, c * chains as f64)
            };
            // The derivatives at 0: mean 0 (centred), the exact variance.
            let (_, m, v) = cgf(0.0);
            let mean: f64 = law.iter().enumerate().map(|(c, q)| c as f64 * q).sum();
            let var: f64 = law
                .iter()
                .enumerate()
                .map(|(c, q)| (c as f64 - mean).powi(2) * q)
                .sum();
            assert!(
                (mean - n * pi[k]).abs() < 1e-9 * n,
                "{days} {chains} {k}: mean {mean}"
            );
            assert!(m.abs() < 1e-9 * n, "K'(0) = {m}");
            assert!(close(v, var, 1e-9), "{days} {chains} {k}: var {v} vs {var}");
            for x in 0..law.len() {
                let el: f64 = law[..=x].iter().sum::<f64>().ln();
                let eu: f64 = law[x..].iter().sum::<f64>().ln();
                let saddle = ln_count_tails(&cgf, n * pi[k], n, x as f64);
                let what = format!("days {days} chains {chains} state {k} count {x}");
                holds_to((el, eu), saddle, 0.15, &what);
            }
        }
    }
}

#[test]
fn markov_cgf_of_a_long_chain_stays_finite_and_right() {
    let p = [[0.9, 0.075, 0.025], [0.15, 0.8, 0.05], [0.25, 0.25, 0.5]];
    let pi = [0.625, 0.3125, 0.0625];
    // Per day, the variance tends to the asymptotic one: the same for 1e6
    // and 1e12 days (to the O(1/days) edge term).
    let per_day = |days: u64| markov_count_cgf(&p, &pi, 2, days, 0.0).2 / days as f64;
    let (a, b) = (per_day(1_000_000), per_day(1_000_000_000_000));
    assert!(close(a, b, 1e-4), "{a} vs {b}");
    let (k, k1, k2) = markov_count_cgf(&p, &pi, 2, 1_000_000_000_000, 0.3);
    assert!(k.is_finite() && k1.is_finite() && k2 > 0.0, "{k} {k1} {k2}");
}
#[test]
fn quantiles_of_absurd_tails_stay_finite_and_invert() {
    // What a variance of 0, or a count a million sd off, leads to.
    let mut last = 0.0;
    for lp in [-1e3, -1e6, -1e10, -1e20, -1e50, -1e100, -1e200, -1e300] {
        let z = normal_upper_quantile(lp);
        assert!(z.is_finite() && z > last, "{lp}: {z}");
        assert!(close(ln_normal_upper(z), lp, 1e-12), "{lp}: {z}");
        last = z;
    }
    assert!(z_from_tails(f64::NEG_INFINITY, 0.0) < -1e149);
}
