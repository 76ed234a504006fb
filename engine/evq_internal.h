/* evq_internal: what an event-queue implementation provides to evq.c.
 * An implementation embeds `evq` as its first member and fills a const ops table. */
#ifndef XBARSIM_ENGINE_EVQ_INTERNAL_H
#define XBARSIM_ENGINE_EVQ_INTERNAL_H

#include "evq.h"

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
};

#define EVQ_DECLARE_FACTORY(id, name, desc, factory) evq *factory(void);
EVQ_KIND_MAP(EVQ_DECLARE_FACTORY)
#undef EVQ_DECLARE_FACTORY

#endif
