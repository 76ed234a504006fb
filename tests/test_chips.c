/* test_chips: a system of chips and the links off the chip, by hand -- the partition of a network
 * into consecutive layer ranges on the fewest chips, a layer larger than a chip spanning two, the
 * interchip and off-chip transfer times and energies, buffers that spill (or are refused without
 * an off-chip link), static power and area of the links, the event simulation equal to the model
 * with overlap off, and bad arch.chips / link input with file:line.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cost.h"
#include "emit.h"
#include "exec.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "testload.h"
#include "testutil.h"
#include "topology.h"

/* Chips of 4 tiles of 4 x 8 cells (2-bit cells) in groups of 2, 100 MHz, no on-chip network.
 * interchip: 1 link of 1 GB/s (8 bits per ns: 125 ps a bit), 10 ns a hop, 2 pJ per bit and hop,
 * 5 uW and 7 um2 per link end. offchip: 2 links of 0.5 GB/s (together 125 ps a bit), 20 ns, 1 pJ
 * per bit, 3 uW and 11 um2 per link. EXTRA is spliced into the arch group. */
static char *chips_arch(const char *extra)
{
    static const char fmt[] =
        "arch = {\n"
        "  name = \"duo\"; mode = \"weight_stationary\"; clock_mhz = 100.0; %s\n"
        "  tiles = { count = 4; rows = 4; cols = 8; cell_bits = 2; rows_active = 4;\n"
        "    mapping = \"unsigned\"; psum_bits = 8;\n"
        "    dac = { bits = 1; latency_ns = 1.0; energy_pj = 0.5; };\n"
        "    adc = { count = 8; bits = 5; time_ns = 2.0; energy_pj = 1.0; };\n"
        "    crossbar = { read_latency_ns = 1.0; read_energy_pj = 0.25; write_ns_per_tile = 9.0; "
        "};\n"
        "  };\n"
        "  groups = { tiles = 2;\n"
        "    in_bus = { lanes = 1; lane_bits = 8; cycles_per_transfer = 1; };\n"
        "    out_bus = { lanes = 1; lane_bits = 16; cycles_per_transfer = 1; };\n"
        "  };\n"
        "  vector = { count = 2; lanes = 2; cycles_per_op = 1; sram_bytes = 1024; };\n"
        "  interchip = { links = 1; gbytes_per_s = 1.0; latency_ns = 10.0;\n"
        "    energy_pj_per_bit = 2.0; static_power_uw = 5.0; area_um2 = 7.0; };\n"
        "  offchip = { links = 2; gbytes_per_s = 0.5; latency_ns = 20.0;\n"
        "    energy_pj_per_bit = 1.0; static_power_uw = 3.0; area_um2 = 11.0; };\n"
        "};\n";
    size_t n = sizeof fmt + strlen(extra);
    char *text = malloc(n);
    snprintf(text, n, fmt, extra);
    return text;
}

static void load(const char *extra, arch *a)
{
    char *text = chips_arch(extra);
    testload_arch(text, a);
    free(text);
}

/* A chain of linear layers on one token, at 4/4 bits (2 slices of 2-bit cells): 12 -> 4 takes
 * ceil(12 / 4) = 3 row tiles x ceil(4 x 2 / 8) = 1 column tile = 3 tiles; 4 -> 8: 1 x 2 = 2;
 * 8 -> 4: 2 x 1 = 2; 4 -> 4: 1 tile. */
/* Simulate program p on a with overlap off for `inferences`; returns the exec on *s (run and
 * finished). */
static exec *simulate(const arch *a, const program *p, uint64_t inferences, sim **s)
{
    sim_options so;
    sim_options_default(&so);
    *s = sim_create(&so);
    exec_options xo = {.inferences = inferences, .overlap = false};
    exec *x = exec_create(*s, a, p, &xo);
    exec_start(x);
    ck_assert_int_eq(sim_run(*s), SIM_EMPTY);
    sim_finish(*s);
    return x;
}

/* Emit m's program into *p and simulate 2 inferences with overlap off: every layer's time is the
 * model's. Returns the exec on *s for further checks. */
static exec *simulate_as_model(const arch *a, const network *n, const mapping *m, const model *mo,
                               program *p, sim **s)
{
    emit_program(n, a, m, p);
    exec *x = simulate(a, p, 2, s);
    for (unsigned i = 0; i < p->n; i++) {
        const exec_task_result *t = exec_task(x, i);
        ck_assert_uint_eq(t->first_end_ps - t->first_start_ps, mo->layers[i].time_ps);
    }
    return x;
}

static const char chain_net[] =
    "network = { name = \"chain\"; input = { features = 12; tokens = 1; };\n"
    "  layers = ( { name = \"a\"; type = \"linear\"; in_features = 12; out_features = 4; },\n"
    "             { name = \"b\"; type = \"linear\"; in_features = 4; out_features = 8; },\n"
    "             { name = \"c\"; type = \"linear\"; in_features = 8; out_features = 4; },\n"
    "             { name = \"d\"; type = \"linear\"; in_features = 4; out_features = 4; } ); };\n";

/* Tiles 3, 2, 2, 1 on chips of 4 in order: a on chip 0 (tiles 0-2); b would straddle (3-4), so it
 * starts chip 1 (4-5); c fills chip 1 (6-7); d starts chip 2 (8). Any partition into consecutive
 * ranges needs 3: a and b together are 5 > 4 tiles, and b + c + d = 5 > 4. */
START_TEST(test_chips_partition_by_hand)
{
    arch a;
    load("chips = 3;", &a);
    network n;
    testload_net(chain_net, &n);
    policy pol;
    policy_uniform(&pol, &n, 4, 4);
    mapping m;
    err e;
    ck_assert_msg(mapping_build(&n, &a, &pol, NULL, MAPPING_PLACE_PACKED, &m, &e) == 0, "%s",
                  e.msg);
    const uint64_t first[4] = {0, 4, 6, 8};
    const unsigned chip[4] = {0, 1, 1, 2};
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_uint_eq(m.layers[i].first_tile, first[i]);
        ck_assert_uint_eq(m.layers[i].chip, chip[i]);
    }
    ck_assert_uint_eq(m.chips_used, 3);
    mapping_fini(&m);
    /* Two chips are not enough: an error naming the chips needed and available. */
    a.chips = 2;
    ck_assert_int_eq(mapping_build(&n, &a, &pol, NULL, MAPPING_PLACE_PACKED, &m, &e), ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "needs 3 chips of 4 tiles") && strstr(e.msg, "the system has 2"),
                  "%s", e.msg);
    policy_fini(&pol);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

/* The same chain priced: a (chip 0) -> b (chip 1) and c (chip 1) -> d (chip 2) cross one chip
 * each; b -> c stays on chip 1 (no on-chip network: free). Each crossing moves 4 outputs x 8 bits
 * = 32 bits: 10 000 + 32 x 125 = 14 000 ps and 32 x 2 = 64 pJ. Off the chip, a fetches the input
 * (12 x 8 = 96 bits: 20 000 + 96 x 125 = 32 000 ps) and d stores the output (32 bits: 20 000 +
 * 4 000 = 24 000 ps); 128 pJ in all. The event simulation with overlap off matches every layer. */
START_TEST(test_chips_transfers_by_hand)
{
    arch a;
    load("chips = 3;", &a);
    network n;
    testload_net(chain_net, &n);
    policy pol;
    policy_uniform(&pol, &n, 4, 4);
    mapping m, m0;
    err e;
    ck_assert(mapping_build(&n, &a, &pol, NULL, MAPPING_PLACE_PACKED, &m, &e) == 0);
    model mo, mo0;
    model_evaluate(&n, &a, &m, &mo);
    ck_assert_uint_eq(mo.layers[0].t_noc_ps, 14000);
    ck_assert_uint_eq(mo.layers[1].t_noc_ps, 0);
    ck_assert_uint_eq(mo.layers[2].t_noc_ps, 14000);
    ck_assert_uint_eq(mo.layers[0].t_io_ps, 32000);
    ck_assert_uint_eq(mo.layers[3].t_io_ps, 24000);
    ck_assert_uint_eq(mo.interchip_bit_hops, 64);
    ck_assert_uint_eq(mo.offchip_bits, 128);
    ck_assert_double_eq_tol(mo.layers[0].energy_pj[COST_E_INTERCHIP], 64.0, 1e-12);
    ck_assert_double_eq_tol(mo.layers[0].energy_pj[COST_E_OFFCHIP], 96.0, 1e-12);
    ck_assert_double_eq_tol(mo.layers[3].energy_pj[COST_E_OFFCHIP], 32.0, 1e-12);
    /* Without the links off the chip the layers are exactly that much faster. */
    arch one = a;
    one.chips = 1;
    one.tiles.count = 16;
    one.offchip.present = false;
    ck_assert(mapping_build(&n, &one, &pol, NULL, MAPPING_PLACE_PACKED, &m0, &e) == 0);
    model_evaluate(&n, &one, &m0, &mo0);
    ck_assert_uint_eq(mo.layers[0].time_ps, mo0.layers[0].time_ps + 14000 + 32000);
    ck_assert_uint_eq(mo.layers[3].time_ps, mo0.layers[3].time_ps + 24000);
    /* weight-stationary: the weights come in once (3 + 2 + 2 + 1 layers' 48 + 32 + 32 + 16
     * weights x 4 bits = 512 bits: 20 000 + 64 000 ps). */
    ck_assert_uint_eq(mo.weight_load_bits, 512);
    ck_assert_uint_eq(mo.weight_load_ps, 84000);

    program p;
    sim *s;
    exec *x = simulate_as_model(&a, &n, &m, &mo, &p, &s);
    for (unsigned i = 0; i < 4; i++) {
        const exec_task_result *t = exec_task(x, i);
        ck_assert_double_eq_tol(t->energy_pj[COST_E_INTERCHIP],
                                mo.layers[i].energy_pj[COST_E_INTERCHIP], 1e-12);
        ck_assert_double_eq_tol(t->energy_pj[COST_E_OFFCHIP],
                                mo.layers[i].energy_pj[COST_E_OFFCHIP], 1e-12);
    }
    ck_assert_uint_eq(sim_now(s), 2 * mo.latency_ps);
    double dyn[COST_E_COUNT];
    exec_dynamic_energy(x, dyn);
    ck_assert_double_eq_tol(dyn[COST_E_INTERCHIP], 2 * 128.0, 1e-9);
    ck_assert_double_eq_tol(dyn[COST_E_OFFCHIP], 2 * 128.0, 1e-9);
    ck_assert_uint_eq(exec_usage(x).chips, 3);
    exec_destroy(x);
    sim_destroy(s);
    program_fini(&p);
    model_fini(&mo0);
    model_fini(&mo);
    mapping_fini(&m0);
    mapping_fini(&m);
    policy_fini(&pol);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

/* Buffers of 16 bytes per module: a needs 2 x (12 + 4) = 32 bytes (its one group has 16): spill
 * 16, so 64 bits out after it and 64 back before it; b and c need 2 x (4 + 8) = 24: spill 8, 32
 * bits each way; d needs 2 x (4 + 4) = 16: none. Off-chip times (125 ps a bit, 20 ns a transfer):
 * a fetches 96 + 64 = 160 bits (40 000 ps) and stores 64 (28 000); b and c 32 and 32 (24 000
 * each); d stores its 32-bit output (24 000). Without the off-chip link the first overflow is
 * an error naming the layer and both byte counts. */
START_TEST(test_chips_buffers_spill_by_hand)
{
    arch a;
    load("chips = 3;", &a);
    a.vector.sram_bytes = 16;
    network n;
    testload_net(chain_net, &n);
    policy pol;
    policy_uniform(&pol, &n, 4, 4);
    mapping m;
    err e;
    ck_assert(mapping_build(&n, &a, &pol, NULL, MAPPING_PLACE_PACKED, &m, &e) == 0);
    const uint64_t need[4] = {32, 24, 24, 16}, spill[4] = {16, 8, 8, 0};
    const simtime io[4] = {68000, 48000, 48000, 24000};
    model mo;
    model_evaluate(&n, &a, &m, &mo);
    for (unsigned i = 0; i < 4; i++) {
        mapping_buffer b = mapping_layer_buffer(&n, &a, &m, i);
        ck_assert_uint_eq(b.need, need[i]);
        ck_assert_uint_eq(b.have, 16);
        ck_assert_uint_eq(b.spill, spill[i]);
        ck_assert_uint_eq(mo.layers[i].t_io_ps, io[i]);
    }
    ck_assert_uint_eq(mo.spill_bytes, 32);
    ck_assert_uint_eq(mo.spill_layers, 3);
    program p;
    sim *s;
    exec *x = simulate_as_model(&a, &n, &m, &mo, &p, &s);
    exec_destroy(x);
    sim_destroy(s);
    program_fini(&p);
    model_fini(&mo);
    mapping_fini(&m);
    a.offchip.present = false;
    ck_assert_int_eq(mapping_build(&n, &a, &pol, NULL, MAPPING_PLACE_PACKED, &m, &e), ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "layer a needs 32 bytes of buffer") &&
                      strstr(e.msg, "its groups have 16") && strstr(e.msg, "arch.offchip"),
                  "%s", e.msg);
    policy_fini(&pol);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

/* linear 20 -> 4 at 4/4 bits: 5 row tiles, more than a chip's 4, so it spans chips 0 (tiles 0-3)
 * and 1 (tile 4). Every input vector goes out (20 x 4 = 80 bits) and the remote tile's share of
 * the partial sums comes back: 5 row tiles x 8 columns x 8 bits = 320 bits, 1 of 5 tiles: 64. One
 * transfer of 144 bits over 1 hop: 10 000 + 144 x 125 = 28 000 ps, 288 pJ. */
START_TEST(test_chips_layer_spans_chips)
{
    arch a;
    load("chips = 2;", &a);
    network n;
    testload_net("network = { name = \"wide\"; input = { features = 20; tokens = 1; };\n"
                 "  layers = ( { name = \"fc\"; type = \"linear\"; in_features = 20;\n"
                 "               out_features = 4; },\n"
                 "             { name = \"act\"; type = \"relu\"; } ); };\n",
                 &n);
    policy pol;
    policy_uniform(&pol, &n, 4, 4);
    mapping m;
    err e;
    ck_assert(mapping_build(&n, &a, &pol, NULL, MAPPING_PLACE_PACKED, &m, &e) == 0);
    ck_assert_uint_eq(m.chips_used, 2);
    mapping_route *r;
    ck_assert_uint_eq(mapping_layer_routes(&n, &a, &m, 0, &r), 1);
    ck_assert_uint_eq(r[0].chip_hops, 1);
    ck_assert_uint_eq(r[0].bits, 144);
    free(r);
    model mo;
    model_evaluate(&n, &a, &m, &mo);
    ck_assert_uint_eq(mo.layers[0].t_noc_ps, 28000);
    ck_assert_double_eq_tol(mo.layers[0].energy_pj[COST_E_INTERCHIP], 288.0, 1e-12);
    program p;
    emit_program(&n, &a, &m, &p);
    sim *s;
    exec *x = simulate(&a, &p, 1, &s);
    const exec_task_result *t = exec_task(x, 0);
    ck_assert_uint_eq(t->first_end_ps - t->first_start_ps, mo.layers[0].time_ps);
    exec_destroy(x);
    sim_destroy(s);
    program_fini(&p);
    model_fini(&mo);
    mapping_fini(&m);
    policy_fini(&pol);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

/* Static power over 1 us with 3 chips used: interchip 2 x (3 - 1) x 1 link ends x 5 uW = 20 pJ;
 * offchip 3 chips x 2 links x 3 uW = 18 pJ. One chip's area: 2 interchip ends x 7 = 14 um2 and
 * 2 off-chip links x 11 = 22 um2. The chain: chip 0 -> 1 is system link 0 (after the chips' 0
 * on-chip links), 1 -> 0 link 1; a route from chip 0 to chip 2 crosses links 0 and 2. */
START_TEST(test_chips_static_area_and_links)
{
    arch a;
    load("chips = 3;", &a);
    cost_usage u = {.chips = 3};
    double e[COST_E_COUNT] = {0};
    cost_static_energy(&a, &u, 1e6, e);
    ck_assert_double_eq_tol(e[COST_E_STATIC_INTERCHIP], 20.0, 1e-9);
    ck_assert_double_eq_tol(e[COST_E_STATIC_OFFCHIP], 18.0, 1e-9);
    double um2[COST_PART_COUNT];
    cost_chip_area_um2(&a, um2);
    ck_assert_double_eq_tol(um2[COST_PART_INTERCHIP], 14.0, 1e-12);
    ck_assert_double_eq_tol(um2[COST_PART_OFFCHIP], 22.0, 1e-12);
    ck_assert_uint_eq(topology_system_links(&a), 4);
    unsigned links[4], hops, chip_hops;
    topology_route(&a, 0, 5, &hops, &chip_hops); /* group 5 = chip 2's group 1 */
    ck_assert_uint_eq(hops, 0);
    ck_assert_uint_eq(chip_hops, 2);
    ck_assert_uint_eq(topology_system_path(&a, 0, 5, links, 4), 2);
    ck_assert_uint_eq(links[0], 0);
    ck_assert_uint_eq(links[1], 2);
    ck_assert_uint_eq(topology_system_path(&a, 5, 0, links, 4), 2);
    ck_assert_uint_eq(links[0], 3);
    ck_assert_uint_eq(links[1], 1);
    char name[32];
    topology_system_link_name(&a, 3, name, sizeof name);
    ck_assert_str_eq(name, "chip2-chip1");
    ck_assert_uint_eq(cost_xlink_transfer_ps(&a.interchip, 32, 2), 2 * 10000 + 4000);
    arch_fini(&a);
}
END_TEST

START_TEST(test_chips_bad_input)
{
    char *text = chips_arch("chips = 0;");
    testload_arch_refused(text, "chips.cfg", "chips.cfg:2: arch.chips", "found 0");
    free(text);
    text = chips_arch("chips = 2;");
    char *mode = strstr(text, "weight_stationary");
    memmove(mode + strlen("reprogram"), mode + strlen("weight_stationary"),
            strlen(mode + strlen("weight_stationary")) + 1);
    memcpy(mode, "reprogram", strlen("reprogram"));
    testload_arch_refused(text, "chips.cfg",
                          "chips.cfg:2: arch.chips: found 2 chips in reprogram mode", "");
    free(text);
    text = chips_arch("chips = 2;"); /* without its interchip group */
    char *at = strstr(text, "  interchip");
    char *end = strstr(at, "};\n") + 3;
    memmove(at, end, strlen(end) + 1);
    testload_arch_refused(text, "chips.cfg",
                          "chips.cfg:2: arch.chips: found 2 chips and no arch.interchip", "");
    free(text);
    text = chips_arch("chips = 2;");
    at = strstr(text, "gbytes_per_s = 1.0");
    memcpy(at + strlen("gbytes_per_s = "), "0.0", 3);
    testload_arch_refused(text, "chips.cfg", "chips.cfg:14: arch.interchip.gbytes_per_s: found 0",
                          "");
    free(text);
}
END_TEST

static Suite *chips_suite(void)
{
    Suite *s = suite_create("chips");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_chips_partition_by_hand);
    tcase_add_test(tc, test_chips_transfers_by_hand);
    tcase_add_test(tc, test_chips_layer_spans_chips);
    tcase_add_test(tc, test_chips_buffers_spill_by_hand);
    tcase_add_test(tc, test_chips_static_area_and_links);
    tcase_add_test(tc, test_chips_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(chips_suite());
}
