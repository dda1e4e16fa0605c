//! `parsim heat --init FILE.npy` and `--init FILE.h5:/dataset` (issue
//! 40): the same bits on any rank count, process grid, thread count and
//! time block; a result continued from its field is the same run; bad
//! files refused in one line, by the run and `--dry-run` alike.

mod common;

use std::path::Path;

use common::*;

const NX: usize = 37;
const NY: usize = 23;

/// A field with no symmetry: every cell its own value, in [-3, 9].
fn field() -> Vec<f64> {
    (0..NY * NX)
        .map(|k| {
            let (j, i) = ((k / NX) as f64, (k % NX) as f64);
            3.0 + 6.0 * (0.37 * i + 0.11 * j * j).sin() * (0.05 * i * j).cos()
        })
        .collect()
}

/// The inputs: f64 and f32 as .npy and as HDF5 datasets.
fn write_inputs(dir: &Path) {
    field_inputs(dir, &field(), &[NY, NX]);
}

const WALLS: [&str; 8] = [
    "--bc-left",
    "1",
    "--bc-right",
    "-2",
    "--bc-bottom",
    "0.5",
    "--bc-top",
    "4",
];

/// heat from `init` for `steps` steps on `ranks` with `extra` options,
/// into `out`.
fn run_from(dir: &Path, ranks: usize, init: &str, out: &str, extra: &[&str]) -> String {
    let mut a = vec!["heat", "--init", init, "--steps", "40", "--output", out];
    a.extend(WALLS);
    a.extend(extra);
    run_ok(dir, ranks, &a)
}

fn field_of(dir: &Path, out: &str) -> ndarray::Array2<f64> {
    read_field(&dir.join(out), "heat/temperature")
}

fn same_bits(a: &ndarray::Array2<f64>, b: &ndarray::Array2<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn a_field_from_a_file_gives_the_same_bits_on_any_ranks() {
    let dir = scratch("heat_init_ranks");
    write_inputs(&dir);
    let setups: [(usize, &[&str]); 5] = [
        (1, &[]),
        (2, &["--time-block", "4"]),
        (3, &["--proc-grid", "3x1", "--threads", "2"]),
        (4, &["--proc-grid", "2x2", "--time-block", "3"]),
        (4, &["--proc-grid", "1x4", "--overlap", "off"]),
    ];
    for (name, inits) in [
        ("f64", ["f64.npy", "in.h5:/f64"]),
        ("f32", ["f32.npy", "in.h5:/deep/f32"]),
    ] {
        let first = format!("{name}-ref.h5");
        let text = run_from(&dir, 1, inits[0], &first, &[]);
        assert!(text.contains("Initial field    : '"), "{text}");
        let want = field_of(&dir, &first);
        assert_eq!(want.shape(), [NY, NX]);
        let sum = heat_attr(&dir.join(&first), "init_checksum");
        for init in inits {
            for (k, (ranks, extra)) in setups.iter().enumerate() {
                let out = format!("{name}-{k}-{}.h5", init.replace([':', '/'], "_"));
                run_from(&dir, *ranks, init, &out, extra);
                assert!(
                    same_bits(&field_of(&dir, &out), &want),
                    "{init} on {ranks} ranks {extra:?} differs"
                );
                assert_eq!(heat_attr(&dir.join(&out), "init_checksum"), sum, "{init}");
            }
        }
    }
}

#[test]
fn a_result_continued_from_its_field_is_the_same_run() {
    let dir = scratch("heat_init_continue");
    let base = ["heat", "--nx", "41", "--ny", "29"];
    let steps = |n: &'static str, out: &'static str| {
        let mut a = base.to_vec();
        a.extend(["--steps", n, "--output", out]);
        a
    };
    run_ok(&dir, 2, &steps("70", "full.h5"));
    run_ok(&dir, 3, &steps("30", "r.h5"));
    // The disk's walls, given again: a field's walls default to 0.
    let disk_walls = [
        "--bc-left",
        "20",
        "--bc-right",
        "70",
        "--bc-bottom",
        "5",
        "--bc-top",
        "85",
    ];
    for (ranks, init, extra) in [
        (4, "r.h5:/heat/temperature", &["--proc-grid", "2x2"][..]),
        (1, "r.h5", &["--time-block", "5"][..]),
    ] {
        let mut a = vec![
            "heat", "--init", init, "--steps", "40", "--output", "c.h5", "--force",
        ];
        a.extend(disk_walls);
        a.extend(extra);
        run_ok(&dir, ranks, &a);
        assert!(
            same_bits(&field_of(&dir, "c.h5"), &field_of(&dir, "full.h5")),
            "{init}: 30 + 40 steps differ from 70"
        );
    }
}

/// The one `parsim:` line of a refusal's stderr.
fn parsim_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("parsim:"))
        .unwrap_or("")
}

#[test]
fn bad_init_files_are_refused_by_the_run_and_the_dry_run() {
    let dir = scratch("heat_init_bad");
    write_inputs(&dir);
    let v = field();
    let shape = format!("({NY}, {NX})");
    npy(
        &dir.join("short.npy"),
        "<f8",
        &shape,
        &f64_le(&v[..v.len() - 3]),
    );
    npy(&dir.join("int.npy"), "<i8", &shape, &f64_le(&v));
    npy(
        &dir.join("cube.npy"),
        "<f8",
        &format!("(1, {NY}, {NX})"),
        &f64_le(&v),
    );
    let mut bad = v.clone();
    bad[5 * NX + 7] = f64::NAN;
    npy(&dir.join("nan.npy"), "<f8", &shape, &f64_le(&bad));
    bad[5 * NX + 7] = 1.0;
    bad[20 * NX + 2] = f64::NEG_INFINITY;
    npy(&dir.join("inf.npy"), "<f8", &shape, &f64_le(&bad));
    std::fs::write(dir.join("text.npy"), b"0 1 2\n").unwrap();
    let cases: [(&[&str], &str); 11] = [
        (
            &["--init", "missing.npy"],
            "--init 'missing.npy': cannot read it",
        ),
        (&["--init", "short.npy"], "--init 'short.npy': truncated"),
        (&["--init", "int.npy"], "dtype '<i8' is not f64 or f32"),
        (&["--init", "cube.npy"], "a 3-D array"),
        (&["--init", "text.npy"], "not a .npy file"),
        (
            &["--init", "nan.npy"],
            "the value at [5, 7] ([row, column]) is NaN",
        ),
        (
            &["--init", "inf.npy"],
            "the value at [20, 2] ([row, column]) is -inf",
        ),
        (
            &["--init", "f64.npy", "--nx", "36"],
            "is a field of shape [23, 37] ([ny, nx]), but --nx/--ny ask for [23, 36]",
        ),
        (
            &["--init", "in.h5:/nothing"],
            "--init 'in.h5:/nothing': no dataset /nothing",
        ),
        (&["--init", "in.h5"], "no dataset /heat/temperature"),
        (
            &["--init", "f64.npy", "--output", "f64.npy", "--force"],
            "--output 'f64.npy' is --init 'f64.npy' this run reads",
        ),
    ];
    for (args, expected) in cases {
        let mut run = vec!["heat"];
        run.extend_from_slice(args);
        if !args.contains(&"--output") {
            run.extend(["--output", "new.h5"]);
        }
        let said = assert_refused(&dir, 2, &run, expected);
        run.push("--dry-run");
        let dry = assert_refused(&dir, 2, &run, expected);
        assert_eq!(
            parsim_line(&dry),
            parsim_line(&said),
            "{args:?}: the dry run's line"
        );
        assert!(!dir.join("new.h5").exists(), "{args:?} wrote new.h5");
    }
    // A valid dry run shows the field it will read.
    let text = run_ok(&dir, 2, &["heat", "--init", "f32.npy", "--dry-run"]);
    assert!(text.contains("37 x 23 points"), "{text}");
    assert!(
        text.contains("initial field 'f32.npy': [23, 37] f32"),
        "{text}"
    );
}

/// `--init 'EXPR'`: cell (i, j) at x = (i + 1) dx, y = (j + 1) dy.
fn expr_field(i: usize, j: usize) -> f64 {
    let (x, y) = ((i + 1) as f64 * 0.01, (j + 1) as f64 * 0.01);
    x * y + 2.0 * x
}

#[test]
fn an_expression_field_is_the_same_on_any_ranks_and_at_the_cell_centres() {
    let dir = scratch("heat_init_expr");
    // The same values from a file: the expression is evaluated at the
    // cell centres, with the operations it says.
    let v: Vec<f64> = (0..NY * NX).map(|k| expr_field(k % NX, k / NX)).collect();
    npy(
        &dir.join("same.npy"),
        "<f8",
        &format!("({NY}, {NX})"),
        &f64_le(&v),
    );
    let grid = ["--nx", "37", "--ny", "23"];
    run_from(&dir, 2, "same.npy", "file.h5", &[]);
    let want = field_of(&dir, "file.h5");
    let setups: [(usize, &[&str]); 4] = [
        (1, &[]),
        (2, &["--time-block", "4", "--threads", "2"]),
        (3, &["--proc-grid", "1x3"]),
        (4, &["--proc-grid", "2x2", "--time-block", "3"]),
    ];
    for (k, (ranks, extra)) in setups.iter().enumerate() {
        let out = format!("e{k}.h5");
        let mut a = grid.to_vec();
        a.extend_from_slice(extra);
        run_from(&dir, *ranks, "x*y + 2*x", &out, &a);
        assert!(
            same_bits(&field_of(&dir, &out), &want),
            "{ranks} ranks {extra:?}"
        );
    }
    // A smooth bump, the same bits on 1 and 4 ranks.
    let bump = "exp(-((x-0.2)^2+(y-0.12)^2)/0.002)";
    run_from(&dir, 1, bump, "b1.h5", &grid);
    let mut a = grid.to_vec();
    a.extend(["--proc-grid", "4x1", "--time-block", "2"]);
    run_from(&dir, 4, bump, "b4.h5", &a);
    assert!(same_bits(
        &field_of(&dir, "b1.h5"),
        &field_of(&dir, "b4.h5")
    ));
}

#[test]
fn bad_expressions_are_refused_in_one_line() {
    let dir = scratch("heat_init_expr_bad");
    for (init, expected) in [
        ("sin(x", "--init 'sin(x': "),
        ("z+1", "--init 'z+1': unknown name 'z'"),
        ("gauss", "--init 'gauss': unknown name 'gauss'"),
    ] {
        let mut run = vec!["heat", "--nx", "20", "--ny", "10", "--init", init];
        run.extend(["--output", "new.h5"]);
        let said = assert_refused(&dir, 2, &run, expected);
        run.push("--dry-run");
        let dry = assert_refused(&dir, 2, &run, expected);
        assert_eq!(
            parsim_line(&dry),
            parsim_line(&said),
            "{init}: the dry run's line"
        );
    }
    // A value that is not finite: found by the ranks, said once.
    let run = [
        "heat",
        "--nx",
        "20",
        "--ny",
        "10",
        "--init",
        "log(x-0.1)",
        "--output",
        "new.h5",
    ];
    assert_refused(&dir, 3, &run, "--init 'log(x-0.1)': its value at [0, 0]");
    assert!(!dir.join("new.h5").exists());
}
