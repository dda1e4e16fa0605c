//! `parsim pairs --algorithm tree` end to end through real `mpirun`: the
//! same datasets, bit for bit, as the ring's, on 1 to 4 ranks, for
//! uniform, clustered, duplicate-heavy and degenerate points in 1, 2, 3
//! and 8 dimensions; `auto`'s choice in the report.

mod common;

use common::pairsets::points_csv;
use common::*;

#[test]
fn the_tree_writes_the_rings_datasets_on_1_to_4_ranks() {
    let dir = scratch("pairs_tree");
    for dim in [1, 2, 3, 8] {
        for kind in ["uniform", "blobs", "duplicates", "line"] {
            let pts = points_csv(&dir, kind, 700, dim);
            let ring = format!("{kind}_{dim}_ring.h5");
            let args = ["pairs", "--points", &pts, "--bins", "0", "--quiet"];
            let run = |p: usize, algorithm: &str, out: &str| {
                let mut a = args.to_vec();
                a.extend(["--algorithm", algorithm, "--output", out]);
                let r = run_json(&dir, p, &a);
                assert_eq!(r["passed"], true, "{kind} {dim}-D P={p} {algorithm}: {r}");
                assert_eq!(r["algorithm"], algorithm, "{r}");
                r
            };
            let want = run(2, "ring", &ring);
            for p in 1..=4 {
                let out = format!("{kind}_{dim}_tree{p}.h5");
                let got = run(p, "tree", &out);
                assert!(
                    same_datasets(&dir.join(&ring), &dir.join(&out), "pairs"),
                    "{kind} {dim}-D: the tree on {p} ranks differs from the ring"
                );
                assert_eq!(got["closest"], want["closest"]);
                assert_eq!(
                    got["mean_nearest_distance"].as_f64().unwrap().to_bits(),
                    want["mean_nearest_distance"].as_f64().unwrap().to_bits()
                );
            }
        }
    }
}

#[test]
fn auto_takes_the_tree_for_neighbours_of_many_low_dimension_points() {
    let dir = scratch("pairs_tree_auto");
    let algorithm = |extra: &[&str]| {
        let mut a = vec!["pairs", "--no-output", "--quiet"];
        a.extend_from_slice(extra);
        run_json(&dir, 2, &a)["algorithm"].clone()
    };
    assert_eq!(algorithm(&["--n", "5000", "--bins", "0"]), "tree");
    // The histogram (on by default) needs every pair; so do few points
    // and many dimensions.
    assert_eq!(algorithm(&["--n", "5000"]), "ring");
    assert_eq!(algorithm(&["--n", "999", "--bins", "0"]), "ring");
    assert_eq!(
        algorithm(&["--n", "5000", "--dim", "8", "--bins", "0"]),
        "ring"
    );
    assert_eq!(
        algorithm(&["--n", "40000", "--dim", "8", "--bins", "0"]),
        "tree"
    );
    assert_eq!(
        algorithm(&["--n", "40000", "--dim", "9", "--bins", "0"]),
        "ring"
    );
    // And the dry run says which.
    let out = mpirun(
        &dir,
        2,
        &["pairs", "--n", "5000", "--bins", "0", "--dry-run"],
    );
    assert_success(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("algorithm tree"),
        "{}",
        show(&out)
    );
}
