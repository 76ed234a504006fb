/* evq: dispatch to the event-queue implementations and their name registry. */
#include "evq.h"

#include <assert.h>
#include <string.h>

#include "evq_internal.h"

typedef struct kind_info {
    const char *name;
    const char *desc;
    evq *(*create)(void);
} kind_info;

static const kind_info kinds[EVQ_KIND_COUNT] = {
#define EVQ_INFO(id, n, d, factory) [EVQ_##id] = {.name = n, .desc = d, .create = factory},
    EVQ_KIND_MAP(EVQ_INFO)
#undef EVQ_INFO
};

evq *evq_create(evq_kind kind)
{
    assert(kind < EVQ_KIND_COUNT);
    evq *q = kinds[kind].create();
    q->kind = kind;
    q->size = 0;
    q->run = NULL;
    q->run_head = q->run_tail = 0;
    return q;
}

void evq_destroy(evq *q)
{
    if (q)
        q->ops->destroy(q);
}

void evq_push(evq *q, event *ev)
{
    q->ops->push(q, ev);
}

event *evq_pop(evq *q)
{
    return evq__pop_inline(q);
}

event *evq_peek(evq *q)
{
    return evq__peek_inline(q);
}

size_t evq_size(const evq *q)
{
    return q->size;
}

evq_kind evq_kind_of(const evq *q)
{
    return q->kind;
}

const char *evq_kind_name(evq_kind kind)
{
    assert(kind < EVQ_KIND_COUNT);
    return kinds[kind].name;
}

const char *evq_kind_description(evq_kind kind)
{
    assert(kind < EVQ_KIND_COUNT);
    return kinds[kind].desc;
}

int evq_kind_parse(const char *name, evq_kind *kind)
{
    for (int k = 0; k < EVQ_KIND_COUNT; k++) {
        if (strcmp(name, kinds[k].name) == 0) {
            *kind = (evq_kind)k;
            return 0;
        }
    }
    return -1;
}
