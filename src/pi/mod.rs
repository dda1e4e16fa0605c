//! `parsim pi`: hit-or-miss Monte Carlo estimate of pi, chunks of samples
//! on the Monte Carlo engine ([`crate::montecarlo`]).
//!
//! - [`options`]: the command line's options, turned into a plan;
//! - [`kernel`]: counting hits (pure);
//! - [`run`]: the estimator, its HDF5 layout and report.

pub mod kernel;
pub mod options;
pub mod run;
