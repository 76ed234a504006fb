/* quant: the quantised network as an fnet matmul hook -- each crossbar product quantises its
 * lowered input, multiplies integers (exactly or through xbarfunc) and rescales; everything else
 * is the fnet's float code, so the three paths differ only in the integer product.
 */
#include "quant.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mapping.h"
#include "mem.h"
#include "train.h"

void quant_calibrate(fnet *f, const float *x, size_t count, float *clip)
{
    unsigned nx = fnet_network(f)->n_xbar;
    for (unsigned k = 0; k < nx; k++)
        clip[k] = 0.0f;
    size_t in = fnet_in_size(f);
    for (size_t s = 0; s < count; s += TRAIN_EVAL_CHUNK) {
        size_t B = count - s < TRAIN_EVAL_CHUNK ? count - s : TRAIN_EVAL_CHUNK;
        fnet_forward(f, x + s * in, B);
        for (unsigned k = 0; k < nx; k++) {
            size_t v, r, n;
            fnet_xbar_dims(f, k, &r, &n);
            const float *X = fnet_xbar_input(f, k, &v);
            for (size_t i = 0; i < v * r; i++)
                clip[k] = fabsf(X[i]) > clip[k] ? fabsf(X[i]) : clip[k];
        }
    }
}

void quant_int_gemm(const int32_t *x, const int32_t *w, size_t V, size_t R, size_t N, int64_t *y)
{
#pragma omp parallel for schedule(static)
    for (size_t v = 0; v < V; v++) {
        int64_t *yv = y + v * N;
        for (size_t c = 0; c < N; c++)
            yv[c] = 0;
        for (size_t r = 0; r < R; r++) {
            int64_t xv = x[v * R + r];
            if (xv == 0)
                continue;
            const int32_t *wr = w + r * N;
            for (size_t c = 0; c < N; c++)
                yv[c] += xv * wr[c];
        }
    }
}

static void *grow(void *p, size_t *cap, size_t want, size_t size, const char *what)
{
    if (want <= *cap)
        return p;
    free(p);
    *cap = want;
    return mem_alloc(want * size, what);
}

/* The crossbar product of groups [g0, g0 + P) of l on their block-diagonal matrix m: inputs
 * gathered side by side (V x P r), outputs scattered back per group. */
static uint64_t packed_forward(quant_net *q, const quant_layer *l, unsigned m, size_t V)
{
    size_t g0 = (size_t)m * l->pack, P = l->g - g0 < l->pack ? l->g - g0 : l->pack;
    size_t R = P * l->r, N = P * l->n;
    const int32_t *x = q->s->xi + g0 * V * l->r;
    int64_t *y = q->s->yi + g0 * V * l->n;
    if (P > 1) {
        q->s->xp = grow(q->s->xp, &q->s->xp_cap, V * R, sizeof *q->s->xp, "packed inputs");
        q->s->yp = grow(q->s->yp, &q->s->yp_cap, V * N, sizeof *q->s->yp, "packed outputs");
        for (size_t v = 0; v < V; v++)
            for (size_t j = 0; j < P; j++)
                memcpy(q->s->xp + v * R + j * l->r, x + (j * V + v) * l->r, l->r * sizeof *x);
        x = q->s->xp;
    }
    int64_t *yo = P > 1 ? q->s->yp : y;
    uint64_t clipped = q->path == QUANT_CROSSBAR
                           ? xbarfunc_layer_forward(l->xf[m], x, V, l->ab, l->in_signed, yo)
                           : xbarfunc_layer_forward_sliced(l->xf[m], x, V, l->ab, l->in_signed, yo);
    if (P > 1)
        for (size_t j = 0; j < P; j++)
            for (size_t v = 0; v < V; v++)
                memcpy(y + (j * V + v) * l->n, q->s->yp + v * N + j * l->n, l->n * sizeof *y);
    return clipped;
}

/* fnet's product hook: the layer's input quantised as it is, then lowered (fnet_lower_levels),
 * so each input element is quantised once rather than once per kernel position. */
static void product(void *ctx, unsigned k, const float *in, size_t B, size_t v, size_t r, size_t n,
                    size_t groups, float *y)
{
    quant_net *q = ctx;
    quant_layer *l = &q->l[k];
    assert(r == l->r && n == l->n && groups == l->g);
    size_t G = groups, in_count = B * fnet_xbar_in_size(q->f, k);
    assert(q->pass > 0);
    uint64_t before = q->clipped;
    q->s->xq = grow(q->s->xq, &q->s->xq_cap, in_count, sizeof *q->s->xq, "quantised inputs");
    q->s->xi = grow(q->s->xi, &q->s->xi_cap, G * v * r, sizeof *q->s->xi, "lowered inputs");
    q->s->yi = grow(q->s->yi, &q->s->yi_cap, G * v * n, sizeof *q->s->yi, "integer products");
    int32_t lo, hi;
    fnet_act_levels(l->ab, l->in_signed, &lo, &hi);
    fnet_quantize_array(in, in_count, l->in_step, lo, hi, q->s->xq);
    fnet_lower_levels(q->f, k, q->s->xq, B, q->s->xi);
    if (q->path == QUANT_INTEGER)
        for (size_t g = 0; g < G; g++)
            quant_int_gemm(q->s->xi + g * v * r, l->wq + g * r * n, v, r, n, q->s->yi + g * v * n);
    else
        for (unsigned m = 0; m < l->n_xf; m++)
            q->clipped += packed_forward(q, l, m, v);
    double scale = (double)l->w_step * (double)l->in_step;
    for (size_t i = 0; i < G * v * n; i++)
        y[i] = (float)((double)q->s->yi[i] * scale);
    if (q->cache)
        qcache_put(q->cache, k, q->pass - 1, y, G * v * n, q->clipped - before);
}

/* fnet's reuse hook: counts the passes and serves layer k's product from the cache if it has it. */
static bool reuse(void *ctx, unsigned k, size_t v, size_t n, size_t groups, float *y)
{
    quant_net *q = ctx;
    if (k == 0) /* fnet runs the crossbar layers in order: layer 0 begins every pass */
        q->pass++;
    assert(q->pass > 0);
    uint64_t clipped;
    if (!q->cache || !qcache_get(q->cache, k, q->pass - 1, y, groups * v * n, &clipped))
        return false;
    q->clipped += clipped;
    return true;
}

static int build_layer(fnet *f, unsigned k, const policy *p, const arch *a, xbarfunc_adc_mode mode,
                       float clip, quant_path path, quant_layer *l, err *e)
{
    const network *net = fnet_network(f);
    const char *name = net->layers[net->xbar[k]].name;
    const policy_layer *pl = &p->layers[k];
    if (pl->wb < 2 || pl->wb > POLICY_MAX_BITS || pl->ab < 1 || pl->ab > POLICY_MAX_BITS)
        return err_set(e, ERR_INPUT,
                       "quantisation: layer \"%s\": found wb %u, ab %u, expected wb in 2..%d (a "
                       "symmetric weight needs 2 bits for -1, 0, 1) and ab in 1..%d",
                       name, pl->wb, pl->ab, POLICY_MAX_BITS, POLICY_MAX_BITS);
    size_t count, gamma_c;
    float *gamma, *beta, *mean, *var;
    gamma_c = fnet_batch_norm(f, k, &gamma, &beta, &mean, &var);
    assert(gamma_c == 0); /* folded first */
    (void)gamma_c;
    const float *w = fnet_weight(f, k, &count);
    fnet_xbar_dims(f, k, &l->r, &l->n);
    l->g = fnet_xbar_groups(f, k);
    l->wb = pl->wb;
    l->ab = pl->ab;
    l->adc = a ? policy_adc_bits(p, a, k) : 0;
    l->in_signed = !fnet_xbar_input_nonneg(f, k, true);
    int32_t lo, hi;
    fnet_act_levels(l->ab, l->in_signed, &lo, &hi);
    l->in_step = clip > 0.0f && hi > 0 ? clip / (float)hi : 1.0f;
    l->w_step = fnet_weight_step(w, count, l->wb);
    int32_t wmax = (int32_t)((1u << (l->wb - 1)) - 1u);
    l->wq = mem_alloc(count * sizeof *l->wq, "quantised weights");
    size_t rn = l->r * l->n;
    for (size_t g = 0; g < l->g; g++) /* PyTorch's (n x r) to the crossbar's (r x n) */
        for (size_t c = 0; c < l->n; c++)
            for (size_t r = 0; r < l->r; r++)
                l->wq[g * rn + r * l->n + c] =
                    fnet_quantize(w[g * rn + c * l->r + r], l->w_step, -wmax, wmax);
    if (path != QUANT_CROSSBAR && path != QUANT_SLICED)
        return 0;
    l->pack = l->g > 1 ? mapping_pack(a, &net->layers[net->xbar[k]], l->wb) : 1;
    l->n_xf = (unsigned)((l->g + l->pack - 1) / l->pack);
    l->xf = mem_calloc(l->n_xf, sizeof *l->xf, "crossbar matrices");
    xbarfunc_params xp;
    xbarfunc_params_from_arch(a, l->adc, mode, &xp);
    int rc = 0;
    for (unsigned m = 0; rc == 0 && m < l->n_xf; m++) {
        size_t g0 = (size_t)m * l->pack, P = l->g - g0 < l->pack ? l->g - g0 : l->pack;
        size_t R = P * l->r, N = P * l->n;
        int32_t *bd = l->wq + g0 * rn;
        if (P > 1) { /* block-diagonal: group g0 + j at rows j r.., columns j n.. */
            bd = mem_calloc(R * N, sizeof *bd, "packed weights");
            for (size_t j = 0; j < P; j++)
                for (size_t r = 0; r < l->r; r++)
                    memcpy(bd + (j * l->r + r) * N + j * l->n, l->wq + (g0 + j) * rn + r * l->n,
                           l->n * sizeof *bd);
        }
        xp.dev_stream = ((uint64_t)k << 20) + m; /* each matrix its own cells' stream */
        rc = xbarfunc_layer_create(&xp, bd, R, N, l->wb, &l->xf[m], e);
        if (P > 1)
            free(bd);
    }
    if (rc < 0)
        err_prefix(e, "quantisation: layer \"%s\"", name);
    return rc;
}

int quant_build(fnet *f, const policy *p, const arch *a, xbarfunc_adc_mode mode, const float *clip,
                quant_path path, quant_net *q, err *e)
{
    const network *net = fnet_network(f);
    assert(p->n == net->n_xbar);
    assert(a || path == QUANT_FLOAT || path == QUANT_INTEGER);
    memset(q, 0, sizeof *q);
    q->f = f;
    q->s = &q->own;
    q->path = path;
    q->n = net->n_xbar;
    q->l = mem_calloc(q->n ? q->n : 1, sizeof *q->l, "quantised layers");
    for (unsigned k = 0; k < q->n; k++) {
        int rc = build_layer(f, k, p, a, mode, clip[k], path, &q->l[k], e);
        if (rc < 0) {
            quant_fini(q);
            return rc;
        }
    }
    return 0;
}

void quant_fini(quant_net *q)
{
    if (!q || !q->l)
        return;
    for (unsigned k = 0; k < q->n; k++) {
        free(q->l[k].wq);
        for (unsigned m = 0; q->l[k].xf && m < q->l[k].n_xf; m++)
            xbarfunc_layer_destroy(q->l[k].xf[m]);
        free(q->l[k].xf);
    }
    free(q->l);
    quant_scratch_fini(&q->own);
    memset(q, 0, sizeof *q);
}

void quant_scratch_fini(quant_scratch *s)
{
    if (!s)
        return;
    free(s->xq);
    free(s->xi);
    free(s->yi);
    free(s->xp);
    free(s->yp);
    memset(s, 0, sizeof *s);
}

void quant_use_scratch(quant_net *q, quant_scratch *s)
{
    q->s = s ? s : &q->own;
}

void quant_use_cache(quant_net *q, qcache *c, uint64_t chip)
{
    assert(!c || q->path == QUANT_CROSSBAR || q->path == QUANT_SLICED);
    q->cache = c;
    if (!c)
        return;
    uint64_t *key = mem_alloc((q->n ? q->n : 1) * sizeof *key, "layer keys");
    for (unsigned k = 0; k < q->n; k++) {
        const quant_layer *l = &q->l[k];
        uint32_t step;
        memcpy(&step, &l->in_step, sizeof step);
        key[k] = (uint64_t)l->wb | (uint64_t)l->ab << 8 | (uint64_t)l->adc << 16 |
                 (uint64_t)l->in_signed << 24 | (uint64_t)step << 32;
    }
    qcache_begin(c, key, chip);
    free(key);
}

static void attach(quant_net *q)
{
    q->pass = 0;
    bool fl = q->path == QUANT_FLOAT;
    fnet_set_matmul(q->f, fl ? NULL : product, fl ? NULL : reuse, q);
}

void quant_forward(quant_net *q, const float *x, size_t B, float *out)
{
    attach(q);
    fnet_forward(q->f, x, B);
    fnet_set_matmul(q->f, NULL, NULL, NULL);
    memcpy(out, fnet_output(q->f), B * fnet_out_size(q->f) * sizeof *out);
}

double quant_accuracy(quant_net *q, const float *x, const uint8_t *y, size_t n)
{
    attach(q);
    double acc = train_accuracy(q->f, x, y, n);
    fnet_set_matmul(q->f, NULL, NULL, NULL);
    return acc;
}

void quant_fake(const quant_net *q, fnet_fq *fq)
{
    for (unsigned k = 0; k < q->n; k++)
        fq[k] = (fnet_fq){.wb = q->l[k].wb,
                          .ab = q->l[k].ab,
                          .in_signed = q->l[k].in_signed,
                          .in_step = q->l[k].in_step};
}
