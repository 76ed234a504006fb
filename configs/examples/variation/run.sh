#!/usr/bin/env bash
# configs/examples/variation/run.sh -- test accuracy of resnet8-fmnist on the LRMP crossbar
# against programming variation (relative sigma of every cell's conductance,
# arch.tiles.device.variation_sigma), for uniform 8/8, 6/6 and 4/4 policies, each point over
# CHIPS sampled chips (mean, standard deviation, minimum), with QAT=1 also after one epoch of QAT
# fine-tuning per policy (QAT=0, the default: none). Writes
# traces/examples/variation/variation.csv and variation.png (mean, +-1 standard deviation bars).
# Usage: configs/examples/variation/run.sh [WEIGHTS.h5]   (default traces/resnet8-fmnist.h5,
#   made by: build/cli/xbarsim train --net resnet8-fmnist -o traces/resnet8-fmnist.h5)
# Environment: SIGMAS ("0 0.02 0.05 0.1 0.15 0.2"), POLICIES ("8 6 4"), CHIPS (10),
#   TEST_IMAGES (500: the first 500 of the 10 000 test images, to keep the run moderate), QAT.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=configs/examples/lib.sh
. "$here/../lib.sh"
chips_study variation sigma_pct 10 "${1:-}"
for b in ${POLICIES:-8 6 4}; do
    runs=("$b:$weights")
    if [ "${QAT:-0}" = 1 ]; then
        "$bin" train --net resnet8-fmnist --epochs 0 --weights "$weights" --policy "uniform:$b" \
            --finetune-epochs 1 -o "$out/qat-$b.h5" >/dev/null
        runs+=("$b+QAT:$out/qat-$b.h5")
    fi
    for r in "${runs[@]}"; do
        for s in ${SIGMAS:-0 0.02 0.05 0.1 0.15 0.2}; do
            m=$(chips_point "${r#*:}" "$b" "$images" "$chips" "variation_sigma=$s")
            echo "${r%%:*},$($py -c "print('%g' % (100 * $s))"),$chips,$m" | tee -a "$csv"
        done
    done
done
$py configs/examples/chips_plot.py "$csv" "$out/variation.png" sigma_pct \
    "programming variation sigma (% of the conductance)" \
    "resnet8-fmnist on lrmp, first $images test images"
