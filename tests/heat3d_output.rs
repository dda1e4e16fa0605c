//! End-to-end tests of the 3D heat result file through real `mpirun`:
//! the field `[nz, ny, nx]` and its snapshots the same bits on every rank
//! count and process grid (`scripts/h5same.py --across-ranks`),
//! gathered or written in parallel, the layout (z, y, x
//! coordinates with units, attributes, the stored report) as h5py and
//! xarray see it, the XDMF sidecar as ParaView's readers open it (a
//! volume), the dry run's output lines and what 3D still refuses.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A small uneven problem (blocks differ on every grid) with snapshots.
const CASE: [&str; 10] = [
    "heat", "--nx", "13", "--ny", "11", "--nz", "9", "--steps", "40", "--quiet",
];

/// Run `args` (CASE with more) on `p` ranks in `dir/sub`, writing
/// `heat.h5` there: its path (every run's file has the same name, so the
/// stored reports name the same output).
fn run_in(dir: &Path, sub: &str, p: usize, args: &[&str]) -> PathBuf {
    let at = dir.join(sub);
    std::fs::create_dir_all(&at).unwrap();
    let mut all = CASE.to_vec();
    all.extend_from_slice(args);
    all.extend(["--output", "heat.h5"]);
    run_ok(&at, p, &all);
    at.join("heat.h5")
}

/// `scripts/h5same.py --across-ranks A B`: every dataset, attribute and
/// report value the same bits, except what describes the ranks. `false`
/// (with the differences on stderr) when not; `true` when skipped (no
/// h5py).
fn same_across_ranks(a: &Path, b: &Path) -> bool {
    let Some(py) = python_with("h5py, numpy") else {
        return true;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/h5same.py");
    let out = Command::new(py)
        .args([script, "--across-ranks"])
        .args([a, b])
        .output()
        .unwrap();
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    out.status.success()
}

#[test]
fn datasets_are_the_same_bits_on_every_rank_count_and_process_grid() {
    let dir = scratch("heat3d_output_grids");
    let snap = ["--snapshot-every", "10"];
    let base = run_in(&dir, "p1", 1, &snap);
    let mut runs: Vec<(usize, Vec<&str>)> = vec![(2, vec![]), (3, vec![])];
    for g in ["4x1x1", "1x4x1", "1x1x4", "2x2x1", "2x1x2", "1x2x2"] {
        runs.push((4, vec!["--proc-grid", g]));
    }
    for (k, (p, extra)) in runs.into_iter().enumerate() {
        let mut args = snap.to_vec();
        args.extend(&extra);
        let file = run_in(&dir, &format!("run{k}"), p, &args);
        assert!(same_across_ranks(&base, &file), "P={p} {extra:?}");
    }
    // A changed cell is seen: the comparison can fail.
    let other = run_in(
        &dir,
        "other",
        2,
        &["--snapshot-every", "10", "--bc-back", "51"],
    );
    assert!(
        !same_across_ranks(&base, &other),
        "a different run compared equal"
    );
}

/// Planes wider than a gather strip (1 Mi values) travel as rows of one
/// plane; several planes of a narrow block as one strip: the same bits
/// either way.
#[test]
fn wide_planes_travel_in_row_strips_with_the_same_bits() {
    let dir = scratch("heat3d_output_strips");
    let args = [
        "heat", "--nx", "1100", "--ny", "1000", "--nz", "3", "--steps", "2", "--quiet", "--output",
        "heat.h5",
    ];
    let mut files = Vec::new();
    for (p, grid) in [(1, "1x1x1"), (2, "1x2x1"), (3, "1x1x3")] {
        let at = dir.join(grid);
        std::fs::create_dir_all(&at).unwrap();
        let mut a = args.to_vec();
        a.extend(["--proc-grid", grid]);
        run_ok(&at, p, &a);
        files.push(at.join("heat.h5"));
    }
    for f in &files[1..] {
        assert!(same_across_ranks(&files[0], f), "{}", f.display());
    }
}

/// The file as h5py and xarray see it: shapes, coordinates, units, the
/// dimensions (z, y, x), the attributes of the problem, the snapshots'
/// steps and times, the report and checksums stored.
const CHECK_LAYOUT: &str = r#"
import json, sys, h5py, numpy as np, xarray as xr
path = sys.argv[1]
with h5py.File(path, "r") as f:
    g = f["heat"]
    assert g["temperature"].shape == (9, 11, 13), g["temperature"].shape
    assert g["snapshots"].shape == (5, 9, 11, 13), g["snapshots"].shape
    assert list(g["snapshot_step"][:]) == [0, 10, 20, 30, 40]
    assert np.array_equal(g["snapshots"][4], g["temperature"][...])
    for name, n in [("x", 13), ("y", 11), ("z", 9)]:
        c = g[name]
        assert c.shape == (n,) and c.attrs["units"] == "m", name
        assert np.allclose(c[:], 0.01 * np.arange(1, n + 1)), name
    for key, want in [("nx", 13), ("ny", 11), ("nz", 9), ("steps", 40), ("step", 40)]:
        assert int(g.attrs[key]) == want, key
    assert float(g.attrs["bc_front"]) == 35.0 and float(g.attrs["bc_back"]) == 50.0
    assert list(g.attrs["proc_grid"]) == [1, 1, 2], g.attrs["proc_grid"]
    assert g["temperature"].attrs["units"] == "degC"
    report = json.loads(f.attrs["report"])
    assert report["dimensions"] == 3 and report["output"] == "heat.h5", report
    assert int(report["checksum"], 16) == int(g.attrs["checksum"]), report["checksum"]
    assert report["snapshots"] == 5
ds = xr.open_dataset(path, engine="h5netcdf", group="heat", phony_dims="sort")
assert ds["temperature"].dims == ("z", "y", "x"), ds["temperature"].dims
assert ds["snapshots"].dims == ("snapshot_time", "z", "y", "x"), ds["snapshots"].dims
mid = ds["temperature"].sel(z=0.05, method="nearest")
assert mid.dims == ("y", "x") and mid.shape == (11, 13)
views = xr.open_dataset(path, engine="h5netcdf", group="heat/snapshot_views", phony_dims="sort")
assert views["000001"].dims == ("z", "y", "x")
with h5py.File(path, "r") as f:
    assert np.array_equal(views["000002"].values, f["heat/snapshots"][2])
print("ok")
"#;

#[test]
fn the_file_opens_with_dimensions_z_y_x_and_paraview_reads_a_volume() {
    let dir = scratch("heat3d_output_layout");
    let file = run_in(&dir, "p2", 2, &["--snapshot-every", "10"]);
    assert!(file.with_extension("xmf").exists(), "no sidecar");
    let ok = run_python_with(
        "xarray, h5netcdf, numpy",
        CHECK_LAYOUT,
        &[file.to_str().unwrap()],
    );
    if let Some(ok) = ok {
        assert_eq!(ok.trim(), "ok");
    }
    // scripts/plot.py draws the middle plane along z, and the snapshots'.
    if let Some(py) = python_with("h5py, matplotlib") {
        let plot = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/plot.py");
        let out = Command::new(py).arg(plot).arg(&file).output().unwrap();
        assert!(out.status.success(), "plot.py: {}", show(&out));
        for png in ["heat-heat.png", "heat-snapshots.png"] {
            assert!(file.with_file_name(png).exists(), "no {png}");
        }
    }
    let pv = paraview_reads(&file);
    eprintln!("paraview read {}: {pv:?}", file.display());
    if let Some(line) = pv {
        // Four snapshot steps and the final field.
        assert!(line.starts_with("5 "), "{line}");
    }
}

#[test]
fn compressed_files_hold_the_same_field() {
    let dir = scratch("heat3d_output_compress");
    let plain = run_in(&dir, "plain", 2, &["--snapshot-every", "20"]);
    let packed = run_in(
        &dir,
        "packed",
        3,
        &["--snapshot-every", "20", "--compress", "4"],
    );
    assert!(same_datasets(&plain, &packed, "heat"));
    let f = hdf5::File::open(&packed).unwrap();
    let ds = f.dataset("heat/temperature").unwrap();
    assert!(
        ds.is_chunked() && !ds.filters().is_empty(),
        "not compressed"
    );
}

#[cfg(feature = "parallel-io")]
#[test]
fn parallel_and_gather_files_hold_identical_datasets() {
    let dir = scratch("heat3d_output_pario");
    for (p, grid) in [(1, "1x1x1"), (2, "2x1x1"), (3, "1x3x1"), (4, "2x1x2")] {
        for extra in [&[][..], &["--compress", "3"][..]] {
            let mut files = Vec::new();
            for io in ["gather", "parallel"] {
                let mut args = vec!["--snapshot-every", "10", "--proc-grid", grid, "--io", io];
                args.extend(extra);
                let sub = format!("{io}-{grid}-{}", extra.len());
                files.push(run_in(&dir, &sub, p, &args));
            }
            assert!(same_across_ranks(&files[0], &files[1]), "{grid} {extra:?}");
        }
    }
}

#[test]
fn dry_run_names_the_output_and_3d_refuses_what_it_lacks() {
    let dir = scratch("heat3d_output_dry");
    let mut args = CASE.to_vec();
    args.extend(["--dry-run", "--output", "v.h5", "--snapshot-every", "5"]);
    let deck = run_ok(&dir, 2, &args);
    assert!(deck.contains("output = \"v.h5\""), "{deck}");
    assert!(deck.contains("snapshot_every = 5"), "{deck}");
    assert!(deck.contains("the output file"), "{deck}");
    assert!(!deck.contains("not yet available"), "{deck}");
    assert!(
        listing(&dir).is_empty(),
        "a dry run wrote {:?}",
        listing(&dir)
    );
    std::fs::write(dir.join("taken.h5"), "x").unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--nz", "4", "--compress", "12"],
            "--compress takes a deflate level from 1 to 9",
        ),
        (&["--nz", "4", "--output", "taken.h5"], "taken.h5"),
        (
            &["--nz", "4", "--time-block", "5"],
            "--time-block 5 needs every block at least 5 cells along each axis",
        ),
    ];
    refuses_each(&dir, "heat", &cases);
    // A 2D run does not take a 3D result for its restart or initial field.
    let file = run_in(&dir, "made", 1, &[]);
    let file = file.to_str().unwrap();
    for (args, said) in [
        (
            ["--restart", file],
            "is a 3D checkpoint (nz = 9) but the run is 2D: give --nz 9 to continue it in 3D",
        ),
        (
            ["--init", file],
            "a 3-D dataset [9, 11, 13]: the field must be 2-D",
        ),
    ] {
        let mut a = vec!["heat"];
        a.extend(args);
        a.extend(["--output", "new.h5"]);
        assert_refused(&dir, 1, &a, said);
    }
    // --no-output: no file, and no snapshots asked of one.
    let mut args = CASE.to_vec();
    args.extend(["--no-output", "--snapshot-every", "10"]);
    let at = dir.join("none");
    std::fs::create_dir_all(&at).unwrap();
    run_ok(&at, 2, &args);
    assert!(listing(&at).is_empty(), "{:?}", listing(&at));
}
