//! One plan per workload: a `--dry-run` refuses exactly what the run
//! refuses (the same one line from rank 0, exit 2), and a valid one prints
//! the plan resolved on the ranks it was given. Table-driven, one table
//! per workload; every workload `parsim workloads` lists must have one.

mod common;

use common::*;

/// Invalid options and a part of the one line they must be refused with.
type Case = (&'static [&'static str], &'static str);

/// The invalid options of each workload.
fn tables() -> Vec<(&'static str, Vec<Case>)> {
    // An exact solution within the expression limits whose wall x = 0
    // (each x a number) is not: refused as a line, not a panic of the ranks.
    let long: &'static str =
        Box::leak(format!("x*t{}", " + 0.0001*x*y*t".repeat(250)).into_boxed_str());
    let long_exact: &'static [&'static str] = Box::leak(Box::new(["--exact", long]));
    vec![
        (
            "heat",
            vec![
                (&["--nx", "0"], "--nx must be at least 1"),
                (&["--ny", "-3"], "--ny"),
                (&["--dt", "1"], "is unstable"),
                (&["--alpha", "-1"], "--alpha"),
                (&["--check-every", "0"], "--check-every must be at least 1"),
                (&["--threads", "0"], "--threads must be at least 1"),
                (&["--time-block", "0"], "--time-block must be at least 1"),
                (&["--compress", "12"], "deflate level from 1 to 9"),
                (&["--proc-grid", "3x1"], "3x1"),
                (&["--nx", "4", "--time-block", "9"], "--time-block 9"),
                (
                    &["--checkpoint", "same.h5", "--output", "same.h5"],
                    "same file",
                ),
                (&["--restart", "none.h5", "--proc-grid", "3x1"], "none.h5"),
                (&["--init", "none.npy"], "--init 'none.npy': cannot read it"),
                (
                    &["--init", "none.h5:/f"],
                    "--init 'none.h5:/f': cannot read it",
                ),
                (&["--init", "gauss"], "--init 'gauss'"),
                (
                    &["--source", "z*x"],
                    "--source 'z*x': unknown name 'z' (this expression may use x, y, t)",
                ),
                (&["--source", "exp(t"], "--source 'exp(t': "),
                (
                    &["--exact", "floor(t)*x"],
                    "--exact 'floor(t)*x': floor() has no",
                ),
                (
                    long_exact,
                    "u at the wall x = 0, as an expression in (y, t), is 4",
                ),
                (&["--refine", "3"], "--refine needs --exact"),
                (
                    &["--exact", "x", "--refine", "1"],
                    "--refine must be at least 2",
                ),
                // Walls (tests/heat_walls.rs).
                (
                    &["--bc-left", "periodic"],
                    "--bc-left periodic: a wall is periodic only",
                ),
                (
                    &["--bc-x", "periodic", "--bc-right", "1"],
                    "leave out --bc-right",
                ),
                (&["--bc-top", "y*t"], "--bc-top 'y*t': unknown name 'y'"),
                (
                    &["--bc-bottom", "nan"],
                    "--bc-bottom must be a finite number",
                ),
                (&["--bc-y", "wrap"], "--bc-y"),
                // 3D (tests/heat3d.rs).
                (&["--nz", "0"], "--nz must be at least 1"),
                (
                    &["--nz", "4", "--proc-grid", "3x1x1"],
                    "has 3 ranks but the job runs 2",
                ),
                (
                    &[
                        "--nx",
                        "4",
                        "--ny",
                        "4",
                        "--nz",
                        "1",
                        "--proc-grid",
                        "1x1x2",
                    ],
                    "grid 4x4x1 is too small for process grid 1x1x2",
                ),
                (
                    &["--nz", "4", "--dt", "1"],
                    "needs dt <= 0.000033333333333333335",
                ),
                (
                    &["--nz", "4", "--proc-grid", "2x1"],
                    "--proc-grid 2x1 has two factors",
                ),
                (
                    &["--proc-grid", "2x1x1"],
                    "--proc-grid 2x1x1 has three factors",
                ),
                (&["--dz", "0.1"], "--dz is for a 3D run"),
                // 3D walls, sources, --exact (tests/heat3d_walls.rs).
                (
                    &["--nz", "4", "--bc-front", "z*t"],
                    "--bc-front 'z*t': unknown name 'z' (this expression may use x, y, t)",
                ),
                (
                    &["--nz", "4", "--source", "w"],
                    "--source 'w': unknown name 'w' (this expression may use x, y, z, t)",
                ),
                (
                    &["--nz", "4", "--exact", "x*z*t", "--refine", "9"],
                    "--refine 9 is too large (at most 8)",
                ),
                (
                    &["--nz", "4", "--compress", "0"],
                    "--compress takes a deflate level",
                ),
                (&["--nz", "4", "--restart", "none.h5"], "none.h5"),
                (
                    &["--nz", "4", "--init", "f.npy"],
                    "--init 'f.npy': cannot read it",
                ),
                (
                    &["--nz", "4", "--init", "x*w"],
                    "--init 'x*w': unknown name 'w'",
                ),
            ],
        ),
        (
            "ou",
            vec![
                (&["--tau", "-1"], "--tau must be a finite number > 0"),
                (&["--dt", "0"], "--dt"),
                (&["--sigma", "-2"], "--sigma"),
                (&["--paths", "0"], "--paths must be at least 1"),
                (&["--steps", "0"], "--steps must be at least 1"),
                (&["--steps", "10", "--record-every", "20"], "record"),
                (&["--checkpoint", "o.h5", "--output", "o.h5"], "same file"),
                (&["--params", "none.csv", "--paths", "1"], "none.csv"),
                (&["--restart", "none.h5", "--steps", "10"], "none.h5"),
            ],
        ),
        (
            "pi",
            vec![
                (&["--samples", "0"], "--samples must be at least 1"),
                (&["--chunk", "0"], "--chunk must be at least 1"),
                (
                    &["--samples", "100000000000", "--chunk", "1"],
                    "raise --chunk",
                ),
            ],
        ),
        (
            "markov",
            vec![
                (&["--chains", "0"], "--chains must be at least 1"),
                (&["--days", "0"], "--days must be at least 1"),
                (&["--chains", "1000000000"], "--chains"),
                (&["--matrix", "0.5,0.5;0.3,0.6"], "row 1 sums to 0.8999"),
                (
                    &["--matrix", "0.5,0.5,0;0.5,0.5,0"],
                    "not 2: the matrix must be square",
                ),
                (&["--matrix", "0.5,0.5;-0.5,1.5"], "row 1, entry 0 is -0.5"),
                (
                    &["--matrix", "none.npy"],
                    "--matrix 'none.npy': cannot read it",
                ),
                (&["--matrix", "1,0;0.5,0.5"], "reducible"),
                (&["--initial-state", "3"], "--initial-state 3"),
            ],
        ),
        (
            "integrate",
            vec![
                (&["--n", "0"], "--n must be at least 1"),
                (&["--chunk", "0"], "--chunk must be at least 1"),
                (&["--a", "2", "--b", "1"], "--b must be above --a"),
                (&["--rule", "simpson", "--n", "7"], "even --n"),
                (&["--f", "sin(y)"], "the variable is x"),
                (&["--f", "sin(x"], "neither a built-in"),
                (
                    &["--b", "1e-320", "--n", "100000"],
                    "no representable width",
                ),
            ],
        ),
        (
            "mandelbrot",
            vec![
                (&["--width", "0"], "--width must be at least 1"),
                (&["--height", "0"], "--height must be at least 1"),
                (&["--max-iter", "0"], "--max-iter must be at least 1"),
                (&["--chunk", "0"], "--chunk must be at least 1"),
                (&["--window", "1,0,0,1"], "XMIN < XMAX"),
                (&["--window", "1,2,3"], "4 numbers"),
                (&["--width", "100000", "--height", "100000"], "pixels"),
            ],
        ),
        (
            "pairs",
            vec![
                (&["--n", "0"], "pairs need at least 2"),
                (&["--dim", "0"], "dimension 0"),
                (&["--bins", "100000000"], "--bins"),
                (&["--n", "50000", "--matrix"], "--matrix with 50000 points"),
                (&["--points", "p.txt"], "p.txt"),
                (
                    &["--algorithm", "tree"],
                    "--algorithm tree finds nearest neighbours",
                ),
                (
                    &["--algorithm", "tree", "--bins", "0", "--matrix"],
                    "--matrix needs every pair",
                ),
                (&["--algorithm", "kd"], "--algorithm"),
            ],
        ),
    ]
}

/// The workloads the binary lists.
fn listed() -> Vec<String> {
    let out = std::process::Command::new(parsim())
        .args(["workloads", "--json"])
        .output()
        .expect("parsim workloads");
    assert_success(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v.as_array()
        .expect("a list")
        .iter()
        .map(|w| w["name"].as_str().expect("a name").to_string())
        .collect()
}

#[test]
fn every_listed_workload_has_a_table() {
    let tables: Vec<&str> = tables().iter().map(|(w, _)| *w).collect();
    assert_eq!(listed(), tables);
}

/// The one line rank 0 printed, and the exit code.
fn verdict(out: &std::process::Output) -> (Option<i32>, Vec<String>) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines = stderr
        .lines()
        .filter(|l| l.starts_with("parsim:"))
        .map(String::from)
        .collect();
    (out.status.code(), lines)
}

#[test]
fn a_dry_run_refuses_exactly_what_the_run_refuses() {
    let mut wrong = Vec::new();
    for (workload, cases) in tables() {
        let dir = scratch(&format!("plans-{workload}"));
        for (args, expected) in cases {
            let mut run = vec![workload];
            run.extend_from_slice(args);
            if !args.contains(&"--output") {
                run.push("--no-output");
            }
            let mut dry = run.clone();
            dry.push("--dry-run");
            let (code, lines) = verdict(&mpirun(&dir, 2, &run));
            let (dry_code, dry_lines) = verdict(&mpirun(&dir, 2, &dry));
            let refused = code == Some(2) && lines.len() == 1 && lines[0].contains(expected);
            if !refused || (dry_code, &dry_lines) != (code, &lines) || !listing(&dir).is_empty() {
                wrong.push(format!(
                    "{run:?} (want {expected:?}): run {code:?} {lines:?}, dry run {dry_code:?} \
                     {dry_lines:?}, files {:?}",
                    listing(&dir)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_valid_dry_run_prints_the_plan_on_its_ranks_for_every_workload() {
    let dir = scratch("plans-valid");
    for workload in listed() {
        let out = mpirun(&dir, 3, &[&workload, "--dry-run"]);
        assert_success(&out);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("workload = \"{workload}\""))
                && text.contains("# resolved on 3 ranks")
                && text.contains("checked when the run starts"),
            "{workload}:\n{text}"
        );
        assert!(
            listing(&dir).is_empty(),
            "{workload}: a dry run wrote files"
        );
    }
}

/// Issue 43: a dry run refuses an output that exists (without --force),
/// as the run does, in the same line; with --force it passes.
#[test]
fn a_dry_run_refuses_an_existing_output_as_the_run_does() {
    let dir = scratch("plans-dry-output");
    std::fs::write(dir.join("pi.h5"), b"a result of yesterday").unwrap();
    for dry in [true, false] {
        let mut args = vec!["pi", "--samples", "1000"];
        if dry {
            args.push("--dry-run");
        }
        assert_refused(
            &dir,
            1,
            &args,
            "output 'pi.h5' exists; pass --force to overwrite it",
        );
    }
    let out = mpirun(
        &dir,
        1,
        &["pi", "--samples", "1000", "--force", "--dry-run"],
    );
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        std::fs::read(dir.join("pi.h5")).unwrap(),
        b"a result of yesterday"
    );
}
