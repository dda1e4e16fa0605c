//! `--refine K` with `--exact`: the same problem on K grids, each halving
//! dx and dy (nx' = 2 (nx + 1) - 1, so the walls stay where they were),
//! with dt scaled by 1/4 (in proportion to dx^2) and 4 times the steps
//! (the same final time), and the observed order of accuracy between
//! consecutive grids, log2(e_k / e_{k+1}), which the 5-point stencil makes
//! 2. Every grid is an ordinary run with its own report; only the finest
//! writes the result file.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use mpi::traits::Communicator;
use serde::Serialize;

use super::config::{HeatRequest, DEFAULT_D, DEFAULT_N};
use super::plan::{HeatJob, HeatStart};
use crate::error::{ExitCode, Failure, Outcome};
use crate::h5::RunMeta;
use crate::stop::StopSignal;

/// How far an observed order may be from 2 and still be called 2.
pub const ORDER_SLACK: f64 = 0.1;

/// The errors each grid's run reports, in grid order (rank 0 reads them
/// after the runs): max |error| and L2 error.
pub type Errors = Rc<RefCell<Vec<[f64; 2]>>>;

/// The job of grid `k` (0: the one asked for): the request refined `k`
/// times, its output only for the finest of `grids`.
pub fn refined(job: &HeatJob, k: u32, grids: u32) -> HeatJob {
    let r = &job.request;
    let (two, four) = (1usize << k, 1u64 << (2 * k));
    let scale = two as f64;
    let request = HeatRequest {
        nx: Some(two * (r.nx.unwrap_or(DEFAULT_N) + 1) - 1),
        ny: Some(two * (r.ny.unwrap_or(DEFAULT_N) + 1) - 1),
        dx: Some(r.dx.unwrap_or(DEFAULT_D) / scale),
        dy: Some(r.dy.unwrap_or(DEFAULT_D) / scale),
        // The default (the stability limit) scales by 1/4 by itself.
        dt: r.dt.map(|dt| dt / (four as f64)),
        steps: r.steps.map(|s| s.saturating_mul(four)),
        ..r.clone()
    };
    let mut out = job.out.clone();
    if k + 1 < grids {
        out.path = None;
    }
    let mut extras = job.extras.clone();
    if out.path.is_none() {
        extras.xdmf = None;
    }
    HeatJob {
        request,
        out,
        extras,
        ..job.clone()
    }
}

/// Collective: run every grid of `grids` (coarsest first), each an
/// ordinary run with its report; then rank 0 prints the observed orders.
/// With `--json`, stdout carries one JSON object, as for every command:
/// `{"grids": [each grid's report], "refine": the orders}` (`refine` null
/// when a grid's run failed). Not 2: the validation's exit code.
pub fn run<C: Communicator>(
    world: &C,
    grids: &[HeatStart],
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let errors: Errors = Rc::default();
    let json = grids[0].job.out.json;
    let (done, reports) = crate::report::collect(|| {
        grids.iter().try_for_each(|grid| {
            let start = HeatStart {
                job: HeatJob {
                    errors: Some(errors.clone()),
                    ..grid.job.clone()
                },
                ..grid.clone()
            };
            super::run::run(world, &start, meta, stop)
        })
    });
    let orders = Orders::new(errors.borrow().clone());
    if world.rank() == 0 {
        if json {
            let refine = done.is_ok().then_some(&orders);
            let json = serde_json::json!({ "grids": reports, "refine": refine });
            crate::console::out(&format!("{json}\n"));
        } else if done.is_ok() {
            crate::console::out(&orders.text());
        }
    }
    done?;
    if orders.second_order {
        Ok(())
    } else {
        Err(Failure::with_code(
            ExitCode::Validation,
            "heat: the observed order of accuracy is not 2 (see the refinement line)",
        ))
    }
}

/// The observed orders between consecutive grids.
#[derive(Debug, Clone, Serialize)]
pub struct Orders {
    /// Each grid's [max, L2] error.
    pub errors: Vec<[f64; 2]>,
    /// log2(e_k / e_{k+1}) of the max and the L2 errors.
    pub max_abs_order: Vec<f64>,
    pub l2_order: Vec<f64>,
    /// Every order within [`ORDER_SLACK`] of 2.
    pub second_order: bool,
}

impl Orders {
    pub fn new(errors: Vec<[f64; 2]>) -> Self {
        let order = |i: usize| -> Vec<f64> {
            errors
                .windows(2)
                .map(|w| (w[0][i] / w[1][i]).log2())
                .collect()
        };
        let (max_abs_order, l2_order) = (order(0), order(1));
        let second_order =
            (max_abs_order.iter().chain(&l2_order)).all(|o| (o - 2.0).abs() <= ORDER_SLACK);
        Self {
            errors,
            max_abs_order,
            l2_order,
            second_order,
        }
    }

    /// The lines the text report ends with.
    pub fn text(&self) -> String {
        let show = |v: &[f64]| {
            v.iter()
                .map(|o| format!("{o:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Refinement       : {} grids, observed order (log2 of the error ratio) max {}, L2 {}: {}",
            self.errors.len(),
            show(&self.max_abs_order),
            show(&self.l2_order),
            if self.second_order {
                "2 (the 5-point stencil's): OK".to_string()
            } else {
                format!("NOT 2 (the 5-point stencil's, within {ORDER_SLACK}): FAILED")
            }
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_of_errors_that_quarter_are_two() {
        let o = Orders::new(vec![[4.0, 8.0], [1.0, 2.0], [0.25, 0.5]]);
        assert_eq!(o.max_abs_order, vec![2.0, 2.0]);
        assert!(o.second_order);
        assert!(o.text().contains("2 (the 5-point stencil's): OK"));
        let o = Orders::new(vec![[4.0, 8.0], [2.0, 4.0]]);
        assert!(!o.second_order);
        assert!(o.text().contains("NOT 2"));
    }
}
