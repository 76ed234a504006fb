/* point: one study point, evaluated from its settings (see point.h). Everything a point builds is
 * local to point_eval and released before it returns; the only process-wide state it reads is the
 * data folder (cli_data_dir). Failures are the point's, reported in its result, never printed.
 */
#include "point.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accuracy.h"
#include "arch.h"
#include "cfgfile.h"
#include "cli.h"
#include "emit.h"
#include "mapping.h"
#include "mem.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "price.h"
#include "replicate.h"
#include "replication.h"
#include "run.h"
#include "search.h"

#define MAX_OVERRIDES 64 /* arch.* settings of one point, count */

/* ---- registries ----------------------------------------------------------------------------- */

static const char *const job_names[] = {
#define JOB_NAME(id, name, what) name,
    POINT_JOBS(JOB_NAME)
#undef JOB_NAME
};

static const struct {
    const char *name, *unit, *meaning;
    unsigned jobs;
} metrics[] = {
#define METRIC_ROW(id, name, unit, jobs, what) {name, unit, what, jobs},
    POINT_METRICS(METRIC_ROW)
#undef METRIC_ROW
};

typedef enum path_id {
#define PATH_ENUM(id, path, kind, what) PATH_##id,
    POINT_PATHS(PATH_ENUM)
#undef PATH_ENUM
        PATH_COUNT
} path_id;

static const struct {
    const char *path;
    char kind;
} paths[] = {
#define PATH_ROW(id, path, kind, what) {path, kind},
    POINT_PATHS(PATH_ROW)
#undef PATH_ROW
};

const char *point_job_name(point_job j)
{
    return (unsigned)j < POINT_JOB_COUNT ? job_names[j] : "?";
}

int point_job_parse(const char *name, point_job *out)
{
    for (unsigned j = 0; j < POINT_JOB_COUNT; j++)
        if (strcmp(name, job_names[j]) == 0) {
            *out = (point_job)j;
            return 0;
        }
    return -1;
}

const char *point_metric_name(point_metric m)
{
    return metrics[m].name;
}

const char *point_metric_unit(point_metric m)
{
    return metrics[m].unit;
}

const char *point_metric_meaning(point_metric m)
{
    return metrics[m].meaning;
}

int point_metric_parse(const char *name, point_metric *out)
{
    for (unsigned m = 0; m < POINT_METRIC_COUNT; m++)
        if (strcmp(name, metrics[m].name) == 0) {
            *out = (point_metric)m;
            return 0;
        }
    return -1;
}

bool point_metric_of(point_metric m, point_job j)
{
    return (metrics[m].jobs >> j) & 1u;
}

/* ---- settings ------------------------------------------------------------------------------- */

static int parse_unsigned(const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!*text || *text == '-')
        return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end || errno)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *text, bool *out)
{
    if (strcmp(text, "true") == 0 || strcmp(text, "on") == 0 || strcmp(text, "1") == 0)
        *out = true;
    else if (strcmp(text, "false") == 0 || strcmp(text, "off") == 0 || strcmp(text, "0") == 0)
        *out = false;
    else
        return -1;
    return 0;
}

static int parse_number(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int find_path(const char *path)
{
    for (int i = 0; i < PATH_COUNT; i++)
        if (strcmp(path, paths[i].path) == 0)
            return i;
    return -1;
}

int point_setting_check(const char *path, const char *text, err *e)
{
    if (strncmp(path, "arch.", 5) == 0)
        return 0;
    int id = find_path(path);
    if (id < 0) {
        char known[512] = "";
        for (int i = 0; i < PATH_COUNT; i++) {
            if (i)
                strncat(known, ", ", sizeof known - strlen(known) - 1);
            strncat(known, paths[i].path, sizeof known - strlen(known) - 1);
        }
        return err_set(e, ERR_INPUT,
                       "%s: unknown setting path, expected arch.GROUP.NAME or one of %s", path,
                       known);
    }
    unsigned long long u;
    bool b;
    double x;
    switch (paths[id].kind) {
    case 'u':
        if (parse_unsigned(text, &u) < 0)
            return err_set(e, ERR_INPUT, "%s: found '%s', expected a non-negative integer", path,
                           text);
        break;
    case 'b':
        if (parse_bool(text, &b) < 0)
            return err_set(e, ERR_INPUT, "%s: found '%s', expected true or false", path, text);
        break;
    case 'x':
        if (parse_number(text, &x) == 0 && x <= 0)
            return err_set(e, ERR_INPUT, "%s: found %s, expected a positive factor", path, text);
        break;
    default:
        if (!*text)
            return err_set(e, ERR_INPUT, "%s: found an empty string, expected a name", path);
        break;
    }
    return 0;
}

/* The settings of one point, resolved (last one of a path wins). */
typedef struct pset {
    const char *value[PATH_COUNT];          /* by path_id, NULL: unset */
    const point_setting *ov[MAX_OVERRIDES]; /* arch.* in order */
    unsigned n_ov;
    char policy_buf[32]; /* "uniform:B" from policy.uniform */
    char budget_buf[64]; /* "Fx" from a numeric budget */
} pset;

static int collect(pset *p, const point_setting *s, unsigned n, err *e)
{
    memset(p, 0, sizeof *p);
    for (unsigned i = 0; i < n; i++) {
        ERR_TRY(point_setting_check(s[i].path, s[i].text, e));
        if (strncmp(s[i].path, "arch.", 5) == 0) {
            if (p->n_ov == MAX_OVERRIDES)
                return err_set(e, ERR_INPUT, "more than %d arch.* settings", MAX_OVERRIDES);
            p->ov[p->n_ov++] = &s[i];
            continue;
        }
        int id = find_path(s[i].path);
        p->value[id] = s[i].text;
        if (id == PATH_POLICY_UNIFORM)
            p->value[PATH_POLICY] = NULL; /* the later of the two wins */
        if (id == PATH_POLICY)
            p->value[PATH_POLICY_UNIFORM] = NULL;
    }
    if (p->value[PATH_POLICY_UNIFORM]) {
        snprintf(p->policy_buf, sizeof p->policy_buf, "uniform:%s", p->value[PATH_POLICY_UNIFORM]);
        p->value[PATH_POLICY] = p->policy_buf;
    }
    double x;
    if (p->value[PATH_BUDGET] && parse_number(p->value[PATH_BUDGET], &x) == 0) {
        snprintf(p->budget_buf, sizeof p->budget_buf, "%.17gx", x);
        p->value[PATH_BUDGET] = p->budget_buf;
    }
    if (!p->value[PATH_ARCH])
        return err_set(e, ERR_INPUT, "arch: not set, expected a preset name or file");
    if (!p->value[PATH_NETWORK])
        return err_set(e, ERR_INPUT, "network: not set, expected a built-in name or file");
    return 0;
}

static const char *get(const pset *p, path_id id, const char *fallback)
{
    return p->value[id] ? p->value[id] : fallback;
}

static unsigned long long get_u(const pset *p, path_id id, unsigned long long fallback)
{
    unsigned long long v;
    return p->value[id] && parse_unsigned(p->value[id], &v) == 0 ? v : fallback;
}

/* ---- the inputs ------------------------------------------------------------------------------ */

/* Everything a point loads; released by inputs_fini whatever was loaded. */
typedef struct inputs {
    arch a;
    const network *net; /* the cache's, or own */
    network own;        /* when there is no cache */
    policy pol;
    unsigned *copies; /* per crossbar layer; NULL: one each (or auto_copies: not chosen yet) */
    bool auto_copies; /* replication.copies = "auto": chosen by auto_copies() */
    bool have_a, have_own, have_pol;
    mapping_placement placement;
} inputs;

/* What one worker keeps between its points: the last network file read and parsed, and the
 * text of the last architecture file (its tree is built again per point, to take the point's
 * overrides). Only ever used by one thread at a time. */
enum { RES_ARCH, RES_NET, RES_POLICY, RES_COPIES, RES_COUNT }; /* names resolved */

struct point_cache {
    char *name[RES_COUNT];     /* the last name resolved of each kind; NULL: none */
    char *resolved[RES_COUNT]; /* what it resolved to (file names do not change during a sweep) */
    char *net_path;            /* resolved path of the network held; NULL: none */
    acc_backend *acc;          /* the last accuracy backend made (it borrows net); NULL: none */
    char *acc_key;             /* what it was made from */
    network net;
    char *arch_path; /* resolved path of the arch text held; NULL: none */
    char *arch_text;
    size_t arch_len; /* bytes */
};

point_cache *point_cache_create(void)
{
    return mem_calloc(1, sizeof(point_cache), "point cache");
}

void point_cache_destroy(point_cache *c)
{
    if (!c)
        return;
    acc_destroy(c->acc);
    free(c->acc_key);
    if (c->net_path)
        network_fini(&c->net);
    for (int i = 0; i < RES_COUNT; i++) {
        free(c->name[i]);
        free(c->resolved[i]);
    }
    free(c->net_path);
    free(c->arch_path);
    free(c->arch_text);
    free(c);
}

/* name resolved as cli_resolve (kind "arch", "net") or cli_resolve_spec (kind NULL) does it,
 * remembered in slot `slot` of c (NULL: not remembered). The result lives in buf or in c. */
static const char *resolve(point_cache *c, int slot, const char *name, const char *here,
                           const char *kind, char *buf, size_t size)
{
    if (c && c->name[slot] && strcmp(c->name[slot], name) == 0)
        return c->resolved[slot];
    const char *r =
        kind ? cli_resolve(name, here, kind, buf, size) : cli_resolve_spec(name, here, buf, size);
    if (!c)
        return r;
    free(c->name[slot]);
    free(c->resolved[slot]);
    c->name[slot] = mem_strdup(name, "cached name");
    c->resolved[slot] = mem_strdup(r, "cached resolution");
    return c->resolved[slot];
}

/* The network at path: the cache's (loaded into it when it holds another), or loaded into own. */
static int load_network(inputs *in, const char *path, point_cache *c, err *e)
{
    if (!c) {
        ERR_TRY(network_load_file(path, &in->own, e));
        in->have_own = true;
        in->net = &in->own;
        return 0;
    }
    if (!c->net_path || strcmp(c->net_path, path) != 0) {
        acc_destroy(c->acc); /* it borrows the network */
        c->acc = NULL;
        free(c->acc_key);
        c->acc_key = NULL;
        if (c->net_path)
            network_fini(&c->net);
        free(c->net_path);
        c->net_path = NULL;
        ERR_TRY(network_load_file(path, &c->net, e));
        c->net_path = mem_strdup(path, "cached network path");
    }
    in->net = &c->net;
    return 0;
}

/* Parse the arch file at path into cfg, from the cache's copy of its text when it has one. */
static int parse_arch(const char *path, point_cache *c, config_t *cfg, err *e)
{
    if (!c)
        return cfgfile_parse_file(path, cfg, e);
    if (!c->arch_path || strcmp(c->arch_path, path) != 0) {
        size_t len;
        char *text = cfgfile_read_text(path, &len);
        if (!text)
            return err_set(e, ERR_IO, "%s: cannot read the file: %s", path, strerror(errno));
        free(c->arch_path);
        free(c->arch_text);
        c->arch_path = mem_strdup(path, "cached arch path");
        c->arch_text = text;
        c->arch_len = cfgfile_strip_comments(text, len); /* parsed once per point */
    }
    char incdir[1024];
    const char *slash = strrchr(path, '/');
    snprintf(incdir, sizeof incdir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    return cfgfile_parse(c->arch_text, c->arch_len, path, incdir, cfg, e);
}

static int load_arch(const pset *p, const char *dir, point_cache *c, arch *a, err *e)
{
    char buf[1024], here[1024];
    snprintf(here, sizeof here, "%s/.", dir ? dir : ".");
    const char *path = resolve(c, RES_ARCH, p->value[PATH_ARCH], here, "arch", buf, sizeof buf);
    config_t cfg;
    ERR_TRY(parse_arch(path, c, &cfg, e));
    char **sets = mem_calloc(p->n_ov + 1, sizeof *sets, "arch overrides");
    for (unsigned i = 0; i < p->n_ov; i++) { /* "PATH=VALUE"; a structured value may be long */
        size_t len = strlen(p->ov[i]->path) + strlen(p->ov[i]->text) + 2;
        sets[i] = mem_alloc(len, "arch override");
        snprintf(sets[i], len, "%s=%s", p->ov[i]->path, p->ov[i]->text);
    }
    int rc = cli_arch_from_config(&cfg, path, (const char *const *)sets, p->n_ov, a, e);
    for (unsigned i = 0; i < p->n_ov; i++)
        free(sets[i]);
    free(sets);
    return rc;
}

static int inputs_load(inputs *in, const pset *p, const char *dir, point_cache *c, err *e)
{
    memset(in, 0, sizeof *in);
    ERR_TRY(load_arch(p, dir, c, &in->a, e));
    in->have_a = true;
    char buf[1024], here[1024], sbuf[1024];
    snprintf(here, sizeof here, "%s/.", dir ? dir : ".");
    const char *net = resolve(c, RES_NET, p->value[PATH_NETWORK], here, "net", buf, sizeof buf);
    ERR_TRY(load_network(in, net, c, e));
    const char *spec =
        resolve(c, RES_POLICY, get(p, PATH_POLICY, "uniform:8"), here, NULL, sbuf, sizeof sbuf);
    ERR_TRY(policy_from_spec(spec, in->net, &in->a, NULL, &in->pol, e));
    in->have_pol = true;
    in->auto_copies = strcmp(get(p, PATH_COPIES, "none"), "auto") == 0;
    spec = resolve(c, RES_COPIES, get(p, PATH_COPIES, "none"), here, NULL, sbuf, sizeof sbuf);
    if (!in->auto_copies)
        ERR_TRY(replication_from_spec(spec, in->net, &in->copies, e));
    const char *place = get(p, PATH_PLACEMENT, "groups");
    if (mapping_placement_parse(place, &in->placement) < 0)
        return err_set(e, ERR_INPUT, "placement: found '%s', expected groups or packed", place);
    return 0;
}

static void inputs_fini(inputs *in)
{
    free(in->copies);
    if (in->have_pol)
        policy_fini(&in->pol);
    if (in->have_own)
        network_fini(&in->own);
    if (in->have_a)
        arch_fini(&in->a);
}

/* The accuracy backend the point's accuracy.* settings name: the cache's when it was made from
 * the same settings for the same network (the functional backend reads its weights and data
 * once), else a new one, cached or (without a cache) owned by the caller: *owned then says so. */
static int backend(const inputs *in, const pset *p, const char *dir, point_cache *c,
                   acc_backend **out, bool *owned, err *e)
{
    const char *name = get(p, PATH_ACC_BACKEND, "proxy");
    acc_kind kind;
    if (acc_kind_parse(name, &kind) < 0 || kind == ACC_BACKEND_EXTERNAL)
        return err_set(e, ERR_INPUT, "accuracy.backend: found '%s', expected proxy or functional",
                       name);
    char here[1024], wbuf[1024], dbuf[1024];
    snprintf(here, sizeof here, "%s/.", dir ? dir : ".");
    acc_config ac;
    memset(&ac, 0, sizeof ac);
    if (kind == ACC_BACKEND_FUNCTIONAL) {
        const char *w = p->value[PATH_ACC_WEIGHTS];
        if (!w)
            return err_set(e, ERR_INPUT,
                           "accuracy.weights: not set, expected the weights file of "
                           "the network (xbarsim train -o W.h5)");
        const char *d = p->value[PATH_ACC_DATA];
        ac.functional =
            (acc_functional_config){.net = in->net,
                                    .weights = cli_resolve_spec(w, here, wbuf, sizeof wbuf),
                                    .data = d ? cli_resolve_spec(d, here, dbuf, sizeof dbuf) : NULL,
                                    .holdout = (unsigned)get_u(p, PATH_ACC_HOLDOUT, 0),
                                    .finetune_epochs = (unsigned)get_u(p, PATH_ACC_FINETUNE, 0),
                                    .adc_mode = p->value[PATH_ACC_ADC_MODE],
                                    .seed = get_u(p, PATH_SEED, 1)};
    }
    char key[4096];
    snprintf(key, sizeof key, "%s|%s|%s|%u|%u|%s|%llu", name,
             ac.functional.weights ? ac.functional.weights : "",
             ac.functional.data ? ac.functional.data : "", ac.functional.holdout,
             ac.functional.finetune_epochs, ac.functional.adc_mode ? ac.functional.adc_mode : "",
             (unsigned long long)ac.functional.seed);
    *owned = !c;
    if (c && c->acc && strcmp(c->acc_key, key) == 0) {
        *out = c->acc;
        return 0;
    }
    ERR_TRY(acc_create(kind, &ac, out, e));
    if (c) {
        acc_destroy(c->acc);
        free(c->acc_key);
        c->acc = *out;
        c->acc_key = mem_strdup(key, "cached backend key");
    }
    return 0;
}

/* The accuracy of the point's policy by its backend, and whether it is an estimate. */
static int accuracy(const inputs *in, const pset *p, const char *dir, point_cache *c, double *m,
                    err *e)
{
    acc_backend *b;
    bool owned;
    ERR_TRY(backend(in, p, dir, c, &b, &owned, e));
    acc_result r;
    int rc = acc_evaluate(b, in->net, &in->pol, &in->a, &r, e);
    if (owned)
        acc_destroy(b);
    if (rc == 0) {
        m[POINT_METRIC_ACCURACY] = r.accuracy;
        m[POINT_METRIC_ACCURACY_ESTIMATE] = r.estimate ? 1.0 : 0.0;
    }
    return rc;
}

/* ---- jobs ----------------------------------------------------------------------------------- */

/* The energy and efficiency metrics of one inference (single and steady energies, pJ) on `chips`
 * chips. */
static void put_energy(const arch *a, unsigned chips, uint64_t macs, double throughput_per_s,
                       double single_pj, double steady_pj, double latency_us, double *m)
{
    double area = cost_peak_eval(a).area_mm2 * chips;
    m[POINT_METRIC_ENERGY] = steady_pj * 1e-6;
    m[POINT_METRIC_ENERGY_SINGLE] = single_pj * 1e-6;
    m[POINT_METRIC_ENERGY_STEADY] = steady_pj * 1e-6;
    m[POINT_METRIC_EDP] = single_pj * 1e-6 * latency_us * 1e-3;
    m[POINT_METRIC_AREA] = area;
    m[POINT_METRIC_TOPS_PER_W] = model_tops_per_w(macs, steady_pj);
    m[POINT_METRIC_TOPS_PER_MM2] =
        area > 0 ? 2.0 * (double)macs * throughput_per_s * 1e-12 / area : 0.0;
}

/* The network's figures of a priced point (the model's; run's traffic is the same). */
static void put_noc(const model *mo, double *m)
{
    m[POINT_METRIC_NOC_ENERGY] =
        (mo->energy_steady_pj[COST_E_NOC] + mo->energy_steady_pj[COST_E_STATIC_NOC]) * 1e-6;
    m[POINT_METRIC_BIT_HOPS] = (double)mo->noc_bit_hops;
    m[POINT_METRIC_NOC_SHARE] = mo->latency_ps ? (double)mo->noc_ps / (double)mo->latency_ps : 0.0;
    m[POINT_METRIC_CHIPS] = mo->chips;
    m[POINT_METRIC_INTERCHIP_ENERGY] =
        (mo->energy_steady_pj[COST_E_INTERCHIP] + mo->energy_steady_pj[COST_E_STATIC_INTERCHIP]) *
        1e-6;
    m[POINT_METRIC_OFFCHIP_ENERGY] =
        (mo->energy_steady_pj[COST_E_OFFCHIP] + mo->energy_steady_pj[COST_E_STATIC_OFFCHIP]) * 1e-6;
    m[POINT_METRIC_OFFCHIP_BITS] = (double)mo->offchip_bits;
}

static void put_model(const arch *a, const model *mo, double *m)
{
    double latency_us = simtime_to_us(mo->latency_ps);
    m[POINT_METRIC_LATENCY] = latency_us;
    m[POINT_METRIC_THROUGHPUT] = mo->throughput_per_s;
    put_energy(a, mo->chips, mo->macs, mo->throughput_per_s, mo->energy_single_total_pj,
               mo->energy_steady_total_pj, latency_us, m);
    m[POINT_METRIC_TILES] = (double)mo->tiles_used;
    m[POINT_METRIC_UTILISATION] = mo->utilisation;
    put_noc(mo, m);
}

/* replication.objective: latency or throughput (mix needs GLPK, which a sweep does not run). */
static int objective_of(const pset *p, replicate_objective *obj, double *alpha, err *e)
{
    const char *name = get(p, PATH_OBJECTIVE, "latency");
    if (replicate_objective_parse(name, obj, alpha) < 0 || *obj == REPLICATE_OBJ_MIX)
        return err_set(e, ERR_INPUT,
                       "replication.objective: found '%s', expected latency or throughput", name);
    return 0;
}

/* The copies `xbarsim replicate --objective O --budget B` chooses for the point
 * (replication.objective and replication.budget; the exact solver, the budget capped at the
 * chip's tiles, the point's placement and policy) into copies[n_xbar], with their layout and
 * price in *m and *mo (mapping_fini, model_fini) on 0. *prob, zeroed by the caller, is theirs to
 * replicate_problem_fini whatever the outcome; its budget is the one that fit. */
static int replicate_point(inputs *in, const pset *p, replicate_problem *prob, unsigned *copies,
                           mapping *m, model *mo, err *e)
{
    replicate_objective obj;
    double alpha;
    ERR_TRY(objective_of(p, &obj, &alpha, e));
    ERR_TRY(replicate_problem_from_model(in->net, &in->a, &in->pol, get(p, PATH_BUDGET, "1.0x"),
                                         obj, alpha, prob, e));
    if (prob->budget > arch_system_tiles(&in->a))
        prob->budget = arch_system_tiles(&in->a);
    return replicate_fit(in->net, &in->a, &in->pol, in->placement, prob, REPLICATE_SOLVER_EXACT,
                         copies, m, mo, e);
}

/* replication.copies = "auto": replicate_point's copies into in->copies, so that the map or run
 * job then evaluates exactly what `map --replication` (`run --replication`) of them gives. */
static int auto_copies(inputs *in, const pset *p, err *e)
{
    if (!in->auto_copies)
        return 0;
    replicate_problem prob = {0};
    in->copies = mem_calloc(in->net->n_xbar ? in->net->n_xbar : 1, sizeof *in->copies, "copies");
    mapping m;
    model mo;
    int rc = replicate_point(in, p, &prob, in->copies, &m, &mo, e);
    if (rc == 0) {
        model_fini(&mo);
        mapping_fini(&m);
    } else {
        err_prefix(e, "replication.copies = \"auto\" (budget %s, objective %s)",
                   get(p, PATH_BUDGET, "1.0x"), get(p, PATH_OBJECTIVE, "latency"));
    }
    replicate_problem_fini(&prob);
    return rc;
}

static int job_map(inputs *in, const pset *p, const char *dir, point_cache *c, double *m, err *e)
{
    mapping map;
    ERR_TRY(auto_copies(in, p, e));
    ERR_TRY(mapping_build(in->net, &in->a, &in->pol, in->copies, in->placement, &map, e));
    model mo;
    model_evaluate(in->net, &in->a, &map, &mo);
    put_model(&in->a, &mo, m);
    model_fini(&mo);
    mapping_fini(&map);
    return accuracy(in, p, dir, c, m, e);
}

static int job_run(inputs *in, const pset *p, const char *dir, point_cache *c, double *m, err *e)
{
    unsigned long long inferences = get_u(p, PATH_INFERENCES, 1);
    bool overlap = true;
    if (p->value[PATH_OVERLAP])
        parse_bool(p->value[PATH_OVERLAP], &overlap);
    if (inferences < 1 || inferences > 1000000)
        return err_set(e, ERR_INPUT, "run.inferences: found %llu, expected 1..1000000", inferences);
    run_ctx r;
    memset(&r, 0, sizeof r);
    r.inferences = inferences;
    r.overlap = overlap;
    r.a = in->a; /* shallow: the point's arch, still owned by in (never arch_fini'd here) */
    ERR_TRY(auto_copies(in, p, e));
    ERR_TRY(mapping_build(in->net, &in->a, &in->pol, in->copies, in->placement, &r.m, e));
    model_evaluate(in->net, &in->a, &r.m, &r.mo);
    emit_program(in->net, &in->a, &r.m, &r.p);
    sim_options so;
    sim_options_default(&so);
    so.seed = get_u(p, PATH_SEED, 1);
    r.s = sim_create(&so);
    exec_options xo = {.inferences = r.inferences, .overlap = r.overlap};
    r.x = exec_create(r.s, &in->a, &r.p, &xo);
    run_simulate(&r, false);
    run_totals t;
    run_totals_compute(&r, &t);
    double latency_us = simtime_to_us(t.latency_ps);
    m[POINT_METRIC_LATENCY] = latency_us;
    m[POINT_METRIC_THROUGHPUT] = t.throughput_per_s;
    put_energy(&in->a, r.mo.chips, t.macs, t.throughput_per_s, t.energy_single_total_pj,
               t.energy_steady_total_pj, latency_us, m);
    m[POINT_METRIC_TILES] = (double)t.tiles_used;
    m[POINT_METRIC_UTILISATION] = t.utilisation;
    m[POINT_METRIC_MODEL_LATENCY] = simtime_to_us(r.mo.latency_ps);
    m[POINT_METRIC_MODEL_THROUGHPUT] = r.mo.throughput_per_s;
    m[POINT_METRIC_MODEL_ENERGY] = r.mo.energy_steady_total_pj * 1e-6;
    put_noc(&r.mo, m);
    m[POINT_METRIC_EVENTS] = (double)r.events;
    exec_destroy(r.x);
    sim_destroy(r.s);
    program_fini(&r.p);
    model_fini(&r.mo);
    mapping_fini(&r.m);
    return accuracy(in, p, dir, c, m, e);
}

static int job_replicate(inputs *in, const pset *p, const char *dir, point_cache *c, double *m,
                         err *e)
{
    replicate_problem prob = {0};
    unsigned *copies = mem_calloc(in->net->n_xbar ? in->net->n_xbar : 1, sizeof *copies, "copies");
    mapping before_map, after_map;
    model before, after;
    int rc = replicate_point(in, p, &prob, copies, &after_map, &after, e);
    if (rc < 0)
        goto done;
    if ((rc = price_network(in->net, &in->a, &in->pol, NULL, in->placement, &before_map, &before,
                            e)) < 0) {
        model_fini(&after);
        mapping_fini(&after_map);
        goto done;
    }
    put_model(&in->a, &after, m);
    m[POINT_METRIC_LATENCY_GAIN] = (double)before.latency_ps / (double)after.latency_ps;
    m[POINT_METRIC_THROUGHPUT_GAIN] = (double)before.bottleneck_ps / (double)after.bottleneck_ps;
    m[POINT_METRIC_BUDGET_TILES] = (double)prob.budget;
    model_fini(&before);
    mapping_fini(&before_map);
    model_fini(&after);
    mapping_fini(&after_map);
    rc = accuracy(in, p, dir, c, m, e);
done:
    free(copies);
    replicate_problem_fini(&prob);
    return rc;
}

static int job_search(inputs *in, const pset *p, const char *dir, point_cache *c, double *m, err *e)
{
    env_mode mode;
    const char *mode_name = get(p, PATH_MODE, "lrmp");
    if (env_mode_parse(mode_name, &mode) < 0)
        return err_set(e, ERR_INPUT, "search.mode: found '%s', expected %s", mode_name,
                       env_mode_names().text);
    unsigned long long episodes = get_u(p, PATH_EPISODES, 100);
    if (episodes < 1 || episodes > 1000000)
        return err_set(e, ERR_INPUT, "search.episodes: found %llu, expected 1..1000000", episodes);
    env_config ec;
    env_config_default(&ec, mode, (unsigned)episodes);
    acc_backend *acc = NULL;
    bool owned = false;
    env *v = NULL;
    search_log log = {0};
    int rc;
    if ((rc = backend(in, p, dir, c, &acc, &owned, e)) < 0 ||
        (rc = env_create(in->net, &in->a, &ec, acc, &v, e)) < 0)
        goto done;
    search_options so;
    search_options_default(&so, v);
    so.episodes = (unsigned)episodes;
    so.seed = get_u(p, PATH_SEED, so.seed);
    so.ddpg.blas_threads = 0; /* the sweep sets OpenBLAS's threads once for the process */
    const char *agent = get(p, PATH_AGENT, "ddpg");
    if (search_agent_parse(agent, &so.agent) < 0) {
        rc = err_set(e, ERR_INPUT, "search.agent: found '%s', expected ddpg or random", agent);
        goto done;
    }
    if ((rc = search_run(v, &so, &log, NULL, NULL, e)) < 0)
        goto done;
    if (log.best < 0) {
        rc = err_set(e, ERR_INPUT, "no episode of the search succeeded");
        goto done;
    }
    const env_outcome *b = &log.ep[log.best].out;
    simtime bl, bb;
    double be;
    uint64_t bt;
    env_baseline(v, &bl, &bb, &be, &bt);
    m[POINT_METRIC_LATENCY] = simtime_to_us(b->latency_ps);
    m[POINT_METRIC_THROUGHPUT] = b->throughput_per_s;
    m[POINT_METRIC_ENERGY] = b->energy_pj * 1e-6;
    m[POINT_METRIC_TILES] = (double)b->tiles;
    m[POINT_METRIC_ACCURACY] = b->accuracy;
    m[POINT_METRIC_ACCURACY_ESTIMATE] = b->estimate ? 1.0 : 0.0;
    m[POINT_METRIC_LATENCY_GAIN] = (double)bl / (double)b->latency_ps;
    m[POINT_METRIC_THROUGHPUT_GAIN] = b->throughput_per_s * simtime_to_s(bb);
    m[POINT_METRIC_REWARD] = b->reward;
    m[POINT_METRIC_BEST_EPISODE] = (double)log.best;
done:
    search_log_fini(&log);
    env_destroy(v);
    if (owned)
        acc_destroy(acc);
    return rc;
}

/* ---- the point ------------------------------------------------------------------------------ */

static int eval(point_job job, const point_setting *s, unsigned n, const char *dir, point_cache *c,
                double *m, err *e)
{
    pset p;
    ERR_TRY(collect(&p, s, n, e));
    inputs in;
    int rc = inputs_load(&in, &p, dir, c, e);
    if (rc == 0) {
        m[POINT_METRIC_ADC_NEEDED] = arch_adc_bits_needed(&in.a);
        switch (job) {
        case POINT_JOB_MAP:
            rc = job_map(&in, &p, dir, c, m, e);
            break;
        case POINT_JOB_RUN:
            rc = job_run(&in, &p, dir, c, m, e);
            break;
        case POINT_JOB_REPLICATE:
            rc = job_replicate(&in, &p, dir, c, m, e);
            break;
        case POINT_JOB_SEARCH:
            rc = job_search(&in, &p, dir, c, m, e);
            break;
        default:
            rc = err_set(e, ERR_INPUT, "unknown job %d", (int)job);
            break;
        }
    }
    inputs_fini(&in);
    return rc;
}

void point_eval(point_job job, const point_setting *s, unsigned n, const char *dir,
                point_cache *cache, point_result *out)
{
    double started = wallclock_s();
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < POINT_METRIC_COUNT; i++)
        out->metric[i] = NAN;
    err e;
    err_clear(&e);
    out->ok = eval(job, s, n, dir, cache, out->metric, &e) == 0;
    if (!out->ok) {
        size_t len = strnlen(e.msg, sizeof out->message - 1);
        memcpy(out->message, e.msg, len); /* cut to the column's width */
        out->message[len] = '\0';
        for (unsigned i = 0; i < POINT_METRIC_COUNT; i++)
            out->metric[i] = NAN;
    }
    out->wall_s = wallclock_s() - started;
}
