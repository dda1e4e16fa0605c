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

# Extra mpirun flags when asking for more ranks than this machine has cores.
mpi_oversubscribe_flags() {
  local ranks=$1
  if (( ranks > $(nproc) )); then
    echo "note: $ranks ranks on $(nproc) cores: adding --oversubscribe" >&2
    echo "--oversubscribe"
  fi
}

build_release() {
  (cd "$PARSIM_ROOT" && cargo build --release --locked --quiet)
}
