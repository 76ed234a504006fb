/* cfgfile: the front end every libconfig reader shares -- reading a file, a lexical pre-scan,
 * parsing with libconfig 1.5, and the pieces of an error message (file, line, what was found).
 * The pre-scan sees the raw text first, so it can report what libconfig 1.5 would lose (integer
 * literals it truncates) or mishandle (a token it leaks). Nothing here knows a schema: the arch,
 * network, policy and replication loaders all parse through cfgfile_parse / cfgfile_parse_file.
 */
#ifndef XBARSIM_COMPONENTS_CFGFILE_H
#define XBARSIM_COMPONENTS_CFGFILE_H

#include <libconfig.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define CFGFILE_MAX_FILE_BYTES (16L * 1024 * 1024) /* largest config file read, bytes */

/* Read the file at path whole into a NUL-terminated buffer the caller frees; *len gets its length
 * in bytes. NULL with errno set on failure (EFBIG: larger than CFGFILE_MAX_FILE_BYTES). */
char *cfgfile_read_text(const char *path, size_t *len);

/* Remove the comments (# and // to the end of the line, slash-star to star-slash) of text[0..len)
 * in place, keeping every newline, so the text parses to the same tree with the same line numbers,
 * faster (a preset is mostly comments, and a sweep parses it once per point). Strings and their
 * escapes are respected. Text that holds a NUL byte, an unterminated string or an unterminated
 * comment is left as it is, for the parse to report. Returns the new length (<= len) and
 * re-terminates the text when its length changes; text must have room for len + 1 bytes. */
size_t cfgfile_strip_comments(char *text, size_t len);

/* Scan text[0..len) (named `file` in messages) with libconfig's token rules. Returns 0, or
 * ERR_INPUT with e holding "file:line: setting.path: found ..., expected ..." for a NUL byte, an
 * integer literal beyond its 32-bit (no L suffix) or 64-bit range, or an @include when incdir is
 * NULL; with incdir, included files (resolved as incdir/name, like libconfig) are scanned too.
 * On 0, *cut is the offset of the first string token libconfig's grammar cannot take there (its
 * parser stops at or before it), or SIZE_MAX. */
int cfgfile_scan(const char *text, size_t len, const char *file, const char *incdir, size_t *cut,
                 err *e);

/* Pre-scan text[0..len) (named origin in messages; @include resolved in incdir, or rejected when
 * incdir is NULL) and parse it with libconfig into *cfg, which need not be initialised. Returns 0
 * with *cfg holding the tree (the caller config_destroy()s it), or ERR_INPUT with e holding
 * "file:line: ..." and *cfg already destroyed. */
int cfgfile_parse(const char *text, size_t len, const char *origin, const char *incdir,
                  config_t *cfg, err *e);

/* cfgfile_parse on the file at path (named by path in messages; includes resolve next to it).
 * ERR_IO with "path: cannot read the file: why" when it cannot be read. */
int cfgfile_parse_file(const char *path, config_t *cfg, err *e);

/* Apply one override "path=value" (e.g. "arch.tiles.adc.bits=6") to cfg, as a user's --set.
 * An existing scalar setting takes the value parsed by its own type (int, int64, float -- an
 * integer is accepted --, bool true/false, string, quotes optional); a missing one is added to its
 * existing parent group with the type the value reads as. A structured value (starting with '{',
 * '[' or '(') is read by libconfig as "v = VALUE;" and replaces the setting whole (added when
 * missing), as does any value given for a group, list or array; the setting and everything in it
 * then name "--set ASSIGNMENT" as their origin in loader messages. Returns 0, or ERR_INPUT with e
 * holding "--set ASSIGNMENT: ..." naming what was found and expected. */
int cfgfile_override(config_t *cfg, const char *assignment, err *e);

/* Line of s, or of its nearest ancestor that has one (the root has none: 0). */
unsigned cfgfile_line_of(const config_setting_t *s);
/* Set e to "FILE:LINE: PATH: WHAT" (or "FILE: PATH: WHAT" when `at` has no line; a value set by
 * --set names the option instead of a file) with the location of `at` (origin names a setting
 * that comes from no file); WHAT is printf-formatted. Returns ERR_INPUT. The one formatter of
 * the loaders' messages. */
int cfgfile_fail(err *e, const config_setting_t *at, const char *origin, const char *path,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int cfgfile_vfail(err *e, const config_setting_t *at, const char *origin, const char *path,
                  const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* The value of an int, int64 or float setting as a double: true and *out set, or false (another
 * type; *out untouched). Finiteness and range are the caller's to check. */
bool cfgfile_number(const config_setting_t *s, double *out);
/* File s was read from (its nearest ancestor's), or origin when it came from no file. */
const char *cfgfile_file_of(const config_setting_t *s, const char *origin);
/* What s holds, for "found ..." messages: "the integer 3", "the string \"x\"" (shortened), "a
 * group", ... into buf of size bytes. */
void cfgfile_describe(const config_setting_t *s, char *buf, size_t size);
/* names[0..count) joined by ", " into buf of n bytes (truncated, always terminated). */
void cfgfile_list_names(char *buf, size_t n, const char *const *names, size_t count);

#endif
