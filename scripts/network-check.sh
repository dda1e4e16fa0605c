#!/usr/bin/env bash
# scripts/network-check.sh - the cost model of `scaling.py predict` against
# runs it was not fitted to: heat's halo and pairs' ring on 2 and 4 nodes of
# the virtual cluster (scripts/cluster-local.sh), whose links are shaped to
# a real network's bandwidth with tc.
#
#   sudo scripts/network-check.sh [RATE]      (default RATE 100mbit)
#
# 1. A cluster of its own (4 nodes, namespaces prefixed pnc-, 10.253.0.0/24),
#    taken down at the end.
# 2. `parsim pingpong` between two nodes, unshaped: the latency and
#    bandwidth of the bare link (TCP over veth).
# 3. The reference: one-rank studies of heat (2000x2000, 50 steps, one-deep
#    halos not overlapped, so the halo phase is the whole exchange) and of
#    pairs (5000 points in 64 dimensions), on this machine.
# 4. Every node's link shaped to RATE (tbf); `parsim pingpong` again.
# 5. heat and pairs on 2 and 4 nodes, one rank per node, 3 runs each, on
#    bare links (before step 4) and on shaped ones: the median of the
#    communication phase (heat: halo; pairs: ring_wait).
# 6. Two predictions for each: "nominal", the bare link's latency with
#    RATE as the bandwidth (what a data sheet gives); "measured", the shaped
#    link as pingpong measured it (what the model takes on a real cluster).
# Prints the table and writes it, with everything measured, into
# results/network-check-<time>/. Latency cannot be added here: this
# kernel has no sch_netem (cluster-local.sh shape says so when asked).
#
# Environment: PARSIM_PYTHON (default .venv/bin/python), PARSIM_BIN
# (default target/release/parsim), PARSIM_CHECK_REPEAT (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

RATE=${1:-100mbit}
REPEAT=${PARSIM_CHECK_REPEAT:-3}
PY=${PARSIM_PYTHON:-.venv/bin/python}
BIN=$(realpath "${PARSIM_BIN:-target/release/parsim}")
export PARSIM_CLUSTER_NAME=pnc PARSIM_CLUSTER_NET=10.253.0 PARSIM_CLUSTER_DIR=/var/tmp/parsim-netcheck
OUT=$PWD/results/network-check-$(date +%Y%m%d-%H%M%S)
die() { echo "network-check: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, tc)"
[[ -x $BIN ]] || die "no parsim at $BIN: cargo build --release"
[[ -x $PY ]] || die "no $PY: scripts/setup.sh --python"
mpi=$("$BIN" --version | sed -n 's/^srun MPI plugin: //p')
[[ -n $mpi ]] || die "parsim --version names no srun MPI plugin"
mkdir -p "$OUT"
trap 'scripts/cluster-local.sh down >/dev/null 2>&1 || true' EXIT
scripts/cluster-local.sh up --nodes 4 >/dev/null
on_nodes() { local n=$1; shift; scripts/cluster-local.sh exec srun "$mpi" -N "$n" -n "$n" --ntasks-per-node=1 "$@"; }
mpi_allow_root
# Four nodes share this machine's cores: ranks that wait should give their
# core away instead of spinning on it (Open MPI's setting for oversubscribed
# runs; MPICH ignores it).
export OMPI_MCA_mpi_yield_when_idle=1

echo "network-check: the bare link (pingpong between two nodes)"
on_nodes 2 "$BIN" pingpong --json >"$OUT/net-bare.json" 2>/dev/null

heat=(heat --size 2000x2000 --set steps=50 --set time-block=1 --set overlap=off)
pairs=(pairs --size 5000 --set dim=64)
for w in heat pairs; do
  declare -n args=$w
  echo "network-check: the $w reference (1 rank, this machine)"
  "$PY" scripts/scaling.py strong "${args[@]}" --max-ranks 1 --repeat "$REPEAT" --parsim "$BIN" \
    --out "$OUT/$w" >/dev/null 2>&1 || die "the $w reference study failed (see $OUT/$w)"
done

# runs LABEL: heat and pairs on 2 and 4 nodes, REPEAT runs each, with the
# study's own problem as its 1-rank point ran it; the host's 1-minute load
# before each run goes beside it (other jobs make the waits longer).
runs() {
  local w n k problem
  for w in heat pairs; do
    read -ra problem <<<"$("$PY" - "$OUT/$w" <<'EOF'
import json, sys
row = json.loads(open(sys.argv[1] + "/runs.jsonl").readline())
print(" ".join(f"--{k} {v}" for k, v in (part.strip().split(" ", 1) for part in row["problem"].split(";"))))
EOF
)"
    for n in 2 4; do
      echo "network-check: $w on $n nodes, $1 links, $REPEAT runs"
      for k in $(seq 1 "$REPEAT"); do
        cut -d' ' -f1 /proc/loadavg >>"$OUT/$1-$w-$n.load"
        on_nodes "$n" "$BIN" "$w" "${problem[@]}" --no-output --json 2>/dev/null | tail -1 >>"$OUT/$1-$w-$n.jsonl"
      done
    done
  done
}
runs bare
scripts/cluster-local.sh shape rate="$RATE" >/dev/null
echo "network-check: the shaped link ($RATE)"
on_nodes 2 "$BIN" pingpong --json >"$OUT/net-shaped.json" 2>/dev/null
runs shaped
scripts/cluster-local.sh shape off >/dev/null

alpha=$("$PY" -c "import json,sys; l=[l for l in json.load(open(sys.argv[1]))['links'] if l['kind']=='inter-node'][0]; print(l['fit']['alpha_s'])" "$OUT/net-bare.json")
for w in heat pairs; do
  "$PY" scripts/scaling.py predict "$OUT/$w" --ranks 4 --cores-per-node 1 --parsim "$BIN" \
    --network "alpha=${alpha}s,beta=$RATE/s" >/dev/null 2>"$OUT/$w-nominal.err" || die "predict: $(cat "$OUT/$w-nominal.err")"
  cp "$OUT/$w/prediction.json" "$OUT/$w-nominal.json"
  "$PY" scripts/scaling.py predict "$OUT/$w" --ranks 4 --cores-per-node 1 --parsim "$BIN" \
    --network "$OUT/net-shaped.json" >/dev/null 2>"$OUT/$w-measured.err" || die "predict: $(cat "$OUT/$w-measured.err")"
  cp "$OUT/$w/prediction.json" "$OUT/$w-measured.json"
done

"$PY" - "$OUT" "$RATE" <<'EOF' | tee "$OUT/table.md"
import json, statistics, sys
out, rate = sys.argv[1], sys.argv[2]
def link(name):
    l = [l for l in json.load(open(f"{out}/{name}"))["links"] if l["kind"] == "inter-node"][0]
    return l["fit"]["alpha_s"], l["fit"]["beta_bytes_per_s"]
(a0, b0), (a1, b1) = link("net-bare.json"), link("net-shaped.json")
print(f"# The cost model against shaped links ({rate}), scripts/network-check.sh\n")
print(f"Bare link between two nodes: alpha {a0 * 1e6:.1f} us, beta {b0 / 1e9:.2f} GB/s; "
      f"shaped: alpha {a1 * 1e6:.1f} us, beta {b1 / 1e6:.1f} MB/s (parsim pingpong fits).\n")
print("Medians of the runs' communication phase (average over ranks). 'bare': the same runs on unshaped")
print("links, where the network costs next to nothing: what the phase holds besides the network (waiting")
print("for a neighbour that computes on a shared core). Predictions: 'nominal' takes the bare link's")
print("latency and the tc rate; 'link' the shaped link as pingpong measured it.\n")
print("| workload | phase | nodes | bare [s] | shaped [s] | nominal [s] | ratio | link [s] | ratio | within 25 % | load |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
for w, ph in (("heat", "halo"), ("pairs", "ring_wait")):
    pred = {k: {r["p"]: r for r in json.load(open(f"{out}/{w}-{k}.json"))["ranks"] if "comm" in r}
            for k in ("nominal", "measured")}
    for n in (2, 4):
        def median(label):
            runs = [json.loads(l) for l in open(f"{out}/{label}-{w}-{n}.jsonl") if l.strip()]
            return statistics.median(r["phases"][ph]["avg"] for r in runs)
        bare, m = median("bare"), median("shaped")
        load = max(float(x) for label in ("bare", "shaped") for x in open(f"{out}/{label}-{w}-{n}.load"))
        pn, pm = pred["nominal"][n]["comm"], pred["measured"][n]["comm"]
        ok = "yes" if abs(pm / m - 1) <= 0.25 else "no"
        print(f"| {w} | {ph} | {n} | {bare:.4f} | {m:.4f} | {pn:.4f} | {pn / m:.2f} | {pm:.4f} | {pm / m:.2f} "
              f"| {ok} | {load:.1f} |")
print("\nload: the host's highest 1-minute load average before a run (cores: 2; 4 nodes share them).")
EOF
echo "network-check: everything in $OUT"
