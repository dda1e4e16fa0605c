#!/usr/bin/env bash
# scripts/mpi-matrix.sh - build parsim against each MPI that clusters run
# and prove the results bit for bit the same as with the reference MPI.
#
#   ./scripts/mpi-matrix.sh               every MPI (scripts/lib.sh PARSIM_MPIS)
#   ./scripts/mpi-matrix.sh mpich intel   only these (and the reference)
#   ./scripts/mpi-matrix.sh --build-only mpich   install and build, run nothing
#   PARSIM_MATRIX_RANKS="1 3"             rank counts of every case (default)
#
# The reference is the system's Open MPI (Debian's 4.1: target/release).
# The others (MPICH, Open MPI 5, Intel MPI) come from PyPI, installed by
# scripts/setup.sh --mpi NAME into .mpi/NAME (done here when missing), each
# built in its own target directory (target/mpi/NAME). For each MPI:
#   - the build, timed;
#   - every case of scripts/cases.sh (every workload) on each rank count,
#     started by that MPI's own launcher (mpirun, or Hydra's mpiexec), and
#     compared with the reference's run by scripts/h5same.py --across-mpi:
#     every dataset and attribute, and the --json report;
#   - SIGTERM and then SIGUSR1 sent to the launcher of a long heat run: the
#     exit code, the stop lines printed and whether a checkpoint was left,
#     checked against what each launcher is known to do (below);
#   - the binary run with the library of another MPI of the same name
#     (Open MPI 4.1 <-> 5: libmpi.so.40; MPICH <-> Intel MPI: libmpi.so.12),
#     which it must refuse in one line (exit 1).
# Prints a table; exits 1 if anything failed. An MPI that cannot be
# installed is a loud SKIP line, and a failure under CI=true.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
source scripts/cases.sh
mpi_allow_root 2>/dev/null

ranks=${PARSIM_MATRIX_RANKS:-1 3}
build_only=0
if [[ ${1:-} == --build-only ]]; then build_only=1; shift; fi
wanted=("$@")
(( ${#wanted[@]} )) || read -ra wanted <<<"$PARSIM_MPIS"
for m in "${wanted[@]}"; do
  mpi_package "$m" >/dev/null || { echo "mpi-matrix: unknown MPI '$m' (one of: $PARSIM_MPIS)" >&2; exit 2; }
done
# The reference first: every other MPI's runs are compared with its.
others=()
for m in "${wanted[@]}"; do [[ $m == openmpi ]] || others+=("$m"); done
wanted=(openmpi "${others[@]}")
./scripts/setup.sh --python >/dev/null || { echo "mpi-matrix: needs the Python venv" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/parsim-matrix.XXXXXX")
[[ -n ${PARSIM_MATRIX_KEEP:-} ]] || trap 'rm -rf "$work"' EXIT

# What a stop signal sent to each launcher does: the launcher's exit code,
# the stop lines printed, whether a checkpoint was written, and whether
# rank 0 said at once that Open MPI 5's mpirun is ending the job.
#  - Open MPI 4.1's mpirun passes SIGTERM on to the ranks, which stop as
#    promised (one line, a checkpoint), but then exits 1 itself where a job
#    script looks for 75.
#  - Open MPI 5's mpirun (PRRTE's prterun) ends the job: SIGCONT to the
#    ranks, SIGTERM 0.25 s after the signal, SIGKILL 0.25 s after that
#    (hard-coded in PRRTE), reading none of their output meanwhile, and
#    exits 1. Rank 0 writes to mpirun's own stderr instead (src/stop.rs):
#    at once the line that mpirun is ending the job, then its stop line if
#    the stop finishes before SIGKILL. This 600x600 run's does (checkpoint
#    written about 15 ms after the ranks' SIGTERM, line at +0.26 s, 10 of
#    10 runs), so the line and the checkpoint are pinned; a 4000x4000 run's
#    128 MB checkpoint does not (only the first line, no checkpoint).
#  - SIGUSR1 is forwarded by every launcher and answered with 75: the docs
#    send it (sbatch --signal=B:USR1@60).
expected_stop() {
  case $1:$2 in
    openmpi:TERM) echo "1 1 yes 0" ;;
    openmpi5:TERM) echo "1 1 yes 1" ;;
    *) echo "75 1 yes 0" ;;
  esac
}

# The library directories of another MPI with the same library name.
sibling_libs() {
  case $1 in
    openmpi) mpi_installed openmpi5 && echo "$(mpi_prefix openmpi5)/lib" ;;
    openmpi5) echo "/usr/lib/x86_64-linux-gnu" ;; # Debian keeps libmpi.so.40 there
    mpich) mpi_installed intel && echo "$(mpi_prefix intel)/lib/release:$(mpi_prefix intel)/lib" ;;
    intel) mpi_installed mpich && echo "$(mpi_prefix mpich)/lib" ;;
  esac
}

# The parsim processes running in directory $1 (from /proc: a fresh
# Debian has no procps).
ranks_in() {
  local p
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/cwd" 2>/dev/null) == "$1" && $(cat "$p/comm" 2>/dev/null) == parsim ]] && echo "${p#/proc/}"
  done
}
left_ranks() { [[ -n $(ranks_in "$1") ]]; }

rows=() failed=0
fail() { failed=$((failed + 1)); }

# stop_case NAME SIG: a long heat run started by NAME's launcher, SIG sent
# to the launcher after 3 s; prints "CODE LINES yes|no WARNED": the exit
# code, the stop lines, whether a checkpoint was left, and the lines saying
# Open MPI 5's mpirun is ending the job.
stop_case() {
  local m=$1 sig=$2 dir=$work/$1/stop-$2 job code=124 t=0
  rm -rf "$dir"; mkdir -p "$dir"
  local -a launch
  read -ra launch <<<"$(mpi_launcher "$m")"
  (cd "$dir" && exec env "${launch[@]}" -n 2 "$(mpi_bin "$m")" heat --nx 600 --ny 600 \
    --steps 100000000 --output s.h5 >out.txt 2>err.txt) &
  job=$!
  sleep 3
  kill -"$sig" "$job" 2>/dev/null
  while kill -0 "$job" 2>/dev/null && (( t < 300 )); do sleep 0.1; t=$((t + 1)); done
  if kill -0 "$job" 2>/dev/null; then
    kill -9 "$job" 2>/dev/null
  else
    wait "$job"; code=$?
  fi
  # No rank may outlive its launcher by more than a few seconds.
  for t in $(seq 50); do left_ranks "$dir" || break; sleep 0.1; done
  if left_ranks "$dir"; then
    echo "mpi-matrix: $m, SIG$sig: ranks left running after the launcher ended" >&2
    code=orphans
    # shellcheck disable=SC2046 # pids are words
    kill -9 $(ranks_in "$dir") 2>/dev/null
  fi
  local lines warned ckpt=no
  lines=$(grep -c "stopped by SIG$sig" "$dir/err.txt")
  warned=$(grep -c "mpirun is ending the job" "$dir/err.txt")
  [[ -e $dir/s.ckpt.h5 ]] && ckpt=yes
  echo "$code $lines $ckpt $warned"
}

for m in "${wanted[@]}"; do
  if ! mpi_installed "$m"; then
    ./scripts/setup.sh --mpi "$m" >/dev/null 2>&1 || true
  fi
  if ! mpi_installed "$m"; then
    echo "*** SKIP: MPI '$m' is not installed and could not be (scripts/setup.sh --mpi $m) ***"
    rows+=("$(printf '%-9s | %-36s | %s' "$m" "not installed" "SKIP")")
    [[ -n ${CI:-} ]] && fail
    continue
  fi
  t0=$(date +%s)
  if ! mpi_build "$m"; then
    rows+=("$(printf '%-9s | %-36s | %s' "$m" "build failed" "FAIL")"); fail; continue
  fi
  built=$(( $(date +%s) - t0 ))
  if (( build_only )); then echo "mpi-matrix: built $m in $built s: $(mpi_bin "$m")"; continue; fi
  bin=$(mpi_bin "$m")
  lib=$(mpi_run "$m" "$bin" --version | sed -n 's/^MPI library: //p' | cut -c1-36)
  read -ra launch <<<"$(mpi_launcher "$m")"
  runs=0 same=0
  for c in "${cases[@]}"; do
    name=${c%%|*} args=${c#*|}
    for p in $ranks; do
      dir=$work/$m/$name-p$p ref=$work/openmpi/$name-p$p
      mpi_run "$m" run_case "$dir" "$p" "$args" "$bin" "${launch[@]}"
      runs=$((runs + 1))
      if [[ $m == openmpi ]]; then
        [[ $(cat "$dir/rc") == 0 ]] && same=$((same + 1))
        continue
      fi
      if [[ $(cat "$dir/rc") == 0 && -f $dir/o.h5 && -f $ref/o.h5 ]] &&
         "$PARSIM_PYTHON" scripts/h5same.py --across-mpi "$ref/o.h5" "$dir/o.h5" >"$dir/diff.txt" &&
         "$PARSIM_PYTHON" scripts/h5same.py --across-mpi "$ref/report.json" "$dir/report.json" >>"$dir/diff.txt"; then
        same=$((same + 1))
      else
        echo "mpi-matrix: $m, $name on $p rank(s): exit $(cat "$dir/rc"); $(head -c 300 "$dir/diff.txt" "$dir/stderr.txt" 2>/dev/null | tr '\n' ' ')"
      fi
    done
  done
  verdict=OK
  (( same == runs )) || verdict=FAIL
  stops=()
  for sig in TERM USR1; do
    read -r code lines ckpt warned <<<"$(mpi_run "$m" stop_case "$m" "$sig")"
    want=$(expected_stop "$m" "$sig")
    stops+=("$code/$lines/$ckpt/$warned")
    [[ "$code $lines $ckpt $warned" == "$want" ]] ||
      { verdict=FAIL; echo "mpi-matrix: $m, SIG$sig to the launcher: exit $code, $lines stop line(s), checkpoint $ckpt, $warned 'ending the job' line(s); known: $want"; }
  done
  other=$(sibling_libs "$m")
  if [[ -n $other ]]; then
    out=$(LD_LIBRARY_PATH=$other "$bin" pi --samples 1000 --no-output 2>&1); code=$?
    n=$(grep -c "^parsim: error: this parsim was built for the MPI library" <<<"$out")
    mismatch="exit $code, $n line"
    [[ $code == 1 && $n == 1 ]] || { verdict=FAIL; echo "mpi-matrix: $m with another MPI's library: exit $code: $out"; }
  else
    mismatch="(no sibling MPI)"
  fi
  [[ $verdict == OK ]] || fail
  rows+=("$(printf '%-9s | %-36s | %5s s | %3d/%-3d | %-35s | %-15s | %s' "$m" "$lib" "$built" "$same" "$runs" \
    "${stops[0]} ${stops[1]}" "$mismatch" "$verdict")")
done

echo
printf '%-9s | %-36s | %7s | %-7s | %-35s | %-15s | %s\n' MPI library build bitwise \
  "TERM, USR1 (exit/lines/ckpt/warned)" "other library" verdict
printf '%s\n' "$(printf '%.0s-' {1..138})"
printf '%s\n' "${rows[@]}"
echo "(bitwise: runs whose every dataset, attribute and report field equals the reference's;"
echo " for the reference, runs that succeeded. TERM/USR1: sent to the launcher; warned: lines"
echo " saying that Open MPI 5's mpirun is ending the job.)"
echo "mpi-matrix: $failed MPI(s) failed"
(( failed == 0 ))
