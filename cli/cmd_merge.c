/* cmd_merge: the `xbarsim merge` command -- joins the result files of one sweep's shards (or of
 * runs that each did part of it) into one file whose /sweep/points has every point exactly once,
 * sorted. It refuses files of different sweeps or column layouts, and says which points are
 * missing or duplicated. Exit status: 0 merged; 1 the output could not be written; 2 bad input
 * (different sweeps, missing or duplicate points without --partial, unreadable files).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "h5file.h"
#include "h5read.h"
#include "jsonw.h"
#include "mem.h"
#include "opt.h"
#include "point.h"
#include "sweepout.h"

#define MAX_INPUTS 100000 /* files, count */

typedef struct input {
    const char *path;
    char *id, *canonical, *job; /* /sweep attributes, owned */
    uint64_t total;             /* points_total */
    h5rtable t;
    int col_point, col_status;
} input;

typedef struct merge_opts {
    const char *out;
    bool partial, json;
} merge_opts;

static const opt_spec merge_table[] = {
    OPT_STR("-o", "FILE.h5", merge_opts, out, "the merged file", .required = true),
    OPT_FLAG("--partial", merge_opts, partial,
             "write the points present even when some are missing"),
    OPT_FLAG("--json", merge_opts, json,
             "the outcome as one JSON object (files, points merged of the total,\n"
             "the output file) instead of the line"),
};

static const opt_command merge_command = {
    .name = "merge",
    .args = "SHARD.h5",
    .args_min = 1,
    .args_max = MAX_INPUTS,
    .about = "Join the result files of one sweep (e.g. the shards of a Slurm job array, each from\n"
             "`xbarsim sweep --shard I/N`) into FILE.h5: /sweep/points with every point exactly\n"
             "once, sorted by point. Files of another sweep (a different sweep id) or column\n"
             "layout are refused. Missing or duplicated points are listed (as index ranges) and\n"
             "nothing is written, unless --partial: then the points present are written and the\n"
             "file says complete = 0 (running the sweep with -o FILE.h5 then evaluates only the\n"
             "rest).\n",
    .after = "Exit status: 0 merged; 1 the output could not be written; 2 bad input.\n",
    .opts = merge_table,
    .n_opts = OPT_COUNT(merge_table),
};

static int load(input *in, err *e)
{
    h5reader *r;
    ERR_TRY(h5reader_open(in->path, &r, e));
    int rc = h5reader_attr_str(r, "/sweep", "sweep_id", &in->id, e);
    if (rc == 0)
        rc = h5reader_attr_str(r, "/sweep", "sweep", &in->canonical, e);
    if (rc == 0)
        rc = h5reader_attr_str(r, "/sweep", "job", &in->job, e);
    if (rc == 0)
        rc = h5reader_attr_u64(r, "/sweep", "points_total", &in->total, e);
    if (rc == 0)
        rc = h5reader_table(r, "/sweep/points", &in->t, e);
    if (rc == 0) {
        in->col_point = h5rtable_col(&in->t, "point");
        in->col_status = h5rtable_col(&in->t, "status");
        if (in->col_point < 0 || in->t.cols[in->col_point].type != H5FILE_U64 ||
            in->col_status < 0 || in->t.cols[in->col_status].type != H5FILE_STR)
            rc = err_set(e, ERR_INPUT, "%s: /sweep/points has no point or status column", in->path);
    }
    h5reader_close(r);
    return rc;
}

static void input_fini(input *in)
{
    free(in->id);
    free(in->canonical);
    free(in->job);
    h5rtable_fini(&in->t);
}

static bool same_layout(const h5rtable *a, const h5rtable *b)
{
    if (a->ncols != b->ncols || a->row_bytes != b->row_bytes)
        return false;
    for (size_t i = 0; i < a->ncols; i++)
        if (strcmp(a->cols[i].name, b->cols[i].name) != 0 || a->cols[i].type != b->cols[i].type ||
            a->cols[i].size != b->cols[i].size)
            return false;
    return true;
}

static uint64_t row_point(const input *in, size_t i)
{
    uint64_t k;
    memcpy(&k, in->t.rows + i * in->t.row_bytes + in->t.cols[in->col_point].offset, 8);
    return k;
}

/* Check every file against the first; count each point's rows into seen. */
static int check(input *in, size_t n, uint8_t *seen, uint64_t *dups, err *e)
{
    for (size_t f = 0; f < n; f++) {
        if (strcmp(in[f].id, in[0].id) != 0 || in[f].total != in[0].total)
            return err_set(e, ERR_INPUT, "%s: another sweep (id %s) than %s (id %s)", in[f].path,
                           in[f].id, in[0].path, in[0].id);
        if (!same_layout(&in[f].t, &in[0].t))
            return err_set(e, ERR_INPUT, "%s: /sweep/points has other columns than in %s",
                           in[f].path, in[0].path);
        for (size_t i = 0; i < in[f].t.nrows; i++) {
            uint64_t k = row_point(&in[f], i);
            if (k >= in[0].total)
                return err_set(e, ERR_INPUT, "%s: point %" PRIu64 " beyond the sweep's %" PRIu64,
                               in[f].path, k, in[0].total);
            if (seen[k] == 1) {
                if (*dups < 5)
                    fprintf(stderr,
                            "xbarsim merge: point %" PRIu64 " is in more than one row "
                            "(again in %s)\n",
                            k, in[f].path);
                (*dups)++;
            }
            seen[k] = 1;
        }
    }
    return 0;
}

static int write_attrs(h5file *f, const input *in, uint64_t rows, uint64_t failed,
                       const char **names, err *e)
{
    const h5rtable *t = &in->t;
    const char **axes = names, **metrics = names + t->ncols;
    size_t na = 0, nm = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        const char *name = t->cols[c].name;
        point_metric m;
        if (point_metric_parse(name, &m) == 0)
            metrics[nm++] = name;
        else if (strcmp(name, "point") && strcmp(name, "status") && strcmp(name, "message") &&
                 strcmp(name, "wall_s"))
            axes[na++] = name;
    }
    sweep_attrs a = {.id = in->id,
                     .canonical = in->canonical,
                     .job = in->job,
                     .shard = 0,
                     .shards = 1,
                     .total = in->total,
                     .share = in->total,
                     .done = rows,
                     .failed = failed,
                     .axes = axes,
                     .n_axes = na,
                     .metrics = metrics,
                     .n_metrics = nm};
    return sweep_attrs_write(f, &a, e);
}

/* Every row of every file, sorted by point (each point once: checked before). */
static unsigned char *gather(const input *in, size_t n, uint64_t total, uint64_t *rows,
                             uint64_t *failed)
{
    size_t rb = in[0].t.row_bytes;
    int64_t *where = mem_calloc(total ? total : 1, sizeof *where, "merge index");
    for (uint64_t k = 0; k < total; k++)
        where[k] = -1;
    size_t *file_of = mem_calloc(total ? total : 1, sizeof *file_of, "merge index");
    for (size_t f = 0; f < n; f++)
        for (size_t i = 0; i < in[f].t.nrows; i++) {
            uint64_t k = row_point(&in[f], i);
            where[k] = (int64_t)i;
            file_of[k] = f;
        }
    *rows = 0;
    *failed = 0;
    unsigned char *out = mem_calloc(total ? total : 1, rb, "merged rows");
    for (uint64_t k = 0; k < total; k++) {
        if (where[k] < 0)
            continue;
        const input *src = &in[file_of[k]];
        const unsigned char *row = src->t.rows + (size_t)where[k] * rb;
        memcpy(out + *rows * rb, row, rb);
        *failed += strncmp((const char *)row + src->t.cols[src->col_status].offset, "ok",
                           src->t.cols[src->col_status].size) != 0;
        (*rows)++;
    }
    free(where);
    free(file_of);
    return out;
}

static int write_merged(const char *path, const input *in, size_t n, const char *command_line,
                        err *e)
{
    uint64_t rows, failed;
    unsigned char *data = gather(in, n, in[0].total, &rows, &failed);
    char start[CLI_TIME_BYTES];
    cli_utc_time(start, sizeof start);
    const char **names = mem_calloc(2 * in[0].t.ncols + 1, sizeof *names, "names");
    h5file *f;
    int rc = h5file_create(path, &f, e);
    if (rc == 0) {
        rc = cli_meta_write(f, command_line, in[0].canonical, 0, start, e);
        if (rc == 0)
            rc = write_attrs(f, &in[0], rows, failed, names, e);
        if (rc == 0)
            rc = h5table_write(f, "/sweep/points", in[0].t.description, in[0].t.cols, in[0].t.ncols,
                               in[0].t.row_bytes, data, rows, e);
        if (rc < 0)
            h5file_abort(f);
        else
            rc = h5file_commit(f, e);
    }
    free(names);
    free(data);
    return rc;
}

static void print_merged(const merge_opts *o, size_t files, uint64_t points, uint64_t total)
{
    if (!o->json) {
        printf("merged %zu files: %" PRIu64 " of %" PRIu64 " points into %s\n", files, points,
               total, o->out);
        return;
    }
    jsonw w;
    jsonw_begin(&w, stdout);
    jsonw_object(&w, NULL);
    jsonw_u64(&w, "files", files);
    jsonw_u64(&w, "points", points);
    jsonw_u64(&w, "points_total", total);
    jsonw_str(&w, "output", o->out);
    jsonw_close(&w);
    jsonw_end(&w);
}

int cmd_merge(int argc, char **argv)
{
    merge_opts o = {0};
    opt_args args;
    int rc = opt_parse(&merge_command, argc, argv, &o, &args);
    size_t n = args.n;
    input *in = mem_calloc(n ? n : 1, sizeof *in, "merge inputs");
    for (size_t f = 0; f < n; f++)
        in[f].path = args.v[f];
    opt_args_fini(&args);
    if (rc != 0) {
        free(in);
        return rc > 0 ? 0 : 2;
    }
    err e;
    err_clear(&e);
    int status = 2;
    uint8_t *seen = NULL;
    for (size_t f = 0; f < n; f++)
        if (load(&in[f], &e) < 0) {
            fprintf(stderr, "xbarsim merge: %s\n", e.msg);
            goto done;
        }
    seen = mem_calloc(in[0].total ? in[0].total : 1, 1, "merge seen");
    uint64_t dups = 0;
    if (check(in, n, seen, &dups, &e) < 0) {
        fprintf(stderr, "xbarsim merge: %s\n", e.msg);
        goto done;
    }
    char ranges[1024];
    uint64_t missing = sweep_missing_ranges(seen, in[0].total, ranges, sizeof ranges, 20);
    if (missing)
        fprintf(stderr, "xbarsim merge: %" PRIu64 " of %" PRIu64 " points missing: %s\n", missing,
                in[0].total, ranges);
    if (dups)
        fprintf(stderr, "xbarsim merge: %" PRIu64 " duplicated rows\n", dups);
    if (dups || (missing && !o.partial)) {
        fprintf(stderr, "xbarsim merge: nothing written%s\n",
                dups ? "" : " (--partial writes the points present)");
        goto done;
    }
    char *cl = cli_command_line(argc, argv);
    if (write_merged(o.out, in, n, cl, &e) < 0) {
        fprintf(stderr, "xbarsim merge: %s\n", e.msg);
        status = 1;
    } else {
        print_merged(&o, n, in[0].total - missing, in[0].total);
        status = 0;
    }
    free(cl);
done:
    free(seen);
    for (size_t f = 0; f < n; f++)
        input_fini(&in[f]);
    free(in);
    return status;
}
