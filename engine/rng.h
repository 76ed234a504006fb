/* rng: seeded GSL random-number streams, one per user (component, search run, sweep point).
 * A stream's seed is a hash of (run seed, stream id), so streams are reproducible, independent of
 * creation order and of thread count, and distinct for distinct ids.
 */
#ifndef XBARSIM_ENGINE_RNG_H
#define XBARSIM_ENGINE_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

/* The generator used when none is named: Tausworthe taus2 (L'Ecuyer 1996) -- 24 bytes of state,
 * fast, and maximally equidistributed; it takes 32-bit seeds. */
#define RNG_DEFAULT_TYPE (gsl_rng_taus2)

/* Seed for stream `stream_id` of a run seeded with `run_seed`: splitmix64 of both, folded to
 * 32 bits (what every GSL generator accepts), never 0. */
unsigned long rng_stream_seed(uint64_t run_seed, uint64_t stream_id);

/* A new GSL generator of `type` (NULL: RNG_DEFAULT_TYPE) seeded for (run_seed, stream_id).
 * Owned by the caller: gsl_rng_free. */
gsl_rng *rng_stream_create(const gsl_rng_type *type, uint64_t run_seed, uint64_t stream_id);

/* ---- a fast inline stream for hot paths --------------------------------------------------------
 * xoshiro256++ (Blackman and Vigna 2021, https://prng.di.unimi.it/xoshiro256plusplus.c): 32 bytes
 * of state kept by value in its user (no call through GSL's type table), seeded for (run seed,
 * stream id) like the GSL streams. Every output bit is usable. */
typedef struct rng_fast {
    uint64_t s[4];
} rng_fast;

/* Seed r for stream `stream_id` of a run seeded with `run_seed` (splitmix64 expansion). Also
 * builds the ziggurat tables of rng_fast_exp1 on first call (thread safe). */
void rng_fast_seed(rng_fast *r, uint64_t run_seed, uint64_t stream_id);

static inline uint64_t rng_fast_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The next 64 output bits (use the top ones). */
static inline uint64_t rng_fast_next(rng_fast *r)
{
    uint64_t *s = r->s;
    uint64_t out = rng_fast_rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_fast_rotl(s[3], 45);
    return out;
}

/* Uniform on [0, 1), a multiple of 2^-53. */
static inline double rng_fast_uniform(rng_fast *r)
{
    return (double)(rng_fast_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n >= 1, by Lemire's multiply-shift (no division; the bias is below
 * n / 2^32, nil for the component counts it serves). */
static inline uint32_t rng_fast_below(rng_fast *r, uint32_t n)
{
    return (uint32_t)(((rng_fast_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Exponential with mean 1 by the ziggurat of Marsaglia and Tsang (J. Stat. Softw. 5(8), 2000),
 * 256 layers: one 64-bit draw, a table look-up and a multiply in about 98.9 % of draws, exp/log
 * only in the rest (rng_fast__exp_slow). The tables are built by the first rng_fast_seed. */
typedef struct rng_fast__zig {
    uint64_t k[256]; /* acceptance bounds on the 53-bit draw */
    double w[256];   /* draw to x scale */
    double f[256];   /* exp(-x) at each layer's edge */
} rng_fast__zig;
extern rng_fast__zig rng_fast__zig_tab;
double rng_fast__exp_slow(rng_fast *r, uint64_t j, unsigned i);

static inline double rng_fast_exp1(rng_fast *r)
{
    uint64_t u = rng_fast_next(r);
    unsigned i = (unsigned)(u >> 3) & 255; /* layer from bits 3..10, not used by j */
    uint64_t j = u >> 11;                  /* 53 bits */
    if (j < rng_fast__zig_tab.k[i])
        return (double)j * rng_fast__zig_tab.w[i];
    return rng_fast__exp_slow(r, j, i);
}

#endif
