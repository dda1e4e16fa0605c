//! The chain a run walks, as the plan resolves it from `--matrix` and
//! `--initial-state`: the matrix (the built-in one without `--matrix`),
//! its law (graph shape, stationary distribution solved) and how each
//! chain's first day is chosen. Pure: no MPI.
//!
//! The matrix (`--matrix` rows or a file) is read by rank 0 in the inputs
//! step (`Spec::inputs`) and broadcast; the plan takes it as read.

use super::chain::{self, Matrix, Shape, Source};
use super::kernel::{First, MARKOV_P, MARKOV_STATES};
use super::stationary::stationary;
use super::validate::Law;

/// The chain of a run.
#[derive(Debug, Clone)]
pub struct ChainPlan {
    pub matrix: Matrix,
    pub law: Law,
    pub first: First,
    /// `--initial-state` as given (0-based).
    pub initial: Option<usize>,
}

impl ChainPlan {
    /// From the matrix `--matrix` gave (None: the built-in chain) and
    /// `--initial-state` (None: the first day drawn from the stationary
    /// distribution).
    pub fn new(matrix: Option<Matrix>, initial: Option<usize>) -> Result<ChainPlan, String> {
        let matrix = matrix.unwrap_or_else(builtin);
        let n = matrix.n;
        let law = Law {
            shape: chain::shape(&matrix),
            stationary: stationary(&matrix.p, n),
        };
        let first = match (initial, &law.stationary) {
            (Some(k), _) if k >= n => {
                return Err(format!(
                    "--initial-state {k}: the chain has {n} states, numbered 0 to {}",
                    n - 1
                ))
            }
            (Some(k), _) => First::State(k),
            (None, Some((pi, _))) if !matches!(law.shape, Shape::Reducible { .. }) => {
                First::Drawn(pi.clone())
            }
            (None, _) => {
                return Err(format!(
                    "{}: {}; give --initial-state K (0 to {}) to start every chain there \
                     (the run is then not validated)",
                    matrix.source.shown(),
                    law.shape
                        .not_validated()
                        .unwrap_or_else(|| "no unique stationary distribution".into()),
                    n - 1
                ))
            }
        };
        Ok(ChainPlan {
            matrix,
            law,
            first,
            initial,
        })
    }

    /// Whether this is today's chain as it always ran (built-in matrix,
    /// first day from pi): its report and file keep exactly their fields.
    pub fn is_default(&self) -> bool {
        self.matrix.source == Source::Builtin && self.initial.is_none()
    }

    /// The states' names: bull, bear, recession for the built-in chain,
    /// their 0-based numbers otherwise.
    pub fn names(&self) -> Vec<String> {
        match self.matrix.source {
            Source::Builtin => MARKOV_STATES.map(String::from).to_vec(),
            _ => (0..self.matrix.n).map(|k| k.to_string()).collect(),
        }
    }

    /// The stationary distribution (NaN where there is none).
    pub fn pi(&self) -> Vec<f64> {
        match &self.law.stationary {
            Some((pi, _)) => pi.clone(),
            None => vec![f64::NAN; self.matrix.n],
        }
    }

    /// What the dry run and the report say of the chain, in a line.
    pub fn described(&self) -> String {
        let m = &self.matrix;
        let from = match &m.source {
            Source::Builtin => "the built-in chain (bull/bear/recession)".into(),
            other => format!("{} (fnv1a64 {:016x})", other.shown(), m.checksum),
        };
        let first = match self.first {
            First::Drawn(_) => "first day drawn from pi".to_string(),
            First::State(k) => format!("first day in state {k}"),
        };
        let check = match self.law.not_validated() {
            Some(why) => format!("not validated: {why}"),
            None => format!(
                "validated against pi (solved, residual {:.1e}) by the {}",
                self.law.stationary.as_ref().map_or(f64::NAN, |s| s.1),
                Law::method(m.n)
            ),
        };
        format!("{} states from {from}; {first}; {check}", m.n)
    }
}

/// Today's 3-state chain.
pub fn builtin() -> Matrix {
    let p = MARKOV_P.concat();
    let bytes: Vec<u8> = p.iter().flat_map(|x| x.to_le_bytes()).collect();
    Matrix {
        n: 3,
        p,
        source: Source::Builtin,
        checksum: chain::fnv1a64(&bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_chain_draws_its_first_day_from_the_solved_pi() {
        let c = ChainPlan::new(None, None).unwrap();
        assert!(c.is_default());
        assert_eq!(
            c.first,
            First::Drawn(super::super::kernel::MARKOV_PI.to_vec())
        );
        assert_eq!(c.names(), ["bull", "bear", "recession"]);
        assert!(!ChainPlan::new(None, Some(1)).unwrap().is_default());
    }

    #[test]
    fn bad_initial_states_and_reducible_chains_without_one_are_refused() {
        let e = ChainPlan::new(Some(chain::read("0.5,0.5;0.5,0.5").unwrap()), Some(2)).unwrap_err();
        assert!(
            e.contains("--initial-state 2: the chain has 2 states"),
            "{e}"
        );
        let e = ChainPlan::new(Some(chain::read("1,0;0.5,0.5").unwrap()), None).unwrap_err();
        assert!(
            e.contains("reducible") && e.contains("--initial-state"),
            "{e}"
        );
        let c = ChainPlan::new(Some(chain::read("1,0;0.5,0.5").unwrap()), Some(1)).unwrap();
        assert!(c.described().contains("not validated"), "{}", c.described());
        let c = ChainPlan::new(Some(chain::read("0,1;1,0").unwrap()), None).unwrap();
        assert!(c.described().contains("periodic"), "{}", c.described());
    }
}
