/* cmd_search: the `xbarsim search` command -- a mixed-precision search (HAQ, CIM-AQ, LRMP or
 * Huang mode) with the DDPG agent or uniform random actions, its summary against the all-8-bit
 * baseline, its HDF5 file (/meta, /search; schema in traces/README.md), and the best policy and
 * copies as files that `map`, `replicate` and `run` accept. Exit status as every command: 0 done,
 * 1 failed while working, 2 bad input or usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include "accuracy.h"
#include "cli.h"
#include "h5file.h"
#include "mem.h"
#include "replication.h"
#include "search.h"

#define NAME_BYTES 128

typedef struct opts {
    const char *config, *net, *out, *accuracy, *command, *objective, *budget_kind, *agent;
    const char *tile_budget, *weights, *data, *adc_mode;
    long long holdout, finetune_epochs, finetune_images;
    env_mode mode;
    bool have_mode;
    long long episodes, seed, warmup, hidden, min_bits, max_bits, adc_min, adc_max,
        checkpoint_every, threads;
    double budget, timeout_s, budget_start, budget_end, reference;
    int fix_ends, cell_aligned; /* -1: the mode's default */
    bool resume, stop_on_failure, quiet;
} opts;

static void usage(void)
{
    printf(
        "usage: xbarsim search CONFIG --mode lrmp|cimaq|haq|huang [--net NAME|FILE]\n"
        "                      [--episodes N] [--accuracy proxy|external|functional]\n"
        "                      [--objective latency|throughput] [--seed S] [-o FILE.h5]\n"
        "                      [--resume] [options]\n\n"
        "Search each crossbar layer's weight and activation bits (and in huang mode its ADC\n"
        "bits) with HAQ's DDPG agent: per layer a weight decision then an activation decision,\n"
        "each action in [0, 1] rounded to bits; at the end of an episode the policy is fitted\n"
        "to the mode's budget, priced by the analytic model, scored by the accuracy backend\n"
        "and rewarded (formulas: search/agent/env.c). CONFIG is an architecture file (as for\n"
        "map); the network is --net or CONFIG's `network` group.\n\n"
        "modes:\n"
        "  lrmp    latency budget tightening from 0.35x to 0.2x of the 8-bit network's over the\n"
        "          episodes; LRMP's replication (exact) spends a tile budget (default 1.0x: the\n"
        "          8-bit network's tiles) on copies; reward lambda (acc - ref) + alpha log2 "
        "speed-up\n"
        "  cimaq   CIM-AQ's accuracy-target reward on the latency ratio; first and last layers\n"
        "          8/8 and weight bits whole cells by default\n"
        "  haq     a budget on latency, energy or tiles (--budget-kind, --budget F x 8-bit)\n"
        "          enforced by lowering bits; reward 0.1 x accuracy change (points)\n"
        "  huang   adds ADC bits 1..9 per layer; reward -loss - bit cost (threshold on the "
        "loss)\n\n"
        "  --episodes N         episodes (default 600)\n"
        "  --agent ddpg|random  the DDPG agent (default) or uniform random actions, the baseline\n"
        "                       a learned search must beat\n"
        "  --accuracy B         proxy (default: a deterministic estimate from quantisation noise;\n"
        "                       every output says it is an estimate), external (--command CMD:\n"
        "                       runs CMD with the policy in $XBARSIM_POLICY_CSV / _JSON and\n"
        "                       reads the accuracy from $XBARSIM_RESULT_JSON or its last stdout\n"
        "                       line), functional (--weights FILE.h5: the quantised network\n"
        "                       through the bit-accurate crossbar of CONFIG on Fashion-MNIST\n"
        "                       images held out from the training set; MLP, LeNet,\n"
        "                       ResNet-8 and MobileNet class: residual adds, depthwise\n"
        "                       convs, batch norm folded; CONFIG's arch.tiles.device acts)\n"
        "  --timeout S          external command's time limit, s (default 600)\n"
        "  --weights FILE.h5    functional: the float weights (xbarsim train -o); train them with\n"
        "                       --train-images 55000 so that the hold-out below is unseen\n"
        "  --data DIR           functional: Fashion-MNIST IDX files (default\n"
        "                       /usr/share/datasets/fashion-mnist)\n"
        "  --holdout N          functional: evaluate on the last N training images (default\n"
        "                       5000); the test set is never used by the search\n"
        "  --finetune-epochs E  functional: QAT epochs of a copy of the weights before each\n"
        "                       evaluation (default 0; HAQ uses 1)\n"
        "  --finetune-images N  functional: QAT on the first N training images (default: all\n"
        "                       before the hold-out)\n"
        "  --adc-mode M         functional: saturate (default, Huang et al.), drop_lsb, ideal\n"
        "  --reference F        external: the reference accuracy, fraction (else the command\n"
        "                       must report it as \"reference\" in its result JSON)\n"
        "  --stop-on-failure    a failed accuracy evaluation ends the search (default: it is\n"
        "                       logged and the search goes on)\n"
        "  --objective O        lrmp: latency (default) or throughput (slowest layer)\n"
        "  --tile-budget B      lrmp: replication budget, TILES, FACTORx or chip (default 1.0x)\n"
        "  --budget F           haq: budget as a fraction of the 8-bit figure (default 0.5);\n"
        "                       lrmp: the final latency budget (default 0.2)\n"
        "  --budget-start F     lrmp: the first episode's latency budget (default 0.35)\n"
        "  --budget-kind K      haq: latency (default), energy or tiles\n"
        "  --min-bits B, --max-bits B   weight and activation bits (default 2..8)\n"
        "  --adc-min B, --adc-max B     huang: ADC bits (default 1..9)\n"
        "  --fix-ends on|off    first and last crossbar layers at 8/8 (default: on for cimaq)\n"
        "  --cell-aligned on|off   weight bits whole cells (default: on for cimaq)\n"
        "  --warmup N           random warm-up episodes (default 20); --hidden H: hidden width\n"
        "                       of both nets (default 300)\n"
        "  --seed S             the agent's seed (default 1); same seed and --threads, same\n"
        "                       search, bit for bit\n"
        "  --threads N          OpenBLAS threads of the agent's updates and OpenMP threads of\n"
        "                       the functional backend (default 1)\n"
        "  -o FILE.h5           output (default traces/search.h5); the best policy and copies\n"
        "                       go to FILE.policy.csv and FILE.replication.csv, the checkpoint\n"
        "                       to FILE.ckpt (every 25 episodes; --checkpoint-every N)\n"
        "  --resume             continue from FILE.ckpt (an error when there is none); ends\n"
        "                       where an uninterrupted search would. A search that fails\n"
        "                       midway writes nothing under -o's names; its checkpoint stays\n"
        "  -q                   no summary\n");
}

static int parse_onoff(const char *opt, const char *s, int *out)
{
    if (strcmp(s, "on") != 0 && strcmp(s, "off") != 0) {
        fprintf(stderr, "xbarsim search: %s: found '%s', expected on or off\n", opt, s);
        return -1;
    }
    *out = strcmp(s, "on") == 0;
    return 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    static const char *const repeatable[] = {"--set", NULL};
    if (cli_check_repeats("search", argc, argv, repeatable) < 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--resume") == 0) {
            o->resume = true;
            continue;
        }
        if (strcmp(a, "--stop-on-failure") == 0) {
            o->stop_on_failure = true;
            continue;
        }
        if (strcmp(a, "-q") == 0) {
            o->quiet = true;
            continue;
        }
        if (a[0] != '-') {
            if (o->config) {
                fprintf(stderr, "xbarsim search: unexpected argument '%s' (see --help)\n", a);
                return -1;
            }
            o->config = a;
            continue;
        }
        if (!v) {
            fprintf(stderr, "xbarsim search: unknown or incomplete option '%s' (see --help)\n", a);
            return -1;
        }
        i++;
        int rc = 0;
        if (strcmp(a, "--mode") == 0) {
            if (env_mode_parse(v, &o->mode) < 0) {
                fprintf(stderr, "xbarsim search: --mode: found '%s', expected %s\n", v,
                        env_mode_names().text);
                return -1;
            }
            o->have_mode = true;
        } else if (strcmp(a, "--net") == 0)
            o->net = v;
        else if (strcmp(a, "-o") == 0)
            o->out = v;
        else if (strcmp(a, "--accuracy") == 0)
            o->accuracy = v;
        else if (strcmp(a, "--command") == 0)
            o->command = v;
        else if (strcmp(a, "--objective") == 0)
            o->objective = v;
        else if (strcmp(a, "--budget-kind") == 0)
            o->budget_kind = v;
        else if (strcmp(a, "--agent") == 0)
            o->agent = v;
        else if (strcmp(a, "--tile-budget") == 0)
            o->tile_budget = v;
        else if (strcmp(a, "--weights") == 0)
            o->weights = v;
        else if (strcmp(a, "--data") == 0)
            o->data = v;
        else if (strcmp(a, "--adc-mode") == 0)
            o->adc_mode = v;
        else if (strcmp(a, "--holdout") == 0)
            rc = cli_parse_ll("search", a, v, 1, 10000000, &o->holdout);
        else if (strcmp(a, "--finetune-epochs") == 0)
            rc = cli_parse_ll("search", a, v, 0, 1000, &o->finetune_epochs);
        else if (strcmp(a, "--finetune-images") == 0)
            rc = cli_parse_ll("search", a, v, 1, 100000000, &o->finetune_images);
        else if (strcmp(a, "--episodes") == 0)
            rc = cli_parse_ll("search", a, v, 1, 10000000, &o->episodes);
        else if (strcmp(a, "--seed") == 0)
            rc = cli_parse_ll("search", a, v, 0, LLONG_MAX, &o->seed);
        else if (strcmp(a, "--warmup") == 0)
            rc = cli_parse_ll("search", a, v, 0, 10000000, &o->warmup);
        else if (strcmp(a, "--hidden") == 0)
            rc = cli_parse_ll("search", a, v, 1, 4096, &o->hidden);
        else if (strcmp(a, "--min-bits") == 0)
            rc = cli_parse_ll("search", a, v, 1, POLICY_MAX_BITS, &o->min_bits);
        else if (strcmp(a, "--max-bits") == 0)
            rc = cli_parse_ll("search", a, v, 1, POLICY_MAX_BITS, &o->max_bits);
        else if (strcmp(a, "--threads") == 0)
            rc = cli_parse_ll("search", a, v, 1, 256, &o->threads);
        else if (strcmp(a, "--adc-min") == 0)
            rc = cli_parse_ll("search", a, v, 1, 16, &o->adc_min);
        else if (strcmp(a, "--adc-max") == 0)
            rc = cli_parse_ll("search", a, v, 1, 16, &o->adc_max);
        else if (strcmp(a, "--checkpoint-every") == 0)
            rc = cli_parse_ll("search", a, v, 0, 10000000, &o->checkpoint_every);
        else if (strcmp(a, "--budget") == 0)
            rc = cli_parse_real("search", a, v, 1e-6, 1e6, &o->budget);
        else if (strcmp(a, "--budget-start") == 0)
            rc = cli_parse_real("search", a, v, 1e-6, 1e6, &o->budget_start);
        else if (strcmp(a, "--reference") == 0)
            rc = cli_parse_real("search", a, v, 1e-9, 1.0, &o->reference);
        else if (strcmp(a, "--timeout") == 0)
            rc = cli_parse_real("search", a, v, 0.001, 1e7, &o->timeout_s);
        else if (strcmp(a, "--fix-ends") == 0)
            rc = parse_onoff(a, v, &o->fix_ends);
        else if (strcmp(a, "--cell-aligned") == 0)
            rc = parse_onoff(a, v, &o->cell_aligned);
        else {
            fprintf(stderr, "xbarsim search: unknown option '%s' (see --help)\n", a);
            return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (!o->config || !o->have_mode) {
        fprintf(stderr, "xbarsim search: expected CONFIG and --mode (see --help)\n");
        return -1;
    }
    return 0;
}

/* ---- settings ----------------------------------------------------------------------------- */

static int make_env_config(const opts *o, unsigned episodes, env_config *c, err *e)
{
    env_config_default(c, o->mode, episodes);
    if (o->min_bits > 0)
        c->min_bits = (unsigned)o->min_bits;
    if (o->max_bits > 0)
        c->max_bits = (unsigned)o->max_bits;
    if (o->adc_min > 0)
        c->adc_min = (unsigned)o->adc_min;
    if (o->adc_max > 0)
        c->adc_max = (unsigned)o->adc_max;
    if (o->fix_ends >= 0)
        c->fix_ends = o->fix_ends;
    if (o->cell_aligned >= 0)
        c->cell_aligned = o->cell_aligned;
    if (o->tile_budget)
        c->tile_budget = o->tile_budget;
    if (o->objective) {
        double alpha;
        if (replicate_objective_parse(o->objective, &c->objective, &alpha) < 0 ||
            c->objective == REPLICATE_OBJ_MIX)
            return err_set(e, ERR_INPUT, "--objective: found '%s', expected latency or throughput",
                           o->objective);
    }
    if (o->budget_kind && env_budget_parse(o->budget_kind, &c->budget_kind) < 0)
        return err_set(e, ERR_INPUT, "--budget-kind: found '%s', expected latency, energy or tiles",
                       o->budget_kind);
    if (o->budget > 0)
        env_config_set_budget(c, o->budget);
    if (o->budget_start > 0)
        c->budget_start = o->budget_start;
    return 0;
}

static int make_backend(const opts *o, const network *n, acc_backend **out, err *e)
{
    const char *name = o->accuracy ? o->accuracy : "proxy";
    acc_kind k;
    if (acc_kind_parse(name, &k) < 0)
        return err_set(e, ERR_INPUT, "--accuracy: found '%s', expected %s", name,
                       acc_kind_names().text);
    acc_config c;
    memset(&c, 0, sizeof c);
    c.external.command = o->command;
    c.external.timeout_s = o->timeout_s > 0 ? o->timeout_s : 600.0;
    c.external.reference = o->reference;
    if (k == ACC_BACKEND_EXTERNAL && !o->command)
        return err_set(e, ERR_INPUT, "--accuracy external: expected --command CMD");
    if (k == ACC_BACKEND_FUNCTIONAL && !o->weights)
        return err_set(e, ERR_INPUT,
                       "--accuracy functional: expected --weights FILE.h5 (the float weights of "
                       "%s, e.g. from xbarsim train --net %s -o FILE.h5)",
                       n->name, n->name);
    c.functional = (acc_functional_config){.net = n,
                                           .weights = o->weights,
                                           .data = o->data,
                                           .holdout = (unsigned)o->holdout,
                                           .finetune_epochs = (unsigned)o->finetune_epochs,
                                           .finetune_images = (unsigned)o->finetune_images,
                                           .adc_mode = o->adc_mode,
                                           .seed = o->seed >= 0 ? (uint64_t)o->seed : 1};
    return acc_create(k, &c, out, e);
}

/* ---- progress ------------------------------------------------------------------------------- */

typedef struct progress_ctx {
    double started;
    bool tty, shown;
} progress_ctx;

static void on_episode(const search_log *log, unsigned episodes, void *vctx)
{
    progress_ctx *p = vctx;
    double el = wallclock_s() - p->started;
    if (!p->tty || el < 1.0)
        return;
    unsigned fresh = log->n - log->resumed_at;
    double eta = fresh ? el / fresh * (episodes - log->n) : 0.0;
    fprintf(stderr, "\repisode %u/%u  best reward %.4g (episode %d)  %.0f s, ETA %.0f s   ", log->n,
            episodes, log->best >= 0 ? log->ep[log->best].out.reward : 0.0, log->best, el, eta);
    p->shown = true;
}

/* ---- output --------------------------------------------------------------------------------- */

typedef struct ep_row {
    uint32_t episode;
    double reward, accuracy, reference;
    uint8_t estimate, failed;
    uint64_t latency_ps, bottleneck_ps;
    double throughput_per_s, energy_pj;
    uint64_t tiles;
    double budget, cost, sigma, wall_s;
    char note[NAME_BYTES];
} ep_row;

static const h5col ep_cols[] = {
    H5COL(ep_row, episode, H5COL_U32, "index"),
    H5COL(ep_row, reward, H5COL_F64, "-"),
    H5COL(ep_row, accuracy, H5COL_F64, "fraction"),
    H5COL(ep_row, reference, H5COL_F64, "fraction"),
    H5COL(ep_row, estimate, H5COL_U8, "-"),
    H5COL(ep_row, failed, H5COL_U8, "-"),
    H5COL(ep_row, latency_ps, H5COL_U64, "ps"),
    H5COL(ep_row, bottleneck_ps, H5COL_U64, "ps"),
    H5COL(ep_row, throughput_per_s, H5COL_F64, "inferences/s"),
    H5COL(ep_row, energy_pj, H5COL_F64, "pJ"),
    H5COL(ep_row, tiles, H5COL_U64, "count"),
    H5COL(ep_row, budget, H5COL_F64, "fraction"),
    H5COL(ep_row, cost, H5COL_F64, "fraction"),
    H5COL(ep_row, sigma, H5COL_F64, "-"),
    H5COL(ep_row, wall_s, H5COL_F64, "s"),
    H5COL(ep_row, note, H5COL_STR, "-"),
};

typedef struct pol_row {
    uint32_t episode, layer;
    char name[NAME_BYTES];
    uint32_t wb, ab, adc_bits, copies;
} pol_row;

static const h5col pol_cols[] = {
    H5COL(pol_row, episode, H5COL_U32, "index"), H5COL(pol_row, layer, H5COL_U32, "index"),
    H5COL(pol_row, name, H5COL_STR, "-"),        H5COL(pol_row, wb, H5COL_U32, "bits"),
    H5COL(pol_row, ab, H5COL_U32, "bits"),       H5COL(pol_row, adc_bits, H5COL_U32, "bits"),
    H5COL(pol_row, copies, H5COL_U32, "count"),
};

static void put(char *dst, size_t size, const char *src)
{
    strncpy(dst, src, size - 1);
    dst[size - 1] = '\0';
}

static pol_row pol_row_of(const network *n, const search_log *log, unsigned ep, unsigned l)
{
    size_t k = (size_t)ep * log->layers + l;
    pol_row r = {.episode = ep,
                 .layer = n->xbar[l],
                 .wb = log->wb[k],
                 .ab = log->ab[k],
                 .adc_bits = log->adc[k],
                 .copies = log->copies[k]};
    put(r.name, sizeof r.name, n->layers[n->xbar[l]].name);
    return r;
}

static int write_search(h5file *f, const network *n, const search_log *log, const opts *o,
                        const search_options *so, const env_config *ec, err *e)
{
    ERR_TRY(h5file_group(f, "/search", e));
    ep_row *rows = mem_calloc(log->n ? log->n : 1, sizeof *rows, "search rows");
    for (unsigned i = 0; i < log->n; i++) {
        const search_episode *s = &log->ep[i];
        rows[i] = (ep_row){.episode = i,
                           .reward = s->out.reward,
                           .accuracy = s->out.accuracy,
                           .reference = s->out.reference,
                           .estimate = s->out.estimate,
                           .failed = s->out.failed,
                           .latency_ps = s->out.latency_ps,
                           .bottleneck_ps = s->out.bottleneck_ps,
                           .throughput_per_s = s->out.throughput_per_s,
                           .energy_pj = s->out.energy_pj,
                           .tiles = s->out.tiles,
                           .budget = s->out.budget,
                           .cost = s->out.cost,
                           .sigma = s->sigma,
                           .wall_s = s->wall_s};
        put(rows[i].note, sizeof rows[i].note, s->out.note);
    }
    int rc = h5table_write(f, "/search/episodes", "one row per episode of the search", ep_cols,
                           sizeof ep_cols / sizeof ep_cols[0], sizeof *rows, rows, log->n, e);
    free(rows);
    ERR_TRY(rc);

    size_t cells = (size_t)log->n * log->layers;
    pol_row *pr = mem_calloc(cells ? cells : 1, sizeof *pr, "search policy rows");
    for (unsigned i = 0; i < log->n; i++)
        for (unsigned l = 0; l < log->layers; l++)
            pr[(size_t)i * log->layers + l] = pol_row_of(n, log, i, l);
    rc = h5table_write(f, "/search/policies", "every episode's bits and copies by crossbar layer",
                       pol_cols, sizeof pol_cols / sizeof pol_cols[0], sizeof *pr, pr, cells, e);
    if (rc == 0 && log->best >= 0)
        rc = h5table_write(f, "/search/best", "the best episode's bits and copies", pol_cols,
                           sizeof pol_cols / sizeof pol_cols[0], sizeof *pr,
                           pr + (size_t)log->best * log->layers, log->layers, e);
    free(pr);
    ERR_TRY(rc);

    unsigned *front;
    unsigned nf = search_pareto(log, &front);
    ep_row *fr = mem_calloc(nf ? nf : 1, sizeof *fr, "pareto rows");
    for (unsigned k = 0; k < nf; k++) {
        const search_episode *s = &log->ep[front[k]];
        fr[k] = (ep_row){.episode = front[k],
                         .reward = s->out.reward,
                         .accuracy = s->out.accuracy,
                         .reference = s->out.reference,
                         .estimate = s->out.estimate,
                         .latency_ps = s->out.latency_ps,
                         .bottleneck_ps = s->out.bottleneck_ps,
                         .throughput_per_s = s->out.throughput_per_s,
                         .energy_pj = s->out.energy_pj,
                         .tiles = s->out.tiles,
                         .budget = s->out.budget,
                         .cost = s->out.cost,
                         .sigma = s->sigma,
                         .wall_s = s->wall_s};
    }
    rc = h5table_write(f, "/search/pareto",
                       "episodes on the front of accuracy (up), latency and energy (down)", ep_cols,
                       sizeof ep_cols / sizeof ep_cols[0], sizeof *fr, fr, nf, e);
    free(fr);
    free(front);
    ERR_TRY(rc);

    const char *g = "/search";
    ERR_TRY(h5file_attr_str(f, g, "mode", env_mode_name(ec->mode), e));
    ERR_TRY(h5file_attr_str(f, g, "agent", search_agent_name(so->agent), e));
    ERR_TRY(h5file_attr_str(f, g, "accuracy_backend", o->accuracy ? o->accuracy : "proxy", e));
    ERR_TRY(h5file_attr_u64(f, g, "episodes", so->episodes, e));
    ERR_TRY(h5file_attr_u64(f, g, "seed", so->seed, e));
    ERR_TRY(h5file_attr_u64(f, g, "best_episode", (uint64_t)(log->best < 0 ? 0 : log->best), e));
    ERR_TRY(h5file_attr_u64(f, g, "hidden", so->ddpg.hidden1, e));
    ERR_TRY(h5file_attr_f64(f, g, "lr_actor", so->ddpg.lr_actor, e));
    ERR_TRY(h5file_attr_f64(f, g, "lr_critic", so->ddpg.lr_critic, e));
    ERR_TRY(h5file_attr_f64(f, g, "tau", so->ddpg.tau, e));
    ERR_TRY(h5file_attr_u64(f, g, "warmup_episodes", so->ddpg.warmup, e));
    ERR_TRY(h5file_attr_f64(f, g, "sigma0", so->ddpg.sigma0, e));
    ERR_TRY(h5file_attr_f64(f, g, "sigma_decay", so->ddpg.sigma_decay, e));
    ERR_TRY(h5file_attr_u64(f, g, "batch", so->ddpg.batch, e));
    ERR_TRY(h5file_attr_u64(f, g, "replay_capacity",
                            (uint64_t)so->ddpg.replay_per_decision * so->ddpg.decisions_per_episode,
                            e));
    ERR_TRY(h5file_attr_u64(f, g, "min_bits", ec->min_bits, e));
    ERR_TRY(h5file_attr_u64(f, g, "max_bits", ec->max_bits, e));
    ERR_TRY(h5file_attr_f64(f, g, "seconds_agent", log->t_agent_s, e));
    ERR_TRY(h5file_attr_f64(f, g, "seconds_agent_updates", log->t_update_s, e));
    ERR_TRY(h5file_attr_f64(f, g, "seconds_replication", log->t_replicate_s, e));
    ERR_TRY(h5file_attr_f64(f, g, "seconds_cost_model", log->t_cost_s, e));
    ERR_TRY(h5file_attr_f64(f, g, "seconds_accuracy", log->t_accuracy_s, e));
    return 0;
}

/* The best policy (CSV: layer,wb,ab,adc_bits) and copies (CSV: layer,copies), written to the
 * temporaries PATH.tmp; best_files_commit renames them once the HDF5 file is in place too, and
 * best_files_discard removes them, so a failure leaves nothing under the requested names. */
static int write_best_files(const char *stem, const network *n, const search_log *log,
                            char *policy_path, char *copies_path, size_t size, err *e)
{
    snprintf(policy_path, size, "%s.policy.csv", stem);
    snprintf(copies_path, size, "%s.replication.csv", stem);
    policy p = {.n = log->layers};
    p.layers = mem_calloc(log->layers, sizeof *p.layers, "best policy");
    unsigned *copies = mem_calloc(log->layers, sizeof *copies, "best copies");
    for (unsigned l = 0; l < log->layers; l++) {
        size_t k = (size_t)log->best * log->layers + l;
        p.layers[l] = (policy_layer){log->wb[k], log->ab[k], log->adc[k]};
        copies[l] = log->copies[k];
    }
    int rc = 0;
    const char *paths[2] = {policy_path, copies_path};
    for (int i = 0; i < 2 && rc == 0; i++) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", paths[i]);
        FILE *f = fopen(tmp, "w");
        if (!f) {
            rc = err_set(e, ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
            break;
        }
        if (i == 0)
            policy_write_csv(&p, n, f);
        else
            replication_write_csv(copies, n, f);
        if (fclose(f) != 0) {
            remove(tmp);
            rc = err_set(e, ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        }
    }
    policy_fini(&p);
    free(copies);
    return rc;
}

static void best_files_discard(const char *policy_path, const char *copies_path)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", policy_path);
    remove(tmp);
    snprintf(tmp, sizeof tmp, "%s.tmp", copies_path);
    remove(tmp);
}

static int best_files_commit(const char *policy_path, const char *copies_path, err *e)
{
    const char *paths[2] = {policy_path, copies_path};
    for (int i = 0; i < 2; i++) {
        char tmp[4300];
        snprintf(tmp, sizeof tmp, "%s.tmp", paths[i]);
        if (rename(tmp, paths[i]) != 0) {
            int rc =
                err_set(e, ERR_IO, "cannot rename %s to %s: %s", tmp, paths[i], strerror(errno));
            best_files_discard(policy_path, copies_path);
            return rc;
        }
    }
    return 0;
}

static void print_summary(const network *n, const arch *a, const env *v, const search_log *log,
                          const search_options *so, const env_config *ec, const char *policy_path,
                          const char *copies_path)
{
    simtime bl, bb;
    double be;
    uint64_t bt;
    env_baseline(v, &bl, &bb, &be, &bt);
    printf("# xbarsim search: %s on %s, mode %s, agent %s, %u episodes (seed %llu)\n", n->name,
           a->name, env_mode_name(ec->mode), search_agent_name(so->agent), log->n,
           (unsigned long long)so->seed);
    if (log->best < 0) {
        printf("no episode succeeded\n");
        return;
    }
    const env_outcome *b = &log->ep[log->best].out;
    printf("best: episode %d, reward %.6g, accuracy %.4f%% (reference %.4f%%%s)\n", log->best,
           b->reward, 100 * b->accuracy, 100 * b->reference,
           b->estimate ? "; an ESTIMATE by the proxy backend, not a measured accuracy" : "");
    printf("%-28s %16s %16s %10s\n", "", "8-bit baseline", "best", "gain");
    printf("%-28s %16.3f %16.3f %9.3fx\n", "latency (us)", simtime_to_us(bl),
           simtime_to_us(b->latency_ps), (double)bl / (double)b->latency_ps);
    printf("%-28s %16.6g %16.6g %9.3fx\n", "throughput (inferences/s)", 1.0 / simtime_to_s(bb),
           b->throughput_per_s, b->throughput_per_s * simtime_to_s(bb));
    if (b->energy_pj > 0)
        printf("%-28s %16.6g %16.6g %9.3fx\n", "steady energy/inference (uJ)", be * 1e-6,
               b->energy_pj * 1e-6, be / b->energy_pj);
    else
        printf("%-28s %16.6g %16.6g %10s\n", "steady energy/inference (uJ)", be * 1e-6,
               b->energy_pj * 1e-6, "- (the arch models no energy)");
    printf("%-28s %16llu %16llu\n", "tiles", (unsigned long long)bt, (unsigned long long)b->tiles);
    bool adc = env_mode_decides_adc(ec->mode);
    printf("bits (%s, xK: K copies):", adc ? "wb/ab/adc" : "wb/ab");
    for (unsigned l = 0; l < log->layers; l++) {
        size_t k = (size_t)log->best * log->layers + l;
        if (adc)
            printf(" %u/%u/%u", log->wb[k], log->ab[k], log->adc[k]);
        else
            printf(" %u/%u", log->wb[k], log->ab[k]);
        if (log->copies[k] > 1)
            printf("x%u", log->copies[k]);
    }
    printf("\n");
    double total = log->t_agent_s + log->t_replicate_s + log->t_cost_s + log->t_accuracy_s;
    printf("time: %.3f s = agent %.3f (updates %.3f) + replication %.3f + cost model %.3f + "
           "accuracy %.3f\n",
           total, log->t_agent_s, log->t_update_s, log->t_replicate_s, log->t_cost_s,
           log->t_accuracy_s);
    printf("best policy: %s\nbest copies: %s\n", policy_path, copies_path);
}

/* ---- the command ---------------------------------------------------------------------------- */

int cmd_search(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
    opts o;
    memset(&o, 0, sizeof o);
    o.episodes = o.seed = o.warmup = o.hidden = o.checkpoint_every = -1;
    o.fix_ends = o.cell_aligned = -1;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    if (!o.out)
        o.out = "traces/search.h5";

    err e;
    err_clear(&e);
    arch a;
    network n;
    int status = 2;
    if (arch_load_file(o.config, &a, &e) < 0) {
        fprintf(stderr, "xbarsim search: %s\n", e.msg);
        return 2;
    }
    char buf[1024];
    const char *net = o.net;
    if (net && access(net, R_OK) != 0) {
        snprintf(buf, sizeof buf, "%s/configs/net/%s.cfg", cli_data_dir(), net);
        net = buf;
    }
    if (net_load_file(net ? net : o.config, &n, &e) < 0) {
        fprintf(stderr, "xbarsim search: %s\n", e.msg);
        arch_fini(&a);
        return 2;
    }
    unsigned episodes = o.episodes > 0 ? (unsigned)o.episodes : 600;
    omp_set_num_threads(o.threads > 0 ? (int)o.threads : 1);
    env_config ec;
    acc_backend *acc = NULL;
    env *v = NULL;
    h5file *f = NULL;
    search_log log = {0};
    if (make_env_config(&o, episodes, &ec, &e) < 0 || make_backend(&o, &n, &acc, &e) < 0 ||
        env_create(&n, &a, &ec, acc, &v, &e) < 0) {
        fprintf(stderr, "xbarsim search: %s\n", e.msg);
        goto done;
    }
    search_options so;
    search_options_default(&so, v);
    so.episodes = episodes;
    if (o.seed >= 0)
        so.seed = (uint64_t)o.seed;
    if (o.agent && search_agent_parse(o.agent, &so.agent) < 0) {
        fprintf(stderr, "xbarsim search: --agent: found '%s', expected ddpg or random\n", o.agent);
        goto done;
    }
    if (o.warmup >= 0)
        so.ddpg.warmup = (unsigned)o.warmup;
    if (o.hidden > 0)
        so.ddpg.hidden1 = so.ddpg.hidden2 = (unsigned)o.hidden;
    if (o.threads > 0)
        so.ddpg.blas_threads = (int)o.threads;
    if (o.checkpoint_every >= 0)
        so.checkpoint_every = (unsigned)o.checkpoint_every;
    so.stop_on_failure = o.stop_on_failure;
    so.resume = o.resume;
    char stem[4096], ckpt[4200];
    snprintf(stem, sizeof stem, "%s", o.out);
    size_t sl = strlen(stem);
    if (sl > 3 && strcmp(stem + sl - 3, ".h5") == 0)
        stem[sl - 3] = '\0';
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", stem);
    so.checkpoint = ckpt;
    if (strcmp(o.out, "traces/search.h5") == 0)
        mkdir("traces", 0777);
    if (h5file_create(o.out, &f, &e) < 0) { /* fail before the search, not after it */
        fprintf(stderr, "xbarsim search: -o: %s\n", e.msg);
        status = 1;
        goto done;
    }

    progress_ctx pc = {.started = wallclock_s(), .tty = isatty(STDERR_FILENO) != 0};
    time_t t0 = time(NULL);
    char start_time[32];
    strftime(start_time, sizeof start_time, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t0));
    int rc = search_run(v, &so, &log, on_episode, &pc, &e);
    if (pc.shown)
        fputc('\n', stderr);
    if (o.resume && log.resumed_at > 0)
        fprintf(stderr, "xbarsim search: resumed from %s at episode %u of %u\n", ckpt,
                log.resumed_at, episodes);
    if (rc < 0 && log.n == 0) {
        fprintf(stderr, "xbarsim search: %s\n", e.msg);
        status = rc == ERR_IO ? 1 : 2;
        goto done;
    }
    if (rc < 0) { /* nothing under the requested names; the checkpoint keeps the episodes */
        fprintf(stderr,
                "xbarsim search: %s (after %u episodes; nothing written to %s: the same command "
                "with --resume continues from %s)\n",
                e.msg, log.n, o.out, ckpt);
        status = 1;
        goto done;
    }

    char *cmdline = cli_command_line(argc, argv);
    char cfgtext[1024];
    snprintf(cfgtext, sizeof cfgtext,
             "search.mode = \"%s\"\nsearch.network = \"%s\"\nsearch.arch = \"%s\"\n"
             "search.episodes = %u\nsearch.agent = \"%s\"\nsearch.accuracy = \"%s\"\n"
             "search.min_bits = %u\nsearch.max_bits = %u\nsearch.fix_ends = %s\n"
             "search.cell_aligned = %s\nsearch.tile_budget = \"%s\"\n",
             env_mode_name(ec.mode), n.origin, a.origin, episodes, search_agent_name(so.agent),
             o.accuracy ? o.accuracy : "proxy", ec.min_bits, ec.max_bits,
             ec.fix_ends ? "true" : "false", ec.cell_aligned ? "true" : "false", ec.tile_budget);
    char policy_path[4200], copies_path[4200];
    int wrc = cli_meta_write(f, cmdline, cfgtext, so.seed, start_time, &e);
    free(cmdline);
    if (wrc == 0)
        wrc = write_search(f, &n, &log, &o, &so, &ec, &e);
    if (wrc == 0 && log.best >= 0)
        wrc = write_best_files(stem, &n, &log, policy_path, copies_path, sizeof policy_path, &e);
    if (wrc < 0) {
        fprintf(stderr, "xbarsim search: %s: %s\n", o.out, e.msg);
        h5file_abort(f);
        f = NULL;
        if (log.best >= 0)
            best_files_discard(policy_path, copies_path);
        status = 1;
        goto done;
    }
    if (h5file_commit(f, &e) < 0 ||
        (log.best >= 0 && best_files_commit(policy_path, copies_path, &e) < 0)) {
        f = NULL;
        fprintf(stderr, "xbarsim search: %s: %s\n", o.out, e.msg);
        if (log.best >= 0)
            best_files_discard(policy_path, copies_path);
        status = 1;
        goto done;
    }
    f = NULL;
    if (!o.quiet) {
        print_summary(&n, &a, v, &log, &so, &ec, policy_path, copies_path);
        printf("wrote %s\n", o.out);
    }
    status = 0;
done:
    if (f)
        h5file_abort(f);
    search_log_fini(&log);
    env_destroy(v);
    acc_destroy(acc);
    net_fini(&n);
    arch_fini(&a);
    return status;
}
