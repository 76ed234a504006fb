/* env_modes: the search modes as one const table, a row of properties and hooks per mode (see
 * env_internal.h), and the look-ups by name. Adding a mode is an X row in env.h and its row
 * here with its functions. Rewards and costs are in points or x the 8-bit baseline (formulas at
 * the top of env.c). Invariant: every hook is a pure function of its arguments.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "env_internal.h"

static double latency_ratio(const env *v, const model *mo)
{
    return (double)mo->latency_ps / (double)v->base_latency_ps;
}

static void set_fixed_budget(env_config *c, double fraction)
{
    c->budget = fraction;
}

/* ---- lrmp ----------------------------------------------------------------------------------- */

static int lrmp_check(const arch *a, const env_config *c, err *e)
{
    if (a->mode != ARCH_MODE_WEIGHT_STATIONARY)
        return err_set(e, ERR_INPUT,
                       "%s: arch.mode: found %s, expected weight_stationary for the lrmp mode "
                       "(copies only exist when weights stay in their tiles)",
                       a->origin ? a->origin : a->name, arch_mode_name(a->mode));
    if (!(c->budget_start > 0 && c->budget_end > 0))
        return err_set(e, ERR_INPUT, "lrmp budget: found %g -> %g, expected positive fractions",
                       c->budget_start, c->budget_end);
    return 0;
}

static void lrmp_set_budget(env_config *c, double fraction)
{
    c->budget_end = fraction;
}

/* Tightening exponentially from budget_start to budget_end over the configured episodes. */
static double lrmp_budget(const env_config *c, unsigned ep)
{
    double x = c->episodes > 1 ? (double)ep / (double)(c->episodes - 1) : 1.0;
    if (x > 1.0)
        x = 1.0;
    return c->budget_start * pow(c->budget_end / c->budget_start, x);
}

static double lrmp_cost(const env *v, const mapping *m, const model *mo)
{
    (void)m;
    return v->c.objective == REPLICATE_OBJ_THROUGHPUT
               ? (double)mo->bottleneck_ps / (double)v->base_bottleneck_ps
               : latency_ratio(v, mo);
}

static double lrmp_reward(const env *v, const env_outcome *o, const model *mo)
{
    double acc_pp = 100.0 * o->accuracy, ref_pp = 100.0 * o->reference;
    double speedup = v->c.objective == REPLICATE_OBJ_THROUGHPUT
                         ? (double)v->base_bottleneck_ps / (double)mo->bottleneck_ps
                         : (double)v->base_latency_ps / (double)mo->latency_ps;
    double gain = v->c.gain_log ? log2(speedup) : speedup - 1.0;
    return v->c.lambda * (acc_pp - ref_pp) + v->c.alpha * gain;
}

/* ---- cimaq ---------------------------------------------------------------------------------- */

static double cimaq_cost(const env *v, const mapping *m, const model *mo)
{
    (void)m;
    return latency_ratio(v, mo);
}

static double cimaq_reward(const env *v, const env_outcome *o, const model *mo)
{
    double acc_pp = 100.0 * o->accuracy, ref_pp = 100.0 * o->reference;
    double target = ref_pp - v->c.allowed_drop_pp;
    if (acc_pp < target)
        return -10.0 * (target - acc_pp);
    return 100.0 * (1.0 / latency_ratio(v, mo) - 1.0) + 0.1 * (acc_pp - target);
}

/* ---- haq ------------------------------------------------------------------------------------ */

static int haq_check(const arch *a, const env_config *c, err *e)
{
    (void)a;
    if (!(c->budget > 0))
        return err_set(e, ERR_INPUT, "haq budget: found %g, expected a positive fraction",
                       c->budget);
    return 0;
}

static double haq_budget(const env_config *c, unsigned ep)
{
    (void)ep;
    return c->budget;
}

static double haq_cost(const env *v, const mapping *m, const model *mo)
{
    if (v->c.budget_kind == ENV_BUDGET_LATENCY)
        return latency_ratio(v, mo);
    if (v->c.budget_kind == ENV_BUDGET_ENERGY)
        return mo->energy_steady_total_pj / v->base_energy_pj;
    return (double)m->tiles_used / (double)v->base_tiles;
}

static double haq_reward(const env *v, const env_outcome *o, const model *mo)
{
    (void)v, (void)mo;
    return 0.1 * (100.0 * o->accuracy - 100.0 * o->reference);
}

/* ---- huang ---------------------------------------------------------------------------------- */

static int huang_check(const arch *a, const env_config *c, err *e)
{
    if (c->adc_min < 1 || c->adc_min > c->adc_max || c->adc_max > ARCH_MAX_ADC_BITS)
        return err_set(e, ERR_INPUT, "ADC bits: found %u..%u, expected 1 <= min <= max <= %d",
                       c->adc_min, c->adc_max, ARCH_MAX_ADC_BITS);
    for (unsigned b = c->adc_min; b <= c->adc_max; b++)
        if (!arch_bits_fn_defined(&a->tiles.adc.time_ns, b) ||
            !arch_bits_fn_defined(&a->tiles.adc.energy_pj, b))
            return err_set(e, ERR_INPUT,
                           "%s: arch.tiles.adc: the time or energy of a %u-bit conversion is "
                           "not defined, expected every width in %u..%u for the huang mode",
                           a->origin ? a->origin : a->name, b, c->adc_min, c->adc_max);
    return 0;
}

static double huang_reward(const env *v, const env_outcome *o, const model *mo)
{
    (void)mo;
    double c = 0;
    for (unsigned i = 0; i < v->layers; i++) {
        const policy_layer *pl = &v->pol.layers[i];
        c += pow(v->c.huang_base, (double)pl->adc_bits) *
             (v->f_in[i] * pl->ab + v->f_w[i] * pl->wb) / (double)v->c.max_bits;
    }
    double loss = 100.0 * o->reference - 100.0 * o->accuracy;
    double t = loss > v->c.huang_threshold_pp ? 100.0 + loss : loss;
    return -t - c;
}

/* ---- the table ------------------------------------------------------------------------------ */

const env_mode_ops env__modes[ENV_MODE_COUNT] = {
    [ENV_MODE_LRMP] = {.name = "lrmp",
                       .replicates = true,
                       .check = lrmp_check,
                       .set_budget = lrmp_set_budget,
                       .budget = lrmp_budget,
                       .cost = lrmp_cost,
                       .reward = lrmp_reward},
    [ENV_MODE_CIMAQ] = {.name = "cimaq",
                        .fix_ends = true,
                        .cell_aligned = true,
                        .set_budget = set_fixed_budget,
                        .cost = cimaq_cost,
                        .reward = cimaq_reward},
    [ENV_MODE_HAQ] = {.name = "haq",
                      .check = haq_check,
                      .set_budget = set_fixed_budget,
                      .budget = haq_budget,
                      .cost = haq_cost,
                      .reward = haq_reward},
    [ENV_MODE_HUANG] = {.name = "huang",
                        .adc_decision = true,
                        .check = huang_check,
                        .set_budget = set_fixed_budget,
                        .reward = huang_reward},
};

const char *env_mode_name(env_mode m)
{
    assert(m < ENV_MODE_COUNT);
    return env__modes[m].name;
}

int env_mode_parse(const char *s, env_mode *m)
{
    for (int i = 0; i < ENV_MODE_COUNT; i++)
        if (strcmp(s, env__modes[i].name) == 0) {
            *m = (env_mode)i;
            return 0;
        }
    return -1;
}

err_names env_mode_names(void)
{
    const char *names[ENV_MODE_COUNT];
    for (int i = 0; i < ENV_MODE_COUNT; i++)
        names[i] = env__modes[i].name;
    return err_names_join(names, ENV_MODE_COUNT);
}

bool env_mode_decides_adc(env_mode m)
{
    assert(m < ENV_MODE_COUNT);
    return env__modes[m].adc_decision;
}

void env_config_set_budget(env_config *c, double fraction)
{
    assert(c->mode < ENV_MODE_COUNT);
    env__modes[c->mode].set_budget(c, fraction);
}
