//! Memory a run will need, checked before it is allocated: an allocation
//! the machine cannot give aborts the process with a backtrace (exit 134)
//! on one rank while the others wait, so every workload states its need up
//! front and gets one line instead. What a rank can have is the least of
//! what its node has free (`MemAvailable`), what its address-space and
//! data limits leave (`ulimit -v`, `ulimit -d`: batch systems set them),
//! and what its cgroup's memory limit leaves (SLURM's `--mem`, a
//! container's). The ranks agree on the verdict in `crate::par::check_memory`.

use std::path::{Path, PathBuf};

use crate::error::{Failure, Outcome};

/// Bytes a rank may still allocate, and the limit that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Available {
    pub bytes: u128,
    pub from: Limit,
}

/// Where an [`Available`] figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The node's `MemAvailable`.
    Node,
    /// `ulimit -v` (RLIMIT_AS) less the address space in use.
    AddressSpace,
    /// `ulimit -d` (RLIMIT_DATA) less the data in use.
    Data,
    /// The cgroup's memory limit less its usage.
    Cgroup,
}

impl Limit {
    fn words(self) -> &'static str {
        match self {
            Limit::Node => "its node has {} available (MemAvailable)",
            Limit::AddressSpace => "its address-space limit (ulimit -v) leaves {}",
            Limit::Data => "its data-size limit (ulimit -d) leaves {}",
            Limit::Cgroup => "its cgroup's memory limit (the job's memory) leaves {}",
        }
    }
}

/// What this process may still allocate: the least of its node's
/// `MemAvailable`, its rlimits' headroom and its cgroup's (`None` where
/// nothing is known).
pub fn available() -> Option<Available> {
    let node = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| parse_available(&t))
        .map(|bytes| Available {
            bytes,
            from: Limit::Node,
        });
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let limits = [
        (libc::RLIMIT_AS, "VmSize:", Limit::AddressSpace),
        (libc::RLIMIT_DATA, "VmData:", Limit::Data),
    ];
    let rlimits = limits.into_iter().filter_map(|(res, key, from)| {
        let used = status_kib(&status, key)? * 1024;
        Some(Available {
            bytes: rlimit(res)?.saturating_sub(used),
            from,
        })
    });
    let cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|t| cgroup_headroom(&t, Path::new("/sys/fs/cgroup")))
        .map(|bytes| Available {
            bytes,
            from: Limit::Cgroup,
        });
    node.into_iter()
        .chain(rlimits)
        .chain(cgroup)
        .min_by_key(|a| a.bytes)
}

fn parse_available(meminfo: &str) -> Option<u128> {
    Some(status_kib(meminfo, "MemAvailable:")? * 1024)
}

/// The "KEY: N kB" figure of /proc/meminfo or /proc/self/status, in KiB.
fn status_kib(text: &str, key: &str) -> Option<u128> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// This process's soft limit of `resource`, `None` when unlimited.
pub fn rlimit(resource: libc::__rlimit_resource_t) -> Option<u128> {
    // SAFETY: all-zero is a valid rlimit; getrlimit writes into it.
    let mut r: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: a valid resource and a pointer to a live rlimit.
    if unsafe { libc::getrlimit(resource, &mut r) } != 0 || r.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(u128::from(r.rlim_cur))
}

/// The cgroup directories that may limit this process, from its
/// /proc/self/cgroup (`text`), under the cgroup mount `root`: its own
/// group's and each ancestor's (a limit anywhere above applies too), for
/// cgroup v2 ("0::/path": memory.max, memory.current) and v1's memory
/// controller ("N:memory:/path": memory.limit_in_bytes,
/// memory.usage_in_bytes). In a container the mount shows the group as
/// its root, so the walk ends there.
fn cgroup_dirs(text: &str, root: &Path) -> Vec<(PathBuf, &'static str, &'static str)> {
    let mut dirs = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(ctl), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (base, files) = if ctl.is_empty() {
            (root.to_path_buf(), ("memory.max", "memory.current"))
        } else if ctl.split(',').any(|c| c == "memory") {
            (
                root.join("memory"),
                ("memory.limit_in_bytes", "memory.usage_in_bytes"),
            )
        } else {
            continue;
        };
        let mut dir = base.join(path.trim_start_matches('/'));
        loop {
            dirs.push((dir.clone(), files.0, files.1));
            if dir == base || !dir.pop() {
                break;
            }
        }
    }
    dirs
}

/// The least headroom (limit less usage) of the cgroups limiting this
/// process (see [`cgroup_dirs`]); `None` where none sets a limit.
fn cgroup_headroom(text: &str, root: &Path) -> Option<u128> {
    let read = |p: PathBuf| std::fs::read_to_string(p).ok();
    cgroup_dirs(text, root)
        .into_iter()
        .filter_map(|(dir, limit, usage)| {
            let limit = parse_limit(&read(dir.join(limit))?)?;
            let usage: u128 = read(dir.join(usage))?.trim().parse().ok()?;
            Some(limit.saturating_sub(usage))
        })
        .min()
}

/// A cgroup memory limit: "max" (v2) or a figure of 2^62 or more (v1's
/// "unlimited", a page-rounded i64::MAX) is none.
fn parse_limit(text: &str) -> Option<u128> {
    let v: u128 = text.trim().parse().ok()?;
    (v < 1 << 62).then_some(v)
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
pub fn verdict(rank: i32, need: u128, what: &str, avail: Option<Available>) -> Outcome {
    match avail {
        Some(a) if need > a.bytes => Err(Failure::usage(format!(
            "this run needs about {} of memory on rank {rank} ({what}), but {}: \
             use more nodes, or a smaller problem",
            shown(need),
            a.from.words().replace("{}", &shown(a.bytes))
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
        let node = |bytes| {
            Some(Available {
                bytes,
                from: Limit::Node,
            })
        };
        assert!(verdict(0, 1 << 20, "x", node(2 << 20)).is_ok());
        assert!(
            verdict(0, 1 << 40, "x", None).is_ok(),
            "unknown: not refused"
        );
        let err = verdict(3, 3 << 40, "two fields of 1x2 cells", node(2 << 30)).unwrap_err();
        assert_eq!(
            err.message,
            "this run needs about 3.0 TiB of memory on rank 3 (two fields of 1x2 cells), \
             but its node has 2.0 GiB available (MemAvailable): use more nodes, or a smaller problem"
        );
        assert_eq!(shown(512), "512 B");
    }

    #[test]
    fn limits_below_the_node_are_read_and_named() {
        let status = "Name:\tparsim\nVmPeak:\t 9 kB\nVmSize:\t  204800 kB\nVmData:\t 1024 kB\n";
        assert_eq!(status_kib(status, "VmSize:"), Some(204800));
        assert_eq!(status_kib(status, "VmData:"), Some(1024));
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("9223372036854771712\n"), None);
        assert_eq!(parse_limit("1073741824\n"), Some(1 << 30));
        let v2 = cgroup_dirs("0::/user.slice/job_42\n", Path::new("/cg"));
        let names: Vec<_> = v2
            .iter()
            .map(|(d, l, _)| (d.display().to_string(), *l))
            .collect();
        assert_eq!(
            names,
            [
                ("/cg/user.slice/job_42".to_string(), "memory.max"),
                ("/cg/user.slice".to_string(), "memory.max"),
                ("/cg".to_string(), "memory.max"),
            ]
        );
        let v1 = cgroup_dirs("4:memory:/slurm/uid_0/job_7\n3:cpu:/x\n", Path::new("/cg"));
        assert_eq!(v1[0].0, Path::new("/cg/memory/slurm/uid_0/job_7"));
        assert_eq!(v1[0].1, "memory.limit_in_bytes");
        assert_eq!(v1.last().unwrap().0, Path::new("/cg/memory"));
        // A limit anywhere up the tree counts: the least headroom wins.
        let root = std::env::temp_dir().join(format!("parsim-cg-{}", std::process::id()));
        let job = root.join("a/job");
        std::fs::create_dir_all(&job).unwrap();
        std::fs::write(job.join("memory.max"), "max\n").unwrap();
        std::fs::write(job.join("memory.current"), "100\n").unwrap();
        std::fs::write(root.join("a/memory.max"), "5000\n").unwrap();
        std::fs::write(root.join("a/memory.current"), "1000\n").unwrap();
        assert_eq!(cgroup_headroom("0::/a/job\n", &root), Some(4000));
        assert_eq!(cgroup_headroom("0::/elsewhere\n", &root), None);
        std::fs::remove_dir_all(&root).unwrap();
        let err = verdict(
            0,
            1 << 30,
            "two fields",
            Some(Available {
                bytes: 1 << 20,
                from: Limit::AddressSpace,
            }),
        )
        .unwrap_err();
        assert!(
            err.message
                .contains("its address-space limit (ulimit -v) leaves 1.0 MiB"),
            "{}",
            err.message
        );
    }
}
