/* env: the precision-search environment (see env.h). Costs are the analytic model's on a copy of
 * the arch without a tile limit (weight-stationary; packed placement), so exploring never fails
 * for size; a mode that replicates (lrmp) does so with the exact solver inside its tile budget.
 * Rewards, per mode:
 *   haq    R = 0.1 x (acc - ref) in percentage points (HAQ's reward; the budget is a hard wall)
 *   cimaq  target = ref - allowed drop; acc < target: R = -10 (target - acc), else
 *          R = 100 (1 / cost_ratio - 1) + 0.1 (acc - target); points; cost = latency (REFERENCE 2)
 *   lrmp   R = lambda (acc - ref) + alpha g(T_8bit / T), T the latency or the slowest layer after
 *          replication, g = log2 (or x - 1); points
 *   huang  C = sum_l base^adc_l (f_in,l ab_l + f_w,l wb_l) / max_bits, f the layer's share of the
 *          network's input activations and weights; R = -T(loss) - C with T(x) = x below the
 *          threshold and 100 + x above it (a finite stand-in for Huang's infinity)
 * A failed accuracy evaluation scores ENV_FAILED_REWARD. Each mode's properties and hooks are its
 * row of the mode table (env_modes.c); nothing here asks which mode runs.
 */
#include "env.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env_internal.h"
#include "mem.h"
#include "model.h"
#include "price.h"
#include "wallclock.h"

#define ENV_FAILED_REWARD (-100.0)

static const char *const budget_names[ENV_BUDGET_COUNT] = {
#define ENV_BUDGET_NAME(id, name) [ENV_BUDGET_##id] = name,
    ENV_BUDGET_MAP(ENV_BUDGET_NAME)
#undef ENV_BUDGET_NAME
};

const char *env_budget_name(env_budget b)
{
    assert(b < ENV_BUDGET_COUNT);
    return budget_names[b];
}

int env_budget_parse(const char *s, env_budget *b)
{
    for (int i = 0; i < ENV_BUDGET_COUNT; i++)
        if (strcmp(s, budget_names[i]) == 0) {
            *b = (env_budget)i;
            return 0;
        }
    return -1;
}

void env_config_default(env_config *c, env_mode mode, unsigned episodes)
{
    assert(mode < ENV_MODE_COUNT);
    memset(c, 0, sizeof *c);
    c->mode = mode;
    c->min_bits = 2;
    c->max_bits = 8;
    c->adc_min = 1;
    c->adc_max = 9;
    c->fix_ends = env__modes[mode].fix_ends;
    c->cell_aligned = env__modes[mode].cell_aligned;
    c->budget_kind = ENV_BUDGET_LATENCY;
    c->budget = 0.5;
    c->allowed_drop_pp = 1.0;
    c->objective = REPLICATE_OBJ_LATENCY;
    c->budget_start = 0.35;
    c->budget_end = 0.2;
    c->episodes = episodes;
    c->tile_budget = "1.0x";
    c->lambda = 1.0;
    c->alpha = 1.0;
    c->gain_log = true;
    c->huang_base = 1.25;
    c->huang_threshold_pp = 1.0;
}

unsigned env_action_bits(double a, unsigned min, unsigned max)
{
    if (!(a > 0.0))
        a = 0.0;
    if (a > 1.0)
        a = 1.0;
    double b = round((double)(max - min + 1) * a + (double)min - 0.5);
    if (b < min)
        return min;
    if (b > max)
        return max;
    return (unsigned)b;
}

/* ---- pricing ------------------------------------------------------------------------------- */

/* Map pol with copies (NULL: one each) on the unlimited chip and evaluate. */
static int price(env *v, const unsigned *copies, mapping *m, model *mo, err *e)
{
    return price_network(v->n, v->a, &v->pol, copies, MAPPING_PLACE_PACKED, m, mo, e);
}

/* lrmp: copies for v->pol inside the tile budget (exact solver) into v->copies. */
static int replicate(env *v, err *e)
{
    replicate_problem p;
    ERR_TRY(replicate_problem_from_model(v->n, v->a, &v->pol, v->c.tile_budget, v->c.objective, 0.5,
                                         &p, e));
    replicate_result r;
    int rc = replicate_solve(&p, REPLICATE_SOLVER_EXACT, &r, e);
    if (rc == 0) {
        for (unsigned i = 0; i < v->layers; i++)
            v->copies[i] = (unsigned)r.copies[i];
        replicate_result_fini(&r);
    }
    replicate_problem_fini(&p);
    return rc;
}

/* The budgeted figure of the current policy as a fraction of the 8-bit baseline. */
static int budget_cost(env *v, double *cost, double *t_rep, double *t_cost, err *e)
{
    assert(v->mode->cost); /* a mode with a budget says what it limits */
    double t0 = wallclock_s();
    bool copies = v->mode->replicates;
    if (copies)
        ERR_TRY(replicate(v, e));
    double t1 = wallclock_s();
    mapping m;
    model mo;
    ERR_TRY(price(v, copies ? v->copies : NULL, &m, &mo, e));
    *cost = v->mode->cost(v, &m, &mo);
    model_fini(&mo);
    mapping_fini(&m);
    *t_rep += t1 - t0;
    *t_cost += wallclock_s() - t1;
    return 0;
}

/* Lower a weight's bits by one step (a cell's bits when aligned); false at the minimum. */
static bool lower_wb(env *v, unsigned i)
{
    unsigned step = v->c.cell_aligned ? v->a->tiles.cell_bits : 1;
    if (v->pol.layers[i].wb < v->c.min_bits + step)
        return false;
    v->pol.layers[i].wb -= step;
    return true;
}

/* HAQ's action wall: while over budget, sweep layers from last to first, lowering activation bits
 * then weight bits by one, checking after each. Returns 0 (met, or every layer at the minimum:
 * note says so) or a pricing error. */
static int wall(env *v, double budget, env_outcome *out, err *e)
{
    double cost;
    ERR_TRY(budget_cost(v, &cost, &out->t_replicate_s, &out->t_cost_s, e));
    unsigned lowered = 0;
    bool moved = true;
    while (cost > budget && moved) {
        moved = false;
        for (unsigned k = v->layers; k-- > 0 && cost > budget;) {
            bool fixed = v->c.fix_ends && (k == 0 || k + 1 == v->layers);
            if (fixed)
                continue;
            if (v->pol.layers[k].ab > v->c.min_bits) {
                v->pol.layers[k].ab--;
                moved = true;
                lowered++;
                ERR_TRY(budget_cost(v, &cost, &out->t_replicate_s, &out->t_cost_s, e));
            }
            if (cost > budget && lower_wb(v, k)) {
                moved = true;
                lowered++;
                ERR_TRY(budget_cost(v, &cost, &out->t_replicate_s, &out->t_cost_s, e));
            }
        }
    }
    out->cost = cost;
    if (cost > budget)
        snprintf(out->note, sizeof out->note,
                 "budget %.4g x not met: %.4g x with every free layer at the minimum bits", budget,
                 cost);
    else if (lowered)
        snprintf(out->note, sizeof out->note, "action wall lowered %u bit%s", lowered,
                 lowered == 1 ? "" : "s");
    return 0;
}

/* ---- creation and the episode --------------------------------------------------------------- */

static void layer_features(const network_layer *nl, unsigned index, double *f)
{
    double in = 0, out = 0, stride = 1, kernel = 1, fm = 0, type = 0;
    switch (nl->kind) {
    case NETWORK_KIND_CONV2D:
        type = 1;
        in = nl->conv.in_channels;
        out = nl->conv.out_channels;
        stride = nl->conv.stride_h;
        kernel = nl->conv.kernel_h;
        fm = (double)nl->in.height * nl->in.width;
        break;
    case NETWORK_KIND_LINEAR:
        in = nl->linear.in_features;
        out = nl->linear.out_features;
        fm = nl->linear.tokens;
        break;
    case NETWORK_KIND_MATMUL:
        type = 0.5;
        in = (double)nl->xbar.rows;
        out = (double)nl->xbar.cols;
        fm = (double)nl->xbar.vectors;
        break;
    default: /* only crossbar layers have features; a new crossbar kind needs its row here */
        network_bad_kind(nl->kind, "env: layer features");
    }
    double vals[ENV_STATIC_FEATURES] = {
        type, in, out, stride, kernel, (double)nl->xbar.weights, fm, (double)index};
    memcpy(f, vals, sizeof vals);
}

static void normalise(double (*f)[ENV_STATIC_FEATURES], unsigned n)
{
    for (unsigned k = 0; k < ENV_STATIC_FEATURES; k++) {
        double lo = f[0][k], hi = f[0][k];
        for (unsigned i = 1; i < n; i++) {
            lo = f[i][k] < lo ? f[i][k] : lo;
            hi = f[i][k] > hi ? f[i][k] : hi;
        }
        for (unsigned i = 0; i < n; i++)
            f[i][k] = hi > lo ? (f[i][k] - lo) / (hi - lo) : 0.0;
    }
}

static int check_config(const network *n, const arch *a, const env_config *c, err *e)
{
    assert(c->mode < ENV_MODE_COUNT);
    if (n->n_xbar == 0)
        return err_set(e, ERR_INPUT, "%s: no crossbar layer to search over", n->name);
    if (c->min_bits < 1 || c->max_bits > POLICY_MAX_BITS || c->min_bits > c->max_bits)
        return err_set(e, ERR_INPUT, "search bits: found %u..%u, expected 1 <= min <= max <= %d",
                       c->min_bits, c->max_bits, POLICY_MAX_BITS);
    const env_mode_ops *mode = &env__modes[c->mode];
    if (mode->check)
        ERR_TRY(mode->check(a, c, e));
    if (c->cell_aligned && c->max_bits < a->tiles.cell_bits)
        return err_set(e, ERR_INPUT,
                       "search bits: max %u is below arch.tiles.cell_bits = %u, so no weight "
                       "width is a whole number of cells",
                       c->max_bits, a->tiles.cell_bits);
    return 0;
}

int env_create(const network *n, const arch *a, const env_config *c, acc_backend *acc, env **out,
               err *e)
{
    ERR_TRY(check_config(n, a, c, e));
    env *v = mem_calloc(1, sizeof *v, "search environment");
    v->n = n;
    v->a = a;
    v->c = *c;
    v->mode = &env__modes[c->mode];
    v->acc = acc;
    v->layers = n->n_xbar;
    v->per_layer = v->mode->adc_decision ? 3 : 2;
    v->feat = mem_calloc(v->layers, sizeof *v->feat, "search features");
    v->f_in = mem_calloc(v->layers, sizeof *v->f_in, "search input shares");
    v->f_w = mem_calloc(v->layers, sizeof *v->f_w, "search weight shares");
    v->copies = mem_calloc(v->layers, sizeof *v->copies, "search copies");
    double sum_in = 0, sum_w = 0;
    for (unsigned i = 0; i < v->layers; i++) {
        const network_layer *nl = &n->layers[n->xbar[i]];
        layer_features(nl, i, v->feat[i]);
        v->f_in[i] = (double)(nl->xbar.rows * nl->xbar.vectors * nl->xbar.repeat);
        v->f_w[i] = (double)nl->xbar.weights;
        sum_in += v->f_in[i];
        sum_w += v->f_w[i];
        v->copies[i] = 1;
    }
    for (unsigned i = 0; i < v->layers; i++) {
        v->f_in[i] /= sum_in;
        v->f_w[i] /= sum_w;
    }
    normalise(v->feat, v->layers);

    policy_uniform(&v->pol, n, 8, 8);
    mapping m;
    model mo;
    if (price(v, NULL, &m, &mo, e) < 0) {
        env_destroy(v);
        return ERR_INPUT;
    }
    v->base_latency_ps = mo.latency_ps;
    v->base_bottleneck_ps = mo.bottleneck_ps;
    v->base_energy_pj = mo.energy_steady_total_pj;
    v->base_tiles = m.tiles_used;
    model_fini(&mo);
    mapping_fini(&m);
    *out = v;
    return 0;
}

void env_destroy(env *v)
{
    if (!v)
        return;
    free(v->feat);
    free(v->f_in);
    free(v->f_w);
    free(v->copies);
    policy_fini(&v->pol);
    free(v);
}

unsigned env_decisions(const env *v)
{
    return v->layers * v->per_layer;
}

void env_reset(env *v)
{
    v->t = 0;
    v->prev_bits = v->c.max_bits;
    for (unsigned i = 0; i < v->layers; i++) {
        v->pol.layers[i] = (policy_layer){8, 8, 0};
        v->copies[i] = 1;
    }
}

void env_state(const env *v, double *state)
{
    assert(v->t < env_decisions(v));
    unsigned layer = v->t / v->per_layer, kind = v->t % v->per_layer;
    memcpy(state, v->feat[layer], sizeof v->feat[layer]);
    /* the previous decision of a layer's first was the last layer's ADC bits, if any */
    unsigned prev_max = v->mode->adc_decision && kind == 0 ? v->c.adc_max : v->c.max_bits;
    state[8] = (double)v->prev_bits / (double)prev_max;
    state[9] = (double)kind / (double)(v->per_layer - 1); /* weight 0, activation 1 (ADC 1) */
}

unsigned env_step(env *v, double action)
{
    assert(v->t < env_decisions(v));
    unsigned layer = v->t / v->per_layer, kind = v->t % v->per_layer;
    bool fixed = v->c.fix_ends && (layer == 0 || layer + 1 == v->layers);
    policy_layer *pl = &v->pol.layers[layer];
    unsigned bits;
    if (kind == 2) {
        bits = env_action_bits(action, v->c.adc_min, v->c.adc_max);
        pl->adc_bits = bits;
    } else if (fixed) {
        bits = 8;
    } else {
        bits = env_action_bits(action, v->c.min_bits, v->c.max_bits);
        if (kind == 0 && v->c.cell_aligned) { /* round up to whole cells, within max */
            unsigned cb = v->a->tiles.cell_bits;
            unsigned up = (bits + cb - 1) / cb * cb;
            bits = up <= v->c.max_bits ? up : v->c.max_bits / cb * cb;
        }
        if (kind == 0)
            pl->wb = bits;
        else
            pl->ab = bits;
    }
    v->prev_bits = bits;
    v->t++;
    return bits;
}

void env_finish(env *v, unsigned episode, env_outcome *out)
{
    assert(v->t == env_decisions(v));
    memset(out, 0, sizeof *out);
    const env_mode_ops *mode = v->mode;
    out->budget = mode->budget ? mode->budget(&v->c, episode) : 0.0;
    err e;
    err_clear(&e);
    int rc = 0;
    if (mode->budget)
        rc = wall(v, out->budget, out, &e);
    mapping m;
    model mo;
    double t0 = wallclock_s();
    if (rc == 0)
        rc = price(v, mode->replicates ? v->copies : NULL, &m, &mo, &e);
    out->t_cost_s += wallclock_s() - t0;
    if (rc < 0) { /* pricing failed: the policy cannot be mapped (a bug or an unusable arch) */
        out->failed = true;
        out->reward = ENV_FAILED_REWARD;
        snprintf(out->note, sizeof out->note, "%.250s", e.msg);
        return;
    }
    out->latency_ps = mo.latency_ps;
    out->bottleneck_ps = mo.bottleneck_ps;
    out->throughput_per_s = mo.throughput_per_s;
    out->energy_pj = mo.energy_steady_total_pj;
    out->tiles = m.tiles_used;
    if (!mode->budget && mode->cost) /* with a budget, the wall set it */
        out->cost = mode->cost(v, &m, &mo);

    t0 = wallclock_s();
    acc_result ar;
    rc = acc_evaluate(v->acc, v->n, &v->pol, v->a, &ar, &e);
    out->t_accuracy_s = wallclock_s() - t0;
    if (rc < 0) {
        out->failed = true;
        out->reward = ENV_FAILED_REWARD;
        snprintf(out->note, sizeof out->note, "accuracy: %.240s", e.msg);
    } else {
        out->accuracy = ar.accuracy;
        out->reference = ar.reference;
        out->acc_reused = ar.reused;
        out->acc_computed = ar.computed;
        out->estimate = ar.estimate;
        out->reward = mode->reward(v, out, &mo);
        size_t len = strlen(out->note); /* the wall's remark, then the backend's */
        if (ar.note[0] && len + 3 < sizeof out->note)
            snprintf(out->note + len, sizeof out->note - len, "%s%.*s", len ? "; " : "",
                     (int)(sizeof out->note - len - 3), ar.note);
    }
    model_fini(&mo);
    mapping_fini(&m);
}

const policy *env_policy(const env *v)
{
    return &v->pol;
}

const unsigned *env_copies(const env *v)
{
    return v->copies;
}

void env_baseline(const env *v, simtime *latency_ps, simtime *bottleneck_ps, double *energy_pj,
                  uint64_t *tiles)
{
    *latency_ps = v->base_latency_ps;
    *bottleneck_ps = v->base_bottleneck_ps;
    *energy_pj = v->base_energy_pj;
    *tiles = v->base_tiles;
}
