//! Checkpoints of an OU ensemble.
//!
//! Members are independent, so a checkpoint only has to say which members
//! are finished, which are part-way and where, and what they left behind:
//!
//! ```text
//! /ou_checkpoint   attrs: format, plan (JSON of the ensemble), store
//!   done      u8  [members]            1 for a finished member
//!   summary   f64 [members, 3]         x, sum x_i^2, sum x_i x_{i+1}: final,
//!                                      or so far for a member part-way
//!   partial   u64 [n, 6]               members part-way: member, step
//!                                      reached, its generator's 4 words
//!   sums      i64 [sets*samples*2*4]   exact sums of x/scale and (x/scale)^2
//!                                      over every sample recorded so far,
//!                                      as limbs
//!   records   f64 [members, samples]   recorded paths (--store paths only)
//! ```
//!
//! A resumed run takes the members part-way up where they were and runs
//! only what is left; the exact sums are integers, so adding the
//! checkpoint's to the new samples' gives the same bits on any number of
//! ranks as an uninterrupted run. Format 1 (before members could stop
//! part-way) has no `partial` and is still read.

use std::ops::Range;
use std::path::Path;

use anyhow::Context;
use ndarray::s;

use mpi::traits::*;

use super::members::{Members, Partial};
use super::model::{MemberSummary, OuParams, OuPlan, OuRequest, Sweep};
use crate::error::{Failure, Outcome};
use crate::exact::from_limbs;
use crate::h5::{write_str, ResultFile, RunMeta};
use crate::par;
use crate::tags::{
    OU_CKPT_DONE as TAG_CKPT_DONE, OU_CKPT_PARTIAL as TAG_CKPT_PARTIAL,
    OU_CKPT_RECORDS as TAG_CKPT_RECORDS, OU_CKPT_SUMMARY as TAG_CKPT_SUMMARY,
};

pub const FORMAT: &str = "parsim-ou-checkpoint-2";
/// Written before members could stop part-way: no `partial` dataset.
const FORMAT_1: &str = "parsim-ou-checkpoint-1";

/// A member part-way in a checkpoint: (global index, step reached,
/// generator words), one row of `partial`.
pub type SavedPartial = (u64, u64, [u64; 4]);

/// What every rank needs to know about a checkpoint before reading its part.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OuCheckpointMeta {
    pub path: String,
    pub plan: OuPlan,
    pub store_paths: bool,
    /// The members part-way, in member order.
    pub partial: Vec<SavedPartial>,
}

/// Rank 0: read and check a checkpoint's metadata.
pub fn read_meta(path: &Path) -> Outcome<OuCheckpointMeta> {
    let file = crate::h5::RestartFile::open(path, "ou", "ou_checkpoint")?;
    let format = file.text("format")?;
    if format != FORMAT && format != FORMAT_1 {
        return Err(file.unusable("unknown format"));
    }
    let plan: OuPlan = serde_json::from_str(&file.text("plan")?)
        .map_err(|e| file.unusable(format!("plan attribute: {e}")))?;
    let store_paths = file.text("store")? == "paths";
    let done: Vec<u8> = file
        .group
        .dataset("done")
        .and_then(|d| d.read_raw())
        .map_err(|_| file.unusable("dataset 'done' missing or unreadable"))?;
    if done.len() as u64 != plan.members() {
        return Err(file.unusable("dataset 'done' does not match the plan"));
    }
    let partial = if format == FORMAT_1 {
        Vec::new()
    } else {
        let rows: Vec<u64> = file
            .group
            .dataset("partial")
            .and_then(|d| d.read_raw())
            .map_err(|_| file.unusable("dataset 'partial' missing or unreadable"))?;
        partial_rows(&rows, &plan, &done).map_err(|e| file.unusable(e))?
    };
    Ok(OuCheckpointMeta {
        path: path.display().to_string(),
        plan,
        store_paths,
        partial,
    })
}

/// The rows of a `partial` dataset, checked: each an unfinished member of
/// the plan, once, in order, part-way (0 < step < steps).
fn partial_rows(flat: &[u64], plan: &OuPlan, done: &[u8]) -> Result<Vec<SavedPartial>, String> {
    if flat.len() % 6 != 0 {
        return Err("dataset 'partial' is not n x 6".into());
    }
    let mut out: Vec<SavedPartial> = Vec::with_capacity(flat.len() / 6);
    for row in flat.chunks_exact(6) {
        let (m, t) = (row[0], row[1]);
        let member_ok = m < plan.members() && done[m as usize] == 0;
        let ordered = out.last().is_none_or(|last| last.0 < m);
        if !member_ok || !ordered || t == 0 || t >= plan.steps {
            return Err(format!(
                "dataset 'partial': row for member {m} at step {t} does not fit the plan"
            ));
        }
        out.push((m, t, [row[2], row[3], row[4], row[5]]));
    }
    Ok(out)
}

impl OuCheckpointMeta {
    /// The request of a resumed run: what was `given` stays (and is checked
    /// against the checkpoint by [`OuCheckpointMeta::check_same`]); every
    /// other option is the checkpoint's, so `--restart FILE` alone
    /// continues the ensemble as it was.
    pub fn fill_in(&self, mut r: OuRequest, given: &[String]) -> OuRequest {
        let given = |id: &str| given.iter().any(|g| g == id);
        let c = &self.plan;
        if !given("paths") {
            r.paths = c.paths;
        }
        if !given("steps") {
            r.steps = c.steps;
        }
        if !given("record_every") {
            r.record_every = c.record_every;
        }
        if !given("seed") {
            r.seed = c.seed;
        }
        if !given("store") {
            r.store_paths = self.store_paths;
        }
        if !["tau", "sigma", "dt", "x0", "params"]
            .iter()
            .any(|id| given(id))
        {
            r.sweep = Sweep::Table(c.sets.clone());
        }
        r
    }

    /// The resumed run must be the same ensemble: name the first
    /// difference. Judged on the request, before its table of sets is
    /// built: each parameter's distinct values in order (a product's
    /// lists, a table's columns) are what the checkpoint's sets show.
    pub fn check_same(&self, r: &OuRequest) -> Outcome {
        let c = &self.plan;
        let differ = |what: &str, given: String, stored: String| {
            Err(Failure::usage(format!(
                "{what} {given} contradicts the checkpoint '{}' ({stored}); a resumed ensemble must be the same",
                self.path
            )))
        };
        let distinct = |values: &mut dyn Iterator<Item = f64>| {
            let mut out: Vec<f64> = Vec::new();
            for v in values {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
            out.iter().map(f64::to_string).collect::<Vec<_>>().join(",")
        };
        for (name, given, stored) in [
            ("--paths", r.paths, c.paths),
            ("--steps", r.steps, c.steps),
            ("--record-every", r.record_every, c.record_every),
            ("--seed", r.seed, c.seed),
        ] {
            if given != stored {
                return differ(name, given.to_string(), stored.to_string());
            }
        }
        let stored_columns: [fn(&OuParams) -> f64; 4] =
            [|p| p.tau, |p| p.sigma, |p| p.dt, |p| p.x0];
        for ((name, values), f) in r.sweep.values().into_iter().zip(stored_columns) {
            let given = distinct(&mut values.into_iter());
            let stored = distinct(&mut c.sets.iter().map(f));
            if given != stored {
                return differ(&format!("--{name}"), given, stored);
            }
        }
        // Equal lengths first: the table is then no larger than the
        // checkpoint's own.
        if r.sweep.len() != c.sets.len() as u128 || r.sweep.sets() != c.sets {
            return differ("the parameter sets", "given".into(), "stored".into());
        }
        if r.store_paths != self.store_paths {
            let name = |p: bool| if p { "paths" } else { "stats" }.to_string();
            return differ("--store", name(r.store_paths), name(self.store_paths));
        }
        Ok(())
    }
}

/// One rank's share of a checkpoint.
pub struct Share {
    pub done: Vec<bool>,
    pub summaries: Vec<MemberSummary>,
    /// `members x samples`, only with --store paths.
    pub records: Vec<f64>,
}

/// Read members `range` of the checkpoint.
pub fn read_share(
    path: &Path,
    range: &Range<usize>,
    samples: usize,
    store_paths: bool,
) -> anyhow::Result<Share> {
    let file =
        hdf5::File::open(path).with_context(|| format!("cannot open '{}'", path.display()))?;
    let g = file.group("ou_checkpoint")?;
    let done: Vec<u8> = g
        .dataset("done")?
        .read_slice_1d(s![range.clone()])?
        .to_vec();
    let summary = g
        .dataset("summary")?
        .read_slice_2d::<f64, _>(s![range.clone(), ..])?;
    let summaries = summary
        .outer_iter()
        .map(|r| MemberSummary {
            last: r[0],
            sxx: r[1],
            sxy: r[2],
        })
        .collect();
    let records = if store_paths && !range.is_empty() {
        let r = g
            .dataset("records")?
            .read_slice_2d::<f64, _>(s![range.clone(), ..])?;
        anyhow::ensure!(
            r.ncols() == samples,
            "records have {} samples, expected {samples}",
            r.ncols()
        );
        r.iter().copied().collect()
    } else {
        Vec::new()
    };
    Ok(Share {
        done: done.iter().map(|&d| d != 0).collect(),
        summaries,
        records,
    })
}

/// Rank 0: the exact sums stored in a checkpoint.
pub fn read_sums(path: &Path) -> anyhow::Result<Vec<i64>> {
    let file = hdf5::File::open(path)?;
    Ok(file.group("ou_checkpoint")?.dataset("sums")?.read_raw()?)
}

/// A checkpoint being written by rank 0.
pub struct OuCheckpointFile {
    pub file: ResultFile,
    done: hdf5::Dataset,
    summary: hdf5::Dataset,
    records: Option<hdf5::Dataset>,
}

impl OuCheckpointFile {
    pub fn create(
        file: ResultFile,
        plan: &OuPlan,
        store_paths: bool,
        sums: &[i64],
    ) -> anyhow::Result<Self> {
        let members = plan.members() as usize;
        let g = file.root().create_group("ou_checkpoint")?;
        write_str(&g, "format", FORMAT)?;
        write_str(&g, "plan", &serde_json::to_string(plan)?)?;
        write_str(&g, "store", if store_paths { "paths" } else { "stats" })?;
        let done = g.new_dataset::<u8>().shape(members).create("done")?;
        let summary = g
            .new_dataset::<f64>()
            .shape((members, 3))
            .create("summary")?;
        let records = if store_paths {
            Some(
                g.new_dataset::<f64>()
                    .shape((members, plan.samples()))
                    .create("records")?,
            )
        } else {
            None
        };
        crate::h5::write_vec(&g, "sums", sums)?;
        Ok(Self {
            file,
            done,
            summary,
            records,
        })
    }

    /// Write the state of members `range` (all of one rank).
    pub fn write_share(
        &self,
        range: &Range<usize>,
        done: &[u8],
        summary: &[f64],
        records: &[f64],
    ) -> anyhow::Result<()> {
        if range.is_empty() {
            return Ok(());
        }
        self.done.write_slice(done, s![range.clone()])?;
        let view = ndarray::ArrayView2::from_shape((range.len(), 3), summary)?;
        self.summary.write_slice(view, s![range.clone(), ..])?;
        if let Some(rec) = &self.records {
            let samples = records.len() / range.len();
            let view = ndarray::ArrayView2::from_shape((range.len(), samples), records)?;
            rec.write_slice(view, s![range.clone(), ..])?;
        }
        Ok(())
    }

    /// The members part-way over all ranks, as flat rows of 6.
    pub fn write_partial(&self, rows: &[u64]) -> anyhow::Result<()> {
        let g = self.file.root().group("ou_checkpoint")?;
        let d = g
            .new_dataset::<u64>()
            .shape((rows.len() / 6, 6))
            .create("partial")?;
        d.write_raw(rows)?;
        Ok(())
    }

    pub fn finish(self) -> Outcome<std::path::PathBuf> {
        let Self {
            file,
            done,
            summary,
            records,
        } = self;
        drop((done, summary, records));
        file.finish()
    }
}
/// Where and what a checkpoint is written.
pub struct Target<'a> {
    pub path: &'a Path,
    pub plan: &'a OuPlan,
    pub store_paths: bool,
    pub meta: &'a RunMeta,
}

/// Collective: write a checkpoint of every rank's finished members and the
/// global exact sums over them.
pub fn write<C: Communicator>(
    world: &C,
    to: &Target,
    range: &Range<usize>,
    table: &[Range<usize>],
    st: &Members,
) -> Outcome {
    let (plan, store_paths) = (to.plan, to.store_paths);
    let root = world.process_at_rank(0);
    let done: Vec<u8> = st.done.iter().map(|&d| u8::from(d)).collect();
    let summary = st.flat_summaries();
    let partial: Vec<u64> = st
        .partial
        .iter()
        .flat_map(|p| {
            let [a, b, c, d] = p.words;
            [(range.start + p.member) as u64, p.t, a, b, c, d]
        })
        .collect();
    let total = par::reduce_exact_sums(world, &st.sums);
    let file = par::create_on_root_as(
        world,
        || Ok(()),
        (Some(to.path), true, "checkpoint"),
        |out| {
            ResultFile::create(out, to.meta)
                .and_then(|f| OuCheckpointFile::create(f, plan, store_paths, &total))
        },
    )?;
    let Some(file) = file else {
        root.send_with_tag(&done[..], TAG_CKPT_DONE);
        root.send_with_tag(&summary[..], TAG_CKPT_SUMMARY);
        if store_paths {
            root.send_with_tag(&st.paths[..], TAG_CKPT_RECORDS);
        }
        root.send_with_tag(&partial[..], TAG_CKPT_PARTIAL);
        return par::agree(world, Ok(()));
    };
    let samples = plan.samples();
    let mut result = file.write_share(range, &done, &summary, &st.paths);
    let mut rows = partial;
    for (src, r) in table.iter().enumerate().skip(1) {
        let p = world.process_at_rank(src as i32);
        let mut d = vec![0u8; r.len()];
        let mut s = vec![0.0; r.len() * 3];
        let mut rec = vec![0.0; if store_paths { r.len() * samples } else { 0 }];
        p.receive_into_with_tag(&mut d[..], TAG_CKPT_DONE);
        p.receive_into_with_tag(&mut s[..], TAG_CKPT_SUMMARY);
        if store_paths {
            p.receive_into_with_tag(&mut rec[..], TAG_CKPT_RECORDS);
        }
        let (theirs, _) = p.receive_vec_with_tag::<u64>(TAG_CKPT_PARTIAL);
        rows.extend(theirs);
        if result.is_ok() {
            result = file.write_share(r, &d, &s, &rec);
        }
    }
    if result.is_ok() {
        result = file.write_partial(&rows);
    }
    let done = result
        .map_err(Failure::runtime)
        .and_then(|()| file.finish().map(drop));
    par::agree(world, done)
}

/// Collective: this rank's finished members (and on rank 0 the exact sums)
/// from the restart file `m`.
pub fn restore<C: Communicator>(
    world: &C,
    m: &OuCheckpointMeta,
    (range, samples): (&Range<usize>, usize),
    store_paths: bool,
    st: &mut Members,
) -> Outcome {
    let path = Path::new(&m.path);
    let read = read_share(path, range, samples, store_paths)
        .and_then(|share| {
            if world.rank() == 0 {
                let limbs = read_sums(path)?;
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
    let (share, agreed) = match read {
        Ok(share) => (Some(share), par::agree(world, Ok(()))),
        Err(e) => (None, par::agree(world, Err(e))),
    };
    agreed?;
    let share = share.expect("agreed on success");
    st.done = share.done;
    st.summaries = share.summaries;
    st.partial = m
        .partial
        .iter()
        .filter(|(member, ..)| range.contains(&(*member as usize)))
        .map(|&(member, t, words)| Partial {
            member: member as usize - range.start,
            t,
            words,
        })
        .collect();
    if store_paths {
        st.paths = share.records;
    }
    Ok(())
}
