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


def const(name, values, dtype=TP.INT64, dims=None):
    values = list(values)
    return helper.make_tensor(name, dtype, [len(values)] if dims is None else dims, values)


# A transformer encoder layer as torch.onnx exports nn.TransformerEncoderLayer at opset 13:
# sequence-first input [T, 1, F]; the fused q/k/v projection cut by Slices whose bounds are
# computed from the tensor's shape (Shape -> Gather -> Add -> Div -> Mul); heads split by
# Reshape + Transpose; LayerNorm and GELU decomposed into their primitive ops.
T, F, H, D = 5, 16, 2, 8
third = [node("Shape", ["qkv"], ["shp"]), node("Gather", ["shp", "minus1"], ["last"], axis=0),
         node("Add", ["last", "zero"], ["last0"]), node("Div", ["last0", "three"], ["third"])]
bounds = [node("Mul", ["third", f"m{k}"], [f"b{k}"]) for k in (1, 2, 3)]
cuts = [node("Slice", ["qkv", "zero" if k == 0 else f"b{k}", f"b{k + 1}", "minus1"], [part],
             name=f"enc/self_attn/Slice_{part}") for k, part in enumerate("qkv")]
layernorm = [
    node("ReduceMean", ["res"], ["mu"], axes=[-1]), node("Sub", ["res", "mu"], ["xc"]),
    node("Pow", ["xc", "two"], ["sq"]), node("ReduceMean", ["sq"], ["var"], axes=[-1]),
    node("Add", ["var", "eps"], ["ve"]), node("Sqrt", ["ve"], ["sd"]),
    node("Div", ["xc", "sd"], ["xn"], name="enc/norm1/Div"), node("Mul", ["xn", "gamma"], ["xg"]),
    node("Add", ["xg", "beta"], ["ln"])]
gelu = [node("MatMul", ["ln", "w1"], ["h1"], name="enc/linear1/MatMul"),
        node("Div", ["h1", "sqrt2"], ["hd"]), node("Erf", ["hd"], ["he"]),
        node("Add", ["he", "one"], ["he1"]), node("Mul", ["h1", "he1"], ["hg"], name="enc/gelu"),
        node("Mul", ["hg", "half"], ["hh"]),
        node("MatMul", ["hh", "w2"], ["y"], name="enc/linear2/MatMul")]
save("enc", [
    node("MatMul", ["x", "wqkv"], ["qkv0"], name="enc/self_attn/in_proj"),
    node("Add", ["bqkv", "qkv0"], ["qkv"])] + third + bounds + cuts + [
    node("Reshape", ["q", "heads"], ["q3"]), node("Transpose", ["q3"], ["qh"], perm=[1, 0, 2]),
    node("Div", ["qh", "sqrt_d"], ["qs"]),
    node("Reshape", ["k", "heads"], ["k3"]), node("Transpose", ["k3"], ["kt"], perm=[1, 2, 0]),
    node("Reshape", ["v", "heads"], ["v3"]), node("Transpose", ["v3"], ["vh"], perm=[1, 0, 2]),
    node("MatMul", ["qs", "kt"], ["s"], name="enc/self_attn/scores"),
    node("Softmax", ["s"], ["p"], name="enc/self_attn/softmax", axis=-1),
    node("MatMul", ["p", "vh"], ["c"], name="enc/self_attn/context"),
    node("Transpose", ["c"], ["ct"], perm=[1, 0, 2]), node("Reshape", ["ct", "tokens"], ["cm"]),
    node("Gemm", ["cm", "wo", "bo"], ["o"], name="enc/self_attn/out_proj", transB=1),
    node("Reshape", ["o", "stream"], ["o3"]),
    node("Add", ["x", "o3"], ["res"], name="enc/residual")] + layernorm + gelu,
    [zeros("wqkv", F, 3 * F), zeros("bqkv", 3 * F), zeros("wo", F, F), zeros("bo", F),
     zeros("gamma", F), zeros("beta", F), zeros("w1", F, 2 * F), zeros("w2", 2 * F, F),
     const("minus1", [-1]), const("zero", [0]), const("three", [3]), const("m1", [1]),
     const("m2", [2]), const("m3", [3]), const("heads", [T, H, D]), const("tokens", [T, F]),
     const("stream", [T, 1, F]),
     const("sqrt_d", [math.sqrt(D)], TP.FLOAT, []), const("two", [2.0], TP.FLOAT, []),
     const("eps", [1e-5], TP.FLOAT, []), const("sqrt2", [math.sqrt(2)], TP.FLOAT, []),
     const("one", [1.0], TP.FLOAT, []), const("half", [0.5], TP.FLOAT, [])],
    [T, 1, F], [T, 1, F])

# Squeeze-and-excitation, SiLU, a channel concat, HardSwish and a channels-last linear (ConvNeXt's
# pointwise MatMul) on an 8 x 6 x 6 map, then a spatial ReduceMean and a classifier.
save("se", [
    node("Conv", ["x", "wc1"], ["c1"], name="conv1", kernel_shape=[1, 1]),
    node("Sigmoid", ["c1"], ["sg"], name="silu/sigmoid"),
    node("Mul", ["c1", "sg"], ["si"], name="silu/mul"),
    node("GlobalAveragePool", ["si"], ["g"], name="se/pool"),
    node("Conv", ["g", "wr"], ["r"], name="se/reduce", kernel_shape=[1, 1]),
    node("Relu", ["r"], ["rr"], name="se/relu"),
    node("Conv", ["rr", "we"], ["e"], name="se/expand", kernel_shape=[1, 1]),
    node("HardSigmoid", ["e"], ["hs"], name="se/gate"),
    node("Mul", ["si", "hs"], ["sc"], name="se/scale"),
    node("Concat", ["sc", "c1"], ["cat"], name="cat", axis=1),
    node("HardSwish", ["cat"], ["hw"], name="hswish"),
    node("Transpose", ["hw"], ["nhwc"], perm=[0, 2, 3, 1]),
    node("MatMul", ["nhwc", "wpw"], ["pw"], name="pointwise"),
    node("Transpose", ["pw"], ["nchw"], perm=[0, 3, 1, 2]),
    node("ReduceMean", ["nchw"], ["m"], name="mean", axes=[2, 3], keepdims=0),
    node("Gemm", ["m", "wfc"], ["y"], name="fc", transB=1),
], [zeros("wc1", 8, 8, 1, 1), zeros("wr", 4, 8, 1, 1), zeros("we", 8, 4, 1, 1),
    zeros("wpw", 16, 24), zeros("wfc", 10, 24)], [1, 8, 6, 6], [1, 10], opset=14)

# ViT's stem and head: patches -> tokens, the class token put first (a Concat of an expanded
# constant), the position embedding added, the class token taken back (Gather) -> head.
save("vit", [
    node("Conv", ["x", "wp"], ["pe"], name="patch", kernel_shape=[4, 4], strides=[4, 4]),
    node("Reshape", ["pe", "flat"], ["pf"]),
    node("Transpose", ["pf"], ["tok"], perm=[0, 2, 1], name="to_tokens"),
    node("Expand", ["cls", "cls_shape"], ["clsx"]),
    node("Concat", ["clsx", "tok"], ["seq"], name="prepend", axis=1),
    node("Add", ["seq", "pos"], ["seqp"]),
    node("Gather", ["seqp", "zero_s"], ["first"], name="class_token", axis=1),
    node("Gemm", ["first", "wh"], ["y"], name="head", transB=1),
], [zeros("wp", 12, 3, 4, 4), zeros("cls", 1, 1, 12), const("cls_shape", [1, 1, 12]),
    const("flat", [1, 12, 4]), zeros("pos", 1, 5, 12), const("zero_s", [0], dims=[]),
    zeros("wh", 10, 12)], [1, 3, 8, 8], [1, 10])

# torchvision's CNN plumbing on a 4 x 8 x 8 map: a ceil_mode MaxPool (GoogLeNet, SqueezeNet), a
# zero Pad before an AveragePool and before a Conv (AvgPool2d with count_include_pad), ShuffleNet's
# channel shuffle (Reshape-Transpose-Reshape) and its channel Split, DenseNet's Concat of one map
# and of more than 8, then a global pool and a classifier.
save("plumbing", [
    node("MaxPool", ["x"], ["m"], name="pool_ceil", kernel_shape=[3, 3], strides=[2, 2],
         ceil_mode=1),
    node("Pad", ["m", "pad1"], ["mp"], name="pad", mode="constant"),
    node("AveragePool", ["mp"], ["a"], name="avg", kernel_shape=[3, 3]),
    node("Pad", ["a", "pad1"], ["ap"], name="pad2"),
    node("Conv", ["ap", "wc"], ["c"], name="conv", kernel_shape=[3, 3]),
    node("Reshape", ["c", "groups5"], ["c5"]),
    node("Transpose", ["c5"], ["c5t"], perm=[0, 2, 1, 3, 4]),
    node("Reshape", ["c5t", "map4"], ["sh"], name="shuffle"),
    node("Split", ["sh", "halves"], ["s1", "s2"], name="split", axis=1),
    node("Concat", ["s1"], ["one"], name="cat_one", axis=1),
] + [node("Relu", ["s2"], [f"r{k}"], name=f"relu{k}") for k in range(9)] + [
    node("Concat", ["one"] + [f"r{k}" for k in range(9)], ["cat"], name="cat", axis=1),
    node("GlobalAveragePool", ["cat"], ["g"], name="gap"),
    node("Flatten", ["g"], ["f"], name="flatten"),
    node("Gemm", ["f", "wfc"], ["y"], name="fc", transB=1),
], [const("pad1", [0, 0, 1, 1, 0, 0, 1, 1]), zeros("wc", 8, 4, 3, 3),
    const("groups5", [1, 2, 4, 4, 4]), const("map4", [1, 8, 4, 4]), const("halves", [4, 4]),
    zeros("wfc", 10, 40)], [1, 4, 8, 8], [1, 10], opset=14)

save("erf", [node("Relu", ["x"], ["r"], name="relu"), node("Erf", ["r"], ["y"], name="gelu/Erf")],
     [], [1, 16], [1, 16])
save("padmax", [node("Pad", ["x", "pad1"], ["p"], name="pad"),
                 node("MaxPool", ["p"], ["y"], name="maxp", kernel_shape=[3, 3])],
     [const("pad1", [0, 0, 1, 1, 0, 0, 1, 1])], [1, 2, 4, 4], [1, 2, 4, 4])
save("tanh", [node("Tanh", ["x"], ["y"], name="act/Tanh")], [], [1, 16], [1, 16])
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

# The encoder layer, by hand: sequence-first [5, 1, 16] is 5 tokens of 16 features; in_proj is
# linear 16 x 48 on P = 5 tokens; the slice bounds are 48 / 3 x k = 0, 16, 32; 2 heads of 8:
# Q.K^T stores K^T (rows = d = 8, cols = T = 5, repeat 2), A.V stores V (rows = T = 5, cols = 8,
# repeat 2); out_proj linear 16 x 16; the decomposed LayerNorm is one layernorm of the residual
# add, the decomposed GELU one gelu of linear1 (16 x 32), then linear2 32 x 16.
# Trained weights: 768 + 256 + 512 + 512 = 2048; stored per inference 8 x 5 x 2 + 5 x 8 x 2 = 160.
expect "convert enc" 0 '' -- "$py" "$conv" "$tmp/enc.onnx" -o "$tmp/enc.cfg"
check "enc sequence-first input" grep -q 'input = { features = 16; tokens = 5; };' "$tmp/enc.cfg"
check "enc header batch axis 1" grep -q 'batch axis 1' "$tmp/enc.cfg"
check "enc header weights" grep -q '2048 trained weights, 160 written per inference' "$tmp/enc.cfg"
check "enc three slices" [ "$(grep -cE 'type = "slice"; inputs = \["enc.self_attn.in_proj"\]; axis = "features"; start = (0|16|32); count = 16;' "$tmp/enc.cfg")" -eq 3 ]
check "enc layernorm of the residual" \
    grep -q 'name = "enc.norm1.Div"; type = "layernorm"; inputs = \["enc.residual"\];' "$tmp/enc.cfg"
check "enc gelu of linear1" \
    grep -q 'name = "enc.gelu"; type = "gelu"; inputs = \["enc.linear1.MatMul"\];' "$tmp/enc.cfg"
csv=$("$bin" map "$arch" --net "$tmp/enc.cfg" --csv 2>&1)
expect "enc in_proj" 0 '^enc\.self_attn\.in_proj,linear,16,48,1,5,' -- echo "$csv"
expect "enc scores" 0 '^enc\.self_attn\.scores,matmul,8,5,2,5,' -- echo "$csv"
expect "enc context" 0 '^enc\.self_attn\.context,matmul,5,8,2,5,' -- echo "$csv"
expect "enc out_proj" 0 '^enc\.self_attn\.out_proj,linear,16,16,1,5,' -- echo "$csv"
expect "enc linear2" 0 '^enc\.linear2\.MatMul,linear,32,16,1,5,' -- echo "$csv"
check "enc 13 layers" [ "$(tail -n +2 <<<"$csv" | wc -l)" -eq 13 ]

# SE and friends, by hand: conv1 8 x 8 on P = 36; SiLU = sigmoid + mul; the SE gate's reduce
# 8 x 4 and expand 4 x 8 on P = 1; the scale is a mul of the SiLU by the gate; concat 8 + 8 = 16
# channels; the channels-last MatMul is a 1x1 conv 16 x 24 on P = 36; the spatial ReduceMean a
# global average pool; fc 24 x 10. Weights 64 + 32 + 32 + 384 + 240 = 752.
expect "convert se" 0 '' -- "$py" "$conv" "$tmp/se.onnx" -o "$tmp/se.cfg"
check "se header weights" grep -q '752 trained weights' "$tmp/se.cfg"
check "se scale reads the SiLU and the gate" \
    grep -q 'name = "se.scale"; type = "mul"; inputs = \["silu.mul", "se.gate"\];' "$tmp/se.cfg"
check "se concat" grep -q 'name = "cat"; type = "concat"; inputs = \["se.scale", "conv1"\];' \
    "$tmp/se.cfg"
csv=$("$bin" map "$arch" --net "$tmp/se.cfg" --csv 2>&1)
expect "se conv1" 0 '^conv1,conv2d,8,8,1,36,' -- echo "$csv"
expect "se reduce" 0 '^se\.reduce,conv2d,8,4,1,1,' -- echo "$csv"
expect "se pointwise as 1x1 conv" 0 '^pointwise,conv2d,16,24,1,36,' -- echo "$csv"
expect "se mean is a pool" 0 '^mean,pool,' -- echo "$csv"
expect "se fc" 0 '^fc,linear,24,10,1,1,' -- echo "$csv"
for k in sigmoid hardsigmoid hardswish mul concat; do
    expect "se has $k" 0 ",$k," -- echo "$csv"
done

# ViT's stem and head, by hand: 4 x 4 patches of 8 x 8 give 4 tokens of 12; the class token makes
# 5 (tokens prepend = 1), the head reads token 0 (a tokens slice of 1): linear 12 x 10 on P = 1.
expect "convert vit" 0 '' -- "$py" "$conv" "$tmp/vit.onnx" -o "$tmp/vit.cfg"
check "vit class token prepended" \
    grep -q 'type = "tokens"; inputs = \["patch"\]; prepend = 1;' "$tmp/vit.cfg"
check "vit class token taken" grep -q 'type = "slice"; inputs = \["to_tokens"\]; axis = "tokens"; start = 0; count = 1;' "$tmp/vit.cfg"
csv=$("$bin" map "$arch" --net "$tmp/vit.cfg" --csv 2>&1)
expect "vit patch" 0 '^patch,conv2d,48,12,1,4,' -- echo "$csv"
expect "vit head" 0 '^head,linear,12,10,1,1,' -- echo "$csv"

# The plumbing, by hand. pool_ceil: (8 - 3) / 2 = 2.5 rounds up to 3, + 1 = 4 (the last window
# starts at 3 * 2 = 6 < 8, inside the input; floor would give 3): 4x4x4. pad + avg: an average
# pool of kernel 3 with padding 1, (4 + 2 - 3) / 1 + 1 = 4: 4x4x4. pad2 + conv: padding 1,
# R = 3*3*4 = 36, N = 8, P = 4*4 = 16 (without the Pad's 1 it would be 2*2 = 4). The shuffle is a
# view; split cuts features 0..3 and 4..7 of conv; cat_one is s1 itself; cat's 10 inputs of 4
# channels become two concats of 5 (20 channels each) and a concat of those two (40 channels):
# fc R = 40, N = 10. Weights 288 + 400 = 688.
expect "convert plumbing" 0 '' -- "$py" "$conv" "$tmp/plumbing.onnx" -o "$tmp/plumbing.cfg"
cfg=$(cat "$tmp/plumbing.cfg" 2>/dev/null)
check "plumbing header weights" grep -q '688 trained weights' <<<"$cfg"
check "plumbing ceil_mode pool" grep -q 'name = "pool_ceil"; type = "pool"; inputs = \["input"\]; mode = "max"; kernel = 3; stride = 2; ceil_mode = true;' <<<"$cfg"
check "plumbing Pad into the avg pool" grep -q 'name = "avg"; type = "pool"; inputs = \["pool_ceil"\]; mode = "avg"; kernel = 3; stride = 1; padding = 1; }' <<<"$cfg"
check "plumbing Pad into the conv" grep -q 'name = "conv"; type = "conv2d"; inputs = \["avg"\]; in_channels = 4; out_channels = 8; kernel = 3; padding = 1; }' <<<"$cfg"
check "plumbing split after the shuffle" [ "$(grep -cE 'type = "slice"; inputs = \["conv"\]; axis = "features"; start = (0|4); count = 4;' <<<"$cfg")" -eq 2 ]
check "plumbing concat of one is a view" grep -q 'name = "cat"; type = "concat"; inputs = \["split", "relu0", "relu1", "relu2", "relu3"\]; }' <<<"$cfg"
check "plumbing concat of 10 as a tree" grep -q 'name = "cat_3"; type = "concat"; inputs = \["cat", "cat_2"\]; }' <<<"$cfg"
csv=$("$bin" map "$arch" --net "$tmp/plumbing.cfg" --csv 2>&1)
expect "plumbing conv" 0 '^conv,conv2d,36,8,1,16,' -- echo "$csv"
expect "plumbing fc" 0 '^fc,linear,40,10,1,1,' -- echo "$csv"
check "plumbing 20 layers" [ "$(tail -n +2 <<<"$csv" | wc -l)" -eq 20 ]
# Errors: bad input exits 2 (as xbarsim's commands) with the node named; -o is not created.
expect "unsupported op" 2 '^onnx2xbarsim: node act/Tanh \(op Tanh\) is not supported; supported: .*Conv' \
    -- "$py" "$conv" "$tmp/tanh.onnx" -o "$tmp/tanh.cfg"
check "no output on failure" [ ! -e "$tmp/tanh.cfg" ]
expect "erf outside GELU" 2 'graph output y is erf\(relu\), a step of a decomposed operator that never completes' \
    -- "$py" "$conv" "$tmp/erf.onnx" -o "$tmp/erf.cfg"
expect "zero Pad before a MaxPool" 2 '^onnx2xbarsim: node maxp \(op MaxPool\): MaxPool of zero-padded input' \
    -- "$py" "$conv" "$tmp/padmax.onnx"
expect "asymmetric padding" 2 '^onnx2xbarsim: node convA \(op Conv\): asymmetric padding' \
    -- "$py" "$conv" "$tmp/asym.onnx"
expect "missing file" 2 'nonexistent\.onnx: cannot read: No such file' \
    -- "$py" "$conv" "$tmp/nonexistent.onnx"
echo "not a model" >"$tmp/bad.onnx"
expect "not a model" 2 'bad\.onnx: not an ONNX model' -- "$py" "$conv" "$tmp/bad.onnx"
expect "help" 0 '^usage: onnx2xbarsim\.py' -- "$py" "$conv" --help

finish
