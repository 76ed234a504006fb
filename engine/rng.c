/* rng: per-stream seeding by hashing (run seed, stream id) with splitmix64 (Steele et al. 2014). */
#include "rng.h"

#include "mem.h"

static uint64_t splitmix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

unsigned long rng_stream_seed(uint64_t run_seed, uint64_t stream_id)
{
    uint64_t h = splitmix64(splitmix64(run_seed) ^ stream_id);
    unsigned long s = (unsigned long)((h ^ (h >> 32)) & 0xffffffffu);
    return s ? s : 1; /* some GSL generators treat seed 0 as "use the default seed" */
}

gsl_rng *rng_stream_create(const gsl_rng_type *type, uint64_t run_seed, uint64_t stream_id)
{
    gsl_rng *r = gsl_rng_alloc(type ? type : RNG_DEFAULT_TYPE);
    if (!r)
        mem_oom(sizeof(gsl_rng), "GSL random-number generator");
    gsl_rng_set(r, rng_stream_seed(run_seed, stream_id));
    return r;
}
