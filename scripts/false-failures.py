#!/usr/bin/env python3
"""False-failure rates of parsim's statistical validations, measured.

Runs a built parsim (one rank, no output file) over many seeds with small
ensembles, where correct runs are what is being judged, and counts how
often each z-score passes |z| > 2, 3, 4 and the failing |z| >= 5, next
to what a standard normal score would give (4.55e-2, 2.70e-3, 6.33e-5,
5.73e-7). The three lower thresholds show whether a score is calibrated
(the 5-sigma rate itself is too rare to count in minutes); `runs failed`
counts runs that exited 3 (per run, so several scores each).

    .venv/bin/python scripts/false-failures.py [--parsim target/release/parsim]
        [--only ou,pi,markov] [--seeds N]

An ou run is a sweep of 48 parameter sets (tau, sigma, x0 apart), so one
run gives 48 independent sets of scores (mean, variance, lag-1); pi and
markov give one run per seed. Nothing is written but to stdout.
"""

import argparse
import json
import math
import os
import subprocess
import sys
from collections import defaultdict

LIMITS = (2.0, 3.0, 4.0, 5.0)


def nominal(z):
    """P(|Z| >= z) for a standard normal Z."""
    return math.erfc(z / math.sqrt(2.0))


def run(parsim, args):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = subprocess.run(
        [parsim, *args, "--json", "--no-output", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if p.returncode not in (0, 3):
        sys.exit(f"parsim {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout), p.returncode == 3


class Tally:
    def __init__(self):
        self.scores = defaultdict(list)
        self.runs = 0
        self.failed = 0

    def add(self, name, z):
        if z is not None:
            self.scores[name].append(abs(z))

    def show(self, label):
        print(f"{label}: {self.runs} runs, {self.failed} failed ({self.failed / max(self.runs, 1):.2e})")
        for name, zs in self.scores.items():
            n = len(zs)
            cells = []
            for lim in LIMITS:
                k = sum(z >= lim for z in zs)
                cells.append(f"|z|>={lim:g}: {k:5d} ({k / n:.2e} vs {nominal(lim):.2e})")
            print(f"    {name:<10} {n:6d} scores  " + "  ".join(cells))
        sys.stdout.flush()


def ou(parsim, seeds):
    sweep = ["--tau", "0.5,1,2,4,8,100", "--sigma", "1,2,3,4", "--x0", "0,1", "--dt", "0.1"]
    for paths in (1, 2, 3, 5, 10):
        for steps in (3, 30):
            t = Tally()
            for seed in range(1, seeds + 1):
                args = ["ou", "--paths", str(paths), "--steps", str(steps), "--seed", str(seed)]
                report, failed = run(parsim, args + sweep)
                t.runs += 1
                t.failed += failed
                for s in report["sets"]:
                    for key in ("z_mean", "z_variance", "z_lag1"):
                        t.add(key[2:], s[key])
            t.show(f"ou --paths {paths} --steps {steps} (48 sets a run)")


def pi(parsim, seeds):
    for samples in (7, 30, 1000):
        t = Tally()
        for seed in range(1, seeds + 1):
            report, failed = run(parsim, ["pi", "--samples", str(samples), "--seed", str(seed)])
            t.runs += 1
            t.failed += failed
            t.add("z", report["z"])
        t.show(f"pi --samples {samples}")


def markov(parsim, seeds):
    for chains in (1, 2, 3, 5, 30):
        for days in (10, 1000):
            t = Tally()
            for seed in range(1, seeds + 1):
                args = ["markov", "--chains", str(chains), "--days", str(days), "--seed", str(seed)]
                report, failed = run(parsim, args)
                t.runs += 1
                t.failed += failed
                for state, z in zip(report["states"], report["z"]):
                    t.add(state, z)
            t.show(f"markov --chains {chains} --days {days}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parsim", default="target/release/parsim")
    ap.add_argument("--only", default="ou,pi,markov")
    ap.add_argument("--seeds", type=int, default=200, help="runs per configuration")
    a = ap.parse_args()
    for name in a.only.split(","):
        {"ou": ou, "pi": pi, "markov": markov}[name](a.parsim, a.seeds)


if __name__ == "__main__":
    main()
