/* err: the error buffer for bad input.
 * Functions that can reject input take an `err *` and return a negative status; the buffer then
 * holds one message saying where (file:line, setting path), what was found and what was expected.
 * Bugs are not reported here: they trip assertions.
 */
#ifndef XBARSIM_ENGINE_ERR_H
#define XBARSIM_ENGINE_ERR_H

#include <stddef.h>

#define ERR_MSG_BYTES 1024

/* Status codes returned (negated) by functions that take an err. */
enum { ERR_OK = 0, ERR_INPUT = -1, ERR_IO = -2, ERR_LIMIT = -3 };

typedef struct err err;
struct err {
    int code;                /* last status set, 0 when none */
    char msg[ERR_MSG_BYTES]; /* human-readable message, NUL-terminated */
};

/* Return the status of x from the enclosing function when it is negative (an error). */
#define ERR_TRY(x)                                                                                 \
    do {                                                                                           \
        int err_rc_ = (x);                                                                         \
        if (err_rc_ < 0)                                                                           \
            return err_rc_;                                                                        \
    } while (0)

/* Clear e (code 0, empty message). e may be NULL. */
void err_clear(err *e);
/* Set e's message from a printf format and return `code` (negative). e may be NULL. */
int err_set(err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix the current message with "prefix: " (for adding context on the way up). */
void err_prefix(err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A table's names as the "expected" part of a message: "a", "a or b", "a, b or c". Returned by
 * value, so `err_names_join(...).text` may be passed straight to a printf in one expression;
 * truncated (never overflowed) past ERR_NAMES_BYTES. */
#define ERR_NAMES_BYTES 256
typedef struct err_names {
    char text[ERR_NAMES_BYTES];
} err_names;
err_names err_names_join(const char *const *names, size_t n);

#endif
