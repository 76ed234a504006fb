/* test_replication: copies per layer from shorthands and files, and their limits (1..P). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "network.h"
#include "replication.h"
#include "testutil.h"

/* fc1 over 6 tokens (P = 6), act digital, fc2 over 6 tokens. */
static const char *const net_text =
    "network = {\n"
    "  name = \"two\";\n"
    "  input = { features = 4; tokens = 6; };\n"
    "  layers = (\n"
    "    { name = \"fc1\"; type = \"linear\"; out_features = 4; },\n"
    "    { name = \"act\"; type = \"relu\"; },\n"
    "    { name = \"fc2\"; type = \"linear\"; out_features = 2; }\n"
    "  );\n"
    "};\n";

static network net;
static char dir[64];

static void setup(void)
{
    err e;
    ck_assert_msg(network_load_string(net_text, "two.cfg", &net, &e) == 0, "%s", e.msg);
    snprintf(dir, sizeof dir, "/tmp/xbarsim_rep_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    network_fini(&net);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void expect_copies(const char *spec, unsigned c0, unsigned c1)
{
    unsigned *c = NULL;
    err e;
    ck_assert_msg(replication_from_spec(spec, &net, &c, &e) == 0, "%s: %s", spec, e.msg);
    ck_assert_uint_eq(c[0], c0);
    ck_assert_uint_eq(c[1], c1);
    free(c);
}

static void expect_error(const char *spec, const char *n1, const char *n2)
{
    unsigned *c = NULL;
    err e;
    err_clear(&e);
    ck_assert_int_lt(replication_from_spec(spec, &net, &c, &e), 0);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(e.msg, n1), "message \"%s\" lacks \"%s\"", e.msg, n1);
    ck_assert_msg(strstr(e.msg, n2), "message \"%s\" lacks \"%s\"", e.msg, n2);
}

START_TEST(test_replication_sources)
{
    expect_copies("none", 1, 1);
    expect_copies("fc1=3", 3, 1);
    expect_copies("fc2=6,fc1=2", 2, 6); /* P = 6: six copies is the most */
    expect_copies(write_file("r.csv", "layer,copies\nfc2,4\n"), 1, 4);
    expect_copies(write_file("r.cfg", "replication = ( { layer = \"fc1\"; copies = 5; } );\n"), 5,
                  1);
}
END_TEST

START_TEST(test_replication_errors)
{
    /* fuzz_replication: a count out of range named "replication", not the spec */
    expect_error("fc1=7", "replication \"fc1=7\": layer \"fc1\": copies: found 7", "expected 1..6");
    expect_error("fc1=0", "copies: found 0", "expected 1..6");
    expect_error("act=2", "found \"act\"", "expected a crossbar layer");
    expect_error("fc1=2,fc1=3", "\"fc1\"", "given twice");
    expect_error("fc1=two,fc2=3", "fc1: found \"two\"", "expected an integer copy count");
    expect_error(write_file("float.cfg", "replication = ( { layer = \"fc1\"; copies = 2.5; } );\n"),
                 "float.cfg:1", "replication.[0].copies: found the number 2.5");
    expect_error("=3", "=3", "expected NAME=COPIES");
    expect_error(write_file("big.csv", "layer,copies\nfc1,2\nfc2,9\n"), "big.csv:3",
                 "copies: found 9");
    expect_error(write_file("bad.cfg", "replication = ( { layer = \"fc1\"; copy = 2; } );\n"),
                 "bad.cfg:1", "replication.[0].copy: unknown key");
}
END_TEST

START_TEST(test_replication_csv_round_trip)
{
    unsigned copies[2] = {3, 5};
    char path[128];
    snprintf(path, sizeof path, "%s/out.csv", dir);
    FILE *f = fopen(path, "w");
    replication_write_csv(copies, &net, f);
    fclose(f);
    expect_copies(path, 3, 5);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replication");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_replication_sources);
    tcase_add_test(tc, test_replication_errors);
    tcase_add_test(tc, test_replication_csv_round_trip);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
