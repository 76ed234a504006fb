#!/usr/bin/env bash
# test_onnx_torch: real PyTorch exports through scripts/onnx2xbarsim.py -- nn.TransformerEncoder
# (2 layers, d_model 256, 4 heads, batch_first on and off, opsets 13 and 17) and torchvision's
# resnet50, mobilenet_v3_small, efficientnet_b0, vit_b_16 and convnext_tiny (opset 14). Each
# converted network's crossbar weights, as `xbarsim map --json` counts them (rows x cols x repeat
# of its conv2d and linear layers), must equal the weights PyTorch holds in its Conv2d, Linear and
# MultiheadAttention modules. Usage: test_onnx_torch.sh XBARSIM_BINARY SOURCE_DIR.
# Exit 77 (skipped) when no python3 imports torch, torchvision and onnx (Debian's python3-torch,
# python3-torchvision and python3-onnx, which scripts/bootstrap.sh installs).
set -u
bin=$1
src=$2
conv="$src/scripts/onnx2xbarsim.py"

py=""
for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c "import onnx, torch, torchvision" 2>/dev/null; then
        py=$candidate
        break
    fi
done
if [ -z "$py" ]; then
    echo "test_onnx_torch: skipped: python3 cannot import onnx, torch and torchvision"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"

# Export every model and write "NAME EXPECTED_WEIGHTS" lines. Weights are random (no download):
# only shapes matter. Parameters of 2 or more dimensions that are not crossbar weights are listed
# on stderr: ViT's class token and position embedding (added, not multiplied) and ConvNeXt's layer
# scale (a per-channel product), so the difference from PyTorch's own count is visible.
if ! "$py" - "$tmp" >"$tmp/expected.txt" 2>"$tmp/export.log" <<'PYEOF'; then
import sys
import warnings

import torch
import torchvision

warnings.filterwarnings("ignore")
out = sys.argv[1]
torch.manual_seed(0)


def crossbar_weights(model):
    total = 0
    for mod in model.modules():
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
            total += mod.weight.numel()
        elif isinstance(mod, torch.nn.MultiheadAttention):
            total += mod.in_proj_weight.numel()  # out_proj is a Linear, counted above
    return total


def report(name, model):
    counted = {id(m.weight) for m in model.modules()
               if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))}
    counted |= {id(m.in_proj_weight) for m in model.modules()
                if isinstance(m, torch.nn.MultiheadAttention)}
    other = sum(p.numel() for n, p in model.named_parameters()
                if p.dim() >= 2 and id(p) not in counted)
    print(f"{name}: parameters of 2+ dimensions that are not crossbar weights: {other}",
          file=sys.stderr)
    print(name, crossbar_weights(model))


# Gradients stay on: under no_grad, nn.TransformerEncoderLayer takes its fused fast path, which
# torch.onnx cannot export.
for batch_first in (True, False):
    for opset in (13, 17):
        layer = torch.nn.TransformerEncoderLayer(d_model=256, nhead=4,
                                                 batch_first=batch_first)
        model = torch.nn.TransformerEncoder(layer, num_layers=2,
                                            enable_nested_tensor=False).eval()
        x = torch.randn(1, 10, 256) if batch_first else torch.randn(10, 1, 256)
        name = f"encoder_bf{int(batch_first)}_op{opset}"
        torch.onnx.export(model, x, f"{out}/{name}.onnx", opset_version=opset)
        report(name, model)
for name in ("resnet50", "mobilenet_v3_small", "efficientnet_b0", "vit_b_16",
             "convnext_tiny"):
    model = getattr(torchvision.models, name)(weights=None).eval()
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), f"{out}/{name}.onnx",
                      opset_version=14)
    report(name, model)
PYEOF
    cat "$tmp/export.log"
    echo "test_onnx_torch: exporting the models failed"
    exit 1
fi
grep 'not crossbar weights' "$tmp/export.log"

# reprogram mode (cimaq) maps a network of any size: the counts do not depend on the chip.
while read -r name expected; do
    expect "convert $name" 0 '' -- "$py" "$conv" "$tmp/$name.onnx" -o "$tmp/$name.cfg"
    got=$("$bin" map cimaq --net "$tmp/$name.cfg" --json 2>&1 | "$py" -c '
import json, sys
d = json.load(sys.stdin)
print(sum(l["rows"] * l["cols"] * l["repeat"] for l in d["layers"]
          if l["kind"] in ("conv2d", "linear")))' 2>&1)
    check "$name: crossbar weights $got = PyTorch's $expected" [ "$got" = "$expected" ]
done <"$tmp/expected.txt"
check "nine models" [ "$(wc -l <"$tmp/expected.txt")" -eq 9 ]

finish
