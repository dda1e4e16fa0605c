//! The heat result file: HDF5 layout and block-by-block writing at rank 0.
//!
//! Layout (all written by rank 0):
//!
//! ```text
//! /                       provenance attrs (see `h5::RunMeta`): parsim_version,
//!                         git_commit, command_line, config_file, config,
//!                         start_time, end_time, mpi_ranks, mpi_library,
//!                         hostnames, report (JSON)
//! /heat                   attrs: nx, ny, dx, dy, alpha, dt, steps, time, init,
//!                                bc_left, bc_right, bc_bottom, bc_top,
//!                                source (only with --source: its text),
//!                                proc_grid [px, py], ranks,
//!                                step, target_steps, checksum (see `checkpoint`)
//! /heat/x, /heat/y        f64 [nx], [ny]: cell coordinates, dimension scales
//! /heat/temperature       f64 [ny, nx], interior points only,
//!                         row 0 = bottom (y = dy), column 0 = left (x = dx)
//! /heat/snapshots         f64 [time, ny, nx], chunked, extendible
//!                         (--snapshot-every K: steps 0, K, 2K, ...)
//! /heat/snapshot_time     f64 [time], dimension scale of snapshots' axis 0
//! /heat/snapshot_step     u64 [time]
//! ```
//!
//! A 3D run (`super::output3d`) adds a third axis: `/heat/z` (written
//! after x and y), `nz`, `dz`, `bc_front`, `bc_back` and a three-factor
//! `proc_grid`; the field is `[nz, ny, nx]`, the snapshots
//! `[time, nz, ny, nx]`, each view `[nz, ny, nx]`.
//!
//! Every dataset carries `units` and `long_name`; x and y are attached to
//! the field's axes as HDF5 dimension scales (and snapshot_time to the
//! snapshots' first axis), so h5py, xarray and ncview label them.
//! `FILE.xmf` beside the file describes the same data for ParaView/VisIt
//! (see [`super::xdmf`]).
//!
//! Rank 0 never holds the whole field, nor even another rank's whole block:
//! every block travels as strips of whole rows of at most
//! `layout::STRIP_CELLS` values (one row, where a row is wider; in 3D whole
//! planes of the block, or rows of one plane: `layout::strips3`), each
//! written as a hyperslab as it arrives. Memory at rank 0 is its own two
//! fields plus one strip (8 MiB, or one row), whatever the grid and the
//! number of ranks, so it stays within a worker's (which holds the same two
//! fields plus one strip to send).

use std::ops::Range;
use std::path::PathBuf;

use anyhow::Context;
use mpi::traits::*;
use ndarray::{s, ArrayViewD, SliceInfoElem};

use super::config::{HeatConfig, Wall};
use super::decomp::Decomposition;
use super::decomp3d::Decomposition3;
use super::layout::Slab;
use super::layout::{
    cache_bytes, chunk, chunked_cells, shape, view_name, Axis, Extras, IoMode, SnapshotAt,
    UNITS_LENGTH, UNITS_TEMPERATURE, UNITS_TIME,
};
use super::meta::Stamp;
use super::plan3d::Config3d;
use super::walls3d::WALL_OPTIONS;
use super::xdmf::{Information, Xdmf};
use crate::error::{Failure, Outcome};
use crate::h5::{describe, write_list, write_num, write_str, ResultFile, RunMeta};
use crate::output::PendingOutput;

/// The snapshot datasets of an open file.
struct Snapshots {
    field: hdf5::Dataset,
    time: hdf5::Dataset,
    step: hdf5::Dataset,
    /// `/heat/snapshot_views`: one virtual dataset of the field's shape
    /// per snapshot.
    views: hdf5::Group,
    /// The coordinates (`/heat/y`, `/heat/x`; `/heat/z` first in 3D),
    /// attached to every view.
    coords: Vec<hdf5::Dataset>,
    count: usize,
    /// The snapshots stored, and their interval (for their checksum).
    taken: Vec<SnapshotAt>,
    every: u64,
}

/// An open heat result file at its temporary path: on rank 0 (gather), or
/// on every rank (parallel).
pub struct HeatFile {
    file: ResultFile,
    temperature: hdf5::Dataset,
    snapshots: Option<Snapshots>,
    /// The sidecar (rank 0 only).
    xdmf: Option<(PendingOutput, Xdmf)>,
    pub(super) parallel: bool,
}

/// The problem a heat file holds: 2D, or 3D (`super::output3d`).
#[derive(Debug, Clone, Copy)]
pub enum Problem<'a> {
    Two(&'a HeatConfig, &'a Decomposition),
    Three(&'a Config3d, &'a Decomposition3),
}

impl Problem<'_> {
    /// The field's axes, slowest first.
    pub fn axes(&self) -> Vec<Axis> {
        match self {
            Self::Two(c, _) => super::layout::axes(&[c.nx, c.ny], &[c.dx, c.dy]),
            Self::Three(c, _) => super::layout::axes(&[c.nx, c.ny, c.nz], &[c.dx, c.dy, c.dz]),
        }
    }

    fn time_label(&self, step: u64) -> f64 {
        match self {
            Self::Two(c, _) => c.time_label(step),
            Self::Three(c, _) => c.time_label(step),
        }
    }
}

/// What a heat file is laid out for.
pub struct Plan<'a> {
    pub problem: Problem<'a>,
    pub meta: &'a RunMeta,
    /// The step the final field will be at.
    pub steps_done: u64,
    pub extras: &'a Extras,
    /// Snapshots the file will hold.
    pub snapshots: u64,
    /// The checksum of an initial field read from a file
    /// (`super::meta::checksum`), recorded with the file's name.
    pub init_sum: Option<u64>,
}

impl Plan<'_> {
    /// The problem as the XDMF sidecar shows it.
    fn information(&self) -> Information {
        match self.problem {
            Problem::Two(cfg, _) => Information::of(cfg, self.init_sum),
            Problem::Three(cfg, _) => information3(cfg),
        }
    }

    /// Disk space the file needs, reserved when it is created: the field,
    /// the snapshots, the coordinates, [`crate::h5::METADATA_BYTES`] for
    /// HDF5's metadata and the attributes, and 1 KiB per snapshot for its view (about 650 bytes of
    /// metadata each, measured with h5stat over 1001 snapshots). Compressed files reserve nothing (their size is not
    /// known before they are written).
    pub fn file_bytes(&self) -> u64 {
        if self.extras.compress.is_some() {
            return 0;
        }
        let shape = shape(&self.problem.axes());
        // Snapshots are chunked: whole chunks are stored, edges included.
        let chunked = chunked_cells(&shape);
        let cells = shape.iter().map(|&n| n as u64).product::<u64>();
        let values = cells
            .saturating_add(self.snapshots.saturating_mul(chunked))
            .saturating_add(shape.iter().sum::<usize>() as u64 + 2 * self.snapshots);
        values
            .saturating_mul(8)
            .saturating_add(crate::h5::METADATA_BYTES)
            .saturating_add(self.snapshots.saturating_mul(1024))
    }
}

/// Collective: rank 0 runs `check`, reserves `path` (and the XDMF sidecar
/// named in the plan's extras; `what` names the file in messages: "output",
/// "checkpoint"), then the file is created and laid out: by
/// rank 0 alone ([`IoMode::Gather`]) or by every rank through MPI-IO
/// ([`IoMode::Parallel`]). Every rank learns the outcome before anyone
/// computes; the file is `Some` where it is open.
pub fn open<C: Communicator + mpi::raw::AsRaw<Raw = mpi::ffi::MPI_Comm>>(
    comm: &C,
    io: IoMode,
    check: impl FnOnce() -> Outcome,
    (path, what): (Option<&std::path::Path>, &'static str),
    force: bool,
    plan: &Plan,
) -> Outcome<Option<HeatFile>> {
    let root = comm.rank() == 0;
    // Rank 0: check, reserve the result file and its sidecar.
    let mut outputs = None;
    let local = if root {
        check().and_then(|()| match path {
            Some(p) => {
                let out = PendingOutput::prepare_as(p, force, what)?;
                let xdmf = match &plan.extras.xdmf {
                    Some(x) => {
                        let x = PendingOutput::prepare(x, force)?;
                        x.reserve(Xdmf::bytes(plan.snapshots, &plan.information()))
                            .map_err(Failure::runtime)?;
                        Some(x)
                    }
                    None => None,
                };
                outputs = Some((out, xdmf));
                Ok(())
            }
            None => Ok(()),
        })
    } else {
        Ok(())
    };
    crate::par::agree(comm, local)?;
    if path.is_none() {
        return Ok(None);
    }
    let created = match io {
        IoMode::Gather => outputs
            .map(|(out, xdmf)| {
                let temp = out.temp_path().to_path_buf();
                let name = out.file_name();
                let mut file = ResultFile::create(out, plan.meta)?;
                file.reserve(plan.file_bytes())?;
                HeatFile::lay_out(file, &temp, &name, plan, xdmf, false)
            })
            .transpose(),
        IoMode::Parallel => create_parallel(comm, outputs, plan).map(Some),
    };
    let mut file = None;
    let local = created.map(|f| file = f).map_err(|e| {
        let file = if what == "output" {
            "result file"
        } else {
            what
        };
        Failure::runtime(e.context(format!("cannot create the {file}")))
    });
    crate::par::agree(comm, local)?;
    Ok(file)
}

/// Collective: every rank creates rank 0's temporary file through MPI-IO.
#[cfg(feature = "parallel-io")]
fn create_parallel<C: Communicator + mpi::raw::AsRaw<Raw = mpi::ffi::MPI_Comm>>(
    comm: &C,
    outputs: Option<(PendingOutput, Option<PendingOutput>)>,
    plan: &Plan,
) -> anyhow::Result<HeatFile> {
    let (mine, name) = match &outputs {
        Some((out, _)) => (out.temp_path().display().to_string(), out.file_name()),
        None => (String::new(), String::new()),
    };
    let temp = PathBuf::from(crate::par::broadcast_string(comm, &mine));
    let name = crate::par::broadcast_string(comm, &name);
    let h5 = super::pario::create_file(comm, &temp)?;
    let (out, xdmf) = match outputs {
        Some((out, xdmf)) => (Some(out), xdmf),
        None => (None, None),
    };
    let mut file = ResultFile::from_file(h5, out, plan.meta)?;
    // Rank 0 reserves; every rank learns the verdict before going on.
    let reserved = file.reserve(plan.file_bytes()).map_err(Failure::runtime);
    crate::par::agree(comm, reserved).map_err(|f| anyhow::anyhow!(f.message))?;
    HeatFile::lay_out(file, &temp, &name, plan, xdmf, true)
}

#[cfg(not(feature = "parallel-io"))]
fn create_parallel<C: Communicator>(
    _: &C,
    _: Option<(PendingOutput, Option<PendingOutput>)>,
    _: &Plan,
) -> anyhow::Result<HeatFile> {
    unreachable!("refused in open() without the parallel-io feature")
}

/// The attributes of `/heat`: the problem, the units, the decomposition.
fn write_attributes(g: &hdf5::Group, plan: &Plan) -> hdf5::Result<()> {
    let (cfg, decomp) = match plan.problem {
        Problem::Two(cfg, decomp) => (cfg, decomp),
        Problem::Three(cfg, decomp) => return write_attributes3(g, cfg, decomp, plan),
    };
    let steps_done = plan.steps_done;
    write_num(g, "nx", cfg.nx as u64)?;
    write_num(g, "ny", cfg.ny as u64)?;
    write_num(g, "dx", cfg.dx)?;
    write_num(g, "dy", cfg.dy)?;
    write_num(g, "alpha", cfg.alpha)?;
    write_num(g, "dt", cfg.dt)?;
    write_num(g, "steps", steps_done)?;
    write_num(g, "time", cfg.time_label(steps_done))?;
    write_str(g, "init", cfg.init.name())?;
    if let (Some(file), Some(sum)) = (cfg.init.file(), plan.init_sum) {
        write_str(g, "init_file", &file.shown())?;
        write_num(g, "init_checksum", sum)?;
    }
    for (side, wall) in cfg.boundaries.sides() {
        write_wall(g, &format!("bc_{side}"), wall)?;
    }
    let (exact, source) = (cfg.exact.as_ref(), cfg.source.as_ref());
    write_problem(g, exact.map(|e| &e.text), source.map(|s| &s.text))?;
    write_units(g)?;
    let grid = decomp.grid();
    write_list(g, "proc_grid", &[grid.px() as u64, grid.py() as u64])?;
    write_num(g, "ranks", decomp.ranks() as u64)
}

/// The attributes of `/heat` for a 3D problem: 2D's names (walls of every
/// kind, `exact` or `source`, an initial field's file and checksum) with
/// `nz`, `dz`, `bc_front`, `bc_back` added, and a three-factor `proc_grid`.
fn write_attributes3(
    g: &hdf5::Group,
    cfg: &Config3d,
    decomp: &Decomposition3,
    plan: &Plan,
) -> hdf5::Result<()> {
    let steps_done = plan.steps_done;
    for (name, n) in [("nx", cfg.nx), ("ny", cfg.ny), ("nz", cfg.nz)] {
        write_num(g, name, n as u64)?;
    }
    for (name, v) in [("dx", cfg.dx), ("dy", cfg.dy), ("dz", cfg.dz)] {
        write_num(g, name, v)?;
    }
    write_num(g, "alpha", cfg.alpha)?;
    write_num(g, "dt", cfg.dt)?;
    write_num(g, "steps", steps_done)?;
    write_num(g, "time", cfg.time_label(steps_done))?;
    write_str(g, "init", cfg.init.name())?;
    if let (Some(file), Some(sum)) = (cfg.init.file(), plan.init_sum) {
        write_str(g, "init_file", &file.shown())?;
        write_num(g, "init_checksum", sum)?;
    }
    for (side, wall) in walls(cfg) {
        write_wall(g, &format!("bc_{side}"), wall)?;
    }
    let (exact, source) = (cfg.exact.as_ref(), cfg.source.as_ref());
    write_problem(g, exact.map(|e| &e.text), source.map(|s| &s.text))?;
    write_units(g)?;
    write_list(g, "proc_grid", &decomp.grid().dims().map(|p| p as u64))?;
    write_num(g, "ranks", decomp.ranks() as u64)
}

/// The six walls with the side names of their options (`bc-left` ...).
fn walls(cfg: &Config3d) -> impl Iterator<Item = (&'static str, &Wall)> {
    let names = WALL_OPTIONS.map(|o| o.trim_start_matches("bc-"));
    names.into_iter().zip(cfg.walls.faces())
}

/// The problem for the XDMF sidecar, named as the attributes are.
fn information3(cfg: &Config3d) -> Information {
    let mut pairs = vec![("init".to_string(), cfg.init.name().to_string())];
    for (side, wall) in walls(cfg) {
        super::xdmf::push_wall(&mut pairs, side, wall);
    }
    let (exact, source) = (cfg.exact.as_ref(), cfg.source.as_ref());
    super::xdmf::push_problem(&mut pairs, exact.map(|e| &e.text), source.map(|s| &s.text));
    Information::new(pairs)
}

/// `exact`, or else `source`, where given (2D and 3D): the source and
/// walls follow from an exact solution, and a restart derives them.
pub(super) fn write_problem(
    g: &hdf5::Group,
    exact: Option<&String>,
    source: Option<&String>,
) -> hdf5::Result<()> {
    if let Some(exact) = exact {
        write_str(g, "exact", exact)?;
    } else if let Some(source) = source {
        write_str(g, "source", source)?;
    }
    Ok(())
}

/// The units of `/heat`'s values, as attributes.
pub(super) fn write_units(g: &hdf5::Group) -> hdf5::Result<()> {
    write_str(g, "units_length", UNITS_LENGTH)?;
    write_str(g, "units_time", UNITS_TIME)?;
    write_str(g, "units_temperature", UNITS_TEMPERATURE)?;
    write_str(g, "units_alpha", "m2 s-1")
}

/// A wall: `NAME` its value (as files always had it); for the other kinds
/// `NAME` is NaN, `NAME_kind` says which (insulated, periodic, expression)
/// and `NAME_expression` holds an expression.
pub(super) fn write_wall(g: &hdf5::Group, name: &str, wall: &Wall) -> hdf5::Result<()> {
    write_num(g, name, wall.value().unwrap_or(f64::NAN))?;
    if wall.value().is_none() {
        write_str(g, &format!("{name}_kind"), wall.kind())?;
    }
    if let Wall::Expr(e) = wall {
        write_str(g, &format!("{name}_expression"), e)?;
    }
    Ok(())
}

/// The cell-centre coordinates (`x`, `y`, and `z` in 3D) as dimension
/// scales, in the order of `axes` (slowest first; written x first).
fn write_coordinates(g: &hdf5::Group, axes: &[Axis]) -> hdf5::Result<Vec<hdf5::Dataset>> {
    let mut coords = Vec::new();
    for a in axes.iter().rev() {
        let values: Vec<f64> = (1..=a.n).map(|i| i as f64 * a.d).collect();
        coords.push(crate::h5::write_vec(g, a.name, &values)?);
    }
    for (d, a) in coords.iter().zip(axes.iter().rev()) {
        let name = a.name;
        describe(
            d,
            UNITS_LENGTH,
            &format!("{name} coordinate of the cell centre"),
        )?;
        crate::h5::make_scale(d, name)?;
    }
    coords.reverse();
    Ok(coords)
}

/// The selection of `region` (global ranges, slowest axis first), in
/// slice `lead` of a leading time axis if given.
fn hyperslab(lead: Option<usize>, region: &[Range<usize>]) -> hdf5::Result<hdf5::Hyperslab> {
    let index = lead.map(|k| SliceInfoElem::Index(k as isize));
    let ranges = region.iter().map(|r| SliceInfoElem::Slice {
        start: r.start as isize,
        end: Some(r.end as isize),
        step: 1,
    });
    let elems = index.into_iter().chain(ranges);
    let parts = elems
        .map(TryInto::try_into)
        .collect::<hdf5::Result<Vec<_>>>()?;
    Ok(parts.into())
}

/// Read `region` (global ranges, slowest axis first) of `ds`, in slice
/// `lead` of a leading time axis if given: a strip or a block of a 2D or
/// 3D field.
pub(super) fn read_region(
    ds: &hdf5::Dataset,
    lead: Option<usize>,
    region: &[Range<usize>],
) -> hdf5::Result<ndarray::ArrayD<f64>> {
    ds.read_slice(hyperslab(lead, region)?)
}

/// Snapshot `k` whole: its index, then every axis in full.
fn whole_snapshot(k: usize, ndim: usize) -> hdf5::Result<hdf5::Hyperslab> {
    let full = SliceInfoElem::Slice {
        start: 0,
        end: None,
        step: 1,
    };
    let elems =
        std::iter::once(SliceInfoElem::Index(k as isize)).chain(std::iter::repeat_n(full, ndim));
    let parts = elems
        .map(TryInto::try_into)
        .collect::<hdf5::Result<Vec<_>>>()?;
    Ok(parts.into())
}

impl Snapshots {
    /// The extendible snapshot datasets (field, time, step), empty.
    fn create(g: &hdf5::Group, plan: &Plan, coords: &[hdf5::Dataset]) -> hdf5::Result<Self> {
        let extras = plan.extras;
        let shape = shape(&plan.problem.axes());
        let extents: Vec<hdf5::Extent> = std::iter::once(hdf5::Extent::resizable(0))
            .chain(shape.iter().map(|&n| hdf5::Extent::fixed(n)))
            .collect();
        let chunks: Vec<usize> = std::iter::once(1).chain(chunk(&shape)).collect();
        let mut b = g
            .new_dataset::<f64>()
            .shape(extents)
            .chunk(chunks)
            .chunk_cache(521, cache_bytes(&shape), 1.0);
        if let Some(level) = extras.compress {
            b = b.shuffle().deflate(level);
        }
        let field = b.create("snapshots")?;
        describe(&field, UNITS_TEMPERATURE, "temperature")?;
        write_num(&field, "every", extras.snapshot_every)?;
        let time = g
            .new_dataset::<f64>()
            .shape(0..)
            .chunk(256)
            .create("snapshot_time")?;
        describe(&time, UNITS_TIME, "simulated time of each snapshot")?;
        crate::h5::make_scale(&time, "time")?;
        let step = g
            .new_dataset::<u64>()
            .shape(0..)
            .chunk(256)
            .create("snapshot_step")?;
        describe(&step, "1", "time step of each snapshot")?;
        crate::h5::attach_scale(&field, &time, 0)?;
        for (a, c) in coords.iter().enumerate() {
            crate::h5::attach_scale(&field, c, a as u32 + 1)?;
        }
        let views = g.create_group("snapshot_views")?;
        write_str(
            &views,
            "long_name",
            &format!(
                "snapshot k as a {}D dataset (virtual: the data stay in /heat/snapshots)",
                shape.len()
            ),
        )?;
        Ok(Self {
            field,
            time,
            step,
            views,
            coords: coords.to_vec(),
            count: 0,
            taken: Vec::new(),
            every: extras.snapshot_every,
        })
    }

    /// Add `/heat/snapshot_views/NNNNNN`, snapshot `k` as a virtual
    /// dataset of the field's shape over `/heat/snapshots[k]` of this same
    /// file (no data of its own). Why: XDMF readers take a plain dataset
    /// per time step (the Xdmf3 readers in ParaView ignore hyperslab
    /// items), and copying the snapshots would double the file. Its axes
    /// are the coordinates (dimension scales), so xarray opens the group
    /// labelled.
    fn add_view(&self, k: usize, shape: &[usize]) -> hdf5::Result<()> {
        let source = whole_snapshot(k, shape.len())?;
        // The source's extent is given one snapshot longer than needed:
        // with exactly k + 1 the selection of snapshot 0 covers it all, is
        // stored as "ALL", and reads every snapshot once the file grows.
        let extent: Vec<usize> = std::iter::once(k + 2)
            .chain(shape.iter().copied())
            .collect();
        let view = self
            .views
            .new_dataset::<f64>()
            .shape(shape)
            .virtual_map(".", "/heat/snapshots", extent, source, shape, ..)
            .create(view_name(k).as_str())?;
        for (a, c) in self.coords.iter().enumerate() {
            crate::h5::attach_scale(&view, c, a as u32)?;
        }
        describe(&view, UNITS_TEMPERATURE, "temperature snapshot")
    }
}

impl HeatFile {
    /// Lay out the file: every attribute known before the field is written
    /// and every dataset, so a result file's failure to write shows up
    /// before any computing. In parallel mode every rank makes the same
    /// calls (HDF5 metadata is collective).
    fn lay_out(
        file: ResultFile,
        path: &std::path::Path,
        final_name: &str,
        plan: &Plan,
        xdmf: Option<PendingOutput>,
        parallel: bool,
    ) -> anyhow::Result<Self> {
        let (steps_done, extras) = (plan.steps_done, plan.extras);
        let axes = plan.problem.axes();
        let shape = shape(&axes);
        let time = plan.problem.time_label(steps_done);
        let (temperature, snapshots) = (|| -> hdf5::Result<_> {
            let g = file.root().create_group("heat")?;
            write_attributes(&g, plan)?;
            let coords = write_coordinates(&g, &axes)?;
            let mut b = g.new_dataset::<f64>();
            if let Some(level) = extras.compress {
                b = b
                    .chunk(chunk(&shape))
                    .chunk_cache(521, cache_bytes(&shape), 1.0)
                    .shuffle()
                    .deflate(level);
            }
            let temperature = b.shape(shape.as_slice()).create("temperature")?;
            describe(&temperature, UNITS_TEMPERATURE, "temperature")?;
            write_num(&temperature, "step", steps_done)?;
            write_num(&temperature, "time", time)?;
            for (a, c) in coords.iter().enumerate() {
                crate::h5::attach_scale(&temperature, c, a as u32)?;
            }
            let snapshots = (extras.snapshot_every > 0)
                .then(|| Snapshots::create(&g, plan, &coords))
                .transpose()?;
            Ok((temperature, snapshots))
        })()
        .with_context(|| format!("cannot lay out HDF5 file '{}'", path.display()))?;
        let xdmf = xdmf.map(|out| {
            let x = Xdmf::new(final_name, &axes, (steps_done, time), plan.information());
            (out, x)
        });
        Ok(Self {
            file,
            temperature,
            snapshots,
            xdmf,
            parallel,
        })
    }

    /// The dataset a field goes to: the final field (`lead` None) or the
    /// snapshots (`lead` = the snapshot's index).
    fn dataset(&self, lead: Option<usize>) -> anyhow::Result<&hdf5::Dataset> {
        match lead {
            None => Ok(&self.temperature),
            Some(_) => Ok(&self
                .snapshots
                .as_ref()
                .context("this file has no snapshots")?
                .field),
        }
    }

    /// Collective (parallel mode): write this rank's block (`slab`) into
    /// the field (`lead` None) or into snapshot `lead`.
    #[cfg(feature = "parallel-io")]
    pub(super) fn write_own_block(&self, slab: &Slab, lead: Option<usize>) -> anyhow::Result<()> {
        super::pario::write_block(self.dataset(lead)?, slab, lead)
    }

    #[cfg(not(feature = "parallel-io"))]
    pub(super) fn write_own_block(&self, _: &Slab, _: Option<usize>) -> anyhow::Result<()> {
        unreachable!("parallel files need the parallel-io feature")
    }

    /// Write `region` (global ranges, slowest axis first) of the field
    /// (`lead` None) or of snapshot `lead`.
    pub(super) fn write_strip(
        &self,
        lead: Option<usize>,
        region: &[Range<usize>],
        data: &[f64],
    ) -> anyhow::Result<()> {
        let dims: Vec<usize> = region.iter().map(|r| r.len()).collect();
        let view = ArrayViewD::from_shape(dims, data)?;
        let ds = self.dataset(lead)?;
        hyperslab(lead, region)
            .and_then(|sel| ds.write_slice(view, sel))
            .with_context(|| format!("cannot write a block of {}", ds.name()))
    }

    /// Make room for one more snapshot (taken at `step`, time `time`) and
    /// return its index.
    pub(super) fn push_snapshot(&mut self, at: SnapshotAt) -> anyhow::Result<usize> {
        let (step, time) = (at.step, at.time);
        let snaps = self
            .snapshots
            .as_mut()
            .context("this file has no snapshots")?;
        let k = snaps.count;
        let shape = self.temperature.shape();
        let grown: Vec<usize> = std::iter::once(k + 1)
            .chain(shape.iter().copied())
            .collect();
        (|| -> hdf5::Result<()> {
            snaps.field.resize(grown)?;
            snaps.time.resize(k + 1)?;
            snaps.step.resize(k + 1)?;
            snaps.time.write_slice(&[time], s![k..k + 1])?;
            snaps.step.write_slice(&[step], s![k..k + 1])?;
            snaps.add_view(k, &shape)
        })()
        .context("cannot extend the snapshots")?;
        snaps.count += 1;
        snaps.taken.push(at);
        if let Some((_, x)) = &mut self.xdmf {
            x.push_snapshot(k, step, time);
        }
        Ok(k)
    }

    /// The snapshot dataset [time, ny, nx] (3D: [time, nz, ny, nx]), if
    /// the file has one.
    pub fn snapshot_field(&self) -> Option<&hdf5::Dataset> {
        self.snapshots.as_ref().map(|s| &s.field)
    }

    /// Rank 0 (gather mode): copy snapshot `from` of `src` (a dataset of
    /// the same grid, 2D or 3D) into this file's snapshot `to`, strip by
    /// strip.
    pub(super) fn copy_snapshot(
        &self,
        src: &hdf5::Dataset,
        from: usize,
        to: usize,
    ) -> anyhow::Result<()> {
        for region in super::layout::field_strips(&self.temperature.shape()) {
            let strip = read_region(src, Some(from), &region)
                .with_context(|| format!("cannot read snapshot {from} of {}", src.name()))?;
            let data = strip
                .as_slice()
                .context("a strip read back not contiguous")?;
            self.write_strip(Some(to), &region, data)?;
        }
        Ok(())
    }

    /// Record how far the run got, the field's checksum and the run's
    /// report (JSON), close the file, move it to its final path, and
    /// write the XDMF sidecar.
    pub fn finish(
        self,
        stamp: &Stamp,
        report: Option<&str>,
        end_time: &str,
    ) -> Outcome<Option<PathBuf>> {
        let Self {
            file,
            temperature,
            snapshots,
            xdmf,
            ..
        } = self;
        drop(temperature);
        (|| -> anyhow::Result<()> {
            let g = file.root().group("heat")?;
            write_num(&g, "step", stamp.step)?;
            write_num(&g, "target_steps", stamp.target_steps)?;
            write_num(&g, "checksum", stamp.checksum)?;
            if let Some(s) = &snapshots {
                let sum = super::meta::snapshots_checksum(s.every, &s.taken);
                write_num(&g, "snapshots_checksum", sum)?;
            }
            write_num(&g, "meta_checksum", super::meta::meta_checksum(&g)?)?;
            if let Some(r) = report {
                file.write_report(r)?;
            }
            drop(snapshots);
            Ok(())
        })()
        .context("cannot write the final attributes")
        .map_err(Failure::runtime)?;
        // The sidecar is written before the result is committed, so a
        // full disk cannot leave a result without its sidecar.
        if let Some((out, x)) = &xdmf {
            out.write_reserved(x.render().as_bytes())
                .with_context(|| format!("cannot write '{}'", out.temp_path().display()))
                .map_err(Failure::runtime)?;
        }
        let closed = file.close_at(end_time)?;
        match (closed, xdmf) {
            (Some(h5), Some((side, _))) => crate::output::commit_pair(h5, side).map(Some),
            (Some(h5), None) => h5.commit().map(Some),
            (None, _) => Ok(None),
        }
    }
}
