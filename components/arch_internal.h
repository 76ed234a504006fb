/* arch_internal: the config-text layer under arch.c (arch_scan.c), not a public API: reading a
 * file, the lexical pre-scan, and parsing with libconfig 1.5. The pre-scan sees the raw text
 * before libconfig 1.5 parses it, so it can report what that parser would lose (integer literals
 * it truncates) or mishandle (a token it leaks). Nothing here knows the arch schema: the network
 * loader (mapper/network.c) parses its files through arch__parse / arch__parse_file as well.
 */
#ifndef XBARSIM_COMPONENTS_ARCH_INTERNAL_H
#define XBARSIM_COMPONENTS_ARCH_INTERNAL_H

#include <libconfig.h>
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

/* Pre-scan text[0..len) (named origin in messages; @include resolved in incdir, or rejected when
 * incdir is NULL) and parse it with libconfig into *cfg, which need not be initialised. Returns 0
 * with *cfg holding the tree (the caller config_destroy()s it), or ERR_INPUT with e holding
 * "file:line: ..." and *cfg already destroyed. */
int arch__parse(const char *text, size_t len, const char *origin, const char *incdir, config_t *cfg,
                err *e);

/* arch__parse on the file at path (named by path in messages; includes resolve next to it).
 * ERR_IO with "path: cannot read the file: why" when it cannot be read. */
int arch__parse_file(const char *path, config_t *cfg, err *e);

#endif
