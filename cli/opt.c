/* opt: the table-driven option parser and the help it generates (see opt.h). Numbers are strict:
 * no blanks, no trailing characters, no overflow, inside the row's range. Invariant: opt_parse
 * and opt_help read the same rows, so whatever the parser accepts the help lists, and only that.
 */
#include "opt.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define USAGE_WIDTH 98 /* columns of a usage line before it wraps */
#define HELP_COLUMN 22 /* where option help starts, columns */

const char *opt_onoff_name(unsigned i)
{
    static const char *const names[] = {"off", "on"};
    return i < 2 ? names[i] : NULL;
}

static void *field(void *values, size_t offset)
{
    return (char *)values + offset;
}

void opt_names_text(opt_names_fn names, const char *between, const char *last, char *buf,
                    size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned i = 0; names(i) && len < size; i++) {
        const char *sep = i == 0 ? "" : names(i + 1) ? between : last;
        len += (size_t)snprintf(buf + len, size - len, "%s%s", sep, names(i));
    }
}

int opt_names_find(opt_names_fn names, const char *s)
{
    for (unsigned i = 0; names(i); i++)
        if (strcmp(s, names(i)) == 0)
            return (int)i;
    return -1;
}

/* The value's name: the metavar, or the names joined by '|'. */
static void value_name(const opt_spec *o, char *buf, size_t size)
{
    if (o->kind == OPT_KIND_ENUM)
        opt_names_text(o->names, "|", "|", buf, size);
    else
        snprintf(buf, size, "%s", o->metavar ? o->metavar : "");
}

static bool takes_value(const opt_spec *o)
{
    return o->kind != OPT_KIND_FLAG;
}

/* The row naming arg: exactly, or a one-letter option with its value attached ("-j2"). */
static const opt_spec *find(const opt_command *c, const char *arg, const char **attached)
{
    *attached = NULL;
    for (size_t k = 0; k < c->n_opts; k++)
        if (strcmp(arg, c->opts[k].name) == 0)
            return &c->opts[k];
    for (size_t k = 0; k < c->n_opts; k++) {
        const opt_spec *o = &c->opts[k];
        if (takes_value(o) && o->name[0] == '-' && o->name[1] != '-' && o->name[2] == '\0' &&
            strncmp(arg, o->name, 2) == 0) {
            *attached = arg + 2;
            return o;
        }
    }
    return NULL;
}

static bool is_option(const char *arg)
{
    return arg[0] == '-' && arg[1] != '\0';
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Whether --help stands where an option may (not as another option's value). */
static bool wants_help(const opt_command *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i]))
            return true;
        const char *attached;
        const opt_spec *o = is_option(argv[i]) ? find(c, argv[i], &attached) : NULL;
        if (o && takes_value(o) && !attached)
            i++;
    }
    return false;
}

static int refuse(const opt_command *c, const opt_spec *o, const char *s, const char *expected)
{
    fprintf(stderr, "xbarsim %s: %s: found '%s', expected %s\n", c->name, o->name, s, expected);
    return -1;
}

/* Integers: strtoll skips leading blanks, so " 3" is refused like "3 " (issue 20). */
static int parse_int(const opt_command *c, const opt_spec *o, const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || isspace((unsigned char)*s) || *end || errno || v < o->lo || v > o->hi) {
        char want[96];
        snprintf(want, sizeof want, "an integer in %lld..%lld", o->lo, o->hi);
        return refuse(c, o, s, want);
    }
    *out = v;
    return 0;
}

static int parse_real(const opt_command *c, const opt_spec *o, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || isspace((unsigned char)*s) || *end || errno || !isfinite(v) || !(v >= o->rlo) ||
        !(v <= o->rhi)) {
        char want[96];
        snprintf(want, sizeof want, "a number in %g..%g", o->rlo, o->rhi);
        return refuse(c, o, s, want);
    }
    *out = v;
    return 0;
}

static int parse_enum(const opt_command *c, const opt_spec *o, const char *s, int *out)
{
    int k = opt_names_find(o->names, s);
    if (k >= 0) {
        *out = k;
        return 0;
    }
    char want[512];
    opt_names_text(o->names, ", ", " or ", want, sizeof want);
    return refuse(c, o, s, want);
}

static int store(const opt_command *c, const opt_spec *o, const char *s, void *values)
{
    void *dst = field(values, o->offset);
    switch (o->kind) {
    case OPT_KIND_FLAG:
        *(bool *)dst = true;
        return 0;
    case OPT_KIND_STRING:
        *(const char **)dst = s;
        return 0;
    case OPT_KIND_INT:
        return parse_int(c, o, s, dst);
    case OPT_KIND_REAL:
        return parse_real(c, o, s, dst);
    case OPT_KIND_ENUM:
        return parse_enum(c, o, s, dst);
    case OPT_KIND_LIST: {
        unsigned *n = field(values, o->count_offset);
        if (*n == o->max) {
            fprintf(stderr, "xbarsim %s: %s: given more than %u times, expected at most %u\n",
                    c->name, o->name, o->max, o->max);
            return -1;
        }
        ((const char **)dst)[(*n)++] = s;
        return 0;
    }
    }
    return -1;
}

/* After the arguments: required ones present, one option of each group at most. */
static int check_complete(const opt_command *c, const int *given, unsigned n_args)
{
    bool missing = n_args < c->args_min;
    for (size_t k = 0; k < c->n_opts; k++) {
        missing = missing || (c->opts[k].required && !given[k]);
        for (size_t j = k + 1; c->opts[k].group && given[k] && j < c->n_opts; j++)
            if (c->opts[j].group == c->opts[k].group && given[j]) {
                fprintf(stderr, "xbarsim %s: %s and %s exclude each other\n", c->name,
                        c->opts[k].name, c->opts[j].name);
                return -1;
            }
    }
    if (!missing)
        return 0;
    const char *what[64];
    unsigned n = 0;
    if (c->args_min)
        what[n++] = c->args;
    for (size_t k = 0; k < c->n_opts && n < 64; k++)
        if (c->opts[k].required)
            what[n++] = c->opts[k].name;
    fprintf(stderr, "xbarsim %s: expected ", c->name);
    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " and ", what[i]);
    fprintf(stderr, " (see --help)\n");
    return -1;
}

static int unknown(const opt_command *c, const char *arg)
{
    fprintf(stderr, "xbarsim %s: found option '%s', expected one of", c->name, arg);
    for (size_t k = 0; k < c->n_opts; k++)
        fprintf(stderr, "%s %s", k ? "," : "", c->opts[k].name);
    fprintf(stderr, "%s (see --help)\n", c->n_opts ? "" : " none");
    return -1;
}

/* One option at argv[*i] (advanced past its value); given counts and places each row. */
static int take_option(const opt_command *c, int argc, char **argv, int *i, int *given, int *first,
                       void *values)
{
    const char *a = argv[*i], *attached;
    const opt_spec *o = find(c, a, &attached);
    if (!o)
        return unknown(c, a);
    size_t k = (size_t)(o - c->opts);
    if (given[k]++ && o->kind != OPT_KIND_LIST) {
        fprintf(stderr, "xbarsim %s: %s: given twice (arguments %d and %d), expected once\n",
                c->name, o->name, first[k], *i);
        return -1;
    }
    first[k] = given[k] == 1 ? *i : first[k];
    const char *v = attached;
    if (takes_value(o) && !v) {
        if (*i + 1 >= argc) {
            char want[512];
            value_name(o, want, sizeof want);
            fprintf(stderr, "xbarsim %s: %s: found nothing, expected %s\n", c->name, o->name, want);
            return -1;
        }
        v = argv[++*i];
    }
    return store(c, o, v, values);
}

int opt_parse(const opt_command *c, int argc, char **argv, void *values, opt_args *args)
{
    args->v = mem_calloc((size_t)argc + 1, sizeof *args->v, "positional arguments");
    args->n = 0;
    if (wants_help(c, argc, argv)) {
        opt_help(c, stdout);
        return 1;
    }
    int *given = mem_calloc(c->n_opts + 1, sizeof *given, "options given");
    int *first = mem_calloc(c->n_opts + 1, sizeof *first, "options given");
    int rc = 0;
    bool only_args = false;
    for (int i = 1; i < argc && rc == 0; i++) {
        if (!only_args && strcmp(argv[i], "--") == 0) {
            only_args = true;
        } else if (!only_args && is_option(argv[i])) {
            rc = take_option(c, argc, argv, &i, given, first, values);
        } else if (args->n < c->args_max) {
            args->v[args->n++] = argv[i];
        } else {
            fprintf(stderr, "xbarsim %s: unexpected argument '%s' (see --help)\n", c->name,
                    argv[i]);
            rc = -1;
        }
    }
    if (rc == 0)
        rc = check_complete(c, given, args->n);
    free(given);
    free(first);
    return rc;
}

void opt_args_fini(opt_args *args)
{
    free(args->v);
    args->v = NULL;
    args->n = 0;
}

int opt_parse_arg(const opt_command *c, int argc, char **argv, void *values, const char **arg)
{
    opt_args args;
    int rc = opt_parse(c, argc, argv, values, &args);
    if (arg)
        *arg = args.v[0];
    opt_args_fini(&args);
    return rc == 0 ? OPT_GO : rc > 0 ? 0 : 2;
}

/* ---- help ------------------------------------------------------------------------------------ */

/* "--net NAME|FILE", "--csv", "--placement groups|packed". */
static void entry(const opt_spec *o, char *buf, size_t size)
{
    char v[512];
    value_name(o, v, sizeof v);
    snprintf(buf, size, "%s%s%s", o->name, takes_value(o) ? " " : "", takes_value(o) ? v : "");
}

/* Append one usage token, wrapping under the first one after the command's name. */
static void usage_token(FILE *out, const char *tok, size_t indent, size_t *col)
{
    if (*col + 1 + strlen(tok) > USAGE_WIDTH && *col > indent) {
        fprintf(out, "\n%*s", (int)indent, "");
        *col = indent;
    } else {
        fputc(' ', out);
        (*col)++;
    }
    fputs(tok, out);
    *col += strlen(tok);
}

static void usage_line(const opt_command *c, FILE *out)
{
    size_t col = (size_t)fprintf(out, "usage: xbarsim %s", c->name), indent = col + 1;
    char tok[1024], e[600];
    if (c->args) {
        snprintf(tok, sizeof tok, "%s%s%s%s", c->args_min ? "" : "[", c->args,
                 c->args_min ? "" : "]", c->args_max > 1 ? "..." : "");
        usage_token(out, tok, indent, &col);
    }
    for (size_t k = 0; k < c->n_opts; k++) {
        const opt_spec *o = &c->opts[k];
        entry(o, e, sizeof e);
        if (o->group) { /* [--a | --b | ...]: the rows of the group that follow this one */
            if (k > 0 && c->opts[k - 1].group == o->group)
                continue;
            size_t len = (size_t)snprintf(tok, sizeof tok, "[%s", e);
            for (size_t j = k + 1; j < c->n_opts && c->opts[j].group == o->group; j++) {
                entry(&c->opts[j], e, sizeof e);
                len += (size_t)snprintf(tok + len, len < sizeof tok ? sizeof tok - len : 0, " | %s",
                                        e);
            }
            snprintf(tok + len, len < sizeof tok ? sizeof tok - len : 0, "]");
        } else {
            snprintf(tok, sizeof tok, "%s%s%s%s", o->required ? "" : "[", e, o->required ? "" : "]",
                     o->kind == OPT_KIND_LIST ? "..." : "");
        }
        usage_token(out, tok, indent, &col);
    }
    fputc('\n', out);
}

static void option_entry(const opt_spec *o, FILE *out)
{
    char e[600];
    entry(o, e, sizeof e);
    int w = fprintf(out, "  %s", e);
    const char *h = o->help ? o->help : "";
    if (w + 2 > HELP_COLUMN) {
        fputc('\n', out);
        w = 0;
    }
    while (*h) {
        size_t n = strcspn(h, "\n");
        fprintf(out, "%*s%.*s\n", HELP_COLUMN - w, "", (int)n, h);
        w = 0;
        h += n + (h[n] == '\n');
    }
    if (!o->help || !*o->help)
        fputc('\n', out);
}

void opt_help(const opt_command *c, FILE *out)
{
    usage_line(c, out);
    if (c->about)
        fprintf(out, "\n%s", c->about);
    fprintf(out, "\n");
    for (size_t k = 0; k < c->n_opts; k++)
        option_entry(&c->opts[k], out);
    if (c->after)
        fprintf(out, "\n%s", c->after);
}
