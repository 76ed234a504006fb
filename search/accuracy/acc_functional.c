/* acc_functional: the `functional` accuracy backend (accuracy.h) -- each policy's quantised
 * network (quant.h) through the bit-accurate crossbar (xbarfunc) on images held out from the end
 * of the training set, optionally after a seeded QAT fine-tune of a copy of the weights.
 * Invariant: the weights, the data and the float reference are read once at creation and never
 * change; an evaluation works on its own copy, so evaluations are independent and repeatable.
 */
#include <math.h>
#include <stdio.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <stdlib.h>
#include <string.h>

#include "accuracy_internal.h"
#include "dataset.h"
#include "device.h"
#include "fnet.h"
#include "mem.h"
#include "qcache.h"
#include "quant.h"
#include "train.h"
#include "weights.h"
#include "wallclock.h"

typedef struct functional {
    acc_backend base;
    const network *net;
    fnet *f;          /* the weights as read */
    dataset tr;       /* the whole training set */
    size_t n_fit;     /* images before the hold-out, count */
    size_t holdout;   /* images from n_fit on, count */
    float *clip;      /* calibration of f, per crossbar layer */
    double reference; /* float accuracy of f on the hold-out, fraction */
    unsigned ft_epochs;
    size_t ft_images; /* count */
    double ft_lr;
    uint64_t seed;
    xbarfunc_adc_mode mode;
    unsigned chips;        /* device samples, count; 0: the arch's own chip */
    double quantile;       /* statistic over chips: < 0 mean, else this quantile */
    qcache **cache;        /* per chip (1 when chips is 0): the last evaluation's products; entries
                              NULL with QAT (the weights change) */
    double *accs;          /* scratch: accuracy per chip, fraction */
    quant_scratch scratch; /* the integer products' buffers, kept across evaluations */
} functional;

static size_t calib_count(const functional *x)
{
    return x->n_fit < QUANT_CALIB_IMAGES ? x->n_fit : QUANT_CALIB_IMAGES;
}

/* A fine-tuned copy of x->f under p, with its calibration into clip. */
static int finetuned(const functional *x, const policy *p, fnet **out, float *clip, err *e)
{
    fnet *g = fnet_clone(x->f);
    quant_net q;
    int rc = quant_build(g, p, NULL, XBARFUNC_ADC_IDEAL, x->clip, QUANT_INTEGER, &q, e);
    if (rc < 0) {
        fnet_destroy(g);
        return rc;
    }
    fnet_fq *fq = mem_calloc(q.n ? q.n : 1, sizeof *fq, "fake quantisation");
    quant_fake(&q, fq);
    quant_fini(&q);
    fnet_set_fake_quant(g, fq);
    free(fq);
    dataset part = x->tr;
    part.n = x->ft_images;
    train_config c = {
        .epochs = x->ft_epochs, .batch = ACC_FUNCTIONAL_BATCH, .lr = x->ft_lr, .seed = x->seed};
    rc = train_run(g, &part, NULL, &c, NULL, NULL, e);
    fnet_set_fake_quant(g, NULL);
    if (rc < 0) {
        fnet_destroy(g);
        return rc;
    }
    quant_calibrate(g, x->tr.x, calib_count(x), clip);
    *out = g;
    return 0;
}

/* Reuse counts summed over the chips' caches. */
static void counts(const functional *x, uint64_t *hits, uint64_t *misses)
{
    *hits = *misses = 0;
    for (unsigned k = 0; k < (x->chips ? x->chips : 1); k++) {
        uint64_t h, m;
        qcache_counts(x->cache[k], &h, &m);
        *hits += h;
        *misses += m;
    }
}

/* The hold-out accuracy of g under p on chip a through cache c (NULL: none); adds the clipped
 * conversions to *clipped. */
static int measure(functional *x, fnet *g, const float *clip, const policy *p, const arch *a,
                   qcache *c, double *acc, uint64_t *clipped, err *e)
{
    quant_net q;
    ERR_TRY(quant_build(g, p, a, x->mode, clip, QUANT_CROSSBAR, &q, e));
    quant_use_scratch(&q, &x->scratch);
    xbarfunc_params xp; /* the chip: arch and device sample, ADC mode */
    xbarfunc_params_from_arch(a, 0, x->mode, &xp);
    quant_use_cache(&q, c, xbarfunc_params_digest(&xp));
    size_t in = fnet_in_size(g);
    *acc = quant_accuracy(&q, x->tr.x + x->n_fit * in, x->tr.y + x->n_fit, x->holdout);
    *clipped += q.clipped;
    quant_fini(&q);
    return 0;
}

static int functional_evaluate(acc_backend *b, const network *n, const policy *p, const arch *a,
                               acc_result *out, err *e)
{
    functional *x = (functional *)b;
    double t0 = wallclock_s();
    ERR_TRY(acc__check_policy(n, p, a, e));
    if (n != x->net && strcmp(n->name, x->net->name) != 0)
        return err_set(e, ERR_INPUT,
                       "functional accuracy: found network \"%s\", expected \"%s\" (the network "
                       "of the weights)",
                       n->name, x->net->name);
    fnet *g = x->f;
    float *clip = x->clip;
    if (x->ft_epochs > 0) {
        clip = mem_calloc(n->n_xbar, sizeof *clip, "calibration");
        int rc = finetuned(x, p, &g, clip, e);
        if (rc < 0) {
            free(clip);
            return rc;
        }
    }
    uint64_t h0, m0, h1, m1, clipped = 0;
    unsigned K = x->chips ? x->chips : 1;
    counts(x, &h0, &m0);
    int rc = 0;
    for (unsigned k = 0; rc == 0 && k < K; k++) {
        arch chip = *a; /* shallow: only the device seed changes; a keeps what it owns */
        if (x->chips)
            chip.tiles.device.seed = device_chip_seed(x->seed, k + 1);
        rc = measure(x, g, clip, p, &chip, x->cache[k], &x->accs[k], &clipped, e);
    }
    if (rc == 0) {
        counts(x, &h1, &m1);
        double acc = x->accs[0];
        if (x->chips && x->quantile < 0.0)
            acc = gsl_stats_mean(x->accs, 1, K);
        else if (x->chips) {
            gsl_sort(x->accs, 1, K);
            acc = gsl_stats_quantile_from_sorted_data(x->accs, 1, K, x->quantile);
        }
        *out = (acc_result){.accuracy = acc,
                            .reference = x->reference,
                            .estimate = false,
                            .reused = h1 - h0,
                            .computed = m1 - m0};
        snprintf(out->note, sizeof out->note,
                 "functional: %zu hold-out images, ADC %s, %llu clipped conversions, QAT %u "
                 "epoch(s)",
                 x->holdout, xbarfunc_adc_mode_name(x->mode), (unsigned long long)clipped,
                 x->ft_epochs);
        if (x->chips) {
            size_t len = strlen(out->note);
            snprintf(out->note + len, sizeof out->note - len, ", %u chips' %s", K,
                     x->quantile < 0.0 ? "mean" : "quantile");
        }
    }
    if (g != x->f) {
        fnet_destroy(g);
        free(clip);
    }
    out->seconds = wallclock_s() - t0;
    return rc;
}

static void functional_destroy(acc_backend *b)
{
    functional *x = (functional *)b;
    fnet_destroy(x->f);
    for (unsigned k = 0; x->cache && k < (x->chips ? x->chips : 1); k++)
        qcache_destroy(x->cache[k]);
    free(x->cache);
    free(x->accs);
    quant_scratch_fini(&x->scratch);
    dataset_fini(&x->tr);
    free(x->clip);
    free(x);
}

static const acc_ops functional_ops = {
    .kind = ACC_BACKEND_FUNCTIONAL,
    .evaluate = functional_evaluate,
    .destroy = functional_destroy,
};

static int check_config(const acc_functional_config *c, xbarfunc_adc_mode *mode, err *e)
{
    if (!c->net)
        return err_set(e, ERR_INPUT, "functional.net: found none, expected the network searched");
    if (!c->weights || !*c->weights)
        return err_set(e, ERR_INPUT,
                       "functional.weights (--weights): found nothing, expected the weights file "
                       "of %s (xbarsim train -o FILE.h5)",
                       c->net->name);
    if (!(c->finetune_lr >= 0.0 && isfinite(c->finetune_lr)))
        return err_set(e, ERR_INPUT, "functional.finetune_lr: found %g, expected >= 0",
                       c->finetune_lr);
    if (c->device_by_quantile &&
        (!(c->device_quantile >= 0.0 && c->device_quantile <= 1.0) || c->device_samples == 0))
        return err_set(e, ERR_INPUT,
                       "functional.device_quantile (--device-quantile): found %g with %u device "
                       "samples, expected a fraction in 0..1 with device samples >= 1",
                       c->device_quantile, c->device_samples);
    *mode = XBARFUNC_ADC_SATURATE;
    if (c->adc_mode && xbarfunc_adc_mode_parse(c->adc_mode, mode) < 0)
        return err_set(e, ERR_INPUT,
                       "functional.adc_mode (--adc-mode): found '%s', expected saturate, "
                       "drop_lsb or ideal",
                       c->adc_mode);
    return 0;
}

/* Split tr into the fitting part and the hold-out, checking the sizes asked for. */
static int split(functional *x, const acc_functional_config *c, err *e)
{
    size_t h = c->holdout ? c->holdout : ACC_FUNCTIONAL_HOLDOUT;
    if (h >= x->tr.n)
        return err_set(e, ERR_INPUT,
                       "functional.holdout (--holdout): found %zu, expected fewer than the %zu "
                       "training images",
                       h, x->tr.n);
    x->holdout = h;
    x->n_fit = x->tr.n - h;
    x->ft_images = c->finetune_images ? c->finetune_images : x->n_fit;
    if (x->ft_images > x->n_fit)
        return err_set(e, ERR_INPUT,
                       "functional.finetune_images (--finetune-images): found %zu, expected at "
                       "most %zu (the training images before the hold-out)",
                       x->ft_images, x->n_fit);
    return 0;
}

int acc_functional_create(const acc_functional_config *c, acc_backend **out, err *e)
{
    xbarfunc_adc_mode mode;
    ERR_TRY(check_config(c, &mode, e));
    functional *x = mem_calloc(1, sizeof *x, "functional accuracy");
    x->base.ops = &functional_ops;
    x->net = c->net;
    x->mode = mode;
    x->ft_epochs = c->finetune_epochs;
    x->ft_lr = c->finetune_lr > 0.0 ? c->finetune_lr : ACC_FUNCTIONAL_FINETUNE_LR;
    x->seed = c->seed;
    x->chips = c->device_samples;
    x->quantile = c->device_by_quantile ? c->device_quantile : -1.0;
    int rc = fnet_create(c->net, 0, &x->f, e);
    if (rc == 0 && (rc = weights_read(x->f, c->weights, NULL, e)) < 0)
        err_prefix(e, "functional.weights (--weights)");
    if (rc == 0)
        fnet_fold_batch_norm(x->f); /* the crossbar holds the folded weights */
    if (rc == 0 && (rc = dataset_load_fmnist(c->data, DATASET_TRAIN, 0, &x->tr, e)) < 0)
        err_prefix(e, "functional.data (--data)");
    if (rc == 0 && (rc = train_check_data(x->f, &x->tr, "functional.data: training set", e)) == 0)
        rc = split(x, c, e);
    if (rc < 0) {
        functional_destroy(&x->base);
        return rc;
    }
    unsigned K = x->chips ? x->chips : 1;
    x->cache = mem_calloc(K, sizeof *x->cache, "product caches");
    x->accs = mem_calloc(K, sizeof *x->accs, "accuracy per chip");
    for (unsigned k = 0; x->ft_epochs == 0 && k < K; k++)
        x->cache[k] = qcache_create(c->net);
    x->clip = mem_calloc(c->net->n_xbar ? c->net->n_xbar : 1, sizeof *x->clip, "calibration");
    quant_calibrate(x->f, x->tr.x, calib_count(x), x->clip);
    size_t in = fnet_in_size(x->f);
    x->reference = train_accuracy(x->f, x->tr.x + x->n_fit * in, x->tr.y + x->n_fit, x->holdout);
    *out = &x->base;
    return 0;
}
