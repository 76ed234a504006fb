#!/usr/bin/env bash
# Test accuracy of resnet8-fmnist on the LRMP crossbar against programming variation (relative
# sigma of every cell's conductance, arch.tiles.device.variation_sigma), for uniform 8/8, 6/6 and
# 4/4 policies, each point over CHIPS sampled chips (mean, standard deviation, minimum), with and
# without one epoch of QAT fine-tuning (QAT=1). Writes traces/variation/variation.csv and
# variation.png (mean with +-1 standard deviation error bars).
# Usage: configs/examples/variation/run.sh [WEIGHTS.h5]   (default traces/resnet8-fmnist.h5,
#   made by: build/cli/xbarsim train --net resnet8-fmnist -o traces/resnet8-fmnist.h5)
# Environment: SIGMAS ("0 0.02 0.05 0.1 0.15 0.2"), POLICIES ("8 6 4"), CHIPS (10),
#   TEST_IMAGES (10000), QAT (0 or 1).
set -euo pipefail
cd "$(dirname "$0")/../../.."
bin=build/cli/xbarsim
[ -x "$bin" ] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build --target xbarsim >/dev/null; }
weights=${1:-traces/resnet8-fmnist.h5}
sigmas=${SIGMAS:-0 0.02 0.05 0.1 0.15 0.2}
policies=${POLICIES:-8 6 4}
chips=${CHIPS:-10}
images=${TEST_IMAGES:-10000}
qat=${QAT:-0}
out=traces/variation
mkdir -p "$out"
csv=$out/variation.csv
echo "policy,qat,sigma,chips,mean_pct,std_pct,min_pct" >"$csv"
for b in $policies; do
    runs=("0:$weights")
    if [ "$qat" = 1 ]; then
        "$bin" train --net resnet8-fmnist --epochs 0 --weights "$weights" --policy "uniform:$b" \
            --finetune-epochs 1 -o "$out/qat-$b.h5" >/dev/null
        runs+=("1:$out/qat-$b.h5")
    fi
    for r in "${runs[@]}"; do
        for s in $sigmas; do
            line=$("$bin" train --net resnet8-fmnist --epochs 0 --weights "${r#*:}" \
                --test-images "$images" --policy "uniform:$b" --device-samples "$chips" \
                --set "arch.tiles.device.variation_sigma=$s" | grep '^device samples')
            # "device samples = K: mean M %, std S %, min L %"
            m=$(sed 's/.*mean \([0-9.]*\) %, std \([0-9.]*\) %, min \([0-9.]*\) %.*/\1,\2,\3/' <<<"$line")
            echo "$b,${r%%:*},$s,$chips,$m" | tee -a "$csv"
        done
    done
done
/usr/bin/python3 - "$csv" "$out/variation.png" <<'PY'
import sys
import pandas as pd
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
d = pd.read_csv(sys.argv[1])
fig, ax = plt.subplots(figsize=(6, 4))
for (b, q), g in d.groupby(["policy", "qat"]):
    ax.errorbar(100 * g["sigma"], g["mean_pct"], yerr=g["std_pct"], capsize=3, marker="o",
                label=f"{b}/{b}" + (" + QAT" if q else ""))
ax.set_xlabel("programming variation sigma (% of the conductance)")
ax.set_ylabel("test accuracy (%)")
ax.set_title(f"resnet8-fmnist on lrmp, {int(d['chips'].iloc[0])} chips per point")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=120)
print("wrote", sys.argv[2])
PY
