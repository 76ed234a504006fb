/* event: the unit of work of the discrete-event kernel, and the pool events come from.
 * Events are ordered by (time, priority, sequence id); the sequence id is unique per simulator, so
 * the order is total and every run pops events in the same order on every platform.
 * The pool keeps a free list of fixed-size events in chunks: no malloc per event in steady state.
 */
#ifndef XBARSIM_ENGINE_EVENT_H
#define XBARSIM_ENGINE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simtime.h"

#define EVENT_PAYLOAD_WORDS 4
#define EVENT_PRIO_BITS     8  /* priorities 0..255; lower fires first at equal time */
#define EVENT_SEQ_BITS      56 /* sequence ids 0..2^56-1 */
#define EVENT_SEQ_MAX       ((UINT64_C(1) << EVENT_SEQ_BITS) - 1)

/* A small payload carried by value; its meaning belongs to the (target, kind) pair. */
typedef union event_payload {
    uint64_t u[EVENT_PAYLOAD_WORDS];
    int64_t i[EVENT_PAYLOAD_WORDS];
    double f[EVENT_PAYLOAD_WORDS];
    void *p[EVENT_PAYLOAD_WORDS];
} event_payload;

typedef struct event event;
struct event {
    simtime time;          /* when it fires, ps */
    uint64_t order;        /* priority << EVENT_SEQ_BITS | sequence id: the tie-break key */
    event *next;           /* free list / queue bucket link; owned by whoever holds the event */
    uint32_t target;       /* id of the receiving component */
    uint32_t kind;         /* meaning defined by the receiving component */
    event_payload payload; /* copied in at scheduling */
};

static inline uint64_t event_order_key(unsigned prio, uint64_t seq)
{
    return ((uint64_t)prio << EVENT_SEQ_BITS) | (seq & EVENT_SEQ_MAX);
}

static inline unsigned event_priority(const event *ev)
{
    return (unsigned)(ev->order >> EVENT_SEQ_BITS);
}

static inline uint64_t event_seq(const event *ev)
{
    return ev->order & EVENT_SEQ_MAX;
}

/* True when a fires strictly before b in the total order (time, priority, sequence). */
static inline bool event_before(const event *a, const event *b)
{
    return a->time < b->time || (a->time == b->time && a->order < b->order);
}

/* The event pool. Embedded by its owner: event_pool_init / event_pool_fini. */
typedef struct event_chunk event_chunk;
typedef struct event_pool event_pool;
struct event_pool {
    event *free;         /* free list head */
    event_chunk *chunks; /* every chunk ever allocated (freed at fini) */
    size_t chunk_events; /* events per chunk (the first chunk's when geometric) */
    bool geometric;      /* default size: each new chunk as large as all before, to a cap */
    size_t capacity;     /* events allocated in chunks, count */
    size_t in_use;       /* events handed out and not yet returned, count */
    size_t peak_in_use;  /* high-water mark of in_use, count */
    bool use_malloc;     /* debug: one malloc/free per event so sanitizers see each one */
};

/* Prepare an empty pool. chunk_events 0 picks the default: a first chunk of 4096 events, each
 * later one as large as all before (up to 2^17 events), so a large queue's events sit in few
 * huge-page backed chunks. use_malloc selects the debug path. The pool owns all chunk memory until
 * event_pool_fini. */
void event_pool_init(event_pool *pool, size_t chunk_events, bool use_malloc);
/* Release every chunk. Events still out become invalid. */
void event_pool_fini(event_pool *pool);
/* Take an event (fields undefined). Never fails (aborts on out-of-memory). */
event *event_pool_get(event_pool *pool);
/* Return an event taken from this pool. */
void event_pool_put(event_pool *pool, event *ev);

#endif
