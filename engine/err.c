/* err: error buffer for bad input (see err.h). Messages are truncated, never overflowed. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(err *e)
{
    if (!e)
        return;
    e->code = 0;
    e->msg[0] = '\0';
}

int err_set(err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

void err_prefix(err *e, const char *fmt, ...)
{
    if (!e)
        return;
    char head[ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    /* Shift the old message right by "head: " and truncate it to fit. */
    size_t hl = strlen(head) + 2;
    if (hl >= sizeof e->msg)
        hl = sizeof e->msg - 1;
    size_t old_len = strlen(e->msg);
    if (old_len > sizeof e->msg - 1 - hl)
        old_len = sizeof e->msg - 1 - hl;
    memmove(e->msg + hl, e->msg, old_len);
    e->msg[hl + old_len] = '\0';
    memcpy(e->msg, head, hl - 2);
    if (hl >= 2) {
        e->msg[hl - 2] = ':';
        e->msg[hl - 1] = ' ';
    }
}

err_names err_names_join(const char *const *names, size_t n)
{
    err_names out = {{0}};
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof out.text; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(out.text + len, sizeof out.text - len, "%s%s", sep, names[i]);
        len += w > 0 ? (size_t)w : 0;
    }
    return out;
}
