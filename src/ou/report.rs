//! What an OU run reports: per parameter set, the statistics at the end
//! against theory as z-scores; rates; phases; and the text of it.

use serde::Serialize;

use super::model::{OuParams, OuPlan};
use crate::par::Spread;
use crate::report::RunInfo;
use crate::report::Z_LIMIT;

/// Validation of one parameter set at t = steps dt.
#[derive(Debug, Clone, Serialize)]
pub struct SetReport {
    pub params: OuParams,
    pub t_end: f64,
    pub mean: f64,
    pub mean_theory: f64,
    pub variance: f64,
    pub variance_theory: f64,
    pub lag1: f64,
    pub lag1_theory: f64,
    /// z-scores; `None` where undefined (sigma = 0, or one path for the
    /// variance).
    pub z_mean: Option<f64>,
    pub z_variance: Option<f64>,
    pub z_lag1: Option<f64>,
    pub passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OuReport {
    #[serde(flatten)]
    pub run: crate::report::RunInfo,
    pub plan: OuPlan,
    pub members: u64,
    pub sets: Vec<SetReport>,
    pub passed: bool,
    /// Wall time of the computation (slowest rank), seconds.
    pub wall_time_s: f64,
    /// Member-steps (one normal draw and one update each) per second.
    pub steps_per_s: f64,
    /// The same per core: total draws over the summed compute time.
    pub normals_per_s_per_core: f64,
    pub phases: OuPhases,
    pub output: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OuPhases {
    pub compute: Spread,
    pub checkpoint: Spread,
    pub reduce: Spread,
    pub gather_io: Spread,
}

/// How a run went, measured: for the report.
pub struct Figures {
    pub ranks: usize,
    /// Wall time (slowest rank) and the compute time summed over ranks.
    pub wall: f64,
    pub busy: f64,
    pub phases: OuPhases,
}

impl OuReport {
    pub fn new(
        plan: &OuPlan,
        version: &'static str,
        f: Figures,
        sets: Vec<SetReport>,
        output: Option<String>,
    ) -> Self {
        let draws = plan.members() as f64 * plan.steps as f64;
        Self {
            run: RunInfo::new("ou", version, f.ranks),
            members: plan.members(),
            plan: plan.clone(),
            passed: sets.iter().all(|r| r.passed),
            sets,
            wall_time_s: f.wall,
            steps_per_s: draws / f.wall,
            normals_per_s_per_core: draws / f.busy,
            phases: f.phases,
            output,
        }
    }
}

/// The text report.
pub fn text(r: &OuReport) -> String {
    use std::fmt::Write as _;
    let p = &r.plan;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "parsim ou {}: Ornstein-Uhlenbeck ensemble, exact update",
        r.run.version
    );
    let _ = writeln!(
        s,
        "Ensemble         : {} parameter set(s) x {} paths = {} members, {} steps, record every {}",
        p.sets.len(),
        p.paths,
        r.members,
        p.steps,
        p.record_every
    );
    let _ = writeln!(s, "Seed             : {}", p.seed);
    let _ = writeln!(s, "Ranks            : {}", r.run.ranks);
    let shown = 10;
    for (k, set) in r.sets.iter().enumerate().take(shown) {
        let q = &set.params;
        let z = |v: Option<f64>| v.map_or("n/a".to_string(), |z| format!("{z:+.2}"));
        let _ = writeln!(
            s,
            "Set {k:3} tau={} sigma={} dt={} x0={}: at t={:.6}: mean {:.6} (theory {:.6}, z {}), \
             var {:.6} (theory {:.6}, z {}), lag-1 {:.6} (theory {:.6}, z {}): {}",
            q.tau,
            q.sigma,
            q.dt,
            q.x0,
            set.t_end,
            set.mean,
            set.mean_theory,
            z(set.z_mean),
            set.variance,
            set.variance_theory,
            z(set.z_variance),
            set.lag1,
            set.lag1_theory,
            z(set.z_lag1),
            crate::report::verdict(set.passed)
        );
    }
    if r.sets.len() > shown {
        let failed = r.sets.iter().filter(|s| !s.passed).count();
        let _ = writeln!(
            s,
            "... {} more sets; {failed} set(s) failed in all",
            r.sets.len() - shown
        );
    }
    let _ = writeln!(
        s,
        "Validation       : |z| < {Z_LIMIT} for mean, variance and lag-1 autocorrelation: {}",
        crate::report::verdict(r.passed)
    );
    let _ = writeln!(s, "Wall time        : {:.6} s", r.wall_time_s);
    let _ = writeln!(
        s,
        "Rate             : {:.4e} steps/s, {:.4e} normals/s per core",
        r.steps_per_s, r.normals_per_s_per_core
    );
    s += &crate::report::phase_table(&[
        ("compute", &r.phases.compute),
        ("checkpoints", &r.phases.checkpoint),
        ("reduce", &r.phases.reduce),
        ("gather/I-O", &r.phases.gather_io),
    ]);
    if let Some(out) = &r.output {
        let _ = writeln!(s, "Output           : {out}");
    }
    s
}
