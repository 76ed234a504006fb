/* ddpg: HAQ's agent (see ddpg.h) -- action selection, replay ring, updates, checkpoints.
 * Invariant: the agent's future depends only on what ddpg_save writes (config, nets, replay, ring
 * position, baseline, RNG state); the batch buffers and ddpg_work are scratch, always written
 * before they are read.
 */
#include "ddpg.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "mem.h"
#include "rng.h"
#include "wallclock.h"

struct ddpg_work {
    unsigned rows; /* samples the buffers hold, count */
    unsigned h1;   /* first hidden width, count */
    unsigned h2;   /* second hidden width, count */
    float *a1;     /* actor ReLU outputs of FC1, rows x h1 */
    float *a2;     /* actor ReLU outputs of FC2, rows x h2 */
    float *c1;     /* critic ReLU outputs of FC11 + FC12, rows x h1 */
    float *c2;     /* critic ReLU outputs of FC2, rows x h2 */
    float *d1;     /* backward scratch, rows x h1 */
    float *d2;     /* backward scratch, rows x h2 */
    float *dout;   /* backward scratch at the actor output, rows */
};

struct ddpg {
    ddpg_config cfg;   /* settings, checked */
    unsigned capacity; /* replay capacity, transitions */
    nn_net *actor;     /* mu(s); owned */
    nn_net *critic;    /* Q(s, a); owned */
    nn_net *actor_t;   /* target mu'; owned */
    nn_net *critic_t;  /* target Q'; owned */
    gsl_rng *rng;      /* the agent's only random stream; owned */
    /* Replay ring: entry i at s + i x state_dim etc.; [0, size) valid; pos is the next write. */
    double *rs;           /* states, capacity x state_dim */
    double *ra;           /* actions, in [0,1] as taken, capacity */
    double *rr;           /* rewards (EPISODE mode: minus the baseline), reward units, capacity */
    double *rs2;          /* next states (zeros when terminal), capacity x state_dim */
    unsigned char *rdone; /* 1 when terminal, capacity */
    unsigned size;        /* valid transitions, count */
    unsigned pos;         /* next slot written, index */
    double baseline;      /* moving average of episode (or batch mean) rewards, reward units */
    int baseline_set;     /* 0 until the first average is taken */
    uint64_t updates;     /* updates done, count */
    double update_s;      /* wall time in updates since create/load, s; not checkpointed */
    ddpg_work *work;      /* activations for one batch; scratch */
    float *bs;            /* sampled states, batch x state_dim; scratch */
    float *ba;            /* sampled actions, batch; scratch */
    double *br;           /* sampled rewards, batch; scratch */
    float *bs2;           /* sampled next states, batch x state_dim; scratch */
    unsigned char *bdone; /* sampled terminal flags, batch; scratch */
    float *mu;            /* actor outputs, batch; scratch */
    float *q;             /* critic outputs, batch; scratch */
    double *y;            /* critic targets, batch; scratch */
    float *dq;            /* dL/dq, batch; scratch */
    float *dmu;           /* dL/dmu, batch; scratch */
    float *st;            /* one state for ddpg_act_greedy, state_dim; scratch */
};

/* ---- configuration ---- */

void ddpg_config_default(ddpg_config *c, unsigned state_dim)
{
    *c = (ddpg_config){
        .state_dim = state_dim,
        .hidden1 = 300,
        .hidden2 = 300,
        .lr_actor = 1e-4,
        .lr_critic = 1e-3,
        .tau = 0.01,
        .discount = 1.0,
        .decisions_per_episode = 0,
        .replay_per_decision = 128,
        .batch = 64,
        .warmup = 20,
        .sigma0 = 0.5,
        .sigma_decay = 0.99,
        .baseline_alpha = 0.5,
        .baseline_mode = DDPG_BASELINE_EPISODE,
        .init_w = 3e-3,
        .seed = 1,
        .blas_threads = 1,
    };
}

static int check_uint(err *e, const char *name, unsigned v, unsigned lo, unsigned hi)
{
    if (v < lo || v > hi)
        return err_set(e, v > hi ? ERR_LIMIT : ERR_INPUT,
                       "ddpg.%s: %u found, expected an integer in [%u, %u]", name, v, lo, hi);
    return 0;
}

static int check_real(err *e, const char *name, double v, double lo, double hi, int lo_open)
{
    if (!(lo_open ? v > lo : v >= lo) || !(v <= hi))
        return err_set(e, ERR_INPUT, "ddpg.%s: %g found, expected a number in %c%g, %g]", name, v,
                       lo_open ? '(' : '[', lo, hi);
    return 0;
}

int ddpg_config_check(const ddpg_config *c, err *e)
{
    ERR_TRY(check_uint(e, "state_dim", c->state_dim, 1, NN_MAX_WIDTH));
    ERR_TRY(check_uint(e, "hidden1", c->hidden1, 1, 1u << 14));
    ERR_TRY(check_uint(e, "hidden2", c->hidden2, 1, 1u << 14));
    ERR_TRY(check_real(e, "lr_actor", c->lr_actor, 0, 1, 1));
    ERR_TRY(check_real(e, "lr_critic", c->lr_critic, 0, 1, 1));
    ERR_TRY(check_real(e, "tau", c->tau, 0, 1, 1));
    ERR_TRY(check_real(e, "discount", c->discount, 0, 1, 0));
    ERR_TRY(check_uint(e, "decisions_per_episode", c->decisions_per_episode, 1, DDPG_MAX_REPLAY));
    ERR_TRY(check_uint(e, "replay_per_decision", c->replay_per_decision, 1, DDPG_MAX_REPLAY));
    if ((uint64_t)c->replay_per_decision * c->decisions_per_episode > DDPG_MAX_REPLAY)
        return err_set(e, ERR_LIMIT,
                       "ddpg: replay of %u x %u transitions, expected at most %u in all",
                       c->replay_per_decision, c->decisions_per_episode, DDPG_MAX_REPLAY);
    ERR_TRY(check_uint(e, "batch", c->batch, 1, 1u << 16));
    ERR_TRY(check_real(e, "sigma0", c->sigma0, 0, 10, 0));
    ERR_TRY(check_real(e, "sigma_decay", c->sigma_decay, 0, 1, 1));
    ERR_TRY(check_real(e, "baseline_alpha", c->baseline_alpha, 0, 1, 1));
    if (c->baseline_mode != DDPG_BASELINE_EPISODE && c->baseline_mode != DDPG_BASELINE_BATCH)
        return err_set(e, ERR_INPUT,
                       "ddpg.baseline_mode: %d found, expected %d (episode) or %d "
                       "(batch)",
                       (int)c->baseline_mode, DDPG_BASELINE_EPISODE, DDPG_BASELINE_BATCH);
    ERR_TRY(check_real(e, "init_w", c->init_w, 0, 10, 0));
    if (c->blas_threads < 0 || c->blas_threads > 1024)
        return err_set(e, ERR_INPUT, "ddpg.blas_threads: %d found, expected 0 (leave) or 1..1024",
                       c->blas_threads);
    return 0;
}

/* ---- the nets' maths ---- */

nn_net *ddpg_actor_create(unsigned state_dim, unsigned h1, unsigned h2)
{
    nn_shape s[DDPG_ACTOR_LAYERS] = {
        [DDPG_ACTOR_FC1] = {.in = state_dim, .out = h1},
        [DDPG_ACTOR_FC2] = {.in = h1, .out = h2},
        [DDPG_ACTOR_FC3] = {.in = h2, .out = 1},
    };
    return nn_create(DDPG_ACTOR_LAYERS, s);
}

nn_net *ddpg_critic_create(unsigned state_dim, unsigned h1, unsigned h2)
{
    nn_shape s[DDPG_CRITIC_LAYERS] = {
        [DDPG_CRITIC_FC11] = {.in = state_dim, .out = h1},
        [DDPG_CRITIC_FC12] = {.in = 1, .out = h1},
        [DDPG_CRITIC_FC2] = {.in = h1, .out = h2},
        [DDPG_CRITIC_FC3] = {.in = h2, .out = 1},
    };
    return nn_create(DDPG_CRITIC_LAYERS, s);
}

ddpg_work *ddpg_work_create(unsigned rows, unsigned h1, unsigned h2)
{
    ddpg_work *w = mem_calloc(1, sizeof *w, "ddpg work");
    w->rows = rows;
    w->h1 = h1;
    w->h2 = h2;
    w->a1 = mem_calloc((size_t)rows * h1, sizeof(float), "ddpg actor activations");
    w->a2 = mem_calloc((size_t)rows * h2, sizeof(float), "ddpg actor activations");
    w->c1 = mem_calloc((size_t)rows * h1, sizeof(float), "ddpg critic activations");
    w->c2 = mem_calloc((size_t)rows * h2, sizeof(float), "ddpg critic activations");
    w->d1 = mem_calloc((size_t)rows * h1, sizeof(float), "ddpg backward scratch");
    w->d2 = mem_calloc((size_t)rows * h2, sizeof(float), "ddpg backward scratch");
    w->dout = mem_calloc(rows, sizeof(float), "ddpg backward scratch");
    return w;
}

void ddpg_work_destroy(ddpg_work *w)
{
    if (!w)
        return;
    free(w->a1);
    free(w->a2);
    free(w->c1);
    free(w->c2);
    free(w->d1);
    free(w->d2);
    free(w->dout);
    free(w);
}

static void check_work(const nn_net *net, unsigned fc2, const ddpg_work *w, unsigned n)
{
    assert(n <= w->rows);
    assert(nn_layer_shape(net, fc2).in == w->h1 && nn_layer_shape(net, fc2).out == w->h2);
    (void)net;
    (void)fc2;
    (void)w;
    (void)n;
}

void ddpg_actor_forward(const nn_net *actor, ddpg_work *w, unsigned n, const float *s, float *mu)
{
    check_work(actor, DDPG_ACTOR_FC2, w, n);
    nn_dense_forward(actor, DDPG_ACTOR_FC1, n, s, 0, w->a1);
    nn_act_forward(NN_ACT_RELU, (size_t)n * w->h1, w->a1);
    nn_dense_forward(actor, DDPG_ACTOR_FC2, n, w->a1, 0, w->a2);
    nn_act_forward(NN_ACT_RELU, (size_t)n * w->h2, w->a2);
    nn_dense_forward(actor, DDPG_ACTOR_FC3, n, w->a2, 0, mu);
    nn_act_forward(NN_ACT_SIGMOID, n, mu);
}

void ddpg_actor_backward(nn_net *actor, ddpg_work *w, unsigned n, const float *s, const float *mu,
                         const float *dmu)
{
    check_work(actor, DDPG_ACTOR_FC2, w, n);
    memcpy(w->dout, dmu, n * sizeof(float));
    nn_act_backward(NN_ACT_SIGMOID, n, mu, w->dout);
    nn_dense_backward(actor, DDPG_ACTOR_FC3, n, w->a2, w->dout, w->d2);
    nn_act_backward(NN_ACT_RELU, (size_t)n * w->h2, w->a2, w->d2);
    nn_dense_backward(actor, DDPG_ACTOR_FC2, n, w->a1, w->d2, w->d1);
    nn_act_backward(NN_ACT_RELU, (size_t)n * w->h1, w->a1, w->d1);
    nn_dense_backward(actor, DDPG_ACTOR_FC1, n, s, w->d1, NULL);
}

void ddpg_critic_forward(const nn_net *critic, ddpg_work *w, unsigned n, const float *s,
                         const float *a, float *q)
{
    check_work(critic, DDPG_CRITIC_FC2, w, n);
    nn_dense_forward(critic, DDPG_CRITIC_FC11, n, s, 0, w->c1);
    nn_dense_forward(critic, DDPG_CRITIC_FC12, n, a, 1, w->c1);
    nn_act_forward(NN_ACT_RELU, (size_t)n * w->h1, w->c1);
    nn_dense_forward(critic, DDPG_CRITIC_FC2, n, w->c1, 0, w->c2);
    nn_act_forward(NN_ACT_RELU, (size_t)n * w->h2, w->c2);
    nn_dense_forward(critic, DDPG_CRITIC_FC3, n, w->c2, 0, q);
}

void ddpg_critic_backward(nn_net *critic, ddpg_work *w, unsigned n, const float *s, const float *a,
                          const float *dq, float *da, int param_grads)
{
    check_work(critic, DDPG_CRITIC_FC2, w, n);
    if (param_grads)
        nn_dense_backward(critic, DDPG_CRITIC_FC3, n, w->c2, dq, w->d2);
    else
        nn_dense_backward_input(critic, DDPG_CRITIC_FC3, n, dq, w->d2);
    nn_act_backward(NN_ACT_RELU, (size_t)n * w->h2, w->c2, w->d2);
    if (param_grads)
        nn_dense_backward(critic, DDPG_CRITIC_FC2, n, w->c1, w->d2, w->d1);
    else
        nn_dense_backward_input(critic, DDPG_CRITIC_FC2, n, w->d2, w->d1);
    nn_act_backward(NN_ACT_RELU, (size_t)n * w->h1, w->c1, w->d1);
    if (param_grads) {
        nn_dense_backward(critic, DDPG_CRITIC_FC11, n, s, w->d1, NULL);
        nn_dense_backward(critic, DDPG_CRITIC_FC12, n, a, w->d1, da);
    } else if (da) {
        nn_dense_backward_input(critic, DDPG_CRITIC_FC12, n, w->d1, da);
    }
}

/* ---- the agent ---- */

/* Everything but the nets, sized from the (checked) config. */
static ddpg *agent_alloc(const ddpg_config *c)
{
    ddpg *d = mem_calloc(1, sizeof *d, "ddpg agent");
    d->cfg = *c;
    d->capacity = c->replay_per_decision * c->decisions_per_episode;
    size_t cap = d->capacity, sd = c->state_dim, b = c->batch;
    d->rs = mem_calloc(cap * sd, sizeof(double), "ddpg replay states");
    d->ra = mem_calloc(cap, sizeof(double), "ddpg replay actions");
    d->rr = mem_calloc(cap, sizeof(double), "ddpg replay rewards");
    d->rs2 = mem_calloc(cap * sd, sizeof(double), "ddpg replay next states");
    d->rdone = mem_calloc(cap, 1, "ddpg replay terminal flags");
    d->work = ddpg_work_create(c->batch, c->hidden1, c->hidden2);
    d->bs = mem_calloc(b * sd, sizeof(float), "ddpg batch states");
    d->ba = mem_calloc(b, sizeof(float), "ddpg batch actions");
    d->br = mem_calloc(b, sizeof(double), "ddpg batch rewards");
    d->bs2 = mem_calloc(b * sd, sizeof(float), "ddpg batch next states");
    d->bdone = mem_calloc(b, 1, "ddpg batch terminal flags");
    d->mu = mem_calloc(b, sizeof(float), "ddpg batch actor outputs");
    d->q = mem_calloc(b, sizeof(float), "ddpg batch critic outputs");
    d->y = mem_calloc(b, sizeof(double), "ddpg batch critic targets");
    d->dq = mem_calloc(b, sizeof(float), "ddpg batch gradients");
    d->dmu = mem_calloc(b, sizeof(float), "ddpg batch gradients");
    d->st = mem_calloc(sd, sizeof(float), "ddpg state");
    if (c->blas_threads > 0)
        nn_blas_set_threads(c->blas_threads);
    return d;
}

ddpg *ddpg_create(const ddpg_config *c)
{
    int ok = ddpg_config_check(c, NULL);
    assert(ok == 0 && "ddpg_create: config fails ddpg_config_check");
    (void)ok;
    ddpg *d = agent_alloc(c);
    d->rng = rng_stream_create(NULL, c->seed, DDPG_RNG_STREAM);
    d->actor = ddpg_actor_create(c->state_dim, c->hidden1, c->hidden2);
    d->critic = ddpg_critic_create(c->state_dim, c->hidden1, c->hidden2);
    d->actor_t = ddpg_actor_create(c->state_dim, c->hidden1, c->hidden2);
    d->critic_t = ddpg_critic_create(c->state_dim, c->hidden1, c->hidden2);
    nn_init(d->actor, d->rng, c->init_w);
    nn_init(d->critic, d->rng, c->init_w);
    nn_copy(d->actor_t, d->actor);
    nn_copy(d->critic_t, d->critic);
    return d;
}

void ddpg_destroy(ddpg *d)
{
    if (!d)
        return;
    nn_destroy(d->actor);
    nn_destroy(d->critic);
    nn_destroy(d->actor_t);
    nn_destroy(d->critic_t);
    if (d->rng)
        gsl_rng_free(d->rng);
    free(d->rs);
    free(d->ra);
    free(d->rr);
    free(d->rs2);
    free(d->rdone);
    ddpg_work_destroy(d->work);
    free(d->bs);
    free(d->ba);
    free(d->br);
    free(d->bs2);
    free(d->bdone);
    free(d->mu);
    free(d->q);
    free(d->y);
    free(d->dq);
    free(d->dmu);
    free(d->st);
    free(d);
}

const ddpg_config *ddpg_get_config(const ddpg *d)
{
    return &d->cfg;
}

nn_net *ddpg_actor(ddpg *d)
{
    return d->actor;
}

nn_net *ddpg_critic(ddpg *d)
{
    return d->critic;
}

double ddpg_update_seconds(const ddpg *d)
{
    return d->update_s;
}

uint64_t ddpg_update_count(const ddpg *d)
{
    return d->updates;
}

double ddpg_baseline(const ddpg *d)
{
    return d->baseline;
}

unsigned ddpg_replay_size(const ddpg *d)
{
    return d->size;
}

double ddpg_sigma(const ddpg *d, unsigned episode)
{
    if (episode < d->cfg.warmup)
        return 0.0;
    return d->cfg.sigma0 * pow(d->cfg.sigma_decay, (double)(episode - d->cfg.warmup));
}

/* n doubles rounded to float. */
static void to_float(float *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)src[i];
}

double ddpg_act_greedy(ddpg *d, const double *state)
{
    float mu;
    to_float(d->st, state, d->cfg.state_dim);
    ddpg_actor_forward(d->actor, d->work, 1, d->st, &mu);
    return mu;
}

double ddpg_act(ddpg *d, const double *state, unsigned episode)
{
    if (episode < d->cfg.warmup)
        return gsl_ran_flat(d->rng, 0.0, 1.0);
    double mu = ddpg_act_greedy(d, state);
    double sigma = ddpg_sigma(d, episode);
    for (unsigned i = 0; i < DDPG_TRUNC_TRIES; i++) {
        double a = mu + gsl_ran_gaussian(d->rng, sigma);
        if (a >= 0.0 && a <= 1.0)
            return a;
    }
    return mu > 1.0 ? 1.0 : mu >= 0.0 ? mu : 0.0; /* NaN (diverged nets) gives 0 */
}

static void replay_push(ddpg *d, const double *s, double a, double r, const double *s2)
{
    size_t sd = d->cfg.state_dim, i = d->pos;
    memcpy(d->rs + i * sd, s, sd * sizeof(double));
    d->ra[i] = a;
    d->rr[i] = r;
    if (s2)
        memcpy(d->rs2 + i * sd, s2, sd * sizeof(double));
    else
        memset(d->rs2 + i * sd, 0, sd * sizeof(double));
    d->rdone[i] = (unsigned char)(s2 == NULL);
    d->pos = d->pos + 1 == d->capacity ? 0 : d->pos + 1;
    if (d->size < d->capacity)
        d->size++;
}

/* Fold x into the moving average (the first x starts it). */
static void baseline_add(ddpg *d, double x)
{
    if (d->baseline_set) {
        d->baseline += d->cfg.baseline_alpha * (x - d->baseline);
    } else {
        d->baseline = x;
        d->baseline_set = 1;
    }
}

static void update(ddpg *d)
{
    const ddpg_config *c = &d->cfg;
    unsigned B = c->batch;
    size_t sd = c->state_dim;
    double inv_b = 1.0 / (double)B;

    for (unsigned k = 0; k < B; k++) {
        size_t i = gsl_rng_uniform_int(d->rng, d->size);
        to_float(d->bs + k * sd, d->rs + i * sd, sd);
        to_float(d->bs2 + k * sd, d->rs2 + i * sd, sd);
        d->ba[k] = (float)d->ra[i];
        d->br[k] = d->rr[i];
        d->bdone[k] = d->rdone[i];
    }
    if (c->baseline_mode == DDPG_BASELINE_BATCH) {
        double mean = 0;
        for (unsigned k = 0; k < B; k++)
            mean += d->br[k];
        baseline_add(d, mean * inv_b);
        for (unsigned k = 0; k < B; k++)
            d->br[k] -= d->baseline;
    }

    /* Critic target from the target nets: y = r + gamma (1 - done) Q'(s', mu'(s')). */
    ddpg_actor_forward(d->actor_t, d->work, B, d->bs2, d->mu);
    ddpg_critic_forward(d->critic_t, d->work, B, d->bs2, d->mu, d->q);
    for (unsigned k = 0; k < B; k++)
        d->y[k] = d->bdone[k] ? d->br[k] : d->br[k] + c->discount * d->q[k];

    /* Critic: one step on mean (Q(s, a) - y)^2, dL/dq = 2 (q - y) / B. */
    nn_zero_grad(d->critic);
    ddpg_critic_forward(d->critic, d->work, B, d->bs, d->ba, d->q);
    for (unsigned k = 0; k < B; k++)
        d->dq[k] = (float)(2.0 * (d->q[k] - d->y[k]) * inv_b);
    ddpg_critic_backward(d->critic, d->work, B, d->bs, d->ba, d->dq, NULL, 1);
    /* The critic's target takes its new parameters at once: nothing changes the critic after
     * this step, and nothing reads its target before the next update. */
    nn_adam_soft_step(d->critic, c->lr_critic, d->critic_t, c->tau);

    /* Actor: one step on -mean Q(s, mu(s)) through the (just updated, now fixed) critic. */
    nn_zero_grad(d->actor);
    ddpg_actor_forward(d->actor, d->work, B, d->bs, d->mu);
    ddpg_critic_forward(d->critic, d->work, B, d->bs, d->mu, d->q);
    for (unsigned k = 0; k < B; k++)
        d->dq[k] = (float)-inv_b;
    ddpg_critic_backward(d->critic, d->work, B, d->bs, d->mu, d->dq, d->dmu, 0);
    ddpg_actor_backward(d->actor, d->work, B, d->bs, d->mu, d->dmu);
    nn_adam_soft_step(d->actor, c->lr_actor, d->actor_t, c->tau);
    d->updates++;
}

void ddpg_observe_episode(ddpg *d, const double *states, const double *actions, unsigned T,
                          double reward, unsigned episode)
{
    assert(T >= 1 && states && actions);
    size_t sd = d->cfg.state_dim;
    int episode_mode = d->cfg.baseline_mode == DDPG_BASELINE_EPISODE;
    double b = episode_mode && d->baseline_set ? d->baseline : episode_mode ? reward : 0.0;
    for (unsigned t = 0; t < T; t++)
        replay_push(d, states + t * sd, actions[t], reward - b,
                    t + 1 < T ? states + (t + 1) * sd : NULL);
    if (episode_mode)
        baseline_add(d, reward);
    if (episode < d->cfg.warmup)
        return;
    double t0 = wallclock_s();
    for (unsigned t = 0; t < T; t++)
        update(d);
    d->update_s += wallclock_s() - t0;
}

/* ---- checkpoints ---- */

static int put(FILE *f, const void *p, size_t size, size_t n, err *e, const char *what)
{
    if (n && fwrite(p, size, n, f) != n)
        return err_set(e, ERR_IO, "ddpg checkpoint: writing %s failed (%zu items of %zu bytes)",
                       what, n, size);
    return 0;
}

static int get(FILE *f, void *p, size_t size, size_t n, err *e, const char *what)
{
    if (n && fread(p, size, n, f) != n)
        return err_set(e, ERR_IO,
                       "ddpg checkpoint: short read of %s (expected %zu items of %zu "
                       "bytes; file truncated or not a checkpoint)",
                       what, n, size);
    return 0;
}

/* The config as fixed-width fields, in declaration order. */
enum { CFG_UINTS = 8, CFG_REALS = 8 };

static void config_pack(const ddpg_config *c, uint32_t *u, double *r, uint64_t *seed, int32_t *thr)
{
    uint32_t uu[CFG_UINTS] = {
        c->state_dim,           c->hidden1, c->hidden2, c->decisions_per_episode,
        c->replay_per_decision, c->batch,   c->warmup,  (uint32_t)c->baseline_mode};
    double rr[CFG_REALS] = {c->lr_actor,    c->lr_critic,      c->tau,   c->discount, c->sigma0,
                            c->sigma_decay, c->baseline_alpha, c->init_w};
    memcpy(u, uu, sizeof uu);
    memcpy(r, rr, sizeof rr);
    *seed = c->seed;
    *thr = c->blas_threads;
}

static void config_unpack(ddpg_config *c, const uint32_t *u, const double *r, uint64_t seed,
                          int32_t thr)
{
    *c = (ddpg_config){
        .state_dim = u[0],
        .hidden1 = u[1],
        .hidden2 = u[2],
        .decisions_per_episode = u[3],
        .replay_per_decision = u[4],
        .batch = u[5],
        .warmup = u[6],
        .baseline_mode = (ddpg_baseline_mode)u[7],
        .lr_actor = r[0],
        .lr_critic = r[1],
        .tau = r[2],
        .discount = r[3],
        .sigma0 = r[4],
        .sigma_decay = r[5],
        .baseline_alpha = r[6],
        .init_w = r[7],
        .seed = seed,
        .blas_threads = thr,
    };
}

int ddpg_save(const ddpg *d, FILE *f, err *e)
{
    uint32_t head[2] = {DDPG_FILE_MAGIC, DDPG_FILE_VERSION};
    ERR_TRY(put(f, head, sizeof head[0], 2, e, "header"));
    uint32_t u[CFG_UINTS];
    double r[CFG_REALS];
    uint64_t seed;
    int32_t thr;
    config_pack(&d->cfg, u, r, &seed, &thr);
    ERR_TRY(put(f, u, sizeof u[0], CFG_UINTS, e, "config"));
    ERR_TRY(put(f, r, sizeof r[0], CFG_REALS, e, "config"));
    ERR_TRY(put(f, &seed, sizeof seed, 1, e, "config"));
    ERR_TRY(put(f, &thr, sizeof thr, 1, e, "config"));

    const nn_net *nets[4] = {d->actor, d->critic, d->actor_t, d->critic_t};
    for (int i = 0; i < 4; i++) {
        int rc = nn_save(nets[i], f, e);
        if (rc < 0) {
            err_prefix(e, "ddpg checkpoint");
            return rc;
        }
    }

    size_t sd = d->cfg.state_dim, n = d->size;
    uint32_t ring[3] = {d->capacity, d->size, d->pos};
    ERR_TRY(put(f, ring, sizeof ring[0], 3, e, "replay position"));
    ERR_TRY(put(f, d->rs, sizeof(double), n * sd, e, "replay states"));
    ERR_TRY(put(f, d->ra, sizeof(double), n, e, "replay actions"));
    ERR_TRY(put(f, d->rr, sizeof(double), n, e, "replay rewards"));
    ERR_TRY(put(f, d->rs2, sizeof(double), n * sd, e, "replay next states"));
    ERR_TRY(put(f, d->rdone, 1, n, e, "replay terminal flags"));

    uint32_t bset = (uint32_t)d->baseline_set;
    ERR_TRY(put(f, &d->baseline, sizeof d->baseline, 1, e, "baseline"));
    ERR_TRY(put(f, &bset, sizeof bset, 1, e, "baseline"));
    ERR_TRY(put(f, &d->updates, sizeof d->updates, 1, e, "update count"));

    /* The generator's raw state, exactly what gsl_rng_fwrite writes; written by hand because
     * gsl_rng_fread reports a short read through GSL's error handler, which aborts by default. */
    const char *name = gsl_rng_name(d->rng);
    uint32_t lens[2] = {(uint32_t)strlen(name), (uint32_t)gsl_rng_size(d->rng)};
    ERR_TRY(put(f, lens, sizeof lens[0], 2, e, "generator"));
    ERR_TRY(put(f, name, 1, lens[0], e, "generator name"));
    ERR_TRY(put(f, gsl_rng_state(d->rng), 1, lens[1], e, "generator state"));
    return 0;
}

static int load_body(ddpg *d, FILE *f, err *e)
{
    const ddpg_config *c = &d->cfg;
    nn_net **nets[4] = {&d->actor, &d->critic, &d->actor_t, &d->critic_t};
    for (int i = 0; i < 4; i++) {
        *nets[i] = nn_load(f, e);
        if (!*nets[i]) {
            err_prefix(e, "ddpg checkpoint");
            return e ? e->code : ERR_IO;
        }
    }
    /* Each net must have exactly the shapes the config implies. */
    nn_net *ref_a = ddpg_actor_create(c->state_dim, c->hidden1, c->hidden2);
    nn_net *ref_c = ddpg_critic_create(c->state_dim, c->hidden1, c->hidden2);
    int bad = -1;
    for (int i = 0; i < 4 && bad < 0; i++) {
        const nn_net *ref = i % 2 ? ref_c : ref_a;
        if (nn_layer_count(*nets[i]) != nn_layer_count(ref)) {
            bad = i;
            break;
        }
        for (unsigned l = 0; l < nn_layer_count(ref); l++) {
            nn_shape x = nn_layer_shape(*nets[i], l), y = nn_layer_shape(ref, l);
            if (x.in != y.in || x.out != y.out)
                bad = i;
        }
    }
    nn_destroy(ref_a);
    nn_destroy(ref_c);
    if (bad >= 0)
        return err_set(e, ERR_INPUT,
                       "ddpg checkpoint: net %d's layer shapes do not match the "
                       "config (state %u, hidden %u/%u)",
                       bad, c->state_dim, c->hidden1, c->hidden2);

    uint32_t ring[3];
    ERR_TRY(get(f, ring, sizeof ring[0], 3, e, "replay position"));
    if (ring[0] != d->capacity || ring[1] > d->capacity || ring[2] >= d->capacity ||
        (ring[1] < d->capacity && ring[2] != ring[1]))
        return err_set(e, ERR_INPUT,
                       "ddpg checkpoint: replay capacity %u, size %u, position %u "
                       "found, expected capacity %u, size <= capacity, position = size unless "
                       "full",
                       (unsigned)ring[0], (unsigned)ring[1], (unsigned)ring[2], d->capacity);
    d->size = ring[1];
    d->pos = ring[2];
    size_t sd = c->state_dim, n = d->size;
    ERR_TRY(get(f, d->rs, sizeof(double), n * sd, e, "replay states"));
    ERR_TRY(get(f, d->ra, sizeof(double), n, e, "replay actions"));
    ERR_TRY(get(f, d->rr, sizeof(double), n, e, "replay rewards"));
    ERR_TRY(get(f, d->rs2, sizeof(double), n * sd, e, "replay next states"));
    ERR_TRY(get(f, d->rdone, 1, n, e, "replay terminal flags"));

    uint32_t bset;
    ERR_TRY(get(f, &d->baseline, sizeof d->baseline, 1, e, "baseline"));
    ERR_TRY(get(f, &bset, sizeof bset, 1, e, "baseline"));
    d->baseline_set = bset != 0;
    ERR_TRY(get(f, &d->updates, sizeof d->updates, 1, e, "update count"));

    uint32_t lens[2];
    ERR_TRY(get(f, lens, sizeof lens[0], 2, e, "generator"));
    const char *want = RNG_DEFAULT_TYPE->name;
    char name[64];
    if (lens[0] >= sizeof name)
        return err_set(e, ERR_INPUT, "ddpg checkpoint: generator name of %u bytes, expected %s",
                       (unsigned)lens[0], want);
    ERR_TRY(get(f, name, 1, lens[0], e, "generator name"));
    name[lens[0]] = '\0';
    if (strcmp(name, want) != 0)
        return err_set(e, ERR_INPUT, "ddpg checkpoint: generator %s found, expected %s", name,
                       want);
    d->rng = gsl_rng_alloc(RNG_DEFAULT_TYPE);
    if (!d->rng)
        mem_oom(sizeof(gsl_rng), "GSL random-number generator");
    if (lens[1] != gsl_rng_size(d->rng))
        return err_set(e, ERR_INPUT, "ddpg checkpoint: %u bytes of %s state found, expected %zu",
                       (unsigned)lens[1], want, gsl_rng_size(d->rng));
    ERR_TRY(get(f, gsl_rng_state(d->rng), 1, lens[1], e, "generator state"));
    return 0;
}

ddpg *ddpg_load(FILE *f, err *e)
{
    uint32_t head[2];
    if (get(f, head, sizeof head[0], 2, e, "header") < 0)
        return NULL;
    if (head[0] != DDPG_FILE_MAGIC) {
        err_set(e, ERR_INPUT, "ddpg checkpoint: magic 0x%08x found, expected 0x%08x",
                (unsigned)head[0], (unsigned)DDPG_FILE_MAGIC);
        return NULL;
    }
    if (head[1] != DDPG_FILE_VERSION) {
        err_set(e, ERR_INPUT, "ddpg checkpoint: format version %u found, expected %u",
                (unsigned)head[1], (unsigned)DDPG_FILE_VERSION);
        return NULL;
    }
    uint32_t u[CFG_UINTS];
    double r[CFG_REALS];
    uint64_t seed;
    int32_t thr;
    if (get(f, u, sizeof u[0], CFG_UINTS, e, "config") < 0 ||
        get(f, r, sizeof r[0], CFG_REALS, e, "config") < 0 ||
        get(f, &seed, sizeof seed, 1, e, "config") < 0 ||
        get(f, &thr, sizeof thr, 1, e, "config") < 0)
        return NULL;
    ddpg_config c;
    config_unpack(&c, u, r, seed, thr);
    if (ddpg_config_check(&c, e) < 0) {
        err_prefix(e, "ddpg checkpoint");
        return NULL;
    }
    ddpg *d = agent_alloc(&c);
    if (load_body(d, f, e) < 0) {
        ddpg_destroy(d);
        return NULL;
    }
    return d;
}
