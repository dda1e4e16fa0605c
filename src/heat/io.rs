//! The heat result file: HDF5 layout and block-by-block writing at rank 0.
//!
//! Layout (all written by rank 0):
//!
//! ```text
//! /                       attrs: parsim_version, command_line, start_time, mpi_ranks
//! /heat                   attrs: nx, ny, dx, dy, alpha, dt, steps, time, init,
//!                                bc_left, bc_right, bc_bottom, bc_top,
//!                                proc_grid [px, py], ranks,
//!                                step, target_steps, checksum (see `checkpoint`)
//! /heat/temperature       f64 [ny, nx], interior points only,
//!                         row 0 = bottom (y = dy), column 0 = left (x = dx)
//! ```
//!
//! Rank 0 never holds the whole field, nor even another rank's whole block:
//! every block travels as strips of whole rows of at most [`STRIP_CELLS`]
//! values, each written as a hyperslab as it arrives. Memory at rank 0 is
//! its own two fields plus one 8 MiB strip, whatever the grid and the
//! number of ranks, so it stays within a worker's (which holds the same two
//! fields plus one strip to send).

use std::ops::Range;

use anyhow::Context;
use mpi::traits::*;
use ndarray::{s, ArrayView2};

use super::checkpoint::Stamp;
use super::config::HeatConfig;
use super::decomp::{Block, Decomposition};
use super::kernel::Field;
use crate::error::{Failure, Outcome};
use crate::h5::{write_list, write_num, write_str, ResultFile, RunMeta};
use crate::output::PendingOutput;

/// Tag of the gather messages (distinct from the halo tags).
const TAG_GATHER: i32 = 40;

/// Largest message of the gather: 1 Mi values (8 MiB).
pub const STRIP_CELLS: usize = 1 << 20;

/// An open heat result file at its temporary path (rank 0 only).
pub struct HeatFile {
    file: ResultFile,
    temperature: hdf5::Dataset,
}

impl HeatFile {
    /// Create the file with its layout and every attribute known before the
    /// field is written (`steps_done`: the step the field will be at), so a
    /// result file's failure to write shows up before any computing.
    pub fn create(
        output: PendingOutput,
        cfg: &HeatConfig,
        decomp: &Decomposition,
        meta: &RunMeta,
        steps_done: u64,
    ) -> anyhow::Result<Self> {
        let path = output.temp_path().to_path_buf();
        let file = ResultFile::create(output, meta)?;
        let temperature = (|| -> hdf5::Result<_> {
            let g = file.root().create_group("heat")?;
            write_num(&g, "nx", cfg.nx as u64)?;
            write_num(&g, "ny", cfg.ny as u64)?;
            write_num(&g, "dx", cfg.dx)?;
            write_num(&g, "dy", cfg.dy)?;
            write_num(&g, "alpha", cfg.alpha)?;
            write_num(&g, "dt", cfg.dt)?;
            write_num(&g, "steps", steps_done)?;
            write_num(&g, "time", steps_done as f64 * cfg.dt)?;
            write_str(&g, "init", cfg.init.name())?;
            write_num(&g, "bc_left", cfg.boundaries.left)?;
            write_num(&g, "bc_right", cfg.boundaries.right)?;
            write_num(&g, "bc_bottom", cfg.boundaries.bottom)?;
            write_num(&g, "bc_top", cfg.boundaries.top)?;
            let grid = decomp.grid();
            write_list(&g, "proc_grid", &[grid.px() as u64, grid.py() as u64])?;
            write_num(&g, "ranks", decomp.ranks() as u64)?;
            g.new_dataset::<f64>()
                .shape((cfg.ny, cfg.nx))
                .create("temperature")
        })()
        .with_context(|| format!("cannot lay out HDF5 file '{}'", path.display()))?;
        Ok(Self { file, temperature })
    }

    /// Write global rows `rows` × columns `cols` of the field.
    fn write_strip(
        &self,
        rows: Range<usize>,
        cols: Range<usize>,
        data: &[f64],
    ) -> anyhow::Result<()> {
        let view = ArrayView2::from_shape((rows.len(), cols.len()), data)?;
        self.temperature
            .write_slice(view, s![rows, cols])
            .context("cannot write temperature block")
    }

    /// Record how far the run got and the field's checksum, close the file
    /// and move it to its final path.
    pub fn finish(self, stamp: &Stamp) -> Outcome<std::path::PathBuf> {
        let Self { file, temperature } = self;
        drop(temperature);
        (|| -> hdf5::Result<()> {
            let g = file.root().group("heat")?;
            write_num(&g, "step", stamp.step)?;
            write_num(&g, "target_steps", stamp.target_steps)?;
            write_num(&g, "checksum", stamp.checksum)
        })()
        .context("cannot write the checkpoint stamp")
        .map_err(Failure::runtime)?;
        file.finish()
    }
}

/// Rows per strip of a block `nx` wide.
fn strip_rows(nx: usize) -> usize {
    (STRIP_CELLS / nx.max(1)).max(1)
}

/// The strips of `block`, as global row ranges.
fn strips(block: &Block) -> impl Iterator<Item = Range<usize>> + '_ {
    let step = strip_rows(block.nx());
    block
        .rows
        .clone()
        .step_by(step)
        .map(move |r| r..(r + step).min(block.rows.end))
}

/// Collective: bring every block to rank 0, strip by strip, and hand each
/// strip to `sink(rows, cols, values)` there (global indices). A sink error
/// at rank 0 does not stop the receiving, so no rank is left blocked in a
/// send; the first error is agreed on afterwards.
pub fn gather_strips<C: Communicator>(
    comm: &C,
    decomp: &Decomposition,
    field: &Field,
    mut sink: impl FnMut(Range<usize>, Range<usize>, &[f64]) -> anyhow::Result<()>,
) -> Outcome {
    let rank = comm.rank() as usize;
    let mine = decomp.block(rank);
    let local = if rank == 0 {
        let mut buf = vec![0.0; STRIP_CELLS.min(decomp.max_block_cells())];
        let mut result = Ok(());
        for src in 0..decomp.ranks() {
            let block = decomp.block(src);
            for rows in strips(&block) {
                let part = &mut buf[..rows.len() * block.nx()];
                if src == 0 {
                    pack_rows(field, &rows, &block, part);
                } else {
                    comm.process_at_rank(src as i32)
                        .receive_into_with_tag(part, TAG_GATHER);
                }
                if result.is_ok() {
                    result = sink(rows, block.cols.clone(), part);
                }
            }
        }
        result.map_err(Failure::runtime)
    } else {
        let mut buf = vec![0.0; STRIP_CELLS.min(mine.cells())];
        for rows in strips(&mine) {
            let part = &mut buf[..rows.len() * mine.nx()];
            pack_rows(field, &rows, &mine, part);
            comm.process_at_rank(0).send_with_tag(&part[..], TAG_GATHER);
        }
        Ok(())
    };
    crate::par::agree(comm, local)
}

/// Copy global rows `rows` of `block`'s interior into `out`.
fn pack_rows(field: &Field, rows: &Range<usize>, block: &Block, out: &mut [f64]) {
    let interior = field.interior();
    let local = rows.start - block.rows.start..rows.end - block.rows.start;
    for (dst, row) in out
        .chunks_exact_mut(block.nx())
        .zip(interior.slice(s![local, ..]).rows())
    {
        for (d, v) in dst.iter_mut().zip(row.iter()) {
            *d = *v;
        }
    }
}

/// Collective: bring every block to rank 0 and write it to `file` (which is
/// `Some` exactly on rank 0).
pub fn gather_and_write<C: Communicator>(
    comm: &C,
    decomp: &Decomposition,
    field: &Field,
    file: Option<&HeatFile>,
) -> Outcome {
    gather_strips(comm, decomp, field, |rows, cols, data| {
        file.expect("rank 0 holds the file")
            .write_strip(rows, cols, data)
    })
}

/// Collective: write `field` into `file` (`Some` exactly on rank 0), stamp
/// it, close it and move it into place. Every rank gets the outcome; rank 0
/// also the final path.
pub fn complete<C: Communicator>(
    comm: &C,
    decomp: &Decomposition,
    field: &Field,
    file: Option<HeatFile>,
    stamp: &Stamp,
) -> Outcome<Option<std::path::PathBuf>> {
    gather_and_write(comm, decomp, field, file.as_ref())?;
    let done = match file {
        Some(f) => f.finish(stamp).map(Some),
        None => Ok(None),
    };
    crate::par::agree(comm, done.as_ref().map(|_| ()).map_err(Clone::clone))?;
    done
}
