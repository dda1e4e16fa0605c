#!/usr/bin/env bash
# scripts/faults.sh - inject the faults a cluster job meets and print a
# table of what parsim did: a rank killed with SIGKILL, SIGTERM and SIGUSR1
# for every workload, a full disk (a small tmpfs) before and during a run
# with gathered and parallel I/O, two runs writing one output at once,
# kill -9 at many instants of the final write (the result and its sidecar
# stay a pair), Ctrl-C and SIGHUP without mpirun, a panicking rank, a
# closed stdout, a stop inside long OU members (how soon it is heard), two
# runs naming one checkpoint, a file put at a checkpoint, live locks of a
# renamed binary, a sidecar that appears during the run, ulimit -v and -f,
# an allocation that fails, and SIGUSR1 at start-up.
#
#   ./scripts/faults.sh                 every case, in a fresh temp dir
#   ./scripts/faults.sh --dir DIR       work in DIR (created; left there)
#
# Exit status 0 when every case behaved as expected (SKIP counts as fine:
# the full-disk cases need root to mount a tmpfs, the parallel-I/O ones the
# parallel-io build). Everything happens inside the work directory: the
# tmpfs is mounted on a directory in it and unmounted at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

work=
case ${1:-} in
  --dir) work=${2:?--dir needs a directory}; mkdir -p "$work" ;;
  "") ;;
  *) echo "usage: scripts/faults.sh [--dir DIR]" >&2; exit 2 ;;
esac
if [[ -z $work ]]; then
  work=$(mktemp -d)
  trap 'umount "$work"/disk 2>/dev/null; rm -rf "$work"' EXIT
else
  trap 'umount "$work"/disk 2>/dev/null' EXIT
fi
work=$(cd "$work" && pwd)

build_release || exit 1
parallel=
if has_parallel_hdf5 && build_parallel_io; then parallel=$PARSIM_PARALLEL_BIN; fi
mpi_allow_root 2>/dev/null
bin=$PARSIM_BIN
results=()
failed=0

# record NAME EXPECTED GOT OK|FAIL|SKIP
record() {
  results+=("$(printf '%-34s | %-44s | %-52s | %s' "$1" "$2" "${3:0:52}" "$4")")
  [[ $4 == FAIL ]] && failed=$((failed + 1))
}

# The first "parsim: error" line of a stderr file, and how many there are.
first_error() { grep -m1 '^parsim: error' "$1" | cut -c16-; }
errors() { grep -c '^parsim: error' "$1"; }

# Start `mpirun -n 2 ARGS...` in $dir in the background; its pid in $job.
launch() {
  (cd "$dir" && exec mpirun -n 2 "$@" >out.txt 2>err.txt) &
  job=$!
}

# Wait up to $1 seconds for $job; its exit code in $code (124: still running, killed).
finish() {
  local limit=$1 t=0
  while kill -0 "$job" 2>/dev/null && (( t < limit * 10 )); do sleep 0.1; t=$((t + 1)); done
  if kill -0 "$job" 2>/dev/null; then
    signal_ranks KILL; kill -9 "$job" 2>/dev/null; wait "$job" 2>/dev/null; code=124
  else
    wait "$job"; code=$?
  fi
}

# The rank pids of the job (parsim children of mpirun), in ascending order.
# Read from /proc: a fresh Debian has no procps (pgrep, pkill).
ranks() {
  local f stat state ppid
  for f in /proc/[0-9]*/stat; do
    { read -r stat <"$f"; } 2>/dev/null || continue
    # "pid (comm) state ppid ...": comm parsim, ppid the job.
    [[ $stat == *" (parsim) "* ]] || continue
    read -r state ppid _ <<<"${stat##*) }"
    [[ $ppid == "$job" && $state != Z ]] && echo "${stat%% *}"
  done | sort -n
}
signal_ranks() { local p; for p in $(ranks); do kill -"$1" "$p" 2>/dev/null; done; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

fresh() { dir=$work/$1; rm -rf "$dir"; mkdir -p "$dir"; }

# 1. kill -9 of a rank: the job ends; its lock and temporary file stay
# (nothing can run in a killed process) and the next run on that output
# takes them over as stale.
fresh kill9
launch "$bin" heat --nx 600 --ny 600 --steps 100000000 --checkpoint-every 200 --output k.h5
sleep 3
all=$(ranks)
victim=$(tail -1 <<<"$all")
t0=$(now_ms)
kill -9 "$victim"
finish 30
ms=$(( $(now_ms) - t0 ))
killed=$code
# Until the other rank is gone too (the next run's lock check sees it).
for _ in $(seq 50); do
  gone=1; for p in $all; do [[ -e /proc/$p ]] && gone=0; done
  (( gone )) && break; sleep 0.1
done
# The next run on the same output and checkpoint (--force: the killed run
# may have completed a checkpoint) takes over both locks as stale and
# removes both temporaries (the kill can land while a checkpoint is written).
(cd "$dir" && mpirun -n 2 "$bin" heat --nx 60 --ny 60 --steps 10 --output k.h5 --force >/dev/null 2>again.txt)
again=$?
left=$(cd "$dir" && ls -A | grep -v '\.txt$' | grep -v '^\(k\.h5\|k\.xmf\|k\.ckpt\.h5\)$' | tr '\n' ' ')
got="exit $killed in $((ms / 1000)).$(printf '%02d' $((ms % 1000 / 10))) s; next run exit $again; left: ${left:-nothing}"
if [[ $killed -ne 0 && $killed -ne 124 && $again -eq 0 && -z $left ]] && (( ms < 10000 )); then ok=OK; else ok=FAIL; fi
record "kill -9 of rank 1 (heat)" "ends < 10 s; next run cleans up" "$got" $ok

# 2. SIGTERM to the ranks and SIGUSR1 to mpirun, every workload.
workloads=(
  "heat|heat --nx 600 --ny 600 --steps 100000000"
  "ou|ou --paths 64 --steps 400000000 --checkpoint-every 1"
  "pi|pi --samples 100000000000"
  "markov|markov --chains 200000 --days 1000000"
)
for w in "${workloads[@]}"; do
  name=${w%%|*}; args=${w#*|}
  for how in "SIGTERM to the ranks" "SIGUSR1 to mpirun"; do
    fresh "stop-$name-${how%% *}"
    # shellcheck disable=SC2086
    launch "$bin" $args --output r.h5
    sleep 3
    if [[ $how == SIGTERM* ]]; then
      signal_ranks TERM
    else
      kill -USR1 "$job"
    fi
    finish 30
    msg=$(first_error "$dir/err.txt")
    sig=${how%% *}
    got="exit $code, $(errors "$dir/err.txt") line: ${msg:0:30}"
    if [[ $code -eq 75 && $(errors "$dir/err.txt") -eq 1 && $msg == *"stopped by $sig"* && ! -e $dir/r.h5 ]]; then ok=OK; else ok=FAIL; fi
    record "$how ($name)" "exit 75, one line, no result" "$got" $ok
  done
done

# 3. Full disks: a 2 MiB tmpfs (root only).
disk=$work/disk
mkdir -p "$disk"
if [[ $(id -u) -ne 0 ]] || ! mount -t tmpfs -o size=2M parsim-faults "$disk" 2>/dev/null; then
  record "full disk" "(needs root to mount a tmpfs)" "" SKIP
else
  for case in "heat gather|$bin|heat --nx 800 --ny 800 --steps 10" \
              "heat parallel|$parallel|heat --io parallel --nx 800 --ny 800 --steps 10" \
              "ou --store paths|$bin|ou --paths 1000 --steps 2000 --store paths"; do
    name=${case%%|*}; rest=${case#*|}; b=${rest%%|*}; args=${rest#*|}
    [[ -z $b ]] && { record "full disk ($name)" "(no parallel-io build)" "" SKIP; continue; }
    rm -rf "${disk:?}"/* "$disk"/.[!.]* 2>/dev/null
    dir=$disk
    # shellcheck disable=SC2086
    launch "$b" $args --output full.h5
    finish 60
    msg=$(first_error "$dir/err.txt")
    left=$(cd "$dir" && ls -A | grep -v '\.txt$' | tr '\n' ' ')
    got="exit $code: ${msg:0:40}"
    if [[ $code -ne 0 && $code -ne 124 && $code -ne 139 && $msg == *"not enough disk space"* && -z $left ]]; then ok=OK; else ok=FAIL; fi
    record "full disk at start ($name)" "refused in one line, nothing left" "$got" $ok
  done
  # The disk fills up during the run: the reserved space carries it.
  umount "$disk"; mount -t tmpfs -o size=16M parsim-faults "$disk"
  for case in "gather|$bin|" "parallel|$parallel|--io parallel"; do
    name=${case%%|*}; rest=${case#*|}; b=${rest%%|*}; io=${rest#*|}
    [[ -z $b ]] && { record "disk fills mid-run ($name)" "(no parallel-io build)" "" SKIP; continue; }
    rm -rf "${disk:?}"/* "$disk"/.[!.]* 2>/dev/null
    dir=$disk
    # shellcheck disable=SC2086
    launch "$b" heat $io --nx 300 --ny 300 --steps 40000 --snapshot-every 20000 --output mid.h5
    # Fill the disk once the run has reserved its files.
    for _ in $(seq 200); do
      [[ -n $(find "$dir" -name '.mid.h5.tmp-*' -size +1M) ]] && break
      sleep 0.05
    done
    dd if=/dev/zero of="$disk/filler" bs=64k 2>/dev/null
    finish 60
    got="exit $code, $(ls "$dir" | grep -c '^mid\.')/2 files"
    if [[ $code -eq 0 && -s $dir/mid.h5 && -s $dir/mid.xmf ]]; then ok=OK; else ok=FAIL; fi
    record "disk fills mid-run ($name)" "exit 0, result and sidecar" "$got" $ok
  done
  umount "$disk"
fi

# 4. Two runs, one output, no --force: one wins, the other is refused,
# and the result and its sidecar come from the same run.
fresh writers
(cd "$dir" && exec mpirun -n 1 "$bin" heat --nx 400 --ny 400 --steps 3000 --snapshot-every 1000 --output same.h5 >a.txt 2>a.err.txt) &
a=$!
(cd "$dir" && exec mpirun -n 1 "$bin" heat --nx 400 --ny 400 --steps 2000 --snapshot-every 1000 --output same.h5 >b.txt 2>b.err.txt) &
b=$!
wait $a; ca=$?; wait $b; cb=$?
steps=$("$PARSIM_PYTHON" -c "import h5py; print(h5py.File('$dir/same.h5')['heat'].attrs['step'])" 2>/dev/null)
times=$(grep -c '<Time ' "$dir/same.xmf" 2>/dev/null)
got="exits $ca,$cb; h5 step $steps, xmf $times times"
# 3000 steps: snapshots at 0, 1000, 2000 and the final field = 4 times (the
# snapshot at 3000 is the final field); 2000 steps: 3 times.
pair_ok=0
[[ $steps == 3000 && $times == 4 ]] && pair_ok=1
[[ $steps == 2000 && $times == 3 ]] && pair_ok=1
if (( (ca == 0) + (cb == 0) == 1 && pair_ok )); then ok=OK; else ok=FAIL; fi
record "two runs, one --output" "one wins, .h5 and .xmf of one run" "$got" $ok

# 5. kill -9 of rank 0 while it writes the final result: at every kill
# instant the result and its sidecar are of one run (old or new), or the
# commit journal is there and the next run on that output finishes it.
fresh finalwrite
pair() {  # "STEP TIMES" of $dir/fw.h5 and fw.xmf
  local s x
  s=$("$PARSIM_PYTHON" -c "import h5py; print(h5py.File('$dir/fw.h5')['heat'].attrs['step'])" 2>/dev/null)
  x=$(grep -c '<Time ' "$dir/fw.xmf" 2>/dev/null)
  echo "$s $x"
}
old_run() { (cd "$dir" && mpirun -n 2 "$bin" heat --nx 200 --ny 200 --steps 2000 --snapshot-every 1000 --output fw.h5 --force >/dev/null 2>&1); }
new_args=(heat --nx 3000 --ny 3000 --steps 30 --snapshot-every 10 --output fw.h5 --force)
# How long a new run takes here (the kill instants are spread over its last
# fifth, where the file is gathered, written, closed and committed).
t0=$(now_ms); (cd "$dir" && mpirun -n 2 "$bin" "${new_args[@]}" >/dev/null 2>&1); d=$(( $(now_ms) - t0 ))
old_run
old=0 new=0 journaled=0 mixed=0
for k in $(seq 0 13); do
  launch "$bin" "${new_args[@]}"
  sleep "$(awk -v d="$d" -v k="$k" 'BEGIN { printf "%.3f", d * (0.78 + 0.017 * k) / 1000 }')"
  kill -9 "$(ranks | head -1)" 2>/dev/null
  finish 30
  case $(pair) in
    "2000 3") old=$((old + 1)) ;;
    "30 4") new=$((new + 1)) ;;
    *) if [[ -e $dir/.fw.h5.commit ]]; then journaled=$((journaled + 1)); else mixed=$((mixed + 1)); fi ;;
  esac
  # The next run takes the dead run's locks over (finishing a journal),
  # then leaves the old pair again for the next instant.
  old_run
  [[ $(pair) == "2000 3" ]] || mixed=$((mixed + 1))
done
got="old $old, new $new, journaled $journaled, mixed $mixed (run $((d / 100))/10 s)"
if (( mixed == 0 )); then ok=OK; else ok=FAIL; fi
record "kill -9 during the final write" "h5 and xmf of one run, 14 instants" "$got" $ok

# 6. Ctrl-C and a closed terminal without mpirun: stopped like SIGTERM.
for sig in INT HUP; do
  fresh "sig$sig"
  (cd "$dir" && exec "$bin" heat --nx 1500 --ny 1500 --steps 100000 --output s.h5 --quiet >out.txt 2>err.txt) &
  job=$!
  sleep 2
  kill -"$sig" "$job"
  finish 30
  left=$(cd "$dir" && ls -A | grep -v '\.txt$' | grep -v '^s\.ckpt\.h5$' | tr '\n' ' ')
  got="exit $code, checkpoint $([[ -e $dir/s.ckpt.h5 ]] && echo yes || echo no), left: ${left:-nothing}"
  if [[ $code -eq 75 && -e $dir/s.ckpt.h5 && -z $left ]]; then ok=OK; else ok=FAIL; fi
  record "SIG$sig to parsim without mpirun" "exit 75, checkpoint, nothing left" "$got" $ok
done

# 7. A rank panics: the job ends (MPI_Abort) and the panicking rank removes
# rank 0's temporaries and locks, which rank 0 (killed) cannot.
fresh panic
(cd "$dir" && PARSIM_INJECT_PANIC=1 exec mpirun -x PARSIM_INJECT_PANIC -n 2 "$bin" heat --nx 300 --ny 300 --steps 100000 --output p.h5 >out.txt 2>err.txt)
code=$?
left=$(cd "$dir" && ls -A | grep -v '\.txt$' | tr '\n' ' ')
got="exit $code, left: ${left:-nothing}"
if [[ $code -eq 70 && -z $left ]]; then ok=OK; else ok=FAIL; fi
record "a panic on rank 1 (heat)" "exit 70, nothing left behind" "$got" $ok

# 8. The report into a closed pipe: not a crash.
fresh pipe
(cd "$dir" && "$bin" pi --samples 20000000 --output p.h5 2>err.txt | true; echo "${PIPESTATUS[0]}" >rc.txt)
code=$(cat "$dir/rc.txt")
got="exit $code, $(grep -c panicked "$dir/err.txt") panic line(s), result $([[ -e $dir/p.h5 ]] && echo yes || echo no)"
if [[ $code -eq 0 && -e $dir/p.h5 ]] && ! grep -q panicked "$dir/err.txt"; then ok=OK; else ok=FAIL; fi
record "stdout into a closed pipe" "exit 0, result written, no panic" "$got" $ok

# 9. A stop inside long OU members: rounds are counted in steps, so the
# stop is honoured (checkpoint written, the stop line printed) within a
# round whatever the member length. Timed from SIGUSR1 to mpirun to the
# "stopped by" line; mpirun's own teardown after it is not parsim's.
for e in 6 8 9; do
  steps=$(( 10 ** e ))
  fresh "ou-stop-$steps"
  paths=$(( 4096000000 / steps )); (( paths < 8 )) && paths=8
  launch "$bin" ou --paths "$paths" --steps "$steps" --output o.h5
  sleep 2.5
  t0=$(now_ms)
  kill -USR1 "$job"
  for _ in $(seq 3000); do grep -q 'stopped by' "$dir/err.txt" 2>/dev/null && break; sleep 0.01; done
  ms=$(( $(now_ms) - t0 ))
  finish 30
  msg=$(first_error "$dir/err.txt")
  part=$(grep -o '[0-9]* part-way' <<<"$msg")
  got="stop line after $ms ms, exit $code, ${part:-none part-way}"
  if [[ $code -eq 75 && $msg == *"part-way"* && -e $dir/o.ckpt.h5 ]] && (( ms < 2000 )); then ok=OK; else ok=FAIL; fi
  record "SIGUSR1, OU members of 1e$e steps" "stopped < 2 s, members part-way saved" "$got" $ok
done

# 10. Two runs naming one checkpoint (two --no-output runs in one directory
# share heat.ckpt.h5): the second is refused at its start; the first's
# checkpoint is its own. A user's file put at a checkpoint during the run is
# never overwritten.
long_heat=(heat --nx 60 --ny 60 --steps 100000000 --quiet)
wait_file() { for _ in $(seq 600); do [[ -e $1 ]] && return 0; sleep 0.05; done; return 1; }
fresh shared-ckpt
(cd "$dir" && exec "$bin" "${long_heat[@]}" --no-output >a.txt 2>a.err.txt) &
job=$!
wait_file "$dir/.heat.ckpt.h5.lock"
(cd "$dir" && "$bin" heat --nx 80 --ny 80 --steps 100000000 --no-output --quiet >b.txt 2>b.err.txt)
cb=$?
kill -USR1 "$job"; finish 30
nx=$("$PARSIM_PYTHON" -c "import h5py; print(h5py.File('$dir/heat.ckpt.h5')['heat'].attrs['nx'])" 2>/dev/null)
got="second exit $cb; first exit $code; checkpoint nx $nx"
if [[ $cb -eq 2 && $code -eq 75 && $nx == 60 ]] && grep -q "another parsim run" "$dir/b.err.txt"; then ok=OK; else ok=FAIL; fi
record "two runs, one checkpoint" "second refused; checkpoint the first's" "$got" $ok
fresh user-ckpt
(cd "$dir" && exec "$bin" "${long_heat[@]}" --output a.h5 --checkpoint c.h5 >a.txt 2>a.err.txt) &
job=$!
wait_file "$dir/.c.h5.lock"
echo "a user's file" >"$dir/c.h5"
kill -USR1 "$job"; finish 30
kept=$(cd "$dir" && ls c.unsaved-*.h5 2>/dev/null)
got="exit $code; c.h5 $(cat "$dir/c.h5"); kept ${kept:-none}"
if [[ $code -eq 1 && $(cat "$dir/c.h5") == "a user's file" && -n $kept ]]; then ok=OK; else ok=FAIL; fi
record "a file put at the checkpoint" "left alone; run's kept beside, named" "$got" $ok

# 11. A live run's lock holds whatever the binary is called.
for name in parsim-0.1 sim; do
  fresh "renamed-$name"
  cp "$bin" "$dir/parsim-0.1"; ln -sf parsim-0.1 "$dir/sim"
  (cd "$dir" && exec "./$name" "${long_heat[@]}" --output r.h5 --checkpoint ca.h5 >a.txt 2>a.err.txt) &
  job=$!
  wait_file "$dir/.r.h5.lock"
  (cd "$dir" && "./$name" heat --nx 20 --ny 20 --steps 10 --output r.h5 --force --checkpoint cb.h5 >b.txt 2>b.err.txt)
  cb=$?
  kill -USR1 "$job"; finish 30
  got="second exit $cb; first exit $code; r.h5 $([[ -e $dir/r.h5 ]] && echo written || echo absent)"
  if [[ $cb -eq 2 && $code -eq 75 && ! -e $dir/r.h5 ]]; then ok=OK; else ok=FAIL; fi
  record "live lock, binary named $name" "second refused; first stops cleanly" "$got" $ok
done

# 12. A sidecar that appears during the run: the result is not moved
# beside it (no .h5/.xmf pair of two runs).
fresh appeared-sidecar
(cd "$dir" && exec "$bin" heat --nx 300 --ny 300 --steps 6000 --output r.h5 --quiet >a.txt 2>a.err.txt) &
job=$!
wait_file "$dir/.r.h5.lock"
echo "another run's sidecar" >"$dir/r.xmf"
finish 60
got="exit $code; r.h5 $([[ -e $dir/r.h5 ]] && echo moved || echo not moved); $(ls "$dir" | grep -c unsaved) kept"
if [[ $code -eq 1 && ! -e $dir/r.h5 && $(cat "$dir/r.xmf") == "another run's sidecar" ]]; then ok=OK; else ok=FAIL; fi
record "a sidecar appears during the run" "result not moved, kept and named" "$got" $ok

# 13. Resource limits: ulimit -v, ulimit -f, and an allocation that fails
# in spite of the check: one line each, nothing left behind.
fresh ulimit-v
(cd "$dir" && ulimit -v 800000 && exec "$bin" heat --nx 8000 --ny 8000 --steps 1 --output v.h5 >out.txt 2>err.txt)
code=$?
left=$(cd "$dir" && ls -A | grep -v '\.txt$' | tr '\n' ' ')
got="exit $code, $(errors "$dir/err.txt") line(s), left: ${left:-nothing}"
if [[ $code -eq 2 && $(errors "$dir/err.txt") -eq 1 && -z $left ]] && grep -q 'ulimit -v' "$dir/err.txt"; then ok=OK; else ok=FAIL; fi
record "ulimit -v below the need" "refused in one line, nothing left" "$got" $ok
fresh ulimit-f
(cd "$dir" && ulimit -f 8000 && exec "$bin" heat --nx 2000 --ny 2000 --steps 1 --output f.h5 >out.txt 2>err.txt)
code=$?
left=$(cd "$dir" && ls -A | grep -v '\.txt$' | tr '\n' ' ')
got="exit $code, $(errors "$dir/err.txt") line(s), left: ${left:-nothing}"
if [[ $code -eq 1 && $(errors "$dir/err.txt") -eq 1 && -z $left ]] && grep -q 'ulimit -f' "$dir/err.txt"; then ok=OK; else ok=FAIL; fi
record "ulimit -f below the file" "one line (no SIGXFSZ), nothing left" "$got" $ok
fresh oom
(cd "$dir" && PARSIM_INJECT_OOM=1 exec mpirun -x PARSIM_INJECT_OOM -n 2 "$bin" heat --nx 300 --ny 300 --steps 100000 --output o.h5 >out.txt 2>err.txt)
code=$?
left=$(cd "$dir" && ls -A | grep -v '\.txt$' | tr '\n' ' ')
got="exit $code, $(grep -c 'out of memory' "$dir/err.txt") line(s), left: ${left:-nothing}"
if [[ $code -ne 0 && $(grep -c 'out of memory' "$dir/err.txt") -eq 1 && -z $left ]] && ! grep -q panicked "$dir/err.txt"; then ok=OK; else ok=FAIL; fi
record "an allocation fails (rank 1)" "one line, job ends, nothing left" "$got" $ok

# 14. SIGUSR1 at start-up. Pending when parsim starts (blocked from before
# exec, the earliest a signal can come): heard, exit 75. And the window in
# which it still kills, as measured here: from exec to the loader's call of
# parsim's first code (the shared libraries' loading).
fresh early-stop
(cd "$dir" && exec "$PARSIM_PYTHON" - "$bin" >out.txt 2>err.txt <<'PY'
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
os.kill(os.getpid(), signal.SIGUSR1)
os.execv(sys.argv[1], [sys.argv[1], "heat", "--nx", "200", "--ny", "200", "--steps", "400000", "--output", "e.h5", "--quiet"])
PY
)
code=$?
window=$("$PARSIM_PYTHON" - "$bin" "$dir" <<'PY'
import os, signal, subprocess, sys, time
bin, d = sys.argv[1], sys.argv[2]
last_killed = -1.0
for us in range(0, 15001, 1000):
    for _ in range(2):
        p = subprocess.Popen([bin, "heat", "--nx", "20", "--ny", "20", "--steps", "100000000", "--no-output",
                              "--quiet", "--checkpoint", os.path.join(d, "w.h5")], cwd=d,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(us / 1e6)
        p.send_signal(signal.SIGUSR1)
        if p.wait() == -signal.SIGUSR1:
            last_killed = us / 1000
        try: os.remove(os.path.join(d, "w.h5"))
        except OSError: pass
print("none" if last_killed < 0 else f"{last_killed:.1f} ms")
PY
)
got="pending: exit $code; killed up to ${window} after spawn"
if [[ $code -eq 75 ]] && grep -q 'stopped by SIGUSR1' "$dir/err.txt"; then ok=OK; else ok=FAIL; fi
record "SIGUSR1 at start-up" "pending: exit 75; window measured" "$got" $ok

echo
printf '%-34s | %-44s | %-52s | %s\n' "case" "expected" "got" "verdict"
printf '%s\n' "$(printf '%.0s-' {1..145})"
printf '%s\n' "${results[@]}"
echo
echo "faults: ${#results[@]} cases, $failed failed"
(( failed == 0 ))
