#!/usr/bin/env bash
# search_bench: wall time of `xbarsim search --mode lrmp` on ResNet-18 (lrmp preset, proxy
# accuracy), EPISODES episodes (default 600), split into agent updates, the rest of the agent,
# replication, cost model and accuracy, as xbarsim reports them. Medians of R runs (default 3).
# Usage: bench/search_bench.sh [BUILD_DIR] [R] [EPISODES]
set -euo pipefail
build=${1:-build}
reps=${2:-3}
episodes=${3:-600}
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

: >"$out/times"
for _ in $(seq "$reps"); do
    start=$(date +%s.%N)
    "$build/cli/xbarsim" search "$src/configs/arch/lrmp.cfg" --net resnet18 --mode lrmp \
        --episodes "$episodes" -o "$out/s.h5" >"$out/log"
    end=$(date +%s.%N)
    # time: T s = agent A (updates U) + replication R + cost model C + accuracy Q
    sed -nE 's/^time: ([0-9.]+) s = agent ([0-9.]+) \(updates ([0-9.]+)\) \+ replication ([0-9.]+) \+ cost model ([0-9.]+) \+ accuracy ([0-9.]+)$/\1 \2 \3 \4 \5 \6/p' \
        "$out/log" | awk -v w="$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" '{print w, $0}' >>"$out/times"
done
echo "xbarsim search --mode lrmp, resnet18 on lrmp, proxy accuracy, $episodes episodes; medians of $reps runs"
for col in 1:wall 2:search 3:agent 4:updates 5:replication 6:cost_model 7:accuracy; do
    k=${col%%:*}
    printf '%-12s %10.3f s  (%8.3f ms per episode)\n' "${col#*:}" \
        "$(awk -v k="$k" '{print $k}' "$out/times" | median)" \
        "$(awk -v k="$k" -v e="$episodes" '{print 1000 * $k / e}' "$out/times" | median)"
done
grep -E '^best:|gain|^latency|^throughput|^energy' "$out/log"
