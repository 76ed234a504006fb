#!/usr/bin/env bash
# test_sweep_flow: the whole flow per sweep point -- `sweep --estimate` (figures printed and
# recomputed from its own sample, nothing written), replication.copies = "auto" (the copies and
# latency of `xbarsim replicate` then `map --replication`, for map and run jobs), and structured
# libconfig values for --set and sweep axes (a table or a figure of merit, equal to the scalar it
# gives at the arch's ADC bits). Usage: test_sweep_flow.sh XBARSIM SOURCE_DIR.
set -u
bin=$1
src=$2
export XBARSIM_DATA=$src
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"
py=/usr/bin/python3
cd "$tmp" || exit 1

# ---- --estimate ---------------------------------------------------------------------------
expect "estimate prints the projection" 0 \
    '^projected: .* core-hours for the 32 points' -- \
    "$bin" sweep "$src/configs/sweep/adc_rows.cfg" --estimate -o est.h5
expect "estimate suggests an array" 0 \
    '^suggested: 1 array task of 2 cores and 1 h .*--array=0-0 --cpus-per-task=2 --time=1:00:00' \
    -- "$bin" sweep "$src/configs/sweep/adc_rows.cfg" --estimate -o est.h5
check "estimate writes no results file nor journal" \
    [ ! -e est.h5 ] && [ ! -e est.h5.journal ] && [ ! -e traces ]
# The JSON's array size is ceil(1.25 x core-hours / (cores x hours)), capped at the points; the
# sample is the middle of 5 equal blocks of 32 points: 3, 9, 16, 22, 28.
"$bin" sweep "$src/configs/sweep/adc_rows.cfg" --estimate --json --sample 5 --task-hours 0.001 \
    --task-cores 1 >est.json
ok=$($py - <<'PY'
import json, math
d = json.load(open("est.json"))
want = min(d["points"], max(1, math.ceil(1.25 * d["core_hours"] / (0.001 * 1))))
core_h = d["mean_s_per_point"] * d["points"] / 3600
print(d["sample"] == [3, 9, 16, 22, 28], d["array_tasks"] == want,
      abs(d["core_hours"] - core_h) <= 1e-6 * core_h, d["sample_failed"] == 0)
PY
)
expect "estimate figures recomputed" 0 '^True True True True$' -- echo "$ok"
expect "estimate excludes --list" 2 '--list and --estimate exclude each other' -- \
    "$bin" sweep "$src/configs/sweep/adc_rows.cfg" --estimate --list

# ---- replication.copies = "auto" ------------------------------------------------------------
for job in map run; do
    cat >auto_$job.cfg <<CFG
sweep = {
  job = "$job";
  base = { arch = "lrmp"; network = "resnet18";
           replication = { copies = "auto"; budget = "1.5x"; objective = "throughput"; }; };
  axes = ( { path = "policy.uniform"; values = [4, 8]; } );
  metrics = ["latency_us", "throughput_per_s", "tiles_used"];
};
CFG
    "$bin" sweep auto_$job.cfg -o auto_$job.h5 -q
done
for b in 4 8; do
    "$bin" replicate lrmp --net resnet18 --policy uniform:$b --objective throughput \
        --budget 1.5x -o copies$b.csv >/dev/null
    "$bin" map lrmp --net resnet18 --policy uniform:$b --replication copies$b.csv --json >map$b.json
    "$bin" run --arch lrmp --net resnet18 --policy uniform:$b --replication copies$b.csv \
        -o run$b.h5 --json >run$b.json
done
ok=$($py - <<'PY'
import json, h5py
out = []
for job in ("map", "run"):
    t = h5py.File(f"auto_{job}.h5", "r")["/sweep/points"][:]
    for row in t:
        b = int(row["policy.uniform"])
        d = json.load(open(f"{job}{b}.json"))
        ref = d["totals"] if job == "map" else d["simulated"]
        lat = ref["latency_ps"] / 1e6
        # the same copies: the same tiles (sum of copies x tiles per copy), latency and throughput
        out.append(row["status"] == b"ok" and abs(row["latency_us"] - lat) <= 1e-12 * lat
                   and row["tiles_used"] == ref["tiles_used"]
                   and abs(row["throughput_per_s"] / ref["throughput_per_s"] - 1) < 1e-8)
print(all(out), len(out))
PY
)
expect "auto copies = replicate then map/run" 0 '^True 4$' -- echo "$ok"
cat >auto_low.cfg <<'CFG'
sweep = {
  job = "map";
  base = { arch = "lrmp"; network = "resnet18";
           replication = { copies = "auto"; budget = "0.2x"; }; };
  axes = ( { path = "policy.uniform"; values = [8]; } );
};
CFG
expect "auto copies: a budget too small is the point's failure" 0 \
    'point 0 failed: replication.copies = "auto" \(budget 0.2x, objective latency\): budget: found 290 tiles, needs at least 1454' \
    -- "$bin" sweep auto_low.cfg -o auto_low.h5

# ---- structured values ----------------------------------------------------------------------
# lrmp's ADC has 4 bits: the table's 4-bit entry 0.8 pJ and the figure of merit 0.0011 x 2^4 =
# 0.0176 pJ must price exactly as the scalars 0.8 and 0.0176.
table='{ kind = "table"; first_bits = 1; values = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8]; }'
fom='{ kind = "fom"; fom = 0.0011; }'
cat >structured.cfg <<CFG
sweep = {
  job = "map";
  combine = "zip";
  base = { arch = "lrmp"; network = "lenet5";
           set = ["arch.tiles.adc.area_um2={ kind = \"value\"; value = 75.0; }"]; };
  axes = ( { path = "arch.tiles.adc.energy_pj";
             values = ( 0.8, $table, 0.0176, $fom ); } );
  metrics = ["energy_uj", "area_mm2"];
};
CFG
"$bin" sweep structured.cfg -o structured.h5 -q
ok=$($py - <<'PY'
import h5py
t = h5py.File("structured.h5", "r")["/sweep/points"][:]
e = t["energy_uj"]
print(all(t["status"] == b"ok"), e[0] == e[1], e[2] == e[3], e[0] != e[2],
      t["arch.tiles.adc.energy_pj"][3].decode())
PY
)
expect "sweep axis of groups = the scalars" 0 \
    '^True True True True \{ kind = "fom"; fom = 0.0011; \}$' -- echo "$ok"
expect "--set a group" 0 'adc.energy_pj = fom 0.0011 \* 2\^b pJ \(at 4 bits: 0.0176 pJ\)' -- \
    "$bin" info lrmp --set "arch.tiles.adc.energy_pj=$fom"
expect "--set a table" 0 'adc.energy_pj = table \{ 1: 0.1, .* 8: 12.8 \} pJ \(at 4 bits: 0.8 pJ\)' \
    -- "$bin" info lrmp --set "arch.tiles.adc.energy_pj=$table"
expect "--set a scalar over a group" 0 'adc.energy_pj = 1.5 pJ' -- \
    "$bin" info lrmp --set "arch.tiles.adc.energy_pj=1.5"
expect "--set: libconfig cannot read it" 2 \
    "^xbarsim info: --set arch.tiles.adc.energy_pj=\{ kind = fom; \}: found '\{ kind = fom; \}', which libconfig cannot read \(syntax error" \
    -- "$bin" info lrmp --set 'arch.tiles.adc.energy_pj={ kind = fom; }'
expect "--set: a member of the group is wrong" 2 \
    '^xbarsim info: --set arch.tiles.adc.energy_pj=\{ kind = "fom"; fom = "x"; \}: arch.tiles.adc.energy_pj.fom: found the string "x", expected a number' \
    -- "$bin" info lrmp --set 'arch.tiles.adc.energy_pj={ kind = "fom"; fom = "x"; }'
expect "--set: an array where a number is expected" 2 \
    '^xbarsim run: --set arch.tiles.adc.bits=\[4, 5\]: arch.tiles.adc.bits: found an array, expected an integer' \
    -- "$bin" run --arch lrmp --net lenet5 --set 'arch.tiles.adc.bits=[4, 5]' -o never.h5
expect "--set: two values" 2 'found more than one value' -- \
    "$bin" info lrmp --set 'arch.tiles.adc.energy_pj={ kind = "fom"; fom = 1.0; }; x = 2'
cat >bad_axis.cfg <<'CFG'
sweep = {
  base = { arch = "lrmp"; network = "lenet5"; };
  axes = ( { path = "policy.uniform"; values = ( 4, { bits = 8; } ); } );
};
CFG
expect "a group on a non-arch axis is the file's error" 2 \
    'bad_axis\.cfg:3: sweep\.axes\.\[0\]\.values: found a group, array or list, expected numbers' \
    -- "$bin" sweep bad_axis.cfg -o never.h5
cat >bad_group.cfg <<'CFG'
sweep = {
  base = { arch = "lrmp"; network = "lenet5"; };
  axes = ( { path = "arch.tiles.adc.energy_pj"; values = ( 1.0, { kind = "tabel"; } ); } );
};
CFG
expect "a bad group on an axis fails its point, naming the line" 0 \
    'point 1 failed: .*bad_group\.cfg:3: sweep\.axes\.\[0\]: --set arch\.tiles\.adc\.energy_pj=\{ kind = "tabel"; \}: arch\.tiles\.adc\.energy_pj\.kind: found "tabel"' \
    -- "$bin" sweep bad_group.cfg -o bad_group.h5
check "nothing written by refused runs" [ ! -e never.h5 ]
finish
