//! End-to-end tests of `parsim heat` through real `mpirun`: exactness,
//! bitwise reproducibility across rank counts and process grids, the HDF5
//! layout, the convergence order, and the refusal of bad input.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn f(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn sine_matches_exact_discrete_solution_on_1_to_4_ranks() {
    let dir = scratch("sine_exact");
    for p in 1..=4 {
        let r = run_json(
            &dir,
            p,
            &[
                "heat",
                "--init",
                "sine",
                "--nx",
                "41",
                "--ny",
                "29",
                "--steps",
                "300",
                "--no-output",
            ],
        );
        let v = &r["validation"];
        assert_eq!(v["kind"], "exact", "{r}");
        let err = f(v, "max_rel_error");
        assert!(err <= 1e-12, "P={p}: relative error {err:e} > 1e-12");
        assert_eq!(v["passed"], true);
        assert_eq!(r["ranks"], p);
        assert!(f(&r, "mlups") > 0.0);
        for phase in ["stencil", "halo", "io"] {
            let s = &r["phases"][phase];
            assert!(
                f(s, "min") <= f(s, "avg") && f(s, "avg") <= f(s, "max"),
                "{s}"
            );
        }
    }
}

/// The gathered field of every run (ranks, extra options) equals, bit for
/// bit, the plain 1-rank field.
fn assert_bitwise_identical(
    tag: &str,
    grid: (usize, usize),
    steps: u64,
    runs: &[(usize, &[&str])],
) {
    let dir = scratch(tag);
    let (nx, ny, steps) = (grid.0.to_string(), grid.1.to_string(), steps.to_string());
    let run = |p: usize, extra: &[&str], out: &str| {
        let mut args = vec![
            "heat", "--nx", &nx, "--ny", &ny, "--steps", &steps, "--output", out,
        ];
        args.extend(extra);
        run_ok(&dir, p, &args);
        read_field(&dir.join(out), "/heat/temperature")
    };
    let reference = run(1, &["--overlap", "off"], "p1.h5");
    assert_eq!(reference.dim(), (grid.1, grid.0));
    for (k, &(p, extra)) in runs.iter().enumerate() {
        let out = format!("run{k}-p{p}.h5");
        let field = run(p, extra, &out);
        let same = field
            .iter()
            .zip(reference.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(
            same,
            "P={p} {extra:?}: field differs from the plain 1-rank run"
        );
    }
}

#[test]
fn field_is_bitwise_identical_for_any_rank_count_and_grid() {
    assert_bitwise_identical(
        "bitwise_37x23",
        (37, 23),
        60,
        &[
            (1, &[]),
            (2, &[]),
            (3, &[]),
            (4, &[]),
            (6, &[]),
            (4, &["--proc-grid", "1x4"]),
            (4, &["--proc-grid", "4x1"]),
            (4, &["--proc-grid", "2x2"]),
            (6, &["--proc-grid", "3x2"]),
            (4, &["--proc-grid", "2x2", "--overlap", "off"]),
        ],
    );
}

/// Time blocking (deep halos with corners), threads and overlap change how
/// the work is cut, never the bits.
#[test]
fn tuning_options_keep_the_field_bitwise_identical() {
    assert_bitwise_identical(
        "bitwise_tuning",
        (41, 29),
        61,
        &[
            (1, &["--time-block", "4"]),
            (1, &["--threads", "3"]),
            (1, &["--threads", "2", "--time-block", "5"]),
            (2, &["--time-block", "3"]),
            (4, &["--proc-grid", "2x2", "--time-block", "4"]),
            (
                6,
                &[
                    "--proc-grid",
                    "3x2",
                    "--time-block",
                    "2",
                    "--check-every",
                    "7",
                ],
            ),
            (
                4,
                &["--proc-grid", "4x1", "--time-block", "9", "--threads", "2"],
            ),
            (3, &["--proc-grid", "1x3", "--threads", "2"]),
            (2, &["--threads", "2", "--overlap", "off"]),
        ],
    );
}

#[test]
fn uneven_split_257x131_on_5_ranks() {
    assert_bitwise_identical(
        "bitwise_257x131",
        (257, 131),
        20,
        &[
            (5, &[]),
            (5, &["--proc-grid", "5x1"]),
            (
                5,
                &["--proc-grid", "5x1", "--time-block", "6", "--threads", "2"],
            ),
        ],
    );
}

#[test]
fn hdf5_layout_and_attributes_read_back() {
    let dir = scratch("layout");
    let out = run_ok(
        &dir,
        3,
        &[
            "heat",
            "--nx",
            "30",
            "--ny",
            "20",
            "--steps",
            "1",
            "--bc-left",
            "-1.5",
            "--output",
            "r.h5",
        ],
    );
    assert!(out.contains("Output           : r.h5"), "{out}");
    let path = dir.join("r.h5");
    let file = hdf5::File::open(&path).unwrap();
    let heat = file.group("heat").unwrap();
    let num = |name: &str| heat.attr(name).unwrap().read_scalar::<f64>().unwrap();
    let int = |name: &str| heat.attr(name).unwrap().read_scalar::<u64>().unwrap();
    let text = |loc: &hdf5::Location, name: &str| {
        loc.attr(name)
            .unwrap()
            .read_scalar::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        (int("nx"), int("ny"), int("steps"), int("ranks")),
        (30, 20, 1, 3)
    );
    assert_eq!((num("dx"), num("dy"), num("alpha")), (0.01, 0.01, 0.5));
    assert_eq!(num("dt"), 0.0001 * 0.0001 / (2.0 * 0.5 * 0.0002));
    // Times are labelled to 15 digits (1 * dt = 4.9999999999999996e-05).
    assert_eq!(num("time"), 5e-5);
    assert_eq!(
        (
            num("bc_left"),
            num("bc_right"),
            num("bc_bottom"),
            num("bc_top")
        ),
        (-1.5, 70.0, 5.0, 85.0)
    );
    assert_eq!(text(&heat, "init"), "disk");
    let grid = heat.attr("proc_grid").unwrap().read_1d::<u64>().unwrap();
    assert_eq!(grid.to_vec(), vec![1, 3]);
    assert_eq!(text(&file, "parsim_version"), env!("CARGO_PKG_VERSION"));
    assert!(text(&file, "command_line").contains("--bc-left -1.5"));
    assert!(text(&file, "start_time").ends_with('Z'));

    // Orientation: row 0 is the bottom. After one step a cell next to the
    // bottom wall (5) and away from the disk and the side walls is
    // 65 + cy (5 - 130 + 65) = 50; next to the top wall (85) it is 70.
    let t = read_field(&path, "/heat/temperature");
    assert_eq!(t.dim(), (20, 30));
    // (cx = cy = 1/4 up to rounding of dt.)
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(t[[0, 3]], 50.0), "{}", t[[0, 3]]);
    assert!(close(t[[19, 3]], 70.0), "{}", t[[19, 3]]);
    // column 0 is next to the left wall (-1.5): 65 + cx (-1.5 - 130 + 65)
    assert!(close(t[[10, 0]], 48.375), "{}", t[[10, 0]]);

    // h5dump (the HDF5 command-line tools) reads it.
    let dump = Command::new("h5dump")
        .args(["-H", path.to_str().unwrap()])
        .output()
        .expect("h5dump not installed (hdf5-tools)");
    assert!(dump.status.success());
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.contains("DATASET \"temperature\"") && dump.contains("( 20, 30 )"),
        "{dump}"
    );

    check_with_h5py(&path);
}

/// h5py reads the file too (Python is how most users will open it).
fn check_with_h5py(path: &Path) {
    let script = r#"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    t = f["/heat/temperature"]
    assert t.shape == (20, 30) and t.dtype == "float64", (t.shape, t.dtype)
    assert abs(t[0, 3] - 50.0) < 1e-12 and abs(t[19, 3] - 70.0) < 1e-12
    assert int(f["/heat"].attrs["nx"]) == 30 and f["/heat"].attrs["init"] == "disk"
    assert list(f["/heat"].attrs["proc_grid"]) == [1, 3]
print("h5py ok")
"#;
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");
    for python in [venv, "python3", "/usr/bin/python3"] {
        let has = Command::new(python)
            .args(["-c", "import h5py"])
            .output()
            .is_ok_and(|o| o.status.success());
        if has {
            let out = Command::new(python)
                .args(["-c", script, path.to_str().unwrap()])
                .output()
                .unwrap();
            assert_success(&out);
            return;
        }
    }
    assert!(
        std::env::var("CI").is_err(),
        "h5py is not installed; scripts/setup.sh --python installs it in .venv"
    );
    skip("h5py check: no python3 with h5py on this machine");
}

#[test]
fn continuum_error_is_second_order_in_dx() {
    // Unit square: dx = 1/(n+1). At the stability limit dt = dx^2/2 (alpha
    // 1/2), so a fixed t = 0.05 needs 4x the steps when dx halves.
    let dir = scratch("order");
    let err = |n: usize, steps: u64| {
        let d = 1.0 / (n + 1) as f64;
        let r = run_json(
            &dir,
            2,
            &[
                "heat",
                "--init",
                "sine",
                "--nx",
                &n.to_string(),
                "--ny",
                &n.to_string(),
                "--dx",
                &d.to_string(),
                "--dy",
                &d.to_string(),
                "--steps",
                &steps.to_string(),
                "--no-output",
            ],
        );
        let t = f(&r, "sim_time");
        assert!((t - 0.05).abs() < 1e-12, "t = {t}");
        f(&r["validation"], "continuum_rel_error")
    };
    assert_falls_fourfold((err(19, 40), err(39, 160), err(79, 640)));
}

#[test]
fn disk_benchmark_reports_known_initial_average() {
    let dir = scratch("disk_avg");
    let r = run_json(&dir, 2, &["heat", "--steps", "2", "--no-output"]);
    let v = &r["validation"];
    assert_eq!(v["kind"], "maximum_principle");
    assert_eq!(format!("{:.6}", f(v, "initial_average")), "59.763305");
    assert_eq!(v["passed"], true);
    assert_eq!(r["config"]["nx"], 2000);
}

/// Every refusal: exit code 2, exactly one message (from rank 0), and the
/// directory unchanged.
#[test]
fn invalid_input_is_refused_once_and_writes_nothing() {
    let dir = scratch("invalid");
    std::fs::write(dir.join("exists.h5"), b"precious").unwrap();
    std::fs::create_dir(dir.join("adir")).unwrap();
    let base = ["heat"];
    let cases: Vec<(usize, Vec<&str>, &str)> =
        vec![
        (2, vec!["--nx", "0"], "--nx must be at least 1"),
        (2, vec!["--ny", "0"], "--ny must be at least 1"),
        (2, vec!["--nx", "-4"], "invalid value '-4' for '--nx"),
        (2, vec!["--dx", "0"], "--dx must be a finite number > 0"),
        (2, vec!["--dy", "-0.1"], "--dy must be a finite number > 0"),
        (
            2,
            vec!["--alpha", "nan"],
            "--alpha must be a finite number > 0",
        ),
        (
            2,
            vec!["--dt", "1"],
            "is unstable: the explicit scheme needs dt <= 0.0000499",
        ),
        (2, vec!["--dt", "0"], "--dt must be a finite number > 0"),
        (
            2,
            vec!["--steps", "1.5"],
            "invalid value '1.5' for '--steps",
        ),
        (
            2,
            vec!["--init", "gauss"],
            "--init 'gauss'",
        ),
        (
            2,
            vec!["--bc-top", "inf"],
            "--bc-top must be a finite number",
        ),
        (
            2,
            vec!["--proc-grid", "3x3"],
            "process grid 3x3 has 9 ranks but the job runs 2",
        ),
        (3, vec!["--proc-grid", "2x"], "is not of the form PXxPY"),
        (
            4,
            vec!["--proc-grid", "4x1", "--nx", "3"],
            "too small for process grid 4x1",
        ),
        (3, vec!["--nx", "1", "--ny", "2"], "too small for 3 ranks"),
        (1, vec!["--threads", "0"], "--threads must be at least 1"),
        (1, vec!["--time-block", "0"], "--time-block must be at least 1"),
        (
            2,
            vec!["--nx", "9", "--ny", "9", "--time-block", "5"],
            "--time-block 5 needs every block at least 5 cells wide and tall, but the smallest \
             block on process grid 1x2 is 9x4",
        ),
        (1, vec!["--overlap", "maybe"], "expected on or off, got 'maybe'"),
        (
            2,
            vec!["--output", "exists.h5"],
            "output 'exists.h5' exists; pass --force",
        ),
        (
            2,
            vec!["--output", "nodir/x.h5"],
            "directory 'nodir' does not exist",
        ),
        (2, vec!["--output", "adir"], "output 'adir' is a directory"),
        (
            2,
            vec!["--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
    ];
    let before = listing(&dir);
    for (ranks, extra, expected) in cases {
        let mut args = base.to_vec();
        args.extend(&extra);
        assert_refused(&dir, ranks, &args, expected);
        assert_eq!(listing(&dir), before, "{extra:?} left files behind");
    }
    assert_eq!(std::fs::read(dir.join("exists.h5")).unwrap(), b"precious");

    // --force replaces it, atomically, with a complete file.
    run_ok(
        &dir,
        2,
        &[
            "heat",
            "--nx",
            "8",
            "--ny",
            "8",
            "--steps",
            "2",
            "--output",
            "exists.h5",
            "--force",
        ],
    );
    assert_eq!(
        read_field(&dir.join("exists.h5"), "/heat/temperature").dim(),
        (8, 8)
    );
    // ... with its XDMF sidecar, and no temporary left behind.
    let mut expected = before.clone();
    expected.push("exists.xmf".to_string());
    expected.sort();
    assert_eq!(listing(&dir), expected, "temporary file left behind");
}

#[test]
fn help_and_version_print_once() {
    let dir = scratch("help");
    let out = run_ok(&dir, 3, &["heat", "--help"]);
    assert_eq!(out.matches("Usage: parsim heat").count(), 1, "{out}");
    assert!(out.contains("--proc-grid <PXxPY>"));
    let out = run_ok(&dir, 2, &["-V"]);
    assert_eq!(out.trim(), format!("parsim {}", env!("CARGO_PKG_VERSION")));
    // The long version: once, with what a bug report needs.
    let out = run_ok(&dir, 2, &["--version"]);
    let head = format!("parsim {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(out.starts_with(&head), "{out}");
    assert_eq!(out.matches("MPI library: ").count(), 1, "{out}");
    assert_eq!(out.matches("HDF5: ").count(), 1, "{out}");
}

/// The exact-solution check holds however far the mode has decayed: into
/// the subnormal range (64000 steps), to exact zero (70000), and when a
/// step cancels it exactly (a 1x1 grid at the stability limit).
#[test]
fn sine_validation_passes_correct_runs_down_to_subnormals_and_zero() {
    let dir = scratch("sine_subnormal");
    for (ranks, nx, steps) in [(2, "20", "64000"), (1, "20", "70000"), (1, "1", "1")] {
        let out = run_ok(
            &dir,
            ranks,
            &[
                "heat",
                "--init",
                "sine",
                "--nx",
                nx,
                "--ny",
                nx,
                "--steps",
                steps,
                "--no-output",
            ],
        );
        assert!(
            out.contains("exact discrete solution") && out.contains(": OK"),
            "{out}"
        );
    }
}

/// Walls near f64::MAX keep every value in bounds; the average must not
/// overflow into a failed validation.
#[test]
fn walls_near_the_largest_float_validate() {
    let dir = scratch("huge_walls");
    let small = [
        "heat",
        "--nx",
        "20",
        "--ny",
        "20",
        "--steps",
        "10",
        "--no-output",
    ];
    let walls = [
        "--bc-top",
        "1e308",
        "--bc-bottom",
        "-1e308",
        "--bc-left",
        "1e308",
        "--bc-right",
        "1e308",
    ];
    let r = run_json(&dir, 2, &[&small[..], &walls].concat());
    assert_eq!(r["validation"]["passed"], true, "{r}");
    // The text report keeps such numbers short (not 309 digits).
    let text = run_ok(&dir, 1, &[&small[..], &walls[..2]].concat());
    assert!(text.contains("top 1e308)"), "{text}");
    assert!(text.lines().all(|l| l.len() < 160), "{text}");
}
