//! A private one-node SLURM for a test binary (scripts/slurm-local.sh),
//! each on a port and in a folder of its own, stopped when dropped; shared
//! by tests/studies.rs and tests/job_scripts.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{is_root, show, skip};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

pub struct Slurm {
    dir: PathBuf,
    conf: PathBuf,
    port: &'static str,
}

impl Slurm {
    fn script(dir: &Path, port: &str, verb: &str) -> Output {
        Command::new(Path::new(ROOT).join("scripts/slurm-local.sh"))
            .arg(verb)
            .env("PARSIM_SLURM_DIR", dir)
            .env("PARSIM_SLURM_PORT", port)
            .stdin(Stdio::null())
            .output()
            .expect("run scripts/slurm-local.sh")
    }

    /// Start it in `CARGO_TARGET_TMPDIR/<folder>` on `port`, or say loudly
    /// (naming `what`) why this machine cannot (never on CI as root).
    pub fn up(folder: &str, port: &'static str, what: &str) -> Option<Slurm> {
        let root = is_root();
        let installed = Path::new("/usr/sbin/slurmctld").exists() || which("slurmctld");
        if !root || (!installed && !which("apt-get")) {
            let why = if !root {
                "not root (slurmd needs root)"
            } else {
                "SLURM not installed and no apt-get"
            };
            skip(&format!("{what}: {why}"));
            return None;
        }
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(folder);
        let _ = Self::script(&dir, port, "down");
        let out = Self::script(&dir, port, "up");
        assert!(
            out.status.success(),
            "slurm-local.sh up failed: {}",
            show(&out)
        );
        Some(Slurm {
            conf: dir.join("etc/slurm.conf"),
            dir,
            port,
        })
    }

    /// Its slurm.conf (SLURM_CONF for what runs against it).
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// `program` pointed at this SLURM.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf).stdin(Stdio::null());
        c
    }

    /// `KEY` (e.g. "JobState=") of `scontrol show job ID`, or "UNKNOWN".
    pub fn field(&self, id: &str, key: &str) -> String {
        let out = self
            .command("scontrol")
            .args(["show", "job", id])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap_or("UNKNOWN")
            .to_string()
    }

    /// Wait up to `secs` for job `id` to be in one of the states `want`.
    pub fn wait_state(&self, id: &str, want: &[&str], secs: u64) -> String {
        let start = Instant::now();
        loop {
            let st = self.field(id, "JobState=");
            if want.contains(&st.as_str()) {
                return st;
            }
            assert!(
                start.elapsed().as_secs() < secs,
                "job {id} still {st} after {secs} s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        let out = Self::script(&self.dir, self.port, "down");
        eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

/// Whether `program` is on PATH.
pub fn which(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}
