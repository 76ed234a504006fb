/* runout: the HDF5 file of `xbarsim run` apart from the trace -- /meta, /mapping/layers,
 * /components and /summary (schema in traces/README.md). Each table is a row struct and a column
 * list built from it with offsetof, so a column cannot name the wrong field.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "chip.h"
#include "cli.h"
#include "mem.h"
#include "run.h"
#include "tile.h"
#include "vecmod.h"

#define NAME_BYTES 128 /* fixed-length string columns, bytes (names longer are cut) */
#define KIND_BYTES 16

const char *const runout_kind_names[] = {
#define RUNOUT_KIND(id, name) name,
    PART_ACTIVITY_MAP(RUNOUT_KIND)
#undef RUNOUT_KIND
};
const size_t runout_kind_count = PART_ACTIVITY_COUNT;

static void put(char *dst, size_t size, const char *src)
{
    strncpy(dst, src, size - 1);
    dst[size - 1] = '\0';
}

/* ---- /meta ----------------------------------------------------------------------------------- */

static int write_meta(h5file *f, const run_ctx *r, err *e)
{
    ERR_TRY(cli_meta_write(f, r->command_line, r->config_text, r->seed, r->start_time, e));
    ERR_TRY(h5file_attr_str(f, "/meta", "network", r->n.name, e));
    ERR_TRY(h5file_attr_str(f, "/meta", "arch", r->a.name, e));
    ERR_TRY(h5file_attr_u64(f, "/meta", "inferences", r->inferences, e));
    ERR_TRY(h5file_attr_str(f, "/meta", "overlap", r->overlap ? "on" : "off", e));
    ERR_TRY(h5file_attr_str(f, "/meta", "trace_level", trace_level_name(r->trace), e));
    ERR_TRY(h5file_attr_f64(f, "/meta", "wall_seconds", r->wall_s, e));
    ERR_TRY(h5file_attr_u64(f, "/meta", "events", r->events, e));
    return 0;
}

/* ---- /mapping/layers
 * ----------------------------------------------------------------------------- */

typedef struct map_row {
    uint32_t layer;
    char name[NAME_BYTES];
    char kind[KIND_BYTES];
    uint8_t crossbar;
    uint64_t rows, cols;
    uint32_t repeat;
    uint64_t vectors;
    uint32_t wb, ab, adc_bits;
    uint64_t tiles_per_copy;
    uint32_t copies;
    int64_t first_tile, last_tile, group;
    uint64_t model_t_in_ps, model_t_tile_ps, model_t_out_ps, model_t_d_ps, model_time_ps;
} map_row;

static const h5file_col map_cols[] = {
    H5FILE_COL(map_row, layer, H5FILE_U32, "index"),
    H5FILE_COL(map_row, name, H5FILE_STR, "-"),
    H5FILE_COL(map_row, kind, H5FILE_STR, "-"),
    H5FILE_COL(map_row, crossbar, H5FILE_U8, "-"),
    H5FILE_COL(map_row, rows, H5FILE_U64, "count"),
    H5FILE_COL(map_row, cols, H5FILE_U64, "count"),
    H5FILE_COL(map_row, repeat, H5FILE_U32, "count"),
    H5FILE_COL(map_row, vectors, H5FILE_U64, "count"),
    H5FILE_COL(map_row, wb, H5FILE_U32, "bits"),
    H5FILE_COL(map_row, ab, H5FILE_U32, "bits"),
    H5FILE_COL(map_row, adc_bits, H5FILE_U32, "bits"),
    H5FILE_COL(map_row, tiles_per_copy, H5FILE_U64, "count"),
    H5FILE_COL(map_row, copies, H5FILE_U32, "count"),
    H5FILE_COL(map_row, first_tile, H5FILE_I64, "id"),
    H5FILE_COL(map_row, last_tile, H5FILE_I64, "id"),
    H5FILE_COL(map_row, group, H5FILE_I64, "index"),
    H5FILE_COL(map_row, model_t_in_ps, H5FILE_U64, "ps"),
    H5FILE_COL(map_row, model_t_tile_ps, H5FILE_U64, "ps"),
    H5FILE_COL(map_row, model_t_out_ps, H5FILE_U64, "ps"),
    H5FILE_COL(map_row, model_t_d_ps, H5FILE_U64, "ps"),
    H5FILE_COL(map_row, model_time_ps, H5FILE_U64, "ps"),
};

static int write_mapping(h5file *f, const run_ctx *r, err *e)
{
    const network *n = &r->n;
    map_row *rows = mem_calloc(n->n_layers, sizeof *rows, "mapping rows");
    bool ws = r->a.mode == ARCH_MODE_WEIGHT_STATIONARY;
    for (unsigned i = 0; i < n->n_layers; i++) {
        const network_layer *nl = &n->layers[i];
        const model_layer *ml = &r->mo.layers[i];
        map_row *w = &rows[i];
        w->layer = i;
        put(w->name, sizeof w->name, nl->name);
        put(w->kind, sizeof w->kind, network_layer_kind_name(nl->kind));
        w->first_tile = w->last_tile = -1;
        w->group = r->p.tasks[i].group;
        w->model_t_in_ps = ml->t_in_ps;
        w->model_t_tile_ps = ml->t_tile_ps;
        w->model_t_out_ps = ml->t_out_ps;
        w->model_t_d_ps = ml->t_d_ps;
        w->model_time_ps = ml->time_ps;
        if (nl->xbar_index < 0) {
            w->vectors = nl->elements;
            w->copies = 1;
            continue;
        }
        const mapping_layer *l = &r->m.layers[nl->xbar_index];
        w->crossbar = 1;
        w->rows = nl->xbar.rows;
        w->cols = nl->xbar.cols;
        w->repeat = l->repeat;
        w->vectors = l->vectors;
        w->wb = l->wb;
        w->ab = l->ab;
        w->adc_bits = l->adc;
        w->tiles_per_copy = l->tiles_per_copy;
        w->copies = r->p.tasks[i].copies;
        if (ws) {
            w->first_tile = (int64_t)l->first_tile;
            w->last_tile = (int64_t)l->last_tile;
        }
    }
    int rc = h5file_group(f, "/mapping", e);
    if (rc == 0)
        rc = h5table_write(f, "/mapping/layers",
                           "one row per network layer: its mapping and "
                           "the analytic model's stage times",
                           map_cols, sizeof map_cols / sizeof map_cols[0], sizeof *rows, rows,
                           n->n_layers, e);
    free(rows);
    return rc;
}

/* ---- /components and /summary/components ---------------------------------------------------- */

typedef struct comp_row {
    uint32_t id;
    char kind[KIND_BYTES];
    char name[NAME_BYTES];
    int64_t group;
} comp_row;

static const h5file_col comp_cols[] = {
    H5FILE_COL(comp_row, id, H5FILE_U32, "id"),
    H5FILE_COL(comp_row, kind, H5FILE_STR, "-"),
    H5FILE_COL(comp_row, name, H5FILE_STR, "-"),
    H5FILE_COL(comp_row, group, H5FILE_I64, "index"),
};

typedef struct comp_sum_row {
    uint32_t id;
    char kind[KIND_BYTES];
    char name[NAME_BYTES];
    int64_t group;
    uint64_t busy_ps;
    uint32_t servers;
    double utilisation;
    uint64_t requests, wait_total_ps, wait_max_ps;
    double energy_dynamic_pj, energy_static_pj, energy_total_pj;
} comp_sum_row;

static const h5file_col comp_sum_cols[] = {
    H5FILE_COL(comp_sum_row, id, H5FILE_U32, "id"),
    H5FILE_COL(comp_sum_row, kind, H5FILE_STR, "-"),
    H5FILE_COL(comp_sum_row, name, H5FILE_STR, "-"),
    H5FILE_COL(comp_sum_row, group, H5FILE_I64, "index"),
    H5FILE_COL(comp_sum_row, busy_ps, H5FILE_U64, "ps"),
    H5FILE_COL(comp_sum_row, servers, H5FILE_U32, "count"),
    H5FILE_COL(comp_sum_row, utilisation, H5FILE_F64, "fraction"),
    H5FILE_COL(comp_sum_row, requests, H5FILE_U64, "count"),
    H5FILE_COL(comp_sum_row, wait_total_ps, H5FILE_U64, "ps"),
    H5FILE_COL(comp_sum_row, wait_max_ps, H5FILE_U64, "ps"),
    H5FILE_COL(comp_sum_row, energy_dynamic_pj, H5FILE_F64, "pJ"),
    H5FILE_COL(comp_sum_row, energy_static_pj, H5FILE_F64, "pJ"),
    H5FILE_COL(comp_sum_row, energy_total_pj, H5FILE_F64, "pJ"),
};

static double stat(const component *c, const char *name)
{
    long k = stats_find(&c->stats, name);
    if (k < 0)
        return 0.0;
    const stats_entry *s = stats_at(&c->stats, (size_t)k);
    return s->type == STATS_COUNTER ? (double)s->count : s->sum;
}

static int write_components(h5file *f, const run_ctx *r, err *e)
{
    size_t n = sim_component_count(r->s);
    comp_row *rows = mem_calloc(n, sizeof *rows, "component rows");
    comp_sum_row *sums = mem_calloc(n, sizeof *sums, "component summary rows");
    for (uint32_t id = 0; id < n; id++) {
        component *c = sim_component(r->s, id);
        comp_row *w = &rows[id];
        w->id = id;
        put(w->kind, sizeof w->kind, c->ops->kind);
        put(w->name, sizeof w->name, c->name);
        w->group = exec_component_group(r->x, id);
        comp_sum_row *sr = &sums[id];
        sr->id = id;
        memcpy(sr->kind, w->kind, sizeof sr->kind);
        memcpy(sr->name, w->name, sizeof sr->name);
        sr->group = w->group;
        part_account acc;
        if (!chip_component_account(c, &acc))
            continue; /* a controller: no resource, no energy of its own */
        resource *res = acc.res;
        sr->energy_dynamic_pj = cost_dynamic_total(acc.dynamic_pj);
        sr->energy_static_pj = acc.static_pj;
        sr->energy_total_pj = sr->energy_dynamic_pj + sr->energy_static_pj;
        sr->busy_ps = (uint64_t)stat(c, "busy_ps");
        sr->servers = res->servers;
        sr->utilisation = stat(c, "utilisation");
        sr->requests = (uint64_t)stat(c, "requests");
        sr->wait_total_ps = (uint64_t)stat(c, "wait_total_ps");
        sr->wait_max_ps = (uint64_t)stat(c, "wait_max_ps");
    }
    int rc = h5table_write(f, "/components", "one row per simulated component", comp_cols,
                           sizeof comp_cols / sizeof comp_cols[0], sizeof *rows, rows, n, e);
    if (rc == 0)
        rc = h5table_write(f, "/summary/components",
                           "one row per component: service, queueing and energy over the run",
                           comp_sum_cols, sizeof comp_sum_cols / sizeof comp_sum_cols[0],
                           sizeof *sums, sums, n, e);
    free(rows);
    free(sums);
    return rc;
}

/* ---- /summary/layers ------------------------------------------------------------------------ */

typedef struct layer_sum_row {
    uint32_t layer;
    char name[NAME_BYTES];
    uint64_t model_time_ps, first_time_ps;
    double mean_time_ps;
    uint64_t max_time_ps;
    double ratio;
    uint64_t first_start_ps, first_end_ps, busy_tile_ps;
    double energy_pj, model_energy_pj, model_static_tiles_pj;
} layer_sum_row;

static const h5file_col layer_sum_cols[] = {
    H5FILE_COL(layer_sum_row, layer, H5FILE_U32, "index"),
    H5FILE_COL(layer_sum_row, name, H5FILE_STR, "-"),
    H5FILE_COL(layer_sum_row, model_time_ps, H5FILE_U64, "ps"),
    H5FILE_COL(layer_sum_row, first_time_ps, H5FILE_U64, "ps"),
    H5FILE_COL(layer_sum_row, mean_time_ps, H5FILE_F64, "ps"),
    H5FILE_COL(layer_sum_row, max_time_ps, H5FILE_U64, "ps"),
    H5FILE_COL(layer_sum_row, ratio, H5FILE_F64, "-"),
    H5FILE_COL(layer_sum_row, first_start_ps, H5FILE_U64, "ps"),
    H5FILE_COL(layer_sum_row, first_end_ps, H5FILE_U64, "ps"),
    H5FILE_COL(layer_sum_row, busy_tile_ps, H5FILE_U64, "ps"),
    H5FILE_COL(layer_sum_row, energy_pj, H5FILE_F64, "pJ"),
    H5FILE_COL(layer_sum_row, model_energy_pj, H5FILE_F64, "pJ"),
    H5FILE_COL(layer_sum_row, model_static_tiles_pj, H5FILE_F64, "pJ"),
};

static int write_layer_summary(h5file *f, const run_ctx *r, err *e)
{
    unsigned n = r->p.n;
    layer_sum_row *rows = mem_calloc(n, sizeof *rows, "layer summary rows");
    for (unsigned i = 0; i < n; i++) {
        const exec_task_result *t = exec_task(r->x, i);
        const model_layer *ml = &r->mo.layers[i];
        layer_sum_row *w = &rows[i];
        w->layer = i;
        put(w->name, sizeof w->name, r->p.tasks[i].name);
        w->model_time_ps = ml->time_ps;
        w->first_time_ps = t->first_end_ps - t->first_start_ps;
        w->mean_time_ps = t->done ? t->sum_time_ps / (double)t->done : 0.0;
        w->max_time_ps = t->max_time_ps;
        w->ratio = ml->time_ps ? (double)w->first_time_ps / (double)ml->time_ps : 1.0;
        w->first_start_ps = t->first_start_ps;
        w->first_end_ps = t->first_end_ps;
        w->busy_tile_ps = t->busy_tile_ps;
        for (int c = 0; c < COST_E_COUNT; c++) {
            w->energy_pj += t->energy_pj[c];
            w->model_energy_pj += ml->energy_pj[c];
        }
        w->model_static_tiles_pj = ml->static_tiles_pj;
    }
    int rc = h5table_write(
        f, "/summary/layers", "one row per network layer: simulated and analytic time and energy",
        layer_sum_cols, sizeof layer_sum_cols / sizeof layer_sum_cols[0], sizeof *rows, rows, n, e);
    free(rows);
    return rc;
}

/* ---- /summary/inferences ------------------------------------------------------------------------
 */

typedef struct inf_row {
    uint64_t inference, start_ps, end_ps, latency_ps;
} inf_row;

static const h5file_col inf_cols[] = {
    H5FILE_COL(inf_row, inference, H5FILE_U64, "index"),
    H5FILE_COL(inf_row, start_ps, H5FILE_U64, "ps"),
    H5FILE_COL(inf_row, end_ps, H5FILE_U64, "ps"),
    H5FILE_COL(inf_row, latency_ps, H5FILE_U64, "ps"),
};

static int write_inferences(h5file *f, const run_ctx *r, err *e)
{
    enum { BATCH = 4096 };
    inf_row rows[BATCH];
    h5table *t;
    ERR_TRY(h5table_create(f, "/summary/inferences",
                           "one row per inference: when it ran (the last 65536 of a longer run: "
                           "their number starts at `inference`)",
                           inf_cols, sizeof inf_cols / sizeof inf_cols[0], sizeof rows[0], BATCH,
                           &t, e));
    int rc = 0;
    for (uint64_t i = exec_inference_window_first(r->x); i < r->inferences && rc == 0; i += BATCH) {
        size_t k = 0;
        for (; k < BATCH && i + k < r->inferences; k++) {
            uint64_t j = i + k;
            rows[k] = (inf_row){j, exec_inference_start(r->x, j), exec_inference_end(r->x, j), 0};
            rows[k].latency_ps = rows[k].end_ps - rows[k].start_ps;
        }
        rc = h5table_append(t, rows, k, e);
    }
    int rc2 = h5table_close(t, rc < 0 ? NULL : e);
    return rc < 0 ? rc : rc2;
}

/* ---- /summary/network -------------------------------------------------------------------------
 */

/* The energy_<category>_pj columns are the steady-state energy (they add up to
 * energy_per_inference_pj); single_energy_<category>_pj the single-inference one. */
typedef struct net_row {
    uint64_t inferences, makespan_ps, latency_ps, model_latency_ps, window_first;
    double period_ps, model_period_ps, throughput_per_s, model_throughput_per_s;
    uint64_t macs;
    double energy_per_inference_pj, model_energy_pj, single_energy_pj, model_single_energy_pj;
    double tops_per_w, single_tops_per_w, area_mm2, tops_per_mm2, programming_energy_pj;
    double steady_pj[COST_E_COUNT], single_pj[COST_E_COUNT];
    uint64_t tiles_used, tiles_total, groups_used;
    double utilisation, model_utilisation, edp_pj_s;
} net_row;

/* Columns of /summary/network besides the two energy-by-category sets, at most, count. */
#define NET_OTHER_COLS 32

static int write_network(h5file *f, const run_ctx *r, const run_totals *t, err *e)
{
    h5file_col cols[NET_OTHER_COLS + 2 * COST_E_COUNT];
    size_t k = 0;
    cols[k++] = (h5file_col)H5FILE_COL(net_row, inferences, H5FILE_U64, "count");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, makespan_ps, H5FILE_U64, "ps");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, latency_ps, H5FILE_U64, "ps");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, model_latency_ps, H5FILE_U64, "ps");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, window_first, H5FILE_U64, "index");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, period_ps, H5FILE_F64, "ps");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, model_period_ps, H5FILE_F64, "ps");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, throughput_per_s, H5FILE_F64, "inferences/s");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, model_throughput_per_s, H5FILE_F64, "inferences/s");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, macs, H5FILE_U64, "count");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, energy_per_inference_pj, H5FILE_F64, "pJ");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, model_energy_pj, H5FILE_F64, "pJ");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, single_energy_pj, H5FILE_F64, "pJ");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, model_single_energy_pj, H5FILE_F64, "pJ");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, tops_per_w, H5FILE_F64, "TOPS/W");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, single_tops_per_w, H5FILE_F64, "TOPS/W");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, area_mm2, H5FILE_F64, "mm2");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, tops_per_mm2, H5FILE_F64, "TOPS/mm2");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, programming_energy_pj, H5FILE_F64, "pJ");
    char names[2][COST_E_COUNT][48];
    for (int c = 0; c < COST_E_COUNT; c++) {
        const char *cat = cost_category_name((cost_category)c);
        snprintf(names[0][c], sizeof names[0][c], "energy_%s_pj", cat);
        cols[k++] = (h5file_col){names[0][c], H5FILE_F64,
                                 offsetof(net_row, steady_pj) + (size_t)c * sizeof(double),
                                 sizeof(double), "pJ"};
    }
    for (int c = 0; c < COST_E_COUNT; c++) {
        const char *cat = cost_category_name((cost_category)c);
        snprintf(names[1][c], sizeof names[1][c], "single_energy_%s_pj", cat);
        cols[k++] = (h5file_col){names[1][c], H5FILE_F64,
                                 offsetof(net_row, single_pj) + (size_t)c * sizeof(double),
                                 sizeof(double), "pJ"};
    }
    cols[k++] = (h5file_col)H5FILE_COL(net_row, tiles_used, H5FILE_U64, "count");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, tiles_total, H5FILE_U64, "count");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, groups_used, H5FILE_U64, "count");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, utilisation, H5FILE_F64, "fraction");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, model_utilisation, H5FILE_F64, "fraction");
    cols[k++] = (h5file_col)H5FILE_COL(net_row, edp_pj_s, H5FILE_F64, "pJ*s");
    assert(k <= sizeof cols / sizeof cols[0]);

    cost_peak pk = cost_peak_eval(&r->a);
    net_row row = {
        .inferences = r->inferences,
        .makespan_ps = r->makespan_ps,
        .latency_ps = t->latency_ps,
        .model_latency_ps = r->mo.latency_ps,
        .window_first = t->window_first,
        .period_ps = t->period_ps,
        .model_period_ps = (double)r->mo.bottleneck_ps,
        .throughput_per_s = t->throughput_per_s,
        .model_throughput_per_s = r->mo.throughput_per_s,
        .macs = t->macs,
        .energy_per_inference_pj = t->energy_steady_total_pj,
        .model_energy_pj = r->mo.energy_steady_total_pj,
        .single_energy_pj = t->energy_single_total_pj,
        .model_single_energy_pj = r->mo.energy_single_total_pj,
        .tops_per_w = model_tops_per_w(t->macs, t->energy_steady_total_pj),
        .single_tops_per_w = model_tops_per_w(t->macs, t->energy_single_total_pj),
        .area_mm2 = pk.area_mm2,
        .tops_per_mm2 = pk.area_mm2 > 0
                            ? 2.0 * (double)t->macs * t->throughput_per_s * 1e-12 / pk.area_mm2
                            : 0.0,
        .programming_energy_pj = r->mo.programming_pj,
        .tiles_used = t->tiles_used,
        .tiles_total = arch_system_tiles(&r->a),
        .groups_used = t->usage.groups,
        .utilisation = t->utilisation,
        .model_utilisation = r->mo.utilisation,
        .edp_pj_s = t->edp_pj_s,
    };
    memcpy(row.steady_pj, t->energy_steady_pj, sizeof row.steady_pj);
    memcpy(row.single_pj, t->energy_single_pj, sizeof row.single_pj);
    return h5table_write(f, "/summary/network", "network totals, simulated and analytic", cols, k,
                         sizeof row, &row, 1, e);
}

int runout_write(h5file *f, const run_ctx *r, const run_totals *t, err *e)
{
    ERR_TRY(write_meta(f, r, e));
    ERR_TRY(write_mapping(f, r, e));
    ERR_TRY(h5file_group(f, "/summary", e));
    ERR_TRY(write_components(f, r, e));
    ERR_TRY(write_layer_summary(f, r, e));
    ERR_TRY(write_inferences(f, r, e));
    return write_network(f, r, t, e);
}
