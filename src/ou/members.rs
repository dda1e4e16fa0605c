//! This rank's share of an OU ensemble: which members are done, what
//! they left behind, the exact sums over them, and the [`Work`] that
//! advances them in rounds of a fixed number of steps, in groups of
//! `GROUP` in lockstep where they share a parameter set. Member `m` draws
//! from `stream(seed, m)`, so a path does not depend on which rank
//! computed it, in which group, or where rounds cut it.
//!
//! Rounds are counted in steps, not members: a member of 10^9 steps would
//! otherwise hold a stop signal for minutes. A member a round leaves
//! part-way is a [`Partial`] (its step and generator words; its x and
//! running sums in `summaries`), which a checkpoint keeps and a restart
//! takes up bitwise.

use std::ops::Range;

use super::kernel::{run_lanes, GroupKernel, LaneState};
use super::model::{MemberSummary, OuParams, OuPlan, GROUP};
use crate::exact::ExactSum;
use crate::rng::{stream, Lanes, Stream};

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

/// Group-steps (one step of every member of a group) per round when no
/// checkpoints are asked for: the longest a stop signal waits. About
/// 0.1 s with the AVX2 kernel on this project's 2-core machine (~7 ns per
/// group-step), a few tenths with the portable one; the check after a
/// round costs tens of microseconds.
pub const ROUND_STEPS: u64 = 1 << 24;

/// Group-steps per round, and rounds per checkpoint, for a checkpoint
/// after every `every` members' work per rank (0: no periodic
/// checkpoints). One member's work is `steps` member-steps, a quarter of
/// a group's; a round never exceeds [`ROUND_STEPS`].
pub fn cadence(steps: u64, every: u64) -> (u64, u64) {
    if every == 0 {
        return (ROUND_STEPS, 0);
    }
    let interval = (every as u128 * steps as u128)
        .div_ceil(GROUP as u128)
        .max(1);
    let round = interval.min(ROUND_STEPS as u128) as u64;
    let per_checkpoint = interval.div_ceil(round as u128);
    (round, u64::try_from(per_checkpoint).unwrap_or(u64::MAX))
}

/// A member part-way along its path: the step it reached and its
/// generator's words. Its x and running sums are its `summaries` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    /// Local index (in this rank's range).
    pub member: usize,
    pub t: u64,
    pub words: [u64; 4],
}

/// This rank's members: finished, part-way or not started, what they
/// left behind, and the exact sums over every recorded sample so far (on
/// rank 0 also a checkpoint's).
pub struct Members {
    pub done: Vec<bool>,
    /// Final values of finished members, running values of part-way ones.
    pub summaries: Vec<MemberSummary>,
    /// Recorded paths, `members x samples` (only with --store paths).
    pub paths: Vec<f64>,
    pub sums: Vec<ExactSum>,
    /// Members part-way, by local index: the group a round left (and those
    /// a restart brought).
    pub partial: Vec<Partial>,
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
            partial: Vec::new(),
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

    /// The step member `k` reached: 0 unless it is part-way.
    fn step_of(&self, k: usize) -> u64 {
        self.find(k).map_or(0, |i| self.partial[i].t)
    }

    fn find(&self, k: usize) -> Option<usize> {
        self.partial.binary_search_by_key(&k, |p| p.member).ok()
    }

    /// Record member `k` as part-way (or no longer, with `None`).
    fn set_partial(&mut self, k: usize, at: Option<(u64, [u64; 4])>) {
        match (self.find(k), at) {
            (Some(i), Some((t, words))) => {
                self.partial[i] = Partial {
                    member: k,
                    t,
                    words,
                }
            }
            (Some(i), None) => drop(self.partial.remove(i)),
            (None, Some((t, words))) => {
                let i = self.partial.partition_point(|p| p.member < k);
                self.partial.insert(
                    i,
                    Partial {
                        member: k,
                        t,
                        words,
                    },
                );
            }
            (None, None) => {}
        }
    }
}

/// Members advanced in lockstep: consecutive, of one parameter set, at
/// the same step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// Local index of the first member.
    pub first: usize,
    /// 1 or `GROUP`.
    pub width: usize,
    pub set: usize,
    /// Steps done.
    pub t: u64,
}

/// This rank's unfinished members as groups, in member order: `GROUP` at
/// a time where they are consecutive, of one set and at one step, else one
/// at a time. The grouping changes no member's bits.
pub fn groups_of(segments: &[Segment], first: usize, st: &Members) -> Vec<Group> {
    let mut out = Vec::new();
    for seg in segments {
        let (start, end) = (seg.members.start - first, seg.members.end - first);
        let mut k = start;
        while k < end {
            if st.done[k] {
                k += 1;
                continue;
            }
            let t = st.step_of(k);
            let together =
                k + GROUP <= end && (k..k + GROUP).all(|j| !st.done[j] && st.step_of(j) == t);
            let width = if together { GROUP } else { 1 };
            out.push(Group {
                first: k,
                width,
                set: seg.set,
                t,
            });
            k += width;
        }
    }
    out
}

/// The work left on this rank and the loop that does it a round at a time.
pub struct Work {
    groups: Vec<Group>,
    /// The group in progress (or the next to start).
    next: usize,
    /// Global index of local member 0 (its stream's index).
    first: usize,
    kernel: GroupKernel,
    store_paths: bool,
    /// Records of the group in progress without --store paths.
    lane_records: Vec<f64>,
}

impl Work {
    /// The unfinished members of `st` (this rank's `range`) as groups.
    pub fn new(plan: &OuPlan, range: &Range<usize>, st: &Members, store_paths: bool) -> Self {
        let segments = segments_of(plan, range);
        Self {
            groups: groups_of(&segments, range.start, st),
            next: 0,
            first: range.start,
            kernel: GroupKernel::detect(),
            store_paths,
            lane_records: vec![
                0.0;
                if store_paths {
                    0
                } else {
                    GROUP * plan.samples()
                }
            ],
        }
    }

    /// Group-steps left (one step of every member of a group).
    pub fn left(&self, steps: u64) -> u128 {
        self.groups[self.next..]
            .iter()
            .map(|g| (steps - g.t) as u128)
            .sum()
    }

    /// Advance the groups in order by `budget` group-steps (fewer when the
    /// work runs out), so a round costs the same wherever paths are cut.
    /// Returns false if a value left the range of exact statistics.
    pub fn round(&mut self, plan: &OuPlan, budget: u64, st: &mut Members) -> bool {
        let mut left = budget;
        let mut in_range = true;
        while left > 0 && self.next < self.groups.len() {
            let mut g = self.groups[self.next];
            let to = plan.steps.min(g.t.saturating_add(left));
            left -= to - g.t;
            in_range &= self.piece(plan, &mut g, to, st);
            self.groups[self.next] = g;
            if to == plan.steps {
                self.next += 1;
            }
        }
        in_range
    }

    /// Advance group `g` to step `to`: take up its members (from their
    /// streams at t = 0, else from `st.partial`), run the kernel, add the
    /// samples it recorded to the exact sums, put the members down
    /// (finished or part-way).
    fn piece(&mut self, plan: &OuPlan, g: &mut Group, to: u64, st: &mut Members) -> bool {
        let samples = plan.samples();
        let p = plan.sets[g.set];
        // What a group part-way kept, read before its records are borrowed.
        let kept: Vec<([u64; 4], MemberSummary)> = match g.t {
            0 => Vec::new(),
            _ => (g.first..g.first + g.width)
                .map(|k| {
                    let i = st
                        .find(k)
                        .expect("a group part-way has its members in `partial`");
                    (st.partial[i].words, st.summaries[k])
                })
                .collect(),
        };
        let records: &mut [f64] = if self.store_paths {
            &mut st.paths[g.first * samples..(g.first + g.width) * samples]
        } else {
            &mut self.lane_records[..g.width * samples]
        };
        let start = |l: usize| stream(plan.seed, (self.first + g.first + l) as u64);
        let held = |l: usize| kept[l];
        let re = plan.record_every;
        let ended: Vec<(u64, [u64; 4], MemberSummary)> = if g.width == GROUP {
            let mut recs = split_records::<GROUP>(records, samples);
            let (mut state, mut lanes) = take_up(&p, g.t, &mut recs, start, held);
            self.kernel.run(&p, re, to, &mut state, &mut lanes, recs);
            put_down(&state, &lanes)
        } else {
            let mut recs = split_records::<1>(records, samples);
            let (mut state, mut lanes) = take_up(&p, g.t, &mut recs, start, held);
            run_lanes(&p, re, to, &mut state, &mut lanes, recs);
            put_down(&state, &lanes)
        };
        // Samples written by this piece: those at steps in (g.t, to], and
        // x0 when the paths started here.
        let new = if g.t == 0 { 0 } else { (g.t / re + 1) as usize }..(to / re + 1) as usize;
        let records: &[f64] = if self.store_paths {
            &st.paths[g.first * samples..(g.first + g.width) * samples]
        } else {
            &self.lane_records[..g.width * samples]
        };
        let scale = p.stat_scale();
        let acc = &mut st.sums[g.set * samples * 2..(g.set + 1) * samples * 2];
        let mut in_range = true;
        for record in records.chunks_exact(samples) {
            for k in new.clone() {
                let y = record[k] / scale;
                in_range &= acc[2 * k].add(y).is_ok() & acc[2 * k + 1].add(y * y).is_ok();
            }
        }
        for (l, (t, words, summary)) in ended.into_iter().enumerate() {
            let k = g.first + l;
            st.summaries[k] = summary;
            st.done[k] = t == plan.steps;
            st.set_partial(k, (t < plan.steps).then_some((t, words)));
        }
        g.t = to;
        in_range
    }
}

/// The lanes of a group at step `t`: fresh from `start(l)` at t = 0 (which
/// writes sample 0), else from what `held(l)` kept (words, running values).
fn take_up<const L: usize>(
    p: &OuParams,
    t: u64,
    records: &mut [&mut [f64]; L],
    start: impl Fn(usize) -> Stream,
    held: impl Fn(usize) -> ([u64; 4], MemberSummary),
) -> (LaneState<L>, Lanes<L>) {
    if t == 0 {
        let streams: [_; L] = std::array::from_fn(start);
        return (LaneState::start(p, records), Lanes::new(&streams));
    }
    let mut state = LaneState {
        t,
        x: [0.0; L],
        sxx: [0.0; L],
        sxy: [0.0; L],
    };
    let mut words = [[0u64; 4]; L];
    for (l, w) in words.iter_mut().enumerate() {
        let (kept, summary) = held(l);
        *w = kept;
        state.set_lane(l, &summary);
    }
    (state, Lanes::from_words(words))
}

/// Each lane's step, generator words and values after a piece.
fn put_down<const L: usize>(
    state: &LaneState<L>,
    lanes: &Lanes<L>,
) -> Vec<(u64, [u64; 4], MemberSummary)> {
    (0..L)
        .map(|l| (state.t, lanes.words(l), state.summary(l)))
        .collect()
}

/// Cut `L * samples` values into `L` records of `samples`.
fn split_records<const L: usize>(records: &mut [f64], samples: usize) -> [&mut [f64]; L] {
    let mut parts = records.chunks_exact_mut(samples);
    std::array::from_fn(|_| parts.next().expect("L records"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::from_limbs;
    use crate::ou::model::{OuRequest, Sweep};

    /// Two sets of 7 members (so groups of 4 and single members), 1000
    /// steps recorded every 30 (the last step is no recorded one).
    fn plan() -> OuPlan {
        OuPlan::new(&OuRequest {
            sweep: Sweep::Product {
                taus: vec![1.0, 0.5],
                sigmas: vec![2.0],
                dts: vec![0.1],
                x0s: vec![0.3],
            },
            paths: 7,
            steps: 1000,
            record_every: 30,
            seed: 5,
            store_paths: true,
        })
        .unwrap()
    }

    /// Members `range` run to the end from `st` in rounds of `budget`.
    fn finish(plan: &OuPlan, range: Range<usize>, budget: u64, store: bool, st: &mut Members) {
        let mut work = Work::new(plan, &range, st, store);
        while work.left(plan.steps) > 0 {
            assert!(work.round(plan, budget, st));
        }
        assert!(st.done.iter().all(|&d| d) && st.partial.is_empty());
    }

    fn whole(plan: &OuPlan, store: bool) -> Members {
        let n = plan.members() as usize;
        let mut st = Members::new(n, plan, store);
        finish(plan, 0..n, ROUND_STEPS, store, &mut st);
        st
    }

    fn bits(st: &Members) -> (Vec<u64>, Vec<u64>) {
        let s = st.flat_summaries().iter().map(|x| x.to_bits()).collect();
        (s, st.paths.iter().map(|x| x.to_bits()).collect())
    }

    #[test]
    fn rounds_of_any_size_give_the_same_bits() {
        let plan = plan();
        let n = plan.members() as usize;
        for store in [true, false] {
            let reference = whole(&plan, store);
            for budget in [1, 29, 30, 31, 250, 1001, 4000] {
                let mut st = Members::new(n, &plan, store);
                finish(&plan, 0..n, budget, store, &mut st);
                assert_eq!(bits(&st), bits(&reference), "budget {budget}");
                assert_eq!(st.sums, reference.sums, "budget {budget}");
            }
        }
    }

    /// A run stopped with members part-way, its state passed on as a
    /// checkpoint passes it (values only), resumed on "two ranks" whose
    /// ranges cut a part-way group: the same bits as a run never stopped.
    #[test]
    fn a_restart_from_members_part_way_is_bitwise() {
        let plan = plan();
        let n = plan.members() as usize;
        for store in [true, false] {
            let reference = whole(&plan, store);
            let mut st = Members::new(n, &plan, store);
            let mut work = Work::new(&plan, &(0..n), &st, store);
            for _ in 0..7 {
                work.round(&plan, 333, &mut st);
            }
            assert!(!st.partial.is_empty() && st.done.iter().any(|&d| d));
            let samples = plan.samples();
            let mut total = vec![[0i64; 4]; st.sums.len()];
            for range in [0..5, 5..n] {
                let mut part = Members::new(range.len(), &plan, store);
                part.done = st.done[range.clone()].to_vec();
                part.summaries = st.summaries[range.clone()].to_vec();
                if store {
                    part.paths = st.paths[range.start * samples..range.end * samples].to_vec();
                }
                part.partial = st
                    .partial
                    .iter()
                    .filter(|p| range.contains(&p.member))
                    .map(|p| Partial {
                        member: p.member - range.start,
                        ..*p
                    })
                    .collect();
                if range.start == 0 {
                    part.sums = st.sums.clone();
                }
                finish(&plan, range.clone(), 250, store, &mut part);
                let got = bits(&part);
                let want = bits(&reference);
                assert_eq!(got.0[..], want.0[range.start * 3..range.end * 3]);
                if store {
                    assert_eq!(
                        got.1[..],
                        want.1[range.start * samples..range.end * samples]
                    );
                }
                for (t, s) in total.iter_mut().zip(&part.sums) {
                    for (a, b) in t.iter_mut().zip(s.limbs()) {
                        *a += b;
                    }
                }
            }
            let total: Vec<ExactSum> = total.into_iter().map(from_limbs).collect();
            assert_eq!(total, reference.sums);
        }
    }

    #[test]
    fn groups_hold_consecutive_members_of_one_set_at_one_step() {
        let plan = plan();
        let n = plan.members() as usize;
        let mut st = Members::new(n, &plan, false);
        st.done[1] = true;
        st.partial = vec![Partial {
            member: 9,
            t: 40,
            words: [1, 2, 3, 4],
        }];
        let g = groups_of(&segments_of(&plan, &(0..n)), 0, &st);
        let shape: Vec<(usize, usize, usize, u64)> =
            g.iter().map(|g| (g.first, g.width, g.set, g.t)).collect();
        assert_eq!(
            shape,
            [
                (0, 1, 0, 0),
                (2, 4, 0, 0),
                (6, 1, 0, 0),
                (7, 1, 1, 0),
                (8, 1, 1, 0),
                (9, 1, 1, 40),
                (10, 4, 1, 0),
            ]
        );
    }

    #[test]
    fn cadence_counts_members_of_work_per_rank() {
        assert_eq!(cadence(1000, 0), (ROUND_STEPS, 0));
        // One member's work: a quarter of a group's steps, every round.
        assert_eq!(cadence(1000, 1), (250, 1));
        assert_eq!(cadence(3, 1), (1, 1));
        // Long members: rounds stay short, checkpoints come every few.
        assert_eq!(cadence(1 << 30, 2), (ROUND_STEPS, 32));
        assert_eq!(cadence(u64::MAX, u64::MAX).0, ROUND_STEPS);
    }
}
