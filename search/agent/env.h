/* env: the precision-search environment. One episode walks the crossbar layers, asking per layer
 * for a weight decision, then an activation decision (and in `huang` mode an ADC decision); each
 * action in [0, 1] becomes bits by HAQ's rounding. At the episode's end the policy is made to fit
 * the mode's budget (HAQ's action wall), replicated (lrmp), priced by the analytic model, scored
 * by an accuracy backend, and rewarded as the mode says. Invariant: the environment is
 * deterministic -- the same actions give the same policy, outcome and reward.
 */
#ifndef XBARSIM_SEARCH_ENV_H
#define XBARSIM_SEARCH_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "accuracy.h"
#include "arch.h"
#include "err.h"
#include "network.h"
#include "policy.h"
#include "replicate.h"
#include "simtime.h"

#define ENV_FEATURES 10 /* state values per decision (REFERENCE section 3) */

/* Modes: X(ID). Each mode's name, properties and hooks are its row of the mode table
 * (env_modes.c); the order here is the order of every list of names. */
#define ENV_MODE_MAP(X)                                                                            \
    X(LRMP)  /* tightening latency budget, replication, accuracy + speed-up reward */              \
    X(CIMAQ) /* accuracy-target reward on the cost ratio to 8-bit */                               \
    X(HAQ)   /* budget on latency, energy or tiles; reward from accuracy */                        \
    X(HUANG) /* per-layer ADC bits too; threshold reward on a bit-cost */

typedef enum env_mode {
#define ENV_MODE_ENUM(id) ENV_MODE_##id,
    ENV_MODE_MAP(ENV_MODE_ENUM)
#undef ENV_MODE_ENUM
        ENV_MODE_COUNT
} env_mode;

/* What a haq budget limits: X(ID, name). */
#define ENV_BUDGET_MAP(X)                                                                          \
    X(LATENCY, "latency")                                                                          \
    X(ENERGY, "energy")                                                                            \
    X(TILES, "tiles")

typedef enum env_budget {
#define ENV_BUDGET_ENUM(id, name) ENV_BUDGET_##id,
    ENV_BUDGET_MAP(ENV_BUDGET_ENUM)
#undef ENV_BUDGET_ENUM
        ENV_BUDGET_COUNT
} env_budget;

typedef struct env_config {
    env_mode mode;
    unsigned min_bits, max_bits; /* weight and activation bits, default 2..8 */
    unsigned adc_min, adc_max;   /* huang: ADC bits, default 1..9 */
    bool fix_ends;               /* first and last crossbar layers stay 8/8 */
    bool cell_aligned;           /* weight bits a multiple of arch.tiles.cell_bits */
    /* haq */
    env_budget budget_kind; /* what the budget limits (default latency) */
    double budget;          /* fraction of the all-8/8 network's figure (default 0.5) */
    /* cimaq */
    double allowed_drop_pp; /* accuracy below the reference allowed, percentage points (1.0) */
    /* lrmp */
    replicate_objective objective; /* latency (sum of layers) or throughput (slowest layer) */
    double budget_start;           /* latency budget of episode 0, x baseline (0.35) */
    double budget_end;             /* of the last episode, x baseline (0.2) */
    unsigned episodes;             /* episodes the budget tightens over, count */
    const char *tile_budget;       /* replication budget spec (default "1.0x": 8-bit tiles) */
    double lambda;                 /* reward weight of the accuracy change, per point (1.0) */
    double alpha;                  /* reward weight of the speed-up term (1.0) */
    bool gain_log;                 /* g(x) = log2 x (default) or x - 1 */
    /* huang */
    double huang_base;         /* alpha of the bit cost alpha^adc (...), default 1.25 */
    double huang_threshold_pp; /* accuracy loss allowed, percentage points (default 1.0) */
} env_config;

/* Defaults of every field for a mode (REFERENCE sections 1-4). */
void env_config_default(env_config *c, env_mode mode, unsigned episodes);
/* Set the mode's budget (a fraction of the 8-bit network's figure): lrmp's final one
 * (budget_end), haq's fixed one (budget); the modes without a budget keep it in `budget`. */
void env_config_set_budget(env_config *c, double fraction);

/* The result of one episode. */
typedef struct env_outcome {
    double reward;           /* the mode's reward */
    double accuracy;         /* fraction 0..1 */
    double reference;        /* the backend's reference accuracy, fraction */
    bool estimate;           /* the accuracy is the proxy's estimate */
    bool failed;             /* the accuracy backend failed (note says why); reward is -inf-like */
    char note[256];          /* the failure, or what the wall did */
    simtime latency_ps;      /* one inference, with the chosen copies, ps */
    simtime bottleneck_ps;   /* slowest layer, ps */
    double throughput_per_s; /* 1 / bottleneck, inferences/s */
    double energy_pj;        /* per inference, steady state (static over 1 / throughput), pJ */
    uint64_t tiles;          /* tiles used with the copies, count */
    double budget;           /* the budget this episode (x baseline; 0 when the mode has none) */
    double cost;             /* the budgeted figure after the wall (x baseline) */
    double t_replicate_s, t_cost_s, t_accuracy_s; /* wall time by step, s */
    uint64_t acc_reused, acc_computed; /* the backend's layer products reused, computed, count */
} env_outcome;

typedef struct env env;

/* An environment for network n on arch a with accuracy backend acc (none of them owned; they must
 * outlive it). ERR_INPUT when the mode does not fit the arch (lrmp needs weight-stationary) or
 * the config is out of range. */
int env_create(const network *n, const arch *a, const env_config *c, acc_backend *acc, env **out,
               err *e);
void env_destroy(env *v);

/* Decisions per episode, count. */
unsigned env_decisions(const env *v);
/* Start an episode. */
void env_reset(env *v);
/* The state of the next decision into state[ENV_FEATURES]. */
void env_state(const env *v, double *state);
/* Take the next decision's action (0..1); returns the bits it became. */
unsigned env_step(env *v, double action);

/* Finish episode `episode` (0-based): wall, replication, cost, accuracy, reward. Nothing here is
 * an error: a backend failure (or a policy that cannot be priced) is an outcome with `failed`
 * set and `note` saying why; a budget the wall cannot meet with every layer at the minimum is
 * scored as it stands, with `note` saying so. */
void env_finish(env *v, unsigned episode, env_outcome *out);

/* The policy and copies (per crossbar layer) of the last finished episode; valid until the next
 * env_finish. */
const policy *env_policy(const env *v);
const unsigned *env_copies(const env *v);

/* The all-8/8 baseline (one copy each): latency, slowest layer, energy, tiles. */
void env_baseline(const env *v, simtime *latency_ps, simtime *bottleneck_ps, double *energy_pj,
                  uint64_t *tiles);

/* The mode table's look-ups: parse returns 0, or -1 for an unknown name. */
const char *env_mode_name(env_mode m);
int env_mode_parse(const char *s, env_mode *m);
/* Every mode's name, "lrmp, cimaq, haq or huang", for "expected ..." messages. */
err_names env_mode_names(void);
/* Whether the mode decides each layer's ADC bits too (a third decision per layer). */
bool env_mode_decides_adc(env_mode m);
const char *env_budget_name(env_budget b);
int env_budget_parse(const char *s, env_budget *b);

/* HAQ's action to bits: round((max - min + 1) x a + min - 0.5), clamped to [min, max]. */
unsigned env_action_bits(double a, unsigned min, unsigned max);

#endif
