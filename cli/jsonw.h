/* jsonw: the one JSON writer of the commands' --json output -- a stream of values with keys,
 * nested objects and arrays, commas and indentation kept by the writer. Invariant: whatever
 * sequence of calls that closes what it opens yields one valid JSON document (non-finite numbers
 * are written as null, strings escaped).
 */
#ifndef XBARSIM_CLI_JSONW_H
#define XBARSIM_CLI_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSONW_MAX_DEPTH 16

typedef struct jsonw {
    FILE *out;
    unsigned depth;                  /* open objects and arrays, count */
    bool has_items[JSONW_MAX_DEPTH]; /* per level: a value written already (needs a comma) */
    char closer[JSONW_MAX_DEPTH];    /* per level: '}' or ']' */
} jsonw;

/* Start a document on out; jsonw_end ends it (a newline after the last value). */
void jsonw_begin(jsonw *w, FILE *out);
void jsonw_end(jsonw *w);

/* Every value takes a key: the member's name inside an object, NULL at the top or in an array. */
void jsonw_object(jsonw *w, const char *key);
void jsonw_array(jsonw *w, const char *key);
void jsonw_close(jsonw *w); /* the innermost open object or array */
void jsonw_str(jsonw *w, const char *key, const char *v);
void jsonw_num(jsonw *w, const char *key, double v); /* %.9g; NaN and infinities: null */
void jsonw_u64(jsonw *w, const char *key, uint64_t v);
void jsonw_i64(jsonw *w, const char *key, int64_t v);
void jsonw_bool(jsonw *w, const char *key, bool v);

#endif
