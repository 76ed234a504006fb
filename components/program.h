/* program: a chip program -- what the mapper emits and the chip executes (exec.h).
 * It is written in the chip's vocabulary only: tasks (one per network layer, in evaluation order)
 * with their producers, copies, tile ids and shapes, vector counts, bits, and the data and digital
 * work of one input vector. Invariant: a task's producers come before it, and every figure of a
 * crossbar task is per input vector of one copy unless named otherwise.
 */
#ifndef XBARSIM_COMPONENTS_PROGRAM_H
#define XBARSIM_COMPONENTS_PROGRAM_H

#include <stdint.h>

#include "vecmod.h"

#define PROGRAM_MAX_DEPS   8 /* producers of one task, count */
#define PROGRAM_MAX_SHAPES 4 /* tile shapes of one copy, count */

typedef enum program_task_kind {
    PROGRAM_CROSSBAR, /* matrix-vector products on tiles, then digital work per vector */
    PROGRAM_DIGITAL,  /* vector-module work only (pooling, residual add, activation, ...) */
} program_task_kind;

/* Tiles of one copy that use `rows` x `cols` cells; shapes are in tile order within a copy. */
typedef struct program_shape {
    unsigned rows, cols; /* used rows and columns, cells */
    uint64_t count;      /* tiles of this shape, count */
} program_shape;

/* One transfer over the on-chip network, or between chips, that every output of copy `copy`
 * makes; its links are topology_system_path(src, dst). */
typedef struct program_route {
    unsigned copy;     /* the task's copy, index */
    unsigned src, dst; /* groups over the system, index */
    uint64_t bits;     /* moved per vector (crossbar) or per inference (digital), bits */
} program_route;

typedef struct program_task {
    char *name;                      /* the layer's name, owned */
    uint32_t layer;                  /* network layer index */
    program_task_kind kind;          /* crossbar or digital */
    unsigned n_deps;                 /* producers, count (0: fed by the network input) */
    uint32_t deps[PROGRAM_MAX_DEPS]; /* producer task indices, each below this task's */
    unsigned group; /* digital tasks: the group whose vector module runs them, index */

    /* Crossbar tasks. */
    unsigned ab, adc_bits;   /* activation (input) and ADC bits */
    unsigned copies;         /* copies, count (reprogram mode: 1) */
    uint64_t vectors;        /* P: input vectors per inference, split over the copies, count */
    uint64_t tiles_per_copy; /* tiles of one copy (reprogram: logical tiles), count */
    unsigned n_shapes;       /* 1..PROGRAM_MAX_SHAPES */
    program_shape shapes[PROGRAM_MAX_SHAPES];
    uint64_t *copy_tile; /* weight-stationary: first tile id of each copy, owned; NULL in
                            reprogram mode */
    uint64_t in_bits;    /* per vector over the input bus, bits */
    uint64_t out_bits;   /* per vector over the output bus, bits */

    /* Both kinds: vector-module work per input vector (crossbar) or per inference (digital). */
    vecmod_op_kind vec_op;     /* what the work is (crossbar tasks: VECMOD_OP_COMBINE) */
    uint64_t lane_ops;         /* lane operations, count */
    uint64_t sram_read_bytes;  /* bytes */
    uint64_t sram_write_bytes; /* bytes */

    /* Both kinds: the off-chip link (arch.offchip) per inference: bits fetched before the task's
     * work starts (network input, reprogram weights) and stored after it ends (network output). */
    uint64_t fetch_bits, store_bits; /* bits */

    /* Both kinds: the output's transfers to consumers in other groups (arch.noc) and on other
     * chips (arch.interchip), in order. */
    unsigned n_routes;     /* count */
    program_route *routes; /* owned; NULL when none */
} program_task;

typedef struct program {
    unsigned n;          /* tasks, count */
    program_task *tasks; /* in evaluation order; owned */
} program;

/* Empty program of n tasks (zeroed; names and copy tiles unset). Owned: program_fini. */
void program_init(program *p, unsigned n);
/* Free what p owns and zero it (NULL: no-op). */
void program_fini(program *p);

/* Vectors of copy c of a crossbar task: P split as evenly as possible, the first P mod copies
 * copies taking one more, count. */
uint64_t program_copy_vectors(const program_task *t, unsigned c);

/* Shape of the i-th tile (0-based, within a copy) of t. i < tiles_per_copy (asserted). */
const program_shape *program_tile_shape(const program_task *t, uint64_t i);

#endif
