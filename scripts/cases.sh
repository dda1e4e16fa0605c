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
  # the user's problem (issue 40): an initial field from a file (seed.h5 and
  # seed.npy are made first, see run_case) or an expression, each wall kind,
  # periodic axes, a source, a manufactured solution
  "heat-init-h5|heat --init seed.h5:/heat/temperature --steps 30"
  "heat-init-npy|heat --init seed.npy --steps 30 --time-block 4"
  "heat-init-expr|heat --init exp(-((x-0.5)^2+(y-0.3)^2)/0.02) --nx 90 --ny 70 --steps 40"
  "heat-walls|heat --nx 100 --ny 80 --steps 40 --bc-left insulated --bc-right 20+5*sin(pi*y)*exp(-t) --bc-bottom x^2+t --bc-top 7"
  "heat-walls-k4|heat --nx 300 --ny 200 --steps 26 --bc-top insulated --bc-left 1+y --time-block 4"
  "heat-periodic-x|heat --init sin(2*pi*x)*sin(pi*y) --nx 80 --ny 60 --steps 40 --bc-x periodic"
  "heat-periodic-xy|heat --init cos(2*pi*x)+sin(2*pi*y) --nx 64 --ny 48 --steps 40 --bc-x periodic --bc-y periodic --threads 2"
  "heat-source|heat --nx 120 --ny 90 --steps 40 --source 100*exp(-((x-0.5)^2+(y-0.5)^2)/0.01)"
  "heat-exact|heat --nx 31 --ny 31 --dx 0.03125 --dy 0.03125 --steps 60 --exact exp(-t)*sin(pi*x)*cos(2*pi*y)+x^2*y+t"
  # 3D heat (issue 42): the exact sine mode, walls of every kind with a
  # source on a periodic axis, snapshots with compression, time blocks
  # (4 deep, a periodic axis, rounds cut short by the snapshots)
  "heat3d-sine|heat --init sine --nx 24 --ny 20 --nz 18 --steps 30"
  "heat3d-walls|heat --nx 20 --ny 18 --nz 16 --steps 25 --bc-left insulated --bc-front x+y*t --bc-y periodic --source sin(pi*x)*exp(-t)"
  "heat3d-snapshots|heat --nx 22 --ny 16 --nz 12 --steps 30 --snapshot-every 10 --compress 1"
  "heat3d-blocks|heat --nx 22 --ny 18 --nz 20 --steps 30 --time-block 4 --bc-x periodic --snapshot-every 15"
  "ou-stats|ou --paths 16 --steps 2000"
  "ou-paths|ou --paths 8 --steps 1000 --record-every 10 --store paths"
  "ou-sweep|ou --tau 0.5,1 --sigma 1,2 --x0 0,1 --paths 6 --steps 800"
  "pi|pi --samples 3000000 --chunk 100000"
  "markov|markov --chains 50 --days 5000"
  "markov-matrix|markov --matrix 0.5,0.3,0.2;0.1,0.8,0.1;0.2,0.2,0.6 --chains 40 --days 3000 --initial-state 2"
  "markov-matrix-file|markov --matrix p.csv --chains 30 --days 2000"
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
  if [[ $args == *seed.* ]]; then
    # an initial field: a field of the disk run (rows unlike columns), and
    # the same as big-endian float32 .npy
    (cd "$dir" && "$@" -n 2 "$bin" heat --nx 70 --ny 50 --steps 10 \
      --output seed.h5 --quiet >/dev/null 2>&1 &&
      "$PARSIM_PYTHON" -c 'import h5py, numpy
numpy.save("seed.npy", h5py.File("seed.h5")["heat/temperature"][:].astype(">f4"))') || true
  fi
  if [[ $args == *p.csv* ]]; then
    printf '%s\n' 0.6,0.1,0.1,0.1,0.1 0.2,0.5,0.1,0.1,0.1 0,0,0.9,0.05,0.05 \
      0.25,0.25,0.25,0.25,0 0.1,0.2,0.3,0.2,0.2 >"$dir/p.csv"
  fi
  local rc=0
  # shellcheck disable=SC2086 # the case's arguments are words
  (cd "$dir" && "$@" -n "$p" "$bin" $args --output o.h5 \
    --quiet --json >report.json 2>stderr.txt) || rc=$?
  echo "$rc" >"$dir/rc"
}
