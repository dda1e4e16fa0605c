//! Halo exchange: refresh a block's ghost layers from its neighbours.
//!
//! Each message carries one side (or corner) of the owned cells, packed into
//! a contiguous buffer allocated once; received buffers are unpacked into
//! the ghosts after all messages completed. Because MPI only ever touches
//! these buffers, the field itself is free while messages are in flight:
//! [`Halo::exchange_during`] updates the interior meanwhile (overlap).
//!
//! With `g` ghost layers (time blocking) the blocks `g` cells deep are sent,
//! including the corners to the diagonal neighbours, which a 5-point
//! stencil reaches after two steps. One ghost layer needs no corners.
//! All messages are non-blocking and posted together, so no ordering
//! between neighbours can deadlock. Walls have no neighbour: their ghosts
//! keep the boundary values (or `super::walls` refreshes them). Periodic
//! walls do: the rank at the other end of the axis, or this rank itself
//! when it is alone on it; every message's tag is its direction, so two
//! links to the same rank (or to itself) never take each other's message.

use std::ops::Range;

use mpi::traits::*;

use super::decomp::Decomposition;
use super::kernel::Field;

/// One side or corner: where the neighbour is, what we send it and which
/// ghosts its message fills.
struct Link {
    rank: i32,
    /// Tag of what we send: the direction it travels.
    send_tag: i32,
    /// Tag of what we receive: the opposite direction.
    recv_tag: i32,
    send_rows: Range<usize>,
    send_cols: Range<usize>,
    recv_rows: Range<usize>,
    recv_cols: Range<usize>,
    send: Vec<f64>,
    recv: Vec<f64>,
}

/// Direction of travel `(dx, dy)` as a message tag (see `crate::tags`).
fn tag(dx: isize, dy: isize) -> i32 {
    crate::tags::HALO + ((dy + 1) * 3 + (dx + 1)) as i32
}

/// Reusable buffers for the exchange of one block.
pub struct Halo {
    links: Vec<Link>,
}

impl Halo {
    /// The exchange of `rank`'s block of `decomp` in a field with `g` ghost
    /// layers. The caller ensures every block is at least `g` cells wide
    /// and tall (the owned cells sent must exist).
    pub fn new(decomp: &Decomposition, rank: usize, g: usize) -> Self {
        let block = decomp.block(rank);
        let (nx, ny) = (block.nx(), block.ny());
        assert!(
            g >= 1 && g <= nx && g <= ny,
            "ghost depth {g} for a {nx}x{ny} block"
        );
        // Along one axis: the owned cells sent toward side d, and the
        // ghosts filled from side d (storage indices).
        let send = |d: isize, n: usize| match d {
            -1 => g..2 * g,
            0 => g..g + n,
            _ => n..n + g,
        };
        let recv = |d: isize, n: usize| match d {
            -1 => 0..g,
            0 => g..g + n,
            _ => g + n..2 * g + n,
        };
        let mut links = Vec::new();
        for dy in -1..=1isize {
            for dx in -1..=1isize {
                let corner = dx != 0 && dy != 0;
                if (dx, dy) == (0, 0) || (corner && g == 1) {
                    continue;
                }
                let Some(r) = decomp.neighbour_at(rank, dx, dy) else {
                    continue;
                };
                let (send_rows, send_cols) = (send(dy, ny), send(dx, nx));
                let (recv_rows, recv_cols) = (recv(dy, ny), recv(dx, nx));
                links.push(Link {
                    rank: r as i32,
                    send_tag: tag(dx, dy),
                    recv_tag: tag(-dx, -dy),
                    send: vec![0.0; send_rows.len() * send_cols.len()],
                    recv: vec![0.0; recv_rows.len() * recv_cols.len()],
                    send_rows,
                    send_cols,
                    recv_rows,
                    recv_cols,
                });
            }
        }
        Self { links }
    }

    /// Collective with the neighbours: fill `field`'s ghosts.
    pub fn exchange<C: Communicator>(&mut self, comm: &C, field: &mut Field) {
        self.exchange_during(comm, field, |_, _| ());
    }

    /// Does this block have any neighbour to exchange with?
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// Collective with the neighbours: fill `field`'s ghosts, running
    /// `work` on the (unchanged) field while the messages are in flight.
    /// Its result is returned once the ghosts are filled.
    ///
    /// MPI libraries without a progress thread (OpenMPI's default) move a
    /// large message on only while the program is inside an MPI call, so
    /// `work` gets a `poke` to call now and then from this thread: it
    /// tests the pending requests, which lets the transfers advance.
    pub fn exchange_during<C: Communicator, R>(
        &mut self,
        comm: &C,
        field: &mut Field,
        work: impl FnOnce(&Field, &mut dyn FnMut()) -> R,
    ) -> R {
        let w = field.stride();
        for l in &mut self.links {
            copy_out(field.as_slice(), w, &l.send_rows, &l.send_cols, &mut l.send);
        }
        let result = mpi::request::scope(|scope| {
            let mut pending = Vec::with_capacity(2 * self.links.len());
            for l in &mut self.links {
                let p = comm.process_at_rank(l.rank);
                pending.push(Some(p.immediate_receive_into_with_tag(
                    scope,
                    &mut l.recv[..],
                    l.recv_tag,
                )));
                pending.push(Some(p.immediate_send_with_tag(
                    scope,
                    &l.send[..],
                    l.send_tag,
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
        let d = field.as_mut_slice();
        for l in &self.links {
            copy_in(&l.recv, d, w, &l.recv_rows, &l.recv_cols);
        }
        result
    }
}

/// Pack rows × cols of a row-major buffer of row length `w` into `out`.
fn copy_out(src: &[f64], w: usize, rows: &Range<usize>, cols: &Range<usize>, out: &mut [f64]) {
    let n = cols.len();
    for (j, chunk) in rows.clone().zip(out.chunks_exact_mut(n)) {
        chunk.copy_from_slice(&src[j * w + cols.start..j * w + cols.end]);
    }
}

/// Unpack `packed` into rows × cols of a row-major buffer of row length `w`.
fn copy_in(packed: &[f64], dst: &mut [f64], w: usize, rows: &Range<usize>, cols: &Range<usize>) {
    let n = cols.len();
    for (j, chunk) in rows.clone().zip(packed.chunks_exact(n)) {
        dst[j * w + cols.start..j * w + cols.end].copy_from_slice(chunk);
    }
}
