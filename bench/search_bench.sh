#!/usr/bin/env bash
# search_bench: wall time of `xbarsim search --mode lrmp` on ResNet-18 (lrmp preset, proxy
# accuracy), EPISODES episodes (default 600), split into agent updates, the rest of the agent,
# replication, cost model and accuracy, as xbarsim reports them, and the process's user CPU time
# (what a loaded host leaves unchanged). Medians of R runs (default 3). With BASE_BUILD (a build of
# the previous implementation), each run of this build is followed by one of that build's, and the
# ratio of the medians is printed; the best policies of the two agree unless the agent's arithmetic
# changed (e.g. double to single precision), which the last line then says.
# Usage: bench/search_bench.sh [BUILD_DIR] [R] [EPISODES] [BASE_BUILD]
set -euo pipefail
build=${1:-build}
reps=${2:-3}
episodes=${3:-600}
base=${4:-}
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# once TAG BUILD: one search; appends "wall search agent updates replication cost accuracy user"
once() {
    local tag=$1 bin=$2/cli/xbarsim start end
    start=$(date +%s.%N)
    /usr/bin/time -f '%U' -o "$out/user" "$bin" search "$src/configs/arch/lrmp.cfg" --net resnet18 \
        --mode lrmp --episodes "$episodes" -o "$out/s.h5" >"$out/log.$tag"
    end=$(date +%s.%N)
    # time: T s = agent A (updates U) + replication R + cost model C + accuracy Q
    sed -nE 's/^time: ([0-9.]+) s = agent ([0-9.]+) \(updates ([0-9.]+)\) \+ replication ([0-9.]+) \+ cost model ([0-9.]+) \+ accuracy ([0-9.]+)$/\1 \2 \3 \4 \5 \6/p' \
        "$out/log.$tag" | awk -v w="$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" \
        -v u="$(cat "$out/user")" '{print w, $0, u}' >>"$out/times.$tag"
}

: >"$out/times.new"
: >"$out/times.old"
echo "load at the start: $(uptime | sed 's/.*load/load/')"
for _ in $(seq "$reps"); do
    once new "$build"
    [ -n "$base" ] && once old "$base"
done
echo "xbarsim search --mode lrmp, resnet18 on lrmp, proxy accuracy, $episodes episodes; medians of $reps runs"
for col in 1:wall 2:search 3:agent 4:updates 5:replication 6:cost_model 7:accuracy 8:user_cpu; do
    k=${col%%:*}
    m=$(awk -v k="$k" '{print $k}' "$out/times.new" | median)
    printf '%-12s %10.3f s  (%8.3f ms per episode)' "${col#*:}" "$m" \
        "$(awk -v m="$m" -v e="$episodes" 'BEGIN {print 1000 * m / e}')"
    if [ -n "$base" ]; then
        b=$(awk -v k="$k" '{print $k}' "$out/times.old" | median)
        printf '   base %10.3f s  ratio %sx' "$b" "$(awk -v a="$b" -v n="$m" 'BEGIN {printf "%.2f", (n > 0 ? a / n : 0)}')"
    fi
    printf '\n'
done
grep -E '^best:|gain|^latency|^throughput|^energy' "$out/log.new"
if [ -n "$base" ] && ! cmp -s <(grep -E '^best:|^bits' "$out/log.new") <(grep -E '^best:|^bits' "$out/log.old"); then
    echo "best policies differ between the builds (expected when the agent's arithmetic changed)"
fi
echo "load at the end: $(uptime | sed 's/.*load/load/')"
