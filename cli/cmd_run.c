/* cmd_run: the `xbarsim run` command -- options and run config, loading and mapping, the event
 * simulation (run.c), the printed summary (or JSON), and the HDF5 file written under a temporary
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
#include <unistd.h>

#include "cfgfile.h"
#include "chip.h"
#include "cli.h"
#include "emit.h"
#include "jsonw.h"
#include "noclink.h"
#include "mem.h"
#include "opt.h"
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
    const char *output;      /* .h5 path */
    int placement;           /* mapping_placement; -1: unset */
    int trace;               /* trace_level; -1: unset */
    int overlap;             /* 0 off, 1 on; -1: unset */
    int queue;               /* evq_kind; -1: the kernel's default */
    long long inferences;    /* -1: unset */
    long long seed;          /* -1: unset */
    bool quiet, json;
    const char *sets[MAX_SETS];
    unsigned n_sets;
} run_opts;

OPT_NAMES(trace_names, trace_level, TRACE_LEVEL_COUNT, trace_level_name)
OPT_NAMES(placement_names, mapping_placement, MAPPING_PLACE_COUNT, mapping_placement_name)
OPT_NAMES(queue_names, evq_kind, EVQ_KIND_COUNT, evq_kind_name)

static const opt_spec run_table[] = {
    OPT_STR("-o", "FILE.h5", run_opts, output,
            "output (default traces/run.h5; the folder is created); written\n"
            "as FILE.h5.tmp.PID and renamed when complete"),
    OPT_INT("--inferences", "N", run_opts, inferences, 1, INT32_MAX,
            "inferences streamed, all ready at time 0 (default 1)"),
    OPT_ENUM("--trace", trace_names, run_opts, trace,
             "none, layer (default: one record per layer copy and inference)\n"
             "or vector (also every tile, bus and vector-module request)"),
    OPT_ENUM("--overlap", opt_onoff_name, run_opts, overlap,
             "on (default): vectors pipeline through a copy's stages, layers\n"
             "pipeline across inferences (double-buffered), copies share their\n"
             "group's buses and vector module. off: the analytic model's\n"
             "schedule -- one inference, one layer, one vector per copy at a\n"
             "time, each copy with its own buses and vector module -- so every\n"
             "layer's time equals the model's T_l to the picosecond"),
    OPT_STR("--policy", "P", run_opts, policy,
            "uniform:B, uniform:W,A, a .csv or libconfig file (as for map)"),
    OPT_STR("--replication", "R", run_opts, replication,
            "NAME=K[,...], a .csv or libconfig file (as for map)"),
    OPT_ENUM("--placement", placement_names, run_opts, placement, "groups (default) or packed"),
    OPT_STR("--net", "NAME|FILE", run_opts, net,
            "network: a built-in name or a file (default: run.network, or\n"
            "CONFIG's own `network` group)"),
    OPT_STR("--arch", "NAME|FILE", run_opts, arch,
            "architecture: a preset name or a file (default: run.arch, or\n"
            "CONFIG's own `arch` group)"),
    OPT_LIST("--set", "PATH=VALUE", run_opts, sets, n_sets,
             "override one architecture setting, e.g. arch.tiles.adc.bits=6\n"
             "or arch.tiles.rows_active=18 (repeatable); VALUE may be a libconfig\n"
             "group, array or list, e.g. 'arch.tiles.adc.energy_pj={ kind =\n"
             "\"fom\"; fom = 0.0011; }', which replaces the setting whole"),
    OPT_INT("--seed", "S", run_opts, seed, 0, LLONG_MAX,
            "run seed (default 1; recorded, the model draws no random numbers)"),
    OPT_ENUM("--queue", queue_names, run_opts, queue,
             "the kernel's event queue (default ladder); changes the speed\n"
             "only, never a result (for benchmarks)"),
    OPT_FLAG("-q", run_opts, quiet, "no summary on stdout"),
    OPT_FLAG("--json", run_opts, json,
             "the summary as one JSON object (per layer and network totals,\n"
             "simulated beside the model, and the output file) instead of the\n"
             "tables"),
};

static const opt_command run_command = {
    .name = "run",
    .args = "CONFIG",
    .args_min = 0,
    .args_max = 1,
    .about = "Simulate N inferences of a mapped network on the chip, event by event: every input\n"
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
             "as presets in configs/arch/ and built-in networks in configs/net/.\n",
    .after = "Exit status: 0 done; 1 the output could not be written (nothing is left under its\n"
             "name); 2 bad input (the message names the file, line and setting) or bad usage.\n",
    .opts = run_table,
    .n_opts = OPT_COUNT(run_table),
};

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

/* A name from a list (trace level, placement); unset (-1) until the command line or the group
 * sets it; an error names file:line and the names expected. */
static int run_enum(config_setting_t *g, const char *key, const char *origin, opt_names_fn names,
                    int *out, err *e)
{
    const char *v = NULL;
    ERR_TRY(run_string(g, key, origin, &v, e));
    if (!v || *out >= 0)
        return 0;
    *out = opt_names_find(names, v);
    if (*out >= 0)
        return 0;
    config_setting_t *s = config_setting_get_member(g, key);
    char want[256];
    opt_names_text(names, ", ", " or ", want, sizeof want);
    return err_set(e, ERR_INPUT, "%s:%u: run.%s: found '%s', expected %s",
                   cfgfile_file_of(s, origin), cfgfile_line_of(s), key, v, want);
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
    ERR_TRY(run_enum(g, "placement", origin, placement_names, &o->placement, e));
    ERR_TRY(run_enum(g, "trace", origin, trace_names, &o->trace, e));
    ERR_TRY(run_string(g, "output", origin, &o->output, e));
    ERR_TRY(run_integer(g, "inferences", origin, 1, INT32_MAX, &o->inferences, e));
    ERR_TRY(run_integer(g, "seed", origin, 0, LLONG_MAX, &o->seed, e));
    config_setting_t *ov = config_setting_get_member(g, "overlap");
    if (ov && o->overlap < 0) {
        if (config_setting_type(ov) != CONFIG_TYPE_BOOL)
            return err_set(e, ERR_INPUT, "%s:%u: run.overlap: expected true or false", origin,
                           cfgfile_line_of(ov));
        o->overlap = config_setting_get_bool(ov) != 0;
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
    if (!o->arch && !(cfg && config_lookup(cfg, "arch")))
        return err_set(e, ERR_INPUT,
                       "%s: no architecture: expected run.arch, an `arch` group or "
                       "--arch NAME|FILE",
                       o->config ? o->config : "(default config)");
    /* CONFIG's own group is parsed again: a tree of its own to override */
    return cli_load_arch(o->arch, o->config, o->sets, o->n_sets, &r->a, e);
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
    else /* the option of run.network is --net */
        snprintf(buf, n, "--%s", strcmp(key, "network") == 0 ? "net" : key);
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
    const char *origin = o->config ? o->config : "(default config)";
    /* A name that resolves to no readable file is the fault of where it was given. */
    int rc = load_arch(r, o, cfg, e);
    ERR_TRY(o->arch && rc == ERR_IO ? located(rc, cfg, origin, "arch", o->arch, e) : rc);
    if (o->net || (o->config && cfg && config_lookup(cfg, "network"))) {
        rc = cli_load_net(o->net, o->config, &r->n, e);
        ERR_TRY(o->net && rc == ERR_IO ? located(rc, cfg, origin, "network", o->net, e) : rc);
    } else {
        return err_set(e, ERR_INPUT,
                       "%s: no network: expected run.network, a `network` group "
                       "or --net NAME|FILE",
                       o->config ? o->config : "(default config)");
    }
    char sbuf[1024];
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
    fprintf(f, "run.placement = \"%s\"\n", mapping_placement_name(r->placement));
    for (unsigned i = 0; i < o->n_sets; i++)
        fprintf(f, "# --set %s\n", o->sets[i]);
    fprintf(f, "# policy (layer,wb,ab,adc_bits)\n");
    policy_write_csv(&r->pol, &r->n, f);
    fprintf(f, "# copies (layer,copies)\n");
    replication_write_csv(r->copies, &r->n, f);
    fclose(f);
    return text;
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

/* The links: the model's share of latency and bit-hops on chip and between chips, the off-chip
 * link's, and how long transfers waited for busy links in the simulation (every link part's
 * waits; 0 with overlap off, where each copy has a private stand-in). */
static void print_noc(const run_ctx *r)
{
    double wait_ps = 0.0, busiest = 0.0;
    unsigned links = 0, waited = 0;
    part_account acc;
    for (uint32_t id = 0; id < sim_component_count(r->s); id++) {
        component *c = sim_component(r->s, id);
        if (c->ops != &noclink_ops || !chip_component_account(c, &acc))
            continue;
        links++;
        waited += acc.res->wait_total_ps > 0;
        wait_ps += (double)acc.res->wait_total_ps;
        if ((double)acc.res->wait_max_ps > busiest)
            busiest = (double)acc.res->wait_max_ps;
    }
    if (r->a.noc.topology != ARCH_NOC_NONE || r->mo.chips > 1)
        printf(
            "%-34s %16s %16.6g  (%.2f%% of the latency; %llu bit-hops per inference on chip, %llu "
            "between chips)\n",
            "network time (us, model)", "-", simtime_to_us(r->mo.noc_ps),
            r->mo.latency_ps ? 100.0 * (double)r->mo.noc_ps / (double)r->mo.latency_ps : 0.0,
            (unsigned long long)r->mo.noc_bit_hops, (unsigned long long)r->mo.interchip_bit_hops);
    if (r->a.offchip.present)
        printf("%-34s %16s %16.6g  (%.2f%% of the latency; %llu bits per inference, %llu bytes of "
               "buffer spill)\n",
               "off-chip time (us, model)", "-", simtime_to_us(r->mo.io_ps),
               r->mo.latency_ps ? 100.0 * (double)r->mo.io_ps / (double)r->mo.latency_ps : 0.0,
               (unsigned long long)r->mo.offchip_bits, (unsigned long long)r->mo.spill_bytes);
    printf("%-34s %16.6g %16s  (%u of %u links made a transfer wait; longest wait %.6g us)\n",
           "link waits (us, all inferences)", wait_ps * 1e-6, "-", waited, links, busiest * 1e-6);
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
        const network_layer *nl = &r->n.layers[i];
        simtime sim_t = x->first_end_ps - x->first_start_ps, mod = r->mo.layers[i].time_ps;
        double e = 0;
        for (int c = 0; c < COST_E_COUNT; c++)
            e += x->energy_pj[c];
        printf("%-20s %-9s %6u %14.3f %14.3f %14.3f %8.4f %14.6g\n", nl->name,
               network_layer_kind_name(nl->kind),
               r->p.tasks[i].kind == PROGRAM_CROSSBAR ? r->p.tasks[i].copies : 0,
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
    printf("%-34s %16llu %16llu\n", "tiles used (of the system's)",
           (unsigned long long)t->tiles_used, (unsigned long long)r->mo.tiles_used);
    printf("%-34s %16.4f %16.4f %10.4f\n", "utilisation (busy / tiles x time)", t->utilisation,
           r->mo.utilisation, ratio(t->utilisation, r->mo.utilisation));
    if (r->a.noc.topology != ARCH_NOC_NONE || r->mo.chips > 1 || r->a.offchip.present)
        print_noc(r);
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
    printf("chip: %u tiles", r->a.tiles.count);
    if (r->a.chips > 1)
        printf(" x %u chips used of %u", r->mo.chips, r->a.chips);
    printf("; makespan %.3f us; %llu events in %.3f s\n", simtime_to_us(r->makespan_ps),
           (unsigned long long)r->events, r->wall_s);
}

/* Energies by category and their total, pJ. */
static void json_energy(jsonw *w, const char *key, const double *pj)
{
    jsonw_object(w, key);
    for (int c = 0; c < COST_E_COUNT; c++)
        jsonw_num(w, cost_category_name((cost_category)c), pj[c]);
    jsonw_num(w, "total", cost_total(pj));
    jsonw_close(w);
}

static void print_json(const run_ctx *r, const run_totals *t, const char *output)
{
    jsonw w;
    jsonw_begin(&w, stdout);
    jsonw_object(&w, NULL);
    jsonw_str(&w, "network", r->n.name);
    jsonw_str(&w, "arch", r->a.name);
    jsonw_str(&w, "mode", arch_mode_name(r->a.mode));
    jsonw_u64(&w, "inferences", r->inferences);
    jsonw_bool(&w, "overlap", r->overlap);
    jsonw_array(&w, "layers");
    for (unsigned i = 0; i < r->p.n; i++) {
        const exec_task_result *x = exec_task(r->x, i);
        jsonw_object(&w, NULL);
        jsonw_str(&w, "name", r->n.layers[i].name);
        jsonw_str(&w, "kind", network_layer_kind_name(r->n.layers[i].kind));
        jsonw_u64(&w, "copies", r->p.tasks[i].kind == PROGRAM_CROSSBAR ? r->p.tasks[i].copies : 0);
        jsonw_u64(&w, "start_ps", x->first_start_ps);
        jsonw_u64(&w, "time_ps", x->first_end_ps - x->first_start_ps);
        jsonw_u64(&w, "model_time_ps", r->mo.layers[i].time_ps);
        json_energy(&w, "energy_pj", x->energy_pj);
        jsonw_close(&w);
    }
    jsonw_close(&w);
    jsonw_object(&w, "simulated");
    jsonw_u64(&w, "latency_ps", t->latency_ps);
    jsonw_num(&w, "period_ps", t->period_ps);
    jsonw_num(&w, "throughput_per_s", t->throughput_per_s);
    json_energy(&w, "energy_single_pj", t->energy_single_pj);
    json_energy(&w, "energy_steady_pj", t->energy_steady_pj);
    jsonw_u64(&w, "tiles_used", t->tiles_used);
    jsonw_num(&w, "utilisation", t->utilisation);
    jsonw_num(&w, "edp_pj_s", t->edp_pj_s);
    jsonw_close(&w);
    jsonw_object(&w, "model");
    jsonw_u64(&w, "latency_ps", r->mo.latency_ps);
    jsonw_u64(&w, "period_ps", r->mo.bottleneck_ps);
    jsonw_num(&w, "throughput_per_s", r->mo.throughput_per_s);
    json_energy(&w, "energy_single_pj", r->mo.energy_single_pj);
    json_energy(&w, "energy_steady_pj", r->mo.energy_steady_pj);
    jsonw_u64(&w, "tiles_used", r->mo.tiles_used);
    jsonw_num(&w, "utilisation", r->mo.utilisation);
    jsonw_num(&w, "programming_pj", r->mo.programming_pj);
    jsonw_close(&w);
    jsonw_u64(&w, "macs", t->macs);
    jsonw_u64(&w, "chip_tiles", r->a.tiles.count);
    jsonw_u64(&w, "makespan_ps", r->makespan_ps);
    jsonw_u64(&w, "events", r->events);
    jsonw_num(&w, "wall_s", r->wall_s);
    jsonw_str(&w, "output", output);
    jsonw_close(&w);
    jsonw_end(&w);
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
    network_fini(&r->n);
    arch_fini(&r->a);
    free(r->command_line);
    free(r->config_text);
}

int cmd_run(int argc, char **argv)
{
    run_opts o = {
        .inferences = -1, .seed = -1, .placement = -1, .trace = -1, .overlap = -1, .queue = -1};
    int rc = opt_parse_arg(&run_command, argc, argv, &o, &o.config);
    if (rc != OPT_GO)
        return rc;

    err e;
    err_clear(&e);
    config_t cfg;
    const char *origin = o.config ? o.config : "(default config)";
    rc = o.config ? cfgfile_parse_file(o.config, &cfg, &e)
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
    r.trace = o.trace >= 0 ? (trace_level)o.trace : TRACE_LAYER;
    r.overlap = o.overlap != 0;
    r.placement = o.placement >= 0 ? (mapping_placement)o.placement : MAPPING_PLACE_GROUPS;
    sim_options defaults;
    sim_options_default(&defaults);
    evq_kind queue = o.queue >= 0 ? (evq_kind)o.queue : defaults.queue;
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

    cli_utc_time(r.start_time, sizeof r.start_time);
    trace_sink *sink = NULL;
    if (r.trace != TRACE_NONE &&
        !(sink = trace_h5_create(f, "/trace/events", r.trace, runout_kind_names, runout_kind_count,
                                 0, true, &e))) {
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
    if (!o.quiet && !o.json)
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
        if (!o.quiet && o.json)
            print_json(&r, &t, o.output);
        else if (!o.quiet)
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
