/* replicate_internal: cross-file internals of the replicate module (replicate.c, replicate_bound.c,
 * replicate_glpk.c) -- the latency objective's LP relaxation (a multiple-choice knapsack over each
 * layer's lower convex hull), a feasible solution rounded from it, and the exact candidate pruning
 * by Lagrangian bound. Invariant: a pruned candidate is in no solution whose crossbar time is at
 * most the given upper bound, so every such solution (an optimum among them) survives.
 */
#ifndef XBARSIM_SEARCH_REPLICATE_INTERNAL_H
#define XBARSIM_SEARCH_REPLICATE_INTERNAL_H

#include <stdint.h>

#include "replicate.h"

/* Greatest common divisor of a and b (gcd(a, 0) = a). */
uint64_t replicate__gcd(uint64_t a, uint64_t b);

/* The candidates kept by replicate__keep_latency: candidate k of layer i is kept iff
 * keep[off[i] + k]. */
typedef struct replicate__keep {
    unsigned *off;       /* n + 1 offsets into keep, count */
    unsigned char *keep; /* 1: kept, 0: pruned; one per candidate */
    unsigned kept;       /* kept candidates, count */
} replicate__keep;

/* A feasible solution of the latency objective (p prepared, budget >= replicate_min_budget):
 * the LP relaxation's integer part (hull vertices taken by decreasing time saved per tile until
 * the first that does not fit), then filled greedily. pick[i] (n entries, caller's) gets the
 * candidate of layer i; *num / *den (den >= 1) the LP's multiplier of the budget row, ps per
 * tile (0 / 1 when every hull vertex fits). Returns the solution's crossbar time sum_i T_i, ps. */
uint64_t replicate__latency_heuristic(const replicate_problem *p, unsigned *pick, uint64_t *num,
                                      uint64_t *den);

/* Mark in *k (allocated here; replicate__keep_fini) the candidates that can be in a solution
 * within budget with crossbar time sum_i T_i <= upper_ps (upper_ps must be such a solution's
 * time), by the Lagrangian bound with multiplier num / den ps per tile (any value is valid; the
 * LP's is the tightest) and by tiles; upper_ps UINT64_MAX: by tiles only. With p->no_prune every
 * candidate is kept. */
void replicate__keep_latency(const replicate_problem *p, uint64_t upper_ps, uint64_t num,
                             uint64_t den, replicate__keep *k);
void replicate__keep_fini(replicate__keep *k);

/* replicate_solve_glpk from the given start (any r vector, or NULL for none; the caller keeps
 * it), which bounds the columns only once checked feasible: the optimum must not depend on it
 * (tests start from greedy). Budget at least replicate_min_budget (asserted). */
int replicate__solve_glpk_from(const replicate_problem *p, const replicate_result *start,
                               replicate_result *out, err *e);

#endif
