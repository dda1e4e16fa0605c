//! The end-of-run report: what was solved, whether the answer is right, and
//! how fast, in the spirit of the Parallel Research Kernels. One struct
//! feeds both the human-readable text and the `--json` object, so the two
//! can never disagree.

use std::fmt::Write as _;

use serde::Serialize;

use super::config::{HeatConfig, Wall};
use crate::par::Spread;
use crate::report::num;

/// How the answer was checked.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Validation {
    /// `sine` with zero walls: against the exact solution of the discrete
    /// scheme (must match to round-off) and of the PDE (O(dx^2) gap).
    Exact {
        /// max |u - exact| / max |exact| over all cells.
        max_rel_error: f64,
        tolerance: f64,
        /// The same against the continuum solution.
        continuum_rel_error: f64,
        passed: bool,
    },
    /// Any problem: the average temperature, and the discrete maximum
    /// principle (a stable explicit step is a convex combination, so no value
    /// may leave the range spanned by the initial values and the walls).
    MaximumPrinciple {
        initial_average: f64,
        final_average: f64,
        final_min: f64,
        final_max: f64,
        bounds: [f64; 2],
        passed: bool,
    },
    /// With a source (`--source`): the maximum principle does not hold
    /// (a source heats or cools without bound), so the check is that
    /// every value is finite; the average, minimum and maximum are shown.
    Finite {
        initial_average: f64,
        final_average: f64,
        final_min: f64,
        final_max: f64,
        passed: bool,
    },
    /// `--exact`: the errors against the manufactured solution at the
    /// final time (passed when finite; `--refine` finds the order).
    Manufactured {
        time: f64,
        max_abs_error: f64,
        /// sqrt(mean over the cells of (u - exact)^2).
        l2_error: f64,
        passed: bool,
    },
    /// Insulated and periodic walls only: the total heat (an exact sum of
    /// the cells) against the initial one, within rounding, and the
    /// maximum principle.
    Conserved {
        initial_total: f64,
        final_total: f64,
        /// The largest drift rounding may cause (4 ulp of the largest
        /// value per cell and step).
        tolerance: f64,
        final_min: f64,
        final_max: f64,
        bounds: [f64; 2],
        passed: bool,
    },
}

impl Validation {
    pub fn passed(&self) -> bool {
        match self {
            Validation::Exact { passed, .. }
            | Validation::MaximumPrinciple { passed, .. }
            | Validation::Finite { passed, .. }
            | Validation::Manufactured { passed, .. }
            | Validation::Conserved { passed, .. } => *passed,
        }
    }
}

/// Time spent per phase, min/avg/max over ranks, in seconds.
#[derive(Debug, Clone, Serialize)]
pub struct Phases {
    pub stencil: Spread,
    /// Halo exchange and the periodic stop/blow-up check.
    pub halo: Spread,
    /// Writing checkpoints (inside the time loop).
    pub checkpoint: Spread,
    /// Gathering and writing the result file (after the loop).
    pub io: Spread,
}

/// How the time loop ran.
#[derive(Debug, Clone, Serialize)]
pub struct Execution {
    /// Steps per sweep and per halo exchange (ghost depth).
    pub time_block: usize,
    /// The cache figure an automatic time block was derived from (absent
    /// when `--time-block` was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_block_auto: Option<crate::cache::CacheShare>,
    /// Why the time block is 1 where more was asked or chosen (walls the
    /// time-blocked sweep cannot carry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_block_note: Option<String>,
    pub threads: usize,
    /// Halo exchange overlapped with the interior (only with time_block 1,
    /// and only when there is a neighbour to exchange with).
    pub overlap: bool,
}

/// A run stopped early by a signal, after writing a checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Stop {
    pub signal: String,
    pub step: u64,
    pub checkpoint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatReport {
    #[serde(flatten)]
    pub run: crate::report::RunInfo,
    pub proc_grid: [usize; 2],
    /// How the loop ran (never changes the result).
    pub execution: Execution,
    /// Snapshots written to the result file.
    pub snapshots: u64,
    /// Of those, taken before the restart and carried over from the
    /// restart file.
    pub snapshots_carried: u64,
    /// Peak resident memory, measured after the output was written.
    pub peak_memory: crate::par::PeakMemory,
    pub config: HeatConfig,
    /// Step the run started from (0, or the checkpoint's).
    pub start_step: u64,
    /// Step the run ended at (`config.steps` unless stopped).
    pub step: u64,
    pub sim_time: f64,
    pub validation: Validation,
    /// Wall time of the time loop (slowest rank), seconds.
    pub wall_time_s: f64,
    /// Million lattice-site updates per second over the time loop.
    pub mlups: f64,
    pub phases: Phases,
    pub output: Option<String>,
    pub restarted_from: Option<String>,
    pub stopped: Option<Stop>,
    /// `--init FILE`: what was read (absent for other initial states).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_file: Option<InitRead>,
}

/// An initial field read from a file: the file (and dataset), its shape
/// and element type, and the checksum of the values read
/// (`super::meta::checksum`, the same on any decomposition).
#[derive(Debug, Clone, Serialize)]
pub struct InitRead {
    pub file: String,
    /// [ny, nx], or [nz, ny, nx] in 3D.
    pub shape: Vec<usize>,
    pub element: &'static str,
    pub checksum: u64,
}

impl Validation {
    /// The validation's lines of the text report.
    pub(super) fn write_text(&self, s: &mut String) {
        match self {
            Validation::Exact {
                max_rel_error,
                tolerance,
                continuum_rel_error,
                passed,
            } => {
                let _ = writeln!(*s, "Validation       : max relative error vs exact discrete solution {max_rel_error:.3e} (tolerance {tolerance:.0e}): {}", crate::report::verdict(*passed));
                let _ = writeln!(*s, "Continuum gap    : max relative error vs PDE solution {continuum_rel_error:.3e} (O(dx^2))");
            }
            Validation::MaximumPrinciple {
                initial_average,
                final_average,
                final_min,
                final_max,
                bounds,
                passed,
            } => {
                let _ = writeln!(
                    *s,
                    "Average temp.    : {} -> {}",
                    num(*initial_average, Some(6)),
                    num(*final_average, Some(6))
                );
                let range = if *bounds == [f64::MIN, f64::MAX] {
                    "finite (an expression wall's range is not known)".to_string()
                } else {
                    format!(
                        "within [{}, {}] (maximum principle)",
                        num(bounds[0], None),
                        num(bounds[1], None)
                    )
                };
                let _ = writeln!(
                    *s,
                    "Validation       : values {range}, found [{}, {}]: {}",
                    num(*final_min, Some(6)),
                    num(*final_max, Some(6)),
                    crate::report::verdict(*passed)
                );
            }
            Validation::Conserved {
                initial_total,
                final_total,
                tolerance,
                final_min,
                final_max,
                bounds,
                passed,
            } => {
                let _ = writeln!(
                    *s,
                    "Total heat       : {} -> {} (insulated/periodic walls: conserved; drift {:.3e}, tolerance {:.3e})",
                    num(*initial_total, None),
                    num(*final_total, None),
                    (final_total - initial_total).abs(),
                    tolerance
                );
                let _ = writeln!(
                    *s,
                    "Validation       : total conserved, values within [{}, {}], found [{}, {}]: {}",
                    num(bounds[0], None),
                    num(bounds[1], None),
                    num(*final_min, Some(6)),
                    num(*final_max, Some(6)),
                    crate::report::verdict(*passed)
                );
            }
            Validation::Manufactured { .. } | Validation::Finite { .. } => self.sourced_text(s),
        }
    }

    /// The lines of the validations of a run with a source: `--exact`'s
    /// errors, or `--source`'s finite values.
    fn sourced_text(&self, s: &mut String) {
        match self {
            Validation::Manufactured {
                time,
                max_abs_error,
                l2_error,
                passed,
            } => {
                let _ = writeln!(
                    *s,
                    "Validation       : against the exact solution at t = {time:.6e}: max |error| \
                 {max_abs_error:.6e}, L2 error {l2_error:.6e} (finite: {}; --refine K \
                 measures the order)",
                    crate::report::verdict(*passed)
                );
            }
            Validation::Finite {
                initial_average,
                final_average,
                final_min,
                final_max,
                passed,
            } => {
                let _ = writeln!(
                    *s,
                    "Average temp.    : {} -> {}",
                    num(*initial_average, Some(6)),
                    num(*final_average, Some(6))
                );
                let _ = writeln!(
                    *s,
                    "Validation       : every value finite, found [{}, {}] (with a source the \
                 maximum principle does not bound them): {}",
                    num(*final_min, Some(6)),
                    num(*final_max, Some(6)),
                    crate::report::verdict(*passed)
                );
            }
            _ => {}
        }
    }
}

impl HeatReport {
    /// Several lines of text for people and job logs.
    pub fn to_text(&self) -> String {
        let mut s = self.problem_text();
        self.run_text(&mut s);
        self.validation.write_text(&mut s);
        self.figures_text(&mut s);
        s
    }

    /// What was solved, and whether the run restarted or stopped.
    fn problem_text(&self) -> String {
        let c = &self.config;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "parsim heat {}: 2D heat equation, explicit Euler, 5-point stencil",
            self.run.version
        );
        let _ = writeln!(
            s,
            "Grid             : {} x {} interior points, dx = {}, dy = {}",
            c.nx,
            c.ny,
            num(c.dx, None),
            num(c.dy, None)
        );
        let _ = writeln!(
            s,
            "Time stepping    : {} steps of dt = {:.6e}, alpha = {}, t_end = {:.6e}",
            c.steps,
            c.dt,
            num(c.alpha, None),
            c.end_time()
        );
        if let Some(from) = &self.restarted_from {
            let _ = writeln!(
                s,
                "Restarted        : from '{from}' at step {}",
                self.start_step
            );
        }
        if let Some(stop) = &self.stopped {
            let _ = writeln!(
                s,
                "STOPPED          : by {} at step {} (t = {:.6e}); checkpoint '{}'",
                stop.signal, stop.step, self.sim_time, stop.checkpoint
            );
        }
        s
    }

    /// The initial state, the ranks and how the loop ran.
    fn run_text(&self, s: &mut String) {
        let c = &self.config;
        let b = &c.boundaries;
        let _ = writeln!(
            *s,
            "Initial state    : {} (walls left {}, right {}, bottom {}, top {})",
            if c.exact.is_some() {
                "the exact solution at t = 0"
            } else {
                c.init.name()
            },
            wall_text(&b.left),
            wall_text(&b.right),
            wall_text(&b.bottom),
            wall_text(&b.top)
        );
        let _ = writeln!(
            *s,
            "Ranks            : {} (process grid {} x {})",
            self.run.ranks, self.proc_grid[0], self.proc_grid[1]
        );
        if let Some(f) = &self.init_file {
            let _ = writeln!(
                *s,
                "Initial field    : '{}', [{}, {}] {}, checksum {:#018x}",
                f.file, f.shape[0], f.shape[1], f.element, f.checksum
            );
        }
        let e = &self.execution;
        let _ = writeln!(
            *s,
            "Execution        : {} thread(s)/rank, time block {}{}{}",
            e.threads,
            e.time_block,
            match &e.time_block_note {
                Some(note) => format!(" ({note})"),
                None => crate::cache::auto_note(e.time_block_auto),
            },
            if e.overlap { ", halo overlapped" } else { "" }
        );
        if let Some(exact) = &c.exact {
            let _ = writeln!(
                *s,
                "Exact solution   : u(x, y, t) = {}: the initial field, walls and source derived",
                super::source::shown(&exact.text)
            );
        }
        if let Some(source) = &c.source {
            let _ = writeln!(
                *s,
                "Source term      : S(x, y, t) = {}, added after each step ({})",
                super::source::shown(&source.text),
                if source.is_unsteady() {
                    "evaluated at every step"
                } else {
                    "no t: evaluated once"
                },
            );
        }
    }

    /// Time, rate, phases, memory, output.
    fn figures_text(&self, s: &mut String) {
        let _ = writeln!(*s, "Wall time (loop) : {:.6} s", self.wall_time_s);
        let _ = writeln!(*s, "Rate (MLUPS/s)   : {:.2}", self.mlups);
        *s += &crate::report::phase_table(&[
            ("stencil", &self.phases.stencil),
            ("halo exchange", &self.phases.halo),
            ("checkpoints", &self.phases.checkpoint),
            ("gather/I-O", &self.phases.io),
        ]);
        let mem = &self.peak_memory;
        let _ = writeln!(
            *s,
            "Peak memory      : rank 0 {:.0} MiB, other ranks max {:.0} MiB",
            mem.rank0_mib, mem.max_worker_mib
        );
        if let Some(out) = &self.output {
            let _ = writeln!(*s, "Output           : {out}");
            if self.snapshots > 0 {
                let carried = match (self.snapshots_carried, &self.restarted_from) {
                    (0, _) | (_, None) => String::new(),
                    (n, Some(from)) => format!(" ({n} carried over from '{from}')"),
                };
                let _ = writeln!(*s, "Snapshots        : {}{carried}", self.snapshots);
            }
        }
    }
}

/// A wall in the report: a value as numbers are shown, else its kind (an
/// expression quoted).
fn wall_text(w: &Wall) -> String {
    match w {
        Wall::Value(v) => num(*v, None),
        Wall::Expr(e) => format!("'{e}'"),
        w => w.kind().to_string(),
    }
}
