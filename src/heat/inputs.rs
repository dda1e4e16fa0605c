//! What `parsim heat` reads of its input files before the plan (the
//! inputs step, `crate::spec::Spec::inputs`): a restart's checkpoint
//! metadata, or an initial field's shape and type (`--init FILE`). Rank 0
//! reads them; every rank gets them as JSON and plans with them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::{HeatRequest, Init};
use super::field_file::FieldMeta;
use super::meta::CheckpointMeta;
use crate::error::{Failure, Outcome};

/// The input files' metadata a heat plan needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeatInputs {
    /// `--restart`: what its checkpoint says of its run.
    pub restart: Option<CheckpointMeta>,
    /// `--init FILE` (without a restart, whose field replaces it): the
    /// field's shape and type.
    pub init: Option<FieldMeta>,
}

impl HeatInputs {
    /// Rank 0: read the metadata of the files the options name.
    pub fn read(restart: Option<&Path>, init: Option<&Init>) -> Outcome<Self> {
        let file = init.and_then(Init::file).filter(|_| restart.is_none());
        Ok(Self {
            restart: restart.map(super::checkpoint::read_meta).transpose()?,
            init: file.map(FieldMeta::read).transpose()?,
        })
    }

    /// The request completed by the inputs: an initial field's grid,
    /// unless --nx/--ny were given, when they must be the field's; an
    /// expression's parse, in x and y.
    pub fn complete(&self, req: &mut HeatRequest) -> Outcome {
        if let Some(Init::Expr(e)) = &req.init {
            super::init_expr::compile(e)?;
        }
        let Some(m) = &self.init else {
            return Ok(());
        };
        let [ny, nx] = m.dimensions(2)?[..] else {
            unreachable!("dimensions(2) is [ny, nx]")
        };
        if req.nx.is_some_and(|n| n != nx) || req.ny.is_some_and(|n| n != ny) {
            let asked = |n: Option<usize>, d| n.map_or(d, |n: usize| n.to_string());
            return Err(Failure::usage(format!(
                "--init '{}' is a field of shape [{ny}, {nx}] ([ny, nx]), but --nx/--ny ask \
                 for [{}, {}]; leave them out to take the file's grid",
                m.shown,
                asked(req.ny, ny.to_string()),
                asked(req.nx, nx.to_string())
            )));
        }
        req.nx = Some(nx);
        req.ny = Some(ny);
        Ok(())
    }

    /// [`Self::complete`] in 3D: a field `[nz, ny, nx]` gives the grid
    /// (`--nz` is always given: it makes the run 3D, so it must be the
    /// file's), and `--nx`/`--ny`, if given, must be the file's too.
    pub fn complete3(&self, n: &mut [Option<usize>; 3]) -> Outcome {
        let Some(m) = &self.init else {
            return Ok(());
        };
        let [nz, ny, nx] = m.dimensions(3)?[..] else {
            unreachable!("dimensions(3) is [nz, ny, nx]")
        };
        let file = [nx, ny, nz];
        if (0..3).any(|a| n[a].is_some_and(|g| g != file[a])) {
            let asked = |a: usize| n[a].unwrap_or(file[a]);
            return Err(Failure::usage(format!(
                "--init '{}' is a field of shape [{nz}, {ny}, {nx}] ([nz, ny, nx]), but \
                 --nx/--ny/--nz ask for [{}, {}, {}]; give --nz {nz} and leave --nx/--ny out \
                 to take the file's grid",
                m.shown,
                asked(2),
                asked(1),
                asked(0)
            )));
        }
        *n = file.map(Some);
        Ok(())
    }
}
