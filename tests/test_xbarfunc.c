/* test_xbarfunc: the bit-accurate crossbar arithmetic. Lossless conversions must give the exact
 * integer GEMM (computed here with plain int64 loops); lossy ones must match ref_forward, a slow
 * second implementation written straight from the model in xbarfunc.h (element by element: slice,
 * step, row group, ADC), in outputs and in lossy-conversion counts; small cases are worked by hand.
 */
#include <check.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "testutil.h"
#include "xbarfunc.h"

/* ---- helpers ----------------------------------------------------------------------------------
 */

/* splitmix64: a small deterministic generator for the random layers. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform integer in [lo, hi]. */
static int64_t rng_range(uint64_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

static void random_weights(uint64_t *s, int32_t *w, size_t n, unsigned wb)
{
    int64_t lim = (INT64_C(1) << (wb - 1)) - 1;
    for (size_t i = 0; i < n; i++)
        w[i] = (int32_t)rng_range(s, -lim, lim);
}

static void random_inputs(uint64_t *s, int32_t *x, size_t n, unsigned ab, bool sgn)
{
    int64_t lo = sgn ? -(INT64_C(1) << (ab - 1)) : 0;
    int64_t hi = sgn ? (INT64_C(1) << (ab - 1)) - 1 : (INT64_C(1) << ab) - 1;
    for (size_t i = 0; i < n; i++)
        x[i] = (int32_t)rng_range(s, lo, hi);
}

static void gemm_ref(const int32_t *x, const int32_t *w, size_t B, size_t R, size_t N, int64_t *y)
{
    for (size_t b = 0; b < B; b++)
        for (size_t n = 0; n < N; n++) {
            int64_t acc = 0;
            for (size_t r = 0; r < R; r++)
                acc += (int64_t)x[b * R + r] * w[r * N + n];
            y[b * N + n] = acc;
        }
}

/* ---- the slow reference -----------------------------------------------------------------------
 */

typedef struct ref_ctx {
    const xbarfunc_params *p;
    const int32_t *w;
    size_t R, N;
    unsigned wb, ab;
    bool sgn;
    unsigned needed;   /* ADC bits a column sum can need */
    uint64_t lossy;    /* lossy conversions so far */
    uint64_t ref_mult; /* offset: reference columns (column tiles) */
} ref_ctx;

static unsigned bits_for(uint64_t max)
{
    unsigned b = 0;
    while ((UINT64_C(1) << b) <= max)
        b++;
    return b;
}

/* One conversion of column sum s; counts it when lossy (mult physical columns). */
static int64_t ref_adc(ref_ctx *c, int64_t s, uint64_t mult)
{
    int64_t v = s;
    if (c->p->adc_mode == XBARFUNC_ADC_SATURATE && s > (INT64_C(1) << c->p->adc_bits) - 1)
        v = (INT64_C(1) << c->p->adc_bits) - 1;
    if (c->p->adc_mode == XBARFUNC_ADC_DROP_LSB && c->p->adc_bits < c->needed) {
        unsigned drop = c->needed - c->p->adc_bits;
        v = (s >> drop) << drop;
    }
    if (v != s)
        c->lossy += mult;
    return v;
}

/* The digit of input v at step (lo, width). */
static int64_t ref_digit(const ref_ctx *c, int32_t v, unsigned lo, unsigned width)
{
    uint32_t u = (uint32_t)v & (uint32_t)((UINT64_C(1) << c->ab) - 1);
    return (int64_t)((u >> lo) & ((1u << width) - 1));
}

/* The value cell row `phys` of part `part` stores for output n, slice k (level). */
static int64_t ref_level(const ref_ctx *c, size_t r, size_t n, int part, unsigned k)
{
    int64_t w = c->w[r * c->N + n], off = (INT64_C(1) << (c->wb - 1)) - 1, v;
    if (part == 0)
        v = w + off; /* offset-coded */
    else if (part > 0)
        v = w > 0 ? w : 0;
    else
        v = w < 0 ? -w : 0;
    return (v >> (k * c->p->cell_bits)) & ((INT64_C(1) << c->p->cell_bits) - 1);
}

/* Sum over the steps of one group of rows (logical rows rows[0..len), cells of `part`), for one
 * output n and slice k, ADC applied per conversion. part 2: the offset reference column. */
static int64_t ref_group(ref_ctx *c, const int32_t *x, const size_t *rows, size_t len, size_t n,
                         int part, unsigned k, uint64_t mult)
{
    int64_t total = 0;
    unsigned dac = c->p->dac_bits, mag = c->sgn ? c->ab - 1 : c->ab;
    for (unsigned lo = 0; lo < mag; lo += dac) {
        unsigned width = mag - lo < dac ? mag - lo : dac;
        int64_t s = 0;
        for (size_t i = 0; i < len; i++)
            s += ref_digit(c, x[rows[i]], lo, width) *
                 (part == 2 ? 1 : ref_level(c, rows[i], n, part, k));
        total += (INT64_C(1) << lo) * ref_adc(c, s, mult);
    }
    if (c->sgn) {
        int64_t s = 0;
        for (size_t i = 0; i < len; i++)
            s += ref_digit(c, x[rows[i]], c->ab - 1, 1) *
                 (part == 2 ? 1 : ref_level(c, rows[i], n, part, k));
        total -= (INT64_C(1) << (c->ab - 1)) * ref_adc(c, s, mult);
    }
    return total;
}

/* Groups of one tile's row list, rows_active at a time: sum of ref_group x sign. */
static int64_t ref_tile(ref_ctx *c, const int32_t *x, const size_t *rows, size_t len, size_t n,
                        int part, unsigned k, uint64_t mult)
{
    int64_t total = 0;
    for (size_t at = 0; at < len; at += c->p->rows_active) {
        size_t g = len - at < c->p->rows_active ? len - at : c->p->rows_active;
        total += ref_group(c, x, rows + at, g, n, part, k, mult);
    }
    return total;
}

/* Column sums over all row tiles for output n, slice k and part (differential_row: the w+ rows
 * then the w- rows of each tile of 2R physical rows). */
static int64_t ref_column(ref_ctx *c, const int32_t *x, size_t n, int part, unsigned k,
                          uint64_t mult)
{
    size_t rows = c->p->rows, *list = malloc(rows * sizeof *list);
    int64_t total = 0;
    if (c->p->mapping != ARCH_MAP_DIFF_ROW) {
        for (size_t t0 = 0; t0 < c->R; t0 += rows) {
            size_t len = 0;
            for (size_t r = t0; r < c->R && r < t0 + rows; r++)
                list[len++] = r;
            total += ref_tile(c, x, list, len, n, part, k, mult);
        }
    } else {
        for (size_t t0 = 0; t0 < 2 * c->R; t0 += rows) {
            for (int odd = 0; odd < 2; odd++) {
                size_t len = 0;
                for (size_t ph = t0; ph < 2 * c->R && ph < t0 + rows; ph++)
                    if ((int)(ph % 2) == odd)
                        list[len++] = ph / 2;
                int64_t t = ref_tile(c, x, list, len, n, odd ? -1 : 1, k, mult);
                total += odd ? -t : t;
            }
        }
    }
    free(list);
    return total;
}

/* y (B x N) and the lossy-conversion count, from the model in xbarfunc.h. */
static uint64_t ref_forward(const xbarfunc_params *p, const int32_t *w, size_t R, size_t N,
                            unsigned wb, const int32_t *x, size_t B, unsigned ab, bool sgn,
                            int64_t *y)
{
    ref_ctx c = {.p = p, .w = w, .R = R, .N = N, .wb = wb, .ab = ab, .sgn = sgn};
    c.needed =
        bits_for((uint64_t)p->rows_active * ((1u << p->cell_bits) - 1) * ((1u << p->dac_bits) - 1));
    unsigned cb = p->cell_bits;
    bool coded = p->mapping == ARCH_MAP_UNSIGNED || p->mapping == ARCH_MAP_OFFSET;
    unsigned slices = coded ? (wb + cb - 1) / cb : (wb - 1 + cb - 1) / cb;
    int64_t off = (INT64_C(1) << (wb - 1)) - 1;
    c.ref_mult = p->cols ? (N * slices + p->cols - 2) / (p->cols - 1) : 1;
    for (size_t b = 0; b < B; b++) {
        const int32_t *xb = x + b * R;
        int64_t common = 0;
        if (p->mapping == ARCH_MAP_OFFSET)
            common -= off * ref_column(&c, xb, 0, 2, 0, c.ref_mult);
        if (p->mapping == ARCH_MAP_UNSIGNED)
            for (size_t r = 0; r < R; r++)
                common -= off * xb[r];
        for (size_t n = 0; n < N; n++) {
            int64_t acc = common;
            for (unsigned k = 0; k < slices; k++) {
                int64_t scale = INT64_C(1) << (k * cb);
                if (coded)
                    acc += scale * ref_column(&c, xb, n, 0, k, 1);
                else if (p->mapping == ARCH_MAP_DIFF_COLUMN)
                    acc +=
                        scale * (ref_column(&c, xb, n, 1, k, 1) - ref_column(&c, xb, n, -1, k, 1));
                else /* differential_row: part picked per row polarity inside */
                    acc += scale * ref_column(&c, xb, n, 1, k, 1);
            }
            y[b * N + n] = acc;
        }
    }
    return c.lossy;
}

/* ---- one random case --------------------------------------------------------------------------
 */

typedef struct rcase {
    xbarfunc_params p;
    size_t R, N, B;
    unsigned wb, ab;
    bool sgn;
    int32_t *w, *x;
} rcase;

static void rcase_draw(uint64_t *s, rcase *c)
{
    c->R = (size_t)rng_range(s, 1, c->R ? (int64_t)c->R : 23); /* c->R preset: the largest R */
    c->N = (size_t)rng_range(s, 1, 5);
    c->B = (size_t)rng_range(s, 1, 3);
    c->w = malloc(c->R * c->N * sizeof *c->w);
    c->x = malloc(c->B * c->R * sizeof *c->x);
    random_weights(s, c->w, c->R * c->N, c->wb);
    random_inputs(s, c->x, c->B * c->R, c->ab, c->sgn);
}

static void rcase_free(rcase *c)
{
    free(c->w);
    free(c->x);
}

/* Exact GEMM through both paths and 0 lossy conversions. */
static void check_exact(const rcase *c)
{
    int64_t *y = malloc(c->B * c->N * sizeof *y), *ye = malloc(c->B * c->N * sizeof *ye);
    gemm_ref(c->x, c->w, c->B, c->R, c->N, ye);
    xbarfunc_layer *L = NULL;
    err e;
    err_clear(&e);
    ck_assert_int_eq(xbarfunc_layer_create(&c->p, c->w, c->R, c->N, c->wb, &L, &e), 0);
    ck_assert_uint_eq(xbarfunc_layer_forward_sliced(L, c->x, c->B, c->ab, c->sgn, y), 0);
    for (size_t i = 0; i < c->B * c->N; i++)
        ck_assert_msg(y[i] == ye[i],
                      "sliced: map %s cb %u dac %u ra %u wb %u ab %u signed %d: y[%zu] = %lld, "
                      "GEMM %lld",
                      arch_mapping_name(c->p.mapping), c->p.cell_bits, c->p.dac_bits,
                      c->p.rows_active, c->wb, c->ab, c->sgn, i, (long long)y[i], (long long)ye[i]);
    memset(y, 0x55, c->B * c->N * sizeof *y);
    ck_assert_uint_eq(xbarfunc_layer_forward(L, c->x, c->B, c->ab, c->sgn, y), 0);
    for (size_t i = 0; i < c->B * c->N; i++)
        ck_assert_int_eq(y[i], ye[i]);
    xbarfunc_layer_destroy(L);
    free(y);
    free(ye);
}

/* Outputs and lossy counts equal to ref_forward, through the public entry point. */
static void check_against_ref(const rcase *c)
{
    int64_t *y = malloc(c->B * c->N * sizeof *y), *yr = malloc(c->B * c->N * sizeof *yr);
    uint64_t lr = ref_forward(&c->p, c->w, c->R, c->N, c->wb, c->x, c->B, c->ab, c->sgn, yr);
    xbarfunc_layer *L = NULL;
    err e;
    err_clear(&e);
    ck_assert_int_eq(xbarfunc_layer_create(&c->p, c->w, c->R, c->N, c->wb, &L, &e), 0);
    uint64_t l = xbarfunc_layer_forward(L, c->x, c->B, c->ab, c->sgn, y);
    ck_assert_msg(l == lr, "map %s mode %s adc %u cb %u dac %u ra %u rows %u: lossy %llu, ref %llu",
                  arch_mapping_name(c->p.mapping), xbarfunc_adc_mode_name(c->p.adc_mode),
                  c->p.adc_bits, c->p.cell_bits, c->p.dac_bits, c->p.rows_active, c->p.rows,
                  (unsigned long long)l, (unsigned long long)lr);
    for (size_t i = 0; i < c->B * c->N; i++)
        ck_assert_msg(y[i] == yr[i], "map %s mode %s adc %u: y[%zu] = %lld, ref %lld",
                      arch_mapping_name(c->p.mapping), xbarfunc_adc_mode_name(c->p.adc_mode),
                      c->p.adc_bits, i, (long long)y[i], (long long)yr[i]);
    xbarfunc_layer_destroy(L);
    free(y);
    free(yr);
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static const unsigned cell_set[] = {1, 2, 4};
static const unsigned dac_set[] = {1, 2, 4};

/* Every mapping, cell 1/2/4, DAC 1/2/4, wb 2..8, ab 1..8, both input kinds; ideal, and saturate
 * and drop_lsb at exactly the bits needed: the exact GEMM, several row tiles (R up to 23 on
 * crossbars of 2..7 rows), rows_active drawn in 1..rows. */
START_TEST(test_xbarfunc_exact_gemm)
{
    uint64_t s = 8;
    for (unsigned m = 0; m < ARCH_MAP_COUNT; m++)
        for (unsigned ci = 0; ci < 3; ci++)
            for (unsigned di = 0; di < 3; di++)
                for (unsigned wb = 2; wb <= 8; wb++)
                    for (unsigned ab = 1; ab <= 8; ab++)
                        for (int sgn = 0; sgn < 2; sgn++) {
                            rcase c = {.wb = wb, .ab = ab, .sgn = sgn};
                            c.p.cell_bits = cell_set[ci];
                            c.p.dac_bits = dac_set[di];
                            c.p.mapping = (arch_mapping)m;
                            c.p.rows = (unsigned)rng_range(&s, 2, 7);
                            c.p.rows_active = (unsigned)rng_range(&s, 1, c.p.rows);
                            rcase_draw(&s, &c);
                            unsigned need = xbarfunc_adc_bits_needed(&c.p);
                            xbarfunc_adc_mode mode =
                                (xbarfunc_adc_mode)((wb + ab + (unsigned)sgn) % 3);
                            c.p.adc_mode = mode;
                            c.p.adc_bits = mode == XBARFUNC_ADC_IDEAL ? 1 : need;
                            check_exact(&c);
                            rcase_free(&c);
                        }
}
END_TEST

/* The exact path near single precision's limit: 301 rows of weights all +-255 (wb 9), so a
 * column's sum of |w| is 76 755. With 6-bit inputs partial sums stay below 64 x 76 755 = 4.9 M <
 * 2^24 (the single-precision GEMM is exact); with unsigned 8-bit ones image 0 (every input 255)
 * sums column 0 (every weight +255) to 255 x 76 755 = 19 572 525, odd and above 2^24, which no
 * float holds: the double GEMM must serve. Both give the int64 reference GEMM bit for bit. */
START_TEST(test_xbarfunc_exact_gemm_precision_limit)
{
    enum { R = 301, N = 3, B = 70 };
    static int32_t w[R * N], x[B * R];
    static int64_t y[B * N], want[B * N];
    uint64_t s = 77;
    for (size_t i = 0; i < R * N; i++) /* column 0 all +255, the others of random sign */
        w[i] = i % N == 0 || rng_range(&s, 0, 1) ? 255 : -255;
    for (unsigned ab = 6; ab <= 8; ab += 2)
        for (int sgn = 0; sgn < 2; sgn++) {
            random_inputs(&s, x, B * R, ab, sgn);
            int32_t hi = sgn ? (1 << (ab - 1)) - 1 : (1 << ab) - 1, lo = sgn ? -(1 << (ab - 1)) : 0;
            for (size_t r = 0; r < R; r++) /* image 0 at the extreme with w's sign: the bound */
                x[r] = w[r * N] > 0 ? hi : lo;
            xbarfunc_params p = {.cell_bits = 2,
                                 .mapping = ARCH_MAP_DIFF_COLUMN,
                                 .rows = 128,
                                 .rows_active = 16,
                                 .dac_bits = 1,
                                 .adc_bits = 1,
                                 .adc_mode = XBARFUNC_ADC_IDEAL};
            xbarfunc_layer *L;
            err e;
            ck_assert_int_eq(xbarfunc_layer_create(&p, w, R, N, 9, &L, &e), 0);
            ck_assert(xbarfunc_layer_exact(L));
            ck_assert_uint_eq(xbarfunc_layer_forward(L, x, B, ab, sgn, y), 0);
            gemm_ref(x, w, B, R, N, want);
            for (size_t i = 0; i < B * N; i++)
                ck_assert_int_eq(y[i], want[i]);
            xbarfunc_layer_destroy(L);
        }
}
END_TEST

/* Lossy ADCs in every mode and mapping against the slow reference: identical outputs and
 * lossy-conversion counts (offset reference columns counted once per column tile). */
START_TEST(test_xbarfunc_reference_lossy)
{
    uint64_t s = 21;
    for (unsigned it = 0; it < 600; it++) {
        rcase c = {0};
        c.wb = (unsigned)rng_range(&s, 2, 9);
        c.ab = (unsigned)rng_range(&s, 1, 9);
        c.sgn = rng_next(&s) % 2 == 1;
        c.p.cell_bits = cell_set[rng_next(&s) % 3];
        c.p.dac_bits = dac_set[rng_next(&s) % 3];
        c.p.mapping = (arch_mapping)(it % ARCH_MAP_COUNT);
        c.p.adc_mode = (xbarfunc_adc_mode)(rng_next(&s) % XBARFUNC_ADC_MODE_COUNT);
        c.p.rows = (unsigned)rng_range(&s, 1, 12);
        c.p.rows_active = (unsigned)rng_range(&s, 1, c.p.rows);
        c.p.cols = (unsigned)rng_range(&s, 0, 9);
        if (c.p.cols == 1)
            c.p.cols = 0;
        unsigned need = xbarfunc_adc_bits_needed(&c.p);
        c.p.adc_bits = (unsigned)rng_range(&s, 1, need);
        rcase_draw(&s, &c);
        check_against_ref(&c);
        rcase_free(&c);
    }
}
END_TEST

/* Row groups larger than one chunk: 17..48 rows active (the bit-mask path of 1-bit cells and DAC
 * splits them into 16-row masks, the table path into 5-row tables) against the reference. */
START_TEST(test_xbarfunc_reference_large_groups)
{
    uint64_t s = 99;
    for (unsigned it = 0; it < 48; it++) {
        rcase c = {0};
        c.R = 110;
        c.wb = (unsigned)rng_range(&s, 2, 8);
        c.ab = (unsigned)rng_range(&s, 1, 8);
        c.sgn = rng_next(&s) % 2 == 1;
        c.p.cell_bits = it % 4 == 3 ? 2 : 1;
        c.p.dac_bits = it % 8 == 7 ? 2 : 1;
        c.p.mapping = (arch_mapping)(it % ARCH_MAP_COUNT);
        c.p.adc_mode = it % 3 == 0 ? XBARFUNC_ADC_DROP_LSB : XBARFUNC_ADC_SATURATE;
        c.p.rows = (unsigned)rng_range(&s, 17, 48);
        c.p.rows_active = (unsigned)rng_range(&s, 17, c.p.rows);
        c.p.adc_bits = (unsigned)rng_range(&s, 1, xbarfunc_adc_bits_needed(&c.p));
        rcase_draw(&s, &c);
        check_against_ref(&c);
        rcase_free(&c);
    }
}
END_TEST

/* Worked by hand: differential_column, 2-bit cells, 2 rows all active, 1-bit DAC, 1-bit ADC.
 * wb 3, w = [[3, 1], [2, -3]] (rows x columns); one slice (magnitude 2 bits). x = [3, 1], ab 2
 * unsigned: step 0 digits [1, 1], step 1 digits [1, 0]. Exact y = [11, 0].
 * saturate (readings 0..1):
 *   n0 w+ cells [3, 2]: step 0 s = 5 -> 1 (clip), step 1 s = 3 -> 1 (clip); w- cells [0, 0]: 0, 0
 *      y0 = 1 + 2 * 1 = 3
 *   n1 w+ cells [1, 0]: s = 1 -> 1, 1 -> 1; w- cells [0, 3]: s = 3 -> 1 (clip), 0 -> 0
 *      y1 = (1 - 1) + 2 * (1 - 0) = 2;  3 lossy conversions of 2 steps x 4 columns = 8.
 * drop_lsb (needed 3 bits: readings floor(s / 4) * 4):
 *   n0 w+: 5 -> 4 (lossy), 3 -> 0 (lossy): y0 = 4 + 2 * 0 = 4
 *   n1 w+: 1 -> 0, 1 -> 0 (both lossy); w-: 3 -> 0 (lossy), 0 -> 0: y1 = 0;  5 lossy. */
START_TEST(test_xbarfunc_hand_diff_column)
{
    xbarfunc_params p = {.cell_bits = 2,
                         .mapping = ARCH_MAP_DIFF_COLUMN,
                         .rows = 2,
                         .rows_active = 2,
                         .dac_bits = 1,
                         .adc_bits = 1,
                         .adc_mode = XBARFUNC_ADC_SATURATE};
    const int32_t w[] = {3, 1, 2, -3}, x[] = {3, 1};
    int64_t y[2];
    xbarfunc_layer *L = NULL;
    err e;
    ck_assert_uint_eq(xbarfunc_adc_bits_needed(&p), 3);
    ck_assert_int_eq(xbarfunc_layer_create(&p, w, 2, 2, 3, &L, &e), 0);
    ck_assert_uint_eq(xbarfunc_layer_slices(L), 1);
    ck_assert_uint_eq(xbarfunc_layer_conversions(L, 2, false), 8);
    ck_assert_uint_eq(xbarfunc_layer_forward(L, x, 1, 2, false, y), 3);
    ck_assert_int_eq(y[0], 3);
    ck_assert_int_eq(y[1], 2);
    xbarfunc_layer_destroy(L);
    p.adc_mode = XBARFUNC_ADC_DROP_LSB;
    ck_assert_int_eq(xbarfunc_layer_create(&p, w, 2, 2, 3, &L, &e), 0);
    ck_assert_uint_eq(xbarfunc_layer_forward(L, x, 1, 2, false, y), 5);
    ck_assert_int_eq(y[0], 4);
    ck_assert_int_eq(y[1], 0);
    xbarfunc_layer_destroy(L);
    p.adc_mode = XBARFUNC_ADC_IDEAL;
    ck_assert_int_eq(xbarfunc_layer_create(&p, w, 2, 2, 3, &L, &e), 0);
    ck_assert_uint_eq(xbarfunc_layer_forward_sliced(L, x, 1, 2, false, y), 0);
    ck_assert_int_eq(y[0], 11);
    ck_assert_int_eq(y[1], 0);
    xbarfunc_layer_destroy(L);
}
END_TEST

/* Worked by hand: offset mapping with a signed input and a clipping reference column.
 * 1-bit cells, 4-row crossbar, 2 rows active, 1-bit DAC, 1-bit saturating ADC (needed 2 bits).
 * wb 2: w = [1, -1, 1] (3 rows, 1 column), off 1, u = w + 1 = [2, 0, 2]: slice 0 [0, 0, 0],
 * slice 1 [1, 0, 1]. x = [-1, 1, -2], ab 2 signed: bit patterns 11, 01, 10; step bit 0 (weight
 * +1) digits [1, 1, 0], sign step (weight -2) digits [1, 0, 1]. Groups {row 0, row 1}, {row 2}.
 *   slice 1 (weight 2): bit 0: g0 s = 1 -> 1, g1 s = 0; sign: g0 s = 1, g1 s = 1 -> 2 readings
 *      = 1 - 2 * 2 = -3, times 2 = -6.  slice 0: 0.
 *   reference (level 1, weight -off = -1): bit 0: g0 s = 2 -> 1 (clip), g1 0; sign: g0 1, g1 1
 *      = 1 - 2 * 2 = -3, times -1 = +3.
 *   y = -6 + 3 = -3 (exact -1 - 1 - 2 = -4: the reference clip costs 1); 1 lossy conversion. */
START_TEST(test_xbarfunc_hand_offset_signed)
{
    xbarfunc_params p = {.cell_bits = 1,
                         .mapping = ARCH_MAP_OFFSET,
                         .rows = 4,
                         .rows_active = 2,
                         .dac_bits = 1,
                         .adc_bits = 1,
                         .adc_mode = XBARFUNC_ADC_SATURATE};
    const int32_t w[] = {1, -1, 1}, x[] = {-1, 1, -2};
    int64_t y[1];
    xbarfunc_layer *L = NULL;
    err e;
    ck_assert_int_eq(xbarfunc_layer_create(&p, w, 3, 1, 2, &L, &e), 0);
    ck_assert_uint_eq(xbarfunc_layer_slices(L), 2);
    /* 2 steps x 2 groups x (2 slice columns + 1 reference) */
    ck_assert_uint_eq(xbarfunc_layer_conversions(L, 2, true), 12);
    ck_assert_uint_eq(xbarfunc_layer_forward(L, x, 1, 2, true, y), 1);
    ck_assert_int_eq(y[0], -3);
    xbarfunc_layer_destroy(L);
    p.adc_bits = 2; /* lossless */
    ck_assert_int_eq(xbarfunc_layer_create(&p, w, 3, 1, 2, &L, &e), 0);
    ck_assert_uint_eq(xbarfunc_layer_forward_sliced(L, x, 1, 2, true, y), 0);
    ck_assert_int_eq(y[0], -4);
    xbarfunc_layer_destroy(L);
}
END_TEST

/* Worked by hand: differential_row splits a tile's w+ and w- rows into separate conversions.
 * 2-bit cells, 4-row crossbar, 2 rows active, 1-bit DAC, 2-bit saturating ADC (needed 3).
 * wb 3, w = [3, 2, -3] (3 rows, 1 column): physical rows 0..5 = r0+ 3, r0- 0, r1+ 2, r1- 0,
 * r2+ 0, r2- 3. Tile 0 = physical 0..3: w+ group {r0+, r1+}, w- group {r0-, r1-}; tile 1 =
 * physical 4, 5: w+ group {r2+}, w- group {r2-}. x = [1, 1, 1] (ab 1): w+ tile 0 s = 5 -> 3
 * (clip), w- tile 0 s = 0; tile 1 w+ s = 0, w- s = 3 -> 3. y = 3 - 0 + 0 - 3 = 0 (exact 2);
 * 1 lossy of 4 conversions. */
START_TEST(test_xbarfunc_hand_diff_row)
{
    xbarfunc_params p = {.cell_bits = 2,
                         .mapping = ARCH_MAP_DIFF_ROW,
                         .rows = 4,
                         .rows_active = 2,
                         .dac_bits = 1,
                         .adc_bits = 2,
                         .adc_mode = XBARFUNC_ADC_SATURATE};
    const int32_t w[] = {3, 2, -3}, x[] = {1, 1, 1};
    int64_t y[1];
    xbarfunc_layer *L = NULL;
    err e;
    ck_assert_int_eq(xbarfunc_layer_create(&p, w, 3, 1, 3, &L, &e), 0);
    ck_assert_uint_eq(xbarfunc_layer_conversions(L, 1, false), 4);
    ck_assert_uint_eq(xbarfunc_layer_forward(L, x, 1, 1, false, y), 1);
    ck_assert_int_eq(y[0], 0);
    xbarfunc_layer_destroy(L);
}
END_TEST

/* More ADC bits never add lossy conversions; at the bits needed there are none. */
START_TEST(test_xbarfunc_monotone_bits)
{
    uint64_t s = 5;
    for (unsigned it = 0; it < 40; it++) {
        rcase c = {.wb = 8, .ab = 8, .sgn = it % 2};
        c.p.cell_bits = cell_set[it % 3];
        c.p.dac_bits = dac_set[(it / 3) % 3];
        c.p.mapping = (arch_mapping)(it % ARCH_MAP_COUNT);
        c.p.adc_mode = it % 2 ? XBARFUNC_ADC_SATURATE : XBARFUNC_ADC_DROP_LSB;
        c.p.rows = 16;
        c.p.rows_active = (unsigned)rng_range(&s, 1, 16);
        rcase_draw(&s, &c);
        int64_t *y = malloc(c.B * c.N * sizeof *y);
        unsigned need = xbarfunc_adc_bits_needed(&c.p);
        uint64_t prev = UINT64_MAX;
        for (unsigned b = 1; b <= need + 1; b++) {
            c.p.adc_bits = b;
            xbarfunc_layer *L = NULL;
            err e;
            ck_assert_int_eq(xbarfunc_layer_create(&c.p, c.w, c.R, c.N, c.wb, &L, &e), 0);
            uint64_t l = xbarfunc_layer_forward_sliced(L, c.x, c.B, c.ab, c.sgn, y);
            ck_assert_uint_le(l, prev);
            ck_assert_uint_le(l, c.B * xbarfunc_layer_conversions(L, c.ab, c.sgn));
            if (b >= need)
                ck_assert_uint_eq(l, 0);
            prev = l;
            xbarfunc_layer_destroy(L);
        }
        free(y);
        rcase_free(&c);
    }
}
END_TEST

/* One and two OpenMP threads give the same bits (several work items of 32 images). */
/* ---- device effects ---------------------------------------------------------------------------
 */

/* A small layer under p with device d: y (B x N) for the inputs x. */
static xbarfunc_layer *device_layer(xbarfunc_params p, const device_params *d, const int32_t *w,
                                    size_t R, size_t N, unsigned wb)
{
    p.dev = *d;
    xbarfunc_layer *L = NULL;
    err e;
    int rc = xbarfunc_layer_create(&p, w, R, N, wb, &L, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    return L;
}

static const xbarfunc_params dev_tile = {.cell_bits = 2,
                                         .mapping = ARCH_MAP_UNSIGNED,
                                         .rows = 16,
                                         .rows_active = 4,
                                         .dac_bits = 1,
                                         .adc_bits = 8,
                                         .adc_mode = XBARFUNC_ADC_SATURATE,
                                         .cols = 32};

/* The exact GEMM only when every effect is off: each effect alone turns it off. */
START_TEST(test_xbarfunc_device_exact_only_when_ideal)
{
    int32_t w[6] = {1, -1, 0, 1, 1, -1};
    device_params d;
    device_params_ideal(&d);
    xbarfunc_layer *L = device_layer(dev_tile, &d, w, 3, 2, 2);
    ck_assert(xbarfunc_layer_exact(L));
    xbarfunc_layer_destroy(L);
    for (int k = 0; k < 8; k++) {
        device_params_ideal(&d);
        switch (k) {
        case 0:
            d.sigma = 0.01;
            break;
        case 1:
            d.stuck_off = 0.01;
            break;
        case 2:
            d.stuck_on = 0.01;
            break;
        case 3:
            d.read_noise = 0.01;
            break;
        case 4:
            d.drift_nu = 0.05, d.time_s = 10.0;
            break;
        case 5:
            d.on_off_ratio = 100.0;
            break;
        case 6:
            d.wire_ohm = 1.0, d.g_on_us = 50.0;
            break;
        default:
            d.n_sigma_levels = 4, d.sigma_per_level[2] = 0.1;
            break;
        }
        L = device_layer(dev_tile, &d, w, 3, 2, 2);
        ck_assert_msg(!xbarfunc_layer_exact(L), "effect %d kept the exact path", k);
        xbarfunc_layer_destroy(L);
    }
    device_params_ideal(&d); /* drift at t0 is no effect */
    d.drift_nu = 0.05, d.drift_nu_sigma = 0.01;
    L = device_layer(dev_tile, &d, w, 3, 2, 2);
    ck_assert(xbarfunc_layer_exact(L));
    xbarfunc_layer_destroy(L);
}
END_TEST

/* Stuck cells: with one-hot inputs (row r at 1) output n is the cell (r, n)'s conductance minus
 * the offset, so a stuck cell changes its own column's output only, by L_max - u, and the cells
 * found stuck are as many as drawn (some, not all). 2-bit cells, wb 2: one slice, u = w + 1. */
START_TEST(test_xbarfunc_device_stuck_cell_changes_its_column)
{
    enum { R = 12, N = 10 };
    uint64_t s = 5;
    int32_t w[R * N], x[R * R];
    random_weights(&s, w, R * N, 2);
    memset(x, 0, sizeof x);
    for (int r = 0; r < R; r++)
        x[r * R + r] = 1;
    device_params d;
    device_params_ideal(&d);
    d.stuck_on = 0.08;
    d.seed = 3;
    xbarfunc_layer *L = device_layer(dev_tile, &d, w, R, N, 2);
    int64_t y[R * N];
    xbarfunc_layer_forward_sliced(L, x, R, 2, false, y);
    int stuck = 0;
    for (int r = 0; r < R; r++)
        for (int n = 0; n < N; n++) {
            int64_t exact = w[r * N + n], diff = y[r * N + n] - exact;
            if (diff != 0) {
                ck_assert_int_eq(diff, 3 - (w[r * N + n] + 1)); /* stuck on: level 3 */
                stuck++;
            }
        }
    ck_assert_int_gt(stuck, 0);
    ck_assert_int_lt(stuck, R * N / 2);
    /* a single input row lit: every other column equals the exact sum */
    int32_t one[R] = {0};
    one[0] = 1;
    int64_t y1[N];
    xbarfunc_layer_forward(L, one, 1, 2, false, y1);
    for (int n = 0; n < N; n++)
        ck_assert_int_eq(y1[n], y[n]);
    xbarfunc_layer_destroy(L);
}
END_TEST

/* On/off ratio 4 with 2-bit cells: every cell conducts L + 1, nothing corrects it, so (unsigned
 * mapping, one slice) y = y_exact + sum_r x_r. Drift at t = t0 on top changes nothing. */
START_TEST(test_xbarfunc_device_on_off_and_drift_at_t0)
{
    enum { R = 20, N = 7, B = 9 };
    uint64_t s = 9;
    int32_t w[R * N], x[B * R];
    random_weights(&s, w, R * N, 2);
    random_inputs(&s, x, B * R, 4, false);
    int64_t ref[B * N], y[B * N], y2[B * N];
    gemm_ref(x, w, B, R, N, ref);
    device_params d;
    device_params_ideal(&d);
    d.on_off_ratio = 4.0;
    xbarfunc_layer *L = device_layer(dev_tile, &d, w, R, N, 2);
    xbarfunc_layer_forward(L, x, B, 4, false, y);
    xbarfunc_layer_forward_sliced(L, x, B, 4, false, y2);
    for (int b = 0; b < B; b++) {
        int64_t xs = 0;
        for (int r = 0; r < R; r++)
            xs += x[b * R + r];
        for (int n = 0; n < N; n++) {
            ck_assert_int_eq(y[b * N + n], ref[b * N + n] + xs);
            ck_assert_int_eq(y2[b * N + n], ref[b * N + n] + xs);
        }
    }
    xbarfunc_layer_destroy(L);
    d.drift_nu = 0.2, d.drift_nu_sigma = 0.05, d.drift_t0_s = 3.0, d.time_s = 3.0;
    d.sigma = 0.05; /* with variation: drift at t0 draws nothing, so the same chip */
    L = device_layer(dev_tile, &d, w, R, N, 2);
    xbarfunc_layer_forward(L, x, B, 4, false, y);
    xbarfunc_layer_destroy(L);
    d.drift_nu = 0.0, d.drift_nu_sigma = 0.0;
    L = device_layer(dev_tile, &d, w, R, N, 2);
    xbarfunc_layer_forward(L, x, B, 4, false, y2);
    ck_assert_int_eq(memcmp(y, y2, sizeof y), 0);
    xbarfunc_layer_destroy(L);
}
END_TEST

/* Variation with a lossless ADC: the linear path (one GEMM of effective weights) and the analog
 * path (conversion by conversion) are the same arithmetic summed in another order: outputs agree
 * to within one level (a sum landing on .5), and the same seed gives the same bits. */
START_TEST(test_xbarfunc_device_linear_equals_analog)
{
    enum { R = 40, N = 9, B = 12 };
    uint64_t s = 13;
    int32_t w[R * N], x[B * R];
    random_weights(&s, w, R * N, 5);
    random_inputs(&s, x, B * R, 5, true);
    for (unsigned m = 0; m < ARCH_MAP_COUNT; m++) {
        xbarfunc_params p = dev_tile;
        p.mapping = (arch_mapping)m;
        p.adc_mode = XBARFUNC_ADC_IDEAL;
        device_params d;
        device_params_ideal(&d);
        d.sigma = 0.05, d.on_off_ratio = 50.0, d.seed = 17;
        xbarfunc_layer *L = device_layer(p, &d, w, R, N, 5), *L2 = device_layer(p, &d, w, R, N, 5);
        int64_t y[B * N], ya[B * N], y2[B * N];
        xbarfunc_layer_forward(L, x, B, 5, true, y);
        xbarfunc_layer_forward_sliced(L, x, B, 5, true, ya);
        xbarfunc_layer_forward(L2, x, B, 5, true, y2);
        ck_assert_int_eq(memcmp(y, y2, sizeof y), 0);
        for (int i = 0; i < B * N; i++)
            ck_assert_int_le(llabs(y[i] - ya[i]), 1);
        xbarfunc_layer_destroy(L);
        xbarfunc_layer_destroy(L2);
    }
}
END_TEST

/* More variation never lowers the error: the mean squared output error against the exact GEMM,
 * over 20 chips (seeds), grows with sigma 1, 2, 5, 10, 20 %. Tolerance: each step must be at
 * least 1.5x the one before (the expectation grows as sigma^2: 4x, 6.25x, 4x, 4x). */
START_TEST(test_xbarfunc_device_more_variation_more_error)
{
    enum { R = 36, N = 8, B = 16 };
    uint64_t s = 21;
    int32_t w[R * N], x[B * R];
    random_weights(&s, w, R * N, 6);
    random_inputs(&s, x, B * R, 6, false);
    int64_t ref[B * N], y[B * N];
    gemm_ref(x, w, B, R, N, ref);
    const double sig[] = {0.01, 0.02, 0.05, 0.1, 0.2};
    double prev = 0.0;
    for (size_t k = 0; k < sizeof sig / sizeof sig[0]; k++) {
        double mse = 0.0;
        for (uint64_t seed = 1; seed <= 20; seed++) {
            device_params d;
            device_params_ideal(&d);
            d.sigma = sig[k], d.seed = seed;
            xbarfunc_layer *L = device_layer(dev_tile, &d, w, R, N, 6);
            xbarfunc_layer_forward(L, x, B, 6, false, y);
            for (int i = 0; i < B * N; i++)
                mse += (double)(y[i] - ref[i]) * (double)(y[i] - ref[i]);
            xbarfunc_layer_destroy(L);
        }
        ck_assert_msg(mse >= 1.5 * prev, "sigma %g: %g after %g", sig[k], mse, prev);
        prev = mse;
    }
}
END_TEST

/* Read noise through a short ADC: the same bits on 1 and 2 threads, and different from the
 * noiseless reading. */
START_TEST(test_xbarfunc_device_read_noise_deterministic)
{
    enum { R = 30, N = 6, B = 70 };
    uint64_t s = 31;
    int32_t w[R * N], x[B * R];
    random_weights(&s, w, R * N, 4);
    random_inputs(&s, x, B * R, 4, false);
    device_params d;
    device_params_ideal(&d);
    d.read_noise = 0.05;
    xbarfunc_params p = dev_tile;
    p.adc_bits = 4;
    xbarfunc_layer *L = device_layer(p, &d, w, R, N, 4);
    int64_t y1[B * N], y2[B * N], y0[B * N];
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    xbarfunc_layer_forward(L, x, B, 4, false, y1);
    omp_set_num_threads(2);
    xbarfunc_layer_forward(L, x, B, 4, false, y2);
    omp_set_num_threads(saved);
    ck_assert_int_eq(memcmp(y1, y2, sizeof y1), 0);
    device_params_ideal(&d);
    xbarfunc_layer *L0 = device_layer(p, &d, w, R, N, 4);
    xbarfunc_layer_forward(L0, x, B, 4, false, y0);
    ck_assert_int_ne(memcmp(y1, y0, sizeof y1), 0);
    xbarfunc_layer_destroy(L);
    xbarfunc_layer_destroy(L0);
}
END_TEST

START_TEST(test_xbarfunc_threads_deterministic)
{
    uint64_t s = 77;
    const size_t R = 70, N = 19, B = 100;
    int32_t *w = malloc(R * N * sizeof *w), *x = malloc(B * R * sizeof *x);
    int64_t *y1 = malloc(B * N * sizeof *y1), *y2 = malloc(B * N * sizeof *y2);
    random_weights(&s, w, R * N, 6);
    random_inputs(&s, x, B * R, 5, true);
    xbarfunc_params p = {.cell_bits = 2,
                         .mapping = ARCH_MAP_OFFSET,
                         .rows = 32,
                         .rows_active = 9,
                         .dac_bits = 2,
                         .adc_bits = 4,
                         .adc_mode = XBARFUNC_ADC_SATURATE,
                         .cols = 16};
    xbarfunc_layer *L = NULL;
    err e;
    ck_assert_int_eq(xbarfunc_layer_create(&p, w, R, N, 6, &L, &e), 0);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    uint64_t l1 = xbarfunc_layer_forward(L, x, B, 5, true, y1);
    omp_set_num_threads(2);
    uint64_t l2 = xbarfunc_layer_forward(L, x, B, 5, true, y2);
    omp_set_num_threads(saved);
    ck_assert_uint_gt(l1, 0);
    ck_assert_uint_eq(l1, l2);
    ck_assert_int_eq(memcmp(y1, y2, B * N * sizeof *y1), 0);
    xbarfunc_layer_destroy(L);
    free(w);
    free(x);
    free(y1);
    free(y2);
}
END_TEST

static void expect_input_error(const xbarfunc_params *p, const int32_t *w, size_t R, size_t N,
                               unsigned wb, const char *needle)
{
    xbarfunc_layer *L = NULL;
    err e;
    err_clear(&e);
    ck_assert_int_eq(xbarfunc_layer_create(p, w, R, N, wb, &L, &e), ERR_INPUT);
    ck_assert_ptr_null(L);
    ck_assert_int_eq(e.code, ERR_INPUT);
    ck_assert_msg(strstr(e.msg, needle) != NULL, "message '%s' lacks '%s'", e.msg, needle);
}

/* Bad parameters and out-of-range weights: ERR_INPUT saying what and where. */
START_TEST(test_xbarfunc_errors)
{
    const xbarfunc_params good = {.cell_bits = 2,
                                  .mapping = ARCH_MAP_OFFSET,
                                  .rows = 8,
                                  .rows_active = 4,
                                  .dac_bits = 1,
                                  .adc_bits = 3,
                                  .adc_mode = XBARFUNC_ADC_SATURATE};
    const int32_t w[] = {1, -3, 2, 3, 0, -1}; /* 2 x 3, fits wb 3 */
    xbarfunc_params p = good;
    p.cell_bits = 0;
    expect_input_error(&p, w, 2, 3, 3, "cell_bits: found 0");
    p = good;
    p.cell_bits = 9;
    expect_input_error(&p, w, 2, 3, 3, "cell_bits: found 9");
    p = good;
    p.rows_active = 9;
    expect_input_error(&p, w, 2, 3, 3, "rows_active: found 9");
    p = good;
    p.rows_active = 0;
    expect_input_error(&p, w, 2, 3, 3, "rows_active: found 0");
    p = good;
    p.rows = 0;
    expect_input_error(&p, w, 2, 3, 3, "rows: found 0");
    p = good;
    p.dac_bits = 9;
    expect_input_error(&p, w, 2, 3, 3, "dac_bits: found 9");
    p = good;
    p.adc_bits = 0;
    expect_input_error(&p, w, 2, 3, 3, "adc_bits: found 0");
    p = good;
    p.adc_bits = 17;
    expect_input_error(&p, w, 2, 3, 3, "adc_bits: found 17");
    p = good;
    p.adc_mode = XBARFUNC_ADC_MODE_COUNT;
    expect_input_error(&p, w, 2, 3, 3, "adc_mode");
    p = good;
    p.mapping = ARCH_MAP_COUNT;
    expect_input_error(&p, w, 2, 3, 3, "mapping");
    p = good;
    p.cols = 1;
    expect_input_error(&p, w, 2, 3, 3, "cols: found 1");
    expect_input_error(&good, w, 2, 3, 1, "weight bits: found 1");
    expect_input_error(&good, w, 2, 3, 17, "weight bits: found 17");
    expect_input_error(&good, w, 0, 3, 3, "found 0 x 3");
    /* wb 2 allows -1..1: w[1] = -3 at row 0, column 1 is the first outside */
    expect_input_error(&good, w, 2, 3, 2, "row 0, column 1: found -3, expected -1..1");
    const int32_t w4[] = {0, 0, 4, 0}; /* 4 > 3 at row 1, column 0 for wb 3 */
    expect_input_error(&good, w4, 2, 2, 3, "row 1, column 0: found 4, expected -3..3");
    err e;
    ck_assert_int_eq(xbarfunc_params_check(&good, &e), 0);
}
END_TEST

/* Names round-trip; bits needed agree with arch_adc_bits_needed; params_from_arch copies. */
START_TEST(test_xbarfunc_names_and_arch)
{
    for (unsigned m = 0; m < XBARFUNC_ADC_MODE_COUNT; m++) {
        xbarfunc_adc_mode back;
        ck_assert_int_eq(
            xbarfunc_adc_mode_parse(xbarfunc_adc_mode_name((xbarfunc_adc_mode)m), &back), 0);
        ck_assert_int_eq(back, m);
    }
    xbarfunc_adc_mode back;
    ck_assert_int_eq(xbarfunc_adc_mode_parse("lossless", &back), -1);
    ck_assert_str_eq(xbarfunc_adc_mode_name(XBARFUNC_ADC_DROP_LSB), "drop_lsb");
    arch a;
    memset(&a, 0, sizeof a);
    a.tiles.rows = 256;
    a.tiles.cols = 128;
    a.tiles.mapping = ARCH_MAP_DIFF_ROW;
    const unsigned ra[] = {1, 9, 128, 256}, cb[] = {1, 2, 4, 8}, dac[] = {1, 2, 8};
    for (unsigned i = 0; i < 4; i++)
        for (unsigned j = 0; j < 4; j++)
            for (unsigned k = 0; k < 3; k++) {
                a.tiles.rows_active = ra[i];
                a.tiles.cell_bits = cb[j];
                a.tiles.dac.bits = dac[k];
                xbarfunc_params p;
                xbarfunc_params_from_arch(&a, 5, XBARFUNC_ADC_DROP_LSB, &p);
                ck_assert_uint_eq(xbarfunc_adc_bits_needed(&p), arch_adc_bits_needed(&a));
                ck_assert_uint_eq(p.rows_active, ra[i]);
                ck_assert_uint_eq(p.cell_bits, cb[j]);
                ck_assert_uint_eq(p.dac_bits, dac[k]);
                ck_assert_uint_eq(p.rows, 256);
                ck_assert_uint_eq(p.cols, 128);
                ck_assert_uint_eq(p.adc_bits, 5);
                ck_assert_int_eq(p.mapping, ARCH_MAP_DIFF_ROW);
                ck_assert_int_eq(p.adc_mode, XBARFUNC_ADC_DROP_LSB);
            }
    /* 9 rows x 1-bit cells x 1-bit inputs sum to at most 9: 4 bits (LRMP); 256 x 3 x 1 = 768:
     * 10 bits */
    xbarfunc_params p = {.cell_bits = 1, .rows = 256, .rows_active = 9, .dac_bits = 1};
    ck_assert_uint_eq(xbarfunc_adc_bits_needed(&p), 4);
    p.cell_bits = 2;
    p.rows_active = 256;
    ck_assert_uint_eq(xbarfunc_adc_bits_needed(&p), 10);
}
END_TEST

/* Offset reference columns: one per column tile of cols - 1 weight columns. 5 outputs x 4
 * slices (wb 4, 1-bit cells) = 20 weight columns in tiles of 7: 3 reference columns; 2 row
 * groups (R 6, 3 active) and ab 3 unsigned (3 steps): 3 x 2 x (20 + 3) = 138 conversions. */
START_TEST(test_xbarfunc_conversions)
{
    xbarfunc_params p = {.cell_bits = 1,
                         .mapping = ARCH_MAP_OFFSET,
                         .rows = 8,
                         .rows_active = 3,
                         .dac_bits = 1,
                         .adc_bits = 2,
                         .adc_mode = XBARFUNC_ADC_SATURATE,
                         .cols = 8};
    int32_t w[30] = {0};
    xbarfunc_layer *L = NULL;
    err e;
    ck_assert_int_eq(xbarfunc_layer_create(&p, w, 6, 5, 4, &L, &e), 0);
    ck_assert_uint_eq(xbarfunc_layer_slices(L), 4);
    ck_assert_uint_eq(xbarfunc_layer_rows(L), 6);
    ck_assert_uint_eq(xbarfunc_layer_cols(L), 5);
    ck_assert_uint_eq(xbarfunc_layer_weight_bits(L), 4);
    ck_assert_uint_eq(xbarfunc_layer_conversions(L, 3, false), 138);
    /* Weights 0 store u = 7 (slices 1, 1, 1, 0); all-ones digits (x = 7): at most 3 rows x 1 = 3
     * per conversion, which 2 bits read exactly: y = 0, nothing lost. */
    int32_t x[6] = {7, 7, 7, 7, 7, 7};
    int64_t y[5];
    ck_assert_uint_eq(xbarfunc_layer_forward(L, x, 1, 3, false, y), 0);
    for (unsigned n = 0; n < 5; n++)
        ck_assert_int_eq(y[n], 0);
    xbarfunc_layer_destroy(L);
    /* 4 rows active: reference and three slice columns read 4 > 3 in both groups ({0..3},
     * {4, 5} reads 2): per step 3 slice columns x 5 outputs + 3 reference columns = 18 lossy,
     * times 3 steps = 54. */
    p.rows_active = 4;
    ck_assert_int_eq(xbarfunc_layer_create(&p, w, 6, 5, 4, &L, &e), 0);
    ck_assert_uint_eq(xbarfunc_layer_forward(L, x, 1, 3, false, y), 54);
    xbarfunc_layer_destroy(L);
}
END_TEST

static Suite *xbarfunc_suite(void)
{
    Suite *s = suite_create("xbarfunc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_xbarfunc_exact_gemm);
    tcase_add_test(tc, test_xbarfunc_exact_gemm_precision_limit);
    tcase_add_test(tc, test_xbarfunc_reference_lossy);
    tcase_add_test(tc, test_xbarfunc_reference_large_groups);
    tcase_add_test(tc, test_xbarfunc_hand_diff_column);
    tcase_add_test(tc, test_xbarfunc_hand_offset_signed);
    tcase_add_test(tc, test_xbarfunc_hand_diff_row);
    tcase_add_test(tc, test_xbarfunc_monotone_bits);
    tcase_add_test(tc, test_xbarfunc_threads_deterministic);
    tcase_add_test(tc, test_xbarfunc_errors);
    tcase_add_test(tc, test_xbarfunc_names_and_arch);
    tcase_add_test(tc, test_xbarfunc_conversions);
    tcase_add_test(tc, test_xbarfunc_device_exact_only_when_ideal);
    tcase_add_test(tc, test_xbarfunc_device_stuck_cell_changes_its_column);
    tcase_add_test(tc, test_xbarfunc_device_on_off_and_drift_at_t0);
    tcase_add_test(tc, test_xbarfunc_device_linear_equals_analog);
    tcase_add_test(tc, test_xbarfunc_device_more_variation_more_error);
    tcase_add_test(tc, test_xbarfunc_device_read_noise_deterministic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(xbarfunc_suite());
}
