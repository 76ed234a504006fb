#!/usr/bin/env bash
# configs/examples/adc_bits/run.sh -- what if PUMA's ADC had 4, 6 or 8 bits?
# ResNet-18 on the `puma` preset (configs/arch/puma.cfg), run config study.cfg, one run per ADC
# width (--set arch.tiles.adc.bits=N). Writes, relative to the repository root:
#   traces/examples/adc_bits/adc4.h5, adc6.h5, adc8.h5   the runs (schema: traces/README.md)
#   traces/examples/adc_bits/compare.png                 latency / throughput / energy bars
# and prints the compare CSV, the energy per inference by category and the ADC bits each run used.
# Works from any current directory; takes about two seconds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=configs/examples/lib.sh
source "$here/../lib.sh"
out=traces/examples/adc_bits
bits=(4 6 8)

mkdir -p "$out"
files=()
labels=()
for b in "${bits[@]}"; do
    "$bin" run "$here/study.cfg" --set "arch.tiles.adc.bits=$b" -o "$out/adc$b.h5" -q
    files+=("$out/adc$b.h5")
    labels+=("adc$b")
done

echo "# compare (latency_us in us, throughput_per_s in inferences/s, energy_per_inference_uj in uJ; ratios to adc4)"
"$py" scripts/xbarsim_trace.py compare "${files[@]}" -o "$out/compare.png" \
    --labels "$(IFS=,; echo "${labels[*]}")"

echo
echo "# energy per inference by category, uJ; adc_bits = the /mapping/layers adc_bits of the crossbar layers"
"$py" - "${files[@]}" <<'PY'
import sys
sys.path.insert(0, "scripts")
import xbarsim_trace as xt
runs = [xt.load(p, events=False) for p in sys.argv[1:]]
# every energy category of the files (dynamic parts, then static_<part>) that any run charges
cats = [c for c in xt._energy_categories(runs[0]["summary_network"].columns)
        if any(d["summary_network"].iloc[0]["energy_%s_pj" % c] != 0 for d in runs)]
print(",".join(["file", "adc_bits"] + cats + ["total"]))
for p, d in zip(sys.argv[1:], runs):
    m = d["mapping_layers"]
    used = sorted(set(int(b) for b in m.loc[m["crossbar"] == 1, "adc_bits"]))
    net = d["summary_network"].iloc[0]
    vals = ["%.6g" % (net["energy_%s_pj" % c] * 1e-6) for c in cats]
    print(",".join([p, "/".join(map(str, used))] + vals +
                   ["%.6g" % (net["energy_per_inference_pj"] * 1e-6)]))
PY
