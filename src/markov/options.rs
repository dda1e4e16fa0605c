//! `parsim markov`'s options and its plan: every check of them, once.

use clap::Args;
use mpi::traits::Communicator;

use super::chain::{self, Matrix, Source};
use super::plan::ChainPlan;
use super::run::MarkovPlan;
use crate::check::{at_least, at_most};
use crate::error::{Failure, Outcome};
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
    /// The transition matrix: rows separated by ';', entries by ','
    /// ('0.9,0.1;0.5,0.5'), or a file FILE.csv (one row a line) or
    /// FILE.npy (2-D float64); rows must sum to 1 within 1e-12 per state.
    /// Default: the built-in bull/bear/recession chain.
    #[arg(long, value_name = "ROWS|FILE")]
    matrix: Option<String>,
    /// The state every chain starts in (0-based). Default: the first day
    /// drawn from the stationary distribution.
    #[arg(long, value_name = "K")]
    initial_state: Option<usize>,
    #[command(flatten)]
    out: OutputArgs,
}

/// `parsim markov` in the registry.
pub struct Markov;

impl Spec for Markov {
    type Options = MarkovArgs;
    type Plan = MarkovPlan;
    /// The user's matrix (`--matrix`), read by rank 0.
    type Inputs = Option<Matrix>;
    const INFO: Info = Info {
        name: "markov",
        summary:
            "Markov chain (3-state bull/bear/recession, or --matrix): fraction of days per state",
        size: &[Size {
            option: "chains",
            weak: Growth::Linear,
            optional: false,
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

    fn inputs(a: &MarkovArgs, _: &Setting) -> Outcome<Option<Matrix>> {
        a.matrix
            .as_deref()
            .map(chain::read)
            .transpose()
            .map_err(Failure::usage)
    }

    fn plan(a: MarkovArgs, matrix: Option<Matrix>, _: &Setting) -> Outcome<MarkovPlan> {
        at_least("chains", a.chains, 1)?;
        at_least("days", a.days, 1)?;
        let chain = ChainPlan::new(matrix, a.initial_state).map_err(Failure::usage)?;
        at_most("chains", a.chains, MAX_UNITS / chain.matrix.n as u64)?;
        Ok(MarkovPlan {
            chains: a.chains,
            days: a.days,
            seed: a.seed,
            out: a.out.into_output(Self::INFO.default_output),
            chain,
        })
    }

    fn resolved(p: &MarkovPlan, s: &Setting) -> String {
        let units = montecarlo::Units {
            count: p.chains,
            name: "chain",
            work: p.days,
            counts_per_unit: p.chain.matrix.n,
            count_bytes: 8,
        };
        let chain = format!("# chain: {}\n", p.chain.described());
        chain + &montecarlo::resolved(&units, s.ranks)
    }

    fn reads(p: &MarkovPlan) -> Vec<(&'static str, std::path::PathBuf)> {
        match &p.chain.matrix.source {
            Source::File(path) => vec![("--matrix", path.clone())],
            _ => Vec::new(),
        }
    }

    fn output(p: &MarkovPlan) -> &crate::driver::Output {
        &p.out
    }

    fn run<C: Communicator>(w: &C, p: &MarkovPlan, meta: &RunMeta, stop: &StopSignal) -> Outcome {
        super::run::run(w, p, meta, stop)
    }
}
