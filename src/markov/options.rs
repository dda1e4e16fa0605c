//! `parsim markov`'s options and its plan: every check of them, once.

use clap::Args;
use mpi::traits::Communicator;

use super::run::MarkovPlan;
use crate::check::{at_least, at_most};
use crate::error::Outcome;
use crate::h5::RunMeta;
use crate::montecarlo::{self, MAX_UNITS};
use crate::options::OutputArgs;
use crate::spec::{Comm, Growth, Info, Rate, Setting, Size, Spec};
use crate::stop::StopSignal;

#[derive(Debug, Args)]
pub struct MarkovArgs {
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

/// `parsim markov` in the registry.
pub struct Markov;

impl Spec for Markov {
    type Options = MarkovArgs;
    type Plan = MarkovPlan;
    type Inputs = ();
    const INFO: Info = Info {
        name: "markov",
        summary: "3-state Markov chain (bull/bear/recession): fraction of days per state",
        size: &[Size {
            option: "chains",
            weak: Growth::Linear,
        }],
        rate: Rate {
            field: "days_per_s",
            unit: "chain-days/s",
        },
        phases: &["compute", "gather_io"],
        default_output: "markov.h5",
        group: "/markov",
        checkpoints: false,
        study: &[("chains", "1000"), ("days", "100000")],
        comm: Comm::Reduce { compute: "compute" },
    };

    fn inputs(_: &MarkovArgs, _: &Setting) -> Outcome {
        Ok(())
    }

    fn plan(a: MarkovArgs, (): (), _: &Setting) -> Outcome<MarkovPlan> {
        at_least("chains", a.chains, 1)?;
        at_least("days", a.days, 1)?;
        at_most("chains", a.chains, MAX_UNITS / 3)?;
        Ok(MarkovPlan {
            chains: a.chains,
            days: a.days,
            seed: a.seed,
            out: a.out.into_output(Self::INFO.default_output),
        })
    }

    fn resolved(p: &MarkovPlan, s: &Setting) -> String {
        let units = montecarlo::Units {
            count: p.chains,
            name: "chain",
            work: p.days,
            counts_per_unit: 3,
            count_bytes: 8,
        };
        montecarlo::resolved(&units, s.ranks)
    }

    fn output(p: &MarkovPlan) -> &crate::driver::Output {
        &p.out
    }

    fn run<C: Communicator>(w: &C, p: &MarkovPlan, meta: &RunMeta, stop: &StopSignal) -> Outcome {
        super::run::run(w, p, meta, stop)
    }
}
