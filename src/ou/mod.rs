//! `parsim ou`: Ornstein-Uhlenbeck ensembles (and parameter sweeps) whose
//! members are spread over ranks, statistics reduced exactly to rank 0.
//!
//! - [`inputs`]: the parameter table and checkpoint, read before the plan;
//! - [`options`]: the command line's options, turned into a plan;
//! - [`model`]: parameter sets, sweeps, the plan of an ensemble (pure);
//! - [`kernel`] (and `avx2`, `lanes`): the member kernel (pure);
//! - [`run`]: the workload on the one driver (`crate::driver`), with
//!   [`members`] (this rank's share), [`checkpoint`], [`gather`],
//!   [`file`] (the HDF5 layout) and [`report`].

#[cfg(target_arch = "x86_64")]
mod avx2;
pub mod checkpoint;
pub mod file;
pub mod gather;
pub mod inputs;
pub mod kernel;
mod lanes;
pub mod members;
pub mod model;
pub mod options;
pub mod report;
pub mod run;
