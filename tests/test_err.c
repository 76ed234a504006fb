/* test_err: the bad-input error buffer -- formatting, prefixing context, truncation. */
#include <check.h>
#include <string.h>

#include "err.h"
#include "testutil.h"

START_TEST(test_err_set_and_prefix)
{
    err e;
    err_clear(&e);
    ck_assert_int_eq(e.code, 0);
    ck_assert_str_eq(e.msg, "");
    int rc = err_set(&e, ERR_INPUT, "arch.tiles.adc.bits: found %d, expected 1..16", 40);
    ck_assert_int_eq(rc, ERR_INPUT);
    ck_assert_int_eq(e.code, ERR_INPUT);
    err_prefix(&e, "%s:%d", "lrmp.cfg", 12);
    ck_assert_str_eq(e.msg, "lrmp.cfg:12: arch.tiles.adc.bits: found 40, expected 1..16");
    /* A NULL buffer is allowed: the status still comes back. */
    ck_assert_int_eq(err_set(NULL, ERR_IO, "ignored"), ERR_IO);
    err_prefix(NULL, "ignored");
}
END_TEST

START_TEST(test_err_truncates_never_overflows)
{
    err e;
    char big[3 * ERR_MSG_BYTES];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_set(&e, ERR_INPUT, "%s", big);
    ck_assert_uint_eq(strlen(e.msg), ERR_MSG_BYTES - 1);
    err_set(&e, ERR_INPUT, "tail");
    err_prefix(&e, "%s", big); /* the prefix alone overflows: message is cut, still terminated */
    ck_assert_uint_eq(strlen(e.msg), ERR_MSG_BYTES - 1);
    ck_assert_int_eq(e.msg[0], 'x');
    err_set(&e, ERR_INPUT, "%s", big);
    err_prefix(&e, "file.cfg:3");
    ck_assert_uint_eq(strlen(e.msg), ERR_MSG_BYTES - 1);
    ck_assert(strncmp(e.msg, "file.cfg:3: xxx", 15) == 0);
}
END_TEST

START_TEST(test_err_names_join)
{
    const char *const names[] = {"lrmp", "cimaq", "haq", "huang"};
    ck_assert_str_eq(err_names_join(names, 1).text, "lrmp");
    ck_assert_str_eq(err_names_join(names, 2).text, "lrmp or cimaq");
    ck_assert_str_eq(err_names_join(names, 4).text, "lrmp, cimaq, haq or huang");
    ck_assert_str_eq(err_names_join(names, 0).text, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_err_set_and_prefix);
    tcase_add_test(tc, test_err_truncates_never_overflows);
    tcase_add_test(tc, test_err_names_join);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
