/* test_policy: per-layer precision -- shorthands, CSV and libconfig files, and the checks against
 * the network (every crossbar layer once) and the arch (bit ranges, ADC tables, cell multiples). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "network.h"
#include "policy.h"
#include "testutil.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* Three crossbar layers (fc1, fc2, fc3) and one digital layer (act). */
static const char *const mlp_text =
    "network = {\n"
    "  name = \"mlp3\";\n"
    "  input = { features = 16; };\n"
    "  layers = (\n"
    "    { name = \"fc1\"; type = \"linear\"; out_features = 8; },\n"
    "    { name = \"act\"; type = \"relu\"; },\n"
    "    { name = \"fc2\"; type = \"linear\"; out_features = 8; },\n"
    "    { name = \"fc3\"; type = \"linear\"; out_features = 4; }\n"
    "  );\n"
    "};\n";

static network net;
static arch lrmp, puma;
static char dir[64];

static void setup(void)
{
    err e;
    ck_assert_msg(network_load_string(mlp_text, "mlp3.cfg", &net, &e) == 0, "%s", e.msg);
    ck_assert_msg(arch_load_file(XBARSIM_SOURCE_DIR "/configs/arch/lrmp.cfg", &lrmp, &e) == 0, "%s",
                  e.msg);
    ck_assert_msg(arch_load_file(XBARSIM_SOURCE_DIR "/configs/arch/puma.cfg", &puma, &e) == 0, "%s",
                  e.msg);
    snprintf(dir, sizeof dir, "/tmp/xbarsim_policy_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    network_fini(&net);
    arch_fini(&lrmp);
    arch_fini(&puma);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Write text to dir/name and return the path (static buffer). */
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

/* Load spec against net on lrmp, expecting an error whose message contains every needle. */
static void expect_error(const char *spec, const policy_rules *rules, const arch *a, const char *n1,
                         const char *n2)
{
    policy p = {.n = 99, .layers = NULL};
    err e;
    err_clear(&e);
    ck_assert_int_lt(policy_from_spec(spec, &net, a, rules, &p, &e), 0);
    ck_assert_msg(strstr(e.msg, n1), "message \"%s\" lacks \"%s\"", e.msg, n1);
    if (n2)
        ck_assert_msg(strstr(e.msg, n2), "message \"%s\" lacks \"%s\"", e.msg, n2);
    ck_assert_uint_eq(p.n, 99); /* untouched */
}

START_TEST(test_policy_uniform_shorthands)
{
    policy p;
    err e;
    ck_assert_int_eq(policy_from_spec("uniform:8", &net, &lrmp, NULL, &p, &e), 0);
    ck_assert_uint_eq(p.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(p.layers[i].wb, 8);
        ck_assert_uint_eq(p.layers[i].ab, 8);
        ck_assert_uint_eq(policy_adc_bits(&p, &lrmp, i), 4); /* lrmp's ADC */
    }
    policy_fini(&p);
    ck_assert_int_eq(policy_from_spec("uniform:4,6", &net, &lrmp, NULL, &p, &e), 0);
    ck_assert_uint_eq(p.layers[2].wb, 4);
    ck_assert_uint_eq(p.layers[2].ab, 6);
    policy_fini(&p);
}
END_TEST

START_TEST(test_policy_bad_shorthands)
{
    const char *bad[] = {"uniform:0", "uniform:17",    "uniform:8,",
                         "uniform:x", "uniform:4,6,8", "uniform:"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(bad[i], NULL, &lrmp, bad[i], "expected uniform:B or uniform:W,A");
}
END_TEST

START_TEST(test_policy_csv_loads)
{
    const char *path = write_file("p.csv", "# a comment\n"
                                           "layer,wb,ab,adc_bits\n"
                                           "fc3,2,3,\n"
                                           "fc1, 8 , 8 ,4\n"
                                           "\n"
                                           "fc2,5,7,3\n");
    policy p;
    err e;
    ck_assert_msg(policy_from_spec(path, &net, &lrmp, NULL, &p, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(p.layers[0].wb, 8);
    ck_assert_uint_eq(p.layers[0].adc_bits, 4);
    ck_assert_uint_eq(p.layers[1].wb, 5);
    ck_assert_uint_eq(p.layers[1].ab, 7);
    ck_assert_uint_eq(p.layers[1].adc_bits, 3);
    ck_assert_uint_eq(p.layers[2].wb, 2);
    ck_assert_uint_eq(p.layers[2].ab, 3);
    ck_assert_uint_eq(p.layers[2].adc_bits, 0); /* empty: the arch default */
    ck_assert_uint_eq(policy_adc_bits(&p, &lrmp, 2), 4);

    /* Round trip through policy_write_csv. */
    char out_path[128];
    snprintf(out_path, sizeof out_path, "%s/out.csv", dir);
    FILE *f = fopen(out_path, "w");
    policy_write_csv(&p, &net, f);
    fclose(f);
    policy q;
    ck_assert_msg(policy_from_spec(out_path, &net, &lrmp, NULL, &q, &e) == 0, "%s", e.msg);
    ck_assert_mem_eq(p.layers, q.layers, 3 * sizeof *p.layers);
    policy_fini(&p);
    policy_fini(&q);
}
END_TEST

START_TEST(test_policy_csv_errors)
{
    const char *path;
    path = write_file("missing.csv", "layer,wb,ab\nfc1,8,8\nfc3,8,8\n");
    expect_error(path, NULL, &lrmp, "layer \"fc2\"", "missing");
    path = write_file("extra.csv", "layer,wb,ab\nfc1,8,8\nfc2,8,8\nfc3,8,8\nfc9,8,8\n");
    expect_error(path, NULL, &lrmp, "extra.csv:5:", "\"fc9\"");
    path = write_file("digital.csv", "layer,wb,ab\nact,8,8\n");
    expect_error(path, NULL, &lrmp, "digital.csv:2:", "expected a crossbar layer");
    path = write_file("twice.csv", "layer,wb,ab\nfc1,8,8\nfc1,4,4\n");
    expect_error(path, NULL, &lrmp, "twice.csv:3:", "given twice");
    path = write_file("header.csv", "name,w,a\nfc1,8,8\n");
    expect_error(path, NULL, &lrmp, "header.csv:1:", "expected the columns layer,wb,ab,adc_bits");
    path = write_file("fields.csv", "layer,wb,ab\nfc1,8\n");
    expect_error(path, NULL, &lrmp, "fields.csv:2:", "found 2 fields, expected 3");
    path = write_file("nan.csv", "layer,wb,ab\nfc1,eight,8\n");
    expect_error(path, NULL, &lrmp, "nan.csv:2: wb", "expected an integer");
    path = write_file("range.csv", "layer,wb,ab\nfc1,8,8\nfc2,8,0\nfc3,8,8\n");
    expect_error(path, NULL, &lrmp, "range.csv:3: layer \"fc2\": ab", "found 0");
    path = write_file("empty.csv", "# nothing\n");
    expect_error(path, NULL, &lrmp, "empty.csv", "expected a header");
    char absent[128];
    snprintf(absent, sizeof absent, "%s/absent.csv", dir);
    expect_error(absent, NULL, &lrmp, "absent.csv", "cannot read");
}
END_TEST

START_TEST(test_policy_cfg_loads_and_errors)
{
    const char *path = write_file("p.cfg", "policy = (\n"
                                           "  { layer = \"fc1\"; wb = 8; ab = 8; },\n"
                                           "  { layer = \"fc2\"; wb = 4; ab = 6; adc_bits = 3; },\n"
                                           "  { layer = \"fc3\"; wb = 2; ab = 2; }\n"
                                           ");\n");
    policy p;
    err e;
    ck_assert_msg(policy_from_spec(path, &net, &lrmp, NULL, &p, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(p.layers[1].wb, 4);
    ck_assert_uint_eq(p.layers[1].adc_bits, 3);
    policy_fini(&p);

    path = write_file("key.cfg", "policy = (\n"
                                 "  { layer = \"fc1\"; wb = 8; ab = 8; },\n"
                                 "  { layer = \"fc2\"; wbits = 4; ab = 6; }\n"
                                 ");\n");
    expect_error(path, NULL, &lrmp, "key.cfg:3:", "policy.[1].wbits: unknown key");
    path = write_file("type.cfg", "policy = ( { layer = \"fc1\"; wb = 8.5; ab = 8; } );\n");
    expect_error(path, NULL, &lrmp,
                 "type.cfg:1:", "policy.[0].wb: found the number 8.5, expected an integer 1..16");
    path = write_file("huge.cfg", "policy = ( { layer = \"fc1\"; wb = 1e300; ab = 8; } );\n");
    expect_error(path, NULL, &lrmp, "huge.cfg:1:", "policy.[0].wb: found the number 1e+300");
    path = write_file("big.cfg", "policy = ( { layer = \"fc1\"; wb = 5000000000L; ab = 8; } );\n");
    expect_error(path, NULL, &lrmp, "layer \"fc1\": wb: found 5000000000", "expected 1..16");
    path = write_file("nolist.cfg", "nothing = 1;\n");
    expect_error(path, NULL, &lrmp, "nolist.cfg", "policy: missing");
    path = write_file("syntax.cfg", "policy = ( { layer = ; } );\n");
    expect_error(path, NULL, &lrmp, "syntax.cfg:1", NULL);
}
END_TEST

START_TEST(test_policy_arch_checks)
{
    /* PUMA has 2-bit cells: wb 3 is not a multiple when the rule asks for it, fine otherwise. */
    const char *path = write_file("odd.csv", "layer,wb,ab\nfc1,8,8\nfc2,3,8\nfc3,8,8\n");
    policy_rules strict = {.wb_multiple_of_cell = true};
    expect_error(path, &strict, &puma, "layer \"fc2\": wb: found 3",
                 "multiple of arch.tiles.cell_bits = 2");
    policy p;
    err e;
    ck_assert_int_eq(policy_from_spec(path, &net, &puma, NULL, &p, &e), 0);
    policy_fini(&p);
    /* The same demand made by the arch itself. */
    puma.tiles.whole_cell_weights = true;
    expect_error(path, NULL, &puma, "layer \"fc2\": wb: found 3",
                 "arch.tiles.whole_cell_weights is on");
    puma.tiles.whole_cell_weights = false;
    /* LRMP's ADC is strict: 9 rows of 1-bit cells need 4 bits, 5 is refused. */
    path = write_file("adc.csv", "layer,wb,ab,adc_bits\nfc1,8,8,5\nfc2,8,8,\nfc3,8,8,\n");
    expect_error(path, NULL, &lrmp, "layer \"fc1\": adc_bits: found 5", "at most 4");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_policy_uniform_shorthands);
    tcase_add_test(tc, test_policy_bad_shorthands);
    tcase_add_test(tc, test_policy_csv_loads);
    tcase_add_test(tc, test_policy_csv_errors);
    tcase_add_test(tc, test_policy_cfg_loads_and_errors);
    tcase_add_test(tc, test_policy_arch_checks);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
