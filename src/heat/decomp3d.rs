//! The 3D decomposition: a `px x py x pz` process grid, each rank's box of
//! the global `nx x ny x nz` grid, its six face neighbours.
//!
//! Pure arithmetic (no MPI), unit-tested; `super::run3d` checks the MPI
//! Cartesian communicator against it before any halo moves. Conventions, as
//! the 2D ones (`super::decomp`) with z added:
//! - global cell `(i, j, k)`: `i` along x (`0..nx`), `j` along y, `k` along
//!   z; storage is `[k][j][i]`, x fastest;
//! - rank `r` sits at `(cx, cy, cz)` with `r = (cz * py + cy) * px + cx`,
//!   the row-major order MPI_Cart_create uses for dims `[pz, py, px]`.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use thiserror::Error;

use super::decomp::split_range;

/// Why a 3D process grid or decomposition cannot be built.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Decomp3Error {
    #[error(
        "process grid '{0}' is not of the form PXxPYxPZ with PX, PY, PZ >= 1 and PX*PY*PZ < \
         2^31 (e.g. 2x2x1)"
    )]
    BadGridSpec(String),
    #[error("process grid {grid} has {} ranks but the job runs {ranks}", grid.size())]
    GridSizeMismatch { grid: ProcGrid3, ranks: usize },
    #[error(
        "grid {nx}x{ny}x{nz} is too small for process grid {grid}: some rank would own no \
         cells (need nx >= {}, ny >= {} and nz >= {})",
        grid.px, grid.py, grid.pz
    )]
    GridTooSmall {
        nx: usize,
        ny: usize,
        nz: usize,
        grid: ProcGrid3,
    },
    #[error(
        "grid {nx}x{ny}x{nz} is too small for {ranks} ranks: no process grid gives every rank \
         at least one cell"
    )]
    NoFeasibleGrid {
        nx: usize,
        ny: usize,
        nz: usize,
        ranks: usize,
    },
}

/// A `px x py x pz` arrangement of ranks, each factor at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcGrid3 {
    px: usize,
    py: usize,
    pz: usize,
}

impl ProcGrid3 {
    /// `None` if a factor is 0 or the ranks would overflow an MPI `int`.
    pub fn new(px: usize, py: usize, pz: usize) -> Option<Self> {
        let ranks = px.checked_mul(py)?.checked_mul(pz)?;
        (px >= 1 && py >= 1 && pz >= 1 && ranks <= i32::MAX as usize).then_some(Self { px, py, pz })
    }

    /// The most balanced grid for `ranks` that gives every rank at least one
    /// cell of an `nx x ny x nz` grid.
    pub fn choose(ranks: usize, nx: usize, ny: usize, nz: usize) -> Result<Self, Decomp3Error> {
        Self::candidates(ranks)
            .into_iter()
            .find(|g| g.px <= nx && g.py <= ny && g.pz <= nz)
            .ok_or(Decomp3Error::NoFeasibleGrid { nx, ny, nz, ranks })
    }

    /// Every factorisation of `ranks`, most balanced first (smallest
    /// spread between the largest and smallest factor, as MPI_Dims_create),
    /// and among equally balanced ones the larger factors along z, then y:
    /// a z face is contiguous in memory, an x face the most scattered, so
    /// cutting along z first keeps the halos cheapest to pack.
    fn candidates(ranks: usize) -> Vec<Self> {
        let divisors = |n: usize| (1..=n).filter(move |d| n % d == 0);
        let mut grids: Vec<Self> = divisors(ranks)
            .flat_map(|px| {
                divisors(ranks / px).map(move |py| Self {
                    px,
                    py,
                    pz: ranks / px / py,
                })
            })
            .collect();
        grids.sort_by_key(|g| {
            let (hi, lo) = (g.px.max(g.py).max(g.pz), g.px.min(g.py).min(g.pz));
            (hi - lo, g.px, g.py)
        });
        grids
    }

    pub fn px(&self) -> usize {
        self.px
    }

    pub fn py(&self) -> usize {
        self.py
    }

    pub fn pz(&self) -> usize {
        self.pz
    }

    pub fn size(&self) -> usize {
        self.px * self.py * self.pz
    }

    /// Process coordinates `(cx, cy, cz)` of `rank`.
    pub fn coords(&self, rank: usize) -> [usize; 3] {
        [
            rank % self.px,
            (rank / self.px) % self.py,
            rank / (self.px * self.py),
        ]
    }

    /// The rank at process coordinates `c`.
    pub fn rank(&self, c: [usize; 3]) -> usize {
        (c[2] * self.py + c[1]) * self.px + c[0]
    }

    /// Ranks along each axis, x first.
    pub fn dims(&self) -> [usize; 3] {
        [self.px, self.py, self.pz]
    }
}

impl fmt::Display for ProcGrid3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.px, self.py, self.pz)
    }
}

impl FromStr for ProcGrid3 {
    type Err = Decomp3Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || Decomp3Error::BadGridSpec(s.to_string());
        let parts: Vec<&str> = s.split(['x', 'X']).collect();
        let [a, b, c] = parts[..] else {
            return Err(bad());
        };
        let n = |t: &str| t.trim().parse::<usize>().map_err(|_| bad());
        Self::new(n(a)?, n(b)?, n(c)?).ok_or_else(bad)
    }
}

/// The box of the global grid one rank owns (global cell ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block3 {
    pub cols: Range<usize>,
    pub rows: Range<usize>,
    pub planes: Range<usize>,
}

impl Block3 {
    pub fn nx(&self) -> usize {
        self.cols.len()
    }

    pub fn ny(&self) -> usize {
        self.rows.len()
    }

    pub fn nz(&self) -> usize {
        self.planes.len()
    }

    pub fn cells(&self) -> usize {
        self.nx() * self.ny() * self.nz()
    }
}

/// A valid split: every rank owns at least one cell (only
/// [`Decomposition3::new`] builds one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decomposition3 {
    n: [usize; 3],
    grid: ProcGrid3,
    /// Axes joined end to end (periodic walls): the first and last ranks
    /// along them are neighbours.
    periodic: [bool; 3],
}

/// The six faces, in the order of [`Decomposition3::neighbours`]: the low
/// and high side of x, then y, then z.
pub const FACES: [(usize, isize); 6] = [(0, -1), (0, 1), (1, -1), (1, 1), (2, -1), (2, 1)];

impl Decomposition3 {
    pub fn new(nx: usize, ny: usize, nz: usize, grid: ProcGrid3) -> Result<Self, Decomp3Error> {
        if grid.px > nx || grid.py > ny || grid.pz > nz {
            return Err(Decomp3Error::GridTooSmall { nx, ny, nz, grid });
        }
        Ok(Self {
            n: [nx, ny, nz],
            grid,
            periodic: [false; 3],
        })
    }

    /// The same split with the axes `periodic` joined end to end.
    pub fn with_periodic(self, periodic: [bool; 3]) -> Self {
        Self { periodic, ..self }
    }

    /// Which axes are joined end to end.
    pub fn periodic(&self) -> [bool; 3] {
        self.periodic
    }

    pub fn grid(&self) -> ProcGrid3 {
        self.grid
    }

    pub fn ranks(&self) -> usize {
        self.grid.size()
    }

    /// The cells `rank` owns: along each axis the near-even split of
    /// [`split_range`] (the first `n % p` ranks one cell more).
    pub fn block(&self, rank: usize) -> Block3 {
        let c = self.grid.coords(rank);
        let d = self.grid.dims();
        let axis = |a: usize| split_range(self.n[a], d[a], c[a]);
        Block3 {
            cols: axis(0),
            rows: axis(1),
            planes: axis(2),
        }
    }

    /// The rank across each face of `rank`'s block (see [`FACES`]);
    /// `None` on a global wall; across a periodic axis' ends, the rank at
    /// the other end (this one when it is alone along the axis).
    pub fn neighbours(&self, rank: usize) -> [Option<usize>; 6] {
        let c = self.grid.coords(rank);
        let d = self.grid.dims();
        FACES.map(|(axis, side)| {
            let at = match c[axis].checked_add_signed(side).filter(|&v| v < d[axis]) {
                None if self.periodic[axis] => {
                    (c[axis] + d[axis]).wrapping_add_signed(side) % d[axis]
                }
                at => at?,
            };
            let mut n = c;
            n[axis] = at;
            Some(self.grid.rank(n))
        })
    }

    /// The smallest block's extent along each axis.
    pub fn min_block(&self) -> [usize; 3] {
        let d = self.grid.dims();
        [0, 1, 2].map(|a| self.n[a] / d[a])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(s: &str) -> ProcGrid3 {
        s.parse().unwrap()
    }

    #[test]
    fn grids_parse_and_refuse() {
        assert_eq!(grid("2x3x4").dims(), [2, 3, 4]);
        assert_eq!(grid("1X1x7").size(), 7);
        for bad in ["2x2", "2x2x2x2", "0x1x1", "ax1x1", "", "2x x1"] {
            let e = bad.parse::<ProcGrid3>().unwrap_err().to_string();
            assert!(e.contains("PXxPYxPZ"), "{bad}: {e}");
        }
    }

    #[test]
    fn balanced_grids_cut_z_first() {
        let chosen = |p, n| ProcGrid3::choose(p, n, n, n).unwrap().to_string();
        assert_eq!(chosen(1, 8), "1x1x1");
        assert_eq!(chosen(2, 8), "1x1x2");
        assert_eq!(chosen(4, 8), "1x2x2");
        assert_eq!(chosen(8, 8), "2x2x2");
        assert_eq!(chosen(12, 8), "2x2x3");
        assert_eq!(chosen(7, 8), "1x1x7");
        // A thin grid takes a less balanced factorisation that fits.
        let g = ProcGrid3::choose(4, 8, 8, 1).unwrap();
        assert_eq!(g.to_string(), "2x2x1");
        let g = ProcGrid3::choose(4, 1, 8, 1).unwrap();
        assert_eq!(g.to_string(), "1x4x1");
        assert!(matches!(
            ProcGrid3::choose(5, 2, 2, 2),
            Err(Decomp3Error::NoFeasibleGrid { .. })
        ));
    }

    #[test]
    fn blocks_tile_the_grid_and_neighbours_are_mutual() {
        for (n, g) in [
            ([5, 7, 3], "2x3x1"),
            ([9, 4, 6], "3x2x2"),
            ([4, 4, 4], "1x1x4"),
            ([3, 3, 3], "1x1x1"),
        ] {
            let d = Decomposition3::new(n[0], n[1], n[2], grid(g)).unwrap();
            let mut owner = vec![usize::MAX; n[0] * n[1] * n[2]];
            for r in 0..d.ranks() {
                let b = d.block(r);
                assert!(b.cells() > 0);
                for k in b.planes.clone() {
                    for j in b.rows.clone() {
                        for i in b.cols.clone() {
                            let at = (k * n[1] + j) * n[0] + i;
                            assert_eq!(owner[at], usize::MAX, "{g}: overlap");
                            owner[at] = r;
                        }
                    }
                }
                for (f, nb) in d.neighbours(r).into_iter().enumerate() {
                    if let Some(nb) = nb {
                        // The opposite face of the neighbour points back.
                        assert_eq!(d.neighbours(nb)[f ^ 1], Some(r), "{g} rank {r} face {f}");
                    }
                }
            }
            assert!(owner.iter().all(|&o| o != usize::MAX), "{g}: a hole");
        }
    }

    #[test]
    fn uneven_splits_and_too_small_grids() {
        let d = Decomposition3::new(5, 4, 7, grid("2x1x3")).unwrap();
        assert_eq!(d.block(0).cols, 0..3);
        assert_eq!(d.block(1).cols, 3..5);
        assert_eq!(d.block(5).planes, 5..7);
        assert_eq!(d.min_block(), [2, 4, 2]);
        assert_eq!(d.neighbours(0), [None, Some(1), None, None, None, Some(2)]);
        let p = d.with_periodic([true, false, true]);
        assert_eq!(
            p.neighbours(0),
            [Some(1), Some(1), None, None, Some(4), Some(2)]
        );
        let one = Decomposition3::new(3, 3, 3, grid("1x1x1")).unwrap();
        let one = one.with_periodic([false, true, false]);
        assert_eq!(
            one.neighbours(0),
            [None, None, Some(0), Some(0), None, None]
        );
        let e = Decomposition3::new(4, 4, 1, grid("1x1x2")).unwrap_err();
        assert!(e.to_string().contains("nz >= 2"), "{e}");
    }
}
