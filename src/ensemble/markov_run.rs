//! `parsim markov`: a 3-state Markov chain (bull/bear/recession), the
//! fraction of days in each state against the stationary distribution;
//! chains on the driver (see [`super::mc_run`]).
//!
//! ```text
//! /markov    attrs: chains, days, seed, transition [3x3 flattened],
//!                   stationary_theory [3], fractions [3], z [3]
//!   state_days   u64 [chains, 3]  days each chain spent in each state
//! ```

use std::path::PathBuf;

use mpi::traits::*;
use serde::Serialize;

use super::mc::{markov_days, MARKOV_P, MARKOV_PI, MARKOV_STATES};
use super::mc_run::{
    at_least, at_most, create_result, finish, mc_phases, output_line, McPhases, MAX_UNITS,
    ROUND_WORK,
};
use super::{gather_ordered, Z_LIMIT};
use crate::driver::{After, Clock, Position, Printed, Workload};
use crate::error::{Failure, Outcome};
use crate::h5::{write_list, write_num, ResultFile, RunMeta};
use crate::par;
use crate::progress::Meter;
use crate::rng::stream;
use crate::stop::StopSignal;

#[derive(Debug, Clone)]
pub struct MarkovJob {
    pub chains: u64,
    pub days: u64,
    pub seed: u64,
    pub output: Option<PathBuf>,
    pub force: bool,
    pub json: bool,
    pub quiet: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MarkovReport {
    pub workload: &'static str,
    pub version: &'static str,
    pub ranks: usize,
    pub chains: u64,
    pub days: u64,
    pub seed: u64,
    pub states: [&'static str; 3],
    /// Fraction of all days spent in each state.
    pub fractions: [f64; 3],
    pub theory: [f64; 3],
    /// Standard error from the spread between chains (None for one chain).
    pub stderr: [Option<f64>; 3],
    pub z: [Option<f64>; 3],
    pub passed: bool,
    pub wall_time_s: f64,
    pub days_per_s: f64,
    pub phases: McPhases,
    pub output: Option<String>,
}

/// Collective: `parsim markov`.
pub fn run<C: Communicator>(
    world: &C,
    job: &MarkovJob,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let markov = MarkovRun::new(world, job, meta)?;
    crate::driver::run(markov, stop, job.quiet, job.json)
}

/// `parsim markov` on the driver: chains dealt out in rounds.
pub struct MarkovRun<'a, C: Communicator> {
    comm: &'a C,
    job: &'a MarkovJob,
    meta: &'a RunMeta,
    file: Option<ResultFile>,
    rounds: super::Rounds,
    /// Days in each state of this rank's finished chains, 3 per chain.
    counts: Vec<u64>,
    t_compute: f64,
}

impl<'a, C: Communicator> MarkovRun<'a, C> {
    /// Collective: check the job (alike on every rank), reserve the output.
    pub fn new(comm: &'a C, job: &'a MarkovJob, meta: &'a RunMeta) -> Outcome<Self> {
        at_least("chains", job.chains, 1)?;
        at_least("days", job.days, 1)?;
        at_most("chains", job.chains, MAX_UNITS / 3)?;
        let file = create_result(comm, job.output.as_deref(), job.force, meta)?;
        let per_round = (ROUND_WORK / job.days).max(1) as usize;
        let rounds = super::Rounds::new(comm, job.chains as usize, per_round);
        Ok(Self {
            comm,
            job,
            meta,
            file,
            counts: Vec::with_capacity(3 * rounds.range.len()),
            rounds,
            t_compute: 0.0,
        })
    }
}

impl<C: Communicator> Workload for MarkovRun<'_, C> {
    type Comm = C;
    type Report = MarkovReport;
    const NAME: &'static str = "markov";
    const JUDGED: &'static str = "the estimate";

    fn comm(&self) -> &C {
        self.comm
    }

    fn meter(&self) -> Meter {
        Meter {
            label: "markov",
            total: self.job.chains,
            unit: "chain",
            work_per_unit: self.job.days as f64,
            rate_name: "Mchain-days/s",
        }
    }

    fn position(&self) -> Position {
        self.rounds.position()
    }

    fn rounds_left(&self) -> bool {
        self.rounds.left()
    }

    fn advance(&mut self) -> Outcome<After> {
        let a = mpi::time();
        let (seed, days) = (self.job.seed, self.job.days);
        for c in self.rounds.next_units() {
            self.counts
                .extend(markov_days(&mut stream(seed, c as u64), days));
        }
        self.t_compute += mpi::time() - a;
        Ok(After::Check { fault: false })
    }

    fn fault(&self) -> Failure {
        Failure::runtime(anyhow::anyhow!("markov: a rank reported a fault"))
    }

    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<MarkovReport>> {
        let wall = clock.wall;
        let (comm, job) = (self.comm, self.job);
        let t1 = mpi::time();
        let all = gather_ordered(comm, &self.counts, &self.rounds.table, 3);
        let stats = (comm.rank() == 0).then(|| markov_stats(&all, job));
        let (fractions, stderr, z) = stats.unwrap_or(([0.0; 3], [None; 3], [None; 3]));
        let passed = z.iter().flatten().all(|v| v.abs() < Z_LIMIT);
        let t_compute = self.t_compute;
        let report = |gather_io: f64, output: Option<String>| {
            let [compute, gather_io] = par::spreads(comm, [t_compute, gather_io]);
            MarkovReport {
                workload: "markov",
                version: self.meta.version,
                ranks: comm.size() as usize,
                chains: job.chains,
                days: job.days,
                seed: job.seed,
                states: MARKOV_STATES,
                fractions,
                theory: MARKOV_PI,
                stderr,
                z,
                passed,
                wall_time_s: wall,
                days_per_s: job.chains as f64 * job.days as f64 / wall,
                phases: McPhases { compute, gather_io },
                output,
            }
        };
        let r = finish(
            comm,
            self.file.take(),
            t1,
            job.output.as_deref(),
            report,
            |f| {
                let g = f.create_group("markov")?;
                write_num(&g, "chains", job.chains)?;
                write_num(&g, "days", job.days)?;
                write_num(&g, "seed", job.seed)?;
                write_list(&g, "transition", &MARKOV_P.concat())?;
                write_list(&g, "stationary_theory", &MARKOV_PI)?;
                write_list(&g, "fractions", &fractions)?;
                write_list(&g, "z", &z.map(|v| v.unwrap_or(f64::NAN)))?;
                g.new_dataset_builder()
                    .with_data(
                        &ndarray::Array2::from_shape_vec((job.chains as usize, 3), all.clone())
                            .map_err(|e| hdf5::Error::from(e.to_string()))?,
                    )
                    .create("state_days")?;
                Ok(())
            },
        )?;
        Ok(Printed {
            text: markov_text(&r),
            report: r,
            passed,
        })
    }
}

/// Per-state fraction of days (mean over chains, in chain order), its
/// standard error and z-score against theory (`None` for one chain).
type StateStats = ([f64; 3], [Option<f64>; 3], [Option<f64>; 3]);

fn markov_stats(all: &[u64], job: &MarkovJob) -> StateStats {
    let chains = job.chains as f64;
    let mut fractions = [0.0; 3];
    let mut stderr = [None; 3];
    let mut z = [None; 3];
    for k in 0..3 {
        let f: Vec<f64> = all
            .chunks_exact(3)
            .map(|c| c[k] as f64 / job.days as f64)
            .collect();
        let mean = f.iter().sum::<f64>() / chains;
        fractions[k] = mean;
        if job.chains >= 2 {
            let var = f.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (chains - 1.0);
            let se = (var / chains).sqrt();
            stderr[k] = Some(se);
            z[k] = (se > 0.0).then(|| (mean - MARKOV_PI[k]) / se);
        }
    }
    (fractions, stderr, z)
}

fn markov_text(r: &MarkovReport) -> String {
    let (compute, gather_io) = (&r.phases.compute, &r.phases.gather_io);
    let mut text = format!(
        "parsim markov {}: 3-state Markov chain (bull/bear/recession)\n\
         Chains           : {} of {} days (seed {})\n\
         Ranks            : {}\n",
        r.version, r.chains, r.days, r.seed, r.ranks
    );
    for k in 0..3 {
        let zs = r.z[k].map_or("n/a".into(), |v| format!("{v:+.3}"));
        text += &format!(
            "State {:<10} : fraction {:.6} (theory {:.6}, z {zs})\n",
            r.states[k], r.fractions[k], r.theory[k]
        );
    }
    text += &format!(
        "Validation       : |z| < {Z_LIMIT} for every state: {}\n\
         Wall time        : {:.6} s\n\
         Rate             : {:.4e} chain-days/s\n{}{}",
        crate::report::verdict(r.passed),
        r.wall_time_s,
        r.days_per_s,
        mc_phases(compute, gather_io),
        output_line(&r.output),
    );
    text
}
