/* test_accuracy: the accuracy backends. Proxy: its noise formulas against closed forms worked out
 * by hand, its clip tables against the minimum of the formula, the formula against a numerically
 * integrated real quantiser, the accuracy map, monotonicity (random single-bit decrements) and the
 * required shape on every built-in network. External: fraction, percent and JSON results, a
 * command reading the policy files, failures, timeouts (SIGTERM and SIGKILL paths) and garbage.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accuracy.h"
#include "arch.h"
#include "network.h"
#include "policy.h"
#include "testutil.h"
#include "wallclock.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* e's message contains s (printing the message when not). */
#define ck_assert_msg_has(e, s)                                                                    \
    ck_assert_msg(strstr((e).msg, (s)) != NULL, "\"%s\" lacks \"%s\"", (e).msg, (s))

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void load_net(const char *name, network *n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/configs/net/%s.cfg", XBARSIM_SOURCE_DIR, name);
    err e;
    int rc = network_load_file(path, n, &e);
    ck_assert_msg(rc == 0, "%s: %s", path, e.msg);
}

static void load_arch(const char *name, arch *a)
{
    char path[512];
    snprintf(path, sizeof path, "%s/configs/arch/%s.cfg", XBARSIM_SOURCE_DIR, name);
    err e;
    int rc = arch_load_file(path, a, &e);
    ck_assert_msg(rc == 0, "%s: %s", path, e.msg);
}

static acc_backend *make_proxy(void)
{
    acc_proxy_config c = {0};
    acc_backend *b = NULL;
    err e;
    ck_assert_int_eq(acc_proxy_create(&c, &b, &e), 0);
    return b;
}

/* Evaluate p with b, requiring success. */
static acc_result eval_ok(acc_backend *b, const network *n, const policy *p, const arch *a)
{
    acc_result r;
    err e;
    int rc = acc_evaluate(b, n, p, a, &r, &e);
    ck_assert_msg(rc == 0, "evaluate: %s", e.msg);
    return r;
}

static double uniform_accuracy(acc_backend *b, const network *n, const arch *a, unsigned bits)
{
    policy p;
    policy_uniform(&p, n, bits, bits);
    double acc = eval_ok(b, n, &p, a).accuracy;
    policy_fini(&p);
    return acc;
}

/* ---- registry ---- */

START_TEST(test_accuracy_registry)
{
    static const char *const names[] = {"proxy", "external", "functional"};
    for (int k = 0; k < ACC_BACKEND_COUNT; k++) {
        acc_kind got;
        ck_assert_str_eq(acc_kind_name((acc_kind)k), names[k]);
        ck_assert_int_eq(acc_kind_parse(names[k], &got), 0);
        ck_assert_int_eq(got, k);
    }
    acc_kind got;
    ck_assert_int_eq(acc_kind_parse("oracle", &got), -1);

    acc_config c = {0};
    acc_backend *b = NULL;
    err e;
    ck_assert_int_eq(acc_create(ACC_BACKEND_FUNCTIONAL, &c, &b, &e), ERR_INPUT);
    ck_assert_ptr_null(b);
    ck_assert_msg_has(e, "functional.net: found none, expected the network searched");
    ck_assert_int_eq(acc_create(ACC_BACKEND_PROXY, &c, &b, &e), 0);
    ck_assert_str_eq(acc_backend_name(b), "proxy");
    ck_assert_int_eq(acc_backend_kind(b), ACC_BACKEND_PROXY);
    acc_destroy(b);
    acc_destroy(NULL);
}
END_TEST

/* ---- proxy formulas ---- */

/* Closed forms by hand. Standard normal: Q(2) = 0.022750131948179, phi(2) = 0.053990966513188,
 * Q(3) = 0.001349898031630, phi(3) = 0.004431848411938; g(z) = (1 + z^2) Q(z) - z phi(z). */
START_TEST(test_accuracy_mse_closed_form)
{
    const double q2 = 0.022750131948179, f2 = 0.053990966513188;
    const double q3 = 0.001349898031630, f3 = 0.004431848411938;
    /* Gaussian, 3 bits, clip 2: 8 levels -2..2, D = 4/7; (1 - 2Q(2)) D^2/12 + 2 g(2)
     * = 0.954499736 x 0.027210884 + 2 x 0.005768727 = 0.037510235. */
    double d = 4.0 / 7.0;
    double want = (1.0 - 2.0 * q2) * d * d / 12.0 + 2.0 * ((1.0 + 4.0) * q2 - 2.0 * f2);
    ck_assert_double_eq_tol(want, 0.0375102353638329, 1e-12);
    ck_assert_double_eq_tol(acc_proxy_mse(ACC_DIST_GAUSS, 3, 2.0), want, 1e-12);
    /* Gaussian, 8 bits, clip 8: no clipping to speak of (Q(8) = 6e-16), a pure uniform quantiser:
     * D = 16/255, D^2/12 = 3.28079e-4. */
    d = 16.0 / 255.0;
    ck_assert_double_eq_tol(acc_proxy_mse(ACC_DIST_GAUSS, 8, 8.0), d * d / 12.0, 1e-15);
    /* Half-Gaussian, 2 bits, clip 3: levels 0 1 2 3, D = 1; (1/2 - Q(3)) / 12 + g(3)
     * = 0.041554175 + 0.000203435 = 0.041757610. */
    want = (0.5 - q3) / 12.0 + ((1.0 + 9.0) * q3 - 3.0 * f3);
    ck_assert_double_eq_tol(want, 0.0417576102445178, 1e-12);
    ck_assert_double_eq_tol(acc_proxy_mse(ACC_DIST_RELU, 2, 3.0), want, 1e-12);
    /* eta at the table's clip: mse / signal power (1 for a Gaussian, 1/2 for a half-Gaussian). */
    ck_assert_double_eq_tol(acc_proxy_nsr(ACC_DIST_GAUSS, 5),
                            acc_proxy_mse(ACC_DIST_GAUSS, 5, acc_proxy_clip(ACC_DIST_GAUSS, 5)),
                            1e-18);
    ck_assert_double_eq_tol(acc_proxy_nsr(ACC_DIST_RELU, 5),
                            2.0 * acc_proxy_mse(ACC_DIST_RELU, 5, acc_proxy_clip(ACC_DIST_RELU, 5)),
                            1e-18);
}
END_TEST

/* ADC: 9 rows of 1-bit cells (E c = E c^2 = 1/2) and 1-bit digits. Non-negative input: digit 1
 * with probability 1/4, so mu = 9/8, v = 9 (1/8 - 1/64) = 0.984375; at 2 bits C = 3,
 * z = 1.875 / 0.992157 = 1.889822, g(z) = 0.00794130. Signed input: digit 1 with probability 1/2,
 * mu = 9/4, v = 9 (1/4 - 1/16) = 1.6875, z = 0.75 / 1.299038 = 0.577350, g(z) = 0.18083225. */
START_TEST(test_accuracy_adc_closed_form)
{
    ck_assert_double_eq_tol(acc_proxy_adc_nsr(9, 1, 1, true, 2), 0.00794130473419291, 1e-12);
    ck_assert_double_eq_tol(acc_proxy_adc_nsr(9, 1, 1, false, 2), 0.180832252044441, 1e-12);
    /* 4 bits read up to 15 >= 9: nothing clips. So do 3 bits when only 7 rows are used. */
    ck_assert_double_eq(acc_proxy_adc_nsr(9, 1, 1, true, 4), 0.0);
    ck_assert_double_eq(acc_proxy_adc_nsr(7, 1, 1, false, 3), 0.0);
    /* Decreasing in the ADC bits while it clips. */
    double prev = INFINITY;
    for (unsigned b = 1; b <= 12; b++) {
        double v = acc_proxy_adc_nsr(256, 4, 1, true, b); /* needs 12 bits */
        ck_assert_double_lt(v, prev);
        ck_assert_double_ge(v, 0.0);
        prev = v;
    }
    ck_assert_double_eq(prev, 0.0);
}
END_TEST

/* Every table clip is a minimum of its formula: moving it 0.002 either way costs. */
START_TEST(test_accuracy_clip_tables_optimal)
{
    for (int d = ACC_DIST_GAUSS; d <= ACC_DIST_RELU; d++)
        for (unsigned b = 1; b <= POLICY_MAX_BITS; b++) {
            double a = acc_proxy_clip((acc_dist)d, b), m = acc_proxy_mse((acc_dist)d, b, a);
            ck_assert_double_lt(m, acc_proxy_mse((acc_dist)d, b, a - 0.002));
            ck_assert_double_lt(m, acc_proxy_mse((acc_dist)d, b, a + 0.002));
        }
}
END_TEST

/* Lowering bits always adds noise. */
START_TEST(test_accuracy_nsr_decreasing)
{
    for (int d = ACC_DIST_GAUSS; d <= ACC_DIST_RELU; d++)
        for (unsigned b = 1; b < POLICY_MAX_BITS; b++) {
            ck_assert_double_gt(acc_proxy_nsr((acc_dist)d, b), acc_proxy_nsr((acc_dist)d, b + 1));
            ck_assert_double_gt(acc_proxy_nsr((acc_dist)d, b + 1), 0.0);
        }
}
END_TEST

/* A real quantiser (second implementation): the value of x at b bits and clip a. */
static double quantise(acc_dist d, unsigned b, double a, double x)
{
    double top = ldexp(1.0, (int)b) - 1.0; /* highest level index */
    if (d == ACC_DIST_RELU) {
        if (x <= 0.0)
            return 0.0;
        double k = floor(x / (a / top) + 0.5);
        return (k > top ? top : k) * (a / top);
    }
    double step = 2.0 * a / top, k = floor((x + a) / step + 0.5);
    return -a + step * (k < 0.0 ? 0.0 : k > top ? top : k);
}

/* Its MSE per unit variance by composite Simpson between the decision thresholds (where the
 * quantiser is constant), out to 10 standard deviations (a half-Gaussian's x <= 0 is exact). */
static double quantiser_mse(acc_dist d, unsigned b, double a)
{
    double top = ldexp(1.0, (int)b) - 1.0;
    double lo = d == ACC_DIST_RELU ? 0.0 : -10.0, step = (d == ACC_DIST_RELU ? a : 2.0 * a) / top;
    double start = d == ACC_DIST_RELU ? 0.0 : -a;
    double sum = 0.0;
    for (double k = -1.0; k <= top; k += 1.0) { /* piece k: between thresholds k and k + 1 */
        double x0 = k < 0.0 ? lo : start + (k + 0.5) * step;
        double x1 = k >= top ? 10.0 : start + (k + 1.5) * step;
        int m = k < 0.0 || k >= top ? 1024 : 64; /* the tails are long */
        double h = (x1 - x0) / m, part = 0.0;
        double q = quantise(d, b, a, 0.5 * (x0 + x1));
        for (int i = 0; i <= m; i++) {
            double x = x0 + h * i, f = (x - q) * (x - q) * exp(-0.5 * x * x);
            part += (i == 0 || i == m) ? f : (i % 2 ? 4.0 * f : 2.0 * f);
        }
        sum += part * h / 3.0;
    }
    return sum / sqrt(2.0 * 3.14159265358979323846);
}

/* The formula against the integrated real quantiser at the table's clip: within 3 % at 1-2 bits
 * (the uniform-noise approximation is coarse there), within 0.2 % from 3 bits. */
START_TEST(test_accuracy_formula_vs_quantiser)
{
    static const unsigned bits[] = {1, 2, 3, 4, 6, 8};
    for (int d = ACC_DIST_GAUSS; d <= ACC_DIST_RELU; d++)
        for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
            unsigned b = bits[i];
            double a = acc_proxy_clip((acc_dist)d, b);
            double real = quantiser_mse((acc_dist)d, b, a);
            double model = acc_proxy_mse((acc_dist)d, b, a);
            ck_assert_double_eq_tol(model / real, 1.0, (b <= 2 ? 0.03 : 0.002));
        }
}
END_TEST

/* ---- proxy on networks ---- */

/* ResNet-18 on lrmp: the reference, 8/8 near it, 8/8 > 6/6 > 4/4 > 2/2, determinism, and the
 * accuracy map by hand from S. */
START_TEST(test_accuracy_proxy_resnet18_uniform)
{
    network n;
    arch a;
    load_net("resnet18", &n);
    load_arch("lrmp", &a);
    acc_backend *b = make_proxy();

    policy p;
    policy_uniform(&p, &n, 8, 8);
    acc_result r = eval_ok(b, &n, &p, &a), r2 = eval_ok(b, &n, &p, &a);
    ck_assert_double_eq(r.reference, 0.69758);
    ck_assert(r.estimate);
    ck_assert_msg(strstr(r.note, "estimate") != NULL, "note: %s", r.note);
    ck_assert_double_eq(r.accuracy, r2.accuracy); /* bit for bit */
    ck_assert_double_le(r.accuracy, r.reference);
    ck_assert_double_gt(r.accuracy, r.reference - 0.005);
    ck_assert_double_ge(r.seconds, 0.0);
    double S = acc_proxy_noise(&n, &p, &a, NULL);
    ck_assert_double_eq_tol(r.accuracy, 0.69758 - 0.69758 * (1.0 - exp(-S / ACC_PROXY_S0)), 1e-15);
    policy_fini(&p);

    double a8 = uniform_accuracy(b, &n, &a, 8), a6 = uniform_accuracy(b, &n, &a, 6);
    double a4 = uniform_accuracy(b, &n, &a, 4), a2 = uniform_accuracy(b, &n, &a, 2);
    ck_assert_double_lt(a6, a8);
    ck_assert_double_lt(a4, a6);
    ck_assert_double_lt(a2, a4);
    ck_assert_double_gt(a8 - a4, 0.01); /* 4/4 loses points, 2/2 a lot */
    ck_assert_double_gt(a8 - a2, 0.10);
    ck_assert_double_ge(a2, 0.0);
    acc_destroy(b);
    arch_fini(&a);
    network_fini(&n);
}
END_TEST

/* Layer terms on ResNet-18: only conv1 reads a signed input (the image); every other crossbar
 * layer reads a relu (directly, or through the max pool or the global pool). S is their sum; on
 * lrmp the default ADC (4 bits, the need) adds nothing. */
START_TEST(test_accuracy_proxy_layer_terms)
{
    network n;
    arch a;
    load_net("resnet18", &n);
    load_arch("lrmp", &a);
    policy p;
    policy_uniform(&p, &n, 6, 5);
    acc_layer_noise *t = calloc(n.n_xbar, sizeof *t);
    double S = acc_proxy_noise(&n, &p, &a, t), sum = 0.0;
    for (unsigned i = 0; i < n.n_xbar; i++) {
        ck_assert_int_eq(t[i].nonneg_input, i != 0);
        ck_assert_double_eq(t[i].weight, acc_proxy_nsr(ACC_DIST_GAUSS, 6));
        ck_assert_double_eq(t[i].act, acc_proxy_nsr(i ? ACC_DIST_RELU : ACC_DIST_GAUSS, 5));
        ck_assert_double_eq(t[i].adc, 0.0);
        ck_assert_double_eq(t[i].total, t[i].weight + t[i].act + t[i].adc);
        sum += t[i].total;
    }
    ck_assert_double_eq_tol(S, sum, 1e-15);
    ck_assert_str_eq(n.layers[n.xbar[0]].name, "conv1");
    /* One ADC bit short on every layer: each layer gets the closed-form term of 9 rows. */
    for (unsigned i = 0; i < p.n; i++)
        p.layers[i].adc_bits = 2;
    acc_proxy_noise(&n, &p, &a, t);
    ck_assert_double_eq_tol(t[0].adc, 0.180832252044441, 1e-12);
    ck_assert_double_eq_tol(t[1].adc, 0.00794130473419291, 1e-12);
    free(t);
    policy_fini(&p);
    arch_fini(&a);
    network_fini(&n);
}
END_TEST

/* 200 random policies on ResNet-18: lowering one layer's wb, ab or ADC bits by one never raises
 * the accuracy (and lowering wb or ab strictly lowers it). */
START_TEST(test_accuracy_proxy_monotone_random)
{
    network n;
    arch a;
    load_net("resnet18", &n);
    load_arch("lrmp", &a);
    acc_backend *b = make_proxy();
    policy p;
    policy_uniform(&p, &n, 8, 8);
    unsigned seed = 12345u, lowered = 0;
    for (int trial = 0; trial < 200; trial++) {
        for (unsigned i = 0; i < p.n; i++) {
            p.layers[i].wb = 1 + lcg(&seed) % 8;
            p.layers[i].ab = 1 + lcg(&seed) % 8;
            p.layers[i].adc_bits = 1 + lcg(&seed) % 4;
        }
        double before = eval_ok(b, &n, &p, &a).accuracy;
        unsigned layer = lcg(&seed) % p.n, which = lcg(&seed) % 3;
        unsigned *field = which == 0   ? &p.layers[layer].wb
                          : which == 1 ? &p.layers[layer].ab
                                       : &p.layers[layer].adc_bits;
        if (*field == 1)
            continue;
        (*field)--;
        double after = eval_ok(b, &n, &p, &a).accuracy;
        ck_assert_double_le(after, before);
        if (which < 2)
            ck_assert_double_lt(after, before);
        lowered++;
    }
    ck_assert_uint_gt(lowered, 150);
    policy_fini(&p);
    acc_destroy(b);
    arch_fini(&a);
    network_fini(&n);
}
END_TEST

/* ADC bits on ResNet-18 / lrmp (needs 4): 4 and the default agree; 3 is no better; 2 and 1 are
 * strictly worse, in order. */
START_TEST(test_accuracy_proxy_adc_bits)
{
    network n;
    arch a;
    load_net("resnet18", &n);
    load_arch("lrmp", &a);
    ck_assert_uint_eq(arch_adc_bits_needed(&a), 4);
    acc_backend *b = make_proxy();
    policy p;
    policy_uniform(&p, &n, 8, 8);
    double acc[5];
    acc[0] = eval_ok(b, &n, &p, &a).accuracy; /* adc_bits 0: the arch's 4 */
    for (unsigned bits = 1; bits <= 4; bits++) {
        for (unsigned i = 0; i < p.n; i++)
            p.layers[i].adc_bits = bits;
        acc[bits] = eval_ok(b, &n, &p, &a).accuracy;
    }
    ck_assert_double_eq(acc[4], acc[0]);
    ck_assert_double_le(acc[3], acc[4]);
    ck_assert_double_lt(acc[2], acc[3]);
    ck_assert_double_lt(acc[1], acc[2]);
    policy_fini(&p);
    acc_destroy(b);
    arch_fini(&a);
    network_fini(&n);
}
END_TEST

static const char *const networks[] = {"lenet5",   "mlp-lrmp", "mobilenet_v2",
                                       "resnet18", "resnet34", "resnet50",
                                       "vgg11",    "vgg16",    "vit_b32"};

/* Every built-in network, on lrmp and on puma: 8/8 within 0.5 % of the reference, 8/8 > 6/6 >
 * 4/4, everything in [0, 1]. */
START_TEST(test_accuracy_proxy_networks)
{
    static const char *const arches[] = {"lrmp", "puma"};
    network n;
    load_net(networks[_i], &n);
    acc_backend *b = make_proxy();
    for (int k = 0; k < 2; k++) {
        arch a;
        load_arch(arches[k], &a);
        policy p;
        policy_uniform(&p, &n, 8, 8);
        acc_result r = eval_ok(b, &n, &p, &a);
        policy_fini(&p);
        ck_assert_double_gt(r.reference, 0.0);
        ck_assert_double_le(r.reference, 1.0);
        ck_assert_double_le(r.accuracy, r.reference);
        ck_assert_double_gt(r.accuracy, r.reference - 0.005);
        double a6 = uniform_accuracy(b, &n, &a, 6), a4 = uniform_accuracy(b, &n, &a, 4);
        double a1 = uniform_accuracy(b, &n, &a, 1);
        ck_assert_double_lt(a6, r.accuracy);
        ck_assert_double_lt(a4, a6);
        ck_assert_double_ge(a1, 0.0);
        ck_assert_double_le(a1, 1.0);
        arch_fini(&a);
    }
    acc_destroy(b);
    network_fini(&n);
}
END_TEST

/* Config: explicit reference, drop_max and s0 by hand; the generic reference; bad settings. */
START_TEST(test_accuracy_proxy_config)
{
    network n;
    arch a;
    load_net("lenet5", &n);
    load_arch("lrmp", &a);
    policy p;
    policy_uniform(&p, &n, 4, 4);
    double S = acc_proxy_noise(&n, &p, &a, NULL);

    acc_proxy_config c = {.reference = 0.9, .drop_max = 0.5, .s0 = 2.0};
    acc_backend *b = NULL;
    err e;
    ck_assert_int_eq(acc_proxy_create(&c, &b, &e), 0);
    acc_result r = eval_ok(b, &n, &p, &a);
    ck_assert_double_eq(r.reference, 0.9);
    ck_assert_double_eq_tol(r.accuracy, 0.9 - 0.5 * (1.0 - exp(-S / 2.0)), 1e-15);
    double ref;
    ck_assert_double_eq_tol(acc_proxy_accuracy(b, &n, 4.0, &ref), 0.9 - 0.5 * (1.0 - exp(-2.0)),
                            1e-15);
    ck_assert_double_eq(ref, 0.9);
    acc_destroy(b);

    b = make_proxy(); /* lenet5 has no published reference: relative accuracy */
    r = eval_ok(b, &n, &p, &a);
    ck_assert_double_eq(r.reference, ACC_PROXY_GENERIC_REFERENCE);
    ck_assert_msg(strstr(r.note, "relative") != NULL, "note: %s", r.note);
    acc_destroy(b);

    static const struct {
        acc_proxy_config c;
        const char *where;
    } bad[] = {
        {{.reference = 1.5}, "proxy.reference"},
        {{.reference = -0.1}, "proxy.reference"},
        {{.reference = 0.5, .drop_max = 0.6}, "proxy.drop_max"},
        {{.drop_max = -1.0}, "proxy.drop_max"},
        {{.s0 = -1.0}, "proxy.s0"},
        {{.weights = "w.h5"}, "proxy.weights"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = NULL;
        ck_assert_int_eq(acc_proxy_create(&bad[i].c, &b, &e), ERR_INPUT);
        ck_assert_ptr_null(b);
        ck_assert_msg_has(e, bad[i].where);
        ck_assert_msg_has(e, "expected");
    }
    policy_fini(&p);
    arch_fini(&a);
    network_fini(&n);
}
END_TEST

/* A policy that does not fit the network is reported, not asserted. */
START_TEST(test_accuracy_proxy_bad_policy)
{
    network n;
    arch a;
    load_net("lenet5", &n);
    load_arch("lrmp", &a);
    acc_backend *b = make_proxy();
    policy p;
    policy_uniform(&p, &n, 8, 8);
    acc_result r;
    err e;
    p.n--;
    ck_assert_int_eq(acc_evaluate(b, &n, &p, &a, &r, &e), ERR_INPUT);
    ck_assert_msg_has(e, "found 4 layers, expected 5");
    p.n++;
    p.layers[2].wb = 0;
    ck_assert_int_eq(acc_evaluate(b, &n, &p, &a, &r, &e), ERR_INPUT);
    ck_assert_msg_has(e, "layer \"c5\"");
    ck_assert_msg_has(e, "found wb 0");
    p.layers[2].wb = 8;
    p.layers[3].adc_bits = ARCH_MAX_ADC_BITS + 1;
    ck_assert_int_eq(acc_evaluate(b, &n, &p, &a, &r, &e), ERR_INPUT);
    ck_assert_msg_has(e, "adc_bits 17");
    policy_fini(&p);
    acc_destroy(b);
    arch_fini(&a);
    network_fini(&n);
}
END_TEST

/* ---- external ---- */

typedef struct ext_fixture {
    network n;
    arch a;
    policy p;
} ext_fixture;

static void ext_setup(ext_fixture *f)
{
    load_net("lenet5", &f->n);
    load_arch("lrmp", &f->a);
    policy_uniform(&f->p, &f->n, 8, 8);
}

static void ext_teardown(ext_fixture *f)
{
    policy_fini(&f->p);
    arch_fini(&f->a);
    network_fini(&f->n);
}

/* Run command once on lenet5 8/8 (reference 0.7, timeout 10 s unless given): status, result. */
static int ext_run(ext_fixture *f, const char *command, double timeout_s, double reference,
                   acc_result *r, err *e)
{
    acc_external_config c = {.command = command, .timeout_s = timeout_s, .reference = reference};
    acc_backend *b = NULL;
    int rc = acc_external_create(&c, &b, e);
    ck_assert_msg(rc == 0, "create: %s", e->msg);
    ck_assert_str_eq(acc_backend_name(b), "external");
    rc = acc_evaluate(b, &f->n, &f->p, &f->a, r, e);
    acc_destroy(b);
    return rc;
}

START_TEST(test_accuracy_external_fraction)
{
    ext_fixture f;
    ext_setup(&f);
    acc_result r;
    err e;
    ck_assert_int_eq(ext_run(&f, "echo 0.83", 10.0, 0.7, &r, &e), 0);
    ck_assert_double_eq_tol(r.accuracy, 0.83, 1e-12);
    ck_assert_double_eq(r.reference, 0.7);
    ck_assert(!r.estimate);
    ck_assert_double_gt(r.seconds, 0.0);
    /* The last non-empty line counts; blanks around it are fine. */
    ck_assert_int_eq(ext_run(&f, "echo epoch 1; echo '  0.5  '; echo; echo ''", 10.0, 0.7, &r, &e),
                     0);
    ck_assert_double_eq_tol(r.accuracy, 0.5, 1e-12);
    ext_teardown(&f);
}
END_TEST

START_TEST(test_accuracy_external_percent)
{
    ext_fixture f;
    ext_setup(&f);
    acc_result r;
    err e;
    ck_assert_int_eq(ext_run(&f, "echo 83%", 10.0, 0.7, &r, &e), 0);
    ck_assert_double_eq_tol(r.accuracy, 0.83, 1e-12);
    ck_assert_int_eq(ext_run(&f, "echo 83", 10.0, 0.7, &r, &e), 0); /* > 1: a percent */
    ck_assert_double_eq_tol(r.accuracy, 0.83, 1e-12);
    ck_assert_int_eq(ext_run(&f, "echo 0.5%", 10.0, 0.7, &r, &e), 0); /* % sign: always percent */
    ck_assert_double_eq_tol(r.accuracy, 0.005, 1e-12);
    ext_teardown(&f);
}
END_TEST

/* The result JSON wins over stdout and may carry the reference. */
START_TEST(test_accuracy_external_result_json)
{
    ext_fixture f;
    ext_setup(&f);
    acc_result r;
    err e;
    const char *cmd = "printf '{\"note\": \"accuracy\", \"accuracy\": 0.71,\\n \"reference\": "
                      "75.5}' > \"$XBARSIM_RESULT_JSON\"; echo 0.2";
    ck_assert_int_eq(ext_run(&f, cmd, 10.0, 0.0, &r, &e), 0);
    ck_assert_double_eq_tol(r.accuracy, 0.71, 1e-12);
    ck_assert_double_eq_tol(r.reference, 0.755, 1e-12);
    ck_assert_msg(strstr(r.note, "result JSON") != NULL, "note: %s", r.note);
    /* {result} names the same file. */
    ck_assert_int_eq(ext_run(&f, "echo '{\"accuracy\": 0.6}' > {result}", 10.0, 0.7, &r, &e), 0);
    ck_assert_double_eq_tol(r.accuracy, 0.6, 1e-12);
    ck_assert_double_eq(r.reference, 0.7);
    /* A JSON without the accuracy is an error, not a fallback to stdout. */
    ck_assert_int_eq(ext_run(&f, "echo '{\"acc\": 0.6}' > {result}; echo 0.5", 10.0, 0.7, &r, &e),
                     ERR_INPUT);
    ck_assert_msg_has(e, "no \"accuracy\" member");
    ext_teardown(&f);
}
END_TEST

/* A command that reads the policy: mean wb / 10 from the CSV (2 3 4 5 6 -> 0.4), through the
 * environment and through {csv}; the environment names all three files. */
START_TEST(test_accuracy_external_reads_policy)
{
    ext_fixture f;
    ext_setup(&f);
    for (unsigned i = 0; i < f.p.n; i++)
        f.p.layers[i].wb = 2 + i;
    acc_result r;
    err e;
    ck_assert_int_eq(ext_run(&f,
                             "awk -F, 'NR > 1 { s += $2; n++ } END { printf \"%.6f\\n\", s / n / "
                             "10 }' \"$XBARSIM_POLICY_CSV\"",
                             10.0, 0.7, &r, &e),
                     0);
    ck_assert_double_eq_tol(r.accuracy, 0.4, 1e-12);
    ck_assert_int_eq(ext_run(&f,
                             "awk -F, 'NR > 1 { if ($2 > m) m = $2 } END { print m / 10 }' {csv}",
                             10.0, 0.7, &r, &e),
                     0);
    ck_assert_double_eq_tol(r.accuracy, 0.6, 1e-12);
    ck_assert_int_eq(ext_run(&f,
                             "test -f \"$XBARSIM_POLICY_JSON\" && test -f {json} && "
                             "test -n \"$XBARSIM_RESULT_JSON\" && echo 1",
                             10.0, 0.7, &r, &e),
                     0);
    ck_assert_double_eq(r.accuracy, 1.0);
    ext_teardown(&f);
}
END_TEST

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s", path);
    static char buf[8192];
    size_t got = fread(buf, 1, sizeof buf - 1, fp);
    buf[got] = '\0';
    fclose(fp);
    return buf;
}

/* The files in a given work directory (made by create, kept by destroy), exactly. */
START_TEST(test_accuracy_external_policy_files)
{
    ext_fixture f;
    ext_setup(&f);
    f.p.layers[0].wb = 2;
    f.p.layers[4].adc_bits = 3;
    char parent[] = "/tmp/test-accuracy-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(parent));
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/work", parent);
    acc_external_config c = {.command = "echo 0.9", .workdir = dir, .reference = 0.95};
    acc_backend *b = NULL;
    err e;
    ck_assert_int_eq(acc_external_create(&c, &b, &e), 0);
    acc_result r;
    ck_assert_int_eq(acc_evaluate(b, &f.n, &f.p, &f.a, &r, &e), 0);
    acc_destroy(b);
    snprintf(path, sizeof path, "%s/policy.csv", dir);
    ck_assert_str_eq(slurp(path), "layer,wb,ab,adc_bits\nc1,2,8,\nc3,8,8,\nc5,8,8,\nf6,8,8,\n"
                                  "output,8,8,3\n");
    snprintf(path, sizeof path, "%s/policy.json", dir);
    ck_assert_str_eq(slurp(path),
                     "{\"network\": \"lenet5\", \"arch\": \"lrmp\", \"layers\": [\n"
                     "  {\"name\": \"c1\", \"wb\": 2, \"ab\": 8, \"adc_bits\": 4},\n"
                     "  {\"name\": \"c3\", \"wb\": 8, \"ab\": 8, \"adc_bits\": 4},\n"
                     "  {\"name\": \"c5\", \"wb\": 8, \"ab\": 8, \"adc_bits\": 4},\n"
                     "  {\"name\": \"f6\", \"wb\": 8, \"ab\": 8, \"adc_bits\": 4},\n"
                     "  {\"name\": \"output\", \"wb\": 8, \"ab\": 8, \"adc_bits\": 3}\n"
                     "]}\n");
    static const char *const files[] = {"policy.csv", "policy.json", "stdout.txt", "stderr.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        ck_assert_int_eq(unlink(path), 0);
    }
    ck_assert_int_eq(rmdir(dir), 0);
    ck_assert_int_eq(rmdir(parent), 0);
    ext_teardown(&f);
}
END_TEST

/* A result JSON from an earlier run is never read again; the own temporary directory goes. */
START_TEST(test_accuracy_external_stale_and_cleanup)
{
    ext_fixture f;
    ext_setup(&f);
    acc_external_config c = {.command =
                                 "if [ -n \"$SECOND\" ]; then echo {dir} >&2; echo 0.4; else echo "
                                 "'{\"accuracy\": 0.9}' > {result}; fi",
                             .reference = 0.95};
    acc_backend *b = NULL;
    err e;
    acc_result r;
    ck_assert_int_eq(acc_external_create(&c, &b, &e), 0);
    unsetenv("SECOND");
    ck_assert_int_eq(acc_evaluate(b, &f.n, &f.p, &f.a, &r, &e), 0);
    ck_assert_double_eq_tol(r.accuracy, 0.9, 1e-12);
    setenv("SECOND", "1", 1);
    ck_assert_int_eq(acc_evaluate(b, &f.n, &f.p, &f.a, &r, &e), 0);
    unsetenv("SECOND");
    ck_assert_double_eq_tol(r.accuracy, 0.4, 1e-12);
    const char *dir = strstr(r.note, "stderr: ");
    ck_assert_msg(dir != NULL, "note: %s", r.note);
    dir += strlen("stderr: ");
    char copy[ACC_NOTE_BYTES];
    snprintf(copy, sizeof copy, "%s", dir);
    ck_assert_int_eq(access(copy, F_OK), 0);
    acc_destroy(b);
    ck_assert_int_eq(access(copy, F_OK), -1);
    ext_teardown(&f);
}
END_TEST

START_TEST(test_accuracy_external_failure)
{
    ext_fixture f;
    ext_setup(&f);
    acc_result r;
    err e;
    ck_assert_int_eq(ext_run(&f, "echo 0.9; echo boom >&2; exit 3", 10.0, 0.7, &r, &e), ERR_INPUT);
    ck_assert_int_eq(e.code, ERR_INPUT);
    ck_assert_msg_has(e, "exited with status 3");
    ck_assert_msg_has(e, "boom");
    ck_assert_int_eq(ext_run(&f, "kill -9 $$", 10.0, 0.7, &r, &e), ERR_INPUT);
    ck_assert_msg_has(e, "killed by signal 9");
    ck_assert_int_eq(ext_run(&f, "/nonexistent/tool", 10.0, 0.7, &r, &e), ERR_INPUT);
    ck_assert_msg_has(e, "status 127");
    ck_assert_msg_has(e, "nonexistent");
    ext_teardown(&f);
}
END_TEST

/* sleep 5 under a 0.5 s limit ends by SIGTERM well under 5 s; a command ignoring SIGTERM is
 * killed after the grace second. */
START_TEST(test_accuracy_external_timeout)
{
    ext_fixture f;
    ext_setup(&f);
    acc_result r;
    err e;
    double t0 = wallclock_s();
    ck_assert_int_eq(ext_run(&f, "sleep 5", 0.5, 0.7, &r, &e), ERR_LIMIT);
    double took = wallclock_s() - t0;
    ck_assert_double_lt(took, 2.5);
    ck_assert_double_ge(took, 0.5);
    ck_assert_msg_has(e, "0.5 s");
    ck_assert_msg_has(e, "sleep 5");
    t0 = wallclock_s();
    ck_assert_int_eq(ext_run(&f, "trap '' TERM; sleep 5; echo 0.5", 0.3, 0.7, &r, &e), ERR_LIMIT);
    took = wallclock_s() - t0;
    ck_assert_double_lt(took, 4.0);
    ck_assert_double_ge(took, 1.3);
    ext_teardown(&f);
}
END_TEST

START_TEST(test_accuracy_external_garbage)
{
    ext_fixture f;
    ext_setup(&f);
    acc_result r;
    err e;
    static const char *const bad[] = {"echo hello", "echo 250", "echo -0.1", "echo '0.5 0.6'",
                                      "true",       "echo nan", "echo 101%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(ext_run(&f, bad[i], 10.0, 0.7, &r, &e), ERR_INPUT);
        ck_assert_msg_has(e, "last line of stdout");
    }
    ck_assert_int_eq(ext_run(&f, "echo hello", 10.0, 0.7, &r, &e), ERR_INPUT);
    ck_assert_msg_has(e, "found \"hello\"");
    /* No reference from either side. */
    ck_assert_int_eq(ext_run(&f, "echo 0.5", 10.0, 0.0, &r, &e), ERR_INPUT);
    ck_assert_msg_has(e, "no reference");
    ext_teardown(&f);
}
END_TEST

START_TEST(test_accuracy_external_config)
{
    static const struct {
        acc_external_config c;
        const char *where;
    } bad[] = {
        {{.command = NULL}, "external.command"},
        {{.command = "  "}, "external.command"},
        {{.command = "echo 1", .timeout_s = -1.0}, "external.timeout_s"},
        {{.command = "echo 1", .reference = 2.0}, "external.reference"},
        {{.command = "echo 1", .workdir = "/proc/version/x"}, "external.workdir"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        acc_backend *b = NULL;
        err e;
        int rc = acc_external_create(&bad[i].c, &b, &e);
        ck_assert_int_lt(rc, 0);
        ck_assert_ptr_null(b);
        ck_assert_msg_has(e, bad[i].where);
    }
}
END_TEST

static Suite *accuracy_suite(void)
{
    Suite *s = suite_create("accuracy");
    TCase *tc = tcase_create("proxy");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_accuracy_registry);
    tcase_add_test(tc, test_accuracy_mse_closed_form);
    tcase_add_test(tc, test_accuracy_adc_closed_form);
    tcase_add_test(tc, test_accuracy_clip_tables_optimal);
    tcase_add_test(tc, test_accuracy_nsr_decreasing);
    tcase_add_test(tc, test_accuracy_formula_vs_quantiser);
    tcase_add_test(tc, test_accuracy_proxy_resnet18_uniform);
    tcase_add_test(tc, test_accuracy_proxy_layer_terms);
    tcase_add_test(tc, test_accuracy_proxy_monotone_random);
    tcase_add_test(tc, test_accuracy_proxy_adc_bits);
    tcase_add_test(tc, test_accuracy_proxy_config);
    tcase_add_test(tc, test_accuracy_proxy_bad_policy);
    tcase_add_loop_test(tc, test_accuracy_proxy_networks, 0,
                        (int)(sizeof networks / sizeof networks[0]));
    suite_add_tcase(s, tc);
    TCase *ext = tcase_create("external");
    tcase_set_timeout(ext, 240);
    tcase_add_test(ext, test_accuracy_external_fraction);
    tcase_add_test(ext, test_accuracy_external_percent);
    tcase_add_test(ext, test_accuracy_external_result_json);
    tcase_add_test(ext, test_accuracy_external_reads_policy);
    tcase_add_test(ext, test_accuracy_external_policy_files);
    tcase_add_test(ext, test_accuracy_external_stale_and_cleanup);
    tcase_add_test(ext, test_accuracy_external_failure);
    tcase_add_test(ext, test_accuracy_external_timeout);
    tcase_add_test(ext, test_accuracy_external_garbage);
    tcase_add_test(ext, test_accuracy_external_config);
    suite_add_tcase(s, ext);
    return s;
}

int main(void)
{
    return testutil_run(accuracy_suite());
}
