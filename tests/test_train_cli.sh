#!/usr/bin/env bash
# test_train_cli: `xbarsim train` and `xbarsim search --accuracy functional` end to end on the
# Fashion-MNIST files: a short training writes a weights file that loads again, the same seed
# gives the same weights, the integer and the lossless crossbar give the same accuracy on real
# images, a one-bit ADC loses accuracy, a search runs with the functional backend (measured, not
# estimated), and bad input exits 2 saying where and what.
# Usage: test_train_cli.sh XBARSIM_BINARY SOURCE_DIR. Prints "N passed, N failed"; exits 77
# (skipped) when the data set is not installed.
set -u
bin=$1
src=$2
data=${XBARSIM_FMNIST:-/usr/share/datasets/fashion-mnist}
if [ ! -r "$data/train-images-idx3-ubyte.gz" ]; then
    echo "skip: no Fashion-MNIST in $data (package dataset-fashion-mnist)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"
py=/usr/bin/python3
cd "$tmp" || exit 1
lrmp=$src/configs/arch/lrmp.cfg
# One epoch on 400 images: a constant step without augmentation learns the most in it (the
# defaults, cosine decay and shift/flip, pay off over full runs).
short=(--epochs 1 --train-images 400 --test-images 300 --lr-schedule constant --shift 0 --flip off)

expect "train mlp" 0 'float epoch 1: loss .* test .*%' -- "$bin" train --net mlp-fmnist \
    "${short[@]}" -o mlp.h5
expect "bad shift" 2 '--shift' -- "$bin" train --net mlp-fmnist --shift 9 -o x.h5
expect "bad schedule" 2 'cosine' -- "$bin" train --net mlp-fmnist --lr-schedule step -o x.h5
expect "schedule in the weights" 0 'lr_schedule = "constant"' -- $py -c "
import h5py; print(h5py.File('mlp.h5')['meta'].attrs['config'])"
expect "train lenet5" 0 'wrote l5.h5' -- "$bin" train --net lenet5 "${short[@]}" -o l5.h5
"$bin" train --net mlp-fmnist "${short[@]}" -o mlp2.h5 >/dev/null
same=$($py -c "
import h5py, numpy as np
a, b = h5py.File('mlp.h5'), h5py.File('mlp2.h5')
print(all(np.array_equal(a['layers'][k]['weight'][()], b['layers'][k]['weight'][()])
          for k in ('fc1', 'fc2', 'fc3')), a['layers/fc1/weight'].shape, a['meta'].attrs['format'],
      a['meta'].attrs['network'])")
expect "same seed, same weights" 0 "^True \(256, 784\) xbarsim-weights mlp-fmnist$" -- echo "$same"

# Evaluation of the stored weights: accuracy as written in /meta; integer = lossless crossbar.
out=$("$bin" train --net mlp-fmnist --epochs 0 --weights mlp.h5 --test-images 300 \
    --train-images 400 --policy uniform:6 2>&1)
meta=$($py -c "import h5py; print('%.2f' % (100 * h5py.File('mlp.h5')['meta'].attrs['test_accuracy']))")
expect "float accuracy as stored" 0 "^float test accuracy = $meta %" -- echo "$out"
int=$(sed -n 's/^integer test accuracy = \([0-9.]*\) %.*/\1/p' <<<"$out")
xb=$(sed -n 's/^crossbar test accuracy = \([0-9.]*\) %.*/\1/p' <<<"$out")
expect "integer equals lossless crossbar" 0 "^$int $int$" -- echo "$int $xb"
expect "no clipping at 4 ADC bits" 0 'clipped conversions 0$' -- echo "$out"
one=$("$bin" train --net mlp-fmnist --epochs 0 --weights mlp.h5 --test-images 300 \
    --train-images 400 --policy uniform:6 --adc-bits 1 2>&1)
xb1=$(sed -n 's/^crossbar test accuracy = \([0-9.]*\) %.*/\1/p' <<<"$one")
lower=$($py -c "print($xb1 < $xb)")
expect "one ADC bit loses accuracy" 0 '^True ' -- echo "$lower ($xb1 vs $xb)"
expect "rows_active override" 0 'rows_active 128' -- "$bin" train --net mlp-fmnist --epochs 0 \
    --weights mlp.h5 --test-images 100 --train-images 100 --policy uniform:8 \
    --set arch.tiles.rows_active=128
expect "qat fine-tune" 0 'qat epoch 1: ' -- "$bin" train --net mlp-fmnist --epochs 0 \
    --weights mlp.h5 --policy uniform:4 --finetune-epochs 1 --train-images 300 \
    --test-images 100 -o qat.h5

# Device samples: no effect on -> every chip is the ideal one (std 0); variation -> the same
# seed gives the same chips; a residual net with batch norm and a depthwise net train and run
# through the crossbar (lossless: integer = crossbar).
ideal=$("$bin" train --net mlp-fmnist --epochs 0 --weights mlp.h5 --test-images 200 \
    --train-images 200 --policy uniform:8 --device-samples 2 2>&1)
xi=$(sed -n 's/^crossbar test accuracy = \([0-9.]*\) %.*/\1/p' <<<"$ideal")
expect "ideal chips" 0 "^device samples = 2: mean $xi %, std 0.00 %, min $xi %$" -- echo "$ideal"
var=(--epochs 0 --weights mlp.h5 --test-images 200 --train-images 200 --policy uniform:8
    --device-samples 2 --set arch.tiles.device.variation_sigma=0.1)
v1=$("$bin" train --net mlp-fmnist "${var[@]}" 2>&1 | grep '^device samples')
v2=$("$bin" train --net mlp-fmnist "${var[@]}" 2>&1 | grep '^device samples')
expect "same seed, same chips" 0 "^device samples = 2: .*@.*device samples = 2" -- \
    echo "$v1@$v2"
[ "$v1" = "$v2" ] || echo "FAIL: chips differ: $v1 / $v2"
expect "bad device fraction" 2 'arch.tiles.device.stuck_off: found 1.5, expected a number in 0..1' \
    -- "$bin" train --net mlp-fmnist "${var[@]}" --set arch.tiles.device.stuck_off=1.5
for net in resnet8-fmnist mobilenet-fmnist; do
    o=$("$bin" train --net $net --epochs 1 --train-images 200 --test-images 100 --policy uniform:8 \
        --adc-mode ideal -o $net.h5 2>&1)
    i=$(sed -n 's/^integer test accuracy = \([0-9.]*\) %.*/\1/p' <<<"$o")
    x=$(sed -n 's/^crossbar test accuracy = \([0-9.]*\) %.*/\1/p' <<<"$o")
    expect "$net integer equals crossbar" 0 "^$i $i [0-9]" -- echo "$i $x ${#i}"
    expect "$net weights load folded" 0 'float test accuracy' -- "$bin" train --net $net \
        --epochs 0 --weights $net.h5 --test-images 50
done

# Search with the functional backend: measured accuracy in every episode.
expect "functional search" 0 'accuracy .*% \(reference' -- "$bin" search "$lrmp" --net mlp-fmnist \
    --mode lrmp --episodes 3 --warmup 2 --hidden 16 --accuracy functional --weights mlp.h5 \
    --holdout 300 -o fs.h5
est=$($py -c "
import h5py; e = h5py.File('fs.h5')['/search/episodes'][()]
print(int(e['estimate'].max()), int(e['failed'].max()), len(e), 0.5 < e['reference'][0] < 1)")
expect "functional measured" 0 '^0 0 3 True$' -- echo "$est"
expect "functional search, two chips" 0 'accuracy .*% \(reference' -- "$bin" search "$lrmp" \
    --net mlp-fmnist --mode lrmp --episodes 2 --warmup 2 --hidden 16 --accuracy functional \
    --weights mlp.h5 --holdout 100 --device-samples 2 --device-quantile 0 -o fs2.h5
expect "quantile without chips" 2 'expected a fraction in 0..1 with device samples >= 1' -- \
    "$bin" search "$lrmp" --net mlp-fmnist --mode lrmp --episodes 2 --accuracy functional \
    --weights mlp.h5 --holdout 100 --device-quantile 0.1 -o fs3.h5

# Bad input: exit 2, saying where and what.
expect "unknown net" 2 'configs/net/nope.cfg' -- "$bin" train --net nope --epochs 0
expect "no data" 2 "--data: /nonexistent/t10k-images-idx3-ubyte.gz: cannot open" -- \
    "$bin" train --net mlp-fmnist --epochs 0 --data /nonexistent
expect "trains without -o" 2 '-o OUT.h5: expected' -- "$bin" train --net mlp-fmnist --epochs 1
expect "weights of another net" 2 'found network "lenet5", expected "mlp-fmnist"' -- \
    "$bin" train --net mlp-fmnist --epochs 0 --weights l5.h5
expect "unsupported layer" 2 'layer "tokens"\): found a tokens layer, expected conv2d' -- \
    "$bin" train --net vit_b32 --epochs 0
expect "bad adc mode" 2 "--adc-mode: found 'linear'" -- "$bin" train --net mlp-fmnist \
    --epochs 0 --adc-mode linear
expect "bad epochs" 2 "--epochs: found 'x'" -- "$bin" train --net mlp-fmnist --epochs x
expect "one-bit weights" 2 'found wb 1' -- "$bin" train --net mlp-fmnist --epochs 0 \
    --weights mlp.h5 --policy uniform:1 --test-images 10 --train-images 10
expect "search holdout too big" 2 'functional.holdout \(--holdout\): found 70000' -- \
    "$bin" search "$lrmp" --net mlp-fmnist --mode lrmp --episodes 2 --accuracy functional \
    --weights mlp.h5 --holdout 70000
expect "search weights missing" 2 'functional.weights \(--weights\): missing.h5: cannot open' -- \
    "$bin" search "$lrmp" --net mlp-fmnist --mode lrmp --episodes 2 --accuracy functional \
    --weights missing.h5
# More images than the set holds is refused, not clamped (issue 20).
expect "train images beyond the set" 2 '--train-images: found 70000, expected at most 60000' -- \
    "$bin" train --net mlp-fmnist --epochs 1 --train-images 70000 -o "$tmp/clamp.h5"
check "nothing written" [ ! -e "$tmp/clamp.h5" ]

finish
