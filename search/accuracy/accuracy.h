/* accuracy: the accuracy backends of the precision search -- given a network, a policy and an arch,
 * say how accurate the quantised network is -- and the interface of the search/accuracy room: it
 * also brings the functional model's modules (dataset, fnet, train, weights, quant). Backends sit
 * behind one ops table, one file each: `proxy` (a deterministic quantisation-noise estimate, model
 * below; acc_proxy.c), `external` (a user command given the policy in files; acc_external.c) and
 * `functional` (bit-accurate crossbar inference of the quantised network on Fashion-MNIST images
 * held out from training; acc_functional.c, model in quant.h).
 * Invariant: an evaluation either fills the whole acc_result or returns a negative status with e
 * set; the proxy is a pure function of (network, policy, arch, config) and always says estimate;
 * the functional backend is a pure function of (weights, data, policy, arch, config, seed) and
 * never says estimate.
 *
 * THE PROXY MODEL (all noise powers are relative: noise power / signal power, dimensionless)
 *
 * Per crossbar layer l (policy index i) with weight bits wb, activation bits ab and ADC bits adc
 * (policy_adc_bits: the layer's own or the arch default):
 *
 *   eta_l = eta_w(wb) + eta_a(ab) + eta_adc(adc)
 *
 * since y = sum w x with w, x perturbed by independent zero-mean errors has relative error power
 * eta_w + eta_a (to first order), and the ADC clipping error is added to the column sums.
 *
 * Weights: Gaussian N(0, s^2) (assumption: trained weights are bell-shaped; a weight-statistics
 * hook, acc_proxy_config.weights, is reserved for measured shapes). Symmetric uniform quantiser
 * with 2^b levels from -alpha s to alpha s (step D = 2 alpha s / (2^b - 1)), alpha =
 * acc_proxy_clip(ACC_DIST_GAUSS, b). Per unit s^2, the clipping + granular decomposition of
 * Banner, Nahshan and Soudry ("Post training 4-bit quantization of convolutional networks for
 * rapid deployment", NeurIPS 2019), with the granular term weighted by the in-range probability:
 *
 *   mse_gauss(b, alpha) = (1 - 2 Q(alpha)) D^2 / 12 + 2 [(1 + alpha^2) Q(alpha) - alpha phi(alpha)]
 *   eta_w(b) = mse_gauss(b, alpha_b)                               (signal power 1)
 *
 * with phi the standard normal density and Q its upper tail. Activations: if the layer's input is
 * non-negative (it comes from relu/relu6/softmax, through pools, flattens, slices or adds of such
 * layers) it is x = max(0, z), z ~ N(0, s^2) (half-Gaussian), quantised unsigned to the levels
 * k D, k = 0 .. 2^b - 1, D = alpha s / (2^b - 1), zero exact, alpha = acc_proxy_clip(RELU, b):
 *
 *   mse_relu(b, alpha) = (1/2 - Q(alpha)) D^2 / 12 + [(1 + alpha^2) Q(alpha) - alpha phi(alpha)]
 *   eta_a(b) = mse_relu(b, alpha_b) / (1/2)                        (signal power E x^2 = s^2/2)
 *
 * otherwise (the network input, layernorm, gelu, ... outputs) it is Gaussian: eta_a = eta_w(ab).
 * The clip tables are the MSE-optimal alpha of these two formulas, derived here by golden-section
 * minimisation (rounded to 4 decimals; test_accuracy checks each entry is a minimum):
 *
 *   bits            1      2      3      4      5      6      7      8   ...   16
 *   Gaussian     0.8287 1.4983 2.0513 2.5140 2.9161 3.2780 3.6111 3.9222 ... 5.9382
 *   half-Gauss.  1.2354 1.9528 2.4738 2.8987 3.2701 3.6075 3.9205 4.2147 ... 6.1509
 *
 * The formula is within 3 % of a numerically integrated real quantiser at 1-2 bits (D^2/12 is
 * coarse there: 1-bit Gaussian 0.354 against 0.364) and within 0.2 % from 3 bits (tested).
 *
 * ADC: one conversion reads a column sum s of n = min(arch.tiles.rows_active, layer rows) rows,
 * each row a cell level c (uniform on 0..2^cell_bits - 1; assumption: the bit slices of Gaussian
 * weights are near uniform) times an input digit d of dac_bits (zero with probability 1/2 for a
 * non-negative input -- the ReLU zeros -- else uniform on 0..2^dac_bits - 1; conservative for the
 * high-order digits). By the central limit theorem s ~ N(mu, v), mu = n E[c] E[d],
 * v = n (E[c^2] E[d^2] - E[c]^2 E[d]^2). An ADC of adc bits reads 0..C, C = 2^adc - 1, and clips
 * larger sums (Huang et al.'s functional model, REFERENCE 4), so, relative to the sum's variance
 * (the offset or differential mapping removes its mean),
 *
 *   eta_adc = 0                                    if C >= n (2^cell_bits - 1)(2^dac_bits - 1)
 *           = (1 + z^2) Q(z) - z phi(z),  z = (C - mu) / sqrt(v)   otherwise.
 *
 * This is 0 whenever adc >= arch_adc_bits_needed(a), and depends on neither wb nor ab. The normal
 * approximation is crude in the far tail when few rows are summed (it only matters when the ADC
 * is short, and then the clipped mass is what it gets right to first order).
 *
 * Network: every layer's noise reaches the output with unit gain (sensitivity 1 for every layer:
 * normalised layers pass relative noise on unchanged and independent errors add), so
 *
 *   S = sum_l eta_l,      accuracy = reference - drop_max (1 - exp(-S / s0)),   clamped to [0, 1].
 *
 * Deeper networks therefore lose more at equal bits. Every eta term is strictly decreasing in its
 * bits (the optimal MSE falls when a bit is added), so lowering any wb, ab or adc never raises the
 * accuracy. Defaults (a zero acc_proxy_config): reference = the torchvision ImageNet top-1 of the
 * network when its name is in ACC_PROXY_REFERENCE_MAP (resnet18 0.69758), else 1.0 (the accuracy
 * is then relative to full precision, and the note says so); drop_max = reference (accuracy falls
 * towards 0 as S grows); s0 = ACC_PROXY_S0 = 8, chosen so that ResNet-18 loses about 3 points at
 * uniform 4/4. Resulting ResNet-18 (21 crossbar layers) top-1 on configs/arch/lrmp.cfg:
 *
 *   uniform 8/8  S = 0.00243  0.6974 (-0.02 points)     uniform 3/3  S = 1.080  0.6095 (-8.8)
 *   uniform 6/6  S = 0.0291   0.6951 (-0.25)            uniform 2/2  S = 3.529  0.4488 (-24.9)
 *   uniform 4/4  S = 0.328    0.6696 (-2.80)
 *   8/8, adc 3 (one bit short of the 4 needed)  S = 0.00244  0.6974 (-0.02)
 *   8/8, adc 2                                  S = 0.342    0.6684 (-2.92)
 *
 * (one ADC bit short costs almost nothing on lrmp: 9 sparse one-bit products rarely sum past 7.)
 * At 8/8 every built-in network is within 0.12 points of its reference (vit_b32, 74 layers, the
 * most). The proxy ranks policies; it does not replace a measured accuracy: every result it gives
 * has estimate = true.
 */
#ifndef XBARSIM_SEARCH_ACCURACY_H
#define XBARSIM_SEARCH_ACCURACY_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "dataset.h"
#include "err.h"
#include "fnet.h"
#include "network.h"
#include "policy.h"
#include "quant.h"
#include "train.h"
#include "weights.h"

#define ACC_NOTE_BYTES 256

/* Backends: X(ID, stem, config name), the registry. Each is its own file acc_<stem>.c with the
 * factory acc_<stem>_create(&acc_config.<stem>, ...); accuracy.c makes the table from this list. */
#define ACC_BACKEND_MAP(X)                                                                         \
    X(PROXY, proxy, "proxy")                /* quantisation-noise estimate */                      \
    X(EXTERNAL, external, "external")       /* a user command given the policy */                  \
    X(FUNCTIONAL, functional, "functional") /* bit-accurate crossbar inference of held-out data */

typedef enum acc_kind {
#define ACC_KIND_ENUM(id, stem, name) ACC_BACKEND_##id,
    ACC_BACKEND_MAP(ACC_KIND_ENUM)
#undef ACC_KIND_ENUM
        ACC_BACKEND_COUNT
} acc_kind;

/* The proxy's reference accuracies by network name: X(name, top-1 fraction) -- torchvision's
 * published ImageNet-1K acc@1 of the IMAGENET1K_V1 weights. */
#define ACC_PROXY_REFERENCE_MAP(X)                                                                 \
    X("resnet18", 0.69758)                                                                         \
    X("resnet34", 0.73314)                                                                         \
    X("resnet50", 0.76130)                                                                         \
    X("vgg11", 0.69020)                                                                            \
    X("vgg16", 0.71592)                                                                            \
    X("mobilenet_v2", 0.71878)                                                                     \
    X("vit_b32", 0.75912)

#define ACC_PROXY_GENERIC_REFERENCE 1.0 /* other networks: relative accuracy, fraction */
#define ACC_PROXY_S0                8.0 /* default noise scale s0, dimensionless */

typedef struct acc_backend acc_backend;

/* One evaluation. */
typedef struct acc_result {
    double accuracy;           /* fraction 0..1 */
    double reference;          /* full-precision / 8-bit accuracy compared against, fraction */
    bool estimate;             /* true for the proxy: whatever shows accuracy must say "estimate" */
    double seconds;            /* wall time of the evaluation, s */
    char note[ACC_NOTE_BYTES]; /* short remark: model figures, the command's stderr tail */
    uint64_t reused;           /* layer products served from the functional cache, count */
    uint64_t computed;         /* layer products computed (functional; else 0), count */
} acc_result;

typedef struct acc_proxy_config {
    double reference;    /* fraction in (0, 1]; 0: by network name, else the generic default */
    double drop_max;     /* largest loss, fraction in [0, reference]; 0: the reference */
    double s0;           /* noise-to-signal scale of the loss, dimensionless > 0; 0: ACC_PROXY_S0 */
    const char *weights; /* reserved hook for measured weight statistics: must be NULL */
} acc_proxy_config;

typedef struct acc_external_config {
    const char *command; /* run as /bin/sh -c COMMAND; copied. {csv} {json} {result} {dir} are
                            replaced by the single-quoted paths of the files below */
    double timeout_s;    /* wall-time limit of one run, s; 0: none */
    const char *workdir; /* directory for the files (created if missing, kept); NULL: a fresh
                            $TMPDIR/xbarsim-acc-XXXXXX removed by acc_destroy */
    double reference;    /* fraction in (0, 1]; 0: the command must give "reference" */
} acc_external_config;

#define ACC_FUNCTIONAL_HOLDOUT     5000 /* default hold-out images, count */
#define ACC_FUNCTIONAL_FINETUNE_LR 1e-4 /* default Adam step of the fine-tuning */
#define ACC_FUNCTIONAL_BATCH       64   /* images per fine-tuning step, count */

/* The functional backend: the policy's quantised network (quant.h) run through the crossbar
 * arithmetic of the arch given to acc_evaluate (its ADC bits per layer: policy_adc_bits) on the
 * last `holdout` images of the Fashion-MNIST training set -- never the test set; train the weights
 * with `xbarsim train --train-images 60000-holdout` so that the hold-out is unseen. With
 * finetune_epochs > 0 every evaluation first fine-tunes a copy of the weights with fake
 * quantisation (QAT) on the first finetune_images training images (never the hold-out), shuffled
 * by the stream (seed, 1): HAQ's one-epoch fine-tune per episode. The reference is the float
 * network's accuracy on the same hold-out. With device_samples K > 0 every policy is measured on
 * K chips (device seeds device_chip_seed(seed, 1..K)) and the accuracy is their mean or the
 * device_quantile. Without fine-tuning, the products of layers whose bits did not change since
 * the previous evaluation are reused (qcache.h, one cache per chip): the same bits as computing. */
typedef struct acc_functional_config {
    const network *net;       /* the network searched (borrowed; must outlive the backend) */
    const char *weights;      /* weights file of net (traces/README.md "Weights files"); copied */
    const char *data;         /* Fashion-MNIST directory; NULL: DATASET_DEFAULT_DIR */
    unsigned holdout;         /* evaluation images, count; 0: ACC_FUNCTIONAL_HOLDOUT */
    unsigned finetune_epochs; /* QAT epochs per evaluation, count (0: none) */
    unsigned finetune_images; /* QAT images, count; 0: every training image before the hold-out */
    double finetune_lr;       /* Adam step, 0: ACC_FUNCTIONAL_FINETUNE_LR */
    const char *adc_mode;     /* "saturate" (NULL: default), "drop_lsb" or "ideal" */
    uint64_t seed;            /* fine-tuning shuffles; chip seeds device_chip_seed(seed, 1..K) */
    unsigned device_samples;  /* K chips sampled from the arch's device effects, count; 0: the
                                 one chip of the arch's own device seed */
    bool device_by_quantile;  /* with K chips, the accuracy is their device_quantile (else the
                                 default: their mean) */
    double device_quantile;   /* 0: the worst chip, 1: the best; GSL's linear interpolation
                                 between sorted accuracies, fraction 0..1 */
} acc_functional_config;

/* Everything a backend may be created from; each factory reads its own member. */
typedef struct acc_config {
    acc_proxy_config proxy;
    acc_external_config external;
    acc_functional_config functional;
} acc_config;

/* Create the backend of kind k from c (c is read, not kept; strings are copied). Returns 0 with
 * *out owned by the caller (acc_destroy), or ERR_INPUT naming the bad setting (`proxy.s0`,
 * `external.command`, `functional.weights`, ...; a missing or corrupt weights or data file), or
 * ERR_IO when the external work directory cannot be made or a file cannot be opened. *out
 * untouched on error. The functional backend reads the weights and the data once, here. */
int acc_create(acc_kind k, const acc_config *c, acc_backend **out, err *e);
int acc_proxy_create(const acc_proxy_config *c, acc_backend **out, err *e);
int acc_external_create(const acc_external_config *c, acc_backend **out, err *e);
int acc_functional_create(const acc_functional_config *c, acc_backend **out, err *e);
/* Release b and what it owns (the external backend's own temporary directory). b may be NULL. */
void acc_destroy(acc_backend *b);

/* Evaluate policy p of network n on arch a (none kept). Returns 0 with *out filled, or a negative
 * status with e set and *out undefined: ERR_INPUT for a policy that does not fit n (layer count,
 * bits out of range) or an external command that exits non-zero, is killed or prints no usable
 * accuracy (the message has the exit status and the tail of its stderr); ERR_LIMIT when it runs
 * past the timeout; ERR_IO when the policy files cannot be written or the command not started.
 * The caller decides whether a search goes on after a failure. */
int acc_evaluate(acc_backend *b, const network *n, const policy *p, const arch *a, acc_result *out,
                 err *e);
acc_kind acc_backend_kind(const acc_backend *b);
/* The backend's config name ("proxy", ...); static storage. */
const char *acc_backend_name(const acc_backend *b);

/* Registry look-ups: parse returns 0, or -1 for an unknown name. */
const char *acc_kind_name(acc_kind k);
int acc_kind_parse(const char *name, acc_kind *out);
/* Every backend's name, "proxy, external or functional", for "expected ..." messages. */
err_names acc_kind_names(void);

/* ---- The proxy's formulas, exposed so tests can check them against closed forms. ---- */

/* Value distributions of the model. */
typedef enum acc_dist {
    ACC_DIST_GAUSS, /* N(0, 1), symmetric quantiser with 2^b bins */
    ACC_DIST_RELU   /* max(0, N(0, 1)), unsigned quantiser with levels 0 .. 2^b - 1 */
} acc_dist;

/* Quantisation MSE of distribution d at b bits (1..POLICY_MAX_BITS, asserted) with clip alpha
 * (> 0, in units of the underlying Gaussian's standard deviation), per unit variance. */
double acc_proxy_mse(acc_dist d, unsigned bits, double alpha);
/* The MSE-optimal clip of the table, units of standard deviation. */
double acc_proxy_clip(acc_dist d, unsigned bits);
/* Relative noise power eta at b bits and the table's clip: mse / signal power (1, or 1/2). */
double acc_proxy_nsr(acc_dist d, unsigned bits);
/* ADC clipping noise eta_adc of one column sum of `rows` rows (>= 1), cell_bits and dac_bits
 * (1..8) per row, inputs non-negative or not, at adc_bits (>= 1). */
double acc_proxy_adc_nsr(unsigned rows, unsigned cell_bits, unsigned dac_bits, bool nonneg_input,
                         unsigned adc_bits);

/* One crossbar layer's share of the noise (all relative powers, dimensionless). */
typedef struct acc_layer_noise {
    double weight;     /* eta_w */
    double act;        /* eta_a */
    double adc;        /* eta_adc */
    double total;      /* eta_l = the sum */
    bool nonneg_input; /* the input was modelled half-Gaussian */
} acc_layer_noise;

/* The model's total noise S for policy p of network n on arch a, and (if layers is not NULL) each
 * crossbar layer's terms into layers[0 .. n->n_xbar - 1]. p must fit n (p->n == n->n_xbar, bits
 * in range: asserted; acc_evaluate checks and reports instead). */
double acc_proxy_noise(const network *n, const policy *p, const arch *a, acc_layer_noise *layers);
/* The accuracy b (a proxy) gives for noise S on network n; *reference (if not NULL) gets the
 * reference used. */
double acc_proxy_accuracy(const acc_backend *b, const network *n, double S, double *reference);

#endif
