/* replicate_bound: the latency objective's LP relaxation and the exact candidate pruning it allows
 * (see replicate_internal.h). The relaxation of the multiple-choice knapsack takes each layer's
 * lower convex hull of (tiles, time) and spends the budget on hull segments by decreasing time
 * saved per tile; the slope of the first segment that does not fit is the budget row's multiplier.
 * The pruning test is integer arithmetic (ps x tiles), so it is exact; on overflow nothing is
 * pruned.
 */
#include <assert.h>
#include <stdlib.h>

#include "mem.h"
#include "replicate_internal.h"

/* One segment of a layer's lower convex hull, from its current vertex to candidate `to`. */
typedef struct hull_seg {
    double slope;   /* time saved per extra tile, ps per tile */
    uint64_t dt;    /* extra tiles, count */
    uint64_t dtime; /* time saved, ps */
    unsigned layer;
    unsigned to; /* candidate index of the segment's end */
} hull_seg;

/* Segments by decreasing slope; ties by layer, then by end, so a layer's segments keep order. */
static int cmp_seg(const void *a, const void *b)
{
    const hull_seg *x = a, *y = b;
    if (x->slope != y->slope)
        return x->slope < y->slope ? 1 : -1;
    if (x->layer != y->layer)
        return x->layer < y->layer ? -1 : 1;
    return (x->to > y->to) - (x->to < y->to);
}

static double seg_slope(const replicate_cand *a, const replicate_cand *b)
{
    return (double)(a->time_ps - b->time_ps) / (double)(b->tiles - a->tiles);
}

/* Append the segments of layer i's lower convex hull to seg (room for n_cand - 1); returns how
 * many. The hull's slopes strictly decrease (as computed, in double), so the global sort keeps
 * them in order. stack: n_cand entries of scratch. */
static unsigned layer_hull(const replicate_layer *l, unsigned i, unsigned *stack, hull_seg *seg)
{
    unsigned top = 0;
    for (unsigned c = 0; c < l->n_cand; c++) {
        while (top >= 2 && !(seg_slope(&l->cand[stack[top - 2]], &l->cand[stack[top - 1]]) >
                             seg_slope(&l->cand[stack[top - 1]], &l->cand[c])))
            top--;
        stack[top++] = c;
    }
    for (unsigned h = 1; h < top; h++) {
        const replicate_cand *a = &l->cand[stack[h - 1]], *b = &l->cand[stack[h]];
        seg[h - 1] = (hull_seg){.slope = seg_slope(a, b),
                                .dt = b->tiles - a->tiles,
                                .dtime = a->time_ps - b->time_ps,
                                .layer = i,
                                .to = stack[h]};
    }
    return top - 1;
}

/* Spend the tiles left by the LP's integer part: repeatedly the upgrade (any later candidate of
 * any layer) saving the most time that still fits. */
static void fill(const replicate_problem *p, unsigned *pick, uint64_t left)
{
    for (;;) {
        unsigned best_i = p->n, best_k = 0;
        uint64_t best_gain = 0;
        for (unsigned i = 0; i < p->n; i++) {
            const replicate_layer *l = &p->layers[i];
            const replicate_cand *now = &l->cand[pick[i]];
            for (unsigned k = pick[i] + 1; k < l->n_cand && l->cand[k].tiles - now->tiles <= left;
                 k++)
                if (now->time_ps - l->cand[k].time_ps > best_gain) {
                    best_gain = now->time_ps - l->cand[k].time_ps;
                    best_i = i;
                    best_k = k;
                }
        }
        if (best_i == p->n)
            return;
        left -= p->layers[best_i].cand[best_k].tiles - p->layers[best_i].cand[pick[best_i]].tiles;
        pick[best_i] = best_k;
    }
}

uint64_t replicate__latency_heuristic(const replicate_problem *p, unsigned *pick, uint64_t *num,
                                      uint64_t *den)
{
    size_t total = 0;
    unsigned widest = 1;
    for (unsigned i = 0; i < p->n; i++) {
        total += p->layers[i].n_cand;
        if (p->layers[i].n_cand > widest)
            widest = p->layers[i].n_cand;
    }
    hull_seg *seg = mem_alloc((total ? total : 1) * sizeof *seg, "replication hull");
    unsigned *stack = mem_alloc(widest * sizeof *stack, "replication hull");
    size_t ns = 0;
    for (unsigned i = 0; i < p->n; i++) {
        pick[i] = 0;
        ns += layer_hull(&p->layers[i], i, stack, seg + ns);
    }
    qsort(seg, ns, sizeof *seg, cmp_seg);
    uint64_t used = replicate_min_budget(p);
    assert(used <= p->budget);
    *num = 0;
    *den = 1;
    for (size_t s = 0; s < ns; s++) {
        if (used + seg[s].dt > p->budget) {
            uint64_t g = replicate__gcd(seg[s].dtime, seg[s].dt);
            *num = seg[s].dtime / g;
            *den = seg[s].dt / g;
            break;
        }
        used += seg[s].dt;
        pick[seg[s].layer] = seg[s].to;
    }
    free(stack);
    free(seg);
    fill(p, pick, p->budget - used);
    uint64_t sum = 0;
    for (unsigned i = 0; i < p->n; i++)
        sum += p->layers[i].cand[pick[i]].time_ps;
    return sum;
}

/* *acc += a x b; -1 (acc unchanged) on overflow. */
static int mul_add(uint64_t *acc, uint64_t a, uint64_t b)
{
    if (b && a > (UINT64_MAX - *acc) / b)
        return -1;
    *acc += a * b;
    return 0;
}

/* den x (T + lambda x tiles) of candidate c, ps x tiles scaled by den; -1 on overflow. */
static int lagrange_cost(const replicate_cand *c, uint64_t num, uint64_t den, uint64_t *out)
{
    *out = 0;
    return mul_add(out, den, c->time_ps) < 0 || mul_add(out, num, c->tiles) < 0 ? -1 : 0;
}

/* Lagrangian bound. For any lambda >= 0 and any solution within budget B,
 *   sum_i T_i(k_i) >= sum_i T_i(k_i) + lambda (sum_i tiles_i(k_i) - B)
 *                  = L(lambda) + sum_i rc_i(k_i),
 * L(lambda) = sum_i min_k (T_i(k) + lambda tiles_i(k)) - lambda B, and the reduced cost
 * rc_i(k) = T_i(k) + lambda tiles_i(k) - min_k' (...) >= 0. So a candidate with
 * L(lambda) + rc_i(k) > upper is in no solution of time <= upper. Scaled by den, all integer.
 * Returns -1 (nothing marked) on overflow. */
static int lagrange_prune(const replicate_problem *p, uint64_t upper, uint64_t num, uint64_t den,
                          replicate__keep *k)
{
    uint64_t *least = mem_alloc((p->n ? p->n : 1) * sizeof *least, "replication bound");
    uint64_t sum = 0, rhs = 0, v;
    int rc = mul_add(&rhs, den, upper) < 0 || mul_add(&rhs, num, p->budget) < 0 ? -1 : 0;
    for (unsigned i = 0; i < p->n && rc == 0; i++) {
        const replicate_layer *l = &p->layers[i];
        least[i] = UINT64_MAX;
        for (unsigned c = 0; c < l->n_cand && rc == 0; c++) {
            rc = lagrange_cost(&l->cand[c], num, den, &v);
            if (rc == 0 && v < least[i])
                least[i] = v;
        }
        if (rc == 0)
            rc = mul_add(&sum, least[i], 1);
    }
    if (rc == 0) {
        assert(sum <= rhs); /* L(lambda) <= the optimum <= upper */
        uint64_t gap = rhs - sum;
        for (unsigned i = 0; i < p->n; i++) {
            const replicate_layer *l = &p->layers[i];
            for (unsigned c = 0; c < l->n_cand; c++) {
                lagrange_cost(&l->cand[c], num, den, &v);
                if (v - least[i] > gap)
                    k->keep[k->off[i] + c] = 0;
            }
        }
    }
    free(least);
    return rc;
}

/* Tiles: a candidate needing more than the budget left by every other layer's least kept
 * candidate is in no solution within budget. */
static void tiles_prune(const replicate_problem *p, replicate__keep *k)
{
    uint64_t base = 0;
    for (unsigned i = 0; i < p->n; i++) {
        unsigned c = 0;
        while (c < p->layers[i].n_cand && !k->keep[k->off[i] + c])
            c++;
        assert(c < p->layers[i].n_cand); /* the solution of time upper is kept */
        base += p->layers[i].cand[c].tiles;
    }
    assert(base <= p->budget);
    for (unsigned i = 0; i < p->n; i++) {
        const replicate_layer *l = &p->layers[i];
        unsigned first = 0;
        while (!k->keep[k->off[i] + first])
            first++;
        for (unsigned c = first + 1; c < l->n_cand; c++)
            if (l->cand[c].tiles - l->cand[first].tiles > p->budget - base)
                k->keep[k->off[i] + c] = 0;
    }
}

void replicate__keep_latency(const replicate_problem *p, uint64_t upper_ps, uint64_t num,
                             uint64_t den, replicate__keep *k)
{
    k->off = mem_alloc(((size_t)p->n + 1) * sizeof *k->off, "replication keep");
    k->off[0] = 0;
    for (unsigned i = 0; i < p->n; i++)
        k->off[i + 1] = k->off[i] + p->layers[i].n_cand;
    k->keep = mem_alloc(k->off[p->n] ? k->off[p->n] : 1, "replication keep");
    for (unsigned c = 0; c < k->off[p->n]; c++)
        k->keep[c] = 1;
    if (!p->no_prune && (upper_ps == UINT64_MAX || lagrange_prune(p, upper_ps, num, den, k) == 0))
        tiles_prune(p, k);
    k->kept = 0;
    for (unsigned c = 0; c < k->off[p->n]; c++)
        k->kept += k->keep[c];
}

void replicate__keep_fini(replicate__keep *k)
{
    if (!k)
        return;
    free(k->off);
    free(k->keep);
    k->off = NULL;
    k->keep = NULL;
}
