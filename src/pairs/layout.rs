//! The result file's `/pairs` group: points, neighbours, histogram, and
//! with `--matrix` the distance matrix, written by rank 0 strip by strip
//! as the ranks send their rows.

use mpi::traits::*;

use super::check::{sample_rows, Combined};
use super::kernel::{block_range, d2_scaled, Histogram, Points};
use super::plan::Shape;
use super::range::Scale;
use crate::error::{Failure, Outcome};
use crate::h5::{
    label, write_along, write_axis, write_index_axis, write_num, write_str, write_table, ResultFile,
};
use crate::par::{self};
use crate::tags::PAIRS_STRIP;

/// Collective (`writing`: with `--matrix` and a file): each rank's strip to rank 0,
/// written as it arrives; sampled rows checked against brute force on the
/// way. Rank 0 takes every strip even after a write failed, so no rank is
/// left sending; the failure is every rank's. (rows checked, all equal).
pub(super) fn write_matrix<C: Communicator>(
    comm: &C,
    file: Option<&ResultFile>,
    strip: &[f64],
    points: Option<&Points>,
    shape: Shape,
    writing: bool,
) -> Outcome<(usize, bool)> {
    let (n, unit, back) = (shape.n, shape.scale.unit(), shape.scale.back());
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
                    d2_scaled(pts.row(i), pts.row(j), unit).sqrt() * back
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
pub(super) struct Layout<'a> {
    pub(super) points: &'a Points,
    pub(super) all: &'a Combined,
    pub(super) nn_dist: &'a [f64],
    pub(super) diagonal: f64,
    /// `--rmax R`: the bins are over [0, R], not the diagonal.
    pub(super) rmax: Option<f64>,
    /// The scale the ring met the points at: `all` holds scaled squares.
    pub(super) scale: Scale,
    pub(super) source: &'a str,
    /// Units of the coordinates and distances: "1" for generated points
    /// (the unit cube); a file's points keep their own, unknown to parsim.
    pub(super) units: &'static str,
    pub(super) passed: bool,
}

impl Layout<'_> {
    pub(super) fn write(&self, f: &hdf5::File) -> hdf5::Result<()> {
        // The matrix, if any, was written into the group already.
        let g = f.group("pairs").or_else(|_| f.create_group("pairs"))?;
        let pts = self.points;
        write_num(&g, "n", pts.n as u64)?;
        write_num(&g, "dim", pts.dim as u64)?;
        write_str(&g, "source", self.source)?;
        write_num(&g, "bins", self.all.counts.len() as u64)?;
        write_num(&g, "diagonal", self.diagonal)?;
        if let Some(r) = self.rmax {
            write_num(&g, "rmax", r)?;
            write_num(&g, "pairs_beyond_rmax", self.all.beyond)?;
        }
        if let Some((i, j, d)) = self.all.closest {
            write_num(&g, "closest_i", i)?;
            write_num(&g, "closest_j", j)?;
            write_num(&g, "closest_distance", d.sqrt() * self.scale.back())?;
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
            // Scaled, then back (for k = 0 the plain bits): the diagonal
            // times a bin count, or two edges added, could overflow.
            let (s, bins) = (self.scale, self.all.counts.len());
            let range = self.rmax.unwrap_or(self.diagonal);
            let mut edges = Histogram::edges(bins, range * s.unit());
            let mut centres: Vec<f64> = edges.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
            s.apply_back(&mut edges);
            s.apply_back(&mut centres);
            let what = "centre of the distance bin";
            let bin = write_axis(g, "distance_bin", &centres, units, what)?;
            let what = "pairs whose distance falls in the bin";
            write_along(g, "histogram", &self.all.counts, &bin, ("1", what))?;
            write_axis(g, "bin_edges", &edges, units, "edges of the distance bins")?;
        }
        Ok(())
    }
}
