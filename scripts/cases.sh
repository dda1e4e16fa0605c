# scripts/cases.sh - the cases that prove two builds give the same results
# (source it): scripts/compare-builds.sh (two builds of the source) and
# scripts/mpi-matrix.sh (one source, built against each MPI) run each on
# several rank counts and compare every dataset bit for bit.

# name | arguments (the output is always o.h5 in the case's directory)
cases=(
  "heat-disk|heat --nx 120 --ny 90 --steps 50"
  "heat-sine|heat --init sine --nx 64 --ny 48 --steps 40"
  "heat-snapshots|heat --nx 100 --ny 80 --steps 60 --snapshot-every 20 --compress 1"
  "heat-k1|heat --nx 300 --ny 200 --steps 24 --time-block 1"
  "heat-k1-no-overlap|heat --nx 300 --ny 200 --steps 24 --time-block 1 --overlap off"
  "heat-auto|heat --nx 1100 --ny 1000 --steps 26"
  "heat-k4|heat --nx 300 --ny 200 --steps 26 --time-block 4 --check-every 7"
  "heat-threads|heat --nx 400 --ny 300 --steps 30 --threads 2"
  "heat-restart|heat --nx 150 --ny 110 --steps 50 --restart first.h5"
  "ou-stats|ou --paths 16 --steps 2000"
  "ou-paths|ou --paths 8 --steps 1000 --record-every 10 --store paths"
  "ou-sweep|ou --tau 0.5,1 --sigma 1,2 --x0 0,1 --paths 6 --steps 800"
  "pi|pi --samples 3000000 --chunk 100000"
  "markov|markov --chains 50 --days 5000"
  "integrate-lesson|integrate --n 2000000 --chunk 65536"
  "integrate-expr|integrate --f x^3+sin(x)/(1+x^2) --rule simpson --n 400000 --a -1 --b 2"
  "mandelbrot-dynamic|mandelbrot --width 300 --height 200 --max-iter 64 --chunk 3"
  "mandelbrot-cyclic|mandelbrot --width 240 --height 160 --schedule cyclic"
  "mandelbrot-block|mandelbrot --width 240 --height 160 --schedule block --window -1.5,0.5,-1,1"
  "pairs|pairs --n 900 --dim 3 --bins 32"
  "pairs-matrix|pairs --n 300 --dim 2 --matrix"
)

# run_case DIR P ARGS BIN LAUNCHER...: run one case on P ranks with BIN,
# started by LAUNCHER (the words before `-n`, e.g. `mpirun --oversubscribe`);
# DIR then holds o.h5, report.json, stderr.txt and rc (the exit code).
run_case() {
  local dir=$1 p=$2 args=$3 bin=$4
  shift 4
  mkdir -p "$dir"
  if [[ $args == *"--restart first.h5"* ]]; then
    # the first half on 2 ranks, the rest on p: a restart across P
    (cd "$dir" && "$@" -n 2 "$bin" heat --nx 150 --ny 110 \
      --steps 20 --output first.h5 --quiet >/dev/null 2>&1) || true
  fi
  local rc=0
  # shellcheck disable=SC2086 # the case's arguments are words
  (cd "$dir" && "$@" -n "$p" "$bin" $args --output o.h5 \
    --quiet --json >report.json 2>stderr.txt) || rc=$?
  echo "$rc" >"$dir/rc"
}
