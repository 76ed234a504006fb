/* test_qcache: the per-layer product cache of the functional evaluation. A residual network with
 * two sibling branches is evaluated under a sequence of policies on a chip with programming
 * variation, read noise and a short ADC, once through one cache and once without: logits,
 * accuracy and clipped counts must be bit-identical, and the products served from the cache must
 * be exactly the ones whose own and ancestors' bits are unchanged, counted by hand from the graph.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "fnet.h"
#include "network.h"
#include "policy.h"
#include "qcache.h"
#include "quant.h"
#include "testutil.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* c1 -> r1 -> {c2, c3 (siblings, both from r1)} -> add -> relu -> global avg -> fc. Crossbar
 * layers 0 c1, 1 c2, 2 c3, 3 fc; ancestors: c2 {c1}, c3 {c1}, fc {c1, c2, c3}. */
static const char *const fork_text =
    "network = { name = \"fork\"; input = { channels = 1; height = 6; width = 6; }; layers = (\n"
    "{ name = \"c1\"; type = \"conv2d\"; out_channels = 4; kernel = 3; padding = 1; },\n"
    "{ name = \"r1\"; type = \"relu\"; },\n"
    "{ name = \"c2\"; type = \"conv2d\"; out_channels = 4; kernel = 3; padding = 1; },\n"
    "{ name = \"c3\"; type = \"conv2d\"; inputs = [\"r1\"]; out_channels = 4; kernel = 1; },\n"
    "{ name = \"a\"; type = \"add\"; inputs = [\"c2\", \"c3\"]; },\n"
    "{ name = \"r2\"; type = \"relu\"; },\n"
    "{ name = \"gp\"; type = \"pool\"; mode = \"global_avg\"; },\n"
    "{ name = \"f\"; type = \"flatten\"; },\n"
    "{ name = \"fc\"; type = \"linear\"; out_features = 5; } ); };\n";

enum { IMAGES = 520, PIXELS = 36, CLASSES = 5 };

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

typedef struct fixture {
    network n;
    fnet *f;
    arch a;
    float *x;
    uint8_t *y;
    float clip[4];
} fixture;

static void setup(fixture *t)
{
    err e;
    ck_assert_int_eq(network_load_string(fork_text, "fork.cfg", &t->n, &e), 0);
    ck_assert_int_eq(fnet_create(&t->n, 1, &t->f, &e), 0);
    unsigned s = 7;
    float *p = fnet_params(t->f);
    for (size_t i = 0; i < fnet_param_count(t->f); i++)
        p[i] = (float)(lcg(&s) % 1001) / 1000.0f - 0.5f;
    t->x = malloc(IMAGES * PIXELS * sizeof *t->x);
    t->y = malloc(IMAGES);
    for (size_t i = 0; i < IMAGES * PIXELS; i++)
        t->x[i] = (float)(lcg(&s) % 256) / 255.0f;
    for (size_t i = 0; i < IMAGES; i++)
        t->y[i] = (uint8_t)(lcg(&s) % CLASSES);
    quant_calibrate(t->f, t->x, IMAGES, t->clip);
    int rc = arch_load_file(XBARSIM_SOURCE_DIR "/configs/arch/lrmp.cfg", &t->a, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    t->a.tiles.device.sigma = 0.1;
    t->a.tiles.device.read_noise = 0.02;
    t->a.tiles.device.seed = 11;
}

static void teardown(fixture *t)
{
    arch_fini(&t->a);
    fnet_destroy(t->f);
    network_fini(&t->n);
    free(t->x);
    free(t->y);
}

/* Accuracy, clipped count and logits of the first 9 images under p, through c (NULL: none). */
static void evaluate(fixture *t, const policy *p, qcache *c, double *acc, uint64_t *clipped,
                     float *logits)
{
    quant_net q;
    err e;
    ck_assert_int_eq(
        quant_build(t->f, p, &t->a, XBARFUNC_ADC_SATURATE, t->clip, QUANT_CROSSBAR, &q, &e), 0);
    xbarfunc_params xp;
    xbarfunc_params_from_arch(&t->a, 0, XBARFUNC_ADC_SATURATE, &xp);
    quant_use_cache(&q, c, xbarfunc_params_digest(&xp));
    *acc = quant_accuracy(&q, t->x, t->y, IMAGES);
    *clipped = q.clipped;
    quant_use_cache(&q, NULL, 0); /* other images: not through the cache */
    quant_forward(&q, t->x, 9, logits);
    quant_fini(&q);
}

START_TEST(test_qcache_reuse_is_exact_and_counted)
{
    fixture t;
    setup(&t);
    qcache *c = qcache_create(&t.n);
    /* (layer changed, its new wb, ab; products reused per pass, by hand). Two passes of images
     * (520 = 500 + 20), so the reuse doubles. */
    static const struct {
        int layer;
        unsigned wb, ab, reused;
    } steps[] = {
        {-1, 0, 0, 0}, /* first: nothing stored */
        {-1, 0, 0, 4}, /* the same policy: every layer */
        {3, 4, 5, 3},  /* fc: c1, c2, c3 */
        {2, 3, 6, 2},  /* c3: c1 and its sibling c2 */
        {1, 5, 4, 2},  /* c2: c1 and its sibling c3 */
        {0, 6, 3, 0},  /* c1: the ancestor of all */
        {-2, 0, 0, 0}, /* another chip sample, same bits: nothing */
    };
    policy p;
    policy_uniform(&p, &t.n, 6, 6);
    for (unsigned k = 0; k < p.n; k++)
        p.layers[k].adc_bits = 2; /* short: clips */
    uint64_t hits = 0, misses = 0;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i].layer >= 0) {
            p.layers[steps[i].layer].wb = steps[i].wb;
            p.layers[steps[i].layer].ab = steps[i].ab;
        }
        if (steps[i].layer == -2)
            t.a.tiles.device.seed++;
        double acc_c, acc_u;
        uint64_t clip_c, clip_u;
        float log_c[9 * CLASSES], log_u[9 * CLASSES];
        evaluate(&t, &p, c, &acc_c, &clip_c, log_c);
        evaluate(&t, &p, NULL, &acc_u, &clip_u, log_u);
        ck_assert_double_eq(acc_c, acc_u);
        ck_assert_uint_eq(clip_c, clip_u);
        ck_assert_int_eq(memcmp(log_c, log_u, sizeof log_c), 0);
        uint64_t h, m;
        qcache_counts(c, &h, &m);
        ck_assert_uint_eq(h - hits, 2 * steps[i].reused);
        ck_assert_uint_eq(m - misses, 2 * (4 - steps[i].reused));
        hits = h;
        misses = m;
        if (i == 0)
            ck_assert_uint_gt(clip_u, 0); /* the short ADC is exercised */
    }
    policy_fini(&p);
    qcache_destroy(c);
    qcache_destroy(NULL);
    teardown(&t);
}
END_TEST

static Suite *qcache_suite(void)
{
    Suite *s = suite_create("qcache");
    TCase *tc = tcase_create("qcache");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_qcache_reuse_is_exact_and_counted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(qcache_suite());
}
