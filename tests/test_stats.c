/* test_stats: counters, accumulators and values -- registration, updates, read-back, reset. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "stats.h"
#include "testutil.h"

START_TEST(test_stats_counter_counts)
{
    stats st;
    stats_init(&st);
    size_t id = stats_counter(&st, "adc_conversions", "count");
    stats_add(&st, id, 3);
    stats_add(&st, id, 4);
    ck_assert_uint_eq(stats_at(&st, id)->count, 7);
    ck_assert_str_eq(stats_at(&st, id)->unit, "count");
    /* Registering the same name again finds the same entry. */
    ck_assert_uint_eq(stats_counter(&st, "adc_conversions", "count"), id);
    ck_assert_uint_eq(stats_size(&st), 1);
    stats_fini(&st);
}
END_TEST

START_TEST(test_stats_accum_moments)
{
    stats st;
    stats_init(&st);
    size_t id = stats_accum(&st, "wait", "ps");
    const double xs[] = {4.0, -2.0, 10.0, 0.5};
    for (size_t i = 0; i < 4; i++)
        stats_sample(&st, id, xs[i]);
    const stats_entry *e = stats_at(&st, id);
    ck_assert_uint_eq(e->count, 4);
    ck_assert_double_eq(e->sum, 12.5); /* 4 - 2 + 10 + 0.5 */
    ck_assert_double_eq(e->min, -2.0);
    ck_assert_double_eq(e->max, 10.0);
    ck_assert_double_eq(stats_mean(e), 3.125);
    stats_fini(&st);
}
END_TEST

START_TEST(test_stats_find_and_value)
{
    stats st;
    stats_init(&st);
    for (int i = 0; i < 20; i++) { /* forces the table to grow */
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        stats_counter(&st, name, "count");
    }
    size_t v = stats_value(&st, "utilisation", "fraction");
    stats_set(&st, v, 0.25);
    ck_assert_int_eq(stats_find(&st, "utilisation"), (long)v);
    ck_assert_int_eq(stats_find(&st, "c13"), 13);
    ck_assert_int_eq(stats_find(&st, "absent"), -1);
    ck_assert_double_eq(stats_at(&st, v)->sum, 0.25);
    stats_fini(&st);
}
END_TEST

START_TEST(test_stats_reset_keeps_names)
{
    stats st;
    stats_init(&st);
    size_t c = stats_counter(&st, "n", "count");
    size_t a = stats_accum(&st, "x", "pJ");
    stats_add(&st, c, 5);
    stats_sample(&st, a, 2.0);
    stats_reset(&st);
    ck_assert_uint_eq(stats_size(&st), 2);
    ck_assert_uint_eq(stats_at(&st, c)->count, 0);
    ck_assert_uint_eq(stats_at(&st, a)->count, 0);
    ck_assert_double_eq(stats_mean(stats_at(&st, a)), 0.0);
    stats_sample(&st, a, -1.0); /* the first sample after a reset sets min and max */
    ck_assert_double_eq(stats_at(&st, a)->min, -1.0);
    ck_assert_double_eq(stats_at(&st, a)->max, -1.0);
    stats_fini(&st);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_stats_counter_counts);
    tcase_add_test(tc, test_stats_accum_moments);
    tcase_add_test(tc, test_stats_find_and_value);
    tcase_add_test(tc, test_stats_reset_keeps_names);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
