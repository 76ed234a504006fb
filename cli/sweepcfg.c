/* sweepcfg: the sweep file (schema in `xbarsim sweep --help` and configs/sweep/README.md) and
 * the enumeration of its points. Every setting and value is checked here, before any point runs:
 * a bad path or a value its setting cannot take is the file's error (file:line); a combination
 * that does not fit the chip is a point's failure, found when the point runs.
 */
#include "sweepcfg.h"

#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "arch.h"
#include "cli.h"
#include "mem.h"

#define MAX_BASE 128 /* base settings, count */

/* ---- small helpers ------------------------------------------------------------------------ */

static int fail(err *e, const sweep_spec *s, const config_setting_t *at, const char *path,
                const char *what)
{
    return err_set(e, ERR_INPUT, "%s:%u: %s: %s", cfgfile_file_of(at, s->origin),
                   cfgfile_line_of(at), path, what);
}

/* A scalar setting's value as text; numeric/num say whether (and what) number it is. */
static int scalar_text(const config_setting_t *v, char **text, bool *numeric, double *num)
{
    char buf[64];
    switch (config_setting_type(v)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        *num = (double)config_setting_get_int64(v);
        snprintf(buf, sizeof buf, "%lld", config_setting_get_int64(v));
        *numeric = true;
        break;
    case CONFIG_TYPE_FLOAT:
        *num = config_setting_get_float(v);
        snprintf(buf, sizeof buf, "%.17g", *num);
        *numeric = true;
        break;
    case CONFIG_TYPE_BOOL:
        *num = config_setting_get_bool(v) ? 1.0 : 0.0;
        snprintf(buf, sizeof buf, "%s", config_setting_get_bool(v) ? "true" : "false");
        *numeric = true;
        break;
    case CONFIG_TYPE_STRING:
        *text = mem_strdup(config_setting_get_string(v), "sweep value");
        *numeric = false;
        *num = NAN;
        return 0;
    default:
        return -1;
    }
    *text = mem_strdup(buf, "sweep value");
    return 0;
}

/* v written back as libconfig text (a group "{ a = 1; b = \"x\"; }", an array "[0.1, 0.2]", a
 * list "( ... )"), which cfgfile_override reads again as the same value: floats keep a '.' or an
 * exponent and 17 digits, 64-bit integers their L. */
static void write_value(FILE *f, const config_setting_t *v)
{
    char buf[64];
    switch (config_setting_type(v)) {
    case CONFIG_TYPE_INT:
        fprintf(f, "%d", config_setting_get_int(v));
        break;
    case CONFIG_TYPE_INT64:
        fprintf(f, "%lldL", config_setting_get_int64(v));
        break;
    case CONFIG_TYPE_FLOAT:
        for (int digits = 15; digits <= 17; digits++) { /* the shortest that reads back */
            snprintf(buf, sizeof buf, "%.*g", digits, config_setting_get_float(v));
            if (strtod(buf, NULL) == config_setting_get_float(v))
                break;
        }
        fprintf(f, "%s%s", buf, strpbrk(buf, ".eEni") ? "" : ".0");
        break;
    case CONFIG_TYPE_BOOL:
        fputs(config_setting_get_bool(v) ? "true" : "false", f);
        break;
    case CONFIG_TYPE_STRING:
        fputc('"', f);
        for (const char *c = config_setting_get_string(v); *c; c++)
            fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
        fputc('"', f);
        break;
    default: { /* group, array, list */
        bool group = config_setting_is_group(v);
        fputs(group ? "{" : config_setting_is_array(v) ? "[" : "(", f);
        for (int i = 0; i < config_setting_length(v); i++) {
            const config_setting_t *m = config_setting_get_elem(v, (unsigned)i);
            if (group)
                fprintf(f, " %s = ", config_setting_name(m));
            else if (i)
                fputs(", ", f);
            write_value(f, m);
            if (group)
                fputc(';', f);
        }
        fputs(group ? " }" : config_setting_is_array(v) ? "]" : ")", f);
        break;
    }
    }
}

/* A structured value (group, array or list) as libconfig text, owned by the caller. */
static char *structured_text(const config_setting_t *v)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        mem_oom(0, "sweep value text");
    write_value(f, v);
    fclose(f);
    return text;
}

/* "PATH=TEXT", owned by the caller (a structured value has no length limit). */
static char *assign_text(const char *path, const char *text)
{
    size_t n = strlen(path) + strlen(text) + 2;
    char *a = mem_alloc(n, "sweep assignment");
    snprintf(a, n, "%s=%s", path, text);
    return a;
}

#ifndef XBARSIM_VERSION
#define XBARSIM_VERSION "unknown"
#endif
#define FNV_OFFSET 0xcbf29ce484222325ULL

/* FNV-1a of n bytes, continuing from h. */
static uint64_t fnv1a_bytes(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
    return fnv1a_bytes(h, (const unsigned char *)s, strlen(s));
}

/* h continued over the bytes of the file a sweep value names, when it names one: an arch or
 * network name is resolved as the points resolve it, a policy or replication value as a spec.
 * A value that names no readable file (a shorthand such as uniform:8) adds nothing. */
static uint64_t hash_named_file(uint64_t h, const sweep_spec *s, const char *path,
                                const char *value)
{
    const char *kind = strcmp(path, "arch") == 0      ? "arch"
                       : strcmp(path, "network") == 0 ? "net"
                                                      : NULL;
    if (!kind && strcmp(path, "policy") != 0 && strcmp(path, "replication") != 0)
        return h;
    char buf[4096];
    const char *file = kind ? cli_resolve(value, s->origin, kind, buf, sizeof buf)
                            : cli_resolve_spec(value, s->origin, buf, sizeof buf);
    FILE *f = fopen(file, "rb");
    if (!f)
        return h;
    unsigned char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        h = fnv1a_bytes(h, chunk, n);
    fclose(f);
    return h;
}

/* ---- base ----------------------------------------------------------------------------------- */

static void add_base(sweep_spec *s, const char *path, char *text)
{
    s->base = mem_realloc(s->base, s->n_base + 1, sizeof *s->base, "sweep base");
    s->base[s->n_base].path = mem_strdup(path, "sweep path");
    s->base[s->n_base].text = text;
    s->n_base++;
}

static int read_set_list(sweep_spec *s, const config_setting_t *list, err *e)
{
    if (!config_setting_is_array(list) && !config_setting_is_list(list))
        return fail(e, s, list, "sweep.base.set", "expected a list of \"PATH=VALUE\" strings");
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *v = config_setting_get_elem(list, (unsigned)i);
        const char *a = config_setting_get_string(v);
        const char *eq = a ? strchr(a, '=') : NULL;
        if (!eq || eq == a)
            return fail(e, s, v, "sweep.base.set", "expected \"PATH=VALUE\"");
        char path[256];
        snprintf(path, sizeof path, "%.*s", (int)(eq - a), a);
        add_base(s, path, mem_strdup(eq + 1, "sweep value"));
    }
    return 0;
}

/* Flatten group g (its path prefix `prefix`, "" at the base) into path = text settings. */
static int read_base_group(sweep_spec *s, const config_setting_t *g, const char *prefix, err *e)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *v = config_setting_get_elem(g, (unsigned)i);
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", config_setting_name(v));
        if (!*prefix && strcmp(config_setting_name(v), "set") == 0) {
            ERR_TRY(read_set_list(s, v, e));
            continue;
        }
        if (config_setting_is_group(v)) {
            ERR_TRY(read_base_group(s, v, path, e));
            continue;
        }
        char *text;
        bool numeric;
        double num;
        if (scalar_text(v, &text, &numeric, &num) < 0) {
            char found[128], where[300];
            cfgfile_describe(v, found, sizeof found);
            snprintf(where, sizeof where, "sweep.base.%s", path);
            char what[256];
            snprintf(what, sizeof what, "found %s, expected a number, a boolean or a string",
                     found);
            return fail(e, s, v, where, what);
        }
        if (s->n_base == MAX_BASE) {
            free(text);
            return fail(e, s, v, "sweep.base", "too many settings");
        }
        add_base(s, path, text);
    }
    return 0;
}

/* ---- axes ----------------------------------------------------------------------------------- */

/* Append a value. The array's room is the least power of two >= n, so it doubles when n reaches
 * one: a range of a million values costs 20 reallocations, not a million (fuzz_sweep). */
static void add_value(sweep_axis *a, char *text, bool numeric, double num)
{
    if ((a->n & (a->n - 1)) == 0) /* n is 0 or a power of two: full */
        a->values =
            mem_realloc(a->values, a->n ? 2 * (size_t)a->n : 1, sizeof *a->values, "sweep values");
    a->values[a->n++] = (sweep_value){.text = text, .numeric = numeric, .num = num};
}

static int read_values(sweep_spec *s, sweep_axis *a, const config_setting_t *list,
                       const char *where, err *e)
{
    if (!config_setting_is_array(list) && !config_setting_is_list(list))
        return fail(e, s, list, where, "expected a list of values [v1, v2, ...]");
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *v = config_setting_get_elem(list, (unsigned)i);
        char *text;
        bool numeric;
        double num;
        if (scalar_text(v, &text, &numeric, &num) < 0) {
            if (strncmp(a->path, "arch.", 5) != 0)
                return fail(e, s, v, where,
                            "found a group, array or list, expected numbers, booleans or strings "
                            "(structured values are for arch.* settings)");
            text = structured_text(v); /* a group, array or list for an arch setting */
            numeric = false;
            num = NAN;
        }
        add_value(a, text, numeric, num);
    }
    return 0;
}

static int range_number(sweep_spec *s, const config_setting_t *r, const char *name,
                        const char *where, bool required, double *out, err *e)
{
    const config_setting_t *v = config_setting_get_member(r, name);
    char path[300];
    snprintf(path, sizeof path, "%s.%s", where, name);
    if (!v) {
        if (required)
            return fail(e, s, r, path, "missing, expected a number");
        return 1;
    }
    int t = config_setting_type(v);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64 && t != CONFIG_TYPE_FLOAT)
        return fail(e, s, v, path, "expected a number");
    *out =
        t == CONFIG_TYPE_FLOAT ? config_setting_get_float(v) : (double)config_setting_get_int64(v);
    return 0;
}

/* range = { from = A; to = B; count = N; scale = "linear" | "log"; integer = false; } or step = D
 * instead of count (linear only). Integer ranges round to the nearest and drop repeats. */
static int read_range(sweep_spec *s, sweep_axis *a, const config_setting_t *r, const char *where,
                      err *e)
{
    if (!config_setting_is_group(r))
        return fail(e, s, r, where, "expected a group { from; to; count or step; scale; }");
    double from, to, count = 0, step = 0;
    ERR_TRY(range_number(s, r, "from", where, true, &from, e));
    ERR_TRY(range_number(s, r, "to", where, true, &to, e));
    int has_count = range_number(s, r, "count", where, false, &count, e);
    int has_step = range_number(s, r, "step", where, false, &step, e);
    if (has_count < 0 || has_step < 0)
        return ERR_INPUT;
    const char *scale = "linear";
    config_setting_lookup_string(r, "scale", &scale);
    int integer = 0;
    config_setting_lookup_bool(r, "integer", &integer);
    bool log_scale = strcmp(scale, "log") == 0;
    char path[300];
    snprintf(path, sizeof path, "%s.scale", where);
    if (!log_scale && strcmp(scale, "linear") != 0)
        return fail(e, s, r, path, "expected \"linear\" or \"log\"");
    if ((has_count == 0) == (has_step == 0))
        return fail(e, s, r, where, "expected exactly one of count and step");
    char what[128];
    if (has_step == 0) {
        if (log_scale || step <= 0)
            return fail(e, s, r, where, "step: expected a positive step of a linear range");
        if ((to - from) / step >= (double)SWEEP_MAX_RANGE_VALUES) {
            snprintf(what, sizeof what, "step: found %g, giving %.4g values, expected at most %d",
                     step, floor((to - from) / step) + 1, SWEEP_MAX_RANGE_VALUES);
            return fail(e, s, r, where, what);
        }
        count = floor((to - from) / step + 1e-9) + 1;
    }
    if (count < 1 || count > (double)SWEEP_MAX_RANGE_VALUES || count != floor(count)) {
        snprintf(what, sizeof what, "count: found %.17g, expected an integer 1..%d", count,
                 SWEEP_MAX_RANGE_VALUES);
        return fail(e, s, r, where, what);
    }
    if (log_scale && (from <= 0 || to <= 0))
        return fail(e, s, r, where, "a log range needs from > 0 and to > 0");
    for (uint64_t i = 0; i < (uint64_t)count; i++) {
        double t = count > 1 ? (double)i / (count - 1) : 0.0;
        double v = has_step == 0 ? from + (double)i * step
                   : log_scale   ? from * pow(to / from, t)
                                 : from + (to - from) * t;
        if (integer)
            v = nearbyint(v);
        if (integer && a->n && a->values[a->n - 1].num == v)
            continue;
        char buf[64];
        if (integer)
            snprintf(buf, sizeof buf, "%.0f", v);
        else
            snprintf(buf, sizeof buf, "%.17g", v);
        add_value(a, mem_strdup(buf, "sweep value"), true, v);
    }
    return 0;
}

static int read_axis(sweep_spec *s, sweep_axis *a, const config_setting_t *g, unsigned k, err *e)
{
    char where[128];
    snprintf(where, sizeof where, "sweep.axes.[%u]", k);
    a->line = cfgfile_line_of(g);
    const char *path;
    if (!config_setting_is_group(g))
        return fail(e, s, g, where, "expected a group { path = \"...\"; values = [...]; }");
    if (!config_setting_lookup_string(g, "path", &path))
        return fail(e, s, g, where, "path: missing, expected a setting path string");
    a->path = mem_strdup(path, "sweep path");
    const config_setting_t *values = config_setting_get_member(g, "values");
    const config_setting_t *range = config_setting_get_member(g, "range");
    if ((values != NULL) == (range != NULL))
        return fail(e, s, g, where, "expected exactly one of values and range");
    char sub[160];
    snprintf(sub, sizeof sub, "%s.%s", where, values ? "values" : "range");
    ERR_TRY(values ? read_values(s, a, values, sub, e) : read_range(s, a, range, sub, e));
    if (a->n == 0)
        return fail(e, s, g, sub, "found no values, expected at least one");
    int link = 0;
    config_setting_lookup_bool(g, "link", &link);
    if (link && k == 0)
        return fail(e, s, g, where, "link: the first axis has no axis before it to link to");
    a->link = link;
    a->numeric = true;
    for (unsigned i = 0; i < a->n; i++) {
        a->numeric = a->numeric && a->values[i].numeric;
        err pe;
        if (point_setting_check(a->path, a->values[i].text, &pe) < 0)
            return fail(e, s, g, sub, pe.msg);
    }
    return 0;
}

/* ---- checks against the base architecture ----------------------------------------------- */

static const char *base_value(const sweep_spec *s, const char *path)
{
    const char *v = NULL;
    for (unsigned i = 0; i < s->n_base; i++)
        if (strcmp(s->base[i].path, path) == 0)
            v = s->base[i].text;
    return v;
}

/* A setting the base arch file does not hold (one left at its default) is added by the override;
 * the arch loader then says whether it knows the key. Try each such path alone on the base tree:
 * an unknown key is the sweep file's error, any other complaint is left to the points (it may be
 * a combination that does not fit). */
static int check_new_key(const sweep_spec *s, const char *arch_path, const char *assignment,
                         const char *where, unsigned line, err *e)
{
    config_t cfg;
    ERR_TRY(cfgfile_parse_file(arch_path, &cfg, e));
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)strcspn(assignment, "="), assignment);
    if (config_lookup(&cfg, key)) {
        config_destroy(&cfg);
        return 0;
    }
    err le;
    if (cfgfile_override(&cfg, assignment, &le) < 0) {
        config_destroy(&cfg);
        return 0; /* reported with its line by the caller */
    }
    arch a;
    if (arch_load_config(&cfg, arch_path, &a, &le) == 0) {
        arch_fini(&a);
        return 0;
    }
    if (strstr(le.msg, "unknown key"))
        return err_set(e, ERR_INPUT, "%s:%u: %s: %s", s->origin, line, where, le.msg);
    return 0;
}

static int check_new_keys(const sweep_spec *s, const char *arch_path, err *e)
{
    for (unsigned i = 0; i < s->n_base; i++) {
        if (strncmp(s->base[i].path, "arch.", 5) != 0)
            continue;
        char *a = assign_text(s->base[i].path, s->base[i].text);
        int rc = check_new_key(s, arch_path, a, "sweep.base", 0, e);
        free(a);
        ERR_TRY(rc);
    }
    for (unsigned k = 0; k < s->n_axes; k++) {
        if (strncmp(s->axes[k].path, "arch.", 5) != 0)
            continue;
        char *a = assign_text(s->axes[k].path, s->axes[k].values[0].text), where[64];
        snprintf(where, sizeof where, "sweep.axes.[%u]", k);
        int rc = check_new_key(s, arch_path, a, where, s->axes[k].line, e);
        free(a);
        ERR_TRY(rc);
    }
    return 0;
}

/* Every arch.* setting (base and axes) must name a setting of the base architecture and parse
 * by its type: try each on the base arch's tree. (With an `arch` axis the first value's tree.) */
static int check_arch_paths(sweep_spec *s, const config_setting_t *root, err *e)
{
    const char *arch_name = base_value(s, "arch");
    for (unsigned k = 0; !arch_name && k < s->n_axes; k++)
        if (strcmp(s->axes[k].path, "arch") == 0)
            arch_name = s->axes[k].values[0].text;
    if (!arch_name)
        return fail(e, s, root, "sweep.base.arch",
                    "missing: expected a preset name or file "
                    "(or an axis of path \"arch\")");
    bool net = base_value(s, "network") != NULL;
    for (unsigned k = 0; !net && k < s->n_axes; k++)
        net = strcmp(s->axes[k].path, "network") == 0;
    if (!net)
        return fail(e, s, root, "sweep.base.network",
                    "missing: expected a built-in name or file (or an axis of path \"network\")");
    char buf[1024];
    const char *path = cli_resolve(arch_name, s->origin, "arch", buf, sizeof buf);
    config_t cfg;
    if (cfgfile_parse_file(path, &cfg, e) < 0) {
        err_prefix(e, "%s: sweep.base.arch", s->origin);
        e->code = ERR_INPUT; /* an unreadable preset is the sweep file's error, as returned */
        return ERR_INPUT;
    }
    int rc = check_new_keys(s, path, e);
    for (unsigned i = 0; rc == 0 && i < s->n_base; i++) {
        if (strncmp(s->base[i].path, "arch.", 5) != 0)
            continue;
        char *a = assign_text(s->base[i].path, s->base[i].text);
        if ((rc = cfgfile_override(&cfg, a, e)) < 0)
            err_prefix(e, "%s: sweep.base", s->origin);
        free(a);
    }
    for (unsigned k = 0; rc == 0 && k < s->n_axes; k++) {
        const sweep_axis *ax = &s->axes[k];
        if (strncmp(ax->path, "arch.", 5) != 0)
            continue;
        for (unsigned i = 0; rc == 0 && i < ax->n; i++) {
            char *a = assign_text(ax->path, ax->values[i].text);
            rc = cfgfile_override(&cfg, a, e);
            free(a);
            if (rc < 0)
                err_prefix(e, "%s:%u: sweep.axes.[%u]", s->origin, ax->line, k);
        }
    }
    config_destroy(&cfg);
    return rc;
}

/* Every network the sweep names (base and axis values) must be a readable file or a built-in
 * network: a missing one is the sweep file's error, not a failure at every point. */
static int check_network_name(const sweep_spec *s, const char *name, const char *where,
                              unsigned line, err *e)
{
    char buf[1024];
    const char *path = cli_resolve(name, s->origin, "net", buf, sizeof buf);
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        return 0;
    }
    return err_set(e, ERR_INPUT,
                   "%s:%u: %s: found \"%.64s\", expected a network file or a built-in network of "
                   "configs/net/ (%s cannot be read)",
                   s->origin, line, where, name, path);
}

static int check_networks(const sweep_spec *s, const config_setting_t *root, err *e)
{
    const char *base = base_value(s, "network");
    if (base)
        ERR_TRY(check_network_name(s, base, "sweep.base.network", cfgfile_line_of(root), e));
    for (unsigned k = 0; k < s->n_axes; k++) {
        if (strcmp(s->axes[k].path, "network") != 0)
            continue;
        char where[64];
        snprintf(where, sizeof where, "sweep.axes.[%u].values", k);
        for (unsigned i = 0; i < s->axes[k].n; i++)
            ERR_TRY(check_network_name(s, s->axes[k].values[i].text, where, s->axes[k].line, e));
    }
    return 0;
}

/* ---- the file ------------------------------------------------------------------------------ */

static int read_metrics(sweep_spec *s, const config_setting_t *g, err *e)
{
    const config_setting_t *list = config_setting_get_member(g, "metrics");
    if (!list) {
        for (unsigned m = 0; m < POINT_METRIC_COUNT; m++)
            if (point_metric_of((point_metric)m, s->job)) {
                s->metrics = mem_realloc(s->metrics, s->n_metrics + 1, sizeof *s->metrics, "m");
                s->metrics[s->n_metrics++] = (point_metric)m;
            }
        return 0;
    }
    if (!config_setting_is_array(list) && !config_setting_is_list(list))
        return fail(e, s, list, "sweep.metrics", "expected a list of metric names");
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *v = config_setting_get_elem(list, (unsigned)i);
        const char *name = config_setting_get_string(v);
        point_metric m;
        char what[1400];
        if (!name || point_metric_parse(name, &m) < 0 || !point_metric_of(m, s->job)) {
            int n =
                snprintf(what, sizeof what,
                         "found %s%s%s, expected one of the %s job's:", name ? "'" : "a non-string",
                         name ? name : "", name ? "'" : "", point_job_name(s->job));
            for (unsigned k = 0; k < POINT_METRIC_COUNT && n > 0 && (size_t)n < sizeof what; k++)
                if (point_metric_of((point_metric)k, s->job))
                    n += snprintf(what + n, sizeof what - (size_t)n, " %s",
                                  point_metric_name((point_metric)k));
            return fail(e, s, v, "sweep.metrics", what);
        }
        for (unsigned k = 0; k < s->n_metrics; k++)
            if (s->metrics[k] == m)
                return fail(e, s, v, "sweep.metrics", "a metric listed twice");
        s->metrics = mem_realloc(s->metrics, s->n_metrics + 1, sizeof *s->metrics, "metrics");
        s->metrics[s->n_metrics++] = m;
    }
    if (s->n_metrics == 0)
        return fail(e, s, list, "sweep.metrics", "found an empty list, expected metric names");
    /* An accuracy always travels with whether it is the proxy's estimate, so that every table and
     * figure made from the file can say so. */
    bool acc = false, flag = false;
    for (unsigned k = 0; k < s->n_metrics; k++) {
        acc = acc || s->metrics[k] == POINT_METRIC_ACCURACY;
        flag = flag || s->metrics[k] == POINT_METRIC_ACCURACY_ESTIMATE;
    }
    if (acc && !flag) {
        s->metrics = mem_realloc(s->metrics, s->n_metrics + 1, sizeof *s->metrics, "metrics");
        s->metrics[s->n_metrics++] = POINT_METRIC_ACCURACY_ESTIMATE;
    }
    return 0;
}

static int count_points(sweep_spec *s, const config_setting_t *g, err *e)
{
    if (s->n_axes == 0) {
        s->points = 1;
        return 0;
    }
    if (s->combine == SWEEP_ZIP) {
        for (unsigned k = 1; k < s->n_axes; k++)
            if (s->axes[k].n != s->axes[0].n) {
                char what[160];
                snprintf(what, sizeof what,
                         "zipped axes differ in length: %u values, axis 0 has %u", s->axes[k].n,
                         s->axes[0].n);
                err_set(e, ERR_INPUT, "%s:%u: sweep.axes.[%u]: %s", s->origin, s->axes[k].line, k,
                        what);
                return ERR_INPUT;
            }
        s->points = s->axes[0].n;
        return 0;
    }
    uint64_t n = 1;
    for (unsigned k = 0; k < s->n_axes; k++) {
        if (s->axes[k].link) {
            if (s->axes[k].n != s->axes[k - 1].n)
                return err_set(e, ERR_INPUT,
                               "%s:%u: sweep.axes.[%u]: a linked axis has %u values, the axis "
                               "before it %u: expected as many",
                               s->origin, s->axes[k].line, k, s->axes[k].n, s->axes[k - 1].n);
            continue;
        }
        n *= s->axes[k].n;
        if (n > SWEEP_MAX_POINTS)
            return fail(e, s, g, "sweep.axes", "more than 100 000 000 points");
    }
    s->points = n;
    return 0;
}

static void make_canonical(sweep_spec *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        mem_oom(0, "sweep text");
    fprintf(f, "job = %s\ncombine = %s\n", point_job_name(s->job),
            s->combine == SWEEP_ZIP ? "zip" : "product");
    for (unsigned i = 0; i < s->n_base; i++)
        fprintf(f, "base %s = %s\n", s->base[i].path, s->base[i].text);
    for (unsigned k = 0; k < s->n_axes; k++) {
        fprintf(f, "axis %s%s =", s->axes[k].path, s->axes[k].link ? " (linked)" : "");
        for (unsigned i = 0; i < s->axes[k].n; i++)
            fprintf(f, "%s %s", i ? "," : "", s->axes[k].values[i].text);
        fputc('\n', f);
    }
    fprintf(f, "metrics =");
    for (unsigned m = 0; m < s->n_metrics; m++)
        fprintf(f, " %s", point_metric_name(s->metrics[m]));
    fputc('\n', f);
    fclose(f);
    s->canonical = text;
    /* The id covers what the points read, not only the sweep file: the files its arch, network,
     * policy and replication values name, and the xbarsim version, so that a rerun after any of
     * them changed starts afresh instead of resuming from points priced on the old inputs. */
    uint64_t h = fnv1a(fnv1a(FNV_OFFSET, text), XBARSIM_VERSION);
    for (unsigned i = 0; i < s->n_base; i++)
        h = hash_named_file(h, s, s->base[i].path, s->base[i].text);
    for (unsigned k = 0; k < s->n_axes; k++)
        for (unsigned i = 0; i < s->axes[k].n; i++)
            h = hash_named_file(h, s, s->axes[k].path, s->axes[k].values[i].text);
    s->id = h;
}

static int read_sweep(sweep_spec *s, config_t *cfg, err *e)
{
    const config_setting_t *root = config_root_setting(cfg);
    const config_setting_t *g = config_lookup(cfg, "sweep");
    if (!g || !config_setting_is_group(g))
        return fail(e, s, g ? g : root, "sweep", "missing: expected a group sweep = { ... }");
    static const char *const keys[] = {"job", "combine", "base", "axes", "metrics"};
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *v = config_setting_get_elem(g, (unsigned)i);
        bool known = false;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            known = known || strcmp(config_setting_name(v), keys[k]) == 0;
        if (!known) {
            char path[160];
            snprintf(path, sizeof path, "sweep.%s", config_setting_name(v));
            return fail(e, s, v, path,
                        "unknown setting, expected job, combine, base, axes or "
                        "metrics");
        }
    }
    const char *job = "map", *combine = "product";
    config_setting_lookup_string(g, "job", &job);
    if (point_job_parse(job, &s->job) < 0)
        return fail(e, s, g, "sweep.job", "expected map, run, replicate or search");
    config_setting_lookup_string(g, "combine", &combine);
    if (strcmp(combine, "product") != 0 && strcmp(combine, "zip") != 0)
        return fail(e, s, g, "sweep.combine", "expected \"product\" or \"zip\"");
    s->combine = strcmp(combine, "zip") == 0 ? SWEEP_ZIP : SWEEP_PRODUCT;
    const config_setting_t *base = config_setting_get_member(g, "base");
    if (base) {
        if (!config_setting_is_group(base))
            return fail(e, s, base, "sweep.base", "expected a group of settings");
        ERR_TRY(read_base_group(s, base, "", e));
        for (unsigned i = 0; i < s->n_base; i++) {
            err pe;
            if (point_setting_check(s->base[i].path, s->base[i].text, &pe) < 0)
                return fail(e, s, base, "sweep.base", pe.msg);
        }
    }
    const config_setting_t *axes = config_setting_get_member(g, "axes");
    if (axes) {
        if (!config_setting_is_list(axes))
            return fail(e, s, axes, "sweep.axes", "expected a list ( { path; values; }, ... )");
        s->n_axes = (unsigned)config_setting_length(axes);
        s->axes = mem_calloc(s->n_axes ? s->n_axes : 1, sizeof *s->axes, "sweep axes");
        for (unsigned k = 0; k < s->n_axes; k++) {
            ERR_TRY(read_axis(s, &s->axes[k], config_setting_get_elem(axes, k), k, e));
            for (unsigned j = 0; j < k; j++)
                if (strcmp(s->axes[j].path, s->axes[k].path) == 0)
                    return err_set(e, ERR_INPUT,
                                   "%s:%u: sweep.axes.[%u].path: found \"%s\" again (axis %u, "
                                   "line %u), expected each setting on one axis only",
                                   s->origin, s->axes[k].line, k, s->axes[k].path, j,
                                   s->axes[j].line);
        }
    }
    ERR_TRY(read_metrics(s, g, e));
    ERR_TRY(count_points(s, g, e));
    ERR_TRY(check_arch_paths(s, g, e));
    ERR_TRY(check_networks(s, g, e));
    if (s->n_axes == 0)
        return fail(e, s, axes ? axes : g, "sweep.axes",
                    "found no axis, expected a list ( { path; values; }, ... ) of at least one "
                    "axis (a single point is `xbarsim map` or `xbarsim run`)");
    make_canonical(s);
    return 0;
}

int sweep_spec_load(const char *path, sweep_spec *out, err *e)
{
    memset(out, 0, sizeof *out);
    out->origin = mem_strdup(path, "sweep origin");
    const char *slash = strrchr(path, '/');
    out->dir = slash ? strndup(path, (size_t)(slash - path)) : mem_strdup(".", "sweep dir");
    if (!out->dir)
        mem_oom(0, "sweep dir");
    config_t cfg;
    int rc = cfgfile_parse_file(path, &cfg, e);
    if (rc < 0) {
        sweep_spec_fini(out);
        return rc;
    }
    rc = read_sweep(out, &cfg, e);
    config_destroy(&cfg);
    if (rc < 0)
        sweep_spec_fini(out);
    return rc;
}

void sweep_spec_fini(sweep_spec *s)
{
    for (unsigned i = 0; i < s->n_base; i++) {
        free((char *)s->base[i].path);
        free((char *)s->base[i].text);
    }
    free(s->base);
    for (unsigned k = 0; k < s->n_axes; k++) {
        for (unsigned i = 0; i < s->axes[k].n; i++)
            free(s->axes[k].values[i].text);
        free(s->axes[k].values);
        free(s->axes[k].path);
    }
    free(s->axes);
    free(s->metrics);
    free(s->canonical);
    free(s->origin);
    free(s->dir);
    memset(s, 0, sizeof *s);
}

/* ---- points --------------------------------------------------------------------------------- */

unsigned sweep_point_value(const sweep_spec *s, uint64_t k, unsigned a)
{
    if (s->combine == SWEEP_ZIP)
        return (unsigned)k;
    uint64_t stride = 1;
    for (unsigned b = a + 1; b < s->n_axes; b++)
        if (!s->axes[b].link)
            stride *= s->axes[b].n;
    return (unsigned)((k / stride) % s->axes[a].n);
}

unsigned sweep_point_settings(const sweep_spec *s, uint64_t k, point_setting *out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < s->n_base; i++)
        out[n++] = s->base[i];
    for (unsigned a = 0; a < s->n_axes; a++)
        out[n++] =
            (point_setting){s->axes[a].path, s->axes[a].values[sweep_point_value(s, k, a)].text};
    return n;
}

int sweep_shard_parse(const char *s, unsigned *i, unsigned *n)
{
    char *end;
    unsigned long a = strtoul(s, &end, 10);
    if (end == s || *end != '/')
        return -1;
    const char *t = end + 1;
    unsigned long b = strtoul(t, &end, 10);
    if (end == t || *end || b == 0 || a >= b || b > 1000000)
        return -1;
    *i = (unsigned)a;
    *n = (unsigned)b;
    return 0;
}
