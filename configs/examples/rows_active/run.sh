#!/usr/bin/env bash
# configs/examples/rows_active/run.sh -- what if LRMP's tiles activated 18 (or 36) rows at a time
# instead of 9? ResNet-18 on the `lrmp` preset (configs/arch/lrmp.cfg), run config study.cfg, one
# run per row count (--set arch.tiles.rows_active=R; 9 is the preset's value, the baseline).
# Only rows_active changes: the ADC stays at the preset's 4 bits (see configs/examples/README.md).
# Writes, relative to the repository root:
#   traces/examples/rows_active/rows9.h5, rows18.h5, rows36.h5   the runs (schema: traces/README.md)
#   traces/examples/rows_active/compare.png                      latency / throughput / energy bars
# and prints the compare CSV, the energy per inference by category and the ADC bits a column sum
# needs at each row count. Works from any current directory; takes about three seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=configs/examples/lib.sh
source "$here/../lib.sh"
out=traces/examples/rows_active
rows=(9 18 36)

mkdir -p "$out"
files=()
labels=()
for r in "${rows[@]}"; do
    "$bin" run "$here/study.cfg" --set "arch.tiles.rows_active=$r" -o "$out/rows$r.h5" -q
    files+=("$out/rows$r.h5")
    labels+=("rows$r")
done

echo "# compare (latency_us in us, throughput_per_s in inferences/s, energy_per_inference_uj in uJ; ratios to rows9)"
"$py" scripts/xbarsim_trace.py compare "${files[@]}" -o "$out/compare.png" \
    --labels "$(IFS=,; echo "${labels[*]}")"

echo
echo "# energy per inference by category, uJ (categories that are 0 in every run left out);"
echo "# adc_bits = the /mapping/layers adc_bits used, adc_bits_needed = what a column sum of rows_active rows needs"
"$py" - "${files[@]}" <<'PY'
import re
import sys
sys.path.insert(0, "scripts")
import xbarsim_trace as xt
runs = [xt.load(p, events=False) for p in sys.argv[1:]]
# every energy category of the files (dynamic parts, then static_<part>) that any run charges
cats = [c for c in xt._energy_categories(runs[0]["summary_network"].columns)
        if any(d["summary_network"].iloc[0]["energy_%s_pj" % c] != 0 for d in runs)]
print(",".join(["file", "rows_active", "adc_bits", "adc_bits_needed"] + cats + ["total"]))
for p, d in zip(sys.argv[1:], runs):
    cfg = d["meta"]["config"]
    ra = re.search(r"^arch\.tiles\.rows_active = (\d+)", cfg, re.M).group(1)
    need = re.search(r"^derived\.adc_bits_needed = (\d+)", cfg, re.M).group(1)
    m = d["mapping_layers"]
    used = sorted(set(int(b) for b in m.loc[m["crossbar"] == 1, "adc_bits"]))
    net = d["summary_network"].iloc[0]
    vals = ["%.6g" % (net["energy_%s_pj" % c] * 1e-6) for c in cats]
    print(",".join([p, ra, "/".join(map(str, used)), need] + vals +
                   ["%.6g" % (net["energy_per_inference_pj"] * 1e-6)]))
PY
