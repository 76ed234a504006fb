/* nn: small dense networks for the precision search's DDPG agent -- layers y = W x + b over CBLAS
 * (OpenBLAS sgemm; see ddpg.h on bit-reproducibility), activations, backward passes, Adam, target
 * updates, all in single precision (twice sgemm's rate and half the bytes of double; the agent's
 * convergence tests pass alike). Invariant: a net's parameters are one flat float array, layer by
 * layer W (out x in, row-major) then b (out); gradients and both Adam moments share that layout.
 * Batches are row-major, one sample per row. */
#ifndef XBARSIM_SEARCH_NN_H
#define XBARSIM_SEARCH_NN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gsl/gsl_rng.h>

#include "err.h"

/* OpenBLAS's thread count: process-wide, for every later BLAS call of any net (n >= 1). With 1,
 * OpenBLAS's idle worker threads are also stopped (a later count above 1 starts them again). */
void nn_blas_set_threads(int n);
int nn_blas_threads(void);

/* Adam's constants (Kingma & Ba 2015, PyTorch defaults). */
#define NN_ADAM_BETA1 0.9
#define NN_ADAM_BETA2 0.999
#define NN_ADAM_EPS   1e-8

/* Checkpoint format: magic "XBNN" then a format version. */
#define NN_FILE_MAGIC   UINT32_C(0x4e4e4258)
#define NN_FILE_VERSION UINT32_C(2) /* 2: float arrays (1 held doubles) */

/* Most layers, widest layer and most parameters a net (or a checkpoint) may have. */
#define NN_MAX_LAYERS 64u
#define NN_MAX_WIDTH  (1u << 20)
#define NN_MAX_PARAMS ((size_t)1 << 28)

typedef enum nn_act { NN_ACT_IDENTITY, NN_ACT_RELU, NN_ACT_SIGMOID } nn_act;

/* Shape of one dense layer. */
typedef struct nn_shape {
    unsigned in;  /* inputs per sample, count */
    unsigned out; /* outputs per sample, count */
} nn_shape;

typedef struct nn_net nn_net;

/* A net of n_layers dense layers (1 <= n_layers <= NN_MAX_LAYERS, 1 <= in, out <= NN_MAX_WIDTH, at
 * most NN_MAX_PARAMS parameters; violations are bugs). Parameters, gradients and moments start at
 * 0; call nn_init. How layers connect is the caller's business (the critic sums two of them). Owned
 * by the caller: nn_destroy. */
nn_net *nn_create(unsigned n_layers, const nn_shape *shapes);
/* Free net; NULL is a no-op. */
void nn_destroy(nn_net *net);

unsigned nn_layer_count(const nn_net *net);
nn_shape nn_layer_shape(const nn_net *net, unsigned layer);
/* Parameters in the net, count (= length of nn_params, nn_grads). */
size_t nn_param_count(const nn_net *net);
/* Adam steps taken so far, count (the t of the bias correction). */
uint64_t nn_adam_steps(const nn_net *net);

/* The flat arrays (layout in the file header); pointers stay valid until nn_destroy. */
float *nn_params(nn_net *net);
float *nn_grads(nn_net *net);
/* Views of one layer: W (out x in, row-major) and b (out), in the parameters or the gradients. */
float *nn_weight(nn_net *net, unsigned layer);
float *nn_bias(nn_net *net, unsigned layer);
float *nn_grad_weight(nn_net *net, unsigned layer);
float *nn_grad_bias(nn_net *net, unsigned layer);

/* HAQ's (PyTorch's) initialisation, drawn from r in order layer by layer, W row-major then b:
 * W ~ U(-1/sqrt(in), 1/sqrt(in)) except the last layer's W ~ U(-final_w, final_w) (HAQ: 3e-3);
 * every b ~ U(-1/sqrt(in), 1/sqrt(in)) (PyTorch's nn.Linear default, which HAQ leaves in place).
 * Gradients, moments and the step count are reset to 0. (HAQ's fanin_init reads the fan-in from
 * weight.size()[0], i.e. the output width; we use the true fan-in, as the brief asks.) */
void nn_init(nn_net *net, gsl_rng *r, double final_w);

/* y (n x out) = x (n x in) W^T + b, plus the previous y when accumulate is non-zero (the critic's
 * fc11(s) + fc12(a)). No activation. */
void nn_dense_forward(const nn_net *net, unsigned layer, unsigned n, const float *x, int accumulate,
                      float *y);
/* Apply act in place to count values. */
void nn_act_forward(nn_act act, size_t count, float *y);
/* dy (in place, count values) becomes dL/dz from dL/dy, given the activation's output y:
 * ReLU y > 0 (gradient 0 at the kink, as PyTorch), sigmoid y (1 - y), identity unchanged. */
void nn_act_backward(nn_act act, size_t count, const float *y, float *dy);
/* Backward through a dense layer whose input was x (n x in) and whose pre-activation gradient is
 * dz (n x out): the layer's gradients grow by dW += dz^T x, db += column sums of dz; when dx is not
 * NULL it is overwritten with dL/dx = dz W (n x in). */
void nn_dense_backward(nn_net *net, unsigned layer, unsigned n, const float *x, const float *dz,
                       float *dx);
/* dx (n x in) = dz W only; the gradients are untouched (backward through a net held fixed). */
void nn_dense_backward_input(const nn_net *net, unsigned layer, unsigned n, const float *dz,
                             float *dx);
/* Set every gradient to 0. */
void nn_zero_grad(nn_net *net);

/* One Adam step on the accumulated gradients with step size lr, PyTorch's form:
 * t += 1; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps), in float (lr / (1 - b1^t) and
 * sqrt(1 - b2^t) worked out in double, then rounded). Gradients are left as they are. */
void nn_adam_step(nn_net *net, double lr);

/* dst's parameters = src's (same shapes; moments, step count and gradients of dst untouched). */
void nn_copy(nn_net *dst, const nn_net *src);
/* dst's parameters = dst (1 - tau) + src tau, elementwise in that order, with 1 - tau and tau
 * rounded to float (HAQ's soft_update). */
void nn_soft_update(nn_net *dst, const nn_net *src, double tau);

/* nn_adam_step(net, lr) then nn_soft_update(target, net, tau), with the same results, in one
 * vectorised pass over the parameters (target: same shapes, not net). */
void nn_adam_soft_step(nn_net *net, double lr, nn_net *target, double tau);

/* Write shapes, parameters, Adam moments and step count (not the gradients, which every user
 * recomputes from zero) in the host's binary layout. Returns 0, or ERR_IO with e filled. */
int nn_save(const nn_net *net, FILE *f, err *e);
/* Read what nn_save wrote. Returns a new net owned by the caller, or NULL with e filled (ERR_IO on
 * a short read, ERR_INPUT on a bad magic or version, ERR_LIMIT on shapes beyond the limits). */
nn_net *nn_load(FILE *f, err *e);

#endif
