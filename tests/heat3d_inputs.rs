//! What a 3D heat run (`--nz`) reads and measures as 2D does, through real
//! `mpirun`: an initial field `[nz, ny, nx]` from a file (`.npy`, an HDF5
//! dataset, a 3D result), each rank reading its block, the same bits on
//! any rank count and process grid; bad fields refused in one line by the
//! run and `--dry-run` alike; `--refine K` with `--exact` and its observed
//! order of accuracy, 2 for the 7-point stencil.

mod common;

use std::path::Path;

use common::heat3d::{heat3d, result};
use common::*;

const NX: usize = 9;
const NY: usize = 7;
const NZ: usize = 6;

/// A field with no symmetry, cell (i, j, k) at index (k NY + j) NX + i.
fn field() -> Vec<f64> {
    (0..NZ * NY * NX)
        .map(|c| {
            let (k, j, i) = (c / (NY * NX), (c / NX) % NY, c % NX);
            let (x, y, z) = (i as f64, j as f64, k as f64);
            2.0 + 5.0 * (0.37 * x + 0.11 * y * y).sin() * (0.05 * x * z + 0.3 * y).cos()
        })
        .collect()
}

/// The inputs: f64 `.npy`, f32 (big-endian) `.npy` and both as datasets.
fn write_inputs(dir: &Path) {
    field_inputs(dir, &field(), &[NZ, NY, NX]);
}

/// Walls of every value, so the field meets them unevenly.
const WALLS: [&str; 12] = [
    "--bc-left",
    "1",
    "--bc-right",
    "-2",
    "--bc-bottom",
    "0.5",
    "--bc-top",
    "4",
    "--bc-front",
    "3",
    "--bc-back",
    "-1",
];

/// heat in 3D from `init`, 30 steps, on `p` ranks with `more`: its report.
fn from_file(dir: &Path, p: usize, init: &str, more: &[&str]) -> serde_json::Value {
    let nz = NZ.to_string();
    let mut a = vec!["--nz", &nz, "--init", init, "--steps", "30"];
    a.extend(WALLS);
    a.extend(more);
    heat3d(dir, p, &a)
}

#[test]
fn a_3d_field_from_a_file_gives_the_same_bits_on_any_ranks_and_grid() {
    let dir = scratch("heat3d_inputs_ranks");
    write_inputs(&dir);
    let base = from_file(&dir, 1, "f64.npy", &[]);
    assert_eq!(base["config"]["nx"], NX, "the grid is the file's: {base}");
    assert_eq!(base["init_file"]["shape"], serde_json::json!([NZ, NY, NX]));
    let runs: [(usize, &str, &[&str]); 4] = [
        (2, "in.h5:/f64", &["--proc-grid", "1x1x2"]),
        (3, "f64.npy", &["--proc-grid", "3x1x1", "--threads", "2"]),
        (
            4,
            "in.h5:/f64",
            &["--proc-grid", "2x2x1", "--overlap", "off"],
        ),
        (4, "f64.npy", &["--proc-grid", "1x2x2"]),
    ];
    for (p, init, more) in runs {
        let r = from_file(&dir, p, init, more);
        assert_eq!(r["checksum"], base["checksum"], "{init} on {p} {more:?}");
        assert_eq!(r["init_file"]["checksum"], base["init_file"]["checksum"]);
        if init == "f64.npy" {
            assert_eq!(result(&r), result(&base), "{p} {more:?}");
        }
    }
    // f32 (big-endian), widened exactly: the same bits from either file.
    let f32s = [
        from_file(&dir, 1, "f32.npy", &[]),
        from_file(&dir, 4, "in.h5:/deep/f32", &["--proc-grid", "2x1x2"]),
    ];
    assert_eq!(f32s[0]["checksum"], f32s[1]["checksum"]);
    assert_ne!(f32s[0]["checksum"], base["checksum"]);
    // At step 0 the field is the file's: the report's checksum is the one
    // rank 0 read from it.
    let zero = from_file(&dir, 2, "in.h5:/f64", &["--steps", "0"]);
    let read = zero["init_file"]["checksum"].as_u64().unwrap();
    assert_eq!(zero["checksum"], format!("{read:#018x}"), "{zero}");
}

#[test]
fn a_3d_result_continues_as_an_initial_field() {
    let dir = scratch("heat3d_inputs_result");
    // Disk's walls, given: a field from a file has walls of 0 by default.
    let walls = [
        "--bc-left",
        "20",
        "--bc-right",
        "70",
        "--bc-bottom",
        "5",
        "--bc-top",
        "85",
        "--bc-front",
        "35",
        "--bc-back",
        "50",
    ];
    let run = |p: usize, args: &[&str]| {
        let mut a = vec!["heat", "--nz", "7", "--quiet", "--json"];
        a.extend(walls);
        a.extend(args);
        run_json(&dir, p, &a)
    };
    let grid = ["--nx", "10", "--ny", "8"];
    let whole = run(
        2,
        &[&grid[..], &["--steps", "40", "--output", "whole.h5"]].concat(),
    );
    run(
        3,
        &[&grid[..], &["--steps", "20", "--output", "half.h5"]].concat(),
    );
    // 20 steps from the half-way result (its grid from the file, on
    // another process grid) are the 40 steps' bits.
    let rest = run(
        4,
        &["--init", "half.h5", "--steps", "20", "--output", "rest.h5"],
    );
    assert_eq!(rest["checksum"], whole["checksum"], "{rest}");
    assert!(same_field3(&dir.join("whole.h5"), &dir.join("rest.h5")));
    assert_eq!(rest["init_file"]["shape"], serde_json::json!([7, 8, 10]));
    let f = hdf5::File::open(dir.join("rest.h5")).unwrap();
    let attr = f.group("heat").unwrap().attr("init_file").unwrap();
    let name: hdf5::types::VarLenUnicode = attr.read_scalar().unwrap();
    assert_eq!(name.as_str(), "half.h5:/heat/temperature");
}

/// Whether two files' `/heat/temperature` `[nz, ny, nx]` are the same bits.
fn same_field3(a: &Path, b: &Path) -> bool {
    let read = |p: &Path| -> ndarray::Array3<f64> {
        let f = hdf5::File::open(p).unwrap();
        f.dataset("heat/temperature").unwrap().read().unwrap()
    };
    let (a, b) = (read(a), read(b));
    a.shape() == b.shape() && a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn fields_of_the_wrong_dimension_shape_or_values_are_refused_by_the_run_and_dry_run() {
    let dir = scratch("heat3d_inputs_bad");
    write_inputs(&dir);
    let mut v = field();
    v[(2 * NY + 3) * NX + 4] = f64::NAN;
    let shape = format!("({NZ}, {NY}, {NX})");
    npy(&dir.join("nan.npy"), "<f8", &shape, &f64_le(&v));
    npy(
        &dir.join("flat.npy"),
        "<f8",
        &format!("({}, {NX})", NZ * NY),
        &f64_le(&field()),
    );
    let nz = NZ.to_string();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--nz", &nz, "--init", "flat.npy"],
            "--init 'flat.npy': a 2-D array [42, 9]: the field must be 3-D [nz, ny, nx]",
        ),
        (
            &["--nz", "5", "--nx", "8", "--init", "in.h5:/f64"],
            "is a field of shape [6, 7, 9] ([nz, ny, nx]), but --nx/--ny/--nz ask for [5, 7, 8]",
        ),
        (
            &["--nz", &nz, "--init", "nan.npy"],
            "--init 'nan.npy': the value at [2, 3, 4] ([z, y, x] indices) is NaN",
        ),
        (
            &["--init", "f64.npy"],
            "--init 'f64.npy': a 3-D array [6, 7, 9]: the field must be 2-D [ny, nx] in a 2D run; \
             give --nz 6",
        ),
        (
            &[
                "--nz", &nz, "--init", "f64.npy", "--output", "f64.npy", "--force",
            ],
            "--output 'f64.npy' is --init 'f64.npy' this run reads",
        ),
    ];
    // A refused mpirun takes seconds (its abort): the run itself only for
    // the first three, whose refusals are new in 3D; the dry run for all.
    for (n, (args, expected)) in cases.into_iter().enumerate() {
        let mut run = vec!["heat"];
        run.extend_from_slice(args);
        if !args.contains(&"--output") {
            run.extend(["--output", "new.h5"]);
        }
        if n < 3 {
            assert_refused(&dir, 2, &run, expected);
        }
        run.push("--dry-run");
        assert_refused(&dir, 2, &run, expected);
        assert!(!dir.join("new.h5").exists(), "{args:?} wrote new.h5");
    }
    // A valid dry run shows the field it will read.
    let text = run_ok(
        &dir,
        2,
        &["heat", "--nz", &nz, "--init", "f32.npy", "--dry-run"],
    );
    assert!(text.contains("3D, 9 x 7 x 6 points"), "{text}");
    assert!(
        text.contains("initial field 'f32.npy': [6, 7, 9] f32"),
        "{text}"
    );
}

const EXACT: &str = "exp(-t)*sin(pi*x)*cos(2*pi*y)*cos(pi*z) + x^2*y*z + 0.5*t*z^3 - x*y";

#[test]
fn refine_in_3d_runs_the_grids_and_reports_order_two() {
    let dir = scratch("heat3d_inputs_refine");
    let base = [
        "heat", "--nx", "15", "--ny", "15", "--nz", "15", "--dx", "0.0625", "--dy", "0.0625",
        "--dz", "0.0625", "--steps", "16", "--exact", EXACT, "--refine", "2", "--output", "r.h5",
    ];
    let text = run_ok(&dir, 2, &base);
    let line = text
        .lines()
        .find(|l| l.starts_with("Refinement"))
        .unwrap_or_default();
    assert!(
        line.contains("2 grids") && line.ends_with("7-point stencil's): OK"),
        "{text}"
    );
    // Only the finest grid writes the result file.
    let f = hdf5::File::open(dir.join("r.h5")).unwrap();
    assert_eq!(f.dataset("heat/temperature").unwrap().shape(), [31, 31, 31]);
    let mut json = base.to_vec();
    json.extend(["--json", "--force", "--proc-grid", "1x1x3"]);
    let out = run_ok(&dir, 3, &json);
    let doc: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let grids = doc["grids"].as_array().unwrap();
    let n: Vec<_> = grids.iter().map(|g| g["config"]["nz"].as_u64()).collect();
    assert_eq!(n, [Some(15), Some(31)], "{out}");
    assert_eq!(grids[1]["config"]["steps"], 64, "{out}");
    let r = &doc["refine"];
    assert_eq!(r["second_order"], true, "{out}");
    for o in r["max_abs_order"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r["l2_order"].as_array().unwrap())
    {
        assert!((o.as_f64().unwrap() - 2.0).abs() <= 0.1, "{r}");
    }
    // As in 2D, --refine needs --exact.
    let bare = ["heat", "--nz", "4", "--refine", "2", "--output", "new.h5"];
    assert_refused(&dir, 1, &bare, "--refine needs --exact");
    // Every grid would claim one checkpoint: refused before any grid runs
    // (2D alike), and no checkpoint left behind.
    for (extra, exact) in [
        (&["--nz", "4", "--checkpoint-every", "5"][..], EXACT),
        (&["--checkpoint-every", "5"][..], "exp(-t)*sin(pi*x)*y"),
    ] {
        let mut args = vec![
            "heat", "--exact", exact, "--refine", "2", "--output", "ck.h5",
        ];
        args.extend_from_slice(extra);
        assert_refused(&dir, 2, &args, "--refine runs one grid after another");
        assert!(!dir.join("ck.ckpt.h5").exists(), "{args:?}");
    }
}
