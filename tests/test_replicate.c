/* test_replicate: the replication solvers. Candidates, small cases and the LP heuristic worked by
 * hand; the exact solver and GLPK against a brute force over every r vector on tiny instances
 * (also with many identical layers); the latency pruning against every candidate vector; pruned
 * against unpruned solvers; GLPK against the exact solver on random instances, from any start,
 * and on every built-in network on lrmp (it must prove each optimum); monotone optimum in the
 * budget; the bridge against model_evaluate; budget and objective parsing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "replicate.h"
#include "replicate_internal.h"
#include "testutil.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* Under valgrind (scripts/test.sh sets CK_FORK=no) everything runs ~30x slower: fewer random
 * instances there; the Release and ASan runs do the full set. */
static int slow_mode(void)
{
    const char *f = getenv("CK_FORK");
    return f && strcmp(f, "no") == 0;
}

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Two layers: A (P 4, 10 ps per vector, 1 tile), B (P 2, 10 ps, 2 tiles); digital 5 ps. */
static void two_layers(replicate_problem *p, uint64_t budget, replicate_objective o)
{
    replicate_problem_init(p, 2);
    p->layers[0] = (replicate_layer){.vectors = 4, .vector_ps = 10, .tiles = 1};
    p->layers[1] = (replicate_layer){.vectors = 2, .vector_ps = 10, .tiles = 2};
    p->fixed_ps = 5;
    p->fixed_max_ps = 5;
    p->budget = budget;
    p->objective = o;
    replicate_problem_prepare(p);
}

START_TEST(test_replicate_candidates)
{
    replicate_problem p;
    replicate_problem_init(&p, 2);
    p.layers[0] = (replicate_layer){.vectors = 10, .vector_ps = 3, .tiles = 2};
    p.layers[1] = (replicate_layer){.vectors = 1, .vector_ps = 7, .tiles = 5};
    replicate_problem_prepare(&p);
    /* ceil(10 / r) for r = 1..10: 10 5 4 3 2 2 2 2 2 1: the first r of each value. */
    static const uint64_t r[] = {1, 2, 3, 4, 5, 10}, q[] = {10, 5, 4, 3, 2, 1};
    ck_assert_uint_eq(p.layers[0].n_cand, 6);
    for (unsigned k = 0; k < 6; k++) {
        ck_assert_uint_eq(p.layers[0].cand[k].copies, r[k]);
        ck_assert_uint_eq(p.layers[0].cand[k].time_ps, 3 * q[k]);
        ck_assert_uint_eq(p.layers[0].cand[k].tiles, 2 * r[k]);
    }
    ck_assert_uint_eq(p.layers[1].n_cand, 1);
    ck_assert_uint_eq(p.layers[1].cand[0].time_ps, 7);
    ck_assert_uint_eq(replicate_min_budget(&p), 7);
    replicate_problem_fini(&p);
}
END_TEST

/* Budget -> (latency, slowest) optima worked by hand for two_layers: A {1: 40, 2: 20, 4: 10},
 * B {1: 20, 2: 10}. 3: (1,1) 65/40; 4: A2 45/20; 6: A2 B2 or A4 35/20; 8: A4 B2 25/10. */
START_TEST(test_replicate_hand_worked)
{
    static const struct {
        uint64_t budget, latency, slowest;
    } cases[] = {{3, 65, 40}, {4, 45, 20}, {5, 45, 20},  {6, 35, 20},
                 {7, 35, 20}, {8, 25, 10}, {100, 25, 10}};
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int s = 0; s < 2; s++) {
            replicate_problem p;
            replicate_result r;
            err e;
            two_layers(&p, cases[c].budget, REPLICATE_OBJ_LATENCY);
            ck_assert_int_eq(
                replicate_solve(&p, s ? REPLICATE_SOLVER_GLPK : REPLICATE_SOLVER_EXACT, &r, &e), 0);
            ck_assert_uint_eq(r.latency_ps, cases[c].latency);
            ck_assert_uint_le(r.tiles, cases[c].budget);
            replicate_result_fini(&r);
            p.objective = REPLICATE_OBJ_THROUGHPUT;
            ck_assert_int_eq(
                replicate_solve(&p, s ? REPLICATE_SOLVER_GLPK : REPLICATE_SOLVER_EXACT, &r, &e), 0);
            ck_assert_uint_eq(r.slowest_ps, cases[c].slowest);
            replicate_result_fini(&r);
            replicate_problem_fini(&p);
        }
}
END_TEST

START_TEST(test_replicate_infeasible)
{
    replicate_problem p;
    replicate_result r;
    err e;
    two_layers(&p, 2, REPLICATE_OBJ_LATENCY);
    for (int s = 0; s < REPLICATE_SOLVER_COUNT; s++) {
        err_clear(&e);
        ck_assert_int_eq(replicate_solve(&p, (replicate_solver)s, &r, &e), ERR_INPUT);
        ck_assert_ptr_nonnull(strstr(e.msg, "needs at least 3 tiles for one copy of every layer"));
    }
    replicate_problem_fini(&p);
}
END_TEST

/* Brute force over every r vector (not only candidates) of a tiny instance. */
static double brute(const replicate_problem *p, uint64_t *best_lat, uint64_t *best_slow)
{
    replicate_result r = {.copies = calloc(p->n, sizeof(uint64_t))};
    for (unsigned i = 0; i < p->n; i++)
        r.copies[i] = 1;
    double best = -1.0;
    for (;;) {
        replicate_evaluate(p, &r);
        if (r.tiles <= p->budget && (best < 0 || r.objective < best)) {
            best = r.objective;
            *best_lat = r.latency_ps;
            *best_slow = r.slowest_ps;
        }
        unsigned i = 0;
        while (i < p->n && r.copies[i] == p->layers[i].vectors)
            r.copies[i++] = 1;
        if (i == p->n)
            break;
        r.copies[i]++;
    }
    free(r.copies);
    return best;
}

static void random_problem(replicate_problem *p, unsigned *seed, unsigned max_n, unsigned max_p,
                           unsigned max_tiles)
{
    unsigned n = 1 + lcg(seed) % max_n;
    replicate_problem_init(p, n);
    for (unsigned i = 0; i < n; i++) {
        p->layers[i].vectors = 1 + lcg(seed) % max_p;
        p->layers[i].vector_ps = 1000 + lcg(seed) % 1000000;
        p->layers[i].tiles = 1 + lcg(seed) % max_tiles;
    }
    p->fixed_max_ps = lcg(seed) % 3 ? 0 : lcg(seed) % 2000000;
    p->fixed_ps = p->fixed_max_ps * 3;
    replicate_problem_prepare(p);
    uint64_t min = replicate_min_budget(p);
    p->budget = min + (uint64_t)((double)min * (double)(lcg(seed) % 3001) / 1000.0);
}

START_TEST(test_replicate_brute_force)
{
    unsigned seed = 7;
    for (unsigned it = 0; it < (slow_mode() ? 40u : 150u); it++) {
        replicate_problem p;
        random_problem(&p, &seed, 4, 7, 4);
        for (int o = 0; o < REPLICATE_OBJ_COUNT; o++) {
            p.objective = (replicate_objective)o;
            p.alpha = 0.3;
            uint64_t lat = 0, slow = 0;
            double want = brute(&p, &lat, &slow);
            for (int s = 0; s < 2; s++) {
                if (s == 0 && o == REPLICATE_OBJ_MIX)
                    continue;
                replicate_result r;
                err e;
                ck_assert_int_eq(
                    replicate_solve(&p, s ? REPLICATE_SOLVER_GLPK : REPLICATE_SOLVER_EXACT, &r, &e),
                    0);
                if (o == REPLICATE_OBJ_LATENCY)
                    ck_assert_uint_eq(r.latency_ps, lat);
                else if (o == REPLICATE_OBJ_THROUGHPUT)
                    ck_assert_uint_eq(r.slowest_ps, slow);
                else
                    ck_assert_double_eq_tol(r.objective, want, 1e-6 * want);
                ck_assert_uint_le(r.tiles, p.budget);
                replicate_result_fini(&r);
            }
        }
        replicate_problem_fini(&p);
    }
}
END_TEST

/* GLPK's optimum equals the exact solver's; greedy is feasible and never better. GLPK must prove
 * its optimum within p's time limit. */
static void compare(replicate_problem *p, const char *what)
{
    for (int o = 0; o < 2; o++) {
        p->objective = o ? REPLICATE_OBJ_THROUGHPUT : REPLICATE_OBJ_LATENCY;
        replicate_result x, g, h;
        err e;
        ck_assert_msg(replicate_solve_exact(p, &x, &e) == 0, "%s: %s", what, e.msg);
        ck_assert_msg(replicate_solve_glpk(p, &g, &e) == 0, "%s %s: %s", what,
                      o ? "throughput" : "latency", e.msg);
        ck_assert_int_eq(replicate_solve_greedy(p, &h, &e), 0);
        if (o == 0) {
            ck_assert_msg(x.latency_ps == g.latency_ps, "%s latency: exact %llu, glpk %llu", what,
                          (unsigned long long)x.latency_ps, (unsigned long long)g.latency_ps);
            ck_assert_uint_ge(h.latency_ps, x.latency_ps);
        } else {
            ck_assert_msg(x.slowest_ps == g.slowest_ps, "%s slowest: exact %llu, glpk %llu", what,
                          (unsigned long long)x.slowest_ps, (unsigned long long)g.slowest_ps);
            ck_assert_uint_ge(h.slowest_ps, x.slowest_ps);
        }
        ck_assert_uint_le(x.tiles, p->budget);
        ck_assert_uint_le(g.tiles, p->budget);
        ck_assert_uint_le(h.tiles, p->budget);
        replicate_result_fini(&x);
        replicate_result_fini(&g);
        replicate_result_fini(&h);
    }
}

/* n layers drawn from `types` random layer types (so many identical layers; some types differ only
 * in tiles), tiles of each type a
 * multiple of `scale` (so their gcd is at least scale), budget anywhere from the least to 4x. */
static void typed_problem(replicate_problem *p, unsigned *seed, unsigned max_n, unsigned types,
                          unsigned max_p, unsigned max_tiles, unsigned scale)
{
    replicate_layer type[4];
    for (unsigned t = 0; t < types; t++) {
        type[t] = (replicate_layer){.vectors = 1 + lcg(seed) % max_p,
                                    .vector_ps = 1000 + lcg(seed) % 1000000,
                                    .tiles = scale * (1 + lcg(seed) % max_tiles)};
        if (t && lcg(seed) % 2) { /* same P and c as type 0, tiles of its own: not identical */
            type[t].vectors = type[0].vectors;
            type[t].vector_ps = type[0].vector_ps;
        }
    }
    unsigned n = 1 + lcg(seed) % max_n;
    replicate_problem_init(p, n);
    for (unsigned i = 0; i < n; i++)
        p->layers[i] = type[lcg(seed) % types];
    p->fixed_max_ps = lcg(seed) % 3 ? 0 : lcg(seed) % 2000000;
    p->fixed_ps = p->fixed_max_ps * 2;
    replicate_problem_prepare(p);
    uint64_t min = replicate_min_budget(p);
    p->budget = min + (uint64_t)((double)min * (double)(lcg(seed) % 3001) / 1000.0);
}

/* The LP-rounded heuristic on two_layers, by hand. Hulls: A (1, 40) (2, 20) (4, 10), slopes 20
 * and 5 ps per tile; B (2, 20) (4, 10), slope 5. Budget 4 (slack 1): A to 2 copies fits, A to 4
 * does not: multiplier 10 / 2 = 5 / 1, picks A 2 copies, B 1: time 40. Budget 6: A to 4 fits,
 * then B's segment (2 tiles) does not: multiplier 5 / 1, picks A 4, B 1: time 30. */
START_TEST(test_replicate_lp_heuristic)
{
    static const struct {
        uint64_t budget, time;
        unsigned a, b;
    } cases[] = {{4, 40, 1, 0}, {6, 30, 2, 0}};
    for (unsigned c = 0; c < 2; c++) {
        replicate_problem p;
        two_layers(&p, cases[c].budget, REPLICATE_OBJ_LATENCY);
        unsigned pick[2];
        uint64_t num, den;
        ck_assert_uint_eq(replicate__latency_heuristic(&p, pick, &num, &den), cases[c].time);
        ck_assert_uint_eq(pick[0], cases[c].a);
        ck_assert_uint_eq(pick[1], cases[c].b);
        ck_assert_uint_eq(num, 5);
        ck_assert_uint_eq(den, 1);
        replicate_problem_fini(&p);
    }
    /* Budget 8 takes every hull segment: multiplier 0. */
    replicate_problem p;
    two_layers(&p, 8, REPLICATE_OBJ_LATENCY);
    unsigned pick[2];
    uint64_t num, den;
    ck_assert_uint_eq(replicate__latency_heuristic(&p, pick, &num, &den), 20);
    ck_assert_uint_eq(num, 0);
    replicate_problem_fini(&p);
}
END_TEST

/* Crossbar time and tiles of the candidate vector idx. */
static void cand_vector(const replicate_problem *p, const unsigned *idx, uint64_t *time,
                        uint64_t *tiles)
{
    *time = *tiles = 0;
    for (unsigned i = 0; i < p->n; i++) {
        *time += p->layers[i].cand[idx[i]].time_ps;
        *tiles += p->layers[i].cand[idx[i]].tiles;
    }
}

/* Next candidate vector (mixed radix); 0 after the last. */
static int next_vector(const replicate_problem *p, unsigned *idx)
{
    for (unsigned i = 0; i < p->n; i++) {
        if (++idx[i] < p->layers[i].n_cand)
            return 1;
        idx[i] = 0;
    }
    return 0;
}

/* The pruning keeps every candidate of every solution within budget and within the bound, for
 * any multiplier (random ones and the LP's) and any feasible bound (the time of a random feasible
 * solution, or the heuristic's): checked over every candidate vector of tiny instances. The
 * heuristic is feasible and never below the enumerated optimum. */
START_TEST(test_replicate_prune_keeps_good_solutions)
{
    unsigned seed = 2024, pruned = 0;
    for (unsigned it = 0; it < (slow_mode() ? 100u : 400u); it++) {
        replicate_problem p;
        if (it % 2)
            random_problem(&p, &seed, 4, 9, 4);
        else
            typed_problem(&p, &seed, 5, 2, 9, 4, 1 + it % 3);
        unsigned idx[8] = {0}, pick[8];
        uint64_t num, den, time, tiles, best = UINT64_MAX, upper = 0, feasible = 0;
        uint64_t heur = replicate__latency_heuristic(&p, pick, &num, &den);
        cand_vector(&p, pick, &time, &tiles);
        ck_assert_uint_eq(time, heur);
        ck_assert_uint_le(tiles, p.budget);
        unsigned target = lcg(&seed) % 50;
        do {
            cand_vector(&p, idx, &time, &tiles);
            if (tiles <= p.budget) {
                best = time < best ? time : best;
                if (feasible++ <= target)
                    upper = time; /* the target-th feasible vector, or the last one */
            }
        } while (next_vector(&p, idx));
        ck_assert_uint_ge(heur, best);
        if (it % 3 == 0)
            upper = heur;
        if (it % 3 == 1) {
            num = lcg(&seed) % 3000000;
            den = 1 + lcg(&seed) % 7;
        }
        replicate__keep k;
        replicate__keep_latency(&p, upper, num, den, &k);
        pruned += k.off[p.n] - k.kept;
        do {
            cand_vector(&p, idx, &time, &tiles);
            if (tiles <= p.budget && time <= upper)
                for (unsigned i = 0; i < p.n; i++)
                    ck_assert_msg(k.keep[k.off[i] + idx[i]],
                                  "instance %u: layer %u candidate %u pruned from a solution of "
                                  "time %llu <= %llu",
                                  it, i, idx[i], (unsigned long long)time,
                                  (unsigned long long)upper);
        } while (next_vector(&p, idx));
        replicate__keep_fini(&k);
        replicate_problem_fini(&p);
    }
    ck_assert_uint_gt(pruned, 0); /* the check saw pruning at work */
}
END_TEST

/* The pruned solvers (exact's DP, GLPK's columns, classes and LP fixing) against the same solvers
 * with no_prune, on random instances: equal optima. */
START_TEST(test_replicate_pruned_equals_unpruned)
{
    unsigned seed = 4242, count = slow_mode() ? 40 : 200;
    for (unsigned it = 0; it < count; it++) {
        replicate_problem p;
        if (it % 2)
            random_problem(&p, &seed, it % 4 ? 12 : 30, it % 10 == 1 ? 3136 : 60, 12);
        else
            typed_problem(&p, &seed, 16, 1 + it % 3, 60, 12, 1 + it % 4);
        int glpk = it % 4 != 3 || p.n <= 12; /* unpruned GLPK only where it is quick */
        for (int o = 0; o < 2; o++) {
            p.objective = o ? REPLICATE_OBJ_THROUGHPUT : REPLICATE_OBJ_LATENCY;
            replicate_result a, b, c;
            err e;
            p.no_prune = 0;
            ck_assert_int_eq(replicate_solve_exact(&p, &a, &e), 0);
            p.no_prune = 1;
            ck_assert_int_eq(replicate_solve_exact(&p, &b, &e), 0);
            ck_assert_double_eq(a.objective, b.objective);
            if (glpk) {
                ck_assert_msg(replicate_solve_glpk(&p, &c, &e) == 0, "%u: %s", it, e.msg);
                ck_assert_double_eq(a.objective, c.objective);
                ck_assert_uint_le(c.tiles, p.budget);
                replicate_result_fini(&c);
            }
            p.no_prune = 0;
            replicate_result_fini(&a);
            replicate_result_fini(&b);
        }
        replicate_problem_fini(&p);
    }
}
END_TEST

/* GLPK's pruning trusts its start only as a feasible bound: started from greedy's solution, from
 * one copy of every layer, or from nothing, it still finds the exact solver's optimum. */
START_TEST(test_replicate_glpk_any_start)
{
    unsigned seed = 31337, count = slow_mode() ? 30 : 150;
    for (unsigned it = 0; it < count; it++) {
        replicate_problem p;
        if (it % 2)
            random_problem(&p, &seed, 20, it % 10 == 1 ? 3136 : 200, 12);
        else
            typed_problem(&p, &seed, 20, 1 + it % 3, 200, 12, 1 + it % 3);
        for (int o = 0; o < 2; o++) {
            p.objective = o ? REPLICATE_OBJ_THROUGHPUT : REPLICATE_OBJ_LATENCY;
            replicate_result x, start, g;
            err e;
            ck_assert_int_eq(replicate_solve_exact(&p, &x, &e), 0);
            ck_assert_int_eq(replicate_solve_greedy(&p, &start, &e), 0);
            if (it % 3 == 1)
                for (unsigned i = 0; i < p.n; i++)
                    start.copies[i] = 1;
            ck_assert_msg(replicate__solve_glpk_from(&p, it % 3 == 2 ? NULL : &start, &g, &e) == 0,
                          "%u: %s", it, e.msg);
            ck_assert_msg(x.objective == g.objective, "instance %u %s: exact %.0f, glpk %.0f", it,
                          o ? "throughput" : "latency", x.objective, g.objective);
            ck_assert_uint_le(g.tiles, p.budget);
            replicate_result_fini(&x);
            replicate_result_fini(&start);
            replicate_result_fini(&g);
        }
        replicate_problem_fini(&p);
    }
}
END_TEST

/* Many identical layers (GLPK aggregates them) and tile counts with a common factor (the DP's
 * unit): both solvers against brute force on tiny instances, against each other up to 30 layers. */
START_TEST(test_replicate_identical_layers)
{
    unsigned seed = 777;
    for (unsigned it = 0; it < (slow_mode() ? 30u : 120u); it++) {
        replicate_problem p;
        typed_problem(&p, &seed, 5, 1 + it % 2, 6, 3, 1 + it % 4);
        for (int o = 0; o < 2; o++) {
            p.objective = o ? REPLICATE_OBJ_THROUGHPUT : REPLICATE_OBJ_LATENCY;
            uint64_t lat = 0, slow = 0;
            brute(&p, &lat, &slow);
            for (int s = 0; s < 2; s++) {
                replicate_result r;
                err e;
                ck_assert_int_eq(
                    replicate_solve(&p, s ? REPLICATE_SOLVER_GLPK : REPLICATE_SOLVER_EXACT, &r, &e),
                    0);
                ck_assert_uint_eq(o ? r.slowest_ps : r.latency_ps, o ? slow : lat);
                ck_assert_uint_le(r.tiles, p.budget);
                replicate_result_fini(&r);
            }
        }
        replicate_problem_fini(&p);
    }
    for (unsigned it = 0; it < (slow_mode() ? 40u : 200u); it++) {
        replicate_problem p;
        typed_problem(&p, &seed, 30, 1 + it % 4, it % 5 ? 300 : 3136, 16, 1 + it % 3);
        char what[64];
        snprintf(what, sizeof what, "typed instance %u", it);
        compare(&p, what);
        replicate_problem_fini(&p);
    }
}
END_TEST

START_TEST(test_replicate_glpk_equals_exact_random)
{
    unsigned seed = 12345, count = slow_mode() ? 60 : 500;
    for (unsigned it = 0; it < count; it++) {
        replicate_problem p;
        random_problem(&p, &seed, 30, it % 10 ? 200 : 3136, 12);
        char what[64];
        snprintf(what, sizeof what, "random instance %u", it);
        compare(&p, what);
        replicate_problem_fini(&p);
    }
}
END_TEST

START_TEST(test_replicate_monotone)
{
    unsigned seed = 99;
    for (unsigned it = 0; it < 40; it++) {
        replicate_problem p;
        random_problem(&p, &seed, 12, 300, 8);
        uint64_t min = replicate_min_budget(&p);
        for (int o = 0; o < 2; o++) {
            p.objective = o ? REPLICATE_OBJ_THROUGHPUT : REPLICATE_OBJ_LATENCY;
            double last = -1.0;
            for (uint64_t b = min; b <= 3 * min; b += 1 + min / 16) {
                p.budget = b;
                replicate_result r;
                err e;
                ck_assert_int_eq(replicate_solve_exact(&p, &r, &e), 0);
                if (last >= 0)
                    ck_assert_double_le(r.objective, last);
                last = r.objective;
                replicate_result_fini(&r);
            }
        }
        replicate_problem_fini(&p);
    }
}
END_TEST

static void load(const char *net, arch *a, network *n)
{
    err e;
    char path[512];
    ck_assert_msg(arch_load_file(XBARSIM_SOURCE_DIR "/configs/arch/lrmp.cfg", a, &e) == 0, "%s",
                  e.msg);
    snprintf(path, sizeof path, XBARSIM_SOURCE_DIR "/configs/net/%s.cfg", net);
    ck_assert_msg(network_load_file(path, n, &e) == 0, "%s", e.msg);
}

static const char *const networks[] = {"mlp-lrmp", "lenet5", "resnet18", "resnet34",    "resnet50",
                                       "vgg11",    "vgg16",  "vit_b32",  "mobilenet_v2"};

START_TEST(test_replicate_networks)
{
    static const char *const budgets[] = {"1.0x", "1.5x", "3x"};
    arch a;
    network n;
    load(networks[_i], &a, &n);
    policy pol;
    policy_uniform(&pol, &n, 8, 8);
    for (unsigned b = 0; b < 3; b++) {
        replicate_problem p;
        err e;
        ck_assert_msg(replicate_problem_from_model(&n, &a, &pol, budgets[b], REPLICATE_OBJ_LATENCY,
                                                   1.0, &p, &e) == 0,
                      "%s", e.msg);
        char what[96];
        snprintf(what, sizeof what, "%s at %s", networks[_i], budgets[b]);
        /* GLPK must prove every optimum: a stop at the time limit fails (it takes milliseconds
         * in Release, bench/replicate_bench; the limit leaves room for valgrind). */
        p.time_limit_ms = 20000;
        compare(&p, what);
        replicate_problem_fini(&p);
    }
    policy_fini(&pol);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

/* The bridge: ceil(P / r) x vector_ps is what the model prices with r copies, when nothing leaves
 * the chip (replication does not see the off-chip link or the networks, docs/MODEL.md 3a/3b): lrmp
 * without its off-chip link, with buffers large enough that nothing spills. */
START_TEST(test_replicate_bridge_matches_model)
{
    arch a;
    network n;
    load("resnet18", &a, &n);
    a.offchip.present = false;
    a.vector.sram_bytes = 1u << 24;
    policy pol;
    policy_uniform(&pol, &n, 8, 8);
    replicate_problem p;
    err e;
    ck_assert_int_eq(
        replicate_problem_from_model(&n, &a, &pol, "chip", REPLICATE_OBJ_LATENCY, 1.0, &p, &e), 0);
    ck_assert_uint_eq(p.budget, 5688);
    unsigned *copies = calloc(n.n_xbar, sizeof *copies);
    replicate_result r = {.copies = calloc(n.n_xbar, sizeof(uint64_t))};
    for (unsigned i = 0; i < n.n_xbar; i++)
        r.copies[i] = copies[i] = 1 + (unsigned)(i * 7 % (p.layers[i].vectors < 3 ? 1 : 3));
    mapping m;
    model mo;
    ck_assert_msg(mapping_build(&n, &a, &pol, copies, MAPPING_PLACE_PACKED, &m, &e) == 0, "%s",
                  e.msg);
    model_evaluate(&n, &a, &m, &mo);
    replicate_evaluate(&p, &r);
    ck_assert_uint_eq(r.latency_ps, mo.latency_ps);
    ck_assert_uint_eq(r.slowest_ps, mo.bottleneck_ps);
    ck_assert_uint_eq(r.tiles, m.tiles_used);
    /* conv1: T_in + T_tile + T_out + T_d = 22977696 ps per vector (98.952 + 22665.216 + 166.656
     * + 46.872 ns, rounded to ps), so 14 copies take 896 x that (tests/test_cli.sh). */
    ck_assert_uint_eq(p.layers[0].vector_ps, 22977696);
    ck_assert_uint_eq(896 * p.layers[0].vector_ps, 20588015616ull);
    model_fini(&mo);
    mapping_fini(&m);
    free(copies);
    replicate_result_fini(&r);
    replicate_problem_fini(&p);
    policy_fini(&pol);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

START_TEST(test_replicate_budget_parse)
{
    uint64_t b;
    err e;
    ck_assert_int_eq(replicate_budget_parse("1.5x", 1000, 5688, &b, &e), 0);
    ck_assert_uint_eq(b, 1500);
    ck_assert_int_eq(replicate_budget_parse("1.1x", 1000, 5688, &b, &e), 0);
    ck_assert_uint_eq(b, 1100);
    ck_assert_int_eq(replicate_budget_parse("chip", 1000, 5688, &b, &e), 0);
    ck_assert_uint_eq(b, 5688);
    ck_assert_int_eq(replicate_budget_parse("777", 1000, 5688, &b, &e), 0);
    ck_assert_uint_eq(b, 777);
    static const char *const bad[] = {"", "x", "abc", "0", "-3", "1.5y", "-1x", "12 ", "1.5xx"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err_clear(&e);
        ck_assert_msg(replicate_budget_parse(bad[i], 1000, 5688, &b, &e) == ERR_INPUT, "'%s'",
                      bad[i]);
        ck_assert_ptr_nonnull(strstr(e.msg, "expected"));
    }
}
END_TEST

START_TEST(test_replicate_objective_parse)
{
    replicate_objective o;
    double alpha;
    ck_assert_int_eq(replicate_objective_parse("latency", &o, &alpha), 0);
    ck_assert_int_eq(o, REPLICATE_OBJ_LATENCY);
    ck_assert_int_eq(replicate_objective_parse("throughput", &o, &alpha), 0);
    ck_assert_int_eq(o, REPLICATE_OBJ_THROUGHPUT);
    ck_assert_int_eq(replicate_objective_parse("mix:0.25", &o, &alpha), 0);
    ck_assert_int_eq(o, REPLICATE_OBJ_MIX);
    ck_assert_double_eq(alpha, 0.25);
    ck_assert_int_eq(replicate_objective_parse("mix", &o, &alpha), 0);
    ck_assert_double_eq(alpha, 0.5);
    ck_assert_int_eq(replicate_objective_parse("mix:2", &o, &alpha), -1);
    ck_assert_int_eq(replicate_objective_parse("mix:", &o, &alpha), -1);
    ck_assert_int_eq(replicate_objective_parse("speed", &o, &alpha), -1);
    replicate_solver s;
    ck_assert_int_eq(replicate_solver_parse("greedy", &s), 0);
    ck_assert_int_eq(s, REPLICATE_SOLVER_GREEDY);
    ck_assert_int_eq(replicate_solver_parse("cplex", &s), -1);
}
END_TEST

START_TEST(test_replicate_exact_refuses_mix)
{
    replicate_problem p;
    replicate_result r;
    err e;
    two_layers(&p, 6, REPLICATE_OBJ_MIX);
    ck_assert_int_eq(replicate_solve_exact(&p, &r, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "expected glpk"));
    replicate_problem_fini(&p);
}
END_TEST

static Suite *replicate_suite(void)
{
    Suite *s = suite_create("replicate");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_replicate_candidates);
    tcase_add_test(tc, test_replicate_hand_worked);
    tcase_add_test(tc, test_replicate_infeasible);
    tcase_add_test(tc, test_replicate_brute_force);
    tcase_add_test(tc, test_replicate_monotone);
    tcase_add_test(tc, test_replicate_bridge_matches_model);
    tcase_add_test(tc, test_replicate_budget_parse);
    tcase_add_test(tc, test_replicate_objective_parse);
    tcase_add_test(tc, test_replicate_exact_refuses_mix);
    suite_add_tcase(s, tc);
    TCase *random = tcase_create("random");
    tcase_set_timeout(random, 240);
    tcase_add_test(random, test_replicate_glpk_equals_exact_random);
    tcase_add_test(random, test_replicate_lp_heuristic);
    tcase_add_test(random, test_replicate_prune_keeps_good_solutions);
    tcase_add_test(random, test_replicate_pruned_equals_unpruned);
    tcase_add_test(random, test_replicate_identical_layers);
    tcase_add_test(random, test_replicate_glpk_any_start);
    suite_add_tcase(s, random);
    TCase *nets = tcase_create("networks");
    tcase_set_timeout(nets, 240);
    tcase_add_loop_test(nets, test_replicate_networks, 0,
                        (int)(sizeof networks / sizeof networks[0]));
    suite_add_tcase(s, nets);
    return s;
}

int main(void)
{
    return testutil_run(replicate_suite());
}
