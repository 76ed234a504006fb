/* arch_internal: what arch.c shares with arch_scan.c, its lexical pre-scan; not a public API.
 * The pre-scan sees the raw text before libconfig 1.5 parses it, so it can report what that
 * parser would lose (integer literals it truncates) or mishandle (a token it leaks).
 */
#ifndef XBARSIM_COMPONENTS_ARCH_INTERNAL_H
#define XBARSIM_COMPONENTS_ARCH_INTERNAL_H

#include <stddef.h>

#include "err.h"

#define ARCH__MAX_FILE_BYTES (16L * 1024 * 1024) /* largest config file read, bytes */

/* Read the file at path whole into a NUL-terminated buffer the caller frees; *len gets its length
 * in bytes. NULL with errno set on failure (EFBIG: larger than ARCH__MAX_FILE_BYTES). */
char *arch__read_text(const char *path, size_t *len);

/* Scan text[0..len) (named `file` in messages) with libconfig's token rules. Returns 0, or
 * ERR_INPUT with e holding "file:line: setting.path: found ..., expected ..." for a NUL byte, an
 * integer literal beyond its 32-bit (no L suffix) or 64-bit range, or an @include when incdir is
 * NULL; with incdir, included files (resolved as incdir/name, like libconfig) are scanned too.
 * On 0, *cut is the offset of the first string token libconfig's grammar cannot take there (its
 * parser stops at or before it), or SIZE_MAX. */
int arch__scan(const char *text, size_t len, const char *file, const char *incdir, size_t *cut,
               err *e);

#endif
