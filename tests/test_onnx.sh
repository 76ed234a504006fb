#!/usr/bin/env bash
# test_onnx: scripts/onnx2xbarsim.py end to end -- small ONNX models built with onnx.helper are
# converted and the configs checked with `xbarsim map` against R x N and P worked out by hand.
# Usage: test_onnx.sh XBARSIM_BINARY SOURCE_DIR. Prints "N passed, N failed"; skipped (exit 0)
# when no python3 can import onnx (Debian's python3-onnx, installed by scripts/bootstrap.sh).
set -u
bin=$1
src=$2
arch="$src/configs/arch/lrmp.cfg"
conv="$src/scripts/onnx2xbarsim.py"

# Debian's python3-onnx belongs to the system interpreter, which a pyenv or venv python3 on PATH
# may hide: try that one first.
py=""
for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c "import onnx" 2>/dev/null; then
        py=$candidate
        break
    fi
done
if [ -z "$py" ]; then
    echo "test_onnx: skipped: python3 cannot import onnx (install Debian's python3-onnx," \
        "scripts/bootstrap.sh does)"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"


# The models: rescnn (the residual CNN), attn (one attention block), erf (an unsupported op),
# asym (asymmetric padding). Weights are zeros: only shapes matter.
if ! "$py" - "$tmp" <<'EOF'; then
import math
import sys

import onnx
from onnx import TensorProto as TP
from onnx import helper

out = sys.argv[1]
node = helper.make_node


def zeros(name, *dims):
    return helper.make_tensor(name, TP.FLOAT, dims, [0.0] * math.prod(dims))


def save(name, nodes, inits, x_shape, y_shape, opset=13):
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TP.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("y", TP.FLOAT, y_shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    onnx.save(model, f"{out}/{name}.onnx")


# 1x3x32x32 -> conv1 3->16 k3 p1 -> relu1 -> conv2 16->16 k3 p1 -> bn2 -> add(relu1) -> relu2
# -> pool 2 -> conv3 16->32 k3 s2 p1 -> gap -> flatten -> fc 32->10 (Gemm, transB).
save("rescnn", [
    node("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    node("Relu", ["c1"], ["r1"], name="relu1"),
    node("Conv", ["r1", "w2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    node("BatchNormalization", ["c2", "s", "b", "m", "v"], ["n2"], name="bn2"),
    node("Add", ["n2", "r1"], ["a"], name="add"),
    node("Relu", ["a"], ["r2"], name="relu2"),
    node("MaxPool", ["r2"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
    node("Conv", ["p", "w3"], ["c3"], name="conv3", kernel_shape=[3, 3], strides=[2, 2],
         pads=[1, 1, 1, 1]),
    node("GlobalAveragePool", ["c3"], ["g"], name="gap"),
    node("Flatten", ["g"], ["f"], name="flatten"),
    node("Gemm", ["f", "wfc", "bfc"], ["y"], name="fc", transB=1),
], [zeros("w1", 16, 3, 3, 3), zeros("w2", 16, 16, 3, 3), zeros("s", 16), zeros("b", 16),
    zeros("m", 16), zeros("v", 16), zeros("w3", 32, 16, 3, 3), zeros("wfc", 10, 32),
    zeros("bfc", 10)], [1, 3, 32, 32], [1, 10])

# Self-attention on 6 tokens of 32 features, 4 heads of 8, as exporters write it: projections,
# head split (Reshape + Transpose), Q.K^T, scale, softmax, A.V, head merge, output projection,
# residual add, layer norm.
T, F, H, D = 6, 32, 4, 8
save("attn", [
    node("MatMul", ["x", "wq"], ["q"], name="attn/q_proj/MatMul"),
    node("MatMul", ["x", "wk"], ["k"], name="attn/k_proj/MatMul"),
    node("MatMul", ["x", "wv"], ["v"], name="attn/v_proj/MatMul"),
    node("Reshape", ["q", "split"], ["q4"], name="split_q"),
    node("Transpose", ["q4"], ["qh"], name="heads_q", perm=[0, 2, 1, 3]),
    node("Reshape", ["k", "split"], ["k4"], name="split_k"),
    node("Transpose", ["k4"], ["kt"], name="heads_kt", perm=[0, 2, 3, 1]),
    node("Reshape", ["v", "split"], ["v4"], name="split_v"),
    node("Transpose", ["v4"], ["vh"], name="heads_v", perm=[0, 2, 1, 3]),
    node("MatMul", ["qh", "kt"], ["s"], name="attn/scores"),
    node("Div", ["s", "sqrt_d"], ["s2"], name="attn/scale"),
    node("Softmax", ["s2"], ["p"], name="attn/softmax", axis=-1),
    node("MatMul", ["p", "vh"], ["c"], name="attn/context"),
    node("Transpose", ["c"], ["ct"], name="merge_t", perm=[0, 2, 1, 3]),
    node("Reshape", ["ct", "merge"], ["cm"], name="merge"),
    node("MatMul", ["cm", "wo"], ["o"], name="attn/out_proj/MatMul"),
    node("Add", ["o", "x"], ["r"], name="residual"),
    node("LayerNormalization", ["r", "g", "b"], ["y"], name="ln", axis=-1),
], [zeros("wq", F, F), zeros("wk", F, F), zeros("wv", F, F), zeros("wo", F, F), zeros("g", F),
    zeros("b", F), helper.make_tensor("sqrt_d", TP.FLOAT, [], [math.sqrt(D)]),
    helper.make_tensor("split", TP.INT64, [4], [1, T, H, D]),
    helper.make_tensor("merge", TP.INT64, [3], [1, T, F])], [1, T, F], [1, T, F], opset=17)

save("erf", [node("Relu", ["x"], ["r"], name="relu"), node("Erf", ["r"], ["y"], name="gelu/Erf")],
     [], [1, 16], [1, 16])
save("asym", [node("Conv", ["x", "w"], ["y"], name="convA", kernel_shape=[3, 3],
                   pads=[0, 0, 1, 1])], [zeros("w", 8, 4, 3, 3)], [1, 4, 9, 9], [1, 8, 8, 8])
EOF
    echo "test_onnx: building the test models failed"
    exit 1
fi

# The residual CNN, by hand: R = k*k*C_in, N = C_out, P = output pixels.
#   conv1 3x3x3 = 27 x 16, P = 32*32 = 1024;   conv2 3x3x16 = 144 x 16, P = 1024;
#   pool 2: 16x16x16;  conv3 144 x 32, P = ((16 + 2 - 3) / 2 + 1)^2 = 8*8 = 64;  fc 32 x 10, P = 1.
# Trained weights: 432 + 2304 + 4608 + 320 = 7664.
expect "convert rescnn" 0 '' -- "$py" "$conv" "$tmp/rescnn.onnx" -o "$tmp/rescnn.cfg"
cfg=$(cat "$tmp/rescnn.cfg" 2>/dev/null)
check "header names the model" grep -qE '^# Generated from rescnn\.onnx by scripts/onnx2xbarsim\.py' \
    <<<"$cfg"
check "header weights" grep -q '7664 trained weights' <<<"$cfg"
check "input 3x32x32" grep -q 'input = { channels = 3; height = 32; width = 32; };' <<<"$cfg"
check "bn folded, add reads conv2 and relu1" \
    grep -q '{ name = "add"; type = "add"; inputs = \["conv2", "relu1"\]; }' <<<"$cfg"
check "no bn layer" bash -c '! grep -q "name = \"bn2\"" "$1"' _ "$tmp/rescnn.cfg"
check "no temporary file left" bash -c '[ -z "$(ls -A "$1" | grep onnx2xbarsim)" ]' _ "$tmp"
check "stdout equals -o" bash -c 'diff -q <("$1" "$2" "$3/rescnn.onnx") "$3/rescnn.cfg" >/dev/null' \
    _ "$py" "$conv" "$tmp"

out=$("$bin" map "$arch" --net "$tmp/rescnn.cfg" 2>&1)
check "map rescnn exits 0" [ $? -eq 0 ]
expect "map conv1 27x16" 0 '^conv1 +conv2d +27x16 ' -- echo "$out"
expect "map conv2 144x16" 0 '^conv2 +conv2d +144x16 ' -- echo "$out"
expect "map conv3 144x32" 0 '^conv3 +conv2d +144x32 ' -- echo "$out"
expect "map fc 32x10" 0 '^fc +linear +32x10 ' -- echo "$out"
expect "map add present" 0 '^add +add ' -- echo "$out"
expect "map pool present" 0 '^pool +pool ' -- echo "$out"
expect "map gap present" 0 '^gap +pool ' -- echo "$out"
csv=$("$bin" map "$arch" --net "$tmp/rescnn.cfg" --csv 2>&1)
expect "csv conv1 P" 0 '^conv1,conv2d,27,16,1,1024,' -- echo "$csv"
expect "csv conv2 P" 0 '^conv2,conv2d,144,16,1,1024,' -- echo "$csv"
expect "csv conv3 P" 0 '^conv3,conv2d,144,32,1,64,' -- echo "$csv"
expect "csv fc P" 0 '^fc,linear,32,10,1,1,' -- echo "$csv"
check "csv 10 layers" [ "$(tail -n +2 <<<"$csv" | wc -l)" -eq 10 ]

# Attention, by hand: the projections are linear 32 x 32 on P = 6 tokens; Q.K^T stores K^T per
# head (rows = d = 8, cols = T = 6, repeat = 4 heads) and streams the 6 query rows; A.V stores V
# (rows = T = 6, cols = d = 8, repeat 4). The scale Div is folded.
expect "convert attn" 0 '' -- "$py" "$conv" "$tmp/attn.onnx" -o "$tmp/attn.cfg"
check "attn input tokens" grep -q 'input = { features = 32; tokens = 6; };' "$tmp/attn.cfg"
check "attn names sanitised" grep -q 'name = "attn.q_proj.MatMul"' "$tmp/attn.cfg"
check "attn residual reads the input" \
    grep -q 'inputs = \["attn.out_proj.MatMul", "input"\]' "$tmp/attn.cfg"
csv=$("$bin" map "$arch" --net "$tmp/attn.cfg" --csv 2>&1)
expect "attn q_proj" 0 '^attn\.q_proj\.MatMul,linear,32,32,1,6,' -- echo "$csv"
expect "attn scores" 0 '^attn\.scores,matmul,8,6,4,6,' -- echo "$csv"
expect "attn context" 0 '^attn\.context,matmul,6,8,4,6,' -- echo "$csv"
expect "attn out_proj" 0 '^attn\.out_proj\.MatMul,linear,32,32,1,6,' -- echo "$csv"
expect "attn softmax, add, layernorm" 0 '^ln,layernorm,' -- echo "$csv"

# Errors: bad input exits 2 (as xbarsim's commands) with the node named; -o is not created.
expect "unsupported op" 2 '^onnx2xbarsim: node gelu/Erf \(op Erf\) is not supported; supported: .*Conv' \
    -- "$py" "$conv" "$tmp/erf.onnx" -o "$tmp/erf.cfg"
check "no output on failure" [ ! -e "$tmp/erf.cfg" ]
expect "asymmetric padding" 2 '^onnx2xbarsim: node convA \(op Conv\): asymmetric padding' \
    -- "$py" "$conv" "$tmp/asym.onnx"
expect "missing file" 2 'nonexistent\.onnx: cannot read: No such file' \
    -- "$py" "$conv" "$tmp/nonexistent.onnx"
echo "not a model" >"$tmp/bad.onnx"
expect "not a model" 2 'bad\.onnx: not an ONNX model' -- "$py" "$conv" "$tmp/bad.onnx"
expect "help" 0 '^usage: onnx2xbarsim\.py' -- "$py" "$conv" --help

finish
