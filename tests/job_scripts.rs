//! The job scripts as a site's user submits them (issue 43, part 2), on a
//! private one-node SLURM started by this test (scripts/slurm-local.sh, on
//! a port and in a folder of its own, so it never meets tests/studies.rs'):
//! parsim found on PATH and named in the log; a list cut by `sbatch
//! --export` refused, a colon list run; ou stopped by SLURM's warning
//! signal, requeued and resumed to the bits of an uninterrupted run; pi
//! stopped cleanly and not requeued; jobs/lib.sh found from a folder with
//! spaces; a sweep as a job array gathered into one file
//! (scripts/gather.py), whose refusals are tested without SLURM.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::slurm::Slurm;
use common::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What these tests ask of the shared SLURM (tests/common/slurm.rs).
trait Jobs {
    fn clean_command(&self, program: &str) -> Command;
    fn submit(&self, dir: &Path, args: &[&str]) -> (String, Output);
}

impl Jobs for Slurm {
    /// `program` pointed at this SLURM, with no PARSIM of the caller's.
    fn clean_command(&self, program: &str) -> Command {
        let mut c = self.command(program);
        c.env_remove("PARSIM").env_remove("PARSIM_JOBS");
        c
    }

    /// `sbatch --parsable --ntasks=2 --chdir=DIR ARGS...`; the job id.
    fn submit(&self, dir: &Path, args: &[&str]) -> (String, Output) {
        let out = self
            .clean_command("sbatch")
            .args(["--parsable", "--ntasks=2"])
            .arg(format!("--chdir={}", dir.display()))
            .args(args)
            .output()
            .unwrap();
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (id, out)
    }
}

fn job(script: &str) -> String {
    Path::new(ROOT)
        .join("jobs")
        .join(script)
        .display()
        .to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `n` parsim processes working in `dir` have their stop handlers
/// (SIGUSR1 caught): a signal before that would kill a rank outright, and
/// parsim installs them before anything else, MPI included.
fn ranks_ready(dir: &Path, n: usize) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    let ready = procs
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "parsim")
        })
        .filter(|e| std::fs::read_link(e.path().join("cwd")).is_ok_and(|c| c == dir))
        .filter(|e| {
            std::fs::read_to_string(e.path().join("status")).is_ok_and(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("SigCgt:"))
                    .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
                    .is_some_and(|m| m & (1 << 9) != 0) // SIGUSR1 is 10
            })
        })
        .count();
    ready >= n
}

/// Job `id`'s 2 ranks, once their stop handlers are in place, get SLURM's
/// warning signal as `#SBATCH --signal=B:USR1@300` sends it.
fn warn_job(slurm: &Slurm, dir: &Path, id: &str) {
    slurm.wait_state(id, &["RUNNING"], 120);
    let start = Instant::now();
    while !ranks_ready(dir, 2) {
        assert!(start.elapsed().as_secs() < 120, "job {id}: no parsim ranks");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sig = slurm
        .clean_command("scancel")
        .args(["--batch", "--signal=USR1", id])
        .output()
        .unwrap();
    assert!(sig.status.success(), "{}", show(&sig));
}

/// A folder holding only a `parsim` symlink, and PATH with it first.
fn path_with_parsim(work: &Path) -> String {
    let bin = work.join("site bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(parsim(), bin.join("parsim")).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn slurm_job_scripts_a_site_can_submit() {
    let Some(slurm) = Slurm::up("slurm-jobs", "16837", "SLURM job script tests") else {
        return;
    };
    let work = scratch("slurm_job_scripts");
    let path = path_with_parsim(&work);
    let on_path = format!(
        "parsim: {}/site bin/parsim (on PATH): parsim ",
        work.display()
    );

    // A list cut by sbatch at its commas: refused, nothing run.
    let dir = work.join("cut");
    std::fs::create_dir_all(&dir).unwrap();
    let (id, out) = slurm.submit(
        &dir,
        &[
            "--wait",
            "--export=ALL,PATHS=4,STEPS=1000,TAU=0.5,1,2",
            &job("ou.sbatch"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let log = read(&dir.join(format!("parsim-ou-{id}.out")));
    assert!(
        log.contains(
            "sbatch --export cut TAU at its commas (the job got TAU=0.5): write TAU=0.5:1:2"
        ),
        "{log}"
    );
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(!dir.join(format!("ou-{id}.h5")).exists());

    // The colon list: a 3-set sweep, parsim found on PATH (PARSIM unset,
    // no build in the submit directory) and named in the log.
    let dir = work.join("colons");
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = slurm.clean_command("sbatch");
    cmd.env("PATH", &path)
        .args(["--parsable", "--wait", "--ntasks=2"])
        .arg(format!("--chdir={}", dir.display()))
        .arg("--export=ALL,PATHS=4,STEPS=1000,TAU=0.5:1:2")
        .arg(job("ou.sbatch"));
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let log = read(&dir.join(format!("parsim-ou-{id}.out")));
    assert!(log.contains(&on_path), "{log}");
    let f = hdf5::File::open(dir.join(format!("ou-{id}.h5"))).unwrap();
    let tau: Vec<f64> = f.dataset("ou/tau").unwrap().read_raw().unwrap();
    assert_eq!(tau, [0.5, 1.0, 2.0]);

    // No parsim anywhere: one line, exit 2.
    let (id, out) = slurm.submit(
        &dir,
        &[
            "--wait",
            "--export=ALL,PARSIM=/nonexistent/parsim",
            &job("pi.sbatch"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let log = read(&dir.join(format!("parsim-mc-{id}.out")));
    assert_eq!(
        log.trim(),
        "parsim-mc: parsim binary not found at '/nonexistent/parsim' (PARSIM): build it (cargo build --release) or fix PARSIM"
    );
    // jobs/lib.sh not where PARSIM_JOBS says: one line, exit 2.
    let (id, out) = slurm.submit(
        &dir,
        &[
            "--wait",
            "--export=ALL,PARSIM_JOBS=/nonexistent",
            &job("pi.sbatch"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let log = read(&dir.join(format!("parsim-mc-{id}.out")));
    assert!(
        log.trim()
            .starts_with("parsim-mc: jobs/lib.sh not found (last looked at '/nonexistent/lib.sh')"),
        "{log}"
    );

    ou_requeued_resumes(&slurm, &work);
    pi_stops_unrequeued(&slurm, &work);
    lib_from_a_folder_with_spaces(&slurm, &work, &path, &on_path);
    array_sweep_gathered(&slurm, &work);
}

/// ou stopped by SLURM's warning signal mid-run writes a checkpoint, is
/// requeued, resumes from it and ends with the datasets of one
/// uninterrupted run; through ou.sbatch, and through run.sbatch with an ou
/// deck (the checkpoint named after the deck).
fn ou_requeued_resumes(slurm: &Slurm, work: &Path) {
    let dir = work.join("ou-requeue");
    std::fs::create_dir_all(&dir).unwrap();
    let steps = "400000000";
    let export = format!("--export=ALL,PARSIM={},PATHS=4,STEPS={steps}", parsim());
    let id = requeue_and_resume(slurm, &dir, &[&export, &job("ou.sbatch")], "ou", "ou");
    run_ok(
        &dir,
        2,
        &["ou", "--paths", "4", "--steps", steps, "--output", "ref.h5"],
    );
    let reference = dir.join("ref.h5");
    assert!(
        same_datasets(&reference, &dir.join(format!("ou-{id}.h5")), "ou"),
        "the requeued ou run differs from an uninterrupted one"
    );
    std::fs::write(
        dir.join("ou4.toml"),
        format!("workload = \"ou\"\npaths = 4\nsteps = {steps}\n"),
    )
    .unwrap();
    let export = format!("--export=ALL,PARSIM={}", parsim());
    let args = [export.as_str(), &job("run.sbatch"), "ou4.toml"];
    let id = requeue_and_resume(slurm, &dir, &args, "run", "ou4");
    assert!(
        same_datasets(&reference, &dir.join(format!("ou4-{id}.h5")), "ou"),
        "the requeued ou deck run differs from an uninterrupted one"
    );
}

/// Submits `args` in `dir`, stops the job with the warning signal once its
/// ranks run, releases the requeued job and checks its log (`parsim-LOG-ID.out`)
/// for each step, the checkpoint being `NAME-ID.ckpt.h5`. The job id.
fn requeue_and_resume(slurm: &Slurm, dir: &Path, args: &[&str], log: &str, name: &str) -> String {
    let (id, out) = slurm.submit(dir, args);
    assert!(out.status.success(), "{}", show(&out));
    warn_job(slurm, dir, &id);
    // Requeued jobs are held for 120 s by SLURM; release it sooner, but
    // not within the second the old run was killed: slurmd refuses a
    // credential made no later than the second it revoked the job's
    // ("Job credential revoked", job FAILED; seen on a loaded host), which
    // is what the hold is for.
    slurm.wait_state(&id, &["PENDING"], 120);
    std::thread::sleep(Duration::from_secs(2));
    let rel = slurm
        .clean_command("scontrol")
        .args(["update", &format!("JobId={id}"), "StartTime=now"])
        .output()
        .unwrap();
    assert!(rel.status.success(), "{}", show(&rel));
    let end = slurm.wait_state(&id, &["COMPLETED", "FAILED", "CANCELLED"], 300);
    let text = read(&dir.join(format!("parsim-{log}-{id}.out")));
    assert_eq!(end, "COMPLETED", "{text}");
    for line in [
        "USR1 received: asking parsim to checkpoint and stop",
        &format!("checkpoint '{name}-{id}.ckpt.h5' written"),
        &format!("stopped with a checkpoint; requeueing job {id}"),
        &format!("resuming from {name}-{id}.ckpt.h5 (restart 1)"),
    ] {
        assert!(text.contains(line), "no {line:?} in {text}");
    }
    id
}

/// pi keeps no checkpoint: stopped by the warning signal it ends cleanly
/// (exit 75, parsim's line), and the job is not requeued.
fn pi_stops_unrequeued(slurm: &Slurm, work: &Path) {
    let dir = work.join("pi-stop");
    std::fs::create_dir_all(&dir).unwrap();
    let (id, out) = slurm.submit(
        &dir,
        &[
            &format!("--export=ALL,PARSIM={},SAMPLES=400000000000", parsim()),
            &job("pi.sbatch"),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    warn_job(slurm, &dir, &id);
    let end = slurm.wait_state(&id, &["COMPLETED", "FAILED", "CANCELLED", "PENDING"], 120);
    let log = read(&dir.join(format!("parsim-mc-{id}.out")));
    assert_eq!(end, "FAILED", "{log}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(slurm.field(&id, "JobState="), "FAILED", "{log}");
    assert_eq!(slurm.field(&id, "Restarts="), "0", "{log}");
    assert_eq!(slurm.field(&id, "ExitCode="), "75:0", "{log}");
    for line in [
        "pi keeps no checkpoint, nothing was written",
        "stopped before the end and not requeued: pi keeps no checkpoint",
    ] {
        assert!(log.contains(line), "no {line:?} in {log}");
    }
    assert!(!log.contains("requeueing"), "{log}");
    assert!(!dir.join(format!("pi-{id}.h5")).exists());
}

/// The job scripts copied to a folder with spaces and submitted from a
/// directory without jobs/: lib.sh is found next to the submitted script
/// (SLURM's Command=, arguments after it), the deck's argument kept.
fn lib_from_a_folder_with_spaces(slurm: &Slurm, work: &Path, path: &str, on_path: &str) {
    let site = work.join("site jobs");
    std::fs::create_dir_all(&site).unwrap();
    for f in ["run.sbatch", "lib.sh"] {
        std::fs::copy(Path::new(ROOT).join("jobs").join(f), site.join(f)).unwrap();
    }
    let dir = work.join("deck run");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("pi deck.toml"),
        "workload = \"pi\"\nsamples = 100000\n",
    )
    .unwrap();
    let mut cmd = slurm.clean_command("sbatch");
    cmd.env("PATH", path)
        .args(["--parsable", "--wait", "--ntasks=2"])
        .arg(format!("--chdir={}", dir.display()))
        .arg(site.join("run.sbatch"))
        .args(["pi deck.toml", "--seed", "7"]);
    let out = cmd.output().unwrap();
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let log = read(&dir.join(format!("parsim-run-{id}.out")));
    assert!(out.status.success(), "{}\n{log}", show(&out));
    assert!(log.contains(on_path), "{log}");
    let f = hdf5::File::open(dir.join(format!("pi deck-{id}.h5"))).unwrap();
    let seed: u64 = f
        .group("pi")
        .unwrap()
        .attr("seed")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert_eq!(seed, 7);
}

/// A sweep fanned out as a job array (one task per value, a wrong size
/// refused) and gathered into one file with the table of its results.
fn array_sweep_gathered(slurm: &Slurm, work: &Path) {
    let dir = work.join("sweep");
    std::fs::create_dir_all(&dir).unwrap();
    let export = format!(
        "--export=ALL,PARSIM={},WORKLOAD=ou,PARAM=tau,VALUES=0.5:1:2,PARSIM_ARGS=--paths 4 --steps 1000",
        parsim()
    );
    let (id, out) = slurm.submit(
        &dir,
        &["--wait", "--array=0-1", &export, &job("sweep.sbatch")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let log = read(&dir.join(format!("parsim-sweep-{id}_0.out")));
    assert_eq!(
        log.trim(),
        "parsim-sweep: the array has tasks 0-1 (2) but VALUES has 3 values: submit with --array=0-2"
    );
    let (id, out) = slurm.submit(
        &dir,
        &["--wait", "--array=0-2", &export, &job("sweep.sbatch")],
    );
    assert!(out.status.success(), "{}", show(&out));
    let runs = dir.join(format!("sweep-{id}"));
    for (i, tau) in ["0.5", "1", "2"].iter().enumerate() {
        // Each task's result is the single run of its value.
        let one = format!("one-{i}.h5");
        run_ok(
            &dir,
            2,
            &[
                "ou", "--paths", "4", "--steps", "1000", "--tau", tau, "--output", &one,
            ],
        );
        assert!(
            same_datasets(&dir.join(&one), &runs.join(format!("tau-{i}.h5")), "ou"),
            "task {i} differs from ou --tau {tau}"
        );
    }
    let Some(python) = python_with("h5py") else {
        return;
    };
    let gather = |args: &[&str]| {
        Command::new(python)
            .arg(Path::new(ROOT).join("scripts/gather.py"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let sweep = format!("sweep-{id}");
    let out = gather(&["all.h5", &sweep]);
    assert!(out.status.success(), "{}", show(&out));
    let f = hdf5::File::open(dir.join("all.h5")).unwrap();
    let tau: Vec<f64> = f.dataset("sweep/tau").unwrap().read_raw().unwrap();
    assert_eq!(tau, [0.5, 1.0, 2.0]);
    let mean: Vec<f64> = f.dataset("sweep/final_mean").unwrap().read_raw().unwrap();
    assert_eq!(mean.len(), 3);
    for (i, row) in mean.iter().enumerate() {
        let one = hdf5::File::open(dir.join(format!("one-{i}.h5"))).unwrap();
        let m: Vec<f64> = one.dataset("ou/final_mean").unwrap().read_raw().unwrap();
        assert_eq!(row.to_bits(), m[0].to_bits(), "row {i}");
        let copied: Vec<f64> = f
            .dataset(&format!("runs/tau-{i}/ou/set_000/mean"))
            .unwrap()
            .read_raw()
            .unwrap();
        let orig: Vec<f64> = one.dataset("ou/set_000/mean").unwrap().read_raw().unwrap();
        assert_eq!(copied, orig, "run {i} copied");
    }
    // Never clobbered without --force.
    let out = gather(&["all.h5", &sweep]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("all.h5 exists; pass --force"));
}

/// scripts/gather.py's refusals: one line, exit 2, nothing written.
#[test]
fn gather_refuses_bad_input() {
    let Some(python) = python_with("h5py") else {
        return;
    };
    let dir = scratch("gather_refusals");
    for (args, output) in [
        (
            &["pi", "--samples", "1000", "--seed", "1"][..],
            "runs/seed-0.h5",
        ),
        (
            &["pi", "--samples", "1000", "--seed", "2"][..],
            "runs/seed-1.h5",
        ),
        (&["ou", "--paths", "2", "--steps", "100"][..], "ou.h5"),
    ] {
        std::fs::create_dir_all(dir.join("runs")).unwrap();
        let mut a = args.to_vec();
        a.extend(["--output", output]);
        run_ok(&dir, 1, &a);
    }
    std::fs::write(dir.join("notes.h5"), "not HDF5").unwrap();
    std::fs::create_dir_all(dir.join("other")).unwrap();
    std::fs::copy(dir.join("runs/seed-0.h5"), dir.join("other/seed-0.h5")).unwrap();
    let gather = |args: &[&str]| {
        Command::new(python)
            .arg(Path::new(ROOT).join("scripts/gather.py"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let cases: [(&[&str], &str); 6] = [
        (
            &["g.h5", "runs", "ou.h5"],
            "results of two workloads: ou in ou.h5, pi in runs/seed-0.h5: gather the runs of one workload",
        ),
        (
            &["g.h5", "runs", "notes.h5"],
            "notes.h5: not an HDF5 file (a parsim result is)",
        ),
        (
            &["g.h5", "runs", "missing"],
            "missing: no such file or folder",
        ),
        (
            &["runs/seed-0.h5", "runs"],
            "runs/seed-0.h5 is one of the inputs: name another output",
        ),
        (&["g.h5", "runs", "runs/seed-0.h5"], "runs/seed-0.h5 is given twice"),
        (
            &["g.h5", "runs", "other/seed-0.h5"],
            "two runs named seed-0: runs/seed-0.h5 and other/seed-0.h5",
        ),
    ];
    for (args, expected) in cases {
        let out = gather(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        assert_eq!(stderr.trim(), format!("gather: {expected}"), "{args:?}");
        assert!(!dir.join("g.h5").exists(), "{args:?} wrote g.h5");
    }
    // A good gather; the seed read from each run's command line.
    let out = gather(&["g.h5", "runs"]);
    assert!(out.status.success(), "{}", show(&out));
    let f = hdf5::File::open(dir.join("g.h5")).unwrap();
    let seed: Vec<f64> = f.dataset("sweep/seed").unwrap().read_raw().unwrap();
    assert_eq!(seed, [1.0, 2.0]);
    let est: Vec<f64> = f.dataset("sweep/estimate").unwrap().read_raw().unwrap();
    assert_eq!(est.len(), 2);
    drop(f);
    // Refused over an existing file; replaced whole with --force.
    let out = gather(&["g.h5", "runs"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let out = gather(&["--force", "g.h5", "runs/seed-1.h5"]);
    assert!(out.status.success(), "{}", show(&out));
    let f = hdf5::File::open(dir.join("g.h5")).unwrap();
    assert_eq!(f.group("runs").unwrap().member_names().unwrap(), ["seed-1"]);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".gather-"))
        .collect();
    assert!(names.is_empty(), "temporary files left: {names:?}");
}
