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

say() { echo "slurm-local: $*"; }
die() { echo "slurm-local: $*" >&2; exit 1; }

# alive NAME: the pid file names a live, non-zombie process called NAME.
alive() {
  local pf=$D/run/$1.pid pid
  [[ -s $pf ]] || return 1
  pid=$(<"$pf")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm && $(</proc/$pid/comm) == "$1" ]] || return 1
  [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

waitfor() { # waitfor DESC CMD...: poll CMD until it succeeds or TIMEOUT
  local desc=$1 t=0; shift
  until "$@" >/dev/null 2>&1; do
    if (( t++ >= TIMEOUT * 4 )); then
      echo "slurm-local: timeout waiting for $desc; last log lines:" >&2
      tail -n 20 "$D"/log/*.log >&2 || true
      exit 1
    fi
    sleep 0.25
  done
}

install_packages() {
  local missing=()
  command -v slurmctld >/dev/null || missing+=(slurmctld)
  command -v slurmd >/dev/null || missing+=(slurmd)
  command -v sbatch >/dev/null || missing+=(slurm-client)
  command -v munged >/dev/null || missing+=(munge)
  (( ${#missing[@]} == 0 )) && return 0
  [[ ${PARSIM_SLURM_INSTALL:-1} == 1 ]] || die "missing: ${missing[*]} (and PARSIM_SLURM_INSTALL=0)"
  command -v apt-get >/dev/null || die "missing: ${missing[*]}; no apt-get to install them"
  [[ $(id -u) -eq 0 ]] || die "missing: ${missing[*]}; installing them needs root"
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
  }
}

write_config() {
  local node=$1 hw cpus sockets cores threads mem nodeline overrides mpi
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
  mpi=none
  compgen -G "/usr/lib/*/slurm-wlm/mpi_pmix*.so" >/dev/null && mpi=pmix
  cat >"$CONF" <<EOF
# Written by parsim's scripts/slurm-local.sh: a private one-node cluster.
ClusterName=parsimlocal
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=$mpi
ReturnToService=2
MinJobAge=3600
KillWait=5
MailProg=/bin/true
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
}

up() {
  [[ $(id -u) -eq 0 ]] || die "starting slurmd needs root (it runs jobs as their users)"
  install_packages
  local node
  node=$(hostname -s)
  if alive munged && alive slurmctld && alive slurmd; then
    say "already running"
  else
    if ! alive slurmctld && ! alive slurmd; then
      mkdir -p "$D"/{etc,run,log,lib,spool/ctld,spool/d}
      chmod 700 "$D/etc" "$D/lib" "$D/log"
      chmod 755 "$D" "$D/run" # munged insists on a world-readable socket dir
      write_config "$node"
    fi
    if ! alive munged; then
      [[ -s $D/etc/munge.key ]] || {
        dd if=/dev/urandom of="$D/etc/munge.key" bs=1024 count=1 2>/dev/null
        chmod 600 "$D/etc/munge.key"
      }
      /usr/sbin/munged --force --key-file="$D/etc/munge.key" --socket="$SOCK" \
        --pid-file="$D/run/munged.pid" --log-file="$D/log/munged.log" \
        --seed-file="$D/lib/munged.seed"
    fi
    waitfor munged bash -c "munge -n -S '$SOCK' | unmunge -S '$SOCK'"
    alive slurmctld || slurmctld
    waitfor slurmctld bash -c "scontrol ping | grep -q 'is UP'"
    alive slurmd || slurmd -N "$node"
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

stop() {
  local name=$1 pid i
  if alive "$name"; then
    pid=$(<"$D/run/$name.pid")
    kill -TERM "$pid"
    for i in $(seq 1 80); do alive "$name" || break; sleep 0.25; done
    if alive "$name"; then say "$name ($pid) ignored SIGTERM, sending SIGKILL"; kill -KILL "$pid"; fi
    say "stopped $name ($pid)"
  fi
  rm -f "$D/run/$name.pid"
}

down() {
  if alive slurmctld; then
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
    if [[ -n ${jobs// } ]]; then
      say "cancelling jobs: $jobs"
      # shellcheck disable=SC2086
      scancel $jobs || true
      for _ in $(seq 1 60); do [[ -z $(squeue -h -t R,CG -o %A 2>/dev/null) ]] && break; sleep 0.5; done
    fi
  fi
  stop slurmd
  stop slurmctld
  stop munged
  say "down (state kept in $D)"
}

status() {
  local name any=0
  for name in munged slurmctld slurmd; do
    if alive "$name"; then echo "$name: running (pid $(<"$D/run/$name.pid"))"; any=1
    else echo "$name: not running"; fi
  done
  if alive slurmctld; then
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
