//! How much cache one core can count on, from what the OS reports
//! (`/sys/devices/system/cpu/cpuN/cache`). No MPI here: the heat plan
//! agrees on one figure across ranks (the smallest) before it uses it.
//!
//! Why per core: on a cluster node every core runs a rank, so a rank gets
//! its private L2 and its share of each cache it shares (the L3 of a core
//! complex, divided by the CPUs listed as sharing it). L1 is left out: it
//! holds the few rows a stencil pass is working on, whatever the block.
//!
//! Why L2 apart: the stencil runs at one rate from L2 and at a lower one
//! from a shared L3 (this machine, Zen 1: about 1100 MLUPS with both
//! fields in L2, 700-850 with them in L3), so the heat plan needs both
//! figures: L2 says when time blocking starts to pay, the whole share how
//! deep its rings may grow.

use std::path::Path;

use serde::Serialize;

/// Bytes of cache per core when the OS reports none (no sysfs, another
/// OS): a cautious figure for a current server core (1 MiB L2 and 1 MiB
/// of shared L3), so that an unknown machine gets shallower time blocks,
/// never rings that spill.
pub const FALLBACK_PER_CORE: u64 = 2 << 20;

/// The L2 part of [`FALLBACK_PER_CORE`].
pub const FALLBACK_L2: u64 = 1 << 20;

/// The cache one core can count on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheShare {
    /// Bytes: the sum over the levels from 2 up of size / CPUs sharing it.
    #[serde(rename = "per_core_bytes")]
    pub per_core: u64,
    /// Bytes: the share of the lowest level from 2 up (L2 on every current
    /// CPU; halved where two hardware threads share it). Part of
    /// `per_core`.
    #[serde(rename = "l2_bytes")]
    pub l2: u64,
    /// True when read from sysfs, false for the fallback figures.
    pub from_sysfs: bool,
}

impl CacheShare {
    /// The fallback, when the OS reports nothing.
    pub const FALLBACK: Self = Self {
        per_core: FALLBACK_PER_CORE,
        l2: FALLBACK_L2,
        from_sysfs: false,
    };

    /// The share of the CPU this process is running on (or CPU 0), or the
    /// fallback.
    pub fn local() -> Self {
        // SAFETY: sched_getcpu has no preconditions; -1 means unknown.
        let cpu = unsafe { libc::sched_getcpu() }.max(0);
        let dir = format!("/sys/devices/system/cpu/cpu{cpu}/cache");
        Self::from_dir(Path::new(&dir)).unwrap_or(Self::FALLBACK)
    }

    /// Read a sysfs cache directory (`index0`, `index1`, ... each with
    /// `level`, `type`, `size`, `shared_cpu_list`); `None` when it holds no
    /// data cache from level 2 up.
    pub fn from_dir(dir: &Path) -> Option<Self> {
        let mut per_core = 0;
        // (level, share) of the lowest level from 2 up seen so far.
        let mut lowest: Option<(u32, u64)> = None;
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let read = |name: &str| std::fs::read_to_string(entry.path().join(name)).ok();
            let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size"))
            else {
                continue;
            };
            let level: u32 = level.trim().parse().ok()?;
            if level < 2 || kind.trim() == "Instruction" {
                continue;
            }
            let sharers = read("shared_cpu_list")
                .and_then(|l| cpu_count(&l))
                .unwrap_or(1);
            let share = parse_size(&size)? / sharers;
            per_core += share;
            if lowest.is_none_or(|(l, _)| level < l) {
                lowest = Some((level, share));
            }
        }
        let (_, l2) = lowest?;
        (per_core > 0).then_some(Self {
            per_core,
            l2,
            from_sysfs: true,
        })
    }

    /// "0.5 MiB L2, 4.5 MiB in all per core (sysfs)": for reports.
    pub fn describe(&self) -> String {
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        let from = if self.from_sysfs {
            "sysfs"
        } else {
            "none reported, assumed"
        };
        format!(
            "{:.1} MiB L2, {:.1} MiB in all per core ({from})",
            mib(self.l2),
            mib(self.per_core)
        )
    }
}

/// " (auto: 0.5 MiB L2, 4.5 MiB in all per core (sysfs))" after a time
/// block derived from `cache`, nothing after one that was given.
pub fn auto_note(cache: Option<CacheShare>) -> String {
    cache.map_or(String::new(), |c| format!(" (auto: {})", c.describe()))
}

/// A sysfs size: "512K", "8192K", "32M", or plain bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// CPUs in a sysfs CPU list ("0-3,8,10-11": 7); `None` if malformed.
pub fn cpu_count(list: &str) -> Option<u64> {
    let mut n = 0;
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
                b.checked_sub(a)? + 1
            }
            None => part.parse::<u64>().map(|_| 1).ok()?,
        };
    }
    (n > 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory of the test's own under the temp dir.
    fn scratch(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("parsim-cache-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// One cache of a sysfs layout: level, type, size, shared_cpu_list.
    type Cache<'a> = (u32, &'a str, &'a str, &'a str);

    /// A sysfs cache directory of the test's own holding `caches` as
    /// `index0`, `index1`, ... in that order.
    fn layout(tag: &str, caches: &[Cache]) -> std::path::PathBuf {
        let dir = scratch(tag);
        for (i, (level, kind, size, shared)) in caches.iter().enumerate() {
            let d = dir.join(format!("index{i}"));
            std::fs::create_dir_all(&d).unwrap();
            for (name, v) in [
                ("level", level.to_string()),
                ("type", kind.to_string()),
                ("size", size.to_string()),
                ("shared_cpu_list", shared.to_string()),
            ] {
                std::fs::write(d.join(name), format!("{v}\n")).unwrap();
            }
        }
        dir
    }

    #[test]
    fn sizes_and_cpu_lists_parse() {
        assert_eq!(parse_size("512K\n"), Some(512 << 10));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("12Q"), None);
        assert_eq!(parse_size("K"), None);
        assert_eq!(cpu_count("0-3,8,10-11\n"), Some(7));
        assert_eq!(cpu_count("5"), Some(1));
        assert_eq!(cpu_count("3-1"), None);
        assert_eq!(cpu_count(""), None);
    }

    #[test]
    fn share_is_l2_plus_l3_over_its_sharers() {
        // This machine's layout: L1d 32K, L1i 64K, L2 512K private, L3 8M
        // shared by CPUs 0-1.
        let dir = layout(
            "zen1",
            &[
                (1, "Data", "32K", "0"),
                (1, "Instruction", "64K", "0"),
                (2, "Unified", "512K", "0"),
                (3, "Unified", "8192K", "0-1"),
            ],
        );
        let c = CacheShare::from_dir(&dir).unwrap();
        assert_eq!(c.per_core, (512 << 10) + (4 << 20));
        assert_eq!(c.l2, 512 << 10);
        assert!(c.from_sysfs);
        assert_eq!(c.describe(), "0.5 MiB L2, 4.5 MiB in all per core (sysfs)");
    }

    #[test]
    fn l2_is_the_lowest_level_from_2_up_whatever_the_order() {
        // L2 shared by two hardware threads, listed after the L3.
        let dir = layout(
            "smt",
            &[
                (3, "Unified", "32M", "0-15"),
                (2, "Unified", "2048K", "0,8"),
                (1, "Data", "48K", "0,8"),
            ],
        );
        let c = CacheShare::from_dir(&dir).unwrap();
        assert_eq!(c.l2, 1 << 20);
        assert_eq!(c.per_core, (1 << 20) + (2 << 20));
        // No L2 at all: the next level down stands in for it.
        let dir = layout("l3only", &[(3, "Unified", "8M", "0-3")]);
        assert_eq!(CacheShare::from_dir(&dir).unwrap().l2, 2 << 20);
    }

    #[test]
    fn nothing_reported_gives_none() {
        let dir = layout("l1", &[(1, "Data", "48K", "0")]);
        assert_eq!(CacheShare::from_dir(&dir.join("missing")), None);
        assert_eq!(CacheShare::from_dir(&dir), None, "L1 only");
    }
}
