/* cmd_map: the `xbarsim map` command -- a network mapped onto an architecture (preset or file)
 * under a precision policy and copies, priced by the analytic model (mapper/model.h) and printed
 * as a table, CSV or JSON. Exit status: 0 printed, 2 bad input (the chip too small included) or
 * usage.
 */
#include <stdlib.h>

#include "cli.h"
#include "mapping.h"
#include "model.h"
#include "opt.h"
#include "policy.h"
#include "replication.h"

typedef struct map_opts {
    const char *net, *policy, *replication;
    int placement; /* mapping_placement */
    bool csv, json;
    const char *set[CLI_MAX_SETS]; /* --set PATH=VALUE */
    unsigned n_set;
} map_opts;

OPT_NAMES(placement_names, mapping_placement, MAPPING_PLACE_COUNT, mapping_placement_name)

static const opt_spec map_table[] = {
    OPT_STR("--net", "NAME|FILE", map_opts, net,
            "network: a file, or a built-in name from configs/net/\n"
            "(resnet18, vgg16, vit_b32, ...); default: CONFIG's own `network` group"),
    OPT_STR("--policy", "P", map_opts, policy,
            "uniform:B, uniform:W,A, a .csv (layer,wb,ab,adc_bits) or a\n"
            "libconfig file with a `policy` list; default uniform:8"),
    OPT_STR("--replication", "R", map_opts, replication,
            "copies per layer: NAME=K[,...], a .csv or libconfig file\n"
            "(see `xbarsim replicate -o`); default one each"),
    OPT_ENUM("--placement", placement_names, map_opts, placement,
             "groups (default: a copy that fits in a group never straddles\n"
             "two) or packed (copies back to back, fewest tiles)"),
    OPT_FLAG("--csv", map_opts, csv,
             "one CSV row per layer instead of the table (times in ps,\n"
             "energy in pJ)",
             .group = 1),
    OPT_FLAG("--json", map_opts, json,
             "one JSON object: per-layer rows as the CSV, totals with both\n"
             "energies by category, MACs and TOPS/W",
             .group = 1),
    OPT_LIST("--set", "PATH=VALUE", map_opts, set, n_set, CLI_SET_HELP),
};

static const opt_command map_command = {
    .name = "map",
    .args = "CONFIG|PRESET",
    .args_min = 1,
    .args_max = 1,
    .about = "Map a network onto the architecture of CONFIG (a libconfig file with an `arch`\n"
             "group, e.g. configs/arch/lrmp.cfg, or a preset name) and print the analytic\n"
             "model: per layer R x N, bits, tiles, copies, stage times T_in, T_tile, T_out, T_d\n"
             "and the share of latency; then latency, bottleneck, throughput, tiles,\n"
             "utilisation, the two energies per inference (single: static power x latency;\n"
             "steady: x the pipelined period 1 / throughput) by category with TOPS/W and\n"
             "pJ/MAC, and the one-off programming energy of weight-stationary mode.\n",
    .opts = map_table,
    .n_opts = OPT_COUNT(map_table),
};

/* Everything after loading: the policy, the copies, the mapping, the printed model. */
static int map_print(const map_opts *o, const network *n, const arch *a, err *e)
{
    policy p;
    ERR_TRY(policy_from_spec(o->policy, n, a, NULL, &p, e));
    unsigned *copies = NULL;
    mapping m;
    int rc = replication_from_spec(o->replication, n, &copies, e);
    if (rc == 0)
        rc = mapping_build(n, a, &p, copies, (mapping_placement)o->placement, &m, e);
    if (rc == 0) {
        model mo;
        model_evaluate(n, a, &m, &mo);
        if (o->json)
            model_print_json(n, a, &m, &mo, stdout);
        else if (o->csv)
            model_print_csv(n, &m, &mo, stdout);
        else
            model_print(n, a, &m, &mo, stdout);
        model_fini(&mo);
        mapping_fini(&m);
    }
    free(copies);
    policy_fini(&p);
    return rc;
}

int cmd_map(int argc, char **argv)
{
    map_opts o = {.policy = "uniform:8", .replication = "none", .placement = MAPPING_PLACE_GROUPS};
    const char *config;
    int rc = opt_parse_arg(&map_command, argc, argv, &o, &config);
    if (rc != OPT_GO)
        return rc;
    arch a;
    network n;
    if (cli_load_inputs("map", config, o.net, o.set, o.n_set, &a, &n) < 0)
        return 2;
    err e;
    err_clear(&e);
    int status = map_print(&o, &n, &a, &e) < 0 ? 2 : 0; /* every failure is bad input */
    if (status)
        fprintf(stderr, "xbarsim map: %s\n", e.msg);
    network_fini(&n);
    arch_fini(&a);
    return status;
}
