//! The field's way to the file: gathered to rank 0 strip by strip (or
//! written by every rank through MPI-IO), snapshots on the way, those a
//! restart carries over, and the end of the file. Collective.

use std::ops::Range;
use std::path::PathBuf;

use anyhow::Context;
use mpi::traits::*;
use ndarray::s;

use super::decomp::{Block, Decomposition};
use super::io::HeatFile;
use super::kernel::Field;
use super::layout::{strip_len, strips, SnapshotAt};
use super::meta::Stamp;
use crate::error::{Failure, Outcome};
use crate::tags::HEAT_GATHER as TAG_GATHER;

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
        let most = (0..decomp.ranks()).map(|r| strip_len(&decomp.block(r)));
        let mut buf = vec![0.0; most.max().unwrap_or(0)];
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
        let mut buf = vec![0.0; strip_len(&mine)];
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

/// Collective: write `field` into `file` (`Some` exactly on rank 0 when
/// gathering, on every rank in parallel mode): as the final field (`lead`
/// None) or as snapshot `lead`. Each rank writes its own block in parallel
/// mode; otherwise rank 0 gathers the blocks strip by strip.
fn write_field<C: Communicator>(
    comm: &C,
    decomp: &Decomposition,
    field: &Field,
    file: Option<&HeatFile>,
    lead: Option<usize>,
) -> Outcome {
    if let Some(f) = file.filter(|f| f.parallel) {
        let block = decomp.block(comm.rank() as usize);
        let local = f
            .write_own_block(field, &block, lead)
            .map_err(Failure::runtime);
        return crate::par::agree(comm, local);
    }
    gather_strips(comm, decomp, field, |rows, cols, data| {
        file.expect("rank 0 holds the file")
            .write_strip(lead, rows, cols, data)
    })
}

/// Collective: write `field` as the final field of `file`.
pub fn gather_and_write<C: Communicator>(
    comm: &C,
    decomp: &Decomposition,
    field: &Field,
    file: Option<&HeatFile>,
) -> Outcome {
    write_field(comm, decomp, field, file, None)
}

/// Collective: append `field` (at `step`, time `time`) to the snapshots of
/// `file`.
pub fn write_snapshot<C: Communicator>(
    comm: &C,
    decomp: &Decomposition,
    field: &Field,
    mut file: Option<&mut HeatFile>,
    at: SnapshotAt,
) -> Outcome {
    let mut k = 0;
    let local = match file.as_deref_mut() {
        Some(f) => f
            .push_snapshot(at)
            .map(|slot| k = slot)
            .map_err(Failure::runtime),
        None => Ok(()),
    };
    crate::par::agree(comm, local)?;
    write_field(comm, decomp, field, file.as_deref(), Some(k))
}

/// Collective: append snapshots of `src` to those of `dst`: each
/// `(index in src, step and time)` of `which`, in order. `src` is the
/// snapshot dataset of another file of the same grid, open wherever `dst`
/// is (rank 0 when gathering: it copies them strip by strip; every rank in
/// parallel mode: each copies its own block, collectively).
pub fn carry_snapshots<C: Communicator>(
    comm: &C,
    decomp: &Decomposition,
    src: Option<&hdf5::Dataset>,
    which: &[(usize, SnapshotAt)],
    mut dst: Option<&mut HeatFile>,
) -> Outcome {
    let block = decomp.block(comm.rank() as usize);
    for &(from, at) in which {
        let mut k = 0;
        let local = match dst.as_deref_mut() {
            Some(f) => f
                .push_snapshot(at)
                .map(|slot| k = slot)
                .map_err(Failure::runtime),
            None => Ok(()),
        };
        crate::par::agree(comm, local)?;
        let local = match (dst.as_deref(), src) {
            (Some(f), Some(src)) if f.parallel => {
                // Every rank reaches the collective write, even after a
                // failed read; the failure is agreed on afterwards.
                let mut u = Field::zeros(block.nx(), block.ny());
                let read = read_block(src, Some(from), &block, &mut u);
                let written = f.write_own_block(&u, &block, Some(k));
                read.and(written)
            }
            (Some(f), Some(src)) => f.copy_snapshot(src, from, k),
            (Some(_), None) => Err(anyhow::anyhow!("no snapshots to carry over")),
            (None, _) => Ok(()),
        };
        crate::par::agree(comm, local.map_err(Failure::runtime))?;
    }
    Ok(())
}

/// This rank's block of `ds` (the field, `lead` None, or snapshot `lead`)
/// into `u`'s interior.
pub fn read_block(
    ds: &hdf5::Dataset,
    lead: Option<usize>,
    block: &Block,
    u: &mut Field,
) -> anyhow::Result<()> {
    let (rows, cols) = (block.rows.clone(), block.cols.clone());
    let data: ndarray::Array2<f64> = match lead {
        None => ds.read_slice_2d(s![rows, cols]),
        Some(k) => ds.read_slice_2d(s![k, rows, cols]),
    }
    .with_context(|| format!("cannot read a block of {}", ds.name()))?;
    for ((j, i), v) in data.indexed_iter() {
        u.set(i, j, *v);
    }
    Ok(())
}

/// Collective: write `field` into `file` (`Some` exactly on rank 0), stamp
/// it, attach `report` (JSON; rank 0's matters), close it and move it into
/// place with its sidecar. Every rank gets the outcome; rank 0 also the
/// final path.
pub fn complete<C: Communicator>(
    comm: &C,
    decomp: &Decomposition,
    field: &Field,
    file: Option<HeatFile>,
    stamp: &Stamp,
    report: Option<&str>,
) -> Outcome<Option<PathBuf>> {
    gather_and_write(comm, decomp, field, file.as_ref())?;
    finish(comm, file, stamp, report)
}

/// Collective: stamp `file` (`Some` exactly on rank 0) and attach `report`,
/// close it and move it into place with its sidecar.
pub fn finish<C: Communicator>(
    comm: &C,
    file: Option<HeatFile>,
    stamp: &Stamp,
    report: Option<&str>,
) -> Outcome<Option<PathBuf>> {
    // Parallel HDF5 writes metadata collectively: rank 0's values for all.
    let end_time = crate::par::broadcast_string(comm, &crate::h5::now_rfc3339());
    let report = report.map(|r| crate::par::broadcast_string(comm, r));
    let done = match file {
        Some(f) => f.finish(stamp, report.as_deref(), &end_time),
        None => Ok(None),
    };
    crate::par::agree(comm, done.as_ref().map(|_| ()).map_err(Clone::clone))?;
    done
}
