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
#include <unistd.h>

#include <omp.h>

#include "accuracy.h"
#include "cli.h"
#include "h5file.h"
#include "jsonw.h"
#include "mem.h"
#include "opt.h"
#include "replication.h"
#include "search.h"
#include "xbarfunc.h"

#define NAME_BYTES 128

typedef struct opts {
    const char *config, *net, *out, *command, *objective, *tile_budget, *weights, *data;
    int mode, accuracy, budget_kind, agent, adc_mode; /* by their registries; -1: unset */
    int fix_ends, cell_aligned;                       /* -1: the mode's default */
    long long holdout, finetune_epochs, finetune_images, device_samples;
    double device_quantile; /* fraction; -1: the chips' mean */
    long long episodes, seed, warmup, hidden, min_bits, max_bits, adc_min, adc_max,
        checkpoint_every, threads;
    double budget, timeout_s, budget_start, reference;
    double min_accuracy; /* fraction; -1: search_min_accuracy_default */
    bool resume, stop_on_failure, quiet, json;
} opts;

OPT_NAMES(mode_names, env_mode, ENV_MODE_COUNT, env_mode_name)
OPT_NAMES(agent_names, search_agent, SEARCH_AGENT_COUNT, search_agent_name)
OPT_NAMES(accuracy_names, acc_kind, ACC_BACKEND_COUNT, acc_kind_name)
OPT_NAMES(budget_names, env_budget, ENV_BUDGET_COUNT, env_budget_name)
OPT_NAMES(adc_mode_names, xbarfunc_adc_mode, XBARFUNC_ADC_MODE_COUNT, xbarfunc_adc_mode_name)

static const opt_spec search_table[] = {
    OPT_ENUM("--mode", mode_names, opts, mode, "the search's mode (above)", .required = true),
    OPT_STR("--net", "NAME|FILE", opts, net,
            "network: a built-in name or a file (default: CONFIG's own\n"
            "`network` group)"),
    OPT_INT("--episodes", "N", opts, episodes, 1, 10000000, "episodes (default 600)"),
    OPT_ENUM("--agent", agent_names, opts, agent,
             "the DDPG agent (default) or uniform random actions, the baseline\n"
             "a learned search must beat"),
    OPT_ENUM("--accuracy", accuracy_names, opts, accuracy,
             "proxy (default: a deterministic estimate from quantisation noise;\n"
             "every output says it is an estimate), external (--command CMD:\n"
             "runs CMD with the policy in $XBARSIM_POLICY_CSV / _JSON and\n"
             "reads the accuracy from $XBARSIM_RESULT_JSON or its last stdout\n"
             "line), functional (--weights FILE.h5: the quantised network\n"
             "through the bit-accurate crossbar of CONFIG on Fashion-MNIST\n"
             "images held out from the training set; MLP, LeNet,\n"
             "ResNet-8 and MobileNet class: residual adds, depthwise\n"
             "convs, batch norm folded; CONFIG's arch.tiles.device acts)"),
    OPT_STR("--command", "CMD", opts, command, "external: the command run for each policy"),
    OPT_REAL("--timeout", "S", opts, timeout_s, 0.001, 1e7,
             "external command's time limit, s (default 600)"),
    OPT_STR("--weights", "FILE.h5", opts, weights,
            "functional: the float weights (xbarsim train -o); train them with\n"
            "--train-images 55000 so that the hold-out below is unseen"),
    OPT_STR("--data", "DIR", opts, data,
            "functional: Fashion-MNIST IDX files (default\n"
            "/usr/share/datasets/fashion-mnist)"),
    OPT_INT("--holdout", "N", opts, holdout, 1, 10000000,
            "functional: evaluate on the last N training images (default\n"
            "5000); the test set is never used by the search"),
    OPT_INT("--finetune-epochs", "E", opts, finetune_epochs, 0, 1000,
            "functional: QAT epochs of a copy of the weights before each\n"
            "evaluation (default 0; HAQ uses 1)"),
    OPT_INT("--finetune-images", "N", opts, finetune_images, 1, 100000000,
            "functional: QAT on the first N training images (default: all\n"
            "before the hold-out)"),
    OPT_ENUM("--adc-mode", adc_mode_names, opts, adc_mode,
             "functional: saturate (default, Huang et al.), drop_lsb or ideal"),
    OPT_INT("--device-samples", "K", opts, device_samples, 0, 100000,
            "functional: measure every policy on K chips sampled from\n"
            "arch.tiles.device (device seeds S x 1000003 + 1..K from --seed S);\n"
            "the reward's accuracy is their mean (default 0: the arch's one chip)"),
    OPT_REAL("--device-quantile", "Q", opts, device_quantile, 0.0, 1.0,
             "functional, with --device-samples: the reward's accuracy is the\n"
             "Q quantile over the chips instead of their mean (0: the worst chip;\n"
             "0.1: the chip a tenth of the way up; linear between chips)"),
    OPT_REAL("--reference", "F", opts, reference, 1e-9, 1.0,
             "the reference (full-precision) accuracy, fraction. external: else\n"
             "the command must report it as \"reference\" in its result JSON;\n"
             "proxy: the network's own (default: torchvision's top-1 for the\n"
             "built-in ImageNet networks, else 1.0, accuracy relative to full\n"
             "precision); refused with functional, which measures its own"),
    OPT_REAL("--min-accuracy", "A", opts, min_accuracy, 0.0, 1.0,
             "the least accuracy a best policy must reach, fraction (default:\n"
             "chance 1/K, K the network's outputs, + 0.1 x (reference -\n"
             "chance)). When no episode reaches it the search warns, writes\n"
             "FILE.h5 without /search/best and no policy or copies files, and\n"
             "exits 1"),
    OPT_FLAG("--stop-on-failure", opts, stop_on_failure,
             "a failed accuracy evaluation ends the search (default: it is\n"
             "logged and the search goes on)"),
    OPT_STR("--objective", "latency|throughput", opts, objective,
            "lrmp: latency (default) or throughput (slowest layer)"),
    OPT_STR("--tile-budget", "B", opts, tile_budget,
            "lrmp: replication budget, TILES, FACTORx or chip (default 1.0x)"),
    OPT_REAL("--budget", "F", opts, budget, 1e-6, 1e6,
             "haq: budget as a fraction of the 8-bit figure (default 0.5);\n"
             "lrmp: the final latency budget (default 0.2)"),
    OPT_REAL("--budget-start", "F", opts, budget_start, 1e-6, 1e6,
             "lrmp: the first episode's latency budget (default 0.35)"),
    OPT_ENUM("--budget-kind", budget_names, opts, budget_kind,
             "haq: what the budget limits (default latency)"),
    OPT_INT("--min-bits", "B", opts, min_bits, 1, POLICY_MAX_BITS,
            "fewest weight and activation bits (default 2)"),
    OPT_INT("--max-bits", "B", opts, max_bits, 1, POLICY_MAX_BITS,
            "most weight and activation bits (default 8)"),
    OPT_INT("--adc-min", "B", opts, adc_min, 1, 16, "huang: fewest ADC bits (default 1)"),
    OPT_INT("--adc-max", "B", opts, adc_max, 1, 16, "huang: most ADC bits (default 9)"),
    OPT_ENUM("--fix-ends", opt_onoff_name, opts, fix_ends,
             "first and last crossbar layers at 8/8 (default: on for cimaq)"),
    OPT_ENUM("--cell-aligned", opt_onoff_name, opts, cell_aligned,
             "weight bits whole cells (default: on for cimaq)"),
    OPT_INT("--warmup", "N", opts, warmup, 0, 10000000, "random warm-up episodes (default 20)"),
    OPT_INT("--hidden", "H", opts, hidden, 1, 4096, "hidden width of both nets (default 300)"),
    OPT_INT("--seed", "S", opts, seed, 0, LLONG_MAX,
            "the agent's seed (default 1); same seed and --threads, same\n"
            "search, bit for bit"),
    OPT_INT("--threads", "N", opts, threads, 1, 256,
            "OpenBLAS threads of the agent's updates and OpenMP threads of\n"
            "the functional backend (default 1); with --accuracy functional\n"
            "the threads are the backend's and the agent keeps one (its small\n"
            "products would busy-wait on the cores the backend needs)"),
    OPT_STR("-o", "FILE.h5", opts, out,
            "output (default traces/search.h5); the best policy and copies\n"
            "go to FILE.policy.csv and FILE.replication.csv, the checkpoint\n"
            "to FILE.ckpt"),
    OPT_INT("--checkpoint-every", "N", opts, checkpoint_every, 0, 10000000,
            "episodes between checkpoints (default 25)"),
    OPT_FLAG("--resume", opts, resume,
             "continue from FILE.ckpt (an error when there is none); ends\n"
             "where an uninterrupted search would. A search that fails\n"
             "midway writes nothing under -o's names; its checkpoint stays"),
    OPT_FLAG("-q", opts, quiet, "no summary"),
    OPT_FLAG("--json", opts, json,
             "the final summary as one JSON object (the best episode against\n"
             "the 8-bit baseline, its bits and copies, the time split, the files)"),
};

static const opt_command search_command = {
    .name = "search",
    .args = "CONFIG|PRESET",
    .args_min = 1,
    .args_max = 1,
    .about =
        "Search each crossbar layer's weight and activation bits (and in huang mode its ADC\n"
        "bits) with HAQ's DDPG agent: per layer a weight decision then an activation decision,\n"
        "each action in [0, 1] rounded to bits; at the end of an episode the policy is fitted\n"
        "to the mode's budget, priced by the analytic model, scored by the accuracy backend\n"
        "and rewarded (formulas: search/agent/env.c). CONFIG is an architecture file or preset\n"
        "(as for map); the network is --net or CONFIG's `network` group.\n\n"
        "modes:\n"
        "  lrmp    latency budget tightening from 0.35x to 0.2x of the 8-bit network's over the\n"
        "          episodes; LRMP's replication (exact) spends a tile budget (default 1.0x: the\n"
        "          8-bit network's tiles) on copies; reward lambda (acc - ref) + alpha log2\n"
        "          speed-up\n"
        "  cimaq   CIM-AQ's accuracy-target reward on the latency ratio; first and last layers\n"
        "          8/8 and weight bits whole cells by default\n"
        "  haq     a budget on latency, energy or tiles (--budget-kind, --budget F x 8-bit)\n"
        "          enforced by lowering bits; reward 0.1 x accuracy change (points)\n"
        "  huang   adds ADC bits 1..9 per layer; reward -loss - bit cost (threshold on the\n"
        "          loss)\n",
    .opts = search_table,
    .n_opts = OPT_COUNT(search_table),
};

/* ---- settings ----------------------------------------------------------------------------- */

static int make_env_config(const opts *o, unsigned episodes, env_config *c, err *e)
{
    env_config_default(c, (env_mode)o->mode, episodes);
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
    if (o->budget_kind >= 0)
        c->budget_kind = (env_budget)o->budget_kind;
    if (o->budget > 0)
        env_config_set_budget(c, o->budget);
    if (o->budget_start > 0)
        c->budget_start = o->budget_start;
    return 0;
}

static int make_backend(const opts *o, const network *n, acc_backend **out, err *e)
{
    acc_kind k = (acc_kind)o->accuracy;
    acc_config c;
    memset(&c, 0, sizeof c);
    if (k == ACC_BACKEND_FUNCTIONAL && o->reference > 0)
        return err_set(e, ERR_INPUT,
                       "--reference %g: found with --accuracy functional, expected no --reference: "
                       "the functional backend measures its reference (the float network on the "
                       "same hold-out images)",
                       o->reference);
    c.proxy.reference = o->reference; /* 0: by the network's name */
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
    c.functional = (acc_functional_config){
        .net = n,
        .weights = o->weights,
        .data = o->data,
        .holdout = (unsigned)o->holdout,
        .finetune_epochs = (unsigned)o->finetune_epochs,
        .finetune_images = (unsigned)o->finetune_images,
        .adc_mode =
            o->adc_mode >= 0 ? xbarfunc_adc_mode_name((xbarfunc_adc_mode)o->adc_mode) : NULL,
        .seed = o->seed >= 0 ? (uint64_t)o->seed : 1,
        .device_samples = (unsigned)o->device_samples,
        .device_by_quantile = o->device_quantile >= 0.0,
        .device_quantile = o->device_quantile};
    return acc_create(k, &c, out, e);
}

/* ---- progress ------------------------------------------------------------------------------- */

static void on_episode(const search_log *log, unsigned episodes, void *vctx)
{
    cli_progress *p = vctx;
    char note[96];
    snprintf(note, sizeof note, "episode %u/%u  best reward %.4g (episode %d)", log->n, episodes,
             log->best >= 0 ? log->ep[log->best].out.reward : 0.0, log->best);
    p->skip = log->resumed_at;
    cli_progress_update(p, log->n, episodes, note, false);
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

static const h5file_col ep_cols[] = {
    H5FILE_COL(ep_row, episode, H5FILE_U32, "index"),
    H5FILE_COL(ep_row, reward, H5FILE_F64, "-"),
    H5FILE_COL(ep_row, accuracy, H5FILE_F64, "fraction"),
    H5FILE_COL(ep_row, reference, H5FILE_F64, "fraction"),
    H5FILE_COL(ep_row, estimate, H5FILE_U8, "-"),
    H5FILE_COL(ep_row, failed, H5FILE_U8, "-"),
    H5FILE_COL(ep_row, latency_ps, H5FILE_U64, "ps"),
    H5FILE_COL(ep_row, bottleneck_ps, H5FILE_U64, "ps"),
    H5FILE_COL(ep_row, throughput_per_s, H5FILE_F64, "inferences/s"),
    H5FILE_COL(ep_row, energy_pj, H5FILE_F64, "pJ"),
    H5FILE_COL(ep_row, tiles, H5FILE_U64, "count"),
    H5FILE_COL(ep_row, budget, H5FILE_F64, "fraction"),
    H5FILE_COL(ep_row, cost, H5FILE_F64, "fraction"),
    H5FILE_COL(ep_row, sigma, H5FILE_F64, "-"),
    H5FILE_COL(ep_row, wall_s, H5FILE_F64, "s"),
    H5FILE_COL(ep_row, note, H5FILE_STR, "-"),
};

typedef struct pol_row {
    uint32_t episode, layer;
    char name[NAME_BYTES];
    uint32_t wb, ab, adc_bits, copies;
} pol_row;

static const h5file_col pol_cols[] = {
    H5FILE_COL(pol_row, episode, H5FILE_U32, "index"),
    H5FILE_COL(pol_row, layer, H5FILE_U32, "index"),
    H5FILE_COL(pol_row, name, H5FILE_STR, "-"),
    H5FILE_COL(pol_row, wb, H5FILE_U32, "bits"),
    H5FILE_COL(pol_row, ab, H5FILE_U32, "bits"),
    H5FILE_COL(pol_row, adc_bits, H5FILE_U32, "bits"),
    H5FILE_COL(pol_row, copies, H5FILE_U32, "count"),
};

/* src into dst, cut to its size - 1 characters (a fixed-width HDF5 string column). */
static void put(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%.*s", (int)(size - 1), src);
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

/* The /search row of episode `episode`. */
static ep_row ep_row_of(const search_episode *s, unsigned episode)
{
    ep_row r = {.episode = episode,
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
    put(r.note, sizeof r.note, s->out.note);
    return r;
}

/* What the minimum accuracy decided: the threshold, the episodes at it, whether a best is kept. */
typedef struct min_check {
    double min; /* the least accuracy (the default from the best episode's reference), fraction */
    unsigned reached; /* episodes not failed at or above it (each at its own default), count */
    bool keep_best;   /* a best episode exists and some episode reached the minimum */
} min_check;

static int write_search(h5file *f, const network *n, const search_log *log, const opts *o,
                        const search_options *so, const env_config *ec, const min_check *mc, err *e)
{
    ERR_TRY(h5file_group(f, "/search", e));
    ep_row *rows = mem_calloc(log->n ? log->n : 1, sizeof *rows, "search rows");
    for (unsigned i = 0; i < log->n; i++)
        rows[i] = ep_row_of(&log->ep[i], i);
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
    if (rc == 0 && mc->keep_best)
        rc = h5table_write(f, "/search/best", "the best episode's bits and copies", pol_cols,
                           sizeof pol_cols / sizeof pol_cols[0], sizeof *pr,
                           pr + (size_t)log->best * log->layers, log->layers, e);
    free(pr);
    ERR_TRY(rc);

    unsigned *front;
    unsigned nf = search_pareto(log, &front);
    ep_row *fr = mem_calloc(nf ? nf : 1, sizeof *fr, "pareto rows");
    for (unsigned k = 0; k < nf; k++)
        fr[k] = ep_row_of(&log->ep[front[k]], front[k]);
    rc = h5table_write(f, "/search/pareto",
                       "episodes on the front of accuracy (up), latency and energy (down)", ep_cols,
                       sizeof ep_cols / sizeof ep_cols[0], sizeof *fr, fr, nf, e);
    free(fr);
    free(front);
    ERR_TRY(rc);

    const char *g = "/search";
    ERR_TRY(h5file_attr_str(f, g, "mode", env_mode_name(ec->mode), e));
    ERR_TRY(h5file_attr_str(f, g, "agent", search_agent_name(so->agent), e));
    ERR_TRY(h5file_attr_str(f, g, "accuracy_backend", acc_kind_name((acc_kind)o->accuracy), e));
    ERR_TRY(h5file_attr_u64(f, g, "episodes", so->episodes, e));
    ERR_TRY(h5file_attr_u64(f, g, "seed", so->seed, e));
    ERR_TRY(h5file_attr_u64(f, g, "best_episode", (uint64_t)(log->best < 0 ? 0 : log->best), e));
    ERR_TRY(h5file_attr_f64(f, g, "min_accuracy", mc->min, e));
    ERR_TRY(h5file_attr_u64(f, g, "episodes_at_min_accuracy", mc->reached, e));
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

/* The best episode's policy and copies, for the writers below. */
typedef struct best {
    const network *n;
    policy p;
    unsigned *copies;
} best;

static void write_policy(FILE *f, const void *ctx)
{
    const best *b = ctx;
    policy_write_csv(&b->p, b->n, f);
}

static void write_copies(FILE *f, const void *ctx)
{
    const best *b = ctx;
    replication_write_csv(b->copies, b->n, f);
}

/* The best policy (CSV: layer,wb,ab,adc_bits) and copies (CSV: layer,copies), written to
 * temporaries (out[0], out[1]) that the caller commits once the HDF5 file is in place too, or
 * discards, so a failure leaves nothing under the requested names. */
static int write_best_files(const char *stem, const network *n, const search_log *log,
                            cli_out out[2], err *e)
{
    best b = {.n = n, .p = {.n = log->layers}};
    b.p.layers = mem_calloc(log->layers, sizeof *b.p.layers, "best policy");
    b.copies = mem_calloc(log->layers, sizeof *b.copies, "best copies");
    for (unsigned l = 0; l < log->layers; l++) {
        size_t k = (size_t)log->best * log->layers + l;
        b.p.layers[l] = (policy_layer){log->wb[k], log->ab[k], log->adc[k]};
        b.copies[l] = log->copies[k];
    }
    static const char *const suffix[2] = {".policy.csv", ".replication.csv"};
    const cli_write_fn write[2] = {write_policy, write_copies};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s", stem, suffix[i]);
        rc = cli_out_open(&out[i], path, e);
        if (rc == 0) {
            write[i](out[i].f, &b);
            rc = cli_out_close(&out[i], e);
        }
        if (rc < 0 && i == 1)
            cli_out_discard(&out[0]);
    }
    policy_fini(&b.p);
    free(b.copies);
    return rc;
}

static int best_files_commit(cli_out out[2], err *e)
{
    int rc = cli_out_commit(&out[0], e);
    if (rc < 0)
        cli_out_discard(&out[1]);
    return rc < 0 ? rc : cli_out_commit(&out[1], e);
}

/* What the final summary reports, printed as text or JSON. */
typedef struct summary {
    const network *n;
    const arch *a;
    const env *v;
    const search_log *log;
    const search_options *so;
    const env_config *ec;
    const char *policy_path, *copies_path, *output; /* the files written */
    const min_check *mc;
} summary;

static void print_summary(const summary *sm)
{
    const network *n = sm->n;
    const arch *a = sm->a;
    const search_log *log = sm->log;
    const search_options *so = sm->so;
    const env_config *ec = sm->ec;
    simtime bl, bb;
    double be;
    uint64_t bt;
    env_baseline(sm->v, &bl, &bb, &be, &bt);
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
    if (log->acc_reused + log->acc_computed > 0)
        printf("accuracy: %llu of %llu layer products reused from the previous evaluation "
               "(%.1f %%)\n",
               (unsigned long long)log->acc_reused,
               (unsigned long long)(log->acc_reused + log->acc_computed),
               100.0 * (double)log->acc_reused / (double)(log->acc_reused + log->acc_computed));
    if (sm->mc->keep_best)
        printf("best policy: %s\nbest copies: %s\n", sm->policy_path, sm->copies_path);
    else
        printf("best policy: none written: no episode reached the minimum accuracy %.4f%%\n",
               100 * sm->mc->min);
}

static void print_json(const summary *sm)
{
    const search_log *log = sm->log;
    simtime bl, bb;
    double be;
    uint64_t bt;
    env_baseline(sm->v, &bl, &bb, &be, &bt);
    jsonw w;
    jsonw_begin(&w, stdout);
    jsonw_object(&w, NULL);
    jsonw_str(&w, "network", sm->n->name);
    jsonw_str(&w, "arch", sm->a->name);
    jsonw_str(&w, "mode", env_mode_name(sm->ec->mode));
    jsonw_str(&w, "agent", search_agent_name(sm->so->agent));
    jsonw_u64(&w, "episodes", log->n);
    jsonw_u64(&w, "seed", sm->so->seed);
    jsonw_object(&w, "baseline");
    jsonw_u64(&w, "latency_ps", bl);
    jsonw_num(&w, "throughput_per_s", 1.0 / simtime_to_s(bb));
    jsonw_num(&w, "energy_pj", be);
    jsonw_u64(&w, "tiles", bt);
    jsonw_close(&w);
    if (log->best >= 0) {
        const env_outcome *b = &log->ep[log->best].out;
        jsonw_object(&w, "best");
        jsonw_i64(&w, "episode", log->best);
        jsonw_num(&w, "reward", b->reward);
        jsonw_num(&w, "accuracy", b->accuracy);
        jsonw_num(&w, "reference", b->reference);
        jsonw_bool(&w, "accuracy_is_estimate", b->estimate);
        jsonw_u64(&w, "latency_ps", b->latency_ps);
        jsonw_num(&w, "throughput_per_s", b->throughput_per_s);
        jsonw_num(&w, "energy_pj", b->energy_pj);
        jsonw_u64(&w, "tiles", b->tiles);
        jsonw_array(&w, "layers");
        for (unsigned l = 0; l < log->layers; l++) {
            size_t k = (size_t)log->best * log->layers + l;
            jsonw_object(&w, NULL);
            jsonw_str(&w, "name", sm->n->layers[sm->n->xbar[l]].name);
            jsonw_u64(&w, "wb", log->wb[k]);
            jsonw_u64(&w, "ab", log->ab[k]);
            jsonw_u64(&w, "adc_bits", log->adc[k]);
            jsonw_u64(&w, "copies", log->copies[k]);
            jsonw_close(&w);
        }
        jsonw_close(&w);
        jsonw_close(&w);
        if (sm->mc->keep_best) {
            jsonw_str(&w, "best_policy", sm->policy_path);
            jsonw_str(&w, "best_copies", sm->copies_path);
        }
    }
    jsonw_num(&w, "min_accuracy", sm->mc->min);
    jsonw_u64(&w, "episodes_at_min_accuracy", sm->mc->reached);
    jsonw_object(&w, "seconds");
    jsonw_num(&w, "agent", log->t_agent_s);
    jsonw_num(&w, "agent_updates", log->t_update_s);
    jsonw_num(&w, "replication", log->t_replicate_s);
    jsonw_num(&w, "cost_model", log->t_cost_s);
    jsonw_num(&w, "accuracy", log->t_accuracy_s);
    jsonw_close(&w);
    jsonw_str(&w, "output", sm->output);
    jsonw_close(&w);
    jsonw_end(&w);
}

/* ---- the command ---------------------------------------------------------------------------- */

int cmd_search(int argc, char **argv)
{
    opts o = {.mode = -1,
              .accuracy = ACC_BACKEND_PROXY,
              .budget_kind = -1,
              .agent = -1,
              .adc_mode = -1,
              .fix_ends = -1,
              .cell_aligned = -1,
              .episodes = -1,
              .seed = -1,
              .warmup = -1,
              .hidden = -1,
              .checkpoint_every = -1,
              .min_accuracy = -1,
              .device_quantile = -1,
              .out = "traces/search.h5"};
    int prc = opt_parse_arg(&search_command, argc, argv, &o, &o.config);
    if (prc != OPT_GO)
        return prc;

    err e;
    err_clear(&e);
    arch a;
    network n;
    int status = 2;
    if (cli_load_inputs("search", o.config, o.net, NULL, 0, &a, &n) < 0)
        return 2;
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
    if (o.agent >= 0)
        so.agent = (search_agent)o.agent;
    if (o.warmup >= 0)
        so.ddpg.warmup = (unsigned)o.warmup;
    if (o.hidden > 0)
        so.ddpg.hidden1 = so.ddpg.hidden2 = (unsigned)o.hidden;
    if (o.threads > 0) /* functional: the threads are the model's; BLAS's would busy-wait */
        so.ddpg.blas_threads = o.accuracy == ACC_BACKEND_FUNCTIONAL ? 1 : (int)o.threads;
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

    cli_progress bar;
    cli_progress_start(&bar, isatty(STDERR_FILENO) != 0);
    char start_time[CLI_TIME_BYTES];
    cli_utc_time(start_time, sizeof start_time);
    int rc = search_run(v, &so, &log, on_episode, &bar, &e);
    cli_progress_end(&bar);
    if (o.resume && log.resumed_at > 0)
        fprintf(stderr, "xbarsim search: resumed from %s at episode %u of %u\n", ckpt,
                log.resumed_at, episodes);
    if (rc < 0 && log.n == 0) {
        fprintf(stderr, "xbarsim search: %s\n", e.msg);
        status = rc == ERR_IO ? 1 : 2;
        goto done;
    }
    if (rc < 0) { /* nothing under the requested names; a checkpoint keeps the episodes */
        if (access(ckpt, R_OK) == 0)
            fprintf(stderr,
                    "xbarsim search: %s (after %u episodes; nothing written to %s: the same "
                    "command with --resume continues from the last checkpoint, %s)\n",
                    e.msg, log.n, o.out, ckpt);
        else
            fprintf(stderr,
                    "xbarsim search: %s (after %u episodes; nothing written to %s, and no "
                    "checkpoint was kept: run it again from the start)\n",
                    e.msg, log.n, o.out);
        status = 1;
        goto done;
    }

    min_check mc = {.reached = search_reached(&log, &n, o.min_accuracy)};
    mc.keep_best = log.best >= 0 && mc.reached > 0;
    mc.min = o.min_accuracy >= 0 ? o.min_accuracy
             : log.best >= 0     ? search_min_accuracy_default(&n, log.ep[log.best].out.reference)
                                 : search_min_accuracy_default(&n, 1.0);
    char *cmdline = cli_command_line(argc, argv);
    char cfgtext[1024];
    snprintf(cfgtext, sizeof cfgtext,
             "search.mode = \"%s\"\nsearch.network = \"%s\"\nsearch.arch = \"%s\"\n"
             "search.episodes = %u\nsearch.agent = \"%s\"\nsearch.accuracy = \"%s\"\n"
             "search.min_bits = %u\nsearch.max_bits = %u\nsearch.fix_ends = %s\n"
             "search.cell_aligned = %s\nsearch.tile_budget = \"%s\"\n",
             env_mode_name(ec.mode), n.origin, a.origin, episodes, search_agent_name(so.agent),
             acc_kind_name((acc_kind)o.accuracy), ec.min_bits, ec.max_bits,
             ec.fix_ends ? "true" : "false", ec.cell_aligned ? "true" : "false", ec.tile_budget);
    cli_out best_out[2];
    int wrc = cli_meta_write(f, cmdline, cfgtext, so.seed, start_time, &e);
    free(cmdline);
    if (wrc == 0)
        wrc = write_search(f, &n, &log, &o, &so, &ec, &mc, &e);
    if (wrc == 0 && mc.keep_best)
        wrc = write_best_files(stem, &n, &log, best_out, &e);
    if (wrc < 0) { /* the best files' temporaries are gone already */
        fprintf(stderr, "xbarsim search: %s: %s\n", o.out, e.msg);
        h5file_abort(f);
        f = NULL;
        status = 1;
        goto done;
    }
    int crc = h5file_commit(f, &e);
    f = NULL;
    if (crc < 0 && mc.keep_best) {
        cli_out_discard(&best_out[0]);
        cli_out_discard(&best_out[1]);
    }
    if (crc < 0 || (mc.keep_best && best_files_commit(best_out, &e) < 0)) {
        fprintf(stderr, "xbarsim search: %s: %s\n", o.out, e.msg);
        status = 1;
        goto done;
    }
    const summary sm = {.n = &n,
                        .a = &a,
                        .v = v,
                        .log = &log,
                        .so = &so,
                        .ec = &ec,
                        .policy_path = mc.keep_best ? best_out[0].path : "",
                        .copies_path = mc.keep_best ? best_out[1].path : "",
                        .output = o.out,
                        .mc = &mc};
    if (!o.quiet && o.json)
        print_json(&sm);
    else if (!o.quiet) {
        print_summary(&sm);
        printf("wrote %s\n", o.out);
    }
    status = 0;
    if (log.best >= 0 && !mc.keep_best) {
        const env_outcome *b = &log.ep[log.best].out;
        fprintf(
            stderr,
            "xbarsim search: warning: no episode of %u reached the minimum accuracy %.4f%% (%s; "
            "the best episode, %d, has %.4f%%%s): no best policy written (--min-accuracy A "
            "sets the minimum)\n",
            log.n, 100 * mc.min,
            o.min_accuracy >= 0 ? "--min-accuracy"
                                : "chance 1/K, K the network's outputs, + 0.1 x (reference - "
                                  "chance)",
            log.best, 100 * b->accuracy, b->estimate ? ", an estimate" : "");
        status = 1;
    }
done:
    if (f)
        h5file_abort(f);
    search_log_fini(&log);
    env_destroy(v);
    acc_destroy(acc);
    network_fini(&n);
    arch_fini(&a);
    return status;
}
