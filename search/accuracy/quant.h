/* quant: post-training quantisation of an fnet under a policy, and its inference through one of
 * three arithmetics: float (no quantisation), integer (an exact int64 GEMM of the quantised
 * operands) or crossbar (components/xbarfunc: cells, DAC steps, rows_active, ADC bits and mode).
 *
 * Model, per crossbar layer k with policy bits wb, ab and ADC bits adc (policy_adc_bits):
 *   weights  symmetric per tensor: step s_w = max|W| / (2^(wb-1) - 1), levels round(W / s_w)
 *            (half to even) in [-(2^(wb-1) - 1), 2^(wb-1) - 1]; wb >= 2. Batch norm must be
 *            folded first (fnet_fold_batch_norm): the folded weights are quantised.
 *   inputs   unsigned (levels 0 .. 2^ab - 1) when the input comes from a relu through pools and
 *            flattens, or is the network input (images in [0, 1]); else signed
 *            (-(2^(ab-1) - 1) .. 2^(ab-1) - 1). Step s_a = clip / (top level), clip = the largest
 *            |input| of the layer over the calibration images (quant_calibrate: float forward of
 *            the first QUANT_CALIB_IMAGES training images), so nothing in the calibration set is
 *            clipped; the network input uses the first layer's ab.
 *   product  y = s_w s_a sum_r x_r w_r (int64 sum, exact in integer, by the crossbar otherwise),
 *            then + bias in float; relu, pools and flatten in float; the next crossbar layer
 *            quantises (requantises) its input again.
 * Grouped layers (depthwise convs): G matrices of r x n. The crossbar runs them on the tiles the
 * mapper prices (mapping_pack): `pack` groups' matrices on one tile's diagonal, programmed as one
 * block-diagonal matrix of pack r rows x pack n columns whose off-diagonal weights are 0 (so under
 * the unsigned and offset mappings those cells hold the offset level and the digital offset
 * correction covers every row of the tile), the groups' inputs driven together; a last tile holds
 * the remaining groups. Integer arithmetic multiplies each group's r x n matrix alone.
 * Invariant: integer and crossbar arithmetic see the same integer operands, so with a lossless
 * ADC their logits are identical bit for bit.
 */
#ifndef XBARSIM_SEARCH_QUANT_H
#define XBARSIM_SEARCH_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "err.h"
#include "fnet.h"
#include "policy.h"
#include "qcache.h"
#include "xbarfunc.h"

#define QUANT_CALIB_IMAGES 1000 /* calibration images (first of the training set), count */

typedef enum quant_path {
    QUANT_FLOAT,    /* the float model, no quantisation */
    QUANT_INTEGER,  /* exact integer GEMM of the quantised operands */
    QUANT_CROSSBAR, /* xbarfunc_layer_forward */
    QUANT_SLICED    /* xbarfunc_layer_forward_sliced: conversion by conversion even when lossless */
} quant_path;

typedef struct quant_layer {
    unsigned wb, ab;     /* bits */
    unsigned adc;        /* ADC bits */
    bool in_signed;      /* signed input levels */
    float w_step;        /* weight step, units of the weights */
    float in_step;       /* input step, units of the input */
    int32_t *wq;         /* per group r x n integer weights, w[(g r + k) n + c] (crossbar layout);
                            owned */
    size_t r, n;         /* rows, columns of one group, counts */
    size_t g;            /* groups, count */
    unsigned pack;       /* groups per crossbar tile (block-diagonal), count */
    unsigned n_xf;       /* crossbar matrices: ceil(g / pack), count */
    xbarfunc_layer **xf; /* crossbar paths only: n_xf matrices; owned */
} quant_layer;

/* Scratch of the integer products, grown on demand; a caller that evaluates many nets may keep
 * one across them (quant_use_scratch) so that the buffers are not mapped afresh each time. */
typedef struct quant_scratch {
    int32_t *xq;                           /* a layer's quantised input samples */
    int32_t *xi;                           /* integer inputs (lowered) */
    int64_t *yi;                           /* integer outputs */
    int32_t *xp;                           /* a packed tile's inputs */
    int64_t *yp;                           /* a packed tile's outputs */
    size_t xq_cap;                         /* elements allocated, count */
    size_t xi_cap, yi_cap, xp_cap, yp_cap; /* elements allocated, counts */
} quant_scratch;

/* Free what s holds and zero it (s may be NULL). */
void quant_scratch_fini(quant_scratch *s);

typedef struct quant_net {
    fnet *f; /* borrowed: its float weights and biases */
    quant_path path;
    unsigned n;        /* crossbar layers, count */
    quant_layer *l;    /* owned */
    uint64_t clipped;  /* ADC conversions that clipped or lost bits since the last reset, count */
    quant_scratch own; /* the net's own scratch, freed by quant_fini */
    quant_scratch *s;  /* the scratch in use: &own, or the caller's (quant_use_scratch) */
    qcache *cache;     /* borrowed; NULL: every product computed */
    size_t pass;       /* forward passes begun since the evaluation started, count */
} quant_net;

/* The largest |input| of every crossbar layer of f (clip[0 .. n_xbar-1]) over the count images
 * of x, forwarded in chunks of TRAIN_EVAL_CHUNK through f as it is (its hooks act). */
void quant_calibrate(fnet *f, const float *x, size_t count, float *clip);

/* Quantise f under p (one entry per crossbar layer, wb >= 2) with input clips from
 * quant_calibrate, for arithmetic `path` on arch a with ADC mode `mode` (a unused for QUANT_FLOAT
 * and QUANT_INTEGER; may be NULL then). Returns 0 with *q (quant_fini), or ERR_INPUT naming the
 * layer (wb 1, bits out of range, what xbarfunc_layer_create rejects). */
int quant_build(fnet *f, const policy *p, const arch *a, xbarfunc_adc_mode mode, const float *clip,
                quant_path path, quant_net *q, err *e);
void quant_fini(quant_net *q);

/* From now on q works in s (borrowed; kept by the caller for the next net) instead of its own. */
void quant_use_scratch(quant_net *q, quant_scratch *s);
/* From now on, q's crossbar products are looked up in c (borrowed; NULL: none) and stored there,
 * the layers keyed by their bits and input steps, `chip` digesting all else they depend on (arch,
 * device sample, ADC mode: xbarfunc_params_digest; qcache_begin). Only for a
 * crossbar path whose weights and calibration are those of every evaluation sharing c (no QAT),
 * and evaluations that forward the same images in the same passes. */
void quant_use_cache(quant_net *q, qcache *c, uint64_t chip);
/* Logits of the B images x through q (B x fnet_out_size into out). Adds to q->clipped. */
void quant_forward(quant_net *q, const float *x, size_t B, float *out);
/* Accuracy through q on n images, fraction. Adds to q->clipped. */
double quant_accuracy(quant_net *q, const float *x, const uint8_t *y, size_t n);
/* The fake-quantisation settings that train f towards q (fq[0 .. n-1]). */
void quant_fake(const quant_net *q, fnet_fq *fq);

/* The integer GEMM y[v n + c] = sum_r x[v r + k] w[k n + c] (int64), OpenMP over v. */
void quant_int_gemm(const int32_t *x, const int32_t *w, size_t V, size_t R, size_t N, int64_t *y);

#endif
