/* search: the episode loop, its log and its checkpoints (see search.h). A checkpoint holds the
 * settings it belongs to, the log so far and the agent's whole state (DDPG: nets, Adam moments,
 * replay, baseline, RNG; random: its RNG), written under a temporary name and renamed, so a
 * resumed search repeats none of the finished episodes and continues bit for bit. Failed
 * episodes are logged but not shown to the agent (the failure says nothing about the policy).
 */
#include "search.h"

#include <assert.h>
#include <errno.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "wallclock.h"

#define CKPT_MAGIC   "XBSRCHK1"
#define CKPT_VERSION 1u

static const char *const agent_names[SEARCH_AGENT_COUNT] = {
#define SEARCH_AGENT_NAME(id, name) [SEARCH_AGENT_##id] = name,
    SEARCH_AGENT_MAP(SEARCH_AGENT_NAME)
#undef SEARCH_AGENT_NAME
};

const char *search_agent_name(search_agent a)
{
    assert(a < SEARCH_AGENT_COUNT);
    return agent_names[a];
}

int search_agent_parse(const char *s, search_agent *a)
{
    for (int i = 0; i < SEARCH_AGENT_COUNT; i++)
        if (strcmp(s, agent_names[i]) == 0) {
            *a = (search_agent)i;
            return 0;
        }
    return -1;
}

void search_options_default(search_options *o, const env *v)
{
    memset(o, 0, sizeof *o);
    o->episodes = 600;
    o->seed = 1;
    o->agent = SEARCH_AGENT_DDPG;
    ddpg_config_default(&o->ddpg, ENV_FEATURES);
    o->ddpg.decisions_per_episode = env_decisions(v);
    o->checkpoint_every = 25;
}

void search_log_fini(search_log *log)
{
    if (!log)
        return;
    free(log->ep);
    free(log->wb);
    free(log->ab);
    free(log->adc);
    free(log->copies);
    memset(log, 0, sizeof *log);
}

static void log_init(search_log *log, unsigned episodes, unsigned layers)
{
    memset(log, 0, sizeof *log);
    size_t cells = (size_t)(episodes ? episodes : 1) * layers;
    log->layers = layers;
    log->best = -1;
    log->ep = mem_calloc(episodes ? episodes : 1, sizeof *log->ep, "search episodes");
    log->wb = mem_calloc(cells, 1, "search weight bits");
    log->ab = mem_calloc(cells, 1, "search activation bits");
    log->adc = mem_calloc(cells, 1, "search ADC bits");
    log->copies = mem_calloc(cells, sizeof *log->copies, "search copies");
}

static void log_record(search_log *log, const env *v, const search_episode *ep)
{
    unsigned i = log->n++;
    log->ep[i] = *ep;
    const policy *p = env_policy(v);
    const unsigned *copies = env_copies(v);
    for (unsigned l = 0; l < log->layers; l++) {
        size_t k = (size_t)i * log->layers + l;
        log->wb[k] = (uint8_t)p->layers[l].wb;
        log->ab[k] = (uint8_t)p->layers[l].ab;
        log->adc[k] = (uint8_t)p->layers[l].adc_bits;
        log->copies[k] = copies[l];
    }
    if (!ep->out.failed && (log->best < 0 || ep->out.reward > log->ep[log->best].out.reward))
        log->best = (int)i;
}

/* ---- the agent ------------------------------------------------------------------------------ */

typedef struct agent {
    search_agent kind;
    ddpg *d;      /* DDPG */
    gsl_rng *rng; /* random */
} agent;

static void agent_fini(agent *g)
{
    ddpg_destroy(g->d);
    if (g->rng)
        gsl_rng_free(g->rng);
}

static void agent_fresh(agent *g, const search_options *o)
{
    memset(g, 0, sizeof *g);
    g->kind = o->agent;
    if (g->kind == SEARCH_AGENT_DDPG) {
        ddpg_config c = o->ddpg;
        c.seed = o->seed;
        g->d = ddpg_create(&c);
    } else {
        g->rng = gsl_rng_alloc(gsl_rng_taus2);
        gsl_rng_set(g->rng, (unsigned long)o->seed);
    }
}

static double agent_act(agent *g, const double *state, unsigned episode)
{
    if (g->kind == SEARCH_AGENT_DDPG)
        return ddpg_act(g->d, state, episode);
    return gsl_rng_uniform(g->rng);
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

/* What a checkpoint must match to be resumed by these options. */
typedef struct ckpt_head {
    char magic[8];
    uint32_t version;
    uint32_t agent;
    uint32_t episodes;
    uint32_t layers;
    uint32_t decisions;
    uint32_t done;
    uint64_t seed;
} ckpt_head;

static int write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int read_all(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n ? 0 : -1;
}

static int ckpt_save(const char *path, const search_options *o, const env *v, const search_log *log,
                     const agent *g, err *e)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return err_set(e, ERR_IO, "checkpoint %s: cannot write", tmp);
    ckpt_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CKPT_MAGIC, sizeof h.magic);
    h.version = CKPT_VERSION;
    h.agent = (uint32_t)o->agent;
    h.episodes = o->episodes;
    h.layers = log->layers;
    h.decisions = env_decisions(v);
    h.done = log->n;
    h.seed = o->seed;
    size_t cells = (size_t)log->n * log->layers;
    int bad = write_all(f, &h, sizeof h) || write_all(f, log->ep, log->n * sizeof *log->ep) ||
              write_all(f, log->wb, cells) || write_all(f, log->ab, cells) ||
              write_all(f, log->adc, cells) ||
              write_all(f, log->copies, cells * sizeof *log->copies) ||
              write_all(f, &log->best, sizeof log->best) ||
              write_all(f, &log->t_agent_s, 5 * sizeof(double));
    if (!bad)
        bad = g->kind == SEARCH_AGENT_DDPG ? ddpg_save(g->d, f, e) < 0
                                           : gsl_rng_fwrite(f, g->rng) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        remove(tmp);
        return err_set(e, ERR_IO, "checkpoint %s: cannot write it whole", path);
    }
    return 0;
}

/* Load a checkpoint into log and g (fresh on entry). ERR_INPUT when it belongs to another
 * search; ERR_IO when unreadable or short. */
static int ckpt_load(FILE *f, const char *path, const search_options *o, const env *v,
                     search_log *log, agent *g, err *e)
{
    ckpt_head h;
    if (read_all(f, &h, sizeof h) < 0 || memcmp(h.magic, CKPT_MAGIC, sizeof h.magic) != 0 ||
        h.version != CKPT_VERSION)
        return err_set(e, ERR_IO, "checkpoint %s: not an xbarsim search checkpoint (version %u)",
                       path, CKPT_VERSION);
    if (h.agent != (uint32_t)o->agent || h.episodes != o->episodes || h.seed != o->seed ||
        h.layers != log->layers || h.decisions != env_decisions(v) || h.done > o->episodes)
        return err_set(e, ERR_INPUT,
                       "checkpoint %s: found a search of %u episodes, seed %llu, agent %s, %u "
                       "layers; expected %u episodes, seed %llu, agent %s, %u layers (the same "
                       "search) -- remove it to start afresh",
                       path, h.episodes, (unsigned long long)h.seed,
                       h.agent < SEARCH_AGENT_COUNT ? agent_names[h.agent] : "?", h.layers,
                       o->episodes, (unsigned long long)o->seed, agent_names[o->agent],
                       log->layers);
    size_t cells = (size_t)h.done * log->layers;
    log->n = h.done;
    int bad = read_all(f, log->ep, h.done * sizeof *log->ep) || read_all(f, log->wb, cells) ||
              read_all(f, log->ab, cells) || read_all(f, log->adc, cells) ||
              read_all(f, log->copies, cells * sizeof *log->copies) ||
              read_all(f, &log->best, sizeof log->best) ||
              read_all(f, &log->t_agent_s, 5 * sizeof(double));
    if (bad)
        return err_set(e, ERR_IO, "checkpoint %s: cut short", path);
    if (g->kind == SEARCH_AGENT_DDPG) {
        ddpg *d = ddpg_load(f, e);
        if (!d) {
            err_prefix(e, "checkpoint %s", path);
            return ERR_IO;
        }
        ddpg_destroy(g->d);
        g->d = d;
    } else if (gsl_rng_fread(f, g->rng) != 0) {
        return err_set(e, ERR_IO, "checkpoint %s: cut short", path);
    }
    log->resumed_at = h.done;
    return 0;
}

/* ---- the loop ------------------------------------------------------------------------------- */

int search_run(env *v, const search_options *o, search_log *log, search_progress_fn progress,
               void *ctx, err *e)
{
    unsigned T = env_decisions(v);
    const policy *p0 = env_policy(v);
    log_init(log, o->episodes, p0->n);
    agent g;
    agent_fresh(&g, o);
    if (o->resume && o->checkpoint) {
        FILE *f = fopen(o->checkpoint, "rb");
        if (!f) { /* resuming nothing would silently start again from episode 0 */
            agent_fini(&g);
            search_log_fini(log);
            return err_set(e, ERR_INPUT,
                           "--resume: found no checkpoint %s (%s), expected the checkpoint of an "
                           "earlier run with the same -o; leave out --resume to start afresh",
                           o->checkpoint, strerror(errno));
        }
        int rc = ckpt_load(f, o->checkpoint, o, v, log, &g, e);
        fclose(f);
        if (rc < 0) {
            agent_fini(&g);
            search_log_fini(log);
            return rc;
        }
    }
    double *states = mem_calloc((size_t)T * ENV_FEATURES, sizeof *states, "search states");
    double *actions = mem_calloc(T, sizeof *actions, "search actions");
    int status = 0;
    for (unsigned ep = log->n; ep < o->episodes; ep++) {
        double t0 = wallclock_s();
        env_reset(v);
        double agent_s = 0;
        for (unsigned t = 0; t < T; t++) {
            env_state(v, &states[(size_t)t * ENV_FEATURES]);
            double a0 = wallclock_s();
            actions[t] = agent_act(&g, &states[(size_t)t * ENV_FEATURES], ep);
            agent_s += wallclock_s() - a0;
            env_step(v, actions[t]);
        }
        search_episode rec = {.sigma = g.kind == SEARCH_AGENT_DDPG ? ddpg_sigma(g.d, ep) : 0.0};
        env_finish(v, ep, &rec.out);
        if (!rec.out.failed && g.kind == SEARCH_AGENT_DDPG) {
            double a0 = wallclock_s();
            ddpg_observe_episode(g.d, states, actions, T, rec.out.reward, ep);
            agent_s += wallclock_s() - a0;
        }
        rec.wall_s = wallclock_s() - t0;
        log->t_agent_s += agent_s;
        log->t_replicate_s += rec.out.t_replicate_s;
        log->t_cost_s += rec.out.t_cost_s;
        log->t_accuracy_s += rec.out.t_accuracy_s;
        log->acc_reused += rec.out.acc_reused;
        log->acc_computed += rec.out.acc_computed;
        log_record(log, v, &rec);
        if (g.kind == SEARCH_AGENT_DDPG)
            log->t_update_s = ddpg_update_seconds(g.d);
        if (progress)
            progress(log, o->episodes, ctx);
        if (rec.out.failed && o->stop_on_failure) {
            status = err_set(e, ERR_INPUT, "episode %u failed: %s", ep, rec.out.note);
            break;
        }
        bool last = ep + 1 == o->episodes;
        if (o->checkpoint && (last || (o->checkpoint_every && (ep + 1) % o->checkpoint_every == 0)))
            if ((status = ckpt_save(o->checkpoint, o, v, log, &g, e)) < 0)
                break;
    }
    free(states);
    free(actions);
    agent_fini(&g);
    return status;
}

static bool dominates(const env_outcome *a, const env_outcome *b)
{
    bool no_worse = a->accuracy >= b->accuracy && a->latency_ps <= b->latency_ps &&
                    a->energy_pj <= b->energy_pj;
    bool better =
        a->accuracy > b->accuracy || a->latency_ps < b->latency_ps || a->energy_pj < b->energy_pj;
    return no_worse && better;
}

double search_chance_accuracy(const network *n)
{
    const network_shape *o = &n->layers[n->n_layers - 1].out;
    double k = (double)o->channels * (double)o->height * (double)o->width;
    return k >= 1.0 ? 1.0 / k : 1.0;
}

double search_min_accuracy_default(const network *n, double reference)
{
    double c = search_chance_accuracy(n);
    return reference > c ? c + SEARCH_MIN_ACCURACY_MARGIN * (reference - c) : c;
}

unsigned search_reached(const search_log *log, const network *n, double min)
{
    unsigned count = 0;
    for (unsigned i = 0; i < log->n; i++) {
        const env_outcome *o = &log->ep[i].out;
        double want = min >= 0.0 ? min : search_min_accuracy_default(n, o->reference);
        count += !o->failed && o->accuracy >= want;
    }
    return count;
}

unsigned search_pareto(const search_log *log, unsigned **out)
{
    unsigned *front = mem_calloc(log->n ? log->n : 1, sizeof *front, "pareto front");
    unsigned k = 0;
    for (unsigned i = 0; i < log->n; i++) {
        const env_outcome *a = &log->ep[i].out;
        if (a->failed)
            continue;
        bool keep = true;
        for (unsigned j = 0; j < log->n && keep; j++) {
            const env_outcome *b = &log->ep[j].out;
            if (j == i || b->failed)
                continue;
            bool same = b->accuracy == a->accuracy && b->latency_ps == a->latency_ps &&
                        b->energy_pj == a->energy_pj;
            keep = !dominates(b, a) && !(same && j < i);
        }
        if (keep)
            front[k++] = i;
    }
    *out = front;
    return k;
}
