#!/usr/bin/env bash
# run_bench: wall time, events/s and peak memory of `xbarsim run` on ResNet-18, LRMP's chip, all
# 8/8: one inference with the trace off and with the vector trace, and 100 pipelined inferences
# (trace off). Medians of R runs (default 5). Wall time is the simulation as xbarsim reports it
# ("events in X s"); peak memory is the whole process's maximum resident set (GNU time, MB).
# Usage: bench/run_bench.sh [BUILD_DIR] [R]
set -euo pipefail
build=${1:-build}
reps=${2:-5}
bin="$build/cli/xbarsim"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

bench() {
    local label=$1
    shift
    local walls=() rates=() mems=()
    for _ in $(seq "$reps"); do
        /usr/bin/time -f '%M' -o "$out/mem" "$bin" run "$@" -o "$out/b.h5" >"$out/log"
        local line wall events
        line=$(grep -E '^chip: .* events in ' "$out/log")
        events=$(sed -E 's/.*; ([0-9]+) events in ([0-9.]+) s$/\1/' <<<"$line")
        wall=$(sed -E 's/.*; ([0-9]+) events in ([0-9.]+) s$/\2/' <<<"$line")
        walls+=("$wall")
        rates+=("$(awk -v e="$events" -v w="$wall" 'BEGIN {printf "%.0f", e / w}')")
        mems+=("$(awk -v k="$(cat "$out/mem")" 'BEGIN {printf "%.1f", k / 1024}')")
    done
    printf '%-34s %10s s %14s events/s %10s MB peak   (%s events)\n' "$label" \
        "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${rates[@]}" | median)" \
        "$(printf '%s\n' "${mems[@]}" | median)" "$events"
}

echo "xbarsim run, resnet18 on lrmp, all 8/8, overlap on; medians of $reps runs"
bench "1 inference, trace none" --trace none
bench "1 inference, trace layer" --trace layer
bench "1 inference, trace vector" --trace vector
bench "100 inferences, trace none" --trace none --inferences 100
