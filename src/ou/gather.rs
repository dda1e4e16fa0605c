//! The end of an OU run on rank 0: per-member results arrive one rank at
//! a time (paths in pieces of bounded size) and are written as they come,
//! so rank 0 never holds the whole ensemble; lag-1 sums and the exact sums
//! of the final values are added in member order, so every statistic is
//! the same for any number of ranks.

use std::ops::Range;

use mpi::traits::*;

use super::file::OuFile;
use super::members::Members;
use super::model::{MemberSummary, OuPlan};
use super::report::SetReport;
use crate::error::Failure;
use crate::exact::{from_limbs, mean_variance, ExactSum};
use crate::tags::{OU_PATHS as TAG_PATHS, OU_SUMMARY as TAG_SUMMARY};

/// Collective: every rank's per-member results to rank 0, in rank (so
/// member) order, written to `file` as they arrive; rank 0 gets the sink
/// with the sums over them, the others `None`.
pub fn gather<'a, C: Communicator>(
    world: &C,
    plan: &'a OuPlan,
    table: &[Range<usize>],
    st: &Members,
    store_paths: bool,
    file: Option<&'a OuFile>,
) -> Option<Sink<'a>> {
    let flat = st.flat_summaries();
    let samples = plan.samples();
    if world.rank() != 0 {
        let root = world.process_at_rank(0);
        root.send_with_tag(&flat[..], TAG_SUMMARY);
        if store_paths {
            for piece in st.paths.chunks(piece_len(samples)) {
                root.send_with_tag(piece, TAG_PATHS);
            }
        }
        return None;
    }
    let mut sink = Sink::new(plan, file);
    for (src, r) in table.iter().enumerate() {
        sink.take_rank(
            world,
            src,
            r,
            (&flat, &st.paths),
            store_paths.then_some(samples),
        );
    }
    Some(sink)
}

/// Rank 0: mean and unbiased variance at every recorded time of every set,
/// from the exact sums' limbs (`total`, as reduced).
pub fn statistics(plan: &OuPlan, total: &[i64]) -> Vec<(Vec<f64>, Vec<f64>)> {
    let samples = plan.samples();
    (0..plan.sets.len())
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
        .collect()
}

/// Values per path message (64 MiB): bounds the memory of rank 0.
const PIECE_VALUES: usize = 8 << 20;

pub fn piece_len(samples: usize) -> usize {
    (PIECE_VALUES / samples).max(1) * samples
}

/// Rank 0's consumer of per-member results: writes them to the file as
/// they arrive and accumulates the lag-1 sums in member order.
pub struct Sink<'a> {
    plan: &'a OuPlan,
    file: Option<&'a OuFile>,
    /// Per set: sum of final x and x^2 (exact), and lag-1 sums.
    finals: Vec<(ExactSum, ExactSum)>,
    sxx: Vec<f64>,
    sxy: Vec<f64>,
    pub error: Option<Failure>,
}

impl<'a> Sink<'a> {
    pub fn new(plan: &'a OuPlan, file: Option<&'a OuFile>) -> Self {
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

    /// Rank 0: the results of rank `src` (members `range`): its own
    /// (`own`: flat summaries, paths) or received; paths too when
    /// `samples` per path are stored.
    fn take_rank<C: Communicator>(
        &mut self,
        comm: &C,
        src: usize,
        range: &Range<usize>,
        (own_flat, own_paths): (&[f64], &[f64]),
        samples: Option<usize>,
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
        if let Some(samples) = samples {
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

    pub fn validate(&self, plan: &OuPlan) -> Vec<SetReport> {
        let n = plan.paths;
        plan.sets
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let scale = p.stat_scale();
                let (s1, s2) = self.finals[k];
                let (mean, var) = mean_variance(s1, s2, n);
                let t = plan.steps as f64 * p.dt;
                let finals = (mean * scale, var * scale * scale);
                SetReport::judge(p, t, n, finals, (self.sxx[k], self.sxy[k]))
            })
            .collect()
    }
}
