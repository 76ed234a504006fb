/* weights: the HDF5 weights file of a functional network (schema in traces/README.md, "Weights
 * files"): /meta attributes (format "xbarsim-weights", format_version, network, ...) and per
 * crossbar layer /layers/<name>/weight (float32, PyTorch's shape: out x in, or
 * out/groups x in x kh x kw) and /layers/<name>/bias (float32, out); a batch-normalised conv adds
 * bn_weight, bn_bias, bn_running_mean, bn_running_var (float32, out) unless the file was written
 * after folding (/meta batch_norm_folded = 1: the weights and biases are the folded ones).
 * Invariant: a load either fills every crossbar layer of the net or changes nothing.
 */
#ifndef XBARSIM_SEARCH_WEIGHTS_H
#define XBARSIM_SEARCH_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fnet.h"
#include "h5file.h"

#define WEIGHTS_FORMAT         "xbarsim-weights"
#define WEIGHTS_FORMAT_VERSION 1

/* What /meta says of the training (written as attributes; see traces/README.md). */
typedef struct weights_meta {
    const char *source;       /* "xbarsim train", ... */
    double test_accuracy;     /* fraction, -1: not measured */
    unsigned epochs;          /* float training epochs, count */
    unsigned finetune_epochs; /* QAT epochs, count */
    const char *policy;       /* QAT policy spec, "" for none */
    uint64_t batch;           /* images per step, count */
    double lr;                /* Adam's step size */
    uint64_t seed;
    uint64_t train_images; /* images trained on, count */
} weights_meta;

/* Write f's parameters and m into the open file h (the caller made /meta with cli_meta_write or
 * not, and commits). 0, or ERR_IO with e set. */
int weights_write(h5file *h, const fnet *f, const weights_meta *m, err *e);
/* Read the weights of every crossbar layer of f (fresh: not folded) from path; a folded file
 * folds f's batch norms first. Returns 0, ERR_IO (cannot open), or
 * ERR_INPUT naming path, dataset, what was found and expected (a layer missing, a wrong shape, a
 * /meta network or format that differs); f unchanged on error. *test_accuracy (if not NULL) gets
 * /meta's test_accuracy or -1. */
int weights_read(fnet *f, const char *path, double *test_accuracy, err *e);
/* The same from an HDF5 file image image[0..size) in memory (HDF5's core driver; the image is
 * copied, the caller keeps it), named origin in messages. ERR_INPUT when it is no HDF5 file. */
int weights_read_image(fnet *f, const void *image, size_t size, const char *origin,
                       double *test_accuracy, err *e);

#endif
