//! A 3D heat run on the driver: the 3D Cartesian communicator (checked
//! against [`super::decomp3d`]), one halo exchange and one 7-point sweep a
//! round (the insulated and expression walls refreshed before it, a
//! source's term added in the sweep), or with `--time-block K` above 1 a
//! K-deep exchange and a sweep of up to K steps a round
//! ([`super::timeblock3d`]; rounds end at every check and snapshot), the
//! driver's collective checks (stop signals, blow-up) every
//! `--check-every` steps, and the report: the
//! validation (the `sine` mode's exact discrete solution, `--exact`'s
//! errors, else as 2D's: the maximum principle, the total conserved with
//! no heat crossing a wall, finite values with a source), MLUPS, the
//! phases, and a checksum of the field that is the same bits on any
//! process grid and thread count. The result file and its snapshots are
//! `super::output3d`'s.

use mpi::topology::CartesianCommunicator;
use mpi::traits::*;
use serde::Serialize;

use super::config::Init;
use super::decomp3d::{Block3, Decomposition3};
use super::gather::Tiles;
use super::kernel3d::{self, Field3, Stencil3};
use super::output3d::Output3;
use super::overlap3d::{StepTimes3, Stepper3};
use super::plan3d::{Config3d, Start3d};
use super::report::{Phases, Validation};
use super::source_term::SourceTerm;
use super::timeblock3d::Blocked3;
use super::validate::{self, values_stats, FieldStats, Rules};
use super::wallfill3d::WallFill3;
use crate::driver::{self, After, Clock, Position, Printed, Workload};
use crate::error::{ExitCode, Failure, Outcome};
use crate::h5::RunMeta;
use crate::par;
use crate::progress::Meter;
use crate::stop::StopSignal;

/// Collective over `world`: run the 3D job and print its report on rank 0.
pub fn run<C: Communicator>(
    world: &C,
    start: &Start3d,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let rank = world.rank() as usize;
    par::check_memory(world, start.memory_need(), "two fields of its block")?;
    super::plan::check_threads(world, start.threads)?;
    super::plan::warn_threads(rank, start.threads);
    let output = Output3::open(world, start, meta)?;
    let cart = cartesian(world, &start.decomp)?;
    let (cfg, block) = (&start.cfg, start.decomp.block(rank));
    let u = initial(&cart, start, &block)?;
    let stats = stats(&cart, &u, cfg);
    let bounds = validate::bounds(&rules(cfg), &stats);
    let d = [cfg.dx, cfg.dy, cfg.dz];
    let mut run = Heat3dRun {
        start,
        meta,
        stepper: Stepper3::new(&start.decomp, rank, start.threads, start.overlap),
        blocked: (start.depth > 1).then(|| {
            let share = usize::try_from(start.cache.per_core).unwrap_or(usize::MAX);
            let how = (start.threads, share);
            Blocked3::new(&start.decomp, rank, start.depth, how)
        }),
        stencil: Stencil3::new(cfg.coefficients()).for_fields(
            2 * std::mem::size_of_val(u.as_slice()),
            start.cache.l2,
            start.threads,
        ),
        walls: WallFill3::new(cfg, &block),
        source: (cfg.source.as_ref()).map(|s| SourceTerm::new3(s, &block, u.extents(), d, cfg.dt)),
        cart,
        block,
        un: u.clone(),
        u,
        stats,
        bounds,
        step: start.start_step(),
        times: StepTimes3::default(),
        output,
    };
    // A restart's snapshots from before it, then the snapshot at the
    // first step, if asked for.
    run.output.carry(&run.cart, start)?;
    run.after_round(false)?;
    driver::run(run, stop, &start.out)
}

/// Collective: this rank's block at the start: the initial condition, or
/// its block of the restart file, checked against the file's checksum.
fn initial(cart: &CartesianCommunicator, start: &Start3d, block: &Block3) -> Outcome<Field3> {
    let cfg = &start.cfg;
    let mut u = Field3::initial_deep(cfg, block, start.depth);
    if let Some(m) = &start.resume {
        let rank = cart.rank() as usize;
        let read = hdf5::File::open(&m.path)
            .and_then(|f| f.dataset("heat/temperature"))
            .map_err(anyhow::Error::from)
            .and_then(|ds| start.decomp.read_into(&ds, None, rank, &mut u));
        let sum = || field_checksum(cart, &u, block, cfg);
        super::checkpoint::restored(cart, m, read, sum)?;
        return Ok(u);
    }
    if let Init::Expr(text) = &cfg.init {
        let at = ([cfg.dx, cfg.dy, cfg.dz], [cfg.nx, cfg.ny]);
        super::init_expr::fill3(cart, text, block, at, |i, j, k, v| u.set(i, j, k, v))?;
    }
    read_init(cart, start, block, &mut u)?;
    Ok(u)
}

/// Collective: the field's checksum (see [`Heat3dReport::checksum`]).
fn field_checksum<C: Communicator>(comm: &C, u: &Field3, b: &Block3, cfg: &Config3d) -> u64 {
    let part = super::output3d::checksum_partial(u, b, cfg);
    let mut sum = 0u64;
    comm.all_reduce_into(&part, &mut sum, mpi::collective::SystemOperation::sum());
    sum
}

/// Collective: this rank's block of `--init FILE` (if given) into `u`,
/// checked against the checksum rank 0 found when it checked the file in
/// the inputs step (`super::field_file`), as 2D's
/// `super::checkpoint::initial_field`.
fn read_init(
    cart: &CartesianCommunicator,
    start: &Start3d,
    block: &Block3,
    u: &mut Field3,
) -> Outcome {
    let (Some(file), Some(meta)) = (start.cfg.init.file(), &start.init_field) else {
        return Ok(());
    };
    let read = super::field_file::read_block3(file, meta, block, |i, j, k, v| u.set(i, j, k, v))
        .map_err(|e| Failure::usage(format!("--init '{}': {e:#}", meta.shown)));
    par::agree(cart, read)?;
    if field_checksum(cart, u, block, &start.cfg) != meta.checksum {
        return Err(Failure::usage(format!(
            "--init '{}' changed since it was checked: its field does not match the checksum \
             read then",
            meta.shown
        )));
    }
    Ok(())
}

/// Collective: the 3D Cartesian communicator (dims `[pz, py, px]`,
/// periodic along the periodic walls' axes, ranks not reordered), its
/// neighbours checked against the decomposition's, or halos would go to
/// the wrong rank.
fn cartesian<C: Communicator>(world: &C, d: &Decomposition3) -> Outcome<CartesianCommunicator> {
    let g = d.grid();
    let dims = [g.pz() as i32, g.py() as i32, g.px() as i32];
    let p = d.periodic();
    let cart = world
        .create_cartesian_communicator(&dims, &[p[2], p[1], p[0]], false)
        .ok_or_else(|| {
            Failure::runtime(anyhow::anyhow!(
                "MPI_Cart_create gave no communicator for grid {g}"
            ))
        })?;
    let rank = cart.rank() as usize;
    let mut got = [None; 6];
    // MPI's dimension 2 is x, 1 is y, 0 is z; faces are x, y, z.
    for axis in 0..3 {
        let (low, high) = cart.shift(2 - axis as i32, 1);
        got[2 * axis] = low.map(|r| r as usize);
        got[2 * axis + 1] = high.map(|r| r as usize);
    }
    let want = d.neighbours(rank);
    let mine = if got == want {
        Ok(())
    } else {
        Err(Failure::runtime(anyhow::anyhow!(
            "rank {rank}: MPI Cartesian neighbours {got:?} differ from the decomposition's \
             {want:?}"
        )))
    };
    par::agree(&cart, mine)?;
    Ok(cart)
}

/// A 3D run in progress on this rank.
struct Heat3dRun<'a> {
    start: &'a Start3d,
    meta: &'a RunMeta,
    cart: CartesianCommunicator,
    stepper: Stepper3,
    /// Time blocks' rounds (depth above 1), in place of `stepper`'s steps.
    blocked: Option<Blocked3>,
    stencil: Stencil3,
    /// Insulated and expression walls, refreshed before every step.
    walls: WallFill3,
    source: Option<SourceTerm>,
    block: Block3,
    u: Field3,
    un: Field3,
    /// The initial field's statistics and the range it must stay in.
    stats: FieldStats,
    bounds: [f64; 2],
    step: u64,
    times: StepTimes3,
    /// The result file.
    output: Output3,
}

/// Collective: min, max, exact-sum average and total of the field.
fn stats<C: Communicator>(comm: &C, u: &Field3, cfg: &Config3d) -> FieldStats {
    values_stats(comm, || u.interior(), cfg.cells())
}

/// How a run without an exact solution is validated (2D's rules).
fn rules(cfg: &Config3d) -> Rules {
    Rules {
        source: cfg.source.is_some(),
        conserve: cfg.walls.conserve_heat(),
        range: cfg.walls.value_range(),
    }
}

/// The 3D report (text and `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct Heat3dReport {
    #[serde(flatten)]
    pub run: crate::report::RunInfo,
    /// 3 (the 2D report has none).
    pub dimensions: u32,
    pub proc_grid: [usize; 3],
    pub execution: Execution3,
    pub peak_memory: par::PeakMemory,
    pub config: Config3d,
    pub step: u64,
    pub sim_time: f64,
    pub validation: Validation,
    /// The field's checksum: each cell's bits mixed with its global index,
    /// added with wrap-around (order-free: the same on any process grid
    /// and thread count, and different if any cell's bits are).
    pub checksum: String,
    pub wall_time_s: f64,
    pub mlups: f64,
    pub phases: Phases,
    pub output: Option<String>,
    /// Snapshots written to the result file (a restart's included).
    pub snapshots: u64,
    /// The checkpoint a restart continued (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restarted_from: Option<String>,
    /// The step it continued from (absent without a restart).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_step: Option<u64>,
    /// `--init FILE`: what was read (2D's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_file: Option<super::report::InitRead>,
}

/// How the 3D loop ran (never changes the result).
#[derive(Debug, Clone, Serialize)]
pub struct Execution3 {
    pub threads: usize,
    /// Steps per sweep and per halo exchange (ghost depth).
    pub time_block: usize,
    /// The cache figure an automatic time block was derived from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_block_auto: Option<crate::cache::CacheShare>,
    /// Why the time block is 1 where more was asked or chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_block_note: Option<String>,
    /// Halo exchange overlapped with the inside (time block 1 only).
    pub overlap: bool,
}

impl Execution3 {
    /// "2 thread(s)/rank, time block 6 (auto: ...)", as the report says it.
    fn shown(&self) -> String {
        let why = match &self.time_block_note {
            Some(note) => format!(" ({note})"),
            None => crate::cache::auto_note(self.time_block_auto),
        };
        format!(
            "{} thread(s)/rank, time block {}{why}",
            self.threads, self.time_block
        )
    }
}

impl Heat3dRun<'_> {
    /// Collective: the field's checksum (see [`Heat3dReport::checksum`]).
    fn checksum(&self) -> u64 {
        field_checksum(&self.cart, &self.u, &self.block, &self.start.cfg)
    }

    /// Collective: the stamp of the field as it is now.
    fn stamp(&self) -> super::meta::Stamp {
        super::meta::Stamp {
            step: self.step,
            target_steps: self.start.cfg.steps,
            checksum: self.checksum(),
        }
    }

    /// Collective: the validation of the field at this step.
    fn validate(&self) -> Validation {
        let cfg = &self.start.cfg;
        if cfg.exact.is_some() {
            return self.against_manufactured();
        }
        if cfg.has_exact_solution() {
            return self.against_exact();
        }
        let end = stats(&self.cart, &self.u, cfg);
        validate::judge(&rules(cfg), &self.stats, &end, self.step, cfg.cells())
    }

    /// Collective: `--exact`'s max and L2 errors at this step (2D's).
    fn against_manufactured(&self) -> Validation {
        let (cfg, b) = (&self.start.cfg, &self.block);
        let Some(exact) = &cfg.exact else {
            unreachable!("called with --exact")
        };
        let time = self.step as f64 * cfg.dt;
        let d = [cfg.dx, cfg.dy, cfg.dz];
        let mut values = self.u.interior();
        let mut errors = Vec::with_capacity(b.cells());
        for k in b.planes.clone() {
            for j in b.rows.clone() {
                for i in b.cols.clone() {
                    let [x, y, z] = [i, j, k].map(|g| g + 1);
                    let at = [x as f64 * d[0], y as f64 * d[1], z as f64 * d[2], time];
                    let v = values.next().unwrap_or(f64::NAN);
                    errors.push(v - exact.eval(&at));
                }
            }
        }
        validate::errors_report(&self.cart, &errors, cfg.cells(), time)
    }

    /// Collective: the `sine` mode against its exact discrete solution
    /// (round-off only) and the PDE's (O(dx^2)), as 2D validates it.
    fn against_exact(&self) -> Validation {
        let (cfg, b, step) = (&self.start.cfg, &self.block, self.step);
        let t = step as f64 * cfg.dt;
        let [mut err, mut norm, mut cerr, mut cnorm] = [0.0f64; 4];
        let mut values = self.u.interior();
        for k in b.planes.clone() {
            for j in b.rows.clone() {
                for i in b.cols.clone() {
                    let v = values.next().unwrap_or(f64::NAN);
                    let exact = kernel3d::sine_discrete(cfg, [i, j, k], step);
                    let before = kernel3d::sine_discrete(cfg, [i, j, k], step.saturating_sub(1));
                    let cont = kernel3d::sine_continuum(cfg, [i, j, k], t);
                    err = err.max((v - exact).abs());
                    norm = norm.max(exact.abs()).max(before.abs());
                    cerr = cerr.max((v - cont).abs());
                    cnorm = cnorm.max(cont.abs());
                }
            }
        }
        let tiny = f64::MIN_POSITIVE / f64::EPSILON;
        let rel = par::max(&self.cart, err) / par::max(&self.cart, norm).max(tiny);
        let crel = par::max(&self.cart, cerr) / par::max(&self.cart, cnorm).max(tiny);
        let tolerance = 1e-12_f64.max(step as f64 * 1e-15);
        Validation::Exact {
            max_rel_error: rel,
            tolerance,
            continuum_rel_error: crel,
            passed: rel <= tolerance,
        }
    }

    /// Collective: the report at the end of the loop.
    fn report(&self, clock: &Clock) -> Heat3dReport {
        let validation = self.validate();
        let sum = self.checksum();
        let [stencil, halo, checkpoint, io] = par::spreads(
            &self.cart,
            [
                self.times.stencil,
                self.times.halo + clock.agree,
                0.0,
                self.output.seconds,
            ],
        );
        let (cfg, g) = (&self.start.cfg, self.start.decomp.grid());
        let wall = clock.wall;
        Heat3dReport {
            run: crate::report::RunInfo::new("heat", self.meta.version, self.cart.size() as usize),
            dimensions: 3,
            proc_grid: g.dims(),
            execution: Execution3 {
                threads: self.start.threads,
                time_block: self.start.depth,
                time_block_auto: self.start.auto,
                time_block_note: self.start.depth_note.clone(),
                overlap: self.stepper.overlap && self.blocked.is_none(),
            },
            peak_memory: par::peak_memory(&self.cart),
            config: cfg.clone(),
            step: self.step,
            sim_time: cfg.time_label(self.step),
            validation,
            checksum: format!("{sum:#018x}"),
            wall_time_s: wall,
            mlups: if wall > 0.0 {
                cfg.cells() as f64 * (self.step - self.start.start_step()) as f64 / wall / 1e6
            } else {
                0.0
            },
            phases: Phases {
                stencil,
                halo,
                checkpoint,
                io,
            },
            output: self
                .output
                .written
                .as_ref()
                .map(|p| p.display().to_string()),
            snapshots: self.output.snapshots(),
            restarted_from: self.start.resume.as_ref().map(|m| m.path.clone()),
            start_step: self.start.resume.as_ref().map(|m| m.stamp.step),
            init_file: (self.start.init_field.as_ref()).map(|m| super::report::InitRead {
                file: m.shown.clone(),
                shape: m.shape.clone(),
                element: m.element.name(),
                checksum: m.checksum,
            }),
        }
    }
}

impl Heat3dReport {
    /// Lines of text for people and job logs.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let c = &self.config;
        let num = |v: f64| crate::report::num(v, None);
        let [l, r, b, t, f, k] = c.walls.shown(num);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "parsim heat {}: 3D heat equation, explicit Euler, 7-point stencil",
            self.run.version
        );
        let _ = writeln!(
            s,
            "Grid             : {} x {} x {} interior points, dx = {}, dy = {}, dz = {}",
            c.nx,
            c.ny,
            c.nz,
            num(c.dx),
            num(c.dy),
            num(c.dz)
        );
        let _ = writeln!(
            s,
            "Time stepping    : {} steps of dt = {:.6e}, alpha = {}, t_end = {:.6e}",
            c.steps,
            c.dt,
            num(c.alpha),
            c.time_label(c.steps)
        );
        let _ = writeln!(
            s,
            "Initial state    : {} (walls left {}, right {}, bottom {}, top {}, front {}, back {})",
            match (&c.exact, c.init.name()) {
                (Some(_), _) => "u at t = 0 of the exact solution",
                (None, "disk") => "disk (a sphere in 3D)",
                (None, name) => name,
            },
            l,
            r,
            b,
            t,
            f,
            k
        );
        sources_text(c, self.init_file.as_ref(), &mut s);
        let [px, py, pz] = self.proc_grid;
        let _ = writeln!(
            s,
            "Ranks            : {} (process grid {px} x {py} x {pz}), {}",
            self.run.ranks,
            self.execution.shown()
        );
        self.validation.write_text(&mut s);
        let _ = writeln!(s, "Checksum         : {}", self.checksum);
        let _ = writeln!(s, "Wall time (loop) : {:.6} s", self.wall_time_s);
        let _ = writeln!(s, "Rate (MLUPS/s)   : {:.2}", self.mlups);
        s += &crate::report::phase_table(&[
            ("stencil", &self.phases.stencil),
            ("halo exchange", &self.phases.halo),
            ("gather/I-O", &self.phases.io),
        ]);
        let mem = &self.peak_memory;
        let _ = writeln!(
            s,
            "Peak memory      : rank 0 {:.0} MiB, other ranks max {:.0} MiB",
            mem.rank0_mib, mem.max_worker_mib
        );
        if let (Some(from), Some(step)) = (&self.restarted_from, self.start_step) {
            let _ = writeln!(s, "Restarted        : from '{from}' at step {step}");
        }
        let out = self.output.as_deref().unwrap_or("none");
        let _ = writeln!(s, "Output           : {out}");
        if self.snapshots > 0 {
            let _ = writeln!(s, "Snapshots        : {}", self.snapshots);
        }
        s
    }
}

/// The report's lines of `--exact`, `--source` and `--init FILE`, if
/// given (2D's).
fn sources_text(c: &Config3d, init: Option<&super::report::InitRead>, s: &mut String) {
    use std::fmt::Write as _;
    if let Some(f) = init {
        let _ = writeln!(
            s,
            "Initial field    : '{}', {:?} {}, checksum {:#018x}",
            f.file, f.shape, f.element, f.checksum
        );
    }
    if let Some(exact) = &c.exact {
        let _ = writeln!(
            s,
            "Exact solution   : u(x, y, z, t) = {}: the initial field, walls and source derived",
            super::source::shown(&exact.text)
        );
    }
    if let Some(source) = &c.source {
        let _ = writeln!(
            s,
            "Source term      : S(x, y, z, t) = {}, added after each step ({})",
            super::source::shown(&source.text),
            if source.is_unsteady() {
                "evaluated at every step"
            } else {
                "no t: evaluated once"
            },
        );
    }
}

impl Workload for Heat3dRun<'_> {
    type Comm = CartesianCommunicator;
    type Report = Heat3dReport;
    const NAME: &'static str = "heat";

    fn comm(&self) -> &CartesianCommunicator {
        &self.cart
    }

    fn meter(&self) -> Meter {
        Meter {
            label: "heat",
            total: self.start.cfg.steps,
            unit: "step",
            work_per_unit: self.start.cfg.cells() as f64,
            rate_name: "MLUPS",
        }
    }

    fn position(&self) -> Position {
        Position {
            done: self.step,
            total: self.start.cfg.steps,
        }
    }

    fn rounds_left(&self) -> bool {
        self.step < self.start.cfg.steps
    }

    fn advance(&mut self) -> Outcome<After> {
        let end = self.round_end();
        if let Some(blocked) = &mut self.blocked {
            let how = (&self.stencil, (end - self.step) as usize);
            blocked.round(
                &self.cart,
                (&mut self.u, &mut self.un),
                how,
                &mut self.times,
            );
            self.step = end;
        } else {
            self.step_once();
        }
        if self.step % self.start.check_every != 0 && self.step != self.start.cfg.steps {
            return Ok(After::Continue);
        }
        Ok(After::Check {
            fault: !self.probe_within(),
        })
    }

    fn fault(&self) -> Failure {
        let unstable = if self.start.cfg.is_unstable() {
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

    fn trace_phases(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("stencil", self.times.stencil),
            ("halo wait", self.times.halo),
        ]
    }

    const AFTER_ROUND: &'static str = "snapshot (I/O)";

    fn after_round(&mut self, stopping: bool) -> Outcome<bool> {
        let due = self.output.snapshot_due(self.step) && !stopping;
        if due {
            let at = (self.step, self.checksum());
            self.output.snapshot(&self.cart, self.start, &self.u, at)?;
        }
        Ok(due)
    }

    fn checkpoint_due(&self) -> bool {
        let every = self.start.checkpointing.every;
        every > 0 && self.step % every == 0
    }

    fn checkpoint(&mut self) -> Option<Outcome<String>> {
        let stamp = self.stamp();
        let at = (self.start, self.meta);
        let written = self.output.checkpoint(&self.cart, at, &self.u, &stamp);
        Some(written.map(|()| self.start.checkpointing.shown()))
    }

    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<Heat3dReport>> {
        // The field first, so the report stored in the file says how long
        // writing it took; then the file is stamped, closed and moved.
        self.output.write_final(&self.cart, self.start, &self.u)?;
        let report = self.report(clock);
        if let (
            Some(sink),
            Validation::Manufactured {
                max_abs_error,
                l2_error,
                ..
            },
        ) = (&self.start.errors, &report.validation)
        {
            sink.borrow_mut().push([*max_abs_error, *l2_error]);
        }
        let stamp = self.stamp();
        let json = crate::report::stored_json(&report);
        self.output.close(&self.cart, &stamp, &json)?;
        Ok(Printed {
            text: report.to_text(),
            passed: report.validation.passed(),
            report,
        })
    }
}

impl Heat3dRun<'_> {
    /// One plain step (time block 1): the changing walls refreshed, the
    /// source's term prepared, the step overlapped with its exchange.
    fn step_once(&mut self) {
        if !self.walls.is_empty() {
            self.walls.refresh(&mut self.u, self.step);
        }
        if let Some(source) = &mut self.source {
            source.prepare(self.step, 1);
        }
        let source = self.source.as_ref().map(|s| (s, self.step));
        let fields = (&mut self.u, &mut self.un);
        (self.stepper).step(&self.cart, fields, (&self.stencil, source), &mut self.times);
        self.step += 1;
    }

    /// The step a time block's round ends at: `depth` steps on, but no
    /// further than the run's end or the next check, snapshot or
    /// checkpoint.
    fn round_end(&self) -> u64 {
        let next_multiple = |every: u64| (self.step / every + 1) * every;
        let mut end = (self.start.cfg.steps)
            .min(self.step + self.start.depth as u64)
            .min(next_multiple(self.start.check_every));
        for every in [
            self.start.extras.snapshot_every,
            self.start.checkpointing.every,
        ] {
            if every > 0 {
                end = end.min(next_multiple(every));
            }
        }
        end
    }

    /// Whether the probed planes (first, middle, last) are within the
    /// bounds: an unstable mode grows everywhere at once.
    fn probe_within(&self) -> bool {
        let [nx, ny, nz] = self.u.extents();
        let [lo, hi] = self.bounds;
        let mut planes = vec![0, nz / 2, nz - 1];
        planes.dedup();
        let (d, g) = (self.u.as_slice(), self.u.ghosts());
        planes.iter().all(|&k| {
            (0..ny).all(|j| {
                let a = self.u.at(g, j + g, k + g);
                d[a..a + nx].iter().all(|&v| v >= lo && v <= hi)
            })
        })
    }
}
