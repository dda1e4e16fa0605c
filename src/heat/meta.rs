//! What a checkpoint (or a finished result file) says of its run, as a
//! restart reads it: the problem, the step reached, the snapshots taken,
//! and the checksums that prove the attributes and the field were not
//! changed. No MPI: `super::checkpoint` reads it on rank 0.

use mpi::collective::SystemOperation;
use mpi::traits::*;
use serde::{Deserialize, Serialize};

use super::config::{HeatRequest, Wall};
use super::decomp::Block;
use super::kernel::Field;
use super::layout::SnapshotAt;
use crate::error::{Failure, Outcome};
use crate::rng::mix64;

/// How far a file's run got, stored beside the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Time steps done when the field was written.
    pub step: u64,
    /// Steps the run was asked for.
    pub target_steps: u64,
    pub checksum: u64,
}

/// What a checkpoint says about its run (rank 0 reads it, every rank gets it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub path: String,
    /// The checkpointed run's problem as a request with every value given
    /// (`steps` is its target): what a restart asks for unless told otherwise.
    pub problem: HeatRequest,
    pub stamp: Stamp,
    /// The snapshots the file holds (a checkpoint carries those taken
    /// before it, so a restart's result has them all) and the interval
    /// they were asked at (0: none).
    pub snapshots: Vec<SnapshotAt>,
    pub snapshot_every: u64,
    /// A 3D file's third axis (`None`: a 2D file).
    pub z: Option<Depth>,
}

/// What a 3D file holds besides a 2D one's problem: the third axis and
/// its two walls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Depth {
    pub nz: usize,
    pub dz: f64,
    pub front: Wall,
    pub back: Wall,
}

/// The third axis as a 3D run asks for it (`None`: not given): `--nz`,
/// `--dz`, `--bc-front`, `--bc-back`, `--bc-z periodic`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DepthRequest {
    pub nz: Option<usize>,
    pub dz: Option<f64>,
    pub front: Option<Wall>,
    pub back: Option<Wall>,
    pub periodic: bool,
}

impl CheckpointMeta {
    /// The snapshots a restart from this file carries into its result:
    /// those taken before the restart step (the restart takes its own
    /// there), with their index in the file.
    pub fn snapshots_before_restart(&self) -> impl Iterator<Item = (usize, SnapshotAt)> + '_ {
        (self.snapshots.iter().copied().enumerate()).filter(|(_, at)| at.step < self.stamp.step)
    }

    /// The request of the resumed run: the checkpoint's values, except that
    /// every option given explicitly must agree with them, and `--steps`
    /// (the total, counted from the start of the original run) may change.
    pub fn merge(&self, req: &HeatRequest) -> Outcome<HeatRequest> {
        if let Some(z) = &self.z {
            return Err(Failure::usage(format!(
                "restart file '{}' is a 3D checkpoint (nz = {}) but the run is 2D: give --nz {} \
                 to continue it in 3D",
                self.path, z.nz, z.nz
            )));
        }
        self.merge_plane(req)
    }

    /// A 3D run's [`Self::merge`]: the plane's request (x and y, and all
    /// but the third axis) as 2D merges it, and the third axis `z`, each
    /// given value as the checkpoint has it. A 2D file is refused.
    pub fn merge3(&self, req: &HeatRequest, z: &DepthRequest) -> Outcome<(HeatRequest, Depth)> {
        let Some(kept) = &self.z else {
            let (nx, ny) = (self.problem.nx, self.problem.ny);
            let (nx, ny) = (nx.unwrap_or(0), ny.unwrap_or(0));
            return Err(Failure::usage(format!(
                "restart file '{}' is a 2D checkpoint ([ny, nx] = [{ny}, {nx}]) but the run is 3D \
                 (--nz): leave out --nz to continue it in 2D",
                self.path
            )));
        };
        if let Some(nz) = z.nz.filter(|&n| n != kept.nz) {
            return Err(self.contradiction("nz", nz.to_string(), kept.nz.to_string()));
        }
        if let Some(dz) = z.dz.filter(|&d| d != kept.dz) {
            return Err(self.contradiction("dz", dz.to_string(), kept.dz.to_string()));
        }
        for (name, given, kept) in [
            ("bc-front", &z.front, &kept.front),
            ("bc-back", &z.back, &kept.back),
        ] {
            if let Some(given) = given.as_ref().filter(|&g| g != kept) {
                return Err(self.contradiction(name, given.to_string(), kept.to_string()));
            }
        }
        if z.periodic && kept.front != Wall::Periodic {
            return Err(self.contradiction("bc-z", "periodic".into(), "not periodic".into()));
        }
        Ok((self.merge_plane(req)?, kept.clone()))
    }

    /// [`Self::merge`] of the plane's values, whatever the file's
    /// dimensions.
    fn merge_plane(&self, req: &HeatRequest) -> Outcome<HeatRequest> {
        let stored = &self.problem;
        macro_rules! same {
            ($field:ident, $name:literal, $show:expr) => {
                if let (Some(given), Some(kept)) = (req.$field, stored.$field) {
                    if given != kept {
                        return Err(self.contradiction($name, $show(given), $show(kept)));
                    }
                }
            };
        }
        let num = |v: f64| v.to_string();
        same!(nx, "nx", |v: usize| v.to_string());
        same!(ny, "ny", |v: usize| v.to_string());
        same!(dx, "dx", num);
        same!(dy, "dy", num);
        same!(alpha, "alpha", num);
        same!(dt, "dt", num);
        self.walls_agree(req)?;
        self.problem_agrees(req)?;
        let steps = req.steps.unwrap_or(self.stamp.target_steps);
        if steps < self.stamp.step {
            return Err(Failure::usage(format!(
                "--steps {steps} is before the checkpoint's step {} ('{}'); --steps counts from the start of the run",
                self.stamp.step, self.path
            )));
        }
        Ok(HeatRequest {
            steps: Some(steps),
            allow_unstable: req.allow_unstable,
            ..stored.clone()
        })
    }

    /// `--NAME GIVEN` against the checkpoint's STORED: the refusal.
    fn contradiction(&self, name: &str, given: String, stored: String) -> Failure {
        Failure::usage(format!(
            "--{name} {given} contradicts the checkpoint '{}' ({name} = {stored}); \
             leave it out to continue the run as it was",
            self.path
        ))
    }

    /// Each wall given (and periodic axis) as the checkpoint has it.
    fn walls_agree(&self, req: &HeatRequest) -> Outcome {
        let stored = &self.problem;
        for (name, given, kept) in [
            ("bc-left", &req.left, &stored.left),
            ("bc-right", &req.right, &stored.right),
            ("bc-bottom", &req.bottom, &stored.bottom),
            ("bc-top", &req.top, &stored.top),
        ] {
            if let (Some(given), Some(kept)) = (given, kept) {
                if given != kept {
                    return Err(self.contradiction(name, given.to_string(), kept.to_string()));
                }
            }
        }
        for (name, given, kept) in [
            ("bc-x", req.periodic_x, stored.left == Some(Wall::Periodic)),
            (
                "bc-y",
                req.periodic_y,
                stored.bottom == Some(Wall::Periodic),
            ),
        ] {
            if given && !kept {
                return Err(self.contradiction(name, "periodic".into(), "not periodic".into()));
            }
        }
        Ok(())
    }

    /// The init, the source and the exact solution, where given, as the
    /// checkpoint has them.
    fn problem_agrees(&self, req: &HeatRequest) -> Outcome {
        let stored = &self.problem;
        if let (Some(given), Some(kept)) = (&req.init, &stored.init) {
            if given != kept {
                return Err(self.contradiction("init", given.name().into(), kept.name().into()));
            }
        }
        for (name, given, kept) in [
            ("source", &req.source, &stored.source),
            ("exact", &req.exact, &stored.exact),
        ] {
            if let Some(given) = given {
                if kept.as_ref() != Some(given) {
                    let shown = super::source::shown;
                    let kept = kept.as_deref().map_or("none".into(), shown);
                    return Err(self.contradiction(name, shown(given), kept));
                }
            }
        }
        Ok(())
    }
}

/// This rank's share of the field checksum.
pub fn checksum_partial(u: &Field, block: &Block, nx_global: usize) -> u64 {
    let mut sum = 0u64;
    for j in 0..block.ny() {
        let row = (block.rows.start + j) * nx_global + block.cols.start;
        for i in 0..block.nx() {
            sum = sum.wrapping_add(cell_sum(u.get(i, j), row + i));
        }
    }
    sum
}

/// Collective: the checksum of the whole field.
pub fn checksum<C: Communicator>(comm: &C, u: &Field, block: &Block, nx_global: usize) -> u64 {
    let local = checksum_partial(u, block, nx_global);
    let mut total = 0u64;
    // Unsigned addition wraps in MPI's C implementation as it does here.
    comm.all_reduce_into(&local, &mut total, SystemOperation::sum());
    total
}

/// The checksum of rows `rows` (global indices, whole rows of `nx`) of a
/// field: the [`checksum_partial`] of those cells, so that a snapshot's
/// strips add up to [`checksum`] of the field it was taken from.
pub fn strip_sum(data: &[f64], rows: std::ops::Range<usize>, nx: usize) -> u64 {
    let first = rows.start * nx;
    data.iter().enumerate().fold(0u64, |sum, (k, &v)| {
        sum.wrapping_add(cell_sum(v, first + k))
    })
}

/// One cell's part of a field's checksum: its value mixed with its global
/// index (row * nx + column), so that the parts add up in any order, on
/// any decomposition, strip or block.
pub(super) fn cell_sum(v: f64, index: usize) -> u64 {
    mix64(v.to_bits() ^ mix64(index as u64))
}

/// The checksum of a file's snapshots: their interval, and for each its
/// index, step, time and field checksum. Stored as `snapshots_checksum`
/// on /heat and covered by [`meta_checksum`]: a restart refuses a file
/// whose snapshots were changed, so it never carries them into its result.
pub fn snapshots_checksum(every: u64, snapshots: &[SnapshotAt]) -> u64 {
    snapshots
        .iter()
        .enumerate()
        .fold(mix64(every ^ 0x5eed), |h, (k, at)| {
            let words = [k as u64, at.step, at.time.to_bits(), at.sum];
            words.iter().fold(h, |h, w| mix64(h ^ mix64(*w)))
        })
}

/// A checksum of the attributes a restart takes from a file (the problem,
/// how far it got, the field's checksum), as stored: a flipped bit in `dt`
/// would otherwise continue a different run from a correct field.
pub fn meta_checksum(g: &hdf5::Group) -> hdf5::Result<u64> {
    const NUMS: [&str; 8] = [
        "dx",
        "dy",
        "alpha",
        "dt",
        "bc_left",
        "bc_right",
        "bc_bottom",
        "bc_top",
    ];
    const INTS: [&str; 5] = ["nx", "ny", "step", "target_steps", "checksum"];
    let mut words = Vec::new();
    for name in NUMS {
        words.push(g.attr(name)?.read_scalar::<f64>()?.to_bits());
    }
    for name in INTS {
        words.push(g.attr(name)?.read_scalar::<u64>()?);
    }
    let init = g
        .attr("init")?
        .read_scalar::<hdf5::types::VarLenUnicode>()?;
    words.extend(init.as_bytes().iter().map(|&b| u64::from(b)));
    // Walls of other kinds than values: their kind and expression.
    for side in ["left", "right", "bottom", "top"] {
        for what in ["kind", "expression"] {
            if let Ok(a) = g.attr(&format!("bc_{side}_{what}")) {
                let text = a.read_scalar::<hdf5::types::VarLenUnicode>()?;
                words.extend(text.as_bytes().iter().map(|&b| u64::from(b) | 1 << 32));
            }
        }
    }
    // 3D files: the third axis and its walls (2D files keep their sum).
    for name in ["dz", "bc_front", "bc_back"] {
        if let Ok(a) = g.attr(name) {
            words.push(a.read_scalar::<f64>()?.to_bits());
        }
    }
    if let Ok(a) = g.attr("nz") {
        words.push(a.read_scalar::<u64>()?);
    }
    // Files with snapshots: their checksum too (so that removing it is seen).
    if let Ok(a) = g.attr("snapshots_checksum") {
        words.push(a.read_scalar::<u64>()?);
    }
    // Files with a source or an exact solution: its text (files without
    // one keep their sum).
    for name in ["source", "exact"] {
        if let Ok(a) = g.attr(name) {
            let text = a.read_scalar::<hdf5::types::VarLenUnicode>()?;
            words.extend(text.as_bytes().iter().map(|&b| u64::from(b)));
        }
    }
    Ok(words
        .iter()
        .enumerate()
        .fold(0u64, |h, (i, w)| mix64(h ^ mix64(*w ^ i as u64))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heat::config::Init;

    fn meta() -> CheckpointMeta {
        CheckpointMeta {
            path: "c.h5".into(),
            problem: HeatRequest {
                nx: Some(30),
                ny: Some(20),
                dx: Some(0.01),
                dy: Some(0.01),
                alpha: Some(0.5),
                dt: Some(5e-5),
                steps: Some(100),
                init: Some(Init::Disk),
                left: Some(Wall::Value(20.0)),
                right: Some(Wall::Value(70.0)),
                bottom: Some(Wall::Value(5.0)),
                top: Some(Wall::Value(85.0)),
                periodic_x: false,
                periodic_y: false,
                allow_unstable: false,
                source: None,
                exact: None,
            },
            stamp: Stamp {
                step: 40,
                target_steps: 100,
                checksum: 7,
            },
            snapshots: Vec::new(),
            snapshot_every: 0,
            z: None,
        }
    }

    #[test]
    fn merge_takes_checkpoint_values_and_refuses_contradictions() {
        let m = meta();
        let r = m.merge(&HeatRequest::default()).unwrap();
        assert_eq!(
            (r.nx, r.ny, r.steps, r.dt),
            (Some(30), Some(20), Some(100), Some(5e-5))
        );
        let same = HeatRequest {
            nx: Some(30),
            steps: Some(500),
            ..HeatRequest::default()
        };
        assert_eq!(m.merge(&same).unwrap().steps, Some(500));
        type Change = fn(&mut HeatRequest);
        let cases: [(Change, &str); 7] = [
            (|r| r.nx = Some(31), "--nx 31"),
            (|r| r.dx = Some(0.02), "--dx 0.02"),
            (|r| r.alpha = Some(1.0), "--alpha 1"),
            (|r| r.dt = Some(1e-5), "--dt 0.00001"),
            (|r| r.init = Some(Init::Sine), "--init sine"),
            (|r| r.top = Some(Wall::Value(1.0)), "--bc-top 1"),
            (|r| r.steps = Some(39), "--steps 39"),
        ];
        for (change, field) in cases {
            let mut req = HeatRequest::default();
            change(&mut req);
            let err = m.merge(&req).unwrap_err();
            assert!(err.message.contains(field), "{field}: {}", err.message);
        }
    }

    #[test]
    fn merge3_takes_the_third_axis_and_refuses_other_dimensions() {
        let flat = meta();
        let err = flat.merge3(&HeatRequest::default(), &DepthRequest::default());
        assert!(err
            .unwrap_err()
            .message
            .contains("is a 2D checkpoint ([ny, nx] = [20, 30])"));
        let mut m = meta();
        m.z = Some(Depth {
            nz: 9,
            dz: 0.02,
            front: Wall::Value(35.0),
            back: Wall::Insulated,
        });
        let err = m.merge(&HeatRequest::default()).unwrap_err();
        assert!(err
            .message
            .contains("is a 3D checkpoint (nz = 9) but the run is 2D: give --nz 9"));
        let (plane, z) = m
            .merge3(&HeatRequest::default(), &DepthRequest::default())
            .unwrap();
        assert_eq!(
            (plane.nx, z.nz, z.dz, z.back),
            (Some(30), 9, 0.02, Wall::Insulated)
        );
        let same = DepthRequest {
            nz: Some(9),
            back: Some(Wall::Insulated),
            ..DepthRequest::default()
        };
        assert!(m.merge3(&HeatRequest::default(), &same).is_ok());
        type Change = fn(&mut DepthRequest);
        let cases: [(Change, &str); 5] = [
            (
                |z| z.nz = Some(8),
                "--nz 8 contradicts the checkpoint 'c.h5' (nz = 9)",
            ),
            (|z| z.dz = Some(0.01), "--dz 0.01 contradicts"),
            (
                |z| z.front = Some(Wall::Value(1.0)),
                "--bc-front 1 contradicts",
            ),
            (
                |z| z.back = Some(Wall::Value(1.0)),
                "--bc-back 1 contradicts",
            ),
            (|z| z.periodic = true, "--bc-z periodic contradicts"),
        ];
        for (change, said) in cases {
            let mut z = DepthRequest::default();
            change(&mut z);
            let err = m.merge3(&HeatRequest::default(), &z).unwrap_err();
            assert!(err.message.contains(said), "{said}: {}", err.message);
        }
        // The plane's values are checked as in 2D.
        let req = HeatRequest {
            nx: Some(31),
            ..HeatRequest::default()
        };
        let err = m.merge3(&req, &DepthRequest::default()).unwrap_err();
        assert!(
            err.message.contains("--nx 31 contradicts"),
            "{}",
            err.message
        );
    }

    #[test]
    fn checksum_sees_values_and_positions() {
        let block = Block {
            cols: 0..3,
            rows: 0..2,
        };
        let mut u = Field::zeros(3, 2);
        for j in 0..2 {
            for i in 0..3 {
                u.set(i, j, (i + 10 * j) as f64);
            }
        }
        let base = checksum_partial(&u, &block, 3);
        let mut v = u.clone();
        v.set(1, 1, 11.000000000000002);
        assert_ne!(checksum_partial(&v, &block, 3), base, "one ulp");
        let mut w = u.clone();
        w.set(0, 0, 1.0);
        w.set(1, 0, 0.0);
        assert_ne!(checksum_partial(&w, &block, 3), base, "swapped cells");
        // Split in two blocks: partial sums add up to the whole.
        let (left, right) = (
            Block {
                cols: 0..1,
                rows: 0..2,
            },
            Block {
                cols: 1..3,
                rows: 0..2,
            },
        );
        let mut a = Field::zeros(1, 2);
        let mut b = Field::zeros(2, 2);
        for j in 0..2 {
            a.set(0, j, u.get(0, j));
            b.set(0, j, u.get(1, j));
            b.set(1, j, u.get(2, j));
        }
        assert_eq!(
            checksum_partial(&a, &left, 3).wrapping_add(checksum_partial(&b, &right, 3)),
            base
        );
    }
}
