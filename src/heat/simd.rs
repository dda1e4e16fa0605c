//! The two-row update written with explicit AVX2 + FMA vectors.
//!
//! Why by hand: compiled for AVX2, the portable [`update_cols2`] loop is
//! vectorised four columns at a time but not unrolled, so each pass of 4
//! columns x 2 rows carries its own loop overhead and one chain of
//! dependent operations; Zen 1 takes at most four FP macro-ops a cycle
//! from dispatch, and the in-cache stencil is bound by its FP side (README,
//! "What bounds the in-cache stencil"). This version does 8 columns (two
//! vectors) of both rows per iteration, then 4, then the last 0-3 columns
//! one by one through the portable cell. In C the same unroll gained 17 %
//! (`scripts/kernel-lab/stencil.c`).
//!
//! Every cell is the same operations in the same order as
//! [`super::kernel`]'s `cell`: `k*c`, then `fma(cx, w+e, .)`, then
//! `fma(cy, s+n, .)`, each rounded as the scalar code rounds it, so the
//! results are bitwise those of the portable path (the tests below pin it).
//!
//! [`update_cols2`]: super::kernel::update_cols2

use std::ops::Range;

use super::kernel::{update_cols2, Stencil};

/// How a pass updates two adjacent rows: the portable loop, or explicit
/// AVX2 vectors. The sweep is generic over it, so each path is compiled
/// into its own copy of the sweep.
pub(crate) trait Rows2: Copy {
    /// The contract of [`update_cols2`].
    fn update_cols2(
        self,
        out: (&mut [f64], &mut [f64]),
        rows: [&[f64]; 4],
        cols: Range<usize>,
        st: &Stencil,
    );
}

/// The portable loop (any CPU).
#[derive(Clone, Copy)]
pub(crate) struct Portable;

impl Rows2 for Portable {
    #[inline(always)]
    fn update_cols2(
        self,
        out: (&mut [f64], &mut [f64]),
        rows: [&[f64]; 4],
        cols: Range<usize>,
        st: &Stencil,
    ) {
        update_cols2(out, rows, cols, st)
    }
}

/// Proof that this CPU runs AVX2 and FMA: only [`Avx2::detect`] makes one,
/// so holding it is what makes the vector kernel safe to call.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    /// `Some` when the CPU has AVX2 and FMA.
    pub(crate) fn detect() -> Option<Self> {
        (std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"))
            .then_some(Self(()))
    }
}

#[cfg(target_arch = "x86_64")]
impl Rows2 for Avx2 {
    #[inline(always)]
    fn update_cols2(
        self,
        out: (&mut [f64], &mut [f64]),
        rows: [&[f64]; 4],
        cols: Range<usize>,
        st: &Stencil,
    ) {
        // SAFETY: `self` exists only where the CPU has AVX2 and FMA.
        unsafe { avx2_cols2(out, rows, cols, st) }
    }
}

/// [`update_cols2`] with 256-bit vectors. Same arguments, same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn avx2_cols2(
    (out0, out1): (&mut [f64], &mut [f64]),
    rows: [&[f64]; 4],
    cols: Range<usize>,
    st: &Stencil,
) {
    use std::arch::x86_64::{__m256d, _mm256_set1_pd};
    let (a, b) = (cols.start, cols.end);
    let n = b - a;
    // Every slice below has exactly the columns the loops touch (the
    // indexing panics otherwise): `o*`, `s`, `n` hold n values, `r1`, `r2`
    // n + 2 (one neighbour each side), so the pointer arithmetic in
    // `quad` stays inside them while i + 4 <= n.
    let (o0, o1) = (&mut out0[a..b], &mut out1[a..b]);
    let (south, north) = (&rows[0][a..b], &rows[3][a..b]);
    let (r1, r2) = (&rows[1][a - 1..b + 1], &rows[2][a - 1..b + 1]);
    let v: [__m256d; 3] = [
        _mm256_set1_pd(st.k),
        _mm256_set1_pd(st.cx),
        _mm256_set1_pd(st.cy),
    ];
    let p = Pass {
        o0: o0.as_mut_ptr(),
        o1: o1.as_mut_ptr(),
        s: south.as_ptr(),
        r1: r1.as_ptr(),
        r2: r2.as_ptr(),
        n: north.as_ptr(),
    };
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n (see above); AVX2 and FMA are enabled here.
        unsafe {
            quad(&p, i, &v);
            quad(&p, i + 4, &v);
        }
        i += 8;
    }
    if i + 4 <= n {
        // SAFETY: i + 4 <= n.
        unsafe { quad(&p, i, &v) };
        i += 4;
    }
    for i in i..n {
        o0[i] = super::kernel::cell(r1[i], r1[i + 1], r1[i + 2], south[i], r2[i + 1], st);
        o1[i] = super::kernel::cell(r2[i], r2[i + 1], r2[i + 2], r1[i + 1], north[i], st);
    }
}

/// The rows of one two-row pass, as pointers to column 0 of the pass
/// (`r1`, `r2`: to its west neighbour).
#[cfg(target_arch = "x86_64")]
struct Pass {
    o0: *mut f64,
    o1: *mut f64,
    s: *const f64,
    r1: *const f64,
    r2: *const f64,
    n: *const f64,
}

/// Columns `i..i + 4` of both rows. `v` is `[k, cx, cy]` in every lane.
///
/// SAFETY: `i + 4 <= n` for the pass's `n` columns.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn quad(p: &Pass, i: usize, v: &[std::arch::x86_64::__m256d; 3]) {
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_fmadd_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_storeu_pd,
    };
    let [k, cx, cy] = *v;
    // The cell's expression, vector for vector.
    let cell = |c: __m256d, we: __m256d, sn: __m256d| {
        _mm256_fmadd_pd(cy, sn, _mm256_fmadd_pd(cx, we, _mm256_mul_pd(k, c)))
    };
    // SAFETY: all loads and stores are at offsets < n (o, s, n) or
    // < n + 2 (r1, r2) of their rows, by the caller's i + 4 <= n.
    unsafe {
        let s = _mm256_loadu_pd(p.s.add(i));
        let c1 = _mm256_loadu_pd(p.r1.add(i + 1));
        let c2 = _mm256_loadu_pd(p.r2.add(i + 1));
        let n = _mm256_loadu_pd(p.n.add(i));
        let we1 = _mm256_add_pd(
            _mm256_loadu_pd(p.r1.add(i)),
            _mm256_loadu_pd(p.r1.add(i + 2)),
        );
        let we2 = _mm256_add_pd(
            _mm256_loadu_pd(p.r2.add(i)),
            _mm256_loadu_pd(p.r2.add(i + 2)),
        );
        _mm256_storeu_pd(p.o0.add(i), cell(c1, we1, _mm256_add_pd(s, c2)));
        _mm256_storeu_pd(p.o1.add(i), cell(c2, we2, _mm256_add_pd(c1, n)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with distinct, irregular values (so a lane mix-up shows).
    fn rows(w: usize, seed: f64) -> Vec<Vec<f64>> {
        (0..4)
            .map(|r| {
                (0..w)
                    .map(|i| 50.0 + 30.0 * ((i * 4 + r) as f64 * 0.618 + seed).sin())
                    .collect()
            })
            .collect()
    }

    fn run<K: Rows2>(k: K, src: &[Vec<f64>], cols: Range<usize>, st: &Stencil) -> Vec<u64> {
        let w = src[0].len();
        let (mut o0, mut o1) = (vec![-1.0; w], vec![-2.0; w]);
        let r = [&src[0][..], &src[1][..], &src[2][..], &src[3][..]];
        k.update_cols2((&mut o0, &mut o1), r, cols, st);
        o0.iter().chain(&o1).map(|v| v.to_bits()).collect()
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_rows_equal_portable_bit_for_bit() {
        let Some(avx2) = Avx2::detect() else {
            // Not silently: scripts/test.sh lists every skip at the end.
            let what = "avx2_rows_equal_portable_bit_for_bit: no AVX2+FMA on this CPU";
            eprintln!("*** SKIP: {what} ***");
            if let Some(path) = std::env::var_os("PARSIM_TEST_SKIPS") {
                use std::io::Write;
                let f = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path);
                let _ = f.map(|mut f| writeln!(f, "SKIP: {what}"));
            }
            return;
        };
        let st = Stencil::new(0.19, 0.23);
        // Every width up to 3 vectors and past, at several starts: the 8-,
        // 4- and 1-column steps in every combination.
        for w in 3..40 {
            let src = rows(w, w as f64 * 0.1);
            for a in 1..4.min(w - 1) {
                for b in a..w - 1 {
                    let got = run(avx2, &src, a..b, &st);
                    let want = run(Portable, &src, a..b, &st);
                    assert_eq!(got, want, "w={w} cols {a}..{b}");
                }
            }
        }
    }

    #[test]
    fn portable_rows_are_the_cell_expression() {
        // The reference itself: two rows by the written-out formula.
        let st = Stencil::new(0.2, 0.1);
        let src = rows(12, 0.5);
        let got = run(Portable, &src, 1..11, &st);
        for i in 1..11 {
            let (s, r1, r2, n) = (&src[0], &src[1], &src[2], &src[3]);
            let f = |w: f64, c: f64, e: f64, so: f64, no: f64| {
                st.cy.mul_add(so + no, st.cx.mul_add(w + e, st.k * c))
            };
            assert_eq!(
                got[i],
                f(r1[i - 1], r1[i], r1[i + 1], s[i], r2[i]).to_bits()
            );
            assert_eq!(
                got[12 + i],
                f(r2[i - 1], r2[i], r2[i + 1], r1[i], n[i]).to_bits()
            );
        }
    }
}
