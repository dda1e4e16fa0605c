//! `parsim ou`'s options and its plan: every check of them, once, with
//! the parameter table (`--params`) and the restart's checkpoint the
//! inputs step read (`super::inputs`): the ensemble is complete and
//! checked here, for the run and `--dry-run` alike.

use std::path::PathBuf;

use clap::Args;
use mpi::traits::Communicator;

use super::inputs::OuInputs;
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
    type Inputs = OuInputs;
    const INFO: Info = Info {
        name: "ou",
        summary:
            "Ornstein-Uhlenbeck ensemble (optionally a parameter sweep), members spread over ranks",
        size: &[Size {
            option: "paths",
            weak: Growth::Linear,
            optional: false,
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

    fn inputs(a: &OuArgs, _: &Setting) -> Outcome<OuInputs> {
        OuInputs::read(a.params.as_deref(), a.ckpt.restart())
    }

    fn plan(a: OuArgs, inputs: OuInputs, s: &Setting) -> Outcome<OuJob> {
        let out = a.out.into_output(Self::INFO.default_output);
        let checkpointing = a.ckpt.into_checkpointing(&out, Self::INFO.name)?;
        let mut request = OuRequest {
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
        // The table replaces the lists; a checkpoint fills in what was
        // not given, and must then be the same ensemble.
        if let Some(rows) = inputs.params {
            request.sweep = Sweep::Table(rows);
        }
        let resume = inputs.restart;
        if let Some(m) = &resume {
            request = m.fill_in(request, &s.given);
        }
        request.check().map_err(Failure::usage)?;
        if let Some(m) = &resume {
            m.check_same(&request)?;
        }
        Ok(OuJob {
            request,
            out,
            checkpointing,
            params: a.params,
            resume,
        })
    }

    fn resolved(j: &OuJob, s: &Setting) -> String {
        let r = &j.request;
        let sets = r.sweep.len();
        let members = sets * r.paths as u128;
        let share = members.div_ceil(s.ranks as u128);
        let (round, _) = super::members::cadence(r.steps, j.checkpointing.every);
        let from = match (&j.params, &j.resume) {
            (Some(p), _) => format!("# parameter sets from the table '{}'\n", p.display()),
            _ => String::new(),
        };
        let resumed = j.resume.as_ref().map_or(String::new(), |m| {
            format!("# continues the ensemble of '{}'\n", m.path)
        });
        format!(
            "# resolved on {ranks} ranks: {sets} parameter set(s) x {paths} paths = {members} \
             members,\n# at most {share} a rank, {steps} steps each, x recorded every {every} \
             steps ({samples} samples a path),\n# rounds of {round} steps of a group of 4 \
             members (a stop is heard at the end of one),\n# checkpoints: every {ckpt} \
             members' work a rank (0: only when stopped) to '{path}',\n{from}{resumed}# about \
             {need} of memory on rank 0\n# checked when the run starts: free memory, the output \
             file\n",
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
