/* device: parsing and range checks of arch.tiles.device, and the conductance of one programmed
 * cell under the effects device.h describes. Draws come from the caller's GSL stream in the
 * caller's order, so a chip sample is a pure function of its seed.
 */
#include "device.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "cfgfile.h"

#define PATH_BYTES 128
#define MAX_TIME_S 1e12 /* ~31 700 years, s */

static const char *const keys[] = {
    "seed",           "variation_sigma", "variation_kind", "variation_per_level",
    "stuck_off",      "stuck_on",        "read_noise",     "drift_nu",
    "drift_nu_sigma", "drift_t0_s",      "time_s",         "on_off_ratio",
    "wire_ohm",       "g_on_us"};
#define NKEYS (sizeof keys / sizeof keys[0])

typedef struct ctx {
    const char *origin;
    err *e;
} ctx;

static int fail(const ctx *c, const config_setting_t *at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(const ctx *c, const config_setting_t *at, const char *key, const char *fmt, ...)
{
    char path[96];
    snprintf(path, sizeof path, "arch.tiles.device%s%.64s", key ? "." : "", key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    int rc = cfgfile_vfail(c->e, at, c->origin, path, fmt, ap);
    va_end(ap);
    return rc;
}

/* A number (integer or float) of s in [lo, hi] (lo excluded when lo_open). */
static int num_of(const ctx *c, const config_setting_t *s, const char *key, double lo, bool lo_open,
                  double hi, const char *unit, double *out)
{
    char found[96], range[96];
    if (lo_open)
        snprintf(range, sizeof range, "above %g and at most %g%s", lo, hi, unit);
    else
        snprintf(range, sizeof range, "in %g..%g%s", lo, hi, unit);
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64 && t != CONFIG_TYPE_FLOAT) {
        cfgfile_describe(s, found, sizeof found);
        return fail(c, s, key, "found %s, expected a number %s", found, range);
    }
    double v =
        t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s) : (double)config_setting_get_int64(s);
    if (!(lo_open ? v > lo : v >= lo) || !(v <= hi))
        return fail(c, s, key, "found %g, expected a number %s", v, range);
    *out = v;
    return 0;
}

static int get_num(const ctx *c, const config_setting_t *g, const char *key, double lo,
                   bool lo_open, double hi, const char *unit, double dflt, double *out)
{
    const config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
    if (!s) {
        *out = dflt;
        return 0;
    }
    return num_of(c, s, key, lo, lo_open, hi, unit, out);
}

void device_params_ideal(device_params *d)
{
    memset(d, 0, sizeof *d);
    d->drift_t0_s = 1.0;
    d->time_s = 1.0;
}

static int check_keys(const ctx *c, const config_setting_t *g)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        bool known = false;
        for (size_t k = 0; name && k < NKEYS && !known; k++)
            known = strcmp(name, keys[k]) == 0;
        if (!known) {
            char valid[512];
            cfgfile_list_names(valid, sizeof valid, keys, NKEYS);
            return fail(c, s, name ? name : "?", "found an unknown key, expected one of: %s",
                        valid);
        }
    }
    return 0;
}

static int get_levels(const ctx *c, const config_setting_t *g, unsigned cell_bits, device_params *d)
{
    const config_setting_t *s = config_setting_get_member(g, "variation_per_level");
    if (!s)
        return 0;
    unsigned want = 1u << cell_bits;
    int t = config_setting_type(s);
    if ((t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) ||
        (unsigned)config_setting_length(s) != want)
        return fail(c, s, "variation_per_level",
                    "found %d values, expected an array of %u sigmas, one per level of a %u-bit "
                    "cell",
                    (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) ? config_setting_length(s)
                                                                      : -1,
                    want, cell_bits);
    for (unsigned l = 0; l < want; l++) {
        char key[48];
        snprintf(key, sizeof key, "variation_per_level.[%u]", l);
        ERR_TRY(num_of(c, config_setting_get_elem(s, l), key, 0.0, false, 1e6, "",
                       &d->sigma_per_level[l]));
    }
    d->n_sigma_levels = want;
    return 0;
}

int device_parse(const config_setting_t *g, const char *origin, unsigned cell_bits,
                 device_params *out, err *e)
{
    assert(cell_bits >= 1 && cell_bits <= 8);
    ctx c = {.origin = origin, .e = e};
    device_params d;
    device_params_ideal(&d);
    if (!g) {
        *out = d;
        return 0;
    }
    if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
        char found[96];
        cfgfile_describe(g, found, sizeof found);
        return fail(&c, g, NULL, "found %s, expected a group { ... } of device settings", found);
    }
    ERR_TRY(check_keys(&c, g));
    double seed;
    ERR_TRY(get_num(&c, g, "seed", 0.0, false, 9007199254740992.0, "", 0.0, &seed));
    if (seed != floor(seed))
        return fail(&c, config_setting_get_member(g, "seed"), "seed",
                    "found %g, expected a whole number", seed);
    d.seed = (uint64_t)seed;
    ERR_TRY(get_num(&c, g, "variation_sigma", 0.0, false, 1e6, "", 0.0, &d.sigma));
    const config_setting_t *ks = config_setting_get_member(g, "variation_kind");
    if (ks) {
        const char *kind = config_setting_get_string(ks);
        if (!kind || (strcmp(kind, "relative") != 0 && strcmp(kind, "absolute") != 0)) {
            char found[96];
            cfgfile_describe(ks, found, sizeof found);
            return fail(&c, ks, "variation_kind",
                        "found %s, expected \"relative\" (a fraction of the conductance) or "
                        "\"absolute\" (levels)",
                        found);
        }
        d.absolute = strcmp(kind, "absolute") == 0;
    }
    ERR_TRY(get_levels(&c, g, cell_bits, &d));
    ERR_TRY(get_num(&c, g, "stuck_off", 0.0, false, 1.0, " (a fraction of the cells)", 0.0,
                    &d.stuck_off));
    ERR_TRY(get_num(&c, g, "stuck_on", 0.0, false, 1.0, " (a fraction of the cells)", 0.0,
                    &d.stuck_on));
    if (d.stuck_off + d.stuck_on > 1.0)
        return fail(&c, config_setting_get_member(g, "stuck_on"), "stuck_on",
                    "found %g with stuck_off = %g, expected stuck_off + stuck_on at most 1",
                    d.stuck_on, d.stuck_off);
    ERR_TRY(get_num(&c, g, "read_noise", 0.0, false, 1e3, "", 0.0, &d.read_noise));
    ERR_TRY(get_num(&c, g, "drift_nu", 0.0, false, 10.0, "", 0.0, &d.drift_nu));
    ERR_TRY(get_num(&c, g, "drift_nu_sigma", 0.0, false, 10.0, "", 0.0, &d.drift_nu_sigma));
    ERR_TRY(get_num(&c, g, "drift_t0_s", 0.0, true, MAX_TIME_S, " s", 1.0, &d.drift_t0_s));
    ERR_TRY(get_num(&c, g, "time_s", 0.0, true, MAX_TIME_S, " s", d.drift_t0_s, &d.time_s));
    if (d.time_s < d.drift_t0_s)
        return fail(&c, config_setting_get_member(g, "time_s"), "time_s",
                    "found %g s, expected a time at or after drift_t0_s = %g s (drift is "
                    "measured from t0)",
                    d.time_s, d.drift_t0_s);
    const config_setting_t *rs = config_setting_get_member(g, "on_off_ratio");
    ERR_TRY(get_num(&c, g, "on_off_ratio", 0.0, false, 1e12, "", 0.0, &d.on_off_ratio));
    if (d.on_off_ratio != 0.0 && !(d.on_off_ratio > 1.0))
        return fail(&c, rs, "on_off_ratio",
                    "found %g, expected a ratio above 1 (or 0 for an infinite ratio)",
                    d.on_off_ratio);
    ERR_TRY(get_num(&c, g, "wire_ohm", 0.0, false, 1e6, " ohm", 0.0, &d.wire_ohm));
    ERR_TRY(get_num(&c, g, "g_on_us", 0.0, true, 1e9, " uS", 100.0, &d.g_on_us));
    *out = d;
    return 0;
}

bool device_static_any(const device_params *d)
{
    bool varies = d->sigma > 0.0;
    for (unsigned l = 0; l < d->n_sigma_levels; l++)
        varies = varies || d->sigma_per_level[l] > 0.0;
    bool drifts = (d->drift_nu > 0.0 || d->drift_nu_sigma > 0.0) && d->time_s != d->drift_t0_s;
    return varies || d->stuck_off > 0.0 || d->stuck_on > 0.0 || drifts || d->on_off_ratio > 0.0 ||
           d->wire_ohm > 0.0;
}

bool device_any(const device_params *d)
{
    return device_static_any(d) || d->read_noise > 0.0;
}

void device_describe(const device_params *d, char *buf, size_t cap)
{
    if (!device_any(d)) {
        snprintf(buf, cap, "ideal");
        return;
    }
    /* The variation: one sigma, or the first few per level ("per level [0, 0.012148]"). */
    char var[96];
    if (d->n_sigma_levels == 0) {
        snprintf(var, sizeof var, "%g", d->sigma);
    } else {
        int n = snprintf(var, sizeof var, "per level [");
        unsigned shown = d->n_sigma_levels < 4 ? d->n_sigma_levels : 4;
        for (unsigned k = 0; k < shown && n > 0 && (size_t)n < sizeof var; k++)
            n += snprintf(var + n, sizeof var - (size_t)n, "%s%g", k ? ", " : "",
                          d->sigma_per_level[k]);
        if (n > 0 && (size_t)n < sizeof var)
            snprintf(var + n, sizeof var - (size_t)n, "%s]",
                     shown < d->n_sigma_levels ? ", ..." : "");
    }
    snprintf(buf, cap,
             "seed %llu, variation %s%s, stuck off %g on %g, read noise %g, drift nu %g+-%g "
             "at %g s (t0 %g s), on/off %g, wire %g ohm (G_on %g uS)",
             (unsigned long long)d->seed, var, d->absolute ? " levels" : " relative", d->stuck_off,
             d->stuck_on, d->read_noise, d->drift_nu, d->drift_nu_sigma, d->time_s, d->drift_t0_s,
             d->on_off_ratio, d->wire_ohm, d->g_on_us);
}

double device_conductance(const device_params *d, unsigned cell_bits, uint32_t level, unsigned i,
                          unsigned j, void *rngp)
{
    gsl_rng *rng = rngp;
    double lmax = (double)((1u << cell_bits) - 1u);
    double goff = d->on_off_ratio > 0.0 ? lmax / (d->on_off_ratio - 1.0) : 0.0;
    double g = (double)level + goff;
    bool stuck = false;
    if (d->stuck_off > 0.0 || d->stuck_on > 0.0) {
        double u = gsl_rng_uniform(rng);
        if (u < d->stuck_off)
            g = goff, stuck = true;
        else if (u < d->stuck_off + d->stuck_on)
            g = lmax + goff, stuck = true;
    }
    if (!stuck) {
        double s = d->n_sigma_levels ? d->sigma_per_level[level] : d->sigma;
        if (s > 0.0) {
            double z = gsl_ran_gaussian_ziggurat(rng, 1.0);
            g = d->absolute ? g + s * z : g * (1.0 + s * z);
            g = g > 0.0 ? g : 0.0;
        }
        if ((d->drift_nu > 0.0 || d->drift_nu_sigma > 0.0) && d->time_s != d->drift_t0_s) {
            double nu =
                d->drift_nu +
                (d->drift_nu_sigma > 0.0 ? gsl_ran_gaussian_ziggurat(rng, d->drift_nu_sigma) : 0.0);
            nu = nu > 0.0 ? nu : 0.0;
            g *= pow(d->time_s / d->drift_t0_s, -nu);
        }
    }
    if (d->wire_ohm > 0.0) {
        double siemens = g * d->g_on_us * 1e-6 / (lmax + goff);
        g /= 1.0 + siemens * d->wire_ohm * ((double)i + (double)j + 2.0);
    }
    return g;
}

/* splitmix64 (Steele, Lea and Flood, OOPSLA 2014): a counter-based stream. */
static uint64_t mix(uint64_t z)
{
    z += UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

uint64_t device_chip_seed(uint64_t run_seed, uint64_t k)
{
    return run_seed * (uint64_t)DEVICE_CHIP_STRIDE + k;
}

double device_normal_at(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = mix(mix(mix(seed ^ mix(a)) ^ b) ^ c);
    uint64_t h2 = mix(h);
    double u1 = ((double)(h >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
    double u2 = (double)(h2 >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2); /* Box-Muller */
}
