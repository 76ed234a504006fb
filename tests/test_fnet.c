/* test_fnet: the float functional model and its trainer. The forward pass against a direct
 * second implementation (nested-loop convolution, pooling, linear), every parameter gradient
 * against central finite differences (conv with stride and padding, max, avg and global pools,
 * relu, flatten, linear, the loss), the loss against its closed form, training that lowers the
 * loss and separates a synthetic problem, bit-identical repeats, and the layers it refuses.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fnet.h"
#include "network.h"
#include "testutil.h"
#include "train.h"

#define ck_assert_msg_has(e, s)                                                                    \
    ck_assert_msg(strstr((e).msg, (s)) != NULL, "\"%s\" lacks \"%s\"", (e).msg, (s))

/* conv (stride 2, padding 1) -> relu -> max pool (stride 1) -> conv -> relu -> flatten -> linear */
static const char *const tiny_text =
    "network = { name = \"tiny\"; input = { channels = 2; height = 6; width = 6; }; layers = (\n"
    "{ name = \"c1\"; type = \"conv2d\"; out_channels = 3; kernel = 3; stride = 2; padding = 1; "
    "},\n"
    "{ name = \"r1\"; type = \"relu\"; },\n"
    "{ name = \"p1\"; type = \"pool\"; mode = \"max\"; kernel = 2; stride = 1; },\n"
    "{ name = \"c2\"; type = \"conv2d\"; out_channels = 4; kernel = 2; },\n"
    "{ name = \"r2\"; type = \"relu\"; },\n"
    "{ name = \"f\"; type = \"flatten\"; },\n"
    "{ name = \"l1\"; type = \"linear\"; out_features = 5; } ); };\n";

/* conv (padding 1) -> avg pool (padding 1) -> relu -> global average -> flatten -> linear */
static const char *const avg_text =
    "network = { name = \"avg\"; input = { channels = 1; height = 5; width = 5; }; layers = (\n"
    "{ name = \"c1\"; type = \"conv2d\"; out_channels = 2; kernel = 3; padding = 1; },\n"
    "{ name = \"p1\"; type = \"pool\"; mode = \"avg\"; kernel = 2; stride = 2; padding = 1; },\n"
    "{ name = \"r1\"; type = \"relu\"; },\n"
    "{ name = \"g\"; type = \"pool\"; mode = \"global_avg\"; },\n"
    "{ name = \"f\"; type = \"flatten\"; },\n"
    "{ name = \"l1\"; type = \"linear\"; out_features = 3; } ); };\n";

/* A residual graph: batch-normalised conv -> p1 -> grouped conv (2 groups, batch norm) -> add
 * with p1 -> p2 -> depthwise conv (stride 2) and a 1x1 downsample from p1 and a 1x1 conv from
 * the network input, added (three summands) -> p3 -> global average -> linear. The p layers are
 * identities (1x1 average pools) where a network would have relus: a relu kink within h of an
 * activation spoils a central difference (relu and relu6 are checked on their own below). */
static const char *const res_text =
    "network = { name = \"res\"; input = { channels = 2; height = 6; width = 6; }; layers = (\n"
    "{ name = \"c1\"; type = \"conv2d\"; out_channels = 4; kernel = 3; padding = 1; "
    "batch_norm = true; },\n"
    "{ name = \"p1\"; type = \"pool\"; mode = \"avg\"; kernel = 1; },\n"
    "{ name = \"c2\"; type = \"conv2d\"; out_channels = 4; kernel = 3; padding = 1; groups = 2; "
    "batch_norm = true; },\n"
    "{ name = \"a1\"; type = \"add\"; inputs = [\"c2\", \"p1\"]; },\n"
    "{ name = \"p2\"; type = \"pool\"; mode = \"avg\"; kernel = 1; },\n"
    "{ name = \"dw\"; type = \"conv2d\"; out_channels = 4; kernel = 3; stride = 2; padding = 1; "
    "groups = 4; batch_norm = true; },\n"
    "{ name = \"ds\"; type = \"conv2d\"; inputs = [\"p1\"]; out_channels = 4; kernel = 1; "
    "stride = 2; },\n"
    "{ name = \"in\"; type = \"conv2d\"; inputs = [\"input\"]; out_channels = 4; kernel = 1; "
    "stride = 2; },\n"
    "{ name = \"a2\"; type = \"add\"; inputs = [\"dw\", \"ds\", \"in\"]; },\n"
    "{ name = \"p3\"; type = \"pool\"; mode = \"avg\"; kernel = 1; },\n"
    "{ name = \"g\"; type = \"pool\"; mode = \"global_avg\"; },\n"
    "{ name = \"f\"; type = \"flatten\"; },\n"
    "{ name = \"l1\"; type = \"linear\"; out_features = 3; } ); };\n";

/* Smooth: batch-normalised conv and grouped conv, no kinks. */
static const char *const bn_text =
    "network = { name = \"bn\"; input = { channels = 2; height = 4; width = 4; }; layers = (\n"
    "{ name = \"c1\"; type = \"conv2d\"; out_channels = 4; kernel = 3; padding = 1; "
    "batch_norm = true; },\n"
    "{ name = \"c2\"; type = \"conv2d\"; out_channels = 4; kernel = 3; padding = 1; groups = 2; "
    "batch_norm = true; },\n"
    "{ name = \"a1\"; type = \"add\"; inputs = [\"c2\", \"c1\"]; },\n"
    "{ name = \"g\"; type = \"pool\"; mode = \"global_avg\"; },\n"
    "{ name = \"f\"; type = \"flatten\"; },\n"
    "{ name = \"l1\"; type = \"linear\"; out_features = 3; } ); };\n";

static const char *const relu6_text =
    "network = { name = \"mlp6\"; input = { features = 8; tokens = 1; }; layers = (\n"
    "{ name = \"fc1\"; type = \"linear\"; out_features = 16; },\n"
    "{ name = \"r\"; type = \"relu6\"; },\n"
    "{ name = \"fc2\"; type = \"linear\"; out_features = 4; } ); };\n";

static const char *const mlp_text =
    "network = { name = \"mlp\"; input = { features = 8; tokens = 1; }; layers = (\n"
    "{ name = \"fc1\"; type = \"linear\"; out_features = 16; },\n"
    "{ name = \"relu1\"; type = \"relu\"; },\n"
    "{ name = \"fc2\"; type = \"linear\"; out_features = 4; } ); };\n";

static void load(const char *text, network *n)
{
    err e;
    int rc = network_load_string(text, "test.cfg", n, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
}

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static float uniform(unsigned *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)(lcg(s) & 0xFFFFF) / (float)0xFFFFF;
}

/* ---- a direct second implementation of the tiny net ------------------------------------------ */

static void conv_direct(const float *in, unsigned C, unsigned H, unsigned W, const float *w,
                        const float *b, unsigned Co, unsigned K, unsigned S, unsigned P, float *out,
                        unsigned *OH, unsigned *OW)
{
    *OH = (H + 2 * P - K) / S + 1;
    *OW = (W + 2 * P - K) / S + 1;
    for (unsigned o = 0; o < Co; o++)
        for (unsigned y = 0; y < *OH; y++)
            for (unsigned x = 0; x < *OW; x++) {
                double acc = b[o];
                for (unsigned c = 0; c < C; c++)
                    for (unsigned i = 0; i < K; i++)
                        for (unsigned j = 0; j < K; j++) {
                            int iy = (int)(y * S + i) - (int)P, ix = (int)(x * S + j) - (int)P;
                            if (iy >= 0 && iy < (int)H && ix >= 0 && ix < (int)W)
                                acc += (double)w[((o * C + c) * K + i) * K + j] *
                                       in[(c * H + (unsigned)iy) * W + (unsigned)ix];
                        }
                out[(o * *OH + y) * *OW + x] = (float)acc;
            }
}

static void tiny_direct(fnet *f, const float *x, float *logits)
{
    size_t cnt;
    float *w1 = fnet_weight(f, 0, &cnt), *b1 = fnet_bias(f, 0, &cnt);
    float *w2 = fnet_weight(f, 1, &cnt), *b2 = fnet_bias(f, 1, &cnt);
    float *w3 = fnet_weight(f, 2, &cnt), *b3 = fnet_bias(f, 2, &cnt);
    float a[3 * 3 * 3], p[3 * 2 * 2], c[4];
    unsigned oh, ow;
    conv_direct(x, 2, 6, 6, w1, b1, 3, 3, 2, 1, a, &oh, &ow);
    ck_assert_uint_eq(oh, 3);
    for (int i = 0; i < 27; i++)
        a[i] = a[i] > 0 ? a[i] : 0;
    for (unsigned ch = 0; ch < 3; ch++)
        for (unsigned y = 0; y < 2; y++)
            for (unsigned xx = 0; xx < 2; xx++) {
                float m = -INFINITY;
                for (unsigned i = 0; i < 2; i++)
                    for (unsigned j = 0; j < 2; j++)
                        m = fmaxf(m, a[(ch * 3 + y + i) * 3 + xx + j]);
                p[(ch * 2 + y) * 2 + xx] = m;
            }
    conv_direct(p, 3, 2, 2, w2, b2, 4, 2, 1, 0, c, &oh, &ow);
    ck_assert_uint_eq(oh, 1);
    for (int i = 0; i < 4; i++)
        c[i] = c[i] > 0 ? c[i] : 0;
    for (unsigned o = 0; o < 5; o++) {
        double acc = b3[o];
        for (unsigned i = 0; i < 4; i++)
            acc += (double)w3[o * 4 + i] * c[i];
        logits[o] = (float)acc;
    }
}

static void randomize(fnet *f, unsigned seed)
{
    unsigned s = seed;
    float *p = fnet_params(f);
    for (size_t i = 0; i < fnet_param_count(f); i++)
        p[i] = uniform(&s, -0.6f, 0.6f);
}

START_TEST(test_fnet_forward_matches_direct)
{
    network n;
    load(tiny_text, &n);
    fnet *f;
    err e;
    ck_assert_int_eq(fnet_create(&n, 3, &f, &e), 0);
    ck_assert_uint_eq(fnet_in_size(f), 72);
    ck_assert_uint_eq(fnet_out_size(f), 5);
    ck_assert_uint_eq(fnet_param_count(f), 3 * 18 + 3 + 4 * 12 + 4 + 5 * 4 + 5);
    randomize(f, 11);
    unsigned s = 5;
    enum { B = 3 };
    float x[B * 72];
    for (int i = 0; i < B * 72; i++)
        x[i] = uniform(&s, -1.0f, 1.0f);
    fnet_forward(f, x, B);
    for (int b = 0; b < B; b++) {
        float want[5];
        tiny_direct(f, x + b * 72, want);
        for (int k = 0; k < 5; k++)
            ck_assert_float_eq_tol(fnet_output(f)[b * 5 + k], want[k], 1e-5f);
    }
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

START_TEST(test_fnet_loss_closed_form)
{
    network n;
    load(mlp_text, &n);
    fnet *f;
    err e;
    ck_assert_int_eq(fnet_create(&n, 1, &f, &e), 0);
    memset(fnet_params(f), 0, fnet_param_count(f) * sizeof(float)); /* logits = bias of fc2 */
    size_t cnt;
    float *b = fnet_bias(f, 1, &cnt);
    b[0] = 1.0f, b[1] = 2.0f, b[2] = 3.0f, b[3] = 4.0f;
    float x[8] = {0};
    uint8_t y = 1;
    fnet_forward(f, x, 1);
    double lse = log(exp(1.0) + exp(2.0) + exp(3.0) + exp(4.0));
    ck_assert_double_eq_tol(fnet_loss(f, &y, 1), lse - 2.0, 1e-9);
    ck_assert_uint_eq(fnet_argmax(f, 0), 3);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

/* Every parameter's gradient against (L(p + h) - L(p - h)) / 2h; batch norm on batch statistics
 * when training, else on running statistics set to random values. */
static void check_gradients_mode(const char *text, unsigned seed, bool training)
{
    network n;
    load(text, &n);
    fnet *f;
    err e;
    ck_assert_int_eq(fnet_create(&n, seed, &f, &e), 0);
    randomize(f, seed);
    fnet_set_training(f, training);
    for (unsigned k = 0; k < n.n_xbar; k++) {
        float *ga, *be, *mu, *var;
        unsigned s = seed + k;
        size_t C = fnet_batch_norm(f, k, &ga, &be, &mu, &var);
        for (size_t c = 0; c < C; c++) {
            mu[c] = uniform(&s, -0.5f, 0.5f);
            var[c] = uniform(&s, 0.2f, 2.0f);
        }
    }
    unsigned s = seed * 7 + 1;
    enum { B = 4 };
    size_t in = fnet_in_size(f);
    float *x = malloc(B * in * sizeof *x);
    for (size_t i = 0; i < B * in; i++)
        x[i] = uniform(&s, -1.0f, 1.0f);
    uint8_t y[B];
    for (int b = 0; b < B; b++)
        y[b] = (uint8_t)(lcg(&s) % fnet_out_size(f));
    fnet_forward(f, x, B);
    fnet_loss(f, y, B);
    fnet_zero_grad(f);
    fnet_backward(f);
    float *p = fnet_params(f);
    const float *g = fnet_grads(f);
    double worst = 0.0;
    for (size_t i = 0; i < fnet_param_count(f); i++) {
        const float h = 1e-3f;
        float keep = p[i];
        p[i] = keep + h;
        fnet_forward(f, x, B);
        double up = fnet_loss(f, y, B);
        p[i] = keep - h;
        fnet_forward(f, x, B);
        double down = fnet_loss(f, y, B);
        p[i] = keep;
        double fd = (up - down) / (2.0 * (double)h);
        double d = fabs(fd - g[i]) / (1e-3 + fabs(fd));
        worst = d > worst ? d : worst;
        ck_assert_msg(d < 2e-2, "%s parameter %zu: backward %g, finite difference %g", n.name, i,
                      (double)g[i], fd);
    }
    ck_assert_double_lt(worst, 2e-2);
    free(x);
    fnet_destroy(f);
    network_fini(&n);
}

static void check_gradients(const char *text, unsigned seed)
{
    check_gradients_mode(text, seed, false);
}

START_TEST(test_fnet_gradients_conv_max_pool)
{
    check_gradients(tiny_text, 2);
}
END_TEST

/* Grouped and depthwise convs, a three-input add and batch norm in evaluation mode against nested
 * loops: group g of out channels sees only input channels g C/G .. (g + 1) C/G - 1. */
START_TEST(test_fnet_grouped_residual_forward_matches_direct)
{
    network n;
    load("network = { name = \"gd\"; input = { channels = 4; height = 5; width = 5; }; layers = (\n"
         "{ name = \"g\"; type = \"conv2d\"; out_channels = 6; kernel = 3; padding = 1; "
         "groups = 2; batch_norm = true; },\n"
         "{ name = \"dw\"; type = \"conv2d\"; out_channels = 6; kernel = 3; stride = 2; "
         "padding = 1; groups = 6; },\n"
         "{ name = \"s\"; type = \"conv2d\"; inputs = [\"input\"]; out_channels = 6; kernel = 1; "
         "stride = 2; padding = 0; },\n"
         "{ name = \"s2\"; type = \"conv2d\"; inputs = [\"g\"]; out_channels = 6; kernel = 3; "
         "stride = 2; padding = 1; groups = 3; },\n"
         "{ name = \"a\"; type = \"add\"; inputs = [\"dw\", \"s\", \"s2\"]; } ); };\n",
         &n);
    fnet *f;
    err e;
    ck_assert_int_eq(fnet_create(&n, 3, &f, &e), 0);
    randomize(f, 11);
    float *ga, *be, *mu, *var;
    ck_assert_uint_eq(fnet_batch_norm(f, 0, &ga, &be, &mu, &var), 6);
    unsigned sd = 12;
    for (int c = 0; c < 6; c++)
        mu[c] = uniform(&sd, -0.3f, 0.3f), var[c] = uniform(&sd, 0.5f, 1.5f);
    float x[100], g[6 * 25], dw[6 * 9], sc[6 * 9], s2[6 * 9];
    for (int i = 0; i < 100; i++)
        x[i] = uniform(&sd, -1.0f, 1.0f);
    size_t cnt;
    const float *wg = fnet_weight(f, 0, &cnt), *bg = fnet_bias(f, 0, &cnt);
    ck_assert_uint_eq(cnt, 6);
    unsigned oh, ow;
    for (int grp = 0; grp < 2; grp++) /* 2 input and 3 output channels per group */
        conv_direct(x + grp * 2 * 25, 2, 5, 5, wg + grp * 3 * 18, bg + grp * 3, 3, 3, 1, 1,
                    g + grp * 3 * 25, &oh, &ow);
    for (int c = 0; c < 6; c++)
        for (int q = 0; q < 25; q++)
            g[c * 25 + q] =
                (float)((double)ga[c] * (g[c * 25 + q] - mu[c]) / sqrt((double)var[c] + 1e-5) +
                        be[c]);
    const float *wd = fnet_weight(f, 1, &cnt), *bd = fnet_bias(f, 1, &cnt);
    for (int c = 0; c < 6; c++)
        conv_direct(g + c * 25, 1, 5, 5, wd + c * 9, bd + c, 1, 3, 2, 1, dw + c * 9, &oh, &ow);
    ck_assert_uint_eq(oh, 3);
    const float *ws = fnet_weight(f, 2, &cnt), *bs = fnet_bias(f, 2, &cnt);
    conv_direct(x, 4, 5, 5, ws, bs, 6, 1, 2, 0, sc, &oh, &ow);
    const float *w2 = fnet_weight(f, 3, &cnt), *b2 = fnet_bias(f, 3, &cnt);
    for (int grp = 0; grp < 3; grp++)
        conv_direct(g + grp * 2 * 25, 2, 5, 5, w2 + grp * 2 * 18, b2 + grp * 2, 2, 3, 2, 1,
                    s2 + grp * 2 * 9, &oh, &ow);
    fnet_forward(f, x, 1);
    for (int i = 0; i < 54; i++)
        ck_assert_float_eq_tol(fnet_output(f)[i], dw[i] + sc[i] + s2[i], 1e-5f);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

/* Folding: the folded net in float computes what the unfolded one computes with its running
 * statistics, and has no batch norm left. */
START_TEST(test_fnet_folded_batch_norm_equals_unfolded)
{
    network n;
    load(res_text, &n);
    fnet *f;
    err e;
    ck_assert_int_eq(fnet_create(&n, 8, &f, &e), 0);
    randomize(f, 8);
    unsigned sd = 9;
    for (unsigned k = 0; k < n.n_xbar; k++) {
        float *ga, *be, *mu, *var;
        size_t C = fnet_batch_norm(f, k, &ga, &be, &mu, &var);
        for (size_t c = 0; c < C; c++)
            mu[c] = uniform(&sd, -0.5f, 0.5f), var[c] = uniform(&sd, 0.1f, 3.0f);
    }
    enum { B = 3 };
    float x[B * 72], y[B * 3];
    for (int i = 0; i < B * 72; i++)
        x[i] = uniform(&sd, -1.0f, 1.0f);
    fnet_forward(f, x, B);
    memcpy(y, fnet_output(f), sizeof y);
    fnet *g = fnet_clone(f);
    fnet_fold_batch_norm(g);
    for (unsigned k = 0; k < n.n_xbar; k++) {
        float *ga, *be, *mu, *var;
        ck_assert_uint_eq(fnet_batch_norm(g, k, &ga, &be, &mu, &var), 0);
    }
    fnet_forward(g, x, B);
    for (int i = 0; i < B * 3; i++)
        ck_assert_float_eq_tol(fnet_output(g)[i], y[i], 1e-5f);
    /* by hand for one channel: c1's output channel 0 weight scaled by gamma / sqrt(var + eps) */
    float *ga, *be, *mu, *var;
    fnet_batch_norm(f, 0, &ga, &be, &mu, &var);
    size_t cnt;
    float s = (float)((double)ga[0] / sqrt((double)var[0] + 1e-5));
    ck_assert_float_eq_tol(fnet_weight(g, 0, &cnt)[0], fnet_weight(f, 0, &cnt)[0] * s, 1e-6f);
    ck_assert_float_eq_tol(fnet_bias(g, 0, &cnt)[0], (fnet_bias(f, 0, &cnt)[0] - mu[0]) * s + be[0],
                           1e-6f);
    fnet_destroy(g);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

START_TEST(test_fnet_gradients_residual_grouped_batch_norm)
{
    check_gradients_mode(bn_text, 4, true);
    check_gradients_mode(bn_text, 6, false);
    check_gradients_mode(res_text, 5, true);
    check_gradients_mode(relu6_text, 3, false);
}
END_TEST

START_TEST(test_fnet_gradients_avg_pools)
{
    check_gradients(avg_text, 3);
}
END_TEST

START_TEST(test_fnet_gradients_mlp)
{
    check_gradients(mlp_text, 4);
}
END_TEST

/* Four Gaussian blobs in 8 dimensions, class k centred at 3 on feature 2k. */
static void blobs(size_t count, unsigned seed, dataset *d)
{
    unsigned s = seed;
    d->n = count;
    d->rows = 1;
    d->cols = 8;
    d->x = malloc(count * 8 * sizeof *d->x);
    d->y = malloc(count);
    for (size_t i = 0; i < count; i++) {
        d->y[i] = (uint8_t)(i % 4);
        for (int k = 0; k < 8; k++) {
            double u1 = (lcg(&s) + 1.0) / 16777217.0, u2 = lcg(&s) / 16777216.0;
            double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
            d->x[i * 8 + (size_t)k] = (float)(z + (k == 2 * d->y[i] ? 3.0 : 0.0));
        }
    }
}

typedef struct losses {
    double first, last;
    unsigned count;
} losses;

static void record(const train_epoch *ep, void *ctx)
{
    losses *l = ctx;
    if (l->count++ == 0)
        l->first = ep->loss;
    l->last = ep->loss;
}

START_TEST(test_fnet_training_separates)
{
    network n;
    load(mlp_text, &n);
    dataset tr, te;
    blobs(400, 1, &tr);
    blobs(200, 2, &te);
    fnet *f, *g;
    err e;
    ck_assert_int_eq(fnet_create(&n, 9, &f, &e), 0);
    ck_assert_int_eq(fnet_create(&n, 9, &g, &e), 0);
    double before = train_accuracy(f, te.x, te.y, te.n);
    train_config c = {.epochs = 8, .batch = 16, .lr = 0.01, .seed = 5};
    losses l = {0};
    ck_assert_int_eq(train_run(f, &tr, &te, &c, record, &l, &e), 0);
    ck_assert_uint_eq(l.count, 8);
    ck_assert_double_lt(l.last, 0.5 * l.first);
    double after = train_accuracy(f, te.x, te.y, te.n);
    ck_assert_double_ge(after, 0.93); /* Bayes accuracy of these blobs is about 0.97 */
    ck_assert_double_gt(after, before);
    /* the same seed, the same bits */
    ck_assert_int_eq(train_run(g, &tr, &te, &c, NULL, NULL, &e), 0);
    ck_assert_int_eq(memcmp(fnet_params(f), fnet_params(g), fnet_param_count(f) * sizeof(float)),
                     0);
    /* augmentation draws from its own seeded stream: the same seed, the same bits again */
    train_config a = {.epochs = 2,
                      .batch = 16,
                      .lr = 0.01,
                      .schedule = TRAIN_LR_COSINE,
                      .shift = 1,
                      .flip = true,
                      .seed = 5};
    ck_assert_int_eq(train_run(f, &tr, NULL, &a, NULL, NULL, &e), 0);
    ck_assert_int_eq(train_run(g, &tr, NULL, &a, NULL, NULL, &e), 0);
    ck_assert_int_eq(memcmp(fnet_params(f), fnet_params(g), fnet_param_count(f) * sizeof(float)),
                     0);
    fnet_destroy(f);
    fnet_destroy(g);
    dataset_fini(&tr);
    dataset_fini(&te);
    network_fini(&n);
}
END_TEST

START_TEST(test_fnet_training_rejects_data)
{
    network n;
    load(mlp_text, &n);
    dataset tr;
    blobs(10, 1, &tr);
    fnet *f;
    err e;
    ck_assert_int_eq(fnet_create(&n, 9, &f, &e), 0);
    tr.cols = 4; /* 4 pixels, the net takes 8 */
    train_config c = {.epochs = 1, .batch = 4, .lr = 0.01, .seed = 5};
    ck_assert_int_eq(train_run(f, &tr, NULL, &c, NULL, NULL, &e), ERR_INPUT);
    ck_assert_msg_has(e, "found images of 1 x 4 = 4 pixels, expected 8");
    tr.cols = 8;
    tr.y[3] = 4; /* the net has 4 classes */
    ck_assert_int_eq(train_run(f, &tr, NULL, &c, NULL, NULL, &e), ERR_INPUT);
    ck_assert_msg_has(e, "image 3: found label 4, expected 0..3");
    tr.y[3] = 3;
    c.shift = TRAIN_MAX_SHIFT + 1;
    ck_assert_int_eq(train_run(f, &tr, NULL, &c, NULL, NULL, &e), ERR_INPUT);
    ck_assert_msg_has(e, "shift 9, schedule 0, expected batch >= 1, lr > 0, shift 0..8");
    fnet_destroy(f);
    dataset_fini(&tr);
    network_fini(&n);
}
END_TEST

START_TEST(test_fnet_training_cosine_schedule)
{
    train_config c = {.lr = 0.004, .schedule = TRAIN_LR_COSINE};
    /* lr (1 + cos(pi t / T)) / 2: t = 0 -> lr, T/2 -> lr / 2, T/3 -> 3 lr / 4, T -> 0 */
    ck_assert_double_eq_tol(train_lr_at(&c, 0, 300), 0.004, 1e-15);
    ck_assert_double_eq_tol(train_lr_at(&c, 150, 300), 0.002, 1e-15);
    ck_assert_double_eq_tol(train_lr_at(&c, 100, 300), 0.003, 1e-15);
    ck_assert_double_eq_tol(train_lr_at(&c, 300, 300), 0.0, 1e-15);
    c.schedule = TRAIN_LR_CONSTANT;
    ck_assert_double_eq(train_lr_at(&c, 150, 300), 0.004);
    ck_assert_str_eq(train_schedule_name(TRAIN_LR_COSINE), "cosine");
    ck_assert_ptr_null(train_schedule_name(TRAIN_LR_COUNT));
}
END_TEST

START_TEST(test_fnet_training_augment_image)
{
    /* 2 planes of 2 x 3: pixel value = 10 plane + 3 row + col + 1 */
    const float src[12] = {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16};
    float dst[12];
    /* mirrored: rows (3 2 1) (6 5 4); moved right 1, up 1: row 0 = (0 6 5), row 1 = zeros */
    const float want[12] = {0, 6, 5, 0, 0, 0, 0, 16, 15, 0, 0, 0};
    train_augment_image(dst, src, 2, 2, 3, 1, -1, true);
    for (int i = 0; i < 12; i++)
        ck_assert_float_eq(dst[i], want[i]);
    /* no move, no mirror: a copy */
    train_augment_image(dst, src, 2, 2, 3, 0, 0, false);
    ck_assert_int_eq(memcmp(dst, src, sizeof src), 0);
}
END_TEST

START_TEST(test_fnet_rejects_layers)
{
    network n;
    fnet *f;
    err e;
    load("network = { name = \"s\"; input = { features = 8; tokens = 1; }; layers = (\n"
         "{ name = \"fc\"; type = \"linear\"; out_features = 4; },\n"
         "{ name = \"sm\"; type = \"softmax\"; } ); };\n",
         &n);
    ck_assert_int_eq(fnet_create(&n, 1, &f, &e), ERR_INPUT);
    ck_assert_msg_has(e, "network.layers.[1] (layer \"sm\"): found a softmax layer");
    network_fini(&n);
}
END_TEST

static Suite *fnet_suite(void)
{
    Suite *s = suite_create("fnet");
    TCase *tc = tcase_create("fnet");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fnet_forward_matches_direct);
    tcase_add_test(tc, test_fnet_gradients_residual_grouped_batch_norm);
    tcase_add_test(tc, test_fnet_grouped_residual_forward_matches_direct);
    tcase_add_test(tc, test_fnet_folded_batch_norm_equals_unfolded);
    tcase_add_test(tc, test_fnet_loss_closed_form);
    tcase_add_test(tc, test_fnet_gradients_conv_max_pool);
    tcase_add_test(tc, test_fnet_gradients_avg_pools);
    tcase_add_test(tc, test_fnet_gradients_mlp);
    tcase_add_test(tc, test_fnet_training_separates);
    tcase_add_test(tc, test_fnet_training_rejects_data);
    tcase_add_test(tc, test_fnet_training_cosine_schedule);
    tcase_add_test(tc, test_fnet_training_augment_image);
    tcase_add_test(tc, test_fnet_rejects_layers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(fnet_suite());
}
