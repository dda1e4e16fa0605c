//! The heat problem as the physics sees it: grid, material, time step,
//! initial and boundary conditions. Built only through [`HeatConfig::new`],
//! which refuses every combination the solver cannot run (zero sizes,
//! non-finite numbers, an unstable dt), so the solver never re-checks.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::source::Source;
use crate::check::{self, BadValue};

/// Initial condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// The classic training benchmark: 65 with a disk of 5, walls 20/70/85/5.
    Disk,
    /// sin(pi x/Lx) sin(pi y/Ly) with zero walls: the exactly solvable case.
    Sine,
}

impl Init {
    pub fn name(self) -> &'static str {
        match self {
            Init::Disk => "disk",
            Init::Sine => "sine",
        }
    }

    /// Wall values the initial condition is defined with.
    pub fn default_boundaries(self) -> Boundaries {
        match self {
            Init::Disk => Boundaries {
                left: 20.0,
                right: 70.0,
                bottom: 5.0,
                top: 85.0,
            },
            Init::Sine => Boundaries {
                left: 0.0,
                right: 0.0,
                bottom: 0.0,
                top: 0.0,
            },
        }
    }
}

/// Fixed (Dirichlet) wall temperatures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Boundaries {
    pub left: f64,
    pub right: f64,
    pub bottom: f64,
    pub top: f64,
}

impl Boundaries {
    pub fn min(&self) -> f64 {
        self.left.min(self.right).min(self.bottom).min(self.top)
    }

    pub fn max(&self) -> f64 {
        self.left.max(self.right).max(self.bottom).max(self.top)
    }
}

/// Defaults of the options a user may leave out (the classic benchmark).
pub const DEFAULT_N: usize = 2000;
pub const DEFAULT_D: f64 = 0.01;
pub const DEFAULT_ALPHA: f64 = 0.5;
pub const DEFAULT_STEPS: u64 = 500;

/// What a user asked for, before validation. `None` means "not given":
/// a default applies, or on restart the checkpoint's value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HeatRequest {
    pub nx: Option<usize>,
    pub ny: Option<usize>,
    pub dx: Option<f64>,
    pub dy: Option<f64>,
    pub alpha: Option<f64>,
    pub dt: Option<f64>,
    pub steps: Option<u64>,
    pub init: Option<Init>,
    pub left: Option<f64>,
    pub right: Option<f64>,
    pub bottom: Option<f64>,
    pub top: Option<f64>,
    /// Accept a dt above the stability limit (to study blow-up).
    pub allow_unstable: bool,
    /// `--source`: S(x, y, t) added to the equation ([`super::source`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Why a heat problem cannot be run.
#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error(transparent)]
    Value(#[from] BadValue),
    #[error(
        "--dt {dt} is unstable: the explicit scheme needs dt <= {limit} \
         (dx^2 dy^2 / (2 alpha (dx^2 + dy^2)))"
    )]
    Unstable { dt: f64, limit: f64 },
    #[error(
        "--dx {dx:?}, --dy {dy:?}, --alpha {alpha:?} leave no stable time step \
         (dx^2 dy^2 / (2 alpha (dx^2 + dy^2)) = {limit:?} in floating point)"
    )]
    NoStableStep {
        dx: f64,
        dy: f64,
        alpha: f64,
        limit: f64,
    },
    #[error("grid {nx}x{ny} has more cells than this machine can address")]
    TooLarge { nx: usize, ny: usize },
    /// A `--source` that does not parse (the line says which and why).
    #[error("{0}")]
    Source(String),
}

/// A runnable heat problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeatConfig {
    pub nx: usize,
    pub ny: usize,
    pub dx: f64,
    pub dy: f64,
    pub alpha: f64,
    pub dt: f64,
    pub steps: u64,
    pub init: Init,
    pub boundaries: Boundaries,
    /// The source term, if any (absent from the report without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// A request with its defaults filled in.
struct Resolved {
    nx: usize,
    ny: usize,
    dx: f64,
    dy: f64,
    alpha: f64,
    steps: u64,
    init: Init,
}

/// Largest stable time step of the explicit 5-point scheme:
/// alpha dt (1/dx^2 + 1/dy^2) <= 1/2.
pub fn stable_dt(dx: f64, dy: f64, alpha: f64) -> f64 {
    let (dx2, dy2) = (dx * dx, dy * dy);
    dx2 * dy2 / (2.0 * alpha * (dx2 + dy2))
}

/// True when `dt` is past the stability `limit`. Why a slack of 1e-12: the
/// limit is computed with four roundings, so the decimal a user writes for
/// the exact limit can be an ulp above the computed one (dx = dy = 0.01,
/// alpha = 0.5: the limit is 5e-5, computed as 4.9999999999999996e-05); a
/// relative excess that small cannot make the scheme grow.
fn beyond(dt: f64, limit: f64) -> bool {
    dt > limit * (1.0 + 1e-12)
}

impl HeatConfig {
    pub fn new(req: &HeatRequest) -> Result<Self, ConfigError> {
        let r = Resolved {
            nx: req.nx.unwrap_or(DEFAULT_N),
            ny: req.ny.unwrap_or(DEFAULT_N),
            dx: req.dx.unwrap_or(DEFAULT_D),
            dy: req.dy.unwrap_or(DEFAULT_D),
            alpha: req.alpha.unwrap_or(DEFAULT_ALPHA),
            steps: req.steps.unwrap_or(DEFAULT_STEPS),
            init: req.init.unwrap_or(Init::Disk),
        };
        for (name, value) in [("nx", r.nx), ("ny", r.ny)] {
            check::at_least(name, value as u64, 1)?;
        }
        // Two buffers of (nx+2)(ny+2) f64 must be addressable in bytes.
        let cells = (r.nx.checked_add(2))
            .zip(r.ny.checked_add(2))
            .and_then(|(x, y)| x.checked_mul(y))
            .and_then(|c| c.checked_mul(16));
        if cells.is_none_or(|b| b > isize::MAX as usize) {
            return Err(ConfigError::TooLarge { nx: r.nx, ny: r.ny });
        }
        for (name, value) in [("dx", r.dx), ("dy", r.dy), ("alpha", r.alpha)] {
            check::positive(name, value)?;
        }
        let limit = stable_dt(r.dx, r.dy, r.alpha);
        if !(limit.is_finite() && limit > 0.0) {
            return Err(ConfigError::NoStableStep {
                dx: r.dx,
                dy: r.dy,
                alpha: r.alpha,
                limit,
            });
        }
        let dt = match req.dt.map(|dt| check::positive("dt", dt)).transpose()? {
            None => limit,
            Some(dt) if beyond(dt, limit) && !req.allow_unstable => {
                return Err(ConfigError::Unstable { dt, limit })
            }
            Some(dt) => dt,
        };
        let d = r.init.default_boundaries();
        let boundaries = Boundaries {
            left: req.left.unwrap_or(d.left),
            right: req.right.unwrap_or(d.right),
            bottom: req.bottom.unwrap_or(d.bottom),
            top: req.top.unwrap_or(d.top),
        };
        for (name, value) in [
            ("bc-left", boundaries.left),
            ("bc-right", boundaries.right),
            ("bc-bottom", boundaries.bottom),
            ("bc-top", boundaries.top),
        ] {
            check::finite(name, value)?;
        }
        let source = (req.source.as_deref().map(Source::parse))
            .transpose()
            .map_err(ConfigError::Source)?;
        Ok(Self {
            nx: r.nx,
            ny: r.ny,
            dx: r.dx,
            dy: r.dy,
            alpha: r.alpha,
            dt,
            steps: r.steps,
            init: r.init,
            boundaries,
            source,
        })
    }

    /// True when dt is above the stability limit (only with allow_unstable).
    pub fn is_unstable(&self) -> bool {
        beyond(self.dt, stable_dt(self.dx, self.dy, self.alpha))
    }

    /// Stencil coefficients `(alpha dt / dx^2, alpha dt / dy^2)`.
    pub fn coefficients(&self) -> (f64, f64) {
        (
            self.alpha * self.dt / (self.dx * self.dx),
            self.alpha * self.dt / (self.dy * self.dy),
        )
    }

    /// Simulated time at the end of the run.
    pub fn end_time(&self) -> f64 {
        self.steps as f64 * self.dt
    }

    /// The simulated time at `step` as files and reports label it (see
    /// [`crate::h5::time_label`]; the default dt, 5e-5, is computed as
    /// 4.9999999999999996e-05). The solver and the exact solution use the
    /// product itself.
    pub fn time_label(&self, step: u64) -> f64 {
        crate::h5::time_label(step, self.dt)
    }

    /// Domain lengths: the walls sit at 0 and (n+1) d.
    pub fn lengths(&self) -> (f64, f64) {
        (
            (self.nx + 1) as f64 * self.dx,
            (self.ny + 1) as f64 * self.dy,
        )
    }

    /// True when the `sine` exact solution applies (zero walls).
    pub fn has_exact_solution(&self) -> bool {
        let b = self.boundaries;
        self.init == Init::Sine
            && [b.left, b.right, b.bottom, b.top].iter().all(|&v| v == 0.0)
            && self.source.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> HeatRequest {
        HeatRequest {
            nx: Some(10),
            ny: Some(8),
            steps: Some(5),
            ..HeatRequest::default()
        }
    }

    #[test]
    fn time_labels_are_the_decimals_users_type() {
        let c = HeatConfig::new(&HeatRequest::default()).unwrap();
        assert_eq!(100.0 * c.dt, 0.004999999999999999, "the product misses");
        assert_eq!(c.time_label(100), 0.005);
        assert_eq!(c.time_label(0), 0.0);
        for step in [1, 3, 7, 12_345, u32::MAX as u64] {
            let (t, label) = (step as f64 * c.dt, c.time_label(step));
            assert!((label - t).abs() <= 1e-15 * t, "{step}: {label} vs {t}");
        }
        let c = HeatConfig::new(&HeatRequest {
            dt: Some(5e-5),
            ..HeatRequest::default()
        })
        .unwrap();
        assert_eq!(3.0 * c.dt, 0.00015000000000000001, "the product misses");
        assert_eq!(c.time_label(3), 0.00015);
    }

    #[test]
    fn default_dt_is_the_stability_limit() {
        let c = HeatConfig::new(&request()).unwrap();
        assert_eq!(c.dt, 0.0001 * 0.0001 / (2.0 * 0.5 * 0.0002));
        let (cx, cy) = c.coefficients();
        assert!((c.alpha * c.dt * (1.0 / (c.dx * c.dx) + 1.0 / (c.dy * c.dy)) - 0.5).abs() < 1e-15);
        assert!((cx - 0.25).abs() < 1e-15 && (cy - 0.25).abs() < 1e-15);
    }

    #[test]
    fn explicit_dt_at_limit_accepted_above_refused() {
        let limit = stable_dt(0.01, 0.01, 0.5);
        let mut r = request();
        r.dt = Some(limit);
        assert!(HeatConfig::new(&r).is_ok());
        r.dt = Some(5e-5);
        assert!(limit < 5e-5, "the exact limit's decimal, an ulp above");
        assert!(!HeatConfig::new(&r).unwrap().is_unstable());
        r.dt = Some(limit * 1.0001);
        let err = HeatConfig::new(&r).unwrap_err();
        assert!(matches!(err, ConfigError::Unstable { .. }));
        assert!(err.to_string().contains(&limit.to_string()), "{err}");
        r.allow_unstable = true;
        assert!(HeatConfig::new(&r).unwrap().is_unstable());
    }

    #[test]
    fn bad_values_refused() {
        let cases: [fn(&mut HeatRequest); 9] = [
            |r| r.nx = Some(0),
            |r| r.ny = Some(0),
            |r| r.dx = Some(0.0),
            |r| r.dy = Some(-1.0),
            |r| r.alpha = Some(f64::NAN),
            |r| r.dt = Some(0.0),
            |r| r.dt = Some(f64::INFINITY),
            |r| r.top = Some(f64::NAN),
            |r| r.nx = Some(usize::MAX / 2),
        ];
        crate::check::assert_each_refused(request, &cases, HeatConfig::new);
    }

    #[test]
    fn boundaries_default_per_init_and_override() {
        let mut r = request();
        r.left = Some(1.5);
        let c = HeatConfig::new(&r).unwrap();
        assert_eq!(c.boundaries.left, 1.5);
        assert_eq!(c.boundaries.top, 85.0);
        r.init = Some(Init::Sine);
        r.left = None;
        let c = HeatConfig::new(&r).unwrap();
        assert!(c.has_exact_solution());
        r.top = Some(1.0);
        assert!(!HeatConfig::new(&r).unwrap().has_exact_solution());
    }
}
