/* chip: the component registry and the helpers the chip's components share (see chip.h).
 * Invariant: every table here is generated from CHIP_COMPONENT_MAP or CHIP_ACTIVITY_MAP, so
 * kinds, names, classes and setup hooks cannot fall out of step.
 */
#include "chip.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "tile.h"
#include "trace.h"
#include "vecmod.h"

#define CHIP_CLASS(id, name, type, ops, setup, account) COMPONENT_CLASS_ENTRY(CHIP_##id, type, ops)
const component_class chip_component_classes[CHIP_COMPONENT_COUNT] = {
    CHIP_COMPONENT_MAP(CHIP_CLASS)};
#undef CHIP_CLASS

typedef void (*setup_fn)(component *c, const arch *a, const arch_bus *bus_params);

static const setup_fn setups[CHIP_COMPONENT_COUNT] = {
#define CHIP_SETUP(id, name, type, ops, setup, account) [CHIP_##id] = setup,
    CHIP_COMPONENT_MAP(CHIP_SETUP)
#undef CHIP_SETUP
};

typedef void (*account_fn)(component *c, chip_account *out);

static const account_fn accounts[CHIP_COMPONENT_COUNT] = {
#define CHIP_ACCOUNT(id, name, type, ops, setup, account) [CHIP_##id] = account,
    CHIP_COMPONENT_MAP(CHIP_ACCOUNT)
#undef CHIP_ACCOUNT
};

static const char *const kind_names[CHIP_COMPONENT_COUNT] = {
#define CHIP_NAME(id, name, type, ops, setup, account) [CHIP_##id] = name,
    CHIP_COMPONENT_MAP(CHIP_NAME)
#undef CHIP_NAME
};

static const char *const activity_names[CHIP_ACTIVITY_COUNT] = {
#define CHIP_ACT_NAME(id, name) [CHIP_ACT_##id] = name,
    CHIP_ACTIVITY_MAP(CHIP_ACT_NAME)
#undef CHIP_ACT_NAME
};

component *chip_component_create(sim *s, chip_component_kind kind, const char *name, const arch *a,
                                 const arch_bus *bus_params)
{
    assert(kind < CHIP_COMPONENT_COUNT && a);
    assert((kind == CHIP_BUS) == (bus_params != NULL));
    component *c = sim_create_component(s, &chip_component_classes[kind], name);
    setups[kind](c, a, bus_params);
    return c;
}

bool chip_component_account(component *c, chip_account *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned k = 0; k < CHIP_COMPONENT_COUNT; k++)
        if (c->ops == chip_component_classes[k].ops) {
            accounts[k](c, out);
            return true;
        }
    return false;
}

const char *chip_component_name(chip_component_kind kind)
{
    assert(kind < CHIP_COMPONENT_COUNT);
    return kind_names[kind];
}

int chip_component_parse(const char *name, chip_component_kind *kind)
{
    for (unsigned k = 0; k < CHIP_COMPONENT_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *kind = (chip_component_kind)k;
            return 0;
        }
    return -1;
}

const char *chip_activity_name(chip_activity act)
{
    assert(act < CHIP_ACTIVITY_COUNT);
    return activity_names[act];
}

/* ---- replies --------------------------------------------------------------------------------- */

chip_reply chip_reply_none(void)
{
    return (chip_reply){.target = CHIP_REPLY_NONE,
                        .kind = 0,
                        .tag = 0,
                        .layer = -1,
                        .copy = -1,
                        .inference = -1,
                        .vector = -1,
                        .vectors = 0};
}

void chip_reply_send(sim *s, uint32_t source, const chip_reply *reply, resource_grant g)
{
    if (!reply || reply->target == CHIP_REPLY_NONE)
        return;
    event_payload p;
    p.u[CHIP_REPLY_WORD_TAG] = reply->tag;
    p.u[CHIP_REPLY_WORD_END] = g.end;
    p.u[CHIP_REPLY_WORD_START] = g.start;
    p.u[CHIP_REPLY_WORD_SOURCE] = source;
    sim_schedule_at(s, g.end, reply->target, reply->kind, CHIP_REPLY_PRIO, &p);
}

/* Two's-complement field of `bits` bits holding v (range checked by the caller). */
static uint64_t to_field(int64_t v, unsigned bits)
{
    uint64_t mask = (UINT64_C(1) << bits) - 1;
    return (uint64_t)v & mask;
}

/* Sign-extend a `bits`-bit two's-complement field. */
static int64_t from_field(uint64_t f, unsigned bits)
{
    uint64_t sign = UINT64_C(1) << (bits - 1);
    return (int64_t)(f & (sign - 1)) - (int64_t)(f & sign);
}

void chip_reply_pack(const chip_reply *reply, event_payload *p)
{
    chip_reply none = chip_reply_none();
    const chip_reply *r = reply ? reply : &none;
    assert(r->layer >= -1 && r->layer <= INT16_MAX);
    assert(r->copy >= -1 && r->copy <= INT16_MAX);
    assert(r->inference >= -1 && r->inference <= INT32_MAX);
    p->u[1] = (uint64_t)r->target | (uint64_t)r->kind << 32;
    p->u[2] = r->tag;
    p->u[3] =
        to_field(r->layer, 16) | to_field(r->copy, 16) << 16 | to_field(r->inference, 32) << 32;
}

chip_reply chip_reply_unpack(const event_payload *p)
{
    chip_reply r;
    r.target = (uint32_t)(p->u[1] & UINT32_MAX);
    r.kind = (uint32_t)(p->u[1] >> 32);
    r.tag = p->u[2];
    r.layer = (int32_t)from_field(p->u[3] & 0xffff, 16);
    r.copy = (int32_t)from_field(p->u[3] >> 16 & 0xffff, 16);
    r.inference = from_field(p->u[3] >> 32, 32);
    r.vector = -1; /* not carried by a packed request */
    r.vectors = 0;
    return r;
}

/* ---- trace and shared scheduling ------------------------------------------------------------- */

void chip_trace(component *c, chip_activity act, const chip_reply *reply, resource_grant g,
                double energy_pj)
{
    trace_sink *sink = component_trace(c);
    if (!trace_wants(sink, TRACE_VECTOR))
        return;
    trace_record r = {
        .component = c->id,
        .kind = (uint32_t)act,
        .layer = reply ? reply->layer : -1,
        .copy = reply ? reply->copy : -1,
        .inference = reply ? reply->inference : -1,
        .vector = reply ? reply->vector : -1,
        .vectors = reply ? reply->vectors : 0,
        .t0 = g.start,
        .t1 = g.end,
        .energy_pj = energy_pj,
    };
    trace_record_send(sink, &r);
}

resource_grant chip_spread(resource *r, simtime now, uint64_t units, simtime unit_ps)
{
    return resource_request_spread(r, now, units, unit_ps);
}

_Noreturn void chip_bad_event(const component *c, const event *ev)
{
    fprintf(stderr,
            "xbarsim: bug: component %" PRIu32 " '%s' (%s) got event kind %" PRIu32 " at %" PRIu64
            " ps, which it does not handle\n",
            c->id, c->name, c->ops->kind, ev->kind, ev->time);
    abort();
}

void chip_report_resource(stats *st, resource *r, simtime now)
{
    stats_set(st, stats_value(st, "busy_ps", "ps"), (double)resource_busy_ps(r, now));
    stats_set(st, stats_value(st, "utilisation", "fraction"), resource_utilisation(r, now));
    stats_set(st, stats_value(st, "requests", "count"), (double)r->served);
    stats_set(st, stats_value(st, "wait_total_ps", "ps"), (double)r->wait_total_ps);
    stats_set(st, stats_value(st, "wait_max_ps", "ps"), (double)r->wait_max_ps);
    stats_set(st, stats_value(st, "queue_max", "count"), (double)r->queue_max);
}
