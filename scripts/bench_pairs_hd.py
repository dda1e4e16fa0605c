"""bench.sh pairs, high dimension: parsim pairs' ring (--algorithm ring,
--bins 0; its meeting tiled so a tile of columns stays in L2) on 2 ranks
against a NumPy GEMM search with 2 BLAS threads, the way a Python user
finds nearest neighbours in 64-D: per block of rows, |x|^2 + |y|^2 - 2 x y^T
by matrix product, each row's least taken (argmin), then the winners'
distances recomputed exactly (the GEMM form loses digits). Every point's neighbour checked equal
(distance to 1e-12 relative, index where not tied).

usage: bench_pairs_hd.py PARSIM REPEAT [--quick]
The BLAS threads are set before NumPy loads (OPENBLAS_NUM_THREADS etc.).
"""
import os
import sys

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "2"

import json, statistics, subprocess, tempfile, time  # noqa: E402

import h5py  # noqa: E402
import numpy as np  # noqa: E402

parsim, repeat = sys.argv[1], int(sys.argv[2])
quick = "--quick" in sys.argv
DIM = 64
sizes = [2 * 10**4] if quick else [2 * 10**4, 10**5]
ROWS = 1024  # rows per GEMM block: ROWS x N distances (800 MB at 1e5)


def gemm_search(x):
    """Each point's nearest other point: (index, distance)."""
    n = len(x)
    sq = np.einsum("ij,ij->i", x, x)
    idx = np.empty(n, dtype=np.int64)
    for a in range(0, n, ROWS):
        b = min(n, a + ROWS)
        d2 = sq[a:b, None] + sq[None, :] - 2.0 * (x[a:b] @ x.T)
        d2[np.arange(b - a), np.arange(a, b)] = np.inf
        idx[a:b] = np.argmin(d2, axis=1)
    # The winners' distances recomputed exactly (the GEMM form loses digits).
    dist = np.sqrt(((x - x[idx]) ** 2).sum(axis=1))
    return idx, dist


def run_parsim(path, out):
    loops, walls = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        r = subprocess.run(
            ["mpirun", "-n", "2", parsim, "pairs", "--points", path, "--bins", "0",
             "--algorithm", "ring", "--output", out, "--force", "--json", "--quiet"],
            capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - t)
        rep = json.loads(r.stdout)
        assert rep["passed"], rep
        loops.append(rep["wall_time_s"])
    with h5py.File(out) as f:
        return (statistics.median(loops), statistics.median(walls),
                f["pairs/nearest"][:], f["pairs/nearest_distance"][:])


def same(ia, da, ib, db):
    if not np.allclose(da, db, rtol=1e-12, atol=0):
        return False
    order = np.sort(db)
    tied = np.isin(db, order[1:][order[1:] == order[:-1]])
    return bool(np.all((ia == ib) | tied))


print(f"pairs {DIM}-D: the ring on 2 ranks vs a NumPy {np.__version__} GEMM search "
      f"(2 BLAS threads, blocks of {ROWS} rows, argmin, the winners rechecked exactly), "
      f"{repeat} repeats, medians [s]")
print(f"{'N':>8} {'ring loop':>10} {'ring proc':>10} {'gemm':>8} {'gemm/ring':>10} {'equal':>6}")
with tempfile.TemporaryDirectory(dir=os.environ.get("PARSIM_BENCH_TMP")) as tmp:
    for n in sizes:
        x = np.random.default_rng(1).random((n, DIM))
        path = os.path.join(tmp, "x.npy")
        np.save(path, x)
        ring = run_parsim(path, os.path.join(tmp, "r.h5"))
        ts = []
        for _ in range(repeat):
            t = time.perf_counter()
            gi, gd = gemm_search(x)
            ts.append(time.perf_counter() - t)
        g = statistics.median(ts)
        ok = same(ring[2], ring[3], gi, gd)
        print(f"{n:8} {ring[0]:10.3f} {ring[1]:10.3f} {g:8.3f} {g / ring[0]:9.2f}x {'yes' if ok else 'NO':>6}",
              flush=True)
