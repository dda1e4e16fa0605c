"""bench.sh pairs, the two-point correlation's pair counts: parsim pairs
--rmax R --bins B on 2 ranks against Corrfunc's theory DD (2 OpenMP
threads, autocorr=1, periodic=False) on the same points (uniform in the
unit cube, 3-D), the same B equal bins over [0, R]; the counts checked
equal. Corrfunc counts ordered pairs with autocorr=1, and with rmin = 0
each point with itself in the first bin: those N are taken off, and the
rest halved.

usage: bench_rmax.py PARSIM REPEAT [--quick]   (Corrfunc on PYTHONPATH)
"""
import json, os, statistics, subprocess, sys, tempfile, time

import h5py
import numpy as np
from Corrfunc.theory.DD import DD

parsim, repeat = sys.argv[1], int(sys.argv[2])
quick = "--quick" in sys.argv
R, B = 0.05, 20
sizes = [10**5] if quick else [10**5, 10**6]


def run_parsim(path, out):
    """(loop seconds, process seconds, counts, distances computed, in bulk): medians."""
    loops, walls = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        r = subprocess.run(
            ["mpirun", "-n", "2", parsim, "pairs", "--points", path, "--rmax", str(R),
             "--bins", str(B), "--output", out, "--force", "--json", "--quiet"],
            capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - t)
        rep = json.loads(r.stdout)
        assert rep["passed"] and rep["algorithm"] == "tree", rep
        loops.append(rep["wall_time_s"])
    with h5py.File(out) as f:
        counts = f["pairs/histogram"][:]
    return statistics.median(loops), statistics.median(walls), counts, rep


def run_corrfunc(x):
    """(seconds, counts of unordered pairs i < j): median."""
    bins = np.linspace(0.0, R, B + 1)
    xs = [np.ascontiguousarray(x[:, k]) for k in range(3)]
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = DD(1, 2, bins, *xs, periodic=False, boxsize=1.0, verbose=False)
        ts.append(time.perf_counter() - t)
    npairs = r["npairs"].astype(np.int64)
    npairs[0] -= len(x)  # each point with itself, at distance 0
    return statistics.median(ts), npairs // 2


print(f"pairs --rmax {R} --bins {B} on 2 ranks vs Corrfunc theory.DD, 2 threads "
      f"(autocorr, periodic=False), uniform points in the unit cube, {repeat} repeats, "
      f"medians [s]; parsim loop = the report's wall_time_s (its tree's nearest neighbours "
      f"included), proc = the whole mpirun")
print(f"{'N':>8} {'loop':>8} {'proc':>8} {'corrfunc':>9} {'cf/loop':>8} {'cf/proc':>8} "
      f"{'computed':>12} {'in bulk':>10} {'within R':>12} {'equal':>6}")
with tempfile.TemporaryDirectory(dir=os.environ.get("PARSIM_BENCH_TMP")) as tmp:
    for n in sizes:
        x = np.random.default_rng(1).random((n, 3))
        path = os.path.join(tmp, "x.npy")
        np.save(path, x)
        loop, proc, counts, rep = run_parsim(path, os.path.join(tmp, "r.h5"))
        cf, want = run_corrfunc(x)
        ok = np.array_equal(counts, want)
        print(f"{n:8} {loop:8.3f} {proc:8.3f} {cf:9.3f} {cf / loop:7.2f}x {cf / proc:7.2f}x "
              f"{rep['check']['pairs_met']:12} {rep['histogram_bulk']:10} "
              f"{rep['histogram_total']:12} {'yes' if ok else 'NO':>6}", flush=True)
