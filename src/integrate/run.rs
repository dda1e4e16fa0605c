//! `parsim integrate`: a quadrature rule's sum, chunks of points dealt out
//! to ranks on the driver (as pi's chunks, see
//! [`crate::montecarlo`]), the chunk sums gathered to rank 0 and
//! added in chunk order: bitwise the same on any number of ranks.
//!
//! ```text
//! /integrate   attrs: f, rule, a, b, n, chunk, value, reference, against,
//!                     error, bound, integral, integral_error, passed,
//!                     validated (0: not validated, and not failed either)
//!   chunk_sums   f64 [chunks]   weighted sum of each chunk's points
//! ```

use std::ops::Range;

use mpi::traits::*;
use serde::Serialize;

use super::integrand::Integrand;
use super::kernel::{Grid, Rule};
use super::validate::{validate, Validation};
use crate::driver::Printed;
use crate::error::Outcome;
use crate::h5::{write_along, write_index_axis, write_num, write_str, RunMeta};
use crate::montecarlo::{mc_phases, Estimator, Gathered, McPhases};
use crate::par;
use crate::report::{num, RunInfo};
use crate::result::{finish, output_line};
use crate::stop::StopSignal;

/// Default points per chunk: a chunk is summed in a few tens of
/// microseconds, and 1e8 points make 1526 chunks to balance.
pub const DEFAULT_CHUNK: u64 = 1 << 16;

/// A checked integrate run (made by `super::options`).
#[derive(Debug, Clone)]
pub struct IntegratePlan {
    pub a: f64,
    pub b: f64,
    pub n: u64,
    pub rule: Rule,
    pub f: Integrand,
    pub chunk: u64,
    /// The rule's points on [a, b] (a representable width).
    pub grid: Grid,
    pub out: crate::driver::Output,
}

#[derive(Debug, Clone, Serialize)]
pub struct IntegrateReport {
    #[serde(flatten)]
    pub run: RunInfo,
    pub f: String,
    /// How f was evaluated: `built-in`, `batched (avx2)`, ... (issue 41;
    /// the same bits whichever, so it is no result).
    pub evaluator: String,
    pub rule: Rule,
    pub a: f64,
    pub b: f64,
    pub n: u64,
    pub chunk: u64,
    pub value: f64,
    pub validation: Validation,
    pub passed: bool,
    pub wall_time_s: f64,
    pub evaluations: u64,
    pub evaluations_per_s: f64,
    pub evaluations_per_s_per_core: f64,
    pub phases: McPhases,
    pub output: Option<String>,
}

/// Collective: `parsim integrate`.
pub fn run<C: Communicator>(
    world: &C,
    job: &IntegratePlan,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let est = Integrate {
        job,
        version: meta.version,
    };
    crate::montecarlo::run(world, est, &job.out, meta, stop)
}

/// The integrate "estimator": chunks of points, one weighted sum each.
pub struct Integrate<'a> {
    job: &'a IntegratePlan,
    version: &'static str,
}

impl Estimator for Integrate<'_> {
    type Report = IntegrateReport;
    type Count = f64;
    const NAME: &'static str = "integrate";
    const UNIT: &'static str = "chunk";
    const RATE: &'static str = "Mevals/s";

    fn per_unit(&self) -> usize {
        1
    }

    fn units(&self) -> u64 {
        self.job.grid.points().div_ceil(self.job.chunk)
    }

    fn work_per_unit(&self) -> u64 {
        self.job.chunk
    }

    fn count(&self, units: Range<usize>, out: &mut Vec<f64>) {
        let (chunk, points) = (self.job.chunk, self.job.grid.points());
        for c in units {
            let start = c as u64 * chunk;
            let range = start..(start + chunk).min(points);
            out.push(self.job.f.chunk_sum(&self.job.grid, range));
        }
    }

    fn conclude<C: Communicator>(
        &self,
        comm: &C,
        end: Gathered<f64>,
    ) -> Outcome<Printed<IntegrateReport>> {
        let (job, grid, all) = (self.job, self.job.grid, end.all);
        // In chunk order: the same additions whatever the number of ranks.
        let value = grid.estimate(all.iter().sum());
        let validation = validate(&job.f, &grid, job.chunk, value);
        let passed = validation.passed;
        let (wall, t_compute) = (end.wall, end.compute);
        let busy = par::sum(comm, t_compute);
        let evals = grid.points();
        let report = |gather_io: f64, output: Option<String>| {
            let [compute, gather_io] = par::spreads(comm, [t_compute, gather_io]);
            IntegrateReport {
                run: RunInfo::new("integrate", self.version, comm.size() as usize),
                f: job.f.formula(),
                evaluator: job.f.evaluator(),
                rule: job.rule,
                a: job.a,
                b: job.b,
                n: job.n,
                chunk: job.chunk,
                value,
                validation: validation.clone(),
                passed,
                wall_time_s: wall,
                evaluations: evals,
                evaluations_per_s: evals as f64 / wall,
                evaluations_per_s_per_core: evals as f64 / busy,
                phases: McPhases { compute, gather_io },
                output,
            }
        };
        let output = job.out.path.as_deref();
        let r = finish(comm, end.file, end.gather_start, output, report, |f| {
            let g = f.create_group("integrate")?;
            write_str(&g, "f", &job.f.formula())?;
            write_str(&g, "rule", job.rule.name())?;
            write_num(&g, "a", job.a)?;
            write_num(&g, "b", job.b)?;
            write_num(&g, "n", job.n)?;
            write_num(&g, "chunk", job.chunk)?;
            write_num(&g, "value", value)?;
            write_str(&g, "against", validation.against)?;
            write_num(&g, "reference", validation.reference)?;
            write_num(&g, "error", validation.error)?;
            write_num(&g, "bound", validation.bound)?;
            write_num(&g, "integral", validation.integral)?;
            write_num(&g, "integral_error", validation.integral_error)?;
            write_num(&g, "passed", u8::from(passed))?;
            write_num(&g, "validated", u8::from(validation.validated))?;
            let chunk = write_index_axis(
                &g,
                "chunk",
                0..all.len() as u64,
                "chunk of consecutive points",
            )?;
            let what = "the rule's sum over the chunk's points (h f(x) each)";
            write_along(&g, "chunk_sums", &all, &chunk, ("1", what))?;
            Ok(())
        })?;
        Ok(Printed {
            text: integrate_text(&r),
            report: r,
            passed,
        })
    }
}

fn integrate_text(r: &IntegrateReport) -> String {
    let v = &r.validation;
    let (compute, gather_io) = (&r.phases.compute, &r.phases.gather_io);
    format!(
        "parsim integrate {}: {} rule\n\
         Integrand        : f(x) = {} on [{}, {}], {} intervals in chunks of {}\n\
         Evaluator        : {}\n\
         Ranks            : {}\n\
         Value            : {:.15}{}\n\
         Validation       : vs {} {:.15}: error {:.3e}, bound {:.3e}: {}\n\
         Integral         : {:.15} (value - integral {:.3e}, rule's bound {:.3e})\n\
         Wall time        : {:.6} s\n\
         Rate             : {:.4e} evaluations/s, {:.4e} per core\n{}{}",
        r.run.version,
        r.rule.name(),
        r.f,
        num(r.a, None),
        num(r.b, None),
        r.n,
        r.chunk,
        r.evaluator,
        r.run.ranks,
        r.value,
        if r.value.is_finite() {
            ""
        } else {
            " (f is not finite somewhere on [a, b])"
        },
        v.against,
        v.reference,
        v.error,
        v.bound,
        match (r.passed, v.validated) {
            (false, _) => "FAILED".to_string(),
            (true, true) => "OK".to_string(),
            (true, false) => format!(
                "not validated ({})",
                v.note.as_deref().unwrap_or("no bound proves the value")
            ),
        },
        v.integral,
        v.integral_error,
        v.truncation_bound,
        r.wall_time_s,
        r.evaluations_per_s,
        r.evaluations_per_s_per_core,
        mc_phases(compute, gather_io),
        output_line(&r.output),
    )
}
