"""Scaling models fitted to a study's points (used by scripts/scaling.py).

Pure functions of the measured times (numpy only), so a synthetic study
with a known law tests them without running anything.

Strong studies (a fixed problem, T(p) on p ranks):
  - Amdahl: T(p) = T1 (f + (1 - f) / p). Linear in (T1 f, T1 (1 - f)), so
    fitted by least squares on 1/p; the serial fraction f bounds the
    speedup by 1/f on any number of ranks.
  - Karp-Flatt: e(p) = (1/S - 1/p) / (1 - 1/p) per point, the serial
    fraction each point implies: constant if Amdahl holds, growing with p
    when overhead (communication, imbalance) grows.
Weak studies (fixed work per rank):
  - Gustafson: scaled speedup S(p) = p T1/T(p) = s + p (1 - s) gives the
    serial fraction s by least squares on (p - 1).
Both:
  - the Universal Scalability Law, X(p) = p / (1 + sigma (p-1) + kappa p
    (p-1)) for the relative capacity X (the speedup; the scaled speedup for
    weak studies): contention sigma and coherency kappa, linear in
    p/X - 1; kappa > 0 puts a peak at p* = sqrt((1 - sigma) / kappa). Only
    with 4 or more rank counts (2 parameters from 3 speedups is no test).
Each point is the mean of its repeats; every parameter has a 95 %
interval from a bootstrap over the repeats (each point's runs resampled),
and the fit is compared with the scatter of the repeats: residuals the
repeats cannot explain, or repeats that scatter by more than 10 %, are
said in words, not hidden behind a confident number.
"""

import math
import random
import statistics

import numpy as np

BOOTSTRAP = 400
NOISY = 0.10  # repeats differing by more than this make a point noisy


def _lsq(cols, y):
    """Least squares y ~ cols @ x in relative terms (each row divided by
    its y): timing noise is a share of the time, so a 1 % miss at 64
    ranks counts as much as a 1 % miss at 1 rank."""
    y = np.asarray(y, float)
    a = np.column_stack(cols) / y[:, None]
    x, *_ = np.linalg.lstsq(a, np.ones_like(y), rcond=None)
    return x


def amdahl(ps, ts):
    """(f, T1) of T(p) = T1 (f + (1 - f)/p) = a + b/p."""
    ps = np.asarray(ps, float)
    serial, parallel = _lsq([np.ones_like(ps), 1.0 / ps], ts)
    t1 = serial + parallel
    return (serial / t1 if t1 > 0 else float("nan")), t1


def karp_flatt(p, speedup):
    """The experimentally determined serial fraction at p > 1."""
    if p <= 1 or not speedup > 0:
        return float("nan")
    return (1.0 / speedup - 1.0 / p) / (1.0 - 1.0 / p)


def gustafson(ps, ts):
    """Serial fraction s of the scaled speedup S(p) = p T1 / T(p) =
    s + p (1 - s), from the times: 1/T(p) = (1 - s)/T1 + (s/T1)/p, linear
    in (1/T1)(1 - s, s); T1 is fitted too, not taken from one noisy run."""
    ps = np.asarray(ps, float)
    inv = 1.0 / np.asarray(ts, float)
    a, b = _lsq([np.ones_like(ps), 1.0 / ps], inv)
    return float(b / (a + b)) if a + b > 0 else float("nan")


def usl(ps, ts):
    """(sigma, kappa) of X(p) = p / (1 + sigma (p-1) + kappa p (p-1)) with
    X(p) = T1/T(p): p T(p) = T1 (1 + sigma (p-1) + kappa p (p-1)) is linear
    in (T1, T1 sigma, T1 kappa), T1 fitted too. Both kept >= 0 (a negative
    coherency would mean superlinear growth)."""
    ps = np.asarray(ps, float)
    y = ps * np.asarray(ts, float)
    t1, ts1, tk1 = _lsq([np.ones_like(ps), ps - 1.0, ps * (ps - 1.0)], y)
    if tk1 < 0:
        t1, ts1 = _lsq([np.ones_like(ps), ps - 1.0], y)
        tk1 = 0.0
    if not t1 > 0:  # no law with a positive T1 comes near: no sigma, no kappa
        return float("nan"), float("nan")
    return max(float(ts1 / t1), 0.0), float(tk1 / t1)


def usl_speedup(p, sigma, kappa):
    return p / (1.0 + sigma * (p - 1.0) + kappa * p * (p - 1.0))


def describes(fraction):
    """Whether a fitted serial fraction is one: a share of the time lies in
    [0, 1]. Outside it the law does not describe the points (a fraction
    above 1 is a study that got slower with more ranks; below 0, one that
    sped up more than the ranks were added), and no curve, cap or 50 %
    point is drawn from it."""
    return bool(math.isfinite(fraction) and 0.0 <= fraction <= 1.0)


def slower(measured):
    """The rank counts whose speedup (strong) or scaled speedup (weak) is
    below 1: more ranks got less done than one rank alone."""
    return [int(p) for p in sorted(measured, key=int) if int(p) > 1 and measured[p] < 1.0]


def _interval(values):
    v = sorted(x for x in values if not math.isnan(x))
    if len(v) < 2:
        return None
    lo = v[int(0.025 * (len(v) - 1))]
    hi = v[int(math.ceil(0.975 * (len(v) - 1)))]
    return [lo, hi]


def fit(kind, runs_by_p, over=()):
    """Every model of a study. `runs_by_p`: {p: [wall times of its runs]};
    `over`: rank counts that were oversubscribed (shown, never fitted).
    Returns the dict that model.json holds."""
    ps = sorted(p for p in runs_by_p if p not in over)
    out = {"fitted_ranks": ps, "excluded_ranks": sorted(over)}
    if 1 not in runs_by_p or len(ps) < 2:
        out["note"] = ("too few points for a fit: it needs p = 1 and at least one more rank count "
                       "that was not oversubscribed")
        return out

    def point_fit(times):
        """The models from one set of per-p times (the best of each point's runs)."""
        t = np.array([times[p] for p in ps])
        res = {}
        if kind == "strong":
            res["amdahl"], _ = amdahl(ps, t)
            if len(ps) >= 4:
                res["sigma"], res["kappa"] = usl(ps, t)
        else:
            res["gustafson"] = gustafson(ps, t)
            if len(ps) >= 4:
                # Weak: the capacity is the scaled speedup p T1/T(p), i.e.
                # the USL of the time per unit of work T(p)/p.
                res["sigma"], res["kappa"] = usl(ps, t / np.array(ps, float))
        return res

    # Each point is the mean of its repeats (the expected time); the
    # bootstrap resamples the repeats of every point to see how much that
    # mean, and so each parameter, moves.
    best = {p: statistics.fmean(runs_by_p[p]) for p in runs_by_p}
    center = point_fit(best)
    rng = random.Random(12345)
    samples = []
    repeats = min(len(runs_by_p[p]) for p in ps)
    if repeats > 1:
        for _ in range(BOOTSTRAP):
            draw = {p: statistics.fmean(rng.choices(runs_by_p[p], k=len(runs_by_p[p]))) for p in ps}
            samples.append(point_fit(draw))

    def with_interval(key):
        # The bootstrap of a mean of n repeats spreads by sqrt((n-1)/n) of
        # the mean's real spread: widened back.
        d = {"value": center[key], "interval": None}
        iv = _interval([s[key] for s in samples]) if samples else None
        if iv:
            k = math.sqrt(repeats / (repeats - 1))
            c = center[key]
            d["interval"] = [c - (c - iv[0]) * k, c + (iv[1] - c) * k]
            if key in ("kappa", "sigma"):
                d["interval"][0] = max(d["interval"][0], 0.0)
        return d

    t1 = best[1]
    if kind == "strong":
        out["amdahl"] = {"serial_fraction": with_interval("amdahl")}
        f = center["amdahl"]
        out["amdahl"]["describes"] = describes(f)
        out["amdahl"]["max_speedup"] = (1.0 / f) if f > 0 and describes(f) else None
        model = {p: 1.0 / (f + (1.0 - f) / p) for p in runs_by_p}
        out["karp_flatt"] = {str(p): karp_flatt(p, t1 / best[p]) for p in sorted(runs_by_p) if p > 1}
        measured = {p: t1 / best[p] for p in runs_by_p}
    else:
        s = center["gustafson"]
        out["gustafson"] = {"serial_fraction": with_interval("gustafson"), "describes": describes(s)}
        model = {p: s + p * (1.0 - s) for p in runs_by_p}
        measured = {p: p * t1 / best[p] for p in runs_by_p}
    if "sigma" in center:
        out["usl"] = {"sigma": with_interval("sigma"), "kappa": with_interval("kappa")}
        sg, kp = center["sigma"], center["kappa"]
        out["usl"]["peak_ranks"] = math.sqrt((1.0 - sg) / kp) if kp > 0 and sg < 1 else None
        out["usl"]["model"] = {str(p): usl_speedup(p, sg, kp) for p in sorted(runs_by_p)}
    else:
        out["usl"] = None
    out["model"] = {str(p): model[p] for p in sorted(runs_by_p)}
    out["measured"] = {str(p): measured[p] for p in sorted(runs_by_p)}
    out["residual"] = {str(p): measured[p] / model[p] - 1.0 for p in sorted(runs_by_p)}
    # Noise: how far repeats of a point differ, against how far the model
    # misses the points it was fitted to.
    spread = {str(p): (max(r) / min(r) - 1.0) for p, r in runs_by_p.items() if len(r) > 1}
    out["repeat_spread"] = spread
    miss = max(abs(out["residual"][str(p)]) for p in ps)
    worst = max((spread[str(p)] for p in ps if str(p) in spread), default=None)
    out["fit_quality"] = {"max_residual": miss, "max_repeat_spread": worst}
    # Where efficiency falls below one half.
    eff = {p: (measured[p] / p if kind == "strong" else measured[p] / p) for p in runs_by_p}
    below = [p for p in sorted(runs_by_p) if eff[p] < 0.5]
    out["half_efficiency_ranks"] = below[0] if below else None
    if kind == "strong" and f > 0 and describes(f) and not below:
        # Amdahl's: efficiency 1/(p f + 1 - f) < 1/2 beyond p = (1 + f)/f.
        out["half_efficiency_ranks_predicted"] = (1.0 + f) / f
    return out


def words(kind, m, phases_share=None):
    """A short interpretation of `m` (from `fit`) for table.md."""
    lines = []
    if "note" in m:
        return [m["note"] + "."]

    def pm(d):
        v = d["value"]
        iv = d.get("interval")
        if not iv:
            return f"{v:.3g} (one run per point: no interval)"
        return f"{v:.3g} (95 % interval {iv[0]:.3g} to {iv[1]:.3g})"

    slow = slower(m["measured"])
    if slow:
        what = "speedup" if kind == "strong" else "scaled speedup"
        lines.append(f"Slower with more ranks: the {what} is "
                     + ", ".join(f"{m['measured'][str(p)]:.2f} at {p}" for p in slow)
                     + " ranks, below 1: the ranks got less done together than one alone (contention for "
                       "the cores or their memory, oversubscription, or a busy host), not a serial part.")
    if kind == "strong":
        a = m["amdahl"]
        f = a["serial_fraction"]["value"]
        cap = f"at most {1 / f:.0f}x on any number of ranks" if f > 0 else "no serial part measurable"
        if math.isnan(f):
            # The fit's T1 = T(1) is not positive: no serial fraction to give.
            lines.append("Amdahl: no fit: no T(p) = T1 (f + (1 - f)/p) with a positive T1 comes near "
                         "these times.")
        elif not describes(f):
            lines.append(f"Amdahl's law does not describe these points: the serial fraction that fits them "
                         f"best, {f:.3g}, is not a share of the time (outside 0 to 1), so no curve is drawn.")
        else:
            lines.append(f"Amdahl: serial fraction {pm(a['serial_fraction'])}: {cap}.")
        kf = {int(p): e for p, e in m["karp_flatt"].items()
              if not math.isnan(e) and int(p) not in m["excluded_ranks"]}
        if len(kf) >= 2 and describes(f):
            ps = sorted(kf)
            trend = "grows" if kf[ps[-1]] > kf[ps[0]] * 1.5 + 0.005 else "stays about constant"
            lines.append(f"Karp-Flatt: the serial fraction each point implies {trend} "
                         f"({', '.join(f'{kf[p]:.3f} at {p}' for p in ps)})"
                         + (": overhead that grows with p (communication, imbalance), not a fixed serial part."
                            if trend == "grows" else "."))
    elif math.isnan(m["gustafson"]["serial_fraction"]["value"]):
        lines.append("Gustafson: no fit: no scaled speedup s + p (1 - s) with a positive T1 comes near "
                     "these times.")
    elif not describes(m["gustafson"]["serial_fraction"]["value"]):
        lines.append(f"Gustafson's law does not describe these points: the serial fraction that fits them "
                     f"best, {m['gustafson']['serial_fraction']['value']:.3g}, is not a share of the work "
                     f"(outside 0 to 1), so no curve is drawn.")
    else:
        lines.append(f"Gustafson: serial fraction {pm(m['gustafson']['serial_fraction'])} "
                     f"of the scaled work.")
    u = m.get("usl")
    if u and math.isnan(u["sigma"]["value"]):
        lines.append("USL: no fit: no X(p) = p / (1 + sigma (p-1) + kappa p (p-1)) with a positive T1 "
                     "comes near these times.")
    elif u:
        peak = u["peak_ranks"]
        kiv = u["kappa"].get("interval")
        if peak and kiv and kiv[0] > 0:
            end = f": the speedup peaks near {peak:.0f} ranks and falls beyond."
        elif peak:
            end = (f": kappa is not told apart from 0 by these points, so the peak the fit puts near "
                   f"{peak:.0f} ranks is not established.")
        else:
            end = ": no peak (kappa = 0)."
        lines.append(f"USL: contention sigma {pm(u['sigma'])}, coherency kappa {pm(u['kappa'])}{end}")
    else:
        lines.append("USL: not fitted (it needs 4 rank counts or more that were not oversubscribed).")
    half = m.get("half_efficiency_ranks")
    if half:
        lines.append(f"Efficiency falls below 50 % at {half} ranks.")
    elif m.get("half_efficiency_ranks_predicted"):
        lines.append(f"Efficiency stays above 50 % here; Amdahl's fit puts the 50 % point at "
                     f"{m['half_efficiency_ranks_predicted']:.0f} ranks.")
    if len(m["fitted_ranks"]) == 2:
        lines.append("Two rank counts only: a two-parameter law goes through both exactly, and nothing "
                     "tests it; more cores (or nodes) would.")
    if m["excluded_ranks"]:
        lines.append(f"Oversubscribed points ({', '.join(map(str, m['excluded_ranks']))} ranks) are shown "
                     "but not fitted: ranks there share cores.")
    q = m["fit_quality"]
    if q["max_repeat_spread"] is not None and q["max_repeat_spread"] > NOISY:
        lines.append(f"Caution: repeats of a point differ by up to {100 * q['max_repeat_spread']:.0f} %: "
                     "the host was busy or noisy, and the parameters above are not to be trusted.")
    spread = q["max_repeat_spread"] or 0.0
    if q["max_residual"] > max(3 * spread, 0.05):
        lines.append(f"The model misses a fitted point by {100 * q['max_residual']:.0f} %, more than the "
                     f"repeats scatter ({100 * spread:.0f} %): this law does not describe these points.")
    if phases_share:
        lines.extend(phases_share)
    return lines
