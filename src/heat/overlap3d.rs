//! One 3D step on this rank's block, its halo exchange overlapped with the
//! update (`--overlap on`, the default) or before it (`off`).
//!
//! Overlapped: the cells that read no ghost from a neighbour (the inside)
//! are updated while the face messages travel, in a few slabs of planes
//! with the messages tested in between (an MPI without a progress thread
//! moves a large message on only inside an MPI call), and the one-cell
//! layers along the faces with a neighbour once the ghosts have arrived.
//! Each cell is computed by [`kernel3d::update_box`] from the same seven
//! values either way, so the result is the same bits.

use mpi::traits::*;

use super::decomp3d::{Decomposition3, FACES};
use super::halo3d::Halo3;
use super::kernel3d::{self, Added, Box3, Field3, Stencil3};

/// Slabs of the inside between which an overlapped exchange is tested.
const OVERLAP_SLABS: usize = 8;

/// The inside of a block of interior extents `n` (storage indices) and the
/// layers along the faces with a neighbour (`reach`, in
/// [`FACES`]' order), which together cover the interior once: the z
/// layers whole, the y layers between them, the x layers between those.
pub fn split(n: [usize; 3], reach: [bool; 6]) -> (Box3, Vec<Box3>) {
    let mut inner = kernel3d::interior_box(n);
    let mut edges = Vec::new();
    // z first: its layers are whole planes, contiguous in memory.
    for axis in [2, 1, 0] {
        let (lo, hi) = (reach[2 * axis], reach[2 * axis + 1]);
        let r = inner[axis].clone();
        if lo && !r.is_empty() {
            let mut e = inner.clone();
            e[axis] = r.start..r.start + 1;
            edges.push(e);
            inner[axis].start += 1;
        }
        let r = inner[axis].clone();
        if hi && !r.is_empty() {
            let mut e = inner.clone();
            e[axis] = r.end - 1..r.end;
            edges.push(e);
            inner[axis].end -= 1;
        }
    }
    (inner, edges)
}

/// How each step is carried out on one block; fixed for the whole run.
pub struct Stepper3 {
    halo: Halo3,
    threads: usize,
    /// Overlapped steps (asked for, and a neighbour to exchange with).
    pub overlap: bool,
    /// The inside in slabs of planes, and the face layers after it.
    slabs: Vec<Box3>,
    edges: Vec<Box3>,
}

/// Seconds this rank spent updating cells and waiting for halos.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepTimes3 {
    pub stencil: f64,
    pub halo: f64,
}

impl Stepper3 {
    /// For `rank`'s block of `decomp`, with `threads` threads.
    pub fn new(decomp: &Decomposition3, rank: usize, threads: usize, overlap: bool) -> Self {
        let halo = Halo3::new(decomp, rank);
        let b = decomp.block(rank);
        let reach = decomp.neighbours(rank).map(|nb| nb.is_some());
        debug_assert_eq!(FACES.len(), reach.len());
        let (inner, edges) = split([b.nx(), b.ny(), b.nz()], reach);
        let ks = inner[2].clone();
        let per = ks.len().div_ceil(OVERLAP_SLABS).max(1);
        let slabs = ks
            .clone()
            .step_by(per)
            .map(|k| {
                let mut s = inner.clone();
                s[2] = k..(k + per).min(ks.end);
                s
            })
            .collect();
        Self {
            overlap: overlap && !halo.is_empty(),
            halo,
            threads,
            slabs,
            edges,
        }
    }

    /// Collective with the neighbours: one step of `u` into `un` (then
    /// swapped), a source's term added if any, adding to `t`.
    pub fn step<C: Communicator>(
        &mut self,
        comm: &C,
        (u, un): (&mut Field3, &mut Field3),
        how: (&Stencil3, Added),
        t: &mut StepTimes3,
    ) {
        let a = mpi::time();
        if self.overlap {
            let (slabs, threads) = (&self.slabs, self.threads);
            let busy = self.halo.exchange_during(comm, u, |u, poke| {
                let b = mpi::time();
                for slab in slabs {
                    kernel3d::update_box(u, un, slab, how, threads);
                    poke();
                }
                mpi::time() - b
            });
            let b = mpi::time();
            for edge in &self.edges {
                kernel3d::update_box(u, un, edge, how, self.threads);
            }
            let c = mpi::time();
            t.stencil += busy + (c - b);
            t.halo += (b - a) - busy;
        } else {
            self.halo.exchange(comm, u);
            let b = mpi::time();
            kernel3d::step(u, un, how.0, self.threads, how.1);
            t.stencil += mpi::time() - b;
            t.halo += b - a;
        }
        std::mem::swap(u, un);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A field whose every value (ghosts too) differs.
    fn irregular(n: [usize; 3]) -> Field3 {
        let mut u = Field3::zeros(n[0], n[1], n[2]);
        for (k, v) in u.as_mut_slice().iter_mut().enumerate() {
            *v = 50.0 + 30.0 * (k as f64 * 0.618).sin();
        }
        u
    }

    #[test]
    fn the_split_covers_the_interior_once_and_gives_the_same_bits() {
        let st = Stencil3::new([0.11, 0.17, 0.09]);
        for n in [[6, 5, 7], [1, 4, 3], [3, 1, 1], [2, 2, 2], [9, 3, 1]] {
            let u = irregular(n);
            let mut want = u.clone();
            kernel3d::step(&u, &mut want, &st, 1, None);
            for bits in 0..64u32 {
                let reach: [bool; 6] = std::array::from_fn(|f| bits >> f & 1 == 1);
                let (inner, edges) = split(n, reach);
                let mut count = vec![0u8; u.as_slice().len()];
                for b in std::iter::once(&inner).chain(&edges) {
                    for k in b[2].clone() {
                        for j in b[1].clone() {
                            for i in b[0].clone() {
                                count[u.at(i, j, k)] += 1;
                            }
                        }
                    }
                }
                let interior = kernel3d::interior_box(n);
                for (a, &c) in count.iter().enumerate() {
                    let (row, plane) = u.strides();
                    let [i, j, k] = [a % row, a / row % (n[1] + 2), a / plane];
                    let inside = interior.iter().zip([i, j, k]).all(|(r, x)| r.contains(&x));
                    assert_eq!(c, u8::from(inside), "{n:?} {reach:?} at {:?}", [i, j, k]);
                }
                // Inner cells read no ghost of a face with a neighbour.
                for axis in 0..3 {
                    let r = &inner[axis];
                    if !r.is_empty() {
                        assert!(!reach[2 * axis] || r.start > 1);
                        assert!(!reach[2 * axis + 1] || r.end <= n[axis]);
                    }
                }
                for threads in [1, 3] {
                    let mut got = u.clone();
                    for b in std::iter::once(&inner).chain(&edges) {
                        kernel3d::update_box(&u, &mut got, b, (&st, None), threads);
                    }
                    assert_eq!(got, want, "{n:?} {reach:?} {threads} threads");
                }
            }
        }
    }
}
