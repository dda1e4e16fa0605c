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
            "invalid value 'gauss' for '--init",
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
            vec!["--output", "x.h5", "--no-output"],
            "cannot be used with",
        ),
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
    assert_eq!(listing(&dir), before, "temporary file left behind");
}

#[test]
fn help_and_version_print_once() {
    let dir = scratch("help");
    let out = run_ok(&dir, 3, &["heat", "--help"]);
    assert_eq!(out.matches("Usage: parsim heat").count(), 1, "{out}");
    assert!(out.contains("--proc-grid <PXxPY>"));
    let out = run_ok(&dir, 2, &["--version"]);
    assert_eq!(out.trim(), format!("parsim {}", env!("CARGO_PKG_VERSION")));
}
