#!/usr/bin/env bash
# scripts/bench.sh - performance figures (release build), printed, never asserted.
#
#   ./scripts/bench.sh ensembles [--quick]   OU 8 x 5e6 and pi, 1 and 2 ranks
#   ./scripts/bench.sh heat [--quick]        heat vs the C baseline, 1 and 2 ranks
#
# Every point is repeated (REPEAT, default 5; 2 with --quick) and reported as
# min and median: this machine is noisy, so compare figures from one run.
# Ranks are bound to cores (mpirun --bind-to core).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

what=${1:-}
quick=0
[[ ${2:-} == --quick ]] && quick=1
case $what in
  ensembles|heat) ;;
  *) echo "usage: scripts/bench.sh ensembles|heat [--quick]" >&2; exit 2 ;;
esac
repeat=${REPEAT:-$(( quick ? 2 : 5 ))}

./scripts/setup.sh --check >/dev/null || ./scripts/setup.sh
build_release
mpi_allow_root 2>/dev/null

# run_points LABEL RANKS FIELD SCALE -- parsim args...: REPEAT runs, prints
# min and median of the JSON report's FIELD times SCALE.
stat() {
  python3 -c '
import json, statistics, sys
field, scale = sys.argv[1], float(sys.argv[2])
vals = sorted(float(json.loads(l)[field]) * scale for l in sys.stdin if l.startswith("{"))
print(f"{min(vals):12.4g} {statistics.median(vals):12.4g} {max(vals):12.4g}")
' "$@"
}
point() {
  local label=$1 ranks=$2 field=$3 scale=$4; shift 4
  local out
  out=$(for _ in $(seq "$repeat"); do
          mpirun --bind-to core $(mpi_oversubscribe_flags "$ranks" 2>/dev/null) -n "$ranks" \
            "$PARSIM_BIN" "$@" --no-output --json 2>/dev/null
        done | stat "$field" "$scale")
  printf '%-46s %5s %s\n' "$label" "$ranks" "$out"
}

if [[ $what == ensembles ]]; then
  steps=5000000; samples=2000000000
  (( quick )) && samples=500000000
  echo "parsim ensembles benchmark ($(nproc) cores, $repeat repeats; min / median / max)"
  printf '%-46s %5s %12s %12s %12s\n' "case" "ranks" "min" "median" "max"
  for r in 1 2; do
    point "OU 8 paths x 5e6 steps: wall [ms]" $r wall_time_s 1000 ou --paths 8 --steps $steps
  done
  for r in 1 2; do
    point "OU: normals/s per core" $r normals_per_s_per_core 1 ou --paths 8 --steps $steps
  done
  for r in 1 2; do
    point "pi $samples samples: samples/s per core" $r samples_per_s_per_core 1 pi --samples $samples
  done
  for r in 1 2; do
    point "markov 1000 x 1e5 days: wall [ms]" $r wall_time_s 1000 markov --chains 1000 --days 100000
  done
  echo
  echo "Targets (issue 3): OU 8x5e6 on 2 ranks <= 45 ms (8x the lessons' joblib/numba 340 ms);"
  echo "pi >= 5e8 samples/s per core."
  echo
  echo "Where the OU time goes (one core, no MPI):"
  cargo run --release --locked --quiet --example ou_breakdown -- "$steps"
  exit 0
fi

# heat: parsim vs the C + MPI baseline on the same grids, same run.
cbase=${PARSIM_CHEAT_DIR:-../shared/bench/c-heat}
if [[ ! -f $cbase/heat.c ]]; then
  echo "bench: C baseline not found at $cbase (set PARSIM_CHEAT_DIR)" >&2; exit 1
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp "$cbase"/heat.c "$cbase"/triad.c "$cbase"/Makefile "$work"/
make -s -C "$work" >/dev/null
c_point() {
  local ranks=$1 n=$2 steps=$3
  for _ in $(seq "$repeat"); do
    mpirun --bind-to core -n "$ranks" "$work/heat" "$n" "$n" "$steps" | sed -n 's/^mlups=//p'
  done | sort -g | awk '{v[NR]=$1} END {printf "%12.4g %12.4g %12.4g\n", v[1], v[int((NR+1)/2)], v[NR]}'
}
sizes="2000 4000"; steps=500
(( quick )) && { sizes="2000"; steps=200; }
echo "parsim heat benchmark ($(nproc) cores, $repeat repeats; MLUPS min / median / max)"
triad=$(OMP_NUM_THREADS=1 "$work/triad" | sed -n 's/^triad_best_GBs=//p')
echo "triad (1 thread): ${triad:-?} GB/s -> roofline ~ $(python3 -c "print(round(${triad:-0}*1e3/24))") MLUPS at 24 B/update"
printf '%-46s %5s %12s %12s %12s\n' "case" "ranks" "min" "median" "max"
for n in $sizes; do
  for r in 1 2; do
    printf '%-46s %5s %s\n' "C baseline ${n}x${n} x $steps" "$r" "$(c_point $r $n $steps)"
    point "parsim ${n}x${n} x $steps" $r mlups 1 heat --nx $n --ny $n --steps $steps
  done
done
