#!/usr/bin/env bash
# scripts/cluster-local.sh - a virtual multi-node SLURM cluster on this one
# machine, to try the job scripts and scaling studies across "nodes" that
# talk over a network, as on a real cluster.
#
#   scripts/cluster-local.sh up [--nodes N]   start N compute nodes (default 4) and a head node
#   scripts/cluster-local.sh status           what runs, sinfo, squeue
#   scripts/cluster-local.sh exec CMD ...     run CMD on the head (login) node, SLURM_CONF set
#   scripts/cluster-local.sh down             cancel jobs, stop daemons, remove the network
#   scripts/cluster-local.sh shape rate=1gbit [delay=50us] | shape off
#                                             give every node's link a real network's bandwidth
#                                             (and latency, where the kernel has netem)
#
# What a "node" is: a network namespace of its own (its own interfaces and
# IP address: ranks on two nodes talk TCP over a veth pair, never shared
# memory), a UTS namespace (its own hostname: head, node1, ...) and a mount
# namespace in which /tmp and /dev/shm are the node's own (node-local
# scratch, as on a cluster) and /etc/hosts lists the cluster's hosts. The
# nodes are joined by a bridge that lives in a namespace of its own, on a
# private subnet (PARSIM_CLUSTER_NET, default 10.251.0.0/24) that exists only
# inside these namespaces: the host's own interfaces, routes, /etc/hosts and
# firewall are never touched, and no traffic leaves the namespaces.
#
# The filesystem is otherwise shared, as a cluster's home and project
# filesystems are: the state directory, the project and the binaries are
# the same paths on every node. One munged (host side; its socket is a file
# on the shared filesystem) serves all nodes; slurmctld runs on the head
# node, one slurmd on each compute node. Every process is stopped by the
# PID this script recorded (checked against its name), never by name alone.
#
# Environment:
#   PARSIM_CLUSTER_DIR    state directory, on the shared filesystem
#                         (default /var/tmp/parsim-cluster; not /tmp, which
#                         is node-local here)
#   PARSIM_CLUSTER_NAME   prefix of the namespaces (default parsim)
#   PARSIM_CLUSTER_NET    first three octets of the subnet (default 10.251.0)
#   PARSIM_CLUSTER_CPUS   CPUs each node offers (default 2; more nodes x CPUs
#                         than cores means oversubscribed runs)
#   PARSIM_SLURM_INSTALL=0   never apt-get install
set -euo pipefail

D=${PARSIM_CLUSTER_DIR:-/var/tmp/parsim-cluster}
P=${PARSIM_CLUSTER_NAME:-parsim}
NET=${PARSIM_CLUSTER_NET:-10.251.0}
CPUS=${PARSIM_CLUSTER_CPUS:-2}
TIMEOUT=${PARSIM_CLUSTER_TIMEOUT:-60}
CONF=$D/etc/slurm.conf
SOCK=$D/run/munge.socket
SW=$P-sw
export SLURM_CONF=$CONF

ME=cluster-local
# shellcheck source=scripts/slurm-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm-lib.sh"

# ip_of NODE: head is .1, nodeK is .(10+K).
ip_of() { if [[ $1 == head ]]; then echo "$NET.1"; else echo "$NET.$((10 + ${1#node}))"; fi; }
nodes() { cat "$D/nodelist" 2>/dev/null || true; }       # compute nodes, one per line
hosts() { echo head; nodes; }

# on HOST CMD...: run CMD inside HOST's namespaces (network, hostname, mounts).
on() {
  local host=$1; shift
  alive sleep "$D/run/$host.pid" || die "node $host is not up (scripts/cluster-local.sh status)"
  # --root: the holder's root (in a chroot, entering a mount namespace
  # would otherwise land at the machine's real root); --wd: stay where the
  # caller is (the filesystem is shared).
  nsenter -t "$(<"$D/run/$host.pid")" --net --uts --mount --root --wd="$PWD" -- env SLURM_CONF="$CONF" "$@"
}

write_config() {
  local n=$1 mem node
  mem=$(slurmd -C | head -1 | tr ' ' '\n' | sed -n 's/^RealMemory=//p')
  mem=$(( mem * 90 / 100 / (n + 1) ))
  {
    cat <<EOF
# Written by parsim's scripts/cluster-local.sh: a virtual $n-node cluster.
ClusterName=parsimvc
SlurmctldHost=head($(ip_of head))
EOF
    slurm_conf_common
    cat <<EOF
SlurmdParameters=config_overrides
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$D/spool/ctld
SlurmdSpoolDir=$D/spool/%n
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd-%n.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd-%n.log
EOF
    for node in $(nodes); do
      echo "NodeName=$node NodeAddr=$(ip_of "$node") CPUs=$CPUS Sockets=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$mem State=UNKNOWN"
    done
    echo "PartitionName=vc Nodes=$(nodes | paste -sd,) Default=YES MaxTime=INFINITE State=UP"
  } >"$CONF"
  {
    echo "127.0.0.1 localhost"
    for node in $(hosts); do echo "$(ip_of "$node") $node"; done
  } >"$D/etc/hosts"
}

# isolate_mounts: how a node's mount namespace is cut off from the host's,
# so that the node's /tmp, /dev/shm and /etc/hosts never show outside it.
# On a machine (or container) unshare makes every mount private. In a chroot
# it cannot ("/" is no mount point there: EINVAL); there each mount the
# chroot sees is made private inside the node, and the one it cannot see
# (the mount holding the chroot) is tried first: a tmpfs mounted in a
# throwaway namespace must not appear here. If it does, it is removed and
# the cluster refused.
isolate_mounts() {
  PROPAGATION=private PRIVATE_EACH=""
  unshare --mount --propagation private true 2>/dev/null && return 0
  local probe=$D/run/propagation-probe
  mkdir -p "$probe"
  unshare --mount --propagation unchanged mount -t tmpfs parsim-probe "$probe" ||
    die "cannot mount in a new mount namespace here"
  if mountpoint -q "$probe"; then
    umount "$probe"
    die "mounts made in a node would propagate to this machine ('/' is not a mount point here and the filesystem holding it is shared); run where '/' is a mount point"
  fi
  rmdir "$probe"
  PROPAGATION=unchanged
  # shellcheck disable=SC2016 # expanded by the holder's shell
  PRIVATE_EACH='awk "{print \$5}" /proc/self/mountinfo | xargs -r -n1 mount --make-private'
  say "no private root here (a chroot?): each visible mount made private in the nodes; the mount holding / does not propagate (tried)"
}

# in_ns NS CMD...: CMD in network namespace NS. Not `ip -n NS`, which also
# remounts / and /sys in a mount namespace of its own: impossible in a chroot.
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

# The switch: a bridge in a namespace of its own.
make_switch() {
  # `ip netns add` makes /run/netns a mount point of the machine if it is
  # not one yet; remembered, so that `down` can take back what it made.
  mountpoint -q /run/netns 2>/dev/null || touch "$D/run/netns-mount-ours"
  ip netns add "$SW"
  in_ns "$SW" ip link set lo up
  in_ns "$SW" ip link add br0 type bridge
  in_ns "$SW" ip link set br0 up
}

# make_node HOST: its namespace, a veth pair to the switch, its address;
# then a holder process that owns the node's hostname and mounts (the
# daemons and every command on the node join its namespaces).
make_node() {
  local host=$1 ns=$P-$1
  ip netns add "$ns"
  in_ns "$ns" ip link set lo up
  in_ns "$ns" ip link add eth0 type veth peer name "v-$host" netns "$SW"
  in_ns "$SW" ip link set "v-$host" master br0 up
  in_ns "$ns" ip addr add "$(ip_of "$host")/24" dev eth0
  in_ns "$ns" ip link set eth0 up
  mkdir -p "$D/nodes/$host/tmp" "$D/spool/$host"
  chmod 1777 "$D/nodes/$host/tmp"
  # The holder: sleeps forever in the node's network, UTS and mount
  # namespaces; its mounts stay in its namespace (see isolate_mounts).
  # (nsenter, not ip netns exec, which would mount a /sys without cgroups.)
  nsenter --net="/run/netns/$ns" unshare --uts --mount --propagation "$PROPAGATION" -- bash -c "
    hostname '$host'
    $PRIVATE_EACH
    mount --bind '$D/nodes/$host/tmp' /tmp
    mount -t tmpfs -o mode=1777,size=25% tmpfs /dev/shm
    mount --bind '$D/etc/hosts' /etc/hosts
    exec sleep infinity" </dev/null >/dev/null 2>&1 &
  echo $! >"$D/run/$host.pid"
  waitfor "node $host" bash -c "[[ \$(nsenter -t $! --uts hostname) == '$host' ]]"
}

up() {
  local n=4
  while (( $# )); do
    case $1 in
      --nodes) n=${2:?--nodes needs a number}; shift 2 ;;
      --nodes=*) n=${1#--nodes=}; shift ;;
      *) die "unknown option '$1' (usage: up [--nodes N])" ;;
    esac
  done
  [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= 64 )) || die "--nodes must be 1..64, got '$n'"
  [[ $(id -u) -eq 0 ]] || die "network namespaces and slurmd need root"
  install_packages ip:iproute2 nsenter:util-linux
  if [[ -s $D/nodelist ]] && alive slurmctld "$D/run/slurmctld.pid" && alive sleep "$D/run/head.pid"; then
    say "already up with $(nodes | wc -l) node(s); 'down' first to change it"
    status
    return 0
  fi
  # A half-started or killed earlier cluster: clear it first.
  down >/dev/null
  local t0=$SECONDS node
  mkdir -p "$D"/{etc,run,log,lib,spool/ctld}
  chmod 700 "$D/lib" "$D/log"
  chmod 755 "$D" "$D/run" "$D/etc" # munged's socket dir; the nodes read hosts, slurm.conf
  seq 1 "$n" | sed 's/^/node/' >"$D/nodelist"
  write_config "$n"
  isolate_mounts
  make_switch
  for node in $(hosts); do make_node "$node"; done
  start_munged
  on head slurmctld || die "slurmctld did not start; see $D/log/slurmctld.log"
  waitfor slurmctld on head bash -c "scontrol ping | grep -q 'is UP'"
  for node in $(nodes); do
    on "$node" slurmd -N "$node" || die "slurmd on $node did not start; see $D/log/slurmd-$node.log"
  done
  local t=0
  until [[ $(on head sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l) -eq $n ]]; do
    if (( t++ >= TIMEOUT * 4 )); then
      on head sinfo -N >&2 || true; tail -n 20 "$D"/log/*.log >&2; exit 1
    fi
    sleep 0.25
  done
  cat >"$D/env.sh" <<EOF
# Source on the head node (scripts/cluster-local.sh exec bash): SLURM's config.
export SLURM_CONF=$CONF
EOF
  say "up in $((SECONDS - t0)) s: $(on head sinfo -h -o '%D nodes (%N), %c CPUs each, %T')"
  say "run on the head node: scripts/cluster-local.sh exec sbatch -N 2 jobs/heat.sbatch"
}

down() {
  local node jobs ns
  if alive slurmctld "$D/run/slurmctld.pid" && alive sleep "$D/run/head.pid"; then
    jobs=$(on head squeue -h -o %A 2>/dev/null | tr '\n' ' ') || jobs=""
    if [[ -n ${jobs// } ]]; then
      say "cancelling jobs: $jobs"
      # shellcheck disable=SC2086
      on head scancel $jobs || true
      for _ in $(seq 1 60); do [[ -z $(on head squeue -h -o %A 2>/dev/null) ]] && break; sleep 0.5; done
    fi
  fi
  for node in $(nodes); do stop slurmd "$D/run/slurmd-$node.pid"; done
  stop slurmctld "$D/run/slurmctld.pid"
  stop munged "$D/run/munged.pid"
  # The holders: their mounts and hostnames go with them.
  for node in $(hosts); do stop sleep "$D/run/$node.pid"; done
  # Every namespace of this cluster's prefix, also those of a start that
  # failed half way (deleting the switch's removes the bridge and veths).
  for ns in $(ip netns list 2>/dev/null | awk -v p="$P-" 'index($1, p) == 1 {print $1}'); do
    ip netns del "$ns" 2>/dev/null || true
  done
  if [[ -e $D/run/netns-mount-ours ]] && mountpoint -q /run/netns && [[ -z $(ls -A /run/netns) ]]; then
    umount /run/netns
  fi
  rm -f "$D/nodelist" "$D/run/netns-mount-ours"
  say "down (logs kept in $D/log)"
}

# shape rate=R [delay=T] | shape off: every compute node's link to the
# switch, both ways (the node's eth0 and the switch's port to it), limited
# to R (tc units: 100mbit, 1gbit) by a token bucket (tbf) whose burst is
# two full packets, so a message of any size goes at R, not in one gulp
# from a bucket that filled meanwhile; with delay=T, netem adds T each way.
# Latency needs the kernel's sch_netem: where it is missing the request is
# refused with tc's reason, never silently left out.
shape() {
  local rate="" delay="" arg node q
  [[ $# -gt 0 ]] || die "shape needs rate=R [delay=T], or off"
  for arg; do
    case $arg in
      off) ;;
      rate=*) rate=${arg#rate=} ;;
      delay=*) delay=${arg#delay=} ;;
      *) die "shape: unknown '$arg' (shape rate=100mbit [delay=50us] | shape off)" ;;
    esac
  done
  [[ -s $D/nodelist ]] || die "the cluster is not up"
  for node in $(nodes); do
    in_ns "$P-$node" tc qdisc del dev eth0 root 2>/dev/null || true
    in_ns "$SW" tc qdisc del dev "v-$node" root 2>/dev/null || true
  done
  if [[ $1 == off ]]; then say "links unshaped"; return 0; fi
  [[ -n $rate ]] || die "shape: give rate=R (e.g. rate=1gbit)"
  install_packages tc:iproute2
  if [[ -n $delay ]]; then
    q=(netem delay "$delay" rate "$rate" limit 100000)
  else
    q=(tbf rate "$rate" burst 3028 limit 4mb)
  fi
  for node in $(nodes); do
    in_ns "$P-$node" tc qdisc add dev eth0 root "${q[@]}" 2>"$D/run/tc.err" ||
      die "tc qdisc add ${q[*]}: $(head -1 "$D/run/tc.err")$([[ -n $delay ]] && echo " (latency needs sch_netem, which this kernel lacks: shape rate=R alone limits the bandwidth)")"
    in_ns "$SW" tc qdisc add dev "v-$node" root "${q[@]}"
  done
  say "every node's link: ${q[*]}"
}

status() {
  local node any=0 st
  for node in $(hosts); do
    if alive sleep "$D/run/$node.pid"; then st="up ($(ip_of "$node"))"; any=1; else st=down; fi
    echo "$node: $st"
  done
  if alive slurmctld "$D/run/slurmctld.pid"; then
    on head sinfo -N
    on head squeue
  else
    echo "slurmctld: not running"
  fi
  (( any )) && return 0 || return 3
}

case ${1:-} in
  up) shift; up "$@" ;;
  down) down ;;
  status) status ;;
  exec) shift; (( $# )) || die "exec needs a command"; on head "$@" ;;
  shape) shift; shape "$@" ;;
  *) echo "usage: scripts/cluster-local.sh up [--nodes N]|down|status|exec CMD...|shape rate=R|off" >&2; exit 2 ;;
esac
