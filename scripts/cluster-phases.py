#!/usr/bin/env python3
"""scripts/cluster-phases.py - what the network costs parsim: heat's halo
exchange and its gather to rank 0, with two ranks on one node (Open MPI's
shared memory) and with one rank on each of two nodes (TCP over the virtual
cluster's veth pairs).

  scripts/cluster-local.sh up --nodes 2
  scripts/cluster-phases.py [--repeat 5] [--parsim target/release/parsim]

Both placements use two of this machine's cores, so only the transport
differs. The runs alternate (one node, two nodes, one node, ...) so that a
busy host slows both alike; the table gives each phase's rank average,
median and min over the repeats, the ratio of the medians, and the median
wall time of the time loop (the gather is after it).

  halo, small:  heat 256x256, 4000 steps (2 KB a message: latency-bound)
  halo, large:  heat 2000x2000, 100 steps (16 KB a message, 20 ms of
                stencil a step to hide it behind)
  gather:       heat 2000x2000, 24 steps, written to a file on the shared
                filesystem (the gather/I-O phase: 16 MB from the other
                rank to rank 0, then the same HDF5 write on both)
All with time block 1 (one exchange a step) and no progress output.

Environment: PARSIM_CLUSTER_DIR etc. as for scripts/cluster-local.sh.
"""

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_REPEAT = 1000
CLUSTER = ROOT / "scripts" / "cluster-local.sh"

PLACEMENTS = {
    "1 node x 2 ranks (shared memory)": ["--nodes=1", "--ntasks=2"],
    "2 nodes x 1 rank (TCP over veth)": ["--nodes=2", "--ntasks=2", "--ntasks-per-node=1"],
}

# (case, phase key in the report's JSON, exchanges per run (for a time per
# exchange; 0: none), heat arguments; {out} = a result file)
CASES = [
    ("halo, 256x256", "halo", 4000, ["--nx", "256", "--ny", "256", "--steps", "4000", "--no-output"]),
    ("halo, 2000x2000", "halo", 100, ["--nx", "2000", "--ny", "2000", "--steps", "100", "--no-output"]),
    ("gather, 2000x2000", "io", 0,
     ["--nx", "2000", "--ny", "2000", "--steps", "24", "--output", "{out}", "--force"]),
]


def die(msg):
    """One line, exit 2: every refusal and failure says itself so."""
    print(f"cluster-phases: error: {msg}", file=sys.stderr)
    sys.exit(2)


def error_line(text):
    """Why a run failed: parsim's own line, else the first line that is
    not a banner of dashes (srun's, mpirun's)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for prefix in ("parsim: error:", "parsim: "):
        for line in lines:
            if line.startswith(prefix) and not line.startswith("parsim: warning"):
                return line
    words = [line for line in lines if line.strip("-=*# ")]
    return words[0] if words else "(no output)"


def finite(x, above=None):
    return (isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
            and (above is None or x > above))


def run(parsim, placement, args, out, key):
    """One srun on the virtual cluster's head node; the report's JSON,
    with the wall time (above 0) and the phase `key` (avg >= 0) checked."""
    heat = [a.replace("{out}", str(out)) for a in args]
    cmd = [str(CLUSTER), "exec", "srun", *placement, str(parsim), "heat",
           "--time-block", "1", "--json", "--quiet", *heat]
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        die(f"failed (exit {done.returncode}): {error_line(done.stderr)} [{' '.join(cmd)}]")
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
        wall, avg = report["wall_time_s"], report["phases"][key]["avg"]
    except (IndexError, ValueError, KeyError, TypeError) as e:
        die(f"no report with wall_time_s and phases.{key}.avg on stdout ({type(e).__name__}: {e}) [{' '.join(cmd)}]")
    if not (finite(wall, above=0) and finite(avg) and avg >= 0):
        die(f"a report with wall time {wall} s and {key} {avg} s: not times [{' '.join(cmd)}]")
    return report


def main(argv):
    class Parser(argparse.ArgumentParser):
        def error(self, message):  # one line, as every other refusal
            die(f"{message} (see --help)")

    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5,
                   help=f"runs per case and placement (default 5, at most {MAX_REPEAT})")
    p.add_argument("--parsim", type=Path, default=ROOT / "target" / "release" / "parsim")
    o = p.parse_args(argv)
    if not 1 <= o.repeat <= MAX_REPEAT:
        die(f"--repeat must be from 1 to {MAX_REPEAT} (got {o.repeat})")
    if not o.parsim.is_file():
        die(f"no parsim at {o.parsim} (cargo build --release)")
    if subprocess.run([str(CLUSTER), "status"], capture_output=True).returncode != 0:
        die("the virtual cluster is not up (scripts/cluster-local.sh up --nodes 2)")
    # On the shared filesystem (the nodes' /tmp are their own).
    work = Path(tempfile.mkdtemp(prefix="parsim-cluster-phases-", dir="/var/tmp"))
    try:
        times = {(c[0], pl): [] for c in CASES for pl in PLACEMENTS}
        walls = {k: [] for k in times}
        hosts = {}
        for i in range(o.repeat):
            for case, key, _, args in CASES:
                for name, placement in PLACEMENTS.items():
                    report = run(o.parsim.resolve(), placement, args, work / f"{case}.h5", key)
                    times[(case, name)].append(report["phases"][key]["avg"])
                    walls[(case, name)].append(report["wall_time_s"])
                    hosts[name] = report.get("hosts")
            print(f"cluster-phases: round {i + 1} of {o.repeat} done", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{o.repeat} alternating runs each; phase time = rank average, seconds\n")
    print("| phase | placement | median | min | per exchange (median) | ratio of medians | loop wall time (median) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for case, _, exchanges, _ in CASES:
        # Ratios against the first placement (one node).
        base = statistics.median(times[(case, next(iter(PLACEMENTS)))])
        for name in PLACEMENTS:
            t = times[(case, name)]
            med = statistics.median(t)
            each = f"{med / exchanges * 1e6:.1f} us" if exchanges else ""
            wall = statistics.median(walls[(case, name)])
            ratio = f"{med / base:.2f}" if base > 0 else "-"  # a phase measured as 0 s on one node
            print(f"| {case} | {name} | {med:.4f} | {min(t):.4f} | {each} | {ratio} | {wall:.4f} |")
    for name, h in hosts.items():
        print(f"\n{name}: hosts {json.dumps(h)}", end="")
    print()


if __name__ == "__main__":
    main(sys.argv[1:])
