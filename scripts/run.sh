#!/usr/bin/env bash
# The main job, LRMP's flow on ResNet-18 and LRMP's 5688-tile chip (configs/arch/lrmp.cfg):
#   1. xbarsim search --mode lrmp: the DDPG agent picks every layer's weight and activation bits
#      while LRMP's replication spends the 8-bit network's tiles on copies (proxy accuracy: an
#      estimate); a short run of 100 episodes by default (about 10-20 s; the papers use 600:
#      scripts/run.sh --episodes 600);
#   2. xbarsim run of the 8-bit baseline and of the best policy with its copies (event
#      simulation, overlap on, 20 pipelined inferences for a steady-state throughput) into
#      traces/baseline.h5 and traces/run.h5;
#   3. the gains of the simulated result over the baseline (latency, throughput, energy), and a
#      consistency check of the file.
# Extra arguments go to `xbarsim search` (see build/cli/xbarsim search --help).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs" --target xbarsim >/dev/null
mkdir -p traces
x=build/cli/xbarsim

# The arguments go to `xbarsim search`; they replace the defaults they name (an option given
# twice is an error). The later steps read traces/search.*, so -o stays the script's.
defaults=(--net resnet18 --mode lrmp --episodes 100)
args=()
for ((k = 0; k < ${#defaults[@]}; k += 2)); do
    given=0
    for a in "$@"; do [ "$a" = "${defaults[k]}" ] && given=1; done
    [ $given -eq 1 ] || args+=("${defaults[k]}" "${defaults[k + 1]}")
done
for a in "$@"; do
    if [ "$a" = "-o" ]; then
        echo "run.sh: -o is the script's own (traces/search.h5): the later steps read it" >&2
        exit 2
    fi
done
echo "== 1. search: resnet18 on lrmp, mode lrmp (DDPG + replication, proxy accuracy)"
$x search configs/arch/lrmp.cfg "${args[@]}" -o traces/search.h5 "$@"
echo
echo "== 2. event simulation: the 8-bit baseline and the best policy with its copies"
$x run --arch lrmp --net resnet18 --policy uniform:8 --inferences 20 -q -o traces/baseline.h5
$x run --arch lrmp --net resnet18 --policy traces/search.policy.csv \
    --replication traces/search.replication.csv --inferences 20 -o traces/run.h5
echo
echo "== 3. gains of the simulated best over the simulated 8-bit baseline"
/usr/bin/python3 scripts/xbarsim_trace.py compare traces/baseline.h5 traces/run.h5 \
    --labels 8bit,lrmp -o traces/gains.png
/usr/bin/python3 scripts/xbarsim_trace.py check traces/run.h5
