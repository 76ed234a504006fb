/* train: mini-batch training of an fnet -- softmax cross-entropy, Adam (PyTorch's defaults:
 * beta1 0.9, beta2 0.999, eps 1e-8), the training set reshuffled every epoch by a seeded GSL
 * stream -- and its evaluation. Invariant: the same net, data, config and thread count give the
 * same parameters, bit for bit.
 */
#ifndef XBARSIM_SEARCH_TRAIN_H
#define XBARSIM_SEARCH_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "err.h"
#include "fnet.h"

#define TRAIN_EVAL_CHUNK 500 /* images per forward pass when evaluating, count */

typedef struct train_config {
    unsigned epochs; /* passes over the training set, count (0: none) */
    size_t batch;    /* images per step, count >= 1 */
    double lr;       /* Adam's step size, dimensionless > 0 */
    uint64_t seed;   /* shuffling stream (seed, 1) */
} train_config;

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
