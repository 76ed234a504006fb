/* tile: one crossbar with its DAC array, ADC pool and shift-add, as an engine component.
 * A request "multiply this vector slice at in_bits input bits" (or "write the cells") is served
 * FIFO by a one-server resource, so a request never starts before the previous one ends; its
 * duration and energy come only from cost.h. Dynamic energy is charged by part when a request
 * is granted, static energy over the whole run at finish.
 */
#ifndef XBARSIM_COMPONENTS_TILE_H
#define XBARSIM_COMPONENTS_TILE_H

#include <stdint.h>

#include "arch.h"
#include "part.h"
#include "cost.h"
#include "resource.h"
#include "sim.h"

typedef struct tile tile;
struct tile {
    component base;   /* first: the engine's view */
    const arch *arch; /* chip parameters, not owned */
    resource xbar;    /* the crossbar, 1 server: VMMs and writes queue FIFO */
    /* A mirror's leader (tile_mirror), or NULL: a mirror receives no request of its own, and its
     * crossbar, energy and statistics are its leader's. Not owned. */
    struct tile *leader;
    uint32_t mirrors; /* a leader's mirrors, count; their component ids follow its own */
    /* dynamic energy charged so far, pJ, by category: the VMMs' parts and the cell writes */
    double vmm_pj[COST_E_COUNT];
    double write_pj;
    double static_pj; /* static energy over [0, finish time], set at finish, pJ */
    simtime busy_ps;  /* crossbar busy time in [0, finish time], set at finish, ps */
    simtime total_ps; /* finish time, ps */
    /* The last VMM priced (a tile's VMMs are nearly always alike): its inputs and the counts,
     * energy (pJ) and duration (ps) cost.c gave for them, reused while the inputs match. The
     * statistics and vmm_pj take its VMMs in one step (memo_count of them) when the inputs change
     * and at finish, so a VMM touches neither on its way. */
    bool memo_valid;
    uint64_t memo_count; /* VMMs at the memo's inputs not yet in the statistics, count */
    cost_vmm memo_v;
    cost_vmm_counts memo_n;
    cost_energy memo_e;
    double memo_pj;  /* total of memo_e, pJ */
    simtime memo_ps; /* ps */
    /* stats entry indices */
    size_t st_vmms, st_dac_convs, st_adc_convs, st_xbar_reads, st_shift_adds;
    size_t st_writes, st_cells_written, st_vmm_pj, st_write_pj;
};

/* Event kinds a tile handles (requests posted by a program instead of a direct call). Word 0 of
 * the payload is the request, words 1..3 the reply (part_reply_pack):
 *   TILE_EV_VMM:   u[0] = (rows_used - 1) (bits 0..15) | (cols_used - 1) (bits 16..31) |
 *                         in_bits (bits 32..39) | adc_bits (bits 40..47)
 *   TILE_EV_WRITE: u[0] = cells to program, count */
enum { TILE_EV_VMM = 1, TILE_EV_WRITE = 2 };

/* Statistics the tile keeps, complete at finish (names; units in the entries):
 *   counters  vmms, dac_conversions, adc_conversions, xbar_reads, shift_adds, writes,
 *             cells_written (count)
 *   accums    vmm_energy_pj, write_energy_pj (pJ, one sample per request)
 *   report    busy_ps, total_ps (ps), utilisation (fraction), energy_<category>_pj for the
 *             VMM categories (dac, crossbar, sample_hold, adc, shift_add), energy_write_pj,
 *             energy_static_pj (all its parts: cost_tile_static_pj over its busy and total time),
 *             energy_total_pj (pJ), and the resource figures of part_report_resource. */

extern const component_ops tile_ops;

/* Create a tile named `name` in s (which owns it) using the parameters a (not copied). */
tile *tile_create(sim *s, const char *name, const arch *a);
/* Registry hook (chip_component_create): prepare a fresh tile-class component; bus_params NULL. */
void tile_setup(component *c, const arch *a, const arch_bus *bus_params);

/* One VMM arriving now (sim_now): duration cost_vmm_ps, energy by part cost_vmm_energy, counts
 * cost_vmm_count. v must fit the tile (asserted by cost_vmm_count); v->adc_bits must be valid for
 * the ADC's time and energy functions (asserted). Returns the crossbar grant; when reply is not
 * NULL (and its target not PART_REPLY_NONE) a reply event is scheduled at the grant's end. */
resource_grant tile_vmm(tile *t, const cost_vmm *v, const part_reply *reply);

/* Make t a mirror of leader: from now on t receives exactly the requests leader does, at the
 * same times, so its state would equal leader's request for request. t is fresh (no request
 * yet), its component id follows leader's and its other mirrors' (so a leader and its mirrors
 * are one run of ids), leader is no mirror, and neither ever gets a request that the other does
 * not. The caller then sends requests to leader alone: each is traced as one record of
 * 1 + mirrors units (trace_record.units), and t's busy time, energy and statistics are taken
 * from leader at finish. This is how a copy's tiles of one shape (weight-stationary: every vector
 * goes to all of them) cost one request per vector instead of one per tile. */
void tile_mirror(tile *t, tile *leader);

/* Program `cells` cells arriving now: the whole tile's write time cost_write_ps and energy
 * cost_write_energy_pj(cells); VMMs requested after it start no earlier than its end. */
resource_grant tile_write(tile *t, uint64_t cells, const part_reply *reply);

/* Request payloads for TILE_EV_VMM / TILE_EV_WRITE events (layout above). */
event_payload tile_pack_vmm(const cost_vmm *v, const part_reply *reply);
event_payload tile_pack_write(uint64_t cells, const part_reply *reply);
/* Inverse of tile_pack_vmm's word 0. */
cost_vmm tile_unpack_vmm(const event_payload *p);

/* Dynamic energy charged over the run (all parts), complete after finish, pJ. */
double tile_dynamic_pj(const tile *t);
/* Registry hook (chip_component_account): resource, dynamic energy by category, static energy. */
void tile_account(component *c, part_account *out);

#endif
