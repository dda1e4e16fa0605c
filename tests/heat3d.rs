//! End-to-end tests of `parsim heat --nz` (3D) through real `mpirun`: the
//! sine mode against its exact discrete solution, bitwise identical
//! results on every rank count, every process grid of 4 ranks and thread
//! count, with the halo exchange overlapped or not (the report's field
//! checksum and validation figures, the same bits), second-order
//! convergence to the PDE's solution, the dry run.
//! (Bad input: tests/plans.rs, the heat table's 3D rows.)

mod common;

use common::heat3d::{f, heat3d, result};
use common::*;

#[test]
fn sine_matches_its_exact_discrete_solution_on_1_to_4_ranks() {
    let dir = scratch("heat3d_sine");
    let args = [
        "--init", "sine", "--nx", "17", "--ny", "13", "--nz", "11", "--dz", "0.02", "--steps",
        "120",
    ];
    let first = heat3d(&dir, 1, &args);
    for p in 1..=4 {
        let r = heat3d(&dir, p, &args);
        let v = &r["validation"];
        assert_eq!(v["kind"], "exact", "{r}");
        assert!(f(v, "max_rel_error") <= 1e-12, "P={p}: {v}");
        assert_eq!(v["passed"], true);
        assert_eq!(r["dimensions"], 3);
        assert_eq!(r["ranks"], p);
        assert!(f(&r, "mlups") > 0.0);
        for phase in ["stencil", "halo"] {
            let s = &r["phases"][phase];
            assert!(
                f(s, "min") <= f(s, "avg") && f(s, "avg") <= f(s, "max"),
                "{s}"
            );
        }
        assert_eq!(result(&r), result(&first), "P={p}");
    }
}

#[test]
fn every_process_grid_and_thread_count_gives_the_same_bits() {
    let dir = scratch("heat3d_grids");
    // Uneven along every axis, so blocks differ in size on every grid.
    let args = ["--nx", "13", "--ny", "11", "--nz", "9", "--steps", "40"];
    let base = heat3d(&dir, 1, &args);
    assert_eq!(base["validation"]["kind"], "maximum_principle", "{base}");
    assert_eq!(base["validation"]["passed"], true);
    let mut runs: Vec<(usize, Vec<&str>)> = Vec::new();
    for g in ["4x1x1", "1x4x1", "1x1x4", "2x2x1", "2x1x2", "1x2x2"] {
        runs.push((4, vec!["--proc-grid", g]));
    }
    runs.push((2, vec![]));
    runs.push((3, vec![]));
    runs.push((1, vec!["--threads", "3"]));
    runs.push((2, vec!["--threads", "2", "--proc-grid", "2x1x1"]));
    for (p, extra) in runs {
        let mut a = args.to_vec();
        a.extend_from_slice(&extra);
        let r = heat3d(&dir, p, &a);
        assert_eq!(result(&r), result(&base), "P={p} {extra:?}");
        if let Some(g) = extra.iter().position(|&x| x == "--proc-grid") {
            let dims: Vec<String> = (r["proc_grid"].as_array().unwrap().iter())
                .map(|v| v.to_string())
                .collect();
            assert_eq!(dims.join("x"), extra[g + 1]);
        }
    }
    // The checksum sees a step more.
    let later = heat3d(
        &dir,
        1,
        &["--nx", "13", "--ny", "11", "--nz", "9", "--steps", "41"],
    );
    assert_ne!(later["checksum"], base["checksum"]);
}

#[test]
fn overlap_on_and_off_give_the_same_bits() {
    let dir = scratch("heat3d_overlap");
    // Uneven, and thin along z (2 planes a rank on 1x1x4: no inside at all).
    let args = ["--nx", "12", "--ny", "9", "--nz", "8", "--steps", "30"];
    let base = heat3d(&dir, 1, &args);
    assert_eq!(
        base["execution"]["overlap"], false,
        "1 rank has nothing to overlap"
    );
    for (p, grid, threads) in [
        (2, "1x1x2", "1"),
        (2, "2x1x1", "2"),
        (4, "2x2x1", "1"),
        (4, "1x1x4", "2"),
        (4, "1x2x2", "3"),
    ] {
        for overlap in ["on", "off"] {
            let mut a = args.to_vec();
            a.extend_from_slice(&["--proc-grid", grid, "--threads", threads]);
            a.extend_from_slice(&["--overlap", overlap]);
            let r = heat3d(&dir, p, &a);
            assert_eq!(r["execution"]["overlap"], overlap == "on", "{r}");
            assert_eq!(
                result(&r),
                result(&base),
                "P={p} {grid} threads={threads} overlap {overlap}"
            );
        }
    }
}

#[test]
fn error_against_the_pde_falls_fourfold_when_dx_halves() {
    // The unit cube: dx = 1/(n+1); the default dt is the limit dx^2/6/alpha,
    // so t = 0.05 takes 4x the steps when dx halves.
    let dir = scratch("heat3d_order");
    let err = |n: usize, steps: u64| {
        let d = (1.0 / (n + 1) as f64).to_string();
        let n = n.to_string();
        let r = heat3d(
            &dir,
            2,
            &[
                "--init",
                "sine",
                "--nx",
                &n,
                "--ny",
                &n,
                "--nz",
                &n,
                "--dx",
                &d,
                "--dy",
                &d,
                "--dz",
                &d,
                "--steps",
                &steps.to_string(),
            ],
        );
        let t = f(&r, "sim_time");
        assert!((t - 0.05).abs() < 1e-12, "t = {t}");
        assert_eq!(r["validation"]["passed"], true, "{r}");
        f(&r["validation"], "continuum_rel_error")
    };
    assert_falls_fourfold((err(9, 15), err(19, 60), err(39, 240)));
}

#[test]
fn dry_run_shows_the_3d_plan_and_2d_runs_stay_2d() {
    let dir = scratch("heat3d_dry");
    let out = run_ok(
        &dir,
        4,
        &["heat", "--nx", "8", "--ny", "8", "--nz", "8", "--dry-run"],
    );
    assert!(
        out.contains("# resolved on 4 ranks: 3D, 8 x 8 x 8 points"),
        "{out}"
    );
    assert!(out.contains("process grid 1x2x2"), "{out}");
    assert!(out.contains("dt = 3.3333333333333335e-5 s"), "{out}");
    let r = run_json(
        &dir,
        1,
        &[
            "heat",
            "--nx",
            "8",
            "--ny",
            "8",
            "--steps",
            "2",
            "--no-output",
        ],
    );
    assert!(r.get("dimensions").is_none() && r["proc_grid"].as_array().unwrap().len() == 2);
    assert!(listing(&dir).is_empty(), "{:?}", listing(&dir));
}
