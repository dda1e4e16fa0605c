//! Checkpoint and restart of 3D heat (`--nz`) through real `mpirun`: a
//! run interrupted by its checkpoint and continued on another rank count
//! or process grid ends with every dataset of its result (field,
//! snapshots, coordinates) the same bits as an uninterrupted run's, with
//! walls of every kind and a source as with the default problem; and what
//! a 3D restart refuses, in one line before any work, from a run and from
//! a `--dry-run` alike (2D's guarantees: tests/reliability.rs).

mod common;

use std::path::Path;

use common::*;

/// A small uneven problem (blocks differ on every grid) with snapshots.
const CASE: [&str; 10] = [
    "heat",
    "--nx",
    "13",
    "--ny",
    "11",
    "--nz",
    "9",
    "--quiet",
    "--snapshot-every",
    "10",
];

/// `CASE` with `extra`.
fn case(extra: &[&'static str]) -> Vec<&'static str> {
    CASE.iter().chain(extra).copied().collect()
}

/// Run 40 steps in one go on 1 rank (`full.h5`), then 25 of them with a
/// checkpoint every 10 (its last at step 20) on `p1` ranks (`grid1`,
/// result `a.h5`), then continue each `(file, step, ranks, grid)` of
/// `resumes` (`c.h5` the checkpoint; `a.h5`, a finished result, is one
/// too) to step 40: every dataset of the continued result is the
/// uninterrupted run's, bitwise, snapshots included (those before the
/// restart carried from its file), and so is the XDMF sidecar.
fn restart_case(
    dir: &Path,
    problem: &[&'static str],
    (p1, grid1): (usize, &[&'static str]),
    resumes: &[(&str, u64, usize, &[&str])],
) {
    run_ok(
        dir,
        1,
        &[
            &case(problem)[..],
            &["--steps", "40", "--output", "full.h5"],
        ]
        .concat(),
    );
    let every = ["--checkpoint-every", "10", "--checkpoint", "c.h5"];
    let first = [
        &case(problem)[..],
        &["--steps", "25", "--output", "a.h5"],
        &every,
        grid1,
    ];
    run_ok(dir, p1, &first.concat());
    assert_eq!(heat_attr(&dir.join("c.h5"), "step"), 20);
    let xmf = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name).with_extension("xmf")).unwrap();
        text.replace(name, "RESULT")
    };
    for (k, &(from, step, p2, grid2)) in resumes.iter().enumerate() {
        let out = format!("r{k}.h5");
        let resume = [
            "heat",
            "--nz",
            "9",
            "--restart",
            from,
            "--steps",
            "40",
            "--output",
            &out,
        ];
        let report = run_json(dir, p2, &[&resume[..], grid2].concat());
        let restarted = [
            &report["restarted_from"],
            &report["start_step"],
            &report["snapshots"],
        ];
        let want = serde_json::json!([from, step, 5]);
        assert_eq!(serde_json::json!(restarted), want, "{report}");
        assert!(
            same_datasets(&dir.join("full.h5"), &dir.join(&out), "heat"),
            "{p1} ranks {grid1:?} -> {from} on {p2} ranks {grid2:?}: the datasets differ"
        );
        assert_eq!(heat_attr(&dir.join(&out), "step"), 40);
        assert_eq!(
            xmf(&out),
            xmf("full.h5"),
            "{from}: the XDMF sidecars differ"
        );
    }
}

#[test]
fn restart_on_other_rank_counts_and_grids_is_bitwise_identical() {
    let dir = scratch("heat3d_restart_grids");
    let resumes: [(&str, u64, usize, &[&str]); 2] = [
        ("c.h5", 20, 3, &[]),
        ("a.h5", 25, 4, &["--proc-grid", "1x2x2"]),
    ];
    restart_case(&dir, &[], (2, &["--proc-grid", "2x1x1"]), &resumes);
}

#[test]
fn restart_1x1x4_to_1_rank_with_walls_and_a_source_is_bitwise_identical() {
    let dir = scratch("heat3d_restart_walls");
    // Walls of every kind (insulated, an expression in x, y and t,
    // periodic) and a source in t: the restart takes them from the file.
    let problem = [
        "--bc-left",
        "insulated",
        "--bc-front",
        "x+y*t",
        "--bc-y",
        "periodic",
        "--source",
        "sin(pi*x)*exp(-t)",
    ];
    let grid = ["--proc-grid", "1x1x4"];
    restart_case(&dir, &problem, (4, &grid), &[("c.h5", 20, 1, &[])]);
}

/// Each case is refused on 2 ranks in one line with exit 2, and by its
/// `--dry-run` alike where `dry` (what the plan refuses: the dry run does
/// not check the files a run writes), leaving the directory as it was.
fn refused_everywhere(dir: &Path, cases: &[(Vec<&str>, &str, bool)]) {
    let before = listing(dir);
    for (args, said, dry) in cases {
        let mut a = vec!["heat"];
        a.extend(args);
        a.extend(["--output", "new.h5"]);
        assert_refused(dir, 2, &a, said);
        if *dry {
            a.push("--dry-run");
            assert_refused(dir, 2, &a, said);
        }
        assert_eq!(listing(dir), before, "{args:?} changed the directory");
    }
}

#[test]
fn bad_3d_restarts_are_refused_in_one_line() {
    let dir = scratch("heat3d_restart_refused");
    run_ok(
        &dir,
        2,
        &case(&[
            "--steps",
            "20",
            "--checkpoint-every",
            "20",
            "--checkpoint",
            "c3.h5",
            "--output",
            "o3.h5",
        ]),
    );
    let two_d = [
        "heat", "--nx", "13", "--ny", "11", "--steps", "5", "--quiet",
    ];
    run_ok(
        &dir,
        1,
        &[
            &two_d[..],
            &[
                "--checkpoint-every",
                "5",
                "--checkpoint",
                "c2.h5",
                "--output",
                "o2.h5",
            ],
        ]
        .concat(),
    );
    // Copies whose field, dz attribute or snapshots were changed on disk.
    for (name, change) in [("field.h5", 0), ("dz.h5", 1), ("snap.h5", 2)] {
        std::fs::copy(dir.join("c3.h5"), dir.join(name)).unwrap();
        let f = hdf5::File::open_rw(dir.join(name)).unwrap();
        match change {
            0 => f
                .dataset("heat/temperature")
                .unwrap()
                .write_slice(&ndarray::arr3(&[[[1.0]]]), ndarray::s![4..5, 3..4, 5..6])
                .unwrap(),
            1 => f
                .group("heat")
                .unwrap()
                .attr("dz")
                .unwrap()
                .write_scalar(&0.02f64)
                .unwrap(),
            _ => f
                .dataset("heat/snapshots")
                .unwrap()
                .write_slice(&ndarray::arr3(&[[[1.0]]]), ndarray::s![1, 2..3, 3..4, 5..6])
                .unwrap(),
        }
    }
    let cases: Vec<(Vec<&str>, &str, bool)> = vec![
        (
            vec!["--nz", "9", "--restart", "c2.h5"],
            "restart file 'c2.h5' is a 2D checkpoint ([ny, nx] = [11, 13]) but the run is 3D",
            true,
        ),
        (
            vec!["--restart", "c3.h5"],
            "restart file 'c3.h5' is a 3D checkpoint (nz = 9) but the run is 2D: give --nz 9",
            true,
        ),
        (
            vec!["--nz", "8", "--restart", "c3.h5"],
            "--nz 8 contradicts the checkpoint 'c3.h5' (nz = 9)",
            true,
        ),
        (
            vec!["--nz", "9", "--dz", "0.02", "--restart", "c3.h5"],
            "--dz 0.02 contradicts the checkpoint 'c3.h5' (dz = 0.01)",
            true,
        ),
        (
            vec!["--nz", "9", "--bc-back", "insulated", "--restart", "c3.h5"],
            "--bc-back insulated contradicts the checkpoint",
            false,
        ),
        (
            vec!["--nz", "9", "--restart", "c3.h5", "--steps", "10"],
            "--steps 10 is before the checkpoint's step 20",
            false,
        ),
        (
            vec!["--nz", "9", "--restart", "dz.h5"],
            "restart file 'dz.h5' is corrupt: its attributes do not match their checksum",
            true,
        ),
        (
            vec!["--nz", "9", "--restart", "snap.h5"],
            "restart file 'snap.h5' is corrupt: its snapshots do not match their checksum",
            true,
        ),
        (
            vec!["--nz", "9", "--checkpoint", "c3.h5", "--steps", "5"],
            "checkpoint 'c3.h5' exists; pass --force",
            false,
        ),
    ];
    refused_everywhere(&dir, &cases);
    // The field is read when the run starts: the run refuses it, the dry
    // run says it will check it.
    let before = listing(&dir);
    let field = [
        "heat",
        "--nz",
        "9",
        "--restart",
        "field.h5",
        "--output",
        "new.h5",
    ];
    assert_refused(
        &dir,
        2,
        &field,
        "restart file 'field.h5' is corrupt: its field does not match its checksum",
    );
    assert_eq!(
        listing(&dir),
        before,
        "a refused restart changed the directory"
    );
    let deck = run_ok(&dir, 2, &[&field[..], &["--dry-run"]].concat());
    assert!(
        deck.contains("# continues 'field.h5' from its step 20"),
        "{deck}"
    );
    assert!(
        deck.contains("the restart's field against its checksum"),
        "{deck}"
    );
}

#[test]
fn restart_with_time_blocks_is_bitwise_identical() {
    let dir = scratch("heat3d_restart_blocks");
    // Rounds of 3 steps stop at the checkpoints (every 10) and snapshots;
    // the restart continues in rounds of 4 on another grid.
    let resumes: [(&str, u64, usize, &[&str]); 1] = [(
        "c.h5",
        20,
        2,
        &["--proc-grid", "1x1x2", "--time-block", "4"],
    )];
    let first: &[&str] = &[
        "--proc-grid",
        "2x1x1",
        "--time-block",
        "3",
        "--check-every",
        "7",
    ];
    restart_case(&dir, &[], (2, first), &resumes);
}
