/* model: analytic stage times and energies of a mapping (see model.h).
 * Weight-stationary, per crossbar layer and input vector of one copy:
 *   T_in   = bus time of R x ab bits (x repeat) on the group's input bus, all lanes;
 *   T_tile = one VMM of the largest tile (all tiles of a copy work in parallel);
 *   T_out  = bus time of row_tiles x cols x repeat partial sums of psum_bits on the output bus;
 *   T_d    = (row_tiles x cols + N) x repeat lane ops (slice shift-adds, row-tile sums, activation
 *            and requantisation) on one vector module;
 *   T_l    = ceil(P / r) x (T_in + T_tile + T_out + T_d).
 * Reprogram: the layer's logical tiles take turns on the arch's crossbars in rounds, each round
 * written and then run for all P vectors: T_l = rounds x write + P x sum over rounds of the
 * round's slowest VMM + P x (T_in + T_out + T_d) -- CIM-AQ's repeat x (tiles x write + P x tiles x
 * steps x execute) for one crossbar.
 * Digital layers: T_l = T_d = their elements as lane ops on one vector module.
 * Then, for every layer: + T_noc (its output's transfers to other groups and chips, noc_layer)
 * and + T_io (the off-chip fetch before it and store after it, io_layer).
 */
#include "model.h"

#include <assert.h>
#include <stdlib.h>

#include "cost.h"
#include "mem.h"

void model_fini(model *m)
{
    if (!m)
        return;
    free(m->layers);
    m->layers = NULL;
    m->n = 0;
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/* Reprogram mode: round k runs logical tiles [k x crossbars, (k + 1) x crossbars) at once, so
 * it lasts as long as the slowest shape it holds. Sum over rounds of that VMM time, ps. */
static simtime reprogram_vmm_ps(const arch *a, const mapping_layer *ml, const mapping_shape *k,
                                unsigned nk)
{
    uint64_t xbars = a->tiles.count, logical = ml->tiles_per_copy;
    simtime total = 0;
    for (uint64_t first = 0; first < logical; first += xbars) {
        uint64_t last = first + xbars < logical ? first + xbars : logical; /* exclusive */
        simtime slowest = 0;
        uint64_t begin = 0;
        for (unsigned i = 0; i < nk; i++) {
            uint64_t end = begin + k[i].count;
            if (begin < last && end > first) {
                cost_vmm v = {.rows_used = k[i].rows,
                              .cols_used = k[i].cols,
                              .in_bits = ml->ab,
                              .adc_bits = ml->adc};
                simtime t = cost_vmm_ps(a, &v);
                slowest = t > slowest ? t : slowest;
            }
            begin = end;
        }
        total += slowest;
    }
    return total;
}

static void crossbar_layer(const network *n, const arch *a, const mapping_layer *ml,
                           model_layer *out)
{
    mapping_shape kinds[MAPPING_MAX_SHAPES];
    unsigned nk = mapping_shapes(a, ml, kinds);

    /* Tile time and energy of one input vector through every tile of one copy. */
    cost_vmm v = {.rows_used = kinds[0].rows,
                  .cols_used = kinds[0].cols,
                  .in_bits = ml->ab,
                  .adc_bits = ml->adc};
    simtime t_tile = cost_vmm_ps(a, &v);
    cost_vmm vk[MAPPING_MAX_SHAPES];
    uint64_t count[MAPPING_MAX_SHAPES];
    uint64_t busy_vec = 0; /* ps, summed over the copy's tiles */
    for (unsigned i = 0; i < nk; i++) {
        vk[i] = (cost_vmm){.rows_used = kinds[i].rows,
                           .cols_used = kinds[i].cols,
                           .in_bits = ml->ab,
                           .adc_bits = ml->adc};
        count[i] = kinds[i].count;
        busy_vec += kinds[i].count * cost_vmm_ps(a, &vk[i]);
    }
    double e_vec[COST_E_COUNT] = {0};
    cost_vmm_energy_sum(a, vk, count, nk, e_vec);

    mapping_traffic tr = mapping_layer_traffic(n, a, ml);
    out->t_in_ps = cost_bus_transfer_ps(a, &a->groups.in_bus, tr.in_bits, a->groups.in_bus.lanes);
    out->t_tile_ps = t_tile;
    out->t_out_ps =
        cost_bus_transfer_ps(a, &a->groups.out_bus, tr.out_bits, a->groups.out_bus.lanes);
    out->t_d_ps = cost_vector_ps(a, tr.lane_ops, a->vector.lanes);
    simtime digital = out->t_in_ps + out->t_out_ps + out->t_d_ps;

    double p = (double)ml->vectors; /* every vector of every copy costs the same energy */
    for (int c = 0; c < COST_E_COUNT; c++)
        out->energy_pj[c] = e_vec[c] * p;
    out->energy_pj[COST_E_BUS] = (cost_bus_energy_pj(&a->groups.in_bus, tr.in_bits) +
                                  cost_bus_energy_pj(&a->groups.out_bus, tr.out_bits)) *
                                 p;
    out->energy_pj[COST_E_VECTOR] = cost_vector_energy_pj(a, tr.lane_ops, 0, 0) * p;
    out->energy_pj[COST_E_SRAM] =
        cost_vector_energy_pj(a, 0, tr.sram_read_bytes, tr.sram_write_bytes) * p;
    out->busy_tile_ps = busy_vec * ml->vectors;
    out->busy_lane_ps = tr.lane_ops * cost_vector_op_ps(a) * ml->vectors;
    out->macs = n->layers[ml->layer].xbar.weights * ml->vectors;

    uint64_t cells = 0; /* used cells of one copy */
    for (unsigned i = 0; i < nk; i++)
        cells += kinds[i].count * kinds[i].rows * kinds[i].cols;
    if (a->mode == ARCH_MODE_WEIGHT_STATIONARY) {
        out->write_ps = 0;
        out->time_ps = ml->vectors_max * (t_tile + digital);
        out->programming_pj = cost_write_energy_pj(a, cells) * ml->copies;
    } else {
        uint64_t rounds = ceil_div(ml->tiles_per_copy, a->tiles.count);
        out->write_ps = rounds * cost_write_ps(a);
        out->time_ps = out->write_ps + ml->vectors * reprogram_vmm_ps(a, ml, kinds, nk) +
                       ml->vectors * digital;
        out->energy_pj[COST_E_WRITE] = cost_write_energy_pj(a, cells);
        out->busy_tile_ps += ml->tiles_per_copy * cost_write_ps(a); /* each written once */
    }
}

static void digital_layer(const network *n, const arch *a, unsigned li, model_layer *out)
{
    mapping_traffic tr = mapping_digital_traffic(n, li);
    out->t_d_ps = cost_vector_ps(a, tr.lane_ops, a->vector.lanes);
    out->time_ps = out->t_d_ps;
    out->busy_lane_ps = tr.lane_ops * cost_vector_op_ps(a);
    out->energy_pj[COST_E_VECTOR] = cost_vector_energy_pj(a, tr.lane_ops, 0, 0);
    out->energy_pj[COST_E_SRAM] =
        cost_vector_energy_pj(a, 0, tr.sram_read_bytes, tr.sram_write_bytes);
}

/* The on-chip network (arch.noc): every output vector of a copy makes its routes' transfers one
 * after the other, after its vector-module work (exec.c's NOC stage), so a copy's per-vector time
 * grows by the sum of its routes' times and the layer's time is its slowest copy's. */
static void noc_layer(const network *n, const arch *a, const mapping *m, unsigned li,
                      model_layer *out)
{
    mapping_route *r;
    unsigned nr = mapping_layer_routes(n, a, m, li, &r);
    if (nr == 0)
        return;
    int xi = n->layers[li].xbar_index;
    const mapping_layer *ml = xi >= 0 ? &m->layers[xi] : NULL;
    unsigned copies = ml ? ml->copies : 1;
    simtime base = out->t_in_ps + out->t_tile_ps + out->t_out_ps + out->t_d_ps;
    simtime slowest = 0;
    out->t_noc_ps = 0;
    unsigned k = 0;
    for (unsigned c = 0; c < copies; c++) {
        uint64_t vectors = ml ? ml->vectors / copies + (c < ml->vectors % copies) : 1;
        simtime noc = 0;
        for (; k < nr && r[k].copy == c; k++) {
            unsigned h = r[k].hops, ch = r[k].chip_hops;
            uint64_t bits = r[k].bits;
            noc += cost_noc_transfer_ps(a, bits, h);
            out->noc_bit_hops += bits * h * vectors;
            out->energy_pj[COST_E_NOC] += cost_noc_energy_pj(a, bits, h) * (double)vectors;
            if (ch == 0)
                continue;
            noc += cost_xlink_transfer_ps(&a->interchip, bits, ch);
            out->interchip_bit_hops += bits * ch * vectors;
            out->energy_pj[COST_E_INTERCHIP] +=
                cost_xlink_energy_pj(&a->interchip, bits, ch) * (double)vectors;
        }
        simtime t = vectors * (base + noc);
        if (t > slowest || c == 0) {
            slowest = t;
            out->t_noc_ps = noc;
            out->noc_time_ps = vectors * noc;
        }
    }
    assert(k == nr);
    free(r);
    out->time_ps = slowest; /* weight-stationary only: reprogram mode has no routes */
}

/* The off-chip link (arch.offchip): the layer fetches its input and weights before its work and
 * stores its network output after it, each one transfer of one hop. */
static void io_layer(const network *n, const arch *a, const mapping *m, unsigned li,
                     model_layer *out)
{
    uint64_t fetch, store;
    mapping_layer_offchip(n, a, m, li, &fetch, &store);
    if (fetch + store == 0)
        return;
    out->t_io_ps = cost_xlink_transfer_ps(&a->offchip, fetch, fetch > 0) +
                   cost_xlink_transfer_ps(&a->offchip, store, store > 0);
    out->time_ps += out->t_io_ps;
    out->offchip_bits = fetch + store;
    out->energy_pj[COST_E_OFFCHIP] = cost_xlink_energy_pj(&a->offchip, fetch + store, 1);
}

/* Weight-stationary with an off-chip link: every copy's weights come in once, before the first
 * inference, as one transfer over one chip's link. */
static void weight_load(const network *n, const arch *a, const mapping *m, model *r)
{
    if (a->mode != ARCH_MODE_WEIGHT_STATIONARY || !a->offchip.present)
        return;
    for (unsigned i = 0; i < m->n; i++) {
        const network_layer *nl = &n->layers[m->layers[i].layer];
        if (!nl->xbar.dynamic)
            r->weight_load_bits += nl->xbar.weights * m->layers[i].wb * m->layers[i].copies;
    }
    r->weight_load_ps = cost_xlink_transfer_ps(&a->offchip, r->weight_load_bits, 1);
    r->weight_load_pj = cost_xlink_energy_pj(&a->offchip, r->weight_load_bits, 1);
}

/* Groups holding at least one of the mapping's tiles (weight-stationary), count. */
static uint64_t groups_used(const arch *a, const mapping *m)
{
    /* A layout priced before it is checked against the chip may run past its last group. */
    uint64_t ng = m->tiles_span ? (uint64_t)arch_tile_group(a, m->tiles_span - 1) + 1 : 0;
    bool *used = mem_calloc(ng ? ng : 1, sizeof *used, "model groups used");
    uint64_t count = 0;
    for (unsigned i = 0; i < m->n; i++) {
        const mapping_layer *ml = &m->layers[i];
        for (unsigned c = 0; c < ml->copies; c++) {
            uint64_t first = arch_tile_group(a, ml->copy_tile[c]);
            uint64_t last = arch_tile_group(a, ml->copy_tile[c] + ml->tiles_per_copy - 1);
            for (uint64_t g = first; g <= last; g++)
                if (!used[g]) {
                    used[g] = true;
                    count++;
                }
        }
    }
    free(used);
    return count;
}

/* Dynamic energy plus the static energy of `usage` over window_ps, by category; returns the
 * total, pJ. */
static double energy_on(const arch *a, const model *r, double window_ps, double out[COST_E_COUNT])
{
    double dyn[COST_E_COUNT] = {0};
    for (unsigned li = 0; li < r->n; li++)
        for (int c = 0; c < COST_E_COUNT; c++)
            dyn[c] += r->layers[li].energy_pj[c];
    cost_static_energy(a, &r->usage, window_ps, dyn);
    for (int c = 0; c < COST_E_COUNT; c++)
        out[c] = dyn[c];
    return cost_total(out);
}

void model_evaluate(const network *n, const arch *a, const mapping *m, model *out)
{
    model r = {.n = n->n_layers};
    r.layers = mem_calloc(n->n_layers, sizeof *r.layers, "model layers");
    for (unsigned i = 0; i < m->n; i++)
        crossbar_layer(n, a, &m->layers[i], &r.layers[m->layers[i].layer]);
    for (unsigned li = 0; li < n->n_layers; li++)
        if (n->layers[li].xbar_index < 0)
            digital_layer(n, a, li, &r.layers[li]);
    for (unsigned li = 0; li < n->n_layers; li++) {
        noc_layer(n, a, m, li, &r.layers[li]);
        io_layer(n, a, m, li, &r.layers[li]);
    }
    weight_load(n, a, m, &r);
    r.chips = m->chips_used;
    for (unsigned li = 0; a->offchip.present && li < n->n_layers; li++) {
        uint64_t spill = mapping_layer_buffer(n, a, m, li).spill;
        r.spill_bytes += spill;
        r.spill_layers += spill > 0;
    }

    uint64_t busy = 0, lanes = 0;
    for (unsigned li = 0; li < n->n_layers; li++) {
        const model_layer *l = &r.layers[li];
        r.latency_ps += l->time_ps;
        if (li == 0 || l->time_ps > r.bottleneck_ps) {
            r.bottleneck = li;
            r.bottleneck_ps = l->time_ps;
        }
        busy += l->busy_tile_ps;
        lanes += l->busy_lane_ps;
        r.macs += l->macs;
        r.programming_pj += l->programming_pj;
        r.noc_bit_hops += l->noc_bit_hops;
        r.noc_ps += l->noc_time_ps;
        r.interchip_bit_hops += l->interchip_bit_hops;
        r.offchip_bits += l->offchip_bits;
        r.io_ps += l->t_io_ps;
    }
    r.throughput_per_s = r.bottleneck_ps ? 1.0 / simtime_to_s(r.bottleneck_ps) : 0.0;

    /* What is powered. Weight-stationary: the tiles holding weights and their groups.
     * Reprogram: every crossbar of the chip (they exist whether or not a layer needs them all). */
    bool ws = a->mode == ARCH_MODE_WEIGHT_STATIONARY;
    uint64_t powered = ws ? m->tiles_used : a->tiles.count;
    r.tiles_used = powered;
    r.usage.tiles = powered;
    r.usage.groups = ws ? groups_used(a, m) : arch_groups(a);
    r.usage.chips = m->chips_used;
    r.usage.tile_busy_ps = (double)busy;
    r.usage.lane_busy_ps = (double)lanes;
    if (ws) /* each layer's own tiles over the latency: the per-layer share of static energy */
        for (unsigned i = 0; i < m->n; i++) {
            model_layer *l = &r.layers[m->layers[i].layer];
            uint64_t tiles = m->layers[i].tiles_per_copy * m->layers[i].copies;
            l->static_tiles_pj = cost_tile_static_pj(a, l->busy_tile_ps, tiles * r.latency_ps);
        }
    r.energy_single_total_pj = energy_on(a, &r, (double)r.latency_ps, r.energy_single_pj);
    r.energy_steady_total_pj = energy_on(a, &r, (double)r.bottleneck_ps, r.energy_steady_pj);
    if (busy > powered * r.latency_ps) /* reprogram: busy is summed over logical tiles */
        busy = powered * r.latency_ps;
    r.utilisation =
        powered && r.latency_ps ? (double)busy / ((double)powered * (double)r.latency_ps) : 0.0;
    *out = r;
}

double model_tops_per_w(uint64_t macs, double energy_pj)
{
    return energy_pj > 0 ? 2.0 * (double)macs / energy_pj : 0.0; /* op/pJ = TOPS/W */
}

double model_pj_per_mac(uint64_t macs, double energy_pj)
{
    return macs ? energy_pj / (double)macs : 0.0;
}

/* One energy definition: total, dynamic and static sums, achieved efficiency, then every
 * non-zero category (uJ). */
static void print_energy(FILE *out, const char *name, const char *what,
                         const double e[COST_E_COUNT], uint64_t macs)
{
    double total = cost_total(e);
    fprintf(out,
            "%s = %.6g uJ per inference (%s): dynamic %.6g, static %.6g uJ; %.6g TOPS/W, "
            "%.6g pJ/MAC\n",
            name, total * 1e-6, what, cost_dynamic_total(e) * 1e-6, cost_static_total(e) * 1e-6,
            model_tops_per_w(macs, total), model_pj_per_mac(macs, total));
    fprintf(out, "  by category (uJ):");
    for (int c = 0; c < COST_E_COUNT; c++)
        if (e[c] != 0.0)
            fprintf(out, " %s %.4g", cost_category_name((cost_category)c), e[c] * 1e-6);
    fprintf(out, "\n");
}

/* The layer ranges of each chip of a system, and the traffic between them. */
static void print_partition(const network *n, const arch *a, const mapping *map, const model *m,
                            FILE *out)
{
    fprintf(out,
            "chips = %u used of %u (%u tiles each), %llu bit-hops between chips per inference\n",
            m->chips, a->chips, a->tiles.count, (unsigned long long)m->interchip_bit_hops);
    unsigned i = 0;
    for (unsigned c = 0; c < m->chips; c++) {
        unsigned first = i;
        while (i < map->n && map->layers[i].chip == c)
            i++;
        if (i == first) { /* held by a layer that spans it */
            fprintf(out, "  chip %u: part of %s\n", c,
                    n->layers[map->layers[first - 1].layer].name);
            continue;
        }
        fprintf(out, "  chip %u: %s .. %s (%u crossbar layers)\n", c,
                n->layers[map->layers[first].layer].name, n->layers[map->layers[i - 1].layer].name,
                i - first);
    }
}

void model_print(const network *n, const arch *a, const mapping *map, const model *m, FILE *out)
{
    fprintf(out, "# %s on %s (%s)\n", n->name, a->name, arch_mode_name(a->mode));
    fprintf(out, "%-18s %-9s %13s %4s %4s %7s %6s %12s %12s %12s %12s %14s %7s\n", "layer", "kind",
            "R x N", "wb", "ab", "tiles", "copies", "T_in/ns", "T_tile/ns", "T_out/ns", "T_d/ns",
            "T_layer/us", "share");
    for (unsigned li = 0; li < n->n_layers; li++) {
        const network_layer *nl = &n->layers[li];
        const model_layer *l = &m->layers[li];
        double share = m->latency_ps ? 100.0 * (double)l->time_ps / (double)m->latency_ps : 0.0;
        if (nl->xbar_index < 0) {
            fprintf(out, "%-18s %-9s %13s %4s %4s %7s %6s %12s %12s %12s %12.3f %14.3f %6.2f%%\n",
                    nl->name, network_layer_kind_name(nl->kind), "-", "-", "-", "-", "-", "-", "-",
                    "-", simtime_to_ns(l->t_d_ps), simtime_to_us(l->time_ps), share);
            continue;
        }
        const mapping_layer *ml = &map->layers[nl->xbar_index];
        char rn[32];
        snprintf(rn, sizeof rn, "%llux%llu", (unsigned long long)nl->xbar.rows,
                 (unsigned long long)nl->xbar.cols);
        fprintf(out,
                "%-18s %-9s %13s %4u %4u %7llu %6u %12.3f %12.3f %12.3f %12.3f %14.3f %6.2f%%\n",
                nl->name, network_layer_kind_name(nl->kind), rn, ml->wb, ml->ab,
                (unsigned long long)ml->tiles_per_copy, ml->copies, simtime_to_ns(l->t_in_ps),
                simtime_to_ns(l->t_tile_ps), simtime_to_ns(l->t_out_ps), simtime_to_ns(l->t_d_ps),
                simtime_to_us(l->time_ps), share);
    }
    fprintf(out, "latency = %.3f us (one inference, sum of layer times)\n",
            simtime_to_us(m->latency_ps));
    fprintf(out, "bottleneck = %s, %.3f us (%.2f%% of latency)\n", n->layers[m->bottleneck].name,
            simtime_to_us(m->bottleneck_ps),
            m->latency_ps ? 100.0 * (double)m->bottleneck_ps / (double)m->latency_ps : 0.0);
    fprintf(out, "throughput = %.6g inferences/s (pipelined: 1 / bottleneck)\n",
            m->throughput_per_s);
    fprintf(out, "tiles = %llu used of %llu (%s)\n", (unsigned long long)m->tiles_used,
            (unsigned long long)arch_system_tiles(a),
            a->mode == ARCH_MODE_WEIGHT_STATIONARY ? "weight-stationary" : "crossbars shared");
    if (a->chips > 1)
        print_partition(n, a, map, m, out);
    fprintf(out, "utilisation = %.4f (busy tile time / (tiles x latency))\n", m->utilisation);
    if (a->noc.topology != ARCH_NOC_NONE)
        fprintf(out,
                "noc = %.3f us of the latency (%.2f%%), %llu bit-hops per inference (%s, %u x %u "
                "routers, %u-bit links)\n",
                simtime_to_us(m->noc_ps),
                m->latency_ps ? 100.0 * (double)m->noc_ps / (double)m->latency_ps : 0.0,
                (unsigned long long)m->noc_bit_hops, arch_noc_topology_name(a->noc.topology),
                a->noc.rows, a->noc.cols, a->noc.link_bits);
    if (a->offchip.present)
        fprintf(out,
                "offchip = %.3f us of the latency (%.2f%%), %llu bits per inference (network input "
                "and output%s; %u layers' buffers overflow by %llu bytes, half of it out and back "
                "every inference)\n",
                simtime_to_us(m->io_ps),
                m->latency_ps ? 100.0 * (double)m->io_ps / (double)m->latency_ps : 0.0,
                (unsigned long long)m->offchip_bits,
                a->mode == ARCH_MODE_REPROGRAM ? ", weights written every inference" : "",
                m->spill_layers, (unsigned long long)m->spill_bytes);
    if (m->weight_load_bits)
        fprintf(out,
                "weight load = %.3f us and %.6g uJ once, %llu bits over the off-chip link before "
                "the first inference (not in the latency or the energies per inference)\n",
                simtime_to_us(m->weight_load_ps), m->weight_load_pj * 1e-6,
                (unsigned long long)m->weight_load_bits);
    cost_peak pk = cost_peak_eval(a);
    double ops = 2.0 * (double)m->macs * m->throughput_per_s;
    fprintf(out,
            "achieved = %.6g op/s (2 x %llu MACs x throughput), %.6g TOPS/mm2 on %.6g mm2; peak "
            "%.6g op/s, %.6g TOPS/W, %.6g TOPS/mm2 (%u-bit, `xbarsim info`)\n",
            ops, (unsigned long long)m->macs, pk.area_mm2 > 0 ? ops * 1e-12 / pk.area_mm2 : 0.0,
            pk.area_mm2, pk.ops_per_s, pk.tops_per_w, pk.tops_per_mm2, a->peak_bits);
    print_energy(out, "energy_single", "static over one inference's latency", m->energy_single_pj,
                 m->macs);
    print_energy(out, "energy_steady", "static over the pipelined period 1 / throughput",
                 m->energy_steady_pj, m->macs);
    if (a->mode == ARCH_MODE_WEIGHT_STATIONARY)
        fprintf(out,
                "programming = %.6g uJ once (every copy's cells written before the first "
                "inference; not in the energies per inference)\n",
                m->programming_pj * 1e-6);
    fprintf(out, "edp = %.6g uJ*us (single-inference energy x latency)\n",
            m->energy_single_total_pj * 1e-6 * simtime_to_us(m->latency_ps));
}

void model_print_csv(const network *n, const mapping *map, const model *m, FILE *out)
{
    fprintf(out, "layer,kind,rows,cols,repeat,vectors,wb,ab,adc_bits,tiles_per_copy,copies,"
                 "t_in_ps,t_tile_ps,t_out_ps,t_d_ps,time_ps,energy_pj,t_noc_ps,noc_bit_hops\n");
    for (unsigned li = 0; li < n->n_layers; li++) {
        const network_layer *nl = &n->layers[li];
        const model_layer *l = &m->layers[li];
        double e = 0;
        for (int c = 0; c < COST_E_COUNT; c++)
            e += l->energy_pj[c];
        if (nl->xbar_index < 0) {
            fprintf(out, "%s,%s,,,,,,,,,,0,0,0,%llu,%llu,%.9g,%llu,%llu\n", nl->name,
                    network_layer_kind_name(nl->kind), (unsigned long long)l->t_d_ps,
                    (unsigned long long)l->time_ps, e, (unsigned long long)l->t_noc_ps,
                    (unsigned long long)l->noc_bit_hops);
            continue;
        }
        const mapping_layer *ml = &map->layers[nl->xbar_index];
        fprintf(
            out,
            "%s,%s,%llu,%llu,%u,%llu,%u,%u,%u,%llu,%u,%llu,%llu,%llu,%llu,%llu,%.9g,%llu,%llu\n",
            nl->name, network_layer_kind_name(nl->kind), (unsigned long long)nl->xbar.rows,
            (unsigned long long)nl->xbar.cols, ml->repeat, (unsigned long long)ml->vectors, ml->wb,
            ml->ab, ml->adc, (unsigned long long)ml->tiles_per_copy, ml->copies,
            (unsigned long long)l->t_in_ps, (unsigned long long)l->t_tile_ps,
            (unsigned long long)l->t_out_ps, (unsigned long long)l->t_d_ps,
            (unsigned long long)l->time_ps, e, (unsigned long long)l->t_noc_ps,
            (unsigned long long)l->noc_bit_hops);
    }
}

/* A JSON string: the names xbarsim accepts need no escapes but quotes and backslashes. */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, out);
    }
    fputc('"', out);
}

void model_print_json(const network *n, const arch *a, const mapping *map, const model *m,
                      FILE *out)
{
    fprintf(out, "{\n  \"network\": ");
    json_string(out, n->name);
    fprintf(out, ",\n  \"arch\": ");
    json_string(out, a->name);
    fprintf(out, ",\n  \"mode\": \"%s\",\n  \"placement\": \"%s\",\n  \"layers\": [\n",
            arch_mode_name(a->mode), mapping_placement_name(map->placement));
    for (unsigned li = 0; li < n->n_layers; li++) {
        const network_layer *nl = &n->layers[li];
        const model_layer *l = &m->layers[li];
        double e = 0;
        for (int c = 0; c < COST_E_COUNT; c++)
            e += l->energy_pj[c];
        fprintf(out, "    {\"name\": ");
        json_string(out, nl->name);
        fprintf(out, ", \"kind\": \"%s\"", network_layer_kind_name(nl->kind));
        if (nl->xbar_index >= 0) {
            const mapping_layer *ml = &map->layers[nl->xbar_index];
            fprintf(out,
                    ", \"rows\": %llu, \"cols\": %llu, \"repeat\": %u, \"vectors\": %llu, "
                    "\"wb\": %u, \"ab\": %u, \"adc_bits\": %u, \"tiles_per_copy\": %llu, "
                    "\"copies\": %u, \"t_in_ps\": %llu, \"t_tile_ps\": %llu, \"t_out_ps\": %llu",
                    (unsigned long long)nl->xbar.rows, (unsigned long long)nl->xbar.cols,
                    ml->repeat, (unsigned long long)ml->vectors, ml->wb, ml->ab, ml->adc,
                    (unsigned long long)ml->tiles_per_copy, ml->copies,
                    (unsigned long long)l->t_in_ps, (unsigned long long)l->t_tile_ps,
                    (unsigned long long)l->t_out_ps);
        }
        fprintf(
            out,
            ", \"t_d_ps\": %llu, \"t_noc_ps\": %llu, \"noc_bit_hops\": %llu, \"t_io_ps\": %llu, "
            "\"offchip_bits\": %llu, \"time_ps\": %llu, \"energy_pj\": %.9g",
            (unsigned long long)l->t_d_ps, (unsigned long long)l->t_noc_ps,
            (unsigned long long)l->noc_bit_hops, (unsigned long long)l->t_io_ps,
            (unsigned long long)l->offchip_bits, (unsigned long long)l->time_ps, e);
        fprintf(out, ", \"energy_by_category_pj\": {");
        for (int c = 0; c < COST_E_STATIC_FIRST; c++)
            fprintf(out, "%s\"%s\": %.9g", c ? ", " : "", cost_category_name((cost_category)c),
                    l->energy_pj[c]);
        fprintf(out, "}}%s\n", li + 1 < n->n_layers ? "," : "");
    }
    fprintf(out, "  ],\n  \"totals\": {\"latency_ps\": %llu, \"bottleneck\": ",
            (unsigned long long)m->latency_ps);
    json_string(out, n->layers[m->bottleneck].name);
    fprintf(out,
            ", \"bottleneck_ps\": %llu, \"throughput_per_s\": %.9g, \"tiles_used\": %llu, "
            "\"utilisation\": %.9g, \"energy_single_pj\": {",
            (unsigned long long)m->bottleneck_ps, m->throughput_per_s,
            (unsigned long long)m->tiles_used, m->utilisation);
    for (int c = 0; c < COST_E_COUNT; c++)
        fprintf(out, "\"%s\": %.9g, ", cost_category_name((cost_category)c),
                m->energy_single_pj[c]);
    fprintf(out, "\"total\": %.9g}, \"energy_steady_pj\": {", m->energy_single_total_pj);
    for (int c = 0; c < COST_E_COUNT; c++)
        fprintf(out, "\"%s\": %.9g, ", cost_category_name((cost_category)c),
                m->energy_steady_pj[c]);
    fprintf(out,
            "\"total\": %.9g}, \"macs\": %llu, \"noc_ps\": %llu, \"noc_bit_hops\": %llu, "
            "\"chips\": %u, \"interchip_bit_hops\": %llu, \"io_ps\": %llu, \"offchip_bits\": %llu, "
            "\"spill_bytes\": %llu, \"weight_load_bits\": %llu, \"weight_load_ps\": %llu, "
            "\"tops_per_w_single\": %.9g, \"tops_per_w_steady\": %.9g}\n}\n",
            m->energy_steady_total_pj, (unsigned long long)m->macs, (unsigned long long)m->noc_ps,
            (unsigned long long)m->noc_bit_hops, m->chips,
            (unsigned long long)m->interchip_bit_hops, (unsigned long long)m->io_ps,
            (unsigned long long)m->offchip_bits, (unsigned long long)m->spill_bytes,
            (unsigned long long)m->weight_load_bits, (unsigned long long)m->weight_load_ps,
            model_tops_per_w(m->macs, m->energy_single_total_pj),
            model_tops_per_w(m->macs, m->energy_steady_total_pj));
}
