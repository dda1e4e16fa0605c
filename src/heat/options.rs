//! `parsim heat`'s options and its plan: every check of them, once, with
//! what the inputs step read of a restart's checkpoint
//! (`super::inputs`): heat plans once.

mod three;

use clap::Args;
use mpi::traits::Communicator;

use super::config::{HeatRequest, Init, Wall};
use super::inputs::HeatInputs;
use super::layout::{Extras, IoMode};
use super::plan::{HeatJob, HeatPlan, HeatStart, Tuning};
use crate::check::at_least;
use crate::error::{Failure, Outcome};
use crate::h5::RunMeta;
use crate::options::{on_off, CheckpointArgs, OutputArgs};
use crate::spec::{Comm, Growth, Info, Rate, Setting, Size, Spec};
use crate::stop::StopSignal;

#[derive(Debug, Args)]
pub struct HeatArgs {
    /// Interior points along x [default: 2000].
    #[arg(long)]
    nx: Option<usize>,
    /// Interior points along y [default: 2000].
    #[arg(long)]
    ny: Option<usize>,
    /// Grid spacing along x, in m; the domain is (nx+1)*dx wide [default: 0.01].
    #[arg(long)]
    dx: Option<f64>,
    /// Grid spacing along y, in m [default: 0.01].
    #[arg(long)]
    dy: Option<f64>,
    /// The 3D run's options (boxed: the subcommands' options are one enum).
    #[command(flatten)]
    z: Box<three::ZArgs>,
    /// Thermal diffusivity, in m²/s [default: 0.5].
    #[arg(long)]
    alpha: Option<f64>,
    /// Time step, in s [default: the stability limit dx²dy²/(2α(dx²+dy²))];
    /// a larger one is refused.
    #[arg(long)]
    dt: Option<f64>,
    /// Accept a --dt above the stability limit (to study blow-up; the run
    /// stops with exit code 4 when the field leaves its physical range).
    #[arg(long)]
    allow_unstable: bool,
    /// Time steps in total, counted from the start of the run (also when
    /// restarting) [default: 500].
    #[arg(long)]
    steps: Option<u64>,
    /// Initial condition: disk (the classic benchmark), sine (exact
    /// solution), a field [ny, nx] ([nz, ny, nx] in 3D) of f64 or f32
    /// from FILE.npy or FILE.h5:/DATASET (FILE.h5 alone:
    /// /heat/temperature, a heat result), read block by block (with no
    /// --nx/--ny the grid is the file's), or an expression in x and y (x, y and z in 3D) in the
    /// language of integrate --f, cell (i, j) at x = (i+1) dx, y = (j+1) dy
    /// [default: disk; a sphere in 3D].
    // Boxed: the subcommands' options are one enum, its largest variant
    // kept near the others (clippy::large_enum_variant).
    #[arg(long, value_name = "disk|sine|FILE|EXPR", value_parser = parse_init)]
    init: Option<Box<Init>>,
    /// Left wall: a temperature in °C, insulated (zero flux), or an
    /// expression in y and t [default: 20 for disk, 0 otherwise]. (Like a
    /// number's, the value may start with '-': `--bc-left -5`, `-2*t`.)
    #[arg(long, value_name = "VALUE|insulated|EXPR", allow_hyphen_values = true)]
    bc_left: Option<Wall>,
    /// Right wall: a temperature in °C, insulated, or an expression in y
    /// and t [default: 70 for disk, 0 otherwise].
    #[arg(long, value_name = "VALUE|insulated|EXPR", allow_hyphen_values = true)]
    bc_right: Option<Wall>,
    /// Bottom wall: a temperature in °C, insulated, or an expression in x
    /// and t [default: 5 for disk, 0 otherwise].
    #[arg(long, value_name = "VALUE|insulated|EXPR", allow_hyphen_values = true)]
    bc_bottom: Option<Wall>,
    /// Top wall: a temperature in °C, insulated, or an expression in x and
    /// t [default: 85 for disk, 0 otherwise].
    #[arg(long, value_name = "VALUE|insulated|EXPR", allow_hyphen_values = true)]
    bc_top: Option<Wall>,
    /// periodic: join the left and right walls (the field wraps around
    /// along x, period nx*dx).
    #[arg(long, value_enum, value_name = "periodic")]
    bc_x: Option<Joined>,
    /// periodic: join the bottom and top walls (period ny*dy).
    #[arg(long, value_enum, value_name = "periodic")]
    bc_y: Option<Joined>,
    /// A manufactured solution u(x, y, t) (u(x, y, z, t) in 3D): the
    /// initial field, the walls and the source are derived from it
    /// (symbolically), and the report gives the max and L2 errors against
    /// it at the final time.
    #[arg(long, value_name = "EXPR", conflicts_with_all = [
        "source", "init", "bc_left", "bc_right", "bc_bottom", "bc_top", "bc_x", "bc_y",
        "bc_front", "bc_back", "bc_z",
    ])]
    exact: Option<String>,
    /// With --exact: run K grids, each halving dx and dy (and dz in 3D;
    /// nx' = 2nx + 1, the walls in place) with dt / 4 and 4x the steps,
    /// and report the observed order of accuracy (2 for the 5-point
    /// stencil, and the 7-point in 3D); only the finest writes the output.
    #[arg(long, value_name = "K", conflicts_with = "restart")]
    refine: Option<u32>,
    /// A source term S(x, y, t), added to the equation: u_t = alpha
    /// (u_xx + u_yy) + S (an expression, as `integrate --f`, in x and y,
    /// in m, and t, in s; in 3D S(x, y, z, t)).
    #[arg(long, value_name = "EXPR")]
    source: Option<String>,
    /// Process grid PXxPY (ranks along x times ranks along y); PXxPYxPZ
    /// in 3D (with --nz) [default: balanced, like MPI_Dims_create].
    #[arg(long, value_name = "PXxPY")]
    proc_grid: Option<three::GridArg>,
    #[command(flatten)]
    ckpt: CheckpointArgs,
    /// Steps between the collective checks for stop signals (SIGTERM,
    /// SIGUSR1) and numerical blow-up.
    #[arg(long, value_name = "K", default_value_t = 10)]
    check_every: u64,
    /// Store the field every K steps (and at the start) in
    /// /heat/snapshots [time, ny, nx] (0: only the final field).
    #[arg(long, value_name = "K", default_value_t = 0, help_heading = "Output")]
    snapshot_every: u64,
    /// How the field reaches the file: gather (rank 0 writes, strip by
    /// strip) or parallel (every rank writes its block through MPI-IO;
    /// needs a build with parallel HDF5, see README).
    #[arg(long, value_enum, default_value_t = Io::Gather, help_heading = "Output")]
    io: Io,
    /// Compress the field and snapshots with deflate at this level (1-9;
    /// chunked datasets, byte shuffle).
    #[arg(long, value_name = "LEVEL", help_heading = "Output")]
    compress: Option<u8>,
    /// Threads per rank sharing the block's rows (MPI calls stay on the
    /// main thread: MPI_THREAD_FUNNELED).
    #[arg(
        long,
        value_name = "T",
        default_value_t = 1,
        help_heading = "Performance"
    )]
    threads: usize,
    /// Exchange halos while the interior is updated (off: exchange, then
    /// update; for comparison).
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = on_off, action = clap::ArgAction::Set, help_heading = "Performance")]
    overlap: bool,
    /// Time blocking: exchange K-deep halos every K steps and advance K
    /// steps per sweep through memory; 1 is the classic one step per sweep
    /// (with --overlap). auto: 1 for blocks whose two fields fit in the L2
    /// of the rank's cores (as the OS reports it), else up to 12, less
    /// where rows are too wide for the rings to fit in half of L2 + the
    /// core's share of L3; in 3D 6, in bands of rows where planes are too
    /// wide (results are bitwise identical either way).
    #[arg(
        long,
        value_name = "auto|K",
        default_value = "auto",
        help_heading = "Performance"
    )]
    time_block: TimeBlock,
    #[command(flatten)]
    out: OutputArgs,
}

/// `--bc-x`, `--bc-y`: how the two walls of an axis are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Joined {
    Periodic,
}

/// `--init`, parsed ([`Init`]'s `FromStr`).
fn parse_init(s: &str) -> Result<Box<Init>, String> {
    s.parse().map(Box::new)
}

/// `--io`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Io {
    Gather,
    Parallel,
}

/// The file's [`IoMode`] for `--io`.
fn io_mode(io: Io) -> IoMode {
    match io {
        Io::Gather => IoMode::Gather,
        Io::Parallel => IoMode::Parallel,
    }
}

/// `--time-block`: `auto` or a whole number (checked later against the
/// decomposition).
#[derive(Debug, Clone, Copy)]
struct TimeBlock(Option<usize>);

impl std::str::FromStr for TimeBlock {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            return Ok(Self(None));
        }
        s.parse()
            .map(|k| Self(Some(k)))
            .map_err(|_| format!("expected auto or a whole number, got '{s}'"))
    }
}

/// `--refine K` (2D and 3D): with `--exact`, 2 to 8 grids.
fn check_refine(refine: Option<u32>, exact: bool, ckpt: &CheckpointArgs) -> Outcome {
    if let Some(k) = refine {
        if !exact {
            return Err(Failure::usage(
                "--refine needs --exact: its errors are against the exact solution",
            ));
        }
        // Each grid would claim the same checkpoint: the second would
        // find the first's and stop, after the first grid's work.
        if ckpt.every() > 0 || ckpt.restart().is_some() {
            return Err(Failure::usage(
                "--refine runs one grid after another: it takes no --checkpoint-every or \
                 --restart (each grid is a short run of its own)",
            ));
        }
        at_least("refine", u64::from(k), 2)?;
        crate::check::at_most("refine", u64::from(k), 8)?;
    }
    Ok(())
}

impl HeatArgs {
    /// The job as asked, its options checked one by one (the plan checks
    /// them together, against the ranks).
    fn into_job(self) -> Outcome<HeatJob> {
        let grid = self.grid_2d()?;
        let io = self.check_io();
        let out = self.out.into_output(Heat::INFO.default_output);
        let xdmf = out.path.as_ref().map(|o| o.with_extension("xmf"));
        check_refine(self.refine, self.exact.is_some(), &self.ckpt)?;
        let checkpointing = self.ckpt.into_checkpointing(&out, Heat::INFO.name)?;
        at_least("check-every", self.check_every, 1)?;
        at_least("threads", self.threads as u64, 1)?;
        if let Some(k) = self.time_block.0 {
            at_least("time-block", k as u64, 1)?;
        }
        io?;
        Ok(HeatJob {
            request: HeatRequest {
                nx: self.nx,
                ny: self.ny,
                dx: self.dx,
                dy: self.dy,
                alpha: self.alpha,
                dt: self.dt,
                steps: self.steps,
                init: self.init.map(|i| *i),
                left: self.bc_left,
                right: self.bc_right,
                bottom: self.bc_bottom,
                top: self.bc_top,
                periodic_x: self.bc_x == Some(Joined::Periodic),
                periodic_y: self.bc_y == Some(Joined::Periodic),
                allow_unstable: self.allow_unstable,
                source: self.source,
                exact: self.exact,
            },
            grid,
            refine: self.refine.unwrap_or(1),
            errors: None,
            out,
            checkpointing,
            check_every: self.check_every,
            io: io_mode(self.io),
            extras: Extras {
                compress: self.compress,
                snapshot_every: self.snapshot_every,
                xdmf,
            },
            tuning: Tuning {
                threads: self.threads,
                overlap: self.overlap,
                time_block: self.time_block.0,
            },
        })
    }
}

/// `parsim heat` in the registry.
pub struct Heat;

/// A planned heat run: 2D (without `--nz`) or 3D.
#[derive(Debug, Clone)]
pub enum HeatKind {
    Two(Box<HeatStart>),
    Three(Box<super::plan3d::Start3d>),
}

impl Spec for Heat {
    type Options = HeatArgs;
    type Plan = HeatKind;
    type Inputs = HeatInputs;
    const INFO: Info = Info {
        name: "heat",
        summary:
            "Explicit heat equation, 2D or 3D (--nz), on a block-partitioned grid, halos exchanged",
        size: &[
            Size {
                option: "nx",
                weak: Growth::GridX,
                optional: false,
            },
            Size {
                option: "ny",
                weak: Growth::GridY,
                optional: false,
            },
            Size {
                option: "nz",
                weak: Growth::GridZ,
                optional: true,
            },
        ],
        rate: Rate {
            field: "mlups",
            unit: "MLUPS",
        },
        phases: &["stencil", "halo", "io"],
        default_output: "heat.h5",
        group: "/heat",
        checkpoints: true,
        study: &[("nx", "4000"), ("ny", "4000"), ("steps", "100")],
        comm: Comm::Halo {
            phase: "halo",
            compute: "stencil",
            nx: "nx",
            ny: "ny",
            nz: "nz",
            steps: "steps",
            overlap: "overlap",
        },
    };

    fn inputs(a: &HeatArgs, _: &Setting) -> Outcome<HeatInputs> {
        if a.z.nz.is_some() {
            return HeatInputs::read(a.ckpt.restart(), a.init.as_deref());
        }
        HeatInputs::read(a.ckpt.restart(), a.init.as_deref())
    }

    fn plan(a: HeatArgs, inputs: HeatInputs, s: &Setting) -> Outcome<HeatKind> {
        if a.z.nz.is_some() {
            return a
                .into_start3d(s, inputs)
                .map(|t| HeatKind::Three(Box::new(t)));
        }
        let mut job = a.into_job()?;
        inputs.complete(&mut job.request)?;
        let resume = inputs.restart;
        let mut plan = HeatPlan::new(&job, resume.as_ref(), s.ranks, s.cache)?;
        plan.init_field = inputs.init;
        let grids = refined_grids(&job, s)?;
        Ok(HeatKind::Two(Box::new(HeatStart {
            job,
            plan,
            resume,
            grids,
        })))
    }

    fn resolved(h: &HeatKind, _: &Setting) -> String {
        let h = match h {
            HeatKind::Two(h) => h,
            HeatKind::Three(t) => return t.resolved(),
        };
        let plan = &h.plan;
        let block = plan.decomp.block(0);
        let (restart, field) = match &h.resume {
            Some(m) => (
                format!("# continues '{}' from its step {}\n", m.path, m.stamp.step),
                ", the restart's field against its checksum",
            ),
            None => (String::new(), ""),
        };
        format!(
            "{}{restart}# about {} of memory a rank (two fields of rank 0's {}x{} block)\n\
             # checked when the run starts: free memory, CPUs for --threads, the output \
             file{field}\n{}",
            plan.resolved(),
            crate::memory::shown(plan.memory_need(&block)),
            block.nx(),
            block.ny(),
            refine_lines(&h.grids),
        )
    }

    fn output(p: &HeatKind) -> &crate::driver::Output {
        match p {
            HeatKind::Two(p) => &p.job.out,
            HeatKind::Three(t) => &t.out,
        }
    }

    fn reads(p: &HeatKind) -> Vec<(&'static str, std::path::PathBuf)> {
        let p = match p {
            HeatKind::Two(p) => p,
            HeatKind::Three(t) => {
                let restart = t.checkpointing.restart.clone();
                let init = t.cfg.init.file().map(|f| ("--init", f.path.clone()));
                let restart = restart.map(|r| ("--restart", r));
                return restart.into_iter().chain(init).collect();
            }
        };
        let restart = p.job.checkpointing.restart.clone();
        let init = p.job.request.init.as_ref().and_then(Init::file);
        let init = init.map(|f| ("--init", f.path.clone()));
        restart
            .map(|r| ("--restart", r))
            .into_iter()
            .chain(init)
            .collect()
    }

    fn writes(p: &HeatKind) -> Vec<(&'static str, std::path::PathBuf)> {
        let p = match p {
            HeatKind::Two(p) => p,
            HeatKind::Three(t) => return writes_beside(&t.checkpointing, &t.extras),
        };
        writes_beside(&p.job.checkpointing, &p.job.extras)
    }

    fn run<C: Communicator>(w: &C, h: &HeatKind, meta: &RunMeta, stop: &StopSignal) -> Outcome {
        let h = match h {
            HeatKind::Two(h) => h,
            HeatKind::Three(t) if t.grids.is_empty() => return super::run3d::run(w, t, meta, stop),
            HeatKind::Three(t) => return super::refine::run(w, &t.grids, meta, stop),
        };
        if h.grids.is_empty() {
            return super::run::run(w, h, meta, stop);
        }
        super::refine::run(w, &h.grids, meta, stop)
    }
}

/// What a heat run writes besides its result (2D and 3D): the checkpoint
/// and the result's XDMF sidecar.
fn writes_beside(
    ckpt: &crate::driver::Checkpointing,
    extras: &Extras,
) -> Vec<(&'static str, std::path::PathBuf)> {
    let mut w = vec![("--checkpoint", ckpt.path.clone())];
    w.extend((extras.xdmf.clone()).map(|x| ("the result's XDMF sidecar", x)));
    w
}

/// `--refine K`: the start of each of the K grids (coarsest first, the
/// one asked for first), planned as ordinary runs; empty without.
fn refined_grids(job: &HeatJob, s: &Setting) -> Outcome<Vec<HeatStart>> {
    let k = if job.refine > 1 { job.refine } else { 0 };
    (0..k)
        .map(|i| {
            let job = super::refine::refined(job, i, job.refine);
            let plan = HeatPlan::new(&job, None, s.ranks, s.cache)?;
            Ok(HeatStart {
                job,
                plan,
                resume: None,
                grids: Vec::new(),
            })
        })
        .collect()
}

/// The dry run's line for each `--refine` grid.
fn refine_lines(grids: &[HeatStart]) -> String {
    let mut text = String::new();
    for (k, g) in grids.iter().enumerate() {
        let (c, depth) = (&g.plan.cfg, g.plan.depth);
        text += &format!(
            "# --refine grid {k}: {} x {} points, dx = {:?}, dy = {:?}, dt = {:?}, {} steps, \
             time block {depth}\n",
            c.nx, c.ny, c.dx, c.dy, c.dt, c.steps
        );
    }
    text
}
