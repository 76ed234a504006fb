#!/usr/bin/env bash
# run_bench: wall time, events/s and peak memory of `xbarsim run` on ResNet-18, LRMP's chip:
# all 8/8 for one inference with the trace off, layer and vector, and 100 pipelined inferences
# with the trace off and vector (with the whole command's time and the file's size); then LRMP's best policy with its copies (bench/data/, found by
# `xbarsim search configs/arch/lrmp.cfg --net resnet18 --mode lrmp --episodes 600`, seed 1), 100
# inferences, trace off. Medians of R runs (default 5). Wall time is the simulation as xbarsim
# reports it ("events in X s"); peak memory is the whole process's maximum resident set (GNU
# time, MB). With BASE_BUILD (a build of the previous implementation), every row also runs that
# build's xbarsim, interleaved run by run with this one, and prints the ratio of the medians.
# Usage: bench/run_bench.sh [BUILD_DIR] [R] [BASE_BUILD]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
reps=${2:-5}
base=${3:-}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
best=(--policy "$src/bench/data/resnet18_lrmp_best.policy.csv"
    --replication "$src/bench/data/resnet18_lrmp_best.replication.csv")

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# once BIN ARGS...: one run; appends "wall events/s MB events process_s file_MB" to $out/<tag>
# (process_s: the whole command, incl. writing and closing the file; file_MB: its size)
once() {
    local tag=$1 bin=$2
    shift 2
    /usr/bin/time -f '%M %e' -o "$out/mem" "$bin" run "$@" -o "$out/b.h5" >"$out/log"
    local line wall events
    line=$(grep -E '^chip: .* events in ' "$out/log")
    events=$(sed -E 's/.*; ([0-9]+) events in ([0-9.]+) s$/\1/' <<<"$line")
    wall=$(sed -E 's/.*; ([0-9]+) events in ([0-9.]+) s$/\2/' <<<"$line")
    awk -v e="$events" -v w="$wall" -v k="$(cut -d' ' -f1 "$out/mem")" \
        -v p="$(cut -d' ' -f2 "$out/mem")" -v b="$(stat -c %s "$out/b.h5")" \
        'BEGIN {printf "%s %.0f %.1f %s %s %.1f\n", w, e / w, k / 1024, e, p, b / 1048576}' \
        >>"$out/$tag"
}

col() { awk -v k="$2" '{print $k}' "$out/$1" | median; }

bench() {
    local label=$1
    shift
    : >"$out/new"
    : >"$out/old"
    for _ in $(seq "$reps"); do
        once new "$build/cli/xbarsim" "$@"
        [ -n "$base" ] && once old "$base/cli/xbarsim" "$@"
    done
    printf '%-42s %9s s %12s events/s %8s MB peak  (%s events)  process %s s, file %s MB' \
        "$label" "$(col new 1)" "$(col new 2)" "$(col new 3)" "$(col new 4)" "$(col new 5)" \
        "$(col new 6)"
    if [ -n "$base" ]; then
        printf '   base %9s s (process %s s, file %s MB)  ratio %sx' "$(col old 1)" \
            "$(col old 5)" "$(col old 6)" \
            "$(awk -v a="$(col old 1)" -v b="$(col new 1)" 'BEGIN {printf "%.2f", a / b}')"
    fi
    printf '\n'
}

echo "xbarsim run, resnet18 on lrmp, overlap on; medians of $reps runs; load: $(uptime | sed 's/.*load/load/')"
bench "8/8, 1 inference, trace none" --trace none
bench "8/8, 1 inference, trace layer" --trace layer
bench "8/8, 1 inference, trace vector" --trace vector
bench "8/8, 100 inferences, trace none" --trace none --inferences 100
bench "8/8, 100 inferences, trace vector" --trace vector --inferences 100
bench "best + copies, 100 inferences, trace none" --trace none --inferences 100 "${best[@]}"
echo "load at the end: $(uptime | sed 's/.*load/load/')"
