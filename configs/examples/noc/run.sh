#!/usr/bin/env bash
# configs/examples/noc/run.sh -- what does the width of ISAAC's mesh links do to ResNet-50 with
# replication? Runs the sweep study.cfg (4 link widths; the event simulation with overlap on
# beside the analytic model) and one run at 32-bit links for its per-link contention. Writes,
# relative to the repository root:
#   traces/examples/noc/study.h5      the sweep (/sweep/points; schema: traces/README.md)
#   traces/examples/noc/study.png     latency (simulated and model), NoC share, NoC energy panels
#   traces/examples/noc/link32.h5     the 32-bit run (its /summary/components has every link)
# and prints the sweep table and the five busiest links of the 32-bit run. About ten seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=configs/examples/lib.sh
source "$here/../lib.sh"
out=traces/examples/noc

mkdir -p "$out"

rm -f "$out/study.h5" # a fresh run, never a resume of an older sweep
"$bin" sweep "$here/study.cfg" -o "$out/study.h5" -q
echo "# the sweep (latency in us, energy in uJ; model = the analytic model, no contention)"
"$py" scripts/xbarsim_trace.py sweep "$out/study.h5" \
    latency_us,model_latency_us,throughput_per_s,noc_share,noc_energy_uj \
    --x arch.noc.link_bits --logx -o "$out/study.png"

echo
echo "# 32-bit links: ResNet-50 with the sweep's copies, 8 inferences, overlap on"
"$bin" replicate isaac --net resnet50 --objective throughput --budget chip -o "$out/copies.csv" \
    >/dev/null
"$bin" run --arch isaac --net resnet50 --replication "$out/copies.csv" --inferences 8 \
    --set arch.noc.link_bits=32 -q -o "$out/link32.h5"
"$py" - "$out/link32.h5" <<'PY'
import sys
sys.path.insert(0, "scripts")
import xbarsim_trace as xt
d = xt.load(sys.argv[1], events=False)
c = d["summary_components"]
links = c[c["kind"] == "link"].sort_values("busy_ps", ascending=False)
waiting = links[links["wait_total_ps"] > 0]
print("links used %d, links that made a transfer wait %d" % (len(links), len(waiting)))
print("link,busy_us,utilisation,requests,wait_total_us,wait_max_us")
for _, r in links.head(5).iterrows():
    print("%s,%.3f,%.4f,%d,%.3f,%.3f" % (r["name"], r["busy_ps"] * 1e-6, r["utilisation"],
                                         r["requests"], r["wait_total_ps"] * 1e-6,
                                         r["wait_max_ps"] * 1e-6))
PY
