"""bench.sh pairs: parsim pairs (auto: the tree; and the ring where it
takes under ~30 s) on 2 ranks against scipy's cKDTree.query(k=2) with 1
and 2 workers, uniform and clustered (Gaussian blobs) points in 2-D and
3-D, every answer checked equal (each point's neighbour distance to 1e-12
relative, and its index where the distance is not tied).

usage: bench_pairs.py PARSIM REPEAT [--quick]
"""
import json, os, statistics, subprocess, sys, tempfile, time

import h5py
import numpy as np
from scipy.spatial import cKDTree

parsim, repeat = sys.argv[1], int(sys.argv[2])
quick = "--quick" in sys.argv
sizes = [10**4, 10**5] if quick else [10**4, 10**5, 10**6]


def points(kind, n, d):
    rng = np.random.default_rng(1)
    if kind == "uniform":
        return rng.random((n, d))
    centres = rng.random((20, d))
    return centres[rng.integers(0, 20, n)] + 0.02 * rng.standard_normal((n, d))


def run_parsim(path, algo, out):
    """(loop seconds, process seconds, nearest, distance) over REPEAT runs: medians."""
    loops, walls = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        r = subprocess.run(
            ["mpirun", "-n", "2", parsim, "pairs", "--points", path, "--bins", "0",
             "--algorithm", algo, "--output", out, "--force", "--json", "--quiet"],
            capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - t)
        rep = json.loads(r.stdout)
        assert rep["passed"] and rep["algorithm"] == ("tree" if algo == "auto" else algo), rep
        loops.append(rep["wall_time_s"])
    with h5py.File(out) as f:
        return (statistics.median(loops), statistics.median(walls),
                f["pairs/nearest"][:], f["pairs/nearest_distance"][:])


def run_tree(x, workers):
    """(build + query, query alone) medians, neighbours, distances."""
    ts, qs = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        tree = cKDTree(x)
        q = time.perf_counter()
        dist, idx = tree.query(x, k=2, workers=workers)
        ts.append(time.perf_counter() - t)
        qs.append(time.perf_counter() - q)
    return statistics.median(ts), idx[:, 1], dist[:, 1], statistics.median(qs)


def same(a, b):
    (ia, da), (ib, db) = a, b
    if not np.allclose(da, db, rtol=1e-12, atol=0):
        return False
    # Ties (another point at the same distance) may name either.
    order = np.sort(db)
    tied = np.isin(db, order[1:][order[1:] == order[:-1]])
    return bool(np.all((ia == ib) | tied))


print(f"pairs: nearest neighbours on 2 ranks vs scipy {__import__('scipy').__version__} "
      f"cKDTree(x).query(x, k=2) (kd: build + query; w2 query: the query alone), "
      f"{repeat} repeats, medians [s]; parsim: --bins 0, loop = the report's wall_time_s, "
      f"proc = the whole mpirun (start, read .npy, write HDF5)")
print(f"{'set':8} {'N':>8} {'D':>2} {'auto loop':>10} {'auto proc':>10} {'ring loop':>10} "
      f"{'kd w=1':>8} {'kd w=2':>8} {'w2 query':>8} {'w2/auto':>8} {'equal':>6}")
with tempfile.TemporaryDirectory(dir=os.environ.get("PARSIM_BENCH_TMP")) as tmp:
    for kind in ["uniform", "blobs"]:
        for d in [2, 3]:
            for n in sizes:
                x = points(kind, n, d)
                path = os.path.join(tmp, "x.npy")
                np.save(path, x)
                auto = run_parsim(path, "auto", os.path.join(tmp, "a.h5"))
                ok = True
                ring = "-"
                if n <= 10**5:  # 1e6: ~100-130 s on 2 ranks
                    r = run_parsim(path, "ring", os.path.join(tmp, "r.h5"))
                    ok &= bool(np.array_equal(r[2], auto[2]) and np.array_equal(r[3], auto[3]))
                    ring = f"{r[0]:10.4f}"
                w1, w2 = run_tree(x, 1), run_tree(x, 2)
                ok &= same(auto[2:], w2[1:3]) and same(auto[2:], w1[1:3])
                print(f"{kind:8} {n:8} {d:2} {auto[0]:10.4f} {auto[1]:10.4f} {ring:>10} "
                      f"{w1[0]:8.4f} {w2[0]:8.4f} {w2[3]:8.4f} {w2[0] / auto[0]:7.2f}x {'yes' if ok else 'NO':>6}",
                      flush=True)
