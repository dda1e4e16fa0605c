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

/// One axis of the stored field: its name (the coordinate dataset's),
/// its points and their spacing (cell centres at `d, 2d, ... n d`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub name: &'static str,
    pub n: usize,
    pub d: f64,
}

/// The axes of a 2D field `[ny, nx]` or a 3D one `[nz, ny, nx]`,
/// slowest first, as the datasets store them.
pub fn axes(n: &[usize], d: &[f64]) -> Vec<Axis> {
    const NAMES: [&str; 3] = ["x", "y", "z"];
    let mut axes: Vec<Axis> = (0..n.len())
        .map(|a| Axis {
            name: NAMES[a],
            n: n[a],
            d: d[a],
        })
        .collect();
    axes.reverse();
    axes
}

/// The field's shape, slowest axis first.
pub fn shape(axes: &[Axis]) -> Vec<usize> {
    axes.iter().map(|a| a.n).collect()
}

/// Chunk shape (rows, cols) for 2D fields: about 256 x 256 (512 KiB).
pub(super) fn chunk_2d(nx: usize, ny: usize) -> (usize, usize) {
    (ny.clamp(1, 256), nx.clamp(1, 256))
}

/// Chunk shape of a field of `shape` (slowest first), 512 KiB at most:
/// 2D's [`chunk_2d`], and 16 x 64 x 64 in 3D (a chunk a few planes
/// deep, so one gathered plane strip touches few of them).
pub(super) fn chunk(shape: &[usize]) -> Vec<usize> {
    match shape {
        [ny, nx] => {
            let (cy, cx) = chunk_2d(*nx, *ny);
            vec![cy, cx]
        }
        _ => {
            let most = [16, 64, 64];
            let skip = most.len().saturating_sub(shape.len());
            shape
                .iter()
                .zip(&most[skip..])
                .map(|(&n, &m)| n.clamp(1, m))
                .collect()
        }
    }
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

/// [`chunk_cache_bytes`] for a field of `shape`: in 3D one layer of
/// chunks across a whole plane (a strip is at most a few planes of a
/// block), at most 64 MiB.
pub(super) fn cache_bytes(shape: &[usize]) -> usize {
    match shape {
        [ny, nx] => chunk_cache_bytes(*nx, *ny),
        _ => {
            let c = chunk(shape);
            let across: usize = shape[1..]
                .iter()
                .zip(&c[1..])
                .map(|(n, c)| n.div_ceil(*c))
                .product();
            let layers = 1 + STRIP_CELLS.div_ceil(shape[1..].iter().product::<usize>().max(1));
            (across * layers * c.iter().product::<usize>() * 8).min(64 << 20)
        }
    }
}

/// Values stored for a chunked field of `shape`: whole chunks, edges
/// included.
pub(super) fn chunked_cells(shape: &[usize]) -> u64 {
    let c = chunk(shape);
    shape
        .iter()
        .zip(&c)
        .map(|(&n, &c)| (n.div_ceil(c) * c) as u64)
        .product()
}

/// Rows per strip of a block `nx` wide: as many as fit in
/// [`STRIP_CELLS`], and always one (a row wider than that is one strip).
pub(super) fn strip_rows(nx: usize) -> usize {
    (STRIP_CELLS / nx.max(1)).max(1)
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

/// The strips of a 3D block (planes, rows, cols: global ranges), each at
/// most [`STRIP_CELLS`] values or one row: whole planes of the block
/// where one fits, else rows of one plane (as 2D's [`strips`]).
pub(super) fn strips3(
    planes: Range<usize>,
    rows: Range<usize>,
    cols: Range<usize>,
) -> Vec<[Range<usize>; 3]> {
    let plane = rows.len() * cols.len();
    if plane <= STRIP_CELLS {
        let step = (STRIP_CELLS / plane.max(1)).max(1);
        return planes
            .clone()
            .step_by(step)
            .map(|k| [k..(k + step).min(planes.end), rows.clone(), cols.clone()])
            .collect();
    }
    let step = strip_rows(cols.len());
    planes
        .flat_map(|k| {
            let (rows, cols) = (rows.clone(), cols.clone());
            rows.clone()
                .step_by(step)
                .map(move |r| [k..k + 1, r..(r + step).min(rows.end), cols.clone()])
        })
        .collect()
}

/// The strips of a whole field of `shape` (slowest axis first, 2D or
/// 3D), as global ranges: 2D's rows ([`strip_rows`]), 3D's
/// [`strips3`]. Each lies contiguous in the field's row-major order, so
/// reading and checking a stored field strip by strip works for both.
pub(super) fn field_strips(shape: &[usize]) -> Vec<Vec<Range<usize>>> {
    match *shape {
        [ny, nx] => {
            let step = strip_rows(nx);
            (0..ny)
                .step_by(step)
                .map(|r| vec![r..(r + step).min(ny), 0..nx])
                .collect()
        }
        [nz, ny, nx] => strips3(0..nz, 0..ny, 0..nx)
            .into_iter()
            .map(Vec::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// The rows (of the last axis, counted over the whole field of `shape`:
/// `k ny + j` in 3D) a strip of [`field_strips`] holds: what
/// `super::meta::strip_sum` indexes its cells by.
pub(super) fn strip_rows_of(region: &[Range<usize>], shape: &[usize]) -> Range<usize> {
    let Some((_, lead)) = region.split_last() else {
        return 0..0;
    };
    let first = (lead.iter().zip(shape)).fold(0, |at, (r, n)| at * n + r.start);
    let count: usize = lead.iter().map(|r| r.len()).product();
    first..first + count
}

/// Snapshots a result file holds when snapshots are taken `every` steps
/// (0: none) from step `from` to `to`, besides `carried` ones a restart
/// brings from before `from`.
pub fn snapshot_count(every: u64, (from, to): (u64, u64), carried: usize) -> u64 {
    if every == 0 {
        return 0;
    }
    carried as u64 + to / every - from.div_ceil(every) + 1
}

/// A rank's block as it lies in memory and in the file: the buffer with
/// its ghost layers (`mem_dims`, slowest axis first), the interior's
/// corner in it (`mem_start`), its extent (`count`) and its corner in the
/// dataset (`file_start`). Built by `super::gather::Tiles::slab`.
pub struct Slab<'a> {
    pub data: &'a [f64],
    pub mem_dims: Vec<u64>,
    pub mem_start: Vec<u64>,
    pub count: Vec<u64>,
    pub file_start: Vec<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::decomp::{Decomposition, ProcGrid};

    /// Values in `block`'s largest strip (more than [`STRIP_CELLS`] when
    /// one row is wider than that).
    fn strip_len(block: &Block) -> usize {
        (strip_rows(block.nx()) * block.nx()).min(block.cells())
    }

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

    #[test]
    fn field_strips_cover_the_field_in_row_major_order() {
        for shape in [vec![5, 7], vec![4, 3, 6], vec![2, 3, STRIP_CELLS / 2]] {
            let (nx, mut next) = (*shape.last().unwrap(), 0);
            for region in field_strips(&shape) {
                assert_eq!(region.last().unwrap(), &(0..nx), "whole rows");
                let rows = strip_rows_of(&region, &shape);
                let cells: usize = region.iter().map(|r| r.len()).product();
                assert_eq!((rows.start, rows.len() * nx), (next, cells), "{region:?}");
                next = rows.end;
            }
            assert_eq!(next * nx, shape.iter().product::<usize>());
        }
        assert_eq!(snapshot_count(0, (0, 100), 3), 0);
        assert_eq!(snapshot_count(10, (0, 100), 0), 11);
        assert_eq!(snapshot_count(10, (25, 100), 3), 11);
        assert_eq!(snapshot_count(10, (30, 100), 3), 11);
    }

    #[test]
    fn strips3_tile_the_block_within_the_strip_size() {
        let plane = STRIP_CELLS / 4;
        for (planes, rows, cols) in [
            (3..10, 0..5, 2..9),
            (0..9, 0..4, 0..plane / 4),
            (1..3, 0..3, 0..STRIP_CELLS / 2),
            (0..2, 0..2, 0..STRIP_CELLS + 1),
        ] {
            let strips = strips3(planes.clone(), rows.clone(), cols.clone());
            let mut cells = 0;
            let mut next = (planes.start, rows.start);
            for [p, r, c] in &strips {
                assert_eq!(c, &cols);
                let n = p.len() * r.len() * c.len();
                assert!(n <= STRIP_CELLS.max(cols.len()), "{p:?} {r:?}");
                assert_eq!((p.start, r.start), next, "in order");
                next = if r.end == rows.end {
                    (p.end, rows.start)
                } else {
                    (p.start, r.end)
                };
                cells += n;
            }
            assert_eq!(cells, planes.len() * rows.len() * cols.len());
        }
        assert_eq!(chunk(&[100, 3, 500]), [16, 3, 64]);
        assert_eq!(chunk(&[300, 7]), [256, 7]);
        assert_eq!(chunked_cells(&[17, 3, 64]), 32 * 3 * 64);
    }
}
