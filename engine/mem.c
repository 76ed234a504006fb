/* mem: allocation wrapper that aborts with size and purpose on failure (see mem.h). */
#include "mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn static void die(size_t n, size_t size, const char *what)
{
    fprintf(stderr, "xbarsim: out of memory allocating %zu x %zu bytes for %s\n", n, size,
            what ? what : "(unnamed)");
    abort();
}

void mem_oom(size_t bytes, const char *what)
{
    die(1, bytes, what);
}

void *mem_alloc(size_t size, const char *what)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        die(1, size, what);
    return p;
}

void *mem_calloc(size_t n, size_t size, const char *what)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die(n, size, what);
    return p;
}

void *mem_realloc(void *p, size_t n, size_t size, const char *what)
{
    if (size && n > SIZE_MAX / size)
        die(n, size, what);
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        die(n, size, what);
    return q;
}

char *mem_strdup(const char *s, const char *what)
{
    size_t len = strlen(s) + 1;
    char *d = mem_alloc(len, what);
    memcpy(d, s, len);
    return d;
}
