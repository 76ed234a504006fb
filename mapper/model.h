/* model: the analytic cost of a mapping -- per layer the stage times T_in, T_tile, T_out, T_d and
 * the energy by category; for the network the latency of one inference (sum of layer times),
 * pipelined throughput (1 / slowest layer), energy per inference and utilisation.
 * All times come from cost.h, the formulas the event simulation uses too, in integer ps.
 * The model is what the event simulation reproduces exactly with overlap off: one vector at a time
 * through a layer, one layer at a time, one inference at a time.
 */
#ifndef XBARSIM_MAPPER_MODEL_H
#define XBARSIM_MAPPER_MODEL_H

#include <stdint.h>
#include <stdio.h>

#include "arch.h"
#include "mapping.h"
#include "network.h"
#include "simtime.h"

typedef struct model_layer {
    /* Per input vector of one copy (weight-stationary), ps. */
    simtime t_in_ps;       /* input bits over the group's input bus */
    simtime t_tile_ps;     /* the slowest tile's VMM */
    simtime t_out_ps;      /* partial sums over the output bus */
    simtime t_d_ps;        /* vector-module work (digital layers: the whole layer) */
    simtime t_noc_ps;      /* the output's transfers to other groups over the on-chip network,
                              per vector of the copy that sets the layer's time (digital: per
                              inference), ps (0 without arch.noc) */
    simtime noc_time_ps;   /* of time_ps, the network's part: t_noc_ps x that copy's vectors, ps */
    uint64_t noc_bit_hops; /* bits x hops the output moves over the network per inference */
    uint64_t interchip_bit_hops; /* bits x hops it moves between chips per inference */
    uint64_t offchip_bits;       /* bits fetched and stored over arch.offchip per inference
                                    (mapping_layer_offchip) */
    simtime t_io_ps;        /* of time_ps, the off-chip fetch before the layer and store after it,
                               each cost_xlink_transfer_ps over one hop, ps */
    simtime write_ps;       /* reprogram mode: programming per inference, ps */
    simtime time_ps;        /* T_l with its copies: the layer's time for one inference, ps */
    uint64_t busy_tile_ps;  /* sum over the layer's tiles of their busy time (VMMs and, in
                               reprogram mode, writes) per inference, ps */
    uint64_t busy_lane_ps;  /* sum over vector lanes of their busy time per inference, ps */
    uint64_t macs;          /* multiply-accumulates per inference, count */
    double programming_pj;  /* weight-stationary: writing its copies' cells once, pJ */
    double static_tiles_pj; /* weight-stationary: static energy of the layer's own tiles over
                               one inference's latency (gated by their busy time when the arch
                               gates); the groups' and chip's parts are not attributed, pJ */
    double energy_pj[COST_E_COUNT]; /* dynamic energy per inference by category (the static
                                       categories are 0: static energy is the chip's), pJ */
} model_layer;

typedef struct model {
    unsigned n;                  /* network layers, count */
    model_layer *layers;         /* by network layer index; owned */
    simtime latency_ps;          /* one inference: sum of T_l, ps */
    unsigned bottleneck;         /* layer index of the largest T_l */
    simtime bottleneck_ps;       /* its T_l, ps */
    double throughput_per_s;     /* pipelined: 1 / bottleneck, inferences/s */
    cost_usage usage;            /* tiles, groups and busy times per inference */
    uint64_t macs;               /* multiply-accumulates per inference, count */
    uint64_t noc_bit_hops;       /* bits x hops over the on-chip network per inference */
    simtime noc_ps;              /* the layers' network time summed over one inference (the share of
                                    latency it takes; between chips too), ps */
    uint64_t interchip_bit_hops; /* bits x hops between chips per inference */
    uint64_t offchip_bits;       /* bits over arch.offchip per inference */
    uint64_t spill_bytes;        /* the layers' buffer overflow (mapping_layer_buffer), bytes */
    unsigned spill_layers;       /* layers that spill, count */
    simtime io_ps;               /* the layers' off-chip time summed over one inference, ps */
    unsigned chips;              /* chips the mapping uses, count */
    uint64_t weight_load_bits;   /* weight-stationary with arch.offchip: every copy's weights
                                    loaded once before the first inference, bits */
    simtime weight_load_ps;      /* their transfer over one chip's off-chip link, ps */
    double weight_load_pj;       /* its energy, pJ (not in the energies per inference) */
    /* Energy per inference by category, pJ, on the two time bases of static energy:
     * single = dynamic + static power x latency (one inference alone);
     * steady = dynamic + static power x bottleneck (the pipelined period, 1 / throughput). */
    double energy_single_pj[COST_E_COUNT];
    double energy_steady_pj[COST_E_COUNT];
    double energy_single_total_pj; /* pJ */
    double energy_steady_total_pj; /* pJ */
    double programming_pj;         /* weight-stationary: writing every copy's cells once, before the
                                      first inference (not in the per-inference energies), pJ */
    uint64_t tiles_used;           /* weight-stationary: tiles holding weights, count */
    double utilisation;            /* busy tile time / (tiles used x latency), fraction */
} model;

/* Energy figures of a priced inference: ops = 2 x MACs; TOPS/W = ops / energy; energy per MAC. */
double model_tops_per_w(uint64_t macs, double energy_pj);
double model_pj_per_mac(uint64_t macs, double energy_pj);

/* Price mapping m of network n on arch a. Never fails: the inputs were validated. *out owned by
 * the caller: model_fini. */
void model_evaluate(const network *n, const arch *a, const mapping *m, model *out);
void model_fini(model *m);

/* Per-layer table and totals with units (text), or CSV (one row per layer, header first). */
void model_print(const network *n, const arch *a, const mapping *map, const model *m, FILE *out);
void model_print_csv(const network *n, const mapping *map, const model *m, FILE *out);
/* One JSON object: network, arch, placement, per-layer rows (as the CSV) and totals; times in
 * ps, energies in pJ, throughput in inferences/s. */
void model_print_json(const network *n, const arch *a, const mapping *map, const model *m,
                      FILE *out);

#endif
