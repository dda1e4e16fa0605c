//! `parsim ou`: an Ornstein-Uhlenbeck ensemble scattered over ranks.
//!
//! 1. Every rank validates the same request (same verdict everywhere); rank
//!    0 reserves the output file.
//! 2. Rank 0 builds the member table and scatters to each rank its
//!    contiguous member range and the parameter sets that range touches.
//! 3. Each rank runs its members: member `m` draws from `stream(seed, m)`,
//!    so a path does not depend on which rank computed it.
//! 4. Mean and variance at every recorded time are reduced as exact
//!    fixed-point sums (see `crate::exact`): bitwise identical for any P.
//! 5. Per-member results (final value, lag-1 sums, and with `--store paths`
//!    the recorded path) go to rank 0 one rank at a time, paths in pieces
//!    of bounded size, and are written as they arrive; rank 0 never holds
//!    the whole ensemble. Lag-1 sums are added in member order, so they are
//!    reproducible too.
//!
//! Members run in rounds; after each round the ranks agree on stop signals
//! and, with `--checkpoint-every`, write a checkpoint (`ou_checkpoint`) from
//! which a restart recomputes only the unfinished members.
//!
//! HDF5 layout:
//!
//! ```text
//! /ou                attrs: paths, steps, record_every, seed, store, sets, members
//! /ou/set_NNN        attrs: tau, sigma, dt, x0, relax, diffuse, first_member,
//!                           members, z_mean, z_variance, z_lag1,
//!                           final_mean_variance [2]
//!   time      [S]            t of each recorded sample (0, K dt, 2K dt, ...)
//!   mean      [S]            ensemble mean at each recorded time
//!   variance  [S]            unbiased ensemble variance at each recorded time
//!   final     [paths]        x at t = steps dt of every member of the set
//!   paths     [paths, S]     recorded paths (only with --store paths)
//! ```

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Context;
use mpi::collective::SystemOperation;
use mpi::traits::*;
use ndarray::{s, ArrayView2};
use serde::Serialize;

use super::ou::{
    simulate, simulate_group, MemberSummary, OuParams, OuPlan, OuRequest, GROUP as LANES,
};
use super::ou_checkpoint::{self, OuCheckpointFile};
use super::scatter_ranges;
use crate::error::{ExitCode, Failure, Outcome};
use crate::exact::{from_limbs, mean_variance, ExactSum};
use crate::h5::{write_list, write_num, write_str, write_vec, ResultFile, RunMeta};
use crate::output::PendingOutput;
use crate::par::{self, Spread};
use crate::rng::{stream, Lanes};
use crate::stop::{signal_name, StopSignal};

/// |z| above which a statistic fails validation: a correct run fails one
/// given score with probability 6e-7.
pub const Z_LIMIT: f64 = 5.0;

const TAG_SUMMARY: i32 = 30;
const TAG_PATHS: i32 = 31;
/// Values per path message (64 MiB): bounds the memory of rank 0.
const PIECE_VALUES: usize = 8 << 20;

#[derive(Debug, Clone)]
pub struct OuJob {
    pub request: OuRequest,
    pub store_paths: bool,
    pub output: Option<PathBuf>,
    pub force: bool,
    pub json: bool,
    /// Members per rank between checkpoints (0: only when stopped).
    pub checkpoint_every: u64,
    pub checkpoint: PathBuf,
    pub restart: Option<PathBuf>,
}

/// A run of consecutive members sharing one parameter set.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    set: usize,
    members: Range<usize>,
    params: OuParams,
}

const SEGMENT_WORDS: usize = 7;

impl Segment {
    fn encode(&self) -> [f64; SEGMENT_WORDS] {
        let p = self.params;
        [
            self.set as f64,
            self.members.start as f64,
            self.members.end as f64,
            p.tau,
            p.sigma,
            p.dt,
            p.x0,
        ]
    }

    fn decode(w: &[f64]) -> Self {
        Self {
            set: w[0] as usize,
            members: w[1] as usize..w[2] as usize,
            params: OuParams {
                tau: w[3],
                sigma: w[4],
                dt: w[5],
                x0: w[6],
            },
        }
    }
}

/// The segments covering `range` (rank 0 builds them for every rank).
fn segments_of(plan: &OuPlan, range: &Range<usize>) -> Vec<Segment> {
    let paths = plan.paths as usize;
    let mut out = Vec::new();
    let mut m = range.start;
    while m < range.end {
        let set = m / paths;
        let end = range.end.min((set + 1) * paths);
        out.push(Segment {
            set,
            members: m..end,
            params: plan.sets[set],
        });
        m = end;
    }
    out
}

/// Collective: each rank's member range and its segments, sent by rank 0.
fn scatter_members<C: Communicator>(
    comm: &C,
    plan: &OuPlan,
) -> (Range<usize>, Vec<Range<usize>>, Vec<Segment>) {
    let (range, table) = scatter_ranges(comm, plan.members() as usize);
    let root = comm.process_at_rank(0);
    // First how many segments each rank gets, then the segments.
    let mut n_mine = 0u64;
    let mut words = Vec::new();
    let mut counts = Vec::new();
    if comm.rank() == 0 {
        let per_rank: Vec<Vec<Segment>> = table.iter().map(|r| segments_of(plan, r)).collect();
        let n: Vec<u64> = per_rank.iter().map(|s| s.len() as u64).collect();
        root.scatter_into_root(&n[..], &mut n_mine);
        counts = per_rank
            .iter()
            .map(|s| (s.len() * SEGMENT_WORDS) as i32)
            .collect();
        words = per_rank.iter().flatten().flat_map(|s| s.encode()).collect();
    } else {
        root.scatter_into(&mut n_mine);
    }
    let mut mine = vec![0.0; n_mine as usize * SEGMENT_WORDS];
    if comm.rank() == 0 {
        let displs: Vec<i32> = counts
            .iter()
            .scan(0, |acc, &c| {
                let d = *acc;
                *acc += c;
                Some(d)
            })
            .collect();
        let partition = mpi::datatype::Partition::new(&words[..], &counts[..], &displs[..]);
        root.scatter_varcount_into_root(&partition, &mut mine[..]);
    } else {
        root.scatter_varcount_into(&mut mine[..]);
    }
    let segments = mine
        .chunks_exact(SEGMENT_WORDS)
        .map(Segment::decode)
        .collect();
    (range, table, segments)
}

/// Validation of one parameter set at t = steps dt.
#[derive(Debug, Clone, Serialize)]
pub struct SetReport {
    pub params: OuParams,
    pub t_end: f64,
    pub mean: f64,
    pub mean_theory: f64,
    pub variance: f64,
    pub variance_theory: f64,
    pub lag1: f64,
    pub lag1_theory: f64,
    /// z-scores; `None` where undefined (sigma = 0, or one path for the
    /// variance).
    pub z_mean: Option<f64>,
    pub z_variance: Option<f64>,
    pub z_lag1: Option<f64>,
    pub passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OuReport {
    pub workload: &'static str,
    pub version: &'static str,
    pub ranks: usize,
    pub plan: OuPlan,
    pub members: u64,
    pub sets: Vec<SetReport>,
    pub passed: bool,
    /// Wall time of the computation (slowest rank), seconds.
    pub wall_time_s: f64,
    /// Member-steps (one normal draw and one update each) per second.
    pub steps_per_s: f64,
    /// The same per core: total draws over the summed compute time.
    pub normals_per_s_per_core: f64,
    pub phases: OuPhases,
    pub output: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OuPhases {
    pub compute: Spread,
    pub checkpoint: Spread,
    pub reduce: Spread,
    pub gather_io: Spread,
}

/// Collective over `world`.
pub fn run<C: Communicator>(world: &C, job: &OuJob, meta: &RunMeta, stop: &StopSignal) -> Outcome {
    let rank = world.rank() as usize;
    let plan = OuPlan::new(&job.request).map_err(Failure::usage)?;
    let samples = plan.samples();
    let n_sets = plan.sets.len();
    if job.output.as_deref() == Some(job.checkpoint.as_path()) {
        return Err(Failure::usage(format!(
            "--checkpoint and --output are the same file '{}'",
            job.checkpoint.display()
        )));
    }

    // A restart: rank 0 reads the checkpoint's metadata, all ranks get it,
    // and it must describe the same ensemble.
    let resume = match &job.restart {
        None => None,
        Some(path) => {
            let m = par::broadcast_json(world, || ou_checkpoint::read_meta(path))?;
            m.check_same(&plan, job.store_paths)?;
            Some(m)
        }
    };

    let file = par::create_on_root(
        world,
        || crate::output::reserve_checkpoint(&job.checkpoint, job.restart.as_deref(), job.force),
        job.output.as_deref(),
        job.force,
        |out| OuFile::create(out, &plan, job.store_paths, meta),
    )?;

    let (range, table, segments) = scatter_members(world, &plan);

    // State of this rank's members; a restart fills in the finished ones.
    let n_local = range.len();
    let mut st = Members {
        done: vec![false; n_local],
        summaries: vec![MemberSummary::default(); n_local],
        paths: vec![
            0.0;
            if job.store_paths {
                n_local * samples
            } else {
                0
            }
        ],
        sums: vec![ExactSum::default(); n_sets * samples * 2],
    };
    if let Some(m) = &resume {
        let path = Path::new(&m.path);
        let read = ou_checkpoint::read_share(path, &range, samples, job.store_paths)
            .and_then(|share| {
                if rank == 0 {
                    let limbs = ou_checkpoint::read_sums(path)?;
                    anyhow::ensure!(
                        limbs.len() == st.sums.len() * 4,
                        "sums do not match the plan"
                    );
                    for (s, l) in st.sums.iter_mut().zip(limbs.chunks_exact(4)) {
                        *s = from_limbs([l[0], l[1], l[2], l[3]]);
                    }
                }
                Ok(share)
            })
            .map_err(|e| Failure::usage(format!("restart file '{}': {e:#}", m.path)));
        let share = match read {
            Ok(share) => {
                par::agree(world, Ok(()))?;
                share
            }
            Err(e) => {
                par::agree(world, Err(e.clone()))?;
                return Err(e);
            }
        };
        st.done = share.done;
        st.summaries = share.summaries;
        if job.store_paths {
            st.paths = share.records;
        }
    }

    // Compute, in rounds of at most `round` members per rank; after each
    // round the ranks agree on stop signals and range errors, and write a
    // checkpoint when one is due.
    let round = if job.checkpoint_every > 0 {
        job.checkpoint_every as usize
    } else {
        DEFAULT_ROUND
    };
    let todo: Vec<usize> = (0..n_local).filter(|&k| !st.done[k]).collect();
    let mut rounds = 0u64;
    world.all_reduce_into(
        &(todo.len().div_ceil(round) as u64),
        &mut rounds,
        SystemOperation::max(),
    );
    world.barrier();
    let t0 = mpi::time();
    let mut t_compute = 0.0;
    let mut t_ckpt = 0.0;
    let mut stopped = None;
    for r in 0..rounds as usize {
        let a = mpi::time();
        let batch = &todo[(r * round).min(todo.len())..((r + 1) * round).min(todo.len())];
        let in_range = compute(
            &plan,
            &segments,
            range.start,
            batch,
            job.store_paths,
            &mut st,
        );
        t_compute += mpi::time() - a;
        let local = [stop.received(), i32::from(!in_range)];
        let mut global = [0i32; 2];
        world.all_reduce_into(&local[..], &mut global[..], SystemOperation::max());
        if global[1] != 0 {
            return Err(Failure::runtime(anyhow::anyhow!(
                "a path left the range of exact statistics (|x| >= 2^70 times the set's scale)"
            )));
        }
        let last = r + 1 == rounds as usize;
        if global[0] != 0 || (job.checkpoint_every > 0 && !last) {
            let a = mpi::time();
            write_checkpoint(world, job, &plan, meta, &range, &table, &st)?;
            t_ckpt += mpi::time() - a;
        }
        if global[0] != 0 {
            stopped = Some(signal_name(global[0]));
            break;
        }
    }
    world.barrier();
    let wall = mpi::time() - t0;
    if let Some(sig) = stopped {
        let mut finished = 0u64;
        let mine = st.done.iter().filter(|&&d| d).count() as u64;
        world.all_reduce_into(&mine, &mut finished, SystemOperation::sum());
        return Err(Failure::with_code(
            ExitCode::Stopped,
            format!(
                "ou: stopped by {sig} with {finished} of {} members finished; checkpoint '{}' written: \
                 resume with --restart {}",
                plan.members(),
                job.checkpoint.display(),
                job.checkpoint.display()
            ),
        ));
    }
    let Members {
        summaries,
        paths,
        sums,
        ..
    } = st;

    // Exact reduction of the per-time sums.
    let t1 = mpi::time();
    let limbs: Vec<i64> = sums.iter().flat_map(|s| s.limbs()).collect();
    let root = world.process_at_rank(0);
    let mut total = vec![0i64; if rank == 0 { limbs.len() } else { 0 }];
    if rank == 0 {
        root.reduce_into_root(&limbs[..], &mut total[..], SystemOperation::sum());
    } else {
        root.reduce_into(&limbs[..], SystemOperation::sum());
    }
    let t_reduce = mpi::time() - t1;

    // Phases known now (collective), so the report stored in the file can
    // carry them; the gather/write phase is added after.
    let [compute, checkpoint, reduce] = par::spreads(world, [t_compute, t_ckpt, t_reduce]);
    let busy = par::sum(world, t_compute);
    let draws = plan.members() as f64 * plan.steps as f64;
    let make_report = |sets: Vec<SetReport>, gather_io: par::Spread, output: Option<String>| {
        let passed = sets.iter().all(|r| r.passed);
        OuReport {
            workload: "ou",
            version: meta.version,
            ranks: world.size() as usize,
            members: plan.members(),
            plan: plan.clone(),
            sets,
            passed,
            wall_time_s: wall,
            steps_per_s: draws / wall,
            normals_per_s_per_core: draws / busy,
            phases: OuPhases {
                compute,
                checkpoint,
                reduce,
                gather_io,
            },
            output,
        }
    };

    // Gather per-member results to rank 0, writing as they come.
    let t2 = mpi::time();
    let flat: Vec<f64> = summaries
        .iter()
        .flat_map(|s| [s.last, s.sxx, s.sxy])
        .collect();
    let gathered = if rank == 0 {
        let mut sink = Sink::new(&plan, file.as_ref());
        for (src, r) in table.iter().enumerate() {
            sink.take_rank(world, src, r, &flat, &paths, job.store_paths, samples);
        }
        Some(sink)
    } else {
        world
            .process_at_rank(0)
            .send_with_tag(&flat[..], TAG_SUMMARY);
        if job.store_paths {
            for piece in paths.chunks(piece_len(samples)) {
                world.process_at_rank(0).send_with_tag(piece, TAG_PATHS);
            }
        }
        None
    };

    // Rank 0: statistics, validation, file.
    let mut written = Ok(None);
    let mut reports = Vec::new();
    if let Some(sink) = gathered {
        let stats: Vec<(Vec<f64>, Vec<f64>)> = (0..n_sets)
            .map(|k| {
                let scale = plan.sets[k].stat_scale();
                (0..samples)
                    .map(|i| {
                        let at = |j: usize| {
                            let l = &total[((k * samples + i) * 2 + j) * 4..][..4];
                            from_limbs([l[0], l[1], l[2], l[3]])
                        };
                        let (mean, var) = mean_variance(at(0), at(1), plan.paths);
                        (mean * scale, var * scale * scale)
                    })
                    .unzip()
            })
            .collect();
        reports = sink.validate(&plan);
        let error = sink.error;
        // Stored report: rank 0's gather time so far stands for the phase.
        let so_far = mpi::time() - t2;
        let stored = make_report(
            reports.clone(),
            par::Spread {
                min: so_far,
                avg: so_far,
                max: so_far,
            },
            job.output.as_ref().map(|p| p.display().to_string()),
        );
        let json = serde_json::to_string(&stored).unwrap_or_default();
        written = match (file, error) {
            (Some(f), None) => f
                .finish(&stats, &reports, &json)
                .map(|p| Some(p.display().to_string())),
            (_, Some(e)) => Err(e),
            (None, None) => Ok(None),
        };
    }
    let t_io = mpi::time() - t2;
    let io_ok = par::agree(world, written.as_ref().map(|_| ()).map_err(Clone::clone));
    let [gather_io] = par::spreads(world, [t_io]);
    io_ok?;

    let passed = reports.iter().all(|r| r.passed);
    if rank == 0 {
        let report = make_report(reports, gather_io, written.ok().flatten());
        crate::report::emit(&text(&report), &report, job.json);
    }
    par::root_verdict(
        world,
        passed,
        "ou: the ensemble failed its validation (see report)",
    )
}

/// Members per rank between the collective checks when no checkpoints are
/// asked for: a stop signal waits at most this long.
const DEFAULT_ROUND: usize = 16 * LANES;

/// This rank's members: finished or not, what they left behind, and the
/// exact sums over the finished ones (on rank 0 also a checkpoint's).
struct Members {
    done: Vec<bool>,
    summaries: Vec<MemberSummary>,
    /// Recorded paths, `members x samples` (only with --store paths).
    paths: Vec<f64>,
    sums: Vec<ExactSum>,
}

/// Run the members with local indices `batch` (ascending), `LANES` at a
/// time where consecutive members share a parameter set. Returns false if
/// a value left the range of exact statistics.
fn compute(
    plan: &OuPlan,
    segments: &[Segment],
    first: usize,
    batch: &[usize],
    store_paths: bool,
    st: &mut Members,
) -> bool {
    let samples = plan.samples();
    let mut lane_records = vec![0.0; LANES * samples];
    let mut in_range = true;
    let mut i = 0;
    while i < batch.len() {
        let k = batch[i];
        let m = first + k;
        let seg = &segments[segments.partition_point(|s| s.members.end <= m)];
        // LANES members in lockstep where they are consecutive and in one
        // set, else one at a time: the grouping changes no member's bits.
        let width = if i + LANES <= batch.len()
            && batch[i + LANES - 1] == k + LANES - 1
            && m + LANES <= seg.members.end
        {
            LANES
        } else {
            1
        };
        let records: &mut [f64] = if store_paths {
            &mut st.paths[k * samples..(k + width) * samples]
        } else {
            &mut lane_records[..width * samples]
        };
        if width == LANES {
            let streams: [_; LANES] = std::array::from_fn(|l| stream(plan.seed, (m + l) as u64));
            let mut lanes = Lanes::new(&streams);
            let recs: [&mut [f64]; LANES] = split_records(records, samples);
            let out = simulate_group(&seg.params, plan.steps, plan.record_every, &mut lanes, recs);
            st.summaries[k..k + LANES].copy_from_slice(&out);
        } else {
            let mut rng = stream(plan.seed, m as u64);
            st.summaries[k] = simulate(
                &seg.params,
                plan.steps,
                plan.record_every,
                &mut rng,
                records,
            );
        }
        let scale = seg.params.stat_scale();
        let acc = &mut st.sums[seg.set * samples * 2..(seg.set + 1) * samples * 2];
        for record in records.chunks_exact(samples) {
            for (pair, &x) in acc.chunks_exact_mut(2).zip(record) {
                let y = x / scale;
                in_range &= pair[0].add(y).is_ok() & pair[1].add(y * y).is_ok();
            }
        }
        st.done[k..k + width].iter_mut().for_each(|d| *d = true);
        i += width;
    }
    in_range
}

const TAG_CKPT_DONE: i32 = 40;
const TAG_CKPT_SUMMARY: i32 = 41;
const TAG_CKPT_RECORDS: i32 = 42;

/// Collective: write a checkpoint of every rank's finished members and the
/// global exact sums over them.
fn write_checkpoint<C: Communicator>(
    world: &C,
    job: &OuJob,
    plan: &OuPlan,
    meta: &RunMeta,
    range: &Range<usize>,
    table: &[Range<usize>],
    st: &Members,
) -> Outcome {
    let rank = world.rank();
    let limbs: Vec<i64> = st.sums.iter().flat_map(|s| s.limbs()).collect();
    let root = world.process_at_rank(0);
    let done: Vec<u8> = st.done.iter().map(|&d| u8::from(d)).collect();
    let summary: Vec<f64> = st
        .summaries
        .iter()
        .flat_map(|s| [s.last, s.sxx, s.sxy])
        .collect();
    let mut total = vec![0i64; if rank == 0 { limbs.len() } else { 0 }];
    if rank == 0 {
        root.reduce_into_root(&limbs[..], &mut total[..], SystemOperation::sum());
    } else {
        root.reduce_into(&limbs[..], SystemOperation::sum());
    }
    let file = par::create_on_root(
        world,
        || Ok(()),
        Some(&job.checkpoint),
        true,
        |out| {
            ResultFile::create(out, meta)
                .and_then(|f| OuCheckpointFile::create(f, plan, job.store_paths, &total))
        },
    )?;
    let Some(file) = file else {
        root.send_with_tag(&done[..], TAG_CKPT_DONE);
        root.send_with_tag(&summary[..], TAG_CKPT_SUMMARY);
        if job.store_paths {
            root.send_with_tag(&st.paths[..], TAG_CKPT_RECORDS);
        }
        return par::agree(world, Ok(()));
    };
    let samples = plan.samples();
    let mut result = file.write_share(range, &done, &summary, &st.paths);
    for (src, r) in table.iter().enumerate().skip(1) {
        let p = world.process_at_rank(src as i32);
        let mut d = vec![0u8; r.len()];
        let mut s = vec![0.0; r.len() * 3];
        let mut rec = vec![
            0.0;
            if job.store_paths {
                r.len() * samples
            } else {
                0
            }
        ];
        p.receive_into_with_tag(&mut d[..], TAG_CKPT_DONE);
        p.receive_into_with_tag(&mut s[..], TAG_CKPT_SUMMARY);
        if job.store_paths {
            p.receive_into_with_tag(&mut rec[..], TAG_CKPT_RECORDS);
        }
        if result.is_ok() {
            result = file.write_share(r, &d, &s, &rec);
        }
    }
    let done = result
        .map_err(Failure::runtime)
        .and_then(|()| file.finish().map(drop));
    par::agree(world, done)
}

/// Cut `L * samples` values into `L` records of `samples`.
fn split_records<const L: usize>(records: &mut [f64], samples: usize) -> [&mut [f64]; L] {
    let mut parts = records.chunks_exact_mut(samples);
    std::array::from_fn(|_| parts.next().expect("L records"))
}

fn piece_len(samples: usize) -> usize {
    (PIECE_VALUES / samples).max(1) * samples
}

/// Rank 0's consumer of per-member results: writes them to the file as
/// they arrive and accumulates the lag-1 sums in member order.
struct Sink<'a> {
    plan: &'a OuPlan,
    file: Option<&'a OuFile>,
    /// Per set: sum of final x and x^2 (exact), and lag-1 sums.
    finals: Vec<(ExactSum, ExactSum)>,
    sxx: Vec<f64>,
    sxy: Vec<f64>,
    error: Option<Failure>,
}

impl<'a> Sink<'a> {
    fn new(plan: &'a OuPlan, file: Option<&'a OuFile>) -> Self {
        let n = plan.sets.len();
        Self {
            plan,
            file,
            finals: vec![(ExactSum::default(), ExactSum::default()); n],
            sxx: vec![0.0; n],
            sxy: vec![0.0; n],
            error: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn take_rank<C: Communicator>(
        &mut self,
        comm: &C,
        src: usize,
        range: &Range<usize>,
        own_flat: &[f64],
        own_paths: &[f64],
        store_paths: bool,
        samples: usize,
    ) {
        let mut buf;
        let flat = if src == 0 {
            own_flat
        } else {
            buf = vec![0.0; range.len() * 3];
            comm.process_at_rank(src as i32)
                .receive_into_with_tag(&mut buf[..], TAG_SUMMARY);
            &buf[..]
        };
        let members: Vec<MemberSummary> = flat
            .chunks_exact(3)
            .map(|w| MemberSummary {
                last: w[0],
                sxx: w[1],
                sxy: w[2],
            })
            .collect();
        self.take_summaries(range, &members);
        if store_paths {
            let piece = piece_len(samples);
            let mut incoming = Vec::new();
            let mut first = range.start;
            let total = range.len() * samples;
            let mut offset = 0;
            while offset < total {
                let len = piece.min(total - offset);
                let data = if src == 0 {
                    &own_paths[offset..offset + len]
                } else {
                    incoming.resize(len, 0.0);
                    comm.process_at_rank(src as i32)
                        .receive_into_with_tag(&mut incoming[..], TAG_PATHS);
                    &incoming[..]
                };
                let rows = len / samples;
                self.write(|f| f.write_paths(first..first + rows, data));
                first += rows;
                offset += len;
            }
        }
    }

    fn take_summaries(&mut self, range: &Range<usize>, members: &[MemberSummary]) {
        let paths = self.plan.paths as usize;
        let mut finals = Vec::with_capacity(members.len());
        for (m, s) in range.clone().zip(members) {
            let set = m / paths;
            let scale = self.plan.sets[set].stat_scale();
            let y = s.last / scale;
            let (a, b) = &mut self.finals[set];
            if a.add(y).is_err() || b.add(y * y).is_err() {
                self.error.get_or_insert(Failure::runtime(anyhow::anyhow!(
                    "member {m}: final value {} out of range for exact statistics",
                    s.last
                )));
            }
            self.sxx[set] += s.sxx;
            self.sxy[set] += s.sxy;
            finals.push(s.last);
        }
        self.write(|f| f.write_finals(range.clone(), &finals));
    }

    fn write(&mut self, op: impl FnOnce(&OuFile) -> anyhow::Result<()>) {
        if let (Some(f), None) = (self.file, &self.error) {
            if let Err(e) = op(f) {
                self.error = Some(Failure::runtime(e));
            }
        }
    }

    fn validate(&self, plan: &OuPlan) -> Vec<SetReport> {
        let n = plan.paths;
        plan.sets
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let scale = p.stat_scale();
                let (s1, s2) = self.finals[k];
                let (mean, var) = mean_variance(s1, s2, n);
                let (mean, variance) = (mean * scale, var * scale * scale);
                let t = plan.steps as f64 * p.dt;
                let (mu, v) = (p.theory_mean(t), p.theory_variance(t));
                let lag1 = self.sxy[k] / self.sxx[k];
                let z_mean = (v > 0.0).then(|| (mean - mu) / (v / n as f64).sqrt());
                let z_variance = (v > 0.0 && n >= 2)
                    .then(|| (variance - v) / (v * (2.0 / (n - 1) as f64).sqrt()));
                let z_lag1 = (p.diffuse() > 0.0 && self.sxx[k] > 0.0)
                    .then(|| (lag1 - p.relax()) / (p.diffuse() / self.sxx[k].sqrt()));
                let scores = [z_mean, z_variance, z_lag1];
                let passed = if v > 0.0 {
                    scores.iter().flatten().all(|z| z.abs() < Z_LIMIT)
                } else {
                    // sigma = 0: deterministic decay, must match to round-off.
                    (mean - mu).abs() <= 1e-9 * mu.abs().max(1.0)
                };
                SetReport {
                    params: *p,
                    t_end: t,
                    mean,
                    mean_theory: mu,
                    variance,
                    variance_theory: v,
                    lag1,
                    lag1_theory: p.relax(),
                    z_mean,
                    z_variance,
                    z_lag1,
                    passed,
                }
            })
            .collect()
    }
}

/// The OU result file (rank 0).
struct OuFile {
    file: ResultFile,
    paths_per_set: usize,
    finals: Vec<hdf5::Dataset>,
    paths: Vec<hdf5::Dataset>,
    groups: Vec<hdf5::Group>,
}

impl OuFile {
    fn create(
        output: PendingOutput,
        plan: &OuPlan,
        store_paths: bool,
        meta: &RunMeta,
    ) -> anyhow::Result<Self> {
        let path = output.temp_path().to_path_buf();
        let file = ResultFile::create(output, meta)?;
        let samples = plan.samples();
        let n = plan.paths as usize;
        let (groups, finals, paths) = (|| -> hdf5::Result<_> {
            let g = file.root().create_group("ou")?;
            write_num(&g, "paths", plan.paths)?;
            write_num(&g, "steps", plan.steps)?;
            write_num(&g, "record_every", plan.record_every)?;
            write_num(&g, "seed", plan.seed)?;
            write_str(&g, "store", if store_paths { "paths" } else { "stats" })?;
            write_num(&g, "sets", plan.sets.len() as u64)?;
            write_num(&g, "members", plan.members())?;
            let (mut groups, mut finals, mut paths) = (Vec::new(), Vec::new(), Vec::new());
            for (k, p) in plan.sets.iter().enumerate() {
                let s = g.create_group(&format!("set_{k:03}"))?;
                for (name, v) in [
                    ("tau", p.tau),
                    ("sigma", p.sigma),
                    ("dt", p.dt),
                    ("x0", p.x0),
                    ("relax", p.relax()),
                    ("diffuse", p.diffuse()),
                ] {
                    write_num(&s, name, v)?;
                }
                write_num(&s, "first_member", (k * n) as u64)?;
                write_num(&s, "members", n as u64)?;
                let time: Vec<f64> = (0..samples)
                    .map(|i| (i as u64 * plan.record_every) as f64 * p.dt)
                    .collect();
                write_vec(&s, "time", &time)?;
                finals.push(s.new_dataset::<f64>().shape(n).create("final")?);
                if store_paths {
                    paths.push(s.new_dataset::<f64>().shape((n, samples)).create("paths")?);
                }
                groups.push(s);
            }
            Ok((groups, finals, paths))
        })()
        .with_context(|| format!("cannot lay out HDF5 file '{}'", path.display()))?;
        Ok(Self {
            file,
            paths_per_set: n,
            finals,
            paths,
            groups,
        })
    }

    /// Split a global member range into per-set local ranges.
    fn per_set(
        &self,
        members: Range<usize>,
    ) -> impl Iterator<Item = (usize, Range<usize>, Range<usize>)> + '_ {
        let n = self.paths_per_set;
        let start = members.start;
        let mut m = members.start;
        std::iter::from_fn(move || {
            (m < members.end).then(|| {
                let set = m / n;
                let end = members.end.min((set + 1) * n);
                let item = (set, m - set * n..end - set * n, m - start..end - start);
                m = end;
                item
            })
        })
    }

    fn write_finals(&self, members: Range<usize>, values: &[f64]) -> anyhow::Result<()> {
        for (set, local, idx) in self.per_set(members) {
            self.finals[set]
                .write_slice(&values[idx], s![local])
                .context("cannot write final values")?;
        }
        Ok(())
    }

    fn write_paths(&self, members: Range<usize>, data: &[f64]) -> anyhow::Result<()> {
        let samples = data.len() / members.len();
        for (set, local, idx) in self.per_set(members) {
            let rows = &data[idx.start * samples..idx.end * samples];
            let view = ArrayView2::from_shape((idx.len(), samples), rows)?;
            self.paths[set]
                .write_slice(view, s![local, ..])
                .context("cannot write paths")?;
        }
        Ok(())
    }

    fn finish(
        self,
        stats: &[(Vec<f64>, Vec<f64>)],
        reports: &[SetReport],
        report_json: &str,
    ) -> Outcome<PathBuf> {
        let write = || -> hdf5::Result<()> {
            for ((g, (mean, var)), r) in self.groups.iter().zip(stats).zip(reports) {
                write_vec(g, "mean", mean)?;
                write_vec(g, "variance", var)?;
                for (name, z) in [
                    ("z_mean", r.z_mean),
                    ("z_variance", r.z_variance),
                    ("z_lag1", r.z_lag1),
                ] {
                    write_num(g, name, z.unwrap_or(f64::NAN))?;
                }
                write_list(g, "final_mean_variance", &[r.mean, r.variance])?;
            }
            Ok(())
        };
        write()
            .context("cannot write ensemble statistics")
            .and_then(|()| self.file.write_report(report_json))
            .map_err(Failure::runtime)?;
        let Self {
            file,
            finals,
            paths,
            groups,
            ..
        } = self;
        drop((finals, paths, groups));
        file.finish()
    }
}

/// The text report.
fn text(r: &OuReport) -> String {
    use std::fmt::Write as _;
    let p = &r.plan;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "parsim ou {}: Ornstein-Uhlenbeck ensemble, exact update",
        r.version
    );
    let _ = writeln!(
        s,
        "Ensemble         : {} parameter set(s) x {} paths = {} members, {} steps, record every {}",
        p.sets.len(),
        p.paths,
        r.members,
        p.steps,
        p.record_every
    );
    let _ = writeln!(s, "Seed             : {}", p.seed);
    let _ = writeln!(s, "Ranks            : {}", r.ranks);
    let shown = 10;
    for (k, set) in r.sets.iter().enumerate().take(shown) {
        let q = &set.params;
        let z = |v: Option<f64>| v.map_or("n/a".to_string(), |z| format!("{z:+.2}"));
        let _ = writeln!(
            s,
            "Set {k:3} tau={} sigma={} dt={} x0={}: at t={:.6}: mean {:.6} (theory {:.6}, z {}), \
             var {:.6} (theory {:.6}, z {}), lag-1 {:.6} (theory {:.6}, z {}): {}",
            q.tau,
            q.sigma,
            q.dt,
            q.x0,
            set.t_end,
            set.mean,
            set.mean_theory,
            z(set.z_mean),
            set.variance,
            set.variance_theory,
            z(set.z_variance),
            set.lag1,
            set.lag1_theory,
            z(set.z_lag1),
            crate::report::verdict(set.passed)
        );
    }
    if r.sets.len() > shown {
        let failed = r.sets.iter().filter(|s| !s.passed).count();
        let _ = writeln!(
            s,
            "... {} more sets; {failed} set(s) failed in all",
            r.sets.len() - shown
        );
    }
    let _ = writeln!(
        s,
        "Validation       : |z| < {Z_LIMIT} for mean, variance and lag-1 autocorrelation: {}",
        crate::report::verdict(r.passed)
    );
    let _ = writeln!(s, "Wall time        : {:.6} s", r.wall_time_s);
    let _ = writeln!(
        s,
        "Rate             : {:.4e} steps/s, {:.4e} normals/s per core",
        r.steps_per_s, r.normals_per_s_per_core
    );
    s += &crate::report::phase_table(&[
        ("compute", &r.phases.compute),
        ("checkpoints", &r.phases.checkpoint),
        ("reduce", &r.phases.reduce),
        ("gather/I-O", &r.phases.gather_io),
    ]);
    if let Some(out) = &r.output {
        let _ = writeln!(s, "Output           : {out}");
    }
    s
}
