/* test_h5: the HDF5 writer (h5file tables and attributes, the temporary-name protocol) and the
 * HDF5 trace sink. Every file is read back with the HDF5 C API directly, into structs and memory
 * types this test builds itself, and compared with values computed from the row index.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>
#include <hdf5.h>

#include "h5file.h"
#include "trace_h5.h"
#include "testutil.h"

/* ---- scaffolding: a scratch directory and independent readers ---- */

typedef struct scratch {
    char dir[64];   /* mkdtemp directory */
    char path[128]; /* dir/out.h5, the final name used by most tests */
} scratch;

static void scratch_open(scratch *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/test_h5.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s->dir));
    snprintf(s->path, sizeof s->path, "%s/out.h5", s->dir);
}

/* Remove the final file if present, then the directory, which must then be empty: a leftover
 * temporary file fails the test. */
static void scratch_close(scratch *s)
{
    unlink(s->path);
    ck_assert_int_eq(rmdir(s->dir), 0);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void expect_temp_name(const h5file *f, const char *path)
{
    char want[160];
    snprintf(want, sizeof want, "%s.tmp.%ld", path, (long)getpid());
    ck_assert_str_eq(h5file_temp_path(f), want);
}

static hid_t open_read(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    return f;
}

/* A variable-length string type for reading string attributes. */
static hid_t vstr_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    ck_assert_int_ge(H5Tset_size(t, H5T_VARIABLE), 0);
    ck_assert_int_ge(H5Tset_cset(t, H5T_CSET_UTF8), 0);
    return t;
}

/* Strings of attribute `name` of obj (scalar: n 1), checked to be variable-length UTF-8; returns
 * malloc'd copies (free with free_strings) and their count in *n. */
static char **read_strings(hid_t obj, const char *name, size_t *n)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    ck_assert_int_ge(a, 0);
    hid_t ft = H5Aget_type(a);
    ck_assert_int_eq(H5Tget_class(ft), H5T_STRING);
    ck_assert_int_gt(H5Tis_variable_str(ft), 0);
    ck_assert_int_eq(H5Tget_cset(ft), H5T_CSET_UTF8);
    H5Tclose(ft);
    hid_t space = H5Aget_space(a);
    hssize_t count = H5Sget_simple_extent_npoints(space);
    ck_assert_int_ge(count, 0);
    char **raw = calloc((size_t)count + 1, sizeof *raw);
    char **copy = calloc((size_t)count + 1, sizeof *copy);
    hid_t mt = vstr_type();
    ck_assert_int_ge(H5Aread(a, mt, raw), 0);
    for (hssize_t i = 0; i < count; i++) {
        ck_assert_ptr_nonnull(raw[i]);
        copy[i] = strdup(raw[i]);
    }
    ck_assert_int_ge(H5Dvlen_reclaim(mt, space, H5P_DEFAULT, raw), 0);
    free(raw);
    H5Tclose(mt);
    H5Sclose(space);
    H5Aclose(a);
    *n = (size_t)count;
    return copy;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Check that attribute `name` of the object at `path` is the array want[0 .. n-1]. */
static void expect_strings(hid_t file, const char *path, const char *name, const char *const *want,
                           size_t n)
{
    hid_t o = H5Oopen(file, path, H5P_DEFAULT);
    ck_assert_int_ge(o, 0);
    size_t got_n;
    char **got = read_strings(o, name, &got_n);
    ck_assert_uint_eq(got_n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(got[i], want[i]);
    free_strings(got, got_n);
    H5Oclose(o);
}

static void expect_string(hid_t file, const char *path, const char *name, const char *want)
{
    const char *v[1] = {want};
    expect_strings(file, path, name, v, 1);
}

/* Check the stored type of member i of compound ft: name, class, size, sign (integers). */
static void expect_member(hid_t ft, unsigned i, const char *name, H5T_class_t cls, size_t size,
                          H5T_sign_t sign)
{
    char *got = H5Tget_member_name(ft, i);
    ck_assert_str_eq(got, name);
    H5free_memory(got);
    hid_t mt = H5Tget_member_type(ft, i);
    ck_assert_int_eq(H5Tget_class(mt), cls);
    ck_assert_uint_eq(H5Tget_size(mt), size);
    if (cls == H5T_INTEGER) {
        ck_assert_int_eq(H5Tget_sign(mt), sign);
        ck_assert_int_eq(H5Tget_order(mt), H5T_ORDER_LE);
    }
    if (cls == H5T_FLOAT) {
        ck_assert_int_eq(H5Tget_order(mt), H5T_ORDER_LE);
    }
    if (cls == H5T_STRING) {
        ck_assert_int_eq(H5Tget_strpad(mt), H5T_STR_NULLPAD);
        ck_assert_int_eq(H5Tis_variable_str(mt), 0);
    }
    H5Tclose(mt);
}

/* Check layout of dataset d: 1-D, `rows` long, unlimited, chunked by chunk rows, filtered by
 * shuffle then deflate level 4. */
static void expect_layout(hid_t d, hsize_t rows, hsize_t chunk)
{
    hid_t space = H5Dget_space(d);
    ck_assert_int_eq(H5Sget_simple_extent_ndims(space), 1);
    hsize_t dims[1], maxdims[1];
    H5Sget_simple_extent_dims(space, dims, maxdims);
    ck_assert_uint_eq(dims[0], rows);
    ck_assert_uint_eq(maxdims[0], H5S_UNLIMITED);
    H5Sclose(space);

    hid_t dcpl = H5Dget_create_plist(d);
    ck_assert_int_eq(H5Pget_layout(dcpl), H5D_CHUNKED);
    hsize_t got_chunk[1];
    ck_assert_int_eq(H5Pget_chunk(dcpl, 1, got_chunk), 1);
    ck_assert_uint_eq(got_chunk[0], chunk);
    ck_assert_int_eq(H5Pget_nfilters(dcpl), 2);
    unsigned flags, cd[4];
    size_t ncd = 4;
    ck_assert_int_eq(H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, 0, NULL, NULL), H5Z_FILTER_SHUFFLE);
    ncd = 4;
    ck_assert_int_eq(H5Pget_filter2(dcpl, 1, &flags, &ncd, cd, 0, NULL, NULL), H5Z_FILTER_DEFLATE);
    ck_assert_uint_eq(ncd, 1);
    ck_assert_uint_eq(cd[0], 1); /* deflate level, h5file.h */
    H5Pclose(dcpl);
}

/* ---- a table of every column type ---- */

enum { NAME_BYTES = 12 };

/* The caller's row: fields in an order unlike the file's, with padding between them. */
typedef struct wrow {
    double f;
    char name[NAME_BYTES];
    uint8_t flag;
    int32_t layer;
    uint64_t big;
    uint32_t id;
    int64_t neg;
} wrow;

static const h5file_col wcols[] = {
    {"id", H5FILE_U32, offsetof(wrow, id), sizeof(uint32_t), "id"},
    {"name", H5FILE_STR, offsetof(wrow, name), NAME_BYTES, NULL},
    {"flag", H5FILE_U8, offsetof(wrow, flag), sizeof(uint8_t), "-"},
    {"layer", H5FILE_I32, offsetof(wrow, layer), sizeof(int32_t), "index"},
    {"big", H5FILE_U64, offsetof(wrow, big), sizeof(uint64_t), "ps"},
    {"neg", H5FILE_I64, offsetof(wrow, neg), sizeof(int64_t), "count"},
    {"f", H5FILE_F64, offsetof(wrow, f), sizeof(double), "pJ"},
};
static const char *const wunits[] = {"id", "-", "-", "index", "ps", "count", "pJ"};

/* Expected name of row i: short names, the empty name (row 5), and at row 7 one of exactly
 * NAME_BYTES - 1 characters, which fills the field up to its NUL. */
static void row_name(size_t i, char out[NAME_BYTES])
{
    if (i == 5)
        out[0] = '\0';
    else if (i == 7)
        snprintf(out, NAME_BYTES, "abcdefghijk");
    else
        snprintf(out, NAME_BYTES, "row%zu", i);
}

static wrow make_wrow(size_t i)
{
    wrow r;
    memset(&r, 0x5a, sizeof r); /* garbage everywhere, after the names' NULs too */
    char name[NAME_BYTES];
    row_name(i, name);
    memcpy(r.name, name, strlen(name) + 1);
    r.id = (uint32_t)(3 * i + 1);
    r.flag = (uint8_t)(i * 37);
    r.layer = i % 3 == 0 ? -1 : (int32_t)i;
    r.big = UINT64_MAX - i;
    r.neg = INT64_MIN + (int64_t)i;
    r.f = i == 0 ? -0.0 : 1.0 / (double)(i + 1) + 1e300 * (double)(i % 2);
    return r;
}

/* The test's own reading struct and memory type, in yet another layout. */
typedef struct rrow {
    int64_t neg;
    uint32_t id;
    char name[NAME_BYTES];
    double f;
    uint8_t flag;
    uint64_t big;
    int32_t layer;
} rrow;

static hid_t rrow_type(void)
{
    hid_t s = H5Tcopy(H5T_C_S1);
    H5Tset_size(s, NAME_BYTES);
    H5Tset_strpad(s, H5T_STR_NULLPAD); /* read the stored bytes as they are */
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(rrow));
    ck_assert_int_ge(H5Tinsert(t, "neg", offsetof(rrow, neg), H5T_NATIVE_INT64), 0);
    ck_assert_int_ge(H5Tinsert(t, "id", offsetof(rrow, id), H5T_NATIVE_UINT32), 0);
    ck_assert_int_ge(H5Tinsert(t, "name", offsetof(rrow, name), s), 0);
    ck_assert_int_ge(H5Tinsert(t, "f", offsetof(rrow, f), H5T_NATIVE_DOUBLE), 0);
    ck_assert_int_ge(H5Tinsert(t, "flag", offsetof(rrow, flag), H5T_NATIVE_UINT8), 0);
    ck_assert_int_ge(H5Tinsert(t, "big", offsetof(rrow, big), H5T_NATIVE_UINT64), 0);
    ck_assert_int_ge(H5Tinsert(t, "layer", offsetof(rrow, layer), H5T_NATIVE_INT32), 0);
    H5Tclose(s);
    return t;
}

/* Every column type survives the round trip; strings are stored NUL-padded (garbage after the
 * caller's NUL does not reach the file); field names, order, types and units are as declared;
 * the layout is chunked, unlimited and filtered. Appends of 1, 0 and 9 rows give 10 rows. */
START_TEST(test_h5_table_round_trip)
{
    enum { N = 10, CHUNK = 4 };
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    h5table *t = NULL;
    ck_assert_int_eq(h5table_create(f, "/data/rows", "Every column type.", wcols,
                                    sizeof wcols / sizeof wcols[0], sizeof(wrow), CHUNK, &t, &e),
                     0);
    wrow rows[N];
    for (size_t i = 0; i < N; i++)
        rows[i] = make_wrow(i);
    ck_assert_int_eq(h5table_append(t, rows, 1, &e), 0);
    ck_assert_int_eq(h5table_append(t, rows + 1, 0, &e), 0);
    ck_assert_int_eq(h5table_append(t, rows + 1, N - 1, &e), 0);
    ck_assert_uint_eq(h5table_rows(t), N);
    ck_assert_int_eq(h5table_close(t, &e), 0);
    ck_assert_int_eq(h5file_commit(f, &e), 0);
    ck_assert_int_eq(e.code, 0);

    hid_t file = open_read(s.path);
    hid_t d = H5Dopen2(file, "/data/rows", H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    expect_layout(d, N, CHUNK);
    hid_t ft = H5Dget_type(d);
    ck_assert_int_eq(H5Tget_class(ft), H5T_COMPOUND);
    ck_assert_int_eq(H5Tget_nmembers(ft), 7);
    ck_assert_uint_eq(H5Tget_size(ft), 4 + NAME_BYTES + 1 + 4 + 8 + 8 + 8); /* packed */
    expect_member(ft, 0, "id", H5T_INTEGER, 4, H5T_SGN_NONE);
    expect_member(ft, 1, "name", H5T_STRING, NAME_BYTES, H5T_SGN_NONE);
    expect_member(ft, 2, "flag", H5T_INTEGER, 1, H5T_SGN_NONE);
    expect_member(ft, 3, "layer", H5T_INTEGER, 4, H5T_SGN_2);
    expect_member(ft, 4, "big", H5T_INTEGER, 8, H5T_SGN_NONE);
    expect_member(ft, 5, "neg", H5T_INTEGER, 8, H5T_SGN_2);
    expect_member(ft, 6, "f", H5T_FLOAT, 8, H5T_SGN_NONE);
    H5Tclose(ft);

    rrow got[N];
    memset(got, 0xee, sizeof got);
    hid_t mt = rrow_type();
    ck_assert_int_ge(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, got), 0);
    H5Tclose(mt);
    for (size_t i = 0; i < N; i++) {
        wrow w = make_wrow(i);
        ck_assert_uint_eq(got[i].id, w.id);
        ck_assert_uint_eq(got[i].flag, w.flag);
        ck_assert_int_eq(got[i].layer, w.layer);
        ck_assert_uint_eq(got[i].big, w.big);
        ck_assert_int_eq(got[i].neg, w.neg);
        ck_assert_double_eq(got[i].f, w.f);
        ck_assert_int_eq(signbit(got[i].f) != 0, signbit(w.f) != 0);
        char name[NAME_BYTES];
        row_name(i, name);
        size_t len = strlen(name);
        ck_assert_int_eq(memcmp(got[i].name, name, len), 0);
        for (size_t k = len; k < NAME_BYTES; k++)
            ck_assert_int_eq(got[i].name[k], 0);
    }
    expect_strings(file, "/data/rows", "units", wunits, sizeof wunits / sizeof wunits[0]);
    expect_string(file, "/data/rows", "description", "Every column type.");
    H5Dclose(d);
    H5Fclose(file);
    scratch_close(&s);
}
END_TEST

/* ---- appends across chunk boundaries ---- */

typedef struct small_row {
    int32_t k;
    double v;
    uint64_t t;
} small_row;

static small_row make_small(size_t i)
{
    small_row r = {(int32_t)(i % 7) - 3, 0.5 * (double)i, (uint64_t)i * UINT64_C(1000003)};
    return r;
}

/* 3 appends of 50 000 rows with 65 536-row chunks (0: the default) give 150 000 rows, the
 * appends ending inside chunks 0, 1 and 2; every row reads back as computed from its index. */
START_TEST(test_h5_append_crosses_chunks)
{
    enum { PER = 50000, CALLS = 3, N = PER * CALLS };
    static const h5file_col cols[] = {
        {"t", H5FILE_U64, offsetof(small_row, t), sizeof(uint64_t), "ps"},
        {"k", H5FILE_I32, offsetof(small_row, k), sizeof(int32_t), "index"},
        {"v", H5FILE_F64, offsetof(small_row, v), sizeof(double), "pJ"},
    };
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    h5table *t = NULL;
    ck_assert_int_eq(h5table_create(f, "/big", "Many rows.", cols, 3, sizeof(small_row), 0, &t, &e),
                     0);
    small_row *rows = malloc(PER * sizeof *rows);
    for (size_t c = 0; c < CALLS; c++) {
        for (size_t i = 0; i < PER; i++)
            rows[i] = make_small(c * PER + i);
        ck_assert_int_eq(h5table_append(t, rows, PER, &e), 0);
        ck_assert_uint_eq(h5table_rows(t), (c + 1) * PER);
    }
    free(rows);
    ck_assert_int_eq(h5table_close(t, &e), 0);
    ck_assert_int_eq(h5file_commit(f, &e), 0);

    hid_t file = open_read(s.path);
    hid_t d = H5Dopen2(file, "/big", H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    expect_layout(d, N, 65536);
    typedef struct {
        uint64_t t;
        double v;
        int32_t k;
    } back;
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(back));
    H5Tinsert(mt, "t", offsetof(back, t), H5T_NATIVE_UINT64);
    H5Tinsert(mt, "v", offsetof(back, v), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "k", offsetof(back, k), H5T_NATIVE_INT32);
    back *got = malloc(N * sizeof *got);
    ck_assert_int_ge(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, got), 0);
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) {
        small_row w = make_small(i);
        bad += got[i].t != w.t || got[i].k != w.k || got[i].v != w.v;
    }
    ck_assert_uint_eq(bad, 0);
    /* A sample spelled out, so a failure shows the numbers. */
    ck_assert_uint_eq(got[65535].t, UINT64_C(65535) * 1000003);
    ck_assert_uint_eq(got[65536].t, UINT64_C(65536) * 1000003);
    ck_assert_int_eq(got[N - 1].k, (int32_t)((N - 1) % 7) - 3);
    ck_assert_double_eq(got[N - 1].v, 0.5 * (N - 1));
    free(got);
    H5Tclose(mt);
    H5Dclose(d);
    H5Fclose(file);
    scratch_close(&s);
}
END_TEST

/* Whole chunks on chunk boundaries take h5file's own shuffle + deflate path, the rest HDF5's:
 * appends of 2 chunks, 30 rows, 30 rows (finishing the chunk through HDF5), 1 chunk, 5 rows, with
 * 60-row chunks (7 runs of 8 rows, then 4 one by one); the last full chunk (3) holds random bits
 * that deflate cannot shrink (stored shuffled only, deflate's mask bit set). HDF5 reads every row
 * back as written, and the compressible chunks' stored bytes are those HDF5's own filters give the
 * same rows. */
START_TEST(test_h5_direct_chunks)
{
    enum { CH = 60, N = 2 * CH + 30 + 30 + CH + 5 };
    static const h5file_col cols[] = {
        {"t", H5FILE_U64, offsetof(small_row, t), sizeof(uint64_t), "ps"},
        {"k", H5FILE_I32, offsetof(small_row, k), sizeof(int32_t), "index"},
        {"v", H5FILE_F64, offsetof(small_row, v), sizeof(double), "pJ"},
    };
    static const size_t calls[] = {2 * CH, 30, 30, CH, 5};
    small_row rows[N];
    for (size_t i = 0; i < N; i++)
        rows[i] = make_small(i);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    for (size_t i = 3 * CH; i < 4 * CH; i++) { /* chunk 3: random bits */
        rows[i].t = (uint64_t)gsl_rng_get(r) << 32 ^ gsl_rng_get(r);
        rows[i].k = (int32_t)(gsl_rng_get(r) & 0x7fffffff);
        uint64_t bits = (uint64_t)gsl_rng_get(r) << 32 ^ gsl_rng_get(r);
        bits &= ~(UINT64_C(0x7ff) << 52); /* exponent 0: finite (subnormal), never NaN */
        memcpy(&rows[i].v, &bits, sizeof bits);
    }
    gsl_rng_free(r);
    scratch s0, s1, *s[2] = {&s0, &s1};
    const char *names[2] = {"/direct", "/through"};
    err e;
    err_clear(&e);
    for (int w = 0; w < 2; w++) {
        scratch_open(s[w]);
        h5file *f = NULL;
        ck_assert_int_eq(h5file_create(s[w]->path, &f, &e), 0);
        h5table *t = NULL;
        ck_assert_int_eq(
            h5table_create(f, names[w], "Chunks.", cols, 3, sizeof(small_row), CH, &t, &e), 0);
        /* w = 1: one row at a time, all through HDF5 (never a whole chunk in one append). */
        size_t at = 0;
        for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++)
            for (size_t done = 0; done < calls[c]; done += w ? 1 : calls[c]) {
                ck_assert_int_eq(h5table_append(t, rows + at, w ? 1 : calls[c], &e), 0);
                at += w ? 1 : calls[c];
            }
        ck_assert_uint_eq(h5table_rows(t), N);
        ck_assert_int_eq(h5table_close(t, &e), 0);
        ck_assert_int_eq(h5file_commit(f, &e), 0);
    }
    hid_t file[2], d[2];
    for (int w = 0; w < 2; w++) {
        file[w] = open_read(s[w]->path);
        d[w] = H5Dopen2(file[w], names[w], H5P_DEFAULT);
        ck_assert_int_ge(d[w], 0);
        expect_layout(d[w], N, CH);
    }
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(small_row));
    H5Tinsert(mt, "t", offsetof(small_row, t), H5T_NATIVE_UINT64);
    H5Tinsert(mt, "k", offsetof(small_row, k), H5T_NATIVE_INT32);
    H5Tinsert(mt, "v", offsetof(small_row, v), H5T_NATIVE_DOUBLE);
    small_row got[N];
    memset(got, 0, sizeof got);
    ck_assert_int_ge(H5Dread(d[0], mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, got), 0);
    for (size_t i = 0; i < N; i++) {
        ck_assert_uint_eq(got[i].t, rows[i].t);
        ck_assert_int_eq(got[i].k, rows[i].k);
        ck_assert_int_eq(memcmp(&got[i].v, &rows[i].v, sizeof got[i].v), 0);
    }
    H5Tclose(mt);
    /* Stored chunks: 0 and 1 direct and deflated, 3 direct and shuffled only. */
    static const unsigned direct[] = {0, 1, 3};
    for (size_t c = 0; c < 3; c++) {
        hsize_t off[1] = {(hsize_t)direct[c] * CH};
        unsigned char buf[2][CH * 20 + 64];
        uint32_t mask[2];
        hsize_t size[2];
        for (int w = 0; w < 2; w++) {
            ck_assert_int_ge(H5Dget_chunk_storage_size(d[w], off, &size[w]), 0);
            ck_assert_uint_le(size[w], sizeof buf[w]);
            ck_assert_int_ge(H5Dread_chunk(d[w], H5P_DEFAULT, off, &mask[w], buf[w]), 0);
        }
        ck_assert_uint_eq(mask[0], direct[c] == 3 ? 2u : 0u);
        if (direct[c] == 3) {
            ck_assert_uint_eq(size[0], CH * 20);
            continue;
        }
        ck_assert_uint_eq(mask[0], mask[1]);
        ck_assert_uint_eq(size[0], size[1]);
        ck_assert_int_eq(memcmp(buf[0], buf[1], (size_t)size[0]), 0);
    }
    for (int w = 0; w < 2; w++) {
        H5Dclose(d[w]);
        H5Fclose(file[w]);
        scratch_close(s[w]);
    }
}
END_TEST

/* ---- the trace sink ---- */

static const char *const kinds[] = {"vmm", "write", "transfer", "vector_op", "layer"};
static const char *const trace_units[] = {"ps",    "ps",    "id",    "count", "-",
                                          "index", "index", "index", "index", "count",
                                          "pJ",    "count", "ps"};

static trace_record make_trace(size_t i)
{
    trace_record r;
    memset(&r, 0, sizeof r);
    r.t0 = (simtime)i * 1000;
    r.t1 = i == 2 ? SIMTIME_MAX : r.t0 + 10 + i % 13;
    r.component = (uint32_t)(i % 97);
    r.units = (uint32_t)(i % 7 + 1);
    r.kind = (uint32_t)(i % 5);
    r.layer = i % 11 == 0 ? -1 : (int32_t)(i % 50);
    r.copy = i % 3 == 0 ? -1 : (int32_t)(i % 4);
    r.inference = i % 4 == 0 ? -1 : (int64_t)(i / 1000);
    r.vector = i % 6 == 0 ? -1 : (int64_t)i * 3;
    r.vectors = i % 6 == 0 ? 0 : (uint64_t)(i % 9 + 1);
    r.energy_pj = 0.25 * (double)i + 1e-6;
    return r;
}

/* The reading struct of /trace/events, in the README's order. */
typedef struct event_row {
    uint64_t t_start_ps, t_end_ps;
    uint32_t component, units, kind;
    int32_t layer, copy;
    int64_t inference, vector;
    uint64_t vectors;
    double energy_pj;
    uint32_t repeat;
    uint64_t period_ps;
} event_row;

static hid_t event_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(event_row));
    H5Tinsert(t, "t_start_ps", offsetof(event_row, t_start_ps), H5T_NATIVE_UINT64);
    H5Tinsert(t, "t_end_ps", offsetof(event_row, t_end_ps), H5T_NATIVE_UINT64);
    H5Tinsert(t, "component", offsetof(event_row, component), H5T_NATIVE_UINT32);
    H5Tinsert(t, "units", offsetof(event_row, units), H5T_NATIVE_UINT32);
    H5Tinsert(t, "kind", offsetof(event_row, kind), H5T_NATIVE_UINT32);
    H5Tinsert(t, "layer", offsetof(event_row, layer), H5T_NATIVE_INT32);
    H5Tinsert(t, "copy", offsetof(event_row, copy), H5T_NATIVE_INT32);
    H5Tinsert(t, "inference", offsetof(event_row, inference), H5T_NATIVE_INT64);
    H5Tinsert(t, "vector", offsetof(event_row, vector), H5T_NATIVE_INT64);
    H5Tinsert(t, "vectors", offsetof(event_row, vectors), H5T_NATIVE_UINT64);
    H5Tinsert(t, "energy_pj", offsetof(event_row, energy_pj), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "repeat", offsetof(event_row, repeat), H5T_NATIVE_UINT32);
    H5Tinsert(t, "period_ps", offsetof(event_row, period_ps), H5T_NATIVE_UINT64);
    return t;
}

/* Read /trace/events of `path` and check it holds make_trace(0 .. n-1), with the README's
 * columns, units, kind_names and the given chunk size. */
static void expect_trace_file(const char *path, size_t n, size_t chunk)
{
    hid_t file = open_read(path);
    hid_t d = H5Dopen2(file, "/trace/events", H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    expect_layout(d, n, chunk);
    hid_t ft = H5Dget_type(d);
    ck_assert_int_eq(H5Tget_nmembers(ft), 13);
    expect_member(ft, 0, "t_start_ps", H5T_INTEGER, 8, H5T_SGN_NONE);
    expect_member(ft, 1, "t_end_ps", H5T_INTEGER, 8, H5T_SGN_NONE);
    expect_member(ft, 2, "component", H5T_INTEGER, 4, H5T_SGN_NONE);
    expect_member(ft, 3, "units", H5T_INTEGER, 4, H5T_SGN_NONE);
    expect_member(ft, 4, "kind", H5T_INTEGER, 4, H5T_SGN_NONE);
    expect_member(ft, 5, "layer", H5T_INTEGER, 4, H5T_SGN_2);
    expect_member(ft, 6, "copy", H5T_INTEGER, 4, H5T_SGN_2);
    expect_member(ft, 7, "inference", H5T_INTEGER, 8, H5T_SGN_2);
    expect_member(ft, 8, "vector", H5T_INTEGER, 8, H5T_SGN_2);
    expect_member(ft, 9, "vectors", H5T_INTEGER, 8, H5T_SGN_NONE);
    expect_member(ft, 10, "energy_pj", H5T_FLOAT, 8, H5T_SGN_NONE);
    expect_member(ft, 11, "repeat", H5T_INTEGER, 4, H5T_SGN_NONE);
    expect_member(ft, 12, "period_ps", H5T_INTEGER, 8, H5T_SGN_NONE);
    H5Tclose(ft);
    expect_strings(file, "/trace/events", "units", trace_units, 13);
    expect_strings(file, "/trace/events", "kind_names", kinds, 5);

    event_row *got = malloc((n ? n : 1) * sizeof *got);
    hid_t mt = event_type();
    ck_assert_int_ge(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, got), 0);
    H5Tclose(mt);
    size_t bad = 0, first_bad = n;
    for (size_t i = 0; i < n; i++) {
        trace_record w = make_trace(i);
        const event_row *g = &got[i];
        int ok = g->t_start_ps == w.t0 && g->t_end_ps == w.t1 && g->component == w.component &&
                 g->units == w.units && g->kind == w.kind && g->layer == w.layer &&
                 g->copy == w.copy && g->inference == w.inference && g->vector == w.vector &&
                 g->vectors == w.vectors && g->energy_pj == w.energy_pj && g->repeat == 1 &&
                 g->period_ps == 0;
        if (!ok && bad++ == 0)
            first_bad = i;
    }
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_eq(first_bad, n);
    if (n > 2) {
        ck_assert_uint_eq(got[2].t_end_ps, SIMTIME_MAX);
        ck_assert_int_eq(got[0].layer, -1);
        ck_assert_double_eq(got[n - 1].energy_pj, 0.25 * (double)(n - 1) + 1e-6);
    }
    free(got);
    H5Dclose(d);
    H5Fclose(file);
}

/* 2 500 records with 1 000-record chunks: two appends when the buffer fills, the last 500 by
 * flush. The sink keeps its level, counts records, and the table is exactly the records. */
START_TEST(test_h5_trace_sink_flush)
{
    enum { N = 2500, CHUNK = 1000 };
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    trace_sink *t = trace_h5_create(f, "/trace/events", TRACE_LAYER, kinds, 5, CHUNK, false, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert(trace_wants(t, TRACE_LAYER));
    ck_assert(!trace_wants(t, TRACE_VECTOR));
    for (size_t i = 0; i < N; i++) {
        trace_record r = make_trace(i);
        trace_record_send(t, &r);
    }
    ck_assert_uint_eq(trace_h5_records(t), N);
    ck_assert_int_eq(trace_flush(t, &e), 0);
    ck_assert_int_eq(trace_flush(t, &e), 0); /* nothing buffered: no duplicate rows */
    ck_assert_uint_eq(trace_h5_records(t), N);
    trace_destroy(t);
    ck_assert_int_eq(h5file_commit(f, &e), 0);
    ck_assert_int_eq(e.code, 0);
    expect_trace_file(s.path, N, CHUNK);
    scratch_close(&s);
}
END_TEST

/* Runs on, worked by hand: component 3 repeats every 100 ps (three times), then at 110 ps (a new
 * row), twice more, then skips a vector (a new row); component 5 repeats once at 40 ps, then
 * changes its energy (a new row). Rows are appended as they close, and flush closes the rest in
 * component order: A (3 x comp 3), B (2 x comp 5), C (2 x comp 3), D (comp 3), E (comp 5). */
START_TEST(test_h5_trace_sink_runs)
{
    static const struct {
        uint32_t comp;
        simtime t0, t1;
        int64_t vector;
        uint64_t vectors;
        double energy;
    } in[] = {
        {3, 100, 130, 0, 1, 2.5},  {5, 110, 120, 7, 2, 1.0}, {3, 200, 230, 1, 1, 2.5},
        {5, 150, 160, 9, 2, 1.0},  {3, 300, 330, 2, 1, 2.5}, {3, 410, 440, 3, 1, 2.5},
        {5, 190, 200, 11, 2, 1.5}, {3, 510, 540, 4, 1, 2.5}, {3, 610, 640, 6, 1, 2.5},
    };
    static const event_row want[] = {
        {100, 130, 3, 1, 0, 4, 1, 2, 0, 1, 7.5, 3, 100},
        {110, 120, 5, 1, 0, 4, 1, 2, 7, 2, 2.0, 2, 40},
        {410, 440, 3, 1, 0, 4, 1, 2, 3, 1, 5.0, 2, 100},
        {610, 640, 3, 1, 0, 4, 1, 2, 6, 1, 2.5, 1, 0},
        {190, 200, 5, 1, 0, 4, 1, 2, 11, 2, 1.5, 1, 0},
    };
    enum { N = sizeof in / sizeof in[0], ROWS = sizeof want / sizeof want[0] };
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    trace_sink *t = trace_h5_create(f, "/trace/events", TRACE_VECTOR, kinds, 5, 4, true, &e);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < N; i++) {
        trace_record r = {.component = in[i].comp,
                          .units = 1,
                          .kind = 0,
                          .layer = 4,
                          .copy = 1,
                          .inference = 2,
                          .vector = in[i].vector,
                          .vectors = in[i].vectors,
                          .t0 = in[i].t0,
                          .t1 = in[i].t1,
                          .energy_pj = in[i].energy};
        trace_record_send(t, &r);
    }
    ck_assert_uint_eq(trace_h5_rows(t), 3); /* A, B, C closed before the flush */
    ck_assert_int_eq(trace_flush(t, &e), 0);
    ck_assert_uint_eq(trace_h5_records(t), N);
    ck_assert_uint_eq(trace_h5_rows(t), ROWS);
    trace_destroy(t);
    ck_assert_int_eq(h5file_commit(f, &e), 0);

    hid_t file = open_read(s.path);
    hid_t d = H5Dopen2(file, "/trace/events", H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    expect_layout(d, ROWS, 4);
    event_row got[ROWS];
    hid_t mt = event_type();
    ck_assert_int_ge(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, got), 0);
    H5Tclose(mt);
    for (size_t i = 0; i < ROWS; i++) {
        const event_row *g = &got[i], *w = &want[i];
        ck_assert_uint_eq(g->t_start_ps, w->t_start_ps);
        ck_assert_uint_eq(g->t_end_ps, w->t_end_ps);
        ck_assert_uint_eq(g->component, w->component);
        ck_assert_int_eq(g->vector, w->vector);
        ck_assert_uint_eq(g->vectors, w->vectors);
        ck_assert_double_eq(g->energy_pj, w->energy_pj);
        ck_assert_uint_eq(g->repeat, w->repeat);
        ck_assert_uint_eq(g->period_ps, w->period_ps);
        ck_assert_int_eq(g->layer, 4);
        ck_assert_int_eq(g->copy, 1);
        ck_assert_int_eq(g->inference, 2);
    }
    H5Dclose(d);
    H5Fclose(file);
    scratch_close(&s);
}
END_TEST

/* With chunk_rows 0 the chunk is 65 536 records; 70 000 records fill one and flush the rest. */
START_TEST(test_h5_trace_sink_default_chunk)
{
    enum { N = 70000 };
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    trace_sink *t = trace_h5_create(f, "/trace/events", TRACE_VECTOR, kinds, 5, 0, false, &e);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < N; i++) {
        trace_record r = make_trace(i);
        trace_record_send(t, &r);
    }
    ck_assert_int_eq(trace_flush(t, &e), 0);
    trace_destroy(t);
    ck_assert_int_eq(h5file_commit(f, &e), 0);
    expect_trace_file(s.path, N, 65536);
    scratch_close(&s);
}
END_TEST

/* A sink with no records flushed gives an empty table that still has its columns and
 * attributes. */
START_TEST(test_h5_trace_sink_empty)
{
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    trace_sink *t = trace_h5_create(f, "/trace/events", TRACE_VECTOR, kinds, 5, 16, false, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(trace_flush(t, &e), 0);
    ck_assert_uint_eq(trace_h5_records(t), 0);
    trace_destroy(t);
    ck_assert_int_eq(h5file_commit(f, &e), 0);
    expect_trace_file(s.path, 0, 16);
    scratch_close(&s);
}
END_TEST

/* xorshift64: incompressible record values, so the file outgrows a size limit quickly. */
static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* A write error (the file size limit, RLIMIT_FSIZE, makes write() fail with EFBIG) is kept:
 * later records are dropped (the count stops), every flush reports the same ERR_IO naming the
 * file and the table, and the file can still be aborted cleanly. */
START_TEST(test_h5_trace_sink_keeps_first_error)
{
    enum { CHUNK = 1000, N = 40000 };
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    trace_sink *t = trace_h5_create(f, "/trace/events", TRACE_VECTOR, kinds, 5, CHUNK, false, &e);
    ck_assert_ptr_nonnull(t);

    struct rlimit old;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct rlimit lim = old;
    lim.rlim_cur = 256 * 1024;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < N; i++) {
        trace_record r;
        memset(&r, 0, sizeof r);
        r.t0 = next_random(&x);
        r.t1 = next_random(&x);
        r.vectors = next_random(&x);
        r.energy_pj = (double)next_random(&x);
        trace_record_send(t, &r);
    }
    err e1, e2;
    err_clear(&e1);
    err_clear(&e2);
    int rc1 = trace_flush(t, &e1);
    int rc2 = trace_flush(t, &e2);
    uint64_t accepted = trace_h5_records(t);
    trace_destroy(t);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    h5file_abort(f);

    ck_assert_int_eq(rc1, ERR_IO);
    ck_assert_int_eq(e1.code, ERR_IO);
    ck_assert_int_eq(rc2, ERR_IO);
    ck_assert_str_eq(e2.msg, e1.msg);
    ck_assert_ptr_nonnull(strstr(e1.msg, s.path));
    ck_assert_ptr_nonnull(strstr(e1.msg, "/trace/events"));
    ck_assert_ptr_nonnull(strstr(e1.msg, strerror(EFBIG)));
    ck_assert_ptr_null(strchr(e1.msg, '\n'));
    /* 256 KiB hold at most ~4 chunks of 1 000 incompressible 64-byte rows; records stop
     * counting at the failing append, a whole number of chunks in. */
    ck_assert_uint_lt(accepted, N);
    ck_assert_uint_gt(accepted, 0);
    ck_assert_uint_eq(accepted % CHUNK, 0);
    scratch_close(&s);
}
END_TEST

/* ---- the file: attributes, groups, commit and abort ---- */

/* Commit renames the temporary (`path`.tmp.`pid`) to the final name; before commit only the
 * temporary exists. Attributes of every kind read back, including a string over HDF5's 64 KiB
 * object-header limit and an attribute replaced by a second write. */
START_TEST(test_h5_commit_renames)
{
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    ck_assert_str_eq(h5file_path(f), s.path);
    expect_temp_name(f, s.path);
    char temp[160];
    snprintf(temp, sizeof temp, "%s", h5file_temp_path(f));
    ck_assert(exists(temp));
    ck_assert(!exists(s.path));

    enum { LONG = 100000 };
    char *long_text = malloc(LONG + 1);
    for (size_t i = 0; i < LONG; i++)
        long_text[i] = (char)('a' + i % 26);
    long_text[LONG] = '\0';
    static const char *const names[] = {"alpha", "", "g\xc3\xa9nial"};

    ck_assert_int_eq(h5file_group(f, "/meta", &e), 0);
    ck_assert_int_eq(h5file_attr_str(f, "/meta", "arch", "lrmp", &e), 0);
    ck_assert_int_eq(h5file_attr_str(f, "/meta", "config", long_text, &e), 0);
    ck_assert_int_eq(h5file_attr_str(f, "/meta", "empty", "", &e), 0);
    ck_assert_int_eq(h5file_attr_u64(f, "/meta", "seed", UINT64_MAX, &e), 0);
    ck_assert_int_eq(h5file_attr_u64(f, "/meta", "events", 1, &e), 0);
    ck_assert_int_eq(h5file_attr_u64(f, "/meta", "events", 123456789012345u, &e), 0);
    ck_assert_int_eq(h5file_attr_f64(f, "/meta", "wall_seconds", 0.1, &e), 0);
    ck_assert_int_eq(h5file_attr_strv(f, "/meta", "names", names, 3, &e), 0);
    ck_assert_int_eq(h5file_attr_strv(f, "/meta", "none", NULL, 0, &e), 0);
    ck_assert_int_eq(h5file_attr_str(f, "/", "root_note", "on the root group", &e), 0);
    ck_assert_int_eq(h5file_commit(f, &e), 0);
    ck_assert_int_eq(e.code, 0);
    ck_assert(!exists(temp));
    ck_assert(exists(s.path));

    hid_t file = open_read(s.path);
    expect_string(file, "/meta", "arch", "lrmp");
    expect_string(file, "/meta", "config", long_text);
    expect_string(file, "/meta", "empty", "");
    expect_string(file, "/", "root_note", "on the root group");
    expect_strings(file, "/meta", "names", names, 3);
    expect_strings(file, "/meta", "none", NULL, 0);
    free(long_text);

    hid_t meta = H5Gopen2(file, "/meta", H5P_DEFAULT);
    ck_assert_int_ge(meta, 0);
    uint64_t u = 0;
    hid_t a = H5Aopen(meta, "seed", H5P_DEFAULT);
    hid_t at = H5Aget_type(a);
    ck_assert_int_eq(H5Tequal(at, H5T_STD_U64LE), 1);
    H5Tclose(at);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT64, &u), 0);
    ck_assert_uint_eq(u, UINT64_MAX);
    H5Aclose(a);
    a = H5Aopen(meta, "events", H5P_DEFAULT);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT64, &u), 0);
    ck_assert_uint_eq(u, 123456789012345u);
    H5Aclose(a);
    double w = 0;
    a = H5Aopen(meta, "wall_seconds", H5P_DEFAULT);
    at = H5Aget_type(a);
    ck_assert_int_eq(H5Tequal(at, H5T_IEEE_F64LE), 1);
    H5Tclose(at);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_DOUBLE, &w), 0);
    ck_assert_double_eq(w, 0.1);
    H5Aclose(a);
    H5O_info_t info;
    ck_assert_int_ge(H5Oget_info2(meta, &info, H5O_INFO_NUM_ATTRS), 0);
    ck_assert_uint_eq(info.num_attrs, 8); /* "events" replaced, not doubled */
    H5Gclose(meta);
    H5Fclose(file);
    scratch_close(&s);
}
END_TEST

/* Abort removes the temporary file and never creates the final one (scratch_close checks the
 * directory is empty). */
START_TEST(test_h5_abort_leaves_nothing)
{
    static const h5file_col cols[] = {{"t", H5FILE_U64, 0, sizeof(uint64_t), "ps"}};
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    char temp[160];
    snprintf(temp, sizeof temp, "%s", h5file_temp_path(f));
    h5table *t = NULL;
    ck_assert_int_eq(h5table_create(f, "/x/t", "Rows.", cols, 1, sizeof(uint64_t), 8, &t, &e), 0);
    uint64_t v[20];
    for (size_t i = 0; i < 20; i++)
        v[i] = i;
    ck_assert_int_eq(h5table_append(t, v, 20, &e), 0);
    ck_assert_int_eq(h5table_close(t, &e), 0);
    ck_assert(exists(temp));
    h5file_abort(f);
    h5file_abort(NULL);
    ck_assert(!exists(temp));
    ck_assert(!exists(s.path));
    scratch_close(&s);
}
END_TEST

/* A missing directory: ERR_IO, the message names the path and the reason, *out untouched. */
START_TEST(test_h5_create_missing_dir_fails)
{
    scratch s;
    scratch_open(&s);
    char path[192];
    snprintf(path, sizeof path, "%s/no/such/dir/run.h5", s.dir);
    err e;
    err_clear(&e);
    h5file *f = (h5file *)&e; /* a sentinel that must survive */
    ck_assert_int_eq(h5file_create(path, &f, &e), ERR_IO);
    ck_assert_int_eq(e.code, ERR_IO);
    ck_assert_ptr_eq(f, (h5file *)&e);
    ck_assert_ptr_nonnull(strstr(e.msg, path));
    ck_assert_ptr_nonnull(strstr(e.msg, strerror(ENOENT)));
    scratch_close(&s);
}
END_TEST

/* A temporary of the same name (a crashed run with this pid) is not overwritten: ERR_IO. */
START_TEST(test_h5_create_existing_temp_fails)
{
    scratch s;
    scratch_open(&s);
    char temp[160];
    snprintf(temp, sizeof temp, "%s.tmp.%ld", s.path, (long)getpid());
    FILE *fp = fopen(temp, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("precious", fp);
    fclose(fp);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), ERR_IO);
    ck_assert_ptr_null(f);
    ck_assert_ptr_nonnull(strstr(e.msg, s.path));
    struct stat st;
    ck_assert_int_eq(stat(temp, &st), 0);
    ck_assert_int_eq(st.st_size, 8);
    unlink(temp);
    scratch_close(&s);
}
END_TEST

/* The final name may already exist: it keeps its old content until commit replaces it. */
START_TEST(test_h5_existing_final_replaced_at_commit)
{
    scratch s;
    scratch_open(&s);
    FILE *fp = fopen(s.path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("old content", fp);
    fclose(fp);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    ck_assert_int_eq(h5file_attr_u64(f, "/", "answer", 42, &e), 0);
    char buf[32] = {0};
    fp = fopen(s.path, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, fp));
    fclose(fp);
    ck_assert_str_eq(buf, "old content");
    ck_assert_int_eq(H5Fis_hdf5(s.path), 0);
    ck_assert_int_eq(h5file_commit(f, &e), 0);
    ck_assert_int_gt(H5Fis_hdf5(s.path), 0);
    hid_t file = open_read(s.path);
    uint64_t u = 0;
    hid_t a = H5Aopen(file, "answer", H5P_DEFAULT);
    ck_assert_int_ge(H5Aread(a, H5T_NATIVE_UINT64, &u), 0);
    ck_assert_uint_eq(u, 42);
    H5Aclose(a);
    H5Fclose(file);
    scratch_close(&s);
}
END_TEST

/* Commit fails when the rename cannot happen (the final name is a non-empty directory): ERR_IO
 * naming both names, and the temporary is removed. */
START_TEST(test_h5_commit_rename_failure_unlinks)
{
    scratch s;
    scratch_open(&s);
    char inner[192];
    ck_assert_int_eq(mkdir(s.path, 0700), 0);
    snprintf(inner, sizeof inner, "%s/keep", s.path);
    FILE *fp = fopen(inner, "w");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    char temp[160];
    snprintf(temp, sizeof temp, "%s", h5file_temp_path(f));
    ck_assert_int_eq(h5file_commit(f, &e), ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, temp));
    ck_assert_ptr_nonnull(strstr(e.msg, s.path));
    ck_assert(!exists(temp));
    ck_assert_int_eq(unlink(inner), 0);
    ck_assert_int_eq(rmdir(s.path), 0);
    scratch_close(&s);
}
END_TEST

/* Groups: intermediate ones are created, existing ones are fine, a dataset's name is refused.
 * Creating a table twice, or an attribute on a missing object, fails with ERR_IO naming it. */
START_TEST(test_h5_groups_and_name_clashes)
{
    static const h5file_col cols[] = {{"t", H5FILE_U64, 0, sizeof(uint64_t), "ps"}};
    scratch s;
    scratch_open(&s);
    err e;
    err_clear(&e);
    h5file *f = NULL;
    ck_assert_int_eq(h5file_create(s.path, &f, &e), 0);
    ck_assert_int_eq(h5file_group(f, "/a/b/c", &e), 0);
    ck_assert_int_eq(h5file_group(f, "/a/b", &e), 0);
    ck_assert_int_eq(h5file_group(f, "/a/b/c", &e), 0);
    ck_assert_int_eq(h5file_group(f, "/", &e), 0);
    ck_assert_int_eq(e.code, 0);

    h5table *t = NULL;
    ck_assert_int_eq(h5table_create(f, "/a/b/t", "T.", cols, 1, sizeof(uint64_t), 4, &t, &e), 0);
    h5table *t2 = (h5table *)&e;
    ck_assert_int_eq(h5table_create(f, "/a/b/t", "T.", cols, 1, sizeof(uint64_t), 4, &t2, &e),
                     ERR_IO);
    ck_assert_ptr_eq(t2, (h5table *)&e);
    ck_assert_ptr_nonnull(strstr(e.msg, "/a/b/t"));
    ck_assert_ptr_nonnull(strstr(e.msg, s.path));
    err_clear(&e);
    ck_assert_ptr_null(trace_h5_create(f, "/a/b/t", TRACE_VECTOR, kinds, 5, 4, false, &e));
    ck_assert_int_eq(e.code, ERR_IO);
    err_clear(&e);
    ck_assert_int_eq(h5file_group(f, "/a/b/t", &e), ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, "/a/b/t"));
    err_clear(&e);
    ck_assert_int_eq(h5file_attr_u64(f, "/nope", "x", 1, &e), ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nope"));
    ck_assert_int_eq(h5table_close(t, &e), 0);
    ck_assert_int_eq(h5table_close(NULL, &e), 0);
    ck_assert_int_eq(h5file_commit(f, &e), 0);

    hid_t file = open_read(s.path);
    hid_t g = H5Gopen2(file, "/a/b/c", H5P_DEFAULT);
    ck_assert_int_ge(g, 0);
    H5Gclose(g);
    H5Fclose(file);
    scratch_close(&s);
}
END_TEST

#ifndef NDEBUG
/* Committing with a table still open is a bug: an assertion. */
START_TEST(test_h5_commit_with_open_table_aborts)
{
    static const h5file_col cols[] = {{"t", H5FILE_U64, 0, sizeof(uint64_t), "ps"}};
    char dir[] = "/tmp/test_h5.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/out.h5", dir);
    h5file *f = NULL;
    h5table *t = NULL;
    ck_assert_int_eq(h5file_create(path, &f, NULL), 0);
    /* The abort leaves the temporary behind (a signal handler would unlink it): remove the
     * directory now, the open file keeps working. */
    unlink(h5file_temp_path(f));
    rmdir(dir);
    ck_assert_int_eq(h5table_create(f, "/t", "T.", cols, 1, sizeof(uint64_t), 4, &t, NULL), 0);
    h5file_commit(f, NULL);
}
END_TEST
#endif

static Suite *h5_suite(void)
{
    Suite *s = suite_create("h5");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_h5_table_round_trip);
    tcase_add_test(tc, test_h5_append_crosses_chunks);
    tcase_add_test(tc, test_h5_direct_chunks);
    tcase_add_test(tc, test_h5_trace_sink_flush);
    tcase_add_test(tc, test_h5_trace_sink_runs);
    tcase_add_test(tc, test_h5_trace_sink_default_chunk);
    tcase_add_test(tc, test_h5_trace_sink_empty);
    tcase_add_test(tc, test_h5_trace_sink_keeps_first_error);
    tcase_add_test(tc, test_h5_commit_renames);
    tcase_add_test(tc, test_h5_abort_leaves_nothing);
    tcase_add_test(tc, test_h5_create_missing_dir_fails);
    tcase_add_test(tc, test_h5_create_existing_temp_fails);
    tcase_add_test(tc, test_h5_existing_final_replaced_at_commit);
    tcase_add_test(tc, test_h5_commit_rename_failure_unlinks);
    tcase_add_test(tc, test_h5_groups_and_name_clashes);
    suite_add_tcase(s, tc);
#ifndef NDEBUG
    /* Aborting tests need Check's fork mode; skip them when it is off (valgrind runs). */
    const char *fork_env = getenv("CK_FORK");
    if (!fork_env || strcmp(fork_env, "no") != 0) {
        TCase *tabort = tcase_create("abort");
        tcase_add_test_raise_signal(tabort, test_h5_commit_with_open_table_aborts, SIGABRT);
        suite_add_tcase(s, tabort);
    }
#endif
    return s;
}

int main(void)
{
    /* The tests read files with HDF5 directly; its automatic error printing stays off so that
     * expected failures (a missing object probed by the code under test) print nothing. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int rc = testutil_run(h5_suite());
    H5close(); /* release HDF5's global state, so valgrind sees no leaks */
    return rc;
}
