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
use super::layout::{strips, Slab, SnapshotAt};
use super::meta::Stamp;
use crate::error::{Failure, Outcome};
use crate::tags::HEAT_GATHER as TAG_GATHER;

/// A field split into blocks over the ranks, as the file sees it: what
/// gathering it to rank 0 and writing it in parallel need, for 2D
/// ([`Decomposition`]) and 3D (`super::output3d`) alike.
pub trait Tiles {
    type Field;
    fn ranks(&self) -> usize;
    /// The strips of `rank`'s block in the order they travel: global
    /// ranges, slowest axis first, each of at most
    /// [`super::layout::STRIP_CELLS`] values (or one row).
    fn strips(&self, rank: usize) -> Vec<Vec<Range<usize>>>;
    /// Copy strip `region` of `rank`'s block of `field` into `out`.
    fn pack(&self, field: &Self::Field, rank: usize, region: &[Range<usize>], out: &mut [f64]);
    /// `rank`'s block of `field` for a collective write.
    fn slab<'f>(&self, field: &'f Self::Field, rank: usize) -> Slab<'f>;
    /// A field of `rank`'s block, zero.
    fn zeros(&self, rank: usize) -> Self::Field;
    /// Read `rank`'s block of `ds` (a field of this grid, or snapshot
    /// `lead` of its snapshots) into `u`'s interior.
    fn read_into(
        &self,
        ds: &hdf5::Dataset,
        lead: Option<usize>,
        rank: usize,
        u: &mut Self::Field,
    ) -> anyhow::Result<()>;
}

/// Values in a strip.
fn cells(region: &[Range<usize>]) -> usize {
    region.iter().map(|r| r.len()).product()
}

impl Tiles for Decomposition {
    type Field = Field;

    fn ranks(&self) -> usize {
        Decomposition::ranks(self)
    }

    fn strips(&self, rank: usize) -> Vec<Vec<Range<usize>>> {
        let block = self.block(rank);
        strips(&block)
            .map(|rows| vec![rows, block.cols.clone()])
            .collect()
    }

    fn pack(&self, field: &Field, rank: usize, region: &[Range<usize>], out: &mut [f64]) {
        pack_rows(field, &region[0], &self.block(rank), out);
    }

    fn slab<'f>(&self, field: &'f Field, rank: usize) -> Slab<'f> {
        let block = self.block(rank);
        let g = field.ghosts() as u64;
        let (nx, ny) = (field.nx() as u64, field.ny() as u64);
        Slab {
            data: field.as_slice(),
            mem_dims: vec![ny + 2 * g, nx + 2 * g],
            mem_start: vec![g, g],
            count: vec![ny, nx],
            file_start: vec![block.rows.start as u64, block.cols.start as u64],
        }
    }

    fn zeros(&self, rank: usize) -> Field {
        let block = self.block(rank);
        Field::zeros(block.nx(), block.ny())
    }

    fn read_into(
        &self,
        ds: &hdf5::Dataset,
        lead: Option<usize>,
        rank: usize,
        u: &mut Field,
    ) -> anyhow::Result<()> {
        read_block(ds, lead, &self.block(rank), u)
    }
}

/// Collective: bring every block to rank 0, strip by strip, and hand each
/// strip to `sink(region, values)` there (global ranges, slowest axis
/// first). Rank 0 holds one strip besides its own field. A sink error
/// at rank 0 does not stop the receiving, so no rank is left blocked in a
/// send; the first error is agreed on afterwards.
pub fn gather_strips<C: Communicator, T: Tiles>(
    comm: &C,
    tiles: &T,
    field: &T::Field,
    mut sink: impl FnMut(&[Range<usize>], &[f64]) -> anyhow::Result<()>,
) -> Outcome {
    let rank = comm.rank() as usize;
    let local = if rank == 0 {
        let most = (0..tiles.ranks()).flat_map(|r| tiles.strips(r).iter().map(|s| cells(s)).max());
        let mut buf = vec![0.0; most.max().unwrap_or(0)];
        let mut result = Ok(());
        for src in 0..tiles.ranks() {
            for region in tiles.strips(src) {
                let part = &mut buf[..cells(&region)];
                if src == 0 {
                    tiles.pack(field, 0, &region, part);
                } else {
                    comm.process_at_rank(src as i32)
                        .receive_into_with_tag(part, TAG_GATHER);
                }
                if result.is_ok() {
                    result = sink(&region, part);
                }
            }
        }
        result.map_err(Failure::runtime)
    } else {
        let strips = tiles.strips(rank);
        let mut buf = vec![0.0; strips.iter().map(|s| cells(s)).max().unwrap_or(0)];
        for region in strips {
            let part = &mut buf[..cells(&region)];
            tiles.pack(field, rank, &region, part);
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
fn write_field<C: Communicator, T: Tiles>(
    comm: &C,
    tiles: &T,
    field: &T::Field,
    file: Option<&HeatFile>,
    lead: Option<usize>,
) -> Outcome {
    if let Some(f) = file.filter(|f| f.parallel) {
        let slab = tiles.slab(field, comm.rank() as usize);
        let local = f.write_own_block(&slab, lead).map_err(Failure::runtime);
        return crate::par::agree(comm, local);
    }
    gather_strips(comm, tiles, field, |region, data| {
        file.expect("rank 0 holds the file")
            .write_strip(lead, region, data)
    })
}

/// Collective: write `field` as the final field of `file`.
pub fn gather_and_write<C: Communicator, T: Tiles>(
    comm: &C,
    decomp: &T,
    field: &T::Field,
    file: Option<&HeatFile>,
) -> Outcome {
    write_field(comm, decomp, field, file, None)
}

/// Collective: append `field` (at `step`, time `time`) to the snapshots of
/// `file`.
pub fn write_snapshot<C: Communicator, T: Tiles>(
    comm: &C,
    decomp: &T,
    field: &T::Field,
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
pub fn carry_snapshots<C: Communicator, T: Tiles>(
    comm: &C,
    tiles: &T,
    src: Option<&hdf5::Dataset>,
    which: &[(usize, SnapshotAt)],
    mut dst: Option<&mut HeatFile>,
) -> Outcome {
    let rank = comm.rank() as usize;
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
                let mut u = tiles.zeros(rank);
                let read = tiles.read_into(src, Some(from), rank, &mut u);
                let written = f.write_own_block(&tiles.slab(&u, rank), Some(k));
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
pub fn complete<C: Communicator, T: Tiles>(
    comm: &C,
    decomp: &T,
    field: &T::Field,
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

/// Collective: copy the restart file `m`'s snapshots taken before the
/// restart into the result file `file` (open on rank 0, or on every rank
/// in parallel mode), when it keeps snapshots (`every` > 0), so a resumed
/// run's result holds every snapshot an uninterrupted one would (2D and
/// 3D). The snapshots carried.
pub fn carry_from_restart<C: Communicator, T: Tiles>(
    comm: &C,
    tiles: &T,
    m: &super::meta::CheckpointMeta,
    every: u64,
    file: Option<&mut HeatFile>,
) -> Outcome<Vec<SnapshotAt>> {
    let which: Vec<(usize, SnapshotAt)> = m.snapshots_before_restart().collect();
    if every == 0 || which.is_empty() {
        return Ok(Vec::new());
    }
    // Open where the result file is; every rank learns whether it could be.
    let mut src = None;
    let local = match &file {
        Some(_) => hdf5::File::open(&m.path)
            .and_then(|f| f.dataset("heat/snapshots"))
            .map(|ds| src = Some(ds))
            .map_err(|e| Failure::usage(format!("restart file '{}': {e}", m.path))),
        None => Ok(()),
    };
    crate::par::agree(comm, local)?;
    carry_snapshots(comm, tiles, src.as_ref(), &which, file)?;
    Ok(which.into_iter().map(|(_, at)| at).collect())
}

/// Collective: write a checkpoint laid out as `plan` says (its problem at
/// the step reached, a temporary file renamed into place when complete):
/// the snapshots `taken` so far, copied from `src` (the result file's
/// snapshots, where it is open), then `field`, stamped with `stamp`. A
/// restart carries the snapshots into its result. 2D and 3D.
pub fn write_checkpoint<C: Communicator, T: Tiles>(
    comm: &C,
    (io, path, plan): (super::layout::IoMode, &std::path::Path, &super::io::Plan),
    (tiles, field): (&T, &T::Field),
    (taken, src): (&[SnapshotAt], Option<&hdf5::Dataset>),
    stamp: &Stamp,
) -> Outcome {
    let mut file = super::io::open(comm, io, || Ok(()), (Some(path), "checkpoint"), true, plan)?;
    let which: Vec<_> = taken.iter().copied().enumerate().collect();
    carry_snapshots(comm, tiles, src, &which, file.as_mut())?;
    complete(comm, tiles, field, file, stamp, None).map(drop)
}
