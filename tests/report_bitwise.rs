//! The whole report, not only the datasets, is bitwise the same for any
//! rank count: every workload `parsim workloads --json` lists, in every
//! case scripts/cases.sh gives it (the cases compare-builds runs), on 1,
//! 2, 3 and 4 ranks, and heat also on other process grids, threads and
//! time blocks. The report printed with `--json` and the one stored in the
//! result file are compared with the first run's, as JSON text (so bit for
//! bit), but for the keys each report lists in `run_keys` (the ranks, the
//! hosts, how the loop ran, timings, rates, memory: src/report.rs).

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// The cases of scripts/cases.sh: (name, arguments), in order.
fn cases() -> Vec<(String, Vec<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cases.sh");
    let text = std::fs::read_to_string(&path).expect("read scripts/cases.sh");
    text.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('"')?.strip_suffix('"')?.split_once('|'))
        .map(|(name, args)| {
            let words = args.split_whitespace().map(String::from).collect();
            (name.to_string(), words)
        })
        .collect()
}

/// The workloads the registry lists.
fn workloads(dir: &Path) -> Vec<String> {
    let out = run_ok(dir, 1, &["workloads", "--json"]);
    let list: Value = serde_json::from_str(out.trim()).expect("workloads --json is JSON");
    list.as_array()
        .expect("workloads --json is a list")
        .iter()
        .map(|w| w["name"].as_str().expect("a workload's name").to_string())
        .collect()
}

/// A report without the keys it lists in `run_keys` (nor `run_keys`).
fn result_part(report: &Value, what: &str) -> Value {
    let run_keys: Vec<&str> = report["run_keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no run_keys list in {report}"))
        .iter()
        .map(|k| k.as_str().expect("run_keys holds names"))
        .collect();
    assert!(run_keys.contains(&"ranks"), "{what}: run_keys {run_keys:?}");
    let mut map = report.as_object().expect("a report is an object").clone();
    map.retain(|k, _| k != "run_keys" && !run_keys.contains(&k.as_str()));
    assert!(map.contains_key("workload"), "{what}: {report}");
    Value::Object(map)
}

/// Where two JSON values differ: one line per differing leaf.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let null = Value::Null;
                let (p, q) = (x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null));
                differences(p, q, &format!("{path}.{k}"), out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{path}[{i}]"), out);
            }
        }
        // As text, so that the bits decide (distinct f64 print apart).
        _ if text(a) == text(b) => {}
        _ => out.push(format!("{path}: {a} != {b}")),
    }
}

fn text(v: &Value) -> String {
    serde_json::to_string(v).expect("a JSON value prints")
}

/// The stored report of a result file (`/@report`).
fn stored_report(path: &Path) -> Value {
    let f = hdf5::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let text: hdf5::types::VarLenUnicode = f.attr("report").unwrap().read_scalar().unwrap();
    serde_json::from_str(text.as_str()).expect("the stored report is JSON")
}

/// The result parts of the printed and the stored report of one run.
fn run(dir: &Path, ranks: usize, args: &[String], what: &str) -> [Value; 2] {
    std::fs::create_dir_all(dir).unwrap();
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--output", "o.h5", "--quiet"]);
    let printed = run_json(dir, ranks, &all);
    let stored = stored_report(&dir.join("o.h5"));
    [
        result_part(&printed, what),
        result_part(&stored, &format!("{what} (stored)")),
    ]
}

#[test]
fn every_workload_reports_the_same_result_on_1_to_4_ranks() {
    let dir = scratch("report_bitwise");
    let cases = cases();
    let mut runs: Vec<(String, usize, Vec<String>)> = Vec::new();
    for w in workloads(&dir) {
        let mine: Vec<_> = cases
            .iter()
            .filter(|(_, args)| args.first() == Some(&w))
            // A restart needs its first half run beforehand, an input file
            // (seed.h5, seed.npy, p.csv) made (cases.sh's run_case does
            // both: heat_init and markov_matrix test those on 1-4 ranks);
            // the other cases stand alone.
            .filter(|(_, args)| {
                !args
                    .iter()
                    .any(|a| a == "--restart" || a.starts_with("seed.") || a == "p.csv")
            })
            .collect();
        assert!(!mine.is_empty(), "scripts/cases.sh has no case for '{w}'");
        for (name, args) in mine {
            for p in 1..=4 {
                runs.push((name.clone(), p, args.clone()));
            }
        }
    }
    // heat: the same result on other process grids, thread counts, time
    // blocks and without the overlapped halo.
    let heat = ["heat", "--nx", "120", "--ny", "90", "--steps", "50"];
    for (p, extra) in [
        (4, &["--proc-grid", "4x1"][..]),
        (4, &["--proc-grid", "2x2", "--time-block", "3"]),
        (2, &["--threads", "2"]),
        (3, &["--time-block", "5", "--check-every", "7"]),
        (2, &["--time-block", "1", "--overlap", "off"]),
    ] {
        let args = heat.iter().chain(extra).map(|s| s.to_string()).collect();
        runs.push(("heat-disk".into(), p, args));
    }

    let mut first: std::collections::HashMap<String, (String, [Value; 2])> = Default::default();
    let mut problems = Vec::new();
    for (k, (name, p, args)) in runs.iter().enumerate() {
        let what = format!("{name} on {p} rank(s): {}", args.join(" "));
        let reports = run(&dir.join(format!("{k}-{name}-p{p}")), *p, args, &what);
        match first.get(name) {
            None => {
                first.insert(name.clone(), (what, reports));
            }
            Some((base, expected)) => {
                for ((e, r), kind) in expected.iter().zip(&reports).zip(["printed", "stored"]) {
                    let mut out = Vec::new();
                    differences(e, r, &format!("{kind} report"), &mut out);
                    if !out.is_empty() {
                        problems.push(format!("{what}\n  vs {base}:\n    {}", out.join("\n    ")));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "reports differ beyond their run_keys:\n{}",
        problems.join("\n")
    );
}
