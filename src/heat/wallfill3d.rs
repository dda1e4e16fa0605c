//! A 3D run's refresh of the faces whose ghosts change during the run
//! ([`WallFill3`]): insulated faces copy the cells next to them,
//! expression faces take their value at each ghost's position and t_n =
//! n dt; what each face holds is [`super::walls3d`]'s. The 7-point stencil
//! reads no ghost edge or corner, so only each face's own ghosts are
//! refreshed, before every step's halo exchange; the refresh is a pure
//! function of the field, the block's global position and the step: the
//! same bits on any decomposition. The walls' tests (their checks through
//! the plan, and the refresh) are here.

use super::config::Wall;
use super::decomp3d::Block3;
use super::kernel3d::Field3;
use super::plan3d::Config3d;
use super::walls3d::{along, compile};
use crate::expr::Program;

/// How a face's ghosts are refreshed.
enum Refill {
    /// Ghost = the interior cell next to it.
    Insulated,
    /// Ghost = the expression at (the two coordinates along the face, t):
    /// the program and this block's positions along each of the two.
    Expr(Program, [Vec<f64>; 2]),
}

/// This rank's changing faces: none on most runs (value and periodic
/// walls only), so a step then costs one test of an empty list.
pub struct WallFill3 {
    faces: Vec<(usize, Refill)>,
    dt: f64,
}

impl WallFill3 {
    /// The insulated and expression faces among the global walls `block`
    /// touches (expressions were checked by the plan: they compile).
    pub fn new(cfg: &Config3d, block: &Block3) -> Self {
        let n = [cfg.nx, cfg.ny, cfg.nz];
        let d = [cfg.dx, cfg.dy, cfg.dz];
        let ranges = [&block.cols, &block.rows, &block.planes];
        let mut faces = Vec::new();
        for (face, wall) in cfg.walls.faces().into_iter().enumerate() {
            let a = face / 2;
            let touches = if face % 2 == 1 {
                ranges[a].end == n[a]
            } else {
                ranges[a].start == 0
            };
            let refill = match wall {
                _ if !touches => continue,
                Wall::Insulated => Refill::Insulated,
                Wall::Expr(e) => {
                    let positions = along(a)
                        .map(|b| (ranges[b].clone()).map(|g| (g + 1) as f64 * d[b]).collect());
                    Refill::Expr(compile(face, e).expect("checked by the plan"), positions)
                }
                Wall::Value(_) | Wall::Periodic => continue,
            };
            faces.push((face, refill));
        }
        Self { faces, dt: cfg.dt }
    }

    pub fn is_empty(&self) -> bool {
        self.faces.is_empty()
    }

    /// Set the changing faces' ghosts of `u` for the step from `step`:
    /// insulated ghosts to the cells next to them, expression ghosts to
    /// their value at t = step * dt (a product, never a running sum).
    pub fn refresh(&self, u: &mut Field3, step: u64) {
        let t = step as f64 * self.dt;
        let n = u.extents();
        let (row, plane) = u.strides();
        let index = |s: [usize; 3]| s[2] * plane + s[1] * row + s[0];
        let d = u.as_mut_slice();
        for (face, refill) in &self.faces {
            let (a, high) = (face / 2, face % 2 == 1);
            let [b, c] = along(a);
            let (ghost, inner) = if high { (n[a] + 1, n[a]) } else { (0, 1) };
            for q in 0..n[c] {
                for p in 0..n[b] {
                    let mut s = [0; 3];
                    (s[a], s[b], s[c]) = (inner, p + 1, q + 1);
                    let v = match refill {
                        Refill::Insulated => d[index(s)],
                        Refill::Expr(f, [pb, pc]) => f.eval_at(&[pb[p], pc[q], t]),
                    };
                    s[a] = ghost;
                    d[index(s)] = v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::plan3d::Request3d;

    fn config(walls: [Option<Wall>; 6], periodic: [bool; 3]) -> Result<Config3d, String> {
        Config3d::new(&Request3d {
            n: [Some(4), Some(3), Some(5)],
            steps: Some(2),
            walls,
            periodic,
            ..Request3d::default()
        })
    }

    fn expr(e: &str) -> Option<Wall> {
        Some(Wall::Expr(e.into()))
    }

    #[test]
    fn walls_are_checked_in_the_faces_coordinates_and_in_pairs() {
        let refused = |walls, periodic, want: &str| {
            let e = config(walls, periodic).unwrap_err();
            assert!(e.starts_with(want), "{e} (want {want})");
        };
        let none = || [None, None, None, None, None, None];
        let mut w = none();
        w[4] = expr("z + t");
        refused(
            w,
            [false; 3],
            "--bc-front 'z + t': unknown name 'z' (this expression may use x, y, t)",
        );
        let mut w = none();
        w[0] = expr("x");
        refused(w, [false; 3], "--bc-left 'x': unknown name 'x'");
        let mut w = none();
        w[5] = Some(Wall::Value(3.0));
        refused(
            w,
            [false, false, true],
            "--bc-z periodic joins the front and back walls: leave out --bc-back",
        );
        let mut w = none();
        w[4] = Some(Wall::Periodic);
        refused(
            w,
            [false; 3],
            "--bc-front periodic: a wall is periodic only",
        );
        let mut w = none();
        w[2] = expr("x*z + t");
        w[5] = Some(Wall::Insulated);
        let c = config(w, [true, false, false]).unwrap();
        assert_eq!(c.walls.periodic(), [true, false, false]);
        assert_eq!(c.walls.value_range(), None);
        assert!(!c.walls.conserve_heat());
        let shown = c.walls.shown(|v| v.to_string());
        assert_eq!(
            shown,
            ["periodic", "periodic", "'x*z + t'", "85", "35", "insulated"].map(String::from)
        );
        let w = [0, 1, 2, 3, 4, 5].map(|_| Some(Wall::Insulated));
        assert!(config(w, [false; 3]).unwrap().walls.conserve_heat());
    }

    #[test]
    fn refresh_fills_each_face_from_its_cells_or_its_expression() {
        let mut w = [None, None, None, None, None, None];
        w[1] = Some(Wall::Insulated);
        w[4] = expr("x + 10*y + 100*t");
        w[2] = expr("x + 1000*z");
        let c = config(w, [false; 3]).unwrap();
        // The block at the high x end, the low z end, the middle in y...
        let block = Block3 {
            cols: 2..4,
            rows: 1..2,
            planes: 0..3,
        };
        let mut u = Field3::zeros(2, 1, 3);
        let cells = u.strides().1 * 5;
        (0..cells).for_each(|k| u.as_mut_slice()[k] = k as f64);
        let fill = WallFill3::new(&c, &block);
        assert_eq!(fill.faces.len(), 2, "right and front, not bottom");
        fill.refresh(&mut u, 3);
        let at = |i, j, k| u.as_slice()[u.at(i, j, k)];
        for k in 1..=3 {
            assert_eq!(
                at(3, 1, k),
                at(2, 1, k),
                "right ghost = the cell next to it"
            );
        }
        let t = 3.0 * c.dt;
        for i in 1..=2 {
            let (x, y) = ((2 + i) as f64 * c.dx, 2.0 * c.dy);
            assert_eq!(at(i, 1, 0), x + 10.0 * y + 100.0 * t, "front, column {i}");
        }
        // ...then one on the bottom wall: its ghosts are x + 1000 z.
        let block = Block3 {
            rows: 0..1,
            ..block
        };
        WallFill3::new(&c, &block).refresh(&mut u, 0);
        let at = |i, j, k| u.as_slice()[u.at(i, j, k)];
        assert_eq!(at(1, 0, 2), 3.0 * c.dx + 1000.0 * (2.0 * c.dz));
        assert_eq!(at(0, 0, 0), 0.0, "edges are left alone");
    }
}
