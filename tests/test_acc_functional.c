/* test_acc_functional: the functional accuracy backend on a small synthetic data set written as
 * Fashion-MNIST's files (4 x 4 images, four separable classes) and an MLP trained here: the
 * reference is the float accuracy on the hold-out (computed independently), results are measured
 * (estimate false) and repeatable (with and without fine-tuning), a lossless 8/8 crossbar is close
 * to float, starving the ADC or the weights does not help, and bad settings are errors naming the
 * setting.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accuracy.h"
#include "arch.h"
#include "dataset.h"
#include "fnet.h"
#include "h5file.h"
#include "network.h"
#include "policy.h"
#include "testdata.h"
#include "testutil.h"
#include "train.h"
#include "weights.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

#define ck_assert_msg_has(e, s)                                                                    \
    ck_assert_msg(strstr((e).msg, (s)) != NULL, "\"%s\" lacks \"%s\"", (e).msg, (s))

#define IMAGES  320
#define HOLDOUT 80

static const char *const mlp_text =
    "network = { name = \"m\"; input = { features = 16; tokens = 1; }; layers = (\n"
    "{ name = \"fc1\"; type = \"linear\"; out_features = 12; },\n"
    "{ name = \"relu1\"; type = \"relu\"; },\n"
    "{ name = \"fc2\"; type = \"linear\"; out_features = 10; } ); };\n";

static char dir[256], wpath[300];
static network net;
static arch lrmp;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/xbarsim-test-accf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(wpath, sizeof wpath, "%s/w.h5", dir);
    testdata_write_fmnist(dir, IMAGES);
    err e;
    ck_assert_int_eq(network_load_string(mlp_text, "m.cfg", &net, &e), 0);
    ck_assert_int_eq(arch_load_file(XBARSIM_SOURCE_DIR "/configs/arch/lrmp.cfg", &lrmp, &e), 0);
    dataset tr;
    ck_assert_int_eq(dataset_load_fmnist(dir, DATASET_TRAIN, 0, &tr, &e), 0);
    tr.n = IMAGES - HOLDOUT; /* the hold-out stays unseen */
    fnet *f;
    ck_assert_int_eq(fnet_create(&net, 4, &f, &e), 0);
    train_config c = {.epochs = 12, .batch = 16, .lr = 0.02, .seed = 2};
    ck_assert_int_eq(train_run(f, &tr, NULL, &c, NULL, NULL, &e), 0);
    h5file *h;
    ck_assert_int_eq(h5file_create(wpath, &h, &e), 0);
    weights_meta m = {.source = "test", .test_accuracy = -1};
    ck_assert_int_eq(weights_write(h, f, &m, &e), 0);
    ck_assert_int_eq(h5file_commit(h, &e), 0);
    fnet_destroy(f);
    tr.n = IMAGES;
    dataset_fini(&tr);
}

static void teardown(void)
{
    network_fini(&net);
    arch_fini(&lrmp);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static acc_functional_config config(void)
{
    return (acc_functional_config){
        .net = &net, .weights = wpath, .data = dir, .holdout = HOLDOUT, .seed = 3};
}

static double evaluate(acc_backend *b, unsigned wb, unsigned ab, unsigned adc, acc_result *r)
{
    policy p;
    policy_uniform(&p, &net, wb, ab);
    for (unsigned k = 0; k < p.n; k++)
        p.layers[k].adc_bits = adc;
    err e;
    int rc = acc_evaluate(b, &net, &p, &lrmp, r, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    policy_fini(&p);
    return r->accuracy;
}

START_TEST(test_acc_functional_measures)
{
    acc_functional_config c = config();
    acc_backend *b;
    err e;
    int rc = acc_functional_create(&c, &b, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    ck_assert_str_eq(acc_backend_name(b), "functional");

    /* the reference, independently: the float net on the last HOLDOUT images */
    fnet *f;
    dataset tr;
    ck_assert_int_eq(fnet_create(&net, 0, &f, &e), 0);
    ck_assert_int_eq(weights_read(f, wpath, NULL, &e), 0);
    ck_assert_int_eq(dataset_load_fmnist(dir, DATASET_TRAIN, 0, &tr, &e), 0);
    size_t first = IMAGES - HOLDOUT;
    double ref = train_accuracy(f, tr.x + first * 16, tr.y + first, HOLDOUT);
    ck_assert_double_ge(ref, 0.8); /* the problem is learnt */

    acc_result r1, r2, r3;
    double a8 = evaluate(b, 8, 8, 4, &r1); /* lrmp: 4 ADC bits suffice for 9 rows */
    ck_assert(!r1.estimate);
    ck_assert_double_eq(r1.reference, ref);
    ck_assert_double_le(a8, 1.0);
    ck_assert_double_ge(a8, ref - 0.05);
    ck_assert_msg(strstr(r1.note, "80 hold-out images") && strstr(r1.note, " 0 clipped"), "%s",
                  r1.note);
    ck_assert_double_eq(evaluate(b, 8, 8, 4, &r2), a8); /* repeatable */
    ck_assert_str_eq(r1.note, r2.note);

    double a_adc1 = evaluate(b, 8, 8, 1, &r3); /* one ADC bit: nearly every sum clips */
    ck_assert_double_le(a_adc1, a8 + 1.0 / HOLDOUT);
    ck_assert_msg(strstr(r3.note, " 0 clipped") == NULL, "%s", r3.note);
    ck_assert_double_le(evaluate(b, 2, 8, 4, &r3), a8 + 1.0 / HOLDOUT);
    dataset_fini(&tr);
    fnet_destroy(f);
    acc_destroy(b);
}
END_TEST

START_TEST(test_acc_functional_finetune_repeatable)
{
    acc_functional_config c = config();
    c.finetune_epochs = 1;
    c.finetune_images = 100;
    acc_backend *b;
    err e;
    int rc = acc_create(ACC_BACKEND_FUNCTIONAL, &(acc_config){.functional = c}, &b, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    acc_result r1, r2;
    double a = evaluate(b, 3, 4, 4, &r1);
    ck_assert_double_eq(evaluate(b, 3, 4, 4, &r2), a);
    ck_assert_msg(strstr(r1.note, "QAT 1 epoch") != NULL, "%s", r1.note);
    ck_assert(!r1.estimate);
    acc_destroy(b);
}
END_TEST

/* The accuracy of uniform 6/6 with 3 ADC bits on chip arch a by a backend of K chips
 * (quantile q < 0: their mean). */
static double chips(const arch *a, unsigned K, double q)
{
    acc_functional_config c = config();
    c.device_samples = K;
    c.device_by_quantile = q >= 0.0;
    c.device_quantile = q;
    acc_backend *b;
    err e;
    int rc = acc_functional_create(&c, &b, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    policy p;
    policy_uniform(&p, &net, 6, 6);
    for (unsigned k = 0; k < p.n; k++)
        p.layers[k].adc_bits = 3;
    acc_result r;
    rc = acc_evaluate(b, &net, &p, a, &r, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    policy_fini(&p);
    acc_destroy(b);
    return r.accuracy;
}

START_TEST(test_acc_functional_device_samples)
{
    /* every device effect off: any number of chips is the one chip, mean and quantile alike */
    double one = chips(&lrmp, 0, -1.0);
    ck_assert_double_eq(chips(&lrmp, 4, -1.0), one);
    ck_assert_double_eq(chips(&lrmp, 4, 0.25), one);
    /* programming variation: the K-chip figures against K single chips with the seeds
     * S x 1000003 + k (S = config's seed 3), worked out here */
    arch v = lrmp; /* shallow: the test owns lrmp */
    v.tiles.device.sigma = 0.3;
    double acc[3], sum = 0.0, lo = 1.0, hi = 0.0;
    for (unsigned k = 0; k < 3; k++) {
        v.tiles.device.seed = 3ull * 1000003ull + k + 1;
        acc[k] = chips(&v, 0, -1.0);
        sum += acc[k];
        lo = acc[k] < lo ? acc[k] : lo;
        hi = acc[k] > hi ? acc[k] : hi;
    }
    v.tiles.device.seed = 999; /* ignored with K chips */
    double mean = chips(&v, 3, -1.0);
    ck_assert_double_eq_tol(mean, sum / 3.0, 1e-12);
    ck_assert_double_eq(chips(&v, 3, -1.0), mean); /* same seed, same bits */
    ck_assert_double_lt(lo, hi);                   /* the chips differ */
    ck_assert_double_eq(chips(&v, 3, 0.0), lo);
    ck_assert_double_eq(chips(&v, 3, 1.0), hi);
}
END_TEST

START_TEST(test_acc_functional_bad_settings)
{
    acc_backend *b = NULL;
    err e;
    acc_functional_config c = config();
    c.weights = NULL;
    ck_assert_int_eq(acc_functional_create(&c, &b, &e), ERR_INPUT);
    ck_assert_msg_has(e, "functional.weights (--weights): found nothing");
    c = config();
    c.holdout = IMAGES;
    ck_assert_int_eq(acc_functional_create(&c, &b, &e), ERR_INPUT);
    ck_assert_msg_has(e, "functional.holdout (--holdout): found 320, expected fewer than the 320");
    c = config();
    c.finetune_images = IMAGES;
    ck_assert_int_eq(acc_functional_create(&c, &b, &e), ERR_INPUT);
    ck_assert_msg_has(e, "expected at most 240");
    c = config();
    c.adc_mode = "linear";
    ck_assert_int_eq(acc_functional_create(&c, &b, &e), ERR_INPUT);
    ck_assert_msg_has(e, "found 'linear', expected saturate, drop_lsb or ideal");
    c = config();
    c.device_by_quantile = true;
    c.device_quantile = 0.1;
    ck_assert_int_eq(acc_functional_create(&c, &b, &e), ERR_INPUT);
    ck_assert_msg_has(e, "functional.device_quantile (--device-quantile): found 0.1 with 0 device "
                         "samples, expected a fraction in 0..1 with device samples >= 1");
    c = config();
    c.data = "/nonexistent-xbarsim";
    ck_assert_int_eq(acc_functional_create(&c, &b, &e), ERR_IO);
    ck_assert_msg_has(e, "functional.data (--data): /nonexistent-xbarsim/train-images");
    network other;
    ck_assert_int_eq(
        network_load_string("network = { name = \"o\"; input = { features = 16; tokens = "
                            "1; }; layers = ({ name = \"fc1\"; type = \"linear\"; "
                            "out_features = 10; }); };",
                            "o.cfg", &other, &e),
        0);
    c = config();
    c.net = &other;
    ck_assert_int_eq(acc_functional_create(&c, &b, &e), ERR_INPUT);
    ck_assert_msg_has(e, "found network \"m\", expected \"o\"");
    network_fini(&other);
    ck_assert_ptr_null(b);
}
END_TEST

static Suite *acc_functional_suite(void)
{
    Suite *s = suite_create("acc_functional");
    TCase *tc = tcase_create("functional");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown); /* in the test's process: OpenMP does not
                                                        survive a fork */
    tcase_add_test(tc, test_acc_functional_measures);
    tcase_add_test(tc, test_acc_functional_finetune_repeatable);
    tcase_add_test(tc, test_acc_functional_device_samples);
    tcase_add_test(tc, test_acc_functional_bad_settings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(acc_functional_suite());
}
