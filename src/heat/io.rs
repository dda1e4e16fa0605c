//! The heat result file: HDF5 layout and block-by-block writing at rank 0.
//!
//! Layout (all written by rank 0):
//!
//! ```text
//! /                       attrs: parsim_version, command_line, start_time
//! /heat                   attrs: nx, ny, dx, dy, alpha, dt, steps, time, init,
//!                                bc_left, bc_right, bc_bottom, bc_top,
//!                                proc_grid [px, py], ranks
//! /heat/temperature       f64 [ny, nx], interior points only,
//!                         row 0 = bottom (y = dy), column 0 = left (x = dx)
//! ```
//!
//! Rank 0 never holds the whole field: it writes its own block, then
//! receives each other rank's block in turn into one buffer sized for the
//! largest block and writes it as a hyperslab. Memory at rank 0 is its own
//! two fields plus one block, whatever the number of ranks.

use anyhow::Context;
use hdf5::types::VarLenUnicode;
use mpi::traits::*;
use ndarray::{s, ArrayView2};

use super::config::HeatConfig;
use super::decomp::{Block, Decomposition};
use super::kernel::Field;
use crate::error::{Failure, Outcome};
use crate::output::PendingOutput;

/// Tag of the gather messages (distinct from the halo tags).
const TAG_GATHER: i32 = 20;

/// Where and when a run was started; stored on `/`.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub version: &'static str,
    pub command_line: String,
    pub start_time: String,
}

/// An open result file at its temporary path (rank 0 only).
pub struct HeatFile {
    file: hdf5::File,
    temperature: hdf5::Dataset,
    output: PendingOutput,
}

impl HeatFile {
    /// Create the file with its layout and every attribute known before the
    /// run, so a failure to write shows up before any computing.
    pub fn create(
        output: PendingOutput,
        cfg: &HeatConfig,
        decomp: &Decomposition,
        meta: &RunMeta,
    ) -> anyhow::Result<Self> {
        let path = output.temp_path().to_path_buf();
        let file = hdf5::File::create(&path)
            .with_context(|| format!("cannot create HDF5 file '{}'", path.display()))?;
        (|| -> hdf5::Result<_> {
            write_str(&file, "parsim_version", meta.version)?;
            write_str(&file, "command_line", &meta.command_line)?;
            write_str(&file, "start_time", &meta.start_time)?;
            let g = file.create_group("heat")?;
            write_num(&g, "nx", cfg.nx as u64)?;
            write_num(&g, "ny", cfg.ny as u64)?;
            write_num(&g, "dx", cfg.dx)?;
            write_num(&g, "dy", cfg.dy)?;
            write_num(&g, "alpha", cfg.alpha)?;
            write_num(&g, "dt", cfg.dt)?;
            write_num(&g, "steps", cfg.steps)?;
            write_num(&g, "time", cfg.end_time())?;
            write_str(&g, "init", cfg.init.name())?;
            write_num(&g, "bc_left", cfg.boundaries.left)?;
            write_num(&g, "bc_right", cfg.boundaries.right)?;
            write_num(&g, "bc_bottom", cfg.boundaries.bottom)?;
            write_num(&g, "bc_top", cfg.boundaries.top)?;
            let grid = decomp.grid();
            g.new_attr_builder()
                .with_data(&[grid.px() as u64, grid.py() as u64])
                .create("proc_grid")?;
            write_num(&g, "ranks", decomp.ranks() as u64)?;
            let temperature = g
                .new_dataset::<f64>()
                .shape((cfg.ny, cfg.nx))
                .create("temperature")?;
            Ok(temperature)
        })()
        .map(|temperature| Self {
            file,
            temperature,
            output,
        })
        .with_context(|| format!("cannot lay out HDF5 file '{}'", path.display()))
    }

    /// Write one rank's interior (`block.ny()` rows of `block.nx()` values).
    fn write_block(&self, block: &Block, data: &[f64]) -> anyhow::Result<()> {
        let view = ArrayView2::from_shape((block.ny(), block.nx()), data)?;
        self.temperature
            .write_slice(view, s![block.rows.clone(), block.cols.clone()])
            .context("cannot write temperature block")
    }

    /// Close the file and move it to its final path.
    pub fn finish(self) -> Outcome<std::path::PathBuf> {
        let Self {
            file,
            temperature,
            output,
        } = self;
        drop(temperature);
        file.flush()
            .and_then(|_| file.close())
            .context("cannot close HDF5 file")
            .map_err(Failure::runtime)?;
        output.commit()
    }
}

fn write_str(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("attribute {name}: {e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

fn write_num<T: hdf5::H5Type>(loc: &hdf5::Location, name: &str, value: T) -> hdf5::Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(&value)
}

/// Collective: bring every block to rank 0 and write it to `file` (which is
/// `Some` exactly on rank 0). A write error at rank 0 does not stop the
/// receiving, so no rank is left blocked in a send; the error is agreed on
/// afterwards.
pub fn gather_and_write<C: Communicator>(
    comm: &C,
    decomp: &Decomposition,
    field: &Field,
    file: Option<&HeatFile>,
) -> Outcome {
    let rank = comm.rank() as usize;
    let mine = decomp.block(rank);
    let local = if rank == 0 {
        let file = file.expect("rank 0 holds the file");
        let mut buf = vec![0.0; decomp.max_block_cells()];
        field.pack_interior(&mut buf[..mine.cells()]);
        let mut result = file.write_block(&mine, &buf[..mine.cells()]);
        for src in 1..decomp.ranks() {
            let block = decomp.block(src);
            let part = &mut buf[..block.cells()];
            comm.process_at_rank(src as i32)
                .receive_into_with_tag(part, TAG_GATHER);
            if result.is_ok() {
                result = file.write_block(&block, part);
            }
        }
        result.map_err(Failure::runtime)
    } else {
        let mut buf = vec![0.0; mine.cells()];
        field.pack_interior(&mut buf);
        comm.process_at_rank(0).send_with_tag(&buf[..], TAG_GATHER);
        Ok(())
    };
    crate::par::agree(comm, local)
}
