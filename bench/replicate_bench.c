/* replicate_bench: solve time of layer replication (search/replicate/replicate.h) for ResNet-50
 * and ViT-B/32 all 8/8 on lrmp at budgets 1.0x, 2.0x and 3.5x the baseline tiles, both objectives,
 * with GLPK, the exact solver and the greedy heuristic. Prints the median (and min, max) over
 * --repeat runs, the optimum and the greedy heuristic's gap to it. Targets: GLPK <= 50 ms,
 * exact <= 5 ms. GLPK runs stop at --time-limit (default 5000 ms), printed as such. --no-prune
 * solves without the exact pruning (replicate_problem.no_prune), to show what it saves.
 * Usage: replicate_bench [--repeat N] [--time-limit MS] [--arch FILE] [--no-prune] [NET...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "network.h"
#include "policy.h"
#include "replicate.h"
#include "wallclock.h"

#ifndef XBARSIM_DATA_DIR
#define XBARSIM_DATA_DIR "."
#endif

#define MAX_REPEAT 101

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, min and max solve time over `repeat` runs, ms; *res holds the last run's result. */
static int time_solver(const replicate_problem *p, replicate_solver s, unsigned repeat, double *med,
                       double *lo, double *hi, replicate_result *res)
{
    double t[MAX_REPEAT];
    for (unsigned k = 0; k < repeat; k++) {
        err e;
        replicate_result r;
        double t0 = 1e3 * wallclock_s();
        int rc = replicate_solve(p, s, &r, &e);
        if (rc == ERR_LIMIT) /* GLPK's time limit: reported as a figure, not a failure */
            return 1;
        if (rc < 0) {
            fprintf(stderr, "replicate_bench: %s: %s\n", replicate_solver_name(s), e.msg);
            return -1;
        }
        t[k] = 1e3 * wallclock_s() - t0;
        if (k + 1 == repeat)
            *res = r;
        else
            replicate_result_fini(&r);
    }
    qsort(t, repeat, sizeof t[0], cmp_double);
    *med = t[repeat / 2];
    *lo = t[0];
    *hi = t[repeat - 1];
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned repeat = 7, time_limit_ms = 5000;
    const char *arch_path = XBARSIM_DATA_DIR "/configs/arch/lrmp.cfg";
    const char *nets[16] = {"resnet50", "vit_b32"};
    unsigned n_nets = 2, given = 0;
    int no_prune = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = (unsigned)atoi(argv[++i]);
            if (repeat < 1 || repeat > MAX_REPEAT) {
                fprintf(stderr, "replicate_bench: --repeat: expected 1..%d\n", MAX_REPEAT);
                return 2;
            }
        } else if (strcmp(argv[i], "--time-limit") == 0 && i + 1 < argc) {
            time_limit_ms = (unsigned)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--no-prune") == 0) {
            no_prune = 1;
        } else if (strcmp(argv[i], "--arch") == 0 && i + 1 < argc) {
            arch_path = argv[++i];
        } else if (argv[i][0] != '-' && given < 16) {
            nets[given++] = argv[i];
        } else {
            fprintf(stderr, "usage: replicate_bench [--repeat N] [--time-limit MS] [--arch FILE] "
                            "[--no-prune] [NET...]\n");
            return 2;
        }
    }
    if (given)
        n_nets = given;
    static const char *const budgets[] = {"1.0x", "2.0x", "3.5x"};
    arch a;
    err e;
    if (arch_load_file(arch_path, &a, &e) < 0) {
        fprintf(stderr, "replicate_bench: %s\n", e.msg);
        return 1;
    }
    printf("# replicate_bench: arch %s, policy uniform:8, %u runs per figure (median [min, max] "
           "ms); targets glpk <= 50 ms, exact <= 5 ms%s\n",
           a.name, repeat, no_prune ? "; no pruning" : "");
    printf("%-10s %-6s %6s %-10s %5s %5s %24s %24s %10s %16s %9s\n", "network", "budget", "tiles",
           "objective", "layers", "cands", "glpk ms", "exact ms", "greedy ms", "optimum ps",
           "greedy gap");
    int status = 0;
    for (unsigned ni = 0; ni < n_nets && status == 0; ni++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/configs/net/%s.cfg", XBARSIM_DATA_DIR, nets[ni]);
        network n;
        if (network_load_file(path, &n, &e) < 0) {
            fprintf(stderr, "replicate_bench: %s\n", e.msg);
            status = 1;
            break;
        }
        policy pol;
        policy_uniform(&pol, &n, 8, 8);
        for (unsigned b = 0; b < 3 && status == 0; b++)
            for (int o = 0; o < 2 && status == 0; o++) {
                replicate_problem p;
                replicate_objective obj = o ? REPLICATE_OBJ_THROUGHPUT : REPLICATE_OBJ_LATENCY;
                if (replicate_problem_from_model(&n, &a, &pol, budgets[b], obj, o ? 0.0 : 1.0, &p,
                                                 &e) < 0) {
                    fprintf(stderr, "replicate_bench: %s\n", e.msg);
                    status = 1;
                    break;
                }
                p.time_limit_ms = time_limit_ms;
                p.no_prune = no_prune;
                unsigned cands = 0;
                for (unsigned i = 0; i < p.n; i++)
                    cands += p.layers[i].n_cand;
                double gm = 0, gl = 0, gh = 0, xm = 0, xl = 0, xh = 0, hm = 0, hl = 0, hh = 0;
                replicate_result g, x, h;
                int grc = time_solver(&p, REPLICATE_SOLVER_GLPK, repeat, &gm, &gl, &gh, &g);
                if (grc < 0 ||
                    time_solver(&p, REPLICATE_SOLVER_EXACT, repeat, &xm, &xl, &xh, &x) < 0 ||
                    time_solver(&p, REPLICATE_SOLVER_GREEDY, repeat, &hm, &hl, &hh, &h) < 0) {
                    status = 1;
                } else {
                    char gs[48], xs[48];
                    if (grc == 0)
                        snprintf(gs, sizeof gs, "%.2f [%.2f, %.2f]", gm, gl, gh);
                    else
                        snprintf(gs, sizeof gs, "> %u (time limit)", time_limit_ms);
                    snprintf(xs, sizeof xs, "%.3f [%.3f, %.3f]", xm, xl, xh);
                    printf("%-10s %-6s %6llu %-10s %5u %5u %24s %24s %10.3f %16.0f %8.2f%%%s\n",
                           nets[ni], budgets[b], (unsigned long long)p.budget,
                           replicate_objective_name(obj), p.n, cands, gs, xs, hm, x.objective,
                           100.0 * (h.objective - x.objective) / x.objective,
                           grc || g.objective == x.objective ? "" : "  GLPK != exact!");
                    if (grc == 0)
                        replicate_result_fini(&g);
                    replicate_result_fini(&x);
                    replicate_result_fini(&h);
                }
                replicate_problem_fini(&p);
            }
        policy_fini(&pol);
        network_fini(&n);
    }
    arch_fini(&a);
    return status;
}
