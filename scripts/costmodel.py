"""A cost model of a parsim run past the ranks a study measured
(scripts/scaling.py predict). Pure functions: a test feeds them numbers.

    T(p) = compute(p) + comm(p) + other

- compute: the study's compute phase at its reference point (the fewest
  ranks measured), divided among p ranks (strong) or kept (weak: the work
  per rank stays);
- comm: the workload's own pattern (`parsim workloads --json`, "comm"),
  each message costing t(bytes) = alpha + bytes / beta on its link: within
  a node (measured by `parsim pingpong`) or between nodes (measured on
  two nodes, or given), ranks filling nodes in order (--cores-per-node);
  a bulk-synchronous step goes at the pace of its slowest rank;
- other: what the reference point spent besides compute and
  communication (its gather, the loop's start), kept.

Patterns (the "pattern" of a workload's comm):
- halo: every time_block steps (the reference run's; with auto, 1 once a
  block's two fields fit in the L2 the reference run saw), each block's bands
  that deep go to its up to 4 face neighbours (and 4 corners) on the
  process grid parsim chooses (rank = y px + x); a rank's messages of one
  kind of link go one after another (alpha + their bytes / beta), the two
  kinds at once; a one-deep exchange of eager messages overlaps the
  step's update (unless the study set overlap off) and only what that does
  not hide counts;
- halo in 3D (the study gives nz): every step (every time_block steps,
  as in 2D, faces that deep with their edges: the reference run's depth,
  1 once a block's two fields fit in L2), each block's six faces one
  cell deep (no edges or corners: the 7-point stencil reads none) go to
  its up to 6 neighbours on the 3D process grid parsim chooses
  (rank = (z py + y) px + x), all at once, per kind of link one after
  another as in 2D; the update does not hide it unless the reference run
  overlapped (its report's execution.overlap);
- ring: p/2 steps, each passing ceil(n/p) points of dim f64 to the left
  while the held block is met: an eager block waits only for what the
  compute does not hide; a rendezvous block (EAGER_BYTES) moves only in
  the wait, so all of it counts;
- ring with the tree (pairs' report says "algorithm": "tree"): no messages
  in the loop (the points are broadcast to every rank before it); every
  rank builds the tree over all N points (the report's tree_build_s, kept
  whole) and finds the neighbours of its share of them (divided among the
  ranks); both grow with N where a weak study grows it;
- dispatch: one round trip of two 16-byte messages per chunk through rank
  0, asked for ahead, so a rank waits only where a round trip outlasts a
  chunk; rank 0 handles two messages per chunk, which caps the pace when
  chunks are short; the last chunk leaves half a chunk's imbalance;
- reduce: independent work, an all-reduce at the end: latency times log2
  of the ranks within and across nodes.
Not modelled: the gather to rank 0 and the file write (kept at the
reference's; studies run with --no-output), waiting on a slower neighbour
(imbalance, noise) beyond the dispatcher's last chunk, contention of many
ranks for one node's memory bandwidth or network card.
"""

import json
import math
import re

# Messages above this many bytes go by rendezvous in the usual MPI
# libraries (Open MPI's TCP BTL: btl_tcp_eager_limit 64 KiB; MPICH's ch4
# similar): their data moves only while the receiver or sender is inside an
# MPI call, so computing meanwhile hides none of it (no asynchronous
# progress thread is on by default). Smaller ones go eagerly, and overlap.
EAGER_BYTES = 64 * 1024

# The largest rank count a study or a prediction takes: MPI counts ranks
# in an int, and every loop over ranks here stays bounded (balanced_grid's
# divisor search is sqrt(p) long, the halo's rank sample a few rows).
MAX_RANKS = 1 << 24
# What a link can be: a latency past a second or a bandwidth under a byte a
# second is a typo (1e999us, 1e-320 B/s), not a network; either would make
# every predicted time inf or nan.
MAX_ALPHA_S = 1.0
MIN_BETA = 1.0

UNITS_TIME = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
UNITS_RATE = {"b/s": 1.0, "kb/s": 1e3, "mb/s": 1e6, "gb/s": 1e9, "tb/s": 1e12,
              "kbit/s": 1e3 / 8, "mbit/s": 1e6 / 8, "gbit/s": 1e9 / 8}


class ModelError(Exception):
    """Input the model cannot use: one line for the user."""


class ProblemLimit(ModelError):
    """The problem cannot be split over that many ranks."""


class Link:
    """t(bytes) of one message on a link: the measured points where there
    are some (interpolated linearly in bytes, so protocol switches show),
    else alpha + bytes / beta; beyond the largest point, its time plus the
    extra bytes at beta."""

    def __init__(self, alpha, beta, points=None, source=""):
        where = f"{source}: " if source else ""
        if not (finite(alpha) and 0 <= alpha <= MAX_ALPHA_S):
            raise ModelError(f"{where}the latency alpha must be from 0 to {MAX_ALPHA_S:g} s (got {alpha} s)")
        if not (finite(beta) and beta >= MIN_BETA):
            raise ModelError(f"{where}the bandwidth beta must be a finite rate of at least {MIN_BETA:g} B/s "
                             f"(got {beta} B/s)")
        self.alpha, self.beta, self.source = alpha, beta, source
        self.points = sorted(points or [])

    def time(self, nbytes):
        pts = self.points
        if not pts:
            return self.alpha + nbytes / self.beta
        if nbytes <= pts[0][0]:
            return pts[0][1]
        for (b0, t0), (b1, t1) in zip(pts, pts[1:]):
            if nbytes <= b1:
                return t0 + (t1 - t0) * (nbytes - b0) / (b1 - b0)
        b, t = pts[-1]
        return t + (nbytes - b) / self.beta

    def __str__(self):
        return f"alpha {self.alpha * 1e6:.2f} us, beta {self.beta / 1e9:.3g} GB/s ({self.source})"


def finite(x):
    """Whether x is a real number (not a bool), finite: what every number
    read from a file or the command line must be."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int too large for a float
        return False


# A decimal number: 1, 1.5, .5, 1e-6 (one point at most: '1.2.3' is not one).
NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?"


def parse_link(text, source="given"):
    """'alpha=1.5us,beta=10GB/s' (beta also in Gbit/s, MB/s, ...) as a Link."""
    vals = {}
    for part in text.split(","):
        k, eq, v = part.partition("=")
        k, v = k.strip().lower(), v.strip().replace(" ", "")
        if not eq or k not in ("alpha", "beta"):
            raise ModelError(f"{source} '{text}': give alpha=TIME,beta=RATE (e.g. alpha=1.5us,beta=10GB/s)")
        if k in vals:
            raise ModelError(f"{source} '{text}': {k} is given twice")
        m = re.fullmatch(f"({NUMBER})([a-zµ/]*)", v.lower())
        units = UNITS_TIME if k == "alpha" else UNITS_RATE
        if not m or m.group(2) not in units:
            raise ModelError(f"{source}: {k}={v}: {k} needs a number and one of the units {', '.join(units)}")
        vals[k] = float(m.group(1)) * units[m.group(2)]
        if k == "alpha" and not (math.isfinite(vals[k]) and vals[k] <= MAX_ALPHA_S):
            raise ModelError(f"{source}: alpha={v}: a latency must be finite and at most {MAX_ALPHA_S:g} s")
        if k == "beta" and not (math.isfinite(vals[k]) and vals[k] >= MIN_BETA):
            raise ModelError(f"{source}: beta={v}: a bandwidth must be finite and at least {MIN_BETA:g} B/s")
    if set(vals) != {"alpha", "beta"}:
        raise ModelError(f"{source} '{text}': give both alpha and beta")
    return Link(vals["alpha"], vals["beta"], source=source)


def read_pingpong(path):
    """The report of a saved `parsim pingpong --json` (the whole file, or
    its last line: the output with other lines before it), checked enough
    that its links can be read."""
    try:
        text = open(path, encoding="utf-8").read()
    except (OSError, ValueError) as e:
        raise ModelError(f"{path}: cannot read it ({e})")
    report = None
    for candidate in (text, (text.strip().splitlines() or [""])[-1]):
        try:
            report = json.loads(candidate)
            break
        except ValueError as e:
            why = e
    if report is None:
        raise ModelError(f"{path}: not the output of parsim pingpong --json (not JSON, cut short? {why})")
    if not isinstance(report, dict) or not isinstance(report.get("links"), list):
        raise ModelError(f"{path}: not the output of parsim pingpong --json (no list of links)")
    return report


def link_from_file(path, kind="inter-node"):
    """The `kind` link of a saved `parsim pingpong --json` output."""
    report = read_pingpong(path)
    for k, link in enumerate(report["links"]):
        if isinstance(link, dict) and link.get("kind") == kind:
            return link_from_pingpong(link, f"parsim pingpong, {path}", where=f"{path}: links[{k}]")
    raise ModelError(f"{path}: no {kind} link (run parsim pingpong with ranks on two nodes)")


def link_from_pingpong(link, source, where=None):
    """A Link from one link of `parsim pingpong --json`; `where` names it
    in errors (the file and the link)."""
    where = where or source
    fit = link.get("fit") if isinstance(link, dict) else None
    if not isinstance(fit, dict):
        raise ModelError(f"{where}: no fit (alpha_s, beta_bytes_per_s)")
    points = link.get("points", [])
    if not isinstance(points, list):
        raise ModelError(f"{where}: points is not a list")
    pts = []
    for i, p in enumerate(points):
        b, t = (p.get("bytes"), p.get("time_s")) if isinstance(p, dict) else (None, None)
        if not (finite(b) and b >= 0 and b == int(b)):
            raise ModelError(f"{where}: points[{i}]: bytes must be a whole number >= 0 (got {b})")
        if not (finite(t) and 0 < t <= MAX_ALPHA_S + b / MIN_BETA):
            raise ModelError(f"{where}: points[{i}]: time_s must be a time above 0 s, and at most "
                             f"{MAX_ALPHA_S:g} s plus its bytes at {MIN_BETA:g} B/s (got {t})")
        pts.append((b, t))
    alpha = fit.get("alpha_s")
    if not (finite(alpha) and 0 <= alpha <= MAX_ALPHA_S):
        raise ModelError(f"{where}: fit.alpha_s must be from 0 to {MAX_ALPHA_S:g} s (got {alpha})")
    beta = fit.get("beta_bytes_per_s")
    if beta is not None and not finite(beta):
        raise ModelError(f"{where}: fit.beta_bytes_per_s must be a number or null (got {beta})")
    if not (beta and math.isfinite(beta)):
        # No bandwidth term fitted (pingpong writes null): the best rate a
        # point reached.
        if not pts:
            raise ModelError(f"{where}: no fitted bandwidth and no points to take one from")
        beta = max(b / t for b, t in pts)
    if beta < MIN_BETA:
        raise ModelError(f"{where}: a bandwidth of {beta:g} B/s is below {MIN_BETA:g} B/s")
    return Link(alpha, beta, pts, source)


class Network:
    def __init__(self, intra, inter, cores_per_node):
        if isinstance(cores_per_node, bool) or not isinstance(cores_per_node, int) \
                or not 1 <= cores_per_node <= MAX_RANKS:
            raise ModelError(f"--cores-per-node must be from 1 to {MAX_RANKS} (got {cores_per_node})")
        self.intra, self.inter, self.cores = intra, inter, cores_per_node

    def nodes(self, p):
        return -(-p // self.cores)

    def link(self, a, b):
        if a // self.cores == b // self.cores:
            return self.intra
        if self.inter is None:
            raise ModelError("ranks on more than one node: give the network between nodes "
                             "(--network alpha=...,beta=..., or measure it: parsim pingpong on two nodes)")
        return self.inter


def balanced_grid(p):
    """parsim's default process grid (src/heat/decomp.rs): the most
    balanced factors px x py = p, the larger along y: px the largest
    divisor of p up to sqrt(p) (so the search is sqrt(p) long: predict
    asks for millions of ranks, and at most MAX_RANKS, 4096 steps)."""
    if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= MAX_RANKS:
        raise ModelError(f"{p} ranks: a process grid takes 1 to {MAX_RANKS} ranks")
    px = next(d for d in range(math.isqrt(p), 0, -1) if p % d == 0)
    return px, p // px


def divisors(n):
    """n's divisors, ascending, in sqrt(n) steps."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


def balanced_grid3(p):
    """parsim's default 3D process grid (src/heat/decomp3d.rs,
    ProcGrid3::candidates): of the factorisations px x py x pz = p, the
    smallest spread between the largest and smallest factor, then the
    smallest px, then py (the larger factors along z, then y). Like
    balanced_grid, it ignores the grid's size: limit() says when a
    factor outgrows its axis."""
    if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= MAX_RANKS:
        raise ModelError(f"{p} ranks: a process grid takes 1 to {MAX_RANKS} ranks")
    best = min((max(a, b, p // a // b) - min(a, b, p // a // b), a, b)
               for a in divisors(p) for b in divisors(p // a))
    return best[1], best[2], p // best[1] // best[2]


def process_grid(p, three):
    """The process grid of p ranks as (px, py, pz): 2D (pz 1) or 3D."""
    return balanced_grid3(p) if three else balanced_grid(p) + (1,)


def sample_ranks(p, cores, px=None, limit=20000):
    """Every rank, or for many ranks the ones whose links differ.

    On a process grid px wide (heat's halo), a rank's links repeat with
    period lcm(px, cores) in its number: shifting a rank by it keeps its
    column and its place in its node, so its neighbours' places too. The
    first two rows, one period, and the last row then hold every pattern
    there is, exactly; that set is taken while it is at most 4 x limit
    ranks. Otherwise (or without px) a sample: the first two nodes' ranks,
    the first and last of each node (of a spread of limit nodes where there
    are more; up to limit ranks each) and a spread of ranks. Either way
    the work stays bounded for any p and cores."""
    if p <= limit:
        return range(p)
    if px:
        head = min(p, 2 * px + math.lcm(px, cores))
        if head + px <= 4 * limit:
            return sorted(set(range(head)) | set(range(max(head, p - px), p)))
    picks = set(range(min(p, 2 * cores, limit)))
    step = max(1, p // limit)
    picks.update(range(0, p, step))
    nodes = -(-p // cores)
    for k in range(0, p, cores * max(1, nodes // limit)):
        picks.update((k, k - 1, k + cores - 1))
    return sorted(r for r in picks if 0 <= r < p)


def halo_exchange(net, p, nx, ny, g):
    """The slowest rank's time for one exchange of g-deep bands."""
    px, py = balanced_grid(p)
    bx, by = math.ceil(nx / px), math.ceil(ny / py)
    worst = 0.0
    for r in sample_ranks(p, net.cores, px):
        x, y = r % px, r // px
        load = {}  # bytes per link (within the node, to another)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if (dx, dy) == (0, 0) or (dx and dy and g == 1):
                    continue
                X, Y = x + dx, y + dy
                if not (0 <= X < px and 0 <= Y < py):
                    continue
                cells = g * g if (dx and dy) else (g * by if dx else g * bx)
                link = net.link(r, Y * px + X)
                load[link] = load.get(link, 0) + 8 * cells
        t = max((link.time(b) for link, b in load.items()), default=0.0)
        worst = max(worst, t)
    return worst


def halo_exchange3(net, p, n, depth=1):
    """The slowest rank's time for one exchange of the six faces, `depth`
    deep, of an n = (nx, ny, nz) grid's blocks on the 3D process grid
    (deeper than one, x first, then y, then z, a face spans the ghosts
    of the axes before it: its edges and corners ride along). A plane of px py ranks plays the
    part of 2D's row in sample_ranks: shifting a rank by whole planes and
    nodes keeps its x, y and place in its node."""
    g = balanced_grid3(p)
    b = [math.ceil(n[a] / g[a]) for a in range(3)]
    worst = 0.0
    for r in sample_ranks(p, net.cores, g[0] * g[1]):
        c = (r % g[0], r // g[0] % g[1], r // (g[0] * g[1]))
        load = {}  # bytes per link (within the node, to another)
        for axis in range(3):
            # Axis by axis (x, y, z): a deep face spans the ghosts of the
            # axes exchanged before it.
            face = 8 * depth * math.prod(b[a] + (2 * depth if depth > 1 and a < axis else 0)
                                         for a in range(3) if a != axis)
            for step in (-1, 1):
                if 0 <= c[axis] + step < g[axis]:
                    stride = (1, g[0], g[0] * g[1])[axis]
                    link = net.link(r, r + step * stride)
                    load[link] = load.get(link, 0) + face
        worst = max(worst, max((link.time(b) for link, b in load.items()), default=0.0))
    return worst


def allreduce(net, p):
    """An all-reduce of a few numbers: log2 steps within a node, then across."""
    within = math.ceil(math.log2(min(p, net.cores))) if p > 1 else 0
    across = math.ceil(math.log2(net.nodes(p))) if net.nodes(p) > 1 else 0
    t = within * net.intra.time(8)
    if across:
        t += across * net.link(0, net.cores).time(8)
    return t


def limit(comm, values, p):
    """Why p ranks cannot run this problem, or None."""
    pat = comm["pattern"]
    if pat == "halo":
        n = grid_size(comm, values)
        g = process_grid(p, len(n) == 3)
        if any(c < f for c, f in zip(n, g)):
            return (f"the {'x'.join(map(str, n))} grid has fewer cells than the process grid "
                    f"{'x'.join(map(str, g[:len(n)]))}")
    if pat == "ring" and values[comm["n"]] < p:
        return f"{values[comm['n']]} points are fewer than the ranks"
    if pat == "dispatch" and math.ceil(values[comm["rows"]] / values[comm["chunk"]]) < p:
        return "fewer chunks than ranks"
    return None


def predict(info, kind, ref, values_at, net, p):
    """The predicted phases of p ranks: dict(compute, comm, other, total,
    comm_phase). `ref`: the reference point (p, phases avg, wall, report);
    `values_at(p)`: the problem's option values on p ranks (weak studies
    grow them)."""
    comm = info["comm"]
    values = values_at(p)
    why = limit(comm, values, p)
    if why:
        raise ProblemLimit(why)
    p0, ph = ref["p"], ref["phases"]
    c0 = ph[comm["compute"]]
    compute = c0 * p0 / p if kind == "strong" else c0
    # Everything else the reference point spent (its gather, start of the
    # loop), kept as it was: the wall time less compute and communication.
    other = max(0.0, ref["wall"] - c0 - ph.get(comm.get("phase"), 0.0))
    pat, t_comm, regime = comm["pattern"], 0.0, "one rank: no messages"
    if pat == "halo":
        if p > 1:
            t_comm, regime = halo_term(comm, ref, values, net, p, compute)
    elif pat == "ring" and ref["report"].get("algorithm") == "tree":
        compute, regime = tree_compute(ref, c0, values[comm["n"]] / values_at(p0)[comm["n"]], p0 / p)
    elif pat == "ring":
        n, dim = values[comm["n"]], values[comm["dim"]]
        if p > 1:
            steps = p // 2
            block = 8 * dim * math.ceil(n / p)
            t_msg = net.link(0, p - 1).time(block)
            hidden = compute / (steps + 1) if block <= EAGER_BYTES else 0.0
            t_comm = steps * max(0.0, t_msg - hidden)
            regime = ("blocks sent eagerly (<= 64 KiB), overlapped with the meeting" if block <= EAGER_BYTES
                      else "blocks above 64 KiB go by rendezvous: not hidden by the meeting")
    elif pat == "dispatch":
        rows, chunk = values[comm["rows"]], values[comm["chunk"]]
        if p > 1:
            chunks = math.ceil(rows / chunk)
            per_chunk = compute * p / chunks
            # Asked for ahead, an answer waits only where a round trip
            # outlasts a chunk's compute; rank 0 handles two messages per
            # chunk (a small intra-node message's cost each, the software
            # overhead), which caps the pace when chunks are short.
            trip = 2 * net.link(0, p - 1).time(16)
            hidden = math.ceil(chunks / p) * max(0.0, trip - per_chunk)
            serial = chunks * 2 * net.intra.time(16) - compute
            t_comm = max(hidden, serial, 0.0) + per_chunk / 2
            regime = ("rank 0 handles every chunk's messages: it sets the pace" if serial > hidden
                      else "chunks asked for ahead: a rank waits where a round trip outlasts a chunk")
    elif pat == "reduce":
        other += allreduce(net, p)
        regime = "one all-reduce at the end" if p > 1 else regime
    else:
        raise ModelError(f"unknown communication pattern '{pat}'")
    total = compute + t_comm + other
    if not (math.isfinite(total) and total > 0):
        # Checked inputs cannot get here; a number that did must not
        # reach a table as inf, nan or a division by zero.
        raise ModelError(f"the model gives {total} s on {p} ranks (compute {compute}, communication {t_comm}, "
                         f"other {other}): the reference point leaves nothing to scale")
    return dict(p=p, nodes=net.nodes(p), compute=compute, comm=t_comm, other=other,
                total=total, comm_phase=comm.get("phase"), regime=regime)


def tree_compute(ref, c0, grows, share):
    """pairs' tree on p ranks: the compute phase and the regime in words.
    `grows`: N on p ranks over the reference's N; `share`: the reference's
    ranks over p. The build (every rank's, over all the points) is kept
    whole, the queries divided."""
    build = min(c0, max(0.0, float(ref["report"].get("tree_build_s") or 0.0)))
    compute = grows * (build + (c0 - build) * share)
    return compute, ("tree: no messages in the loop; every rank builds it over all the points "
                     f"({build / c0:.0%} of the reference's compute, not divided), then queries its share"
                     if c0 > 0 else "tree: no messages in the loop")


def grid_size(comm, values):
    """The grid's interior points (nx, ny) or, with nz given, (nx, ny, nz)."""
    nz = values.get(comm.get("nz") or "nz")
    return tuple(values[comm[k]] for k in ("nx", "ny")) + ((nz,) if nz else ())


def halo_term3(ref, n, steps, net, p, compute):
    """3D heat's halo time on p > 1 ranks: one exchange of six faces a
    step, hidden by the interior's update only where the reference run
    overlapped (and then as 2D's is: the rest of it counts)."""
    execution = ref["report"].get("execution", {})
    g = balanced_grid3(p)
    b = [math.ceil(n[a] / g[a]) for a in range(3)]
    depth = int(execution.get("time_block", 1) or 1)
    auto = execution.get("time_block_auto")
    if auto and 2 * 8 * math.prod(x + 2 for x in b) <= auto.get("l2_bytes", 0):
        depth = 1  # --time-block auto: blocks whose two fields fit in L2 step one at a time
    depth = min(depth, *b)  # never deeper than a block
    if depth > 1:
        exchange = halo_exchange3(net, p, n, depth)
        return (math.ceil(steps / depth) * exchange,
                f"3D: time blocks {depth} deep: faces that deep every {depth} steps, not overlapped")
    exchange = halo_exchange3(net, p, n)
    if not execution.get("overlap"):
        return steps * exchange, "3D: six faces every step, then the update (not overlapped)"
    if 8 * max(b[0] * b[1], b[0] * b[2], b[1] * b[2]) > EAGER_BYTES:
        return steps * exchange, "3D: six faces every step; faces above 64 KiB go by rendezvous: not hidden"
    hidden = exchange <= compute / steps
    regime = "3D: six faces every step" + (", hidden by the interior's update: 0" if hidden
                                           else ", partly hidden by the interior's update")
    return steps * max(0.0, exchange - compute / steps), regime


def halo_term(comm, ref, values, net, p, compute):
    """heat's halo time on p > 1 ranks and the regime it is in, in words:
    the time-block depth the run would choose (with auto, 1 once a block's
    two fields fit in the L2 the reference run saw), and whether the
    update hides a one-deep exchange. The regime changes with p, and with
    it the term (it can drop to 0 where the exchange becomes hidden)."""
    n = grid_size(comm, values)
    if len(n) == 3:
        return halo_term3(ref, n, values[comm["steps"]], net, p, compute)
    g = int(ref["report"].get("execution", {}).get("time_block", 1) or 1)
    nx, ny, steps = values[comm["nx"]], values[comm["ny"]], values[comm["steps"]]
    px, py = balanced_grid(p)
    bx, by = math.ceil(nx / px), math.ceil(ny / py)
    auto = ref["report"].get("execution", {}).get("time_block_auto")
    fits = auto and 2 * 8 * (bx + 2) * (by + 2) <= auto.get("l2_bytes", 0)
    if fits:
        g = 1  # --time-block auto: blocks whose two fields fit in L2 step one at a time
    g = min(g, nx // px, ny // py)  # parsim keeps bands within a block
    exchange = halo_exchange(net, p, nx, ny, g)
    face = 8 * g * max(bx, by)
    if g > 1:
        regime = f"time blocks {g} deep (blocks too big for L2): one exchange every {g} steps, not overlapped"
    elif str(values.get(comm["overlap"], "on")) == "off":
        regime = "one step at a time, not overlapped (--overlap off)"
    elif face > EAGER_BYTES:
        regime = "one step at a time; faces above 64 KiB go by rendezvous: not hidden"
    else:
        # Overlapped: the interior's update hides the exchange.
        hidden = exchange <= compute / steps
        exchange = max(0.0, exchange - compute / steps)
        regime = ("one step at a time" + (" (blocks fit in L2)" if fits else "")
                  + (", exchange hidden by the interior's update: 0" if hidden
                     else ", exchange partly hidden by the interior's update"))
    return math.ceil(steps / g) * exchange, regime


def scan(info, kind, ref, values_at, net, ranks, t1):
    """predict() for each rank count (those the problem allows), with
    speedup and efficiency against t1 (the predicted time on one rank)."""
    rows = []
    for p in ranks:
        try:
            r = predict(info, kind, ref, values_at, net, p)
        except ProblemLimit as e:
            rows.append(dict(p=p, stop=str(e)))
            break
        if kind == "strong":
            r["speedup"] = t1 / r["total"]
            r["efficiency"] = r["speedup"] / p
        else:
            r["efficiency"] = t1 / r["total"]
            r["speedup"] = r["efficiency"] * p
        rows.append(r)
    return rows


def half_efficiency(info, kind, ref, values_at, net, t1, start=1, top=1 << 24):
    """The first power of two (and its predecessor) where the predicted
    efficiency falls below 50 %, or why none is found up to `top` (the
    ranks asked for: the answer stays within the question)."""
    p, last = start, None
    while p <= top:
        try:
            r = predict(info, kind, ref, values_at, net, p)
        except ProblemLimit as e:
            return None, f"not below 50 % up to {last} ranks, where the problem ends ({e})"
        eff = t1 / r["total"] / (p if kind == "strong" else 1)
        if eff < 0.5:
            return p, f"falls below 50 % at {p} ranks (efficiency {eff:.2f}; {last} ranks still above)"
        last, p = p, p * 2
    return None, f"stays above 50 % at every count up to {top} ranks"
