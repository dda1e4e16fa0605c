#!/usr/bin/env bash
# scripts/demo.sh - from a fresh clone to a validated result:
# installs what is missing (Debian), builds in release, runs the classic
# 2000x2000 heat benchmark for 500 steps on 2 MPI ranks, prints the run
# report and the HDF5 file's path, and draws the field (results/*.png).
#   PARSIM_RANKS=4 ./scripts/demo.sh     another rank count
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

./scripts/setup.sh
echo "demo: building parsim (release)..."
build_release
mpi_allow_root

ranks=${PARSIM_RANKS:-2}
mkdir -p results
out=results/demo-heat.h5
echo "demo: mpirun -n $ranks parsim heat --nx 2000 --ny 2000 --steps 500 --output $out --force"
mpirun $(mpi_oversubscribe_flags "$ranks") -n "$ranks" "$PARSIM_BIN" heat \
  --nx 2000 --ny 2000 --steps 500 --init disk --output "$out" --force
echo
echo "demo: HDF5 result: $(cd results && pwd)/demo-heat.h5"
echo "demo: inspect it with: h5dump -H $out   (or h5py: h5py.File('$out')['heat/temperature'])"
# A picture of the field, from the project's Python venv (created on first
# use, from PyPI); without it the demo still succeeds.
if ./scripts/setup.sh --python >/dev/null 2>&1; then
  "$PARSIM_PYTHON" scripts/plot.py "$out" | sed 's/^plot: wrote/demo: plot:/'
else
  echo "demo: plots skipped (no Python venv: run scripts/setup.sh --python to see why)"
fi
