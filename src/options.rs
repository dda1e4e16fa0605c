//! Options every workload shares (the result file and how the report is
//! shown) and those of the workloads that keep checkpoints, as clap parses
//! them, with their conversion into the driver's [`Output`] and
//! [`Checkpointing`]. Each workload's own options live in its folder
//! (`heat/options.rs`, ...).

use std::path::PathBuf;

use clap::Args;

use crate::driver::{Checkpointing, Output};
use crate::error::Outcome;

/// Output options shared by every subcommand, under one heading with the
/// workload's own output options.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
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
    pub fn into_output(self, default: &str) -> Output {
        Output {
            path: (!self.no_output).then(|| self.output.unwrap_or_else(|| default.into())),
            force: self.force,
            json: self.json,
            quiet: self.quiet,
            trace: self.trace,
        }
    }
}

/// Checkpoint options of the workloads that keep one (heat, ou).
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// Write a checkpoint every N units of work: steps (heat), members'
    /// work per rank (ou); 0: only when stopped by a signal.
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
    /// `--restart`: the file the run continues, whose metadata the
    /// inputs step reads before the plan.
    pub fn restart(&self) -> Option<&std::path::Path> {
        self.restart.as_deref()
    }

    /// `--checkpoint-every` as given (0: only when stopped).
    pub fn every(&self) -> u64 {
        self.checkpoint_every
    }

    /// Where and how often `workload` checkpoints (never onto another of
    /// its outputs: `crate::workloads` compares every path the run writes).
    pub fn into_checkpointing(self, out: &Output, workload: &str) -> Outcome<Checkpointing> {
        let path = self
            .checkpoint
            .unwrap_or_else(|| checkpoint_beside(&out.path, workload));
        Ok(Checkpointing {
            path,
            every: self.checkpoint_every,
            restart: self.restart,
        })
    }
}

/// The default checkpoint: beside the output (`run.h5` -> `run.ckpt.h5`),
/// or `<workload>.ckpt.h5` when nothing is written.
fn checkpoint_beside(output: &Option<PathBuf>, workload: &str) -> PathBuf {
    match output {
        Some(out) => out.with_extension("ckpt.h5"),
        None => PathBuf::from(format!("{workload}.ckpt.h5")),
    }
}

/// A switch given as `on` or `off` (`--overlap`).
pub fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected on or off, got '{s}'")),
    }
}
