/* xbarsim: the command-line entry point. One table of subcommands (X-macro) gives the dispatch,
 * the usage text and `xbarsim help`. Each subcommand parses its own options and returns the exit
 * status: 0 success, 1 a failure while working (an output that cannot be written, a solver error),
 * 2 bad input (the message on stderr says where and what) or bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cli.h"
#include "cost.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "price.h"
#include "replicate.h"
#include "replication.h"
#include "err.h"

#ifndef XBARSIM_VERSION
#define XBARSIM_VERSION "unknown"
#endif

typedef int (*subcommand_fn)(int argc, char **argv);

static int cmd_info(int argc, char **argv);
static int cmd_map(int argc, char **argv);
static int cmd_replicate(int argc, char **argv);

/* X(name, function, one-line summary) */
#define SUBCOMMAND_MAP(X)                                                                          \
    X("run", cmd_run, "simulate inferences of a mapped network event by event, write HDF5")        \
    X("search", cmd_search, "search per-layer precision (and copies) with DDPG: lrmp, cimaq, ...") \
    X("train", cmd_train, "train a small network on Fashion-MNIST; QAT; crossbar accuracy")        \
    X("info", cmd_info, "print a resolved architecture with units and derived figures")            \
    X("map", cmd_map, "map a network onto an architecture and price it analytically")              \
    X("replicate", cmd_replicate, "choose copies of the bottleneck layers under a tile budget")    \
    X("sweep", cmd_sweep, "evaluate a parameter sweep: threads, MPI ranks or Slurm shards")        \
    X("merge", cmd_merge, "join the result files of a sweep's shards")                             \
    X("validate", cmd_validate, "recompute published chip figures and compare (exit 0: all pass)")

static const struct {
    const char *name;
    subcommand_fn fn;
    const char *summary;
} subcommands[] = {
#define SUBCOMMAND_ENTRY(n, f, s) {n, f, s},
    SUBCOMMAND_MAP(SUBCOMMAND_ENTRY)
#undef SUBCOMMAND_ENTRY
};

#define N_SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *out)
{
    fprintf(out,
            "usage: xbarsim COMMAND [ARGS]\n\n"
            "xbarsim %s -- discrete-event simulator of RRAM computing-in-memory "
            "DNN accelerators.\n\ncommands:\n",
            XBARSIM_VERSION);
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out,
            "\n  xbarsim COMMAND --help   options of one command\n"
            "  xbarsim --version        version\n\n"
            "Presets and built-in networks are read from %s/configs\n"
            "(an installed xbarsim: PREFIX/share/xbarsim; XBARSIM_DATA=DIR overrides it).\n",
            cli_data_dir());
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* An architecture argument: a path (it has a '/' or ends in .cfg) as it is, so a missing file is
 * named as given; otherwise a file or a preset name of configs/arch/ (cli_resolve). */
static const char *arch_arg(const char *arg, char *buf, size_t size)
{
    size_t len = strlen(arg);
    if (strchr(arg, '/') || (len > 4 && strcmp(arg + len - 4, ".cfg") == 0))
        return arg;
    return cli_resolve(arg, NULL, "arch", buf, size);
}

static int cmd_info(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("usage: xbarsim info ARCH.cfg|PRESET\n\n"
               "Load the `arch` group of ARCH.cfg (libconfig; schema in configs/arch/README.md),\n"
               "or a preset by name, check it, and print every setting with its unit followed\n"
               "by derived figures: bits stored, the time of one 256-row VMM at 8-bit input,\n"
               "the peak at arch.peak_bits (weights per tile, VMM time and energy by part, MAC/s,\n"
               "op/s = 2 per MAC, power = the tiles' dynamic power at that rate + every part's\n"
               "static power, GOPS/W, GOPS/s/mm2), the chip area and the static power by part.\n"
               "Presets: lrmp, chang2022, cimaq, puma, isaac (configs/arch/).\n");
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "xbarsim info: expected one ARCH.cfg argument, got %d (see --help)\n",
                argc - 1);
        return 2;
    }
    arch a;
    err e;
    err_clear(&e);
    char buf[4096];
    if (arch_load_file(arch_arg(argv[1], buf, sizeof buf), &a, &e) < 0) {
        fprintf(stderr, "xbarsim info: %s\n", e.msg);
        return 2;
    }
    arch_print(&a, stdout);
    cost_print_derived(&a, stdout);
    arch_fini(&a);
    return 0;
}

/* A network argument: an existing file, or the name of a built-in network in
 * cli_data_dir()/configs/net/. */
static const char *net_path(const char *arg, char *buf, size_t size)
{
    FILE *f = fopen(arg, "r");
    if (f) {
        fclose(f);
        return arg;
    }
    snprintf(buf, size, "%s/configs/net/%s.cfg", cli_data_dir(), arg);
    return buf;
}

static int cmd_map(int argc, char **argv)
{
    const char *config = NULL, *net_arg = NULL, *policy_spec = "uniform:8";
    const char *replication_spec = "none";
    map_placement placement = MAP_PLACE_GROUPS;
    int csv = 0, json = 0;
    if (cli_check_repeats("map", argc, argv, NULL) < 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            printf(
                "usage: xbarsim map CONFIG|PRESET [--net NAME|FILE] [--policy P] [--replication "
                "R]\n"
                "                   [--placement groups|packed] [--csv | --json]\n\n"
                "Map a network onto the architecture of CONFIG (a libconfig file with an `arch`\n"
                "group, e.g. configs/arch/lrmp.cfg) and print the analytic model: per layer\n"
                "R x N, bits, tiles, copies, stage times T_in, T_tile, T_out, T_d and the share\n"
                "of latency; then latency, bottleneck, throughput, tiles, utilisation, the two\n"
                "energies per inference (single: static power x latency; steady: x the\n"
                "pipelined period 1 / throughput) by category with TOPS/W and pJ/MAC, and the\n"
                "one-off programming energy of weight-stationary mode.\n\n"
                "  --net NAME|FILE  network: a file, or a built-in name from configs/net/\n"
                "                   (resnet18, vgg16, vit_b32, ...); default: CONFIG's own\n"
                "                   `network` group\n"
                "  --policy P       uniform:B, uniform:W,A, a .csv (layer,wb,ab,adc_bits) or a\n"
                "                   libconfig file with a `policy` list; default uniform:8\n"
                "  --csv            one CSV row per layer instead of the table (times in ps,\n"
                "                   energy in pJ)\n"
                "  --replication R  copies per layer: NAME=K[,...], a .csv or libconfig file\n"
                "                   (see `xbarsim replicate -o`); default one each\n"
                "  --placement P    groups (default: a copy that fits in a group never straddles\n"
                "                   two) or packed (copies back to back, fewest tiles)\n"
                "  --json           one JSON object: per-layer rows as the CSV, totals with both\n"
                "                   energies by category, MACs and TOPS/W\n");
            return 0;
        }
        if (strcmp(o, "--csv") == 0) {
            csv = 1;
        } else if (strcmp(o, "--json") == 0) {
            json = 1;
        } else if (strcmp(o, "--placement") == 0 && i + 1 < argc) {
            if (map_placement_parse(argv[++i], &placement) < 0) {
                fprintf(stderr, "xbarsim map: --placement: found '%s', expected groups or packed\n",
                        argv[i]);
                return 2;
            }
        } else if (strcmp(o, "--net") == 0 && i + 1 < argc) {
            net_arg = argv[++i];
        } else if (strcmp(o, "--policy") == 0 && i + 1 < argc) {
            policy_spec = argv[++i];
        } else if (strcmp(o, "--replication") == 0 && i + 1 < argc) {
            replication_spec = argv[++i];
        } else if (o[0] == '-') {
            fprintf(stderr, "xbarsim map: unknown or incomplete option '%s' (see --help)\n", o);
            return 2;
        } else if (!config) {
            config = o;
        } else {
            fprintf(stderr, "xbarsim map: unexpected argument '%s' (see --help)\n", o);
            return 2;
        }
    }
    if (!config) {
        fprintf(stderr, "xbarsim map: expected a CONFIG argument (see --help)\n");
        return 2;
    }
    if (csv && json) {
        fprintf(stderr, "xbarsim map: --csv and --json exclude each other\n");
        return 2;
    }
    err e;
    err_clear(&e);
    arch a;
    char abuf[4096];
    config = arch_arg(config, abuf, sizeof abuf);
    if (arch_load_file(config, &a, &e) < 0) {
        fprintf(stderr, "xbarsim map: %s\n", e.msg);
        return 2;
    }
    char buf[1024];
    network n;
    int status = 2; /* every failure below is bad input */
    if (net_load_file(net_arg ? net_path(net_arg, buf, sizeof buf) : config, &n, &e) < 0) {
        fprintf(stderr, "xbarsim map: %s\n", e.msg);
        arch_fini(&a);
        return 2;
    }
    policy p;
    unsigned *copies = NULL;
    mapping m;
    model mo;
    if (policy_from_spec(policy_spec, &n, &a, NULL, &p, &e) < 0) {
        fprintf(stderr, "xbarsim map: %s\n", e.msg);
    } else {
        if (replication_from_spec(replication_spec, &n, &copies, &e) < 0 ||
            mapping_build(&n, &a, &p, copies, placement, &m, &e) < 0) {
            fprintf(stderr, "xbarsim map: %s\n", e.msg);
        } else {
            model_evaluate(&n, &a, &m, &mo);
            if (json)
                model_print_json(&n, &a, &m, &mo, stdout);
            else if (csv)
                model_print_csv(&n, &m, &mo, stdout);
            else
                model_print(&n, &a, &m, &mo, stdout);
            model_fini(&mo);
            mapping_fini(&m);
            status = 0;
        }
        free(copies);
        policy_fini(&p);
    }
    net_fini(&n);
    arch_fini(&a);
    return status;
}

/* Write the copies to path through a temporary name renamed when complete: CSV (layer,copies)
 * when path ends in .csv, else a libconfig `replication` list. */
static int write_replication(const char *path, const network *n, const unsigned *copies)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "xbarsim replicate: -o: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    size_t len = strlen(path);
    if (len >= 4 && strcmp(path + len - 4, ".csv") == 0) {
        replication_write_csv(copies, n, f);
    } else {
        fprintf(f, "# copies per crossbar layer of %s (xbarsim replicate)\nreplication = (\n",
                n->name);
        for (unsigned i = 0; i < n->n_xbar; i++)
            fprintf(f, "    { layer = \"%s\"; copies = %u; }%s\n", n->layers[n->xbar[i]].name,
                    copies[i], i + 1 < n->n_xbar ? "," : "");
        fprintf(f, ");\n");
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        fprintf(stderr, "xbarsim replicate: -o: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

static int cmd_replicate(int argc, char **argv)
{
    const char *config = NULL, *net_arg = NULL, *policy_spec = "uniform:8", *out_path = NULL;
    const char *obj_arg = NULL, *budget_arg = NULL, *solver_arg = NULL;
    map_placement placement = MAP_PLACE_GROUPS;
    unsigned time_limit_ms = 10000;
    if (cli_check_repeats("replicate", argc, argv, NULL) < 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            printf(
                "usage: xbarsim replicate CONFIG --objective latency|throughput|mix:A --budget B\n"
                "                         [--net NAME|FILE] [--policy P] [--solver S]\n"
                "                         [--placement groups|packed] [--time-limit MS] [-o "
                "FILE]\n\n"
                "Choose copies r_l (1 <= r_l <= P_l) of every crossbar layer (LRMP's layer\n"
                "replication) with sum r_l x tiles_l <= B, minimising the latency (sum of layer\n"
                "times), the slowest layer (pipelined throughput) or A x latency + (1 - A) x\n"
                "slowest. Prints the copies per layer, latency and throughput before and after,\n"
                "and the tiles used.\n\n"
                "  --budget B       tiles: an integer, FACTORx (e.g. 1.5x: times the tiles of the\n"
                "                   all-8/8 network with one copy each), or chip "
                "(arch.tiles.count);\n"
                "                   never more than the chip\n"
                "  --solver S       exact (DP / bisection, default; not for mix), glpk (MILP,\n"
                "                   default for mix) or greedy (replicate the bottleneck)\n"
                "  --placement P    groups (default) or packed, as for map: with groups, copies\n"
                "                   are aligned to groups and the budget is lowered until the\n"
                "                   layout fits the chip\n"
                "  --time-limit MS  GLPK's time limit, ms (default 10000)\n"
                "  -o FILE          write the copies for `xbarsim map --replication FILE`: CSV\n"
                "                   (layer,copies) when FILE ends in .csv, else libconfig\n"
                "  --net, --policy  as for map\n");
            return 0;
        }
        if (strcmp(o, "--objective") == 0 && i + 1 < argc) {
            obj_arg = argv[++i];
        } else if (strcmp(o, "--budget") == 0 && i + 1 < argc) {
            budget_arg = argv[++i];
        } else if (strcmp(o, "--solver") == 0 && i + 1 < argc) {
            solver_arg = argv[++i];
        } else if (strcmp(o, "--net") == 0 && i + 1 < argc) {
            net_arg = argv[++i];
        } else if (strcmp(o, "--policy") == 0 && i + 1 < argc) {
            policy_spec = argv[++i];
        } else if (strcmp(o, "-o") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (strcmp(o, "--time-limit") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 1 || v > 86400000) {
                fprintf(stderr,
                        "xbarsim replicate: --time-limit: found '%s', expected 1..86400000 ms\n",
                        argv[i]);
                return 2;
            }
            time_limit_ms = (unsigned)v;
        } else if (strcmp(o, "--placement") == 0 && i + 1 < argc) {
            if (map_placement_parse(argv[++i], &placement) < 0) {
                fprintf(stderr,
                        "xbarsim replicate: --placement: found '%s', expected groups or packed\n",
                        argv[i]);
                return 2;
            }
        } else if (o[0] == '-') {
            fprintf(stderr, "xbarsim replicate: unknown or incomplete option '%s' (see --help)\n",
                    o);
            return 2;
        } else if (!config) {
            config = o;
        } else {
            fprintf(stderr, "xbarsim replicate: unexpected argument '%s' (see --help)\n", o);
            return 2;
        }
    }
    if (!config || !obj_arg || !budget_arg) {
        fprintf(stderr,
                "xbarsim replicate: expected CONFIG, --objective and --budget (see --help)\n");
        return 2;
    }
    replicate_objective obj;
    double alpha;
    if (replicate_objective_parse(obj_arg, &obj, &alpha) < 0) {
        fprintf(stderr,
                "xbarsim replicate: --objective: found '%s', expected latency, throughput or "
                "mix:A with 0 <= A <= 1\n",
                obj_arg);
        return 2;
    }
    replicate_solver solver =
        obj == REPLICATE_OBJ_MIX ? REPLICATE_SOLVER_GLPK : REPLICATE_SOLVER_EXACT;
    if (solver_arg && replicate_solver_parse(solver_arg, &solver) < 0) {
        fprintf(stderr, "xbarsim replicate: --solver: found '%s', expected glpk, exact or greedy\n",
                solver_arg);
        return 2;
    }
    err e;
    err_clear(&e);
    arch a;
    char abuf[4096];
    config = arch_arg(config, abuf, sizeof abuf);
    if (arch_load_file(config, &a, &e) < 0) {
        fprintf(stderr, "xbarsim replicate: %s\n", e.msg);
        return 2;
    }
    char buf[1024];
    network n;
    if (net_load_file(net_arg ? net_path(net_arg, buf, sizeof buf) : config, &n, &e) < 0) {
        fprintf(stderr, "xbarsim replicate: %s\n", e.msg);
        arch_fini(&a);
        return 2;
    }
    int status = 2; /* bad input, unless a step below says otherwise */
    policy pol;
    replicate_problem p = {0};
    unsigned *copies = NULL;
    if (policy_from_spec(policy_spec, &n, &a, NULL, &pol, &e) < 0) {
        fprintf(stderr, "xbarsim replicate: %s\n", e.msg);
        goto done_net;
    }
    if (replicate_problem_from_model(&n, &a, &pol, budget_arg, obj, alpha, &p, &e) < 0) {
        fprintf(stderr, "xbarsim replicate: %s\n", e.msg);
        goto done_policy;
    }
    p.time_limit_ms = time_limit_ms;
    uint64_t asked = p.budget;
    if (p.budget > a.tiles.count)
        p.budget = a.tiles.count;
    copies = calloc(n.n_xbar ? n.n_xbar : 1, sizeof *copies);
    if (!copies)
        abort();
    mapping m;
    model after;
    if (replicate_fit(&n, &a, &pol, placement, &p, solver, copies, &m, &after, &e) < 0) {
        status = e.code == ERR_INPUT ? 2 : 1;
        fprintf(stderr, "xbarsim replicate: %s on %s: %s%s\n", n.name, a.name, e.msg,
                asked > a.tiles.count ? " (the budget is capped at the chip's tiles)" : "");
        goto done_problem;
    }
    mapping m0;
    model before;
    if (price_network(&n, &a, &pol, NULL, placement, &m0, &before, &e) < 0) {
        fprintf(stderr, "xbarsim replicate: %s\n", e.msg); /* the replicated layout mapped */
        model_fini(&after);
        mapping_fini(&m);
        goto done_problem;
    }
    printf("# %s on %s, policy %s: replication for %s, solver %s\n", n.name, a.name, policy_spec,
           obj_arg, replicate_solver_name(solver));
    printf("%-18s %7s %6s %8s %14s %14s\n", "layer", "tiles", "P", "copies", "T_before/us",
           "T_after/us");
    for (unsigned i = 0; i < n.n_xbar; i++) {
        unsigned li = n.xbar[i];
        printf("%-18s %7llu %6llu %8u %14.3f %14.3f\n", n.layers[li].name,
               (unsigned long long)m.layers[i].tiles_per_copy,
               (unsigned long long)m.layers[i].vectors, copies[i],
               simtime_to_us(before.layers[li].time_ps), simtime_to_us(after.layers[li].time_ps));
    }
    printf("latency = %.3f us before, %.3f us after (%.3fx)\n", simtime_to_us(before.latency_ps),
           simtime_to_us(after.latency_ps), (double)before.latency_ps / (double)after.latency_ps);
    printf("throughput = %.6g inferences/s before, %.6g after (%.3fx); bottleneck %s after\n",
           before.throughput_per_s, after.throughput_per_s,
           (double)before.bottleneck_ps / (double)after.bottleneck_ps,
           n.layers[after.bottleneck].name);
    printf("tiles = %llu used (%llu before), budget %llu, span %llu (%s placement), chip %u\n",
           (unsigned long long)m.tiles_used, (unsigned long long)m0.tiles_used,
           (unsigned long long)p.budget, (unsigned long long)m.tiles_span,
           map_placement_name(placement), a.tiles.count);
    if (p.budget < asked)
        printf("note: budget %llu lowered to %llu (the chip%s)\n", (unsigned long long)asked,
               (unsigned long long)p.budget,
               asked > a.tiles.count && p.budget == a.tiles.count ? "" : " and group alignment");
    status = 0;
    if (out_path && write_replication(out_path, &n, copies) < 0)
        status = 1;
    model_fini(&before);
    mapping_fini(&m0);
    model_fini(&after);
    mapping_fini(&m);
done_problem:
    free(copies);
    replicate_problem_fini(&p);
done_policy:
    policy_fini(&pol);
done_net:
    net_fini(&n);
    arch_fini(&a);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("xbarsim %s\n", XBARSIM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "xbarsim: unknown command '%s'; commands:", argv[1]);
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        fprintf(stderr, " %s", subcommands[i].name);
    fprintf(stderr, " (see xbarsim --help)\n");
    return 2;
}
