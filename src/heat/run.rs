//! One heat run from validated input to report: the SPMD driver that ties
//! the decomposition, the kernel, the halo exchange and the output together.
//!
//! Order matters for the "no hang, nothing clobbered" rules: everything that
//! every rank can check by itself is checked first (same answer on every
//! rank, so all return together); then rank 0 reserves the output file and
//! the verdict is shared collectively; only then is memory allocated and the
//! time loop entered.

use std::path::PathBuf;

use mpi::topology::CartesianCommunicator;
use mpi::traits::*;

use super::config::{HeatConfig, HeatRequest};
use super::decomp::{DecompError, Decomposition, Neighbours, ProcGrid};
use super::halo::Halo;
use super::io::{gather_and_write, HeatFile};
use super::kernel::{self, Field};
use super::report::{HeatReport, Phases, Validation};
use crate::error::{Failure, Outcome};
use crate::h5::RunMeta;
use crate::output::PendingOutput;
use crate::par;

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
}

/// Collective over `world`: run the job and print the report on rank 0.
pub fn run<C: Communicator>(world: &C, job: &HeatJob, meta: &RunMeta) -> Outcome {
    let rank = world.rank() as usize;
    let ranks = world.size() as usize;

    // 1. Checks every rank makes alike.
    let cfg = HeatConfig::new(&job.request).map_err(Failure::usage)?;
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

    // 2. Rank 0 reserves the output; everyone learns whether that worked.
    let mut file = None;
    let reserved = match (&job.output, rank) {
        (Some(path), 0) => PendingOutput::prepare(path, job.force).and_then(|out| {
            HeatFile::create(out, &cfg, &decomp, meta)
                .map(|f| file = Some(f))
                .map_err(Failure::runtime)
        }),
        _ => Ok(()),
    };
    par::agree(world, reserved)?;

    // 3. Topology: MPI's Cartesian communicator must agree with our own
    //    arithmetic, or halos would go to the wrong rank.
    let cart = cartesian(world, &decomp)?;
    let block = decomp.block(rank);
    let neighbours = decomp.neighbours(rank);
    par::agree(&cart, check_neighbours(&cart, neighbours))?;

    // 4. State.
    let mut u = Field::zeros(block.nx(), block.ny());
    u.fill(&cfg, &block);
    let mut un = u.clone();
    let mut halo = Halo::new(neighbours, block.ny());
    let (cx, cy) = cfg.coefficients();
    let start = field_stats(&cart, &u, cfg.nx * cfg.ny);

    // 5. Time loop.
    let (mut t_halo, mut t_stencil) = (0.0, 0.0);
    cart.barrier();
    let t0 = mpi::time();
    for _ in 0..cfg.steps {
        let a = mpi::time();
        halo.exchange(&cart, &mut u);
        let b = mpi::time();
        kernel::step(&u, &mut un, cx, cy);
        t_stencil += mpi::time() - b;
        t_halo += b - a;
        std::mem::swap(&mut u, &mut un);
    }
    cart.barrier();
    let wall = mpi::time() - t0;

    // 6. Validation.
    let end = field_stats(&cart, &u, cfg.nx * cfg.ny);
    let validation = validate(&cart, &cfg, &block, &u, &start, &end);

    // 7. Output.
    let t_io0 = mpi::time();
    if job.output.is_some() {
        gather_and_write(&cart, &decomp, &u, file.as_ref())?;
    }
    let written = match file {
        Some(f) => f.finish().map(Some),
        None => Ok(None),
    };
    let t_io = mpi::time() - t_io0;
    let output_ok = par::agree(&cart, written.as_ref().map(|_| ()).map_err(Clone::clone));
    let [stencil, halo_t, io] = par::spreads(&cart, [t_stencil, t_halo, t_io]);
    output_ok?;

    // 8. Report.
    if rank == 0 {
        let report = HeatReport {
            workload: "heat",
            version: meta.version,
            ranks,
            proc_grid: [grid.px(), grid.py()],
            sim_time: cfg.end_time(),
            mlups: if wall > 0.0 {
                cfg.updates() / wall / 1e6
            } else {
                0.0
            },
            wall_time_s: wall,
            phases: Phases {
                stencil,
                halo: halo_t,
                io,
            },
            output: written.ok().flatten().map(|p| p.display().to_string()),
            validation: validation.clone(),
            config: cfg.clone(),
        };
        crate::report::emit(&report.to_text(), &report, job.json);
    }
    par::root_verdict(
        &cart,
        validation.passed(),
        "heat: the run failed its validation (see report)",
    )
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

/// Collective: check the final field (see [`Validation`]).
fn validate<C: Communicator>(
    comm: &C,
    cfg: &HeatConfig,
    block: &super::decomp::Block,
    u: &Field,
    start: &FieldStats,
    end: &FieldStats,
) -> Validation {
    if cfg.has_exact_solution() {
        let t = cfg.end_time();
        let (mut err, mut norm, mut cerr, mut cnorm) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
        for j in 0..block.ny() {
            for i in 0..block.nx() {
                let (gi, gj) = (block.cols.start + i, block.rows.start + j);
                let v = u.get(i, j);
                let exact = kernel::sine_discrete(cfg, gi, gj, cfg.steps);
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
        let tolerance = 1e-12_f64.max(cfg.steps as f64 * 1e-15);
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
