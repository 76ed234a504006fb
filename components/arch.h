/* arch: the parameters of a CIM chip, as loaded from the `arch` group of a libconfig file.
 * Every quantity carries its unit in its name. A loaded arch is complete and consistent: the
 * loader range-checks every value and rejects unknown keys, so code reading an arch never checks.
 * Derived figures of the arch alone (clock period in ps, groups, ADC bits a column sum can need)
 * are computed here; time, energy, power and area figures are cost.h's.
 */
#ifndef XBARSIM_COMPONENTS_ARCH_H
#define XBARSIM_COMPONENTS_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "device.h"
#include "err.h"
#include "simtime.h"

#define ARCH_MAX_ADC_BITS 16 /* widest ADC the schema accepts, bits */

/* Weight mapping: how a signed weight becomes non-negative cell conductances.
 * X(ID, config name, column factor, extra columns, row factor) -- columns per logical column and
 * rows per logical row (differential mappings double one of them; offset adds one reference
 * column per crossbar). */
#define ARCH_MAPPING_MAP(X)                                                                        \
    X(UNSIGNED, "unsigned", 1, 0, 1)                                                               \
    X(OFFSET, "offset", 1, 1, 1)                                                                   \
    X(DIFF_COLUMN, "differential_column", 2, 0, 1)                                                 \
    X(DIFF_ROW, "differential_row", 1, 0, 2)

typedef enum arch_mapping {
#define ARCH_MAPPING_ENUM(id, name, cf, extra, rf) ARCH_MAP_##id,
    ARCH_MAPPING_MAP(ARCH_MAPPING_ENUM)
#undef ARCH_MAPPING_ENUM
        ARCH_MAP_COUNT
} arch_mapping;

#define ARCH_MODE_MAP(X)                                                                           \
    X(WEIGHT_STATIONARY, "weight_stationary")                                                      \
    X(REPROGRAM, "reprogram")

typedef enum arch_mode {
#define ARCH_MODE_ENUM(id, name) ARCH_MODE_##id,
    ARCH_MODE_MAP(ARCH_MODE_ENUM)
#undef ARCH_MODE_ENUM
        ARCH_MODE_COUNT
} arch_mode;

/* A quantity that depends on the ADC resolution b (bits). */
#define ARCH_BITS_FN_MAP(X)                                                                        \
    X(VALUE, "value")             /* v                      */                                     \
    X(TABLE, "table")             /* table[b]               */                                     \
    X(LINEAR, "linear")           /* c0 + c1 * b            */                                     \
    X(QUADRATIC, "quadratic")     /* c0 + c1 * b^2          */                                     \
    X(EXPONENTIAL, "exponential") /* c0 * c1^b              */                                     \
    X(FOM, "fom")                 /* value * 2^b (Walden figure of merit: energy per conversion    \
                                     step, so E = FoM x 2^bits)                             */

typedef enum arch_bits_kind {
#define ARCH_BITS_ENUM(id, name) ARCH_BITS_##id,
    ARCH_BITS_FN_MAP(ARCH_BITS_ENUM)
#undef ARCH_BITS_ENUM
        ARCH_BITS_KIND_COUNT
} arch_bits_kind;

typedef struct arch_bits_fn {
    arch_bits_kind kind;
    double value;                        /* VALUE */
    double table[ARCH_MAX_ADC_BITS + 1]; /* TABLE, indexed by bits; valid where has[b] */
    bool has[ARCH_MAX_ADC_BITS + 1];
    double c0, c1; /* LINEAR, QUADRATIC, EXPONENTIAL coefficients */
} arch_bits_fn;

typedef struct arch_bus {
    unsigned lanes;                  /* parallel lanes, count */
    unsigned lane_bits;              /* width of one lane, bits */
    unsigned cycles_per_transfer;    /* clock cycles to move one lane-width word, cycles */
    double energy_pj_per_bit;        /* dynamic energy per bit moved, pJ */
    double static_power_uw_per_wire; /* static power of one wire (lanes x lane_bits), uW */
    double area_um2_per_wire;        /* area of one wire with its drivers, um2 */
} arch_bus;

/* Where a part of arch.other_parts sits: X(ID, config name). A chip part is always powered; a
 * group part is powered with its group (off in unused groups when power gating is on). */
#define ARCH_SCOPE_MAP(X)                                                                          \
    X(CHIP, "chip")                                                                                \
    X(GROUP, "group")

typedef enum arch_scope {
#define ARCH_SCOPE_ENUM(id, name) ARCH_SCOPE_##id,
    ARCH_SCOPE_MAP(ARCH_SCOPE_ENUM)
#undef ARCH_SCOPE_ENUM
        ARCH_SCOPE_COUNT
} arch_scope;

/* On-chip network between the groups: X(ID, config name). NONE: no `noc` group, and transfers
 * between groups cost nothing (the behaviour before the network was modelled). */
#define ARCH_NOC_TOPOLOGY_MAP(X)                                                                   \
    X(NONE, "none")                                                                                \
    X(MESH, "mesh") /* rows x cols routers, groups in snake order, XY routing */                   \
    X(RING, "ring") /* one router per group, bidirectional, the shorter way round */               \
    X(BUS, "bus")   /* one link shared by every group, one hop between any two */

typedef enum arch_noc_topology {
#define ARCH_NOC_ENUM(id, name) ARCH_NOC_##id,
    ARCH_NOC_TOPOLOGY_MAP(ARCH_NOC_ENUM)
#undef ARCH_NOC_ENUM
        ARCH_NOC_COUNT
} arch_noc_topology;

/* arch.noc: the network that carries activations from a producer's group to a consumer's. A
 * transfer of B bits over h hops takes h x router_cycles + ceil(B / link_bits) cycles without
 * contention (virtual cut-through: the head pays each router, the body streams behind it) and
 * B x h x energy_pj_per_bit_hop. */
typedef struct arch_noc {
    arch_noc_topology topology;    /* arch.noc.topology */
    unsigned rows, cols;           /* arch.noc.rows / cols: mesh routers, count (rows x cols >=
                                      groups); ring: 1 x groups; bus: 1 x 1 */
    unsigned link_bits;            /* arch.noc.link_bits: bits a link moves per cycle, bits */
    unsigned router_cycles;        /* arch.noc.router_cycles: per hop, cycles */
    double energy_pj_per_bit_hop;  /* arch.noc.energy_pj_per_bit_hop: router + link, pJ */
    double router_static_power_uw; /* per router with its links, uW */
    double router_area_um2;        /* per router with its links, um2 */
} arch_noc;

/* A link that leaves the chip (arch.offchip: to memory and the host; arch.interchip: between
 * neighbouring chips of a system): `links` parallel links of gbytes_per_s each, used as one
 * channel. A transfer of B bits over h hops takes h x latency_ns + B / (links x gbytes_per_s x 8
 * bits/ns), rounded up to a whole ps (cut-through: the head pays each hop's latency, the body
 * streams behind it), and B x h x energy_pj_per_bit. */
typedef struct arch_xlink {
    bool present;             /* the group is in the arch file */
    unsigned links;           /* parallel links, count */
    double gbytes_per_s;      /* per link and direction, GB/s (1e9 bytes/s) */
    double latency_ns;        /* per hop, ns */
    double energy_pj_per_bit; /* per bit and hop, pJ */
    double static_power_uw;   /* per link (offchip) or per link end (interchip), uW */
    double area_um2;          /* per link (offchip) or per link end (interchip), um2 */
} arch_xlink;

#define ARCH_MAX_CHIPS 1024u /* chips of one system, count */

#define ARCH_MAX_OTHER_PARTS 16 /* entries of arch.other_parts */
#define ARCH_PART_NAME_BYTES 48 /* a part's name, with its terminating NUL */

/* A part the simulation gives no operations to (router, controller, off-chip interface, special
 * function units): it draws static power while powered and takes area. */
typedef struct arch_other_part {
    char name[ARCH_PART_NAME_BYTES]; /* arch.other_parts[i].name */
    arch_scope scope;                /* chip or group */
    double count;                    /* instances per scope (0.25: one shared by 4 groups) */
    double static_power_uw;          /* per instance, uW */
    double area_um2;                 /* per instance, um2 */
} arch_other_part;

/* The chip. Setting paths are given as `arch.<path>`; see configs/arch/README.md. */
typedef struct arch {
    char *origin;   /* file the arch was loaded from, or the origin given for a string; owned */
    char *name;     /* arch.name; owned */
    arch_mode mode; /* arch.mode */

    double clock_mhz; /* arch.clock_mhz, MHz */
    simtime cycle_ps; /* clock period, ps: simtime_period_ps(clock_mhz), the only rounding */

    unsigned peak_bits;    /* arch.peak_bits: weight and input bits of the peak ops figures, bits */
    bool power_gating;     /* arch.power_gating: unused tiles, groups and vector modules are off;
                              idle tiles and vector lanes drop to gated_fraction of their power */
    double gated_fraction; /* arch.gated_fraction: static power an idle gated part keeps, 0..1 */

    struct {
        unsigned count;          /* arch.tiles.count: physical tiles (crossbars), count;
                                    in reprogram mode the crossbars shared in time */
        unsigned rows, cols;     /* arch.tiles.rows / cols: crossbar size, cells */
        unsigned cell_bits;      /* arch.tiles.cell_bits: bits per cell */
        unsigned rows_active;    /* arch.tiles.rows_active: rows driven at once, rows */
        arch_mapping mapping;    /* arch.tiles.mapping */
        bool whole_cell_weights; /* arch.tiles.whole_cell_weights: weight bits must be a
                                    multiple of cell_bits (no partly used slice) */
        unsigned psum_bits;      /* arch.tiles.psum_bits: partial-sum word out of a tile, bits */
        struct {
            unsigned bits;          /* arch.tiles.dac.bits: input bits applied per step, bits */
            double latency_ns;      /* arch.tiles.dac.latency_ns: per step, ns */
            arch_bits_fn energy_pj; /* arch.tiles.dac.energy_pj: one conversion (row, step) at
                                       dac.bits (a number, or a function of the bits), pJ */
            double static_power_uw; /* per DAC (one per row), uW */
            double area_um2;        /* per DAC, um2 */
        } dac;
        struct {
            double energy_pj;       /* arch.tiles.sample_hold.energy_pj: one sample, pJ */
            double static_power_uw; /* per sample-and-hold (one per column), uW */
            double area_um2;        /* per sample-and-hold, um2 */
        } sample_hold;
        struct {
            unsigned count;         /* arch.tiles.shift_add.count: units per tile, count */
            double energy_pj;       /* one ADC output shifted in: per used column, per row
                                       group, per input step (cost_vmm_count), pJ */
            double static_power_uw; /* per unit, uW */
            double area_um2;        /* per unit, um2 */
        } shift_add;
        struct {
            unsigned count;         /* arch.tiles.adc.count: ADCs per tile, count */
            unsigned bits;          /* arch.tiles.adc.bits: default resolution, bits */
            bool strict_bits;       /* arch.tiles.adc.strict_bits: bits above the column-sum
                                       need are an error (else allowed) */
            arch_bits_fn time_ns;   /* one conversion, ns (time_cycles is converted at load) */
            arch_bits_fn energy_pj; /* one conversion, pJ */
            double static_power_uw; /* per ADC, uW */
            arch_bits_fn area_um2;  /* per ADC, um2 (may depend on the bits) */
        } adc;
        struct {
            double read_latency_ns;          /* settling per step and row group, ns */
            double read_energy_pj;           /* column read: per row group driven, per used
                                                column, per step (bitline, sense), pJ */
            double cell_read_energy_pj;      /* per activated cell per input step, pJ */
            double static_power_uw;          /* per crossbar (row drivers, decoders), uW */
            double cell_area_um2;            /* per cell, um2 */
            double execute_ns_per_bit;       /* fixed time per input step (dac.bits input bits;
                                                one bit with 1-bit DACs) per tile, ns; 0: derive
                                                from DAC, read and ADC times */
            double write_ns_per_tile;        /* programming one whole tile, ns */
            double write_energy_pj_per_cell; /* programming one cell, pJ */
        } crossbar;
        device_params device; /* arch.tiles.device: cell non-idealities (components/device.h) */
    } tiles;

    struct {
        unsigned tiles;   /* arch.groups.tiles: tiles sharing one pair of buses, count */
        arch_bus in_bus;  /* arch.groups.in_bus: vector module -> tiles */
        arch_bus out_bus; /* arch.groups.out_bus: tiles -> vector module */
    } groups;

    struct {
        unsigned count;                 /* arch.vector.count: vector modules, count */
        unsigned lanes;                 /* arch.vector.lanes: lanes per module, count */
        unsigned cycles_per_op;         /* arch.vector.cycles_per_op: one lane op, cycles */
        unsigned long sram_bytes;       /* arch.vector.sram_bytes: SRAM per module, bytes */
        double sram_read_pj_per_byte;   /* arch.vector.sram_read_pj_per_byte, pJ */
        double sram_write_pj_per_byte;  /* arch.vector.sram_write_pj_per_byte, pJ */
        double sram_leakage_uw_per_kib; /* SRAM leakage per KiB (1024 bytes), uW */
        double sram_area_um2_per_kib;   /* SRAM area per KiB, um2 */
        double op_energy_pj;            /* arch.vector.op_energy_pj: one lane op, pJ */
        double lane_static_power_uw;    /* per lane, uW */
        double lane_area_um2;           /* per lane, um2 */
    } vector;

    arch_noc noc; /* arch.noc: the network between the groups */

    /* A system of `chips` identical chips in a chain, chip k linked to chip k + 1 by
     * arch.interchip (required when chips > 1). Tile ids run over the system: tile t is tile
     * t mod tiles.count of chip t / tiles.count; groups likewise (arch_tile_group). */
    unsigned chips;       /* arch.chips: chips available, count (default 1) */
    arch_xlink interchip; /* arch.interchip */
    arch_xlink offchip;   /* arch.offchip: each chip's link to memory and the host; absent: the
                             network input and output, spills and weights move for free */

    unsigned n_other_parts;                            /* entries of arch.other_parts, count */
    arch_other_part other_parts[ARCH_MAX_OTHER_PARTS]; /* arch.other_parts */

} arch;

/* Load the `arch` group of the libconfig file at path into *out. Returns 0, or a negative status
 * with e holding file:line, the setting path, what was found and what was expected; on error
 * *out is left untouched (never half-loaded). On success *out owns its strings: arch_fini. */
int arch_load_file(const char *path, arch *out, err *e);
/* Same for a config text held in memory; origin names it in messages. */
int arch_load_string(const char *text, const char *origin, arch *out, err *e);
/* Load from a parsed tree, which this call takes over (config_destroy()s it, success or not);
 * origin names it in messages. Otherwise as arch_load_file. */
int arch_load_config(config_t *cfg, const char *origin, arch *out, err *e);
/* Release what a loaded arch owns. a may be NULL. */
void arch_fini(arch *a);

/* Whether f is defined at b bits: 1 <= b <= ARCH_MAX_ADC_BITS and, for a table, has[b]. */
bool arch_bits_fn_defined(const arch_bits_fn *f, unsigned bits);
/* Evaluate a bits-dependent quantity at b bits (b must be valid for f: asserted). */
double arch_bits_fn_eval(const arch_bits_fn *f, unsigned bits);
/* ADC bits a column sum can need, bits: ceil(log2(rows_active * (2^cell_bits - 1) *
 * (2^dac_bits - 1) + 1)), the smallest n with 2^n above the largest sum (every active row at the
 * top cell level times the top input level). cell_bits and dac_bits 1..8 (asserted). The one
 * formula: arch_adc_bits_needed and xbarfunc_adc_bits_needed both call it. */
unsigned arch_adc_bits_for(unsigned rows_active, unsigned cell_bits, unsigned dac_bits);
/* arch_adc_bits_for the tile parameters of a, bits. */
unsigned arch_adc_bits_needed(const arch *a);

/* Print the resolved architecture to out, one setting per line with its unit, then the derived
 * figures of the arch alone (`derived.` lines): clock period, groups, ADC bits a column sum needs
 * and bits stored. Time, energy, peak and area figures are cost_print_derived's. a must be
 * loaded. */
void arch_print(const arch *a, FILE *out);

/* Per-mapping factors: physical columns per weight slice, reference columns per column tile, and
 * physical rows per weight row (from ARCH_MAPPING_MAP). */
void arch_mapping_factors(arch_mapping m, unsigned *col_factor, unsigned *extra_cols,
                          unsigned *row_factor);

/* Registry look-ups: names as in the config. parse returns 0, or -1 for an unknown name. */
const char *arch_mapping_name(arch_mapping m);
int arch_mapping_parse(const char *name, arch_mapping *m);
const char *arch_mode_name(arch_mode m);
int arch_mode_parse(const char *name, arch_mode *m);
const char *arch_scope_name(arch_scope s);
const char *arch_noc_topology_name(arch_noc_topology t);
/* Routers of the network, count: rows x cols (0 without a network). */
unsigned arch_noc_routers(const arch *a);

/* Groups of tiles on one chip: ceil(tiles.count / groups.tiles), count. */
unsigned arch_groups(const arch *a);
/* Tiles of the whole system: chips x tiles.count, count. */
uint64_t arch_system_tiles(const arch *a);
/* Chip of system tile id t, index; and its group over the system: chip x arch_groups + the group
 * of its tile within the chip, index. A single chip (chips = 1) numbers its groups t /
 * groups.tiles, even past its last tile (a layout priced before it is checked, mapper/price.h). */
unsigned arch_tile_chip(const arch *a, uint64_t tile);
unsigned arch_tile_group(const arch *a, uint64_t tile);
/* Chip of system group g, and g's index within its chip. */
unsigned arch_group_chip(const arch *a, unsigned group);
unsigned arch_group_local(const arch *a, unsigned group);

#endif
