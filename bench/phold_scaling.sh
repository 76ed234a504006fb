#!/usr/bin/env bash
# PHOLD event rate against queue size: N = 1024 LPs, E = 16 .. 16384 events each (16 K .. 16 M
# pending), p = 0.9, lookahead 0.1, every queue implementation, median of --repeat runs.
# Usage: bench/phold_scaling.sh [BUILD_DIR] [REPEAT]   (defaults: build, 3)
set -euo pipefail
build=${1:-build}
repeat=${2:-3}
for e in 16 256 4096 16384; do
    # Handle at least twice the pending count, and at least 10 M events, per run.
    handled=$((1024 * e * 2))
    [ "$handled" -lt 10000000 ] && handled=10000000
    "$build/bench/phold" --lps 1024 --events "$e" --remote 0.9 --lookahead 0.1 \
        --handled "$handled" --repeat "$repeat"
done
