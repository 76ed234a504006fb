/* testdata: a small synthetic data set in Fashion-MNIST's file format, for suites that exercise
 * the functional model without the real files -- `images` 4 x 4 images of four separable classes
 * (class k: a bright row k over noise), written as the gzip IDX training files into a folder.
 * Header-only; deterministic (a fixed LCG), so every suite sees the same images.
 */
#ifndef XBARSIM_TESTS_TESTDATA_H
#define XBARSIM_TESTS_TESTDATA_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#define TESTDATA_MAX_IMAGES 4096 /* images, count */

static inline unsigned testdata_lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static inline void testdata_write_gz(const char *dir, const char *name, const uint8_t *head,
                                     size_t hl, const uint8_t *d, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gzFile g = gzopen(path, "wb");
    ck_assert_ptr_nonnull(g);
    gzwrite(g, head, (unsigned)hl);
    gzwrite(g, d, (unsigned)n);
    gzclose(g);
}

/* Write train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz with `images` images into dir. */
static inline void testdata_write_fmnist(const char *dir, unsigned images)
{
    ck_assert_uint_le(images, TESTDATA_MAX_IMAGES);
    uint8_t *px = calloc((size_t)images * 16, 1), *lb = calloc(images, 1);
    ck_assert(px && lb);
    unsigned s = 77;
    for (unsigned i = 0; i < images; i++) {
        lb[i] = (uint8_t)(testdata_lcg(&s) % 4);
        for (unsigned p = 0; p < 16; p++)
            px[i * 16 + p] = (uint8_t)(testdata_lcg(&s) % 150);
        for (unsigned c = 0; c < 4; c++)
            px[i * 16 + (unsigned)lb[i] * 4 + c] = (uint8_t)(110 + testdata_lcg(&s) % 146);
    }
    uint8_t hi[16] = {0, 0, 8, 3, 0, 0, (uint8_t)(images >> 8), (uint8_t)images, 0, 0,
                      0, 4, 0, 0, 0, 4};
    uint8_t hl[8] = {0, 0, 8, 1, 0, 0, (uint8_t)(images >> 8), (uint8_t)images};
    testdata_write_gz(dir, "train-images-idx3-ubyte.gz", hi, 16, px, (size_t)images * 16);
    testdata_write_gz(dir, "train-labels-idx1-ubyte.gz", hl, 8, lb, images);
    free(px);
    free(lb);
}

#endif
