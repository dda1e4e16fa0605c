#!/usr/bin/env python3
"""Plot a parsim result file; PNGs are written next to it.

    .venv/bin/python scripts/plot.py results/demo-heat.h5 [more files...]

What is drawn depends on what the file holds:
  /heat    the final temperature field (FILE-heat.png) and, with
           --snapshot-every, a strip of up to 6 snapshots on one colour scale
           (FILE-snapshots.png)
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

Needs numpy, h5py and matplotlib: scripts/setup.sh --python puts them in .venv.
"""

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


def attr_str(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def attr(group, name):
    v = group.attrs[name]
    return v.decode() if isinstance(v, bytes) else v


def units_of(d):
    """" [units]" from a dataset's attributes ("" for none or "1")."""
    units = attr(d, "units") if "units" in d.attrs else ""
    return f" [{units}]" if units and units != "1" else ""


def label(d, fallback):
    """An axis label from a dataset's own attributes: "long_name [units]",
    `fallback` for files without them."""
    return (attr(d, "long_name") if "long_name" in d.attrs else fallback) + units_of(d)


def save(fig, out):
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_heat(f, out):
    g = f["heat"]
    t = g["temperature"][...]
    nx, ny = int(attr(g, "nx")), int(attr(g, "ny"))
    dx, dy = float(attr(g, "dx")), float(attr(g, "dy"))
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    # Row 0 is the bottom (y = dy): origin="lower"; cell centres at (i+1) dx.
    im = ax.imshow(t, origin="lower", cmap="inferno", interpolation="nearest",
                   extent=[0.5 * dx, (nx + 0.5) * dx, 0.5 * dy, (ny + 0.5) * dy])
    fig.colorbar(im, ax=ax, label=label(g["temperature"], "temperature"))
    ax.set_xlabel(label(g["x"], "x"))
    ax.set_ylabel(label(g["y"], "y"))
    ax.set_title(f"heat ({attr(g, 'init')}): {nx}x{ny}, step {int(attr(g, 'steps'))}, "
                 f"t = {float(attr(g, 'time')):.4g}\n{int(attr(g, 'ranks'))} ranks, "
                 f"walls L {attr(g, 'bc_left'):g} R {attr(g, 'bc_right'):g} "
                 f"B {attr(g, 'bc_bottom'):g} T {attr(g, 'bc_top'):g}")
    save(fig, out)


def plot_snapshots(f, out):
    g = f["heat"]
    snaps, times = g["snapshots"], g["snapshot_time"][...]
    n, ny, nx = snaps.shape
    dx, dy = float(attr(g, "dx")), float(attr(g, "dy"))
    picks = sorted(set(np.linspace(0, n - 1, min(n, 6)).round().astype(int)))
    # Large grids: every k-th cell is plenty for a thumbnail (and reads
    # only what is drawn).
    k = max(1, max(nx, ny) // 600)
    frames = [snaps[i, ::k, ::k] for i in picks]
    lo = min(float(fr.min()) for fr in frames)
    hi = max(float(fr.max()) for fr in frames)
    fig, axes = plt.subplots(1, len(picks), figsize=(2.6 * len(picks) + 0.8, 3.0),
                             squeeze=False)
    for ax, i, fr in zip(axes[0], picks, frames):
        im = ax.imshow(fr, origin="lower", cmap="inferno", vmin=lo, vmax=hi,
                       interpolation="nearest",
                       extent=[0.5 * dx, (nx + 0.5) * dx, 0.5 * dy, (ny + 0.5) * dy])
        ax.set_title(f"step {int(g['snapshot_step'][i])}\n"
                     f"t = {times[i]:.3g}{units_of(g['snapshot_time']).replace('[', '').replace(']', '')}",
                     fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[0].tolist(), label=label(snaps, "temperature"), shrink=0.85)
    fig.suptitle(f"heat snapshots: {nx}x{ny}, every {int(snaps.attrs['every'])} steps "
                 f"({n} stored)", fontsize=10)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_ou(f, out):
    g = f["ou"]
    sets = sorted(k for k in g if k.startswith("set_"))[:6]
    cols = min(3, len(sets))
    rows = (len(sets) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, sets):
        s = g[name]
        t, mean, var = s["time"][...], s["mean"][...], s["variance"][...]
        tau, sigma, x0 = (float(attr(s, k)) for k in ("tau", "sigma", "x0"))
        th_mean = x0 * np.exp(-t / tau)
        th_sd = sigma * np.sqrt(1 - np.exp(-2 * t / tau))
        sd = np.sqrt(np.maximum(var, 0))
        ax.fill_between(t, mean - 2 * sd, mean + 2 * sd, alpha=0.3, label="ensemble mean ± 2 sd")
        ax.plot(t, mean, lw=1.2, label="ensemble mean")
        ax.plot(t, th_mean, "k--", lw=1, label="theory mean")
        ax.plot(t, th_mean + 2 * th_sd, "k:", lw=1, label="theory ± 2 sd")
        ax.plot(t, th_mean - 2 * th_sd, "k:", lw=1)
        if "paths" in s:
            # A few paths, thin and behind the band, so the band stays readable.
            shown = s["paths"][: min(3, s["paths"].shape[0])]
            for k, p in enumerate(shown):
                ax.plot(t, p, lw=0.3, alpha=0.35, color="0.4", zorder=0,
                        label=f"{len(shown)} of {s['paths'].shape[0]} paths" if k == 0 else None)
        ax.set_title(f"{name}: tau={tau:g} sigma={sigma:g} x0={x0:g} "
                     f"({int(attr(s, 'members'))} paths)", fontsize=9)
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
    hits = g["chunk_hits"][...].astype(np.float64)
    samples, chunk = int(attr(g, "samples")), int(attr(g, "chunk"))
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
    ax.set_title(f"pi: {float(attr(g, 'estimate')):.8f} from {samples:.3g} samples, "
                 f"z = {float(attr(g, 'z')):+.2f}")
    ax.legend()
    save(fig, out)


def plot_markov(f, out):
    g = f["markov"]
    frac, theory = g.attrs["fractions"], g.attrs["stationary_theory"]
    names = ([attr_str(v) for v in g["state"][...]] if "state" in g
             else ["bull", "bear", "recession"])
    chains, days = int(attr(g, "chains")), int(attr(g, "days"))
    x = np.arange(3)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax.bar(x - 0.2, frac, 0.4, label="simulated")
    ax.bar(x + 0.2, theory, 0.4, label="stationary law")
    ax.set_xticks(x, names)
    ax.set_ylabel("fraction of days")
    ax.set_title(f"Markov chain: {chains} chains x {days} days")
    ax.legend()
    # The differences, which the bars cannot show: each state's fraction
    # minus the law, with 2 standard errors over the chains.
    per_chain = g["state_days"][...] / days
    se = per_chain.std(axis=0, ddof=1) / np.sqrt(chains) if chains > 1 else np.zeros(3)
    ax2.errorbar(x, frac - theory, yerr=2 * se, fmt="o", capsize=6, label="simulated - law, ± 2 se")
    ax2.axhline(0, color="k", lw=0.8)
    ax2.set_xticks(x, names)
    ax2.set_ylabel("fraction of days - stationary law")
    ax2.set_title(f"z = {', '.join(f'{z:+.2f}' for z in np.atleast_1d(g.attrs['z']))}")
    ax2.legend(fontsize=8)
    save(fig, out)


def plot_mandelbrot(f, out):
    g = f["mandelbrot"]
    img = g["iterations"][...]
    x, y = g["x"][...], g["y"][...]
    m = int(attr(g, "max_iter"))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.6, 4.2), width_ratios=[5, 1])
    shown = np.log1p(np.where(img >= m, 0, img + 1))
    ax.imshow(shown, origin="lower", cmap="magma",
              extent=[x[0], x[-1] + (x[1] - x[0] if len(x) > 1 else 0), y[0], y[-1] + (y[1] - y[0] if len(y) > 1 else 0)])
    ax.set_xlabel(label(g["x"], "Re c"))
    ax.set_ylabel(label(g["y"], "Im c"))
    ax.set_title(f"Mandelbrot {img.shape[1]} x {img.shape[0]}, max-iter {m}: "
                 f"area estimate {float(attr(g, 'area_estimate')):.5f}")
    rows = g["row_rank"][...]
    cost = np.minimum(img + 1, m).sum(axis=1)
    for r in np.unique(rows):
        sel = rows == r
        ax2.barh(np.nonzero(sel)[0], cost[sel], height=1.0, label=f"rank {r}")
    ax2.set_xlabel("iterations per row")
    ax2.set_ylabel("row")
    ax2.set_title(f"{g.attrs['schedule']} schedule")
    ax2.legend(fontsize=7)
    save(fig, out)


def plot_integrate(f, out):
    g = f["integrate"]
    sums = g["chunk_sums"][...]
    a, b, n = float(attr(g, "a")), float(attr(g, "b")), int(attr(g, "n"))
    h = (b - a) / n * (1 / 3 if g.attrs["rule"] == "simpson" else 1)
    total = np.cumsum(sums) * h
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(np.arange(1, len(sums) + 1), total, lw=1.2, label="running total of the chunk sums")
    ax.axhline(float(attr(g, "integral")), color="k", lw=0.8, label="integral")
    ax.set_xlabel("chunks (in order)")
    ax.set_ylabel("sum so far")
    ax.set_title(f"integrate {g.attrs['f']} on [{a:g}, {b:g}], {g.attrs['rule']} rule: "
                 f"{float(attr(g, 'value')):.12g}")
    ax.legend()
    save(fig, out)


def plot_pairs(f, out):
    g = f["pairs"]
    n, dim = int(attr(g, "n")), int(attr(g, "dim"))
    pts = g["points"][...]
    nn = g["nearest_distance"][...]
    panels = 2 + (dim == 2) + ("histogram" in g)
    fig, axes = plt.subplots(1, panels - 1, figsize=(4.4 * (panels - 1), 4.0))
    axes = list(np.atleast_1d(axes))
    ci, cj = int(attr(g, "closest_i")), int(attr(g, "closest_j"))
    if "histogram" in g:
        ax = axes.pop(0)
        counts, edges = g["histogram"][...], g["bin_edges"][...]
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge")
        ax.set_xlabel("pair distance" + units_of(g["bin_edges"]))
        ax.set_ylabel("pairs per bin")
        ax.set_title(f"{counts.sum()} pairs of {n} points in {dim}-D")
    ax = axes.pop(0)
    ax.hist(nn, bins=min(100, max(10, n // 50)))
    ax.set_xlabel("distance to the nearest neighbour")
    ax.set_ylabel("points")
    ax.set_title(f"closest pair ({ci}, {cj}): {float(attr(g, 'closest_distance')):.4g}")
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
            with h5py.File(path, "r") as f:
                # A parsim result file: its workload's group beside the
                # run's provenance on / (parsim_version).
                groups = [k for k in f if isinstance(f[k], h5py.Group)]
                if "parsim_version" not in f.attrs or not groups:
                    print(f"plot: error: {path}: no parsim results (a result file has its workload's "
                          "group, e.g. /heat: `parsim workloads` lists them)", file=sys.stderr)
                    status = 2
                    continue
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
        except OSError as e:
            print(f"plot: error: cannot read {path}: {e}", file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
