/* bus: the lanes between a group's vector module and its tiles, as an engine component.
 * The lanes are a k-server FIFO resource (k = arch_bus.lanes). A transfer of B bits is
 * cost_bus_words(B) lane-width words, split into min(words, lanes) near-equal chunks that queue
 * for lanes; it completes when its last chunk does. With every lane free it takes exactly
 * cost_bus_transfer_ps(B, lanes). Energy is cost_bus_energy_pj per transfer.
 */
#ifndef XBARSIM_COMPONENTS_BUS_H
#define XBARSIM_COMPONENTS_BUS_H

#include <stdint.h>

#include "arch.h"
#include "part.h"
#include "resource.h"
#include "sim.h"

typedef struct bus bus;
struct bus {
    component base;         /* first: the engine's view */
    const arch *arch;       /* chip parameters (clock), not owned */
    const arch_bus *params; /* the lane parameters modelled (in or out bus), not owned */
    resource lanes;         /* params->lanes servers */
    double energy_pj;       /* dynamic energy charged so far, pJ */
    double static_pj;       /* static energy of its wires over [0, finish time], pJ */
    simtime total_ps;       /* finish time, ps */
    /* stats entry indices */
    size_t st_transfers, st_bits, st_words, st_transfer_ps;
};

/* Event kind a bus handles: BUS_EV_TRANSFER with u[0] = bits to move and the reply in words 1..3
 * (part_reply_pack). */
enum { BUS_EV_TRANSFER = 1 };

/* Statistics (names; units in the entries):
 *   counters  transfers, bits, words (count)
 *   accums    transfer_ps (ps: arrival to completion, one sample per transfer)
 *   report    total_ps (ps), energy_static_pj, energy_total_pj (pJ), and the resource figures of
 *             part_report_resource (busy_ps summed over lanes, utilisation of all lanes, ...). */

extern const component_ops bus_ops;

/* Create a bus named `name` in s (which owns it): clock from a, lanes from params (normally
 * &a->groups.in_bus or &a->groups.out_bus); neither is copied. */
bus *bus_create(sim *s, const char *name, const arch *a, const arch_bus *params);
/* Registry hook (chip_component_create): prepare a fresh bus-class component; params required. */
void bus_setup(component *c, const arch *a, const arch_bus *params);

/* Move `bits` bits, arriving now (sim_now). Returns start = the first chunk's start and end = the
 * last chunk's end (bits 0: start = end = now); a reply event is scheduled at end when reply is
 * not NULL and its target not PART_REPLY_NONE. */
resource_grant bus_transfer(bus *b, uint64_t bits, const part_reply *reply);

/* Registry hook (chip_component_account): resource, dynamic energy (bus), static energy (its
 * wires, always on: lanes x lane_bits x static_power_uw_per_wire over its run). */
void bus_account(component *c, part_account *out);

#endif
