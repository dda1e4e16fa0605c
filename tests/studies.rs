//! Job scripts and scaling studies, end to end: the study tool through
//! `mpirun`, its refusals, and, on a real private SLURM started by this
//! test (scripts/slurm-local.sh), the heat job script under `sbatch --wait`
//! and strong and weak studies with their dependent report jobs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::slurm::Slurm;
use common::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn python() -> Option<PathBuf> {
    let venv = Path::new(ROOT).join(".venv/bin/python");
    let ok = Command::new(&venv)
        .args(["-c", "import matplotlib, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(venv)
}

/// The study tool, or a loud skip when its Python is missing (never on CI).
fn study_tool() -> Option<Command> {
    let Some(py) = python() else {
        assert!(
            std::env::var("CI").is_err(),
            "no .venv with matplotlib: scripts/setup.sh --tests creates it"
        );
        skip("scaling studies: no .venv with matplotlib (run scripts/setup.sh --python)");
        return None;
    };
    let mut cmd = Command::new(py);
    cmd.arg(Path::new(ROOT).join("scripts/scaling.py"))
        .arg("--parsim")
        .arg(parsim())
        .stdin(Stdio::null());
    Some(cmd)
}

/// CSV, Markdown and PNG files of a finished study: one CSV row per run,
/// one table row per rank count.
fn check_study_dir(dir: &Path, ranks: &[usize], repeat: usize) {
    let csv = std::fs::read_to_string(dir.join("runs.csv")).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    for col in ["ranks", "nodes", "wall_s", "launch_s", "oversubscribed"] {
        assert!(head.contains(&col), "CSV lacks {col}: {head:?}");
    }
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), ranks.len() * repeat, "{csv}");
    let col = head.iter().position(|c| *c == "ranks").unwrap();
    for &p in ranks {
        let n = rows.iter().filter(|r| r[col] == p.to_string()).count();
        assert_eq!(n, repeat, "runs for p={p}");
    }
    let table = std::fs::read_to_string(dir.join("table.md")).unwrap();
    let body: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ranks"))
        .collect();
    assert_eq!(body.len(), ranks.len(), "{table}");
    assert!(table.contains("speedup") && table.contains("efficiency"));
    for png in ["time.png", "speedup.png", "efficiency.png", "phases.png"] {
        let bytes = std::fs::read(dir.join(png)).unwrap_or_else(|_| panic!("{png} missing"));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{png}: {} bytes",
            bytes.len()
        );
    }
}

#[test]
fn local_strong_and_weak_studies() {
    let Some(mut tool) = study_tool() else { return };
    let base = scratch("study_local");
    let out = base.join("strong");
    let o = tool
        .args([
            "strong",
            "heat",
            "--max-ranks",
            "3",
            "--oversubscribe",
            "--repeat",
            "2",
        ])
        .args(["--size", "600x400", "--set", "steps=20", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    check_study_dir(&out, &[1, 2, 3], 2);

    let out = base.join("weak");
    let o = study_tool()
        .unwrap()
        .args([
            "weak",
            "ou",
            "--max-ranks",
            "2",
            "--repeat",
            "1",
            "--size",
            "2",
            "--set",
            "steps=20000",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    check_study_dir(&out, &[1, 2], 1);
    let csv = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert!(
        csv.contains("paths 4; steps 20000"),
        "weak ou doubles the paths:\n{csv}"
    );

    // A weak 3D heat study: --size AxBxC, nz grown along the 3D process
    // grid's z (2 ranks: 1x1x2), and the runs were 3D on that grid.
    let out = base.join("weak3d");
    let o = study_tool()
        .unwrap()
        .args(["weak", "heat", "--max-ranks", "2", "--repeat", "1"])
        .args(["--size", "24x20x16", "--set", "steps=10", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&o));
    check_study_dir(&out, &[1, 2], 1);
    let runs = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let grids: Vec<(String, String)> = runs
        .lines()
        .map(|l| {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                r["problem"].to_string(),
                r["report"]["proc_grid"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        grids,
        [
            ("\"nx 24; ny 20; nz 16; steps 10\"".into(), "[1,1,1]".into()),
            ("\"nx 24; ny 20; nz 32; steps 10\"".into(), "[1,1,2]".into())
        ],
        "{runs}"
    );
}

#[test]
fn plot_script_draws_every_workload() {
    let Some(py) = python() else {
        assert!(std::env::var("CI").is_err(), "no .venv with matplotlib");
        skip("plots: no .venv with matplotlib");
        return;
    };
    let dir = scratch("plots");
    run_ok(
        &dir,
        2,
        &[
            "heat",
            "--nx",
            "90",
            "--ny",
            "60",
            "--steps",
            "200",
            "--snapshot-every",
            "40",
            "--output",
            "h.h5",
        ],
    );
    run_ok(
        &dir,
        2,
        &[
            "ou", "--paths", "50", "--steps", "2000", "--tau", "1,2", "--store", "paths",
            "--output", "o.h5",
        ],
    );
    run_ok(
        &dir,
        2,
        &[
            "pi",
            "--samples",
            "5000000",
            "--chunk",
            "100000",
            "--output",
            "p.h5",
        ],
    );
    run_ok(
        &dir,
        2,
        &[
            "markov", "--chains", "20", "--days", "1000", "--output", "m.h5",
        ],
    );
    for args in [
        &[
            "mandelbrot",
            "--width",
            "120",
            "--height",
            "80",
            "--output",
            "md.h5",
        ][..],
        &["integrate", "--output", "i.h5"],
        &["pairs", "--n", "600", "--output", "pr.h5"],
    ] {
        run_ok(&dir, 2, args);
    }
    std::fs::write(dir.join("junk.h5"), b"not hdf5").unwrap();
    let out = Command::new(&py)
        .arg(Path::new(ROOT).join("scripts/plot.py"))
        .args(["h.h5", "o.h5", "p.h5", "m.h5", "md.h5", "i.h5", "pr.h5"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    for png in [
        "h-heat.png",
        "h-snapshots.png",
        "o-ou.png",
        "p-pi.png",
        "m-markov.png",
        "md-mandelbrot.png",
        "i-integrate.png",
        "pr-pairs.png",
    ] {
        let bytes = std::fs::read(dir.join(png)).unwrap_or_else(|_| panic!("{png} missing"));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 15_000,
            "{png}: {} bytes",
            bytes.len()
        );
    }
    let bad = Command::new(&py)
        .arg(Path::new(ROOT).join("scripts/plot.py"))
        .arg("junk.h5")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", show(&bad));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("plot: error: cannot read junk.h5"));
    let help = Command::new(&py)
        .arg(Path::new(ROOT).join("scripts/plot.py"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success(), "{}", show(&help));
    assert!(String::from_utf8_lossy(&help.stdout).contains("usage: scripts/plot.py"));
}

#[test]
fn study_tool_refuses_bad_input() {
    if study_tool().is_none() {
        return;
    }
    let dir = scratch("study_bad");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["strong", "lattice"], "unknown workload 'lattice'"),
        (vec!["strnog", "heat"], "invalid choice: 'strnog'"),
        (
            vec!["strong", "heat", "--max-ranks", "0"],
            "--max-ranks must be at least 1",
        ),
        (
            vec!["weak", "pi", "--repeat", "0"],
            "--repeat must be at least 1",
        ),
        (
            vec!["strong", "heat", "--size", "big"],
            "heat has 2 size options",
        ),
        (vec!["strong", "pi", "--size", "many"], "is not a number"),
        (
            vec!["strong", "pi", "--set", "samples=5"],
            "give it with --size",
        ),
        (
            vec!["strong", "heat", "--set", "steps"],
            "not of the form OPTION=VALUE",
        ),
        (
            vec!["strong", "heat", "--max-ranks", "64"],
            "pass --oversubscribe",
        ),
        (vec!["strong", "pi", "--launcher", "slurm"], "SLURM"),
    ];
    for (args, expected) in cases {
        let out = study_tool()
            .unwrap()
            .args(&args)
            .arg("--out")
            .arg(dir.join("x"))
            .env("SLURM_CONF", "/nonexistent/slurm.conf")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        assert!(
            stderr.contains(expected),
            "{args:?}: stderr lacks {expected:?}:\n{stderr}"
        );
        assert!(
            !dir.join("x").exists(),
            "{args:?} created the output directory"
        );
    }
}

fn requeue_cycle(slurm: &Slurm, work: &Path, signal: &str) {
    let dir = work.join(format!("requeue-{signal}"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = slurm
        .command("sbatch")
        .args(["--parsable", "--ntasks=2"])
        .arg(format!("--chdir={}", dir.display()))
        .arg(format!(
            "--export=ALL,PARSIM={},NX=128,NY=96,STEPS=300000,CHECKPOINT_EVERY=20000",
            parsim()
        ))
        .arg(Path::new(ROOT).join("jobs/heat.sbatch"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    slurm.wait_state(&id, &["RUNNING"], 60);
    // Signal once parsim is in its time loop (its first checkpoint exists):
    // a signal during process start-up, before parsim's handlers exist,
    // would kill the tasks outright.
    let first = dir.join(format!("heat-{id}.ckpt.h5"));
    let start = std::time::Instant::now();
    while !first.exists() {
        assert!(
            start.elapsed().as_secs() < 60,
            "no checkpoint from job {id}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let sig = slurm
        .command("scancel")
        .args(["--batch", &format!("--signal={signal}"), &id])
        .output()
        .unwrap();
    assert!(sig.status.success(), "{}", show(&sig));
    // Requeued jobs are held for 120 s by SLURM; release it sooner, but
    // not within the second the old run was killed: slurmd refuses a
    // credential made no later than the second it revoked the job's ("Killing
    // non-startable batch JobId=5: Job credential revoked", job FAILED; it
    // happened once on a loaded host), which is what the hold is for.
    slurm.wait_state(&id, &["PENDING"], 60);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let rel = slurm
        .command("scontrol")
        .args(["update", &format!("JobId={id}"), "StartTime=now"])
        .output()
        .unwrap();
    assert!(rel.status.success(), "{}", show(&rel));
    let end = slurm.wait_state(&id, &["COMPLETED", "FAILED", "CANCELLED"], 180);
    let log = std::fs::read_to_string(dir.join(format!("parsim-heat-{id}.out"))).unwrap();
    assert_eq!(end, "COMPLETED", "SIG{signal} to the batch shell: {log}");
    assert!(
        log.contains(&format!(
            "{signal} received: asking parsim to checkpoint and stop"
        )),
        "{log}"
    );
    assert!(
        log.contains("stopped with a checkpoint; requeueing job"),
        "{log}"
    );
    assert!(log.contains("Restarted        : from 'heat-"), "{log}");
    // The same bits as one uninterrupted run.
    run_ok(
        &dir,
        2,
        &[
            "heat",
            "--nx",
            "128",
            "--ny",
            "96",
            "--steps",
            "300000",
            "--output",
            "ref.h5",
            "--checkpoint",
            "ref.ckpt.h5",
        ],
    );
    assert!(
        same_field(&dir.join("ref.h5"), &dir.join(format!("heat-{id}.h5"))),
        "requeued run differs"
    );
}

#[test]
fn slurm_job_scripts_and_studies() {
    let Some(slurm) = Slurm::up("slurm", "16817", "SLURM tests") else {
        return;
    };
    let work = scratch("slurm_jobs");

    // The heat job script: 2 tasks, srun --mpi=pmix, sbatch --wait returns
    // the job's exit code.
    let out = slurm
        .command("sbatch")
        .args(["--wait", "--ntasks=2"])
        .arg(format!("--chdir={}", work.display()))
        .arg(format!(
            "--export=ALL,PARSIM={},NX=120,NY=90,STEPS=30,INIT=sine,OUTPUT=heat.h5",
            parsim()
        ))
        .arg(Path::new(ROOT).join("jobs/heat.sbatch"))
        .output()
        .unwrap();
    assert!(out.status.success(), "heat job: {}", show(&out));
    let field = read_field(&work.join("heat.h5"), "/heat/temperature");
    assert_eq!(field.dim(), (90, 120));
    let f = hdf5::File::open(work.join("heat.h5")).unwrap();
    assert_eq!(
        f.group("heat")
            .unwrap()
            .attr("ranks")
            .unwrap()
            .read_scalar::<u64>()
            .unwrap(),
        2
    );
    let log = std::fs::read_dir(&work)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("parsim-heat-"))
        .expect("job log");
    let log = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        log.contains("max relative error vs exact discrete solution") && log.contains(": OK"),
        "{log}"
    );

    // The generic deck job script: a deck and overriding options, the
    // result named after the deck and the job.
    let deck = work.join("m.toml");
    std::fs::write(
        &deck,
        "workload = \"mandelbrot\"\nwidth = 160\nheight = 100\nmax-iter = 64\n",
    )
    .unwrap();
    // A deck job on 2 tasks; its job id.
    let deck_job = |deck: &Path, options: &[&str]| {
        let out = slurm
            .command("sbatch")
            .args(["--wait", "--parsable", "--ntasks=2"])
            .arg(format!("--chdir={}", work.display()))
            .arg(format!("--export=ALL,PARSIM={}", parsim()))
            .arg(Path::new(ROOT).join("jobs/run.sbatch"))
            .arg(deck)
            .args(options)
            .output()
            .unwrap();
        assert!(out.status.success(), "deck job {deck:?}: {}", show(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let id = deck_job(&deck, &["--schedule", "cyclic"]);
    let f = hdf5::File::open(work.join(format!("m-{id}.h5"))).unwrap();
    let g = f.group("mandelbrot").unwrap();
    assert_eq!(
        g.attr("schedule")
            .unwrap()
            .read_scalar::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .as_str(),
        "cyclic"
    );
    let rows: Vec<u32> = g.dataset("row_rank").unwrap().read_raw().unwrap();
    assert_eq!(rows[..4], [0, 1, 0, 1], "cyclic rows over 2 ranks");
    // pairs from a deck, with the matrix written strip by strip.
    let deck = work.join("pairs.toml");
    std::fs::write(
        &deck,
        "workload = \"pairs\"\nn = 300\ndim = 3\nmatrix = true\n",
    )
    .unwrap();
    let id = deck_job(&deck, &[]);
    let f = hdf5::File::open(work.join(format!("pairs-{id}.h5"))).unwrap();
    assert_eq!(f.dataset("pairs/distance").unwrap().shape(), vec![300, 300]);
    let passed: u8 = f
        .group("pairs")
        .unwrap()
        .attr("passed")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert_eq!(passed, 1);

    // A job script with no binary fails fast, with its own exit code.
    let out = slurm
        .command("sbatch")
        .args(["--wait", "--ntasks=1"])
        .arg(format!("--chdir={}", work.display()))
        .arg("--export=ALL,PARSIM=/nonexistent/parsim")
        .arg(Path::new(ROOT).join("jobs/ou.sbatch"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));

    // Checkpoint, requeue, resume: the job script's answer to SLURM's
    // warning signal. `scancel --batch --signal=USR1` delivers exactly what
    // `#SBATCH --signal=B:USR1@300` delivers before the time limit. The
    // script passes a SIGTERM on as SIGUSR1 too (srun would kill the tasks).
    requeue_cycle(&slurm, &work, "USR1");
    requeue_cycle(&slurm, &work, "TERM");

    // Studies through SLURM: one job per point, a dependent report job.
    let Some(_) = study_tool() else { return };
    for (study, workload, extra, ranks) in [
        (
            "strong",
            "heat",
            vec!["--size", "400x300", "--set", "steps=20"],
            vec![1, 2, 4],
        ),
        ("weak", "pi", vec!["--size", "4000000"], vec![1, 2, 4]),
    ] {
        let out_dir = work.join(format!("{study}-{workload}"));
        let mut cmd = study_tool().unwrap();
        cmd.env("SLURM_CONF", slurm.conf())
            .args([
                study,
                workload,
                "--launcher",
                "slurm",
                "--wait",
                "--max-ranks",
                "4",
                "--repeat",
                "2",
            ])
            .args(&extra)
            .arg("--out")
            .arg(&out_dir);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{study} {workload}: {}", show(&out));
        check_study_dir(&out_dir, &ranks, 2);
        let logs: Vec<String> = std::fs::read_dir(out_dir.join("logs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            logs.iter().filter(|l| l.starts_with("point-")).count(),
            3,
            "{logs:?}"
        );
        assert_eq!(
            logs.iter().filter(|l| l.starts_with("report-")).count(),
            1,
            "{logs:?}"
        );
        let csv = std::fs::read_to_string(out_dir.join("runs.csv")).unwrap();
        assert!(csv.contains(",slurm,"), "{csv}");
    }
}
