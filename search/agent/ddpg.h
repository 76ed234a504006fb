/* ddpg: HAQ's DDPG agent for the precision search -- one action in [0,1] per decision, one reward
 * per episode, actor/critic nets with soft-updated targets, a replay ring, a reward baseline.
 * Invariant: everything random draws from the agent's one GSL stream (seed, DDPG_RNG_STREAM), so
 * the same config and the same calls give bit-identical actions, and a checkpoint saved between
 * episodes and loaded again continues exactly as the uninterrupted agent would.
 */
#ifndef XBARSIM_SEARCH_DDPG_H
#define XBARSIM_SEARCH_DDPG_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "nn.h"

/* Precision. The nets compute in float (nn.h); states and actions are rounded to float on their
 * way into a net, while the replay keeps them in double as taken, and rewards, baseline and critic
 * targets stay double.
 *
 * Bit-reproducibility. Equal config, seed and calls give equal bits only with the same OpenBLAS
 * kernel and thread count. The kernel is picked per CPU at load time (DYNAMIC_ARCH: e.g.
 * Cooperlake natively, Haswell under valgrind; force one with OPENBLAS_CORETYPE). Threads: sgemm
 * splits a product over threads only above m n k ~ 262k (HAQ's batch 64 x 300 x 300 is above; the
 * tests' nets are below), and then the last bits do change with the thread count -- hence
 * blas_threads, 1 by default. Checkpoints resume bit for bit under the same two conditions.
 *
 * Stream id of the agent's RNG under the run seed (engine/rng.h). */
#define DDPG_RNG_STREAM UINT64_C(0x6464706761676e74)

/* Checkpoint format: magic "XBDP" then a format version. */
#define DDPG_FILE_MAGIC   UINT32_C(0x50444258)
#define DDPG_FILE_VERSION UINT32_C(2) /* 2: nets in float (nn format 2) */

/* Most transitions the replay may hold (replay_per_decision x decisions_per_episode). */
#define DDPG_MAX_REPLAY (1u << 24)

/* Attempts at a truncated-normal draw before falling back to clipping the actor output to [0,1]
 * (each attempt succeeds with probability >= Phi(0.5 / sigma) - 1/2, 0.34 at sigma 0.5). */
#define DDPG_TRUNC_TRIES 10000u

/* Where the reward baseline is taken and subtracted (see ddpg_observe_episode). */
typedef enum ddpg_baseline_mode {
    DDPG_BASELINE_EPISODE, /* moving average of episode rewards, subtracted when stored */
    DDPG_BASELINE_BATCH,   /* HAQ's code: moving average of sampled batches' mean rewards,
                              subtracted at every update */
} ddpg_baseline_mode;

/* All settings; ddpg_config_default gives HAQ's (REFERENCE.md section 3). */
typedef struct ddpg_config {
    unsigned state_dim;             /* values per state, count (HAQ: 10) */
    unsigned hidden1;               /* units of the first hidden layer of both nets, count (300) */
    unsigned hidden2;               /* units of the second hidden layer of both nets, count (300) */
    double lr_actor;                /* actor Adam step size, per update (1e-4) */
    double lr_critic;               /* critic Adam step size, per update (1e-3) */
    double tau;                     /* soft-update fraction of the targets per update (0.01) */
    double discount;                /* gamma of the critic target, in [0, 1] (1.0) */
    unsigned decisions_per_episode; /* T, decisions per episode, count; ddpg_config_default
                                       leaves 0: the caller must set it */
    unsigned replay_per_decision;   /* replay capacity per decision, count (128); capacity =
                                       replay_per_decision x decisions_per_episode transitions */
    unsigned batch;                 /* transitions per update, count (64) */
    unsigned warmup;                /* episodes of uniform random actions, no updates, count (20) */
    double sigma0;                  /* noise std at episode == warmup, action units (0.5) */
    double sigma_decay;             /* noise std factor per episode after warm-up (0.99) */
    double baseline_alpha;          /* reward-baseline moving-average factor, in (0, 1] (0.5) */
    ddpg_baseline_mode baseline_mode; /* where the baseline is taken (EPISODE) */
    double init_w;                    /* final-layer weight init range of both nets (3e-3) */
    uint64_t seed;                    /* run seed of the agent's RNG stream (1) */
    int blas_threads;                 /* OpenBLAS threads set by create/load, process-wide (see
                                         above); 0 leaves OpenBLAS's own setting (1) */
} ddpg_config;

typedef struct ddpg ddpg;

/* HAQ's settings for states of state_dim values: hidden 300/300, lr actor 1e-4, critic 1e-3,
 * tau 0.01, discount 1.0, replay 128 per decision, batch 64, warm-up 20 episodes, sigma0 0.5,
 * decay 0.99, baseline alpha 0.5 per episode (EPISODE), init_w 3e-3, seed 1, blas_threads 1;
 * decisions_per_episode 0 (the caller sets it). */
void ddpg_config_default(ddpg_config *c, unsigned state_dim);
/* 0 when c is usable, else ERR_INPUT or ERR_LIMIT with e naming the field, the value found and
 * the range expected. */
int ddpg_config_check(const ddpg_config *c, err *e);

/* A new agent: actor and critic initialised from the agent's stream (actor first, nn_init with
 * c->init_w), targets copied from them, empty replay, no baseline. c must pass ddpg_config_check
 * (a failing one is a bug: assertion). Sets OpenBLAS's thread count when c->blas_threads > 0.
 * Owned by the caller: ddpg_destroy. */
ddpg *ddpg_create(const ddpg_config *c);
/* Free d; NULL is a no-op. */
void ddpg_destroy(ddpg *d);
/* The agent's settings (valid until ddpg_destroy). */
const ddpg_config *ddpg_get_config(const ddpg *d);

/* The action for state (state_dim values) in episode `episode` (0-based). Episodes < warmup:
 * U[0,1) (gsl_ran_flat). Later: the actor output mu plus truncated-normal noise on [0,1] with
 * sigma = ddpg_sigma(d, episode), drawn by rejection (mu + gsl_ran_gaussian(sigma) redrawn until
 * inside [0,1]; after DDPG_TRUNC_TRIES misses, mu clipped to [0,1]). HAQ draws the same
 * distribution with scipy's truncnorm. HAQ's loop also acts randomly in episode == warmup; here
 * warm-up is exactly `warmup` episodes. */
double ddpg_act(ddpg *d, const double *state, unsigned episode);
/* The actor output for state, no noise, no RNG draw. */
double ddpg_act_greedy(ddpg *d, const double *state);
/* Exploration std for an episode >= warmup: sigma0 x sigma_decay^(episode - warmup); 0 during
 * warm-up (the actions there are uniform). */
double ddpg_sigma(const ddpg *d, unsigned episode);

/* End of an episode of T >= 1 decisions: states (T x state_dim) and actions (T) as taken, and the
 * episode's one reward. In order:
 * 1. every transition t stores (states[t], actions[t], r, states[t+1], not terminal), the last one
 *    terminal (next state stored as zeros, never read). EPISODE mode: r = reward - b with b the
 *    baseline before this episode (for the first episode b = reward, so its transitions store 0).
 *    BATCH mode: r = reward;
 * 2. EPISODE mode: the baseline moves, b <- reward on the first episode, else
 *    b <- b + alpha (reward - b) (alpha = baseline_alpha; 0.5 weighs this episode as much as all
 *    before it together);
 * 3. when episode >= warmup, T updates (HAQ's one per stored transition), each: a batch of `batch`
 *    indices drawn uniformly with replacement (gsl_rng_uniform_int) from the replay; BATCH mode
 *    only: b <- the batch's mean r on the first update, else b <- b + alpha (mean r - b), and b is
 *    subtracted from the batch's r (what HAQ's update_policy does); critic target
 *    y = r + discount (1 - done) Q'(s', mu'(s')); one Adam step of the critic on the mean squared
 *    error (Q(s, a) - y)^2; one Adam step of the actor on -mean Q(s, mu(s)) (gradient through the
 *    critic's action input, critic held fixed); soft update of actor then critic targets.
 * The replay is a ring of replay_per_decision x decisions_per_episode transitions, oldest
 * overwritten first. */
void ddpg_observe_episode(ddpg *d, const double *states, const double *actions, unsigned T,
                          double reward, unsigned episode);

/* Wall seconds spent in updates (step 3 above) since create or load (not checkpointed). */
double ddpg_update_seconds(const ddpg *d);
/* Updates done since create, count (checkpointed). */
uint64_t ddpg_update_count(const ddpg *d);
/* The reward baseline b now (0 before the first average is taken). */
double ddpg_baseline(const ddpg *d);
/* Transitions in the replay, count (<= its capacity). */
unsigned ddpg_replay_size(const ddpg *d);

/* Write everything the agent's future depends on: config, the four nets with Adam moments and
 * step counts, replay contents and ring position, baseline, update count, RNG state (GSL's raw
 * state bytes, as gsl_rng_fwrite writes them). Host binary layout. Not the update timer.
 * Returns 0, or ERR_IO with e filled. */
int ddpg_save(const ddpg *d, FILE *f, err *e);
/* Read what ddpg_save wrote: a new agent owned by the caller, or NULL with e filled (ERR_IO on a
 * short read, ERR_INPUT on a wrong magic, version, generator or inconsistent content, ERR_LIMIT on
 * sizes beyond the limits). Sets OpenBLAS's thread count like ddpg_create. */
ddpg *ddpg_load(FILE *f, err *e);

/* ---- The nets' maths, exposed for the gradient checks of the tests ----
 * Actor layers: DDPG_ACTOR_FC1 (state -> h1), ReLU, FC2 (h1 -> h2), ReLU, FC3 (h2 -> 1), sigmoid.
 * Critic layers: DDPG_CRITIC_FC11 (state -> h1) + FC12 (action -> h1), summed, ReLU, FC2
 * (h1 -> h2), ReLU, FC3 (h2 -> 1). */
enum { DDPG_ACTOR_FC1, DDPG_ACTOR_FC2, DDPG_ACTOR_FC3, DDPG_ACTOR_LAYERS };
enum { DDPG_CRITIC_FC11, DDPG_CRITIC_FC12, DDPG_CRITIC_FC2, DDPG_CRITIC_FC3, DDPG_CRITIC_LAYERS };

/* The agent's live (not target) nets, owned by d. */
nn_net *ddpg_actor(ddpg *d);
nn_net *ddpg_critic(ddpg *d);

/* Uninitialised (all-zero) nets of the shapes above; owned by the caller: nn_destroy. */
nn_net *ddpg_actor_create(unsigned state_dim, unsigned h1, unsigned h2);
nn_net *ddpg_critic_create(unsigned state_dim, unsigned h1, unsigned h2);

/* Hidden activations of one forward pass of each net for up to `rows` samples, kept for the
 * backward pass, plus its scratch. Owned by the caller: ddpg_work_destroy (NULL is a no-op). */
typedef struct ddpg_work ddpg_work;
ddpg_work *ddpg_work_create(unsigned rows, unsigned h1, unsigned h2);
void ddpg_work_destroy(ddpg_work *w);

/* mu (n) = actor(s), s n x state_dim; keeps the actor's activations in w. */
void ddpg_actor_forward(const nn_net *actor, ddpg_work *w, unsigned n, const float *s, float *mu);
/* Add to the actor's gradients dL/dparams given dL/dmu (n), after ddpg_actor_forward(s) -> mu
 * with the same w. */
void ddpg_actor_backward(nn_net *actor, ddpg_work *w, unsigned n, const float *s, const float *mu,
                         const float *dmu);
/* q (n) = critic(s, a), a n x 1; keeps the critic's activations in w. */
void ddpg_critic_forward(const nn_net *critic, ddpg_work *w, unsigned n, const float *s,
                         const float *a, float *q);
/* After ddpg_critic_forward(s, a) with the same w, given dL/dq (n): when param_grads is non-zero
 * add dL/dparams to the critic's gradients (else leave them untouched); when da is not NULL
 * overwrite it with dL/da (n). */
void ddpg_critic_backward(nn_net *critic, ddpg_work *w, unsigned n, const float *s, const float *a,
                          const float *dq, float *da, int param_grads);

#endif
