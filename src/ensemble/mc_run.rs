//! `parsim pi` and `parsim markov`: Monte Carlo estimators scattered over
//! ranks. Work units (pi chunks, Markov chains) are dealt out in contiguous
//! ranges by rank 0; each unit draws from `stream(seed, unit)`; the integer
//! counts of every unit are gathered to rank 0 in unit order, so totals
//! and statistics are identical on any number of ranks.
//!
//! HDF5 layouts:
//!
//! ```text
//! /pi        attrs: samples, seed, chunk, hits, estimate, stderr, z
//!   chunk_hits   u64 [chunks]     hits of each chunk (for convergence plots)
//! /markov    attrs: chains, days, seed, transition [3x3 flattened],
//!                   stationary_theory [3], fractions [3], z [3]
//!   state_days   u64 [chains, 3]  days each chain spent in each state
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use mpi::traits::*;
use serde::Serialize;
use thiserror::Error;

use super::mc::{
    markov_days, pi_hits, pi_hits_lanes, Chunking, MARKOV_P, MARKOV_PI, MARKOV_STATES,
};
use super::{gather_ordered, Z_LIMIT};
use crate::driver::{After, Clock, Position, Printed, Workload};
use crate::error::{Failure, Outcome};
use crate::h5::{write_list, write_num, write_vec, ResultFile, RunMeta};
use crate::par::{self, Spread};
use crate::progress::Meter;
use crate::rng::{stream, Lanes};
use crate::stop::StopSignal;

#[derive(Debug, Clone)]
pub struct PiJob {
    pub samples: u64,
    pub chunk: u64,
    pub seed: u64,
    pub output: Option<PathBuf>,
    pub force: bool,
    pub json: bool,
    pub quiet: bool,
}

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

#[derive(Debug, Error)]
enum McError {
    #[error("--{name} must be at least {min} (got {value})")]
    TooSmall {
        name: &'static str,
        min: u64,
        value: u64,
    },
    #[error("--{name} {value} is too large (at most {max})")]
    TooLarge {
        name: &'static str,
        value: u64,
        max: u64,
    },
}

/// Units are counted in `i32` by MPI's gather: keep well inside it.
const MAX_UNITS: u64 = 1 << 30;

fn at_least(name: &'static str, value: u64, min: u64) -> Outcome {
    if value < min {
        return Err(Failure::usage(McError::TooSmall { name, min, value }));
    }
    Ok(())
}

fn at_most(name: &'static str, value: u64, max: u64) -> Outcome {
    if value > max {
        return Err(Failure::usage(McError::TooLarge { name, value, max }));
    }
    Ok(())
}

/// Collective: rank 0 writes with `layout`, stores the report on `/`, then
/// closes and renames; all ranks agree. `report(gather_io, output)` builds
/// the report (collectively) from this rank's gather/I-O time since `t1`:
/// the stored one is built before the file is written (with the planned
/// `output`), the returned one after (with the path actually written).
fn finish<C: Communicator, R: Serialize>(
    world: &C,
    file: Option<ResultFile>,
    t1: f64,
    output: Option<&Path>,
    report: impl Fn(f64, Option<String>) -> R,
    layout: impl FnOnce(&hdf5::File) -> hdf5::Result<()>,
) -> Outcome<R> {
    let stored = report(mpi::time() - t1, output.map(|p| p.display().to_string()));
    let written = match file {
        Some(f) => layout(f.root())
            .context("cannot write results")
            .and_then(|_| f.write_report(&serde_json::to_string(&stored).unwrap_or_default()))
            .map_err(Failure::runtime)
            .and_then(|_| f.finish())
            .map(|p| Some(p.display().to_string())),
        None => Ok(None),
    };
    par::agree(world, written.as_ref().map(|_| ()).map_err(Clone::clone))?;
    Ok(report(mpi::time() - t1, written?))
}

#[derive(Debug, Clone, Serialize)]
pub struct McPhases {
    pub compute: Spread,
    pub gather_io: Spread,
}

#[derive(Debug, Clone, Serialize)]
pub struct PiReport {
    pub workload: &'static str,
    pub version: &'static str,
    pub ranks: usize,
    pub samples: u64,
    pub chunk: u64,
    pub seed: u64,
    pub hits: u64,
    pub estimate: f64,
    /// 4 sqrt(p (1 - p) / N) with p = pi/4.
    pub stderr: f64,
    /// (estimate - pi) / stderr.
    pub z: f64,
    pub passed: bool,
    pub wall_time_s: f64,
    pub samples_per_s: f64,
    pub samples_per_s_per_core: f64,
    pub phases: McPhases,
    pub output: Option<String>,
}

/// Collective: `parsim pi`.
pub fn run_pi<C: Communicator>(
    world: &C,
    job: &PiJob,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let pi = PiRun::new(world, job, meta)?;
    crate::driver::run(pi, stop, job.quiet, job.json)
}

/// Collective: `parsim markov`.
pub fn run_markov<C: Communicator>(
    world: &C,
    job: &MarkovJob,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let markov = MarkovRun::new(world, job, meta)?;
    crate::driver::run(markov, stop, job.quiet, job.json)
}

/// Samples, chains... per round of work (about a tenth of a second): a
/// stop signal is honoured within one round.
const ROUND_WORK: u64 = 1 << 25;

/// `parsim pi` on the driver: chunks of samples dealt out in rounds.
pub struct PiRun<'a, C: Communicator> {
    comm: &'a C,
    job: &'a PiJob,
    meta: &'a RunMeta,
    file: Option<ResultFile>,
    chunks: Chunking,
    rounds: super::Rounds,
    /// Hits of this rank's finished chunks, in chunk order.
    hits: Vec<u64>,
    t_compute: f64,
}

impl<'a, C: Communicator> PiRun<'a, C> {
    /// Collective: check the job (alike on every rank), reserve the output.
    pub fn new(comm: &'a C, job: &'a PiJob, meta: &'a RunMeta) -> Outcome<Self> {
        at_least("samples", job.samples, 1)?;
        at_least("chunk", job.chunk, 1)?;
        let chunks = Chunking {
            total: job.samples,
            size: job.chunk,
        };
        at_most("samples", chunks.count(), MAX_UNITS).map_err(|_| {
            Failure::usage(format!(
                "--samples {} in chunks of {} makes {} chunks (at most {MAX_UNITS}); raise --chunk",
                job.samples,
                job.chunk,
                chunks.count()
            ))
        })?;
        let file = create_result(comm, job.output.as_deref(), job.force, meta)?;
        let per_round = (ROUND_WORK / job.chunk).max(1) as usize;
        let rounds = super::Rounds::new(comm, chunks.count() as usize, per_round);
        Ok(Self {
            comm,
            job,
            meta,
            file,
            chunks,
            hits: Vec::with_capacity(rounds.range.len()),
            rounds,
            t_compute: 0.0,
        })
    }
}

impl<C: Communicator> Workload for PiRun<'_, C> {
    type Comm = C;
    type Report = PiReport;
    const NAME: &'static str = "pi";
    const JUDGED: &'static str = "the estimate";

    fn comm(&self) -> &C {
        self.comm
    }

    fn meter(&self) -> Meter {
        Meter {
            label: "pi",
            total: self.chunks.count(),
            unit: "chunk",
            work_per_unit: self.job.chunk as f64,
            rate_name: "Msamples/s",
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
        let units = self.rounds.next_units();
        self.hits
            .extend(chunk_hits(&self.chunks, units, self.job.seed));
        self.t_compute += mpi::time() - a;
        Ok(After::Check { fault: false })
    }

    fn fault(&self) -> Failure {
        Failure::runtime(anyhow::anyhow!("pi: a rank reported a fault"))
    }

    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<PiReport>> {
        let wall = clock.wall;
        let (comm, job) = (self.comm, self.job);
        let t1 = mpi::time();
        let all = gather_ordered(comm, &self.hits, &self.rounds.table, 1);
        let total: u64 = all.iter().sum();
        let n = job.samples as f64;
        let p = std::f64::consts::FRAC_PI_4;
        let estimate = 4.0 * total as f64 / n;
        let stderr = 4.0 * (p * (1.0 - p) / n).sqrt();
        let z = (estimate - std::f64::consts::PI) / stderr;
        // The report, built by `finish` twice: stored, then printed.
        let passed = z.abs() < Z_LIMIT;
        let t_compute = self.t_compute;
        let busy = par::sum(comm, t_compute);
        let report = |gather_io: f64, output: Option<String>| {
            let [compute, gather_io] = par::spreads(comm, [t_compute, gather_io]);
            PiReport {
                workload: "pi",
                version: self.meta.version,
                ranks: comm.size() as usize,
                samples: job.samples,
                chunk: job.chunk,
                seed: job.seed,
                hits: total,
                estimate,
                stderr,
                z,
                passed,
                wall_time_s: wall,
                samples_per_s: n / wall,
                samples_per_s_per_core: n / busy,
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
                let g = f.create_group("pi")?;
                write_num(&g, "samples", job.samples)?;
                write_num(&g, "seed", job.seed)?;
                write_num(&g, "chunk", job.chunk)?;
                write_num(&g, "hits", total)?;
                write_num(&g, "estimate", estimate)?;
                write_num(&g, "stderr", stderr)?;
                write_num(&g, "z", z)?;
                write_vec(&g, "chunk_hits", &all)?;
                Ok(())
            },
        )?;
        Ok(Printed {
            text: pi_text(&r),
            report: r,
            passed,
        })
    }
}

/// Collective: rank 0 reserves `output` and creates the result file.
fn create_result<C: Communicator>(
    comm: &C,
    output: Option<&Path>,
    force: bool,
    meta: &RunMeta,
) -> Outcome<Option<ResultFile>> {
    par::create_on_root(
        comm,
        || Ok(()),
        output,
        force,
        |out| ResultFile::create(out, meta),
    )
}

fn pi_text(r: &PiReport) -> String {
    let (compute, gather_io) = (&r.phases.compute, &r.phases.gather_io);
    format!(
        "parsim pi {}: hit-or-miss Monte Carlo\n\
         Samples          : {} in chunks of {} (seed {})\n\
         Ranks            : {}\n\
         Estimate         : {:.12} (hits {})\n\
         Validation       : stderr {:.3e}, (estimate - pi)/stderr = {:+.3}, |z| < {Z_LIMIT}: {}\n\
         Wall time        : {:.6} s\n\
         Rate             : {:.4e} samples/s, {:.4e} samples/s per core\n{}{}",
        r.version,
        r.samples,
        r.chunk,
        r.seed,
        r.ranks,
        r.estimate,
        r.hits,
        r.stderr,
        r.z,
        crate::report::verdict(r.passed),
        r.wall_time_s,
        r.samples_per_s,
        r.samples_per_s_per_core,
        mc_phases(compute, gather_io),
        output_line(&r.output),
    )
}

/// Hits of each chunk in `range`: pairs of full chunks in lockstep (two
/// generator chains overlap; measured ~15% faster), the rest one by one.
/// Either way each chunk's count is the same.
fn chunk_hits(chunks: &Chunking, range: std::ops::Range<usize>, seed: u64) -> Vec<u64> {
    let mut hits = Vec::with_capacity(range.len());
    let mut c = range.start as u64;
    let end = range.end as u64;
    while c < end {
        if c + 1 < end && chunks.len(c + 1) == chunks.size {
            let streams = [stream(seed, c), stream(seed, c + 1)];
            hits.extend(pi_hits_lanes(&mut Lanes::new(&streams), chunks.size));
            c += 2;
        } else {
            hits.push(pi_hits(&mut stream(seed, c), chunks.len(c)));
            c += 1;
        }
    }
    hits
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

fn mc_phases(compute: &Spread, gather_io: &Spread) -> String {
    crate::report::phase_table(&[("compute", compute), ("gather/I-O", gather_io)])
}

fn output_line(output: &Option<String>) -> String {
    output
        .as_ref()
        .map_or(String::new(), |o| format!("Output           : {o}\n"))
}
