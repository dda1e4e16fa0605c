//! Outputs people open and inputs they keep: snapshots, XDMF, provenance
//! attributes, input decks. Real mpirun runs; files read back with h5py.

mod common;

use common::*;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

/// Reads a heat result with h5py and checks every dataset and attribute the
/// file promises, the snapshot axis against K and steps, and the XDMF
/// sidecar against the HDF5 file. argv: file, K, steps, ranks, deck ("" if
/// none).
const CHECK_HEAT_FILE: &str = r#"
import json, os, sys, h5py, numpy as np
import xml.etree.ElementTree as ET
path, K, steps, ranks, deck = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
with h5py.File(path, "r") as f:
    a = f.attrs
    for name in ["parsim_version", "git_commit", "command_line", "start_time", "end_time",
                 "mpi_library", "hdf5_library", "report"]:
        assert isinstance(a[name], str) and a[name], name
    assert int(a["mpi_ranks"]) == ranks
    assert len(a["hostnames"]) == ranks
    assert "MPI" in a["mpi_library"], a["mpi_library"]
    assert a["hdf5_library"].count(".") == 2, a["hdf5_library"]
    assert a["end_time"] >= a["start_time"]
    if deck:
        assert a["config_file"] == deck and "workload" in a["config"], dict(a)
    report = json.loads(a["report"])
    assert report["step"] == steps and report["validation"]["passed"]
    for phase in ["stencil", "halo", "checkpoint", "io"]:
        assert set(report["phases"][phase]) == {"min", "avg", "max"}
    h = f["heat"]
    nx, ny, dt = int(h.attrs["nx"]), int(h.attrs["ny"]), float(h.attrs["dt"])
    assert len(h.attrs["proc_grid"]) == 2
    t = h["temperature"]
    assert t.shape == (ny, nx) and t.attrs["units"] == "degC"
    assert [d[0].name for d in t.dims] == ["/heat/y", "/heat/x"]
    assert np.allclose(h["x"][:], np.arange(1, nx + 1) * float(h.attrs["dx"]))
    assert h["x"].attrs["units"] == "m" and h["y"].shape == (ny,)
    s, time, step = h["snapshots"], h["snapshot_time"], h["snapshot_step"]
    n = steps // K + 1
    assert s.shape == (n, ny, nx) and s.chunks is not None, (s.shape, n)
    assert s.maxshape[0] is None, "extendible along time"
    assert list(step[:]) == list(range(0, steps + 1, K)), step[:]
    assert np.allclose(time[:], step[:] * dt) and time.attrs["units"] == "s"
    assert [d[0].name for d in s.dims] == ["/heat/snapshot_time", "/heat/y", "/heat/x"]
    if steps % K == 0:
        assert np.array_equal(s[-1], t[:]), "last snapshot is the final field"
    assert not np.array_equal(s[0], s[-1])
    compressed = t.compression
    datasets = {}
    def collect(name, obj):
        if isinstance(obj, h5py.Dataset):
            datasets["/" + name] = obj.shape
    f.visititems(collect)

    assert all(float(f"{x:.14e}") == x for x in time[:]), "times are 15-digit decimals"
    assert float(t.attrs["time"]) == float(f"{steps * dt:.14e}")
    views = [h["snapshot_views"][f"{k:06d}"] for k in range(n)]
    assert all(np.array_equal(v[...], s[k]) for k, v in enumerate(views)), "views = snapshots"
    stored = [float(x) for k, x in enumerate(time[:]) if step[k] != steps] + [float(t.attrs["time"])]

xmf = os.path.splitext(path)[0] + ".xmf"
root = ET.parse(xmf).getroot()
assert root.tag == "Xdmf"
grids = root.findall("./Domain/Grid")
assert len(grids) == 1, "one temporal collection, nothing beside it"
series = grids[0]
assert series.get("CollectionType") == "Temporal"
times = [float(g.find("Time").get("Value")) for g in series.findall("Grid")]
assert times == stored, (times, stored)
last = series.findall("Grid")[-1].find("Attribute/DataItem").text
assert last.endswith(":/heat/temperature"), last
refs = [d for d in root.iter("DataItem") if d.get("Format") == "HDF"]
assert len(refs) == len(stored)
for d in refs:
    file, dataset = d.text.strip().split(":")
    assert file == os.path.basename(path), file
    dims = tuple(int(x) for x in d.get("Dimensions").split())
    assert dims[0] == 1 and datasets[dataset] == dims[1:], (dataset, dims, datasets[dataset])
print("compressed" if compressed else "plain")
"#;

#[test]
fn snapshots_xdmf_and_provenance_read_back() {
    let dir = scratch("outputs_snapshots");
    // K divides steps (last snapshot = final field) and K does not.
    for (k, steps, ranks, compress) in [(10, 40, 3, Some("4")), (7, 30, 2, None)] {
        let (k_s, steps_s) = (k.to_string(), steps.to_string());
        let out = format!("snap-{k}.h5");
        let mut args = vec![
            "heat",
            "--nx",
            "40",
            "--ny",
            "30",
            "--steps",
            &steps_s,
            "--snapshot-every",
            &k_s,
            "--output",
            &out,
        ];
        if let Some(level) = compress {
            args.extend(["--compress", level]);
        }
        let text = run_ok(&dir, ranks, &args);
        assert!(
            text.contains(&format!("Snapshots        : {}", steps / k + 1)),
            "{text}"
        );
        let seen = run_python(
            CHECK_HEAT_FILE,
            &[
                dir.join(&out).to_str().unwrap(),
                &k_s,
                &steps_s,
                &ranks.to_string(),
                "",
            ],
        );
        let pv = paraview_reads(&dir.join(&out));
        eprintln!("paraview read {out}: {pv:?}");
        if let Some(seen) = seen {
            let want = if compress.is_some() {
                "compressed"
            } else {
                "plain"
            };
            assert_eq!(seen.trim(), want);
        }
    }
}

#[test]
fn snapshots_are_the_same_on_any_rank_count() {
    let dir = scratch("outputs_snapshots_p");
    let run = |p: usize, out: &str| {
        run_ok(
            &dir,
            p,
            &[
                "heat",
                "--nx",
                "33",
                "--ny",
                "21",
                "--steps",
                "24",
                "--snapshot-every",
                "6",
                "--time-block",
                "3",
                "--output",
                out,
            ],
        );
    };
    run(1, "p1.h5");
    run(4, "p4.h5");
    let script = r#"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1])["heat/snapshots"][:], h5py.File(sys.argv[2])["heat/snapshots"][:]
assert a.shape == (5, 21, 33) and a.tobytes() == b.tobytes()
"#;
    run_python(
        script,
        &[
            dir.join("p1.h5").to_str().unwrap(),
            dir.join("p4.h5").to_str().unwrap(),
        ],
    );
}

#[test]
fn existing_xdmf_sidecar_is_not_clobbered() {
    let dir = scratch("outputs_xmf_exists");
    std::fs::write(dir.join("keep.xmf"), "precious").unwrap();
    assert_refused(
        &dir,
        2,
        &[
            "heat", "--nx", "20", "--ny", "20", "--steps", "5", "--output", "keep.h5",
        ],
        "output 'keep.xmf' exists; pass --force to overwrite it",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.xmf")).unwrap(),
        "precious"
    );
    assert!(!dir.join("keep.h5").exists());
    assert_refused(
        &dir,
        2,
        &["heat", "--nx", "20", "--ny", "20", "--compress", "12"],
        "--compress takes a deflate level from 1 to 9",
    );
}

/// Every workload `parsim workloads` lists has an example deck, and every
/// deck in examples/ is one `every_example_deck_runs` runs.
#[test]
fn every_workload_has_an_example_deck_and_every_deck_is_run() {
    let run = [
        "demo",
        "disk",
        "ou-sweep",
        "pi",
        "markov",
        "markov-matrix",
        "integrate",
        "mandelbrot",
        "pairs",
    ];
    let mut decks: Vec<(String, String)> = std::fs::read_dir(EXAMPLES)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension()? == "toml").then_some(path)
        })
        .map(|path| {
            let table: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, table["workload"].as_str().unwrap().to_string())
        })
        .collect();
    decks.sort();
    for (stem, _) in &decks {
        assert!(
            run.contains(&stem.as_str()),
            "examples/{stem}.toml is not run by a test"
        );
    }
    let out = std::process::Command::new(parsim())
        .args(["workloads", "--json"])
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for w in listed.as_array().unwrap() {
        let name = w["name"].as_str().unwrap();
        assert!(
            decks.iter().any(|(_, workload)| workload == name),
            "no example deck for workload {name}"
        );
    }
}

#[test]
fn every_example_deck_runs() {
    let dir = scratch("outputs_decks");
    let deck = |name: &str| format!("{EXAMPLES}/{name}.toml");
    // demo: the heat result with snapshots and its sidecar, deck stored.
    run_ok(&dir, 2, &["run", &deck("demo")]);
    run_python(
        CHECK_HEAT_FILE,
        &[
            dir.join("demo.h5").to_str().unwrap(),
            "100",
            "500",
            "2",
            &deck("demo"),
        ],
    );
    // disk: the known answer, no file.
    let r = run_json(&dir, 2, &["run", &deck("disk")]);
    assert_eq!(
        r["validation"]["initial_average"].as_f64().unwrap(),
        59.763305
    );
    assert_eq!(
        format!("{:.6}", r["validation"]["final_average"].as_f64().unwrap()),
        "59.281239"
    );
    assert!(r["output"].is_null());
    // the OU sweep: 6 parameter sets, all validated.
    let r = run_json(&dir, 2, &["run", &deck("ou-sweep")]);
    assert_eq!(r["sets"].as_array().map(Vec::len), Some(6), "{r}");
    assert!(dir.join("ou-sweep.h5").exists());
    // pi.
    let r = run_json(&dir, 2, &["run", &deck("pi")]);
    assert_eq!(r["samples"].as_u64(), Some(200_000_000));
    assert!(dir.join("pi.h5").exists());
    // The lessons' other patterns.
    for name in [
        "markov",
        "markov-matrix",
        "integrate",
        "mandelbrot",
        "pairs",
    ] {
        let r = run_json(&dir, 2, &["run", &deck(name)]);
        assert_eq!(r["passed"], true, "{name}: {r}");
        assert!(dir.join(format!("{name}.h5")).exists(), "{name}");
    }
    // The ensembles' and patterns' files carry provenance and their report too.
    let script = r##"
import json, sys, h5py
for path, workload in zip(sys.argv[1::2], sys.argv[2::2]):
    a = h5py.File(path, "r").attrs
    r = json.loads(a["report"])
    assert r["workload"] == workload and r["passed"], r
    assert set(r["phases"]["compute"]) == {"min", "avg", "max"}
    assert a["config"].startswith("#") and a["config_file"].endswith(".toml")
    assert a["end_time"] >= a["start_time"] and len(a["hostnames"]) == 2
"##;
    run_python(
        script,
        &[
            dir.join("ou-sweep.h5").to_str().unwrap(),
            "ou",
            dir.join("pi.h5").to_str().unwrap(),
            "pi",
            dir.join("integrate.h5").to_str().unwrap(),
            "integrate",
            dir.join("mandelbrot.h5").to_str().unwrap(),
            "mandelbrot",
            dir.join("pairs.h5").to_str().unwrap(),
            "pairs",
        ],
    );
}

#[test]
fn command_line_overrides_the_deck() {
    let dir = scratch("outputs_override");
    let disk = format!("{EXAMPLES}/disk.toml");
    let r = run_json(
        &dir,
        2,
        &[
            "run", &disk, "--nx", "50", "--ny", "40", "--steps", "7", "--json",
        ],
    );
    assert_eq!(r["config"]["nx"], 50);
    assert_eq!(r["config"]["ny"], 40);
    assert_eq!(r["step"], 7);
    assert_eq!(r["config"]["alpha"], 0.5, "the rest comes from the deck");
    // --config on the subcommand, with a list value overridden.
    let r = run_json(
        &dir,
        1,
        &[
            "ou",
            "--config",
            &format!("{EXAMPLES}/ou-sweep.toml"),
            "--tau",
            "3",
            "--steps",
            "100",
            "--no-output",
            "--json",
        ],
    );
    assert_eq!(
        r["sets"].as_array().map(Vec::len),
        Some(2),
        "tau overridden: {r}"
    );
}

#[test]
fn bad_decks_are_refused_naming_the_problem() {
    let dir = scratch("outputs_bad_decks");
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap();
        name.to_string()
    };
    let typo = write(
        "typo.toml",
        "workload = \"heat\"\nnx = 10\n\nsnapshot_evry = 3\n",
    );
    let wrong = write("wrong.toml", "workload = \"heat\"\nnx = \"ten\"\n");
    let syntax = write("syntax.toml", "workload = \"heat\"\nnx = = 3\n");
    let none = write("none.toml", "nx = 3\n");
    let fine = write("fine.toml", "workload = \"heat\"\nny = 10\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["run", &typo],
            "deck 'typo.toml': unknown key 'snapshot_evry' at line 4 (not an option of parsim heat)",
        ),
        (
            vec!["run", &wrong],
            "parsim: deck 'wrong.toml' line 2: error: invalid value 'ten' for '--nx",
        ),
        // The same value typed after the deck is the user's, not the deck's.
        (vec!["run", &fine, "--ny", "ten"], "parsim: error: invalid value 'ten' for '--ny"),
        (vec!["run", &syntax], "deck 'syntax.toml': "),
        (vec!["run", &none], "names no workload"),
        (vec!["run", "missing.toml"], "cannot read deck 'missing.toml'"),
        (vec!["run"], "run needs a deck first"),
        (
            vec!["pi", "--config", &typo],
            "deck 'typo.toml' is for workload 'heat', not 'pi'",
        ),
    ];
    for (args, expected) in cases {
        assert_refused(&dir, 2, &args, expected);
    }
}

#[test]
fn progress_lines_in_logs_a_bar_on_terminals_nothing_when_quiet() {
    let dir = scratch("outputs_progress");
    let heat = [
        "heat",
        "--nx",
        "200",
        "--ny",
        "200",
        "--steps",
        "400",
        "--time-block",
        "1",
        "--no-output",
    ];
    let run = |extra: &[&str]| {
        let mut args = heat.to_vec();
        args.extend(extra);
        let out = mpirun_command(&dir, 2, &args)
            .env("PARSIM_PROGRESS_SECS", "0")
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // Not a terminal (a job log): plain lines, from rank 0 only.
    let log = run(&[]);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("heat: step ")).collect();
    assert!(lines.len() > 10, "{log}");
    assert!(lines
        .iter()
        .all(|l| l.starts_with("parsim: heat: step ") && l.contains("MLUPS")));
    assert!(lines
        .iter()
        .all(|l| l.contains("/400 (") && l.contains("ETA")));
    // --quiet: nothing but the report.
    assert!(!run(&["--quiet"]).contains("heat: step"));
    // A terminal: the bar (through `script`, which gives the run a pty).
    let cmd = format!(
        "{} {} --steps 3000 --no-output",
        parsim(),
        heat[..5].join(" ")
    );
    let under_script = |term: &str| {
        std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(&dir)
            .env("TERM", term)
            .env("PARSIM_PROGRESS_SECS", "0")
            .output()
    };
    if let Some(out) = in_terminal(under_script("xterm")) {
        let tty = String::from_utf8_lossy(&out.stdout);
        assert!(tty.contains("heat [") && tty.contains("MLUPS"), "{tty}");
    }
    // A terminal that cannot redraw a line (TERM=dumb): the log lines.
    if let Some(out) = in_terminal(under_script("dumb")) {
        let tty = String::from_utf8_lossy(&out.stdout);
        assert!(!tty.contains("heat ["), "a bar on a dumb terminal: {tty}");
        assert!(
            tty.contains("parsim: heat: step "),
            "no progress on a dumb terminal: {tty}"
        );
    }
    // A terminal under mpirun: the ranks' stderr is a pipe to mpirun, whose
    // own stderr is the terminal; rank 0 draws the bar into the pipe.
    let mut mpi = mpirun_command(&dir, 2, &heat[..5]);
    mpi.args(["--steps", "3000", "--no-output"]);
    let line: Vec<String> = std::iter::once(mpi.get_program())
        .chain(mpi.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut term = std::process::Command::new("script");
    term.args(["-qec", &line.join(" "), "/dev/null"])
        .current_dir(&dir)
        .env("TERM", "xterm")
        .env("PARSIM_PROGRESS_SECS", "0");
    for (k, v) in mpi.get_envs() {
        if let Some(v) = v {
            term.env(k, v);
        }
    }
    if let Some(out) = in_terminal(term.output()) {
        let tty = String::from_utf8_lossy(&out.stdout);
        assert!(tty.contains("heat [") && tty.contains("MLUPS"), "{tty}");
        assert!(
            !tty.contains("parsim: heat: step "),
            "log lines on a terminal: {tty}"
        );
    }
}

/// The outcome of a run under `script`: `None` (a loud skip) only when
/// `script` itself is missing; a run that fails fails the test.
fn in_terminal(out: std::io::Result<std::process::Output>) -> Option<std::process::Output> {
    match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            skip("no `script` (util-linux) to fake a terminal");
            None
        }
        Err(e) => panic!("cannot run `script`: {e}"),
        Ok(out) => {
            assert!(out.status.success(), "under `script`: {}", show(&out));
            Some(out)
        }
    }
}

/// Opens every group of results with xarray (h5netcdf engine): every
/// dimension is a named coordinate (no `phony_dim`), every variable has
/// `units` and `long_name`, and the labels select what a user asks for.
/// argv: DIR.
const CHECK_XARRAY: &str = r#"
import os, sys, h5py, xarray as xr
d = sys.argv[1]
opened = {}
for name in sorted(f for f in os.listdir(d) if f.endswith(".h5")):
    with h5py.File(os.path.join(d, name), "r") as f:
        groups = []
        f.visititems(lambda g, o: groups.append(g) if isinstance(o, h5py.Group) else None)
    for g in groups:
        ds = xr.open_dataset(os.path.join(d, name), engine="h5netcdf", group=g)
        for dim in ds.dims:
            # A coordinate of this group, or of the group above it (the
            # snapshot views share /heat's x and y).
            up = "/".join(g.split("/")[:-1])
            above = xr.open_dataset(os.path.join(d, name), engine="h5netcdf", group=up) if up else ds
            assert "phony" not in dim and (dim in ds.coords or dim in above.coords), (name, g, dim, ds)
        for v in ds.variables:
            a = ds[v].attrs
            assert a.get("units") and a.get("long_name"), (name, g, v, a)
        opened[(name, g)] = ds
assert ("heat.h5", "heat/snapshot_views") in opened, sorted(opened)
assert opened[("heat.h5", "heat/snapshot_views")]["000001"].dims == ("y", "x")
heat = opened[("heat.h5", "heat")]
assert heat["snapshots"].sel(snapshot_time=0.005).shape == (12, 16)
assert float(heat["temperature"].attrs["time"]) == 0.01
ou = opened[("ou.h5", "ou")]
assert list(ou["tau"].values) == [1.0, 2.0] and "tau" in ou["final_mean"].coords
assert float(ou["final_mean"].sel(set=1).tau) == 2.0
s = opened[("ou.h5", "ou/set_001")]
assert s["paths"].dims == ("member", "time") and list(s["member"].values) == [4, 5, 6, 7]
assert s["mean"].sel(time=0.3).size == 1
m = opened[("markov.h5", "markov")]
assert float(m["transition_matrix"].sel({"from": "bull", "to": "bear"})) == 0.075
assert m["state_days"].sel(state="recession").dims == ("chain",)
assert abs(float(m["fraction"].sum()) - 1.0) < 1e-12
p = opened[("pairs.h5", "pairs")]
assert p["distance"].dims == ("point", "other") and int(p["histogram"].sum()) == 40 * 39 // 2
assert opened[("mandelbrot.h5", "mandelbrot")]["iterations"].dims == ("y", "x")
print(len(opened))
"#;

#[test]
fn every_result_file_opens_labelled_in_xarray() {
    let dir = scratch("outputs_xarray");
    std::fs::write(
        dir.join("sets.csv"),
        "tau,sigma,dt,x0\n1,2,0.1,0\n2,1,0.1,1\n",
    )
    .unwrap();
    let runs: [&[&str]; 7] = [
        &[
            "heat",
            "--nx",
            "16",
            "--ny",
            "12",
            "--steps",
            "200",
            "--snapshot-every",
            "100",
        ],
        &[
            "ou", "--params", "sets.csv", "--paths", "4", "--steps", "20", "--store", "paths",
        ],
        &["pi", "--samples", "100000"],
        &["markov", "--chains", "8", "--days", "1000"],
        &["integrate", "--n", "10000"],
        &["mandelbrot", "--width", "60", "--height", "40"],
        &["pairs", "--n", "40", "--dim", "2", "--matrix"],
    ];
    for args in runs {
        let out = format!("{}.h5", args[0]);
        let mut args = args.to_vec();
        args.extend(["--output", &out]);
        run_ok(&dir, 2, &args);
    }
    let out = std::process::Command::new(parsim())
        .args(["workloads", "--json"])
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for w in listed.as_array().unwrap() {
        let name = w["name"].as_str().unwrap();
        assert!(
            runs.iter().any(|r| r[0] == name),
            "no xarray check runs workload {name}"
        );
    }
    let opened = run_python_with("xarray, h5netcdf", CHECK_XARRAY, &[dir.to_str().unwrap()]);
    if let Some(opened) = opened {
        // heat, its snapshot views, ou with its two sets, and one group each
        assert_eq!(opened.trim(), "10");
    }
}

/// The deck's settings, comments dropped (a `--dry-run` marks defaults).
fn settings(deck: &str) -> Vec<String> {
    deck.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split("  #").next().unwrap().to_string())
        .collect()
}

#[test]
fn dry_run_prints_the_effective_deck_once_and_runs_nothing() {
    let dir = scratch("outputs_dry_run");
    std::fs::write(
        dir.join("d.toml"),
        "workload = \"heat\"\nnx = 64\nsteps = 9\n",
    )
    .unwrap();
    let text = run_ok(
        &dir,
        2,
        &[
            "run",
            "d.toml",
            "--steps",
            "12",
            "--dry-run",
            "--output",
            "x.h5",
        ],
    );
    assert_eq!(text.matches("workload = \"heat\"").count(), 1, "{text}");
    let lines = settings(&text);
    for want in [
        "nx = 64",
        "steps = 12",
        "output = \"x.h5\"",
        "snapshot_every = 0",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want} missing:\n{text}");
    }
    assert!(
        text.contains("# dt: not set (default: the stability limit"),
        "{text}"
    );
    assert!(text.contains("process grid 1x2"), "{text}");
    assert_eq!(listing(&dir), ["d.toml"], "nothing written");
    // The printed deck runs as it is and resolves to the same options.
    std::fs::write(dir.join("again.toml"), &text).unwrap();
    let again = run_ok(&dir, 2, &["run", "again.toml", "--dry-run"]);
    assert_eq!(settings(&again), lines);
    for args in [
        &["pairs", "--n", "10", "--dim", "2", "--dry-run"][..],
        &["ou", "--tau", "1,2", "--dry-run"],
        &["mandelbrot", "--schedule", "cyclic", "--dry-run"],
    ] {
        let text = run_ok(&dir, 2, args);
        assert!(text.starts_with("# parsim "), "{text}");
    }
    assert_refused(
        &dir,
        2,
        &["heat", "--dt", "1", "--dry-run"],
        "--dt 1 is unstable",
    );
    assert_eq!(listing(&dir), ["again.toml", "d.toml"], "nothing written");
}

#[test]
fn completions_and_manual_pages() {
    let dir = scratch("outputs_completions");
    let bash = run_ok(&dir, 1, &["completions", "bash"]);
    assert!(
        bash.contains("_parsim()") && bash.contains("--snapshot-every"),
        "{bash}"
    );
    let zsh = run_ok(&dir, 1, &["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef parsim"), "{zsh}");
    let fish = run_ok(&dir, 1, &["completions", "fish"]);
    assert!(fish.contains("complete -c parsim"), "{fish}");
    let man = run_ok(&dir, 2, &["man"]);
    assert_eq!(
        man.matches(".TH parsim 1").count(),
        1,
        "printed once: {man}"
    );
    assert!(man.contains("mandelbrot"), "{man}");
    let heat = run_ok(&dir, 1, &["man", "heat"]);
    assert!(heat.contains(".TH parsim-heat 1") && heat.contains("snapshot\\-every"));
    assert!(heat.contains("in m²/s"), "units in the help: {heat}");
    assert_refused(
        &dir,
        2,
        &["man", "nope"],
        "no subcommand 'nope' (one of: heat,",
    );
    assert_refused(&dir, 2, &["completions", "tcsh"], "invalid value 'tcsh'");
    assert!(listing(&dir).is_empty());
}

/// Reads a `--trace` file: argv FILE RANKS ROUNDS. Every rank has a named
/// track; every round is one "round" span per rank with its stencil and
/// halo wait inside; spans are ordered and never negative.
const CHECK_TRACE: &str = r#"
import json, sys
path, ranks, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
d = json.load(open(path))
ev = d["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
assert sorted(names) == list(range(ranks)), names
assert all(names[r].startswith(f"rank {r} (") for r in names), names
assert d["otherData"]["workload"] == "heat" and d["otherData"]["spans_dropped"] == 0
for r in range(ranks):
    spans = [e for e in ev if e["ph"] == "X" and e["tid"] == r]
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)
    kinds = [e["name"] for e in spans]
    assert kinds.count("round") == rounds, (r, kinds.count("round"))
    assert kinds.count("stencil") == rounds and "halo wait" in kinds
    assert kinds.count("checkpoint") == 1 and kinds.count("snapshot (I/O)") == 2, kinds
    assert kinds[-1] == "finish"
    rounds_ts = [e["ts"] for e in spans if e["name"] == "round"]
    assert rounds_ts == sorted(rounds_ts)
    for e in spans:
        if e["name"] in ("stencil", "halo wait"):
            inside = [o for o in spans if o["name"] == "round" and o["ts"] <= e["ts"] + 1e-3
                      and e["ts"] + e["dur"] <= o["ts"] + o["dur"] + 1e-3]
            assert inside, e
print(len(ev))
"#;

#[test]
fn trace_is_a_timeline_per_rank_and_an_ordinary_output() {
    let dir = scratch("outputs_trace");
    let heat = |extra: &[&str]| {
        let mut args = vec![
            "heat",
            "--nx",
            "64",
            "--ny",
            "48",
            "--steps",
            "40",
            "--time-block",
            "1",
            "--snapshot-every",
            "20",
            "--checkpoint-every",
            "30",
            "--output",
            "h.h5",
        ];
        args.extend(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let args = heat(&["--trace", "t.json"]);
    run_ok(
        &dir,
        3,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let path = dir.join("t.json");
    run_python(CHECK_TRACE, &[path.to_str().unwrap(), "3", "40"]);
    // An existing trace is kept without --force; the same file as the
    // result is refused; neither writes anything.
    let before = std::fs::read(&path).unwrap();
    let again = heat(&["--trace", "t.json", "--output", "other.h5"]);
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    assert_refused(&dir, 2, &again, "trace 't.json' exists; pass --force");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_refused(
        &dir,
        2,
        &["pi", "--output", "x.h5", "--trace", "x.h5"],
        "--output 'x.h5' and --trace 'x.h5' are the same file",
    );
    assert!(!dir.join("other.h5").exists() && !dir.join("x.h5").exists());
}
