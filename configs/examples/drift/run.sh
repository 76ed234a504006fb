#!/usr/bin/env bash
# configs/examples/drift/run.sh -- test accuracy of resnet8-fmnist on the LRMP crossbar against
# the time since programming, 1 s to 10 years, under conductance drift g (t / t0)^-nu with
# nu ~ N(0.06, 0.02) per cell (aihwkit's PCMLikeNoiseModel, phase-change memory, Nandakumar et al.
# 2019: an upper bound for RRAM, which drifts far less; components/device.h) and t0 = 1 s (an
# assumption: the programmed conductance is the one read 1 s after programming; aihwkit uses
# 20 s). No drift compensation: the digital side keeps the programmed scale. Uniform 8/8, 6/6 and
# 4/4 policies, each point over CHIPS sampled chips. Writes traces/examples/drift/drift.csv and
# drift.png (mean, +-1 standard deviation bars, time on a log axis).
# Usage: configs/examples/drift/run.sh [WEIGHTS.h5]   (default traces/resnet8-fmnist.h5)
# Environment: TIMES (seconds, "1 100 1e4 1e6 1e7 1e8 3.156e8"; 3.156e8 s = 10
#   years), POLICIES ("8 6 4"), CHIPS (3), TEST_IMAGES (500: the first 500 test images).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=configs/examples/lib.sh
. "$here/../lib.sh"
chips_study drift time_s 3 "${1:-}"
for b in ${POLICIES:-8 6 4}; do
    for t in ${TIMES:-1 100 1e4 1e6 1e7 1e8 3.156e8}; do
        m=$(chips_point "$weights" "$b" "$images" "$chips" drift_nu=0.06 drift_nu_sigma=0.02 \
            drift_t0_s=1 "time_s=$t")
        echo "$b,$t,$chips,$m" | tee -a "$csv"
    done
done
$py configs/examples/chips_plot.py "$csv" "$out/drift.png" time_s \
    "time since programming (s; 3.156e8 s = 10 years)" \
    "resnet8-fmnist on lrmp, drift nu 0.06 +- 0.02, first $images test images" log
