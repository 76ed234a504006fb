/* h5read: reading back what h5file wrote -- string and integer attributes, and whole tables of a
 * packed compound type, with their columns described as h5file_col so they can be written again.
 * Invariant: a table read here and written with h5table_write() has the same columns, types,
 * units and rows.
 */
#ifndef XBARSIM_ENGINE_H5READ_H
#define XBARSIM_ENGINE_H5READ_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "h5file.h"

typedef struct h5reader h5reader;

/* Open the HDF5 file at path read-only. 0 and *out (h5reader_close), or ERR_IO with e naming the
 * path (missing, not HDF5). Switches HDF5's automatic error printing off, as h5file_create. */
int h5reader_open(const char *path, h5reader **out, err *e);
/* Close r (NULL: no-op). */
void h5reader_close(h5reader *r);

/* Whether the object (group or dataset) at absolute path obj exists. */
int h5reader_exists(h5reader *r, const char *obj);

/* Attribute `name` of object obj: a string (fixed or variable length; *out owned by the caller,
 * free) or a scalar unsigned integer. 0, or ERR_INPUT with e naming file, object and attribute
 * when it is missing or of another type. */
int h5reader_attr_str(h5reader *r, const char *obj, const char *name, char **out, err *e);
int h5reader_attr_u64(h5reader *r, const char *obj, const char *name, uint64_t *out, err *e);

/* A whole table: its columns (as in the file, in order; names and units owned), rows packed at
 * the columns' offsets, row_bytes apart. */
typedef struct h5rtable {
    size_t ncols;
    h5file_col *cols;    /* [ncols]; name and unit strings owned */
    size_t row_bytes;    /* bytes */
    size_t nrows;        /* count */
    unsigned char *rows; /* [nrows x row_bytes], owned */
    char *description;   /* the `description` attribute, owned ("" when absent) */
} h5rtable;

/* Read the 1-D compound dataset at path whole. Columns of the types h5file_col knows (unsigned
 * 8/32/64, signed 32/64, float64, fixed-length strings); units from the `units` attribute ("-" when
 * absent). 0 and *out (h5rtable_fini), or ERR_INPUT (missing, another shape or column type). */
int h5reader_table(h5reader *r, const char *path, h5rtable *out, err *e);
void h5rtable_fini(h5rtable *t);

/* Index of column `name` in t, or -1. */
int h5rtable_col(const h5rtable *t, const char *name);

#endif
