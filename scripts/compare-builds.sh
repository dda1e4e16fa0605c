#!/usr/bin/env bash
# scripts/compare-builds.sh - prove that two builds of parsim give the same
# results, bit for bit: the check every refactor ends with.
#
#   ./scripts/compare-builds.sh OLD NEW
#     OLD, NEW   a parsim executable, or a git revision (built once into
#                target/compare/<commit>, in a worktree of its own)
#   PARSIM_COMPARE_RANKS="1 2 3"   rank counts of the matrix (default)
#   PARSIM_COMPARE_KEEP=1          keep the run directories (printed)
#   PARSIM_COMPARE_PARALLEL=1      build revisions with parallel HDF5 and
#                                  compare --io parallel too
#
# Runs a matrix of cases (heat: disk, sine, snapshots + compression, time
# block 1 / auto / 4, 2 threads, restart across P, --io parallel when both
# builds have it; ou: stats, paths, sweep; pi; markov; integrate: built-in
# and expression; mandelbrot: each schedule; pairs: with and without the
# matrix; every workload `parsim workloads` lists must have a case) with
# both builds on every rank count, in directories of
# their own, and compares with scripts/h5same.py: every dataset and
# attribute of every result file, and the --json report, are equal except
# provenance (commit, command line, times) and timings. Exit codes must be
# equal too. Then, across rank counts, the new build's runs of a case
# against its run on the first rank count (h5same.py --across-ranks): the
# same datasets, and the same report (printed and stored) but for the keys
# it lists in run_keys. Prints one line per case and a closing table;
# exits 1 on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
mpi_allow_root 2>/dev/null

(( $# == 2 )) || { sed -n '2,26p' "$0"; exit 2; }
./scripts/setup.sh --python >/dev/null || { echo "compare: needs the Python venv (scripts/setup.sh --python)" >&2; exit 1; }

# A parsim executable for $1: as given, or built from a git revision (with
# PARSIM_COMPARE_PARALLEL=1: the parallel-HDF5 build, so that --io parallel
# is compared too).
binary_of() {
  if [[ -x $1 && -f $1 ]]; then realpath "$1"; return; fi
  local sha dir target=target features=()
  sha=$(git rev-parse --verify "$1^{commit}" 2>/dev/null) || { echo "compare: '$1' is neither an executable nor a git revision" >&2; return 1; }
  dir=$PARSIM_ROOT/target/compare/$sha
  if [[ -n ${PARSIM_COMPARE_PARALLEL:-} ]]; then
    target=target/parallel-io features=(--features parallel-io)
  fi
  if [[ ! -x $dir/$target/release/parsim ]]; then
    echo "compare: building $1 ($sha) in $dir ${features[*]}" >&2
    [[ -d $dir ]] || git worktree add -q --detach "$dir" "$sha" >&2
    if [[ -n ${PARSIM_COMPARE_PARALLEL:-} ]]; then
      (cd "$dir" && HDF5_DIR=$PARSIM_HDF5_MPI_DIR CARGO_TARGET_DIR=$dir/$target \
        cargo build --release --locked --quiet "${features[@]}" >&2)
    else
      (cd "$dir" && pin_hdf5 && cargo build --release --locked --quiet >&2)
    fi
  fi
  echo "$dir/$target/release/parsim"
}
old=$(binary_of "$1")
new=$(binary_of "$2")
ranks=${PARSIM_COMPARE_RANKS:-1 2 3}
work=$(mktemp -d "${TMPDIR:-/tmp}/parsim-compare.XXXXXX")
[[ -n ${PARSIM_COMPARE_KEEP:-} ]] || trap 'rm -rf "$work"' EXIT

source scripts/cases.sh
# Workloads the matrix must cover: every one `parsim workloads` lists.
listed=$("$new" workloads | awk '{print $1}') && [[ -n $listed ]] ||
  { echo "compare: $new does not list its workloads (parsim workloads): give the newer build second" >&2; exit 1; }
for w in $listed; do
  printf '%s\n' "${cases[@]}" | grep -q "|$w " ||
    { echo "compare: no case runs workload '$w': add one" >&2; exit 1; }
done
# --io parallel: the same heat cases through MPI-IO, when both builds have it.
if "$old" --version | grep -q 'parallel I/O (--io parallel): yes' &&
   "$new" --version | grep -q 'parallel I/O (--io parallel): yes'; then
  cases+=("heat-parallel-io|heat --nx 150 --ny 100 --steps 30 --io parallel"
          "heat-parallel-io-snapshots|heat --nx 90 --ny 70 --steps 40 --snapshot-every 10 --io parallel")
else
  echo "compare: *** --io parallel not compared: a build without parallel HDF5 (cargo feature parallel-io) ***"
fi

same=0 differ=0
printf '%-22s %6s  %s\n' case ranks result
for c in "${cases[@]}"; do
  name=${c%%|*} args=${c#*|}
  for p in $ranks; do
    a=$work/old/$name-p$p b=$work/new/$name-p$p
    run_case "$a" "$p" "$args" "$old" mpirun --oversubscribe --bind-to none
    run_case "$b" "$p" "$args" "$new" mpirun --oversubscribe --bind-to none
    problems=()
    [[ $(cat "$a/rc") == "$(cat "$b/rc")" ]] || problems+=("exit $(cat "$a/rc") vs $(cat "$b/rc")")
    [[ $(cat "$a/rc") == 0 ]] || problems+=("old build failed: $(tail -1 "$a/stderr.txt")")
    if [[ -f $a/o.h5 && -f $b/o.h5 ]]; then
      out=$("$PARSIM_PYTHON" scripts/h5same.py "$a/o.h5" "$b/o.h5") || problems+=("$out")
      out=$("$PARSIM_PYTHON" scripts/h5same.py "$a/report.json" "$b/report.json") || problems+=("$out")
    else
      problems+=("a result file is missing")
    fi
    # Across rank counts (the new build; its reports list their run_keys).
    first=$work/new/$name-p${ranks%% *}
    if [[ $b != "$first" && -f $b/o.h5 && -f $first/o.h5 ]] && grep -q '"run_keys"' "$b/report.json"; then
      for f in o.h5 report.json; do
        out=$("$PARSIM_PYTHON" scripts/h5same.py --across-ranks "$first/$f" "$b/$f") ||
          problems+=("across ranks (p${ranks%% *} vs p$p): $out")
      done
    fi
    if (( ${#problems[@]} == 0 )); then
      same=$((same + 1)); printf '%-22s %6s  %s\n' "$name" "$p" "identical"
    else
      differ=$((differ + 1)); printf '%-22s %6s  %s\n' "$name" "$p" "DIFFERENT"
      printf '%s\n' "${problems[@]}" | sed 's/^/    /' | cut -c1-400
    fi
  done
done
[[ -n ${PARSIM_COMPARE_KEEP:-} ]] && echo "compare: runs kept in $work"
echo "compare: $old vs $new"
echo "compare: $same identical, $differ different"
(( differ == 0 ))
