//! A 3D heat run as asked ([`Request3d`], from the command line) and as it
//! will run on these ranks ([`Start3d`]: the checked problem, the process
//! grid, the decomposition). Everything is checked here, once and alike
//! on every rank, so a `--dry-run` refuses exactly what a run refuses.
//!
//! The stability limit of the explicit 7-point scheme: a step multiplies
//! the mode of wave numbers (kx, ky, kz) by
//! `1 - 4 cx sin^2(kx dx/2) - 4 cy sin^2(ky dy/2) - 4 cz sin^2(kz dz/2)`
//! (`c = alpha dt / d^2` per axis; [`super::kernel3d::discrete_growth`]),
//! whose most negative value, `1 - 4 (cx + cy + cz)`, stays >= -1 when
//! `alpha dt (1/dx^2 + 1/dy^2 + 1/dz^2) <= 1/2`: `dx^2 / (6 alpha)` for
//! equal spacing, and the 2D limit's form with a third term.

use serde::Serialize;

use super::config::{HeatRequest, Init, Wall};
use super::decomp3d::{Decomp3Error, Decomposition3, ProcGrid3};
use super::manufactured::Manufactured;
use super::meta::{CheckpointMeta, DepthRequest};
use super::source::{Source, VARS3};
use super::walls3d::Walls3;
use crate::cache::CacheShare;
use crate::check;
use crate::error::{Failure, Outcome};

/// What a user asked of a 3D run; `None`: the default.
#[derive(Debug, Clone, Default)]
pub struct Request3d {
    pub n: [Option<usize>; 3],
    pub d: [Option<f64>; 3],
    pub alpha: Option<f64>,
    pub dt: Option<f64>,
    pub steps: Option<u64>,
    pub init: Option<Init>,
    /// Left, right, bottom, top, front, back (x low, x high, y low, y
    /// high, z low, z high).
    pub walls: [Option<Wall>; 6],
    /// `--bc-x/--bc-y/--bc-z periodic`.
    pub periodic: [bool; 3],
    pub allow_unstable: bool,
    /// `--source`, in x, y, z and t.
    pub source: Option<String>,
    /// `--exact`, u(x, y, z, t).
    pub exact: Option<String>,
}

impl Request3d {
    /// The request of a run continuing checkpoint `m`: its values, each
    /// one given here as the checkpoint has it, `steps` (the total) free
    /// (2D's [`CheckpointMeta::merge`], with the third axis); a 2D
    /// checkpoint is refused.
    pub fn resumed(&self, m: &CheckpointMeta) -> Outcome<Self> {
        let w = &self.walls;
        let plane = HeatRequest {
            nx: self.n[0],
            ny: self.n[1],
            dx: self.d[0],
            dy: self.d[1],
            alpha: self.alpha,
            dt: self.dt,
            steps: self.steps,
            init: self.init.clone(),
            left: w[0].clone(),
            right: w[1].clone(),
            bottom: w[2].clone(),
            top: w[3].clone(),
            periodic_x: self.periodic[0],
            periodic_y: self.periodic[1],
            allow_unstable: self.allow_unstable,
            source: self.source.clone(),
            exact: self.exact.clone(),
        };
        let z = DepthRequest {
            nz: self.n[2],
            dz: self.d[2],
            front: w[4].clone(),
            back: w[5].clone(),
            periodic: self.periodic[2],
        };
        let (p, z) = m.merge3(&plane, &z)?;
        Ok(Self {
            n: [p.nx, p.ny, Some(z.nz)],
            d: [p.dx, p.dy, Some(z.dz)],
            alpha: p.alpha,
            dt: p.dt,
            steps: p.steps,
            init: p.init,
            walls: [
                p.left,
                p.right,
                p.bottom,
                p.top,
                Some(z.front),
                Some(z.back),
            ],
            // Periodic walls are in `walls`, as the file has them.
            periodic: [false; 3],
            allow_unstable: p.allow_unstable,
            source: p.source,
            exact: p.exact,
        })
    }
}

/// A runnable 3D problem (the report's `config`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config3d {
    pub nx: usize,
    pub ny: usize,
    pub nz: usize,
    pub dx: f64,
    pub dy: f64,
    pub dz: f64,
    pub alpha: f64,
    pub dt: f64,
    pub steps: u64,
    pub init: Init,
    pub walls: Walls3,
    /// The source term, if any (absent from the report without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// The manufactured solution the problem was derived from (`--exact`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<Manufactured>,
}

/// Largest stable dt of the explicit 7-point scheme (see the module's
/// documentation): `1 / (2 alpha (1/dx^2 + 1/dy^2 + 1/dz^2))`.
pub fn stable_dt3(dx: f64, dy: f64, dz: f64, alpha: f64) -> f64 {
    1.0 / (2.0 * alpha * (1.0 / (dx * dx) + 1.0 / (dy * dy) + 1.0 / (dz * dz)))
}

/// Defaults of a 3D run: a grid of 200^3 (8e6 cells, as 2D's 2000^2 is
/// 4e6) with 2D's spacing, diffusivity and steps.
pub const DEFAULT_N3: usize = 200;

impl Config3d {
    /// The problem, every value checked; the error is the one line said.
    pub fn new(req: &Request3d) -> Result<Self, String> {
        let names = ["nx", "ny", "nz"];
        let mut n = [0; 3];
        for a in 0..3 {
            n[a] = req.n[a].unwrap_or(DEFAULT_N3);
            check::at_least(names[a], n[a] as u64, 1).map_err(|e| e.to_string())?;
        }
        // Two fields of (n+2)^3 f64 must be addressable in bytes.
        let bytes = n
            .iter()
            .try_fold(16usize, |b, &m| b.checked_mul(m.checked_add(2)?));
        if bytes.is_none_or(|b| b > isize::MAX as usize) {
            return Err(format!(
                "grid {}x{}x{} has more cells than this machine can address",
                n[0], n[1], n[2]
            ));
        }
        let d = req.d.map(|d| d.unwrap_or(super::config::DEFAULT_D));
        let alpha = req.alpha.unwrap_or(super::config::DEFAULT_ALPHA);
        for (name, v) in [("dx", d[0]), ("dy", d[1]), ("dz", d[2]), ("alpha", alpha)] {
            check::positive(name, v).map_err(|e| e.to_string())?;
        }
        let limit = stable_dt3(d[0], d[1], d[2], alpha);
        if !(limit.is_finite() && limit > 0.0) {
            return Err(format!(
                "--dx {:?}, --dy {:?}, --dz {:?}, --alpha {alpha:?} leave no stable time step \
                 ({limit:?} in floating point)",
                d[0], d[1], d[2]
            ));
        }
        let dt = match req.dt {
            None => limit,
            Some(dt) => check::positive("dt", dt).map_err(|e| e.to_string())?,
        };
        if super::config::beyond(dt, limit) && !req.allow_unstable {
            return Err(format!(
                "--dt {dt} is unstable: the explicit 7-point scheme needs dt <= {limit} \
                 (1 / (2 alpha (1/dx^2 + 1/dy^2 + 1/dz^2)), dx^2 / (6 alpha) for equal spacing)"
            ));
        }
        let init = req.init.clone().unwrap_or(Init::Disk);
        let (w, source, exact) = problem(req, &init, (n, d), alpha)?;
        Ok(Self {
            nx: n[0],
            ny: n[1],
            nz: n[2],
            dx: d[0],
            dy: d[1],
            dz: d[2],
            alpha,
            dt,
            steps: req.steps.unwrap_or(super::config::DEFAULT_STEPS),
            init,
            walls: w,
            source,
            exact,
        })
    }

    /// The stencil's `alpha dt / d^2` along x, y, z.
    pub fn coefficients(&self) -> [f64; 3] {
        [self.dx, self.dy, self.dz].map(|d| self.alpha * self.dt / (d * d))
    }

    pub fn limit(&self) -> f64 {
        stable_dt3(self.dx, self.dy, self.dz, self.alpha)
    }

    pub fn is_unstable(&self) -> bool {
        super::config::beyond(self.dt, self.limit())
    }

    /// Interior cells in all.
    pub fn cells(&self) -> usize {
        self.nx * self.ny * self.nz
    }

    /// The `sine` mode with six zero walls: its exact discrete solution
    /// validates the run.
    pub fn has_exact_solution(&self) -> bool {
        self.init == Init::Sine
            && self.walls.all_zero()
            && self.source.is_none()
            && self.exact.is_none()
    }

    /// The simulated time at `step`, as files and reports label it.
    pub fn time_label(&self, step: u64) -> f64 {
        crate::h5::time_label(step, self.dt)
    }
}

/// "... is not yet available in 3D": what 2D heat has and 3D does not yet.
pub fn not_yet(what: &str) -> String {
    format!("{what} is not yet available in 3D (heat with --nz)")
}

/// The walls, the source and the manufactured solution: as given, or
/// derived from `--exact` (its walls expressions of u on each face, its
/// source u_t - alpha (u_xx + u_yy + u_zz), [`super::manufactured`]).
fn problem(
    req: &Request3d,
    init: &Init,
    (n, d): ([usize; 3], [f64; 3]),
    alpha: f64,
) -> Result<(Walls3, Option<Source>, Option<Manufactured>), String> {
    let walls = Walls3::new(&req.walls, req.periodic, init)?;
    let source = (req.source.as_deref())
        .map(|s| Source::parse_in(s, &VARS3))
        .transpose()?;
    let Some(text) = req.exact.as_deref() else {
        return Ok((walls, source, None));
    };
    let lengths = [0, 1, 2].map(|a| (n[a] + 1) as f64 * d[a]);
    let derived = super::manufactured::derive_in(text, alpha, &lengths)?;
    let given: [Option<Wall>; 6] =
        std::array::from_fn(|k| Some(Wall::Expr(derived.walls[k].clone())));
    let walls = Walls3::new(&given, [false; 3], init)?;
    Ok((walls, Some(derived.source), Some(derived.exact)))
}

/// Time-block depth when none is given (2D's rule,
/// `super::plan::auto_time_block`, with planes for rows): 1 when the two
/// fields of rank 0's block fit in the L2 of the cores running it (the
/// sweep would only add ring bookkeeping to an L2-resident step), else
/// [`AUTO_BLOCK3`], never deeper than the smallest block.
pub fn auto_time_block3(decomp: &Decomposition3, cache: CacheShare, threads: usize) -> usize {
    let l2 = usize::try_from(cache.l2).unwrap_or(usize::MAX);
    let block = decomp.block(0);
    if 2 * 8 * block.cells() <= l2.saturating_mul(threads) {
        return 1;
    }
    let min = decomp.min_block();
    AUTO_BLOCK3.min(min[0]).min(min[1]).min(min[2]).max(1)
}

/// The automatic 3D depth: the fastest at 256^3 on one rank (AMD EPYC
/// Zen 4, 1 MiB L2 and 16 MiB of L3 a core, medians of three alternating
/// runs, MLUPS a core-second: depth 1 510, 3 905, 4 830, 6 1130, 8 930);
/// its five levels of rings (8 MiB) stay in the cache share.
pub const AUTO_BLOCK3: usize = 6;

/// A 3D run as planned on `ranks` ranks.
#[derive(Debug, Clone)]
pub struct Start3d {
    pub cfg: Config3d,
    pub decomp: Decomposition3,
    pub threads: usize,
    /// `--overlap`: exchange halos while the inside is updated.
    pub overlap: bool,
    pub check_every: u64,
    /// Where the report and the result file go.
    pub out: crate::driver::Output,
    /// How the result file is written, and what it holds besides the
    /// field (`super::output3d`).
    pub io: super::layout::IoMode,
    pub extras: super::layout::Extras,
    /// Time-block depth: steps per halo exchange and per sweep, ghost
    /// layers of the fields ([`Start3d::with_time_block`]).
    pub depth: usize,
    /// Why the depth is 1 where more was asked or chosen.
    pub depth_note: Option<String>,
    /// The cache figure an automatic depth was derived from.
    pub auto: Option<crate::cache::CacheShare>,
    /// The cache a core can count on, as the ranks agreed on it (the
    /// sweep's bands are sized from its whole share, the row kernel is
    /// chosen by its L2).
    pub cache: CacheShare,
    /// Checkpoints: where, how often (0: only when stopped), the restart.
    pub checkpointing: crate::driver::Checkpointing,
    /// The restart's checkpoint (its field replaces the initial one).
    pub resume: Option<CheckpointMeta>,
    /// `--init FILE`: the field's shape, type and checksum, as the inputs
    /// step read them (each rank reads its block when the run starts).
    pub init_field: Option<super::field_file::FieldMeta>,
    /// `--refine K`: each grid's start, coarsest first (empty without).
    pub grids: Vec<Start3d>,
    /// Where this grid's run of a `--refine` puts its [max, L2] errors
    /// (`super::refine::Errors`, spelled out: the refinement runs plans).
    pub errors: Option<std::rc::Rc<std::cell::RefCell<Vec<[f64; 2]>>>>,
}

impl Start3d {
    /// The problem on `ranks` ranks, on `grid` if given.
    pub fn new(
        req: &Request3d,
        grid: Option<ProcGrid3>,
        ranks: usize,
        (threads, check_every): (usize, u64),
        (out, checkpointing): (crate::driver::Output, crate::driver::Checkpointing),
    ) -> Outcome<Self> {
        let cfg = Config3d::new(req).map_err(Failure::usage)?;
        if let Init::Expr(e) = &cfg.init {
            super::init_expr::compile_in(e, &super::init_expr::VARS3)?;
        }
        let grid = match grid {
            Some(g) if g.size() != ranks => {
                return Err(Failure::usage(Decomp3Error::GridSizeMismatch {
                    grid: g,
                    ranks,
                }))
            }
            Some(g) => g,
            None => ProcGrid3::choose(ranks, cfg.nx, cfg.ny, cfg.nz).map_err(Failure::usage)?,
        };
        let decomp = Decomposition3::new(cfg.nx, cfg.ny, cfg.nz, grid)
            .map_err(Failure::usage)?
            .with_periodic(cfg.walls.periodic());
        Ok(Self {
            cfg,
            decomp,
            threads,
            overlap: true,
            check_every,
            out,
            io: super::layout::IoMode::Gather,
            extras: super::layout::Extras::default(),
            depth: 1,
            depth_note: None,
            auto: None,
            cache: CacheShare::FALLBACK,
            checkpointing,
            resume: None,
            init_field: None,
            grids: Vec::new(),
            errors: None,
        })
    }

    /// The time-block depth: `asked`, or [`auto_time_block3`]'s from
    /// `cache`; refused when deeper than the smallest block along any
    /// axis (its halo would reach past the neighbour's block), and 1 with
    /// a note where the walls or a source change every step.
    pub fn with_time_block(mut self, asked: Option<usize>, cache: CacheShare) -> Outcome<Self> {
        let k = asked.unwrap_or_else(|| auto_time_block3(&self.decomp, cache, self.threads));
        let [bx, by, bz] = self.decomp.min_block();
        if k > bx.min(by).min(bz) {
            return Err(Failure::usage(format!(
                "--time-block {k} needs every block at least {k} cells along each axis, but the \
                 smallest block on process grid {} is {bx}x{by}x{bz}",
                self.decomp.grid()
            )));
        }
        self.auto = asked.is_none().then_some(cache);
        self.cache = cache;
        (self.depth, self.depth_note) = match (&self.cfg, k) {
            (c, k) if k > 1 && !c.walls.are_fixed() => (1, Some(super::walls::depth_note(k))),
            (c, k) if k > 1 && c.source.is_some() => (
                1,
                Some(format!(
                    "not {k}: the 3D time-blocked sweep does not carry a source term"
                )),
            ),
            (_, k) => (k, None),
        };
        Ok(self)
    }

    /// The step the run starts from (0, or the restart's).
    pub fn start_step(&self) -> u64 {
        self.resume.as_ref().map_or(0, |m| m.stamp.step)
    }

    /// Bytes a rank with the largest block needs: two fields with one
    /// ghost layer (halo buffers are small beside them), and a third for
    /// a source without t (its `dt S` per cell, computed once).
    pub fn memory_need(&self) -> u128 {
        let b = self.decomp.block(0);
        let g = |n: usize| (n + 2 * self.depth) as u128;
        self.fields() * g(b.nx()) * g(b.ny()) * g(b.nz()) * 8
    }

    /// Field-sized arrays a rank holds.
    fn fields(&self) -> u128 {
        match &self.cfg.source {
            Some(s) if !s.is_unsteady() => 3,
            _ => 2,
        }
    }

    /// The `--dry-run`'s resolved values, as comments of the deck.
    pub fn resolved(&self) -> String {
        let c = &self.cfg;
        let [l, r, bo, to, f, ba] = c.walls.shown(|v| v.to_string());
        let b = self.decomp.block(0);
        let source = match (&c.exact, &c.source) {
            (Some(e), _) => format!("# manufactured solution {}\n", e.text),
            (None, Some(s)) => format!("# source {}\n", s.text),
            (None, None) => String::new(),
        };
        let restart = self.resume.as_ref().map_or(String::new(), |m| {
            format!("# continues '{}' from its step {}\n", m.path, m.stamp.step)
        });
        restart
            + &format!(
                "# resolved on {ranks} ranks: 3D, {nx} x {ny} x {nz} points, dx = {dx:?} m, dy = \
             {dy:?} m, dz = {dz:?} m, alpha = {alpha:?} m2/s,\n# dt = {dt:?} s (limit \
             {limit:?}), {steps} steps to t = {t:?} s, init {init}, walls left {l}, right {r}, \
             bottom {bo}, top {to}, front {f}, back {ba},\n{source}# process grid {grid}, \
             {threads} thread(s)/rank, time block {depth}{why}\n# about {mem} of memory a rank ({fields} fields of rank \
             0's {bx}x{by}x{bz} block)\n# checked when the run starts: free memory, CPUs for \
             --threads{file}{field}\n{refine}",
                ranks = self.decomp.ranks(),
                nx = c.nx,
                ny = c.ny,
                nz = c.nz,
                dx = c.dx,
                dy = c.dy,
                dz = c.dz,
                alpha = c.alpha,
                dt = c.dt,
                limit = c.limit(),
                steps = c.steps,
                t = c.time_label(c.steps),
                init = c.init.name(),
                grid = self.decomp.grid(),
                threads = self.threads,
                depth = self.depth,
                why = match &self.depth_note {
                    Some(note) => format!(" ({note})"),
                    None => crate::cache::auto_note(self.auto),
                },
                mem = crate::memory::shown(self.memory_need()),
                fields = ["two", "three"][self.fields() as usize - 2],
                bx = b.nx(),
                by = b.ny(),
                bz = b.nz(),
                file = if self.out.path.is_some() {
                    ", the output file"
                } else {
                    ""
                },
                field = match (&self.resume, &self.init_field) {
                    (Some(_), _) => ", the restart's field against its checksum".to_string(),
                    (None, Some(m)) => format!(
                        ",\n# the initial field '{}': {:?} {}, its values found finite now, each \
                         rank's block read against their checksum",
                        m.shown,
                        m.shape,
                        m.element.name()
                    ),
                    (None, None) => String::new(),
                },
                refine = self.refine_lines(),
            )
    }

    /// The dry run's line for each `--refine` grid.
    fn refine_lines(&self) -> String {
        let mut text = String::new();
        for (k, g) in self.grids.iter().enumerate() {
            let c = &g.cfg;
            text += &format!(
                "# --refine grid {k}: {} x {} x {} points, dx = {:?}, dy = {:?}, dz = {:?}, dt = \
                 {:?}, {} steps\n",
                c.nx, c.ny, c.nz, c.dx, c.dy, c.dz, c.dt, c.steps
            );
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(n: usize) -> Request3d {
        Request3d {
            n: [Some(n); 3],
            steps: Some(3),
            ..Request3d::default()
        }
    }

    #[test]
    fn stability_limit_is_a_sixth_for_equal_spacing() {
        let limit = stable_dt3(0.01, 0.01, 0.01, 0.5);
        assert!(
            (limit - 0.01 * 0.01 / (6.0 * 0.5)).abs() <= 1e-18,
            "{limit}"
        );
        // A fine axis dominates, as in 2D; two huge ones give 2D's limit.
        let two = super::super::config::stable_dt(0.01, 0.02, 0.5);
        assert!((stable_dt3(0.01, 0.02, 1e9, 0.5) - two).abs() <= 1e-15 * two);
        let c = Config3d::new(&request(4)).unwrap();
        assert_eq!(c.dt, limit);
        let [cx, cy, cz] = c.coefficients();
        assert!((cx + cy + cz - 0.5).abs() < 1e-15);
    }

    #[test]
    fn bad_problems_are_refused_with_their_option() {
        let refused = |f: fn(&mut Request3d), want: &str| {
            let mut r = request(4);
            f(&mut r);
            let e = Config3d::new(&r).unwrap_err();
            assert!(e.contains(want), "{e} (want {want})");
        };
        refused(|r| r.n[2] = Some(0), "--nz must be at least 1");
        refused(|r| r.dt = Some(1.0), "is unstable");
        refused(|r| r.d[2] = Some(-1.0), "--dz");
        refused(|r| r.n = [Some(usize::MAX / 4); 3], "more cells");
        refused(|r| r.walls[5] = Some(Wall::Value(f64::NAN)), "--bc-back");
        refused(
            |r| r.source = Some("w*x".into()),
            "--source 'w*x': unknown name 'w' (this expression may use x, y, z, t)",
        );
        refused(
            |r| r.exact = Some("abs(z)".into()),
            "--exact 'abs(z)': abs() has no derivative",
        );
        let mut r = request(4);
        r.dt = Some(1.0);
        r.allow_unstable = true;
        assert!(Config3d::new(&r).unwrap().is_unstable());
    }
}
