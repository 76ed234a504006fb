/* cost: timing and energy formulas (see cost.h). Integer ps arithmetic after one rounding of
 * each base duration, so that any two users of a formula agree to the tick. */
#include "cost.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    assert(b > 0);
    return a / b + (a % b != 0);
}

cost_footprint cost_weight_footprint(const arch *a, uint64_t r, uint64_t n, unsigned wb)
{
    assert(r >= 1 && n >= 1 && wb >= 1);
    unsigned cf, extra, rf;
    arch_mapping_factors(a->tiles.mapping, &cf, &extra, &rf);
    assert(extra < a->tiles.cols);
    cost_footprint f;
    f.slices = ceil_div(wb, a->tiles.cell_bits);
    f.rows = r * rf;
    f.cols = n * f.slices * cf;
    f.row_tiles = ceil_div(f.rows, a->tiles.rows);
    /* The offset mapping keeps one reference column in every column tile. */
    f.col_tiles = ceil_div(f.cols, a->tiles.cols - extra);
    f.tiles = f.row_tiles * f.col_tiles;
    f.cells = f.rows * (f.cols + f.col_tiles * extra);
    return f;
}

cost_vmm_counts cost_vmm_count(const arch *a, const cost_vmm *v)
{
    assert(v->rows_used >= 1 && v->rows_used <= a->tiles.rows);
    assert(v->cols_used >= 1 && v->cols_used <= a->tiles.cols);
    assert(v->in_bits >= 1);
    cost_vmm_counts c;
    c.steps = ceil_div(v->in_bits, a->tiles.dac.bits);
    c.row_groups = ceil_div(v->rows_used, a->tiles.rows_active);
    c.col_rounds = ceil_div(v->cols_used, a->tiles.adc.count);
    c.dac_convs = c.steps * v->rows_used;
    c.cell_reads = c.steps * (uint64_t)v->rows_used * v->cols_used;
    c.xbar_reads = c.steps * c.row_groups * v->cols_used;
    c.samples = c.xbar_reads;
    c.adc_convs = c.xbar_reads;
    c.shift_adds = c.xbar_reads;
    return c;
}

simtime cost_adc_conversion_ps(const arch *a, unsigned bits)
{
    return simtime_from_ns(arch_bits_fn_eval(&a->tiles.adc.time_ns, bits));
}

simtime cost_vmm_ps(const arch *a, const cost_vmm *v)
{
    cost_vmm_counts c = cost_vmm_count(a, v);
    if (a->tiles.crossbar.execute_ns_per_bit > 0.0)
        return c.steps * simtime_from_ns(a->tiles.crossbar.execute_ns_per_bit);
    simtime per_group = simtime_from_ns(a->tiles.dac.latency_ns) +
                        simtime_from_ns(a->tiles.crossbar.read_latency_ns) +
                        c.col_rounds * cost_adc_conversion_ps(a, v->adc_bits);
    return c.steps * c.row_groups * per_group;
}

cost_energy cost_vmm_energy(const arch *a, const cost_vmm *v)
{
    cost_vmm_counts c = cost_vmm_count(a, v);
    cost_energy e;
    e.dac_pj = (double)c.dac_convs * arch_bits_fn_eval(&a->tiles.dac.energy_pj, a->tiles.dac.bits);
    e.xbar_pj = (double)c.cell_reads * a->tiles.crossbar.cell_read_energy_pj +
                (double)c.xbar_reads * a->tiles.crossbar.read_energy_pj;
    e.sample_hold_pj = (double)c.samples * a->tiles.sample_hold.energy_pj;
    e.adc_pj = (double)c.adc_convs * arch_bits_fn_eval(&a->tiles.adc.energy_pj, v->adc_bits);
    e.shift_add_pj = (double)c.shift_adds * a->tiles.shift_add.energy_pj;
    return e;
}

double cost_energy_total(const cost_energy *e)
{
    return e->dac_pj + e->xbar_pj + e->sample_hold_pj + e->adc_pj + e->shift_add_pj;
}

void cost_energy_add(double acc[COST_E_COUNT], const cost_energy *e, double n)
{
    acc[COST_E_DAC] += e->dac_pj * n;
    acc[COST_E_XBAR] += e->xbar_pj * n;
    acc[COST_E_SAMPLE_HOLD] += e->sample_hold_pj * n;
    acc[COST_E_ADC] += e->adc_pj * n;
    acc[COST_E_SHIFT_ADD] += e->shift_add_pj * n;
}

void cost_vmm_energy_sum(const arch *a, const cost_vmm *v, const uint64_t *count, unsigned n,
                         double acc[COST_E_COUNT])
{
    for (unsigned i = 0; i < n; i++) {
        cost_energy e = cost_vmm_energy(a, &v[i]);
        cost_energy_add(acc, &e, (double)count[i]);
    }
}

simtime cost_write_ps(const arch *a)
{
    return simtime_from_ns(a->tiles.crossbar.write_ns_per_tile);
}

double cost_write_energy_pj(const arch *a, uint64_t cells)
{
    return (double)cells * a->tiles.crossbar.write_energy_pj_per_cell;
}

uint64_t cost_bus_words(const arch_bus *b, uint64_t bits)
{
    return ceil_div(bits, b->lane_bits);
}

simtime cost_bus_word_ps(const arch *a, const arch_bus *b)
{
    return (simtime)b->cycles_per_transfer * a->cycle_ps;
}

simtime cost_bus_transfer_ps(const arch *a, const arch_bus *b, uint64_t bits, unsigned lanes_free)
{
    assert(lanes_free >= 1 && lanes_free <= b->lanes);
    return ceil_div(cost_bus_words(b, bits), lanes_free) * cost_bus_word_ps(a, b);
}

double cost_bus_energy_pj(const arch_bus *b, uint64_t bits)
{
    return (double)bits * b->energy_pj_per_bit;
}

simtime cost_noc_hop_ps(const arch *a)
{
    return (simtime)a->noc.router_cycles * a->cycle_ps;
}

simtime cost_noc_serial_ps(const arch *a, uint64_t bits)
{
    assert(a->noc.link_bits >= 1);
    return ceil_div(bits, a->noc.link_bits) * a->cycle_ps;
}

simtime cost_noc_transfer_ps(const arch *a, uint64_t bits, unsigned hops)
{
    if (hops == 0)
        return 0;
    return hops * cost_noc_hop_ps(a) + cost_noc_serial_ps(a, bits);
}

double cost_noc_energy_pj(const arch *a, uint64_t bits, unsigned hops)
{
    return (double)bits * hops * a->noc.energy_pj_per_bit_hop;
}

simtime cost_xlink_hop_ps(const arch_xlink *l)
{
    return simtime_from_ns(l->latency_ns);
}

simtime cost_xlink_serial_ps(const arch_xlink *l, uint64_t bits)
{
    assert(l->present && l->links >= 1 && l->gbytes_per_s > 0);
    /* GB/s x 8 = bits per ns, so bits / (links x GB/s x 8) ns = bits x 125 / (links x GB/s) ps */
    return (simtime)ceil((double)bits * 125.0 / (l->links * l->gbytes_per_s));
}

simtime cost_xlink_transfer_ps(const arch_xlink *l, uint64_t bits, unsigned hops)
{
    if (hops == 0)
        return 0;
    return hops * cost_xlink_hop_ps(l) + cost_xlink_serial_ps(l, bits);
}

double cost_xlink_energy_pj(const arch_xlink *l, uint64_t bits, unsigned hops)
{
    return (double)bits * hops * l->energy_pj_per_bit;
}

simtime cost_vector_op_ps(const arch *a)
{
    return (simtime)a->vector.cycles_per_op * a->cycle_ps;
}

simtime cost_vector_ps(const arch *a, uint64_t ops, unsigned lanes)
{
    assert(lanes >= 1 && lanes <= a->vector.lanes);
    return ceil_div(ops, lanes) * cost_vector_op_ps(a);
}

double cost_vector_energy_pj(const arch *a, uint64_t ops, uint64_t sram_read_bytes,
                             uint64_t sram_write_bytes)
{
    return (double)ops * a->vector.op_energy_pj +
           (double)sram_read_bytes * a->vector.sram_read_pj_per_byte +
           (double)sram_write_bytes * a->vector.sram_write_pj_per_byte;
}

/* ---- static power and area --------------------------------------------------------------- */

#define UW_PS_TO_PJ 1e-6 /* 1 uW x 1 ps = 1e-6 pJ */
#define KIB         1024.0

void cost_tile_static_uw(const arch *a, double out_uw[COST_PART_COUNT])
{
    for (int p = 0; p < COST_PART_COUNT; p++)
        out_uw[p] = 0.0;
    out_uw[COST_PART_DAC] = a->tiles.rows * a->tiles.dac.static_power_uw;
    out_uw[COST_PART_XBAR] = a->tiles.crossbar.static_power_uw;
    out_uw[COST_PART_SAMPLE_HOLD] = a->tiles.cols * a->tiles.sample_hold.static_power_uw;
    out_uw[COST_PART_ADC] = a->tiles.adc.count * a->tiles.adc.static_power_uw;
    out_uw[COST_PART_SHIFT_ADD] = a->tiles.shift_add.count * a->tiles.shift_add.static_power_uw;
}

static double bus_wires(const arch_bus *b)
{
    return (double)b->lanes * b->lane_bits;
}

/* Sum over the other parts of `scope` of count x per-instance figure (static power or area). */
static double other_parts(const arch *a, arch_scope scope, bool area)
{
    double sum = 0.0;
    for (unsigned i = 0; i < a->n_other_parts; i++) {
        const arch_other_part *op = &a->other_parts[i];
        if (op->scope == scope)
            sum += op->count * (area ? op->area_um2 : op->static_power_uw);
    }
    return sum;
}

void cost_group_static_uw(const arch *a, double out_uw[COST_PART_COUNT])
{
    for (int p = 0; p < COST_PART_COUNT; p++)
        out_uw[p] = 0.0;
    out_uw[COST_PART_BUS] =
        bus_wires(&a->groups.in_bus) * a->groups.in_bus.static_power_uw_per_wire +
        bus_wires(&a->groups.out_bus) * a->groups.out_bus.static_power_uw_per_wire;
    out_uw[COST_PART_OTHER] = other_parts(a, ARCH_SCOPE_GROUP, false);
}

double cost_vecmod_lanes_uw(const arch *a)
{
    return a->vector.lanes * a->vector.lane_static_power_uw;
}

double cost_vecmod_sram_uw(const arch *a)
{
    return (double)a->vector.sram_bytes / KIB * a->vector.sram_leakage_uw_per_kib;
}

double cost_chip_other_uw(const arch *a)
{
    return other_parts(a, ARCH_SCOPE_CHIP, false);
}

/* Energy of `n` gated parts of power p_uw each, busy `busy_ps` in all, over window_ps, pJ. */
static double gated_pj(const arch *a, double p_uw, double n, double busy_ps, double window_ps)
{
    double on_ps = n * window_ps;
    if (busy_ps > on_ps) /* a part cannot be busier than on: only rounding can get here */
        busy_ps = on_ps;
    return p_uw * (busy_ps + a->gated_fraction * (on_ps - busy_ps)) * UW_PS_TO_PJ;
}

/* Every router of one chip's network with its links, uW. */
static double noc_uw(const arch *a)
{
    return arch_noc_routers(a) * a->noc.router_static_power_uw;
}

/* One chip's off-chip links, uW or um2. */
static double offchip_each(const arch *a, bool area)
{
    const arch_xlink *l = &a->offchip;
    return l->present ? l->links * (area ? l->area_um2 : l->static_power_uw) : 0.0;
}

/* Link ends of the interchip links of a chain of `chips` chips (2 per link), count. */
static double interchip_ends(const arch *a, unsigned chips)
{
    return a->interchip.present && chips > 1 ? 2.0 * (chips - 1) * a->interchip.links : 0.0;
}

void cost_static_energy(const arch *a, const cost_usage *u, double window_ps,
                        double out[COST_E_COUNT])
{
    assert(u->chips >= 1);
    double w = window_ps, chips = u->chips, tile_uw[COST_PART_COUNT], group_uw[COST_PART_COUNT];
    cost_tile_static_uw(a, tile_uw);
    cost_group_static_uw(a, group_uw);
    double groups_all = (double)arch_groups(a) * chips;
    for (int p = 0; p < COST_PART_COUNT; p++)
        out[COST_E_STATIC_FIRST + p] = 0.0;
    if (a->power_gating) {
        double tiles = (double)u->tiles, groups = (double)u->groups;
        for (int p = 0; p < COST_PART_COUNT; p++) {
            out[COST_E_STATIC_FIRST + p] += gated_pj(a, tile_uw[p], tiles, u->tile_busy_ps, w);
            out[COST_E_STATIC_FIRST + p] += group_uw[p] * groups * w * UW_PS_TO_PJ;
        }
        out[COST_E_STATIC_VECTOR] += gated_pj(a, a->vector.lane_static_power_uw,
                                              groups * a->vector.lanes, u->lane_busy_ps, w);
        out[COST_E_STATIC_SRAM] += cost_vecmod_sram_uw(a) * groups * w * UW_PS_TO_PJ;
    } else {
        double tiles = (double)a->tiles.count * chips;
        for (int p = 0; p < COST_PART_COUNT; p++)
            out[COST_E_STATIC_FIRST + p] +=
                (tile_uw[p] * tiles + group_uw[p] * groups_all) * w * UW_PS_TO_PJ;
        out[COST_E_STATIC_VECTOR] += cost_vecmod_lanes_uw(a) * groups_all * w * UW_PS_TO_PJ;
        out[COST_E_STATIC_SRAM] += cost_vecmod_sram_uw(a) * groups_all * w * UW_PS_TO_PJ;
    }
    out[COST_E_STATIC_OTHER] += cost_chip_other_uw(a) * chips * w * UW_PS_TO_PJ;
    /* The network carries every group's traffic: its routers stay on, gated or not; so do the
     * links off each chip and between the chips used. */
    out[COST_E_STATIC_NOC] += noc_uw(a) * chips * w * UW_PS_TO_PJ;
    out[COST_E_STATIC_OFFCHIP] += offchip_each(a, false) * chips * w * UW_PS_TO_PJ;
    out[COST_E_STATIC_INTERCHIP] +=
        interchip_ends(a, u->chips) * a->interchip.static_power_uw * w * UW_PS_TO_PJ;
}

double cost_tile_static_pj(const arch *a, simtime busy_ps, simtime total_ps)
{
    assert(busy_ps <= total_ps);
    double tile_uw[COST_PART_COUNT];
    cost_tile_static_uw(a, tile_uw);
    double p = cost_sum_parts(tile_uw);
    if (!a->power_gating)
        return p * (double)total_ps * UW_PS_TO_PJ;
    return gated_pj(a, p, 1.0, (double)busy_ps, (double)total_ps);
}

double cost_sum_parts(const double v[COST_PART_COUNT])
{
    double s = 0.0;
    for (int p = 0; p < COST_PART_COUNT; p++)
        s += v[p];
    return s;
}

void cost_chip_area_um2(const arch *a, double out_um2[COST_PART_COUNT])
{
    double tiles = a->tiles.count, groups = arch_groups(a);
    for (int p = 0; p < COST_PART_COUNT; p++)
        out_um2[p] = 0.0;
    out_um2[COST_PART_DAC] = tiles * a->tiles.rows * a->tiles.dac.area_um2;
    out_um2[COST_PART_XBAR] =
        tiles * (double)a->tiles.rows * a->tiles.cols * a->tiles.crossbar.cell_area_um2;
    out_um2[COST_PART_SAMPLE_HOLD] = tiles * a->tiles.cols * a->tiles.sample_hold.area_um2;
    out_um2[COST_PART_ADC] =
        tiles * a->tiles.adc.count * arch_bits_fn_eval(&a->tiles.adc.area_um2, a->tiles.adc.bits);
    out_um2[COST_PART_SHIFT_ADD] = tiles * a->tiles.shift_add.count * a->tiles.shift_add.area_um2;
    out_um2[COST_PART_BUS] =
        groups * (bus_wires(&a->groups.in_bus) * a->groups.in_bus.area_um2_per_wire +
                  bus_wires(&a->groups.out_bus) * a->groups.out_bus.area_um2_per_wire);
    out_um2[COST_PART_VECTOR] = groups * a->vector.lanes * a->vector.lane_area_um2;
    out_um2[COST_PART_SRAM] =
        groups * (double)a->vector.sram_bytes / KIB * a->vector.sram_area_um2_per_kib;
    out_um2[COST_PART_NOC] = arch_noc_routers(a) * a->noc.router_area_um2;
    out_um2[COST_PART_OFFCHIP] = offchip_each(a, true);
    /* a chip of a chain of chips has link ends towards both neighbours */
    out_um2[COST_PART_INTERCHIP] = interchip_ends(a, a->chips > 1 ? 2 : 1) * a->interchip.area_um2;
    out_um2[COST_PART_OTHER] =
        groups * other_parts(a, ARCH_SCOPE_GROUP, true) + other_parts(a, ARCH_SCOPE_CHIP, true);
}

/* Static power of the whole chip with nothing gated, by part, uW (set). */
static void chip_static_uw(const arch *a, double out_uw[COST_PART_COUNT])
{
    double tile_uw[COST_PART_COUNT], group_uw[COST_PART_COUNT];
    cost_tile_static_uw(a, tile_uw);
    cost_group_static_uw(a, group_uw);
    double groups = arch_groups(a);
    for (int p = 0; p < COST_PART_COUNT; p++)
        out_uw[p] = tile_uw[p] * a->tiles.count + group_uw[p] * groups;
    out_uw[COST_PART_VECTOR] += cost_vecmod_lanes_uw(a) * groups;
    out_uw[COST_PART_SRAM] += cost_vecmod_sram_uw(a) * groups;
    out_uw[COST_PART_OTHER] += cost_chip_other_uw(a);
    out_uw[COST_PART_NOC] += noc_uw(a);
    out_uw[COST_PART_OFFCHIP] += offchip_each(a, false);
    out_uw[COST_PART_INTERCHIP] +=
        interchip_ends(a, a->chips > 1 ? 2 : 1) * a->interchip.static_power_uw;
}

/* The full VMM of the peak: every row and column, peak_bits inputs, configured ADC bits. */
static cost_vmm peak_vmm(const arch *a)
{
    return (cost_vmm){.rows_used = a->tiles.rows,
                      .cols_used = a->tiles.cols,
                      .in_bits = a->peak_bits,
                      .adc_bits = a->tiles.adc.bits};
}

cost_peak cost_peak_eval(const arch *a)
{
    cost_peak pk = {0};
    /* Each tile holds rows / row_factor logical rows by (cols - extra) / (slices x col_factor)
     * logical columns of peak_bits weights. */
    unsigned cf, extra, rf;
    arch_mapping_factors(a->tiles.mapping, &cf, &extra, &rf);
    uint64_t slices = ceil_div(a->peak_bits, a->tiles.cell_bits);
    pk.weights_per_tile =
        (double)(a->tiles.rows / rf) * (double)((a->tiles.cols - extra) / (slices * cf));
    cost_vmm v = peak_vmm(a);
    simtime t = cost_vmm_ps(a, &v);
    cost_energy e = cost_vmm_energy(a, &v);
    double static_uw[COST_PART_COUNT], area_um2[COST_PART_COUNT];
    chip_static_uw(a, static_uw);
    cost_chip_area_um2(a, area_um2);
    pk.static_w = cost_sum_parts(static_uw) * 1e-6;
    pk.area_mm2 = cost_sum_parts(area_um2) * 1e-6;
    pk.vmm_s = simtime_to_s(t);
    if (t > 0) {
        pk.macs_per_s = (double)a->tiles.count * pk.weights_per_tile / pk.vmm_s;
        pk.dynamic_w = (double)a->tiles.count * cost_energy_total(&e) * 1e-12 / pk.vmm_s;
    }
    pk.ops_per_s = 2.0 * pk.macs_per_s;
    pk.power_w = pk.dynamic_w + pk.static_w;
    pk.tops_per_w = pk.power_w > 0 ? pk.ops_per_s * 1e-12 / pk.power_w : 0.0;
    pk.tops_per_mm2 = pk.area_mm2 > 0 ? pk.ops_per_s * 1e-12 / pk.area_mm2 : 0.0;
    return pk;
}

/* Derived figures for `xbarsim info`: every figure comes from the formulas above. */
#define DERIVED_BITS 8u   /* input bits of the single-VMM figure */
#define DERIVED_ROWS 256u /* rows of the single-VMM figure (clipped to the crossbar) */

void cost_print_derived(const arch *a, FILE *out)
{
    /* One VMM on one tile using min(256, rows) rows and every column, 8-bit input. */
    unsigned vrows = a->tiles.rows < DERIVED_ROWS ? a->tiles.rows : DERIVED_ROWS;
    cost_vmm v = {.rows_used = vrows,
                  .cols_used = a->tiles.cols,
                  .in_bits = DERIVED_BITS,
                  .adc_bits = a->tiles.adc.bits};
    simtime vmm = cost_vmm_ps(a, &v);
    fprintf(out,
            "derived.vmm_ns = %.10g ns (one tile, %u rows = min(%u, rows), all columns, %u-bit "
            "input)\n",
            simtime_to_ns(vmm), vrows, DERIVED_ROWS, DERIVED_BITS);

    cost_peak pk = cost_peak_eval(a);
    cost_vmm full = peak_vmm(a);
    cost_energy e = cost_vmm_energy(a, &full);
    fprintf(out, "derived.peak_weights_per_tile = %.10g weights (%u-bit, arch.peak_bits)\n",
            pk.weights_per_tile, a->peak_bits);
    fprintf(out, "derived.peak_vmm_ns = %.10g ns (all rows and columns, %u-bit input)\n",
            pk.vmm_s * 1e9, a->peak_bits);
    fprintf(out,
            "derived.peak_vmm_energy_pj = %.10g pJ (dac %.6g, crossbar %.6g, sample_hold %.6g, "
            "adc %.6g, shift_add %.6g)\n",
            cost_energy_total(&e), e.dac_pj, e.xbar_pj, e.sample_hold_pj, e.adc_pj, e.shift_add_pj);
    if (pk.macs_per_s == 0.0) {
        fprintf(out, "derived.peak_macs_per_s = inf (the arch gives VMMs no time)\n");
    } else {
        fprintf(out,
                "derived.peak_macs_per_s = %.10g MAC/s (%u-bit weights and inputs, all tiles)\n",
                pk.macs_per_s, a->peak_bits);
        fprintf(out, "derived.peak_ops_per_s = %.10g op/s (2 ops per MAC)\n", pk.ops_per_s);
    }
    fprintf(out,
            "derived.peak_power_w = %.10g W (tiles' dynamic %.6g W at the peak rate + static "
            "%.6g W, nothing gated)\n",
            pk.power_w, pk.dynamic_w, pk.static_w);
    fprintf(out, "derived.area_mm2 = %.10g mm2\n", pk.area_mm2);
    fprintf(out, "derived.peak_gops_per_w = %.10g GOPS/W\n", pk.tops_per_w * 1e3);
    fprintf(out, "derived.peak_gops_per_mm2 = %.10g GOPS/s/mm2\n", pk.tops_per_mm2 * 1e3);
    double static_uw[COST_PART_COUNT], area_um2[COST_PART_COUNT];
    chip_static_uw(a, static_uw);
    cost_chip_area_um2(a, area_um2);
    double st = cost_sum_parts(static_uw), ar = cost_sum_parts(area_um2);
    double tile_um2 = 0.0, groups = arch_groups(a);
    for (int p = COST_PART_DAC; p <= COST_PART_SHIFT_ADD; p++)
        tile_um2 += area_um2[p] / a->tiles.count;
    double group_um2 = (area_um2[COST_PART_BUS] + area_um2[COST_PART_VECTOR] +
                        area_um2[COST_PART_SRAM] + area_um2[COST_PART_NOC]) /
                           groups +
                       other_parts(a, ARCH_SCOPE_GROUP, true) + a->groups.tiles * tile_um2;
    fprintf(out,
            "derived.tile_area_um2 = %.10g um2 (DACs, cells, sample-and-holds, ADCs, "
            "shift-adds of one tile)\n",
            tile_um2);
    fprintf(out,
            "derived.group_area_um2 = %.10g um2 (%u tiles, buses, vector module, group parts, "
            "its share of the network's routers)\n",
            group_um2, a->groups.tiles);
    for (int p = 0; p < COST_PART_COUNT; p++)
        fprintf(out, "derived.static_w.%s = %.10g W (%.2f%%)\n", cost_part_name((cost_part)p),
                static_uw[p] * 1e-6, st > 0 ? 100.0 * static_uw[p] / st : 0.0);
    for (int p = 0; p < COST_PART_COUNT; p++)
        fprintf(out, "derived.area_mm2.%s = %.10g mm2 (%.2f%%)\n", cost_part_name((cost_part)p),
                area_um2[p] * 1e-6, ar > 0 ? 100.0 * area_um2[p] / ar : 0.0);
}

static const char *const category_names[COST_E_COUNT] = {
#define COST_DYN_NAME(id, name) [COST_E_##id] = name,
    COST_DYNAMIC_MAP(COST_DYN_NAME)
#undef COST_DYN_NAME
#define COST_STATIC_NAME(id, name) [COST_E_STATIC_##id] = "static_" name,
        COST_PART_MAP(COST_STATIC_NAME)
#undef COST_STATIC_NAME
};

static const char *const part_names[COST_PART_COUNT] = {
#define COST_PART_NAME(id, name) [COST_PART_##id] = name,
    COST_PART_MAP(COST_PART_NAME)
#undef COST_PART_NAME
};

const char *cost_category_name(cost_category c)
{
    assert((unsigned)c < COST_E_COUNT);
    return category_names[c];
}

const char *cost_part_name(cost_part p)
{
    assert((unsigned)p < COST_PART_COUNT);
    return part_names[p];
}

double cost_dynamic_total(const double e[COST_E_COUNT])
{
    double s = 0.0;
    for (int c = 0; c < COST_E_STATIC_FIRST; c++)
        s += e[c];
    return s;
}

double cost_static_total(const double e[COST_E_COUNT])
{
    double s = 0.0;
    for (int c = COST_E_STATIC_FIRST; c < COST_E_COUNT; c++)
        s += e[c];
    return s;
}

double cost_total(const double e[COST_E_COUNT])
{
    return cost_dynamic_total(e) + cost_static_total(e);
}
