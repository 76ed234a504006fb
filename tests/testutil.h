/* testutil: shared scaffolding of the Check suites -- run a suite and turn failures into the exit
 * status CTest reads. Header-only; every suite's main() is one call. */
#ifndef XBARSIM_TESTS_TESTUTIL_H
#define XBARSIM_TESTS_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

/* Run every test of s (taking ownership of s) and return EXIT_SUCCESS or EXIT_FAILURE. */
static inline int testutil_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
