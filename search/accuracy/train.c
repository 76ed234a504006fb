/* train: Adam over mini-batches of a shuffled, optionally augmented training set. The moments live
 * here for the length of one train_run; each step is a forward, the loss, a backward and one
 * fixed-order update loop at the schedule's step size. Augmentation draws from its own stream, so
 * turning it on leaves the shuffling order unchanged.
 */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "mem.h"
#include "rng.h"
#include "wallclock.h"

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS   1e-8
#define TRAIN_PI   3.14159265358979323846 /* pi (M_PI is not C11) */

int train_check_data(const fnet *f, const dataset *ds, const char *what, err *e)
{
    if (dataset_image_size(ds) != fnet_in_size(f))
        return err_set(e, ERR_INPUT,
                       "%s: found images of %u x %u = %zu pixels, expected %zu (the input of "
                       "network %s)",
                       what, ds->rows, ds->cols, dataset_image_size(ds), fnet_in_size(f),
                       fnet_network(f)->name);
    for (size_t i = 0; i < ds->n; i++)
        if (ds->y[i] >= fnet_out_size(f))
            return err_set(e, ERR_INPUT, "%s: image %zu: found label %u, expected 0..%zu", what, i,
                           ds->y[i], fnet_out_size(f) - 1);
    return 0;
}

double train_accuracy(fnet *f, const float *x, const uint8_t *y, size_t n)
{
    size_t correct = 0, in = fnet_in_size(f);
    for (size_t s = 0; s < n; s += TRAIN_EVAL_CHUNK) {
        size_t B = n - s < TRAIN_EVAL_CHUNK ? n - s : TRAIN_EVAL_CHUNK;
        fnet_forward(f, x + s * in, B);
        for (size_t b = 0; b < B; b++)
            correct += fnet_argmax(f, b) == y[s + b];
    }
    return n ? (double)correct / (double)n : 0.0;
}

static const char *const schedule_names[TRAIN_LR_COUNT] = {"constant", "cosine"};

const char *train_schedule_name(train_schedule s)
{
    return (unsigned)s < TRAIN_LR_COUNT ? schedule_names[s] : NULL;
}

double train_lr_at(const train_config *c, uint64_t step, uint64_t steps)
{
    if (c->schedule == TRAIN_LR_CONSTANT || steps == 0)
        return c->lr;
    return c->lr * 0.5 * (1.0 + cos(TRAIN_PI * (double)step / (double)steps));
}

void train_augment_image(float *dst, const float *src, size_t planes, unsigned rows, unsigned cols,
                         int dx, int dy, bool flip)
{
    for (size_t p = 0; p < planes; p++)
        for (int r = 0; r < (int)rows; r++)
            for (int q = 0; q < (int)cols; q++) {
                int sr = r - dy, sq = q - dx;
                float v = 0.0f;
                if (sr >= 0 && sr < (int)rows && sq >= 0 && sq < (int)cols)
                    v = src[(p * rows + (size_t)sr) * cols +
                            (size_t)(flip ? (int)cols - 1 - sq : sq)];
                dst[(p * rows + (size_t)r) * cols + (size_t)q] = v;
            }
}

/* Fill dst with training image i, augmented as c asks (draws from rng). */
static void load_image(float *dst, const dataset *tr, size_t i, size_t in, const train_config *c,
                       gsl_rng *rng)
{
    const float *src = tr->x + i * in;
    if (c->shift == 0 && !c->flip) {
        memcpy(dst, src, in * sizeof *dst);
        return;
    }
    int span = 2 * (int)c->shift + 1;
    int dx = (int)gsl_rng_uniform_int(rng, (unsigned long)span) - (int)c->shift;
    int dy = (int)gsl_rng_uniform_int(rng, (unsigned long)span) - (int)c->shift;
    bool flip = c->flip && gsl_rng_uniform_int(rng, 2) == 1;
    train_augment_image(dst, src, in / ((size_t)tr->rows * tr->cols), tr->rows, tr->cols, dx, dy,
                        flip);
}

typedef struct adam {
    double *m, *v; /* first and second moments, per parameter */
    uint64_t t;    /* steps taken, count */
} adam;

static void adam_step(adam *a, fnet *f, double lr)
{
    float *p = fnet_params(f);
    const float *g = fnet_grads(f);
    size_t np = fnet_param_count(f);
    a->t++;
    double c1 = 1.0 - pow(ADAM_BETA1, (double)a->t), c2 = 1.0 - pow(ADAM_BETA2, (double)a->t);
    for (size_t i = 0; i < np; i++) {
        a->m[i] = ADAM_BETA1 * a->m[i] + (1.0 - ADAM_BETA1) * g[i];
        a->v[i] = ADAM_BETA2 * a->v[i] + (1.0 - ADAM_BETA2) * (double)g[i] * g[i];
        p[i] -= (float)(lr * (a->m[i] / c1) / (sqrt(a->v[i] / c2) + ADAM_EPS));
    }
}

int train_run(fnet *f, const dataset *tr, const dataset *te, const train_config *c,
              train_epoch_fn cb, void *ctx, err *e)
{
    if (c->batch < 1 || !(c->lr > 0.0 && isfinite(c->lr)) || c->shift > TRAIN_MAX_SHIFT ||
        !train_schedule_name(c->schedule))
        return err_set(e, ERR_INPUT,
                       "training: found batch %zu, lr %g, shift %u, schedule %d, expected batch "
                       ">= 1, lr > 0, shift 0..%d and a schedule below %d",
                       c->batch, c->lr, c->shift, (int)c->schedule, TRAIN_MAX_SHIFT,
                       TRAIN_LR_COUNT);
    if (c->epochs == 0)
        return 0; /* nothing read */
    ERR_TRY(train_check_data(f, tr, "training set", e));
    if (te)
        ERR_TRY(train_check_data(f, te, "test set", e));
    if (tr->n == 0)
        return 0;
    size_t np = fnet_param_count(f), in = fnet_in_size(f);
    adam a = {.m = mem_calloc(np ? np : 1, sizeof(double), "adam moments"),
              .v = mem_calloc(np ? np : 1, sizeof(double), "adam moments")};
    size_t *order = mem_alloc(tr->n * sizeof *order, "training order");
    for (size_t i = 0; i < tr->n; i++)
        order[i] = i;
    size_t B = c->batch < tr->n ? c->batch : tr->n;
    float *xb = mem_alloc(B * in * sizeof *xb, "training batch");
    uint8_t *yb = mem_alloc(B, "training labels");
    gsl_rng *rng = rng_stream_create(NULL, c->seed, 1);
    gsl_rng *aug = rng_stream_create(NULL, c->seed, 2);
    uint64_t steps_total = (uint64_t)c->epochs * ((tr->n + B - 1) / B), step = 0;
    for (unsigned ep = 0; ep < c->epochs; ep++) {
        double t0 = wallclock_s(), loss = 0.0;
        size_t correct = 0, steps = 0;
        gsl_ran_shuffle(rng, order, tr->n, sizeof *order);
        fnet_set_training(f, true); /* batch norm on batch statistics */
        for (size_t s = 0; s < tr->n; s += B) {
            size_t nb = tr->n - s < B ? tr->n - s : B;
            for (size_t b = 0; b < nb; b++) {
                load_image(xb + b * in, tr, order[s + b], in, c, aug);
                yb[b] = tr->y[order[s + b]];
            }
            fnet_forward(f, xb, nb);
            for (size_t b = 0; b < nb; b++)
                correct += fnet_argmax(f, b) == yb[b];
            loss += fnet_loss(f, yb, nb);
            fnet_zero_grad(f);
            fnet_backward(f);
            adam_step(&a, f, train_lr_at(c, step++, steps_total));
            steps++;
        }
        fnet_set_training(f, false);
        train_epoch r = {.epoch = ep,
                         .loss = loss / (double)steps,
                         .train_acc = (double)correct / (double)tr->n,
                         .test_acc = te ? train_accuracy(f, te->x, te->y, te->n) : -1.0};
        r.seconds = wallclock_s() - t0;
        if (cb)
            cb(&r, ctx);
    }
    gsl_rng_free(rng);
    gsl_rng_free(aug);
    free(xb);
    free(yb);
    free(order);
    free(a.m);
    free(a.v);
    return 0;
}
