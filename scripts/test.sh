#!/usr/bin/env bash
# scripts/test.sh - install what is missing (Debian; the other MPIs from
# PyPI), build, run every test: formatting, lints, unit tests, the
# end-to-end tests that launch real `mpirun` jobs (with --oversubscribe
# where they need more ranks than cores), the fault script, the MPI
# matrix and the HDF5 matrix.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

./scripts/setup.sh --tests
pin_hdf5
echo "test: cargo fmt --check"
cargo fmt --all -- --check
echo "test: cargo clippy --all-targets"
cargo clippy --release --locked --all-targets --quiet -- -D warnings
echo "test: cargo build --release"
build_release
# The MPICH build too: the virtual cluster's test runs it across nodes.
echo "test: scripts/mpi-matrix.sh --build-only mpich"
./scripts/mpi-matrix.sh --build-only mpich
echo "test: cargo test --release"
log=$(mktemp)
# Every test that skips (a missing tool, no privileges) or had to retry a
# step (an infrastructure failure of the moment) appends a line here: cargo
# hides a passing test's output, the summary does not.
export PARSIM_TEST_NOTICES
PARSIM_TEST_NOTICES=$(mktemp)
trap 'rm -f "$log" "$PARSIM_TEST_NOTICES"' EXIT
status=0
cargo test --release --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
# The parallel-HDF5 build (`--io parallel`): its own target directory and
# HDF5 flavour; lint it and run the tests that compare it with gather.
if has_parallel_hdf5; then
  echo "test: parallel HDF5 build (--features parallel-io, HDF5_DIR=$PARSIM_HDF5_MPI_DIR)"
  parallel_io_env cargo clippy --release --locked --features parallel-io --all-targets --quiet -- -D warnings
  parallel_io_env cargo test --release --locked --features parallel-io --test parallel_io 2>&1 |
    tee -a "$log" || status=$?
elif [[ -n ${CI:-} ]]; then
  echo "test: parallel HDF5 (libhdf5-openmpi-dev) is missing on CI" >&2
  status=1
else
  echo "*** SKIP: parallel HDF5 tests: no MPI build of HDF5 at $PARSIM_HDF5_MPI_DIR ***"
fi
# The fault script: kills, stop signals, full disks, concurrent writers.
echo "test: scripts/faults.sh"
./scripts/faults.sh || status=$?
# The other MPIs (MPICH, Open MPI 5, Intel MPI): built, every workload
# bitwise against this build, stop signals per launcher, and the refusal of
# a library of another MPI.
echo "test: scripts/mpi-matrix.sh"
./scripts/mpi-matrix.sh || status=$?
# HDF5 2.x built from source (cargo feature bundled-hdf5) against the
# system's 1.10: the same results, checkpoints across the two, its tests.
echo "test: scripts/hdf5-matrix.sh"
./scripts/hdf5-matrix.sh || status=$?
# One closing line over every test binary, for people and CI logs.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
for kind in SKIP:skipped RETRIED:retried; do
  lines=$(grep "^${kind%%:*}: " "$PARSIM_TEST_NOTICES" | sort -u) || continue
  echo "summary: $(wc -l <<<"$lines") part(s) ${kind#*:}:"
  sed 's/^/  /' <<<"$lines"
done
exit "$status"
