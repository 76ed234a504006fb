/* fnet: float forward/backward of a chain of conv2d / linear / relu / pool / flatten layers.
 * Crossbar layers go through their lowered form: the input is lowered to X (V x R: im2col rows,
 * (c, ki, kj) order, or the input vector itself), Y = X W^T (V x N) by cblas_sgemm or the hook,
 * then scattered to C x H x W with the bias. Backward: dW += dY^T X, dX = dY W, col2im.
 * Invariant: the buffers hold the last forward of last_b samples; backward reads them unchanged.
 */
#include "fnet.h"

#include <assert.h>
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "rng.h"

typedef struct layer {
    net_layer_kind kind;
    size_t in_size, out_size; /* elements per sample, count */
    net_shape in, out;
    int xbar;        /* crossbar index, -1 for a digital layer */
    size_t r, n, p;  /* lowered rows, columns, vectors per sample, counts */
    unsigned kh, kw; /* window, pixels */
    unsigned sh, sw; /* stride, pixels */
    unsigned ph, pw; /* padding, pixels */
    net_pool_mode mode;
    size_t w_off, b_off; /* offsets of W and b in the parameter array, floats */
} layer;

struct fnet {
    const network *net;
    unsigned nl;
    layer *L;
    unsigned nx;
    unsigned *xl; /* layer index of each crossbar layer */
    size_t in_size, out_size;
    size_t np;
    float *p, *g;
    size_t cap;     /* samples the buffers hold, count */
    size_t last_b;  /* samples of the last forward, count */
    const float *x; /* input of the last forward (borrowed) */
    float **act;    /* per layer, cap x out_size */
    float **dact;   /* per layer, gradient of act */
    float **cols;   /* per layer (crossbar only), cap*p x r */
    float **colsq;  /* fake-quantised cols (allocated with fq) */
    int32_t **argm; /* per max pool layer, cap x out_size input indices */
    float *wq;      /* fake-quantised weights, np floats */
    float *ybuf;    /* cap * max(p n) */
    float *dcols;   /* cap * max(p r) */
    fnet_matmul_fn mm;
    void *mm_ctx;
    fnet_fq *fq; /* nx entries, or NULL */
};

/* ---- construction ---------------------------------------------------------------------------- */

static int reject(const network *n, unsigned i, const char *found, err *e)
{
    return err_set(e, ERR_INPUT,
                   "%s: network.layers.[%u] (layer \"%s\"): found %s, expected conv2d (groups 1), "
                   "linear (1 token), relu, pool or flatten, each taking the layer before as its "
                   "input (the functional model)",
                   n->origin ? n->origin : n->name, i, n->layers[i].name, found);
}

static int check_layer(const network *n, unsigned i, err *e)
{
    const net_layer *l = &n->layers[i];
    char what[96];
    if (l->n_inputs != 1 || l->inputs[0] != (i == 0 ? NET_INPUT : (int)i - 1))
        return reject(n, i, "an input that is not the layer before", e);
    switch (l->kind) {
    case NET_KIND_CONV2D:
        if (l->conv.groups != 1) {
            snprintf(what, sizeof what, "conv2d with %u groups", l->conv.groups);
            return reject(n, i, what, e);
        }
        return 0;
    case NET_KIND_LINEAR:
        if (l->linear.tokens != 1) {
            snprintf(what, sizeof what, "linear over %u tokens", l->linear.tokens);
            return reject(n, i, what, e);
        }
        return 0;
    case NET_KIND_RELU:
    case NET_KIND_POOL:
    case NET_KIND_FLATTEN:
        return 0;
    default:
        snprintf(what, sizeof what, "a %s layer", net_layer_kind_name(l->kind));
        return reject(n, i, what, e);
    }
}

static void fill_layer(const net_layer *nl, layer *L)
{
    *L = (layer){.kind = nl->kind,
                 .in = nl->in,
                 .out = nl->out,
                 .in_size = (size_t)net_shape_elements(nl->in),
                 .out_size = (size_t)net_shape_elements(nl->out),
                 .xbar = nl->xbar_index};
    if (nl->kind == NET_KIND_CONV2D) {
        L->kh = nl->conv.kernel_h, L->kw = nl->conv.kernel_w;
        L->sh = nl->conv.stride_h, L->sw = nl->conv.stride_w;
        L->ph = nl->conv.pad_h, L->pw = nl->conv.pad_w;
    } else if (nl->kind == NET_KIND_POOL) {
        L->mode = nl->pool.mode;
        L->kh = nl->pool.kernel_h, L->kw = nl->pool.kernel_w;
        L->sh = nl->pool.stride_h, L->sw = nl->pool.stride_w;
        L->ph = nl->pool.pad_h, L->pw = nl->pool.pad_w;
    }
    if (L->xbar >= 0) {
        L->r = (size_t)nl->xbar.rows;
        L->n = (size_t)nl->xbar.cols;
        L->p = (size_t)nl->xbar.vectors;
    }
}

static void init_params(fnet *f, uint64_t seed)
{
    gsl_rng *rng = rng_stream_create(NULL, seed, 0);
    for (unsigned k = 0; k < f->nx; k++) {
        const layer *L = &f->L[f->xl[k]];
        float bound = (float)sqrt(6.0 / (double)L->r);
        for (size_t i = 0; i < L->r * L->n; i++)
            f->p[L->w_off + i] = bound * (float)(2.0 * gsl_rng_uniform(rng) - 1.0);
    }
    gsl_rng_free(rng);
}

int fnet_create(const network *n, uint64_t seed, fnet **out, err *e)
{
    for (unsigned i = 0; i < n->n_layers; i++)
        ERR_TRY(check_layer(n, i, e));
    fnet *f = mem_calloc(1, sizeof *f, "fnet");
    f->net = n;
    f->nl = n->n_layers;
    f->L = mem_calloc(f->nl, sizeof *f->L, "fnet layers");
    f->nx = n->n_xbar;
    f->xl = mem_calloc(f->nx ? f->nx : 1, sizeof *f->xl, "fnet crossbar layers");
    for (unsigned i = 0; i < f->nl; i++) {
        layer *L = &f->L[i];
        fill_layer(&n->layers[i], L);
        if (L->xbar >= 0) {
            f->xl[L->xbar] = i;
            L->w_off = f->np;
            L->b_off = f->np + L->r * L->n;
            f->np += L->r * L->n + L->n;
        }
    }
    f->in_size = (size_t)net_shape_elements(n->input);
    f->out_size = f->L[f->nl - 1].out_size;
    f->p = mem_calloc(f->np ? f->np : 1, sizeof *f->p, "fnet parameters");
    f->g = mem_calloc(f->np ? f->np : 1, sizeof *f->g, "fnet gradients");
    f->act = mem_calloc(f->nl, sizeof *f->act, "fnet buffers");
    f->dact = mem_calloc(f->nl, sizeof *f->dact, "fnet buffers");
    f->cols = mem_calloc(f->nl, sizeof *f->cols, "fnet buffers");
    f->colsq = mem_calloc(f->nl, sizeof *f->colsq, "fnet buffers");
    f->argm = mem_calloc(f->nl, sizeof *f->argm, "fnet buffers");
    init_params(f, seed);
    *out = f;
    return 0;
}

static void free_buffers(fnet *f)
{
    for (unsigned i = 0; i < f->nl; i++) {
        free(f->act[i]);
        free(f->dact[i]);
        free(f->cols[i]);
        free(f->colsq[i]);
        free(f->argm[i]);
        f->act[i] = f->dact[i] = f->cols[i] = f->colsq[i] = NULL;
        f->argm[i] = NULL;
    }
    free(f->ybuf);
    free(f->dcols);
    f->ybuf = f->dcols = NULL;
    f->cap = 0;
}

fnet *fnet_clone(const fnet *f)
{
    fnet *c;
    err e;
    int rc = fnet_create(f->net, 0, &c, &e);
    assert(rc == 0);
    (void)rc;
    memcpy(c->p, f->p, f->np * sizeof *f->p);
    return c;
}

void fnet_destroy(fnet *f)
{
    if (!f)
        return;
    free_buffers(f);
    free(f->act);
    free(f->dact);
    free(f->cols);
    free(f->colsq);
    free(f->argm);
    free(f->L);
    free(f->xl);
    free(f->p);
    free(f->g);
    free(f->wq);
    free(f->fq);
    free(f);
}

static void reserve(fnet *f, size_t B)
{
    if (B <= f->cap)
        return;
    free_buffers(f);
    size_t ymax = 1, cmax = 1;
    for (unsigned i = 0; i < f->nl; i++) {
        layer *L = &f->L[i];
        f->act[i] = mem_alloc(B * L->out_size * sizeof(float), "fnet activations");
        f->dact[i] = mem_alloc(B * L->out_size * sizeof(float), "fnet gradients");
        if (L->xbar >= 0) {
            f->cols[i] = mem_alloc(B * L->p * L->r * sizeof(float), "fnet lowered inputs");
            if (f->fq)
                f->colsq[i] = mem_alloc(B * L->p * L->r * sizeof(float), "fnet quantised inputs");
            ymax = L->p * L->n > ymax ? L->p * L->n : ymax;
            cmax = L->p * L->r > cmax ? L->p * L->r : cmax;
        }
        if (L->kind == NET_KIND_POOL && L->mode == NET_POOL_MAX)
            f->argm[i] = mem_alloc(B * L->out_size * sizeof(int32_t), "fnet pool indices");
    }
    f->ybuf = mem_alloc(B * ymax * sizeof(float), "fnet products");
    f->dcols = mem_alloc(B * cmax * sizeof(float), "fnet input gradients");
    f->cap = B;
}

/* ---- accessors ------------------------------------------------------------------------------- */

const network *fnet_network(const fnet *f)
{
    return f->net;
}
size_t fnet_in_size(const fnet *f)
{
    return f->in_size;
}
size_t fnet_out_size(const fnet *f)
{
    return f->out_size;
}
size_t fnet_param_count(const fnet *f)
{
    return f->np;
}
float *fnet_params(fnet *f)
{
    return f->p;
}
const float *fnet_params_const(const fnet *f)
{
    return f->p;
}
float *fnet_grads(fnet *f)
{
    return f->g;
}
const float *fnet_output(const fnet *f)
{
    return f->act[f->nl - 1];
}

float *fnet_weight(fnet *f, unsigned k, size_t *count)
{
    assert(k < f->nx);
    const layer *L = &f->L[f->xl[k]];
    *count = L->r * L->n;
    return f->p + L->w_off;
}

float *fnet_bias(fnet *f, unsigned k, size_t *count)
{
    assert(k < f->nx);
    const layer *L = &f->L[f->xl[k]];
    *count = L->n;
    return f->p + L->b_off;
}

void fnet_xbar_dims(const fnet *f, unsigned k, size_t *r, size_t *n)
{
    assert(k < f->nx);
    *r = f->L[f->xl[k]].r;
    *n = f->L[f->xl[k]].n;
}

bool fnet_xbar_input_nonneg(const fnet *f, unsigned k, bool input_nonneg)
{
    assert(k < f->nx);
    for (int i = (int)f->xl[k] - 1; i >= 0; i--) {
        net_layer_kind kind = f->L[i].kind;
        if (kind == NET_KIND_RELU)
            return true;
        if (kind != NET_KIND_POOL && kind != NET_KIND_FLATTEN)
            return false;
    }
    return input_nonneg;
}

const float *fnet_xbar_input(const fnet *f, unsigned k, size_t *v)
{
    assert(k < f->nx);
    const layer *L = &f->L[f->xl[k]];
    *v = f->last_b * L->p;
    return f->cols[f->xl[k]];
}

void fnet_set_matmul(fnet *f, fnet_matmul_fn m, void *ctx)
{
    f->mm = m;
    f->mm_ctx = ctx;
}

void fnet_set_fake_quant(fnet *f, const fnet_fq *fq)
{
    free(f->fq);
    f->fq = NULL;
    if (fq) {
        f->fq = mem_alloc(f->nx * sizeof *fq, "fnet fake quantisation");
        memcpy(f->fq, fq, f->nx * sizeof *fq);
        if (!f->wq)
            f->wq = mem_alloc((f->np ? f->np : 1) * sizeof *f->wq, "fnet quantised weights");
    }
    size_t cap = f->cap;
    free_buffers(f); /* colsq appear or go with fq */
    reserve(f, cap);
}

/* ---- quantisers ------------------------------------------------------------------------------ */

float fnet_weight_step(const float *w, size_t count, unsigned wb)
{
    assert(wb >= 2 && wb <= 31);
    float m = 0.0f;
    for (size_t i = 0; i < count; i++)
        m = fabsf(w[i]) > m ? fabsf(w[i]) : m;
    return m > 0.0f ? m / (float)((1u << (wb - 1)) - 1u) : 1.0f;
}

int32_t fnet_quantize(float x, float step, int32_t lo, int32_t hi)
{
    float q = rintf(x / step); /* round half to even, as PyTorch's torch.round */
    if (!(q >= (float)lo))
        return lo; /* also NaN */
    if (q > (float)hi)
        return hi;
    return (int32_t)q;
}

void fnet_act_levels(unsigned ab, bool is_signed, int32_t *lo, int32_t *hi)
{
    assert(ab >= 1 && ab <= 30);
    if (is_signed) {
        *hi = (int32_t)((1u << (ab - 1)) - 1u);
        *lo = -*hi;
    } else {
        *lo = 0;
        *hi = (int32_t)((1u << ab) - 1u);
    }
}

/* ---- forward --------------------------------------------------------------------------------- */

static int blas_int(size_t v)
{
    assert(v <= INT_MAX);
    return (int)v;
}

/* Lower B samples of in (C x H x W each) to X (B p x r). */
static void lower(const layer *L, const float *in, size_t B, float *X)
{
    if (L->kind == NET_KIND_LINEAR) {
        memcpy(X, in, B * L->r * sizeof *X);
        return;
    }
    const unsigned C = L->in.channels, H = L->in.height, W = L->in.width;
    const unsigned OH = L->out.height, OW = L->out.width;
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++) {
        const float *s = in + b * L->in_size;
        for (unsigned oy = 0; oy < OH; oy++)
            for (unsigned ox = 0; ox < OW; ox++) {
                float *row = X + ((b * OH + oy) * OW + ox) * L->r;
                size_t k = 0;
                for (unsigned c = 0; c < C; c++)
                    for (unsigned ki = 0; ki < L->kh; ki++) {
                        long iy = (long)oy * L->sh - (long)L->ph + ki;
                        for (unsigned kj = 0; kj < L->kw; kj++, k++) {
                            long ix = (long)ox * L->sw - (long)L->pw + kj;
                            row[k] = iy >= 0 && iy < H && ix >= 0 && ix < W
                                         ? s[((size_t)c * H + (size_t)iy) * W + (size_t)ix]
                                         : 0.0f;
                        }
                    }
            }
    }
}

/* The inverse of lower for gradients: dIn (zeroed here) += the contributions of dX. */
static void raise_grad(const layer *L, const float *dX, size_t B, float *dIn)
{
    if (L->kind == NET_KIND_LINEAR) {
        memcpy(dIn, dX, B * L->r * sizeof *dX);
        return;
    }
    const unsigned C = L->in.channels, H = L->in.height, W = L->in.width;
    const unsigned OH = L->out.height, OW = L->out.width;
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++) {
        float *d = dIn + b * L->in_size;
        memset(d, 0, L->in_size * sizeof *d);
        for (unsigned oy = 0; oy < OH; oy++)
            for (unsigned ox = 0; ox < OW; ox++) {
                const float *row = dX + ((b * OH + oy) * OW + ox) * L->r;
                size_t k = 0;
                for (unsigned c = 0; c < C; c++)
                    for (unsigned ki = 0; ki < L->kh; ki++) {
                        long iy = (long)oy * L->sh - (long)L->ph + ki;
                        for (unsigned kj = 0; kj < L->kw; kj++, k++) {
                            long ix = (long)ox * L->sw - (long)L->pw + kj;
                            if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                d[((size_t)c * H + (size_t)iy) * W + (size_t)ix] += row[k];
                        }
                    }
            }
    }
}

static void fake_quant_inputs(const fnet_fq *q, const float *X, size_t count, float *Xq)
{
    int32_t lo, hi;
    fnet_act_levels(q->ab, q->in_signed, &lo, &hi);
    for (size_t i = 0; i < count; i++)
        Xq[i] = (float)fnet_quantize(X[i], q->in_step, lo, hi) * q->in_step;
}

static void fake_quant_weights(const fnet_fq *q, const float *w, size_t count, float *wq)
{
    float step = fnet_weight_step(w, count, q->wb);
    int32_t hi = (int32_t)((1u << (q->wb - 1)) - 1u);
    for (size_t i = 0; i < count; i++)
        wq[i] = (float)fnet_quantize(w[i], step, -hi, hi) * step;
}

static bool quantised(const fnet *f, const layer *L)
{
    return f->fq && f->fq[L->xbar].wb > 0;
}

static void forward_xbar(fnet *f, unsigned i, const float *in, size_t B)
{
    layer *L = &f->L[i];
    size_t V = B * L->p;
    lower(L, in, B, f->cols[i]);
    const float *X = f->cols[i], *W = f->p + L->w_off;
    if (quantised(f, L)) {
        const fnet_fq *q = &f->fq[L->xbar];
        fake_quant_inputs(q, X, V * L->r, f->colsq[i]);
        fake_quant_weights(q, W, L->r * L->n, f->wq + L->w_off);
        X = f->colsq[i];
        W = f->wq + L->w_off;
    }
    if (f->mm)
        f->mm(f->mm_ctx, (unsigned)L->xbar, X, V, L->r, L->n, f->ybuf);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_int(V), blas_int(L->n),
                    blas_int(L->r), 1.0f, X, blas_int(L->r), W, blas_int(L->r), 0.0f, f->ybuf,
                    blas_int(L->n));
    const float *bias = f->p + L->b_off;
    float *out = f->act[i];
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < L->n; c++)
            for (size_t q = 0; q < L->p; q++)
                out[b * L->out_size + c * L->p + q] = f->ybuf[(b * L->p + q) * L->n + c] + bias[c];
}

/* Window bounds of output (oy, ox) clipped to the input. */
static void window(const layer *L, unsigned oy, unsigned ox, long *y0, long *y1, long *x0, long *x1)
{
    *y0 = (long)oy * L->sh - (long)L->ph;
    *x0 = (long)ox * L->sw - (long)L->pw;
    *y1 = *y0 + L->kh;
    *x1 = *x0 + L->kw;
    *y0 = *y0 < 0 ? 0 : *y0;
    *x0 = *x0 < 0 ? 0 : *x0;
    *y1 = *y1 > (long)L->in.height ? (long)L->in.height : *y1;
    *x1 = *x1 > (long)L->in.width ? (long)L->in.width : *x1;
}

static void forward_pool(fnet *f, unsigned i, const float *in, size_t B)
{
    const layer *L = &f->L[i];
    const unsigned C = L->in.channels, H = L->in.height, W = L->in.width;
    const unsigned OH = L->out.height, OW = L->out.width;
    float *out = f->act[i];
    int32_t *am = f->argm[i];
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++)
        for (unsigned c = 0; c < C; c++) {
            const float *s = in + b * L->in_size + (size_t)c * H * W;
            for (unsigned oy = 0; oy < OH; oy++)
                for (unsigned ox = 0; ox < OW; ox++) {
                    size_t o = b * L->out_size + ((size_t)c * OH + oy) * OW + ox;
                    if (L->mode == NET_POOL_GLOBAL_AVG) {
                        double sum = 0.0;
                        for (size_t k = 0; k < (size_t)H * W; k++)
                            sum += s[k];
                        out[o] = (float)(sum / ((double)H * W));
                        continue;
                    }
                    long y0, y1, x0, x1;
                    window(L, oy, ox, &y0, &y1, &x0, &x1);
                    float best = -INFINITY, sum = 0.0f;
                    int32_t arg = -1;
                    for (long y = y0; y < y1; y++)
                        for (long xx = x0; xx < x1; xx++) {
                            float v = s[(size_t)y * W + (size_t)xx];
                            sum += v;
                            if (v > best) {
                                best = v;
                                arg = (int32_t)((size_t)c * H * W + (size_t)y * W + (size_t)xx);
                            }
                        }
                    if (L->mode == NET_POOL_MAX) {
                        out[o] = best;
                        am[o] = arg;
                    } else {
                        out[o] = sum / (float)(L->kh * L->kw); /* count_include_pad */
                    }
                }
        }
}

void fnet_forward(fnet *f, const float *x, size_t B)
{
    reserve(f, B);
    f->last_b = B;
    f->x = x;
    for (unsigned i = 0; i < f->nl; i++) {
        const layer *L = &f->L[i];
        const float *in = i == 0 ? x : f->act[i - 1];
        float *out = f->act[i];
        switch (L->kind) {
        case NET_KIND_CONV2D:
        case NET_KIND_LINEAR:
            forward_xbar(f, i, in, B);
            break;
        case NET_KIND_RELU:
            for (size_t k = 0; k < B * L->out_size; k++)
                out[k] = in[k] > 0.0f ? in[k] : 0.0f;
            break;
        case NET_KIND_POOL:
            forward_pool(f, i, in, B);
            break;
        default: /* flatten */
            memcpy(out, in, B * L->out_size * sizeof *out);
        }
    }
}

/* ---- loss and backward ----------------------------------------------------------------------- */

double fnet_loss(fnet *f, const uint8_t *y, size_t B)
{
    const float *z = fnet_output(f);
    float *d = f->dact[f->nl - 1];
    size_t K = f->out_size;
    double total = 0.0;
    for (size_t b = 0; b < B; b++) {
        assert(y[b] < K);
        const float *zb = z + b * K;
        double m = zb[0], sum = 0.0;
        for (size_t k = 1; k < K; k++)
            m = zb[k] > m ? zb[k] : m;
        for (size_t k = 0; k < K; k++)
            sum += exp(zb[k] - m);
        double lse = m + log(sum);
        total += lse - zb[y[b]];
        for (size_t k = 0; k < K; k++)
            d[b * K + k] = (float)((exp(zb[k] - lse) - (k == y[b])) / (double)B);
    }
    return total / (double)B;
}

static void backward_xbar(fnet *f, unsigned i)
{
    layer *L = &f->L[i];
    size_t B = f->last_b, V = B * L->p;
    const float *dOut = f->dact[i];
    float *dy = f->ybuf;
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < L->n; c++)
            for (size_t q = 0; q < L->p; q++)
                dy[(b * L->p + q) * L->n + c] = dOut[b * L->out_size + c * L->p + q];
    float *gb = f->g + L->b_off;
    for (size_t v = 0; v < V; v++)
        for (size_t c = 0; c < L->n; c++)
            gb[c] += dy[v * L->n + c];
    bool fq = quantised(f, L);
    const float *X = fq ? f->colsq[i] : f->cols[i];
    const float *W = fq ? f->wq + L->w_off : f->p + L->w_off;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blas_int(L->n), blas_int(L->r),
                blas_int(V), 1.0f, dy, blas_int(L->n), X, blas_int(L->r), 1.0f, f->g + L->w_off,
                blas_int(L->r));
    if (i == 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(V), blas_int(L->r),
                blas_int(L->n), 1.0f, dy, blas_int(L->n), W, blas_int(L->r), 0.0f, f->dcols,
                blas_int(L->r));
    if (fq) { /* straight-through inside the range, zero outside */
        const fnet_fq *q = &f->fq[L->xbar];
        int32_t lo, hi;
        fnet_act_levels(q->ab, q->in_signed, &lo, &hi);
        float a = (float)lo * q->in_step, z = (float)hi * q->in_step;
        for (size_t k = 0; k < V * L->r; k++)
            if (f->cols[i][k] < a || f->cols[i][k] > z)
                f->dcols[k] = 0.0f;
    }
    raise_grad(L, f->dcols, B, f->dact[i - 1]);
}

static void backward_pool(fnet *f, unsigned i)
{
    const layer *L = &f->L[i];
    const unsigned C = L->in.channels, H = L->in.height, W = L->in.width;
    const unsigned OH = L->out.height, OW = L->out.width;
    const float *dOut = f->dact[i];
    float *dIn = f->dact[i - 1];
    const int32_t *am = f->argm[i];
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < f->last_b; b++) {
        float *d = dIn + b * L->in_size;
        memset(d, 0, L->in_size * sizeof *d);
        for (unsigned c = 0; c < C; c++)
            for (unsigned oy = 0; oy < OH; oy++)
                for (unsigned ox = 0; ox < OW; ox++) {
                    size_t o = b * L->out_size + ((size_t)c * OH + oy) * OW + ox;
                    if (L->mode == NET_POOL_MAX) {
                        if (am[o] >= 0)
                            d[am[o]] += dOut[o];
                        continue;
                    }
                    if (L->mode == NET_POOL_GLOBAL_AVG) {
                        for (size_t k = 0; k < (size_t)H * W; k++)
                            d[(size_t)c * H * W + k] += dOut[o] / (float)(H * W);
                        continue;
                    }
                    long y0, y1, x0, x1;
                    window(L, oy, ox, &y0, &y1, &x0, &x1);
                    float share = dOut[o] / (float)(L->kh * L->kw);
                    for (long y = y0; y < y1; y++)
                        for (long xx = x0; xx < x1; xx++)
                            d[(size_t)c * H * W + (size_t)y * W + (size_t)xx] += share;
                }
    }
}

void fnet_backward(fnet *f)
{
    for (unsigned i = f->nl; i-- > 0;) {
        const layer *L = &f->L[i];
        if (L->xbar >= 0) {
            backward_xbar(f, i);
            continue;
        }
        if (i == 0)
            continue; /* no parameters below */
        size_t count = f->last_b * L->out_size;
        float *dIn = f->dact[i - 1];
        const float *dOut = f->dact[i];
        if (L->kind == NET_KIND_RELU) {
            for (size_t k = 0; k < count; k++)
                dIn[k] = f->act[i][k] > 0.0f ? dOut[k] : 0.0f;
        } else if (L->kind == NET_KIND_POOL) {
            backward_pool(f, i);
        } else {
            memcpy(dIn, dOut, count * sizeof *dIn);
        }
    }
}

void fnet_zero_grad(fnet *f)
{
    memset(f->g, 0, f->np * sizeof *f->g);
}

unsigned fnet_argmax(const fnet *f, size_t b)
{
    assert(b < f->last_b);
    const float *z = fnet_output(f) + b * f->out_size;
    unsigned best = 0;
    for (unsigned k = 1; k < f->out_size; k++)
        if (z[k] > z[best])
            best = k;
    return best;
}
