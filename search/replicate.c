/* replicate: the problem, its candidates, the exact solver and the greedy heuristic (see
 * replicate.h; GLPK is in replicate_glpk.c). Exact latency: a multiple-choice knapsack solved by a
 * DP over the tiles beyond one copy of every layer (the slack), keeping every layer's row for the
 * backtrack. Exact throughput: bisection over the sorted finite set of candidate times.
 * Invariant: a layer's candidates are sorted by copies, tiles strictly increasing, time strictly
 * decreasing; the result of every solver is within budget and 1 <= r_l <= P_l.
 */
#include "replicate.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static const char *const objective_names[REPLICATE_OBJ_COUNT] = {
#define REPLICATE_OBJ_NAME(id, name) [REPLICATE_OBJ_##id] = name,
    REPLICATE_OBJECTIVE_MAP(REPLICATE_OBJ_NAME)
#undef REPLICATE_OBJ_NAME
};

static const char *const solver_names[REPLICATE_SOLVER_COUNT] = {
#define REPLICATE_SOLVER_NAME(id, name) [REPLICATE_SOLVER_##id] = name,
    REPLICATE_SOLVER_MAP(REPLICATE_SOLVER_NAME)
#undef REPLICATE_SOLVER_NAME
};

const char *replicate_objective_name(replicate_objective o)
{
    assert(o < REPLICATE_OBJ_COUNT);
    return objective_names[o];
}

int replicate_objective_parse(const char *s, replicate_objective *o, double *alpha)
{
    if (strncmp(s, "mix", 3) == 0 && (s[3] == '\0' || s[3] == ':')) {
        double a = 0.5;
        if (s[3] == ':') {
            char *end;
            errno = 0;
            a = strtod(s + 4, &end);
            if (end == s + 4 || *end || errno || !(a >= 0.0 && a <= 1.0))
                return -1;
        }
        *o = REPLICATE_OBJ_MIX;
        *alpha = a;
        return 0;
    }
    for (int i = 0; i < REPLICATE_OBJ_COUNT; i++)
        if (i != REPLICATE_OBJ_MIX && strcmp(s, objective_names[i]) == 0) {
            *o = (replicate_objective)i;
            *alpha = i == REPLICATE_OBJ_LATENCY ? 1.0 : 0.0;
            return 0;
        }
    return -1;
}

const char *replicate_solver_name(replicate_solver s)
{
    assert(s < REPLICATE_SOLVER_COUNT);
    return solver_names[s];
}

int replicate_solver_parse(const char *s, replicate_solver *out)
{
    for (int i = 0; i < REPLICATE_SOLVER_COUNT; i++)
        if (strcmp(s, solver_names[i]) == 0) {
            *out = (replicate_solver)i;
            return 0;
        }
    return -1;
}

void replicate_problem_init(replicate_problem *p, unsigned n)
{
    *p = (replicate_problem){.n = n, .alpha = 1.0};
    p->layers = mem_calloc(n ? n : 1, sizeof *p->layers, "replication problem");
}

void replicate_problem_fini(replicate_problem *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n && p->layers; i++)
        free(p->layers[i].cand);
    free(p->layers);
    p->layers = NULL;
    p->n = 0;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

void replicate_problem_prepare(replicate_problem *p)
{
    for (unsigned i = 0; i < p->n; i++) {
        replicate_layer *l = &p->layers[i];
        assert(l->vectors >= 1 && l->vector_ps >= 1 && l->tiles >= 1);
        free(l->cand);
        /* ceil(P / r) takes fewer than 2 sqrt(P) + 1 distinct values. */
        size_t cap = 8;
        l->cand = mem_alloc(cap * sizeof *l->cand, "replication candidates");
        l->n_cand = 0;
        for (uint64_t r = 1;;) {
            uint64_t q = ceil_div(l->vectors, r);
            if (l->n_cand == cap) {
                cap *= 2;
                l->cand = mem_realloc(l->cand, cap, sizeof *l->cand, "replication candidates");
            }
            l->cand[l->n_cand++] =
                (replicate_cand){.copies = r, .time_ps = q * l->vector_ps, .tiles = r * l->tiles};
            if (q == 1)
                break;
            r = ceil_div(l->vectors, q - 1); /* smallest r with ceil(P / r) <= q - 1 */
        }
    }
}

uint64_t replicate_min_budget(const replicate_problem *p)
{
    uint64_t t = 0;
    for (unsigned i = 0; i < p->n; i++)
        t += p->layers[i].tiles;
    return t;
}

void replicate_result_fini(replicate_result *r)
{
    if (!r)
        return;
    free(r->copies);
    r->copies = NULL;
}

void replicate_evaluate(const replicate_problem *p, replicate_result *r)
{
    r->latency_ps = p->fixed_ps;
    r->slowest_ps = p->fixed_max_ps;
    r->tiles = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const replicate_layer *l = &p->layers[i];
        assert(r->copies[i] >= 1 && r->copies[i] <= l->vectors);
        uint64_t t = ceil_div(l->vectors, r->copies[i]) * l->vector_ps;
        r->latency_ps += t;
        if (t > r->slowest_ps)
            r->slowest_ps = t;
        r->tiles += r->copies[i] * l->tiles;
    }
    switch (p->objective) {
    case REPLICATE_OBJ_LATENCY:
        r->objective = (double)r->latency_ps;
        break;
    case REPLICATE_OBJ_THROUGHPUT:
        r->objective = (double)r->slowest_ps;
        break;
    default:
        r->objective = p->alpha * (double)r->latency_ps + (1.0 - p->alpha) * (double)r->slowest_ps;
        break;
    }
}

static int check_budget(const replicate_problem *p, err *e)
{
    uint64_t need = replicate_min_budget(p);
    if (p->budget < need)
        return err_set(e, ERR_INPUT,
                       "budget: found %llu tiles, needs at least %llu tiles for one copy of every "
                       "layer",
                       (unsigned long long)p->budget, (unsigned long long)need);
    return 0;
}

/* The result with copies[i] = the candidate pick[i] of each layer. */
static void result_from_picks(const replicate_problem *p, const unsigned *pick,
                              replicate_result *out)
{
    replicate_result r = {0};
    r.copies = mem_calloc(p->n ? p->n : 1, sizeof *r.copies, "replication copies");
    for (unsigned i = 0; i < p->n; i++)
        r.copies[i] = p->layers[i].cand[pick[i]].copies;
    replicate_evaluate(p, &r);
    assert(r.tiles <= p->budget);
    *out = r;
}

/* Latency: dp_l[s] = least sum of T_j(r_j), j <= l, using at most s tiles beyond one copy each. */
static void exact_latency(const replicate_problem *p, unsigned *pick)
{
    uint64_t slack = p->budget - replicate_min_budget(p);
    /* States beyond what every layer's largest candidate can use are never needed. */
    uint64_t reach = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const replicate_layer *l = &p->layers[i];
        reach += l->cand[l->n_cand - 1].tiles - l->tiles;
        if (reach >= slack)
            break;
    }
    size_t w = (size_t)(reach < slack ? reach : slack) + 1;
    uint64_t *dp = mem_alloc((size_t)p->n * w * sizeof *dp, "replication DP");
    for (unsigned i = 0; i < p->n; i++) {
        const replicate_layer *l = &p->layers[i];
        uint64_t *cur = dp + (size_t)i * w;
        const uint64_t *prev = i ? cur - w : NULL;
        uint64_t t0 = l->cand[0].time_ps;
        for (size_t s = 0; s < w; s++)
            cur[s] = (prev ? prev[s] : 0) + t0;
        for (unsigned k = 1; k < l->n_cand; k++) {
            uint64_t extra = l->cand[k].tiles - l->tiles;
            if (extra >= w)
                break;
            uint64_t t = l->cand[k].time_ps;
            uint64_t *dst = cur + extra;
            size_t m = w - (size_t)extra;
            if (prev) {
                for (size_t s = 0; s < m; s++) {
                    uint64_t v = prev[s] + t;
                    dst[s] = v < dst[s] ? v : dst[s];
                }
            } else {
                for (size_t s = 0; s < m; s++)
                    dst[s] = t < dst[s] ? t : dst[s];
            }
        }
    }
    /* Backtrack from the full slack: a pick whose predecessor state explains the value. */
    size_t s = w - 1;
    for (unsigned i = p->n; i-- > 0;) {
        const replicate_layer *l = &p->layers[i];
        const uint64_t *cur = dp + (size_t)i * w, *prev = i ? cur - w : NULL;
        unsigned k = 0;
        for (; k < l->n_cand; k++) {
            uint64_t extra = l->cand[k].tiles - l->tiles;
            if (extra > s)
                continue;
            uint64_t before = prev ? prev[s - extra] : 0;
            if (before + l->cand[k].time_ps == cur[s])
                break;
        }
        assert(k < l->n_cand);
        pick[i] = k;
        s -= (size_t)(l->cand[k].tiles - l->tiles);
    }
    free(dp);
}

/* The smallest candidate of layer l with time <= m (candidates' times decrease), or n_cand. */
static unsigned first_within(const replicate_layer *l, uint64_t m)
{
    unsigned lo = 0, hi = l->n_cand;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (l->cand[mid].time_ps <= m)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Tiles needed for every layer to take at most m, or UINT64_MAX when some layer cannot. */
static uint64_t tiles_for(const replicate_problem *p, uint64_t m, unsigned *pick)
{
    uint64_t t = 0;
    for (unsigned i = 0; i < p->n; i++) {
        unsigned k = first_within(&p->layers[i], m);
        if (k == p->layers[i].n_cand)
            return UINT64_MAX;
        if (pick)
            pick[i] = k;
        t += p->layers[i].cand[k].tiles;
    }
    return t;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Throughput: the least M in {T_l(r)} u {fixed_max} whose per-layer least copies fit. */
static void exact_throughput(const replicate_problem *p, unsigned *pick)
{
    size_t nv = 1;
    for (unsigned i = 0; i < p->n; i++)
        nv += p->layers[i].n_cand;
    uint64_t *v = mem_alloc(nv * sizeof *v, "replication times");
    size_t k = 0;
    v[k++] = p->fixed_max_ps;
    for (unsigned i = 0; i < p->n; i++)
        for (unsigned c = 0; c < p->layers[i].n_cand; c++)
            if (p->layers[i].cand[c].time_ps > p->fixed_max_ps)
                v[k++] = p->layers[i].cand[c].time_ps;
    qsort(v, k, sizeof *v, cmp_u64);
    /* v[k-1] (every layer at one copy, or the digital floor) is feasible. */
    size_t lo = 0, hi = k - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tiles_for(p, v[mid], NULL) <= p->budget)
            hi = mid;
        else
            lo = mid + 1;
    }
    uint64_t t = tiles_for(p, v[lo], pick);
    assert(t <= p->budget);
    (void)t;
    free(v);
}

int replicate_solve_exact(const replicate_problem *p, replicate_result *out, err *e)
{
    ERR_TRY(check_budget(p, e));
    if (p->objective == REPLICATE_OBJ_MIX)
        return err_set(e, ERR_INPUT,
                       "solver: found exact with objective mix, expected glpk (the exact solver "
                       "does latency and throughput)");
    unsigned *pick = mem_calloc(p->n ? p->n : 1, sizeof *pick, "replication picks");
    if (p->n) {
        if (p->objective == REPLICATE_OBJ_LATENCY)
            exact_latency(p, pick);
        else
            exact_throughput(p, pick);
    }
    result_from_picks(p, pick, out);
    free(pick);
    return 0;
}

/* Greedy: from one copy each, give the slowest layer its next candidate while it fits. For
 * throughput stop at the first slowest layer that cannot grow; otherwise set it aside and go on
 * with the next slowest. */
int replicate_solve_greedy(const replicate_problem *p, replicate_result *out, err *e)
{
    ERR_TRY(check_budget(p, e));
    unsigned *pick = mem_calloc(p->n ? p->n : 1, sizeof *pick, "replication picks");
    unsigned char *done = mem_calloc(p->n ? p->n : 1, 1, "replication marks");
    uint64_t used = replicate_min_budget(p);
    for (;;) {
        unsigned best = p->n;
        for (unsigned i = 0; i < p->n; i++)
            if (!done[i] && (best == p->n || p->layers[i].cand[pick[i]].time_ps >
                                                 p->layers[best].cand[pick[best]].time_ps))
                best = i;
        if (best == p->n)
            break;
        const replicate_layer *l = &p->layers[best];
        uint64_t now = l->cand[pick[best]].time_ps;
        if (p->objective == REPLICATE_OBJ_THROUGHPUT && now <= p->fixed_max_ps)
            break;
        if (pick[best] + 1 < l->n_cand &&
            used - l->cand[pick[best]].tiles + l->cand[pick[best] + 1].tiles <= p->budget) {
            used = used - l->cand[pick[best]].tiles + l->cand[pick[best] + 1].tiles;
            pick[best]++;
        } else if (p->objective == REPLICATE_OBJ_THROUGHPUT) {
            break;
        } else {
            done[best] = 1;
        }
    }
    result_from_picks(p, pick, out);
    free(done);
    free(pick);
    return 0;
}

int replicate_solve(const replicate_problem *p, replicate_solver s, replicate_result *out, err *e)
{
    switch (s) {
    case REPLICATE_SOLVER_GLPK:
        return replicate_solve_glpk(p, out, e);
    case REPLICATE_SOLVER_EXACT:
        return replicate_solve_exact(p, out, e);
    default:
        return replicate_solve_greedy(p, out, e);
    }
}
