# jobs/lib.sh - what parsim's job scripts share, sourced by jobs/*.sbatch
# (not submitted itself). The caller sets JOB (its log prefix, e.g.
# parsim-ou) and `set -euo pipefail` first.
#
# sbatch runs a copy of the submitted script from its spool directory, so a
# script cannot find this file next to itself: each one looks in
# PARSIM_JOBS, else in the folder of the script as submitted (SLURM keeps
# its path as the job's Command=, followed by the script's arguments),
# else in $SLURM_SUBMIT_DIR/jobs.

# say WORDS: one line in the job's log.
say() { echo "$JOB: $*"; }

# fail WORDS: a bad input's one line on stderr (which the log holds too), exit 2.
fail() {
  echo "$JOB: $*" >&2
  exit 2
}

# find_parsim: sets PARSIM (the binary the job runs) and SRUN_MPI, and
# names the binary in the log. PARSIM if set, else `parsim` on PATH (an
# installed one, e.g. `cargo install --path .` or a site module), else the
# build in the submit directory. A site's module stack puts its parsim on
# PATH, which is why PATH comes before the build directory.
find_parsim() {
  local how build version
  build=${SLURM_SUBMIT_DIR:-$PWD}/target/release/parsim
  if [[ -n ${PARSIM:-} ]]; then
    how="from PARSIM"
    [[ -x $PARSIM ]] || fail "parsim binary not found at '$PARSIM' (PARSIM): build it (cargo build --release) or fix PARSIM"
  elif PARSIM=$(command -v parsim); then
    how="on PATH"
  elif [[ -x $build ]]; then
    PARSIM=$build how="the submit directory's build"
  else
    fail "parsim not found: PARSIM is unset, no parsim on PATH, no '$build': put parsim on PATH, build it (cargo build --release) or set PARSIM"
  fi
  version=$("$PARSIM" --version 2>&1) || fail "'$PARSIM --version' failed: ${version%%$'\n'*}"
  say "parsim: $PARSIM ($how): ${version%%$'\n'*}"
  # srun's MPI plugin for the MPI parsim was built with (its --version
  # says: pmix for Open MPI, pmi2 for MPICH and Intel MPI); SRUN_MPI
  # overrides it (empty: the site's default).
  SRUN_MPI=${SRUN_MPI-$(sed -n 's/^srun MPI plugin: //p' <<<"$version")}
}

# check_export: refuses a list that sbatch cut. sbatch splits --export at
# every comma, so `--export=ALL,TAU=0.5,1,2` gives the job TAU=0.5 and two
# stray words, '1' and '2', silently. SLURM hands the job the --export
# text as SLURM_EXPORT_ENV (verified with Slurm 22.05: the string exactly as
# given, e.g. "ALL,PATHS=1000,TAU=0.5,1,2"); a word there without '=' that
# is no variable name can only be the rest of a cut list.
check_export() {
  local words word name="" value="" rest=""
  IFS=, read -ra words <<<"${SLURM_EXPORT_ENV:-}"
  for word in "${words[@]}"; do
    if [[ $word == *=* ]]; then
      [[ -n $rest ]] && break
      name=${word%%=*} value=${word#*=}
    elif [[ -n $word && ! $word =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
      rest+=":$word"
    fi
  done
  [[ -z $rest ]] && return 0
  if [[ -z $name ]]; then
    fail "sbatch --export has '${rest#:}', which is no variable: lists are written with colons, e.g. TAU=0.5:1:2"
  fi
  fail "sbatch --export cut $name at its commas (the job got $name=$value): write $name=$value$rest"
}

# colons LIST: a list as parsim takes it. Lists are given to the job
# scripts with colons (TAU=0.5:1:2), which survive sbatch --export; parsim
# takes commas.
colons() { echo "${1//:/,}"; }

# keeps_checkpoint WORKLOAD: whether parsim can checkpoint and resume it
# (`parsim workloads --json` says so, per workload).
keeps_checkpoint() {
  "$PARSIM" workloads --json | awk -F'"' -v w="$1" '
    /^    "name":/ { name = $4 }
    /"checkpoints": true/ && name == w { found = 1 }
    END { exit !found }'
}

# resume_from FILE: appends `--restart FILE` to the array ARGS when FILE
# exists (a requeued job, or a resubmission, continues where the last one
# stopped).
resume_from() {
  if [[ -f $1 ]]; then
    ARGS+=(--restart "$1")
    say "resuming from $1 (restart ${SLURM_RESTART_COUNT:-0})"
  fi
}

# run_step COMMAND...: runs COMMAND under srun (SRUN_MPI's plugin) as the
# job's step and sets STEP_RC to its exit code. SLURM's warning signal
# reaches this shell (#SBATCH --signal=B:USR1@...): it is passed on as
# SIGUSR1, which srun forwards to every task, and parsim checkpoints (or,
# for a workload that keeps none, stops) and exits with 75. SIGTERM too is
# passed on as SIGUSR1: srun answers a SIGTERM of its own by killing the
# tasks at once ("forcing job termination", no checkpoint; measured with
# Slurm 22.05, tests/cluster.rs). Trapped before srun starts, so an early
# signal is remembered rather than killing this script.
run_step() {
  STEP_PID="" STEP_SIGNALLED=0 STEP_RC=0
  trap 'stop_step USR1' USR1
  trap 'stop_step TERM' TERM
  # shellcheck disable=SC2086  # SRUN_MPI is a word list
  srun ${SRUN_MPI} "$@" &
  STEP_PID=$!
  if ((STEP_SIGNALLED)); then
    kill -USR1 "$STEP_PID" 2>/dev/null || true
  fi
  while true; do
    wait "$STEP_PID" && STEP_RC=0 || STEP_RC=$?
    kill -0 "$STEP_PID" 2>/dev/null || break # wait was only interrupted by a signal
  done
}

stop_step() {
  STEP_SIGNALLED=1
  say "$1 received: asking parsim to checkpoint and stop"
  if [[ -n $STEP_PID ]]; then
    kill -USR1 "$STEP_PID" 2>/dev/null || true
  fi
}

# finish WORKLOAD: ends the job with the step's exit code. Exit 75 is
# parsim stopped by the signal: a workload that keeps checkpoints wrote
# one, and the job is requeued (#SBATCH --requeue; same job id, log
# appended with --open-mode=append) to resume from it. One that keeps none
# is not requeued: it would start again from the beginning and meet the
# same time limit at the same point; the job ends with 75 (not a success:
# there is no result).
finish() {
  if ((STEP_RC == 75)); then
    if keeps_checkpoint "$1" && [[ -n ${SLURM_JOB_ID:-} ]]; then
      say "stopped with a checkpoint; requeueing job $SLURM_JOB_ID"
      scontrol requeue "$SLURM_JOB_ID"
      exit 0
    elif keeps_checkpoint "$1"; then
      say "stopped with a checkpoint: run this script again to resume"
    else
      say "stopped before the end and not requeued: $1 keeps no checkpoint, so a requeued job would start from the beginning and meet the same limit again (ask for more --time or more ranks)"
    fi
  fi
  exit "$STEP_RC"
}
