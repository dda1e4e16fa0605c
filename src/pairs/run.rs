//! `parsim pairs`: all pairs of N points on the driver, by the
//! travelling-block ring. Rank 0 reads (or makes) the points and deals out
//! contiguous blocks, which each rank multiplies by the power of two that
//! keeps squared distances in f64's range (`super::range`; distances are
//! unscaled, exactly, on the way out); each rank meets its own block, then the blocks up to
//! P/2 places ahead as they pass around the ring (the next block in flight
//! while this one is met: one round per step), so each pair of points is
//! met once. Nearest neighbours and histogram counts are reduced to rank 0;
//! with `--matrix` each rank's rows of the distance matrix are completed by
//! one all-to-all of the transposed tiles, and rank 0 writes them strip by
//! strip. With `--rmax` and the tree, the histogram of the pairs closer
//! than R is counted over a grid of cells (`super::cells`), every rank
//! holding all the points and counting a run of the cells.
//!
//! ```text
//! /pairs  attrs: n, dim, source, bins, diagonal, closest_i, closest_j,
//!                closest_distance, sampled_rows, passed; with --rmax:
//!                rmax, pairs_beyond_rmax
//!   points            f64 [n, dim]   the points
//!   nearest           u64 [n]        each point's nearest neighbour (ties:
//!                                    the smaller index)
//!   nearest_distance  f64 [n]        and its distance
//!   histogram         u64 [bins]     pair distances in bins over [0, diagonal]
//!                                    (--rmax R: [0, R], the pairs closer than R)
//!   bin_edges         f64 [bins + 1]
//!   distance          f64 [n, n]     with --matrix
//!   point, axis, other, distance_bin  the axes (dimension scales; bins:
//!                                     their centres)
//! ```

use std::sync::Arc;

use mpi::datatype::{Partition, PartitionMut};
use mpi::traits::*;

use super::cells::Grid;
use super::check::Combined;
use super::check::{combine, judge, total_pairs};
use super::input::{broadcast_all, load, scatter};
use super::kernel::{
    block_at, block_range, piece, ring_steps, Columns, Histogram, Nearest, Points, Tally,
};
use super::layout::{write_matrix, Layout};
use super::meet::meet;
use super::plan::{need, need_tree, Algorithm, PairsPlan, PointsFrom, Shape};
use super::report::{pairs_text, source_name, PairsReport};
use super::report::{Closest, PairsCheck, PairsPhases};
use super::tree::Tree;
use crate::driver::{After, Clock, Position, Printed, Workload};
use crate::error::{Failure, Outcome};
use crate::h5::{ResultFile, RunMeta};
use crate::par;
use crate::par::displacements;
use crate::progress::Meter;
use crate::report::RunInfo;
use crate::result::{create_result, finish};
use crate::stop::StopSignal;
use crate::tags::PAIRS_RING;

/// Collective: `parsim pairs`.
pub fn run<C: Communicator>(
    world: &C,
    job: &PairsPlan,
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let (shape, points) = load(world, job)?;
    let run = PairsRun::new(world, job, shape, points, meta)?;
    crate::driver::run(run, stop, &job.out)
}

pub struct PairsRun<'a, C: Communicator> {
    pub(super) comm: &'a C,
    pub(super) job: &'a PairsPlan,
    pub(super) shape: Shape,
    pub(super) version: &'static str,
    file: Option<ResultFile>,
    /// Rank 0: every point (for the checks and the file).
    points: Option<Arc<Points>>,
    /// `--algorithm tree`: one round, every rank all the points in `rows`.
    tree: bool,
    /// This rank's block: global range, rows (row-major).
    own: std::ops::Range<usize>,
    rows: Vec<f64>,
    /// The block held at the current step.
    held: Columns,
    step: usize,
    nearest: Nearest,
    histogram: Option<Histogram>,
    /// This rank's rows of the matrix (`--matrix`).
    strip: Vec<f64>,
    buf: Vec<f64>,
    pairs: u64,
    /// Pairs the cells counted in bulk (`--rmax` with the tree).
    bulk: u64,
    pub(super) t_compute: f64,
    pub(super) t_wait: f64,
    pub(super) t_transpose: f64,
    /// Of `t_compute`, the tree's (and the cells') build: every rank
    /// builds them over all the points, so more ranks do not shorten it.
    t_build: f64,
}

impl<'a, C: Communicator> PairsRun<'a, C> {
    /// Collective: check memory, create the result file (rank 0), deal out
    /// the blocks.
    fn new(
        comm: &'a C,
        job: &'a PairsPlan,
        shape: Shape,
        points: Option<Arc<Points>>,
        meta: &RunMeta,
    ) -> Outcome<Self> {
        let (p, r) = (comm.size() as usize, comm.rank() as usize);
        let Shape { n, .. } = shape;
        let tree = job.algorithm == Algorithm::Tree;
        let own = block_range(n, p, r);
        let (bytes, what) = match tree {
            false => (
                need(&shape, p, r, job.matrix),
                "points, blocks and matrix rows",
            ),
            true => (
                need_tree(&shape, r, job.rmax.is_some()),
                "every point and the tree",
            ),
        };
        let histogram = histogram(job, &shape)?;
        crate::par::check_memory(comm, bytes, what)?;
        let file = create_result(comm, job.out.path.as_deref(), job.out.force, meta)?;
        let (rows, held) = if tree {
            let all = broadcast_all(comm, points.as_deref(), &shape);
            (all, Columns::default())
        } else {
            let rows = scatter(comm, points.as_deref(), &shape, own.len());
            let held = Columns::from_rows(own.start, shape.dim, &rows);
            (rows, held)
        };
        Ok(Self {
            comm,
            job,
            shape,
            version: meta.version,
            file,
            points,
            tree,
            own: own.clone(),
            rows,
            held,
            step: 0,
            nearest: Nearest::new(n),
            histogram,
            strip: vec![0.0; if job.matrix { own.len() * n } else { 0 }],
            buf: Vec::new(),
            pairs: 0,
            bulk: 0,
            t_compute: 0.0,
            t_wait: 0.0,
            t_transpose: 0.0,
            t_build: 0.0,
        })
    }

    /// Meet `held` (the block held at this step) as the step's piece says.
    fn meet_block(&mut self, held: &Columns) {
        let (p, r) = (self.comm.size() as usize, self.comm.rank() as usize);
        let Some(pc) = piece(p, r, self.step, self.own.len(), held.n) else {
            return;
        };
        let a = mpi::time();
        let mut tally = Tally {
            nearest: &mut self.nearest,
            histogram: self.histogram.as_mut(),
            strip: self.job.matrix.then_some(&mut self.strip[..]),
            n_total: self.shape.n,
        };
        meet(
            &self.rows,
            self.own.start,
            held,
            &pc,
            &mut tally,
            &mut self.buf,
        );
        self.pairs += pc.pairs();
        self.t_compute += mpi::time() - a;
    }

    /// Meet the held block while it travels on: sent left as the next one
    /// arrives from the right.
    fn meet_and_pass(&mut self) {
        let (p, r) = (self.comm.size() as usize, self.comm.rank() as usize);
        let range = block_range(self.shape.n, p, block_at(p, r, self.step + 1));
        let mut next = Columns::empty(range.start, range.len(), self.shape.dim);
        let left = self.comm.process_at_rank(((r + p - 1) % p) as i32);
        let right = self.comm.process_at_rank(((r + 1) % p) as i32);
        let held = std::mem::take(&mut self.held);
        mpi::request::scope(|sc| {
            let recv = right.immediate_receive_into_with_tag(sc, &mut next.data[..], PAIRS_RING);
            let send = left.immediate_send_with_tag(sc, &held.data[..], PAIRS_RING);
            self.meet_block(&held);
            let a = mpi::time();
            recv.wait();
            send.wait();
            self.t_wait += mpi::time() - a;
        });
        self.held = next;
    }

    /// The tree's one round: every rank builds the tree of all the points
    /// (the same on each), then finds the neighbours of its own range of
    /// leaves along the curve.
    fn tree_round(&mut self) {
        let a = mpi::time();
        let (p, r) = (self.comm.size() as usize, self.comm.rank() as usize);
        let tree = Tree::new(&self.rows, self.shape.dim);
        self.t_build += mpi::time() - a;
        let mine = crate::partition::split_range(tree.leaves(), p, r);
        self.pairs += tree.nearest(mine, &mut self.nearest);
        drop(tree);
        let rmax = self.histogram.as_ref().and_then(Histogram::rmax);
        if let (Some(h), Some(rmax)) = (self.histogram.as_mut(), rmax) {
            // --rmax: the pairs closer than R over the grid of cells.
            let b = mpi::time();
            let grid = Grid::new(&self.rows, self.shape.dim, rmax);
            self.t_build += mpi::time() - b;
            let (computed, bulk) = grid.count(grid.share(p, r), h);
            self.pairs += computed;
            self.bulk += bulk;
        }
        self.t_compute += mpi::time() - a;
    }

    /// Rounds in all: the ring's steps, or the tree's one.
    fn rounds(&self) -> usize {
        if self.tree {
            1
        } else {
            ring_steps(self.comm.size() as usize) + 1
        }
    }

    /// Meet the held block (the last step: nothing travels on).
    fn meet_last(&mut self) {
        let held = std::mem::take(&mut self.held);
        self.meet_block(&held);
        self.held = held;
    }

    /// Collective (`--matrix`): every rank's tiles of other blocks,
    /// transposed, to the rank whose rows they are, so each strip is whole.
    fn complete_strip(&mut self) {
        let a = mpi::time();
        let (p, r) = (self.comm.size() as usize, self.comm.rank() as usize);
        let n = self.shape.n;
        let block = |b: usize| block_range(n, p, b);
        // What rank `from` computed against block `to`'s points, if anything.
        let tile = |from: usize, to: usize| {
            let s = (to + p - from) % p;
            (s > 0)
                .then(|| piece(p, from, s, block(from).len(), block(to).len()))
                .flatten()
        };
        let mut send = Vec::new();
        let mut send_counts = vec![0i32; p];
        for (to, count) in send_counts.iter_mut().enumerate() {
            if let Some(t) = tile(r, to) {
                let cols = block(to);
                for j in t.cols.clone() {
                    send.extend(t.rows.clone().map(|i| self.strip[i * n + cols.start + j]));
                }
                *count = (t.rows.len() * t.cols.len()) as i32;
            }
        }
        let recv_counts: Vec<i32> = (0..p)
            .map(|from| tile(from, r).map_or(0, |t| (t.rows.len() * t.cols.len()) as i32))
            .collect();
        let mut recv = vec![0.0; recv_counts.iter().map(|&c| c as usize).sum()];
        {
            let sd = displacements(&send_counts);
            let rd = displacements(&recv_counts);
            let s = Partition::new(&send[..], &send_counts[..], &sd[..]);
            let mut rv = PartitionMut::new(&mut recv[..], &recv_counts[..], &rd[..]);
            self.comm.all_to_all_varcount_into(&s, &mut rv);
        }
        // From rank `from`: its rows t.rows against my points t.cols, as my
        // rows t.cols against its points t.rows.
        let mut at = 0;
        for from in 0..p {
            if let Some(t) = tile(from, r) {
                let theirs = block(from);
                for j in t.cols.clone() {
                    for i in t.rows.clone() {
                        self.strip[j * n + theirs.start + i] = recv[at];
                        at += 1;
                    }
                }
            }
        }
        self.t_transpose += mpi::time() - a;
    }
}

impl<C: Communicator> Workload for PairsRun<'_, C> {
    type Comm = C;
    type Report = PairsReport;
    const NAME: &'static str = "pairs";
    const JUDGED: &'static str = "the result";

    fn trace_phases(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("meet", self.t_compute),
            ("wait for the next block", self.t_wait),
            ("transpose", self.t_transpose),
        ]
    }

    fn comm(&self) -> &C {
        self.comm
    }

    fn meter(&self) -> Meter {
        let steps = self.rounds() as u64;
        let n = self.shape.n as f64;
        Meter {
            label: "pairs",
            total: steps,
            unit: if self.tree { "tree" } else { "ring step" },
            work_per_unit: n * (n - 1.0) / 2.0 / steps as f64,
            rate_name: "Mpairs/s",
        }
    }

    fn position(&self) -> Position {
        Position {
            done: self.step as u64,
            total: self.rounds() as u64,
        }
    }

    fn rounds_left(&self) -> bool {
        self.step < self.rounds()
    }

    fn advance(&mut self) -> Outcome<After> {
        let last = ring_steps(self.comm.size() as usize);
        if self.tree {
            self.tree_round();
        } else if self.step < last {
            self.meet_and_pass();
        } else {
            self.meet_last();
        }
        self.step += 1;
        if !self.tree && self.step > last && self.job.matrix {
            self.complete_strip();
            // The matrix in the points' own units (exactly: `range`).
            self.shape.scale.apply_back(&mut self.strip);
        }
        Ok(After::Check { fault: false })
    }

    fn fault(&self) -> Failure {
        Failure::runtime(anyhow::anyhow!("pairs: a rank reported a fault"))
    }

    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<PairsReport>> {
        let t1 = mpi::time();
        let mut all = combine(
            self.comm,
            &self.nearest,
            self.histogram.as_ref(),
            (self.pairs, self.bulk),
        );
        if self.tree && self.comm.rank() == 0 && self.job.rmax.is_some() {
            // The cells never meet the pairs beyond R: those not binned.
            all.beyond = total_pairs(self.shape.n) - all.counts.iter().sum::<u64>();
        }
        let file = self.file.take();
        let matrix = write_matrix(
            self.comm,
            file.as_ref(),
            &self.strip,
            self.points.as_deref(),
            self.shape,
            // The same on every rank: rank 0 holds the file exactly when a
            // path was given (its creation was agreed on).
            self.job.matrix && self.job.out.path.is_some(),
        )?;
        // Rank 0's verdict (the others report defaults; only rank 0 prints).
        let check = self.points.as_deref().map(|pts| {
            let mut c = judge(pts, self.shape.scale, &all, self.job.bins > 0);
            (c.matrix_rows_checked, c.matrix_ok) = matrix;
            c
        });
        let passed = check
            .as_ref()
            .is_none_or(|c| c.passed((!self.tree).then(|| total_pairs(self.shape.n))));
        let back = self.shape.scale.back();
        let nn_dist: Vec<f64> = all.nearest.d2.iter().map(|d| d.sqrt() * back).collect();
        let check = check.unwrap_or_default();
        let source = source_name(&self.job.source);
        let report = |gather_io: f64, output: Option<String>| {
            let judged = Judged {
                all: &all,
                nn_dist: &nn_dist,
                check: &check,
                passed,
            };
            self.report(&judged, clock.wall, gather_io, output)
        };
        let r = finish(
            self.comm,
            file,
            t1,
            self.job.out.path.as_deref(),
            report,
            |f| {
                let layout = Layout {
                    points: self.points.as_deref().expect("rank 0 has the points"),
                    all: &all,
                    nn_dist: &nn_dist,
                    diagonal: self.shape.diagonal,
                    rmax: self.job.rmax,
                    scale: self.shape.scale,
                    source: &source,
                    units: match self.job.source {
                        PointsFrom::Generated { .. } => "1",
                        PointsFrom::File(..) => "as the input file's coordinates",
                    },
                    passed,
                };
                layout.write(f)
            },
        )?;
        Ok(Printed {
            text: pairs_text(&r),
            report: r,
            passed,
        })
    }
}

/// The histogram a run keeps, over the scaled diagonal or R as the
/// distances it bins are scaled; none with `--bins 0`. R scaled must stay a
/// normal number, and B / R finite (else a one-line usage error on every
/// rank, before the output file is touched).
fn histogram(job: &PairsPlan, shape: &Shape) -> Outcome<Option<Histogram>> {
    let (bins, unit) = (job.bins as usize, shape.scale.unit());
    if bins == 0 {
        return Ok(None);
    }
    let Some(r) = job.rmax else {
        return Ok(Some(Histogram::new(bins, shape.diagonal * unit)));
    };
    let scaled = r * unit;
    if !(scaled.is_normal() && (bins as f64 / scaled).is_finite()) {
        return Err(Failure::usage(format!(
            "--rmax {r:e}: out of range for these points (they are met scaled by 2^{}, and R \
             with them leaves f64's normal range or makes B / R overflow)",
            shape.scale.k
        )));
    }
    Ok(Some(Histogram::within(bins, scaled)))
}

/// What rank 0 concluded at the end of the ring (empty elsewhere): the
/// reduced results, each point's nearest distance, the checks, the verdict.
struct Judged<'a> {
    all: &'a Combined,
    nn_dist: &'a [f64],
    check: &'a PairsCheck,
    passed: bool,
}

impl<C: Communicator> PairsRun<'_, C> {
    /// Collective (the phases' spreads): the report, from rank 0's
    /// conclusions and this rank's times.
    fn report(
        &self,
        judged: &Judged,
        wall: f64,
        gather_io: f64,
        output: Option<String>,
    ) -> PairsReport {
        let Judged {
            all,
            nn_dist,
            check,
            passed,
        } = *judged;
        let [compute, ring_wait, transpose, gather_io] = par::spreads(
            self.comm,
            [self.t_compute, self.t_wait, self.t_transpose, gather_io],
        );
        let Shape {
            n,
            dim,
            diagonal,
            scale,
        } = self.shape;
        let pairs = total_pairs(n);
        PairsReport {
            run: RunInfo::new("pairs", self.version, self.comm.size() as usize),
            algorithm: self.job.algorithm.name(),
            source: source_name(&self.job.source),
            n,
            dim,
            pairs,
            bins: self.job.bins as usize,
            matrix: self.job.matrix,
            diagonal,
            closest: all
                .closest
                .map_or_else(Closest::default, |(i, j, d)| Closest {
                    i,
                    j,
                    distance: d.sqrt() * scale.back(),
                }),
            // Added up scaled (exactly): N distances near 1e308 would
            // overflow. For k = 0 the plain mean's bits.
            mean_nearest_distance: nn_dist.iter().map(|d| d * scale.unit()).sum::<f64>() / n as f64
                * scale.back(),
            histogram_total: all.counts.iter().sum(),
            rmax: self.job.rmax,
            histogram_beyond: all.beyond,
            histogram_bulk: all.bulk,
            check: check.clone(),
            passed,
            tree_build_s: self.tree.then_some(self.t_build),
            wall_time_s: wall,
            pairs_per_s: pairs as f64 / wall,
            terms_per_s: pairs as f64 * dim as f64 / wall,
            phases: PairsPhases {
                compute,
                ring_wait,
                transpose,
                gather_io,
            },
            output,
        }
    }
}
