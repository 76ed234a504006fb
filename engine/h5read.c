/* h5read: reading attributes and compound tables back (see h5read.h). Every HDF5 id opened here
 * is closed on every path; a failure names the file and the object and leaves no HDF5 error
 * stack behind.
 */
#include "h5read.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "mem.h"

/* The longest fixed-length string attribute read (bytes): a longer one is a corrupt file's. */
#define ATTR_STR_MAX (1u << 20)

struct h5reader {
    hid_t id;   /* the open file */
    char *path; /* for messages */
};

int h5reader_open(const char *path, h5reader **out, err *e)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0) {
        H5Eclear2(H5E_DEFAULT);
        return err_set(e, ERR_IO,
                       "%s: cannot open as an HDF5 file (missing, unreadable or not HDF5)", path);
    }
    h5reader *r = mem_alloc(sizeof *r, "h5reader");
    r->id = id;
    r->path = mem_strdup(path, "h5reader path");
    *out = r;
    return 0;
}

void h5reader_close(h5reader *r)
{
    if (!r)
        return;
    H5Fclose(r->id);
    free(r->path);
    free(r);
}

int h5reader_exists(h5reader *r, const char *obj)
{
    /* Check each level, as H5Lexists requires. */
    char buf[512];
    snprintf(buf, sizeof buf, "%s", obj);
    for (char *c = buf + 1;; c++) {
        char keep = *c;
        if (keep == '/' || keep == '\0') {
            *c = '\0';
            htri_t ok = H5Lexists(r->id, buf, H5P_DEFAULT);
            *c = keep;
            if (ok <= 0) {
                H5Eclear2(H5E_DEFAULT);
                return 0;
            }
        }
        if (keep == '\0')
            return 1;
    }
}

/* Whether attribute a holds exactly one element (a corrupt file's array would overrun the
 * one-element buffers read into). */
static bool one_element(hid_t a)
{
    hid_t sp = H5Aget_space(a);
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    return n == 1;
}

static hid_t open_attr(h5reader *r, const char *obj, const char *name, err *e)
{
    hid_t a =
        h5reader_exists(r, obj) ? H5Aopen_by_name(r->id, obj, name, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (a < 0) {
        H5Eclear2(H5E_DEFAULT);
        err_set(e, ERR_INPUT, "%s: %s: no attribute '%s'", r->path, obj, name);
        return a;
    }
    if (one_element(a))
        return a;
    H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    err_set(e, ERR_INPUT, "%s: %s: attribute '%s' holds more than one value, expected one", r->path,
            obj, name);
    return -1;
}

int h5reader_attr_str(h5reader *r, const char *obj, const char *name, char **out, err *e)
{
    hid_t a = open_attr(r, obj, name, e);
    if (a < 0)
        return ERR_INPUT;
    hid_t t = H5Aget_type(a);
    int rc = ERR_INPUT;
    if (H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            hid_t m = H5Tcopy(H5T_C_S1);
            H5Tset_size(m, H5T_VARIABLE);
            H5Tset_cset(m, H5Tget_cset(t));
            char *s = NULL;
            if (H5Aread(a, m, &s) >= 0 && s) {
                *out = mem_strdup(s, "attribute");
                H5free_memory(s);
                rc = 0;
            }
            H5Tclose(m);
        } else if (H5Tget_size(t) <= ATTR_STR_MAX) {
            size_t n = H5Tget_size(t);
            char *s = mem_calloc(n + 1, 1, "attribute");
            hid_t m = H5Tcopy(H5T_C_S1);
            H5Tset_size(m, n + 1);
            if (H5Aread(a, m, s) >= 0) {
                *out = s;
                rc = 0;
            } else {
                free(s);
            }
            H5Tclose(m);
        }
    }
    H5Tclose(t);
    H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    if (rc < 0)
        err_set(e, ERR_INPUT, "%s: %s: attribute '%s' is not a readable string", r->path, obj,
                name);
    return rc;
}

int h5reader_attr_u64(h5reader *r, const char *obj, const char *name, uint64_t *out, err *e)
{
    hid_t a = open_attr(r, obj, name, e);
    if (a < 0)
        return ERR_INPUT;
    hid_t t = H5Aget_type(a);
    int rc =
        H5Tget_class(t) == H5T_INTEGER && H5Aread(a, H5T_NATIVE_UINT64, out) >= 0 ? 0 : ERR_INPUT;
    H5Tclose(t);
    H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    if (rc < 0)
        err_set(e, ERR_INPUT, "%s: %s: attribute '%s' is not an integer", r->path, obj, name);
    return rc;
}

/* The h5file_col type and memory type of a file member type, or -1 for one h5file_col cannot hold.
 */
static int member_type(hid_t ft, h5file_coltype *type, size_t *size, hid_t *mtype)
{
    H5T_class_t c = H5Tget_class(ft);
    size_t n = H5Tget_size(ft);
    if (c == H5T_FLOAT && n == 8) {
        *type = H5FILE_F64;
        *mtype = H5Tcopy(H5T_NATIVE_DOUBLE);
    } else if (c == H5T_INTEGER) {
        bool sign = H5Tget_sign(ft) == H5T_SGN_2;
        if (!sign && n == 1)
            *type = H5FILE_U8, *mtype = H5Tcopy(H5T_NATIVE_UINT8);
        else if (!sign && n == 4)
            *type = H5FILE_U32, *mtype = H5Tcopy(H5T_NATIVE_UINT32);
        else if (sign && n == 4)
            *type = H5FILE_I32, *mtype = H5Tcopy(H5T_NATIVE_INT32);
        else if (!sign && n == 8)
            *type = H5FILE_U64, *mtype = H5Tcopy(H5T_NATIVE_UINT64);
        else if (sign && n == 8)
            *type = H5FILE_I64, *mtype = H5Tcopy(H5T_NATIVE_INT64);
        else
            return -1;
    } else if (c == H5T_STRING && H5Tis_variable_str(ft) == 0) {
        *type = H5FILE_STR;
        *mtype = H5Tcopy(H5T_C_S1);
        H5Tset_size(*mtype, n);
        H5Tset_strpad(*mtype, H5T_STR_NULLPAD);
    } else {
        return -1;
    }
    *size = n;
    return 0;
}

static void read_units(hid_t dset, h5rtable *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        t->cols[i].unit = mem_strdup("-", "unit");
    if (H5Aexists(dset, "units") <= 0)
        return;
    hid_t a = H5Aopen(dset, "units", H5P_DEFAULT);
    hid_t sp = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    if (n == (hssize_t)t->ncols) {
        char **v = mem_calloc((size_t)n, sizeof *v, "units");
        hid_t m = H5Tcopy(H5T_C_S1);
        H5Tset_size(m, H5T_VARIABLE);
        H5Tset_cset(m, H5T_CSET_UTF8);
        if (H5Aread(a, m, v) >= 0)
            for (size_t i = 0; i < t->ncols; i++)
                if (v[i]) {
                    free((char *)t->cols[i].unit);
                    t->cols[i].unit = mem_strdup(v[i], "unit");
                    H5free_memory(v[i]);
                }
        H5Tclose(m);
        free(v);
    }
    H5Sclose(sp);
    H5Aclose(a);
}

static void read_description(hid_t dset, h5rtable *t)
{
    t->description = NULL;
    if (H5Aexists(dset, "description") > 0) {
        hid_t a = H5Aopen(dset, "description", H5P_DEFAULT);
        if (a < 0 || !one_element(a)) {
            if (a >= 0)
                H5Aclose(a);
            H5Eclear2(H5E_DEFAULT);
            t->description = mem_strdup("", "description");
            return;
        }
        hid_t m = H5Tcopy(H5T_C_S1);
        H5Tset_size(m, H5T_VARIABLE);
        H5Tset_cset(m, H5T_CSET_UTF8);
        char *s = NULL;
        if (H5Aread(a, m, &s) >= 0 && s) {
            t->description = mem_strdup(s, "description");
            H5free_memory(s);
        }
        H5Tclose(m);
        H5Aclose(a);
    }
    if (!t->description)
        t->description = mem_strdup("", "description");
}

/* Columns of compound file type ft into t, and the packed memory type of a row into *mtype. */
static int read_columns(hid_t ft, h5rtable *t, hid_t *mtype)
{
    int n = H5Tget_nmembers(ft);
    if (H5Tget_class(ft) != H5T_COMPOUND || n <= 0)
        return -1;
    t->ncols = (size_t)n;
    t->cols = mem_calloc(t->ncols, sizeof *t->cols, "columns");
    hid_t *parts = mem_calloc(t->ncols, sizeof *parts, "column types");
    size_t at = 0;
    int rc = 0;
    for (unsigned i = 0; i < (unsigned)n && rc == 0; i++) {
        hid_t mt = H5Tget_member_type(ft, i);
        char *name = H5Tget_member_name(ft, i);
        t->cols[i].name = mem_strdup(name, "column name");
        H5free_memory(name);
        rc = member_type(mt, &t->cols[i].type, &t->cols[i].size, &parts[i]);
        t->cols[i].offset = at;
        at += t->cols[i].size;
        H5Tclose(mt);
    }
    t->row_bytes = at;
    if (rc == 0) {
        *mtype = H5Tcreate(H5T_COMPOUND, at ? at : 1);
        for (size_t i = 0; i < t->ncols; i++)
            H5Tinsert(*mtype, t->cols[i].name, t->cols[i].offset, parts[i]);
    }
    for (size_t i = 0; i < t->ncols; i++)
        if (parts[i] > 0)
            H5Tclose(parts[i]);
    free(parts);
    return rc;
}

int h5reader_table(h5reader *r, const char *path, h5rtable *out, err *e)
{
    memset(out, 0, sizeof *out);
    if (!h5reader_exists(r, path))
        return err_set(e, ERR_INPUT, "%s: no table %s", r->path, path);
    hid_t d = H5Dopen2(r->id, path, H5P_DEFAULT);
    if (d < 0) {
        H5Eclear2(H5E_DEFAULT);
        return err_set(e, ERR_INPUT, "%s: %s: not a dataset", r->path, path);
    }
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d), mtype = -1;
    int rc = 0;
    hsize_t dims[1];
    if (H5Sget_simple_extent_ndims(sp) != 1 || read_columns(ft, out, &mtype) < 0) {
        rc = err_set(e, ERR_INPUT, "%s: %s: expected a 1-D table of numbers and fixed strings",
                     r->path, path);
    } else {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        out->nrows = (size_t)dims[0];
        out->rows = mem_calloc(out->nrows ? out->nrows : 1, out->row_bytes ? out->row_bytes : 1,
                               "table rows");
        if (out->nrows && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out->rows) < 0)
            rc = err_set(e, ERR_IO, "%s: %s: HDF5 could not read the rows", r->path, path);
        read_units(d, out);
        read_description(d, out);
    }
    if (mtype >= 0)
        H5Tclose(mtype);
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    if (rc < 0)
        h5rtable_fini(out);
    return rc;
}

void h5rtable_fini(h5rtable *t)
{
    for (size_t i = 0; i < t->ncols; i++) {
        free((char *)t->cols[i].name);
        free((char *)t->cols[i].unit);
    }
    free(t->cols);
    free(t->rows);
    free(t->description);
    memset(t, 0, sizeof *t);
}

int h5rtable_col(const h5rtable *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}
