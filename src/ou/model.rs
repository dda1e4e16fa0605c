//! Ornstein-Uhlenbeck ensembles, the pure part: parameter sets and sweeps,
//! the plan of an ensemble, what a member leaves behind, the known
//! answers. No MPI here; the member kernel is in [`super::kernel`].
//!
//! Exact update for a step dt: `x' = relax x + diffuse N`, with
//! `relax = exp(-dt/tau)`, `diffuse = sigma sqrt(1 - relax^2)`, `N ~ N(0,1)`.
//! Theory: `E[x_t] = x0 exp(-t/tau)`, `Var[x_t] = sigma^2 (1 - exp(-2t/tau))`,
//! lag-1 autocorrelation `relax`.

use serde::Serialize;
use thiserror::Error;

use crate::check::{self, BadValue};

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
    pub(super) fn values(&self) -> [(&'static str, Vec<f64>); 4] {
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

    pub(super) fn sets(&self) -> Vec<OuParams> {
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
/// `tau,sigma,dt,x0` (in any order), then one set per line; the comment and
/// blank-line rules of [`crate::table`]. Errors name the line.
pub fn parse_params(text: &str) -> Result<Vec<OuParams>, String> {
    const NAMES: [&str; 4] = ["tau", "sigma", "dt", "x0"];
    let table = crate::table::read(text)?;
    let header = table.header.ok_or("no header line (tau,sigma,dt,x0)")?;
    let mut sorted = header.clone();
    sorted.sort_unstable();
    if sorted != ["dt", "sigma", "tau", "x0"] {
        return Err(format!(
            "header '{}' must name the columns tau, sigma, dt and x0, once each",
            crate::error::one_line(&header.join(","))
        ));
    }
    let at: [usize; 4] = NAMES.map(|n| header.iter().position(|c| c == n).unwrap_or(0));
    let mut rows = Vec::new();
    for (line, cells) in &table.rows {
        if cells.len() != 4 {
            return Err(format!("line {line}: {} values, expected 4", cells.len()));
        }
        let mut v = [0.0; 4];
        for (k, name) in NAMES.iter().enumerate() {
            let cell = &cells[at[k]];
            v[k] = cell.parse().map_err(|_| {
                format!(
                    "line {line}: {name} '{}' is not a number",
                    crate::error::one_line(cell)
                )
            })?;
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

/// The ensemble as asked for (checked by [`OuRequest::check`], from the
/// plan of `parsim ou` or, when a table or a checkpoint completes it, by
/// [`OuPlan::new`] when the run starts).
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

impl OuRequest {
    /// Every check of the request's values and sizes, without building
    /// the plan (whose parameter table is the sweep's product): the plan
    /// step of `parsim ou` makes it before any memory is spent.
    pub fn check(&self) -> Result<(), OuError> {
        let r = self;
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
        r.check_counts()?;
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
        Ok(())
    }
}

impl OuRequest {
    /// Each count on its own (paths, steps, record interval at least 1):
    /// what can be checked of a request whose sweep or other counts come
    /// from a parameter table or a checkpoint.
    pub fn check_counts(&self) -> Result<(), OuError> {
        for (name, value) in [
            ("paths", self.paths),
            ("steps", self.steps),
            ("record-every", self.record_every),
        ] {
            check::at_least(name, value, 1)?;
        }
        Ok(())
    }
}

impl OuPlan {
    /// The plan of a request that passes [`OuRequest::check`].
    pub fn new(r: &OuRequest) -> Result<Self, OuError> {
        r.check()?;
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

/// Members per group of the member kernel (`super::kernel::GroupKernel`):
/// four lanes of AVX2 registers.
pub const GROUP: usize = 4;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
