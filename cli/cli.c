/* cli: what the subcommands share (see cli.h) -- the command line as one string, a wall clock,
 * and the /meta attributes every xbarsim file carries.
 */
#include "cli.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"

#ifndef XBARSIM_VERSION
#define XBARSIM_VERSION "unknown"
#endif
#ifndef XBARSIM_GIT_DESCRIBE
#define XBARSIM_GIT_DESCRIBE "unknown"
#endif

char *cli_command_line(int argc, char **argv)
{
    size_t len = 16;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = mem_alloc(len, "command line");
    strcpy(s, "xbarsim");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

double cli_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_meta_write(h5file *f, const char *command_line, const char *config_text, uint64_t seed,
                   const char *start_time, err *e)
{
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    ERR_TRY(h5file_group(f, "/meta", e));
    ERR_TRY(h5file_attr_str(f, "/meta", "xbarsim_version", XBARSIM_VERSION, e));
    ERR_TRY(h5file_attr_str(f, "/meta", "git_describe", XBARSIM_GIT_DESCRIBE, e));
    ERR_TRY(h5file_attr_str(f, "/meta", "command_line", command_line, e));
    ERR_TRY(h5file_attr_str(f, "/meta", "config", config_text, e));
    ERR_TRY(h5file_attr_u64(f, "/meta", "seed", seed, e));
    ERR_TRY(h5file_attr_str(f, "/meta", "start_time", start_time, e));
    return h5file_attr_str(f, "/meta", "host", host, e);
}
