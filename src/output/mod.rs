//! Output files that never exist half-written: data goes to a temporary
//! name in the destination directory and is renamed into place only when
//! complete. A crash at any moment leaves either the previous file or the
//! new complete one at the final path (rename is atomic within a file
//! system, which is why the temporary lives in the same directory).
//!
//! - [`pending`]: an output reserved, written, committed ([`PendingOutput`]);
//! - [`journal`]: a result and its sidecar committed together;
//! - [`lock`]: one run per output; [`names`]: companions' names and what
//!   may be replaced; [`live`]: what a panicking rank removes.

pub mod journal;
pub mod live;
mod lock;
mod names;
pub mod pending;
#[cfg(test)]
mod tests;

pub use journal::commit_pair;
pub use live::{adopt_job_live, live_paths, remove_live};
pub use names::{check_destination, same_file};
pub use pending::{reserve_checkpoint, CheckpointClaim, PendingOutput};
