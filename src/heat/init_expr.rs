//! An initial field from an expression in x and y (`--init 'EXPR'`; x, y
//! and z in 3D), in the language of `integrate --f` (`crate::expr`: one
//! parser, one evaluator). Each rank evaluates its own cells at their global
//! coordinates, cell (i, j) at x = (i + 1) dx, y = (j + 1) dy (the walls
//! at 0 and (n + 1) d), so the field is the same bits on any rank count
//! and process grid. A value that is not a finite number is refused, by
//! its cell, in one line agreed by every rank before any step.

use mpi::collective::SystemOperation;
use mpi::traits::*;

use super::config::HeatConfig;
use super::decomp::Block;
use super::decomp3d::Block3;
use super::kernel::Field;
use crate::error::{Failure, Outcome};

/// The variables an initial expression may use, in `eval_at`'s order.
pub const VARS: [&str; 2] = ["x", "y"];

/// The same in 3D (`--nz`).
pub const VARS3: [&str; 3] = ["x", "y", "z"];

/// The expression parsed and compiled, or one line naming it.
pub fn compile(text: &str) -> Outcome<crate::expr::Program> {
    compile_in(text, &VARS)
}

/// [`compile`] in `vars` ([`VARS`] or [`VARS3`]).
pub fn compile_in(text: &str, vars: &[&str]) -> Outcome<crate::expr::Program> {
    crate::expr::parse(text, vars)
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
            let x = (gi + 1) as f64 * cfg.dx;
            let v = program.eval_at(&[x, y]);
            if !v.is_finite() && bad.is_none() {
                let at = format!("[{gj}, {gi}] ([row, column]; x = {x:?}, y = {y:?})");
                bad = Some(((gj * cfg.nx + gi) as u64, at, v));
            }
            u.set(i, j, v);
        }
    }
    agree_finite(comm, text, bad)
}

/// Collective: [`fill`] in 3D, cell (i, j, k) of the block at ((gi + 1)
/// dx, (gj + 1) dy, (gk + 1) dz) for its global indices, `d` the spacing
/// and `n` the grid's nx, ny; `set` stores a cell's value (the field's, so
/// this file needs no 3D type).
pub fn fill3<C: Communicator>(
    comm: &C,
    text: &str,
    block: &Block3,
    (d, [nx, ny]): ([f64; 3], [usize; 2]),
    mut set: impl FnMut(usize, usize, usize, f64),
) -> Outcome {
    let program = compile_in(text, &VARS3)?;
    let mut bad = None;
    for (k, gk) in block.planes.clone().enumerate() {
        let z = (gk + 1) as f64 * d[2];
        for (j, gj) in block.rows.clone().enumerate() {
            let y = (gj + 1) as f64 * d[1];
            for (i, gi) in block.cols.clone().enumerate() {
                let x = (gi + 1) as f64 * d[0];
                let v = program.eval_at(&[x, y, z]);
                if !v.is_finite() && bad.is_none() {
                    let at = format!(
                        "[{gk}, {gj}, {gi}] ([z, y, x] indices; x = {x:?}, y = {y:?}, z = {z:?})"
                    );
                    bad = Some((((gk * ny + gj) * nx + gi) as u64, at, v));
                }
                set(i, j, k, v);
            }
        }
    }
    agree_finite(comm, text, bad)
}

/// Collective: refuse the first value that is not finite (by its global
/// index, the first of this rank's `bad`: index, where, value), said by
/// the rank that holds it, agreed by all.
fn agree_finite<C: Communicator>(comm: &C, text: &str, bad: Option<(u64, String, f64)>) -> Outcome {
    let index = bad.as_ref().map_or(u64::MAX, |b| b.0);
    let mut first = u64::MAX;
    comm.all_reduce_into(&index, &mut first, SystemOperation::min());
    let local = match bad {
        Some((_, at, v)) if index == first => Err(Failure::usage(format!(
            "--init '{}': its value at {at} is {v}: every value must be a finite number",
            crate::error::one_line(text),
        ))),
        _ => Ok(()),
    };
    crate::par::agree(comm, local)
}
