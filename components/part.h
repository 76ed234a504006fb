/* part: what every part of the chip (tile, bus, vector module) shares -- the reply a finished
 * request sends back, the trace activity kinds, what a part accounts for, and the spreading of
 * work over a resource's servers. Parts include this and never the registry (chip.h), which
 * includes the parts: the include graph has no cycle.
 */
#ifndef XBARSIM_COMPONENTS_PART_H
#define XBARSIM_COMPONENTS_PART_H

#include <stdint.h>

#include "cost.h"
#include "event.h"
#include "resource.h"
#include "sim.h"
#include "stats.h"

/* What a chip part accounts for after sim_finish: the resource that models it, its dynamic
 * energy by category and its own static energy over [0, finish time]. */
typedef struct part_account {
    resource *res;                   /* the component's resource (owned by the component) */
    double dynamic_pj[COST_E_COUNT]; /* dynamic energy charged, by category, pJ */
    double static_pj;                /* static energy over its run, pJ (see its kind's header) */
} part_account;

/* ---- the reply a request sends when it completes --------------------------------------------- */

#define PART_REPLY_NONE UINT32_MAX /* target meaning "send no event" (trace fields still used) */
/* Reply event priority: the lowest, so a reply fires before same-time events of higher priority. */
#define PART_REPLY_PRIO 0u

/* Who to tell when a request completes and what it belongs to. layer, copy, inference and the
 * vector range are carried into trace records; -1 (vectors 0) when unknown. A packed request
 * (part_reply_pack) carries no vector range: it unpacks as -1, 0. */
typedef struct part_reply {
    uint32_t target;   /* component id to receive the reply event, or PART_REPLY_NONE */
    uint32_t kind;     /* event kind of the reply (meaning defined by the target) */
    uint64_t tag;      /* returned verbatim in the reply, the requester's own key */
    int32_t layer;     /* layer index, -1 when unknown (packed: -1..32767) */
    int32_t copy;      /* layer copy (replica) index, -1 when unknown (packed: -1..32767) */
    int64_t inference; /* inference index, -1 when unknown (packed: -1..2^31-1) */
    int64_t vector;    /* first input vector served, -1 when unknown (not packed) */
    uint64_t vectors;  /* input vectors from `vector` on, count (not packed) */
} part_reply;

/* Payload of a reply event, scheduled for the request's end time (the event's time):
 *   u[PART_REPLY_WORD_TAG]    the request's tag
 *   u[PART_REPLY_WORD_END]    service end, ps (equals the event time)
 *   u[PART_REPLY_WORD_START]  service start, ps (first server to start, for spread requests)
 *   u[PART_REPLY_WORD_SOURCE] id of the component that served the request */
enum {
    PART_REPLY_WORD_TAG = 0,
    PART_REPLY_WORD_END = 1,
    PART_REPLY_WORD_START = 2,
    PART_REPLY_WORD_SOURCE = 3,
};

/* Schedule the reply of a request served by `source` over grant g, at g.end. reply NULL or with
 * target PART_REPLY_NONE: nothing is sent. */
void part_reply_send(sim *s, uint32_t source, const part_reply *reply, resource_grant g);

/* A reply with no target, tag 0 and unknown layer, copy and inference. */
part_reply part_reply_none(void);

/* Request events (sent *to* a component to ask for work) keep word 0 for the request itself and
 * carry the reply in words 1..3:
 *   u[1] = reply target (bits 0..31) | reply kind (bits 32..63)
 *   u[2] = tag
 *   u[3] = layer (bits 0..15, two's complement) | copy (bits 16..31, two's complement) |
 *          inference (bits 32..63, two's complement)
 * Out-of-range layer/copy/inference are a bug (asserted). */
void part_reply_pack(const part_reply *reply, event_payload *p);
part_reply part_reply_unpack(const event_payload *p);

/* ---- trace activity kinds (trace_record.kind) ------------------------------------------------ */

#define PART_ACTIVITY_MAP(X)                                                                       \
    X(VMM, "vmm")             /* a tile multiplies one input vector */                             \
    X(WRITE, "write")         /* a tile's cells are programmed */                                  \
    X(TRANSFER, "transfer")   /* a bus moves one transfer */                                       \
    X(VECTOR_OP, "vector_op") /* a vector module runs one operation */                             \
    X(LAYER, "layer")         /* a layer copy runs one inference (its controller records it) */    \
    X(LINK, "link")           /* a network link carries one hop (a stand-in: a whole path) */

typedef enum part_activity {
#define PART_ACTIVITY_ENUM(id, name) PART_ACT_##id,
    PART_ACTIVITY_MAP(PART_ACTIVITY_ENUM)
#undef PART_ACTIVITY_ENUM
        PART_ACTIVITY_COUNT
} part_activity;

const char *part_activity_name(part_activity act);

/* Record one activity of component c over [g.start, g.end) with its energy (pJ) when the trace
 * sink wants TRACE_VECTOR records; layer/copy/inference from reply (NULL: -1). */
void part_trace(component *c, part_activity act, const part_reply *reply, resource_grant g,
                double energy_pj);
/* The same for `units` components with consecutive ids from c's, each doing that activity with
 * energy_pj: one record of units x energy_pj (trace_record.units). */
void part_trace_units(component *c, part_activity act, const part_reply *reply, resource_grant g,
                      double energy_pj, uint32_t units);

/* ---- shared helpers of the components -------------------------------------------------------- */

/* Spread `units` units of work (bus words, lane ops) arriving at `now` over r's servers: split
 * into min(units, servers) chunks as evenly as possible, the larger (ceil) chunks first, each a
 * FIFO request of chunk x unit_ps ps. Returns start = earliest chunk start, end = latest chunk
 * end, server = the first chunk's server. With every server free at now, end - now =
 * ceil(units / servers) x unit_ps. units 0: nothing is requested, start = end = now. */
resource_grant part_spread(resource *r, simtime now, uint64_t units, simtime unit_ps);

/* A component received an event kind it does not define: a bug. Prints the component, the kind
 * and the time, then aborts. */
_Noreturn void part_bad_event(const component *c, const event *ev);

/* Publish the figures of resource r over [0, now] into st: busy_ps (ps, summed over servers),
 * utilisation (fraction of servers x now), requests (count), wait_total_ps, wait_max_ps (ps),
 * queue_max (count). */
void part_report_resource(stats *st, resource *r, simtime now);

#endif
