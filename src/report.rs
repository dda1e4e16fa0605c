//! Printing end-of-run reports, shared by every workload (rank 0 only).

use serde::Serialize;

/// Print a report. Without `json` the text goes to stdout. With `json`,
/// stdout carries exactly one JSON object (so `| jq` and the scaling tool can
/// read it) and the text goes to stderr for the job log.
pub fn emit<R: Serialize>(text: &str, report: &R, json: bool) {
    if json {
        eprint!("{text}");
        match serde_json::to_string(report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("parsim: cannot encode report as JSON: {e}"),
        }
    } else {
        print!("{text}");
    }
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
    use super::num;

    #[test]
    fn numbers_stay_short_at_any_magnitude() {
        assert_eq!(num(20.0, None), "20");
        assert_eq!(num(59.6, Some(6)), "59.600000");
        assert_eq!(num(1e308, None), "1e308");
        assert_eq!(num(-2.5e307, Some(6)), "-2.500000e307");
        assert_eq!(num(1e-300, None), "1e-300");
        assert_eq!(num(0.0, Some(2)), "0.00");
    }
}
