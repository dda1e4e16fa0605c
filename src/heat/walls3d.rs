//! A 3D run's six walls: what each face holds ([`Walls3`], checked once
//! when the plan is made); the refresh of the faces whose ghosts change
//! during the run is [`super::wallfill3d`]'s, as [`super::walls`] does
//! both for 2D's four.
//!
//! Every kind of 2D's [`Wall`]: a value (written once, with the initial
//! field, by [`super::kernel3d::Field3::initial`]); insulated (each ghost
//! holds the cell next to it, so nothing crosses the face); periodic per
//! axis (`--bc-x/--bc-y/--bc-z periodic`: the halo exchange brings the
//! other side's cells over a periodic process grid,
//! [`super::decomp3d::Decomposition3::with_periodic`]); an expression in
//! the two coordinates along the face and t (left and right: y, z; bottom
//! and top: x, z; front and back: x, y), at each ghost's position and
//! t_n = n dt. The 7-point stencil reads no ghost edge or corner, so only
//! each face's own ghosts are refreshed, before every step's halo
//! exchange; the refresh is a pure function of the field, the block's
//! global position and the step: the same bits on any decomposition.

use serde::Serialize;

use super::config::{periodic_pair, wall_program, ConfigError, Init, Wall};
use crate::check;
use crate::expr::Program;

/// The six walls' options, in [`Walls3::faces`]' order.
pub const WALL_OPTIONS: [&str; 6] = [
    "bc-left",
    "bc-right",
    "bc-bottom",
    "bc-top",
    "bc-front",
    "bc-back",
];

/// The faces' names, as messages say them.
const SIDES: [&str; 6] = ["left", "right", "bottom", "top", "front", "back"];

/// The axes' names.
const AXES: [&str; 3] = ["x", "y", "z"];

/// The two axes along the faces across `axis`, in the order a wall
/// expression reads them (then t).
pub fn along(axis: usize) -> [usize; 2] {
    match axis {
        0 => [1, 2],
        1 => [0, 2],
        _ => [0, 1],
    }
}

/// The six faces' walls (a value wall serialises as its number, as the
/// plain temperatures did).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Walls3 {
    pub left: Wall,
    pub right: Wall,
    pub bottom: Wall,
    pub top: Wall,
    /// z = 0.
    pub front: Wall,
    /// z = (nz + 1) dz.
    pub back: Wall,
}

impl Walls3 {
    /// The walls asked for (`given`, in [`WALL_OPTIONS`]' order; `periodic`
    /// per axis), defaults from `init`, each checked: values finite,
    /// periodic in pairs, expressions in the face's coordinates and t.
    pub fn new(
        given: &[Option<Wall>; 6],
        periodic: [bool; 3],
        init: &Init,
    ) -> Result<Self, String> {
        let defaults = match init {
            Init::Disk => [20.0, 70.0, 5.0, 85.0, 35.0, 50.0],
            _ => [0.0; 6],
        };
        let mut walls: [Wall; 6] = defaults.map(Wall::Value);
        for a in 0..3 {
            let (lo, hi) = (2 * a, 2 * a + 1);
            let pair = periodic_pair(
                periodic[a],
                (SIDES[lo], &given[lo]),
                (SIDES[hi], &given[hi]),
                AXES[a],
            )
            .map_err(|e| e.to_string())?;
            for (k, w) in [(lo, pair.0), (hi, pair.1)] {
                if let Some(w) = w {
                    walls[k] = w;
                }
            }
        }
        for (k, w) in walls.iter().enumerate() {
            match w {
                Wall::Value(v) => {
                    check::finite(WALL_OPTIONS[k], *v).map_err(|e| e.to_string())?;
                }
                Wall::Expr(e) => {
                    compile(k, e).map_err(|why| {
                        ConfigError::BadWallExpr {
                            side: SIDES[k],
                            expr: e.clone(),
                            why,
                        }
                        .to_string()
                    })?;
                }
                Wall::Insulated | Wall::Periodic => {}
            }
        }
        let [left, right, bottom, top, front, back] = walls;
        Ok(Self {
            left,
            right,
            bottom,
            top,
            front,
            back,
        })
    }

    /// Left, right, bottom, top, front, back: the order of
    /// [`crate::heat::decomp3d::FACES`].
    pub fn faces(&self) -> [&Wall; 6] {
        [
            &self.left,
            &self.right,
            &self.bottom,
            &self.top,
            &self.front,
            &self.back,
        ]
    }

    /// Which axes are joined end to end.
    pub fn periodic(&self) -> [bool; 3] {
        let f = self.faces();
        [0, 1, 2].map(|a| *f[2 * a] == Wall::Periodic)
    }

    /// The smallest and largest fixed value (see
    /// [`super::config::value_range`]).
    pub fn value_range(&self) -> Option<[f64; 2]> {
        super::config::value_range(self.faces().into_iter())
    }

    /// No heat crosses any face: the total is conserved.
    pub fn conserve_heat(&self) -> bool {
        super::config::conserve_heat(self.faces().into_iter())
    }

    /// Every face a value or periodic wall: no ghost changes during the
    /// run but the halo's (what a time block can carry).
    pub fn are_fixed(&self) -> bool {
        (self.faces().iter()).all(|w| matches!(w, Wall::Value(_) | Wall::Periodic))
    }

    /// Every face a value wall at 0 (the `sine` mode's exact solution).
    pub fn all_zero(&self) -> bool {
        (self.faces().iter()).all(|w| matches!(w, Wall::Value(v) if *v == 0.0))
    }

    /// Each face as the dry run and the report show it: the number, the
    /// kind's word, or the quoted expression.
    pub fn shown(&self, num: impl Fn(f64) -> String) -> [String; 6] {
        self.faces().map(|w| match w {
            Wall::Value(v) => num(*v),
            Wall::Expr(e) => format!("'{e}'"),
            w => w.kind().to_string(),
        })
    }
}

/// The expression `e` of face `face` ([`WALL_OPTIONS`]' order) compiled in
/// the coordinates along the face and t.
pub fn compile(face: usize, e: &str) -> Result<Program, String> {
    wall_program(e, &along(face / 2).map(|a| AXES[a]))
}
