//! Memory a run will need, checked before it is allocated: an allocation
//! the machine cannot give aborts the process with a backtrace (exit 134)
//! on one rank while the others wait, so every workload states its need up
//! front and gets one line instead. Pure: the ranks agree on the verdict
//! in `crate::par::check_memory`.

use crate::error::{Failure, Outcome};

/// Bytes this node can give without swapping: `MemAvailable` of
/// /proc/meminfo (`None` where there is no such file).
pub fn available() -> Option<u128> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_available(&info)
}

fn parse_available(meminfo: &str) -> Option<u128> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `bytes` for people: "3.2 GiB", "12.0 TiB".
pub fn shown(bytes: u128) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// The verdict on a rank needing `need` bytes (for `what`) where `avail`
/// are available (all ranks agree on it in `crate::par::check_memory`).
pub fn verdict(rank: i32, need: u128, what: &str, avail: Option<u128>) -> Outcome {
    match avail {
        Some(avail) if need > avail => Err(Failure::usage(format!(
            "this run needs about {} of memory on rank {rank} ({what}), but its node has {} \
             available (MemAvailable): use more nodes, or a smaller problem",
            shown(need),
            shown(avail)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_beyond_what_is_available_are_refused_in_one_line() {
        let info = "MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(parse_available(info), Some(2048 * 1024));
        assert_eq!(parse_available("MemTotal: 1 kB\n"), None);
        assert!(verdict(0, 1 << 20, "x", Some(2 << 20)).is_ok());
        assert!(
            verdict(0, 1 << 40, "x", None).is_ok(),
            "unknown: not refused"
        );
        let err = verdict(3, 3 << 40, "two fields of 1x2 cells", Some(2 << 30)).unwrap_err();
        assert_eq!(
            err.message,
            "this run needs about 3.0 TiB of memory on rank 3 (two fields of 1x2 cells), \
             but its node has 2.0 GiB available (MemAvailable): use more nodes, or a smaller problem"
        );
        assert_eq!(shown(512), "512 B");
    }
}
