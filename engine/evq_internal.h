/* evq_internal: what an event-queue implementation provides to evq.c, and the inline pop that the
 * kernel's run loop uses. An implementation embeds `evq` as its first member and fills a const ops
 * table; one that keeps its first events as a sorted array (the ladder's Bottom) exposes it as the
 * run, so that popping from it costs no call. */
#ifndef XBARSIM_ENGINE_EVQ_INTERNAL_H
#define XBARSIM_ENGINE_EVQ_INTERNAL_H

#include "evq.h"

/* A queued event with its sort key held inline, so ordering never dereferences the event. */
typedef struct evq__entry {
    simtime time;   /* ps */
    uint64_t order; /* priority and sequence, see event.h */
    event *ev;
} evq__entry;

typedef struct evq_ops {
    void (*push)(evq *q, event *ev);
    event *(*pop)(evq *q);
    event *(*peek)(evq *q);
    void (*destroy)(evq *q);
} evq_ops;

struct evq {
    const evq_ops *ops; /* first member */
    evq_kind kind;
    size_t size; /* queued events, count; maintained by the implementation */
    /* run[run_head, run_tail): the first queued events in pop order, or empty. Whatever the
     * implementation keeps there pops before everything else it holds; pop and peek through
     * ops are called only when the run is empty. Implementations without one leave it empty. */
    evq__entry *run;
    size_t run_head, run_tail; /* indices into run */
};

/* evq_pop without a call when the run holds events. */
static inline event *evq__pop_inline(evq *q)
{
    if (q->run_head != q->run_tail) {
        q->size--;
        return q->run[q->run_head++].ev;
    }
    return q->ops->pop(q);
}

/* The event k places after the first (k = 0: the first) when the run holds it, else NULL; never
 * a call. The kernel uses it to prefetch what events further ahead will touch. */
static inline event *evq__ahead_inline(const evq *q, size_t k)
{
    size_t i = q->run_head + k;
    return i < q->run_tail ? q->run[i].ev : NULL;
}

/* evq_peek without a call when the run holds events. */
static inline event *evq__peek_inline(evq *q)
{
    if (q->run_head != q->run_tail)
        return q->run[q->run_head].ev;
    return q->ops->peek(q);
}

#define EVQ_DECLARE_FACTORY(id, name, desc, factory) evq *factory(void);
EVQ_KIND_MAP(EVQ_DECLARE_FACTORY)
#undef EVQ_DECLARE_FACTORY

#endif
