/* test_model: the mapper's tiling, replication and analytic model against answers worked out by
 * hand, CIM-AQ's published ResNet-18 latency, LRMP's cycle formula, and the monotone property
 * (fewer bits never mean more tiles or more time). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "testload.h"
#include "testutil.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* A small chip: 8x8 tiles, 2-bit cells, 2 rows active, 1-bit DAC, 2 ADCs of 1 cycle, 100 MHz
 * (10 000 ps cycle), 2-lane 4-bit input bus and 1-lane 8-bit output bus (1 cycle per word),
 * one vector module of 2 lanes at 1 cycle per op, unsigned mapping, psums of 8 bits. */
static const char *const small_arch =
    "arch = {\n"
    "  name = \"small\"; mode = \"weight_stationary\"; clock_mhz = 100.0;\n"
    "  tiles = { count = 64; rows = 8; cols = 8; cell_bits = 2; rows_active = 2;\n"
    "    mapping = \"unsigned\"; psum_bits = 8; crossbar = { static_power_uw = 10.0; };\n"
    "    dac = { bits = 1; };\n"
    "    adc = { count = 2; bits = 4; time_cycles = 1; energy_pj = 0.5; };\n"
    "  };\n"
    "  groups = { tiles = 64;\n"
    "    in_bus = { lanes = 2; lane_bits = 4; cycles_per_transfer = 1; };\n"
    "    out_bus = { lanes = 1; lane_bits = 8; cycles_per_transfer = 1; };\n"
    "  };\n"
    "  vector = { count = 1; lanes = 2; cycles_per_op = 1; sram_bytes = 1024; };\n"
    "};\n";

/* One linear layer 12 -> 5 over 3 tokens, then a relu on 5 x 3 elements. */
static const char *const small_net =
    "network = {\n"
    "  name = \"tiny\";\n"
    "  input = { features = 12; tokens = 3; };\n"
    "  layers = (\n"
    "    { name = \"fc\"; type = \"linear\"; out_features = 5; },\n"
    "    { name = \"act\"; type = \"relu\"; }\n"
    "  );\n"
    "};\n";

/* Map with a uniform policy and the given copies, and evaluate. */
static void price(const network *n, const arch *a, unsigned wb, unsigned ab, const unsigned *copies,
                  mapping *m, model *mo)
{
    policy p;
    policy_uniform(&p, n, wb, ab);
    err e;
    ck_assert_msg(mapping_build(n, a, &p, copies, MAPPING_PLACE_GROUPS, m, &e) == 0, "%s", e.msg);
    model_evaluate(n, a, m, mo);
    policy_fini(&p);
}

START_TEST(test_model_small_by_hand)
{
    arch a;
    network n;
    testload_arch(small_arch, &a);
    testload_net(small_net, &n);
    mapping m;
    model mo;
    price(&n, &a, 4, 3, NULL, &m, &mo);
    /* wb 4 on 2-bit cells: 2 slices; R = 12 rows, N = 5 x 2 = 10 columns on 8x8 tiles:
     * 2 row tiles (8 + 4 rows) x 2 column tiles (8 + 2 columns) = 4 tiles. */
    const mapping_layer *ml = &m.layers[0];
    ck_assert_uint_eq(ml->fp.slices, 2);
    ck_assert_uint_eq(ml->fp.rows, 12);
    ck_assert_uint_eq(ml->fp.cols, 10);
    ck_assert_uint_eq(ml->tiles_per_copy, 4);
    ck_assert_uint_eq(m.tiles_used, 4);
    const model_layer *l = &mo.layers[0];
    /* T_in: 12 inputs x 3 bits = 36 bits = 9 words of 4 bits over 2 lanes: 5 cycles = 50 000 ps. */
    ck_assert_uint_eq(l->t_in_ps, 50000);
    /* T_tile, the full 8x8 tile: 3 steps x ceil(8/2) = 4 row groups x ceil(8/2) = 4 ADC rounds
     * x 1 cycle = 48 cycles = 480 000 ps. */
    ck_assert_uint_eq(l->t_tile_ps, 480000);
    /* T_out: 2 row tiles x 10 columns = 20 psums x 8 bits = 20 words on 1 lane = 200 000 ps. */
    ck_assert_uint_eq(l->t_out_ps, 200000);
    /* T_d: 20 psum ops + 5 activations = 25 ops on 2 lanes: 13 cycles = 130 000 ps. */
    ck_assert_uint_eq(l->t_d_ps, 130000);
    /* T_layer: 3 vectors x (50 000 + 480 000 + 200 000 + 130 000) = 2 580 000 ps. */
    ck_assert_uint_eq(l->time_ps, 2580000);
    /* relu: 15 elements on 2 lanes: 8 cycles = 80 000 ps. Latency 2 660 000 ps. */
    ck_assert_uint_eq(mo.layers[1].time_ps, 80000);
    ck_assert_uint_eq(mo.latency_ps, 2660000);
    ck_assert_uint_eq(mo.bottleneck, 0);
    /* ADC energy: per vector, conversions = steps x row groups x used columns per tile:
     * tiles (8 rows, 8 cols) 3x4x8 = 96, (8, 2) 3x4x2 = 24, (4, 8) 3x2x8 = 48, (4, 2) 3x2x2 = 12:
     * 180 x 0.5 pJ = 90 pJ per vector, 270 pJ for 3 vectors. */
    ck_assert_double_eq_tol(mo.layers[0].energy_pj[COST_E_ADC], 270.0, 1e-9);
    /* Tile static (the crossbar part), no gating: all 64 tiles x 10 uW x 2.66 us = 1702.4 pJ
     * over one inference alone; over the pipelined period (the slowest layer, 2.58 us)
     * 64 x 10 x 2.58 = 1651.2 pJ. */
    ck_assert_double_eq_tol(mo.energy_single_pj[COST_E_STATIC_XBAR], 1702.4, 1e-6);
    ck_assert_double_eq_tol(mo.energy_steady_pj[COST_E_STATIC_XBAR], 1651.2, 1e-6);
    /* 60 weights x 3 vectors = 180 MACs. */
    ck_assert_uint_eq(mo.macs, 180);
    /* The layer's own 4 tiles over the latency, ungated: 4 x 10 uW x 2.66 us = 106.4 pJ; the
     * relu has no tiles. */
    ck_assert_double_eq_tol(mo.layers[0].static_tiles_pj, 106.4, 1e-9);
    ck_assert_double_eq(mo.layers[1].static_tiles_pj, 0.0);

    /* Two copies: vectors 3 -> ceil(3/2) = 2 for the busiest copy; 8 tiles used. */
    model_fini(&mo);
    mapping_fini(&m);
    unsigned copies[1] = {2};
    price(&n, &a, 4, 3, copies, &m, &mo);
    ck_assert_uint_eq(m.layers[0].vectors_max, 2);
    ck_assert_uint_eq(m.tiles_used, 8);
    ck_assert_uint_eq(mo.layers[0].time_ps, 2 * 860000);
    model_fini(&mo);
    mapping_fini(&m);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

START_TEST(test_model_depthwise_packing)
{
    /* A depthwise 1x1 convolution over 10 channels of 2x2 pixels on the small chip: each group's
     * matrix is 1 row x 1 weight = 2 slice columns, so min(8 / 1, 8 / 2) = 4 groups share a tile
     * on its diagonal: ceil(10 / 4) = 3 tiles -- two with 4 groups (4 rows, 8 columns), one with
     * 2 groups (2 rows, 4 columns) -- instead of 10. */
    static const char *const dw =
        "network = {\n"
        "  name = \"dw\";\n"
        "  input = { channels = 10; height = 2; width = 2; };\n"
        "  layers = ( { name = \"dw\"; type = \"conv2d\"; out_channels = 10;\n"
        "               kernel = 1; groups = 10; } );\n"
        "};\n";
    arch a;
    network n;
    testload_arch(small_arch, &a);
    testload_net(dw, &n);
    mapping m;
    model mo;
    price(&n, &a, 4, 3, NULL, &m, &mo);
    ck_assert_uint_eq(m.layers[0].pack, 4);
    ck_assert_uint_eq(m.layers[0].tiles_per_copy, 3);
    /* The full tile: 3 steps x ceil(4/2) = 2 row groups x ceil(8/2) = 4 ADC rounds = 24 cycles. */
    ck_assert_uint_eq(mo.layers[0].t_tile_ps, 240000);
    /* ADC conversions per vector: 2 x (3 x 2 x 8) + (3 x 1 x 4) = 108, x 0.5 pJ x 4 vectors. */
    ck_assert_double_eq_tol(mo.layers[0].energy_pj[COST_E_ADC], 216.0, 1e-9);
    model_fini(&mo);
    mapping_fini(&m);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

START_TEST(test_model_placement)
{
    /* The small chip cut into groups of 5 tiles (10 tiles, 2 vector modules). The linear layer
     * takes 4 tiles per copy; with 2 copies: `groups` puts copy 0 on tiles 0-3 and, since copy 1
     * would straddle tiles 4-7 across the group end, starts it at tile 5 (span 9); `packed` puts
     * it on tiles 4-7 (span 8). Three copies need 14 tiles aligned, 12 packed: too many either
     * way for 10. */
    char text[2048];
    snprintf(text, sizeof text, "%s", small_arch);
    char *p = strstr(text, "count = 64;");
    memcpy(p, "count = 10;", 11);
    p = strstr(text, "groups = { tiles = 64;");
    memcpy(p, "groups = { tiles =  5;", 22);
    p = strstr(text, "vector = { count = 1;");
    memcpy(p, "vector = { count = 2;", 21);
    arch a;
    network n;
    testload_arch(text, &a);
    testload_net(small_net, &n);
    policy pol;
    policy_uniform(&pol, &n, 4, 3);
    unsigned two[1] = {2}, three[1] = {3};
    mapping m;
    err e;
    ck_assert_msg(mapping_build(&n, &a, &pol, two, MAPPING_PLACE_GROUPS, &m, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(m.layers[0].first_tile, 0);
    ck_assert_uint_eq(m.layers[0].last_tile, 8);
    ck_assert_uint_eq(m.tiles_span, 9);
    ck_assert_uint_eq(m.tiles_used, 8);
    mapping_fini(&m);
    ck_assert_msg(mapping_build(&n, &a, &pol, two, MAPPING_PLACE_PACKED, &m, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(m.layers[0].last_tile, 7);
    ck_assert_uint_eq(m.tiles_span, 8);
    mapping_fini(&m);
    ck_assert_int_lt(mapping_build(&n, &a, &pol, three, MAPPING_PLACE_PACKED, &m, &e), 0);
    ck_assert_msg(strstr(e.msg, "needs 12 tiles (packed placement), the chip has 10"), "%s", e.msg);
    ck_assert_int_lt(mapping_build(&n, &a, &pol, three, MAPPING_PLACE_GROUPS, &m, &e), 0);
    ck_assert_msg(strstr(e.msg, "needs 14 tiles (groups placement)"), "%s", e.msg);
    mapping_placement pl;
    ck_assert_int_eq(mapping_placement_parse("packed", &pl), 0);
    ck_assert_int_eq(pl, MAPPING_PLACE_PACKED);
    ck_assert_int_eq(mapping_placement_parse("spread", &pl), -1);
    policy_fini(&pol);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

START_TEST(test_model_cimaq_resnet18_reference)
{
    /* CIM-AQ (REFERENCE.md section 2): ResNet-18, every layer 8/8, 4-bit cells, one 256x256
     * crossbar, 56 us per tile write, 1.4 us per execute: 1 507 464.0 us. */
    arch a;
    network n;
    testload_arch("cimaq", &a);
    testload_net("resnet18", &n);
    mapping m;
    model mo;
    price(&n, &a, 8, 8, NULL, &m, &mo);
    ck_assert_uint_eq(mo.latency_ps, UINT64_C(1507464000000));
    model_fini(&mo);
    mapping_fini(&m);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

START_TEST(test_model_lrmp_cycle_formula)
{
    /* LRMP (REFERENCE.md section 1): one VMM takes ab x ceil(rows/9) x ceil(cols/8) ADC cycles.
     * ResNet-18 conv1: R = 7x7x3 = 147, N = 64 x 8 slices = 512 columns -> 2 tiles of 256
     * columns; 8 x ceil(147/9) = 17 x 32 = 4352 cycles of 5208 ps = 22 665 216 ps; P = 112^2. */
    arch a;
    network n;
    testload_arch("lrmp", &a);
    testload_net("resnet18", &n);
    mapping m;
    model mo;
    price(&n, &a, 8, 8, NULL, &m, &mo);
    ck_assert_uint_eq(m.layers[0].tiles_per_copy, 2);
    ck_assert_uint_eq(m.layers[0].vectors, 12544);
    ck_assert_uint_eq(mo.layers[m.layers[0].layer].t_tile_ps, UINT64_C(22665216));
    /* LRMP: the 8-bit baseline of ResNet-18 is bottlenecked by its first layer. */
    ck_assert_uint_eq(mo.bottleneck, m.layers[0].layer);
    model_fini(&mo);
    mapping_fini(&m);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

START_TEST(test_model_fewer_bits_never_cost_more)
{
    /* Lowering one layer's weight or activation bits by one never increases its tiles or time. */
    arch a;
    network n;
    testload_arch("lrmp", &a);
    testload_net("resnet18", &n);
    unsigned seed = 12345;
    for (int trial = 0; trial < 40; trial++) {
        policy p;
        policy_uniform(&p, &n, 8, 8);
        for (unsigned i = 0; i < p.n; i++) {
            p.layers[i].wb = 2 + (seed = seed * 1103515245u + 12345u) % 7;
            p.layers[i].ab = 2 + (seed = seed * 1103515245u + 12345u) % 7;
        }
        unsigned li = (seed = seed * 1103515245u + 12345u) % p.n;
        mapping m0, m1;
        model o0, o1;
        err e;
        ck_assert_int_eq(mapping_build(&n, &a, &p, NULL, MAPPING_PLACE_GROUPS, &m0, &e), 0);
        model_evaluate(&n, &a, &m0, &o0);
        if (trial % 2)
            p.layers[li].wb--;
        else
            p.layers[li].ab--;
        ck_assert_int_eq(mapping_build(&n, &a, &p, NULL, MAPPING_PLACE_GROUPS, &m1, &e), 0);
        model_evaluate(&n, &a, &m1, &o1);
        ck_assert_uint_le(m1.layers[li].tiles_per_copy, m0.layers[li].tiles_per_copy);
        unsigned nl = m0.layers[li].layer;
        ck_assert_uint_le(o1.layers[nl].time_ps, o0.layers[nl].time_ps);
        ck_assert_uint_le(o1.latency_ps, o0.latency_ps);
        model_fini(&o0);
        model_fini(&o1);
        mapping_fini(&m0);
        mapping_fini(&m1);
        policy_fini(&p);
    }
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

START_TEST(test_model_too_big_names_needs)
{
    arch a;
    network n;
    testload_arch("chang2022", &a);
    testload_net("resnet18", &n);
    policy p;
    policy_uniform(&p, &n, 8, 8);
    mapping m = {.n = 77};
    err e;
    ck_assert_int_lt(mapping_build(&n, &a, &p, NULL, MAPPING_PLACE_GROUPS, &m, &e), 0);
    ck_assert_uint_eq(m.n, 77); /* untouched */
    ck_assert_msg(strstr(e.msg, "the chip has 288") && strstr(e.msg, "needs"), "%s", e.msg);
    ck_assert_msg(strstr(e.msg, "largest layers"), "%s", e.msg);
    policy_fini(&p);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_model_small_by_hand);
    tcase_add_test(tc, test_model_depthwise_packing);
    tcase_add_test(tc, test_model_placement);
    tcase_add_test(tc, test_model_cimaq_resnet18_reference);
    tcase_add_test(tc, test_model_lrmp_cycle_formula);
    tcase_add_test(tc, test_model_fewer_bits_never_cost_more);
    tcase_add_test(tc, test_model_too_big_names_needs);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
