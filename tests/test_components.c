/* test_components: the chip's components (tile, bus, vector module, registry) on the engine.
 * The chip is built by hand here (no config loader). Every expected time, count and energy is
 * worked out by hand in the comments from the parameters of small_arch(), never copied from the
 * code's output. Energies use dyadic fractions where possible so sums are exact.
 */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "chip.h"
#include "cost.h"
#include "sim.h"
#include "testutil.h"
#include "tile.h"
#include "trace.h"
#include "vecmod.h"

#define NS UINT64_C(1000) /* ps per ns */

/* ---- the hand-built chip -------------------------------------------------------------------- */

/* A 4x4 crossbar, 2-bit cells, 2 rows active, 1-bit DAC (1 ns, 0.125 pJ per row per step), read
 * 2 ns and 0.25 pJ per column read, 2 ADCs of 3 ns per conversion at any bits and 0.5 + 0.5 b pJ
 * (2.5 pJ at 4 bits), shift-add 0.5 pJ; write 100 ns per tile and 1.5 pJ per cell; static 100 uW,
 * gated 10 uW. Clock 1 GHz (1000 ps). In bus: 4 lanes x 8 bits, 2 cycles (2000 ps) per word,
 * 0.0625 pJ/bit. Out bus: 1 lane x 16 bits, 1 cycle (1000 ps) per word, 0.125 pJ/bit. Vector
 * module: 4 lanes, 3 cycles (3000 ps) per op, 0.0625 pJ per op, SRAM 0.25 pJ/B read, 0.375 pJ/B
 * written, SRAM leakage 125 uW. */
static arch small_arch(arch_mapping mapping)
{
    arch a;
    memset(&a, 0, sizeof a);
    a.origin = NULL;
    a.name = NULL;
    a.mode = ARCH_MODE_WEIGHT_STATIONARY;
    a.clock_mhz = 1000.0;
    a.cycle_ps = 1000;

    a.tiles.count = 2;
    a.tiles.rows = 4;
    a.tiles.cols = 4;
    a.tiles.cell_bits = 2;
    a.tiles.rows_active = 2;
    a.tiles.mapping = mapping;
    a.tiles.crossbar.static_power_uw = 100.0; /* the whole tile's static power, in one part */
    a.power_gating = false;
    a.gated_fraction = 0.1; /* 10 uW when gated */
    a.tiles.psum_bits = 8;
    a.tiles.shift_add.count = 1;
    a.tiles.shift_add.energy_pj = 0.5;
    a.tiles.dac.bits = 1;
    a.tiles.dac.latency_ns = 1.0;
    a.tiles.dac.energy_pj.kind = ARCH_BITS_VALUE;
    a.tiles.dac.energy_pj.value = 0.125;
    a.tiles.adc.count = 2;
    a.tiles.adc.bits = 4;
    a.tiles.adc.strict_bits = false;
    a.tiles.adc.time_ns.kind = ARCH_BITS_VALUE;
    a.tiles.adc.time_ns.value = 3.0;
    a.tiles.adc.energy_pj.kind = ARCH_BITS_LINEAR;
    a.tiles.adc.energy_pj.c0 = 0.5;
    a.tiles.adc.energy_pj.c1 = 0.5;
    a.tiles.crossbar.read_latency_ns = 2.0;
    a.tiles.crossbar.read_energy_pj = 0.25;
    a.tiles.crossbar.execute_ns_per_bit = 0.0;
    a.tiles.crossbar.write_ns_per_tile = 100.0;
    a.tiles.crossbar.write_energy_pj_per_cell = 1.5;

    a.groups.tiles = 2;
    a.groups.in_bus = (arch_bus){
        .lanes = 4, .lane_bits = 8, .cycles_per_transfer = 2, .energy_pj_per_bit = 0.0625};
    a.groups.out_bus = (arch_bus){
        .lanes = 1, .lane_bits = 16, .cycles_per_transfer = 1, .energy_pj_per_bit = 0.125};

    a.vector.count = 1;
    a.vector.lanes = 4;
    a.vector.cycles_per_op = 3;
    a.vector.sram_bytes = 4096;
    a.vector.sram_read_pj_per_byte = 0.25;
    a.vector.sram_write_pj_per_byte = 0.375;
    a.vector.sram_leakage_uw_per_kib = 31.25; /* 125 uW for the 4 KiB */
    a.vector.op_energy_pj = 0.0625;
    return a;
}

/* ---- a recorder: logs every event it receives ------------------------------------------------ */

#define LOG_MAX 256
#define EV_TICK 999u /* an event only there to move time forward; not logged */

typedef struct recorder {
    component base;
    size_t n;
    simtime time[LOG_MAX]; /* ps */
    uint32_t kind[LOG_MAX];
    event_payload payload[LOG_MAX];
} recorder;

static void recorder_handle(component *c, const event *ev)
{
    recorder *r = (recorder *)c;
    if (ev->kind == EV_TICK)
        return;
    ck_assert_uint_lt(r->n, LOG_MAX);
    r->time[r->n] = ev->time;
    r->kind[r->n] = ev->kind;
    r->payload[r->n] = ev->payload;
    r->n++;
}

static const component_ops recorder_ops = {.kind = "recorder", .handle = recorder_handle};
static const component_class recorder_class = {.size = sizeof(recorder), .ops = &recorder_ops};

static recorder *recorder_create(sim *s)
{
    return (recorder *)sim_create_component(s, &recorder_class, "recorder");
}

/* Move the simulation to time t (events up to t are handled). */
static void advance(sim *s, recorder *r, simtime t)
{
    sim_schedule_at(s, t, r->base.id, EV_TICK, 255, NULL);
    ck_assert_int_ne(sim_run_until(s, t), SIM_STOPPED);
    ck_assert_uint_eq(sim_now(s), t);
}

static part_reply reply_to(const recorder *r, uint32_t kind, uint64_t tag)
{
    part_reply c = part_reply_none();
    c.target = r->base.id;
    c.kind = kind;
    c.tag = tag;
    return c;
}

/* A named statistic: the count of a counter, the value of a value entry. */
static double stat_of(const component *c, const char *name)
{
    long i = stats_find(&c->stats, name);
    ck_assert_msg(i >= 0, "no statistic '%s' in %s", name, c->name);
    const stats_entry *e = stats_at(&c->stats, (size_t)i);
    return e->type == STATS_COUNTER ? (double)e->count : e->sum;
}

/* ---- footprints of the four mappings --------------------------------------------------------- */

/* A layer of R = 3 rows, N = 2 columns at wb = 4 bits on 4x4 tiles of 2-bit cells: slices =
 * ceil(4/2) = 2.
 *   unsigned:   rows 3, cols 2*2 = 4, row tiles ceil(3/4) = 1, col tiles ceil(4/4) = 1, tiles 1,
 *               cells 3 * 4 = 12.
 *   offset:     rows 3, cols 4, one reference column per tile: col tiles ceil(4/(4-1)) = 2,
 *               tiles 2, cells 3 * (4 + 2*1) = 18.
 *   diff col:   rows 3, cols 2*2*2 = 8, col tiles 2, tiles 2, cells 3 * 8 = 24.
 *   diff row:   rows 2*3 = 6, cols 4, row tiles ceil(6/4) = 2, col tiles 1, tiles 2,
 *               cells 6 * 4 = 24. */
START_TEST(test_components_footprint_by_mapping)
{
    static const struct {
        arch_mapping m;
        uint64_t rows, cols, row_tiles, col_tiles, tiles, cells;
    } want[] = {
        {ARCH_MAP_UNSIGNED, 3, 4, 1, 1, 1, 12},
        {ARCH_MAP_OFFSET, 3, 4, 1, 2, 2, 18},
        {ARCH_MAP_DIFF_COLUMN, 3, 8, 1, 2, 2, 24},
        {ARCH_MAP_DIFF_ROW, 6, 4, 2, 1, 2, 24},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        arch a = small_arch(want[i].m);
        cost_footprint f = cost_weight_footprint(&a, 3, 2, 4);
        ck_assert_uint_eq(f.slices, 2);
        ck_assert_uint_eq(f.rows, want[i].rows);
        ck_assert_uint_eq(f.cols, want[i].cols);
        ck_assert_uint_eq(f.row_tiles, want[i].row_tiles);
        ck_assert_uint_eq(f.col_tiles, want[i].col_tiles);
        ck_assert_uint_eq(f.tiles, want[i].tiles);
        ck_assert_uint_eq(f.cells, want[i].cells);
    }
}
END_TEST

/* ---- one VMM on a tile ----------------------------------------------------------------------- */

/* The full 4x4 tile at 3 input bits, 4 ADC bits. Stages: DAC step 1 ns, read 2 ns, one ADC
 * conversion 3 ns. steps = ceil(3/1) = 3, row groups = ceil(4/2) = 2, column rounds = ceil(4/2) =
 * 2: time = 3 * 2 * (1 + 2 + 2*3) = 54 ns. Counts: DAC 3*4 = 12, column reads = ADC = shift-adds
 * = 3*2*4 = 24. Energy: DAC 12 * 0.125 = 1.5, crossbar 24 * 0.25 = 6, ADC 24 * 2.5 = 60, shift-add
 * 24 * 0.5 = 12; total 79.5 pJ. */
START_TEST(test_components_vmm_stages_times_and_energy)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    ck_assert_uint_eq(cost_adc_conversion_ps(&a, 4), 3 * NS);

    sim *s = sim_create(NULL);
    tile *t = tile_create(s, "tile0", &a);
    cost_vmm v = {.rows_used = 4, .cols_used = 4, .in_bits = 3, .adc_bits = 4};
    resource_grant g = tile_vmm(t, &v, NULL);
    ck_assert_uint_eq(g.start, 0);
    ck_assert_uint_eq(g.end, 54 * NS);
    ck_assert_uint_eq(sim_events_pending(s), 0); /* no reply asked for */

    sim_finish(s); /* the statistics are complete at finish */
    ck_assert_double_eq(stat_of(&t->base, "vmms"), 1);
    ck_assert_double_eq(stat_of(&t->base, "dac_conversions"), 12);
    ck_assert_double_eq(stat_of(&t->base, "adc_conversions"), 24);
    ck_assert_double_eq(stat_of(&t->base, "xbar_reads"), 24);
    ck_assert_double_eq(stat_of(&t->base, "shift_adds"), 24);
    ck_assert_double_eq(t->vmm_pj[COST_E_DAC], 1.5);
    ck_assert_double_eq(t->vmm_pj[COST_E_XBAR], 6.0);
    ck_assert_double_eq(t->vmm_pj[COST_E_ADC], 60.0);
    ck_assert_double_eq(t->vmm_pj[COST_E_SHIFT_ADD], 12.0);
    ck_assert_double_eq(tile_dynamic_pj(t), 79.5);
    sim_destroy(s);
}
END_TEST

/* Each mapping's tiles for the layer of test_components_footprint_by_mapping, one VMM each at 3
 * input bits (steps 3). Per tile (rows_used, cols_used) -> row groups g = ceil(rows/2), column
 * rounds c = ceil(cols/2), time 3 * g * (1 + 2 + 3c) ns, DAC 3*rows*0.125, reads 3*g*cols (crossbar
 * x0.25, ADC x2.5, shift-add x0.5):
 *   unsigned   tile 0 (3,4): g 2 c 2 -> 54 ns; DAC 9 -> 1.125; reads 24 -> 6, 60, 12
 *   offset     tile 0 (3, 3 weight cols + 1 reference = 4): as unsigned tile 0
 *              tile 1 (3, 1 weight col + 1 reference = 2): g 2 c 1 -> 3*2*6 = 36 ns; DAC 1.125;
 *              reads 12 -> 3, 30, 6
 *   diff col   tiles 0 and 1 (3,4): as unsigned tile 0
 *   diff row   tile 0 (4,4): g 2 c 2 -> 54 ns; DAC 12 -> 1.5; reads 24 -> 6, 60, 12
 *              tile 1 (2,4): g 1 c 2 -> 3*1*9 = 27 ns; DAC 6 -> 0.75; reads 12 -> 3, 30, 6 */
START_TEST(test_components_vmm_per_mapping)
{
    static const struct {
        arch_mapping m;
        unsigned tiles;
        unsigned rows[2], cols[2];
        simtime ps[2];
        double dac[2], xbar[2], adc[2], sa[2];
    } want[] = {
        {ARCH_MAP_UNSIGNED, 1, {3}, {4}, {54 * NS}, {1.125}, {6}, {60}, {12}},
        {ARCH_MAP_OFFSET,
         2,
         {3, 3},
         {4, 2},
         {54 * NS, 36 * NS},
         {1.125, 1.125},
         {6, 3},
         {60, 30},
         {12, 6}},
        {ARCH_MAP_DIFF_COLUMN,
         2,
         {3, 3},
         {4, 4},
         {54 * NS, 54 * NS},
         {1.125, 1.125},
         {6, 6},
         {60, 60},
         {12, 12}},
        {ARCH_MAP_DIFF_ROW,
         2,
         {4, 2},
         {4, 4},
         {54 * NS, 27 * NS},
         {1.5, 0.75},
         {6, 3},
         {60, 30},
         {12, 6}},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        arch a = small_arch(want[i].m);
        cost_footprint f = cost_weight_footprint(&a, 3, 2, 4);
        ck_assert_uint_eq(f.tiles, want[i].tiles);
        sim *s = sim_create(NULL);
        tile *ts[8];
        ck_assert_uint_le(want[i].tiles, 8);
        for (unsigned k = 0; k < want[i].tiles; k++) {
            tile *t = ts[k] = tile_create(s, "tile", &a);
            cost_vmm v = {.rows_used = want[i].rows[k],
                          .cols_used = want[i].cols[k],
                          .in_bits = 3,
                          .adc_bits = 4};
            resource_grant g = tile_vmm(t, &v, NULL);
            ck_assert_uint_eq(g.start, 0);
            ck_assert_uint_eq(g.end, want[i].ps[k]);
        }
        sim_finish(s); /* the energy by part is complete at finish */
        for (unsigned k = 0; k < want[i].tiles; k++) {
            const tile *t = ts[k];
            ck_assert_double_eq(t->vmm_pj[COST_E_DAC], want[i].dac[k]);
            ck_assert_double_eq(t->vmm_pj[COST_E_XBAR], want[i].xbar[k]);
            ck_assert_double_eq(t->vmm_pj[COST_E_ADC], want[i].adc[k]);
            ck_assert_double_eq(t->vmm_pj[COST_E_SHIFT_ADD], want[i].sa[k]);
        }
        sim_destroy(s);
    }
}
END_TEST

/* Back-to-back VMMs on one tile queue FIFO: three 54 ns VMMs requested at 0 run [0,54],
 * [54,108], [108,162] ns; the report's busy time is 162 ns of 162 (utilisation 1) and dynamic
 * energy 3 * 79.5 = 238.5 pJ; static 100 uW * 162000 ps = 16.2 pJ. */
START_TEST(test_components_tile_fifo_and_report)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    sim *s = sim_create(NULL);
    tile *t = tile_create(s, "tile0", &a);
    recorder *r = recorder_create(s);
    cost_vmm v = {.rows_used = 4, .cols_used = 4, .in_bits = 3, .adc_bits = 4};
    for (uint64_t i = 0; i < 3; i++) {
        part_reply rep = reply_to(r, 7, i);
        resource_grant g = tile_vmm(t, &v, &rep);
        ck_assert_uint_eq(g.start, 54 * NS * i);
        ck_assert_uint_eq(g.end, 54 * NS * (i + 1));
    }
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(sim_now(s), 162 * NS);
    sim_finish(s);
    ck_assert_double_eq(stat_of(&t->base, "busy_ps"), 162000);
    ck_assert_double_eq(stat_of(&t->base, "total_ps"), 162000);
    ck_assert_double_eq_tol(stat_of(&t->base, "utilisation"), 1.0, 1e-12);
    ck_assert_double_eq(stat_of(&t->base, "vmms"), 3);
    ck_assert_double_eq(stat_of(&t->base, "energy_dac_pj"), 4.5);
    ck_assert_double_eq(stat_of(&t->base, "energy_crossbar_pj"), 18);
    ck_assert_double_eq(stat_of(&t->base, "energy_adc_pj"), 180);
    ck_assert_double_eq(stat_of(&t->base, "energy_shift_add_pj"), 36);
    ck_assert_double_eq(stat_of(&t->base, "energy_write_pj"), 0);
    ck_assert_double_eq_tol(stat_of(&t->base, "energy_static_pj"), 16.2, 1e-9);
    ck_assert_double_eq_tol(stat_of(&t->base, "energy_total_pj"), 238.5 + 16.2, 1e-9);
    /* waits: 0, 54, 108 ns -> total 162 ns, max 108 ns */
    ck_assert_double_eq(stat_of(&t->base, "wait_total_ps"), 162000);
    ck_assert_double_eq(stat_of(&t->base, "wait_max_ps"), 108000);
    sim_destroy(s);
}
END_TEST

/* VMMs of two shapes interleaved (v, v, w, v) on one tile: the statistics, taken a run of alike
 * VMMs at a time, hold all four -- 3 x 79.5 pJ (hand-worked above) plus w's energy, 3 x 24 ADC
 * conversions plus w's -- and min / max of the per-VMM energy are w's and v's. */
START_TEST(test_components_tile_statistics_over_shape_changes)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    sim *s = sim_create(NULL);
    tile *t = tile_create(s, "tile0", &a);
    cost_vmm v = {.rows_used = 4, .cols_used = 4, .in_bits = 3, .adc_bits = 4};
    cost_vmm w = {.rows_used = 2, .cols_used = 1, .in_bits = 3, .adc_bits = 4};
    const cost_vmm *seq[] = {&v, &v, &w, &v};
    for (int i = 0; i < 4; i++)
        tile_vmm(t, seq[i], NULL);
    sim_finish(s);
    cost_energy ew = cost_vmm_energy(&a, &w);
    double w_pj = cost_energy_total(&ew);
    ck_assert_double_lt(w_pj, 79.5);
    ck_assert_double_eq(stat_of(&t->base, "vmms"), 4);
    ck_assert_double_eq(stat_of(&t->base, "adc_conversions"),
                        3 * 24 + (double)cost_vmm_count(&a, &w).adc_convs);
    ck_assert_double_eq_tol(tile_dynamic_pj(t), 3 * 79.5 + w_pj, 1e-9);
    const stats_entry *e =
        stats_at(&t->base.stats, (size_t)stats_find(&t->base.stats, "vmm_energy_pj"));
    ck_assert_uint_eq(e->count, 4);
    ck_assert_double_eq(e->min, w_pj);
    ck_assert_double_eq(e->max, 79.5);
    sim_destroy(s);
}
END_TEST

/* Default simulation options with the trace going to sink. */
static sim_options traced_options(trace_sink *sink)
{
    sim_options o;
    sim_options_default(&o);
    o.trace = sink;
    return o;
}

/* Mirrors (tile_mirror): a leader and two mirrors, the leader given the three VMMs above at 0 and
 * 100 ns idle after; each mirror reports what a tile given those requests itself reports -- the
 * hand-worked figures above: busy 162 ns, 3 VMMs, 238.5 pJ dynamic, 16.2 pJ static -- and
 * accounts the same energy by category; each VMM is one trace record of the three tiles: units 3,
 * 3 x 79.5 = 238.5 pJ. */
START_TEST(test_components_tile_mirrors_report_as_their_leader)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    trace_sink *sink = trace_memory_create(TRACE_VECTOR);
    sim_options o = traced_options(sink);
    sim *s = sim_create(&o);
    tile *lead = tile_create(s, "lead", &a);
    tile *m[2] = {tile_create(s, "m0", &a), tile_create(s, "m1", &a)};
    tile_mirror(m[0], lead);
    tile_mirror(m[1], lead);
    cost_vmm v = {.rows_used = 4, .cols_used = 4, .in_bits = 3, .adc_bits = 4};
    for (int i = 0; i < 3; i++) {
        part_reply rep = {.target = PART_REPLY_NONE, .layer = 2, .copy = 0, .vector = i};
        tile_vmm(lead, &v, &rep);
    }
    recorder *r = recorder_create(s); /* an event to it ends the run at 262 ns */
    sim_schedule_at(s, 262 * NS, r->base.id, 1, 0, NULL);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(sim_now(s), 262 * NS);
    sim_finish(s);
    for (int k = 0; k < 2; k++) {
        component *c = &m[k]->base;
        ck_assert_double_eq(stat_of(c, "busy_ps"), 162000);
        ck_assert_double_eq(stat_of(c, "total_ps"), 262000);
        ck_assert_double_eq(stat_of(c, "vmms"), 3);
        ck_assert_double_eq(stat_of(c, "adc_conversions"), stat_of(&lead->base, "adc_conversions"));
        ck_assert_double_eq(stat_of(c, "energy_adc_pj"), 180);
        ck_assert_double_eq_tol(stat_of(c, "energy_static_pj"), 26.2, 1e-9);
        ck_assert_double_eq_tol(stat_of(c, "energy_total_pj"), 238.5 + 26.2, 1e-9);
        ck_assert_double_eq(stat_of(c, "wait_max_ps"), 108000);
        part_account acc;
        ck_assert(chip_component_account(c, &acc));
        ck_assert_double_eq(acc.dynamic_pj[COST_E_ADC], 180);
        ck_assert_double_eq_tol(acc.static_pj, 26.2, 1e-9);
    }
    ck_assert_uint_eq(m[0]->base.id, lead->base.id + 1);
    ck_assert_uint_eq(m[1]->base.id, lead->base.id + 2);
    ck_assert_uint_eq(trace_memory_count(sink), 3);
    const trace_record *tr = trace_memory_at(sink, 1);
    ck_assert_uint_eq(tr->component, lead->base.id);
    ck_assert_uint_eq(tr->units, 3);
    ck_assert_int_eq(tr->vector, 1);
    ck_assert_uint_eq(tr->t0, 54 * NS);
    ck_assert_uint_eq(tr->t1, 108 * NS);
    ck_assert_double_eq(tr->energy_pj, 238.5);
    sim_destroy(s);
    trace_destroy(sink);
}
END_TEST

/* ---- reprogram mode -------------------------------------------------------------------------- */

/* execute_ns_per_bit = 10 fixes the VMM time at steps x 10 ns whatever rows, columns or ADC:
 * 3 input bits at a 1-bit DAC -> 30 ns; with a 2-bit DAC -> ceil(3/2) = 2 steps -> 20 ns.
 * A write of 16 cells at 0 takes 100 ns and 16 * 1.5 = 24 pJ; two VMMs requested at 0 behind it
 * run [100,130] and [130,160] ns, their replies arriving then with their tags. */
START_TEST(test_components_reprogram_write_then_execute)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    a.mode = ARCH_MODE_REPROGRAM;
    a.tiles.crossbar.execute_ns_per_bit = 10.0;
    cost_vmm v = {.rows_used = 1, .cols_used = 3, .in_bits = 3, .adc_bits = 4};
    ck_assert_uint_eq(cost_vmm_ps(&a, &v), 30 * NS);
    arch a2 = a;
    a2.tiles.dac.bits = 2;
    ck_assert_uint_eq(cost_vmm_ps(&a2, &v), 20 * NS);

    sim *s = sim_create(NULL);
    tile *t = tile_create(s, "xbar", &a);
    recorder *r = recorder_create(s);
    part_reply w = reply_to(r, 1, 100);
    resource_grant gw = tile_write(t, 16, &w);
    ck_assert_uint_eq(gw.start, 0);
    ck_assert_uint_eq(gw.end, 100 * NS);
    part_reply x0 = reply_to(r, 2, 200), x1 = reply_to(r, 2, 201);
    resource_grant g0 = tile_vmm(t, &v, &x0);
    resource_grant g1 = tile_vmm(t, &v, &x1);
    ck_assert_uint_eq(g0.start, gw.end);
    ck_assert_uint_eq(g0.end, 130 * NS);
    ck_assert_uint_eq(g1.start, 130 * NS);
    ck_assert_uint_eq(g1.end, 160 * NS);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(r->n, 3);
    static const simtime at[3] = {100 * NS, 130 * NS, 160 * NS};
    static const uint64_t tag[3] = {100, 200, 201};
    static const uint32_t kind[3] = {1, 2, 2};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(r->time[i], at[i]);
        ck_assert_uint_eq(r->kind[i], kind[i]);
        ck_assert_uint_eq(r->payload[i].u[PART_REPLY_WORD_TAG], tag[i]);
        ck_assert_uint_eq(r->payload[i].u[PART_REPLY_WORD_END], at[i]);
        ck_assert_uint_eq(r->payload[i].u[PART_REPLY_WORD_SOURCE], t->base.id);
    }
    ck_assert_uint_eq(r->payload[1].u[PART_REPLY_WORD_START], 100 * NS);
    sim_finish(s);
    ck_assert_double_eq(stat_of(&t->base, "writes"), 1);
    ck_assert_double_eq(stat_of(&t->base, "cells_written"), 16);
    ck_assert_double_eq(stat_of(&t->base, "energy_write_pj"), 24);
    ck_assert_double_eq(stat_of(&t->base, "busy_ps"), 160000);
    sim_destroy(s);
}
END_TEST

/* ---- requests as events, replies, trace ------------------------------------------------------ */

/* The request payload round-trips, including the -1 markers and the extremes of each field. */
START_TEST(test_components_request_packing_round_trips)
{
    cost_vmm v = {.rows_used = 65536, .cols_used = 1, .in_bits = 255, .adc_bits = 16};
    part_reply rep = {.target = 12,
                      .kind = 0xfffffffeu,
                      .tag = UINT64_MAX,
                      .layer = -1,
                      .copy = INT16_MAX,
                      .inference = INT32_MAX};
    event_payload p = tile_pack_vmm(&v, &rep);
    cost_vmm v2 = tile_unpack_vmm(&p);
    part_reply r2 = part_reply_unpack(&p);
    ck_assert_uint_eq(v2.rows_used, 65536);
    ck_assert_uint_eq(v2.cols_used, 1);
    ck_assert_uint_eq(v2.in_bits, 255);
    ck_assert_uint_eq(v2.adc_bits, 16);
    ck_assert_uint_eq(r2.target, 12);
    ck_assert_uint_eq(r2.kind, 0xfffffffeu);
    ck_assert_uint_eq(r2.tag, UINT64_MAX);
    ck_assert_int_eq(r2.layer, -1);
    ck_assert_int_eq(r2.copy, INT16_MAX);
    ck_assert_int_eq(r2.inference, INT32_MAX);

    rep.layer = 5;
    rep.copy = -1;
    rep.inference = -1;
    p = tile_pack_write(123456789, &rep);
    ck_assert_uint_eq(p.u[0], 123456789);
    r2 = part_reply_unpack(&p);
    ck_assert_int_eq(r2.layer, 5);
    ck_assert_int_eq(r2.copy, -1);
    ck_assert_int_eq(r2.inference, -1);

    p = tile_pack_write(1, NULL); /* no reply: target NONE, unknowns -1 */
    r2 = part_reply_unpack(&p);
    ck_assert_uint_eq(r2.target, PART_REPLY_NONE);
    ck_assert_int_eq(r2.layer, -1);
    ck_assert_int_eq(r2.inference, -1);
}
END_TEST

/* A VMM posted as an event at 5 ns runs [5, 59] ns (54 ns, see above); the reply arrives at 59 ns
 * with its tag, start, end and source; the trace holds one VMM record with layer 3, copy 1,
 * inference 7, t0/t1 and 79.5 pJ. A write posted at 0 with no reply target is traced as a write
 * [0, 100] ns of 4 * 1.5 = 6 pJ and the VMM then waits for it: [100, 154] ns. */
START_TEST(test_components_tile_event_requests_reply_and_trace)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    trace_sink *sink = trace_memory_create(TRACE_VECTOR);
    sim_options o = traced_options(sink);
    sim *s = sim_create(&o);
    tile *t = tile_create(s, "tile0", &a);
    recorder *r = recorder_create(s);

    cost_vmm v = {.rows_used = 4, .cols_used = 4, .in_bits = 3, .adc_bits = 4};
    part_reply rep = reply_to(r, 42, UINT64_C(0xdeadbeef12345678));
    rep.layer = 3;
    rep.copy = 1;
    rep.inference = 7;
    event_payload p = tile_pack_vmm(&v, &rep);
    sim_schedule_at(s, 5 * NS, t->base.id, TILE_EV_VMM, 1, &p);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(r->n, 1);
    ck_assert_uint_eq(r->time[0], 59 * NS);
    ck_assert_uint_eq(r->kind[0], 42);
    ck_assert_uint_eq(r->payload[0].u[PART_REPLY_WORD_TAG], UINT64_C(0xdeadbeef12345678));
    ck_assert_uint_eq(r->payload[0].u[PART_REPLY_WORD_START], 5 * NS);
    ck_assert_uint_eq(r->payload[0].u[PART_REPLY_WORD_END], 59 * NS);
    ck_assert_uint_eq(r->payload[0].u[PART_REPLY_WORD_SOURCE], t->base.id);

    ck_assert_uint_eq(trace_memory_count(sink), 1);
    const trace_record *tr = trace_memory_at(sink, 0);
    ck_assert_uint_eq(tr->component, t->base.id);
    ck_assert_uint_eq(tr->kind, PART_ACT_VMM);
    ck_assert_int_eq(tr->layer, 3);
    ck_assert_int_eq(tr->copy, 1);
    ck_assert_int_eq(tr->inference, 7);
    ck_assert_uint_eq(tr->t0, 5 * NS);
    ck_assert_uint_eq(tr->t1, 59 * NS);
    ck_assert_double_eq(tr->energy_pj, 79.5);
    sim_destroy(s);

    /* second run: write (no reply) then the VMM at the same time */
    s = sim_create(&o);
    t = tile_create(s, "tile0", &a);
    r = recorder_create(s);
    part_reply none = part_reply_none();
    p = tile_pack_write(4, &none);
    sim_schedule_at(s, 0, t->base.id, TILE_EV_WRITE, 0, &p);
    p = tile_pack_vmm(&v, &rep);
    sim_schedule_at(s, 0, t->base.id, TILE_EV_VMM, 1, &p);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(r->n, 1);
    ck_assert_uint_eq(r->time[0], 154 * NS);
    ck_assert_uint_eq(trace_memory_count(sink), 3);
    tr = trace_memory_at(sink, 1);
    ck_assert_uint_eq(tr->kind, PART_ACT_WRITE);
    ck_assert_int_eq(tr->layer, -1);
    ck_assert_uint_eq(tr->t0, 0);
    ck_assert_uint_eq(tr->t1, 100 * NS);
    ck_assert_double_eq(tr->energy_pj, 6.0);
    tr = trace_memory_at(sink, 2);
    ck_assert_uint_eq(tr->kind, PART_ACT_VMM);
    ck_assert_uint_eq(tr->t0, 100 * NS);
    ck_assert_uint_eq(tr->t1, 154 * NS);
    sim_destroy(s);
    trace_destroy(sink);
}
END_TEST

/* ---- ADC resolution -------------------------------------------------------------------------- */

/* More ADC bits never shortens a conversion (nor a VMM) for bits-dependent times that grow with
 * b: a non-decreasing table (with flat runs), linear and quadratic with c0, c1 >= 0 (including
 * c1 = 0), exponential with c0 >= 0 and c1 >= 1, and a constant. Swept over 1..ARCH_MAX_ADC_BITS.
 * (An exponential with 0 <= c1 < 1 or a decreasing table does shorten: the schema allows them,
 * so this is a property of the parameters, not of the formulas.) */
START_TEST(test_components_adc_bits_never_shorten)
{
    arch_bits_fn fns[8];
    memset(fns, 0, sizeof fns);
    fns[0].kind = ARCH_BITS_TABLE;
    for (unsigned b = 1; b <= ARCH_MAX_ADC_BITS; b++) {
        fns[0].has[b] = true;
        fns[0].table[b] = 0.5 * (double)(b / 3); /* 0,0,0.5,0.5,0.5,1,... */
    }
    fns[1] = (arch_bits_fn){.kind = ARCH_BITS_LINEAR, .c0 = 1.5, .c1 = 0.25};
    fns[2] = (arch_bits_fn){.kind = ARCH_BITS_LINEAR, .c0 = 2.0, .c1 = 0.0};
    fns[3] = (arch_bits_fn){.kind = ARCH_BITS_QUADRATIC, .c0 = 0.0, .c1 = 0.01};
    fns[4] = (arch_bits_fn){.kind = ARCH_BITS_QUADRATIC, .c0 = 0.3, .c1 = 0.0007};
    fns[5] = (arch_bits_fn){.kind = ARCH_BITS_EXPONENTIAL, .c0 = 0.001, .c1 = 2.0};
    fns[6] = (arch_bits_fn){.kind = ARCH_BITS_EXPONENTIAL, .c0 = 0.7, .c1 = 1.0};
    fns[7] = (arch_bits_fn){.kind = ARCH_BITS_VALUE, .value = 0.4};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        arch a = small_arch(ARCH_MAP_UNSIGNED);
        a.tiles.adc.time_ns = fns[i];
        cost_vmm v = {.rows_used = 4, .cols_used = 4, .in_bits = 3, .adc_bits = 1};
        simtime prev_conv = cost_adc_conversion_ps(&a, 1);
        simtime prev_vmm = cost_vmm_ps(&a, &v);
        for (unsigned b = 2; b <= ARCH_MAX_ADC_BITS; b++) {
            v.adc_bits = b;
            simtime conv = cost_adc_conversion_ps(&a, b);
            simtime vmm = cost_vmm_ps(&a, &v);
            ck_assert_msg(conv >= prev_conv, "fn %zu: %u bits %llu ps < %u bits %llu ps", i, b,
                          (unsigned long long)conv, b - 1, (unsigned long long)prev_conv);
            ck_assert_uint_ge(vmm, prev_vmm);
            prev_conv = conv;
            prev_vmm = vmm;
        }
    }
    /* Spot values by hand: linear 1.5 + 0.25*4 = 2.5 ns; exponential 0.001 * 2^10 = 1.024 ns;
     * quadratic 0.01 * 16^2 = 2.56 ns; table at 7 bits 0.5 * 2 = 1 ns. */
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    a.tiles.adc.time_ns = fns[1];
    ck_assert_uint_eq(cost_adc_conversion_ps(&a, 4), 2500);
    a.tiles.adc.time_ns = fns[5];
    ck_assert_uint_eq(cost_adc_conversion_ps(&a, 10), 1024);
    a.tiles.adc.time_ns = fns[3];
    ck_assert_uint_eq(cost_adc_conversion_ps(&a, 16), 2560);
    a.tiles.adc.time_ns = fns[0];
    ck_assert_uint_eq(cost_adc_conversion_ps(&a, 7), 1000);
}
END_TEST

/* ---- power gating ---------------------------------------------------------------------------- */

/* One 54 ns VMM in a 180 ns run: busy 30%. Static 100 uW, gated 10 uW (1 uW x 1 ps = 1e-6 pJ):
 *   with gating    54000 * 100e-6 + 126000 * 10e-6 = 5.4 + 1.26 = 6.66 pJ
 *   without        180000 * 100e-6 = 18 pJ
 *   difference     126000 * 90e-6 = 11.34 pJ = idle x (P - P_gated). */
START_TEST(test_components_power_gating_static_energy)
{
    arch on = small_arch(ARCH_MAP_UNSIGNED), off = on;
    on.power_gating = true;
    sim *s = sim_create(NULL);
    tile *tg = tile_create(s, "gated", &on);
    tile *tn = tile_create(s, "ungated", &off);
    recorder *r = recorder_create(s);
    cost_vmm v = {.rows_used = 4, .cols_used = 4, .in_bits = 3, .adc_bits = 4};
    tile_vmm(tg, &v, NULL);
    tile_vmm(tn, &v, NULL);
    advance(s, r, 180 * NS);
    sim_finish(s);
    ck_assert_double_eq(stat_of(&tg->base, "busy_ps"), 54000);
    ck_assert_double_eq(stat_of(&tg->base, "total_ps"), 180000);
    ck_assert_double_eq_tol(stat_of(&tg->base, "utilisation"), 0.3, 1e-12);
    double eg = stat_of(&tg->base, "energy_static_pj");
    double en = stat_of(&tn->base, "energy_static_pj");
    ck_assert_double_eq_tol(eg, 6.66, 1e-9);
    ck_assert_double_eq_tol(en, 18.0, 1e-9);
    ck_assert_double_eq_tol(en - eg, 11.34, 1e-9);
    sim_destroy(s);
}
END_TEST

/* ---- bus ------------------------------------------------------------------------------------- */

/* All 4 in-bus lanes free: completion - arrival = cost_bus_transfer_ps(bits, 4) for every bits
 * 1..300, and by hand: 72 bits = 9 words -> chunks 3,2,2,2 -> 3 words x 2000 ps = 6000 ps
 * (= ceil(9/4) * 2000); 24 bits = 3 words -> three 1-word chunks -> 2000 ps. Energy 72 * 0.0625 =
 * 4.5 pJ. 0 bits completes at once. */
START_TEST(test_components_bus_free_lanes_closed_form)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    for (uint64_t bits = 0; bits <= 300; bits++) {
        sim *s = sim_create(NULL);
        bus *b = bus_create(s, "in", &a, &a.groups.in_bus);
        recorder *r = recorder_create(s);
        advance(s, r, 7 * NS); /* arrival not at 0 */
        resource_grant g = bus_transfer(b, bits, NULL);
        simtime want = bits ? cost_bus_transfer_ps(&a, &a.groups.in_bus, bits, 4) : 0;
        ck_assert_uint_eq(g.end - 7 * NS, want);
        ck_assert_uint_eq(g.start, 7 * NS);
        if (bits == 72) {
            ck_assert_uint_eq(want, 6000);
            ck_assert_double_eq(b->energy_pj, 4.5);
            ck_assert_double_eq(stat_of(&b->base, "words"), 9);
        }
        if (bits == 24)
            ck_assert_uint_eq(want, 2000);
        sim_destroy(s);
    }
}
END_TEST

/* Some lanes busy (in bus: 4 lanes, 2000 ps per word). At 0: A = 16 bits = 2 words -> lanes 0,1
 * [0,2000]. B = 64 bits = 8 words -> 4 chunks of 2 words (4000 ps): lanes 2,3 [0,4000], then
 * lanes 0,1 [2000,6000] -> B completes at 6000 (not 4000 as with all lanes free). At 1000:
 * C = 8 bits = 1 word -> earliest lane: 2 or 3 at 4000 -> lane 2 [4000,6000], waiting 3000.
 * Busy over [0,6000]: 2*2000 + 4*4000 + 2000 = 22000 of 4*6000 = 24000. Energy (16+64+8) *
 * 0.0625 = 5.5 pJ. */
START_TEST(test_components_bus_busy_lanes_by_hand)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    sim *s = sim_create(NULL);
    bus *b = bus_create(s, "in", &a, &a.groups.in_bus);
    recorder *r = recorder_create(s);
    part_reply ra = reply_to(r, 1, 1), rb = reply_to(r, 1, 2), rc = reply_to(r, 1, 3);
    resource_grant ga = bus_transfer(b, 16, &ra);
    resource_grant gb = bus_transfer(b, 64, &rb);
    ck_assert_uint_eq(ga.start, 0);
    ck_assert_uint_eq(ga.end, 2000);
    ck_assert_uint_eq(gb.start, 0);
    ck_assert_uint_eq(gb.end, 6000);
    advance(s, r, 1000);
    resource_grant gc = bus_transfer(b, 8, &rc);
    ck_assert_uint_eq(gc.start, 4000);
    ck_assert_uint_eq(gc.end, 6000);
    ck_assert_uint_eq(gc.server, 2);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(r->n, 3);
    ck_assert_uint_eq(r->time[0], 2000);
    ck_assert_uint_eq(r->payload[0].u[PART_REPLY_WORD_TAG], 1);
    /* B and C both end at 6000: B's reply was scheduled first */
    ck_assert_uint_eq(r->time[1], 6000);
    ck_assert_uint_eq(r->payload[1].u[PART_REPLY_WORD_TAG], 2);
    ck_assert_uint_eq(r->time[2], 6000);
    ck_assert_uint_eq(r->payload[2].u[PART_REPLY_WORD_TAG], 3);
    sim_finish(s);
    ck_assert_double_eq(stat_of(&b->base, "transfers"), 3);
    ck_assert_double_eq(stat_of(&b->base, "bits"), 88);
    ck_assert_double_eq(stat_of(&b->base, "words"), 11);
    ck_assert_double_eq(stat_of(&b->base, "busy_ps"), 22000);
    ck_assert_double_eq_tol(stat_of(&b->base, "utilisation"), 22000.0 / 24000.0, 1e-12);
    ck_assert_double_eq(stat_of(&b->base, "energy_total_pj"), 5.5);
    sim_destroy(s);
}
END_TEST

/* Uneven chunks go larger first, so they take the lanes free soonest. In bus, at 0: A = 2 words
 * -> lanes 0,1 [0,2000]. B = 72 bits = 9 words -> chunks 3,2,2,2: the 3-word chunk takes lane 2
 * [0,6000], a 2-word one lane 3 [0,4000], the others lanes 0,1 [2000,6000] -> B ends at 6000.
 * (Smaller first would put the 3-word chunk on lane 1 [2000,8000] and end at 8000.) */
START_TEST(test_components_bus_larger_chunks_first)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    sim *s = sim_create(NULL);
    bus *b = bus_create(s, "in", &a, &a.groups.in_bus);
    bus_transfer(b, 16, NULL);
    resource_grant g = bus_transfer(b, 72, NULL);
    ck_assert_uint_eq(g.start, 0);
    ck_assert_uint_eq(g.server, 2);
    ck_assert_uint_eq(g.end, 6000);
    sim_destroy(s);
}
END_TEST

/* Two tiles share the 1-lane out bus (16-bit words, 1000 ps each). Both finish a 54 ns VMM at
 * 54 ns and each sends 4 columns x 8 psum bits = 32 bits = 2 words = 2000 ps: the first transfer
 * runs [54,56] ns, the second waits exactly 2000 ps and runs [56,58] ns. */
typedef struct relay {
    component base;
    bus *out;
    recorder *rec;
} relay;

static void relay_handle(component *c, const event *ev)
{
    relay *y = (relay *)c;
    part_reply rep = reply_to(y->rec, 5, ev->payload.u[PART_REPLY_WORD_TAG]);
    bus_transfer(y->out, 32, &rep);
}

static const component_ops relay_ops = {.kind = "relay", .handle = relay_handle};
static const component_class relay_class = {.size = sizeof(relay), .ops = &relay_ops};

START_TEST(test_components_two_tiles_share_a_bus_lane)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    sim *s = sim_create(NULL);
    tile *t0 = tile_create(s, "tile0", &a);
    tile *t1 = tile_create(s, "tile1", &a);
    bus *out = bus_create(s, "out", &a, &a.groups.out_bus);
    recorder *r = recorder_create(s);
    relay *y = (relay *)sim_create_component(s, &relay_class, "relay");
    y->out = out;
    y->rec = r;
    cost_vmm v = {.rows_used = 4, .cols_used = 4, .in_bits = 3, .adc_bits = 4};
    part_reply r0 = {
        .target = y->base.id, .kind = 1, .tag = 10, .layer = -1, .copy = -1, .inference = -1};
    part_reply r1 = r0;
    r1.tag = 11;
    tile_vmm(t0, &v, &r0);
    tile_vmm(t1, &v, &r1);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(r->n, 2);
    ck_assert_uint_eq(r->time[0], 56 * NS);
    ck_assert_uint_eq(r->payload[0].u[PART_REPLY_WORD_TAG], 10);
    ck_assert_uint_eq(r->payload[0].u[PART_REPLY_WORD_START], 54 * NS);
    ck_assert_uint_eq(r->time[1], 58 * NS);
    ck_assert_uint_eq(r->payload[1].u[PART_REPLY_WORD_TAG], 11);
    ck_assert_uint_eq(r->payload[1].u[PART_REPLY_WORD_START], 56 * NS);
    ck_assert_uint_eq(r->time[1] - r->time[0], cost_bus_transfer_ps(&a, &a.groups.out_bus, 32, 1));
    sim_finish(s);
    ck_assert_double_eq(stat_of(&out->base, "wait_total_ps"), 2000);
    ck_assert_double_eq(stat_of(&out->base, "wait_max_ps"), 2000);
    /* 4000 ps busy of 58000 on one lane; energy 64 bits x 0.125 = 8 pJ */
    ck_assert_double_eq(stat_of(&out->base, "busy_ps"), 4000);
    ck_assert_double_eq(stat_of(&out->base, "energy_total_pj"), 8);
    sim_destroy(s);
}
END_TEST

/* ---- vector module --------------------------------------------------------------------------- */

/* All 4 lanes free (3000 ps per op): completion = cost_vector_ps(ops, 4) for 0..200 ops; by hand
 * 10 ops -> chunks 3,3,2,2 -> 9000 ps = ceil(10/4) * 3000. Energy of 10 ops with 16 B read and
 * 8 B written: 10 * 0.0625 + 16 * 0.25 + 8 * 0.375 = 0.625 + 4 + 3 = 7.625 pJ. */
START_TEST(test_components_vecmod_free_lanes_closed_form)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    for (uint64_t ops = 0; ops <= 200; ops++) {
        sim *s = sim_create(NULL);
        vecmod *m = vecmod_create(s, "vec", &a);
        recorder *r = recorder_create(s);
        advance(s, r, 3 * NS);
        resource_grant g = vecmod_op(m, VECMOD_OP_ACTIVATION, ops, 16, 8, NULL);
        simtime want = ops ? cost_vector_ps(&a, ops, 4) : 0;
        ck_assert_uint_eq(g.end - 3 * NS, want);
        if (ops == 10) {
            ck_assert_uint_eq(want, 9000);
            ck_assert_double_eq(vecmod_dynamic_pj(m), 7.625);
            ck_assert_double_eq(m->op_pj, 0.625);
            ck_assert_double_eq(m->sram_read_pj, 4);
            ck_assert_double_eq(m->sram_write_pj, 3);
            ck_assert_double_eq(m->kind_pj[VECMOD_OP_ACTIVATION], 7.625);
        }
        sim_destroy(s);
    }
}
END_TEST

/* Some lanes busy. At 0: shift-add of 2 ops -> lanes 0,1 [0,3000]; row sum of 8 ops -> 4 chunks
 * of 2 (6000 ps): lanes 2,3 [0,6000], lanes 0,1 [3000,9000] -> completes at 9000 (all free:
 * 6000). Run ends at 9000: busy 2*3000 + 4*6000 = 30000 of 4*9000 = 36000 (5/6). Energy: 10 ops x
 * 0.0625 = 0.625 pJ (shift-add 0.125, row sum 0.5), SRAM 4 B read = 1 pJ (row sum in all 1.5);
 * leakage 125 uW x 9000 ps = 1.125 pJ; total 2.75 pJ. */
START_TEST(test_components_vecmod_busy_lanes_by_hand)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    sim *s = sim_create(NULL);
    vecmod *m = vecmod_create(s, "vec", &a);
    recorder *r = recorder_create(s);
    part_reply ra = reply_to(r, 1, 1), rb = reply_to(r, 1, 2);
    resource_grant ga = vecmod_op(m, VECMOD_OP_SHIFT_ADD, 2, 0, 0, &ra);
    resource_grant gb = vecmod_op(m, VECMOD_OP_ROW_SUM, 8, 4, 0, &rb);
    ck_assert_uint_eq(ga.end, 3000);
    ck_assert_uint_eq(gb.start, 0);
    ck_assert_uint_eq(gb.end, 9000);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(r->n, 2);
    ck_assert_uint_eq(r->time[0], 3000);
    ck_assert_uint_eq(r->time[1], 9000);
    ck_assert_uint_eq(r->payload[1].u[PART_REPLY_WORD_TAG], 2);
    sim_finish(s);
    ck_assert_double_eq(stat_of(&m->base, "ops_shift_add"), 1);
    ck_assert_double_eq(stat_of(&m->base, "lane_ops_shift_add"), 2);
    ck_assert_double_eq(stat_of(&m->base, "ops_row_sum"), 1);
    ck_assert_double_eq(stat_of(&m->base, "lane_ops_row_sum"), 8);
    ck_assert_double_eq(stat_of(&m->base, "ops_pool"), 0);
    ck_assert_double_eq(stat_of(&m->base, "sram_read_bytes"), 4);
    ck_assert_double_eq(stat_of(&m->base, "busy_ps"), 30000);
    ck_assert_double_eq_tol(stat_of(&m->base, "utilisation"), 5.0 / 6.0, 1e-12);
    ck_assert_double_eq(stat_of(&m->base, "energy_ops_pj"), 0.625);
    ck_assert_double_eq(stat_of(&m->base, "energy_shift_add_pj"), 0.125);
    ck_assert_double_eq(stat_of(&m->base, "energy_row_sum_pj"), 1.5);
    ck_assert_double_eq(stat_of(&m->base, "energy_sram_read_pj"), 1);
    ck_assert_double_eq_tol(stat_of(&m->base, "energy_static_pj"), 1.125, 1e-12);
    ck_assert_double_eq_tol(stat_of(&m->base, "energy_total_pj"), 2.75, 1e-12);
    sim_destroy(s);
}
END_TEST

/* ---- registry -------------------------------------------------------------------------------- */

START_TEST(test_components_registry)
{
    static const char *const names[] = {"tile", "bus", "vecmod"};
    static const chip_component_kind kinds[] = {CHIP_TILE, CHIP_BUS, CHIP_VECMOD};
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    sim *s = sim_create(NULL);
    for (size_t i = 0; i < 3; i++) {
        chip_component_kind k;
        ck_assert_int_eq(chip_component_parse(names[i], &k), 0);
        ck_assert_int_eq(k, kinds[i]);
        ck_assert_str_eq(chip_component_name(kinds[i]), names[i]);
        component *c =
            chip_component_create(s, k, NULL, &a, k == CHIP_BUS ? &a.groups.out_bus : NULL);
        ck_assert_str_eq(c->ops->kind, names[i]);
        ck_assert_str_eq(c->name, names[i]);
        ck_assert_uint_eq(c->id, i);
    }
    ck_assert_uint_eq(chip_component_classes[CHIP_TILE].size, sizeof(tile));
    ck_assert_uint_eq(chip_component_classes[CHIP_BUS].size, sizeof(bus));
    ck_assert_uint_eq(chip_component_classes[CHIP_VECMOD].size, sizeof(vecmod));
    ck_assert_uint_eq(((bus *)sim_component(s, 1))->lanes.servers, 1); /* the out bus */
    ck_assert_uint_eq(((vecmod *)sim_component(s, 2))->lanes.servers, 4);
    chip_component_kind k;
    ck_assert_int_eq(chip_component_parse("host", &k), -1);
    ck_assert_str_eq(part_activity_name(PART_ACT_TRANSFER), "transfer");
    ck_assert_str_eq(vecmod_op_name(VECMOD_OP_RESIDUAL_ADD), "residual_add");
    sim_destroy(s);
}
END_TEST

/* ---- a pipeline: in bus -> tile -> out bus -> vector module ---------------------------------- */

enum { PIPE_START = 1, PIPE_IN_DONE, PIPE_VMM_DONE, PIPE_OUT_DONE, PIPE_VEC_DONE };

typedef struct pipeline {
    component base;
    tile *tiles[2];
    bus *in, *out;
    vecmod *vec;
    simtime last_done; /* ps */
    uint64_t done;     /* vectors through, count */
} pipeline;

static void pipe_handle(component *c, const event *ev)
{
    pipeline *p = (pipeline *)c;
    uint64_t i = ev->kind == PIPE_START ? ev->payload.u[0] : ev->payload.u[PART_REPLY_WORD_TAG];
    part_reply rep = {
        .target = c->id, .tag = i, .layer = 0, .copy = (int32_t)(i % 2), .inference = (int64_t)i};
    cost_vmm v = {.rows_used = 4, .cols_used = 4, .in_bits = 3, .adc_bits = 4};
    switch (ev->kind) {
    case PIPE_START: /* 4 rows x 8-bit inputs */
        rep.kind = PIPE_IN_DONE;
        bus_transfer(p->in, 32, &rep);
        break;
    case PIPE_IN_DONE:
        rep.kind = PIPE_VMM_DONE;
        tile_vmm(p->tiles[i % 2], &v, &rep);
        break;
    case PIPE_VMM_DONE: /* 4 columns x 8 psum bits */
        rep.kind = PIPE_OUT_DONE;
        bus_transfer(p->out, 32, &rep);
        break;
    case PIPE_OUT_DONE: /* shift-add the 4 columns' slices, read 4 B and write 2 B */
        rep.kind = PIPE_VEC_DONE;
        vecmod_op(p->vec, VECMOD_OP_SHIFT_ADD, 4, 4, 2, &rep);
        break;
    case PIPE_VEC_DONE:
        p->done++;
        p->last_done = ev->time;
        break;
    default:
        ck_abort_msg("pipeline: unknown kind %u", ev->kind);
    }
}

static const component_ops pipe_ops = {.kind = "pipeline", .handle = pipe_handle};
static const component_class pipe_class = {.size = sizeof(pipeline), .ops = &pipe_ops};

static sim *pipe_run(const arch *a, unsigned vectors, trace_sink *sink, pipeline **out)
{
    sim_options o;
    sim_options_default(&o);
    o.trace = sink;
    sim *s = sim_create(&o);
    pipeline *p = (pipeline *)sim_create_component(s, &pipe_class, "pipeline");
    p->tiles[0] = tile_create(s, "tile0", a);
    p->tiles[1] = tile_create(s, "tile1", a);
    p->in = bus_create(s, "in", a, &a->groups.in_bus);
    p->out = bus_create(s, "out", a, &a->groups.out_bus);
    p->vec = vecmod_create(s, "vec", a);
    for (unsigned i = 0; i < vectors; i++) {
        event_payload pl = {.u = {i}};
        sim_schedule_at(s, (simtime)i * 1000, p->base.id, PIPE_START, 2, &pl);
    }
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    sim_finish(s);
    *out = p;
    return s;
}

/* One vector: in bus 32 bits = 4 words over 4 lanes -> 2000 ps; VMM 54000 -> 56000; out bus
 * 32 bits = 2 words on 1 lane -> 2000 -> 58000; 4 lane ops over 4 lanes -> 3000 -> 61000 ps. */
START_TEST(test_components_pipeline_one_vector_by_hand)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    pipeline *p;
    sim *s = pipe_run(&a, 1, NULL, &p);
    ck_assert_uint_eq(p->done, 1);
    ck_assert_uint_eq(p->last_done, 61000);
    sim_destroy(s);
}
END_TEST

/* Two identical runs of 40 vectors (contention on every stage) give identical statistics, entry
 * by entry and bit for bit, and identical trace records. */
START_TEST(test_components_determinism)
{
    arch a = small_arch(ARCH_MAP_OFFSET);
    trace_sink *k1 = trace_memory_create(TRACE_VECTOR), *k2 = trace_memory_create(TRACE_VECTOR);
    pipeline *p1, *p2;
    sim *s1 = pipe_run(&a, 40, k1, &p1);
    sim *s2 = pipe_run(&a, 40, k2, &p2);
    ck_assert_uint_eq(p1->done, 40);
    ck_assert_uint_eq(p1->last_done, p2->last_done);
    ck_assert_uint_eq(sim_component_count(s1), sim_component_count(s2));
    for (uint32_t id = 0; id < sim_component_count(s1); id++) {
        const stats *a1 = &sim_component(s1, id)->stats, *a2 = &sim_component(s2, id)->stats;
        ck_assert_uint_eq(stats_size(a1), stats_size(a2));
        for (size_t i = 0; i < stats_size(a1); i++) {
            const stats_entry *e1 = stats_at(a1, i), *e2 = stats_at(a2, i);
            ck_assert_str_eq(e1->name, e2->name);
            ck_assert_str_eq(e1->unit, e2->unit);
            ck_assert_uint_eq(e1->count, e2->count);
            ck_assert(memcmp(&e1->sum, &e2->sum, sizeof e1->sum) == 0);
            ck_assert(memcmp(&e1->min, &e2->min, sizeof e1->min) == 0);
            ck_assert(memcmp(&e1->max, &e2->max, sizeof e1->max) == 0);
        }
    }
    /* 40 vectors x 4 records (in, vmm, out, vector op) */
    ck_assert_uint_eq(trace_memory_count(k1), 160);
    ck_assert_uint_eq(trace_memory_count(k2), 160);
    for (size_t i = 0; i < 160; i++)
        ck_assert(trace_record_same(trace_memory_at(k1, i), trace_memory_at(k2, i)));
    sim_destroy(s1);
    sim_destroy(s2);
    trace_destroy(k1);
    trace_destroy(k2);
}
END_TEST

/* An event kind a tile does not define is a bug: the run aborts (naming it on stderr). */
START_TEST(test_components_unknown_event_aborts)
{
    arch a = small_arch(ARCH_MAP_UNSIGNED);
    sim *s = sim_create(NULL);
    tile *t = tile_create(s, "tile0", &a);
    sim_schedule_at(s, 0, t->base.id, 77, 0, NULL);
    sim_run(s);
}
END_TEST

static Suite *components_suite(void)
{
    Suite *s = suite_create("components");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_components_footprint_by_mapping);
    tcase_add_test(tc, test_components_vmm_stages_times_and_energy);
    tcase_add_test(tc, test_components_vmm_per_mapping);
    tcase_add_test(tc, test_components_tile_fifo_and_report);
    tcase_add_test(tc, test_components_reprogram_write_then_execute);
    tcase_add_test(tc, test_components_request_packing_round_trips);
    tcase_add_test(tc, test_components_tile_event_requests_reply_and_trace);
    tcase_add_test(tc, test_components_adc_bits_never_shorten);
    tcase_add_test(tc, test_components_power_gating_static_energy);
    tcase_add_test(tc, test_components_bus_free_lanes_closed_form);
    tcase_add_test(tc, test_components_bus_busy_lanes_by_hand);
    tcase_add_test(tc, test_components_bus_larger_chunks_first);
    tcase_add_test(tc, test_components_two_tiles_share_a_bus_lane);
    tcase_add_test(tc, test_components_vecmod_free_lanes_closed_form);
    tcase_add_test(tc, test_components_vecmod_busy_lanes_by_hand);
    tcase_add_test(tc, test_components_registry);
    tcase_add_test(tc, test_components_pipeline_one_vector_by_hand);
    tcase_add_test(tc, test_components_determinism);
    tcase_add_test(tc, test_components_tile_mirrors_report_as_their_leader);
    tcase_add_test(tc, test_components_tile_statistics_over_shape_changes);
    suite_add_tcase(s, tc);
    /* Aborting tests need Check's fork mode; skip them when it is off (valgrind runs). */
    const char *fork_env = getenv("CK_FORK");
    if (!fork_env || strcmp(fork_env, "no") != 0) {
        TCase *tabort = tcase_create("abort");
        tcase_add_test_raise_signal(tabort, test_components_unknown_event_aborts, SIGABRT);
        suite_add_tcase(s, tabort);
    }
    return s;
}

int main(void)
{
    return testutil_run(components_suite());
}
