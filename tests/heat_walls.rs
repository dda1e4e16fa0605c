//! End-to-end tests of heat's walls through real `mpirun`: periodic walls
//! (bitwise against one rank on any process grid, time block and thread
//! count; a periodic sine against its exact discrete solution), insulated
//! walls (the total heat conserved to rounding), expression walls (bitwise
//! across ranks, the same bits as the value wall they equal, continued
//! from a checkpoint at the right t), and the refusal of periodic on one
//! side.

mod common;

use std::path::Path;

use common::*;

fn f(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// A small heat problem with these walls and extra options, into `out`.
fn heat<'a>(walls: &[&'a str], extra: &[&'a str], out: &'a str) -> Vec<&'a str> {
    let mut a = vec!["heat", "--nx", "23", "--ny", "17", "--steps", "37"];
    a.extend_from_slice(walls);
    a.extend_from_slice(extra);
    a.extend(["--output", out, "--force", "--quiet"]);
    a
}

/// Every run of `walls` (ranks, process grid, tuning) gives the datasets
/// of the plain 1-rank run, bit for bit.
fn assert_bitwise_everywhere(tag: &str, walls: &[&str]) {
    let dir = scratch(tag);
    run_ok(&dir, 1, &heat(walls, &[], "ref.h5"));
    let runs: &[(usize, &str)] = &[
        (1, "1x1"),
        (2, "2x1"),
        (2, "1x2"),
        (3, "3x1"),
        (3, "1x3"),
        (4, "2x2"),
    ];
    let tunings: [&[&str]; 2] = [
        &["--time-block", "1", "--overlap", "off"],
        &["--time-block", "3", "--threads", "2"],
    ];
    for &(p, grid) in runs {
        for tuning in tunings {
            let mut extra = vec!["--proc-grid", grid];
            extra.extend_from_slice(tuning);
            run_ok(&dir, p, &heat(walls, &extra, "out.h5"));
            assert!(
                same_datasets(&dir.join("ref.h5"), &dir.join("out.h5"), "/heat"),
                "{tag}: {walls:?} on {p} ranks {grid} {tuning:?} differs from 1 rank"
            );
        }
    }
}

#[test]
fn periodic_x_walls_are_bitwise_the_one_rank_run_on_any_grid() {
    assert_bitwise_everywhere("walls_px", &["--bc-x", "periodic"]);
}

#[test]
fn periodic_y_walls_are_bitwise_the_one_rank_run_on_any_grid() {
    assert_bitwise_everywhere("walls_py", &["--bc-y", "periodic", "--bc-left", "3"]);
}

#[test]
fn periodic_both_axes_are_bitwise_the_one_rank_run_on_any_grid() {
    assert_bitwise_everywhere("walls_pxy", &["--bc-x", "periodic", "--bc-y", "periodic"]);
}

#[test]
fn insulated_and_expression_walls_are_bitwise_the_one_rank_run_on_any_grid() {
    assert_bitwise_everywhere(
        "walls_ins_expr",
        &[
            "--bc-x",
            "periodic",
            "--bc-bottom",
            "insulated",
            "--bc-top",
            "40 + 30*sin(20*x)*cos(500*t)",
        ],
    );
}

#[test]
fn periodic_sine_matches_its_exact_discrete_solution() {
    let dir = scratch("walls_sine");
    for walls in [
        &["--bc-x", "periodic"][..],
        &["--bc-y", "periodic"],
        &["--bc-x", "periodic", "--bc-y", "periodic"],
    ] {
        for (p, tb) in [(1, "1"), (2, "3"), (3, "1"), (4, "2")] {
            let mut args = vec!["heat", "--init", "sine", "--nx", "40", "--ny", "30"];
            args.extend_from_slice(walls);
            args.extend(["--steps", "200", "--time-block", tb, "--no-output"]);
            let r = run_json(&dir, p, &args);
            let v = &r["validation"];
            assert_eq!(v["kind"], "exact", "{walls:?}: {r}");
            let err = f(v, "max_rel_error");
            assert!(err <= 1e-12, "{walls:?} P={p}: relative error {err:e}");
            assert_eq!(v["passed"], true);
            // The continuum's periodic mode (period n dx): an O(dx^2) gap,
            // a few percent for 30 cells a wavelength.
            assert!(f(v, "continuum_rel_error") < 5e-2, "{r}");
        }
    }
}

#[test]
fn insulated_walls_conserve_the_total_heat() {
    let dir = scratch("walls_insulated");
    for walls in [
        &[
            "--bc-left",
            "insulated",
            "--bc-right",
            "insulated",
            "--bc-bottom",
            "insulated",
            "--bc-top",
            "insulated",
        ][..],
        &[
            "--bc-x",
            "periodic",
            "--bc-bottom",
            "insulated",
            "--bc-top",
            "insulated",
        ],
    ] {
        for p in [1, 3] {
            let mut args = vec!["heat", "--nx", "60", "--ny", "50", "--steps", "400"];
            args.extend_from_slice(walls);
            args.extend(["--time-block", "4", "--no-output"]);
            let r = run_json(&dir, p, &args);
            let v = &r["validation"];
            assert_eq!(v["kind"], "conserved", "{r}");
            assert_eq!(v["passed"], true, "{r}");
            // The disk: 65 everywhere but 5 in the disk; nothing leaves.
            let (a, b) = (f(v, "initial_total"), f(v, "final_total"));
            assert!((a - b).abs() <= f(v, "tolerance"), "{a} -> {b}");
            assert!((a - b).abs() <= 1e-9 * a, "{a} -> {b}");
            // Heat flowed: the disk warmed.
            assert!(f(v, "final_min") > 5.0 + 1.0, "{r}");
            // Time blocking cannot carry insulated walls: depth 1, said.
            let e = &r["execution"];
            assert_eq!(e["time_block"], 1, "{r}");
            assert!(
                e["time_block_note"].as_str().unwrap().contains("not 4"),
                "{r}"
            );
        }
    }
}

#[test]
fn an_expression_wall_of_a_constant_is_the_value_wall() {
    let dir = scratch("walls_expr_const");
    let walls = ["--bc-left", "20 + 0*y*t", "--bc-top", "85*(1 + 0*x)"];
    run_ok(&dir, 2, &heat(&walls, &[], "expr.h5"));
    run_ok(&dir, 2, &heat(&["--bc-left", "20"], &[], "value.h5"));
    assert!(same_field(&dir.join("expr.h5"), &dir.join("value.h5")));
}

/// A checkpoint at step 20 continued to 37: the same bits as 37 steps at
/// once (the wall's t is the step's, n dt, not counted from the restart),
/// and the checkpoint knows its walls.
#[test]
fn walls_continue_from_a_checkpoint_bitwise() {
    let dir = scratch("walls_restart");
    let walls = &["--bc-left", "insulated", "--bc-bottom", "10 + 50*x + 200*t"][..];
    run_ok(&dir, 1, &heat(walls, &[], "full.h5"));
    let mut first = vec!["--steps", "20", "--checkpoint-every", "20"];
    first.extend(["--checkpoint", "c.h5"]);
    run_ok(&dir, 2, &heat(walls, &first, "a.h5"));
    let resume = [
        "heat",
        "--restart",
        "c.h5",
        "--steps",
        "37",
        "--proc-grid",
        "1x3",
        "--output",
        "r.h5",
        "--checkpoint",
        "rc.h5",
        "--quiet",
    ];
    run_ok(&dir, 3, &resume);
    assert!(same_field(&dir.join("full.h5"), &dir.join("r.h5")));
    let h5 = hdf5::File::open(dir.join("r.h5")).unwrap();
    let text = |name: &str| -> String {
        let a = h5.group("heat").unwrap().attr(name).unwrap();
        a.read_scalar::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .to_string()
    };
    assert_eq!(text("bc_left_kind"), "insulated");
    assert_eq!(text("bc_bottom_kind"), "expression");
    assert_eq!(text("bc_bottom_expression"), "10 + 50*x + 200*t");
    assert!(h5.group("heat").unwrap().attr("bc_right_kind").is_err());
}

#[test]
fn periodic_on_one_side_is_refused_in_one_line() {
    let dir = scratch("walls_refused");
    for dry in [false, true] {
        let mut args = vec!["heat", "--bc-left", "periodic", "--no-output"];
        if dry {
            args.push("--dry-run");
        }
        assert_refused(
            &dir,
            2,
            &args,
            "--bc-left periodic: a wall is periodic only with the opposite one; give --bc-x periodic",
        );
    }
    assert_refused(
        &dir,
        2,
        &["heat", "--bc-y", "periodic", "--bc-top", "3", "--no-output"],
        "--bc-y periodic joins the bottom and top walls: leave out --bc-top",
    );
    assert!(listing(Path::new(&dir)).is_empty());
}

/// A result whose walls are insulated or expressions (their `bc_*` are NaN,
/// `bc_*_kind` says what they are) with a source is drawn by
/// `scripts/plot.py`, the walls named by kind in the title (it refused
/// such a file: "attribute 'bc_left' must be a finite number").
#[test]
fn plot_draws_a_result_with_walls_of_every_kind() {
    let dir = scratch("walls-plot");
    let args = [
        "heat",
        "--nx",
        "40",
        "--ny",
        "30",
        "--steps",
        "10",
        "--bc-left",
        "insulated",
        "--bc-top",
        "10*x+t",
        "--source",
        "x*y",
        "--output",
        "w.h5",
    ];
    assert_success(&mpirun(&dir, 2, &args));
    let plot = format!("{}/scripts/plot.py", env!("CARGO_MANIFEST_DIR"));
    let script = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')";
    let w = dir.join("w.h5");
    let Some(out) = run_python_with("matplotlib", script, &[&plot, w.to_str().unwrap()]) else {
        return;
    };
    assert!(out.contains("w-heat.png"), "{out}");
    assert!(dir.join("w-heat.png").is_file());
}
