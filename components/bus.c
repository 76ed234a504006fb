/* bus: lanes as a k-server resource (see bus.h). Durations and energy come from cost.c; the
 * chunking (part_spread) is the only scheduling decision. Invariant: a transfer's completion is
 * the latest end of its chunks, never earlier than cost_bus_transfer_ps over all lanes.
 */
#include "bus.h"

#include <assert.h>

#include "cost.h"

static bus *as_bus(component *c)
{
    assert(c->ops == &bus_ops);
    return (bus *)c;
}

void bus_setup(component *c, const arch *a, const arch_bus *params)
{
    assert(a && params && params->lanes >= 1 && params->lane_bits >= 1);
    bus *b = as_bus(c);
    b->arch = a;
    b->params = params;
    resource_init(&b->lanes, c->name, params->lanes);
    stats *st = &c->stats;
    b->st_transfers = stats_counter(st, "transfers", "count");
    b->st_bits = stats_counter(st, "bits", "count");
    b->st_words = stats_counter(st, "words", "count");
    b->st_transfer_ps = stats_accum(st, "transfer_ps", "ps");
}

/* The class bus_create makes; the registry (chip.c) generates the same one from its row. */
static const component_class bus_class = {.size = sizeof(bus), .ops = &bus_ops};

bus *bus_create(sim *s, const char *name, const arch *a, const arch_bus *params)
{
    component *c = sim_create_component(s, &bus_class, name);
    bus_setup(c, a, params);
    return as_bus(c);
}

resource_grant bus_transfer(bus *b, uint64_t bits, const part_reply *reply)
{
    sim *s = b->base.sim;
    simtime now = sim_now(s);
    uint64_t words = cost_bus_words(b->params, bits);
    resource_grant g = part_spread(&b->lanes, now, words, cost_bus_word_ps(b->arch, b->params));
    double pj = cost_bus_energy_pj(b->params, bits);

    stats *st = &b->base.stats;
    stats_add(st, b->st_transfers, 1);
    stats_add(st, b->st_bits, bits);
    stats_add(st, b->st_words, words);
    stats_sample(st, b->st_transfer_ps, (double)(g.end - now));
    b->energy_pj += pj;

    part_trace(&b->base, PART_ACT_TRANSFER, reply, g, pj);
    part_reply_send(s, b->base.id, reply, g);
    return g;
}

static void bus_handle(component *c, const event *ev)
{
    bus *b = as_bus(c);
    if (ev->kind != BUS_EV_TRANSFER)
        part_bad_event(c, ev);
    part_reply reply = part_reply_unpack(&ev->payload);
    bus_transfer(b, ev->payload.u[0], &reply);
}

static void bus_finish(component *c)
{
    bus *b = as_bus(c);
    b->total_ps = sim_now(c->sim);
    double wires = (double)b->params->lanes * b->params->lane_bits;
    b->static_pj = wires * b->params->static_power_uw_per_wire * (double)b->total_ps * 1e-6;
}

void bus_account(component *c, part_account *out)
{
    bus *b = as_bus(c);
    out->res = &b->lanes;
    out->dynamic_pj[COST_E_BUS] = b->energy_pj;
    out->static_pj = b->static_pj;
}

static void bus_report(component *c, stats *st)
{
    bus *b = as_bus(c);
    part_report_resource(st, &b->lanes, b->total_ps);
    stats_set(st, stats_value(st, "total_ps", "ps"), (double)b->total_ps);
    stats_set(st, stats_value(st, "energy_static_pj", "pJ"), b->static_pj);
    stats_set(st, stats_value(st, "energy_total_pj", "pJ"), b->energy_pj + b->static_pj);
}

static void bus_destroy(component *c)
{
    resource_fini(&as_bus(c)->lanes);
}

const component_ops bus_ops = {
    .kind = "bus",
    .handle = bus_handle,
    .finish = bus_finish,
    .report = bus_report,
    .destroy = bus_destroy,
};
