//! What a workload is to the rest of parsim: its options, its plan and
//! its run ([`Spec`]), and what scripts need to know of it ([`Info`]).
//! Every workload's `options.rs` implements it; `crate::workloads` lists
//! them.
//!
//! Every workload goes the same three steps, in the shape ripgrep uses for
//! its flags (raw options, then validated domain values, once):
//!
//! ```text
//! Options (clap) --inputs (rank 0, broadcast)--> Inputs
//!   --plan(options, inputs, setting)-->  Plan  --run-->  result + report
//!                                          |
//!                               --dry-run: printed instead
//! ```
//!
//! [`Spec::inputs`] is where rank 0 reads what the input files say of the
//! run (a restart's checkpoint, a parameter table, a points file's shape,
//! an initial field's shape and type), once, before the plan; every rank
//! gets it. [`Spec::plan`] then makes every check that depends on the
//! options, those inputs and the ranks (the run and `--dry-run` go through
//! it alike, so a dry run refuses exactly what a run refuses, input files
//! included); only what needs the machine (free memory, disk, CPUs) or a
//! file's bulk data (values read block by block) waits for the run.

use mpi::traits::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::cache::CacheShare;
use crate::error::Outcome;
use crate::h5::RunMeta;
use crate::stop::StopSignal;

/// What `parsim workloads --json` says of a workload: what the scripts
/// (scaling studies, plots, benchmarks) need to drive it without a list
/// of their own.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Info {
    /// The subcommand: "heat".
    pub name: &'static str,
    /// One line: what it computes.
    pub summary: &'static str,
    /// The options that set the problem size, and how a weak scaling study
    /// grows each with the ranks.
    pub size: &'static [Size],
    /// The report's rate: its JSON field and unit.
    pub rate: Rate,
    /// The report's phases (JSON keys under "phases"), in plotting order.
    pub phases: &'static [&'static str],
    /// The result file written when none is named.
    pub default_output: &'static str,
    /// The HDF5 group the results are in.
    pub group: &'static str,
    /// Whether it writes checkpoints (`--checkpoint-every`, `--restart`).
    pub checkpoints: bool,
    /// What a scaling study runs by default (option, value): every size
    /// option (strong: the whole problem; weak: one rank's share) and any
    /// other option a study sets, sized so a point takes seconds on a
    /// laptop core.
    pub study: &'static [(&'static str, &'static str)],
    /// How its ranks talk: what `scripts/scaling.py predict` builds the
    /// communication term of its cost model from.
    pub comm: Comm,
}

/// A workload's communication, as a cost model sees it: the pattern, the
/// report's phases it lands in, and the options that size its messages.
/// The model itself (latency and bandwidth per message, which links cross
/// nodes) is in `scripts/models.py`; a new workload that talks in one of
/// these patterns needs no change there.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "pattern", rename_all = "snake_case")]
pub enum Comm {
    /// Every `time_block` steps (the report's `execution.time_block`),
    /// each block sends bands that deep of its faces (and corners) to its
    /// neighbours on the process grid (rank = y * px + x), 8-byte cells,
    /// all messages posted at once; one-deep exchanges overlap the
    /// interior's update unless `overlap` is off (heat). With `nz` given
    /// the grid is 3D: one-deep faces only (the 7-point stencil reads no
    /// edge or corner) to up to six neighbours on the 3D process grid
    /// (rank = (z * py + y) * px + x), every step.
    Halo {
        phase: &'static str,
        compute: &'static str,
        nx: &'static str,
        ny: &'static str,
        nz: &'static str,
        steps: &'static str,
        overlap: &'static str,
    },
    /// P/2 ring steps, each passing a block of n/P points of `dim` f64 to
    /// the left neighbour while the held block is met (the wait is what
    /// the compute does not hide) (pairs).
    Ring {
        phase: &'static str,
        compute: &'static str,
        n: &'static str,
        dim: &'static str,
    },
    /// Rank 0 hands out `rows` in chunks of `chunk` on request, one round
    /// trip of two small messages per chunk, the next asked for while the
    /// current one is computed (mandelbrot's dynamic schedule).
    Dispatch {
        phase: &'static str,
        compute: &'static str,
        rows: &'static str,
        chunk: &'static str,
    },
    /// Independent work and all-reduces of a few numbers: latency times
    /// log2 p each (pi, integrate, markov, ou).
    Reduce { compute: &'static str },
}

/// An option that sets the problem size.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Size {
    /// The long option, without dashes: "paths".
    pub option: &'static str,
    /// How a weak study grows it with the rank count p.
    pub weak: Growth,
    /// The problem may go without it, and is then one dimension fewer
    /// (heat's `nz`: absent, the run is 2D). A study gives it or not.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// How a weak scaling study grows a size option with the rank count p,
/// so that the work per rank stays the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Growth {
    /// times p (work linear in the size).
    Linear,
    /// times sqrt(p) (work quadratic in the size: all pairs).
    Sqrt,
    /// times the process grid's ranks along x (heat's nx).
    GridX,
    /// times the process grid's ranks along y (heat's ny).
    GridY,
    /// times the process grid's ranks along z (heat's nz, a 3D run).
    GridZ,
}

/// A report's rate.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rate {
    /// The JSON field: "mlups".
    pub field: &'static str,
    /// Its unit, for tables: "MLUPS".
    pub unit: &'static str,
}

/// What a plan is made for: the ranks the run will have and what they
/// agreed on, and which options were given (not defaulted).
#[derive(Debug, Clone)]
pub struct Setting {
    /// Ranks in the run (MPI_COMM_WORLD's size).
    pub ranks: usize,
    /// The cache a core can count on, the smallest any rank's node reports.
    pub cache: CacheShare,
    /// The options given on the command line or in the deck (clap ids:
    /// "record_every"); a restart takes the others from its checkpoint.
    pub given: Vec<String>,
}

/// One workload: its options, its plan, its run.
pub trait Spec {
    /// The options as clap parses them.
    type Options: clap::Args + clap::FromArgMatches;
    /// The validated, resolved plan: a run of it is refused later only for
    /// what the options cannot tell (data, memory, disk, the output's
    /// directory).
    type Plan;
    /// What rank 0 reads of the input files before the plan (their
    /// metadata: shapes, types, a checkpoint's attributes, a small table),
    /// sent to every rank as JSON; `()` for a workload that reads none.
    type Inputs: Serialize + DeserializeOwned;
    /// Its entry in `parsim workloads`.
    const INFO: Info;

    /// Rank 0 only (`Launch::go` broadcasts the value or the failure):
    /// read the input files' metadata the options name. A missing,
    /// unreadable or malformed file is refused here, in one line naming
    /// it, so `--dry-run` refuses it too.
    fn inputs(options: &Self::Options, setting: &Setting) -> Outcome<Self::Inputs>;

    /// Every check that depends only on the options, the inputs' metadata
    /// and `setting`, once: the plan is complete (the run never plans
    /// again).
    fn plan(options: Self::Options, inputs: Self::Inputs, setting: &Setting)
        -> Outcome<Self::Plan>;

    /// What `--dry-run` adds to the effective options: the plan as
    /// resolved on these ranks (derived sizes, splits, schedule, memory),
    /// TOML comment lines, and what is checked only when the run starts.
    fn resolved(plan: &Self::Plan, setting: &Setting) -> String;

    /// The result file and how the report is shown.
    fn output(plan: &Self::Plan) -> &crate::driver::Output;

    /// The files the run reads besides its deck (a restart, a parameter
    /// table, points), as (what, path): no output may be one of them.
    fn reads(_plan: &Self::Plan) -> Vec<(&'static str, std::path::PathBuf)> {
        Vec::new()
    }

    /// The files the run writes besides its result and trace (a
    /// checkpoint, a sidecar), as (what, path).
    fn writes(_plan: &Self::Plan) -> Vec<(&'static str, std::path::PathBuf)> {
        Vec::new()
    }

    /// Collective: run the plan; the report is printed by rank 0.
    fn run<C: Communicator>(
        world: &C,
        plan: &Self::Plan,
        meta: &RunMeta,
        stop: &StopSignal,
    ) -> Outcome;
}
