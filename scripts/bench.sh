#!/usr/bin/env bash
# scripts/bench.sh - performance figures (release build), printed, never asserted.
#
#   ./scripts/bench.sh ensembles [--quick]   OU 8 x 5e6 and pi, 1 and 2 ranks
#   ./scripts/bench.sh heat [--quick]        heat vs the C baseline, 1 and 2 ranks
#                                            (PARSIM_BENCH_BASELINE=OLD_PARSIM: also
#                                            that build, in the same run, as parsim(old))
#   ./scripts/bench.sh heat3d [--quick]      3D heat (256^3) vs CSC's own 3D MPI code
#                                            (bench/csc-heat3d, built here with its flags),
#                                            1 and 2 ranks, the ratio, cycles per update
#                                            in L2, the 1 -> 2 rank efficiency, overlap off/on
#   ./scripts/bench.sh io [--quick]          result-file write bandwidth of 8192x8192:
#                                            --io gather vs --io parallel, 2 and 4 ranks
#   ./scripts/bench.sh pairs [--quick]       pairs' tree and ring against scipy's cKDTree (workers 1
#                                            and 2), 1e4-1e6 points in 2-D and 3-D, answers checked;
#                                            64-D (2e4, 1e5): the ring against a NumPy GEMM search;
#                                            --rmax against Corrfunc's theory DD (bench_rmax.py)
#   ./scripts/bench.sh patterns [--quick]    integrate, mandelbrot and pairs, 1 and 2 ranks, against
#                                            the lessons' numba (../shared/bench/lessons, in
#                                            a venv made on first use: target/lessons-venv)
#   ./scripts/bench.sh workloads [--quick]   every workload `parsim workloads` lists, at its
#                                            scaling-study defaults, 1 and 2 ranks: its own rate
#   ./scripts/bench.sh expressions [--quick] integrate --f EXPR on 2 ranks: the batched evaluator,
#                                            the reference one (PARSIM_NO_JIT=1), the built-in of
#                                            the same function where there is one, and the
#                                            lessons' numba (prange, 2 threads) on the same integrand
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
  ensembles|heat|heat3d|io|pairs|patterns|workloads|expressions) ;;
  *) echo "usage: scripts/bench.sh ensembles|heat|heat3d|io|pairs|patterns|workloads|expressions [--quick]" >&2; exit 2 ;;
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
            "$PARSIM_BIN" "$@" --no-output --json 2>/dev/null </dev/null
        done | stat "$field" "$scale")
  printf '%-46s %5s %s\n' "$label" "$ranks" "$out"
}

if [[ $what == io ]]; then
  # Both modes from the parallel-HDF5 build (same library), files on the
  # project's disk (not /tmp), fsync included in the time (the I/O phase
  # covers gather/collective write, close and rename).
  has_parallel_hdf5 || { echo "bench: no parallel HDF5 (scripts/setup.sh --parallel-io)" >&2; exit 1; }
  build_parallel_io
  n=8192; (( quick )) && n=4096
  dir=$(mktemp -d "$PARSIM_ROOT/target/bench-io.XXXXXX"); trap 'rm -rf "$dir"' EXIT
  echo "parsim result-file write, ${n}x${n} doubles ($(( n * n * 8 / 1048576 )) MiB), $repeat repeats: MB/s min / median / max"
  printf '%-30s %5s %10s %10s %10s\n' "mode" "ranks" "min" "median" "max"
  for r in 2 4; do
    for io in gather parallel; do
      vals=$(for k in $(seq "$repeat"); do
        mpirun $(mpi_oversubscribe_flags "$r" 2>/dev/null) -n "$r" "$PARSIM_PARALLEL_BIN" heat \
          --nx $n --ny $n --steps 1 --io $io --output "$dir/f.h5" --force --json --quiet 2>/dev/null |
          python3 -c 'import json,sys; r=json.load(sys.stdin); n=r["config"]["nx"]*r["config"]["ny"]*8
print(n / r["phases"]["io"]["max"] / 1e6)'
      done | sort -g | tr '\n' ' ')
      printf '%-30s %5s %s\n' "--io $io" "$r" "$(echo $vals | awk '{printf "%10.0f %10.0f %10.0f", $1, $(int((NF+1)/2)), $NF}')"
    done
  done
  exit 0
fi

if [[ $what == pairs ]]; then
  # parsim pairs' tree (and its ring) against scipy's cKDTree: the
  # table of issue 44, answers checked equal (scripts/bench_pairs.py).
  py=$PARSIM_ROOT/.venv/bin/python
  "$py" -c 'import scipy, h5py' 2>/dev/null ||
    { echo "bench: the venv needs scipy and h5py (scripts/setup.sh --python)" >&2; exit 1; }
  echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
  "$py" scripts/bench_pairs.py "$PARSIM_BIN" "$(( quick ? 1 : 3 ))" $([[ $quick == 1 ]] && echo --quick)
  # 64-D: the tiled ring against a NumPy GEMM search (issue 44, item 4).
  "$py" scripts/bench_pairs_hd.py "$PARSIM_BIN" "$(( quick ? 1 : 3 ))" $([[ $quick == 1 ]] && echo --quick)
  # --rmax against Corrfunc's theory DD (scripts/bench_rmax.py), from PyPI
  # into target/corrfunc on first use (it builds with gcc and needs GSL).
  cf=$PARSIM_ROOT/target/corrfunc
  [[ -d $cf/Corrfunc ]] || "$py" -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$cf" corrfunc wurlitzer future ||
    { echo "bench: could not install Corrfunc (needs gcc and GSL: apt-get install libgsl-dev)" >&2; exit 1; }
  PYTHONPATH=$cf "$py" scripts/bench_rmax.py "$PARSIM_BIN" "$(( quick ? 1 : 3 ))" $([[ $quick == 1 ]] && echo --quick)
  exit 0
fi

if [[ $what == heat3d ]]; then
  # parsim heat --nz against CSC's own 3D MPI solver (bench/csc-heat3d:
  # cschpc/heat-equation's 3d/mpi, see its SOURCE.md), on the same n^3
  # interior with fixed walls and the same steps, 1 and 2 ranks, the runs
  # alternated within one repeat. CSC is built here by its own Makefile with
  # its gnu flags, PNG output off as its cray flags have it (its images are
  # written outside the timed loop anyway); its MLUPS from "Iteration took".
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  cp bench/csc-heat3d/Makefile bench/csc-heat3d/*.cpp bench/csc-heat3d/*.hpp "$work"/
  make -s -C "$work" OBJS_PNG= CCFLAGS="-g -O3 -march=native -I../../common -DNDEBUG -fopenmp \
-DMPI_DATATYPES -DMPI_NEIGHBORHOOD -DDISABLE_PNG" >/dev/null
  cc -O2 -o "$work/clock" scripts/clock.c
  n=${HEAT3D_N:-256}; steps=100; (( quick )) && steps=30
  # 40^3: two fields of 42^3 doubles (1.1 MiB) stay in L2: the kernel alone.
  l2=40; l2steps=$(( 2000000000 / (l2 * l2 * l2) )); (( quick )) && l2steps=$(( l2steps / 4 ))
  runs=$work/runs.jsonl
  csc() {
    local label=$1 r=$2 m=$3 s=$4 t
    t=$(OMP_NUM_THREADS=1 mpirun --bind-to core -n "$r" "$work/heat_mpi" "$m" "$m" "$m" "$s" |
      sed -n 's/^Iteration took \(.*\) seconds\./\1/p')
    echo "{\"case\": \"$label\", \"ranks\": $r, \"mlups\": $(python3 -c "print($m**3 * $s / $t / 1e6)")}" >> "$runs"
  }
  par() {
    local label=$1 r=$2 bind=$3; shift 3
    mpirun $bind -n "$r" "$PARSIM_BIN" heat "$@" --no-output --json 2>/dev/null </dev/null |
      python3 -c '
import json, sys
r = json.load(sys.stdin); ph = r["phases"]
print(json.dumps({"case": sys.argv[1], "ranks": int(sys.argv[2]), "mlups": r["mlups"],
                  "stencil": ph["stencil"]["avg"], "halo": ph["halo"]["avg"]}))' "$label" "$r" >> "$runs"
  }
  echo "parsim heat --nz vs CSC heat_mpi (3d/mpi), ${n}^3 x $steps steps, $repeat repeats,"
  echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, mpirun --bind-to core"
  for _ in $(seq "$repeat"); do
    for r in 1 2; do
      csc "CSC heat_mpi ${n}^3" "$r" "$n" "$steps"
      for ov in on off; do
        par "parsim ${n}^3, overlap $ov" "$r" "--bind-to core" \
          --nx "$n" --ny "$n" --nz "$n" --steps "$steps" --overlap "$ov"
      done
    done
    par "parsim ${n}^3, 1 rank x 2 threads" 1 "--map-by slot:PE=2 --bind-to core" \
      --nx "$n" --ny "$n" --nz "$n" --steps "$steps" --threads 2
    csc "CSC heat_mpi ${l2}^3 (in L2)" 1 "$l2" "$l2steps"
    par "parsim ${l2}^3 (in L2)" 1 "--bind-to core" --nx $l2 --ny $l2 --nz $l2 --steps $l2steps
  done
  mhz=$("$work/clock" | sed -n 's/^mhz=//p')
  python3 - "$runs" "${mhz:-0}" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
mhz = float(sys.argv[2])
groups = {}
for r in runs:
    groups.setdefault((r["case"], r["ranks"]), []).append(r)
med = lambda rs, k="mlups": statistics.median(r[k] for r in rs)
# CSC's median by ranks and size (the case's second word: "256^3").
csc = {(ranks, case.split()[2]): med(rs) for (case, ranks), rs in groups.items()
       if case.startswith("CSC")}
one = {case: med(rs) for (case, ranks), rs in groups.items() if ranks == 1}
print()
print(f"{'case':36} {'ranks':>5} {'min':>7} {'median':>7} {'/CSC':>6} {'eff 1->2':>8} "
      f"{'cyc/upd':>7} {'halo':>6}")
for (case, ranks), rs in groups.items():
    m = med(rs)
    key = (ranks, case.split()[1].rstrip(","))
    vs = f"{m / csc[key]:.2f}x" if key in csc and not case.startswith("CSC") else ""
    eff = f"{m / (2 * one[case]):.2f}" if ranks == 2 and case in one else ""
    cyc = f"{mhz * ranks / m:.2f}" if mhz else ""
    halo = ""
    if "halo" in rs[0]:
        st, ha = med(rs, "stencil"), med(rs, "halo")
        halo = f"{100 * ha / (st + ha):5.1f}%"
    print(f"{case:36} {ranks:>5} {min(r['mlups'] for r in rs):7.0f} {m:7.0f} {vs:>6} {eff:>8} "
          f"{cyc:>7} {halo:>6}")
print(f"(MLUPS; /CSC: median over CSC's median on the same ranks; eff 1->2: the 2-rank median\n"
      f" over twice the 1-rank one; cyc/upd: cycles per update and core at the clock measured\n"
      f" after the runs, {mhz:.0f} MHz (scripts/clock.c); halo: share of the loop, rank average)")
PY
  exit 0
fi

# The lessons' venv (numpy, numba), made on first use.
lessons=${PARSIM_LESSONS_DIR:-../shared/bench/lessons}
lvenv=$PARSIM_ROOT/target/lessons-venv
lessons_venv() {
  if [[ ! -x $lvenv/bin/python ]] || ! "$lvenv/bin/python" -c 'import numba' 2>/dev/null; then
    python3 -m venv "$lvenv" && "$lvenv/bin/pip" install -q numpy numba >&2 ||
      { echo "bench: cannot make the lessons' venv (numpy, numba) at $lvenv" >&2; exit 1; }
  fi
}

if [[ $what == expressions ]]; then
  lessons_venv
  n=100000000; (( quick )) && n=20000000
  # median_ms ENV... -- ARGS: the median wall [ms] of REPEAT runs on 2 ranks.
  median_ms() {
    local env=()
    while [[ $1 != -- ]]; do env+=("$1"); shift; done; shift
    for _ in $(seq "$repeat"); do
      env "${env[@]}" mpirun --bind-to core -x PARSIM_NO_JIT -n 2 "$PARSIM_BIN" integrate \
        --n "$n" --a 0 --b 2 "$@" --no-output --json 2>/dev/null </dev/null
    done | python3 -c '
import json, statistics, sys
print(statistics.median(float(json.loads(l)["wall_time_s"]) * 1e3 for l in sys.stdin if l.startswith("{")))'
  }
  numba=$(NUMBA_NUM_THREADS=2 "$lvenv/bin/python" scripts/bench-expressions.py "$n" "$repeat")
  poly=$("$lvenv/bin/python" -c 'import sys; sys.path.insert(0, "scripts")
import importlib.util as u
s = u.spec_from_file_location("b", "scripts/bench-expressions.py"); m = u.module_from_spec(s)
s.loader.exec_module(m); print(m.poly_text())' 2>/dev/null)
  echo "integrate --f EXPR, left rule, $n points on [0, 2], 2 ranks vs numba prange on 2 threads"
  echo "(median of $repeat runs, ms; $(lscpu | sed -n 's/^Model name: *//p'), expressions: $("$PARSIM_BIN" --version | sed -n 's/^expressions: //p'))"
  printf '%-22s %10s %10s %10s %10s %9s %9s %9s\n' "f" "batched" "reference" "built-in" "numba" \
    "ref/bat" "bat/blt" "numba/bat"
  for f in 'x^2 - x' 'exp(-x^2)' 'sin(3*x) + x^3' '1/(1+x^2)' poly40 'exp(x)' 'sin(x)' '4/(1+x^2)'; do
    expr=$f; [[ $f == poly40 ]] && expr=$poly
    case $f in
      'x^2 - x') builtin=lesson ;; 'exp(x)') builtin=exp ;; 'sin(x)') builtin=sin ;;
      '4/(1+x^2)') builtin=pi ;; *) builtin= ;;
    esac
    fast=$(median_ms PARSIM_NO_JIT=0 -- --f "$expr")
    ref=$(median_ms PARSIM_NO_JIT=1 -- --f "$expr")
    blt=nan; [[ -n $builtin ]] && blt=$(median_ms PARSIM_NO_JIT=0 -- --f "$builtin")
    nb=$(python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print(r.get(sys.argv[2], {}).get("median", float("nan")))' "$numba" "$expr")
    python3 -c 'import sys
f, fast, ref, blt, nb = sys.argv[1], *map(float, sys.argv[2:])
print(f"{f:22s} {fast:10.1f} {ref:10.1f} {blt:10.1f} {nb:10.1f} {ref/fast:8.1f}x {fast/blt:8.2f}x {nb/fast:8.2f}x")' \
      "$f" "$fast" "$ref" "$blt" "$nb"
  done
  echo "Targets (issue 41): bat/blt <= 2 (the batched expression within 2x of the built-in),"
  echo "numba/bat >= 3 (3x faster than the lessons' numba); ref/bat is what the batching gains."
  exit 0
fi

if [[ $what == patterns ]]; then
  lessons_venv
  # lesson SCRIPT KEY...: the median [ms] of the numba timing at that JSON
  # path, on 2 threads (the lessons' prange on this machine's 2 cores).
  lesson() {
    local script=$1; shift
    (cd "$lessons" && NUMBA_NUM_THREADS=2 "$lvenv/bin/python" "$script" "$repeat") |
      python3 -c 'import json, sys
r = json.loads(sys.stdin.readline())["results"]
for k in sys.argv[1:]:
    r = r[k]
print(r["median"])' "$@"
  }
  echo "parsim patterns vs the lessons' numba ($(nproc) cores, $repeat repeats; min / median / max)"
  printf '%-46s %5s %12s %12s %12s\n' "case" "ranks" "min" "median" "max"
  for r in 1 2; do
    line=$(point "integrate left 1e8: wall [ms]" $r wall_time_s 1000 integrate --n 100000000)
    echo "$line"
    integ=$(awk '{print $(NF-1)}' <<<"$line")
  done
  mset="--width 3000 --height 2000 --max-iter 256"
  declare -A mand
  for sched in block cyclic dynamic; do
    for win in -2,1,-1,1 -2,1,-0.2,1.3; do
      for r in 1 2; do
        line=$(point "mandelbrot $sched [$win]: wall [ms]" $r wall_time_s 1000 mandelbrot $mset --window=$win --schedule $sched)
        echo "$line"
        mand[$sched,$win,$r]=$(awk '{print $(NF-1)}' <<<"$line")
      done
    done
  done
  echo
  echo "Mandelbrot strong scaling 1 -> 2 ranks (efficiency = T1 / (2 T2), medians):"
  for win in -2,1,-1,1 -2,1,-0.2,1.3; do
    for sched in block cyclic dynamic; do
      printf '  %-8s window %-14s %.3f\n' "$sched" "$win" \
        "$(python3 -c "print(${mand[$sched,$win,1]} / (2 * ${mand[$sched,$win,2]}))")"
    done
  done
  # The lessons' inputs (raw f64) as .npy, for parsim pairs --points.
  pdir=$(mktemp -d); trap 'rm -rf "$pdir"' EXIT
  "$lvenv/bin/python" -c '
import sys, numpy as np
src, dst = sys.argv[1], sys.argv[2]
np.save(dst + "/d.npy", np.fromfile(src + "/data/d_points_500x100_f64le.bin", "<f8").reshape(500, 100))
np.save(dst + "/f.npy", np.fromfile(src + "/data/f_points_2000x2_f64le.bin", "<f8").reshape(2000, 2))
' "$lessons" "$pdir"
  for r in 1 2; do
    line=$(point "pairs 500x100 full matrix: wall [ms]" $r wall_time_s 1000 pairs --points "$pdir/d.npy" --matrix)
    echo "$line"
    pmat=$(awk '{print $(NF-1)}' <<<"$line")
  done
  for r in 1 2; do
    line=$(point "pairs closest 2000x2 (--bins 0): wall [ms]" $r wall_time_s 1000 pairs --points "$pdir/f.npy" --bins 0)
    echo "$line"
    pclo=$(awk '{print $(NF-1)}' <<<"$line")
  done
  echo
  echo "The lessons' numba on the same problems (median ms, 2 threads), and parsim on 2 ranks:"
  n_int=$(lesson c_integrate.py left_prange)
  n_man=$(lesson g_mandelbrot.py prange_ms)
  n_pair=$(lesson d_pairwise.py prange)
  n_clo=$(lesson f_closest.py naive_njit)
  printf '  %-34s numba %9.2f  parsim %9.2f  ratio %6.2fx (target 10x)\n' \
    "integrate left 1e8" "$n_int" "$integ" "$(python3 -c "print($n_int / $integ)")"
  printf '  %-34s numba %9.2f  parsim %9.2f  ratio %6.2fx (target 3x)\n' \
    "mandelbrot 3000x2000 M256 dynamic" "$n_man" "${mand[dynamic,-2,1,-1,1,2]}" \
    "$(python3 -c "print($n_man / ${mand[dynamic,-2,1,-1,1,2]})")"
  printf '  %-34s numba %9.2f  parsim %9.2f  ratio %6.2fx (target 3x)\n' \
    "pairs 500x100 full matrix" "$n_pair" "$pmat" "$(python3 -c "print($n_pair / $pmat)")"
  printf '  %-34s numba %9.2f  parsim %9.2f  ratio %6.2fx (target 5x)\n' \
    "closest pair 2000x2" "$n_clo" "$pclo" "$(python3 -c "print($n_clo / $pclo)")"
  echo "(pairs --matrix: the wall time ends with every rank's rows of the matrix complete;"
  echo " numba's is one process's matrix. Gathering it to rank 0 and writing it is not timed.)"
  exit 0
fi

if [[ $what == workloads ]]; then
  # The registry says what each workload's problem and rate are: a new
  # workload is benchmarked here without a line of this script changing.
  echo "parsim workloads benchmark ($(nproc) cores, $repeat repeats; min / median / max of each rate)"
  printf '%-46s %5s %12s %12s %12s\n' "case" "ranks" "min" "median" "max"
  "$PARSIM_BIN" workloads --json | python3 -c '
import json, sys
quick = sys.argv[1] == "1"
for w in json.load(sys.stdin):
    args = []
    for opt, value in w["study"]:
        # --quick: a tenth of each size option (at least 2)
        if quick and any(s["option"] == opt for s in w["size"]):
            value = str(max(2, int(float(value)) // 10))
        args += ["--" + opt.replace("_", "-"), value]
    print(w["name"], w["rate"]["field"], w["rate"]["unit"].replace(" ", "_"), " ".join(args))
' "$quick" | while read -r name field unit args; do
    for r in 1 2; do
      point "$name [$unit]" $r "$field" 1 $name $args
    done
  done
  exit 0
fi

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
cc -O2 -o "$work/clock" scripts/clock.c

sizes="2000 4000"; steps=500
(( quick )) && { sizes="2000"; steps=200; }
triad=$(OMP_NUM_THREADS=1 "$work/triad" | sed -n 's/^triad_best_GBs=//p')
roof=$(python3 -c "print(${triad:-0}*1e3/24)")

# Every run appends one JSON line {case, ranks, mlups, stencil, halo} to
# $work/runs.jsonl; summarise() prints the tables from it.
c_point() {
  local ranks=$1 n=$2
  for _ in $(seq "$repeat"); do
    mpirun --bind-to core -n "$ranks" "$work/heat" "$n" "$n" "$steps" | sed -n 's/^mlups=//p' |
      python3 -c 'import json,sys; print(json.dumps({"case": sys.argv[1], "ranks": int(sys.argv[2]), "mlups": float(sys.stdin.read())}))' \
        "C baseline ${n}x${n} x $steps" "$ranks" >> "$work/runs.jsonl"
  done
}
p_point() {
  local label=$1 ranks=$2; shift 2
  for _ in $(seq "$repeat"); do
    mpirun ${BIND:-$(bind_flags "$ranks")} -n "$ranks" \
      "${BIN:-$PARSIM_BIN}" heat "$@" --no-output --json 2>/dev/null |
      python3 -c '
import json, sys
r = json.load(sys.stdin)
ph, e = r["phases"], r["execution"]
print(json.dumps({"case": sys.argv[1], "ranks": int(sys.argv[2]), "mlups": r["mlups"],
                  "stencil": ph["stencil"]["avg"], "halo": ph["halo"]["avg"],
                  "k": e["time_block"], "threads": e["threads"], "overlap": e["overlap"],
                  "mem0": r["peak_memory"]["rank0_mib"], "memw": r["peak_memory"]["max_worker_mib"]}))
' "$label" "$ranks" >> "$work/runs.jsonl"
  done
}

# Bound to cores, unless there are more ranks than cores (then unbound).
bind_flags() {
  if (( $1 > $(nproc) )); then echo "--oversubscribe --bind-to none"; else echo "--bind-to core"; fi
}

echo "parsim heat benchmark ($(nproc) cores, $repeat repeats, mpirun --bind-to core)"
echo "triad (1 thread): ${triad:-?} GB/s -> roofline ~ $(printf %.0f "$roof") MLUPS at 24 B/update"
for n in $sizes; do
  for r in 1 2; do
    c_point $r $n
    p_point "parsim ${n}x${n} x $steps, time block 1" $r --nx $n --ny $n --steps $steps --time-block 1
    p_point "parsim ${n}x${n} x $steps (default)" $r --nx $n --ny $n --steps $steps
    if [[ -n ${PARSIM_BENCH_BASELINE:-} ]]; then
      BIN=$PARSIM_BENCH_BASELINE p_point "parsim(old) ${n}x${n} x $steps, time block 1" $r \
        --nx $n --ny $n --steps $steps --time-block 1
      BIN=$PARSIM_BENCH_BASELINE p_point "parsim(old) ${n}x${n} x $steps (default)" $r \
        --nx $n --ny $n --steps $steps
    fi
  done
done
# Halo overlap at 512x512 cells per rank (time block 1, where overlap applies).
hsteps=2000; (( quick )) && hsteps=500
# The in-cache kernel: 512x512 on 1 rank (its two fields, 4 MiB, stay in L2 +
# L3), one step per sweep: the ceiling the blocked sweeps are measured against.
# The running clock, measured beside it (scripts/clock.c), for cycles/update.
mhz=$("$work/clock" | sed -n 's/^mhz=//p')
p_point "in-cache 512^2, time block 1" 1 --nx 512 --ny 512 --steps $((2 * hsteps)) --time-block 1
# A field that stays in L2 (160^2: two fields of 210 KiB): the kernel alone.
p_point "in-L2 160^2, time block 1" 1 --nx 160 --ny 160 --steps $((100 * hsteps)) --time-block 1
if [[ -n ${PARSIM_BENCH_BASELINE:-} ]]; then
  BIN=$PARSIM_BENCH_BASELINE p_point "in-cache(old) 512^2, time block 1" 1 \
    --nx 512 --ny 512 --steps $((2 * hsteps)) --time-block 1
  BIN=$PARSIM_BENCH_BASELINE p_point "in-L2(old) 160^2, time block 1" 1 \
    --nx 160 --ny 160 --steps $((100 * hsteps)) --time-block 1
fi
for ov in off on; do
  p_point "halo 512^2/rank, overlap $ov" 2 --nx 1024 --ny 512 --steps $hsteps --time-block 1 --overlap $ov
  p_point "halo 512^2/rank, overlap $ov" 4 --nx 1024 --ny 1024 --steps $hsteps --time-block 1 --overlap $ov
done
# The automatic time block where the fields leave L2 but fit in L2 + L3
# (362^2: 2 MiB, 512^2: 4 MiB): auto (blocks) against time block 1, which an
# earlier rule kept up to L2 + L3.
for n in 362 512; do
  for r in 1 2; do
    for k in 1 auto; do
      p_point "mid ${n}^2 time block $k" $r --nx $n --ny $n --steps $((800000000 / (n * n))) --time-block $k
    done
  done
done
# Hybrid: the same 2 cores as 1 rank x 2 threads or 2 ranks x 1 thread.
# A rank with T threads needs T cores: --map-by slot:PE=T (srun: -c T).
n=${sizes%% *}
for k in 1 auto; do
  BIND="--map-by slot:PE=2 --bind-to core" \
    p_point "hybrid ${n}^2 time block $k: 1 rank x 2 threads" 1 --nx $n --ny $n --steps $steps --time-block $k --threads 2
  p_point "hybrid ${n}^2 time block $k: 2 ranks x 1 thread" 2 --nx $n --ny $n --steps $steps --time-block $k
done

python3 - "$work/runs.jsonl" "$roof" "${mhz:-0}" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
roof = float(sys.argv[2])
mhz = float(sys.argv[3])
groups = {}
for r in runs:
    groups.setdefault((r["case"], r["ranks"]), []).append(r)
def med(rs, key):
    return statistics.median(r[key] for r in rs)
c_med = {}
for (case, ranks), rs in groups.items():
    if case.startswith("C baseline"):
        c_med[(case.split()[2], ranks)] = med(rs, "mlups")

print()
print(f"{'case':44} {'ranks':>5} {'min':>8} {'median':>8} {'vs C':>6} {'%roof':>6} {'stencil':>8} {'halo':>6}")
for (case, ranks), rs in groups.items():
    if case.startswith(("halo", "hybrid", "in-cache", "in-L2", "mid")):
        continue
    m = med(rs, "mlups")
    size = case.split()[1] if case.startswith("parsim") else case.split()[2]
    vs = f"{m / c_med[(size, ranks)]:.2f}x" if case.startswith("parsim") else ""
    split = ""
    if "stencil" in rs[0]:
        st, ha = med(rs, "stencil"), med(rs, "halo")
        split = f"{100 * st / (st + ha):7.1f}% {100 * ha / (st + ha):5.1f}%"
    k = f" [k={rs[0]['k']}]" if "k" in rs[0] and "default" in case else ""
    print(f"{case + k:44} {ranks:>5} {min(r['mlups'] for r in rs):8.0f} {m:8.0f} {vs:>6} "
          f"{100 * m / roof / ranks:5.0f}% {split}")
print("(%roof: median MLUPS per rank / (triad GB/s / 24 B); above 100% means fewer bytes per update\n"
      " than one sweep through memory: time blocking reads and writes the field once per k steps.\n"
      " vs C: median / C baseline median, same grid and ranks. stencil/halo: share of loop time, rank average.)")

print()
print("Halo share of the step time, 512x512 cells per rank, time block 1 (* = oversubscribed):")
print(f"{'ranks':>5} {'overlap off':>12} {'overlap on':>12} {'MLUPS off':>10} {'MLUPS on':>10}")
for ranks in (2, 4):
    row = []
    for ov in ("off", "on"):
        rs = groups.get((f"halo 512^2/rank, overlap {ov}", ranks), [])
        if rs:
            st, ha = med(rs, "stencil"), med(rs, "halo")
            row.append((100 * ha / (st + ha), med(rs, "mlups")))
    if len(row) == 2:
        star = "*" if ranks > 2 else ""
        print(f"{str(ranks) + star:>5} {row[0][0]:11.1f}% {row[1][0]:11.1f}% {row[0][1]:10.0f} {row[1][1]:10.0f}")

print()
print("In-cache kernel (512^2: L3; 160^2: L2; 1 rank, time block 1) and the blocked sweep on 1 rank against it")
print(f"(cycles/update at the measured clock, {mhz:.0f} MHz: scripts/clock.c):")
for tag in ("", "(old)"):
    rs = groups.get((f"in-cache{tag} 512^2, time block 1", 1))
    if not rs:
        continue
    ic = med(rs, "mlups")
    cyc = lambda m: f", {mhz / m:.2f} cycles/update" if mhz else ""
    print(f"  {'previous build' if tag else 'this build'}: 512^2 {ic:.0f} MLUPS{cyc(ic)}")
    l2 = groups.get((f"in-L2{tag} 160^2, time block 1", 1))
    if l2:
        print(f"    160^2 {med(l2, 'mlups'):.0f} MLUPS{cyc(med(l2, 'mlups'))}")
    for (case, ranks), bs in groups.items():
        if ranks == 1 and case.startswith(f"parsim{tag} ") and "default" in case:
            print(f"    {case.split()[1]} default on 1 rank: {med(bs, 'mlups'):.0f} MLUPS = "
                  f"{100 * med(bs, 'mlups') / ic:.0f}% of in-cache{cyc(med(bs, 'mlups'))}")

print()
print("Automatic time block past L2, within L2 + L3 (MLUPS median; auto's depth in brackets):")
for n in (362, 512):
    for ranks in (1, 2):
        one = groups.get((f"mid {n}^2 time block 1", ranks))
        auto = groups.get((f"mid {n}^2 time block auto", ranks))
        if one and auto:
            a, b = med(one, "mlups"), med(auto, "mlups")
            print(f"  {n}^2, {ranks} rank(s): time block 1 {a:6.0f}, auto [k={auto[0]['k']}] {b:6.0f}: {b / a:.2f}x")

print()
print("Hybrid MPI + threads on the same cores (MLUPS median):")
for (case, ranks), rs in groups.items():
    if case.startswith("hybrid"):
        print(f"  {case:58} {med(rs, 'mlups'):8.0f}")
PY

if (( ! quick )); then
  echo
  echo "Rank-0 memory while writing 8192x8192 on 4 ranks (peak RSS, VmHWM):"
  out=$(mktemp -d)
  mpirun $(mpi_oversubscribe_flags 4 2>/dev/null) -n 4 "$PARSIM_BIN" heat --nx 8192 --ny 8192 --steps 20 \
    --output "$out/big.h5" --json 2>/dev/null |
    python3 -c '
import json, sys
r = json.load(sys.stdin)
io = r["phases"]["io"]["max"]
r0, w = r["peak_memory"]["rank0_mib"], r["peak_memory"]["max_worker_mib"]
print(f"  rank 0 {r0:.0f} MiB, largest worker {w:.0f} MiB, ratio {r0 / w:.2f}; "
      f"gather+write {io:.2f} s = {8192 * 8192 * 8 / io / 1e6:.0f} MB/s")'
  rm -rf "$out"
fi
