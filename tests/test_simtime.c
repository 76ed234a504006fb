/* test_simtime: the one rounding of clock periods and real durations to ps ticks. */
#include <check.h>

#include "simtime.h"
#include "testutil.h"

START_TEST(test_simtime_period_rounds_once)
{
    /* 192 MHz (LRMP): 1e6 / 192 = 5208.333 ps -> 5208. */
    ck_assert_uint_eq(simtime_period_ps(192.0), 5208);
    /* 1 GHz -> 1000 ps exactly; 3 GHz: 333.33 -> 333; 1.5 MHz: 666666.67 -> 666667. */
    ck_assert_uint_eq(simtime_period_ps(1000.0), 1000);
    ck_assert_uint_eq(simtime_period_ps(3000.0), 333);
    ck_assert_uint_eq(simtime_period_ps(1.5), 666667);
    /* 1 THz is the fastest clock representable: 1 ps. */
    ck_assert_uint_eq(simtime_period_ps(1e6), 1);
}
END_TEST

START_TEST(test_simtime_conversions)
{
    ck_assert_uint_eq(simtime_from_ns(56000.0), 56 * SIMTIME_PS_PER_US); /* CIM-AQ write, 56 us */
    ck_assert_uint_eq(simtime_from_ns(1.4004), 1400);                    /* rounds to nearest */
    ck_assert_uint_eq(simtime_from_ns(1.4006), 1401);
    ck_assert_double_eq(simtime_to_ns(1500), 1.5);
    ck_assert_double_eq(simtime_to_us(2500000), 2.5);
    ck_assert_double_eq(simtime_to_s(SIMTIME_PS_PER_S), 1.0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("simtime");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_simtime_period_rounds_once);
    tcase_add_test(tc, test_simtime_conversions);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
