/* vecmod: a vector module -- digital lanes plus SRAM -- as an engine component.
 * It shift-adds weight slices, sums row tiles, applies activation and requantisation, pools and
 * adds residuals. The lanes are a k-server FIFO resource (k = arch.vector.lanes); an operation of
 * n lane ops is split into min(n, lanes) near-equal chunks like a bus transfer. Energy (lane ops,
 * SRAM reads, SRAM writes) comes from cost_vector_energy_pj, static energy over the run at finish.
 */
#ifndef XBARSIM_COMPONENTS_VECMOD_H
#define XBARSIM_COMPONENTS_VECMOD_H

#include <stdint.h>

#include "arch.h"
#include "part.h"
#include "resource.h"
#include "sim.h"

/* What an operation is for: X(ID, stats name). */
#define VECMOD_OP_MAP(X)                                                                           \
    X(COMBINE, "combine")           /* a crossbar layer's vector: all of the next four */          \
    X(SHIFT_ADD, "shift_add")       /* combine a weight's bit slices */                            \
    X(ROW_SUM, "row_sum")           /* sum partial sums across row tiles */                        \
    X(ACTIVATION, "activation")     /* activation and requantisation */                            \
    X(POOL, "pool")                 /* pooling */                                                  \
    X(RESIDUAL_ADD, "residual_add") /* residual (skip) addition */                                 \
    X(OTHER, "other")

typedef enum vecmod_op_kind {
#define VECMOD_OP_ENUM(id, name) VECMOD_OP_##id,
    VECMOD_OP_MAP(VECMOD_OP_ENUM)
#undef VECMOD_OP_ENUM
        VECMOD_OP_COUNT
} vecmod_op_kind;

typedef struct vecmod vecmod;
struct vecmod {
    component base;   /* first: the engine's view */
    const arch *arch; /* chip parameters, not owned */
    resource lanes;   /* arch->vector.lanes servers */
    /* dynamic energy charged so far, pJ */
    double op_pj;                    /* lane ops */
    double sram_read_pj;             /* SRAM reads */
    double sram_write_pj;            /* SRAM writes */
    double kind_pj[VECMOD_OP_COUNT]; /* all three, by operation kind */
    double static_pj; /* lanes (gated when idle, if gating) and SRAM leakage over [0, finish
                         time], set at finish, pJ */
    simtime total_ps; /* finish time, ps */
    /* stats entry indices */
    size_t st_ops[VECMOD_OP_COUNT];      /* operations of each kind, count */
    size_t st_lane_ops[VECMOD_OP_COUNT]; /* lane ops of each kind, count */
    size_t st_sram_read, st_sram_write;  /* bytes */
    size_t st_op_ps;                     /* arrival to completion per operation, ps */
};

/* Statistics (names; units in the entries):
 *   counters  ops_<kind>, lane_ops_<kind> (count), sram_read_bytes, sram_write_bytes (bytes)
 *   accums    op_ps (ps: arrival to completion, one sample per operation)
 *   report    total_ps (ps), energy_ops_pj, energy_sram_read_pj, energy_sram_write_pj,
 *             energy_<kind>_pj, energy_static_pj, energy_total_pj (pJ), and the resource
 *             figures of part_report_resource. */

extern const component_ops vecmod_ops;

/* Create a vector module named `name` in s (which owns it) with parameters a (not copied). */
vecmod *vecmod_create(sim *s, const char *name, const arch *a);
/* Registry hook (chip_component_create): prepare a fresh vecmod-class component; bus_params NULL.
 */
void vecmod_setup(component *c, const arch *a, const arch_bus *bus_params);

/* One operation arriving now (sim_now): `lane_ops` lane operations spread over the lanes (each
 * chunk chunk_ops x cost_vector_op_ps), and its SRAM traffic in bytes (charged energy, not time).
 * Returns start = first chunk start, end = last chunk end (lane_ops 0: start = end = now); a reply
 * event is scheduled at end when reply is not NULL and its target not PART_REPLY_NONE. */
resource_grant vecmod_op(vecmod *m, vecmod_op_kind kind, uint64_t lane_ops,
                         uint64_t sram_read_bytes, uint64_t sram_write_bytes,
                         const part_reply *reply);

/* Stats name of an operation kind ("shift_add", ...); static storage. */
const char *vecmod_op_name(vecmod_op_kind kind);

/* Dynamic energy charged so far (lane ops and SRAM), pJ. */
double vecmod_dynamic_pj(const vecmod *m);
/* Registry hook (chip_component_account): lanes, dynamic energy (vector, sram), static energy. */
void vecmod_account(component *c, part_account *out);

#endif
