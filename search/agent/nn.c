/* nn: dense layers over CBLAS sgemm, Adam, target updates, checkpoints (see nn.h).
 * Invariant: layer l's W starts at offset[l] of the flat arrays and its b right after it; every
 * routine is a fixed sequence of BLAS calls and elementwise loops (no contraction into FMA: ISO C
 * mode), so equal inputs give equal bits.
 */
#include "nn.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* OpenBLAS's header. Not together with <gsl/gsl_randist.h>: that one pulls in GSL's own CBLAS
 * header (through gsl_matrix.h), whose declarations clash with these; hence uniform draws below are
 * spelt with gsl_rng_uniform. All BLAS contact of xbarsim goes through this file. */
#include <cblas.h>

#include "mem.h"

struct nn_net {
    unsigned n_layers; /* layers, count */
    nn_shape *shape;   /* per layer; owned */
    size_t *offset;    /* per layer: index of W in the flat arrays; b follows at in x out; owned */
    size_t n_params;   /* parameters, count */
    float *p;          /* parameters; owned */
    float *g;          /* gradients dL/dp; owned */
    float *m;          /* Adam first moments; owned */
    float *v;          /* Adam second moments; owned */
    uint64_t steps;    /* Adam steps taken, count */
};

nn_net *nn_create(unsigned n_layers, const nn_shape *shapes)
{
    assert(n_layers >= 1 && n_layers <= NN_MAX_LAYERS && shapes);
    nn_net *net = mem_calloc(1, sizeof *net, "nn net");
    net->n_layers = n_layers;
    net->shape = mem_calloc(n_layers, sizeof *net->shape, "nn layer shapes");
    net->offset = mem_calloc(n_layers, sizeof *net->offset, "nn layer offsets");
    size_t n = 0;
    for (unsigned l = 0; l < n_layers; l++) {
        assert(shapes[l].in >= 1 && shapes[l].in <= NN_MAX_WIDTH);
        assert(shapes[l].out >= 1 && shapes[l].out <= NN_MAX_WIDTH);
        net->shape[l] = shapes[l];
        net->offset[l] = n;
        n += ((size_t)shapes[l].in + 1) * shapes[l].out;
        assert(n <= NN_MAX_PARAMS);
    }
    net->n_params = n;
    net->p = mem_calloc(n, sizeof(float), "nn parameters");
    net->g = mem_calloc(n, sizeof(float), "nn gradients");
    net->m = mem_calloc(n, sizeof(float), "nn Adam first moments");
    net->v = mem_calloc(n, sizeof(float), "nn Adam second moments");
    return net;
}

void nn_destroy(nn_net *net)
{
    if (!net)
        return;
    free(net->shape);
    free(net->offset);
    free(net->p);
    free(net->g);
    free(net->m);
    free(net->v);
    free(net);
}

unsigned nn_layer_count(const nn_net *net)
{
    return net->n_layers;
}

nn_shape nn_layer_shape(const nn_net *net, unsigned layer)
{
    assert(layer < net->n_layers);
    return net->shape[layer];
}

size_t nn_param_count(const nn_net *net)
{
    return net->n_params;
}

uint64_t nn_adam_steps(const nn_net *net)
{
    return net->steps;
}

float *nn_params(nn_net *net)
{
    return net->p;
}

float *nn_grads(nn_net *net)
{
    return net->g;
}

static size_t w_off(const nn_net *net, unsigned layer)
{
    assert(layer < net->n_layers);
    return net->offset[layer];
}

static size_t b_off(const nn_net *net, unsigned layer)
{
    return w_off(net, layer) + (size_t)net->shape[layer].in * net->shape[layer].out;
}

float *nn_weight(nn_net *net, unsigned layer)
{
    return net->p + w_off(net, layer);
}

float *nn_bias(nn_net *net, unsigned layer)
{
    return net->p + b_off(net, layer);
}

float *nn_grad_weight(nn_net *net, unsigned layer)
{
    return net->g + w_off(net, layer);
}

float *nn_grad_bias(nn_net *net, unsigned layer)
{
    return net->g + b_off(net, layer);
}

/* U(lo, hi), the way gsl_ran_flat computes it. */
static double flat(gsl_rng *r, double lo, double hi)
{
    double u = gsl_rng_uniform(r);
    return lo * (1 - u) + hi * u;
}

void nn_init(nn_net *net, gsl_rng *r, double final_w)
{
    assert(final_w >= 0);
    for (unsigned l = 0; l < net->n_layers; l++) {
        nn_shape s = net->shape[l];
        double bound = 1.0 / sqrt((double)s.in);
        double wb = l + 1 == net->n_layers ? final_w : bound;
        float *w = nn_weight(net, l), *b = nn_bias(net, l);
        for (size_t i = 0; i < (size_t)s.in * s.out; i++)
            w[i] = (float)flat(r, -wb, wb);
        for (unsigned j = 0; j < s.out; j++)
            b[j] = (float)flat(r, -bound, bound);
    }
    memset(net->g, 0, net->n_params * sizeof(float));
    memset(net->m, 0, net->n_params * sizeof(float));
    memset(net->v, 0, net->n_params * sizeof(float));
    net->steps = 0;
}

/* OpenBLAS's exported shutdown of its worker threads (its fork handler calls it too); the next
 * product that wants more than one thread starts them again. */
int blas_thread_shutdown_(void);

void nn_blas_set_threads(int n)
{
    assert(n >= 1);
    openblas_set_num_threads(n);
    /* Workers started at load spin (sched_yield) for ~0.1 s before they sleep, taking a core from
     * a caller that runs its own threads (a sweep's points); with one thread they are not needed.
     */
    if (n == 1)
        blas_thread_shutdown_();
}

int nn_blas_threads(void)
{
    return openblas_get_num_threads();
}

/* BLAS takes int dimensions; widths are bounded by NN_MAX_WIDTH, batches by the caller. */
static int blas_dim(unsigned n)
{
    assert(n <= INT_MAX);
    return (int)n;
}

void nn_dense_forward(const nn_net *net, unsigned layer, unsigned n, const float *x, int accumulate,
                      float *y)
{
    nn_shape s = nn_layer_shape(net, layer);
    const float *w = net->p + w_off(net, layer), *b = net->p + b_off(net, layer);
    for (unsigned i = 0; i < n; i++) {
        float *row = y + (size_t)i * s.out;
        if (accumulate)
            for (unsigned j = 0; j < s.out; j++)
                row[j] += b[j];
        else
            memcpy(row, b, s.out * sizeof(float));
    }
    if (n == 0)
        return;
    /* y (n x out) += x (n x in) W^T, W stored out x in. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_dim(n), blas_dim(s.out),
                blas_dim(s.in), 1.0f, x, blas_dim(s.in), w, blas_dim(s.in), 1.0f, y,
                blas_dim(s.out));
}

void nn_act_forward(nn_act act, size_t count, float *y)
{
    switch (act) {
    case NN_ACT_IDENTITY:
        break;
    case NN_ACT_RELU:
        for (size_t i = 0; i < count; i++)
            y[i] = y[i] > 0 ? y[i] : 0.0f;
        break;
    case NN_ACT_SIGMOID:
        /* Split by sign so exp never overflows. */
        for (size_t i = 0; i < count; i++) {
            if (y[i] >= 0) {
                y[i] = 1.0f / (1.0f + expf(-y[i]));
            } else {
                float e = expf(y[i]);
                y[i] = e / (1.0f + e);
            }
        }
        break;
    }
}

void nn_act_backward(nn_act act, size_t count, const float *y, float *dy)
{
    switch (act) {
    case NN_ACT_IDENTITY:
        break;
    case NN_ACT_RELU:
        for (size_t i = 0; i < count; i++)
            dy[i] = y[i] > 0 ? dy[i] : 0.0f;
        break;
    case NN_ACT_SIGMOID:
        for (size_t i = 0; i < count; i++)
            dy[i] *= y[i] * (1.0f - y[i]);
        break;
    }
}

void nn_dense_backward_input(const nn_net *net, unsigned layer, unsigned n, const float *dz,
                             float *dx)
{
    nn_shape s = nn_layer_shape(net, layer);
    if (n == 0)
        return;
    /* dx (n x in) = dz (n x out) W (out x in). A layer of one input (the critic's action) is a
     * matrix-vector product: sgemv, since OpenBLAS's small-matrix sgemm kernel mallocs for it
     * at every call. */
    if (s.in == 1) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, blas_dim(n), blas_dim(s.out), 1.0f, dz,
                    blas_dim(s.out), net->p + w_off(net, layer), 1, 0.0f, dx, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_dim(n), blas_dim(s.in),
                blas_dim(s.out), 1.0f, dz, blas_dim(s.out), net->p + w_off(net, layer),
                blas_dim(s.in), 0.0f, dx, blas_dim(s.in));
}

void nn_dense_backward(nn_net *net, unsigned layer, unsigned n, const float *x, const float *dz,
                       float *dx)
{
    nn_shape s = nn_layer_shape(net, layer);
    if (n == 0)
        return;
    /* dW (out x in) += dz^T (out x n) x (n x in). */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blas_dim(s.out), blas_dim(s.in),
                blas_dim(n), 1.0f, dz, blas_dim(s.out), x, blas_dim(s.in), 1.0f,
                net->g + w_off(net, layer), blas_dim(s.in));
    float *gb = net->g + b_off(net, layer);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < s.out; j++)
            gb[j] += dz[(size_t)i * s.out + j];
    if (dx)
        nn_dense_backward_input(net, layer, n, dz, dx);
}

void nn_zero_grad(nn_net *net)
{
    memset(net->g, 0, net->n_params * sizeof(float));
}

/* Adam's per-step factors in single precision; the bias corrections are worked out in double
 * once per step, then rounded. */
typedef struct adam_coef {
    float b1, c1;   /* beta1, 1 - beta1 */
    float b2, c2;   /* beta2, 1 - beta2 */
    float step;     /* lr / (1 - beta1^t), parameter units per unit of m */
    float bc2_sqrt; /* sqrt(1 - beta2^t) */
    float eps;      /* Adam's epsilon */
} adam_coef;

static adam_coef adam_begin(nn_net *net, double lr)
{
    net->steps++;
    double t = (double)net->steps;
    return (adam_coef){
        .b1 = (float)NN_ADAM_BETA1,
        .c1 = (float)(1.0 - NN_ADAM_BETA1),
        .b2 = (float)NN_ADAM_BETA2,
        .c2 = (float)(1.0 - NN_ADAM_BETA2),
        .step = (float)(lr / (1.0 - pow(NN_ADAM_BETA1, t))),
        .bc2_sqrt = (float)sqrt(1.0 - pow(NN_ADAM_BETA2, t)),
        .eps = (float)NN_ADAM_EPS,
    };
}

/* Adam on net and, when target is not NULL, target's soft update from the new parameters, in
 * one pass. The arrays are distinct (restrict), so the loops vectorise; every element sees the
 * same operations in the same order as nn_adam_step then nn_soft_update, so results are equal. */
static void adam_pass(nn_net *net, double lr, nn_net *target, double tau)
{
    adam_coef k = adam_begin(net, lr);
    size_t n = net->n_params;
    float *restrict p = net->p, *restrict m = net->m, *restrict v = net->v;
    const float *restrict g = net->g;
    if (!target) {
        for (size_t i = 0; i < n; i++) {
            m[i] = k.b1 * m[i] + k.c1 * g[i];
            v[i] = k.b2 * v[i] + k.c2 * g[i] * g[i];
            p[i] -= k.step * m[i] / (sqrtf(v[i]) / k.bc2_sqrt + k.eps);
        }
        return;
    }
    float *restrict q = target->p;
    float keep = (float)(1.0 - tau), take = (float)tau;
    for (size_t i = 0; i < n; i++) {
        m[i] = k.b1 * m[i] + k.c1 * g[i];
        v[i] = k.b2 * v[i] + k.c2 * g[i] * g[i];
        p[i] -= k.step * m[i] / (sqrtf(v[i]) / k.bc2_sqrt + k.eps);
        q[i] = q[i] * keep + p[i] * take;
    }
}

void nn_adam_step(nn_net *net, double lr)
{
    adam_pass(net, lr, NULL, 0.0);
}

static void assert_same_shape(const nn_net *a, const nn_net *b)
{
    assert(a->n_layers == b->n_layers && a->n_params == b->n_params);
    for (unsigned l = 0; l < a->n_layers; l++)
        assert(a->shape[l].in == b->shape[l].in && a->shape[l].out == b->shape[l].out);
    (void)a;
    (void)b;
}

void nn_copy(nn_net *dst, const nn_net *src)
{
    assert_same_shape(dst, src);
    memcpy(dst->p, src->p, src->n_params * sizeof(float));
}

void nn_soft_update(nn_net *dst, const nn_net *src, double tau)
{
    assert_same_shape(dst, src);
    float keep = (float)(1.0 - tau), take = (float)tau;
    for (size_t i = 0; i < dst->n_params; i++)
        dst->p[i] = dst->p[i] * keep + src->p[i] * take;
}

void nn_adam_soft_step(nn_net *net, double lr, nn_net *target, double tau)
{
    assert(target != net);
    assert_same_shape(target, net);
    adam_pass(net, lr, target, tau);
}

/* ---- checkpoints ---- */

static int put(FILE *f, const void *p, size_t size, size_t n, err *e, const char *what)
{
    if (n && fwrite(p, size, n, f) != n)
        return err_set(e, ERR_IO, "nn checkpoint: writing %s failed (%zu items of %zu bytes)", what,
                       n, size);
    return 0;
}

static int get(FILE *f, void *p, size_t size, size_t n, err *e, const char *what)
{
    if (n && fread(p, size, n, f) != n)
        return err_set(e, ERR_IO,
                       "nn checkpoint: short read of %s (expected %zu items of %zu "
                       "bytes; file truncated or not a checkpoint)",
                       what, n, size);
    return 0;
}

int nn_save(const nn_net *net, FILE *f, err *e)
{
    uint32_t head[3] = {NN_FILE_MAGIC, NN_FILE_VERSION, net->n_layers};
    ERR_TRY(put(f, head, sizeof head[0], 3, e, "header"));
    for (unsigned l = 0; l < net->n_layers; l++) {
        uint32_t dims[2] = {net->shape[l].in, net->shape[l].out};
        ERR_TRY(put(f, dims, sizeof dims[0], 2, e, "layer shape"));
    }
    ERR_TRY(put(f, &net->steps, sizeof net->steps, 1, e, "Adam step count"));
    ERR_TRY(put(f, net->p, sizeof(float), net->n_params, e, "parameters"));
    ERR_TRY(put(f, net->m, sizeof(float), net->n_params, e, "Adam first moments"));
    ERR_TRY(put(f, net->v, sizeof(float), net->n_params, e, "Adam second moments"));
    return 0;
}

static int load_shapes(FILE *f, err *e, unsigned *n_layers, nn_shape **shapes)
{
    uint32_t head[3];
    ERR_TRY(get(f, head, sizeof head[0], 3, e, "header"));
    if (head[0] != NN_FILE_MAGIC)
        return err_set(e, ERR_INPUT, "nn checkpoint: magic 0x%08x found, expected 0x%08x",
                       (unsigned)head[0], (unsigned)NN_FILE_MAGIC);
    if (head[1] != NN_FILE_VERSION)
        return err_set(e, ERR_INPUT, "nn checkpoint: format version %u found, expected %u",
                       (unsigned)head[1], (unsigned)NN_FILE_VERSION);
    if (head[2] < 1 || head[2] > NN_MAX_LAYERS)
        return err_set(e, ERR_LIMIT, "nn checkpoint: %u layers found, expected 1..%u",
                       (unsigned)head[2], NN_MAX_LAYERS);
    *n_layers = head[2];
    *shapes = mem_calloc(head[2], sizeof **shapes, "nn layer shapes");
    size_t n = 0;
    for (unsigned l = 0; l < head[2]; l++) {
        uint32_t dims[2];
        ERR_TRY(get(f, dims, sizeof dims[0], 2, e, "layer shape"));
        if (dims[0] < 1 || dims[0] > NN_MAX_WIDTH || dims[1] < 1 || dims[1] > NN_MAX_WIDTH)
            return err_set(e, ERR_LIMIT,
                           "nn checkpoint: layer %u is %u x %u, expected widths "
                           "1..%u",
                           l, (unsigned)dims[0], (unsigned)dims[1], NN_MAX_WIDTH);
        n += ((size_t)dims[0] + 1) * dims[1];
        if (n > NN_MAX_PARAMS)
            return err_set(e, ERR_LIMIT, "nn checkpoint: more than %zu parameters", NN_MAX_PARAMS);
        (*shapes)[l] = (nn_shape){.in = dims[0], .out = dims[1]};
    }
    return 0;
}

nn_net *nn_load(FILE *f, err *e)
{
    unsigned n_layers = 0;
    nn_shape *shapes = NULL;
    if (load_shapes(f, e, &n_layers, &shapes) < 0) {
        free(shapes);
        return NULL;
    }
    nn_net *net = nn_create(n_layers, shapes);
    free(shapes);
    if (get(f, &net->steps, sizeof net->steps, 1, e, "Adam step count") < 0 ||
        get(f, net->p, sizeof(float), net->n_params, e, "parameters") < 0 ||
        get(f, net->m, sizeof(float), net->n_params, e, "Adam first moments") < 0 ||
        get(f, net->v, sizeof(float), net->n_params, e, "Adam second moments") < 0) {
        nn_destroy(net);
        return NULL;
    }
    return net;
}
