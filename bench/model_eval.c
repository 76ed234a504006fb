/* model_eval: analytic evaluations per second -- map a network with a fresh random policy and
 * price it (mapping_build + model_evaluate), the inner loop of the search and of sweeps.
 * Prints the median, min and max rate over --repeat runs, and the parameters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "wallclock.h"

#ifndef XBARSIM_DATA_DIR
#define XBARSIM_DATA_DIR "."
#endif

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One run: `evals` evaluations with random bits in 2..8; returns evaluations per second. The
 * checksum of latencies keeps the work from being optimised away and is printed. */
static double run(const network *n, const arch *a, unsigned evals, unsigned *seed,
                  unsigned long long *checksum)
{
    policy p;
    policy_uniform(&p, n, 8, 8);
    double t0 = wallclock_s();
    for (unsigned k = 0; k < evals; k++) {
        for (unsigned i = 0; i < p.n; i++) {
            *seed = *seed * 1103515245u + 12345u;
            p.layers[i].wb = 2 + (*seed >> 16) % 7;
            p.layers[i].ab = 2 + (*seed >> 8) % 7;
        }
        mapping m;
        model mo;
        err e;
        if (mapping_build(n, a, &p, NULL, MAPPING_PLACE_GROUPS, &m, &e) < 0) {
            fprintf(stderr, "model_eval: %s\n", e.msg);
            exit(1);
        }
        model_evaluate(n, a, &m, &mo);
        *checksum += mo.latency_ps;
        model_fini(&mo);
        mapping_fini(&m);
    }
    double t1 = wallclock_s();
    policy_fini(&p);
    return evals / (t1 - t0);
}

int main(int argc, char **argv)
{
    const char *net_name = argc > 1 ? argv[1] : "resnet50";
    const char *arch_name = argc > 2 ? argv[2] : "lrmp";
    unsigned evals = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 20000;
    int repeat = argc > 4 ? atoi(argv[4]) : 5;
    if (argc > 5 || evals == 0 || repeat < 1 || repeat > 100) {
        fprintf(stderr,
                "usage: model_eval [NET [ARCH [EVALS [REPEAT]]]]\n"
                "  defaults: resnet50 lrmp 20000 5 (names from configs/net, configs/arch)\n");
        return 2;
    }
    char path[1024];
    err e;
    arch a;
    network n;
    snprintf(path, sizeof path, "%s/configs/arch/%s.cfg", XBARSIM_DATA_DIR, arch_name);
    if (arch_load_file(path, &a, &e) < 0) {
        fprintf(stderr, "model_eval: %s\n", e.msg);
        return 1;
    }
    snprintf(path, sizeof path, "%s/configs/net/%s.cfg", XBARSIM_DATA_DIR, net_name);
    if (network_load_file(path, &n, &e) < 0) {
        fprintf(stderr, "model_eval: %s\n", e.msg);
        arch_fini(&a);
        return 1;
    }
    double rates[100];
    unsigned seed = 1;
    unsigned long long checksum = 0;
    for (int r = 0; r < repeat; r++)
        rates[r] = run(&n, &a, evals, &seed, &checksum);
    qsort(rates, (size_t)repeat, sizeof rates[0], cmp_double);
    printf("model_eval: %s (%u layers, %u crossbar) on %s, random policies wb, ab in 2..8, "
           "%u evaluations x %d runs, single thread\n",
           n.name, n.n_layers, n.n_xbar, a.name, evals, repeat);
    printf("evaluations/s: median %.0f  min %.0f  max %.0f  (checksum %llu)\n", rates[repeat / 2],
           rates[0], rates[repeat - 1], checksum);
    network_fini(&n);
    arch_fini(&a);
    return 0;
}
