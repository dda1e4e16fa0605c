# scripts/lib.sh - shared helpers for parsim's scripts (source it).

PARSIM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PARSIM_BIN=$PARSIM_ROOT/target/release/parsim
# The project's Python (scripts/setup.sh --python creates it).
PARSIM_PYTHON=$PARSIM_ROOT/.venv/bin/python

# OpenMPI refuses to run as root unless told it may. Our scripts say so
# out loud when they allow it; nothing is set for ordinary users.
mpi_allow_root() {
  if [[ $(id -u) -eq 0 && -z ${OMPI_ALLOW_RUN_AS_ROOT:-} ]]; then
    echo "note: running as root: setting OMPI_ALLOW_RUN_AS_ROOT=1 for this script's mpirun" >&2
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
}

# A refused or failed run is one line from parsim; Open MPI's mpirun then
# adds a ten-line banner ("Primary job terminated normally, but 1 process
# returned a non-zero exit code ...") that says nothing more. The scripts'
# mpirun leave it out (Open MPI 4: orte, 5: prte); a user's own setting wins.
export OMPI_MCA_orte_execute_quiet=${OMPI_MCA_orte_execute_quiet:-1}
export PRTE_MCA_prte_execute_quiet=${PRTE_MCA_prte_execute_quiet:-1}

# Extra mpirun flags when asking for more ranks than this machine has cores.
mpi_oversubscribe_flags() {
  local ranks=$1
  if (( ranks > $(nproc) )); then
    echo "note: $ranks ranks on $(nproc) cores: adding --oversubscribe" >&2
    echo "--oversubscribe"
  fi
}

# HDF5 comes in two flavours: serial (the default build) and MPI (the
# parallel-io build, `--io parallel`). Debian installs them side by side and
# points pkg-config's hdf5.pc at whichever came last, so the scripts pin each
# build to its flavour. An HDF5_DIR set by the user (or a module) wins.
debian_hdf5=/usr/lib/x86_64-linux-gnu/hdf5
pin_hdf5() {
  if [[ -z ${HDF5_DIR:-} && -f $debian_hdf5/serial/libhdf5.so ]]; then
    export HDF5_DIR=$debian_hdf5/serial
  fi
}
PARSIM_HDF5_MPI_DIR=${PARSIM_HDF5_MPI_DIR:-$debian_hdf5/openmpi}
has_parallel_hdf5() {
  grep -qs 'define H5_HAVE_PARALLEL 1' "$PARSIM_HDF5_MPI_DIR/include/H5pubconf.h"
}
PARSIM_PARALLEL_TARGET=$PARSIM_ROOT/target/parallel-io
PARSIM_PARALLEL_BIN=$PARSIM_PARALLEL_TARGET/release/parsim

build_release() {
  pin_hdf5
  (cd "$PARSIM_ROOT" && cargo build --release --locked --quiet)
}

# The parallel-HDF5 build, in its own target directory (PARSIM_PARALLEL_BIN).
parallel_io_env() {
  HDF5_DIR=$PARSIM_HDF5_MPI_DIR CARGO_TARGET_DIR=$PARSIM_PARALLEL_TARGET "$@"
}
build_parallel_io() {
  (cd "$PARSIM_ROOT" && parallel_io_env cargo build --release --locked --quiet --features parallel-io)
}

# The MPIs parsim is built and tested against (scripts/mpi-matrix.sh):
# openmpi is the system's (Debian's Open MPI 4.1, the default build in
# target/); the others come from PyPI, each in a venv of its own under
# .mpi/NAME (scripts/setup.sh --mpi NAME) and built in target/mpi/NAME: a
# target directory per MPI, because mpi-sys never re-probes the MPI once
# its bindings are built.
PARSIM_MPIS="openmpi mpich openmpi5 intel"
# mpi_package NAME: what pip installs for it (empty: the system's).
mpi_package() {
  case $1 in
    openmpi) echo "" ;;
    mpich) echo "mpich" ;;
    openmpi5) echo "openmpi" ;;
    intel) echo "impi-devel impi-rt" ;;
    *) return 1 ;;
  esac
}
mpi_prefix() { [[ $1 == openmpi ]] || echo "$PARSIM_ROOT/.mpi/$1"; }
mpi_installed() {
  local v
  v=$(mpi_prefix "$1")
  if [[ -z $v ]]; then command -v mpicc >/dev/null && command -v mpirun >/dev/null; else [[ -x $v/bin/mpicc ]]; fi
}
mpi_target() { if [[ $1 == openmpi ]]; then echo "$PARSIM_ROOT/target"; else echo "$PARSIM_ROOT/target/mpi/$1"; fi; }
mpi_bin() { echo "$(mpi_target "$1")/release/parsim"; }
# mpi_run NAME CMD...: CMD with NAME's MPI first on PATH, as MPICC, and
# (Intel MPI) I_MPI_ROOT, without which its mpicc prints no usable paths.
mpi_run() {
  local v
  v=$(mpi_prefix "$1"); shift
  if [[ -z $v ]]; then "$@"; return; fi
  PATH=$v/bin:$PATH MPICC=$v/bin/mpicc I_MPI_ROOT=$v "$@"
}
# mpi_build NAME: parsim against NAME's MPI, in NAME's target directory.
mpi_build() {
  pin_hdf5
  (cd "$PARSIM_ROOT" && mpi_run "$1" env CARGO_TARGET_DIR="$(mpi_target "$1")" \
    cargo build --release --locked --quiet)
}
# mpi_launcher NAME: the words that start a job with NAME's MPI, before
# `-n N` (Open MPI's mpirun with --oversubscribe for more ranks than cores;
# MPICH's and Intel MPI's Hydra mpiexec place any number).
mpi_launcher() {
  local v
  v=$(mpi_prefix "$1")
  case $1 in
    openmpi) echo "mpirun --oversubscribe --bind-to none" ;;
    openmpi5) echo "$v/bin/mpirun --oversubscribe --bind-to none" ;;
    *) echo "$v/bin/mpiexec" ;;
  esac
}

# The bundled-HDF5 build (cargo feature bundled-hdf5: HDF5 2.x from source,
# linked statically), in its own target directory; CMake from the venv
# and Ninja from the venv (scripts/setup.sh --bundled-hdf5: a fresh Debian
# has no make). The system's HDF5_DIR must not leak in.
PARSIM_BUNDLED_TARGET=$PARSIM_ROOT/target/bundled-hdf5
PARSIM_BUNDLED_BIN=$PARSIM_BUNDLED_TARGET/release/parsim
bundled_hdf5_env() {
  env -u HDF5_DIR PATH="$PARSIM_ROOT/.venv/bin:$PATH" CMAKE_GENERATOR=Ninja \
    CARGO_TARGET_DIR="$PARSIM_BUNDLED_TARGET" "$@"
}
build_bundled_hdf5() {
  (cd "$PARSIM_ROOT" && bundled_hdf5_env cargo build --release --locked --quiet --features bundled-hdf5)
}
