/* cmd_train: the `xbarsim train` command -- trains the float model of a small network (MLP,
 * LeNet-5) on Fashion-MNIST, optionally fine-tunes it with fake quantisation under a policy (QAT),
 * evaluates it in float and, with a policy, through the integer and the crossbar arithmetic, and
 * writes the weights file (traces/README.md, "Weights files"). Exit status: 0 done, 1 failed while
 * working (the output cannot be written), 2 bad input or usage.
 */
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <omp.h>

#include "accuracy.h"
#include "cli.h"
#include "jsonw.h"
#include "mem.h"
#include "opt.h"
#include "search.h"

#define MAX_SETS 16

/* What the run measured, for --json (accuracies as fractions; NaN: not measured). */
typedef struct tresult {
    size_t params, train_images, test_images; /* count */
    double float_acc, integer_acc, crossbar_acc;
    unsigned long long clipped; /* conversions, count */
    double device_mean, device_std, device_min;
} tresult;

typedef struct topts {
    const char *net, *data, *out, *weights, *policy, *arch, *logits;
    const char *sets[MAX_SETS];
    unsigned n_sets;
    int adc_mode; /* xbarfunc_adc_mode; -1: saturate */
    int schedule; /* train_schedule of the float training */
    int flip;     /* 1: mirror training images at random (augmentation) */
    long long epochs, batch, seed, threads, train_images, test_images, finetune_epochs, adc_bits,
        logits_images, device_samples, shift;
    double lr, finetune_lr;
    bool json;
    FILE *log;    /* the text output: stdout, or stderr under --json */
    tresult *res; /* what was measured */
} topts;

OPT_NAMES(adc_mode_names, xbarfunc_adc_mode, XBARFUNC_ADC_MODE_COUNT, xbarfunc_adc_mode_name)
OPT_NAMES(schedule_names, train_schedule, TRAIN_LR_COUNT, train_schedule_name)

static const char *flip_names(unsigned i)
{
    static const char *const names[] = {"off", "on"};
    return i < 2 ? names[i] : NULL;
}

static const opt_spec train_table[] = {
    OPT_STR("--net", "NAME|FILE", topts, net,
            "network (a built-in name from configs/net/ or a file)", .required = true),
    OPT_INT("--epochs", "E", topts, epochs, 0, 100000,
            "float training epochs (default 20; 0: none, e.g. to evaluate\n"
            "--weights)"),
    OPT_INT("--batch", "B", topts, batch, 1, 1 << 20, "images per step (default 64)"),
    OPT_REAL("--lr", "LR", topts, lr, 1e-12, 10.0,
             "Adam's step size, the peak of the schedule (default 0.001)"),
    OPT_ENUM("--lr-schedule", schedule_names, topts, schedule,
             "cosine (default: lr x (1 + cos(pi t / T)) / 2 at step t of T,\n"
             "down to 0 at the end; Loshchilov and Hutter, ICLR 2017) or\n"
             "constant"),
    OPT_INT("--shift", "P", topts, shift, 0, TRAIN_MAX_SHIFT,
            "augmentation: shift each training image by up to P pixels\n"
            "each way, zeros filling in (a random crop of the image padded\n"
            "by P; default 2, 0: none)"),
    OPT_ENUM("--flip", flip_names, topts, flip,
             "augmentation: mirror each training image left-right with\n"
             "probability 1/2 (on, the default, or off)"),
    OPT_INT("--seed", "S", topts, seed, 0, LLONG_MAX,
            "initial weights and shuffling (default 1); same seed, data and\n"
            "--threads: same weights, bit for bit"),
    OPT_STR("--data", "DIR", topts, data,
            "Fashion-MNIST IDX files (default " DATASET_DEFAULT_DIR ")"),
    OPT_INT("--train-images", "N", topts, train_images, 1, LLONG_MAX,
            "train on the first N training images (default all 60000)"),
    OPT_INT("--test-images", "N", topts, test_images, 1, LLONG_MAX,
            "test on the first N test images (default all 10000)"),
    OPT_INT("--threads", "T", topts, threads, 1, 256,
            "OpenMP and OpenBLAS threads (default 1: small GEMMs run faster\n"
            "on one thread than on busy cores)"),
    OPT_STR("--weights", "IN.h5", topts, weights,
            "start from these weights (a weights file of the same network)"),
    OPT_STR("-o", "OUT.h5", topts, out, "write the weights (required when anything is trained)"),
    OPT_STR("--policy", "P", topts, policy,
            "uniform:B, uniform:W,A, a .csv or libconfig policy file"),
    OPT_STR("--arch", "ARCH", topts, arch,
            "architecture file or preset name for the crossbar (default lrmp)"),
    OPT_LIST("--set", "PATH=VALUE", topts, sets, n_sets,
             "override an architecture setting, e.g. arch.tiles.rows_active=9\n"
             "(VALUE may be a libconfig group, array or list, as for run)"),
    OPT_INT("--adc-bits", "B", topts, adc_bits, 1, ARCH_MAX_ADC_BITS,
            "every layer's ADC bits (default: the policy's, else the arch's)"),
    OPT_ENUM("--adc-mode", adc_mode_names, topts, adc_mode,
             "saturate (default, Huang et al.), drop_lsb or ideal"),
    OPT_INT("--finetune-epochs", "E", topts, finetune_epochs, 0, 100000,
            "QAT epochs with fake quantisation under the policy (default 0)"),
    OPT_REAL("--finetune-lr", "LR", topts, finetune_lr, 1e-12, 10.0,
             "Adam's step size of the fine-tuning (default 0.0001)"),
    OPT_INT("--device-samples", "K", topts, device_samples, 0, 100000,
            "also measure K sampled chips (device seeds S x 1000003 + 1..K\n"
            "from --seed S) and print their mean, standard deviation and\n"
            "minimum crossbar test accuracy (default 0)"),
    OPT_STR("--logits", "FILE.csv", topts, logits,
            "write the float logits of the first --logits-images N test\n"
            "images as CSV (image,class,logit)"),
    OPT_INT("--logits-images", "N", topts, logits_images, 1, 100000,
            "test images whose logits --logits writes (default 8)"),
    OPT_FLAG("--json", topts, json,
             "the final summary as one JSON object on stdout (accuracies as\n"
             "fractions); the per-epoch lines go to stderr"),
};

static const opt_command train_command = {
    .name = "train",
    .about =
        "Train the float model of a small network (mlp-fmnist, lenet5, resnet8-fmnist,\n"
        "mobilenet-fmnist, or a FILE.cfg of conv2d (grouped, batch-normalised), linear, relu,\n"
        "relu6, pool, flatten and add layers) on Fashion-MNIST: softmax cross-entropy, Adam\n"
        "with a cosine-annealed step size, mini-batches reshuffled each epoch, each training\n"
        "image shifted up to 2 pixels and mirrored at random (QAT fine-tuning: constant step,\n"
        "no augmentation); prints per epoch the loss, the training accuracy (on the batches\n"
        "as trained) and the test accuracy, and writes the weights.\n"
        "With --policy, the network is also quantised (weights symmetric per tensor, inputs\n"
        "unsigned after relu, scales calibrated on the first 1000 training images; model in\n"
        "search/accuracy/quant.h) and its test accuracy measured through the exact integer\n"
        "GEMM and the bit-accurate crossbar of ARCH (cells, DAC steps, rows_active, per-layer\n"
        "ADC bits); batch norm is folded into the weights first. Device non-idealities come\n"
        "from the arch.tiles.device group (components/device.h), e.g.\n"
        "--set arch.tiles.device.variation_sigma=0.05.\n",
    .opts = train_table,
    .n_opts = OPT_COUNT(train_table),
};

/* The checks across options: 0, or -1 after the message. */
static int check_args(const topts *o)
{
    if ((o->epochs > 0 || o->finetune_epochs > 0) && !o->out) {
        fprintf(stderr, "xbarsim train: -o OUT.h5: expected the weights file to write (the run "
                        "trains)\n");
        return -1;
    }
    if (o->device_samples > 0 && !o->policy) {
        fprintf(stderr, "xbarsim train: --device-samples: expected --policy P for the chips\n");
        return -1;
    }
    if (o->finetune_epochs > 0 && !o->policy) {
        fprintf(stderr, "xbarsim train: --finetune-epochs: expected --policy P to fine-tune to\n");
        return -1;
    }
    return 0;
}

/* The epoch lines' context: what is trained, where the lines go. */
typedef struct epoch_ctx {
    const char *what;
    FILE *log;
} epoch_ctx;

static void print_epoch(const train_epoch *ep, void *vctx)
{
    const epoch_ctx *c = vctx;
    const char *what = c->what;
    fprintf(c->log, "%s epoch %u: loss %.4f nats, train %.2f %%, test %.2f %%, %.1f s\n", what,
            ep->epoch + 1, ep->loss, 100.0 * ep->train_acc, 100.0 * ep->test_acc, ep->seconds);
    fflush(c->log);
}

/* K chips of a's device effects, seeds S x 1000003 + 1..K: crossbar test accuracy of each, then
 * mean, standard deviation (sample, K - 1) and minimum. */
static int device_samples(fnet *f, const topts *o, const dataset *tr, const dataset *te,
                          const policy *p, const arch *a, xbarfunc_adc_mode mode, err *e)
{
    const network *n = fnet_network(f);
    float *clip = mem_calloc(n->n_xbar, sizeof *clip, "calibration");
    quant_calibrate(f, tr->x, tr->n < QUANT_CALIB_IMAGES ? tr->n : QUANT_CALIB_IMAGES, clip);
    arch chip = *a; /* shallow: only the device seed changes; a keeps what it owns */
    double sum = 0.0, sum2 = 0.0, lo = 1.0;
    int rc = 0;
    for (long long k = 1; rc == 0 && k <= o->device_samples; k++) {
        chip.tiles.device.seed = device_chip_seed((uint64_t)o->seed, (uint64_t)k);
        quant_net q;
        double t0 = wallclock_s();
        rc = quant_build(f, p, &chip, mode, clip, QUANT_CROSSBAR, &q, e);
        if (rc < 0)
            break;
        double acc = quant_accuracy(&q, te->x, te->y, te->n);
        fprintf(o->log,
                "  chip %lld (device seed %llu): crossbar test accuracy = %.2f %% (%.2f s)\n", k,
                (unsigned long long)chip.tiles.device.seed, 100.0 * acc, wallclock_s() - t0);
        fflush(o->log);
        sum += acc, sum2 += acc * acc;
        lo = acc < lo ? acc : lo;
        quant_fini(&q);
    }
    free(clip);
    ERR_TRY(rc);
    double K = (double)o->device_samples, mean = sum / K;
    double var = K > 1.0 ? (sum2 - K * mean * mean) / (K - 1.0) : 0.0;
    o->res->device_mean = mean;
    o->res->device_std = sqrt(var > 0.0 ? var : 0.0);
    o->res->device_min = lo;
    fprintf(o->log, "device samples = %lld: mean %.2f %%, std %.2f %%, min %.2f %%\n",
            o->device_samples, 100.0 * mean, 100.0 * sqrt(var > 0.0 ? var : 0.0), 100.0 * lo);
    return 0;
}

/* The quantised evaluations: float (as trained), integer, crossbar. */
static int evaluate_policy(fnet *f, const topts *o, const dataset *tr, const dataset *te,
                           const policy *p, const arch *a, xbarfunc_adc_mode mode, err *e)
{
    const network *n = fnet_network(f);
    float *clip = mem_calloc(n->n_xbar, sizeof *clip, "calibration");
    quant_calibrate(f, tr->x, tr->n < QUANT_CALIB_IMAGES ? tr->n : QUANT_CALIB_IMAGES, clip);
    quant_net qi, qx;
    int rc = quant_build(f, p, a, mode, clip, QUANT_INTEGER, &qi, e);
    if (rc == 0) {
        rc = quant_build(f, p, a, mode, clip, QUANT_CROSSBAR, &qx, e);
        if (rc < 0)
            quant_fini(&qi);
    }
    free(clip);
    ERR_TRY(rc);
    double t0 = wallclock_s();
    double ai = quant_accuracy(&qi, te->x, te->y, te->n);
    double t1 = wallclock_s();
    double ax = quant_accuracy(&qx, te->x, te->y, te->n);
    double t2 = wallclock_s();
    fprintf(o->log, "policy %s on %s (rows_active %u, dac %u bits, cell %u bits, %s), ADC %s:\n",
            o->policy, a->name, a->tiles.rows_active, a->tiles.dac.bits, a->tiles.cell_bits,
            arch_mapping_name(a->tiles.mapping), xbarfunc_adc_mode_name(mode));
    fprintf(o->log, "  %-10s %4s %4s %4s %8s\n", "layer", "wb", "ab", "adc", "needed");
    for (unsigned k = 0; k < qx.n; k++) {
        xbarfunc_params xp;
        xbarfunc_params_from_arch(a, qx.l[k].adc, mode, &xp);
        fprintf(o->log, "  %-10s %4u %4u %4u %8u\n", n->layers[n->xbar[k]].name, qx.l[k].wb,
                qx.l[k].ab, qx.l[k].adc, xbarfunc_adc_bits_needed(&xp));
    }
    o->res->integer_acc = ai;
    o->res->crossbar_acc = ax;
    o->res->clipped = (unsigned long long)qx.clipped;
    fprintf(o->log, "integer test accuracy = %.2f %% (%zu images, %.2f s)\n", 100.0 * ai, te->n,
            t1 - t0);
    char dev[512];
    device_describe(&a->tiles.device, dev, sizeof dev);
    fprintf(o->log, "device: %s\n", dev);
    fprintf(o->log,
            "crossbar test accuracy = %.2f %% (%zu images, %.2f s), clipped conversions %llu\n",
            100.0 * ax, te->n, t2 - t1, (unsigned long long)qx.clipped);
    quant_fini(&qi);
    quant_fini(&qx);
    if (o->device_samples > 0)
        return device_samples(f, o, tr, te, p, a, mode, e);
    return 0;
}

static int finetune(fnet *f, const topts *o, const dataset *tr, const dataset *te, const policy *p,
                    err *e)
{
    const network *n = fnet_network(f);
    float *clip = mem_calloc(n->n_xbar, sizeof *clip, "calibration");
    quant_calibrate(f, tr->x, tr->n < QUANT_CALIB_IMAGES ? tr->n : QUANT_CALIB_IMAGES, clip);
    quant_net q;
    int rc = quant_build(f, p, NULL, XBARFUNC_ADC_IDEAL, clip, QUANT_INTEGER, &q, e);
    free(clip);
    ERR_TRY(rc);
    fnet_fq *fq = mem_calloc(n->n_xbar, sizeof *fq, "fake quantisation");
    quant_fake(&q, fq);
    quant_fini(&q);
    fnet_set_fake_quant(f, fq);
    free(fq);
    train_config c = {.epochs = (unsigned)o->finetune_epochs,
                      .batch = (size_t)o->batch,
                      .lr = o->finetune_lr,
                      .seed = (uint64_t)o->seed + 1};
    epoch_ctx ec = {"qat", o->log};
    rc = train_run(f, tr, te, &c, print_epoch, &ec, e);
    fnet_set_fake_quant(f, NULL);
    return rc;
}

/* The float logits of the first m test images, for cli_write_file. */
typedef struct logits {
    fnet *f;
    size_t m;
} logits;

static void write_logits_csv(FILE *out, const void *ctx)
{
    const logits *l = ctx;
    size_t k_n = fnet_out_size(l->f);
    fprintf(out, "image,class,logit\n");
    for (size_t b = 0; b < l->m; b++)
        for (size_t k = 0; k < k_n; k++)
            fprintf(out, "%zu,%zu,%.9g\n", b, k, (double)fnet_output(l->f)[b * k_n + k]);
}

static int write_logits(fnet *f, const topts *o, const dataset *te)
{
    logits l = {f, (size_t)o->logits_images < te->n ? (size_t)o->logits_images : te->n};
    fnet_forward(f, te->x, l.m);
    err e;
    if (cli_write_file(o->logits, write_logits_csv, &l, &e) < 0) {
        fprintf(stderr, "xbarsim train: --logits: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int write_weights(fnet *f, const topts *o, const char *cmdline, const char *start,
                         size_t train_images, double test_acc, err *e)
{
    h5file *h;
    ERR_TRY(h5file_create(o->out, &h, e));
    char cfg[768];
    snprintf(cfg, sizeof cfg,
             "train.network = \"%s\"\ntrain.epochs = %lld\ntrain.batch = %lld\ntrain.lr = %g\n"
             "train.lr_schedule = \"%s\"\ntrain.shift = %lld\ntrain.flip = %s\n"
             "train.policy = \"%s\"\ntrain.finetune_epochs = %lld\n",
             fnet_network(f)->origin, o->epochs, o->batch, o->lr,
             train_schedule_name((train_schedule)o->schedule), o->shift,
             o->flip == 1 ? "true" : "false", o->policy ? o->policy : "", o->finetune_epochs);
    weights_meta m = {.source = "xbarsim train",
                      .test_accuracy = test_acc,
                      .epochs = (unsigned)o->epochs,
                      .finetune_epochs = (unsigned)o->finetune_epochs,
                      .policy = o->policy ? o->policy : "",
                      .batch = (uint64_t)o->batch,
                      .lr = o->lr,
                      .seed = (uint64_t)o->seed,
                      .train_images = train_images};
    int rc = cli_meta_write(h, cmdline, cfg, (uint64_t)o->seed, start, e);
    if (rc == 0)
        rc = weights_write(h, f, &m, e);
    if (rc < 0) {
        h5file_abort(h);
        return rc;
    }
    return h5file_commit(h, e);
}

/* Everything after the options: returns the exit status. */
static int train_main(const topts *o, const char *cmdline)
{
    err e;
    err_clear(&e);
    char start[CLI_TIME_BYTES];
    cli_utc_time(start, sizeof start);
    network n;
    if (cli_load_net(o->net, NULL, &n, &e) < 0) {
        fprintf(stderr, "xbarsim train: --net: %s\n", e.msg);
        return 2;
    }
    int status = 2;
    fnet *f = NULL;
    dataset tr = {0}, te = {0};
    arch a;
    bool have_arch = false;
    policy p = {0};
    xbarfunc_adc_mode mode =
        o->adc_mode >= 0 ? (xbarfunc_adc_mode)o->adc_mode : XBARFUNC_ADC_SATURATE;
    if (fnet_create(&n, (uint64_t)o->seed, &f, &e) < 0 ||
        (o->weights && weights_read(f, o->weights, NULL, &e) < 0)) {
        fprintf(stderr, "xbarsim train: %s%s\n", o->weights && f ? "--weights: " : "", e.msg);
        goto done;
    }
    if (o->policy) {
        if (cli_load_arch(o->arch ? o->arch : "lrmp", NULL, o->sets, o->n_sets, &a, &e) < 0) {
            fprintf(stderr, "xbarsim train: --arch: %s\n", e.msg);
            goto done;
        }
        have_arch = true;
        if (policy_from_spec(o->policy, &n, &a, NULL, &p, &e) < 0) {
            fprintf(stderr, "xbarsim train: --policy: %s\n", e.msg);
            goto done;
        }
        for (unsigned k = 0; o->adc_bits > 0 && k < p.n; k++)
            p.layers[k].adc_bits = (unsigned)o->adc_bits;
    }
    bool need_train = o->epochs > 0 || o->policy;
    if ((need_train &&
         dataset_load_fmnist(o->data, DATASET_TRAIN, (size_t)o->train_images, &tr, &e) < 0) ||
        dataset_load_fmnist(o->data, DATASET_TEST, (size_t)o->test_images, &te, &e) < 0 ||
        (need_train && train_check_data(f, &tr, "training set", &e) < 0) ||
        train_check_data(f, &te, "test set", &e) < 0) {
        fprintf(stderr, "xbarsim train: --data: %s\n", e.msg);
        goto done;
    }
    /* More images than the files hold is refused, not silently cut to what is there. */
    if ((need_train && o->train_images > 0 && (size_t)o->train_images > tr.n) ||
        (o->test_images > 0 && (size_t)o->test_images > te.n)) {
        bool train = need_train && o->train_images > 0 && (size_t)o->train_images > tr.n;
        fprintf(stderr,
                "xbarsim train: %s: found %lld, expected at most %zu (the %s set holds "
                "%zu images)\n",
                train ? "--train-images" : "--test-images",
                train ? o->train_images : o->test_images, train ? tr.n : te.n,
                train ? "training" : "test", train ? tr.n : te.n);
        goto done;
    }
    fprintf(o->log, "# %s: %u crossbar layers, %zu parameters; %zu training, %zu test images\n",
            n.name, n.n_xbar, fnet_param_count(f), tr.n, te.n);
    train_config c = {.epochs = (unsigned)o->epochs,
                      .batch = (size_t)o->batch,
                      .lr = o->lr,
                      .schedule = (train_schedule)o->schedule,
                      .shift = (unsigned)o->shift,
                      .flip = o->flip == 1,
                      .seed = (uint64_t)o->seed};
    status = 1;
    epoch_ctx ec = {"float", o->log};
    int trc = train_run(f, &tr, &te, &c, print_epoch, &ec, &e);
    if (trc == 0 && o->policy)
        fnet_fold_batch_norm(f); /* the crossbar holds folded weights; QAT trains them */
    if (trc < 0 || (o->finetune_epochs > 0 && finetune(f, o, &tr, &te, &p, &e) < 0)) {
        fprintf(stderr, "xbarsim train: %s\n", e.msg);
        status = 2;
        goto done;
    }
    double t1 = wallclock_s();
    double acc = train_accuracy(f, te.x, te.y, te.n);
    *o->res = (tresult){.params = fnet_param_count(f),
                        .train_images = tr.n,
                        .test_images = te.n,
                        .float_acc = acc,
                        .integer_acc = NAN,
                        .crossbar_acc = NAN};
    fprintf(o->log, "float test accuracy = %.2f %% (%zu images, %.2f s)\n", 100.0 * acc, te.n,
            wallclock_s() - t1);
    if (o->policy && evaluate_policy(f, o, &tr, &te, &p, &a, mode, &e) < 0) {
        fprintf(stderr, "xbarsim train: --policy: %s\n", e.msg);
        status = 2;
        goto done;
    }
    if (o->logits && write_logits(f, o, &te) < 0)
        goto done;
    if (o->out) {
        if (write_weights(f, o, cmdline, start, tr.n, acc, &e) < 0) {
            fprintf(stderr, "xbarsim train: -o: %s\n", e.msg);
            goto done;
        }
        fprintf(o->log, "wrote %s\n", o->out);
    }
    status = 0;
done:
    policy_fini(&p);
    if (have_arch)
        arch_fini(&a);
    dataset_fini(&tr);
    dataset_fini(&te);
    fnet_destroy(f);
    network_fini(&n);
    return status;
}

static void print_json(const topts *o)
{
    const tresult *r = o->res;
    jsonw w;
    jsonw_begin(&w, stdout);
    jsonw_object(&w, NULL);
    jsonw_str(&w, "network", o->net);
    jsonw_u64(&w, "parameters", r->params);
    jsonw_u64(&w, "train_images", r->train_images);
    jsonw_u64(&w, "test_images", r->test_images);
    jsonw_num(&w, "float_test_accuracy", r->float_acc);
    if (o->policy) {
        jsonw_str(&w, "policy", o->policy);
        jsonw_num(&w, "integer_test_accuracy", r->integer_acc);
        jsonw_num(&w, "crossbar_test_accuracy", r->crossbar_acc);
        jsonw_u64(&w, "clipped_conversions", r->clipped);
    }
    if (o->device_samples > 0) {
        jsonw_object(&w, "device_samples");
        jsonw_i64(&w, "chips", o->device_samples);
        jsonw_num(&w, "mean", r->device_mean);
        jsonw_num(&w, "std", r->device_std);
        jsonw_num(&w, "min", r->device_min);
        jsonw_close(&w);
    }
    if (o->out)
        jsonw_str(&w, "output", o->out);
    jsonw_close(&w);
    jsonw_end(&w);
}

int cmd_train(int argc, char **argv)
{
    tresult res = {.float_acc = NAN, .integer_acc = NAN, .crossbar_acc = NAN};
    topts o = {.epochs = 20,
               .batch = 64,
               .seed = 1,
               .lr = 1e-3,
               .finetune_lr = 1e-4,
               .logits_images = 8,
               .threads = 1,
               .adc_mode = -1,
               .schedule = TRAIN_LR_COSINE,
               .shift = 2,
               .flip = 1,
               .res = &res};
    int rc = opt_parse_arg(&train_command, argc, argv, &o, NULL);
    if (rc != OPT_GO)
        return rc;
    if (check_args(&o) < 0)
        return 2;
    o.log = o.json ? stderr : stdout;
    omp_set_num_threads((int)o.threads);
    nn_blas_set_threads((int)o.threads);
    char *cmdline = cli_command_line(argc, argv);
    int status = train_main(&o, cmdline);
    free(cmdline);
    if (status == 0 && o.json)
        print_json(&o);
    return status;
}
