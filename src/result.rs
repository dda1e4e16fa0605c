//! The result file every workload but heat and ou writes the same way:
//! rank 0 reserves the path before the first round, writes its layout and
//! the stored report at the end, then renames it into place; every rank
//! learns the verdict. Plus the report's closing "Output" line.

use std::path::Path;

use anyhow::Context;
use mpi::traits::*;
use serde::Serialize;

use crate::error::{Failure, Outcome};
use crate::h5::{ResultFile, RunMeta};
use crate::par;

/// Collective: rank 0 writes with `layout`, stores the report on `/`, then
/// closes and renames; all ranks agree. `report(gather_io, output)` builds
/// the report (collectively) from this rank's gather/I-O time since `t1`:
/// the stored one is built before the file is written (with the planned
/// `output`), the returned one after (with the path actually written).
pub fn finish<C: Communicator, R: Serialize>(
    world: &C,
    file: Option<ResultFile>,
    t1: f64,
    output: Option<&Path>,
    report: impl Fn(f64, Option<String>) -> R,
    layout: impl FnOnce(&hdf5::File) -> hdf5::Result<()>,
) -> Outcome<R> {
    let stored = report(mpi::time() - t1, output.map(|p| p.display().to_string()));
    let written = match file {
        Some(f) => layout(f.root())
            .context("cannot write results")
            .and_then(|_| f.write_report(&crate::report::stored_json(&stored)))
            .map_err(Failure::runtime)
            .and_then(|_| f.finish())
            .map(|p| Some(p.display().to_string())),
        None => Ok(None),
    };
    par::agree(world, written.as_ref().map(|_| ()).map_err(Clone::clone))?;
    Ok(report(mpi::time() - t1, written?))
}

/// Collective: rank 0 reserves `output` and creates the result file.
pub fn create_result<C: Communicator>(
    comm: &C,
    output: Option<&Path>,
    force: bool,
    meta: &RunMeta,
) -> Outcome<Option<ResultFile>> {
    par::create_on_root(
        comm,
        || Ok(()),
        output,
        force,
        |out| ResultFile::create(out, meta),
    )
}

pub fn output_line(output: &Option<String>) -> String {
    output
        .as_ref()
        .map_or(String::new(), |o| format!("Output           : {o}\n"))
}
