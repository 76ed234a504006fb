/* sim: the discrete-event kernel -- components, scheduling, and the run loop.
 * A component is an instance whose first member is a const ops table; it is created from a
 * component_class (size + ops) so layers can build registries from X-macro lists. Events pop in
 * (time, priority, sequence id) order; the sequence id is the scheduling count, so runs are
 * bit-identical. The kernel knows nothing of CIM.
 */
#ifndef XBARSIM_ENGINE_SIM_H
#define XBARSIM_ENGINE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "event.h"
#include "evq.h"
#include "simtime.h"
#include "stats.h"
#include "trace.h"

typedef struct sim sim;
typedef struct component component;

/* The behaviour of a component kind. Only `kind` and `handle` are required. */
typedef struct component_ops {
    const char *kind;                              /* class name, e.g. "tile" */
    void (*init)(component *c);                    /* before the first event of the run */
    void (*handle)(component *c, const event *ev); /* one event addressed to c */
    void (*finish)(component *c);                  /* once, after the run (close open intervals) */
    void (*report)(component *c, stats *st);       /* publish derived figures into st */
    void (*destroy)(component *c);                 /* free what c owns (not c itself) */
} component_ops;

struct component {
    const component_ops *ops; /* first member: the instance's class */
    sim *sim;                 /* owning simulator */
    uint32_t id;              /* index in the simulator, from 0 in creation order */
    char *name;               /* instance name, owned */
    gsl_rng *rng;             /* own stream, created on first component_rng() */
    stats stats;              /* named counters and accumulators */
    bool initialised;
};

/* A creatable kind: the size of its struct (which embeds `component` first) and its ops. */
typedef struct component_class {
    size_t size;
    const component_ops *ops;
} component_class;

/* X-macro helper: X(ID, type, ops) -> a component_class initialiser. */
#define COMPONENT_CLASS_ENTRY(id, type, ops_) [id] = {.size = sizeof(type), .ops = &(ops_)},

typedef struct sim_options {
    evq_kind queue;          /* event-queue implementation */
    uint64_t seed;           /* run seed: component RNG streams derive from it */
    bool event_malloc;       /* debug: malloc each event (sanitizers see every one) */
    const gsl_rng_type *rng; /* component RNG type, NULL: RNG_DEFAULT_TYPE */
    trace_sink *trace;       /* where components record activity; NULL: none. Not owned. */
} sim_options;

typedef enum sim_status {
    SIM_EMPTY,   /* the queue ran dry */
    SIM_UNTIL,   /* the next event lies after the requested end time */
    SIM_STOPPED, /* a component called sim_stop */
} sim_status;

/* Defaults: ladder queue (the fastest in bench/phold from 16 K to 4 M pending events), seed 1, pool
 * (or malloc when built with XBARSIM_EVENT_MALLOC), no trace. */
void sim_options_default(sim_options *o);

/* Create a simulator at time 0 (o NULL: defaults). Owned by the caller: sim_destroy. */
sim *sim_create(const sim_options *o);
/* Destroy s, its components (their destroy op, then the struct), pending events, queue, pool. */
void sim_destroy(sim *s);

/* Create a component of class cls named `name` (copied), zeroed, ops set; s owns it. */
component *sim_create_component(sim *s, const component_class *cls, const char *name);
size_t sim_component_count(const sim *s);
component *sim_component(const sim *s, uint32_t id);

/* Current simulated time, ps. */
simtime sim_now(const sim *s);
const sim_options *sim_get_options(const sim *s);

/* Schedule an event of `kind` for component `target` at absolute time `at` (>= now; earlier is a
 * bug that aborts naming the component, the time and now). Lower prio fires first among equal
 * times; prio < 256. payload may be NULL (zeroed). */
void sim_schedule_at(sim *s, simtime at, uint32_t target, uint32_t kind, unsigned prio,
                     const event_payload *payload);
/* Same, `delay` ps after now. */
void sim_schedule_in(sim *s, simtime delay, uint32_t target, uint32_t kind, unsigned prio,
                     const event_payload *payload);

/* Run until the queue is empty or a component stops the run. Calls init of components not yet
 * initialised first. Returns SIM_EMPTY or SIM_STOPPED; may be called again to resume. */
sim_status sim_run(sim *s);
/* Run events with time <= t_end. SIM_UNTIL leaves now = t_end and later events queued;
 * SIM_EMPTY leaves now at the last event; SIM_STOPPED at the stopping event. */
sim_status sim_run_until(sim *s, simtime t_end);
/* Ask the current run to return after the handler that called it. */
void sim_stop(sim *s);

/* Call every component's finish (once per run), then report into its stats. */
void sim_finish(sim *s);

/* Counters: events handled so far; events pending; pool capacity and peak use (events). */
uint64_t sim_events_handled(const sim *s);
size_t sim_events_pending(const sim *s);
size_t sim_pool_capacity(const sim *s);
size_t sim_pool_peak(const sim *s);

/* The component's own RNG stream, seeded from (run seed, component id) on first use. */
gsl_rng *component_rng(component *c);
/* The trace sink of the component's simulator (may be NULL). */
trace_sink *component_trace(const component *c);

#endif
