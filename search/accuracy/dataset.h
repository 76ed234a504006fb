/* dataset: labelled image sets read from IDX files (LeCun's MNIST format, as Fashion-MNIST ships
 * them), gzip-compressed or not (zlib reads both). Images become floats in [0, 1] (byte / 255).
 * Invariant: a loaded dataset is complete -- n images of rows x cols pixels and n labels, each
 * label below DATASET_CLASSES; a missing, corrupt or truncated file is an error naming path and
 * fault.
 */
#ifndef XBARSIM_SEARCH_DATASET_H
#define XBARSIM_SEARCH_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define DATASET_CLASSES       10                                  /* label values 0..9, count */
#define DATASET_DEFAULT_DIR   "/usr/share/datasets/fashion-mnist" /* Debian dataset-fashion-mnist */
#define DATASET_IDX_MAGIC_U8  0x00000800u /* IDX: unsigned bytes, dims in low byte */
#define DATASET_MAX_IMAGE_PIX (1u << 20)  /* largest image accepted, pixels */

typedef struct dataset {
    size_t n;      /* images (= labels), count */
    unsigned rows; /* image height, pixels */
    unsigned cols; /* image width, pixels */
    float *x;      /* n x rows x cols, row-major, values in [0, 1]; owned */
    uint8_t *y;    /* n labels in 0..DATASET_CLASSES-1; owned */
} dataset;

/* Which Fashion-MNIST split. */
typedef enum dataset_split { DATASET_TRAIN, DATASET_TEST } dataset_split;

/* Load the images file and the labels file (IDX, gzip or plain). limit > 0 keeps only the first
 * limit images (0: all). Returns 0 with *out owned by the caller (dataset_fini), or ERR_IO (cannot
 * open or read: the path and strerror/zlib's message) or ERR_INPUT (bad magic, dimensions, a
 * truncated file, a label out of range, counts that differ) with e saying path, found, expected.
 * *out untouched on error. */
int dataset_load_idx(const char *images, const char *labels, size_t limit, dataset *out, err *e);
/* Load split s of the Fashion-MNIST files in dir (NULL: DATASET_DEFAULT_DIR):
 * train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz, or t10k-... for the test split. Errors
 * as dataset_load_idx. */
int dataset_load_fmnist(const char *dir, dataset_split s, size_t limit, dataset *out, err *e);
/* Release what d owns and zero it; NULL and repeated calls are fine. */
void dataset_fini(dataset *d);
/* Pixels of one image, count. */
size_t dataset_image_size(const dataset *d);

#endif
