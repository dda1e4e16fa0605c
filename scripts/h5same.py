#!/usr/bin/env python3
"""h5same.py - are two parsim result files the same, bit for bit?

    python scripts/h5same.py A.h5 B.h5       exit 0 when equal, 1 (listing
                                              every difference) when not
    python scripts/h5same.py A.json B.json   the same for two --json reports
    python scripts/h5same.py --across-mpi A B  two builds against different MPIs:
                                              the MPI library they name may differ

Every group, dataset and attribute must exist in both with the same type,
shape and bytes. What only says how and when a file was made may differ:
the provenance attributes on / (commit, command line, start/end time, the
HDF5 library version), and
in the stored report JSON the timings, rates (any field named *_per_s)
and memory figures, and per-rank compute seconds; under mandelbrot's
dynamic schedule, which rank computed which rows. Every other report field
(validation, counts, parameters) must be equal too.
Used by scripts/compare-builds.sh to prove a refactor changed no result.
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
# these.
TIMING = {"wall_time_s", "phases", "peak_memory", "mlups", "version", "imbalance"}
# Datasets of timings (seconds per rank).
TIMING_DATASETS = {"mandelbrot/rank_compute_s"}
# What a dynamic schedule decides at run time (which rank took which rows):
# compared only when the schedule is static.
DYNAMIC = {"mandelbrot/row_rank", "mandelbrot/rank_iterations", "rank_iterations"}


def is_timing(key):
    return key in TIMING or key.endswith("_per_s") or key.endswith("_per_s_per_core")


def report_of(text):
    """The report JSON without its timing fields (nested ones too), and
    without what a dynamic schedule decided."""
    dynamic = '"schedule": "dynamic"' in text or '"schedule":"dynamic"' in text

    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items()
                    if not is_timing(k) and not (dynamic and k in DYNAMIC)}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    return strip(json.loads(text))


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
    for name in sorted(set(a.attrs) | set(b.attrs)):
        if root and (name in PROVENANCE or name in ignored):
            continue
        if name not in a.attrs or name not in b.attrs:
            out.append(f"{path}@{name}: only in {'B' if name not in a.attrs else 'A'}")
            continue
        va, vb = a.attrs[name], b.attrs[name]
        if root and name == "report":
            va, vb = report_of(va), report_of(vb)
            if va != vb:
                out.append(f"{path}@report differs beyond timings: {va} != {vb}")
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
    if len(argv) == 4 and argv[1] == "--across-mpi":
        ignored.update(ACROSS_MPI)
        argv = argv[:1] + argv[2:]
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) == 2 else 2
    # A file that cannot be read is one line naming it, exit 2 (1 means
    # "read both, and they differ").
    if argv[1].endswith(".json"):
        reports = []
        for name in argv[1:3]:
            try:
                with open(name) as f:
                    reports.append(report_of(f.read()))
            except (OSError, ValueError) as e:
                return cannot(name, e)
        ra, rb = reports
        out = [] if ra == rb else [f"reports differ beyond timings: {ra} != {rb}"]
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
            except Exception as e:  # a backstop: one line, not a traceback
                return cannot(f"{argv[1]} or {argv[2]}", f"{type(e).__name__}: {e}")
        finally:
            for f in files:
                f.close()
    for line in out:
        print(f"h5same: {line}")
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
