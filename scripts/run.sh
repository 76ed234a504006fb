#!/usr/bin/env bash
# The main job: install what is missing, build xbarsim (Release), run the default job, print its
# summary. Until `xbarsim run` (the event simulation) exists, the default job is
#   1. the analytic model of ResNet-18, every layer 8/8, on LRMP's chip (`xbarsim map`), and
#   2. the PHOLD benchmark of the event kernel at a small size (N=1024 LPs, E=16 events each,
#      p=0.9, lookahead 0.1, 2 M events per run, median of 3, every queue).
# Extra arguments are passed to the benchmark (see build/bench/phold --help).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs" --target xbarsim phold >/dev/null
echo "run: analytic model, ResNet-18 all 8/8 on configs/arch/lrmp.cfg (xbarsim map; per-layer"
echo "     table: build/cli/xbarsim map configs/arch/lrmp.cfg --net resnet18)"
build/cli/xbarsim map configs/arch/lrmp.cfg --net resnet18 | sed -n '/^latency = /,$p'
echo
echo "run: PHOLD benchmark of the event kernel (bench/phold)"
build/bench/phold --lps 1024 --events 16 --remote 0.9 --lookahead 0.1 --handled 2000000 \
    --repeat 3 "$@"
