//! The heat problem as the physics sees it: grid, material, time step,
//! initial and boundary conditions. Built only through [`HeatConfig::new`],
//! which refuses every combination the solver cannot run (zero sizes,
//! non-finite numbers, an unstable dt), so the solver never re-checks.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::source::Source;
use crate::check::{self, BadValue};

/// Initial condition: a built-in one, a field read from a file, or an
/// expression in x and y. Stored (files, reports, decks) as the text it
/// was given as, so a built-in one reads "disk" as it always did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Init {
    /// The classic training benchmark: 65 with a disk of 5, walls 20/70/85/5.
    Disk,
    /// sin(pi x/Lx) sin(pi y/Ly) with zero walls: the exactly solvable case.
    Sine,
    /// A field [ny, nx] of f64 or f32 from a file (`super::field_file`).
    File(InitFile),
    /// An expression in x and y, evaluated at each cell's centre.
    Expr(String),
}

/// Where an initial field is read from: a `.npy` file, or a dataset of an
/// HDF5 file (`FILE.h5:/path`; `/heat/temperature`, a parsim heat
/// result's field, when only the file is named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitFile {
    /// As given: what files and reports record.
    pub text: String,
    pub path: std::path::PathBuf,
    /// The HDF5 dataset; `None` for a `.npy` file.
    pub dataset: Option<String>,
}

/// The dataset `--init FILE.h5` reads: a parsim heat result's field.
pub const DEFAULT_DATASET: &str = "/heat/temperature";

impl InitFile {
    /// `FILE.npy`, `FILE.h5`, `FILE.h5:/dataset` (also `.hdf5`), or `None`
    /// for text that names no such file.
    pub fn parse(s: &str) -> Option<Self> {
        let lower = s.to_ascii_lowercase();
        let h5 = |name: &str| name.ends_with(".h5") || name.ends_with(".hdf5");
        let (path, dataset) = match s.split_once(":/") {
            Some((file, path)) if h5(&file.to_ascii_lowercase()) => {
                (file, Some(format!("/{path}")))
            }
            _ if h5(&lower) => (s, Some(DEFAULT_DATASET.to_string())),
            _ if lower.ends_with(".npy") => (s, None),
            _ => return None,
        };
        Some(Self {
            text: s.to_string(),
            path: path.into(),
            dataset,
        })
    }

    /// As messages name it: `f.npy`, `r.h5:/heat/temperature`.
    pub fn shown(&self) -> String {
        match &self.dataset {
            Some(d) => format!("{}:{d}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

impl std::str::FromStr for Init {
    type Err = String;

    /// `disk`, `sine`, a field file, or else an expression in x and y
    /// (checked when the plan is made).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "disk" => Ok(Self::Disk),
            "sine" => Ok(Self::Sine),
            "" => Err(
                "expected disk, sine, FILE.npy, FILE.h5[:/DATASET] or an expression in x and y"
                    .into(),
            ),
            t => Ok(InitFile::parse(t).map_or_else(|| Self::Expr(t.to_string()), Self::File)),
        }
    }
}

impl From<Init> for String {
    fn from(i: Init) -> String {
        i.name().to_string()
    }
}

impl TryFrom<String> for Init {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl Init {
    /// The text it was given as.
    pub fn name(&self) -> &str {
        match self {
            Init::Disk => "disk",
            Init::Sine => "sine",
            Init::File(f) => &f.text,
            Init::Expr(e) => e,
        }
    }

    /// The file it reads, if any.
    pub fn file(&self) -> Option<&InitFile> {
        match self {
            Init::File(f) => Some(f),
            _ => None,
        }
    }

    /// Wall values the initial condition is defined with (0 for a
    /// field of the user's).
    pub fn default_boundaries(&self) -> Boundaries {
        let v = |l, r, b, t| Boundaries {
            left: Wall::Value(l),
            right: Wall::Value(r),
            bottom: Wall::Value(b),
            top: Wall::Value(t),
        };
        match self {
            Init::Disk => v(20.0, 70.0, 5.0, 85.0),
            Init::Sine | Init::File(_) | Init::Expr(_) => v(0.0, 0.0, 0.0, 0.0),
        }
    }
}

/// What one wall holds its ghost cells at. The ghosts sit half a cell
/// outside the first row or column of cells (cell centres at x = (i+1) dx,
/// ghosts at x = 0 and (nx+1) dx).
#[derive(Debug, Clone, PartialEq)]
pub enum Wall {
    /// A fixed temperature (Dirichlet), in every ghost layer.
    Value(f64),
    /// Zero flux (Neumann): each ghost holds the cell next to it, refreshed
    /// every step, so nothing crosses the face between them and the total
    /// heat is conserved to rounding. The wall lies half a cell outside the
    /// first cell (at x = dx/2 on the left, not at x = 0).
    Insulated,
    /// Joined to the opposite wall (`--bc-x periodic` / `--bc-y periodic`):
    /// the ghosts are the other side's cells, brought by the halo exchange.
    Periodic,
    /// A temperature given by an expression in the position along the wall
    /// (x on bottom and top, y on left and right) and t, evaluated at each
    /// ghost cell at t_n = n dt, refreshed every step.
    Expr(String),
}

impl Wall {
    /// The fixed value, for a value wall.
    pub fn value(&self) -> Option<f64> {
        match self {
            Wall::Value(v) => Some(*v),
            _ => None,
        }
    }

    /// The word a file or a report names the wall's kind by.
    pub fn kind(&self) -> &'static str {
        match self {
            Wall::Value(_) => "value",
            Wall::Insulated => "insulated",
            Wall::Periodic => "periodic",
            Wall::Expr(_) => "expression",
        }
    }
}

/// `--bc-left 20`, `insulated`, `periodic` (refused by the config unless on
/// both sides of an axis) or an expression; a number parses exactly as
/// clap's f64 parser did, so `--bc-left 20` keeps its bits.
impl std::str::FromStr for Wall {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        // Spaces around a number (a deck's or script's quoting) keep it
        // a value wall, not an expression of a constant.
        if let Ok(v) = s.trim().parse::<f64>() {
            return Ok(Wall::Value(v));
        }
        match s.trim() {
            "insulated" => Ok(Wall::Insulated),
            "periodic" => Ok(Wall::Periodic),
            // An option's name where the value should be (`--bc-left
            // --steps 3`): said as clap says it of a number.
            e if e.is_empty() || e.starts_with("--") => Err(format!(
                "expected a temperature, 'insulated' or an expression, got '{e}'"
            )),
            e => Ok(Wall::Expr(e.to_string())),
        }
    }
}

impl std::fmt::Display for Wall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wall::Value(v) => write!(f, "{v}"),
            Wall::Expr(e) => write!(f, "{e}"),
            w => f.write_str(w.kind()),
        }
    }
}

/// A value wall serialises as its number (as the plain f64 did: reports
/// and checkpoints of value walls keep their bytes), insulated and
/// periodic as their word, an expression as `{"expression": "..."}`.
impl Serialize for Wall {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Wall::Value(v) => s.serialize_f64(*v),
            Wall::Expr(e) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("expression", e)?;
                m.end()
            }
            w => s.serialize_str(w.kind()),
        }
    }
}

/// The forms [`Wall`] serialises to.
#[derive(Deserialize)]
#[serde(untagged)]
enum WallForm {
    Value(f64),
    Word(String),
    Expr { expression: String },
}

impl<'de> Deserialize<'de> for Wall {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match WallForm::deserialize(d)? {
            WallForm::Value(v) => Ok(Wall::Value(v)),
            WallForm::Word(w) if w == "insulated" => Ok(Wall::Insulated),
            WallForm::Word(w) if w == "periodic" => Ok(Wall::Periodic),
            WallForm::Word(w) => Err(serde::de::Error::custom(format!("unknown wall '{w}'"))),
            WallForm::Expr { expression } => Ok(Wall::Expr(expression)),
        }
    }
}

/// The four walls. Periodic comes in pairs: left and right both, or
/// bottom and top both ([`HeatConfig::new`] refuses one alone).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Boundaries {
    pub left: Wall,
    pub right: Wall,
    pub bottom: Wall,
    pub top: Wall,
}

impl Boundaries {
    /// Left, right, bottom, top with the option names that set them.
    pub fn sides(&self) -> [(&'static str, &Wall); 4] {
        [
            ("left", &self.left),
            ("right", &self.right),
            ("bottom", &self.bottom),
            ("top", &self.top),
        ]
    }

    /// The smallest and largest fixed wall value (the maximum principle's
    /// range from the walls): `None` when an expression wall's values are
    /// unknown; `[inf, -inf]` (no effect) without value walls.
    pub fn value_range(&self) -> Option<[f64; 2]> {
        value_range(self.sides().iter().map(|(_, w)| *w))
    }

    /// Left and right joined.
    pub fn periodic_x(&self) -> bool {
        self.left == Wall::Periodic
    }

    /// Bottom and top joined.
    pub fn periodic_y(&self) -> bool {
        self.bottom == Wall::Periodic
    }

    /// True when every wall is a value or periodic: the ghosts never change
    /// but by the halo exchange (the time-blocked sweep carries them).
    pub fn are_fixed(&self) -> bool {
        (self.sides().iter()).all(|(_, w)| matches!(w, Wall::Value(_) | Wall::Periodic))
    }

    /// True when no heat crosses any wall (insulated or periodic): the
    /// total is conserved.
    pub fn conserve_heat(&self) -> bool {
        conserve_heat(self.sides().iter().map(|(_, w)| *w))
    }
}

/// The smallest and largest fixed value of `walls` (the maximum
/// principle's range from the walls): `None` when an expression wall's
/// values are unknown; `[inf, -inf]` (no effect) without value walls.
/// The rule of 2D's four walls and 3D's six.
pub fn value_range<'a>(walls: impl Iterator<Item = &'a Wall>) -> Option<[f64; 2]> {
    let mut range = [f64::INFINITY, f64::NEG_INFINITY];
    for w in walls {
        match w {
            Wall::Value(v) => range = [range[0].min(*v), range[1].max(*v)],
            Wall::Expr(_) => return None,
            Wall::Insulated | Wall::Periodic => {}
        }
    }
    Some(range)
}

/// True when no heat crosses any of `walls` (insulated or periodic).
pub fn conserve_heat<'a>(mut walls: impl Iterator<Item = &'a Wall>) -> bool {
    walls.all(|w| matches!(w, Wall::Insulated | Wall::Periodic))
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
    pub left: Option<Wall>,
    pub right: Option<Wall>,
    pub bottom: Option<Wall>,
    pub top: Option<Wall>,
    /// `--bc-x periodic`: left and right joined.
    #[serde(default, skip_serializing_if = "is_false")]
    pub periodic_x: bool,
    /// `--bc-y periodic`: bottom and top joined.
    #[serde(default, skip_serializing_if = "is_false")]
    pub periodic_y: bool,
    /// Accept a dt above the stability limit (to study blow-up).
    pub allow_unstable: bool,
    /// `--source`: S(x, y, t) added to the equation ([`super::source`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `--exact`: u(x, y, t), from which the initial field, the walls and
    /// the source are derived ([`super::manufactured`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
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
    #[error(
        "--bc-{axis} periodic joins the {a} and {b} walls: leave out --bc-{side} (periodic on \
         one axis takes both its walls)"
    )]
    PeriodicAndWall {
        axis: &'static str,
        a: &'static str,
        b: &'static str,
        side: &'static str,
    },
    #[error(
        "--bc-{side} periodic: a wall is periodic only with the opposite one; give --bc-{axis} \
         periodic (joins the {a} and {b} walls)"
    )]
    OneSidedPeriodic {
        side: &'static str,
        axis: &'static str,
        a: &'static str,
        b: &'static str,
    },
    #[error("--bc-{side} '{expr}': {why}")]
    BadWallExpr {
        side: &'static str,
        expr: String,
        why: String,
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
    /// The manufactured solution the problem was derived from (`--exact`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<super::manufactured::Manufactured>,
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
pub(super) fn beyond(dt: f64, limit: f64) -> bool {
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
            init: req.init.clone().unwrap_or(Init::Disk),
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
        let boundaries = walls(req, &r.init)?;
        let source = (req.source.as_deref().map(Source::parse))
            .transpose()
            .map_err(ConfigError::Source)?;
        let (boundaries, source, exact) = match req.exact.as_deref() {
            None => (boundaries, source, None),
            Some(text) => {
                let lengths = ((r.nx + 1) as f64 * r.dx, (r.ny + 1) as f64 * r.dy);
                let d = super::manufactured::derive(text, r.alpha, lengths)
                    .map_err(ConfigError::Source)?;
                let mut walls = d.walls.into_iter().map(Wall::Expr);
                let mut next = || walls.next().expect("four walls in 2D");
                let [left, right, bottom, top] = [next(), next(), next(), next()];
                let b = Boundaries {
                    left,
                    right,
                    bottom,
                    top,
                };
                (b, Some(d.source), Some(d.exact))
            }
        };
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
            exact,
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

    /// Domain lengths: the walls sit at 0 and (n+1) d; along a periodic
    /// axis the period, n d (cells at (i+1) d, the last one's neighbour the
    /// first).
    pub fn lengths(&self) -> (f64, f64) {
        let b = &self.boundaries;
        let length = |n: usize, d: f64, periodic: bool| {
            if periodic {
                n as f64 * d
            } else {
                (n + 1) as f64 * d
            }
        };
        (
            length(self.nx, self.dx, b.periodic_x()),
            length(self.ny, self.dy, b.periodic_y()),
        )
    }

    /// True when the `sine` exact solution applies (zero or periodic walls).
    pub fn has_exact_solution(&self) -> bool {
        let zero = |w: &Wall| matches!(w, Wall::Value(v) if *v == 0.0) || *w == Wall::Periodic;
        self.init == Init::Sine
            && self.boundaries.sides().iter().all(|(_, w)| zero(w))
            && self.source.is_none()
    }
}

/// The walls asked for, defaults filled in from `init`, each checked:
/// values finite, periodic in pairs (and not with a wall on its axis),
/// expressions in their variables.
fn walls(req: &HeatRequest, init: &Init) -> Result<Boundaries, ConfigError> {
    let d = init.default_boundaries();
    let (left, right) = periodic_pair(
        req.periodic_x,
        ("left", &req.left),
        ("right", &req.right),
        "x",
    )?;
    let (bottom, top) = periodic_pair(
        req.periodic_y,
        ("bottom", &req.bottom),
        ("top", &req.top),
        "y",
    )?;
    let walls = Boundaries {
        left: left.unwrap_or(d.left),
        right: right.unwrap_or(d.right),
        bottom: bottom.unwrap_or(d.bottom),
        top: top.unwrap_or(d.top),
    };
    for (side, wall) in walls.sides() {
        match wall {
            Wall::Value(v) => {
                check::finite(option_name(side), *v)?;
            }
            Wall::Expr(e) => {
                compile_wall(side, e)
                    .map(|_| ())
                    .map_err(|why| ConfigError::BadWallExpr {
                        side,
                        expr: e.clone(),
                        why,
                    })?
            }
            Wall::Insulated | Wall::Periodic => {}
        }
    }
    Ok(walls)
}

/// The two walls of one axis, `(a, wa)` and `(b, wb)` by side name, as
/// given: both periodic when `periodic` (`--bc-{name} periodic`; refused
/// with a wall of another kind on that axis), else as given, a periodic
/// one refused without the other. 2D's and 3D's axes alike.
pub fn periodic_pair(
    periodic: bool,
    (a, wa): (&'static str, &Option<Wall>),
    (b, wb): (&'static str, &Option<Wall>),
    name: &'static str,
) -> Result<(Option<Wall>, Option<Wall>), ConfigError> {
    let pair = [(a, wa), (b, wb)];
    if periodic {
        if let Some((side, _)) = pair
            .iter()
            .find(|(_, w)| w.as_ref().is_some_and(|w| *w != Wall::Periodic))
        {
            return Err(ConfigError::PeriodicAndWall {
                axis: name,
                a,
                b,
                side,
            });
        }
        return Ok((Some(Wall::Periodic), Some(Wall::Periodic)));
    }
    let is_p = |w: &Option<Wall>| *w == Some(Wall::Periodic);
    if is_p(wa) != is_p(wb) {
        let side = if is_p(wa) { a } else { b };
        return Err(ConfigError::OneSidedPeriodic {
            side,
            axis: name,
            a,
            b,
        });
    }
    Ok((wa.clone(), wb.clone()))
}

/// A wall's value at (position along the wall, t): a compiled expression.
pub type WallFn = Box<dyn Fn(f64, f64) -> f64 + Send + Sync>;

/// The expression `e` of the wall on `side` as a function of (position
/// along the wall, t): x on bottom and top, y on left and right.
pub fn compile_wall(side: &str, e: &str) -> Result<WallFn, String> {
    let along = match side {
        "left" | "right" => "y",
        _ => "x",
    };
    let program = wall_program(e, &[along])?;
    Ok(Box::new(move |s, t| program.eval_at(&[s, t])))
}

/// A wall's expression `e` compiled in the coordinates `along` the wall
/// (one in 2D, two in 3D) and t, in that order.
pub fn wall_program(e: &str, along: &[&str]) -> Result<crate::expr::Program, String> {
    let mut vars = along.to_vec();
    vars.push("t");
    let tree = crate::expr::parse(e, &vars)?;
    Ok(crate::expr::Program::new(&tree))
}

/// The option that sets the wall on `side`.
fn option_name(side: &str) -> &'static str {
    match side {
        "left" => "bc-left",
        "right" => "bc-right",
        "bottom" => "bc-bottom",
        _ => "bc-top",
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
            |r| r.top = Some(Wall::Value(f64::NAN)),
            |r| r.nx = Some(usize::MAX / 2),
        ];
        crate::check::assert_each_refused(request, &cases, HeatConfig::new);
    }

    #[test]
    fn boundaries_default_per_init_and_override() {
        let mut r = request();
        r.left = Some(Wall::Value(1.5));
        let c = HeatConfig::new(&r).unwrap();
        assert_eq!(c.boundaries.left, Wall::Value(1.5));
        assert_eq!(c.boundaries.top, Wall::Value(85.0));
        r.init = Some(Init::Sine);
        r.left = None;
        let c = HeatConfig::new(&r).unwrap();
        assert!(c.has_exact_solution());
        r.top = Some(Wall::Value(1.0));
        assert!(!HeatConfig::new(&r).unwrap().has_exact_solution());
    }

    #[test]
    fn walls_parse_as_before_and_periodic_comes_in_pairs() {
        let wall = |s: &str| s.parse::<Wall>().unwrap();
        assert_eq!(wall("20"), Wall::Value(20.0));
        assert_eq!(wall("-1.5e1"), Wall::Value(-15.0));
        assert_eq!(wall(" 7 "), Wall::Value(7.0));
        assert!("--steps".parse::<Wall>().is_err() && "".parse::<Wall>().is_err());
        assert_eq!(wall("insulated"), Wall::Insulated);
        assert_eq!(wall("sin(t)"), Wall::Expr("sin(t)".into()));
        let json = |w: &Wall| serde_json::to_string(w).unwrap();
        assert_eq!(
            json(&Wall::Value(20.0)),
            "20.0",
            "a value wall's bytes as an f64's"
        );
        for w in [
            Wall::Value(0.5),
            Wall::Insulated,
            Wall::Periodic,
            wall("x*t"),
        ] {
            assert_eq!(serde_json::from_str::<Wall>(&json(&w)).unwrap(), w);
        }
        let mut r = request();
        r.periodic_x = true;
        let c = HeatConfig::new(&r).unwrap();
        assert!(c.boundaries.periodic_x() && !c.boundaries.periodic_y());
        assert_eq!(c.lengths().0, 10.0 * 0.01);
        r.right = Some(Wall::Value(3.0));
        let e = HeatConfig::new(&r).unwrap_err().to_string();
        assert!(
            e.starts_with("--bc-x periodic joins the left and right walls: leave out --bc-right"),
            "{e}"
        );
        let mut r = request();
        r.top = Some(Wall::Periodic);
        let e = HeatConfig::new(&r).unwrap_err().to_string();
        assert!(
            e.starts_with("--bc-top periodic: a wall is periodic only"),
            "{e}"
        );
        r.bottom = Some(Wall::Periodic);
        assert!(HeatConfig::new(&r).unwrap().boundaries.periodic_y());
        r.left = Some(Wall::Insulated);
        r.right = Some(Wall::Insulated);
        assert!(HeatConfig::new(&r).unwrap().boundaries.conserve_heat());
    }
}
