//! `--refine K` with `--exact`: the same problem on K grids, each halving
//! dx and dy (and dz in 3D; nx' = 2 (nx + 1) - 1, so the walls stay where
//! they were), with dt scaled by 1/4 (in proportion to dx^2) and 4 times
//! the steps (the same final time), and the observed order of accuracy
//! between consecutive grids, log2(e_k / e_{k+1}), which the 5-point (7 in
//! 3D) stencil makes 2. Every grid is an ordinary run with its own report;
//! only the finest writes the result file. 2D and 3D share all of it but
//! the run itself ([`Grid`]).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use mpi::traits::Communicator;
use serde::Serialize;

use super::config::{HeatRequest, DEFAULT_D, DEFAULT_N};
use super::plan::{HeatJob, HeatStart};
use super::plan3d::{Request3d, Start3d, DEFAULT_N3};
use crate::driver::Output;
use crate::error::{ExitCode, Failure, Outcome};
use crate::h5::RunMeta;
use crate::stop::StopSignal;

/// How far an observed order may be from 2 and still be called 2.
pub const ORDER_SLACK: f64 = 0.1;

/// The errors each grid's run reports, in grid order (rank 0 reads them
/// after the runs): max |error| and L2 error.
pub type Errors = Rc<RefCell<Vec<[f64; 2]>>>;

/// Grid `k` of a refinement (0: the one asked for): spacing halved `k`
/// times, so the points along an axis go from n to 2^k (n + 1) - 1, dt
/// divided by 4^k (a given one; the default, the stability limit, scales
/// by itself) and the steps multiplied by 4^k.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    two: usize,
    four: u64,
}

impl Scale {
    pub fn new(k: u32) -> Self {
        Self {
            two: 1 << k,
            four: 1 << (2 * k),
        }
    }

    /// Points along an axis of `n` (`default` if not given).
    pub fn n(self, n: Option<usize>, default: usize) -> Option<usize> {
        Some(self.two * (n.unwrap_or(default) + 1) - 1)
    }

    /// A spacing (the default's if not given).
    pub fn d(self, d: Option<f64>) -> Option<f64> {
        Some(d.unwrap_or(DEFAULT_D) / self.two as f64)
    }

    pub fn dt(self, dt: Option<f64>) -> Option<f64> {
        dt.map(|dt| dt / (self.four as f64))
    }

    pub fn steps(self, steps: Option<u64>) -> Option<u64> {
        steps.map(|s| s.saturating_mul(self.four))
    }
}

/// The output of grid `k` of `grids`: only the finest writes the result
/// file (and its sidecar).
fn finest_only(
    out: &Output,
    extras: &super::layout::Extras,
    k: u32,
    grids: u32,
) -> (Output, super::layout::Extras) {
    let mut out = out.clone();
    if k + 1 < grids {
        out.path = None;
    }
    let mut extras = extras.clone();
    if out.path.is_none() {
        extras.xdmf = None;
    }
    (out, extras)
}

/// The job of grid `k` (0: the one asked for): the request refined `k`
/// times, its output only for the finest of `grids`.
pub fn refined(job: &HeatJob, k: u32, grids: u32) -> HeatJob {
    let (r, s) = (&job.request, Scale::new(k));
    let request = HeatRequest {
        nx: s.n(r.nx, DEFAULT_N),
        ny: s.n(r.ny, DEFAULT_N),
        dx: s.d(r.dx),
        dy: s.d(r.dy),
        dt: s.dt(r.dt),
        steps: s.steps(r.steps),
        ..r.clone()
    };
    let (out, extras) = finest_only(&job.out, &job.extras, k, grids);
    HeatJob {
        request,
        out,
        extras,
        ..job.clone()
    }
}

/// A 3D run's request and output refined `k` times of `grids`, as
/// [`refined`] in 2D (dz halved too).
pub fn refined3(
    req: &Request3d,
    (out, extras): (&Output, &super::layout::Extras),
    k: u32,
    grids: u32,
) -> (Request3d, Output, super::layout::Extras) {
    let s = Scale::new(k);
    let request = Request3d {
        n: req.n.map(|n| s.n(n, DEFAULT_N3)),
        d: req.d.map(|d| s.d(d)),
        dt: s.dt(req.dt),
        steps: s.steps(req.steps),
        ..req.clone()
    };
    let (out, extras) = finest_only(out, extras, k, grids);
    (request, out, extras)
}

/// A grid of a refinement, 2D or 3D: how it runs with its errors kept.
pub trait Grid {
    /// The stencil whose order is 2, as the refinement line names it.
    const STENCIL: &'static str;

    /// Whether the report is JSON.
    fn json(&self) -> bool;

    /// Collective: this grid's ordinary run, its [max, L2] errors pushed
    /// onto `errors`.
    fn run_keeping<C: Communicator>(
        &self,
        world: &C,
        errors: &Errors,
        meta: &RunMeta,
        stop: &StopSignal,
    ) -> Outcome;
}

impl Grid for HeatStart {
    const STENCIL: &'static str = "5-point";

    fn json(&self) -> bool {
        self.job.out.json
    }

    fn run_keeping<C: Communicator>(
        &self,
        world: &C,
        errors: &Errors,
        meta: &RunMeta,
        stop: &StopSignal,
    ) -> Outcome {
        let start = HeatStart {
            job: HeatJob {
                errors: Some(errors.clone()),
                ..self.job.clone()
            },
            ..self.clone()
        };
        super::run::run(world, &start, meta, stop)
    }
}

impl Grid for Start3d {
    const STENCIL: &'static str = "7-point";

    fn json(&self) -> bool {
        self.out.json
    }

    fn run_keeping<C: Communicator>(
        &self,
        world: &C,
        errors: &Errors,
        meta: &RunMeta,
        stop: &StopSignal,
    ) -> Outcome {
        let start = Start3d {
            errors: Some(errors.clone()),
            ..self.clone()
        };
        super::run3d::run(world, &start, meta, stop)
    }
}

/// Collective: run every grid of `grids` (coarsest first), each an
/// ordinary run with its report; then rank 0 prints the observed orders.
/// With `--json`, stdout carries one JSON object, as for every command:
/// `{"grids": [each grid's report], "refine": the orders}` (`refine` null
/// when a grid's run failed). Not 2: the validation's exit code.
pub fn run<C: Communicator, G: Grid>(
    world: &C,
    grids: &[G],
    meta: &RunMeta,
    stop: &StopSignal,
) -> Outcome {
    let errors: Errors = Rc::default();
    let json = grids[0].json();
    let (done, reports) = crate::report::collect(|| {
        grids
            .iter()
            .try_for_each(|grid| grid.run_keeping(world, &errors, meta, stop))
    });
    let orders = Orders::new(errors.borrow().clone());
    if world.rank() == 0 {
        if json {
            let refine = done.is_ok().then_some(&orders);
            let json = serde_json::json!({ "grids": reports, "refine": refine });
            crate::console::out(&format!("{json}\n"));
        } else if done.is_ok() {
            crate::console::out(&orders.text(G::STENCIL));
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

    /// The lines the text report ends with, naming the `stencil`
    /// ("5-point", "7-point") whose order is 2.
    pub fn text(&self, stencil: &str) -> String {
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
                format!("2 (the {stencil} stencil's): OK")
            } else {
                format!("NOT 2 (the {stencil} stencil's, within {ORDER_SLACK}): FAILED")
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
        assert!(o.text("5-point").contains("2 (the 5-point stencil's): OK"));
        let o = Orders::new(vec![[4.0, 8.0], [2.0, 4.0]]);
        assert!(!o.second_order);
        assert!(o.text("7-point").contains("NOT 2 (the 7-point"));
    }

    #[test]
    fn grids_halve_the_spacing_and_keep_the_walls() {
        let s = Scale::new(2);
        // 7 points, walls at 0 and 8 d: 31 points of d/4, walls at 32 d/4.
        assert_eq!(s.n(Some(7), 100), Some(31));
        assert_eq!(s.n(None, 3), Some(15));
        assert_eq!(s.d(Some(0.5)), Some(0.125));
        assert_eq!(s.d(None), Some(DEFAULT_D / 4.0));
        assert_eq!((s.dt(Some(1.6)), s.dt(None)), (Some(0.1), None));
        assert_eq!(s.steps(Some(10)), Some(160));
        let req = Request3d {
            n: [Some(3), None, Some(5)],
            d: [Some(0.25), None, None],
            steps: Some(2),
            ..Request3d::default()
        };
        let out = Output::default();
        let (r, o, _) = refined3(&req, (&out, &Default::default()), 1, 2);
        assert_eq!(r.n, [Some(7), Some(2 * DEFAULT_N3 + 1), Some(11)]);
        assert_eq!(r.d[0], Some(0.125));
        assert_eq!((r.steps, o.path), (Some(8), out.path));
    }
}
