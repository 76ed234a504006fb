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

#endif
