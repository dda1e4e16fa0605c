//! End-to-end tests of 3D time blocking (`--time-block K` with `--nz`)
//! through real `mpirun`: the field the same bits as one step at a time
//! on any depth, rank count, process grid (uneven blocks), periodic axes
//! and thread count, its result file and snapshots too; depths deeper
//! than the smallest block refused (also by the dry run); the walls and
//! sources the sweep does not carry run one step at a time, with a note.

mod common;

use common::heat3d::{heat3d, result};
use common::*;

/// A small problem whose blocks are uneven on every grid below.
const GRID: [&str; 8] = ["--nx", "13", "--ny", "11", "--nz", "12", "--steps", "17"];

/// `extra` after [`GRID`], the time block `k` and the process grid `g`.
fn args<'a>(extra: &[&'a str], k: &'a str, g: Option<&'a str>) -> Vec<&'a str> {
    let mut a = GRID.to_vec();
    a.extend_from_slice(extra);
    a.extend(["--time-block", k]);
    if let Some(g) = g {
        a.extend(["--proc-grid", g]);
    }
    a
}

#[test]
fn any_depth_ranks_grid_and_threads_give_the_bits_of_one_step_at_a_time() {
    let dir = scratch("heat3d_timeblock_bits");
    let runs: [(usize, &str, Option<&str>, &str); 8] = [
        (1, "2", None, "1"),
        (1, "5", None, "2"),
        (2, "3", Some("1x1x2"), "1"),
        (3, "2", Some("3x1x1"), "2"),
        (4, "3", Some("1x1x4"), "1"),
        (4, "2", Some("2x2x1"), "2"),
        (4, "3", Some("1x2x2"), "1"),
        (3, "3", Some("1x3x1"), "1"),
    ];
    for walls in [&[][..], &["--bc-x", "periodic", "--bc-z", "periodic"][..]] {
        let want = result(&heat3d(&dir, 1, &args(walls, "1", None)));
        for (p, k, g, threads) in runs {
            let mut a = args(walls, k, g);
            a.extend(["--threads", threads]);
            let r = heat3d(&dir, p, &a);
            assert_eq!(result(&r), want, "{a:?} on {p} ranks");
            assert_eq!(
                r["execution"]["time_block"],
                k.parse::<u64>().unwrap(),
                "{r}"
            );
            assert_eq!(r["execution"]["overlap"], false, "{r}");
        }
    }
    // Every axis periodic: the halo's edges and corners all wrap around.
    let all = [
        "--bc-x", "periodic", "--bc-y", "periodic", "--bc-z", "periodic",
    ];
    let want = result(&heat3d(&dir, 1, &args(&all, "1", None)));
    for (p, g) in [(1, None), (2, Some("2x1x1")), (4, Some("2x2x1"))] {
        let r = heat3d(&dir, p, &args(&all, "3", g));
        assert_eq!(result(&r), want, "{g:?}");
    }
}

#[test]
fn result_files_and_snapshots_are_the_same_bits() {
    let dir = scratch("heat3d_timeblock_files");
    // Snapshots every 5 steps and checks every 4: rounds end on both.
    let run = |p: usize, k: &str, g: Option<&str>, name: &str| {
        let mut a = vec!["heat"];
        a.extend(args(&["--snapshot-every", "5", "--check-every", "4"], k, g));
        a.extend(["--output", name, "--quiet"]);
        run_ok(&dir, p, &a);
        dir.join(name)
    };
    let one = run(1, "1", None, "one.h5");
    for (p, k, g, name) in [(1, "4", None, "k4.h5"), (2, "3", Some("2x1x1"), "k3.h5")] {
        let other = run(p, k, g, name);
        assert!(same_datasets(&one, &other, "heat"), "{name}");
    }
}

#[test]
fn too_deep_blocks_are_refused_and_changing_walls_step_one_at_a_time() {
    let dir = scratch("heat3d_timeblock_refused");
    let mut a = vec!["heat"];
    a.extend(args(&["--no-output"], "4", Some("1x1x4")));
    let said = "--time-block 4 needs every block at least 4 cells along each axis, but the \
                smallest block on process grid 1x1x4 is 13x11x3";
    assert_refused(&dir, 4, &a, said);
    a.push("--dry-run");
    assert_refused(&dir, 4, &a, said);
    let mut a = vec!["heat"];
    a.extend(args(&["--no-output"], "0", None));
    assert_refused(&dir, 1, &a, "--time-block must be at least 1");
    // Insulated walls and a source: depth 1 with the reason, said by the
    // report and the dry run.
    for (extra, note) in [
        (
            &["--bc-left", "insulated"][..],
            "not 3: insulated and expression walls",
        ),
        (
            &["--source", "x*y"][..],
            "not 3: the 3D time-blocked sweep does not carry a source",
        ),
    ] {
        let r = heat3d(&dir, 2, &args(extra, "3", None));
        assert_eq!(r["execution"]["time_block"], 1, "{r}");
        let got = r["execution"]["time_block_note"]
            .as_str()
            .unwrap_or_default();
        assert!(got.contains(note), "{r}");
        let mut a = vec!["heat"];
        a.extend(args(extra, "3", None));
        a.push("--dry-run");
        let deck = run_ok(&dir, 1, &a);
        assert!(deck.contains(&format!("time block 1 ({note}")), "{deck}");
    }
    // auto: 1 for a block whose two fields fit in L2, with the figure.
    let mut a = vec!["heat"];
    a.extend(GRID);
    a.push("--dry-run");
    let deck = run_ok(&dir, 1, &a);
    assert!(deck.contains("time block 1 (auto: "), "{deck}");
}
