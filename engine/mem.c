/* mem: allocation wrapper that aborts with size and purpose on failure (see mem.h). */
#include "mem.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

void *mem_alloc_large(size_t size, const char *what)
{
    size_t align = size >= MEM_HUGE_BYTES ? MEM_HUGE_BYTES : 64;
    void *p = NULL;
    if (posix_memalign(&p, align, size ? size : 1) != 0)
        die(1, size, what);
#ifdef MADV_HUGEPAGE
    if (align == MEM_HUGE_BYTES) {
        int saved = errno;
        (void)madvise(p, size - size % MEM_HUGE_BYTES, MADV_HUGEPAGE); /* advice only */
        errno = saved;
    }
#endif
    return p;
}

char *mem_strdup(const char *s, const char *what)
{
    size_t len = strlen(s) + 1;
    char *d = mem_alloc(len, what);
    memcpy(d, s, len);
    return d;
}
