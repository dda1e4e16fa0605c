//! The pairs report: what it holds (stored in the file, printed as JSON)
//! and its text.

use serde::Serialize;

use super::kernel::ring_steps;
use super::plan::PointsFrom;
use crate::par::Spread;
use crate::report::RunInfo;
use crate::result::output_line;

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
    /// Pairs the ranks met, added up: N(N-1)/2 when the ring met each once;
    /// with the tree, the distances it computed (each pair at most twice).
    pub pairs_met: u64,
    /// Histogram counts add up to N(N-1)/2 (true without a histogram).
    pub counts_ok: bool,
    /// The closest pair's distance recomputed from its two points: the
    /// kernel's sum bit for bit, and within rounding of a distance that
    /// cannot underflow or overflow (`range::robust_distance`).
    pub closest_ok: bool,
    /// Sampled rows' nearest neighbours by brute force (and checked so
    /// against the robust distance).
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
    /// `ring` or `tree` (`--algorithm`, `auto` resolved).
    pub algorithm: &'static str,
    pub source: String,
    pub n: usize,
    pub dim: usize,
    pub pairs: u64,
    pub bins: usize,
    pub matrix: bool,
    pub diagonal: f64,
    pub closest: Closest,
    pub mean_nearest_distance: f64,
    /// Pairs binned: all of them, or with `--rmax` those closer than R.
    pub histogram_total: u64,
    /// `--rmax R`: the bins are over [0, R].
    pub rmax: Option<f64>,
    /// With `--rmax`: the pairs at R or beyond (not binned).
    pub histogram_beyond: u64,
    /// With `--rmax` and the cells: pairs binned in bulk, without their
    /// distance (the rest were computed one by one).
    pub histogram_bulk: u64,
    pub check: PairsCheck,
    pub passed: bool,
    /// The tree: rank 0's seconds building it (and the cells' grid), part
    /// of its compute phase. Every rank builds them over all the points,
    /// so this part does not shrink with more ranks (the cost model in
    /// `scripts/costmodel.py` keeps it whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree_build_s: Option<f64>,
    pub wall_time_s: f64,
    pub pairs_per_s: f64,
    /// Coordinate differences squared and added per second (pairs x D).
    pub terms_per_s: f64,
    pub phases: PairsPhases,
    pub output: Option<String>,
}

pub(super) fn source_name(source: &PointsFrom) -> String {
    match source {
        PointsFrom::File(f, _) => f.shown(),
        PointsFrom::Generated { n, dim, seed } => format!("generated: {n} x {dim}, seed {seed}"),
    }
}

/// The histogram's line of the text.
fn histogram_line(r: &PairsReport) -> String {
    let (c, v) = (&r.check, crate::report::verdict);
    if r.bins == 0 {
        "no histogram (--bins 0)".to_string()
    } else if let Some(rmax) = r.rmax {
        format!(
            "{} pairs closer than R in {} bins over [0, {rmax:e}] ({} in bulk), {} at R or beyond: {}",
            r.histogram_total,
            r.bins,
            r.histogram_bulk,
            r.histogram_beyond,
            v(c.counts_ok)
        )
    } else {
        format!(
            "{} pairs in {} bins over [0, {:.6e}]: {}",
            r.histogram_total,
            r.bins,
            r.diagonal,
            v(c.counts_ok)
        )
    }
}

/// The report as text. The closest distance is printed in the fewest
/// digits that name its f64 (`{:e}`): all of them right, where 18 digits
/// claimed more than an f64 holds.
pub(super) fn pairs_text(r: &PairsReport) -> String {
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
    let hist = histogram_line(r);
    let (how, met) = if r.algorithm == "tree" {
        (
            "nearest neighbours by a tree of boxes along a Morton curve",
            format!("tree, {} distances computed", c.pairs_met),
        )
    } else {
        (
            "all pairs by the travelling-block ring",
            format!(
                "{} ring steps, {} pairs met: {}",
                ring_steps(r.run.ranks),
                c.pairs_met,
                v(c.pairs_met == r.pairs)
            ),
        )
    };
    format!(
        "parsim pairs {}: {how}\n\
         Points           : {} x {} ({})\n\
         Ranks            : {} ({met})\n\
         Closest pair     : ({}, {}) at distance {:e}: recomputed {}\n\
         Nearest          : every point's neighbour, mean distance {:.6e}; {} sampled rows by brute force: {}\n\
         Histogram        : {hist}{matrix}\n\
         Wall time        : {:.6} s\n\
         Rate             : {:.4e} pairs/s, {:.4e} terms/s\n{}{}",
        r.run.version,
        r.n,
        r.dim,
        r.source,
        r.run.ranks,
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
