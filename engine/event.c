/* event: the event pool. Chunks are never returned before fini, so in steady state (a bounded
 * number of pending events) get/put are a pointer pop/push and capacity stops growing. */
#include "event.h"

#include <assert.h>
#include <stdlib.h>

#include "mem.h"

#define DEFAULT_CHUNK_EVENTS 4096
#define MAX_CHUNK_EVENTS     (1u << 17) /* chunks double up to this (8 MB of events), count */

/* The chunk header takes one cache line so that every 64-byte event sits in exactly one. */
struct event_chunk {
    event_chunk *next;
    char pad[64 - sizeof(event_chunk *)];
    event events[]; /* chunk_events of them */
};

void event_pool_init(event_pool *pool, size_t chunk_events, bool use_malloc)
{
    pool->free = NULL;
    pool->chunks = NULL;
    pool->chunk_events = chunk_events ? chunk_events : DEFAULT_CHUNK_EVENTS;
    pool->geometric = chunk_events == 0;
    pool->capacity = 0;
    pool->in_use = 0;
    pool->peak_in_use = 0;
    pool->use_malloc = use_malloc;
}

void event_pool_fini(event_pool *pool)
{
    event_chunk *c = pool->chunks;
    while (c) {
        event_chunk *next = c->next;
        free(c);
        c = next;
    }
    pool->chunks = NULL;
    pool->free = NULL;
    pool->capacity = 0;
}

/* Add a chunk: chunk_events of them, or with the default size one as large as everything
 * allocated so far (from DEFAULT_CHUNK_EVENTS up to MAX_CHUNK_EVENTS), so that a large queue's
 * events sit in few huge-page backed chunks (mem_alloc_large) and miss less in the TLB. */
static void grow(event_pool *pool)
{
    size_t n = pool->chunk_events;
    if (pool->geometric && pool->capacity > n)
        n = pool->capacity < MAX_CHUNK_EVENTS ? pool->capacity : MAX_CHUNK_EVENTS;
    event_chunk *c = mem_alloc_large(sizeof *c + n * sizeof(event), "event pool chunk");
    c->next = pool->chunks;
    pool->chunks = c;
    /* Thread the new events onto the free list in address order. */
    for (size_t i = n; i-- > 0;) {
        c->events[i].next = pool->free;
        pool->free = &c->events[i];
    }
    pool->capacity += n;
}

event *event_pool_get(event_pool *pool)
{
    event *ev;
    if (pool->use_malloc) {
        ev = mem_alloc(sizeof *ev, "event");
    } else {
        if (!pool->free)
            grow(pool);
        ev = pool->free;
        pool->free = ev->next;
    }
    if (++pool->in_use > pool->peak_in_use)
        pool->peak_in_use = pool->in_use;
    return ev;
}

void event_pool_put(event_pool *pool, event *ev)
{
    assert(pool->in_use > 0);
    pool->in_use--;
    if (pool->use_malloc) {
        free(ev);
        return;
    }
    ev->next = pool->free;
    pool->free = ev;
}
