#!/usr/bin/env bash
# test_slurm: scripts/slurm on a real Slurm. Starts a private single-node cluster on this host
# (munged, slurmctld, slurmd from Debian, all files, sockets and ports its own), submits
# sweep_array.sbatch on a 12-point sweep as 3 tasks, requeues task 1 once it has a point in its
# journal (scontrol requeue), then sweep_merge.sbatch after the array; the merged /sweep/points
# must equal a direct `xbarsim sweep`, and the requeued task must have resumed from its journal.
# Exit 77 (skip) when not root. Every wait has a deadline; the daemons stop on any exit.
# Usage: test_slurm.sh XBARSIM SOURCE_DIR.
set -u
bin=$(realpath "$1")
src=$(realpath "$2")
if [ "$(id -u)" -ne 0 ]; then
    echo "skip: a private Slurm cluster needs root (slurmd runs jobs as their user)"
    exit 77
fi
for d in munged mungekey slurmctld slurmd sbatch squeue scontrol; do
    command -v "$d" >/dev/null || { echo "FAIL: $d missing (scripts/bootstrap.sh installs it)"; exit 1; }
done
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"
export XBARSIM_DATA=$src
tmp=$(mktemp -d)
chmod 755 "$tmp" # munged wants its socket's folders searchable by all
t0=$(date +%s)
ctld_pid=""
slurmd_pid=""

# Stop the jobs, then the daemons (each by the pid this test started), then remove everything.
stop_daemon() {
    local pid=$1 i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null
}
cleanup() {
    if [ -n "$ctld_pid" ] && kill -0 "$ctld_pid" 2>/dev/null; then
        scancel --full --quiet --partition=debug 2>/dev/null
        local i
        for i in $(seq 50); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    stop_daemon "$slurmd_pid"
    stop_daemon "$ctld_pid"
    [ -S "$tmp/munge/munge.sock" ] && munged -s -S "$tmp/munge/munge.sock" >/dev/null 2>&1
    stop_daemon "$(cat "$tmp/munge/munged.pid" 2>/dev/null)"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# die WHAT: a failure that stops the test, with the daemons' logs.
die() {
    echo "FAIL: $1"
    local f
    for f in "$tmp"/munge/munged.log "$tmp"/slurmctld.log "$tmp"/slurmd.log "$tmp"/out/*.out; do
        [ -f "$f" ] || continue
        echo "---- $f (last 40 lines)"
        tail -n 40 "$f"
    done
    exit 1
}

# wait_for SECONDS WHAT CMD...: poll CMD every 0.2 s until it succeeds, or die after SECONDS.
wait_for() {
    local deadline=$(($(date +%s) + $1)) what=$2
    shift 2
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for $what"
        sleep 0.2
    done
}

# ---- munge: its own key, socket and log ---------------------------------------------------
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/out"
chmod 700 "$tmp/munge"
mungekey -c -k "$tmp/munge/munge.key" >/dev/null 2>&1 \
    || dd if=/dev/urandom of="$tmp/munge/munge.key" bs=128 count=1 status=none
chmod 600 "$tmp/munge/munge.key"
chmod 755 "$tmp/munge"
munged --force -S "$tmp/munge/munge.sock" --key-file="$tmp/munge/munge.key" \
    --log-file="$tmp/munge/munged.log" --pid-file="$tmp/munge/munged.pid" \
    --seed-file="$tmp/munge/munged.seed" || die "munged did not start"
wait_for 10 "munged's socket" test -S "$tmp/munge/munge.sock"

# ---- slurm.conf: one node (this host, all its cores), free ports, no cgroups ---------------
host=$(hostname -s)
ports=$(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
read -r ctld_port slurmd_port <<<"$ports"
export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=xbarsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job waits this long (plus a second) before it may start again.
AuthInfo=socket=$tmp/munge/munge.sock,cred_expire=5
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=sched_interval=1
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=256 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=30 State=UP
CONF

slurmctld -D -c -f "$SLURM_CONF" </dev/null >"$tmp/slurmctld.stdout" 2>&1 &
ctld_pid=$!
slurmd -D -f "$SLURM_CONF" -N "$host" </dev/null >"$tmp/slurmd.stdout" 2>&1 &
slurmd_pid=$!
node_idle() {
    kill -0 "$ctld_pid" 2>/dev/null || die "slurmctld exited: $(cat "$tmp/slurmctld.stdout")"
    kill -0 "$slurmd_pid" 2>/dev/null || die "slurmd exited: $(cat "$tmp/slurmd.stdout")"
    [ "$(sinfo -h -n "$host" -o %t 2>/dev/null)" = idle ]
}
wait_for 30 "the node to be idle" node_idle
check "single-node cluster up" true

# ---- the sweep: 12 points of ~1 s (resnet18 on lrmp, 128 inferences) ------------------------
cat >"$tmp/s.cfg" <<'CFG'
sweep = {
  job = "run";
  base = { arch = "lrmp"; network = "resnet18"; run = { inferences = 128; }; };
  axes = ( { path = "policy.uniform"; values = [4, 6, 8]; },
           { path = "arch.tiles.rows_active"; values = [18, 36, 72, 144]; } );
  metrics = ["latency_us", "energy_uj", "events", "tiles_used"];
};
CFG
cd "$tmp" || die "cd"
export XBARSIM=$bin XBARSIM_OUT=$tmp/out
jid=$(sbatch --parsable --array=0-2 --cpus-per-task=1 --time=5 --output="$tmp/out/slurm-%A_%a.out" \
    "$src/scripts/slurm/sweep_array.sbatch" "$tmp/s.cfg") || die "sbatch of the array"
mid=$(sbatch --parsable --dependency=afterany:"$jid" --output="$tmp/out/slurm-merge-%j.out" \
    "$src/scripts/slurm/sweep_merge.sbatch" "$tmp/s.cfg") || die "sbatch of the merge"

# Requeue task 1 mid-run: once its journal holds a point, before its last one.
journal=$tmp/out/s.shard1-of-3.h5.journal
task1_mid_run() {
    local state
    state=$(squeue -h -j "${jid}_1" -o %T 2>/dev/null)
    [ -n "$state" ] || die "task 1 ended before it could be requeued"
    [ "$state" = RUNNING ] && [ -f "$journal" ] && [ "$(grep -vc '^#' "$journal")" -ge 1 ]
}
wait_for 120 "task 1 to run and journal a point" task1_mid_run
done_before=$(grep -vc '^#' "$journal")
scontrol requeue "${jid}_1" || die "scontrol requeue ${jid}_1"
expect "requeued task 1 after $done_before of its 4 points" 0 'Restarts=1' -- \
    scontrol -o show job "${jid}_1"

all_done() { [ -z "$(squeue -h -j "$jid,$mid" -o %i 2>/dev/null)" ]; }
wait_for 300 "the array and the merge to finish" all_done
expect "merge job completed" 0 'JobState=COMPLETED .*ExitCode=0:0' -- scontrol -o show job "$mid"
for i in 0 1 2; do
    expect "array task $i completed" 0 'JobState=COMPLETED .*ExitCode=0:0' -- \
        scontrol -o show job "${jid}_$i"
done
# The requeued task's second run took up what its journal held (the log is the last run's) and
# evaluated the rest: at least the points journalled when it was requeued, never all 4.
resumed=$(sed -n 's/^evaluated [0-9]* now (\([0-9]*\) were done before).*/\1/p' \
    "$tmp/out/slurm-${jid}_1.out")
check "requeued task resumed from its journal (${resumed:-no count} of 4 done before)" \
    test "${resumed:-0}" -ge "$done_before" -a "${resumed:-0}" -lt 4

# ---- the merged table equals a direct run ---------------------------------------------------
"$bin" sweep "$tmp/s.cfg" -o "$tmp/direct.h5" -j 2 -q || die "direct sweep"
check "merged file written" test -f "$tmp/out/s.h5"
msg=$(same_table "$tmp/direct.h5" "$tmp/out/s.h5" 2>&1)
check "merged /sweep/points == direct run${msg:+: $msg}" test -z "$msg"
echo "test_slurm: $(($(date +%s) - t0)) s"
[ "$fail" -eq 0 ] || die "see above"
finish
