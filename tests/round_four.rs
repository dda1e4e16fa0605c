//! Hostile inputs, round four (issue 39): checkpoints held for the whole
//! run, locks that hold whatever the binary is called, a result never moved
//! beside a sidecar it cannot replace, resource limits said in one line,
//! stops at start-up, two options naming one file, printing commands
//! without MPI, and launchers that start at once. Each test fails on
//! d27b722.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A run started by a test, killed if the test ends (fails) before it
/// does: no long run outlives its test.
struct Running(Option<Child>);

impl Running {
    fn id(&self) -> u32 {
        self.0.as_ref().expect("running").id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `bin` (parsim, or a copy under another name) started directly, one
/// rank, in `dir`, outputs piped.
fn start(bin: &Path, dir: &Path, args: &[&str]) -> Running {
    let child = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start parsim");
    Running(Some(child))
}

/// A long heat run (stopped by the test) writing `out` and checkpoint `ckpt`.
fn long_heat<'a>(out: &'a str, ckpt: &'a str) -> Vec<&'a str> {
    vec![
        "heat",
        "--nx",
        "60",
        "--ny",
        "60",
        "--steps",
        "100000000",
        "--output",
        out,
        "--checkpoint",
        ckpt,
        "--quiet",
    ]
}

/// Wait until `path` exists (the run has reserved its files).
fn wait_exists(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} did not appear within 60 s",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Finish `run` within 120 s; its output.
fn finish(mut run: Running) -> Output {
    let mut child = run.0.take().expect("running");
    assert!(
        wait_for(&mut child, Duration::from_secs(120)).is_some(),
        "parsim did not finish within 120 s"
    );
    child.wait_with_output().expect("collect output")
}

fn stop(child: Running) -> Output {
    signal(child.id(), "USR1");
    finish(child)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `parsim:` lines of a stderr.
fn lines(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("parsim:"))
        .map(str::to_string)
        .collect()
}

/// The dot-files a run leaves beside its outputs (temporaries, locks,
/// journals).
fn hidden(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect()
}

fn parsim_bin() -> PathBuf {
    PathBuf::from(parsim())
}

#[test]
fn a_checkpoint_named_by_a_live_run_is_refused_to_a_second_one() {
    let d = scratch("r4-ckpt-shared");
    let a = start(&parsim_bin(), &d, &long_heat("a.h5", "c.h5"));
    wait_exists(&d.join(".c.h5.lock"));
    let mut b_args = long_heat("b.h5", "c.h5");
    b_args[2] = "80";
    let b = finish(start(&parsim_bin(), &d, &b_args));
    let a = stop(a);
    assert_eq!(b.status.code(), Some(2), "{}", show(&b));
    let said = lines(&b);
    assert_eq!(said.len(), 1, "{}", show(&b));
    assert!(
        said[0].contains("checkpoint 'c.h5' is being written by another parsim run")
            && said[0].contains("--checkpoint"),
        "{}",
        said[0]
    );
    assert_eq!(a.status.code(), Some(75), "{}", show(&a));
    assert_eq!(
        heat_attr(&d.join("c.h5"), "nx"),
        60,
        "the checkpoint is the first run's"
    );
    assert!(hidden(&d).is_empty(), "{:?}", listing(&d));
}

#[test]
fn a_file_put_at_the_checkpoint_during_the_run_is_not_overwritten() {
    let d = scratch("r4-ckpt-user");
    let a = start(&parsim_bin(), &d, &long_heat("a.h5", "c.h5"));
    wait_exists(&d.join(".c.h5.lock"));
    std::fs::write(d.join("c.h5"), b"the user's own file").unwrap();
    let out = stop(a);
    assert_eq!(
        std::fs::read(d.join("c.h5")).unwrap(),
        b"the user's own file"
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let said = lines(&out);
    assert_eq!(said.len(), 1, "{}", show(&out));
    assert!(
        said[0].contains("stopped by SIGUSR1")
            && said[0].contains("was replaced during the run by a file this run did not write"),
        "{}",
        said[0]
    );
    // The run's checkpoint is kept under the name the line gives.
    let kept = listing(&d)
        .into_iter()
        .find(|n| n.starts_with("c.unsaved-"))
        .expect("the checkpoint kept beside");
    assert!(said[0].contains(&kept), "{}", said[0]);
    assert_eq!(heat_attr(&d.join(&kept), "nx"), 60);
    // A checkpoint the run wrote itself is replaced by its next one.
    let d2 = scratch("r4-ckpt-own");
    let mut args = long_heat("a.h5", "c.h5");
    args.extend(["--checkpoint-every", "2000"]);
    let a = start(&parsim_bin(), &d2, &args);
    wait_exists(&d2.join("c.h5"));
    let out = stop(a);
    assert_eq!(out.status.code(), Some(75), "{}", show(&out));
    assert!(hidden(&d2).is_empty(), "{:?}", listing(&d2));
}

#[test]
fn a_live_lock_holds_whatever_the_binary_is_called() {
    let d = scratch("r4-renamed");
    let copy = d.join("parsim-0.1");
    copy_executable(Path::new(parsim()), &copy);
    std::os::unix::fs::symlink("parsim-0.1", d.join("sim")).unwrap();
    for name in ["parsim-0.1", "sim"] {
        let bin = d.join(name);
        let a = start(&bin, &d, &long_heat("r.h5", "ca.h5"));
        wait_exists(&d.join(".r.h5.lock"));
        let second = [
            "heat",
            "--nx",
            "20",
            "--ny",
            "20",
            "--steps",
            "10",
            "--output",
            "r.h5",
            "--force",
            "--checkpoint",
            "cb.h5",
        ];
        let b = finish(start(&bin, &d, &second));
        let a = stop(a);
        assert_eq!(b.status.code(), Some(2), "{name}: {}", show(&b));
        assert!(
            stderr(&b).contains("output 'r.h5' is being written by another parsim run"),
            "{name}: {}",
            stderr(&b)
        );
        assert_eq!(a.status.code(), Some(75), "{name}: {}", show(&a));
        assert!(!d.join("r.h5").exists(), "{name}: the second run wrote");
        std::fs::remove_file(d.join("ca.h5")).unwrap();
    }
    assert!(hidden(&d).is_empty(), "{:?}", listing(&d));
}

#[test]
fn a_result_is_never_moved_beside_a_sidecar_that_appeared() {
    let d = scratch("r4-pair");
    let args = [
        "heat", "--nx", "300", "--ny", "300", "--steps", "6000", "--output", "r.h5", "--quiet",
    ];
    let run = start(&parsim_bin(), &d, &args);
    wait_exists(&d.join(".r.h5.lock"));
    std::fs::write(d.join("r.xmf"), b"another run's sidecar").unwrap();
    let out = finish(run);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(!d.join("r.h5").exists(), "the result moved beside it");
    assert_eq!(
        std::fs::read(d.join("r.xmf")).unwrap(),
        b"another run's sidecar"
    );
    let said = lines(&out);
    assert!(
        said.iter()
            .any(|l| l.contains("'r.xmf' appeared during the run")
                && l.contains("'r.h5' was not moved either")
                && l.contains("r.unsaved-")),
        "{}",
        stderr(&out)
    );
    assert!(hidden(&d).is_empty(), "{:?}", listing(&d));
}

/// parsim with `resource` limited to `bytes`, in `dir`.
fn limited(dir: &Path, resource: libc::__rlimit_resource_t, bytes: u64, args: &[&str]) -> Output {
    let mut cmd = Command::new(parsim());
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe and touches no memory of ours
    // but the struct it reads.
    unsafe {
        cmd.pre_exec(move || {
            let r = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(resource, &r) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    finish(Running(Some(cmd.spawn().expect("start parsim"))))
}

#[test]
fn resource_limits_are_counted_and_said_in_one_line_with_nothing_left() {
    let d = scratch("r4-ulimit-v");
    let big = [
        "heat", "--nx", "8000", "--ny", "8000", "--steps", "1", "--output", "v.h5",
    ];
    let out = limited(&d, libc::RLIMIT_AS, 800_000 * 1024, &big);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let said = lines(&out);
    assert_eq!(said.len(), 1, "{}", show(&out));
    assert!(said[0].contains("ulimit -v"), "{}", said[0]);
    assert!(listing(&d).is_empty(), "{:?}", listing(&d));

    let d = scratch("r4-ulimit-f");
    let args = [
        "heat", "--nx", "2000", "--ny", "2000", "--steps", "1", "--output", "f.h5",
    ];
    let out = limited(&d, libc::RLIMIT_FSIZE, 8 << 20, &args);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let said = lines(&out);
    assert_eq!(said.len(), 1, "{}", show(&out));
    assert!(said[0].contains("ulimit -f"), "{}", said[0]);
    assert!(listing(&d).is_empty(), "{:?}", listing(&d));
}

#[test]
fn an_allocation_that_fails_anyway_is_one_line_and_leaves_nothing() {
    let d = scratch("r4-oom");
    let args = [
        "heat", "--nx", "300", "--ny", "300", "--steps", "100000", "--output", "o.h5",
    ];
    let out = mpirun_with_env(&d, 2, &[("PARSIM_INJECT_OOM", "1")], &args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", show(&out));
    let err = stderr(&out);
    assert_eq!(err.matches("out of memory").count(), 1, "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(listing(&d).is_empty(), "left behind: {:?}", listing(&d));
}

#[test]
fn a_stop_that_arrives_before_parsim_can_hear_it_is_honoured() {
    // SIGUSR1 blocked from before exec, then sent: pending when parsim
    // starts, the earliest a stop can come. It is heard, not lost or fatal.
    let d = scratch("r4-early-stop");
    let mut cmd = Command::new(parsim());
    cmd.args([
        "heat", "--nx", "200", "--ny", "200", "--steps", "400000", "--output", "e.h5", "--quiet",
    ])
    .current_dir(&d)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // SAFETY: sigprocmask is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            libc::raise(libc::SIGUSR1);
            Ok(())
        });
    }
    let out = finish(Running(Some(cmd.spawn().unwrap())));
    assert_eq!(out.status.code(), Some(75), "{}", show(&out));
    assert!(
        stderr(&out).contains("stopped by SIGUSR1"),
        "{}",
        show(&out)
    );
    assert!(d.join("e.ckpt.h5").exists());
}

#[test]
fn two_options_naming_one_file_are_refused_naming_both() {
    let d = scratch("r4-same-file");
    std::fs::create_dir(d.join("sub")).unwrap();
    let heat = |extra: &[&'static str]| {
        let mut v = vec!["heat", "--nx", "20", "--ny", "20", "--steps", "5"];
        v.extend_from_slice(extra);
        v
    };
    for (args, expected) in [
        (
            heat(&["--output", "r.xmf"]),
            "--output 'r.xmf' and the result's XDMF sidecar 'r.xmf' are the same file",
        ),
        (
            heat(&["--output", "r.h5", "--trace", "r.xmf"]),
            "the result's XDMF sidecar 'r.xmf' and --trace 'r.xmf' are the same file",
        ),
        (
            heat(&["--output", "r.h5", "--checkpoint", "./r.h5"]),
            "--output 'r.h5' and --checkpoint './r.h5' are the same file",
        ),
        (
            heat(&["--output", "r.h5", "--checkpoint", "sub/../r.xmf"]),
            "--checkpoint 'sub/../r.xmf' and the result's XDMF sidecar 'r.xmf'",
        ),
        (
            vec![
                "pi",
                "--samples",
                "1000",
                "--output",
                "p.h5",
                "--trace",
                "./p.h5",
            ],
            "--output 'p.h5' and --trace './p.h5' are the same file",
        ),
    ] {
        assert_refused(&d, 1, &args, expected);
    }
    assert_eq!(listing(&d), ["sub"]);
}

#[test]
fn a_stop_whose_checkpoint_cannot_be_written_says_both() {
    let d = scratch("r4-stop-no-ckpt");
    std::fs::create_dir(d.join("sub")).unwrap();
    let a = start(&parsim_bin(), &d, &long_heat("a.h5", "sub/c.h5"));
    wait_exists(&d.join("sub/.c.h5.lock"));
    std::fs::remove_dir_all(d.join("sub")).unwrap();
    let out = stop(a);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let said = lines(&out);
    assert_eq!(said.len(), 1, "{}", show(&out));
    assert!(
        said[0].contains("stopped by SIGUSR1 at step")
            && said[0].contains("but its checkpoint could not be written")
            && !said[0].contains("result file"),
        "{}",
        said[0]
    );
}

#[test]
fn printing_commands_need_no_mpi_and_fail_when_stdout_does() {
    let d = scratch("r4-print");
    // A broken MPI: the runs fail, the listings do not.
    let broken = |args: &[&str]| {
        Command::new(parsim())
            .args(args)
            .current_dir(&d)
            .env("OMPI_MCA_pml", "no-such-pml")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    assert!(!broken(&["pi", "--samples", "10", "--no-output"])
        .status
        .success());
    let out = broken(&["workloads", "--json"]);
    assert_success(&out);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(7));
    assert_success(&broken(&["man", "heat"]));
    // A stdout nobody reads: exit 1 and one line, not 0.
    for args in [&["--version"][..], &["workloads", "--json"][..]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(parsim())
            .args(args)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", show(&out));
        assert!(
            stderr(&out).contains("cannot print to stdout"),
            "{args:?}: {}",
            show(&out)
        );
    }
}

#[test]
fn pingpong_dry_run_prints_a_deck_that_runs() {
    let d = scratch("r4-pingpong-deck");
    let out = mpirun(
        &d,
        2,
        &[
            "pingpong",
            "--max-bytes",
            "64",
            "--time-per-size",
            "0.001",
            "--dry-run",
        ],
    );
    assert_success(&out);
    let deck = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(deck.contains("workload = \"pingpong\""), "{deck}");
    assert!(deck.contains("max_bytes = 64"), "{deck}");
    std::fs::write(d.join("pp.toml"), &deck).unwrap();
    let ran = mpirun(&d, 2, &["run", "pp.toml"]);
    assert_success(&ran);
    assert!(
        String::from_utf8_lossy(&ran.stdout).contains("Validation       : passed"),
        "{}",
        show(&ran)
    );
}

#[test]
fn launchers_started_at_once_each_have_their_own_session() {
    // Provoked: eight mpiruns at once, as cargo's test threads start them
    // on a fresh machine. Each has its own session directory base, so none
    // races another for Open MPI's /tmp/ompi.HOST.UID.
    let d = scratch("r4-launch-race");
    let bases: Vec<String> = (0..8)
        .map(|_| {
            mpirun_command(&d, 1, &[])
                .get_envs()
                .find(|(k, _)| *k == "OMPI_MCA_orte_tmpdir_base")
                .and_then(|(_, v)| v.map(|v| v.to_string_lossy().into_owned()))
                .expect("a session base")
        })
        .collect();
    let mut unique = bases.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), bases.len(), "{bases:?}");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let (d, barrier) = (d.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let out = format!("p{i}.h5");
                mpirun_once_for_test(&d, &["pi", "--samples", "1000", "--output", &out])
            })
        })
        .collect();
    for r in runs {
        let out = r.join().unwrap();
        assert!(
            out.status.success(),
            "a launcher started at once failed: {}",
            show(&out)
        );
    }
}

/// One launch through the common command, without the retry, so that a
/// race would show.
fn mpirun_once_for_test(dir: &Path, args: &[&str]) -> Output {
    mpirun_command(dir, 1, args).output().unwrap()
}
