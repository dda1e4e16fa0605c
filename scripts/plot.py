#!/usr/bin/env python3
"""Plot a parsim result file; PNGs are written next to it.

    .venv/bin/python scripts/plot.py results/demo-heat.h5 [more files...]

What is drawn depends on what the file holds:
  /heat    the final temperature field (FILE-heat.png) and, with
           --snapshot-every, a strip of up to 6 snapshots on one colour scale
           (FILE-snapshots.png); a 3D field (heat --nz) as its middle plane
           along z
  /ou      per parameter set, the ensemble mean +- 2 sd against the
           theoretical curves (FILE-ou.png)
  /pi      the running estimate with its +-2 standard-error band (FILE-pi.png)
  /markov  fraction of days per state against the stationary law, and their
           differences with +-2 standard errors over the chains (FILE-markov.png)
  /mandelbrot  the escape-time image (log colour scale) beside the rows each
           rank computed, i.e. what the schedule did (FILE-mandelbrot.png)
  /integrate   the chunk sums' running total converging to the value
           (FILE-integrate.png)
  /pairs   the histogram of pair distances beside the nearest-neighbour
           distances; 2-D points drawn with the closest pair marked
           (FILE-pairs.png)

A file that cannot be plotted (not HDF5, a dataset or attribute missing, a
number out of range) is one line naming it and what is wrong; the files
after it are still plotted, and the exit status is 2.

Needs numpy, h5py and matplotlib: scripts/setup.sh --python puts them in .venv.
"""

import os
import sys
from pathlib import Path

try:
    import h5py
    import numpy as np
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:
    sys.exit(f"plot: error: {e.name} is missing for {sys.executable}; "
             "run scripts/setup.sh --python and use .venv/bin/python")


class Bad(Exception):
    """What is wrong with a result file, in one line (the file is named by
    the caller): a group, dataset or attribute missing, a number out of
    range, datasets that do not fit together."""


def attr_str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def attr(group, name):
    if name not in group.attrs:
        raise Bad(f"{group.name}: no attribute '{name}'")
    v = group.attrs[name]
    return v.decode() if isinstance(v, bytes) else v


def shown(v):
    """A value for a message: 2.5, nan, 'text' (not np.float64(2.5))."""
    return repr(v.item() if isinstance(v, np.generic) else v)


def num(group, name, lo=None, above=None, whole=False):
    """A numeric attribute, finite (a whole number if `whole`; >= lo, >
    above where given), or Bad naming it."""
    v = attr(group, name)
    try:
        x = float(v)
    except (TypeError, ValueError, OverflowError):
        raise Bad(f"{group.name}: attribute '{name}' is not a number ({shown(v)})")
    if not np.isfinite(x) or (whole and x != int(x)):
        raise Bad(f"{group.name}: attribute '{name}' must be a finite {'whole ' if whole else ''}number (got {shown(v)})")
    if (lo is not None and x < lo) or (above is not None and not x > above):
        bound = f"at least {lo}" if lo is not None else f"above {above}"
        raise Bad(f"{group.name}: attribute '{name}' must be {bound} (got {shown(v)})")
    return int(x) if whole else x


def member(group, name, kind=None):
    """group[name] (a dataset, or a group if kind is h5py.Group), or Bad."""
    kind = kind or h5py.Dataset
    if name not in group or not isinstance(group[name], kind):
        what = "group" if kind is h5py.Group else "dataset"
        raise Bad(f"{group.name}: no {what} '{name}'")
    return group[name]


def data(group, name, ndim=None, size=None):
    """A dataset's values (ndim dimensions, at least one element; `size`
    elements along the first if given), or Bad."""
    d = member(group, name)
    if ndim is not None and d.ndim != ndim:
        raise Bad(f"{d.name}: {d.ndim} dimension(s), not {ndim}")
    if d.size == 0 or d.dtype.kind not in "iufb":
        raise Bad(f"{d.name}: empty, or not numbers ({d.dtype}, shape {d.shape})")
    if size is not None and d.shape[0] != size:
        raise Bad(f"{d.name}: {d.shape[0]} values, not {size}")
    return d[...]


def units_of(d):
    """" [units]" from a dataset's attributes ("" for none or "1")."""
    units = attr(d, "units") if "units" in d.attrs else ""
    return f" [{units}]" if units and units != "1" else ""


def label(d, fallback):
    """An axis label from a dataset's own attributes: "long_name [units]",
    `fallback` for files without them."""
    return (attr(d, "long_name") if "long_name" in d.attrs else fallback) + units_of(d)


def save(fig, out, **kw):
    """The figure into `out` through a temporary file beside it: a plot
    that fails leaves no half-written PNG (nor an older one changed)."""
    if not kw:
        fig.tight_layout()
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        fig.savefig(tmp, dpi=110, format="png", **kw)
        os.replace(tmp, out)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()


def mid_plane(g):
    """A 3D file (attribute nz): the index of the middle plane along z and
    its words for a title; (None, "") for a 2D file."""
    if "nz" not in g.attrs:
        return None, ""
    nz, dz = num(g, "nz", lo=1, whole=True), num(g, "dz", above=0)
    k = nz // 2
    return k, f" (3D, {nz} planes: slice z = {(k + 1) * dz:.4g})"


def plot_heat(f, out):
    g = f["heat"]
    nx, ny = num(g, "nx", lo=1, whole=True), num(g, "ny", lo=1, whole=True)
    k, where = mid_plane(g)
    if k is None:
        t = data(g, "temperature", ndim=2, size=ny)
    else:
        d = member(g, "temperature")
        if d.ndim != 3 or d.shape[0] <= k or d.dtype.kind not in "iufb":
            raise Bad(f"{d.name}: shape {d.shape}, not nz x {ny} x {nx}")
        t = d[k]
        if t.shape[0] != ny:
            raise Bad(f"{d.name}: shape {d.shape}, not nz x {ny} x {nx}")
    if t.shape[1] != nx:
        raise Bad(f"{g.name}/temperature: shape {t.shape}, not {ny} x {nx}")
    dx, dy = num(g, "dx", above=0), num(g, "dy", above=0)
    walls = {k: wall(g, k) for k in ("left", "right", "bottom", "top")}
    steps, time, ranks = num(g, "steps", lo=0, whole=True), num(g, "time"), num(g, "ranks", lo=1, whole=True)
    x, y = member(g, "x"), member(g, "y")
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    # Row 0 is the bottom (y = dy): origin="lower"; cell centres at (i+1) dx.
    im = ax.imshow(t, origin="lower", cmap="inferno", interpolation="nearest",
                   extent=[0.5 * dx, (nx + 0.5) * dx, 0.5 * dy, (ny + 0.5) * dy])
    fig.colorbar(im, ax=ax, label=label(g["temperature"], "temperature"))
    ax.set_xlabel(label(x, "x"))
    ax.set_ylabel(label(y, "y"))
    extra = "".join(f", {k} {short(attr_str(g.attrs[k]))}" for k in ("source", "exact") if k in g.attrs)
    ax.set_title(f"heat ({short(attr(g, 'init'))}{extra}): {nx}x{ny}{where}, step {steps}, "
                 f"t = {time:.4g}\n{ranks} ranks, "
                 f"walls L {walls['left']} R {walls['right']} "
                 f"B {walls['bottom']} T {walls['top']}", fontsize=9)
    save(fig, out)


def wall(g, side):
    """A wall as the title shows it: its temperature, or its kind
    (insulated, periodic) or expression: bc_SIDE is NaN for those, and
    bc_SIDE_kind / bc_SIDE_expression say what it is."""
    kind = f"bc_{side}_kind"
    if kind not in g.attrs:
        return f"{num(g, f'bc_{side}'):g}"
    k = attr_str(g.attrs[kind])
    expr = g.attrs.get(f"bc_{side}_expression")
    return short(attr_str(expr)) if k == "expression" and expr is not None else k


def short(text, n=28):
    """A user's expression, cut for a title."""
    return text if len(text) <= n else text[: n - 3] + "..."


def plot_snapshots(f, out):
    g = f["heat"]
    snaps = member(g, "snapshots")
    kz, where = mid_plane(g)
    ndim = 3 if kz is None else 4
    if snaps.ndim != ndim or snaps.shape[0] == 0 or 0 in snaps.shape:
        raise Bad(f"{snaps.name}: no snapshots (shape {snaps.shape}, not steps x "
                  f"{'' if kz is None else 'nz x '}ny x nx)")
    n, ny, nx = snaps.shape[0], snaps.shape[-2], snaps.shape[-1]
    times = data(g, "snapshot_time", ndim=1, size=n)
    steps = data(g, "snapshot_step", ndim=1, size=n)
    every = num(snaps, "every", lo=1, whole=True)
    dx, dy = num(g, "dx", above=0), num(g, "dy", above=0)
    picks = sorted(set(np.linspace(0, n - 1, min(n, 6)).round().astype(int)))
    # Large grids: every k-th cell is plenty for a thumbnail (and reads
    # only what is drawn).
    k = max(1, max(nx, ny) // 600)
    frames = [snaps[i, ::k, ::k] if kz is None else snaps[i, kz, ::k, ::k] for i in picks]
    lo = min(float(fr.min()) for fr in frames)
    hi = max(float(fr.max()) for fr in frames)
    fig, axes = plt.subplots(1, len(picks), figsize=(2.6 * len(picks) + 0.8, 3.0),
                             squeeze=False)
    for ax, i, fr in zip(axes[0], picks, frames):
        im = ax.imshow(fr, origin="lower", cmap="inferno", vmin=lo, vmax=hi,
                       interpolation="nearest",
                       extent=[0.5 * dx, (nx + 0.5) * dx, 0.5 * dy, (ny + 0.5) * dy])
        ax.set_title(f"step {int(steps[i])}\n"
                     f"t = {times[i]:.3g}{units_of(g['snapshot_time']).replace('[', '').replace(']', '')}",
                     fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[0].tolist(), label=label(snaps, "temperature"), shrink=0.85)
    fig.suptitle(f"heat snapshots: {nx}x{ny}{where}, every {every} steps "
                 f"({n} stored)", fontsize=10)
    save(fig, out, bbox_inches="tight")


def plot_ou(f, out):
    g = f["ou"]
    sets = sorted(k for k in g if k.startswith("set_"))[:6]
    if not sets:
        raise Bad(f"{g.name}: no parameter sets (groups set_000, set_001, ...)")
    cols = min(3, len(sets))
    rows = (len(sets) + cols - 1) // cols
    checked = []
    for name in sets:  # everything read and checked before anything is drawn
        s = member(g, name, h5py.Group)
        t = data(s, "time", ndim=1)
        mean, var = data(s, "mean", ndim=1, size=len(t)), data(s, "variance", ndim=1, size=len(t))
        tau, sigma, x0 = num(s, "tau", above=0), num(s, "sigma", lo=0), num(s, "x0")
        members = num(s, "members", lo=1, whole=True)
        paths = member(s, "paths") if "paths" in s else None
        if paths is not None and (paths.ndim != 2 or paths.shape[1] != len(t)):
            raise Bad(f"{paths.name}: shape {paths.shape}, not paths x {len(t)} times")
        checked.append((name, s, t, mean, var, tau, sigma, x0, members, paths))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    for ax, (name, s, t, mean, var, tau, sigma, x0, members, paths) in zip(axes.flat, checked):
        th_mean = x0 * np.exp(-t / tau)
        th_sd = sigma * np.sqrt(1 - np.exp(-2 * t / tau))
        sd = np.sqrt(np.maximum(var, 0))
        ax.fill_between(t, mean - 2 * sd, mean + 2 * sd, alpha=0.3, label="ensemble mean ± 2 sd")
        ax.plot(t, mean, lw=1.2, label="ensemble mean")
        ax.plot(t, th_mean, "k--", lw=1, label="theory mean")
        ax.plot(t, th_mean + 2 * th_sd, "k:", lw=1, label="theory ± 2 sd")
        ax.plot(t, th_mean - 2 * th_sd, "k:", lw=1)
        if paths is not None:
            # A few paths, thin and behind the band, so the band stays readable.
            shown = paths[: min(3, paths.shape[0])]
            for k, p in enumerate(shown):
                ax.plot(t, p, lw=0.3, alpha=0.35, color="0.4", zorder=0,
                        label=f"{len(shown)} of {paths.shape[0]} paths" if k == 0 else None)
        ax.set_title(f"{name}: tau={tau:g} sigma={sigma:g} x0={x0:g} "
                     f"({members} paths)", fontsize=9)
        ax.set_xlabel(label(s["time"], "t"))
        ax.set_ylabel("x")
        if t[-1] > 20 * tau:
            # Long runs: linear up to tau, logarithmic beyond, so the
            # relaxation and the stationary state both show.
            ax.set_xscale("symlog", linthresh=tau)
    for ax in list(axes.flat)[len(sets):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Ornstein-Uhlenbeck ensemble: fan chart against theory")
    save(fig, out)


def plot_pi(f, out):
    g = f["pi"]
    hits = data(g, "chunk_hits", ndim=1).astype(np.float64)
    samples, chunk = num(g, "samples", lo=1, whole=True), num(g, "chunk", lo=1, whole=True)
    if not chunk * (len(hits) - 1) < samples <= chunk * len(hits):
        raise Bad(f"{g.name}: {len(hits)} chunks of {chunk} do not make {samples} samples")
    estimate, z = num(g, "estimate"), num(g, "z")
    sizes = np.full(len(hits), chunk, dtype=np.float64)
    sizes[-1] = samples - chunk * (len(hits) - 1)
    n = np.cumsum(sizes)
    est = 4 * np.cumsum(hits) / n
    p = np.pi / 4
    se = 4 * np.sqrt(p * (1 - p) / n)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.fill_between(n, np.pi - 2 * se, np.pi + 2 * se, color="gray", alpha=0.3, label="pi ± 2 standard errors")
    ax.plot(n, est, lw=1.2, label="running estimate")
    ax.axhline(np.pi, color="k", lw=0.8, label="pi")
    ax.set_xscale("log")
    ax.set_xlabel("samples")
    ax.set_ylabel("estimate of pi")
    ax.set_title(f"pi: {estimate:.8f} from {samples:.3g} samples, "
                 f"z = {z:+.2f}")
    ax.legend()
    save(fig, out)


def vector(group, name, length):
    """A numeric attribute holding `length` finite numbers, or Bad."""
    v = np.atleast_1d(np.asarray(attr(group, name)))
    if v.dtype.kind not in "iuf" or v.shape != (length,) or not np.all(np.isfinite(v)):
        raise Bad(f"{group.name}: attribute '{name}' must be {length} finite numbers (got {v!r})")
    return v


def plot_markov(f, out):
    """Fractions against the stationary law, for the built-in chain or a
    user's --matrix of any size (a chain not validated has no law or z)."""
    g = f["markov"]
    names = ([attr_str(v) for v in g["state"][...]] if "state" in g
             else ["bull", "bear", "recession"])
    n = len(names)
    validated = int(g.attrs.get("validated", 1)) == 1
    frac = vector(g, "fractions", n)
    theory = vector(g, "stationary_theory", n) if validated else None
    chains, days = num(g, "chains", lo=1, whole=True), num(g, "days", lo=1, whole=True)
    state_days = data(g, "state_days", ndim=2, size=chains)
    if state_days.shape[1] != n:
        raise Bad(f"{g.name}/state_days: shape {state_days.shape}, not {chains} x {n}")
    zs = np.atleast_1d(np.asarray(attr(g, "z")))
    if validated and (zs.dtype.kind not in "iuf" or not np.all(np.isfinite(zs))):
        raise Bad(f"{g.name}: attribute 'z' must be finite numbers (got {zs!r})")
    x = np.arange(n)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax.bar(x - 0.2, frac, 0.4, label="simulated")
    if theory is not None:
        ax.bar(x + 0.2, theory, 0.4, label="stationary law")
    ax.set_xticks(x, names)
    ax.set_ylabel("fraction of days")
    ax.set_title(f"Markov chain ({n} states): {chains} chains x {days} days")
    ax.legend()
    # The differences, which the bars cannot show: each state's fraction
    # minus the law, with 2 standard errors over the chains.
    per_chain = state_days / days
    se = per_chain.std(axis=0, ddof=1) / np.sqrt(chains) if chains > 1 else np.zeros(n)
    if theory is not None:
        ax2.errorbar(x, frac - theory, yerr=2 * se, fmt="o", capsize=6,
                     label="simulated - law, ± 2 se")
        ax2.axhline(0, color="k", lw=0.8)
        ax2.set_ylabel("fraction of days - stationary law")
        title = (f"z = {', '.join(f'{z:+.2f}' for z in zs)}" if n <= 6
                 else f"largest |z| = {np.max(np.abs(zs)):.2f}")
        ax2.set_title(title)
        ax2.legend(fontsize=8)
    else:
        ax2.set_title("not validated: " + attr_str(g.attrs.get("validation_note", ""))[:60])
    ax2.set_xticks(x, names)
    save(fig, out)


def plot_mandelbrot(f, out):
    g = f["mandelbrot"]
    img = data(g, "iterations", ndim=2)
    x, y = data(g, "x", ndim=1, size=img.shape[1]), data(g, "y", ndim=1, size=img.shape[0])
    m = num(g, "max_iter", lo=1, whole=True)
    area = num(g, "area_estimate")
    rows = data(g, "row_rank", ndim=1, size=img.shape[0])
    schedule = attr_str(attr(g, "schedule"))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.6, 4.2), width_ratios=[5, 1])
    shown = np.log1p(np.where(img >= m, 0, img + 1))
    ax.imshow(shown, origin="lower", cmap="magma",
              extent=[x[0], x[-1] + (x[1] - x[0] if len(x) > 1 else 0), y[0], y[-1] + (y[1] - y[0] if len(y) > 1 else 0)])
    ax.set_xlabel(label(g["x"], "Re c"))
    ax.set_ylabel(label(g["y"], "Im c"))
    ax.set_title(f"Mandelbrot {img.shape[1]} x {img.shape[0]}, max-iter {m}: "
                 f"area estimate {area:.5f}")
    cost = np.minimum(img + 1, m).sum(axis=1)
    for r in np.unique(rows):
        sel = rows == r
        ax2.barh(np.nonzero(sel)[0], cost[sel], height=1.0, label=f"rank {r}")
    ax2.set_xlabel("iterations per row")
    ax2.set_ylabel("row")
    ax2.set_title(f"{schedule} schedule")
    ax2.legend(fontsize=7)
    save(fig, out)


def plot_integrate(f, out):
    g = f["integrate"]
    sums = data(g, "chunk_sums", ndim=1)
    a, b, n = num(g, "a"), num(g, "b"), num(g, "n", lo=1, whole=True)
    rule, fn = attr_str(attr(g, "rule")), attr_str(attr(g, "f"))
    integral, value = num(g, "integral"), num(g, "value")
    h = (b - a) / n * (1 / 3 if rule == "simpson" else 1)
    total = np.cumsum(sums) * h
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(np.arange(1, len(sums) + 1), total, lw=1.2, label="running total of the chunk sums")
    ax.axhline(integral, color="k", lw=0.8, label="integral")
    ax.set_xlabel("chunks (in order)")
    ax.set_ylabel("sum so far")
    ax.set_title(f"integrate {fn} on [{a:g}, {b:g}], {rule} rule: "
                 f"{value:.12g}")
    ax.legend()
    save(fig, out)


def plot_pairs(f, out):
    g = f["pairs"]
    n, dim = num(g, "n", lo=2, whole=True), num(g, "dim", lo=1, whole=True)
    pts = data(g, "points", ndim=2, size=n)
    if pts.shape[1] != dim:
        raise Bad(f"{g.name}/points: shape {pts.shape}, not {n} x {dim}")
    nn = data(g, "nearest_distance", ndim=1, size=n)
    ci, cj = num(g, "closest_i", lo=0, whole=True), num(g, "closest_j", lo=0, whole=True)
    if ci >= n or cj >= n:
        raise Bad(f"{g.name}: closest pair ({ci}, {cj}) is not among the {n} points")
    closest = num(g, "closest_distance", lo=0)
    if "histogram" in g:
        counts = data(g, "histogram", ndim=1)
        edges = data(g, "bin_edges", ndim=1, size=len(counts) + 1)
    panels = 2 + (dim == 2) + ("histogram" in g)
    fig, axes = plt.subplots(1, panels - 1, figsize=(4.4 * (panels - 1), 4.0))
    axes = list(np.atleast_1d(axes))
    if "histogram" in g:
        ax = axes.pop(0)
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge")
        ax.set_xlabel("pair distance" + units_of(g["bin_edges"]))
        ax.set_ylabel("pairs per bin")
        ax.set_title(f"{counts.sum()} pairs of {n} points in {dim}-D")
    ax = axes.pop(0)
    ax.hist(nn, bins=min(100, max(10, n // 50)))
    ax.set_xlabel("distance to the nearest neighbour")
    ax.set_ylabel("points")
    ax.set_title(f"closest pair ({ci}, {cj}): {closest:.4g}")
    if dim == 2:
        ax = axes.pop(0)
        ax.scatter(pts[:, 0], pts[:, 1], s=2, lw=0, color="0.5")
        ax.scatter(pts[[ci, cj], 0], pts[[ci, cj], 1], s=40, facecolors="none", edgecolors="r",
                   label=f"closest pair ({ci}, {cj})")
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(fontsize=7, loc="upper right")
    save(fig, out)


# The plot of each workload's group, by the group's name (a workload's
# group is its name: `parsim workloads --json` gives both).
PLOTS = {"heat": plot_heat, "ou": plot_ou, "pi": plot_pi, "markov": plot_markov,
         "mandelbrot": plot_mandelbrot, "integrate": plot_integrate, "pairs": plot_pairs}


def main(argv):
    import argparse

    ap = argparse.ArgumentParser(prog="scripts/plot.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", metavar="FILE.h5", help="parsim result files")
    files = ap.parse_args(argv).files
    status = 0
    for name in files:
        path = Path(name)
        try:
            status = max(status, plot_file(path))
        except Bad as e:
            print(f"plot: error: {path}: {e}", file=sys.stderr)
            status = 2
        except OSError as e:
            print(f"plot: error: cannot read {path}: {e}", file=sys.stderr)
            status = 2
        except Exception as e:  # a backstop: one line, and on to the next file
            print(f"plot: error: {path}: cannot plot it ({type(e).__name__}: {e})", file=sys.stderr)
            status = 2
        finally:
            plt.close("all")
    return status


def plot_file(path):
    """Every plot of one result file; its exit status (2: not a result file)."""
    with h5py.File(path, "r") as f:
        # A parsim result file: its workload's group beside the
        # run's provenance on / (parsim_version).
        groups = [k for k in f if isinstance(f[k], h5py.Group)]
        if "parsim_version" not in f.attrs or not groups:
            print(f"plot: error: {path}: no parsim results (a result file has its workload's "
                  "group, e.g. /heat: `parsim workloads` lists them)", file=sys.stderr)
            return 2
        found = [(g, PLOTS[g]) for g in groups if g in PLOTS]
        for g in groups:
            if g not in PLOTS:
                print(f"plot: note: {path}: no plot for /{g} yet (add one to PLOTS)", file=sys.stderr)
        if "heat" in groups and "snapshots" in f["heat"]:
            found.append(("snapshots", plot_snapshots))
        for kind, draw in found:
            out = path.with_name(f"{path.stem}-{kind}.png")
            draw(f, out)
            print(f"plot: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
