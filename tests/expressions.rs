//! Issue 41: a user's expression runs on the batched evaluator and gives
//! the reference evaluator's bits (`PARSIM_NO_JIT=1`), on any rank
//! count, end to end through mpirun: every chunk sum of the result file
//! and the value in the report.

mod common;

use common::*;

/// The integrands, and some that make NaN or need `powf`.
const INTEGRANDS: [&str; 7] = [
    "x^2 - x",
    "exp(-x^2)",
    "sin(3*x) + x^3",
    "1/(1+x^2)",
    "1 - 0.5*x + 0.25*x^2 - 0.125*x^3 + 0.0625*x^4 - x^5/32 + x^6/64 - x^7/128",
    "x^2.5 + abs(x - 1)^0.5 + floor(3*x)",
    "cbrt(x) * log2(1 + x) - tanh(x)^-2",
];

/// One run's value (as JSON keeps it, the shortest text that reads back
/// to the same bits), evaluator, and its chunk sums' file.
fn run(
    dir: &std::path::Path,
    ranks: usize,
    f: &str,
    reference: bool,
    rule: &str,
) -> (String, String) {
    let env: &[(&str, &str)] = if reference {
        &[("PARSIM_NO_JIT", "1")]
    } else {
        &[]
    };
    let out = mpirun_with_env(
        dir,
        ranks,
        env,
        &[
            "integrate",
            "--f",
            f,
            "--a",
            "-0.5",
            "--b",
            "2",
            "--n",
            "300002",
            "--chunk",
            "4099",
            "--rule",
            rule,
            "--output",
            "r.h5",
            "--force",
            "--json",
            "--quiet",
        ],
    )
    .output()
    .expect("mpirun");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let r: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{f} on {ranks}: not JSON ({e}): {}", show(&out)));
    let evaluator = r["evaluator"].as_str().unwrap_or("?").to_string();
    assert_eq!(
        evaluator.starts_with("reference"),
        reference,
        "{f}: evaluator {evaluator}"
    );
    let value = r["value"].to_string();
    let kept = dir.join(format!("r-{ranks}-{reference}-{rule}.h5"));
    std::fs::rename(dir.join("r.h5"), &kept).unwrap();
    (value, kept.to_string_lossy().into_owned())
}

#[test]
fn the_batched_evaluator_gives_the_reference_bits_on_any_rank_count() {
    let dir = scratch("expressions-bits");
    for (k, f) in INTEGRANDS.iter().enumerate() {
        // Every rule over the cases (the midpoint's half-index points, the
        // trapezoid's and Simpson's end points and weights).
        let rule = ["left", "midpoint", "trapezoid", "simpson"][k % 4];
        let (want, first) = run(&dir, 1, f, true, rule);
        for (ranks, reference) in [(1, false), (2, false), (3, false), (4, true)] {
            let (got, file) = run(&dir, ranks, f, reference, rule);
            assert_eq!(
                got, want,
                "{f} ({rule}) on {ranks} ranks, reference {reference}"
            );
            assert!(
                same_datasets(
                    std::path::Path::new(&first),
                    std::path::Path::new(&file),
                    "integrate"
                ),
                "{f} ({rule}): chunk sums differ on {ranks} ranks, reference {reference}"
            );
        }
    }
}

#[test]
fn the_version_and_the_report_name_the_evaluator() {
    let dir = scratch("expressions-version");
    let version = |env: &[(&str, &str)]| {
        let out = std::process::Command::new(parsim())
            .arg("--version")
            .env_remove("PARSIM_NO_JIT")
            .envs(env.iter().copied())
            .current_dir(&dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let batched = version(&[]);
    assert!(batched.contains("expressions: batched ("), "{batched}");
    let reference = version(&[("PARSIM_NO_JIT", "1")]);
    assert!(
        reference.contains("expressions: reference (PARSIM_NO_JIT=1)"),
        "{reference}"
    );
    let text = run_ok(
        &dir,
        1,
        &["integrate", "--f", "x^3", "--n", "1000", "--no-output"],
    );
    assert!(text.contains("Evaluator        : batched ("), "{text}");
    let text = run_ok(&dir, 1, &["integrate", "--n", "1000", "--no-output"]);
    assert!(text.contains("Evaluator        : built-in"), "{text}");
}
