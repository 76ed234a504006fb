/* xbarsim: the command-line entry point. One table of subcommands (X-macro) gives the dispatch,
 * the usage text and `xbarsim help`. Each subcommand parses its own options and returns the exit
 * status: 0 success, 1 bad input (message on stderr says where and what), 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cost.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "replication.h"
#include "err.h"

#ifndef XBARSIM_DATA_DIR
#define XBARSIM_DATA_DIR "."
#endif

#ifndef XBARSIM_VERSION
#define XBARSIM_VERSION "unknown"
#endif

typedef int (*subcommand_fn)(int argc, char **argv);

static int cmd_info(int argc, char **argv);
static int cmd_map(int argc, char **argv);

/* X(name, function, one-line summary) */
#define SUBCOMMAND_MAP(X)                                                                          \
    X("info", cmd_info, "print a resolved architecture with units and derived figures")            \
    X("map", cmd_map, "map a network onto an architecture and price it analytically")

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
    fprintf(out, "\n  xbarsim COMMAND --help   options of one command\n"
                 "  xbarsim --version        version\n");
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

static int cmd_info(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("usage: xbarsim info ARCH.cfg\n\n"
               "Load the `arch` group of ARCH.cfg (libconfig; schema in configs/arch/README.md),\n"
               "check it, and print every setting with its unit followed by derived figures:\n"
               "bits stored, peak MACs/s and the time of one 256-row VMM at 8-bit input.\n"
               "Presets: configs/arch/lrmp.cfg, chang2022.cfg, cimaq.cfg, puma.cfg.\n");
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
    if (arch_load_file(argv[1], &a, &e) < 0) {
        fprintf(stderr, "xbarsim info: %s\n", e.msg);
        return 1;
    }
    arch_print(&a, stdout);
    cost_print_derived(&a, stdout);
    arch_fini(&a);
    return 0;
}

/* A network argument: an existing file, or the name of a built-in network in
 * $XBARSIM_DATA/configs/net/ (default: the source tree the binary was built from). */
static const char *net_path(const char *arg, char *buf, size_t size)
{
    FILE *f = fopen(arg, "r");
    if (f) {
        fclose(f);
        return arg;
    }
    const char *data = getenv("XBARSIM_DATA");
    snprintf(buf, size, "%s/configs/net/%s.cfg", data ? data : XBARSIM_DATA_DIR, arg);
    return buf;
}

static int cmd_map(int argc, char **argv)
{
    const char *config = NULL, *net_arg = NULL, *policy_spec = "uniform:8";
    const char *replication_spec = "none";
    map_placement placement = MAP_PLACE_GROUPS;
    int csv = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            printf(
                "usage: xbarsim map CONFIG [--net NAME|FILE] [--policy P] [--csv]\n\n"
                "Map a network onto the architecture of CONFIG (a libconfig file with an `arch`\n"
                "group, e.g. configs/arch/lrmp.cfg) and print the analytic model: per layer\n"
                "R x N, bits, tiles, copies, stage times T_in, T_tile, T_out, T_d and the share\n"
                "of latency; then latency, bottleneck, throughput, tiles, utilisation, energy.\n\n"
                "  --net NAME|FILE  network: a file, or a built-in name from configs/net/\n"
                "                   (resnet18, vgg16, vit_b32, ...); default: CONFIG's own\n"
                "                   `network` group\n"
                "  --policy P       uniform:B, uniform:W,A, a .csv (layer,wb,ab,adc_bits) or a\n"
                "                   libconfig file with a `policy` list; default uniform:8\n"
                "  --csv            one CSV row per layer instead of the table (times in ps,\n"
                "                   energy in pJ)\n"
                "Every layer has one copy (replication comes with `xbarsim replicate`).\n");
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
    if (arch_load_file(config, &a, &e) < 0) {
        fprintf(stderr, "xbarsim map: %s\n", e.msg);
        return 1;
    }
    char buf[1024];
    network n;
    int status = 1;
    if (net_load_file(net_arg ? net_path(net_arg, buf, sizeof buf) : config, &n, &e) < 0) {
        fprintf(stderr, "xbarsim map: %s\n", e.msg);
        arch_fini(&a);
        return 1;
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
