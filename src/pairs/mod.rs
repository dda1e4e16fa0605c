//! `parsim pairs`: all pairs of N points by the travelling-block ring:
//! closest pair, every point's nearest neighbour, a histogram of
//! distances, the distance matrix with `--matrix`.
//!
//! - [`options`]: the command line's options, turned into a plan;
//! - [`kernel`]: blocks, pieces, meeting two blocks (pure);
//! - [`points`]: reading points from .npy, .csv or HDF5;
//! - [`run`]: the workload on the one driver, its HDF5 layout and report.

pub mod kernel;
pub mod options;
pub mod points;
pub mod run;
