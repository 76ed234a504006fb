#!/usr/bin/env bash
# Throughput of `xbarsim sweep` on the 2 000-point analytic sweep of ResNet-50
# (configs/sweep/resnet50_adc_rows_tiles.cfg): points/s with 1 and 2 OpenMP threads and with 2
# MPI ranks, medians of REPEAT runs, and the parallel efficiency (rate / (workers x the 1-thread
# rate)). The three result tables are checked equal (every column but the wall time).
# usage: bench/sweep_bench.sh [BUILD_DIR] [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
repeat=${2:-5}
xbarsim=$build/cli/xbarsim
cfg=configs/sweep/resnet50_adc_rows_tiles.cfg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One sweep into a fresh file: "EVAL_S PROCESS_S" -- the evaluation phase as xbarsim reports it
# ("evaluated N now ... in T s": from the first point handed out to the last one recorded) and
# the whole process (start-up, MPI start-up, reading the sweep, writing the file).
timed() {
    local out=$1; shift
    rm -f "$out" "$out.journal"
    local t0 t1 eval_s
    t0=$(date +%s.%N)
    eval_s=$("$@" | sed -n 's/^evaluated .* in \([0-9.]*\) s:.*/\1/p')
    t1=$(date +%s.%N)
    echo "$eval_s $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

points=$("$xbarsim" sweep "$cfg" --list | grep -c '^[0-9]*:')
echo "# $cfg: $points points, job map, $repeat runs each (medians), $(nproc) cores"
declare -A wall proc
for mode in j1 j2 mpi2; do
    for _ in $(seq "$repeat"); do
        case $mode in
            j1) timed "$tmp/j1.h5" "$xbarsim" sweep "$cfg" -o "$tmp/j1.h5" -j 1 ;;
            j2) timed "$tmp/j2.h5" "$xbarsim" sweep "$cfg" -o "$tmp/j2.h5" -j 2 ;;
            mpi2)
                if "$xbarsim" sweep --help | grep -q "MPI built in" && command -v mpirun >/dev/null; then
                    timed "$tmp/mpi2.h5" mpirun --allow-run-as-root --oversubscribe -n 2 \
                        "$xbarsim" sweep "$cfg" -o "$tmp/mpi2.h5"
                fi ;;
        esac
    done >"$tmp/$mode.times"
    if [ -s "$tmp/$mode.times" ]; then
        wall[$mode]=$(cut -d' ' -f1 <"$tmp/$mode.times" | median)
        proc[$mode]=$(cut -d' ' -f2 <"$tmp/$mode.times" | median)
    fi
done
base=${wall[j1]}
printf "%-8s %10s %12s %10s %11s %12s\n" "mode" "eval/s" "points/s" "speed-up" "efficiency" \
    "process/s"
for mode in j1 j2 mpi2; do
    [ -n "${wall[$mode]:-}" ] || { echo "$mode: not available"; continue; }
    w=${wall[$mode]}
    workers=1; [ "$mode" != j1 ] && workers=2
    awk -v m="$mode" -v w="$w" -v p="$points" -v b="$base" -v k="$workers" -v t="${proc[$mode]}" \
        'BEGIN { printf "%-8s %10.3f %12.1f %9.2fx %10.1f%% %12.3f\n", m, w, p / w, b / w, 100 * b / w / k, t }' 
done
echo "(eval: the evaluation phase xbarsim reports; process: the whole command, incl. mpirun)"
/usr/bin/python3 - "$tmp/j1.h5" "$tmp/j2.h5" ${wall[mpi2]:+"$tmp/mpi2.h5"} <<'PYEOF'
import sys, h5py, numpy as np
ref = h5py.File(sys.argv[1], "r")["/sweep/points"][:]
for p in sys.argv[2:]:
    t = h5py.File(p, "r")["/sweep/points"][:]
    for n in ref.dtype.names:
        if n != "wall_s" and not np.array_equal(ref[n], t[n], equal_nan=ref.dtype[n].kind == "f"):
            sys.exit("%s: column %s differs from the 1-thread table" % (p, n))
print("tables equal: 1 thread, 2 threads" + (", 2 MPI ranks" if len(sys.argv) > 3 else ""))
PYEOF
