/* trace: the sink interface through which components record timed, energy-carrying activity.
 * A sink has a level (none < layer < vector); callers ask trace_wants() before building a record,
 * so tracing off costs one compare. The in-memory sink here serves tests; the HDF5 sink lives in
 * its own module. Records are copied by the sink.
 */
#ifndef XBARSIM_ENGINE_TRACE_H
#define XBARSIM_ENGINE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "simtime.h"

#define TRACE_LEVEL_MAP(X)                                                                         \
    X(NONE, "none")                                                                                \
    X(LAYER, "layer")                                                                              \
    X(VECTOR, "vector")

typedef enum trace_level {
#define TRACE_ENUM(id, name) TRACE_##id,
    TRACE_LEVEL_MAP(TRACE_ENUM)
#undef TRACE_ENUM
        TRACE_LEVEL_COUNT
} trace_level;

typedef struct trace_record {
    uint32_t component; /* component id: the first of `units` with consecutive ids */
    uint32_t kind;      /* activity kind, defined by the component */
    uint32_t units;     /* components that did the same activity at the same time, count >= 1 */
    int32_t layer;      /* layer index, -1 when none */
    int32_t copy;       /* layer copy (replica) index, -1 when none */
    int64_t inference;  /* inference index, -1 when none */
    int64_t vector;     /* first input vector of the activity, -1 when none */
    uint64_t vectors;   /* input vectors it covers from `vector` on, count (0 when none) */
    simtime t0, t1;     /* activity interval, ps */
    double energy_pj;   /* energy charged for it, summed over its units, pJ */
} trace_record;

typedef struct trace_sink trace_sink;
typedef struct trace_sink_ops {
    void (*record)(trace_sink *s, const trace_record *r);
    int (*flush)(trace_sink *s, err *e); /* 0 or negative with e set */
    void (*destroy)(trace_sink *s);
} trace_sink_ops;

struct trace_sink {
    const trace_sink_ops *ops; /* first member */
    trace_level level;
};

/* True when a record at `level` should be built and sent. s may be NULL (no tracing). */
static inline bool trace_wants(const trace_sink *s, trace_level level)
{
    return s && level != TRACE_NONE && level <= s->level;
}

/* Whether a and b hold the same fields (bit for bit; the struct's padding is not compared). */
bool trace_record_same(const trace_record *a, const trace_record *b);

/* Send r to s (not NULL: guard with trace_wants), which copies it; r stays the caller's. */
void trace_record_send(trace_sink *s, const trace_record *r);
/* Push buffered records out: 0, or negative with e set. s may be NULL (returns 0). */
int trace_flush(trace_sink *s, err *e);
/* Destroy s (NULL is a no-op). */
void trace_destroy(trace_sink *s);

/* Config name of a level ("none", "layer", "vector"); static storage. */
const char *trace_level_name(trace_level level);
/* 0 and *level set, or -1 for an unknown name. */
int trace_level_parse(const char *name, trace_level *level);

/* In-memory sink keeping a copy of every record in arrival order, for tests and small runs.
 * Owned by the caller, released with trace_destroy(); its flush does nothing and returns 0. */
trace_sink *trace_memory_create(trace_level level);
/* Records held, count. s must be a memory sink (asserted). */
size_t trace_memory_count(const trace_sink *s);
/* The i-th record (i < count, asserted); valid until the next record sent or destroy. */
const trace_record *trace_memory_at(const trace_sink *s, size_t i);

#endif
