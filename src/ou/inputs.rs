//! What `parsim ou` reads of its input files before the plan (the inputs
//! step, `crate::spec::Spec::inputs`): the `--params` table and a
//! restart's checkpoint metadata. Rank 0 reads them; every rank gets them
//! as JSON and completes its plan with them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::checkpoint::OuCheckpointMeta;
use super::model::OuParams;
use crate::error::Outcome;

/// The input files' contents an ou plan needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OuInputs {
    /// `--params`: the table's parameter sets.
    pub params: Option<Vec<OuParams>>,
    /// `--restart`: what its checkpoint says of its ensemble.
    pub restart: Option<OuCheckpointMeta>,
}

impl OuInputs {
    /// Rank 0: read the files the options name.
    pub fn read(params: Option<&Path>, restart: Option<&Path>) -> Outcome<Self> {
        Ok(Self {
            params: params.map(super::file::read_params).transpose()?,
            restart: restart.map(super::checkpoint::read_meta).transpose()?,
        })
    }
}
