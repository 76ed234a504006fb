/* chip: the registry of the chip's components (tile, bus, vector module) and what they share --
 * the reply a finished request sends back, the trace activity kinds, and the spreading of work
 * over a resource's servers. One X-macro list generates the kind enum, the config names, the
 * component_class table and the factory, so a new component is one line here.
 */
#ifndef XBARSIM_COMPONENTS_CHIP_H
#define XBARSIM_COMPONENTS_CHIP_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "cost.h"
#include "event.h"
#include "resource.h"
#include "sim.h"
#include "stats.h"

/* X(ID, config name, struct type, ops table, setup function, account function). The types, ops
 * tables, setup and account functions are declared in tile.h, bus.h and vecmod.h; only chip.c
 * needs them complete. */
#define CHIP_COMPONENT_MAP(X)                                                                      \
    X(TILE, "tile", tile, tile_ops, tile_setup, tile_account)                                      \
    X(BUS, "bus", bus, bus_ops, bus_setup, bus_account)                                            \
    X(VECMOD, "vecmod", vecmod, vecmod_ops, vecmod_setup, vecmod_account)

typedef enum chip_component_kind {
#define CHIP_KIND_ENUM(id, name, type, ops, setup, account) CHIP_##id,
    CHIP_COMPONENT_MAP(CHIP_KIND_ENUM)
#undef CHIP_KIND_ENUM
        CHIP_COMPONENT_COUNT
} chip_component_kind;

/* One class per kind, indexed by chip_component_kind (COMPONENT_CLASS_ENTRY entries). */
extern const component_class chip_component_classes[CHIP_COMPONENT_COUNT];

/* Create a component of `kind` named `name` (copied; NULL: the kind's name) in s, which owns it,
 * and attach the chip parameters: `a` (not copied: it must outlive s) and, for a bus, `bus_params`
 * -- the lane parameters it models, normally &a->groups.in_bus or &a->groups.out_bus (required for
 * CHIP_BUS, must be NULL for the others: asserted). The component's resource and statistics
 * entries are ready on return, so requests may be made at once. */
component *chip_component_create(sim *s, chip_component_kind kind, const char *name, const arch *a,
                                 const arch_bus *bus_params);

/* What a chip component accounts for after sim_finish: the resource that models it, its dynamic
 * energy by category and its own static energy over [0, finish time]. */
typedef struct chip_account {
    resource *res;                   /* the component's resource (owned by the component) */
    double dynamic_pj[COST_E_COUNT]; /* dynamic energy charged, by category, pJ */
    double static_pj;                /* static energy over its run, pJ (see its kind's header) */
} chip_account;

/* Fill *out for a chip component (any kind of the registry) and return true; return false, with
 * *out zeroed, for a component that is not a chip part (a controller). After sim_finish. */
bool chip_component_account(component *c, chip_account *out);

/* Config name of a kind ("tile", "bus", "vecmod"); static storage. */
const char *chip_component_name(chip_component_kind kind);
/* 0 and *kind set, or -1 for an unknown name. */
int chip_component_parse(const char *name, chip_component_kind *kind);

/* ---- the reply a request sends when it completes --------------------------------------------- */

#define CHIP_REPLY_NONE UINT32_MAX /* target meaning "send no event" (trace fields still used) */
/* Reply event priority: the lowest, so a reply fires before same-time events of higher priority. */
#define CHIP_REPLY_PRIO 0u

/* Who to tell when a request completes and what it belongs to. layer, copy, inference and the
 * vector range are carried into trace records; -1 (vectors 0) when unknown. A packed request
 * (chip_reply_pack) carries no vector range: it unpacks as -1, 0. */
typedef struct chip_reply {
    uint32_t target;   /* component id to receive the reply event, or CHIP_REPLY_NONE */
    uint32_t kind;     /* event kind of the reply (meaning defined by the target) */
    uint64_t tag;      /* returned verbatim in the reply, the requester's own key */
    int32_t layer;     /* layer index, -1 when unknown (packed: -1..32767) */
    int32_t copy;      /* layer copy (replica) index, -1 when unknown (packed: -1..32767) */
    int64_t inference; /* inference index, -1 when unknown (packed: -1..2^31-1) */
    int64_t vector;    /* first input vector served, -1 when unknown (not packed) */
    uint64_t vectors;  /* input vectors from `vector` on, count (not packed) */
} chip_reply;

/* Payload of a reply event, scheduled for the request's end time (the event's time):
 *   u[CHIP_REPLY_WORD_TAG]    the request's tag
 *   u[CHIP_REPLY_WORD_END]    service end, ps (equals the event time)
 *   u[CHIP_REPLY_WORD_START]  service start, ps (first server to start, for spread requests)
 *   u[CHIP_REPLY_WORD_SOURCE] id of the component that served the request */
enum {
    CHIP_REPLY_WORD_TAG = 0,
    CHIP_REPLY_WORD_END = 1,
    CHIP_REPLY_WORD_START = 2,
    CHIP_REPLY_WORD_SOURCE = 3,
};

/* Schedule the reply of a request served by `source` over grant g, at g.end. reply NULL or with
 * target CHIP_REPLY_NONE: nothing is sent. */
void chip_reply_send(sim *s, uint32_t source, const chip_reply *reply, resource_grant g);

/* A reply with no target, tag 0 and unknown layer, copy and inference. */
chip_reply chip_reply_none(void);

/* Request events (sent *to* a component to ask for work) keep word 0 for the request itself and
 * carry the reply in words 1..3:
 *   u[1] = reply target (bits 0..31) | reply kind (bits 32..63)
 *   u[2] = tag
 *   u[3] = layer (bits 0..15, two's complement) | copy (bits 16..31, two's complement) |
 *          inference (bits 32..63, two's complement)
 * Out-of-range layer/copy/inference are a bug (asserted). */
void chip_reply_pack(const chip_reply *reply, event_payload *p);
chip_reply chip_reply_unpack(const event_payload *p);

/* ---- trace activity kinds (trace_record.kind) ------------------------------------------------ */

#define CHIP_ACTIVITY_MAP(X)                                                                       \
    X(VMM, "vmm")             /* a tile multiplies one input vector */                             \
    X(WRITE, "write")         /* a tile's cells are programmed */                                  \
    X(TRANSFER, "transfer")   /* a bus moves one transfer */                                       \
    X(VECTOR_OP, "vector_op") /* a vector module runs one operation */                             \
    X(LAYER, "layer")         /* a layer copy runs one inference (its controller records it) */

typedef enum chip_activity {
#define CHIP_ACTIVITY_ENUM(id, name) CHIP_ACT_##id,
    CHIP_ACTIVITY_MAP(CHIP_ACTIVITY_ENUM)
#undef CHIP_ACTIVITY_ENUM
        CHIP_ACTIVITY_COUNT
} chip_activity;

const char *chip_activity_name(chip_activity act);

/* Record one activity of component c over [g.start, g.end) with its energy (pJ) when the trace
 * sink wants TRACE_VECTOR records; layer/copy/inference from reply (NULL: -1). */
void chip_trace(component *c, chip_activity act, const chip_reply *reply, resource_grant g,
                double energy_pj);

/* ---- shared helpers of the components -------------------------------------------------------- */

/* Spread `units` units of work (bus words, lane ops) arriving at `now` over r's servers: split
 * into min(units, servers) chunks as evenly as possible, the larger (ceil) chunks first, each a
 * FIFO request of chunk x unit_ps ps. Returns start = earliest chunk start, end = latest chunk
 * end, server = the first chunk's server. With every server free at now, end - now =
 * ceil(units / servers) x unit_ps. units 0: nothing is requested, start = end = now. */
resource_grant chip_spread(resource *r, simtime now, uint64_t units, simtime unit_ps);

/* A component received an event kind it does not define: a bug. Prints the component, the kind
 * and the time, then aborts. */
_Noreturn void chip_bad_event(const component *c, const event *ev);

/* Publish the figures of resource r over [0, now] into st: busy_ps (ps, summed over servers),
 * utilisation (fraction of servers x now), requests (count), wait_total_ps, wait_max_ps (ps),
 * queue_max (count). */
void chip_report_resource(stats *st, resource *r, simtime now);

#endif
