/* replicate: the problem, its candidates, the exact solver and the greedy heuristic (see
 * replicate.h; GLPK is in replicate_glpk.c, the LP bound and pruning in replicate_bound.c). Exact
 * latency: a multiple-choice knapsack -- candidates pruned by the Lagrangian bound against an
 * LP-rounded solution, then a DP over the kept candidates' extra tiles in units of their gcd.
 * Exact throughput: bisection over the sorted finite set of candidate times.
 * Invariant: a layer's candidates are sorted by copies, tiles strictly increasing, time strictly
 * decreasing (so none dominates another); the result of every solver is within budget and
 * 1 <= r_l <= P_l.
 */
#include "replicate.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "replicate_internal.h"

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

uint64_t replicate__gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The DP's view of the kept candidates of its active layers (two or more kept), flattened:
 * layer a's are [off[a], off[a + 1]), by increasing extra units. */
typedef struct dp_items {
    unsigned n_act;  /* active layers, count */
    unsigned *layer; /* problem layer of each active layer */
    unsigned *off;   /* n_act + 1 offsets */
    unsigned *cand;  /* candidate index in its layer */
    uint64_t *extra; /* units beyond the layer's least kept candidate, count of g tiles */
    uint64_t *time;  /* T_l(r), ps */
    size_t width;    /* DP states: 0 .. width - 1 units */
} dp_items;

/* Gather the kept candidates; inactive layers get their pick here. A unit is g tiles, g the gcd
 * of every kept candidate's extra tiles: any sum of extras is a multiple of g, so it fits the
 * slack S iff it fits g floor(S / g), and the DP counts units. States beyond what the active
 * layers' largest kept candidates can use together are never needed. */
static void dp_gather(const replicate_problem *p, const replicate__keep *kp, unsigned *pick,
                      dp_items *it)
{
    *it = (dp_items){0};
    it->layer = mem_alloc((p->n ? p->n : 1) * sizeof *it->layer, "replication DP");
    it->off = mem_alloc(((size_t)p->n + 1) * sizeof *it->off, "replication DP");
    it->cand = mem_alloc((kp->kept ? kp->kept : 1) * sizeof *it->cand, "replication DP");
    it->extra = mem_alloc((kp->kept ? kp->kept : 1) * sizeof *it->extra, "replication DP");
    it->time = mem_alloc((kp->kept ? kp->kept : 1) * sizeof *it->time, "replication DP");
    uint64_t base = 0, g = 0;
    unsigned m = 0;
    it->off[0] = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const replicate_layer *l = &p->layers[i];
        const unsigned char *keep = kp->keep + kp->off[i];
        unsigned first = 0, count = 0;
        while (!keep[first])
            first++;
        base += l->cand[first].tiles;
        pick[i] = first;
        for (unsigned c = first; c < l->n_cand; c++)
            count += keep[c];
        if (count == 1)
            continue;
        it->layer[it->n_act++] = i;
        for (unsigned c = first; c < l->n_cand; c++)
            if (keep[c]) {
                it->cand[m] = c;
                it->extra[m] = l->cand[c].tiles - l->cand[first].tiles;
                it->time[m] = l->cand[c].time_ps;
                g = replicate__gcd(g, it->extra[m]);
                m++;
            }
        it->off[it->n_act] = m;
    }
    assert(base <= p->budget);
    uint64_t reach = 0, cap = g ? (p->budget - base) / g : 0;
    for (unsigned a = 0; a < it->n_act; a++) {
        for (unsigned j = it->off[a]; j < it->off[a + 1]; j++)
            it->extra[j] /= g;
        reach += it->extra[it->off[a + 1] - 1];
    }
    it->width = (size_t)(reach < cap ? reach : cap) + 1;
}

static void dp_items_fini(dp_items *it)
{
    free(it->layer);
    free(it->off);
    free(it->cand);
    free(it->extra);
    free(it->time);
}

/* dp_a[s] = least sum of T over active layers 0..a using at most s units; then backtrack. */
static void dp_solve(const dp_items *it, unsigned *pick)
{
    size_t w = it->width;
    uint64_t *dp = mem_alloc((size_t)it->n_act * w * sizeof *dp, "replication DP");
    for (unsigned a = 0; a < it->n_act; a++) {
        uint64_t *cur = dp + (size_t)a * w;
        const uint64_t *prev = a ? cur - w : NULL;
        unsigned j0 = it->off[a];
        for (size_t s = 0; s < w; s++)
            cur[s] = (prev ? prev[s] : 0) + it->time[j0];
        for (unsigned j = j0 + 1; j < it->off[a + 1] && it->extra[j] < w; j++) {
            uint64_t t = it->time[j];
            uint64_t *dst = cur + it->extra[j];
            size_t m = w - (size_t)it->extra[j];
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
    /* Backtrack from the full width: a candidate whose predecessor state explains the value. */
    size_t s = w - 1;
    for (unsigned a = it->n_act; a-- > 0;) {
        const uint64_t *cur = dp + (size_t)a * w, *prev = a ? cur - w : NULL;
        unsigned j = it->off[a];
        for (; j < it->off[a + 1]; j++) {
            if (it->extra[j] > s)
                continue;
            uint64_t before = prev ? prev[s - it->extra[j]] : 0;
            if (before + it->time[j] == cur[s])
                break;
        }
        assert(j < it->off[a + 1]);
        pick[it->layer[a]] = it->cand[j];
        s -= (size_t)it->extra[j];
    }
    free(dp);
}

/* Latency: a multiple-choice knapsack. The LP-rounded heuristic bounds the optimum from above,
 * the Lagrangian bound then prunes every candidate that cannot be in a solution as good
 * (replicate_bound.c), and a DP over the kept candidates finds the optimum among them -- which
 * is the optimum, since every solution at least as good as the heuristic's is kept. */
static void exact_latency(const replicate_problem *p, unsigned *pick)
{
    uint64_t num, den;
    uint64_t upper = replicate__latency_heuristic(p, pick, &num, &den);
    replicate__keep kp;
    replicate__keep_latency(p, upper, num, den, &kp);
    dp_items it;
    dp_gather(p, &kp, pick, &it);
    dp_solve(&it, pick);
    dp_items_fini(&it);
    replicate__keep_fini(&kp);
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
