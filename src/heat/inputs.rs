//! What `parsim heat` reads of its input files before the plan (the
//! inputs step, `crate::spec::Spec::inputs`): a restart's checkpoint
//! metadata. Rank 0 reads it; every rank gets it as JSON and plans with it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::meta::CheckpointMeta;
use crate::error::Outcome;

/// The input files' metadata a heat plan needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeatInputs {
    /// `--restart`: what its checkpoint says of its run.
    pub restart: Option<CheckpointMeta>,
}

impl HeatInputs {
    /// Rank 0: read the metadata of the files the options name.
    pub fn read(restart: Option<&Path>) -> Outcome<Self> {
        Ok(Self {
            restart: restart.map(super::checkpoint::read_meta).transpose()?,
        })
    }
}
