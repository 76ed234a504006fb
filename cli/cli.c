/* cli: what the subcommands share (see cli.h) -- the command line as one string
 * and the /meta attributes every xbarsim file carries.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"

#ifndef XBARSIM_VERSION
#define XBARSIM_VERSION "unknown"
#endif
#ifndef XBARSIM_DATA_DIR
#define XBARSIM_DATA_DIR "."
#endif
#ifndef XBARSIM_GIT_DESCRIBE
#define XBARSIM_GIT_DESCRIBE "unknown"
#endif

static bool is_file_or_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* PREFIX/share/xbarsim when the running binary is PREFIX/bin/xbarsim of an installed tree
 * (it holds configs/arch), else NULL. */
static const char *installed_data_dir(void)
{
    static char dir[4096];
    static int done;
    if (done)
        return dir[0] ? dir : NULL;
    done = 1;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0'; /* PREFIX/bin */
    slash = strrchr(exe, '/');
    if (!slash || strcmp(slash, "/bin") != 0)
        return NULL;
    *slash = '\0'; /* PREFIX */
    char probe[4096 + 64];
    snprintf(probe, sizeof probe, "%s/share/xbarsim/configs/arch", exe);
    if (!is_file_or_dir(probe))
        return NULL;
    if (snprintf(dir, sizeof dir, "%s/share/xbarsim", exe) >= (int)sizeof dir) {
        dir[0] = '\0'; /* a prefix this long: fall back to the build's data */
        return NULL;
    }
    return dir;
}

const char *cli_data_dir(void)
{
    const char *data = getenv("XBARSIM_DATA");
    if (data && *data)
        return data;
    const char *installed = installed_data_dir();
    return installed ? installed : XBARSIM_DATA_DIR;
}

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

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *cli_resolve(const char *name, const char *config, const char *kind, char *buf,
                        size_t size)
{
    if (config && name[0] != '/') {
        const char *slash = strrchr(config, '/');
        if (slash) {
            snprintf(buf, size, "%.*s/%s", (int)(slash - config), config, name);
            if (is_file(buf))
                return buf;
        }
    }
    if (is_file(name))
        return name;
    snprintf(buf, size, "%s/configs/%s/%s.cfg", cli_data_dir(), kind, name);
    return buf;
}

const char *cli_resolve_spec(const char *spec, const char *config, char *buf, size_t size)
{
    if (!config || is_file(spec) || spec[0] == '/' || !strrchr(config, '/'))
        return spec;
    const char *slash = strrchr(config, '/');
    snprintf(buf, size, "%.*s/%s", (int)(slash - config), config, spec);
    return is_file(buf) ? buf : spec;
}

int cli_check_repeats(const char *cmd, int argc, char **argv, const char *const *repeatable)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1] || (a[1] >= '0' && a[1] <= '9'))
            continue; /* not an option (a file, a value, a negative number) */
        bool many = false;
        for (size_t k = 0; repeatable && repeatable[k] && !many; k++)
            many = strcmp(a, repeatable[k]) == 0;
        if (many)
            continue;
        for (int j = i + 1; j < argc; j++)
            if (strcmp(argv[j], a) == 0) {
                fprintf(stderr,
                        "xbarsim %s: %s: given twice (arguments %d and %d), expected once\n", cmd,
                        a, i, j);
                return -1;
            }
    }
    return 0;
}

int cli_parse_ll(const char *cmd, const char *opt, const char *s, long long lo, long long hi,
                 long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    /* strtoll skips leading blanks: " 3" is refused like "3 " (issue 20: strict options). */
    if (!*s || isspace((unsigned char)*s) || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "xbarsim %s: %s: found '%s', expected an integer in %lld..%lld\n", cmd, opt,
                s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_real(const char *cmd, const char *opt, const char *s, double lo, double hi,
                   double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || isspace((unsigned char)*s) || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "xbarsim %s: %s: found '%s', expected a number in %g..%g\n", cmd, opt, s,
                lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}
