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
#include <time.h>

#include <libconfig.h>
#include <omp.h>

#include "accuracy.h"
#include "cfgfile.h"
#include "cli.h"
#include "mem.h"
#include "search.h"

#define MAX_SETS 16

typedef struct topts {
    const char *net, *data, *out, *weights, *policy, *arch, *adc_mode, *logits;
    const char *sets[MAX_SETS];
    unsigned n_sets;
    long long epochs, batch, seed, threads, train_images, test_images, finetune_epochs, adc_bits,
        logits_images, device_samples;
    double lr, finetune_lr;
} topts;

static void usage(void)
{
    printf(
        "usage: xbarsim train --net NAME|FILE [--epochs E] [--batch B] [--lr LR] [--seed S]\n"
        "                     [--data DIR] [--threads T] [--weights IN.h5] [-o OUT.h5]\n"
        "                     [--policy P [--arch ARCH] [--set PATH=VALUE]... [--adc-bits B]\n"
        "                      [--adc-mode M] [--finetune-epochs E] [--device-samples K]]\n\n"
        "Train the float model of a small network (mlp-fmnist, lenet5, resnet8-fmnist,\n"
        "mobilenet-fmnist, or a FILE.cfg of conv2d (grouped, batch-normalised), linear, relu,\n"
        "relu6, pool, flatten and add layers) on Fashion-MNIST: softmax cross-entropy, Adam,\n"
        "mini-batches reshuffled each epoch; prints per epoch the loss, the training accuracy\n"
        "(on the batches as trained) and the test accuracy, and writes the weights.\n"
        "With --policy, the network is also quantised (weights symmetric per tensor, inputs\n"
        "unsigned after relu, scales calibrated on the first 1000 training images; model in\n"
        "search/accuracy/quant.h) and its test accuracy measured through the exact integer\n"
        "GEMM and the bit-accurate crossbar of ARCH (cells, DAC steps, rows_active, per-layer\n"
        "ADC bits); batch norm is folded into the weights first. Device non-idealities come\n"
        "from the arch.tiles.device group (components/device.h), e.g.\n"
        "--set arch.tiles.device.variation_sigma=0.05.\n\n"
        "  --net NAME|FILE      network (a built-in name from configs/net/ or a file)\n"
        "  --epochs E           float training epochs (default 10; 0: none, e.g. to evaluate\n"
        "                       --weights)\n"
        "  --batch B            images per step (default 64)\n"
        "  --lr LR              Adam's step size (default 0.001)\n"
        "  --seed S             initial weights and shuffling (default 1); same seed, data and\n"
        "                       --threads: same weights, bit for bit\n"
        "  --data DIR           Fashion-MNIST IDX files (default " DATASET_DEFAULT_DIR ")\n"
        "  --train-images N     train on the first N training images (default all 60000)\n"
        "  --test-images N      test on the first N test images (default all 10000)\n"
        "  --threads T          OpenMP and OpenBLAS threads (default 1: small GEMMs run faster\n"
        "                       on one thread than on busy cores)\n"
        "  --weights IN.h5      start from these weights (a weights file of the same network)\n"
        "  -o OUT.h5            write the weights (required when anything is trained)\n"
        "  --policy P           uniform:B, uniform:W,A, a .csv or libconfig policy file\n"
        "  --arch ARCH          architecture file or preset name for the crossbar (default lrmp)\n"
        "  --set PATH=VALUE     override an architecture setting, e.g. arch.tiles.rows_active=9\n"
        "  --adc-bits B         every layer's ADC bits (default: the policy's, else the arch's)\n"
        "  --adc-mode M         saturate (default, Huang et al.), drop_lsb or ideal\n"
        "  --finetune-epochs E  QAT epochs with fake quantisation under the policy (default 0)\n"
        "  --finetune-lr LR     Adam's step size of the fine-tuning (default 0.0001)\n"
        "  --device-samples K   also measure K sampled chips (device seeds S x 1000003 + 1..K\n"
        "                       from --seed S) and print their mean, standard deviation and\n"
        "                       minimum crossbar test accuracy (default 0)\n"
        "  --logits FILE.csv    write the float logits of the first --logits-images N test\n"
        "                       images (default 8) as CSV (image,class,logit)\n");
}

static int parse_args(int argc, char **argv, topts *o)
{
    static const char *const repeatable[] = {"--set", NULL};
    if (cli_check_repeats("train", argc, argv, repeatable) < 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v || a[0] != '-') {
            fprintf(stderr, "xbarsim train: unexpected or incomplete argument '%s' (see --help)\n",
                    a);
            return -1;
        }
        i++;
        int rc = 0;
        if (strcmp(a, "--net") == 0)
            o->net = v;
        else if (strcmp(a, "--data") == 0)
            o->data = v;
        else if (strcmp(a, "-o") == 0)
            o->out = v;
        else if (strcmp(a, "--weights") == 0)
            o->weights = v;
        else if (strcmp(a, "--policy") == 0)
            o->policy = v;
        else if (strcmp(a, "--arch") == 0)
            o->arch = v;
        else if (strcmp(a, "--adc-mode") == 0)
            o->adc_mode = v;
        else if (strcmp(a, "--logits") == 0)
            o->logits = v;
        else if (strcmp(a, "--set") == 0) {
            if (o->n_sets == MAX_SETS) {
                fprintf(stderr, "xbarsim train: more than %d --set options\n", MAX_SETS);
                return -1;
            }
            o->sets[o->n_sets++] = v;
        } else if (strcmp(a, "--epochs") == 0)
            rc = cli_parse_ll("train", a, v, 0, 100000, &o->epochs);
        else if (strcmp(a, "--batch") == 0)
            rc = cli_parse_ll("train", a, v, 1, 1 << 20, &o->batch);
        else if (strcmp(a, "--seed") == 0)
            rc = cli_parse_ll("train", a, v, 0, LLONG_MAX, &o->seed);
        else if (strcmp(a, "--threads") == 0)
            rc = cli_parse_ll("train", a, v, 1, 256, &o->threads);
        else if (strcmp(a, "--train-images") == 0)
            rc = cli_parse_ll("train", a, v, 1, LLONG_MAX, &o->train_images);
        else if (strcmp(a, "--test-images") == 0)
            rc = cli_parse_ll("train", a, v, 1, LLONG_MAX, &o->test_images);
        else if (strcmp(a, "--device-samples") == 0)
            rc = cli_parse_ll("train", a, v, 0, 100000, &o->device_samples);
        else if (strcmp(a, "--finetune-epochs") == 0)
            rc = cli_parse_ll("train", a, v, 0, 100000, &o->finetune_epochs);
        else if (strcmp(a, "--adc-bits") == 0)
            rc = cli_parse_ll("train", a, v, 1, ARCH_MAX_ADC_BITS, &o->adc_bits);
        else if (strcmp(a, "--logits-images") == 0)
            rc = cli_parse_ll("train", a, v, 1, 100000, &o->logits_images);
        else if (strcmp(a, "--lr") == 0)
            rc = cli_parse_real("train", a, v, 1e-12, 10.0, &o->lr);
        else if (strcmp(a, "--finetune-lr") == 0)
            rc = cli_parse_real("train", a, v, 1e-12, 10.0, &o->finetune_lr);
        else {
            fprintf(stderr, "xbarsim train: unknown option '%s' (see --help)\n", a);
            return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (!o->net) {
        fprintf(stderr, "xbarsim train: expected --net NAME|FILE (see --help)\n");
        return -1;
    }
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

/* A network or arch argument: an existing file, else NAME in cli_data_dir()/configs/<kind>/. */
static const char *resolve(const char *arg, const char *kind, char *buf, size_t size)
{
    FILE *f = fopen(arg, "r");
    if (f) {
        fclose(f);
        return arg;
    }
    snprintf(buf, size, "%s/configs/%s/%s.cfg", cli_data_dir(), kind, arg);
    return buf;
}

static int load_arch(const topts *o, arch *a, err *e)
{
    char buf[1024];
    const char *path = resolve(o->arch ? o->arch : "lrmp", "arch", buf, sizeof buf);
    config_t cfg;
    ERR_TRY(cfgfile_parse_file(path, &cfg, e));
    config_setting_t *tiles = config_lookup(&cfg, "arch.tiles");
    if (tiles && !config_setting_get_member(tiles, "device")) /* so --set can name its keys */
        config_setting_add(tiles, "device", CONFIG_TYPE_GROUP);
    for (unsigned i = 0; i < o->n_sets; i++)
        if (cfgfile_override(&cfg, o->sets[i], e) < 0) {
            config_destroy(&cfg);
            return ERR_INPUT;
        }
    int rc = arch_load_config(&cfg, path, a, e);
    config_destroy(&cfg);
    return rc;
}

static void print_epoch(const train_epoch *ep, void *ctx)
{
    const char *what = ctx;
    printf("%s epoch %u: loss %.4f nats, train %.2f %%, test %.2f %%, %.1f s\n", what,
           ep->epoch + 1, ep->loss, 100.0 * ep->train_acc, 100.0 * ep->test_acc, ep->seconds);
    fflush(stdout);
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
        chip.tiles.device.seed = (uint64_t)o->seed * UINT64_C(1000003) + (uint64_t)k;
        quant_net q;
        double t0 = wallclock_s();
        rc = quant_build(f, p, &chip, mode, clip, QUANT_CROSSBAR, &q, e);
        if (rc < 0)
            break;
        double acc = quant_accuracy(&q, te->x, te->y, te->n);
        printf("  chip %lld (device seed %llu): crossbar test accuracy = %.2f %% (%.2f s)\n", k,
               (unsigned long long)chip.tiles.device.seed, 100.0 * acc, wallclock_s() - t0);
        fflush(stdout);
        sum += acc, sum2 += acc * acc;
        lo = acc < lo ? acc : lo;
        quant_fini(&q);
    }
    free(clip);
    ERR_TRY(rc);
    double K = (double)o->device_samples, mean = sum / K;
    double var = K > 1.0 ? (sum2 - K * mean * mean) / (K - 1.0) : 0.0;
    printf("device samples = %lld: mean %.2f %%, std %.2f %%, min %.2f %%\n", o->device_samples,
           100.0 * mean, 100.0 * sqrt(var > 0.0 ? var : 0.0), 100.0 * lo);
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
    printf("policy %s on %s (rows_active %u, dac %u bits, cell %u bits, %s), ADC %s:\n", o->policy,
           a->name, a->tiles.rows_active, a->tiles.dac.bits, a->tiles.cell_bits,
           arch_mapping_name(a->tiles.mapping), xbarfunc_adc_mode_name(mode));
    printf("  %-10s %4s %4s %4s %8s\n", "layer", "wb", "ab", "adc", "needed");
    for (unsigned k = 0; k < qx.n; k++) {
        xbarfunc_params xp;
        xbarfunc_params_from_arch(a, qx.l[k].adc, mode, &xp);
        printf("  %-10s %4u %4u %4u %8u\n", n->layers[n->xbar[k]].name, qx.l[k].wb, qx.l[k].ab,
               qx.l[k].adc, xbarfunc_adc_bits_needed(&xp));
    }
    printf("integer test accuracy = %.2f %% (%zu images, %.2f s)\n", 100.0 * ai, te->n, t1 - t0);
    char dev[512];
    device_describe(&a->tiles.device, dev, sizeof dev);
    printf("device: %s\n", dev);
    printf("crossbar test accuracy = %.2f %% (%zu images, %.2f s), clipped conversions %llu\n",
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
    rc = train_run(f, tr, te, &c, print_epoch, "qat", e);
    fnet_set_fake_quant(f, NULL);
    return rc;
}

static int write_logits(fnet *f, const topts *o, const dataset *te)
{
    size_t m = (size_t)o->logits_images < te->n ? (size_t)o->logits_images : te->n;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", o->logits);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "xbarsim train: --logits: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fnet_forward(f, te->x, m);
    fprintf(out, "image,class,logit\n");
    for (size_t b = 0; b < m; b++)
        for (size_t k = 0; k < fnet_out_size(f); k++)
            fprintf(out, "%zu,%zu,%.9g\n", b, k, (double)fnet_output(f)[b * fnet_out_size(f) + k]);
    int bad = ferror(out);
    if (fclose(out) != 0 || bad || rename(tmp, o->logits) != 0) {
        fprintf(stderr, "xbarsim train: --logits: cannot write %s: %s\n", o->logits,
                strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static int write_weights(fnet *f, const topts *o, const char *cmdline, const char *start,
                         size_t train_images, double test_acc, err *e)
{
    h5file *h;
    ERR_TRY(h5file_create(o->out, &h, e));
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "train.network = \"%s\"\ntrain.epochs = %lld\ntrain.batch = %lld\ntrain.lr = %g\n"
             "train.policy = \"%s\"\ntrain.finetune_epochs = %lld\n",
             fnet_network(f)->origin, o->epochs, o->batch, o->lr, o->policy ? o->policy : "",
             o->finetune_epochs);
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
    time_t t0 = time(NULL);
    char start[32];
    strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t0));
    char buf[1024];
    network n;
    if (net_load_file(resolve(o->net, "net", buf, sizeof buf), &n, &e) < 0) {
        fprintf(stderr, "xbarsim train: --net: %s\n", e.msg);
        return 2;
    }
    int status = 2;
    fnet *f = NULL;
    dataset tr = {0}, te = {0};
    arch a;
    bool have_arch = false;
    policy p = {0};
    xbarfunc_adc_mode mode = XBARFUNC_ADC_SATURATE;
    if (o->adc_mode && xbarfunc_adc_mode_parse(o->adc_mode, &mode) < 0) {
        fprintf(stderr,
                "xbarsim train: --adc-mode: found '%s', expected ideal, saturate or "
                "drop_lsb\n",
                o->adc_mode);
        goto done;
    }
    if (fnet_create(&n, (uint64_t)o->seed, &f, &e) < 0 ||
        (o->weights && weights_read(f, o->weights, NULL, &e) < 0)) {
        fprintf(stderr, "xbarsim train: %s%s\n", o->weights && f ? "--weights: " : "", e.msg);
        goto done;
    }
    if (o->policy) {
        if (load_arch(o, &a, &e) < 0) {
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
    printf("# %s: %u crossbar layers, %zu parameters; %zu training, %zu test images\n", n.name,
           n.n_xbar, fnet_param_count(f), tr.n, te.n);
    train_config c = {.epochs = (unsigned)o->epochs,
                      .batch = (size_t)o->batch,
                      .lr = o->lr,
                      .seed = (uint64_t)o->seed};
    status = 1;
    int trc = train_run(f, &tr, &te, &c, print_epoch, "float", &e);
    if (trc == 0 && o->policy)
        fnet_fold_batch_norm(f); /* the crossbar holds folded weights; QAT trains them */
    if (trc < 0 || (o->finetune_epochs > 0 && finetune(f, o, &tr, &te, &p, &e) < 0)) {
        fprintf(stderr, "xbarsim train: %s\n", e.msg);
        status = 2;
        goto done;
    }
    double t1 = wallclock_s();
    double acc = train_accuracy(f, te.x, te.y, te.n);
    printf("float test accuracy = %.2f %% (%zu images, %.2f s)\n", 100.0 * acc, te.n,
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
        printf("wrote %s\n", o->out);
    }
    status = 0;
done:
    policy_fini(&p);
    if (have_arch)
        arch_fini(&a);
    dataset_fini(&tr);
    dataset_fini(&te);
    fnet_destroy(f);
    net_fini(&n);
    return status;
}

int cmd_train(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
    topts o = {.epochs = 10,
               .batch = 64,
               .seed = 1,
               .lr = 1e-3,
               .finetune_lr = 1e-4,
               .logits_images = 8,
               .threads = 1};
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    omp_set_num_threads((int)o.threads);
    nn_blas_set_threads((int)o.threads);
    char *cmdline = cli_command_line(argc, argv);
    int status = train_main(&o, cmdline);
    free(cmdline);
    return status;
}
