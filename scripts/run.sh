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
#
# scripts/run.sh --measured [ARGS]: the same flow on resnet8-fmnist with MEASURED accuracy:
#   0. the float weights: $XBARSIM_WEIGHTS/resnet8-fmnist.h5 (default ~/.cache/xbarsim/weights),
#      trained once by `xbarsim train` on the first 59 000 training images (about 30 min of one
#      core) and reused by every later run;
#   1. xbarsim search --accuracy functional: every episode's accuracy measured through the
#      bit-accurate crossbar on the last 1 000 training images (unseen by the training; never the
#      test set), 600 episodes on 2 threads;
#   2. xbarsim run of the 8-bit baseline and of the best policy with its copies;
#   3. the gains, then the float, 8/8 and best policy's crossbar accuracy on the 10 000 test
#      images. Files: traces/measured.*, traces/measured-baseline.h5, traces/measured-run.h5,
#      traces/measured-gains.png.
set -euo pipefail
cd "$(dirname "$0")/.."

measured=0
if [ "${1:-}" = "--measured" ]; then
    measured=1
    shift
fi

scripts/bootstrap.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs" --target xbarsim >/dev/null
mkdir -p traces
x=build/cli/xbarsim

for a in "$@"; do
    if [ "$a" = "-o" ]; then
        echo "run.sh: -o is the script's own (traces/...): the later steps read it" >&2
        exit 2
    fi
done

# search_args DEFAULT... -- ARG...: the defaults (option, value pairs) the arguments do not name,
# into the array `args`; an option given twice is an error of xbarsim's, so none is repeated.
search_args() {
    local defaults=() given a k
    while [ "$1" != "--" ]; do
        defaults+=("$1")
        shift
    done
    shift
    args=()
    for ((k = 0; k < ${#defaults[@]}; k += 2)); do
        given=0
        for a in "$@"; do [ "$a" = "${defaults[k]}" ] && given=1; done
        [ $given -eq 1 ] || args+=("${defaults[k]}" "${defaults[k + 1]}")
    done
}

# simulate NET POLICY COPIES OUT BASE: the event simulations of the 8-bit baseline and of the
# best policy with its copies, then the gains and a check of the file.
simulate() {
    echo
    echo "== 2. event simulation: the 8-bit baseline and the best policy with its copies"
    $x run --arch lrmp --net "$1" --policy uniform:8 --inferences 20 -q -o "$5"
    $x run --arch lrmp --net "$1" --policy "$2" --replication "$3" --inferences 20 -o "$4"
    echo
    echo "== 3. gains of the simulated best over the simulated 8-bit baseline"
    /usr/bin/python3 scripts/xbarsim_trace.py compare "$5" "$4" --labels 8bit,lrmp \
        -o "${4%run.h5}gains.png"
    /usr/bin/python3 scripts/xbarsim_trace.py check "$4"
}

if [ $measured -eq 0 ]; then
    search_args --net resnet18 --mode lrmp --episodes 100 -- "$@"
    echo "== 1. search: resnet18 on lrmp, mode lrmp (DDPG + replication, proxy accuracy)"
    $x search configs/arch/lrmp.cfg "${args[@]}" -o traces/search.h5 "$@"
    simulate resnet18 traces/search.policy.csv traces/search.replication.csv traces/run.h5 \
        traces/baseline.h5
    exit 0
fi

net=resnet8-fmnist
wdir=${XBARSIM_WEIGHTS:-$HOME/.cache/xbarsim/weights}
w=$wdir/$net.h5
if [ ! -f "$w" ]; then
    echo "== 0. training $net on the first 59000 training images into $w (once)"
    mkdir -p "$wdir"
    $x train --net $net --train-images 59000 -o "$w.part"
    mv "$w.part" "$w"
else
    echo "== 0. weights: $w (delete it to train again)"
fi
echo
search_args --net $net --mode lrmp --episodes 600 --holdout 1000 --threads 2 -- "$@"
# Idle OpenMP threads sleep instead of spinning: on a shared machine a spinning thread takes the
# core its partner needs (override by setting OMP_WAIT_POLICY).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
echo "== 1. search: $net on lrmp, mode lrmp (DDPG + replication, measured accuracy)"
$x search configs/arch/lrmp.cfg --accuracy functional --weights "$w" "${args[@]}" \
    -o traces/measured.h5 "$@"
simulate $net traces/measured.policy.csv traces/measured.replication.csv \
    traces/measured-run.h5 traces/measured-baseline.h5
echo
echo "== 4. test accuracy (all 10000 test images): float, 8/8 and the best policy on the crossbar"
for p in uniform:8 traces/measured.policy.csv; do
    echo "-- policy $p"
    $x train --net $net --epochs 0 --weights "$w" --policy "$p" | grep 'test accuracy'
done
