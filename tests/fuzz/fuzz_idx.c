/* fuzz_idx: libFuzzer entry for the IDX reader, dataset_load_idx (search/accuracy/dataset.c, see
 * README.md). The input is two files: bytes 0-1 (little-endian) give the length L of the images
 * file, which follows; the rest is the labels file (each plain or gzip). Either a complete dataset
 * loads (pixels in [0, 1], labels 0..9) or the error names one of the files, output untouched.
 */
#include <zlib.h>

#include "dataset.h"
#include "fuzz.h"

/* A tiny IDX pair: 3 images of 2 x 3 pixels and their labels. */
static const uint8_t images3[] = {0, 0, 8, 3, 0, 0,   0,   3, 0, 0, 0, 2, 0, 0, 0, 3, 0,
                                  1, 2, 3, 4, 5, 255, 128, 0, 9, 9, 9, 7, 7, 7, 7, 7, 7};
static const uint8_t labels3[] = {0, 0, 8, 1, 0, 0, 0, 3, 0, 9, 4};

/* The fuzz input of the pair (images, labels). */
static void seed_pair(const char *name, const uint8_t *im, size_t nim, const uint8_t *lb,
                      size_t nlb)
{
    uint8_t *buf = malloc(2 + nim + nlb);
    fuzz_check(buf != NULL, "malloc");
    buf[0] = (uint8_t)(nim & 0xFF);
    buf[1] = (uint8_t)(nim >> 8);
    memcpy(buf + 2, im, nim);
    memcpy(buf + 2 + nim, lb, nlb);
    fuzz_seed(name, buf, 2 + nim + nlb);
    free(buf);
}

/* data gzip-compressed into buf (cap bytes); returns the compressed length. */
static size_t gzip(const uint8_t *data, size_t size, uint8_t *buf, size_t cap)
{
    char path[512];
    fuzz_file("seed.gz", "", 0, path, sizeof path);
    gzFile g = gzopen(path, "wb");
    fuzz_check(g && gzwrite(g, data, (unsigned)size) == (int)size && gzclose(g) == Z_OK, "gzip");
    FILE *f = fopen(path, "rb");
    fuzz_check(f != NULL, "gzip");
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!fuzz_seed_dir())
        return 0;
    uint8_t gim[256], glb[256];
    size_t nim = gzip(images3, sizeof images3, gim, sizeof gim);
    size_t nlb = gzip(labels3, sizeof labels3, glb, sizeof glb);
    seed_pair("plain", images3, sizeof images3, labels3, sizeof labels3);
    seed_pair("gzip", gim, nim, glb, nlb);
    exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t nim = (size_t)data[0] | (size_t)data[1] << 8;
    if (nim > size - 2)
        nim = size - 2;
    char images[512], labels[512];
    fuzz_file("images", data + 2, nim, images, sizeof images);
    fuzz_file("labels", data + 2 + nim, size - 2 - nim, labels, sizeof labels);
    dataset d, before;
    err e;
    memset(&d, 0x5A, sizeof d);
    memcpy(&before, &d, sizeof d);
    err_clear(&e);
    int rc = dataset_load_idx(images, labels, 0, &d, &e);
    if (rc == 0) {
        fuzz_check(d.n >= 1 && d.rows >= 1 && d.cols >= 1, "dimensions");
        fuzz_check(dataset_image_size(&d) <= DATASET_MAX_IMAGE_PIX, "image size");
        for (size_t i = 0; i < d.n * dataset_image_size(&d); i++)
            fuzz_check(d.x[i] >= 0.0f && d.x[i] <= 1.0f, "pixels in [0, 1]");
        for (size_t i = 0; i < d.n; i++)
            fuzz_check(d.y[i] < DATASET_CLASSES, "labels 0..9");
        dataset_fini(&d);
    } else {
        fuzz_check(rc < 0 && e.code == rc, "a negative status, recorded in the error");
        fuzz_check(strncmp(e.msg, images, strlen(images)) == 0 ||
                       strncmp(e.msg, labels, strlen(labels)) == 0,
                   "the message starts with one of the files");
        fuzz_check(memcmp(&d, &before, sizeof d) == 0, "output untouched on error");
    }
    return 0;
}
