//! Parallel HDF5 (`--io parallel`, cargo feature `parallel-io`): every rank
//! opens the result file through MPI-IO and writes its own block as a
//! hyperslab, in one collective transfer, straight from its field (the
//! memory selection skips the ghost layers, so nothing is copied).
//!
//! Metadata (groups, attributes, dataset creation and extension) is
//! collective in parallel HDF5: every rank makes the same calls with the
//! same values, which is why the caller broadcasts rank 0's times and
//! report before writing them.
//!
//! hdf5-metno wraps the MPI-IO file driver but not the transfer property,
//! so the write itself calls libhdf5 directly.

use std::path::Path;

use anyhow::{bail, Context};
use hdf5_sys::h5d::{H5Dget_space, H5Dwrite};
use hdf5_sys::h5p::{
    H5FD_mpio_xfer_t, H5Pclose, H5Pcreate, H5Pset_dxpl_mpio, H5P_CLS_DATASET_XFER,
};
use hdf5_sys::h5s::{H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sselect_hyperslab};
use mpi::raw::AsRaw;
use mpi::traits::Communicator;

use super::layout::Slab;

/// Collective: create `path` (truncating it) for parallel access by `comm`.
pub fn create_file<C: Communicator + AsRaw<Raw = mpi::ffi::MPI_Comm>>(
    comm: &C,
    path: &Path,
) -> anyhow::Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fapl(|p| p.mpio(comm.as_raw(), None).libver_v18())
        .create(path)
        .with_context(|| format!("cannot create '{}' with MPI-IO", path.display()))
}

/// Collective: write `slab` into `ds` at its place; for a dataset with a
/// leading time axis (snapshots) into slice `lead` of it.
pub fn write_block(ds: &hdf5::Dataset, slab: &Slab, lead: Option<usize>) -> anyhow::Result<()> {
    let (mut start, mut count) = (slab.file_start.clone(), slab.count.clone());
    if let Some(k) = lead {
        start.insert(0, k as u64);
        count.insert(0, 1);
    }
    assert_eq!(
        slab.mem_dims.iter().product::<u64>(),
        slab.data.len() as u64
    );
    let rank = slab.mem_dims.len() as i32;
    let double = hdf5::Datatype::from_type::<f64>()?;
    let rc = hdf5::sync::sync(|| {
        // SAFETY: every id is created and closed here, the selections stay
        // inside their spaces (the buffer holds mem_dims values, asserted
        // above; the dataset's shape is checked by libhdf5), and the data
        // outlive the call.
        unsafe {
            let mem = H5Screate_simple(rank, slab.mem_dims.as_ptr(), std::ptr::null());
            let file = H5Dget_space(ds.id());
            let dxpl = H5Pcreate(*H5P_CLS_DATASET_XFER);
            let ok = mem >= 0
                && file >= 0
                && dxpl >= 0
                && H5Sselect_hyperslab(
                    mem,
                    H5S_seloper_t::H5S_SELECT_SET,
                    slab.mem_start.as_ptr(),
                    std::ptr::null(),
                    slab.count.as_ptr(),
                    std::ptr::null(),
                ) >= 0
                && H5Sselect_hyperslab(
                    file,
                    H5S_seloper_t::H5S_SELECT_SET,
                    start.as_ptr(),
                    std::ptr::null(),
                    count.as_ptr(),
                    std::ptr::null(),
                ) >= 0
                && H5Pset_dxpl_mpio(dxpl, H5FD_mpio_xfer_t::H5FD_MPIO_COLLECTIVE) >= 0
                && H5Dwrite(
                    ds.id(),
                    double.id(),
                    mem,
                    file,
                    dxpl,
                    slab.data.as_ptr().cast(),
                ) >= 0;
            for (id, close) in [
                (mem, H5Sclose as unsafe extern "C" fn(i64) -> i32),
                (file, H5Sclose),
                (dxpl, H5Pclose),
            ] {
                if id >= 0 {
                    close(id);
                }
            }
            ok
        }
    });
    if !rc {
        bail!(
            "collective write of the block at {:?} (extent {:?}) failed",
            slab.file_start,
            slab.count
        );
    }
    Ok(())
}
