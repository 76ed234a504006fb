/* fnet: the float functional model of a small network (MLP, LeNet, ResNet-8, MobileNet class)
 * built from a `network` graph -- forward and backward passes over mini-batches, softmax
 * cross-entropy, hooks for fake quantisation (QAT) and for replacing a crossbar layer's product
 * (quantised inference). Supported kinds: conv2d (stride, padding, groups incl. depthwise, batch
 * norm), linear (one token), relu, relu6, pool (max, avg with PyTorch's count_include_pad,
 * global_avg), flatten and add (any number of summands), on any graph the network loader accepts.
 * Invariant: parameters are one flat float array, per crossbar layer W, b, then (batch norm)
 * gamma, beta; W laid out as PyTorch's (out x in, or out x in/groups x kh x kw); gradients share
 * that layout. Batch norm's running statistics are kept apart (not trained). Batches are
 * row-major, one sample (C x H x W) per row. The same inputs and thread count give the same bits:
 * batch loops write disjoint rows and every reduction is a BLAS call or a fixed-order loop.
 *
 * Batch norm (a conv2d with batch_norm = true): y = gamma (z - mu) / sqrt(var + 1e-5) + beta per
 * output channel after the product and its bias z; in training mode (fnet_set_training) mu and var
 * are the batch's (biased), and the running statistics follow with momentum 0.1 (unbiased
 * variance), as PyTorch's BatchNorm2d; otherwise the running statistics. For inference on a
 * crossbar, fnet_fold_batch_norm folds it into the layer: W' = W s, b' = (b - mu) s + beta with
 * s = gamma / sqrt(var + 1e-5) per output channel -- the crossbar holds W' and the vector module
 * adds b' digitally, as the cost model prices it (no batch-norm layer).
 */
#ifndef XBARSIM_SEARCH_FNET_H
#define XBARSIM_SEARCH_FNET_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "network.h"

typedef struct fnet fnet;

/* A crossbar layer's product Y_g = X_g W_g^T for each of its `groups` channel groups replaced,
 * e.g. by integer or crossbar arithmetic. in holds the layer's B input samples as they are
 * (fnet_in_size-like: the layer's input channels x height x width each), not lowered: X_g is
 * their lowering, groups blocks of v x r (im2col rows of a conv, one row per output pixel per
 * sample; block g for input channels g C/groups ..), which the hook builds itself -- e.g. after
 * quantising in, with fnet_lower_levels, which quantises 1/(kh kw) of the elements a lowered
 * array has. y: groups blocks of v x n to be filled (block g for output channels g n .. g n + n -
 * 1); the weights of group g are rows g n .. of the layer's (groups n x r) float weights. Called
 * in layer order from fnet_forward; ctx is the caller's. */
typedef void (*fnet_matmul_fn)(void *ctx, unsigned xbar, const float *in, size_t B, size_t v,
                               size_t r, size_t n, size_t groups, float *y);
/* Asked before a crossbar layer's inputs are lowered (same arguments as fnet_matmul_fn but the
 * inputs): true when it has filled y with the product of this pass itself (e.g. from a cache),
 * and then neither lowering nor the product runs; false: they run as usual. */
typedef bool (*fnet_reuse_fn)(void *ctx, unsigned xbar, size_t v, size_t n, size_t groups,
                              float *y);

/* Fake quantisation of one crossbar layer for quantisation-aware training: weights symmetric per
 * tensor at wb bits (step max|w| / (2^(wb-1) - 1)), inputs to ab bits of step in_step, unsigned
 * (levels 0 .. 2^ab - 1) or signed (-(2^(ab-1) - 1) .. 2^(ab-1) - 1). Straight-through gradients:
 * the weight gradient passes unchanged, the input gradient where the input lies inside the range.
 * wb 0 leaves the layer in float. */
typedef struct fnet_fq {
    unsigned wb;    /* weight bits, 0: float */
    unsigned ab;    /* input bits */
    bool in_signed; /* signed input levels */
    float in_step;  /* input step, units of the input (> 0) */
} fnet_fq;

/* Build the float model of n with fresh parameters (He-uniform weights, bound sqrt(6 / fan_in),
 * zero biases) drawn from the GSL stream (seed, 0). Returns 0 with *out owned by the caller
 * (fnet_destroy), or ERR_INPUT naming the first layer it cannot model (kind, groups, tokens, or an
 * input that is not the layer before) -- "network.layers.[i] (layer "x"): found ..., expected". */
int fnet_create(const network *n, uint64_t seed, fnet **out, err *e);
/* A copy with the same parameters (gradients and hooks cleared). Owned by the caller. */
fnet *fnet_clone(const fnet *f);
/* Free f; NULL is a no-op. */
void fnet_destroy(fnet *f);

/* The network given to fnet_create (borrowed: it must outlive f). */
const network *fnet_network(const fnet *f);
/* Elements of one input sample and of one output (logits), count. */
size_t fnet_in_size(const fnet *f);
size_t fnet_out_size(const fnet *f);
/* The flat parameter and gradient arrays (layout above), fnet_param_count floats each. */
size_t fnet_param_count(const fnet *f);
float *fnet_params(fnet *f);
const float *fnet_params_const(const fnet *f);
float *fnet_grads(fnet *f);
/* Crossbar layer k's weights (PyTorch layout, *count floats, all groups) and biases (*count
 * floats, one per output channel). */
float *fnet_weight(fnet *f, unsigned k, size_t *count);
float *fnet_bias(fnet *f, unsigned k, size_t *count);
/* Crossbar layer k's lowered dims of one group: rows r (in/groups x kh x kw) and columns n
 * (out/groups), counts; and its groups (1 unless a grouped conv), count. */
void fnet_xbar_dims(const fnet *f, unsigned k, size_t *r, size_t *n);
/* Elements of one input sample of crossbar layer k (channels x height x width), count. */
size_t fnet_xbar_in_size(const fnet *f, unsigned k);
size_t fnet_xbar_groups(const fnet *f, unsigned k);
/* Crossbar layer k's batch norm: returns its channels C and points at gamma, beta (parameters)
 * and the running mean and variance (C floats each), or 0 when it has none (or it is folded). */
size_t fnet_batch_norm(fnet *f, unsigned k, float **gamma, float **beta, float **mean, float **var);
/* Batch norm from batch statistics (training, true) or the running ones (false, the default). */
void fnet_set_training(fnet *f, bool training);
/* Fold every batch norm into its layer's weights and bias (see above); the layers then have none.
 * The folded net computes in evaluation mode what the unfolded one did, to float rounding. */
void fnet_fold_batch_norm(fnet *f);
/* Whether the input of crossbar layer k is non-negative by construction (it comes from a relu
 * through pools and flattens) or, for the network input, when input_nonneg. */
bool fnet_xbar_input_nonneg(const fnet *f, unsigned k, bool input_nonneg);

/* Forward pass of the B samples in x (B x fnet_in_size). The logits are fnet_output's. */
void fnet_forward(fnet *f, const float *x, size_t B);
/* The last forward's logits, B x fnet_out_size. */
const float *fnet_output(const fnet *f);
/* The lowered input of crossbar layer k in the last forward (before fake quantisation), *v rows
 * of fnet_xbar_dims' r floats (the groups' blocks one after the other). */
const float *fnet_xbar_input(const fnet *f, unsigned k, size_t *v);
/* Mean softmax cross-entropy of the last forward against labels y (B of them, each below
 * fnet_out_size), nats; also sets the output gradient for fnet_backward. */
double fnet_loss(fnet *f, const uint8_t *y, size_t B);
/* Backward pass of the last forward and loss: adds d(mean loss)/d(parameter) into the gradients
 * (fnet_zero_grad first). */
void fnet_backward(fnet *f);
void fnet_zero_grad(fnet *f);
/* Class with the largest logit of sample b of the last forward (the lowest index on ties). */
unsigned fnet_argmax(const fnet *f, size_t b);

/* Hooks: m (NULL: BLAS) replaces every crossbar product in forward passes (fnet_xbar_input is
 * then stale: fnet lowers nothing), r (NULL: none; only with m) may supply one before it is
 * computed;
 * fq (NULL: none; else one per crossbar layer, copied) fakes quantisation. */
void fnet_set_matmul(fnet *f, fnet_matmul_fn m, fnet_reuse_fn r, void *ctx);
/* Crossbar layer k's lowering (as fnet_matmul_fn describes X) of B samples of its input in
 * quantised levels: in holds B x the layer's input size int32 levels, X receives groups blocks of
 * v x r (padding gives level 0, the level of 0.0 for every quantiser here). */
void fnet_lower_levels(const fnet *f, unsigned k, const int32_t *in, size_t B, int32_t *X);
void fnet_set_fake_quant(fnet *f, const fnet_fq *fq);

/* Symmetric per-tensor weight quantisation shared by QAT and the quantised inference: the step
 * max|w| / (2^(wb-1) - 1) (1 when every w is 0; wb >= 2), and the level of w. */
float fnet_weight_step(const float *w, size_t count, unsigned wb);
/* Inline: the quantised inference calls it once per input element. Rounding is half to even, as
 * PyTorch's torch.round: for |t| < 2^22, adding and subtracting 1.5 x 2^23 leaves t rounded to an
 * integer in the default rounding mode, the same value as rintf(t) without its library call. */
static inline int32_t fnet_quantize(float x, float step, int32_t lo, int32_t hi)
{
    float t = x / step;
    float q = fabsf(t) < 0x1p22f ? (t + 0x1.8p23f) - 0x1.8p23f : rintf(t);
    if (!(q >= (float)lo))
        return lo; /* also NaN */
    if (q > (float)hi)
        return hi;
    return (int32_t)q;
}
/* out[i] = fnet_quantize(x[i], step, lo, hi) for i < count, the same values, in a loop the
 * compiler vectorises (OpenMP over i); the levels must lie within +-2^22 (ab <= 22 bits). */
void fnet_quantize_array(const float *x, size_t count, float step, int32_t lo, int32_t hi,
                         int32_t *out);
/* Activation levels at ab bits: unsigned 0 .. 2^ab - 1, signed -(2^(ab-1) - 1) .. 2^(ab-1) - 1. */
void fnet_act_levels(unsigned ab, bool is_signed, int32_t *lo, int32_t *hi);

#endif
