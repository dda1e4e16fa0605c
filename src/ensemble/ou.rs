//! Ornstein-Uhlenbeck ensembles, the pure part: parameter sets and sweeps,
//! the member kernel (RNG draws fused with the exact-update recursion), the
//! known answers. No MPI here.
//!
//! Exact update for a step dt: `x' = relax x + diffuse N`, with
//! `relax = exp(-dt/tau)`, `diffuse = sigma sqrt(1 - relax^2)`, `N ~ N(0,1)`.
//! Theory: `E[x_t] = x0 exp(-t/tau)`, `Var[x_t] = sigma^2 (1 - exp(-2t/tau))`,
//! lag-1 autocorrelation `relax`.

use serde::Serialize;
use thiserror::Error;

use crate::check::{self, BadValue};

use crate::normal::standard_normals;
use crate::rng::{Lanes, Stream};

/// One parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct OuParams {
    pub tau: f64,
    pub sigma: f64,
    pub dt: f64,
    pub x0: f64,
}

impl OuParams {
    pub fn relax(&self) -> f64 {
        (-self.dt / self.tau).exp()
    }

    pub fn diffuse(&self) -> f64 {
        let r = self.relax();
        self.sigma * (1.0 - r * r).sqrt()
    }

    pub fn theory_mean(&self, t: f64) -> f64 {
        self.x0 * (-t / self.tau).exp()
    }

    pub fn theory_variance(&self, t: f64) -> f64 {
        self.sigma * self.sigma * (1.0 - (-2.0 * t / self.tau).exp())
    }

    /// A power of two of the size of the values a path takes. Statistics
    /// accumulate `x / scale` (exact: scaling by a power of two), which
    /// keeps the fixed-point sums in range whatever units the user picked.
    pub fn stat_scale(&self) -> f64 {
        let size = self.sigma.max(self.x0.abs());
        if size > 0.0 && size.is_finite() {
            2f64.powi(size.log2().ceil() as i32)
        } else {
            1.0
        }
    }
}

/// Why an OU ensemble cannot be run.
#[derive(Debug, Error, PartialEq)]
pub enum OuError {
    #[error(transparent)]
    Value(#[from] BadValue),
    #[error("--record-every {every} exceeds --steps {steps}: nothing after t=0 would be recorded")]
    RecordTooSparse { every: u64, steps: u64 },
    #[error("the ensemble has {members} members; at most {max} are supported")]
    TooMany { members: u128, max: u64 },
    #[error("--store paths would write {bytes} bytes; lower --paths or raise --record-every")]
    PathsTooLarge { bytes: u128 },
}

/// A validated ensemble: parameter sets (the Cartesian product of the
/// lists, `tau` slowest, `x0` fastest) times `paths` replicas each.
/// Member `m` belongs to set `m / paths`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct OuPlan {
    pub sets: Vec<OuParams>,
    pub paths: u64,
    pub steps: u64,
    pub record_every: u64,
    pub seed: u64,
}

/// Where the parameter sets come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Sweep {
    /// The Cartesian product of the lists (`tau` slowest, `x0` fastest),
    /// as given on the command line.
    Product {
        taus: Vec<f64>,
        sigmas: Vec<f64>,
        dts: Vec<f64>,
        x0s: Vec<f64>,
    },
    /// One set per row of a table (`--params FILE`).
    Table(Vec<OuParams>),
}

impl Sweep {
    /// Number of sets (counted before any is built: a product can be huge).
    pub fn len(&self) -> u128 {
        match self {
            Self::Table(rows) => rows.len() as u128,
            Self::Product { .. } => self.values().iter().map(|(_, v)| v.len() as u128).product(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every value of one parameter, for the checks.
    fn values(&self) -> [(&'static str, Vec<f64>); 4] {
        match self {
            Self::Product {
                taus,
                sigmas,
                dts,
                x0s,
            } => [
                ("tau", taus.clone()),
                ("sigma", sigmas.clone()),
                ("dt", dts.clone()),
                ("x0", x0s.clone()),
            ],
            Self::Table(rows) => [
                ("tau", rows.iter().map(|p| p.tau).collect()),
                ("sigma", rows.iter().map(|p| p.sigma).collect()),
                ("dt", rows.iter().map(|p| p.dt).collect()),
                ("x0", rows.iter().map(|p| p.x0).collect()),
            ],
        }
    }

    fn sets(&self) -> Vec<OuParams> {
        if let Self::Table(rows) = self {
            return rows.clone();
        }
        let [(_, taus), (_, sigmas), (_, dts), (_, x0s)] = self.values();
        let mut sets = Vec::with_capacity(self.len() as usize);
        for &tau in &taus {
            for &sigma in &sigmas {
                for &dt in &dts {
                    for &x0 in &x0s {
                        sets.push(OuParams { tau, sigma, dt, x0 });
                    }
                }
            }
        }
        sets
    }
}

/// A parameter table (`--params`): a header naming the columns
/// `tau,sigma,dt,x0` (in any order), then one set per line; blank lines and
/// lines starting with `#` are skipped. Errors name the line.
pub fn parse_params(text: &str) -> Result<Vec<OuParams>, String> {
    const NAMES: [&str; 4] = ["tau", "sigma", "dt", "x0"];
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (_, header) = lines.next().ok_or("no header line (tau,sigma,dt,x0)")?;
    let columns: Vec<&str> = header.split(',').map(str::trim).collect();
    let mut sorted = columns.clone();
    sorted.sort_unstable();
    if sorted != ["dt", "sigma", "tau", "x0"] {
        return Err(format!(
            "header '{header}' must name the columns tau, sigma, dt and x0, once each"
        ));
    }
    let at: [usize; 4] = NAMES.map(|n| columns.iter().position(|c| *c == n).unwrap_or(0));
    let mut rows = Vec::new();
    for (line, l) in lines {
        let cells: Vec<&str> = l.split(',').map(str::trim).collect();
        if cells.len() != 4 {
            return Err(format!("line {line}: {} values, expected 4", cells.len()));
        }
        let mut v = [0.0; 4];
        for (k, name) in NAMES.iter().enumerate() {
            let cell = cells[at[k]];
            v[k] = cell
                .parse()
                .map_err(|_| format!("line {line}: {name} '{cell}' is not a number"))?;
        }
        rows.push(OuParams {
            tau: v[0],
            sigma: v[1],
            dt: v[2],
            x0: v[3],
        });
    }
    if rows.is_empty() {
        return Err("no parameter sets after the header".into());
    }
    Ok(rows)
}

/// The ensemble as asked for (options checked by [`OuPlan::new`]).
#[derive(Debug, Clone)]
pub struct OuRequest {
    pub sweep: Sweep,
    pub paths: u64,
    pub steps: u64,
    pub record_every: u64,
    pub seed: u64,
    pub store_paths: bool,
}

/// A bound no machine's memory reaches (rank 0 gathers 24 bytes per
/// member), far from any overflow of the index arithmetic.
const MAX_MEMBERS: u64 = 1 << 52;
/// Refuse path dumps beyond 1 TiB: almost surely a typo.
const MAX_PATH_BYTES: u128 = 1 << 40;

impl OuRequest {
    /// Bytes rank 0 needs for this ensemble on `ranks` ranks (the most of
    /// any rank): the parameter sets, every member's summary (24 bytes,
    /// gathered), its own members' recorded paths, and a group's record
    /// buffers. Counted before the plan is built, so a sweep of a billion
    /// sets is refused instead of allocated.
    pub fn memory_need(&self, ranks: u128) -> u128 {
        let sets = self.sweep.len();
        let members = sets.saturating_mul(self.paths as u128);
        let samples = (self.steps / self.record_every.max(1)) as u128 + 1;
        let mine = members.div_ceil(ranks.max(1));
        let paths = if self.store_paths {
            mine.saturating_mul(samples)
        } else {
            0
        };
        let need = [
            sets.saturating_mul(40),
            members.saturating_mul(24),
            mine.saturating_mul(24 + 8),
            paths.saturating_mul(8),
            (GROUP as u128 * samples).saturating_mul(8),
        ];
        need.iter().fold(0u128, |a, b| a.saturating_add(*b))
    }
}

impl OuPlan {
    pub fn new(r: &OuRequest) -> Result<Self, OuError> {
        let [tau, sigma, dt, x0] = r.sweep.values();
        for (check, (name, list)) in [
            (check::positive as fn(_, _) -> _, tau),
            (check::positive, dt),
            (check::non_negative, sigma),
            (check::finite, x0),
        ] {
            for value in list {
                check(name, value)?;
            }
        }
        for (name, value) in [
            ("paths", r.paths),
            ("steps", r.steps),
            ("record-every", r.record_every),
        ] {
            check::at_least(name, value, 1)?;
        }
        if r.record_every > r.steps {
            return Err(OuError::RecordTooSparse {
                every: r.record_every,
                steps: r.steps,
            });
        }
        let members = r.sweep.len() * r.paths as u128;
        if members > MAX_MEMBERS as u128 {
            return Err(OuError::TooMany {
                members,
                max: MAX_MEMBERS,
            });
        }
        let samples = (r.steps / r.record_every + 1) as u128;
        if r.store_paths && members * samples * 8 > MAX_PATH_BYTES {
            return Err(OuError::PathsTooLarge {
                bytes: members * samples * 8,
            });
        }
        Ok(Self {
            sets: r.sweep.sets(),
            paths: r.paths,
            steps: r.steps,
            record_every: r.record_every,
            seed: r.seed,
        })
    }

    pub fn members(&self) -> u64 {
        self.sets.len() as u64 * self.paths
    }

    /// Recorded samples per path: t = 0, K dt, 2K dt, ... up to steps.
    pub fn samples(&self) -> usize {
        (self.steps / self.record_every + 1) as usize
    }

    /// Parameter set of member `m`.
    pub fn set_of(&self, m: u64) -> usize {
        (m / self.paths) as usize
    }
}

/// What one member's path leaves behind besides its recorded samples.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MemberSummary {
    /// x at the last step.
    pub last: f64,
    /// Sum of x_i^2 over steps i = 0..steps-1 (for the lag-1 estimator).
    pub sxx: f64,
    /// Sum of x_i x_{i+1}.
    pub sxy: f64,
}

/// Members advanced together by [`simulate_lanes`]: enough independent
/// dependency chains (generator state, recursion) to keep the core busy,
/// few enough that their generator states stay in registers (measured with
/// `examples/ou_breakdown.rs`: 4 lanes spill to the stack).
pub const LANES: usize = 2;

/// Run one member's path of `steps` exact updates with draws from `rng`,
/// writing x every `record_every` steps (starting with x0 at t = 0) into
/// `record`, which must hold `steps / record_every + 1` values.
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

/// Members per group of a [`GroupKernel`].
pub const GROUP: usize = 4;

/// How a group of [`GROUP`] members is advanced: in AVX2 registers, or
/// as two pairs of [`simulate_lanes`]. The bits of every member are the
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

    /// [`simulate_lanes`] for four members.
    pub fn simulate(
        self,
        p: &OuParams,
        steps: u64,
        record_every: u64,
        lanes: &mut Lanes<GROUP>,
        records: [&mut [f64]; GROUP],
    ) -> [MemberSummary; GROUP] {
        #[cfg(target_arch = "x86_64")]
        {
            if self.avx2 {
                // SAFETY: `avx2` is true only when `detect` found AVX2.
                return unsafe {
                    super::ou_avx2::simulate4(p, steps, record_every, lanes, records)
                };
            }
        }
        let [a, b, c, d] = records;
        let mut out = [MemberSummary::default(); GROUP];
        for (half, recs) in [[a, b], [c, d]].into_iter().enumerate() {
            let mut pair = Lanes::<2>::new(&[lanes.stream(2 * half), lanes.stream(2 * half + 1)]);
            let r = simulate_lanes(p, steps, record_every, &mut pair, recs);
            out[2 * half..2 * half + 2].copy_from_slice(&r);
            lanes.set_stream(2 * half, &pair.stream(0));
            lanes.set_stream(2 * half + 1, &pair.stream(1));
        }
        out
    }
}

/// [`simulate`] for `L` members of one parameter set at once, in lockstep:
/// lane `l` draws from lane `l` of `lanes` and records into `records[l]`.
///
/// The draws and the recursion are fused (no buffer of normals, nothing
/// allocated). A single path is latency-bound: every step waits for the
/// previous x and the generator's previous state; lanes let the CPU overlap
/// independent chains and vectorise the generator. Each lane does exactly
/// the arithmetic of [`simulate`] for its member, so results are bitwise
/// the same however members are grouped, and so on any number of ranks.
pub fn simulate_lanes<const L: usize>(
    p: &OuParams,
    steps: u64,
    record_every: u64,
    lanes: &mut Lanes<L>,
    mut records: [&mut [f64]; L],
) -> [MemberSummary; L] {
    let coef = (p.relax(), p.diffuse());
    let mut state = LaneState {
        x: [p.x0; L],
        sxx: [0.0; L],
        sxy: [0.0; L],
    };
    let samples = (steps / record_every + 1) as usize;
    for r in records.iter_mut() {
        assert_eq!(r.len(), samples, "record buffer of the wrong length");
        r[0] = p.x0;
    }
    for k in 1..samples {
        state = advance(state, record_every, lanes, coef);
        for (r, xl) in records.iter_mut().zip(state.x) {
            r[k] = xl;
        }
    }
    state = advance(state, steps % record_every, lanes, coef);
    std::array::from_fn(|l| MemberSummary {
        last: state.x[l],
        sxx: state.sxx[l],
        sxy: state.sxy[l],
    })
}

/// Per-lane running values of [`simulate_lanes`].
#[derive(Clone, Copy)]
struct LaneState<const L: usize> {
    x: [f64; L],
    sxx: [f64; L],
    sxy: [f64; L],
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
    *lanes = rng;
    st
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::{mean_variance, ExactSum};
    use crate::rng::stream;
    use rand::Rng;

    fn request() -> OuRequest {
        OuRequest {
            sweep: Sweep::Product {
                taus: vec![1.0],
                sigmas: vec![2.0],
                dts: vec![0.1],
                x0s: vec![0.0],
            },
            paths: 8,
            steps: 100,
            record_every: 10,
            seed: 1,
            store_paths: false,
        }
    }

    /// `request()` with its lists replaced.
    fn product(taus: &[f64], sigmas: &[f64], dts: &[f64], x0s: &[f64]) -> OuRequest {
        OuRequest {
            sweep: Sweep::Product {
                taus: taus.to_vec(),
                sigmas: sigmas.to_vec(),
                dts: dts.to_vec(),
                x0s: x0s.to_vec(),
            },
            ..request()
        }
    }

    #[test]
    fn sweep_is_the_cartesian_product_in_documented_order() {
        let r = product(&[1.0, 2.0], &[2.0], &[0.1], &[0.0, 5.0, -5.0]);
        let plan = OuPlan::new(&r).unwrap();
        assert_eq!(plan.sets.len(), 6);
        assert_eq!(plan.members(), 48);
        assert_eq!((plan.sets[0].tau, plan.sets[0].x0), (1.0, 0.0));
        assert_eq!((plan.sets[1].tau, plan.sets[1].x0), (1.0, 5.0));
        assert_eq!((plan.sets[3].tau, plan.sets[3].x0), (2.0, 0.0));
        assert_eq!(plan.set_of(15), 1);
        assert_eq!(plan.samples(), 11);
    }

    #[test]
    fn bad_requests_refused() {
        let cases: [fn(&mut OuRequest); 9] = [
            |r| *r = product(&[1.0, 0.0], &[2.0], &[0.1], &[0.0]),
            |r| *r = product(&[1.0], &[2.0], &[-0.1], &[0.0]),
            |r| *r = product(&[1.0], &[-1.0], &[0.1], &[0.0]),
            |r| *r = product(&[1.0], &[2.0], &[0.1], &[f64::NAN]),
            |r| r.paths = 0,
            |r| r.steps = 0,
            |r| r.record_every = 0,
            |r| r.record_every = 101,
            |r| {
                r.store_paths = true;
                r.paths = 1 << 40;
            },
        ];
        crate::check::assert_each_refused(request, &cases, OuPlan::new);
    }

    #[test]
    fn params_table_read_in_any_column_order_and_checked_like_options() {
        let rows = parse_params("# sweep\nx0, tau,sigma,dt\n1,2,0.5,0.1\n\n-1,4,1,0.2\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1],
            OuParams {
                tau: 4.0,
                sigma: 1.0,
                dt: 0.2,
                x0: -1.0
            }
        );
        let r = OuRequest {
            sweep: Sweep::Table(rows.clone()),
            ..request()
        };
        assert_eq!(OuPlan::new(&r).unwrap().sets, rows);
        for (text, says) in [
            ("", "no header"),
            ("tau,sigma,dt\n1,2,3\n", "header"),
            ("tau,sigma,dt,x0,tau\n", "header"),
            ("tau,sigma,dt,x0\n", "no parameter sets"),
            ("tau,sigma,dt,x0\n1,2,3\n", "line 2: 3 values"),
            (
                "tau,sigma,dt,x0\n1,2,x,0\n",
                "line 2: dt 'x' is not a number",
            ),
        ] {
            let e = parse_params(text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        let bad = OuRequest {
            sweep: Sweep::Table(parse_params("tau,sigma,dt,x0\n-1,1,0.1,0\n").unwrap()),
            ..request()
        };
        assert!(OuPlan::new(&bad).is_err(), "tau < 0 in a table accepted");
    }

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
