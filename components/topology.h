/* topology: where each group sits on the on-chip network (arch.noc) and the links a transfer
 * between two groups crosses. Pure functions of the arch: the analytic model counts hops with
 * them and the event simulation reserves the same links, so the two agree by construction.
 * Invariant: topology_path(src, dst) has topology_hops(src, dst) links, 0 when src == dst.
 */
#ifndef XBARSIM_COMPONENTS_TOPOLOGY_H
#define XBARSIM_COMPONENTS_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include "arch.h"

/* Router (node) of group g, index: mesh: snake order over rows x cols (row r left to right when
 * r is even, right to left when odd), so consecutive groups are always one hop apart; ring:
 * g; bus: 0. */
unsigned topology_node(const arch_noc *n, unsigned group);
/* Directed links, count (ids 0..): mesh: 4 per router (east, west, south, north); ring: 2 per
 * router (clockwise, counter-clockwise); bus: 1; none: 0. */
unsigned topology_links(const arch_noc *n);
/* Links crossed from group src to group dst, count: mesh: |dr| + |dc| (XY routing); ring: the
 * shorter way round; bus: 1 (0 when src == dst). */
unsigned topology_hops(const arch_noc *n, unsigned src, unsigned dst);
/* The links crossed, in order, into links[0..cap) (cap >= hops, asserted); returns the hops. Mesh:
 * dimension-ordered, along the row (X) first, then the column (Y); ring: the shorter way, ties
 * clockwise. */
unsigned topology_path(const arch_noc *n, unsigned src, unsigned dst, unsigned *links,
                       unsigned cap);
/* The most hops any transfer takes, count. */
unsigned topology_max_hops(const arch_noc *n);
/* "r1c2.east", "n3.cw" or "bus": a link's name for traces, into buf. */
void topology_link_name(const arch_noc *n, unsigned link, char *buf, size_t size);

/* ---- the system: arch.chips chips in a chain, each with its own network ----------------------
 * Groups are numbered over the system (arch_tile_group). System link ids: chip k's on-chip links
 * are k x topology_links + their topology id; then the interchip links, chip k -> k + 1 at
 * chips x topology_links + 2k and k + 1 -> k one above. */

/* Links of the system, count. */
unsigned topology_system_links(const arch *a);
/* Whether system link `link` joins two chips. */
bool topology_is_interchip(const arch *a, unsigned link);
/* A route between system groups src and dst: on-chip hops when both are on one chip (0 without
 * a network), else the interchip hops |chip(src) - chip(dst)| along the chain (the on-chip way to
 * and from the chips' ports is not modelled). */
void topology_route(const arch *a, unsigned src, unsigned dst, unsigned *hops, unsigned *chip_hops);
/* The system links of that route, in order, into links[0..cap) (cap >= topology_system_max_hops,
 * asserted); returns their count (hops + chip_hops). */
unsigned topology_system_path(const arch *a, unsigned src, unsigned dst, unsigned *links,
                              unsigned cap);
/* The most links any route of the system crosses, count. */
unsigned topology_system_max_hops(const arch *a);
/* A system link's name: topology_link_name, prefixed "chip<k>." on a system of several chips, or
 * "chip<k>-chip<j>" for an interchip link. */
void topology_system_link_name(const arch *a, unsigned link, char *buf, size_t size);

#endif
