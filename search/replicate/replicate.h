/* replicate: LRMP's layer replication -- choose integer copies r_l (1 <= r_l <= P_l) of every
 * crossbar layer under a tile budget sum_l r_l x tiles_l <= budget, minimising latency (sum of
 * layer times), the slowest layer (throughput) or a weighted mix. T_l(r) = ceil(P_l / r) x c_l
 * exactly, c_l the per-vector time of one copy; only the smallest r of each distinct ceil(P_l / r)
 * is a candidate. The problem is plain arrays: the solvers know nothing of networks (see
 * replicate_problem_from_model for the bridge). Back ends: exact (DP / bisection, replicate.c,
 * with the LP bound of replicate_bound.c), GLPK (replicate_glpk.c), greedy (replicate.c). All times
 * are integer ps. This header is the whole interface of the search/replicate room.
 */
#ifndef XBARSIM_SEARCH_REPLICATE_H
#define XBARSIM_SEARCH_REPLICATE_H

#include <stdint.h>
#include <stdio.h>

#include "arch.h"
#include "err.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"

/* Objectives: X(ID, name). mix: alpha x latency + (1 - alpha) x slowest layer. */
#define REPLICATE_OBJECTIVE_MAP(X)                                                                 \
    X(LATENCY, "latency")                                                                          \
    X(THROUGHPUT, "throughput")                                                                    \
    X(MIX, "mix")

typedef enum replicate_objective {
#define REPLICATE_OBJ_ENUM(id, name) REPLICATE_OBJ_##id,
    REPLICATE_OBJECTIVE_MAP(REPLICATE_OBJ_ENUM)
#undef REPLICATE_OBJ_ENUM
        REPLICATE_OBJ_COUNT
} replicate_objective;

/* Solvers: X(ID, name). */
#define REPLICATE_SOLVER_MAP(X)                                                                    \
    X(GLPK, "glpk")                                                                                \
    X(EXACT, "exact")                                                                              \
    X(GREEDY, "greedy")

typedef enum replicate_solver {
#define REPLICATE_SOLVER_ENUM(id, name) REPLICATE_SOLVER_##id,
    REPLICATE_SOLVER_MAP(REPLICATE_SOLVER_ENUM)
#undef REPLICATE_SOLVER_ENUM
        REPLICATE_SOLVER_COUNT
} replicate_solver;

/* One candidate copy count of a layer: the smallest r giving its ceil(P / r). */
typedef struct replicate_cand {
    uint64_t copies;  /* r, count */
    uint64_t time_ps; /* T_l(r) = ceil(P / r) x c_l, ps */
    uint64_t tiles;   /* r x tiles per copy, count */
} replicate_cand;

typedef struct replicate_layer {
    uint64_t vectors;     /* P: input vectors per inference, count */
    uint64_t vector_ps;   /* c: time of one vector through one copy, ps */
    uint64_t tiles;       /* tiles of one copy, count */
    unsigned n_cand;      /* candidates, count (>= 1; set by replicate_problem_prepare) */
    replicate_cand *cand; /* by increasing copies (so increasing tiles, decreasing time); owned */
} replicate_layer;

typedef struct replicate_problem {
    unsigned n;              /* crossbar layers, count */
    replicate_layer *layers; /* owned */
    uint64_t fixed_ps;       /* sum of the digital layers' times, ps */
    uint64_t fixed_max_ps;   /* the slowest digital layer, ps (a floor for the slowest layer) */
    uint64_t budget;         /* tiles, count */
    replicate_objective objective;
    double alpha;           /* mix weight of latency, 0..1 (mix only) */
    unsigned time_limit_ms; /* GLPK time limit, ms; 0: none */
    int no_prune; /* 1: no pruning by bounds nor classes of identical layers (tests), flag */
} replicate_problem;

typedef struct replicate_result {
    uint64_t *copies;    /* r per layer; owned (free) */
    uint64_t latency_ps; /* fixed_ps + sum T_l(r_l), ps */
    uint64_t slowest_ps; /* max(fixed_max_ps, max T_l(r_l)), ps */
    uint64_t tiles;      /* sum r_l x tiles_l, count */
    double objective;    /* latency_ps, slowest_ps, or alpha x latency + (1-alpha) x slowest */
} replicate_result;

/* Initialise p for n layers, every field zero and layers allocated (the caller fills vectors,
 * vector_ps, tiles, fixed_*, budget, objective). Release with replicate_problem_fini. */
void replicate_problem_init(replicate_problem *p, unsigned n);
/* Compute every layer's candidates (once; again after changing a layer). Layer fields must be
 * positive (asserted). */
void replicate_problem_prepare(replicate_problem *p);
/* Tiles of one copy of every layer: the least feasible budget, count. */
uint64_t replicate_min_budget(const replicate_problem *p);
void replicate_problem_fini(replicate_problem *p);

/* Solve p (prepared) with the named back end. Returns 0 with *out filled (owned by the caller:
 * replicate_result_fini), or ERR_INPUT when the budget is below replicate_min_budget ("needs at
 * least N tiles for one copy of every layer"), or when the exact solver is asked for mix;
 * ERR_LIMIT when GLPK hits the time limit; *out untouched on error. Greedy is a heuristic. */
int replicate_solve(const replicate_problem *p, replicate_solver s, replicate_result *out, err *e);
int replicate_solve_exact(const replicate_problem *p, replicate_result *out, err *e);
int replicate_solve_glpk(const replicate_problem *p, replicate_result *out, err *e);
int replicate_solve_greedy(const replicate_problem *p, replicate_result *out, err *e);
/* Fill latency, slowest, tiles and objective of r from r->copies. */
void replicate_evaluate(const replicate_problem *p, replicate_result *r);
void replicate_result_fini(replicate_result *r);

/* Names: parse returns 0, or -1 for an unknown name. "mix:A" sets *alpha = A (0..1); "mix" 0.5. */
const char *replicate_objective_name(replicate_objective o);
int replicate_objective_parse(const char *s, replicate_objective *o, double *alpha);
const char *replicate_solver_name(replicate_solver s);
int replicate_solver_parse(const char *s, replicate_solver *out);

/* Bridge to the mapper (replicate_model.c). The problem for network n on arch a
 * (weight-stationary) at policy pol: per crossbar layer P, the per-vector time T_in + T_tile +
 * T_out + T_d and the tiles of one copy, the digital layers' times, budget from spec (an integer
 * tile count, "1.5x" times the tiles of the all-8/8 network with one copy each, or "chip"), and
 * the objective. p is prepared and owned by the caller. ERR_INPUT for a bad budget string or a
 * reprogram-mode arch. The layer times do not depend on the chip size: a network too large for
 * the chip still gets its problem (so the solver can say how many tiles it needs). */
int replicate_problem_from_model(const network *n, const arch *a, const policy *pol,
                                 const char *budget_spec, replicate_objective obj, double alpha,
                                 replicate_problem *p, err *e);
/* Solve p with solver s and lay the copies out with placement on a. Group alignment can push a
 * layout past the chip; then the budget is lowered by the excess and the problem solved again, at
 * most REPLICATE_FIT_ATTEMPTS times (the budget falls on every attempt, so the loop ends anyway;
 * ResNet-34 on lrmp for throughput needs 35 attempts of 8 tiles each, about 1 ms each with the
 * exact solver). Returns 0 with copies[0..n->n_xbar) set, *m and *mo the
 * fitting layout and its price (owned by the caller: mapping_fini, model_fini) and p->budget the
 * budget that fit; or a negative status with e set (the solver's error, or ERR_INPUT "the copies
 * do not fit the chip's N tiles in groups") and nothing to release. */
#define REPLICATE_FIT_ATTEMPTS 64
int replicate_fit(const network *n, const arch *a, const policy *pol, mapping_placement placement,
                  replicate_problem *p, replicate_solver s, unsigned *copies, mapping *m, model *mo,
                  err *e);
/* Parse a budget spec against a baseline tile count and the chip's: 0 and *out, or ERR_INPUT. */
int replicate_budget_parse(const char *spec, uint64_t baseline_tiles, uint64_t chip_tiles,
                           uint64_t *out, err *e);

#endif
