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

use anyhow::Context;
use mpi::traits::*;

use super::decomp3d::{Block3, Decomposition3};
use super::gather::{carry_from_restart, write_checkpoint, Tiles};
use super::io::{self, HeatFile, Plan, Problem};
use super::kernel3d::Field3;
use super::layout::Slab;
use super::layout::{snapshot_count, strips3, Extras, SnapshotAt};
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
        let (nx, g, mut at) = (b.nx(), field.ghosts(), 0);
        for k in region[0].clone() {
            for j in region[1].clone() {
                let first = field.at(g, j - b.rows.start + g, k - b.planes.start + g);
                out[at..at + nx].copy_from_slice(&d[first..first + nx]);
                at += nx;
            }
        }
    }

    fn slab<'f>(&self, field: &'f Field3, rank: usize) -> Slab<'f> {
        let b = self.block(rank);
        let [nx, ny, nz] = field.extents().map(|n| n as u64);
        let g = field.ghosts() as u64;
        Slab {
            data: field.as_slice(),
            mem_dims: vec![nz + 2 * g, ny + 2 * g, nx + 2 * g],
            mem_start: vec![g, g, g],
            count: vec![nz, ny, nx],
            file_start: [&b.planes, &b.rows, &b.cols]
                .map(|r| r.start as u64)
                .to_vec(),
        }
    }

    fn zeros(&self, rank: usize) -> Field3 {
        let b = self.block(rank);
        Field3::zeros(b.nx(), b.ny(), b.nz())
    }

    fn read_into(
        &self,
        ds: &hdf5::Dataset,
        lead: Option<usize>,
        rank: usize,
        u: &mut Field3,
    ) -> anyhow::Result<()> {
        let b = self.block(rank);
        let region = [b.planes.clone(), b.rows.clone(), b.cols.clone()];
        let data = io::read_region(ds, lead, &region)
            .with_context(|| format!("cannot read a block of {}", ds.name()))?;
        let mut values = data.iter();
        for k in 0..b.nz() {
            for j in 0..b.ny() {
                for i in 0..b.nx() {
                    u.set(i, j, k, *values.next().context("a block read back short")?);
                }
            }
        }
        Ok(())
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
/// end, the snapshots taken on the way (or carried from a restart), and
/// its checkpoints.
pub struct Output3 {
    /// Where the file is open (rank 0 gathering, every rank in parallel).
    file: Option<HeatFile>,
    every: u64,
    /// The snapshots in the file: carried from the restart, then taken.
    snapshots: Vec<SnapshotAt>,
    /// Rank 0: the checkpoint path, held for the whole run.
    _claim: Option<crate::output::CheckpointClaim>,
    /// Seconds in snapshots and in writing the final field.
    pub seconds: f64,
    /// The result's path, once written (rank 0).
    pub written: Option<PathBuf>,
}

impl Output3 {
    /// Collective: claim the checkpoint's path (rank 0), reserve and lay
    /// out the result file of `start`, if it has one; every rank learns
    /// the outcome before anyone computes.
    pub fn open<C: Communicator>(world: &C, start: &Start3d, meta: &RunMeta) -> Outcome<Self> {
        let (cfg, every) = (&start.cfg, start.extras.snapshot_every);
        let resume = start.resume.as_ref();
        let carried = resume.map_or(0, |m| m.snapshots_before_restart().count());
        let snapshots = snapshot_count(every, (start.start_step(), cfg.steps), carried);
        let out = &start.out;
        let mut claim = None;
        let file = io::open(
            world,
            start.io,
            || {
                claim = Some(start.checkpointing.reserve(out.force)?);
                Ok(())
            },
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
            _claim: claim,
            seconds: 0.0,
            written: None,
        })
    }

    /// Collective: copy the restart file's snapshots taken before the
    /// restart into the result file, if `start` restarts.
    pub fn carry<C: Communicator>(&mut self, comm: &C, start: &Start3d) -> Outcome {
        let Some(m) = &start.resume else {
            return Ok(());
        };
        let a = mpi::time();
        let carried = carry_from_restart(comm, &start.decomp, m, self.every, self.file.as_mut())?;
        self.snapshots.extend(carried);
        self.seconds += mpi::time() - a;
        Ok(())
    }

    /// Collective: write the checkpoint of `u` (stamped `stamp`) to the
    /// checkpoint path, with the snapshots taken so far.
    pub fn checkpoint<C: Communicator>(
        &self,
        comm: &C,
        (start, meta): (&Start3d, &RunMeta),
        u: &Field3,
        stamp: &Stamp,
    ) -> Outcome {
        let extras = Extras {
            snapshot_every: self.every,
            ..Extras::default()
        };
        let plan = Plan {
            problem: Problem::Three(&start.cfg, &start.decomp),
            meta,
            steps_done: stamp.step,
            extras: &extras,
            snapshots: self.snapshots.len() as u64,
            init_sum: None,
        };
        let src = self.file.as_ref().and_then(|f| f.snapshot_field());
        let path = start.checkpointing.path.as_path();
        write_checkpoint(
            comm,
            (start.io, path, &plan),
            (&start.decomp, u),
            (&self.snapshots, src),
            stamp,
        )
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
