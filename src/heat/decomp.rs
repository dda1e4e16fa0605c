//! Domain decomposition: which rank owns which block of the global grid, and
//! who its neighbours are.
//!
//! Pure arithmetic, no MPI, so every rule here is unit-tested without
//! `mpirun`. The MPI Cartesian communicator built in `heat::run` is checked
//! against these numbers at start-up: if the two ever disagreed, halos would
//! be exchanged with the wrong rank, so we refuse to run rather than compute
//! garbage.
//!
//! Conventions used throughout parsim:
//! - global interior column `i` in `0..nx` runs along x, row `j` in `0..ny`
//!   along y; row 0 is the bottom (y = dy);
//! - the process grid is `px x py`: `px` ranks along x, `py` along y;
//! - rank `r` sits at process coordinates `(cx, cy)` with `r = cy * px + cx`
//!   (row-major, the order MPI_Cart_create uses for dims `[py, px]`).

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use thiserror::Error;

/// Why a process grid or a decomposition cannot be built.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecompError {
    #[error(
        "process grid '{0}' is not of the form PXxPY with PX, PY >= 1 and PX*PY < 2^31 (e.g. 2x3)"
    )]
    BadGridSpec(String),
    #[error("process grid {grid} has {} ranks but the job runs {ranks}", grid.size())]
    GridSizeMismatch { grid: ProcGrid, ranks: usize },
    #[error(
        "grid {nx}x{ny} is too small for process grid {grid}: some rank would own no cells \
         (need nx >= {} and ny >= {})",
        grid.px, grid.py
    )]
    GridTooSmall {
        nx: usize,
        ny: usize,
        grid: ProcGrid,
    },
    #[error(
        "grid {nx}x{ny} is too small for {ranks} ranks: no process grid gives every rank at least \
         one cell"
    )]
    NoFeasibleGrid { nx: usize, ny: usize, ranks: usize },
}

/// A `px x py` arrangement of ranks. Both factors are at least 1; the only
/// constructors enforce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcGrid {
    px: usize,
    py: usize,
}

impl ProcGrid {
    /// A grid of `px` ranks along x and `py` along y; `None` if either is 0
    /// or there would be more ranks than MPI can number (an `int`).
    pub fn new(px: usize, py: usize) -> Option<Self> {
        let ranks = px.checked_mul(py)?;
        (px >= 1 && py >= 1 && ranks <= i32::MAX as usize).then_some(Self { px, py })
    }

    /// The most balanced factorisation of `ranks` (what MPI_Dims_create
    /// returns), with the larger factor along y: rows are contiguous in
    /// memory, so cutting along y keeps the more frequent halos contiguous.
    pub fn balanced(ranks: usize) -> Self {
        Self::candidates(ranks)
            .next()
            .unwrap_or(Self { px: 1, py: 1 })
    }

    /// The most balanced grid for `ranks` that gives every rank at least one
    /// cell of an `nx x ny` grid; a less balanced factorisation is used only
    /// when the balanced one does not fit (e.g. a 1-column grid).
    pub fn choose(ranks: usize, nx: usize, ny: usize) -> Result<Self, DecompError> {
        Self::candidates(ranks)
            .find(|g| g.px <= nx && g.py <= ny)
            .ok_or(DecompError::NoFeasibleGrid { nx, ny, ranks })
    }

    /// Every factorisation of `ranks`, most balanced first; for each pair of
    /// factors the one with more ranks along y comes first.
    fn candidates(ranks: usize) -> impl Iterator<Item = Self> {
        let mut grids: Vec<Self> = (1..=ranks)
            .filter(|d| ranks % d == 0)
            .map(|px| Self { px, py: ranks / px })
            .collect();
        grids.sort_by_key(|g| (g.px.abs_diff(g.py), g.px > g.py));
        grids.into_iter()
    }

    pub fn px(&self) -> usize {
        self.px
    }

    pub fn py(&self) -> usize {
        self.py
    }

    /// Number of ranks in the grid.
    pub fn size(&self) -> usize {
        self.px * self.py
    }

    /// Process coordinates `(cx, cy)` of `rank`.
    pub fn coords(&self, rank: usize) -> (usize, usize) {
        (rank % self.px, rank / self.px)
    }

    /// Rank at process coordinates `(cx, cy)`.
    pub fn rank(&self, cx: usize, cy: usize) -> usize {
        cy * self.px + cx
    }
}

impl fmt::Display for ProcGrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.px, self.py)
    }
}

impl FromStr for ProcGrid {
    type Err = DecompError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DecompError::BadGridSpec(s.to_string());
        let (a, b) = s.split_once(['x', 'X']).ok_or_else(bad)?;
        let px = a.trim().parse().map_err(|_| bad())?;
        let py = b.trim().parse().map_err(|_| bad())?;
        Self::new(px, py).ok_or_else(bad)
    }
}

pub use crate::partition::split_range;

/// The four neighbours of a block; `None` on a global boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Neighbours {
    pub left: Option<usize>,
    pub right: Option<usize>,
    pub down: Option<usize>,
    pub up: Option<usize>,
}

/// The part of the global grid one rank owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Global interior columns owned.
    pub cols: Range<usize>,
    /// Global interior rows owned.
    pub rows: Range<usize>,
}

impl Block {
    pub fn nx(&self) -> usize {
        self.cols.len()
    }

    pub fn ny(&self) -> usize {
        self.rows.len()
    }

    pub fn cells(&self) -> usize {
        self.nx() * self.ny()
    }
}

/// A valid split of an `nx x ny` grid over a process grid: every rank owns a
/// non-empty block. Only [`Decomposition::new`] builds one, so holding a
/// `Decomposition` proves the split is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decomposition {
    nx: usize,
    ny: usize,
    grid: ProcGrid,
    /// Along x, along y: the first block's neighbour is the last one
    /// (periodic walls); a rank alone on a periodic axis is its own.
    periodic: (bool, bool),
}

impl Decomposition {
    pub fn new(nx: usize, ny: usize, grid: ProcGrid) -> Result<Self, DecompError> {
        if grid.px > nx || grid.py > ny {
            return Err(DecompError::GridTooSmall { nx, ny, grid });
        }
        Ok(Self {
            nx,
            ny,
            grid,
            periodic: (false, false),
        })
    }

    /// The same split with the process grid wrapped around along x and/or
    /// y (a periodic Cartesian topology).
    pub fn with_periodic(self, x: bool, y: bool) -> Self {
        Self {
            periodic: (x, y),
            ..self
        }
    }

    /// Along x, along y: wrapped around?
    pub fn periodic(&self) -> (bool, bool) {
        self.periodic
    }

    pub fn grid(&self) -> ProcGrid {
        self.grid
    }

    pub fn nx(&self) -> usize {
        self.nx
    }

    pub fn ny(&self) -> usize {
        self.ny
    }

    pub fn ranks(&self) -> usize {
        self.grid.size()
    }

    /// The block owned by `rank`.
    pub fn block(&self, rank: usize) -> Block {
        let (cx, cy) = self.grid.coords(rank);
        Block {
            cols: split_range(self.nx, self.grid.px, cx),
            rows: split_range(self.ny, self.grid.py, cy),
        }
    }

    /// The largest block any rank owns (sizes the receive buffer at rank 0).
    pub fn max_block_cells(&self) -> usize {
        self.nx.div_ceil(self.grid.px) * self.ny.div_ceil(self.grid.py)
    }

    /// The smallest block's width and height (blocks differ by at most one
    /// cell along each axis).
    pub fn min_block(&self) -> (usize, usize) {
        (self.nx / self.grid.px, self.ny / self.grid.py)
    }

    /// The rank `dx` blocks to the right and `dy` blocks up from `rank`
    /// (each -1, 0 or 1), if the grid has one there: diagonal neighbours
    /// supply the corners of deep halos.
    /// Along a periodic axis the grid wraps around.
    pub fn neighbour_at(&self, rank: usize, dx: isize, dy: isize) -> Option<usize> {
        let g = self.grid;
        let (cx, cy) = g.coords(rank);
        let x = shifted(cx, dx, g.px, self.periodic.0)?;
        let y = shifted(cy, dy, g.py, self.periodic.1)?;
        Some(g.rank(x, y))
    }

    /// Neighbours of `rank` in the process grid (wrapped along a periodic
    /// axis: what MPI_Cart_shift gives with those periods).
    pub fn neighbours(&self, rank: usize) -> Neighbours {
        Neighbours {
            left: self.neighbour_at(rank, -1, 0),
            right: self.neighbour_at(rank, 1, 0),
            down: self.neighbour_at(rank, 0, -1),
            up: self.neighbour_at(rank, 0, 1),
        }
    }
}

/// Process coordinate `c` moved by `d` (-1, 0 or 1) on an axis of `n`:
/// `None` past an end, unless the axis wraps around.
fn shifted(c: usize, d: isize, n: usize, periodic: bool) -> Option<usize> {
    match c.checked_add_signed(d).filter(|&x| x < n) {
        Some(x) => Some(x),
        None if periodic => Some((c + n).checked_add_signed(d)? % n),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbour_at_agrees_with_neighbours_and_finds_diagonals() {
        let d = Decomposition::new(30, 20, ProcGrid::new(3, 2).unwrap()).unwrap();
        for rank in 0..6 {
            let n = d.neighbours(rank);
            assert_eq!(d.neighbour_at(rank, -1, 0), n.left);
            assert_eq!(d.neighbour_at(rank, 1, 0), n.right);
            assert_eq!(d.neighbour_at(rank, 0, -1), n.down);
            assert_eq!(d.neighbour_at(rank, 0, 1), n.up);
        }
        // rank = cy * px + cx: rank 1 is (1, 0); up-left is (0, 1) = rank 3.
        assert_eq!(d.neighbour_at(1, -1, 1), Some(3));
        assert_eq!(d.neighbour_at(1, 1, 1), Some(5));
        assert_eq!(d.neighbour_at(1, 1, -1), None);
        assert_eq!(d.neighbour_at(5, 1, 1), None);
        assert_eq!(d.min_block(), (10, 10));
    }

    #[test]
    fn every_cell_owned_exactly_once() {
        for (nx, ny) in [(1, 1), (7, 5), (37, 23), (257, 131), (64, 64), (3, 100)] {
            for p in 1..=12 {
                let Ok(grid) = ProcGrid::choose(p, nx, ny) else {
                    assert!(nx * ny < p || (nx < p && ny < p), "{nx}x{ny} p={p}");
                    continue;
                };
                let d = Decomposition::new(nx, ny, grid).unwrap();
                let mut owner = vec![usize::MAX; nx * ny];
                for r in 0..p {
                    let b = d.block(r);
                    assert!(b.cells() >= 1);
                    for j in b.rows.clone() {
                        for i in b.cols.clone() {
                            assert_eq!(owner[j * nx + i], usize::MAX, "cell ({i},{j}) twice");
                            owner[j * nx + i] = r;
                        }
                    }
                    assert!(b.cells() <= d.max_block_cells());
                }
                assert!(
                    owner.iter().all(|&o| o < p),
                    "{nx}x{ny} p={p}: cell not owned"
                );
            }
        }
    }

    #[test]
    fn periodic_axes_wrap_around_even_onto_the_rank_itself() {
        let d = Decomposition::new(9, 8, ProcGrid::new(3, 2).unwrap()).unwrap();
        assert_eq!(d.neighbours(0).left, None);
        let p = d.with_periodic(true, false);
        let n = p.neighbours(0);
        assert_eq!(
            (n.left, n.right, n.down, n.up),
            (Some(2), Some(1), None, Some(3))
        );
        assert_eq!(p.neighbour_at(3, -1, -1), Some(2));
        assert_eq!(p.neighbour_at(5, 1, 1), None, "y does not wrap");
        let both = Decomposition::new(5, 5, ProcGrid::new(1, 2).unwrap())
            .unwrap()
            .with_periodic(true, true);
        let n = both.neighbours(1);
        assert_eq!(
            (n.left, n.right, n.down, n.up),
            (Some(1), Some(1), Some(0), Some(0))
        );
        assert_eq!(both.neighbour_at(0, -1, -1), Some(1));
    }

    #[test]
    fn neighbours_are_mutual_and_adjacent() {
        let d = Decomposition::new(40, 30, ProcGrid::new(3, 4).unwrap()).unwrap();
        for r in 0..d.ranks() {
            let n = d.neighbours(r);
            let b = d.block(r);
            if let Some(l) = n.left {
                assert_eq!(d.neighbours(l).right, Some(r));
                assert_eq!(d.block(l).cols.end, b.cols.start);
                assert_eq!(d.block(l).rows, b.rows);
            } else {
                assert_eq!(b.cols.start, 0);
            }
            if let Some(u) = n.up {
                assert_eq!(d.neighbours(u).down, Some(r));
                assert_eq!(d.block(u).rows.start, b.rows.end);
                assert_eq!(d.block(u).cols, b.cols);
            } else {
                assert_eq!(b.rows.end, 30);
            }
            if n.right.is_none() {
                assert_eq!(b.cols.end, 40);
            }
            if n.down.is_none() {
                assert_eq!(b.rows.start, 0);
            }
        }
        // rank = cy * px + cx
        assert_eq!(d.grid().coords(7), (1, 2));
        assert_eq!(d.grid().rank(1, 2), 7);
    }

    #[test]
    fn balanced_grid_like_dims_create() {
        let g = |p| {
            let g = ProcGrid::balanced(p);
            (g.px(), g.py())
        };
        assert_eq!(g(1), (1, 1));
        assert_eq!(g(2), (1, 2));
        assert_eq!(g(4), (2, 2));
        assert_eq!(g(6), (2, 3));
        assert_eq!(g(7), (1, 7));
        assert_eq!(g(12), (3, 4));
        assert_eq!(g(16), (4, 4));
    }

    #[test]
    fn choose_falls_back_when_balanced_does_not_fit() {
        let g = ProcGrid::choose(4, 1, 100).unwrap();
        assert_eq!((g.px(), g.py()), (1, 4));
        let g = ProcGrid::choose(4, 100, 1).unwrap();
        assert_eq!((g.px(), g.py()), (4, 1));
        assert_eq!(
            ProcGrid::choose(4, 1, 3),
            Err(DecompError::NoFeasibleGrid {
                nx: 1,
                ny: 3,
                ranks: 4
            })
        );
    }

    #[test]
    fn too_small_grid_refused() {
        let grid = ProcGrid::new(4, 1).unwrap();
        assert!(matches!(
            Decomposition::new(3, 10, grid),
            Err(DecompError::GridTooSmall { .. })
        ));
        assert!(Decomposition::new(4, 1, grid).is_ok());
    }

    #[test]
    fn grid_spec_parses() {
        assert_eq!("2x3".parse::<ProcGrid>(), Ok(ProcGrid::new(2, 3).unwrap()));
        assert_eq!("4X1".parse::<ProcGrid>(), Ok(ProcGrid::new(4, 1).unwrap()));
        for bad in ["", "2", "0x2", "2x0", "ax2", "2x-1", "2x3x4", "x"] {
            assert!(bad.parse::<ProcGrid>().is_err(), "{bad:?} accepted");
        }
    }
}
