//! The OU member kernel for four members at once in AVX2 registers.
//!
//! Same arithmetic as `kernel::run_lanes` (no FMA: Rust never contracts,
//! and neither does this code), so every member's path is bitwise the same
//! as the portable kernel's; a unit test pins that. Four Xoshiro256++ states
//! live word-major in four 256-bit registers, the ziggurat's fast path is
//! evaluated for all four lanes with two table gathers, and the rare
//! rejections (about 4% of steps for four lanes) drop to the scalar sampler
//! for the lanes concerned.

use std::arch::x86_64::*;

use super::lanes::{pieces, LaneState};
use super::model::OuParams;
use crate::normal::slow_words;
use crate::rng::Lanes;
use crate::ziggurat_tables::ZIG_X;

/// Registers of one group of four members.
struct State {
    s: [__m256i; 4],
    x: __m256d,
    sxx: __m256d,
    sxy: __m256d,
}

/// `kernel::run_lanes` for four members: from step `state.t` to `to`.
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn run4(
    p: &OuParams,
    record_every: u64,
    to: u64,
    state: &mut LaneState<4>,
    lanes: &mut Lanes<4>,
    mut records: [&mut [f64]; 4],
) {
    let mut st = State {
        s: std::array::from_fn(|w| load_word(lanes, w)),
        x: _mm256_loadu_pd(state.x.as_ptr()),
        sxx: _mm256_loadu_pd(state.sxx.as_ptr()),
        sxy: _mm256_loadu_pd(state.sxy.as_ptr()),
    };
    let (relax, diffuse) = (_mm256_set1_pd(p.relax()), _mm256_set1_pd(p.diffuse()));
    let mut out = [0.0; 4];
    for (n, sample) in pieces(state.t, to, record_every) {
        advance(&mut st, n, relax, diffuse);
        if let Some(k) = sample {
            _mm256_storeu_pd(out.as_mut_ptr(), st.x);
            for (r, v) in records.iter_mut().zip(out) {
                r[k] = v;
            }
        }
    }
    for (w, reg) in st.s.iter().enumerate() {
        store_word(lanes, w, *reg);
    }
    state.t = state.t.max(to);
    _mm256_storeu_pd(state.x.as_mut_ptr(), st.x);
    _mm256_storeu_pd(state.sxx.as_mut_ptr(), st.sxx);
    _mm256_storeu_pd(state.sxy.as_mut_ptr(), st.sxy);
}

#[target_feature(enable = "avx2")]
unsafe fn load_word(lanes: &Lanes<4>, w: usize) -> __m256i {
    let v: [u64; 4] = std::array::from_fn(|l| lanes.words(l)[w]);
    _mm256_loadu_si256(v.as_ptr() as *const __m256i)
}

#[target_feature(enable = "avx2")]
unsafe fn store_word(lanes: &mut Lanes<4>, w: usize, reg: __m256i) {
    let mut v = [0u64; 4];
    _mm256_storeu_si256(v.as_mut_ptr() as *mut __m256i, reg);
    for (l, value) in v.into_iter().enumerate() {
        let mut words = lanes.words(l);
        words[w] = value;
        lanes.set_words(l, words);
    }
}

#[inline]
#[target_feature(enable = "avx2")]
unsafe fn rotl<const L: i32, const R: i32>(v: __m256i) -> __m256i {
    _mm256_or_si256(_mm256_slli_epi64::<L>(v), _mm256_srli_epi64::<R>(v))
}

#[target_feature(enable = "avx2")]
unsafe fn advance(st: &mut State, n: u64, relax: __m256d, diffuse: __m256d) {
    let [mut s0, mut s1, mut s2, mut s3] = st.s;
    let (mut x, mut sxx, mut sxy) = (st.x, st.sxx, st.sxy);
    let low8 = _mm256_set1_epi64x(0xff);
    let exponent = _mm256_set1_epi64x(0x4000_0000_0000_0000);
    let three = _mm256_set1_pd(3.0);
    let abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
    let table = ZIG_X.as_ptr();
    for _ in 0..n {
        // xoshiro256++ in every lane.
        let bits = _mm256_add_epi64(rotl::<23, 41>(_mm256_add_epi64(s0, s3)), s0);
        let t = _mm256_slli_epi64::<17>(s1);
        s2 = _mm256_xor_si256(s2, s0);
        s3 = _mm256_xor_si256(s3, s1);
        s1 = _mm256_xor_si256(s1, s2);
        s0 = _mm256_xor_si256(s0, s3);
        s2 = _mm256_xor_si256(s2, t);
        s3 = rotl::<45, 19>(s3);
        // Ziggurat fast path: 8 bits pick the layer, 52 give u in [-1, 1).
        let idx = _mm256_and_si256(bits, low8);
        let u = _mm256_sub_pd(
            _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64::<12>(bits), exponent)),
            three,
        );
        // Four scalar loads beat the gather instruction on many cores.
        let mut ix = [0i64; 4];
        _mm256_storeu_si256(ix.as_mut_ptr() as *mut __m256i, idx);
        let at = |k: usize| *table.add(ix[k] as usize);
        let after = |k: usize| *table.add(ix[k] as usize + 1);
        let mut z = _mm256_mul_pd(u, _mm256_set_pd(at(3), at(2), at(1), at(0)));
        let edge = _mm256_set_pd(after(3), after(2), after(1), after(0));
        let ok = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_and_pd(z, abs_mask), edge);
        if _mm256_movemask_pd(ok) != 0b1111 {
            // Rare: finish the rejected lanes with the scalar sampler, which
            // draws further numbers from those lanes' streams.
            let mut words = [[0u64; 4]; 4];
            for (w, reg) in [s0, s1, s2, s3].iter().enumerate() {
                _mm256_storeu_si256(words[w].as_mut_ptr() as *mut __m256i, *reg);
            }
            let (mut zs, mut us, mut is, mut oks) = ([0.0; 4], [0.0; 4], [0i64; 4], [0.0; 4]);
            _mm256_storeu_pd(zs.as_mut_ptr(), z);
            _mm256_storeu_pd(us.as_mut_ptr(), u);
            _mm256_storeu_si256(is.as_mut_ptr() as *mut __m256i, idx);
            _mm256_storeu_pd(oks.as_mut_ptr(), ok);
            for l in 0..4 {
                if oks[l].to_bits() == 0 {
                    let lane = [words[0][l], words[1][l], words[2][l], words[3][l]];
                    let (value, new) = slow_words(lane, is[l] as usize, us[l], zs[l]);
                    zs[l] = value;
                    for w in 0..4 {
                        words[w][l] = new[w];
                    }
                }
            }
            z = _mm256_loadu_pd(zs.as_ptr());
            s0 = _mm256_loadu_si256(words[0].as_ptr() as *const __m256i);
            s1 = _mm256_loadu_si256(words[1].as_ptr() as *const __m256i);
            s2 = _mm256_loadu_si256(words[2].as_ptr() as *const __m256i);
            s3 = _mm256_loadu_si256(words[3].as_ptr() as *const __m256i);
        }
        // The exact update and the lag-1 sums, as in the portable kernel.
        let next = _mm256_add_pd(_mm256_mul_pd(relax, x), _mm256_mul_pd(diffuse, z));
        sxx = _mm256_add_pd(sxx, _mm256_mul_pd(x, x));
        sxy = _mm256_add_pd(sxy, _mm256_mul_pd(x, next));
        x = next;
    }
    st.s = [s0, s1, s2, s3];
    st.x = x;
    st.sxx = sxx;
    st.sxy = sxy;
}
