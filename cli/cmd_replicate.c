/* cmd_replicate: the `xbarsim replicate` command -- copies of the crossbar layers chosen under a
 * tile budget (LRMP's layer replication; search/replicate.h) so the layout fits the chip
 * (replicate_fit), printed before and after (or as JSON), and optionally written for
 * `map --replication`. Exit status: 0 done, 1 a solver failure or -o not written, 2 bad input.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonw.h"
#include "mapping.h"
#include "mem.h"
#include "model.h"
#include "opt.h"
#include "policy.h"
#include "price.h"
#include "replicate.h"
#include "replication.h"

typedef struct rep_opts {
    const char *objective, *budget, *net, *policy, *out;
    int solver;    /* replicate_solver; -1: by the objective */
    int placement; /* mapping_placement */
    long long time_limit_ms;
    bool json;
    const char *set[CLI_MAX_SETS]; /* --set PATH=VALUE */
    unsigned n_set;
} rep_opts;

OPT_NAMES(solver_names, replicate_solver, REPLICATE_SOLVER_COUNT, replicate_solver_name)
OPT_NAMES(placement_names, mapping_placement, MAPPING_PLACE_COUNT, mapping_placement_name)

static const opt_spec rep_table[] = {
    OPT_STR("--objective", "latency|throughput|mix:A", rep_opts, objective,
            "minimise the latency (sum of layer times), the slowest layer\n"
            "(pipelined throughput) or A x latency + (1 - A) x slowest",
            .required = true),
    OPT_STR("--budget", "B", rep_opts, budget,
            "tiles: an integer, FACTORx (e.g. 1.5x: times the tiles of the\n"
            "all-8/8 network with one copy each), or chip (arch.chips x arch.tiles.count);\n"
            "never more than the chip",
            .required = true),
    OPT_STR("--net", "NAME|FILE", rep_opts, net, "as for map"),
    OPT_STR("--policy", "P", rep_opts, policy, "as for map"),
    OPT_ENUM("--solver", solver_names, rep_opts, solver,
             "exact (DP / bisection, default; not for mix), glpk (MILP,\n"
             "default for mix) or greedy (replicate the bottleneck)"),
    OPT_ENUM("--placement", placement_names, rep_opts, placement,
             "groups (default) or packed, as for map: with groups, copies\n"
             "are aligned to groups and the budget is lowered until the\n"
             "layout fits the chip"),
    OPT_INT("--time-limit", "MS", rep_opts, time_limit_ms, 1, 86400000,
            "GLPK's time limit, ms (default 10000)"),
    OPT_STR("-o", "FILE", rep_opts, out,
            "write the copies for `xbarsim map --replication FILE`: CSV\n"
            "(layer,copies) when FILE ends in .csv, else libconfig"),
    OPT_FLAG("--json", rep_opts, json,
             "one JSON object instead of the table: per layer tiles, P,\n"
             "copies and times before and after, then the totals"),
    OPT_LIST("--set", "PATH=VALUE", rep_opts, set, n_set, CLI_SET_HELP),
};

static const opt_command rep_command = {
    .name = "replicate",
    .args = "CONFIG|PRESET",
    .args_min = 1,
    .args_max = 1,
    .about = "Choose copies r_l (1 <= r_l <= P_l) of every crossbar layer (LRMP's layer\n"
             "replication) with sum r_l x tiles_l <= B, minimising the objective. Prints the\n"
             "copies per layer, latency and throughput before and after, and the tiles used.\n",
    .opts = rep_table,
    .n_opts = OPT_COUNT(rep_table),
};

/* What one replication found: the problem, the copies, and the layouts before and after. */
typedef struct rep_result {
    const network *n;
    const arch *a;
    const rep_opts *o;
    replicate_problem p;
    replicate_solver solver;
    uint64_t asked;   /* the budget asked for, tiles */
    unsigned *copies; /* per crossbar layer */
    mapping m0, m;    /* before (one copy each), after */
    model before, after;
} rep_result;

static void write_copies(FILE *f, const void *ctx)
{
    const rep_result *r = ctx;
    size_t len = strlen(r->o->out);
    if (len >= 4 && strcmp(r->o->out + len - 4, ".csv") == 0) {
        replication_write_csv(r->copies, r->n, f);
        return;
    }
    fprintf(f, "# copies per crossbar layer of %s (xbarsim replicate)\nreplication = (\n",
            r->n->name);
    for (unsigned i = 0; i < r->n->n_xbar; i++)
        fprintf(f, "    { layer = \"%s\"; copies = %u; }%s\n", r->n->layers[r->n->xbar[i]].name,
                r->copies[i], i + 1 < r->n->n_xbar ? "," : "");
    fprintf(f, ");\n");
}

static void print_table(const rep_result *r)
{
    const network *n = r->n;
    printf("# %s on %s, policy %s: replication for %s, solver %s\n", n->name, r->a->name,
           r->o->policy, r->o->objective, replicate_solver_name(r->solver));
    printf("%-18s %7s %6s %8s %14s %14s\n", "layer", "tiles", "P", "copies", "T_before/us",
           "T_after/us");
    for (unsigned i = 0; i < n->n_xbar; i++) {
        unsigned li = n->xbar[i];
        printf("%-18s %7llu %6llu %8u %14.3f %14.3f\n", n->layers[li].name,
               (unsigned long long)r->m.layers[i].tiles_per_copy,
               (unsigned long long)r->m.layers[i].vectors, r->copies[i],
               simtime_to_us(r->before.layers[li].time_ps),
               simtime_to_us(r->after.layers[li].time_ps));
    }
    printf("latency = %.3f us before, %.3f us after (%.3fx)\n", simtime_to_us(r->before.latency_ps),
           simtime_to_us(r->after.latency_ps),
           (double)r->before.latency_ps / (double)r->after.latency_ps);
    printf("throughput = %.6g inferences/s before, %.6g after (%.3fx); bottleneck %s after\n",
           r->before.throughput_per_s, r->after.throughput_per_s,
           (double)r->before.bottleneck_ps / (double)r->after.bottleneck_ps,
           n->layers[r->after.bottleneck].name);
    uint64_t system = arch_system_tiles(r->a);
    printf("tiles = %llu used (%llu before), budget %llu, span %llu (%s placement), %s %llu\n",
           (unsigned long long)r->m.tiles_used, (unsigned long long)r->m0.tiles_used,
           (unsigned long long)r->p.budget, (unsigned long long)r->m.tiles_span,
           mapping_placement_name((mapping_placement)r->o->placement),
           r->a->chips > 1 ? "system" : "chip", (unsigned long long)system);
    if (r->p.budget < r->asked)
        printf("note: budget %llu lowered to %llu (the %s%s)\n", (unsigned long long)r->asked,
               (unsigned long long)r->p.budget, r->a->chips > 1 ? "system" : "chip",
               r->asked > system && r->p.budget == system ? "" : " and group alignment");
}

static void print_json(const rep_result *r)
{
    const network *n = r->n;
    jsonw w;
    jsonw_begin(&w, stdout);
    jsonw_object(&w, NULL);
    jsonw_str(&w, "network", n->name);
    jsonw_str(&w, "arch", r->a->name);
    jsonw_str(&w, "policy", r->o->policy);
    jsonw_str(&w, "objective", r->o->objective);
    jsonw_str(&w, "solver", replicate_solver_name(r->solver));
    jsonw_str(&w, "placement", mapping_placement_name((mapping_placement)r->o->placement));
    jsonw_array(&w, "layers");
    for (unsigned i = 0; i < n->n_xbar; i++) {
        unsigned li = n->xbar[i];
        jsonw_object(&w, NULL);
        jsonw_str(&w, "name", n->layers[li].name);
        jsonw_u64(&w, "tiles_per_copy", r->m.layers[i].tiles_per_copy);
        jsonw_u64(&w, "vectors", r->m.layers[i].vectors);
        jsonw_u64(&w, "copies", r->copies[i]);
        jsonw_u64(&w, "time_before_ps", r->before.layers[li].time_ps);
        jsonw_u64(&w, "time_after_ps", r->after.layers[li].time_ps);
        jsonw_close(&w);
    }
    jsonw_close(&w);
    jsonw_u64(&w, "latency_before_ps", r->before.latency_ps);
    jsonw_u64(&w, "latency_after_ps", r->after.latency_ps);
    jsonw_num(&w, "throughput_before_per_s", r->before.throughput_per_s);
    jsonw_num(&w, "throughput_after_per_s", r->after.throughput_per_s);
    jsonw_str(&w, "bottleneck_after", n->layers[r->after.bottleneck].name);
    jsonw_u64(&w, "tiles_used_before", r->m0.tiles_used);
    jsonw_u64(&w, "tiles_used", r->m.tiles_used);
    jsonw_u64(&w, "tiles_span", r->m.tiles_span);
    jsonw_u64(&w, "budget_asked", r->asked);
    jsonw_u64(&w, "budget", r->p.budget);
    jsonw_u64(&w, "chip_tiles", r->a->tiles.count);
    jsonw_close(&w);
    jsonw_end(&w);
}

/* Solve and price: 0, or the exit status (1 or 2) after printing the message. */
static int solve(rep_result *r, const policy *pol, replicate_objective obj, double alpha)
{
    err e;
    err_clear(&e);
    const network *n = r->n;
    const arch *a = r->a;
    mapping_placement placement = (mapping_placement)r->o->placement;
    if (replicate_problem_from_model(n, a, pol, r->o->budget, obj, alpha, &r->p, &e) < 0) {
        fprintf(stderr, "xbarsim replicate: %s\n", e.msg);
        return 2;
    }
    r->p.time_limit_ms = (unsigned)r->o->time_limit_ms;
    r->asked = r->p.budget;
    if (r->p.budget > arch_system_tiles(a))
        r->p.budget = arch_system_tiles(a);
    r->copies = mem_calloc(n->n_xbar ? n->n_xbar : 1, sizeof *r->copies, "copies");
    if (replicate_fit(n, a, pol, placement, &r->p, r->solver, r->copies, &r->m, &r->after, &e) <
        0) {
        fprintf(stderr, "xbarsim replicate: %s on %s: %s%s\n", n->name, a->name, e.msg,
                r->asked > arch_system_tiles(a) ? " (the budget is capped at the system's tiles)"
                                                : "");
        return e.code == ERR_INPUT ? 2 : 1;
    }
    if (price_network(n, a, pol, NULL, placement, &r->m0, &r->before, &e) < 0) {
        fprintf(stderr, "xbarsim replicate: %s\n", e.msg); /* the replicated layout mapped */
        model_fini(&r->after);
        mapping_fini(&r->m);
        return 2;
    }
    return 0;
}

/* The objective and the solver it implies: 0, or -1 after the message. */
static int objective(rep_opts *o, replicate_objective *obj, double *alpha, replicate_solver *s)
{
    if (replicate_objective_parse(o->objective, obj, alpha) < 0) {
        fprintf(stderr,
                "xbarsim replicate: --objective: found '%s', expected latency, throughput or "
                "mix:A with 0 <= A <= 1\n",
                o->objective);
        return -1;
    }
    *s = o->solver >= 0              ? (replicate_solver)o->solver
         : *obj == REPLICATE_OBJ_MIX ? REPLICATE_SOLVER_GLPK
                                     : REPLICATE_SOLVER_EXACT;
    return 0;
}

static int replicate_loaded(rep_opts *o, const network *n, const arch *a)
{
    rep_result r = {.n = n, .a = a, .o = o};
    replicate_objective obj;
    double alpha;
    if (objective(o, &obj, &alpha, &r.solver) < 0)
        return 2;
    err e;
    err_clear(&e);
    policy pol;
    if (policy_from_spec(o->policy, n, a, NULL, &pol, &e) < 0) {
        fprintf(stderr, "xbarsim replicate: %s\n", e.msg);
        return 2;
    }
    int status = solve(&r, &pol, obj, alpha);
    if (status == 0) {
        if (o->json)
            print_json(&r);
        else
            print_table(&r);
        if (o->out && cli_write_file(o->out, write_copies, &r, &e) < 0) {
            fprintf(stderr, "xbarsim replicate: -o: %s\n", e.msg);
            status = 1;
        }
        model_fini(&r.before);
        mapping_fini(&r.m0);
        model_fini(&r.after);
        mapping_fini(&r.m);
    }
    free(r.copies);
    replicate_problem_fini(&r.p);
    policy_fini(&pol);
    return status;
}

int cmd_replicate(int argc, char **argv)
{
    rep_opts o = {.policy = "uniform:8",
                  .solver = -1,
                  .placement = MAPPING_PLACE_GROUPS,
                  .time_limit_ms = 10000};
    const char *config;
    int rc = opt_parse_arg(&rep_command, argc, argv, &o, &config);
    if (rc != OPT_GO)
        return rc;
    arch a;
    network n;
    if (cli_load_inputs("replicate", config, o.net, o.set, o.n_set, &a, &n) < 0)
        return 2;
    int status = replicate_loaded(&o, &n, &a);
    network_fini(&n);
    arch_fini(&a);
    return status;
}
