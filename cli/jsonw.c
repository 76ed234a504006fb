/* jsonw: the JSON writer (see jsonw.h). Indentation: two spaces a level, one value a line, so
 * the output reads in a terminal and diffs line by line.
 */
#include "jsonw.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>

void jsonw_begin(jsonw *w, FILE *out)
{
    w->out = out;
    w->depth = 0;
    w->has_items[0] = false;
}

void jsonw_end(jsonw *w)
{
    assert(w->depth == 0);
    fputc('\n', w->out);
}

static void string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* The comma, the line break and indentation, and the key of the next value. */
static void item(jsonw *w, const char *key)
{
    if (w->depth > 0) {
        fprintf(w->out, "%s\n%*s", w->has_items[w->depth] ? "," : "", 2 * (int)w->depth, "");
        w->has_items[w->depth] = true;
    }
    if (key) {
        string(w->out, key);
        fputs(": ", w->out);
    }
}

static void open_level(jsonw *w, const char *key, char open, char close)
{
    item(w, key);
    fputc(open, w->out);
    assert(w->depth + 1 < JSONW_MAX_DEPTH);
    w->depth++;
    w->has_items[w->depth] = false;
    w->closer[w->depth] = close;
}

void jsonw_object(jsonw *w, const char *key)
{
    open_level(w, key, '{', '}');
}

void jsonw_array(jsonw *w, const char *key)
{
    open_level(w, key, '[', ']');
}

void jsonw_close(jsonw *w)
{
    assert(w->depth > 0);
    char close = w->closer[w->depth];
    bool items = w->has_items[w->depth--];
    if (items)
        fprintf(w->out, "\n%*s", 2 * (int)w->depth, "");
    fputc(close, w->out);
}

void jsonw_str(jsonw *w, const char *key, const char *v)
{
    item(w, key);
    string(w->out, v ? v : "");
}

void jsonw_num(jsonw *w, const char *key, double v)
{
    item(w, key);
    if (isfinite(v))
        fprintf(w->out, "%.9g", v);
    else
        fputs("null", w->out);
}

void jsonw_u64(jsonw *w, const char *key, uint64_t v)
{
    item(w, key);
    fprintf(w->out, "%" PRIu64, v);
}

void jsonw_i64(jsonw *w, const char *key, int64_t v)
{
    item(w, key);
    fprintf(w->out, "%" PRId64, v);
}

void jsonw_bool(jsonw *w, const char *key, bool v)
{
    item(w, key);
    fputs(v ? "true" : "false", w->out);
}
