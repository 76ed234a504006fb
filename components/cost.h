/* cost: the timing and energy formulas of the chip -- the one source of truth.
 * Components take their event durations and energies from here, and the mapper's analytic model
 * takes its stage times from here, so simulation and model cannot drift. Every base duration is
 * rounded to whole ps once (simtime_from_ns / the clock period) and then multiplied in integers.
 */
#ifndef XBARSIM_COMPONENTS_COST_H
#define XBARSIM_COMPONENTS_COST_H

#include <stdbool.h>
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
    uint64_t cell_reads; /* steps x rows_used x cols_used (every used cell once per step), count */
    uint64_t xbar_reads; /* steps x row_groups x cols_used (column reads), count */
    uint64_t samples;    /* sample-and-hold samples: one per column read, count */
    uint64_t adc_convs;  /* steps x row_groups x cols_used, count */
    uint64_t shift_adds; /* steps x row_groups x cols_used, count */
} cost_vmm_counts;

/* The parts of a chip that draw static power and take area: X(ID, name). */
#define COST_PART_MAP(X)                                                                           \
    X(DAC, "dac")                                                                                  \
    X(XBAR, "crossbar")                                                                            \
    X(SAMPLE_HOLD, "sample_hold")                                                                  \
    X(ADC, "adc")                                                                                  \
    X(SHIFT_ADD, "shift_add")                                                                      \
    X(BUS, "bus")                                                                                  \
    X(VECTOR, "vector")                                                                            \
    X(SRAM, "sram")                                                                                \
    X(NOC, "noc")                                                                                  \
    X(INTERCHIP, "interchip")                                                                      \
    X(OFFCHIP, "offchip")                                                                          \
    X(OTHER, "other")

typedef enum cost_part {
#define COST_PART_ENUM(id, name) COST_PART_##id,
    COST_PART_MAP(COST_PART_ENUM)
#undef COST_PART_ENUM
        COST_PART_COUNT
} cost_part;

/* Dynamic energy categories: X(ID, name). Each is charged per operation a part performs. */
#define COST_DYNAMIC_MAP(X)                                                                        \
    X(DAC, "dac")                 /* DAC conversions */                                            \
    X(XBAR, "crossbar")           /* cell reads and column reads */                                \
    X(SAMPLE_HOLD, "sample_hold") /* column samples */                                             \
    X(ADC, "adc")                 /* ADC conversions */                                            \
    X(SHIFT_ADD, "shift_add")     /* the tile's shift-and-add */                                   \
    X(WRITE, "write")             /* cell programming per inference (reprogram mode) */            \
    X(BUS, "bus")                 /* bits over the group buses */                                  \
    X(VECTOR, "vector")           /* vector-module lane ops */                                     \
    X(SRAM, "sram")               /* SRAM reads and writes */                                      \
    X(NOC, "noc")                 /* bits x hops over the on-chip network */                       \
    X(INTERCHIP, "interchip")     /* bits x hops over the links between chips */                   \
    X(OFFCHIP, "offchip")         /* bits over the off-chip link (input, output, weights) */

/* Energy categories of a chip, as reported by the analytic model and the simulation: the dynamic
 * ones, then one static category per part ("static_<part>", at COST_E_STATIC_FIRST + part). */
typedef enum cost_category {
#define COST_DYN_ENUM(id, name) COST_E_##id,
    COST_DYNAMIC_MAP(COST_DYN_ENUM)
#undef COST_DYN_ENUM
#define COST_STATIC_ENUM(id, name) COST_E_STATIC_##id,
        COST_PART_MAP(COST_STATIC_ENUM)
#undef COST_STATIC_ENUM
            COST_E_COUNT
} cost_category;

#define COST_E_STATIC_FIRST COST_E_STATIC_DAC

/* Name of a category ("dac", ..., "static_dac", ...); static storage. */
const char *cost_category_name(cost_category c);
/* Name of a part ("dac", ...); static storage. */
const char *cost_part_name(cost_part p);
static inline bool cost_category_is_static(cost_category c)
{
    return c >= COST_E_STATIC_FIRST;
}
/* Sums of the dynamic, static and all categories of e, pJ. */
double cost_dynamic_total(const double e[COST_E_COUNT]);
double cost_static_total(const double e[COST_E_COUNT]);
double cost_total(const double e[COST_E_COUNT]);

typedef struct cost_energy {
    double dac_pj, xbar_pj, sample_hold_pj, adc_pj, shift_add_pj; /* by part, pJ */
} cost_energy;

cost_vmm_counts cost_vmm_count(const arch *a, const cost_vmm *v);

/* Duration of one ADC conversion at `bits`, ps (rounded once). */
simtime cost_adc_conversion_ps(const arch *a, unsigned bits);
/* Duration of one VMM on one tile, ps: steps x row_groups x (DAC + read + col_rounds x ADC), or
 * steps x execute_ns_per_bit when the arch fixes the execute time per input step. */
simtime cost_vmm_ps(const arch *a, const cost_vmm *v);
/* Dynamic energy of one VMM by part, pJ: DAC conversions x dac.energy_pj; cell reads x
 * cell_read_energy_pj + column reads x read_energy_pj; samples x sample_hold.energy_pj; ADC
 * conversions x adc.energy_pj(adc_bits); shift-adds x shift_add.energy_pj. */
cost_energy cost_vmm_energy(const arch *a, const cost_vmm *v);
double cost_energy_total(const cost_energy *e);
/* Add n times e into the dynamic categories of acc, pJ. */
void cost_energy_add(double acc[COST_E_COUNT], const cost_energy *e, double n);
/* The tile energy of one input vector through a layer copy whose tiles come in n shapes: add
 * count[i] x cost_vmm_energy(v[i]) into the dynamic categories of acc, pJ, for i = 0..n-1 in
 * order (the one summation order, so the analytic model and the simulation agree to the bit). */
void cost_vmm_energy_sum(const arch *a, const cost_vmm *v, const uint64_t *count, unsigned n,
                         double acc[COST_E_COUNT]);

/* Programming one tile (reprogram mode): time, ps, and energy for `cells` cells, pJ. */
simtime cost_write_ps(const arch *a);
double cost_write_energy_pj(const arch *a, uint64_t cells);

/* Bus: words of lane width needed for `bits`, and the time to move them when `lanes_free` lanes
 * take words in parallel: ceil(words / lanes_free) x cycles_per_transfer x cycle, ps. */
uint64_t cost_bus_words(const arch_bus *b, uint64_t bits);
simtime cost_bus_word_ps(const arch *a, const arch_bus *b);
simtime cost_bus_transfer_ps(const arch *a, const arch_bus *b, uint64_t bits, unsigned lanes_free);
double cost_bus_energy_pj(const arch_bus *b, uint64_t bits);

/* On-chip network (arch.noc): a transfer of `bits` over `hops` links without contention takes
 * hops x router_cycles x cycle + ceil(bits / link_bits) x cycle, ps (the head pays each router,
 * the body streams behind it), and bits x hops x energy_pj_per_bit_hop, pJ. 0 hops: 0 and 0. */
simtime cost_noc_hop_ps(const arch *a);
simtime cost_noc_serial_ps(const arch *a, uint64_t bits);
simtime cost_noc_transfer_ps(const arch *a, uint64_t bits, unsigned hops);
double cost_noc_energy_pj(const arch *a, uint64_t bits, unsigned hops);

/* A link leaving the chip (arch.offchip, arch.interchip; arch_xlink): one hop's latency, the
 * serialisation of `bits` over links x gbytes_per_s (ceil to a whole ps), a transfer over `hops`
 * hops = hops x latency + serialisation (0 for 0 hops), and its energy bits x hops x
 * energy_pj_per_bit, pJ. */
simtime cost_xlink_hop_ps(const arch_xlink *l);
simtime cost_xlink_serial_ps(const arch_xlink *l, uint64_t bits);
simtime cost_xlink_transfer_ps(const arch_xlink *l, uint64_t bits, unsigned hops);
double cost_xlink_energy_pj(const arch_xlink *l, uint64_t bits, unsigned hops);

/* Vector module: `ops` lane operations over `lanes` lanes, ps; energy of ops and SRAM traffic. */
simtime cost_vector_op_ps(const arch *a);
simtime cost_vector_ps(const arch *a, uint64_t ops, unsigned lanes);
double cost_vector_energy_pj(const arch *a, uint64_t ops, uint64_t sram_read_bytes,
                             uint64_t sram_write_bytes);

/* ---- static power and area ------------------------------------------------------------------
 * Static power is per part instance: per DAC (one per row), per sample-and-hold (one per column),
 * per ADC, per shift-add unit, per crossbar, per bus wire, per vector lane, per KiB of SRAM and per
 * other part. Power gating (arch.power_gating): parts the mapping does not use draw nothing, and
 * an idle tile or idle vector lane draws gated_fraction of its power; the SRAM of a used module
 * keeps its leakage (it holds data), and bus wires and group parts of used groups stay on. Without
 * gating every part of the chip draws its full power all the time. */

/* Static power of one tile by part (DAC, crossbar, sample_hold, ADC, shift_add), uW (set). */
void cost_tile_static_uw(const arch *a, double out_uw[COST_PART_COUNT]);
/* Static power of one group's always-on parts (its two buses' wires and the group-scope other
 * parts), uW (set). */
void cost_group_static_uw(const arch *a, double out_uw[COST_PART_COUNT]);
/* One vector module's lanes and SRAM leakage, uW. */
double cost_vecmod_lanes_uw(const arch *a);
double cost_vecmod_sram_uw(const arch *a);
/* The chip-scope other parts, uW. */
double cost_chip_other_uw(const arch *a);

/* What a mapping uses for one inference: the inputs of its static energy. */
typedef struct cost_usage {
    uint64_t tiles;      /* tiles powered: weight-stationary, those holding weights; reprogram,
                            the crossbars used, count */
    uint64_t groups;     /* groups with a powered tile (and their vector modules), over every
                            chip, count */
    unsigned chips;      /* chips powered (their chip-scope parts, routers and off-chip links;
                            the interchip links between them), count >= 1 */
    double tile_busy_ps; /* crossbar busy time per inference summed over the tiles, ps */
    double lane_busy_ps; /* lane busy time per inference summed over vector lanes, ps */
} cost_usage;

/* Static energy of one inference over the time base `window_ps` (one inference's latency for the
 * single-inference energy, the pipelined period for the steady state), by part, into the static
 * categories of out (set, pJ; the dynamic ones untouched). uW x ps = 1e-6 pJ. A gated used tile
 * draws P x busy + gated_fraction x P x (window x tiles - busy), summed over the tiles. */
void cost_static_energy(const arch *a, const cost_usage *u, double window_ps,
                        double out[COST_E_COUNT]);

/* Static energy of one used tile over `total_ps` of which `busy_ps` busy, pJ (the per-component
 * figure of the simulation's tables). */
double cost_tile_static_pj(const arch *a, simtime busy_ps, simtime total_ps);

/* Area of the chip by part, um2 (set): tiles.count tiles (DACs, cells, sample-and-holds, ADCs at
 * the configured bits, shift-adds), groups x (bus wires + group parts), vector modules (lanes,
 * SRAM) and chip parts. */
void cost_chip_area_um2(const arch *a, double out_um2[COST_PART_COUNT]);
double cost_sum_parts(const double v[COST_PART_COUNT]);

/* Peak figures: every tile doing full VMMs back to back (all rows and columns, peak_bits weights
 * and inputs, the configured ADC bits); 2 ops per MAC. Power = the tiles' dynamic power at that
 * rate + every part's static power (nothing gated); bus, vector and SRAM traffic depend on the
 * network and are not in the peak. */
typedef struct cost_peak {
    double weights_per_tile; /* peak_bits weights one tile holds, count */
    double vmm_s;            /* one full VMM, s */
    double macs_per_s;       /* MAC/s */
    double ops_per_s;        /* op/s (2 per MAC) */
    double dynamic_w;        /* the tiles' dynamic power at the peak rate, W */
    double static_w;         /* every part's static power, W */
    double power_w;          /* dynamic_w + static_w, W */
    double area_mm2;         /* chip area, mm2 */
    double tops_per_w;       /* TOPS/W */
    double tops_per_mm2;     /* TOPS/mm2 */
} cost_peak;

cost_peak cost_peak_eval(const arch *a);

/* Print derived figures of an arch (one VMM's time, weights per tile, peak figures, area and
 * static power by part), one `derived.<name> = value unit` line each. */
void cost_print_derived(const arch *a, FILE *out);

#endif
