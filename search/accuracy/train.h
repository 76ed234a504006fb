/* train: mini-batch training of an fnet -- softmax cross-entropy, Adam (PyTorch's defaults:
 * beta1 0.9, beta2 0.999, eps 1e-8) with a constant or cosine step size, optional random-shift and
 * horizontal-flip augmentation, the training set reshuffled every epoch by a seeded GSL stream --
 * and its evaluation. Invariant: the same net, data, config and thread count give the same
 * parameters, bit for bit.
 */
#ifndef XBARSIM_SEARCH_TRAIN_H
#define XBARSIM_SEARCH_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "err.h"
#include "fnet.h"

#define TRAIN_EVAL_CHUNK 500 /* images per forward pass when evaluating, count */

/* The step size over the run: constant, or cosine annealing (Loshchilov and Hutter, "SGDR", ICLR
 * 2017, eq. 5 without restarts): lr x (1 + cos(pi x step / steps)) / 2, from lr down to 0 at the
 * last step. */
typedef enum train_schedule { TRAIN_LR_CONSTANT, TRAIN_LR_COSINE, TRAIN_LR_COUNT } train_schedule;

#define TRAIN_MAX_SHIFT 8 /* largest random shift, pixels */

typedef struct train_config {
    unsigned epochs;         /* passes over the training set, count (0: none) */
    size_t batch;            /* images per step, count >= 1 */
    double lr;               /* Adam's (peak) step size, dimensionless > 0 */
    train_schedule schedule; /* how the step size moves over the run's steps */
    unsigned shift;          /* augmentation: shift each image by dx, dy uniform in -shift..shift
                                pixels, zeros filling in (= random crop of a zero-padded image,
                                He et al. CVPR 2016 sec. 4.2), 0..TRAIN_MAX_SHIFT; 0: none */
    bool flip;               /* augmentation: mirror each image left-right with probability 1/2 */
    uint64_t seed;           /* shuffling stream (seed, 1), augmentation stream (seed, 2) */
} train_config;

/* The schedule's name ("constant", "cosine") or NULL past the end. */
const char *train_schedule_name(train_schedule s);
/* Step size of step `step` (from 0) of `steps` under c's schedule, dimensionless. */
double train_lr_at(const train_config *c, uint64_t step, uint64_t steps);
/* Copy the `planes` planes of rows x cols pixels src to dst (not overlapping), mirrored left-right
 * when flip, then moved right by dx and down by dy pixels (negative: left, up); zeros fill what
 * the move uncovers. */
void train_augment_image(float *dst, const float *src, size_t planes, unsigned rows, unsigned cols,
                         int dx, int dy, bool flip);

/* What one epoch gave. */
typedef struct train_epoch {
    unsigned epoch;   /* index from 0 */
    double loss;      /* mean training loss over the epoch's batches, nats */
    double train_acc; /* accuracy on the batches as trained (before each step), fraction */
    double test_acc;  /* accuracy on the test set after the epoch, fraction; -1: no test set */
    double seconds;   /* wall time of the epoch and its test, s */
} train_epoch;

/* Called after every epoch (may be NULL). */
typedef void (*train_epoch_fn)(const train_epoch *ep, void *ctx);

/* Train f on tr for c->epochs (batch norm in training mode during the steps, evaluation mode
 * after), testing on te (NULL: no test) after each epoch (0 epochs: nothing,
 * the data unread). Returns 0, or
 * ERR_INPUT when the images do not have fnet_in_size pixels, a label is not below
 * fnet_out_size or a setting is out of range (e says which). */
int train_run(fnet *f, const dataset *tr, const dataset *te, const train_config *c,
              train_epoch_fn cb, void *ctx, err *e);
/* Accuracy of f on the n images x (n x fnet_in_size) with labels y, TRAIN_EVAL_CHUNK at a time,
 * fraction. Whatever hooks f has set act. */
double train_accuracy(fnet *f, const float *x, const uint8_t *y, size_t n);
/* Check that ds fits f (image size and labels); ERR_INPUT naming what (`what`: "training set"). */
int train_check_data(const fnet *f, const dataset *ds, const char *what, err *e);

#endif
