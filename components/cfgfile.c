/* cfgfile: the lexical pre-scan of a config text (cfgfile.h), run before libconfig 1.5
 * parses it, and the parse itself. The scan walks the text with libconfig's own token rules
 * (comments, strings, names, numbers, includes), so what it reports is exactly what that parser
 * would silently get wrong: integer literals it truncates, and the first string token it would
 * leak. Nothing here knows a schema: arch.c and mapper/network.c both parse through it.
 */
#include "cfgfile.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"

#define PATH_BYTES  256
#define MAX_INCLUDE 10 /* include nesting, as libconfig */

#define SCAN_NEST 32 /* group nesting the setting path records */

/* Why the scan exists: libconfig 1.5 (Debian 12) reads an integer literal beyond 32 bits without
 * the L suffix truncated (4294967296 reads as 0), so range checks would pass on a wrong value; and
 * when its parser stops at a string token its grammar cannot take (anywhere but after `=`/`:`,
 * `[`, `(`, another string, or a `,` inside [ ] or ( )) it leaks that token's buffer. */

/* An open bracket; for a list or an array, its name and the index of its current element (so a
 * group inside a list is named like `network.layers.[3]`). */
typedef struct bracket {
    char ch;       /* { [ ( */
    size_t index;  /* elements before the current one, count */
    char name[64]; /* setting name of a list or array opened after `=`, else empty */
} bracket;

typedef struct scan {
    err *e;
    const char *file;      /* name for messages */
    const char *incdir;    /* directory includes are resolved in; NULL: includes are rejected */
    int depth;             /* include nesting */
    char path[PATH_BYTES]; /* dotted names of the enclosing groups */
    size_t mark[SCAN_NEST];
    int nest;
    char last[64]; /* latest setting name */
    char prev;     /* class of the latest token: = [ ( , { } ] ) s (string) or x (other) */
    bracket *open; /* the open brackets, innermost last; owned */
    size_t nopen, capopen;
    bool has_cut; /* a string at text[cut] that libconfig's grammar cannot take */
    size_t cut;
} scan;

static int scan_text(scan *sc, const char *text, size_t len);

static int scan_fail(const scan *sc, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int scan_fail(const scan *sc, unsigned line, const char *fmt, ...)
{
    char what[ERR_MSG_BYTES], path[PATH_BYTES * 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (sc->last[0])
        snprintf(path, sizeof path, "%s%s%s", sc->path, sc->path[0] ? "." : "", sc->last);
    else
        snprintf(path, sizeof path, "%s", sc->path[0] ? sc->path : "(top level)");
    return err_set(sc->e, ERR_INPUT, "%s:%u: %s: %s", sc->file, line, path, what);
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static bool is_name_start(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '*';
}

/* s[0..n) equals the lower-case word w, ignoring ASCII case (libconfig's true / false). */
static bool same_nocase(const char *s, const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != w[i])
            return false;
    }
    return true;
}

static bool is_name_char(char ch)
{
    return is_name_start(ch) || is_digit(ch) || ch == '-' || ch == '_';
}

/* Reads a file whole (at most MAX_FILE_BYTES); returns NULL with errno set on failure. */
char *cfgfile_read_text(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = mem_alloc(cap + 1, "config text");
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap) {
            if (ferror(fp)) {
                int saved = errno ? errno : EIO;
                free(buf);
                fclose(fp);
                errno = saved;
                return NULL;
            }
            break;
        }
        if (cap >= (size_t)CFGFILE_MAX_FILE_BYTES) {
            free(buf);
            fclose(fp);
            errno = EFBIG;
            return NULL;
        }
        cap *= 2;
        buf = mem_realloc(buf, cap + 1, 1, "config text");
    }
    fclose(fp);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The @include directive at text[i] (already matched up to the opening quote at text[q]). */
static int scan_include(scan *sc, const char *text, size_t len, size_t q, size_t *end,
                        unsigned line)
{
    if (!sc->incdir)
        return scan_fail(sc, line,
                         "found @include, expected the settings inline (a config held in memory "
                         "cannot include files)");
    /* name: \\ and \" unescaped; bare: every backslash dropped, as a scanner that keeps the
     * character after an unknown escape reads it (fuzz_policy: "\//" is the directory "//"). */
    char name[PATH_BYTES], bare[PATH_BYTES];
    size_t n = 0, nb = 0, i = q + 1;
    for (; i < len && text[i] != '"'; i++) {
        char ch = text[i];
        if (ch == '\\' && i + 1 < len && (text[i + 1] == '\\' || text[i + 1] == '"'))
            ch = text[++i];
        if (n + 1 < sizeof name)
            name[n++] = ch;
        if (text[i] != '\\' && nb + 1 < sizeof bare)
            bare[nb++] = text[i];
    }
    name[n] = '\0';
    bare[nb] = '\0';
    *end = i < len ? i + 1 : i;
    if (sc->depth >= MAX_INCLUDE)
        return 0; /* libconfig reports the nesting itself */
    char full[PATH_BYTES * 2];
    snprintf(full, sizeof full, "%s/%s", sc->incdir, name); /* as libconfig 1.5 resolves it */
    /* libconfig's scanner exits the process on an include it opens but cannot read (an empty
     * name resolves to the directory itself): refuse those here, with the line. */
    struct stat st;
    if (!*name)
        return scan_fail(sc, line, "found @include \"\", expected the name of a file to include");
    char alt[PATH_BYTES * 2];
    snprintf(alt, sizeof alt, "%s/%s", sc->incdir, bare);
    if ((stat(full, &st) == 0 && !S_ISREG(st.st_mode)) ||
        (stat(alt, &st) == 0 && !S_ISREG(st.st_mode)))
        return scan_fail(sc, line,
                         "found @include \"%.64s\", which is not a regular file (%s), "
                         "expected the name of a file to include",
                         name, full);
    size_t flen;
    char *sub = cfgfile_read_text(full, &flen);
    if (!sub)
        return 0; /* libconfig reports an unreadable include with its own file:line */
    /* libconfig splices the included tokens into the stream: scan them in the same state. */
    const char *outer = sc->file;
    sc->file = full;
    sc->depth++;
    int rc = scan_text(sc, sub, flen);
    sc->depth--;
    sc->file = outer;
    free(sub);
    return rc;
}

/* Checks the integer literal at text[i] (sign included); *end is one past it. */
static int scan_number(scan *sc, const char *text, size_t len, size_t i, size_t *end, unsigned line)
{
    size_t j = i;
    bool neg = false;
    if (text[j] == '+' || text[j] == '-')
        neg = text[j++] == '-';
    if (j + 2 < len && text[j] == '0' && (text[j + 1] == 'x' || text[j + 1] == 'X') &&
        hexval(text[j + 2]) >= 0 && j == i) {
        /* hex: 32-bit two's complement bit pattern without L, 64-bit with L */
        unsigned long long v = 0;
        bool over = false;
        size_t k = j + 2;
        for (; k < len && hexval(text[k]) >= 0; k++) {
            if (v >> 60)
                over = true;
            v = v << 4 | (unsigned)hexval(text[k]);
        }
        bool l64 = k < len && text[k] == 'L';
        size_t stop = k + (l64 ? (k + 1 < len && text[k + 1] == 'L' ? 2 : 1) : 0);
        *end = stop;
        if (over || (l64 ? v > (unsigned long long)LLONG_MAX : v > (unsigned long long)INT_MAX))
            return scan_fail(sc, line, "found the hex integer %.*s, expected at most %s",
                             (int)(stop - i < 40 ? stop - i : 40), text + i,
                             l64 ? "0x7fffffffffffffffL" : "0x7fffffff (append L for 64 bits)");
        return 0;
    }
    size_t k = j;
    while (k < len && is_digit(text[k]))
        k++;
    /* float: digits* '.' digits* exp? | digits+ exp */
    bool is_float = false;
    size_t f = k;
    if (f < len && text[f] == '.') {
        is_float = true;
        f++;
        while (f < len && is_digit(text[f]))
            f++;
    }
    if (f < len && (text[f] == 'e' || text[f] == 'E') && (k > j || is_float)) {
        size_t x = f + 1;
        if (x < len && (text[x] == '+' || text[x] == '-'))
            x++;
        if (x < len && is_digit(text[x])) {
            is_float = true;
            f = x;
            while (f < len && is_digit(text[f]))
                f++;
        }
    }
    if (is_float) {
        *end = f;
        return 0;
    }
    if (k == j) {
        *end = j > i ? j : i + 1; /* a lone sign: libconfig's grammar rejects it */
        return 0;
    }
    bool l64 = k < len && text[k] == 'L';
    size_t stop = k + (l64 ? (k + 1 < len && text[k + 1] == 'L' ? 2 : 1) : 0);
    *end = stop;
    unsigned long long v = 0;
    bool over = false;
    for (size_t d = j; d < k; d++) {
        unsigned dig = (unsigned)(text[d] - '0');
        if (v > (ULLONG_MAX - dig) / 10)
            over = true;
        else
            v = v * 10 + dig;
    }
    unsigned long long lim =
        l64 ? (unsigned long long)LLONG_MAX + neg : (unsigned long long)INT_MAX + neg;
    if (over || v > lim) {
        int shown = (int)(stop - i < 40 ? stop - i : 40);
        if (l64)
            return scan_fail(sc, line,
                             "found the integer %.*s, expected -9223372036854775808L.."
                             "9223372036854775807L",
                             shown, text + i);
        return scan_fail(sc, line,
                         "found the integer %.*s, expected -2147483648..2147483647 (append L for "
                         "a 64-bit integer, e.g. %.*sL)",
                         shown, text + i, shown, text + i);
    }
    return 0;
}

static void scan_push(scan *sc)
{
    if (sc->nest < SCAN_NEST) {
        sc->mark[sc->nest] = strlen(sc->path);
        size_t at = sc->mark[sc->nest];
        const bracket *list = sc->nopen ? &sc->open[sc->nopen - 1] : NULL;
        if (sc->prev == '=' && sc->last[0])
            snprintf(sc->path + at, sizeof sc->path - at, "%s%s", at ? "." : "", sc->last);
        else if (list && list->ch != '{') /* a group as element `index` of list `name` */
            snprintf(sc->path + at, sizeof sc->path - at, "%s%s%s[%zu]", at ? "." : "", list->name,
                     list->name[0] ? "." : "", list->index);
        else
            snprintf(sc->path + at, sizeof sc->path - at, "%s[]", at ? "." : "");
    }
    sc->nest++;
    sc->last[0] = '\0';
}

static void scan_pop(scan *sc)
{
    if (sc->nest == 0)
        return;
    sc->nest--;
    if (sc->nest < SCAN_NEST)
        sc->path[sc->mark[sc->nest]] = '\0';
    sc->last[0] = '\0';
}

static void scan_open(scan *sc, char ch)
{
    if (sc->nopen == sc->capopen) {
        sc->capopen = sc->capopen ? 2 * sc->capopen : 64;
        sc->open = mem_realloc(sc->open, sc->capopen, sizeof *sc->open, "config bracket stack");
    }
    bracket *b = &sc->open[sc->nopen++];
    b->ch = ch;
    b->index = 0;
    snprintf(b->name, sizeof b->name, "%s", ch != '{' && sc->prev == '=' ? sc->last : "");
}

/* Whether libconfig's grammar can take a string token after what was scanned so far. */
static bool string_fits(const scan *sc)
{
    char inner = sc->nopen ? sc->open[sc->nopen - 1].ch : '{';
    return sc->prev == '=' || sc->prev == '[' || sc->prev == '(' || sc->prev == 's' ||
           (sc->prev == ',' && (inner == '[' || inner == '('));
}

/* End of the comment or string starting at text[i] (one past its last byte), or SIZE_MAX when it
 * is unterminated; i itself when text[i] starts neither. */
static size_t skip_comment_or_string(const char *text, size_t len, size_t i)
{
    if (text[i] == '#' || (text[i] == '/' && i + 1 < len && text[i + 1] == '/')) {
        const char *nl = memchr(text + i, '\n', len - i);
        return nl ? (size_t)(nl - text) : len;
    }
    if (text[i] == '/' && i + 1 < len && text[i + 1] == '*') {
        for (size_t k = i + 2; k + 1 < len; k++)
            if (text[k] == '*' && text[k + 1] == '/')
                return k + 2;
        return SIZE_MAX;
    }
    if (text[i] == '"') {
        for (size_t k = i + 1; k < len; k++) {
            if (text[k] == '\\')
                k++;
            else if (text[k] == '"')
                return k + 1;
        }
        return SIZE_MAX;
    }
    return i;
}

size_t cfgfile_strip_comments(char *text, size_t len)
{
    if (memchr(text, '\0', len))
        return len;
    for (size_t i = 0; i < len;) { /* a dry run: leave bad text alone */
        size_t end = skip_comment_or_string(text, len, i);
        if (end == SIZE_MAX)
            return len;
        i = end > i ? end : i + 1;
    }
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        size_t end = skip_comment_or_string(text, len, i);
        if (end == i) {
            text[out++] = text[i++];
            continue;
        }
        if (text[i] == '"') { /* a string stays */
            memmove(text + out, text + i, end - i);
            out += end - i;
        } else { /* a comment goes, but for its newlines, or a space keeping tokens apart */
            size_t was = out;
            for (size_t k = i; k < end; k++)
                if (text[k] == '\n')
                    text[out++] = '\n';
            if (out == was && text[i] == '/' && text[i + 1] == '*')
                text[out++] = ' ';
        }
        i = end;
    }
    text[out] = '\0';
    return out;
}

static int scan_text(scan *sc, const char *text, size_t len)
{
    unsigned line = 1;
    bool line_start = true;
    size_t i = 0;
    while (i < len) {
        char ch = text[i];
        if (ch == '\0')
            return scan_fail(sc, line, "found a NUL byte, expected text");
        if (line_start) {
            line_start = false;
            size_t k = i;
            while (k < len && (text[k] == ' ' || text[k] == '\t'))
                k++;
            if (len - k > 8 && memcmp(text + k, "@include", 8) == 0 &&
                (text[k + 8] == ' ' || text[k + 8] == '\t')) {
                size_t q = k + 8;
                while (q < len && (text[q] == ' ' || text[q] == '\t'))
                    q++;
                if (q < len && text[q] == '"') {
                    ERR_TRY(scan_include(sc, text, len, q, &i, line));
                    continue;
                }
            }
        }
        if (ch == '\n') {
            line++;
            line_start = true;
            i++;
        } else if (ch == '/' && i + 1 < len && text[i + 1] == '*') {
            i += 2;
            while (i < len && !(text[i] == '*' && i + 1 < len && text[i + 1] == '/')) {
                if (text[i] == '\0')
                    return scan_fail(sc, line, "found a NUL byte, expected text");
                line += text[i++] == '\n';
            }
            i = i < len ? i + 2 : len;
        } else if (ch == '#' || (ch == '/' && i + 1 < len && text[i + 1] == '/')) {
            while (i < len && text[i] != '\n') {
                if (text[i] == '\0')
                    return scan_fail(sc, line, "found a NUL byte, expected text");
                i++;
            }
        } else if (ch == '"') {
            if (!string_fits(sc)) {
                if (sc->depth > 0) /* in an included file: no text to cut, say it here */
                    return err_set(sc->e, ERR_INPUT,
                                   "%s:%u: syntax error: found a string where libconfig's grammar "
                                   "takes a setting name or punctuation",
                                   sc->file, line);
                sc->has_cut = true;
                sc->cut = i;
                return 0; /* libconfig stops at or before this token: nothing after it matters */
            }
            sc->prev = 's';
            i++;
            while (i < len && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < len)
                    i++;
                if (text[i] == '\0')
                    return scan_fail(sc, line, "found a NUL byte, expected text");
                line += text[i++] == '\n';
            }
            i = i < len ? i + 1 : len;
        } else if (is_name_start(ch)) {
            size_t k = i;
            while (k < len && is_name_char(text[k]))
                k++;
            size_t n = k - i;
            bool boolean = (n == 4 && same_nocase(text + i, "true", 4)) ||
                           (n == 5 && same_nocase(text + i, "false", 5));
            if (!boolean) {
                if (n >= sizeof sc->last)
                    n = sizeof sc->last - 1;
                memcpy(sc->last, text + i, n);
                sc->last[n] = '\0';
            }
            sc->prev = 'x';
            i = k;
        } else if (ch == '=' || ch == ':') {
            sc->prev = '=';
            i++;
        } else if (ch == '{' || ch == '[' || ch == '(') {
            if (ch == '{')
                scan_push(sc);
            scan_open(sc, ch);
            sc->prev = ch;
            i++;
        } else if (ch == '}' || ch == ']' || ch == ')') {
            if (ch == '}')
                scan_pop(sc);
            if (sc->nopen)
                sc->nopen--;
            sc->prev = ch;
            i++;
        } else if (is_digit(ch) || ch == '+' || ch == '-' || ch == '.') {
            size_t end;
            ERR_TRY(scan_number(sc, text, len, i, &end, line));
            sc->prev = 'x';
            i = end > i ? end : i + 1;
        } else {
            if (ch == ',' && sc->nopen && sc->open[sc->nopen - 1].ch != '{')
                sc->open[sc->nopen - 1].index++; /* the next element of a list or array */
            if (ch == ',' || ch == ';')
                sc->prev = ch;
            else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\f')
                sc->prev = 'x';
            i++;
        }
    }
    return 0;
}

int cfgfile_scan(const char *text, size_t len, const char *file, const char *incdir, size_t *cut,
                 err *e)
{
    scan sc = {.e = e, .file = file, .incdir = incdir};
    int rc = scan_text(&sc, text, len);
    free(sc.open);
    *cut = rc == 0 && sc.has_cut ? sc.cut : SIZE_MAX;
    return rc;
}

int cfgfile_parse(const char *text, size_t len, const char *origin, const char *incdir,
                  config_t *cfg, err *e)
{
    size_t at;
    config_init(cfg);
    int rc = cfgfile_scan(text, len, origin, incdir, &at, e);
    if (rc < 0) {
        config_destroy(cfg);
        return rc;
    }
    /* A string libconfig 1.5 would stop at (and leak): give it the text cut just before that
     * string with a stray `!`, which fails at the same place with the same syntax error. */
    char *cut = NULL;
    if (at != SIZE_MAX) {
        cut = mem_alloc(at + 2, "config text");
        memcpy(cut, text, at);
        cut[at] = '!';
        cut[at + 1] = '\0';
    }
    if (incdir)
        config_set_include_dir(cfg, incdir);
    int ok = config_read_string(cfg, cut ? cut : text);
    free(cut);
    if (ok == CONFIG_TRUE && at == SIZE_MAX) /* (a stray `!` never parses) */
        return 0;
    const char *file = config_error_file(cfg) ? config_error_file(cfg) : origin;
    const char *what = config_error_text(cfg) ? config_error_text(cfg) : "unknown error";
    if (strcmp(what, "syntax error") == 0)
        rc = err_set(e, ERR_INPUT,
                     "%s:%d: syntax error: the text does not follow libconfig "
                     "grammar (name = value; groups { }, arrays [ ], lists ( ))",
                     file, config_error_line(cfg));
    else
        rc = err_set(e, ERR_INPUT, "%s:%d: syntax error: %s", file, config_error_line(cfg), what);
    config_destroy(cfg);
    return rc;
}

int cfgfile_parse_file(const char *path, config_t *cfg, err *e)
{
    size_t len;
    char *text = cfgfile_read_text(path, &len);
    if (!text)
        return err_set(e, ERR_IO, "%s: cannot read the file: %s", path,
                       errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
    /* Includes resolve next to the including file, not in the working directory. */
    char dir[PATH_BYTES];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int rc = cfgfile_parse(text, len, path, dir, cfg, e);
    free(text);
    return rc;
}

int cfgfile_vfail(err *e, const config_setting_t *at, const char *origin, const char *path,
                  const char *fmt, va_list ap)
{
    char what[ERR_MSG_BYTES];
    vsnprintf(what, sizeof what, fmt, ap);
    unsigned line = cfgfile_line_of(at);
    const char *file = cfgfile_file_of(at, origin);
    if (line)
        return err_set(e, ERR_INPUT, "%s:%u: %s: %s", file, line, path, what);
    return err_set(e, ERR_INPUT, "%s: %s: %s", file, path, what);
}

int cfgfile_fail(err *e, const config_setting_t *at, const char *origin, const char *path,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cfgfile_vfail(e, at, origin, path, fmt, ap);
    va_end(ap);
    return rc;
}

bool cfgfile_number(const config_setting_t *s, double *out)
{
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
        *out = (double)config_setting_get_int64(s);
    else if (t == CONFIG_TYPE_FLOAT)
        *out = config_setting_get_float(s);
    else
        return false;
    return true;
}

/* A setting cfgfile_override set carries "--set PATH=VALUE" as its libconfig hook (freed by the
 * config's destructor): messages about it name the option, not the preset's line. */
static const char *override_of(const config_setting_t *s)
{
    for (; s; s = config_setting_parent(s)) /* a member of a structured value set by --set */
        if (config_setting_get_hook(s))
            return config_setting_get_hook(s);
    return NULL;
}

unsigned cfgfile_line_of(const config_setting_t *s)
{
    if (override_of(s))
        return 0;
    while (s && config_setting_source_line(s) == 0)
        s = config_setting_parent(s);
    return s ? config_setting_source_line(s) : 0;
}

const char *cfgfile_file_of(const config_setting_t *s, const char *origin)
{
    if (override_of(s))
        return override_of(s);
    while (s && !config_setting_source_file(s))
        s = config_setting_parent(s);
    return s ? config_setting_source_file(s) : origin;
}

void cfgfile_describe(const config_setting_t *s, char *buf, size_t size)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        snprintf(buf, size, "the integer %lld", config_setting_get_int64(s));
        break;
    case CONFIG_TYPE_FLOAT:
        snprintf(buf, size, "the number %g", config_setting_get_float(s));
        break;
    case CONFIG_TYPE_STRING:
        snprintf(buf, size, "the string \"%.40s\"", config_setting_get_string(s));
        break;
    case CONFIG_TYPE_BOOL:
        snprintf(buf, size, "the boolean %s", config_setting_get_bool(s) ? "true" : "false");
        break;
    case CONFIG_TYPE_GROUP:
        snprintf(buf, size, "a group");
        break;
    case CONFIG_TYPE_ARRAY:
        snprintf(buf, size, "an array");
        break;
    case CONFIG_TYPE_LIST:
        snprintf(buf, size, "a list");
        break;
    default:
        snprintf(buf, size, "a setting of unknown type");
        break;
    }
}

void cfgfile_list_names(char *buf, size_t n, const char *const *names, size_t count)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* ---- overrides (--set) ------------------------------------------------------------------------
 */

/* The value's type when it adds a setting: bool, integer, float, else string. */
static int value_type(const char *v)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
        return CONFIG_TYPE_BOOL;
    char *end;
    errno = 0;
    long long i = strtoll(v, &end, 10);
    if (*v && !*end && errno == 0)
        return i >= INT_MIN && i <= INT_MAX ? CONFIG_TYPE_INT : CONFIG_TYPE_INT64;
    (void)strtod(v, &end);
    if (*v && !*end)
        return CONFIG_TYPE_FLOAT;
    return CONFIG_TYPE_STRING;
}

static int set_value(config_setting_t *s, const char *assignment, const char *v, err *e)
{
    char *end;
    errno = 0;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: {
        long long i = strtoll(v, &end, 10);
        if (!*v || *end || errno || i < INT_MIN || i > INT_MAX)
            return err_set(e, ERR_INPUT, "--set %s: found '%s', expected a 32-bit integer",
                           assignment, v);
        config_setting_set_int(s, (int)i);
        return 0;
    }
    case CONFIG_TYPE_INT64: {
        long long i = strtoll(v, &end, 10);
        if (!*v || *end || errno)
            return err_set(e, ERR_INPUT, "--set %s: found '%s', expected a 64-bit integer",
                           assignment, v);
        config_setting_set_int64(s, i);
        return 0;
    }
    case CONFIG_TYPE_FLOAT: {
        double d = strtod(v, &end);
        if (!*v || *end || errno)
            return err_set(e, ERR_INPUT, "--set %s: found '%s', expected a number", assignment, v);
        config_setting_set_float(s, d);
        return 0;
    }
    case CONFIG_TYPE_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return err_set(e, ERR_INPUT, "--set %s: found '%s', expected true or false", assignment,
                           v);
        config_setting_set_bool(s, strcmp(v, "true") == 0);
        return 0;
    case CONFIG_TYPE_STRING: {
        size_t n = strlen(v);
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
            char *inner = mem_strdup(v + 1, "override string");
            inner[n - 2] = '\0';
            config_setting_set_string(s, inner);
            free(inner);
        } else {
            config_setting_set_string(s, v);
        }
        return 0;
    }
    default:
        return err_set(e, ERR_INPUT,
                       "--set %s: the setting is a group, list or array, expected "
                       "a path to a single value",
                       assignment);
    }
}

/* After a successful set (rc 0), hook "--set ASSIGNMENT" to s (see override_of). */
static int mark_override(config_t *cfg, config_setting_t *s, const char *assignment, int rc)
{
    if (rc < 0)
        return rc;
    size_t n = strlen(assignment) + sizeof "--set ";
    char *mark = mem_alloc(n, "--set provenance");
    snprintf(mark, n, "--set %s", assignment);
    free(config_setting_get_hook(s)); /* set twice: the last one is what the setting holds */
    config_setting_set_hook(s, mark);
    config_set_destructor(cfg, free);
    return 0;
}

/* Whether v is a structured libconfig value: a group { }, an array [ ] or a list ( ). */
static bool is_structured(const char *v)
{
    return *v == '{' || *v == '[' || *v == '(';
}

/* A deep copy of src's value as a new member `name` of parent (name NULL: an element of a list or
 * array). NULL when libconfig refuses it (a name that is not a setting name). */
static config_setting_t *copy_setting(config_setting_t *parent, const char *name,
                                      const config_setting_t *src)
{
    int t = config_setting_type(src);
    config_setting_t *d = config_setting_add(parent, name, t);
    if (!d)
        return NULL;
    switch (t) {
    case CONFIG_TYPE_INT:
        config_setting_set_int(d, config_setting_get_int(src));
        break;
    case CONFIG_TYPE_INT64:
        config_setting_set_int64(d, config_setting_get_int64(src));
        break;
    case CONFIG_TYPE_FLOAT:
        config_setting_set_float(d, config_setting_get_float(src));
        break;
    case CONFIG_TYPE_BOOL:
        config_setting_set_bool(d, config_setting_get_bool(src));
        break;
    case CONFIG_TYPE_STRING:
        config_setting_set_string(d, config_setting_get_string(src));
        break;
    default: /* group, array, list */
        for (int i = 0; i < config_setting_length(src); i++) {
            const config_setting_t *m = config_setting_get_elem(src, (unsigned)i);
            if (!copy_setting(d, t == CONFIG_TYPE_GROUP ? config_setting_name(m) : NULL, m))
                return NULL;
        }
        break;
    }
    return d;
}

/* The structured value v ("{ kind = \"fom\"; fom = 0.0011; }", "[0.1, 0.2]", "(1, \"a\")"),
 * parsed by libconfig as the text "v = VALUE;" and put in place of the setting `leaf` of parent
 * (added when missing), whatever that setting held before. */
static int set_parsed(config_t *cfg, config_setting_t *parent, const char *leaf,
                      const char *assignment, const char *v, err *e)
{
    size_t n = strlen(v) + 16;
    char *text = mem_alloc(n, "--set value");
    snprintf(text, n, "v = %s;", v);
    config_t tmp;
    err pe;
    int rc = cfgfile_parse(text, strlen(text), "VALUE", NULL, &tmp, &pe);
    free(text);
    if (rc < 0) {
        const char *why = strstr(pe.msg, "syntax error");
        return err_set(e, ERR_INPUT,
                       "--set %s: found '%s', which libconfig cannot read (%s), expected one "
                       "value: a number, true/false, a \"string\", a group { name = value; ... }, "
                       "an array [ ... ] or a list ( ... )",
                       assignment, v, why ? why : pe.msg);
    }
    config_setting_t *src = config_lookup(&tmp, "v");
    if (config_setting_length(config_root_setting(&tmp)) != 1) {
        config_destroy(&tmp);
        return err_set(e, ERR_INPUT,
                       "--set %s: found more than one value in '%s', expected one value (a ';' "
                       "belongs inside a group { })",
                       assignment, v);
    }
    if (config_setting_get_member(parent, leaf) &&
        config_setting_remove(parent, leaf) != CONFIG_TRUE)
        rc = err_set(e, ERR_INPUT, "--set %s: the setting cannot be replaced", assignment);
    config_setting_t *d = rc == 0 ? copy_setting(parent, leaf, src) : NULL;
    config_destroy(&tmp);
    if (rc < 0)
        return rc;
    if (!d)
        return err_set(e, ERR_INPUT,
                       "--set %s: found '%s', expected a setting name (a letter, then letters, "
                       "digits, '_' or '-')",
                       assignment, leaf);
    return mark_override(cfg, d, assignment, 0);
}

int cfgfile_override(config_t *cfg, const char *assignment, err *e)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return err_set(e, ERR_INPUT, "--set %s: expected PATH=VALUE, e.g. arch.tiles.adc.bits=6",
                       assignment);
    char path[512];
    size_t plen = (size_t)(eq - assignment);
    while (plen > 0 && assignment[plen - 1] == ' ')
        plen--;
    if (plen == 0) /* only blanks before '=': the empty path would name the root */
        return err_set(e, ERR_INPUT, "--set %s: expected PATH=VALUE, e.g. arch.tiles.adc.bits=6",
                       assignment);
    if (plen >= sizeof path)
        return err_set(e, ERR_INPUT, "--set %s: the path is longer than %zu bytes", assignment,
                       sizeof path - 1);
    memcpy(path, assignment, plen);
    path[plen] = '\0';
    const char *value = eq + 1;
    while (*value == ' ')
        value++;
    config_setting_t *s = config_lookup(cfg, path);
    if (s && !config_setting_parent(s)) /* libconfig reads ".", ":" or "/" as the root */
        return err_set(e, ERR_INPUT,
                       "--set %s: found the path '%s', which names the whole file, expected "
                       "PATH=VALUE, e.g. arch.tiles.adc.bits=6",
                       assignment, path);
    bool aggregate = s && (config_setting_is_aggregate(s) || is_structured(value));
    if (aggregate && !config_setting_is_group(config_setting_parent(s)))
        return err_set(e, ERR_INPUT,
                       "--set %s: found an element of a list or array, expected a path to a "
                       "setting of a group (give the whole list or array)",
                       assignment);
    if (aggregate && !is_structured(value) && config_setting_is_aggregate(s)) {
        /* a scalar in place of a group, list or array: as if the setting were missing */
        config_setting_t *parent = config_setting_parent(s);
        const char *leaf = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;
        config_setting_remove(parent, leaf);
        s = NULL;
    } else if (aggregate) {
        const char *leaf = strrchr(path, '.') ? strrchr(path, '.') + 1 : path;
        return set_parsed(cfg, config_setting_parent(s), leaf, assignment, value, e);
    }
    if (s)
        return mark_override(cfg, s, assignment, set_value(s, assignment, value, e));
    const char *dot = strrchr(path, '.');
    config_setting_t *parent = config_root_setting(cfg);
    const char *leaf = path;
    if (dot) {
        char ppath[512];
        memcpy(ppath, path, (size_t)(dot - path));
        ppath[dot - path] = '\0';
        parent = config_lookup(cfg, ppath);
        leaf = dot + 1;
        if (!parent || !config_setting_is_group(parent))
            return err_set(e, ERR_INPUT,
                           "--set %s: found no group '%s', expected a path to a "
                           "setting of the configuration (e.g. arch.tiles.adc.bits)",
                           assignment, ppath);
    }
    if (is_structured(value))
        return set_parsed(cfg, parent, leaf, assignment, value, e);
    s = config_setting_add(parent, leaf, value_type(value));
    if (!s)
        return err_set(e, ERR_INPUT,
                       "--set %s: found '%s', expected a setting name (a letter, "
                       "then letters, digits, '_' or '-')",
                       assignment, leaf);
    return mark_override(cfg, s, assignment, set_value(s, assignment, value, e));
}
