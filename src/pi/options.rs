//! `parsim pi`'s options and its plan: every check of them, once.

use clap::Args;
use mpi::traits::Communicator;

use super::kernel::DEFAULT_PI_CHUNK;
use super::run::PiPlan;
use crate::check::{at_least, at_most};
use crate::error::{Failure, Outcome};
use crate::h5::RunMeta;
use crate::montecarlo::{self, Chunking, MAX_UNITS};
use crate::options::OutputArgs;
use crate::spec::{Comm, Growth, Info, Rate, Setting, Size, Spec};
use crate::stop::StopSignal;

#[derive(Debug, Args)]
pub struct PiArgs {
    /// Number of samples.
    #[arg(long, default_value_t = 1_000_000_000)]
    samples: u64,
    /// Seed.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Samples per chunk (the unit of work with its own random stream).
    #[arg(long, default_value_t = DEFAULT_PI_CHUNK)]
    chunk: u64,
    #[command(flatten)]
    out: OutputArgs,
}

/// `parsim pi` in the registry.
pub struct Pi;

impl Spec for Pi {
    type Options = PiArgs;
    type Plan = PiPlan;
    type Inputs = ();
    const INFO: Info = Info {
        name: "pi",
        summary:
            "Monte Carlo estimate of pi (hit-or-miss), chunks of samples with their own streams",
        size: &[Size {
            option: "samples",
            weak: Growth::Linear,
            optional: false,
        }],
        rate: Rate {
            field: "samples_per_s",
            unit: "samples/s",
        },
        phases: &["compute", "gather_io"],
        default_output: "pi.h5",
        group: "/pi",
        checkpoints: false,
        study: &[("samples", "1000000000")],
        comm: Comm::Reduce { compute: "compute" },
    };

    fn inputs(_: &PiArgs, _: &Setting) -> Outcome {
        Ok(())
    }

    fn plan(a: PiArgs, (): (), _: &Setting) -> Outcome<PiPlan> {
        at_least("samples", a.samples, 1)?;
        at_least("chunk", a.chunk, 1)?;
        let chunks = Chunking {
            total: a.samples,
            size: a.chunk,
        };
        at_most("samples", chunks.count(), MAX_UNITS).map_err(|_| {
            Failure::usage(format!(
                "--samples {} in chunks of {} makes {} chunks (at most {MAX_UNITS}); raise --chunk",
                a.samples,
                a.chunk,
                chunks.count()
            ))
        })?;
        Ok(PiPlan {
            samples: a.samples,
            chunk: a.chunk,
            seed: a.seed,
            chunks,
            out: a.out.into_output(Self::INFO.default_output),
        })
    }

    fn resolved(p: &PiPlan, s: &Setting) -> String {
        let units = montecarlo::Units {
            count: p.chunks.count(),
            name: "chunk",
            work: p.chunk,
            counts_per_unit: 1,
            count_bytes: 8,
        };
        montecarlo::resolved(&units, s.ranks)
    }

    fn output(p: &PiPlan) -> &crate::driver::Output {
        &p.out
    }

    fn run<C: Communicator>(w: &C, p: &PiPlan, meta: &RunMeta, stop: &StopSignal) -> Outcome {
        super::run::run(w, p, meta, stop)
    }
}
