/* test_cost: the energy, static power, area and peak formulas of components/cost.c, each against
 * a figure worked out by hand on a tiny chip (the arithmetic is in the comments), plus the
 * properties the power issue asks for: the ADC's energy is per conversion and grows as 2^b (never
 * b^3), power gating leaves unused parts at zero, and a gated idle tile keeps gated_fraction.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "arch.h"
#include "cost.h"
#include "testload.h"
#include "testutil.h"

/* A 4 x 8 tile of 2-bit cells, 2 rows at a time, 1-bit DAC, 2 ADCs, 4 tiles in 2 groups, at
 * 100 MHz. Per part: DAC 0.5 pJ, 1 uW, 2 um2; cell read 0.01 pJ, cell 0.1 um2; column read 0.25
 * pJ; crossbar static 3 uW; S+H 0.02 pJ, 0.5 uW, 1 um2; ADC fom 0.125 pJ x 2^b, 10 uW, 100 um2;
 * shift-add 2 units, 0.05 pJ, 4 uW, 8 um2; buses 2 x 8 and 1 x 16 wires at 0.25 uW and 5 um2 per
 * wire; 2 lanes at 6 uW and 50 um2; 1 KiB SRAM at 16 uW and 200 um2 per KiB; a group part of
 * 7 uW / 70 um2 (count 2) and a chip part of 1000 uW / 9000 um2. */
static const char *const tiny =
    "arch = {\n"
    "  name = \"tiny\"; mode = \"weight_stationary\"; clock_mhz = 100.0; peak_bits = 4;\n"
    "  power_gating = GATING; gated_fraction = 0.25;\n"
    "  tiles = { count = 4; rows = 4; cols = 8; cell_bits = 2; rows_active = 2;\n"
    "    mapping = \"unsigned\"; psum_bits = 8;\n"
    "    dac = { bits = 1; latency_ns = 1.0; energy_pj = 0.5; static_power_uw = 1.0; area_um2 = "
    "2.0; };\n"
    "    sample_hold = { energy_pj = 0.02; static_power_uw = 0.5; area_um2 = 1.0; };\n"
    "    adc = { count = 2; bits = 3; time_ns = 2.0; energy_pj = { kind = \"fom\"; fom = 0.125; "
    "};\n"
    "            static_power_uw = 10.0; area_um2 = 100.0; };\n"
    "    shift_add = { count = 2; energy_pj = 0.05; static_power_uw = 4.0; area_um2 = 8.0; };\n"
    "    crossbar = { read_latency_ns = 1.0; read_energy_pj = 0.25; cell_read_energy_pj = 0.01;\n"
    "                 static_power_uw = 3.0; cell_area_um2 = 0.1; };\n"
    "  };\n"
    "  groups = { tiles = 2;\n"
    "    in_bus = { lanes = 2; lane_bits = 8; cycles_per_transfer = 1;\n"
    "               static_power_uw_per_wire = 0.25; area_um2_per_wire = 5.0; };\n"
    "    out_bus = { lanes = 1; lane_bits = 16; cycles_per_transfer = 1;\n"
    "                static_power_uw_per_wire = 0.25; area_um2_per_wire = 5.0; };\n"
    "  };\n"
    "  vector = { count = 2; lanes = 2; cycles_per_op = 1; sram_bytes = 1024;\n"
    "    sram_leakage_uw_per_kib = 16.0; sram_area_um2_per_kib = 200.0;\n"
    "    lane_static_power_uw = 6.0; lane_area_um2 = 50.0; };\n"
    "  other_parts = ( { name = \"g\"; scope = \"group\"; count = 2.0; static_power_uw = 7.0;\n"
    "                    area_um2 = 70.0; },\n"
    "                  { name = \"c\"; scope = \"chip\"; count = 1.0; static_power_uw = 1000.0;\n"
    "                    area_um2 = 9000.0; } );\n"
    "};\n";

static void load_tiny(bool gating, arch *a)
{
    const char *at = strstr(tiny, "GATING");
    size_t n = strlen(tiny);
    char *text = malloc(n + 8);
    size_t head = (size_t)(at - tiny);
    memcpy(text, tiny, head);
    strcpy(text + head, gating ? "true" : "false");
    strcat(text, at + strlen("GATING"));
    testload_arch(text, a);
    free(text);
}

/* One VMM of 3 used rows x 5 used columns at 2 input bits, 3 ADC bits:
 * steps 2, row groups ceil(3/2) = 2; DAC 2 x 3 = 6 conversions x 0.5 = 3 pJ; cells 2 x 3 x 5 =
 * 30 reads x 0.01 = 0.3 pJ plus column reads 2 x 2 x 5 = 20 x 0.25 = 5 pJ (crossbar 5.3 pJ);
 * samples 20 x 0.02 = 0.4 pJ; ADC 20 x 0.125 x 8 = 20 pJ; shift-adds 20 x 0.05 = 1 pJ. */
START_TEST(test_cost_vmm_energy_by_part)
{
    arch a;
    load_tiny(false, &a);
    cost_vmm v = {.rows_used = 3, .cols_used = 5, .in_bits = 2, .adc_bits = 3};
    cost_vmm_counts c = cost_vmm_count(&a, &v);
    ck_assert_uint_eq(c.cell_reads, 30);
    ck_assert_uint_eq(c.samples, 20);
    cost_energy e = cost_vmm_energy(&a, &v);
    ck_assert_double_eq_tol(e.dac_pj, 3.0, 1e-12);
    ck_assert_double_eq_tol(e.xbar_pj, 5.3, 1e-12);
    ck_assert_double_eq_tol(e.sample_hold_pj, 0.4, 1e-12);
    ck_assert_double_eq_tol(e.adc_pj, 20.0, 1e-12);
    ck_assert_double_eq_tol(e.shift_add_pj, 1.0, 1e-12);
    double acc[COST_E_COUNT] = {0};
    cost_energy_add(acc, &e, 3.0);
    ck_assert_double_eq_tol(cost_dynamic_total(acc), 3.0 * 29.7, 1e-9);
    ck_assert_double_eq(cost_static_total(acc), 0.0);
    arch_fini(&a);
}
END_TEST

/* Area by part, um2: DAC 4 tiles x 4 rows x 2 = 32; cells 4 x 32 x 0.1 = 12.8; S+H 4 x 8 x 1 =
 * 32; ADC 4 x 2 x 100 = 800; shift-add 4 x 2 x 8 = 64; buses 2 groups x 32 wires x 5 = 320;
 * lanes 2 x 2 x 50 = 200; SRAM 2 x 1 KiB x 200 = 400; no network: noc 0; one chip and no links
 * off it: interchip 0, offchip 0; other 2 groups x 2 x 70 + 9000 = 9280. Total 11140.8 um2. */
START_TEST(test_cost_area_by_part)
{
    arch a;
    load_tiny(false, &a);
    double um2[COST_PART_COUNT];
    cost_chip_area_um2(&a, um2);
    const double want[COST_PART_COUNT] = {32, 12.8, 32, 800, 64, 320, 200, 400, 0, 0, 0, 9280};
    for (int p = 0; p < COST_PART_COUNT; p++)
        ck_assert_msg(fabs(um2[p] - want[p]) < 1e-9, "%s: %g um2, by hand %g",
                      cost_part_name((cost_part)p), um2[p], want[p]);
    ck_assert_double_eq_tol(cost_sum_parts(um2), 11140.8, 1e-9);
    arch_fini(&a);
}
END_TEST

/* Static power of one tile, uW: DAC 4 x 1 = 4, crossbar 3, S+H 8 x 0.5 = 4, ADC 2 x 10 = 20,
 * shift-add 2 x 4 = 8: 39 uW. A group's always-on parts: 32 wires x 0.25 = 8 + other 2 x 7 =
 * 14. A vector module: lanes 12, SRAM 16. Chip part 1000.
 * Without gating, over 1 us (1e6 ps): every part of the chip, used or not:
 *   tiles 4 x 39 = 156, groups 2 x 22 = 44, modules 2 x 28 = 56, chip 1000 -> 1256 uW x 1 us
 *   = 1256 pJ. */
START_TEST(test_cost_static_without_gating)
{
    arch a;
    load_tiny(false, &a);
    double tile_uw[COST_PART_COUNT];
    cost_tile_static_uw(&a, tile_uw);
    ck_assert_double_eq_tol(cost_sum_parts(tile_uw), 39.0, 1e-12);
    cost_usage u = {.tiles = 1, .groups = 1, .chips = 1, .tile_busy_ps = 0.0, .lane_busy_ps = 0.0};
    double e[COST_E_COUNT] = {0};
    cost_static_energy(&a, &u, 1e6, e);
    ck_assert_double_eq_tol(cost_static_total(e), 1256.0, 1e-9);
    ck_assert_double_eq_tol(e[COST_E_STATIC_ADC], 4 * 20.0, 1e-9);
    ck_assert_double_eq_tol(e[COST_E_STATIC_OTHER], 2 * 14.0 + 1000.0, 1e-9);
    ck_assert_double_eq(cost_dynamic_total(e), 0.0);
    arch_fini(&a);
}
END_TEST

/* With gating, 1 tile and 1 group used over 1 us, the tile busy 0.4 us and the lanes 0.5 us in
 * all: tile 39 x (0.4 + 0.25 x (1 - 0.4)) = 39 x 0.55 = 21.45; group 22 x 1 = 22; lanes 6 x (0.5
 * + 0.25 x (2 x 1 - 0.5)) = 6 x 0.875 = 5.25; SRAM 16; chip 1000 -> 1064.7 pJ. The unused tiles,
 * group and module draw nothing: with nothing used only the chip part is left. */
START_TEST(test_cost_static_gating)
{
    arch a;
    load_tiny(true, &a);
    cost_usage u = {.tiles = 1, .groups = 1, .chips = 1, .tile_busy_ps = 4e5, .lane_busy_ps = 5e5};
    double e[COST_E_COUNT] = {0};
    cost_static_energy(&a, &u, 1e6, e);
    ck_assert_double_eq_tol(cost_static_total(e), 1064.7, 1e-9);
    ck_assert_double_eq_tol(e[COST_E_STATIC_VECTOR], 5.25, 1e-12);
    ck_assert_double_eq_tol(e[COST_E_STATIC_DAC], 4.0 * 0.55, 1e-12);
    cost_usage none = {.chips = 1};
    cost_static_energy(&a, &none, 1e6, e);
    for (int p = 0; p < COST_PART_COUNT; p++)
        if (p != COST_PART_OTHER)
            ck_assert_double_eq(e[COST_E_STATIC_FIRST + p], 0.0);
    ck_assert_double_eq_tol(e[COST_E_STATIC_OTHER], 1000.0, 1e-9);
    /* one tile alone, per component: 39 uW x 0.55 us */
    ck_assert_double_eq_tol(cost_tile_static_pj(&a, 400000, 1000000), 21.45, 1e-9);
    arch_fini(&a);
}
END_TEST

/* The ADC's energy per conversion by figure of merit doubles with every bit (2^b), so it is
 * monotone and never cubic; PUMA's preset: 1.40625 pJ at 8 bits (1.8 mW x 100 ns / 128). */
START_TEST(test_cost_adc_energy_per_conversion)
{
    arch a;
    testload_arch("puma", &a);
    double prev = 0.0;
    for (unsigned b = 1; b <= ARCH_MAX_ADC_BITS; b++) {
        double e = arch_bits_fn_eval(&a.tiles.adc.energy_pj, b);
        ck_assert_double_gt(e, prev);
        if (b > 1)
            ck_assert_double_eq_tol(e / prev, 2.0, 1e-12);
        prev = e;
    }
    ck_assert_double_eq_tol(arch_bits_fn_eval(&a.tiles.adc.energy_pj, 8), 1.40625, 1e-12);
    /* b^3 growth would make 8 bits 8x the energy of 4; 2^b makes it 16x: not cubic. */
    ck_assert_double_eq_tol(arch_bits_fn_eval(&a.tiles.adc.energy_pj, 8) /
                                arch_bits_fn_eval(&a.tiles.adc.energy_pj, 4),
                            16.0, 1e-12);
    arch_fini(&a);
}
END_TEST

/* Peak of the tiny chip at 4-bit weights and inputs: 2 slices per weight, 4 rows x 4 logical
 * columns = 16 weights per tile. Full VMM: 4 steps x 2 row groups x (1 + 1 + 4 rounds x 2 ns) =
 * 80 ns; 4 tiles x 16 / 80 ns = 8e8 MAC/s, 1.6e9 op/s. Energy of the full VMM: DAC 16 x 0.5 = 8,
 * cells 128 x 0.01 = 1.28, columns 64 x 0.25 = 16, samples 64 x 0.02 = 1.28, ADC 64 x 1 = 64,
 * shift-adds 64 x 0.05 = 3.2: 93.76 pJ; 4 tiles / 80 ns -> 4.688 mW. Static 1256 uW (every part):
 * 5.944 mW. Area 11140.8 um2. */
START_TEST(test_cost_peak_by_hand)
{
    arch a;
    load_tiny(true, &a);
    cost_peak pk = cost_peak_eval(&a);
    ck_assert_double_eq(pk.weights_per_tile, 16.0);
    ck_assert_double_eq_tol(pk.vmm_s, 80e-9, 1e-20);
    ck_assert_double_eq_tol(pk.macs_per_s, 8e8, 1e-3);
    ck_assert_double_eq_tol(pk.ops_per_s, 1.6e9, 1e-3);
    ck_assert_double_eq_tol(pk.dynamic_w, 4.688e-3, 1e-12);
    ck_assert_double_eq_tol(pk.static_w, 1.256e-3, 1e-12);
    ck_assert_double_eq_tol(pk.area_mm2, 0.0111408, 1e-12);
    ck_assert_double_eq_tol(pk.tops_per_w, 1.6e9 * 1e-12 / 5.944e-3, 1e-9);
    ck_assert_double_eq_tol(pk.tops_per_mm2, 1.6e9 * 1e-12 / 0.0111408, 1e-9);
    arch_fini(&a);
}
END_TEST

static Suite *cost_suite(void)
{
    Suite *s = suite_create("cost");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_cost_vmm_energy_by_part);
    tcase_add_test(tc, test_cost_area_by_part);
    tcase_add_test(tc, test_cost_static_without_gating);
    tcase_add_test(tc, test_cost_static_gating);
    tcase_add_test(tc, test_cost_adc_energy_per_conversion);
    tcase_add_test(tc, test_cost_peak_by_hand);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(cost_suite());
}
