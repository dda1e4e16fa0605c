//! `parsim integrate`: a quadrature rule's sum over fixed chunks of points
//! (a reduction) on the Monte Carlo engine ([`crate::montecarlo`]).
//!
//! - [`options`]: the command line's options, turned into a plan;
//! - [`kernel`]: rules, the grid of points, chunk sums (pure);
//! - [`integrand`]: built-ins and user expressions (pure);
//! - [`validate`]: the closed forms, Gauss-Kronrod, error bounds (pure);
//! - [`run`]: the estimator, its HDF5 layout and report.

pub mod integrand;
pub mod kernel;
pub mod options;
pub mod run;
#[cfg(test)]
mod tests;
pub mod validate;
