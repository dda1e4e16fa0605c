//! Is a heat run's field right? The checks every run ends with (the
//! exact solution for `sine`, the maximum principle for any other start),
//! and the blow-up probe of the time loop.

use mpi::traits::*;

use super::config::HeatConfig;
use super::decomp::Block;
use super::kernel::{self, Field};
use super::report::Validation;
use crate::par;

/// Local rows probed for blow-up at each check: first, middle and last. An
/// unstable mode grows everywhere at once; a single bad value spreads one
/// cell per step, so it reaches a probed row within half a block's height.
pub fn probe_rows(ny: usize) -> Vec<usize> {
    let mut rows = vec![0, ny / 2, ny - 1];
    rows.dedup();
    rows
}

/// The range the maximum principle allows, widened by a relative margin for
/// round-off.
pub fn value_bounds(cfg: &HeatConfig, start: &FieldStats) -> [f64; 2] {
    let b = cfg.boundaries;
    let (lo, hi) = (start.min.min(b.min()), start.max.max(b.max()));
    let margin = 1e-9 * (hi - lo).abs().max(hi.abs()).max(lo.abs()).max(1.0);
    [lo - margin, hi + margin]
}

/// Global average, minimum and maximum of the interior.
pub struct FieldStats {
    pub average: f64,
    pub min: f64,
    pub max: f64,
}

pub fn field_stats<C: Communicator>(comm: &C, u: &Field, cells: usize) -> FieldStats {
    let (mut sum, mut lo, mut hi) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for &v in u.interior().iter() {
        sum += v;
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let mut average = par::sum(comm, sum) / cells as f64;
    if !average.is_finite() && lo.is_finite() && hi.is_finite() {
        // Values near f64::MAX (walls of 1e308) overflow the plain sum: add
        // them scaled instead (only then, so other averages keep their bits).
        let scaled: f64 = u.interior().iter().map(|&v| v / cells as f64).sum();
        average = par::sum(comm, scaled);
    }
    FieldStats {
        average,
        min: par::min(comm, lo),
        max: par::max(comm, hi),
    }
}

/// The smallest amplitude a relative error is taken against: below it a
/// field's values approach the subnormal range, where they keep only an
/// absolute precision of about 5e-324, not a relative one.
const TINY: f64 = f64::MIN_POSITIVE / f64::EPSILON;

/// Collective: check the field at `step` against `start`, the statistics
/// of the initial field (see [`Validation`]).
pub fn validate<C: Communicator>(
    comm: &C,
    cfg: &HeatConfig,
    (block, u): (&Block, &Field),
    start: &FieldStats,
    step: u64,
) -> Validation {
    let end = field_stats(comm, u, cfg.nx * cfg.ny);
    if cfg.has_exact_solution() {
        let t = step as f64 * cfg.dt;
        let (mut err, mut norm, mut cerr, mut cnorm) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
        for j in 0..block.ny() {
            for i in 0..block.nx() {
                let (gi, gj) = (block.cols.start + i, block.rows.start + j);
                let v = u.get(i, j);
                let exact = kernel::sine_discrete(cfg, gi, gj, step);
                let before = kernel::sine_discrete(cfg, gi, gj, step.saturating_sub(1));
                let cont = kernel::sine_continuum(cfg, gi, gj, t);
                err = err.max((v - exact).abs());
                norm = norm.max(exact.abs()).max(before.abs());
                cerr = cerr.max((v - cont).abs());
                cnorm = cnorm.max(cont.abs());
            }
        }
        // The last step's round-off is relative to the amplitude it started
        // from (`before`: all of it when the step cancels the mode exactly,
        // as at the stability limit on a 1x1 grid); below TINY, values are
        // subnormal and only absolutely exact.
        let rel = par::max(comm, err) / par::max(comm, norm).max(TINY);
        let crel = par::max(comm, cerr) / par::max(comm, cnorm).max(TINY);
        // Round-off grows at most about linearly with the number of steps.
        let tolerance = 1e-12_f64.max(step as f64 * 1e-15);
        Validation::Exact {
            max_rel_error: rel,
            tolerance,
            continuum_rel_error: crel,
            passed: rel <= tolerance,
        }
    } else {
        let b = cfg.boundaries;
        let bounds = [start.min.min(b.min()), start.max.max(b.max())];
        Validation::MaximumPrinciple {
            initial_average: start.average,
            final_average: end.average,
            final_min: end.min,
            final_max: end.max,
            bounds,
            passed: end.min >= bounds[0] && end.max <= bounds[1] && end.average.is_finite(),
        }
    }
}
