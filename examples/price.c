/* price: an example program linking xbarsim's model libraries from an installed tree. It loads
 * an architecture and a network config, maps the network at a uniform precision and prints its
 * latency, throughput and steady-state energy as `xbarsim map` computes them.
 *   cc price.c $(pkg-config --cflags --libs xbarsim) -o price
 *   ./price $(pkg-config --variable=datadir xbarsim)/configs/arch/lrmp.cfg \
 *           $(pkg-config --variable=datadir xbarsim)/configs/net/lenet5.cfg 8
 */
#include <stdio.h>
#include <stdlib.h>

#include <xbarsim.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: price ARCH.cfg NET.cfg BITS\n");
        return 2;
    }
    err e;
    err_clear(&e);
    arch a;
    network n;
    if (arch_load_file(argv[1], &a, &e) < 0 || network_load_file(argv[2], &n, &e) < 0) {
        fprintf(stderr, "price: %s\n", e.msg);
        return 2;
    }
    unsigned bits = (unsigned)atoi(argv[3]);
    policy p;
    policy_uniform(&p, &n, bits, bits);
    mapping m;
    if (mapping_build(&n, &a, &p, NULL, MAPPING_PLACE_GROUPS, &m, &e) < 0) {
        fprintf(stderr, "price: %s\n", e.msg);
        return 2;
    }
    model mo;
    model_evaluate(&n, &a, &m, &mo);
    printf("latency = %.3f us\n", simtime_to_us(mo.latency_ps));
    printf("throughput = %.6g inferences/s\n", mo.throughput_per_s);
    printf("energy_steady = %.6g uJ\n", mo.energy_steady_total_pj * 1e-6);
    model_fini(&mo);
    mapping_fini(&m);
    policy_fini(&p);
    network_fini(&n);
    arch_fini(&a);
    return 0;
}
