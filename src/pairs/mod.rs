//! `parsim pairs`: all pairs of N points by the travelling-block ring:
//! closest pair, every point's nearest neighbour, a histogram of
//! distances, the distance matrix with `--matrix`.
//!
//! - [`options`]: the command line's options, turned into a [`plan`];
//! - [`kernel`]: blocks, pieces, meeting two blocks (pure);
//! - [`points`]: reading points from .npy, .csv or HDF5; [`input`]: rank 0
//!   loads them and deals out the blocks; [`range`]: the power of two
//!   that keeps squared distances in f64's range;
//! - [`run`]: the ring on the one driver; [`check`]: the reduction and
//!   the checks at its end; [`layout`]: the HDF5 group; [`report`].

pub mod cells;
pub mod check;
pub mod input;
pub mod kernel;
pub mod layout;
pub mod meet;
pub mod options;
pub mod plan;
pub mod points;
pub mod range;
pub mod report;
pub mod run;
pub mod tree;
