//! One heat run from validated input to report: the SPMD driver that ties
//! the decomposition, the kernel, the halo exchange, checkpoints and the
//! output together.
//!
//! Order matters for the "no hang, nothing clobbered" rules: everything that
//! every rank can check by itself is checked first (same answer on every
//! rank, so all return together); then rank 0 reads the restart file and
//! reserves the output files, and the verdict is shared collectively; only
//! then is memory allocated and the time loop entered.
//!
//! Inside the loop, every `check_every` steps the ranks agree (one small
//! all-reduce) on whether a stop signal arrived or the field blew up, so
//! they always stop together, at the same step.

use std::path::{Path, PathBuf};

use mpi::collective::SystemOperation;
use mpi::raw::AsRaw;
use mpi::topology::CartesianCommunicator;
use mpi::traits::*;

use super::checkpoint::{self, CheckpointMeta, Stamp};
use super::config::{HeatConfig, HeatRequest};
use super::decomp::{Block, DecompError, Decomposition, Neighbours, ProcGrid};
use super::halo::Halo;
use super::io::{
    self, complete, finish, gather_and_write, write_snapshot, Extras, HeatFile, IoMode, Plan,
};
use super::kernel::{self, Field};
use super::report::{Execution, HeatReport, Phases, Stop, Validation};
use super::sweep::{self, Reach, Region, Team};
use crate::error::{ExitCode, Failure, Outcome};
use crate::h5::RunMeta;
use crate::par;
use crate::stop::{signal_name, StopSignal};

/// Everything `parsim heat` was asked to do.
#[derive(Debug, Clone)]
pub struct HeatJob {
    pub request: HeatRequest,
    /// Explicit process grid; `None` picks a balanced one.
    pub grid: Option<ProcGrid>,
    /// Result file; `None` writes nothing (benchmarks, studies).
    pub output: Option<PathBuf>,
    pub force: bool,
    /// Report as JSON on stdout (the text report then goes to stderr).
    pub json: bool,
    /// Write a checkpoint every this many steps (0: only when stopped).
    pub checkpoint_every: u64,
    /// Checkpoint file.
    pub checkpoint: PathBuf,
    /// Continue from this checkpoint (or finished result file).
    pub restart: Option<PathBuf>,
    /// Steps between collective checks for stop signals and blow-up.
    pub check_every: u64,
    pub tuning: Tuning,
    /// Compression, snapshots, XDMF sidecar of the result file.
    pub extras: Extras,
    /// No progress display.
    pub quiet: bool,
    /// Gather to rank 0, or parallel HDF5.
    pub io: IoMode,
}

/// How the time loop runs; never changes the results (bitwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Threads per rank for the stencil (at least 1).
    pub threads: usize,
    /// Overlap the halo exchange with the interior update.
    pub overlap: bool,
    /// Steps per halo exchange and per sweep through memory (ghost depth);
    /// `None` picks one from the block size ([`auto_time_block`]).
    pub time_block: Option<usize>,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            threads: 1,
            overlap: true,
            time_block: None,
        }
    }
}

/// Collective over `world`: run the job and print the report on rank 0.
pub fn run<C: Communicator>(
    world: &C,
    job: &HeatJob,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let rank = world.rank() as usize;
    let ranks = world.size() as usize;

    // 1. Checks every rank makes alike.
    if job.check_every == 0 {
        return Err(Failure::usage("--check-every must be at least 1"));
    }
    if job.output.as_deref() == Some(job.checkpoint.as_path()) {
        return Err(Failure::usage(format!(
            "--checkpoint and --output are the same file '{}'",
            job.checkpoint.display()
        )));
    }

    // 2. A restart: rank 0 reads the checkpoint's metadata, all ranks get it.
    let resume: Option<CheckpointMeta> = match &job.restart {
        None => None,
        Some(path) => Some(par::broadcast_json(world, || checkpoint::read_meta(path))?),
    };
    let request = match &resume {
        Some(m) => m.merge(&job.request)?,
        None => job.request.clone(),
    };
    let cfg = HeatConfig::new(&request).map_err(Failure::usage)?;
    let grid = match job.grid {
        Some(grid) if grid.size() != ranks => {
            return Err(Failure::usage(DecompError::GridSizeMismatch {
                grid,
                ranks,
            }))
        }
        Some(grid) => grid,
        None => ProcGrid::choose(ranks, cfg.nx, cfg.ny).map_err(Failure::usage)?,
    };
    let decomp = Decomposition::new(cfg.nx, cfg.ny, grid).map_err(Failure::usage)?;
    let tuning = job.tuning;
    let g = check_tuning(&tuning, &decomp)?;
    let start_step = resume.as_ref().map_or(0, |m| m.stamp.step);

    // 3. Rank 0 reserves the output files; everyone learns whether that worked.
    //    The XDMF sidecar is reserved with them, so an existing one is
    //    refused before any computing, like the result file.
    if job.extras.compress.is_some_and(|l| !(1..=9).contains(&l)) {
        return Err(Failure::usage(
            "--compress takes a deflate level from 1 to 9",
        ));
    }
    let mut file = io::open(
        world,
        job.io,
        || crate::output::reserve_checkpoint(&job.checkpoint, job.restart.as_deref(), job.force),
        job.output.as_deref(),
        job.force,
        &Plan {
            cfg: &cfg,
            decomp: &decomp,
            meta,
            steps_done: cfg.steps,
            extras: &job.extras,
        },
    )?;

    // 4. Topology: MPI's Cartesian communicator must agree with our own
    //    arithmetic, or halos would go to the wrong rank.
    let cart = cartesian(world, &decomp)?;
    let block = decomp.block(rank);
    let neighbours = decomp.neighbours(rank);
    par::agree(&cart, check_neighbours(&cart, neighbours))?;

    // 5. State: the initial condition, or this rank's block of the checkpoint.
    let mut u = Field::with_ghosts(block.nx(), block.ny(), g);
    u.fill(&cfg, &block);
    if let Some(m) = &resume {
        let read = checkpoint::read_block(Path::new(&m.path), &block, &mut u)
            .map_err(|e| Failure::usage(format!("restart file '{}': {e:#}", m.path)));
        par::agree(&cart, read)?;
        if checkpoint::checksum(&cart, &u, &block, cfg.nx) != m.stamp.checksum {
            return Err(Failure::usage(format!(
                "restart file '{}' is corrupt: its field does not match its checksum",
                m.path
            )));
        }
    }
    let mut un = u.clone();
    let mut halo = Halo::new(&decomp, rank, g);
    let (cx, cy) = cfg.coefficients();
    let stencil = kernel::Stencil::new(cx, cy);
    let mut team = Team::new(tuning.threads)
        .map_err(|e| Failure::runtime(e.context("cannot start the stencil threads")))?;
    let reach = Reach {
        down: neighbours.down.is_some(),
        up: neighbours.up.is_some(),
        left: neighbours.left.is_some(),
        right: neighbours.right.is_some(),
    };
    let start = field_stats(&cart, &u, cfg.nx * cfg.ny);
    // The maximum principle bounds every value of a stable run: leaving them
    // means blow-up (or a forced unstable dt).
    let bounds = value_bounds(&cfg, &start);
    let probe_rows = probe_rows(block.ny());

    // Fault injection for the tests: PARSIM_INJECT_PANIC=<rank> makes that
    // rank panic inside the time loop, while its neighbours wait on it.
    let inject_panic = std::env::var("PARSIM_INJECT_PANIC")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        == Some(rank);

    // Threads beyond the cores this rank may run on only take turns.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if rank == 0 && tuning.threads > cpus {
        eprintln!(
            "parsim: warning: --threads {} but rank 0 may only run on {cpus} CPU(s); give each \
             rank {} cores (mpirun --map-by slot:PE={}, srun --cpus-per-task={})",
            tuning.threads, tuning.threads, tuning.threads, tuning.threads
        );
    }

    // 6. Time loop.
    let mut t = Timers::default();
    let mut step = start_step;
    let mut stopped: Option<Stop> = None;
    let mut progress = crate::progress::Progress::new(
        cart.rank(),
        job.quiet,
        crate::progress::Meter {
            label: "heat",
            total: cfg.steps,
            unit: "step",
            work_per_unit: cfg.nx as f64 * cfg.ny as f64,
            rate_name: "MLUPS",
        },
    );
    cart.barrier();
    let t0 = mpi::time();
    // How a step cuts the block (the fields' shape never changes): the
    // whole interior, or for an overlapped step the inside in slabs and
    // the edges that wait for the halos.
    let overlap = g == 1 && tuning.overlap && !halo.is_empty();
    let whole = Region::interior(&u);
    let (inner, edges) = sweep::split_edges(&u, reach);
    let slab = inner.rows.len().div_ceil(OVERLAP_SLABS).max(1);
    let slabs: Vec<Region> = inner
        .rows
        .clone()
        .step_by(slab)
        .map(|start| Region {
            rows: start..(start + slab).min(inner.rows.end),
            cols: inner.cols.clone(),
        })
        .collect();
    let next_multiple = |step: u64, every: u64| (step / every + 1) * every;
    let snapshot_every = if job.output.is_some() {
        job.extras.snapshot_every
    } else {
        0
    };
    let mut snapshots_taken = 0u64;
    let mut snapshot = |u: &Field, file: Option<&mut HeatFile>, step: u64, t: &mut Timers| {
        let a = mpi::time();
        let r = write_snapshot(&cart, &decomp, u, file, step, step as f64 * cfg.dt);
        t.snapshots += mpi::time() - a;
        snapshots_taken += 1;
        r
    };
    if snapshot_every > 0 && step % snapshot_every == 0 {
        snapshot(&u, file.as_mut(), step, &mut t)?;
    }
    while step < cfg.steps {
        // Steps in this round: up to the halo depth, never past a check,
        // a checkpoint or the end (so those happen at the same steps
        // whatever the depth).
        let mut end = cfg
            .steps
            .min(step + g as u64)
            .min(next_multiple(step, job.check_every));
        for every in [job.checkpoint_every, snapshot_every] {
            if every > 0 {
                end = end.min(next_multiple(step, every));
            }
        }
        let m = (end - step) as usize;
        let a = mpi::time();
        if overlap {
            let busy = halo.exchange_during(&cart, &mut u, |u, poke| {
                let b = mpi::time();
                // The inside in a few slabs of rows, testing the messages
                // in between so they progress meanwhile.
                for part in &slabs {
                    team.advance(u, &mut un, part, Reach::default(), 1, &stencil);
                    poke();
                }
                mpi::time() - b
            });
            let b = mpi::time();
            for edge in &edges {
                team.advance(&u, &mut un, edge, reach, 1, &stencil);
            }
            let c = mpi::time();
            t.stencil += busy + (c - b);
            t.halo += (b - a) - busy;
        } else {
            halo.exchange(&cart, &mut u);
            let b = mpi::time();
            team.advance(&u, &mut un, &whole, reach, m, &stencil);
            t.stencil += mpi::time() - b;
            t.halo += b - a;
        }
        std::mem::swap(&mut u, &mut un);
        step = end;
        progress.update(step, start_step);
        if inject_panic && step >= start_step + 3 {
            panic!("injected fault at step {step} (PARSIM_INJECT_PANIC)");
        }

        if step % job.check_every == 0 || step == cfg.steps {
            let a = mpi::time();
            let local = [
                stop.received(),
                i32::from(!u.rows_within(&probe_rows, bounds[0], bounds[1])),
            ];
            let mut global = [0i32; 2];
            cart.all_reduce_into(&local[..], &mut global[..], SystemOperation::max());
            t.halo += mpi::time() - a;
            if global[1] != 0 {
                return Err(Failure::with_code(
                    ExitCode::Blowup,
                    format!(
                        "numerical blow-up detected at step {step}: values left [{}, {}]{}",
                        bounds[0],
                        bounds[1],
                        if cfg.is_unstable() {
                            " (dt is above the stability limit)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            if global[0] != 0 {
                stopped = Some(Stop {
                    signal: signal_name(global[0]).into(),
                    step,
                    checkpoint: job.checkpoint.display().to_string(),
                });
            }
        }
        if snapshot_every > 0 && step % snapshot_every == 0 && stopped.is_none() {
            snapshot(&u, file.as_mut(), step, &mut t)?;
        }
        let due = job.checkpoint_every > 0 && step % job.checkpoint_every == 0;
        if due || stopped.is_some() {
            let a = mpi::time();
            write_checkpoint(
                &cart,
                job.io,
                &decomp,
                &cfg,
                meta,
                &u,
                &block,
                step,
                &job.checkpoint,
            )?;
            t.checkpoint += mpi::time() - a;
        }
        if stopped.is_some() {
            break;
        }
    }
    cart.barrier();
    let wall = mpi::time() - t0;
    progress.finish();

    // 7. Validation (of a finished run; a stopped one is checked on resume).
    let end = field_stats(&cart, &u, cfg.nx * cfg.ny);
    let validation = validate(&cart, &cfg, &block, &u, &start, &end, step);

    // 8. Output: only a finished run replaces the result file. The field
    //    is written first, so the report stored in the file can say how
    //    long that took; then the file is stamped, closed and moved.
    let t_io0 = mpi::time();
    let stamp = if stopped.is_none() && job.output.is_some() {
        let stamp = Stamp {
            step,
            target_steps: cfg.steps,
            checksum: checkpoint::checksum(&cart, &u, &block, cfg.nx),
        };
        gather_and_write(&cart, &decomp, &u, file.as_ref())?;
        Some(stamp)
    } else {
        None
    };
    let t_io = mpi::time() - t_io0 + t.snapshots;
    let [stencil, halo_t, ckpt, io] = par::spreads(&cart, [t.stencil, t.halo, t.checkpoint, t_io]);
    let peak_memory = par::peak_memory(&cart);

    // 9. Report.
    let done = step - start_step;
    let report = HeatReport {
        workload: "heat",
        version: meta.version,
        ranks,
        proc_grid: [grid.px(), grid.py()],
        peak_memory,
        execution: Execution {
            time_block: g,
            threads: tuning.threads,
            overlap,
        },
        sim_time: step as f64 * cfg.dt,
        start_step,
        step,
        mlups: if wall > 0.0 {
            cfg.nx as f64 * cfg.ny as f64 * done as f64 / wall / 1e6
        } else {
            0.0
        },
        wall_time_s: wall,
        phases: Phases {
            stencil,
            halo: halo_t,
            checkpoint: ckpt,
            io,
        },
        snapshots: snapshots_taken,
        output: stamp
            .as_ref()
            .and(job.output.as_ref())
            .map(|p| p.display().to_string()),
        restarted_from: resume.as_ref().map(|m| m.path.clone()),
        stopped: stopped.clone(),
        validation: validation.clone(),
        config: cfg.clone(),
    };
    if let Some(stamp) = &stamp {
        let json = serde_json::to_string(&report).unwrap_or_default();
        finish(&cart, file, stamp, Some(&json))?;
    }
    if rank == 0 {
        crate::report::emit(&report.to_text(), &report, job.json);
    }
    if let Some(s) = stopped {
        return Err(Failure::with_code(
            ExitCode::Stopped,
            format!(
                "stopped by {} at step {}; checkpoint '{}' written: resume with --restart {}",
                s.signal, s.step, s.checkpoint, s.checkpoint
            ),
        ));
    }
    par::root_verdict(
        &cart,
        validation.passed(),
        "heat: the run failed its validation (see report)",
    )
}

/// Time-block depth when none is given. A block whose two fields fit in
/// cache gains nothing from blocking (it is not waiting on memory), so it
/// keeps the overlapped single step. A larger one advances up to 12 steps
/// per sweep (measured best on 2000^2 and 4000^2, see the benchmark), fewer
/// when rows are so wide that the intermediate rows (4 per level) would not
/// stay in a 2 MiB cache, and never deeper than the smallest block.
pub fn auto_time_block(decomp: &Decomposition, rank: usize) -> usize {
    const CACHED_FIELDS: usize = 8 << 20;
    const RING_BUDGET: usize = 2 << 20;
    let block = decomp.block(rank);
    let (bx, by) = decomp.min_block();
    if 2 * 8 * block.cells() <= CACHED_FIELDS {
        return 1;
    }
    let row_bytes = 8 * (block.nx() + 2);
    let by_ring = 1 + RING_BUDGET / (4 * row_bytes);
    12.min(by_ring).min(bx).min(by).max(1)
}

/// Refuse tunings the decomposition cannot carry out; the time-block depth.
fn check_tuning(tuning: &Tuning, decomp: &Decomposition) -> Outcome<usize> {
    if tuning.threads == 0 {
        return Err(Failure::usage("--threads must be at least 1"));
    }
    if tuning.threads > 1 && mpi::environment::threading_support() < mpi::Threading::Funneled {
        return Err(Failure::usage(format!(
            "--threads {} needs MPI_THREAD_FUNNELED, but this MPI library only provides {:?}",
            tuning.threads,
            mpi::environment::threading_support()
        )));
    }
    // Every rank must pick the same depth: decide from rank 0's block.
    let k = tuning
        .time_block
        .unwrap_or_else(|| auto_time_block(decomp, 0));
    let (bx, by) = decomp.min_block();
    if k == 0 {
        return Err(Failure::usage("--time-block must be at least 1"));
    }
    if k > bx || k > by {
        return Err(Failure::usage(format!(
            "--time-block {k} needs every block at least {k} cells wide and tall, but the \
             smallest block on process grid {} is {bx}x{by}",
            decomp.grid()
        )));
    }
    Ok(k)
}

/// Slabs of the inside between which an overlapped exchange is tested.
const OVERLAP_SLABS: usize = 8;

#[derive(Default)]
struct Timers {
    snapshots: f64,
    stencil: f64,
    halo: f64,
    checkpoint: f64,
}

/// Collective: write a checkpoint of `u` at `step`.
#[allow(clippy::too_many_arguments)]
fn write_checkpoint<C: Communicator + AsRaw<Raw = mpi::ffi::MPI_Comm>>(
    comm: &C,
    io_mode: IoMode,
    decomp: &Decomposition,
    cfg: &HeatConfig,
    meta: &RunMeta,
    u: &Field,
    block: &Block,
    step: u64,
    path: &Path,
) -> Outcome {
    let stamp = Stamp {
        step,
        target_steps: cfg.steps,
        checksum: checkpoint::checksum(comm, u, block, cfg.nx),
    };
    let file = io::open(
        comm,
        io_mode,
        || Ok(()),
        Some(path),
        true,
        &Plan {
            cfg,
            decomp,
            meta,
            steps_done: step,
            extras: &Extras::default(),
        },
    )?;
    complete(comm, decomp, u, file, &stamp, None).map(drop)
}

/// Local rows probed for blow-up at each check: first, middle and last. An
/// unstable mode grows everywhere at once; a single bad value spreads one
/// cell per step, so it reaches a probed row within half a block's height.
fn probe_rows(ny: usize) -> Vec<usize> {
    let mut rows = vec![0, ny / 2, ny - 1];
    rows.dedup();
    rows
}

/// The range the maximum principle allows, widened by a relative margin for
/// round-off.
fn value_bounds(cfg: &HeatConfig, start: &FieldStats) -> [f64; 2] {
    let b = cfg.boundaries;
    let (lo, hi) = (start.min.min(b.min()), start.max.max(b.max()));
    let margin = 1e-9 * (hi - lo).abs().max(hi.abs()).max(lo.abs()).max(1.0);
    [lo - margin, hi + margin]
}

/// The 2D Cartesian communicator for `decomp`: dims `[py, px]`, not
/// periodic, ranks not reordered (so the world rank is the grid rank).
fn cartesian<C: Communicator>(world: &C, decomp: &Decomposition) -> Outcome<CartesianCommunicator> {
    let g = decomp.grid();
    world
        .create_cartesian_communicator(&[g.py() as i32, g.px() as i32], &[false, false], false)
        .ok_or_else(|| {
            Failure::runtime(anyhow::anyhow!(
                "MPI_Cart_create gave no communicator for grid {g}"
            ))
        })
}

fn check_neighbours(cart: &CartesianCommunicator, expected: Neighbours) -> Outcome {
    let as_usize = |r: Option<i32>| r.map(|r| r as usize);
    let (down, up) = cart.shift(0, 1);
    let (left, right) = cart.shift(1, 1);
    let got = Neighbours {
        left: as_usize(left),
        right: as_usize(right),
        down: as_usize(down),
        up: as_usize(up),
    };
    if got == expected {
        Ok(())
    } else {
        Err(Failure::runtime(anyhow::anyhow!(
            "rank {}: MPI Cartesian neighbours {got:?} differ from the decomposition's {expected:?}",
            cart.rank()
        )))
    }
}

/// Global average, minimum and maximum of the interior.
struct FieldStats {
    average: f64,
    min: f64,
    max: f64,
}

fn field_stats<C: Communicator>(comm: &C, u: &Field, cells: usize) -> FieldStats {
    let (mut sum, mut lo, mut hi) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for &v in u.interior().iter() {
        sum += v;
        lo = lo.min(v);
        hi = hi.max(v);
    }
    FieldStats {
        average: par::sum(comm, sum) / cells as f64,
        min: par::min(comm, lo),
        max: par::max(comm, hi),
    }
}

/// Collective: check the field at `step` (see [`Validation`]).
fn validate<C: Communicator>(
    comm: &C,
    cfg: &HeatConfig,
    block: &Block,
    u: &Field,
    start: &FieldStats,
    end: &FieldStats,
    step: u64,
) -> Validation {
    if cfg.has_exact_solution() {
        let t = step as f64 * cfg.dt;
        let (mut err, mut norm, mut cerr, mut cnorm) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
        for j in 0..block.ny() {
            for i in 0..block.nx() {
                let (gi, gj) = (block.cols.start + i, block.rows.start + j);
                let v = u.get(i, j);
                let exact = kernel::sine_discrete(cfg, gi, gj, step);
                let cont = kernel::sine_continuum(cfg, gi, gj, t);
                err = err.max((v - exact).abs());
                norm = norm.max(exact.abs());
                cerr = cerr.max((v - cont).abs());
                cnorm = cnorm.max(cont.abs());
            }
        }
        let rel = par::max(comm, err) / par::max(comm, norm);
        let crel = par::max(comm, cerr) / par::max(comm, cnorm);
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
