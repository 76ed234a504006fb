/* cli: what the `xbarsim` subcommands share -- the data folder that holds the presets and
 * built-in networks, and the subcommands defined outside xbarsim.c.
 */
#ifndef XBARSIM_CLI_CLI_H
#define XBARSIM_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "h5file.h"
#include "wallclock.h"

/* The folder holding configs/arch/ and configs/net/: $XBARSIM_DATA, else the source tree the
 * binary was built from. Static storage. */
const char *cli_data_dir(void);

/* `xbarsim run` (run.c) and `xbarsim search` (cmd_search.c): return the exit status. */
int cmd_run(int argc, char **argv);
int cmd_search(int argc, char **argv);
/* `xbarsim train` (cmd_train.c): float training, QAT and quantised evaluation. */
int cmd_train(int argc, char **argv);

/* `xbarsim sweep` and `xbarsim merge` (sweep.c). */
int cmd_sweep(int argc, char **argv);
int cmd_merge(int argc, char **argv);

/* `xbarsim validate` (cmd_validate.c): published reference figures against this build. */
int cmd_validate(int argc, char **argv);

/* A file named `name` next to the file `config` (if config is not NULL and name is relative),
 * else `name` itself if it is a file, else cli_data_dir()/configs/KIND/NAME.cfg (kind "arch" or
 * "net"), written into buf. Returns the path chosen (name, or buf). */
const char *cli_resolve(const char *name, const char *config, const char *kind, char *buf,
                        size_t size);
/* A policy or replication spec naming a file next to `config` is rewritten to that path (in
 * buf); any other spec is returned as it is. */
const char *cli_resolve_spec(const char *spec, const char *config, char *buf, size_t size);

/* Option values: an integer in lo..hi or a number in lo..hi. 0, or -1 after printing
 * "xbarsim CMD: OPT: found 'S', expected ..." on stderr. */
int cli_parse_ll(const char *cmd, const char *opt, const char *s, long long lo, long long hi,
                 long long *out);
int cli_parse_real(const char *cmd, const char *opt, const char *s, double lo, double hi,
                   double *out);

/* Every option (an argument starting with '-') given at most once, but those named in
 * `repeatable` (NULL-terminated, may be NULL): 0, or -1 after printing "xbarsim CMD: OPT: given
 * twice (arguments I and J), expected once" on stderr. A repeated option used to keep the last
 * value silently. */
int cli_check_repeats(const char *cmd, int argc, char **argv, const char *const *repeatable);

/* "xbarsim" and the arguments, space-separated; owned by the caller (free). */
char *cli_command_line(int argc, char **argv);

/* Write the /meta attributes every xbarsim file has (traces/README.md): version, git describe,
 * command line, resolved configuration text, seed, start time (UTC, ISO 8601) and host. */
int cli_meta_write(h5file *f, const char *command_line, const char *config_text, uint64_t seed,
                   const char *start_time, err *e);

#endif
