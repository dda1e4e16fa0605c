//! `parsim markov`: a Markov chain (the built-in 3-state one or the
//! user's `--matrix`), the fraction of days in each state against the
//! stationary distribution; chains on the driver (see
//! [`crate::montecarlo`]).
//!
//! ```text
//! /markov    attrs: chains, days, seed, transition [n x n flattened],
//!                   stationary_theory [n], fractions [n], z [n]
//!            and with --matrix or --initial-state: matrix_source,
//!                   matrix_checksum, initial_state (-1: drawn from pi),
//!                   stationary_residual, validation_law, validated,
//!                   validation_note
//!   state_days   u64 [chains, n]  days each chain spent in each state
//! ```

use std::ops::Range;

use mpi::traits::*;
use serde::Serialize;

use super::kernel::Walk;
use super::plan::ChainPlan;
use super::validate::{scores, Law};
use crate::driver::Printed;
use crate::error::Outcome;
use crate::h5::{
    write_along, write_index_axis, write_label_axis, write_list, write_num, write_str, write_table,
    RunMeta,
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
    /// The chain walked, its law and first day.
    pub chain: ChainPlan,
}

#[derive(Debug, Clone, Serialize)]
pub struct MarkovReport {
    #[serde(flatten)]
    pub run: crate::report::RunInfo,
    pub chains: u64,
    pub days: u64,
    pub seed: u64,
    pub states: Vec<String>,
    /// Fraction of all days spent in each state.
    pub fractions: Vec<f64>,
    /// The stationary distribution, solved (null where there is none).
    pub theory: Vec<f64>,
    /// Standard error of each fraction under the chain's law (exact for
    /// the chain length); never None since the law replaced the spread
    /// between chains (which one chain does not have).
    pub stderr: Vec<Option<f64>>,
    /// Normal score of each state's days against the chain's law
    /// ([`state_score`]): about (fraction - theory) / stderr for long
    /// chains; never None.
    pub z: Vec<Option<f64>>,
    pub passed: bool,
    /// The chain, when it is not today's default (`--matrix`,
    /// `--initial-state`): absent otherwise, so that report is unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainReport>,
    pub wall_time_s: f64,
    pub days_per_s: f64,
    pub phases: McPhases,
    pub output: Option<String>,
}

/// What the report says of a chain given by the user.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub states: usize,
    /// `inline` text or the file's name.
    pub source: String,
    /// FNV-1a 64 of the option's text or the file's bytes, in hex.
    pub checksum: String,
    /// The state every chain started in; null: drawn from pi.
    pub initial_state: Option<usize>,
    /// max(|pi P - pi|, |sum pi - 1|) of the solved pi.
    pub stationary_residual: Option<f64>,
    /// The law the days were scored by.
    pub law: &'static str,
    pub validated: bool,
    /// Why not, when not validated.
    pub note: Option<String>,
}

impl ChainReport {
    fn new(c: &ChainPlan) -> ChainReport {
        use super::chain::Source;
        ChainReport {
            states: c.matrix.n,
            source: match &c.matrix.source {
                Source::Builtin => "built-in".into(),
                Source::Inline(t) => format!("inline: {t}"),
                Source::File(p) => p.display().to_string(),
            },
            checksum: format!("fnv1a64:{:016x}", c.matrix.checksum),
            initial_state: c.initial,
            stationary_residual: c.law.stationary.as_ref().map(|s| s.1),
            law: Law::method(c.matrix.n),
            validated: c.law.not_validated().is_none(),
            note: c.law.not_validated(),
        }
    }
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

    const UNIT: &'static str = "chain";
    const RATE: &'static str = "Mchain-days/s";

    fn per_unit(&self) -> usize {
        self.job.chain.matrix.n
    }

    fn units(&self) -> u64 {
        self.job.chains
    }

    fn work_per_unit(&self) -> u64 {
        self.job.days
    }

    fn count(&self, units: Range<usize>, out: &mut Vec<u64>) {
        let (seed, days) = (self.job.seed, self.job.days);
        let m = &self.job.chain.matrix;
        let walk = Walk::new(&m.p, m.n, self.job.chain.first.clone());
        for c in units {
            let at = out.len();
            out.resize(at + m.n, 0);
            walk.days(&mut stream(seed, c as u64), days, &mut out[at..]);
        }
    }

    fn conclude<C: Communicator>(
        &self,
        comm: &C,
        end: Gathered<u64>,
    ) -> Outcome<Printed<MarkovReport>> {
        let (job, all) = (self.job, end.all);
        let n = job.chain.matrix.n;
        let stats = (comm.rank() == 0).then(|| markov_stats(&all, job));
        let (fractions, stderr, z) = stats.unwrap_or((vec![0.0; n], vec![None; n], vec![None; n]));
        let passed = z.iter().flatten().all(|v| v.abs() < Z_LIMIT);
        let (wall, t_compute) = (end.wall, end.compute);
        let report = |gather_io: f64, output: Option<String>| {
            let [compute, gather_io] = par::spreads(comm, [t_compute, gather_io]);
            MarkovReport {
                run: RunInfo::new("markov", self.version, comm.size() as usize),
                chains: job.chains,
                days: job.days,
                seed: job.seed,
                states: job.chain.names(),
                fractions: fractions.clone(),
                theory: job.chain.pi(),
                stderr: stderr.clone(),
                z: z.clone(),
                passed,
                chain: (!job.chain.is_default()).then(|| ChainReport::new(&job.chain)),
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
                (&fractions, &stderr, &z),
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
/// group's attributes keep the same numbers as flat lists (older readers),
/// and for a user's chain where it came from and how it was validated.
fn write_markov(
    g: &hdf5::Group,
    job: &MarkovPlan,
    all: &[u64],
    (fractions, stderr, z): StateStatsRef,
) -> hdf5::Result<()> {
    let (n, pi) = (job.chain.matrix.n, job.chain.pi());
    let p = &job.chain.matrix.p;
    write_num(g, "chains", job.chains)?;
    write_num(g, "days", job.days)?;
    write_num(g, "seed", job.seed)?;
    write_list(g, "transition", p)?;
    write_list(g, "stationary_theory", &pi)?;
    write_list(g, "fractions", fractions)?;
    let z: Vec<f64> = z.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
    write_list(g, "z", &z)?;
    if !job.chain.is_default() {
        write_chain_attrs(g, &ChainReport::new(&job.chain))?;
    }
    let names = job.chain.names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let chain = write_index_axis(g, "chain", 0..job.chains, "chain index")?;
    let state = write_label_axis(g, "state", &names, "state of the chain")?;
    let from = write_label_axis(g, "from", &names, "state today")?;
    let to = write_label_axis(g, "to", &names, "state tomorrow")?;
    let what = "days each chain spent in each state";
    let shape = (job.chains as usize, n);
    write_table(g, "state_days", shape, all, [&chain, &state], ("day", what))?;
    let what = "probability of moving from a state to another in a day";
    write_table(g, "transition_matrix", (n, n), p, [&from, &to], ("1", what))?;
    let along = |name, values: &[f64], what| write_along(g, name, values, &state, ("1", what));
    along("stationary", &pi, "stationary distribution (theory)")?;
    along(
        "fraction",
        fractions,
        "fraction of days in each state, mean over chains",
    )?;
    let se: Vec<f64> = stderr.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
    along(
        "fraction_stderr",
        &se,
        "standard error of the fraction under the chain's law",
    )?;
    along(
        "z",
        &z,
        "normal score of the state's days under the chain's law",
    )?;
    Ok(())
}

/// A user's chain's record: its source and checksum, first day, the
/// stationary solve's residual and the validation's law and verdict.
fn write_chain_attrs(g: &hdf5::Group, c: &ChainReport) -> hdf5::Result<()> {
    write_str(g, "matrix_source", &c.source)?;
    write_str(g, "matrix_checksum", &c.checksum)?;
    write_num(g, "initial_state", c.initial_state.map_or(-1, |k| k as i64))?;
    write_num(
        g,
        "stationary_residual",
        c.stationary_residual.unwrap_or(f64::NAN),
    )?;
    write_str(g, "validation_law", c.law)?;
    write_num(g, "validated", u8::from(c.validated))?;
    write_str(g, "validation_note", c.note.as_deref().unwrap_or(""))
}

/// Per-state fraction of days (mean over chains, in chain order), its
/// standard error under the chain's law and the normal score of the days
/// counted against that law ([`scores`]); defined for one chain too; no
/// score for a chain that cannot be validated.
type StateStats = (Vec<f64>, Vec<Option<f64>>, Vec<Option<f64>>);
type StateStatsRef<'a> = (&'a [f64], &'a [Option<f64>], &'a [Option<f64>]);

fn markov_stats(all: &[u64], job: &MarkovPlan) -> StateStats {
    let (chains, n) = (job.chains as f64, job.chain.matrix.n);
    let fractions = (0..n)
        .map(|k| {
            let f = all.chunks_exact(n).map(|c| c[k] as f64 / job.days as f64);
            f.sum::<f64>() / chains
        })
        .collect();
    let totals: Vec<u64> = (0..n)
        .map(|k| all.chunks_exact(n).map(|c| c[k]).sum())
        .collect();
    let c = &job.chain;
    if c.law.not_validated().is_some() {
        return (fractions, vec![None; n], vec![None; n]);
    }
    let s = scores(
        &c.matrix,
        &c.pi(),
        &c.first,
        (job.chains, job.days),
        &totals,
    );
    let stderr = s.iter().map(|x| Some(x.0)).collect();
    let z = s.iter().map(|x| Some(x.1)).collect();
    (fractions, stderr, z)
}

/// States the text lists one a line; beyond, the largest |z| is named.
const LISTED: usize = 20;

fn markov_text(r: &MarkovReport) -> String {
    let (compute, gather_io) = (&r.phases.compute, &r.phases.gather_io);
    let what = match &r.chain {
        None => "3-state Markov chain (bull/bear/recession)".to_string(),
        Some(c) => format!("{}-state Markov chain ({})", c.states, c.source),
    };
    let mut text = format!(
        "parsim markov {}: {what}\n\
         Chains           : {} of {} days (seed {})\n\
         Ranks            : {}\n",
        r.run.version, r.chains, r.days, r.seed, r.run.ranks
    );
    if let Some(c) = &r.chain {
        text += &chain_text(c, r);
    }
    for k in 0..r.states.len().min(LISTED) {
        let zs = r.z[k].map_or("n/a".into(), |v| format!("{v:+.3}"));
        text += &format!(
            "State {:<10} : fraction {:.6} (theory {:.6}, z {zs})\n",
            r.states[k], r.fractions[k], r.theory[k]
        );
    }
    let verdict = match r.chain.as_ref().and_then(|c| c.note.as_ref()) {
        Some(why) => format!("not validated: {why}"),
        None => format!(
            "|z| < {Z_LIMIT} for every state: {}",
            crate::report::verdict(r.passed)
        ),
    };
    text += &format!(
        "Validation       : {verdict}\n\
         Wall time        : {:.6} s\n\
         Rate             : {:.4e} chain-days/s\n{}{}",
        r.wall_time_s,
        r.days_per_s,
        mc_phases(compute, gather_io),
        output_line(&r.output),
    );
    text
}

/// The lines a user's chain adds: its source, first day, the solve, the
/// law, and past [`LISTED`] states the one with the largest |z|.
fn chain_text(c: &ChainReport, r: &MarkovReport) -> String {
    let first = c
        .initial_state
        .map_or("drawn from pi".into(), |k| format!("state {k}"));
    let residual = c.stationary_residual.map_or("none (singular)".into(), |v| {
        format!("solved, residual {v:.1e}")
    });
    let mut text = format!(
        "Matrix           : {} states, {} ({})\n\
         First day        : {first}\n\
         Stationary pi    : {residual}\n\
         Law              : {}\n",
        c.states, c.source, c.checksum, c.law
    );
    let n = r.states.len();
    if n > LISTED {
        let worst = (0..n)
            .filter_map(|k| r.z[k].map(|z| (k, z)))
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
        text += &format!(
            "States           : {n}, the first {LISTED} below (all in --json and the file)\n"
        );
        if let Some((k, z)) = worst {
            text += &format!("Largest |z|      : state {k}, z {z:+.3}\n");
        }
    }
    text
}
