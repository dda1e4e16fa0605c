//! `parsim heat --nz`: the command line of a 3D run, turned into its
//! plan (`super::super::plan3d`), and the process grid option, which
//! takes two factors in 2D and three in 3D. What 2D heat has and 3D does
//! not yet (checkpoints, time blocking) is refused here, each with one
//! line saying so.

use super::{io_mode, HeatArgs, Io, Joined};
use crate::check::at_least;
use crate::error::{Failure, Outcome};
use crate::heat::config::Wall;
use crate::heat::decomp::ProcGrid;
use crate::heat::decomp3d::ProcGrid3;
use crate::heat::inputs::HeatInputs;
use crate::heat::layout::Extras;
use crate::heat::plan3d::{Request3d, Start3d};
use crate::heat::refine::refined3;
use crate::spec::{Setting, Spec};

/// The options of a 3D run only.
#[derive(Debug, clap::Args)]
pub struct ZArgs {
    /// Interior points along z: solve in 3D (7-point stencil, 3D process
    /// grid) [default for --nx and --ny then: 200].
    #[arg(long)]
    pub(super) nz: Option<usize>,
    /// Grid spacing along z, in m (3D, with --nz) [default: 0.01].
    #[arg(long)]
    pub(super) dz: Option<f64>,
    /// Front wall (z = 0; 3D, with --nz): a temperature in °C, insulated,
    /// or an expression in x, y and t [default: 35 for disk, 0 otherwise].
    /// In 3D the left and right walls' expressions are in y, z and t, the
    /// bottom and top walls' in x, z and t.
    #[arg(long, value_name = "VALUE|insulated|EXPR", allow_hyphen_values = true)]
    pub(super) bc_front: Option<Wall>,
    /// Back wall (z = (nz+1) dz; 3D, with --nz): a temperature in °C,
    /// insulated, or an expression in x, y and t [default: 50 for disk, 0
    /// otherwise].
    #[arg(long, value_name = "VALUE|insulated|EXPR", allow_hyphen_values = true)]
    pub(super) bc_back: Option<Wall>,
    /// periodic: join the front and back walls (3D, with --nz; period
    /// nz*dz).
    #[arg(long, value_enum, value_name = "periodic")]
    pub(super) bc_z: Option<Joined>,
}

/// `--proc-grid`: `PXxPY` or `PXxPYxPZ`, checked against the run's
/// dimensions by the plan.
#[derive(Debug, Clone, Copy)]
pub enum GridArg {
    Two(ProcGrid),
    Three(ProcGrid3),
}

impl std::str::FromStr for GridArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.matches(['x', 'X']).count() == 2 {
            s.parse().map(Self::Three).map_err(|e| format!("{e}"))
        } else {
            s.parse().map(Self::Two).map_err(|e| format!("{e}"))
        }
    }
}

impl HeatArgs {
    /// The 2D run's process grid, and a refusal of 3D's options.
    pub(super) fn grid_2d(&self) -> Outcome<Option<ProcGrid>> {
        for (given, name) in [
            (self.z.dz.is_some(), "--dz"),
            (self.z.bc_front.is_some(), "--bc-front"),
            (self.z.bc_back.is_some(), "--bc-back"),
            (self.z.bc_z.is_some(), "--bc-z"),
        ] {
            if given {
                return Err(Failure::usage(format!(
                    "{name} is for a 3D run: give --nz too (without it heat is 2D)"
                )));
            }
        }
        match self.proc_grid {
            None => Ok(None),
            Some(GridArg::Two(g)) => Ok(Some(g)),
            Some(GridArg::Three(g)) => Err(Failure::usage(format!(
                "--proc-grid {g} has three factors but the run is 2D: give PXxPY, or --nz for a \
                 3D run"
            ))),
        }
    }

    /// The 3D run's plan on `s.ranks` ranks: continuing the restart's
    /// checkpoint, or from the initial field's file, as `inputs` read
    /// them; with `--refine K`, each grid's plan too.
    pub(super) fn into_start3d(self, s: &Setting, mut inputs: HeatInputs) -> Outcome<Start3d> {
        super::check_refine(self.refine, self.exact.is_some(), &self.ckpt)?;
        at_least("check-every", self.check_every, 1)?;
        at_least("threads", self.threads as u64, 1)?;
        if let Some(k) = self.time_block.0 {
            at_least("time-block", k as u64, 1)?;
        }
        self.check_io()?;
        let grid = match self.proc_grid {
            None => None,
            Some(GridArg::Three(g)) => Some(g),
            Some(GridArg::Two(g)) => {
                return Err(Failure::usage(format!(
                    "--proc-grid {g} has two factors but the run is 3D (--nz): give PXxPYxPZ"
                )))
            }
        };
        let mut req = Request3d {
            n: [self.nx, self.ny, self.z.nz],
            d: [self.dx, self.dy, self.z.dz],
            alpha: self.alpha,
            dt: self.dt,
            steps: self.steps,
            init: self.init.map(|i| *i),
            walls: [
                self.bc_left,
                self.bc_right,
                self.bc_bottom,
                self.bc_top,
                self.z.bc_front,
                self.z.bc_back,
            ],
            periodic: [self.bc_x, self.bc_y, self.z.bc_z].map(|j| j == Some(Joined::Periodic)),
            allow_unstable: self.allow_unstable,
            source: self.source,
            exact: self.exact,
        };
        let resume = inputs.restart.take();
        if let Some(m) = &resume {
            req = req.resumed(m)?;
        }
        inputs.complete3(&mut req.n)?;
        let out = self.out.into_output(super::Heat::INFO.default_output);
        let checkpointing = self.ckpt.into_checkpointing(&out, super::Heat::INFO.name)?;
        // As in 2D: a restart keeps the checkpoint's snapshot interval
        // unless given one; no snapshots without a result file.
        let every = match self.snapshot_every {
            0 => resume.as_ref().map_or(0, |m| m.snapshot_every),
            k => k,
        };
        let extras = Extras {
            compress: self.compress,
            snapshot_every: if out.path.is_some() { every } else { 0 },
            xdmf: out.path.as_ref().map(|o| o.with_extension("xmf")),
        };
        let (tuning, io, refine) = ((self.threads, self.check_every), self.io, self.refine);
        let block = self.time_block.0;
        let plan = |req: &Request3d, out, extras| -> Outcome<Start3d> {
            let ckpt = checkpointing.clone();
            let start = Start3d::new(req, grid, s.ranks, tuning, (out, ckpt))?;
            let mut start = start.with_time_block(block, s.cache)?;
            start.io = io_mode(io);
            start.overlap = self.overlap;
            start.extras = extras;
            start.init_field = inputs.init.clone();
            Ok(start)
        };
        let mut start = plan(&req, out.clone(), extras.clone())?;
        let k = refine.unwrap_or(0);
        for i in 0..k {
            let (req, out, extras) = refined3(&req, (&out, &extras), i, k);
            start.grids.push(plan(&req, out, extras)?);
        }
        start.resume = resume;
        Ok(start)
    }

    /// `--compress` and `--io` (2D and 3D): a deflate level, and parallel
    /// HDF5 only in a build that has it.
    pub(super) fn check_io(&self) -> Outcome {
        if self.compress.is_some_and(|l| !(1..=9).contains(&l)) {
            return Err(Failure::usage(
                "--compress takes a deflate level from 1 to 9",
            ));
        }
        if self.io == Io::Parallel && !cfg!(feature = "parallel-io") {
            return Err(Failure::usage(
                "--io parallel needs parsim built with parallel HDF5 (cargo feature parallel-io, \
                 see README); this build writes with --io gather",
            ));
        }
        Ok(())
    }
}
