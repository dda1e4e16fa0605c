//! The command line: options of every subcommand, and the process entry
//! point that runs under MPI.
//!
//! Every rank parses the same arguments, so every rank reaches the same
//! verdict on them; only rank 0 prints it. Help and version go to stdout
//! once, errors are one line on stderr, and every rank returns the same exit
//! code, so `mpirun` never waits on a rank that went on alone.

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};
use mpi::traits::*;

use crate::check::at_least;
use crate::cli_tools::{completions, effective_config, man_page};
use crate::driver::{Checkpointing, Output};
use crate::ensemble::markov_run::MarkovJob;
use crate::ensemble::ou::{OuRequest, Sweep};
use crate::ensemble::ou_run::OuJob;
use crate::ensemble::pi_run::PiJob;
use crate::error::{ExitCode, Failure, Outcome};
use crate::h5::RunMeta;
use crate::heat::config::{HeatRequest, Init};
use crate::heat::decomp::ProcGrid;
use crate::heat::io::{Extras, IoMode};
use crate::heat::plan::{HeatJob, HeatPlan, Tuning};
use crate::patterns::integrate::{Integrand, Rule};
use crate::patterns::integrate_run::IntegrateJob;
use crate::patterns::mandel::Schedule;
use crate::patterns::mandel_run::MandelJob;
use crate::patterns::pairs_run::{PairsJob, PointsFrom};
use crate::patterns::points::PointsFile;

#[derive(Debug, Parser)]
#[command(
    name = "parsim",
    version,
    // mpirun gives ranks a pty even when the user's stdout is a pipe or a
    // job log, so terminal detection cannot be trusted: no colour codes.
    color = clap::ColorChoice::Never,
    // A deck's options come first and typed ones after: the last one wins.
    args_override_self = true,
    about = "SPMD simulations under MPI: heat equation, OU ensembles, Monte Carlo, quadrature, Mandelbrot, all pairs",
    long_about = "SPMD simulations under MPI. Launch with `mpirun -n P parsim ...` or \
                  `srun parsim ...`; without a launcher it runs on one rank.\n\n\
                  Exit codes: 0 success, 1 runtime failure, 2 invalid input, \
                  3 validation failed, 4 numerical blow-up, 70 a rank panicked (job \
                  aborted), 75 stopped by a signal (after writing a checkpoint where the workload keeps one)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Check every option (deck, then command line), print the effective
    /// configuration as a deck and exit without running. Input files'
    /// contents and the output path are checked when the run starts.
    #[arg(long, global = true)]
    dry_run: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Explicit 2D heat equation on a block-partitioned grid.
    Heat(HeatArgs),
    /// Ornstein-Uhlenbeck ensemble (optionally a parameter sweep).
    Ou(OuArgs),
    /// Monte Carlo estimate of pi (hit-or-miss).
    Pi(PiArgs),
    /// 3-state Markov chain (bull/bear/recession): fraction of days per state.
    Markov(MarkovArgs),
    /// Integral of f over [a, b] by a quadrature rule (a reduction).
    Integrate(IntegrateArgs),
    /// Mandelbrot escape-time image (load balancing: block, cyclic or
    /// dynamic schedule of rows).
    Mandelbrot(MandelArgs),
    /// All pairs of N points (the travelling-block ring): closest pair,
    /// every point's nearest neighbour, a histogram of distances, and the
    /// full distance matrix with --matrix.
    Pairs(PairsArgs),
    /// Print a shell completion script, e.g. `parsim completions bash >
    /// ~/.local/share/bash-completion/completions/parsim`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `parsim man | man -l -`; `parsim man
    /// heat` for a workload's own page.
    Man {
        /// A workload's page instead of the main one.
        subcommand: Option<String>,
    },
    /// Run from an input deck: `parsim run DECK.toml [options]`. The deck
    /// (TOML) names the workload and sets its options; options typed after
    /// it override the deck. Every subcommand also takes `--config DECK`.
    Run {
        /// The deck (TOML): workload = "heat" and any of its options.
        deck: Option<PathBuf>,
        /// Options of the deck's workload, overriding the deck.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        options: Vec<String>,
    },
}

/// The command line parser. Every option that takes a value takes a
/// negative number too, so that `--nx -4` or `--dt -1e-5` is refused by the
/// option's own check (its range, in a domain message) instead of reading
/// as an unknown flag `-4`. A real-valued option takes any word beginning
/// with `-` (clap's number test misses `-1e-5`); `--dt --steps` then says
/// that `--steps` is not a number.
fn command() -> clap::Command {
    use clap::CommandFactory;
    let real = std::any::TypeId::of::<f64>();
    Cli::command()
        .long_version(long_version())
        .mut_subcommands(|sub| {
            // Each workload's default result file, named in its help.
            let name = sub.get_name().to_string();
            let sub = if sub.get_arguments().any(|a| a.get_id() == "output") {
                sub.mut_arg("output", |a| {
                    a.help(format!("HDF5 result file [default: {name}.h5]"))
                })
            } else {
                sub
            };
            sub.mut_args(|arg| {
                if !arg.get_action().takes_values() {
                    arg
                } else if arg.get_value_parser().type_id() == real {
                    arg.allow_hyphen_values(true)
                } else {
                    arg.allow_negative_numbers(true)
                }
            })
        })
}

/// `parsim --version`: what a bug report needs, the same as every result
/// file records (commit, MPI library, HDF5, parallel I/O or not).
fn long_version() -> &'static str {
    static LONG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LONG.get_or_init(|| {
        let mpi = crate::h5::mpi_library();
        let (a, b, c) = hdf5::library_version();
        format!(
            "{} (commit {})\nMPI library: {mpi}\nHDF5: {a}.{b}.{c}\nparallel I/O (--io parallel): {}",
            crate::VERSION,
            env!("PARSIM_GIT_COMMIT"),
            if cfg!(feature = "parallel-io") { "yes" } else { "no" }
        )
    })
}

/// The long options of subcommand `workload` and whether each takes a value
/// (what a deck may set).
fn workload_options(workload: &str) -> Option<Vec<(String, bool)>> {
    if workload == "run" {
        return None;
    }
    let cmd = command();
    let sub = cmd.find_subcommand(workload)?;
    Some(
        sub.get_arguments()
            .filter_map(|a| {
                a.get_long()
                    .map(|l| (l.to_string(), a.get_action().takes_values()))
            })
            .collect(),
    )
}

/// Checkpoint options of the workloads that keep one (heat, ou).
#[derive(Debug, Args)]
struct CheckpointArgs {
    /// Write a checkpoint every N units of work: steps (heat), members per
    /// rank (ou); 0: only when stopped by a signal.
    #[arg(long, value_name = "N", default_value_t = 0)]
    checkpoint_every: u64,
    /// Checkpoint file [default: the output name with .ckpt.h5, or
    /// <subcommand>.ckpt.h5].
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Continue from a checkpoint (heat: also from a finished result file).
    /// Options given explicitly must agree with it; ou computes only the
    /// unfinished members.
    #[arg(long, value_name = "FILE")]
    restart: Option<PathBuf>,
}

impl CheckpointArgs {
    /// Where and how often `workload` checkpoints; never onto its result
    /// file (one would replace the other).
    fn into_checkpointing(self, out: &Output, workload: &str) -> Outcome<Checkpointing> {
        let path = self
            .checkpoint
            .unwrap_or_else(|| checkpoint_beside(&out.path, workload));
        if out.path.as_deref() == Some(path.as_path()) {
            return Err(Failure::usage(format!(
                "--checkpoint and --output are the same file '{}'",
                path.display()
            )));
        }
        Ok(Checkpointing {
            path,
            every: self.checkpoint_every,
            restart: self.restart,
        })
    }
}

/// Output options shared by every subcommand, under one heading with the
/// workload's own output options.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
struct OutputArgs {
    /// HDF5 result file (the default is named in each subcommand's help).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Write no result file (benchmarks, scaling studies); wins over
    /// --output, also one set by a deck.
    #[arg(long)]
    no_output: bool,
    /// Overwrite an existing result file.
    #[arg(long)]
    force: bool,
    /// Print the report as one JSON object on stdout (text goes to stderr).
    #[arg(long)]
    json: bool,
    /// No progress bar or progress lines (the report is still printed).
    #[arg(long)]
    quiet: bool,
    /// Read options from a TOML input deck (see examples/*.toml); options
    /// typed on the command line override the deck's.
    #[arg(long, value_name = "DECK")]
    config: Option<PathBuf>,
    /// Write a timeline of the run (Chrome trace-event JSON: one track per
    /// rank, each round's compute and waiting, checkpoints, I/O), to open
    /// in Perfetto (ui.perfetto.dev) or chrome://tracing.
    #[arg(long, value_name = "FILE.json", help_heading = "Output")]
    trace: Option<PathBuf>,
}

impl OutputArgs {
    /// What the run does with its result; the file is `default` unless
    /// named, `None` with `--no-output`.
    fn into_output(self, default: &str) -> Output {
        Output {
            path: (!self.no_output).then(|| self.output.unwrap_or_else(|| default.into())),
            force: self.force,
            json: self.json,
            quiet: self.quiet,
            trace: self.trace,
        }
    }
}

/// What `--store` keeps of an OU ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Store {
    /// Ensemble mean and variance at every recorded time, final values.
    Stats,
    /// As stats, plus every recorded path.
    Paths,
}

#[derive(Debug, Args)]
struct OuArgs {
    /// Paths (replicas) per parameter set.
    #[arg(long, default_value_t = 8)]
    paths: u64,
    /// Time steps per path.
    #[arg(long, default_value_t = 5_000_000)]
    steps: u64,
    /// Time step, in the units of tau (the model has none of its own); a
    /// comma-separated list makes a sweep.
    #[arg(long, value_delimiter = ',', default_value = "0.1")]
    dt: Vec<f64>,
    /// Relaxation time; a list makes a sweep.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    tau: Vec<f64>,
    /// Stationary standard deviation; a list makes a sweep.
    #[arg(long, value_delimiter = ',', default_value = "2")]
    sigma: Vec<f64>,
    /// Initial value; a list makes a sweep.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    x0: Vec<f64>,
    /// Parameter sets from a CSV table instead of the lists: a header
    /// naming the columns tau,sigma,dt,x0 (any order), one set per line;
    /// read by rank 0 and sent to every rank.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tau", "sigma", "dt", "x0"])]
    params: Option<PathBuf>,
    /// Seed of every member's random stream.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Record x every K steps [default: steps/1000, at least 1].
    #[arg(long, value_name = "K")]
    record_every: Option<u64>,
    /// What to store.
    #[arg(long, value_enum, default_value_t = Store::Stats)]
    store: Store,
    #[command(flatten)]
    ckpt: CheckpointArgs,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Debug, Args)]
struct PiArgs {
    /// Number of samples.
    #[arg(long, default_value_t = 1_000_000_000)]
    samples: u64,
    /// Seed.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Samples per chunk (the unit of work with its own random stream).
    #[arg(long, default_value_t = crate::ensemble::mc::DEFAULT_PI_CHUNK)]
    chunk: u64,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Debug, Args)]
struct MarkovArgs {
    /// Independent chains.
    #[arg(long, default_value_t = 1000)]
    chains: u64,
    /// Days per chain.
    #[arg(long, default_value_t = 100_000)]
    days: u64,
    /// Seed.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Debug, Args)]
struct IntegrateArgs {
    /// Lower end of the interval.
    #[arg(long, default_value_t = 0.0)]
    a: f64,
    /// Upper end of the interval.
    #[arg(long, default_value_t = 2.0)]
    b: f64,
    /// Intervals (points of the left and midpoint rules).
    #[arg(long, default_value_t = 1_000_000)]
    n: u64,
    /// Quadrature rule.
    #[arg(long, value_enum, default_value_t = Rule::Left)]
    rule: Rule,
    /// The integrand: a built-in (lesson = x^2 - x, sin, exp, pi =
    /// 4/(1+x^2)) or an expression in x, e.g. 'x^3 + sin(3*x)' (operators
    /// + - * / ^, functions sin cos tan exp ln log10 sqrt abs ..., PI, E).
    #[arg(long, value_name = "NAME|EXPR", default_value = "lesson")]
    f: String,
    /// Points per chunk (the unit of work; the sum depends on it, never on
    /// the number of ranks).
    #[arg(long, default_value_t = crate::patterns::integrate_run::DEFAULT_CHUNK)]
    chunk: u64,
    #[command(flatten)]
    out: OutputArgs,
}

impl IntegrateArgs {
    fn into_job(self) -> Outcome<IntegrateJob> {
        Ok(IntegrateJob {
            a: self.a,
            b: self.b,
            n: self.n,
            rule: self.rule,
            f: Integrand::parse(&self.f).map_err(Failure::usage)?,
            chunk: self.chunk,
            out: self.out.into_output("integrate.h5"),
        })
    }
}

#[derive(Debug, Args)]
struct MandelArgs {
    /// Image width in pixels (columns).
    #[arg(long, default_value_t = 1500)]
    width: u64,
    /// Image height in pixels (rows).
    #[arg(long, default_value_t = 1000)]
    height: u64,
    /// Iterations before a pixel counts as inside the set.
    #[arg(long, value_name = "M", default_value_t = 20)]
    max_iter: u64,
    /// The window of the complex plane, XMIN,XMAX,YMIN,YMAX.
    #[arg(
        long,
        value_delimiter = ',',
        allow_hyphen_values = true,
        default_value = "-2,1,-1,1"
    )]
    window: Vec<f64>,
    /// How rows are dealt out: block (contiguous), cyclic (row y to rank y
    /// mod P) or dynamic (chunks of rows on request from rank 0).
    #[arg(long, value_enum, default_value_t = Schedule::Dynamic)]
    schedule: Schedule,
    /// Rows per request of the dynamic schedule.
    #[arg(long, value_name = "ROWS", default_value_t = 1)]
    chunk: u64,
    #[command(flatten)]
    out: OutputArgs,
}

impl MandelArgs {
    fn into_job(self) -> MandelJob {
        MandelJob {
            width: self.width,
            height: self.height,
            max_iter: self.max_iter,
            window: self.window,
            schedule: self.schedule,
            chunk: self.chunk,
            out: self.out.into_output("mandelbrot.h5"),
        }
    }
}

#[derive(Debug, Args)]
struct PairsArgs {
    /// Read the points: FILE.npy (a 2-D numpy array, f8 or f4), FILE.csv (a
    /// point per line) or FILE.h5:/DATASET (2-D); N x D, one point per row.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["n", "dim", "seed"])]
    points: Option<String>,
    /// Points to generate, uniform in [0, 1)^D (without --points).
    #[arg(long, default_value_t = 2000)]
    n: u64,
    /// Dimension of the generated points.
    #[arg(long, value_name = "D", default_value_t = 2)]
    dim: u64,
    /// Seed of the generated points (point i from its own stream).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Also write the full N x N distance matrix (row strips gathered to
    /// rank 0 one at a time; at most 46340 points).
    #[arg(long)]
    matrix: bool,
    /// Bins of the histogram of pair distances over [0, bounding-box
    /// diagonal]; 0 for none (saves a square root per pair).
    #[arg(long, default_value_t = 64)]
    bins: u64,
    #[command(flatten)]
    out: OutputArgs,
}

impl PairsArgs {
    fn into_job(self) -> Outcome<PairsJob> {
        let source = match self.points {
            Some(p) => PointsFrom::File(PointsFile::parse(&p).map_err(Failure::usage)?),
            None => PointsFrom::Generated {
                n: self.n,
                dim: self.dim,
                seed: self.seed,
            },
        };
        Ok(PairsJob {
            source,
            matrix: self.matrix,
            bins: self.bins,
            out: self.out.into_output("pairs.h5"),
        })
    }
}

#[derive(Debug, Args)]
struct HeatArgs {
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
    /// Initial condition: disk (the classic benchmark) or sine (exact
    /// solution) [default: disk].
    #[arg(long, value_enum)]
    init: Option<Init>,
    /// Left wall temperature, in °C [default: 20 for disk, 0 for sine].
    #[arg(long)]
    bc_left: Option<f64>,
    /// Right wall temperature, in °C [default: 70 for disk, 0 for sine].
    #[arg(long)]
    bc_right: Option<f64>,
    /// Bottom wall temperature, in °C [default: 5 for disk, 0 for sine].
    #[arg(long)]
    bc_bottom: Option<f64>,
    /// Top wall temperature, in °C [default: 85 for disk, 0 for sine].
    #[arg(long)]
    bc_top: Option<f64>,
    /// Process grid PXxPY (ranks along x times ranks along y)
    /// [default: balanced, like MPI_Dims_create].
    #[arg(long, value_name = "PXxPY")]
    proc_grid: Option<ProcGrid>,
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
    /// core's share of L3 (results are bitwise identical either way).
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

/// `--io`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Io {
    Gather,
    Parallel,
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

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected on or off, got '{s}'")),
    }
}

impl HeatArgs {
    /// The validated job: after this, no option is checked again.
    fn into_job(self) -> Outcome<HeatJob> {
        let out = self.out.into_output("heat.h5");
        let xdmf = out.path.as_ref().map(|o| o.with_extension("xmf"));
        let checkpointing = self.ckpt.into_checkpointing(&out, "heat")?;
        at_least("check-every", self.check_every, 1)?;
        at_least("threads", self.threads as u64, 1)?;
        if let Some(k) = self.time_block.0 {
            at_least("time-block", k as u64, 1)?;
        }
        if self.compress.is_some_and(|l| !(1..=9).contains(&l)) {
            return Err(Failure::usage(
                "--compress takes a deflate level from 1 to 9",
            ));
        }
        Ok(HeatJob {
            request: HeatRequest {
                nx: self.nx,
                ny: self.ny,
                dx: self.dx,
                dy: self.dy,
                alpha: self.alpha,
                dt: self.dt,
                steps: self.steps,
                init: self.init,
                left: self.bc_left,
                right: self.bc_right,
                bottom: self.bc_bottom,
                top: self.bc_top,
                allow_unstable: self.allow_unstable,
            },
            grid: self.proc_grid,
            out,
            checkpointing,
            check_every: self.check_every,
            io: match self.io {
                Io::Gather => IoMode::Gather,
                Io::Parallel => IoMode::Parallel,
            },
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

impl OuArgs {
    /// The validated job: after this, no option is checked again.
    fn into_job(self, given: Vec<String>) -> Outcome<OuJob> {
        let out = self.out.into_output("ou.h5");
        let checkpointing = self.ckpt.into_checkpointing(&out, "ou")?;
        Ok(OuJob {
            request: OuRequest {
                sweep: Sweep::Product {
                    taus: self.tau,
                    sigmas: self.sigma,
                    dts: self.dt,
                    x0s: self.x0,
                },
                paths: self.paths,
                steps: self.steps,
                record_every: self.record_every.unwrap_or((self.steps / 1000).max(1)),
                seed: self.seed,
                store_paths: self.store == Store::Paths,
            },
            out,
            checkpointing,
            params: self.params,
            given,
        })
    }
}

impl PiArgs {
    fn into_job(self) -> PiJob {
        PiJob {
            samples: self.samples,
            chunk: self.chunk,
            seed: self.seed,
            out: self.out.into_output("pi.h5"),
        }
    }
}

impl MarkovArgs {
    fn into_job(self) -> MarkovJob {
        MarkovJob {
            chains: self.chains,
            days: self.days,
            seed: self.seed,
            out: self.out.into_output("markov.h5"),
        }
    }
}

/// Entry point of the binary; returns the process exit code.
pub fn main() -> i32 {
    // Before MPI starts: a stop signal that arrives during start-up is then
    // recorded (and honoured at the first check) instead of killing the rank.
    let stop = match crate::stop::StopSignal::install() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("parsim: error: cannot install signal handlers: {e}");
            return ExitCode::Runtime as i32;
        }
    };
    // FUNNELED: `--threads` runs stencil threads, MPI stays on this thread.
    // What the library provides is checked only when threads are asked for.
    let Some((universe, _provided)) = mpi::initialize_with_threading(mpi::Threading::Funneled)
    else {
        eprintln!("parsim: error: MPI could not be initialised");
        return ExitCode::Runtime as i32;
    };
    let world = universe.world();
    let rank = world.rank();
    crate::par::install_panic_abort(rank);

    let code = match with_deck(&world, std::env::args_os().collect()) {
        Ok(e) => parse_and_run(&world, e.args, e.deck, &stop),
        Err(failure) => {
            if rank == 0 {
                eprintln!("parsim: error: {}", failure.message);
            }
            failure.code as i32
        }
    };
    drop(universe); // MPI_Finalize on every rank before exiting
    code
}

/// Collective: the command line with an input deck's options put in
/// (`parsim run DECK`, `--config DECK`): rank 0 reads the deck and every
/// rank gets the same text, so all reach the same verdict. The deck's path
/// and text, for provenance.
fn with_deck<C: Communicator>(
    world: &C,
    raw: Vec<std::ffi::OsString>,
) -> Outcome<crate::deck::Expanded> {
    let Some(path) = crate::deck::deck_path(&raw) else {
        return Ok(crate::deck::Expanded {
            args: raw,
            deck: None,
        });
    };
    let text = crate::par::broadcast_json(world, || {
        let cannot =
            |why: String| Failure::usage(format!("cannot read deck '{}': {why}", path.display()));
        // A FIFO or a device would block rank 0 while the others wait.
        if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(cannot("not a regular file".into()));
        }
        std::fs::read_to_string(&path).map_err(|e| cannot(e.to_string()))
    })?;
    crate::deck::expand(&raw, &text, workload_options).map_err(Failure::usage)
}

/// Collective: parse `args` (alike on every rank) and run the command;
/// the exit code. Help and version are printed by rank 0; errors are one
/// line from rank 0.
fn parse_and_run<C: Communicator>(
    world: &C,
    args: Vec<std::ffi::OsString>,
    deck: Option<(String, String)>,
    stop: &crate::stop::StopSignal,
) -> i32 {
    let rank = world.rank();
    let parsed = command().try_get_matches_from(args).and_then(|m| {
        let cli = <Cli as clap::FromArgMatches>::from_arg_matches(&m)?;
        let dry = cli
            .dry_run
            .then(|| effective_config(&command(), &m))
            .flatten();
        Ok((cli, given_options(&m), dry))
    });
    let (cli, given, dry) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return clap_exit(rank, &err, deck.as_ref()) as i32,
    };
    match dispatch(world, cli, given, deck, stop, dry) {
        Ok(()) => ExitCode::Success as i32,
        Err(failure) => {
            // Debug aid: every rank's own view of the failure.
            if std::env::var_os("PARSIM_DEBUG_ALL_RANKS").is_some() {
                eprintln!("parsim: rank {rank}: {}", failure.message);
            }
            if rank == 0 {
                eprintln!("parsim: error: {}", failure.message);
            }
            failure.code as i32
        }
    }
}

/// What a clap error means: help or version printed (success), or a usage
/// error in one line (rank 0 prints), naming the deck's line when the bad
/// value came from the deck.
fn clap_exit(rank: i32, err: &clap::Error, deck: Option<&(String, String)>) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            if rank == 0 {
                let _ = err.print();
            }
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::Usage
            } else {
                ExitCode::Success
            }
        }
        _ => {
            if rank == 0 {
                let line = first_line_of(err);
                match deck.and_then(|(path, text)| deck_origin(err, path, text)) {
                    Some(at) => eprintln!("parsim: {at}: {line}"),
                    None => eprintln!("parsim: {line}"),
                }
            }
            ExitCode::Usage
        }
    }
}

/// The subcommand's options given on the command line or in the deck (not
/// defaulted), by id ("paths", "record_every"): a restart takes the others
/// from its checkpoint.
fn given_options(m: &clap::ArgMatches) -> Vec<String> {
    let Some((_, sub)) = m.subcommand() else {
        return Vec::new();
    };
    sub.ids()
        .filter(|id| sub.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine))
        .map(|id| id.to_string())
        .collect()
}

fn dispatch<C: Communicator>(
    world: &C,
    cli: Cli,
    given: Vec<String>,
    deck: Option<(String, String)>,
    stop: &crate::stop::StopSignal,
    dry: Option<String>,
) -> Outcome {
    let (dry, rank0) = (dry.as_deref(), world.rank() == 0);
    let meta = match cli.command {
        Command::Completions { shell } => return show(rank0, completions(command(), shell)),
        Command::Man { subcommand } => {
            let page = man_page(command(), subcommand.as_deref()).map_err(Failure::usage)?;
            return show(rank0, page);
        }
        _ => RunMeta::collect(world, command_line(), deck),
    };
    let meta = &meta;
    match cli.command {
        Command::Completions { .. } | Command::Man { .. } => unreachable!("handled above"),
        Command::Run { .. } => Err(Failure::usage(
            "run needs a deck first: parsim run DECK.toml [options]",
        )),
        Command::Heat(a) => {
            let job = a.into_job()?;
            // Heat's configuration is checked against the ranks (the
            // process grid): its dry run resolves the plan too.
            let ranks = world.size() as usize;
            let dry = dry
                .map(|d| {
                    let cache = crate::heat::plan::agreed_cache(world);
                    HeatPlan::new(&job, None, ranks, cache).map(|p| format!("{d}{}", p.resolved()))
                })
                .transpose()?;
            run_or_show(rank0, Ok(job), dry.as_deref(), |j| {
                crate::heat::run::run(world, j, meta, stop)
            })
        }
        Command::Ou(a) => run_or_show(rank0, a.into_job(given), dry, |j| {
            crate::ensemble::ou_run::run(world, j, meta, stop)
        }),
        Command::Pi(a) => run_or_show(rank0, Ok(a.into_job()), dry, |j| {
            crate::ensemble::pi_run::run(world, j, meta, stop)
        }),
        Command::Markov(a) => run_or_show(rank0, Ok(a.into_job()), dry, |j| {
            crate::ensemble::markov_run::run(world, j, meta, stop)
        }),
        Command::Mandelbrot(a) => run_or_show(rank0, Ok(a.into_job()), dry, |j| {
            crate::patterns::mandel_run::run(world, j, meta, stop)
        }),
        Command::Integrate(a) => run_or_show(rank0, a.into_job(), dry, |j| {
            crate::patterns::integrate_run::run(world, j, meta, stop)
        }),
        Command::Pairs(a) => run_or_show(rank0, a.into_job(), dry, |j| {
            crate::patterns::pairs_run::run(world, j, meta, stop)
        }),
    }
}

/// Run the validated `job`; with `--dry-run` (`dry`: the effective
/// configuration) print that instead: by then every option has passed the
/// same checks a run makes before it starts.
fn run_or_show<J>(
    rank0: bool,
    job: Outcome<J>,
    dry: Option<&str>,
    run: impl FnOnce(&J) -> Outcome,
) -> Outcome {
    let job = job?;
    match dry {
        Some(text) => show(rank0, text.to_string()),
        None => run(&job),
    }
}

/// Rank 0 prints `text` to stdout.
fn show(rank0: bool, text: String) -> Outcome {
    if rank0 {
        print!("{text}");
    }
    Ok(())
}

/// The default checkpoint: beside the output (`run.h5` -> `run.ckpt.h5`),
/// or `<workload>.ckpt.h5` when nothing is written.
fn checkpoint_beside(output: &Option<PathBuf>, workload: &str) -> PathBuf {
    match output {
        Some(out) => out.with_extension("ckpt.h5"),
        None => PathBuf::from(format!("{workload}.ckpt.h5")),
    }
}

/// clap's error without the usage block: the "error: ..." line, clap's
/// tips ("a similar argument exists: '--steps'") kept on the same line,
/// and the hint to `--help` so the user knows where to look.
fn first_line_of(err: &clap::Error) -> String {
    one_line_with_tips(&err.render().to_string())
}

/// Where in the deck a value clap refused was set ("deck 'd.toml' line
/// 2"), when the value is the deck's (not one typed after it).
fn deck_origin(err: &clap::Error, path: &str, text: &str) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let text_of = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let arg = text_of(ContextKind::InvalidArg)?;
    let value = text_of(ContextKind::InvalidValue)?;
    let key = arg
        .strip_prefix("--")?
        .split([' ', '='])
        .next()?
        .to_string();
    let table: toml::Table = text.parse().ok()?;
    let set = match table.get(&key)? {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let line = text
        .lines()
        .position(|l| l.split('=').next().map(str::trim) == Some(key.as_str()))?;
    (set == value).then(|| format!("deck '{path}' line {}", line + 1))
}

fn one_line_with_tips(rendered: &str) -> String {
    let first = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid arguments");
    let tips: Vec<&str> = rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .collect();
    let help = if tips.is_empty() {
        "(see --help)".to_string()
    } else {
        format!("(tip: {}; see --help)", tips.join("; "))
    };
    format!("{} {help}", crate::error::one_line(first))
}

/// The command line as a shell would need it typed, for provenance.
/// Bytes that are not UTF-8 are shown as U+FFFD (the file names the run
/// used are the real ones; this is a record for people).
fn command_line() -> String {
    std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=./,:+@%".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_keep_their_tip_on_one_line() {
        let err = command()
            .try_get_matches_from(["parsim", "heat", "--stesp", "5"])
            .unwrap_err();
        assert_eq!(
            first_line_of(&err),
            "error: unexpected argument '--stesp' found \
             (tip: a similar argument exists: '--steps'; see --help)"
        );
        let err = command()
            .try_get_matches_from(["parsim", "heat", "--nx", "big"])
            .unwrap_err();
        let line = first_line_of(&err);
        assert!(
            line.starts_with("error: invalid value 'big' for '--nx"),
            "{line}"
        );
        assert!(
            line.ends_with("(see --help)") && !line.contains('\n'),
            "{line}"
        );
    }

    #[test]
    fn the_long_version_says_what_the_binary_was_built_with() {
        let v = command().render_long_version();
        let lines: Vec<&str> = v.lines().collect();
        assert!(lines[0].starts_with("parsim 0.1.0 (commit "), "{v}");
        assert!(lines[1].starts_with("MPI library: "), "{v}");
        assert!(lines[2].starts_with("HDF5: 1."), "{v}");
        assert!(
            lines[3].starts_with("parallel I/O (--io parallel): "),
            "{v}"
        );
        assert_eq!(command().render_version(), "parsim 0.1.0\n");
    }

    #[test]
    fn help_names_each_default_file_and_groups_the_output_options() {
        let mut cmd = command();
        let help = cmd
            .find_subcommand_mut("pairs")
            .unwrap()
            .render_help()
            .to_string();
        assert!(
            help.contains("HDF5 result file [default: pairs.h5]"),
            "{help}"
        );
        let output = help.find("Output:").expect("an Output heading");
        for flag in ["--output", "--no-output", "--force", "--json", "--quiet"] {
            assert!(
                help.find(flag).unwrap() > output,
                "{flag} is not under Output:\n{help}"
            );
        }
    }
}
