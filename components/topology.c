/* topology: group placement and routes on the on-chip network (topology.h). A mesh router's
 * links are numbered 4 x router + direction, a ring's 2 x router + direction.
 */
#include "topology.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>

enum { EAST, WEST, SOUTH, NORTH, MESH_DIRS };
enum { CW, CCW, RING_DIRS };

static const char *const mesh_dir_names[MESH_DIRS] = {"east", "west", "south", "north"};
static const char *const ring_dir_names[RING_DIRS] = {"cw", "ccw"};

unsigned topology_node(const arch_noc *n, unsigned group)
{
    switch (n->topology) {
    case ARCH_NOC_MESH: {
        unsigned r = group / n->cols, c = group % n->cols;
        assert(r < n->rows);
        return r * n->cols + (r % 2 == 0 ? c : n->cols - 1 - c);
    }
    case ARCH_NOC_RING:
        assert(group < n->cols);
        return group;
    default:
        return 0;
    }
}

unsigned topology_links(const arch_noc *n)
{
    switch (n->topology) {
    case ARCH_NOC_MESH:
        return n->rows * n->cols * MESH_DIRS;
    case ARCH_NOC_RING:
        return n->cols * RING_DIRS;
    case ARCH_NOC_BUS:
        return 1;
    default:
        return 0;
    }
}

/* Ring steps from a to b clockwise (increasing index), count. */
static unsigned ring_cw(const arch_noc *n, unsigned a, unsigned b)
{
    return (b + n->cols - a) % n->cols;
}

unsigned topology_hops(const arch_noc *n, unsigned src, unsigned dst)
{
    if (src == dst || n->topology == ARCH_NOC_NONE)
        return 0;
    unsigned a = topology_node(n, src), b = topology_node(n, dst);
    switch (n->topology) {
    case ARCH_NOC_MESH: {
        unsigned ar = a / n->cols, ac = a % n->cols, br = b / n->cols, bc = b % n->cols;
        return (ar > br ? ar - br : br - ar) + (ac > bc ? ac - bc : bc - ac);
    }
    case ARCH_NOC_RING: {
        unsigned cw = ring_cw(n, a, b), ccw = n->cols - cw;
        return cw <= ccw ? cw : ccw;
    }
    default:
        return 1;
    }
}

unsigned topology_path(const arch_noc *n, unsigned src, unsigned dst, unsigned *links, unsigned cap)
{
    unsigned hops = topology_hops(n, src, dst);
    assert(hops <= cap);
    (void)cap; /* only asserted */
    if (hops == 0)
        return 0;
    unsigned a = topology_node(n, src), b = topology_node(n, dst), k = 0;
    switch (n->topology) {
    case ARCH_NOC_MESH: {
        unsigned r = a / n->cols, c = a % n->cols, br = b / n->cols, bc = b % n->cols;
        for (; c != bc; c = c < bc ? c + 1 : c - 1)
            links[k++] = (r * n->cols + c) * MESH_DIRS + (c < bc ? EAST : WEST);
        for (; r != br; r = r < br ? r + 1 : r - 1)
            links[k++] = (r * n->cols + c) * MESH_DIRS + (r < br ? SOUTH : NORTH);
        break;
    }
    case ARCH_NOC_RING: {
        bool cw = ring_cw(n, a, b) <= n->cols - ring_cw(n, a, b);
        for (unsigned v = a; v != b; v = cw ? (v + 1) % n->cols : (v + n->cols - 1) % n->cols)
            links[k++] = v * RING_DIRS + (cw ? CW : CCW);
        break;
    }
    default:
        links[k++] = 0;
    }
    assert(k == hops);
    return hops;
}

unsigned topology_max_hops(const arch_noc *n)
{
    switch (n->topology) {
    case ARCH_NOC_MESH:
        return n->rows + n->cols - 2;
    case ARCH_NOC_RING:
        return n->cols / 2;
    case ARCH_NOC_BUS:
        return 1;
    default:
        return 0;
    }
}

void topology_link_name(const arch_noc *n, unsigned link, char *buf, size_t size)
{
    assert(link < topology_links(n));
    if (n->topology == ARCH_NOC_MESH) {
        unsigned node = link / MESH_DIRS;
        snprintf(buf, size, "noc.r%uc%u.%s", node / n->cols, node % n->cols,
                 mesh_dir_names[link % MESH_DIRS]);
    } else if (n->topology == ARCH_NOC_RING) {
        snprintf(buf, size, "noc.n%u.%s", link / RING_DIRS, ring_dir_names[link % RING_DIRS]);
    } else {
        snprintf(buf, size, "noc.bus");
    }
}

/* ---- the system ------------------------------------------------------------------------------ */

unsigned topology_system_links(const arch *a)
{
    return a->chips * topology_links(&a->noc) + 2 * (a->chips - 1);
}

bool topology_is_interchip(const arch *a, unsigned link)
{
    return link >= a->chips * topology_links(&a->noc);
}

void topology_route(const arch *a, unsigned src, unsigned dst, unsigned *hops, unsigned *chip_hops)
{
    unsigned cs = arch_group_chip(a, src), cd = arch_group_chip(a, dst);
    *hops = *chip_hops = 0;
    if (cs != cd)
        *chip_hops = cs > cd ? cs - cd : cd - cs;
    else
        *hops = topology_hops(&a->noc, arch_group_local(a, src), arch_group_local(a, dst));
}

unsigned topology_system_path(const arch *a, unsigned src, unsigned dst, unsigned *links,
                              unsigned cap)
{
    unsigned cs = arch_group_chip(a, src), cd = arch_group_chip(a, dst);
    unsigned per_chip = topology_links(&a->noc);
    assert(cap >= topology_system_max_hops(a));
    if (cs == cd) {
        unsigned h =
            topology_path(&a->noc, arch_group_local(a, src), arch_group_local(a, dst), links, cap);
        for (unsigned k = 0; k < h; k++)
            links[k] += cs * per_chip;
        return h;
    }
    unsigned base = a->chips * per_chip, k = 0;
    for (unsigned c = cs; c != cd; c = c < cd ? c + 1 : c - 1)
        links[k++] = c < cd ? base + 2 * c : base + 2 * (c - 1) + 1;
    return k;
}

unsigned topology_system_max_hops(const arch *a)
{
    unsigned noc = topology_max_hops(&a->noc), chain = a->chips - 1;
    return noc > chain ? noc : chain;
}

void topology_system_link_name(const arch *a, unsigned link, char *buf, size_t size)
{
    assert(link < topology_system_links(a));
    unsigned per_chip = topology_links(&a->noc);
    if (topology_is_interchip(a, link)) {
        unsigned k = link - a->chips * per_chip, c = k / 2;
        snprintf(buf, size, "chip%u-chip%u", k % 2 ? c + 1 : c, k % 2 ? c : c + 1);
        return;
    }
    if (a->chips == 1) {
        topology_link_name(&a->noc, link, buf, size);
        return;
    }
    char local[48];
    topology_link_name(&a->noc, link % per_chip, local, sizeof local);
    snprintf(buf, size, "chip%u.%s", link / per_chip, local);
}
