/* cost: the timing and energy formulas of the chip -- the one source of truth.
 * Components take their event durations and energies from here, and the mapper's analytic model
 * takes its stage times from here, so simulation and model cannot drift. Every base duration is
 * rounded to whole ps once (simtime_from_ns / the clock period) and then multiplied in integers.
 */
#ifndef XBARSIM_COMPONENTS_COST_H
#define XBARSIM_COMPONENTS_COST_H

#include <stdint.h>
#include <stdio.h>

#include "arch.h"
#include "simtime.h"

/* Weight-matrix footprint. A layer's R x N weight matrix at wb weight bits needs
 * slices = ceil(wb / cell_bits) cells per weight; the mapping multiplies rows or columns (and the
 * offset mapping adds one reference column per column tile). */
typedef struct cost_footprint {
    uint64_t slices;    /* cells per weight, count */
    uint64_t rows;      /* physical rows needed: R x row factor, rows */
    uint64_t cols;      /* physical columns of weights: N x slices x column factor, columns */
    uint64_t row_tiles; /* ceil(rows / tile rows), count */
    uint64_t
        col_tiles;  /* tiles across the columns (offset: each also holds its reference), count */
    uint64_t tiles; /* row_tiles x col_tiles per copy, count */
    uint64_t cells; /* cells programmed per copy, including reference columns, count */
} cost_footprint;

cost_footprint cost_weight_footprint(const arch *a, uint64_t r, uint64_t n, unsigned wb);

/* One matrix-vector multiplication of one input vector on one tile. */
typedef struct cost_vmm {
    unsigned rows_used; /* rows holding weights of this tile (<= arch rows), rows */
    unsigned cols_used; /* columns holding weights (<= arch cols), columns */
    unsigned in_bits;   /* activation (input) bits streamed, bits */
    unsigned adc_bits;  /* ADC resolution for this layer, bits */
} cost_vmm;

/* The counts a VMM decomposes into; the time and energy below are functions of these. */
typedef struct cost_vmm_counts {
    uint64_t steps;      /* input steps: ceil(in_bits / dac bits), count */
    uint64_t row_groups; /* ceil(rows_used / rows_active), count */
    uint64_t col_rounds; /* ADC rounds per row group: ceil(cols_used / adc count), count */
    uint64_t dac_convs;  /* steps x rows_used, count */
    uint64_t xbar_reads; /* steps x row_groups x cols_used (column reads), count */
    uint64_t adc_convs;  /* steps x row_groups x cols_used, count */
    uint64_t shift_adds; /* steps x row_groups x cols_used, count */
} cost_vmm_counts;

/* Energy categories of a chip, as reported by the analytic model and the simulation: X(ID, name).
 * Dynamic: dac .. sram; static: tile_static (tile static power, gated or not) and sram_leakage. */
#define COST_CATEGORY_MAP(X)                                                                       \
    X(DAC, "dac")                                                                                  \
    X(XBAR, "crossbar")                                                                            \
    X(ADC, "adc")                                                                                  \
    X(SHIFT_ADD, "shift_add")                                                                      \
    X(WRITE, "write")                                                                              \
    X(BUS, "bus")                                                                                  \
    X(VECTOR, "vector")                                                                            \
    X(SRAM, "sram")                                                                                \
    X(TILE_STATIC, "tile_static")                                                                  \
    X(LEAKAGE, "sram_leakage")

typedef enum cost_category {
#define COST_CATEGORY_ENUM(id, name) COST_E_##id,
    COST_CATEGORY_MAP(COST_CATEGORY_ENUM)
#undef COST_CATEGORY_ENUM
        COST_E_COUNT
} cost_category;

/* Name of a category ("dac", ...); static storage. */
const char *cost_category_name(cost_category c);

typedef struct cost_energy {
    double dac_pj, xbar_pj, adc_pj, shift_add_pj; /* by part, pJ */
} cost_energy;

cost_vmm_counts cost_vmm_count(const arch *a, const cost_vmm *v);

/* Duration of one ADC conversion at `bits`, ps (rounded once). */
simtime cost_adc_conversion_ps(const arch *a, unsigned bits);
/* Duration of one VMM on one tile, ps: steps x row_groups x (DAC + read + col_rounds x ADC), or
 * steps x execute_ns_per_bit when the arch fixes the execute time per input bit. */
simtime cost_vmm_ps(const arch *a, const cost_vmm *v);
/* Dynamic energy of one VMM by part, pJ. */
cost_energy cost_vmm_energy(const arch *a, const cost_vmm *v);
double cost_energy_total(const cost_energy *e);

/* Programming one tile (reprogram mode): time, ps, and energy for `cells` cells, pJ. */
simtime cost_write_ps(const arch *a);
double cost_write_energy_pj(const arch *a, uint64_t cells);

/* Bus: words of lane width needed for `bits`, and the time to move them when `lanes_free` lanes
 * take words in parallel: ceil(words / lanes_free) x cycles_per_transfer x cycle, ps. */
uint64_t cost_bus_words(const arch_bus *b, uint64_t bits);
simtime cost_bus_word_ps(const arch *a, const arch_bus *b);
simtime cost_bus_transfer_ps(const arch *a, const arch_bus *b, uint64_t bits, unsigned lanes_free);
double cost_bus_energy_pj(const arch_bus *b, uint64_t bits);

/* Vector module: `ops` lane operations over `lanes` lanes, ps; energy of ops and SRAM traffic. */
simtime cost_vector_op_ps(const arch *a);
simtime cost_vector_ps(const arch *a, uint64_t ops, unsigned lanes);
double cost_vector_energy_pj(const arch *a, uint64_t ops, uint64_t sram_read_bytes,
                             uint64_t sram_write_bytes);

/* Static energy of one tile over `total_ps` of which `busy_ps` busy: with power gating idle time
 * draws gated power, otherwise static power throughout. uW x ps = 1e-6 pJ. */
double cost_tile_static_pj(const arch *a, simtime busy_ps, simtime total_ps);
/* SRAM leakage of one vector module over `total_ps`, pJ. */
double cost_vector_leakage_pj(const arch *a, simtime total_ps);

/* Print derived figures of an arch (one VMM's time, weights per tile, peak MAC rate), one
 * `derived.<name> = value unit` line each. */
void cost_print_derived(const arch *a, FILE *out);

#endif
