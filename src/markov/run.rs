//! `parsim markov`: a 3-state Markov chain (bull/bear/recession), the
//! fraction of days in each state against the stationary distribution;
//! chains on the driver (see [`crate::montecarlo`]).
//!
//! ```text
//! /markov    attrs: chains, days, seed, transition [3x3 flattened],
//!                   stationary_theory [3], fractions [3], z [3]
//!   state_days   u64 [chains, 3]  days each chain spent in each state
//! ```

use std::ops::Range;

use mpi::traits::*;
use serde::Serialize;

use super::kernel::{markov_days, state_score, MARKOV_P, MARKOV_PI, MARKOV_STATES};
use crate::driver::Printed;
use crate::error::Outcome;
use crate::h5::{
    write_along, write_index_axis, write_label_axis, write_list, write_num, write_table, RunMeta,
};
use crate::montecarlo::{mc_phases, Estimator, Gathered, McPhases};
use crate::par;
use crate::report::RunInfo;
use crate::report::Z_LIMIT;
use crate::result::{finish, output_line};
use crate::rng::stream;
use crate::stop::StopSignal;

/// A checked Markov run (made by `super::options`).
#[derive(Debug, Clone)]
pub struct MarkovPlan {
    pub chains: u64,
    pub days: u64,
    pub seed: u64,
    /// The result file and how the report is shown.
    pub out: crate::driver::Output,
}

#[derive(Debug, Clone, Serialize)]
pub struct MarkovReport {
    #[serde(flatten)]
    pub run: crate::report::RunInfo,
    pub chains: u64,
    pub days: u64,
    pub seed: u64,
    pub states: [&'static str; 3],
    /// Fraction of all days spent in each state.
    pub fractions: [f64; 3],
    pub theory: [f64; 3],
    /// Standard error of each fraction under the chain's law (exact for
    /// the chain length); never None since the law replaced the spread
    /// between chains (which one chain does not have).
    pub stderr: [Option<f64>; 3],
    /// Normal score of each state's days against the chain's law
    /// ([`state_score`]): about (fraction - theory) / stderr for long
    /// chains; never None.
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
    job: &MarkovPlan,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let est = Markov {
        job,
        version: meta.version,
    };
    crate::montecarlo::run(world, est, &job.out, meta, stop)
}

/// The Markov estimator: chains, days in each state counted per chain.
pub struct Markov<'a> {
    job: &'a MarkovPlan,
    version: &'static str,
}

impl Estimator for Markov<'_> {
    type Report = MarkovReport;
    const NAME: &'static str = "markov";
    type Count = u64;
    const PER_UNIT: usize = 3;

    const UNIT: &'static str = "chain";
    const RATE: &'static str = "Mchain-days/s";

    fn units(&self) -> u64 {
        self.job.chains
    }

    fn work_per_unit(&self) -> u64 {
        self.job.days
    }

    fn count(&self, units: Range<usize>, out: &mut Vec<u64>) {
        let (seed, days) = (self.job.seed, self.job.days);
        for c in units {
            out.extend(markov_days(&mut stream(seed, c as u64), days));
        }
    }

    fn conclude<C: Communicator>(
        &self,
        comm: &C,
        end: Gathered<u64>,
    ) -> Outcome<Printed<MarkovReport>> {
        let (job, all) = (self.job, end.all);
        let stats = (comm.rank() == 0).then(|| markov_stats(&all, job));
        let (fractions, stderr, z) = stats.unwrap_or(([0.0; 3], [None; 3], [None; 3]));
        let passed = z.iter().flatten().all(|v| v.abs() < Z_LIMIT);
        let (wall, t_compute) = (end.wall, end.compute);
        let report = |gather_io: f64, output: Option<String>| {
            let [compute, gather_io] = par::spreads(comm, [t_compute, gather_io]);
            MarkovReport {
                run: RunInfo::new("markov", self.version, comm.size() as usize),
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
        let output = job.out.path.as_deref();
        let r = finish(comm, end.file, end.gather_start, output, report, |f| {
            write_markov(
                &f.create_group("markov")?,
                job,
                &all,
                (fractions, stderr, z),
            )
        })?;
        Ok(Printed {
            text: markov_text(&r),
            report: r,
            passed,
        })
    }
}

/// The `/markov` group: the chains' days per state, the law (transition
/// matrix, stationary distribution) and the measured fractions, along the
/// labelled axes `chain`, `state` (the state names), `from` and `to`. The
/// group's attributes keep the same numbers as flat lists (older readers).
fn write_markov(
    g: &hdf5::Group,
    job: &MarkovPlan,
    all: &[u64],
    (fractions, stderr, z): StateStats,
) -> hdf5::Result<()> {
    write_num(g, "chains", job.chains)?;
    write_num(g, "days", job.days)?;
    write_num(g, "seed", job.seed)?;
    write_list(g, "transition", &MARKOV_P.concat())?;
    write_list(g, "stationary_theory", &MARKOV_PI)?;
    write_list(g, "fractions", &fractions)?;
    let z = z.map(|v| v.unwrap_or(f64::NAN));
    write_list(g, "z", &z)?;
    let chain = write_index_axis(g, "chain", 0..job.chains, "chain index")?;
    let state = write_label_axis(g, "state", &MARKOV_STATES, "state of the chain")?;
    let from = write_label_axis(g, "from", &MARKOV_STATES, "state today")?;
    let to = write_label_axis(g, "to", &MARKOV_STATES, "state tomorrow")?;
    let what = "days each chain spent in each state";
    let shape = (job.chains as usize, 3);
    write_table(g, "state_days", shape, all, [&chain, &state], ("day", what))?;
    let what = "probability of moving from a state to another in a day";
    let p = MARKOV_P.concat();
    write_table(
        g,
        "transition_matrix",
        (3, 3),
        &p,
        [&from, &to],
        ("1", what),
    )?;
    let along = |name, values: &[f64], what| write_along(g, name, values, &state, ("1", what));
    along("stationary", &MARKOV_PI, "stationary distribution (theory)")?;
    along(
        "fraction",
        &fractions,
        "fraction of days in each state, mean over chains",
    )?;
    along(
        "fraction_stderr",
        &stderr.map(|v| v.unwrap_or(f64::NAN)),
        "standard error of the fraction under the chain's law",
    )?;
    along(
        "z",
        &z,
        "normal score of the state's days under the chain's law",
    )?;
    Ok(())
}

/// Per-state fraction of days (mean over chains, in chain order), its
/// standard error under the chain's law and the normal score of the days
/// counted against that law ([`state_score`]); defined for one chain too.
type StateStats = ([f64; 3], [Option<f64>; 3], [Option<f64>; 3]);

fn markov_stats(all: &[u64], job: &MarkovPlan) -> StateStats {
    let chains = job.chains as f64;
    let mut fractions = [0.0; 3];
    let mut stderr = [None; 3];
    let mut z = [None; 3];
    for k in 0..3 {
        let f: Vec<f64> = all
            .chunks_exact(3)
            .map(|c| c[k] as f64 / job.days as f64)
            .collect();
        fractions[k] = f.iter().sum::<f64>() / chains;
        let count = all.chunks_exact(3).map(|c| c[k]).sum();
        let (se, score) = state_score(job.chains, job.days, k, count);
        stderr[k] = Some(se);
        z[k] = Some(score);
    }
    (fractions, stderr, z)
}

fn markov_text(r: &MarkovReport) -> String {
    let (compute, gather_io) = (&r.phases.compute, &r.phases.gather_io);
    let mut text = format!(
        "parsim markov {}: 3-state Markov chain (bull/bear/recession)\n\
         Chains           : {} of {} days (seed {})\n\
         Ranks            : {}\n",
        r.run.version, r.chains, r.days, r.seed, r.run.ranks
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
