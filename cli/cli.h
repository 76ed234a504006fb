/* cli: what the `xbarsim` subcommands share -- the data folder that holds the presets and
 * built-in networks, and the subcommands defined outside xbarsim.c.
 */
#ifndef XBARSIM_CLI_CLI_H
#define XBARSIM_CLI_CLI_H

#include <stdint.h>

#include "err.h"
#include "h5file.h"

/* The folder holding configs/arch/ and configs/net/: $XBARSIM_DATA, else the source tree the
 * binary was built from. Static storage. */
const char *cli_data_dir(void);

/* `xbarsim run` (run.c) and `xbarsim search` (cmd_search.c): return the exit status. */
int cmd_run(int argc, char **argv);
int cmd_search(int argc, char **argv);
/* `xbarsim train` (cmd_train.c): float training, QAT and quantised evaluation. */
int cmd_train(int argc, char **argv);

/* "xbarsim" and the arguments, space-separated; owned by the caller (free). */
char *cli_command_line(int argc, char **argv);
/* A monotonic wall clock, s. */
double cli_wall_s(void);

/* Write the /meta attributes every xbarsim file has (traces/README.md): version, git describe,
 * command line, resolved configuration text, seed, start time (UTC, ISO 8601) and host. */
int cli_meta_write(h5file *f, const char *command_line, const char *config_text, uint64_t seed,
                   const char *start_time, err *e);

#endif
