/* xbarsim: the command-line entry point. One table of subcommands (X-macro) gives the dispatch,
 * the usage text and `xbarsim help` (the rows: CLI_COMMANDS in cli.h); each subcommand is its own
 * cmd_<name>.c, so adding one is that file, one row and one name in CMakeLists.txt. Each subcommand
 * parses its options (opt.h) and returns the exit status: 0 success, 1 a failure while working (an
 * output that cannot be written, a solver error), 2 bad input (the message on stderr says where and
 * what) or bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef XBARSIM_VERSION
#define XBARSIM_VERSION "unknown"
#endif

typedef int (*subcommand_fn)(int argc, char **argv);

static const struct {
    const char *name;
    subcommand_fn fn;
    const char *summary;
} subcommands[] = {
#define SUBCOMMAND_ENTRY(n, f, s) {n, f, s},
    CLI_COMMANDS(SUBCOMMAND_ENTRY)
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
