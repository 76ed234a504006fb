/* point: one point of a study -- a list of settings (path = text) turned into an architecture, a
 * network, a policy and copies, the job run on them (the analytic model, the event simulation,
 * replication, or a precision search) and the metrics it yields. Invariant: point_eval touches no
 * global state and keeps nothing between calls but the caller's per-thread cache of parsed files,
 * so points may be evaluated on any number of threads at once and give the same bits as one
 * after the other.
 */
#ifndef XBARSIM_CLI_POINT_H
#define XBARSIM_CLI_POINT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Jobs: X(ID, name, what it does). */
#define POINT_JOBS(X)                                                                              \
    X(MAP, "map", "analytic model of the mapped network")                                          \
    X(RUN, "run", "event simulation (trace off)")                                                  \
    X(REPLICATE, "replicate", "copies chosen under a tile budget (exact solver), then the model")  \
    X(SEARCH, "search", "precision search (accuracy by accuracy.backend); the best episode's")

typedef enum point_job {
#define POINT_JOB_ENUM(id, name, what) POINT_JOB_##id,
    POINT_JOBS(POINT_JOB_ENUM)
#undef POINT_JOB_ENUM
        POINT_JOB_COUNT
} point_job;

#define POINT_M   (1u << POINT_JOB_MAP)
#define POINT_R   (1u << POINT_JOB_RUN)
#define POINT_P   (1u << POINT_JOB_REPLICATE)
#define POINT_S   (1u << POINT_JOB_SEARCH)
#define POINT_ALL (POINT_M | POINT_R | POINT_P | POINT_S)

/* Metrics: X(ID, column name, unit, jobs giving it, meaning). */
#define POINT_METRICS(X)                                                                           \
    X(LATENCY, "latency_us", "us", POINT_ALL,                                                      \
      "one inference: model (map, replicate with the copies), simulated inference 0 (run), "       \
      "best episode (search)")                                                                     \
    X(THROUGHPUT, "throughput_per_s", "1/s", POINT_ALL,                                            \
      "pipelined inferences per second (run: steady state of the simulated inferences)")           \
    X(ENERGY, "energy_uj", "uJ", POINT_ALL,                                                        \
      "energy per inference, steady state (= energy_steady_uj)")                                   \
    X(ENERGY_SINGLE, "energy_single_uj", "uJ", POINT_M | POINT_R | POINT_P,                        \
      "energy per inference, static power over one inference's latency")                           \
    X(ENERGY_STEADY, "energy_steady_uj", "uJ", POINT_M | POINT_R | POINT_P,                        \
      "energy per inference, static power over the pipelined period (1 / throughput)")             \
    X(AREA, "area_mm2", "mm2", POINT_M | POINT_R | POINT_P,                                        \
      "area of the chips used (every part of each chip)")                                          \
    X(TOPS_PER_W, "tops_per_w", "TOPS/W", POINT_M | POINT_R | POINT_P,                             \
      "2 x MACs per inference / steady-state energy per inference")                                \
    X(TOPS_PER_MM2, "tops_per_mm2", "TOPS/mm2", POINT_M | POINT_R | POINT_P,                       \
      "2 x MACs per inference x throughput / chip area")                                           \
    X(EDP, "edp_uj_ms", "uJ*ms", POINT_M | POINT_R | POINT_P, "single-inference energy x latency") \
    X(TILES, "tiles_used", "count", POINT_ALL, "tiles holding weights (with every copy)")          \
    X(UTILISATION, "utilisation", "fraction", POINT_M | POINT_R | POINT_P,                         \
      "busy tile time / (tiles used x latency, or x makespan for run)")                            \
    X(ACCURACY, "accuracy", "fraction", POINT_ALL,                                                 \
      "by accuracy.backend: the proxy's ESTIMATE (default) or measured by functional crossbar "    \
      "inference (search: the best episode's)")                                                    \
    X(ACCURACY_ESTIMATE, "accuracy_is_estimate", "-", POINT_ALL,                                   \
      "1 when accuracy is the proxy's estimate, 0 when it was measured")                           \
    X(NOC_ENERGY, "noc_energy_uj", "uJ", POINT_M | POINT_R | POINT_P,                              \
      "the on-chip network's energy per inference, dynamic + static, steady state (model)")        \
    X(BIT_HOPS, "bit_hops", "count", POINT_M | POINT_R | POINT_P,                                  \
      "bits x hops over the on-chip network per inference (model)")                                \
    X(NOC_SHARE, "noc_share", "fraction", POINT_M | POINT_R | POINT_P,                             \
      "of the model's latency, the part the network's transfers take")                             \
    X(CHIPS, "chips", "count", POINT_M | POINT_R | POINT_P,                                        \
      "chips the mapping uses (arch.chips is the most it may)")                                    \
    X(INTERCHIP_ENERGY, "interchip_energy_uj", "uJ", POINT_M | POINT_R | POINT_P,                  \
      "the links between chips: energy per inference, dynamic + static, steady state (model)")     \
    X(OFFCHIP_ENERGY, "offchip_energy_uj", "uJ", POINT_M | POINT_R | POINT_P,                      \
      "the off-chip links: energy per inference, dynamic + static, steady state (model)")          \
    X(OFFCHIP_BITS, "offchip_bits", "count", POINT_M | POINT_R | POINT_P,                          \
      "bits over the off-chip link per inference (model)")                                         \
    X(ADC_NEEDED, "adc_bits_needed", "bits", POINT_ALL,                                            \
      "ADC bits a lossless column sum needs on this arch")                                         \
    X(MODEL_LATENCY, "model_latency_us", "us", POINT_R, "the analytic model's latency")            \
    X(MODEL_THROUGHPUT, "model_throughput_per_s", "1/s", POINT_R, "the model's throughput")        \
    X(MODEL_ENERGY, "model_energy_uj", "uJ", POINT_R, "the model's steady-state energy")           \
    X(EVENTS, "events", "count", POINT_R, "events the simulation handled")                         \
    X(LATENCY_GAIN, "latency_gain", "x", POINT_P | POINT_S,                                        \
      "latency before / after (replicate: one copy each; search: all-8/8 baseline)")               \
    X(THROUGHPUT_GAIN, "throughput_gain", "x", POINT_P | POINT_S, "throughput after / before")     \
    X(BUDGET_TILES, "budget_tiles", "count", POINT_P, "the tile budget the copies were chosen in") \
    X(REWARD, "best_reward", "-", POINT_S, "reward of the best episode")                           \
    X(BEST_EPISODE, "best_episode", "count", POINT_S, "index of the best episode")

typedef enum point_metric {
#define POINT_METRIC_ENUM(id, name, unit, jobs, what) POINT_METRIC_##id,
    POINT_METRICS(POINT_METRIC_ENUM)
#undef POINT_METRIC_ENUM
        POINT_METRIC_COUNT
} point_metric;

/* Settings a point understands besides arch.* overrides: X(ID, path, kind, meaning). Kinds:
 * 's' string, 'u' unsigned integer, 'b' boolean, 'x' replication budget (string, or a number =
 * a multiple of the all-8/8 tiles). */
#define POINT_PATHS(X)                                                                             \
    X(ARCH, "arch", 's', "architecture preset name or file")                                       \
    X(NETWORK, "network", 's', "built-in network name or file")                                    \
    X(POLICY, "policy", 's', "uniform:B, uniform:W,A, a .csv or libconfig policy file")            \
    X(POLICY_UNIFORM, "policy.uniform", 'u', "B: every layer B-bit weights and activations")       \
    X(COPIES, "replication.copies", 's', "copies per layer: none, auto, NAME=K[,...] or a file")   \
    X(BUDGET, "replication.budget", 'x', "replicate: tiles N, FACTORx or chip; a number: FACTORx") \
    X(OBJECTIVE, "replication.objective", 's', "replicate: latency or throughput")                 \
    X(PLACEMENT, "placement", 's', "groups or packed")                                             \
    X(INFERENCES, "run.inferences", 'u', "run: inferences simulated")                              \
    X(OVERLAP, "run.overlap", 'b', "run: pipelining and shared buses (true) or the model's plan")  \
    X(MODE, "search.mode", 's', "search: lrmp, cimaq, haq or huang")                               \
    X(EPISODES, "search.episodes", 'u', "search: episodes")                                        \
    X(AGENT, "search.agent", 's', "search: ddpg or random")                                        \
    X(SEED, "seed", 'u', "seed of the search and of QAT fine-tuning")                              \
    X(ACC_BACKEND, "accuracy.backend", 's', "proxy (an estimate, default) or functional")          \
    X(ACC_WEIGHTS, "accuracy.weights", 's', "functional: the float weights file (xbarsim train)")  \
    X(ACC_DATA, "accuracy.data", 's', "functional: Fashion-MNIST folder (default Debian's)")       \
    X(ACC_HOLDOUT, "accuracy.holdout", 'u', "functional: last N training images evaluated")        \
    X(ACC_ADC_MODE, "accuracy.adc_mode", 's', "functional: saturate, drop_lsb or ideal")           \
    X(ACC_FINETUNE, "accuracy.finetune_epochs", 'u', "functional: QAT epochs before evaluating")

/* One setting: a path (above, or arch.GROUP.NAME) and its value as text. Strings not owned. */
typedef struct point_setting {
    const char *path;
    const char *text;
} point_setting;

#define POINT_MESSAGE_BYTES 256

/* What one point gave. */
typedef struct point_result {
    bool ok;                           /* false: the point failed, message says why */
    double metric[POINT_METRIC_COUNT]; /* by point_metric, NaN where the job gives none */
    char message[POINT_MESSAGE_BYTES]; /* why it failed ("" when ok) */
    double wall_s;                     /* evaluation wall time, s */
} point_result;

/* What a worker may keep between points to skip reading and parsing the same files again (the
 * last network, the last architecture file's text). One per thread: never shared. Results are
 * the same with or without one. */
typedef struct point_cache point_cache;
point_cache *point_cache_create(void);
void point_cache_destroy(point_cache *c); /* NULL: no-op */

/* Evaluate job on settings s[0 .. n-1] (a later setting of a path wins over an earlier one);
 * relative file names resolve in dir first (NULL: the current folder only), then as presets and
 * built-in networks; cache (NULL: none) is the calling thread's. Always fills *out: ok, or not ok
 * with the reason in message (a setting that does not parse, a combination that does not fit the
 * chip, ...). Never prints. */
void point_eval(point_job job, const point_setting *s, unsigned n, const char *dir,
                point_cache *cache, point_result *out);

/* Check a non-arch setting's path and value without evaluating anything: 0, or ERR_INPUT with
 * e holding "PATH: found ..., expected ..." (unknown path: the list of known ones). arch.* paths
 * are accepted here (the caller checks them against an architecture). */
int point_setting_check(const char *path, const char *text, err *e);

/* Registry look-ups: names are static; parse returns 0, or -1 for an unknown name. */
const char *point_job_name(point_job j);
int point_job_parse(const char *name, point_job *out);
const char *point_metric_name(point_metric m);
const char *point_metric_unit(point_metric m);
const char *point_metric_meaning(point_metric m);
int point_metric_parse(const char *name, point_metric *out);
/* Whether job j gives metric m. */
bool point_metric_of(point_metric m, point_job j);

#endif
