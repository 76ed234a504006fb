/* env_internal: what the environment (env.c) and its mode table (env_modes.c) share -- the
 * environment's state and the row of hooks each mode is. Invariant: env.c never asks which mode
 * it runs; every difference between modes is a property or a hook of the mode's row.
 */
#ifndef XBARSIM_SEARCH_ENV_INTERNAL_H
#define XBARSIM_SEARCH_ENV_INTERNAL_H

#include "env.h"
#include "mapping.h"
#include "model.h"

#define ENV_STATIC_FEATURES 8 /* normalised per column over the layers */

typedef struct env_mode_ops env_mode_ops;

struct env {
    const network *n;
    const arch *a;
    env_config c;
    const env_mode_ops *mode; /* c.mode's row of the mode table */
    acc_backend *acc;
    unsigned layers;                     /* crossbar layers, count */
    unsigned per_layer;                  /* decisions per layer: 2, or 3 with an ADC decision */
    double (*feat)[ENV_STATIC_FEATURES]; /* by crossbar layer, normalised to [0, 1] */
    double *f_in, *f_w; /* share of input activations and of weights by layer, fractions */
    policy pol;         /* the episode's policy */
    unsigned *copies;   /* the episode's copies by crossbar layer */
    unsigned t;         /* next decision, index */
    unsigned prev_bits; /* bits of the previous decision */
    simtime base_latency_ps, base_bottleneck_ps; /* all 8/8, one copy each, ps */
    double base_energy_pj;                       /* pJ */
    uint64_t base_tiles;                         /* count */
};

/* One mode: its name, the defaults and properties env.c reads, and its hooks. */
struct env_mode_ops {
    const char *name;  /* config and command-line name */
    bool fix_ends;     /* default of env_config.fix_ends */
    bool cell_aligned; /* default of env_config.cell_aligned */
    bool adc_decision; /* a third decision per layer: its ADC bits */
    bool replicates;   /* the episode's copies come from LRMP's exact solver in the tile budget */
    /* The mode's own config checks after the common ones; 0 or ERR_INPUT. NULL: none. */
    int (*check)(const arch *a, const env_config *c, err *e);
    /* Where the --budget fraction goes (see env_config_set_budget). */
    void (*set_budget)(env_config *c, double fraction);
    /* The budget of episode ep, x baseline; NULL: the mode has none, and no action wall. */
    double (*budget)(const env_config *c, unsigned ep);
    /* The budgeted figure of a priced policy, x baseline; NULL: none (outcome cost 0). */
    double (*cost)(const env *v, const mapping *m, const model *mo);
    /* The episode's reward from its outcome (accuracy, reference) and its pricing. */
    double (*reward)(const env *v, const env_outcome *o, const model *mo);
};

/* The mode table, indexed by env_mode (env_modes.c). */
extern const env_mode_ops env__modes[ENV_MODE_COUNT];

#endif
