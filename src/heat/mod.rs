//! The 2D heat equation on a block-partitioned grid.
//!
//! Where to look:
//! - [`config`]: the problem and its validation (stability limit);
//! - [`decomp`]: process grid, blocks, neighbours (pure arithmetic);
//! - [`kernel`]: the field, initial conditions, the 5-point update, exact
//!   solutions (pure);
//! - [`sweep`]: walking a block for one or several steps (time blocking,
//!   thread bands; pure);
//! - [`halo`]: the ghost-layer exchange (MPI);
//! - [`io`]: the HDF5 layout and the gather to rank 0;
//! - [`xdmf`]: the XDMF sidecar for ParaView/VisIt;
//! - `pario` (feature `parallel-io`): collective writes through MPI-IO;
//! - [`checkpoint`]: checkpoint metadata, checksum, restart;
//! - [`report`]: the end-of-run report (text and JSON);
//! - [`run`]: the SPMD driver tying them together.

pub mod checkpoint;
pub mod config;
pub mod decomp;
pub mod halo;
pub mod io;
pub mod kernel;
#[cfg(feature = "parallel-io")]
pub mod pario;
pub mod report;
pub mod run;
pub mod sweep;
pub mod xdmf;
