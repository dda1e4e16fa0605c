#!/usr/bin/env python3
"""gather.py - a parameter sweep's results, one file per run (a job array's,
jobs/sweep.sbatch), gathered into one HDF5 file.

    python scripts/gather.py OUT.h5 sweep-1234            every result in the folder
    python scripts/gather.py OUT.h5 a.h5 b.h5 ...         these results
    python scripts/gather.py --param tau OUT.h5 sweep-1234
    python scripts/gather.py --force OUT.h5 ...           replace an existing OUT.h5

OUT.h5 holds every run whole under /runs/<name> (<name>: the file's name
without .h5, e.g. tau-0; its groups, datasets and the provenance attributes
of its /, the stored report among them), and /sweep, the table: one row per
run, in the order of the runs' numbers (tau-0, tau-1, ..., tau-10):
/sweep/run (the names), /sweep/<param> (the swept value, read from each
run's recorded command line) and one column per main result, taken from
each run's stored report (pi: estimate and stderr; ou: the final mean and
variance of each parameter set; heat: the final average, minimum and
maximum; integrate: value; mandelbrot: the area; pairs: the mean nearest
distance; markov: the fraction of days in each state).

The swept option is --param, else the common prefix of the file names
(<param>-<i>.h5, as jobs/sweep.sbatch names them). A folder gives its
*.h5 files except checkpoints (*.ckpt.h5).

Refused, with one line and exit 2, before anything is written: a file that
is not a parsim result (no stored report), results of different workloads,
two runs of one name, an OUT.h5 that exists (without --force) or is among
the inputs. OUT.h5 is written to a temporary file next to it and renamed
into place, so it is never half-written.
"""
import argparse
import json
import os
import re
import shlex
import sys
import tempfile

import h5py
import numpy as np

# Provenance attributes of a result's /, kept on its /runs/<name>.
ROOT_ATTRS = ("report", "command_line", "git_commit", "parsim_version", "start_time",
              "end_time", "mpi_ranks", "mpi_library", "hdf5_library", "hostnames")


class Refusal(Exception):
    """A bad input: its one line, printed as `gather: ...`, exit 2."""


def results(inputs):
    """The result files named: each file as given, a folder's *.h5 (not
    its checkpoints), in the natural order of their names."""
    files = []
    for path in inputs:
        if os.path.isdir(path):
            found = [os.path.join(path, f) for f in os.listdir(path)
                     if f.endswith(".h5") and not f.endswith(".ckpt.h5")]
            if not found:
                raise Refusal(f"{path}: no .h5 results in this folder")
            files += found
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise Refusal(f"{path}: no such file or folder")
    return sorted(files, key=natural)


def natural(path):
    """tau-2 before tau-10: digit runs compared as numbers."""
    name = os.path.basename(path)
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def run_name(path):
    name = os.path.basename(path)
    return name[:-3] if name.endswith(".h5") else name


def read_report(path):
    """The stored report of a parsim result (the JSON on its /)."""
    try:
        with h5py.File(path, "r") as f:
            text = f.attrs.get("report")
    except OSError:
        raise Refusal(f"{path}: not an HDF5 file (a parsim result is)") from None
    if isinstance(text, bytes):
        text = text.decode()
    try:
        report = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict) or "workload" not in report:
        raise Refusal(f"{path}: not a parsim result (no stored report on /)")
    return report


def main_results(report):
    """A run's main results, from its stored report: [(column, value)]."""
    w = report["workload"]
    if w == "pi":
        return [("estimate", report["estimate"]), ("stderr", report["stderr"])]
    if w == "ou":
        sets = report.get("sets", [])
        one = len(sets) == 1
        cols = []
        for k, s in enumerate(sets):
            tail = "" if one else f"_{k}"
            cols += [("final_mean" + tail, s["mean"]), ("final_variance" + tail, s["variance"])]
        return cols
    if w == "heat":
        v = report.get("validation") or {}
        return [(f"final_{k}", v[f"final_{k}"]) for k in ("average", "min", "max")
                if isinstance(v.get(f"final_{k}"), (int, float))]
    if w == "integrate":
        return [("value", report["value"])]
    if w == "mandelbrot":
        return [("area", report["area"]["estimate"])]
    if w == "pairs":
        return [("mean_nearest_distance", report["mean_nearest_distance"])]
    if w == "markov":
        return [(f"fraction_{s}", x) for s, x in zip(report["states"], report["fractions"])]
    return []


def swept_value(path, param):
    """The value of --PARAM on the run's recorded command line (None if absent)."""
    with h5py.File(path, "r") as f:
        line = f.attrs.get("command_line", "")
    if isinstance(line, bytes):
        line = line.decode()
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    value = None
    for k, word in enumerate(words):
        if word == f"--{param}" and k + 1 < len(words):
            value = words[k + 1]
        elif word.startswith(f"--{param}="):
            value = word.split("=", 1)[1]
    return value


def infer_param(files):
    """The common <param> of files named <param>-<i>.h5, or None."""
    names = {re.fullmatch(r"(.+)-\d+", run_name(p)) for p in files}
    prefixes = {m.group(1) for m in names if m}
    if len(prefixes) == 1 and all(names):
        return prefixes.pop()
    return None


def check(out, files, force):
    """Every refusal, before anything is written: the workload of the runs."""
    if not files:
        raise Refusal("no results given")
    out_real = os.path.realpath(out)
    if any(os.path.realpath(p) == out_real for p in files):
        raise Refusal(f"{out} is one of the inputs: name another output")
    if os.path.exists(out) and not force:
        raise Refusal(f"{out} exists; pass --force to replace it")
    seen = {}
    workload = None
    for p in files:
        name = run_name(p)
        if name in seen:
            if os.path.realpath(seen[name]) == os.path.realpath(p):
                raise Refusal(f"{p} is given twice")
            raise Refusal(f"two runs named {name}: {seen[name]} and {p}")
        seen[name] = p
        w = read_report(p)["workload"]
        if workload is None:
            workload, first = w, p
        elif w != workload:
            raise Refusal(f"results of two workloads: {workload} in {first}, {w} in {p}: "
                          "gather the runs of one workload")
    return workload


def table(files, param):
    """The sweep's table: {column: values} in the runs' order."""
    cols = {"run": [run_name(p) for p in files]}
    if param:
        values = [swept_value(p, param) for p in files]
        if all(v is not None for v in values):
            try:
                cols[param] = [float(v) for v in values]
            except ValueError:
                cols[param] = values
    rows = [dict(main_results(read_report(p))) for p in files]
    for key in dict.fromkeys(k for r in rows for k in r):
        cols[key] = [float(r.get(key, np.nan)) for r in rows]
    return cols


def reattach_scales(src, dst):
    """The dimension scales of SRC (a result file) attached again in DST,
    its copy: HDF5 copies the references that tie a dataset to its scales
    (DIMENSION_LIST, REFERENCE_LIST) pointing into the old file, so the copy
    would have broken dimensions (xarray and ParaView read them)."""
    datasets = []
    src.visititems(lambda name, obj: datasets.append(name)
                   if isinstance(obj, h5py.Dataset) else None)
    for name in datasets:
        for attr in ("DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"):
            if attr in dst[name].attrs:
                del dst[name].attrs[attr]
    for name in datasets:
        ds = src[name]
        if ds.attrs.get("CLASS") in (b"DIMENSION_SCALE", "DIMENSION_SCALE"):
            label = ds.attrs.get("NAME", b"")
            dst[name].make_scale(label.decode() if isinstance(label, bytes) else label)
    for name in datasets:
        ds = src[name]
        if "DIMENSION_LIST" not in ds.attrs:
            continue
        for i, dim in enumerate(ds.dims):
            for scale in dim.values():
                dst[name].dims[i].attach_scale(dst[scale.name.lstrip("/")])


def write(out, files, workload, param, cols):
    """OUT.h5 written beside itself and renamed into place."""
    folder = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix=".gather-", suffix=".h5", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as dst:
            dst.attrs["workload"] = workload
            dst.attrs["runs"] = len(files)
            runs = dst.create_group("runs")
            for p in files:
                g = runs.create_group(run_name(p))
                with h5py.File(p, "r") as src:
                    for key in src:
                        src.copy(src[key], g, name=key)
                    reattach_scales(src, g)
                    for key in ROOT_ATTRS:
                        if key in src.attrs:
                            g.attrs[key] = src.attrs[key]
                    g.attrs["source"] = os.path.abspath(p)
            sweep = dst.create_group("sweep")
            if param:
                sweep.attrs["param"] = param
            for key, values in cols.items():
                if values and isinstance(values[0], str):
                    sweep.create_dataset(key, data=np.array(values, dtype=h5py.string_dtype()))
                else:
                    sweep.create_dataset(key, data=np.array(values, dtype=np.float64))
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    ap = argparse.ArgumentParser(
        prog="gather.py", description="Gather a sweep's parsim results into one HDF5 file.")
    ap.add_argument("out", metavar="OUT.h5")
    ap.add_argument("inputs", nargs="+", metavar="DIR-or-FILE")
    ap.add_argument("--param", help="the swept option, without dashes (default: from the file names)")
    ap.add_argument("--force", action="store_true", help="replace an existing OUT.h5")
    args = ap.parse_args(argv)
    try:
        files = results(args.inputs)
        workload = check(args.out, files, args.force)
        param = args.param or infer_param(files)
        cols = table(files, param)
        if param and param not in cols:
            if args.param:
                raise Refusal(f"--{param} is not on every run's recorded command line")
            param = None
        write(args.out, files, workload, param, cols)
    except Refusal as e:
        print(f"gather: {e}", file=sys.stderr)
        return 2
    print(f"gather: {len(files)} {workload} runs into {args.out}"
          + (f", swept over {param}" if param else ""))
    width = max(len(k) for k in cols)
    for key, values in cols.items():
        shown = "  ".join(v if isinstance(v, str) else f"{v:.6g}" for v in values)
        print(f"  {key:<{width}}  {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
