//! End-to-end tests of the users' problems in 3D heat (`parsim heat
//! --nz`) through real `mpirun`: walls of every kind per face (insulated,
//! periodic per axis, expressions in the face's coordinates and t), an
//! `--init` expression in x, y, z, a `--source` in x, y, z, t and
//! `--exact` manufactured solutions. Each problem gives the same bits (the
//! report's field checksum and validation) on 1 to 4 ranks, on every
//! process grid of 4 ranks and with threads; insulated walls conserve the
//! total; `--exact`'s error falls fourfold when dx halves; what is wrong is
//! refused in one line.

mod common;

use common::heat3d::{f, heat3d, result};
use common::*;
use serde_json::Value;

/// `problem` on 1 rank, then on 4 ranks on each process grid, on 2 and 3
/// ranks as chosen, and with threads: the same bits every time. Returns
/// the 1-rank report.
fn same_bits_everywhere(dir: &std::path::Path, problem: &[&str]) -> Value {
    // Uneven along every axis, so blocks differ in size on every grid.
    let mut args = vec!["--nx", "13", "--ny", "11", "--nz", "9", "--steps", "30"];
    args.extend_from_slice(problem);
    let base = heat3d(dir, 1, &args);
    assert_eq!(base["validation"]["passed"], true, "{base}");
    let mut runs: Vec<(usize, Vec<&str>)> = Vec::new();
    for g in ["4x1x1", "1x4x1", "1x1x4", "2x2x1"] {
        runs.push((4, vec!["--proc-grid", g]));
    }
    runs.push((2, vec![]));
    runs.push((3, vec![]));
    runs.push((2, vec!["--threads", "2", "--proc-grid", "1x2x1"]));
    for (p, extra) in runs {
        let mut a = args.clone();
        a.extend_from_slice(&extra);
        let r = heat3d(dir, p, &a);
        assert_eq!(result(&r), result(&base), "{problem:?} on {p} {extra:?}");
    }
    base
}

#[test]
fn insulated_walls_conserve_the_total_on_any_grid() {
    let dir = scratch("heat3d_walls_insulated");
    let all = [
        "--bc-left",
        "insulated",
        "--bc-right",
        "insulated",
        "--bc-bottom",
        "insulated",
        "--bc-top",
        "insulated",
        "--bc-front",
        "insulated",
        "--bc-back",
        "insulated",
    ];
    let r = same_bits_everywhere(&dir, &all);
    let v = &r["validation"];
    assert_eq!(v["kind"], "conserved", "{r}");
    let drift = (f(v, "final_total") - f(v, "initial_total")).abs();
    assert!(drift <= f(v, "tolerance"), "{v}");
    // The sphere spreads: the field is no longer 5 and 65 alone.
    assert!(f(v, "final_min") > 5.0 && f(v, "final_max") < 65.0, "{v}");
    // Periodic axes and insulated faces: no heat crosses either.
    let mixed = [
        "--bc-x",
        "periodic",
        "--bc-z",
        "periodic",
        "--bc-bottom",
        "insulated",
        "--bc-top",
        "insulated",
        "--init",
        "sin(40*x)*cos(30*y) + z*z*1000",
    ];
    let r = same_bits_everywhere(&dir, &mixed);
    assert_eq!(r["validation"]["kind"], "conserved", "{r}");
}

#[test]
fn expression_and_periodic_walls_give_the_same_bits_on_any_grid() {
    let dir = scratch("heat3d_walls_expr");
    let walls = [
        "--bc-left",
        "100*y*z + sin(t)",
        "--bc-right",
        "insulated",
        "--bc-bottom",
        "50*x - 20*z",
        "--bc-top",
        "7",
        "--bc-z",
        "periodic",
    ];
    let r = same_bits_everywhere(&dir, &walls);
    assert_eq!(r["validation"]["kind"], "maximum_principle", "{r}");
    let w = &r["config"]["walls"];
    assert_eq!(w["left"]["expression"], "100*y*z + sin(t)", "{w}");
    assert_eq!(
        (&w["right"], &w["front"]),
        (&"insulated".into(), &"periodic".into())
    );
    // Each wall changes the field: the same run with the bottom at 0 differs.
    let mut other = walls.to_vec();
    other[5] = "0";
    let args = ["--nx", "13", "--ny", "11", "--nz", "9", "--steps", "30"];
    let changed = heat3d(&dir, 1, &[&args[..], &other[..]].concat());
    assert_ne!(changed["checksum"], r["checksum"]);
}

#[test]
fn an_initial_expression_and_sources_give_the_same_bits_on_any_grid() {
    let dir = scratch("heat3d_walls_source");
    let init = [
        "--init",
        "exp(-((x-0.07)^2 + (y-0.06)^2 + (z-0.05)^2)*900)*80",
    ];
    let r = same_bits_everywhere(&dir, &init);
    assert_eq!(r["validation"]["kind"], "maximum_principle", "{r}");
    let avg = f(&r["validation"], "initial_average");
    assert!(avg > 0.0 && avg < 80.0, "{r}");
    for source in [
        "1000*x*y*z - 5",
        "2000*exp(-t*50)*sin(30*x)*cos(20*y)*z + t*x",
    ] {
        let mut args = init.to_vec();
        args.extend(["--source", source]);
        let r = same_bits_everywhere(&dir, &args);
        assert_eq!(r["validation"]["kind"], "finite", "{r}");
        assert_eq!(r["config"]["source"], source, "{r}");
    }
}

#[test]
fn manufactured_errors_fall_fourfold_when_dx_halves() {
    let dir = scratch("heat3d_walls_exact");
    let u = "exp(-t)*sin(3*x)*cos(2*y)*(1 + z*z) + x*y*z*t";
    let problem = ["--exact", u];
    let r = same_bits_everywhere(&dir, &problem);
    assert_eq!(r["validation"]["kind"], "manufactured", "{r}");
    // The unit cube: dx = 1/(n+1); the default dt is dx^2/(6 alpha), so
    // t = 0.05 takes 4x the steps when dx halves.
    let err = |n: usize, steps: u64| {
        let d = (1.0 / (n + 1) as f64).to_string();
        let n = n.to_string();
        let s = steps.to_string();
        let r = heat3d(
            &dir,
            2,
            &[
                "--nx", &n, "--ny", &n, "--nz", &n, "--dx", &d, "--dy", &d, "--dz", &d, "--steps",
                &s, "--exact", u,
            ],
        );
        assert!((f(&r, "sim_time") - 0.05).abs() < 1e-12, "{r}");
        f(&r["validation"], "max_abs_error")
    };
    assert_falls_fourfold((err(9, 15), err(19, 60), err(39, 240)));
}

#[test]
fn what_does_not_fit_a_face_or_an_axis_is_refused_in_one_line() {
    let dir = scratch("heat3d_walls_refused");
    let n = ["heat", "--nx", "6", "--ny", "6", "--nz", "6", "--no-output"];
    let cases: [(&[&str], &str); 7] = [
        (
            &["--bc-left", "x + t"],
            "--bc-left 'x + t': unknown name 'x' (this expression may use y, z, t)",
        ),
        (
            &["--bc-top", "y"],
            "--bc-top 'y': unknown name 'y' (this expression may use x, z, t)",
        ),
        (
            &["--bc-z", "periodic", "--bc-front", "3"],
            "--bc-z periodic joins the front and back walls: leave out --bc-front",
        ),
        (
            &["--bc-back", "periodic"],
            "--bc-back periodic: a wall is periodic only with the opposite one",
        ),
        (
            &["--init", "1/(z - 0.03)"],
            "--init '1/(z - 0.03)': its value at [2, 0, 0] ([z, y, x] indices",
        ),
        (&["--exact", "x*t", "--bc-front", "1"], "--bc-front"),
        (&["--source", "x*q"], "--source 'x*q': unknown name 'q'"),
    ];
    for (extra, want) in cases {
        assert_refused(&dir, 3, &[&n[..], extra].concat(), want);
    }
    assert!(listing(&dir).is_empty(), "{:?}", listing(&dir));
}
