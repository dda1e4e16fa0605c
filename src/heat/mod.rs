//! The heat equation on a block-partitioned grid: 2D, or 3D with `--nz`.
//!
//! Where to look:
//! - [`config`]: the problem and its validation (stability limit);
//! - [`decomp`]: process grid, blocks, neighbours (pure arithmetic);
//! - [`kernel`]: the field, initial conditions, the 5-point update, exact
//!   solutions (pure);
//! - [`sweep`]: walking a block for one or several steps (time blocking,
//!   thread bands; pure);
//! - [`halo`]: the ghost-layer exchange (MPI);
//! - [`layout`]: the result file's names and plain values (pure);
//! - [`io`]: the HDF5 file: its layout, datasets, snapshots' views;
//! - [`gather`]: the field's way to rank 0 and into the file, snapshots;
//! - [`xdmf`]: the XDMF sidecar for ParaView/VisIt;
//! - `pario` (feature `parallel-io`): collective writes through MPI-IO;
//! - [`meta`]: what a checkpoint says of its run, and its checksums (pure);
//! - [`checkpoint`]: reading a checkpoint's metadata and blocks, restart;
//! - [`report`]: the end-of-run report (text and JSON);
//! - [`inputs`]: what the input files say, read before the plan;
//! - [`field_file`]: an initial field from a file, each rank its block;
//! - [`init_expr`]: an initial field from an expression in x and y;
//! - [`options`]: the command line's options, turned into a plan;
//! - [`plan`]: the job as asked and what it will do on these ranks
//!   (configuration, decomposition, time-block depth, topology);
//! - [`refine`]: `--refine K`, the grids and the observed order;
//! - [`step`]: one round of the time loop (halo exchange + sweep);
//! - [`validate`]: the end-of-run checks and the blow-up probe;
//! - [`manufactured`]: `--exact`, the problem derived from a solution (pure);
//! - [`source`]: `--source`, parsed (pure); [`source_term`]: what it adds
//!   to a block after each step (pure);
//! - [`run`]: heat's part of a run on the one driver (`crate::driver`);
//! - 3D (`--nz`): [`plan3d`] (the problem, its stability limit, the plan),
//!   [`decomp3d`] (3D process grid and blocks; pure), [`kernel3d`] (the
//!   field, the 7-point update, the sine mode's exact solutions; pure),
//!   [`halo3d`] (the six-face exchange), [`overlap3d`] (a step, its
//!   exchange overlapped with the inside), [`walls3d`] (the six walls of
//!   every kind; pure), [`wallfill3d`] (their ghosts' refresh; pure),
//!   [`output3d`] (the result file), [`run3d`] (the run and report).

pub mod checkpoint;
pub mod config;
pub mod decomp;
pub mod decomp3d;
pub mod field_file;
mod finish;
pub mod gather;
pub mod halo;
pub mod halo3d;
pub mod init_expr;
pub mod inputs;
pub mod io;
pub mod kernel;
pub mod kernel3d;
pub mod layout;
pub mod manufactured;
pub mod meta;
pub mod options;
pub mod output3d;
pub mod overlap3d;
#[cfg(feature = "parallel-io")]
pub mod pario;
pub mod plan;
pub mod plan3d;
pub mod refine;
pub mod report;
pub mod run;
pub mod run3d;
pub mod source;
pub mod source_term;
pub mod step;
pub mod sweep;
pub mod sweep3d;
pub mod timeblock3d;
pub mod validate;
pub mod wallfill3d;
pub mod walls;
pub mod walls3d;
pub mod xdmf;
