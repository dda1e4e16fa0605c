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
//! - [`plan`]: the job as asked and what it will do on these ranks
//!   (configuration, decomposition, time-block depth, topology);
//! - [`step`]: one round of the time loop (halo exchange + sweep);
//! - [`validate`]: the end-of-run checks and the blow-up probe;
//! - [`run`]: heat's part of a run on the one driver (`crate::driver`).

pub mod checkpoint;
pub mod config;
pub mod decomp;
mod finish;
pub mod halo;
pub mod io;
pub mod kernel;
pub mod options;
#[cfg(feature = "parallel-io")]
pub mod pario;
pub mod plan;
pub mod report;
pub mod run;
pub mod step;
pub mod sweep;
pub mod validate;
pub mod xdmf;
