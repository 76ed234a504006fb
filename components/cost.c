/* cost: timing and energy formulas (see cost.h). Integer ps arithmetic after one rounding of
 * each base duration, so that any two users of a formula agree to the tick. */
#include "cost.h"

#include <assert.h>
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
    c.xbar_reads = c.steps * c.row_groups * v->cols_used;
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
    e.dac_pj = (double)c.dac_convs * a->tiles.dac.energy_pj;
    e.xbar_pj = (double)c.xbar_reads * a->tiles.crossbar.read_energy_pj;
    e.adc_pj = (double)c.adc_convs * arch_bits_fn_eval(&a->tiles.adc.energy_pj, v->adc_bits);
    e.shift_add_pj = (double)c.shift_adds * a->tiles.shift_add_energy_pj;
    return e;
}

double cost_energy_total(const cost_energy *e)
{
    return e->dac_pj + e->xbar_pj + e->adc_pj + e->shift_add_pj;
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

double cost_tile_static_pj(const arch *a, simtime busy_ps, simtime total_ps)
{
    assert(busy_ps <= total_ps);
    const double uw_ps_to_pj = 1e-6; /* 1 uW x 1 ps = 1e-6 pJ */
    if (!a->tiles.power_gating)
        return a->tiles.static_power_uw * (double)total_ps * uw_ps_to_pj;
    return (a->tiles.static_power_uw * (double)busy_ps +
            a->tiles.gated_power_uw * (double)(total_ps - busy_ps)) *
           uw_ps_to_pj;
}

double cost_vector_leakage_pj(const arch *a, simtime total_ps)
{
    return a->vector.leakage_uw * (double)total_ps * 1e-6;
}

/* Derived figures for `xbarsim info`: every figure comes from the formulas above. */
#define DERIVED_BITS 8u   /* input and weight bits of the derived figures */
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

    /* Peak rate: each tile holds as many 8-bit weights as the mapping allows -- logical rows
     * rows / row_factor by logical columns (cols - extra) / (slices x col_factor) -- and finishes
     * one full-tile VMM of them every cost_vmm_ps; all tiles at once; buses, vector modules and
     * writes not counted. */
    unsigned cf, extra, rf;
    arch_mapping_factors(a->tiles.mapping, &cf, &extra, &rf);
    uint64_t slices = ceil_div(DERIVED_BITS, a->tiles.cell_bits);
    uint64_t lrows = a->tiles.rows / rf;
    uint64_t lcols = (a->tiles.cols - extra) / (slices * cf);
    v.rows_used = a->tiles.rows;
    simtime full = cost_vmm_ps(a, &v);
    double weights = (double)lrows * (double)lcols;
    fprintf(out, "derived.weights_per_tile_8bit = %.10g weights\n", weights);
    if (full == 0)
        fprintf(out, "derived.peak_macs_per_s = inf (the arch gives VMMs no time)\n");
    else
        fprintf(out,
                "derived.peak_macs_per_s = %.10g MAC/s (8-bit weights and inputs, all tiles)\n",
                (double)a->tiles.count * weights / simtime_to_s(full));
}

static const char *const category_names[COST_E_COUNT] = {
#define COST_CATEGORY_NAME(id, name) [COST_E_##id] = name,
    COST_CATEGORY_MAP(COST_CATEGORY_NAME)
#undef COST_CATEGORY_NAME
};

const char *cost_category_name(cost_category c)
{
    assert((unsigned)c < COST_E_COUNT);
    return category_names[c];
}
