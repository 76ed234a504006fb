/* network: a DNN as a graph of layers, loaded from the `network` group of a libconfig file
 * (configs/net/README.md). Every shape is derived and checked at load, and every crossbar layer is
 * lowered to `repeat` weight matrices of R rows x N columns that P input vectors each multiply.
 * Invariant: layers are in evaluation order (every input of layer i is the network input or a
 * layer before i), and a loaded network is complete and consistent: code reading it never checks.
 */
#ifndef XBARSIM_MAPPER_NETWORK_H
#define XBARSIM_MAPPER_NETWORK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define NETWORK_MAX_INPUTS 8    /* inputs of one layer (an add's summands), count */
#define NETWORK_INPUT      (-1) /* a layer-input index meaning the network input */

/* Layer kinds, one row each: X(ID, config name, on crossbar, min inputs, max inputs, elementwise,
 * sign, vector op, functional). Code that uses kinds looks these columns up; only code truly
 * specific to one kind (its keys and shape rule in network.c, its arithmetic in search/fnet.c)
 * names a kind, and a kind such code does not handle is a bug (network_bad_kind), never a default.
 *   on crossbar  weights held in crossbars (else the layer runs on the vector modules)
 *   min/max inputs  inputs the layer takes, count
 *   elementwise  output shape = input shape and every input element is read once (network.c needs
 *                no code of its own for the kind)
 *   sign         what the op does to non-negative inputs (network_sign): NONNEG, the output is >= 0
 *                whatever the input; KEEP, non-negative inputs give a non-negative output; ANY,
 *                no guarantee. The accuracy proxy and the functional model read it to know which
 *                crossbar inputs are unsigned.
 *   vector op    the vector-module operation a digital layer is (VECMOD_OP_<op>, emit.c); crossbar
 *                layers: COMBINE (their outputs' post-processing)
 *   functional   search/fnet.c's functional model implements it */
#define NETWORK_LAYER_KIND_MAP(X)                                                                  \
    X(CONV2D, "conv2d", true, 1, 1, false, ANY, COMBINE, true)                                     \
    X(LINEAR, "linear", true, 1, 1, false, ANY, COMBINE, true)                                     \
    X(MATMUL, "matmul", true, 1, 2, false, ANY, COMBINE, false)                                    \
    X(POOL, "pool", false, 1, 1, false, KEEP, POOL, true)                                          \
    X(ADD, "add", false, 2, NETWORK_MAX_INPUTS, false, KEEP, RESIDUAL_ADD, true)                   \
    X(RELU, "relu", false, 1, 1, true, NONNEG, ACTIVATION, true)                                   \
    X(RELU6, "relu6", false, 1, 1, true, NONNEG, ACTIVATION, true)                                 \
    X(GELU, "gelu", false, 1, 1, true, ANY, ACTIVATION, false)                                     \
    X(SOFTMAX, "softmax", false, 1, 1, true, NONNEG, OTHER, false)                                 \
    X(LAYERNORM, "layernorm", false, 1, 1, true, ANY, OTHER, false)                                \
    X(FLATTEN, "flatten", false, 1, 1, false, KEEP, OTHER, true)                                   \
    X(TOKENS, "tokens", false, 1, 1, false, ANY, OTHER, false)                                     \
    X(SLICE, "slice", false, 1, 1, false, KEEP, OTHER, false)                                      \
    X(SIGMOID, "sigmoid", false, 1, 1, true, NONNEG, ACTIVATION, false)                            \
    X(HARDSIGMOID, "hardsigmoid", false, 1, 1, true, NONNEG, ACTIVATION, false)                    \
    X(HARDSWISH, "hardswish", false, 1, 1, true, ANY, ACTIVATION, false)                           \
    X(MUL, "mul", false, 2, 2, false, KEEP, OTHER, false)                                          \
    X(CONCAT, "concat", false, 2, NETWORK_MAX_INPUTS, false, KEEP, OTHER, false)

typedef enum network_layer_kind {
#define NETWORK_KIND_ENUM(id, name, xbar, min_in, max_in, elementwise, sign, vec_op, functional)   \
    NETWORK_KIND_##id,
    NETWORK_LAYER_KIND_MAP(NETWORK_KIND_ENUM)
#undef NETWORK_KIND_ENUM
        NETWORK_KIND_COUNT
} network_layer_kind;

/* The sign column of NETWORK_LAYER_KIND_MAP. */
typedef enum network_sign {
    NETWORK_SIGN_ANY,    /* no guarantee on the output's sign */
    NETWORK_SIGN_KEEP,   /* non-negative inputs give a non-negative output */
    NETWORK_SIGN_NONNEG, /* the output is non-negative whatever the input */
} network_sign;

/* Pooling: a window (max or average, PyTorch's floor rounding, or its ceil_mode) or the average of
 * the whole input (AdaptiveAvgPool2d(1)). */
#define NETWORK_POOL_MODE_MAP(X)                                                                   \
    X(MAX, "max")                                                                                  \
    X(AVG, "avg")                                                                                  \
    X(GLOBAL_AVG, "global_avg")

typedef enum network_pool_mode {
#define NETWORK_POOL_ENUM(id, name) NETWORK_POOL_##id,
    NETWORK_POOL_MODE_MAP(NETWORK_POOL_ENUM)
#undef NETWORK_POOL_ENUM
        NETWORK_POOL_COUNT
} network_pool_mode;

/* The axis a slice cuts: features (the channels of a feature map) or tokens (its height). */
#define NETWORK_SLICE_AXIS_MAP(X)                                                                  \
    X(FEATURES, "features")                                                                        \
    X(TOKENS, "tokens")

typedef enum network_slice_axis {
#define NETWORK_AXIS_ENUM(id, name) NETWORK_AXIS_##id,
    NETWORK_SLICE_AXIS_MAP(NETWORK_AXIS_ENUM)
#undef NETWORK_AXIS_ENUM
        NETWORK_AXIS_COUNT
} network_slice_axis;

/* A tensor: a feature map is channels x height x width; a token stream is features x tokens x 1
 * (channels = features, height = tokens, width = 1). */
typedef struct network_shape {
    unsigned channels; /* channels, or features of a token stream, count */
    unsigned height;   /* rows, or tokens of a token stream, count */
    unsigned width;    /* columns; 1 for a token stream, count */
} network_shape;

typedef struct network_layer {
    char *name; /* unique within the network; owned */
    network_layer_kind kind;
    unsigned line;                  /* line of the layer's group in its file, 0 when unknown */
    unsigned n_inputs;              /* 1..NETWORK_MAX_INPUTS */
    int inputs[NETWORK_MAX_INPUTS]; /* layer indices below this one's, or NETWORK_INPUT */
    network_shape in;               /* shape of inputs[0] */
    network_shape out;              /* shape of the output */

    /* Kind parameters (the member named after the kind is valid). */
    union {
        struct {
            unsigned in_channels, out_channels; /* count */
            unsigned kernel_h, kernel_w;        /* window, pixels */
            unsigned stride_h, stride_w;        /* pixels */
            unsigned pad_h, pad_w;              /* zero padding on each side, pixels */
            unsigned groups;                    /* channel groups; in_channels = depthwise */
            bool batch_norm; /* batch norm after the product: trained with batch statistics by
                                the functional model, folded into weights and bias for
                                inference; free in the cost model */
        } conv;
        struct {
            unsigned in_features, out_features; /* count */
            unsigned tokens;                    /* input vectors, count */
        } linear;
        struct {
            unsigned rows, cols;  /* stored operand of one repeat: contraction dim x outputs */
            unsigned invocations; /* input vectors per repeat (= input tokens), count */
            unsigned repeat;      /* independent products, e.g. attention heads, count */
        } matmul;
        struct {
            network_pool_mode mode;
            unsigned kernel_h, kernel_w; /* window, pixels (global: the input's) */
            unsigned stride_h, stride_w; /* pixels */
            unsigned pad_h, pad_w;       /* pixels */
            bool ceil_mode; /* output size rounded up (PyTorch's ceil_mode); a window that would
                               start in the right padding is dropped */
        } pool;
        struct {
            unsigned prepend; /* learned tokens put before the H*W image tokens, count */
        } tokens;
        struct {
            network_slice_axis axis;
            unsigned start, count; /* the kept range [start, start + count) of the axis */
        } slice;
    };

    /* The lowered crossbar view (crossbar layers only; all zero for the others): `repeat`
     * independent matrices of rows x cols weights, each multiplied by `vectors` input vectors per
     * inference. conv2d: rows = K_h*K_w*C_in/groups, cols = C_out/groups, vectors = OH*OW,
     * repeat = groups; linear: in x out features, vectors = tokens; matmul: rows x cols,
     * vectors = invocations, repeat. */
    struct {
        uint64_t rows;    /* R: rows of one matrix, count */
        uint64_t cols;    /* N: columns of one matrix, count */
        uint64_t vectors; /* P: input vectors per matrix per inference, count */
        unsigned repeat;  /* independent R x N matrices, count */
        uint64_t weights; /* R * N * repeat, count */
        bool dynamic;     /* written every inference from a layer's output (a matmul's stored
                             operand), not a trained parameter */
    } xbar;
    int xbar_index; /* position among the crossbar layers, -1 for a digital layer */

    /* Digital layers: input elements read per inference (a window pool reads each window,
     * OH*OW*C*K_h*K_w; an add reads every summand; flatten and slice are views and read none).
     * 0 for crossbar layers. */
    uint64_t elements;
} network_layer;

typedef struct network {
    char *origin;          /* file loaded, or the origin given for a string; owned */
    char *name;            /* network.name; owned */
    network_shape input;   /* network.input */
    unsigned n_layers;     /* count, >= 1 */
    network_layer *layers; /* in evaluation order; owned */
    unsigned n_xbar;       /* crossbar layers, count */
    unsigned *xbar;        /* layer index of each crossbar layer, in order; owned */
} network;

/* Load the `network` group of the libconfig file at path into *out (other top-level settings are
 * ignored). Returns 0, or a negative status (ERR_IO: unreadable; ERR_INPUT: bad content) with e
 * holding "file:line: setting.path: found ..., expected ..."; a layer's settings are named
 * `network.layers.[i].key (layer "name")`, i from 0. On error *out is untouched (never
 * half-loaded). On success *out owns everything it points to: network_fini. */
int network_load_file(const char *path, network *out, err *e);
/* Same for a config text held in memory (no @include); origin names it in messages. */
int network_load_string(const char *text, const char *origin, network *out, err *e);
/* Release what a loaded network owns and zero it. n may be NULL; idempotent. */
void network_fini(network *n);

/* Index of the layer called name, or -1. */
int network_find_layer(const network *n, const char *name);
/* Sum of the weights of the crossbar layers that hold trained parameters (dynamic matmul operands
 * excluded), count. Biases and normalisation parameters are not crossbar weights. */
uint64_t network_total_weights(const network *n);
/* Sum of the weights written every inference (matmuls with a stored operand input), count. */
uint64_t network_total_dynamic_weights(const network *n);
/* Element count of a shape. */
uint64_t network_shape_elements(network_shape s);

/* Print one line per layer (index, name, kind, in -> out shape, R x N x repeat, P, weights or
 * elements) under a header, then the totals. n must be loaded. */
void network_print_summary(const network *n, FILE *out);

/* Registry look-ups: names as in the config. parse returns 0, or -1 for an unknown name. The
 * kind look-ups read the columns of NETWORK_LAYER_KIND_MAP (k must be a kind: asserted). */
const char *network_layer_kind_name(network_layer_kind k);
bool network_layer_kind_on_crossbar(network_layer_kind k);
network_sign network_layer_kind_sign(network_layer_kind k);
bool network_layer_kind_functional(network_layer_kind k);
/* Whether a layer of kind k has a non-negative output when all_inputs_nonneg says whether every
 * one of its inputs has (the sign column applied). */
bool network_layer_kind_output_nonneg(network_layer_kind k, bool all_inputs_nonneg);
/* A kind reached code that does not handle it: a bug. Prints the kind and `where`, then aborts
 * (also in builds without assertions). */
_Noreturn void network_bad_kind(network_layer_kind k, const char *where);
int network_layer_kind_parse(const char *name, network_layer_kind *k);
const char *network_pool_mode_name(network_pool_mode m);
const char *network_slice_axis_name(network_slice_axis a);

#endif
