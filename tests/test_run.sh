#!/usr/bin/env bash
# test_run: end-to-end checks of `xbarsim run` -- the default run and its HDF5 file, the identity
# with the analytic model (overlap off), what-if overrides, bad input (exit 2, file:line), an
# unwritable or interrupted output (nothing left behind), and the Python reader on real output.
# Usage: test_run.sh XBARSIM_BINARY SOURCE_DIR. Prints "N passed, N failed".
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"
py=/usr/bin/python3
tr="$src/scripts/xbarsim_trace.py"
cd "$tmp" || exit 1

# The model's latency, as `map` prints it, is the default run's model column.
model=$("$bin" map lrmp --net resnet18 | sed -n 's/^latency = \([0-9.]*\) us.*/\1/p')
expect "default run" 0 "latency of inference 0 \\(us\\) +[0-9.]+ +${model//./\\.} " -- "$bin" run
expect "default file" 0 'consistent' -- $py "$tr" check traces/run.h5
expect "help" 0 'embedded default: ResNet-18' -- "$bin" run --help

# Overlap off: the simulation is the analytic model, to the picosecond, layer by layer.
expect "identity resnet18" 0 "latency of inference 0 \\(us\\) +${model//./\\.} +${model//./\\.} +1\\.0000" \
    -- "$bin" run --overlap off -o off.h5
bad=$("$bin" run --overlap off -q -o off2.h5 --net resnet34 && $py -c "
import h5py; f = h5py.File('off2.h5'); l = f['/summary/layers'][()]
print(sum(l['first_time_ps'] != l['model_time_ps']))")
expect "identity resnet34 every layer" 0 '^0$' -- echo "$bad"

# Two lrmp chips, each with a mesh, copies sending across chips; overlap on: the file is
# self-consistent (tile busy time over every chip's tiles, links' energies, layer records).
expect "two chips with meshes" 0 'chip: 5688 tiles x 2 chips used of 4' -- "$bin" run --arch lrmp \
    --net resnet18 --set arch.chips=4 --set 'arch.noc={ topology = "mesh"; rows = 5; cols = 8;
    link_bits = 32; router_cycles = 2; energy_pj_per_bit_hop = 0.126; }' \
    --replication conv1=40,layer1.0.conv1=20,layer4.0.conv2=8,layer4.1.conv2=8 --inferences 4 \
    --trace vector -o chips.h5
expect "two chips file consistent" 0 'consistent' -- $py "$tr" check chips.h5

# What-if: rows_active 18 instead of 9 halves the row groups of every VMM; ADC bits override.
expect "set rows_active" 0 'arch.tiles.rows_active = 18' -- "$bin" info \
    <(sed 's/rows_active = 9;/rows_active = 18;/' "$src/configs/arch/lrmp.cfg")
a=$("$bin" run -q -o a.h5 --net lenet5 && $py "$tr" summary a.h5 | grep -c .)
expect "lenet5 run" 0 '^[0-9]+$' -- echo "$a"
expect "set override applies" 0 'arch.tiles.rows_active = 18' -- sh -c \
    "'$bin' run -q -o b.h5 --net lenet5 --set arch.tiles.rows_active=18 && $py -c \"
import h5py; print(h5py.File('b.h5')['/meta'].attrs['config'])\""
expect "set bad value" 2 '--set arch.tiles.rows_active=many: found .many., expected a 32-bit' \
    -- "$bin" run -q --set arch.tiles.rows_active=many
# A value that came from --set is reported as the option, not as the preset's line (issue 20).
expect "set out of range" 2 '^xbarsim run: --set arch.tiles.rows_active=0: arch.tiles.rows_active: found 0, expected an integer 1..256' \
    -- "$bin" run -q --set arch.tiles.rows_active=0
expect "set twice, the last reported" 2 '^xbarsim run: --set arch.tiles.rows_active=0: ' \
    -- "$bin" run -q --set arch.tiles.rows_active=9 --set arch.tiles.rows_active=0
expect "set a new key" 2 '^xbarsim run: --set arch.tiles.dac.static_power_uw=-3: arch.tiles.dac.static_power_uw: found -3' \
    -- "$bin" run -q --set arch.tiles.dac.static_power_uw=-3
expect "set unknown group" 2 "found no group 'arch.tilez'" \
    -- "$bin" run -q --set arch.tilez.rows=1
# fuzz_run: only blanks before '=' named the root setting, whose missing parent crashed the
# override (a null dereference under UBSan).
expect "set empty path" 2 "^xbarsim run: --set  = 256: expected PATH=VALUE" \
    -- "$bin" run -q --set " = 256"
# ... and so did a path of separators only (libconfig reads '.', ':' and '/' as separators).
for p in : . /; do
    expect "set root path '$p'" 2 "^xbarsim run: --set $p=3: found the path '$p', which names the whole file" \
        -- "$bin" run -q --set "$p=3"
done

# Bad input: file, line and setting; exit 2; nothing written.
printf 'run = {\n  arch = "lrmp";\n  network = "resnet18";\n  inferences = "many";\n};\n' > bad1.cfg
expect "bad run value" 2 'bad1.cfg:4: run.inferences: found the string' -- "$bin" run bad1.cfg
printf 'run = {\n  arch = "lrmp";\n  netwrk = "resnet18";\n};\n' > bad2.cfg
expect "unknown run key" 2 'bad2.cfg:3: run.netwrk: found an unknown setting' -- "$bin" run bad2.cfg
printf 'run = { arch = "lrmp"; network = "resnet18"; policy = "pol.csv"; };\n' > bad3.cfg
printf 'layer,wb,ab\nconv1,8,8\nnosuch,4,4\n' > pol.csv
expect "bad policy file" 2 'pol.csv:3' -- "$bin" run bad3.cfg
expect "missing config" 2 'nosuch.cfg' -- "$bin" run nosuch.cfg
expect "bad trace level" 2 'trace: found .loud., expected none, layer or vector' \
    -- "$bin" run --trace loud
expect "nothing written on bad input" 0 '^0$' -- sh -c 'ls traces | grep -v "^run.h5$" | wc -l'

# Output that cannot be written: exit 1, message, nothing left.
expect "unwritable output" 1 'cannot create HDF5 file' -- "$bin" run -q -o nodir/x.h5
expect "no partial file" 0 '^0$' -- sh -c 'ls nodir 2>/dev/null | wc -l'

# Interrupted: a long run killed by SIGTERM leaves neither the file nor its temporary.
"$bin" run -q --net resnet50 --inferences 2000 --trace vector -o killed.h5 &
pid=$!
sleep 1
kill -TERM "$pid"
wait "$pid"
expect "killed run leaves nothing" 0 '^0$' -- sh -c 'ls killed.h5* 2>/dev/null | wc -l'

# Config with its own arch and network groups, a policy and the vector trace.
{
    sed -n '/^arch = {/,/^};/p' "$src/configs/arch/chang2022.cfg"
    sed -n '/^network = {/,/^};/p' "$src/configs/net/lenet5.cfg"
    printf 'run = { inferences = 4; trace = "vector"; policy = "uniform:4"; };\n'
} > own.cfg
expect "own groups" 0 'lenet5 on chang2022' -- "$bin" run own.cfg -o own.h5
expect "own groups consistent" 0 'consistent' -- $py "$tr" check own.h5

# The Python reader and plots on a real pipelined run with the vector trace.
"$bin" run -q --inferences 3 --trace vector --replication conv1=4 -o v.h5
expect "python reader on real output" 0 ' passed, 0 failed' -- $py "$src/tests/test_trace_py.py" v.h5
# A temporary left by a killed run (its process gone) is removed by the next run of the same
# output, which says so; one of a live process (this shell's) is left alone.
dead=$(sh -c 'echo $$')
mkdir -p "$tmp/stale"
touch "$tmp/stale/o.h5.tmp.$dead" "$tmp/stale/o.h5.tmp.$$"
expect "stale temporary removed" 0 "removed the stale temporary '.*o\.h5\.tmp\.$dead' \(process $dead is gone\)" \
    -- "$bin" run -q --net lenet5 -o "$tmp/stale/o.h5"
check "stale temporary gone" [ ! -e "$tmp/stale/o.h5.tmp.$dead" ]
check "live temporary kept" [ -e "$tmp/stale/o.h5.tmp.$$" ]

# Run-config values carry file:line and setting path; command-line ones name the option.
printf 'run = {\n  trace = "everything";\n};\n' >"$tmp/rc_trace.cfg"
expect "run.trace located" 2 'rc_trace\.cfg:2: run\.trace: found .everything.' -- \
    "$bin" run "$tmp/rc_trace.cfg" -q -o "$tmp/rc.h5"
expect "--trace located" 2 '^xbarsim run: --trace: found .everything.' -- \
    "$bin" run --trace everything -q -o "$tmp/rc.h5"
printf 'run = {\n  arch = "lrmp"; network = "lenet5";\n  policy = "uniform:99";\n};\n' >"$tmp/rc_pol.cfg"
expect "run.policy located" 2 'rc_pol\.cfg:3: run\.policy: policy "uniform:99"' -- \
    "$bin" run "$tmp/rc_pol.cfg" -q -o "$tmp/rc.h5"
printf 'run = {\n  arch = "lrmp"; network = "lenet5";\n  replication = "conv9=3";\n};\n' >"$tmp/rc_rep.cfg"
expect "run.replication located" 2 'rc_rep\.cfg:3: run\.replication: replication "conv9=3"' -- \
    "$bin" run "$tmp/rc_rep.cfg" -q -o "$tmp/rc.h5"

# A name that resolves to no file is the fault of where it was given (found by fuzz_run:
# network = "r%esnet18" was reported as ".../configs/net/r%esnet18.cfg: cannot read the file").
printf 'run = {\n  arch = "lrmp";\n  network = "r%%esnet18";\n};\n' >"$tmp/rc_net.cfg"
expect "run.network located" 2 'rc_net\.cfg:3: run\.network: .*r%esnet18\.cfg: cannot read' -- \
    "$bin" run "$tmp/rc_net.cfg" -q -o "$tmp/rc.h5"
printf 'run = {\n  arch = "lrmpp";\n  network = "lenet5";\n};\n' >"$tmp/rc_arch.cfg"
expect "run.arch located" 2 'rc_arch\.cfg:2: run\.arch: .*lrmpp\.cfg: cannot read' -- \
    "$bin" run "$tmp/rc_arch.cfg" -q -o "$tmp/rc.h5"
expect "--net located" 2 '^xbarsim run: --net: .*nosuchnet\.cfg: cannot read' -- \
    "$bin" run --net nosuchnet -q -o "$tmp/rc.h5"

finish
