/* fnet: float forward/backward of a graph of conv2d (grouped, batch-normalised) / linear / relu /
 * pool / flatten / add layers. Crossbar layers go through their lowered form: per channel group
 * the input is lowered to X_g (V x R: im2col rows, (c, ki, kj) order, or the input vector itself),
 * Y_g = X_g W_g^T (V x N) by cblas_sgemm or the hook, then scattered to C x H x W with the bias
 * (and batch norm). Backward: dW += dY^T X, dX = dY W, col2im; gradients of a layer read by
 * several layers are summed. Invariant: the buffers hold the last forward of last_b samples;
 * backward reads them unchanged.
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

#define BN_EPS      1e-5 /* batch norm's variance floor, PyTorch's default, dimensionless */
#define BN_MOMENTUM 0.1  /* running statistics' update weight, PyTorch's default */

typedef struct layer {
    network_layer_kind kind;
    unsigned n_in;                  /* inputs, count */
    int inputs[NETWORK_MAX_INPUTS]; /* layer indices or NETWORK_INPUT */
    size_t in_size, out_size;       /* elements per sample, count */
    network_shape in, out;
    int xbar;        /* crossbar index, -1 for a digital layer */
    size_t r, n, p;  /* lowered rows, columns (one group), vectors per sample, counts */
    size_t g;        /* channel groups, count (1 unless a grouped conv) */
    bool bn;         /* batch norm after the product (until folded) */
    size_t bn_off;   /* offset of gamma (then beta) in the parameters, floats */
    size_t st_off;   /* offset of the running mean (then variance) in the statistics, floats */
    unsigned kh, kw; /* window, pixels */
    unsigned sh, sw; /* stride, pixels */
    unsigned ph, pw; /* padding, pixels */
    network_pool_mode mode;
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
    size_t nst;     /* batch-norm running statistics, floats */
    float *st;      /* per batch-norm layer: C means then C variances (unbiased) */
    bool training;  /* batch norm uses batch statistics (and updates the running ones) */
    float **bnx;    /* per batch-norm layer, cap x out_size normalised values (training) */
    float **bninv;  /* per batch-norm layer, C inverse standard deviations (training) */
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
    fnet_reuse_fn reuse;
    void *mm_ctx;
    fnet_fq *fq; /* nx entries, or NULL */
};

/* ---- construction ---------------------------------------------------------------------------- */

/* "conv2d, linear (1 token), ... or flatten": the kinds of the functional column, in table order.
 */
static err_names functional_kinds(void)
{
    const char *names[NETWORK_KIND_COUNT];
    size_t n = 0;
    for (unsigned k = 0; k < NETWORK_KIND_COUNT; k++)
        if (network_layer_kind_functional((network_layer_kind)k))
            names[n++] = k == NETWORK_KIND_LINEAR ? "linear (1 token)"
                                                  : network_layer_kind_name((network_layer_kind)k);
    return err_names_join(names, n);
}

static int reject(const network *n, unsigned i, const char *found, err *e)
{
    return err_set(e, ERR_INPUT,
                   "%s: network.layers.[%u] (layer \"%s\"): found %s, expected %s (the functional "
                   "model)",
                   n->origin ? n->origin : n->name, i, n->layers[i].name, found,
                   functional_kinds().text);
}

static int check_layer(const network *n, unsigned i, err *e)
{
    const network_layer *l = &n->layers[i];
    char what[96];
    if (!network_layer_kind_functional(l->kind)) {
        snprintf(what, sizeof what, "a %s layer", network_layer_kind_name(l->kind));
        return reject(n, i, what, e);
    }
    if (l->kind == NETWORK_KIND_LINEAR && l->linear.tokens != 1) {
        snprintf(what, sizeof what, "linear over %u tokens", l->linear.tokens);
        return reject(n, i, what, e);
    }
    return 0;
}

static void fill_layer(const network_layer *nl, layer *L)
{
    *L = (layer){.kind = nl->kind,
                 .n_in = nl->n_inputs,
                 .g = 1,
                 .in = nl->in,
                 .out = nl->out,
                 .in_size = (size_t)network_shape_elements(nl->in),
                 .out_size = (size_t)network_shape_elements(nl->out),
                 .xbar = nl->xbar_index};
    if (nl->kind == NETWORK_KIND_CONV2D) {
        L->kh = nl->conv.kernel_h, L->kw = nl->conv.kernel_w;
        L->sh = nl->conv.stride_h, L->sw = nl->conv.stride_w;
        L->ph = nl->conv.pad_h, L->pw = nl->conv.pad_w;
        L->g = nl->conv.groups;
        L->bn = nl->conv.batch_norm;
    } else if (nl->kind == NETWORK_KIND_POOL) {
        L->mode = nl->pool.mode;
        L->kh = nl->pool.kernel_h, L->kw = nl->pool.kernel_w;
        L->sh = nl->pool.stride_h, L->sw = nl->pool.stride_w;
        L->ph = nl->pool.pad_h, L->pw = nl->pool.pad_w;
    }
    for (unsigned j = 0; j < nl->n_inputs; j++)
        L->inputs[j] = nl->inputs[j];
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
        for (size_t i = 0; i < L->g * L->r * L->n; i++)
            f->p[L->w_off + i] = bound * (float)(2.0 * gsl_rng_uniform(rng) - 1.0);
        if (L->bn) { /* gamma 1, beta 0; running mean 0, variance 1 (PyTorch's start) */
            size_t C = L->g * L->n;
            for (size_t c = 0; c < C; c++) {
                f->p[L->bn_off + c] = 1.0f;
                f->st[L->st_off + C + c] = 1.0f;
            }
        }
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
            size_t C = L->g * L->n;
            f->xl[L->xbar] = i;
            L->w_off = f->np;
            L->b_off = f->np + C * L->r;
            f->np += C * L->r + C;
            if (L->bn) {
                L->bn_off = f->np;
                f->np += 2 * C;
                L->st_off = f->nst;
                f->nst += 2 * C;
            }
        }
    }
    f->in_size = (size_t)network_shape_elements(n->input);
    f->out_size = f->L[f->nl - 1].out_size;
    f->p = mem_calloc(f->np ? f->np : 1, sizeof *f->p, "fnet parameters");
    f->g = mem_calloc(f->np ? f->np : 1, sizeof *f->g, "fnet gradients");
    f->st = mem_calloc(f->nst ? f->nst : 1, sizeof *f->st, "fnet batch-norm statistics");
    f->bnx = mem_calloc(f->nl, sizeof *f->bnx, "fnet buffers");
    f->bninv = mem_calloc(f->nl, sizeof *f->bninv, "fnet buffers");
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
        free(f->bnx[i]);
        free(f->bninv[i]);
        f->bnx[i] = f->bninv[i] = NULL;
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
    memcpy(c->st, f->st, f->nst * sizeof *f->st);
    for (unsigned i = 0; i < f->nl; i++)
        c->L[i].bn = f->L[i].bn; /* folded or not */
    c->training = f->training;
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
    free(f->st);
    free(f->bnx);
    free(f->bninv);
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
            size_t pr = L->g * L->p * L->r, pn = L->g * L->p * L->n;
            f->cols[i] = mem_alloc(B * pr * sizeof(float), "fnet lowered inputs");
            if (f->fq)
                f->colsq[i] = mem_alloc(B * pr * sizeof(float), "fnet quantised inputs");
            ymax = pn > ymax ? pn : ymax;
            cmax = pr > cmax ? pr : cmax;
        }
        if (L->bn) {
            f->bnx[i] = mem_alloc(B * L->out_size * sizeof(float), "fnet batch norm");
            f->bninv[i] = mem_alloc(L->g * L->n * sizeof(float), "fnet batch norm");
        }
        if (L->kind == NETWORK_KIND_POOL && L->mode == NETWORK_POOL_MAX)
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
    *count = L->g * L->r * L->n;
    return f->p + L->w_off;
}

float *fnet_bias(fnet *f, unsigned k, size_t *count)
{
    assert(k < f->nx);
    const layer *L = &f->L[f->xl[k]];
    *count = L->g * L->n;
    return f->p + L->b_off;
}

size_t fnet_xbar_groups(const fnet *f, unsigned k)
{
    assert(k < f->nx);
    return f->L[f->xl[k]].g;
}

size_t fnet_batch_norm(fnet *f, unsigned k, float **gamma, float **beta, float **mean, float **var)
{
    assert(k < f->nx);
    const layer *L = &f->L[f->xl[k]];
    if (!L->bn)
        return 0;
    size_t C = L->g * L->n;
    *gamma = f->p + L->bn_off;
    *beta = f->p + L->bn_off + C;
    *mean = f->st + L->st_off;
    *var = f->st + L->st_off + C;
    return C;
}

void fnet_set_training(fnet *f, bool training)
{
    f->training = training;
}

void fnet_fold_batch_norm(fnet *f)
{
    for (unsigned k = 0; k < f->nx; k++) {
        layer *L = &f->L[f->xl[k]];
        if (!L->bn)
            continue;
        size_t C = L->g * L->n;
        const float *gamma = f->p + L->bn_off, *beta = gamma + C;
        const float *mean = f->st + L->st_off, *var = mean + C;
        float *w = f->p + L->w_off, *b = f->p + L->b_off;
        for (size_t c = 0; c < C; c++) {
            double s = (double)gamma[c] / sqrt((double)var[c] + BN_EPS);
            for (size_t j = 0; j < L->r; j++)
                w[c * L->r + j] = (float)((double)w[c * L->r + j] * s);
            b[c] = (float)(((double)b[c] - (double)mean[c]) * s + (double)beta[c]);
        }
        L->bn = false;
    }
}

void fnet_xbar_dims(const fnet *f, unsigned k, size_t *r, size_t *n)
{
    assert(k < f->nx);
    *r = f->L[f->xl[k]].r;
    *n = f->L[f->xl[k]].n;
}

/* Whether the output of layer i (NETWORK_INPUT: the network input) is non-negative by construction:
 * a relu, a pool or flatten of such, an add whose every summand is such. */
static bool nonneg(const fnet *f, int i, bool input_nonneg)
{
    if (i == NETWORK_INPUT)
        return input_nonneg;
    const layer *L = &f->L[i];
    if (network_layer_kind_sign(L->kind) != NETWORK_SIGN_KEEP) /* no need to look at the inputs */
        return network_layer_kind_output_nonneg(L->kind, false);
    for (unsigned j = 0; j < L->n_in; j++)
        if (!nonneg(f, L->inputs[j], input_nonneg))
            return false;
    return true;
}

bool fnet_xbar_input_nonneg(const fnet *f, unsigned k, bool input_nonneg)
{
    assert(k < f->nx);
    return nonneg(f, f->L[f->xl[k]].inputs[0], input_nonneg);
}

const float *fnet_xbar_input(const fnet *f, unsigned k, size_t *v)
{
    assert(k < f->nx);
    const layer *L = &f->L[f->xl[k]];
    *v = f->last_b * L->p * L->g;
    return f->cols[f->xl[k]];
}

void fnet_set_matmul(fnet *f, fnet_matmul_fn m, fnet_reuse_fn r, void *ctx)
{
    assert(m || !r);
    f->mm = m;
    f->reuse = r;
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

/* With |lo|, |hi| < 2^22 the fast rounding needs no rintf fallback: where |t| >= 2^22 its result
 * stays beyond the levels (or is NaN) and the clamp gives what rintf's would. The clamps are
 * written as selects so NaN goes to lo, as in fnet_quantize. */
void fnet_quantize_array(const float *x, size_t count, float step, int32_t lo, int32_t hi,
                         int32_t *out)
{
    assert(lo > -(1 << 22) && hi < (1 << 22));
    const float lof = (float)lo, hif = (float)hi;
#pragma omp parallel for schedule(static) firstprivate(step, lof, hif)
    for (size_t i = 0; i < count; i++) {
        float t = x[i] / step;
        float q = (t + 0x1.8p23f) - 0x1.8p23f;
        q = q >= lof ? q : lof;
        q = q <= hif ? q : hif;
        out[i] = (int32_t)q;
    }
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

/* A 1x1 conv of stride 1 without padding: lowering is a transpose. */
static bool pointwise(const layer *L)
{
    return L->kh == 1 && L->kw == 1 && L->sh == 1 && L->sw == 1 && L->ph == 0 && L->pw == 0;
}

/* One element of a lowered array: a float, or the int32 level it was quantised to (lower copies
 * bits, so it serves both; a zero of either is all zero bits). */
#define ELEM 4
_Static_assert(sizeof(float) == ELEM && sizeof(int32_t) == ELEM, "4-byte elements");

/* Element k of the ELEM-byte array p, copied from q's element l (memcpy: no type punning). */
#define COPY_ELEM(p, k, q, l)                                                                      \
    memcpy((unsigned char *)(p) + (size_t)(k)*ELEM, (const unsigned char *)(q) + (size_t)(l)*ELEM, \
           ELEM)

/* Lower channels [c0, c0 + C) of B samples of in (in_size ELEM-byte elements each: floats, or
 * int32 levels) to X (B p x r of the same). */
static void lower(const layer *L, const void *in, size_t B, unsigned c0, void *X)
{
    const unsigned char *src0 = in;
    unsigned char *dst = X;
    if (L->kind == NETWORK_KIND_LINEAR) {
        memcpy(X, in, B * L->r * ELEM);
        return;
    }
    const unsigned C = L->in.channels / (unsigned)L->g, H = L->in.height, W = L->in.width;
    const unsigned OH = L->out.height, OW = L->out.width;
    if (pointwise(L)) { /* a transpose: row q holds pixel q of every channel */
        const size_t HW = (size_t)H * W;
#pragma omp parallel for schedule(static)
        for (size_t b = 0; b < B; b++) {
            const unsigned char *s = src0 + (b * L->in_size + (size_t)c0 * HW) * ELEM;
            unsigned char *xb = dst + b * HW * L->r * ELEM;
            for (size_t c = 0; c < C; c++)
                for (size_t q = 0; q < HW; q++)
                    COPY_ELEM(xb, q * L->r + c, s, c * HW + q);
        }
        return;
    }
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++) {
        const unsigned char *s = src0 + (b * L->in_size + (size_t)c0 * H * W) * ELEM;
        for (unsigned oy = 0; oy < OH; oy++)
            for (unsigned ox = 0; ox < OW; ox++) {
                unsigned char *row = dst + ((b * OH + oy) * OW + ox) * L->r * ELEM;
                long ix0 = (long)ox * L->sw - (long)L->pw;
                bool inside = ix0 >= 0 && ix0 + (long)L->kw <= (long)W; /* no column padding */
                for (unsigned c = 0; c < C; c++)
                    for (unsigned ki = 0; ki < L->kh; ki++, row += L->kw * ELEM) {
                        long iy = (long)oy * L->sh - (long)L->ph + ki;
                        if (iy < 0 || iy >= H) {
                            memset(row, 0, L->kw * ELEM);
                            continue;
                        }
                        const unsigned char *line = s + ((size_t)c * H + (size_t)iy) * W * ELEM;
                        if (inside)
                            for (unsigned kj = 0; kj < L->kw; kj++)
                                COPY_ELEM(row, kj, line, ix0 + kj);
                        else
                            for (unsigned kj = 0; kj < L->kw; kj++) {
                                long ix = ix0 + kj;
                                if (ix >= 0 && ix < W)
                                    COPY_ELEM(row, kj, line, ix);
                                else
                                    memset(row + kj * ELEM, 0, ELEM);
                            }
                    }
            }
    }
}

size_t fnet_xbar_in_size(const fnet *f, unsigned k)
{
    assert(k < f->nx);
    return f->L[f->xl[k]].in_size;
}

void fnet_lower_levels(const fnet *f, unsigned k, const int32_t *in, size_t B, int32_t *X)
{
    assert(k < f->nx);
    const layer *L = &f->L[f->xl[k]];
    size_t V = B * L->p, G = L->g;
    for (size_t g = 0; g < G; g++)
        lower(L, in, B, (unsigned)(g * (L->in.channels / G)), X + g * V * L->r);
}

/* The inverse of lower for gradients: channels [c0, c0 + C) of dIn += the contributions of dX. */
static void raise_grad(const layer *L, const float *dX, size_t B, unsigned c0, float *dIn)
{
    if (L->kind == NETWORK_KIND_LINEAR) {
        for (size_t k = 0; k < B * L->r; k++)
            dIn[k] += dX[k];
        return;
    }
    const unsigned C = L->in.channels / (unsigned)L->g, H = L->in.height, W = L->in.width;
    const unsigned OH = L->out.height, OW = L->out.width;
    if (pointwise(L)) {
        const size_t HW = (size_t)H * W;
#pragma omp parallel for schedule(static)
        for (size_t b = 0; b < B; b++) {
            float *d = dIn + b * L->in_size + (size_t)c0 * HW;
            const float *xb = dX + b * HW * L->r;
            for (size_t c = 0; c < C; c++)
                for (size_t q = 0; q < HW; q++)
                    d[c * HW + q] += xb[q * L->r + c];
        }
        return;
    }
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++) {
        float *d = dIn + b * L->in_size + (size_t)c0 * H * W;
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

/* Batch norm of layer i's output in place (B samples, C channels of P pixels). Training: batch
 * statistics (biased variance), running ones updated with the unbiased variance (PyTorch's
 * BatchNorm2d); otherwise the running statistics. The normalised values are kept for backward. */
static void forward_bn(fnet *f, unsigned i, size_t B)
{
    const layer *L = &f->L[i];
    size_t C = L->g * L->n, P = L->p, S = L->out_size;
    float *y = f->act[i];
    const float *gamma = f->p + L->bn_off, *beta = gamma + C;
    float *mean = f->st + L->st_off, *var = mean + C;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < C; c++) {
        double mu, inv;
        if (f->training) {
            double sum = 0.0, sq = 0.0, m = (double)(B * P);
            for (size_t b = 0; b < B; b++)
                for (size_t q = 0; q < P; q++)
                    sum += y[b * S + c * P + q];
            mu = sum / m;
            for (size_t b = 0; b < B; b++)
                for (size_t q = 0; q < P; q++) {
                    double d = y[b * S + c * P + q] - mu;
                    sq += d * d;
                }
            double v = sq / m;
            inv = 1.0 / sqrt(v + BN_EPS);
            f->bninv[i][c] = (float)inv;
            mean[c] = (float)((1.0 - BN_MOMENTUM) * mean[c] + BN_MOMENTUM * mu);
            double unbiased = m > 1.0 ? sq / (m - 1.0) : v;
            var[c] = (float)((1.0 - BN_MOMENTUM) * var[c] + BN_MOMENTUM * unbiased);
        } else {
            mu = mean[c];
            inv = 1.0 / sqrt((double)var[c] + BN_EPS);
        }
        for (size_t b = 0; b < B; b++)
            for (size_t q = 0; q < P; q++) {
                size_t o = b * S + c * P + q;
                float xh = (float)((y[o] - mu) * inv);
                f->bnx[i][o] = xh;
                y[o] = gamma[c] * xh + beta[c];
            }
    }
}

/* Layer i's product of the B samples in into f->ybuf: lowered, fake-quantised, multiplied. */
static void product(fnet *f, unsigned i, const float *in, size_t B)
{
    layer *L = &f->L[i];
    size_t V = B * L->p, G = L->g;
    if (f->mm) { /* the hook lowers what it needs */
        f->mm(f->mm_ctx, (unsigned)L->xbar, in, B, V, L->r, L->n, G, f->ybuf);
        return;
    }
    for (size_t g = 0; g < G; g++)
        lower(L, in, B, (unsigned)(g * (L->in.channels / G)), f->cols[i] + g * V * L->r);
    const float *X = f->cols[i], *W = f->p + L->w_off;
    if (quantised(f, L)) {
        const fnet_fq *q = &f->fq[L->xbar];
        fake_quant_inputs(q, X, G * V * L->r, f->colsq[i]);
        fake_quant_weights(q, W, G * L->r * L->n, f->wq + L->w_off);
        X = f->colsq[i];
        W = f->wq + L->w_off;
    }
    for (size_t g = 0; g < G; g++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_int(V), blas_int(L->n),
                    blas_int(L->r), 1.0f, X + g * V * L->r, blas_int(L->r), W + g * L->n * L->r,
                    blas_int(L->r), 0.0f, f->ybuf + g * V * L->n, blas_int(L->n));
}

static void forward_xbar(fnet *f, unsigned i, const float *in, size_t B)
{
    layer *L = &f->L[i];
    size_t V = B * L->p, G = L->g;
    if (!f->reuse || !f->reuse(f->mm_ctx, (unsigned)L->xbar, V, L->n, G, f->ybuf))
        product(f, i, in, B);
    const float *bias = f->p + L->b_off;
    float *out = f->act[i];
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++)
        for (size_t g = 0; g < G; g++) {
            const float *yg = f->ybuf + g * V * L->n;
            for (size_t c = 0; c < L->n; c++)
                for (size_t q = 0; q < L->p; q++)
                    out[b * L->out_size + (g * L->n + c) * L->p + q] =
                        yg[(b * L->p + q) * L->n + c] + bias[g * L->n + c];
        }
    if (L->bn)
        forward_bn(f, i, B);
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
                    if (L->mode == NETWORK_POOL_GLOBAL_AVG) {
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
                    if (L->mode == NETWORK_POOL_MAX) {
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
        const float *in = L->inputs[0] == NETWORK_INPUT ? x : f->act[L->inputs[0]];
        float *out = f->act[i];
        switch (L->kind) {
        case NETWORK_KIND_CONV2D:
        case NETWORK_KIND_LINEAR:
            forward_xbar(f, i, in, B);
            break;
        case NETWORK_KIND_RELU:
            for (size_t k = 0; k < B * L->out_size; k++)
                out[k] = in[k] > 0.0f ? in[k] : 0.0f;
            break;
        case NETWORK_KIND_RELU6:
            for (size_t k = 0; k < B * L->out_size; k++)
                out[k] = in[k] > 0.0f ? (in[k] < 6.0f ? in[k] : 6.0f) : 0.0f;
            break;
        case NETWORK_KIND_POOL:
            forward_pool(f, i, in, B);
            break;
        case NETWORK_KIND_ADD:
            memcpy(out, in, B * L->out_size * sizeof *out);
            for (unsigned j = 1; j < L->n_in; j++) {
                const float *s = L->inputs[j] == NETWORK_INPUT ? x : f->act[L->inputs[j]];
                for (size_t k = 0; k < B * L->out_size; k++)
                    out[k] += s[k];
            }
            break;
        case NETWORK_KIND_FLATTEN:
            memcpy(out, in, B * L->out_size * sizeof *out);
            break;
        default: /* check_layer rejects the kinds the functional column leaves out */
            network_bad_kind(L->kind, "fnet: forward");
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

/* Batch norm backward in place: dact[i] from d(output) to d(pre-norm), gamma and beta gradients
 * added. Training statistics only (a forward in evaluation mode is not differentiated through
 * its statistics: they are constants, so the gradient is gamma * inv * dy). */
static void backward_bn(fnet *f, unsigned i)
{
    const layer *L = &f->L[i];
    size_t B = f->last_b, C = L->g * L->n, P = L->p, S = L->out_size;
    float *d = f->dact[i];
    const float *gamma = f->p + L->bn_off;
    float *gg = f->g + L->bn_off, *gbeta = gg + C;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < C; c++) {
        double m = (double)(B * P);
        if (!f->training) {
            double inv = 1.0 / sqrt((double)f->st[L->st_off + C + c] + BN_EPS);
            double sdy = 0.0, sdyx = 0.0;
            for (size_t b = 0; b < B; b++)
                for (size_t q = 0; q < P; q++) {
                    size_t o = b * S + c * P + q;
                    sdy += d[o];
                    sdyx += (double)d[o] * f->bnx[i][o];
                    d[o] = (float)(gamma[c] * inv * d[o]);
                }
            gg[c] += (float)sdyx;
            gbeta[c] += (float)sdy;
            continue;
        }
        double sdy = 0.0, sdyx = 0.0;
        for (size_t b = 0; b < B; b++)
            for (size_t q = 0; q < P; q++) {
                size_t o = b * S + c * P + q;
                sdy += d[o];
                sdyx += (double)d[o] * f->bnx[i][o];
            }
        gg[c] += (float)sdyx;
        gbeta[c] += (float)sdy;
        double k = (double)gamma[c] * f->bninv[i][c] / m;
        for (size_t b = 0; b < B; b++)
            for (size_t q = 0; q < P; q++) {
                size_t o = b * S + c * P + q;
                d[o] = (float)(k * (m * d[o] - sdy - (double)f->bnx[i][o] * sdyx));
            }
    }
}

static void backward_xbar(fnet *f, unsigned i)
{
    layer *L = &f->L[i];
    size_t B = f->last_b, V = B * L->p, G = L->g;
    if (L->bn)
        backward_bn(f, i);
    const float *dOut = f->dact[i];
    float *dy = f->ybuf;
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < B; b++)
        for (size_t g = 0; g < G; g++)
            for (size_t c = 0; c < L->n; c++)
                for (size_t q = 0; q < L->p; q++)
                    dy[g * V * L->n + (b * L->p + q) * L->n + c] =
                        dOut[b * L->out_size + (g * L->n + c) * L->p + q];
    float *gb = f->g + L->b_off;
    for (size_t g = 0; g < G; g++)
        for (size_t v = 0; v < V; v++)
            for (size_t c = 0; c < L->n; c++)
                gb[g * L->n + c] += dy[g * V * L->n + v * L->n + c];
    bool fq = quantised(f, L);
    const float *X = fq ? f->colsq[i] : f->cols[i];
    const float *W = fq ? f->wq + L->w_off : f->p + L->w_off;
    for (size_t g = 0; g < G; g++)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blas_int(L->n), blas_int(L->r),
                    blas_int(V), 1.0f, dy + g * V * L->n, blas_int(L->n), X + g * V * L->r,
                    blas_int(L->r), 1.0f, f->g + L->w_off + g * L->n * L->r, blas_int(L->r));
    if (L->inputs[0] == NETWORK_INPUT)
        return;
    for (size_t g = 0; g < G; g++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(V), blas_int(L->r),
                    blas_int(L->n), 1.0f, dy + g * V * L->n, blas_int(L->n), W + g * L->n * L->r,
                    blas_int(L->r), 0.0f, f->dcols + g * V * L->r, blas_int(L->r));
    if (fq) { /* straight-through inside the range, zero outside */
        const fnet_fq *q = &f->fq[L->xbar];
        int32_t lo, hi;
        fnet_act_levels(q->ab, q->in_signed, &lo, &hi);
        float a = (float)lo * q->in_step, z = (float)hi * q->in_step;
        for (size_t k = 0; k < G * V * L->r; k++)
            if (f->cols[i][k] < a || f->cols[i][k] > z)
                f->dcols[k] = 0.0f;
    }
    for (size_t g = 0; g < G; g++)
        raise_grad(L, f->dcols + g * V * L->r, B, (unsigned)(g * (L->in.channels / G)),
                   f->dact[L->inputs[0]]);
}

static void backward_pool(fnet *f, unsigned i)
{
    const layer *L = &f->L[i];
    const unsigned C = L->in.channels, H = L->in.height, W = L->in.width;
    const unsigned OH = L->out.height, OW = L->out.width;
    const float *dOut = f->dact[i];
    float *dIn = f->dact[L->inputs[0]];
    const int32_t *am = f->argm[i];
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < f->last_b; b++) {
        float *d = dIn + b * L->in_size;
        for (unsigned c = 0; c < C; c++)
            for (unsigned oy = 0; oy < OH; oy++)
                for (unsigned ox = 0; ox < OW; ox++) {
                    size_t o = b * L->out_size + ((size_t)c * OH + oy) * OW + ox;
                    if (L->mode == NETWORK_POOL_MAX) {
                        if (am[o] >= 0)
                            d[am[o]] += dOut[o];
                        continue;
                    }
                    if (L->mode == NETWORK_POOL_GLOBAL_AVG) {
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
    size_t B = f->last_b;
    for (unsigned i = 0; i + 1 < f->nl; i++) /* summed into: layers read by several */
        memset(f->dact[i], 0, B * f->L[i].out_size * sizeof(float));
    for (unsigned i = f->nl; i-- > 0;) {
        const layer *L = &f->L[i];
        if (L->xbar >= 0) {
            backward_xbar(f, i);
            continue;
        }
        size_t count = B * L->out_size;
        const float *dOut = f->dact[i];
        for (unsigned j = 0; j < L->n_in; j++) {
            if (L->inputs[j] == NETWORK_INPUT)
                continue; /* no parameters below */
            float *dIn = f->dact[L->inputs[j]];
            if (L->kind == NETWORK_KIND_RELU) {
                for (size_t k = 0; k < count; k++)
                    dIn[k] += f->act[i][k] > 0.0f ? dOut[k] : 0.0f;
            } else if (L->kind == NETWORK_KIND_RELU6) {
                for (size_t k = 0; k < count; k++)
                    dIn[k] += f->act[i][k] > 0.0f && f->act[i][k] < 6.0f ? dOut[k] : 0.0f;
            } else if (L->kind == NETWORK_KIND_POOL) {
                backward_pool(f, i);
            } else { /* flatten, add */
                for (size_t k = 0; k < count; k++)
                    dIn[k] += dOut[k];
            }
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
