/* rng: per-stream seeding by hashing (run seed, stream id) with splitmix64 (Steele et al. 2014). */
#include "rng.h"

#include <math.h>
#include <threads.h>

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

/* ---- the fast stream and its exponential ziggurat ----------------------------------------------
 */

#define ZIG_R 7.697117470131487    /* rightmost layer edge (Marsaglia and Tsang 2000, 256 layers) */
#define ZIG_V 3.949659822581572e-3 /* area of each layer */
#define ZIG_M 9007199254740992.0   /* 2^53: the draws j are 53-bit integers */

rng_fast__zig rng_fast__zig_tab;
static once_flag zig_once = ONCE_FLAG_INIT;

/* Marsaglia and Tsang's setup (their zigset, exponential part), scaled to 53-bit draws. */
static void zig_build(void)
{
    rng_fast__zig *z = &rng_fast__zig_tab;
    double de = ZIG_R, te = ZIG_R;
    double q = ZIG_V / exp(-de);
    z->k[0] = (uint64_t)((de / q) * ZIG_M);
    z->k[1] = 0;
    z->w[0] = q / ZIG_M;
    z->w[255] = de / ZIG_M;
    z->f[0] = 1.0;
    z->f[255] = exp(-de);
    for (int i = 254; i >= 1; i--) {
        de = -log(ZIG_V / de + exp(-de));
        z->k[i + 1] = (uint64_t)((de / te) * ZIG_M);
        te = de;
        z->f[i] = exp(-de);
        z->w[i] = de / ZIG_M;
    }
}

void rng_fast_seed(rng_fast *r, uint64_t run_seed, uint64_t stream_id)
{
    call_once(&zig_once, zig_build);
    uint64_t x = splitmix64(run_seed) ^ splitmix64(stream_id + UINT64_C(0x632be59bd9b4e019));
    for (int i = 0; i < 4; i++) {
        x = splitmix64(x);
        r->s[i] = x;
    }
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1; /* the one state xoshiro must not start from */
}

double rng_fast__exp_slow(rng_fast *r, uint64_t j, unsigned i)
{
    const rng_fast__zig *z = &rng_fast__zig_tab;
    for (;;) {
        if (i == 0) /* the tail beyond R: R + Exp(1), by inversion of a uniform on (0, 1] */
            return ZIG_R - log(1.0 - rng_fast_uniform(r));
        double x = (double)j * z->w[i];
        if (z->f[i] + rng_fast_uniform(r) * (z->f[i - 1] - z->f[i]) < exp(-x))
            return x;
        uint64_t u = rng_fast_next(r);
        i = (unsigned)(u >> 3) & 255;
        j = u >> 11;
        if (j < z->k[i])
            return (double)j * z->w[i];
    }
}
