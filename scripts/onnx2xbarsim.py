#!/usr/bin/python3
"""Convert an ONNX model to an xbarsim network config (a libconfig `network` group).

    scripts/onnx2xbarsim.py MODEL.onnx [-o OUT.cfg] [--name NAME]

The config goes to stdout, or to OUT.cfg (written under a temporary name and renamed when
complete). Needs Debian's python3-onnx (1.12), hence the system interpreter /usr/bin/python3;
otherwise the Python 3 standard library only.

Shapes come from onnx.shape_inference. The network input is the graph's one non-initializer input
with its first (batch) dimension dropped: [N, C, H, W] is a feature map, [N, F] a vector of F
features, [N, T, F] a stream of T tokens of F features. Inside the graph a leading dimension equal
to the input's batch dimension is dropped the same way, so [T, F] and [N, T, F] are both T tokens.

Each node on the data path (fed, directly or not, by the network input) becomes a layer named
after the node (sanitised to 1..64 characters A-Z a-z 0-9 _ - . +; "/" becomes "."; made unique)
whose `inputs` name its producers, so branches and residual adds come through:

    Conv                        conv2d (kernel_shape, strides, symmetric pads or auto_pad, group)
    Gemm, MatMul by a constant  linear (the constant is the weight; Gemm's transB is honoured)
    MatMul of two activations   matmul: the second operand B [..., K, N] is stored (written into
                                crossbars every inference), the M rows of A [..., M, K] stream
                                through it: rows = K, cols = N, invocations = M, repeat = the
                                product of the other non-batch dimensions (attention heads).
                                A's producer must give rows * repeat features x M tokens.
    MaxPool, AveragePool        pool max / avg (kernel_shape, strides, symmetric pads)
    GlobalAveragePool           pool global_avg;  GlobalMaxPool: pool max over the whole map
    Add, Sum of activations     add
    Relu; Clip(0, 6); Clip(0)   relu; relu6; relu
    Softmax, LayerNormalization softmax, layernorm
    Flatten, Reshape to [N, F]  flatten
    Reshape, Transpose, Squeeze, Unsqueeze (other shapes)
                                views, no layer -- except that turning a C x H x W map into H*W
                                tokens of C features gives a `tokens` layer; a consumer that
                                cannot read the view as its producer's shape is an error.

Folded away (no layer): BatchNormalization (folded into the preceding convolution: it costs no
crossbar), Identity, Dropout, and Add/Sub/Mul/Div by a constant (a bias or a scale). Nodes that
compute only on constants and shapes (Shape, Gather, Concat of shape vectors, ...) are skipped.
Any other node on the data path is an error (exit status 2, bad input), as is an unreadable model;
exit status 1 when the output cannot be written or python3-onnx is missing.
"""

import argparse
import collections
import math
import os
import re
import sys
import tempfile

try:
    import onnx
    from onnx import numpy_helper, shape_inference
except ImportError:  # reported by main(), after --help has had its chance
    onnx = None

PROG = "onnx2xbarsim"
MAX_NAME = 64  # characters of a layer name (mapper/network.c)

Tensor = collections.namedtuple("Tensor", "src shape")
Tensor.__doc__ = """An activation: the layer that produces it ("input" for the network input) and
that layer's xbarsim output shape (channels, height, width); views share both."""


class ConvertError(Exception):
    """A model this script cannot convert; the message says why."""


# ---- small helpers --------------------------------------------------------------------------


def prod(values):
    result = 1
    for v in values:
        result *= v
    return result


def canonical(shape):
    """The xbarsim (channels, height, width) an ONNX shape (batch dropped) reads as, or None."""
    if len(shape) == 1:
        return (shape[0], 1, 1)
    if len(shape) == 2:
        return (shape[1], shape[0], 1)
    if len(shape) == 3:
        return tuple(shape)
    return None


def shape_str(shape):
    return "x".join(str(d) for d in shape)


def node_label(node, index):
    return f"node {node.name or '#' + str(index)} (op {node.op_type})"


def attribute(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def decode(value):
    return value.decode() if isinstance(value, bytes) else value


def sanitise(raw):
    """A layer name the schema accepts: '/' and '::' become '.', other characters '_'."""
    name = raw.replace("::", ".").replace("/", ".")
    name = re.sub(r"[^A-Za-z0-9_.+-]", "_", name)
    name = re.sub(r"\.{2,}", ".", name).strip(".")
    return name[-MAX_NAME:].lstrip(".")


# ---- the converter --------------------------------------------------------------------------


class Converter:
    """Walks the nodes of one model in order (ONNX graphs are topologically sorted) and collects
    the layers. acts maps each activation tensor name to its Tensor."""

    def __init__(self, model, origin):
        self.model = model
        self.origin = origin
        self.graph = model.graph
        self.shapes = {}
        self.elem_types = {}
        self.consts = {}
        self.acts = {}
        self.layers = []
        self.names = {"input"}
        self.folded = collections.Counter()
        self.index = 0
        self.batch = None
        self.input_text = ""
        self.input_desc = ""

    # -- setup --

    def collect_shapes(self):
        """ONNX's inferred shapes. onnx 1.12 cannot follow a Reshape whose target is computed
        (Shape -> Gather -> Concat, PyTorch's x.view(x.size(0), -1)): a 2-element target of
        unknown value is taken as [N, -1] and inference rerun, so later nodes get shapes too."""
        hinted = set()
        while True:
            self.infer()
            hint = self.flatten_hint(hinted)
            if hint is None:
                break
            hinted.add(hint.name)
            self.model.graph.value_info.append(hint)
        for init in self.graph.initializer:
            self.shapes[init.name] = tuple(init.dims)
            self.consts[init.name] = init

    def infer(self):
        try:
            inferred = shape_inference.infer_shapes(self.model, data_prop=True)
        except Exception as exc:  # onnx raises several unrelated types for bad graphs
            raise ConvertError(f"{self.origin}: ONNX shape inference failed: {exc}") from exc
        g = inferred.graph
        for info in list(g.input) + list(g.value_info) + list(g.output):
            t = info.type.tensor_type
            self.elem_types[info.name] = t.elem_type
            if t.HasField("shape"):
                self.shapes[info.name] = tuple(d.dim_value if d.HasField("dim_value") else
                                               (d.dim_param or None) for d in t.shape.dim)

    def flatten_hint(self, hinted):
        """A value_info giving [N, -1] to the first Reshape of unknown output that needs one."""
        for node in self.graph.node:
            if node.op_type != "Reshape" or node.output[0] in self.shapes or \
                    node.output[0] in hinted or len(node.input) < 2:
                continue
            data = self.shapes.get(node.input[0])
            if self.shapes.get(node.input[1]) == (2,) and data and \
                    all(isinstance(d, int) for d in data[1:]):
                return onnx.helper.make_tensor_value_info(
                    node.output[0], self.elem_types.get(node.input[0], onnx.TensorProto.FLOAT),
                    [data[0], prod(data[1:])])
        return None

    def collect_constants(self):
        for node in self.graph.node:
            if node.op_type != "Constant" or not node.output:
                continue
            value = attribute(node, "value")
            if value is None and attribute(node, "value_float") is not None:
                value = onnx.helper.make_tensor(node.output[0], onnx.TensorProto.FLOAT, [],
                                                [attribute(node, "value_float")])
            if value is None and attribute(node, "value_int") is not None:
                value = onnx.helper.make_tensor(node.output[0], onnx.TensorProto.INT64, [],
                                                [attribute(node, "value_int")])
            if value is not None:
                self.consts[node.output[0]] = value
                self.shapes.setdefault(node.output[0], tuple(value.dims))

    def set_input(self):
        inits = {i.name for i in self.graph.initializer}
        inputs = [i for i in self.graph.input if i.name not in inits]
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs) or "none"
            raise ConvertError(f"{self.origin}: found {len(inputs)} graph inputs ({names}), "
                               "expected exactly one (the network input)")
        name = inputs[0].name
        full = self.shapes.get(name)
        if not full or len(full) not in (2, 3, 4):
            raise ConvertError(f"{self.origin}: graph input {name} has shape "
                               f"{list(full) if full else 'unknown'}, expected [N, C, H, W], "
                               "[N, F] or [N, T, F]")
        self.batch = full[0]
        dims = self.concrete(full[1:], f"graph input {name}")
        if len(dims) == 3:
            self.input_text = f"channels = {dims[0]}; height = {dims[1]}; width = {dims[2]};"
        elif len(dims) == 2:
            self.input_text = f"features = {dims[1]}; tokens = {dims[0]};"
        else:
            self.input_text = f"features = {dims[0]};"
        self.input_desc = f"graph input {name} {list(full)}"
        self.acts[name] = Tensor("input", canonical(dims))

    # -- shapes and constants --

    def concrete(self, dims, what):
        if any(not isinstance(d, int) or d <= 0 for d in dims):
            raise ConvertError(f"{self.origin}: {what} has shape {list(dims)} with a symbolic or "
                               "unknown dimension; export the model with fixed shapes (only "
                               "the batch dimension may be symbolic)")
        return tuple(dims)

    def shape(self, name, node):
        """The ONNX shape of tensor name, batch dimension dropped."""
        full = self.shapes.get(name)
        if full is None:
            raise ConvertError(f"{self.label(node)}: ONNX shape inference gave no shape for "
                               f"tensor {name}; export the model with fixed shapes")
        if full and full[0] == self.batch:
            full = full[1:]
        return self.concrete(full, f"{self.label(node)}: tensor {name}")

    def const_value(self, name):
        """The values of a constant tensor as a list of floats, or None."""
        t = self.consts.get(name)
        return None if t is None else [float(v) for v in numpy_helper.to_array(t).flatten()]

    def label(self, node):
        return node_label(node, self.index)

    # -- layers --

    def unique(self, node):
        base = sanitise(node.name) or f"{node.op_type.lower()}{self.index}"
        name, k = base, 2
        while name in self.names:
            suffix = f"_{k}"
            name, k = base[:MAX_NAME - len(suffix)] + suffix, k + 1
        self.names.add(name)
        return name

    def emit(self, node, kind, srcs, shape, **params):
        """Add a layer of kind reading srcs (Tensors); its output is node.output[0]."""
        name = self.unique(node)
        self.layers.append((name, kind, [t.src for t in srcs], params))
        self.acts[node.output[0]] = Tensor(name, tuple(shape))
        return name

    def alias(self, node, t, why=None):
        for out in node.output[:1]:
            self.acts[out] = t
        if why:
            self.folded[why] += 1

    def weights(self):
        """(trained weights, weights written per inference) of the crossbar layers, counts."""
        trained = dynamic = 0
        for _, kind, _, p in self.layers:
            if kind == "conv2d":
                kh, kw = kernel_pair(p)
                trained += kh * kw * p["in_channels"] // p.get("groups", 1) * p["out_channels"]
            elif kind == "linear":
                trained += p["in_features"] * p["out_features"]
            elif kind == "matmul":
                dynamic += p["rows"] * p["cols"] * p["repeat"]
        return trained, dynamic

    # -- the walk --

    def convert(self):
        self.collect_shapes()
        self.collect_constants()
        self.set_input()
        for self.index, node in enumerate(self.graph.node):
            self.visit(node)
        if not self.layers:
            raise ConvertError(f"{self.origin}: no layers: no supported node reads the network "
                               "input")

    def visit(self, node):
        srcs = [self.acts[i] for i in node.input if i in self.acts]
        if not srcs or node.op_type in ("Shape", "Size"):
            return  # computes on constants or shapes only
        handler = HANDLERS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        if handler is None:
            op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            raise ConvertError(f"node {node.name or '#' + str(self.index)} (op {op}) is not "
                               f"supported; supported: {', '.join(sorted(HANDLERS))}")
        handler(self, node, srcs)

    # -- checks shared by handlers --

    def need(self, node, ok, what):
        if not ok:
            raise ConvertError(f"{self.label(node)}: {what}")

    def expect_layout(self, node, t, name, want_rank=None):
        """The ONNX shape of input `name` must read as its producer's xbarsim shape."""
        dims = self.shape(name, node)
        self.need(node, want_rank is None or len(dims) in want_rank,
                  f"input {name} has shape {shape_str(dims)}, expected rank "
                  f"{' or '.join(str(r + 1) for r in want_rank or ())} with the batch dimension")
        self.need(node, canonical(dims) == t.shape,
                  f"input {name} ({shape_str(dims)}) is a view of {t.src} "
                  f"({shape_str(t.shape)}) that xbarsim cannot follow")
        return dims

    def expect_out(self, node, shape):
        """Our derived output shape must match ONNX's (catches ceil_mode, odd auto_pad)."""
        if node.output[0] not in self.shapes:
            return
        got = canonical(self.shape(node.output[0], node))
        self.need(node, got is None or got == tuple(shape),
                  f"ONNX gives an output of {shape_str(got or ())}, but xbarsim (floor "
                  f"rounding, symmetric padding) derives {shape_str(shape)}")


# ---- window geometry ------------------------------------------------------------------------


def kernel_pair(p):
    k = p["kernel"]
    return k if isinstance(k, tuple) else (k, k)


def pair(values):
    """(h, w) as one integer when equal, as the schema allows."""
    return values[0] if values[0] == values[1] else tuple(values)


def window(cv, node, in_hw, kernel):
    """(strides, pads) of a 2-D Conv or pool node: symmetric pads only, no dilation."""
    cv.need(node, len(kernel) == 2, f"kernel {list(kernel)} is not 2-D; only 2-D windows "
            "are supported")
    dilations = list(attribute(node, "dilations", [1, 1]))
    cv.need(node, dilations == [1, 1], f"dilations {dilations} are not supported (expected 1)")
    strides = tuple(attribute(node, "strides", [1, 1]))
    auto = decode(attribute(node, "auto_pad", "NOTSET"))
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        total = [max((math.ceil(i / s) - 1) * s + k - i, 0)
                 for i, s, k in zip(in_hw, strides, kernel)]
        pads = [t // 2 for t in total] + [t - t // 2 for t in total]
    elif auto == "VALID":
        pads = [0, 0, 0, 0]
    else:
        pads = list(attribute(node, "pads", [0, 0, 0, 0]))
    cv.need(node, pads[:2] == pads[2:],
            f"asymmetric padding pads = {pads} (begin {pads[:2]} != end {pads[2:]}); xbarsim "
            "pads both sides of a dimension equally")
    return strides, tuple(pads[:2])


def window_out(in_hw, kernel, strides, pads):
    return tuple((i + 2 * p - k) // s + 1 for i, k, s, p in zip(in_hw, kernel, strides, pads))


# ---- handlers: one per op; each reads node, srcs (its activation inputs, in order) ----------


def conv(cv, node, srcs):
    x = srcs[0]
    cv.need(node, node.input[0] in cv.acts and node.input[1] not in cv.acts,
            "expected an activation input and a constant weight")
    c, h, w = cv.expect_layout(node, x, node.input[0], (3,))
    wdims = cv.shape(node.input[1], node)
    kernel = tuple(attribute(node, "kernel_shape", wdims[2:]))
    groups = attribute(node, "group", 1)
    strides, pads = window(cv, node, (h, w), kernel)
    cv.need(node, len(wdims) == 4 and wdims[1] * groups == c,
            f"weight {shape_str(wdims)} does not fit {c} input channels in {groups} groups")
    out = (wdims[0],) + window_out((h, w), kernel, strides, pads)
    cv.expect_out(node, out)
    params = {"in_channels": c, "out_channels": wdims[0], "kernel": pair(kernel)}
    if strides != (1, 1):
        params["stride"] = pair(strides)
    if pads != (0, 0):
        params["padding"] = pair(pads)
    if groups != 1:
        params["groups"] = groups
    cv.emit(node, "conv2d", [x], out, **params)


def linear(cv, node, x, k, n):
    """A linear layer of k -> n features on x (a stream of k features)."""
    cv.need(node, x.shape[2] == 1 and x.shape[0] == k,
            f"input from {x.src} ({shape_str(x.shape)}) is not a stream of {k} features "
            "(features x tokens x 1); flatten it first")
    cv.emit(node, "linear", [x], (n, x.shape[1], 1), in_features=k, out_features=n)


def gemm(cv, node, srcs):
    cv.need(node, len(srcs) == 1 and node.input[0] in cv.acts,
            "expected an activation A and a constant weight B")
    cv.need(node, not attribute(node, "transA", 0), "transA = 1 is not supported")
    cv.expect_layout(node, srcs[0], node.input[0], (1,))
    b = cv.shape(node.input[1], node)
    cv.need(node, len(b) == 2, f"weight B {shape_str(b)} is not 2-D")
    n, k = b if attribute(node, "transB", 0) else reversed(b)
    linear(cv, node, srcs[0], k, n)


def matmul(cv, node, srcs):
    if len(srcs) == 2:
        return matmul_activations(cv, node, srcs)
    cv.need(node, node.input[0] in cv.acts, "a constant first operand is not supported")
    cv.expect_layout(node, srcs[0], node.input[0], (1, 2))
    b = cv.shape(node.input[1], node)
    cv.need(node, len(b) == 2, f"constant operand {shape_str(b)} is not 2-D")
    linear(cv, node, srcs[0], b[0], b[1])


def matmul_activations(cv, node, srcs):
    """A [..., M, K] streams through B [..., K, N], B stored (see the module docstring)."""
    a = cv.shape(node.input[0], node)
    b = cv.shape(node.input[1], node)
    a = (1,) + a if len(a) == 1 else a
    cv.need(node, len(b) >= 2 and a[:-2] == b[:-2] and a[-1] == b[-2],
            f"operands {shape_str(a)} and {shape_str(b)}: expected [..., M, K] and [..., K, N] "
            "with equal leading dimensions")
    m, k, n, repeat = a[-2], a[-1], b[-1], prod(a[:-2])
    x, stored = srcs
    cv.need(node, x.shape == (k * repeat, m, 1),
            f"first operand from {x.src} ({shape_str(x.shape)}) is not {m} tokens of "
            f"rows * repeat = {k} * {repeat} features")
    cv.need(node, prod(stored.shape) == k * n * repeat,
            f"second operand from {stored.src} ({shape_str(stored.shape)}) does not hold "
            f"rows * cols * repeat = {k} * {n} * {repeat} elements")
    cv.emit(node, "matmul", [x, stored], (n * repeat, m, 1), rows=k, cols=n, invocations=m,
            repeat=repeat)


def pool(cv, node, srcs):
    x = srcs[0]
    c, h, w = cv.expect_layout(node, x, node.input[0], (3,))
    kernel = tuple(attribute(node, "kernel_shape", []))
    strides, pads = window(cv, node, (h, w), kernel)
    cv.need(node, all(2 * p <= k for p, k in zip(pads, kernel)),
            f"padding {list(pads)} is more than half the kernel {list(kernel)}")
    out = (c,) + window_out((h, w), kernel, strides, pads)
    cv.expect_out(node, out)
    params = {"mode": "max" if node.op_type == "MaxPool" else "avg", "kernel": pair(kernel),
              "stride": pair(strides)}
    if pads != (0, 0):
        params["padding"] = pair(pads)
    cv.emit(node, "pool", [x], out, **params)


def global_pool(cv, node, srcs):
    x = srcs[0]
    c, h, w = cv.expect_layout(node, x, node.input[0], (3,))
    if node.op_type == "GlobalAveragePool":
        cv.emit(node, "pool", [x], (c, 1, 1), mode="global_avg")
    else:
        cv.emit(node, "pool", [x], (c, 1, 1), mode="max", kernel=pair((h, w)), stride=1)


def add(cv, node, srcs):
    if len(srcs) < len(node.input):
        return cv.alias(node, srcs[0], f"{node.op_type} of a constant (a bias)")
    for t in srcs[1:]:
        cv.need(node, t.shape == srcs[0].shape,
                f"summands of different shapes: {srcs[0].src} gives {shape_str(srcs[0].shape)}, "
                f"{t.src} gives {shape_str(t.shape)}")
    cv.need(node, len(srcs) <= 8, f"{len(srcs)} summands, expected at most 8")
    cv.emit(node, "add", srcs, srcs[0].shape)


def scale(cv, node, srcs):
    cv.need(node, len(srcs) < len(node.input),
            f"{node.op_type} of two activations is not supported (only by a constant)")
    cv.alias(node, srcs[0], f"{node.op_type} by a constant (a scale or bias)")


def elementwise(kind):
    def handler(cv, node, srcs):
        cv.emit(node, kind, srcs[:1], srcs[0].shape)
    handler.__doc__ = f"One {kind} layer, same shape as its input."
    return handler


def clip(cv, node, srcs):
    lo, hi = attribute(node, "min"), attribute(node, "max")
    for i, key in ((1, "min"), (2, "max")):
        if len(node.input) > i and node.input[i]:
            value = cv.const_value(node.input[i])
            cv.need(node, value is not None and len(value) == 1,
                    f"{key} ({node.input[i]}) is not a constant scalar")
            lo, hi = (value[0], hi) if key == "min" else (lo, value[0])
    cv.need(node, lo == 0 and hi in (6, None, math.inf),
            f"Clip({lo}, {hi}) is supported only as Clip(0, 6) (relu6) or Clip(0) (relu)")
    cv.emit(node, "relu6" if hi == 6 else "relu", srcs[:1], srcs[0].shape)


def flatten(cv, node, srcs):
    x = srcs[0]
    dims = cv.shape(node.output[0], node)
    cv.need(node, dims == (prod(x.shape),),
            f"output {shape_str(dims)} is not [N, {prod(x.shape)}] (a flatten of {x.src}, "
            f"{shape_str(x.shape)})")
    cv.emit(node, "flatten", [x], (dims[0], 1, 1))


def view(cv, node, srcs):
    """Reshape, Transpose, Squeeze, Unsqueeze: a flatten, a tokens layer or a plain view."""
    x = srcs[0]
    dims = cv.shape(node.output[0], node)
    c, h, w = x.shape
    if node.op_type == "Reshape" and len(dims) == 1:
        return flatten(cv, node, srcs)
    if w > 1 and canonical(dims) == (c, h * w, 1):
        return cv.emit(node, "tokens", [x], (c, h * w, 1), prepend=0)
    cv.alias(node, x)


def fold(why):
    def handler(cv, node, srcs):
        cv.alias(node, srcs[0], why)
    handler.__doc__ = f"Skipped: {why}."
    return handler


HANDLERS = {
    "Conv": conv,
    "Gemm": gemm,
    "MatMul": matmul,
    "MaxPool": pool,
    "AveragePool": pool,
    "GlobalAveragePool": global_pool,
    "GlobalMaxPool": global_pool,
    "Add": add,
    "Sum": add,
    "Sub": scale,
    "Mul": scale,
    "Div": scale,
    "Relu": elementwise("relu"),
    "Clip": clip,
    "Softmax": elementwise("softmax"),
    "LayerNormalization": elementwise("layernorm"),
    "Flatten": flatten,
    "Reshape": view,
    "Transpose": view,
    "Squeeze": view,
    "Unsqueeze": view,
    # BatchNormalization folds into the preceding convolution's weights and bias: no crossbar
    # cost of its own, so it is left out rather than modelled as a digital layer.
    "BatchNormalization": fold("BatchNormalization (folded into the convolution)"),
    "Identity": fold("Identity"),
    "Dropout": fold("Dropout (inference: identity)"),
}


# ---- output ---------------------------------------------------------------------------------


def render_value(value):
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def render_layer(name, kind, inputs, params):
    fields = [f'name = "{name}";', f'type = "{kind}";',
              "inputs = [" + ", ".join(f'"{i}"' for i in inputs) + "];"]
    fields += [f"{key} = {render_value(v)};" for key, v in params.items()]
    return "{ " + " ".join(fields) + " }"


def render(cv, source, name):
    opset = max((o.version for o in cv.model.opset_import if o.domain in ("", "ai.onnx")),
                default=0)
    n_xbar = sum(1 for _, kind, _, _ in cv.layers if kind in ("conv2d", "linear", "matmul"))
    trained, dynamic = cv.weights()
    folded = ", ".join(f"{n} {why}" for why, n in sorted(cv.folded.items())) or "none"
    lines = [
        f"# Generated from {source} by scripts/onnx2xbarsim.py (onnx {onnx.__version__}, model "
        f"opset {opset}):",
        "# convert the model again rather than edit this file.",
        f"# Network input: {cv.input_desc}, batch dimension dropped.",
        "# Layer names are the ONNX node names; biases are not crossbar weights.",
        f"# Left out (no crossbar cost): {folded}.",
        f"# {len(cv.layers)} layers, {n_xbar} on crossbars: {trained} trained weights, {dynamic} "
        "written per inference (matmul stored operands).",
        "",
        "network = {",
        f'    name = "{name}";',
        f"    input = {{ {cv.input_text} }};",
        "    layers = (",
    ]
    body = [render_layer(*layer) for layer in cv.layers]
    lines += [f"        {b}," for b in body[:-1]] + [f"        {body[-1]}"]
    lines += ["    );", "};"]
    return "\n".join(lines) + "\n"


def write(text, path):
    """Write text to path atomically (a temporary file in the same directory, then a rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".onnx2xbarsim.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load(path):
    try:
        model = onnx.load(path, load_external_data=False)
    except OSError as exc:
        raise ConvertError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ConvertError(f"{path}: not an ONNX model: {exc}") from exc
    if model.ir_version <= 0 or not model.graph.node:
        raise ConvertError(f"{path}: not an ONNX model (no IR version or no graph nodes)")
    return model


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="onnx2xbarsim.py",
        description="Convert an ONNX model to an xbarsim network config (libconfig).",
        epilog="Supported ops: " + ", ".join(sorted(HANDLERS)) + ". See the module docstring "
        "for the mapping of each.")
    p.add_argument("model", metavar="MODEL.onnx", help="the ONNX model")
    p.add_argument("-o", "--output", metavar="OUT.cfg", help="write here instead of stdout")
    p.add_argument("--name", help="network name (default: the model file's name, sanitised)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if onnx is None:
        print(f"{PROG}: cannot import onnx: install Debian's python3-onnx (apt-get install "
              "python3-onnx) and run with the system python3 (/usr/bin/python3)", file=sys.stderr)
        return 1
    name = args.name or sanitise(os.path.splitext(os.path.basename(args.model))[0]) or "network"
    if sanitise(name) != name or not name:
        print(f"{PROG}: --name {name!r}: expected 1..64 characters A-Z a-z 0-9 _ - . +",
              file=sys.stderr)
        return 2
    try:
        cv = Converter(load(args.model), args.model)
        cv.convert()
        text = render(cv, os.path.basename(args.model), name)
        if args.output:
            write(text, args.output)
        else:
            sys.stdout.write(text)
    except ConvertError as exc:  # bad input: exit 2, as xbarsim's commands
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{PROG}: {args.output or 'stdout'}: cannot write: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
