/* test_rng: per-stream seeding -- reproducible, distinct per id and per run seed, and independent
 * of the order streams are created in; the fast inline stream against the xoshiro256++ reference
 * outputs, and its ziggurat exponential against the exponential distribution function. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "rng.h"
#include "testutil.h"

START_TEST(test_rng_same_key_same_stream)
{
    gsl_rng *a = rng_stream_create(NULL, 7, 3);
    gsl_rng *other = rng_stream_create(NULL, 7, 4); /* created in between: must not matter */
    gsl_rng *b = rng_stream_create(NULL, 7, 3);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(gsl_rng_get(a), gsl_rng_get(b));
    gsl_rng_free(a);
    gsl_rng_free(b);
    gsl_rng_free(other);
}
END_TEST

static int cmp_ulong(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return (x > y) - (x < y);
}

START_TEST(test_rng_seeds_distinct)
{
    /* 1000 ids x 4 run seeds: 4000 seeds from a 32-bit hash; a collision among them would happen
     * with probability ~0.2 %, so a fixed set with none is a meaningful check of the mixing. */
    enum { IDS = 1000, RUNS = 4 };
    static unsigned long seen[IDS * RUNS];
    size_t n = 0;
    for (uint64_t run = 0; run < RUNS; run++)
        for (uint64_t id = 0; id < IDS; id++)
            seen[n++] = rng_stream_seed(run, id);
    qsort(seen, n, sizeof seen[0], cmp_ulong);
    ck_assert_uint_ne(seen[0], 0);
    size_t dups = 0;
    for (size_t j = 1; j < n; j++)
        dups += seen[j] == seen[j - 1];
    ck_assert_uint_eq(dups, 0);
}
END_TEST

START_TEST(test_rng_type_selectable)
{
    gsl_rng *r = rng_stream_create(gsl_rng_mt19937, 1, 1);
    ck_assert_str_eq(gsl_rng_name(r), "mt19937");
    gsl_rng_free(r);
    r = rng_stream_create(NULL, 1, 1);
    ck_assert_str_eq(gsl_rng_name(r), "taus2");
    gsl_rng_free(r);
}
END_TEST

START_TEST(test_rng_fast_reference_outputs)
{
    /* From state {1, 2, 3, 4}, worked out by a separate Python transcription of
     * https://prng.di.unimi.it/xoshiro256plusplus.c. */
    rng_fast r = {.s = {1, 2, 3, 4}};
    ck_assert_uint_eq(rng_fast_next(&r), UINT64_C(0x2800001));
    ck_assert_uint_eq(rng_fast_next(&r), UINT64_C(0x3800067));
    ck_assert_uint_eq(rng_fast_next(&r), UINT64_C(0xcc00003800067));
}
END_TEST

START_TEST(test_rng_fast_same_key_same_stream)
{
    rng_fast a, b, c;
    rng_fast_seed(&a, 7, 3);
    rng_fast_seed(&c, 7, 4);
    rng_fast_seed(&b, 7, 3);
    int same_as_other = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_fast_next(&a);
        ck_assert_uint_eq(x, rng_fast_next(&b));
        same_as_other += x == rng_fast_next(&c);
    }
    ck_assert_int_eq(same_as_other, 0);
}
END_TEST

START_TEST(test_rng_fast_below_in_range)
{
    rng_fast r;
    rng_fast_seed(&r, 1, 1);
    enum { N = 5, DRAWS = 100000 };
    int count[N] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint32_t k = rng_fast_below(&r, N);
        ck_assert_uint_lt(k, N);
        count[k]++;
    }
    /* Each bin ~ Binomial(1e5, 0.2): sd 126.5; 5 sd. */
    for (int k = 0; k < N; k++)
        ck_assert_int_lt(abs(count[k] - DRAWS / N), 633);
    double u = rng_fast_uniform(&r);
    ck_assert(u >= 0.0 && u < 1.0);
}
END_TEST

START_TEST(test_rng_fast_exp1_distribution)
{
    /* 10^6 draws against Exp(1): mean and variance 1, and the distribution function 1 - e^-x at
     * points on both sides of the ziggurat's tail edge 7.697 (its slow path). Bounds are 5
     * standard deviations of each estimate. */
    enum { DRAWS = 1000000 };
    static const double at[] = {0.1, 0.5, 1.0, 2.0, 4.0, 7.0, 7.697, 9.0};
    enum { NAT = sizeof at / sizeof at[0] };
    long below[NAT] = {0};
    rng_fast r;
    rng_fast_seed(&r, 42, 0);
    double sum = 0, sum2 = 0, least = 1.0;
    for (int i = 0; i < DRAWS; i++) {
        double x = rng_fast_exp1(&r);
        least = x < least ? x : least;
        sum += x;
        sum2 += x * x;
        for (int k = 0; k < NAT; k++)
            below[k] += x < at[k];
    }
    ck_assert(least >= 0.0);
    double mean = sum / DRAWS, var = sum2 / DRAWS - mean * mean;
    ck_assert_double_eq_tol(mean, 1.0, 5 * 1.0 / sqrt(DRAWS));
    ck_assert_double_eq_tol(var, 1.0, 5 * sqrt(8.0 / DRAWS)); /* var of s^2: (mu4 - 1)/n, mu4 = 9 */
    for (int k = 0; k < NAT; k++) {
        double p = 1.0 - exp(-at[k]);
        double sd = sqrt(p * (1 - p) / DRAWS);
        ck_assert_double_eq_tol((double)below[k] / DRAWS, p, 5 * sd + 1e-9);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rng_same_key_same_stream);
    tcase_add_test(tc, test_rng_seeds_distinct);
    tcase_add_test(tc, test_rng_type_selectable);
    tcase_add_test(tc, test_rng_fast_reference_outputs);
    tcase_add_test(tc, test_rng_fast_same_key_same_stream);
    tcase_add_test(tc, test_rng_fast_below_in_range);
    tcase_add_test(tc, test_rng_fast_exp1_distribution);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
