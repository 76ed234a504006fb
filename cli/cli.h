/* cli: what the `xbarsim` subcommands share -- the data folder that holds the presets and
 * built-in networks, and the subcommands defined outside xbarsim.c.
 */
#ifndef XBARSIM_CLI_CLI_H
#define XBARSIM_CLI_CLI_H

/* The folder holding configs/arch/ and configs/net/: $XBARSIM_DATA, else the source tree the
 * binary was built from. Static storage. */
const char *cli_data_dir(void);

/* `xbarsim run` (run.c): returns the exit status. */
int cmd_run(int argc, char **argv);

#endif
