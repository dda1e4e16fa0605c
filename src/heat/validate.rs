//! Is a heat run's field right? The checks every run ends with (the
//! exact solution for `sine`, the maximum principle for any other start),
//! and the blow-up probe of the time loop.

use mpi::collective::SystemOperation;
use mpi::traits::*;

use super::config::HeatConfig;
use super::decomp::Block;
use super::kernel::{self, Field};
use super::report::Validation;
use crate::exact::{self, ExactSum, Scale};
use crate::par;

/// Local rows probed for blow-up at each check: first, middle and last. An
/// unstable mode grows everywhere at once; a single bad value spreads one
/// cell per step, so it reaches a probed row within half a block's height.
pub fn probe_rows(ny: usize) -> Vec<usize> {
    let mut rows = vec![0, ny / 2, ny - 1];
    rows.dedup();
    rows
}

/// What decides how a run without an exact solution is validated: 2D's
/// and 3D's walls and source alike.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// A source term heats or cools without bound.
    pub source: bool,
    /// No heat crosses any wall (insulated and periodic walls only).
    pub conserve: bool,
    /// The value walls' range; `None` with an expression wall.
    pub range: Option<[f64; 2]>,
}

impl Rules {
    pub fn of(cfg: &HeatConfig) -> Self {
        Self {
            source: cfg.source.is_some(),
            conserve: cfg.boundaries.conserve_heat(),
            range: cfg.boundaries.value_range(),
        }
    }
}

/// The range the maximum principle allows, widened by a relative margin for
/// round-off.
pub fn value_bounds(cfg: &HeatConfig, start: &FieldStats) -> [f64; 2] {
    bounds(&Rules::of(cfg), start)
}

/// [`value_bounds`] by the rules.
pub fn bounds(rules: &Rules, start: &FieldStats) -> [f64; 2] {
    if rules.source {
        // A source heats or cools without bound: only NaN and infinities
        // are blow-up (`rows_within` refuses NaN).
        return [f64::MIN, f64::MAX];
    }
    let Some([wlo, whi]) = rules.range else {
        // An expression wall's values are unknown: only NaN and the
        // infinities leave this range.
        return [f64::MIN, f64::MAX];
    };
    let (lo, hi) = (start.min.min(wlo), start.max.max(whi));
    let margin = 1e-9 * (hi - lo).abs().max(hi.abs()).max(lo.abs()).max(1.0);
    [lo - margin, hi + margin]
}

/// Global average, minimum and maximum of the interior.
pub struct FieldStats {
    pub average: f64,
    /// The exact sum of every cell, rounded once (the average times the
    /// cells where a value is not finite).
    pub total: f64,
    pub min: f64,
    pub max: f64,
}

/// Collective: the statistics of the field, the same bits on any
/// decomposition. Minimum and maximum are order-free; the average is an
/// exact sum ([`crate::exact`]) of the values scaled by a power of two
/// chosen from the largest magnitude, so that neither walls of 1e308 nor
/// fields of 1e-300 lose it, and divided once. A plain float sum would
/// change its last bits with the process grid (as it did).
pub fn field_stats<C: Communicator>(comm: &C, u: &Field, cells: usize) -> FieldStats {
    values_stats(comm, || u.interior().into_iter().copied(), cells)
}

/// Collective: [`field_stats`] of the values `values` walks (each call
/// walks them all again; the 3D field's interior, `super::run3d`).
pub fn values_stats<C: Communicator, I: Iterator<Item = f64>>(
    comm: &C,
    values: impl Fn() -> I,
    cells: usize,
) -> FieldStats {
    let (mut lo, mut hi, mut nans) = (f64::INFINITY, f64::NEG_INFINITY, 0i64);
    for v in values() {
        lo = lo.min(v);
        hi = hi.max(v);
        nans += i64::from(v.is_nan());
    }
    let (min, max) = (par::min(comm, lo), par::max(comm, hi));
    // Every rank knows min and max: all take the same branch. With an
    // infinite value there is no finite sum to take (the average is the
    // infinity, or NaN with both signs or a NaN), but the NaN count below
    // still travels.
    let finite = min.is_finite() && max.is_finite();
    let scale = Scale::for_max(if finite {
        min.abs().max(max.abs())
    } else {
        0.0
    });
    let mut sum = ExactSum::default();
    if finite {
        for v in values() {
            sum.add_fixed(scale.fixed(v));
        }
    }
    let mut mine: Vec<i64> = sum.limbs().to_vec();
    mine.push(nans);
    let mut all = vec![0i64; mine.len()];
    // Integers: the same total in any order; on every rank, as the plain
    // sum's average was.
    comm.all_reduce_into(&mine[..], &mut all[..], SystemOperation::sum());
    let total = exact::from_limbs([all[0], all[1], all[2], all[3]]);
    let average = average_of(total, scale, cells, [min, max], all[4] > 0);
    let total = if average.is_finite() {
        scale.undo(total.value())
    } else {
        average
    };
    FieldStats {
        average,
        total,
        min,
        max,
    }
}

/// The average of `cells` values from their scaled exact `total`, their
/// global `[min, max]`, and whether any value was NaN: NaN then, or with
/// infinities of both signs; the infinity when there is one; else the
/// total, divided once, unscaled.
fn average_of(total: ExactSum, scale: Scale, cells: usize, [min, max]: [f64; 2], nan: bool) -> f64 {
    if nan || (min == f64::NEG_INFINITY && max == f64::INFINITY) {
        f64::NAN
    } else if max == f64::INFINITY {
        f64::INFINITY
    } else if min == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else {
        scale.undo(total.value() / cells as f64)
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
    if let Some(exact) = &cfg.exact {
        return manufactured(comm, cfg, exact, (block, u), step);
    }
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
        judge(&Rules::of(cfg), start, &end, step, cfg.nx * cfg.ny)
    }
}

/// The validation of a run without an exact solution, from the initial
/// and final statistics of its `cells`: with a source, every value
/// finite; with no heat crossing any wall, the total conserved; else the
/// maximum principle.
pub fn judge(
    rules: &Rules,
    start: &FieldStats,
    end: &FieldStats,
    steps: u64,
    cells: usize,
) -> Validation {
    if rules.source {
        Validation::Finite {
            initial_average: start.average,
            final_average: end.average,
            final_min: end.min,
            final_max: end.max,
            passed: end.min.is_finite() && end.max.is_finite() && end.average.is_finite(),
        }
    } else if rules.conserve {
        conserved(start, end, steps, cells)
    } else {
        let [lo, hi] = rules.range.unwrap_or([f64::MIN, f64::MAX]);
        let bounds = [start.min.min(lo), start.max.max(hi)];
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

/// Insulated and periodic walls only: no heat crosses a wall, so the
/// total of the field (an exact sum, the same on any decomposition) stays
/// the initial one but for rounding: each step rounds each cell's update
/// once (about one ulp of the largest value, 2^-52 of it); and the maximum
/// principle holds (no wall values).
fn conserved(start: &FieldStats, end: &FieldStats, steps: u64, cells: usize) -> Validation {
    let scale = start.min.abs().max(start.max.abs());
    let tolerance = 4.0 * f64::EPSILON * scale * steps.max(1) as f64 * cells as f64;
    let drift = (end.total - start.total).abs();
    let bounds = [start.min, start.max];
    let margin = 1e-9 * (bounds[1] - bounds[0]).abs().max(scale).max(1.0);
    let within = end.min >= bounds[0] - margin && end.max <= bounds[1] + margin;
    Validation::Conserved {
        initial_total: start.total,
        final_total: end.total,
        tolerance,
        final_min: end.min,
        final_max: end.max,
        bounds,
        passed: drift <= tolerance && within,
    }
}

/// Collective: the errors against `--exact`'s solution at `step`: the
/// largest |u - exact|, and the grid's L2 norm sqrt(mean (u - exact)^2)
/// from an exact sum of the squares scaled by a power of two (the same
/// bits on any decomposition, as the average's). Passed when both are
/// finite: the order of accuracy, which says whether they are right, needs
/// several grids (`--refine`).
fn manufactured<C: Communicator>(
    comm: &C,
    cfg: &HeatConfig,
    exact: &super::manufactured::Manufactured,
    (block, u): (&Block, &Field),
    step: u64,
) -> Validation {
    let time = step as f64 * cfg.dt;
    let mut errors = Vec::with_capacity(block.cells());
    for (j, gj) in block.rows.clone().enumerate() {
        let y = (gj + 1) as f64 * cfg.dy;
        for (i, gi) in block.cols.clone().enumerate() {
            errors.push(u.get(i, j) - exact.at((gi + 1) as f64 * cfg.dx, y, time));
        }
    }
    errors_report(comm, &errors, cfg.nx * cfg.ny, time)
}

/// Collective: the validation from this rank's `errors` (u - exact, one
/// a cell) of a grid of `cells` at `time` (see [`manufactured`]).
pub fn errors_report<C: Communicator>(
    comm: &C,
    errors: &[f64],
    cells: usize,
    time: f64,
) -> Validation {
    let local = errors.iter().fold(0.0f64, |m, e| {
        if e.is_finite() {
            m.max(e.abs())
        } else {
            f64::INFINITY
        }
    });
    let max_abs_error = par::max(comm, local);
    let l2_error = if max_abs_error.is_finite() {
        let scale = Scale::for_max(max_abs_error * max_abs_error);
        let mut sum = ExactSum::default();
        errors
            .iter()
            .for_each(|e| sum.add_fixed(scale.fixed(e * e)));
        let mine = sum.limbs();
        let mut all = [0i64; 4];
        comm.all_reduce_into(&mine[..], &mut all[..], SystemOperation::sum());
        let mean = exact::from_limbs(all).value() / cells as f64;
        scale.undo(mean).sqrt()
    } else {
        max_abs_error
    };
    Validation::Manufactured {
        time,
        max_abs_error,
        l2_error,
        passed: max_abs_error.is_finite() && l2_error.is_finite(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_of_any_field_including_non_finite_ones() {
        let sum_of = |scale: Scale, v: &[f64]| {
            let mut s = ExactSum::default();
            v.iter().for_each(|&x| s.add_fixed(scale.fixed(x)));
            s
        };
        let v = [20.0, 70.0, 85.0, 5.0, 65.5];
        let scale = Scale::for_max(85.0);
        let avg = average_of(sum_of(scale, &v), scale, 5, [5.0, 85.0], false);
        assert_eq!(avg, 49.1);
        let huge = [1e308, -1e308, 1e308];
        let scale = Scale::for_max(1e308);
        let avg = average_of(sum_of(scale, &huge), scale, 3, [-1e308, 1e308], false);
        assert_eq!(avg, 1e308 / 3.0);
        let none = ExactSum::default();
        let unit = Scale::for_max(0.0);
        let inf = f64::INFINITY;
        assert!(average_of(none, unit, 3, [1.0, 2.0], true).is_nan());
        assert!(average_of(none, unit, 3, [-inf, inf], false).is_nan());
        assert_eq!(average_of(none, unit, 3, [1.0, inf], false), inf);
        assert_eq!(average_of(none, unit, 3, [-inf, 1.0], false), -inf);
    }
}
