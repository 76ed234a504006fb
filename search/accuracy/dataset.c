/* dataset: IDX reader on zlib's gz* interface (which passes plain files through unchanged).
 * An IDX file is a big-endian header -- magic 0x000008DD (unsigned bytes, DD dimensions), then DD
 * 32-bit sizes -- followed by the bytes in row-major order. Invariant: a read either fills the
 * whole array or fails; nothing partly read reaches the caller.
 */
#include "dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "mem.h"

#define MAX_DIMS   4
#define DATA_CHUNK ((size_t)1 << 20) /* first buffer of the data, bytes */

typedef struct idx {
    unsigned ndims;
    uint32_t dims[MAX_DIMS];
    size_t count;  /* product of the dims, elements */
    uint8_t *data; /* count bytes; owned */
} idx;

/* Read exactly len bytes of a part (the `what`) of `expect` bytes, `before` of them read already
 * (the last two for the message only); 0, or an error saying what was being read. */
static int read_all(gzFile g, const char *path, void *buf, size_t before, size_t len, size_t expect,
                    const char *what, err *e)
{
    size_t got = 0;
    while (got < len) {
        size_t chunk = len - got > (1u << 30) ? (1u << 30) : len - got;
        int r = gzread(g, (uint8_t *)buf + got, (unsigned)chunk);
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(g, &zerr);
            return err_set(e, ERR_INPUT, "%s: reading the %s: %s (corrupt gzip data?)", path, what,
                           zerr == Z_ERRNO ? strerror(errno) : msg);
        }
        if (r == 0)
            return err_set(e, ERR_INPUT, "%s: truncated: found %zu bytes of the %s, expected %zu",
                           path, before + got, what, expect);
        got += (size_t)r;
    }
    return 0;
}

/* The count data bytes into a buffer that grows with what arrives, so a header claiming more than
 * the file holds costs at most twice the bytes the file does hold (at least 1 MiB). */
static int read_data(gzFile g, const char *path, size_t count, uint8_t **out, err *e)
{
    size_t cap = count < DATA_CHUNK ? count : DATA_CHUNK, got = 0;
    uint8_t *data = mem_alloc(cap, "dataset bytes");
    int rc = 0;
    while (rc == 0 && got < count) {
        if (got == cap) {
            cap = count - cap < cap ? count : 2 * cap;
            data = mem_realloc(data, cap, 1, "dataset bytes");
        }
        rc = read_all(g, path, data + got, got, cap - got, count, "data", e);
        got = cap;
    }
    if (rc < 0) {
        free(data);
        return rc;
    }
    *out = data;
    return 0;
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Read an IDX file of unsigned bytes with ndims dimensions. */
static int idx_read(const char *path, unsigned ndims, idx *out, err *e)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return err_set(e, ERR_IO, "%s: cannot open: %s", path,
                       errno ? strerror(errno) : "out of memory");
    uint8_t head[4 + 4 * MAX_DIMS];
    int rc = read_all(g, path, head, 0, 4, 4, "header", e);
    if (rc == 0) {
        uint32_t magic = be32(head);
        if ((magic & 0xFFFFFF00u) != DATASET_IDX_MAGIC_U8 || (magic & 0xFFu) != ndims)
            rc = err_set(e, ERR_INPUT,
                         "%s: found magic number 0x%08X, expected 0x%08X (IDX, unsigned bytes, "
                         "%u dimensions)",
                         path, magic, DATASET_IDX_MAGIC_U8 | ndims, ndims);
    }
    if (rc == 0)
        rc = read_all(g, path, head + 4, 0, 4 * ndims, 4 * ndims, "header", e);
    size_t count = 1;
    for (unsigned d = 0; rc == 0 && d < ndims; d++) {
        uint32_t v = be32(head + 4 + 4 * d);
        if (v == 0 || (d > 0 && count > ((size_t)1 << 34) / v))
            rc = err_set(e, ERR_INPUT, "%s: dimension %u: found %u, expected 1..%zu", path, d, v,
                         d > 0 ? ((size_t)1 << 34) / count : (size_t)UINT32_MAX);
        out->dims[d] = v;
        count *= v;
    }
    uint8_t *data = NULL;
    if (rc == 0)
        rc = read_data(g, path, count, &data, e);
    if (rc == 0) {
        uint8_t extra;
        int r = gzread(g, &extra, 1);
        if (r != 0)
            rc = err_set(e, ERR_INPUT, "%s: found data after the %zu bytes the header gives%s",
                         path, count, r < 0 ? " (corrupt gzip data)" : "");
    }
    gzclose(g);
    if (rc < 0) {
        free(data);
        return rc;
    }
    out->ndims = ndims;
    out->count = count;
    out->data = data;
    return 0;
}

int dataset_load_idx(const char *images, const char *labels, size_t limit, dataset *out, err *e)
{
    idx im, lb;
    ERR_TRY(idx_read(images, 3, &im, e));
    if ((size_t)im.dims[1] * im.dims[2] > DATASET_MAX_IMAGE_PIX) {
        free(im.data);
        return err_set(e, ERR_INPUT, "%s: found images of %u x %u pixels, expected at most %u",
                       images, im.dims[1], im.dims[2], DATASET_MAX_IMAGE_PIX);
    }
    int rc = idx_read(labels, 1, &lb, e);
    if (rc < 0) {
        free(im.data);
        return rc;
    }
    if (lb.dims[0] != im.dims[0]) {
        rc = err_set(e, ERR_INPUT, "%s: found %u labels, expected %u (the images of %s)", labels,
                     lb.dims[0], im.dims[0], images);
    }
    for (size_t i = 0; rc == 0 && i < lb.count; i++)
        if (lb.data[i] >= DATASET_CLASSES)
            rc = err_set(e, ERR_INPUT, "%s: label %zu: found %u, expected 0..%d", labels, i,
                         lb.data[i], DATASET_CLASSES - 1);
    if (rc < 0) {
        free(im.data);
        free(lb.data);
        return rc;
    }
    size_t n = im.dims[0];
    if (limit > 0 && limit < n)
        n = limit;
    size_t pix = (size_t)im.dims[1] * im.dims[2];
    dataset d = {.n = n, .rows = im.dims[1], .cols = im.dims[2]};
    d.x = mem_alloc(n * pix * sizeof *d.x, "dataset images");
    for (size_t i = 0; i < n * pix; i++)
        d.x[i] = (float)im.data[i] / 255.0f;
    d.y = mem_alloc(n, "dataset labels");
    memcpy(d.y, lb.data, n);
    free(im.data);
    free(lb.data);
    *out = d;
    return 0;
}

int dataset_load_fmnist(const char *dir, dataset_split s, size_t limit, dataset *out, err *e)
{
    const char *base = dir ? dir : DATASET_DEFAULT_DIR;
    const char *stem = s == DATASET_TRAIN ? "train" : "t10k";
    size_t len = strlen(base) + 40;
    char *im = mem_alloc(len, "dataset path"), *lb = mem_alloc(len, "dataset path");
    snprintf(im, len, "%s/%s-images-idx3-ubyte.gz", base, stem);
    snprintf(lb, len, "%s/%s-labels-idx1-ubyte.gz", base, stem);
    int rc = dataset_load_idx(im, lb, limit, out, e);
    free(im);
    free(lb);
    return rc;
}

void dataset_fini(dataset *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

size_t dataset_image_size(const dataset *d)
{
    return (size_t)d->rows * d->cols;
}
