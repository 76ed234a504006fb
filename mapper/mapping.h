/* mapping: a network at a given precision policy and replication, laid out on a chip.
 * For each crossbar layer: its weight footprint (slices, rows, columns, tiles per copy), its copies
 * and how the P input vectors split between them, and which tiles each copy occupies. The analytic
 * cost of a mapping is in model.h. Built from validated inputs; the only input error left is a
 * layout that does not fit the chip, which names tiles needed and available and the largest layers.
 */
#ifndef XBARSIM_MAPPER_MAPPING_H
#define XBARSIM_MAPPER_MAPPING_H

#include <stdint.h>

#include "arch.h"
#include "cost.h"
#include "err.h"
#include "network.h"
#include "policy.h"

/* Placement strategies: X(ID, name). `groups`: a copy that fits in one group never straddles
 * two (it starts the next group instead), so its tiles share one pair of buses; `packed`: copies
 * back to back in layer order, fewest tiles, groups shared freely (for studies of bus sharing). */
#define MAPPING_PLACEMENT_MAP(X)                                                                   \
    X(GROUPS, "groups")                                                                            \
    X(PACKED, "packed")

typedef enum mapping_placement {
#define MAPPING_PLACEMENT_ENUM(id, name) MAPPING_PLACE_##id,
    MAPPING_PLACEMENT_MAP(MAPPING_PLACEMENT_ENUM)
#undef MAPPING_PLACEMENT_ENUM
        MAPPING_PLACE_COUNT
} mapping_placement;

typedef struct mapping_layer {
    unsigned layer;          /* index in the network */
    unsigned wb, ab, adc;    /* bits: weight, activation, ADC */
    cost_footprint fp;       /* footprint of one of the `repeat` matrices */
    unsigned repeat;         /* independent matrices (groups, heads), count */
    unsigned pack;           /* matrices per tile, placed block-diagonally (1: unpacked), count */
    uint64_t tiles_per_copy; /* fp.tiles x repeat, or ceil(repeat / pack) when packed, count */
    unsigned copies;         /* r: copies of the layer, 1..vectors */
    uint64_t vectors;        /* P: input vectors per inference, count */
    uint64_t vectors_max;    /* ceil(P / r): vectors of the busiest copy, count */
    uint64_t first_tile;     /* weight-stationary: first tile id of copy 0, id */
    uint64_t last_tile;      /* weight-stationary: last tile id of the last copy, id */
    uint64_t *copy_tile;     /* weight-stationary: first tile id of each copy (copies entries),
                                owned; NULL in reprogram mode */
    unsigned chip;           /* weight-stationary: the chip holding every copy, index */
} mapping_layer;

typedef struct mapping {
    unsigned n;            /* crossbar layers, count */
    mapping_layer *layers; /* by crossbar index; owned */
    mapping_placement placement;
    uint64_t tiles_used;    /* weight-stationary: sum of copies x tiles per copy, count */
    uint64_t tiles_span;    /* weight-stationary: tile ids occupied incl. alignment gaps, count */
    uint64_t tiles_logical; /* sum of tiles per copy of one copy each, count */
    unsigned chips_used;    /* chips holding weights (weight-stationary; else 1), count */
} mapping;

/* Lay network n out on arch a with policy p and copies[i] copies of crossbar layer i (NULL: one
 * each; 1 <= copies[i] <= vectors, asserted). Weight-stationary: every copy owns its tiles, placed
 * in layer order by `placement` (see MAPPING_PLACEMENT_MAP); more tiles than the chip has is an
 * error. On a system of arch.chips > 1 chips, a layer's copies never straddle two chips: a layer
 * that would starts the next chip, so the network is cut into consecutive layer ranges, one per
 * chip, and this next-fit is the fewest chips any such partition needs. A layer larger than one
 * chip is the exception: it is placed where it stands and spans chips (its traffic between them
 * is a route, mapping_layer_routes). More chips than the system has is an error. A layer whose
 * buffers overflow (mapping_layer_buffer) spills over arch.offchip; without one it is an error
 * naming the layer, the bytes needed and the bytes available. Reprogram: logical
 * tiles are time-shared on the arch's crossbars, so nothing is placed. Grouped layers (repeat > 1,
 * e.g. depthwise convolutions) whose matrix fits in part of one tile are packed: as many matrices
 * as fit go on one tile's diagonal, in rows and in columns. */
int mapping_build(const network *n, const arch *a, const policy *p, const unsigned *copies,
                  mapping_placement placement, mapping *out, err *e);

/* Matrices of crossbar layer nl (its `repeat` groups) that mapping_build packs on one tile's
 * diagonal at wb weight bits on arch a, count (1: each matrix on tiles of its own). The
 * functional crossbar (search/accuracy/quant) runs grouped layers on exactly these packed tiles. */
unsigned mapping_pack(const arch *a, const network_layer *nl, unsigned wb);

/* The tiles of one copy come in at most MAPPING_MAX_SHAPES shapes of (used rows, used columns):
 * full and edge tiles in each direction, or full and last packed tiles. Shapes are listed in tile
 * order within a copy (the first `count` tiles have shape 0, and so on); shape 0 is the largest
 * in both rows and columns. */
#define MAPPING_MAX_SHAPES 4
typedef struct mapping_shape {
    unsigned rows, cols; /* used rows and columns (columns include reference columns), cells */
    uint64_t count;      /* tiles of this shape in one copy (all `repeat` matrices), count */
} mapping_shape;

/* Shapes of ml's tiles on arch a into k[MAPPING_MAX_SHAPES]; returns how many (>= 1). */
unsigned mapping_shapes(const arch *a, const mapping_layer *ml, mapping_shape *k);

/* Data one input vector of a crossbar layer moves and the digital work it causes. */
typedef struct mapping_traffic {
    uint64_t in_bits;          /* R x ab x repeat over the input bus, bits */
    uint64_t out_bits;         /* row tiles x columns x repeat partial sums of psum_bits, bits */
    uint64_t lane_ops;         /* partial-sum adds and activations on the vector module, count */
    uint64_t sram_read_bytes;  /* the input vector read from SRAM, bytes */
    uint64_t sram_write_bytes; /* the 8-bit outputs written to SRAM, bytes */
} mapping_traffic;

mapping_traffic mapping_layer_traffic(const network *n, const arch *a, const mapping_layer *ml);
/* The same for a digital (vector-module) layer, per inference: its elements as lane ops, every
 * input element read once and every output element written once, a byte each (activations
 * between digital layers are 8-bit: an assumption shared by the model and the chip program);
 * in_bits and out_bits 0 (no bus). */
mapping_traffic mapping_digital_traffic(const network *n, unsigned layer);

/* The group copy `copy` of network layer `layer` works in, index: a crossbar layer's copy, the
 * group of its first tile (weight-stationary; copy taken modulo its copies), or 0 in reprogram
 * mode; a digital layer, the group of its first input (0 for the network input), whose vector
 * module runs it. */
unsigned mapping_layer_group(const network *n, const arch *a, const mapping *m, unsigned layer,
                             unsigned copy);

/* One transfer over the on-chip network (arch.noc) that every output vector of one copy of a
 * layer makes: from that copy's group to the group of a consumer's copy (copy c feeds copy
 * c mod copies of each consumer; several consumers in one group get the data once). */
typedef struct mapping_route {
    unsigned copy;      /* producer copy (a digital layer: 0), index */
    unsigned src, dst;  /* groups over the system, index (src != dst) */
    unsigned hops;      /* on-chip network links crossed (both groups on one chip), count */
    unsigned chip_hops; /* interchip links crossed (the groups on different chips: the chain's
                           |chip(src) - chip(dst)|; the on-chip way to and from the chips' ports
                           is not modelled), count */
    uint64_t bits;      /* per output vector (crossbar) or inference (digital): the layer's
                           output (mapping_route_bits), or, for the route of a copy that spans
                           chips, its inputs out and remote partial sums back, bits */
} mapping_route;

/* The routes of layer `layer`'s output, copy by copy, into *out (owned by the caller: free;
 * NULL when none); returns how many. A consumer in the producer's group needs none, nor one on
 * the producer's chip without a network (arch.noc.topology none). A copy that spans chips has one
 * route more, first in its list: its inputs to the other chips and their partial sums back, over
 * the chips spanned (first order: one transfer, cut through the chain). */
unsigned mapping_layer_routes(const network *n, const arch *a, const mapping *m, unsigned layer,
                              mapping_route **out);
/* Bits one output vector of a crossbar layer (per input vector), or a digital layer's whole
 * output (per inference), moves over each route: its 8-bit outputs, bits. */
uint64_t mapping_route_bits(const network *n, const arch *a, const mapping *m, unsigned layer);

/* A layer's buffer (arch.vector.sram_bytes): it holds the layer's input and output activations,
 * 8-bit, double-buffered as the pipeline needs (a layer runs inference i + 1 while its consumers
 * read i), in the SRAM of the vector modules of the groups it works in. Layers are checked one
 * by one (a group's SRAM is not shared out between the layers that work in it). */
typedef struct mapping_buffer {
    uint64_t need;  /* 2 x (input + output elements), bytes */
    uint64_t have;  /* sram_bytes x the groups its copies work in (digital: its one group) */
    uint64_t spill; /* need - have when positive, else 0, bytes */
} mapping_buffer;

mapping_buffer mapping_layer_buffer(const network *n, const arch *a, const mapping *m,
                                    unsigned layer);

/* Bits layer `layer` moves over the off-chip link (arch.offchip) per inference, 8-bit
 * activations: *fetch_bits before its work (the network input, if it is the first layer to read
 * it; its weights, in reprogram mode, unless they are another layer's output; half its buffer's
 * spill, read back) and *store_bits after it (its output, if no layer reads it: a network output;
 * half its buffer's spill, written out). So a spill of S bytes (two inferences' worth) moves S / 2
 * bytes of each inference out and back: 8 x S bits. 0 and 0 without arch.offchip (mapping_build
 * refuses a spill then). */
void mapping_layer_offchip(const network *n, const arch *a, const mapping *m, unsigned layer,
                           uint64_t *fetch_bits, uint64_t *store_bits);

const char *mapping_placement_name(mapping_placement p);
/* 0 and *p set, or -1 for an unknown name. */
int mapping_placement_parse(const char *name, mapping_placement *p);
void mapping_fini(mapping *m);

#endif
