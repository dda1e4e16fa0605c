//! Reliability of `parsim heat` under real `mpirun`: checkpoint and restart
//! on other rank counts and grids (bitwise), graceful stop on SIGUSR1 and
//! SIGTERM, a rank killed with SIGKILL, blow-up detection, and refusal of
//! bad restarts.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

const GRID: [&str; 4] = ["--nx", "53", "--ny", "37"];

fn heat(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["heat"]
        .iter()
        .chain(GRID.iter())
        .map(|s| s.to_string())
        .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run(dir: &Path, ranks: usize, args: &[String]) -> String {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(dir, ranks, &a)
}

/// Checkpoint at step 40 on `(p1, grid1)`, restart to step 90 on
/// `(p2, grid2)`: the same bits as 90 steps in one go.
fn restart_case(tag: &str, (p1, g1): (usize, Option<&str>), (p2, g2): (usize, Option<&str>)) {
    let dir = scratch(tag);
    let grid = |g: Option<&str>| {
        g.map(|g| vec!["--proc-grid".to_string(), g.to_string()])
            .unwrap_or_default()
    };
    run(&dir, 1, &heat(&["--steps", "90", "--output", "full.h5"]));
    let mut first = heat(&[
        "--steps",
        "90",
        "--checkpoint-every",
        "40",
        "--checkpoint",
        "c.h5",
        "--output",
        "a.h5",
    ]);
    first.extend(grid(g1));
    run(&dir, p1, &first);
    // The checkpoint of step 80 is the latest; keep the one of step 40 by
    // stopping the first run there instead.
    let mut stop40 = heat(&[
        "--steps",
        "40",
        "--checkpoint-every",
        "40",
        "--checkpoint",
        "c40.h5",
        "--output",
        "b.h5",
    ]);
    stop40.extend(grid(g1));
    run(&dir, p1, &stop40);
    assert_eq!(heat_attr(&dir.join("c40.h5"), "step"), 40);
    assert_eq!(heat_attr(&dir.join("c.h5"), "step"), 80);
    let mut resume = vec![
        "heat",
        "--restart",
        "c40.h5",
        "--steps",
        "90",
        "--output",
        "r.h5",
        "--checkpoint",
        "rc.h5",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    resume.extend(grid(g2));
    let out = run(&dir, p2, &resume);
    assert!(
        out.contains("Restarted        : from 'c40.h5' at step 40"),
        "{out}"
    );
    assert!(
        same_field(&dir.join("full.h5"), &dir.join("r.h5")),
        "{tag}: resumed run differs"
    );
    assert!(
        same_field(&dir.join("full.h5"), &dir.join("a.h5")),
        "{tag}: checkpointing changed the run"
    );
    assert_eq!(heat_attr(&dir.join("r.h5"), "step"), 90);
}

#[test]
fn restart_p2_to_p3_is_bitwise_identical() {
    restart_case("restart_2_3", (2, None), (3, None));
}

#[test]
fn restart_p4_to_p1_is_bitwise_identical() {
    restart_case("restart_4_1", (4, None), (1, None));
}

#[test]
fn restart_grid_2x1_to_1x2_is_bitwise_identical() {
    restart_case("restart_2x1_1x2", (2, Some("2x1")), (2, Some("1x2")));
}

#[test]
fn sine_restart_still_matches_the_exact_solution() {
    let dir = scratch("restart_sine");
    run(
        &dir,
        2,
        &heat(&[
            "--init",
            "sine",
            "--steps",
            "30",
            "--output",
            "a.h5",
            "--checkpoint",
            "c.h5",
            "--checkpoint-every",
            "30",
        ]),
    );
    let r = {
        let a = [
            "heat",
            "--restart",
            "c.h5",
            "--steps",
            "70",
            "--output",
            "b.h5",
            "--checkpoint",
            "d.h5",
            "--json",
        ];
        serde_json::from_str::<serde_json::Value>(run_ok(&dir, 3, &a).trim()).unwrap()
    };
    assert_eq!(r["validation"]["kind"], "exact");
    assert!(
        r["validation"]["max_rel_error"].as_f64().unwrap() <= 1e-12,
        "{r}"
    );
    assert_eq!(r["start_step"], 30);
    assert_eq!(r["step"], 70);
}

/// A restart's result holds every snapshot an uninterrupted run's does
/// (a checkpoint carries those taken before it), whether it resumes from a
/// periodic checkpoint (between two snapshots) or from a finished run's
/// result, on another rank count, with the interval kept from the
/// checkpoint when not given again; the XDMF sidecar lists them all.
#[test]
fn restart_keeps_the_snapshots_taken_before_it() {
    let dir = scratch("restart_snapshots");
    let snaps = ["--snapshot-every", "10"];
    let full = [
        &heat(&["--steps", "100", "--output", "full.h5"])[..],
        &strings(&snaps),
    ]
    .concat();
    run(&dir, 1, &full);
    let first = heat(&[
        "--steps",
        "30",
        "--snapshot-every",
        "10",
        "--checkpoint-every",
        "25",
        "--checkpoint",
        "c.h5",
        "--output",
        "a.h5",
    ]);
    run(&dir, 2, &first);
    for (from, out, carried) in [("c.h5", "b.h5", 3), ("a.h5", "d.h5", 3)] {
        let args = ["heat", "--restart", from, "--steps", "100", "--output", out];
        let r = run_json(&dir, 3, &args);
        assert_eq!(
            (r["snapshots"].as_u64(), r["snapshots_carried"].as_u64()),
            (Some(11), Some(carried)),
            "{r}"
        );
        assert!(
            same_datasets(&dir.join("full.h5"), &dir.join(out), "heat"),
            "restart from {from}: datasets differ"
        );
        let xmf = |name: &str| {
            let text = std::fs::read_to_string(dir.join(name).with_extension("xmf")).unwrap();
            text.replace(name, "RESULT")
        };
        assert_eq!(
            xmf(out),
            xmf("full.h5"),
            "restart from {from}: XDMF differs"
        );
    }
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Start a long run, deliver `sig` to mpirun or to every rank, and check
/// the documented outcome; then resume from the checkpoint and compare
/// with an uninterrupted run to the same step.
fn stop_case(tag: &str, sig: &str, to_ranks: bool, expect_code: Option<i32>) {
    let dir = scratch(tag);
    let long = heat(&[
        "--steps",
        "100000000",
        "--output",
        "s.h5",
        "--checkpoint",
        "s.ckpt.h5",
    ]);
    let a: Vec<&str> = long.iter().map(String::as_str).collect();
    let mut child = mpirun_command(&dir, 2, &a).spawn().unwrap();
    // Let it get into the time loop.
    std::thread::sleep(Duration::from_millis(1500));
    let pid = child.id();
    if to_ranks {
        let ranks = rank_pids(pid);
        assert_eq!(ranks.len(), 2, "rank pids of mpirun {pid}: {ranks:?}");
        ranks.iter().for_each(|&r| signal(r, sig));
    } else {
        signal(pid, sig);
    }
    let status =
        wait_for(&mut child, Duration::from_secs(20)).expect("mpirun did not stop within 20 s");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    match expect_code {
        Some(code) => assert_eq!(status.code(), Some(code), "{tag}: {stderr}"),
        None => assert!(!status.success(), "{tag}: mpirun reported success"),
    }
    let name = if sig == "USR1" { "SIGUSR1" } else { "SIGTERM" };
    assert!(
        stderr.contains(&format!("parsim: error: stopped by {name} at step")),
        "{tag}: {stderr}"
    );
    assert!(
        !dir.join("s.h5").exists(),
        "a stopped run must not write its result file"
    );
    let step = heat_attr(&dir.join("s.ckpt.h5"), "step");
    assert!(
        step > 0 && step % 10 == 0,
        "stop at a check boundary, got {step}"
    );

    let total = (step + 25).to_string();
    run_ok(
        &dir,
        3,
        &[
            "heat",
            "--restart",
            "s.ckpt.h5",
            "--steps",
            &total,
            "--output",
            "r.h5",
            "--checkpoint",
            "r.ckpt.h5",
        ],
    );
    run(
        &dir,
        1,
        &heat(&[
            "--steps",
            &total,
            "--output",
            "ref.h5",
            "--checkpoint",
            "ref.ckpt.h5",
        ]),
    );
    assert!(
        same_field(&dir.join("ref.h5"), &dir.join("r.h5")),
        "{tag}: resumed run differs"
    );
}

/// A stop signal seen at the check of the last step (or the last round of
/// members) finishes the run normally: result written, exit 0; one seen
/// earlier stops it with exit 75 and a checkpoint.
#[test]
fn a_stop_at_the_last_step_finishes_the_run() {
    let dir = scratch("stop_last_step");
    let stopped = |args: &[&str]| {
        let mut c = mpirun_command(&dir, 2, args);
        c.env("PARSIM_INJECT_STOP", "1");
        c.output().unwrap()
    };
    let heat = |steps: &str, out: &str| {
        let a = [
            "heat",
            "--nx",
            "20",
            "--ny",
            "20",
            "--check-every",
            "10",
            "--steps",
            steps,
            "--output",
            out,
        ];
        stopped(&a)
    };
    let last = heat("10", "last.h5");
    assert_success(&last);
    assert_eq!(heat_attr(&dir.join("last.h5"), "step"), 10);
    let early = heat("20", "early.h5");
    assert_eq!(
        early.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    assert!(!dir.join("early.h5").exists());
    assert_eq!(heat_attr(&dir.join("early.ckpt.h5"), "step"), 10);
    // ou: 2 members on 2 ranks, one round.
    let ou = stopped(&["ou", "--paths", "2", "--steps", "1000", "--output", "o.h5"]);
    assert_success(&ou);
    assert!(dir.join("o.h5").exists());
}

#[test]
fn sigusr1_to_mpirun_checkpoints_and_exits_75() {
    stop_case("stop_usr1", "USR1", false, Some(75));
}

#[test]
fn sigterm_to_the_ranks_checkpoints_and_exits_75() {
    // What SLURM does at the time limit.
    stop_case("stop_term_ranks", "TERM", true, Some(75));
}

#[test]
fn sigterm_to_mpirun_still_leaves_a_valid_checkpoint() {
    // mpirun turns SIGTERM into "terminate the job" (its own exit code);
    // the ranks still agree, checkpoint and stop within its 1 s grace.
    stop_case("stop_term_mpirun", "TERM", false, None);
}

#[test]
fn killed_rank_ends_the_job_and_keeps_the_last_checkpoint() {
    let dir = scratch("kill9");
    let args = [
        "heat",
        "--nx",
        "400",
        "--ny",
        "400",
        "--steps",
        "100000000",
        "--checkpoint-every",
        "200",
        "--output",
        "k.h5",
        "--checkpoint",
        "k.ckpt.h5",
    ];
    let mut child = mpirun_command(&dir, 2, &args).spawn().unwrap();
    let start = Instant::now();
    while !dir.join("k.ckpt.h5").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no checkpoint after 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let ranks = rank_pids(child.id());
    assert_eq!(ranks.len(), 2, "{ranks:?}");
    let killed = Instant::now();
    signal(ranks[1], "KILL");
    let status =
        wait_for(&mut child, Duration::from_secs(10)).expect("mpirun hung after a rank was killed");
    let took = killed.elapsed();
    eprintln!(
        "kill -9 of rank 1 -> mpirun exit in {:.2} s",
        took.as_secs_f64()
    );
    assert!(!status.success());
    assert!(
        !dir.join("k.h5").exists(),
        "the result path must hold no partial file"
    );
    // The last complete checkpoint is valid: a restart verifies its checksum.
    let step = heat_attr(&dir.join("k.ckpt.h5"), "step");
    assert!(step >= 200 && step % 200 == 0, "{step}");
    let total = (step + 10).to_string();
    run_ok(
        &dir,
        2,
        &[
            "heat",
            "--restart",
            "k.ckpt.h5",
            "--steps",
            &total,
            "--output",
            "r.h5",
            "--checkpoint",
            "r.ckpt.h5",
        ],
    );
}

#[test]
fn blow_up_is_detected_with_its_step() {
    let dir = scratch("blowup");
    let limit = 0.01f64.powi(4) / (2.0 * 0.5 * 2.0 * 0.01f64.powi(2));
    let dt = (limit * 1.5).to_string();
    let args = heat(&[
        "--steps",
        "100000",
        "--dt",
        &dt,
        "--allow-unstable",
        "--output",
        "b.h5",
    ]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mpirun(&dir, 2, &a);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("parsim:")).unwrap();
    assert!(
        line.contains("numerical blow-up detected at step")
            && line.contains("above the stability limit"),
        "{line}"
    );
    let step: u64 = line
        .split("at step ")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(step < 1000, "detected late: step {step}");
    assert!(!dir.join("b.h5").exists());
}

#[test]
fn bad_restarts_are_refused_clearly() {
    let dir = scratch("bad_restart");
    run(
        &dir,
        2,
        &heat(&[
            "--steps",
            "20",
            "--checkpoint-every",
            "20",
            "--checkpoint",
            "good.h5",
            "--output",
            "o.h5",
        ]),
    );
    // A truncated copy.
    let bytes = std::fs::read(dir.join("good.h5")).unwrap();
    std::fs::write(dir.join("trunc.h5"), &bytes[..bytes.len() / 2]).unwrap();
    // A copy whose field was altered after the checksum was taken.
    std::fs::copy(dir.join("good.h5"), dir.join("tampered.h5")).unwrap();
    {
        let f = hdf5::File::open_rw(dir.join("tampered.h5")).unwrap();
        let ds = f.dataset("heat/temperature").unwrap();
        ds.write_slice(&ndarray::arr2(&[[1.0]]), ndarray::s![3..4, 5..6])
            .unwrap();
    }
    // A copy whose dt attribute was altered (the field untouched).
    std::fs::copy(dir.join("good.h5"), dir.join("dt.h5")).unwrap();
    {
        let f = hdf5::File::open_rw(dir.join("dt.h5")).unwrap();
        let g = f.group("heat").unwrap();
        let dt: f64 = g.attr("dt").unwrap().read_scalar().unwrap();
        g.attr("dt").unwrap().write_scalar(&(dt * 1.5)).unwrap();
    }
    std::fs::write(dir.join("plain.txt"), b"not hdf5").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--restart", "dt.h5"],
            "restart file 'dt.h5' is corrupt: its attributes do not match their checksum",
        ),
        (
            vec!["--restart", "missing.h5"],
            "restart file 'missing.h5' does not exist",
        ),
        (
            vec!["--restart", "trunc.h5"],
            "cannot open it as HDF5 (truncated or corrupt?)",
        ),
        (vec!["--restart", "plain.txt"], "cannot open it as HDF5"),
        (
            vec!["--restart", "tampered.h5"],
            "is corrupt: its field does not match its checksum",
        ),
        (
            vec!["--restart", "good.h5", "--nx", "54"],
            "--nx 54 contradicts the checkpoint 'good.h5' (nx = 53)",
        ),
        (
            vec!["--restart", "good.h5", "--init", "sine"],
            "--init sine contradicts the checkpoint",
        ),
        (
            vec!["--restart", "good.h5", "--alpha", "0.25"],
            "--alpha 0.25 contradicts the checkpoint",
        ),
        (
            vec!["--restart", "good.h5", "--steps", "10"],
            "--steps 10 is before the checkpoint's step 20",
        ),
        (
            vec!["--checkpoint", "good.h5", "--steps", "5"],
            "checkpoint 'good.h5' exists; pass --force",
        ),
        (
            vec!["--checkpoint", "x.h5", "--output", "x.h5"],
            "--output 'x.h5' and --checkpoint 'x.h5' are the same file",
        ),
        (
            vec!["--checkpoint", "nodir/c.h5"],
            "directory 'nodir' does not exist",
        ),
        (
            vec!["--check-every", "0"],
            "--check-every must be at least 1",
        ),
        (
            vec!["--checkpoint-every", "-1"],
            "invalid value '-1' for '--checkpoint-every",
        ),
        (vec!["--dt", "1", "--steps", "3"], "is unstable"),
    ];
    let before = listing(&dir);
    for (args, expected) in cases {
        let mut a = vec!["heat", "--output", "new.h5"];
        if args.contains(&"--output") {
            a.truncate(1);
        }
        a.extend(&args);
        assert_refused(&dir, 2, &a, expected);
        assert_eq!(listing(&dir), before, "{args:?} changed the directory");
    }
    // --force may replace an existing checkpoint.
    run(
        &dir,
        1,
        &heat(&[
            "--steps",
            "5",
            "--checkpoint",
            "good.h5",
            "--checkpoint-every",
            "5",
            "--force",
            "--output",
            "f.h5",
        ]),
    );
    assert_eq!(heat_attr(&dir.join("good.h5"), "step"), 5);
}

fn ou_stop_and_resume(tag: &str, store: &str) {
    let dir = scratch(tag);
    let base = [
        "ou",
        "--paths",
        "24",
        "--x0",
        "0,2",
        "--steps",
        "6000000",
        "--record-every",
        "500000",
        "--store",
        store,
    ];
    let with = |extra: &[&'static str]| base.iter().chain(extra).copied().collect::<Vec<&str>>();
    run_ok(&dir, 1, &with(&["--output", "full.h5"]));
    let mut child = mpirun_command(
        &dir,
        2,
        &with(&["--output", "part.h5", "--checkpoint-every", "1"]),
    )
    .spawn()
    .unwrap();
    let start = Instant::now();
    while !dir.join("part.ckpt.h5").exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no checkpoint");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(child.id(), "USR1");
    let status = wait_for(&mut child, Duration::from_secs(60)).expect("did not stop");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("ou: stopped by SIGUSR1 with"), "{stderr}");
    assert!(!dir.join("part.h5").exists());
    // The restart alone: every ensemble option comes from the checkpoint.
    let report = run_ok(
        &dir,
        3,
        &[
            "ou",
            "--output",
            "resumed.h5",
            "--restart",
            "part.ckpt.h5",
            "--checkpoint",
            "part.ckpt.h5",
        ],
    );
    assert!(report.contains("OK"), "{report}");
    assert!(
        same_datasets(&dir.join("full.h5"), &dir.join("resumed.h5"), "/ou"),
        "{tag}: resumed ensemble differs"
    );
}

#[test]
fn ou_stats_stop_and_resume_on_other_ranks_is_bitwise_identical() {
    ou_stop_and_resume("ou_resume_stats", "stats");
}

#[test]
fn ou_paths_stop_and_resume_on_other_ranks_is_bitwise_identical() {
    ou_stop_and_resume("ou_resume_paths", "paths");
}

/// The rows of an OU checkpoint's `partial` dataset: (member, step).
fn ou_partial(path: &Path) -> Vec<(u64, u64)> {
    let f = hdf5::File::open(path).unwrap();
    let rows: Vec<u64> = f
        .dataset("ou_checkpoint/partial")
        .unwrap()
        .read_raw()
        .unwrap();
    rows.chunks_exact(6).map(|r| (r[0], r[1])).collect()
}

/// A checkpoint holding a member part-way along its path resumes
/// bitwise, on another rank count. Deterministic: 9 members on 2 ranks,
/// a checkpoint every member's work (250 steps of a group of 4), and the
/// last one before the end catches rank 0's single member 4 at step 750.
/// The same ensemble from a format-1 checkpoint (before members could
/// stop part-way: no `partial`) resumes too.
#[test]
fn ou_members_part_way_in_a_checkpoint_resume_bitwise() {
    let dir = scratch("ou_part_way");
    for store in ["stats", "paths"] {
        let base = [
            "ou",
            "--paths",
            "9",
            "--steps",
            "1000",
            "--record-every",
            "30",
        ];
        let with = |extra: &[&'static str]| -> Vec<&str> {
            base.iter()
                .chain(&["--store", store])
                .chain(extra)
                .copied()
                .collect()
        };
        run_ok(&dir, 1, &with(&["--output", "ref.h5", "--force"]));
        let ckpt = ["--checkpoint-every", "1", "--checkpoint", "c.h5", "--force"];
        run_ok(&dir, 2, &with(&[&ckpt[..], &["--output", "a.h5"]].concat()));
        assert_eq!(ou_partial(&dir.join("c.h5")), [(4, 750)], "{store}");
        for ranks in [1, 3] {
            let out = "--output";
            let args = ["ou", "--restart", "c.h5", out, "r.h5", "--force"];
            run_ok(&dir, ranks, &args);
            assert!(
                same_datasets(&dir.join("ref.h5"), &dir.join("r.h5"), "/ou"),
                "{store}, resumed on {ranks} rank(s): differs"
            );
        }
    }
    // Format 1: a checkpoint of finished members only (16 members on 2
    // ranks, one checkpoint after each rank's first group of 4).
    let base = [
        "ou",
        "--paths",
        "16",
        "--steps",
        "1000",
        "--record-every",
        "30",
    ];
    let with = |extra: &[&'static str]| base.iter().chain(extra).copied().collect::<Vec<&str>>();
    run_ok(&dir, 1, &with(&["--output", "ref16.h5"]));
    run_ok(
        &dir,
        2,
        &with(&[
            "--checkpoint-every",
            "4",
            "--checkpoint",
            "f.h5",
            "--output",
            "b.h5",
        ]),
    );
    assert!(ou_partial(&dir.join("f.h5")).is_empty());
    {
        let f = hdf5::File::open_rw(dir.join("f.h5")).unwrap();
        let g = f.group("ou_checkpoint").unwrap();
        g.unlink("partial").unwrap();
        g.delete_attr("format").unwrap();
        let v: hdf5::types::VarLenUnicode = "parsim-ou-checkpoint-1".parse().unwrap();
        g.new_attr::<hdf5::types::VarLenUnicode>()
            .create("format")
            .unwrap()
            .write_scalar(&v)
            .unwrap();
    }
    run_ok(&dir, 3, &["ou", "--restart", "f.h5", "--output", "r16.h5"]);
    assert!(same_datasets(
        &dir.join("ref16.h5"),
        &dir.join("r16.h5"),
        "/ou"
    ));
}

/// A stop is heard inside members far too long to wait for (10^10 steps,
/// over a minute each): the checkpoint keeps every member part-way.
#[test]
fn a_stop_is_heard_inside_long_ou_members() {
    let dir = scratch("ou_long_stop");
    let args = [
        "ou",
        "--paths",
        "8",
        "--steps",
        "10000000000",
        "--output",
        "s.h5",
    ];
    let mut child = mpirun_command(&dir, 2, &args).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    signal(child.id(), "USR1");
    let status = wait_for(&mut child, Duration::from_secs(30))
        .expect("the stop was not heard within 30 s (a member is minutes long)");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("ou: stopped by SIGUSR1 with 0 of 8 members finished, 8 part-way"),
        "{stderr}"
    );
    let partial = ou_partial(&dir.join("s.ckpt.h5"));
    // Each rank's group of 4, in lockstep.
    assert_eq!(
        partial.iter().map(|p| p.0).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5, 6, 7]
    );
    assert!(partial.iter().all(|&(_, t)| t > 0 && t < 10_000_000_000));
}

#[test]
fn ou_restart_must_be_the_same_ensemble() {
    let dir = scratch("ou_bad_restart");
    let base = ["ou", "--paths", "6", "--steps", "2000", "--tau", "1,2"];
    let mut a = base.to_vec();
    a.extend([
        "--checkpoint-every",
        "1",
        "--output",
        "o.h5",
        "--checkpoint",
        "c.h5",
    ]);
    run_ok(&dir, 2, &a);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--seed", "5"],
            "--seed 5 contradicts the checkpoint 'c.h5' (2026)",
        ),
        (vec!["--tau", "1,3"], "--tau 1,3 contradicts the checkpoint"),
        (vec!["--paths", "7"], "--paths 7 contradicts"),
        (vec!["--store", "paths"], "--store paths contradicts"),
    ];
    for (extra, expected) in cases {
        let mut args: Vec<&str> = vec!["ou", "--paths", "6", "--steps", "2000", "--tau", "1,2"];
        // later flags replace nothing in clap: rebuild without the overridden one
        for pair in base[1..].chunks(2) {
            if extra.contains(&pair[0]) {
                args.retain(|a| *a != pair[0] && *a != pair[1]);
            }
        }
        args.extend(&extra);
        args.extend(["--restart", "c.h5", "--output", "n.h5"]);
        let out = mpirun(&dir, 2, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
        assert!(!dir.join("n.h5").exists());
    }
    let mut again = base.to_vec();
    again.extend(["--checkpoint", "c.h5", "--output", "p.h5"]);
    let out = mpirun(&dir, 2, &again);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checkpoint 'c.h5' exists; pass --force"));
}

#[test]
fn a_panicking_rank_aborts_the_whole_job() {
    let dir = scratch("panic");
    let mut cmd = mpirun_command(
        &dir,
        3,
        &[
            "heat", "--nx", "300", "--ny", "300", "--steps", "100000", "--output", "p.h5",
        ],
    );
    cmd.env("PARSIM_INJECT_PANIC", "1");
    // mpirun passes the environment on to the ranks.
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let status =
        wait_for(&mut child, Duration::from_secs(20)).expect("job hung after a rank panicked");
    eprintln!(
        "panic on rank 1 -> job ended in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!status.success());
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("parsim:"))
        .collect();
    // The panic, and what the panicking rank removed of rank 0's (issue 34,
    // cause 10: MPI_Abort kills rank 0 before its own cleanup): the result's
    // and the sidecar's temporaries and locks, and the checkpoint's lock,
    // held for the whole run (issue 39, cause 1).
    assert_eq!(ours.len(), 2, "{stderr}");
    assert!(
        ours[0].contains("rank 1 panicked") && ours[0].contains("injected fault at step 3"),
        "{}",
        ours[0]
    );
    assert!(
        ours[1].contains("rank 1: removed the job's 5 temporary file(s) and lock(s)"),
        "{}",
        ours[1]
    );
    // mpirun passes MPI_Abort's code on. (Its own "MPI_ABORT was invoked"
    // blurb is not asserted: under load mpirun sometimes fails to print it,
    // "ORTE_ERROR_LOG: Out of resource in file show_help.c".)
    assert_eq!(status.code(), Some(70), "{stderr}");
    assert!(!dir.join("p.h5").exists());
    assert!(listing(&dir).is_empty(), "left: {:?}", listing(&dir));
}

/// A restart "file" that is a FIFO would block rank 0 in open() while the
/// other ranks wait: only regular files are read, for every workload.
#[test]
fn restart_from_a_fifo_is_refused_not_waited_on() {
    let dir = scratch("restart-fifo");
    let fifo = dir.join("ckpt.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) reads the NUL-terminated path only.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    for workload in [
        &["heat", "--nx", "20", "--ny", "20"][..],
        &["ou", "--paths", "2"][..],
    ] {
        let args = [workload, &["--restart", "ckpt.fifo", "--no-output"][..]].concat();
        let out = mpirun_in(&dir, 2, &args, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("is not a regular file"),
            "{args:?}: {stderr}"
        );
    }
}
