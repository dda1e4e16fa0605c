//! `parsim pi`: hit-or-miss Monte Carlo estimate of pi, chunks of samples
//! on the driver (see [`crate::montecarlo`]).
//!
//! ```text
//! /pi        attrs: samples, seed, chunk, hits, estimate, stderr, z
//!   chunk_hits   u64 [chunks]     hits of each chunk (for convergence plots)
//! ```

use std::ops::Range;

use mpi::traits::*;
use serde::Serialize;

use super::kernel::{hits_z, pi_hits, pi_hits_lanes};
use crate::driver::Printed;
use crate::error::Outcome;
use crate::h5::{write_along, write_index_axis, write_num, RunMeta};
use crate::montecarlo::{mc_phases, Chunking, Estimator, Gathered, McPhases};
use crate::par;
use crate::report::RunInfo;
use crate::report::Z_LIMIT;
use crate::result::{finish, output_line};
use crate::rng::{stream, Lanes};
use crate::stop::StopSignal;

/// A checked pi run (made by `super::options`): samples cut into chunks
/// of at most [`crate::montecarlo::MAX_UNITS`].
#[derive(Debug, Clone)]
pub struct PiPlan {
    pub samples: u64,
    pub chunk: u64,
    pub seed: u64,
    pub chunks: Chunking,
    /// The result file and how the report is shown.
    pub out: crate::driver::Output,
}

#[derive(Debug, Clone, Serialize)]
pub struct PiReport {
    #[serde(flatten)]
    pub run: crate::report::RunInfo,
    pub samples: u64,
    pub chunk: u64,
    pub seed: u64,
    pub hits: u64,
    pub estimate: f64,
    /// 4 sqrt(p (1 - p) / N) with p = pi/4.
    pub stderr: f64,
    /// The normal score of the hits' binomial tail ([`hits_z`]): about
    /// (estimate - pi) / stderr for many samples, and a false failure at
    /// |z| >= 5 as rare as promised for few.
    pub z: f64,
    pub passed: bool,
    pub wall_time_s: f64,
    pub samples_per_s: f64,
    pub samples_per_s_per_core: f64,
    pub phases: McPhases,
    pub output: Option<String>,
}

/// Collective: `parsim pi`.
pub fn run<C: Communicator>(world: &C, job: &PiPlan, meta: &RunMeta, stop: &StopSignal) -> Outcome {
    let est = Pi {
        job,
        version: meta.version,
    };
    crate::montecarlo::run(world, est, &job.out, meta, stop)
}

/// The pi estimator: chunks of samples, hits counted per chunk.
pub struct Pi<'a> {
    job: &'a PiPlan,
    version: &'static str,
}

impl Estimator for Pi<'_> {
    type Report = PiReport;
    const NAME: &'static str = "pi";
    type Count = u64;

    const UNIT: &'static str = "chunk";
    const RATE: &'static str = "Msamples/s";

    fn per_unit(&self) -> usize {
        1
    }

    fn units(&self) -> u64 {
        self.job.chunks.count()
    }

    fn work_per_unit(&self) -> u64 {
        self.job.chunk
    }

    fn count(&self, units: Range<usize>, out: &mut Vec<u64>) {
        out.extend(chunk_hits(&self.job.chunks, units, self.job.seed));
    }

    fn conclude<C: Communicator>(
        &self,
        comm: &C,
        end: Gathered<u64>,
    ) -> Outcome<Printed<PiReport>> {
        let (job, all) = (self.job, end.all);
        let total: u64 = all.iter().sum();
        let n = job.samples as f64;
        let p = std::f64::consts::FRAC_PI_4;
        let estimate = 4.0 * total as f64 / n;
        let stderr = 4.0 * (p * (1.0 - p) / n).sqrt();
        let z = hits_z(job.samples, total);
        // The report, built by `finish` twice: stored, then printed.
        let passed = z.abs() < Z_LIMIT;
        let (wall, t_compute) = (end.wall, end.compute);
        let busy = par::sum(comm, t_compute);
        let report = |gather_io: f64, output: Option<String>| {
            let [compute, gather_io] = par::spreads(comm, [t_compute, gather_io]);
            PiReport {
                run: RunInfo::new("pi", self.version, comm.size() as usize),
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
        let output = job.out.path.as_deref();
        let r = finish(comm, end.file, end.gather_start, output, report, |f| {
            let g = f.create_group("pi")?;
            write_num(&g, "samples", job.samples)?;
            write_num(&g, "seed", job.seed)?;
            write_num(&g, "chunk", job.chunk)?;
            write_num(&g, "hits", total)?;
            write_num(&g, "estimate", estimate)?;
            write_num(&g, "stderr", stderr)?;
            write_num(&g, "z", z)?;
            let chunk = write_index_axis(
                &g,
                "chunk",
                0..all.len() as u64,
                "chunk of samples, in the order of its random stream",
            )?;
            let samples: Vec<u64> = (0..all.len() as u64)
                .map(|k| job.chunk.min(job.samples - k * job.chunk))
                .collect();
            let what = "samples in the chunk (the last may be short)";
            write_along(&g, "chunk_samples", &samples, &chunk, ("1", what))?;
            let what = "samples of the chunk inside the quarter circle";
            write_along(&g, "chunk_hits", &all, &chunk, ("1", what))?;
            Ok(())
        })?;
        Ok(Printed {
            text: pi_text(&r),
            report: r,
            passed,
        })
    }
}

fn pi_text(r: &PiReport) -> String {
    let (compute, gather_io) = (&r.phases.compute, &r.phases.gather_io);
    format!(
        "parsim pi {}: hit-or-miss Monte Carlo\n\
         Samples          : {} in chunks of {} (seed {})\n\
         Ranks            : {}\n\
         Estimate         : {:.12} (hits {})\n\
         Validation       : stderr {:.3e}, z {:+.3} (binomial tail of the hits), |z| < {Z_LIMIT}: {}\n\
         Wall time        : {:.6} s\n\
         Rate             : {:.4e} samples/s, {:.4e} samples/s per core\n{}{}",
        r.run.version,
        r.samples,
        r.chunk,
        r.seed,
        r.run.ranks,
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
fn chunk_hits(chunks: &Chunking, range: Range<usize>, seed: u64) -> Vec<u64> {
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
