/* sim: the discrete-event kernel. The hot loop is pop -> set now -> handle -> return to pool;
 * everything else (init, finish, reports) happens outside it. */
#include "sim.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evq_internal.h"
#include "mem.h"
#include "rng.h"

#ifdef XBARSIM_EVENT_MALLOC
#define EVENT_MALLOC_DEFAULT true
#else
#define EVENT_MALLOC_DEFAULT false
#endif

/* Dispatch prefetches the component of the event this many places after the next one (one
 * handler is shorter than a miss to memory; 4 measured best of 0, 1, 4 and 8 on PHOLD with 4 M
 * events pending), or of the next one when the queue's run is shorter. */
#define DISPATCH_AHEAD 4

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* Components live in blocks carved in creation order, so neighbours in id are neighbours in
 * memory and a component's fields share cache lines with nothing else (its name and statistics
 * arrays are allocated apart). With event_malloc each component gets its own calloc instead, so
 * that sanitizers see an overrun of one. */
#define COMP_BLOCK_BYTES ((size_t)256 * 1024) /* bytes per component block, at least */
#define COMP_ALIGN       16                   /* every component starts on this boundary, bytes */

typedef struct comp_block comp_block;
struct comp_block {
    comp_block *next; /* the block allocated before this one */
    size_t used, cap; /* bytes of data[] */
    _Alignas(COMP_ALIGN) unsigned char data[];
};

struct sim {
    sim_options opt;
    simtime now;       /* ps */
    uint64_t next_seq; /* sequence id of the next scheduled event */
    uint64_t handled;  /* events handled, count */
    bool stop;         /* set by sim_stop, cleared when a run returns */
    size_t n_init;     /* components [0, n_init) have been through init */
    evq *queue;
    event_pool pool;
    component **comps;
    size_t n_comps, cap_comps;
    comp_block *blocks; /* newest first; NULL with event_malloc */
};

void sim_options_default(sim_options *o)
{
    memset(o, 0, sizeof *o);
    o->queue = EVQ_LADDER;
    o->seed = 1;
    o->event_malloc = EVENT_MALLOC_DEFAULT;
    o->rng = NULL;
    o->trace = NULL;
}

sim *sim_create(const sim_options *o)
{
    sim *s = mem_calloc(1, sizeof *s, "simulator");
    if (o)
        s->opt = *o;
    else
        sim_options_default(&s->opt);
    s->queue = evq_create(s->opt.queue);
    event_pool_init(&s->pool, 0, s->opt.event_malloc);
    return s;
}

void sim_destroy(sim *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_comps; i++) {
        component *c = s->comps[i];
        if (c->ops->destroy)
            c->ops->destroy(c);
        if (c->rng)
            gsl_rng_free(c->rng);
        stats_fini(&c->stats);
        free(c->name);
        if (s->opt.event_malloc)
            free(c);
    }
    free(s->comps);
    for (comp_block *b = s->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    event *ev;
    while ((ev = evq_pop(s->queue)))
        event_pool_put(&s->pool, ev);
    evq_destroy(s->queue);
    event_pool_fini(&s->pool);
    free(s);
}

/* Zeroed memory for a component of `size` bytes, from the current block or a new one. */
static component *comp_alloc(sim *s, size_t size, const char *what)
{
    if (s->opt.event_malloc)
        return mem_calloc(1, size, what);
    size_t need = (size + COMP_ALIGN - 1) / COMP_ALIGN * COMP_ALIGN;
    comp_block *b = s->blocks;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > COMP_BLOCK_BYTES ? need : COMP_BLOCK_BYTES;
        b = mem_calloc(1, sizeof *b + cap, "component block");
        b->cap = cap;
        b->next = s->blocks;
        s->blocks = b;
    }
    component *c = (component *)(b->data + b->used);
    b->used += need;
    return c;
}

component *sim_create_component(sim *s, const component_class *cls, const char *name)
{
    assert(cls && cls->ops && cls->ops->handle && cls->ops->kind);
    assert(cls->size >= sizeof(component));
    assert(s->n_comps < UINT32_MAX);
    component *c = comp_alloc(s, cls->size, cls->ops->kind);
    c->ops = cls->ops;
    c->sim = s;
    c->id = (uint32_t)s->n_comps;
    c->name = mem_strdup(name ? name : cls->ops->kind, "component name");
    stats_init(&c->stats);
    if (s->n_comps == s->cap_comps) {
        s->cap_comps = s->cap_comps ? 2 * s->cap_comps : 16;
        s->comps = mem_realloc(s->comps, s->cap_comps, sizeof *s->comps, "component table");
    }
    s->comps[s->n_comps++] = c;
    return c;
}

size_t sim_component_count(const sim *s)
{
    return s->n_comps;
}

component *sim_component(const sim *s, uint32_t id)
{
    assert(id < s->n_comps);
    return s->comps[id];
}

simtime sim_now(const sim *s)
{
    return s->now;
}

const sim_options *sim_get_options(const sim *s)
{
    return &s->opt;
}

_Noreturn static void schedule_in_past(const sim *s, simtime at, uint32_t target, uint32_t kind)
{
    const component *c = s->comps[target];
    fprintf(stderr,
            "xbarsim: bug: event kind %" PRIu32 " for component %" PRIu32 " '%s' (%s) scheduled at "
            "%" PRIu64 " ps, before now = %" PRIu64 " ps\n",
            kind, target, c->name, c->ops->kind, at, s->now);
    abort();
}

void sim_schedule_at(sim *s, simtime at, uint32_t target, uint32_t kind, unsigned prio,
                     const event_payload *payload)
{
    assert(target < s->n_comps);
    assert(prio < (1u << EVENT_PRIO_BITS));
    assert(s->next_seq <= EVENT_SEQ_MAX);
    if (at < s->now)
        schedule_in_past(s, at, target, kind);
    event *ev = event_pool_get(&s->pool);
    ev->time = at;
    ev->order = event_order_key(prio, s->next_seq++);
    ev->target = target;
    ev->kind = kind;
    if (payload)
        ev->payload = *payload;
    else
        memset(&ev->payload, 0, sizeof ev->payload);
    evq_push(s->queue, ev);
}

void sim_schedule_in(sim *s, simtime delay, uint32_t target, uint32_t kind, unsigned prio,
                     const event_payload *payload)
{
    assert(delay <= SIMTIME_MAX - s->now);
    sim_schedule_at(s, s->now + delay, target, kind, prio, payload);
}

static void init_new_components(sim *s)
{
    /* init may create components; the loop bound is re-read on purpose. */
    while (s->n_init < s->n_comps) {
        component *c = s->comps[s->n_init++];
        if (!c->initialised && c->ops->init)
            c->ops->init(c);
        c->initialised = true;
    }
}

static inline void dispatch(sim *s, event *ev)
{
    s->now = ev->time;
    component *c = s->comps[ev->target];
    /* Start loading a coming event's component (DISPATCH_AHEAD places on) while this one is
     * handled: the targets of consecutive events are unrelated, so the load would otherwise miss
     * in cache each time. */
    const event *next = evq__ahead_inline(s->queue, DISPATCH_AHEAD);
    if (!next)
        next = evq__peek_inline(s->queue);
    if (next)
        PREFETCH(s->comps[next->target]);
    c->ops->handle(c, ev);
    event_pool_put(&s->pool, ev);
    s->handled++;
}

sim_status sim_run(sim *s)
{
    init_new_components(s);
    while (!s->stop) {
        event *ev = evq__pop_inline(s->queue);
        if (!ev)
            return SIM_EMPTY;
        dispatch(s, ev);
    }
    s->stop = false;
    return SIM_STOPPED;
}

sim_status sim_run_until(sim *s, simtime t_end)
{
    assert(t_end >= s->now);
    init_new_components(s);
    while (!s->stop) {
        /* Pop first and put back the one event past the end: one queue call per event. */
        event *ev = evq__pop_inline(s->queue);
        if (!ev)
            return SIM_EMPTY;
        if (ev->time > t_end) {
            evq_push(s->queue, ev);
            s->now = t_end;
            return SIM_UNTIL;
        }
        dispatch(s, ev);
    }
    s->stop = false;
    return SIM_STOPPED;
}

void sim_stop(sim *s)
{
    s->stop = true;
}

void sim_finish(sim *s)
{
    for (size_t i = 0; i < s->n_comps; i++) {
        component *c = s->comps[i];
        if (c->ops->finish)
            c->ops->finish(c);
    }
    for (size_t i = 0; i < s->n_comps; i++) {
        component *c = s->comps[i];
        if (c->ops->report)
            c->ops->report(c, &c->stats);
    }
}

uint64_t sim_events_handled(const sim *s)
{
    return s->handled;
}

size_t sim_events_pending(const sim *s)
{
    return evq_size(s->queue);
}

size_t sim_pool_capacity(const sim *s)
{
    return s->pool.capacity;
}

size_t sim_pool_peak(const sim *s)
{
    return s->pool.peak_in_use;
}

gsl_rng *component_rng(component *c)
{
    if (!c->rng)
        c->rng = rng_stream_create(c->sim->opt.rng, c->sim->opt.seed, c->id);
    return c->rng;
}

trace_sink *component_trace(const component *c)
{
    return c->sim->opt.trace;
}
