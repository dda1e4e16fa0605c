//! Checkpoint and restart of the heat solver.
//!
//! A checkpoint is an ordinary heat result file (see `io`) whose `/heat`
//! attributes also say how far the run got (`step`, `target_steps`) and
//! carry a checksum of the field, so any result file can be continued too.
//! Files are written like results: gathered to rank 0 block by block, to a
//! temporary name, renamed into place when complete; the previous
//! checkpoint stays until then.
//!
//! On restart rank 0 reads the metadata and shares it; every rank then reads
//! its own block of the field, whatever the new number of ranks or process
//! grid, and the checksum is verified collectively. The stencil does the
//! same arithmetic for every cell whoever owns it, so a resumed run ends
//! bitwise identical to an uninterrupted one.
//!
//! The checksum is order-independent, so it is computed in parallel over
//! blocks: the wrapping sum over cells of `mix(bits(u) ^ mix(global index))`.
//! A changed, missing or misplaced value changes it.

use std::path::Path;

use anyhow::Context;
use mpi::traits::Communicator;

use super::config::{HeatRequest, Init, Wall};
use super::decomp::Block;
use super::kernel::Field;
use super::layout::SnapshotAt;
use super::meta::{
    checksum, meta_checksum, snapshots_checksum, strip_sum, CheckpointMeta, Depth, Stamp,
};
use crate::error::{Failure, Outcome};

/// A wall as a file stores it: `NAME` its value, or for another kind
/// `NAME_kind` (insulated, periodic, expression) and `NAME_expression`.
fn wall(file: &crate::h5::RestartFile, name: &str) -> Outcome<Wall> {
    let Ok(kind) = file.text(&format!("{name}_kind")) else {
        return Ok(Wall::Value(file.num(name)?));
    };
    match kind.as_str() {
        "insulated" => Ok(Wall::Insulated),
        "periodic" => Ok(Wall::Periodic),
        "expression" => Ok(Wall::Expr(file.text(&format!("{name}_expression"))?)),
        k => Err(file.unusable(format!("unknown {name}_kind '{k}'"))),
    }
}

/// Read a checkpoint's metadata (rank 0).
pub fn read_meta(path: &Path) -> Outcome<CheckpointMeta> {
    let file = crate::h5::RestartFile::open(path, "heat", "heat")?;
    let (num, int) = (|n| file.num(n), |n| file.int(n));
    let init = file.text("init")?;
    let init: Init = init
        .parse()
        .map_err(|_| file.unusable(format!("unknown init '{init}'")))?;
    let (nx, ny) = (int("nx")? as usize, int("ny")? as usize);
    let problem = HeatRequest {
        nx: Some(nx),
        ny: Some(ny),
        dx: Some(num("dx")?),
        dy: Some(num("dy")?),
        alpha: Some(num("alpha")?),
        dt: Some(num("dt")?),
        steps: Some(int("target_steps")?),
        init: Some(init),
        left: Some(wall(&file, "bc_left")?),
        right: Some(wall(&file, "bc_right")?),
        bottom: Some(wall(&file, "bc_bottom")?),
        top: Some(wall(&file, "bc_top")?),
        periodic_x: false,
        periodic_y: false,
        allow_unstable: false,
        // Files without a source have no such attribute.
        source: file.text("source").ok(),
        exact: file.text("exact").ok(),
    };
    let stamp = Stamp {
        step: int("step")?,
        target_steps: int("target_steps")?,
        checksum: int("checksum")?,
    };
    // A 3D file: its third axis and walls (2D files have no nz).
    let z = match file.int("nz") {
        Ok(nz) => Some(Depth {
            nz: nz as usize,
            dz: num("dz")?,
            front: wall(&file, "bc_front")?,
            back: wall(&file, "bc_back")?,
        }),
        Err(_) => None,
    };
    let want: Vec<usize> = z.iter().map(|z| z.nz).chain([ny, nx]).collect();
    let shape = file
        .group
        .dataset("temperature")
        .map(|d| d.shape())
        .map_err(|_| file.unusable("no /heat/temperature dataset"))?;
    if shape != want {
        return Err(file.unusable(format!(
            "temperature has shape {shape:?}, attributes say {want:?}"
        )));
    }
    // Files written before the checksum existed have none.
    if let Ok(stored) = file.int("meta_checksum") {
        if meta_checksum(&file.group).ok() != Some(stored) {
            return Err(Failure::usage(format!(
                "restart file '{}' is corrupt: its attributes do not match their checksum",
                path.display()
            )));
        }
    }
    let (mut snapshots, snapshot_every) = read_snapshot_list(&file, &want)?;
    check_snapshots(&file, &mut snapshots, snapshot_every, &want)?;
    Ok(CheckpointMeta {
        path: path.display().to_string(),
        problem,
        stamp,
        snapshots,
        snapshot_every,
        z,
    })
}

/// The steps and times of a file's snapshots (none if it has no
/// `snapshots` dataset) and their interval; refused if they do not fit
/// the grid (of `shape`, slowest axis first) or each other.
fn read_snapshot_list(
    file: &crate::h5::RestartFile,
    shape: &[usize],
) -> Outcome<(Vec<SnapshotAt>, u64)> {
    let Ok(field) = file.group.dataset("snapshots") else {
        return Ok((Vec::new(), 0));
    };
    let read = || -> hdf5::Result<_> {
        let steps = file.group.dataset("snapshot_step")?.read_raw::<u64>()?;
        let times = file.group.dataset("snapshot_time")?.read_raw::<f64>()?;
        let every = field.attr("every")?.read_scalar::<u64>()?;
        Ok((steps, times, every))
    };
    let (steps, times, every) =
        read().map_err(|_| file.unusable("snapshots without readable steps, times or interval"))?;
    let n = steps.len();
    let want: Vec<usize> = std::iter::once(n).chain(shape.iter().copied()).collect();
    if field.shape() != want || times.len() != n {
        return Err(file.unusable(format!(
            "snapshots have shape {:?} with {n} steps and {} times, the grid is {shape:?}",
            field.shape(),
            times.len()
        )));
    }
    let list = steps
        .into_iter()
        .zip(times)
        .map(|(step, time)| SnapshotAt { step, time, sum: 0 })
        .collect();
    Ok((list, every))
}

/// Each snapshot's field checksum, read back strip by strip into its
/// `sum`, and all of them checked against the file's `snapshots_checksum`
/// (with their steps, times and interval): a snapshot changed on disk
/// would otherwise be carried into the restart's result. Files written
/// before snapshots had a checksum have none to check.
fn check_snapshots(
    file: &crate::h5::RestartFile,
    snapshots: &mut [SnapshotAt],
    every: u64,
    shape: &[usize],
) -> Outcome {
    let stored = file.int("snapshots_checksum").ok();
    // No snapshots: fine, unless the file says it had some (their dataset
    // removed, or emptied, would drop them from the result silently).
    if snapshots.is_empty() && stored.is_none_or(|s| s == snapshots_checksum(every, &[])) {
        return Ok(());
    }
    let corrupt = || {
        Failure::usage(format!(
            "restart file '{}' is corrupt: its snapshots do not match their checksum",
            file.path.display()
        ))
    };
    let field = file
        .group
        .dataset("snapshots")
        .map_err(|_| file.unusable("no snapshots dataset"))?;
    let nx = shape.last().copied().unwrap_or(0);
    for (k, at) in snapshots.iter_mut().enumerate() {
        let mut sum = 0u64;
        for region in super::layout::field_strips(shape) {
            let strip = super::io::read_region(&field, Some(k), &region)
                .map_err(|e| file.unusable(format!("snapshot {k} cannot be read ({e})")))?;
            let data = strip.as_slice().ok_or_else(corrupt)?;
            let rows = super::layout::strip_rows_of(&region, shape);
            sum = sum.wrapping_add(strip_sum(data, rows, nx));
        }
        at.sum = sum;
    }
    match stored {
        Some(stored) if stored != snapshots_checksum(every, snapshots) => Err(corrupt()),
        _ => Ok(()),
    }
}

/// Read this rank's block of the checkpoint's field into `u`'s interior.
pub fn read_block(path: &Path, block: &Block, u: &mut Field) -> anyhow::Result<()> {
    let file =
        hdf5::File::open(path).with_context(|| format!("cannot open '{}'", path.display()))?;
    super::gather::read_block(&file.dataset("heat/temperature")?, None, block, u)
}

/// Collective: this rank's block at the start: the initial condition, its
/// part of the restart file (checked against the file's checksum), or its
/// part of an initial field's file (checked against the checksum rank 0
/// found when it checked the file in the inputs step).
pub fn initial_field(
    cart: &mpi::topology::CartesianCommunicator,
    plan: &super::plan::HeatPlan,
    block: &Block,
    resume: Option<&CheckpointMeta>,
) -> Outcome<Field> {
    let mut u = Field::with_ghosts(block.nx(), block.ny(), plan.depth);
    u.fill(&plan.cfg, block);
    if let (None, Some(file), Some(meta)) = (resume, plan.cfg.init.file(), &plan.init_field) {
        let read = super::field_file::read_block(file, meta, block, &mut u)
            .map_err(|e| Failure::usage(format!("--init '{}': {e:#}", meta.shown)));
        crate::par::agree(cart, read)?;
        if checksum(cart, &u, block, plan.cfg.nx) != meta.checksum {
            return Err(Failure::usage(format!(
                "--init '{}' changed since it was checked: its field does not match the \
                 checksum read then",
                meta.shown
            )));
        }
    }
    if let (None, Init::Expr(text)) = (resume, &plan.cfg.init) {
        super::init_expr::fill(cart, &plan.cfg, text, block, &mut u)?;
    }
    if let Some(exact) = &plan.cfg.exact {
        // --exact: the solution at t = 0 in every interior cell.
        let (dx, dy) = (plan.cfg.dx, plan.cfg.dy);
        for (j, gj) in block.rows.clone().enumerate() {
            for (i, gi) in block.cols.clone().enumerate() {
                u.set(
                    i,
                    j,
                    exact.at((gi + 1) as f64 * dx, (gj + 1) as f64 * dy, 0.0),
                );
            }
        }
    }
    if let Some(m) = resume {
        let read = read_block(Path::new(&m.path), block, &mut u);
        restored(cart, m, read, || checksum(cart, &u, block, plan.cfg.nx))?;
    }
    Ok(u)
}

/// Collective: this rank's block of the restart file `m` was read (or
/// not: `read`), and the whole field's checksum (`sum`, collective) is
/// the file's; a restart (2D or 3D) refuses a field changed on disk.
pub fn restored<C: Communicator>(
    comm: &C,
    m: &CheckpointMeta,
    read: anyhow::Result<()>,
    sum: impl FnOnce() -> u64,
) -> Outcome {
    let read = read.map_err(|e| Failure::usage(format!("restart file '{}': {e:#}", m.path)));
    crate::par::agree(comm, read)?;
    if sum() != m.stamp.checksum {
        return Err(Failure::usage(format!(
            "restart file '{}' is corrupt: its field does not match its checksum",
            m.path
        )));
    }
    Ok(())
}
