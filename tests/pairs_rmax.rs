//! `parsim pairs --rmax R` end to end through real `mpirun`: the histogram
//! of the pairs closer than R counted over the grid of cells (tree, on 1
//! to 4 ranks) has the counts of the ring meeting every pair with the same
//! binning, bit for bit, for uniform, clustered, duplicate-heavy and
//! all-on-a-line points in 1, 2, 3 and 8 dimensions; what runs is said;
//! bad options are refused in one line.

mod common;

use common::pairsets::points_csv;
use common::*;

/// R and bins for each set: ties at bin edges and at R itself where the
/// points sit on a lattice (duplicates: distances 0, 1, sqrt 2, ...; the
/// line: multiples of 0.125 x |(1, 2, ...)|).
fn range(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "uniform" => ("0.3", "7"),
        "blobs" => ("0.08", "5"),
        "duplicates" => ("2", "8"),
        _ => ("1", "4"),
    }
}

#[test]
fn the_cells_count_what_the_ring_counts_on_1_to_4_ranks() {
    let dir = scratch("pairs_rmax");
    for dim in [1, 2, 3, 8] {
        for kind in ["uniform", "blobs", "duplicates", "line"] {
            let pts = points_csv(&dir, kind, 700, dim);
            let (rmax, bins) = range(kind);
            let args = ["pairs", "--points", &pts, "--rmax", rmax, "--bins", bins];
            let run = |p: usize, algorithm: &str, out: &str| {
                let mut a = args.to_vec();
                a.extend(["--quiet", "--algorithm", algorithm, "--output", out]);
                let r = run_json(&dir, p, &a);
                assert_eq!(r["passed"], true, "{kind} {dim}-D P={p} {algorithm}: {r}");
                assert_eq!(r["algorithm"], algorithm, "{r}");
                r
            };
            let ring = format!("{kind}_{dim}_ring.h5");
            let want = run(2, "ring", &ring);
            assert!(want["histogram_total"].as_u64().unwrap() > 0, "{want}");
            for p in 1..=4 {
                let out = format!("{kind}_{dim}_cells{p}.h5");
                let got = run(p, "tree", &out);
                assert!(
                    same_datasets(&dir.join(&ring), &dir.join(&out), "pairs"),
                    "{kind} {dim}-D: the cells on {p} ranks differ from the ring"
                );
                for key in ["histogram_total", "histogram_beyond"] {
                    assert_eq!(got[key], want[key], "{kind} {dim}-D P={p} {key}");
                }
            }
        }
    }
}

#[test]
fn the_file_and_the_report_say_what_was_binned() {
    let dir = scratch("pairs_rmax_file");
    let a = [
        "pairs", "--n", "3000", "--dim", "3", "--rmax", "0.25", "--bins", "10",
    ];
    let mut json = a.to_vec();
    json.extend(["--output", "r.h5", "--json", "--quiet"]);
    let r = run_json(&dir, 2, &json);
    // auto: the cells; one bin wide enough to take whole cells in bulk.
    assert_eq!(r["algorithm"], "tree", "{r}");
    let (binned, beyond) = (
        r["histogram_total"].as_u64().unwrap(),
        r["histogram_beyond"].as_u64().unwrap(),
    );
    assert_eq!(binned + beyond, 3000 * 2999 / 2);
    let f = hdf5::File::open(dir.join("r.h5")).unwrap();
    let g = f.group("pairs").unwrap();
    let edges: Vec<f64> = g.dataset("bin_edges").unwrap().read_raw().unwrap();
    assert_eq!((edges.len(), edges[0], edges[10]), (11, 0.0, 0.25));
    let attr = |n: &str| g.attr(n).unwrap().read_scalar::<f64>().unwrap();
    assert_eq!(
        (attr("rmax"), attr("pairs_beyond_rmax")),
        (0.25, beyond as f64)
    );
    let counts: Vec<u64> = g.dataset("histogram").unwrap().read_raw().unwrap();
    assert_eq!(counts.iter().sum::<u64>(), binned);
    let out = mpirun(&dir, 2, &[&a[..], &["--dry-run"]].concat());
    assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("over [0, R = 2.5e-1] of the pairs closer than R, over a grid of cells"),
        "{text}"
    );
    let out = mpirun(
        &dir,
        2,
        &[&a[..], &["--algorithm", "ring", "--dry-run"]].concat(),
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("[0, R = 2.5e-1] (the pairs closer than R"),
        "{}",
        show(&out)
    );
}

#[test]
fn bad_rmax_options_are_refused_in_one_line() {
    let dir = scratch("pairs_rmax_refused");
    std::fs::write(dir.join("taken.h5"), b"keep").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--rmax", "0"],
            "--rmax 0: must be a positive finite distance",
        ),
        (
            &["--rmax", "-1"],
            "--rmax -1: must be a positive finite distance",
        ),
        (
            &["--rmax", "inf"],
            "--rmax inf: must be a positive finite distance",
        ),
        (
            &["--rmax", "NaN"],
            "--rmax NaN: must be a positive finite distance",
        ),
        (
            &["--rmax", "0.1", "--bins", "0"],
            "--rmax 0.1: bins the pairs closer than R: give --bins B > 0",
        ),
        (
            &["--rmax", "0.1", "--matrix"],
            "--matrix needs every pair: drop one",
        ),
        (
            &["--rmax", "1e-310", "--bins", "4"],
            "--rmax 1e-310: out of range for these points",
        ),
        (&["--rmax", "0.1", "--output", "taken.h5"], "taken.h5"),
    ];
    refuses_each(&dir, "pairs", cases);
}
