//! A 3D time block's round on one rank: the `m`-deep halo exchange (x
//! faces, then y, then z, so edges and corners arrive too), then one
//! sweep of `m` steps ([`super::sweep3d`]) over the block, its planes
//! shared among threads in slabs and each slab swept in bands of rows
//! whose rings fit in a core's share of the cache (whole planes when they
//! fit). MPI is called only from the calling thread.

use mpi::traits::*;

use super::decomp3d::Decomposition3;
use super::halo3d::Halo3;
use super::kernel3d::{Box3, Field3, Stencil3};
use super::overlap3d::StepTimes3;
use super::sweep3d::{band_rows, Rings, Sweep3};

/// How each round is carried out on one block; fixed for the run.
pub struct Blocked3 {
    halos: [Halo3; 3],
    nb: [bool; 6],
    threads: usize,
    /// The cache bytes a core can count on (band heights are derived
    /// from it).
    cache: usize,
    rings: Vec<Rings>,
}

impl Blocked3 {
    /// For `rank`'s block of `decomp`, fields of `depth` ghost layers.
    pub fn new(
        decomp: &Decomposition3,
        rank: usize,
        depth: usize,
        (threads, cache): (usize, usize),
    ) -> Self {
        Self {
            halos: Halo3::deep(decomp, rank, depth),
            nb: decomp.neighbours(rank).map(|n| n.is_some()),
            threads: threads.max(1),
            cache,
            rings: (0..threads.max(1)).map(|_| Rings::default()).collect(),
        }
    }

    /// Collective with the neighbours: `m` steps of `u` into `un` (then
    /// swapped), adding to `t`.
    pub fn round<C: Communicator>(
        &mut self,
        comm: &C,
        (u, un): (&mut Field3, &mut Field3),
        (st, m): (&Stencil3, usize),
        t: &mut StepTimes3,
    ) {
        let a = mpi::time();
        for h in &mut self.halos {
            h.exchange(comm, u);
        }
        let b = mpi::time();
        self.sweep(u, un, st, m);
        t.stencil += mpi::time() - b;
        t.halo += b - a;
        std::mem::swap(u, un);
    }

    /// `m` steps of `u`'s interior into `un`: a slab of planes a thread,
    /// each swept band by band.
    fn sweep(&mut self, u: &Field3, un: &mut Field3, st: &Stencil3, m: usize) {
        let inside = u.inside();
        let (row, plane) = u.strides();
        let h = band_rows(inside[1].len(), row, m - 1, self.cache);
        let parts = self.threads.min(inside[2].len());
        let (nb, zs) = (self.nb, inside[2].clone());
        let mut rest = &mut un.as_mut_slice()[zs.start * plane..];
        std::thread::scope(|s| {
            for (p, rings) in self.rings.iter_mut().enumerate().take(parts) {
                let r = crate::partition::split_range(zs.len(), parts, p);
                let (mine, tail) = std::mem::take(&mut rest).split_at_mut(r.len() * plane);
                rest = tail;
                let planes = zs.start + r.start..zs.start + r.end;
                let inside = inside.clone();
                s.spawn(move || {
                    let base = planes.start * plane;
                    for j in inside[1].clone().step_by(h) {
                        let rows = j..(j + h).min(inside[1].end);
                        let out: Box3 = [inside[0].clone(), rows, planes.clone()];
                        let sweep = Sweep3 {
                            src: u,
                            out,
                            nb,
                            m,
                            st,
                        };
                        sweep.run(mine, base, rings);
                    }
                });
            }
        });
    }
}
