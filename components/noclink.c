/* noclink: a directed network link as a one-server resource (see noclink.h). Durations and
 * energy come from cost.c; a hop's reply time is the only decision made here.
 */
#include "noclink.h"

#include <assert.h>

#include "cost.h"

static noclink *as_noclink(component *c)
{
    assert(c->ops == &noclink_ops);
    return (noclink *)c;
}

void noclink_setup(component *c, const arch *a, const arch_bus *bus_params)
{
    assert(a && !bus_params);
    (void)bus_params; /* only asserted */
    noclink *l = as_noclink(c);
    l->arch = a;
    l->kind = NOCLINK_NOC;
    resource_init(&l->wire, c->name, 1);
    stats *st = &c->stats;
    l->st_hops = stats_counter(st, "hops", "count");
    l->st_bits = stats_counter(st, "bits", "count");
    l->st_wait_ps = stats_accum(st, "wait_ps", "ps");
}

void noclink_set_kind(noclink *l, noclink_kind k)
{
    assert(k < NOCLINK_KIND_COUNT);
    l->kind = k;
}

/* The parameters of a link off the chip of kind k. */
static const arch_xlink *xlink_of(const arch *a, noclink_kind k)
{
    return k == NOCLINK_INTERCHIP ? &a->interchip : &a->offchip;
}

/* Energy of `hops` hops of `bits` over links of kind k, pJ. */
static double energy_pj(const arch *a, noclink_kind k, uint64_t bits, unsigned hops)
{
    return k == NOCLINK_NOC ? cost_noc_energy_pj(a, bits, hops)
                            : cost_xlink_energy_pj(xlink_of(a, k), bits, hops);
}

/* Serve `duration` ps from now, charge `hops` hops of `bits` of kind k, trace it and reply
 * reply_after_start after the start of service. */
static resource_grant serve(noclink *l, noclink_kind k, uint64_t bits, unsigned hops,
                            simtime duration, simtime reply_after_start, const part_reply *reply)
{
    sim *s = l->base.sim;
    simtime now = sim_now(s);
    resource_grant g = resource_request(&l->wire, now, duration);
    double pj = energy_pj(l->arch, k, bits, hops);
    stats *st = &l->base.stats;
    stats_add(st, l->st_hops, hops);
    stats_add(st, l->st_bits, bits);
    stats_sample(st, l->st_wait_ps, (double)(g.start - now));
    l->energy_pj[k] += pj;
    part_trace(&l->base, PART_ACT_LINK, reply, g, pj);
    resource_grant at = {.start = g.start, .end = g.start + reply_after_start, .server = 0};
    part_reply_send(s, l->base.id, reply, at);
    return g;
}

resource_grant noclink_hop(noclink *l, uint64_t bits, bool last, const part_reply *reply)
{
    simtime ser, hop;
    if (l->kind == NOCLINK_NOC) {
        ser = cost_noc_serial_ps(l->arch, bits);
        hop = cost_noc_hop_ps(l->arch);
    } else {
        ser = cost_xlink_serial_ps(xlink_of(l->arch, l->kind), bits);
        hop = cost_xlink_hop_ps(xlink_of(l->arch, l->kind));
    }
    return serve(l, l->kind, bits, 1, ser, last ? hop + ser : hop, reply);
}

resource_grant noclink_path(noclink *l, noclink_kind k, uint64_t bits, unsigned hops,
                            const part_reply *reply)
{
    assert(k != NOCLINK_OFFCHIP);
    simtime t = k == NOCLINK_NOC ? cost_noc_transfer_ps(l->arch, bits, hops)
                                 : cost_xlink_transfer_ps(&l->arch->interchip, bits, hops);
    return serve(l, k, bits, hops, t, t, reply);
}

static void noclink_handle(component *c, const event *ev)
{
    part_bad_event(c, ev); /* links are driven by direct calls only */
}

static void noclink_finish(component *c)
{
    as_noclink(c)->total_ps = sim_now(c->sim);
}

void noclink_account(component *c, part_account *out)
{
    noclink *l = as_noclink(c);
    out->res = &l->wire;
    out->dynamic_pj[COST_E_NOC] = l->energy_pj[NOCLINK_NOC];
    out->dynamic_pj[COST_E_INTERCHIP] = l->energy_pj[NOCLINK_INTERCHIP];
    out->dynamic_pj[COST_E_OFFCHIP] = l->energy_pj[NOCLINK_OFFCHIP];
    out->static_pj = 0.0;
}

static void noclink_report(component *c, stats *st)
{
    noclink *l = as_noclink(c);
    part_report_resource(st, &l->wire, l->total_ps);
    stats_set(st, stats_value(st, "total_ps", "ps"), (double)l->total_ps);
    double pj = 0.0;
    for (int k = 0; k < NOCLINK_KIND_COUNT; k++)
        pj += l->energy_pj[k];
    stats_set(st, stats_value(st, "energy_total_pj", "pJ"), pj);
}

static void noclink_destroy(component *c)
{
    resource_fini(&as_noclink(c)->wire);
}

const component_ops noclink_ops = {
    .kind = "link",
    .handle = noclink_handle,
    .finish = noclink_finish,
    .report = noclink_report,
    .destroy = noclink_destroy,
};
