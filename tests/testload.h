/* testload: loading the presets, the built-in networks and inline config texts in the suites that
 * map networks (test_model, test_exec). Header-only; the including suite defines
 * XBARSIM_SOURCE_DIR (CMake) and links the mapper. A load that fails fails the test.
 */
#ifndef XBARSIM_TESTS_TESTLOAD_H
#define XBARSIM_TESTS_TESTLOAD_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "network.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* An arch from a config text (it contains '{') or a preset name in configs/arch/. */
static inline void testload_arch(const char *text_or_preset, arch *a)
{
    err e;
    int rc;
    if (strchr(text_or_preset, '{'))
        rc = arch_load_string(text_or_preset, "small.cfg", a, &e);
    else {
        char path[4096];
        snprintf(path, sizeof path, "%s/configs/arch/%s.cfg", XBARSIM_SOURCE_DIR, text_or_preset);
        rc = arch_load_file(path, a, &e);
    }
    ck_assert_msg(rc == 0, "%s", e.msg);
}

/* A network from a config text (it contains '{') or a built-in name in configs/net/. */
static inline void testload_net(const char *text_or_name, network *n)
{
    err e;
    int rc;
    if (strchr(text_or_name, '{'))
        rc = network_load_string(text_or_name, "tiny.cfg", n, &e);
    else {
        char path[4096];
        snprintf(path, sizeof path, "%s/configs/net/%s.cfg", XBARSIM_SOURCE_DIR, text_or_name);
        rc = network_load_file(path, n, &e);
    }
    ck_assert_msg(rc == 0, "%s", e.msg);
}

/* Loading the arch text `text` (named `origin`) fails as bad input with both p1 and p2 in the
 * message. */
static inline void testload_arch_refused(const char *text, const char *origin, const char *p1,
                                         const char *p2)
{
    arch a;
    err e;
    ck_assert_int_eq(arch_load_string(text, origin, &a, &e), ERR_INPUT);
    ck_assert_msg(strstr(e.msg, p1) && strstr(e.msg, p2), "message lacks \"%s\" / \"%s\": %s", p1,
                  p2, e.msg);
}

#endif
