/* test_dataset: the IDX reader on small files this suite writes (gzip through zlib, and plain):
 * values and labels byte for byte, the image limit, and every fault a file can have -- missing,
 * wrong magic, wrong dimension count, truncated header or data, trailing bytes, corrupt gzip,
 * label count mismatch, label out of range -- each an error naming the path and the fault.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset.h"
#include "testutil.h"

#define ck_assert_msg_has(e, s)                                                                    \
    ck_assert_msg(strstr((e).msg, (s)) != NULL, "\"%s\" lacks \"%s\"", (e).msg, (s))

static char dir[256];

static void path_of(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* Write an IDX file: magic, dims, then len bytes of data (gzip when gz). */
static void write_idx(const char *name, uint32_t magic, const uint32_t *dims, unsigned nd,
                      const uint8_t *data, size_t len, int gz)
{
    char path[512];
    path_of(name, path, sizeof path);
    uint8_t head[4 + 4 * 4];
    put_be32(head, magic);
    for (unsigned d = 0; d < nd; d++)
        put_be32(head + 4 + 4 * d, dims[d]);
    if (gz) {
        gzFile g = gzopen(path, "wb");
        ck_assert_ptr_nonnull(g);
        ck_assert_int_eq(gzwrite(g, head, 4 + 4 * nd), (int)(4 + 4 * nd));
        if (len)
            ck_assert_int_eq(gzwrite(g, data, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(head, 1, 4 + 4 * nd, f);
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

/* 3 images of 2 x 3 pixels: pixel k of image i is 40 i + k; labels 7, 0, 9. */
static const uint8_t pixels[18] = {0,  1,  2,  3,  4,  5,  40, 41, 42,
                                   43, 44, 45, 80, 81, 82, 83, 84, 255};
static const uint8_t labels[3] = {7, 0, 9};

static void write_good(const char *im, const char *lb, int gz)
{
    uint32_t di[3] = {3, 2, 3}, dl[1] = {3};
    write_idx(im, 0x803, di, 3, pixels, sizeof pixels, gz);
    write_idx(lb, 0x801, dl, 1, labels, sizeof labels, gz);
}

static int load(const char *im, const char *lb, size_t limit, dataset *d, err *e)
{
    char a[512], b[512];
    path_of(im, a, sizeof a);
    path_of(lb, b, sizeof b);
    return dataset_load_idx(a, b, limit, d, e);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/xbarsim-test-dataset-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_dataset_reads_values)
{
    for (int gz = 0; gz < 2; gz++) {
        write_good("im", "lb", gz);
        dataset d;
        err e;
        ck_assert_int_eq(load("im", "lb", 0, &d, &e), 0);
        ck_assert_uint_eq(d.n, 3);
        ck_assert_uint_eq(d.rows, 2);
        ck_assert_uint_eq(d.cols, 3);
        ck_assert_uint_eq(dataset_image_size(&d), 6);
        for (int i = 0; i < 18; i++)
            ck_assert_float_eq(d.x[i], (float)pixels[i] / 255.0f);
        ck_assert_float_eq(d.x[17], 1.0f);
        ck_assert_uint_eq(d.y[0], 7);
        ck_assert_uint_eq(d.y[2], 9);
        dataset_fini(&d);
        dataset_fini(&d); /* idempotent */
    }
}
END_TEST

START_TEST(test_dataset_limit)
{
    write_good("im.gz", "lb.gz", 1);
    dataset d;
    err e;
    ck_assert_int_eq(load("im.gz", "lb.gz", 2, &d, &e), 0);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_float_eq(d.x[11], 45.0f / 255.0f);
    ck_assert_uint_eq(d.y[1], 0);
    dataset_fini(&d);
    ck_assert_int_eq(load("im.gz", "lb.gz", 10, &d, &e), 0); /* more than there are: all */
    ck_assert_uint_eq(d.n, 3);
    dataset_fini(&d);
}
END_TEST

START_TEST(test_dataset_fmnist_names)
{
    write_good("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 1);
    dataset d;
    err e;
    ck_assert_int_eq(dataset_load_fmnist(dir, DATASET_TEST, 0, &d, &e), 0);
    ck_assert_uint_eq(d.n, 3);
    dataset_fini(&d);
    ck_assert_int_eq(dataset_load_fmnist(dir, DATASET_TRAIN, 0, &d, &e), ERR_IO);
    ck_assert_msg_has(e, "train-images-idx3-ubyte.gz: cannot open");
}
END_TEST

START_TEST(test_dataset_missing)
{
    write_good("im", "lb", 1);
    dataset d = {0};
    err e;
    ck_assert_int_eq(load("nope", "lb", 0, &d, &e), ERR_IO);
    ck_assert_msg_has(e, "nope: cannot open");
    ck_assert_int_eq(load("im", "nope", 0, &d, &e), ERR_IO);
    ck_assert_ptr_null(d.x); /* untouched */
}
END_TEST

START_TEST(test_dataset_bad_magic)
{
    uint32_t di[3] = {3, 2, 3}, dl[1] = {3};
    write_idx("im", 0x0D03, di, 3, pixels, sizeof pixels, 1); /* float data, not bytes */
    write_idx("lb", 0x801, dl, 1, labels, 3, 1);
    dataset d;
    err e;
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "found magic number 0x00000D03, expected 0x00000803");
    write_idx("im", 0x802, di, 2, pixels, sizeof pixels, 1); /* 2 dims for images */
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "0x00000802");
    write_good("im", "lb", 1);
    ck_assert_int_eq(load("lb", "lb", 0, &d, &e), ERR_INPUT); /* labels given as images */
    ck_assert_msg_has(e, "3 dimensions");
}
END_TEST

START_TEST(test_dataset_truncated)
{
    uint32_t di[3] = {3, 2, 3}, dl[1] = {3};
    write_idx("lb", 0x801, dl, 1, labels, 3, 1);
    write_idx("im", 0x803, di, 3, pixels, 17, 1); /* one byte short */
    dataset d;
    err e;
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "truncated: found 17 bytes of the data, expected 18");
    write_idx("im", 0x803, di, 1, NULL, 0, 1); /* header cut after one dimension */
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "of the header");
    uint8_t more[19];
    memcpy(more, pixels, 18);
    more[18] = 1;
    write_idx("im", 0x803, di, 3, more, 19, 0); /* one byte too many */
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "found data after the 18 bytes");
    uint32_t zero[3] = {3, 0, 3};
    write_idx("im", 0x803, zero, 3, pixels, 0, 1);
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "dimension 1: found 0");
}
END_TEST

/* A header may claim up to 2^34 bytes; the reader must not reserve them before they arrive (found
 * by fuzz_idx: a 47-byte input asked malloc for 13.7 GB). Under a 1 GiB address-space limit (in
 * the forked Release run; ASan reserves its shadow memory and valgrind runs unforked) the claim
 * must fail as a truncated file, not as an out-of-memory abort. */
START_TEST(test_dataset_claims_more_than_it_holds)
{
#ifndef __SANITIZE_ADDRESS__
    const char *fork = getenv("CK_FORK");
    if (!fork || strcmp(fork, "no") != 0) {
        struct rlimit lim = {.rlim_cur = (rlim_t)1 << 30, .rlim_max = (rlim_t)1 << 30};
        ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
    }
#endif
    uint32_t di[3] = {1u << 22, 64, 64}, dl[1] = {3};
    write_idx("lb", 0x801, dl, 1, labels, 3, 0);
    write_idx("im", 0x803, di, 3, pixels, sizeof pixels, 0);
    dataset d;
    err e;
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "truncated: found 18 bytes of the data, expected 17179869184");
    write_idx("im", 0x803, di, 3, pixels, sizeof pixels, 1);
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "truncated: found 18 bytes of the data, expected 17179869184");
}
END_TEST

START_TEST(test_dataset_corrupt_gzip)
{
    write_good("im", "lb", 1);
    char path[512];
    path_of("im", path, sizeof path);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 12, SEEK_SET); /* inside the deflate stream */
    uint8_t junk[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    dataset d;
    err e;
    ck_assert_int_lt(load("im", "lb", 0, &d, &e), 0);
    ck_assert_msg_has(e, path);
}
END_TEST

START_TEST(test_dataset_labels)
{
    uint32_t di[3] = {3, 2, 3}, dl[1] = {2};
    write_idx("im", 0x803, di, 3, pixels, sizeof pixels, 1);
    write_idx("lb", 0x801, dl, 1, labels, 2, 1);
    dataset d;
    err e;
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "found 2 labels, expected 3");
    uint8_t bad[3] = {1, 10, 2};
    dl[0] = 3;
    write_idx("lb", 0x801, dl, 1, bad, 3, 1);
    ck_assert_int_eq(load("im", "lb", 0, &d, &e), ERR_INPUT);
    ck_assert_msg_has(e, "label 1: found 10, expected 0..9");
}
END_TEST

static Suite *dataset_suite(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dataset_reads_values);
    tcase_add_test(tc, test_dataset_limit);
    tcase_add_test(tc, test_dataset_fmnist_names);
    tcase_add_test(tc, test_dataset_missing);
    tcase_add_test(tc, test_dataset_bad_magic);
    tcase_add_test(tc, test_dataset_truncated);
    tcase_add_test(tc, test_dataset_claims_more_than_it_holds);
    tcase_add_test(tc, test_dataset_corrupt_gzip);
    tcase_add_test(tc, test_dataset_labels);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(dataset_suite());
}
