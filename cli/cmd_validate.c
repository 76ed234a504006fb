/* cmd_validate: `xbarsim validate [TABLE.cfg]` -- the reproduction suite. Each row of the table
 * (data, configs/validate/published.cfg) names a published figure, the preset and workload that
 * should reproduce it and a tolerance; the command computes the figure with this build and prints
 * published, simulated, relative error and PASS / FAIL. Invariant: the exit status is 0 only when
 * every judged row passes; rows with judged = false are printed as INFO and explain why in `note`.
 */
#include <libconfig.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cfgfile.h"
#include "cli.h"
#include "cost.h"
#include "err.h"
#include "mapping.h"
#include "jsonw.h"
#include "mem.h"
#include "model.h"
#include "network.h"
#include "opt.h"
#include "policy.h"
#include "replication.h"

/* What a row can ask for: X(ID, name, unit, needs a network). */
#define VALIDATE_QUANTITY_MAP(X)                                                                   \
    X(PEAK_GOPS_PER_W, "peak_gops_per_w", "GOPS/W", false)                                         \
    X(PEAK_GOPS_PER_MM2, "peak_gops_per_mm2", "GOPS/s/mm2", false)                                 \
    X(PEAK_POWER_W, "peak_power_w", "W", false)                                                    \
    X(AREA_MM2, "area_mm2", "mm2", false)                                                          \
    X(LATENCY_US, "latency_us", "us", true)                                                        \
    X(GOPS_PER_W_STEADY, "gops_per_w_steady", "GOPS/W", true)                                      \
    X(GOPS_PER_W_SINGLE, "gops_per_w_single", "GOPS/W", true)

typedef enum vq_kind {
#define VQ_ENUM(id, name, unit, net) VQ_##id,
    VALIDATE_QUANTITY_MAP(VQ_ENUM)
#undef VQ_ENUM
        VQ_COUNT
} vq_kind;

static const struct {
    const char *name, *unit;
    bool needs_net;
} quantities[VQ_COUNT] = {
#define VQ_ROW(id, name, unit, net) [VQ_##id] = {name, unit, net},
    VALIDATE_QUANTITY_MAP(VQ_ROW)
#undef VQ_ROW
};

/* One row of the table, as read (strings point into the parsed config). */
typedef struct vrow {
    const char *source, *arch, *network, *policy, *replication, *note;
    vq_kind quantity;
    double published, tolerance; /* the figure in its unit; relative tolerance, fraction */
    bool judged;
    unsigned line; /* of the row in the table file */
    /* computed */
    double simulated, rel; /* the figure in its unit; relative error, fraction */
    bool ok;               /* |rel| <= tolerance */
} vrow;

#define DEFAULT_TABLE "configs/validate/published.cfg"

typedef struct validate_opts {
    bool json;
} validate_opts;

static const opt_spec validate_table[] = {
    OPT_FLAG("--json", validate_opts, json,
             "one JSON object: per row the source, quantity, unit, published and\n"
             "simulated value, relative error, tolerance and verdict; then the counts"),
};

static const opt_command validate_command = {
    .name = "validate",
    .args = "TABLE.cfg",
    .args_min = 0,
    .args_max = 1,
    .about = "Recompute every published reference figure of TABLE.cfg (default: the data\n"
             "directory's " DEFAULT_TABLE ") with this build and print, per row,\n"
             "the source, the quantity, the published and the simulated value, the relative\n"
             "error and PASS / FAIL (|error| <= the row's tolerance) or INFO (a row reported but\n"
             "not judged; its note says why). Exit status 0 only when every judged row passes,\n"
             "1 when one fails, 2 on bad input (file:line, setting, found, expected).\n",
    .opts = validate_table,
    .n_opts = OPT_COUNT(validate_table),
};

/* After the options: the quantities a row may ask for, from their table. */
static void print_quantities(FILE *out)
{
    fprintf(out, "\nQuantities:");
    for (int q = 0; q < VQ_COUNT; q++)
        fprintf(out, " %s (%s)%s", quantities[q].name, quantities[q].unit,
                q + 1 < VQ_COUNT ? "," : "\n");
    fprintf(out, "Peak figures come from the arch alone (as `xbarsim info` derives them); the\n"
                 "others map `network` at `policy` (default uniform:8) with `replication`\n"
                 "(default none) and price it with the analytic model, which the event\n"
                 "simulation reproduces exactly with overlap off. Table schema: "
                 "configs/validate/README.md.\n");
}

/* A string member of row g (path validate[i].key); required or NULL when absent. */
static int row_string(const config_setting_t *g, const char *key, bool required, const char *table,
                      unsigned i, const char **out, err *e)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    *out = NULL;
    if (!s) {
        if (!required)
            return 0;
        return err_set(e, ERR_INPUT, "%s:%u: validate[%u].%s: missing, expected a string", table,
                       cfgfile_line_of(g), i, key);
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return err_set(e, ERR_INPUT,
                       "%s:%u: validate[%u].%s: found a non-string, expected a "
                       "string",
                       table, cfgfile_line_of(s), i, key);
    *out = config_setting_get_string(s);
    return 0;
}

static int row_number(const config_setting_t *g, const char *key, double lo, double hi,
                      const char *table, unsigned i, double *out, err *e)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s)
        return err_set(e, ERR_INPUT, "%s:%u: validate[%u].%s: missing, expected a number %g..%g",
                       table, cfgfile_line_of(g), i, key, lo, hi);
    double v;
    if (!cfgfile_number(s, &v)) {
        char found[96];
        cfgfile_describe(s, found, sizeof found);
        return err_set(e, ERR_INPUT, "%s:%u: validate[%u].%s: found %s, expected a number %g..%g",
                       table, cfgfile_line_of(s), i, key, found, lo, hi);
    }
    if (!isfinite(v) || v < lo || v > hi)
        return err_set(e, ERR_INPUT, "%s:%u: validate[%u].%s: found %g, expected a number %g..%g",
                       table, cfgfile_line_of(s), i, key, v, lo, hi);
    *out = v;
    return 0;
}

static int read_row(const config_setting_t *g, const char *table, unsigned i, vrow *r, err *e)
{
    static const char *const keys[] = {"source", "quantity",    "arch",      "network",
                                       "policy", "replication", "published", "tolerance",
                                       "judged", "note",        NULL};
    memset(r, 0, sizeof *r);
    r->line = cfgfile_line_of(g);
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return err_set(e, ERR_INPUT,
                       "%s:%u: validate[%u]: found a non-group, expected a group "
                       "{ source = ...; quantity = ...; ... }",
                       table, r->line, i);
    for (int k = 0; k < config_setting_length(g); k++) {
        const char *name = config_setting_name(config_setting_get_elem(g, (unsigned)k));
        bool known = false;
        for (size_t j = 0; keys[j] && !known; j++)
            known = strcmp(name, keys[j]) == 0;
        if (!known)
            return err_set(e, ERR_INPUT,
                           "%s:%u: validate[%u].%s: found an unknown key, expected one of: "
                           "source, quantity, arch, network, policy, replication, published, "
                           "tolerance, judged, note",
                           table, cfgfile_line_of(config_setting_get_elem(g, (unsigned)k)), i,
                           name);
    }
    const char *q;
    ERR_TRY(row_string(g, "source", true, table, i, &r->source, e));
    ERR_TRY(row_string(g, "quantity", true, table, i, &q, e));
    ERR_TRY(row_string(g, "arch", true, table, i, &r->arch, e));
    ERR_TRY(row_string(g, "network", false, table, i, &r->network, e));
    ERR_TRY(row_string(g, "policy", false, table, i, &r->policy, e));
    ERR_TRY(row_string(g, "replication", false, table, i, &r->replication, e));
    ERR_TRY(row_string(g, "note", false, table, i, &r->note, e));
    ERR_TRY(row_number(g, "published", -1e300, 1e300, table, i, &r->published, e));
    ERR_TRY(row_number(g, "tolerance", 0.0, 10.0, table, i, &r->tolerance, e));
    int k = 0;
    while (k < VQ_COUNT && strcmp(q, quantities[k].name) != 0)
        k++;
    if (k == VQ_COUNT)
        return err_set(e, ERR_INPUT,
                       "%s:%u: validate[%u].quantity: found '%s', expected one of "
                       "the quantities of `xbarsim validate --help`",
                       table, r->line, i, q);
    r->quantity = (vq_kind)k;
    if (quantities[k].needs_net && !r->network)
        return err_set(e, ERR_INPUT,
                       "%s:%u: validate[%u].network: missing, expected a network: "
                       "%s prices a workload",
                       table, r->line, i, q);
    const config_setting_t *j = config_setting_get_member(g, "judged");
    r->judged = true;
    if (j) {
        if (config_setting_type(j) != CONFIG_TYPE_BOOL)
            return err_set(e, ERR_INPUT,
                           "%s:%u: validate[%u].judged: found a non-boolean, "
                           "expected true or false",
                           table, cfgfile_line_of(j), i);
        r->judged = config_setting_get_bool(j) != 0;
    }
    if (!r->judged && !r->note)
        return err_set(e, ERR_INPUT,
                       "%s:%u: validate[%u].note: missing, expected a note saying "
                       "why the row is not judged",
                       table, r->line, i);
    return 0;
}

/* The workload figures of row r on arch a: the analytic model of its network. */
static int price_row(const vrow *r, const arch *a, const char *table, double *out, err *e)
{
    char sbuf[4096];
    network n;
    ERR_TRY(cli_load_net(r->network, table, &n, e));
    policy p;
    unsigned *copies = NULL;
    mapping m;
    int rc = policy_from_spec(
        cli_resolve_spec(r->policy ? r->policy : "uniform:8", table, sbuf, sizeof sbuf), &n, a,
        NULL, &p, e);
    if (rc == 0) {
        rc = replication_from_spec(r->replication ? r->replication : "none", &n, &copies, e);
        if (rc == 0)
            rc = mapping_build(&n, a, &p, copies, MAPPING_PLACE_GROUPS, &m, e);
        if (rc == 0) {
            model mo;
            model_evaluate(&n, a, &m, &mo);
            if (r->quantity == VQ_LATENCY_US)
                *out = simtime_to_us(mo.latency_ps);
            else if (r->quantity == VQ_GOPS_PER_W_STEADY)
                *out = model_tops_per_w(mo.macs, mo.energy_steady_total_pj) * 1e3;
            else
                *out = model_tops_per_w(mo.macs, mo.energy_single_total_pj) * 1e3;
            model_fini(&mo);
            mapping_fini(&m);
        }
        free(copies);
        policy_fini(&p);
    }
    network_fini(&n);
    return rc;
}

static int compute(const vrow *r, const char *table, double *out, err *e)
{
    arch a;
    ERR_TRY(cli_load_arch(r->arch, table, NULL, 0, &a, e));
    cost_peak pk = cost_peak_eval(&a);
    int rc = 0;
    switch (r->quantity) {
    case VQ_PEAK_GOPS_PER_W:
        *out = pk.tops_per_w * 1e3;
        break;
    case VQ_PEAK_GOPS_PER_MM2:
        *out = pk.tops_per_mm2 * 1e3;
        break;
    case VQ_PEAK_POWER_W:
        *out = pk.power_w;
        break;
    case VQ_AREA_MM2:
        *out = pk.area_mm2;
        break;
    default:
        rc = price_row(r, &a, table, out, e);
    }
    arch_fini(&a);
    return rc;
}

static const char *verdict(const vrow *r)
{
    return !r->judged ? "INFO" : r->ok ? "PASS" : "FAIL";
}

static void print_rows(const vrow *rows, unsigned n)
{
    printf("%-4s %-52s %-18s %14s %14s %9s %9s  %s\n", "row", "source", "quantity", "published",
           "simulated", "error", "tolerance", "verdict");
    for (unsigned i = 0; i < n; i++) {
        const vrow *r = &rows[i];
        printf("%-4u %-52.52s %-18s %14.6g %14.6g %+8.3f%% %8.3f%%  %s\n", i, r->source,
               quantities[r->quantity].name, r->published, r->simulated, 100.0 * r->rel,
               100.0 * r->tolerance, verdict(r));
        if (!r->judged || !r->ok)
            printf("     %s: %s (%s, %s)\n", quantities[r->quantity].unit,
                   r->note ? r->note : "outside the tolerance", r->arch,
                   r->network ? r->network : "peak");
    }
}

static void print_json(const vrow *rows, unsigned n, const char *table)
{
    jsonw w;
    jsonw_begin(&w, stdout);
    jsonw_object(&w, NULL);
    jsonw_str(&w, "table", table);
    jsonw_array(&w, "rows");
    unsigned count[3] = {0}; /* passed, failed, reported only */
    for (unsigned i = 0; i < n; i++) {
        const vrow *r = &rows[i];
        jsonw_object(&w, NULL);
        jsonw_str(&w, "source", r->source);
        jsonw_str(&w, "quantity", quantities[r->quantity].name);
        jsonw_str(&w, "unit", quantities[r->quantity].unit);
        jsonw_str(&w, "arch", r->arch);
        if (r->network)
            jsonw_str(&w, "network", r->network);
        jsonw_num(&w, "published", r->published);
        jsonw_num(&w, "simulated", r->simulated);
        jsonw_num(&w, "error", r->rel);
        jsonw_num(&w, "tolerance", r->tolerance);
        jsonw_str(&w, "verdict", verdict(r));
        if (r->note)
            jsonw_str(&w, "note", r->note);
        jsonw_close(&w);
        count[!r->judged ? 2 : r->ok ? 0 : 1]++;
    }
    jsonw_close(&w);
    jsonw_u64(&w, "passed", count[0]);
    jsonw_u64(&w, "failed", count[1]);
    jsonw_u64(&w, "reported_only", count[2]);
    jsonw_close(&w);
    jsonw_end(&w);
}

int cmd_validate(int argc, char **argv)
{
    validate_opts o = {0};
    const char *table;
    int rc = opt_parse_arg(&validate_command, argc, argv, &o, &table);
    if (rc == 0)
        print_quantities(stdout);
    if (rc != OPT_GO)
        return rc;
    char path[4096];
    if (!table) {
        snprintf(path, sizeof path, "%s/" DEFAULT_TABLE, cli_data_dir());
        table = path;
    }
    err e;
    err_clear(&e);
    config_t cfg;
    if (cfgfile_parse_file(table, &cfg, &e) < 0) {
        fprintf(stderr, "xbarsim validate: %s\n", e.msg);
        return 2;
    }
    const config_setting_t *l = config_lookup(&cfg, "validate");
    if (!l || config_setting_type(l) != CONFIG_TYPE_LIST || config_setting_length(l) < 1) {
        fprintf(stderr,
                "xbarsim validate: %s: validate: %s, expected a list ( { ... }, ... ) of "
                "at least one row\n",
                table, l ? "found a non-list or an empty list" : "missing");
        config_destroy(&cfg);
        return 2;
    }
    unsigned n = (unsigned)config_setting_length(l), failed = 0, passed = 0, info = 0;
    vrow *rows = mem_calloc(n, sizeof *rows, "validate rows");
    int status = 0;
    for (unsigned i = 0; i < n && status == 0; i++)
        if (read_row(config_setting_get_elem(l, i), table, i, &rows[i], &e) < 0)
            status = 2;
    for (unsigned i = 0; i < n && status == 0; i++) {
        vrow *r = &rows[i];
        if (compute(r, table, &r->simulated, &e) < 0)
            status = 2;
        r->rel =
            r->published != 0.0 ? (r->simulated - r->published) / fabs(r->published) : r->simulated;
        r->ok = fabs(r->rel) <= r->tolerance;
        failed += r->judged && !r->ok;
        passed += r->judged && r->ok;
        info += !r->judged;
    }
    if (status == 0 && o.json)
        print_json(rows, n, table);
    else if (status == 0)
        print_rows(rows, n);
    if (status == 2)
        fprintf(stderr, "xbarsim validate: %s\n", e.msg);
    else if (!o.json)
        printf("validate: %u passed, %u failed, %u reported only (%s)\n", passed, failed, info,
               table);
    free(rows);
    config_destroy(&cfg);
    if (status == 0 && failed)
        status = 1;
    return status;
}
