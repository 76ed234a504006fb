/* test_quant: quantisation and quantised inference. The quantisers against values worked by hand
 * (round half to even, clamps, steps); the integer GEMM by hand; an MLP's integer logits against a
 * direct re-implementation of the model in quant.h; fake quantisation's forward and its
 * straight-through gradients against hand-derived formulas; the proof of the arithmetic -- the
 * crossbar, conversion by conversion with a lossless ADC, gives logits bit-identical to the
 * integer GEMM for a conv net under every mapping, cell width and DAC width, and for LeNet-5 on
 * Fashion-MNIST test images (skipped when the data set is not installed); and a short ADC
 * clips monotonically more conversions as bits fall.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "dataset.h"
#include "fnet.h"
#include "network.h"
#include "policy.h"
#include "quant.h"
#include "testutil.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

static const char *const conv_text =
    "network = { name = \"conv\"; input = { channels = 1; height = 8; width = 8; }; layers = (\n"
    "{ name = \"c1\"; type = \"conv2d\"; out_channels = 4; kernel = 3; padding = 1; },\n"
    "{ name = \"r1\"; type = \"relu\"; },\n"
    "{ name = \"p1\"; type = \"pool\"; mode = \"avg\"; kernel = 2; },\n"
    "{ name = \"c2\"; type = \"conv2d\"; out_channels = 6; kernel = 3; stride = 2; },\n"
    "{ name = \"r2\"; type = \"relu\"; },\n"
    "{ name = \"f\"; type = \"flatten\"; },\n"
    "{ name = \"fc\"; type = \"linear\"; out_features = 10; } ); };\n";

/* Residual and grouped: conv (batch norm) -> relu -> depthwise (8 groups, batch norm) -> relu ->
 * 1x1 conv in 2 groups -> add with the first relu -> relu -> global average -> linear. */
static const char *const group_text =
    "network = { name = \"grp\"; input = { channels = 2; height = 6; width = 6; }; layers = (\n"
    "{ name = \"c1\"; type = \"conv2d\"; out_channels = 8; kernel = 3; padding = 1; "
    "batch_norm = true; },\n"
    "{ name = \"r1\"; type = \"relu\"; },\n"
    "{ name = \"dw\"; type = \"conv2d\"; out_channels = 8; kernel = 3; padding = 1; groups = 8; "
    "batch_norm = true; },\n"
    "{ name = \"r2\"; type = \"relu\"; },\n"
    "{ name = \"g2\"; type = \"conv2d\"; out_channels = 8; kernel = 1; groups = 2; },\n"
    "{ name = \"a\"; type = \"add\"; inputs = [\"g2\", \"r1\"]; },\n"
    "{ name = \"r3\"; type = \"relu\"; },\n"
    "{ name = \"gp\"; type = \"pool\"; mode = \"global_avg\"; },\n"
    "{ name = \"f\"; type = \"flatten\"; },\n"
    "{ name = \"fc\"; type = \"linear\"; out_features = 5; } ); };\n";

static const char *const mlp_text =
    "network = { name = \"mlp\"; input = { features = 6; tokens = 1; }; layers = (\n"
    "{ name = \"fc1\"; type = \"linear\"; out_features = 5; },\n"
    "{ name = \"relu1\"; type = \"relu\"; },\n"
    "{ name = \"fc2\"; type = \"linear\"; out_features = 3; } ); };\n";

static const char *const one_text =
    "network = { name = \"one\"; input = { features = 40; tokens = 1; }; layers = (\n"
    "{ name = \"fc\"; type = \"linear\"; out_features = 10; } ); };\n";

static void load(const char *text, network *n)
{
    err e;
    int rc = network_load_string(text, "test.cfg", n, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
}

static void load_arch(arch *a)
{
    err e;
    int rc = arch_load_file(XBARSIM_SOURCE_DIR "/configs/arch/lrmp.cfg", a, &e);
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

/* A net with parameters uniform in [lo, hi]. */
static fnet *make_in(const network *n, unsigned seed, float lo, float hi)
{
    fnet *f;
    err e;
    ck_assert_int_eq(fnet_create(n, 1, &f, &e), 0);
    unsigned s = seed;
    float *p = fnet_params(f);
    for (size_t i = 0; i < fnet_param_count(f); i++)
        p[i] = uniform(&s, lo, hi);
    return f;
}

static fnet *make(const network *n, unsigned seed)
{
    return make_in(n, seed, -0.5f, 0.5f);
}

static float *images(size_t count, size_t size, unsigned seed)
{
    unsigned s = seed;
    float *x = malloc(count * size * sizeof *x);
    for (size_t i = 0; i < count * size; i++)
        x[i] = (float)(lcg(&s) % 256) / 255.0f; /* as the data set's pixels */
    return x;
}

START_TEST(test_quant_quantisers_by_hand)
{
    int32_t lo, hi;
    fnet_act_levels(4, false, &lo, &hi);
    ck_assert_int_eq(lo, 0);
    ck_assert_int_eq(hi, 15);
    fnet_act_levels(4, true, &lo, &hi);
    ck_assert_int_eq(lo, -7);
    ck_assert_int_eq(hi, 7);
    fnet_act_levels(1, false, &lo, &hi);
    ck_assert_int_eq(hi, 1);
    const float w[4] = {0.5f, -1.5f, 0.75f, 0.0f};
    ck_assert_float_eq(fnet_weight_step(w, 4, 3), 0.5f); /* 1.5 / (2^2 - 1) */
    ck_assert_float_eq(fnet_weight_step(w, 4, 8), 1.5f / 127.0f);
    const float zero[2] = {0.0f, 0.0f};
    ck_assert_float_eq(fnet_weight_step(zero, 2, 4), 1.0f);
    ck_assert_int_eq(fnet_quantize(0.75f, 0.5f, -3, 3), 2); /* 1.5: half to even */
    ck_assert_int_eq(fnet_quantize(1.25f, 0.5f, -3, 3), 2); /* 2.5: half to even */
    ck_assert_int_eq(fnet_quantize(-1.25f, 0.5f, -3, 3), -2);
    ck_assert_int_eq(fnet_quantize(0.8f, 0.5f, -3, 3), 2);  /* 1.6 */
    ck_assert_int_eq(fnet_quantize(9.0f, 0.5f, -3, 3), 3);  /* clamped */
    ck_assert_int_eq(fnet_quantize(-9.0f, 0.5f, 0, 15), 0); /* unsigned: no negatives */
    ck_assert_int_eq(fnet_quantize(NAN, 0.5f, -3, 3), -3);
    /* against the library's rintf, clamped: every quarter in +-2^13, the halves near 2^22 where
     * the fast rounding hands over to rintf, and levels up to 2^30 */
    const int32_t big = 1 << 30;
    for (int32_t k = -(1 << 15); k <= 1 << 15; k++) {
        float t = (float)k / 4.0f;
        int32_t r = (int32_t)rintf(t);
        ck_assert_int_eq(fnet_quantize(t, 1.0f, -100, 100), r < -100 ? -100 : r > 100 ? 100 : r);
        ck_assert_int_eq(fnet_quantize(t * 3.0f, 3.0f, -big, big), (int32_t)rintf(t * 3.0f / 3.0f));
    }
    /* the array form, the same values: quarters, halves and far beyond the levels */
    float xs[64];
    int32_t got[64];
    for (int k = 0; k < 64; k++)
        xs[k] = k < 48 ? (float)(k - 24) * 0.25f : (k % 2 ? -1.0f : 1.0f) * 0x1p20f * (float)k;
    xs[63] = NAN;
    fnet_quantize_array(xs, 64, 0.5f, -7, 7, got);
    for (int k = 0; k < 64; k++)
        ck_assert_int_eq(got[k], fnet_quantize(xs[k], 0.5f, -7, 7));
    for (int32_t k = -4; k <= 4; k++) {
        float t = 0x1p22f + (float)k * 0.5f;
        ck_assert_int_eq(fnet_quantize(t, 1.0f, -big, big), (int32_t)rintf(t));
        ck_assert_int_eq(fnet_quantize(-t, 1.0f, -big, big), (int32_t)rintf(-t));
    }
}
END_TEST

START_TEST(test_quant_int_gemm_by_hand)
{
    const int32_t x[2 * 3] = {1, 2, 3, -1, 0, 4};
    const int32_t w[3 * 2] = {5, -6, 7, 8, -9, 10}; /* w[r * 2 + c] */
    int64_t y[4];
    quant_int_gemm(x, w, 2, 3, 2, y);
    ck_assert_int_eq(y[0], 5 + 14 - 27);  /* 1*5 + 2*7 + 3*(-9) */
    ck_assert_int_eq(y[1], -6 + 16 + 30); /* 1*(-6) + 2*8 + 3*10 */
    ck_assert_int_eq(y[2], -5 - 36);
    ck_assert_int_eq(y[3], 6 + 40);
}
END_TEST

/* The MLP's quantised logits, computed directly from the model in quant.h. */
START_TEST(test_quant_integer_path_matches_model)
{
    network n;
    load(mlp_text, &n);
    fnet *f = make(&n, 3);
    enum { B = 5 };
    float *x = images(B, 6, 4);
    float clip[2];
    quant_calibrate(f, x, B, clip);
    policy p;
    policy_uniform(&p, &n, 4, 3);
    quant_net q;
    err e;
    ck_assert_int_eq(quant_build(f, &p, NULL, XBARFUNC_ADC_IDEAL, clip, QUANT_INTEGER, &q, &e), 0);
    float got[B * 3];
    quant_forward(&q, x, B, got);
    size_t cnt;
    const float *w1 = fnet_weight(f, 0, &cnt), *b1 = fnet_bias(f, 0, &cnt);
    const float *w2 = fnet_weight(f, 1, &cnt), *b2 = fnet_bias(f, 1, &cnt);
    float s1 = fnet_weight_step(w1, 30, 4), s2 = fnet_weight_step(w2, 15, 4);
    float in_max = 0.0f, h_max = 0.0f;
    for (int i = 0; i < B * 6; i++)
        in_max = fmaxf(in_max, x[i]);
    float h[B][5];
    for (int b = 0; b < B; b++) /* float hidden layer for the calibration of fc2 */
        for (int o = 0; o < 5; o++) {
            double acc = b1[o];
            for (int r = 0; r < 6; r++)
                acc += (double)w1[o * 6 + r] * x[b * 6 + r];
            h_max = fmaxf(h_max, fmaxf((float)acc, 0.0f));
        }
    ck_assert_float_eq(clip[0], in_max);
    ck_assert_float_eq(clip[1], h_max);
    float a1 = in_max / 7.0f, a2 = h_max / 7.0f; /* ab 3 unsigned: 7 levels */
    for (int b = 0; b < B; b++) {
        for (int o = 0; o < 5; o++) {
            long long acc = 0;
            for (int r = 0; r < 6; r++)
                acc += (long long)fnet_quantize(x[b * 6 + r], a1, 0, 7) *
                       fnet_quantize(w1[o * 6 + r], s1, -7, 7);
            float v = (float)((double)acc * ((double)s1 * a1)) + b1[o];
            h[b][o] = v > 0.0f ? v : 0.0f;
        }
        for (int o = 0; o < 3; o++) {
            long long acc = 0;
            for (int r = 0; r < 5; r++)
                acc += (long long)fnet_quantize(h[b][r], a2, 0, 7) *
                       fnet_quantize(w2[o * 5 + r], s2, -7, 7);
            float v = (float)((double)acc * ((double)s2 * a2)) + b2[o];
            ck_assert_float_eq(got[b * 3 + o], v);
        }
    }
    quant_fini(&q);
    policy_fini(&p);
    free(x);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

/* Fake quantisation of a single linear layer: logits and weight gradients by hand (STE: the
 * gradient of the loss at the quantised weights, passed to the float weights unchanged). */
START_TEST(test_quant_ste_weight_gradient)
{
    network n;
    load("network = { name = \"l\"; input = { features = 4; tokens = 1; }; layers = (\n"
         "{ name = \"fc\"; type = \"linear\"; out_features = 3; } ); };\n",
         &n);
    fnet *f = make(&n, 8);
    fnet_fq fq = {.wb = 3, .ab = 4, .in_signed = false, .in_step = 0.1f};
    fnet_set_fake_quant(f, &fq);
    const float x[4] = {0.26f, 1.7f, 0.0f, 0.44f}; /* 1.7 is past the top level 1.5 */
    uint8_t y = 2;
    fnet_forward(f, x, 1);
    fnet_loss(f, &y, 1);
    fnet_zero_grad(f);
    fnet_backward(f);
    size_t cnt;
    const float *w = fnet_weight(f, 0, &cnt), *b = fnet_bias(f, 0, &cnt);
    float step = fnet_weight_step(w, 12, 3);
    const float xq[4] = {0.3f, 1.5f, 0.0f, 0.4f};
    double z[3], m = -1e300, sum = 0.0;
    for (int o = 0; o < 3; o++) {
        z[o] = b[o];
        for (int r = 0; r < 4; r++)
            z[o] += (double)((float)fnet_quantize(w[o * 4 + r], step, -3, 3) * step) * xq[r];
        ck_assert_double_eq_tol(fnet_output(f)[o], z[o], 1e-5);
        m = fmax(m, z[o]);
    }
    for (int o = 0; o < 3; o++)
        sum += exp(z[o] - m);
    for (int o = 0; o < 3; o++) {
        double d = exp(z[o] - m) / sum - (o == y);
        ck_assert_double_eq_tol(fnet_grads(f)[o * 4 + 1], d * 1.5, 1e-5);
        ck_assert_double_eq_tol(fnet_grads(f)[o * 4 + 0], d * 0.3, 1e-5);
        ck_assert_double_eq_tol(fnet_grads(f)[12 + o], d, 1e-5); /* bias */
    }
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

/* Fake quantisation of the second layer only: the gradient reaching the first layer passes where
 * its input lies in the range and is zero where it was clipped. */
START_TEST(test_quant_ste_input_mask)
{
    network n;
    load(mlp_text, &n);
    fnet *f = make_in(&n, 12, -0.2f, 0.5f);
    fnet_fq fq[2] = {{.wb = 0}, {.wb = 4, .ab = 2, .in_signed = false, .in_step = 0.15f}};
    fnet_set_fake_quant(f, fq); /* top level 0.45: some hidden units clip */
    const float x[6] = {0.9f, 0.1f, 0.5f, 0.3f, 0.8f, 0.2f};
    uint8_t y = 1;
    fnet_forward(f, x, 1);
    fnet_loss(f, &y, 1);
    fnet_zero_grad(f);
    fnet_backward(f);
    size_t cnt;
    const float *w1 = fnet_weight(f, 0, &cnt), *b1 = fnet_bias(f, 0, &cnt);
    const float *w2 = fnet_weight(f, 1, &cnt);
    float s2 = fnet_weight_step(w2, 15, 4);
    double h[5], dz[3];
    int inside = 0, clipped = 0;
    for (int o = 0; o < 5; o++) {
        h[o] = b1[o];
        for (int r = 0; r < 6; r++)
            h[o] += (double)w1[o * 6 + r] * x[r];
        h[o] = fmax(h[o], 0.0);
    }
    const float *z = fnet_output(f);
    double m = fmax(z[0], fmax(z[1], z[2])), sum = 0.0;
    for (int o = 0; o < 3; o++)
        sum += exp(z[o] - m);
    for (int o = 0; o < 3; o++)
        dz[o] = exp(z[o] - m) / sum - (o == y);
    for (int u = 0; u < 5; u++) {
        double dh = 0.0;
        for (int o = 0; o < 3; o++)
            dh += dz[o] * (double)((float)fnet_quantize(w2[o * 5 + u], s2, -7, 7) * s2);
        bool pass = h[u] > 0.0 && h[u] <= 0.45 + 1e-7;
        inside += pass;
        clipped += h[u] > 0.45 + 1e-7;
        for (int r = 0; r < 6; r++)
            ck_assert_double_eq_tol(fnet_grads(f)[u * 6 + r], pass ? dh * x[r] : 0.0, 1e-6);
    }
    ck_assert_msg(clipped > 0 && inside > 0, "h %g %g %g %g %g", h[0], h[1], h[2], h[3], h[4]);
    ck_assert_int_gt(inside, 0);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

/* The proof: lossless ADC, conversion by conversion, equals the integer GEMM bit for bit. */
START_TEST(test_quant_crossbar_equals_integer)
{
    network n;
    load(conv_text, &n);
    fnet *f = make_in(&n, 21, -0.3f, 0.5f); /* leaning positive: no dead relu layer */
    enum { B = 6 };
    float *x = images(B, 64, 22);
    float clip[3];
    quant_calibrate(f, x, B, clip);
    arch a;
    load_arch(&a);
    const struct {
        unsigned cell, dac, rows, active, wb, ab;
    } cases[] = {{1, 1, 128, 9, 8, 8},
                 {2, 1, 16, 16, 5, 6},
                 {2, 2, 32, 7, 4, 3},
                 {4, 3, 64, 20, 7, 5},
                 {3, 2, 8, 3, 6, 8}};
    for (unsigned m = 0; m < ARCH_MAP_COUNT; m++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            a.tiles.mapping = (arch_mapping)m;
            a.tiles.cell_bits = cases[c].cell;
            a.tiles.dac.bits = cases[c].dac;
            a.tiles.rows = cases[c].rows;
            a.tiles.rows_active = cases[c].active;
            policy p;
            policy_uniform(&p, &n, cases[c].wb, cases[c].ab);
            xbarfunc_params xp;
            xbarfunc_params_from_arch(&a, 1, XBARFUNC_ADC_SATURATE, &xp);
            for (unsigned k = 0; k < p.n; k++)
                p.layers[k].adc_bits = xbarfunc_adc_bits_needed(&xp);
            quant_net qi, qx;
            err e;
            ck_assert_int_eq(
                quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_INTEGER, &qi, &e), 0);
            int rc = quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_SLICED, &qx, &e);
            ck_assert_msg(rc == 0, "%s", e.msg);
            float yi[B * 10], yx[B * 10], yf[B * 10];
            quant_forward(&qi, x, B, yi);
            quant_forward(&qx, x, B, yx);
            ck_assert_msg(memcmp(yi, yx, sizeof yi) == 0, "mapping %s case %zu differs",
                          arch_mapping_name(a.tiles.mapping), c);
            ck_assert_uint_eq(qx.clipped, 0);
            fnet_forward(f, x, B);
            memcpy(yf, fnet_output(f), sizeof yf);
            ck_assert_msg(memcmp(yi, yf, sizeof yi) != 0, "case %zu: %g %g %g / %g %g", c,
                          (double)yi[0], (double)yi[1], (double)yi[13], (double)yf[0],
                          (double)yf[13]); /* quantisation did something */
            quant_fini(&qi);
            quant_fini(&qx);
            policy_fini(&p);
        }
    arch_fini(&a);
    free(x);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

/* Grouped layers on the mapper's packed tiles: the crossbar, conversion by conversion with a
 * lossless ADC, equals the integer GEMM of each group alone, bit for bit, whether a tile holds one
 * group or several (block-diagonal, a last tile with the rest). */
START_TEST(test_quant_crossbar_equals_integer_grouped_packed)
{
    network n;
    load(group_text, &n);
    fnet *f = make_in(&n, 31, -0.3f, 0.5f);
    for (unsigned k = 0; k < n.n_xbar; k++) { /* running statistics of a trained net */
        float *ga, *be, *mu, *var;
        unsigned s = 40 + k;
        size_t C = fnet_batch_norm(f, k, &ga, &be, &mu, &var);
        for (size_t c = 0; c < C; c++) {
            mu[c] = uniform(&s, -0.2f, 0.2f);
            var[c] = uniform(&s, 0.5f, 2.0f);
        }
    }
    fnet_fold_batch_norm(f);
    enum { B = 5 };
    float *x = images(B, 72, 32);
    float clip[4];
    quant_calibrate(f, x, B, clip);
    arch a;
    load_arch(&a);
    a.tiles.cols = 128;
    /* dw: 9 x 1 per group; unsigned, 2-bit cells, wb 5: 3 slices, so a matrix takes 9 rows x 3
     * columns and a 32-row tile holds floor(32 / 9) = 3 groups (tiles of 3, 3, 2 groups); with
     * 128 rows floor(128 / 9) = 14 >= 8 (one tile); with 8 rows none fits twice (pack 1). */
    const struct {
        unsigned cell, dac, rows, active, wb, ab, dw_pack;
    } cases[] = {{2, 1, 32, 9, 5, 6, 3},
                 {2, 2, 128, 7, 5, 3, 8},
                 {2, 1, 8, 3, 5, 8, 1},
                 {1, 1, 64, 16, 8, 8, 0},
                 {4, 3, 32, 20, 7, 5, 0}};
    for (unsigned m = 0; m < ARCH_MAP_COUNT; m++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            a.tiles.mapping = (arch_mapping)m;
            a.tiles.cell_bits = cases[c].cell;
            a.tiles.dac.bits = cases[c].dac;
            a.tiles.rows = cases[c].rows;
            a.tiles.rows_active = cases[c].active < cases[c].rows ? cases[c].active : cases[c].rows;
            policy p;
            policy_uniform(&p, &n, cases[c].wb, cases[c].ab);
            xbarfunc_params xp;
            xbarfunc_params_from_arch(&a, 1, XBARFUNC_ADC_SATURATE, &xp);
            for (unsigned k = 0; k < p.n; k++)
                p.layers[k].adc_bits = xbarfunc_adc_bits_needed(&xp);
            quant_net qi, qx, qc;
            err e;
            ck_assert_int_eq(
                quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_INTEGER, &qi, &e), 0);
            int rc = quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_SLICED, &qx, &e);
            ck_assert_msg(rc == 0, "%s", e.msg);
            ck_assert_int_eq(
                quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_CROSSBAR, &qc, &e), 0);
            if (m == ARCH_MAP_UNSIGNED && cases[c].dw_pack) {
                ck_assert_uint_eq(qx.l[1].pack, cases[c].dw_pack);
                ck_assert_uint_eq(qx.l[1].n_xf, (8 + cases[c].dw_pack - 1) / cases[c].dw_pack);
            }
            float yi[B * 5], yx[B * 5], yc[B * 5], yf[B * 5];
            quant_forward(&qi, x, B, yi);
            quant_forward(&qx, x, B, yx);
            quant_forward(&qc, x, B, yc);
            ck_assert_msg(memcmp(yi, yx, sizeof yi) == 0, "mapping %s case %zu differs",
                          arch_mapping_name(a.tiles.mapping), c);
            ck_assert_msg(memcmp(yi, yc, sizeof yi) == 0, "mapping %s case %zu differs (exact)",
                          arch_mapping_name(a.tiles.mapping), c);
            ck_assert_uint_eq(qx.clipped, 0);
            fnet_forward(f, x, B);
            memcpy(yf, fnet_output(f), sizeof yf);
            ck_assert_msg(memcmp(yi, yf, sizeof yi) != 0, "case %zu", c);
            quant_fini(&qi);
            quant_fini(&qx);
            quant_fini(&qc);
            policy_fini(&p);
        }
    arch_fini(&a);
    free(x);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

/* At 16 bits the integer path of the grouped residual net is the float model to within the
 * quantisation steps: the groups, the packing and the folded batch norm mean what the float
 * layers mean. */
START_TEST(test_quant_grouped_integer_near_float)
{
    network n;
    load(group_text, &n);
    fnet *f = make_in(&n, 33, -0.3f, 0.5f);
    enum { B = 4 };
    float *x = images(B, 72, 34);
    fnet_forward(f, x, B); /* unfolded, running statistics 0 and 1 */
    float yf[B * 5], yi[B * 5];
    memcpy(yf, fnet_output(f), sizeof yf);
    fnet_fold_batch_norm(f);
    float clip[4];
    quant_calibrate(f, x, B, clip);
    policy p;
    policy_uniform(&p, &n, 16, 16);
    quant_net qi;
    err e;
    ck_assert_int_eq(quant_build(f, &p, NULL, XBARFUNC_ADC_IDEAL, clip, QUANT_INTEGER, &qi, &e), 0);
    quant_forward(&qi, x, B, yi);
    for (int i = 0; i < B * 5; i++)
        ck_assert_float_eq_tol(yi[i], yf[i], 2e-3f);
    quant_fini(&qi);
    policy_fini(&p);
    free(x);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

/* The proof on real images: LeNet-5 (He-initialised) on Fashion-MNIST test images, lossless ADC
 * conversion by conversion, every mapping: logits bit-identical to the integer GEMM's. */
START_TEST(test_quant_crossbar_equals_integer_real_images)
{
    dataset te;
    err e;
    if (dataset_load_fmnist(NULL, DATASET_TEST, 4, &te, &e) < 0) {
        printf("skip: %s\n", e.msg); /* the data set package is not installed */
        return;
    }
    network n;
    int rc = network_load_file(XBARSIM_SOURCE_DIR "/configs/net/lenet5.cfg", &n, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    fnet *f;
    ck_assert_int_eq(fnet_create(&n, 5, &f, &e), 0);
    float clip[5];
    quant_calibrate(f, te.x, te.n, clip);
    arch a;
    load_arch(&a);
    for (unsigned m = 0; m < ARCH_MAP_COUNT; m++) {
        a.tiles.mapping = (arch_mapping)m;
        policy p;
        policy_uniform(&p, &n, 8, 8);
        xbarfunc_params xp;
        xbarfunc_params_from_arch(&a, 1, XBARFUNC_ADC_SATURATE, &xp);
        for (unsigned k = 0; k < p.n; k++)
            p.layers[k].adc_bits = xbarfunc_adc_bits_needed(&xp);
        quant_net qi, qx;
        ck_assert_int_eq(
            quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_INTEGER, &qi, &e), 0);
        ck_assert_int_eq(quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_SLICED, &qx, &e),
                         0);
        float yi[4 * 10], yx[4 * 10];
        quant_forward(&qi, te.x, te.n, yi);
        quant_forward(&qx, te.x, te.n, yx);
        ck_assert_msg(memcmp(yi, yx, te.n * 10 * sizeof(float)) == 0, "mapping %s differs",
                      arch_mapping_name(a.tiles.mapping));
        ck_assert_uint_eq(qx.clipped, 0);
        quant_fini(&qi);
        quant_fini(&qx);
        policy_fini(&p);
    }
    arch_fini(&a);
    fnet_destroy(f);
    network_fini(&n);
    dataset_fini(&te);
}
END_TEST

/* One crossbar layer, ADC saturating: fewer bits clip at least as many conversions, none at the
 * bits needed, and the logits then equal the integer path's. */
START_TEST(test_quant_short_adc_clips_monotonically)
{
    network n;
    load(one_text, &n);
    fnet *f = make(&n, 31);
    enum { B = 20 };
    float *x = images(B, 40, 32);
    float clip[1];
    quant_calibrate(f, x, B, clip);
    arch a;
    load_arch(&a);
    a.tiles.rows_active = 16;
    xbarfunc_params xp;
    xbarfunc_params_from_arch(&a, 1, XBARFUNC_ADC_SATURATE, &xp);
    unsigned need = xbarfunc_adc_bits_needed(&xp);
    uint64_t last = UINT64_MAX;
    float yi[B * 10], yx[B * 10];
    for (unsigned bits = 1; bits <= need; bits++) {
        policy p;
        policy_uniform(&p, &n, 6, 6);
        p.layers[0].adc_bits = bits;
        quant_net qx, qi;
        err e;
        ck_assert_int_eq(quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_SLICED, &qx, &e),
                         0);
        ck_assert_int_eq(
            quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_INTEGER, &qi, &e), 0);
        quant_forward(&qx, x, B, yx);
        quant_forward(&qi, x, B, yi);
        ck_assert_uint_le(qx.clipped, last);
        if (bits == 1)
            ck_assert_uint_gt(qx.clipped, 0);
        if (bits == need) {
            ck_assert_uint_eq(qx.clipped, 0);
            ck_assert_int_eq(memcmp(yi, yx, sizeof yi), 0);
        } else if (qx.clipped > 0) {
            ck_assert_int_ne(memcmp(yi, yx, sizeof yi), 0);
        }
        last = qx.clipped;
        quant_fini(&qx);
        quant_fini(&qi);
        policy_fini(&p);
    }
    arch_fini(&a);
    free(x);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

START_TEST(test_quant_rejects_one_bit_weights)
{
    network n;
    load(mlp_text, &n);
    fnet *f = make(&n, 3);
    float clip[2] = {1.0f, 1.0f};
    policy p;
    policy_uniform(&p, &n, 4, 4);
    p.layers[1].wb = 1;
    quant_net q;
    err e;
    ck_assert_int_eq(quant_build(f, &p, NULL, XBARFUNC_ADC_IDEAL, clip, QUANT_INTEGER, &q, &e),
                     ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "layer \"fc2\": found wb 1") != NULL, "%s", e.msg);
    policy_fini(&p);
    fnet_destroy(f);
    network_fini(&n);
}
END_TEST

static Suite *quant_suite(void)
{
    Suite *s = suite_create("quant");
    TCase *tc = tcase_create("quant");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_quant_quantisers_by_hand);
    tcase_add_test(tc, test_quant_int_gemm_by_hand);
    tcase_add_test(tc, test_quant_integer_path_matches_model);
    tcase_add_test(tc, test_quant_ste_weight_gradient);
    tcase_add_test(tc, test_quant_ste_input_mask);
    tcase_add_test(tc, test_quant_crossbar_equals_integer);
    tcase_add_test(tc, test_quant_crossbar_equals_integer_grouped_packed);
    tcase_add_test(tc, test_quant_grouped_integer_near_float);
    tcase_add_test(tc, test_quant_crossbar_equals_integer_real_images);
    tcase_add_test(tc, test_quant_short_adc_clips_monotonically);
    tcase_add_test(tc, test_quant_rejects_one_bit_weights);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(quant_suite());
}
