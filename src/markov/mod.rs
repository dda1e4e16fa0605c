//! `parsim markov`: a 3-state Markov chain (bull/bear/recession), the
//! fraction of days in each state against the stationary distribution;
//! chains on the Monte Carlo engine ([`crate::montecarlo`]).
//!
//! - [`options`]: the command line's options, turned into a plan;
//! - [`kernel`]: one chain (pure);
//! - [`run`]: the estimator, its HDF5 layout and report.

pub mod kernel;
pub mod options;
pub mod run;
