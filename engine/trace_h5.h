/* trace_h5: the HDF5 trace sink, writing records as rows of the table /trace/events of
 * traces/README.md (t_start_ps .. energy_pj, repeat, period_ps, with units and the dataset
 * attribute kind_names). Optionally a row counts the regular repetitions of one component's
 * activity (runs). Memory stays bounded: rows wait in a buffer of one chunk and are appended when
 * it fills, plus one open row per component id with runs on.
 * A write error cannot be returned by record(), so the first one is kept, later records are
 * dropped, and trace_flush() reports it.
 */
#ifndef XBARSIM_ENGINE_TRACE_H5_H
#define XBARSIM_ENGINE_TRACE_H5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "h5file.h"
#include "trace.h"

/* Create a sink at `level` writing to a new table at absolute `path` of f (e.g. "/trace/events";
 * missing groups are created), with the columns t_start_ps, t_end_ps (uint64, ps), component,
 * units, kind (uint32), layer, copy (int32, index), inference, vector (int64, index), vectors
 * (uint64, count), energy_pj (float64, pJ), repeat (uint32, count), period_ps (uint64, ps), and
 * the dataset attribute `kind_names` (the n_kinds strings, indexed by `kind`; copied). Rows are
 * buffered chunk_rows at a time (0: H5FILE_CHUNK_ROWS_DEFAULT), which is also the table's chunk
 * size.
 * runs false: one row per record, in arrival order, repeat 1 and period 0. runs true: a record
 * that repeats its component's open row -- same kind, units, layer, copy, inference, vectors,
 * duration and energy (bit for bit), vector = the row's vector + repeat x vectors, and a start
 * `period` after the previous repetition's (the period is set by the second) -- adds one to its
 * repeat and its energy to energy_pj; rows are appended as they close, so the table is not in
 * time order.
 * Returns the sink, owned by the caller (trace_flush() it, then trace_destroy() it before
 * committing or aborting f; destroy closes the table without flushing), or NULL with e set
 * (ERR_IO: e.g. `path` exists). f must outlive the sink. */
trace_sink *trace_h5_create(h5file *f, const char *path, trace_level level,
                            const char *const *kind_names, size_t n_kinds, size_t chunk_rows,
                            bool runs, err *e);

/* Records accepted, count: those sent before the first write error (written, or buffered until the
 * next flush). s must be an HDF5 sink (asserted). */
uint64_t trace_h5_records(const trace_sink *s);
/* Rows closed so far, count (with runs off, the records accepted). s must be an HDF5 sink. */
uint64_t trace_h5_rows(const trace_sink *s);

#endif
