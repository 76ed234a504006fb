/* mapping: tiling with bit slicing, replication and placement (see mapping.h). Every footprint
 * figure comes from cost_weight_footprint, so the mapper and the components agree on tiles. */
#include "mapping.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "topology.h"

void mapping_fini(mapping *m)
{
    if (!m)
        return;
    for (unsigned i = 0; m->layers && i < m->n; i++)
        free(m->layers[i].copy_tile);
    free(m->layers);
    m->layers = NULL;
    m->n = 0;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/* Matrices of footprint fp that fit on one tile's diagonal (1 when one does not fit alone). */
static unsigned pack_of(const arch *a, const cost_footprint *fp, unsigned repeat)
{
    if (repeat < 2 || fp->tiles != 1)
        return 1;
    unsigned cf, extra, rf;
    arch_mapping_factors(a->tiles.mapping, &cf, &extra, &rf);
    uint64_t by_rows = a->tiles.rows / fp->rows;
    uint64_t by_cols = (a->tiles.cols - extra) / fp->cols;
    uint64_t k = by_rows < by_cols ? by_rows : by_cols;
    return (unsigned)(k < repeat ? k : repeat);
}

unsigned mapping_pack(const arch *a, const network_layer *nl, unsigned wb)
{
    cost_footprint fp = cost_weight_footprint(a, nl->xbar.rows, nl->xbar.cols, wb);
    return pack_of(a, &fp, nl->xbar.repeat);
}

static const char *const placement_names[MAPPING_PLACE_COUNT] = {
#define MAPPING_PLACEMENT_NAME(id, name) [MAPPING_PLACE_##id] = name,
    MAPPING_PLACEMENT_MAP(MAPPING_PLACEMENT_NAME)
#undef MAPPING_PLACEMENT_NAME
};

const char *mapping_placement_name(mapping_placement p)
{
    assert(p < MAPPING_PLACE_COUNT);
    return placement_names[p];
}

int mapping_placement_parse(const char *name, mapping_placement *p)
{
    for (int i = 0; i < MAPPING_PLACE_COUNT; i++)
        if (strcmp(name, placement_names[i]) == 0) {
            *p = (mapping_placement)i;
            return 0;
        }
    return -1;
}

/* Error for a layout needing more tiles than the chip has: totals and the three largest layers. */
static int too_big(const network *n, const arch *a, const mapping *m, uint64_t need, err *e)
{
    unsigned top[3] = {0, 0, 0};
    unsigned found = 0;
    for (unsigned k = 0; k < 3 && k < m->n; k++) {
        unsigned best = m->n;
        for (unsigned i = 0; i < m->n; i++) {
            bool taken = false;
            for (unsigned j = 0; j < k; j++)
                taken = taken || top[j] == i;
            uint64_t t = m->layers[i].tiles_per_copy * m->layers[i].copies;
            if (!taken &&
                (best == m->n || t > m->layers[best].tiles_per_copy * m->layers[best].copies))
                best = i;
        }
        top[k] = best;
        found++;
    }
    char largest[512] = "";
    size_t used = 0;
    for (unsigned k = 0; k < found; k++) {
        const mapping_layer *l = &m->layers[top[k]];
        int w =
            snprintf(largest + used, sizeof largest - used, "%s%s %llu x %u", k ? ", " : "",
                     n->layers[l->layer].name, (unsigned long long)l->tiles_per_copy, l->copies);
        if (w < 0 || (size_t)w >= sizeof largest - used)
            break;
        used += (size_t)w;
    }
    if (a->chips > 1)
        return err_set(e, ERR_INPUT,
                       "%s on %s: needs %llu chips of %u tiles (%s placement, a layer's copies on "
                       "one chip), the system has %u; largest layers (tiles per copy x copies): "
                       "%s",
                       n->name, a->name,
                       (unsigned long long)((need + a->tiles.count - 1) / a->tiles.count),
                       a->tiles.count, placement_names[m->placement], a->chips, largest);
    return err_set(e, ERR_INPUT,
                   "%s on %s: needs %llu tiles (%s placement), the chip has %u; largest "
                   "layers (tiles per copy x copies): %s",
                   n->name, a->name, (unsigned long long)need, placement_names[m->placement],
                   a->tiles.count, largest);
}

/* Place the copies of layer l from tile `next` on; returns the tile after its last copy. `groups`:
 * a copy that fits in one group but would straddle the current group's end starts the next group
 * (groups counted within the chip, whose last group may be short). */
static uint64_t place_layer(const arch *a, mapping_placement placement, mapping_layer *l,
                            uint64_t next)
{
    uint64_t group = a->groups.tiles;
    for (unsigned c = 0; c < l->copies; c++) {
        uint64_t local = a->chips > 1 ? next % a->tiles.count : next;
        uint64_t left = group - local % group;
        if (placement == MAPPING_PLACE_GROUPS && l->tiles_per_copy <= group &&
            l->tiles_per_copy > left)
            next += left;
        if (c == 0)
            l->first_tile = next;
        l->copy_tile[c] = next;
        next += l->tiles_per_copy;
        l->last_tile = next - 1;
    }
    return next;
}

/* Weight-stationary placement in layer order (mapping_build); on a system of chips, a layer that
 * would straddle two chips starts the next one, unless it is larger than one chip: then it is
 * placed where it stands and its copies span chips (mapping_layer_routes prices their traffic). */
static int place(const network *n, const arch *a, mapping *m, err *e)
{
    uint64_t next = 0, chip = a->tiles.count;
    for (unsigned i = 0; i < m->n; i++) {
        mapping_layer *l = &m->layers[i];
        l->copy_tile = mem_calloc(l->copies, sizeof *l->copy_tile, "copy tiles");
        uint64_t end = place_layer(a, m->placement, l, next);
        if (a->chips > 1 && (end - 1) / chip != next / chip &&
            l->tiles_per_copy * l->copies <= chip) {
            next = (next / chip + 1) * chip;
            end = place_layer(a, m->placement, l, next);
        }
        l->chip = arch_tile_chip(a, l->first_tile);
        next = end;
    }
    m->tiles_span = next;
    m->chips_used = a->chips > 1 ? (unsigned)((next + chip - 1) / chip) : 1;
    if (next > arch_system_tiles(a))
        return too_big(n, a, m, next, e);
    return 0;
}

static int check_buffers(const network *n, const arch *a, const mapping *m, err *e);

int mapping_build(const network *n, const arch *a, const policy *p, const unsigned *copies,
                  mapping_placement placement, mapping *out, err *e)
{
    assert(p->n == n->n_xbar);
    mapping m = {.n = n->n_xbar, .placement = placement};
    m.layers = mem_calloc(n->n_xbar, sizeof *m.layers, "mapping");
    for (unsigned i = 0; i < n->n_xbar; i++) {
        const network_layer *nl = &n->layers[n->xbar[i]];
        mapping_layer *l = &m.layers[i];
        l->layer = n->xbar[i];
        l->wb = p->layers[i].wb;
        l->ab = p->layers[i].ab;
        l->adc = policy_adc_bits(p, a, i);
        l->fp = cost_weight_footprint(a, nl->xbar.rows, nl->xbar.cols, l->wb);
        l->repeat = nl->xbar.repeat;
        l->pack = pack_of(a, &l->fp, l->repeat);
        l->tiles_per_copy = l->pack > 1 ? ceil_div(l->repeat, l->pack) : l->fp.tiles * l->repeat;
        l->vectors = nl->xbar.vectors;
        l->copies = copies ? copies[i] : 1;
        assert(l->copies >= 1 && l->copies <= l->vectors);
        l->vectors_max = ceil_div(l->vectors, l->copies);
        m.tiles_logical += l->tiles_per_copy;
        m.tiles_used += l->tiles_per_copy * l->copies;
    }
    m.chips_used = 1;
    int rc = a->mode == ARCH_MODE_WEIGHT_STATIONARY ? place(n, a, &m, e) : 0;
    if (rc == 0 && !a->offchip.present)
        rc = check_buffers(n, a, &m, e);
    if (rc < 0) {
        mapping_fini(&m);
        return rc;
    }
    *out = m;
    return 0;
}

unsigned mapping_shapes(const arch *a, const mapping_layer *ml, mapping_shape *k)
{
    const cost_footprint *fp = &ml->fp;
    unsigned cf, extra, rf;
    arch_mapping_factors(a->tiles.mapping, &cf, &extra, &rf);
    unsigned n = 0;
    if (ml->pack > 1) {
        uint64_t full = ml->repeat / ml->pack, rest = ml->repeat % ml->pack;
        if (full)
            k[n++] = (mapping_shape){(unsigned)(ml->pack * fp->rows),
                                     (unsigned)(ml->pack * fp->cols + extra), full};
        if (rest)
            k[n++] = (mapping_shape){(unsigned)(rest * fp->rows),
                                     (unsigned)(rest * fp->cols + extra), 1};
        return n;
    }
    uint64_t cw = a->tiles.cols - extra; /* weight columns per tile */
    unsigned rows[2] = {(unsigned)(fp->rows < a->tiles.rows ? fp->rows : a->tiles.rows),
                        (unsigned)(fp->rows - (fp->row_tiles - 1) * a->tiles.rows)};
    unsigned cols[2] = {(unsigned)((fp->cols < cw ? fp->cols : cw) + extra),
                        (unsigned)(fp->cols - (fp->col_tiles - 1) * cw + extra)};
    uint64_t nrows[2] = {fp->row_tiles - 1, 1}, ncols[2] = {fp->col_tiles - 1, 1};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            if (nrows[i] * ncols[j] != 0)
                k[n++] = (mapping_shape){rows[i], cols[j], nrows[i] * ncols[j] * ml->repeat};
    return n;
}

mapping_traffic mapping_digital_traffic(const network *n, unsigned layer)
{
    const network_layer *nl = &n->layers[layer];
    mapping_traffic t = {.lane_ops = nl->elements,
                         .sram_read_bytes = nl->elements,
                         .sram_write_bytes = network_shape_elements(nl->out)};
    return t;
}

mapping_traffic mapping_layer_traffic(const network *n, const arch *a, const mapping_layer *ml)
{
    const network_layer *nl = &n->layers[ml->layer];
    mapping_traffic t;
    uint64_t psums = ml->fp.row_tiles * ml->fp.cols * ml->repeat;
    t.in_bits = nl->xbar.rows * ml->ab * ml->repeat;
    t.out_bits = psums * a->tiles.psum_bits;
    t.lane_ops = psums + nl->xbar.cols * ml->repeat;
    t.sram_read_bytes = ceil_div(t.in_bits, 8);
    t.sram_write_bytes = nl->xbar.cols * ml->repeat;
    return t;
}

unsigned mapping_layer_group(const network *n, const arch *a, const mapping *m, unsigned layer,
                             unsigned copy)
{
    const network_layer *nl = &n->layers[layer];
    if (nl->xbar_index >= 0) {
        const mapping_layer *ml = &m->layers[nl->xbar_index];
        if (a->mode != ARCH_MODE_WEIGHT_STATIONARY)
            return 0;
        return arch_tile_group(a, ml->copy_tile[copy % ml->copies]);
    }
    if (nl->n_inputs == 0 || nl->inputs[0] == NETWORK_INPUT)
        return 0;
    return mapping_layer_group(n, a, m, (unsigned)nl->inputs[0], 0);
}

/* A copy of a crossbar layer larger than one chip spans chips: every input vector goes from its
 * home group (that of its first tile) along the chain to the chips holding the rest of its tiles,
 * and their partial sums come back, as one transfer over the chips spanned of the input bits plus
 * the remote tiles' share of the partial-sum bits (rounded up). Returns whether copy c spans. */
static bool span_route(const network *n, const arch *a, const mapping *m, unsigned layer,
                       unsigned c, mapping_route *out)
{
    int x = n->layers[layer].xbar_index;
    if (x < 0 || a->chips < 2)
        return false;
    const mapping_layer *ml = &m->layers[x];
    uint64_t first = ml->copy_tile[c], last = first + ml->tiles_per_copy - 1;
    unsigned cf = arch_tile_chip(a, first), cl = arch_tile_chip(a, last);
    if (cf == cl)
        return false;
    uint64_t home_tiles = (uint64_t)(cf + 1) * a->tiles.count - first;
    mapping_traffic t = mapping_layer_traffic(n, a, ml);
    uint64_t remote = ml->tiles_per_copy - home_tiles;
    *out = (mapping_route){.copy = c,
                           .src = arch_tile_group(a, first),
                           .dst = arch_tile_group(a, last),
                           .chip_hops = cl - cf,
                           .bits = t.in_bits + ceil_div(t.out_bits * remote, ml->tiles_per_copy)};
    return true;
}

static unsigned layer_copies(const network *n, const mapping *m, unsigned layer)
{
    int x = n->layers[layer].xbar_index;
    return x >= 0 ? m->layers[x].copies : 1;
}

unsigned mapping_layer_routes(const network *n, const arch *a, const mapping *m, unsigned layer,
                              mapping_route **out)
{
    *out = NULL;
    if ((a->noc.topology == ARCH_NOC_NONE && m->chips_used < 2) ||
        a->mode != ARCH_MODE_WEIGHT_STATIONARY)
        return 0;
    uint64_t out_bits = mapping_route_bits(n, a, m, layer);
    unsigned copies = layer_copies(n, m, layer), count = 0, cap = 0;
    mapping_route *r = NULL;
    for (unsigned c = 0; c < copies; c++) {
        unsigned src = mapping_layer_group(n, a, m, layer, c);
        mapping_route span;
        if (span_route(n, a, m, layer, c, &span)) {
            r = mem_realloc(r, ++cap, sizeof *r, "mapping routes");
            r[count++] = span;
        }
        unsigned first = count;
        for (unsigned u = layer + 1; u < n->n_layers; u++) {
            const network_layer *ul = &n->layers[u];
            bool reads = false;
            for (unsigned k = 0; k < ul->n_inputs && !reads; k++)
                reads = ul->inputs[k] == (int)layer;
            if (!reads)
                continue;
            unsigned dst = mapping_layer_group(n, a, m, u, c % layer_copies(n, m, u));
            mapping_route rt = {.copy = c, .src = src, .dst = dst, .bits = out_bits};
            topology_route(a, src, dst, &rt.hops, &rt.chip_hops);
            bool seen = rt.hops == 0 && rt.chip_hops == 0;
            for (unsigned k = first; k < count && !seen; k++)
                seen = r[k].dst == dst;
            if (seen)
                continue;
            if (count == cap) {
                cap = cap ? 2 * cap : 4;
                r = mem_realloc(r, cap, sizeof *r, "mapping routes");
            }
            r[count++] = rt;
        }
    }
    *out = r;
    return count;
}

uint64_t mapping_route_bits(const network *n, const arch *a, const mapping *m, unsigned layer)
{
    int x = n->layers[layer].xbar_index;
    mapping_traffic t =
        x >= 0 ? mapping_layer_traffic(n, a, &m->layers[x]) : mapping_digital_traffic(n, layer);
    return t.sram_write_bytes * 8;
}

/* Whether any layer reads layer `layer`'s output. */
static bool has_consumer(const network *n, unsigned layer)
{
    for (unsigned u = layer + 1; u < n->n_layers; u++)
        for (unsigned k = 0; k < n->layers[u].n_inputs; k++)
            if (n->layers[u].inputs[k] == (int)layer)
                return true;
    return false;
}

/* The first layer that reads the network input, index. */
static unsigned first_input_reader(const network *n)
{
    for (unsigned u = 0; u < n->n_layers; u++)
        for (unsigned k = 0; k < n->layers[u].n_inputs; k++)
            if (n->layers[u].inputs[k] == NETWORK_INPUT)
                return u;
    return 0; /* the loader guarantees one: layer 0 reads the input */
}

/* Distinct groups the copies of crossbar layer ml work in (copies are placed in order, so equal
 * groups are adjacent), count. */
static unsigned copy_groups(const arch *a, const mapping_layer *ml)
{
    unsigned count = 0, last = 0;
    for (unsigned c = 0; c < ml->copies; c++) {
        unsigned g = arch_tile_group(a, ml->copy_tile[c]);
        if (c == 0 || g != last)
            count++;
        last = g;
    }
    return count;
}

mapping_buffer mapping_layer_buffer(const network *n, const arch *a, const mapping *m,
                                    unsigned layer)
{
    const network_layer *nl = &n->layers[layer];
    uint64_t bytes = network_shape_elements(nl->out);
    for (unsigned k = 0; k < nl->n_inputs; k++)
        bytes += network_shape_elements(
            nl->inputs[k] == NETWORK_INPUT ? n->input : n->layers[nl->inputs[k]].out);
    unsigned groups = 1;
    if (nl->xbar_index >= 0 && a->mode == ARCH_MODE_WEIGHT_STATIONARY)
        groups = copy_groups(a, &m->layers[nl->xbar_index]);
    mapping_buffer b = {.need = 2 * bytes, .have = a->vector.sram_bytes * groups};
    b.spill = b.need > b.have ? b.need - b.have : 0;
    return b;
}

void mapping_layer_offchip(const network *n, const arch *a, const mapping *m, unsigned layer,
                           uint64_t *fetch_bits, uint64_t *store_bits)
{
    *fetch_bits = *store_bits = 0;
    if (!a->offchip.present)
        return;
    uint64_t spill = mapping_layer_buffer(n, a, m, layer).spill;
    *fetch_bits += spill * 4;
    *store_bits += spill * 4;
    const network_layer *nl = &n->layers[layer];
    if (first_input_reader(n) == layer)
        *fetch_bits += network_shape_elements(n->input) * 8;
    if (a->mode == ARCH_MODE_REPROGRAM && nl->xbar_index >= 0 && !nl->xbar.dynamic)
        *fetch_bits += nl->xbar.weights * m->layers[nl->xbar_index].wb;
    if (!has_consumer(n, layer))
        *store_bits += network_shape_elements(nl->out) * 8;
}

/* Without an off-chip link there is nowhere to spill to: the first layer whose buffers overflow
 * is an error. */
static int check_buffers(const network *n, const arch *a, const mapping *m, err *e)
{
    for (unsigned li = 0; li < n->n_layers; li++) {
        mapping_buffer b = mapping_layer_buffer(n, a, m, li);
        if (b.spill)
            return err_set(e, ERR_INPUT,
                           "%s on %s: layer %s needs %llu bytes of buffer (its input and output "
                           "activations, double-buffered), its groups have %llu "
                           "(arch.vector.sram_bytes %lu x %llu); give the arch an arch.offchip "
                           "link to spill over, or more SRAM",
                           n->name, a->name, n->layers[li].name, (unsigned long long)b.need,
                           (unsigned long long)b.have, a->vector.sram_bytes,
                           (unsigned long long)(b.have / a->vector.sram_bytes));
    }
    return 0;
}
