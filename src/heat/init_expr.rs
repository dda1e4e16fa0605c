//! An initial field from an expression in x and y (`--init 'EXPR'`), in
//! the language of `integrate --f` (`crate::expr`: one parser, one
//! evaluator). Each rank evaluates its own cells at their global
//! coordinates, cell (i, j) at x = (i + 1) dx, y = (j + 1) dy (the walls
//! at 0 and (n + 1) d), so the field is the same bits on any rank count
//! and process grid. A value that is not a finite number is refused, by
//! its cell, in one line agreed by every rank before any step.

use mpi::collective::SystemOperation;
use mpi::traits::*;

use super::config::HeatConfig;
use super::decomp::Block;
use super::kernel::Field;
use crate::error::{Failure, Outcome};

/// The variables an initial expression may use, in `eval_at`'s order.
pub const VARS: [&str; 2] = ["x", "y"];

/// The expression parsed and compiled, or one line naming it.
pub fn compile(text: &str) -> Outcome<crate::expr::Program> {
    crate::expr::parse(text, &VARS)
        .map(|tree| crate::expr::Program::new(&tree))
        .map_err(|why| Failure::usage(format!("--init '{}': {why}", crate::error::one_line(text))))
}

/// Collective: fill this rank's block of `u` from `text`, and refuse a
/// field with a value that is not finite (the first such cell, in global
/// row-major order).
pub fn fill<C: Communicator>(
    comm: &C,
    cfg: &HeatConfig,
    text: &str,
    block: &Block,
    u: &mut Field,
) -> Outcome {
    let program = compile(text)?;
    let mut bad = None;
    for j in 0..block.ny() {
        let gj = block.rows.start + j;
        let y = (gj + 1) as f64 * cfg.dy;
        for i in 0..block.nx() {
            let gi = block.cols.start + i;
            let v = program.eval_at(&[(gi + 1) as f64 * cfg.dx, y]);
            if !v.is_finite() && bad.is_none() {
                bad = Some((gj, gi, v));
            }
            u.set(i, j, v);
        }
    }
    let index = bad.map_or(u64::MAX, |(j, i, _)| (j * cfg.nx + i) as u64);
    let mut first = u64::MAX;
    comm.all_reduce_into(&index, &mut first, SystemOperation::min());
    let local = match bad {
        Some((j, i, v)) if index == first => Err(Failure::usage(format!(
            "--init '{}': its value at [{j}, {i}] ([row, column]; x = {:?}, y = {:?}) is {v}: \
             every value must be a finite number",
            crate::error::one_line(text),
            (i + 1) as f64 * cfg.dx,
            (j + 1) as f64 * cfg.dy
        ))),
        _ => Ok(()),
    };
    crate::par::agree(comm, local)
}
