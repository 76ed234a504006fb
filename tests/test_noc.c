/* test_noc: the on-chip network -- group placement, hop counts and XY routes by hand on a 2 x 2
 * mesh, a ring and a bus; the transfer time and energy formula; two transfers sharing one link
 * (the second waits exactly the first's serialisation); a layer whose copies sit in two groups,
 * its T_noc, bit-hops and energy by hand, and the event simulation equal to it with overlap off;
 * bad arch.noc input with file:line.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "chip.h"
#include "cost.h"
#include "emit.h"
#include "exec.h"
#include "noclink.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "replication.h"
#include "testload.h"
#include "testutil.h"
#include "topology.h"

/* 8 tiles of 4 x 8 cells in 4 groups of 2 at 100 MHz (10 000 ps a cycle); a TOPOLOGY network with
 * 8-bit links, 3 cycles a hop, 0.5 pJ per bit and hop, routers of 10 uW and 100 um2. */
static char *tiny_arch(const char *topology)
{
    static const char fmt[] =
        "arch = {\n"
        "  name = \"tiny\"; mode = \"weight_stationary\"; clock_mhz = 100.0;\n"
        "  tiles = { count = 8; rows = 4; cols = 8; cell_bits = 2; rows_active = 4;\n"
        "    mapping = \"unsigned\"; psum_bits = 8;\n"
        "    dac = { bits = 1; latency_ns = 1.0; energy_pj = 0.5; };\n"
        "    adc = { count = 8; bits = 5; time_ns = 2.0; energy_pj = 1.0; };\n"
        "    crossbar = { read_latency_ns = 1.0; read_energy_pj = 0.25; };\n"
        "  };\n"
        "  groups = { tiles = 2;\n"
        "    in_bus = { lanes = 1; lane_bits = 8; cycles_per_transfer = 1; };\n"
        "    out_bus = { lanes = 1; lane_bits = 16; cycles_per_transfer = 1; };\n"
        "  };\n"
        "  vector = { count = 4; lanes = 2; cycles_per_op = 1; sram_bytes = 1024; };\n"
        "  noc = { %s link_bits = 8; router_cycles = 3; energy_pj_per_bit_hop = 0.5;\n"
        "          static_power_uw = 10.0; area_um2 = 100.0; };\n"
        "};\n";
    size_t n = sizeof fmt + strlen(topology);
    char *text = malloc(n);
    snprintf(text, n, fmt, topology);
    return text;
}

static void load(const char *topology, arch *a)
{
    char *text = tiny_arch(topology);
    testload_arch(text, a);
    free(text);
}

/* Snake order on 2 x 2: groups 0, 1 on row 0 (nodes 0, 1); group 2 on row 1 right (node 3),
 * group 3 on row 1 left (node 2). Links are 4 x node + (east 0, west 1, south 2, north 3). */
START_TEST(test_noc_mesh_routes_by_hand)
{
    arch a;
    load("topology = \"mesh\"; rows = 2; cols = 2;", &a);
    const arch_noc *n = &a.noc;
    ck_assert_uint_eq(topology_node(n, 2), 3);
    ck_assert_uint_eq(topology_node(n, 3), 2);
    ck_assert_uint_eq(topology_links(n), 16);
    ck_assert_uint_eq(topology_max_hops(n), 2);
    ck_assert_uint_eq(topology_hops(n, 0, 0), 0);
    ck_assert_uint_eq(topology_hops(n, 0, 1), 1);
    ck_assert_uint_eq(topology_hops(n, 1, 2), 1); /* consecutive groups: neighbours */
    ck_assert_uint_eq(topology_hops(n, 2, 3), 1);
    ck_assert_uint_eq(topology_hops(n, 0, 2), 2);
    ck_assert_uint_eq(topology_hops(n, 1, 3), 2);
    unsigned path[2];
    /* 0 -> 2: r0c0 east (link 0), then r0c1 south (4 + 2 = 6): X before Y. */
    ck_assert_uint_eq(topology_path(n, 0, 2, path, 2), 2);
    ck_assert_uint_eq(path[0], 0);
    ck_assert_uint_eq(path[1], 6);
    /* 2 -> 0 (node 3 -> node 0): r1c1 west (12 + 1 = 13), then r1c0 north (8 + 3 = 11). */
    ck_assert_uint_eq(topology_path(n, 2, 0, path, 2), 2);
    ck_assert_uint_eq(path[0], 13);
    ck_assert_uint_eq(path[1], 11);
    char name[32];
    topology_link_name(n, 13, name, sizeof name);
    ck_assert_str_eq(name, "noc.r1c1.west");
    /* 20 bits over 2 hops: 2 x 3 cycles + ceil(20 / 8) = 3 cycles = 9 cycles; 20 x 2 x 0.5 pJ. */
    ck_assert_uint_eq(cost_noc_transfer_ps(&a, 20, 2), 90000);
    ck_assert_double_eq_tol(cost_noc_energy_pj(&a, 20, 2), 20.0, 1e-12);
    ck_assert_uint_eq(cost_noc_transfer_ps(&a, 20, 0), 0);
    /* 4 routers: static 40 uW, area 400 um2. */
    double um2[COST_PART_COUNT];
    cost_chip_area_um2(&a, um2);
    ck_assert_double_eq_tol(um2[COST_PART_NOC], 400.0, 1e-12);
    cost_usage u = {.chips = 1};
    double e[COST_E_COUNT] = {0};
    cost_static_energy(&a, &u, 1e6, e); /* 1 us: 40 uW x 1 us = 40 pJ */
    ck_assert_double_eq_tol(e[COST_E_STATIC_NOC], 40.0, 1e-9);
    arch_fini(&a);
}
END_TEST

/* A ring of 4 routers takes the shorter way (ties clockwise); a bus is one hop. */
START_TEST(test_noc_ring_and_bus)
{
    arch a;
    load("topology = \"ring\";", &a);
    ck_assert_uint_eq(a.noc.cols, 4);
    ck_assert_uint_eq(topology_hops(&a.noc, 0, 3), 1); /* counter-clockwise */
    ck_assert_uint_eq(topology_hops(&a.noc, 0, 2), 2); /* a tie: clockwise */
    unsigned path[2];
    ck_assert_uint_eq(topology_path(&a.noc, 0, 3, path, 2), 1);
    ck_assert_uint_eq(path[0], 1); /* node 0, ccw */
    ck_assert_uint_eq(topology_path(&a.noc, 0, 2, path, 2), 2);
    ck_assert_uint_eq(path[0], 0); /* node 0, cw */
    ck_assert_uint_eq(path[1], 2); /* node 1, cw */
    arch_fini(&a);
    load("topology = \"bus\";", &a);
    ck_assert_uint_eq(topology_hops(&a.noc, 3, 0), 1);
    ck_assert_uint_eq(topology_links(&a.noc), 1);
    ck_assert_uint_eq(arch_noc_routers(&a), 1);
    arch_fini(&a);
}
END_TEST

/* Two 20-bit hops arrive together on one link: 3 cycles of serialisation each, so the second
 * starts exactly 30 000 ps later; the head reaches the next router 3 cycles after its start, and
 * a last hop's tail 3 cycles after that. */
START_TEST(test_noc_shared_link_waits)
{
    arch a;
    load("topology = \"mesh\"; rows = 2; cols = 2;", &a);
    sim_options so;
    sim_options_default(&so);
    sim *s = sim_create(&so);
    noclink *l = (noclink *)chip_component_create(s, CHIP_LINK, "l", &a, NULL);
    part_reply none = part_reply_none();
    resource_grant g1 = noclink_hop(l, 20, false, &none);
    resource_grant g2 = noclink_hop(l, 20, true, &none);
    ck_assert_uint_eq(g1.start, 0);
    ck_assert_uint_eq(g1.end, 30000);
    ck_assert_uint_eq(g2.start, 30000);
    ck_assert_uint_eq(g2.end, 60000);
    sim_run(s);
    sim_finish(s);
    part_account acc;
    ck_assert(chip_component_account(&l->base, &acc));
    ck_assert_double_eq_tol(acc.dynamic_pj[COST_E_NOC], 20.0, 1e-12); /* 2 x 20 bits x 0.5 */
    sim_destroy(s);
    arch_fini(&a);
}
END_TEST

/* linear 4 -> 4 over 4 tokens with 4 copies of 1 tile each (4-bit weights: 2 slices x 4 columns
 * = 8 columns): copies 0, 1 in group 0, copies 2, 3 in group 1. The relu runs in group 0 (its
 * input's copy 0), so copies 2 and 3 send each output vector (4 bytes = 32 bits) one hop, 1 -> 0:
 * T_noc = 3 + ceil(32 / 8) = 7 cycles = 70 000 ps per vector, on 1 vector each. The layer's time
 * grows by 70 000 ps; bit-hops 2 x 32 = 64; energy 64 x 0.5 = 32 pJ. */
START_TEST(test_noc_copies_in_two_groups)
{
    arch a;
    load("topology = \"mesh\"; rows = 2; cols = 2;", &a);
    network n;
    testload_net("network = { name = \"t\"; input = { features = 4; tokens = 4; };\n"
                 "  layers = ( { name = \"fc\"; type = \"linear\"; in_features = 4;\n"
                 "               out_features = 4; tokens = 4; },\n"
                 "             { name = \"act\"; type = \"relu\"; } ); };\n",
                 &n);
    policy pol;
    policy_uniform(&pol, &n, 4, 4);
    unsigned copies[1] = {4};
    mapping m, m1;
    err e;
    ck_assert_msg(mapping_build(&n, &a, &pol, copies, MAPPING_PLACE_PACKED, &m, &e) == 0, "%s",
                  e.msg);
    ck_assert_uint_eq(mapping_layer_group(&n, &a, &m, 0, 2), 1);
    ck_assert_uint_eq(mapping_layer_group(&n, &a, &m, 1, 0), 0);
    model mo, mo1;
    model_evaluate(&n, &a, &m, &mo);
    ck_assert_uint_eq(mo.layers[0].t_noc_ps, 70000);
    ck_assert_uint_eq(mo.layers[0].noc_bit_hops, 64);
    ck_assert_double_eq_tol(mo.layers[0].energy_pj[COST_E_NOC], 32.0, 1e-12);
    ck_assert_uint_eq(mo.layers[1].t_noc_ps, 0);
    /* The same mapping without the network: 70 000 ps less. */
    arch free_noc = a;
    free_noc.noc.topology = ARCH_NOC_NONE;
    ck_assert(mapping_build(&n, &free_noc, &pol, copies, MAPPING_PLACE_PACKED, &m1, &e) == 0);
    model_evaluate(&n, &free_noc, &m1, &mo1);
    ck_assert_uint_eq(mo.layers[0].time_ps, mo1.layers[0].time_ps + 70000);
    ck_assert_uint_eq(mo.noc_ps, 70000);
    /* The event simulation with overlap off: the same layer times and network energy. */
    program p;
    emit_program(&n, &a, &m, &p);
    ck_assert_uint_eq(p.tasks[0].n_routes, 2);
    sim_options so;
    sim_options_default(&so);
    sim *s = sim_create(&so);
    exec_options xo = {.inferences = 2, .overlap = false};
    exec *x = exec_create(s, &a, &p, &xo);
    exec_start(x);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    sim_finish(s);
    const exec_task_result *t = exec_task(x, 0);
    ck_assert_uint_eq(t->first_end_ps - t->first_start_ps, mo.layers[0].time_ps);
    ck_assert_double_eq_tol(t->energy_pj[COST_E_NOC], 32.0, 1e-12);
    double dyn[COST_E_COUNT];
    exec_dynamic_energy(x, dyn);
    ck_assert_double_eq_tol(dyn[COST_E_NOC], 2 * 32.0, 1e-9); /* two inferences */
    ck_assert_uint_eq(sim_now(s), 2 * mo.latency_ps);
    exec_destroy(x);
    sim_destroy(s);
    program_fini(&p);
    model_fini(&mo1);
    model_fini(&mo);
    mapping_fini(&m1);
    mapping_fini(&m);
    policy_fini(&pol);
    network_fini(&n);
    arch_fini(&a);
}
END_TEST

static void expect_error(const char *topology, const char *p1, const char *p2)
{
    char *text = tiny_arch(topology);
    testload_arch_refused(text, "small.cfg", p1, p2);
    free(text);
}

START_TEST(test_noc_bad_input)
{
    expect_error("topology = \"mesh\"; rows = 1; cols = 2;", "small.cfg:14: arch.noc.cols",
                 "found a mesh of 1 x 2 = 2 routers, expected at least one per group (4 groups)");
    expect_error("topology = \"torus\";", "small.cfg:14: arch.noc.topology",
                 "found \"torus\", expected one of: mesh, ring, bus");
    expect_error("topology = \"ring\"; rows = 2;", "arch.noc.rows",
                 "expected none (only a mesh has rows and columns)");
    char *text = tiny_arch("topology = \"bus\";");
    char *at = strstr(text, "link_bits = 8");
    at[strlen("link_bits = ")] = '0';
    testload_arch_refused(text, "small.cfg", "small.cfg:14: arch.noc.link_bits: found 0", "");
    free(text);
}
END_TEST

static Suite *noc_suite(void)
{
    Suite *s = suite_create("noc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_noc_mesh_routes_by_hand);
    tcase_add_test(tc, test_noc_ring_and_bus);
    tcase_add_test(tc, test_noc_shared_link_waits);
    tcase_add_test(tc, test_noc_copies_in_two_groups);
    tcase_add_test(tc, test_noc_bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(noc_suite());
}
