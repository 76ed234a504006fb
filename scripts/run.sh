#!/usr/bin/env bash
# The main job: install what is missing, build xbarsim (Release), run the embedded default
# simulation -- ResNet-18, every layer 8-bit weights and activations, on LRMP's 5688-tile chip
# (`configs/arch/lrmp.cfg`), one inference, overlap on -- print its summary next to the analytic
# model, and leave its HDF5 file in traces/run.h5 (schema: traces/README.md).
# Extra arguments go to `xbarsim run` (see build/cli/xbarsim run --help), e.g.
#   scripts/run.sh --inferences 100 --replication conv1=14
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs" --target xbarsim >/dev/null
build/cli/xbarsim run -o traces/run.h5 "$@"
/usr/bin/python3 scripts/xbarsim_trace.py check traces/run.h5
