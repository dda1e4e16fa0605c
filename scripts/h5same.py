#!/usr/bin/env python3
"""h5same.py - are two parsim result files the same, bit for bit?

    python scripts/h5same.py A.h5 B.h5       exit 0 when equal, 1 (listing
                                              every difference) when not
    python scripts/h5same.py A.json B.json   the same for two --json reports
    python scripts/h5same.py --across-mpi A B  two builds against different MPIs:
                                              the MPI library they name may differ
    python scripts/h5same.py --across-ranks A B  one case run on different rank
                                              counts: what describes the ranks may differ

Every group, dataset and attribute must exist in both with the same type,
shape and bytes. What only says how and when a file was made may differ:
the provenance attributes on / (commit, command line, start/end time, the
HDF5 library version), and
in the stored report JSON the timings, rates (any field named *_per_s)
and memory figures, and per-rank compute seconds; under mandelbrot's
dynamic schedule, which rank computed which rows. Every other report field
(validation, counts, parameters) must be equal too.
Used by scripts/compare-builds.sh to prove a refactor changed no result.

--across-ranks: runs of one build on different rank counts (or process
grids, threads, time blocks). Every report key the report itself lists in
`run_keys` (the ranks, hosts, process grid, how the loop ran, timings,
rates, memory: src/report.rs RUN_KEYS, docs/user-guide.md) may differ; so
may what a file records about its ranks (ACROSS_RANKS below). Everything
else, every dataset and every other report number, must be equal.
`run_keys` itself is never compared (it only names keys that are there).
"""
import json
import sys

import h5py
import numpy as np

# Attributes on / that record provenance, not results.
PROVENANCE = {"git_commit", "command_line", "start_time", "end_time", "parsim_version",
              "hdf5_library"}
# Report fields that measure the run rather than its result: every rate
# (a name ending in _per_s or _per_s_per_core, whatever the workload), and
# these (and integrate's evaluator and pairs' algorithm: how the same bits
# were computed, not a result).
TIMING = {"wall_time_s", "phases", "peak_memory", "mlups", "version", "imbalance", "evaluator",
          "algorithm"}
# Datasets of timings (seconds per rank).
TIMING_DATASETS = {"mandelbrot/rank_compute_s"}
# What a dynamic schedule decides at run time (which rank took which rows):
# compared only when the schedule is static.
DYNAMIC = {"mandelbrot/row_rank", "mandelbrot/rank_iterations", "rank_iterations"}


# With --across-ranks: what a result file records about the ranks that
# wrote it (attributes by group, and per-rank datasets).
ACROSS_RANKS_ATTRS = {"/": {"hostnames", "mpi_ranks"}, "/heat": {"proc_grid", "ranks"}}
ACROSS_RANKS_DATASETS = {"mandelbrot/rank", "mandelbrot/rank_iterations",
                         "mandelbrot/row_rank", "mandelbrot/rank_compute_s"}
across_ranks = False


def is_timing(key):
    return key in TIMING or key.endswith("_per_s") or key.endswith("_per_s_per_core")


class NoRunKeys(Exception):
    pass


def report_of(text):
    """The report JSON without its timing fields (nested ones too), and
    without what a dynamic schedule decided; with --across-ranks, without
    the keys it lists in run_keys."""
    dynamic = '"schedule": "dynamic"' in text or '"schedule":"dynamic"' in text
    report = json.loads(text)
    run_keys = report.get("run_keys") if isinstance(report, dict) else None
    if across_ranks:
        if run_keys is None:
            raise NoRunKeys("a report without run_keys (from a parsim before they were listed)")
        report = {k: x for k, x in report.items() if k not in run_keys}

    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items()
                    if not is_timing(k) and not (dynamic and k in DYNAMIC)}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    report = strip(report)
    if isinstance(report, dict):
        report.pop("run_keys", None)
    return report


def report_diff(a, b, path="report"):
    """Where two stripped reports differ: one line per differing leaf."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [line for k in sorted(set(a) | set(b))
                for line in (report_diff(a[k], b[k], f"{path}.{k}") if k in a and k in b
                             else [f"{path}.{k}: only in {'A' if k in a else 'B'}"])]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b))
                for line in report_diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def same_value(a, b):
    if isinstance(a, bytes) or isinstance(a, str):
        return a == b
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind in "OSU":
        return a.tolist() == b.tolist()
    return a.tobytes() == b.tobytes()


# With --across-mpi: what names the MPI library (which is the point of
# comparing two MPIs' builds).
ACROSS_MPI = {"mpi_library"}
ignored = set()


def attrs_diff(path, a, b, root):
    out = []
    skip = ACROSS_RANKS_ATTRS.get(path, set()) if across_ranks else set()
    for name in sorted(set(a.attrs) | set(b.attrs)):
        if (root and (name in PROVENANCE or name in ignored)) or name in skip:
            continue
        if name not in a.attrs or name not in b.attrs:
            out.append(f"{path}@{name}: only in {'B' if name not in a.attrs else 'A'}")
            continue
        va, vb = a.attrs[name], b.attrs[name]
        if root and name == "report":
            va, vb = report_of(va), report_of(vb)
            if va != vb:
                beyond = "beyond the ranks and timings" if across_ranks else "beyond timings"
                out += [f"{path}@{line} ({beyond})" for line in report_diff(va, vb)]
            continue
        if isinstance(va, h5py.Reference) or name in ("DIMENSION_LIST", "REFERENCE_LIST"):
            continue  # dimension-scale plumbing: object references, not values
        if not same_value(va, vb):
            out.append(f"{path}@{name}: {va!r} != {vb!r}")
    return out


def diff(a, b):
    out = attrs_diff("/", a, b, root=True)
    names_a, names_b = set(), set()
    a.visit(names_a.add)
    b.visit(names_b.add)
    for name in sorted(names_a ^ names_b):
        out.append(f"/{name}: only in {'A' if name in names_a else 'B'}")
    dynamic = "mandelbrot" in a and a["mandelbrot"].attrs.get("schedule") in ("dynamic", b"dynamic")
    for name in sorted(names_a & names_b):
        if name in TIMING_DATASETS or (dynamic and name in DYNAMIC):
            continue
        if across_ranks and name in ACROSS_RANKS_DATASETS:
            continue
        oa, ob = a[name], b[name]
        if type(oa) is not type(ob):
            out.append(f"/{name}: a {type(oa).__name__} in A, a {type(ob).__name__} in B")
            continue
        out += attrs_diff(f"/{name}", oa, ob, root=False)
        if isinstance(oa, h5py.Dataset):
            if oa.dtype != ob.dtype or oa.shape != ob.shape:
                out.append(f"/{name}: {oa.dtype}{oa.shape} != {ob.dtype}{ob.shape}")
            elif not same_value(oa[()], ob[()]):
                out.append(f"/{name}: values differ")
    return out


def cannot(name, why):
    print(f"h5same: error: cannot read {name}: {why}", file=sys.stderr)
    return 2


def main(argv):
    global across_ranks
    if len(argv) == 4 and argv[1] == "--across-mpi":
        ignored.update(ACROSS_MPI)
        argv = argv[:1] + argv[2:]
    elif len(argv) == 4 and argv[1] == "--across-ranks":
        across_ranks = True
        argv = argv[:1] + argv[2:]
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    # A file that cannot be read is one line naming it, exit 2 (1 means
    # "read both, and they differ").
    beyond = "beyond the ranks and timings" if across_ranks else "beyond timings"
    try:
        if argv[1].endswith(".json"):
            reports = []
            for name in argv[1:3]:
                try:
                    with open(name) as f:
                        reports.append(report_of(f.read()))
                except (OSError, ValueError) as e:
                    return cannot(name, e)
            ra, rb = reports
            out = [f"{line} ({beyond})" for line in report_diff(ra, rb)]
        else:
            files = []
            try:
                for name in argv[1:3]:
                    try:
                        files.append(h5py.File(name, "r"))
                    except OSError as e:
                        return cannot(name, e)
                try:
                    out = diff(*files)
                except NoRunKeys:
                    raise
                except Exception as e:  # a backstop: one line, not a traceback
                    return cannot(f"{argv[1]} or {argv[2]}", f"{type(e).__name__}: {e}")
            finally:
                for f in files:
                    f.close()
    except NoRunKeys as e:
        print(f"h5same: --across-ranks: {e}")
        return 2
    for line in out:
        print(f"h5same: {line}")
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
