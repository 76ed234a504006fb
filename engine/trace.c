/* trace: dispatch through a sink's ops table, the level registry (TRACE_LEVEL_MAP) and the
 * in-memory sink. The memory sink owns a growable array of copied records, kept in arrival
 * order; a record pointer from trace_memory_at() is valid until the next record or destroy.
 */
#include "trace.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

bool trace_record_same(const trace_record *a, const trace_record *b)
{
    return a->component == b->component && a->kind == b->kind && a->units == b->units &&
           a->layer == b->layer && a->copy == b->copy && a->inference == b->inference &&
           a->vector == b->vector && a->vectors == b->vectors && a->t0 == b->t0 && a->t1 == b->t1 &&
           memcmp(&a->energy_pj, &b->energy_pj, sizeof a->energy_pj) == 0;
}

void trace_record_send(trace_sink *s, const trace_record *r)
{
    assert(s && s->ops && r);
    s->ops->record(s, r);
}

int trace_flush(trace_sink *s, err *e)
{
    if (!s)
        return 0;
    assert(s->ops);
    return s->ops->flush(s, e);
}

void trace_destroy(trace_sink *s)
{
    if (!s)
        return;
    assert(s->ops);
    s->ops->destroy(s);
}

static const char *const level_names[TRACE_LEVEL_COUNT] = {
#define TRACE_NAME(id, name) [TRACE_##id] = name,
    TRACE_LEVEL_MAP(TRACE_NAME)
#undef TRACE_NAME
};

const char *trace_level_name(trace_level level)
{
    assert((unsigned)level < TRACE_LEVEL_COUNT);
    return level_names[level];
}

int trace_level_parse(const char *name, trace_level *level)
{
    assert(name && level);
    for (unsigned i = 0; i < TRACE_LEVEL_COUNT; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *level = (trace_level)i;
            return 0;
        }
    }
    return -1;
}

/* ---- in-memory sink ---- */

typedef struct memory_sink {
    trace_sink base; /* first member */
    trace_record *records;
    size_t count, cap; /* records held and room for, count */
} memory_sink;

static void memory_record(trace_sink *s, const trace_record *r);
static int memory_flush(trace_sink *s, err *e);
static void memory_destroy(trace_sink *s);

static const trace_sink_ops memory_ops = {
    .record = memory_record,
    .flush = memory_flush,
    .destroy = memory_destroy,
};

static memory_sink *as_memory(trace_sink *s)
{
    assert(s && s->ops == &memory_ops);
    return (memory_sink *)s;
}

static const memory_sink *as_memory_const(const trace_sink *s)
{
    assert(s && s->ops == &memory_ops);
    return (const memory_sink *)s;
}

static void memory_record(trace_sink *s, const trace_record *r)
{
    memory_sink *m = as_memory(s);
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->records = mem_realloc(m->records, m->cap, sizeof *m->records, "trace memory records");
    }
    m->records[m->count++] = *r;
}

static int memory_flush(trace_sink *s, err *e)
{
    (void)as_memory(s);
    (void)e;
    return 0;
}

static void memory_destroy(trace_sink *s)
{
    memory_sink *m = as_memory(s);
    free(m->records);
    free(m);
}

trace_sink *trace_memory_create(trace_level level)
{
    assert((unsigned)level < TRACE_LEVEL_COUNT);
    memory_sink *m = mem_alloc(sizeof *m, "trace memory sink");
    m->base.ops = &memory_ops;
    m->base.level = level;
    m->records = NULL;
    m->count = 0;
    m->cap = 0;
    return &m->base;
}

size_t trace_memory_count(const trace_sink *s)
{
    return as_memory_const(s)->count;
}

const trace_record *trace_memory_at(const trace_sink *s, size_t i)
{
    const memory_sink *m = as_memory_const(s);
    assert(i < m->count);
    return &m->records[i];
}
