//! The result file of a 3D heat run: the 2D file's layout (`super::io`)
//! with a third axis. `/heat/temperature` is `[nz, ny, nx]`, the
//! coordinates `z`, `y`, `x` its dimension scales, the snapshots
//! `[time, nz, ny, nx]`, the XDMF sidecar a volume. What is 3D's own is
//! here: how a 3D block travels to the file (gathered strip by strip to
//! rank 0, or written by its rank through MPI-IO), the attributes of the
//! problem, and the run's file from its opening to its end, so that
//! `super::run3d` only calls in.

use std::ops::Range;
use std::path::PathBuf;

use mpi::traits::*;

use super::decomp3d::{Block3, Decomposition3};
use super::gather::Tiles;
use super::io::{self, HeatFile, Plan, Problem};
use super::kernel3d::Field3;
use super::layout::Slab;
use super::layout::{strips3, SnapshotAt};
use super::meta::{cell_sum, Stamp};
use super::plan3d::{Config3d, Start3d};
use crate::error::Outcome;
use crate::h5::RunMeta;

impl Tiles for Decomposition3 {
    type Field = Field3;

    fn ranks(&self) -> usize {
        Decomposition3::ranks(self)
    }

    fn strips(&self, rank: usize) -> Vec<Vec<Range<usize>>> {
        let b = self.block(rank);
        strips3(b.planes, b.rows, b.cols)
            .into_iter()
            .map(Vec::from)
            .collect()
    }

    fn pack(&self, field: &Field3, rank: usize, region: &[Range<usize>], out: &mut [f64]) {
        let b = self.block(rank);
        let d = field.as_slice();
        let (nx, mut at) = (b.nx(), 0);
        for k in region[0].clone() {
            for j in region[1].clone() {
                let first = field.at(1, j - b.rows.start + 1, k - b.planes.start + 1);
                out[at..at + nx].copy_from_slice(&d[first..first + nx]);
                at += nx;
            }
        }
    }

    fn slab<'f>(&self, field: &'f Field3, rank: usize) -> Slab<'f> {
        let b = self.block(rank);
        let [nx, ny, nz] = field.extents().map(|n| n as u64);
        Slab {
            data: field.as_slice(),
            mem_dims: vec![nz + 2, ny + 2, nx + 2],
            mem_start: vec![1, 1, 1],
            count: vec![nz, ny, nx],
            file_start: [&b.planes, &b.rows, &b.cols]
                .map(|r| r.start as u64)
                .to_vec(),
        }
    }
}

/// This rank's part of the field's checksum: each cell's bits mixed with
/// its global index `(k ny + j) nx + i` (`super::meta::cell_sum`), added
/// with wrap-around, so the parts add up to the same on any process grid.
pub fn checksum_partial(u: &Field3, b: &Block3, cfg: &Config3d) -> u64 {
    let mut sum = 0u64;
    let mut values = u.interior();
    for k in b.planes.clone() {
        for j in b.rows.clone() {
            let first = (k * cfg.ny + j) * cfg.nx;
            for i in b.cols.clone() {
                let v = values.next().unwrap_or(f64::NAN);
                sum = sum.wrapping_add(cell_sum(v, first + i));
            }
        }
    }
    sum
}

/// A 3D run's result file, from its opening (before any computing) to its
/// end, and the snapshots taken on the way.
pub struct Output3 {
    /// Where the file is open (rank 0 gathering, every rank in parallel).
    file: Option<HeatFile>,
    every: u64,
    snapshots: Vec<SnapshotAt>,
    /// Seconds in snapshots and in writing the final field.
    pub seconds: f64,
    /// The result's path, once written (rank 0).
    pub written: Option<PathBuf>,
}

impl Output3 {
    /// Collective: reserve and lay out the result file of `start`, if it
    /// has one; every rank learns the outcome before anyone computes.
    pub fn open<C: Communicator>(world: &C, start: &Start3d, meta: &RunMeta) -> Outcome<Self> {
        let (cfg, every) = (&start.cfg, start.extras.snapshot_every);
        let snapshots = cfg.steps.checked_div(every).map_or(0, |n| n + 1);
        let out = &start.out;
        let file = io::open(
            world,
            start.io,
            || Ok(()),
            (out.path.as_deref(), "output"),
            out.force,
            &Plan {
                problem: Problem::Three(cfg, &start.decomp),
                meta,
                steps_done: cfg.steps,
                extras: &start.extras,
                snapshots,
                init_sum: start.init_field.as_ref().map(|m| m.checksum),
            },
        )?;
        Ok(Self {
            file,
            every: if out.path.is_some() { every } else { 0 },
            snapshots: Vec::new(),
            seconds: 0.0,
            written: None,
        })
    }

    /// Whether a snapshot is due at `step`.
    pub fn snapshot_due(&self, step: u64) -> bool {
        self.every > 0 && step % self.every == 0
    }

    /// Collective: store `u` (at `step`, its checksum `sum`) as the next
    /// snapshot.
    pub fn snapshot<C: Communicator>(
        &mut self,
        comm: &C,
        start: &Start3d,
        u: &Field3,
        (step, sum): (u64, u64),
    ) -> Outcome {
        let a = mpi::time();
        let at = SnapshotAt {
            step,
            time: start.cfg.time_label(step),
            sum,
        };
        let r = super::gather::write_snapshot(comm, &start.decomp, u, self.file.as_mut(), at);
        self.snapshots.push(at);
        self.seconds += mpi::time() - a;
        r
    }

    /// Snapshots taken.
    pub fn snapshots(&self) -> u64 {
        self.snapshots.len() as u64
    }

    /// Collective: write the final field `u` (at `step`, its checksum
    /// `sum`); the file is then complete but for [`Self::close`].
    pub fn write_final<C: Communicator>(
        &mut self,
        comm: &C,
        start: &Start3d,
        u: &Field3,
    ) -> Outcome {
        if start.out.path.is_none() {
            return Ok(());
        }
        let a = mpi::time();
        super::gather::gather_and_write(comm, &start.decomp, u, self.file.as_ref())?;
        self.seconds += mpi::time() - a;
        self.written = start.out.path.clone();
        Ok(())
    }

    /// Collective: stamp the file (the step reached, of `target_steps`,
    /// and the field's checksum `sum`), store `report` (JSON), close it
    /// and move it into place with its sidecar.
    pub fn close<C: Communicator>(&mut self, comm: &C, stamp: &Stamp, report: &str) -> Outcome {
        if self.written.is_none() {
            return Ok(());
        }
        super::gather::finish(comm, self.file.take(), stamp, Some(report)).map(drop)
    }
}
