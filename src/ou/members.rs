//! This rank's share of an OU ensemble: which members are done, what
//! they left behind, the exact sums over them, and the loop that runs a
//! batch of them (`LANES` in lockstep where they share a parameter set).
//! Member `m` draws from `stream(seed, m)`, so a path does not depend on
//! which rank computed it or in which batch.

use std::ops::Range;

use super::kernel::{simulate, GroupKernel};
use super::model::{MemberSummary, OuParams, OuPlan, GROUP as LANES};
use crate::exact::ExactSum;
use crate::rng::{stream, Lanes};

/// A run of consecutive members sharing one parameter set.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub set: usize,
    pub members: Range<usize>,
    pub params: OuParams,
}

/// The segments covering `range`, each rank its own from the plan.
pub fn segments_of(plan: &OuPlan, range: &Range<usize>) -> Vec<Segment> {
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

/// Members per rank between the collective checks when no checkpoints are
/// asked for: a stop signal waits at most this long.
pub const DEFAULT_ROUND: usize = 16 * LANES;

/// This rank's members: finished or not, what they left behind, and the
/// exact sums over the finished ones (on rank 0 also a checkpoint's).
pub struct Members {
    pub done: Vec<bool>,
    pub summaries: Vec<MemberSummary>,
    /// Recorded paths, `members x samples` (only with --store paths).
    pub paths: Vec<f64>,
    pub sums: Vec<ExactSum>,
}

/// Run the members with local indices `batch` (ascending), `LANES` at a
/// time where consecutive members share a parameter set. Returns false if
/// a value left the range of exact statistics.
pub fn compute(
    plan: &OuPlan,
    segments: &[Segment],
    first: usize,
    batch: &[usize],
    store_paths: bool,
    st: &mut Members,
) -> bool {
    let samples = plan.samples();
    let mut lane_records = vec![0.0; LANES * samples];
    let kernel = GroupKernel::detect();
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
            let out = kernel.simulate(&seg.params, plan.steps, plan.record_every, &mut lanes, recs);
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

/// Cut `L * samples` values into `L` records of `samples`.
fn split_records<const L: usize>(records: &mut [f64], samples: usize) -> [&mut [f64]; L] {
    let mut parts = records.chunks_exact_mut(samples);
    std::array::from_fn(|_| parts.next().expect("L records"))
}

impl Members {
    /// `n` members, none done; room for their records with `store_paths`;
    /// zero sums for every set and sample.
    pub fn new(n: usize, plan: &OuPlan, store_paths: bool) -> Self {
        let samples = plan.samples();
        Self {
            done: vec![false; n],
            summaries: vec![MemberSummary::default(); n],
            paths: vec![0.0; if store_paths { n * samples } else { 0 }],
            sums: vec![ExactSum::default(); plan.sets.len() * samples * 2],
        }
    }

    /// Per-member summaries as flat triples (last, sxx, sxy), for messages
    /// and files.
    pub fn flat_summaries(&self) -> Vec<f64> {
        self.summaries
            .iter()
            .flat_map(|s| [s.last, s.sxx, s.sxy])
            .collect()
    }
}
