/* arch: loads the `arch` group of a libconfig text into an arch (see arch.h and
 * configs/arch/README.md), plus the mapping/mode registries and arch_print.
 * Invariant: a load either fills *out completely -- every key known, every value range-checked,
 * every cross-setting rule satisfied -- or leaves *out untouched, owns nothing and sets the err
 * buffer to "file:line: setting.path: found ..., expected ...".
 */
#include "arch.h"

#include <assert.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "mem.h"

/* Sanity bounds: far beyond any real chip, close enough to keep every product finite and every
 * time convertible to simtime ticks. */
#define MAX_NS         1e9  /* one latency, ns (1 s) */
#define MAX_PJ         1e15 /* one energy, pJ */
#define MAX_UW         1e12 /* one power, uW */
#define MAX_UM2        1e12 /* one area, um2 (1 m2) */
#define MIN_CLOCK_MHZ  1e-3 /* 1 kHz: keeps the period below 1e9 ps */
#define MAX_CLOCK_MHZ  1e6  /* 1 THz: period 1 ps, the simtime tick */
#define MAX_DIM        65536u
#define MAX_COUNT      16777216u /* tiles, vector modules */
#define MAX_CYCLES     1000000u
#define MAX_SRAM_BYTES 1099511627776ULL /* 1 TiB */
#define MAX_NAME       64u
#define PATH_BYTES     256
#define FOUND_BYTES    96

/* ---- registries ------------------------------------------------------------------------------ */

static const char *const mapping_names[] = {
#define X(id, name, cf, extra, rf) name,
    ARCH_MAPPING_MAP(X)
#undef X
};
static const unsigned mapping_col_factor[] = {
#define X(id, name, cf, extra, rf) cf,
    ARCH_MAPPING_MAP(X)
#undef X
};
static const unsigned mapping_extra_cols[] = {
#define X(id, name, cf, extra, rf) extra,
    ARCH_MAPPING_MAP(X)
#undef X
};
static const unsigned mapping_row_factor[] = {
#define X(id, name, cf, extra, rf) rf,
    ARCH_MAPPING_MAP(X)
#undef X
};
static const char *const mode_names[] = {
#define X(id, name) name,
    ARCH_MODE_MAP(X)
#undef X
};
static const char *const bits_kind_names[] = {
#define X(id, name) name,
    ARCH_BITS_FN_MAP(X)
#undef X
};
static const char *const scope_names[] = {
#define X(id, name) name,
    ARCH_SCOPE_MAP(X)
#undef X
};

static const char *const noc_names[] = {
#define X(id, name) name,
    ARCH_NOC_TOPOLOGY_MAP(X)
#undef X
};

const char *arch_noc_topology_name(arch_noc_topology t)
{
    assert((unsigned)t < ARCH_NOC_COUNT);
    return noc_names[t];
}

unsigned arch_noc_routers(const arch *a)
{
    return a->noc.topology == ARCH_NOC_NONE ? 0 : a->noc.rows * a->noc.cols;
}

const char *arch_scope_name(arch_scope s)
{
    assert((unsigned)s < ARCH_SCOPE_COUNT);
    return scope_names[s];
}

void arch_mapping_factors(arch_mapping m, unsigned *col_factor, unsigned *extra_cols,
                          unsigned *row_factor)
{
    assert((unsigned)m < ARCH_MAP_COUNT);
    *col_factor = mapping_col_factor[m];
    *extra_cols = mapping_extra_cols[m];
    *row_factor = mapping_row_factor[m];
}

const char *arch_mapping_name(arch_mapping m)
{
    assert((unsigned)m < ARCH_MAP_COUNT);
    return mapping_names[m];
}

int arch_mapping_parse(const char *name, arch_mapping *m)
{
    for (unsigned i = 0; i < ARCH_MAP_COUNT; i++)
        if (strcmp(name, mapping_names[i]) == 0) {
            *m = (arch_mapping)i;
            return 0;
        }
    return -1;
}

const char *arch_mode_name(arch_mode m)
{
    assert((unsigned)m < ARCH_MODE_COUNT);
    return mode_names[m];
}

int arch_mode_parse(const char *name, arch_mode *m)
{
    for (unsigned i = 0; i < ARCH_MODE_COUNT; i++)
        if (strcmp(name, mode_names[i]) == 0) {
            *m = (arch_mode)i;
            return 0;
        }
    return -1;
}

/* ---- bits-dependent quantities and derived figures ------------------------------------------ */

bool arch_bits_fn_defined(const arch_bits_fn *f, unsigned bits)
{
    if (bits < 1 || bits > ARCH_MAX_ADC_BITS)
        return false;
    return f->kind != ARCH_BITS_TABLE || f->has[bits];
}

double arch_bits_fn_eval(const arch_bits_fn *f, unsigned bits)
{
    assert(arch_bits_fn_defined(f, bits));
    double b = (double)bits;
    switch (f->kind) {
    case ARCH_BITS_VALUE:
        return f->value;
    case ARCH_BITS_TABLE:
        return f->table[bits];
    case ARCH_BITS_LINEAR:
        return f->c0 + f->c1 * b;
    case ARCH_BITS_QUADRATIC:
        return f->c0 + f->c1 * b * b;
    case ARCH_BITS_EXPONENTIAL:
        return f->c0 * pow(f->c1, b);
    case ARCH_BITS_FOM:
        return f->value * ldexp(1.0, (int)bits);
    case ARCH_BITS_KIND_COUNT:
        break;
    }
    assert(f->kind < ARCH_BITS_KIND_COUNT); /* not reached for a valid kind */
    return 0.0;
}

unsigned arch_adc_bits_for(unsigned rows_active, unsigned cell_bits, unsigned dac_bits)
{
    assert(cell_bits >= 1 && cell_bits <= 8 && dac_bits >= 1 && dac_bits <= 8);
    /* Largest column sum: every active row at the top cell level times the top input level. */
    uint64_t max =
        (uint64_t)rows_active * ((UINT64_C(1) << cell_bits) - 1) * ((UINT64_C(1) << dac_bits) - 1);
    unsigned bits = 0;
    while (bits < 64 && (UINT64_C(1) << bits) <= max) /* smallest n with 2^n >= max + 1 */
        bits++;
    return bits;
}

unsigned arch_adc_bits_needed(const arch *a)
{
    assert(a->tiles.rows_active >= 1 && a->tiles.rows_active <= MAX_DIM);
    return arch_adc_bits_for(a->tiles.rows_active, a->tiles.cell_bits, a->tiles.dac.bits);
}

static unsigned ceil_div(unsigned a, unsigned b)
{
    return a / b + (a % b != 0);
}

unsigned arch_groups(const arch *a)
{
    return ceil_div(a->tiles.count, a->groups.tiles);
}

uint64_t arch_system_tiles(const arch *a)
{
    return (uint64_t)a->chips * a->tiles.count;
}

/* A single chip numbers its groups straight on, even past its last tile: a layout is priced
 * before it is checked against the chip (mapper/price.h). */
unsigned arch_tile_chip(const arch *a, uint64_t tile)
{
    return a->chips > 1 ? (unsigned)(tile / a->tiles.count) : 0;
}

unsigned arch_tile_group(const arch *a, uint64_t tile)
{
    if (a->chips == 1)
        return (unsigned)(tile / a->groups.tiles);
    return arch_tile_chip(a, tile) * arch_groups(a) +
           (unsigned)(tile % a->tiles.count / a->groups.tiles);
}

unsigned arch_group_chip(const arch *a, unsigned group)
{
    return a->chips > 1 ? group / arch_groups(a) : 0;
}

unsigned arch_group_local(const arch *a, unsigned group)
{
    return a->chips > 1 ? group % arch_groups(a) : group;
}

/* ---- error reporting ------------------------------------------------------------------------- */

typedef struct ctx {
    const char *origin; /* names settings that come from no file (a string) */
    err *e;
} ctx;

/* Set "file:line: path: <what>" with the location of `at`; returns ERR_INPUT. */
static int fail(const ctx *c, const config_setting_t *at, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const ctx *c, const config_setting_t *at, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cfgfile_vfail(c->e, at, c->origin, path, fmt, ap);
    va_end(ap);
    return rc;
}

/* buf = "group.key", cut to PATH_BYTES - 1 characters (a path this long only shortens the
 * message). Spelt out rather than snprintf'd: it runs for every setting read, and a sweep reads an
 * architecture per point. */
static void join(char *buf, const char *group, const char *key)
{
    size_t n = 0;
    for (const char *p = group; *p && n < PATH_BYTES - 1; p++)
        buf[n++] = *p;
    if (n < PATH_BYTES - 1)
        buf[n++] = '.';
    for (const char *p = key; *p && n < PATH_BYTES - 1; p++)
        buf[n++] = *p;
    buf[n] = '\0';
}

static size_t count_names(const char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    return n;
}

/* ---- typed getters ---------------------------------------------------------------------------
 * Each reads g.key (path gpath.key): a missing optional key yields its default, a missing
 * required key, a wrong type or a value out of range is an error at the key's (or group's) line.
 */

static int check_keys(const ctx *c, const config_setting_t *g, const char *gpath,
                      const char *const *keys)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        bool known = false;
        for (size_t k = 0; name && keys[k] && !known; k++)
            known = strcmp(name, keys[k]) == 0;
        if (!known) {
            char path[PATH_BYTES], valid[512];
            join(path, gpath, name ? name : "?");
            cfgfile_list_names(valid, sizeof valid, keys, count_names(keys));
            return fail(c, s, path, "found an unknown key, expected one of: %s", valid);
        }
    }
    return 0;
}

static int get_group(const ctx *c, config_setting_t *g, const char *gpath, const char *key,
                     bool required, const char *const *keys, config_setting_t **out)
{
    char path[PATH_BYTES], found[FOUND_BYTES];
    join(path, gpath, key);
    config_setting_t *s = config_setting_get_member(g, key);
    *out = NULL;
    if (!s) {
        if (required)
            return fail(c, g, path, "missing, expected a group %s = { ... }", key);
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, path, "found %s, expected a group %s = { ... }", found, key);
    }
    ERR_TRY(check_keys(c, s, path, keys));
    *out = s;
    return 0;
}

static int get_int(const ctx *c, config_setting_t *g, const char *gpath, const char *key,
                   long long min, long long max, bool required, long long dflt, long long *out)
{
    char path[PATH_BYTES], found[FOUND_BYTES];
    join(path, gpath, key);
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s) {
        if (required)
            return fail(c, g, path, "missing, expected an integer %lld..%lld", min, max);
        *out = dflt;
        return 0;
    }
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, path, "found %s, expected an integer %lld..%lld", found, min, max);
    }
    long long v = config_setting_get_int64(s);
    if (v < min || v > max)
        return fail(c, s, path, "found %lld, expected an integer %lld..%lld", v, min, max);
    *out = v;
    return 0;
}

static int get_uint(const ctx *c, config_setting_t *g, const char *gpath, const char *key,
                    unsigned min, unsigned max, bool required, unsigned dflt, unsigned *out)
{
    long long v;
    ERR_TRY(get_int(c, g, gpath, key, min, max, required, dflt, &v));
    *out = (unsigned)v;
    return 0;
}

/* "a number lo..hi" / "a number > lo..hi" / "a finite number". */
static void describe_range(char *buf, double lo, bool lo_open, double hi)
{
    if (isinf(lo) && isinf(hi))
        snprintf(buf, FOUND_BYTES, "a finite number");
    else
        snprintf(buf, FOUND_BYTES, "a number %s%g..%g", lo_open ? "> " : "", lo, hi);
}

/* A number from an int, int64 or float setting s (path names it), finite and in range. */
static int num_of(const ctx *c, const config_setting_t *s, const char *path, double lo,
                  bool lo_open, double hi, double *out)
{
    char found[FOUND_BYTES], want[FOUND_BYTES];
    double v;
    bool number = cfgfile_number(s, &v);
    if (number && isfinite(v) && v >= lo && v <= hi && !(lo_open && v <= lo)) {
        *out = v;
        return 0;
    }
    describe_range(want, lo, lo_open, hi); /* only for the message: a sweep loads archs often */
    if (!number) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, path, "found %s, expected %s", found, want);
    }
    return fail(c, s, path, "found %g, expected %s", v, want);
}

static int get_num(const ctx *c, config_setting_t *g, const char *gpath, const char *key, double lo,
                   bool lo_open, double hi, bool required, double dflt, double *out)
{
    char path[PATH_BYTES], want[FOUND_BYTES];
    join(path, gpath, key);
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s) {
        if (required) {
            describe_range(want, lo, lo_open, hi);
            return fail(c, g, path, "missing, expected %s", want);
        }
        *out = dflt;
        return 0;
    }
    return num_of(c, s, path, lo, lo_open, hi, out);
}

static int get_bool(const ctx *c, config_setting_t *g, const char *gpath, const char *key,
                    bool dflt, bool *out)
{
    char path[PATH_BYTES], found[FOUND_BYTES];
    join(path, gpath, key);
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s) {
        *out = dflt;
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, path, "found %s, expected true or false", found);
    }
    *out = config_setting_get_bool(s) != 0;
    return 0;
}

/* A required string; *at receives its setting for later messages. */
static int get_string(const ctx *c, config_setting_t *g, const char *gpath, const char *key,
                      const char *want, const char **out, const config_setting_t **at)
{
    char path[PATH_BYTES], found[FOUND_BYTES];
    join(path, gpath, key);
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s)
        return fail(c, g, path, "missing, expected %s", want);
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, path, "found %s, expected %s", found, want);
    }
    *out = config_setting_get_string(s);
    *at = s;
    return 0;
}

/* ---- bits-dependent quantities --------------------------------------------------------------- */

static void domain(const arch_bits_fn *f, unsigned *lo, unsigned *hi)
{
    *lo = 0;
    *hi = 0;
    for (unsigned b = 1; b <= ARCH_MAX_ADC_BITS; b++)
        if (arch_bits_fn_defined(f, b)) {
            if (!*lo)
                *lo = b;
            *hi = b;
        }
}

/* Every value of f over its domain must be finite and in 0..hi (unit names it). */
static int check_values(const ctx *c, const config_setting_t *s, const char *path,
                        const arch_bits_fn *f, double hi, const char *unit)
{
    unsigned lo_b, hi_b;
    domain(f, &lo_b, &hi_b);
    for (unsigned b = lo_b; b && b <= hi_b; b++) {
        double v = arch_bits_fn_eval(f, b);
        if (!isfinite(v) || v < 0.0 || v > hi)
            return fail(c, s, path,
                        "found the value %g %s at %u bits, expected 0..%g %s at every bit count "
                        "%u..%u",
                        v, unit, b, hi, unit, lo_b, hi_b);
    }
    return 0;
}

static int get_table(const ctx *c, config_setting_t *g, const char *path, double hi,
                     const char *unit, arch_bits_fn *f)
{
    char vpath[PATH_BYTES], epath[PATH_BYTES + 16], found[FOUND_BYTES];
    unsigned first;
    ERR_TRY(get_uint(c, g, path, "first_bits", 1, ARCH_MAX_ADC_BITS, false, 1, &first));
    join(vpath, path, "values");
    config_setting_t *v = config_setting_get_member(g, "values");
    unsigned room = ARCH_MAX_ADC_BITS - first + 1;
    if (!v)
        return fail(c, g, vpath,
                    "missing, expected an array [ ... ] of 1..%u numbers in %s, for "
                    "bits %u, %u, ...",
                    room, unit, first, first + 1);
    int t = config_setting_type(v);
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
        cfgfile_describe(v, found, FOUND_BYTES);
        return fail(c, v, vpath, "found %s, expected an array [ ... ] of 1..%u numbers", found,
                    room);
    }
    unsigned n = (unsigned)config_setting_length(v);
    if (n < 1 || n > room)
        return fail(c, v, vpath,
                    "found %u values (bits %u..%u), expected 1..%u values: bits run from "
                    "first_bits = %u to at most %u",
                    n, first, first + n - 1, room, first, ARCH_MAX_ADC_BITS);
    f->kind = ARCH_BITS_TABLE;
    for (unsigned i = 0; i < n; i++) {
        snprintf(epath, sizeof epath, "%s[%u]", vpath, i);
        double x;
        ERR_TRY(num_of(c, config_setting_get_elem(v, i), epath, 0.0, false, hi, &x));
        f->table[first + i] = x;
        f->has[first + i] = true;
    }
    return 0;
}

/* A table of a cost by bits must not decrease with the bits: a wider converter never costs less,
 * and a decreasing table is almost surely a typing mistake (values in the wrong order). */
static int check_table_increasing(const ctx *c, const config_setting_t *s, const char *path,
                                  const arch_bits_fn *f, const char *unit)
{
    unsigned prev = 0;
    for (unsigned b = 1; b <= ARCH_MAX_ADC_BITS; b++) {
        if (!f->has[b])
            continue;
        if (prev && f->table[b] < f->table[prev]) {
            char vpath[PATH_BYTES];
            join(vpath, path, "values");
            const config_setting_t *v = config_setting_get_member(s, "values");
            return fail(c, v ? v : s, vpath,
                        "found %g %s at %u bits after %g %s at %u bits, expected values that do "
                        "not decrease with the bits",
                        f->table[b], unit, b, f->table[prev], unit, prev);
        }
        prev = b;
    }
    return 0;
}

/* A bits-dependent quantity at s: a number (value), a formula group
 * { kind = "linear" | "quadratic" | "exponential"; c0 = ..; c1 = ..; }, a table group
 * { kind = "table"; first_bits = ..; values = [ ... ]; } (not decreasing in the bits), a figure
 * of merit { kind = "fom"; fom = ..; } (fom x 2^bits) or { kind = "value"; value = ..; }.
 * Its values must lie in 0..hi (unit) wherever it is defined. */
static int get_bits_fn(const ctx *c, config_setting_t *s, const char *path, double hi,
                       const char *unit, arch_bits_fn *f)
{
    static const char *const formula_keys[] = {"kind", "c0", "c1", NULL};
    static const char *const table_keys[] = {"kind", "first_bits", "values", NULL};
    static const char *const value_keys[] = {"kind", "value", NULL};
    static const char *const fom_keys[] = {"kind", "fom", NULL};
    char found[FOUND_BYTES], kinds[128];
    memset(f, 0, sizeof *f);
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT) {
        f->kind = ARCH_BITS_VALUE;
        return num_of(c, s, path, 0.0, false, hi, &f->value);
    }
    cfgfile_list_names(kinds, sizeof kinds, bits_kind_names, ARCH_BITS_KIND_COUNT);
    if (t != CONFIG_TYPE_GROUP) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, path,
                    "found %s, expected a number in %s or a group { kind = ...; } with kind one "
                    "of: %s",
                    found, unit, kinds);
    }
    const char *kind = NULL;
    const config_setting_t *kat = NULL;
    char want[160];
    snprintf(want, sizeof want, "a string, one of: %s", kinds);
    ERR_TRY(get_string(c, s, path, "kind", want, &kind, &kat));
    unsigned k = 0;
    while (k < ARCH_BITS_KIND_COUNT && strcmp(kind, bits_kind_names[k]) != 0)
        k++;
    if (k == ARCH_BITS_KIND_COUNT) {
        char kpath[PATH_BYTES];
        join(kpath, path, "kind");
        return fail(c, kat, kpath, "found \"%.40s\", expected one of: %s", kind, kinds);
    }
    f->kind = (arch_bits_kind)k;
    switch (f->kind) {
    case ARCH_BITS_VALUE:
        ERR_TRY(check_keys(c, s, path, value_keys));
        ERR_TRY(get_num(c, s, path, "value", 0.0, false, hi, true, 0.0, &f->value));
        break;
    case ARCH_BITS_TABLE:
        ERR_TRY(check_keys(c, s, path, table_keys));
        ERR_TRY(get_table(c, s, path, hi, unit, f));
        ERR_TRY(check_table_increasing(c, s, path, f, unit));
        break;
    case ARCH_BITS_FOM:
        ERR_TRY(check_keys(c, s, path, fom_keys));
        ERR_TRY(get_num(c, s, path, "fom", 0.0, false, hi, true, 0.0, &f->value));
        break;
    case ARCH_BITS_LINEAR:
    case ARCH_BITS_QUADRATIC:
    case ARCH_BITS_EXPONENTIAL:
        ERR_TRY(check_keys(c, s, path, formula_keys));
        ERR_TRY(get_num(c, s, path, "c0", -INFINITY, false, INFINITY, true, 0.0, &f->c0));
        ERR_TRY(get_num(c, s, path, "c1", -INFINITY, false, INFINITY, true, 0.0, &f->c1));
        break;
    case ARCH_BITS_KIND_COUNT: /* k < ARCH_BITS_KIND_COUNT above */
        break;
    }
    return check_values(c, s, path, f, hi, unit);
}

static void describe_domain(const arch_bits_fn *f, char *buf)
{
    unsigned lo, hi;
    domain(f, &lo, &hi);
    snprintf(buf, FOUND_BYTES, "%u..%u", lo, hi);
}

/* ---- the groups ------------------------------------------------------------------------------ */

/* The static power (uW) and area (um2) of one instance of a part: optional, 0 when absent. */
static int get_static_area(const ctx *c, config_setting_t *g, const char *p, double *static_uw,
                           double *area_um2)
{
    ERR_TRY(get_num(c, g, p, "static_power_uw", 0.0, false, MAX_UW, false, 0.0, static_uw));
    ERR_TRY(get_num(c, g, p, "area_um2", 0.0, false, MAX_UM2, false, 0.0, area_um2));
    return 0;
}

/* The configured resolution must be one the bits-dependent quantity f (at fpath) is known for. */
static int check_bits_defined(const ctx *c, const config_setting_t *bs, const char *path,
                              unsigned bits, const arch_bits_fn *f, const char *fpath)
{
    char dom[FOUND_BYTES];
    if (arch_bits_fn_defined(f, bits))
        return 0;
    describe_domain(f, dom);
    return fail(c, bs, path, "found %u, expected a bit count where %s is defined (%s)", bits, fpath,
                dom);
}

static int get_dac(const ctx *c, config_setting_t *tiles, arch *a)
{
    static const char *const keys[] = {"bits",     "latency_ns", "energy_pj", "static_power_uw",
                                       "area_um2", NULL};
    const char *p = "arch.tiles.dac";
    config_setting_t *g;
    ERR_TRY(get_group(c, tiles, "arch.tiles", "dac", true, keys, &g));
    ERR_TRY(get_uint(c, g, p, "bits", 1, 8, true, 0, &a->tiles.dac.bits));
    ERR_TRY(
        get_num(c, g, p, "latency_ns", 0.0, false, MAX_NS, false, 0.0, &a->tiles.dac.latency_ns));
    /* Energy per conversion, at the DAC's own resolution: a number, or a function of the bits
     * (so a sweep of dac.bits rescales it); absent, 0. */
    char epath[PATH_BYTES];
    join(epath, p, "energy_pj");
    config_setting_t *es = config_setting_get_member(g, "energy_pj");
    memset(&a->tiles.dac.energy_pj, 0, sizeof a->tiles.dac.energy_pj);
    a->tiles.dac.energy_pj.kind = ARCH_BITS_VALUE;
    if (es) {
        ERR_TRY(get_bits_fn(c, es, epath, MAX_PJ, "pJ", &a->tiles.dac.energy_pj));
        char bpath[PATH_BYTES];
        join(bpath, p, "bits");
        ERR_TRY(check_bits_defined(c, config_setting_get_member(g, "bits"), bpath,
                                   a->tiles.dac.bits, &a->tiles.dac.energy_pj, epath));
    }
    return get_static_area(c, g, p, &a->tiles.dac.static_power_uw, &a->tiles.dac.area_um2);
}

static int get_sample_hold(const ctx *c, config_setting_t *tiles, arch *a)
{
    static const char *const keys[] = {"energy_pj", "static_power_uw", "area_um2", NULL};
    const char *p = "arch.tiles.sample_hold";
    config_setting_t *g;
    ERR_TRY(get_group(c, tiles, "arch.tiles", "sample_hold", false, keys, &g));
    if (!g)
        return 0;
    ERR_TRY(get_num(c, g, p, "energy_pj", 0.0, false, MAX_PJ, false, 0.0,
                    &a->tiles.sample_hold.energy_pj));
    return get_static_area(c, g, p, &a->tiles.sample_hold.static_power_uw,
                           &a->tiles.sample_hold.area_um2);
}

static int get_shift_add(const ctx *c, config_setting_t *tiles, arch *a)
{
    static const char *const keys[] = {"count", "energy_pj", "static_power_uw", "area_um2", NULL};
    const char *p = "arch.tiles.shift_add";
    config_setting_t *g;
    ERR_TRY(get_group(c, tiles, "arch.tiles", "shift_add", false, keys, &g));
    if (!g)
        return 0;
    ERR_TRY(get_uint(c, g, p, "count", 0, a->tiles.cols, true, 0, &a->tiles.shift_add.count));
    ERR_TRY(get_num(c, g, p, "energy_pj", 0.0, false, MAX_PJ, false, 0.0,
                    &a->tiles.shift_add.energy_pj));
    return get_static_area(c, g, p, &a->tiles.shift_add.static_power_uw,
                           &a->tiles.shift_add.area_um2);
}

/* Exactly one of the keys `a_key` / `b_key` of g; *which is 0 or 1, *s the setting. */
static int one_of(const ctx *c, config_setting_t *g, const char *gpath, const char *a_key,
                  const char *b_key, const char *want, int *which, config_setting_t **s)
{
    char path[PATH_BYTES];
    config_setting_t *sa = config_setting_get_member(g, a_key);
    config_setting_t *sb = config_setting_get_member(g, b_key);
    if (sa && sb) {
        join(path, gpath, b_key);
        return fail(c, sb, path, "found both %s (line %u) and %s, expected exactly one of them",
                    a_key, cfgfile_line_of(sa), b_key);
    }
    if (!sa && !sb) {
        join(path, gpath, a_key);
        return fail(c, g, path, "missing, expected %s", want);
    }
    *which = sa ? 0 : 1;
    *s = sa ? sa : sb;
    return 0;
}

static int get_adc(const ctx *c, config_setting_t *tiles, arch *a)
{
    static const char *const keys[] = {"count",       "bits",      "strict_bits", "time_ns",
                                       "time_cycles", "energy_pj", "power_mw",    "static_power_uw",
                                       "area_um2",    NULL};
    const char *p = "arch.tiles.adc";
    char path[PATH_BYTES], tpath[PATH_BYTES];
    config_setting_t *g, *ts = NULL, *es;
    int which = 0;
    ERR_TRY(get_group(c, tiles, "arch.tiles", "adc", true, keys, &g));
    ERR_TRY(get_uint(c, g, p, "count", 1, a->tiles.cols, true, 0, &a->tiles.adc.count));
    ERR_TRY(get_uint(c, g, p, "bits", 1, ARCH_MAX_ADC_BITS, true, 0, &a->tiles.adc.bits));
    ERR_TRY(get_bool(c, g, p, "strict_bits", false, &a->tiles.adc.strict_bits));

    /* Conversion time: time_ns in any form, or time_cycles (a number) times the clock period. */
    ERR_TRY(one_of(c, g, p, "time_ns", "time_cycles",
                   "the conversion time as time_ns (ns: a number, formula or table) or time_cycles "
                   "(clock cycles)",
                   &which, &ts));
    join(tpath, p, which ? "time_cycles" : "time_ns");
    if (which == 0)
        ERR_TRY(get_bits_fn(c, ts, tpath, MAX_NS, "ns", &a->tiles.adc.time_ns));
    else {
        double cycles;
        ERR_TRY(num_of(c, ts, tpath, 0.0, false, MAX_CYCLES, &cycles));
        double ns = cycles * (double)a->cycle_ps / 1e3;
        if (ns > MAX_NS)
            return fail(c, ts, tpath, "found %g cycles = %g ns, expected at most %g ns", cycles, ns,
                        MAX_NS);
        memset(&a->tiles.adc.time_ns, 0, sizeof a->tiles.adc.time_ns);
        a->tiles.adc.time_ns.kind = ARCH_BITS_VALUE;
        a->tiles.adc.time_ns.value = ns;
    }

    /* Conversion energy per conversion. Power x conversion time is refused: when both grow with
     * the bits their product counts the bits twice (an ADC is characterised per conversion). */
    config_setting_t *pw = config_setting_get_member(g, "power_mw");
    if (pw) {
        join(path, p, "power_mw");
        return fail(c, pw, path,
                    "found a power, expected energy_pj: the energy of one conversion (a number, "
                    "a table by bits or { kind = \"fom\"; fom = PJ; } for FoM x 2^bits); power x "
                    "conversion time double-counts the bits");
    }
    join(path, p, "energy_pj");
    es = config_setting_get_member(g, "energy_pj");
    if (!es)
        return fail(c, g, path,
                    "missing, expected the energy of one conversion in pJ (a number, formula, "
                    "table by bits or figure of merit)");
    ERR_TRY(get_bits_fn(c, es, path, MAX_PJ, "pJ", &a->tiles.adc.energy_pj));
    ERR_TRY(get_num(c, g, p, "static_power_uw", 0.0, false, MAX_UW, false, 0.0,
                    &a->tiles.adc.static_power_uw));
    join(path, p, "area_um2");
    config_setting_t *as = config_setting_get_member(g, "area_um2");
    if (as)
        ERR_TRY(get_bits_fn(c, as, path, MAX_UM2, "um2", &a->tiles.adc.area_um2));
    else {
        memset(&a->tiles.adc.area_um2, 0, sizeof a->tiles.adc.area_um2);
        a->tiles.adc.area_um2.kind = ARCH_BITS_VALUE;
    }

    /* The configured resolution must be one the time, energy and area are known for. */
    char fpath[PATH_BYTES];
    join(path, p, "bits");
    const config_setting_t *bs = config_setting_get_member(g, "bits");
    unsigned bits = a->tiles.adc.bits;
    ERR_TRY(check_bits_defined(c, bs, path, bits, &a->tiles.adc.time_ns, tpath));
    join(fpath, p, "energy_pj");
    ERR_TRY(check_bits_defined(c, bs, path, bits, &a->tiles.adc.energy_pj, fpath));
    join(fpath, p, "area_um2");
    ERR_TRY(check_bits_defined(c, bs, path, bits, &a->tiles.adc.area_um2, fpath));
    unsigned need = arch_adc_bits_needed(a);
    if (a->tiles.adc.strict_bits && a->tiles.adc.bits > need)
        return fail(c, bs, path,
                    "found %u, expected at most %u: strict_bits is set and a column sum of %u rows "
                    "x %u-bit cells x %u-bit inputs needs %u bits",
                    a->tiles.adc.bits, need, a->tiles.rows_active, a->tiles.cell_bits,
                    a->tiles.dac.bits, need);
    return 0;
}

static int get_crossbar(const ctx *c, config_setting_t *tiles, arch *a)
{
    static const char *const keys[] = {
        "read_latency_ns",    "read_energy_pj",    "cell_read_energy_pj",
        "execute_ns_per_bit", "write_ns_per_tile", "write_energy_pj_per_cell",
        "static_power_uw",    "cell_area_um2",     NULL};
    const char *p = "arch.tiles.crossbar";
    config_setting_t *g;
    ERR_TRY(get_group(c, tiles, "arch.tiles", "crossbar", false, keys, &g));
    if (g) {
        ERR_TRY(get_num(c, g, p, "read_latency_ns", 0.0, false, MAX_NS, false, 0.0,
                        &a->tiles.crossbar.read_latency_ns));
        ERR_TRY(get_num(c, g, p, "read_energy_pj", 0.0, false, MAX_PJ, false, 0.0,
                        &a->tiles.crossbar.read_energy_pj));
        ERR_TRY(get_num(c, g, p, "cell_read_energy_pj", 0.0, false, MAX_PJ, false, 0.0,
                        &a->tiles.crossbar.cell_read_energy_pj));
        ERR_TRY(get_num(c, g, p, "execute_ns_per_bit", 0.0, false, MAX_NS, false, 0.0,
                        &a->tiles.crossbar.execute_ns_per_bit));
        ERR_TRY(get_num(c, g, p, "write_ns_per_tile", 0.0, false, MAX_NS, false, 0.0,
                        &a->tiles.crossbar.write_ns_per_tile));
        ERR_TRY(get_num(c, g, p, "write_energy_pj_per_cell", 0.0, false, MAX_PJ, false, 0.0,
                        &a->tiles.crossbar.write_energy_pj_per_cell));
        ERR_TRY(get_num(c, g, p, "static_power_uw", 0.0, false, MAX_UW, false, 0.0,
                        &a->tiles.crossbar.static_power_uw));
        ERR_TRY(get_num(c, g, p, "cell_area_um2", 0.0, false, MAX_UM2, false, 0.0,
                        &a->tiles.crossbar.cell_area_um2));
    }
    /* A reprogram-mode chip rewrites a tile per logical tile: a free write is surely a mistake. */
    if (a->mode == ARCH_MODE_REPROGRAM && !(a->tiles.crossbar.write_ns_per_tile > 0.0)) {
        const config_setting_t *s = g ? config_setting_get_member(g, "write_ns_per_tile") : NULL;
        if (s)
            return fail(c, s, "arch.tiles.crossbar.write_ns_per_tile",
                        "found 0, expected a time > 0 ns: arch.mode is reprogram");
        return fail(c, g ? g : tiles, "arch.tiles.crossbar.write_ns_per_tile",
                    "missing, expected a time > 0 ns: arch.mode is reprogram");
    }
    return 0;
}

static int get_tiles(const ctx *c, config_setting_t *root, arch *a)
{
    static const char *const keys[] = {"count",
                                       "rows",
                                       "cols",
                                       "cell_bits",
                                       "rows_active",
                                       "mapping",
                                       "whole_cell_weights",
                                       "psum_bits",
                                       "dac",
                                       "sample_hold",
                                       "adc",
                                       "shift_add",
                                       "crossbar",
                                       "device",
                                       NULL};
    const char *p = "arch.tiles";
    char path[PATH_BYTES], names[160];
    config_setting_t *g;
    ERR_TRY(get_group(c, root, "arch", "tiles", true, keys, &g));
    ERR_TRY(get_uint(c, g, p, "count", 1, MAX_COUNT, true, 0, &a->tiles.count));
    ERR_TRY(get_uint(c, g, p, "rows", 1, MAX_DIM, true, 0, &a->tiles.rows));
    ERR_TRY(get_uint(c, g, p, "cols", 1, MAX_DIM, true, 0, &a->tiles.cols));
    ERR_TRY(get_uint(c, g, p, "cell_bits", 1, 8, true, 0, &a->tiles.cell_bits));
    ERR_TRY(get_uint(c, g, p, "rows_active", 1, a->tiles.rows, false, a->tiles.rows,
                     &a->tiles.rows_active));

    cfgfile_list_names(names, sizeof names, mapping_names, ARCH_MAP_COUNT);
    char want[200];
    snprintf(want, sizeof want, "a string, one of: %s", names);
    const char *mapping = NULL;
    const config_setting_t *ms = NULL;
    ERR_TRY(get_string(c, g, p, "mapping", want, &mapping, &ms));
    join(path, p, "mapping");
    if (arch_mapping_parse(mapping, &a->tiles.mapping) < 0)
        return fail(c, ms, path, "found \"%.40s\", expected one of: %s", mapping, names);
    unsigned m = a->tiles.mapping;
    if (mapping_col_factor[m] + mapping_extra_cols[m] > a->tiles.cols ||
        mapping_row_factor[m] > a->tiles.rows)
        return fail(c, ms, path,
                    "found \"%s\", which needs %u columns and %u rows per weight, expected a "
                    "mapping that fits a %u x %u crossbar",
                    mapping, mapping_col_factor[m] + mapping_extra_cols[m], mapping_row_factor[m],
                    a->tiles.rows, a->tiles.cols);

    ERR_TRY(get_bool(c, g, p, "whole_cell_weights", false, &a->tiles.whole_cell_weights));
    ERR_TRY(get_uint(c, g, p, "psum_bits", 1, 64, true, 0, &a->tiles.psum_bits));
    ERR_TRY(get_dac(c, g, a));
    ERR_TRY(get_sample_hold(c, g, a));
    ERR_TRY(get_adc(c, g, a));
    ERR_TRY(get_shift_add(c, g, a));
    ERR_TRY(get_crossbar(c, g, a));
    return device_parse(config_setting_get_member(g, "device"), c->origin, a->tiles.cell_bits,
                        &a->tiles.device, c->e);
}

static int get_bus(const ctx *c, config_setting_t *groups, const char *key, arch_bus *b)
{
    static const char *const keys[] = {"lanes",
                                       "lane_bits",
                                       "cycles_per_transfer",
                                       "energy_pj_per_bit",
                                       "static_power_uw_per_wire",
                                       "area_um2_per_wire",
                                       NULL};
    char p[PATH_BYTES];
    config_setting_t *g;
    join(p, "arch.groups", key);
    ERR_TRY(get_group(c, groups, "arch.groups", key, true, keys, &g));
    ERR_TRY(get_uint(c, g, p, "lanes", 1, MAX_DIM, true, 0, &b->lanes));
    ERR_TRY(get_uint(c, g, p, "lane_bits", 1, 1024, true, 0, &b->lane_bits));
    ERR_TRY(
        get_uint(c, g, p, "cycles_per_transfer", 0, MAX_CYCLES, true, 0, &b->cycles_per_transfer));
    ERR_TRY(get_num(c, g, p, "energy_pj_per_bit", 0.0, false, MAX_PJ, false, 0.0,
                    &b->energy_pj_per_bit));
    ERR_TRY(get_num(c, g, p, "static_power_uw_per_wire", 0.0, false, MAX_UW, false, 0.0,
                    &b->static_power_uw_per_wire));
    ERR_TRY(get_num(c, g, p, "area_um2_per_wire", 0.0, false, MAX_UM2, false, 0.0,
                    &b->area_um2_per_wire));
    return 0;
}

static int get_groups(const ctx *c, config_setting_t *root, arch *a)
{
    static const char *const keys[] = {"tiles", "in_bus", "out_bus", NULL};
    config_setting_t *g;
    ERR_TRY(get_group(c, root, "arch", "groups", true, keys, &g));
    ERR_TRY(get_uint(c, g, "arch.groups", "tiles", 1, a->tiles.count, true, 0, &a->groups.tiles));
    ERR_TRY(get_bus(c, g, "in_bus", &a->groups.in_bus));
    ERR_TRY(get_bus(c, g, "out_bus", &a->groups.out_bus));
    return 0;
}

static int get_vector(const ctx *c, config_setting_t *root, arch *a)
{
    static const char *const keys[] = {"count",
                                       "lanes",
                                       "cycles_per_op",
                                       "sram_bytes",
                                       "sram_read_pj_per_byte",
                                       "sram_write_pj_per_byte",
                                       "sram_leakage_uw_per_kib",
                                       "sram_area_um2_per_kib",
                                       "op_energy_pj",
                                       "lane_static_power_uw",
                                       "lane_area_um2",
                                       NULL};
    const char *p = "arch.vector";
    config_setting_t *g;
    long long bytes;
    ERR_TRY(get_group(c, root, "arch", "vector", true, keys, &g));
    /* One vector module serves each group of tiles (its buses' far end). */
    unsigned groups = arch_groups(a);
    ERR_TRY(get_uint(c, g, p, "count", 1, MAX_COUNT, true, 0, &a->vector.count));
    if (a->vector.count != groups)
        return fail(c, config_setting_get_member(g, "count"), "arch.vector.count",
                    "found %u, expected %u: one vector module per group, ceil(arch.tiles.count = "
                    "%u / arch.groups.tiles = %u)",
                    a->vector.count, groups, a->tiles.count, a->groups.tiles);
    ERR_TRY(get_uint(c, g, p, "lanes", 1, MAX_DIM, true, 0, &a->vector.lanes));
    ERR_TRY(get_uint(c, g, p, "cycles_per_op", 0, MAX_CYCLES, true, 0, &a->vector.cycles_per_op));
    ERR_TRY(get_int(c, g, p, "sram_bytes", 1, (long long)MAX_SRAM_BYTES, true, 0, &bytes));
    a->vector.sram_bytes = (unsigned long)bytes;
    ERR_TRY(get_num(c, g, p, "sram_read_pj_per_byte", 0.0, false, MAX_PJ, false, 0.0,
                    &a->vector.sram_read_pj_per_byte));
    ERR_TRY(get_num(c, g, p, "sram_write_pj_per_byte", 0.0, false, MAX_PJ, false, 0.0,
                    &a->vector.sram_write_pj_per_byte));
    ERR_TRY(get_num(c, g, p, "sram_leakage_uw_per_kib", 0.0, false, MAX_UW, false, 0.0,
                    &a->vector.sram_leakage_uw_per_kib));
    ERR_TRY(get_num(c, g, p, "sram_area_um2_per_kib", 0.0, false, MAX_UM2, false, 0.0,
                    &a->vector.sram_area_um2_per_kib));
    ERR_TRY(
        get_num(c, g, p, "op_energy_pj", 0.0, false, MAX_PJ, false, 0.0, &a->vector.op_energy_pj));
    ERR_TRY(get_num(c, g, p, "lane_static_power_uw", 0.0, false, MAX_UW, false, 0.0,
                    &a->vector.lane_static_power_uw));
    ERR_TRY(get_num(c, g, p, "lane_area_um2", 0.0, false, MAX_UM2, false, 0.0,
                    &a->vector.lane_area_um2));
    return 0;
}

/* arch.noc = { topology = "mesh" | "ring" | "bus"; rows; cols (mesh); link_bits; router_cycles;
 * energy_pj_per_bit_hop; static_power_uw; area_um2 (per router) }: optional (none: free). */
static int get_noc(const ctx *c, config_setting_t *root, arch *a)
{
    static const char *const keys[] = {"topology",        "rows",          "cols",
                                       "link_bits",       "router_cycles", "energy_pj_per_bit_hop",
                                       "static_power_uw", "area_um2",      NULL};
    const char *p = "arch.noc";
    char names[128], want[200];
    config_setting_t *g;
    ERR_TRY(get_group(c, root, "arch", "noc", false, keys, &g));
    a->noc = (arch_noc){.topology = ARCH_NOC_NONE};
    if (!g)
        return 0;
    cfgfile_list_names(names, sizeof names, noc_names + 1, ARCH_NOC_COUNT - 1);
    snprintf(want, sizeof want, "a string, one of: %s", names);
    const char *s;
    const config_setting_t *at;
    ERR_TRY(get_string(c, g, p, "topology", want, &s, &at));
    unsigned t = 1;
    while (t < ARCH_NOC_COUNT && strcmp(s, noc_names[t]) != 0)
        t++;
    if (t == ARCH_NOC_COUNT)
        return fail(c, at, "arch.noc.topology", "found \"%.40s\", expected one of: %s", s, names);
    a->noc.topology = (arch_noc_topology)t;
    unsigned groups = arch_groups(a);
    if (a->noc.topology == ARCH_NOC_MESH) {
        ERR_TRY(get_uint(c, g, p, "rows", 1, MAX_DIM, true, 0, &a->noc.rows));
        ERR_TRY(get_uint(c, g, p, "cols", 1, MAX_DIM, true, 0, &a->noc.cols));
        if ((uint64_t)a->noc.rows * a->noc.cols < groups)
            return fail(c, config_setting_get_member(g, "cols"), "arch.noc.cols",
                        "found a mesh of %u x %u = %llu routers, expected at least one per group "
                        "(%u groups)",
                        a->noc.rows, a->noc.cols, (unsigned long long)a->noc.rows * a->noc.cols,
                        groups);
    } else {
        for (const char *const *k = (const char *const[]){"rows", "cols", NULL}; *k; k++)
            if (config_setting_get_member(g, *k)) {
                char path[PATH_BYTES];
                join(path, p, *k);
                return fail(c, config_setting_get_member(g, *k), path,
                            "found a size for a %s, expected none (only a mesh has rows and "
                            "columns)",
                            noc_names[t]);
            }
        a->noc.rows = 1;
        a->noc.cols = a->noc.topology == ARCH_NOC_RING ? groups : 1;
    }
    ERR_TRY(get_uint(c, g, p, "link_bits", 1, 4096, true, 0, &a->noc.link_bits));
    ERR_TRY(get_uint(c, g, p, "router_cycles", 0, MAX_CYCLES, true, 0, &a->noc.router_cycles));
    ERR_TRY(get_num(c, g, p, "energy_pj_per_bit_hop", 0.0, false, MAX_PJ, true, 0.0,
                    &a->noc.energy_pj_per_bit_hop));
    ERR_TRY(get_static_area(c, g, p, &a->noc.router_static_power_uw, &a->noc.router_area_um2));
    return 0;
}

/* arch.<key> = { links; gbytes_per_s; latency_ns; energy_pj_per_bit; static_power_uw; area_um2 }:
 * optional (absent: x->present false). */
static int get_xlink(const ctx *c, config_setting_t *root, const char *key, arch_xlink *x)
{
    static const char *const keys[] = {
        "links",           "gbytes_per_s", "latency_ns", "energy_pj_per_bit",
        "static_power_uw", "area_um2",     NULL};
    char p[PATH_BYTES];
    join(p, "arch", key);
    config_setting_t *g;
    ERR_TRY(get_group(c, root, "arch", key, false, keys, &g));
    *x = (arch_xlink){.present = g != NULL};
    if (!g)
        return 0;
    ERR_TRY(get_uint(c, g, p, "links", 1, MAX_DIM, false, 1, &x->links));
    ERR_TRY(get_num(c, g, p, "gbytes_per_s", 0.0, true, 1e6, true, 0.0, &x->gbytes_per_s));
    ERR_TRY(get_num(c, g, p, "latency_ns", 0.0, false, MAX_NS, true, 0.0, &x->latency_ns));
    ERR_TRY(get_num(c, g, p, "energy_pj_per_bit", 0.0, false, MAX_PJ, true, 0.0,
                    &x->energy_pj_per_bit));
    return get_static_area(c, g, p, &x->static_power_uw, &x->area_um2);
}

/* arch.chips (default 1) and arch.interchip, which a system of more than one chip needs. */
static int get_chips(const ctx *c, config_setting_t *root, arch *a)
{
    ERR_TRY(get_uint(c, root, "arch", "chips", 1, ARCH_MAX_CHIPS, false, 1, &a->chips));
    ERR_TRY(get_xlink(c, root, "interchip", &a->interchip));
    if (a->chips > 1 && a->mode != ARCH_MODE_WEIGHT_STATIONARY)
        return fail(c, config_setting_get_member(root, "chips"), "arch.chips",
                    "found %u chips in %s mode, expected 1 (a system of chips holds its weights "
                    "in place: weight_stationary)",
                    a->chips, mode_names[a->mode]);
    if (a->chips > 1 && !a->interchip.present)
        return fail(c, config_setting_get_member(root, "chips"), "arch.chips",
                    "found %u chips and no arch.interchip group, expected an arch.interchip = { "
                    "links; gbytes_per_s; latency_ns; energy_pj_per_bit; ... } to link them",
                    a->chips);
    return 0;
}

/* arch.other_parts = ( { name = ".."; scope = "chip" | "group"; count = ..; static_power_uw = ..;
 * area_um2 = ..; }, ... ): optional. */
static int get_other_parts(const ctx *c, config_setting_t *root, arch *a)
{
    static const char *const keys[] = {"name",     "scope", "count", "static_power_uw",
                                       "area_um2", NULL};
    char path[PATH_BYTES], found[FOUND_BYTES], names[64], want[128];
    config_setting_t *l = config_setting_get_member(root, "other_parts");
    if (!l)
        return 0;
    int t = config_setting_type(l);
    if ((t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY) ||
        config_setting_length(l) > ARCH_MAX_OTHER_PARTS) {
        cfgfile_describe(l, found, FOUND_BYTES);
        return fail(c, l, "arch.other_parts",
                    "found %s, expected a list ( { ... }, ... ) of at most %d parts", found,
                    ARCH_MAX_OTHER_PARTS);
    }
    cfgfile_list_names(names, sizeof names, scope_names, ARCH_SCOPE_COUNT);
    snprintf(want, sizeof want, "a string, one of: %s", names);
    a->n_other_parts = (unsigned)config_setting_length(l);
    for (unsigned i = 0; i < a->n_other_parts; i++) {
        config_setting_t *g = config_setting_get_elem(l, i);
        arch_other_part *op = &a->other_parts[i];
        snprintf(path, sizeof path, "arch.other_parts[%u]", i);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            cfgfile_describe(g, found, FOUND_BYTES);
            return fail(c, g, path, "found %s, expected a group { name = ...; ... }", found);
        }
        ERR_TRY(check_keys(c, g, path, keys));
        const char *s = NULL;
        const config_setting_t *at = NULL;
        ERR_TRY(get_string(c, g, path, "name", "a string of 1..47 characters", &s, &at));
        if (!*s || strlen(s) >= ARCH_PART_NAME_BYTES) {
            char npath[PATH_BYTES + 8];
            snprintf(npath, sizeof npath, "%s.name", path);
            return fail(c, at, npath, "found \"%.40s\" (%zu characters), expected 1..%d characters",
                        s, strlen(s), ARCH_PART_NAME_BYTES - 1);
        }
        snprintf(op->name, sizeof op->name, "%s", s);
        ERR_TRY(get_string(c, g, path, "scope", want, &s, &at));
        unsigned k = 0;
        while (k < ARCH_SCOPE_COUNT && strcmp(s, scope_names[k]) != 0)
            k++;
        if (k == ARCH_SCOPE_COUNT) {
            char spath[PATH_BYTES + 8];
            snprintf(spath, sizeof spath, "%s.scope", path);
            return fail(c, at, spath, "found \"%.40s\", expected one of: %s", s, names);
        }
        op->scope = (arch_scope)k;
        ERR_TRY(get_num(c, g, path, "count", 0.0, false, MAX_COUNT, true, 0.0, &op->count));
        ERR_TRY(get_static_area(c, g, path, &op->static_power_uw, &op->area_um2));
    }
    return 0;
}

static bool name_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.' || ch == '+';
}

/* Fill *a from the root of a parsed config; a owns what it holds even on error. */
static int get_arch(const ctx *c, config_setting_t *root, arch *a)
{
    static const char *const keys[] = {
        "name",           "mode",  "clock_mhz", "peak_bits", "power_gating",
        "gated_fraction", "tiles", "groups",    "vector",    "noc",
        "other_parts",    "chips", "interchip", "offchip",   NULL};
    char names[128], want[200];
    config_setting_t *g = config_setting_get_member(root, "arch");
    if (!g)
        return fail(c, root, "arch", "missing, expected a group arch = { ... };");
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        char found[FOUND_BYTES];
        cfgfile_describe(g, found, FOUND_BYTES);
        return fail(c, g, "arch", "found %s, expected a group arch = { ... };", found);
    }
    ERR_TRY(check_keys(c, g, "arch", keys));

    const char *s = NULL;
    const config_setting_t *at = NULL;
    ERR_TRY(get_string(c, g, "arch", "name", "a string of 1..64 characters A-Z a-z 0-9 _ - . +", &s,
                       &at));
    size_t len = strlen(s);
    bool ok = len >= 1 && len <= MAX_NAME;
    for (size_t i = 0; ok && i < len; i++)
        ok = name_char_ok(s[i]);
    if (!ok)
        return fail(c, at, "arch.name",
                    "found \"%.40s\"%s (%zu characters), expected 1..64 characters from A-Z a-z "
                    "0-9 _ - . +",
                    s, len > 40 ? "..." : "", len);
    a->name = mem_strdup(s, "arch name");

    cfgfile_list_names(names, sizeof names, mode_names, ARCH_MODE_COUNT);
    snprintf(want, sizeof want, "a string, one of: %s", names);
    ERR_TRY(get_string(c, g, "arch", "mode", want, &s, &at));
    if (arch_mode_parse(s, &a->mode) < 0)
        return fail(c, at, "arch.mode", "found \"%.40s\", expected one of: %s", s, names);

    ERR_TRY(get_num(c, g, "arch", "clock_mhz", MIN_CLOCK_MHZ, false, MAX_CLOCK_MHZ, true, 0.0,
                    &a->clock_mhz));
    a->cycle_ps = simtime_period_ps(a->clock_mhz);

    ERR_TRY(get_uint(c, g, "arch", "peak_bits", 1, 32, false, 8, &a->peak_bits));
    ERR_TRY(get_bool(c, g, "arch", "power_gating", false, &a->power_gating));
    ERR_TRY(
        get_num(c, g, "arch", "gated_fraction", 0.0, false, 1.0, false, 0.0, &a->gated_fraction));

    ERR_TRY(get_tiles(c, g, a));
    ERR_TRY(get_groups(c, g, a));
    ERR_TRY(get_vector(c, g, a));
    ERR_TRY(get_noc(c, g, a));
    ERR_TRY(get_chips(c, g, a));
    ERR_TRY(get_xlink(c, g, "offchip", &a->offchip));
    ERR_TRY(get_other_parts(c, g, a));
    return 0;
}

/* ---- loading --------------------------------------------------------------------------------- */

/* Fill *out from a parsed config (named origin in messages) and destroy the config. */
int arch_load_config(config_t *cfg, const char *origin, arch *out, err *e)
{
    ctx c = {.origin = origin, .e = e};
    arch a;
    memset(&a, 0, sizeof a);
    int rc = get_arch(&c, config_root_setting(cfg), &a);
    config_destroy(cfg);
    if (rc < 0) {
        arch_fini(&a);
        return rc;
    }
    a.origin = mem_strdup(origin, "arch origin");
    *out = a;
    return 0;
}

int arch_load_string(const char *text, const char *origin, arch *out, err *e)
{
    assert(text && out);
    config_t cfg;
    origin = origin ? origin : "(string)";
    ERR_TRY(cfgfile_parse(text, strlen(text), origin, NULL, &cfg, e));
    return arch_load_config(&cfg, origin, out, e);
}

int arch_load_file(const char *path, arch *out, err *e)
{
    assert(path && out);
    config_t cfg;
    ERR_TRY(cfgfile_parse_file(path, &cfg, e));
    return arch_load_config(&cfg, path, out, e);
}

void arch_fini(arch *a)
{
    if (!a)
        return;
    free(a->origin);
    free(a->name);
    a->origin = NULL;
    a->name = NULL;
}

/* ---- printing -------------------------------------------------------------------------------- */

static void print_bits_fn(FILE *out, const char *path, const arch_bits_fn *f, unsigned bits,
                          const char *unit)
{
    fprintf(out, "%s = ", path);
    switch (f->kind) {
    case ARCH_BITS_VALUE:
        fprintf(out, "%.10g %s", f->value, unit);
        break;
    case ARCH_BITS_TABLE: {
        fprintf(out, "table {");
        bool first = true;
        for (unsigned b = 1; b <= ARCH_MAX_ADC_BITS; b++)
            if (f->has[b]) {
                fprintf(out, "%s %u: %.10g", first ? "" : ",", b, f->table[b]);
                first = false;
            }
        fprintf(out, " } %s", unit);
        break;
    }
    case ARCH_BITS_LINEAR:
        fprintf(out, "linear %.10g + %.10g * b %s", f->c0, f->c1, unit);
        break;
    case ARCH_BITS_QUADRATIC:
        fprintf(out, "quadratic %.10g + %.10g * b^2 %s", f->c0, f->c1, unit);
        break;
    case ARCH_BITS_EXPONENTIAL:
        fprintf(out, "exponential %.10g * %.10g^b %s", f->c0, f->c1, unit);
        break;
    case ARCH_BITS_FOM:
        fprintf(out, "fom %.10g * 2^b %s", f->value, unit);
        break;
    case ARCH_BITS_KIND_COUNT:
        break;
    }
    fprintf(out, " (at %u bits: %.10g %s)\n", bits, arch_bits_fn_eval(f, bits), unit);
}

static void print_bus(FILE *out, const char *name, const arch_bus *b)
{
    fprintf(out, "arch.groups.%s.lanes = %u lanes\n", name, b->lanes);
    fprintf(out, "arch.groups.%s.lane_bits = %u bits\n", name, b->lane_bits);
    fprintf(out, "arch.groups.%s.cycles_per_transfer = %u cycles\n", name, b->cycles_per_transfer);
    fprintf(out, "arch.groups.%s.energy_pj_per_bit = %.10g pJ\n", name, b->energy_pj_per_bit);
    fprintf(out, "arch.groups.%s.static_power_uw_per_wire = %.10g uW\n", name,
            b->static_power_uw_per_wire);
    fprintf(out, "arch.groups.%s.area_um2_per_wire = %.10g um2\n", name, b->area_um2_per_wire);
}

static void print_xlink(FILE *out, const char *name, const arch_xlink *x)
{
    if (!x->present)
        return;
    fprintf(out, "arch.%s.links = %u links\n", name, x->links);
    fprintf(out, "arch.%s.gbytes_per_s = %.10g GB/s per link\n", name, x->gbytes_per_s);
    fprintf(out, "arch.%s.latency_ns = %.10g ns\n", name, x->latency_ns);
    fprintf(out, "arch.%s.energy_pj_per_bit = %.10g pJ\n", name, x->energy_pj_per_bit);
    fprintf(out, "arch.%s.static_power_uw = %.10g uW\n", name, x->static_power_uw);
    fprintf(out, "arch.%s.area_um2 = %.10g um2\n", name, x->area_um2);
}

void arch_print(const arch *a, FILE *out)
{
    const unsigned bits = a->tiles.adc.bits;
    fprintf(out, "# arch loaded from %s\n", a->origin ? a->origin : "(unknown)");
    fprintf(out, "arch.name = \"%s\"\n", a->name ? a->name : "");
    fprintf(out, "arch.mode = %s\n", arch_mode_name(a->mode));
    fprintf(out, "arch.clock_mhz = %.10g MHz\n", a->clock_mhz);
    fprintf(out, "arch.peak_bits = %u bits\n", a->peak_bits);
    fprintf(out, "arch.power_gating = %s\n", a->power_gating ? "true" : "false");
    fprintf(out, "arch.gated_fraction = %.10g\n", a->gated_fraction);
    fprintf(out, "arch.tiles.count = %u tiles\n", a->tiles.count);
    fprintf(out, "arch.tiles.rows = %u rows\n", a->tiles.rows);
    fprintf(out, "arch.tiles.cols = %u columns\n", a->tiles.cols);
    fprintf(out, "arch.tiles.cell_bits = %u bits\n", a->tiles.cell_bits);
    fprintf(out, "arch.tiles.rows_active = %u rows\n", a->tiles.rows_active);
    fprintf(out, "arch.tiles.mapping = %s\n", arch_mapping_name(a->tiles.mapping));
    fprintf(out, "arch.tiles.whole_cell_weights = %s\n",
            a->tiles.whole_cell_weights ? "true" : "false");
    fprintf(out, "arch.tiles.psum_bits = %u bits\n", a->tiles.psum_bits);
    fprintf(out, "arch.tiles.dac.bits = %u bits\n", a->tiles.dac.bits);
    fprintf(out, "arch.tiles.dac.latency_ns = %.10g ns\n", a->tiles.dac.latency_ns);
    print_bits_fn(out, "arch.tiles.dac.energy_pj", &a->tiles.dac.energy_pj, a->tiles.dac.bits,
                  "pJ");
    fprintf(out, "arch.tiles.dac.static_power_uw = %.10g uW\n", a->tiles.dac.static_power_uw);
    fprintf(out, "arch.tiles.dac.area_um2 = %.10g um2\n", a->tiles.dac.area_um2);
    fprintf(out, "arch.tiles.sample_hold.energy_pj = %.10g pJ\n", a->tiles.sample_hold.energy_pj);
    fprintf(out, "arch.tiles.sample_hold.static_power_uw = %.10g uW\n",
            a->tiles.sample_hold.static_power_uw);
    fprintf(out, "arch.tiles.sample_hold.area_um2 = %.10g um2\n", a->tiles.sample_hold.area_um2);
    fprintf(out, "arch.tiles.adc.count = %u ADCs\n", a->tiles.adc.count);
    fprintf(out, "arch.tiles.adc.bits = %u bits\n", bits);
    fprintf(out, "arch.tiles.adc.strict_bits = %s\n", a->tiles.adc.strict_bits ? "true" : "false");
    print_bits_fn(out, "arch.tiles.adc.time_ns", &a->tiles.adc.time_ns, bits, "ns");
    print_bits_fn(out, "arch.tiles.adc.energy_pj", &a->tiles.adc.energy_pj, bits, "pJ");
    fprintf(out, "arch.tiles.adc.static_power_uw = %.10g uW\n", a->tiles.adc.static_power_uw);
    print_bits_fn(out, "arch.tiles.adc.area_um2", &a->tiles.adc.area_um2, bits, "um2");
    fprintf(out, "arch.tiles.shift_add.count = %u units\n", a->tiles.shift_add.count);
    fprintf(out, "arch.tiles.shift_add.energy_pj = %.10g pJ\n", a->tiles.shift_add.energy_pj);
    fprintf(out, "arch.tiles.shift_add.static_power_uw = %.10g uW\n",
            a->tiles.shift_add.static_power_uw);
    fprintf(out, "arch.tiles.shift_add.area_um2 = %.10g um2\n", a->tiles.shift_add.area_um2);
    fprintf(out, "arch.tiles.crossbar.read_latency_ns = %.10g ns\n",
            a->tiles.crossbar.read_latency_ns);
    fprintf(out, "arch.tiles.crossbar.read_energy_pj = %.10g pJ\n",
            a->tiles.crossbar.read_energy_pj);
    fprintf(out, "arch.tiles.crossbar.cell_read_energy_pj = %.10g pJ\n",
            a->tiles.crossbar.cell_read_energy_pj);
    fprintf(out, "arch.tiles.crossbar.execute_ns_per_bit = %.10g ns\n",
            a->tiles.crossbar.execute_ns_per_bit);
    fprintf(out, "arch.tiles.crossbar.write_ns_per_tile = %.10g ns\n",
            a->tiles.crossbar.write_ns_per_tile);
    fprintf(out, "arch.tiles.crossbar.write_energy_pj_per_cell = %.10g pJ\n",
            a->tiles.crossbar.write_energy_pj_per_cell);
    fprintf(out, "arch.tiles.crossbar.static_power_uw = %.10g uW\n",
            a->tiles.crossbar.static_power_uw);
    fprintf(out, "arch.tiles.crossbar.cell_area_um2 = %.10g um2\n",
            a->tiles.crossbar.cell_area_um2);
    fprintf(out, "arch.groups.tiles = %u tiles\n", a->groups.tiles);
    print_bus(out, "in_bus", &a->groups.in_bus);
    print_bus(out, "out_bus", &a->groups.out_bus);
    fprintf(out, "arch.vector.count = %u modules\n", a->vector.count);
    fprintf(out, "arch.vector.lanes = %u lanes\n", a->vector.lanes);
    fprintf(out, "arch.vector.cycles_per_op = %u cycles\n", a->vector.cycles_per_op);
    fprintf(out, "arch.vector.sram_bytes = %lu bytes\n", a->vector.sram_bytes);
    fprintf(out, "arch.vector.sram_read_pj_per_byte = %.10g pJ\n", a->vector.sram_read_pj_per_byte);
    fprintf(out, "arch.vector.sram_write_pj_per_byte = %.10g pJ\n",
            a->vector.sram_write_pj_per_byte);
    fprintf(out, "arch.vector.sram_leakage_uw_per_kib = %.10g uW\n",
            a->vector.sram_leakage_uw_per_kib);
    fprintf(out, "arch.vector.sram_area_um2_per_kib = %.10g um2\n",
            a->vector.sram_area_um2_per_kib);
    fprintf(out, "arch.vector.op_energy_pj = %.10g pJ\n", a->vector.op_energy_pj);
    fprintf(out, "arch.vector.lane_static_power_uw = %.10g uW\n", a->vector.lane_static_power_uw);
    fprintf(out, "arch.vector.lane_area_um2 = %.10g um2\n", a->vector.lane_area_um2);
    fprintf(out, "arch.noc.topology = %s\n", arch_noc_topology_name(a->noc.topology));
    if (a->noc.topology != ARCH_NOC_NONE) {
        fprintf(out, "arch.noc.routers = %u x %u routers\n", a->noc.rows, a->noc.cols);
        fprintf(out, "arch.noc.link_bits = %u bits\n", a->noc.link_bits);
        fprintf(out, "arch.noc.router_cycles = %u cycles\n", a->noc.router_cycles);
        fprintf(out, "arch.noc.energy_pj_per_bit_hop = %.10g pJ\n", a->noc.energy_pj_per_bit_hop);
        fprintf(out, "arch.noc.static_power_uw = %.10g uW\n", a->noc.router_static_power_uw);
        fprintf(out, "arch.noc.area_um2 = %.10g um2\n", a->noc.router_area_um2);
    }
    fprintf(out, "arch.chips = %u chips\n", a->chips);
    print_xlink(out, "interchip", &a->interchip);
    print_xlink(out, "offchip", &a->offchip);
    for (unsigned i = 0; i < a->n_other_parts; i++) {
        const arch_other_part *op = &a->other_parts[i];
        fprintf(out,
                "arch.other_parts[%u] = \"%s\": %.10g per %s, %.10g uW static, %.10g um2 each\n", i,
                op->name, op->count, arch_scope_name(op->scope), op->static_power_uw, op->area_um2);
    }

    uint64_t stored = (uint64_t)a->tiles.count * a->tiles.rows * a->tiles.cols * a->tiles.cell_bits;
    fprintf(out, "derived.cycle_ps = %llu ps\n", (unsigned long long)a->cycle_ps);
    fprintf(out, "derived.groups = %u groups\n", arch_groups(a));
    fprintf(out, "derived.adc_bits_needed = %u bits\n", arch_adc_bits_needed(a));
    fprintf(out, "derived.bits_stored = %llu bits (%.10g MiB)\n", (unsigned long long)stored,
            (double)stored / 8.0 / 1048576.0);
}
