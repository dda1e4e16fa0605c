//! The study scripts against what a study directory or a command line can
//! hold after a crash, a hand edit or a typo: `scripts/scaling.py` (study,
//! report, predict, with scripts/costmodel.py and scripts/models.py),
//! `scripts/plot.py`, `scripts/h5same.py` and `scripts/cluster-phases.py`.
//! Every number they take or read is finite and in range or refused: each
//! refusal is one line on stderr naming the file (and line, and field) or
//! the option, exit 2, no traceback; nothing loops for minutes; plot.py
//! goes on to the next file. The study directories are synthetic, like
//! tests/models.rs's, in this test's own temp dirs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The project's Python with numpy, matplotlib and h5py, or a loud skip
/// (never on CI).
fn python() -> Option<&'static str> {
    python_with("numpy, matplotlib, h5py")
}

/// `python scripts/SCRIPT args` (in `dir` if given), killed and the test
/// failed if it has not ended within `limit`: a refusal must not loop.
fn script_in(py: &str, script: &str, args: &[&str], dir: Option<&Path>, limit: Duration) -> Output {
    let mut cmd = Command::new(py);
    cmd.arg(Path::new(ROOT).join("scripts").join(script))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // No SLURM here: a check that comes after the one tested fails at once.
        .env("SLURM_CONF", "/nonexistent/slurm.conf");
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    if is_root() {
        cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    }
    let mut child = cmd.spawn().expect("start python");
    let start = Instant::now();
    while child.try_wait().expect("wait for python").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{script} {args:?} still running after {limit:?}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn script(py: &str, script: &str, args: &[&str]) -> Output {
    script_in(py, script, args, None, Duration::from_secs(60))
}

/// Exit 2 and exactly one line on stderr, holding each of `said`, no
/// traceback. The line.
fn refused(out: &Output, what: &str, said: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{what}: {}", show(out));
    assert!(!err.contains("Traceback"), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: not one line:\n{err}");
    for s in said {
        assert!(err.contains(s), "{what}: {err:?} lacks {s:?}");
    }
    err
}

/// A one-point strong heat study (1 rank, 1.0 s of stencil) of `problem`,
/// with a network.json holding a link within the node (1 us, 1 GB/s), as
/// `scaling.py report` and `predict` read them.
fn heat_study(name: &str, problem: &str) -> PathBuf {
    let dir = scratch(&format!("study_inputs/{name}"));
    let study = serde_json::json!({
        "study": "strong", "workload": "heat", "launcher": "mpirun", "repeat": 1, "ranks": [1],
        "info": {"name": "heat", "phases": ["stencil", "halo", "io"],
                 "rate": {"field": "mlups", "unit": "MLUPS"},
                 "size": [{"option": "nx", "weak": "grid_x"}, {"option": "ny", "weak": "grid_y"}],
                 "comm": {"pattern": "halo", "phase": "halo", "compute": "stencil",
                          "nx": "nx", "ny": "ny", "steps": "steps", "overlap": "overlap"}},
        "host": "synthetic", "cpu": "synthetic", "cores": 4,
    });
    std::fs::write(dir.join("study.json"), study.to_string()).unwrap();
    std::fs::write(
        dir.join("runs.jsonl"),
        format!("{}\n", heat_row(problem, "1.0")),
    )
    .unwrap();
    let net = serde_json::json!({"ranks": 2, "links": [{
        "kind": "intra-node", "ranks": [0, 1], "hosts": ["a", "a"],
        "points": [{"bytes": 8, "time_s": 1.008e-6}, {"bytes": 4096, "time_s": 5.1e-6}],
        "fit": {"alpha_s": 1e-6, "beta_bytes_per_s": 1e9, "worst_misfit": 0.0}}]});
    std::fs::write(dir.join("network.json"), net.to_string()).unwrap();
    dir
}

/// One run of heat_study's point, its wall time written as `wall` (JSON
/// text: "1.0", "0", "NaN").
fn heat_row(problem: &str, wall: &str) -> String {
    format!(
        r#"{{"ranks": 1, "nodes": 1, "repeat": 1, "oversubscribed": false, "problem": "{problem}", "report": {{"wall_time_s": {wall}, "mlups": 100.0, "execution": {{"time_block": 1}}, "phases": {{"stencil": {{"min": 1.0, "avg": 1.0, "max": 1.0}}, "halo": {{"min": 0.0, "avg": 0.0, "max": 0.0}}, "io": {{"min": 0.0, "avg": 0.0, "max": 0.0}}}}}}}}"#
    )
}

/// Edit a JSON file of `dir` in place.
fn edit(dir: &Path, file: &str, change: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join(file);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut v);
    std::fs::write(path, v.to_string()).unwrap();
}

fn predict(py: &str, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["predict", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    script(py, "scaling.py", &all)
}

fn report(py: &str, dir: &Path) -> Output {
    script(py, "scaling.py", &["report", dir.to_str().unwrap()])
}

const NET: &str = "alpha=1us,beta=1GB/s";

/// `predict --ranks 4611686018427387904` looped in Python for minutes
/// (balanced_grid's divisor search at 2^61 ranks); 2^24 ranks on 1-core
/// nodes took two minutes (every rank of the halo visited). Refused at
/// once, and done in seconds.
#[test]
fn predict_refuses_a_rank_count_past_its_limit_at_once() {
    let Some(py) = python() else { return };
    let dir = heat_study("huge-ranks", "nx 100000; ny 100000; steps 100; overlap off");
    let out = script_in(
        py,
        "scaling.py",
        &[
            "predict",
            dir.to_str().unwrap(),
            "--ranks",
            "4611686018427387904",
            "--network",
            NET,
        ],
        None,
        Duration::from_secs(30),
    );
    refused(&out, "--ranks 2^62", &["--ranks must be at most 16777216"]);
    let out = script_in(
        py,
        "scaling.py",
        &[
            "predict",
            dir.to_str().unwrap(),
            "--ranks",
            "16777216",
            "--cores-per-node",
            "1",
            "--network",
            NET,
        ],
        None,
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", show(&out));
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("prediction.json")).unwrap())
            .unwrap();
    let last = p["ranks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["p"], 16777216, "{p}");
    assert!(last["total"].as_f64().unwrap() > 0.0, "{p}");
}

/// alpha=1e999us (inf) or a bandwidth of 1e-320 B/s gave tables of inf
/// and nan; 1.2.3us a traceback; --cores-per-node 0 silently became the
/// study's core count.
#[test]
fn predict_refuses_impossible_networks_and_counts() {
    let Some(py) = python() else { return };
    let dir = heat_study("networks", "nx 1000; ny 1000; steps 100; overlap off");
    for (args, said) in [
        (
            &["--ranks", "8", "--network", "alpha=1e999us,beta=1GB/s"][..],
            &["--network", "alpha=1e999us", "at most 1 s"][..],
        ),
        (
            &["--ranks", "8", "--network", "alpha=1us,beta=1e-320B/s"],
            &["--network", "beta=1e-320B/s", "at least 1 B/s"],
        ),
        (
            &["--ranks", "8", "--network", "alpha=1.2.3us,beta=10GB/s"],
            &["--network", "alpha=1.2.3us", "needs a number"],
        ),
        (
            &["--ranks", "8", "--intra", "alpha=1us,beta=1e400GB/s"],
            &["--intra", "beta=1e400GB/s"],
        ),
        (
            &["--ranks", "8", "--network", "alpha=1us,alpha=2us"],
            &["--network", "alpha is given twice"],
        ),
        (
            &["--ranks", "8", "--cores-per-node", "0", "--network", NET],
            &["--cores-per-node must be at least 1 (got 0)"],
        ),
        (
            &["--ranks", "8", "--cores-per-node", "-4", "--network", NET],
            &["--cores-per-node must be at least 1 (got -4)"],
        ),
        (
            &[
                "--ranks",
                "8",
                "--cores-per-node",
                "99999999999",
                "--network",
                NET,
            ],
            &["--cores-per-node must be at most 16777216"],
        ),
        (
            &["--ranks", "0", "--network", NET],
            &["--ranks must be at least 1"],
        ),
        (
            &["--ranks", "1e3", "--network", NET],
            &["--ranks", "invalid int value: '1e3'"],
        ),
    ] {
        let out = predict(py, &dir, args);
        refused(&out, &format!("{args:?}"), said);
    }
}

/// A wall time of 0 gave a ZeroDivisionError, a negative one a speedup of
/// -227, NaN a table of nan: in report and predict alike, refused naming
/// runs.jsonl, its line and the field.
#[test]
fn report_and_predict_refuse_impossible_wall_times() {
    let Some(py) = python() else { return };
    let problem = "nx 1000; ny 1000; steps 100; overlap off";
    for (name, wall) in [
        ("wall-zero", "0"),
        ("wall-negative", "-0.0044"),
        ("wall-nan", "NaN"),
        ("wall-inf", "1e999"),
        ("wall-text", "\"fast\""),
    ] {
        let dir = heat_study(name, problem);
        // A good first point, the bad one second: the line is named.
        let good = heat_row(problem, "1.0");
        let bad = heat_row(problem, wall).replace("\"repeat\": 1", "\"repeat\": 2");
        std::fs::write(dir.join("runs.jsonl"), format!("{good}\n{bad}\n")).unwrap();
        for out in [
            report(py, &dir),
            predict(py, &dir, &["--ranks", "8", "--network", NET]),
        ] {
            refused(
                &out,
                name,
                &["runs.jsonl line 2", "report: wall_time_s must be"],
            );
        }
        assert!(
            !dir.join("table.md").exists(),
            "{name}: a report was written"
        );
    }
}

/// A study killed mid-write (runs.jsonl or network.json cut short),
/// study.json without a key or with a wrong type: one line naming the file
/// and what is wrong, not a KeyError or JSONDecodeError traceback.
#[test]
fn truncated_and_incomplete_study_files_are_one_line_naming_the_file() {
    let Some(py) = python() else { return };
    let problem = "nx 1000; ny 1000; steps 100; overlap off";
    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage, &[&str])> = vec![
        (
            "runs-cut",
            Box::new(|d| {
                let row = heat_row("nx 1000; ny 1000; steps 100; overlap off", "1.0");
                std::fs::write(d.join("runs.jsonl"), format!("{row}\n{}", &row[..70])).unwrap()
            }),
            &["runs.jsonl line 2: not valid JSON"],
        ),
        (
            "study-cut",
            Box::new(|d| {
                let text = std::fs::read_to_string(d.join("study.json")).unwrap();
                std::fs::write(d.join("study.json"), &text[..text.len() / 2]).unwrap()
            }),
            &["study.json: not valid JSON"],
        ),
        (
            "no-workload",
            Box::new(|d| {
                edit(d, "study.json", |v| {
                    v.as_object_mut().unwrap().remove("workload");
                })
            }),
            &["study.json: no 'workload'"],
        ),
        (
            "no-study",
            Box::new(|d| {
                edit(d, "study.json", |v| {
                    v.as_object_mut().unwrap().remove("study");
                })
            }),
            &["study.json: no 'study'"],
        ),
        (
            "repeat-text",
            Box::new(|d| edit(d, "study.json", |v| v["repeat"] = "three".into())),
            &["study.json: repeat must be a whole number"],
        ),
        (
            "cores-zero",
            Box::new(|d| edit(d, "study.json", |v| v["cores"] = 0.into())),
            &["study.json: cores must be from 1"],
        ),
        (
            "no-phases",
            Box::new(|d| {
                edit(d, "study.json", |v| {
                    v["info"].as_object_mut().unwrap().remove("phases");
                })
            }),
            &["study.json: info: no 'phases'"],
        ),
        (
            "no-report",
            Box::new(|d| std::fs::write(d.join("runs.jsonl"), "{\"ranks\": 1}\n").unwrap()),
            &["runs.jsonl line 1: no 'nodes'"],
        ),
        (
            "ranks-half",
            Box::new(|d| {
                let row = heat_row("nx 1000; ny 1000; steps 100; overlap off", "1.0")
                    .replace("\"ranks\": 1,", "\"ranks\": 1.5,");
                std::fs::write(d.join("runs.jsonl"), format!("{row}\n")).unwrap()
            }),
            &["runs.jsonl line 1: ranks must be a whole number"],
        ),
        (
            "no-halo-phase",
            Box::new(|d| {
                let row = heat_row("nx 1000; ny 1000; steps 100; overlap off", "1.0")
                    .replace("\"halo\"", "\"hallo\"");
                std::fs::write(d.join("runs.jsonl"), format!("{row}\n")).unwrap()
            }),
            &["runs.jsonl line 1: report: phases: no 'halo'"],
        ),
        (
            "phase-order",
            Box::new(|d| {
                let row = heat_row("nx 1000; ny 1000; steps 100; overlap off", "1.0").replace(
                    "\"min\": 1.0, \"avg\": 1.0, \"max\": 1.0",
                    "\"min\": 3.0, \"avg\": 1.0, \"max\": 0.5",
                );
                std::fs::write(d.join("runs.jsonl"), format!("{row}\n")).unwrap()
            }),
            &["runs.jsonl line 1: report: phases.stencil", "not in order"],
        ),
    ];
    for (name, damage, said) in cases {
        let dir = heat_study(name, problem);
        damage(&dir);
        for out in [
            report(py, &dir),
            predict(py, &dir, &["--ranks", "8", "--network", NET]),
        ] {
            refused(&out, name, said);
        }
    }
    // network.json cut short: predict reads it (report does not).
    let dir = heat_study("net-cut", problem);
    let text = std::fs::read_to_string(dir.join("network.json")).unwrap();
    std::fs::write(dir.join("network.json"), &text[..text.len() / 2]).unwrap();
    let out = predict(py, &dir, &["--ranks", "8", "--network", NET]);
    refused(
        &out,
        "net-cut",
        &["network.json: not the output of parsim pingpong"],
    );
}

/// Pingpong points with a time of 0 divided by zero (the bandwidth is
/// the best point's where the fit has none); a NaN latency went into the
/// model. `--network FILE` reads the same checks, and takes the study's
/// own pretty-printed network.json too.
#[test]
fn pingpong_links_of_no_time_are_refused_naming_the_file() {
    let Some(py) = python() else { return };
    let problem = "nx 1000; ny 1000; steps 100; overlap off";
    let dir = heat_study("pingpong-zero", problem);
    edit(&dir, "network.json", |v| {
        v["links"][0]["fit"]["beta_bytes_per_s"] = serde_json::Value::Null;
        v["links"][0]["points"][1]["time_s"] = 0.into();
    });
    let out = predict(py, &dir, &["--ranks", "8", "--network", NET]);
    refused(
        &out,
        "time 0",
        &["network.json: links[0] (intra-node): points[1]: time_s must be"],
    );
    let dir = heat_study("pingpong-nan", problem);
    edit(&dir, "network.json", |v| {
        v["links"][0]["fit"]["alpha_s"] = "NAN".into()
    });
    let text = std::fs::read_to_string(dir.join("network.json")).unwrap();
    std::fs::write(dir.join("network.json"), text.replace("\"NAN\"", "NaN")).unwrap();
    let out = predict(py, &dir, &["--ranks", "8", "--network", NET]);
    refused(&out, "alpha NaN", &["network.json: links[0]", "alpha_s"]);

    // Between nodes from a file: a point of no time refused, naming it;
    // a good one, pretty-printed as a study's network.json is, taken.
    let dir = heat_study("pingpong-file", problem);
    let link = |t: f64| {
        serde_json::json!({"ranks": 2, "links": [{
            "kind": "inter-node", "ranks": [0, 1], "hosts": ["a", "b"],
            "points": [{"bytes": 8, "time_s": t}, {"bytes": 4096, "time_s": 4e-5}],
            "fit": {"alpha_s": 1e-5, "beta_bytes_per_s": 1e8, "worst_misfit": 0.0}}]})
    };
    let bad = dir.join("bad-net.json");
    std::fs::write(&bad, link(0.0).to_string()).unwrap();
    let out = predict(
        py,
        &dir,
        &[
            "--ranks",
            "8",
            "--cores-per-node",
            "4",
            "--network",
            bad.to_str().unwrap(),
        ],
    );
    refused(
        &out,
        "--network FILE",
        &["bad-net.json: links[0]", "time_s"],
    );
    let good = dir.join("net.json");
    std::fs::write(&good, serde_json::to_string_pretty(&link(1.1e-5)).unwrap()).unwrap();
    let out = predict(
        py,
        &dir,
        &[
            "--ranks",
            "8",
            "--cores-per-node",
            "4",
            "--network",
            good.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
}

/// What the cost model reads of the reference point's problem: steps 0
/// divided by zero, a size of 1e999 overflowed; the registry's comm with
/// an unknown pattern was a traceback.
#[test]
fn predict_refuses_a_problem_the_model_cannot_use() {
    let Some(py) = python() else { return };
    for (name, problem, said) in [
        (
            "steps-zero",
            "nx 1000; ny 1000; steps 0",
            &["runs.jsonl line 1", "the model needs steps", "(got 0)"][..],
        ),
        (
            "nx-inf",
            "nx 1e999; ny 1000; steps 10",
            &["runs.jsonl line 1", "the model needs nx", "Infinity"],
        ),
        (
            "no-ny",
            "nx 1000; steps 10",
            &["runs.jsonl line 1", "the model needs ny", "(got none)"],
        ),
    ] {
        let dir = heat_study(name, problem);
        let out = predict(py, &dir, &["--ranks", "8", "--network", NET]);
        refused(&out, name, said);
    }
    let dir = heat_study("pattern", "nx 1000; ny 1000; steps 10");
    edit(&dir, "study.json", |v| {
        v["info"]["comm"]["pattern"] = "star".into()
    });
    let out = predict(py, &dir, &["--ranks", "8", "--network", NET]);
    refused(
        &out,
        "pattern",
        &["study.json: info.comm: pattern must be one of"],
    );
}

/// A study's own options: `--size inf` was an OverflowError traceback,
/// `--size 2.5` silently 2, `--max-ranks 2^62 --oversubscribe` looped in
/// balanced_grid, `--repeat 10^8` was taken. Each refused before anything
/// runs or any directory is made. (SLURM_CONF points nowhere: the old
/// code, past these, stopped at SLURM.)
#[test]
fn a_study_refuses_sizes_and_counts_out_of_range() {
    let Some(py) = python() else { return };
    let dir = scratch("study_inputs/study-options");
    let out_dir = dir.join("x");
    let out_arg = out_dir.to_str().unwrap();
    let parsim_arg = format!("--parsim={}", parsim());
    let slurm = ["--launcher", "slurm"];
    for (args, said) in [
        (
            &["strong", "pi", "--size", "inf"][..],
            &["--size: 'inf' for --samples is not a whole number"][..],
        ),
        (
            &["strong", "pi", "--size", "2.5", slurm[0], slurm[1]],
            &["--size: '2.5' for --samples is not a whole number"],
        ),
        (
            &["strong", "pi", "--size", "1e400", slurm[0], slurm[1]],
            &["--size: '1e400' for --samples"],
        ),
        (
            &[
                "weak",
                "pi",
                "--size",
                "9223372036854775807",
                slurm[0],
                slurm[1],
            ],
            &["--samples grows to 18446744073709551614 on 2 ranks"],
        ),
        (
            &[
                "strong",
                "pi",
                "--max-ranks",
                "4611686018427387904",
                "--oversubscribe",
                slurm[0],
                slurm[1],
            ],
            &["--max-ranks must be at most 16777216"],
        ),
        (
            &["strong", "pi", "--repeat", "100000000", slurm[0], slurm[1]],
            &["--repeat must be at most 1000"],
        ),
        (
            &["strong", "pi", "--tasks-per-node", "-1", slurm[0], slurm[1]],
            &["--tasks-per-node must be at least 1"],
        ),
        (
            &["strong", "pi", "--repeat", "many"],
            &["argument --repeat: invalid int value: 'many'"],
        ),
    ] {
        let mut all = args.to_vec();
        all.extend_from_slice(&[&parsim_arg, "--out", out_arg]);
        let out = script_in(py, "scaling.py", &all, None, Duration::from_secs(30));
        refused(&out, &format!("{args:?}"), said);
        assert!(!out_dir.exists(), "{args:?} made the output directory");
    }
}

/// A run that fails inside a study: its error is parsim's own line, not
/// mpirun's banner of dashes, and the half study is removed, so the same
/// command with the same --out runs (here, fixed).
#[test]
fn a_failed_run_says_parsims_error_and_leaves_no_half_study() {
    let Some(py) = python() else { return };
    let dir = scratch("study_inputs/failed-run");
    let out_dir = dir.join("study");
    let study = |steps: &str| {
        let set = format!("steps={steps}");
        script_in(
            py,
            "scaling.py",
            &[
                "strong",
                "heat",
                "--size",
                "60x40",
                "--set",
                &set,
                "--max-ranks",
                "1",
                "--repeat",
                "1",
                &format!("--parsim={}", parsim()),
                "--out",
                out_dir.to_str().unwrap(),
            ],
            None,
            Duration::from_secs(120),
        )
    };
    let out = study("abc");
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].starts_with(
            "scaling: error: p=1 run 1/1 failed (exit 2): parsim: error: invalid value 'abc'"
        ),
        "{err}"
    );
    assert!(
        !err.contains("-----") && !err.contains("Traceback"),
        "{err}"
    );
    assert!(!out_dir.exists(), "the failed study left {out_dir:?}");
    // An empty --out made beforehand is left empty.
    std::fs::create_dir(&out_dir).unwrap();
    let out = study("abc");
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(listing(&out_dir).is_empty(), "{:?}", listing(&out_dir));
    let out = study("5");
    assert!(out.status.success(), "{}", show(&out));
    assert!(out_dir.join("table.md").exists());
}

/// A report of a study without its 1-rank point (a SLURM point that never
/// ran) was a ValueError traceback in the plot; one whose times no
/// Amdahl law with T(1) > 0 comes near wrote NaN into model.json (not
/// JSON) and "nan" into table.md. Now: '-' where there is no speedup, null where a law does not
/// fit, and words saying so.
#[test]
fn a_report_has_no_nan_where_a_law_or_a_point_is_missing() {
    let Some(py) = python() else { return };
    let write = |name: &str, walls: &[(u64, f64)]| {
        let dir = heat_study(name, "nx 1000; ny 1000; steps 100; overlap off");
        let rows: Vec<String> = walls
            .iter()
            .map(|&(p, t)| {
                heat_row("nx 1000; ny 1000; steps 100; overlap off", &format!("{t}"))
                    .replace("\"ranks\": 1,", &format!("\"ranks\": {p},"))
                    .replace(
                        "\"min\": 1.0, \"avg\": 1.0, \"max\": 1.0",
                        &format!("\"min\": {t}, \"avg\": {t}, \"max\": {t}"),
                    )
            })
            .collect();
        std::fs::write(dir.join("runs.jsonl"), rows.join("\n") + "\n").unwrap();
        dir
    };
    let dir = write("no-one-rank", &[(2, 0.5), (4, 0.3)]);
    let out = report(py, &dir);
    assert!(out.status.success(), "{}", show(&out));
    let table = std::fs::read_to_string(dir.join("table.md")).unwrap();
    assert!(!table.contains("nan"), "{table}");
    let dir = write("erratic", &[(1, 10.0), (2, 0.1), (4, 1.0), (8, 1.0)]);
    let out = report(py, &dir);
    assert!(out.status.success(), "{}", show(&out));
    let text = std::fs::read_to_string(dir.join("model.json")).unwrap();
    let model: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("model.json is not JSON ({e}):\n{text}"));
    assert!(
        model["amdahl"]["serial_fraction"]["value"].is_null(),
        "{model}"
    );
    let table = std::fs::read_to_string(dir.join("table.md")).unwrap();
    assert!(
        !table.contains("nan") && table.contains("Amdahl: no fit"),
        "{table}"
    );
}

/// plot.py stopped at the first file it could not plot (a dataset
/// missing: a KeyError traceback) and plotted none after it. Each bad
/// file is one line naming it and what is wrong; the good one is plotted;
/// exit 2.
#[test]
fn plot_goes_on_to_the_next_file_after_one_it_cannot_plot() {
    let Some(py) = python() else { return };
    let dir = scratch("study_inputs/plot");
    run_ok(
        &dir,
        1,
        &[
            "pi",
            "--samples",
            "1000000",
            "--chunk",
            "100000",
            "--output",
            "p.h5",
        ],
    );
    let damage = r#"
import h5py, shutil, sys
shutil.copy("p.h5", "no-hits.h5")
with h5py.File("no-hits.h5", "r+") as f:
    del f["pi/chunk_hits"]
shutil.copy("p.h5", "nan.h5")
with h5py.File("nan.h5", "r+") as f:
    f["pi"].attrs["chunk"] = float("nan")
shutil.copy("p.h5", "zero.h5")
with h5py.File("zero.h5", "r+") as f:
    f["pi"].attrs["samples"] = 0
"#;
    let made = Command::new(py)
        .args(["-c", damage])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", show(&made));
    let out = script_in(
        py,
        "plot.py",
        &["no-hits.h5", "nan.h5", "zero.h5", "p.h5"],
        Some(&dir),
        Duration::from_secs(120),
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("Traceback"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].contains("no-hits.h5") && lines[0].contains("no dataset 'chunk_hits'"),
        "{err}"
    );
    assert!(
        lines[1].contains("nan.h5") && lines[1].contains("'chunk'"),
        "{err}"
    );
    assert!(
        lines[2].contains("zero.h5") && lines[2].contains("'samples' must be at least 1"),
        "{err}"
    );
    assert!(
        dir.join("p-pi.png").exists(),
        "the good file was not plotted"
    );
    for bad in ["no-hits-pi.png", "nan-pi.png", "zero-pi.png"] {
        assert!(!dir.join(bad).exists(), "{bad} written");
    }
}

/// h5same.py on a file it cannot read: one line naming it, exit 2 (1 is
/// "the files differ"), not a traceback.
#[test]
fn h5same_names_the_file_it_cannot_read() {
    let Some(py) = python() else { return };
    let dir = scratch("study_inputs/h5same");
    std::fs::write(dir.join("a.json"), "{\"wall_time_s\": 1}").unwrap();
    std::fs::write(dir.join("cut.json"), "{\"wall_time_s\": ").unwrap();
    std::fs::write(dir.join("junk.h5"), "not hdf5").unwrap();
    for (args, said) in [
        (&["a.json", "cut.json"][..], "cannot read cut.json"),
        (&["a.json", "missing.json"], "cannot read missing.json"),
        (&["missing.h5", "junk.h5"], "cannot read missing.h5"),
        (&["junk.h5", "junk.h5"], "cannot read junk.h5"),
    ] {
        let out = script_in(py, "h5same.py", args, Some(&dir), Duration::from_secs(60));
        refused(&out, &format!("{args:?}"), &[said]);
    }
}

/// cluster-phases.py took any --repeat and said its refusals as
/// sys.exit's exit 1; now a --repeat out of range is refused first, one
/// line, exit 2.
#[test]
fn cluster_phases_refuses_a_repeat_out_of_range() {
    let Some(py) = python() else { return };
    for (arg, said) in [
        ("100000", "--repeat must be from 1 to 1000 (got 100000)"),
        ("0", "--repeat must be from 1 to 1000 (got 0)"),
        ("x", "argument --repeat: invalid int value: 'x'"),
    ] {
        let out = script(py, "cluster-phases.py", &["--repeat", arg]);
        refused(&out, arg, &["cluster-phases: error:", said]);
    }
}
