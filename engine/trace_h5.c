/* trace_h5: the HDF5 trace sink. The buffer holds trace_records as they are and the table's
 * memory row type points at their fields, so rows are appended without repacking. The buffer is
 * one chunk long, so full-buffer appends fill whole chunks. After the first write error the sink
 * keeps that error and drops every later record; flush reports it every time it is called.
 */
#include "trace_h5.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>

#include "mem.h"

/* Column `name` from field `member` of trace_record. */
#define COLUMN(name, member, type, unit)                                                           \
    {                                                                                              \
        name, type, offsetof(trace_record, member), sizeof(((trace_record *)0)->member), unit      \
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
};

#define DESCRIPTION                                                                                \
    "One row per traced activity: its service interval, the components that did it (units of "     \
    "them with consecutive ids from component, each the same), its kind (an index into "           \
    "kind_names), the layer, copy, inference and input vectors it served, and the dynamic energy " \
    "charged for it, summed over its units."

typedef struct h5_sink {
    trace_sink base;   /* first member */
    h5table *table;    /* owned */
    trace_record *buf; /* records waiting to be appended */
    size_t used, cap;  /* records buffered and room for, count */
    uint64_t records;  /* records accepted, count */
    int status;        /* 0, or the first write error's code (negative) */
    err first;         /* the first write error, when status < 0 */
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

static void h5_record(trace_sink *s, const trace_record *r)
{
    h5_sink *h = as_h5(s);
    if (h->status < 0)
        return;
    h->buf[h->used++] = *r;
    h->records++;
    if (h->used == h->cap)
        write_buffer(h);
}

static int h5_flush(trace_sink *s, err *e)
{
    h5_sink *h = as_h5(s);
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
    free(h);
}

trace_sink *trace_h5_create(h5file *f, const char *path, trace_level level,
                            const char *const *kind_names, size_t n_kinds, size_t chunk_rows,
                            err *e)
{
    assert(f && path && (kind_names || n_kinds == 0));
    assert((unsigned)level < TRACE_LEVEL_COUNT);
    if (chunk_rows == 0)
        chunk_rows = H5FILE_CHUNK_ROWS_DEFAULT;
    h5table *t;
    if (h5table_create(f, path, DESCRIPTION, columns, sizeof columns / sizeof columns[0],
                       sizeof(trace_record), chunk_rows, &t, e) < 0)
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
    h->status = 0;
    err_clear(&h->first);
    return &h->base;
}

uint64_t trace_h5_records(const trace_sink *s)
{
    assert(s && s->ops == &h5_ops);
    return ((const h5_sink *)s)->records;
}
