//! One round of the time loop on this rank's block: exchange the halos,
//! advance the field by `m` steps (the time-block depth at most), swap.
//! With depth 1 and `--overlap on` the inside is updated while the halo
//! messages travel, the edges after they arrived.

use mpi::traits::*;

use super::decomp::{Decomposition, Neighbours};
use super::halo::Halo;
use super::kernel::{Field, Stencil};
use super::source_term::SourceTerm;
use super::sweep::{self, Reach, Region, Team};
use super::walls::WallFill;
use crate::error::{Failure, Outcome};

/// Slabs of the inside between which an overlapped exchange is tested.
const OVERLAP_SLABS: usize = 8;

/// Seconds this rank spent updating cells and waiting for halos.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepTimes {
    pub stencil: f64,
    pub halo: f64,
}

/// How rounds are carried out on one block; fixed for the whole run.
pub struct Stepper {
    halo: Halo,
    /// Insulated and expression walls, refreshed before every step.
    walls: WallFill,
    team: Team,
    stencil: Stencil,
    /// `--source`: added to each row as the sweep computes it.
    source: Option<SourceTerm>,
    /// Sides with a neighbour (the sweep reaches into their halos).
    reach: Reach,
    /// Overlapped single steps (depth 1, asked for, something to exchange).
    pub overlap: bool,
    whole: Region,
    /// The inside in slabs (overlapped steps), and the edges after it.
    slabs: Vec<Region>,
    edges: Vec<Region>,
}

impl Stepper {
    /// For `rank`'s block of `decomp` held in fields shaped like `u`, with
    /// halos `depth` deep and `threads` threads; `walls` refreshed before
    /// each step (none when the depth is above 1: see
    /// [`super::walls::depth_note`]), and `source` added at every step.
    pub fn new(
        decomp: &Decomposition,
        walls: WallFill,
        rank: usize,
        u: &Field,
        (depth, threads, overlap): (usize, usize, bool),
        (stencil, source): (Stencil, Option<SourceTerm>),
    ) -> Outcome<Self> {
        let halo = Halo::new(decomp, rank, depth);
        let team = Team::new(threads)
            .map_err(|e| Failure::runtime(e.context("cannot start the stencil threads")))?;
        let Neighbours {
            left,
            right,
            down,
            up,
        } = decomp.neighbours(rank);
        let reach = Reach {
            down: down.is_some(),
            up: up.is_some(),
            left: left.is_some(),
            right: right.is_some(),
        };
        let (inner, edges) = sweep::split_edges(u, reach);
        let slab = inner.rows.len().div_ceil(OVERLAP_SLABS).max(1);
        let slabs = inner
            .rows
            .clone()
            .step_by(slab)
            .map(|start| Region {
                rows: start..(start + slab).min(inner.rows.end),
                cols: inner.cols.clone(),
            })
            .collect();
        assert!(
            walls.is_empty() || depth == 1,
            "changing walls need depth 1"
        );
        Ok(Self {
            walls,
            overlap: depth == 1 && overlap && !halo.is_empty(),
            halo,
            team,
            stencil,
            source,
            reach,
            whole: Region::interior(u),
            slabs,
            edges,
        })
    }

    /// Collective with the neighbours: advance `u` by `m` steps from step
    /// `from` (`un` is the scratch field), adding to `t`.
    pub fn round<C: Communicator>(
        &mut self,
        comm: &C,
        (u, un): (&mut Field, &mut Field),
        (from, m): (u64, usize),
        t: &mut StepTimes,
    ) {
        let a = mpi::time();
        if !self.walls.is_empty() {
            self.walls.refresh(u, from);
        }
        if let Some(source) = &mut self.source {
            source.prepare(from, m);
        }
        if self.overlap {
            let Self {
                halo,
                team,
                stencil,
                slabs,
                source,
                ..
            } = self;
            let source = source.as_ref().map(|s| (s, from));
            let busy = halo.exchange_during(comm, u, |u, poke| {
                let b = mpi::time();
                // The inside in a few slabs of rows, testing the messages
                // in between so they progress meanwhile.
                for part in slabs.iter() {
                    team.advance(u, un, part, (Reach::default(), 1), stencil, source);
                    poke();
                }
                mpi::time() - b
            });
            let b = mpi::time();
            for edge in &self.edges {
                self.team
                    .advance(u, un, edge, (self.reach, 1), &self.stencil, source);
            }
            let c = mpi::time();
            t.stencil += busy + (c - b);
            t.halo += (b - a) - busy;
        } else {
            self.halo.exchange(comm, u);
            let b = mpi::time();
            let source = self.source.as_ref().map(|s| (s, from));
            self.team
                .advance(u, un, &self.whole, (self.reach, m), &self.stencil, source);
            t.stencil += mpi::time() - b;
            t.halo += b - a;
        }
        std::mem::swap(u, un);
    }
}
