/* trace_h5: the HDF5 trace sink. The buffer holds rows (a trace_record with its repeat count and
 * period) as they are and the table's memory row type points at their fields, so rows are appended
 * without repacking. The buffer is one chunk long, so full-buffer appends fill whole chunks. After
 * the first write error the sink keeps that error and drops every later record; flush reports it
 * every time it is called.
 * With runs on, each stream -- a (component, layer, copy, kind) -- has one open row, kept in a hash
 * table with linear probing: a record that repeats it (the next vectors, the same duration and
 * energy, the same start-to-start period as the repetitions before) only counts one more
 * repetition; any other record of that stream closes the row (appends it) and opens a new one.
 * Flush closes every open row, in stream order. A stream's records interleave with other streams'
 * on a shared bus, which is why rows are per stream and not per component.
 */
#include "trace_h5.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/* One row of the table: `repeat` repetitions of r, the k-th (k from 0) over [t0, t1] + k period,
 * serving vectors from vector + k vectors; energy_pj is their sum. */
typedef struct h5_row {
    trace_record r;
    uint32_t repeat; /* repetitions, count >= 1 */
    simtime period;  /* start-to-start spacing of the repetitions, ps (0 when repeat is 1) */
} h5_row;

/* A stream's open row (runs on): a slot of the hash table. The stream is row.r's (component,
 * layer, copy, kind). */
typedef struct open_row {
    h5_row row;
    simtime last_t0; /* start of the latest repetition, ps */
    double energy;   /* energy of one repetition, pJ */
    bool used;       /* the slot holds an open row */
} open_row;

/* Column `name` from field `member` of the row's trace_record. */
#define COLUMN(name, member, type, unit)                                                           \
    {                                                                                              \
        name, type, offsetof(h5_row, r.member), sizeof(((trace_record *)0)->member), unit          \
    }

/* The columns of /trace/events, in the order of traces/README.md. */
static const h5file_col columns[] = {
    COLUMN("t_start_ps", t0, H5FILE_U64, "ps"),
    COLUMN("t_end_ps", t1, H5FILE_U64, "ps"),
    COLUMN("component", component, H5FILE_U32, "id"),
    COLUMN("units", units, H5FILE_U32, "count"),
    COLUMN("kind", kind, H5FILE_U32, "-"),
    COLUMN("layer", layer, H5FILE_I32, "index"),
    COLUMN("copy", copy, H5FILE_I32, "index"),
    COLUMN("inference", inference, H5FILE_I64, "index"),
    COLUMN("vector", vector, H5FILE_I64, "index"),
    COLUMN("vectors", vectors, H5FILE_U64, "count"),
    COLUMN("energy_pj", energy_pj, H5FILE_F64, "pJ"),
    {"repeat", H5FILE_U32, offsetof(h5_row, repeat), sizeof(uint32_t), "count"},
    {"period_ps", H5FILE_U64, offsetof(h5_row, period), sizeof(simtime), "ps"},
};

#define DESCRIPTION                                                                                \
    "One row per traced activity: its service interval, the components that did it (units of "     \
    "them with consecutive ids from component, each the same), its kind (an index into "           \
    "kind_names), the layer, copy, inference and input vectors it served, and the dynamic energy " \
    "charged for it, summed over its units; repeat repetitions of it period_ps apart (start to "   \
    "start), the k-th serving vectors from vector + k vectors, energy summed over them too."

typedef struct h5_sink {
    trace_sink base;         /* first member */
    h5table *table;          /* owned */
    h5_row *buf;             /* rows waiting to be appended */
    size_t used, cap;        /* rows buffered and room for, count */
    uint64_t records;        /* records accepted, count */
    uint64_t rows;           /* rows closed (appended or buffered), count */
    bool runs;               /* merge repetitions into rows */
    open_row *open;          /* hash table of open rows (runs on), cap_open slots (a power of 2) */
    size_t n_open, cap_open; /* slots used and allocated, count */
    int status;              /* 0, or the first write error's code (negative) */
    err first;               /* the first write error, when status < 0 */
} h5_sink;

static void h5_record(trace_sink *s, const trace_record *r);
static int h5_flush(trace_sink *s, err *e);
static void h5_destroy(trace_sink *s);

static const trace_sink_ops h5_ops = {
    .record = h5_record,
    .flush = h5_flush,
    .destroy = h5_destroy,
};

static h5_sink *as_h5(trace_sink *s)
{
    assert(s && s->ops == &h5_ops);
    return (h5_sink *)s;
}

/* Append the buffered records; on failure keep the error (status < 0). The buffer is emptied
 * either way. */
static void write_buffer(h5_sink *h)
{
    assert(h->status == 0);
    int rc = h5table_append(h->table, h->buf, h->used, &h->first);
    if (rc < 0)
        h->status = rc;
    h->used = 0;
}

/* Buffer one row, appending the buffer when it fills. */
static void put_row(h5_sink *h, const h5_row *row)
{
    h->buf[h->used++] = *row;
    h->rows++;
    if (h->used == h->cap)
        write_buffer(h);
}

/* Whether r is the next repetition of o's row. */
static bool repeats(const open_row *o, const trace_record *r)
{
    const trace_record *a = &o->row.r;
    if (r->kind != a->kind || r->units != a->units || r->layer != a->layer || r->copy != a->copy ||
        r->inference != a->inference || r->vectors != a->vectors ||
        r->t1 - r->t0 != a->t1 - a->t0 || r->energy_pj != o->energy || r->t0 < o->last_t0 ||
        o->row.repeat == UINT32_MAX)
        return false;
    if (r->vector != a->vector + (int64_t)(o->row.repeat * a->vectors))
        return false;
    return o->row.repeat == 1 || r->t0 - o->last_t0 == o->row.period;
}

static bool same_stream(const trace_record *a, const trace_record *b)
{
    return a->component == b->component && a->layer == b->layer && a->copy == b->copy &&
           a->kind == b->kind;
}

/* The slot of r's stream in a table of cap slots (a power of 2): its open row, or the empty slot
 * where it goes. */
static open_row *find_slot(open_row *table, size_t cap, const trace_record *r)
{
    uint64_t k =
        ((uint64_t)r->component << 32 | (uint32_t)r->layer) * UINT64_C(0x9E3779B97F4A7C15) ^
        ((uint64_t)(uint32_t)r->copy << 32 | r->kind) * UINT64_C(0xC2B2AE3D27D4EB4F);
    size_t i = (size_t)(k ^ k >> 29) & (cap - 1);
    while (table[i].used && !same_stream(&table[i].row.r, r))
        i = (i + 1) & (cap - 1);
    return &table[i];
}

/* Double the table (or make its first 64 slots), moving every open row. */
static void grow_open(h5_sink *h)
{
    size_t cap = h->cap_open ? 2 * h->cap_open : 64;
    open_row *table = mem_calloc(cap, sizeof *table, "HDF5 trace open rows");
    for (size_t i = 0; i < h->cap_open; i++)
        if (h->open[i].used)
            *find_slot(table, cap, &h->open[i].row.r) = h->open[i];
    free(h->open);
    h->open = table;
    h->cap_open = cap;
}

/* Count r into its stream's open row, or close that row and open one with r. */
static void add_to_run(h5_sink *h, const trace_record *r)
{
    if (2 * (h->n_open + 1) > h->cap_open)
        grow_open(h); /* load at most 1/2 */
    open_row *o = find_slot(h->open, h->cap_open, r);
    if (o->used && repeats(o, r)) {
        if (o->row.repeat == 1)
            o->row.period = r->t0 - o->last_t0;
        o->row.repeat++;
        o->row.r.energy_pj += r->energy_pj;
        o->last_t0 = r->t0;
        return;
    }
    if (o->used)
        put_row(h, &o->row);
    else
        h->n_open++;
    *o = (open_row){.row = {.r = *r, .repeat = 1, .period = 0},
                    .last_t0 = r->t0,
                    .energy = r->energy_pj,
                    .used = true};
}

/* qsort order of open rows by stream: component, layer, copy, kind. */
static int stream_cmp(const void *x, const void *y)
{
    const trace_record *a = &((const open_row *)x)->row.r, *b = &((const open_row *)y)->row.r;
    if (a->component != b->component)
        return a->component < b->component ? -1 : 1;
    if (a->layer != b->layer)
        return a->layer < b->layer ? -1 : 1;
    if (a->copy != b->copy)
        return a->copy < b->copy ? -1 : 1;
    return (a->kind > b->kind) - (a->kind < b->kind);
}

/* Close every open row, in stream order, and empty the table. */
static void close_runs(h5_sink *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->cap_open; i++)
        if (h->open[i].used)
            h->open[n++] = h->open[i]; /* n <= i: compacts in place */
    qsort(h->open, n, sizeof *h->open, stream_cmp);
    for (size_t i = 0; i < n && h->status == 0; i++)
        put_row(h, &h->open[i].row);
    memset(h->open, 0, h->cap_open * sizeof *h->open);
    h->n_open = 0;
}

static void h5_record(trace_sink *s, const trace_record *r)
{
    h5_sink *h = as_h5(s);
    if (h->status < 0)
        return;
    h->records++;
    if (h->runs)
        add_to_run(h, r);
    else
        put_row(h, &(h5_row){.r = *r, .repeat = 1, .period = 0});
}

static int h5_flush(trace_sink *s, err *e)
{
    h5_sink *h = as_h5(s);
    if (h->n_open > 0)
        close_runs(h);
    if (h->status == 0 && h->used > 0)
        write_buffer(h);
    if (h->status < 0)
        return err_set(e, h->status, "%s", h->first.msg);
    return 0;
}

static void h5_destroy(trace_sink *s)
{
    h5_sink *h = as_h5(s);
    h5table_close(h->table, NULL);
    free(h->buf);
    free(h->open);
    free(h);
}

trace_sink *trace_h5_create(h5file *f, const char *path, trace_level level,
                            const char *const *kind_names, size_t n_kinds, size_t chunk_rows,
                            bool runs, err *e)
{
    assert(f && path && (kind_names || n_kinds == 0));
    assert((unsigned)level < TRACE_LEVEL_COUNT);
    if (chunk_rows == 0)
        chunk_rows = H5FILE_CHUNK_ROWS_DEFAULT;
    h5table *t;
    if (h5table_create(f, path, DESCRIPTION, columns, sizeof columns / sizeof columns[0],
                       sizeof(h5_row), chunk_rows, &t, e) < 0)
        return NULL;
    if (h5file_attr_strv(f, path, "kind_names", kind_names, n_kinds, e) < 0) {
        h5table_close(t, NULL);
        return NULL;
    }
    h5_sink *h = mem_alloc(sizeof *h, "HDF5 trace sink");
    h->base.ops = &h5_ops;
    h->base.level = level;
    h->table = t;
    h->buf = mem_calloc(chunk_rows, sizeof *h->buf, "HDF5 trace buffer");
    h->used = 0;
    h->cap = chunk_rows;
    h->records = 0;
    h->rows = 0;
    h->runs = runs;
    h->open = NULL;
    h->n_open = 0;
    h->cap_open = 0;
    h->status = 0;
    err_clear(&h->first);
    return &h->base;
}

uint64_t trace_h5_records(const trace_sink *s)
{
    assert(s && s->ops == &h5_ops);
    return ((const h5_sink *)s)->records;
}

uint64_t trace_h5_rows(const trace_sink *s)
{
    assert(s && s->ops == &h5_ops);
    return ((const h5_sink *)s)->rows;
}
