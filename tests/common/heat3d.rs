//! Helpers of the 3D heat tests (tests/heat3d*.rs): a run's JSON report
//! and what of it must be the same bits on any decomposition.

use serde_json::Value;

/// A number of the report, or a panic naming what is missing.
pub fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// `parsim heat` in 3D on `p` ranks with `args` and `--no-output`: its
/// JSON report.
pub fn heat3d(dir: &std::path::Path, p: usize, args: &[&str]) -> Value {
    let mut all = vec!["heat"];
    all.extend_from_slice(args);
    all.push("--no-output");
    super::run_json(dir, p, &all)
}

/// What must be the same bits on any decomposition: the field's checksum,
/// the validation, the problem.
pub fn result(r: &Value) -> String {
    format!("{} {} {}", r["checksum"], r["validation"], r["config"])
}
