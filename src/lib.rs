//! parsim: SPMD simulations under MPI.
//!
//! How a run flows (docs/architecture.md tells it at length):
//!
//! ```text
//! cli            start-up, deck merge, parse, error lines, dispatch
//!  -> workloads  the registry: every workload's options -> plan -> run
//!                (what a workload is: spec)
//!  -> <workload> its options, its plan (every check, once), its run
//!  -> driver     the one SPMD loop: rounds, stop signals, checkpoints, report
//! ```
//!
//! A folder per workload: [`heat`], [`ou`], [`pi`], [`markov`],
//! [`integrate`], [`mandelbrot`], [`pairs`] (pi, markov and integrate run
//! on the shared Monte Carlo engine, [`montecarlo`]). Shared parts below
//! them: the driver, result files ([`h5`], [`result`], [`output`]),
//! reports, MPI helpers ([`par`], [`rounds`]). Pure logic (decomposition,
//! kernels, validation arithmetic) is kept free of MPI so it is unit-tested
//! without `mpirun`; the MPI behaviour is tested end to end from `tests/`.

pub mod cache;
pub mod check;
pub mod cli;
pub mod console;
pub mod driver;
pub mod error;
pub mod exact;
pub mod expr;
pub mod h5;
pub mod heat;
pub mod integrate;
pub mod mandelbrot;
pub mod markov;
pub mod memory;
pub mod montecarlo;
pub mod mpi_check;
pub mod normal;
pub mod oom;
pub mod options;
pub mod ou;
pub mod output;
pub mod pairs;
pub mod par;
pub mod partition;
pub mod pi;
pub mod pingpong;
pub mod progress;
pub mod report;
pub mod result;
pub mod rng;
pub mod rounds;
pub mod spec;
pub mod stats;
pub mod stop;
pub mod table;
pub mod tags;
pub mod trace;
pub mod workloads;
mod ziggurat_tables;

/// parsim's version, as stored in every output file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
