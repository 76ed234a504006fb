/* evq: the pending-event queue, one interface over swappable implementations.
 * Every implementation pops in the same total order (time, priority, sequence id) -- see
 * event_before() -- so the choice changes speed, never results. Pick one at run time by kind.
 * The queue stores event pointers; it never allocates or frees the events themselves.
 */
#ifndef XBARSIM_ENGINE_EVQ_H
#define XBARSIM_ENGINE_EVQ_H

#include <stddef.h>

#include "event.h"

/* X(ENUM_SUFFIX, name, description, factory): the registry of implementations. */
#define EVQ_KIND_MAP(X)                                                                            \
    X(HEAP2, "heap2", "binary heap", evq__heap2_create)                                            \
    X(HEAP4, "heap4", "4-ary heap", evq__heap4_create)                                             \
    X(LADDER, "ladder", "ladder queue (Tang, Goh and Thng 2005)", evq__ladder_create)

typedef enum evq_kind {
#define EVQ_ENUM(id, name, desc, factory) EVQ_##id,
    EVQ_KIND_MAP(EVQ_ENUM)
#undef EVQ_ENUM
        EVQ_KIND_COUNT
} evq_kind;

typedef struct evq evq;

/* Create an empty queue of the given kind; owned by the caller, release with evq_destroy. */
evq *evq_create(evq_kind kind);
/* Destroy q (NULL is a no-op). Events still queued are not touched; their owner frees them. */
void evq_destroy(evq *q);

/* Insert ev; its time and order fields must be set and stay unchanged while queued. */
void evq_push(evq *q, event *ev);
/* Remove and return the first event in (time, priority, sequence) order; NULL when empty. */
event *evq_pop(evq *q);
/* The first event without removing it; NULL when empty. */
event *evq_peek(evq *q);
/* Number of queued events. */
size_t evq_size(const evq *q);
/* The kind q was created with. */
evq_kind evq_kind_of(const evq *q);

/* Registry look-ups. evq_kind_parse returns 0 and sets *kind, or -1 for an unknown name. */
const char *evq_kind_name(evq_kind kind);
const char *evq_kind_description(evq_kind kind);
int evq_kind_parse(const char *name, evq_kind *kind);

#endif
