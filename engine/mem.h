/* mem: the one allocation wrapper of xbarsim.
 * Every heap allocation goes through here; on failure it prints the size and the purpose and
 * aborts, so callers never check for NULL. Memory returned is owned by the caller and released with
 * free().
 */
#ifndef XBARSIM_ENGINE_MEM_H
#define XBARSIM_ENGINE_MEM_H

#include <stddef.h>

/* malloc(size); `what` names the purpose for the abort message. size 0 returns a unique pointer. */
void *mem_alloc(size_t size, const char *what);
/* calloc(n, size) with overflow check; zeroed memory. */
void *mem_calloc(size_t n, size_t size, const char *what);
/* realloc(p, n * size) with overflow check; p may be NULL. */
void *mem_realloc(void *p, size_t n, size_t size, const char *what);
/* Memory for a large hot table (event pool chunks, queue buckets): aligned to a 64-byte cache
 * line, and from MEM_HUGE_BYTES on aligned to it and advised to the kernel as a huge-page candidate
 * (madvise MADV_HUGEPAGE; ignored where unsupported), so that random access over hundreds of MB
 * does not also miss in the TLB on every access. Released with free(). */
#define MEM_HUGE_BYTES ((size_t)2 << 20) /* x86-64 huge page, bytes */
void *mem_alloc_large(size_t size, const char *what);
/* Report an allocation of `bytes` for `what` that failed elsewhere (a library's own allocator)
 * and abort. */
_Noreturn void mem_oom(size_t bytes, const char *what);
/* strdup(s) through the wrapper; s must not be NULL. */
char *mem_strdup(const char *s, const char *what);

#endif
