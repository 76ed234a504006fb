/* trace_h5: the HDF5 trace sink, writing records as rows of the table /trace/events of
 * traces/README.md (t_start_ps .. energy_pj, with units and the dataset attribute kind_names).
 * Memory stays bounded: records wait in a buffer of one chunk and are appended when it fills.
 * A write error cannot be returned by record(), so the first one is kept, later records are
 * dropped, and trace_flush() reports it.
 */
#ifndef XBARSIM_ENGINE_TRACE_H5_H
#define XBARSIM_ENGINE_TRACE_H5_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "h5file.h"
#include "trace.h"

/* Create a sink at `level` writing to a new table at absolute `path` of f (e.g. "/trace/events";
 * missing groups are created), with the columns t_start_ps, t_end_ps (uint64, ps), component
 * (uint32, id), kind (uint32, -), layer, copy (int32, index), inference, vector (int64, index),
 * vectors (uint64, count), energy_pj (float64, pJ), and the dataset attribute `kind_names` (the
 * n_kinds strings, indexed by `kind`; copied). Records are buffered chunk_rows at a time (0:
 * H5FILE_CHUNK_ROWS_DEFAULT), which is also the table's chunk size.
 * Returns the sink, owned by the caller (trace_flush() it, then trace_destroy() it before
 * committing or aborting f; destroy closes the table without flushing), or NULL with e set
 * (ERR_IO: e.g. `path` exists). f must outlive the sink. */
trace_sink *trace_h5_create(h5file *f, const char *path, trace_level level,
                            const char *const *kind_names, size_t n_kinds, size_t chunk_rows,
                            err *e);

/* Records accepted, count: those sent before the first write error (written, or buffered until the
 * next flush). s must be an HDF5 sink (asserted). */
uint64_t trace_h5_records(const trace_sink *s);

#endif
