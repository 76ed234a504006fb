/* fuzz.h: what every libFuzzer harness of tests/fuzz shares -- the invariant check, the input as
 * a NUL-terminated text or as a file (loaders that take a path), the seed-writing mode and the
 * fixtures (the lenet5 network, the lrmp preset) read once from the source tree.
 * Invariant: a broken promise aborts with its name, so libFuzzer records it as a crash.
 */
#ifndef XBARSIM_TESTS_FUZZ_H
#define XBARSIM_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "err.h"
#include "network.h"

#ifndef FUZZ_DATA_DIR
#define FUZZ_DATA_DIR "." /* the source tree (CMake sets it) */
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort with `what` unless ok: libFuzzer saves the input as crash-*. */
static inline void fuzz_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz: invariant broken: %s\n", what);
        abort();
    }
}

/* A stream that discards what is printed (printers run on every loaded structure). */
static inline FILE *fuzz_sink(void)
{
    static FILE *null;
    if (!null)
        null = fopen("/dev/null", "w");
    fuzz_check(null != NULL, "/dev/null");
    return null;
}

/* data[0..size) as a NUL-terminated text the caller frees. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    fuzz_check(text != NULL, "malloc");
    memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

/* A folder of this process for input files (removed by nobody: it lives under TMPDIR). */
static inline const char *fuzz_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/xbarsim-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        fuzz_check(mkdtemp(dir) != NULL, "mkdtemp");
    }
    return dir;
}

/* Write data[0..size) to the file `name` in fuzz_dir() and return its path (in buf). */
static inline const char *fuzz_file(const char *name, const void *data, size_t size, char *buf,
                                    size_t cap)
{
    snprintf(buf, cap, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(buf, "wb");
    fuzz_check(f != NULL, "cannot write an input file");
    fuzz_check(fwrite(data, 1, size, f) == size && fclose(f) == 0, "cannot write an input file");
    return buf;
}

/* Whether data[0..size) contains the text needle (an @include sends a message to another file). */
static inline int fuzz_has(const uint8_t *data, size_t size, const char *needle)
{
    size_t len = strlen(needle);
    for (size_t i = 0; i + len <= size; i++)
        if (memcmp(data + i, needle, len) == 0)
            return 1;
    return 0;
}

/* Whether a failed load kept its promise: a negative status recorded in e whose message starts
 * with origin. */
static inline void fuzz_check_failure(int rc, const err *e, const char *origin)
{
    fuzz_check(rc < 0 && e->code == rc, "a negative status, recorded in the error");
    if (strncmp(e->msg, origin, strlen(origin)) != 0)
        fprintf(stderr, "fuzz: message: %s\n", e->msg);
    fuzz_check(strncmp(e->msg, origin, strlen(origin)) == 0, "the message starts with its origin");
}

/* The folder the harness's seeds go to in seed mode (FUZZ_SEEDS=DIR), else NULL. Harnesses
 * whose seeds are not repository files write them there from LLVMFuzzerInitialize and exit. */
static inline const char *fuzz_seed_dir(void)
{
    const char *d = getenv("FUZZ_SEEDS");
    return d && *d ? d : NULL;
}

/* Write seed `name` into the seed folder. */
static inline void fuzz_seed(const char *name, const void *data, size_t size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", fuzz_seed_dir(), name);
    FILE *f = fopen(path, "wb");
    fuzz_check(f != NULL && fwrite(data, 1, size, f) == size && fclose(f) == 0, "seed");
}

/* The per-layer tables (policy, replication): a reader of one spec, whose error must start with
 * origin, and whether a text is the table's shorthand. */
typedef void fuzz_read_fn(const char *spec, const char *origin);
typedef int fuzz_shorthand_fn(const char *text);

/* Read the input as a .csv file, as a libconfig file and, when it is one (and names no file, so
 * nothing outside the input is read), as a shorthand whose errors start with shorthand_origin. */
static inline void fuzz_layer_table(const uint8_t *data, size_t size, fuzz_read_fn *read,
                                    fuzz_shorthand_fn *is_shorthand, const char *shorthand_origin)
{
    char path[512];
    read(fuzz_file("t.csv", data, size, path, sizeof path), path);
    read(fuzz_file("t.cfg", data, size, path, sizeof path), path);
    char *text = fuzz_text(data, size);
    if (strlen(text) == size && !strchr(text, '/') && is_shorthand(text))
        read(text, shorthand_origin);
    free(text);
}

/* Write a table's seeds (csv[0..csv_len) and cfg[0..cfg_len), both freed, and a shorthand), then
 * leave. */
_Noreturn static inline void fuzz_layer_table_seeds(char *csv, size_t csv_len, char *cfg,
                                                    size_t cfg_len, const char *shorthand)
{
    fuzz_seed("lenet5.csv", csv, csv_len);
    fuzz_seed("lenet5.cfg", cfg, cfg_len);
    fuzz_seed("shorthand", shorthand, strlen(shorthand));
    free(csv);
    free(cfg);
    exit(0);
}

/* The fixtures, loaded once: lenet5 (configs/net) and the lrmp preset (configs/arch). */
static inline const network *fuzz_lenet5(void)
{
    static network n;
    static int loaded;
    if (!loaded) {
        err e;
        fuzz_check(network_load_file(FUZZ_DATA_DIR "/configs/net/lenet5.cfg", &n, &e) == 0,
                   "configs/net/lenet5.cfg loads");
        loaded = 1;
    }
    return &n;
}

static inline const arch *fuzz_lrmp(void)
{
    static arch a;
    static int loaded;
    if (!loaded) {
        err e;
        fuzz_check(arch_load_file(FUZZ_DATA_DIR "/configs/arch/lrmp.cfg", &a, &e) == 0,
                   "configs/arch/lrmp.cfg loads");
        loaded = 1;
    }
    return &a;
}

#endif
