/* search: the precision-search loop -- episodes of an agent (HAQ's DDPG, or uniform random
 * actions as the baseline it must beat) acting in an environment (env.h), with the log of every
 * episode, the best policy, the Pareto front, timing by step, and checkpoints from which an
 * interrupted search resumes and ends exactly where an uninterrupted one would.
 * Invariant: the same environment, options and seed give the same log, bit for bit.
 * This header is the interface of the search/agent room: it brings env.h, ddpg.h and nn.h.
 */
#ifndef XBARSIM_SEARCH_SEARCH_H
#define XBARSIM_SEARCH_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "ddpg.h"
#include "env.h"
#include "err.h"

/* Agents: X(ID, name). */
#define SEARCH_AGENT_MAP(X)                                                                        \
    X(DDPG, "ddpg")                                                                                \
    X(RANDOM, "random")

typedef enum search_agent {
#define SEARCH_AGENT_ENUM(id, name) SEARCH_AGENT_##id,
    SEARCH_AGENT_MAP(SEARCH_AGENT_ENUM)
#undef SEARCH_AGENT_ENUM
        SEARCH_AGENT_COUNT
} search_agent;

typedef struct search_options {
    unsigned episodes;         /* count */
    uint64_t seed;             /* the agent's seed */
    search_agent agent;        /* ddpg or random */
    ddpg_config ddpg;          /* the agent's settings (state_dim and decisions set by search) */
    bool stop_on_failure;      /* a failed accuracy evaluation ends the search (else it goes on) */
    const char *checkpoint;    /* file written every checkpoint_every episodes; NULL: none */
    unsigned checkpoint_every; /* episodes, count (0: only at the end) */
    bool resume;               /* start from the checkpoint when it exists */
} search_options;

/* Defaults: 600 episodes, seed 1, DDPG with HAQ's settings for the env's decisions. */
void search_options_default(search_options *o, const env *v);

/* One episode's record. */
typedef struct search_episode {
    env_outcome out; /* what the environment said */
    double sigma;    /* exploration noise of the episode (0 in warm-up and for random) */
    double wall_s;   /* the episode's wall time, s */
} search_episode;

/* The log: episodes in order, and each episode's bits and copies by crossbar layer. */
typedef struct search_log {
    unsigned n;         /* episodes done, count */
    unsigned layers;    /* crossbar layers, count */
    search_episode *ep; /* [n]; owned */
    uint8_t *wb, *ab;   /* [n x layers], bits; owned */
    uint8_t *adc;       /* [n x layers], bits (0: the arch's); owned */
    uint32_t *copies;   /* [n x layers], count; owned */
    int best;           /* episode with the highest reward among those not failed, or -1 */
    double t_agent_s;   /* agent: actions and updates, s */
    double t_update_s;  /* of which network updates, s */
    double t_replicate_s, t_cost_s, t_accuracy_s; /* environment steps, s */
    uint64_t acc_reused, acc_computed; /* layer products the accuracy backend reused, computed,
                                          count (functional; this process's episodes) */
    unsigned resumed_at;               /* episode the run resumed from (0: a fresh start) */
} search_log;

/* Called after every episode (e.g. for a progress bar); may be NULL. */
typedef void (*search_progress_fn)(const search_log *log, unsigned episodes, void *ctx);

/* Run the search. Returns 0 with *log filled (owned: search_log_fini), or a negative status with
 * e set: a checkpoint that cannot be read or written, or one from another search (its settings
 * differ), or a failed episode when stop_on_failure (the log then holds the episodes so far). */
int search_run(env *v, const search_options *o, search_log *log, search_progress_fn progress,
               void *ctx, err *e);
void search_log_fini(search_log *log);

/* The least accuracy a "best" policy must reach, by default: chance plus a margin,
 *   min = c + SEARCH_MIN_ACCURACY_MARGIN x (reference - c),   c = 1 / K,
 * K the elements of the network's last layer's output (its classes: 10 for LeNet-5 on
 * Fashion-MNIST, 1000 for ImageNet networks), reference the episode's (the proxy's scale: a
 * network's top-1, or 1.0 for accuracy relative to full precision; the functional backend's float
 * accuracy). A tenth of the way from guessing to the reference: a policy below it has lost the
 * network's function, whatever its speed (HAQ-style searches otherwise happily report a
 * chance-level 10 % on a 10-class problem as their best). Never below c. */
#define SEARCH_MIN_ACCURACY_MARGIN 0.1 /* fraction of (reference - chance) */
double search_min_accuracy_default(const network *n, double reference);
/* Chance accuracy of n: 1 / the elements of its last layer's output, fraction. */
double search_chance_accuracy(const network *n);
/* Episodes not failed whose accuracy reaches min (min < 0: each its own
 * search_min_accuracy_default), count. */
unsigned search_reached(const search_log *log, const network *n, double min);

/* Episodes on the Pareto front of (accuracy up, latency down, energy down) among those not
 * failed, in episode order; duplicates of a point keep the first. Returns the count; *out owned
 * (free). */
unsigned search_pareto(const search_log *log, unsigned **out);

const char *search_agent_name(search_agent a);
int search_agent_parse(const char *s, search_agent *a);

#endif
