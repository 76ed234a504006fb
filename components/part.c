/* part: the helpers every part of the chip shares (see part.h): replies, trace records, work
 * spreading and resource figures. Invariant: a packed reply unpacks to the same target, kind,
 * tag, layer, copy and inference; activity names are generated from PART_ACTIVITY_MAP.
 */
#include "part.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "trace.h"

static const char *const activity_names[PART_ACTIVITY_COUNT] = {
#define PART_ACT_NAME(id, name) [PART_ACT_##id] = name,
    PART_ACTIVITY_MAP(PART_ACT_NAME)
#undef PART_ACT_NAME
};

const char *part_activity_name(part_activity act)
{
    assert(act < PART_ACTIVITY_COUNT);
    return activity_names[act];
}

/* ---- replies --------------------------------------------------------------------------------- */

part_reply part_reply_none(void)
{
    return (part_reply){.target = PART_REPLY_NONE,
                        .kind = 0,
                        .tag = 0,
                        .layer = -1,
                        .copy = -1,
                        .inference = -1,
                        .vector = -1,
                        .vectors = 0};
}

void part_reply_send(sim *s, uint32_t source, const part_reply *reply, resource_grant g)
{
    if (!reply || reply->target == PART_REPLY_NONE)
        return;
    event_payload p;
    p.u[PART_REPLY_WORD_TAG] = reply->tag;
    p.u[PART_REPLY_WORD_END] = g.end;
    p.u[PART_REPLY_WORD_START] = g.start;
    p.u[PART_REPLY_WORD_SOURCE] = source;
    sim_schedule_at(s, g.end, reply->target, reply->kind, PART_REPLY_PRIO, &p);
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

void part_reply_pack(const part_reply *reply, event_payload *p)
{
    part_reply none = part_reply_none();
    const part_reply *r = reply ? reply : &none;
    assert(r->layer >= -1 && r->layer <= INT16_MAX);
    assert(r->copy >= -1 && r->copy <= INT16_MAX);
    assert(r->inference >= -1 && r->inference <= INT32_MAX);
    p->u[1] = (uint64_t)r->target | (uint64_t)r->kind << 32;
    p->u[2] = r->tag;
    p->u[3] =
        to_field(r->layer, 16) | to_field(r->copy, 16) << 16 | to_field(r->inference, 32) << 32;
}

part_reply part_reply_unpack(const event_payload *p)
{
    part_reply r;
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

void part_trace(component *c, part_activity act, const part_reply *reply, resource_grant g,
                double energy_pj)
{
    part_trace_units(c, act, reply, g, energy_pj, 1);
}

void part_trace_units(component *c, part_activity act, const part_reply *reply, resource_grant g,
                      double energy_pj, uint32_t units)
{
    trace_sink *sink = component_trace(c);
    if (!trace_wants(sink, TRACE_VECTOR))
        return;
    trace_record r = {
        .component = c->id,
        .kind = (uint32_t)act,
        .units = units,
        .layer = reply ? reply->layer : -1,
        .copy = reply ? reply->copy : -1,
        .inference = reply ? reply->inference : -1,
        .vector = reply ? reply->vector : -1,
        .vectors = reply ? reply->vectors : 0,
        .t0 = g.start,
        .t1 = g.end,
        .energy_pj = energy_pj * (double)units,
    };
    trace_record_send(sink, &r);
}

resource_grant part_spread(resource *r, simtime now, uint64_t units, simtime unit_ps)
{
    return resource_request_spread(r, now, units, unit_ps);
}

_Noreturn void part_bad_event(const component *c, const event *ev)
{
    fprintf(stderr,
            "xbarsim: bug: component %" PRIu32 " '%s' (%s) got event kind %" PRIu32 " at %" PRIu64
            " ps, which it does not handle\n",
            c->id, c->name, c->ops->kind, ev->kind, ev->time);
    abort();
}

void part_report_resource(stats *st, resource *r, simtime now)
{
    stats_set(st, stats_value(st, "busy_ps", "ps"), (double)resource_busy_ps(r, now));
    stats_set(st, stats_value(st, "utilisation", "fraction"), resource_utilisation(r, now));
    stats_set(st, stats_value(st, "requests", "count"), (double)r->served);
    stats_set(st, stats_value(st, "wait_total_ps", "ps"), (double)r->wait_total_ps);
    stats_set(st, stats_value(st, "wait_max_ps", "ps"), (double)r->wait_max_ps);
    stats_set(st, stats_value(st, "queue_max", "count"), (double)r->queue_max);
}
