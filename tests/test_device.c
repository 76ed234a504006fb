/* test_device: the arch.tiles.device group and one cell's conductance. Defaults are ideal (the
 * level itself); each formula of device.h against values worked by hand (on/off ratio, drift,
 * drift at t0, IR drop, stuck-at); relative variation's mean and spread over many cells against
 * the normal law; the read-noise counter draws the same value for the same counter; and bad input
 * (negative sigma, fractions over 1, a time before t0, unknown keys) is an error with file:line,
 * setting path, found and expected, through the arch loader.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cfgfile.h"
#include "device.h"
#include "rng.h"
#include "testutil.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* lrmp.cfg with `device = { <body> };` in its tiles group (after the mapping line). */
static int load_with(const char *body, arch *a, err *e)
{
    size_t len;
    char *text = cfgfile_read_text(XBARSIM_SOURCE_DIR "/configs/arch/lrmp.cfg", &len);
    ck_assert_ptr_nonnull(text);
    const char *at = strstr(text, "mapping = \"unsigned\";");
    ck_assert_ptr_nonnull(at);
    at = strchr(at, '\n') + 1;
    size_t cap = len + strlen(body) + 64;
    char *out = malloc(cap);
    snprintf(out, cap, "%.*s        device = { %s };\n%s", (int)(at - text), text, body, at);
    int rc = arch_load_string(out, "dev.cfg", a, e);
    free(out);
    free(text);
    return rc;
}

/* The line of the inserted device group in dev.cfg. */
static unsigned device_line(void)
{
    size_t len;
    char *text = cfgfile_read_text(XBARSIM_SOURCE_DIR "/configs/arch/lrmp.cfg", &len);
    const char *at = strstr(text, "mapping = \"unsigned\";");
    unsigned line = 2; /* the line after the mapping's */
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    free(text);
    return line;
}

static void expect_error(const char *body, const char *key, const char *what)
{
    arch a;
    err e;
    ck_assert_int_eq(load_with(body, &a, &e), ERR_INPUT);
    char where[128];
    snprintf(where, sizeof where, "dev.cfg:%u: arch.tiles.device.%s: ", device_line(), key);
    ck_assert_msg(strstr(e.msg, where) != NULL, "\"%s\" lacks \"%s\"", e.msg, where);
    ck_assert_msg(strstr(e.msg, what) != NULL, "\"%s\" lacks \"%s\"", e.msg, what);
}

START_TEST(test_device_defaults_ideal)
{
    arch a;
    err e;
    ck_assert_int_eq(arch_load_file(XBARSIM_SOURCE_DIR "/configs/arch/lrmp.cfg", &a, &e), 0);
    ck_assert(!device_any(&a.tiles.device));
    arch_fini(&a);
    ck_assert_int_eq(load_with("", &a, &e), 0);
    ck_assert(!device_any(&a.tiles.device));
    gsl_rng *rng = rng_stream_create(NULL, 1, 0);
    for (uint32_t l = 0; l < 2; l++)
        ck_assert_double_eq(device_conductance(&a.tiles.device, 1, l, 3, 4, rng), (double)l);
    gsl_rng_free(rng);
    arch_fini(&a);
    /* drift away from t0 is an effect, at t0 it is none */
    ck_assert_int_eq(
        load_with("drift_nu = 0.06; drift_nu_sigma = 0.02; drift_t0_s = 20.0;", &a, &e), 0);
    ck_assert(!device_any(&a.tiles.device));
    arch_fini(&a);
    ck_assert_int_eq(load_with("drift_nu = 0.06; drift_t0_s = 20.0; time_s = 86400.0;", &a, &e), 0);
    ck_assert(device_static_any(&a.tiles.device));
    ck_assert_double_eq(a.tiles.device.time_s, 86400.0);
    arch_fini(&a);
    ck_assert_int_eq(load_with("read_noise = 0.02;", &a, &e), 0);
    ck_assert(!device_static_any(&a.tiles.device));
    ck_assert(device_any(&a.tiles.device));
    arch_fini(&a);
    /* The description names what is on: one sigma, or the per-level values. */
    char d[512];
    ck_assert_int_eq(load_with("variation_sigma = 0.05;", &a, &e), 0);
    device_describe(&a.tiles.device, d, sizeof d);
    ck_assert_ptr_nonnull(strstr(d, "variation 0.05 relative,"));
    arch_fini(&a);
    ck_assert_int_eq(
        load_with("variation_kind = \"absolute\"; variation_per_level = [0.0, 0.012148];", &a, &e),
        0);
    device_describe(&a.tiles.device, d, sizeof d);
    ck_assert_ptr_nonnull(strstr(d, "variation per level [0, 0.012148] levels,"));
    arch_fini(&a);
}
END_TEST

START_TEST(test_device_conductance_by_hand)
{
    device_params d;
    gsl_rng *rng = rng_stream_create(NULL, 5, 0);
    /* on/off ratio 4 with 2-bit cells: L_max 3, g_off = 3 / (4 - 1) = 1, g = L + 1 */
    device_params_ideal(&d);
    d.on_off_ratio = 4.0;
    for (uint32_t l = 0; l < 4; l++)
        ck_assert_double_eq_tol(device_conductance(&d, 2, l, 0, 0, rng), l + 1.0, 1e-12);
    /* drift nu 0.1 (no spread), 10 t0: g = L 10^-0.1; at t0: L exactly */
    device_params_ideal(&d);
    d.drift_nu = 0.1, d.drift_t0_s = 2.0, d.time_s = 20.0;
    ck_assert_double_eq_tol(device_conductance(&d, 2, 3, 0, 0, rng), 3.0 * pow(10.0, -0.1), 1e-12);
    d.drift_nu_sigma = 0.05, d.time_s = 2.0;
    for (uint32_t l = 0; l < 4; l++)
        ck_assert_double_eq(device_conductance(&d, 2, l, 0, 0, rng), (double)l);
    /* IR drop: top level 3 of 3 is G_on = 100 uS; row 1, column 2: 5 segments of 2 ohm:
     * 3 / (1 + 1e-4 * 2 * 5) = 3 / 1.001; level 1 is 1/3 of G_on: 1 / (1 + 1e-4 / 3 * 10) */
    device_params_ideal(&d);
    d.wire_ohm = 2.0, d.g_on_us = 100.0;
    ck_assert_double_eq_tol(device_conductance(&d, 2, 3, 1, 2, rng), 3.0 / 1.001, 1e-12);
    ck_assert_double_eq_tol(device_conductance(&d, 2, 1, 1, 2, rng), 1.0 / (1.0 + 1e-3 / 3.0),
                            1e-12);
    /* stuck-at: every cell stuck on is L_max (+ g_off), stuck off is g_off */
    device_params_ideal(&d);
    d.stuck_on = 1.0, d.on_off_ratio = 7.0; /* g_off = 3 / 6 = 0.5 */
    ck_assert_double_eq_tol(device_conductance(&d, 2, 0, 0, 0, rng), 3.5, 1e-12);
    d.stuck_on = 0.0, d.stuck_off = 1.0;
    ck_assert_double_eq_tol(device_conductance(&d, 2, 3, 0, 0, rng), 0.5, 1e-12);
    /* absolute variation per level: sigma 0 for level 2 leaves it exact */
    device_params_ideal(&d);
    d.absolute = true, d.n_sigma_levels = 4;
    d.sigma_per_level[1] = 0.3;
    ck_assert_double_eq(device_conductance(&d, 2, 2, 0, 0, rng), 2.0);
    gsl_rng_free(rng);
}
END_TEST

/* Relative variation 10 % on level 3 over 40 000 cells: mean 3 and sd 0.3 within 5 standard
 * errors (0.3 / 200 = 0.0015 for the mean; about 0.3 / 283 for the sd). */
START_TEST(test_device_variation_statistics)
{
    device_params d;
    device_params_ideal(&d);
    d.sigma = 0.1;
    gsl_rng *rng = rng_stream_create(NULL, 7, 3);
    enum { N = 40000 };
    double s = 0.0, s2 = 0.0;
    for (int i = 0; i < N; i++) {
        double g = device_conductance(&d, 2, 3, 0, 0, rng);
        s += g, s2 += g * g;
    }
    double mean = s / N, sd = sqrt(s2 / N - mean * mean);
    ck_assert_double_eq_tol(mean, 3.0, 5 * 0.0015);
    ck_assert_double_eq_tol(sd, 0.3, 5 * 0.3 / 283.0);
    gsl_rng_free(rng);
    /* the counter draw: a function of its arguments only */
    ck_assert_double_eq(device_normal_at(1, 2, 3, 4), device_normal_at(1, 2, 3, 4));
    ck_assert_double_ne(device_normal_at(1, 2, 3, 4), device_normal_at(1, 2, 3, 5));
}
END_TEST

START_TEST(test_device_errors)
{
    expect_error("variation_sigma = -0.1;", "variation_sigma", "found -0.1, expected a number");
    expect_error("stuck_off = 1.5;", "stuck_off", "found 1.5, expected a number in 0..1");
    expect_error("stuck_off = 0.6; stuck_on = 0.5;", "stuck_on",
                 "expected stuck_off + stuck_on at most 1");
    expect_error("drift_t0_s = 20.0; time_s = 1.0;", "time_s",
                 "found 1 s, expected a time at or after drift_t0_s = 20 s");
    expect_error("on_off_ratio = 0.5;", "on_off_ratio", "found 0.5, expected a ratio above 1");
    expect_error("variation_kind = \"gaussian\";", "variation_kind",
                 "expected \"relative\" (a fraction of the conductance) or \"absolute\"");
    expect_error("variation_per_level = [0.1, 0.2, 0.3];", "variation_per_level",
                 "found 3 values, expected an array of 2 sigmas");
    expect_error("sigma = 0.1;", "sigma", "found an unknown key, expected one of: seed");
    expect_error("read_noise = \"high\";", "read_noise", "expected a number");
}
END_TEST

static Suite *device_suite(void)
{
    Suite *s = suite_create("device");
    TCase *tc = tcase_create("device");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_device_defaults_ideal);
    tcase_add_test(tc, test_device_conductance_by_hand);
    tcase_add_test(tc, test_device_variation_statistics);
    tcase_add_test(tc, test_device_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(device_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
