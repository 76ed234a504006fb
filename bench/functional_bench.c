/* functional_bench: inference of the Fashion-MNIST MLP (configs/net/mlp-fmnist.cfg) at uniform 8/8
 * on the 10 000 test images through the bit-accurate crossbar of configs/arch/lrmp.cfg (ADC
 * saturate at the arch's bits), against float inference of the same net and the exact integer
 * GEMM; also the crossbar conversion by conversion (xbarfunc_layer_forward_sliced). Prints the
 * medians of REPEATS runs, the accuracies and the ratios. Target (issue 8): crossbar <= 2 s on 2
 * cores. Usage: functional_bench [WEIGHTS.h5] [--threads T] [--data DIR]  (no weights: random
 * ones).
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accuracy.h"
#include "search.h"
#include "wallclock.h"

#define REPEATS 5

#ifndef XBARSIM_DATA_DIR
#define XBARSIM_DATA_DIR "."
#endif

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median wall time of REPEATS accuracy runs through q (NULL: float), s; *acc the accuracy. */
static double median(fnet *f, quant_net *q, const dataset *te, double *acc)
{
    double t[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        double t0 = wallclock_s();
        *acc = q ? quant_accuracy(q, te->x, te->y, te->n) : train_accuracy(f, te->x, te->y, te->n);
        t[r] = wallclock_s() - t0;
    }
    qsort(t, REPEATS, sizeof t[0], cmp);
    return t[REPEATS / 2];
}

int main(int argc, char **argv)
{
    const char *weights = NULL, *data = NULL;
    int threads = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else
            weights = argv[i];
    }
    omp_set_num_threads(threads);
    nn_blas_set_threads(threads);
    err e;
    network n;
    arch a;
    dataset te, tr;
    fnet *f;
    if (network_load_file(XBARSIM_DATA_DIR "/configs/net/mlp-fmnist.cfg", &n, &e) < 0 ||
        arch_load_file(XBARSIM_DATA_DIR "/configs/arch/lrmp.cfg", &a, &e) < 0 ||
        dataset_load_fmnist(data, DATASET_TEST, 0, &te, &e) < 0 ||
        dataset_load_fmnist(data, DATASET_TRAIN, QUANT_CALIB_IMAGES, &tr, &e) < 0 ||
        fnet_create(&n, 1, &f, &e) < 0 || (weights && weights_read(f, weights, NULL, &e) < 0)) {
        fprintf(stderr, "functional_bench: %s\n", e.msg);
        return 2;
    }
    float clip[3];
    quant_calibrate(f, tr.x, tr.n, clip);
    policy p;
    policy_uniform(&p, &n, 8, 8);
    quant_net qi, qx, qs;
    if (quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_INTEGER, &qi, &e) < 0 ||
        quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_CROSSBAR, &qx, &e) < 0 ||
        quant_build(f, &p, &a, XBARFUNC_ADC_SATURATE, clip, QUANT_SLICED, &qs, &e) < 0) {
        fprintf(stderr, "functional_bench: %s\n", e.msg);
        return 2;
    }
    printf("# functional_bench: %s at uniform 8/8 on %s (rows_active %u, cell %u bits, dac %u "
           "bits, ADC %u bits saturate), %zu test images, %d threads, weights %s, median of %d\n",
           n.name, a.name, a.tiles.rows_active, a.tiles.cell_bits, a.tiles.dac.bits,
           a.tiles.adc.bits, te.n, threads, weights ? weights : "random", REPEATS);
    double af, ai, ax, as;
    double tf = median(f, NULL, &te, &af);
    double ti = median(f, &qi, &te, &ai);
    double tx = median(f, &qx, &te, &ax);
    double ts = median(f, &qs, &te, &as);
    printf("%-28s %10s %10s %12s\n", "path", "time/s", "accuracy", "x float");
    printf("%-28s %10.3f %9.2f%% %12.1f\n", "float", tf, 100 * af, 1.0);
    printf("%-28s %10.3f %9.2f%% %12.1f\n", "integer GEMM", ti, 100 * ai, ti / tf);
    printf("%-28s %10.3f %9.2f%% %12.1f\n", "crossbar", tx, 100 * ax, tx / tf);
    printf("%-28s %10.3f %9.2f%% %12.1f\n", "crossbar, every conversion", ts, 100 * as, ts / tf);
    quant_fini(&qi);
    quant_fini(&qx);
    quant_fini(&qs);
    policy_fini(&p);
    fnet_destroy(f);
    dataset_fini(&te);
    dataset_fini(&tr);
    arch_fini(&a);
    network_fini(&n);
    return 0;
}
