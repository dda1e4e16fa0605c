//! `parsim ou`'s options and its plan: every check of them, once. A
//! parameter table (`--params`) and a restart's checkpoint are data: the
//! ensemble they make is checked when the run starts.

use std::path::PathBuf;

use clap::Args;
use mpi::traits::Communicator;

use super::model::{OuRequest, Sweep};
use super::run::OuJob;
use crate::error::{Failure, Outcome};
use crate::h5::RunMeta;
use crate::options::{CheckpointArgs, OutputArgs};
use crate::spec::{Comm, Growth, Info, Rate, Setting, Size, Spec};
use crate::stop::StopSignal;

/// What `--store` keeps of an OU ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Store {
    /// Ensemble mean and variance at every recorded time, final values.
    Stats,
    /// As stats, plus every recorded path.
    Paths,
}

#[derive(Debug, Args)]
pub struct OuArgs {
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

/// `parsim ou` in the registry.
pub struct Ou;

impl Spec for Ou {
    type Options = OuArgs;
    type Plan = OuJob;
    const INFO: Info = Info {
        name: "ou",
        summary:
            "Ornstein-Uhlenbeck ensemble (optionally a parameter sweep), members spread over ranks",
        size: &[Size {
            option: "paths",
            weak: Growth::Linear,
        }],
        rate: Rate {
            field: "steps_per_s",
            unit: "steps/s",
        },
        phases: &["compute", "reduce", "gather_io"],
        default_output: "ou.h5",
        group: "/ou",
        checkpoints: true,
        study: &[("paths", "8"), ("steps", "5000000")],
        comm: Comm::Reduce { compute: "compute" },
    };

    fn plan(a: OuArgs, s: &Setting) -> Outcome<OuJob> {
        let out = a.out.into_output(Self::INFO.default_output);
        let checkpointing = a.ckpt.into_checkpointing(&out, Self::INFO.name)?;
        let request = OuRequest {
            sweep: Sweep::Product {
                taus: a.tau,
                sigmas: a.sigma,
                dts: a.dt,
                x0s: a.x0,
            },
            paths: a.paths,
            steps: a.steps,
            record_every: a.record_every.unwrap_or((a.steps / 1000).max(1)),
            seed: a.seed,
            store_paths: a.store == Store::Paths,
        };
        // A table or a checkpoint completes the request: the ensemble is
        // checked once it is known, when the run starts; each count given
        // (or defaulted) is checked now.
        if a.params.is_none() && checkpointing.restart.is_none() {
            request.check().map_err(Failure::usage)?;
        } else {
            request.check_counts().map_err(Failure::usage)?;
        }
        Ok(OuJob {
            request,
            out,
            checkpointing,
            params: a.params,
            given: s.given.clone(),
        })
    }

    fn resolved(j: &OuJob, s: &Setting) -> String {
        let r = &j.request;
        if j.params.is_some() || j.checkpointing.restart.is_some() {
            return format!(
                "# resolved on {} ranks: the parameter sets come from {}: the ensemble is \
                 checked when the run starts (with free memory and the output file)\n",
                s.ranks,
                if j.params.is_some() {
                    "the --params table"
                } else {
                    "the restart's checkpoint"
                }
            );
        }
        let sets = r.sweep.len();
        let members = sets * r.paths as u128;
        let share = members.div_ceil(s.ranks as u128);
        let (round, _) = super::members::cadence(r.steps, j.checkpointing.every);
        format!(
            "# resolved on {ranks} ranks: {sets} parameter set(s) x {paths} paths = {members} \
             members,\n# at most {share} a rank, {steps} steps each, x recorded every {every} \
             steps ({samples} samples a path),\n# rounds of {round} steps of a group of 4 \
             members (a stop is heard at the end of one),\n# checkpoints: every {ckpt} \
             members' work a rank (0: only when stopped) to '{path}',\n# about {need} of \
             memory on rank 0\n# checked when the run starts: free memory, the output file\n",
            ranks = s.ranks,
            paths = r.paths,
            steps = r.steps,
            every = r.record_every,
            samples = r.steps / r.record_every + 1,
            ckpt = j.checkpointing.every,
            path = j.checkpointing.shown(),
            need = crate::memory::shown(r.memory_need(s.ranks as u128)),
        )
    }

    fn output(p: &OuJob) -> &crate::driver::Output {
        &p.out
    }

    fn reads(j: &OuJob) -> Vec<(&'static str, std::path::PathBuf)> {
        let restart = j.checkpointing.restart.clone().map(|r| ("--restart", r));
        let params = j.params.clone().map(|p| ("--params", p));
        restart.into_iter().chain(params).collect()
    }

    fn writes(j: &OuJob) -> Vec<(&'static str, std::path::PathBuf)> {
        vec![("--checkpoint", j.checkpointing.path.clone())]
    }

    fn run<C: Communicator>(w: &C, j: &OuJob, meta: &RunMeta, stop: &StopSignal) -> Outcome {
        super::run::run(w, j, meta, stop)
    }
}
