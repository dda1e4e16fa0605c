//! `parsim mandelbrot`: an escape-time image whose rows cost wildly
//! different amounts, under a block, cyclic or dynamic schedule (the
//! load-balancing lesson).
//!
//! - [`options`]: the command line's options, turned into a plan;
//! - [`kernel`]: the frame, escape times, schedules, checks (pure);
//! - [`run`]: the workload on the one driver, its HDF5 layout and report.

pub mod kernel;
pub mod options;
pub mod run;
