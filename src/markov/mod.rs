//! `parsim markov`: a Markov chain (the 3-state bull/bear/recession one, or
//! the user's `--matrix`), the fraction of days in each state against the
//! stationary distribution; chains on the Monte Carlo engine
//! ([`crate::montecarlo`]).
//!
//! - [`options`]: the command line's options, turned into a plan;
//! - [`chain`]: the user's matrix (`--matrix`), read and checked (pure);
//! - [`plan`]: the chain a run walks and its law (pure);
//! - [`stationary`], [`validate`]: pi and the fundamental matrix solved,
//!   and the scores of the days counted (pure);
//! - [`kernel`]: one chain (pure);
//! - [`run`]: the estimator, its HDF5 layout and report.

pub mod chain;
pub mod kernel;
pub mod options;
pub mod plan;
pub mod run;
pub mod stationary;
pub mod validate;
