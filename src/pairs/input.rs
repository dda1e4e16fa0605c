//! The points: rank 0 reads or makes them and checks them (a file's
//! contents are only known now), every rank learns their shape, and the
//! blocks are dealt out.

use mpi::datatype::Partition;
use mpi::traits::*;

use super::kernel::{block_range, Points};
use super::plan::{checked_size, PairsPlan, PointsFrom, Shape};
use super::range::choose_scale;
use crate::error::{Failure, Outcome};
use crate::par::{self, displacements};

/// Collective: rank 0 reads or makes the points and checks them; every
/// rank learns their shape (or the same failure). Rank 0 keeps the points.
pub(super) fn load<C: Communicator>(
    world: &C,
    job: &PairsPlan,
) -> Outcome<(Shape, Option<Points>)> {
    let mut kept = None;
    let shape = par::broadcast_json(world, || {
        let points = match &job.source {
            PointsFrom::File(f) => f.read().map_err(Failure::usage)?,
            PointsFrom::Generated { n, dim, seed } => {
                Points::generated(*n as usize, *dim as usize, *seed)
            }
        };
        let shape = checked_points(&points, job)?;
        kept = Some(points);
        Ok(shape)
    })?;
    Ok((shape, kept))
}

/// Rank 0: the points' shape once they are known to be usable.
fn checked_points(points: &Points, job: &PairsPlan) -> Outcome<Shape> {
    let what = match &job.source {
        PointsFrom::File(f) => format!("points '{}'", f.shown()),
        PointsFrom::Generated { .. } => "--n".into(),
    };
    // Generated points were sized by the plan; a file's are known now.
    if let PointsFrom::File(_) = &job.source {
        checked_size(points.n as u64, points.dim as u64, job.matrix, &what)?;
    }
    if let Some((i, k)) = points.first_non_finite() {
        return Err(Failure::usage(format!(
            "{what}: row {i}, coordinate {k} is {} (every coordinate must be a finite number)",
            points.xs[i * points.dim + k]
        )));
    }
    // The power of two that keeps every squared distance in f64's range.
    let (scale, diagonal) =
        choose_scale(points).map_err(|why| Failure::usage(format!("{what}: {why}")))?;
    Ok(Shape {
        n: points.n,
        dim: points.dim,
        diagonal,
        scale,
    })
}

/// Collective: rank 0's points dealt out in contiguous blocks; this rank's
/// rows, multiplied by the scale (each rank scales its own, the same way).
pub(super) fn scatter<C: Communicator>(
    comm: &C,
    points: Option<&Points>,
    shape: &Shape,
    mine: usize,
) -> Vec<f64> {
    let Shape { n, dim, scale, .. } = *shape;
    let p = comm.size() as usize;
    let root = comm.process_at_rank(0);
    let mut rows = vec![0.0; mine * dim];
    match points {
        Some(pts) if comm.rank() == 0 => {
            let counts: Vec<i32> = (0..p)
                .map(|b| (block_range(n, p, b).len() * dim) as i32)
                .collect();
            let displs = displacements(&counts);
            let part = Partition::new(&pts.xs[..], &counts[..], &displs[..]);
            root.scatter_varcount_into_root(&part, &mut rows[..]);
        }
        _ => root.scatter_varcount_into(&mut rows[..]),
    }
    scale.apply(&mut rows);
    rows
}
