#!/usr/bin/env bash
# End-to-end checks of `xbarsim sweep` and `xbarsim merge`: the same results table from 1 thread,
# 2 threads, 2 MPI ranks and 3 shards merged; a sweep killed with SIGKILL and started again loses
# and repeats nothing; failed points are results; bad input says where and exits 2; merge finds
# missing points and refuses another sweep; the Python reader loads the table.
# usage: test_sweep_cli.sh XBARSIM SOURCE_DIR
set -u
xbarsim=$1
src=$2
export XBARSIM_DATA=$src
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }

# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"

cat >"$tmp/s.cfg" <<'CFG'
sweep = {
  job = "run";
  base = {
    arch = "lrmp"; network = "lenet5";
    run = { inferences = 2; };
    set = ["arch.tiles.adc.strict_bits=false"];
  };
  axes = (
    { path = "arch.tiles.adc.bits"; values = [2, 4, 6]; },
    { path = "policy.uniform"; values = [4, 8]; },
    { path = "arch.tiles.count"; values = [3, 5688]; }
  );
  metrics = ["latency_us", "throughput_per_s", "energy_uj", "tiles_used", "events",
             "model_latency_us"];
};
CFG

# 1 thread, 2 threads.
if "$xbarsim" sweep "$tmp/s.cfg" -o "$tmp/j1.h5" -j 1 -q && "$xbarsim" sweep "$tmp/s.cfg" -o "$tmp/j2.h5" -j 2 -q; then
    pass "sweep ran on 1 and 2 threads"
else
    fail "sweep on threads"
fi
[ ! -e "$tmp/j1.h5.journal" ] && pass "journal removed when complete" || fail "journal left behind"
msg=$(same_table "$tmp/j1.h5" "$tmp/j2.h5" 2>&1) && pass "1 thread == 2 threads" || fail "threads: $msg"

# Failed points: the 3-tile chip cannot hold lenet5; recorded with a message, the rest ran.
"$py" - "$tmp/j1.h5" <<'PYEOF' && pass "failed points recorded, others ok" || fail "failed points"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
t = f["/sweep/points"][:]
assert len(t) == 12 and list(t["point"]) == list(range(12)), t["point"]
bad = t["arch.tiles.count"] == 3
assert (t["status"][bad] == b"failed").all() and (t["status"][~bad] == b"ok").all()
assert all(b"tiles" in m for m in t["message"][bad]), t["message"][bad]
assert np.isnan(t["latency_us"][bad]).all() and (t["latency_us"][~bad] > 0).all()
assert f["/sweep"].attrs["complete"] == 1 and f["/sweep"].attrs["points_failed"] == 6
# 8-bit weights and activations take longer than 4-bit on the same chip (more input bits).
ok = t[~bad]
for adc in (2, 4, 6):
    r = ok[ok["arch.tiles.adc.bits"] == adc]
    lat = dict(zip(r["policy.uniform"], r["latency_us"]))
    assert lat[8] > lat[4], lat
PYEOF

# Shards 0/3, 1/3, 2/3, merged.
for i in 0 1 2; do "$xbarsim" sweep "$tmp/s.cfg" -o "$tmp/shard$i.h5" --shard $i/3 -q || fail "shard $i"; done
"$xbarsim" merge -o "$tmp/merged.h5" "$tmp/shard0.h5" "$tmp/shard1.h5" "$tmp/shard2.h5" >/dev/null \
    && pass "merge of 3 shards" || fail "merge of 3 shards"
msg=$(same_table "$tmp/j1.h5" "$tmp/merged.h5" 2>&1) && pass "shards merged == 1 thread" || fail "shards: $msg"

# Merge with a shard missing: the missing points named, nothing written, exit 2.
out=$("$xbarsim" merge -o "$tmp/m2.h5" "$tmp/shard0.h5" "$tmp/shard2.h5" 2>&1); rc=$?
[ $rc -eq 2 ] && [ ! -e "$tmp/m2.h5" ] && echo "$out" | grep -q "4 of 12 points missing: 1-10 step 3" \
    && pass "merge names missing points" || fail "merge missing: rc $rc: $out"
"$xbarsim" merge -o "$tmp/m3.h5" --partial "$tmp/shard0.h5" "$tmp/shard2.h5" >/dev/null 2>&1 \
    && pass "merge --partial writes what is there" || fail "merge --partial"
# Resuming into the partial file evaluates only the rest, and ends equal to the full sweep.
"$xbarsim" sweep "$tmp/s.cfg" -o "$tmp/m3.h5" -q 2>/dev/null
msg=$(same_table "$tmp/j1.h5" "$tmp/m3.h5" 2>&1) && pass "sweep completes a partial merge" || fail "partial resume: $msg"
out=$("$xbarsim" merge -o "$tmp/m4.h5" "$tmp/shard0.h5" "$tmp/shard0.h5" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "duplicated" && pass "merge refuses duplicates" || fail "merge duplicates: $out"

# MPI: 2 ranks (rank 0 serves the queue between its own points).
if "$xbarsim" sweep --help | grep -q "MPI built in" && command -v mpirun >/dev/null; then
    ASAN_OPTIONS=detect_leaks=0 OMPI_MCA_rmaps_base_oversubscribe=1 \
        mpirun --allow-run-as-root --oversubscribe -n 2 "$xbarsim" sweep "$tmp/s.cfg" -o "$tmp/mpi.h5" -q \
        >"$tmp/mpi.log" 2>&1 && pass "sweep under mpirun -n 2" || { cat "$tmp/mpi.log"; fail "mpirun"; }
    msg=$(same_table "$tmp/j1.h5" "$tmp/mpi.h5" 2>&1) && pass "2 MPI ranks == 1 thread" || fail "mpi: $msg"
else
    echo "skip: MPI not built in or mpirun missing"
fi

# Kill -9 mid-sweep, start again: nothing lost, nothing repeated, same table as uninterrupted.
cat >"$tmp/k.cfg" <<'CFG'
sweep = {
  job = "run";
  base = { arch = "lrmp"; network = "resnet18"; };
  axes = ( { path = "policy.uniform"; range = { from = 2; to = 8; step = 1; }; },
           { path = "arch.tiles.rows_active"; values = [9, 18, 36, 72]; } );
  metrics = ["latency_us", "energy_uj", "events"];
};
CFG
"$xbarsim" sweep "$tmp/k.cfg" -o "$tmp/full.h5" -j 1 -q || fail "uninterrupted sweep"
"$xbarsim" sweep "$tmp/k.cfg" -o "$tmp/killed.h5" -j 1 -q --snapshot 0.2 &
pid=$!
for _ in $(seq 1 600); do
    lines=0; [ -f "$tmp/killed.h5.journal" ] && lines=$(wc -l <"$tmp/killed.h5.journal")
    [ "$lines" -ge 8 ] && break
    sleep 0.02
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
done_before=$(($(wc -l <"$tmp/killed.h5.journal") - 1))
if [ "$done_before" -ge 7 ] && [ "$done_before" -lt 28 ]; then pass "killed after $done_before of 28 points"; else fail "kill timing: $done_before points"; fi
out=$("$xbarsim" sweep "$tmp/k.cfg" -o "$tmp/killed.h5" -j 2); rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "evaluated $((28 - done_before)) now ($done_before were done before)" \
    && pass "resume evaluated only the $((28 - done_before)) points left" || fail "resume: rc $rc: $out"
msg=$(same_table "$tmp/full.h5" "$tmp/killed.h5" 2>&1) && pass "killed + resumed == uninterrupted" || fail "resume table: $msg"

# A different sweep into an existing output: refused, the file untouched.
sed 's/step = 1/step = 2/' "$tmp/k.cfg" >"$tmp/k2.cfg"
sum=$(md5sum <"$tmp/full.h5")
out=$("$xbarsim" sweep "$tmp/k2.cfg" -o "$tmp/full.h5" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "holds another sweep" && [ "$(md5sum <"$tmp/full.h5")" = "$sum" ] \
    && pass "another sweep's output refused and kept" || fail "other sweep: rc $rc: $out"

# Bad input: file:line and exit 2, nothing written.
printf 'sweep = {\n  base = { arch = "lrmp"; network = "lenet5"; };\n  axes = ( { path = "arch.tiles.adc.bitz"; values = [1]; } );\n};\n' >"$tmp/bad.cfg"
out=$("$xbarsim" sweep "$tmp/bad.cfg" -o "$tmp/bad.h5" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "bad.cfg:3: sweep.axes.\[0\]" && [ ! -e "$tmp/bad.h5" ] && [ ! -e "$tmp/bad.h5.journal" ] \
    && pass "bad arch key: file:line, exit 2, nothing written" || fail "bad input: rc $rc: $out"
out=$("$xbarsim" sweep "$tmp/s.cfg" --shard 3/3 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "expected I/N" && pass "bad --shard exit 2" || fail "bad shard: $out"
out=$("$xbarsim" sweep "$tmp/nothere.cfg" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "nothere.cfg" && pass "missing file exit 2" || fail "missing file: $out"

# --list prints the points without running them.
n=$("$xbarsim" sweep "$tmp/k.cfg" --list | grep -c '^[0-9]*:')
[ "$n" -eq 28 ] && pass "--list shows 28 points" || fail "--list: $n"

# The Python reader: /sweep/points as a DataFrame with decoded strings.
"$py" - "$src/scripts" "$tmp/j1.h5" <<'PYEOF' && pass "xbarsim_trace.load_sweep" || fail "python reader"
import sys
sys.path.insert(0, sys.argv[1])
import xbarsim_trace as xt
df, attrs = xt.load_sweep(sys.argv[2])
assert len(df) == 12 and set(df["status"]) == {"ok", "failed"}, df
assert attrs["job"] == "run" and attrs["complete"] == 1
PYEOF

out=$("$py" "$src/scripts/xbarsim_trace.py" sweep "$tmp/full.h5" latency_us --x policy.uniform \
    --hue arch.tiles.rows_active -o "$tmp/plot.png" 2>/dev/null); rc=$?
[ $rc -eq 0 ] && [ -s "$tmp/plot.png" ] && [ "$(echo "$out" | wc -l)" -eq 8 ] \
    && pass "xbarsim_trace.py sweep plots and prints 7 rows" || fail "sweep plot: rc $rc: $out"

# Several metrics in one figure (PDF by its name), and a Pareto front of two metrics.
"$py" "$src/scripts/xbarsim_trace.py" sweep "$tmp/full.h5" latency_us,energy_uj --x policy.uniform \
    -o "$tmp/panels.pdf" >/dev/null 2>&1 && [ -s "$tmp/panels.pdf" ] \
    && head -c 4 "$tmp/panels.pdf" | grep -q '%PDF' \
    && pass "multi-panel sweep figure (PDF)" || fail "multi-panel sweep figure"
out=$("$py" "$src/scripts/xbarsim_trace.py" sweep "$tmp/full.h5" energy_uj --x latency_us --pareto \
    -o "$tmp/pareto.svg" 2>/dev/null); rc=$?
[ $rc -eq 0 ] && grep -q '<svg' "$tmp/pareto.svg" && [ "$(echo "$out" | wc -l)" -ge 2 ] \
    && pass "Pareto figure (SVG) and its front as CSV" || fail "pareto: rc $rc: $out"

# The Slurm scripts outside Slurm: the array's variables by hand, the binary and output folder
# from the environment, the merge step reading the shard count from the shard files' names; the
# merged table equals a direct run.
(
    cd "$tmp" || exit 1
    for i in 0 1 2; do
        SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_ID=$i XBARSIM="$xbarsim" XBARSIM_OUT=slurm \
            bash "$src/scripts/slurm/sweep_array.sbatch" "$src/configs/sweep/adc_energy.cfg" \
            >/dev/null 2>&1 || exit 1
    done
    XBARSIM="$xbarsim" XBARSIM_OUT=slurm bash "$src/scripts/slurm/sweep_merge.sbatch" \
        "$src/configs/sweep/adc_energy.cfg" >/dev/null 2>&1 || exit 1
    "$xbarsim" sweep "$src/configs/sweep/adc_energy.cfg" -q -o direct.h5 || exit 1
) && same_table "$tmp/slurm/adc_energy.h5" "$tmp/direct.h5" \
    && pass "slurm scripts (env binary and folder, N from the shard names) = direct run" \
    || fail "slurm scripts"

# The sweep id covers the files a sweep names: after its arch file changes, a rerun into the same
# output is refused (exit 2, the output left as it was) instead of resuming from stale points.
mkdir -p "$tmp/stale"
cp "$src/configs/arch/lrmp.cfg" "$tmp/stale/chip.cfg"
cat >"$tmp/stale/s.cfg" <<'CFG'
sweep = {
  job = "map";
  base = { arch = "chip.cfg"; network = "lenet5"; policy = "uniform:8"; };
  axes = ( { path = "arch.tiles.rows_active"; values = [9, 18]; } );
  metrics = ["latency_us"];
};
CFG
# (the copy to compare with is taken after the accepted rerun, which rewrites the file's times)
"$xbarsim" sweep "$tmp/stale/s.cfg" -q -o "$tmp/stale/o.h5" \
    && "$xbarsim" sweep "$tmp/stale/s.cfg" -q -o "$tmp/stale/o.h5" \
    && cp "$tmp/stale/o.h5" "$tmp/stale/before.h5" \
    && pass "an unchanged rerun is accepted" || fail "unchanged rerun"
sed -i 's/clock_mhz = 192.0;/clock_mhz = 96.0;/' "$tmp/stale/chip.cfg"
out=$("$xbarsim" sweep "$tmp/stale/s.cfg" -q -o "$tmp/stale/o.h5" 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "holds another sweep" && cmp -s "$tmp/stale/o.h5" "$tmp/stale/before.h5" \
    && pass "a rerun after the arch file changed is refused, output untouched" \
    || fail "stale rerun: rc $rc: $out"

[ $fails -eq 0 ] && echo "test_sweep_cli: all passed" || echo "test_sweep_cli: $fails failed"
exit $((fails > 0))
