//! The files of an OU run: the parameter table it may read (`--params`),
//! and the result file (rank 0): its layout, per-member values written as
//! they arrive, statistics and report at the end.
//!
//! ```text
//! /ou                attrs: paths, steps, record_every, seed, store, sets, members
//!   set       [sets]         axis: parameter set index
//!   tau, sigma, dt, x0 [set] each set's parameters (coordinates)
//!   final_mean, final_variance, z_mean, z_variance, z_lag1 [set]
//! /ou/set_NNN        attrs: tau, sigma, dt, x0, relax, diffuse, first_member,
//!                           members, z_mean, z_variance, z_lag1,
//!                           final_mean_variance [2]
//!   time      [S]            axis: t of each recorded sample (0, K dt, 2K dt, ...)
//!   member    [paths]        axis: global member index
//!   mean      [S]            ensemble mean at each recorded time
//!   variance  [S]            unbiased ensemble variance at each recorded time
//!   final     [paths]        x at t = steps dt of every member of the set
//!   paths     [paths, S]     recorded paths (only with --store paths)
//! ```
//!
//! Axes are HDF5 dimension scales and every dataset has `units` and
//! `long_name`, so xarray opens `group="ou"` and `group="ou/set_000"` as
//! labelled Datasets.

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Context;
use ndarray::{s, ArrayView2};

use super::model::{parse_params, OuParams, OuPlan};
use super::report::SetReport;
use crate::error::{Failure, Outcome};
use crate::h5::{
    label, write_along, write_axis, write_index_axis, write_list, write_num, write_str, ResultFile,
    RunMeta,
};
use crate::output::PendingOutput;

/// Rank 0: the parameter table at `path` (a regular file: a FIFO would
/// block every rank).
pub fn read_params(path: &Path) -> Outcome<Vec<OuParams>> {
    let shown = path.display();
    let fail = |e: String| Failure::usage(format!("--params '{shown}': {e}"));
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(fail("not a regular file".into())),
        Err(e) => return Err(fail(e.to_string())),
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    parse_params(&text).map_err(fail)
}

/// The OU result file (rank 0).
pub struct OuFile {
    file: ResultFile,
    paths_per_set: usize,
    finals: Vec<hdf5::Dataset>,
    paths: Vec<hdf5::Dataset>,
    groups: Vec<hdf5::Group>,
}

impl OuFile {
    pub fn create(
        output: PendingOutput,
        plan: &OuPlan,
        store_paths: bool,
        meta: &RunMeta,
    ) -> anyhow::Result<Self> {
        let path = output.temp_path().to_path_buf();
        let mut file = ResultFile::create(output, meta)?;
        file.reserve(file_bytes(plan, store_paths))?;
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
            write_sweep(&g, plan)?;
            let (mut groups, mut finals, mut paths) = (Vec::new(), Vec::new(), Vec::new());
            for (k, p) in plan.sets.iter().enumerate() {
                let s = g.create_group(&format!("set_{k:03}"))?;
                let (f, p) = lay_out_set(&s, plan, p, (k * n) as u64, store_paths)?;
                finals.push(f);
                paths.extend(p);
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

    pub fn write_finals(&self, members: Range<usize>, values: &[f64]) -> anyhow::Result<()> {
        for (set, local, idx) in self.per_set(members) {
            self.finals[set]
                .write_slice(&values[idx], s![local])
                .context("cannot write final values")?;
        }
        Ok(())
    }

    pub fn write_paths(&self, members: Range<usize>, data: &[f64]) -> anyhow::Result<()> {
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

    pub fn finish(
        self,
        stats: &[(Vec<f64>, Vec<f64>)],
        reports: &[SetReport],
        report_json: &str,
    ) -> Outcome<PathBuf> {
        let write = || -> hdf5::Result<()> {
            for ((g, (mean, var)), r) in self.groups.iter().zip(stats).zip(reports) {
                let time = g.dataset("time")?;
                write_along(g, "mean", mean, &time, (OU_UNITS, "ensemble mean"))?;
                let what = "unbiased ensemble variance";
                write_along(g, "variance", var, &time, (OU_UNITS, what))?;
                for (name, z) in [
                    ("z_mean", r.z_mean),
                    ("z_variance", r.z_variance),
                    ("z_lag1", r.z_lag1),
                ] {
                    write_num(g, name, z.unwrap_or(f64::NAN))?;
                }
                write_list(g, "final_mean_variance", &[r.mean, r.variance])?;
            }
            write_set_stats(&self.file.root().group("ou")?, reports)
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

/// Each set's statistics along `/ou/set`, its parameters as coordinates.
fn write_set_stats(g: &hdf5::Group, reports: &[SetReport]) -> hdf5::Result<()> {
    let set = g.dataset("set")?;
    let column = |f: fn(&SetReport) -> f64| reports.iter().map(f).collect::<Vec<f64>>();
    for (name, values, what) in [
        ("final_mean", column(|r| r.mean), "ensemble mean at the end"),
        (
            "final_variance",
            column(|r| r.variance),
            "ensemble variance at the end",
        ),
        (
            "z_mean",
            column(|r| r.z_mean.unwrap_or(f64::NAN)),
            "z of the final mean against the law",
        ),
        (
            "z_variance",
            column(|r| r.z_variance.unwrap_or(f64::NAN)),
            "z of the final variance against the law",
        ),
        (
            "z_lag1",
            column(|r| r.z_lag1.unwrap_or(f64::NAN)),
            "z of the lag-1 autocorrelation against the law",
        ),
    ] {
        let d = write_along(g, name, &values, &set, ("1", what))?;
        write_str(&d, "coordinates", "tau sigma dt x0")?;
    }
    Ok(())
}

/// Units of every OU quantity: the model has none of its own (time is in
/// the units of tau and dt, x in those of sigma and x0).
const OU_UNITS: &str = "1";

/// `/ou`'s sweep axis: `set` and, along it, each set's parameters (read by
/// xarray as coordinates of the per-set statistics written at the end).
fn write_sweep(g: &hdf5::Group, plan: &OuPlan) -> hdf5::Result<()> {
    let set = write_index_axis(g, "set", 0..plan.sets.len() as u64, "parameter set")?;
    let column = |f: fn(&OuParams) -> f64| plan.sets.iter().map(f).collect::<Vec<f64>>();
    for (name, values, what) in [
        ("tau", column(|p| p.tau), "relaxation time"),
        (
            "sigma",
            column(|p| p.sigma),
            "stationary standard deviation",
        ),
        ("dt", column(|p| p.dt), "time step"),
        ("x0", column(|p| p.x0), "initial value"),
    ] {
        write_along(g, name, &values, &set, (OU_UNITS, what))?;
    }
    Ok(())
}

/// One set's group: its parameters as attributes, the axes `time` and
/// `member` (global member indices), and the final values and recorded
/// paths, laid out empty.
fn lay_out_set(
    s: &hdf5::Group,
    plan: &OuPlan,
    p: &OuParams,
    first: u64,
    store_paths: bool,
) -> hdf5::Result<(hdf5::Dataset, Option<hdf5::Dataset>)> {
    let (samples, n) = (plan.samples(), plan.paths);
    for (name, v) in [
        ("tau", p.tau),
        ("sigma", p.sigma),
        ("dt", p.dt),
        ("x0", p.x0),
        ("relax", p.relax()),
        ("diffuse", p.diffuse()),
    ] {
        write_num(s, name, v)?;
    }
    write_num(s, "first_member", first)?;
    write_num(s, "members", n)?;
    let time: Vec<f64> = (0..samples)
        .map(|i| crate::h5::time_label(i as u64 * plan.record_every, p.dt))
        .collect();
    let time = write_axis(s, "time", &time, OU_UNITS, "time")?;
    let member = write_index_axis(s, "member", first..first + n, "ensemble member")?;
    let finals = s.new_dataset::<f64>().shape(n as usize).create("final")?;
    label(&finals, OU_UNITS, "x at the end of the run", &[&member])?;
    let paths = store_paths
        .then(|| -> hdf5::Result<_> {
            let d = s
                .new_dataset::<f64>()
                .shape((n as usize, samples))
                .create("paths")?;
            label(
                &d,
                OU_UNITS,
                "x of each member at each recorded time",
                &[&member, &time],
            )?;
            Ok(d)
        })
        .transpose()?;
    Ok((finals, paths))
}

/// Disk space an ensemble file needs, reserved when it is created (see
/// [`ResultFile::reserve`]): per set its times, mean, variance, final
/// values and recorded paths, 4 KiB of group metadata, and
/// [`crate::h5::METADATA_BYTES`] for the file's own metadata and attributes.
fn file_bytes(plan: &OuPlan, store_paths: bool) -> u64 {
    let (samples, n) = (plan.samples() as u64, plan.paths);
    let paths = if store_paths {
        n.saturating_mul(samples)
    } else {
        0
    };
    let per_set = (3 * samples + n)
        .saturating_add(paths)
        .saturating_mul(8)
        .saturating_add(4 << 10);
    (plan.sets.len() as u64)
        .saturating_mul(per_set)
        .saturating_add(crate::h5::METADATA_BYTES)
}
