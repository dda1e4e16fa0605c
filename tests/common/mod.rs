//! Running parsim under a real `mpirun` from integration tests.
//!
//! As root, OpenMPI refuses to start unless told it may; tests set that
//! only when they run as root. `--oversubscribe` lets tests use more ranks
//! than the machine has cores, `--bind-to none` keeps concurrent tests from
//! being pinned to the same core.
#![allow(dead_code)]

pub mod heat3d;
pub mod pairsets;
pub mod slurm;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn parsim() -> &'static str {
    env!("CARGO_BIN_EXE_parsim")
}

/// A session directory base of its own for one `mpirun`. Two `mpirun`s
/// that start at once on a machine where Open MPI's /tmp/ompi.HOST.UID
/// does not exist yet race to create it, and the loser fails ("mkdir
/// /tmp/ompi.vm.0: File exists", orte_init failed): that failed CI in a
/// fresh root. Under the test's own target directory, short enough for
/// the Unix sockets Open MPI makes inside (108 bytes in all).
pub fn session_base() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "ompi-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(&name);
    if base.as_os_str().len() > 56 {
        base = std::env::temp_dir().join(format!("parsim-{name}"));
    }
    std::fs::create_dir_all(&base).expect("create a session directory base");
    base
}

/// The `mpirun` command for `ranks` ranks of parsim with `args`, in `dir`,
/// with a session directory of its own ([`session_base`]).
pub fn mpirun_command(dir: &Path, ranks: usize, args: &[&str]) -> Command {
    mpirun_with_env(dir, ranks, &[], args)
}

/// As [`mpirun_command`], with environment variables `env` passed to every
/// rank (`-x NAME`).
pub fn mpirun_with_env(dir: &Path, ranks: usize, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new("mpirun");
    cmd.env("OMPI_MCA_orte_tmpdir_base", session_base());
    cmd.args(["--oversubscribe", "--bind-to", "none", "-n"])
        .arg(ranks.to_string());
    for (name, value) in env {
        cmd.env(name, value).args(["-x", name]);
    }
    cmd.arg(parsim())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if is_root() {
        cmd.env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    }
    cmd
}

/// `mpirun -n ranks parsim args...` in `dir`, killed (and the test failed)
/// if it has not finished within `limit`. A launch whose runtime could not
/// start ([`runtime_start_failed`]: an infrastructure failure, not
/// parsim's) is tried once more, and said in the summary.
pub fn mpirun_in(dir: &Path, ranks: usize, args: &[&str], limit: Duration) -> Output {
    let out = mpirun_once(dir, ranks, args, limit);
    if !runtime_start_failed(&out) {
        return out;
    }
    retried(&format!(
        "mpirun's runtime could not start for parsim {args:?} (its session directory); ran it again"
    ));
    mpirun_once(dir, ranks, args, limit)
}

/// Whether `mpirun` failed before any rank ran parsim because Open MPI's
/// runtime could not make its session directory ("mkdir ...: File
/// exists", orte_init failed): two launchers racing for /tmp/ompi.HOST.UID.
pub fn runtime_start_failed(out: &Output) -> bool {
    let err = String::from_utf8_lossy(&out.stderr);
    !out.status.success()
        && err.contains("File exists")
        && (err.contains("orte_init") || err.contains("ompi_rte_init") || err.contains("session"))
}

fn mpirun_once(dir: &Path, ranks: usize, args: &[&str], limit: Duration) -> Output {
    let mut child = mpirun_command(dir, ranks, args)
        .spawn()
        .expect("cannot start mpirun (is OpenMPI installed?)");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait for mpirun").is_some() {
            return child.wait_with_output().expect("collect mpirun output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("collect mpirun output");
            panic!(
                "mpirun -n {ranks} parsim {args:?} hung for more than {limit:?}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// As [`mpirun_in`] with a 120 s limit.
pub fn mpirun(dir: &Path, ranks: usize, args: &[&str]) -> Output {
    mpirun_in(dir, ranks, args, Duration::from_secs(120))
}

/// Run and insist on success; returns stdout.
pub fn run_ok(dir: &Path, ranks: usize, args: &[&str]) -> String {
    let out = mpirun(dir, ranks, args);
    assert!(
        out.status.success(),
        "mpirun -n {ranks} parsim {args:?} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run with `--json` and parse stdout as the report.
pub fn run_json(dir: &Path, ranks: usize, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let stdout = run_ok(dir, ranks, &all);
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{stdout}"))
}

/// Insist that a finished command succeeded (its stderr in the failure).
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}; stderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A finished command's exit code and both outputs, for failure messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A fresh empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Names of the entries of `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Read a 2D f64 dataset.
pub fn read_field(path: &Path, dataset: &str) -> ndarray::Array2<f64> {
    let f = hdf5::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.dataset(dataset)
        .unwrap_or_else(|e| panic!("{dataset} in {}: {e}", path.display()))
        .read_2d::<f64>()
        .unwrap()
}

/// Wait for `child` at most `limit`; `None` if it is still running (then
/// it is killed).
pub fn wait_for(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Pids of the parsim rank processes that `mpirun` (pid `parent`) started.
///
/// Read from `/proc` rather than asking `pgrep`: a minimal system (and the
/// fresh Debian root the README is proven on) has no procps.
pub fn rank_pids(parent: u32) -> Vec<u32> {
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&pid: &u32| {
            // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
                return false;
            };
            let ppid = stat[close + 1..].split_whitespace().nth(1);
            &stat[open + 1..close] == "parsim" && ppid == Some(&parent.to_string())
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Send `signal` (e.g. "USR1", "KILL") to `pid`, with kill(2) itself (no
/// `/bin/kill` needed).
pub fn signal(pid: u32, signal: &str) {
    let number = match signal {
        "TERM" => libc::SIGTERM,
        "INT" => libc::SIGINT,
        "USR1" => libc::SIGUSR1,
        "KILL" => libc::SIGKILL,
        "HUP" => libc::SIGHUP,
        other => panic!("signal: unknown signal name {other}"),
    };
    let pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    let rc = unsafe { libc::kill(pid, number) };
    assert_eq!(
        rc,
        0,
        "kill -{signal} {pid} failed: {}",
        std::io::Error::last_os_error()
    );
}

/// Read a u64 attribute of `/heat`.
pub fn heat_attr(path: &Path, name: &str) -> u64 {
    let f = hdf5::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    f.group("heat")
        .unwrap()
        .attr(name)
        .unwrap()
        .read_scalar::<u64>()
        .unwrap()
}

/// True when the two files' `/heat/temperature` are bitwise identical.
pub fn same_field(a: &Path, b: &Path) -> bool {
    let (x, y) = (
        read_field(a, "/heat/temperature"),
        read_field(b, "/heat/temperature"),
    );
    x.dim() == y.dim()
        && x.iter()
            .zip(y.iter())
            .all(|(p, q)| p.to_bits() == q.to_bits())
}

/// Run parsim with bad input and insist on a refusal: exit code 2, exactly
/// one `parsim:` line (rank 0 speaks, not every rank) containing
/// `expected`, and no report on stdout. Returns stderr.
pub fn assert_refused(dir: &Path, ranks: usize, args: &[&str], expected: &str) -> String {
    let out = mpirun(dir, ranks, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: exit code; stderr:\n{stderr}"
    );
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("parsim:"))
        .collect();
    assert_eq!(
        ours.len(),
        1,
        "{args:?}: expected one message from rank 0, got:\n{stderr}"
    );
    assert!(
        ours[0].contains(expected),
        "{args:?}: message {:?} lacks {expected:?}",
        ours[0]
    );
    assert!(out.stdout.is_empty(), "{args:?} printed a report");
    stderr
}

/// A copy of the executable `src` at `dst`, made by `cp` in a process of
/// its own. Why not `fs::copy`: while this test process holds the copy open
/// for writing, another test thread may fork, and its child keeps that
/// descriptor until it execs; running the copy meanwhile fails with "Text
/// file busy" (ETXTBSY). It failed CI once. Only `cp` ever holds it open.
pub fn copy_executable(src: &Path, dst: &Path) {
    let status = std::process::Command::new("cp")
        .arg(src)
        .arg(dst)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("start cp");
    assert!(status.success(), "cp {} {}", src.display(), dst.display());
}

/// Say loudly that a test (or part of one) did not run, and why.
pub fn skip(what: &str) {
    notice("SKIP", what);
}

/// Say loudly that a test had to run a step twice (an infrastructure
/// failure of the moment, named by `what`), so a retry never passes
/// unseen.
pub fn retried(what: &str) {
    notice("RETRIED", what);
}

/// `kind: what` on stderr and, since cargo hides a passing test's output,
/// appended to the file named by `PARSIM_TEST_NOTICES` (scripts/test.sh sets
/// it and lists every line at the end of its summary).
fn notice(kind: &str, what: &str) {
    eprintln!("\n*** {kind}: {what} ***\n");
    if let Some(path) = std::env::var_os("PARSIM_TEST_NOTICES") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
        {
            let _ = writeln!(f, "{kind}: {what}");
        }
    }
}

/// Whether this process runs as root (namespaces, slurmd and mknod need
/// it; Open MPI must be told it may).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    })
}

/// A Python interpreter with h5py: the project's .venv first. `None` (with
/// a loud SKIP) off CI; on CI (`CI` set) a missing h5py fails the test,
/// since scripts/setup.sh --python must have installed it.
pub fn python_with(modules: &str) -> Option<&'static str> {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");
    for python in [venv, "python3", "/usr/bin/python3"] {
        let has = Command::new(python)
            .args(["-c", &format!("import {modules}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if has {
            return Some(python);
        }
    }
    assert!(
        std::env::var("CI").is_err(),
        "{modules} is not installed; scripts/setup.sh --python installs it in .venv"
    );
    skip(&format!("no python3 with {modules} on this machine"));
    None
}

/// Run a Python `script` with `args` (h5py available); panics with its
/// stderr if it fails. Returns stdout; `None` when skipped.
pub fn run_python(script: &str, args: &[&str]) -> Option<String> {
    run_python_with("h5py", script, args)
}

/// As [`run_python`], with the interpreter that has `modules` ("xarray,
/// h5netcdf").
pub fn run_python_with(modules: &str, script: &str, args: &[&str]) -> Option<String> {
    let python = python_with(modules)?;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python check failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every dataset under `group` of two files, bitwise.
pub fn same_datasets(a: &Path, b: &Path, group: &str) -> bool {
    let (fa, fb) = (hdf5::File::open(a).unwrap(), hdf5::File::open(b).unwrap());
    let mut stack = vec![group.to_string()];
    let mut n = 0;
    while let Some(g) = stack.pop() {
        for name in fa.group(&g).unwrap().member_names().unwrap() {
            let path = format!("{g}/{name}");
            match fa.dataset(&path) {
                Ok(ds) => {
                    let x: Vec<f64> = ds.read_raw().unwrap();
                    let y: Vec<f64> = fb.dataset(&path).unwrap().read_raw().unwrap();
                    let same = x.len() == y.len()
                        && x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits());
                    if !same {
                        eprintln!("{path} differs");
                        return false;
                    }
                    n += 1;
                }
                Err(_) => stack.push(path),
            }
        }
    }
    n > 0
}

/// Each case (options, expected message) of `workload` is refused on 2
/// ranks, with `--output new.h5` unless it names an output, and leaves
/// `dir` holding only its `taken.h5`.
pub fn refuses_each(dir: &Path, workload: &str, cases: &[(&[&str], &str)]) {
    for (args, expected) in cases {
        let mut a = vec![workload];
        a.extend_from_slice(args);
        if !args.contains(&"--output") {
            a.extend(["--output", "new.h5"]);
        }
        assert_refused(dir, 2, &a, expected);
        assert_eq!(listing(dir), vec!["taken.h5"], "{args:?} left files");
    }
}

/// Compares what ParaView read (`pvbatch_read.py`'s arrays) with the HDF5
/// file: every reader's times are the snapshots' (the final field's last),
/// each step's field is bitwise the snapshot or final field, the grid sits
/// in the XY plane at the cell centres (a 3D field: a volume of the
/// dataset's nz x ny x nx points at the cell centres); the picture is not
/// blank.
/// argv: FILE.h5 ARRAYS.npz PICTURE.png
const CHECK_PARAVIEW: &str = r#"
import sys, h5py, numpy as np, matplotlib.image as mpimg
h5, npz, png = sys.argv[1:4]
z = np.load(npz)
with h5py.File(h5, "r") as f:
    g = f["heat"]
    final_step, final = int(g["temperature"].attrs["step"]), g["temperature"][...]
    steps, fields = [], []
    if "snapshots" in g:
        for k, s in enumerate(g["snapshot_step"][:]):
            if s != final_step:
                steps.append(float(g["snapshot_time"][k])); fields.append(g["snapshots"][k])
    steps.append(float(g["temperature"].attrs["time"])); fields.append(final)
    dx, dy = float(g.attrs["dx"]), float(g.attrs["dy"])
    # 2D: one layer of points at z = 0, spaced 1; 3D: a volume.
    dz, z0 = (float(g.attrs["dz"]),) * 2 if "dz" in g.attrs else (1.0, 0.0)
for reader in ["XDMFReader", "Xdmf3ReaderS", "Xdmf3ReaderT"]:
    times = list(z[reader + "/times"])
    assert times == steps, (reader, times, steps)
    for k, want in enumerate(fields):
        got = z[f"{reader}/{k}"]
        assert got.shape == want.shape and np.array_equal(got, want), (reader, k)
    dims = list(z[reader + "/dims"])
    assert dims == ([1] * (3 - final.ndim) + list(final.shape)), (reader, dims, final.shape)
    assert list(z[reader + "/spacing"]) == [dx, dy, dz], (reader, z[reader + "/spacing"])
    assert list(z[reader + "/origin"]) == [dx, dy, z0], (reader, z[reader + "/origin"])
img = mpimg.imread(png)[..., :3]
colours = np.unique((img * 255).round().astype(int).reshape(-1, 3), axis=0)
background = img[0, 0]
drawn = np.any(np.abs(img - background) > 0.02, axis=-1).mean()
assert len(colours) > 50 and drawn > 0.2, ("blank picture", len(colours), drawn)
print(len(steps), len(colours), round(drawn, 3))
"#;

/// Opens `FILE.xmf` (beside `h5`) with ParaView's three XDMF readers in
/// `pvbatch` (under `xvfb-run`: Debian's ParaView renders through X) and
/// checks what they read against the file (see `CHECK_PARAVIEW`); renders
/// the last step to `FILE.png`. Returns the check's line (steps, colours,
/// drawn fraction), `None` when skipped: ParaView missing off CI.
pub fn paraview_reads(h5: &Path) -> Option<String> {
    let have = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !(have("pvbatch") && have("xvfb-run")) {
        assert!(
            std::env::var("CI").is_err(),
            "pvbatch or xvfb-run missing; scripts/setup.sh --tests installs them"
        );
        skip("no pvbatch/xvfb-run on this machine");
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/pvbatch_read.py");
    let (xmf, npz, png) = (
        h5.with_extension("xmf"),
        h5.with_extension("npz"),
        h5.with_extension("png"),
    );
    let xerr = h5.with_extension("xvfb.txt");
    let run = || {
        Command::new("xvfb-run")
            .args(["-a", "-e"])
            .arg(&xerr)
            .args(["-s", "-screen 0 640x480x24", "pvbatch", script])
            .args([&xmf, &npz, &png])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // The X server, not ParaView, now and then refuses pvbatch's first
    // connection when the machine is loaded ("bad X server connection"):
    // that case is retried, anything else fails at once.
    let mut out = run();
    for _ in 0..2 {
        if out.status.success() || !String::from_utf8_lossy(&out.stderr).contains("bad X server") {
            break;
        }
        eprintln!("pvbatch: X server not ready, again");
        out = run();
    }
    assert!(
        out.status.success() && npz.exists() && png.exists(),
        "pvbatch could not read {}:\n{}\nXvfb: {}",
        xmf.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&xerr).unwrap_or_default()
    );
    let (h5, npz, png) = (
        h5.to_str().unwrap(),
        npz.to_str().unwrap(),
        png.to_str().unwrap(),
    );
    run_python(CHECK_PARAVIEW, &[h5, npz, png])
}

/// Errors of three runs, dx halving each time: each must fall about
/// fourfold (second order in space, dt with dx^2): 2D and 3D heat.
pub fn assert_falls_fourfold((e1, e2, e3): (f64, f64, f64)) {
    for (coarse, fine) in [(e1, e2), (e2, e3)] {
        let ratio = coarse / fine;
        assert!(
            (3.6..=4.4).contains(&ratio),
            "errors {e1:e} {e2:e} {e3:e}: ratio {ratio}"
        );
    }
}

/// A `.npy` file of `descr` ('<f8', '>f4'...) with shape `shape` and the
/// raw `data` bytes (heat's `--init FILE.npy`, 2D and 3D).
pub fn npy(path: &Path, descr: &str, shape: &str, data: &[u8]) {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let mut h = dict.into_bytes();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h);
    b.extend_from_slice(data);
    std::fs::write(path, b).unwrap();
}

/// Values as little-endian f64 bytes (a `.npy` file's '<f8' data).
pub fn f64_le(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The four files of a field `v` of `shape` (slowest first) that the
/// `--init FILE` tests read: `f64.npy`, big-endian `f32.npy`, and
/// `in.h5` with datasets `/f64` and `/deep/f32`.
pub fn field_inputs(dir: &Path, v: &[f64], shape: &[usize]) {
    let dims = shape.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let text = format!("({})", dims.join(", "));
    npy(&dir.join("f64.npy"), "<f8", &text, &f64_le(v));
    let be: Vec<u8> = v.iter().flat_map(|&x| (x as f32).to_be_bytes()).collect();
    npy(&dir.join("f32.npy"), ">f4", &text, &be);
    let f = hdf5::File::create(dir.join("in.h5")).unwrap();
    let a = ndarray::ArrayD::from_shape_vec(shape.to_vec(), v.to_vec()).unwrap();
    f.new_dataset_builder().with_data(&a).create("f64").unwrap();
    let g = f.create_group("deep").unwrap();
    let a32 = a.mapv(|x| x as f32);
    g.new_dataset_builder()
        .with_data(&a32)
        .create("f32")
        .unwrap();
}
