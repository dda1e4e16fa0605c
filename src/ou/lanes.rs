//! Where a group of OU paths stands between two pieces of work, and how
//! the steps of a piece are cut at recorded samples: shared by the
//! portable kernel (`super::kernel`) and the AVX2 one (`super::avx2`), so
//! neither imports the other's internals. Pure.

use super::model::{MemberSummary, OuParams};

/// Where `L` paths advanced in lockstep stand: steps done, and each lane's
/// x and running lag-1 sums. With the lanes' generator words it is all a
/// path needs to go on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LaneState<const L: usize> {
    /// Steps done (every lane alike).
    pub t: u64,
    pub x: [f64; L],
    pub sxx: [f64; L],
    pub sxy: [f64; L],
}

impl<const L: usize> LaneState<L> {
    /// Paths at t = 0; writes sample 0 (x0) of every record.
    pub fn start(p: &OuParams, records: &mut [&mut [f64]; L]) -> Self {
        for r in records.iter_mut() {
            r[0] = p.x0;
        }
        Self {
            t: 0,
            x: [p.x0; L],
            sxx: [0.0; L],
            sxy: [0.0; L],
        }
    }

    /// Lane `l`'s values as a summary (its final one once `t` = steps).
    pub fn summary(&self, l: usize) -> MemberSummary {
        MemberSummary {
            last: self.x[l],
            sxx: self.sxx[l],
            sxy: self.sxy[l],
        }
    }

    /// Lane `l` taken up from a summary of its running values at step `t`.
    pub fn set_lane(&mut self, l: usize, s: &MemberSummary) {
        self.x[l] = s.last;
        self.sxx[l] = s.sxx;
        self.sxy[l] = s.sxy;
    }

    /// Lanes `N * half .. N * (half + 1)` as a state of their own.
    pub(super) fn part<const N: usize>(&self, half: usize) -> LaneState<N> {
        LaneState {
            t: self.t,
            x: std::array::from_fn(|l| self.x[N * half + l]),
            sxx: std::array::from_fn(|l| self.sxx[N * half + l]),
            sxy: std::array::from_fn(|l| self.sxy[N * half + l]),
        }
    }

    /// Lanes of [`LaneState::part`] `half` put back (`t` is the caller's).
    pub(super) fn set_part<const N: usize>(&mut self, half: usize, s: &LaneState<N>) {
        for l in 0..N {
            self.x[N * half + l] = s.x[l];
            self.sxx[N * half + l] = s.sxx[l];
            self.sxy[N * half + l] = s.sxy[l];
        }
    }
}

/// Sample `k` is x at step `k * record_every`; record `r` holds samples
/// `0..r.len()`. The steps from `t` up to `to` in pieces that each end at
/// a recorded step or at `to`: (steps in the piece, sample to write after
/// it, if any).
#[inline(always)]
pub fn pieces(t: u64, to: u64, record_every: u64) -> impl Iterator<Item = (u64, Option<usize>)> {
    let mut t = t;
    std::iter::from_fn(move || {
        (t < to).then(|| {
            let next = (t / record_every + 1) * record_every;
            let end = next.min(to);
            let n = end - t;
            t = end;
            (n, (end == next).then_some((end / record_every) as usize))
        })
    })
}
