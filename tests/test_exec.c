/* test_exec: the chip executing a mapped network on the engine. With overlap off every layer's
 * simulated time equals the analytic model's to the tick, for every built-in network on every
 * preset; CIM-AQ's published ResNet-18 latency comes out of the event simulation; a pipelined
 * layer matches a hand-derived recurrence; energy is conserved between tasks, components and
 * trace records; runs are deterministic. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "emit.h"
#include "exec.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "replication.h"
#include "sim.h"
#include "testload.h"
#include "testutil.h"
#include "trace.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* A small chip (as in test_model): 8x8 tiles, 2-bit cells, 2 rows active, 2 ADCs of 1 cycle,
 * 100 MHz (10 000 ps a cycle), 2-lane 4-bit input bus, 1-lane 8-bit output bus, one vector module
 * of 2 lanes at 1 cycle per op, psums of 8 bits; groups of 4 tiles. */
static const char *const small_arch =
    "arch = {\n"
    "  name = \"small\"; mode = \"weight_stationary\"; clock_mhz = 100.0;\n"
    "  tiles = { count = 64; rows = 8; cols = 8; cell_bits = 2; rows_active = 2;\n"
    "    mapping = \"unsigned\"; psum_bits = 8; crossbar = { static_power_uw = 10.0; };\n"
    "    dac = { bits = 1; };\n"
    "    adc = { count = 2; bits = 4; time_cycles = 1; energy_pj = 0.5; };\n"
    "  };\n"
    "  groups = { tiles = 4;\n"
    "    in_bus = { lanes = 2; lane_bits = 4; cycles_per_transfer = 1; energy_pj_per_bit = 0.1; "
    "};\n"
    "    out_bus = { lanes = 1; lane_bits = 8; cycles_per_transfer = 1; energy_pj_per_bit = 0.2; "
    "};\n"
    "  };\n"
    "  vector = { count = 16; lanes = 2; cycles_per_op = 1; sram_bytes = 1024; op_energy_pj = 1.0; "
    "};\n"
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

typedef struct run {
    arch a;
    network n;
    mapping m;
    model mo;
    program p;
    sim *s;
    exec *x;
    trace_sink *trace;
    simtime makespan; /* ps */
} run;

/* Map (uniform wb/ab, replication spec) on `chips` chips (0: as the arch says), price and
 * simulate. Returns 0, or -1 when the network does not fit (nothing left to free then). */
static int run_start_chips(run *r, const char *arch_text, unsigned chips, const arch_noc *noc,
                           const char *net, unsigned bits, const char *replication,
                           uint64_t inferences, bool overlap, trace_level level)
{
    memset(r, 0, sizeof *r);
    testload_arch(arch_text, &r->a);
    if (chips) {
        ck_assert(r->a.interchip.present);
        r->a.chips = chips;
    }
    if (noc)
        r->a.noc = *noc;
    testload_net(net, &r->n);
    policy pol;
    policy_uniform(&pol, &r->n, bits, bits);
    unsigned *copies = NULL;
    err e;
    ck_assert_msg(replication_from_spec(replication, &r->n, &copies, &e) == 0, "%s", e.msg);
    int rc = mapping_build(&r->n, &r->a, &pol, copies, MAPPING_PLACE_GROUPS, &r->m, &e);
    free(copies);
    policy_fini(&pol);
    if (rc < 0) {
        network_fini(&r->n);
        arch_fini(&r->a);
        return -1;
    }
    model_evaluate(&r->n, &r->a, &r->m, &r->mo);
    emit_program(&r->n, &r->a, &r->m, &r->p);
    sim_options so;
    sim_options_default(&so);
    if (level != TRACE_NONE)
        r->trace = trace_memory_create(level);
    so.trace = r->trace;
    r->s = sim_create(&so);
    exec_options xo = {.inferences = inferences, .overlap = overlap};
    r->x = exec_create(r->s, &r->a, &r->p, &xo);
    exec_start(r->x);
    ck_assert_int_eq(sim_run(r->s), SIM_EMPTY);
    r->makespan = sim_now(r->s);
    sim_finish(r->s);
    ck_assert_uint_eq(exec_inferences_done(r->x), inferences);
    return 0;
}

static int run_start(run *r, const char *arch_text, const char *net, unsigned bits,
                     const char *replication, uint64_t inferences, bool overlap, trace_level level)
{
    return run_start_chips(r, arch_text, 0, NULL, net, bits, replication, inferences, overlap,
                           level);
}

static void run_end(run *r)
{
    exec_destroy(r->x);
    sim_destroy(r->s);
    trace_destroy(r->trace);
    program_fini(&r->p);
    model_fini(&r->mo);
    mapping_fini(&r->m);
    network_fini(&r->n);
    arch_fini(&r->a);
}

static double rel_diff(double a, double b)
{
    double m = a > b ? a : b;
    if (m < 0)
        m = -m;
    double d = a - b;
    if (d < 0)
        d = -d;
    return m > 0 ? d / m : 0.0;
}

/* With overlap off: every layer of every inference takes exactly T_l, inference i runs in
 * [i x latency, (i + 1) x latency), and the energy per inference by category equals the model's. */
static void check_identity(run *r, uint64_t inferences)
{
    for (unsigned i = 0; i < r->p.n; i++) {
        const exec_task_result *t = exec_task(r->x, i);
        simtime want = r->mo.layers[i].time_ps;
        ck_assert_msg(t->first_end_ps - t->first_start_ps == want,
                      "%s on %s, layer %s: simulated %llu ps, model %llu ps", r->n.name, r->a.name,
                      r->p.tasks[i].name, (unsigned long long)(t->first_end_ps - t->first_start_ps),
                      (unsigned long long)want);
        ck_assert_uint_eq(t->max_time_ps, want);
        for (int c = 0; c < COST_E_COUNT; c++)
            ck_assert_msg(rel_diff(t->energy_pj[c], r->mo.layers[i].energy_pj[c]) < 1e-12,
                          "%s layer %s energy %s: %g vs model %g", r->n.name, r->p.tasks[i].name,
                          cost_category_name((cost_category)c), t->energy_pj[c],
                          r->mo.layers[i].energy_pj[c]);
    }
    for (uint64_t i = 0; i < inferences; i++) {
        ck_assert_uint_eq(exec_inference_start(r->x, i), i * r->mo.latency_ps);
        ck_assert_uint_eq(exec_inference_end(r->x, i), (i + 1) * r->mo.latency_ps);
    }
    ck_assert_uint_eq(r->makespan, inferences * r->mo.latency_ps);
    /* What is powered and how long it is busy: measured by the simulation, worked out by the
     * model. Busy times are sums of whole-ps durations, exact in a double below 2^53. */
    cost_usage u = exec_usage(r->x);
    ck_assert_uint_eq(u.tiles, r->mo.usage.tiles);
    ck_assert_uint_eq(u.groups, r->mo.usage.groups);
    ck_assert_uint_eq(u.chips, r->mo.usage.chips);
    ck_assert_msg(rel_diff(u.tile_busy_ps, r->mo.usage.tile_busy_ps) < 1e-12,
                  "%s on %s: tile busy %.17g vs model %.17g", r->n.name, r->a.name, u.tile_busy_ps,
                  r->mo.usage.tile_busy_ps);
    ck_assert_msg(rel_diff(u.lane_busy_ps, r->mo.usage.lane_busy_ps) < 1e-12,
                  "%s on %s: lane busy %.17g vs model %.17g", r->n.name, r->a.name, u.lane_busy_ps,
                  r->mo.usage.lane_busy_ps);
    /* Energies by category on both time bases: single (the simulated latency of inference 0)
     * and steady (the model's period: with overlap off the simulation does not pipeline, so its
     * own period is its latency; the time base is what the two must share). */
    double dyn[COST_E_COUNT], single[COST_E_COUNT], steady[COST_E_COUNT];
    exec_dynamic_energy(r->x, dyn);
    for (int c = 0; c < COST_E_COUNT; c++)
        single[c] = steady[c] = dyn[c] / (double)inferences;
    simtime lat0 = exec_inference_end(r->x, 0) - exec_inference_start(r->x, 0);
    cost_static_energy(&r->a, &u, (double)lat0, single);
    cost_static_energy(&r->a, &u, (double)r->mo.bottleneck_ps, steady);
    for (int c = 0; c < COST_E_COUNT; c++) {
        ck_assert_msg(rel_diff(single[c], r->mo.energy_single_pj[c]) < 1e-9,
                      "%s on %s: single energy %s %.12g, model %.12g", r->n.name, r->a.name,
                      cost_category_name((cost_category)c), single[c], r->mo.energy_single_pj[c]);
        ck_assert_msg(rel_diff(steady[c], r->mo.energy_steady_pj[c]) < 1e-9,
                      "%s on %s: steady energy %s %.12g, model %.12g", r->n.name, r->a.name,
                      cost_category_name((cost_category)c), steady[c], r->mo.energy_steady_pj[c]);
    }
}

static const char *const presets[] = {"lrmp", "chang2022", "cimaq", "puma", "isaac"};
static const char *const networks[] = {"mlp-lrmp", "lenet5", "resnet18", "resnet34",    "resnet50",
                                       "vgg11",    "vgg16",  "vit_b32",  "mobilenet_v2"};

START_TEST(test_exec_identity_every_network_and_preset)
{
    /* _i indexes the preset; every network on it, 2 inferences, overlap off. */
    const char *preset = presets[_i];
    unsigned ran = 0;
    for (size_t k = 0; k < sizeof networks / sizeof networks[0]; k++) {
        run r;
        if (run_start(&r, preset, networks[k], 8, "none", 2, false, TRACE_NONE) < 0)
            continue; /* does not fit this chip (test_cli checks the refusal) */
        check_identity(&r, 2);
        run_end(&r);
        ran++;
    }
    ck_assert_uint_ge(ran, 1); /* chang2022 (288 tiles) holds only the smallest */
}
END_TEST

START_TEST(test_exec_identity_with_copies)
{
    run r;
    ck_assert_int_eq(
        run_start(&r, "lrmp", "resnet18", 8, "conv1=14,layer1.0.conv1=3", 2, false, TRACE_NONE), 0);
    check_identity(&r, 2);
    run_end(&r);
    ck_assert_int_eq(run_start(&r, "lrmp", "resnet18", 4, "conv1=5", 1, false, TRACE_NONE), 0);
    check_identity(&r, 1);
    run_end(&r);
    /* isaac has a mesh: copies in several groups each send their outputs their own way. */
    ck_assert_int_eq(
        run_start(&r, "isaac", "resnet18", 8, "conv1=40,layer1.0.conv1=9", 2, false, TRACE_NONE),
        0);
    ck_assert_uint_gt(r.mo.noc_bit_hops, 0);
    check_identity(&r, 2);
    run_end(&r);
}
END_TEST

/* The networks larger than lrmp's chip, on a chain of lrmp chips (its interchip link): the fewest
 * chips hold them (as many as `xbarsim map lrmp --net NET --set arch.chips=4` reports), and the
 * simulation equals the model with overlap off; VGG-16's first linear layer (12 544 tiles) spans
 * chips. ResNet-18 with copies on 2 chips sends activations across. */
START_TEST(test_exec_identity_multichip)
{
    static const struct {
        const char *net;
        const char *replication;
        unsigned chips_needed;
    } cases[] = {{"vgg16", "none", 3},
                 {"vgg11", "none", 3},
                 {"vit_b32", "none", 3},
                 {"resnet18", "conv1=40,layer1.0.conv1=20,layer4.0.conv2=8,layer4.1.conv2=8", 2}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        run r;
        ck_assert_int_eq(run_start_chips(&r, "lrmp", 4, NULL, cases[k].net, 8, cases[k].replication,
                                         2, false, TRACE_NONE),
                         0);
        ck_assert_msg(r.m.chips_used == cases[k].chips_needed, "%s: %u chips", cases[k].net,
                      r.m.chips_used);
        /* never fewer than the tiles alone need (test_chips checks the fewest by hand) */
        ck_assert_uint_ge(r.m.chips_used, (r.m.tiles_used + r.a.tiles.count - 1) / r.a.tiles.count);
        ck_assert_uint_gt(r.mo.interchip_bit_hops, 0);
        check_identity(&r, 2);
        run_end(&r);
    }
    /* Each chip with its own 5 x 8 mesh (configs/sweep/lrmp_noc.cfg's): routes on chip 1's mesh
     * and between chips in one program. */
    const arch_noc mesh = {.topology = ARCH_NOC_MESH,
                           .rows = 5,
                           .cols = 8,
                           .link_bits = 32,
                           .router_cycles = 2,
                           .energy_pj_per_bit_hop = 0.126015625,
                           .router_static_power_uw = 410.0};
    run r;
    ck_assert_int_eq(run_start_chips(&r, "lrmp", 4, &mesh, "resnet18", 8,
                                     "conv1=40,layer1.0.conv1=20,layer4.0.conv2=8,layer4.1.conv2=8",
                                     2, false, TRACE_NONE),
                     0);
    ck_assert_uint_eq(r.m.chips_used, 2);
    ck_assert_uint_gt(r.mo.noc_bit_hops, 0);
    ck_assert_uint_gt(r.mo.interchip_bit_hops, 0);
    check_identity(&r, 2);
    run_end(&r);
}
END_TEST

/* CIM-AQ's ResNet-18 at 8/8 on one crossbar: 1 507 464.0 us (REFERENCE.md section 2), here from
 * the event simulation of every write and execute. */
START_TEST(test_exec_cimaq_reference_latency)
{
    run r;
    ck_assert_int_eq(run_start(&r, "cimaq", "resnet18", 8, "none", 1, false, TRACE_NONE), 0);
    ck_assert_uint_eq(exec_inference_end(r.x, 0), 1507464000000ull); /* ps */
    run_end(&r);
}
END_TEST

/* The tiny net with overlap on: fc's 3 vectors pipeline through its 4 stages. Per vector (by
 * hand, small arch): T_in = 12 x 8 bits = 24 words of 4 bits over 2 lanes = 12 cycles; the tile
 * (12 rows -> 2 row tiles of 8 + 4 rows, 5 x 4 slices = 20 columns -> 3 col tiles) ... the stage
 * times are taken from the model, and the pipeline schedule from the recurrence
 *   issue[s][v] = max(done[s-1][v], done[s][v-1], issue[s+1][v-1]),  done = issue + d[s],
 * (one request per stage in flight, one vector buffered between stages) computed here. */
START_TEST(test_exec_pipeline_matches_recurrence)
{
    run r;
    ck_assert_int_eq(run_start(&r, small_arch, small_net, 8, "none", 1, true, TRACE_NONE), 0);
    const model_layer *ml = &r.mo.layers[0];
    simtime d[4] = {ml->t_in_ps, ml->t_tile_ps, ml->t_out_ps, ml->t_d_ps};
    ck_assert_uint_eq(d[0], 12 * 10000);
    simtime issue[4][3], done[4][3];
    for (int v = 0; v < 3; v++)
        for (int s = 0; s < 4; s++) {
            simtime t = s ? done[s - 1][v] : 0;
            if (v && done[s][v - 1] > t)
                t = done[s][v - 1];
            if (v && s < 3 && issue[s + 1][v - 1] > t)
                t = issue[s + 1][v - 1];
            issue[s][v] = t;
            done[s][v] = t + d[s];
        }
    const exec_task_result *fc = exec_task(r.x, 0);
    ck_assert_uint_eq(fc->first_start_ps, 0);
    ck_assert_uint_eq(fc->first_end_ps, done[3][2]);
    ck_assert_uint_lt(fc->first_end_ps, ml->time_ps); /* overlap helps */
    /* The relu starts when fc is done and runs its 15 elements on 2 lanes: 8 cycles. */
    const exec_task_result *act = exec_task(r.x, 1);
    ck_assert_uint_eq(act->first_start_ps, done[3][2]);
    ck_assert_uint_eq(act->first_end_ps - act->first_start_ps, 8 * 10000);
    run_end(&r);
}
END_TEST

/* Two copies of fc in one group share its buses with overlap on: the layer takes longer than the
 * model's ceil(P / r) x stage time says, and the shared input bus reports waiting. */
START_TEST(test_exec_contention_on_shared_bus)
{
    run r;
    ck_assert_int_eq(run_start(&r, small_arch, small_net, 8, "fc=3", 1, true, TRACE_NONE), 0);
    ck_assert_uint_eq(r.p.tasks[0].copies, 3);
    /* 6 tiles a copy on groups of 4: the copies straddle groups, so they are placed at group
     * starts and every copy's first group differs. Check what the placement did, then that
     * copies in the same group (if any) wait. */
    run_end(&r);
    ck_assert_int_eq(run_start(&r, "lrmp", "resnet18", 8, "conv1=4", 1, true, TRACE_NONE), 0);
    /* conv1: 2 tiles a copy, all 4 copies in group 0, sharing g0's buses and vm0. */
    const exec_task_result *c1 = exec_task(r.x, 0);
    simtime sim_t = c1->first_end_ps - c1->first_start_ps;
    ck_assert_uint_gt(sim_t, 0);
    unsigned found = 0;
    for (uint32_t id = 0; id < sim_component_count(r.s); id++) {
        component *c = sim_component(r.s, id);
        if (strcmp(c->name, "g0.in_bus") == 0) {
            long k = stats_find(&c->stats, "wait_total_ps");
            ck_assert_int_ge(k, 0);
            ck_assert_double_gt(stats_at(&c->stats, (size_t)k)->sum, 0.0);
            found++;
        }
    }
    ck_assert_uint_eq(found, 1);
    run_end(&r);
}
END_TEST

/* Steady-state energy per inference = dynamic / N + static power over the measured period
 * (exec_steady_period_ps, the second half of the inferences). It must not depend on N once the
 * window is past the fill: LeNet-5 on lrmp with overlap, 20 and 40 inferences agree to 1e-3.
 * (The pipeline of this mapping is not exactly periodic: the measured period drifts by 3e-5
 * between 20 and 40 inferences, hence the tolerance. The former base, makespan / N, changed the
 * energy by a factor 2.8 between 1 and 20 inferences.) */
static double steady_energy(uint64_t inferences)
{
    run r;
    ck_assert_int_eq(run_start(&r, "lrmp", "lenet5", 8, "none", inferences, true, TRACE_NONE), 0);
    double e[COST_E_COUNT];
    exec_dynamic_energy(r.x, e);
    for (int c = 0; c < COST_E_COUNT; c++)
        e[c] /= (double)inferences;
    uint64_t first;
    double period = exec_steady_period_ps(r.x, &first);
    ck_assert_uint_eq(first, inferences / 2);
    cost_usage u = exec_usage(r.x);
    cost_static_energy(&r.a, &u, period, e);
    ck_assert_double_gt(cost_static_total(e), 0.0);
    run_end(&r);
    return cost_total(e);
}

START_TEST(test_exec_steady_energy_independent_of_n)
{
    double e20 = steady_energy(20), e40 = steady_energy(40);
    ck_assert_msg(rel_diff(e20, e40) < 1e-3, "steady energy %.9g (N=20) vs %.9g (N=40)", e20, e40);
}
END_TEST

/* Energy is conserved: the vector-level trace, the layer-level records, the tasks' per-inference
 * figures and the components' charges all give the same dynamic total. */
START_TEST(test_exec_energy_conserved)
{
    run r;
    ck_assert_int_eq(run_start(&r, "lrmp", "lenet5", 6, "none", 3, true, TRACE_VECTOR), 0);
    double by_vector = 0, by_layer = 0;
    for (size_t i = 0; i < trace_memory_count(r.trace); i++) {
        const trace_record *t = trace_memory_at(r.trace, i);
        ck_assert_uint_le(t->t0, t->t1);
        if (t->kind == PART_ACT_LAYER)
            by_layer += t->energy_pj;
        else
            by_vector += t->energy_pj;
    }
    double tasks = 0;
    for (unsigned i = 0; i < r.p.n; i++)
        for (int c = 0; c < COST_E_COUNT; c++)
            tasks += exec_task(r.x, i)->energy_pj[c] * 3;
    double e[COST_E_COUNT];
    exec_dynamic_energy(r.x, e);
    double comps = cost_total(e);
    ck_assert_double_eq(cost_static_total(e), 0.0);
    ck_assert_double_gt(comps, 0);
    ck_assert_msg(rel_diff(by_vector, comps) < 1e-9, "vector %g components %g", by_vector, comps);
    ck_assert_msg(rel_diff(by_layer, comps) < 1e-9, "layer %g components %g", by_layer, comps);
    ck_assert_msg(rel_diff(tasks, comps) < 1e-9, "tasks %g components %g", tasks, comps);
    run_end(&r);
}
END_TEST

/* Same inputs, same records, bit for bit; and the pipelined stream beats one at a time. */
START_TEST(test_exec_deterministic)
{
    run a, b;
    ck_assert_int_eq(run_start(&a, "lrmp", "resnet18", 8, "conv1=3", 3, true, TRACE_VECTOR), 0);
    ck_assert_int_eq(run_start(&b, "lrmp", "resnet18", 8, "conv1=3", 3, true, TRACE_VECTOR), 0);
    ck_assert_uint_eq(trace_memory_count(a.trace), trace_memory_count(b.trace));
    for (size_t i = 0; i < trace_memory_count(a.trace); i++)
        ck_assert(trace_record_same(trace_memory_at(a.trace, i), trace_memory_at(b.trace, i)));
    ck_assert_uint_eq(a.makespan, b.makespan);
    ck_assert_uint_lt(a.makespan, 3 * a.mo.latency_ps);
    run_end(&a);
    run_end(&b);
}
END_TEST

static Suite *exec_suite(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_exec_identity_every_network_and_preset, 0,
                        (int)(sizeof presets / sizeof presets[0]));
    tcase_add_test(tc, test_exec_identity_with_copies);
    tcase_add_test(tc, test_exec_identity_multichip);
    tcase_add_test(tc, test_exec_cimaq_reference_latency);
    tcase_add_test(tc, test_exec_pipeline_matches_recurrence);
    tcase_add_test(tc, test_exec_contention_on_shared_bus);
    tcase_add_test(tc, test_exec_energy_conserved);
    tcase_add_test(tc, test_exec_steady_energy_independent_of_n);
    tcase_add_test(tc, test_exec_deterministic);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(exec_suite());
}
