#!/usr/bin/env bash
# scripts/soak.sh - many short back-to-back mpirun runs, alternating
# workloads and rank counts; reports failures and hangs (expected: 0 and 0).
# Not part of ./scripts/test.sh: run it by hand after changes to the MPI
# paths, e.g. before a release.
#
#   ./scripts/soak.sh            200 runs
#   ./scripts/soak.sh 1000       more
#
# Each run has a time box (SOAK_TIMEOUT, default 60 s); a run that exceeds
# it counts as a hang. Ranks cycle through 1..4 (oversubscribed past the
# core count).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

runs=${1:-200}
limit=${SOAK_TIMEOUT:-60}
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || { echo "usage: scripts/soak.sh [RUNS >= 1]" >&2; exit 2; }
build_release || exit 1
mpi_allow_root 2>/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

workloads=(
  "heat --nx 257 --ny 131 --steps 50 --checkpoint CKPT"
  "heat --init sine --nx 64 --ny 48 --steps 200 --checkpoint-every 100 --checkpoint CKPT"
  "ou --paths 7 --steps 20000 --record-every 1000"
  "ou --paths 3 --steps 5000 --tau 0.5,1 --store paths"
  "pi --samples 20000000 --chunk 1000000"
  "markov --chains 17 --days 20000"
)
failures=0 hangs=0
start=$(date +%s)
for ((k = 0; k < runs; k++)); do
  w=${workloads[k % ${#workloads[@]}]}
  w=${w//CKPT/$work/run$k.ckpt.h5}
  ranks=$(( (k / ${#workloads[@]}) % 4 + 1 ))
  out="$work/run$k.h5"
  # shellcheck disable=SC2086
  timeout --kill-after=5 "$limit" mpirun --oversubscribe --bind-to none -n "$ranks" \
    "$PARSIM_BIN" $w --output "$out" --json \
    >"$work/log" 2>&1 </dev/null
  rc=$?
  if (( rc == 124 || rc == 137 )); then
    hangs=$((hangs + 1)); echo "soak: HANG  run $k: -n $ranks $w"
  elif (( rc != 0 )) || [[ ! -s $out ]]; then
    failures=$((failures + 1)); echo "soak: FAIL  run $k (exit $rc): -n $ranks $w"; tail -n 3 "$work/log"
  fi
  rm -f "$out" "$work/run$k.ckpt.h5"
  (( (k + 1) % 50 == 0 )) && echo "soak: $((k + 1))/$runs runs, $failures failures, $hangs hangs"
done
echo "soak: $runs runs in $(( $(date +%s) - start )) s: $failures failures, $hangs hangs"
(( failures == 0 && hangs == 0 ))
