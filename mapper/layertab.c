/* layertab: per-layer integer tables from CSV or libconfig (see layertab.h). Both readers feed
 * add_row(), which owns the checks every row shares: a crossbar layer, given once, in range. */
#include "layertab.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "cfgfile.h"
#include "mem.h"

#define LINE_BYTES 1024

void layertab_fini(layertab *t)
{
    if (!t)
        return;
    free(t->rows);
    t->rows = NULL;
    t->n = 0;
}

typedef struct reader {
    const char *path;
    const layertab_col *cols;
    unsigned ncols;
    const network *net;
    bool *seen; /* by crossbar index */
    layertab t;
    err *e;
} reader;

/* "path:line: " or "path: " */
static void where(const reader *r, unsigned line, char *buf, size_t size)
{
    if (line)
        snprintf(buf, size, "%s:%u", r->path, line);
    else
        snprintf(buf, size, "%s", r->path);
}

static int add_row(reader *r, const char *name, unsigned line, const long *v, const bool *has)
{
    char at[600];
    where(r, line, at, sizeof at);
    int li = network_find_layer(r->net, name);
    if (li < 0 || r->net->layers[li].xbar_index < 0)
        return err_set(r->e, ERR_INPUT,
                       "%s: layer: found \"%.60s\", expected a crossbar layer of %s", at, name,
                       r->net->name);
    unsigned xi = (unsigned)r->net->layers[li].xbar_index;
    if (r->seen[xi])
        return err_set(r->e, ERR_INPUT, "%s: layer \"%s\" is given twice", at, name);
    for (unsigned c = 0; c < r->ncols; c++) {
        const layertab_col *col = &r->cols[c];
        if (!has[c] && col->required)
            return err_set(r->e, ERR_INPUT, "%s: layer \"%s\": %s: missing, expected %ld..%ld", at,
                           name, col->name, col->lo, col->hi);
        if (has[c] && (v[c] < col->lo || v[c] > col->hi))
            return err_set(r->e, ERR_INPUT, "%s: layer \"%s\": %s: found %ld, expected %ld..%ld",
                           at, name, col->name, v[c], col->lo, col->hi);
    }
    r->seen[xi] = true;
    layertab_row *row = &r->t.rows[r->t.n++];
    row->xbar = xi;
    row->line = line;
    memcpy(row->v, v, sizeof row->v);
    memcpy(row->has, has, sizeof row->has);
    return 0;
}

/* ---- CSV ------------------------------------------------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Split line at commas into at most max trimmed fields; returns the field count (may exceed max).
 */
static unsigned split(char *line, char **fields, unsigned max)
{
    unsigned n = 0;
    for (char *s = line;;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        if (n < max)
            fields[n] = trim(s);
        n++;
        if (!comma)
            return n;
        s = comma + 1;
    }
}

/* The header: "layer" then known columns; map[i] = column of field i + 1. */
static int csv_header(reader *r, unsigned line, char **fields, unsigned nf, int *map)
{
    char names[256] = "layer";
    for (unsigned c = 0; c < r->ncols; c++) {
        strncat(names, ",", sizeof names - strlen(names) - 1);
        strncat(names, r->cols[c].name, sizeof names - strlen(names) - 1);
    }
    bool ok = nf >= 2 && nf <= r->ncols + 1 && strcmp(fields[0], "layer") == 0;
    bool given[LAYERTAB_MAX_COLS] = {false};
    for (unsigned i = 1; ok && i < nf; i++) {
        map[i] = -1;
        for (unsigned c = 0; c < r->ncols; c++)
            if (strcmp(fields[i], r->cols[c].name) == 0 && !given[c]) {
                map[i] = (int)c;
                given[c] = true;
            }
        ok = map[i] >= 0;
    }
    for (unsigned c = 0; ok && c < r->ncols; c++)
        ok = given[c] || !r->cols[c].required;
    if (!ok)
        return err_set(r->e, ERR_INPUT,
                       "%s:%u: header: found \"%.60s...\", expected the columns %s (optional ones "
                       "may be left out)",
                       r->path, line, fields[0], names);
    return 0;
}

static int csv_row(reader *r, unsigned line, char **fields, unsigned nf, unsigned ncolumns,
                   const int *map)
{
    if (nf != ncolumns)
        return err_set(r->e, ERR_INPUT, "%s:%u: found %u fields, expected %u as in the header",
                       r->path, line, nf, ncolumns);
    long v[LAYERTAB_MAX_COLS] = {0};
    bool has[LAYERTAB_MAX_COLS] = {false};
    for (unsigned i = 1; i < nf; i++) {
        unsigned c = (unsigned)map[i];
        if (fields[i][0] == '\0')
            continue;
        char *end;
        errno = 0;
        v[c] = strtol(fields[i], &end, 10);
        if (*end != '\0' || errno)
            return err_set(r->e, ERR_INPUT, "%s:%u: %s: found \"%.40s\", expected an integer",
                           r->path, line, r->cols[c].name, fields[i]);
        has[c] = true;
    }
    return add_row(r, fields[0], line, v, has);
}

static int read_csv(reader *r)
{
    FILE *f = fopen(r->path, "r");
    if (!f)
        return err_set(r->e, ERR_IO, "%s: cannot read the file: %s", r->path, strerror(errno));
    char buf[LINE_BYTES];
    unsigned line = 0, ncolumns = 0;
    int map[LAYERTAB_MAX_COLS + 1];
    int rc = 0;
    while (rc == 0 && fgets(buf, sizeof buf, f)) {
        line++;
        if (!strchr(buf, '\n') && !feof(f)) {
            rc = err_set(r->e, ERR_INPUT, "%s:%u: line longer than %d bytes", r->path, line,
                         LINE_BYTES - 2);
            break;
        }
        char *s = trim(buf);
        if (*s == '\0' || *s == '#')
            continue;
        char *fields[LAYERTAB_MAX_COLS + 2];
        unsigned nf = split(s, fields, LAYERTAB_MAX_COLS + 2);
        if (ncolumns == 0) {
            rc = csv_header(r, line, fields, nf, map);
            ncolumns = nf;
        } else {
            rc = csv_row(r, line, fields, nf, ncolumns, map);
        }
    }
    if (rc == 0 && ferror(f))
        rc = err_set(r->e, ERR_IO, "%s: read error", r->path);
    if (rc == 0 && ncolumns == 0)
        rc = err_set(r->e, ERR_INPUT, "%s: empty, expected a header line starting with layer",
                     r->path);
    fclose(f);
    return rc;
}

/* ---- libconfig ------------------------------------------------------------------------------- */

static int cfg_fail(reader *r, const config_setting_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cfg_fail(reader *r, const config_setting_t *at, const char *fmt, ...)
{
    char what[ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return err_set(r->e, ERR_INPUT, "%s:%u: %s", r->path, config_setting_source_line(at), what);
}

static int cfg_entry(reader *r, const char *group, unsigned i, const config_setting_t *g)
{
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return cfg_fail(r, g, "%s.[%u]: expected a group { layer = \"...\"; ... }", group, i);
    long v[LAYERTAB_MAX_COLS] = {0};
    bool has[LAYERTAB_MAX_COLS] = {false};
    for (int k = 0; k < config_setting_length(g); k++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)k);
        const char *key = config_setting_name(s);
        if (strcmp(key, "layer") == 0)
            continue;
        unsigned c = 0;
        while (c < r->ncols && strcmp(key, r->cols[c].name) != 0)
            c++;
        if (c == r->ncols) {
            char names[256] = "layer";
            for (unsigned j = 0; j < r->ncols; j++) {
                strncat(names, ", ", sizeof names - strlen(names) - 1);
                strncat(names, r->cols[j].name, sizeof names - strlen(names) - 1);
            }
            return cfg_fail(r, s, "%s.[%u].%s: unknown key, expected one of: %s", group, i, key,
                            names);
        }
        int type = config_setting_type(s);
        if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
            char found[64];
            cfgfile_describe(s, found, sizeof found);
            return cfg_fail(r, s, "%s.[%u].%s: found %s, expected an integer %ld..%ld", group, i,
                            key, found, r->cols[c].lo, r->cols[c].hi);
        }
        v[c] = (long)config_setting_get_int64(s); /* range checked with the row (add_row) */
        has[c] = true;
    }
    const char *name;
    if (!config_setting_lookup_string(g, "layer", &name))
        return cfg_fail(r, g, "%s.[%u].layer: missing or not a string", group, i);
    return add_row(r, name, (unsigned)config_setting_source_line(g), v, has);
}

static int read_cfg(reader *r, const char *group)
{
    config_t cfg;
    ERR_TRY(cfgfile_parse_file(r->path, &cfg, r->e));
    const config_setting_t *list = config_lookup(&cfg, group);
    int rc = 0;
    if (!list)
        rc = err_set(r->e, ERR_INPUT,
                     "%s: %s: missing, expected %s = ( { layer = \"...\"; ... }, "
                     "... );",
                     r->path, group, group);
    else if (!config_setting_is_list(list))
        rc = cfg_fail(r, list, "%s: expected a list ( {...}, {...} )", group);
    for (unsigned i = 0; rc == 0 && list && i < (unsigned)config_setting_length(list); i++)
        rc = cfg_entry(r, group, i, config_setting_get_elem(list, i));
    config_destroy(&cfg);
    return rc;
}

int layertab_read(const char *path, const char *group, const layertab_col *cols, unsigned ncols,
                  const network *n, layertab *out, err *e)
{
    assert(ncols >= 1 && ncols <= LAYERTAB_MAX_COLS);
    reader r = {.path = path, .cols = cols, .ncols = ncols, .net = n, .e = e};
    r.seen = mem_calloc(n->n_xbar, sizeof *r.seen, "layer table marks");
    r.t.rows = mem_calloc(n->n_xbar, sizeof *r.t.rows, "layer table");
    size_t len = strlen(path);
    int rc = len >= 4 && strcmp(path + len - 4, ".csv") == 0 ? read_csv(&r) : read_cfg(&r, group);
    free(r.seen);
    if (rc < 0) {
        layertab_fini(&r.t);
        return rc;
    }
    *out = r.t;
    return 0;
}
