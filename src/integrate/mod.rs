//! `parsim integrate`: a quadrature rule's sum over fixed chunks of points
//! (a reduction) on the Monte Carlo engine ([`crate::montecarlo`]).
//!
//! - [`options`]: the command line's options, turned into a plan;
//! - [`kernel`]: rules, integrands, validation bounds (pure);
//! - [`run`]: the estimator, its HDF5 layout and report.

pub mod kernel;
pub mod options;
pub mod run;
