/* test_search: the precision-search environment and loop. Bits from actions by hand; every mode's
 * reward recomputed from the outcome by its formula; the action wall meets its budget and a
 * brute-force check confirms the figure; lrmp copies stay inside the tile budget; the budget
 * schedule's ends and middle; determinism; a search resumed from a checkpoint equals the
 * uninterrupted one; the Pareto front against a brute-force definition. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accuracy.h"
#include "arch.h"
#include "env.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "search.h"
#include "testutil.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

typedef struct fixture {
    arch a;
    network n;
    acc_backend *acc;
    env *v;
} fixture;

static void setup(fixture *f, const char *preset, const char *net, env_mode mode, unsigned episodes,
                  const env_config *override)
{
    char path[512];
    err e;
    snprintf(path, sizeof path, "%s/configs/arch/%s.cfg", XBARSIM_SOURCE_DIR, preset);
    ck_assert_msg(arch_load_file(path, &f->a, &e) == 0, "%s", e.msg);
    snprintf(path, sizeof path, "%s/configs/net/%s.cfg", XBARSIM_SOURCE_DIR, net);
    ck_assert_msg(network_load_file(path, &f->n, &e) == 0, "%s", e.msg);
    acc_config ac;
    memset(&ac, 0, sizeof ac);
    ck_assert_msg(acc_create(ACC_BACKEND_PROXY, &ac, &f->acc, &e) == 0, "%s", e.msg);
    env_config c;
    if (override)
        c = *override;
    else
        env_config_default(&c, mode, episodes);
    ck_assert_msg(env_create(&f->n, &f->a, &c, f->acc, &f->v, &e) == 0, "%s", e.msg);
}

static void teardown(fixture *f)
{
    env_destroy(f->v);
    acc_destroy(f->acc);
    network_fini(&f->n);
    arch_fini(&f->a);
}

/* One episode with every action a (or actions[t] when given). */
static void episode(fixture *f, unsigned ep, double a, const double *actions, env_outcome *out)
{
    env_reset(f->v);
    for (unsigned t = 0; t < env_decisions(f->v); t++) {
        double s[ENV_FEATURES];
        env_state(f->v, s);
        for (int k = 0; k < ENV_FEATURES; k++)
            ck_assert(s[k] >= 0.0 && s[k] <= 1.0);
        env_step(f->v, actions ? actions[t] : a);
    }
    env_finish(f->v, ep, out);
    ck_assert_msg(!out->failed, "%s", out->note);
}

/* The analytic model of the env's current policy with its copies, independently of env.c. */
static void price_policy(fixture *f, bool with_copies, model *mo, mapping *m)
{
    arch big = f->a;
    big.tiles.count = 4000000000u;
    err e;
    ck_assert_msg(mapping_build(&f->n, &big, env_policy(f->v),
                                with_copies ? env_copies(f->v) : NULL, MAPPING_PLACE_PACKED, m,
                                &e) == 0,
                  "%s", e.msg);
    model_evaluate(&f->n, &f->a, m, mo); /* the real chip prices its idle tiles */
}

START_TEST(test_search_action_bits)
{
    /* round((8 - 2 + 1) a + 2 - 0.5): a = 0 -> round(1.5) = 2; 0.5 -> round(5) = 5;
     * 0.8 -> round(7.1) = 7; 1 -> round(8.5) = 9, clamped to 8. */
    ck_assert_uint_eq(env_action_bits(0.0, 2, 8), 2);
    ck_assert_uint_eq(env_action_bits(0.5, 2, 8), 5);
    ck_assert_uint_eq(env_action_bits(0.8, 2, 8), 7);
    ck_assert_uint_eq(env_action_bits(1.0, 2, 8), 8);
    ck_assert_uint_eq(env_action_bits(-3.0, 2, 8), 2);
    /* Every bit width in 1..9 gets an equal share of [0, 1] (1/9 each). */
    for (unsigned b = 1; b <= 9; b++)
        ck_assert_uint_eq(env_action_bits(((double)b - 0.5) / 9.0, 1, 9), b);
}
END_TEST

/* haq: a latency budget of 0.4 x the 8-bit network's is met by the wall from all-8 actions, and
 * the reward is 0.1 x the accuracy change in points. */
START_TEST(test_search_haq_wall_and_reward)
{
    fixture f;
    env_config c;
    env_config_default(&c, ENV_MODE_HAQ, 10);
    c.budget = 0.4;
    setup(&f, "lrmp", "resnet18", ENV_MODE_HAQ, 10, &c);
    env_outcome o;
    episode(&f, 0, 1.0, NULL, &o);
    simtime bl, bb;
    double be;
    uint64_t bt;
    env_baseline(f.v, &bl, &bb, &be, &bt);
    model mo;
    mapping m;
    price_policy(&f, false, &mo, &m);
    ck_assert_uint_eq(mo.latency_ps, o.latency_ps);
    ck_assert_double_le((double)mo.latency_ps / (double)bl, 0.4);
    ck_assert_double_eq_tol(o.cost, (double)mo.latency_ps / (double)bl, 1e-12);
    ck_assert_double_eq_tol(o.reward, 0.1 * 100.0 * (o.accuracy - o.reference), 1e-12);
    /* Something was lowered, and only by the wall: no layer went below 2 bits. */
    unsigned lowered = 0;
    for (unsigned i = 0; i < env_policy(f.v)->n; i++) {
        const policy_layer *pl = &env_policy(f.v)->layers[i];
        ck_assert_uint_ge(pl->wb, 2);
        ck_assert_uint_ge(pl->ab, 2);
        lowered += (8 - pl->wb) + (8 - pl->ab);
    }
    ck_assert_uint_gt(lowered, 0);
    model_fini(&mo);
    mapping_fini(&m);
    teardown(&f);
}
END_TEST

/* lrmp: the schedule runs 0.35 -> 0.2 geometrically; the copies fit 1.0x of the 8-bit tiles; the
 * reward is lambda (acc - ref) points + alpha log2 speed-up. */
START_TEST(test_search_lrmp_budget_copies_reward)
{
    fixture f;
    setup(&f, "lrmp", "resnet18", ENV_MODE_LRMP, 11, NULL);
    env_outcome o0, o5, o10;
    episode(&f, 0, 0.6, NULL, &o0);
    episode(&f, 5, 0.6, NULL, &o5);
    episode(&f, 10, 0.6, NULL, &o10);
    ck_assert_double_eq_tol(o0.budget, 0.35, 1e-12);
    ck_assert_double_eq_tol(o10.budget, 0.2, 1e-12);
    ck_assert_double_eq_tol(o5.budget, sqrt(0.35 * 0.2), 1e-12);
    simtime bl, bb;
    double be;
    uint64_t bt;
    env_baseline(f.v, &bl, &bb, &be, &bt);
    model mo;
    mapping m;
    price_policy(&f, true, &mo, &m);
    ck_assert_uint_le(m.tiles_used, bt); /* budget 1.0x: the 8-bit network's tiles */
    ck_assert_uint_eq(mo.latency_ps, o10.latency_ps);
    ck_assert_double_eq_tol(mo.energy_steady_total_pj, o10.energy_pj,
                            1e-9 * mo.energy_steady_total_pj);
    ck_assert_double_le((double)o10.latency_ps / (double)bl, 0.2);
    double want =
        100.0 * (o10.accuracy - o10.reference) + log2((double)bl / (double)o10.latency_ps);
    ck_assert_double_eq_tol(o10.reward, want, 1e-9);
    unsigned replicated = 0;
    for (unsigned i = 0; i < f.n.n_xbar; i++)
        replicated += env_copies(f.v)[i] > 1;
    ck_assert_uint_gt(replicated, 0);
    model_fini(&mo);
    mapping_fini(&m);
    teardown(&f);
}
END_TEST

/* cimaq: ends fixed at 8/8, weight bits whole cells (lrmp cells are 1 bit, so use puma's 2-bit
 * cells), reward by CIM-AQ's formula from the latency ratio. */
START_TEST(test_search_cimaq_reward_and_rules)
{
    fixture f;
    setup(&f, "puma", "resnet18", ENV_MODE_CIMAQ, 5, NULL);
    env_outcome o;
    episode(&f, 0, 0.3, NULL, &o); /* round(7 x 0.3 + 1.5) = 4 bits */
    const policy *p = env_policy(f.v);
    ck_assert_uint_eq(p->layers[0].wb, 8);
    ck_assert_uint_eq(p->layers[p->n - 1].ab, 8);
    for (unsigned i = 1; i + 1 < p->n; i++) {
        ck_assert_uint_eq(p->layers[i].wb % 2, 0);
        ck_assert_uint_eq(p->layers[i].ab, 4);
    }
    simtime bl, bb;
    double be;
    uint64_t bt;
    env_baseline(f.v, &bl, &bb, &be, &bt);
    double ratio = (double)o.latency_ps / (double)bl;
    double acc = 100 * o.accuracy, target = 100 * o.reference - 1.0;
    double want =
        acc < target ? -10.0 * (target - acc) : 100.0 * (1.0 / ratio - 1.0) + 0.1 * (acc - target);
    ck_assert_double_eq_tol(o.reward, want, 1e-9);
    teardown(&f);
}
END_TEST

/* huang: with every layer at (wb, ab, adc) the bit cost is base^adc (ab + wb) / max_bits, since
 * the shares sum to 1. */
START_TEST(test_search_huang_cost)
{
    fixture f;
    setup(&f, "puma", "lenet5", ENV_MODE_HUANG, 5, NULL);
    ck_assert_uint_eq(env_decisions(f.v), 3 * f.n.n_xbar);
    double actions[64];
    unsigned T = env_decisions(f.v);
    ck_assert_uint_le(T, 64);
    for (unsigned t = 0; t < T; t++) /* wb 6, ab 4, adc 7 (1..9: (7 - 0.5) / 9) */
        actions[t] = t % 3 == 0 ? 0.6 : t % 3 == 1 ? 0.3 : 6.5 / 9.0;
    env_outcome o;
    episode(&f, 0, 0, actions, &o);
    const policy *p = env_policy(f.v);
    ck_assert_uint_eq(p->layers[0].wb, 6);
    ck_assert_uint_eq(p->layers[0].ab, 4);
    ck_assert_uint_eq(p->layers[0].adc_bits, 7);
    /* Energy is the real chip's: puma's idle tiles draw static power (no gating). */
    model mo;
    mapping m;
    price_policy(&f, false, &mo, &m);
    ck_assert_double_eq_tol(mo.energy_steady_total_pj, o.energy_pj,
                            1e-9 * mo.energy_steady_total_pj);
    ck_assert_double_lt(o.energy_pj, 1e9); /* under 1 mJ for LeNet-5 */
    model_fini(&mo);
    mapping_fini(&m);
    double c = pow(1.25, 7) * (4.0 + 6.0) / 8.0;
    double loss = 100 * (o.reference - o.accuracy);
    double t = loss > 1.0 ? 100 + loss : loss;
    ck_assert_double_eq_tol(o.reward, -t - c, 1e-9);
    teardown(&f);
}
END_TEST

START_TEST(test_search_env_deterministic)
{
    fixture f;
    setup(&f, "lrmp", "resnet18", ENV_MODE_LRMP, 4, NULL);
    double actions[128];
    unsigned T = env_decisions(f.v);
    for (unsigned t = 0; t < T; t++)
        actions[t] = fmod(0.37 * t, 1.0);
    env_outcome a, b;
    episode(&f, 2, 0, actions, &a);
    episode(&f, 1, 0.9, NULL, &b); /* something else between */
    episode(&f, 2, 0, actions, &b);
    ck_assert_double_eq(a.reward, b.reward);
    ck_assert_uint_eq(a.latency_ps, b.latency_ps);
    ck_assert_double_eq(a.energy_pj, b.energy_pj);
    teardown(&f);
}
END_TEST

static char ckpt_copy[512];
static char ckpt_live[512];

/* Progress hook: after episode 6 is logged the checkpoint of episode 5 exists; keep a copy. */
static void grab_checkpoint(const search_log *log, unsigned episodes, void *ctx)
{
    (void)episodes;
    (void)ctx;
    if (log->n != 6)
        return;
    FILE *in = fopen(ckpt_live, "rb"), *out = fopen(ckpt_copy, "wb");
    ck_assert(in && out);
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, k, out), k);
    fclose(in);
    fclose(out);
}

/* A search resumed from the checkpoint of episode 5 equals the uninterrupted one, bit for bit. */
START_TEST(test_search_resume_equals_uninterrupted)
{
    fixture f;
    setup(&f, "lrmp", "lenet5", ENV_MODE_LRMP, 12, NULL);
    char dir[] = "/tmp/test_search_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(ckpt_live, sizeof ckpt_live, "%s/live.ckpt", dir);
    snprintf(ckpt_copy, sizeof ckpt_copy, "%s/copy.ckpt", dir);
    search_options o;
    search_options_default(&o, f.v);
    o.episodes = 12;
    o.seed = 7;
    o.ddpg.warmup = 3;
    o.ddpg.hidden1 = o.ddpg.hidden2 = 16;
    o.ddpg.batch = 8;
    o.checkpoint = ckpt_live;
    o.checkpoint_every = 5;
    search_log full, resumed;
    err e;
    ck_assert_msg(search_run(f.v, &o, &full, grab_checkpoint, NULL, &e) == 0, "%s", e.msg);
    o.checkpoint = ckpt_copy;
    o.resume = true;
    ck_assert_msg(search_run(f.v, &o, &resumed, NULL, NULL, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(resumed.resumed_at, 5);
    ck_assert_uint_eq(resumed.n, full.n);
    for (unsigned i = 0; i < full.n; i++) {
        ck_assert_double_eq(resumed.ep[i].out.reward, full.ep[i].out.reward);
        ck_assert_uint_eq(resumed.ep[i].out.latency_ps, full.ep[i].out.latency_ps);
    }
    size_t cells = (size_t)full.n * full.layers;
    ck_assert(memcmp(resumed.wb, full.wb, cells) == 0);
    ck_assert(memcmp(resumed.ab, full.ab, cells) == 0);
    ck_assert(memcmp(resumed.copies, full.copies, cells * sizeof *full.copies) == 0);
    ck_assert_int_eq(resumed.best, full.best);
    /* A checkpoint of another search is refused, naming what differs. */
    search_log_fini(&resumed);
    o.seed = 8;
    ck_assert_int_eq(search_run(f.v, &o, &resumed, NULL, NULL, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "seed 7"));
    search_log_fini(&full);
    search_log_fini(&resumed);
    remove(ckpt_live);
    remove(ckpt_copy);
    rmdir(dir);
    teardown(&f);
}
END_TEST

/* The front equals its definition checked pair by pair on a random log; the random agent's search
 * is reproducible. */
/* The minimum accuracy: chance is 1 / the last layer's outputs (LeNet-5: 10 classes, ResNet-18:
 * 1000), the default a tenth of the way from chance to the reference (0.1 + 0.1 x 0.8 = 0.18 for
 * LeNet-5 at 0.9); an episode counts when it is not failed and reaches the minimum. */
START_TEST(test_search_min_accuracy)
{
    fixture f;
    setup(&f, "lrmp", "lenet5", ENV_MODE_LRMP, 4, NULL);
    ck_assert_double_eq_tol(search_chance_accuracy(&f.n), 0.1, 1e-15);
    ck_assert_double_eq_tol(search_min_accuracy_default(&f.n, 0.9), 0.18, 1e-15);
    ck_assert_double_eq_tol(search_min_accuracy_default(&f.n, 0.05), 0.1, 1e-15); /* floor */
    search_episode ep[3] = {{.out = {.accuracy = 0.17, .reference = 0.9}},
                            {.out = {.accuracy = 0.5, .reference = 0.9, .failed = true}},
                            {.out = {.accuracy = 0.19, .reference = 0.9}}};
    search_log log = {.n = 3, .ep = ep};
    ck_assert_uint_eq(search_reached(&log, &f.n, -1.0), 1); /* episode 2 only */
    ck_assert_uint_eq(search_reached(&log, &f.n, 0.1), 2);
    ck_assert_uint_eq(search_reached(&log, &f.n, 0.6), 0);
    network r18;
    err e;
    char path[512];
    snprintf(path, sizeof path, "%s/configs/net/resnet18.cfg", XBARSIM_SOURCE_DIR);
    ck_assert_msg(network_load_file(path, &r18, &e) == 0, "%s", e.msg);
    ck_assert_double_eq_tol(search_chance_accuracy(&r18), 0.001, 1e-15);
    network_fini(&r18);
    teardown(&f);
}
END_TEST

START_TEST(test_search_pareto_brute_force)
{
    fixture f;
    setup(&f, "lrmp", "lenet5", ENV_MODE_LRMP, 40, NULL);
    search_options o;
    search_options_default(&o, f.v);
    o.episodes = 40;
    o.agent = SEARCH_AGENT_RANDOM;
    search_log log, again;
    err e;
    ck_assert_msg(search_run(f.v, &o, &log, NULL, NULL, &e) == 0, "%s", e.msg);
    ck_assert_msg(search_run(f.v, &o, &again, NULL, NULL, &e) == 0, "%s", e.msg);
    ck_assert(memcmp(log.wb, again.wb, (size_t)log.n * log.layers) == 0);
    unsigned *front;
    unsigned k = search_pareto(&log, &front);
    ck_assert_uint_ge(k, 1);
    for (unsigned i = 0; i < log.n; i++) {
        const env_outcome *a = &log.ep[i].out;
        bool dominated = false, dup_earlier = false;
        for (unsigned j = 0; j < log.n; j++) {
            const env_outcome *b = &log.ep[j].out;
            if (j == i)
                continue;
            bool ge = b->accuracy >= a->accuracy && b->latency_ps <= a->latency_ps &&
                      b->energy_pj <= a->energy_pj;
            bool same = b->accuracy == a->accuracy && b->latency_ps == a->latency_ps &&
                        b->energy_pj == a->energy_pj;
            dominated = dominated || (ge && !same);
            dup_earlier = dup_earlier || (same && j < i);
        }
        bool on = false;
        for (unsigned m = 0; m < k; m++)
            on = on || front[m] == i;
        ck_assert_int_eq(on, !dominated && !dup_earlier);
    }
    /* The best episode has the highest reward. */
    for (unsigned i = 0; i < log.n; i++)
        ck_assert_double_le(log.ep[i].out.reward, log.ep[log.best].out.reward);
    free(front);
    search_log_fini(&log);
    search_log_fini(&again);
    teardown(&f);
}
END_TEST

static Suite *search_suite(void)
{
    Suite *s = suite_create("search");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_search_action_bits);
    tcase_add_test(tc, test_search_haq_wall_and_reward);
    tcase_add_test(tc, test_search_lrmp_budget_copies_reward);
    tcase_add_test(tc, test_search_cimaq_reward_and_rules);
    tcase_add_test(tc, test_search_huang_cost);
    tcase_add_test(tc, test_search_env_deterministic);
    tcase_add_test(tc, test_search_resume_equals_uninterrupted);
    tcase_add_test(tc, test_search_pareto_brute_force);
    tcase_add_test(tc, test_search_min_accuracy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(search_suite());
}
