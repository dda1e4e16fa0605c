# scripts/slurm-lib.sh - what scripts/slurm-local.sh (one node) and
# scripts/cluster-local.sh (a virtual cluster) share: finding their own
# daemons by PID file, waiting, installing SLURM and munge, munged itself,
# stopping a process they started, and the slurm.conf lines both write.
# Sourced, not run. The caller sets ME (message prefix), D (state
# directory, with run/, log/, lib/, etc/), SOCK (munge socket) and TIMEOUT
# (seconds).

say() { echo "$ME: $*"; }
die() { echo "$ME: $*" >&2; exit 1; }

# alive NAME PIDFILE: the pid file names a live, non-zombie process called NAME.
alive() {
  local pf=$2 pid
  [[ -s $pf ]] || return 1
  pid=$(<"$pf")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm && $(</proc/$pid/comm) == "$1" ]] || return 1
  [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

waitfor() { # waitfor DESC CMD...: poll CMD until it succeeds or TIMEOUT
  local desc=$1 t=0; shift
  until "$@" >/dev/null 2>&1; do
    if (( t++ >= TIMEOUT * 4 )); then
      echo "$ME: timeout waiting for $desc; last log lines:" >&2
      tail -n 20 "$D"/log/*.log >&2 || true
      exit 1
    fi
    sleep 0.25
  done
}

# install_packages [COMMAND:PACKAGE ...]: SLURM and munge, and the packages
# of the further commands given, with apt-get where missing.
install_packages() {
  local missing=() want
  for want in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge "$@"; do
    command -v "${want%%:*}" >/dev/null || missing+=("${want#*:}")
  done
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

# start_munged: munged with this directory's key (made once) and socket,
# unless it runs; returns when it answers.
start_munged() {
  if ! alive munged "$D/run/munged.pid"; then
    [[ -s $D/etc/munge.key ]] || {
      dd if=/dev/urandom of="$D/etc/munge.key" bs=1024 count=1 2>/dev/null
      chmod 600 "$D/etc/munge.key"
    }
    /usr/sbin/munged --force --key-file="$D/etc/munge.key" --socket="$SOCK" \
      --pid-file="$D/run/munged.pid" --log-file="$D/log/munged.log" \
      --seed-file="$D/lib/munged.seed"
  fi
  waitfor munged bash -c "munge -n -S '$SOCK' | unmunge -S '$SOCK'"
}

# stop NAME PIDFILE: TERM, then KILL after 20 s; the pid file goes.
stop() {
  local name=$1 pf=$2 pid i
  if alive "$name" "$pf"; then
    pid=$(<"$pf")
    kill -TERM "$pid"
    for i in $(seq 1 80); do alive "$name" "$pf" || break; sleep 0.25; done
    if alive "$name" "$pf"; then say "$name ($pid) ignored SIGTERM, sending SIGKILL"; kill -KILL "$pid"; fi
    say "stopped $name ($pid)"
  fi
  rm -f "$pf"
}

# slurm_conf_common: the slurm.conf lines both clusters share (munge auth,
# no cgroups, no accounting, one CPU per task, PMIx where installed).
slurm_conf_common() {
  local mpi=none
  compgen -G "/usr/lib/*/slurm-wlm/mpi_pmix*.so" >/dev/null && mpi=pmix
  cat <<EOF
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
EOF
}
