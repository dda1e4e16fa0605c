//! heat `--source 'EXPR'` in x, y, t (issue 40, item 3): the step it
//! takes (u^{n+1} = the 5-point update of u^n + dt S(x_i, y_j, t_n)),
//! bitwise the same on any ranks, process grid, threads and time block
//! (a source is time-blocked as a run without one: issue 41), a restart
//! that continues it bit for bit, its attribute, its one-line refusals and
//! the blow-up check it keeps (NaN and infinities).

mod common;

use std::path::Path;

use common::*;

/// A small run's options with `source`, written to `out`.
fn args<'a>(source: &'a str, out: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "heat", "--nx", "23", "--ny", "17", "--steps", "30", "--source", source, "--output", out,
        "--force",
    ];
    a.extend_from_slice(more);
    a
}

fn text_attr(path: &Path, name: &str) -> String {
    let f = hdf5::File::open(path).unwrap();
    let a = f.group("heat").unwrap().attr(name).unwrap();
    a.read_scalar::<hdf5::types::VarLenUnicode>()
        .unwrap()
        .to_string()
}

#[test]
fn the_step_adds_dt_times_the_source_at_the_cell_and_step_time_to_the_stencil() {
    // An independent step in the test: sine start, zero walls, 4 steps
    // of the kernel's expression, then + dt S(x, y, t_n).
    let dir = scratch("heat_source_step");
    let (nx, ny, steps) = (7usize, 5usize, 4u64);
    let r = run_json(
        &dir,
        1,
        &[
            "heat",
            "--nx",
            "7",
            "--ny",
            "5",
            "--steps",
            "4",
            "--init",
            "sine",
            "--source",
            "x*y + 3*t",
            "--output",
            "s.h5",
        ],
    );
    assert_eq!(r["validation"]["kind"], "finite", "{r}");
    let c = &r["config"];
    assert_eq!(c["source"], "x*y + 3*t");
    let (dx, dy, dt, alpha) = (
        c["dx"].as_f64().unwrap(),
        c["dy"].as_f64().unwrap(),
        c["dt"].as_f64().unwrap(),
        c["alpha"].as_f64().unwrap(),
    );
    let (cx, cy) = (alpha * dt / (dx * dx), alpha * dt / (dy * dy));
    let k = 1.0 - 2.0 * cx - 2.0 * cy;
    let pi = std::f64::consts::PI;
    // u with a ring of zero walls: u[j + 1][i + 1] is cell (i, j).
    let mut u = vec![vec![0.0f64; nx + 2]; ny + 2];
    for j in 0..ny {
        for i in 0..nx {
            let sx = (pi * (i + 1) as f64 / (nx + 1) as f64).sin();
            let sy = (pi * (j + 1) as f64 / (ny + 1) as f64).sin();
            u[j + 1][i + 1] = sx * sy;
        }
    }
    for n in 0..steps {
        let t = n as f64 * dt;
        let mut next = u.clone();
        for j in 1..=ny {
            for i in 1..=nx {
                let (w, e, s, no) = (u[j][i - 1], u[j][i + 1], u[j - 1][i], u[j + 1][i]);
                let stencil = cy.mul_add(s + no, cx.mul_add(w + e, k * u[j][i]));
                let (x, y) = (i as f64 * dx, j as f64 * dy);
                next[j][i] = stencil + dt * (x * y + 3.0 * t);
            }
        }
        u = next;
    }
    let got = read_field(&dir.join("s.h5"), "/heat/temperature");
    for j in 0..ny {
        for i in 0..nx {
            assert_eq!(
                got[[j, i]].to_bits(),
                u[j + 1][i + 1].to_bits(),
                "cell ({i}, {j}): {} vs {}",
                got[[j, i]],
                u[j + 1][i + 1]
            );
        }
    }
    assert_eq!(text_attr(&dir.join("s.h5"), "source"), "x*y + 3*t");
}

#[test]
fn a_source_gives_the_same_bits_on_any_ranks_grid_threads_and_time_block() {
    let dir = scratch("heat_source_ranks");
    for source in [
        "50*sin(pi*x)*cos(2*pi*y)*exp(-100*t)",
        "200*x*(0.24 - x) - y",
    ] {
        let base = run_json(&dir, 1, &args(source, "one.h5", &[]));
        assert_eq!(base["validation"]["passed"], true, "{base}");
        let layouts: [(usize, &[&str]); 6] = [
            (2, &["--time-block", "1"]),
            (3, &["--proc-grid", "1x3", "--overlap", "off"]),
            (
                4,
                &["--proc-grid", "2x2", "--threads", "2", "--time-block", "3"],
            ),
            (3, &["--proc-grid", "3x1", "--check-every", "7"]),
            (1, &["--time-block", "4", "--threads", "2"]),
            (2, &["--time-block", "2", "--overlap", "on"]),
        ];
        for (ranks, more) in layouts {
            let r = run_json(&dir, ranks, &args(source, "many.h5", more));
            assert!(
                same_field(&dir.join("one.h5"), &dir.join("many.h5")),
                "{source} on {ranks} ranks {more:?}: the field differs"
            );
            assert_eq!(r["validation"], base["validation"], "{ranks} {more:?}");
            // A source is time-blocked as a run without one (issue 41).
            if let Some(k) = more.iter().position(|o| *o == "--time-block") {
                let asked: u64 = more[k + 1].parse().unwrap();
                assert_eq!(r["execution"]["time_block"], asked, "{r}");
                assert!(r["execution"]["time_block_note"].is_null(), "{r}");
            }
        }
    }
    // No fallback to say in the text report or the dry run.
    let text = run_ok(&dir, 2, &args("x", "t.h5", &["--time-block", "4"]));
    assert!(!text.contains("not 4"), "{text}");
    assert!(
        text.contains("Source term      : S(x, y, t) = 'x'"),
        "{text}"
    );
    let dry = run_ok(
        &dir,
        2,
        &args("x", "t.h5", &["--time-block", "4", "--dry-run"]),
    );
    assert!(dry.contains("time block 4\n"), "{dry}");
    assert!(dry.contains("# source S(x, y, t) = 'x'"), "{dry}");
}

#[test]
fn a_restart_continues_a_source_in_time_bit_for_bit() {
    let dir = scratch("heat_source_restart");
    let source = "100*sin(pi*x)*exp(-1000*t)";
    run_ok(&dir, 2, &args(source, "whole.h5", &[]));
    let mut half = args(source, "half.h5", &[]);
    half[6] = "12";
    run_ok(&dir, 3, &half);
    // The source comes from the file: not given again.
    let rest = [
        "heat",
        "--restart",
        "half.h5",
        "--steps",
        "30",
        "--output",
        "rest.h5",
    ];
    run_ok(&dir, 2, &rest);
    assert!(same_field(&dir.join("whole.h5"), &dir.join("rest.h5")));
    // Another source contradicts the file.
    let mut other = rest.to_vec();
    other.extend(["--source", "x", "--force"]);
    assert_refused(&dir, 2, &other, "--source 'x' contradicts the checkpoint");
}

#[test]
fn bad_sources_are_one_line_and_non_finite_values_are_blow_up() {
    let dir = scratch("heat_source_bad");
    for (source, want) in [
        (
            "z*x",
            "--source 'z*x': unknown name 'z' (this expression may use x, y, t)",
        ),
        ("sin(x", "--source 'sin(x': "),
        ("foo(t)", "unknown function 'foo'"),
    ] {
        for dry in [false, true] {
            let mut a = args(source, "bad.h5", &[]);
            if dry {
                a.push("--dry-run");
            }
            assert_refused(&dir, 2, &a, want);
        }
    }
    assert!(!dir.join("bad.h5").exists());
    // sqrt(-1) is NaN everywhere: the first check stops the run (exit 4).
    let out = mpirun(&dir, 2, &args("sqrt(x - 1)", "nan.h5", &[]));
    assert_eq!(out.status.code(), Some(4), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("numerical blow-up detected"));
}

/// `--exact`'s report at grid `k` of the refinement: nx = ny = 2^(k+4) - 1
/// on the unit square (dx = 2^-(k+4)), dt the stability limit (so it is
/// scaled by 1/4 each time), 16 * 4^k steps to the same final time.
fn manufactured(dir: &Path, ranks: usize, k: u32, exact: &str, more: &[&str]) -> serde_json::Value {
    let n = (1u64 << (k + 4)) - 1;
    let (nx, dx, steps) = (
        n.to_string(),
        (1.0 / (n + 1) as f64).to_string(),
        (16u64 << (2 * k)).to_string(),
    );
    let mut a = vec![
        "heat", "--nx", &nx, "--ny", &nx, "--dx", &dx, "--dy", &dx, "--steps", &steps, "--exact",
        exact, "--output", "m.h5", "--force",
    ];
    a.extend_from_slice(more);
    run_json(dir, ranks, &a)
}

const EXACT: &str = "exp(-t)*sin(pi*x)*cos(2*pi*y) + x^2*y + 0.5*t*y^3 - x*y";

#[test]
fn a_manufactured_solution_converges_at_order_two_on_any_ranks() {
    let dir = scratch("heat_exact_order");
    let errors: Vec<(f64, f64)> = (0..3)
        .map(|k| {
            let r = manufactured(&dir, 1 + k as usize, k, EXACT, &[]);
            let v = &r["validation"];
            assert_eq!(v["kind"], "manufactured", "{r}");
            assert_eq!(v["passed"], true, "{r}");
            (
                v["max_abs_error"].as_f64().unwrap(),
                v["l2_error"].as_f64().unwrap(),
            )
        })
        .collect();
    for w in errors.windows(2) {
        for (e0, e1) in [(w[0].0, w[1].0), (w[0].1, w[1].1)] {
            let order = (e0 / e1).log2();
            assert!((order - 2.0).abs() <= 0.1, "order {order}: {errors:?}");
        }
    }
    // The same bits and the same errors on other layouts.
    let one = manufactured(&dir, 1, 1, EXACT, &[]);
    std::fs::rename(dir.join("m.h5"), dir.join("one.h5")).unwrap();
    for (ranks, more) in [
        (4usize, &["--proc-grid", "2x2", "--time-block", "2"][..]),
        (3, &["--proc-grid", "3x1", "--threads", "2"][..]),
    ] {
        let r = manufactured(&dir, ranks, 1, EXACT, more);
        assert!(
            same_field(&dir.join("one.h5"), &dir.join("m.h5")),
            "{ranks} {more:?}"
        );
        assert_eq!(r["validation"], one["validation"], "{ranks} {more:?}");
    }
    let f = dir.join("one.h5");
    assert_eq!(text_attr(&f, "exact"), EXACT);
    // A restart derives the same problem from the file's `exact`: 8 steps,
    // then 8 more, are the 16 steps' bits.
    manufactured(&dir, 2, 0, EXACT, &[]);
    let half = ["--steps", "8", "--output", "half.h5"];
    manufactured(&dir, 1, 0, EXACT, &half);
    assert_eq!(heat_attr(&dir.join("half.h5"), "step"), 8);
    let rest = [
        "heat",
        "--restart",
        "half.h5",
        "--steps",
        "16",
        "--output",
        "rest.h5",
    ];
    run_ok(&dir, 3, &rest);
    assert!(same_field(&dir.join("m.h5"), &dir.join("rest.h5")));
}

#[test]
fn refine_runs_the_grids_and_reports_order_two() {
    let dir = scratch("heat_exact_refine");
    let base = [
        "heat", "--nx", "15", "--ny", "15", "--dx", "0.0625", "--dy", "0.0625", "--steps", "16",
        "--exact", EXACT, "--refine", "3", "--output", "r.h5",
    ];
    let text = run_ok(&dir, 2, &base);
    let line = text
        .lines()
        .find(|l| l.starts_with("Refinement"))
        .unwrap_or_default();
    assert!(line.contains("3 grids") && line.ends_with("OK"), "{text}");
    assert_eq!(text.matches("Grid             :").count(), 3, "{text}");
    // Only the finest grid writes the result file.
    let f = read_field(&dir.join("r.h5"), "/heat/temperature");
    assert_eq!(f.dim(), (63, 63));
    // --json: one JSON document, each grid's report and the orders.
    let mut json = base.to_vec();
    json.extend(["--json", "--force"]);
    let out = run_ok(&dir, 3, &json);
    let doc: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let grids = doc["grids"].as_array().unwrap();
    let nx: Vec<_> = grids.iter().map(|g| g["config"]["nx"].as_u64()).collect();
    assert_eq!(nx, [Some(15), Some(31), Some(63)], "{out}");
    for (g, e) in grids
        .iter()
        .zip(doc["refine"]["errors"].as_array().unwrap())
    {
        assert_eq!(g["validation"]["max_abs_error"], e[0], "{out}");
        assert_eq!(g["validation"]["l2_error"], e[1], "{out}");
    }
    let r = &doc["refine"];
    assert_eq!(r["second_order"], true, "{out}");
    for o in r["l2_order"].as_array().unwrap() {
        assert!((o.as_f64().unwrap() - 2.0).abs() <= 0.1, "{r}");
    }
}

#[test]
fn an_exact_solution_without_derivatives_or_with_walls_is_refused_in_one_line() {
    let dir = scratch("heat_exact_bad");
    for (exact, more, want) in [
        (
            "abs(x - 0.5)*t",
            &[][..],
            "--exact 'abs(x - 0.5)*t': abs() has no derivative",
        ),
        (
            "x*w",
            &[][..],
            "unknown name 'w' (this expression may use x, y, t)",
        ),
        ("x*y", &["--source", "x"][..], "cannot be used with"),
        ("x*y", &["--bc-left", "1"][..], "cannot be used with"),
    ] {
        for dry in [false, true] {
            let mut a = vec![
                "heat", "--nx", "8", "--ny", "8", "--exact", exact, "--output", "e.h5",
            ];
            a.extend_from_slice(more);
            if dry {
                a.push("--dry-run");
            }
            assert_refused(&dir, 2, &a, want);
        }
    }
    assert!(!dir.join("e.h5").exists());
}
