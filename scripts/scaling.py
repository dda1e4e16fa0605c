#!/usr/bin/env python3
"""parsim scaling studies: strong or weak, of any workload `parsim workloads` lists, run locally
through mpirun or on SLURM, turned into a CSV, a Markdown table and plots.

    scripts/scaling.py strong heat --max-ranks 4 --oversubscribe
    scripts/scaling.py strong heat --size 600x400 --set steps=20
    scripts/scaling.py weak pi --max-ranks 8 --launcher slurm --wait
    scripts/scaling.py report DIR          # (re)build the report of a study
    scripts/scaling.py predict DIR --ranks 1024 --network alpha=1.5us,beta=10GB/s --cores-per-node 64

Strong: a fixed global problem on 1, 2, 4, ... ranks (and --max-ranks);
speedup S(p) = T(1)/T(p), efficiency S(p)/p. Weak: fixed work per rank;
efficiency T(1)/T(p).

What a workload's problem is comes from the binary (`parsim workloads
--json`): its size options and how a weak study grows each with p (times p,
times sqrt(p) for all pairs, or along heat's process grid so every rank
keeps its block), its study defaults, its rate and its phases. --size sets
the size options (strong: the whole problem; weak: one rank's), --set any
other option of the workload; neither is needed for a study of the
defaults.

Times are the runs' own --json figures: the steady-state wall time of the
time loop (heat) or of the computation (ou, pi), and per-phase min/avg/max
over ranks. The wall clock around each launch is recorded separately
(launch_s: start-up, output and teardown included). Each point runs
--repeat times (default 3); tables and plots use the best and the median.

With --launcher slurm every point is one sbatch job (jobs/study-point.sbatch)
and a report job (jobs/study-report.sbatch) depends on all of them
(--dependency=afterok); --wait blocks until the report is written.

Writes into --out (default results/<study>-<workload>-<timestamp> in the current directory):
study.json, runs.jsonl (every run, with the host's load just before it),
runs.csv, table.md (with the fitted models in words), model.json (Amdahl,
Karp-Flatt, Gustafson, USL: values, 95 % intervals, residuals; see
scripts/models.py), extrap.txt (the study for Extra-P: extrap --text),
time.png, speedup.png (with the fits and their residuals), efficiency.png,
phases.png, and network.json (`parsim pingpong` on 2 ranks before the
points: the latency and bandwidth between two ranks of this node).

A study that fails (a run's error, named by parsim's own line; Ctrl-C;
SIGTERM) removes what it wrote into --out and cancels the SLURM jobs it
submitted, so the same command can simply be run again. Every number it
takes or reads (options, study.json, runs.jsonl, network.json) is checked
as it is read: one line naming the file, the line and the field, exit 2.

predict: a cost model (scripts/costmodel.py) built from the study's
reference point and the network, the workload's own communication pattern
on p ranks: the predicted time, efficiency and phase split per rank count,
the rank count where efficiency falls below 50 %, and the model against
the study's own points. Writes prediction.md and prediction.json into the
study.
"""

import argparse
import contextlib
import csv
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import costmodel  # noqa: E402  (scripts/costmodel.py, beside this file)
import models  # noqa: E402  (scripts/models.py, beside this file)
from costmodel import process_grid  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STUDIES = ("strong", "weak")


def registry(binary):
    """Every workload the binary knows, by name (`parsim workloads --json`)."""
    try:
        r = subprocess.run([str(binary), "workloads", "--json"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StudyError(f"cannot ask {binary} for its workloads: {e}")
    if r.returncode != 0:
        raise StudyError(f"{binary} workloads --json failed (exit {r.returncode}): {error_line(r.stderr)}")
    try:
        known = json.loads(r.stdout)
        return {w["name"]: w for w in known if isinstance(w, dict) and isinstance(w.get("name"), str)}
    except (ValueError, TypeError) as e:
        raise StudyError(f"{binary} workloads --json: not a list of workloads ({e})")


class StudyError(Exception):
    """A user error: printed as one line, exit code 2."""


def die(msg):
    print(f"scaling: error: {msg}", file=sys.stderr)
    sys.exit(2)


class Parser(argparse.ArgumentParser):
    """argparse with its errors in one line, as every other refusal (the
    usage is what --help is for)."""

    def error(self, message):
        die(f"{message} (see {self.prog} --help)")


# What a study takes: counts past these are typos (a --ranks of 2^62 would
# loop for minutes), not studies. MAX_RANKS: costmodel's bound (MPI counts
# ranks in an int, and predict's loops stay bounded up to it).
MAX_RANKS = costmodel.MAX_RANKS
MAX_REPEAT = 1000
MAX_SIZE = (1 << 63) - 1  # a size option's value, grown on p ranks too (parsim's u64/usize)


def in_range(name, value, lo, hi, why=""):
    """`value` (an int from argparse) between lo and hi, else one line."""
    if value < lo:
        raise StudyError(f"{name} must be at least {lo} (got {value})")
    if value > hi:
        raise StudyError(f"{name} must be at most {hi}{why} (got {value})")
    return value


def error_line(text):
    """The line that says why a run failed: parsim's own ("parsim: error:
    ...", or another "parsim: " line that is not a warning), else the first
    line the launcher said that is not one of mpirun's banners of dashes."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("parsim: error:"):
            return line
    for line in lines:
        if line.startswith("parsim: ") and not line.startswith(("parsim: warning", "parsim: note")):
            return line
    words = [line for line in lines if line.strip("-=*# ")]
    return words[0] if words else "(no output)"


# ---------------------------------------------------------------- problems


def rank_counts(max_ranks):
    counts, p = [], 1
    while p <= max_ranks:
        counts.append(p)
        p *= 2
    if counts[-1] != max_ranks:
        counts.append(max_ranks)
    return counts


def problem(info, o):
    """The study's problem from the registry entry `info` and the command
    line: the size options' values (strong: the whole problem; weak: one
    rank's) and the other options, in order: the workload's study defaults,
    then --size, then --set."""
    dashed = lambda k: k.strip().lstrip("-").replace("_", "-")
    name, sizes = info["name"], [dashed(s["option"]) for s in info["size"]]
    # Optional ones (heat's nz: a 3D run) come last and only when given.
    required = [dashed(s["option"]) for s in info["size"] if not s.get("optional")]
    values = {dashed(k): v for k, v in info["study"]}
    if o.size:
        parts = o.size.lower().split("x") if len(sizes) > 1 else [o.size]
        if not len(required) <= len(parts) <= len(sizes):
            extra = sizes[len(required):]
            also = f", and optionally {', '.join('--' + s for s in extra)}" if extra else ""
            shape = "x".join("ABCDEFGH"[:len(required)])
            raise StudyError(f"--size '{o.size}': {name} has {len(required)} size options "
                             f"({', '.join('--' + s for s in required)}{also}): give them as {shape}"
                             + (f" or {shape}x{'ABCDEFGH'[len(required)]}" if extra else ""))
        values.update(zip(sizes, parts))
    for item in o.set or []:
        key, eq, value = item.partition("=")
        key = dashed(key)
        if not eq or not key:
            raise StudyError(f"--set '{item}' is not of the form OPTION=VALUE (e.g. steps=100)")
        if key in sizes:
            raise StudyError(f"--set {key}: a size option of {name}: give it with --size")
        values[key] = value
    size = {}
    for s in sizes:
        text = values.pop(s, None)
        if text is None and s in required:
            raise StudyError(f"{name}: no value for its size option --{s}: give --size")
        if text is not None:
            size[s] = whole_size(text, s)
    return size, list(values.items())


def study_grid(info, sizes, p):
    """The process grid of p ranks (px, py, pz) for a problem whose size
    options `sizes` are given: 3D where one of them grows along z."""
    grow = {s["option"].replace("_", "-"): s["weak"] for s in info["size"]}
    return process_grid(p, any(grow.get(o.replace("_", "-")) == "grid_z" for o in sizes))


def grow_size(how, v, p, grid):
    """A size option's value on p ranks of a weak study (grid: the process
    grid's (px, py, pz))."""
    return {"linear": v * p, "sqrt": round(v * p ** 0.5),
            "grid_x": v * grid[0], "grid_y": v * grid[1], "grid_z": v * grid[2]}[how]


def whole_size(text, option):
    """A size option's value: a whole number (1000, 1e6) from 1 to
    MAX_SIZE; 2.5, inf, nan and 1e400 are refused, not rounded."""
    t = str(text).strip()
    try:
        v = int(t)
    except ValueError:
        try:
            f = float(t)
        except ValueError:
            raise StudyError(f"--size: '{text}' for --{option} is not a number")
        if not (math.isfinite(f) and f == int(f)):
            raise StudyError(f"--size: '{text}' for --{option} is not a whole number")
        v = int(f)
    if not 1 <= v <= MAX_SIZE:
        raise StudyError(f"--size: --{option} must be from 1 to {MAX_SIZE} (got {text})")
    return v


def point_args(study, info, p, o):
    """parsim arguments and a short problem description for p ranks."""
    size, fixed = problem(info, o)
    grow = {s["option"].replace("_", "-"): s["weak"] for s in info["size"]}
    grid = study_grid(info, size, p)
    three = "grid_z" in (grow[o] for o in size)
    label = "x".join(map(str, grid if three else grid[:2]))
    args = [info["name"]]
    shown = []
    for opt, v in size.items():
        how = grow[opt]
        axis = {"grid_x": 0, "grid_y": 1, "grid_z": 2}.get(how)
        if study == "weak":
            v = grow_size(how, v, p, grid)
            if v > MAX_SIZE:
                raise StudyError(f"--size: --{opt} grows to {v} on {p} ranks, past {MAX_SIZE}")
        elif axis is not None and grid[axis] > v:
            raise StudyError(f"--{opt} {v} is too small for the process grid {label} of {p} ranks")
        args += [f"--{opt}", str(v)]
        shown.append(f"{opt} {v}")
    if study == "weak" and "grid_x" in grow.values():
        args += ["--proc-grid", label]  # every rank keeps its block
    for opt, v in fixed:
        args += [f"--{opt}", str(v)]
        shown.append(f"{opt} {v}")
    if study == "weak" and info["name"] == "mandelbrot":
        # The image grows in height (rows are the unit of work): the window
        # grows with it, so the work per row keeps its mix.
        args += ["--window", f"-2,1,-1,{-1 + 2 * p}"]
    # "; ": the description travels in job environments, where commas part values.
    return args, "; ".join(shown)


# ---------------------------------------------------------------- running


def parsim_binary(o):
    path = Path(o.parsim) if o.parsim else ROOT / "target" / "release" / "parsim"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise StudyError(f"parsim binary not found at {path}: build it with cargo build --release (or pass --parsim)")
    return path.resolve()


def cpu_model():
    """The CPU's model name (Linux), for the plots' titles."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def machine(study):
    """Where the study ran, as the plots' titles name it."""
    host = study.get("host", "unknown host")
    where = f"{host}, {study.get('cpu', 'unknown CPU')}, {study.get('cores', '?')} cores"
    return where if study.get("launcher") != "slurm" else f"SLURM, submitted from {where}"


def run_local(study, info, o, out):
    binary, workload = parsim_binary(o), info["name"]
    check_mpirun(o)
    cores = os.cpu_count() or 1
    env = mpirun_env()
    if o.max_ranks >= 2:
        measure_network(binary, out / "network.json", env)
    with open(out / "runs.jsonl", "w") as log:
        for p in rank_counts(o.max_ranks):
            args, problem = point_args(study, info, p, o)
            over = p > cores
            flags = ["--oversubscribe", "--bind-to", "none"] if over else ["--bind-to", "core"]
            for k in range(1, o.repeat + 1):
                cmd = ["mpirun", *flags, "-n", str(p), str(binary), *args, "--no-output", "--json"]
                load = host_load()
                t0 = time.perf_counter()
                r = launch_run(cmd, env)
                launch = time.perf_counter() - t0
                what = f"p={p} run {k}/{o.repeat}"
                if r.returncode != 0:
                    raise StudyError(f"{what} failed (exit {r.returncode}): {error_line(r.stderr)} "
                                     f"[{' '.join(cmd)}]")
                report = last_json(r.stdout, f"{what} [{' '.join(cmd)}]")
                check_report(report, info, what)
                row = dict(ranks=p, nodes=1, repeat=k, oversubscribed=over, problem=problem,
                           launch_s=launch, load=load, report=report)
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(f"scaling: {study} {workload} p={p} run {k}/{o.repeat}: "
                      f"{report['wall_time_s']:.4f} s", file=sys.stderr)


def launch_run(cmd, env):
    """mpirun (or srun) `cmd` to its end, its output captured. Stopped
    meanwhile (Ctrl-C, SIGTERM, an error), it gets a SIGTERM first, which
    mpirun passes on to the ranks (parsim stops cleanly on it), and a
    SIGKILL only if it has not ended 10 s later."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          stdin=subprocess.DEVNULL) as proc:
        try:
            out, err = proc.communicate()
        except BaseException:
            proc.terminate()
            try:
                proc.communicate(timeout=10)
            except BaseException:
                proc.kill()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def mpirun_env():
    """This environment for mpirun: as root, with Open MPI's consent to run
    as root (said once on stderr), which it refuses without."""
    env = dict(os.environ)
    if os.geteuid() == 0 and "OMPI_ALLOW_RUN_AS_ROOT" not in env:
        print("scaling: note: running as root: setting OMPI_ALLOW_RUN_AS_ROOT=1 for mpirun", file=sys.stderr)
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def measure_network(binary, path, env=None, launcher=("mpirun", "-n", "2")):
    """`parsim pingpong --json` on two ranks into `path`: what predict's
    cost model takes for the links within a node."""
    cmd = [*launcher, str(binary), "pingpong", "--json", "--time-per-size", "0.02"]
    r = launch_run(cmd, env or dict(os.environ))
    if r.returncode != 0:
        raise StudyError(f"pingpong failed (exit {r.returncode}): {error_line(r.stderr)} [{' '.join(cmd)}]")
    report = last_json(r.stdout, f"pingpong [{' '.join(cmd)}]")
    links = pingpong_links(report, "parsim pingpong")  # what predict will read back, checked now
    write_atomic(path, json.dumps(report, indent=2) + "\n")
    for kind, link in links.items():
        print(f"scaling: {kind} link: alpha {link.alpha * 1e6:.2f} us, "
              f"beta {link.beta / 1e9:.2f} GB/s (parsim pingpong)", file=sys.stderr)
    return report


def pingpong_links(report, where):
    """The links of a `parsim pingpong --json` report, by kind, as checked
    Links (a link with no time, or a time of 0, is refused here, naming
    `where`)."""
    links = report.get("links") if isinstance(report, dict) else None
    if not isinstance(links, list):
        raise StudyError(f"{where}: not the output of parsim pingpong --json (no list of links)")
    out = {}
    for k, link in enumerate(links):
        kind = link.get("kind") if isinstance(link, dict) else None
        if not isinstance(kind, str):
            raise StudyError(f"{where}: links[{k}] has no kind (intra-node, inter-node)")
        source = "parsim pingpong, " + ("within a node" if kind == "intra-node" else "between nodes")
        out[kind] = costmodel.link_from_pingpong(link, source, where=f"{where}: links[{k}] ({kind})")
    return out


def last_json(stdout, what):
    """The --json report parsim prints last on stdout, as a dict."""
    lines = stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError) as e:
        raise StudyError(f"{what}: no JSON report as the last line of its output ({e or 'no output'})")
    if not isinstance(report, dict):
        raise StudyError(f"{what}: its JSON report is not an object")
    return report


@contextlib.contextmanager
def atomic_open(path):
    """A file to write `path` through: a temporary file beside it, renamed
    over `path` when the block ends well and removed when it does not, so
    a study stopped meanwhile leaves the old file or the new one, never
    half of one. Text as written (newline="": the CSV's own line ends)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "w", newline="") as f:
            yield f
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomic(path, text):
    with atomic_open(path) as f:
        f.write(text)


def host_load():
    """What else the host was doing just before a run: the 1-minute load
    average and the CPUs other processes kept busy over the last 0.2 s
    (from /proc; None where there is no /proc)."""
    try:
        load1 = float(Path("/proc/loadavg").read_text().split()[0])

        def cpu():
            f = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            v = [int(x) for x in f]
            return sum(v), v[3] + (v[4] if len(v) > 4 else 0)
        (t0, i0), w0 = cpu(), time.perf_counter()
        time.sleep(0.2)
        (t1, i1) = cpu()
        busy = (1.0 - (i1 - i0) / max(t1 - t0, 1)) * (os.cpu_count() or 1)
        return dict(load1=load1, busy_cpus=round(busy, 2))
    except (OSError, ValueError, IndexError):
        return None


def check_mpirun(o):
    cores = os.cpu_count() or 1
    if o.max_ranks > cores and not o.oversubscribe:
        raise StudyError(f"{o.max_ranks} ranks on {cores} cores: pass --oversubscribe to allow it")
    if shutil.which("mpirun") is None:
        raise StudyError("mpirun not found (install OpenMPI or load an MPI module)")


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else "(no output)"


def slurm_available():
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return "sbatch/sinfo not found (no SLURM client here; try scripts/slurm-local.sh up)"
    conf = os.environ.get("SLURM_CONF")
    if conf and not Path(conf).is_file():
        # sinfo would retry for a minute before saying so
        return f"SLURM_CONF={conf} does not exist (try scripts/slurm-local.sh up and source its env.sh)"
    try:
        r = subprocess.run(["sinfo", "-h"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "SLURM did not answer sinfo within 30 s"
    if r.returncode != 0:
        return f"SLURM is not reachable: {last_line(r.stderr)} (is SLURM_CONF set? try scripts/slurm-local.sh up)"
    return None


def run_slurm(study, info, o, out):
    binary, workload = parsim_binary(o), info["name"]
    why = slurm_available()
    if why:
        raise StudyError(why)
    (out / "points").mkdir()
    (out / "logs").mkdir()
    ids = []
    for p in rank_counts(o.max_ranks):
        args, problem = point_args(study, info, p, o)
        export = {
            "PARSIM": str(binary),
            "POINT_ARGS": " ".join(args),
            "POINT_PROBLEM": problem,
            "POINT_REPEAT": str(o.repeat),
            "POINT_OUT": str(out / "points" / f"p{p}.jsonl"),
        }
        # Through sbatch's own environment (--export=ALL), not the
        # --export list, whose commas would cut values holding one.
        cmd = ["sbatch", "--parsable", f"--ntasks={p}", f"--job-name=parsim-{study}-{workload}-p{p}",
               f"--output={out / 'logs' / f'point-p{p}-%j.out'}", f"--time={o.time_limit}", "--export=ALL"]
        if o.tasks_per_node:
            cmd.append(f"--ntasks-per-node={o.tasks_per_node}")
        else:
            cmd.append("--nodes=1")
        cmd.append(str(ROOT / "jobs" / "study-point.sbatch"))
        ids.append(submit(cmd, env={**os.environ, **export}))
        print(f"scaling: point p={p}: job {ids[-1]}", file=sys.stderr)
    cmd = ["sbatch", "--parsable", "--ntasks=1", f"--dependency=afterok:{':'.join(ids)}",
           "--kill-on-invalid-dep=yes", "--job-name=parsim-study-report",
           f"--output={out / 'logs' / 'report-%j.out'}",
           f"--export=ALL,STUDY_DIR={out},STUDY_PYTHON={sys.executable},STUDY_TOOL={Path(__file__).resolve()}",
           str(ROOT / "jobs" / "study-report.sbatch")]
    if o.wait:
        cmd.insert(1, "--wait")
    report_id = submit(cmd) if not o.wait else None
    if o.wait:
        r = subprocess.run(cmd, capture_output=True, text=True)
        # A point job that failed cancels the report job (afterok), and
        # `sbatch --wait` can still exit 0 for a job that never ran.
        short = unfinished_points(out, o)
        if short:
            p = short[0]
            raise StudyError(f"no report: point(s) {', '.join(f'p={p}' for p in short)} did not finish their "
                             f"runs; p={p}: {log_reason(out, f'point-p{p}-*.out')}")
        if r.returncode != 0 or not (out / "table.md").exists():
            raise StudyError(f"the report job failed (exit {r.returncode}): {log_reason(out, 'report-*.out')}")
        return True
    print(f"scaling: report job {report_id} runs after {', '.join(ids)}; results will be in {out}")
    return False


def unfinished_points(out, o):
    """Rank counts whose point file holds fewer runs than asked for."""
    short = []
    for p in rank_counts(o.max_ranks):
        f = out / "points" / f"p{p}.jsonl"
        runs = sum(1 for line in f.read_text().splitlines() if line.strip()) if f.exists() else 0
        if runs < o.repeat:
            short.append(p)
    return short


def log_reason(out, pattern):
    """Why a job failed, from its log in out/logs: parsim's own error line
    (or the report's), else the first line that is not a banner."""
    texts = []
    for f in sorted((out / "logs").glob(pattern)):
        try:
            texts.append(f.read_text(errors="replace"))
        except OSError:
            pass
    text = "\n".join(texts)
    said = [line.strip() for line in text.splitlines() if line.startswith("scaling: error:")]
    return said[-1] if said else error_line(text) if text.strip() else "its log is empty or missing"


# Jobs this study submitted: a study that fails cancels them (they would
# write into the directory it removes).
SUBMITTED = []


def submit(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise StudyError(f"sbatch failed: {last_line(r.stderr)}")
    SUBMITTED.append(r.stdout.strip().split(";")[0])
    return SUBMITTED[-1]


# ---------------------------------------------------------------- report


# ---- reading a study: every file checked as it is read, so a study cut
# short (killed mid-write), edited by hand or from another version is one
# line naming the file, the line and the field, never a traceback or a
# table of inf, nan or negative speedups.

WEAK_GROWTH = ("linear", "sqrt", "grid_x", "grid_y", "grid_z")


def read_text(path):
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError) as e:
        raise StudyError(f"{path}: cannot read it ({e})")


def read_json(path):
    try:
        return json.loads(read_text(path))
    except ValueError as e:
        raise StudyError(f"{path}: not valid JSON, cut short by a study stopped mid-write? ({e})")


def read_jsonl(path):
    """(where, value) for each line of a JSON-lines file."""
    out = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((f"{path} line {n}", json.loads(line)))
        except ValueError as e:
            raise StudyError(f"{path} line {n}: not valid JSON, cut short by a study stopped mid-write? ({e})")
    return out


def field(d, key, where, what):
    """d[key], or one line saying it is missing (what: what it should be)."""
    if not isinstance(d, dict):
        raise StudyError(f"{where}: not a JSON object")
    if key not in d:
        raise StudyError(f"{where}: no '{key}' ({what})")
    return d[key]


def number(d, key, where, lo=0, above=None, whole=False, hi=None, optional=False):
    """d[key] as a finite number >= lo (> above if given; a whole number
    if whole; <= hi if given), or one line saying what is wrong with it."""
    if optional and (not isinstance(d, dict) or d.get(key) is None):
        return None
    v = field(d, key, where, "a number")
    what = "a whole number" if whole else "a finite number"
    if above is not None:
        bound = f"above {above}" + (f" and at most {hi}" if hi is not None else "")
    elif lo is not None:
        bound = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
    else:
        bound = f"at most {hi}" if hi is not None else ""
    if not costmodel.finite(v) or (whole and v != int(v)):
        raise StudyError(f"{where}: {key} must be {what} {bound} (got {json.dumps(v)})")
    if (above is not None and not v > above) or (lo is not None and v < lo) or (hi is not None and v > hi):
        raise StudyError(f"{where}: {key} must be {bound} (got {json.dumps(v)})")
    return int(v) if whole else v


def text_field(d, key, where, what, choices=None, optional=False):
    if optional and (not isinstance(d, dict) or key not in d):
        return None
    v = field(d, key, where, what)
    if not isinstance(v, str) or not v or (choices and v not in choices):
        raise StudyError(f"{where}: {key} must be {what} (got {json.dumps(v)})")
    return v


def check_info(info, where, need_size=False):
    """A workload's registry entry (study.json's info, or the binary's):
    what the report and the models read of it."""
    if not isinstance(info, dict):
        raise StudyError(f"{where}: not a JSON object")
    phases = field(info, "phases", where, "the workload's phases")
    if not (isinstance(phases, list) and phases and all(isinstance(ph, str) and ph for ph in phases)):
        raise StudyError(f"{where}: phases must be a list of phase names (got {json.dumps(phases)})")
    rate = field(info, "rate", where, "the workload's rate: field and unit")
    text_field(rate, "field", f"{where}.rate", "the report's rate field")
    text_field(rate, "unit", f"{where}.rate", "the rate's unit")
    if need_size or "size" in info:
        size = field(info, "size", where, "the workload's size options")
        if not isinstance(size, list) or not size:
            raise StudyError(f"{where}: size must be a list of size options (got {json.dumps(size)})")
        for k, s in enumerate(size):
            text_field(s, "option", f"{where}.size[{k}]", "an option name")
            text_field(s, "weak", f"{where}.size[{k}]", f"one of {', '.join(WEAK_GROWTH)}", WEAK_GROWTH)
    return info


def check_study(study, path):
    """study.json: what the report needs of it."""
    if not isinstance(study, dict):
        raise StudyError(f"{path}: not a JSON object")
    text_field(study, "study", path, "strong or weak", STUDIES)
    text_field(study, "workload", path, "the workload's name")
    text_field(study, "launcher", path, "mpirun or slurm", ("mpirun", "slurm"))
    number(study, "repeat", path, lo=1, whole=True)
    if study.get("cores") is not None:
        study["cores"] = number(study, "cores", path, lo=1, whole=True, hi=MAX_RANKS)
    if study.get("info") is not None:
        check_info(study["info"], f"{path}: info")
    return study


def check_report(report, info, where):
    """One run's --json report: a wall time above 0, the rate, and every
    phase the workload has as min <= avg <= max, each >= 0."""
    number(report, "wall_time_s", where, lo=None, above=0)
    number(report, info["rate"]["field"], where)
    phases = field(report, "phases", where, "the per-phase times")
    for ph in info["phases"]:
        at = f"{where}: phases.{ph}"
        stat = field(phases, ph, f"{where}: phases", f"the workload's phase {ph}")
        lo, avg, hi = (number(stat, k, at) for k in ("min", "avg", "max"))
        # avg is a sum over ranks divided: it may pass min or max by a rounding.
        slack = 1e-9 * hi
        if not lo - slack <= avg <= hi + slack:
            raise StudyError(f"{at}: min {lo}, avg {avg}, max {hi} are not in order")
    return report


def check_row(row, info, where):
    """One line of runs.jsonl (or of a SLURM point's file), checked; its
    counts made ints (2.0 is 2) and where it came from kept for messages."""
    for key in ("ranks", "nodes"):
        row[key] = number(row, key, where, lo=1, whole=True, hi=MAX_RANKS)
    row["repeat"] = number(row, "repeat", where, lo=1, whole=True)
    if not isinstance(field(row, "oversubscribed", where, "true or false"), bool):
        raise StudyError(f"{where}: oversubscribed must be true or false (got {json.dumps(row['oversubscribed'])})")
    if not isinstance(field(row, "problem", where, "the point's problem"), str):
        raise StudyError(f"{where}: problem must be a string (got {json.dumps(row['problem'])})")
    number(row, "launch_s", where, optional=True)
    load = row.get("load")
    if load is not None:
        number(load, "load1", f"{where}: load")
        number(load, "busy_cpus", f"{where}: load")
    check_report(field(row, "report", where, "the run's --json report"), info, f"{where}: report")
    row["_where"] = where
    return row


def load_runs(out, binary=lambda: ROOT / "target" / "release" / "parsim"):
    """The study (study.json), its workload's registry entry (the study's
    own, else the one of the parsim `binary()` gives) and its runs, every
    one checked."""
    path = out / "study.json"
    study = check_study(read_json(path), path)
    info = study.get("info")
    if info is None:  # studies made before the registry was stored: ask the binary
        known = registry(binary())
        if study["workload"] not in known:
            raise StudyError(f"{path}: workload '{study['workload']}' is not one the parsim binary knows")
        info = check_info(known[study["workload"]], f"the registry's {study['workload']}")
    files = [out / "runs.jsonl"] if (out / "runs.jsonl").exists() else sorted((out / "points").glob("p*.jsonl"))
    rows = [check_row(row, info, where) for f in files for where, row in read_jsonl(f)]
    if not rows:
        raise StudyError(f"no runs found in {out}")
    rows.sort(key=lambda r: (r["ranks"], r["repeat"]))
    return study, info, rows


def by_ranks(rows):
    """The runs of each rank count, in order."""
    by_p = {}
    for r in rows:
        by_p.setdefault(r["ranks"], []).append(r)
    return by_p


def write_report(out):
    study, info, rows = load_runs(out)
    kind, workload = study["study"], study["workload"]
    phases = info["phases"]
    rate_key, rate_unit = info["rate"]["field"], info["rate"]["unit"]

    # CSV: one row per run.
    with atomic_open(out / "runs.csv") as f:
        w = csv.writer(f)
        head = ["study", "workload", "launcher", "ranks", "nodes", "oversubscribed", "repeat", "problem",
                "wall_s", f"rate_{rate_unit.replace('/', '_per_')}", "launch_s"]
        for ph in phases:
            head += [f"{ph}_min_s", f"{ph}_avg_s", f"{ph}_max_s"]
        w.writerow(head)
        for r in rows:
            rep = r["report"]
            line = [kind, workload, study["launcher"], r["ranks"], r["nodes"], r["oversubscribed"], r["repeat"],
                    r["problem"], f"{rep['wall_time_s']:.6f}", f"{rep[rate_key]:.6g}",
                    "" if r.get("launch_s") is None else f"{r['launch_s']:.4f}"]
            for ph in phases:
                s = rep["phases"][ph]
                line += [f"{s['min']:.6f}", f"{s['avg']:.6f}", f"{s['max']:.6f}"]
            w.writerow(line)

    # Per rank count: the mean of its runs, the one statistic the table's
    # speedup and efficiency, the fits (scripts/models.py), the sentences
    # and the plots all use; best and median are shown beside it.
    by_p = by_ranks(rows)
    points = [mean_point(p, by_p[p], phases, rate_key) for p in sorted(by_p)]
    t1 = points[0]["mean"] if points[0]["p"] == 1 else None
    for pt in points:
        if t1 is None:
            pt["speedup"] = pt["eff"] = float("nan")
        elif kind == "strong":
            pt["speedup"] = t1 / pt["mean"]
            pt["eff"] = pt["speedup"] / pt["p"]
        else:  # weak: scaled speedup p T1/Tp, efficiency T1/Tp
            pt["eff"] = t1 / pt["mean"]
            pt["speedup"] = pt["eff"] * pt["p"]

    # The models (scripts/models.py), fitted to the points that were not
    # oversubscribed, with the repeats' scatter as their uncertainty.
    runs_by_p = {p: [r["report"]["wall_time_s"] for r in by_p[p]] for p in by_p}
    over = {pt["p"] for pt in points if pt["over"]}
    fitted = models.fit(kind, runs_by_p, over)
    fitted["loads"] = {str(p): [r.get("load") for r in by_p[p]] for p in by_p}
    write_atomic(out / "model.json", json.dumps(json_safe(fitted), indent=2, allow_nan=False) + "\n")
    write_extrap(out / "extrap.txt", study, by_p, phases, over)
    said = models.words(kind, fitted, phase_shares(points, phases, over))
    busy = [(p, l["busy_cpus"]) for p in by_p for l in fitted["loads"][str(p)] if l]
    if busy and max(b for _, b in busy) > 0.5:
        p, b = max(busy, key=lambda x: x[1])
        said.append(f"Other processes kept up to {b:.1f} CPUs busy just before a run ({p} ranks): "
                    "the host was not idle.")

    with atomic_open(out / "table.md") as f:
        f.write(f"# {kind.capitalize()} scaling: parsim {workload} ({study['launcher']})\n\n")
        f.write(f"{study['repeat']} run{'s' if study['repeat'] != 1 else ''} per point; times are the runs' own steady-state wall times. "
                "Each point is the **mean** of its runs: speedup, efficiency, the fits, the sentences below "
                "and the plots all use it (best and median are shown for comparison).\n")
        f.write("Efficiency: " + ("S(p)/p with S(p) = T(1)/T(p)" if kind == "strong" else
                                  "T(1)/T(p); speedup column is the scaled speedup p T(1)/T(p)") + ".\n")
        f.write("Points marked * ran more ranks than cores (oversubscribed).\n\n")
        f.write(f"| ranks | nodes | problem | mean [s] | best [s] | median [s] | speedup (mean) | "
                f"efficiency (mean) | {rate_unit} (mean) |"
                + "".join(f" {ph} avg [s] |" for ph in phases) + "\n")
        f.write("|---:|---:|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(phases) + "\n")
        for pt in points:
            mark = "*" if pt["over"] else ""
            f.write(f"| {pt['p']}{mark} | {pt['nodes']} | {pt['problem']} | {pt['mean']:.4f} | {pt['best']:.4f} | "
                    f"{pt['median']:.4f} | "
                    f"{ratio(pt['speedup'])} | {ratio(pt['eff'])} | {pt['rate']:.4g} |"
                    + "".join(f" {pt['phases'][ph]['avg']:.4f} |" for ph in phases) + "\n")
        f.write("\n## What the points say\n\n")
        for line in said:
            f.write(f"- {line}\n")
        f.write("\nThe parameters, their intervals and the residuals are in model.json.\n")
    plot(out, study, points, phases, fitted)
    print((out / "table.md").read_text())
    print(f"scaling: wrote {out}/runs.csv, table.md, time.png, speedup.png, efficiency.png, phases.png")


def mean_point(p, runs, phases, rate_key):
    """One rank count's point: the mean of its runs' wall times, rates and
    phase figures (min, avg and max over ranks, each averaged over the
    runs), with the best and the median wall time beside it."""
    walls = [r["report"]["wall_time_s"] for r in runs]
    first = runs[0]
    return dict(p=p, mean=statistics.fmean(walls), best=min(walls), median=statistics.median(walls),
                runs=len(runs), nodes=first["nodes"], over=any(r["oversubscribed"] for r in runs),
                rate=statistics.fmean(r["report"][rate_key] for r in runs), problem=first["problem"],
                phases={ph: {k: statistics.fmean(r["report"]["phases"][ph][k] for r in runs)
                             for k in ("min", "avg", "max")} for ph in phases})


def json_safe(v):
    """`v` with every nan or inf (a law that does not fit the points at
    all) as null: model.json stays JSON that any reader takes."""
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def ratio(x):
    """A speedup or efficiency for the table: '-' where there is none (a
    study without its 1-rank point), not nan."""
    return "-" if math.isnan(x) else f"{x:.2f}"


def write_extrap(path, study, by_p, phases, over):
    """The study in Extra-P's text input format (`extrap --text FILE`):
    parameter p, one region for the wall time and one per phase (its
    average over ranks), each with the metrics time and cost (p x time,
    the core-seconds spent: what grows when scaling is imperfect, so
    Extra-P's growth models fit it), every repeat a value. Oversubscribed
    points are left out, as from the fits."""
    ps = [p for p in sorted(by_p) if p not in over]
    regions = [("wall", lambda r: r["report"]["wall_time_s"])]
    regions += [(ph, lambda r, ph=ph: r["report"]["phases"][ph]["avg"]) for ph in phases]
    with atomic_open(path) as f:
        f.write(f"# parsim {study['workload']}: {study['study']} scaling study (scripts/scaling.py)\n")
        if over:
            f.write(f"# oversubscribed points left out: {', '.join(map(str, sorted(over)))} ranks\n")
        f.write("PARAMETER p\n")
        f.write("POINTS " + " ".join(str(p) for p in ps) + "\n")
        for name, get in regions:
            for metric, scale in (("time", lambda p: 1), ("cost", lambda p: p)):
                f.write(f"REGION {name}\nMETRIC {metric}\n")
                for p in ps:
                    f.write("DATA " + " ".join(f"{scale(p) * get(r):.9g}" for r in by_p[p]) + "\n")


def phase_shares(points, phases, over):
    """A sentence on the phase whose share of the time grows most between
    the smallest and the largest fitted rank count, if it grows."""
    pts = [pt for pt in points if pt["p"] not in over]
    if len(pts) < 2:
        return []
    a, b = pts[0], pts[-1]
    grow = []
    for ph in phases:
        sa, sb = a["phases"][ph]["avg"] / a["mean"], b["phases"][ph]["avg"] / b["mean"]
        grow.append((sb - sa, ph, sa, sb))
    d, ph, sa, sb = max(grow)
    if d <= 0.02:
        return []
    return [f"The {ph} phase grows from {100 * sa:.0f} % to {100 * sb:.0f} % of the time "
            f"between {a['p']} and {b['p']} ranks."]


def plot(out, study, points, phases, fitted=None):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise StudyError(f"matplotlib is missing for {sys.executable}: run scripts/setup.sh --python "
                         "and use .venv/bin/python")
    kind, workload = study["study"], study["workload"]
    ps = [pt["p"] for pt in points]
    first, last = points[0], points[-1]
    size = (first["problem"] if kind == "strong" or first["problem"] == last["problem"] else
            f"{first['problem']} at {first['p']} to {last['problem']} at {last['p']} ranks")
    # Wrapped: a weak study's problem (first and last sizes) and a long CPU
    # name would run off a 6-inch figure.
    title = "\n".join(textwrap.wrap(f"parsim {workload}: {kind} scaling, {size}, {ps[0]}-{ps[-1]} ranks", 70)
                      + textwrap.wrap(machine(study), 70))
    over = [pt["p"] for pt in points if pt["over"]]
    note = f" (p >= {min(over)} oversubscribed)" if over else ""

    def finish(fig, ax, name, ylabel, bottom=None):
        (bottom or ax).set_xlabel("MPI ranks" + note)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=9)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ps, [str(p) for p in ps])
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ps, [pt["mean"] for pt in points], "o-", label="mean (the statistic used)")
    ax.plot(ps, [pt["best"] for pt in points], "s--", label="best", alpha=0.6)
    if kind == "strong" and points[0]["p"] == 1:
        ax.plot(ps, [points[0]["mean"] / p for p in ps], ":", color="gray", label="ideal")
    ax.set_yscale("log")
    finish(fig, ax, "time.png", "wall time of the steady state [s]")

    # The fitted laws over a dense p, and the residuals below.
    dense = [2 ** (k / 8) for k in range(0, 8 * int(math.log2(ps[-1])) + 1)] if ps[-1] > 1 else [1]
    curves = []
    if fitted and "model" in fitted:
        # (a value of nan: that law comes near no point, and is not drawn)
        if kind == "strong" and models.describes(fitted["amdahl"]["serial_fraction"]["value"]):
            f = fitted["amdahl"]["serial_fraction"]["value"]
            curves.append((f"Amdahl, f = {f:.3f}", "--", lambda p: 1.0 / (f + (1.0 - f) / p)))
        elif kind == "weak" and models.describes(fitted["gustafson"]["serial_fraction"]["value"]):
            s = fitted["gustafson"]["serial_fraction"]["value"]
            curves.append((f"Gustafson, s = {s:.3f}", "--", lambda p: s + p * (1.0 - s)))
        if fitted.get("usl") and math.isfinite(fitted["usl"]["sigma"]["value"]):
            sg, kp = fitted["usl"]["sigma"]["value"], fitted["usl"]["kappa"]["value"]
            curves.append((f"USL, sigma = {sg:.3f}, kappa = {kp:.4f}", "-.",
                           lambda p: models.usl_speedup(p, sg, kp)))
    fig, (ax, res) = plt.subplots(2, 1, figsize=(6, 5.5), sharex=True, height_ratios=[3, 1])
    ax.plot(ps, [pt["speedup"] for pt in points], "o-", label="measured")
    ax.plot(ps, ps, ":", color="gray", label="ideal")
    for label, style, law in curves:
        ax.plot(dense, [law(p) for p in dense], style, label=label)
    if curves:
        r = [100 * (pt["speedup"] / curves[0][2](pt["p"]) - 1) for pt in points]
        res.plot(ps, r, "o", color="C2")
        res.axhline(0, color="gray", lw=0.8)
        res.set_ylabel(f"measured vs\n{curves[0][0].split(',')[0]} [%]", fontsize=8)
        res.grid(True, alpha=0.3)
    else:
        res.set_axis_off()
    finish(fig, ax, "speedup.png", "speedup T(1)/T(p)" if kind == "strong" else "scaled speedup p T(1)/T(p)",
           bottom=res if curves else None)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ps, [pt["eff"] for pt in points], "o-", label="measured")
    for label, style, law in curves:
        ax.plot(dense, [law(p) / p for p in dense], style, label=label)
    ax.axhline(1.0, ls=":", color="gray", label="ideal")
    known = [pt["eff"] for pt in points if not math.isnan(pt["eff"])]
    ax.set_ylim(0, max(1.1, max(known, default=0) * 1.1))
    if not known:  # no 1-rank point, so no efficiency: the ranks' range still spans the axis
        ax.set_xlim(ps[0] / 1.2, ps[-1] * 1.2)
    finish(fig, ax, "efficiency.png", "parallel efficiency")

    fig, ax = plt.subplots(figsize=(6, 4))
    x = list(range(len(ps)))
    bottom = [0.0] * len(ps)
    for k, ph in enumerate(phases):
        stats = [pt["phases"][ph] for pt in points]
        vals = [s["avg"] for s in stats]
        ax.bar(x, vals, bottom=bottom, label=f"{ph} (avg over ranks)")
        # The imbalance: the slowest and the fastest rank, around the top
        # of this phase's segment.
        top = [b + v for b, v in zip(bottom, vals)]
        # (avg is a sum over ranks divided: a rounding may put it past min or max)
        spread = [[max(0.0, s["avg"] - s["min"]) for s in stats], [max(0.0, s["max"] - s["avg"]) for s in stats]]
        ax.errorbar([xi + 0.12 * (k - 1) for xi in x], top, yerr=spread, fmt="none", ecolor="k",
                    elinewidth=1, capsize=4, label="min-max over ranks" if k == 0 else None)
        bottom = top
    ax.plot(x, [pt["mean"] for pt in points], "k_", markersize=20, label="wall time (mean of the runs)")
    ax.set_xticks(x, [f"{p}{'*' if pt['over'] else ''}" for p, pt in zip(ps, points)])
    ax.set_xlabel("MPI ranks" + note)
    ax.set_ylabel("time [s]")
    ax.set_title("where the time goes\n" + title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "phases.png", dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------- predict


def problem_values(text):
    """'nx 4000; ny 4000; steps 100' (a run's problem) as numbers by option."""
    vals = {}
    for part in text.split(";"):
        k, _, v = part.strip().partition(" ")
        try:
            vals[k.replace("-", "_")] = float(v) if "." in v or "e" in v.lower() else int(v)
        except ValueError:
            vals[k.replace("-", "_")] = v
    return vals


def grown(info, kind, base, p):
    """The option values on p ranks: a weak study grows its size options
    as point_args does; a strong study keeps them."""
    vals = dict(base)
    if kind == "weak":
        given = [s["option"] for s in info["size"] if s["option"].replace("-", "_") in base]
        grid = study_grid(info, given, p)
        for s in info["size"]:
            k = s["option"].replace("-", "_")
            if k in base:
                vals[k] = grow_size(s["weak"], base[k], p, grid)
    return vals


def network_for(out, study, o):
    """The links within and between nodes: given, from the study's
    network.json, or measured now (within a node, 2 ranks)."""
    links = {}
    path = out / "network.json"
    if path.exists():
        links = pingpong_links(costmodel.read_pingpong(path), str(path))
    elif not o.intra:
        binary = parsim_binary(o)
        print("scaling: the study has no network.json: measuring this node with parsim pingpong", file=sys.stderr)
        links = pingpong_links(measure_network(binary, path, mpirun_env()), "parsim pingpong")
    if o.intra:
        intra = costmodel.parse_link(o.intra, "--intra")
    elif "intra-node" in links:
        intra = links["intra-node"]
    else:
        raise StudyError("no measurement within a node: give --intra alpha=...,beta=...")
    if o.network and Path(o.network).is_file():
        inter = costmodel.link_from_file(o.network)
    elif o.network:
        inter = costmodel.parse_link(o.network, "--network")
    elif "inter-node" in links:
        inter = links["inter-node"]
    else:
        inter = None
    # (0 is refused with the options, not taken for "not given")
    cores = o.cores_per_node if o.cores_per_node is not None else study.get("cores") or os.cpu_count() or 1
    return costmodel.Network(intra, inter, cores)


# The option values each communication pattern's model reads (by the
# names the registry's comm gives them).
COMM_VALUES = {"halo": ("nx", "ny", "steps"), "ring": ("n", "dim"), "dispatch": ("rows", "chunk"), "reduce": ()}


def check_comm(info, where):
    """The registry's comm: a pattern the model knows, phases the workload
    has, the options it reads."""
    comm = field(info, "comm", where, "how the workload's ranks talk")
    at = f"{where}.comm"
    pattern = text_field(comm, "pattern", at, f"one of {', '.join(COMM_VALUES)}", COMM_VALUES)
    text_field(comm, "compute", at, f"one of the phases {', '.join(info['phases'])}", info["phases"])
    if comm.get("phase") is not None:
        text_field(comm, "phase", at, f"one of the phases {', '.join(info['phases'])}", info["phases"])
    for key in COMM_VALUES[pattern] + (("overlap",) if pattern == "halo" else ()):
        text_field(comm, key, at, "the name of the option it is")
    if pattern == "halo":  # a 3D run's nz (older registries have none)
        text_field(comm, "nz", at, "the name of the option it is", optional=True)
    return comm


def check_values(info, kind, base, report, where):
    """The reference point's option values the model reads (its comm's,
    and the size options a weak study grows): whole numbers >= 1."""
    comm = info["comm"]
    names = [comm[k] for k in COMM_VALUES[comm["pattern"]]]
    if comm.get("nz") and comm["nz"].replace("-", "_") in base:
        names.append(comm["nz"])  # a 3D run
    if kind == "weak":
        names += [s["option"] for s in info["size"]
                  if not s.get("optional") or s["option"].replace("-", "_") in base]
    for name in names:
        k = name.replace("-", "_")
        v = base.get(k)
        if not (costmodel.finite(v) and v == int(v) and 1 <= v <= MAX_SIZE):
            raise StudyError(f"{where}: the model needs {name} as a whole number from 1 to {MAX_SIZE} "
                             f"(got {json.dumps(v) if k in base else 'none'})")
        base[k] = int(v)
    if "execution" in report:  # heat's time block, which the halo model reads
        execution = report["execution"]
        if not isinstance(execution, dict):
            raise StudyError(f"{where}: report.execution must be a JSON object")
        number(execution, "time_block", f"{where}: report.execution", whole=True, hi=MAX_SIZE, optional=True)
        auto = execution.get("time_block_auto")
        if auto:
            if not isinstance(auto, dict):
                raise StudyError(f"{where}: report.execution.time_block_auto must be a JSON object")
            number(auto, "l2_bytes", f"{where}: report.execution.time_block_auto", optional=True)


# How far the model may miss the study's own points (predicted / measured
# or its inverse, less 1) before its numbers are given as a range.
TRUST = 0.25


def write_prediction(out, o):
    study, info, rows = load_runs(out, lambda: parsim_binary(o))
    kind, workload = study["study"], study["workload"]
    if "comm" not in info:  # studies made before the registry said how ranks talk
        known = registry(parsim_binary(o))
        if workload not in known:
            raise StudyError(f"{out / 'study.json'}: workload '{workload}' is not one the parsim binary knows")
        info = {**known[workload], **info}
    check_info(info, f"{out / 'study.json'}: info", need_size=kind == "weak")
    check_comm(info, f"{out / 'study.json'}: info")
    by_p = by_ranks(rows)
    fitted = sorted(p for p in by_p if not any(r["oversubscribed"] for r in by_p[p]))
    if not fitted:
        raise StudyError(f"{out}: every point is oversubscribed: nothing to build a model from")
    # The mean of each point's runs: the statistic the study's report uses.
    mean = {p: mean_point(p, by_p[p], info["phases"], info["rate"]["field"]) for p in by_p}
    p0 = fitted[0]
    first = by_p[p0][0]
    rep0 = dict(first["report"], wall_time_s=mean[p0]["mean"], phases=mean[p0]["phases"])
    ref = dict(p=p0, wall=mean[p0]["mean"], report=rep0,
               phases={ph: mean[p0]["phases"][ph]["avg"] for ph in info["phases"]})
    base = problem_values(first["problem"])
    for k, v in rep0.items():  # options the problem does not name (mandelbrot's chunk)
        base.setdefault(k, v)
    if kind == "weak" and p0 != 1:
        raise StudyError("a weak study's model needs its 1-rank point")
    check_values(info, kind, base, rep0, f"{first['_where']} (the {p0}-rank point, problem '{first['problem']}')")
    values_at = lambda p: grown(info, kind, base, p)  # noqa: E731
    net = network_for(out, study, o)
    t1 = costmodel.predict(info, kind, ref, values_at, net, 1)["total"]
    table = costmodel.scan(info, kind, ref, values_at, net, rank_counts(o.ranks), t1)
    top = min(o.ranks, costmodel.MAX_RANKS if net.inter else net.cores)
    half_p, half = costmodel.half_efficiency(info, kind, ref, values_at, net, t1, top=top)
    if half_p is None and not net.inter and o.ranks > net.cores:
        half += " (one node: give --network to look past it)"
    check = model_check(info, kind, ref, values_at, net, fitted, mean)
    miss = worst_miss(check, p0)
    lines = prediction_text(study, info, out, net, first["problem"], p0, table, half, check, miss)
    text = "\n".join(lines) + "\n"
    write_atomic(out / "prediction.md", text)
    write_atomic(out / "prediction.json", json.dumps(dict(
        workload=workload, study=kind, reference=dict(p=p0, problem=first["problem"], statistic="mean"),
        network=dict(intra=str(net.intra), inter=str(net.inter) if net.inter else None, cores_per_node=net.cores),
        ranks=table, half_efficiency=dict(ranks=None if miss else half_p, said=half),
        check=check, trusted=miss is None, measured_over_predicted=miss, tolerance=TRUST), indent=2) + "\n")
    print(text)
    print(f"scaling: wrote {out}/prediction.md, prediction.json")


def model_check(info, kind, ref, values_at, net, fitted, mean):
    """The model against each of the study's own points (not
    oversubscribed, within the problem's limits): the means measured."""
    phase = info["comm"].get("phase")
    check = []
    for p in fitted:
        try:
            m = costmodel.predict(info, kind, ref, values_at, net, p)
        except costmodel.ProblemLimit:
            continue
        check.append(dict(p=p, measured=mean[p]["mean"], predicted=m["total"],
                          comm_measured=mean[p]["phases"][phase]["avg"] if phase else None,
                          comm_predicted=m["comm"]))
    return check


def worst_miss(check, p0):
    """How the model misses the checkable points (every point but the
    reference, whose compute it was built from): (lo, hi), the smallest
    and the largest measured / predicted, each taken with 1; or None when
    every miss is within TRUST. A prediction then spans T lo to T hi."""
    ratios = [c["measured"] / c["predicted"] for c in check if c["p"] != p0]
    lo, hi = min(ratios + [1.0]), max(ratios + [1.0])
    return [lo, hi] if max(hi, 1.0 / lo) > 1.0 + TRUST else None


def prediction_text(study, info, out, net, problem, p0, table, half, check, miss):
    """prediction.md's lines. A model that misses the study's own points
    by more than TRUST says so first, and gives each time and efficiency
    as the range that miss spans, and where efficiency falls below 50 % as
    a range of rank counts: not a number it cannot back."""
    kind, workload = study["study"], study["workload"]
    phase = info["comm"].get("phase")
    lines = [f"# Prediction: parsim {workload}, {kind} scaling, {problem}"
             + (" per rank at 1" if kind == "weak" else ""), ""]
    if miss:
        off = lambda c: max(c["predicted"] / c["measured"], c["measured"] / c["predicted"])  # noqa: E731
        bad = max((c for c in check if c["p"] != p0), key=off)
        lines += [f"**The model misses the study's own points**: at {bad['p']} ranks it predicts "
                  f"{bad['predicted']:.3g} s where {bad['measured']:.3g} s was measured ({off(bad):.2g}x off, "
                  f"more than the {100 * TRUST:.0f} % it is trusted to). Below, each time and efficiency is the "
                  f"range its misses span (measured / predicted from {miss[0]:.2g} to {miss[1]:.2g}), not a "
                  "number; find why the points differ (a busy host, oversubscription, a phase the model leaves "
                  "out) before relying on it.", ""]
    lines += [f"Built from the study in {out} (reference: its {p0}-rank point, the mean of its runs) and the "
              "network:",
              f"- within a node: {net.intra}",
              f"- between nodes: {net.inter or 'not given (one node only)'}",
              f"- {net.cores} ranks per node; communication: {info['comm']['pattern']} "
              f"(scripts/costmodel.py says what each pattern costs)", "",
              f"| ranks | nodes | compute [s] | {phase or 'comm'} [s] | other [s] | total [s] | speedup | "
              "efficiency |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in table:
        if "stop" in r:
            lines.append(f"| {r['p']} | | {r['stop']} | | | | | |")
            continue
        lo, hi = miss if miss and r["p"] != p0 else (1.0, 1.0)
        span = (lambda a, b, f: f"{a:{f}}" if a == b else f"{a:{f}}-{b:{f}}")  # noqa: E731
        lines.append(f"| {r['p']} | {r['nodes']} | {r['compute']:.4g} | {r['comm']:.4g} | {r['other']:.3g} | "
                     f"{span(r['total'] * lo, r['total'] * hi, '.4g')} | "
                     f"{span(r['speedup'] / hi, r['speedup'] / lo, '.3g')} | "
                     f"{span(r['efficiency'] / hi, r['efficiency'] / lo, '.2f')} |")
    lines += ["", f"Efficiency {half_range(table, miss, p0) if miss else half}.", ""]
    lines += regime_notes(table)
    lines += ["The model against the study's own points (not fitted to them except the reference's compute):", "",
              f"| ranks | measured [s] | predicted [s] | ratio | {phase or 'comm'} measured [s] | predicted [s] |",
              "|---:|---:|---:|---:|---:|---:|"]
    for c in check:
        cm = "" if c["comm_measured"] is None else f"{c['comm_measured']:.4g}"
        lines.append(f"| {c['p']} | {c['measured']:.4g} | {c['predicted']:.4g} | "
                     f"{c['predicted'] / c['measured']:.2f} | {cm} | {c['comm_predicted']:.4g} |")
    lines += ["", "Not in the model: the gather to rank 0 and the file write (kept at the reference's; the "
              "study ran with --no-output), waiting on a slower neighbour (imbalance, noise) other than the "
              "dispatcher's last chunk, several ranks sharing one node's memory bandwidth or network card. "
              "A 2-core machine cannot test the compute term past 2 ranks."]
    return lines


def half_range(table, miss, p0):
    """Where efficiency falls below 50 %, as the range of rank counts the
    misses (lo, hi) allow, within the rank counts of the table."""
    lo, hi = miss
    rows = [r for r in table if "stop" not in r and r["p"] != p0]
    maybe = next((r["p"] for r in rows if r["efficiency"] / hi < 0.5), None)
    surely = next((r["p"] for r in rows if r["efficiency"] / lo < 0.5), None)
    last = rows[-1]["p"] if rows else p0
    if maybe is None:
        return f"stays above 50 % at every count up to {last} ranks, even with the model's misses"
    if surely is None:
        return f"may fall below 50 % from {maybe} ranks on, or stay above it up to {last} (the model's misses)"
    if surely == maybe:
        return f"falls below 50 % at {maybe} ranks, even with the model's misses"
    return f"falls below 50 % somewhere between {maybe} and {surely} ranks (the model's misses)"


def regime_notes(table):
    """Each change of the communication term's regime between rows (a
    time-block depth that switches, an exchange that becomes hidden), in
    words, so a term that drops to 0 or jumps is explained, not left to
    look like a bug."""
    rows = [r for r in table if "stop" not in r]
    notes, last = [], None
    for r in rows:
        if r["regime"] != last:
            notes.append(f"- from {r['p']} rank{'s' if r['p'] > 1 else ''}: {r['regime']}")
            last = r["regime"]
    return ["How the communication term changes with the ranks:", *notes, ""] if len(notes) > 1 else []


# ---------------------------------------------------------------- CLI


class Stopped(Exception):
    """SIGTERM during a study (SIGINT is KeyboardInterrupt)."""


def remove_study(out, fresh):
    """Undo a study that failed: cancel the jobs it submitted, remove the
    directory it made (or, if --out was an empty directory before, what it
    put in it), so that the same command can run again. What it did, in
    words for the error line."""
    try:
        if SUBMITTED:
            subprocess.run(["scancel", *SUBMITTED], capture_output=True, stdin=subprocess.DEVNULL)
        if fresh:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for child in out.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
    except OSError as e:
        return f"could not remove the unfinished study in {out}: {e}"
    jobs = f"cancelled its jobs {', '.join(SUBMITTED)} and " if SUBMITTED else ""
    return f"{jobs}removed the unfinished study " + (f"{out}" if fresh else f"from {out}, empty again")


def main(argv):
    """Every failure one line (exit 2): the specific messages above, and
    anything unforeseen said as one line naming what was being read."""
    where = argv[1] if argv[:1] in (["report"], ["predict"]) and len(argv) > 1 else "the study"
    try:
        return run(argv)
    except (StudyError, costmodel.ModelError) as e:
        die(e)
    except KeyboardInterrupt:
        print("scaling: stopped by SIGINT", file=sys.stderr)
        return 130
    except Exception as e:  # a backstop, not a substitute for the checks
        die(f"{where}: unexpected {type(e).__name__}: {e}")


def run(argv):
    if argv[:1] == ["report"]:
        if len(argv) != 2:
            die("usage: scripts/scaling.py report DIR")
        out = Path(argv[1])
        if not (out / "study.json").is_file():
            die(f"{out} is not a study directory (no study.json)")
        write_report(out)
        return 0

    if argv[:1] == ["predict"]:
        pp = Parser(
            prog="scripts/scaling.py predict",
            description="Predict a study's workload past the ranks it measured (scripts/costmodel.py).")
        pp.add_argument("dir", help="a study directory (study.json, runs)")
        pp.add_argument("--ranks", type=int, required=True,
                        help=f"largest rank count: 1, 2, 4, ... up to it (at most {MAX_RANKS})")
        pp.add_argument("--network", metavar="alpha=T,beta=R|FILE",
                        help="between nodes, e.g. alpha=1.5us,beta=10GB/s, or the saved output of `parsim "
                             "pingpong --json` run on two nodes (default: the study's network.json, if it "
                             "measured two nodes)")
        pp.add_argument("--intra", metavar="alpha=T,beta=R",
                        help="within a node (default: the study's network.json, or parsim pingpong now)")
        pp.add_argument("--cores-per-node", type=int, help="ranks per node (default: the study host's cores)")
        pp.add_argument("--parsim", help="parsim binary (default target/release/parsim)")
        o = pp.parse_args(argv[1:])
        out = Path(o.dir)
        if not (out / "study.json").is_file():
            raise StudyError(f"{out} is not a study directory (no study.json)")
        in_range("--ranks", o.ranks, 1, MAX_RANKS)
        if o.cores_per_node is not None:
            in_range("--cores-per-node", o.cores_per_node, 1, MAX_RANKS)
        write_prediction(out.resolve(), o)
        return 0

    ap = Parser(
        prog="scripts/scaling.py",
        description="Strong and weak scaling studies of any parsim workload, locally or on SLURM.",
        usage="%(prog)s {strong,weak} WORKLOAD [options]\n"
              "       %(prog)s report DIR\n"
              "       %(prog)s predict DIR --ranks N [--network alpha=T,beta=R|FILE] [...]",
        epilog="scripts/scaling.py report DIR rebuilds the CSV, table and plots of a study directory. "
               "scripts/scaling.py predict DIR --ranks N predicts the study's workload on up to N ranks "
               "from a cost model and the network (see predict --help). "
               "A study that fails (a run's error, which it names by parsim's own line; Ctrl-C; SIGTERM) "
               "removes what it wrote into --out and cancels the SLURM jobs it submitted, so the same "
               "command can simply be run again.")
    ap.add_argument("study", choices=STUDIES, help="strong (fixed problem) or weak (fixed work per rank)")
    ap.add_argument("workload", help="any workload `parsim workloads` lists")
    ap.add_argument("--max-ranks", type=int, default=2,
                    help=f"largest rank count (default 2, at most {MAX_RANKS}); 1, 2, 4, ... up to it")
    ap.add_argument("--launcher", choices=("mpirun", "slurm"), default="mpirun")
    ap.add_argument("--repeat", type=int, default=3, help=f"runs per point (default 3, at most {MAX_REPEAT})")
    ap.add_argument("--oversubscribe", action="store_true", help="allow more ranks than cores (mpirun)")
    ap.add_argument("--out", help="result directory (default results/<study>-<workload>-<time> in the "
                    "current directory); "
                    "new or empty; removed again if the study fails")
    ap.add_argument("--parsim", help="parsim binary (default target/release/parsim)")
    ap.add_argument("--wait", action="store_true", help="slurm: wait for the report job")
    ap.add_argument("--tasks-per-node", type=int, help="slurm: --ntasks-per-node (default: one node)")
    ap.add_argument("--time-limit", default="00:30:00", help="slurm: time limit per point job")
    g = ap.add_argument_group("the problem (defaults: the workload's study defaults, `parsim workloads --json`)")
    g.add_argument("--size", help="the workload's size option(s): strong, the whole problem; weak, one rank's "
                   "(heat: NXxNY, e.g. 600x400; others: one number)")
    g.add_argument("--set", action="append", metavar="OPTION=VALUE",
                   help="any other option of the workload, the same for every point (repeatable), e.g. steps=100")
    o = ap.parse_args(argv)
    in_range("--max-ranks", o.max_ranks, 1, MAX_RANKS)
    in_range("--repeat", o.repeat, 1, MAX_REPEAT)
    if o.tasks_per_node is not None:
        in_range("--tasks-per-node", o.tasks_per_node, 1, MAX_RANKS)
    known = registry(parsim_binary(o))
    if o.workload not in known:
        raise StudyError(f"unknown workload '{o.workload}' (parsim workloads: {', '.join(known)})")
    info = check_info(known[o.workload], f"the registry's {o.workload}", need_size=True)
    for p in rank_counts(o.max_ranks):  # sizes are checked before anything runs
        point_args(o.study, info, p, o)
    # Without --out, results/ in the current directory: the project's own
    # may be a read-only install on a cluster.
    out = Path(o.out) if o.out else Path.cwd() / "results" / f"{o.study}-{o.workload}-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and not out.is_dir():
        raise StudyError(f"output directory {out} exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        raise StudyError(f"output directory {out} exists and is not empty")
    if o.launcher == "slurm":
        why = slurm_available()
        if why:
            raise StudyError(why)
    else:
        check_mpirun(o)
    parsim_binary(o)
    fresh = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StudyError(f"cannot create the output directory {out}: {e}")
    out = out.resolve()

    def stop(signum, frame):
        raise Stopped()
    signal.signal(signal.SIGTERM, stop)
    try:
        (out / "study.json").write_text(json.dumps(dict(
            study=o.study, workload=o.workload, launcher=o.launcher, repeat=o.repeat,
            max_ranks=o.max_ranks, ranks=rank_counts(o.max_ranks), created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            info=info,
            host=socket.gethostname(), cpu=cpu_model(), cores=os.cpu_count(),
            command=" ".join([sys.argv[0], *argv])), indent=2) + "\n")
        if o.launcher == "mpirun":
            run_local(o.study, info, o, out)
            write_report(out)
        elif run_slurm(o.study, info, o, out):
            print((out / "table.md").read_text())
            print(f"scaling: results in {out}")
    except BaseException as e:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if isinstance(e, SystemExit) and not e.code:
            raise
        said = remove_study(out, fresh)
        if isinstance(e, KeyboardInterrupt):
            print(f"scaling: stopped by SIGINT: {said}", file=sys.stderr)
            return 130
        if isinstance(e, Stopped):
            print(f"scaling: stopped by SIGTERM: {said}", file=sys.stderr)
            return 143
        if isinstance(e, (StudyError, costmodel.ModelError)):
            die(f"{e} ({said})")
        if isinstance(e, SystemExit):
            raise
        die(f"{out}: unexpected {type(e).__name__}: {e} ({said})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
