/* run: the `xbarsim run` command -- options and run config, loading and mapping, the event
 * simulation with a progress bar, the printed summary, and the HDF5 file written under a temporary
 * name (see run.h). Exit status: 0 done, 1 the run failed (output could not be written), 2 bad
 * input or usage. Invariant: nothing is left under the output name unless the file is complete.
 */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfgfile.h"
#include "cli.h"
#include "emit.h"
#include "mem.h"
#include "replication.h"
#include "trace_h5.h"

#define MAX_SETS 64 /* --set overrides, count */

/* The embedded default: ResNet-18, every layer 8/8, on LRMP's chip. */
static const char *const default_config = "run = {\n"
                                          "  arch = \"lrmp\";\n"
                                          "  network = \"resnet18\";\n"
                                          "  policy = \"uniform:8\";\n"
                                          "};\n";

/* Options from the command line and the run config; the command line wins. */
typedef struct run_opts {
    const char *config;      /* CONFIG path, NULL: the embedded default */
    const char *arch;        /* preset name or file; NULL: CONFIG's own `arch` group */
    const char *net;         /* built-in name or file; NULL: CONFIG's own `network` group */
    const char *policy;      /* spec */
    const char *replication; /* spec */
    const char *placement;   /* name */
    const char *output;      /* .h5 path */
    const char *trace;       /* level name */
    const char *overlap;     /* "on" / "off" */
    const char *queue;       /* event-queue implementation name; NULL: the kernel's default */
    long long inferences;    /* -1: unset */
    long long seed;          /* -1: unset */
    bool quiet;
    const char *sets[MAX_SETS];
    unsigned n_sets;
} run_opts;

static void usage(void)
{
    printf("usage: xbarsim run [CONFIG] [-o FILE.h5] [--inferences N] [--trace none|layer|vector]\n"
           "                   [--policy P] [--replication R] [--overlap on|off] [--seed S]\n"
           "                   [--net NAME|FILE] [--arch NAME|FILE] [--set PATH=VALUE]...\n"
           "                   [--queue heap2|heap4|ladder] [-q]\n\n"
           "Simulate N inferences of a mapped network on the chip, event by event: every input\n"
           "vector of every layer copy goes input bus -> all tiles of its copy -> output bus ->\n"
           "vector module, each an engine resource shared as the architecture shares it. Prints\n"
           "a per-layer table and the network totals (latency of inference 0, steady-state\n"
           "period and throughput, the two energies per inference by category with their\n"
           "TOPS/W, the one-off programming energy, tiles, utilisation, EDP), each next to the\n"
           "analytic model's, and writes everything to an HDF5 file (schema:\n"
           "traces/README.md; scripts/xbarsim_trace.py reads and plots it).\n\n"
           "Energy per inference: dynamic (what the parts charged per operation, / N) plus\n"
           "static power times a time base. Single-inference energy: x the latency of one\n"
           "inference alone. Steady-state energy: x the pipelined period, measured over the\n"
           "completions of inferences N/2 .. N-1 (the fill left out), so it does not depend\n"
           "on N once the pipeline is full; with N = 1 it equals the single-inference one.\n"
           "Static power counts every powered part per instance; with arch.power_gating the\n"
           "parts the mapping does not use are off and idle tiles and lanes are gated.\n\n"
           "With no CONFIG it runs the embedded default: ResNet-18, every layer 8-bit weights\n"
           "and activations, on the `lrmp` preset (LRMP's 5688-tile chip), one inference.\n\n"
           "CONFIG is a libconfig file with a `run` group (every key optional):\n"
           "  run = { arch = \"lrmp\"; network = \"resnet18\"; policy = \"uniform:6\";\n"
           "          replication = \"conv1=14\"; placement = \"groups\"; inferences = 100;\n"
           "          overlap = true; trace = \"layer\"; seed = 1; output = \"traces/x.h5\";\n"
           "          set = [\"arch.tiles.adc.bits=6\"]; };\n"
           "and may hold the `arch` and `network` groups themselves instead of naming them.\n"
           "Names resolve as files first (next to CONFIG, then from the current folder), then\n"
           "as presets in configs/arch/ and built-in networks in configs/net/.\n\n"
           "  -o FILE.h5        output (default traces/run.h5; the folder is created); written\n"
           "                    as FILE.h5.tmp.PID and renamed when complete\n"
           "  --inferences N    inferences streamed, all ready at time 0 (default 1)\n"
           "  --trace LEVEL     none, layer (default: one record per layer copy and inference)\n"
           "                    or vector (also every tile, bus and vector-module request)\n"
           "  --overlap on|off  on (default): vectors pipeline through a copy's stages, layers\n"
           "                    pipeline across inferences (double-buffered), copies share their\n"
           "                    group's buses and vector module. off: the analytic model's\n"
           "                    schedule -- one inference, one layer, one vector per copy at a\n"
           "                    time, each copy with its own buses and vector module -- so every\n"
           "                    layer's time equals the model's T_l to the picosecond\n"
           "  --policy P        uniform:B, uniform:W,A, a .csv or libconfig file (as for map)\n"
           "  --replication R   NAME=K[,...], a .csv or libconfig file (as for map)\n"
           "  --placement P     groups (default) or packed\n"
           "  --set PATH=VALUE  override one architecture setting, e.g. arch.tiles.adc.bits=6\n"
           "                    or arch.tiles.rows_active=18 (repeatable)\n"
           "  --seed S          run seed (default 1; recorded, the model draws no random numbers)\n"
           "  --queue Q         the kernel's event queue: heap2, heap4 or ladder (default);\n"
           "                    changes the speed only, never a result (for benchmarks)\n"
           "  -q                no summary on stdout\n\n"
           "Exit status: 0 done; 1 the output could not be written (nothing is left under its\n"
           "name); 2 bad input (the message names the file, line and setting) or bad usage.\n");
}

/* ---- options and the run config ---------------------------------------------------------- */

static int parse_args(int argc, char **argv, run_opts *o)
{
    static const char *const repeatable[] = {"--set", NULL};
    if (cli_check_repeats("run", argc, argv, repeatable) < 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-q") == 0) {
            o->quiet = true;
            continue;
        }
        if (a[0] != '-') {
            if (o->config) {
                fprintf(stderr, "xbarsim run: unexpected argument '%s' (see --help)\n", a);
                return -1;
            }
            o->config = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "xbarsim run: unknown or incomplete option '%s' (see --help)\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "-o") == 0)
            o->output = v;
        else if (strcmp(a, "--trace") == 0)
            o->trace = v;
        else if (strcmp(a, "--overlap") == 0)
            o->overlap = v;
        else if (strcmp(a, "--queue") == 0)
            o->queue = v;
        else if (strcmp(a, "--policy") == 0)
            o->policy = v;
        else if (strcmp(a, "--replication") == 0)
            o->replication = v;
        else if (strcmp(a, "--placement") == 0)
            o->placement = v;
        else if (strcmp(a, "--net") == 0)
            o->net = v;
        else if (strcmp(a, "--arch") == 0)
            o->arch = v;
        else if (strcmp(a, "--inferences") == 0) {
            if (cli_parse_ll("run", a, v, 1, INT32_MAX, &o->inferences) < 0)
                return -1;
        } else if (strcmp(a, "--seed") == 0) {
            if (cli_parse_ll("run", a, v, 0, LLONG_MAX, &o->seed) < 0)
                return -1;
        } else if (strcmp(a, "--set") == 0) {
            if (o->n_sets == MAX_SETS) {
                fprintf(stderr, "xbarsim run: more than %d --set options\n", MAX_SETS);
                return -1;
            }
            o->sets[o->n_sets++] = v;
        } else {
            fprintf(stderr, "xbarsim run: unknown option '%s' (see --help)\n", a);
            return -1;
        }
    }
    return 0;
}

/* A string setting of the run group; an error names file:line when it is not a string. */
static int run_string(config_setting_t *g, const char *key, const char *origin, const char **out,
                      err *e)
{
    config_setting_t *s = config_setting_get_member(g, key);
    if (!s || *out) /* absent, or the command line set it */
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        char found[128];
        cfgfile_describe(s, found, sizeof found);
        return err_set(e, ERR_INPUT, "%s:%u: run.%s: found %s, expected a string",
                       cfgfile_file_of(s, origin), cfgfile_line_of(s), key, found);
    }
    *out = config_setting_get_string(s);
    return 0;
}

static int run_integer(config_setting_t *g, const char *key, const char *origin, long long lo,
                       long long hi, long long *out, err *e)
{
    config_setting_t *s = config_setting_get_member(g, key);
    if (!s || *out >= 0)
        return 0;
    int t = config_setting_type(s);
    long long v = t == CONFIG_TYPE_INT64 ? config_setting_get_int64(s) : config_setting_get_int(s);
    if ((t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) || v < lo || v > hi) {
        char found[128];
        cfgfile_describe(s, found, sizeof found);
        return err_set(e, ERR_INPUT, "%s:%u: run.%s: found %s, expected an integer in %lld..%lld",
                       cfgfile_file_of(s, origin), cfgfile_line_of(s), key, found, lo, hi);
    }
    *out = v;
    return 0;
}

static const char *const run_keys[] = {"arch",      "network",    "policy",  "replication",
                                       "placement", "inferences", "overlap", "trace",
                                       "seed",      "output",     "set"};

/* Read the `run` group of cfg into o where the command line left a setting unset. The strings
 * stay in cfg, which must outlive o. */
static int read_run_group(config_t *cfg, const char *origin, run_opts *o, err *e)
{
    config_setting_t *g = config_lookup(cfg, "run");
    if (!g)
        return 0;
    if (!config_setting_is_group(g))
        return err_set(e, ERR_INPUT, "%s:%u: run: found a non-group, expected a group { ... }",
                       origin, cfgfile_line_of(g));
    for (int i = 0; i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        bool known = false;
        for (size_t k = 0; k < sizeof run_keys / sizeof run_keys[0]; k++)
            known = known || strcmp(config_setting_name(s), run_keys[k]) == 0;
        if (!known) {
            char list[512];
            cfgfile_list_names(list, sizeof list, run_keys, sizeof run_keys / sizeof run_keys[0]);
            return err_set(
                e, ERR_INPUT, "%s:%u: run.%s: found an unknown setting, expected one of %s",
                cfgfile_file_of(s, origin), cfgfile_line_of(s), config_setting_name(s), list);
        }
    }
    ERR_TRY(run_string(g, "arch", origin, &o->arch, e));
    ERR_TRY(run_string(g, "network", origin, &o->net, e));
    ERR_TRY(run_string(g, "policy", origin, &o->policy, e));
    ERR_TRY(run_string(g, "replication", origin, &o->replication, e));
    ERR_TRY(run_string(g, "placement", origin, &o->placement, e));
    ERR_TRY(run_string(g, "trace", origin, &o->trace, e));
    ERR_TRY(run_string(g, "output", origin, &o->output, e));
    ERR_TRY(run_integer(g, "inferences", origin, 1, INT32_MAX, &o->inferences, e));
    ERR_TRY(run_integer(g, "seed", origin, 0, LLONG_MAX, &o->seed, e));
    config_setting_t *ov = config_setting_get_member(g, "overlap");
    if (ov && !o->overlap) {
        if (config_setting_type(ov) != CONFIG_TYPE_BOOL)
            return err_set(e, ERR_INPUT, "%s:%u: run.overlap: expected true or false", origin,
                           cfgfile_line_of(ov));
        o->overlap = config_setting_get_bool(ov) ? "on" : "off";
    }
    config_setting_t *sets = config_setting_get_member(g, "set");
    if (sets) {
        int n = config_setting_is_aggregate(sets) ? config_setting_length(sets) : -1;
        for (int i = 0; i < n; i++) {
            const char *v = config_setting_get_string_elem(sets, i);
            if (!v)
                n = -1;
            else if (o->n_sets < MAX_SETS)
                o->sets[o->n_sets++] = v;
        }
        if (n < 0)
            return err_set(e, ERR_INPUT,
                           "%s:%u: run.set: expected an array of \"PATH=VALUE\" strings", origin,
                           cfgfile_line_of(sets));
    }
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------- */

static int load_arch(run_ctx *r, const run_opts *o, config_t *cfg, err *e)
{
    char buf[1024];
    config_t own;
    const char *origin;
    if (o->arch) {
        origin = cli_resolve(o->arch, o->config, "arch", buf, sizeof buf);
        ERR_TRY(cfgfile_parse_file(origin, &own, e));
    } else if (cfg && config_lookup(cfg, "arch")) {
        origin = o->config;
        ERR_TRY(cfgfile_parse_file(origin, &own, e)); /* a tree of its own to override */
    } else {
        return err_set(e, ERR_INPUT,
                       "%s: no architecture: expected run.arch, an `arch` group or "
                       "--arch NAME|FILE",
                       o->config ? o->config : "(default config)");
    }
    for (unsigned i = 0; i < o->n_sets; i++)
        if (cfgfile_override(&own, o->sets[i], e) < 0) {
            config_destroy(&own);
            return ERR_INPUT;
        }
    return arch_load_config(&own, origin, &r->a, e);
}

/* Where the value `value` of option `key` came from, for messages: "FILE:LINE: run.KEY" when the
 * run group gave it (value is that setting's own string), else "--KEY" (the command line). */
static void value_where(const config_t *cfg, const char *origin, const char *key, const char *value,
                        char *buf, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "run.%s", key);
    const config_setting_t *s = cfg ? config_lookup(cfg, path) : NULL;
    if (s && config_setting_type(s) == CONFIG_TYPE_STRING && config_setting_get_string(s) == value)
        snprintf(buf, n, "%s:%u: run.%s", cfgfile_file_of(s, origin), cfgfile_line_of(s), key);
    else
        snprintf(buf, n, "--%s", key);
}

/* On error rc, prefix e with where option `key` came from. */
static int located(int rc, const config_t *cfg, const char *origin, const char *key,
                   const char *value, err *e)
{
    if (rc < 0) {
        char where[512];
        value_where(cfg, origin, key, value, where, sizeof where);
        err_prefix(e, "%s", where);
    }
    return rc;
}

static int load_inputs(run_ctx *r, run_opts *o, config_t *cfg, err *e)
{
    ERR_TRY(load_arch(r, o, cfg, e));
    char buf[1024];
    if (o->net)
        ERR_TRY(net_load_file(cli_resolve(o->net, o->config, "net", buf, sizeof buf), &r->n, e));
    else if (o->config && cfg && config_lookup(cfg, "network"))
        ERR_TRY(net_load_file(o->config, &r->n, e));
    else
        return err_set(e, ERR_INPUT,
                       "%s: no network: expected run.network, a `network` group "
                       "or --net NAME|FILE",
                       o->config ? o->config : "(default config)");
    char sbuf[1024];
    const char *origin = o->config ? o->config : "(default config)";
    ERR_TRY(located(policy_from_spec(cli_resolve_spec(o->policy, o->config, sbuf, sizeof sbuf),
                                     &r->n, &r->a, NULL, &r->pol, e),
                    cfg, origin, "policy", o->policy, e));
    ERR_TRY(located(
        replication_from_spec(cli_resolve_spec(o->replication, o->config, sbuf, sizeof sbuf), &r->n,
                              &r->copies, e),
        cfg, origin, "replication", o->replication, e));
    ERR_TRY(mapping_build(&r->n, &r->a, &r->pol, r->copies, r->placement, &r->m, e));
    model_evaluate(&r->n, &r->a, &r->m, &r->mo);
    emit_program(&r->n, &r->a, &r->m, &r->p);
    return 0;
}

/* The resolved configuration as text: every arch setting, the network, the per-layer policy
 * and copies, and the run options. */
static char *config_text(const run_ctx *r, const run_opts *o)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        mem_oom(0, "config text");
    fprintf(f, "# xbarsim run: the resolved configuration\n");
    arch_print(&r->a, f);
    fprintf(f, "network.origin = \"%s\"\nnetwork.name = \"%s\"\n", r->n.origin, r->n.name);
    fprintf(f, "run.inferences = %llu\nrun.overlap = %s\nrun.trace = \"%s\"\nrun.seed = %llu\n",
            (unsigned long long)r->inferences, r->overlap ? "true" : "false",
            trace_level_name(r->trace), (unsigned long long)r->seed);
    fprintf(f, "run.placement = \"%s\"\n", map_placement_name(r->placement));
    for (unsigned i = 0; i < o->n_sets; i++)
        fprintf(f, "# --set %s\n", o->sets[i]);
    fprintf(f, "# policy (layer,wb,ab,adc_bits)\n");
    policy_write_csv(&r->pol, &r->n, f);
    fprintf(f, "# copies (layer,copies)\n");
    replication_write_csv(r->copies, &r->n, f);
    fclose(f);
    return text;
}

/* ---- the simulation ----------------------------------------------------------------------- */

static void progress(const run_ctx *r, double started, bool *shown)
{
    if (wallclock_s() - started < 1.0)
        return;
    uint64_t total = (uint64_t)r->p.n * r->inferences;
    uint64_t done = exec_task_completions(r->x);
    int width = 40, fill = total ? (int)(40 * done / total) : width;
    fprintf(stderr, "\r[%.*s%*s] %3d%%  %llu/%llu inferences  %.1f s", fill,
            "########################################", width - fill, "",
            total ? (int)(100 * done / total) : 100, (unsigned long long)exec_inferences_done(r->x),
            (unsigned long long)r->inferences, wallclock_s() - started);
    *shown = true;
}

void run_simulate(run_ctx *r, bool bar)
{
    double started = wallclock_s();
    bool shown = false;
    bar = bar && r->p.n;
    exec_start(r->x);
    if (!bar) {
        sim_run(r->s);
    } else {
        simtime step = r->mo.latency_ps / 50 ? r->mo.latency_ps / 50 : 1;
        while (sim_run_until(r->s, sim_now(r->s) + step) == SIM_UNTIL)
            progress(r, started, &shown);
        if (shown) {
            progress(r, started, &shown);
            fputc('\n', stderr);
        }
    }
    r->wall_s = wallclock_s() - started;
    r->events = sim_events_handled(r->s);
    /* The last event's time: sim_run_until may have moved now past it. */
    r->makespan_ps = exec_makespan_ps(r->x);
    sim_finish(r->s);
}

void run_totals_compute(const run_ctx *r, run_totals *t)
{
    memset(t, 0, sizeof *t);
    uint64_t n = r->inferences;
    t->latency_ps = exec_latency0_ps(r->x);
    t->period_ps = exec_steady_period_ps(r->x, &t->window_first);
    t->throughput_per_s = t->period_ps > 0 ? 1e12 / t->period_ps : 0.0;

    double dyn[COST_E_COUNT];
    exec_dynamic_energy(r->x, dyn);
    for (int c = 0; c < COST_E_COUNT; c++)
        dyn[c] /= (double)n;
    t->usage = exec_usage(r->x);
    t->macs = r->mo.macs;
    memcpy(t->energy_single_pj, dyn, sizeof dyn);
    memcpy(t->energy_steady_pj, dyn, sizeof dyn);
    cost_static_energy(&r->a, &t->usage, (double)t->latency_ps, t->energy_single_pj);
    cost_static_energy(&r->a, &t->usage, t->period_ps, t->energy_steady_pj);
    t->energy_single_total_pj = cost_total(t->energy_single_pj);
    t->energy_steady_total_pj = cost_total(t->energy_steady_pj);

    t->tiles_used = exec_tiles_used(r->x);
    double denom = (double)t->tiles_used * (double)r->makespan_ps;
    t->utilisation = denom > 0 ? (double)exec_tile_busy_ps(r->x) / denom : 0.0;
    t->edp_pj_s = t->energy_single_total_pj * simtime_to_s(t->latency_ps);
}

/* ---- the printed summary ------------------------------------------------------------------ */

static double ratio(double sim_v, double model_v)
{
    return model_v != 0 ? sim_v / model_v : 0.0;
}

/* One energy definition, simulated beside the model: total, its TOPS/W, then every category
 * either of them charges. */
static void print_energy(const char *title, const double *sim_e, const double *mod_e, uint64_t macs)
{
    double st = cost_total(sim_e), mt = cost_total(mod_e);
    printf("%-34s %16.6g %16.6g %10.4f\n", title, st * 1e-6, mt * 1e-6, ratio(st, mt));
    printf("  %-32s %16.6g %16.6g %10.4f\n", "TOPS/W (2 ops per MAC)", model_tops_per_w(macs, st),
           model_tops_per_w(macs, mt),
           ratio(model_tops_per_w(macs, st), model_tops_per_w(macs, mt)));
    printf("  %-32s %16.6g %16.6g %10.4f\n", "pJ/MAC", model_pj_per_mac(macs, st),
           model_pj_per_mac(macs, mt), ratio(st, mt));
    for (int c = 0; c < COST_E_COUNT; c++)
        if (sim_e[c] != 0.0 || mod_e[c] != 0.0)
            printf("  %-32s %16.6g %16.6g %10.4f\n", cost_category_name((cost_category)c),
                   sim_e[c] * 1e-6, mod_e[c] * 1e-6, ratio(sim_e[c], mod_e[c]));
}

static void print_summary(const run_ctx *r, const run_totals *t)
{
    printf("# xbarsim run: %s on %s (%s), %llu inference%s, overlap %s\n", r->n.name, r->a.name,
           arch_mode_name(r->a.mode), (unsigned long long)r->inferences,
           r->inferences == 1 ? "" : "s", r->overlap ? "on" : "off");
    printf("%-20s %-9s %6s %14s %14s %14s %8s %14s\n", "layer", "kind", "copies", "start/us",
           "sim/us", "model/us", "ratio", "energy/uJ");
    for (unsigned i = 0; i < r->p.n; i++) {
        const exec_task_result *x = exec_task(r->x, i);
        const net_layer *nl = &r->n.layers[i];
        simtime sim_t = x->first_end_ps - x->first_start_ps, mod = r->mo.layers[i].time_ps;
        double e = 0;
        for (int c = 0; c < COST_E_COUNT; c++)
            e += x->energy_pj[c];
        printf("%-20s %-9s %6u %14.3f %14.3f %14.3f %8.4f %14.6g\n", nl->name,
               net_layer_kind_name(nl->kind),
               r->p.tasks[i].kind == PROG_CROSSBAR ? r->p.tasks[i].copies : 0,
               simtime_to_us(x->first_start_ps), simtime_to_us(sim_t), simtime_to_us(mod),
               mod ? (double)sim_t / (double)mod : 1.0, e * 1e-6);
    }
    printf("%-34s %16s %16s %10s\n", "network", "simulated", "model", "sim/model");
    printf("%-34s %16.3f %16.3f %10.4f\n", "latency of inference 0 (us)",
           simtime_to_us(t->latency_ps), simtime_to_us(r->mo.latency_ps),
           ratio((double)t->latency_ps, (double)r->mo.latency_ps));
    printf("%-34s %16.6g %16.6g %10.4f%s\n", "throughput (inferences/s)", t->throughput_per_s,
           r->mo.throughput_per_s, ratio(t->throughput_per_s, r->mo.throughput_per_s),
           r->inferences < 2 ? "  (1 inference: 1 / latency; steady state needs --inferences 2+)"
                             : "  (1 / steady-state period)");
    printf("%-34s %16.6g %16.6g %10.4f\n", "steady-state period (us)", t->period_ps * 1e-6,
           simtime_to_us(r->mo.bottleneck_ps), ratio(t->period_ps, (double)r->mo.bottleneck_ps));
    double area = cost_peak_eval(&r->a).area_mm2;
    double ops = 2.0 * (double)t->macs * t->throughput_per_s;
    double mops = 2.0 * (double)r->mo.macs * r->mo.throughput_per_s;
    printf("%-34s %16.6g %16.6g %10.4f\n", "op/s (2 x MACs x throughput)", ops, mops,
           ratio(ops, mops));
    if (area > 0)
        printf("%-34s %16.6g %16.6g %10.4f  (chip area %.6g mm2)\n", "TOPS/mm2", ops * 1e-12 / area,
               mops * 1e-12 / area, ratio(ops, mops), area);
    print_energy("single-inference energy (uJ)", t->energy_single_pj, r->mo.energy_single_pj,
                 t->macs);
    print_energy("steady-state energy (uJ)", t->energy_steady_pj, r->mo.energy_steady_pj, t->macs);
    printf("%-34s %16llu %16llu\n", "tiles used (of the chip's)", (unsigned long long)t->tiles_used,
           (unsigned long long)r->mo.tiles_used);
    printf("%-34s %16.4f %16.4f %10.4f\n", "utilisation (busy / tiles x time)", t->utilisation,
           r->mo.utilisation, ratio(t->utilisation, r->mo.utilisation));
    if (r->a.mode == ARCH_MODE_WEIGHT_STATIONARY)
        printf("%-34s %16s %16.6g  (once, before inference 0: every copy's cells written)\n",
               "programming energy (uJ)", "-", r->mo.programming_pj * 1e-6);
    double model_edp = r->mo.energy_single_total_pj * simtime_to_s(r->mo.latency_ps);
    printf("%-34s %16.6g %16.6g %10.4f\n", "EDP (uJ x us)", t->edp_pj_s * 1e0, model_edp * 1e0,
           ratio(t->edp_pj_s, model_edp));
    unsigned need = arch_adc_bits_needed(&r->a), short_layers = 0, fewest = need;
    for (unsigned i = 0; i < r->m.n; i++)
        if (r->m.layers[i].adc < need) {
            short_layers++;
            fewest = r->m.layers[i].adc < fewest ? r->m.layers[i].adc : fewest;
        }
    if (short_layers)
        printf("note: %u crossbar layer%s convert with as few as %u ADC bits where a full column "
               "sum needs %u: their outputs clip (accuracy, not modelled in time or energy)\n",
               short_layers, short_layers == 1 ? "" : "s", fewest, need);
    printf("chip: %u tiles; makespan %.3f us; %llu events in %.3f s\n", r->a.tiles.count,
           simtime_to_us(r->makespan_ps), (unsigned long long)r->events, r->wall_s);
}

/* ---- output file ---------------------------------------------------------------------------- */

static char temp_path[4096]; /* the output's temporary name, for the signal handler */

static void on_signal(int sig)
{
    if (temp_path[0])
        unlink(temp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Create the default output's folder when it is missing. */
static void ensure_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    mkdir(dir, 0777); /* an existing folder is fine; any other failure shows at create */
}

static void run_fini(run_ctx *r)
{
    exec_destroy(r->x);
    sim_destroy(r->s);
    program_fini(&r->p);
    model_fini(&r->mo);
    mapping_fini(&r->m);
    free(r->copies);
    policy_fini(&r->pol);
    net_fini(&r->n);
    arch_fini(&r->a);
    free(r->command_line);
    free(r->config_text);
}

int cmd_run(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
    run_opts o = {.inferences = -1, .seed = -1};
    if (parse_args(argc, argv, &o) < 0)
        return 2;

    err e;
    err_clear(&e);
    config_t cfg;
    const char *origin = o.config ? o.config : "(default config)";
    int rc = o.config
                 ? cfgfile_parse_file(o.config, &cfg, &e)
                 : cfgfile_parse(default_config, strlen(default_config), origin, NULL, &cfg, &e);
    if (rc < 0) {
        fprintf(stderr, "xbarsim run: %s\n", e.msg);
        return 2;
    }
    run_ctx r;
    memset(&r, 0, sizeof r);
    int status = 2;
    if (read_run_group(&cfg, origin, &o, &e) < 0)
        goto fail_input;
    if (!o.policy)
        o.policy = "uniform:8";
    if (!o.replication)
        o.replication = "none";
    if (!o.output)
        o.output = "traces/run.h5";
    r.inferences = o.inferences > 0 ? (uint64_t)o.inferences : 1;
    r.seed = o.seed >= 0 ? (uint64_t)o.seed : 1;
    r.trace = TRACE_LAYER;
    char where[512];
    if (o.trace && trace_level_parse(o.trace, &r.trace) < 0) {
        value_where(o.config ? &cfg : NULL, origin, "trace", o.trace, where, sizeof where);
        err_set(&e, ERR_INPUT, "%s: found '%s', expected none, layer or vector", where, o.trace);
        goto fail_input;
    }
    r.overlap = true;
    if (o.overlap && strcmp(o.overlap, "on") != 0 && strcmp(o.overlap, "off") != 0) {
        err_set(&e, ERR_INPUT, "overlap: found '%s', expected on or off", o.overlap);
        goto fail_input;
    }
    r.overlap = !o.overlap || strcmp(o.overlap, "on") == 0;
    r.placement = MAP_PLACE_GROUPS;
    if (o.placement && map_placement_parse(o.placement, &r.placement) < 0) {
        value_where(o.config ? &cfg : NULL, origin, "placement", o.placement, where, sizeof where);
        err_set(&e, ERR_INPUT, "%s: found '%s', expected groups or packed", where, o.placement);
        goto fail_input;
    }
    sim_options defaults;
    sim_options_default(&defaults);
    evq_kind queue = defaults.queue;
    if (o.queue && evq_kind_parse(o.queue, &queue) < 0) {
        err_set(&e, ERR_INPUT, "--queue: found '%s', expected heap2, heap4 or ladder", o.queue);
        goto fail_input;
    }
    r.config_path = o.config;
    if (load_inputs(&r, &o, o.config ? &cfg : NULL, &e) < 0)
        goto fail_input;
    r.command_line = cli_command_line(argc, argv);
    r.config_text = config_text(&r, &o);

    /* The output exists (under its temporary name) before the run, so a bad path fails fast. */
    if (strcmp(o.output, "traces/run.h5") == 0)
        ensure_parent(o.output);
    /* SIGINT and SIGTERM wait while the temporary is created and registered with the handler,
     * so a signal at any moment leaves nothing behind. */
    h5file *f;
    sigset_t block, saved;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &saved);
    if (h5file_create(o.output, &f, &e) < 0) {
        sigprocmask(SIG_SETMASK, &saved, NULL);
        fprintf(stderr, "xbarsim run: -o: %s\n", e.msg);
        status = 1;
        goto done;
    }
    snprintf(temp_path, sizeof temp_path, "%s", h5file_temp_path(f));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    sigprocmask(SIG_SETMASK, &saved, NULL);

    time_t now = time(NULL);
    strftime(r.start_time, sizeof r.start_time, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    trace_sink *sink = NULL;
    if (r.trace != TRACE_NONE &&
        !(sink = trace_h5_create(f, "/trace/events", r.trace, runout_kind_names, runout_kind_count,
                                 0, &e))) {
        fprintf(stderr, "xbarsim run: %s: %s\n", o.output, e.msg);
        h5file_abort(f);
        status = 1;
        goto done;
    }
    sim_options so;
    sim_options_default(&so);
    so.seed = r.seed;
    so.queue = queue;
    so.trace = sink;
    r.s = sim_create(&so);
    exec_options xo = {.inferences = r.inferences, .overlap = r.overlap};
    r.x = exec_create(r.s, &r.a, &r.p, &xo);
    run_simulate(&r, isatty(STDERR_FILENO));
    run_totals t;
    run_totals_compute(&r, &t);
    if (!o.quiet)
        print_summary(&r, &t);

    rc = trace_flush(sink, &e);
    trace_destroy(sink);
    if (rc == 0)
        rc = runout_write(f, &r, &t, &e);
    if (rc < 0) {
        fprintf(stderr, "xbarsim run: %s: %s\n", o.output, e.msg);
        h5file_abort(f);
        status = 1;
    } else if (h5file_commit(f, &e) < 0) {
        fprintf(stderr, "xbarsim run: %s: %s\n", o.output, e.msg);
        status = 1;
    } else {
        status = 0;
        if (!o.quiet)
            printf("wrote %s\n", o.output);
    }
    temp_path[0] = '\0';
    goto done;

fail_input:
    fprintf(stderr, "xbarsim run: %s\n", e.msg);
done:
    run_fini(&r);
    config_destroy(&cfg);
    return status;
}
