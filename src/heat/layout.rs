//! The heat result file's names and plain values: units, what the file
//! holds besides the field (`Extras`), how it is written (`IoMode`), a
//! snapshot's step and time, the names of ParaView's views, and the
//! chunking and strip sizes. Pure: `super::io` writes the file,
//! `super::xdmf` its sidecar, `super::checkpoint` reads it back.

use std::ops::Range;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::decomp::Block;

/// Largest message of the gather: 1 Mi values (8 MiB).
pub const STRIP_CELLS: usize = 1 << 20;

/// Units written as attributes. The solver is unit-agnostic: these are what
/// the defaults stand for (SI lengths and times, degrees Celsius).
pub const UNITS_TEMPERATURE: &str = "degC";

pub const UNITS_LENGTH: &str = "m";

pub const UNITS_TIME: &str = "s";

/// What a result file holds besides the final field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// Deflate level (1-9) for the field and snapshots; `None`: contiguous,
    /// uncompressed.
    pub compress: Option<u8>,
    /// Store the field every this many steps (0: never).
    pub snapshot_every: u64,
    /// Write the XDMF sidecar here (reserved by the caller).
    pub xdmf: Option<PathBuf>,
}

/// A stored snapshot: the step it was taken at, its simulated time, and
/// its field's checksum (`super::meta::checksum`), which travels with it
/// into checkpoints and the results they restart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SnapshotAt {
    pub step: u64,
    pub time: f64,
    pub sum: u64,
}

/// How the field reaches the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IoMode {
    /// Rank 0 gathers the blocks strip by strip and writes them (serial
    /// HDF5).
    #[default]
    Gather,
    /// Every rank writes its block through MPI-IO, collectively (parallel
    /// HDF5, cargo feature `parallel-io`).
    Parallel,
}

/// The name of snapshot `k`'s view in `/heat/snapshot_views`.
pub fn view_name(k: usize) -> String {
    format!("{k:06}")
}

/// Chunk shape (rows, cols) for 2D fields: about 256 x 256 (512 KiB).
pub(super) fn chunk_2d(nx: usize, ny: usize) -> (usize, usize) {
    (ny.clamp(1, 256), nx.clamp(1, 256))
}

/// Chunk cache for a chunked field: the chunks one gather strip touches
/// (its rows of chunks across the whole width, plus one row a strip may
/// end in). Without it, a chunk filled by two strips would be written,
/// evicted and read back (and, compressed, inflated again). At most 64 MiB.
pub(super) fn chunk_cache_bytes(nx: usize, ny: usize) -> usize {
    let (cy, cx) = chunk_2d(nx, ny);
    let across = nx.div_ceil(cx);
    let rows = (STRIP_CELLS / nx.max(1)).max(1).div_ceil(cy) + 1;
    (across * rows * cy * cx * 8).min(64 << 20)
}

/// Rows per strip of a block `nx` wide: as many as fit in
/// [`STRIP_CELLS`], and always one (a row wider than that is one strip).
pub(super) fn strip_rows(nx: usize) -> usize {
    (STRIP_CELLS / nx.max(1)).max(1)
}

/// Values in `block`'s largest strip: what a buffer for its strips holds
/// (more than [`STRIP_CELLS`] when one row is wider than that).
pub(super) fn strip_len(block: &Block) -> usize {
    (strip_rows(block.nx()) * block.nx()).min(block.cells())
}

/// The strips of `block`, as global row ranges.
pub(super) fn strips(block: &Block) -> impl Iterator<Item = Range<usize>> + '_ {
    let step = strip_rows(block.nx());
    block
        .rows
        .clone()
        .step_by(step)
        .map(move |r| r..(r + step).min(block.rows.end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::decomp::{Decomposition, ProcGrid};

    #[test]
    fn a_row_wider_than_a_strip_is_one_strip_and_fits_its_buffer() {
        for (nx, ny, px) in [
            (STRIP_CELLS + 1, 2, 1),
            (3 * STRIP_CELLS, 3, 2),
            (1000, 5000, 3),
        ] {
            let d = Decomposition::new(nx, ny, ProcGrid::new(px, 1).unwrap()).unwrap();
            for r in 0..px {
                let block = d.block(r);
                let rows: Vec<_> = strips(&block).collect();
                assert_eq!(rows.first().unwrap().start, block.rows.start);
                assert_eq!(rows.last().unwrap().end, block.rows.end);
                for s in &rows {
                    assert!(s.len() * block.nx() <= strip_len(&block), "{nx} {s:?}");
                }
            }
        }
    }
}
