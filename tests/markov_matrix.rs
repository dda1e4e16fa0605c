//! `parsim markov --matrix` end to end through real `mpirun`: the user's
//! chain, validated against its solved stationary distribution, the same
//! bits on any rank count, from the option's text, a CSV or a .npy file;
//! every bad matrix refused in one line by the run and the dry run alike.

mod common;

use std::path::Path;

use common::*;

/// The 5-state chain of the user guide (also `examples/markov5.csv`).
const FIVE: &str = "0.5,0.2,0.1,0.1,0.1;0.1,0.6,0.1,0.1,0.1;0.2,0.2,0.2,0.2,0.2;\
                    0,0.3,0.3,0.4,0;0.25,0,0.25,0,0.5";

fn rows(text: &str) -> Vec<Vec<f64>> {
    text.split(';')
        .map(|r| r.split(',').map(|x| x.parse().unwrap()).collect())
        .collect()
}

/// A .npy file of `rows` (float64, C order), as numpy writes it.
fn npy(rows: &[Vec<f64>]) -> Vec<u8> {
    let (n, m) = (rows.len(), rows[0].len());
    let mut h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({n}, {m}), }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    for x in rows.iter().flatten() {
        b.extend(x.to_le_bytes());
    }
    b
}

/// The report without what describes the run rather than the result.
fn result_fields(r: &serde_json::Value) -> serde_json::Value {
    let mut r = r.clone();
    let keys: Vec<String> = r["run_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let o = r.as_object_mut().unwrap();
    for k in keys
        .iter()
        .map(String::as_str)
        .chain(["run_keys", "output"])
    {
        o.remove(k);
    }
    r
}

/// The numeric datasets of `/markov` (the label axes aside), as bits.
fn numbers(file: &Path) -> Vec<(String, Vec<u64>)> {
    let f = hdf5::File::open(file).unwrap();
    let g = f.group("markov").unwrap();
    let mut out = Vec::new();
    for name in g.member_names().unwrap() {
        let ds = g.dataset(&name).unwrap();
        let bits = match ds.dtype().unwrap().to_descriptor().unwrap() {
            hdf5::types::TypeDescriptor::Float(_) => {
                let v: Vec<f64> = ds.read_raw().unwrap();
                v.iter().map(|x| x.to_bits()).collect()
            }
            hdf5::types::TypeDescriptor::Unsigned(_) => ds.read_raw::<u64>().unwrap(),
            _ => continue,
        };
        out.push((name, bits));
    }
    assert!(out.iter().any(|(n, _)| n == "state_days"), "{out:?}");
    out
}

fn same_numbers(a: &Path, b: &Path) -> bool {
    numbers(a) == numbers(b)
}

fn attr_str(file: &Path, name: &str) -> String {
    let f = hdf5::File::open(file).unwrap();
    let a = f.group("markov").unwrap().attr(name).unwrap();
    a.read_scalar::<hdf5::types::VarLenUnicode>()
        .unwrap()
        .to_string()
}

#[test]
fn a_five_state_matrix_is_validated_with_the_same_bits_on_1_to_4_ranks() {
    let dir = scratch("markov_matrix_ranks");
    let args = [
        "markov", "--matrix", FIVE, "--chains", "13", "--days", "20000",
    ];
    let mut reference: Option<serde_json::Value> = None;
    for p in 1..=4 {
        let out = format!("p{p}.h5");
        let mut a = args.to_vec();
        a.extend(["--output", &out]);
        let r = run_json(&dir, p, &a);
        assert_eq!(r["passed"], true, "P={p}: {r}");
        assert_eq!(r["chain"]["validated"], true, "{r}");
        assert_eq!(r["states"].as_array().unwrap().len(), 5);
        match &reference {
            None => reference = Some(r.clone()),
            Some(want) => {
                assert_eq!(result_fields(&r), result_fields(want), "P={p}");
                assert!(
                    same_numbers(&dir.join("p1.h5"), &dir.join(&out)),
                    "P={p}: datasets differ from the 1-rank run"
                );
            }
        }
    }
    // theory is pi, solved: pi P = pi, sum 1.
    let r = reference.unwrap();
    let pi: Vec<f64> = r["theory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let p = rows(FIVE);
    for j in 0..5 {
        let flow: f64 = (0..5).map(|i| pi[i] * p[i][j]).sum();
        assert!(
            (flow - pi[j]).abs() < 1e-14,
            "state {j}: {flow} vs {}",
            pi[j]
        );
    }
    assert!(r["chain"]["stationary_residual"].as_f64().unwrap() < 1e-14);
    // The file records the matrix, its source and checksum.
    let file = dir.join("p1.h5");
    assert_eq!(attr_str(&file, "matrix_source"), format!("inline: {FIVE}"));
    assert!(attr_str(&file, "matrix_checksum").starts_with("fnv1a64:"));
    let f = hdf5::File::open(&file).unwrap();
    let m: Vec<f64> = f
        .dataset("markov/transition_matrix")
        .unwrap()
        .read_raw()
        .unwrap();
    assert_eq!(m, p.concat());
    assert_eq!(f.dataset("markov/state_days").unwrap().shape(), vec![13, 5]);
}

#[test]
fn csv_and_npy_files_give_the_inline_matrix_s_bits() {
    let dir = scratch("markov_matrix_files");
    let p = rows(FIVE);
    let csv: String = p
        .iter()
        .map(|r| r.iter().map(f64::to_string).collect::<Vec<_>>().join(",") + "\n")
        .collect();
    std::fs::write(dir.join("m.csv"), format!("# five states\n{csv}")).unwrap();
    std::fs::write(dir.join("m.npy"), npy(&p)).unwrap();
    let common = ["--chains", "11", "--days", "5000", "--initial-state", "3"];
    let mut reports = Vec::new();
    for (source, out) in [
        (FIVE, "inline.h5"),
        ("m.csv", "csv.h5"),
        ("m.npy", "npy.h5"),
    ] {
        let mut a = vec!["markov", "--matrix", source, "--output", out];
        a.extend(common);
        let r = run_json(&dir, 2, &a);
        assert_eq!(r["passed"], true, "{source}: {r}");
        assert_eq!(r["chain"]["initial_state"], 3, "{r}");
        reports.push(r);
        assert!(
            same_numbers(&dir.join("inline.h5"), &dir.join(out)),
            "{source}"
        );
    }
    assert_eq!(attr_str(&dir.join("npy.h5"), "matrix_source"), "m.npy");
    for r in &reports[1..] {
        let (mut a, mut b) = (result_fields(r), result_fields(&reports[0]));
        // Only where the matrix came from differs.
        for x in [&mut a, &mut b] {
            let c = x["chain"].as_object_mut().unwrap();
            c.remove("source");
            c.remove("checksum");
        }
        assert_eq!(a, b);
    }
}

#[test]
fn a_chain_of_16_states_is_scored_by_the_central_limit_law_on_any_rank_count() {
    let dir = scratch("markov_matrix_clt");
    let n = 16;
    let ring: Vec<String> = (0..n)
        .map(|i| {
            let mut row = vec!["0".to_string(); n];
            row[i] = "0.5".into();
            row[(i + 1) % n] = "0.3".into();
            row[(i + n - 1) % n] = "0.2".into();
            row.join(",")
        })
        .collect();
    let m = ring.join(";");
    let mut reference = None;
    for p in [1, 3] {
        let out = format!("p{p}.h5");
        let r = run_json(
            &dir,
            p,
            &[
                "markov", "--matrix", &m, "--chains", "20", "--days", "20000", "--output", &out,
            ],
        );
        assert_eq!(r["passed"], true, "{r}");
        assert!(r["chain"]["law"]
            .as_str()
            .unwrap()
            .contains("central limit"));
        match &reference {
            None => reference = Some(result_fields(&r)),
            Some(want) => {
                assert_eq!(&result_fields(&r), want);
                assert!(same_numbers(&dir.join("p1.h5"), &dir.join(&out)));
            }
        }
    }
}

#[test]
fn a_periodic_chain_runs_and_says_it_is_not_validated() {
    let dir = scratch("markov_matrix_periodic");
    let out = mpirun(
        &dir,
        2,
        &[
            "markov",
            "--matrix",
            "0,1;1,0",
            "--chains",
            "3",
            "--days",
            "10",
            "--no-output",
        ],
    );
    assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Validation       : not validated: the chain is periodic (period 2)"),
        "{text}"
    );
    let r = run_json(
        &dir,
        2,
        &[
            "markov",
            "--matrix",
            "0,1;1,0",
            "--chains",
            "3",
            "--days",
            "10",
            "--no-output",
        ],
    );
    assert_eq!(r["chain"]["validated"], false);
    assert!(r["z"].as_array().unwrap().iter().all(|z| z.is_null()));
}

#[test]
fn bad_matrices_are_refused_in_one_line_by_the_run_and_the_dry_run() {
    let dir = scratch("markov_matrix_bad");
    std::fs::write(dir.join("good.csv"), "0.5,0.5\n0.5,0.5\n").unwrap();
    std::fs::write(dir.join("ragged.csv"), "0.5,0.5\n1\n").unwrap();
    std::fs::write(dir.join("words.csv"), "0.5,0.5\n0.5,half\n").unwrap();
    let mut cut = npy(&rows("0.5,0.5;0.5,0.5"));
    cut.truncate(cut.len() - 8);
    std::fs::write(dir.join("cut.npy"), cut).unwrap();
    std::fs::write(dir.join("text.npy"), "0.5,0.5\n0.5,0.5\n").unwrap();
    std::fs::create_dir(dir.join("dir.csv")).unwrap();
    let many = vec!["1"; 1025].join(";");
    let inputs = listing(&dir);
    let cases: &[(&[&str], &str)] = &[
        (&["--matrix", ""], "--matrix '': empty"),
        (
            &["--matrix", "0.5,0.5,0;0.5,0.5,0"],
            "row 0 has 3 entries, not 2",
        ),
        (&["--matrix", "0.5,0.5;1"], "row 1 has 1 entries, not 2"),
        (&["--matrix", "1"], "a chain needs at least 2 states"),
        (&["--matrix", "1.5,-0.5;0.5,0.5"], "row 0, entry 0 is 1.5"),
        (&["--matrix", "0.5,0.5;NaN,0.5"], "row 1, entry 0 is NaN"),
        (&["--matrix", "0.5,0.5;0.3,0.6"], "row 1 sums to 0.8999"),
        (
            &["--matrix", "0.5,0.5;0.5,x"],
            "row 1, entry 1: 'x' is not a number",
        ),
        (&["--matrix", &many], "1025 states: at most 1024"),
        (
            &["--matrix", "none.csv"],
            "--matrix 'none.csv': cannot read it",
        ),
        (
            &["--matrix", "dir.csv"],
            "--matrix 'dir.csv': not a regular file",
        ),
        (
            &["--matrix", "ragged.csv"],
            "--matrix 'ragged.csv': row 1 has 1 entries",
        ),
        (
            &["--matrix", "words.csv"],
            "line 2 (row 1): 'half' is not a number",
        ),
        (
            &["--matrix", "cut.npy"],
            "--matrix 'cut.npy': the data are shorter",
        ),
        (
            &["--matrix", "text.npy"],
            "--matrix 'text.npy': not a .npy file",
        ),
        (
            &["--matrix", "1,0;0.5,0.5"],
            "reducible (state 0 never reaches state 1)",
        ),
        (
            &["--matrix", "0.5,0.5;0.5,0.5", "--initial-state", "2"],
            "--initial-state 2",
        ),
        (
            &["--initial-state", "3"],
            "the chain has 3 states, numbered 0 to 2",
        ),
        (
            &["--matrix", "0.5,0.5;0.5,0.5", "--chains", "600000000"],
            "--chains",
        ),
        (
            &["--matrix", "m.h5"],
            "--matrix 'm.h5': neither rows of numbers",
        ),
        (
            &["--matrix", "good.csv", "--output", "good.csv"],
            "--output 'good.csv' is --matrix 'good.csv' this run reads",
        ),
    ];
    for (args, expected) in cases {
        let mut run = vec!["markov"];
        run.extend_from_slice(args);
        if !args.contains(&"--output") {
            run.push("--no-output");
        }
        let line = assert_refused(&dir, 2, &run, expected);
        run.push("--dry-run");
        let dry = assert_refused(&dir, 2, &run, expected);
        let ours = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| l.starts_with("parsim:"))
                .map(String::from)
                .collect()
        };
        assert_eq!(ours(&line), ours(&dry), "{args:?}");
        assert_eq!(listing(&dir), inputs, "{args:?} left files");
    }
}
