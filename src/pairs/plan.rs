//! What a pairs run is (made by `super::options`): where the points come
//! from, the limits every count must stay within (MPI's counts are 32-bit),
//! the size checks, and the memory each rank needs.

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use super::kernel::Points;
use super::points::PointsFile;
use super::range::Scale;
use crate::error::{Failure, Outcome};

/// Largest N with `--matrix`: N^2 <= i32::MAX, so every tile, strip and
/// all-to-all count fits MPI's i32 counts (the file is then at most 16 GiB).
pub const MAX_MATRIX_N: u64 = 46340;

/// Coordinates in all: a block and its padded travelling form stay within
/// MPI's i32 counts (8 GiB of points).
pub const MAX_COORDS: u64 = 1 << 30;

pub const MAX_BINS: u64 = 1 << 24;

/// Where the points come from.
#[derive(Debug, Clone)]
pub enum PointsFrom {
    /// A file, read and checked by rank 0 in the inputs step.
    File(PointsFile, PointsRead),
    /// Uniform in [0, 1)^dim from the seed.
    Generated { n: u64, dim: u64, seed: u64 },
}

/// A checked pairs run (made by `super::options`): generated points of a
/// size the run can hold, or a file's points read and checked by rank 0
/// in the inputs step (`super::input::read_file`), of a size the run can
/// hold.
#[derive(Debug, Clone)]
pub struct PairsPlan {
    pub source: PointsFrom,
    pub matrix: bool,
    pub bins: u64,
    /// `--rmax R`: the histogram over [0, R] of the pairs closer than R
    /// (checked: positive, finite, with bins, without the matrix).
    pub rmax: Option<f64>,
    /// What runs: `--algorithm`, with `auto` resolved ([`Algorithm::chosen`]).
    pub algorithm: Algorithm,
    pub out: crate::driver::Output,
}

/// A points file as the inputs step read it: its shape, sent to every
/// rank, and on rank 0 the points themselves (never sent: the run deals
/// them out in blocks).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointsRead {
    pub(super) shape: Shape,
    #[serde(skip)]
    pub(super) points: Option<Arc<Points>>,
}

/// What every rank knows of the points (rank 0 has them all).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Shape {
    pub(super) n: usize,
    pub(super) dim: usize,
    pub(super) diagonal: f64,
    /// The power of two the ring meets the points at (`super::range`).
    pub(super) scale: Scale,
}

/// How the pairs are met: `--algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    /// Every pair by the travelling-block ring (the pattern taught).
    Ring,
    /// Nearest neighbours through a tree of boxes along a Morton curve,
    /// pruning what cannot be nearer (`super::tree`): neighbours and the
    /// closest pair, and with `--rmax` the histogram over a grid of cells
    /// (`super::cells`).
    Tree,
    /// [`Algorithm::chosen`] picks.
    Auto,
}

/// `auto` takes the tree in up to 3-D from this many points: measured on
/// 2 ranks (2 cores, AMD EPYC), the tree was already ahead at 1000 points
/// in 2-D and 3-D (0.25 ms against the ring's 0.45 ms in 2-D), and below
/// it both take well under a millisecond.
pub const TREE_FROM_N: usize = 1000;

/// `auto` takes the tree up to this dimension: its pruning fades as D
/// grows (at N = 1e5 on 2 ranks it beat the ring 11x in 4-D and 2x in
/// 8-D, and lost 2x in 12-D and 16-D).
pub const TREE_UP_TO_DIM: usize = 8;

/// `auto` takes the tree in 4-D to 8-D from this many points: in 8-D the
/// ring was ahead at 1e4 points (35 ms against 56) and behind at 1e5.
pub const TREE_FROM_N_HIGH: usize = 32768;

impl Algorithm {
    /// What `self` means for N points in D dimensions with `bins` histogram
    /// bins and the matrix or not. `auto`: the tree when only neighbours
    /// are asked for (`--bins 0`, no `--matrix`: the histogram and the
    /// matrix need every pair) of N >= [`TREE_FROM_N`] points in up to
    /// 3-D, or N >= [`TREE_FROM_N_HIGH`] in up to [`TREE_UP_TO_DIM`]-D;
    /// else the ring. With `--rmax` (`within`), always the tree and its
    /// cells (the ring is the brute force they are tested against).
    pub fn chosen(self, n: usize, dim: usize, bins: u64, matrix: bool, within: bool) -> Self {
        let from = if dim <= 3 {
            TREE_FROM_N
        } else {
            TREE_FROM_N_HIGH
        };
        match self {
            Self::Auto if within => Self::Tree,
            Self::Auto if bins == 0 && !matrix && n >= from && dim <= TREE_UP_TO_DIM => Self::Tree,
            Self::Auto => Self::Ring,
            a => a,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Ring => "ring",
            Self::Tree => "tree",
            Self::Auto => "auto",
        }
    }
}

/// N and D within what the run can hold; `what` names N's origin.
pub(super) fn checked_size(n: u64, dim: u64, matrix: bool, what: &str) -> Outcome {
    if n < 2 {
        return Err(Failure::usage(format!(
            "{what}: {n} point(s): pairs need at least 2"
        )));
    }
    if dim < 1 {
        return Err(Failure::usage(format!(
            "{what}: points of dimension 0 have no distances"
        )));
    }
    if n.saturating_mul(dim) > MAX_COORDS {
        return Err(Failure::usage(format!(
            "{what}: {n} points x {dim} coordinates is more than {MAX_COORDS} coordinates"
        )));
    }
    if matrix && n > MAX_MATRIX_N {
        return Err(Failure::usage(format!(
            "--matrix with {n} points: the matrix would be {} GiB; at most {MAX_MATRIX_N} points \
             (a 16 GiB matrix; MPI counts are 32-bit): drop --matrix for the neighbours and histogram",
            (n as u128 * n as u128 * 8) >> 30
        )));
    }
    Ok(())
}

/// Bytes each rank holds with the tree: every point twice (as read, and
/// along the curve with their indices and keys), the boxes, the neighbour
/// arrays and their reduction; rank 0 the points once more. With `--rmax`
/// (`cells`) the grid too: the points again, a cell per point, and up to
/// `cells::MAX_CELLS_PER_POINT` cells per point with their boxes.
pub(super) fn need_tree(shape: &Shape, r: usize, cells: bool) -> u128 {
    let (n, dim) = (shape.n as u128, shape.dim as u128);
    let mut bytes = 8 * 2 * n * dim + 16 * n + 8 * 4 * dim * n.div_ceil(16) + 48 * n;
    if cells {
        let most = super::cells::MAX_CELLS_PER_POINT as u128 * n + 1024;
        bytes += 8 * n * dim + 8 * n + most * 8 * (1 + 2 * dim);
    }
    if r == 0 {
        bytes += 8 * n * dim;
    }
    bytes
}

/// Bytes rank r holds at most: rank 0 all the points and a received strip
/// beside its own; everyone a block, its transposed and travelling forms,
/// the neighbour arrays, and with the matrix its strip and the transposes.
pub(super) fn need(shape: &Shape, p: usize, r: usize, matrix: bool) -> u128 {
    let (n, dim) = (shape.n as u128, shape.dim as u128);
    let block = n.div_ceil(p as u128);
    let mut bytes = 8 * (3 * block * dim + 3 * dim * 8) + 16 * n;
    if matrix {
        bytes += 3 * 8 * block * n;
    }
    if r == 0 {
        bytes += 8 * n * dim + if matrix { 8 * block * n } else { 0 };
    }
    bytes
}
