#!/usr/bin/env bash
# test_cli: end-to-end checks of the `xbarsim` command -- exit status and messages.
# Usage: test_cli.sh XBARSIM_BINARY SOURCE_DIR. Prints "N passed, N failed".
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"

for p in lrmp chang2022 cimaq puma isaac lrmp_milo2021; do
    expect "info $p" 0 '^derived\.vmm_ns = ' -- "$bin" info "$src/configs/arch/$p.cfg"
done
# LRMP: 8 input bits x ceil(256/9) = 29 row groups x ceil(256/8) = 32 ADC rounds x 5208 ps.
expect "info lrmp vmm" 0 '^derived\.vmm_ns = 38664\.192 ns' -- "$bin" info "$src/configs/arch/lrmp.cfg"
# CIM-AQ: 8 input bits x 1.4 us per bit = 11.2 us.
expect "info cimaq vmm" 0 '^derived\.vmm_ns = 11200 ns' -- "$bin" info "$src/configs/arch/cimaq.cfg"
# ISAAC-CE's full 16-bit VMM on one array, by hand from isaac.cfg: 16 input bits x (128 DACs x
# 0.390625 + 16384 cells x 0.0018310546875 + 128 S+H x 0.0009765625 + 128 ADC x 1.5625 + 128
# shift-adds x 0.01953125 = 50 + 30 + 0.125 + 200 + 2.5 pJ) = 4522 pJ. Area: 16128 arrays x
# 1281.25 um2 + 168 tiles x 249290 um2 + 22.88 mm2 = 85.42472 mm2 (Table I: 85.4).
expect "info isaac vmm energy" 0 '^derived\.peak_vmm_energy_pj = 4522 pJ' -- "$bin" info "$src/configs/arch/isaac.cfg"
# One ISAAC tile (a group here): 96 arrays x 1281.25 + 249290 um2 of eDRAM, bus, digital units,
# registers and a quarter router = 372290 um2 (Table I: 0.372 mm2).
expect "info isaac tile area" 0 '^derived\.group_area_um2 = 372290 um2' -- "$bin" info isaac
expect "info isaac area" 0 '^derived\.area_mm2 = 85\.42472 mm2' -- "$bin" info "$src/configs/arch/isaac.cfg"
# validate: the published table passes; a row held to a figure it misses fails (exit 1); a bad
# row is bad input (exit 2, file:line).
expect "validate" 0 '^validate: [0-9]+ passed, 0 failed' -- "$bin" validate
cat >"$tmp/val_fail.cfg" <<'VAL'
validate = (
    { source = "made up"; quantity = "area_mm2"; arch = "isaac"; published = 100.0; tolerance = 0.01; }
);
VAL
expect "validate failing row" 1 'FAIL' -- "$bin" validate "$tmp/val_fail.cfg"
cat >"$tmp/val_bad.cfg" <<'VAL'
validate = (
    { source = "x"; quantity = "area_mm2"; arch = "isaac"; published = 1.0; tolerance = 0.01; },
    { source = "y"; quantity = "colour"; arch = "isaac"; published = 1.0; tolerance = 0.01; }
);
VAL
expect "validate bad quantity" 2 'val_bad\.cfg:3: validate\[1\]\.quantity: found .colour.' -- "$bin" validate "$tmp/val_bad.cfg"
cat >"$tmp/val_net.cfg" <<'VAL'
validate = (
    { source = "x"; quantity = "latency_us"; arch = "lrmp"; published = 1.0; tolerance = 0.01; }
);
VAL
expect "validate missing network" 2 'val_net\.cfg:2: validate\[0\]\.network: missing' -- "$bin" validate "$tmp/val_net.cfg"
# ADC energy per conversion is refused as power x time.
sed 's/energy_pj = { kind = "fom"; fom = 0.006103515625; };/power_mw = 2.0;/' "$src/configs/arch/isaac.cfg" >"$tmp/pw.cfg"
expect "adc power refused" 2 'pw\.cfg:[0-9]+: arch\.tiles\.adc\.power_mw: .*double-counts the bits' -- "$bin" info "$tmp/pw.cfg"
# `@include ""` made libconfig's scanner exit(2) from inside any loader: now a file:line error
# from every entry point (the shared front end, cfgfile.c).
printf '@include ""\npolicy = ();\n' >"$tmp/inc_policy.cfg"
expect "include empty: policy" 2 'inc_policy\.cfg:1: .*@include ""' -- \
    "$bin" map "$src/configs/arch/lrmp.cfg" --net lenet5 --policy "$tmp/inc_policy.cfg"
printf '@include ""\nreplication = ();\n' >"$tmp/inc_rep.cfg"
expect "include empty: replication" 2 'inc_rep\.cfg:1: .*@include ""' -- \
    "$bin" map "$src/configs/arch/lrmp.cfg" --net lenet5 --replication "$tmp/inc_rep.cfg"
printf '@include ""\n' >"$tmp/inc_net.cfg"
expect "include empty: network" 2 'inc_net\.cfg:1: .*@include ""' -- \
    "$bin" map "$src/configs/arch/lrmp.cfg" --net "$tmp/inc_net.cfg"
printf 'run = { inferences = 1; };\n@include ""\n' >"$tmp/inc_run.cfg"
expect "include empty: run config" 2 'inc_run\.cfg:2: .*@include ""' -- \
    "$bin" run "$tmp/inc_run.cfg" -q -o "$tmp/inc_run.h5"
printf '@include ""\nsweep = { job = "map"; };\n' >"$tmp/inc_sweep.cfg"
expect "include empty: sweep" 2 'inc_sweep\.cfg:1: .*@include ""' -- \
    "$bin" sweep "$tmp/inc_sweep.cfg" -q -o "$tmp/inc_sweep.h5"
printf '@include "."\n' >"$tmp/inc_dir.cfg"
expect "include directory" 2 'inc_dir\.cfg:1: .*not a regular file' -- "$bin" info "$tmp/inc_dir.cfg"
# A point's failure caused by an axis value names the axis's file:line.
printf 'sweep = { job = "map"; base = { arch = "lrmp"; network = "lenet5"; };\n  axes = ( { path = "arch.tiles.adc.bits"; values = [4, 5]; } ); };\n' >"$tmp/sw_axis.cfg"
expect "point error names the axis line" 0 'sw_axis\.cfg:2: sweep\.axes\.\[0\]: --set arch\.tiles\.adc\.bits=5: ' -- \
    sh -c "'$bin' sweep '$tmp/sw_axis.cfg' -q -o '$tmp/sw_axis.h5' && /usr/bin/python3 -c \"import h5py; \
    print(h5py.File('$tmp/sw_axis.h5')['/sweep/points'][1]['message'].decode())\""

# Preset names work wherever an architecture is asked for (info, map, replicate).
expect "map preset name" 0 '^latency = ' -- "$bin" map lrmp --net lenet5
expect "replicate preset name" 0 '^tiles = ' -- "$bin" replicate lrmp --net lenet5 --objective latency --budget 2x
expect "map help lists json and placement" 0 '--placement groups\|packed\] \[--csv \| --json\]' -- "$bin" map --help

# A reader that leaves early (| head) ends xbarsim_trace.py quietly: exit 0, nothing on stderr.
"$bin" run --inferences 3 -q -o "$tmp/bp.h5" >/dev/null 2>&1
/usr/bin/python3 "$src/scripts/xbarsim_trace.py" summary "$tmp/bp.h5" 2>"$tmp/bp.err" | head -1 >/dev/null
check "trace summary | head: exit 0" [ "${PIPESTATUS[0]}" -eq 0 ]
check "trace summary | head: nothing on stderr" [ ! -s "$tmp/bp.err" ]

# An axis that changes no metric is said, and named in /sweep (the seed does not move `map`).
printf 'sweep = { job = "map"; base = { arch = "lrmp"; network = "lenet5"; };\n  axes = ( { path = "policy.uniform"; values = [6, 8]; },\n           { path = "seed"; values = [1, 2]; } ); };\n' >"$tmp/inert.cfg"
expect "inert axis warned" 0 '^warning: axis seed \(.*inert\.cfg:3\) changes no metric' -- \
    "$bin" sweep "$tmp/inert.cfg" -o "$tmp/inert.h5"
expect "inert axis in /sweep" 0 "^\['seed'\]$" -- /usr/bin/python3 -c \
    "import h5py; print(list(h5py.File('$tmp/inert.h5')['/sweep'].attrs['axes_without_effect']))"

# A repeated option is an error, not "the last one wins" (issue 20).
expect "map --net twice" 2 '^xbarsim map: --net: given twice' -- "$bin" map lrmp --net lenet5 --net resnet18
expect "run --net twice" 2 '^xbarsim run: --net: given twice' -- "$bin" run -q --net lenet5 --net resnet18 -o "$tmp/twice.h5"
expect "run --set twice is fine" 0 '' -- "$bin" run -q --net lenet5 --set arch.tiles.adc.bits=4 --set arch.tiles.rows_active=9 -o "$tmp/twice.h5"

# Strict numbers (issue 20): surrounding blanks are refused; -j1 is -j 1.
expect "number with a blank" 2 "--inferences: found ' 3', expected an integer" -- \
    "$bin" run -q -o "$tmp/blank.h5" --inferences " 3"
expect "sweep -j with a blank" 2 "-j: found ' 1', expected an integer" -- \
    "$bin" sweep "$src/configs/sweep/adc_energy.cfg" -q -o "$tmp/j.h5" -j " 1"
expect "sweep -j1" 0 '' -- "$bin" sweep "$src/configs/sweep/adc_energy.cfg" -q -o "$tmp/j1.h5" -j1
expect "help" 0 '^usage: xbarsim COMMAND' -- "$bin" --help
expect "info help" 0 '^usage: xbarsim info' -- "$bin" info --help
expect "no command" 2 '^usage:' -- "$bin"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$bin" frobnicate
expect "info no file" 2 'info: expected ARCH\.cfg\|PRESET' -- "$bin" info
expect "missing file" 2 'nonexistent\.cfg.*No such file' -- "$bin" info "$tmp/nonexistent.cfg"

# A typo'd key: the message names file:line and the setting path, and lists valid keys.
sed 's/rows_active = 9;/rows_activ = 9;/' "$src/configs/arch/lrmp.cfg" >"$tmp/typo.cfg"
line=$(grep -n 'rows_activ = 9;' "$tmp/typo.cfg" | cut -d: -f1)
expect "unknown key" 2 "typo\.cfg:$line: arch\.tiles\.rows_activ.*rows_active" -- "$bin" info "$tmp/typo.cfg"
# An ADC wider than the column sum can need, with strict_bits on (LRMP needs 4 bits).
sed 's/bits = 4;/bits = 6;/' "$src/configs/arch/lrmp.cfg" >"$tmp/adc.cfg"
expect "strict adc bits" 2 'adc\.cfg:[0-9]+: arch\.tiles\.adc\.bits.*6' -- "$bin" info "$tmp/adc.cfg"

# map: CIM-AQ's published ResNet-18 latency (REFERENCE.md section 2) and LRMP's bottleneck.
expect "map cimaq resnet18" 0 '^latency = 1507464\.000 us' -- \
    "$bin" map "$src/configs/arch/cimaq.cfg" --net resnet18
expect "map lrmp resnet18" 0 '^bottleneck = conv1,' -- "$bin" map "$src/configs/arch/lrmp.cfg" --net resnet18
expect "map csv" 0 '^layer,kind,rows,cols' -- "$bin" map "$src/configs/arch/lrmp.cfg" --net lenet5 --csv
# Replicating conv1 14 times: ceil(12544 / 14) = 896 vectors x (T_in 98.952 + T_tile 22665.216 +
# T_out 166.656 + T_d 46.872 ns = 22977.696 ns) = 20588.016 us; plus lrmp's off-chip link (12.8
# GB/s, 26.7 ns; docs/MODEL.md 3b): the 14 copies of 2 tiles sit in group 0, whose 131 072 bytes
# leave 2 x (150 528 + 802 816) - 131 072 = 1 775 616 bytes to spill, 7 102 464 bits each way;
# the fetch adds the input's 1 204 224 bits: 26 700 + 8 306 688 x 125 / 12.8 = 81 146 700 ps, the
# store 26 700 + 69 360 000 = 69 386 700 ps; 20 738.549 us in all.
expect "map replication" 0 '^conv1 .* 14 .* 20738\.549 ' -- \
    "$bin" map "$src/configs/arch/lrmp.cfg" --net resnet18 --replication conv1=14
expect "map json" 0 '"totals": \{"latency_ps": 1507464000000,' -- \
    "$bin" map "$src/configs/arch/cimaq.cfg" --net resnet18 --json
expect "map json parses" 0 '^ok$' -- sh -c "'$bin' map '$src/configs/arch/lrmp.cfg' --net lenet5 \
    --json | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(\"ok\" if \
    d[\"layers\"][0][\"rows\"] == 25 else d[\"layers\"][0])'"
expect "map packed" 0 '^tiles = ' -- "$bin" map "$src/configs/arch/lrmp.cfg" --net resnet18 --placement packed
expect "map bad placement" 2 "expected groups or packed" -- \
    "$bin" map "$src/configs/arch/lrmp.cfg" --net resnet18 --placement spread
# An arch that demands whole cells (PUMA's 2-bit cells) refuses 3-bit weights, naming the key.
sed 's/mapping = "unsigned";/mapping = "unsigned"; whole_cell_weights = true;/' \
    "$src/configs/arch/puma.cfg" >"$tmp/whole.cfg"
expect "map whole cells" 2 'wb: found 3, expected a multiple of arch\.tiles\.cell_bits = 2 \(arch\.tiles\.whole_cell_weights is on\)' -- \
    "$bin" map "$tmp/whole.cfg" --net lenet5 --policy uniform:3,8
expect "map whole cells ok" 0 '^latency = ' -- "$bin" map "$tmp/whole.cfg" --net lenet5 --policy uniform:4,8
# lrmp_milo2021 is lrmp plus a device group, which only the functional crossbar reads: the cost
# model's report is lrmp's but for the preset's name.
if diff <("$bin" map lrmp --net resnet18 | sed 's/lrmp_milo2021/lrmp/') \
    <("$bin" map lrmp_milo2021 --net resnet18 | sed 's/lrmp_milo2021/lrmp/') >/dev/null; then
    pass=$((pass + 1))
else
    fail=$((fail + 1))
    echo "FAIL: map resnet18 on lrmp_milo2021 differs from lrmp"
fi
# Every built-in network on every preset either maps (exit 0, a latency line) or is refused
# for not fitting the chip (exit 1, tiles needed vs available) -- never anything else.
for net in mlp-lrmp lenet5 resnet18 resnet34 resnet50 vgg11 vgg16 vit_b32 mobilenet_v2; do
    for p in lrmp chang2022 cimaq puma isaac lrmp_milo2021; do
        out=$("$bin" map "$src/configs/arch/$p.cfg" --net "$net" 2>&1)
        rc=$?
        if { [ $rc -eq 0 ] && grep -q '^latency = ' <<<"$out"; } ||
            { [ $rc -eq 2 ] && grep -q 'needs [0-9]* tiles .*the chip has' <<<"$out"; }; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL: map $net on $p: exit $rc: $(head -3 <<<"$out")"
        fi
    done
done
expect "map help" 0 '^usage: xbarsim map' -- "$bin" map --help
expect "map too big" 2 'the chip has 288' -- "$bin" map "$src/configs/arch/chang2022.cfg" --net resnet18
expect "map bad policy" 2 'uniform:0.*expected uniform:B' -- \
    "$bin" map "$src/configs/arch/lrmp.cfg" --net lenet5 --policy uniform:0
expect "map unknown net" 2 'no_such_net' -- "$bin" map "$src/configs/arch/lrmp.cfg" --net no_such_net
expect "map no config" 2 'map: expected CONFIG' -- "$bin" map
expect "map bad option" 2 "found option '--frob', expected one of --net," -- "$bin" map x.cfg --frob

# replicate: both objectives write a file that map accepts and that reproduces the latency.
lrmp="$src/configs/arch/lrmp.cfg"
expect "replicate help" 0 '^usage: xbarsim replicate' -- "$bin" replicate --help
model=$("$bin" map "$src/configs/arch/lrmp.cfg" --net resnet18 | sed -n 's/^latency = \([0-9.]*\) us.*/\1/p')
expect "replicate latency" 0 "^latency = ${model//./\\.} us before, " -- \
    "$bin" replicate "$lrmp" --net resnet18 --objective latency --budget chip -o "$tmp/r.cfg"
after=$("$bin" replicate "$lrmp" --net resnet18 --objective latency --budget chip |
    sed -n 's/^latency = .* before, \([0-9.]*\) us after.*/\1/p')
expect "replicate file maps" 0 "^latency = $after us" -- \
    "$bin" map "$lrmp" --net resnet18 --replication "$tmp/r.cfg"
expect "replicate csv" 0 '^tiles = ' -- \
    "$bin" replicate "$lrmp" --net resnet18 --objective throughput --budget 2x -o "$tmp/r.csv"
expect "replicate csv header" 0 '^layer,copies' -- cat "$tmp/r.csv"
expect "replicate csv maps" 0 '^latency = ' -- "$bin" map "$lrmp" --net resnet18 --replication "$tmp/r.csv"
expect "replicate glpk" 0 '^throughput = .*after' -- \
    "$bin" replicate "$lrmp" --net resnet18 --objective throughput --budget 1.5x --solver glpk
expect "replicate mix" 0 'solver glpk' -- "$bin" replicate "$lrmp" --net lenet5 --objective mix:0.5 --budget 3x
expect "replicate greedy" 0 'solver greedy' -- \
    "$bin" replicate "$lrmp" --net lenet5 --objective latency --budget 2x --solver greedy
expect "replicate exact mix" 2 'expected glpk' -- \
    "$bin" replicate "$lrmp" --net lenet5 --objective mix:0.5 --budget 3x --solver exact
expect "replicate too small" 2 'needs at least [0-9]+ tiles for one copy of every layer' -- \
    "$bin" replicate "$lrmp" --net resnet18 --objective latency --budget 100
expect "replicate bad budget" 2 'budget: found "lots", expected' -- \
    "$bin" replicate "$lrmp" --net resnet18 --objective latency --budget lots
expect "replicate bad objective" 2 "found 'speed', expected latency, throughput or mix" -- \
    "$bin" replicate "$lrmp" --net resnet18 --objective speed --budget chip
expect "replicate bad solver" 2 "found 'cplex'" -- \
    "$bin" replicate "$lrmp" --net resnet18 --objective latency --budget chip --solver cplex
expect "replicate reprogram" 2 'expected weight_stationary' -- \
    "$bin" replicate "$src/configs/arch/cimaq.cfg" --net resnet18 --objective latency --budget chip
expect "replicate missing args" 2 'expected CONFIG\|PRESET, --objective and --budget' -- "$bin" replicate "$lrmp"
# Every built-in network on lrmp: replicated, or refused with the tiles one copy of each needs.
for net in mlp-lrmp lenet5 resnet18 resnet34 resnet50 vgg11 vgg16 vit_b32 mobilenet_v2; do
    for obj in latency throughput; do
        out=$("$bin" replicate "$lrmp" --net "$net" --objective "$obj" --budget chip 2>&1)
        rc=$?
        if { [ $rc -eq 0 ] && grep -q '^tiles = ' <<<"$out"; } ||
            { [ $rc -eq 2 ] && grep -q 'needs at least [0-9]* tiles for one copy' <<<"$out"; }; then
            pass=$((pass + 1))
        else
            fail=$((fail + 1))
            echo "FAIL: replicate $net $obj: exit $rc: $(head -3 <<<"$out")"
        fi
    done
done

# The option parser (cli/opt.c): every command takes preset and network names, --json parses,
# malformed numbers are refused with exit 2 and the found/expected message, and --help lists
# every option the parser accepts (the list the refusal of an unknown option gives).
json_ok() { /usr/bin/python3 -c 'import json, sys; json.load(sys.stdin); print("ok")'; }
cat >"$tmp/names_sweep.cfg" <<'SW'
sweep = { job = "map"; base = { arch = "lrmp"; network = "lenet5"; };
  axes = ( { path = "policy.uniform"; values = [6, 8]; } ); };
SW
printf 'validate = (\n  { source = "x"; quantity = "latency_us"; arch = "lrmp"; network = "lenet5"; published = 1.0; tolerance = 0.1; judged = false; note = "names"; }\n);\n' >"$tmp/names_val.cfg"
expect "info preset name" 0 '^arch\.name = "lrmp"' -- "$bin" info lrmp
expect "run preset and net names" 0 'lenet5 on lrmp' -- "$bin" run --arch lrmp --net lenet5 -o "$tmp/names.h5"
expect "search preset and net names" 0 'lenet5 on lrmp' -- \
    "$bin" search lrmp --net lenet5 --mode lrmp --episodes 2 --warmup 1 -o "$tmp/names_s.h5"
expect "sweep preset and net names" 0 '^2 of 2 points done' -- \
    "$bin" sweep "$tmp/names_sweep.cfg" -o "$tmp/names_sw.h5"
expect "validate preset and net names" 0 '^validate: 0 passed, 0 failed, 1 reported only' -- "$bin" validate "$tmp/names_val.cfg"
for cmd in "info lrmp" "map lrmp --net lenet5" \
    "replicate lrmp --net lenet5 --objective latency --budget 2x" \
    "run --arch lrmp --net lenet5 -o $tmp/j.h5" \
    "search lrmp --net lenet5 --mode lrmp --episodes 2 --warmup 1 -o $tmp/js.h5" \
    "sweep $tmp/names_sweep.cfg -o $tmp/jsw.h5" "merge -o $tmp/jm.h5 $tmp/jsw.h5" \
    "validate $tmp/names_val.cfg"; do
    # shellcheck disable=SC2086
    expect "json: $cmd" 0 '^ok$' -- sh -c "'$bin' $cmd --json | $(declare -f json_ok | sed -n 3p)"
done
for bad in '1x' ' 5' '' '1e999' '-1'; do
    expect "run --inferences '$bad'" 2 "^xbarsim run: --inferences: found '$bad', expected an integer in 1\\.\\." -- \
        "$bin" run -q -o "$tmp/bad.h5" --inferences "$bad"
    expect "replicate --time-limit '$bad'" 2 "^xbarsim replicate: --time-limit: found '$bad', expected an integer" -- \
        "$bin" replicate lrmp --objective latency --budget 2x --time-limit "$bad"
done
for bad in '1x' ' 5' '' '1e999' '-1'; do
    expect "sweep --snapshot '$bad'" 2 "^xbarsim sweep: --snapshot: found '$bad', expected a number in 0\\.\\." -- \
        "$bin" sweep "$tmp/names_sweep.cfg" --snapshot "$bad"
    expect "search --seed '$bad'" 2 "^xbarsim search: --seed: found '$bad', expected an integer in 0\\.\\." -- \
        "$bin" search lrmp --mode lrmp --seed "$bad"
done
expect "missing value" 2 '^xbarsim map: --net: found nothing, expected NAME\|FILE' -- "$bin" map lrmp --net
expect "csv and json" 2 '^xbarsim map: --csv and --json exclude each other' -- "$bin" map lrmp --csv --json
for c in info map replicate run search train sweep merge validate; do
    opts=$("$bin" "$c" --no-such-option 2>&1 | sed -n 's/.*expected one of \(.*\) (see --help)$/\1/p' | tr -d ',')
    help=$("$bin" "$c" --help)
    missing=""
    for o in $opts; do
        grep -qE -- "(^|[ [])$o([] ]|$)" <<<"$help" || missing="$missing $o"
    done
    check "$c --help lists every option ($opts)" [ -n "$opts" -a -z "$missing" ]
done

finish
