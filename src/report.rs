//! Printing end-of-run reports, shared by every workload (rank 0 only).

use std::cell::RefCell;

use serde::Serialize;

thread_local! {
    /// While [`collect`] runs: the JSON reports emitted, kept instead of
    /// printed.
    static KEPT: RefCell<Option<Vec<serde_json::Value>>> = const { RefCell::new(None) };
}

/// Run `f`, keeping the JSON reports it emits instead of printing them
/// (their text still goes to stderr): a command made of several runs
/// (`heat --refine`) prints them inside its own one JSON object, as
/// stdout carries exactly one. Rank 0's reports only (the only emitter).
pub fn collect<T>(f: impl FnOnce() -> T) -> (T, Vec<serde_json::Value>) {
    let before = KEPT.with(|k| k.borrow_mut().replace(Vec::new()));
    let result = f();
    let kept = KEPT.with(|k| std::mem::replace(&mut *k.borrow_mut(), before));
    (result, kept.unwrap_or_default())
}

/// Print a report. Without `json` the text goes to stdout. With `json`,
/// stdout carries exactly one JSON object (so `| jq` and the scaling tool can
/// read it) and the text goes to stderr for the job log.
///
/// `hosts` (every rank's host name, in rank order) is added here for every
/// workload: a `Hosts` line after the `Ranks` line of the text, a `hosts`
/// list in the JSON. Why: on a cluster where the ranks ran is the first
/// thing to check in a job log.
pub fn emit<R: Serialize>(text: &str, report: &R, hosts: &[String], json: bool) {
    let text = with_hosts_line(text, hosts);
    if json {
        crate::console::err(&text);
        let value = serde_json::to_value(report).map(|mut v| {
            if let Some(map) = v.as_object_mut() {
                map.insert("hosts".into(), serde_json::json!(hosts));
            }
            mark_run_keys(&mut v);
            v
        });
        match value {
            Ok(v) => KEPT.with(|k| match k.borrow_mut().as_mut() {
                Some(kept) => kept.push(v),
                None => crate::console::out(&format!("{v}\n")),
            }),
            Err(e) => {
                crate::console::err_line(&format!("parsim: cannot encode report as JSON: {e}"))
            }
        }
    } else {
        crate::console::out(&text);
    }
}

/// Top-level report keys that describe the run, not its result: the ranks
/// and where they ran, how the loop ran, and what was measured (times,
/// rates, memory). Every other key describes the result and is bitwise
/// the same for any rank count, process grid, thread count and time-block
/// depth (tests/report_bitwise.rs holds every workload to that).
///
/// Why a list instead of moving these under one key: scripts, studies
/// and users read `phases`, `wall_time_s`, `ranks`, `hosts`, `execution`
/// and the rates where they are. Each report names its own in `run_keys`
/// ([`mark_run_keys`]), so a tool needs no copy of this list.
pub const RUN_KEYS: &[&str] = &[
    // The ranks.
    "ranks",
    "hosts",
    "proc_grid",
    "execution",
    "rank_iterations",
    // Measured.
    "wall_time_s",
    "phases",
    "peak_memory",
    "imbalance",
    "mlups",
];

/// Is `key` (top level) a run figure: one of [`RUN_KEYS`], or a rate (a
/// name ending in `_per_s` or `_per_s_per_core`, whatever the workload)?
pub fn is_run_key(key: &str) -> bool {
    RUN_KEYS.contains(&key) || key.ends_with("_per_s") || key.ends_with("_per_s_per_core")
}

/// Add `run_keys` to a report object: the list of its keys that are run
/// figures ([`is_run_key`]), sorted, so that a tool reading a report
/// (printed with `--json` or stored in a result file) can set them apart
/// from the result without knowing the workload.
pub fn mark_run_keys(report: &mut serde_json::Value) {
    if let Some(map) = report.as_object_mut() {
        let mut keys: Vec<&String> = map.keys().filter(|k| is_run_key(k)).collect();
        keys.sort();
        let keys = serde_json::json!(keys);
        map.insert("run_keys".into(), keys);
    }
}

/// The report as stored in a result file: its JSON with `run_keys`.
pub fn stored_json<R: Serialize>(report: &R) -> String {
    serde_json::to_value(report)
        .map(|mut v| {
            mark_run_keys(&mut v);
            v.to_string()
        })
        .unwrap_or_default()
}

/// `text` with a `Hosts : ...` line after its `Ranks` line (at the end
/// when it has none).
fn with_hosts_line(text: &str, hosts: &[String]) -> String {
    if hosts.is_empty() {
        return text.to_string();
    }
    let line = format!("Hosts            : {}\n", hosts_summary(hosts));
    match text
        .find("\nRanks ")
        .or(text.starts_with("Ranks ").then_some(0))
    {
        Some(at) => {
            let start = if at == 0 { 0 } else { at + 1 };
            let end = text[start..]
                .find('\n')
                .map_or(text.len(), |e| start + e + 1);
            format!("{}{line}{}", &text[..end], &text[end..])
        }
        None => format!("{text}{line}"),
    }
}

/// Where the ranks ran, runs of consecutive ranks on one host:
/// "node1 (ranks 0-1), node2 (ranks 2-3)"; "laptop (all 4 ranks)" on one
/// host; past 4 runs, the first 3 and a count.
pub fn hosts_summary(hosts: &[String]) -> String {
    let mut runs: Vec<(&str, usize, usize)> = Vec::new();
    for (rank, h) in hosts.iter().enumerate() {
        match runs.last_mut() {
            Some((last, _, end)) if *last == h.as_str() => *end = rank,
            _ => runs.push((h, rank, rank)),
        }
    }
    let distinct = {
        let mut d: Vec<&str> = hosts.iter().map(String::as_str).collect();
        d.sort_unstable();
        d.dedup();
        d.len()
    };
    if distinct == 1 {
        let n = hosts.len();
        return format!(
            "{} ({})",
            hosts[0],
            if n == 1 {
                "1 rank".into()
            } else {
                format!("all {n} ranks")
            }
        );
    }
    let show = |(h, a, b): &(&str, usize, usize)| {
        if a == b {
            format!("{h} (rank {a})")
        } else {
            format!("{h} (ranks {a}-{b})")
        }
    };
    let shown: Vec<String> = runs
        .iter()
        .take(if runs.len() > 4 { 3 } else { 4 })
        .map(show)
        .collect();
    let mut s = shown.join(", ");
    if runs.len() > 4 {
        s.push_str(&format!(", ... ({distinct} hosts)"));
    }
    s
}

/// What every report starts with: which workload, which parsim, how many
/// ranks (flattened into the report's JSON object).
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub workload: &'static str,
    pub version: &'static str,
    pub ranks: usize,
}

impl RunInfo {
    pub fn new(workload: &'static str, version: &'static str, ranks: usize) -> Self {
        Self {
            workload,
            version,
            ranks,
        }
    }
}

/// A value as a report line shows it: fixed with `decimals` (`None`: as
/// short as it reads back exactly) for ordinary magnitudes, in exponent
/// form beyond 1e15 or below 1e-4, where fixed notation would print
/// hundreds of digits (walls at +-1e308) or only zeros.
pub fn num(x: f64, decimals: Option<usize>) -> String {
    let a = x.abs();
    if x.is_finite() && a != 0.0 && !(1e-4..1e15).contains(&a) {
        return match decimals {
            Some(d) => format!("{x:.d$e}"),
            None => format!("{x:e}"),
        };
    }
    match decimals {
        Some(d) => format!("{x:.d$}"),
        None => format!("{x}"),
    }
}

/// |z| above which a statistic fails validation: a correct run fails one
/// given score with probability 6e-7.
pub const Z_LIMIT: f64 = 5.0;

/// "OK" or "FAILED", as every report prints its validation.
pub fn verdict(passed: bool) -> &'static str {
    if passed {
        "OK"
    } else {
        "FAILED"
    }
}

/// The per-phase table every report ends with: min/avg/max over ranks.
pub fn phase_table(phases: &[(&str, &crate::par::Spread)]) -> String {
    let mut s = String::from("Phase [s]             min          avg          max\n");
    for (name, p) in phases {
        s += &format!(
            "  {name:<14} {:>12.6} {:>12.6} {:>12.6}\n",
            p.min, p.avg, p.max
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{hosts_summary, num, with_hosts_line};

    #[test]
    fn run_keys_name_the_run_figures_only() {
        let mut v = serde_json::json!({
            "workload": "heat", "ranks": 3, "hosts": ["a"], "phases": {},
            "mlups": 1.0, "samples_per_s": 2.0, "normals_per_s_per_core": 3.0,
            "validation": {"final_average": 1.0}, "samples": 4,
        });
        super::mark_run_keys(&mut v);
        assert_eq!(
            v["run_keys"],
            serde_json::json!([
                "hosts",
                "mlups",
                "normals_per_s_per_core",
                "phases",
                "ranks",
                "samples_per_s"
            ])
        );
    }

    #[test]
    fn numbers_stay_short_at_any_magnitude() {
        assert_eq!(num(20.0, None), "20");
        assert_eq!(num(59.6, Some(6)), "59.600000");
        assert_eq!(num(1e308, None), "1e308");
        assert_eq!(num(-2.5e307, Some(6)), "-2.500000e307");
        assert_eq!(num(1e-300, None), "1e-300");
        assert_eq!(num(0.0, Some(2)), "0.00");
    }

    fn hosts(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hosts_summary_groups_runs_of_ranks() {
        assert_eq!(hosts_summary(&hosts(&["lap"])), "lap (1 rank)");
        assert_eq!(hosts_summary(&hosts(&["lap"; 4])), "lap (all 4 ranks)");
        assert_eq!(
            hosts_summary(&hosts(&["node1", "node1", "node2", "node2"])),
            "node1 (ranks 0-1), node2 (ranks 2-3)"
        );
        // Round-robin placement: runs, not hosts, are listed.
        assert_eq!(
            hosts_summary(&hosts(&["a", "b", "a"])),
            "a (rank 0), b (rank 1), a (rank 2)"
        );
        assert_eq!(
            hosts_summary(&hosts(&["n1", "n2", "n3", "n4", "n5"])),
            "n1 (rank 0), n2 (rank 1), n3 (rank 2), ... (5 hosts)"
        );
    }

    #[test]
    fn hosts_line_follows_the_ranks_line() {
        let h = hosts(&["node1", "node2"]);
        let text = "parsim pi\nRanks            : 2\nEstimate : 3.14\n";
        assert_eq!(
            with_hosts_line(text, &h),
            "parsim pi\nRanks            : 2\nHosts            : node1 (rank 0), node2 (rank 1)\nEstimate : 3.14\n"
        );
        assert_eq!(
            with_hosts_line("a\n", &h),
            "a\nHosts            : node1 (rank 0), node2 (rank 1)\n"
        );
        assert_eq!(with_hosts_line("a\n", &[]), "a\n");
    }
}
