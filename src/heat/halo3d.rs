//! The 3D halo exchange: each of a block's six faces that has a neighbour
//! sends its outermost layer of owned cells and receives the neighbour's
//! into its ghost layer. The 7-point stencil reads no edge or corner
//! ghosts, so faces are enough for one step per exchange; a time block of
//! `g` steps exchanges `g` layers axis by axis ([`Halo3::deep`]), whose
//! sweep does read edges and corners.
//!
//! Every face is packed into a contiguous buffer allocated once (a z face
//! is contiguous rows, a y face rows a plane apart, an x face single
//! values a row apart), all messages are posted non-blocking at once (no
//! ordering between neighbours can deadlock), and the buffers are
//! unpacked once all completed. Each message's tag is the face it leaves
//! through (its direction), as the 2D exchange's tags are. Because MPI
//! only touches those buffers, the field can be updated while messages
//! travel ([`Halo3::exchange_during`], `super::overlap3d`).

use std::ops::Range;

use mpi::traits::*;

use super::decomp3d::{Decomposition3, FACES};
use super::kernel3d::Field3;

/// One face with a neighbour.
struct Link {
    rank: i32,
    /// The face it sends through (index into [`FACES`]): its tag.
    face: usize,
    /// Storage ranges `[i, j, k]` sent and received.
    send_at: [Range<usize>; 3],
    recv_at: [Range<usize>; 3],
    send: Vec<f64>,
    recv: Vec<f64>,
}

/// The tag of a message travelling through `face` of its sender.
fn tag(face: usize) -> i32 {
    crate::tags::HALO_3D + face as i32
}

/// Reusable buffers for the exchange of one block.
pub struct Halo3 {
    links: Vec<Link>,
}

impl Halo3 {
    /// The exchange of `rank`'s block of `decomp`: its six faces at once,
    /// one layer deep.
    pub fn new(decomp: &Decomposition3, rank: usize) -> Self {
        Self::faces(decomp, rank, 1, &[0, 1, 2], false)
    }

    /// A time block's exchange, `g` layers deep, in three rounds (run one
    /// after the other): the x faces, then the y faces with the x ghosts
    /// they now hold, then the z faces with both, so the edges and corners
    /// a sweep of several steps reads arrive with them.
    pub fn deep(decomp: &Decomposition3, rank: usize, g: usize) -> [Self; 3] {
        [0, 1, 2].map(|axis| Self::faces(decomp, rank, g, &[axis], true))
    }

    /// The faces across `axes` with a neighbour, `g` layers deep; with
    /// `ghosts`, the layers span the ghosts of the axes before theirs.
    fn faces(decomp: &Decomposition3, rank: usize, g: usize, axes: &[usize], ghosts: bool) -> Self {
        let b = decomp.block(rank);
        let n = [b.nx(), b.ny(), b.nz()];
        let links = (decomp.neighbours(rank).into_iter().enumerate())
            .filter(|(face, _)| axes.contains(&FACES[*face].0))
            .filter_map(|(face, nb)| {
                let (axis, side) = FACES[face];
                let first = |ghost: bool| match (side, ghost) {
                    (-1, false) => g,
                    (-1, true) => 0,
                    (_, false) => n[axis],
                    (_, true) => n[axis] + g,
                };
                let ranges = |ghost: bool| {
                    let mut r: [Range<usize>; 3] =
                        std::array::from_fn(|a| match a < axis && ghosts {
                            true => 0..n[a] + 2 * g,
                            false => g..g + n[a],
                        });
                    r[axis] = first(ghost)..first(ghost) + g;
                    r
                };
                let send_at = ranges(false);
                let cells = send_at.iter().map(|r| r.len()).product();
                Some(Link {
                    rank: nb? as i32,
                    face,
                    send_at,
                    recv_at: ranges(true),
                    send: vec![0.0; cells],
                    recv: vec![0.0; cells],
                })
            })
            .collect();
        Self { links }
    }

    /// Collective with the neighbours: fill `field`'s face ghosts.
    pub fn exchange<C: Communicator>(&mut self, comm: &C, field: &mut Field3) {
        self.exchange_during(comm, field, |_, _| ());
    }

    /// Does this block have any neighbour to exchange with?
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Collective with the neighbours: fill `field`'s face ghosts, running
    /// `work` on the (unchanged) field while the messages travel; its
    /// result is returned once the ghosts are filled. MPI only touches the
    /// packed buffers, so the field is free meanwhile. `work` gets a `poke`
    /// to call now and then: it tests the requests, which moves large
    /// messages on in an MPI without a progress thread (as 2D's
    /// [`super::halo::Halo::exchange_during`]).
    pub fn exchange_during<C: Communicator, R>(
        &mut self,
        comm: &C,
        field: &mut Field3,
        work: impl FnOnce(&Field3, &mut dyn FnMut()) -> R,
    ) -> R {
        for l in &mut self.links {
            copy(field, &l.send_at, |dst_k, src| {
                l.send[dst_k..dst_k + src.len()].copy_from_slice(src)
            });
        }
        let result = mpi::request::scope(|scope| {
            let mut pending = Vec::with_capacity(2 * self.links.len());
            for l in &mut self.links {
                let p = comm.process_at_rank(l.rank);
                // What arrives through our face `f` left the neighbour
                // through its opposite face, `f ^ 1`.
                pending.push(Some(p.immediate_receive_into_with_tag(
                    scope,
                    &mut l.recv[..],
                    tag(l.face ^ 1),
                )));
                pending.push(Some(p.immediate_send_with_tag(
                    scope,
                    &l.send[..],
                    tag(l.face),
                )));
            }
            let mut poke = || {
                for slot in pending.iter_mut() {
                    if let Some(request) = slot.take() {
                        *slot = request.test().err();
                    }
                }
            };
            let result = work(field, &mut poke);
            for request in pending.into_iter().flatten() {
                request.wait();
            }
            result
        });
        for l in &self.links {
            let (row, plane) = field.strides();
            let [ri, rj, rk] = &l.recv_at;
            let (w, mut at) = (ri.len(), 0);
            let d = field.as_mut_slice();
            for k in rk.clone() {
                for j in rj.clone() {
                    let a = k * plane + j * row + ri.start;
                    d[a..a + w].copy_from_slice(&l.recv[at..at + w]);
                    at += w;
                }
            }
        }
        result
    }
}

/// Walk the box `r` of `field` row segment by row segment (x fastest),
/// handing each segment and its offset in a packed buffer to `put`.
fn copy(field: &Field3, r: &[Range<usize>; 3], mut put: impl FnMut(usize, &[f64])) {
    let (row, plane) = field.strides();
    let src = field.as_slice();
    let [ri, rj, rk] = r;
    let (w, mut at) = (ri.len(), 0);
    for k in rk.clone() {
        for j in rj.clone() {
            let a = k * plane + j * row + ri.start;
            put(at, &src[a..a + w]);
            at += w;
        }
    }
}
