//! parsim: SPMD simulations under MPI.
//!
//! The binary's subcommands live in [`cli`]; each workload is a module of
//! its own ([`heat`], [`ensemble`]). Pure logic (decomposition, kernels, validation
//! arithmetic) is kept free of MPI so it is unit-tested without `mpirun`;
//! the MPI drivers are tested end to end from `tests/`.

pub mod cache;
pub mod check;
pub mod cli;
pub mod cli_tools;
pub mod deck;
pub mod driver;
pub mod ensemble;
pub mod error;
pub mod exact;
pub mod h5;
pub mod heat;
pub mod memory;
pub mod normal;
pub mod output;
pub mod par;
pub mod partition;
pub mod patterns;
pub mod progress;
pub mod report;
pub mod rng;
pub mod stop;
pub mod tags;
pub mod trace;
mod ziggurat_tables;

/// parsim's version, as stored in every output file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
