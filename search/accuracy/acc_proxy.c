/* acc_proxy: the `proxy` accuracy backend (accuracy.h) -- the quantisation-noise model whose
 * formulas accuracy.h derives, and the backend that maps its noise to an accuracy estimate.
 * Invariant: a pure function of (network, policy, arch, config); every result says estimate.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accuracy_internal.h"
#include "mem.h"
#include "wallclock.h"

/* ---------------------------------------------------------------------------------------------
 * Proxy: the formulas
 */

/* MSE-optimal clips (units of the Gaussian's standard deviation) of mse_gauss and mse_relu
 * (accuracy.h), indexed by bits; golden-section minimisation to 1e-6, rounded to 4 decimals. */
static const double clip_gauss[POLICY_MAX_BITS + 1] = {
    0.0,    0.8287, 1.4983, 2.0513, 2.5140, 2.9161, 3.2780, 3.6111, 3.9222,
    4.2155, 4.4938, 4.7591, 5.0131, 5.2571, 5.4920, 5.7188, 5.9382,
};
static const double clip_relu[POLICY_MAX_BITS + 1] = {
    0.0,    1.2354, 1.9528, 2.4738, 2.8987, 3.2701, 3.6075, 3.9205, 4.2147,
    4.4934, 4.7589, 5.0130, 5.2570, 5.4920, 5.7188, 5.9382, 6.1509,
};

#define SQRT_2PI 2.50662827463100050242 /* sqrt(2 pi) (M_PI is not C11) */
#define SQRT_2   1.41421356237309504880

static double normal_pdf(double x)
{
    return exp(-0.5 * x * x) / SQRT_2PI;
}

static double normal_tail(double x) /* Q(x) = P(Z > x) */
{
    return 0.5 * erfc(x / SQRT_2);
}

/* E[(Z - z)^2; Z > z] for Z ~ N(0, 1): the one-sided clipping error at z. */
static double clip_error(double z)
{
    return (1.0 + z * z) * normal_tail(z) - z * normal_pdf(z);
}

double acc_proxy_mse(acc_dist d, unsigned bits, double alpha)
{
    assert(bits >= 1 && bits <= POLICY_MAX_BITS && alpha > 0.0);
    double levels = ldexp(1.0, (int)bits); /* 2^b */
    if (d == ACC_DIST_GAUSS) {
        double step = 2.0 * alpha / (levels - 1.0);
        return (1.0 - 2.0 * normal_tail(alpha)) * step * step / 12.0 + 2.0 * clip_error(alpha);
    }
    assert(d == ACC_DIST_RELU);
    double step = alpha / (levels - 1.0);
    return (0.5 - normal_tail(alpha)) * step * step / 12.0 + clip_error(alpha);
}

double acc_proxy_clip(acc_dist d, unsigned bits)
{
    assert(bits >= 1 && bits <= POLICY_MAX_BITS);
    assert(d == ACC_DIST_GAUSS || d == ACC_DIST_RELU);
    return d == ACC_DIST_GAUSS ? clip_gauss[bits] : clip_relu[bits];
}

double acc_proxy_nsr(acc_dist d, unsigned bits)
{
    double signal = d == ACC_DIST_GAUSS ? 1.0 : 0.5; /* E x^2 per unit variance */
    return acc_proxy_mse(d, bits, acc_proxy_clip(d, bits)) / signal;
}

double acc_proxy_adc_nsr(unsigned rows, unsigned cell_bits, unsigned dac_bits, bool nonneg_input,
                         unsigned adc_bits)
{
    assert(rows >= 1 && cell_bits >= 1 && cell_bits <= 8 && dac_bits >= 1 && dac_bits <= 8);
    assert(adc_bits >= 1 && adc_bits <= 63);
    double lc = ldexp(1.0, (int)cell_bits) - 1.0, ld = ldexp(1.0, (int)dac_bits) - 1.0;
    double full = (double)rows * lc * ld, top = ldexp(1.0, (int)adc_bits) - 1.0;
    if (top >= full)
        return 0.0;                       /* the ADC reads every possible sum */
    double nz = nonneg_input ? 0.5 : 1.0; /* probability the digit is drawn at all */
    double ec = lc / 2.0, ec2 = lc * (2.0 * lc + 1.0) / 6.0;
    double ed = nz * ld / 2.0, ed2 = nz * ld * (2.0 * ld + 1.0) / 6.0;
    double mu = (double)rows * ec * ed;
    double var = (double)rows * (ec2 * ed2 - ec * ec * ed * ed);
    return clip_error((top - mu) / sqrt(var));
}

/* Whether each layer's output is non-negative (relu-like), in one forward pass. */
static bool *nonneg_outputs(const network *n)
{
    bool *nn = mem_calloc(n->n_layers, sizeof *nn, "proxy: non-negative layers");
    for (unsigned i = 0; i < n->n_layers; i++) {
        const network_layer *l = &n->layers[i];
        bool all = true;
        for (unsigned k = 0; k < l->n_inputs; k++)
            all = all && l->inputs[k] != NETWORK_INPUT && nn[l->inputs[k]];
        nn[i] = network_layer_kind_output_nonneg(l->kind, all);
    }
    return nn;
}

double acc_proxy_noise(const network *n, const policy *p, const arch *a, acc_layer_noise *layers)
{
    assert(p->n == n->n_xbar);
    bool *nn = nonneg_outputs(n);
    double total = 0.0;
    for (unsigned i = 0; i < p->n; i++) {
        const network_layer *l = &n->layers[n->xbar[i]];
        const policy_layer *pl = &p->layers[i];
        int src = l->inputs[0];
        acc_layer_noise t = {.nonneg_input = src != NETWORK_INPUT && nn[src]};
        t.weight = acc_proxy_nsr(ACC_DIST_GAUSS, pl->wb);
        t.act = acc_proxy_nsr(t.nonneg_input ? ACC_DIST_RELU : ACC_DIST_GAUSS, pl->ab);
        uint64_t rows = l->xbar.rows < a->tiles.rows_active ? l->xbar.rows : a->tiles.rows_active;
        t.adc = acc_proxy_adc_nsr((unsigned)rows, a->tiles.cell_bits, a->tiles.dac.bits,
                                  t.nonneg_input, policy_adc_bits(p, a, i));
        t.total = t.weight + t.act + t.adc;
        total += t.total;
        if (layers)
            layers[i] = t;
    }
    free(nn);
    return total;
}

/* ---------------------------------------------------------------------------------------------
 * Proxy: the backend
 */

typedef struct proxy {
    acc_backend base; /* first */
    acc_proxy_config c;
} proxy;

static const struct {
    const char *name;
    double top1; /* fraction */
} references[] = {
#define ACC_REF_ROW(name, top1) {name, top1},
    ACC_PROXY_REFERENCE_MAP(ACC_REF_ROW)
#undef ACC_REF_ROW
};

/* The reference for n, and whether it is the generic (relative) one. */
static double proxy_reference(const proxy *x, const network *n, bool *generic)
{
    *generic = false;
    if (x->c.reference > 0.0)
        return x->c.reference;
    for (size_t i = 0; i < sizeof references / sizeof references[0]; i++)
        if (strcmp(n->name, references[i].name) == 0)
            return references[i].top1;
    *generic = true;
    return ACC_PROXY_GENERIC_REFERENCE;
}

static double proxy_map(const proxy *x, double ref, double S)
{
    double drop = x->c.drop_max > 0.0 ? x->c.drop_max : ref;
    double s0 = x->c.s0 > 0.0 ? x->c.s0 : ACC_PROXY_S0;
    double acc = ref - drop * -expm1(-S / s0);
    return acc < 0.0 ? 0.0 : acc > 1.0 ? 1.0 : acc;
}

static const acc_ops proxy_ops;

double acc_proxy_accuracy(const acc_backend *b, const network *n, double S, double *reference)
{
    assert(b->ops == &proxy_ops && S >= 0.0);
    const proxy *x = (const proxy *)b;
    bool generic;
    double ref = proxy_reference(x, n, &generic);
    if (reference)
        *reference = ref;
    return proxy_map(x, ref, S);
}

static int proxy_evaluate(acc_backend *b, const network *n, const policy *p, const arch *a,
                          acc_result *out, err *e)
{
    const proxy *x = (const proxy *)b;
    double t0 = wallclock_s();
    ERR_TRY(acc__check_policy(n, p, a, e));
    double S = acc_proxy_noise(n, p, a, NULL);
    bool generic;
    double ref = proxy_reference(x, n, &generic);
    *out = (acc_result){.accuracy = proxy_map(x, ref, S), .reference = ref, .estimate = true};
    snprintf(out->note, sizeof out->note,
             "estimate: quantisation-noise proxy, noise-to-signal S = %.4g over %u layers%s", S,
             p->n, generic ? ", accuracy relative to full precision" : "");
    out->seconds = wallclock_s() - t0;
    return 0;
}

static void proxy_destroy(acc_backend *b)
{
    free(b);
}

static const acc_ops proxy_ops = {
    .kind = ACC_BACKEND_PROXY,
    .evaluate = proxy_evaluate,
    .destroy = proxy_destroy,
};

int acc_proxy_create(const acc_proxy_config *c, acc_backend **out, err *e)
{
    if (!(c->reference == 0.0 || (c->reference > 0.0 && c->reference <= 1.0)))
        return err_set(e, ERR_INPUT,
                       "proxy.reference: found %g, expected a fraction in (0, 1] "
                       "(0: by network name)",
                       c->reference);
    if (!(c->drop_max >= 0.0 && c->drop_max <= 1.0) ||
        (c->reference > 0.0 && c->drop_max > c->reference))
        return err_set(e, ERR_INPUT,
                       "proxy.drop_max: found %g, expected a fraction in [0, %g] "
                       "(at most the reference; 0: the reference)",
                       c->drop_max, c->reference > 0.0 ? c->reference : 1.0);
    if (!(c->s0 >= 0.0 && isfinite(c->s0)))
        return err_set(e, ERR_INPUT, "proxy.s0: found %g, expected a positive noise scale (0: %g)",
                       c->s0, ACC_PROXY_S0);
    if (c->weights)
        return err_set(e, ERR_INPUT,
                       "proxy.weights: found \"%s\", expected none (measured weight "
                       "statistics are not supported yet: the proxy assumes Gaussian weights)",
                       c->weights);
    proxy *x = mem_calloc(1, sizeof *x, "accuracy proxy");
    x->base.ops = &proxy_ops;
    x->c = *c;
    *out = &x->base;
    return 0;
}
