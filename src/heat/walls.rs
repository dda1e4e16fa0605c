//! The walls whose ghost cells change during a run: insulated walls (each
//! ghost holds the cell next to it) and expression walls (each ghost holds
//! the expression at its position along the wall and t_n = n dt). Value
//! walls are written once by [`super::kernel::Field::fill`]; periodic walls
//! are the halo exchange's (a periodic topology in [`super::decomp`]).
//!
//! Both changing kinds are refreshed at the start of every step, before the
//! halo exchange, in this rank's ghosts on the global walls it touches; the
//! interior rows and columns only: the ghost corners are read by no
//! single step (5-point stencil), and a run with such walls is advanced one
//! step per sweep ([`depth_note`]), so no sweep reads them either.
//!
//! No MPI here: the refresh is a pure function of the field, the block's
//! global position and the step, the same on any decomposition.

use super::config::{compile_wall, Boundaries, HeatConfig, Wall, WallFn};
use super::decomp::Block;
use super::kernel::Field;

/// What a dry run and a plan say when walls hold the time block to 1.
pub fn depth_note(asked: usize) -> String {
    format!(
        "not {asked}: insulated and expression walls are refreshed every step, which the \
         time-blocked sweep does not carry"
    )
}

/// The walls as the dry run's resolved line shows them: `walls L 20 R 70
/// B 5 T 85 degC` for value walls (as before), the kind's word or the
/// quoted expression for the others.
pub fn resolved_line(b: &Boundaries) -> String {
    let show = |w: &Wall| match w {
        Wall::Expr(e) => format!("'{e}'"),
        w => w.to_string(),
    };
    format!(
        "walls L {} R {} B {} T {} degC",
        show(&b.left),
        show(&b.right),
        show(&b.bottom),
        show(&b.top)
    )
}

/// Which side of the block a refreshed wall is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
    Bottom,
    Top,
}

/// How a wall's ghosts are refreshed.
enum Refill {
    /// Ghost = the adjacent interior cell.
    Insulated,
    /// Ghost = f(position along the wall, t); the positions of this
    /// block's ghosts along it.
    Expr(WallFn, Vec<f64>),
}

/// This rank's changing walls: none on most runs (value and periodic walls
/// only), so a round then costs one test of an empty list.
pub struct WallFill {
    walls: Vec<(Side, Refill)>,
    dt: f64,
}

impl WallFill {
    /// The insulated and expression walls among the global walls `block`
    /// touches. Expressions were checked by the config: they compile.
    pub fn new(cfg: &HeatConfig, block: &Block) -> Self {
        let b = &cfg.boundaries;
        let along_x = || {
            (block.cols.clone())
                .map(|i| (i + 1) as f64 * cfg.dx)
                .collect()
        };
        let along_y = || {
            (block.rows.clone())
                .map(|j| (j + 1) as f64 * cfg.dy)
                .collect()
        };
        let mut walls = Vec::new();
        for (side, wall, touches, positions) in [
            (
                Side::Left,
                &b.left,
                block.cols.start == 0,
                &along_y as &dyn Fn() -> Vec<f64>,
            ),
            (Side::Right, &b.right, block.cols.end == cfg.nx, &along_y),
            (Side::Bottom, &b.bottom, block.rows.start == 0, &along_x),
            (Side::Top, &b.top, block.rows.end == cfg.ny, &along_x),
        ] {
            let refill = match wall {
                _ if !touches => continue,
                Wall::Insulated => Refill::Insulated,
                Wall::Expr(e) => {
                    let f = compile_wall(side_name(side), e).expect("checked by HeatConfig::new");
                    Refill::Expr(f, positions())
                }
                Wall::Value(_) | Wall::Periodic => continue,
            };
            walls.push((side, refill));
        }
        Self { walls, dt: cfg.dt }
    }

    pub fn is_empty(&self) -> bool {
        self.walls.is_empty()
    }

    /// Set the changing walls' ghosts of `u` for the step from `step`:
    /// insulated ghosts to the cells next to them, expression ghosts to
    /// their value at t = step * dt (a product, never a running sum).
    pub fn refresh(&self, u: &mut Field, step: u64) {
        let t = step as f64 * self.dt;
        let (nx, ny, g, w) = (u.nx(), u.ny(), u.ghosts(), u.stride());
        let d = u.as_mut_slice();
        for (side, refill) in &self.walls {
            // Storage (row, column) of ghost k (0..g outward) of interior
            // cell n along the wall, and of the interior cell next to it.
            let at = |n: usize, k: usize| -> (usize, usize) {
                match side {
                    Side::Left => ((g + n) * w + g - 1 - k, (g + n) * w + g),
                    Side::Right => ((g + n) * w + g + nx + k, (g + n) * w + g + nx - 1),
                    Side::Bottom => ((g - 1 - k) * w + g + n, g * w + g + n),
                    Side::Top => ((g + ny + k) * w + g + n, (g + ny - 1) * w + g + n),
                }
            };
            let len = match side {
                Side::Left | Side::Right => ny,
                Side::Bottom | Side::Top => nx,
            };
            for n in 0..len {
                let v = match refill {
                    Refill::Insulated => d[at(n, 0).1],
                    Refill::Expr(f, pos) => f(pos[n], t),
                };
                for k in 0..g {
                    d[at(n, k).0] = v;
                }
            }
        }
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Left => "left",
        Side::Right => "right",
        Side::Bottom => "bottom",
        Side::Top => "top",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::config::HeatRequest;

    fn config(left: Wall, bottom: Wall) -> HeatConfig {
        HeatConfig::new(&HeatRequest {
            nx: Some(5),
            ny: Some(4),
            left: Some(left),
            bottom: Some(bottom),
            ..HeatRequest::default()
        })
        .unwrap()
    }

    #[test]
    fn insulated_ghosts_copy_the_cell_next_to_them_and_only_on_the_wall() {
        let cfg = config(Wall::Insulated, Wall::Insulated);
        // A block on the left and bottom walls, not on the right or top.
        let block = Block {
            cols: 0..3,
            rows: 0..2,
        };
        let mut u = Field::zeros(3, 2);
        u.fill(&cfg, &block);
        for j in 0..2 {
            for i in 0..3 {
                u.set(i, j, (10 * j + i) as f64 + 1.0);
            }
        }
        let fill = WallFill::new(&cfg, &block);
        assert!(!fill.is_empty());
        fill.refresh(&mut u, 7);
        let (w, d) = (u.stride(), u.as_slice());
        assert_eq!([d[w], d[2 * w]], [1.0, 11.0], "left ghosts");
        assert_eq!(&d[1..4], &[1.0, 2.0, 3.0], "bottom ghosts");
        assert_eq!(d[w + 4], 0.0, "the right side faces a neighbour");
        assert_eq!(d[0], 0.0, "corners are left alone");
    }

    #[test]
    fn expression_ghosts_are_the_expression_along_the_wall_at_t_n() {
        let cfg = config(Wall::Expr("y + 100*t".into()), Wall::Expr("x*x".into()));
        let block = Block {
            cols: 2..5,
            rows: 1..3,
        };
        let mut u = Field::with_ghosts(3, 2, 2);
        u.fill(&cfg, &block);
        let fill = WallFill::new(&cfg, &block);
        assert!(fill.is_empty(), "the block touches neither wall");
        let block = Block {
            cols: 0..3,
            rows: 0..2,
        };
        WallFill::new(&cfg, &block).refresh(&mut u, 3);
        let t = 3.0 * cfg.dt;
        let (w, d) = (u.stride(), u.as_slice());
        for k in [0, 1] {
            assert_eq!(d[(2 + 1) * w + k], 2.0 * cfg.dy + 100.0 * t, "left, row 1");
            assert_eq!(
                d[k * w + 2 + 2],
                (3.0 * cfg.dx) * (3.0 * cfg.dx),
                "bottom, column 2"
            );
        }
        let bad = HeatConfig::new(&HeatRequest {
            left: Some(Wall::Expr("x + t".into())),
            ..HeatRequest::default()
        });
        let e = bad.unwrap_err().to_string();
        assert!(e.starts_with("--bc-left 'x + t': unknown name 'x'"), "{e}");
    }

    #[test]
    fn value_walls_need_no_refresh() {
        let cfg = HeatConfig::new(&HeatRequest {
            nx: Some(5),
            ny: Some(4),
            periodic_y: true,
            ..HeatRequest::default()
        })
        .unwrap();
        let whole = Block {
            cols: 0..5,
            rows: 0..4,
        };
        assert!(WallFill::new(&cfg, &whole).is_empty());
        assert_eq!(
            resolved_line(&cfg.boundaries),
            "walls L 20 R 70 B periodic T periodic degC"
        );
    }
}
