/* h5file: an HDF5 output file written under a temporary name, with string/number attributes and
 * append-only tables (1-D chunked, compressed datasets of a compound type, one field per column).
 * Invariant: nothing appears under the requested name until h5file_commit() succeeds; until then
 * the data lives in `<path>.tmp.<pid>` in the same directory, so the final rename is atomic.
 */
#ifndef XBARSIM_ENGINE_H5FILE_H
#define XBARSIM_ENGINE_H5FILE_H

#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "err.h"

/* Rows a table chunk holds when the caller passes chunk_rows 0 (64 Ki, as traces/README.md). */
#define H5FILE_CHUNK_ROWS_DEFAULT ((size_t)65536)

typedef struct h5file h5file;

/* Create the temporary file `<path>.tmp.<pid>` (exclusive: an existing temporary of that name is
 * an error; an existing `path` is not, it is replaced at commit). Also switches off HDF5's
 * automatic error printing for the whole process, so the err message is the only report.
 * Returns 0 and *out (owned by the caller until h5file_commit() or h5file_abort()), or ERR_IO with
 * e naming the path and the reason (strerror or HDF5's) and *out untouched. */
int h5file_create(const char *path, h5file **out, err *e);

/* Remove the temporaries `path`.tmp.PID that a killed writer left behind: those whose process is
 * gone (no process PID exists). Each removal is said on `report` (NULL: silently). Returns how
 * many were removed. h5file_create calls it with stderr before it creates its own. */
unsigned h5file_clean_stale(const char *path, FILE *report);

/* The temporary file's name, valid until commit/abort. Reading it needs no locks, so a signal
 * handler may unlink() it. */
const char *h5file_temp_path(const h5file *f);

/* The final name given to h5file_create(), valid until commit/abort. */
const char *h5file_path(const h5file *f);

/* Flush the file, close it and rename the temporary to the final name, replacing any file there.
 * Every table must be closed first (asserted). Frees f in all cases. Returns 0, or ERR_IO with e
 * set, in which case the temporary file has been removed and the final name is untouched. */
int h5file_commit(h5file *f, err *e);

/* Discard the file: truncate and unlink the temporary, close it and free f; the final name is
 * untouched. Every table must be closed first (asserted). NULL is a no-op. (Truncating first gives
 * back the space, so that on a full disk HDF5 can still close the file: a failed close in HDF5
 * 1.10 leaves a dangling ID that crashes HDF5's exit-time cleanup.) */
void h5file_abort(h5file *f);

/* Create the group at absolute `path` ("/summary"), intermediate groups too. An existing group is
 * fine. Returns 0, or ERR_IO (e.g. a dataset of that name exists) with e set. */
int h5file_group(h5file *f, const char *path, err *e);

/* Attributes on the object (group or dataset) at absolute path `obj`; an attribute of the same
 * name is replaced. Strings are scalar variable-length UTF-8 (h5py reads a Python str; the C API
 * reads a char * with a variable-length string memory type); variable rather than fixed length
 * because a fixed-length attribute must fit the object header (64 KiB) and a whole configuration
 * may not. `value` must not be NULL. Numbers are scalar uint64 (little-endian) and float64 (IEEE
 * little-endian). Returns 0, or ERR_IO with e set (no such object, HDF5 failure). The caller
 * keeps its strings. */
int h5file_attr_str(h5file *f, const char *obj, const char *name, const char *value, err *e);
int h5file_attr_u64(h5file *f, const char *obj, const char *name, uint64_t value, err *e);
int h5file_attr_f64(h5file *f, const char *obj, const char *name, double value, err *e);
/* 1-D array of n variable-length UTF-8 strings (h5py: numpy object array of str), e.g. `units`
 * or `kind_names`; no element may be NULL. n may be 0 (an empty array). */
int h5file_attr_strv(h5file *f, const char *obj, const char *name, const char *const *v, size_t n,
                     err *e);

/* Column types of a table: the C type of the field in the caller's row struct, stored as the
 * same-width little-endian integer / IEEE float in the file. H5FILE_STR is a `char[size]` in the
 * row holding a NUL-terminated string (at most size-1 bytes; bytes after the NUL are ignored),
 * stored as a fixed-length NUL-padded ASCII string of `size` bytes (h5py reads bytes). */
typedef enum h5file_coltype {
    H5FILE_U8,  /* uint8_t */
    H5FILE_U32, /* uint32_t */
    H5FILE_I32, /* int32_t */
    H5FILE_U64, /* uint64_t */
    H5FILE_I64, /* int64_t */
    H5FILE_F64, /* double */
    H5FILE_STR  /* char[size] */
} h5file_coltype;

/* One column: field name in the file, its type, where it sits in the caller's row struct (offset
 * and size in bytes: size must equal the C type's for numbers, asserted) and its unit for the
 * `units` attribute ("ps", "pJ", "count", ...; NULL stands for "-"). */
typedef struct h5file_col {
    const char *name;
    h5file_coltype type;
    size_t offset; /* of the field in the row struct, bytes */
    size_t size;   /* of the field, bytes */
    const char *unit;
} h5file_col;

typedef struct h5table h5table;

/* Create an empty table at absolute `path` (intermediate groups are created): a 1-D dataset, of
 * unlimited extent, chunked by chunk_rows rows (0: H5FILE_CHUNK_ROWS_DEFAULT), filtered by shuffle
 * and deflate level 1, of a packed compound type whose fields follow cols in order; with the
 * attributes `units` (one string per column) and `description` (not NULL). Rows in memory are C
 * structs row_bytes apart described by cols (every field inside row_bytes, asserted). The table
 * keeps copies of what it needs; cols, strings and description stay the caller's.
 * Returns 0 and *out (owned by the caller, released by h5table_close() before the file is
 * committed or aborted), or ERR_IO with e set (e.g. an object of that name exists). */
int h5table_create(h5file *f, const char *path, const char *description, const h5file_col *cols,
                   size_t ncols, size_t row_bytes, size_t chunk_rows, h5table **out, err *e);

/* Append n rows, read from rows[0 .. n-1] (row_bytes apart), after the last row. n 0 does nothing.
 * Whole chunks that start on a chunk boundary are shuffled and deflated here and written as they
 * are (tables without string columns, little-endian hosts); the rest goes through HDF5, whose
 * chunk cache holds two chunks, so a partly filled chunk waits in memory for the next append
 * instead of being compressed and rewritten each time. Returns 0, or ERR_IO with e set; the row
 * count then counts the whole chunks written before the failure, and the table should only be
 * closed. */
int h5table_append(h5table *t, const void *rows, size_t n, err *e);

/* Rows appended so far, count. */
uint64_t h5table_rows(const h5table *t);

/* Close the table and free t (in all cases; NULL is a no-op returning 0). Returns 0, or ERR_IO with
 * e set if HDF5 failed to close the dataset (e.g. could not write cached chunks). */
int h5table_close(h5table *t, err *e);

/* Create a table at path, append rows[0 .. n-1] and close it: the three calls above in one, for
 * tables written whole (chunks of n rows, at least 1). 0, or ERR_IO with e set. */
int h5table_write(h5file *f, const char *path, const char *description, const h5file_col *cols,
                  size_t ncols, size_t row_bytes, const void *rows, size_t n, err *e);

/* Write the float32 array data (row-major, dims[0] x ... x dims[ndims-1], 1 <= ndims <= 8) as the
 * contiguous dataset at absolute `path` (intermediate groups are created), with a `units`
 * attribute (NULL: "-"). The caller keeps data. 0, or ERR_IO with e set. */
int h5file_array_f32(h5file *f, const char *path, const float *data, const uint64_t *dims,
                     unsigned ndims, const char *unit, err *e);

/* h5file_col initialiser for field `field` of row struct `type`: H5FILE_COL(type, field,
 * H5FILE_U64, "ps"). */
/* clang-format off */
#define H5FILE_COL(type, field, h5type, unit) \
    { #field, h5type, offsetof(type, field), sizeof(((type *)0)->field), unit }
/* clang-format on */

#endif
