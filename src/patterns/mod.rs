//! The lessons' other parallel patterns, each on the one driver
//! (`crate::driver`):
//!
//! - [`integrate`] (pure) and [`integrate_run`]: a reduction over fixed
//!   chunks of quadrature points.

pub mod integrate;
pub mod integrate_run;
