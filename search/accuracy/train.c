/* train: Adam over mini-batches of a shuffled training set. The moments live here for the length
 * of one train_run; each step is a forward, the loss, a backward and one fixed-order update loop.
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
    if (c->batch < 1 || !(c->lr > 0.0 && isfinite(c->lr)))
        return err_set(e, ERR_INPUT,
                       "training: found batch %zu, lr %g, expected batch >= 1 and "
                       "lr > 0",
                       c->batch, c->lr);
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
    for (unsigned ep = 0; ep < c->epochs; ep++) {
        double t0 = wallclock_s(), loss = 0.0;
        size_t correct = 0, steps = 0;
        gsl_ran_shuffle(rng, order, tr->n, sizeof *order);
        fnet_set_training(f, true); /* batch norm on batch statistics */
        for (size_t s = 0; s < tr->n; s += B) {
            size_t nb = tr->n - s < B ? tr->n - s : B;
            for (size_t b = 0; b < nb; b++) {
                memcpy(xb + b * in, tr->x + order[s + b] * in, in * sizeof *xb);
                yb[b] = tr->y[order[s + b]];
            }
            fnet_forward(f, xb, nb);
            for (size_t b = 0; b < nb; b++)
                correct += fnet_argmax(f, b) == yb[b];
            loss += fnet_loss(f, yb, nb);
            fnet_zero_grad(f);
            fnet_backward(f);
            adam_step(&a, f, c->lr);
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
    free(xb);
    free(yb);
    free(order);
    free(a.m);
    free(a.v);
    return 0;
}
