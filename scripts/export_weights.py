#!/usr/bin/python3
"""Write a PyTorch model's weights as an xbarsim weights file (traces/README.md, "Weights files").

    scripts/export_weights.py --net NAME|FILE.cfg --state STATE.pt -o OUT.h5
                              [--map TORCH_PREFIX=LAYER]... [--accuracy FRACTION]

STATE.pt is a state_dict saved with torch.save (or a whole model, whose state_dict is taken).
The network (a built-in name from configs/net/ or a file) names its crossbar layers (conv2d,
linear); each takes the parameters `<prefix>.weight` and `<prefix>.bias` of the state_dict, where
the prefix is the layer's own name unless --map TORCH_PREFIX=LAYER says otherwise. So a module
whose submodules carry the xbarsim names needs no map: for lenet5, attributes c1, c3, c5 (Conv2d),
f6, output (Linear); for mlp-fmnist fc1, fc2, fc3 (Linear); an nn.Sequential's "0", "3", ... are
mapped with --map 0=c1 --map 3=c3 and so on. Shapes are PyTorch's (out x in x kh x kw for Conv2d,
out x in for Linear) and must match the network's; a layer without bias gets zeros. The file is
written under a temporary name and renamed when complete.

As a module: export(state_dict, net_path, out_path, mapping=None, accuracy=-1.0). Needs h5py and
numpy (Debian python3-h5py); torch only to read STATE.pt.
"""

import argparse
import os
import re
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORMAT = "xbarsim-weights"
FORMAT_VERSION = 1


def _value(fields, key):
    m = re.search(r"\b%s\s*=\s*(\[[^\]]*\]|\"[^\"]*\"|[0-9]+)" % key, fields)
    if not m:
        return None
    v = m.group(1)
    if v.startswith('"'):
        return v[1:-1]
    if v.startswith("["):
        return [int(x) for x in v[1:-1].split(",")]
    return int(v)


def crossbar_layers(net_path):
    """(network name, [(layer name, expected weight shape)]) of the crossbar layers of a config
    written one layer per line (as configs/net/ and onnx2xbarsim.py write them). Channels come
    from in_channels / in_features when given, else are tracked from the input and earlier
    layers."""
    text = open(net_path).read()
    name = re.search(r"network\s*=\s*\{\s*name\s*=\s*\"([^\"]+)\"", text).group(1)
    inp = re.search(r"input\s*=\s*\{([^}]*)\}", text).group(1)
    chans = _value(inp, "channels") or _value(inp, "features")
    layers, current = [], chans
    for line in text.splitlines():
        m = re.search(r"\{\s*name\s*=\s*\"([^\"]+)\";\s*type\s*=\s*\"([a-z_0-9]+)\";(.*)\}", line)
        if not m:
            continue
        lname, typ, fields = m.group(1), m.group(2), m.group(3)
        if typ == "conv2d":
            k = _value(fields, "kernel")
            kh, kw = (k, k) if isinstance(k, int) else k
            cin = _value(fields, "in_channels") or current
            groups = _value(fields, "groups") or 1
            cout = _value(fields, "out_channels")
            layers.append((lname, (cout, cin // groups, kh, kw)))
            current = cout
        elif typ == "linear":
            fin = _value(fields, "in_features") or current
            fout = _value(fields, "out_features")
            layers.append((lname, (fout, fin)))
            current = fout
        elif typ == "flatten":
            current = None  # the linear after it gives in_features (the generators write them)
        elif typ == "matmul":
            raise SystemExit(f"export_weights: {net_path}: layer {lname}: matmul layers have no "
                             "trained weights in this format")
    return name, layers


def _numpy(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def export(state_dict, net_path, out_path, mapping=None, accuracy=-1.0):
    """Write state_dict's crossbar-layer parameters for the network at net_path to out_path."""
    name, layers = crossbar_layers(net_path)
    prefix_of = {layer: layer for layer, _ in layers}
    for torch_prefix, layer in (mapping or {}).items():
        if layer not in prefix_of:
            raise SystemExit(f"export_weights: --map {torch_prefix}={layer}: {net_path} has no "
                             f"crossbar layer {layer} (it has {', '.join(prefix_of)})")
        prefix_of[layer] = torch_prefix
    tmp = out_path + ".tmp.%d" % os.getpid()
    try:
        with h5py.File(tmp, "w") as f:
            meta = f.create_group("meta")
            meta.attrs["format"] = FORMAT
            meta.attrs["format_version"] = np.uint64(FORMAT_VERSION)
            meta.attrs["network"] = name
            meta.attrs["source"] = "scripts/export_weights.py"
            meta.attrs["test_accuracy"] = np.float64(accuracy)
            for layer, shape in layers:
                key = prefix_of[layer] + ".weight"
                if key not in state_dict:
                    raise SystemExit(f"export_weights: state_dict: found no {key}, expected the "
                                     f"weight of layer {layer} (shape {shape}); use --map")
                w = _numpy(state_dict[key]).astype(np.float32)
                if tuple(w.shape) != tuple(shape):
                    raise SystemExit(f"export_weights: state_dict: {key}: found shape "
                                     f"{tuple(w.shape)}, expected {tuple(shape)} (layer {layer})")
                bkey = prefix_of[layer] + ".bias"
                b = (_numpy(state_dict[bkey]).astype(np.float32) if bkey in state_dict
                     else np.zeros(shape[0], np.float32))
                if b.shape != (shape[0],):
                    raise SystemExit(f"export_weights: state_dict: {bkey}: found shape "
                                     f"{b.shape}, expected ({shape[0]},)")
                g = f.create_group(f"layers/{layer}")
                g.create_dataset("weight", data=w).attrs["units"] = "-"
                g.create_dataset("bias", data=b).attrs["units"] = "-"
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--net", required=True, help="built-in network name or a .cfg file")
    ap.add_argument("--state", required=True, help="state_dict (or model) saved by torch.save")
    ap.add_argument("-o", dest="out", required=True, help="weights file to write (.h5)")
    ap.add_argument("--map", action="append", default=[], metavar="TORCH_PREFIX=LAYER")
    ap.add_argument("--accuracy", type=float, default=-1.0,
                    help="test accuracy to record in /meta, fraction (default -1: unknown)")
    a = ap.parse_args()
    net = a.net if os.path.exists(a.net) else os.path.join(ROOT, "configs", "net", a.net + ".cfg")
    if not os.path.exists(net):
        raise SystemExit(f"export_weights: --net {a.net}: found no file {net}")
    mapping = {}
    for m in a.map:
        if "=" not in m:
            raise SystemExit(f"export_weights: --map {m}: expected TORCH_PREFIX=LAYER")
        k, v = m.split("=", 1)
        mapping[k] = v
    import torch  # only here: the module itself needs no torch
    state = torch.load(a.state, map_location="cpu")
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    export(state, net, a.out, mapping, a.accuracy)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    sys.exit(main())
