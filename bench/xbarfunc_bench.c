/* xbarfunc_bench: time of the functional crossbar (components/xbarfunc.h) on the layers of an MLP
 * 784-256-128-10 at 8-bit weights and 8-bit unsigned inputs, for a batch of images (default
 * 10 000; random weights and inputs of the layers' shapes, seed fixed). Configurations: the
 * exact path (ideal ADC), LRMP's tile (1-bit cells, 1-bit DAC, 256 rows, unsigned mapping) with a
 * 3-bit saturating ADC at 9 rows active and a 4-bit one at all 256 rows active, PUMA's tile
 * (2-bit cells, 128 rows, offset mapping) with an 8-bit ADC, and a float (sgemm) pass of the same
 * shapes for the ratio. Prints the median (min, max) over --repeat runs
 * of the three layers together, MAC/s and ADC conversions/s. Target: <= 2 s on 2 cores.
 * Usage: xbarfunc_bench [--images N] [--repeat K]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <omp.h>

#include "xbarfunc.h"
#include "wallclock.h"

#define NLAYERS    3
#define MAX_REPEAT 51
#define NCONFIGS   4

static const size_t dims[NLAYERS + 1] = {784, 256, 128, 10}; /* MLP widths, neurons */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

typedef struct config {
    const char *label;
    xbarfunc_params p;
} config;

typedef struct data {
    size_t images;
    int32_t *w[NLAYERS], *x[NLAYERS]; /* weights (8-bit symmetric), inputs (8-bit unsigned) */
    float *wf[NLAYERS], *xf[NLAYERS]; /* the same as floats */
    int64_t *y[NLAYERS];
    float *yf[NLAYERS];
} data;

static void data_init(data *d, size_t images)
{
    uint64_t s = 2026;
    d->images = images;
    for (unsigned l = 0; l < NLAYERS; l++) {
        size_t R = dims[l], N = dims[l + 1];
        d->w[l] = malloc(R * N * sizeof *d->w[l]);
        d->wf[l] = malloc(R * N * sizeof *d->wf[l]);
        d->x[l] = malloc(images * R * sizeof *d->x[l]);
        d->xf[l] = malloc(images * R * sizeof *d->xf[l]);
        d->y[l] = malloc(images * N * sizeof *d->y[l]);
        d->yf[l] = malloc(images * N * sizeof *d->yf[l]);
        if (!d->w[l] || !d->wf[l] || !d->x[l] || !d->xf[l] || !d->y[l] || !d->yf[l]) {
            fprintf(stderr, "xbarfunc_bench: out of memory\n");
            exit(EXIT_FAILURE);
        }
        for (size_t i = 0; i < R * N; i++) {
            d->w[l][i] = (int32_t)(rng_next(&s) % 255) - 127;
            d->wf[l][i] = (float)d->w[l][i];
        }
        for (size_t i = 0; i < images * R; i++) {
            d->x[l][i] = (int32_t)(rng_next(&s) % 256);
            d->xf[l][i] = (float)d->x[l][i];
        }
    }
}

static void data_fini(data *d)
{
    for (unsigned l = 0; l < NLAYERS; l++) {
        free(d->w[l]);
        free(d->wf[l]);
        free(d->x[l]);
        free(d->xf[l]);
        free(d->y[l]);
        free(d->yf[l]);
    }
}

/* One pass of the three layers through the crossbar model; lossy conversions into *lossy. */
static double run_xbar(const data *d, xbarfunc_layer *const *L, uint64_t *lossy)
{
    double t0 = wallclock_s();
    *lossy = 0;
    for (unsigned l = 0; l < NLAYERS; l++)
        *lossy += xbarfunc_layer_forward(L[l], d->x[l], d->images, 8, false, d->y[l]);
    return wallclock_s() - t0;
}

static double run_float(const data *d)
{
    double t0 = wallclock_s();
    for (unsigned l = 0; l < NLAYERS; l++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d->images, (int)dims[l + 1],
                    (int)dims[l], 1.0f, d->xf[l], (int)dims[l], d->wf[l], (int)dims[l + 1], 0.0f,
                    d->yf[l], (int)dims[l + 1]);
    return wallclock_s() - t0;
}

static void report(const char *label, double *t, unsigned repeat, double macs, double convs,
                   uint64_t lossy)
{
    qsort(t, repeat, sizeof t[0], cmp_double);
    double med = t[repeat / 2];
    printf("%-44s %8.3f s (min %.3f, max %.3f)  %7.2f GMAC/s", label, med, t[0], t[repeat - 1],
           macs / med * 1e-9);
    if (convs > 0)
        printf("  %7.2f Gconv/s  lossy %.4f", convs / med * 1e-9, (double)lossy / convs);
    printf("\n");
}

static int bench_config(const data *d, const config *c, unsigned repeat, double macs)
{
    xbarfunc_layer *L[NLAYERS] = {NULL};
    double convs = 0, t[MAX_REPEAT];
    for (unsigned l = 0; l < NLAYERS; l++) {
        err e;
        if (xbarfunc_layer_create(&c->p, d->w[l], dims[l], dims[l + 1], 8, &L[l], &e) < 0) {
            fprintf(stderr, "xbarfunc_bench: %s: %s\n", c->label, e.msg);
            return -1;
        }
        convs += (double)d->images * (double)xbarfunc_layer_conversions(L[l], 8, false);
    }
    uint64_t lossy = 0;
    for (unsigned k = 0; k < repeat; k++)
        t[k] = run_xbar(d, L, &lossy);
    bool exact =
        c->p.adc_mode == XBARFUNC_ADC_IDEAL || c->p.adc_bits >= xbarfunc_adc_bits_needed(&c->p);
    report(c->label, t, repeat, macs, exact ? 0 : convs, lossy);
    for (unsigned l = 0; l < NLAYERS; l++)
        xbarfunc_layer_destroy(L[l]);
    return 0;
}

int main(int argc, char **argv)
{
    size_t images = 10000;
    unsigned repeat = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--images") == 0 && i + 1 < argc)
            images = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: xbarfunc_bench [--images N] [--repeat K]\n");
            return EXIT_FAILURE;
        }
    }
    if (images < 1 || repeat < 1 || repeat > MAX_REPEAT) {
        fprintf(stderr, "xbarfunc_bench: --images >= 1, --repeat 1..%d\n", MAX_REPEAT);
        return EXIT_FAILURE;
    }
    /* LRMP's tile (configs/arch/lrmp.cfg) with the ADC under study. */
    const xbarfunc_params lrmp = {.cell_bits = 1,
                                  .mapping = ARCH_MAP_UNSIGNED,
                                  .rows = 256,
                                  .rows_active = 9,
                                  .dac_bits = 1,
                                  .adc_bits = 4,
                                  .adc_mode = XBARFUNC_ADC_IDEAL,
                                  .cols = 256};
    /* PUMA's tile as Huang et al. use it (configs/arch/puma.cfg): 128 rows of 2-bit cells, 1-bit
     * DAC, offset mapping; all rows active need 9 bits, the ADC has 8 (the table path). */
    const xbarfunc_params puma = {.cell_bits = 2,
                                  .mapping = ARCH_MAP_OFFSET,
                                  .rows = 128,
                                  .rows_active = 128,
                                  .dac_bits = 1,
                                  .adc_bits = 8,
                                  .adc_mode = XBARFUNC_ADC_SATURATE,
                                  .cols = 128};
    config cfgs[NCONFIGS] = {{"lrmp, ideal ADC (exact GEMM path)", lrmp},
                             {"lrmp, saturate 3-bit ADC, 9 rows active", lrmp},
                             {"lrmp, saturate 4-bit ADC, 256 rows active", lrmp},
                             {"puma, saturate 8-bit ADC, 128 rows active", puma}};
    cfgs[1].p.adc_mode = XBARFUNC_ADC_SATURATE;
    cfgs[1].p.adc_bits = 3;
    cfgs[2].p.adc_mode = XBARFUNC_ADC_SATURATE;
    cfgs[2].p.rows_active = 256;

    data d;
    data_init(&d, images);
    double macs = 0;
    for (unsigned l = 0; l < NLAYERS; l++)
        macs += (double)images * (double)dims[l] * (double)dims[l + 1];
    printf("xbarfunc_bench: MLP 784-256-128-10, 8-bit weights, 8-bit unsigned inputs, %zu images, "
           "median of %u runs, %d OpenMP threads\n",
           images, repeat, omp_get_max_threads());
    printf("lrmp: 256 rows, 1-bit cells, 1-bit DAC, unsigned mapping (bit-mask path)\n");
    int rc = 0;
    for (unsigned i = 0; i < NCONFIGS && rc == 0; i++)
        rc = bench_config(&d, &cfgs[i], repeat, macs);
    double t[MAX_REPEAT];
    for (unsigned k = 0; k < repeat; k++)
        t[k] = run_float(&d);
    report("float (sgemm), same shapes", t, repeat, macs, 0, 0);
    data_fini(&d);
    return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
