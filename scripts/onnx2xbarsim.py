#!/usr/bin/python3
"""Convert an ONNX model to an xbarsim network config (a libconfig `network` group).

    scripts/onnx2xbarsim.py MODEL.onnx [-o OUT.cfg] [--name NAME]

The config goes to stdout, or to OUT.cfg (written under a temporary name and renamed when
complete). Needs Debian's python3-onnx (1.12), hence the system interpreter /usr/bin/python3;
otherwise the Python 3 standard library only. Weights stored as ONNX external data (models over
2 GB) are not read: only their shapes matter.

Shapes come from onnx.shape_inference. Nodes that compute only on constants and shapes (Shape,
Gather, Concat of shape vectors, Where, Expand, ...: how PyTorch computes slice bounds, reshape
targets and ViT's class-token expansion) are evaluated up front and replaced by their values, so
shape inference sees through them.

The network input is the graph's one non-initializer input with its batch dimension dropped:
[N, C, H, W] is a feature map, [N, F] a vector of F features, [N, T, F] a stream of T tokens of F
features, and [T, 1, F] a sequence-first stream (nn.Transformer's default layout; --batch-axis
overrides the guess). Inside the graph the first or second dimension equal to the batch size is
dropped the same way, so [T, F], [N, T, F] and [T, N, F] are all T tokens. Attention folds the
batch into its heads ([T, N * heads, d]): export transformers with batch 1.

Each node on the data path (fed, directly or not, by the network input) becomes a layer named
after the node (sanitised to 1..64 characters A-Z a-z 0-9 _ - . +; "/" becomes "."; made unique)
whose `inputs` name its producers, so branches and residual adds come through:

    Conv                        conv2d (kernel_shape, strides, symmetric pads or auto_pad, group)
    Gemm, MatMul by a constant  linear (the constant is the weight; Gemm's transB is honoured);
                                on a channels-last view of a map [H, W, C] (ConvNeXt), a 1x1
                                conv2d
    MatMul of two activations   matmul: the second operand B [..., K, N] is stored (written into
                                crossbars every inference), the M rows of A [..., M, K] stream
                                through it: rows = K, cols = N, invocations = M, repeat = the
                                product of the other non-batch dimensions (attention heads).
                                A's producer must give rows * repeat features x M tokens.
    MaxPool, AveragePool        pool max / avg (kernel_shape, strides, symmetric pads,
                                ceil_mode: GoogLeNet, Inception, SqueezeNet)
    Pad (zeros, height and      read through: its pads are added to the Conv or AveragePool
      width of a map)           that reads it (AvgPool2d with count_include_pad, DenseNet's
                                transitions, Inception)
    GlobalAveragePool           pool global_avg;  GlobalMaxPool: pool max over the whole map;
                                ReduceMean over the two spatial axes: pool global_avg
    Add, Sum of activations     add (more than 8 summands: a tree of adds, as Concat)
    Mul of two activations      mul (equal shapes, or a per-channel C x 1 x 1 scale: the
                                squeeze-and-excitation of MobileNetV3 and EfficientNet, and SiLU
                                as x * Sigmoid(x))
    Concat of activations       concat along the features (channels); more than 8 inputs
                                (the schema's limit) become a tree of concats of at most 8
                                consecutive inputs, then of their results (DenseNet: partial
                                results are read again by the vector modules); a Concat of one
                                input is a view; constants put before a tokens layer's output
                                along the tokens are its `prepend` (ViT's class token)
    Slice, Split; Gather by a   slice layers of the features or the tokens (the fused q/k/v
      constant scalar index     projection's three parts; ViT's class token x[:, 0])
    Relu; Clip(0, 6); Clip(0)   relu; relu6; relu
    Sigmoid, HardSigmoid,       sigmoid, hardsigmoid, hardswish
      HardSwish
    Softmax, LayerNormalization softmax, layernorm
    ReduceMean, Sub, Pow, Sqrt, layernorm and gelu, when they form the graphs PyTorch exports
      Div, Erf, Add, Mul        for LayerNorm (opset < 17) and GELU (see "Decomposed operators")
    Flatten, Reshape to [N, F]  flatten
    Reshape, Transpose, Squeeze, Unsqueeze (other shapes)
                                views, no layer -- except that turning a C x H x W map into H*W
                                tokens of C features gives a `tokens` layer; a consumer that
                                cannot read the view as its producer's shape is an error. A
                                permutation of channels (ShuffleNet's channel shuffle: Reshape
                                to [g, C/g, H, W], Transpose, Reshape back) is such a view.

Folded away (no layer): BatchNormalization (folded into the preceding convolution: it costs no
crossbar), Identity, Dropout, Pad by nothing, and Add/Sub/Mul/Div by a constant (a bias, a
scale, a position embedding or ConvNeXt's layer scale).
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
    import numpy
    import onnx
    from onnx import numpy_helper, shape_inference
except ImportError:  # reported by main(), after --help has had its chance
    onnx = None

PROG = "onnx2xbarsim"
MAX_NAME = 64  # characters of a layer name (mapper/network.c)
MAX_INPUTS = 8  # inputs of one layer (NETWORK_MAX_INPUTS, mapper/network.h)

Tensor = collections.namedtuple("Tensor", "src shape note", defaults=(None,))
Tensor.__doc__ = """An activation: the layer that produces it ("input" for the network input) and
that layer's xbarsim output shape (channels, height, width); views share both. note is None for a
value a layer computes, or marks a step of a decomposed operator that has no layer of its own yet
(see PATTERNS): ("stat", x) a per-position statistic of x's features (a ReduceMean over the last
axis, its square, +eps, sqrt), ("centred", x) x minus its mean, ("erf", x) erf(x / sqrt 2) [+ 1],
("pad", x, (top, left, bottom, right), name) x (ONNX tensor name) padded with zeros."""


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


def external(tensor):
    """Whether an initializer's data lies in an external file (a model over 2 GB): it is not
    read, only its shape is needed (a weight)."""
    return tensor.data_location == onnx.TensorProto.EXTERNAL


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


# ---- shape arithmetic: ops evaluated up front on constants and shapes -----------------------


def axes_of(node, ins, i):
    """The axes of a Squeeze/Unsqueeze/Reduce node: attribute (old opsets) or input i."""
    axes = attribute(node, "axes")
    if axes is None and len(ins) > i and ins[i] is not None:
        axes = [int(a) for a in ins[i].flatten()]
    return axes


def eval_shape(node, ins):
    start, end = attribute(node, "start", 0), attribute(node, "end")
    return ins[0][start:end]


def eval_unsqueeze(node, ins):
    x = ins[0]
    axes = sorted(a + x.ndim + len(axes_of(node, ins, 1)) if a < 0 else a
                  for a in axes_of(node, ins, 1))
    for a in axes:
        x = numpy.expand_dims(x, a)
    return x


def eval_squeeze(node, ins):
    axes = axes_of(node, ins, 1)
    return numpy.squeeze(ins[0], axis=tuple(axes) if axes else None)


def eval_slice(node, ins):
    x = ins[0]
    starts, ends = ins[1].flatten(), ins[2].flatten()
    axes = ins[3].flatten() if len(ins) > 3 and ins[3] is not None else range(len(starts))
    steps = ins[4].flatten() if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    index = [slice(None)] * x.ndim
    for b, e, a, st in zip(starts, ends, axes, steps):
        index[int(a)] = slice(int(b), int(e), int(st))
    return x[tuple(index)]


def eval_div(node, ins):
    a, b = ins
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return (numpy.trunc(a / b)).astype(a.dtype)  # ONNX integer division truncates
    return a / b


def eval_cast(node, ins):
    return ins[0].astype(onnx.helper.tensor_dtype_to_np_dtype(attribute(node, "to")))


def eval_constant_of_shape(node, ins):
    value = attribute(node, "value")
    fill = numpy_helper.to_array(value).flatten()[0] if value is not None else numpy.float32(0)
    return numpy.full([int(d) for d in ins[0].flatten()], fill)


def eval_expand(node, ins):
    return ins[0] * numpy.ones([int(d) for d in ins[1].flatten()], dtype=ins[0].dtype)


def eval_reshape(node, ins):
    shape = [int(d) for d in ins[1].flatten()]
    shape = [ins[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return ins[0].reshape(shape)


def evaluate_node(node, values, shapes):
    """node's output computed from constant values and known shapes, or None when it reads
    anything else or is not a shape computation numpy can follow."""
    fn = EVALUATORS.get(node.op_type)
    if fn is None or len(node.output) != 1:
        return None
    ins = []
    for name in node.input:
        if not name:
            ins.append(None)
        elif node.op_type in ("Shape", "Size") and name in shapes:
            full = shapes[name]
            if not all(isinstance(d, int) for d in full):
                return None
            ins.append(numpy.array(full, dtype=numpy.int64))
        elif name in values:
            ins.append(values[name])
        else:
            return None
    try:
        return fn(node, ins)
    except (ValueError, IndexError, TypeError, ZeroDivisionError, AttributeError):
        return None


EVALUATORS = {
    "Shape": eval_shape,
    "Size": lambda node, ins: numpy.int64(numpy.prod(ins[0])),
    "Identity": lambda node, ins: ins[0],
    "Gather": lambda node, ins: numpy.take(ins[0], ins[1], axis=attribute(node, "axis", 0)),
    "Add": lambda node, ins: ins[0] + ins[1],
    "Sub": lambda node, ins: ins[0] - ins[1],
    "Mul": lambda node, ins: ins[0] * ins[1],
    "Div": eval_div,
    "Neg": lambda node, ins: -ins[0],
    "Sqrt": lambda node, ins: numpy.sqrt(ins[0]),
    "Pow": lambda node, ins: numpy.power(ins[0], ins[1]),
    "Floor": lambda node, ins: numpy.floor(ins[0]),
    "Ceil": lambda node, ins: numpy.ceil(ins[0]),
    "Min": lambda node, ins: numpy.minimum.reduce(ins),
    "Max": lambda node, ins: numpy.maximum.reduce(ins),
    "Equal": lambda node, ins: numpy.equal(ins[0], ins[1]),
    "Where": lambda node, ins: numpy.where(ins[0], ins[1], ins[2]),
    "Concat": lambda node, ins: numpy.concatenate(ins, axis=attribute(node, "axis")),
    "Unsqueeze": eval_unsqueeze,
    "Squeeze": eval_squeeze,
    "Slice": eval_slice,
    "Cast": eval_cast,
    "ConstantOfShape": eval_constant_of_shape,
    "Expand": eval_expand,
    "Reshape": eval_reshape,
    "Transpose": lambda node, ins: numpy.transpose(ins[0], attribute(node, "perm")),
    "Range": lambda node, ins: numpy.arange(ins[0], ins[1], ins[2]),
}


# ---- the converter --------------------------------------------------------------------------


class Converter:
    """Walks the nodes of one model in order (ONNX graphs are topologically sorted) and collects
    the layers. acts maps each activation tensor name to its Tensor."""

    def __init__(self, model, origin, batch_axis=None):
        self.model = model
        self.batch_axis = batch_axis  # of the graph input; None: worked out (set_input)
        self.origin = origin
        self.graph = model.graph
        self.shapes = {}
        self.elem_types = {}
        self.consts = {}
        self.values = {}  # tensor name -> numpy array, for every tensor computable up front
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
            if self.fold_constants():
                continue
            hint = self.flatten_hint(hinted)
            if hint is None:
                break
            hinted.add(hint.name)
            self.model.graph.value_info.append(hint)
        for init in self.graph.initializer:
            self.shapes[init.name] = tuple(init.dims)
            self.consts[init.name] = init
            if not external(init):
                self.values[init.name] = numpy_helper.to_array(init)

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

    def fold_constants(self):
        """Replace every node that computes only on constants and known shapes by a Constant
        holding its value (PyTorch computes slice bounds, reshape targets and ViT's class-token
        expansion this way), so that shape inference can see through them. True if any was."""
        values = {i.name: numpy_helper.to_array(i) for i in self.graph.initializer
                  if not external(i)}
        folded = False
        for k, node in enumerate(self.graph.node):
            if node.op_type == "Constant":
                value = attribute(node, "value")
                if value is not None and node.output:
                    values[node.output[0]] = numpy_helper.to_array(value)
                continue
            out = evaluate_node(node, values, self.shapes)
            if out is None:
                continue
            tensor = numpy_helper.from_array(numpy.asarray(out), node.output[0])
            values[node.output[0]] = numpy.asarray(out)
            self.graph.node[k].CopyFrom(onnx.helper.make_node(
                "Constant", [], [node.output[0]], name=node.name, value=tensor))
            folded = True
        return folded

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
                self.values[node.output[0]] = numpy_helper.to_array(value)
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
        axis = self.batch_axis
        if axis is None:  # [T, 1, F] is a sequence-first stream (nn.Transformer's default)
            axis = 1 if len(full) == 3 and full[1] == 1 and full[0] != 1 else 0
        self.need_input(axis < len(full) - 1, f"--batch-axis {axis} is not a dimension of graph "
                        f"input {name} {list(full)} (but the last)")
        self.batch = full[axis]
        dims = self.concrete(full[:axis] + full[axis + 1:], f"graph input {name}")
        if len(dims) == 3:
            self.input_text = f"channels = {dims[0]}; height = {dims[1]}; width = {dims[2]};"
        elif len(dims) == 2:
            self.input_text = f"features = {dims[1]}; tokens = {dims[0]};"
        else:
            self.input_text = f"features = {dims[0]};"
        self.input_desc = f"graph input {name} {list(full)}, batch axis {axis}"
        self.acts[name] = Tensor("input", canonical(dims))

    def need_input(self, ok, what):
        if not ok:
            raise ConvertError(f"{self.origin}: {what}")

    # -- shapes and constants --

    def strip_batch(self, full):
        """full without its batch dimension: the first dimension equal to the input's batch size,
        if it is the first, or the second of a tensor of rank 3 or more (a sequence-first
        [T, N, F] stream); else full as it is (a view that folded the batch into another
        dimension, as attention's [T, N * heads, d] does: export attention with batch 1)."""
        if full and full[0] == self.batch:
            return full[1:]
        if len(full) >= 3 and full[1] == self.batch:
            return full[:1] + full[2:]
        return full

    def batch_position(self, full):
        """The index of the dimension strip_batch drops, or None."""
        if full and full[0] == self.batch:
            return 0
        if len(full) >= 3 and full[1] == self.batch:
            return 1
        return None

    def axis_of(self, name, node, axis):
        """An ONNX axis of tensor name (negative counts from the end) as an axis of its shape
        without the batch dimension; error if it is the batch axis."""
        full = self.shapes.get(name)
        self.need(node, full is not None, f"ONNX shape inference gave no shape for {name}")
        axis = axis + len(full) if axis < 0 else axis
        pos = self.batch_position(full)
        self.need(node, axis != pos, f"axis {axis} of {name} is the batch dimension")
        return axis - (1 if pos is not None and axis > pos else 0)

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
        if name not in self.values:  # an activation: weights keep every dimension
            full = self.strip_batch(full)
        return self.concrete(full, f"{self.label(node)}: tensor {name}")

    def const_value(self, name):
        """The values of a constant or computable tensor as a list of floats, or None."""
        v = self.values.get(name)
        return None if v is None else [float(x) for x in numpy.asarray(v).flatten()]

    def const_ints(self, node, i, what):
        """Input i of node as a list of integers; it must be computable up front."""
        v = self.values.get(node.input[i]) if len(node.input) > i and node.input[i] else None
        self.need(node, v is not None, f"{what} ({node.input[i] if len(node.input) > i else '-'})"
                  " is not a constant or a function of shapes")
        return [int(x) for x in numpy.asarray(v).flatten()]

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

    def emit(self, node, kind, srcs, shape, out=None, **params):
        """Add a layer of kind reading srcs (Tensors); its output is tensor out (default
        node.output[0])."""
        name = self.unique(node)
        self.layers.append((name, kind, [t.src for t in srcs], params))
        self.acts[out or node.output[0]] = Tensor(name, tuple(shape))
        return name

    def layer(self, name):
        """The (name, kind, inputs, params) of an emitted layer."""
        return next(entry for entry in self.layers if entry[0] == name)

    def read_by_others(self, name, node):
        """Whether an emitted layer other than node's has name among its inputs."""
        return any(name in inputs for _, _, inputs, _ in self.layers)

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
        for out in self.graph.output:
            t = self.acts.get(out.name)
            if t is not None and t.note is not None:
                raise ConvertError(f"{self.origin}: graph output {out.name} is "
                                   f"{t.note[0]}({t.note[1].src}), a step of a decomposed "
                                   "operator that never completes (see PATTERNS)")
        if not self.layers:
            raise ConvertError(f"{self.origin}: no layers: no supported node reads the network "
                               "input")

    def visit(self, node):
        srcs = [self.acts[i] for i in node.input if i in self.acts]
        if not srcs or node.op_type in ("Shape", "Size"):
            return  # computes on constants or shapes only (folded up front where it could)
        handler = HANDLERS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        if handler is None:
            op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            raise ConvertError(f"node {node.name or '#' + str(self.index)} (op {op}) is not "
                               f"supported; supported: {', '.join(sorted(HANDLERS))}")
        if node.op_type not in PATTERN_OPS:
            for t in srcs:
                if t.note is not None:
                    raise ConvertError(f"{self.label(node)}: reads {t.note[0]}({t.note[1].src}),"
                                       " a step of a decomposed operator whose pattern this node "
                                       "breaks (see PATTERNS)")
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
                  f"ONNX gives an output of {shape_str(got or ())}, but xbarsim (symmetric "
                  f"padding) derives {shape_str(shape)}")


# ---- window geometry ------------------------------------------------------------------------


def kernel_pair(p):
    k = p["kernel"]
    return k if isinstance(k, tuple) else (k, k)


def pair(values):
    """(h, w) as one integer when equal, as the schema allows."""
    return values[0] if values[0] == values[1] else tuple(values)


def window_input(cv, node, srcs):
    """(x, (c, h, w), extra pads [top, left, bottom, right]) of a Conv or pool node's input: a
    zero Pad before it is read through, its pads added to the node's own (see PATTERNS)."""
    x, name, extra = srcs[0], node.input[0], (0, 0, 0, 0)
    if x.note and x.note[0] == "pad":
        cv.need(node, node.op_type != "MaxPool", f"MaxPool of zero-padded {x.note[1].src}: "
                "xbarsim's max pool pads with -inf (padding = 0 only for Conv and AveragePool)")
        _, x, extra, name = x.note
    cv.need(node, x.note is None, f"reads {x.note and x.note[0]}({x.note and x.note[1].src}), a "
            "step of a decomposed operator whose pattern this node breaks (see PATTERNS)")
    return x, cv.expect_layout(node, x, name, (3,)), extra


def window(cv, node, in_hw, kernel, extra=(0, 0, 0, 0)):
    """(strides, pads) of a 2-D Conv or pool node: symmetric pads only (its own plus extra, a
    Pad's before it), no dilation."""
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
    pads = [p + e for p, e in zip(pads, extra)]
    cv.need(node, pads[:2] == pads[2:],
            f"asymmetric padding pads = {pads} (begin {pads[:2]} != end {pads[2:]}); xbarsim "
            "pads both sides of a dimension equally")
    return strides, tuple(pads[:2])


def window_out(in_hw, kernel, strides, pads, ceil=False):
    """Output (h, w) of a window: floor rounding, or ceil_mode's rounding up less a last window
    that would start in the right padding (PyTorch's rule, as mapper/network.c)."""
    out = []
    for i, k, s, p in zip(in_hw, kernel, strides, pads):
        span = i + 2 * p - k
        o = (-(-span // s) if ceil else span // s) + 1
        out.append(o - 1 if ceil and (o - 1) * s >= i + p else o)
    return tuple(out)


# ---- handlers: one per op; each reads node, srcs (its activation inputs, in order) ----------


def conv(cv, node, srcs):
    cv.need(node, node.input[0] in cv.acts and node.input[1] not in cv.acts,
            "expected an activation input and a constant weight")
    x, (c, h, w), extra = window_input(cv, node, srcs)
    wdims = cv.shape(node.input[1], node)
    kernel = tuple(attribute(node, "kernel_shape", wdims[2:]))
    groups = attribute(node, "group", 1)
    strides, pads = window(cv, node, (h, w), kernel, extra)
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
    cv.expect_layout(node, srcs[0], node.input[0], (1, 2))  # [N, K], or [N * T, K] tokens
    b = cv.shape(node.input[1], node)
    cv.need(node, len(b) == 2, f"weight B {shape_str(b)} is not 2-D")
    n, k = b if attribute(node, "transB", 0) else reversed(b)
    linear(cv, node, srcs[0], k, n)


def matmul(cv, node, srcs):
    if len(srcs) == 2:
        return matmul_activations(cv, node, srcs)
    cv.need(node, node.input[0] in cv.acts, "a constant first operand is not supported")
    b = cv.shape(node.input[1], node)
    cv.need(node, len(b) == 2, f"constant operand {shape_str(b)} is not 2-D")
    x = srcs[0]
    c, h, w = x.shape
    if cv.shape(node.input[0], node) == (h, w, c):  # channels last (ConvNeXt): a 1x1 conv
        cv.need(node, b[0] == c, f"constant operand {shape_str(b)} does not take {c} channels")
        return cv.emit(node, "conv2d", [x], (b[1], h, w), in_channels=c, out_channels=b[1],
                       kernel=1)
    cv.expect_layout(node, x, node.input[0], (1, 2))
    linear(cv, node, x, b[0], b[1])


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
    x, (c, h, w), extra = window_input(cv, node, srcs)
    kernel = tuple(attribute(node, "kernel_shape", []))
    strides, pads = window(cv, node, (h, w), kernel, extra)
    cv.need(node, all(2 * p <= k for p, k in zip(pads, kernel)),
            f"padding {list(pads)} is more than half the kernel {list(kernel)}")
    ceil = bool(attribute(node, "ceil_mode", 0))
    out = (c,) + window_out((h, w), kernel, strides, pads, ceil)
    cv.expect_out(node, out)
    params = {"mode": "max" if node.op_type == "MaxPool" else "avg", "kernel": pair(kernel),
              "stride": pair(strides)}
    if pads != (0, 0):
        params["padding"] = pair(pads)
    if ceil:
        params["ceil_mode"] = True
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
    tree(cv, node, "add", srcs, lambda parts: parts[0].shape)


def tree(cv, node, kind, srcs, shape_of):
    """One layer of kind (add or concat) over srcs, in order. More than MAX_INPUTS inputs become a
    tree: consecutive groups of at most MAX_INPUTS each reduced by a layer, then those, until
    MAX_INPUTS or fewer remain (DenseNet concatenates up to 49 maps; each element is then read
    once per level, two levels up to 64 inputs). shape_of(parts) is the output shape."""
    while len(srcs) > MAX_INPUTS:
        n_groups = -(-len(srcs) // MAX_INPUTS)
        bounds = [len(srcs) * k // n_groups for k in range(n_groups + 1)]
        groups = [srcs[a:b] for a, b in zip(bounds, bounds[1:])]
        srcs = []
        for g in groups:
            if len(g) > 1:
                cv.emit(node, kind, g, shape_of(g))  # a partial result, node's output for now
                g = [cv.acts[node.output[0]]]
            srcs.append(g[0])
    cv.emit(node, kind, srcs, shape_of(srcs))


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


def pad(cv, node, srcs):
    """Zero padding of a map's height and width: read through by the Conv or AveragePool after it
    (see PATTERNS); padding by nothing is a plain view."""
    x = srcs[0]
    cv.need(node, decode(attribute(node, "mode", "constant")) == "constant",
            f"mode {decode(attribute(node, 'mode'))}: only constant (zero) padding is supported")
    pads = attribute(node, "pads")
    if pads is None:
        pads = cv.const_ints(node, 1, "pads")
    value = cv.const_value(node.input[2]) if len(node.input) > 2 and node.input[2] else [0.0]
    cv.need(node, value == [0.0], f"pads with {value}; only zero padding is supported")
    if not any(pads):
        return cv.alias(node, x, "Pad by nothing")
    cv.need(node, len(pads) == 8 and not any(pads[:2] + pads[4:6]) and x.note is None and
            cv.expect_layout(node, x, node.input[0], (3,)),
            f"pads {pads}: only the height and width of a feature map can be padded")
    extra = (pads[2], pads[3], pads[6], pads[7])
    cv.acts[node.output[0]] = Tensor(x.src, x.shape, ("pad", x, extra, node.input[0]))


# ---- slices, gathers and concatenations ------------------------------------------------------


def feature_axes(cv, node, x, name):
    """{axis of tensor name (batch dropped): xbarsim axis} for the axes of x a slice can cut:
    the features (channels) and the tokens (height), as x's ONNX shape lays them out."""
    dims = cv.shape(name, node)
    c, h, w = x.shape
    if canonical(dims) == x.shape:
        return dims, ({0: "features"} if len(dims) == 1 else
                      {1: "features", 0: "tokens"} if len(dims) == 2 else
                      {0: "features", 1: "tokens"})
    if len(dims) == 3 and dims == (h, w, c):  # a channels-last view (ConvNeXt's permute)
        return dims, {2: "features"}
    cv.need(node, False, f"input {name} ({shape_str(dims)}) is a view of {x.src} "
            f"({shape_str(x.shape)}) that xbarsim cannot follow")
    return dims, {}


def cut(cv, node, x, axis, start, count, out, name):
    """A slice layer keeping count elements of ONNX axis `axis` of tensor name from start."""
    dims, axes = feature_axes(cv, node, x, name)
    cv.need(node, axis in axes, f"cuts axis {axis} of {shape_str(dims)}; xbarsim slices the "
            "features or the tokens only")
    if start == 0 and count == dims[axis]:
        cv.acts[out] = x
        return
    c, h, w = x.shape
    shape = (count, h, w) if axes[axis] == "features" else (c, count, w)
    cv.emit(node, "slice", [x], shape, out=out, axis=axes[axis], start=start, count=count)


def slice_act(cv, node, srcs):
    starts = cv.const_ints(node, 1, "starts")
    ends = cv.const_ints(node, 2, "ends")
    axes = (cv.const_ints(node, 3, "axes") if len(node.input) > 3 and node.input[3] else
            list(range(len(starts))))
    steps = (cv.const_ints(node, 4, "steps") if len(node.input) > 4 and node.input[4] else
             [1] * len(starts))
    full = cv.shapes.get(node.input[0])
    cuts = []
    for b, e, a, st in zip(starts, ends, axes, steps):
        a = a + len(full) if a < 0 else a
        size = full[a]
        b, e = (min(max(v + size if v < 0 else v, 0), size) for v in (b, e))
        if (b, e, st) != (0, size, 1):
            cv.need(node, st == 1, f"step {st} on axis {a}; only step 1 is supported")
            cuts.append((cv.axis_of(node.input[0], node, a), b, e - b))
    cv.need(node, len(cuts) <= 1, f"cuts {len(cuts)} axes at once; expected one")
    axis, start, count = cuts[0] if cuts else (0, 0, None)
    if count is None:
        return cv.alias(node, srcs[0])
    cut(cv, node, srcs[0], axis, start, count, node.output[0], node.input[0])


def split(cv, node, srcs):
    full = cv.shapes.get(node.input[0])
    axis = attribute(node, "axis", 0)
    axis = axis + len(full) if axis < 0 else axis
    sizes = attribute(node, "split")
    if sizes is None and len(node.input) > 1 and node.input[1]:
        sizes = cv.const_ints(node, 1, "split")
    if sizes is None:
        parts = len(node.output)
        cv.need(node, full[axis] % parts == 0, f"{full[axis]} elements do not split evenly "
                f"in {parts}")
        sizes = [full[axis] // parts] * parts
    start = 0
    for out, size in zip(node.output, sizes):
        cut(cv, node, srcs[0], cv.axis_of(node.input[0], node, axis), start, size, out,
            node.input[0])
        start += size


def gather(cv, node, srcs):
    """x[..., i, ...] with a constant scalar index: a slice of one token or feature."""
    cv.need(node, node.input[0] in cv.acts and node.input[1] not in cv.acts,
            "expected an activation indexed by a constant")
    index = cv.const_ints(node, 1, "indices")
    cv.need(node, len(index) == 1 and not cv.shapes.get(node.input[1]),
            f"indices {index}: only a scalar index is supported (x[:, i])")
    full = cv.shapes.get(node.input[0])
    axis = attribute(node, "axis", 0)
    axis = axis + len(full) if axis < 0 else axis
    i = index[0] + full[axis] if index[0] < 0 else index[0]
    cut(cv, node, srcs[0], cv.axis_of(node.input[0], node, axis), i, 1, node.output[0],
        node.input[0])


def concat(cv, node, srcs):
    """Along the tokens, constants before a tokens layer (ViT's class token) become its
    `prepend`; along the features (channels), activations become a concat layer."""
    if len(node.input) == 1:  # torch.cat of one tensor (DenseNet's first layer of a block)
        return cv.alias(node, srcs[0])
    full = cv.shapes.get(node.output[0])
    axis = cv.axis_of(node.output[0], node, attribute(node, "axis"))
    if len(srcs) == 1 and node.input[-1] in cv.acts:
        x = srcs[0]
        src_layer = cv.layer(x.src) if x.src != "input" else None
        dims, axes = feature_axes(cv, node, x, node.input[-1])
        cv.need(node, axes.get(axis) == "tokens" and src_layer and src_layer[1] == "tokens" and
                not cv.read_by_others(x.src, node),
                "concatenates constants with an activation; supported only as tokens put "
                "before the output of a tokens layer (a class token)")
        onnx_axis = attribute(node, "axis")
        onnx_axis = onnx_axis + len(full) if onnx_axis < 0 else onnx_axis
        extra = sum(cv.shapes[i][onnx_axis] for i in node.input[:-1])
        src_layer[3]["prepend"] = src_layer[3].get("prepend", 0) + extra
        c, h, w = x.shape
        cv.acts[node.output[0]] = Tensor(x.src, (c, h + extra, w))
        return
    cv.need(node, len(srcs) == len(node.input), "concatenates constants with activations; "
            "supported only as a class token before a tokens layer")
    first_dims, axes = feature_axes(cv, node, srcs[0], node.input[0])
    cv.need(node, axes.get(axis) == "features", f"concatenates along axis {axis} of "
            f"{shape_str(first_dims)}; xbarsim concatenates features (channels) only")
    for t, name in zip(srcs[1:], node.input[1:]):
        feature_axes(cv, node, t, name)
        cv.need(node, t.shape[1:] == srcs[0].shape[1:], f"{t.src} ({shape_str(t.shape)}) and "
                f"{srcs[0].src} ({shape_str(srcs[0].shape)}) differ in more than the features")
    tree(cv, node, "concat", srcs, lambda parts: (sum(t.shape[0] for t in parts),) +
         parts[0].shape[1:])


# ---- decomposed operators (PATTERNS) ---------------------------------------------------------

PATTERNS = """PyTorch exports LayerNorm below opset 17 and GELU below opset 20 as small graphs; each
becomes one layer. A zero Pad of a feature map's height and width (AvgPool2d with
count_include_pad) adds its pads to the Conv or AveragePool that reads it. LayerNorm: ReduceMean(x) over the features -> Sub(x, mean) -> Pow(2) ->
ReduceMean -> Add(eps) -> Sqrt -> Div(centred, sqrt) -> a layernorm layer of x (Mul and Add by
its constant weight and bias fold away). GELU: Div(x, sqrt 2) -> Erf -> Add(1) -> Mul(x, .) ->
a gelu layer of x (Mul by 0.5 folds away). A ReduceMean over the two spatial axes of a feature
map is a global average pool."""


def stat_of(t):
    return t.note and t.note[0] == "stat" and t.note[1]


def reduce_mean(cv, node, srcs):
    x = srcs[0]
    if stat_of(x):
        return cv.alias(node, x)
    full = cv.shapes.get(node.input[0])
    axes = axes_of(node, [cv.values.get(i) for i in node.input], 1) or list(range(len(full)))
    axes = sorted(cv.axis_of(node.input[0], node, a) for a in axes)
    dims, cuttable = feature_axes(cv, node, x, node.input[0])
    if len(dims) == 3 and canonical(dims) == x.shape and axes == [1, 2]:
        return cv.emit(node, "pool", [x], (x.shape[0], 1, 1), mode="global_avg")
    cv.need(node, len(axes) == 1 and cuttable.get(axes[0]) == "features",
            f"averages axes {axes} of {shape_str(dims)}; supported: the features (part of a "
            "LayerNorm, see PATTERNS) or the two spatial axes of a feature map")
    cv.acts[node.output[0]] = Tensor(x.src, x.shape, ("stat", x))


def sub(cv, node, srcs):
    if len(srcs) == 2 and srcs[0].note is None and stat_of(srcs[1]) and \
            stat_of(srcs[1]).src == srcs[0].src:
        x = srcs[0]
        cv.acts[node.output[0]] = Tensor(x.src, x.shape, ("centred", x))
        return
    scale(cv, node, srcs)


def power(cv, node, srcs):
    t = srcs[0]
    cv.need(node, len(srcs) == 1 and t.note and t.note[0] in ("centred", "stat"),
            "Pow of an activation is supported only inside a LayerNorm (see PATTERNS)")
    cv.acts[node.output[0]] = Tensor(t.src, t.shape, ("stat", t.note[1]))


def sqrt(cv, node, srcs):
    cv.need(node, bool(stat_of(srcs[0])),
            "Sqrt of an activation is supported only inside a LayerNorm (see PATTERNS)")
    cv.alias(node, srcs[0])


def erf(cv, node, srcs):
    x = srcs[0]
    cv.need(node, x.note is None, "Erf of a pattern step")
    cv.acts[node.output[0]] = Tensor(x.src, x.shape, ("erf", x))


def add_or_pattern(cv, node, srcs):
    noted = [t for t in srcs if t.note]
    if not noted:
        return add(cv, node, srcs)
    cv.need(node, len(srcs) == 1 and len(node.input) == 2 and noted[0].note[0] in ("stat", "erf"),
            f"Add of {noted[0].note[0]}({noted[0].note[1].src}) breaks its pattern (see PATTERNS)")
    cv.alias(node, noted[0])


def div(cv, node, srcs):
    if len(srcs) == 2:
        a, b = srcs
        cv.need(node, a.note and a.note[0] == "centred" and stat_of(b) and
                stat_of(b).src == a.note[1].src,
                "Div of two activations is supported only inside a LayerNorm (see PATTERNS)")
        x = a.note[1]
        return cv.emit(node, "layernorm", [x], x.shape)
    scale(cv, node, srcs)


def mul(cv, node, srcs):
    if len(srcs) == 2:
        a, b = srcs
        if b.note and not a.note:
            a, b = b, a
        if a.note and a.note[0] == "erf" and b.note is None and a.note[1].src == b.src:
            return cv.emit(node, "gelu", [b], b.shape)
        cv.need(node, a.note is None and b.note is None,
                "Mul of a pattern step breaks its pattern (see PATTERNS)")
        return multiply(cv, node, srcs)
    scale(cv, node, srcs)


def multiply(cv, node, srcs):
    """x * y elementwise; y may be a per-channel [C, 1, 1] scale (squeeze-and-excitation)."""
    a, b = srcs
    if prod(b.shape) > prod(a.shape):
        a, b = b, a
    cv.need(node, b.shape == a.shape or b.shape == (a.shape[0], 1, 1),
            f"Mul of {a.src} ({shape_str(a.shape)}) and {b.src} ({shape_str(b.shape)}): "
            "expected equal shapes or a per-channel scale (C x 1 x 1)")
    cv.emit(node, "mul", [a, b], a.shape)



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
    "Add": add_or_pattern,
    "Sum": add,
    "Sub": sub,
    "Mul": mul,
    "Div": div,
    "Pow": power,
    "Sqrt": sqrt,
    "Erf": erf,
    "ReduceMean": reduce_mean,
    "Slice": slice_act,
    "Split": split,
    "Gather": gather,
    "Concat": concat,
    "Sigmoid": elementwise("sigmoid"),
    "HardSigmoid": elementwise("hardsigmoid"),
    "HardSwish": elementwise("hardswish"),
    "Relu": elementwise("relu"),
    "Clip": clip,
    "Softmax": elementwise("softmax"),
    "LayerNormalization": elementwise("layernorm"),
    "Flatten": flatten,
    "Pad": pad,
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
# Ops whose handlers read pattern steps (Tensor.note); any other op refuses them.
PATTERN_OPS = {"ReduceMean", "Sub", "Pow", "Sqrt", "Erf", "Add", "Div", "Mul", "Conv",
               "AveragePool", "MaxPool"}


# ---- output ---------------------------------------------------------------------------------


def render_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
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
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; a config is an ordinary file
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
        prog="onnx2xbarsim.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n", 1)[0] + "\n\n" + __doc__.split("\n\n", 2)[2],
        epilog="Decomposed operators:\n" + PATTERNS + "\n\nSupported ops: " +
        ", ".join(sorted(HANDLERS)) + ".")
    p.add_argument("model", metavar="MODEL.onnx", help="the ONNX model")
    p.add_argument("-o", "--output", metavar="OUT.cfg", help="write here instead of stdout")
    p.add_argument("--name", help="network name (default: the model file's name, sanitised)")
    p.add_argument("--batch-axis", type=int, choices=(0, 1), help="the graph input's batch "
                   "dimension (default: 1 for a [T, 1, F] input, nn.Transformer's sequence-first "
                   "layout; else 0)")
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
        cv = Converter(load(args.model), args.model, args.batch_axis)
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
