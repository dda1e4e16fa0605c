//! Halo exchange: refresh a block's ghost layer from its four neighbours.
//!
//! Rows are contiguous in memory and travel straight from and into the
//! field; columns are strided, so they are packed into contiguous buffers
//! (allocated once, reused every step). All eight messages are non-blocking
//! and posted together, so no ordering between neighbours can deadlock.
//! Walls have no neighbour: their ghosts keep the boundary values.

use mpi::traits::*;

use super::decomp::Neighbours;
use super::kernel::Field;

/// Message tags name the direction a message travels, so a rank that is
/// both a sender and a receiver with the same neighbour never mixes them up.
const TAG_UP: i32 = 10;
const TAG_DOWN: i32 = 11;
const TAG_RIGHT: i32 = 12;
const TAG_LEFT: i32 = 13;

/// Reusable buffers for the exchange of one block.
pub struct Halo {
    neighbours: Neighbours,
    send_left: Vec<f64>,
    send_right: Vec<f64>,
    recv_left: Vec<f64>,
    recv_right: Vec<f64>,
}

impl Halo {
    pub fn new(neighbours: Neighbours, ny: usize) -> Self {
        let buf = |has: Option<usize>| vec![0.0; if has.is_some() { ny } else { 0 }];
        Self {
            neighbours,
            send_left: buf(neighbours.left),
            send_right: buf(neighbours.right),
            recv_left: buf(neighbours.left),
            recv_right: buf(neighbours.right),
        }
    }

    /// Collective with the four neighbours: fill `field`'s ghosts.
    pub fn exchange<C: Communicator>(&mut self, comm: &C, field: &mut Field) {
        let (nx, ny, w) = (field.nx(), field.ny(), field.stride());
        let nb = self.neighbours;
        {
            let d = field.as_slice();
            for (j, v) in self.send_left.iter_mut().enumerate() {
                *v = d[(j + 1) * w + 1];
            }
            for (j, v) in self.send_right.iter_mut().enumerate() {
                *v = d[(j + 1) * w + nx];
            }
        }

        let Self {
            send_left,
            send_right,
            recv_left,
            recv_right,
            ..
        } = self;
        let data = field.as_mut_slice();
        let (ghost_south, rest) = data.split_at_mut(w);
        let (owned, ghost_north) = rest.split_at_mut(ny * w);
        let first_row = &owned[..w];
        let last_row = &owned[(ny - 1) * w..];

        mpi::request::scope(|scope| {
            let mut requests = Vec::with_capacity(8);
            if let Some(r) = nb.down {
                let p = comm.process_at_rank(r as i32);
                requests.push(p.immediate_receive_into_with_tag(
                    scope,
                    &mut ghost_south[..],
                    TAG_UP,
                ));
                requests.push(p.immediate_send_with_tag(scope, first_row, TAG_DOWN));
            }
            if let Some(r) = nb.up {
                let p = comm.process_at_rank(r as i32);
                requests.push(p.immediate_receive_into_with_tag(
                    scope,
                    &mut ghost_north[..],
                    TAG_DOWN,
                ));
                requests.push(p.immediate_send_with_tag(scope, last_row, TAG_UP));
            }
            if let Some(r) = nb.left {
                let p = comm.process_at_rank(r as i32);
                requests.push(p.immediate_receive_into_with_tag(
                    scope,
                    &mut recv_left[..],
                    TAG_RIGHT,
                ));
                requests.push(p.immediate_send_with_tag(scope, &send_left[..], TAG_LEFT));
            }
            if let Some(r) = nb.right {
                let p = comm.process_at_rank(r as i32);
                requests.push(p.immediate_receive_into_with_tag(
                    scope,
                    &mut recv_right[..],
                    TAG_LEFT,
                ));
                requests.push(p.immediate_send_with_tag(scope, &send_right[..], TAG_RIGHT));
            }
            for request in requests {
                request.wait();
            }
        });

        let d = field.as_mut_slice();
        for (j, v) in self.recv_left.iter().enumerate() {
            d[(j + 1) * w] = *v;
        }
        for (j, v) in self.recv_right.iter().enumerate() {
            d[(j + 1) * w + nx + 1] = *v;
        }
    }
}
