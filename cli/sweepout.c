/* sweepout: finished points, the journal and the results file of a sweep (see sweepout.h).
 * The journal is the sweep's durable record while it runs (one flushed line per point); the HDF5
 * file is rewritten from memory under a temporary name, so a reader never sees half a file.
 */
#include "sweepout.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"
#include "h5file.h"
#include "h5read.h"
#include "mem.h"

/* ---- the store ------------------------------------------------------------------------------ */

void sweep_store_init(sweep_store *st, const sweep_spec *spec, unsigned shard, unsigned shards)
{
    memset(st, 0, sizeof *st);
    st->spec = spec;
    st->shard = shard;
    st->shards = shards ? shards : 1;
    st->done = mem_calloc(spec->points ? spec->points : 1, 1, "sweep done");
    st->share = spec->points / st->shards + (shard < spec->points % st->shards ? 1 : 0);
}

void sweep_store_fini(sweep_store *st)
{
    for (uint64_t i = 0; i < st->n; i++)
        free(st->message[i]);
    free(st->done);
    free(st->point);
    free(st->ok);
    free(st->wall_s);
    free(st->metric);
    free(st->message);
    memset(st, 0, sizeof *st);
}

bool sweep_store_mine(const sweep_store *st, uint64_t k)
{
    return k < st->spec->points && k % st->shards == st->shard;
}

static void store_grow(sweep_store *st)
{
    if (st->n < st->cap)
        return;
    st->cap = st->cap ? 2 * st->cap : 256;
    unsigned nm = st->spec->n_metrics ? st->spec->n_metrics : 1;
    st->point = mem_realloc(st->point, st->cap, sizeof *st->point, "sweep rows");
    st->ok = mem_realloc(st->ok, st->cap, sizeof *st->ok, "sweep rows");
    st->wall_s = mem_realloc(st->wall_s, st->cap, sizeof *st->wall_s, "sweep rows");
    st->metric = mem_realloc(st->metric, st->cap * nm, sizeof *st->metric, "sweep rows");
    st->message = mem_realloc(st->message, st->cap, sizeof *st->message, "sweep rows");
}

/* Add a row given its metrics already in the spec's order. */
static void store_put(sweep_store *st, uint64_t k, bool ok, double wall_s, const double *m,
                      const char *message)
{
    assert(sweep_store_mine(st, k) && !st->done[k]);
    store_grow(st);
    uint64_t i = st->n++;
    st->point[i] = k;
    st->ok[i] = ok;
    st->wall_s[i] = wall_s;
    memcpy(&st->metric[i * st->spec->n_metrics], m, st->spec->n_metrics * sizeof *m);
    st->message[i] = ok ? NULL : mem_strdup(message, "sweep message");
    st->failed += !ok;
    st->done[k] = 1;
}

void sweep_store_add(sweep_store *st, uint64_t k, const point_result *r)
{
    double m[POINT_METRIC_COUNT];
    for (unsigned i = 0; i < st->spec->n_metrics; i++)
        m[i] = r->metric[st->spec->metrics[i]];
    store_put(st, k, r->ok, r->wall_s, m, r->message);
}

/* ---- the journal ---------------------------------------------------------------------------- */

static void header(const sweep_store *st, char *buf, size_t size)
{
    snprintf(buf, size,
             "# xbarsim sweep journal v1 id=%016" PRIx64 " points=%" PRIu64 " shard=%u/%u\n",
             st->spec->id, st->spec->points, st->shard, st->shards);
}

/* Parse one journal line (without its newline) into st. -1 when it is not a complete line. */
static int parse_line(sweep_store *st, char *line)
{
    char *p = line, *end;
    errno = 0;
    uint64_t k = strtoull(p, &end, 10);
    if (end == p || *end != ' ' || errno || !sweep_store_mine(st, k))
        return -1;
    p = end + 1;
    if ((*p != '0' && *p != '1') || p[1] != ' ')
        return -1;
    bool ok = *p == '1';
    p += 2;
    double wall = strtod(p, &end);
    if (end == p || *end != ' ')
        return -1;
    p = end + 1;
    double m[POINT_METRIC_COUNT];
    for (unsigned i = 0; i < st->spec->n_metrics; i++) {
        m[i] = strtod(p, &end);
        if (end == p || *end != ' ')
            return -1;
        p = end + 1;
    }
    if (!st->done[k])
        store_put(st, k, ok, wall, m, p);
    return 0;
}

static int journal_read(sweep_journal *j, sweep_store *st, err *e)
{
    FILE *f = fopen(j->path, "r");
    if (!f)
        return err_set(e, ERR_IO, "%s: cannot read the journal: %s", j->path, strerror(errno));
    char want[256];
    header(st, want, sizeof want);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, f);
    int rc = 0;
    if (len <= 0 || strcmp(line, want) != 0) {
        rc = err_set(e, ERR_INPUT,
                     "%s: the journal belongs to another sweep or shard (its header: %.*s; this "
                     "sweep's: %.*s); remove it, or write to another -o",
                     j->path, len > 0 ? (int)strcspn(line, "\n") : 0, len > 0 ? line : "",
                     (int)strcspn(want, "\n"), want);
    }
    off_t good = len > 0 ? (off_t)len : 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            break; /* torn by a kill: the point runs again */
        line[len - 1] = '\0';
        if (parse_line(st, line) < 0)
            break;
        good += (off_t)len;
    }
    free(line);
    fclose(f);
    if (rc == 0 && truncate(j->path, good) < 0)
        rc = err_set(e, ERR_IO, "%s: cannot cut the journal's torn end: %s", j->path,
                     strerror(errno));
    return rc;
}

int sweep_journal_open(sweep_journal *j, const char *output, sweep_store *st, err *e)
{
    size_t n = strlen(output) + 16;
    j->path = mem_alloc(n, "journal path");
    snprintf(j->path, n, "%s.journal", output);
    j->f = NULL;
    bool exists = access(j->path, F_OK) == 0;
    int rc = exists ? journal_read(j, st, e) : 0;
    if (rc == 0 && !(j->f = fopen(j->path, "a")))
        rc = err_set(e, ERR_IO, "%s: cannot write the journal: %s", j->path, strerror(errno));
    if (rc == 0 && !exists) {
        char h[256];
        header(st, h, sizeof h);
        if (fputs(h, j->f) < 0 || fflush(j->f) != 0)
            rc = err_set(e, ERR_IO, "%s: cannot write the journal: %s", j->path, strerror(errno));
    }
    if (rc < 0) {
        if (j->f)
            fclose(j->f);
        j->f = NULL;
        free(j->path);
        j->path = NULL;
    }
    return rc;
}

int sweep_journal_append(sweep_journal *j, const sweep_store *st, uint64_t k, const point_result *r,
                         err *e)
{
    fprintf(j->f, "%" PRIu64 " %d %a", k, r->ok ? 1 : 0, r->wall_s);
    for (unsigned i = 0; i < st->spec->n_metrics; i++)
        fprintf(j->f, " %a", r->metric[st->spec->metrics[i]]);
    fputc(' ', j->f);
    for (const char *c = r->ok ? "" : r->message; *c; c++)
        fputc(*c == '\n' || *c == '\r' ? ' ' : *c, j->f);
    fputc('\n', j->f);
    if (fflush(j->f) != 0 || ferror(j->f))
        return err_set(e, ERR_IO, "%s: cannot write the journal: %s", j->path, strerror(errno));
    return 0;
}

void sweep_journal_close(sweep_journal *j, bool remove)
{
    if (j->f)
        fclose(j->f);
    if (remove && j->path)
        unlink(j->path);
    free(j->path);
    j->f = NULL;
    j->path = NULL;
}

/* ---- the table's columns -------------------------------------------------------------------- */

/* The columns of /sweep/points for st's spec: point, axes, metrics, status, message, wall_s. */
static h5file_col *columns(const sweep_spec *s, size_t *ncols, size_t *row_bytes)
{
    size_t n = 1 + s->n_axes + s->n_metrics + 3, at = 0, c = 0;
    h5file_col *cols = mem_calloc(n, sizeof *cols, "sweep columns");
    cols[c++] = (h5file_col){"point", H5FILE_U64, at, 8, "count"};
    at += 8;
    for (unsigned a = 0; a < s->n_axes; a++) {
        size_t size = s->axes[a].numeric ? 8 : SWEEP_AXIS_TEXT_BYTES;
        cols[c++] = (h5file_col){s->axes[a].path, s->axes[a].numeric ? H5FILE_F64 : H5FILE_STR, at,
                                 size, "-"};
        at += size;
    }
    for (unsigned m = 0; m < s->n_metrics; m++) {
        cols[c++] = (h5file_col){point_metric_name(s->metrics[m]), H5FILE_F64, at, 8,
                                 point_metric_unit(s->metrics[m])};
        at += 8;
    }
    cols[c++] = (h5file_col){"status", H5FILE_STR, at, SWEEP_STATUS_BYTES, "-"};
    at += SWEEP_STATUS_BYTES;
    cols[c++] = (h5file_col){"message", H5FILE_STR, at, POINT_MESSAGE_BYTES, "-"};
    at += POINT_MESSAGE_BYTES;
    cols[c++] = (h5file_col){"wall_s", H5FILE_F64, at, 8, "s"};
    at += 8;
    *ncols = c;
    *row_bytes = at;
    return cols;
}

static void pack_row(const sweep_store *st, uint64_t i, const h5file_col *cols, unsigned char *row)
{
    const sweep_spec *s = st->spec;
    uint64_t k = st->point[i];
    size_t c = 0;
    memcpy(row + cols[c++].offset, &k, 8);
    for (unsigned a = 0; a < s->n_axes; a++, c++) {
        const sweep_value *v = &s->axes[a].values[sweep_point_value(s, k, a)];
        if (s->axes[a].numeric)
            memcpy(row + cols[c].offset, &v->num, 8);
        else
            snprintf((char *)row + cols[c].offset, cols[c].size, "%s", v->text);
    }
    for (unsigned m = 0; m < s->n_metrics; m++, c++)
        memcpy(row + cols[c].offset, &st->metric[i * s->n_metrics + m], 8);
    snprintf((char *)row + cols[c].offset, cols[c].size, "%s", st->ok[i] ? "ok" : "failed");
    c++;
    snprintf((char *)row + cols[c].offset, cols[c].size, "%s", st->ok[i] ? "" : st->message[i]);
    c++;
    memcpy(row + cols[c].offset, &st->wall_s[i], 8);
}

/* ---- loading an existing output ------------------------------------------------------------- */

static int check_identity(h5reader *r, const char *path, const sweep_store *st, err *e)
{
    char *id = NULL;
    uint64_t shard = 0, shards = 0;
    ERR_TRY(h5reader_attr_str(r, "/sweep", "sweep_id", &id, e));
    char want[32];
    snprintf(want, sizeof want, "%016" PRIx64, st->spec->id);
    int same = strcmp(id, want) == 0;
    free(id);
    ERR_TRY(h5reader_attr_u64(r, "/sweep", "shard_index", &shard, e));
    ERR_TRY(h5reader_attr_u64(r, "/sweep", "shards", &shards, e));
    if (!same || shard != st->shard || shards != st->shards)
        return err_set(e, ERR_INPUT,
                       "%s: exists and holds another sweep or shard (this one: id %s, shard "
                       "%u/%u; the id changes with the sweep file, the arch, network, policy and "
                       "replication files it names, and the xbarsim version); remove it, or "
                       "write to another -o",
                       path, want, st->shard, st->shards);
    return 0;
}

int sweep_output_load(const char *output, sweep_store *st, err *e)
{
    if (access(output, F_OK) != 0)
        return 0;
    h5reader *r;
    if (h5reader_open(output, &r, e) < 0)
        return err_set(e, ERR_INPUT,
                       "%s: exists and is not a sweep's HDF5 file; remove it, or "
                       "write to another -o",
                       output);
    h5rtable t = {0};
    int rc = check_identity(r, output, st, e);
    if (rc == 0)
        rc = h5reader_table(r, "/sweep/points", &t, e);
    const sweep_spec *s = st->spec;
    int cp = h5rtable_col(&t, "point"), cs = h5rtable_col(&t, "status");
    int cm = h5rtable_col(&t, "message"), cw = h5rtable_col(&t, "wall_s");
    int cmet[POINT_METRIC_COUNT];
    for (unsigned m = 0; rc == 0 && m < s->n_metrics; m++)
        if ((cmet[m] = h5rtable_col(&t, point_metric_name(s->metrics[m]))) < 0)
            rc = err_set(e, ERR_INPUT, "%s: /sweep/points has no column %s", output,
                         point_metric_name(s->metrics[m]));
    if (rc == 0 && (cp < 0 || cs < 0 || cm < 0 || cw < 0))
        rc = err_set(e, ERR_INPUT, "%s: /sweep/points lacks point, status, message or wall_s",
                     output);
    for (size_t i = 0; rc == 0 && i < t.nrows; i++) {
        const unsigned char *row = t.rows + i * t.row_bytes;
        uint64_t k;
        double wall, m[POINT_METRIC_COUNT];
        char status[SWEEP_STATUS_BYTES + 1] = "", message[POINT_MESSAGE_BYTES + 1] = "";
        memcpy(&k, row + t.cols[cp].offset, 8);
        memcpy(&wall, row + t.cols[cw].offset, 8);
        memcpy(status, row + t.cols[cs].offset, t.cols[cs].size < 8 ? t.cols[cs].size : 8);
        size_t ms = t.cols[cm].size < POINT_MESSAGE_BYTES ? t.cols[cm].size : POINT_MESSAGE_BYTES;
        memcpy(message, row + t.cols[cm].offset, ms);
        for (unsigned j = 0; j < s->n_metrics; j++)
            memcpy(&m[j], row + t.cols[cmet[j]].offset, 8);
        if (!sweep_store_mine(st, k))
            rc = err_set(e, ERR_INPUT, "%s: point %" PRIu64 " is not of this sweep's share", output,
                         k);
        else if (!st->done[k])
            store_put(st, k, strcmp(status, "ok") == 0, wall, m, message);
    }
    h5rtable_fini(&t);
    h5reader_close(r);
    return rc;
}

/* ---- writing -------------------------------------------------------------------------------- */

typedef struct order_key {
    uint64_t point; /* point index */
    uint64_t row;   /* its row in the store */
} order_key;

static int by_point(const void *a, const void *b)
{
    uint64_t x = ((const order_key *)a)->point, y = ((const order_key *)b)->point;
    return x < y ? -1 : x > y;
}

/* ---- axes that change nothing ---------------------------------------------------------------- */

typedef struct inert_key {
    uint64_t rest; /* the point's coordinates on the other axes, mixed radix */
    uint64_t row;  /* index into the store */
} inert_key;

static int by_rest(const void *x, const void *y)
{
    const inert_key *a = x, *b = y;
    if (a->rest != b->rest)
        return a->rest < b->rest ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

static bool same_metrics(const sweep_store *st, uint64_t i, uint64_t j)
{
    unsigned n = st->spec->n_metrics;
    for (unsigned m = 0; m < n; m++) {
        double a = st->metric[i * n + m], b = st->metric[j * n + m];
        if (!(a == b || (isnan(a) && isnan(b))))
            return false;
    }
    return true;
}

unsigned sweep_inert_axes(const sweep_store *st, bool *inert)
{
    const sweep_spec *s = st->spec;
    unsigned count = 0;
    inert_key *keys = mem_calloc(st->n ? st->n : 1, sizeof *keys, "sweep inert keys");
    for (unsigned a = 0; a < s->n_axes; a++) {
        inert[a] = false;
        if (s->combine != SWEEP_PRODUCT || s->axes[a].link)
            continue;
        unsigned last = a; /* a and the axes linked to it move together */
        while (last + 1 < s->n_axes && s->axes[last + 1].link)
            last++;
        uint64_t n = 0;
        for (uint64_t i = 0; i < st->n; i++) {
            if (!st->ok[i])
                continue;
            uint64_t rest = 0;
            for (unsigned b = 0; b < s->n_axes; b++)
                if (b < a || b > last)
                    rest = rest * s->axes[b].n + sweep_point_value(s, st->point[i], b);
            keys[n++] = (inert_key){rest, i};
        }
        qsort(keys, n, sizeof *keys, by_rest);
        bool compared = false, same = true;
        for (uint64_t i = 1; i < n && same; i++)
            if (keys[i].rest == keys[i - 1].rest) {
                compared = true;
                same = same_metrics(st, keys[i].row, keys[i - 1].row);
            }
        inert[a] = compared && same;
        count += inert[a];
    }
    free(keys);
    return count;
}

int sweep_attrs_write(h5file *f, const sweep_attrs *a, err *e)
{
    char shard[48];
    snprintf(shard, sizeof shard, "%u/%u", a->shard, a->shards);
    ERR_TRY(h5file_group(f, "/sweep", e));
    ERR_TRY(h5file_attr_str(f, "/sweep", "sweep_id", a->id, e));
    ERR_TRY(h5file_attr_str(f, "/sweep", "sweep", a->canonical, e));
    ERR_TRY(h5file_attr_str(f, "/sweep", "job", a->job, e));
    ERR_TRY(h5file_attr_str(f, "/sweep", "shard", shard, e));
    ERR_TRY(h5file_attr_u64(f, "/sweep", "shard_index", a->shard, e));
    ERR_TRY(h5file_attr_u64(f, "/sweep", "shards", a->shards, e));
    ERR_TRY(h5file_attr_u64(f, "/sweep", "points_total", a->total, e));
    ERR_TRY(h5file_attr_u64(f, "/sweep", "points_in_share", a->share, e));
    ERR_TRY(h5file_attr_u64(f, "/sweep", "points_done", a->done, e));
    ERR_TRY(h5file_attr_u64(f, "/sweep", "points_failed", a->failed, e));
    ERR_TRY(h5file_attr_u64(f, "/sweep", "complete", a->done == a->share, e));
    ERR_TRY(h5file_attr_strv(f, "/sweep", "axes", a->axes, a->n_axes, e));
    return h5file_attr_strv(f, "/sweep", "metrics", a->metrics, a->n_metrics, e);
}

static int write_attrs(h5file *f, const sweep_store *st, err *e)
{
    const sweep_spec *s = st->spec;
    char id[32];
    snprintf(id, sizeof id, "%016" PRIx64, s->id);
    const char **axes = mem_calloc(s->n_axes + 1, sizeof *axes, "axis names");
    const char **metrics = mem_calloc(s->n_metrics + 1, sizeof *metrics, "metric names");
    for (unsigned a = 0; a < s->n_axes; a++)
        axes[a] = s->axes[a].path;
    for (unsigned m = 0; m < s->n_metrics; m++)
        metrics[m] = point_metric_name(s->metrics[m]);
    sweep_attrs a = {.id = id,
                     .canonical = s->canonical,
                     .job = point_job_name(s->job),
                     .shard = st->shard,
                     .shards = st->shards,
                     .total = s->points,
                     .share = st->share,
                     .done = st->n,
                     .failed = st->failed,
                     .axes = axes,
                     .n_axes = s->n_axes,
                     .metrics = metrics,
                     .n_metrics = s->n_metrics};
    int rc = sweep_attrs_write(f, &a, e);
    /* Axes along which no metric changes, by path ("" when none): a sweep worth a second look. */
    bool *inert = mem_calloc(s->n_axes + 1, sizeof *inert, "sweep inert axes");
    unsigned n_inert = sweep_inert_axes(st, inert), k = 0;
    for (unsigned i = 0; i < s->n_axes; i++)
        if (inert[i])
            axes[k++] = s->axes[i].path;
    if (rc == 0)
        rc = h5file_attr_strv(f, "/sweep", "axes_without_effect", axes, n_inert, e);
    free(inert);
    free(axes);
    free(metrics);
    return rc;
}

static int write_points(h5file *f, const sweep_store *st, err *e)
{
    size_t ncols, row_bytes;
    h5file_col *cols = columns(st->spec, &ncols, &row_bytes);
    order_key *order = mem_calloc(st->n ? st->n : 1, sizeof *order, "sweep order");
    for (uint64_t i = 0; i < st->n; i++)
        order[i] = (order_key){st->point[i], i};
    qsort(order, st->n, sizeof *order, by_point);
    h5table *t = NULL;
    int rc = h5table_create(f, "/sweep/points",
                            "one row per finished point, sorted by point: the axis values, the "
                            "metrics (NaN when failed), status, message and wall time",
                            cols, ncols, row_bytes, 1024, &t, e);
    const uint64_t chunk = 4096;
    unsigned char *buf = mem_calloc(chunk, row_bytes, "sweep rows");
    for (uint64_t i = 0; rc == 0 && i < st->n; i += chunk) {
        uint64_t n = st->n - i < chunk ? st->n - i : chunk;
        memset(buf, 0, n * row_bytes);
        for (uint64_t r = 0; r < n; r++)
            pack_row(st, order[i + r].row, cols, buf + r * row_bytes);
        rc = h5table_append(t, buf, n, e);
    }
    if (t) {
        int crc = h5table_close(t, e);
        rc = rc < 0 ? rc : crc;
    }
    free(buf);
    free(order);
    free(cols);
    return rc;
}

int sweep_output_write(const char *output, const sweep_store *st, const char *command_line,
                       const char *start_time, err *e)
{
    h5file *f;
    ERR_TRY(h5file_create(output, &f, e));
    int rc = cli_meta_write(f, command_line, st->spec->canonical, 0, start_time, e);
    if (rc == 0)
        rc = write_attrs(f, st, e);
    if (rc == 0)
        rc = write_points(f, st, e);
    if (rc < 0) {
        h5file_abort(f);
        return rc;
    }
    return h5file_commit(f, e);
}

/* The text of a run of `count` points first, first + step, ..., last. */
typedef struct ranges_out {
    char *buf;
    size_t size, len;
    unsigned emitted, limit; /* runs written, at most limit, then "..." */
} ranges_out;

static void emit(ranges_out *o, uint64_t first, uint64_t last, uint64_t step, uint64_t count)
{
    if (o->emitted < o->limit && o->len < o->size) {
        const char *sep = o->emitted ? ", " : "";
        int w;
        if (count == 1)
            w = snprintf(o->buf + o->len, o->size - o->len, "%s%" PRIu64, sep, first);
        else if (step == 1)
            w = snprintf(o->buf + o->len, o->size - o->len, "%s%" PRIu64 "-%" PRIu64, sep, first,
                         last);
        else
            w = snprintf(o->buf + o->len, o->size - o->len,
                         "%s%" PRIu64 "-%" PRIu64 " step %" PRIu64, sep, first, last, step);
        o->len += w > 0 ? (size_t)w : 0;
    } else if (o->emitted == o->limit && o->len < o->size) {
        int w = snprintf(o->buf + o->len, o->size - o->len, ", ...");
        o->len += w > 0 ? (size_t)w : 0;
    }
    o->emitted++;
}

uint64_t sweep_missing_ranges(const uint8_t *have, uint64_t total, char *buf, size_t size,
                              unsigned limit)
{
    /* Runs of a constant step: consecutive points "a-b", and the stride of a missing shard
     * "a-b step N" (points k with k mod N = I), so one lost array task is one run. */
    ranges_out o = {.buf = buf, .size = size, .limit = limit};
    buf[0] = '\0';
    uint64_t missing = 0, first = 0, last = 0, step = 0, count = 0;
    for (uint64_t k = 0; k < total; k++) {
        if (have[k])
            continue;
        missing++;
        if (count == 0) {
            first = last = k;
            count = 1;
        } else if (count == 1) {
            step = k - last;
            last = k;
            count = 2;
        } else if (k - last == step) {
            last = k;
            count++;
        } else if (count == 2 && step != 1) {
            emit(&o, first, first, 0, 1); /* a lone point; the run goes on from the second */
            first = last;
            step = k - last;
            last = k;
        } else {
            emit(&o, first, last, step, count);
            first = last = k;
            count = 1;
        }
    }
    if (count == 2 && step != 1) {
        emit(&o, first, first, 0, 1);
        emit(&o, last, last, 0, 1);
    } else if (count) {
        emit(&o, first, last, step, count);
    }
    return missing;
}
