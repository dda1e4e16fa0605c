//! `parsim pairs`: all pairs of N points on the driver, by the
//! travelling-block ring. Rank 0 reads (or makes) the points and deals out
//! contiguous blocks; each rank meets its own block, then the blocks up to
//! P/2 places ahead as they pass around the ring (the next block in flight
//! while this one is met: one round per step), so each pair of points is
//! met once. Nearest neighbours and histogram counts are reduced to rank 0;
//! with `--matrix` each rank's rows of the distance matrix are completed by
//! one all-to-all of the transposed tiles, and rank 0 writes them strip by
//! strip.
//!
//! ```text
//! /pairs  attrs: n, dim, source, bins, diagonal, closest_i, closest_j,
//!                closest_distance, sampled_rows, passed
//!   points            f64 [n, dim]   the points
//!   nearest           u64 [n]        each point's nearest neighbour (ties:
//!                                    the smaller index)
//!   nearest_distance  f64 [n]        and its distance
//!   histogram         u64 [bins]     pair distances in bins over [0, diagonal]
//!   bin_edges         f64 [bins + 1]
//!   distance          f64 [n, n]     with --matrix
//!   point, axis, other, distance_bin  the axes (dimension scales; bins:
//!                                     their centres)
//! ```

use mpi::collective::SystemOperation;
use mpi::datatype::{Partition, PartitionMut};
use mpi::traits::*;
use serde::{Deserialize, Serialize};

use super::kernel::{
    block_at, block_range, d2, meet, nearest_brute, piece, ring_steps, Columns, Histogram, Nearest,
    Points, Tally,
};
use super::points::PointsFile;
use crate::driver::{After, Clock, Position, Printed, Workload};
use crate::error::{Failure, Outcome};
use crate::h5::{
    label, write_along, write_axis, write_index_axis, write_num, write_str, write_table,
    ResultFile, RunMeta,
};
use crate::par::{self, displacements, Spread};
use crate::progress::Meter;
use crate::report::RunInfo;
use crate::result::{create_result, finish, output_line};
use crate::stop::StopSignal;
use crate::tags::{PAIRS_RING, PAIRS_STRIP};

/// Largest N with `--matrix`: N^2 <= i32::MAX, so every tile, strip and
/// all-to-all count fits MPI's i32 counts (the file is then at most 16 GiB).
pub const MAX_MATRIX_N: u64 = 46340;
/// Coordinates in all: a block and its padded travelling form stay within
/// MPI's i32 counts (8 GiB of points).
pub const MAX_COORDS: u64 = 1 << 30;
pub const MAX_BINS: u64 = 1 << 24;
/// Rows whose nearest neighbour rank 0 recomputes by brute force.
const SAMPLE_ROWS: usize = 32;

/// Where the points come from.
#[derive(Debug, Clone, PartialEq)]
pub enum PointsFrom {
    File(PointsFile),
    /// Uniform in [0, 1)^dim from the seed.
    Generated {
        n: u64,
        dim: u64,
        seed: u64,
    },
}

/// A checked pairs run (made by `super::options`): generated points of a
/// size the run can hold, or a file whose points are checked when rank 0
/// reads them.
#[derive(Debug, Clone)]
pub struct PairsPlan {
    pub source: PointsFrom,
    pub matrix: bool,
    pub bins: u64,
    pub out: crate::driver::Output,
}

/// What every rank knows of the points (rank 0 has them all).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct Shape {
    pub(super) n: usize,
    pub(super) dim: usize,
    pub(super) diagonal: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairsPhases {
    pub compute: Spread,
    /// Waiting for the next block of the ring.
    pub ring_wait: Spread,
    /// The all-to-all of transposed tiles (`--matrix`).
    pub transpose: Spread,
    pub gather_io: Spread,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Closest {
    pub i: u64,
    pub j: u64,
    pub distance: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PairsCheck {
    /// Pairs the ranks met, added up: N(N-1)/2 when the ring met each once.
    pub pairs_met: u64,
    /// Histogram counts add up to N(N-1)/2 (true without a histogram).
    pub counts_ok: bool,
    /// The closest pair's distance recomputed from its two points.
    pub closest_ok: bool,
    /// Sampled rows' nearest neighbours by brute force.
    pub sampled_rows: usize,
    pub samples_ok: bool,
    /// Sampled rows of the written matrix against brute force (0: none
    /// written).
    pub matrix_rows_checked: usize,
    pub matrix_ok: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairsReport {
    #[serde(flatten)]
    pub run: RunInfo,
    pub source: String,
    pub n: usize,
    pub dim: usize,
    pub pairs: u64,
    pub bins: usize,
    pub matrix: bool,
    pub diagonal: f64,
    pub closest: Closest,
    pub mean_nearest_distance: f64,
    pub histogram_total: u64,
    pub check: PairsCheck,
    pub passed: bool,
    pub wall_time_s: f64,
    pub pairs_per_s: f64,
    /// Coordinate differences squared and added per second (pairs x D).
    pub terms_per_s: f64,
    pub phases: PairsPhases,
    pub output: Option<String>,
}

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

/// Collective: rank 0 reads or makes the points and checks them; every
/// rank learns their shape (or the same failure). Rank 0 keeps the points.
fn load<C: Communicator>(world: &C, job: &PairsPlan) -> Outcome<(Shape, Option<Points>)> {
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

/// N and D within what the run can hold; `what` names N's origin.
pub(super) fn checked_size(n: u64, dim: u64, matrix: bool, what: &str) -> Outcome {
    if n < 2 {
        return Err(Failure::usage(format!(
            "{what}: {n} point(s): pairs need at least 2"
        )));
    }
    if dim < 1 {
        return Err(Failure::usage(format!(
            "{what}: points of dimension 0 have no distances"
        )));
    }
    if n.saturating_mul(dim) > MAX_COORDS {
        return Err(Failure::usage(format!(
            "{what}: {n} points x {dim} coordinates is more than {MAX_COORDS} coordinates"
        )));
    }
    if matrix && n > MAX_MATRIX_N {
        return Err(Failure::usage(format!(
            "--matrix with {n} points: the matrix would be {} GiB; at most {MAX_MATRIX_N} points \
             (a 16 GiB matrix; MPI counts are 32-bit): drop --matrix for the neighbours and histogram",
            (n as u128 * n as u128 * 8) >> 30
        )));
    }
    Ok(())
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
    let diagonal = points.diagonal();
    if !(diagonal * diagonal).is_finite() {
        return Err(Failure::usage(format!(
            "{what}: the points spread too far for squared distances in f64 (bounding box diagonal {diagonal:e})"
        )));
    }
    Ok(Shape {
        n: points.n,
        dim: points.dim,
        diagonal,
    })
}

pub struct PairsRun<'a, C: Communicator> {
    comm: &'a C,
    job: &'a PairsPlan,
    shape: Shape,
    version: &'static str,
    file: Option<ResultFile>,
    /// Rank 0: every point (for the checks and the file).
    points: Option<Points>,
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
    t_compute: f64,
    t_wait: f64,
    t_transpose: f64,
}

impl<'a, C: Communicator> PairsRun<'a, C> {
    /// Collective: check memory, create the result file (rank 0), deal out
    /// the blocks.
    fn new(
        comm: &'a C,
        job: &'a PairsPlan,
        shape: Shape,
        points: Option<Points>,
        meta: &RunMeta,
    ) -> Outcome<Self> {
        let (p, r) = (comm.size() as usize, comm.rank() as usize);
        let Shape { n, dim, diagonal } = shape;
        let own = block_range(n, p, r);
        crate::par::check_memory(
            comm,
            need(&shape, p, r, job.matrix),
            "points, blocks and matrix rows",
        )?;
        let file = create_result(comm, job.out.path.as_deref(), job.out.force, meta)?;
        let rows = scatter(comm, points.as_ref(), n, dim, own.len());
        let held = Columns::from_rows(own.start, dim, &rows);
        Ok(Self {
            comm,
            job,
            shape,
            version: meta.version,
            file,
            points,
            own: own.clone(),
            rows,
            held,
            step: 0,
            nearest: Nearest::new(n),
            histogram: (job.bins > 0).then(|| Histogram::new(job.bins as usize, diagonal)),
            strip: vec![0.0; if job.matrix { own.len() * n } else { 0 }],
            buf: Vec::new(),
            pairs: 0,
            t_compute: 0.0,
            t_wait: 0.0,
            t_transpose: 0.0,
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

/// Bytes rank r holds at most: rank 0 all the points and a received strip
/// beside its own; everyone a block, its transposed and travelling forms,
/// the neighbour arrays, and with the matrix its strip and the transposes.
pub(super) fn need(shape: &Shape, p: usize, r: usize, matrix: bool) -> u128 {
    let (n, dim) = (shape.n as u128, shape.dim as u128);
    let block = n.div_ceil(p as u128);
    let mut bytes = 8 * (3 * block * dim + 3 * dim * 8) + 16 * n;
    if matrix {
        bytes += 3 * 8 * block * n;
    }
    if r == 0 {
        bytes += 8 * n * dim + if matrix { 8 * block * n } else { 0 };
    }
    bytes
}

/// Collective: rank 0's points dealt out in contiguous blocks; this rank's
/// rows.
fn scatter<C: Communicator>(
    comm: &C,
    points: Option<&Points>,
    n: usize,
    dim: usize,
    mine: usize,
) -> Vec<f64> {
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
    rows
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
        let steps = ring_steps(self.comm.size() as usize) as u64 + 1;
        let n = self.shape.n as f64;
        Meter {
            label: "pairs",
            total: steps,
            unit: "ring step",
            work_per_unit: n * (n - 1.0) / 2.0 / steps as f64,
            rate_name: "Mpairs/s",
        }
    }

    fn position(&self) -> Position {
        Position {
            done: self.step as u64,
            total: ring_steps(self.comm.size() as usize) as u64 + 1,
        }
    }

    fn rounds_left(&self) -> bool {
        self.step <= ring_steps(self.comm.size() as usize)
    }

    fn advance(&mut self) -> Outcome<After> {
        let last = ring_steps(self.comm.size() as usize);
        if self.step < last {
            self.meet_and_pass();
        } else {
            self.meet_last();
        }
        self.step += 1;
        if self.step > last && self.job.matrix {
            self.complete_strip();
        }
        Ok(After::Check { fault: false })
    }

    fn fault(&self) -> Failure {
        Failure::runtime(anyhow::anyhow!("pairs: a rank reported a fault"))
    }

    fn finish(&mut self, clock: &Clock) -> Outcome<Printed<PairsReport>> {
        let t1 = mpi::time();
        let all = combine(
            self.comm,
            &self.nearest,
            self.histogram.as_ref(),
            self.pairs,
        );
        let file = self.file.take();
        let matrix = write_matrix(
            self.comm,
            file.as_ref(),
            &self.strip,
            self.points.as_ref(),
            self.shape.n,
            // The same on every rank: rank 0 holds the file exactly when a
            // path was given (its creation was agreed on).
            self.job.matrix && self.job.out.path.is_some(),
        )?;
        // Rank 0's verdict (the others report defaults; only rank 0 prints).
        let check = self.points.as_ref().map(|pts| {
            let mut c = judge(pts, &all, self.job.bins > 0);
            (c.matrix_rows_checked, c.matrix_ok) = matrix;
            c
        });
        let passed = check
            .as_ref()
            .is_none_or(|c| c.passed(total_pairs(self.shape.n)));
        let nn_dist: Vec<f64> = all.nearest.d2.iter().map(|d| d.sqrt()).collect();
        let check = check.unwrap_or_default();
        let source = source_name(&self.job.source);
        let report = |gather_io: f64, output: Option<String>| {
            self.report(
                &all, &nn_dist, &check, passed, clock.wall, gather_io, output,
            )
        };
        let r = finish(
            self.comm,
            file,
            t1,
            self.job.out.path.as_deref(),
            report,
            |f| {
                let layout = Layout {
                    points: self.points.as_ref().expect("rank 0 has the points"),
                    all: &all,
                    nn_dist: &nn_dist,
                    diagonal: self.shape.diagonal,
                    source: &source,
                    units: match self.job.source {
                        PointsFrom::Generated { .. } => "1",
                        PointsFrom::File(_) => "as the input file's coordinates",
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

impl<C: Communicator> PairsRun<'_, C> {
    /// Collective (the phases' spreads): the report, from rank 0's
    /// results (`all`, `check`) and this rank's times.
    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        all: &Combined,
        nn_dist: &[f64],
        check: &PairsCheck,
        passed: bool,
        wall: f64,
        gather_io: f64,
        output: Option<String>,
    ) -> PairsReport {
        let [compute, ring_wait, transpose, gather_io] = par::spreads(
            self.comm,
            [self.t_compute, self.t_wait, self.t_transpose, gather_io],
        );
        let Shape { n, dim, diagonal } = self.shape;
        let pairs = total_pairs(n);
        PairsReport {
            run: RunInfo::new("pairs", self.version, self.comm.size() as usize),
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
                    distance: d.sqrt(),
                }),
            mean_nearest_distance: nn_dist.iter().sum::<f64>() / n as f64,
            histogram_total: all.counts.iter().sum(),
            check: check.clone(),
            passed,
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

/// Pairs among n points: N(N-1)/2.
fn total_pairs(n: usize) -> u64 {
    n as u64 * (n as u64 - 1) / 2
}

fn source_name(source: &PointsFrom) -> String {
    match source {
        PointsFrom::File(f) => f.shown(),
        PointsFrom::Generated { n, dim, seed } => format!("generated: {n} x {dim}, seed {seed}"),
    }
}

/// What the ranks' meetings add up to, on rank 0 (empty elsewhere): every
/// point's nearest neighbour, the histogram counts, the closest pair read
/// off the neighbours once, and the pairs met (on every rank).
struct Combined {
    nearest: Nearest,
    counts: Vec<u64>,
    closest: Option<(u64, u64, f64)>,
    met: u64,
}

/// Collective: the neighbours and counts of every rank combined on rank 0.
fn combine<C: Communicator>(
    comm: &C,
    mine: &Nearest,
    histogram: Option<&Histogram>,
    pairs: u64,
) -> Combined {
    let (nearest, counts) = reduce(comm, mine, histogram);
    let mut met = 0u64;
    comm.all_reduce_into(&pairs, &mut met, SystemOperation::sum());
    Combined {
        closest: nearest.closest(),
        nearest,
        counts,
        met,
    }
}

/// Collective: every rank's neighbours and counts combined on rank 0 (the
/// least squared distance, then the least index among the ranks that
/// found it: order-free, so the same on any P). Empty elsewhere.
fn reduce<C: Communicator>(
    comm: &C,
    mine: &Nearest,
    histogram: Option<&Histogram>,
) -> (Nearest, Vec<u64>) {
    let n = mine.d2.len();
    let mut d2 = vec![0.0; n];
    comm.all_reduce_into(&mine.d2[..], &mut d2[..], SystemOperation::min());
    let index: Vec<u64> = mine
        .index
        .iter()
        .zip(mine.d2.iter().zip(&d2))
        .map(|(&j, (a, b))| if a == b { j } else { u64::MAX })
        .collect();
    let root = comm.process_at_rank(0);
    let local = histogram.map_or(Vec::new(), |h| h.counts.clone());
    if comm.rank() == 0 {
        let mut all = vec![0u64; n];
        root.reduce_into_root(&index[..], &mut all[..], SystemOperation::min());
        let mut counts = vec![0u64; local.len()];
        root.reduce_into_root(&local[..], &mut counts[..], SystemOperation::sum());
        (Nearest { d2, index: all }, counts)
    } else {
        root.reduce_into(&index[..], SystemOperation::min());
        root.reduce_into(&local[..], SystemOperation::sum());
        (Nearest::new(0), Vec::new())
    }
}

/// Rows rank 0 checks by brute force: spread over the points.
fn sample_rows(n: usize) -> Vec<usize> {
    let k = SAMPLE_ROWS.min(n);
    (0..k).map(|s| s * n / k).collect()
}

/// Rank 0's verdict on the pairs met, the neighbours, the closest pair and
/// the counts (the matrix rows are judged as they are written).
fn judge(points: &Points, all: &Combined, histogram: bool) -> PairsCheck {
    let n = points.n as u64;
    let counts_ok = !histogram || all.counts.iter().sum::<u64>() == n * (n - 1) / 2;
    let closest_ok = all.closest.is_some_and(|(i, j, d)| {
        i < j && d.to_bits() == d2(points.row(i as usize), points.row(j as usize)).to_bits()
    });
    let rows = sample_rows(points.n);
    let nearest = &all.nearest;
    let samples_ok = rows.iter().all(|&i| {
        let (d, j) = nearest_brute(points, i);
        (d.to_bits(), j) == (nearest.d2[i].to_bits(), nearest.index[i])
    });
    PairsCheck {
        pairs_met: all.met,
        counts_ok,
        closest_ok,
        sampled_rows: rows.len(),
        samples_ok,
        matrix_rows_checked: 0,
        matrix_ok: true,
    }
}

impl PairsCheck {
    /// Every check passed, with `pairs` the pairs there are.
    fn passed(&self, pairs: u64) -> bool {
        self.pairs_met == pairs
            && self.counts_ok
            && self.closest_ok
            && self.samples_ok
            && self.matrix_ok
    }
}

/// Collective (`writing`: with `--matrix` and a file): each rank's strip to rank 0,
/// written as it arrives; sampled rows checked against brute force on the
/// way. Rank 0 takes every strip even after a write failed, so no rank is
/// left sending; the failure is every rank's. (rows checked, all equal).
fn write_matrix<C: Communicator>(
    comm: &C,
    file: Option<&ResultFile>,
    strip: &[f64],
    points: Option<&Points>,
    n: usize,
    writing: bool,
) -> Outcome<(usize, bool)> {
    let root = comm.process_at_rank(0);
    if !writing {
        return Ok((0, true));
    }
    let (Some(f), Some(pts)) = (file, points) else {
        root.send_with_tag(strip, PAIRS_STRIP);
        return par::agree(comm, Ok(())).map(|()| (0, true));
    };
    let p = comm.size() as usize;
    let ds = f.root().create_group("pairs").and_then(|g| {
        // Described and given its axes with the rest of the group (Layout).
        g.new_dataset::<f64>().shape([n, n]).create("distance")
    });
    let mut result = ds.map_err(|e| Failure::runtime(anyhow::anyhow!("cannot write results: {e}")));
    let (mut checked, mut ok) = (0, true);
    let sampled = sample_rows(n);
    for b in 0..p {
        let range = block_range(n, p, b);
        let got;
        let rows = if b == 0 {
            strip
        } else {
            got = comm
                .process_at_rank(b as i32)
                .receive_vec_with_tag::<f64>(PAIRS_STRIP)
                .0;
            &got[..]
        };
        for &i in sampled.iter().filter(|i| range.contains(i)) {
            let row = &rows[(i - range.start) * n..(i - range.start + 1) * n];
            checked += 1;
            ok &= row.iter().enumerate().all(|(j, d)| {
                let want = if i == j {
                    0.0
                } else {
                    d2(pts.row(i), pts.row(j)).sqrt()
                };
                d.to_bits() == want.to_bits()
            });
        }
        if let Ok(ds) = &result {
            let view =
                ndarray::ArrayView2::from_shape((range.len(), n), rows).expect("strip shape");
            if let Err(e) = ds.write_slice(view, ndarray::s![range.start..range.end, ..]) {
                result = Err(Failure::runtime(anyhow::anyhow!(
                    "cannot write results: {e}"
                )));
            }
        }
    }
    par::agree(comm, result.map(|_| ()))?;
    Ok((checked, ok))
}

/// What rank 0 writes into /pairs.
struct Layout<'a> {
    points: &'a Points,
    all: &'a Combined,
    nn_dist: &'a [f64],
    diagonal: f64,
    source: &'a str,
    /// Units of the coordinates and distances: "1" for generated points
    /// (the unit cube); a file's points keep their own, unknown to parsim.
    units: &'static str,
    passed: bool,
}

impl Layout<'_> {
    fn write(&self, f: &hdf5::File) -> hdf5::Result<()> {
        // The matrix, if any, was written into the group already.
        let g = f.group("pairs").or_else(|_| f.create_group("pairs"))?;
        let pts = self.points;
        write_num(&g, "n", pts.n as u64)?;
        write_num(&g, "dim", pts.dim as u64)?;
        write_str(&g, "source", self.source)?;
        write_num(&g, "bins", self.all.counts.len() as u64)?;
        write_num(&g, "diagonal", self.diagonal)?;
        if let Some((i, j, d)) = self.all.closest {
            write_num(&g, "closest_i", i)?;
            write_num(&g, "closest_j", j)?;
            write_num(&g, "closest_distance", d.sqrt())?;
        }
        write_num(&g, "sampled_rows", sample_rows(pts.n).len() as u64)?;
        write_num(&g, "passed", u8::from(self.passed))?;
        self.write_data(&g)
    }

    /// The datasets, along the axes `point` (index), `axis` (coordinate
    /// index), `other` (the matrix's second point) and `distance_bin`
    /// (bin centres).
    fn write_data(&self, g: &hdf5::Group) -> hdf5::Result<()> {
        let (pts, units) = (self.points, self.units);
        let point = write_index_axis(g, "point", 0..pts.n as u64, "point index")?;
        let axis = write_index_axis(g, "axis", 0..pts.dim as u64, "coordinate index")?;
        let (shape, what) = ((pts.n, pts.dim), "coordinates of the points");
        write_table(g, "points", shape, &pts.xs, [&point, &axis], (units, what))?;
        let what = "index of each point's nearest neighbour (ties: the smaller index)";
        write_along(g, "nearest", &self.all.nearest.index, &point, ("1", what))?;
        let what = "distance to the nearest neighbour";
        write_along(g, "nearest_distance", self.nn_dist, &point, (units, what))?;
        if let Ok(d) = g.dataset("distance") {
            let other = write_index_axis(g, "other", 0..pts.n as u64, "index of the other point")?;
            label(
                &d,
                units,
                "distance between points i and j",
                &[&point, &other],
            )?;
        }
        if !self.all.counts.is_empty() {
            let edges = Histogram::edges(self.all.counts.len(), self.diagonal);
            let centres: Vec<f64> = edges.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
            let what = "centre of the distance bin";
            let bin = write_axis(g, "distance_bin", &centres, units, what)?;
            let what = "pairs whose distance falls in the bin";
            write_along(g, "histogram", &self.all.counts, &bin, ("1", what))?;
            write_axis(g, "bin_edges", &edges, units, "edges of the distance bins")?;
        }
        Ok(())
    }
}

fn pairs_text(r: &PairsReport) -> String {
    let c = &r.check;
    let p = &r.phases;
    let v = crate::report::verdict;
    let matrix = if !r.matrix {
        String::new()
    } else if c.matrix_rows_checked == 0 {
        "; matrix computed, not written (--no-output)".into()
    } else {
        format!(
            "; {} matrix rows by brute force: {}",
            c.matrix_rows_checked,
            v(c.matrix_ok)
        )
    };
    let hist = if r.bins == 0 {
        "no histogram (--bins 0)".to_string()
    } else {
        format!(
            "{} pairs in {} bins over [0, {:.6}]: {}",
            r.histogram_total,
            r.bins,
            r.diagonal,
            v(c.counts_ok)
        )
    };
    format!(
        "parsim pairs {}: all pairs by the travelling-block ring\n\
         Points           : {} x {} ({})\n\
         Ranks            : {} ({} ring steps, {} pairs met: {})\n\
         Closest pair     : ({}, {}) at distance {:.17e}: recomputed {}\n\
         Nearest          : every point's neighbour, mean distance {:.6e}; {} sampled rows by brute force: {}\n\
         Histogram        : {hist}{matrix}\n\
         Wall time        : {:.6} s\n\
         Rate             : {:.4e} pairs/s, {:.4e} terms/s\n{}{}",
        r.run.version,
        r.n,
        r.dim,
        r.source,
        r.run.ranks,
        ring_steps(r.run.ranks),
        c.pairs_met,
        v(c.pairs_met == r.pairs),
        r.closest.i,
        r.closest.j,
        r.closest.distance,
        v(c.closest_ok),
        r.mean_nearest_distance,
        c.sampled_rows,
        v(c.samples_ok),
        r.wall_time_s,
        r.pairs_per_s,
        r.terms_per_s,
        crate::report::phase_table(&[
            ("compute", &p.compute),
            ("ring wait", &p.ring_wait),
            ("transpose", &p.transpose),
            ("gather/I-O", &p.gather_io)
        ]),
        output_line(&r.output),
    )
}
