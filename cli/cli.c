/* cli: what the subcommands share (see cli.h) -- the data folder, the resolver and loaders of
 * architectures and networks, atomic text files, the UTC time stamp, the progress line, the
 * command line as one string and the /meta attributes every xbarsim file carries.
 */
#include "cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfgfile.h"
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
    size_t len = strlen(name);
    if (is_file(name) || strchr(name, '/') || (len > 4 && strcmp(name + len - 4, ".cfg") == 0))
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

int cli_arch_from_config(config_t *cfg, const char *origin, const char *const *sets,
                         unsigned n_sets, arch *out, err *e)
{
    config_setting_t *tiles = config_lookup(cfg, "arch.tiles");
    if (tiles && config_setting_is_group(tiles) && !config_setting_get_member(tiles, "device"))
        config_setting_add(tiles, "device", CONFIG_TYPE_GROUP);
    for (unsigned i = 0; i < n_sets; i++)
        if (cfgfile_override(cfg, sets[i], e) < 0) {
            config_destroy(cfg);
            return ERR_INPUT;
        }
    return arch_load_config(cfg, origin, out, e);
}

int cli_load_arch(const char *name, const char *config, const char *const *sets, unsigned n_sets,
                  arch *out, err *e)
{
    char buf[4096];
    const char *path = name ? cli_resolve(name, config, "arch", buf, sizeof buf) : config;
    config_t cfg;
    ERR_TRY(cfgfile_parse_file(path, &cfg, e));
    return cli_arch_from_config(&cfg, path, sets, n_sets, out, e);
}

int cli_load_net(const char *name, const char *config, network *out, err *e)
{
    char buf[4096];
    return network_load_file(name ? cli_resolve(name, config, "net", buf, sizeof buf) : config, out,
                             e);
}

int cli_load_inputs(const char *cmd, const char *config, const char *net, const char *const *sets,
                    unsigned n_sets, arch *a, network *n)
{
    char buf[4096];
    const char *path = cli_resolve(config, NULL, "arch", buf, sizeof buf);
    err e;
    err_clear(&e);
    if (cli_load_arch(path, NULL, sets, n_sets, a, &e) < 0) {
        fprintf(stderr, "xbarsim %s: %s\n", cmd, e.msg);
        return -1;
    }
    if (cli_load_net(net, net ? NULL : path, n, &e) < 0) {
        fprintf(stderr, "xbarsim %s: %s\n", cmd, e.msg);
        arch_fini(a);
        return -1;
    }
    return 0;
}

/* ---- atomic text files ------------------------------------------------------------------------
 */

int cli_out_open(cli_out *o, const char *path, err *e)
{
    snprintf(o->path, sizeof o->path, "%s", path);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp", o->path);
    o->f = fopen(o->tmp, "w");
    if (!o->f)
        return err_set(e, ERR_IO, "cannot write %s: %s", o->tmp, strerror(errno));
    return 0;
}

int cli_out_close(cli_out *o, err *e)
{
    int bad = ferror(o->f);
    int rc = fclose(o->f);
    o->f = NULL;
    if (bad || rc != 0) {
        remove(o->tmp);
        return err_set(e, ERR_IO, "cannot write %s: %s", o->tmp,
                       bad ? "a write failed" : strerror(errno));
    }
    return 0;
}

int cli_out_commit(cli_out *o, err *e)
{
    if (rename(o->tmp, o->path) != 0) {
        int rc = err_set(e, ERR_IO, "cannot rename %s to %s: %s", o->tmp, o->path, strerror(errno));
        remove(o->tmp);
        return rc;
    }
    return 0;
}

void cli_out_discard(cli_out *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    remove(o->tmp);
}

int cli_write_file(const char *path, cli_write_fn write, const void *ctx, err *e)
{
    cli_out o;
    ERR_TRY(cli_out_open(&o, path, e));
    write(o.f, ctx);
    ERR_TRY(cli_out_close(&o, e));
    return cli_out_commit(&o, e);
}

/* ---- time and progress --------------------------------------------------------------------------
 */

void cli_utc_time(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cli_progress_start(cli_progress *p, bool enabled)
{
    *p = (cli_progress){.started = wallclock_s(), .enabled = enabled};
}

void cli_progress_update(cli_progress *p, uint64_t done, uint64_t total, const char *note,
                         bool force)
{
    double t = wallclock_s() - p->started;
    if (!p->enabled || (!force && t < 1.0))
        return;
    enum { WIDTH = 40 };
    int fill = total ? (int)(WIDTH * (done < total ? done : total) / total) : WIDTH;
    uint64_t fresh = done > p->skip ? done - p->skip : 0;
    double eta = fresh && total > done ? t * (double)(total - done) / (double)fresh : 0.0;
    fprintf(stderr, "\r[%.*s%*s] %3d%%  %s  %.1f s, ETA %.0f s   ", fill,
            "########################################", WIDTH - fill, "",
            total ? (int)(100 * done / total) : 100, note ? note : "", t, eta);
    p->shown = true;
}

void cli_progress_end(cli_progress *p)
{
    if (p->shown)
        fputc('\n', stderr);
    p->shown = false;
}
