/* xbarsim: the command-line entry point. One table of subcommands (X-macro) gives the dispatch,
 * the usage text and `xbarsim help`. Each subcommand parses its own options and returns the exit
 * status: 0 success, 1 bad input (message on stderr says where and what), 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "cost.h"
#include "err.h"

#ifndef XBARSIM_VERSION
#define XBARSIM_VERSION "unknown"
#endif

typedef int (*subcommand_fn)(int argc, char **argv);

static int cmd_info(int argc, char **argv);

/* X(name, function, one-line summary) */
#define SUBCOMMAND_MAP(X)                                                                          \
    X("info", cmd_info, "print a resolved architecture with units and derived figures")

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
