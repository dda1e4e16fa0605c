//! The inputs step (issue 40): rank 0 reads what the input files say (a
//! restart's checkpoint, a parameter table, a points file) before the
//! plan, so `--dry-run` refuses what the run refuses, input files
//! included, with the same one line, and a valid dry run shows the plan
//! the files complete.

mod common;

use std::path::Path;

use common::*;

/// The exit code and the `parsim:` lines of a run.
fn verdict(out: &std::process::Output) -> (Option<i32>, Vec<String>) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines = stderr
        .lines()
        .filter(|l| l.starts_with("parsim:"))
        .map(String::from)
        .collect();
    (out.status.code(), lines)
}

/// `args` is refused by the run and by `--dry-run` with the same one line
/// containing `expected`, exit 2, and neither writes `new.h5`.
fn both_refuse(dir: &Path, args: &[&str], expected: &str) {
    let mut run = args.to_vec();
    run.extend(["--output", "new.h5"]);
    let mut dry = run.clone();
    dry.push("--dry-run");
    let (code, lines) = verdict(&mpirun(dir, 2, &run));
    let (dry_code, dry_lines) = verdict(&mpirun(dir, 2, &dry));
    assert!(
        code == Some(2) && lines.len() == 1 && lines[0].contains(expected),
        "{args:?}: run {code:?} {lines:?}, want {expected:?}"
    );
    assert_eq!(
        (dry_code, &dry_lines),
        (code, &lines),
        "{args:?}: the dry run differs"
    );
    assert!(!dir.join("new.h5").exists(), "{args:?} wrote new.h5");
}

/// What `--dry-run` prints for `args` on 2 ranks.
fn dry_run(dir: &Path, args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.push("--dry-run");
    run_ok(dir, 2, &a)
}

#[test]
fn heat_dry_run_reads_the_restart() {
    let dir = scratch("inputs_heat");
    run_ok(
        &dir,
        2,
        &[
            "heat", "--nx", "53", "--ny", "37", "--steps", "20", "--output", "good.h5",
        ],
    );
    std::fs::write(dir.join("plain.h5"), b"not hdf5").unwrap();
    for (args, expected) in [
        (
            &["heat", "--restart", "good.h5", "--nx", "54"][..],
            "--nx 54 contradicts the checkpoint 'good.h5' (nx = 53)",
        ),
        (
            &["heat", "--restart", "good.h5", "--steps", "10"],
            "--steps 10 is before the checkpoint's step 20",
        ),
        (
            &["heat", "--restart", "missing.h5"],
            "restart file 'missing.h5' does not exist",
        ),
        (&["heat", "--restart", "plain.h5"], "cannot open it as HDF5"),
    ] {
        both_refuse(&dir, args, expected);
    }
    // The plan is the checkpoint's: its grid and the step it goes on from.
    let text = dry_run(&dir, &["heat", "--restart", "good.h5", "--steps", "30"]);
    assert!(text.contains("53 x 37 points"), "{text}");
    assert!(text.contains("30 steps"), "{text}");
    assert!(
        text.contains("continues 'good.h5' from its step 20"),
        "{text}"
    );
}

#[test]
fn ou_dry_run_reads_the_table_and_the_checkpoint() {
    let dir = scratch("inputs_ou");
    std::fs::write(
        dir.join("p.csv"),
        "tau,sigma,dt,x0\n1,2,0.1,0\n2,1,0.1,0.5\n",
    )
    .unwrap();
    std::fs::write(dir.join("bad.csv"), "tau,sigma,dt,x0\n1,2,zero,0\n").unwrap();
    std::fs::write(dir.join("neg.csv"), "tau,sigma,dt,x0\n-1,2,0.1,0\n").unwrap();
    let base = ["ou", "--paths", "6", "--steps", "2000"];
    let mut first = base.to_vec();
    first.extend(["--tau", "1,2", "--checkpoint-every", "1"]);
    first.extend(["--output", "o.h5", "--checkpoint", "c.h5"]);
    run_ok(&dir, 2, &first);
    for (extra, expected) in [
        (
            &["--params", "bad.csv"][..],
            "line 2: dt 'zero' is not a number",
        ),
        (
            &["--params", "neg.csv"],
            "--tau must be a finite number > 0",
        ),
        (&["--params", "none.csv"], "none.csv"),
        (
            &["--tau", "1,3", "--restart", "c.h5"],
            "--tau 1,3 contradicts the checkpoint",
        ),
        (
            &["--restart", "c.h5", "--seed", "5"],
            "--seed 5 contradicts",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        both_refuse(&dir, &args, expected);
    }
    let mut args = base.to_vec();
    args.extend(["--params", "p.csv"]);
    let text = dry_run(&dir, &args);
    assert!(text.contains("2 parameter set(s) x 6 paths"), "{text}");
    assert!(text.contains("from the table 'p.csv'"), "{text}");
    let text = dry_run(&dir, &["ou", "--restart", "c.h5"]);
    assert!(text.contains("2 parameter set(s) x 6 paths"), "{text}");
    assert!(text.contains("continues the ensemble of 'c.h5'"), "{text}");
}

#[test]
fn pairs_dry_run_reads_the_points() {
    let dir = scratch("inputs_pairs");
    std::fs::write(dir.join("p.csv"), "0,0\n1,0\n0,2\n3,3\n").unwrap();
    std::fs::write(dir.join("nan.csv"), "0,0\n1,nan\n").unwrap();
    std::fs::write(dir.join("one.csv"), "0,0\n").unwrap();
    for (args, expected) in [
        (
            &["pairs", "--points", "nan.csv"][..],
            "row 1, coordinate 1 is NaN",
        ),
        (&["pairs", "--points", "one.csv"], "pairs need at least 2"),
        (&["pairs", "--points", "none.csv"], "none.csv"),
    ] {
        both_refuse(&dir, args, expected);
    }
    let text = dry_run(&dir, &["pairs", "--points", "p.csv"]);
    assert!(
        text.contains("4 points in 2-D, algorithm ring: 6 pairs"),
        "{text}"
    );
}
