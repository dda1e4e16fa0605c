//! End-to-end tests of the ensembles (`ou`, `pi`, `markov`) through real
//! `mpirun`: bitwise identity of every stored dataset for P = 1..4 with
//! member counts that do not divide evenly, the sweep layout, validation
//! in the reports, and refusal of bad input.

mod common;

use std::path::Path;

use common::*;

/// Every dataset below `group` (recursively), as raw bits, by path.
fn datasets(file: &Path, group: &str) -> Vec<(String, Vec<u64>)> {
    let f = hdf5::File::open(file).unwrap();
    let mut out = Vec::new();
    let mut stack = vec![group.to_string()];
    while let Some(g) = stack.pop() {
        let grp = f.group(&g).unwrap();
        for name in grp.member_names().unwrap() {
            let path = format!("{g}/{name}");
            if let Ok(ds) = f.dataset(&path) {
                let dtype = ds.dtype().unwrap();
                let bits: Vec<u64> = if dtype.is::<f64>() {
                    ds.read_raw::<f64>()
                        .unwrap()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect()
                } else if dtype.is::<hdf5::types::VarLenUnicode>() {
                    // Labels (state names): their bytes.
                    let labels = ds.read_raw::<hdf5::types::VarLenUnicode>().unwrap();
                    labels
                        .iter()
                        .flat_map(|l| l.as_bytes().to_vec())
                        .map(u64::from)
                        .collect()
                } else {
                    ds.read_raw::<u64>().unwrap()
                };
                out.push((path, bits));
            } else {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

fn assert_same_on_1_to_4_ranks(tag: &str, args: &[&str], group: &str) {
    let dir = scratch(tag);
    let mut reference = None;
    for p in 1..=4 {
        let out = format!("p{p}.h5");
        let mut a = args.to_vec();
        a.extend(["--output", &out]);
        let r = run_json(&dir, p, &a);
        assert_eq!(r["passed"], true, "P={p}: {r}");
        let data = datasets(&dir.join(&out), group);
        assert!(!data.is_empty());
        match &reference {
            None => reference = Some(data),
            Some(want) => {
                for ((name, bits), (wname, wbits)) in data.iter().zip(want) {
                    assert_eq!(name, wname);
                    assert!(bits == wbits, "P={p}: {name} differs from the 1-rank run");
                }
                assert_eq!(data.len(), want.len());
            }
        }
    }
}

#[test]
fn ou_stats_identical_on_any_rank_count() {
    // 2 sets x 5 paths = 10 members: not divisible by 3 or 4; with 4 ranks
    // some ranks run lanes and others single members.
    assert_same_on_1_to_4_ranks(
        "ou_stats",
        &[
            "ou",
            "--paths",
            "5",
            "--x0",
            "0,3",
            "--steps",
            "2000",
            "--record-every",
            "100",
        ],
        "/ou",
    );
}

#[test]
fn ou_paths_identical_on_any_rank_count() {
    assert_same_on_1_to_4_ranks(
        "ou_paths",
        &[
            "ou",
            "--paths",
            "7",
            "--steps",
            "1003",
            "--record-every",
            "50",
            "--store",
            "paths",
        ],
        "/ou",
    );
}

#[test]
fn ou_paths_layout_and_consistency() {
    let dir = scratch("ou_layout");
    run_ok(
        &dir,
        3,
        &[
            "ou",
            "--paths",
            "6",
            "--steps",
            "1000",
            "--record-every",
            "100",
            "--x0",
            "4",
            "--store",
            "paths",
            "--output",
            "o.h5",
        ],
    );
    let f = hdf5::File::open(dir.join("o.h5")).unwrap();
    let ou = f.group("ou").unwrap();
    let attr_u = |g: &hdf5::Group, n: &str| g.attr(n).unwrap().read_scalar::<u64>().unwrap();
    let attr_f = |g: &hdf5::Group, n: &str| g.attr(n).unwrap().read_scalar::<f64>().unwrap();
    assert_eq!(
        (
            attr_u(&ou, "paths"),
            attr_u(&ou, "steps"),
            attr_u(&ou, "record_every")
        ),
        (6, 1000, 100)
    );
    let set = f.group("ou/set_000").unwrap();
    assert_eq!(
        (
            attr_f(&set, "x0"),
            attr_f(&set, "tau"),
            attr_f(&set, "sigma"),
            attr_f(&set, "dt")
        ),
        (4.0, 1.0, 2.0, 0.1)
    );
    let paths = set.dataset("paths").unwrap().read_2d::<f64>().unwrap();
    assert_eq!(paths.dim(), (6, 11));
    let finals = set.dataset("final").unwrap().read_1d::<f64>().unwrap();
    let time = set.dataset("time").unwrap().read_1d::<f64>().unwrap();
    assert_eq!(time.len(), 11);
    assert!((time[10] - 100.0).abs() < 1e-12);
    for m in 0..6 {
        assert_eq!(paths[[m, 0]], 4.0, "paths start at x0");
        assert_eq!(paths[[m, 10]], finals[m], "last sample is the final value");
    }
    // mean at each time equals the mean of the stored paths
    let mean = set.dataset("mean").unwrap().read_1d::<f64>().unwrap();
    for k in 0..11 {
        let direct: f64 = (0..6).map(|m| paths[[m, k]]).sum::<f64>() / 6.0;
        assert!((mean[k] - direct).abs() < 1e-12, "t index {k}");
    }
}

#[test]
fn ou_sweep_makes_one_group_per_parameter_set() {
    let dir = scratch("ou_sweep");
    let r = run_json(
        &dir,
        2,
        &[
            "ou", "--paths", "200", "--steps", "400", "--tau", "0.5,2", "--sigma", "1,3", "--x0",
            "1", "--output", "s.h5",
        ],
    );
    assert_eq!(r["sets"].as_array().unwrap().len(), 4);
    assert_eq!(r["members"], 800);
    assert_eq!(r["passed"], true, "{r}");
    let f = hdf5::File::open(dir.join("s.h5")).unwrap();
    let expect = [(0.5, 1.0), (0.5, 3.0), (2.0, 1.0), (2.0, 3.0)];
    for (k, (tau, sigma)) in expect.iter().enumerate() {
        let g = f.group(&format!("ou/set_{k:03}")).unwrap();
        let a = |n: &str| g.attr(n).unwrap().read_scalar::<f64>().unwrap();
        assert_eq!((a("tau"), a("sigma"), a("x0")), (*tau, *sigma, 1.0));
        assert_eq!(
            g.attr("first_member")
                .unwrap()
                .read_scalar::<u64>()
                .unwrap(),
            200 * k as u64
        );
        assert_eq!(g.dataset("final").unwrap().shape(), vec![200]);
        // z-scores stored beside the data
        assert!(a("z_mean").abs() < 5.0);
    }
    assert!(f.group("ou/set_004").is_err());
}

#[test]
fn ou_report_validates_against_theory() {
    let dir = scratch("ou_theory");
    let r = run_json(
        &dir,
        2,
        &[
            "ou",
            "--paths",
            "2000",
            "--steps",
            "30",
            "--x0",
            "5",
            "--no-output",
        ],
    );
    let set = &r["sets"][0];
    for key in ["z_mean", "z_variance", "z_lag1"] {
        let z = set[key].as_f64().unwrap();
        assert!(z.abs() < 5.0, "{key} = {z}");
    }
    let t: f64 = 30.0 * 0.1;
    assert!((set["mean_theory"].as_f64().unwrap() - 5.0 * (-t).exp()).abs() < 1e-12);
    assert!(r["normals_per_s_per_core"].as_f64().unwrap() > 0.0);
}

#[test]
fn pi_hits_identical_on_any_rank_count() {
    assert_same_on_1_to_4_ranks(
        "pi",
        &[
            "pi",
            "--samples",
            "3000007",
            "--chunk",
            "100000",
            "--seed",
            "7",
        ],
        "/pi",
    );
    let dir = scratch("pi_report");
    let r = run_json(&dir, 2, &["pi", "--samples", "4000000", "--no-output"]);
    let z = r["z"].as_f64().unwrap();
    assert!(z.abs() < 5.0);
    let est = r["estimate"].as_f64().unwrap();
    assert_eq!(est, 4.0 * r["hits"].as_f64().unwrap() / 4e6);
}

#[test]
fn markov_identical_on_any_rank_count() {
    assert_same_on_1_to_4_ranks(
        "markov",
        &["markov", "--chains", "13", "--days", "20000"],
        "/markov",
    );
    let dir = scratch("markov_report");
    let r = run_json(
        &dir,
        3,
        &[
            "markov",
            "--chains",
            "200",
            "--days",
            "20000",
            "--no-output",
        ],
    );
    let theory = [0.625, 0.3125, 0.0625];
    for (k, t) in theory.iter().enumerate() {
        let f = r["fractions"][k].as_f64().unwrap();
        assert!((f - t).abs() < 0.01, "state {k}: {f}");
        assert!(r["z"][k].as_f64().unwrap().abs() < 5.0);
    }
}

#[test]
fn ensemble_bad_input_refused_once_and_writes_nothing() {
    let dir = scratch("ens_invalid");
    std::fs::write(dir.join("taken.h5"), b"keep").unwrap();
    let cases: Vec<(usize, Vec<&str>, &str)> = vec![
        (
            2,
            vec!["ou", "--tau", "0"],
            "--tau must be a finite number > 0",
        ),
        (
            2,
            vec!["ou", "--tau", "1,-2"],
            "--tau must be a finite number > 0",
        ),
        (
            2,
            vec!["ou", "--sigma", "-1"],
            "--sigma must be a finite number >= 0",
        ),
        (
            2,
            vec!["ou", "--dt", "0"],
            "--dt must be a finite number > 0",
        ),
        (
            2,
            vec!["ou", "--dt", "0.1,,0.2"],
            "invalid value '' for '--dt",
        ),
        (2, vec!["ou", "--x0", "inf"], "--x0 must be a finite number"),
        (2, vec!["ou", "--paths", "0"], "--paths must be at least 1"),
        (2, vec!["ou", "--steps", "0"], "--steps must be at least 1"),
        (
            2,
            vec!["ou", "--steps", "10", "--record-every", "0"],
            "--record-every must be at least 1",
        ),
        (
            2,
            vec!["ou", "--steps", "10", "--record-every", "11"],
            "exceeds --steps",
        ),
        (
            2,
            vec!["ou", "--store", "everything"],
            "invalid value 'everything' for '--store",
        ),
        (
            3,
            vec!["ou", "--seed", "-1"],
            "invalid value '-1' for '--seed",
        ),
        (
            2,
            vec!["ou", "--output", "taken.h5"],
            "exists; pass --force",
        ),
        (
            2,
            vec!["pi", "--samples", "0"],
            "--samples must be at least 1",
        ),
        (2, vec!["pi", "--chunk", "0"], "--chunk must be at least 1"),
        (
            2,
            vec!["pi", "--samples", "100000000000", "--chunk", "1"],
            "raise --chunk",
        ),
        (2, vec!["pi", "--output", "missing/pi.h5"], "does not exist"),
        (
            2,
            vec!["markov", "--chains", "0"],
            "--chains must be at least 1",
        ),
        (
            2,
            vec!["markov", "--days", "0"],
            "--days must be at least 1",
        ),
        (2, vec!["nosuch"], "unrecognized subcommand 'nosuch'"),
    ];
    let before = listing(&dir);
    for (ranks, args, expected) in cases {
        assert_refused(&dir, ranks, &args, expected);
        assert_eq!(listing(&dir), before, "{args:?} left files behind");
    }
    assert_eq!(std::fs::read(dir.join("taken.h5")).unwrap(), b"keep");
}

/// pi and markov run in rounds on the driver: a stop signal ends them
/// within a round, every rank alike, with exit 75, one line from rank 0
/// and no result file (they keep no checkpoint, and say so).
#[test]
fn pi_and_markov_stop_on_sigterm_and_sigusr1() {
    let long: [(&str, &[&str]); 2] = [
        (
            "pi",
            &["pi", "--samples", "1000000000000", "--chunk", "1048576"],
        ),
        (
            "markov",
            &["markov", "--chains", "200000", "--days", "1000000"],
        ),
    ];
    for ((name, args), sig) in long.iter().zip(["USR1", "TERM"]) {
        let dir = scratch(&format!("stop-{name}"));
        let mut a = args.to_vec();
        a.extend(["--output", "r.h5"]);
        let mut child = mpirun_command(&dir, 2, &a).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let pid = child.id();
        if sig == "TERM" {
            // to the ranks, as a plain `kill PID` of a rank would
            let ranks = rank_pids(pid);
            assert_eq!(ranks.len(), 2, "{name}: rank pids {ranks:?}");
            ranks.iter().for_each(|&r| signal(r, sig));
        } else {
            signal(pid, sig);
        }
        let status = wait_for(&mut child, std::time::Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{name} did not stop within 20 s of SIG{sig}"));
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(75), "{name}: {stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("parsim: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{name}: {stderr}");
        assert!(
            errors[0].contains(&format!("{name}: stopped by SIG{sig} with"))
                && errors[0].contains("keeps no checkpoint"),
            "{name}: {stderr}"
        );
        assert!(!dir.join("r.h5").exists(), "{name} wrote a result file");
    }
}

/// Every workload on the driver prints progress lines in a job log, none
/// with --quiet.
#[test]
fn pi_and_markov_show_progress_lines_in_a_log() {
    let dir = scratch("progress-mc");
    let runs: [(&str, &[&str]); 2] = [
        (
            "pi: chunk ",
            &["pi", "--samples", "400000000", "--no-output"],
        ),
        (
            "markov: chain ",
            &[
                "markov",
                "--chains",
                "400",
                "--days",
                "400000",
                "--no-output",
            ],
        ),
    ];
    for (marker, args) in runs {
        let run = |quiet: bool| {
            let mut a = args.to_vec();
            if quiet {
                a.push("--quiet");
            }
            let out = mpirun_command(&dir, 2, &a)
                .env("PARSIM_PROGRESS_SECS", "0")
                .output()
                .unwrap();
            assert_success(&out);
            String::from_utf8_lossy(&out.stderr).into_owned()
        };
        let log = run(false);
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(marker)).collect();
        assert!(lines.len() >= 2, "{marker}: {log}");
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("parsim: ") && l.contains("ETA")),
            "{log}"
        );
        assert!(
            !run(true).contains(marker),
            "--quiet still printed progress"
        );
    }
}

/// `--params FILE`: rank 0 reads the table and every rank gets it; the
/// same sets as the lists give the same bits on any rank count, and bad
/// tables are refused once, naming the file and line, writing nothing.
#[test]
fn ou_params_table_equals_the_same_sweep_from_lists() {
    let dir = scratch("ou_params");
    std::fs::write(
        dir.join("sets.csv"),
        "# tau sigma dt x0\nx0,tau,sigma,dt\n1,0.5,1,0.1\n1,0.5,3,0.1\n1,2,1,0.1\n1,2,3,0.1\n",
    )
    .unwrap();
    let lists = [
        "ou", "--paths", "7", "--steps", "300", "--tau", "0.5,2", "--sigma", "1,3", "--x0", "1",
    ];
    run_json(&dir, 1, &[&lists[..], &["--output", "lists.h5"]].concat());
    let want = datasets(&dir.join("lists.h5"), "ou");
    for p in 1..=3 {
        let out = format!("table{p}.h5");
        let args = [
            "ou", "--paths", "7", "--steps", "300", "--params", "sets.csv", "--output", &out,
        ];
        let r = run_json(&dir, p, &args);
        assert_eq!(r["sets"].as_array().unwrap().len(), 4, "{r}");
        assert!(
            datasets(&dir.join(&out), "ou") == want,
            "P={p}: table != lists"
        );
    }
    std::fs::write(dir.join("short.csv"), "tau,sigma,dt,x0\n1,2,0.1\n").unwrap();
    std::fs::write(dir.join("neg.csv"), "tau,sigma,dt,x0\n-1,2,0.1,0\n").unwrap();
    std::fs::create_dir(dir.join("adir")).unwrap();
    let before = listing(&dir);
    for (args, says) in [
        (
            vec!["--params", "short.csv"],
            "--params 'short.csv': line 2: 3 values",
        ),
        (
            vec!["--params", "neg.csv"],
            "--tau must be a finite number > 0",
        ),
        (
            vec!["--params", "none.csv"],
            "--params 'none.csv': No such file",
        ),
        (vec!["--params", "adir"], "not a regular file"),
        (
            vec!["--params", "neg.csv", "--tau", "1"],
            "cannot be used with",
        ),
    ] {
        let a = [&["ou"][..], &args[..]].concat();
        assert_refused(&dir, 2, &a, says);
        assert_eq!(listing(&dir), before, "{args:?} left files behind");
    }
}

/// ou shows progress lines in a log too (the driver's, as every workload):
/// 1000 groups of 4 members x 10^5 steps a rank make 6 rounds.
#[test]
fn ou_shows_progress_lines_in_a_log() {
    let dir = scratch("progress-ou");
    let args = ["ou", "--paths", "8000", "--steps", "100000", "--no-output"];
    let out = mpirun_command(&dir, 2, &args)
        .env("PARSIM_PROGRESS_SECS", "0")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let lines = log
        .lines()
        .filter(|l| l.starts_with("parsim: ou: member "))
        .count();
    assert!(lines >= 2, "{log}");
}
