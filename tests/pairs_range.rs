//! `parsim pairs` at the ends of f64's range (issue 39, cause 4): squared
//! distances that underflow or overflow are met scaled by a power of two,
//! exactly, and bitwise the same on any number of ranks; what no scale
//! holds, and integers f64 cannot hold, are refused in one line.

mod common;

use std::path::Path;

use common::*;

/// A CSV of points, each coordinate in the fewest digits that name its f64.
fn write_csv(path: &Path, dim: usize, xs: &[f64]) {
    let text: String = xs
        .chunks(dim)
        .map(|p| {
            p.iter()
                .map(|x| format!("{x:e}"))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(path, text).unwrap();
}

/// `n` points in [0, 1)^dim (a small LCG: the tests need no exact stream).
fn unit_points(n: usize, dim: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n * dim)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

fn read_vec(path: &Path, dataset: &str) -> Vec<f64> {
    let f = hdf5::File::open(path).unwrap();
    f.dataset(dataset).unwrap().read_raw().unwrap()
}

fn attr(path: &Path, name: &str) -> f64 {
    let f = hdf5::File::open(path).unwrap();
    f.group("pairs")
        .unwrap()
        .attr(name)
        .unwrap()
        .read_scalar::<f64>()
        .unwrap()
}

fn args<'a>(points: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["pairs", "--points", points, "--output", out, "--quiet"];
    a.extend_from_slice(extra);
    a
}

#[test]
fn squares_below_f64s_range_give_the_right_pair_at_the_exact_distance() {
    let dir = scratch("pairs_range_under");
    // The points: once (0, 1) at distance 0, "recomputed OK".
    std::fs::write(dir.join("u.csv"), "0\n3e-170\n5e-170\n").unwrap();
    for p in 1..=3 {
        let out = format!("u{p}.h5");
        let r = run_json(&dir, p, &args("u.csv", &out, &["--matrix"]));
        assert_eq!(
            (r["closest"]["i"].as_u64(), r["closest"]["j"].as_u64()),
            (Some(1), Some(2))
        );
        assert_eq!(r["closest"]["distance"].as_f64(), Some(2e-170), "{r}");
        assert_eq!(r["diagonal"].as_f64(), Some(5e-170));
        assert_eq!(r["passed"], true, "{r}");
        let f = dir.join(&out);
        assert_eq!(
            read_vec(&f, "pairs/nearest_distance"),
            [3e-170, 2e-170, 2e-170]
        );
        let m = read_vec(&f, "pairs/distance");
        assert_eq!(
            m,
            [0.0, 3e-170, 5e-170, 3e-170, 0.0, 2e-170, 5e-170, 2e-170, 0.0]
        );
        assert_eq!(attr(&f, "closest_distance"), 2e-170);
        if p > 1 {
            assert!(same_datasets(&dir.join("u1.h5"), &f, "pairs"), "P={p}");
        }
    }
    // The text: the pair and its distance in the digits that name it.
    let text = run_ok(&dir, 1, &["pairs", "--points", "u.csv", "--no-output"]);
    assert!(
        text.contains("Closest pair     : (1, 2) at distance 2e-170: recomputed OK"),
        "{text}"
    );
    // 1e-160, whose square is subnormal: once five digits lost.
    std::fs::write(dir.join("v.csv"), "0,0\n1e-160,0\n0,3e-160\n").unwrap();
    let r = run_json(&dir, 2, &["pairs", "--points", "v.csv", "--no-output"]);
    assert_eq!(r["closest"]["distance"].as_f64(), Some(1e-160), "{r}");
    assert_eq!(r["passed"], true, "{r}");
}

#[test]
fn squares_beyond_f64s_range_are_met_too() {
    let dir = scratch("pairs_range_over");
    // Squares of 1e200 overflow: these were refused as spreading too far.
    std::fs::write(dir.join("o.csv"), "1e200,0\n3e200,0\n0,1e200\n").unwrap();
    let r = run_json(&dir, 2, &["pairs", "--points", "o.csv", "--no-output"]);
    assert_eq!(
        (r["closest"]["i"].as_u64(), r["closest"]["j"].as_u64()),
        (Some(0), Some(2))
    );
    let d = r["closest"]["distance"].as_f64().unwrap();
    // sqrt(2e400) as an unbounded exponent gives it: sqrt(2) * 1e200 within rounding.
    assert!((d / (2f64.sqrt() * 1e200) - 1.0).abs() < 1e-15, "{r}");
    assert_eq!(r["passed"], true, "{r}");
    assert!(r["diagonal"].as_f64().unwrap().is_finite());
}

#[test]
fn scaled_points_give_the_unscaled_bits_times_the_scale_on_any_ranks() {
    let dir = scratch("pairs_range_bits");
    // Points in [0, 1)^3 and the same times 2^-600 (squares underflow) and
    // 2^+600 (squares overflow): exact multiples, so every distance must be
    // the unit run's times the factor, bit for bit, on 1 to 3 ranks.
    let xs = unit_points(301, 3, 5);
    for (name, factor) in [
        ("one", 1.0),
        ("tiny", 2f64.powi(-600)),
        ("huge", 2f64.powi(600)),
    ] {
        let ys: Vec<f64> = xs.iter().map(|x| x * factor).collect();
        write_csv(&dir.join(format!("{name}.csv")), 3, &ys);
    }
    let run = |name: &str, p: usize| {
        let (src, out) = (format!("{name}.csv"), format!("{name}{p}.h5"));
        let r = run_json(&dir, p, &args(&src, &out, &["--matrix", "--bins", "16"]));
        assert_eq!(r["passed"], true, "{name} P={p}: {r}");
        (r, dir.join(out))
    };
    let (one, one_h5) = run("one", 1);
    let scaled = |v: &[f64], f: f64| v.iter().map(|x| (x * f).to_bits()).collect::<Vec<_>>();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (name, factor) in [("tiny", 2f64.powi(-600)), ("huge", 2f64.powi(600))] {
        for p in 1..=3 {
            let (r, h5) = run(name, p);
            assert_eq!(r["closest"]["i"], one["closest"]["i"]);
            assert_eq!(r["closest"]["j"], one["closest"]["j"]);
            let d = one["closest"]["distance"].as_f64().unwrap();
            assert_eq!(
                r["closest"]["distance"].as_f64(),
                Some(d * factor),
                "{name} P={p}"
            );
            for ds in [
                "pairs/nearest_distance",
                "pairs/distance",
                "pairs/bin_edges",
            ] {
                let want = scaled(&read_vec(&one_h5, ds), factor);
                assert!(bits(&read_vec(&h5, ds)) == want, "{name} P={p}: {ds}");
            }
            for ds in ["pairs/nearest", "pairs/histogram"] {
                let f = hdf5::File::open(&h5).unwrap();
                let g = hdf5::File::open(&one_h5).unwrap();
                let a: Vec<u64> = f.dataset(ds).unwrap().read_raw().unwrap();
                let b: Vec<u64> = g.dataset(ds).unwrap().read_raw().unwrap();
                assert_eq!(a, b, "{name} P={p}: {ds}");
            }
            if p > 1 {
                let first = dir.join(format!("{name}1.h5"));
                assert!(same_datasets(&first, &h5, "pairs"), "{name}: P={p}");
            }
        }
    }
}

#[test]
fn what_f64_cannot_hold_is_refused_in_one_line() {
    let dir = scratch("pairs_range_bad");
    let inputs = scratch("pairs_range_bad_inputs");
    let at = |name: &str| inputs.join(name).display().to_string();
    std::fs::write(
        inputs.join("big.csv"),
        "x,y\n4611686018427387904,0\n4611686018427387905,0\n",
    )
    .unwrap();
    std::fs::write(inputs.join("span.csv"), "0\n1e-200\n1e200\n").unwrap();
    std::fs::write(inputs.join("sub.csv"), "0\n3e-320\n5e-320\n").unwrap();
    std::fs::write(inputs.join("far.csv"), "-1e308\n1e308\n").unwrap();
    // HDF5 integer datasets the library would round to f64 silently.
    {
        let f = hdf5::File::create(inputs.join("ints.h5")).unwrap();
        let signed = ndarray::arr2(&[[0i64, 1], [(1 << 62) + 1, 0], [1 << 62, 0]]);
        f.new_dataset_builder()
            .with_data(&signed)
            .create("i64")
            .unwrap();
        let unsigned = ndarray::arr2(&[[0u64, 1], [3, u64::MAX]]);
        f.new_dataset_builder()
            .with_data(&unsigned)
            .create("u64")
            .unwrap();
        let small = ndarray::arr2(&[[0i32, 0], [3, 4], [-6, 8]]);
        f.new_dataset_builder()
            .with_data(&small)
            .create("i32")
            .unwrap();
    }
    let (big, span, sub, far) = (at("big.csv"), at("span.csv"), at("sub.csv"), at("far.csv"));
    let (i64s, u64s) = (
        format!("{}:/i64", at("ints.h5")),
        format!("{}:/u64", at("ints.h5")),
    );
    std::fs::write(dir.join("taken.h5"), b"keep").unwrap();
    let big_msg = format!(
        "cannot read points '{big}': line 3 (row 1, coordinate 0): the integer \
         4611686018427387905 is not an f64 (it would be rounded to 4611686018427387904"
    );
    let i64_msg = format!(
        "cannot read points '{i64s}': dataset /i64: row 1, coordinate 0: the integer \
         4611686018427387905 is not an f64"
    );
    let u64_msg =
        format!("'{u64s}': dataset /u64: row 1, coordinate 1: the integer 18446744073709551615");
    let span_msg = format!("points '{span}': the differences span too many orders of magnitude");
    let sub_msg = format!("points '{sub}': coordinate 0 has values 3e-320 and 5e-320, 2e-320 apart: below f64's normal range");
    let far_msg = format!("points '{far}': the points spread too far for f64");
    let cases: &[(&[&str], &str)] = &[
        (&["--points", &big], &big_msg),
        (&["--points", &i64s], &i64_msg),
        (&["--points", &u64s], &u64_msg),
        (&["--points", &span], &span_msg),
        (&["--points", &sub], &sub_msg),
        (&["--points", &far], &far_msg),
    ];
    refuses_each(&dir, "pairs", cases);
    // Integers f64 holds, from an integer dataset: the 3-4-5 triangle.
    let small = format!("{}:/i32", at("ints.h5"));
    let r = run_json(&dir, 2, &["pairs", "--points", &small, "--no-output"]);
    assert_eq!(r["closest"]["distance"].as_f64(), Some(5.0), "{r}");
}
