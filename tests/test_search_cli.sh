#!/usr/bin/env bash
# test_search_cli: `xbarsim search` end to end -- every mode runs from the command line, the best
# policy and copies are files `run` accepts, the external backend reads the policy it is given,
# --resume of a finished search reproduces it, and bad input exits 2 naming what was wrong.
# Usage: test_search_cli.sh XBARSIM_BINARY SOURCE_DIR. Prints "N passed, N failed".
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"
py=/usr/bin/python3
cd "$tmp" || exit 1
lrmp=$src/configs/arch/lrmp.cfg
puma=$src/configs/arch/puma.cfg
cimaq=$src/configs/arch/cimaq.cfg
small=(--episodes 6 --warmup 3 --hidden 16)

expect "lrmp mode" 0 'latency \(us\) .*x$' -- "$bin" search "$lrmp" --net resnet18 --mode lrmp \
    "${small[@]}" -o lrmp.h5
expect "lrmp estimate said" 0 'ESTIMATE by the proxy backend' -- "$bin" search "$lrmp" \
    --net lenet5 --mode lrmp "${small[@]}" -o l5.h5
expect "cimaq mode" 0 'mode cimaq' -- "$bin" search "$cimaq" --net lenet5 --mode cimaq \
    "${small[@]}" -o cimaq.h5
expect "haq mode" 0 'mode haq' -- "$bin" search "$lrmp" --net lenet5 --mode haq \
    --budget-kind tiles --budget 0.6 "${small[@]}" -o haq.h5
expect "huang mode" 0 'wb/ab/adc' -- "$bin" search "$puma" --net lenet5 --mode huang \
    "${small[@]}" -o huang.h5
expect "random agent" 0 'agent random' -- "$bin" search "$lrmp" --net lenet5 --mode lrmp \
    --agent random --episodes 6 -o rnd.h5
expect "run takes the best" 0 'wrote run.h5' -- "$bin" run --arch lrmp --net resnet18 \
    --policy lrmp.policy.csv --replication lrmp.replication.csv -o run.h5
expect "map takes the best" 0 '^latency = ' -- "$bin" map "$lrmp" --net resnet18 \
    --policy lrmp.policy.csv --replication lrmp.replication.csv
tables=$($py -c "
import h5py; f = h5py.File('lrmp.h5'); s = f['/search']
print(len(s['episodes']), len(s['policies']), len(s['best']), len(s['pareto']) >= 1, s.attrs['mode'])")
expect "search tables" 0 '^6 126 21 True lrmp$' -- echo "$tables"

# haq budget on tiles: every episode's cost is within it (or says why not).
within=$($py -c "
import h5py; e = h5py.File('haq.h5')['/search/episodes'][()]
print(all(c <= 0.6 + 1e-12 or b'not met' in n for c, n in zip(e['cost'], e['note'])))")
expect "haq budget held" 0 '^True$' -- echo "$within"

# External accuracy: the command reads the policy CSV and reports mean wb / 10 as the accuracy.
cmd='awk -F, '"'"'NR > 1 { s += $2; n++ } END { printf "%.6f\n", s / n / 10 }'"'"' "$XBARSIM_POLICY_CSV"'
"$bin" search "$lrmp" --net lenet5 --mode haq "${small[@]}" --accuracy external \
    --command "$cmd" --reference 0.9 -o ext.h5 -q
ok=$($py -c "
import h5py
f = h5py.File('ext.h5'); e = f['/search/episodes'][()]; p = f['/search/policies'][()]
bad = 0
for i, acc in enumerate(e['accuracy']):
    wb = [r['wb'] for r in p if r['episode'] == i]
    bad += abs(acc - round(sum(wb) / len(wb) / 10, 6)) > 1e-9
print(bad, int(e['estimate'].max()))")
expect "external reads the policy" 0 '^0 0$' -- echo "$ok"
expect "external failure logged" 0 'failed' -- sh -c "'$bin' search '$lrmp' --net lenet5 \
    --mode haq --episodes 2 --accuracy external --command 'echo boom >&2; exit 3' \
    --reference 0.9 -o fail.h5 -q; $py -c \"
import h5py; e = h5py.File('fail.h5')['/search/episodes'][()]
print('failed' if all(e['failed']) and b'boom' in e['note'][0] else 'not failed')\""
expect "stop on failure" 1 'episode 0 failed: .*boom' -- "$bin" search "$lrmp" --net lenet5 \
    --mode haq --episodes 2 --accuracy external --command 'echo boom >&2; exit 3' \
    --reference 0.9 --stop-on-failure -o stop.h5 -q

# --resume of a finished search: nothing to redo, the same episodes, bit for bit.
cp l5.h5 l5-first.h5
"$bin" search "$lrmp" --net lenet5 --mode lrmp "${small[@]}" --resume -o l5.h5 -q 2>resume.err
expect "resume says where it resumed" 0 '^xbarsim search: resumed from .*l5\.ckpt at episode 6 of 6$' \
    -- cat resume.err
same=$($py -c "
import h5py
a = h5py.File('l5-first.h5')['/search/episodes'][()]
b = h5py.File('l5.h5')['/search/episodes'][()]
print('same' if (a['reward'] == b['reward']).all() and (a['latency_ps'] == b['latency_ps']).all()
      else 'differ')" 2>&1)
expect "resume finished" 0 '^same$' -- echo "$same"
# --resume with no checkpoint is an error, not a silent fresh start (issue 20); nothing written.
expect "resume without checkpoint" 2 '--resume: found no checkpoint .*none\.ckpt' -- \
    "$bin" search "$lrmp" --net lenet5 --mode lrmp "${small[@]}" --resume -o none.h5 -q
check "nothing written without checkpoint" [ ! -e none.h5 -a ! -e none.policy.csv ]
expect "resume other seed" 2 'seed 1' -- "$bin" search "$lrmp" --net lenet5 --mode lrmp \
    "${small[@]}" --seed 2 --resume -o l5.h5
# Output that cannot be written (the issue's full disk, here a 64 KiB file-size limit with SIGXFSZ
# ignored so that write() fails with EFBIG): exit 1 and nothing under the requested names. No
# checkpoint fits either, so the message must not offer --resume.
mkdir -p full
(
    trap '' XFSZ
    ulimit -f 64
    "$bin" search "$lrmp" --mode haq --net lenet5 --episodes 30 -q -o full/se.h5 2>full.err
)
rc=$?
expect "write failure: exit 1, no resume offered" 0 '^1 .*cannot write it whole .*no checkpoint was kept' \
    -- echo "$rc $(cat full.err)"
check "write failure: nothing under the requested names" \
    [ ! -e full/se.h5 -a ! -e full/se.policy.csv -a ! -e full/se.replication.csv ]
check "write failure: no temporary left" [ -z "$(ls full)" ]

# A chance-level search (issue 19: 10.3 % on 10 classes): no episode reaches the default minimum
# (chance 0.1 + 0.1 x (0.9 - 0.1) = 18 %), so a warning, exit 1, FILE.h5 without /search/best and
# no policy or copies files; with --min-accuracy 0.1 the same search keeps its best.
expect "chance level refused" 1 \
    'warning: no episode of 4 reached the minimum accuracy 18\.0000% .*best episode, [0-9]+, has 10\.3000%\): no best policy written' \
    -- "$bin" search "$lrmp" --net lenet5 --mode haq --episodes 4 --warmup 2 --hidden 16 \
    --accuracy external --command 'echo 0.103' --reference 0.9 -o chance.h5
check "chance level: no best files" [ ! -e chance.policy.csv -a ! -e chance.replication.csv ]
refused=$($py -c "
import h5py; s = h5py.File('chance.h5')['/search']
print(round(s.attrs['min_accuracy'], 12), s.attrs['episodes_at_min_accuracy'], 'best' in s, len(s['episodes']))")
expect "chance level: the file says why" 0 '^0\.18 0 False 4$' -- echo "$refused"
expect "--min-accuracy keeps the best" 0 'best policy: chance2\.policy\.csv' -- "$bin" search \
    "$lrmp" --net lenet5 --mode haq --episodes 4 --warmup 2 --hidden 16 --accuracy external \
    --command 'echo 0.103' --reference 0.9 --min-accuracy 0.1 -o chance2.h5
# --reference sets the proxy's reference (lenet5 has none built in: 1.0 otherwise), and is
# refused with the functional backend, which measures its own.
expect "proxy takes --reference" 0 'reference 90\.0000%; an ESTIMATE' -- "$bin" search "$lrmp" \
    --net lenet5 --mode lrmp "${small[@]}" --reference 0.9 -o ref.h5
expect "proxy without --reference" 0 'reference 100\.0000%; an ESTIMATE' -- "$bin" search \
    "$lrmp" --net lenet5 --mode lrmp "${small[@]}" -o noref.h5
expect "functional refuses --reference" 2 \
    '^xbarsim search: --reference 0\.9: found with --accuracy functional, expected no --reference' \
    -- "$bin" search "$lrmp" --net lenet5 --mode lrmp --episodes 2 --accuracy functional \
    --weights none.h5 --reference 0.9

expect "bad mode" 2 "--mode: found 'fast', expected lrmp, cimaq, haq or huang" -- \
    "$bin" search "$lrmp" --net lenet5 --mode fast
expect "lrmp needs weight-stationary" 2 'expected weight_stationary' -- \
    "$bin" search "$cimaq" --net lenet5 --mode lrmp --episodes 2
expect "functional needs weights" 2 'accuracy functional: expected --weights FILE.h5' -- \
    "$bin" search "$lrmp" --net lenet5 --mode lrmp --episodes 2 --accuracy functional
expect "external needs a command" 2 'expected --command' -- \
    "$bin" search "$lrmp" --net lenet5 --mode lrmp --episodes 2 --accuracy external
expect "no mode" 2 'expected CONFIG\|PRESET and --mode' -- "$bin" search "$lrmp"
expect "help" 0 'usage: xbarsim search' -- "$bin" search --help
finish
