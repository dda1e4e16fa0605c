#!/usr/bin/env bash
# scripts/hdf5-matrix.sh - parsim with the system's HDF5 (Debian's 1.10)
# and with the HDF5 2.x it can build and link statically (cargo feature
# bundled-hdf5, from the source hdf5-metno-src carries): the same results,
# files each reads of the other, checkpoints that restart across the two.
#
#   ./scripts/hdf5-matrix.sh
#
# Builds the bundled-HDF5 parsim in target/bundled-hdf5 (CMake from the
# project's venv: scripts/setup.sh --bundled-hdf5; about 7 min on 2 cores,
# once: the target directory is kept), then:
#   - heat (snapshots, compression) and ou (--store paths) on 2 ranks with
#     both builds: every dataset and attribute equal (scripts/h5same.py);
#   - a heat and an ou checkpoint written by each build, resumed by the
#     other on 3 ranks: equal to an uninterrupted run;
#   - the system's h5dump reads the bundled build's file;
#   - the HDF5 tests (tests/outputs.rs, tests/reliability.rs) run against
#     the bundled build.
# Prints a table; exits 1 if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
mpi_allow_root 2>/dev/null

./scripts/setup.sh --bundled-hdf5 >/dev/null || { echo "hdf5-matrix: needs CMake in the venv (scripts/setup.sh --bundled-hdf5)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/parsim-hdf5.XXXXXX")
[[ -n ${PARSIM_HDF5_KEEP:-} ]] || trap 'rm -rf "$work"' EXIT
rows=() failed=0
record() {
  rows+=("$(printf '%-44s | %-40s | %s' "$1" "${2:0:40}" "$3")")
  [[ $3 == OK ]] || failed=$((failed + 1))
}

build_release || { echo "hdf5-matrix: the default build failed" >&2; exit 1; }
system=$PARSIM_BIN
bundled=$PARSIM_BUNDLED_BIN
t0=$(date +%s)
if ! build_bundled_hdf5; then
  echo "hdf5-matrix: the bundled-HDF5 build failed" >&2; exit 1
fi
built=$(( $(date +%s) - t0 ))
record "build (--features bundled-hdf5)" "$built s, $("$bundled" --version | grep '^HDF5')" OK

# run NAME BIN RANKS ARGS...: one run in $work/NAME, quiet.
run() {
  local name=$1 bin=$2 p=$3
  shift 3
  mkdir -p "$work/$name"
  (cd "$work/$name" && mpirun --oversubscribe --bind-to none -n "$p" "$bin" "$@" --quiet \
    >out.txt 2>err.txt)
}
same() { "$PARSIM_PYTHON" scripts/h5same.py "$1" "$2" >"$work/diff.txt" 2>&1; }

# The same results.
heat=(heat --nx 200 --ny 150 --steps 40 --snapshot-every 10 --compress 1)
ou=(ou --paths 8 --steps 2000 --record-every 50 --store paths)
for w in heat ou; do
  if [[ $w == heat ]]; then args=("${heat[@]}"); else args=("${ou[@]}"); fi
  run "$w-system" "$system" 2 "${args[@]}" --output r.h5
  run "$w-bundled" "$bundled" 2 "${args[@]}" --output r.h5
  if same "$work/$w-system/r.h5" "$work/$w-bundled/r.h5"; then ok=OK; else ok=FAIL; fi
  record "$w: 1.10 and 2.x results equal" "$(head -c 40 "$work/diff.txt")" $ok
done

# Checkpoints across the two: written by one, resumed by the other on 3
# ranks, equal to an uninterrupted run of the resuming build.
for from in system bundled; do
  to=bundled a=$system b=$bundled
  [[ $from == bundled ]] && to=system a=$bundled b=$system
  run "cross-$from" "$a" 2 heat --nx 120 --ny 90 --steps 20 --output half.h5 \
    --checkpoint-every 20 --checkpoint c.h5
  run "cross-$from" "$b" 3 heat --nx 120 --ny 90 --steps 50 --restart c.h5 --output resumed.h5
  run "cross-$from" "$b" 1 heat --nx 120 --ny 90 --steps 50 --output straight.h5
  "$PARSIM_PYTHON" - "$work/cross-$from/straight.h5" "$work/cross-$from/resumed.h5" >"$work/diff.txt" 2>&1 <<'EOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["heat/temperature"][()] for p in sys.argv[1:3])
sys.exit(0 if a.shape == b.shape and a.tobytes() == b.tobytes() else 1)
EOF
  if [[ $? == 0 ]]; then ok=OK; else ok=FAIL; fi
  record "heat checkpoint of $from resumed by $to" "$(head -c 40 "$work/diff.txt")" $ok
  run "oucross-$from" "$a" 2 ou --paths 9 --steps 1000 --record-every 30 --checkpoint-every 1 \
    --checkpoint c.h5 --output first.h5
  run "oucross-$from" "$b" 3 ou --restart c.h5 --output resumed.h5
  run "oucross-$from" "$b" 1 ou --paths 9 --steps 1000 --record-every 30 --output straight.h5
  "$PARSIM_PYTHON" - "$work/oucross-$from/straight.h5" "$work/oucross-$from/resumed.h5" >"$work/diff.txt" 2>&1 <<'EOF'
import sys, h5py
a, b = (h5py.File(p, "r")["ou"] for p in sys.argv[1:3])
names = []
a.visit(lambda n: names.append(n) if isinstance(a[n], h5py.Dataset) else None)
bad = [n for n in names if a[n][()].tobytes() != b[n][()].tobytes()]
print(" ".join(bad))
sys.exit(1 if bad or not names else 0)
EOF
  if [[ $? == 0 ]]; then ok=OK; else ok=FAIL; fi
  record "ou checkpoint of $from resumed by $to" "$(head -c 40 "$work/diff.txt")" $ok
done

# The system's tools read what HDF5 2.x wrote.
if h5dump -H "$work/heat-bundled/r.h5" >"$work/diff.txt" 2>&1; then ok=OK; else ok=FAIL; fi
record "h5dump (1.10) reads a 2.x file" "$(grep -m1 -o 'HDF5 "[^"]*"' "$work/diff.txt")" $ok

# The HDF5 tests against the bundled build.
if bundled_hdf5_env cargo test --release --locked --features bundled-hdf5 --test outputs \
    --test reliability >"$work/tests.txt" 2>&1; then ok=OK; else ok=FAIL; fi
summary=$(awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed", p, f }' "$work/tests.txt")
record "tests/outputs.rs, tests/reliability.rs" "$summary" $ok
[[ $ok == OK ]] || grep -E "^test .* FAILED|panicked" "$work/tests.txt" | head -20

echo
printf '%-44s | %-40s | %s\n' check detail verdict
printf '%s\n' "$(printf '%.0s-' {1..96})"
printf '%s\n' "${rows[@]}"
echo "hdf5-matrix: $failed check(s) failed"
(( failed == 0 ))
