/* cli: what the `xbarsim` subcommands share -- the data folder that holds the presets and
 * built-in networks, the one resolver and loaders of architectures and networks, atomic text
 * output, the UTC time stamp, the progress line and the /meta attributes of every output file.
 * Options are parsed by opt.h; the subcommands are listed once, in xbarsim.c.
 */
#ifndef XBARSIM_CLI_CLI_H
#define XBARSIM_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "arch.h"
#include "err.h"
#include "h5file.h"
#include "network.h"
#include "wallclock.h"

/* The folder holding configs/arch/ and configs/net/: $XBARSIM_DATA, else the source tree the
 * binary was built from. Static storage. */
const char *cli_data_dir(void);

/* The subcommands: X(name, function, one-line summary), one cmd_<name>.c each. Each takes its
 * arguments (argv[0] is its name) and returns the exit status -- 0 done, 1 failed while working,
 * 2 bad input or usage. xbarsim.c dispatches and lists them from this table. */
#define CLI_COMMANDS(X)                                                                            \
    X("run", cmd_run, "simulate inferences of a mapped network event by event, write HDF5")        \
    X("search", cmd_search, "search per-layer precision (and copies) with DDPG: lrmp, cimaq, ...") \
    X("train", cmd_train, "train a small network on Fashion-MNIST; QAT; crossbar accuracy")        \
    X("info", cmd_info, "print a resolved architecture with units and derived figures")            \
    X("map", cmd_map, "map a network onto an architecture and price it analytically")              \
    X("replicate", cmd_replicate, "choose copies of the bottleneck layers under a tile budget")    \
    X("sweep", cmd_sweep, "evaluate a parameter sweep: threads, MPI ranks or Slurm shards")        \
    X("merge", cmd_merge, "join the result files of a sweep's shards")                             \
    X("validate", cmd_validate, "recompute published chip figures and compare (exit 0: all pass)")

#define CLI_COMMAND_PROTOTYPE(name, fn, summary) int fn(int argc, char **argv);
CLI_COMMANDS(CLI_COMMAND_PROTOTYPE)
#undef CLI_COMMAND_PROTOTYPE

/* The one resolver of "preset name or file" (kind "arch") and "built-in network name or file"
 * (kind "net"): a file named `name` next to the file `config` (if config is not NULL and name is
 * relative), else `name` itself if it is a file or looks like a path (it has a '/' or ends in
 * .cfg: a missing file is then named as given), else cli_data_dir()/configs/KIND/NAME.cfg,
 * written into buf. Returns the path chosen (name, or buf). */
const char *cli_resolve(const char *name, const char *config, const char *kind, char *buf,
                        size_t size);
/* A policy or replication spec naming a file next to `config` is rewritten to that path (in
 * buf); any other spec is returned as it is. */
const char *cli_resolve_spec(const char *spec, const char *config, char *buf, size_t size);

/* The one "load an architecture and apply --set": cfg (a parsed tree, taken over: destroyed,
 * success or not), given an empty arch.tiles.device group when it has none (so --set can name
 * its keys), with the overrides sets[0 .. n_sets-1] ("PATH=VALUE", as --set) applied in order,
 * loaded into *out (arch_fini it); origin names the tree in messages. 0, or ERR_INPUT with e. */
int cli_arch_from_config(config_t *cfg, const char *origin, const char *const *sets,
                         unsigned n_sets, arch *out, err *e);
/* The same from the preset or file `name` (cli_resolve from config); with name NULL, the `arch`
 * group of the file config itself. ERR_IO when the file cannot be read. */
int cli_load_arch(const char *name, const char *config, const char *const *sets, unsigned n_sets,
                  arch *out, err *e);
/* The built-in network or file `name` (cli_resolve from config); with name NULL, the `network`
 * group of the file config itself. On success the caller network_fini()s *out. */
int cli_load_net(const char *name, const char *config, network *out, err *e);

/* The inputs of the commands that take CONFIG|PRESET and --net (map, replicate, search): the
 * architecture `config` (a preset or file) and the network `net` (a built-in name or file; NULL:
 * CONFIG's own `network` group), the arch with the n_sets `--set PATH=VALUE` overrides applied.
 * 0 with both loaded (arch_fini, network_fini), or -1 with nothing loaded after printing "xbarsim
 * CMD: why" on stderr (bad input: exit 2). */
int cli_load_inputs(const char *cmd, const char *config, const char *net, const char *const *sets,
                    unsigned n_sets, arch *a, network *n);
/* The --set option's help text, shared by the commands that take it. */
#define CLI_SET_HELP                                                                               \
    "override one setting first, e.g. arch.tiles.adc.bits=6 (repeatable);\n"                       \
    "VALUE may be a libconfig group, array or list, e.g.\n"                                        \
    "'arch.tiles.adc.energy_pj={ kind = \"fom\"; fom = 0.0011; }'"
#define CLI_MAX_SETS 64 /* --set overrides of one command, count */

/* A text output written as PATH.tmp and renamed to PATH only when complete, so a reader never
 * sees half a file and a failure leaves nothing under PATH. */
typedef struct cli_out {
    FILE *f;         /* open between cli_out_open and cli_out_close */
    char path[4096]; /* the final name */
    char tmp[4104];  /* the temporary: path + ".tmp" */
} cli_out;
/* Create path's temporary. 0, or ERR_IO with e ("cannot write TMP: why"). */
int cli_out_open(cli_out *o, const char *path, err *e);
/* Close the temporary, checking every write. 0, or ERR_IO with e and the temporary removed. */
int cli_out_close(cli_out *o, err *e);
/* Rename a closed temporary to the final name. 0, or ERR_IO with e and the temporary removed. */
int cli_out_commit(cli_out *o, err *e);
/* Remove the temporary (open or closed); the final name is untouched. */
void cli_out_discard(cli_out *o);
/* The whole cycle for one file: open, write(f, ctx), close, commit. 0, or ERR_IO with e. */
typedef void (*cli_write_fn)(FILE *f, const void *ctx);
int cli_write_file(const char *path, cli_write_fn write, const void *ctx, err *e);

/* The current time, UTC, ISO 8601 ("2024-05-01T12:00:00Z"), into buf of CLI_TIME_BYTES. */
#define CLI_TIME_BYTES 32
void cli_utc_time(char *buf, size_t size);

/* The one progress line on stderr, "\r[####      ]  42%  NOTE  12.0 s, ETA 16 s", drawn only
 * when enabled (stderr a terminal) and once a second has passed since the start. */
typedef struct cli_progress {
    double started; /* wallclock_s() at the start, s */
    uint64_t skip;  /* units done before the start (resumed work): not in the rate, count */
    bool enabled;   /* draw at all */
    bool shown;     /* drawn at least once: cli_progress_end ends the line */
} cli_progress;
void cli_progress_start(cli_progress *p, bool enabled);
/* Redraw with done of total units; note (NULL: none) says what they are; force: draw even in
 * the first second (a last update). */
void cli_progress_update(cli_progress *p, uint64_t done, uint64_t total, const char *note,
                         bool force);
/* End the line when one was drawn. */
void cli_progress_end(cli_progress *p);

/* "xbarsim" and the arguments, space-separated; owned by the caller (free). */
char *cli_command_line(int argc, char **argv);

/* Write the /meta attributes every xbarsim file has (traces/README.md): version, git describe,
 * command line, resolved configuration text, seed, start time (UTC, ISO 8601) and host. */
int cli_meta_write(h5file *f, const char *command_line, const char *config_text, uint64_t seed,
                   const char *start_time, err *e);

#endif
