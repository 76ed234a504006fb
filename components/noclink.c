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
    assert(a && !bus_params && a->noc.topology != ARCH_NOC_NONE);
    (void)bus_params; /* only asserted */
    noclink *l = as_noclink(c);
    l->arch = a;
    resource_init(&l->wire, c->name, 1);
    stats *st = &c->stats;
    l->st_hops = stats_counter(st, "hops", "count");
    l->st_bits = stats_counter(st, "bits", "count");
    l->st_wait_ps = stats_accum(st, "wait_ps", "ps");
}

/* Serve `duration` ps from now, charge `hops` hops of `bits`, trace it and reply at reply_at. */
static resource_grant serve(noclink *l, uint64_t bits, unsigned hops, simtime duration,
                            simtime reply_after_start, const part_reply *reply)
{
    sim *s = l->base.sim;
    simtime now = sim_now(s);
    resource_grant g = resource_request(&l->wire, now, duration);
    double pj = cost_noc_energy_pj(l->arch, bits, hops);
    stats *st = &l->base.stats;
    stats_add(st, l->st_hops, hops);
    stats_add(st, l->st_bits, bits);
    stats_sample(st, l->st_wait_ps, (double)(g.start - now));
    l->energy_pj += pj;
    part_trace(&l->base, PART_ACT_LINK, reply, g, pj);
    resource_grant at = {.start = g.start, .end = g.start + reply_after_start, .server = 0};
    part_reply_send(s, l->base.id, reply, at);
    return g;
}

resource_grant noclink_hop(noclink *l, uint64_t bits, bool last, const part_reply *reply)
{
    simtime ser = cost_noc_serial_ps(l->arch, bits), hop = cost_noc_hop_ps(l->arch);
    return serve(l, bits, 1, ser, last ? hop + ser : hop, reply);
}

resource_grant noclink_path(noclink *l, uint64_t bits, unsigned hops, const part_reply *reply)
{
    simtime t = cost_noc_transfer_ps(l->arch, bits, hops);
    return serve(l, bits, hops, t, t, reply);
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
    out->dynamic_pj[COST_E_NOC] = l->energy_pj;
    out->static_pj = 0.0;
}

static void noclink_report(component *c, stats *st)
{
    noclink *l = as_noclink(c);
    part_report_resource(st, &l->wire, l->total_ps);
    stats_set(st, stats_value(st, "total_ps", "ps"), (double)l->total_ps);
    stats_set(st, stats_value(st, "energy_total_pj", "pJ"), l->energy_pj);
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
