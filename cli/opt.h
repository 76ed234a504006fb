/* opt: the one option parser of the xbarsim subcommands. A command declares a const table of
 * typed options (flag, string, integer or real in a range, a name from a list, a repeatable
 * string) and its positional arguments; opt_parse fills the command's options struct from argv
 * and opt_help prints `--help` from the same table, so the parser and the help cannot drift.
 * Invariant: every refusal is one line "xbarsim CMD: ..." on stderr and the command exits 2.
 */
#ifndef XBARSIM_CLI_OPT_H
#define XBARSIM_CLI_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum opt_kind {
    OPT_KIND_FLAG,   /* bool: given or not */
    OPT_KIND_STRING, /* const char *: the argument as it is (not copied) */
    OPT_KIND_INT,    /* long long in lo..hi */
    OPT_KIND_REAL,   /* double in rlo..rhi, finite */
    OPT_KIND_ENUM,   /* int: the index of the name in the names list */
    OPT_KIND_LIST    /* const char *[max] and an unsigned count: a repeatable string */
} opt_kind;

/* The i-th name of an enum option's list (static storage), NULL past the last. */
typedef const char *(*opt_names_fn)(unsigned i);

/* One option. Build rows with the OPT_* macros below; tails may add .required or .group. */
typedef struct opt_spec {
    const char *name;    /* "--net", "-o" */
    opt_kind kind;       /* what the value is and where it goes */
    size_t offset;       /* of the value in the command's options struct, bytes */
    const char *metavar; /* the value's name in the help; NULL for flags and enums */
    const char *help;    /* lines separated by '\n', without the indentation */
    long long lo, hi;    /* OPT_KIND_INT: the accepted range */
    double rlo, rhi;     /* OPT_KIND_REAL: the accepted range */
    opt_names_fn names;  /* OPT_KIND_ENUM: the accepted names */
    unsigned max;        /* OPT_KIND_LIST: capacity of the array, count */
    size_t count_offset; /* OPT_KIND_LIST: of the unsigned count, bytes */
    bool required;       /* the command needs it */
    unsigned group;      /* nonzero: options of one group exclude each other */
} opt_spec;

#define OPT_FLAG(nm, T, f, hl, ...)                                                                \
    {                                                                                              \
        .name = nm, .kind = OPT_KIND_FLAG, .offset = offsetof(T, f), .help = hl, __VA_ARGS__       \
    }
#define OPT_STR(nm, mv, T, f, hl, ...)                                                             \
    {                                                                                              \
        .name = nm, .kind = OPT_KIND_STRING, .offset = offsetof(T, f), .metavar = mv, .help = hl,  \
        __VA_ARGS__                                                                                \
    }
#define OPT_INT(nm, mv, T, f, l, h, hl, ...)                                                       \
    {                                                                                              \
        .name = nm, .kind = OPT_KIND_INT, .offset = offsetof(T, f), .metavar = mv, .help = hl,     \
        .lo = l, .hi = h, __VA_ARGS__                                                              \
    }
#define OPT_REAL(nm, mv, T, f, l, h, hl, ...)                                                      \
    {                                                                                              \
        .name = nm, .kind = OPT_KIND_REAL, .offset = offsetof(T, f), .metavar = mv, .help = hl,    \
        .rlo = l, .rhi = h, __VA_ARGS__                                                            \
    }
#define OPT_ENUM(nm, fn, T, f, hl, ...)                                                            \
    {                                                                                              \
        .name = nm, .kind = OPT_KIND_ENUM, .offset = offsetof(T, f), .help = hl, .names = fn,      \
        __VA_ARGS__                                                                                \
    }
#define OPT_LIST(nm, mv, T, f, n, hl, ...)                                                         \
    {                                                                                              \
        .name = nm, .kind = OPT_KIND_LIST, .offset = offsetof(T, f), .metavar = mv, .help = hl,    \
        .max = sizeof(((T *)0)->f) / sizeof(((T *)0)->f[0]), .count_offset = offsetof(T, n),       \
        __VA_ARGS__                                                                                \
    }

/* Define `static const char *fn(unsigned i)`: the names of an X-macro registry with COUNT
 * entries and a name function, for OPT_ENUM. */
#define OPT_NAMES(fn, type, count, name_fn)                                                        \
    static const char *fn(unsigned i)                                                              \
    {                                                                                              \
        return i < (unsigned)(count) ? name_fn((type)i) : NULL;                                    \
    }

/* A command: its options and positional arguments, and the prose of its help. */
typedef struct opt_command {
    const char *name;     /* "map" */
    const char *args;     /* the positional arguments' name, e.g. "CONFIG"; NULL: none */
    unsigned args_min;    /* positional arguments required, count */
    unsigned args_max;    /* accepted, count */
    const char *about;    /* what the command does: printed after the usage line */
    const char *after;    /* printed after the options (exit status, notes); may be NULL */
    const opt_spec *opts; /* the table */
    size_t n_opts;        /* its rows */
} opt_command;

#define OPT_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* The positional arguments found, in order (pointers into argv). */
typedef struct opt_args {
    const char **v; /* owned: opt_args_fini */
    unsigned n;     /* count */
} opt_args;

/* Parse argv[1 .. argc-1] (argv[0] is the command's name) into values (the options struct the
 * table's offsets point into; fields of options not given keep what the caller put there) and
 * args. Returns 0 parsed; 1 `--help` or `-h` was given and the help is printed on stdout (exit
 * 0); -1 after printing the refusal on stderr (exit 2): an unknown option, a missing or malformed
 * value ("xbarsim CMD: OPT: found 'S', expected ..."), an option given twice, options of one
 * group together, a missing required option or argument, an extra argument. args is always
 * initialised: opt_args_fini it. */
int opt_parse(const opt_command *c, int argc, char **argv, void *values, opt_args *args);
void opt_args_fini(opt_args *args);

/* opt_parse for a command with at most one positional argument, put in *arg (NULL: none; arg
 * may be NULL when the command takes none). Returns OPT_GO to go on, or the exit status to
 * return at once: 0 after --help, 2 after a refusal. */
#define OPT_GO (-1)
int opt_parse_arg(const opt_command *c, int argc, char **argv, void *values, const char **arg);

/* Print the help of c: the usage line generated from the table, c->about, one entry per option
 * (name, value, help), c->after. */
void opt_help(const opt_command *c, FILE *out);

/* The names of a list as text, "a, b or c" (between ", ", last " or ") or "a|b|c", into buf. */
void opt_names_text(opt_names_fn names, const char *between, const char *last, char *buf,
                    size_t size);
/* The index of s in the list, or -1. */
int opt_names_find(opt_names_fn names, const char *s);

/* Options shared by several commands' tables: the names of on/off values (0 off, 1 on). */
const char *opt_onoff_name(unsigned i);

#endif
