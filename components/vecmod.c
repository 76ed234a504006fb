/* vecmod: the vector module component (see vecmod.h). Durations and energies come from cost.c;
 * the lanes are shared FIFO among all operations. Invariant: the per-kind energies sum to the
 * per-part energies (every charge is added to both), and leakage is set once per finish.
 */
#include "vecmod.h"

#include <assert.h>
#include <stdio.h>

#include "cost.h"

#define STAT_NAME_BYTES 64 /* room for "lane_ops_<kind>" and "energy_<kind>_pj" */

static const char *const op_names[VECMOD_OP_COUNT] = {
#define VECMOD_OP_NAME(id, name) [VECMOD_OP_##id] = name,
    VECMOD_OP_MAP(VECMOD_OP_NAME)
#undef VECMOD_OP_NAME
};

const char *vecmod_op_name(vecmod_op_kind kind)
{
    assert(kind < VECMOD_OP_COUNT);
    return op_names[kind];
}

static vecmod *as_vecmod(component *c)
{
    assert(c->ops == &vecmod_ops);
    return (vecmod *)c;
}

void vecmod_setup(component *c, const arch *a, const arch_bus *bus_params)
{
    assert(a && !bus_params && a->vector.lanes >= 1);
    (void)bus_params;
    vecmod *m = as_vecmod(c);
    m->arch = a;
    resource_init(&m->lanes, c->name, a->vector.lanes);
    stats *st = &c->stats;
    char name[STAT_NAME_BYTES];
    for (unsigned k = 0; k < VECMOD_OP_COUNT; k++) {
        snprintf(name, sizeof name, "ops_%s", op_names[k]);
        m->st_ops[k] = stats_counter(st, name, "count");
        snprintf(name, sizeof name, "lane_ops_%s", op_names[k]);
        m->st_lane_ops[k] = stats_counter(st, name, "count");
    }
    m->st_sram_read = stats_counter(st, "sram_read_bytes", "bytes");
    m->st_sram_write = stats_counter(st, "sram_write_bytes", "bytes");
    m->st_op_ps = stats_accum(st, "op_ps", "ps");
}

/* The class vecmod_create makes; the registry (chip.c) generates the same one from its row. */
static const component_class vecmod_class = {.size = sizeof(vecmod), .ops = &vecmod_ops};

vecmod *vecmod_create(sim *s, const char *name, const arch *a)
{
    component *c = sim_create_component(s, &vecmod_class, name);
    vecmod_setup(c, a, NULL);
    return as_vecmod(c);
}

resource_grant vecmod_op(vecmod *m, vecmod_op_kind kind, uint64_t lane_ops,
                         uint64_t sram_read_bytes, uint64_t sram_write_bytes,
                         const part_reply *reply)
{
    assert(kind < VECMOD_OP_COUNT);
    const arch *a = m->arch;
    sim *s = m->base.sim;
    simtime now = sim_now(s);
    resource_grant g = part_spread(&m->lanes, now, lane_ops, cost_vector_op_ps(a));
    /* The parts, each from the one formula, so they add up to the whole. */
    double op_pj = cost_vector_energy_pj(a, lane_ops, 0, 0);
    double read_pj = cost_vector_energy_pj(a, 0, sram_read_bytes, 0);
    double write_pj = cost_vector_energy_pj(a, 0, 0, sram_write_bytes);

    stats *st = &m->base.stats;
    stats_add(st, m->st_ops[kind], 1);
    stats_add(st, m->st_lane_ops[kind], lane_ops);
    stats_add(st, m->st_sram_read, sram_read_bytes);
    stats_add(st, m->st_sram_write, sram_write_bytes);
    stats_sample(st, m->st_op_ps, (double)(g.end - now));
    m->op_pj += op_pj;
    m->sram_read_pj += read_pj;
    m->sram_write_pj += write_pj;
    m->kind_pj[kind] += op_pj + read_pj + write_pj;

    part_trace(&m->base, PART_ACT_VECTOR_OP, reply, g, op_pj + read_pj + write_pj);
    part_reply_send(s, m->base.id, reply, g);
    return g;
}

double vecmod_dynamic_pj(const vecmod *m)
{
    return m->op_pj + m->sram_read_pj + m->sram_write_pj;
}

/* A vector module takes its work through vecmod_op (an operation needs more than the payload's
 * spare word); any event addressed to it is a bug. */
_Noreturn static void vecmod_handle(component *c, const event *ev)
{
    part_bad_event(c, ev);
}

static void vecmod_finish(component *c)
{
    vecmod *m = as_vecmod(c);
    m->total_ps = sim_now(c->sim);
    const arch *a = m->arch;
    double total = (double)m->total_ps, lanes = a->vector.lanes;
    double busy = (double)resource_busy_ps(&m->lanes, m->total_ps);
    double lane_on =
        a->power_gating ? busy + a->gated_fraction * (lanes * total - busy) : lanes * total;
    m->static_pj =
        (a->vector.lane_static_power_uw * lane_on + cost_vecmod_sram_uw(a) * total) * 1e-6;
}

void vecmod_account(component *c, part_account *out)
{
    vecmod *m = as_vecmod(c);
    out->res = &m->lanes;
    out->dynamic_pj[COST_E_VECTOR] = m->op_pj;
    out->dynamic_pj[COST_E_SRAM] = m->sram_read_pj + m->sram_write_pj;
    out->static_pj = m->static_pj;
}

static void vecmod_report(component *c, stats *st)
{
    vecmod *m = as_vecmod(c);
    char name[STAT_NAME_BYTES];
    part_report_resource(st, &m->lanes, m->total_ps);
    stats_set(st, stats_value(st, "total_ps", "ps"), (double)m->total_ps);
    stats_set(st, stats_value(st, "energy_ops_pj", "pJ"), m->op_pj);
    stats_set(st, stats_value(st, "energy_sram_read_pj", "pJ"), m->sram_read_pj);
    stats_set(st, stats_value(st, "energy_sram_write_pj", "pJ"), m->sram_write_pj);
    for (unsigned k = 0; k < VECMOD_OP_COUNT; k++) {
        snprintf(name, sizeof name, "energy_%s_pj", op_names[k]);
        stats_set(st, stats_value(st, name, "pJ"), m->kind_pj[k]);
    }
    stats_set(st, stats_value(st, "energy_static_pj", "pJ"), m->static_pj);
    stats_set(st, stats_value(st, "energy_total_pj", "pJ"), vecmod_dynamic_pj(m) + m->static_pj);
}

static void vecmod_destroy(component *c)
{
    resource_fini(&as_vecmod(c)->lanes);
}

const component_ops vecmod_ops = {
    .kind = "vecmod",
    .handle = vecmod_handle,
    .finish = vecmod_finish,
    .report = vecmod_report,
    .destroy = vecmod_destroy,
};
