//! `parsim heat` on the driver: what is heat's own in a run.
//!
//! [`HeatRun::new`] makes every check a rank can make alone first (same
//! verdict everywhere), then has rank 0 reserve the result file, then
//! builds the topology and the state (the initial field, or this rank's
//! block of a checkpoint). Each round exchanges the halos and advances the
//! block by up to the time-block depth, never past a check, checkpoint or
//! snapshot step, so those happen at the same steps whatever the depth; at
//! every `--check-every` step the driver has the ranks agree on stop
//! signals and on blow-up (a value outside the maximum principle's range).

use mpi::topology::CartesianCommunicator;
use mpi::traits::*;

use super::checkpoint;
use super::decomp::Block;
use super::gather::write_snapshot;
use super::io::{self, HeatFile, Plan};
use super::kernel::{Field, Stencil};
use super::layout::SnapshotAt;
use super::meta::CheckpointMeta;
use super::plan::{cartesian, HeatJob, HeatPlan, HeatStart};
use super::report::{HeatReport, Stop};
use super::source_term::SourceTerm;
use super::step::{StepTimes, Stepper};
use super::validate::{field_stats, probe_rows, value_bounds, FieldStats};
use crate::driver::{self, After, Clock, Position, Printed, Workload};
use crate::error::{ExitCode, Failure, Outcome};
use crate::h5::RunMeta;
use crate::progress::Meter;
use crate::stop::StopSignal;

/// A fault a test injects into one rank's time loop: PARSIM_INJECT_PANIC
/// or PARSIM_INJECT_OOM set to the rank's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    Panic,
    /// An allocation that fails although the memory check passed.
    OutOfMemory,
}

impl Injected {
    fn on(rank: usize) -> Option<Self> {
        let at = |var| std::env::var(var).ok()?.parse::<usize>().ok();
        if at("PARSIM_INJECT_PANIC") == Some(rank) {
            Some(Injected::Panic)
        } else if at("PARSIM_INJECT_OOM") == Some(rank) {
            Some(Injected::OutOfMemory)
        } else {
            None
        }
    }
}

/// Collective over `world`: run the job and print the report on rank 0.
pub fn run<C: Communicator>(
    world: &C,
    start: &HeatStart,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let heat = HeatRun::new(world, &start.job, &start.plan, start.resume.clone(), meta)?;
    driver::run(heat, stop, &start.job.out)
}

/// A heat run in progress on this rank.
pub struct HeatRun<'a> {
    pub(super) job: &'a HeatJob,
    pub(super) meta: &'a RunMeta,
    pub(super) plan: HeatPlan,
    pub(super) resume: Option<CheckpointMeta>,
    pub(super) cart: CartesianCommunicator,
    pub(super) block: Block,
    pub(super) file: Option<HeatFile>,
    /// The field and the scratch field it is advanced into.
    pub(super) u: Field,
    pub(super) un: Field,
    pub(super) stepper: Stepper,
    /// The initial field's statistics and the range it must stay in.
    pub(super) start: FieldStats,
    pub(super) bounds: [f64; 2],
    /// The local rows probed for it at every check.
    pub(super) probe_rows: Vec<usize>,
    pub(super) step: u64,
    /// The snapshots in the result file: carried over from the restart
    /// file (those before `plan.start_step`), then taken by this run.
    pub(super) snapshots: Vec<SnapshotAt>,
    pub(super) t: StepTimes,
    /// Seconds in snapshots.
    pub(super) t_snapshots: f64,
    /// A fault this rank injects in the time loop (tests).
    pub(super) inject: Option<Injected>,
    /// Rank 0: the checkpoint path, held for the whole run.
    pub(super) _claim: Option<crate::output::CheckpointClaim>,
}

impl<'a> HeatRun<'a> {
    /// Collective over `world`: with the plan (merged with the restart's
    /// checkpoint `resume` before the run), reserve the output, build the
    /// state.
    pub fn new<C: Communicator>(
        world: &C,
        job: &'a HeatJob,
        plan: &HeatPlan,
        resume: Option<CheckpointMeta>,
        meta: &'a RunMeta,
    ) -> Outcome<Self> {
        let rank = world.rank() as usize;
        let plan = plan.clone();
        let block = plan.decomp.block(rank);
        crate::par::check_memory(world, plan.memory_need(&block), "two fields of its block")?;
        super::plan::check_threads(world, job.tuning.threads)?;
        let mut claim = None;
        let file = io::open(
            world,
            job.io,
            || {
                claim = Some(job.checkpointing.reserve(job.out.force)?);
                Ok(())
            },
            (job.out.path.as_deref(), "output"),
            job.out.force,
            &Plan {
                problem: io::Problem::Two(&plan.cfg, &plan.decomp),
                meta,
                steps_done: plan.cfg.steps,
                extras: &plan.extras,
                snapshots: plan.snapshot_count(resume.as_ref()),
                init_sum: plan.init_sum(),
            },
        )?;
        let cart = cartesian(world, &plan.decomp)?;
        let u = checkpoint::initial_field(&cart, &plan, &block, resume.as_ref())?;
        let (cx, cy) = plan.cfg.coefficients();
        super::plan::warn_threads(rank, job.tuning.threads);
        let tuning = (plan.depth, job.tuning.threads, job.tuning.overlap);
        let walls = super::walls::WallFill::new(&plan.cfg, &block);
        let stencil = Stencil::new(cx, cy);
        let source = (plan.cfg.source.as_ref())
            .map(|s| SourceTerm::new(s, &block, &u, (plan.cfg.dx, plan.cfg.dy), plan.cfg.dt));
        let stepper = Stepper::new(&plan.decomp, walls, rank, &u, tuning, (stencil, source))?;
        let start = field_stats(&cart, &u, plan.cfg.nx * plan.cfg.ny);
        // The maximum principle bounds every value of a stable run: leaving
        // them means blow-up (or a forced unstable dt).
        let bounds = value_bounds(&plan.cfg, &start);
        let mut run = Self {
            job,
            meta,
            step: plan.start_step,
            plan,
            resume,
            cart,
            probe_rows: probe_rows(block.ny()),
            block,
            file,
            un: u.clone(),
            u,
            stepper,
            start,
            bounds,
            snapshots: Vec::new(),
            t: StepTimes::default(),
            t_snapshots: 0.0,
            inject: Injected::on(rank),
            _claim: claim,
        };
        run.carry_snapshots()?;
        if run.snapshot_due() {
            run.snapshot()?;
        }
        Ok(run)
    }

    fn due(&self, every: u64) -> bool {
        every > 0 && self.step % every == 0
    }

    fn snapshot_due(&self) -> bool {
        self.due(self.plan.extras.snapshot_every)
    }

    /// Collective: store the field at this step.
    fn snapshot(&mut self) -> Outcome {
        let a = mpi::time();
        let nx = self.plan.cfg.nx;
        let at = SnapshotAt {
            step: self.step,
            time: self.plan.cfg.time_label(self.step),
            sum: super::meta::checksum(&self.cart, &self.u, &self.block, nx),
        };
        let r = write_snapshot(
            &self.cart,
            &self.plan.decomp,
            &self.u,
            self.file.as_mut(),
            at,
        );
        self.t_snapshots += mpi::time() - a;
        self.snapshots.push(at);
        r
    }

    /// Collective: copy the restart file's snapshots taken before the
    /// restart into the result file (`super::gather::carry_from_restart`).
    fn carry_snapshots(&mut self) -> Outcome {
        let Some(m) = &self.resume else {
            return Ok(());
        };
        let a = mpi::time();
        let every = self.plan.extras.snapshot_every;
        let (cart, decomp) = (&self.cart, &self.plan.decomp);
        let carried =
            super::gather::carry_from_restart(cart, decomp, m, every, self.file.as_mut())?;
        self.snapshots.extend(carried);
        self.t_snapshots += mpi::time() - a;
        Ok(())
    }

    /// The step this round ends at: up to the halo depth, never past a
    /// check, a checkpoint, a snapshot or the end.
    fn round_end(&self) -> u64 {
        let next_multiple = |every: u64| (self.step / every + 1) * every;
        let job = self.job;
        let mut end = (self.plan.cfg.steps)
            .min(self.step + self.plan.depth as u64)
            .min(next_multiple(job.check_every));
        for every in [job.checkpointing.every, self.plan.extras.snapshot_every] {
            if every > 0 {
                end = end.min(next_multiple(every));
            }
        }
        end
    }
}

impl Workload for HeatRun<'_> {
    type Comm = CartesianCommunicator;
    type Report = HeatReport;
    const NAME: &'static str = "heat";

    fn comm(&self) -> &CartesianCommunicator {
        &self.cart
    }

    fn meter(&self) -> Meter {
        let cfg = &self.plan.cfg;
        Meter {
            label: "heat",
            total: cfg.steps,
            unit: "step",
            work_per_unit: cfg.nx as f64 * cfg.ny as f64,
            rate_name: "MLUPS",
        }
    }

    fn position(&self) -> Position {
        Position {
            done: self.step,
            total: self.plan.cfg.steps,
        }
    }

    fn rounds_left(&self) -> bool {
        self.step < self.plan.cfg.steps
    }

    fn advance(&mut self) -> Outcome<After> {
        let end = self.round_end();
        let m = (end - self.step) as usize;
        self.stepper.round(
            &self.cart,
            (&mut self.u, &mut self.un),
            (self.step, m),
            &mut self.t,
        );
        self.step = end;
        if self.step >= self.plan.start_step + 3 {
            match self.inject {
                Some(Injected::Panic) => {
                    panic!("injected fault at step {end} (PARSIM_INJECT_PANIC)")
                }
                Some(Injected::OutOfMemory) => {
                    // An allocation no machine can give, once the outputs
                    // are reserved (their temporaries exist).
                    let huge = std::alloc::Layout::from_size_align(1 << 60, 8).expect("a layout");
                    // SAFETY: a valid non-zero layout; it fails (see crate::oom).
                    let p = std::hint::black_box(unsafe { std::alloc::alloc(huge) });
                    // SAFETY: not reached when it fails; freed as allocated.
                    unsafe { std::alloc::dealloc(p, huge) };
                }
                None => {}
            }
        }
        if self.step % self.job.check_every != 0 && self.step != self.plan.cfg.steps {
            return Ok(After::Continue);
        }
        let within = self
            .u
            .rows_within(&self.probe_rows, self.bounds[0], self.bounds[1]);
        Ok(After::Check { fault: !within })
    }

    fn fault(&self) -> Failure {
        let unstable = if self.plan.cfg.is_unstable() {
            " (dt is above the stability limit)"
        } else {
            ""
        };
        Failure::with_code(
            ExitCode::Blowup,
            format!(
                "numerical blow-up detected at step {}: values left [{}, {}]{unstable}",
                self.step, self.bounds[0], self.bounds[1]
            ),
        )
    }

    const AFTER_ROUND: &'static str = "snapshot (I/O)";

    fn trace_phases(&self) -> Vec<(&'static str, f64)> {
        vec![("stencil", self.t.stencil), ("halo wait", self.t.halo)]
    }

    fn after_round(&mut self, stopping: bool) -> Outcome<bool> {
        let due = self.snapshot_due() && !stopping;
        if due {
            self.snapshot()?;
        }
        Ok(due)
    }

    fn checkpoint_due(&self) -> bool {
        self.due(self.job.checkpointing.every)
    }

    fn checkpoint(&mut self) -> Option<Outcome<String>> {
        let ckpt = &self.job.checkpointing;
        Some(self.write_checkpoint(&ckpt.path).map(|()| ckpt.shown()))
    }

    fn stopped_at(&self, signal: &str) -> String {
        format!("stopped by {signal} at step {}", self.step)
    }

    fn report_stopped(&mut self, clock: &Clock, signal: &str) -> Option<Printed<HeatReport>> {
        let stop = Stop {
            signal: signal.into(),
            step: self.step,
            checkpoint: self.job.checkpointing.shown(),
        };
        self.conclude(clock, Some(stop)).ok()
    }

    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<HeatReport>> {
        self.conclude(clock, None)
    }
}
