/* replicate_model: the bridge from a mapped network to a replication problem -- per crossbar layer
 * P, the per-vector stage time sum of one copy and its tiles, from mapping.h and model.h; the
 * digital layers' fixed times; the budget from its spec. Invariant: for every layer and every r,
 * ceil(P / r) x vector_ps is exactly the T_l that model_evaluate prices with r copies.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mapping.h"
#include "model.h"
#include "price.h"
#include "replicate.h"

int replicate_budget_parse(const char *spec, uint64_t baseline_tiles, uint64_t chip_tiles,
                           uint64_t *out, err *e)
{
    if (strcmp(spec, "chip") == 0) {
        *out = chip_tiles;
        return 0;
    }
    size_t len = strlen(spec);
    char *end;
    errno = 0;
    if (len > 1 && (spec[len - 1] == 'x' || spec[len - 1] == 'X')) {
        double f = strtod(spec, &end);
        if (end != spec + len - 1 || errno || !(f > 0.0) || f > 1e6)
            return err_set(e, ERR_INPUT,
                           "budget: found \"%s\", expected TILES, FACTORx (e.g. 1.5x: times the "
                           "all-8/8 baseline's %llu tiles) or chip",
                           spec, (unsigned long long)baseline_tiles);
        /* A tiny allowance so that 1.1x of 1000 tiles is 1100, not 1099. */
        *out = (uint64_t)floor(f * (double)baseline_tiles + 1e-9);
        return 0;
    }
    unsigned long long v = strtoull(spec, &end, 10);
    if (end == spec || *end || errno || spec[0] == '-' || v == 0)
        return err_set(e, ERR_INPUT,
                       "budget: found \"%s\", expected TILES (a positive integer), FACTORx (e.g. "
                       "1.5x) or chip",
                       spec);
    *out = v;
    return 0;
}

int replicate_problem_from_model(const network *n, const arch *a, const policy *pol,
                                 const char *budget_spec, replicate_objective obj, double alpha,
                                 replicate_problem *p, err *e)
{
    if (a->mode != ARCH_MODE_WEIGHT_STATIONARY)
        return err_set(e, ERR_INPUT,
                       "%s: arch.mode: found %s, expected weight_stationary (copies only exist "
                       "when weights stay in their tiles)",
                       a->origin ? a->origin : a->name, arch_mode_name(a->mode));
    /* Baseline: all 8/8, one copy each. */
    policy base;
    policy_uniform(&base, n, 8, 8);
    mapping bm;
    model bmo;
    int rc = price_network(n, a, &base, NULL, MAPPING_PLACE_PACKED, &bm, &bmo, e);
    policy_fini(&base);
    ERR_TRY(rc);
    uint64_t baseline = bm.tiles_logical;
    model_fini(&bmo);
    mapping_fini(&bm);
    uint64_t budget;
    ERR_TRY(replicate_budget_parse(budget_spec, baseline, arch_system_tiles(a), &budget, e));

    mapping m;
    model mo;
    ERR_TRY(price_network(n, a, pol, NULL, MAPPING_PLACE_PACKED, &m, &mo, e));
    replicate_problem_init(p, n->n_xbar);
    p->budget = budget;
    p->objective = obj;
    p->alpha = alpha;
    p->time_limit_ms = 10000;
    for (unsigned i = 0; i < n->n_xbar; i++) {
        const mapping_layer *ml = &m.layers[i];
        const model_layer *l = &mo.layers[ml->layer];
        replicate_layer *rl = &p->layers[i];
        rl->vectors = ml->vectors;
        rl->vector_ps = l->t_in_ps + l->t_tile_ps + l->t_out_ps + l->t_d_ps;
        rl->tiles = ml->tiles_per_copy;
    }
    for (unsigned li = 0; li < n->n_layers; li++)
        if (n->layers[li].xbar_index < 0) {
            uint64_t t = mo.layers[li].time_ps;
            p->fixed_ps += t;
            if (t > p->fixed_max_ps)
                p->fixed_max_ps = t;
        }
    model_fini(&mo);
    mapping_fini(&m);
    replicate_problem_prepare(p);
    return 0;
}

int replicate_fit(const network *n, const arch *a, const policy *pol, mapping_placement placement,
                  replicate_problem *p, replicate_solver s, unsigned *copies, mapping *m, model *mo,
                  err *e)
{
    for (int attempt = 0;; attempt++) {
        replicate_result r = {0};
        ERR_TRY(replicate_solve(p, s, &r, e));
        for (unsigned i = 0; i < n->n_xbar; i++)
            copies[i] = (unsigned)r.copies[i];
        replicate_result_fini(&r);
        ERR_TRY(price_network(n, a, pol, copies, placement, m, mo, e));
        uint64_t system = arch_system_tiles(a);
        if (m->tiles_span <= system)
            return 0;
        uint64_t over = m->tiles_span - system;
        model_fini(mo);
        mapping_fini(m);
        if (attempt + 1 == REPLICATE_FIT_ATTEMPTS || over >= p->budget)
            return err_set(e, ERR_INPUT,
                           "the copies do not fit the %llu tiles of %u chip%s in groups",
                           (unsigned long long)system, a->chips, a->chips == 1 ? "" : "s");
        p->budget -= over;
    }
}
