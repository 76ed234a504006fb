/* noclink: one directed link of the on-chip network (arch.noc) with the router that drives it, a
 * link between two chips (arch.interchip) or a chip's off-chip link (arch.offchip), as an engine
 * component with one server. The on-chip figures are below; the others are the same with
 * arch_xlink's latency in place of the router's cycles and its serialisation (cost.h). A hop of B
 * bits holds the link for ceil(B / link_bits) cycles from when it gets it; the head reaches the
 * next router router_cycles after that start (virtual cut-through: buffers hold a whole transfer,
 * so a blocked head never holds the links behind it), and the tail reaches the end of the last hop
 * ceil(B / link_bits) cycles later. A stand-in link (overlap off) carries a whole path by itself,
 * never waiting: its time is exactly cost_noc_transfer_ps. Energy is bits x energy_pj_per_bit_hop
 * per hop crossed.
 */
#ifndef XBARSIM_COMPONENTS_NOCLINK_H
#define XBARSIM_COMPONENTS_NOCLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "part.h"
#include "resource.h"
#include "sim.h"

/* What a link is: X(ID, energy category). */
typedef enum noclink_kind {
    NOCLINK_NOC,       /* on-chip network link: arch.noc, energy category noc */
    NOCLINK_INTERCHIP, /* between neighbouring chips: arch.interchip, category interchip */
    NOCLINK_OFFCHIP,   /* a chip's link to memory and the host: arch.offchip, category offchip */
    NOCLINK_KIND_COUNT
} noclink_kind;

typedef struct noclink noclink;
struct noclink {
    component base;    /* first: the engine's view */
    const arch *arch;  /* chip parameters (clock, arch.noc, the links off the chip), not owned */
    noclink_kind kind; /* NOCLINK_NOC unless set by noclink_set_kind */
    resource wire;     /* one server */
    double energy_pj[NOCLINK_KIND_COUNT]; /* dynamic energy charged so far by kind, pJ (a
                                             stand-in carries on-chip and interchip paths) */
    simtime total_ps;                     /* finish time, ps */
    /* stats entry indices */
    size_t st_hops, st_bits, st_wait_ps;
};

/* Statistics (names; units in the entries):
 *   counters  hops (count: transfers crossing it; a stand-in counts every hop of its paths),
 *             bits (count)
 *   accums    wait_ps (ps: arrival to the start of service, one sample per hop)
 *   report    total_ps (ps), energy_total_pj (pJ; its static power is the routers', charged by
 *             cost_static_energy for the whole network) and part_report_resource's figures. */

extern const component_ops noclink_ops;

/* Registry hook (chip_component_create, kind CHIP_LINK): prepare a fresh link-class component
 * (an on-chip link until noclink_set_kind); bus_params must be NULL. */
void noclink_setup(component *c, const arch *a, const arch_bus *bus_params);
/* Make l a link of kind k (before its first use). */
void noclink_set_kind(noclink *l, noclink_kind k);

/* One hop of `bits` arriving now over a shared link. The reply is sent when the head reaches the
 * next router (grant start + router latency), or, for the last hop, when the tail has arrived
 * there (+ the serialisation). Returns the grant of the link. */
resource_grant noclink_hop(noclink *l, uint64_t bits, bool last, const part_reply *reply);
/* A stand-in's whole path of `hops` hops of kind k (on-chip or interchip): busy from now for
 * cost_noc_transfer_ps(bits, hops) or cost_xlink_transfer_ps(interchip, bits, hops), replying at
 * its end. */
resource_grant noclink_path(noclink *l, noclink_kind k, uint64_t bits, unsigned hops,
                            const part_reply *reply);

/* Registry hook (chip_component_account): resource and dynamic energy (noc, interchip, offchip);
 * static 0 (the routers' and links' static power is charged by cost_static_energy). */
void noclink_account(component *c, part_account *out);

#endif
