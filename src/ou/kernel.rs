//! The OU member kernel, pure: RNG draws fused with the exact-update
//! recursion, for one member, a few in lanes, or a group of four (AVX2
//! where the CPU has it, bitwise the same). No MPI here.
//!
//! A path can be advanced in pieces ([`run_lanes`], [`GroupKernel::run`]):
//! its whole state between two pieces is a [`LaneState`] and the lanes'
//! generator words, so a run can stop and checkpoint mid-path. Pieces
//! change no bit: each step does the same arithmetic wherever the path was
//! cut (pinned by tests).

pub use super::lanes::{pieces, LaneState};
use super::model::{MemberSummary, OuParams, GROUP};
use crate::normal::standard_normals;
use crate::rng::{Lanes, Stream};

/// Members advanced together by [`simulate_lanes`]: enough independent
/// dependency chains (generator state, recursion) to keep the core busy,
/// few enough that their generator states stay in registers (measured with
/// `examples/ou_breakdown.rs`: 4 lanes spill to the stack).
pub const LANES: usize = 2;

/// Run one member's whole path of `steps` exact updates with draws from
/// `rng`, writing x every `record_every` steps (starting with x0 at t = 0)
/// into `record`, which must hold `steps / record_every + 1` values.
pub fn simulate(
    p: &OuParams,
    steps: u64,
    record_every: u64,
    rng: &mut Stream,
    record: &mut [f64],
) -> MemberSummary {
    let mut lanes = Lanes::new(std::array::from_ref(rng));
    let [summary] = simulate_lanes(p, steps, record_every, &mut lanes, [record]);
    *rng = lanes.stream(0);
    summary
}

/// [`simulate`] for `L` members of one parameter set in lockstep (see
/// [`run_lanes`]).
pub fn simulate_lanes<const L: usize>(
    p: &OuParams,
    steps: u64,
    record_every: u64,
    lanes: &mut Lanes<L>,
    mut records: [&mut [f64]; L],
) -> [MemberSummary; L] {
    let samples = (steps / record_every + 1) as usize;
    for r in records.iter() {
        assert_eq!(r.len(), samples, "record buffer of the wrong length");
    }
    let mut state = LaneState::start(p, &mut records);
    run_lanes(p, record_every, steps, &mut state, lanes, records);
    std::array::from_fn(|l| state.summary(l))
}

/// How a group of [`GROUP`] members is advanced: in AVX2 registers, or
/// as two pairs of [`run_lanes`]. The bits of every member are the
/// same either way (pinned by a test). Only [`GroupKernel::detect`] can
/// choose AVX2, so the unsafe kernel never runs on a CPU without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupKernel {
    avx2: bool,
}

impl GroupKernel {
    /// The fastest kernel this CPU runs (checked once, by the caller).
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                return GroupKernel { avx2: true };
            }
        }
        Self::portable()
    }

    /// Two pairs of lanes, on any CPU.
    pub fn portable() -> Self {
        GroupKernel { avx2: false }
    }

    /// [`simulate_lanes`] for four members, whole paths.
    pub fn simulate(
        self,
        p: &OuParams,
        steps: u64,
        record_every: u64,
        lanes: &mut Lanes<GROUP>,
        mut records: [&mut [f64]; GROUP],
    ) -> [MemberSummary; GROUP] {
        let mut state = LaneState::start(p, &mut records);
        self.run(p, record_every, steps, &mut state, lanes, records);
        std::array::from_fn(|l| state.summary(l))
    }

    /// [`run_lanes`] for four members.
    pub fn run(
        self,
        p: &OuParams,
        record_every: u64,
        to: u64,
        state: &mut LaneState<GROUP>,
        lanes: &mut Lanes<GROUP>,
        records: [&mut [f64]; GROUP],
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            if self.avx2 {
                // SAFETY: `avx2` is true only when `detect` found AVX2.
                return unsafe { super::avx2::run4(p, record_every, to, state, lanes, records) };
            }
        }
        let [a, b, c, d] = records;
        for (half, recs) in [[a, b], [c, d]].into_iter().enumerate() {
            let mut pair = Lanes::<2>::new(&[lanes.stream(2 * half), lanes.stream(2 * half + 1)]);
            let mut part = state.part::<2>(half);
            run_lanes(p, record_every, to, &mut part, &mut pair, recs);
            state.set_part(half, &part);
            lanes.set_stream(2 * half, &pair.stream(0));
            lanes.set_stream(2 * half + 1, &pair.stream(1));
        }
        state.t = state.t.max(to);
    }
}

/// Advance `L` members of one parameter set in lockstep from step
/// `state.t` to step `to`: lane `l` draws from lane `l` of `lanes` and
/// writes each recorded step's x into `records[l]` (see [`pieces`]).
///
/// The draws and the recursion are fused (no buffer of normals, nothing
/// allocated). A single path is latency-bound: every step waits for the
/// previous x and the generator's previous state; lanes let the CPU overlap
/// independent chains and vectorise the generator. Each lane does exactly
/// the arithmetic of [`simulate`] for its member, so results are bitwise
/// the same however members are grouped or their paths cut, and so on any
/// number of ranks.
pub fn run_lanes<const L: usize>(
    p: &OuParams,
    record_every: u64,
    to: u64,
    state: &mut LaneState<L>,
    lanes: &mut Lanes<L>,
    mut records: [&mut [f64]; L],
) {
    let coef = (p.relax(), p.diffuse());
    for (n, sample) in pieces(state.t, to, record_every) {
        *state = advance(*state, n, lanes, coef);
        if let Some(k) = sample {
            for (r, xl) in records.iter_mut().zip(state.x) {
                r[k] = xl;
            }
        }
    }
}

/// `n` steps of every lane. State and generator are taken by value into
/// locals so they live in registers for the whole loop.
#[inline(always)]
fn advance<const L: usize>(
    mut st: LaneState<L>,
    n: u64,
    lanes: &mut Lanes<L>,
    (relax, diffuse): (f64, f64),
) -> LaneState<L> {
    let mut rng = lanes.clone();
    for _ in 0..n {
        let z = standard_normals(&mut rng);
        for (l, z) in z.into_iter().enumerate() {
            let next = relax * st.x[l] + diffuse * z;
            st.sxx[l] += st.x[l] * st.x[l];
            st.sxy[l] += st.x[l] * next;
            st.x[l] = next;
        }
    }
    st.t += n;
    *lanes = rng;
    st
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::{mean_variance, ExactSum};
    use crate::rng::stream;
    use rand::Rng;
    #[test]
    fn recording_and_remainder_steps() {
        let p = OuParams {
            tau: 1.0,
            sigma: 0.0,
            dt: 0.1,
            x0: 3.0,
        };
        // sigma = 0: pure decay, x_n = x0 relax^n.
        let mut rec = vec![0.0; 4];
        let s = simulate(&p, 10, 3, &mut stream(0, 0), &mut rec);
        let r = p.relax();
        assert_eq!(rec[0], 3.0);
        assert!((rec[3] - 3.0 * r.powi(9)).abs() < 1e-14);
        assert!((s.last - 3.0 * r.powi(10)).abs() < 1e-14);
    }

    #[test]
    fn group_kernel_matches_single_members_bitwise() {
        let p = OuParams {
            tau: 0.7,
            sigma: 1.3,
            dt: 0.05,
            x0: 0.4,
        };
        // Long enough that every lane hits wedges and tails (slow path).
        let (steps, every) = (60_003, 1000);
        let samples = (steps / every + 1) as usize;
        let streams: [Stream; GROUP] = std::array::from_fn(|m| stream(99, m as u64));
        let mut lanes = Lanes::new(&streams);
        let mut recs = vec![vec![0.0; samples]; GROUP];
        let out = {
            let r: Vec<&mut [f64]> = recs.iter_mut().map(|v| &mut v[..]).collect();
            GroupKernel::detect().simulate(&p, steps, every, &mut lanes, r.try_into().unwrap())
        };
        let mut portable_lanes = Lanes::new(&streams);
        let mut portable_recs = vec![vec![0.0; samples]; GROUP];
        let portable = {
            let r: Vec<&mut [f64]> = portable_recs.iter_mut().map(|v| &mut v[..]).collect();
            GroupKernel::portable().simulate(
                &p,
                steps,
                every,
                &mut portable_lanes,
                r.try_into().unwrap(),
            )
        };
        assert_eq!(portable, out);
        assert_eq!(portable_recs, recs);
        for m in 0..GROUP {
            let mut single = vec![0.0; samples];
            let mut rng = stream(99, m as u64);
            let s = simulate(&p, steps, every, &mut rng, &mut single);
            assert_eq!(s.last.to_bits(), out[m].last.to_bits(), "member {m}");
            assert_eq!(s.sxx.to_bits(), out[m].sxx.to_bits());
            assert_eq!(s.sxy.to_bits(), out[m].sxy.to_bits());
            assert!(single
                .iter()
                .zip(&recs[m])
                .all(|(a, b)| a.to_bits() == b.to_bits()));
            // and the streams end in the same place
            assert_eq!(rng.next_u64(), lanes.stream(m).next_u64());
        }
    }

    /// A path cut into pieces anywhere (on a recorded step or between
    /// two) is bitwise the path run whole, in every kernel.
    #[test]
    fn paths_cut_into_pieces_are_bitwise_whole_paths() {
        let p = OuParams {
            tau: 0.7,
            sigma: 1.3,
            dt: 0.05,
            x0: 0.4,
        };
        let (steps, every) = (20_011u64, 100u64);
        let samples = (steps / every + 1) as usize;
        let streams: [Stream; GROUP] = std::array::from_fn(|m| stream(7, m as u64));
        let whole = |kernel: GroupKernel| {
            let mut lanes = Lanes::new(&streams);
            let mut recs = vec![vec![0.0; samples]; GROUP];
            let r: Vec<&mut [f64]> = recs.iter_mut().map(|v| &mut v[..]).collect();
            let out = kernel.simulate(&p, steps, every, &mut lanes, r.try_into().unwrap());
            (out, recs, lanes.words(3))
        };
        let cuts = [1u64, 99, 100, 101, 700, 7_777, 20_000, 20_010, steps];
        for kernel in [GroupKernel::detect(), GroupKernel::portable()] {
            let (out, recs, words) = whole(kernel);
            let mut lanes = Lanes::new(&streams);
            let mut cut = vec![vec![0.0; samples]; GROUP];
            let mut state = {
                let mut r: [&mut [f64]; GROUP] = split(&mut cut);
                LaneState::start(&p, &mut r)
            };
            for to in cuts {
                // Between pieces the state goes through plain values, as
                // it does through a checkpoint.
                let saved: [[u64; 4]; GROUP] = std::array::from_fn(|l| lanes.words(l));
                let mut lanes_again = Lanes::from_words(saved);
                kernel.run(&p, every, to, &mut state, &mut lanes_again, split(&mut cut));
                lanes = lanes_again;
                assert_eq!(state.t, to);
            }
            let got: [MemberSummary; GROUP] = std::array::from_fn(|l| state.summary(l));
            assert_eq!(got, out, "{kernel:?}");
            assert_eq!(cut, recs);
            assert_eq!(lanes.words(3), words);
        }
        // One lane, through `run_lanes` directly.
        let mut rec = vec![0.0; samples];
        let single = simulate(&p, steps, every, &mut stream(7, 2), &mut rec);
        let mut lane = Lanes::new(&[stream(7, 2)]);
        let mut cut = vec![0.0; samples];
        let mut state = LaneState::start(&p, &mut [&mut cut[..]]);
        for to in cuts {
            run_lanes(&p, every, to, &mut state, &mut lane, [&mut cut[..]]);
        }
        assert_eq!(state.summary(0), single);
        assert_eq!(cut, rec);
    }

    fn split(v: &mut [Vec<f64>]) -> [&mut [f64]; GROUP] {
        let r: Vec<&mut [f64]> = v.iter_mut().map(|v| &mut v[..]).collect();
        r.try_into().unwrap()
    }

    #[test]
    fn pieces_end_at_recorded_steps() {
        let p: Vec<_> = pieces(5, 25, 10).collect();
        assert_eq!(p, [(5, Some(1)), (10, Some(2)), (5, None)]);
        assert_eq!(pieces(0, 3, 10).collect::<Vec<_>>(), [(3, None)]);
        assert_eq!(pieces(7, 7, 10).count(), 0);
    }

    #[test]
    fn same_stream_same_path() {
        let p = OuParams {
            tau: 1.0,
            sigma: 2.0,
            dt: 0.1,
            x0: 0.0,
        };
        let (mut a, mut b) = (vec![0.0; 11], vec![0.0; 11]);
        let sa = simulate(&p, 100, 10, &mut stream(5, 3), &mut a);
        let sb = simulate(&p, 100, 10, &mut stream(5, 3), &mut b);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
    }

    /// Ensemble statistics on a modest ensemble agree with theory within
    /// 4 standard errors (fixed seed, so this is deterministic).
    #[test]
    fn statistics_match_theory() {
        let p = OuParams {
            tau: 1.0,
            sigma: 2.0,
            dt: 0.1,
            x0: 3.0,
        };
        let (n, steps) = (4000u64, 20u64);
        let (mut s1, mut s2) = (ExactSum::default(), ExactSum::default());
        let (mut sxx, mut sxy) = (0.0, 0.0);
        let mut rec = vec![0.0; 2];
        for m in 0..n {
            let s = simulate(&p, steps, steps, &mut stream(11, m), &mut rec);
            s1.add(s.last).unwrap();
            s2.add(s.last * s.last).unwrap();
            sxx += s.sxx;
            sxy += s.sxy;
        }
        let t = steps as f64 * p.dt;
        let (mean, var) = mean_variance(s1, s2, n);
        let v = p.theory_variance(t);
        let z_mean = (mean - p.theory_mean(t)) / (v / n as f64).sqrt();
        let z_var = (var - v) / (v * (2.0 / (n - 1) as f64).sqrt());
        let z_rho = (sxy / sxx - p.relax()) / (p.diffuse() / sxx.sqrt());
        for (name, z) in [("mean", z_mean), ("variance", z_var), ("lag-1", z_rho)] {
            assert!(z.abs() < 4.0, "{name}: z = {z}");
        }
    }

    #[test]
    fn stat_scale_is_a_power_of_two_covering_the_values() {
        let p = |sigma, x0| OuParams {
            tau: 1.0,
            sigma,
            dt: 0.1,
            x0,
        };
        assert_eq!(p(2.0, 0.0).stat_scale(), 2.0);
        assert_eq!(p(3.0, 0.0).stat_scale(), 4.0);
        assert_eq!(p(0.1, -1000.0).stat_scale(), 1024.0);
        assert_eq!(p(0.0, 0.0).stat_scale(), 1.0);
    }
}
