//! HDF5 plumbing shared by every workload: the result file with its
//! provenance on `/`, typed attribute helpers, and the atomic finish
//! (close, then rename into place). Each workload's own layout lives in its
//! `io` module.

use std::path::PathBuf;

use anyhow::Context;
use hdf5::types::VarLenUnicode;

use crate::error::{Failure, Outcome};
use crate::output::PendingOutput;

/// Disk kept for a result file's own metadata and attributes (the report,
/// the command line, the config) when its space is reserved: measured at
/// 13-14 KiB for heat files from 10x10 to 300x300 and 20 KiB for an ou
/// file (their data apart), so 128 KiB is about 10 times that. It was
/// 1 MiB, which refused a 0.7 MB checkpoint on a disk with 1.3 MiB free.
pub const METADATA_BYTES: u64 = 128 << 10;

/// How and where a run was started; stored on `/` so a file alone says
/// how it was produced.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub version: &'static str,
    /// `git describe`-style commit of the source the binary was built from
    /// ("unknown" outside a git checkout).
    pub git_commit: &'static str,
    pub command_line: String,
    pub start_time: String,
    pub ranks: usize,
    /// MPI_Get_library_version, first line.
    pub mpi_library: String,
    /// Host name of every rank, in rank order.
    pub hosts: Vec<String>,
    /// The input deck, if the run was configured by one: path and text.
    pub deck: Option<(String, String)>,
}

impl RunMeta {
    /// Collective: gather what every rank contributes (its host name).
    pub fn collect<C: mpi::traits::Communicator>(
        comm: &C,
        command_line: String,
        deck: Option<(String, String)>,
    ) -> Self {
        let host = mpi::environment::processor_name().unwrap_or_else(|_| "unknown".into());
        let hosts = crate::par::all_gather_strings(comm, &host);
        let mpi_library = mpi_library();
        Self {
            version: crate::VERSION,
            git_commit: env!("PARSIM_GIT_COMMIT"),
            command_line,
            // Rank 0's clock, so every rank stores the same value.
            start_time: crate::par::broadcast_string(comm, &now_rfc3339()),
            ranks: comm.size() as usize,
            mpi_library,
            hosts,
            deck,
        }
    }
}

/// The MPI library, as the first line of MPI_Get_library_version (which
/// may be called before MPI is initialised: `parsim --version` uses it).
pub fn mpi_library() -> String {
    mpi::environment::library_version()
        .ok()
        .and_then(|v| {
            let v = v.trim_end_matches('\0');
            v.lines().next().map(|l| l.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The HDF5 library's version, "major.minor.release" (`parsim --version`
/// and every result file name it).
pub fn hdf5_library() -> String {
    let (a, b, c) = hdf5::library_version();
    format!("{a}.{b}.{c}")
}

/// The current time, RFC 3339, UTC, to the second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A restart file opened by rank 0: the group a `kind` run ("heat",
/// "ou") keeps its state in, and one message for everything that makes it
/// unusable, naming the file.
pub struct RestartFile<'p> {
    _file: hdf5::File,
    pub group: hdf5::Group,
    pub path: &'p std::path::Path,
    kind: &'static str,
}

impl<'p> RestartFile<'p> {
    /// Open `path` and its group `group`. Only a regular file is opened (a
    /// FIFO would block rank 0 while the others wait).
    pub fn open(path: &'p std::path::Path, kind: &'static str, group: &str) -> Outcome<Self> {
        let shown = path.display();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Failure::usage(format!(
                    "restart file '{shown}' does not exist"
                )))
            }
            Err(e) => {
                return Err(Failure::usage(format!(
                    "restart file '{shown}' cannot be read: {e}"
                )))
            }
            Ok(m) if !m.is_file() => {
                return Err(Failure::usage(format!(
                    "restart file '{shown}' is not a regular file"
                )))
            }
            Ok(_) => {}
        }
        // Readable at all? (HDF5 says only that it cannot open the file.)
        if let Err(e) = std::fs::File::open(path) {
            return Err(Failure::usage(format!(
                "restart file '{shown}' cannot be read: {e}"
            )));
        }
        let unusable = |what: String| Failure::usage(unusable_message(path, kind, what));
        let file = hdf5::File::open(path).map_err(|e| {
            unusable(format!(
                "cannot open it as HDF5 (truncated or corrupt?): {}",
                crate::error::one_line(&e.to_string())
            ))
        })?;
        let group = file
            .group(group)
            .map_err(|_| unusable(format!("no /{group} group")))?;
        Ok(RestartFile {
            _file: file,
            group,
            path,
            kind,
        })
    }

    /// The failure for this file, saying `what` is wrong with it.
    pub fn unusable(&self, what: impl std::fmt::Display) -> Failure {
        Failure::usage(unusable_message(self.path, self.kind, what))
    }

    fn attr<T: hdf5::H5Type>(&self, name: &str) -> Outcome<T> {
        self.group
            .attr(name)
            .and_then(|a| a.read_scalar::<T>())
            .map_err(|_| self.unusable(format!("attribute '{name}' missing or unreadable")))
    }

    /// A number attribute of the group.
    pub fn num(&self, name: &str) -> Outcome<f64> {
        self.attr(name)
    }

    /// A count attribute of the group.
    pub fn int(&self, name: &str) -> Outcome<u64> {
        self.attr(name)
    }

    /// A text attribute of the group.
    pub fn text(&self, name: &str) -> Outcome<String> {
        self.attr::<hdf5::types::VarLenUnicode>(name)
            .map(|v| v.to_string())
    }
}

fn unusable_message(path: &std::path::Path, kind: &str, what: impl std::fmt::Display) -> String {
    format!(
        "restart file '{}' is not a usable parsim {kind} checkpoint: {what}",
        path.display()
    )
}

/// An HDF5 result file open at its temporary path: on rank 0, or on every
/// rank for parallel HDF5 (then only rank 0 holds the `output` to commit).
pub struct ResultFile {
    /// `None` once closed by [`ResultFile::finish_at`].
    file: Option<hdf5::File>,
    output: Option<PendingOutput>,
    /// Disk space reserved beyond what HDF5 will use (released at close).
    reserved: bool,
}

impl ResultFile {
    /// Create the file and write the provenance attributes on `/`.
    pub fn create(output: PendingOutput, meta: &RunMeta) -> anyhow::Result<Self> {
        let path = output.temp_path().to_path_buf();
        // Objects at least in HDF5 1.8's format (read by 1.8 and later): its
        // dense attribute storage lifts the 64 KiB limit on one attribute,
        // which a dimension scale's back-references (one per snapshot view)
        // or the host list of a large job would otherwise reach.
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.libver_v18())
            .create(&path)
            .with_context(|| format!("cannot create HDF5 file '{}'", path.display()))?;
        Self::from_file(file, Some(output), meta)
    }

    /// Write the provenance attributes into an already created file (e.g.
    /// opened by every rank through MPI-IO: then every rank calls this with
    /// the same `meta`; `output` is `Some` on the rank that commits).
    pub fn from_file(
        file: hdf5::File,
        output: Option<PendingOutput>,
        meta: &RunMeta,
    ) -> anyhow::Result<Self> {
        let path = file.filename();
        (|| -> hdf5::Result<()> {
            write_str(&file, "parsim_version", meta.version)?;
            write_str(&file, "git_commit", meta.git_commit)?;
            write_str(&file, "command_line", &meta.command_line)?;
            write_str(&file, "start_time", &meta.start_time)?;
            write_num(&file, "mpi_ranks", meta.ranks as u64)?;
            write_str(&file, "mpi_library", &meta.mpi_library)?;
            write_str(&file, "hdf5_library", &hdf5_library())?;
            write_str_list(&file, "hostnames", &meta.hosts)?;
            if let Some((path, text)) = &meta.deck {
                write_str(&file, "config_file", path)?;
                write_str(&file, "config", text)?;
            }
            Ok(())
        })()
        .with_context(|| format!("cannot write attributes to '{path}'"))?;
        Ok(Self {
            file: Some(file),
            output,
            reserved: false,
        })
    }

    /// Where the output is held: reserve `bytes` of disk for the file now,
    /// so that a disk filling up during the run cannot make its writes, or
    /// HDF5's closing flush, fail (libhdf5 1.10 crashes at exit after a
    /// failed close; see [`abandon`]). Refused in one line when the file
    /// system has not that much room. Where the file system cannot
    /// preallocate (some parallel ones), nothing is reserved.
    pub fn reserve(&mut self, bytes: u64) -> anyhow::Result<()> {
        if let Some(out) = &self.output {
            self.reserved = out.reserve(bytes)?;
        }
        Ok(())
    }

    pub fn root(&self) -> &hdf5::File {
        self.file
            .as_ref()
            .expect("a result file is open until finished")
    }

    /// Store the run's report (JSON text: rates, per-phase min/avg/max,
    /// validation) on `/`.
    pub fn write_report(&self, json: &str) -> anyhow::Result<()> {
        write_str(self.root(), "report", json).context("cannot write the report attribute")
    }

    /// Record the end time, close the file (every dataset handle must be
    /// dropped by now) and move it to its final path.
    pub fn finish(self) -> Outcome<PathBuf> {
        self.finish_at(&now_rfc3339())
            .map(|p| p.expect("a file created by ResultFile::create has its output"))
    }

    /// As [`ResultFile::finish`], with the end time given (parallel HDF5:
    /// rank 0's, the same on every rank). The final path where this rank
    /// committed the file.
    pub fn finish_at(self, end_time: &str) -> Outcome<Option<PathBuf>> {
        self.close_at(end_time)?
            .map(PendingOutput::commit)
            .transpose()
    }

    /// [`ResultFile::finish_at`] but the commit: the closed, complete file
    /// still at its temporary path (rank 0's; `None` elsewhere), for a
    /// commit together with its sidecar ([`crate::output::commit_pair`]).
    pub fn close_at(mut self, end_time: &str) -> Outcome<Option<PendingOutput>> {
        let file = self.file.take().expect("a result file is finished once");
        if let Err(e) = write_str(&file, "end_time", end_time).and_then(|_| file.flush()) {
            abandon(file);
            return Err(Failure::runtime(
                anyhow::Error::new(e).context("cannot close HDF5 file"),
            ));
        }
        let used = self.reserved.then(|| end_of_allocation(&file)).flatten();
        file.close()
            .context("cannot close HDF5 file")
            .map_err(Failure::runtime)?;
        if let (Some(used), Some(out)) = (used, &self.output) {
            // Give back the reservation HDF5 did not use.
            std::fs::OpenOptions::new()
                .write(true)
                .open(out.temp_path())
                .and_then(|f| f.set_len(used))
                .context("cannot release the disk space reserved")
                .map_err(Failure::runtime)?;
        }
        Ok(self.output.take())
    }
}

/// The end of the space HDF5 allocated in `file` (its size once closed).
fn end_of_allocation(file: &hdf5::File) -> Option<u64> {
    extern "C" {
        // hid_t is 64-bit since HDF5 1.10, haddr_t is u64, herr_t is int.
        fn H5Fget_eoa(file_id: i64, eoa: *mut u64) -> i32;
    }
    let mut eoa = 0u64;
    // SAFETY: a valid file id and a pointer to a live u64 (haddr_t).
    let rc = hdf5::sync::sync(|| unsafe { H5Fget_eoa(file.id(), &mut eoa) });
    (rc >= 0 && eoa > 0).then_some(eoa)
}

/// A result file dropped before it was finished (a failed run) is
/// abandoned: see [`abandon`]. Its temporary file is removed afterwards,
/// when `output` drops.
impl Drop for ResultFile {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            abandon(file);
        }
    }
}

/// Close a file that will be thrown away, after freeing the disk space it
/// holds (truncating it to nothing). A full disk makes HDF5's closing flush
/// fail, and libhdf5 1.10 then crashes (SIGSEGV in `H5F__close_cb`) when it
/// closes the half-closed file again at exit, inside MPI_Finalize for
/// parallel files; with the space freed the flush succeeds (the file is
/// sparse beyond its end) and the close is clean. Every rank holding the
/// file does this before the (collective) close.
fn abandon(file: hdf5::File) {
    let path = file.filename();
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(0));
    drop(file);
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

/// A 1-D string attribute (variable-length UTF-8, a list of str in h5py).
pub fn write_str_list(loc: &hdf5::Location, name: &str, values: &[String]) -> hdf5::Result<()> {
    let v = values
        .iter()
        .map(|s| s.parse::<VarLenUnicode>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| hdf5::Error::from(format!("attribute {name}: {e}")))?;
    loc.new_attr_builder().with_data(&v[..]).create(name)?;
    Ok(())
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

/// HDF5 dimension scales (the H5DS API of libhdf5_hl, which hdf5-metno does
/// not wrap): make `scale` a dimension scale named `name`, and attach it to
/// axis `axis` of `data`. h5py shows them as `data.dims[axis]`.
mod ds {
    // hid_t of HDF5 >= 1.10 (hdf5-metno-sys is not re-exported).
    #[allow(non_camel_case_types)]
    type hid_t = i64;
    use std::os::raw::{c_char, c_int, c_uint};

    #[link(name = "hdf5_hl")]
    extern "C" {
        pub fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> c_int;
        pub fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> c_int;
    }
}

pub fn make_scale(scale: &hdf5::Dataset, name: &str) -> hdf5::Result<()> {
    let name = std::ffi::CString::new(name).map_err(|e| hdf5::Error::from(e.to_string()))?;
    // SAFETY: a valid open dataset id and a NUL-terminated name; libhdf5
    // serialises its own calls (hdf5-metno holds its global lock here).
    let rc = hdf5::sync::sync(|| unsafe { ds::H5DSset_scale(scale.id(), name.as_ptr()) });
    if rc < 0 {
        return Err(hdf5::Error::from("H5DSset_scale failed"));
    }
    Ok(())
}

pub fn attach_scale(data: &hdf5::Dataset, scale: &hdf5::Dataset, axis: u32) -> hdf5::Result<()> {
    // SAFETY: as above, two valid open dataset ids.
    let rc = hdf5::sync::sync(|| unsafe { ds::H5DSattach_scale(data.id(), scale.id(), axis) });
    if rc < 0 {
        return Err(hdf5::Error::from("H5DSattach_scale failed"));
    }
    Ok(())
}

/// `units` and `long_name` (the CF names xarray, ncview and plot.py read)
/// on a dataset. Every dataset of a result file carries both.
pub fn describe(d: &hdf5::Dataset, units: &str, long_name: &str) -> hdf5::Result<()> {
    write_str(d, "units", units)?;
    write_str(d, "long_name", long_name)
}

/// A coordinate axis of a result file: the 1-D dataset `name` holding
/// `values`, described, and made an HDF5 dimension scale. Why: h5netcdf
/// (xarray) names a dimension after the scale attached to it, so an axis
/// opens as a labelled coordinate instead of a `phony_dim_N`.
pub fn write_axis<T: hdf5::H5Type>(
    group: &hdf5::Group,
    name: &str,
    values: &[T],
    units: &str,
    long_name: &str,
) -> hdf5::Result<hdf5::Dataset> {
    let d = write_vec(group, name, values)?;
    describe(&d, units, long_name)?;
    make_scale(&d, name)?;
    Ok(d)
}

/// A string axis (state names, ...): as [`write_axis`], of UTF-8 labels,
/// so that `ds.sel(state="rainy")` works.
pub fn write_label_axis(
    group: &hdf5::Group,
    name: &str,
    labels: &[&str],
    long_name: &str,
) -> hdf5::Result<hdf5::Dataset> {
    let v = labels
        .iter()
        .map(|s| s.parse::<VarLenUnicode>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| hdf5::Error::from(format!("axis {name}: {e}")))?;
    write_axis(group, name, &v, "1", long_name)
}

/// The axis indices `0..n` as a dimension scale (members, chunks, ranks).
pub fn write_index_axis(
    group: &hdf5::Group,
    name: &str,
    range: std::ops::Range<u64>,
    long_name: &str,
) -> hdf5::Result<hdf5::Dataset> {
    write_axis(group, name, &range.collect::<Vec<_>>(), "1", long_name)
}

/// Describe `d` and attach `axes[i]` to its axis `i`.
pub fn label(
    d: &hdf5::Dataset,
    units: &str,
    long_name: &str,
    axes: &[&hdf5::Dataset],
) -> hdf5::Result<()> {
    describe(d, units, long_name)?;
    for (i, axis) in axes.iter().enumerate() {
        attach_scale(d, axis, i as u32)?;
    }
    Ok(())
}

/// A 2-D dataset of `values` (row-major, `rows` x `cols`) along the axes
/// `axes` (rows, columns), described.
pub fn write_table<T: hdf5::H5Type>(
    group: &hdf5::Group,
    name: &str,
    (rows, cols): (usize, usize),
    values: &[T],
    axes: [&hdf5::Dataset; 2],
    (units, long_name): (&str, &str),
) -> hdf5::Result<hdf5::Dataset> {
    let view = ndarray::ArrayView2::from_shape((rows, cols), values)
        .map_err(|e| hdf5::Error::from(format!("{name}: {e}")))?;
    let d = group.new_dataset_builder().with_data(&view).create(name)?;
    label(&d, units, long_name, &axes)?;
    Ok(d)
}

/// A 1-D dataset of `values` along `axis`, described.
pub fn write_along<T: hdf5::H5Type>(
    group: &hdf5::Group,
    name: &str,
    values: &[T],
    axis: &hdf5::Dataset,
    (units, long_name): (&str, &str),
) -> hdf5::Result<hdf5::Dataset> {
    let d = write_vec(group, name, values)?;
    label(&d, units, long_name, &[axis])?;
    Ok(d)
}

/// The time of `step` steps of `dt` as result files store it: the product
/// rounded to 15 significant digits. Why: dt is rarely a short decimal in
/// binary, so the product is often not the decimal a user types (3 * 0.1 =
/// 0.30000000000000004), and xarray's `.sel(time=0.3)` misses it; 15
/// digits are what a double always holds, so the label is that decimal,
/// at most one part in 10^15 from the product.
pub fn time_label(step: u64, dt: f64) -> f64 {
    let t = step as f64 * dt;
    format!("{t:.14e}").parse().unwrap_or(t)
}
