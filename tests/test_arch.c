/* test_arch: the arch loader -- the four presets with hand-checked figures, the bits-dependent
 * quantities evaluated by hand, and every class of bad input with its message (file:line and
 * setting path) and an untouched output. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch.h"
#include "cost.h"
#include "testutil.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* A small valid chip; the comment on each line is its line number (messages are checked
 * against these). Needs ceil(log2(4 rows * 3 * 1 + 1)) = 4 ADC bits. */
static const char *const base_lines[] = {
    "arch = {",                                                                   /* 1 */
    "    name = \"t\";",                                                          /* 2 */
    "    mode = \"weight_stationary\";",                                          /* 3 */
    "    clock_mhz = 100.0;",                                                     /* 4 */
    "    tiles = {",                                                              /* 5 */
    "        count = 4;",                                                         /* 6 */
    "        rows = 16;",                                                         /* 7 */
    "        cols = 8;",                                                          /* 8 */
    "        cell_bits = 2;",                                                     /* 9 */
    "        rows_active = 4;",                                                   /* 10 */
    "        mapping = \"unsigned\";",                                            /* 11 */
    "        whole_cell_weights = false;",                                        /* 12 */
    "        psum_bits = 16;",                                                    /* 13 */
    "        dac = { bits = 1; };",                                               /* 14 */
    "        adc = {",                                                            /* 15 */
    "            count = 2;",                                                     /* 16 */
    "            bits = 4;",                                                      /* 17 */
    "            time_ns = 1.5;",                                                 /* 18 */
    "            energy_pj = 2.0;",                                               /* 19 */
    "        };",                                                                 /* 20 */
    "    };",                                                                     /* 21 */
    "    groups = {",                                                             /* 22 */
    "        tiles = 2;",                                                         /* 23 */
    "        in_bus = { lanes = 2; lane_bits = 8; cycles_per_transfer = 1; };",   /* 24 */
    "        out_bus = { lanes = 2; lane_bits = 16; cycles_per_transfer = 1; };", /* 25 */
    "    };",                                                                     /* 26 */
    "    vector = {",                                                             /* 27 */
    "        count = 2;",                                                         /* 28 */
    "        lanes = 4;",                                                         /* 29 */
    "        cycles_per_op = 1;",                                                 /* 30 */
    "        sram_bytes = 1024;",                                                 /* 31 */
    "    };",                                                                     /* 32 */
    "};",                                                                         /* 33 */
};
#define BASE_LINES (sizeof base_lines / sizeof base_lines[0])

/* The base text with the first occurrence of `find` replaced by `repl` (both NULL: unchanged).
 * Replacing within a line keeps every line number. Caller frees. */
static char *variant(const char *find, const char *repl)
{
    size_t cap = 4096;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    text[0] = '\0';
    for (size_t i = 0; i < BASE_LINES; i++) {
        strcat(text, base_lines[i]);
        strcat(text, "\n");
    }
    if (!find)
        return text;
    char *at = strstr(text, find);
    ck_assert_msg(at != NULL, "test bug: \"%s\" is not in the base text", find);
    size_t fl = strlen(find), rl = strlen(repl), tl = strlen(text);
    ck_assert_uint_lt(tl - fl + rl, cap);
    memmove(at + rl, at + fl, tl - (size_t)(at - text) - fl + 1);
    memcpy(at, repl, rl);
    return text;
}

/* Load a variant as "bad.cfg"; returns the status. */
static int load_variant(const char *find, const char *repl, arch *out, err *e)
{
    char *text = variant(find, repl);
    int rc = arch_load_string(text, "bad.cfg", out, e);
    free(text);
    return rc;
}

/* A bad variant must fail with a message containing every one of the given pieces, and must
 * leave the output exactly as it was (filled with a sentinel here). */
static void expect_error(const char *find, const char *repl, const char *where, const char *path,
                         const char *what)
{
    arch out, sentinel;
    err e;
    memset(&out, 0xA5, sizeof out);
    memcpy(&sentinel, &out, sizeof out);
    err_clear(&e);
    int rc = load_variant(find, repl, &out, &e);
    ck_assert_int_eq(rc, ERR_INPUT);
    ck_assert_int_eq(e.code, ERR_INPUT);
    ck_assert_msg(strstr(e.msg, where) != NULL, "message lacks \"%s\": %s", where, e.msg);
    ck_assert_msg(strstr(e.msg, path) != NULL, "message lacks \"%s\": %s", path, e.msg);
    if (what)
        ck_assert_msg(strstr(e.msg, what) != NULL, "message lacks \"%s\": %s", what, e.msg);
    ck_assert_msg(memcmp(&out, &sentinel, sizeof out) == 0, "output touched after an error");
}

static void load_preset(const char *name, arch *a)
{
    char path[512];
    err e;
    err_clear(&e);
    snprintf(path, sizeof path, "%s/configs/arch/%s", XBARSIM_SOURCE_DIR, name);
    int rc = arch_load_file(path, a, &e);
    ck_assert_msg(rc == 0, "%s: %s", path, e.msg);
    ck_assert_str_eq(a->origin, path);
}

/* ---- presets ----------------------------------------------------------------------------------
 */

START_TEST(test_arch_preset_lrmp)
{
    arch a;
    load_preset("lrmp.cfg", &a);
    ck_assert_str_eq(a.name, "lrmp");
    ck_assert_int_eq(a.mode, ARCH_MODE_WEIGHT_STATIONARY);
    ck_assert_uint_eq(a.cycle_ps, 5208); /* 1e6 / 192 = 5208.33 ps */
    ck_assert_uint_eq(a.tiles.count, 5688);
    ck_assert_uint_eq(a.tiles.rows, 256);
    ck_assert_uint_eq(a.tiles.cols, 256);
    ck_assert_uint_eq(a.tiles.rows_active, 9);
    ck_assert_int_eq(a.tiles.mapping, ARCH_MAP_UNSIGNED);
    ck_assert(a.power_gating);
    ck_assert_uint_eq(a.peak_bits, 8);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.dac.energy_pj, 1), 0.390625);
    /* fom 0.006103515625 pJ x 2^4 = 0.09765625 pJ per 4-bit conversion */
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.energy_pj, 4), 0.09765625);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.area_um2, 4), 75.0);
    ck_assert_uint_eq(a.tiles.adc.count, 8);
    ck_assert_uint_eq(a.tiles.adc.bits, 4);
    /* 9 rows x 1-bit cells x 1-bit DAC: column sums 0..9 need 4 bits. */
    ck_assert_uint_eq(arch_adc_bits_needed(&a), 4);
    /* time_cycles = 1 at the rounded period: 5208 ps = 5.208 ns. */
    ck_assert_double_eq_tol(arch_bits_fn_eval(&a.tiles.adc.time_ns, 4), 5.208, 1e-12);
    ck_assert_uint_eq(a.groups.tiles, 144);
    ck_assert_uint_eq(a.groups.in_bus.lanes, 8);
    ck_assert_uint_eq(a.groups.in_bus.lane_bits, 8);
    ck_assert_uint_eq(a.groups.out_bus.lane_bits, 32);
    ck_assert_uint_eq(a.vector.count, 40); /* ceil(5688 / 144) */
    ck_assert_uint_eq(a.vector.lanes, 64);
    ck_assert_uint_eq(a.vector.sram_bytes, 131072);
    arch_fini(&a);
}
END_TEST

/* lrmp with Milo et al.'s programming spread: CrossSim's fit sigma_G = -0.009107 G + 4.782321 uS
 * at G_on = 225 uS, in steps of G_on (off state 0): 2.733246 / 225 levels on, none off. */
START_TEST(test_arch_preset_lrmp_milo2021)
{
    arch a, base;
    load_preset("lrmp_milo2021.cfg", &a);
    load_preset("lrmp.cfg", &base);
    ck_assert_str_eq(a.name, "lrmp_milo2021");
    const device_params *d = &a.tiles.device;
    ck_assert(d->absolute);
    ck_assert_uint_eq(d->n_sigma_levels, 2);
    ck_assert_double_eq(d->sigma_per_level[0], 0.0);
    ck_assert_double_eq_tol(d->sigma_per_level[1], (-0.009107 * 225.0 + 4.782321) / 225.0, 5e-7);
    ck_assert_double_eq(d->on_off_ratio, 0.0);
    ck_assert_double_eq(d->stuck_off + d->stuck_on + d->read_noise + d->wire_ohm, 0.0);
    /* Everything the cost model reads is lrmp's. */
    ck_assert_uint_eq(a.cycle_ps, base.cycle_ps);
    ck_assert_uint_eq(a.tiles.count, base.tiles.count);
    ck_assert_uint_eq(a.tiles.cell_bits, base.tiles.cell_bits);
    ck_assert_uint_eq(a.tiles.rows_active, base.tiles.rows_active);
    ck_assert_uint_eq(a.groups.tiles, base.groups.tiles);
    ck_assert_uint_eq(a.vector.count, base.vector.count);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.energy_pj, 4),
                        arch_bits_fn_eval(&base.tiles.adc.energy_pj, 4));
    arch_fini(&a);
    arch_fini(&base);
}
END_TEST

START_TEST(test_arch_preset_chang2022)
{
    arch a;
    load_preset("chang2022.cfg", &a);
    ck_assert_str_eq(a.name, "chang2022");
    ck_assert_uint_eq(a.tiles.count, 288);
    ck_assert_uint_eq(a.groups.tiles, 144);
    ck_assert_uint_eq(a.vector.count, 2);
    ck_assert_uint_eq(a.vector.lanes, 8);
    ck_assert_uint_eq(a.vector.sram_bytes, 128 * 1024);
    ck_assert_uint_eq(a.groups.in_bus.lanes, 8);
    ck_assert_uint_eq(a.groups.in_bus.lane_bits, 8);
    ck_assert_uint_eq(a.groups.out_bus.lanes, 8);
    ck_assert_uint_eq(a.groups.out_bus.lane_bits, 32);
    arch_fini(&a);
}
END_TEST

START_TEST(test_arch_preset_cimaq)
{
    arch a;
    load_preset("cimaq.cfg", &a);
    ck_assert_int_eq(a.mode, ARCH_MODE_REPROGRAM);
    ck_assert_uint_eq(a.tiles.count, 1);
    ck_assert_uint_eq(a.tiles.rows, 256);
    ck_assert_uint_eq(a.tiles.cols, 256);
    ck_assert_uint_eq(a.tiles.cell_bits, 4);
    ck_assert_int_eq(a.tiles.mapping, ARCH_MAP_DIFF_COLUMN);
    ck_assert_uint_eq(a.tiles.dac.bits, 1);
    ck_assert_double_eq(a.tiles.crossbar.execute_ns_per_bit, 1400.0);
    ck_assert_double_eq(a.tiles.crossbar.write_ns_per_tile, 56000.0);
    /* 256 rows x 15 x 1 = 3840 < 4096: 12 bits. */
    ck_assert_uint_eq(arch_adc_bits_needed(&a), 12);
    arch_fini(&a);
}
END_TEST

START_TEST(test_arch_preset_puma)
{
    arch a;
    load_preset("puma.cfg", &a);
    ck_assert_uint_eq(a.tiles.rows, 128);
    ck_assert_uint_eq(a.tiles.cell_bits, 2);
    ck_assert_uint_eq(a.tiles.dac.bits, 1);
    ck_assert_uint_eq(a.tiles.adc.bits, 8);
    /* REFERENCE section 4: 128 columns in 128 * 0.0911 * b ns. Energy per conversion: PUMA's
     * 1.8 mW ADC converting 128 columns in 100 ns = 1.40625 pJ at 8 bits, and the same figure of
     * merit at other bits: 1.40625 / 2^8 x 2^3 = 0.0439453125 pJ at 3 bits (not cubic in b). */
    ck_assert_double_eq_tol(arch_bits_fn_eval(&a.tiles.adc.time_ns, 8), 0.7288, 1e-12);
    ck_assert_double_eq_tol(arch_bits_fn_eval(&a.tiles.adc.energy_pj, 8), 1.8 * 100.0 / 128.0,
                            1e-12);
    /* bits selectable: every bit count 1..16 is defined. */
    ck_assert_double_eq_tol(arch_bits_fn_eval(&a.tiles.adc.energy_pj, 3), 0.0439453125, 1e-12);
    ck_assert(arch_bits_fn_defined(&a.tiles.adc.energy_pj, 1));
    ck_assert(arch_bits_fn_defined(&a.tiles.adc.energy_pj, 16));
    ck_assert(!arch_bits_fn_defined(&a.tiles.adc.energy_pj, 17));
    /* 128 rows x 3 x 1 = 384 < 512: 9 bits. */
    ck_assert_uint_eq(arch_adc_bits_needed(&a), 9);
    ck_assert_uint_eq(a.vector.count, 168); /* 21504 / 128 */
    arch_fini(&a);
}
END_TEST

START_TEST(test_arch_print_derived)
{
    arch a;
    load_preset("lrmp.cfg", &a);
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(mf);
    arch_print(&a, mf);
    cost_print_derived(&a, mf);
    fclose(mf);
    ck_assert_ptr_nonnull(strstr(buf, "arch.tiles.count = 5688 tiles\n"));
    ck_assert_ptr_nonnull(strstr(buf, "derived.cycle_ps = 5208 ps\n"));
    ck_assert_ptr_nonnull(strstr(buf, "derived.adc_bits_needed = 4 bits\n"));
    /* 5688 x 256 x 256 x 1 bits */
    ck_assert_ptr_nonnull(strstr(buf, "derived.bits_stored = 372768768 bits"));
    /* LRMP: ab * ceil(256/9) * ceil(256/8) cycles = 8 * 29 * 32 * 5.208 ns = 38664.192 ns */
    ck_assert_ptr_nonnull(strstr(buf, "derived.vmm_ns = 38664.192 ns (one tile, 256 rows"));
    /* 5688 tiles x 256 rows x 32 8-bit columns per 38664.192 ns = 1.205152...e12 MAC/s */
    ck_assert_ptr_nonnull(strstr(buf, "derived.peak_macs_per_s = 1.2051"));
    free(buf);
    arch_fini(&a);
}
END_TEST

/* ---- good variants and bits-dependent quantities ----------------------------------------------
 */

START_TEST(test_arch_base_defaults)
{
    arch a;
    err e;
    err_clear(&e);
    ck_assert_int_eq(load_variant(NULL, NULL, &a, &e), 0);
    ck_assert_str_eq(a.origin, "bad.cfg");
    ck_assert_str_eq(a.name, "t");
    ck_assert_uint_eq(a.cycle_ps, 10000);
    ck_assert(!a.power_gating);
    ck_assert_double_eq(a.gated_fraction, 0.0);
    ck_assert_uint_eq(a.peak_bits, 8);
    ck_assert_double_eq(a.tiles.shift_add.energy_pj, 0.0);
    ck_assert_double_eq(a.tiles.dac.static_power_uw, 0.0);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.area_um2, 4), 0.0);
    ck_assert_uint_eq(a.n_other_parts, 0);
    ck_assert_double_eq(a.tiles.dac.latency_ns, 0.0);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.dac.energy_pj, 1), 0.0);
    ck_assert(!a.tiles.adc.strict_bits);
    ck_assert_double_eq(a.tiles.crossbar.read_latency_ns, 0.0);
    ck_assert_double_eq(a.tiles.crossbar.write_ns_per_tile, 0.0);
    ck_assert_double_eq(a.groups.in_bus.energy_pj_per_bit, 0.0);
    ck_assert_double_eq(a.vector.op_energy_pj, 0.0);
    ck_assert_double_eq(a.vector.sram_leakage_uw_per_kib, 0.0);
    ck_assert_int_eq(a.tiles.adc.time_ns.kind, ARCH_BITS_VALUE);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.time_ns, 4), 1.5);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.energy_pj, 4), 2.0);
    arch_fini(&a);
    arch_fini(&a); /* idempotent */
    arch_fini(NULL);

    /* rows_active defaults to rows. */
    ck_assert_int_eq(load_variant("rows_active = 4;", "", &a, &e), 0);
    ck_assert_uint_eq(a.tiles.rows_active, 16);
    arch_fini(&a);
}
END_TEST

START_TEST(test_arch_bits_fn_by_hand)
{
    arch_bits_fn f;
    memset(&f, 0, sizeof f);
    f.kind = ARCH_BITS_VALUE;
    f.value = 3.25;
    ck_assert_double_eq(arch_bits_fn_eval(&f, 1), 3.25);
    ck_assert_double_eq(arch_bits_fn_eval(&f, 16), 3.25);
    f.kind = ARCH_BITS_LINEAR;
    f.c0 = 1.0;
    f.c1 = 2.0;
    ck_assert_double_eq(arch_bits_fn_eval(&f, 3), 7.0); /* 1 + 2*3 */
    f.kind = ARCH_BITS_QUADRATIC;
    f.c1 = 0.5;
    ck_assert_double_eq(arch_bits_fn_eval(&f, 4), 9.0); /* 1 + 0.5*16 */
    f.kind = ARCH_BITS_EXPONENTIAL;
    f.c0 = 2.0;
    f.c1 = 3.0;
    ck_assert_double_eq(arch_bits_fn_eval(&f, 4), 162.0); /* 2 * 3^4 */
    f.kind = ARCH_BITS_TABLE;
    f.table[5] = 0.75;
    f.has[5] = true;
    ck_assert(arch_bits_fn_defined(&f, 5));
    ck_assert(!arch_bits_fn_defined(&f, 4));
    ck_assert(!arch_bits_fn_defined(&f, 0));
    ck_assert_double_eq(arch_bits_fn_eval(&f, 5), 0.75);
}
END_TEST

START_TEST(test_arch_bits_fn_forms_load)
{
    arch a;
    err e;
    err_clear(&e);
    /* exponential: 0.5 * 2^b -> 8 ns at 4 bits */
    ck_assert_int_eq(load_variant("time_ns = 1.5;",
                                  "time_ns = { kind = \"exponential\"; c0 = 0.5; c1 = 2; };", &a,
                                  &e),
                     0);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.time_ns, 4), 8.0);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.time_ns, 10), 512.0);
    arch_fini(&a);

    /* table from 3 bits: 1, 2, 4 for bits 3, 4, 5; a list works as well as an array */
    ck_assert_int_eq(
        load_variant("time_ns = 1.5;",
                     "time_ns = { kind = \"table\"; first_bits = 3; values = (1, 2.0, 4.0); };", &a,
                     &e),
        0);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.time_ns, 4), 2.0);
    ck_assert(arch_bits_fn_defined(&a.tiles.adc.time_ns, 3));
    ck_assert(arch_bits_fn_defined(&a.tiles.adc.time_ns, 5));
    ck_assert(!arch_bits_fn_defined(&a.tiles.adc.time_ns, 2));
    ck_assert(!arch_bits_fn_defined(&a.tiles.adc.time_ns, 6));
    arch_fini(&a);

    /* time_cycles: 3 cycles at 100 MHz (10000 ps) = 30 ns */
    ck_assert_int_eq(load_variant("time_ns = 1.5;", "time_cycles = 3;", &a, &e), 0);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.time_ns, 4), 30.0);
    arch_fini(&a);

    /* a figure of merit: 0.25 pJ per step x 2^b */
    ck_assert_int_eq(
        load_variant("energy_pj = 2.0;", "energy_pj = { kind = \"fom\"; fom = 0.25; };", &a, &e),
        0);
    ck_assert_int_eq(a.tiles.adc.energy_pj.kind, ARCH_BITS_FOM);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.energy_pj, 4), 4.0);
    ck_assert_double_eq(arch_bits_fn_eval(&a.tiles.adc.energy_pj, 16), 16384.0);
    arch_fini(&a);

    /* a 64-bit integer needs the L suffix */
    ck_assert_int_eq(load_variant("sram_bytes = 1024;", "sram_bytes = 4294967296L;", &a, &e), 0);
    ck_assert_uint_eq(a.vector.sram_bytes, 4294967296UL);
    arch_fini(&a);
}
END_TEST

START_TEST(test_arch_adc_bits_needed_by_hand)
{
    arch a;
    memset(&a, 0, sizeof a);
    a.tiles.rows_active = 16;
    a.tiles.cell_bits = 2;
    a.tiles.dac.bits = 2;
    ck_assert_uint_eq(arch_adc_bits_needed(&a), 8); /* 16*3*3 = 144: 128 <= 144 < 256 */
    a.tiles.rows_active = 1;
    a.tiles.cell_bits = 1;
    a.tiles.dac.bits = 1;
    ck_assert_uint_eq(arch_adc_bits_needed(&a), 1); /* sums 0..1 */
    a.tiles.rows_active = 8;
    ck_assert_uint_eq(arch_adc_bits_needed(&a), 4); /* 0..8 needs 4 bits, not 3 */
    a.tiles.rows_active = 7;
    ck_assert_uint_eq(arch_adc_bits_needed(&a), 3); /* 0..7 */
}
END_TEST

START_TEST(test_arch_registries)
{
    arch_mapping m;
    arch_mode mo;
    ck_assert_int_eq(arch_mapping_parse("differential_row", &m), 0);
    ck_assert_int_eq(m, ARCH_MAP_DIFF_ROW);
    ck_assert_str_eq(arch_mapping_name(ARCH_MAP_OFFSET), "offset");
    ck_assert_int_eq(arch_mapping_parse("Offset", &m), -1);
    ck_assert_int_eq(arch_mode_parse("reprogram", &mo), 0);
    ck_assert_int_eq(mo, ARCH_MODE_REPROGRAM);
    ck_assert_str_eq(arch_mode_name(ARCH_MODE_WEIGHT_STATIONARY), "weight_stationary");
    ck_assert_int_eq(arch_mode_parse("stationary", &mo), -1);
}
END_TEST

/* ---- bad input --------------------------------------------------------------------------------
 */

START_TEST(test_arch_syntax_error)
{
    expect_error("rows = 16;", "rows = = 16;", "bad.cfg:7: syntax error", "", NULL);
    expect_error("rows = 16;", "rows = [1, \"a\"];", "bad.cfg:7: syntax error", "", NULL);
    expect_error("vector = {", "vector = {{", "bad.cfg:27: syntax error", "", NULL);
}
END_TEST

/* Energy, power and area inputs: negative figures, a cost table that falls with the bits, an
 * other part of an unknown scope, and a shift-add group without its count are file:line errors. */
START_TEST(test_arch_energy_inputs)
{
    expect_error("dac = { bits = 1; };", "dac = { bits = 1; energy_pj = -1.0; };",
                 "bad.cfg:14:", "arch.tiles.dac.energy_pj", "found -1, expected a number 0..1e+15");
    /* a DAC energy by bits must be defined at the DAC's bits */
    expect_error(
        "dac = { bits = 1; };",
        "dac = { bits = 1; energy_pj = { kind = \"table\"; first_bits = 2; values = [1.0]; }; };",
        "bad.cfg:14:", "arch.tiles.dac.bits",
        "expected a bit count where arch.tiles.dac.energy_pj is defined (2..2)");
    expect_error("dac = { bits = 1; };", "dac = { bits = 1; area_um2 = -2; };",
                 "bad.cfg:14:", "arch.tiles.dac.area_um2", "found -2, expected a number 0..1e+12");
    expect_error(
        "energy_pj = 2.0;",
        "energy_pj = { kind = \"table\"; first_bits = 1; values = [1.0, 2.0, 1.5, 3.0]; };",
        "bad.cfg:19:", "arch.tiles.adc.energy_pj.values",
        "found 1.5 pJ at 3 bits after 2 pJ at 2 bits, expected values that do not "
        "decrease");
    expect_error("energy_pj = 2.0;", "energy_pj = { kind = \"fom\"; fom = -0.1; };",
                 "bad.cfg:19:", "arch.tiles.adc.energy_pj.fom", "found -0.1");
    expect_error("clock_mhz = 100.0;",
                 "clock_mhz = 100.0; other_parts = ( { name = \"r\"; scope = \"tile\"; "
                 "count = 1.0; } );",
                 "bad.cfg:4:", "arch.other_parts[0].scope",
                 "found \"tile\", expected one of: chip, group");
    expect_error("clock_mhz = 100.0;",
                 "clock_mhz = 100.0; other_parts = ( { name = \"r\"; scope = \"chip\"; } );",
                 "bad.cfg:4:", "arch.other_parts[0].count: missing", NULL);
    expect_error("psum_bits = 16;", "psum_bits = 16; shift_add = { energy_pj = 0.1; };",
                 "bad.cfg:13:", "arch.tiles.shift_add.count: missing", NULL);
}
END_TEST

START_TEST(test_arch_unknown_key)
{
    expect_error("rows_active = 4;", "rows_activ = 4;", "bad.cfg:10:", "arch.tiles.rows_activ",
                 "expected one of: count, rows, cols, cell_bits, rows_active, mapping");
    expect_error("bits = 4;", "bitz = 4;", "bad.cfg:17:", "arch.tiles.adc.bitz",
                 "count, bits, strict_bits, time_ns, time_cycles, energy_pj, power_mw, "
                 "static_power_uw, area_um2");
    expect_error("clock_mhz = 100.0;", "clock_mhz = 100.0; colour = 1;",
                 "bad.cfg:4:", "arch.colour",
                 "name, mode, clock_mhz, peak_bits, power_gating, gated_fraction, tiles");
    expect_error("time_ns = 1.5;", "time_ns = { kind = \"linear\"; c0 = 1; c1 = 2; c2 = 3; };",
                 "bad.cfg:18:", "arch.tiles.adc.time_ns.c2", "kind, c0, c1");
}
END_TEST

START_TEST(test_arch_missing_key)
{
    /* a missing key is reported at its group's line */
    expect_error("psum_bits = 16;", "", "bad.cfg:5:", "arch.tiles.psum_bits: missing",
                 "expected an integer 1..64");
    expect_error("time_ns = 1.5;", "", "bad.cfg:15:", "arch.tiles.adc.time_ns: missing",
                 "time_cycles");
    expect_error("energy_pj = 2.0;", "", "bad.cfg:15:", "arch.tiles.adc.energy_pj: missing",
                 "energy of one conversion");
    expect_error("sram_bytes = 1024;", "", "bad.cfg:27:", "arch.vector.sram_bytes: missing", NULL);
    expect_error("dac = { bits = 1; };", "", "bad.cfg:5:", "arch.tiles.dac: missing", NULL);
    expect_error("name = \"t\";", "", "bad.cfg:1:", "arch.name: missing", NULL);

    arch out;
    err e;
    err_clear(&e);
    ck_assert_int_eq(arch_load_string("other = 1;\n", "bad.cfg", &out, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "bad.cfg: arch: missing"));
}
END_TEST

START_TEST(test_arch_wrong_type)
{
    expect_error("cols = 8;", "cols = \"8\";", "bad.cfg:8:", "arch.tiles.cols",
                 "found the string \"8\", expected an integer 1..65536");
    expect_error("count = 4;", "count = 4.0;", "bad.cfg:6:", "arch.tiles.count",
                 "found the number 4, expected an integer");
    expect_error("clock_mhz = 100.0;", "clock_mhz = true;", "bad.cfg:4:", "arch.clock_mhz",
                 "found the boolean true, expected a number");
    expect_error("dac = { bits = 1; };", "dac = 1;", "bad.cfg:14:", "arch.tiles.dac",
                 "found the integer 1, expected a group");
    expect_error("mapping = \"unsigned\";", "mapping = 1;", "bad.cfg:11:", "arch.tiles.mapping",
                 "expected a string, one of: unsigned, offset");
    expect_error("time_ns = 1.5;", "time_ns = \"fast\";", "bad.cfg:18:", "arch.tiles.adc.time_ns",
                 "expected a number in ns or a group");
    expect_error("time_ns = 1.5;", "time_cycles = { kind = \"linear\"; c0 = 1; c1 = 1; };",
                 "bad.cfg:18:", "arch.tiles.adc.time_cycles", "found a group, expected a number");
    expect_error("time_ns = 1.5;",
                 "time_ns = { kind = \"table\"; values = ( 1.0, 2.0, 3.0, 4.0, \"x\" ); };",
                 "bad.cfg:18:", "arch.tiles.adc.time_ns.values[4]", "found the string \"x\"");
}
END_TEST

START_TEST(test_arch_out_of_range)
{
    expect_error("bits = 4;", "bits = 17;", "bad.cfg:17:", "arch.tiles.adc.bits",
                 "found 17, expected an integer 1..16");
    expect_error("clock_mhz = 100.0;", "clock_mhz = 0.0;", "bad.cfg:4:", "arch.clock_mhz",
                 "found 0, expected a number 0.001..1e+06");
    expect_error("energy_pj = 2.0;", "energy_pj = -1.0;", "bad.cfg:19:", "arch.tiles.adc.energy_pj",
                 "found -1");
    expect_error("cell_bits = 2;", "cell_bits = 9;", "bad.cfg:9:", "arch.tiles.cell_bits",
                 "expected an integer 1..8");
    expect_error("count = 2;", "count = 9;", "bad.cfg:16:", "arch.tiles.adc.count",
                 "found 9, expected an integer 1..8"); /* at most one ADC per column */
    expect_error("time_ns = 1.5;", "time_ns = 1e400;", "bad.cfg:18:", "arch.tiles.adc.time_ns",
                 "found inf");
    /* a formula must stay non-negative over its whole domain: 0.5 * 1 - 1 < 0 */
    expect_error("time_ns = 1.5;", "time_ns = { kind = \"linear\"; c0 = -1.0; c1 = 0.5; };",
                 "bad.cfg:18:", "arch.tiles.adc.time_ns", "-0.5 ns at 1 bits");
    /* libconfig 1.5 would silently truncate this to 0 */
    expect_error("sram_bytes = 1024;", "sram_bytes = 4294967296;",
                 "bad.cfg:31:", "arch.vector.sram_bytes",
                 "found the integer 4294967296, expected -2147483648");
}
END_TEST

START_TEST(test_arch_inconsistent)
{
    expect_error("rows_active = 4;", "rows_active = 17;", "bad.cfg:10:", "arch.tiles.rows_active",
                 "found 17, expected an integer 1..16");
    expect_error("bits = 4;", "bits = 5; strict_bits = true;", "bad.cfg:17:", "arch.tiles.adc.bits",
                 "found 5, expected at most 4");
    expect_error("count = 2;\n        lanes = 4;", "count = 3;\n        lanes = 4;",
                 "bad.cfg:28:", "arch.vector.count", "found 3, expected 2");
    expect_error("tiles = 2;", "tiles = 5;", "bad.cfg:23:", "arch.groups.tiles",
                 "found 5, expected an integer 1..4");
    expect_error("clock_mhz = 100.0;", "clock_mhz = 100.0; gated_fraction = 1.5;",
                 "bad.cfg:4:", "arch.gated_fraction", "found 1.5, expected a number 0..1");
    expect_error("cols = 8;\n        cell_bits = 2;\n        rows_active = 4;\n"
                 "        mapping = \"unsigned\";",
                 "cols = 1;\n        cell_bits = 2;\n        rows_active = 4;\n"
                 "        mapping = \"differential_column\";",
                 "bad.cfg:11:", "arch.tiles.mapping", "needs 2 columns");
    expect_error("rows_active = 4;", "rows_active = 4; rows_active = 2;",
                 "bad.cfg:10: syntax error: duplicate setting name", "", NULL);
    expect_error("time_ns = 1.5;", "time_ns = 1.5; time_cycles = 1;",
                 "bad.cfg:18:", "arch.tiles.adc.time_cycles", "found both time_ns");
    expect_error("mode = \"weight_stationary\";", "mode = \"reprogram\";",
                 "bad.cfg:5:", "arch.tiles.crossbar.write_ns_per_tile: missing", "reprogram");
}
END_TEST

START_TEST(test_arch_zero_lanes)
{
    expect_error("lanes = 2; lane_bits = 8;", "lanes = 0; lane_bits = 8;",
                 "bad.cfg:24:", "arch.groups.in_bus.lanes",
                 "found 0, expected an integer 1..65536");
    expect_error("lanes = 4;", "lanes = 0;", "bad.cfg:29:", "arch.vector.lanes", "found 0");
    expect_error("lane_bits = 16;", "lane_bits = 0;",
                 "bad.cfg:25:", "arch.groups.out_bus.lane_bits", "expected an integer 1..1024");
}
END_TEST

START_TEST(test_arch_bad_names)
{
    expect_error("mapping = \"unsigned\";", "mapping = \"signed\";",
                 "bad.cfg:11:", "arch.tiles.mapping",
                 "found \"signed\", expected one of: unsigned, offset, differential_column, "
                 "differential_row");
    expect_error("mode = \"weight_stationary\";", "mode = \"stationary\";",
                 "bad.cfg:3:", "arch.mode", "expected one of: weight_stationary, reprogram");
    expect_error("time_ns = 1.5;", "time_ns = { kind = \"cubic\"; c0 = 1; c1 = 1; };",
                 "bad.cfg:18:", "arch.tiles.adc.time_ns.kind",
                 "expected one of: value, table, linear, quadratic, exponential");
    expect_error("name = \"t\";", "name = \"has space\";", "bad.cfg:2:", "arch.name", NULL);
}
END_TEST

START_TEST(test_arch_table_bounds)
{
    /* two values cover bits 1..2 only; adc.bits is 4 */
    expect_error("time_ns = 1.5;",
                 "time_ns = { kind = \"table\"; first_bits = 1; values = [1.0, 2.0]; };",
                 "bad.cfg:17:", "arch.tiles.adc.bits",
                 "found 4, expected a bit count where arch.tiles.adc.time_ns is defined (1..2)");
    /* power x time is refused: it double-counts the bits */
    expect_error("energy_pj = 2.0;", "power_mw = 1.0;", "bad.cfg:19:", "arch.tiles.adc.power_mw",
                 "double-counts the bits");
    /* the energy table must be defined at the configured bits */
    expect_error("energy_pj = 2.0;",
                 "energy_pj = { kind = \"table\"; first_bits = 5; values = [1.0, 2.0]; };",
                 "bad.cfg:17:", "arch.tiles.adc.bits",
                 "arch.tiles.adc.energy_pj is defined (5..6)");
    /* 8 values from 10 bits run past 16 */
    expect_error("time_ns = 1.5;",
                 "time_ns = { kind = \"table\"; first_bits = 10; values = [1,2,3,4,5,6,7,8]; };",
                 "bad.cfg:18:", "arch.tiles.adc.time_ns.values", "found 8 values (bits 10..17)");
    expect_error("time_ns = 1.5;", "time_ns = { kind = \"table\"; values = []; };",
                 "bad.cfg:18:", "arch.tiles.adc.time_ns.values", "found 0 values");
}
END_TEST

START_TEST(test_arch_include_rejected_in_string)
{
    expect_error("arch = {", "@include \"x.cfg\"\narch = {", "bad.cfg:1:", "", "@include");
}
END_TEST

/* Inputs the fuzzer (tests/fuzz) found; each must fail cleanly (ASan / valgrind see leaks). */
START_TEST(test_arch_fuzz_regressions)
{
    /* libconfig 1.5 leaked the buffer of a string token that its grammar rejects (found by
     * fuzz_arch: leak-d61256fd..., a preset with `til"differential_column"bus`); the loader now
     * cuts the text before such a string. */
    static const char *const bad[] = {
        "arch = { groups = { til\"differential_column\"bus = 1; }; };\n",
        "\"x\"\n",
        "a = 1,\n \"x\";\n",
        "a = { \"x\" };\n",
        "a = ( { b = 1; }, \"x\" );\nc = [1, 2 \"x\"];\n",
    };
    static const unsigned line[] = {1, 1, 2, 1, 2};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        arch out;
        err e;
        char where[64];
        err_clear(&e);
        ck_assert_int_eq(arch_load_string(bad[i], "bad.cfg", &out, &e), ERR_INPUT);
        snprintf(where, sizeof where, "bad.cfg:%u: syntax error", line[i]);
        ck_assert_msg(strstr(e.msg, where) != NULL, "input %zu: %s", i, e.msg);
    }
    /* strings where the grammar takes them still parse (then fail on the missing arch) */
    arch out;
    err e;
    err_clear(&e);
    ck_assert_int_eq(
        arch_load_string("a = [\"x\", \"y\"]; b = (\"x\", (\"y\", \"z\"), { c = \"q\"; });\n"
                         "d = \"e\" \"f\"; g : \"h\", arch = \"z\";\n",
                         "bad.cfg", &out, &e),
        ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "bad.cfg:2: arch: found the string \"z\"") != NULL, "%s", e.msg);
}
END_TEST

/* Writes text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

START_TEST(test_arch_file_errors_and_includes)
{
    arch a, sentinel;
    err e;
    err_clear(&e);
    memset(&a, 0x5A, sizeof a);
    memcpy(&sentinel, &a, sizeof a);
    ck_assert_int_eq(arch_load_file("/nonexistent/arch.cfg", &a, &e), ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/arch.cfg"));
    ck_assert(memcmp(&a, &sentinel, sizeof a) == 0);

    /* An include resolves next to the including file; messages name the file a setting is in. */
    char dir[400];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_arch_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *text = variant(NULL, NULL);
    write_file(dir, "inner.cfg", text);
    free(text);
    write_file(dir, "main.cfg", "# the chip\n@include \"inner.cfg\"\n");
    char path[512];
    snprintf(path, sizeof path, "%s/main.cfg", dir);
    ck_assert_int_eq(arch_load_file(path, &a, &e), 0);
    ck_assert_uint_eq(a.tiles.count, 4);
    arch_fini(&a);

    text = variant("bits = 4;", "bits = 40;");
    write_file(dir, "inner.cfg", text);
    free(text);
    ck_assert_int_eq(arch_load_file(path, &a, &e), ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "inner.cfg:17: arch.tiles.adc.bits") != NULL, "%s", e.msg);

    text = variant("sram_bytes = 1024;", "sram_bytes = 99999999999;");
    write_file(dir, "inner.cfg", text);
    free(text);
    ck_assert_int_eq(arch_load_file(path, &a, &e), ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "inner.cfg:31: arch.vector.sram_bytes") != NULL, "%s", e.msg);

    /* An empty include name, or one that names a directory, would make libconfig's scanner
     * exit the process: both are refused with the line. */
    write_file(dir, "main.cfg", "# the chip\n@include \"\"\n");
    ck_assert_int_eq(arch_load_file(path, &a, &e), ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "main.cfg:2:") && strstr(e.msg, "@include \"\""), "%s", e.msg);
    write_file(dir, "main.cfg", "# the chip\n@include \".\"\n");
    ck_assert_int_eq(arch_load_file(path, &a, &e), ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "main.cfg:2:") && strstr(e.msg, "not a regular file"), "%s", e.msg);
    /* "\//": libconfig reads the unknown escape as "/", so the directory "//" (fuzz_policy) */
    write_file(dir, "main.cfg", "# the chip\n@include \"\\//\"\n");
    ck_assert_int_eq(arch_load_file(path, &a, &e), ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "main.cfg:2:") && strstr(e.msg, "not a regular file"), "%s", e.msg);

    char sub[600];
    snprintf(sub, sizeof sub, "%s/inner.cfg", dir);
    unlink(sub);
    snprintf(sub, sizeof sub, "%s/main.cfg", dir);
    unlink(sub);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arch");
    TCase *tc = tcase_create("presets");
    tcase_add_test(tc, test_arch_preset_lrmp);
    tcase_add_test(tc, test_arch_preset_chang2022);
    tcase_add_test(tc, test_arch_preset_lrmp_milo2021);
    tcase_add_test(tc, test_arch_preset_cimaq);
    tcase_add_test(tc, test_arch_preset_puma);
    tcase_add_test(tc, test_arch_print_derived);
    suite_add_tcase(s, tc);

    tc = tcase_create("values");
    tcase_add_test(tc, test_arch_base_defaults);
    tcase_add_test(tc, test_arch_bits_fn_by_hand);
    tcase_add_test(tc, test_arch_bits_fn_forms_load);
    tcase_add_test(tc, test_arch_adc_bits_needed_by_hand);
    tcase_add_test(tc, test_arch_registries);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input");
    tcase_add_test(tc, test_arch_syntax_error);
    tcase_add_test(tc, test_arch_unknown_key);
    tcase_add_test(tc, test_arch_missing_key);
    tcase_add_test(tc, test_arch_wrong_type);
    tcase_add_test(tc, test_arch_out_of_range);
    tcase_add_test(tc, test_arch_inconsistent);
    tcase_add_test(tc, test_arch_energy_inputs);
    tcase_add_test(tc, test_arch_zero_lanes);
    tcase_add_test(tc, test_arch_bad_names);
    tcase_add_test(tc, test_arch_table_bounds);
    tcase_add_test(tc, test_arch_include_rejected_in_string);
    tcase_add_test(tc, test_arch_file_errors_and_includes);
    tcase_add_test(tc, test_arch_fuzz_regressions);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
