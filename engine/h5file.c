/* h5file: HDF5 output under a temporary name, its attributes and its append-only tables.
 * The file is opened with the "semi" close degree, so closing it fails rather than silently
 * staying open if any object is still open; tables are counted and must all be closed before
 * commit or abort. Every HDF5 failure is turned into an ERR_IO message naming the file, the object
 * and HDF5's innermost (most specific) reason, and the HDF5 error stack is cleared. Whole chunks
 * of numeric tables are encoded here (shuffle, deflate) and written with H5Dwrite_chunk: the bytes
 * HDF5's own filters would store, without its type conversion and per-chunk buffers.
 */
#include "h5file.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>
#include <zlib.h>

#include "mem.h"

struct h5file {
    hid_t id;           /* the open temporary file */
    char *path;         /* final name */
    char *temp;         /* temporary name, `path`.tmp.`pid` */
    size_t tables_open; /* tables created and not yet closed, count */
};

/* Deflate level of every table (zlib's 1..9). Level 1 is twice as fast as 4 on trace rows for
 * 15 % more bytes (measured on ResNet-18's vector trace: 2.1 against 1.8 bytes per 64-byte row). */
#define DEFLATE_LEVEL 1

/* Where one column's bytes go in a chunk: the caller's row at `offset`, `size` bytes, become
 * byte planes `plane` .. `plane` + size - 1 of the shuffled chunk. */
typedef struct colmap {
    size_t offset; /* in the caller's row, bytes */
    size_t size;   /* bytes */
    size_t plane;  /* first byte plane (= offset in the packed file row), index */
} colmap;

struct h5table {
    h5file *file;         /* the file it lives in */
    char *path;           /* dataset path in the file, for messages */
    hid_t dset;           /* the dataset */
    hid_t mtype;          /* compound type of one caller row (fields at the caller's offsets) */
    size_t row_bytes;     /* distance between rows in the caller's arrays, bytes */
    uint64_t rows;        /* rows written, count */
    size_t chunk;         /* rows per chunk, count */
    size_t packed;        /* one file row, bytes */
    size_t ncols;         /* columns, count */
    colmap *cols;         /* per column; NULL when chunks go through HDF5's filters (strings, or a
                             big-endian host: the file's bytes differ from memory's); owned */
    unsigned char *plain; /* one chunk shuffled, chunk x packed bytes; owned (or NULL) */
    unsigned char *packed_z; /* the same deflated, compressBound of it; owned (or NULL) */
    size_t z_cap;            /* room in packed_z, bytes */
};

/* ---- errors ---- */

typedef struct reason {
    char text[400]; /* innermost HDF5 error description, NUL-terminated */
} reason;

/* Shorten an HDF5 description into r. The file drivers' descriptions carry the system's message
 * among a dump of internals (a ctime() with its newline, buffer addresses, offsets): keep their
 * lead and that message, "file write failed: File too large". Other descriptions are kept whole,
 * newlines turned into spaces. */
static void reason_set(reason *r, const char *desc)
{
    static const char key[] = "error message = '";
    const char *msg = strstr(desc, key);
    const char *colon = strchr(desc, ':');
    if (msg && colon && colon < msg) {
        msg += sizeof key - 1;
        const char *end = strchr(msg, '\'');
        int lead = (int)(colon - desc), len = end ? (int)(end - msg) : (int)strlen(msg);
        snprintf(r->text, sizeof r->text, "%.*s: %.*s", lead, desc, len, msg);
    } else {
        snprintf(r->text, sizeof r->text, "%s", desc);
    }
    for (char *c = r->text; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
}

static herr_t reason_walk(unsigned n, const H5E_error2_t *d, void *data)
{
    /* Walking upward, entry 0 is where the error was detected: the most specific description. */
    if (n == 0 && d->desc)
        reason_set(data, d->desc);
    return 0;
}

/* HDF5's reason for the last failure (or a generic text), then clear the error stack. */
static void hdf5_reason(reason *r)
{
    snprintf(r->text, sizeof r->text, "HDF5 call failed (no reason given)");
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_walk, r);
    H5Eclear2(H5E_DEFAULT);
}

/* Set e to "<formatted what>: <HDF5 reason>" and return ERR_IO. Call straight after the failing
 * HDF5 call, before any other HDF5 call resets the error stack. */
__attribute__((format(printf, 2, 3))) static int fail(err *e, const char *fmt, ...)
{
    reason r;
    hdf5_reason(&r);
    char what[ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return err_set(e, ERR_IO, "%s: %s", what, r.text);
}

/* ---- file ---- */

/* The PID of a name `base`.tmp.PID, or 0 when the name is not one. */
static long stale_pid(const char *name, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0 || strncmp(name + n, ".tmp.", 5) != 0)
        return 0;
    const char *d = name + n + 5;
    if (!*d)
        return 0;
    long pid = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9' || pid > 100000000L)
            return 0;
        pid = pid * 10 + (*d - '0');
    }
    return pid;
}

unsigned h5file_clean_stale(const char *path, FILE *report)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    if (!*dir)
        snprintf(dir, sizeof dir, "/");
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    unsigned removed = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        long pid = stale_pid(ent->d_name, base);
        if (pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* the process is alive (or not ours to ask): its file is in use */
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", dir, ent->d_name);
        if (unlink(full) == 0) {
            removed++;
            if (report)
                fprintf(report, "xbarsim: removed the stale temporary '%s' (process %ld is gone)\n",
                        full, pid);
        }
    }
    closedir(d);
    return removed;
}

int h5file_create(const char *path, h5file **out, err *e)
{
    assert(path && out);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    h5file_clean_stale(path, stderr);

    size_t len = strlen(path) + sizeof ".tmp." + 3 * sizeof(long);
    char *temp = mem_alloc(len, "HDF5 temporary file name");
    snprintf(temp, len, "%s.tmp.%ld", path, (long)getpid());

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_SEMI) < 0) {
        int rc = fail(e, "cannot create HDF5 file '%s': file access properties", path);
        if (fapl >= 0)
            H5Pclose(fapl);
        free(temp);
        return rc;
    }
    errno = 0;
    hid_t id = H5Fcreate(temp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    int saved_errno = errno;
    if (id < 0) {
        /* The system's reason is the clearer one when there is one (no such directory,
         * permission denied, temporary already exists); HDF5's otherwise. */
        reason r;
        hdf5_reason(&r);
        H5Pclose(fapl);
        int rc = err_set(e, ERR_IO, "cannot create HDF5 file '%s' (as temporary '%s'): %s", path,
                         temp, saved_errno ? strerror(saved_errno) : r.text);
        free(temp);
        return rc;
    }
    H5Pclose(fapl);

    h5file *f = mem_alloc(sizeof *f, "HDF5 file");
    f->id = id;
    f->path = mem_strdup(path, "HDF5 file name");
    f->temp = temp;
    f->tables_open = 0;
    *out = f;
    return 0;
}

const char *h5file_temp_path(const h5file *f)
{
    assert(f);
    return f->temp;
}

const char *h5file_path(const h5file *f)
{
    assert(f);
    return f->path;
}

static void file_free(h5file *f)
{
    free(f->path);
    free(f->temp);
    free(f);
}

/* Close the file whose temporary is being discarded. HDF5 1.10 leaves a dangling file ID behind
 * when H5Fclose fails, and its exit-time cleanup then crashes on it; close fails when it cannot
 * write its metadata, typically on a full disk or exceeded quota. Truncating the (unwanted)
 * temporary first gives that space back, so the close's last writes normally succeed. */
static void discard(h5file *f)
{
    if (truncate(f->temp, 0) != 0)
        errno = 0;
    unlink(f->temp);
    if (H5Fclose(f->id) < 0)
        H5Eclear2(H5E_DEFAULT);
}

int h5file_commit(h5file *f, err *e)
{
    assert(f);
    assert(f->tables_open == 0 && "close every h5table before h5file_commit");
    int rc = 0;
    /* Flush first: a failed flush leaves the file open and sound, so it can still be discarded
     * cleanly; the close that follows a good flush writes next to nothing. */
    if (H5Fflush(f->id, H5F_SCOPE_LOCAL) < 0) {
        rc = fail(e, "cannot write HDF5 file '%s' (temporary '%s')", f->path, f->temp);
        discard(f);
    } else if (H5Fclose(f->id) < 0) {
        rc = fail(e, "cannot write HDF5 file '%s' (temporary '%s')", f->path, f->temp);
        unlink(f->temp);
    } else if (rename(f->temp, f->path) != 0) {
        rc =
            err_set(e, ERR_IO, "cannot rename '%s' to '%s': %s", f->temp, f->path, strerror(errno));
        unlink(f->temp);
    }
    file_free(f);
    return rc;
}

void h5file_abort(h5file *f)
{
    if (!f)
        return;
    assert(f->tables_open == 0 && "close every h5table before h5file_abort");
    discard(f);
    file_free(f);
}

int h5file_group(h5file *f, const char *path, err *e)
{
    assert(f && path);
    hid_t o = H5Oopen(f->id, path, H5P_DEFAULT);
    if (o >= 0) {
        H5I_type_t type = H5Iget_type(o);
        H5Oclose(o);
        if (type == H5I_GROUP)
            return 0;
        return err_set(e, ERR_IO,
                       "HDF5 file '%s': cannot create group '%s': an object that is "
                       "not a group already has that name",
                       f->path, path);
    }
    H5Eclear2(H5E_DEFAULT); /* not there yet: the expected case */

    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t g = H5I_INVALID_HID;
    int rc = 0;
    if (lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0 ||
        (g = H5Gcreate2(f->id, path, lcpl, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        rc = fail(e, "HDF5 file '%s': cannot create group '%s'", f->path, path);
    if (g >= 0)
        H5Gclose(g);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    return rc;
}

/* ---- attributes ---- */

/* Write attribute `name` of `obj`, replacing one of that name: stored as ftype over space, read
 * from buf as mtype. */
static int attr_write(h5file *f, const char *obj, const char *name, hid_t ftype, hid_t mtype,
                      hid_t space, const void *buf, err *e)
{
    hid_t o = H5Oopen(f->id, obj, H5P_DEFAULT);
    if (o < 0)
        return fail(e, "HDF5 file '%s': cannot set attribute '%s' of '%s'", f->path, name, obj);
    int rc = 0;
    htri_t exists = H5Aexists(o, name);
    if (exists < 0 || (exists > 0 && H5Adelete(o, name) < 0)) {
        rc = fail(e, "HDF5 file '%s': cannot replace attribute '%s' of '%s'", f->path, name, obj);
    } else {
        hid_t a = H5Acreate2(o, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0 || H5Awrite(a, mtype, buf) < 0)
            rc = fail(e, "HDF5 file '%s': cannot set attribute '%s' of '%s'", f->path, name, obj);
        if (a >= 0)
            H5Aclose(a);
    }
    H5Oclose(o);
    return rc;
}

/* Variable-length UTF-8 string type (caller closes), or negative. */
static hid_t vlen_utf8(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* Write a string attribute over `space` (scalar or 1-D) from an array of char pointers. */
static int attr_strings(h5file *f, const char *obj, const char *name, hid_t space,
                        const char *const *v, err *e)
{
    if (space < 0)
        return fail(e, "HDF5 file '%s': cannot set attribute '%s' of '%s'", f->path, name, obj);
    hid_t t = vlen_utf8();
    int rc;
    if (t < 0)
        rc = fail(e, "HDF5 file '%s': cannot set attribute '%s' of '%s'", f->path, name, obj);
    else
        rc = attr_write(f, obj, name, t, t, space, v, e);
    if (t >= 0)
        H5Tclose(t);
    H5Sclose(space);
    return rc;
}

int h5file_attr_str(h5file *f, const char *obj, const char *name, const char *value, err *e)
{
    assert(f && obj && name && value);
    const char *v[1] = {value};
    return attr_strings(f, obj, name, H5Screate(H5S_SCALAR), v, e);
}

int h5file_attr_strv(h5file *f, const char *obj, const char *name, const char *const *v, size_t n,
                     err *e)
{
    assert(f && obj && name && (v || n == 0));
    for (size_t i = 0; i < n; i++)
        assert(v[i]);
    hsize_t dims[1] = {n};
    static const char *const none[1] = {""}; /* HDF5 wants a buffer even for 0 elements */
    return attr_strings(f, obj, name, H5Screate_simple(1, dims, NULL), n ? v : none, e);
}

/* Scalar number attribute: stored as ftype, value read as mtype. */
static int attr_number(h5file *f, const char *obj, const char *name, hid_t ftype, hid_t mtype,
                       const void *value, err *e)
{
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0)
        return fail(e, "HDF5 file '%s': cannot set attribute '%s' of '%s'", f->path, name, obj);
    int rc = attr_write(f, obj, name, ftype, mtype, space, value, e);
    H5Sclose(space);
    return rc;
}

int h5file_attr_u64(h5file *f, const char *obj, const char *name, uint64_t value, err *e)
{
    assert(f && obj && name);
    return attr_number(f, obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value, e);
}

int h5file_attr_f64(h5file *f, const char *obj, const char *name, double value, err *e)
{
    assert(f && obj && name);
    return attr_number(f, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, e);
}

/* ---- tables ---- */

/* Bytes of column c in the file (and, asserted at creation, in the caller's row). */
static size_t col_bytes(const h5file_col *c)
{
    switch (c->type) {
    case H5FILE_U8:
        return 1;
    case H5FILE_U32:
    case H5FILE_I32:
        return 4;
    case H5FILE_U64:
    case H5FILE_I64:
    case H5FILE_F64:
        return 8;
    case H5FILE_STR:
        return c->size;
    }
    assert(0 && "unknown h5file_coltype");
    return 0;
}

/* A new (caller-closed) type of column c: in memory (native; strings NUL-terminated, so bytes
 * after the NUL are not copied) or in the file (little-endian; strings NUL-padded). */
static hid_t col_type(const h5file_col *c, int in_file)
{
    hid_t base;
    switch (c->type) {
    case H5FILE_U8:
        base = in_file ? H5T_STD_U8LE : H5T_NATIVE_UINT8;
        break;
    case H5FILE_U32:
        base = in_file ? H5T_STD_U32LE : H5T_NATIVE_UINT32;
        break;
    case H5FILE_I32:
        base = in_file ? H5T_STD_I32LE : H5T_NATIVE_INT32;
        break;
    case H5FILE_U64:
        base = in_file ? H5T_STD_U64LE : H5T_NATIVE_UINT64;
        break;
    case H5FILE_I64:
        base = in_file ? H5T_STD_I64LE : H5T_NATIVE_INT64;
        break;
    case H5FILE_F64:
        base = in_file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE;
        break;
    case H5FILE_STR:
    default: {
        hid_t t = H5Tcopy(H5T_C_S1);
        if (t < 0)
            return t;
        if (H5Tset_size(t, c->size) < 0 ||
            H5Tset_strpad(t, in_file ? H5T_STR_NULLPAD : H5T_STR_NULLTERM) < 0 ||
            H5Tset_cset(t, H5T_CSET_ASCII) < 0) {
            H5Tclose(t);
            return H5I_INVALID_HID;
        }
        return t;
    }
    }
    return H5Tcopy(base);
}

/* Compound type of a row: in the file packed in column order, in memory at the caller's offsets
 * within row_bytes. Caller closes; negative on failure (HDF5 error stack left for fail()). */
static hid_t row_type(const h5file_col *cols, size_t ncols, size_t row_bytes, int in_file)
{
    size_t bytes = row_bytes;
    if (in_file) {
        bytes = 0;
        for (size_t i = 0; i < ncols; i++)
            bytes += col_bytes(&cols[i]);
    }
    hid_t t = H5Tcreate(H5T_COMPOUND, bytes);
    if (t < 0)
        return t;
    size_t at = 0; /* packed offset in the file type, bytes */
    for (size_t i = 0; i < ncols; i++) {
        hid_t ct = col_type(&cols[i], in_file);
        herr_t rc = ct < 0 ? -1 : H5Tinsert(t, cols[i].name, in_file ? at : cols[i].offset, ct);
        if (ct >= 0)
            H5Tclose(ct);
        if (rc < 0) {
            H5Tclose(t);
            return H5I_INVALID_HID;
        }
        at += col_bytes(&cols[i]);
    }
    return t;
}

/* ---- whole chunks written directly ---- */

/* Set up t's direct chunk writes when its file rows are its memory fields' bytes side by side:
 * numbers only (strings are NUL-padded in the file) on a little-endian host (the file's types are
 * little-endian). Otherwise t->cols stays NULL and every row goes through H5Dwrite. */
static void direct_init(h5table *t, const h5file_col *cols, size_t ncols, size_t chunk,
                        size_t packed)
{
    t->chunk = chunk;
    t->packed = packed;
    t->ncols = ncols;
    t->cols = NULL;
    t->plain = t->packed_z = NULL;
    t->z_cap = 0;
    const uint16_t one = 1;
    unsigned char low;
    memcpy(&low, &one, 1);
    if (low != 1 || chunk * packed > (size_t)UINT32_MAX / 2)
        return;
    for (size_t i = 0; i < ncols; i++)
        if (cols[i].type == H5FILE_STR)
            return; /* every other column is 1, 2, 4 or 8 bytes (col_bytes) */
    t->cols = mem_calloc(ncols, sizeof *t->cols, "HDF5 table column map");
    size_t at = 0;
    for (size_t i = 0; i < ncols; i++) {
        t->cols[i] = (colmap){.offset = cols[i].offset, .size = cols[i].size, .plane = at};
        at += cols[i].size;
    }
}

/* Swap the blocks of a and c that mask (shifted) selects: the high block of each pair in a with
 * the low one in c. */
static inline void swap_blocks(uint64_t *a, uint64_t *c, unsigned shift, uint64_t mask)
{
    uint64_t t = ((*a >> shift) ^ *c) & mask;
    *c ^= t;
    *a ^= t << shift;
}

/* Transpose the 8 x 8 bytes of x: afterwards byte r of x[b] is what byte b of x[r] was. Three
 * rounds swap 4 x 4, 2 x 2 and 1 x 1 blocks (little-endian: byte b is bits 8b .. 8b + 7). */
static void transpose8(uint64_t x[8])
{
    const uint64_t m32 = UINT64_C(0x00000000ffffffff), m16 = UINT64_C(0x0000ffff0000ffff),
                   m8 = UINT64_C(0x00ff00ff00ff00ff);
    for (unsigned r = 0; r < 4; r++)
        swap_blocks(&x[r], &x[r + 4], 32, m32);
    for (unsigned r = 0; r < 8; r += 4) {
        swap_blocks(&x[r], &x[r + 2], 16, m16);
        swap_blocks(&x[r + 1], &x[r + 3], 16, m16);
    }
    for (unsigned r = 0; r < 8; r += 2)
        swap_blocks(&x[r], &x[r + 1], 8, m8);
}

/* The `size`-byte (1, 4 or 8: col_bytes) number at p, zero-extended; fixed-size copies compile
 * inline. */
static uint64_t load_field(const unsigned char *p, size_t size)
{
    uint64_t v8;
    uint32_t v4;
    switch (size) {
    case 8:
        memcpy(&v8, p, 8);
        return v8;
    case 4:
        memcpy(&v4, p, 4);
        return v4;
    default:
        assert(size == 1);
        return *p;
    }
}

/* Rows [0, n) of the caller's array as HDF5's shuffle filter lays out n packed rows: byte plane
 * j (byte j of every file row) at out + j n. Eight rows of a column at a time are one 8 x 8 byte
 * transpose; the last n mod 8 rows go byte by byte. */
static void shuffle_rows(const h5table *t, const unsigned char *rows, size_t n, unsigned char *out)
{
    size_t whole = n - n % 8;
    for (size_t c = 0; c < t->ncols; c++) {
        const colmap *m = &t->cols[c];
        const unsigned char *src = rows + m->offset;
        unsigned char *plane = out + m->plane * n;
        for (size_t r0 = 0; r0 < whole; r0 += 8) {
            uint64_t x[8];
            for (unsigned r = 0; r < 8; r++)
                x[r] = load_field(src + (r0 + r) * t->row_bytes, m->size);
            transpose8(x);
            for (size_t b = 0; b < m->size; b++)
                memcpy(plane + b * n + r0, &x[b], 8);
        }
        for (size_t b = 0; b < m->size; b++)
            for (size_t r = whole; r < n; r++)
                plane[b * n + r] = src[r * t->row_bytes + b];
    }
}

/* Write one whole chunk of rows (t->chunk of them, starting at row t->rows, a chunk boundary)
 * as its filtered bytes. The filters are optional (H5Pset_shuffle, H5Pset_deflate), so when
 * deflate would not shrink the chunk it is stored shuffled only, with deflate's bit set in the
 * filter mask, as HDF5 itself does. Returns 0 or ERR_IO with e set. */
static int write_chunk(h5table *t, const unsigned char *rows, err *e)
{
    size_t raw = t->chunk * t->packed;
    if (!t->plain) {
        t->plain = mem_alloc(raw, "HDF5 chunk, shuffled");
        t->z_cap = compressBound((uLong)raw);
        t->packed_z = mem_alloc(t->z_cap, "HDF5 chunk, deflated");
    }
    shuffle_rows(t, rows, t->chunk, t->plain);
    uLongf zlen = (uLongf)t->z_cap;
    int zrc = compress2(t->packed_z, &zlen, t->plain, (uLong)raw, DEFLATE_LEVEL);
    assert(zrc == Z_OK && "the output buffer has compressBound's room");
    (void)zrc;
    const unsigned char *bytes = zlen < raw ? t->packed_z : t->plain;
    size_t len = zlen < raw ? (size_t)zlen : raw;
    uint32_t mask = zlen < raw ? 0u : 1u << 1; /* filter 0 shuffle, filter 1 deflate */
    hsize_t start[1] = {t->rows}, size[1] = {t->rows + t->chunk};
    if (H5Dset_extent(t->dset, size) < 0 ||
        H5Dwrite_chunk(t->dset, H5P_DEFAULT, mask, start, len, bytes) < 0) {
        int rc = fail(e, "HDF5 file '%s': table '%s': cannot write %zu rows from row %llu",
                      t->file->path, t->path, t->chunk, (unsigned long long)start[0]);
        if (H5Dset_extent(t->dset, start) < 0)
            H5Eclear2(H5E_DEFAULT);
        return rc;
    }
    t->rows = size[0];
    return 0;
}

int h5table_create(h5file *f, const char *path, const char *description, const h5file_col *cols,
                   size_t ncols, size_t row_bytes, size_t chunk_rows, h5table **out, err *e)
{
    assert(f && path && description && cols && ncols > 0 && row_bytes > 0 && out);
    size_t packed = 0; /* file row, bytes */
    for (size_t i = 0; i < ncols; i++) {
        const h5file_col *c = &cols[i];
        assert(c->name && c->name[0]);
        assert(c->size > 0 && c->size == col_bytes(c));
        assert(c->offset <= row_bytes && c->size <= row_bytes - c->offset);
        packed += col_bytes(c);
    }
    if (chunk_rows == 0)
        chunk_rows = H5FILE_CHUNK_ROWS_DEFAULT;

    hid_t ftype = H5I_INVALID_HID, mtype = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hid_t lcpl = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, dapl = H5I_INVALID_HID;
    hid_t dset = H5I_INVALID_HID;
    hsize_t zero[1] = {0}, unlimited[1] = {H5S_UNLIMITED}, chunk[1] = {chunk_rows};
    /* Room for two chunks (at least HDF5's default 1 MiB): the one being filled and the next. */
    size_t cache_bytes = 2 * chunk_rows * packed;
    if (cache_bytes < ((size_t)1 << 20))
        cache_bytes = (size_t)1 << 20;
    int rc = 0;

    if ((ftype = row_type(cols, ncols, row_bytes, 1)) < 0 ||
        (mtype = row_type(cols, ncols, row_bytes, 0)) < 0)
        rc = fail(e,
                  "HDF5 file '%s': table '%s': cannot build its row type (duplicate or "
                  "overlapping columns?)",
                  f->path, path);
    else if ((space = H5Screate_simple(1, zero, unlimited)) < 0 ||
             (lcpl = H5Pcreate(H5P_LINK_CREATE)) < 0 ||
             H5Pset_create_intermediate_group(lcpl, 1) < 0 ||
             (dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 || H5Pset_chunk(dcpl, 1, chunk) < 0 ||
             H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, DEFLATE_LEVEL) < 0 ||
             (dapl = H5Pcreate(H5P_DATASET_ACCESS)) < 0 ||
             H5Pset_chunk_cache(dapl, H5D_CHUNK_CACHE_NSLOTS_DEFAULT, cache_bytes, 1.0) < 0)
        rc = fail(e, "HDF5 file '%s': table '%s': cannot set up its properties", f->path, path);
    else if ((dset = H5Dcreate2(f->id, path, ftype, space, lcpl, dcpl, dapl)) < 0)
        rc = fail(e, "HDF5 file '%s': cannot create table '%s'", f->path, path);

    if (ftype >= 0)
        H5Tclose(ftype);
    if (space >= 0)
        H5Sclose(space);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (dapl >= 0)
        H5Pclose(dapl);
    if (rc < 0) {
        if (mtype >= 0)
            H5Tclose(mtype);
        return rc;
    }

    h5table *t = mem_alloc(sizeof *t, "HDF5 table");
    t->file = f;
    t->path = mem_strdup(path, "HDF5 table path");
    t->dset = dset;
    t->mtype = mtype;
    t->row_bytes = row_bytes;
    t->rows = 0;
    direct_init(t, cols, ncols, chunk_rows, packed);
    f->tables_open++;

    const char **units = mem_calloc(ncols, sizeof *units, "HDF5 table units");
    for (size_t i = 0; i < ncols; i++)
        units[i] = cols[i].unit ? cols[i].unit : "-";
    rc = h5file_attr_strv(f, path, "units", units, ncols, e);
    free(units);
    if (rc == 0)
        rc = h5file_attr_str(f, path, "description", description, e);
    if (rc < 0) {
        h5table_close(t, NULL);
        return rc;
    }
    *out = t;
    return 0;
}

int h5table_append(h5table *t, const void *rows, size_t n, err *e)
{
    assert(t && (rows || n == 0));
    /* Whole chunks on chunk boundaries go straight to the file. */
    const unsigned char *at = rows;
    while (t->cols && t->rows % t->chunk == 0 && n >= t->chunk) {
        ERR_TRY(write_chunk(t, at, e));
        at += t->chunk * t->row_bytes;
        n -= t->chunk;
    }
    rows = at;
    if (n == 0)
        return 0;
    hsize_t start[1] = {t->rows}, count[1] = {n}, size[1] = {t->rows + n};
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    int rc = 0;
    if (H5Dset_extent(t->dset, size) < 0) {
        rc = fail(e, "HDF5 file '%s': table '%s': cannot extend to %llu rows", t->file->path,
                  t->path, (unsigned long long)size[0]);
    } else if ((fspace = H5Dget_space(t->dset)) < 0 ||
               H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
               (mspace = H5Screate_simple(1, count, NULL)) < 0 ||
               H5Dwrite(t->dset, t->mtype, mspace, fspace, H5P_DEFAULT, rows) < 0) {
        rc = fail(e, "HDF5 file '%s': table '%s': cannot write %zu rows from row %llu",
                  t->file->path, t->path, n, (unsigned long long)start[0]);
        /* Best effort: give the dataset back the extent that matches the row count. */
        if (H5Dset_extent(t->dset, start) < 0)
            H5Eclear2(H5E_DEFAULT);
    }
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (rc == 0)
        t->rows = size[0];
    return rc;
}

uint64_t h5table_rows(const h5table *t)
{
    assert(t);
    return t->rows;
}

int h5table_close(h5table *t, err *e)
{
    if (!t)
        return 0;
    int rc = 0;
    if (H5Dclose(t->dset) < 0)
        rc = fail(e, "HDF5 file '%s': cannot close table '%s'", t->file->path, t->path);
    H5Tclose(t->mtype);
    assert(t->file->tables_open > 0);
    t->file->tables_open--;
    free(t->path);
    free(t->cols);
    free(t->plain);
    free(t->packed_z);
    free(t);
    return rc;
}

int h5table_write(h5file *f, const char *path, const char *description, const h5file_col *cols,
                  size_t ncols, size_t row_bytes, const void *rows, size_t n, err *e)
{
    h5table *t;
    ERR_TRY(h5table_create(f, path, description, cols, ncols, row_bytes, n ? n : 1, &t, e));
    int rc = h5table_append(t, rows, n, e);
    int rc2 = h5table_close(t, rc < 0 ? NULL : e);
    return rc < 0 ? rc : rc2;
}

/* ---- arrays ---- */

int h5file_array_f32(h5file *f, const char *path, const float *data, const uint64_t *dims,
                     unsigned ndims, const char *unit, err *e)
{
    assert(f && path && data && dims && ndims >= 1 && ndims <= 8);
    hsize_t hd[8];
    for (unsigned i = 0; i < ndims; i++)
        hd[i] = dims[i];
    hid_t space = H5Screate_simple((int)ndims, hd, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t d = H5I_INVALID_HID;
    int rc = 0;
    if (space < 0 || lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0 ||
        (d = H5Dcreate2(f->id, path, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = fail(e, "HDF5 file '%s': cannot write dataset '%s'", f->path, path);
    if (d >= 0)
        H5Dclose(d);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (space >= 0)
        H5Sclose(space);
    return rc < 0 ? rc : h5file_attr_str(f, path, "units", unit ? unit : "-", e);
}
