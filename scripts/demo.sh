#!/usr/bin/env bash
# scripts/demo.sh - from a fresh clone to a validated result:
# installs what is missing (Debian), builds in release, runs the input deck
# examples/demo.toml (the classic 2000x2000 disk, 500 steps, a snapshot every
# 100 steps) on 2 MPI ranks, prints the run report, the HDF5 file and its
# XDMF sidecar, and draws the final field and the snapshot strip
# (results/*.png).
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
echo "demo: mpirun -n $ranks parsim run examples/demo.toml --output $out --force"
mpirun $(mpi_oversubscribe_flags "$ranks") -n "$ranks" "$PARSIM_BIN" run examples/demo.toml \
  --output "$out" --force
echo
echo "demo: HDF5 result: $(cd results && pwd)/demo-heat.h5"
echo "demo: ParaView/VisIt: open $(cd results && pwd)/demo-heat.xmf (final field + snapshot time series)"
echo "demo: inspect it with: h5dump -H $out   (or h5py: h5py.File('$out')['heat/temperature'])"
# A picture of the field, from the project's Python venv (created on first
# use, from PyPI); without it the demo still succeeds and says why not.
if why=$(./scripts/setup.sh --python 2>&1); then
  "$PARSIM_PYTHON" scripts/plot.py "$out" | sed 's/^plot: wrote/demo: plot:/'
else
  reason=$(grep -m1 '^setup: missing' <<<"$why" || grep '^setup:' <<<"$why" | tail -1)
  echo "demo: plots skipped: no Python venv for them (${reason#setup: })"
  echo "demo:   the result above is complete; 'scripts/setup.sh --python' makes the venv"
fi
