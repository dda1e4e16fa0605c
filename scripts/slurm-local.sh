#!/usr/bin/env bash
# scripts/slurm-local.sh - a private single-node SLURM on this machine
# (munged + slurmctld + slurmd on localhost, no cgroups, no systemd), so the
# job scripts in jobs/ and the scaling studies can be tried on a laptop and
# tested in CI.
#
#   scripts/slurm-local.sh up       start (idempotent); installs packages with apt if missing
#   scripts/slurm-local.sh status   what runs, and the line to point sbatch at it
#   scripts/slurm-local.sh down     cancel its jobs, stop the daemons it started
#
# Then:  source "$PARSIM_SLURM_DIR/env.sh"   (exports SLURM_CONF), and sbatch as usual.
#
# It never touches /etc/slurm and stops only the processes named in its own
# pid files (checked against the process name), never by name alone.
#
# Environment:
#   PARSIM_SLURM_DIR    state directory        (default /tmp/parsim-slurm)
#   PARSIM_SLURM_CPUS   CPUs the node offers   (default: max(4, cores); more
#                       than the cores lets 4-rank jobs run oversubscribed)
#   PARSIM_SLURM_PORT   slurmctld port; slurmd uses PORT+1 (default 6817)
#   PARSIM_SLURM_INSTALL=0   never apt-get install
set -euo pipefail

D=${PARSIM_SLURM_DIR:-/tmp/parsim-slurm}
CONF=$D/etc/slurm.conf
SOCK=$D/run/munge.socket
CTLD_PORT=${PARSIM_SLURM_PORT:-6817}
SLURMD_PORT=$((CTLD_PORT + 1))
TIMEOUT=${PARSIM_SLURM_TIMEOUT:-60}
export SLURM_CONF=$CONF

ME=slurm-local
# shellcheck source=scripts/slurm-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

# running NAME: this cluster's NAME daemon runs (pid file run/NAME.pid).
running() { alive "$1" "$D/run/$1.pid"; }

write_config() {
  local node=$1 hw cpus sockets cores threads mem nodeline overrides
  hw=$(slurmd -C | head -1)
  field() { tr ' ' '\n' <<<"$hw" | sed -n "s/^$1=//p"; }
  cpus=$(field CPUs) sockets=$(field SocketsPerBoard) cores=$(field CoresPerSocket)
  threads=$(field ThreadsPerCore) mem=$(field RealMemory)
  local want=${PARSIM_SLURM_CPUS:-$(( cpus > 4 ? cpus : 4 ))}
  if (( want == cpus )); then
    nodeline="CPUs=$cpus Sockets=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads"
    overrides=""
  else
    nodeline="CPUs=$want Sockets=1 CoresPerSocket=$want ThreadsPerCore=1"
    overrides="SlurmdParameters=config_overrides"
  fi
  {
    cat <<EOF
# Written by parsim's scripts/slurm-local.sh: a private one-node cluster.
ClusterName=parsimlocal
SlurmctldHost=$node(127.0.0.1)
EOF
    slurm_conf_common
    cat <<EOF
$overrides
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$D/spool/ctld
SlurmdSpoolDir=$D/spool/d
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
NodeName=$node NodeAddr=127.0.0.1 $nodeline RealMemory=$(( mem * 90 / 100 )) State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  } >"$CONF"
}

up() {
  [[ $(id -u) -eq 0 ]] || die "starting slurmd needs root (it runs jobs as their users)"
  install_packages
  local node
  node=$(hostname -s)
  if running munged && running slurmctld && running slurmd; then
    say "already running"
  else
    if ! running slurmctld && ! running slurmd; then
      mkdir -p "$D"/{etc,run,log,lib,spool/ctld,spool/d}
      chmod 700 "$D/etc" "$D/lib" "$D/log"
      chmod 755 "$D" "$D/run" # munged insists on a world-readable socket dir
      write_config "$node"
    fi
    start_munged
    running slurmctld || slurmctld
    waitfor slurmctld bash -c "scontrol ping | grep -q 'is UP'"
    running slurmd || slurmd -N "$node"
  fi
  # Wait for the node to be idle; resume it if it came back down or drained.
  local t=0 st
  until [[ $(sinfo -h -n "$node" -o %T 2>/dev/null) == idle* ]]; do
    st=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [[ $st == down* || $st == drain* ]] && scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true
    if (( t++ >= TIMEOUT * 4 )); then
      echo "slurm-local: node state '$st'" >&2; tail -n 20 "$D"/log/*.log >&2; exit 1
    fi
    sleep 0.25
  done
  echo "export SLURM_CONF=$CONF" >"$D/env.sh"
  say "up: $(sinfo -h -o '%P %D node(s) %c CPUs %T') (pids $(cat "$D"/run/{munged,slurmctld,slurmd}.pid | tr '\n' ' '))"
  say "use it with: source $D/env.sh"
}

down() {
  if running slurmctld; then
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
    if [[ -n ${jobs// } ]]; then
      say "cancelling jobs: $jobs"
      # shellcheck disable=SC2086
      scancel $jobs || true
      for _ in $(seq 1 60); do [[ -z $(squeue -h -t R,CG -o %A 2>/dev/null) ]] && break; sleep 0.5; done
    fi
  fi
  local name
  for name in slurmd slurmctld munged; do stop "$name" "$D/run/$name.pid"; done
  say "down (state kept in $D)"
}

status() {
  local name any=0
  for name in munged slurmctld slurmd; do
    if running "$name"; then echo "$name: running (pid $(<"$D/run/$name.pid"))"; any=1
    else echo "$name: not running"; fi
  done
  if running slurmctld; then
    sinfo
    squeue
    echo "use it with: source $D/env.sh"
  fi
  (( any )) && return 0 || return 3
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: scripts/slurm-local.sh up|down|status" >&2; exit 2 ;;
esac
