/* test_weights: the weights file -- a save/load round trip restores every parameter bit for bit,
 * datasets carry PyTorch's shapes (read back with the HDF5 API), and a file that does not fit the
 * network (a layer missing, a wrong shape, another network, not HDF5, no file) is an error naming
 * path, dataset, found and expected that leaves the network unchanged; so is a /meta attribute
 * that holds an array where one value belongs.
 */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fnet.h"
#include "h5file.h"
#include "network.h"
#include "testutil.h"
#include "weights.h"

#define ck_assert_msg_has(e, s)                                                                    \
    ck_assert_msg(strstr((e).msg, (s)) != NULL, "\"%s\" lacks \"%s\"", (e).msg, (s))

static const char *const conv_text =
    "network = { name = \"%s\"; input = { channels = 2; height = 6; width = 6; }; layers = (\n"
    "{ name = \"c1\"; type = \"conv2d\"; out_channels = 3; kernel = 3; stride = 2; padding = 1; "
    "},\n"
    "{ name = \"r1\"; type = \"relu\"; },\n"
    "{ name = \"f\"; type = \"flatten\"; },\n"
    "{ name = \"%s\"; type = \"linear\"; out_features = %d; } ); };\n";

static char path[256];

static void load(const char *name, const char *last, int outs, network *n)
{
    char text[1024];
    snprintf(text, sizeof text, conv_text, name, last, outs);
    err e;
    int rc = network_load_string(text, "test.cfg", n, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
}

static void save(const fnet *f, const char *to)
{
    h5file *h;
    err e;
    ck_assert_int_eq(h5file_create(to, &h, &e), 0);
    weights_meta m = {.source = "test", .test_accuracy = 0.875, .epochs = 3};
    ck_assert_int_eq(weights_write(h, f, &m, &e), 0);
    ck_assert_int_eq(h5file_commit(h, &e), 0);
}

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/xbarsim-test-weights-%ld.h5", (long)getpid());
}

static void teardown(void)
{
    remove(path);
}

/* Batch norm and groups: gamma, beta and the running statistics survive a round trip; the grouped
 * conv's weight is out x in/groups x kh x kw; a file written after folding reads back into a fresh
 * net as the folded net. */
START_TEST(test_weights_batch_norm_round_trip)
{
    network n;
    err e;
    ck_assert_int_eq(
        network_load_string(
            "network = { name = \"bn\"; input = { channels = 4; height = 4; width = 4; }; layers = "
            "(\n"
            "{ name = \"g\"; type = \"conv2d\"; out_channels = 6; kernel = 3; groups = 2; "
            "batch_norm = true; },\n"
            "{ name = \"f\"; type = \"flatten\"; },\n"
            "{ name = \"fc\"; type = \"linear\"; out_features = 3; } ); };\n",
            "bn.cfg", &n, &e),
        0);
    fnet *a, *b, *c;
    ck_assert_int_eq(fnet_create(&n, 1, &a, &e), 0);
    ck_assert_int_eq(fnet_create(&n, 2, &b, &e), 0);
    ck_assert_int_eq(fnet_create(&n, 3, &c, &e), 0);
    float *ga, *be, *mu, *var;
    ck_assert_uint_eq(fnet_batch_norm(a, 0, &ga, &be, &mu, &var), 6);
    for (int k = 0; k < 6; k++)
        ga[k] = 1.0f + 0.125f * (float)k, be[k] = -0.25f * (float)k, mu[k] = 0.5f * (float)k,
        var[k] = 2.0f + (float)k;
    save(a, path);
    ck_assert_int_eq(weights_read(b, path, NULL, &e), 0);
    size_t bytes = fnet_param_count(a) * sizeof(float);
    ck_assert_int_eq(memcmp(fnet_params(a), fnet_params(b), bytes), 0);
    float *gb, *bb, *mb, *vb;
    ck_assert_uint_eq(fnet_batch_norm(b, 0, &gb, &bb, &mb, &vb), 6);
    ck_assert_float_eq(mb[5], 2.5f);
    ck_assert_float_eq(vb[5], 7.0f);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(file, "/layers/g/weight", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[4];
    H5Sget_simple_extent_dims(sp, dims, NULL);
    ck_assert_uint_eq(dims[0], 6);
    ck_assert_uint_eq(dims[1], 2); /* 4 input channels in 2 groups */
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(file);
    fnet_fold_batch_norm(a);
    save(a, path);
    ck_assert_int_eq(weights_read(c, path, NULL, &e), 0);
    ck_assert_uint_eq(fnet_batch_norm(c, 0, &gb, &bb, &mb, &vb), 0); /* folded */
    size_t cnt;
    const float *wa = fnet_weight(a, 0, &cnt), *wc = fnet_weight(c, 0, &cnt);
    ck_assert_uint_eq(cnt, 108);
    ck_assert_int_eq(memcmp(wa, wc, cnt * sizeof(float)), 0);
    wa = fnet_bias(a, 0, &cnt), wc = fnet_bias(c, 0, &cnt);
    ck_assert_uint_eq(cnt, 6);
    ck_assert_int_eq(memcmp(wa, wc, cnt * sizeof(float)), 0);
    fnet_destroy(a);
    fnet_destroy(b);
    fnet_destroy(c);
    network_fini(&n);
}
END_TEST

START_TEST(test_weights_round_trip)
{
    network n;
    load("w", "fc", 4, &n);
    fnet *a, *b;
    err e;
    ck_assert_int_eq(fnet_create(&n, 1, &a, &e), 0);
    ck_assert_int_eq(fnet_create(&n, 2, &b, &e), 0);
    size_t cnt;
    fnet_bias(a, 1, &cnt)[2] = 0.25f; /* biases start at 0: make one differ */
    size_t bytes = fnet_param_count(a) * sizeof(float);
    ck_assert_int_ne(memcmp(fnet_params(a), fnet_params(b), bytes), 0);
    save(a, path);
    double acc = 0.0;
    ck_assert_int_eq(weights_read(b, path, &acc, &e), 0);
    ck_assert_int_eq(memcmp(fnet_params(a), fnet_params(b), bytes), 0);
    ck_assert_double_eq(acc, 0.875);

    /* PyTorch's shapes: conv out x in x kh x kw, linear out x in, bias out */
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(file, 0);
    const char *names[3] = {"/layers/c1/weight", "/layers/fc/weight", "/layers/fc/bias"};
    const int ranks[3] = {4, 2, 1};
    const hsize_t want[3][4] = {{3, 2, 3, 3}, {4, 27}, {4}};
    for (int i = 0; i < 3; i++) {
        hid_t d = H5Dopen2(file, names[i], H5P_DEFAULT);
        ck_assert_int_ge(d, 0);
        hid_t s = H5Dget_space(d);
        hsize_t dims[4];
        ck_assert_int_eq(H5Sget_simple_extent_ndims(s), ranks[i]);
        H5Sget_simple_extent_dims(s, dims, NULL);
        for (int k = 0; k < ranks[i]; k++)
            ck_assert_uint_eq(dims[k], want[i][k]);
        H5Sclose(s);
        H5Dclose(d);
    }
    /* element [o][c][i][j] of c1 is parameter ((o C + c) K + i) K + j */
    float w[54];
    hid_t d = H5Dopen2(file, "/layers/c1/weight", H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w);
    H5Dclose(d);
    H5Fclose(file);
    float *p = fnet_weight(a, 0, &cnt);
    ck_assert_float_eq(w[((2 * 2 + 1) * 3 + 2) * 3 + 1], p[((2 * 2 + 1) * 3 + 2) * 3 + 1]);
    fnet_destroy(a);
    fnet_destroy(b);
    network_fini(&n);
}
END_TEST

/* Load path into a net built from (name, last, outs): the error, and the net unchanged. */
static void expect_error(const char *name, const char *last, int outs, int code, const char *what)
{
    network n;
    load(name, last, outs, &n);
    fnet *f;
    err e;
    ck_assert_int_eq(fnet_create(&n, 7, &f, &e), 0);
    size_t bytes = fnet_param_count(f) * sizeof(float);
    float *copy = malloc(bytes);
    memcpy(copy, fnet_params(f), bytes);
    ck_assert_int_eq(weights_read(f, path, NULL, &e), code);
    ck_assert_msg_has(e, what);
    ck_assert_int_eq(memcmp(copy, fnet_params(f), bytes), 0);
    free(copy);
    fnet_destroy(f);
    network_fini(&n);
}

START_TEST(test_weights_errors)
{
    network n;
    load("w", "fc", 4, &n);
    fnet *a;
    err e;
    ck_assert_int_eq(fnet_create(&n, 1, &a, &e), 0);
    save(a, path);
    fnet_destroy(a);
    network_fini(&n);
    expect_error("w", "fc", 5, ERR_INPUT, "/layers/fc/weight: found shape 4x27, expected 5x27");
    expect_error("w", "head", 4, ERR_INPUT,
                 "found no dataset /layers/head/weight, expected one of shape 4x27 (layer "
                 "\"head\" of w)");
    expect_error("v", "fc", 4, ERR_INPUT, "/meta: found network \"w\", expected \"v\"");
    /* a NaN in a weight is refused with the dataset and the index */
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(file, 0);
    hid_t d = H5Dopen2(file, "/layers/fc/weight", H5P_DEFAULT);
    float w[4 * 27];
    ck_assert_int_ge(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w), 0);
    w[5] = NAN;
    ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w), 0);
    H5Dclose(d);
    H5Fclose(file);
    expect_error("w", "fc", 4, ERR_INPUT, "/layers/fc/weight: found nan at flat index 5");
    /* a corrupt /meta whose format_version is an array is refused, not read past its buffer */
    file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(file, 0);
    ck_assert_int_ge(H5Adelete_by_name(file, "/meta", "format_version", H5P_DEFAULT), 0);
    hsize_t many = 1000;
    static double values[1000];
    hid_t sp = H5Screate_simple(1, &many, NULL);
    hid_t at = H5Acreate_by_name(file, "/meta", "format_version", H5T_NATIVE_DOUBLE, sp,
                                 H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(at, 0);
    ck_assert_int_ge(H5Awrite(at, H5T_NATIVE_DOUBLE, values), 0);
    H5Aclose(at);
    H5Sclose(sp);
    H5Fclose(file);
    expect_error("w", "fc", 4, ERR_INPUT, "/meta: found format \"xbarsim-weights\" version -1");
    FILE *f = fopen(path, "w");
    fputs("not an HDF5 file\n", f);
    fclose(f);
    expect_error("w", "fc", 4, ERR_INPUT, "found no HDF5 file");
    remove(path);
    expect_error("w", "fc", 4, ERR_IO, "cannot open the weights file");
}
END_TEST

static Suite *weights_suite(void)
{
    Suite *s = suite_create("weights");
    TCase *tc = tcase_create("weights");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_weights_round_trip);
    tcase_add_test(tc, test_weights_batch_norm_round_trip);
    tcase_add_test(tc, test_weights_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(weights_suite());
}
