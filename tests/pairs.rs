//! End-to-end tests of `parsim pairs` through real `mpirun`: bitwise
//! identity for P = 1..4, the lessons' known answers (numpy makes their
//! inputs), the three input formats, refusal of bad input, stop signals.

mod common;

use common::*;

fn pairs_args<'a>(extra: &[&'a str], out: &'a str) -> Vec<&'a str> {
    let mut a = vec!["pairs"];
    a.extend_from_slice(extra);
    a.extend(["--output", out, "--quiet"]);
    a
}

#[test]
fn pairs_are_bitwise_the_same_on_1_to_4_ranks() {
    let dir = scratch("pairs_p");
    // 301 points: blocks of unequal size on 2..4 ranks; 1100 x 2 spans
    // several kernel panels.
    for (n, dim) in [("301", "3"), ("1100", "2")] {
        let mut first = None;
        for p in 1..=4 {
            let out = format!("p{n}_{p}.h5");
            let args = [
                "--n", n, "--dim", dim, "--seed", "3", "--matrix", "--bins", "16",
            ];
            let r = run_json(&dir, p, &pairs_args(&args, &out));
            assert_eq!(r["passed"], true, "P={p}: {r}");
            assert_eq!(r["check"]["matrix_rows_checked"], 32, "{r}");
            let n: u64 = n.parse().unwrap();
            assert_eq!(r["histogram_total"], n * (n - 1) / 2);
            assert_eq!(r["check"]["pairs_met"], n * (n - 1) / 2);
            match &first {
                None => first = Some(out),
                Some(f) => assert!(
                    same_datasets(&dir.join(f), &dir.join(&out), "pairs"),
                    "n={n}: P={p} differs from P=1"
                ),
            }
        }
    }
}

#[test]
fn pairs_give_the_lessons_known_answers() {
    let dir = scratch("pairs_lessons");
    // The lessons' inputs, made as they make them.
    let make = r#"
import sys, numpy as np
np.save(sys.argv[1] + "/f.npy", np.random.default_rng(7).random((2000, 2)))
np.save(sys.argv[1] + "/d.npy", np.random.default_rng(42).random((500, 100)))
print("made")
"#;
    let Some(made) = run_python(make, &[dir.to_str().unwrap()]) else {
        return;
    };
    assert!(made.starts_with("made"));
    // Closest pair of 2000 2-D points: the lesson prints (647, 723) at
    // 0.0004179750588436925.
    let r = run_json(
        &dir,
        2,
        &["pairs", "--points", "f.npy", "--bins", "0", "--no-output"],
    );
    assert_eq!(
        (r["closest"]["i"].as_u64(), r["closest"]["j"].as_u64()),
        (Some(647), Some(723))
    );
    assert_eq!(
        r["closest"]["distance"].as_f64(),
        Some(0.0004179750588436925)
    );
    assert_eq!(r["passed"], true, "{r}");
    // The 500 x 500 matrix of 100-D points: numpy's in-order sum of
    // squares, bit for bit, and the lesson's checksum D.sum().
    run_ok(
        &dir,
        3,
        &pairs_args(&["--points", "d.npy", "--matrix"], "d.h5"),
    );
    let check = r#"
import sys, h5py, numpy as np
X = np.load(sys.argv[1] + "/d.npy")
d = np.zeros((500, 500))
for k in range(100):
    d += (X[:, None, k] - X[None, :, k]) ** 2
D = np.sqrt(d)
M = h5py.File(sys.argv[1] + "/d.h5", "r")["pairs/distance"][...]
assert (M.view(np.uint64) == D.view(np.uint64)).all()
print(repr(float(M.sum())))
"#;
    let sum = run_python(check, &[dir.to_str().unwrap()]).unwrap();
    assert_eq!(sum.trim(), "1016735.0665534936");
}

#[test]
fn npy_csv_and_hdf5_points_give_the_same_result() {
    let dir = scratch("pairs_formats");
    let make = r#"
import sys, h5py, numpy as np
X = np.random.default_rng(1).random((157, 3))
d = sys.argv[1]
np.save(d + "/p.npy", X)
np.save(d + "/pf.npy", np.asfortranarray(X))
with open(d + "/p.csv", "w") as f:
    f.write("x,y,z\n")
    for row in X:
        f.write(",".join(repr(float(v)) for v in row) + "\n")
with h5py.File(d + "/p.h5", "w") as f:
    f["group/points"] = X
print("made")
"#;
    if run_python(make, &[dir.to_str().unwrap()]).is_none() {
        return;
    }
    let sources = ["p.npy", "pf.npy", "p.csv", "p.h5:/group/points"];
    for (k, src) in sources.iter().enumerate() {
        let out = format!("r{k}.h5");
        let r = run_json(&dir, 2, &pairs_args(&["--points", src], &out));
        assert_eq!(r["passed"], true, "{src}: {r}");
        assert_eq!(r["n"], 157);
        assert_eq!(r["dim"], 3);
        if k > 0 {
            assert!(
                same_datasets(&dir.join("r0.h5"), &dir.join(&out), "pairs"),
                "{src} differs from p.npy"
            );
        }
    }
}

#[test]
fn pairs_refuse_bad_input_once_and_write_nothing() {
    let dir = scratch("pairs_bad");
    let inputs = scratch("pairs_bad_inputs");
    let put = |name: &str, bytes: &[u8]| std::fs::write(inputs.join(name), bytes).unwrap();
    // A .npy header with 4 x 2 doubles but only 3 rows of data.
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }".to_string();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    npy.extend((h.len() as u16).to_le_bytes());
    npy.extend(h.as_bytes());
    npy.extend([0u8; 48]);
    put("short.npy", &npy);
    put("ragged.csv", b"1,2\n3,4\n5\n");
    put("nan.csv", b"1,2\n3,nan\n");
    put("one.csv", b"1,2\n");
    put("words.csv", b"x,y\n1,2\nthree,4\n");
    put("not.h5", b"not hdf5");
    let fifo = inputs.join("fifo.npy");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let at = |name: &str| inputs.join(name).display().to_string();
    let (short, ragged, nan, one, words, not_h5, fifo) = (
        at("short.npy"),
        at("ragged.csv"),
        at("nan.csv"),
        at("one.csv"),
        at("words.csv"),
        format!("{}:/points", at("not.h5")),
        fifo.display().to_string(),
    );
    let missing = at("missing.npy");
    std::fs::write(dir.join("taken.h5"), b"keep").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--n", "1"], "--n: 1 point(s): pairs need at least 2"),
        (&["--dim", "0"], "dimension 0"),
        (&["--n", "-5"], "invalid value '-5' for '--n"),
        (&["--bins", "100000000"], "--bins 100000000 is too many"),
        (
            &["--n", "50000", "--dim", "1", "--matrix"],
            "at most 46340 points",
        ),
        (
            &["--n", "2000000", "--dim", "1000"],
            "more than 1073741824 coordinates",
        ),
        (&["--points", &missing], "cannot read points"),
        (&["--points", &fifo], "not a regular file"),
        (
            &["--points", &short],
            "shorter than the header's shape says",
        ),
        (
            &["--points", &ragged],
            "line 3: 1 values, the rows before have 2",
        ),
        (&["--points", &nan], "row 1, coordinate 1 is NaN"),
        (&["--points", &one], "1 point(s): pairs need at least 2"),
        (
            &["--points", &words],
            "line 3: 'three,4' is not a row of numbers",
        ),
        (&["--points", &not_h5], "not an HDF5 file?"),
        (&["--points", "pts.txt"], "cannot tell its format"),
        (&["--points", &short, "--n", "5"], "cannot be used with"),
        (&["--output", "taken.h5"], "exists"),
    ];
    refuses_each(&dir, "pairs", cases);
}

#[test]
fn a_stop_signal_ends_pairs_with_nothing_written() {
    let dir = scratch("pairs_stop");
    let args = pairs_args(&["--n", "3000", "--matrix"], "p.h5");
    let mut c = mpirun_command(&dir, 2, &args);
    c.env("PARSIM_INJECT_STOP", "1");
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("pairs: stopped by SIGUSR1"), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(listing(&dir).is_empty(), "left {:?}", listing(&dir));
}
