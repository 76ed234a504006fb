#!/usr/bin/env bash
# The main job: install what is missing, build xbarsim (Release), run the default job, print its
# summary. Until `xbarsim run` exists the default job is the PHOLD kernel benchmark at a small
# size (N=1024 LPs, E=16 events each, p=0.9, lookahead 0.1, 2M events per run, median of 3).
# Extra arguments are passed to the benchmark (see build/bench/phold --help).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs" --target phold >/dev/null
echo "run: PHOLD benchmark of the event kernel (bench/phold)"
build/bench/phold --lps 1024 --events 16 --remote 0.9 --lookahead 0.1 --handled 2000000 \
    --repeat 3 "$@"
