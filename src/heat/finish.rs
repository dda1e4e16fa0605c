//! The end of a heat run: validate the field, write the result file of a
//! finished run (the field first, then the report that says how long that
//! took), build the report; and the checkpoint, the same file written at
//! any step.

use std::path::Path;

use mpi::traits::*;

use super::gather::gather_and_write;
use super::io::{self, Plan};
use super::layout::Extras;
use super::meta::Stamp;
use super::report::{Execution, HeatReport, Phases, Stop, Validation};
use super::run::HeatRun;
use super::validate::validate;
use crate::driver::{Clock, Printed};
use crate::error::Outcome;
use crate::par;
use crate::report::RunInfo;

impl HeatRun<'_> {
    /// Collective: validate; write the result file of a finished run; the
    /// report.
    pub(super) fn conclude(
        &mut self,
        clock: &Clock,
        stopped: Option<Stop>,
    ) -> Outcome<Printed<HeatReport>> {
        let cfg = &self.plan.cfg;
        let validation = validate(
            &self.cart,
            cfg,
            (&self.block, &self.u),
            &self.start,
            self.step,
        );
        if let (
            Some(sink),
            Validation::Manufactured {
                max_abs_error,
                l2_error,
                ..
            },
        ) = (&self.job.errors, &validation)
        {
            sink.borrow_mut().push([*max_abs_error, *l2_error]);
        }
        // Only a finished run replaces the result file. The field is
        // written first, so the report stored in the file can say how long
        // that took; then the file is stamped, closed and moved.
        let t_io0 = mpi::time();
        let stamp = if stopped.is_none() && self.job.out.path.is_some() {
            let stamp = self.stamp();
            gather_and_write(&self.cart, &self.plan.decomp, &self.u, self.file.as_ref())?;
            Some(stamp)
        } else {
            None
        };
        let t_io = mpi::time() - t_io0 + self.t_snapshots;
        let times = [
            self.t.stencil,
            self.t.halo + clock.agree,
            clock.checkpoint,
            t_io,
        ];
        let [stencil, halo, checkpoint, io] = par::spreads(&self.cart, times);
        let phases = Phases {
            stencil,
            halo,
            checkpoint,
            io,
        };
        let written = stamp.is_some();
        let report = self.report(clock.wall, phases, validation, written, stopped);
        if let Some(stamp) = &stamp {
            let json = crate::report::stored_json(&report);
            super::gather::finish(&self.cart, self.file.take(), stamp, Some(&json))?;
        }
        Ok(Printed {
            text: report.to_text(),
            passed: report.validation.passed(),
            report,
        })
    }

    /// Collective: the stamp of the field as it is now.
    pub(super) fn stamp(&self) -> Stamp {
        Stamp {
            step: self.step,
            target_steps: self.plan.cfg.steps,
            checksum: super::meta::checksum(&self.cart, &self.u, &self.block, self.plan.cfg.nx),
        }
    }

    fn report(
        &self,
        wall: f64,
        phases: Phases,
        validation: Validation,
        written: bool,
        stopped: Option<Stop>,
    ) -> HeatReport {
        let (cfg, grid) = (&self.plan.cfg, self.plan.grid);
        let done = self.step - self.plan.start_step;
        HeatReport {
            run: RunInfo::new("heat", self.meta.version, self.cart.size() as usize),
            proc_grid: [grid.px(), grid.py()],
            peak_memory: par::peak_memory(&self.cart),
            execution: Execution {
                time_block: self.plan.depth,
                time_block_auto: self.plan.auto,
                time_block_note: self.plan.depth_note.clone(),
                threads: self.job.tuning.threads,
                overlap: self.stepper.overlap,
            },
            sim_time: cfg.time_label(self.step),
            start_step: self.plan.start_step,
            step: self.step,
            mlups: if wall > 0.0 {
                cfg.nx as f64 * cfg.ny as f64 * done as f64 / wall / 1e6
            } else {
                0.0
            },
            wall_time_s: wall,
            phases,
            snapshots: self.snapshots.len() as u64,
            snapshots_carried: self
                .snapshots
                .iter()
                .filter(|s| s.step < self.plan.start_step)
                .count() as u64,
            output: self
                .job
                .out
                .path
                .as_ref()
                .filter(|_| written)
                .map(|p| p.display().to_string()),
            restarted_from: self.resume.as_ref().map(|m| m.path.clone()),
            init_file: self
                .plan
                .init_field
                .as_ref()
                .map(|m| super::report::InitRead {
                    file: m.shown.clone(),
                    shape: m.shape.clone(),
                    element: m.element.name(),
                    checksum: m.checksum,
                }),
            stopped,
            validation,
            config: cfg.clone(),
        }
    }

    /// Collective: write a checkpoint of the field at this step to `path`,
    /// with the snapshots taken so far (a restart carries them into its
    /// result).
    pub(super) fn write_checkpoint(&self, path: &Path) -> Outcome {
        let stamp = self.stamp();
        let extras = Extras {
            snapshot_every: self.plan.extras.snapshot_every,
            ..Extras::default()
        };
        let plan = Plan {
            problem: io::Problem::Two(&self.plan.cfg, &self.plan.decomp),
            meta: self.meta,
            steps_done: self.step,
            extras: &extras,
            snapshots: self.snapshots.len() as u64,
            init_sum: self.plan.init_sum(),
        };
        let src = self.file.as_ref().and_then(|f| f.snapshot_field());
        super::gather::write_checkpoint(
            &self.cart,
            (self.job.io, path, &plan),
            (&self.plan.decomp, &self.u),
            (&self.snapshots, src),
            &stamp,
        )
    }
}
