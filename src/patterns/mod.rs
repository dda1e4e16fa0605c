//! The lessons' other parallel patterns, each on the one driver
//! (`crate::driver`):
//!
//! - [`integrate`] (pure) and [`integrate_run`]: a reduction over fixed
//!   chunks of quadrature points;
//! - [`mandel`] (pure) and [`mandel_run`]: an escape-time image whose rows
//!   cost wildly different amounts, under a block, cyclic or dynamic
//!   schedule (the load-balancing lesson).

pub mod integrate;
pub mod integrate_run;
pub mod mandel;
pub mod mandel_run;
pub mod pairs;
pub mod pairs_run;
pub mod points;
