//! HDF5 plumbing shared by every workload: the result file with its
//! provenance on `/`, typed attribute helpers, and the atomic finish
//! (close, then rename into place). Each workload's own layout lives in its
//! `io` module.

use std::path::PathBuf;

use anyhow::Context;
use hdf5::types::VarLenUnicode;

use crate::error::{Failure, Outcome};
use crate::output::PendingOutput;

/// Where and when a run was started; stored on `/`.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub version: &'static str,
    pub command_line: String,
    pub start_time: String,
    pub ranks: usize,
}

/// An HDF5 result file open at its temporary path (rank 0 only).
pub struct ResultFile {
    file: hdf5::File,
    output: PendingOutput,
}

impl ResultFile {
    /// Create the file and write the provenance attributes on `/`.
    pub fn create(output: PendingOutput, meta: &RunMeta) -> anyhow::Result<Self> {
        let path = output.temp_path().to_path_buf();
        let file = hdf5::File::create(&path)
            .with_context(|| format!("cannot create HDF5 file '{}'", path.display()))?;
        (|| -> hdf5::Result<()> {
            write_str(&file, "parsim_version", meta.version)?;
            write_str(&file, "command_line", &meta.command_line)?;
            write_str(&file, "start_time", &meta.start_time)?;
            write_num(&file, "mpi_ranks", meta.ranks as u64)
        })()
        .with_context(|| format!("cannot write attributes to '{}'", path.display()))?;
        Ok(Self { file, output })
    }

    pub fn root(&self) -> &hdf5::File {
        &self.file
    }

    /// Close the file (every dataset handle must be dropped by now) and
    /// move it to its final path.
    pub fn finish(self) -> Outcome<PathBuf> {
        let Self { file, output } = self;
        file.flush()
            .and_then(|_| file.close())
            .context("cannot close HDF5 file")
            .map_err(Failure::runtime)?;
        output.commit()
    }
}

/// A scalar string attribute (UTF-8, variable length: what h5py reads as str).
pub fn write_str(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("attribute {name}: {e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

/// A scalar numeric attribute.
pub fn write_num<T: hdf5::H5Type>(loc: &hdf5::Location, name: &str, value: T) -> hdf5::Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(&value)
}

/// A 1-D numeric attribute.
pub fn write_list<T: hdf5::H5Type>(
    loc: &hdf5::Location,
    name: &str,
    values: &[T],
) -> hdf5::Result<()> {
    loc.new_attr_builder().with_data(values).create(name)?;
    Ok(())
}

/// A 1-D dataset written in one go.
pub fn write_vec<T: hdf5::H5Type>(
    group: &hdf5::Group,
    name: &str,
    values: &[T],
) -> hdf5::Result<hdf5::Dataset> {
    group.new_dataset_builder().with_data(values).create(name)
}
