//! The files of an OU run: the parameter table it may read (`--params`),
//! and the result file (rank 0): its layout, per-member values written as
//! they arrive, statistics and report at the end.
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
use ndarray::{s, ArrayView2};

use super::ou::{parse_params, OuParams, OuPlan};
use super::ou_report::SetReport;
use crate::error::{Failure, Outcome};
use crate::h5::{write_list, write_num, write_str, write_vec, ResultFile, RunMeta};
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

/// Disk space an ensemble file needs, reserved when it is created (see
/// [`ResultFile::reserve`]): per set its times, mean, variance, final
/// values and recorded paths, 4 KiB of group metadata, and 1 MiB for the
/// file's own metadata and attributes.
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
        .saturating_add(1 << 20)
}
