/* test_rng: per-stream seeding -- reproducible, distinct per id and per run seed, and independent
 * of the order streams are created in. */
#include <check.h>
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

int main(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_rng_same_key_same_stream);
    tcase_add_test(tc, test_rng_seeds_distinct);
    tcase_add_test(tc, test_rng_type_selectable);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
