#!/usr/bin/env bash
# configs/examples/figures/make.sh -- the three paper-style figures of issue 19, made from the
# repository's own studies, into this folder:
#   noc_sweep.png   a multi-panel sweep figure: configs/examples/noc/study.cfg (ISAAC's mesh link
#                   width for ResNet-50 with replication; latency simulated and modelled, the
#                   network's share and energy)
#   pareto.png      a Pareto figure: configs/sweep/precision_replication.cfg (ResNet-18 on LRMP's
#                   chip, uniform precision x tile budget), accuracy (the proxy's estimate, and
#                   labelled so) against latency, front marked
#   power.png       power over time: 4 ResNet-18 inferences on lrmp with a vector-level trace, the
#                   dynamic energy binned over the static power
# About 20 s. The traces go to traces/examples/figures/ (not kept in git).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=configs/examples/lib.sh
source "$here/../lib.sh"
out=traces/examples/figures
mkdir -p "$out"
rm -f "$out/noc.h5" "$out/precision.h5" # fresh runs, never a resume of an older sweep

"$bin" sweep configs/examples/noc/study.cfg -o "$out/noc.h5" -q
"$py" scripts/xbarsim_trace.py sweep "$out/noc.h5" \
    latency_us,model_latency_us,noc_share,noc_energy_uj --x arch.noc.link_bits --logx \
    -o "$here/noc_sweep.png" >/dev/null

"$bin" sweep configs/sweep/precision_replication.cfg -o "$out/precision.h5" -q
"$py" scripts/xbarsim_trace.py sweep "$out/precision.h5" accuracy --x latency_us --pareto \
    -o "$here/pareto.png" >/dev/null

"$bin" run --arch lrmp --net resnet18 --inferences 4 --trace vector -q -o "$out/power.h5"
"$py" scripts/xbarsim_trace.py plot "$out/power.h5" --which power -o "$out" >/dev/null
cp "$out/power_power.png" "$here/power.png"
ls -1 "$here"/*.png
