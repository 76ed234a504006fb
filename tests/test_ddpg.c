/* test_ddpg: the learning machinery of the precision search -- nn's gradients against central
 * finite differences, Adam against the paper's formulas, target updates, checkpoints; the DDPG
 * agent on synthetic episodes with a known optimum, its determinism and its bit-exact resume.
 */
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT: which library cblas_sgemm binds to */
#include <check.h>
#include <dlfcn.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ddpg.h"
#include "nn.h"
#include "rng.h"
#include "testutil.h"

/* ---- gradient checks ----
 * The nets compute in float, too coarse for finite differences, so the reference is a second
 * implementation here: the same nets written out in double (ref_*), on the same parameters and
 * inputs (floats, so exactly representable). Its forward pass is checked against nn's (to float
 * rounding), then nn's float gradients against the reference's central differences.
 */

/* State 4, hidden 5/6, batch 8 (with 3 samples many ReLU units are off for the whole batch, and
 * their weights' zero gradients check nothing). Step 1e-5 in double: a central difference errs by
 * about h^2 |L'''| / 6 + eps |L| / h, below 1e-7 relative here. The float gradients carry float
 * rounding through three layers, ~1e-6 relative; 1e-4 leaves room and still fails any gradient
 * that is wrong (those are off by O(1)). */
enum { GC_S = 4, GC_H1 = 5, GC_H2 = 6, GC_N = 8 };

#define GC_STEP     1e-5 /* central-difference step */
#define GC_REL_TOL  1e-4 /* relative error allowed */
#define GC_ABS_OVER 1e-3 /* below this magnitude the error is measured against it instead */
#define GC_FWD_TOL  1e-5 /* relative gap allowed between nn's float loss and the reference's */

static void fill_uniform(gsl_rng *r, float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * gsl_rng_uniform(r));
}

static void widen(double *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* |a - b| relative to the larger magnitude (or GC_ABS_OVER if both are smaller). */
static double rel_err(double a, double b)
{
    double den = fmax(fmax(fabs(a), fabs(b)), GC_ABS_OVER);
    return fabs(a - b) / den;
}

typedef double loss_fn(void *ctx);

/* Compare analytic gradients grad[0..n) of loss w.r.t. x[0..n) with central differences; returns
 * the largest relative error and counts the entries whose magnitude exceeds GC_ABS_OVER. */
static double check_grad(loss_fn *loss, void *ctx, double *x, const float *grad, size_t n,
                         size_t *n_large)
{
    double worst = 0;
    for (size_t k = 0; k < n; k++) {
        double x0 = x[k];
        x[k] = x0 + GC_STEP;
        double lp = loss(ctx);
        x[k] = x0 - GC_STEP;
        double lm = loss(ctx);
        x[k] = x0;
        double num = (lp - lm) / (2 * GC_STEP);
        worst = fmax(worst, rel_err(grad[k], num));
        if (fabs(num) > GC_ABS_OVER)
            (*n_large)++;
    }
    return worst;
}

/* The reference: layer `layer` of a net with nn's shapes and flat layout, parameters p in double;
 * y (n x out) = x W^T + b, added to y when accumulate. */
static void ref_dense(const nn_net *net, const double *p, unsigned layer, unsigned n,
                      const double *x, int accumulate, double *y)
{
    size_t off = 0;
    for (unsigned l = 0; l < layer; l++)
        off += ((size_t)nn_layer_shape(net, l).in + 1) * nn_layer_shape(net, l).out;
    nn_shape sh = nn_layer_shape(net, layer);
    const double *w = p + off, *b = w + (size_t)sh.in * sh.out;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < sh.out; j++) {
            double z = b[j];
            for (unsigned k = 0; k < sh.in; k++)
                z += w[(size_t)j * sh.in + k] * x[(size_t)i * sh.in + k];
            y[(size_t)i * sh.out + j] = accumulate ? y[(size_t)i * sh.out + j] + z : z;
        }
}

static void ref_relu(double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = y[i] > 0 ? y[i] : 0;
}

static void ref_actor(const nn_net *actor, const double *p, const double *s, double *mu)
{
    double h1[GC_N * GC_H1], h2[GC_N * GC_H2];
    ref_dense(actor, p, DDPG_ACTOR_FC1, GC_N, s, 0, h1);
    ref_relu(h1, GC_N * GC_H1);
    ref_dense(actor, p, DDPG_ACTOR_FC2, GC_N, h1, 0, h2);
    ref_relu(h2, GC_N * GC_H2);
    ref_dense(actor, p, DDPG_ACTOR_FC3, GC_N, h2, 0, mu);
    for (int i = 0; i < GC_N; i++)
        mu[i] = 1 / (1 + exp(-mu[i]));
}

static void ref_critic(const nn_net *critic, const double *p, const double *s, const double *a,
                       double *q)
{
    double h1[GC_N * GC_H1], h2[GC_N * GC_H2];
    ref_dense(critic, p, DDPG_CRITIC_FC11, GC_N, s, 0, h1);
    ref_dense(critic, p, DDPG_CRITIC_FC12, GC_N, a, 1, h1);
    ref_relu(h1, GC_N * GC_H1);
    ref_dense(critic, p, DDPG_CRITIC_FC2, GC_N, h1, 0, h2);
    ref_relu(h2, GC_N * GC_H2);
    ref_dense(critic, p, DDPG_CRITIC_FC3, GC_N, h2, 0, q);
}

enum { GC_ACTOR_P = (GC_S + 1) * GC_H1 + (GC_H1 + 1) * GC_H2 + (GC_H2 + 1) };
enum { GC_CRITIC_P = (GC_S + 1) * GC_H1 + 2 * GC_H1 + (GC_H1 + 1) * GC_H2 + (GC_H2 + 1) };

typedef struct gc_ctx {
    nn_net *actor, *critic;
    ddpg_work *w;
    float s[GC_N * GC_S]; /* states */
    float a[GC_N];        /* actions */
    float c[GC_N];        /* loss weights / targets */
    /* The same values in double, for the reference (the finite differences move these). */
    double ds[GC_N * GC_S], da[GC_N], dc[GC_N];
    double pa[GC_ACTOR_P], pc[GC_CRITIC_P]; /* actor and critic parameters */
} gc_ctx;

static void gc_setup(gc_ctx *g, uint64_t seed)
{
    gsl_rng *r = rng_stream_create(NULL, seed, 0);
    g->actor = ddpg_actor_create(GC_S, GC_H1, GC_H2);
    g->critic = ddpg_critic_create(GC_S, GC_H1, GC_H2);
    ck_assert_uint_eq(nn_param_count(g->actor), GC_ACTOR_P);
    ck_assert_uint_eq(nn_param_count(g->critic), GC_CRITIC_P);
    /* Generic points rather than HAQ's init: W ~ U(-1, 1) everywhere (HAQ's 3e-3 final layer would
     * leave most gradients near rounding level) and b ~ U(0, 0.5), so most ReLU units are active
     * for some samples and inactive for others instead of half of them dead for the whole batch. */
    nn_net *nets[2] = {g->actor, g->critic};
    for (int i = 0; i < 2; i++) {
        for (unsigned l = 0; l < nn_layer_count(nets[i]); l++) {
            nn_shape sh = nn_layer_shape(nets[i], l);
            fill_uniform(r, nn_weight(nets[i], l), (size_t)sh.in * sh.out, -1, 1);
            fill_uniform(r, nn_bias(nets[i], l), sh.out, 0, 0.5);
        }
    }
    g->w = ddpg_work_create(GC_N, GC_H1, GC_H2);
    fill_uniform(r, g->s, GC_N * GC_S, -1, 1);
    fill_uniform(r, g->a, GC_N, 0, 1);
    fill_uniform(r, g->c, GC_N, -1, 1);
    widen(g->ds, g->s, GC_N * GC_S);
    widen(g->da, g->a, GC_N);
    widen(g->dc, g->c, GC_N);
    widen(g->pa, nn_params(g->actor), GC_ACTOR_P);
    widen(g->pc, nn_params(g->critic), GC_CRITIC_P);
    gsl_rng_free(r);
}

static void gc_teardown(gc_ctx *g)
{
    nn_destroy(g->actor);
    nn_destroy(g->critic);
    ddpg_work_destroy(g->w);
}

/* Actor alone: L = sum_i c_i mu(s_i), by the reference. */
static double actor_linear_loss(void *ctx)
{
    gc_ctx *g = ctx;
    double mu[GC_N], l = 0;
    ref_actor(g->actor, g->pa, g->ds, mu);
    for (int i = 0; i < GC_N; i++)
        l += g->dc[i] * mu[i];
    return l;
}

START_TEST(test_ddpg_actor_gradient)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        gc_ctx g;
        gc_setup(&g, seed);
        float mu[GC_N];
        nn_zero_grad(g.actor);
        ddpg_actor_forward(g.actor, g.w, GC_N, g.s, mu);
        double l = 0;
        for (int i = 0; i < GC_N; i++)
            l += g.dc[i] * mu[i];
        ck_assert_double_lt(rel_err(l, actor_linear_loss(&g)), GC_FWD_TOL);
        ddpg_actor_backward(g.actor, g.w, GC_N, g.s, mu, g.c);
        size_t large = 0;
        double worst =
            check_grad(actor_linear_loss, &g, g.pa, nn_grads(g.actor), GC_ACTOR_P, &large);
        ck_assert_double_lt(worst, GC_REL_TOL);
        ck_assert_uint_gt(large, GC_ACTOR_P / 2); /* most entries are checked relatively */
        gc_teardown(&g);
    }
}
END_TEST

/* The actor's training loss: L = -mean_i Q(s_i, mu(s_i)), critic fixed, by the reference. */
static double actor_policy_loss(void *ctx)
{
    gc_ctx *g = ctx;
    double mu[GC_N], q[GC_N], l = 0;
    ref_actor(g->actor, g->pa, g->ds, mu);
    ref_critic(g->critic, g->pc, g->ds, mu, q);
    for (int i = 0; i < GC_N; i++)
        l -= q[i] / GC_N;
    return l;
}

START_TEST(test_ddpg_actor_policy_gradient)
{
    for (uint64_t seed = 4; seed <= 6; seed++) {
        gc_ctx g;
        gc_setup(&g, seed);
        float mu[GC_N], q[GC_N], dq[GC_N], dmu[GC_N];
        nn_zero_grad(g.actor);
        nn_zero_grad(g.critic);
        ddpg_actor_forward(g.actor, g.w, GC_N, g.s, mu);
        ddpg_critic_forward(g.critic, g.w, GC_N, g.s, mu, q);
        double l = 0;
        for (int i = 0; i < GC_N; i++)
            l -= (double)q[i] / GC_N;
        ck_assert_double_lt(rel_err(l, actor_policy_loss(&g)), GC_FWD_TOL);
        for (int i = 0; i < GC_N; i++)
            dq[i] = -1.0f / GC_N;
        ddpg_critic_backward(g.critic, g.w, GC_N, g.s, mu, dq, dmu, 0);
        ddpg_actor_backward(g.actor, g.w, GC_N, g.s, mu, dmu);
        /* The critic is held fixed: its gradients stay exactly 0. */
        for (size_t k = 0; k < nn_param_count(g.critic); k++)
            ck_assert_float_eq(nn_grads(g.critic)[k], 0.0f);
        size_t large = 0;
        double worst =
            check_grad(actor_policy_loss, &g, g.pa, nn_grads(g.actor), GC_ACTOR_P, &large);
        ck_assert_double_lt(worst, GC_REL_TOL);
        ck_assert_uint_gt(large, GC_ACTOR_P / 2);
        gc_teardown(&g);
    }
}
END_TEST

/* The critic's training loss: L = mean_i (Q(s_i, a_i) - y_i)^2 with y = c, by the reference. */
static double critic_mse_loss(void *ctx)
{
    gc_ctx *g = ctx;
    double q[GC_N], l = 0;
    ref_critic(g->critic, g->pc, g->ds, g->da, q);
    for (int i = 0; i < GC_N; i++)
        l += (q[i] - g->dc[i]) * (q[i] - g->dc[i]) / GC_N;
    return l;
}

START_TEST(test_ddpg_critic_gradient)
{
    for (uint64_t seed = 7; seed <= 9; seed++) {
        gc_ctx g;
        gc_setup(&g, seed);
        float q[GC_N], dq[GC_N], da[GC_N], da_only[GC_N];
        nn_zero_grad(g.critic);
        ddpg_critic_forward(g.critic, g.w, GC_N, g.s, g.a, q);
        double l = 0;
        for (int i = 0; i < GC_N; i++)
            l += ((double)q[i] - g.dc[i]) * ((double)q[i] - g.dc[i]) / GC_N;
        ck_assert_double_lt(rel_err(l, critic_mse_loss(&g)), GC_FWD_TOL);
        for (int i = 0; i < GC_N; i++)
            dq[i] = 2.0f * (q[i] - g.c[i]) / GC_N;
        ddpg_critic_backward(g.critic, g.w, GC_N, g.s, g.a, dq, da, 1);
        size_t n = GC_CRITIC_P, large = 0;
        float *grad = malloc(n * sizeof *grad);
        memcpy(grad, nn_grads(g.critic), n * sizeof *grad);
        double worst = check_grad(critic_mse_loss, &g, g.pc, grad, n, &large);
        ck_assert_double_lt(worst, GC_REL_TOL);
        ck_assert_uint_gt(large, n / 2);
        /* dL/da, the input the actor's update goes through. */
        size_t large_a = 0;
        worst = check_grad(critic_mse_loss, &g, g.da, da, GC_N, &large_a);
        ck_assert_double_lt(worst, GC_REL_TOL);
        ck_assert_uint_ge(large_a, GC_N / 2);
        /* The input-only path gives the same dL/da and leaves the gradients alone. */
        ddpg_critic_forward(g.critic, g.w, GC_N, g.s, g.a, q);
        ddpg_critic_backward(g.critic, g.w, GC_N, g.s, g.a, dq, da_only, 0);
        for (int i = 0; i < GC_N; i++)
            ck_assert_float_eq(da_only[i], da[i]);
        ck_assert_int_eq(memcmp(grad, nn_grads(g.critic), n * sizeof *grad), 0);
        free(grad);
        gc_teardown(&g);
    }
}
END_TEST

/* ---- Adam, target updates, copies ---- */

START_TEST(test_nn_adam_quadratic)
{
    /* L = 1/2 (w - 3)^2 + 2 (b + 1)^2 on a 1 x 1 layer from w = b = 0; lr 0.1. */
    nn_shape sh = {.in = 1, .out = 1};
    nn_net *net = nn_create(1, &sh);
    float *w = nn_weight(net, 0), *b = nn_bias(net, 0);
    float *gw = nn_grad_weight(net, 0), *gb = nn_grad_bias(net, 0);
    const double lr = 0.1;
    /* Reference: the paper's form (Kingma & Ba, Algorithm 1), written out here in double. The net
     * works in float: a few roundings of 3e-8 (half an ulp at 0.5) per step, hence 1e-6. */
    double rw = 0, rb = 0, mw = 0, mb = 0, vw = 0, vb = 0;
    for (int t = 1; t <= 5; t++) {
        /* Both see the gradient at the net's point (the two differ by rounding only). */
        double g[2] = {*w - 3.0, 4.0 * (*b + 1.0)};
        *gw = (float)g[0];
        *gb = (float)g[1];
        nn_adam_step(net, lr);
        double *p[2] = {&rw, &rb}, *m[2] = {&mw, &mb}, *v[2] = {&vw, &vb};
        for (int i = 0; i < 2; i++) {
            *m[i] = 0.9 * *m[i] + 0.1 * g[i];
            *v[i] = 0.999 * *v[i] + 0.001 * g[i] * g[i];
            double mhat = *m[i] / (1 - pow(0.9, t)), vhat = *v[i] / (1 - pow(0.999, t));
            *p[i] -= lr * mhat / (sqrt(vhat) + 1e-8);
        }
        if (t == 1) {
            /* Bias-corrected first step: lr x sign(g) (up to eps / |g|), whatever |g| is. */
            ck_assert_double_eq_tol(*w, 0.1, 1e-6);
            ck_assert_double_eq_tol(*b, -0.1, 1e-6);
        }
        if (t == 2) {
            /* By hand: g1 = (-3, 4), g2 = (-2.9, 3.6); m2 = 0.09 g1 + 0.1 g2,
             * v2 = 0.000999 g1^2 + 0.001 g2^2; step = lr (m2 / 0.19) / sqrt(v2 / 0.001999)
             * (eps negligible against sqrt(v2 / 0.001999) ~ 3). */
            double m2w = 0.09 * -3 + 0.1 * -2.9, v2w = 0.000999 * 9 + 0.001 * 8.41;
            double m2b = 0.09 * 4 + 0.1 * 3.6, v2b = 0.000999 * 16 + 0.001 * 12.96;
            ck_assert_double_eq_tol(*w, 0.1 - lr * (m2w / 0.19) / sqrt(v2w / 0.001999), 1e-6);
            ck_assert_double_eq_tol(*b, -0.1 - lr * (m2b / 0.19) / sqrt(v2b / 0.001999), 1e-6);
        }
        ck_assert_double_eq_tol(*w, rw, 1e-6);
        ck_assert_double_eq_tol(*b, rb, 1e-6);
        ck_assert_uint_eq(nn_adam_steps(net), (unsigned)t);
    }
    /* Zero gradient with zero moments: no move. */
    nn_shape sh2 = {.in = 2, .out = 1};
    nn_net *still = nn_create(1, &sh2);
    nn_weight(still, 0)[0] = 1.5;
    nn_adam_step(still, 0.1);
    ck_assert_float_eq(nn_weight(still, 0)[0], 1.5f);
    nn_destroy(still);
    nn_destroy(net);
}
END_TEST

/* The fused step equals Adam then the soft update, bit for bit, over several steps of made-up
 * gradients (a second implementation: the two separate calls). */
START_TEST(test_nn_adam_soft_step_equals_separate)
{
    nn_shape sh[2] = {{.in = 5, .out = 7}, {.in = 7, .out = 3}};
    nn_net *a = nn_create(2, sh), *at = nn_create(2, sh);
    nn_net *b = nn_create(2, sh), *bt = nn_create(2, sh);
    size_t n = nn_param_count(a);
    for (size_t k = 0; k < n; k++) {
        double x = sin((double)k + 0.5);
        nn_params(a)[k] = nn_params(b)[k] = (float)x;
        nn_params(at)[k] = nn_params(bt)[k] = (float)(0.5 * x + 0.1);
    }
    for (int t = 0; t < 4; t++) {
        for (size_t k = 0; k < n; k++)
            nn_grads(a)[k] = nn_grads(b)[k] = (float)cos(3.0 * (double)k + t);
        nn_adam_soft_step(a, 0.01, at, 0.01);
        nn_adam_step(b, 0.01);
        nn_soft_update(bt, b, 0.01);
        for (size_t k = 0; k < n; k++) {
            ck_assert_double_eq(nn_params(a)[k], nn_params(b)[k]);
            ck_assert_double_eq(nn_params(at)[k], nn_params(bt)[k]);
        }
    }
    ck_assert_uint_eq(nn_adam_steps(a), 4);
    nn_destroy(a);
    nn_destroy(at);
    nn_destroy(b);
    nn_destroy(bt);
}
END_TEST

START_TEST(test_nn_soft_update_and_copy)
{
    nn_shape sh[2] = {{.in = 3, .out = 2}, {.in = 2, .out = 1}};
    nn_net *src = nn_create(2, sh), *dst = nn_create(2, sh);
    size_t n = nn_param_count(src);
    ck_assert_uint_eq(n, 4 * 2 + 3 * 1);
    for (size_t k = 0; k < n; k++) {
        nn_params(src)[k] = (float)(k + 1);
        nn_params(dst)[k] = 10.0f * (float)(k + 1);
    }
    /* tau 0.25: 10 k x 0.75 + k x 0.25 = 7.75 k, exact in binary. */
    nn_soft_update(dst, src, 0.25);
    for (size_t k = 0; k < n; k++)
        ck_assert_double_eq(nn_params(dst)[k], 7.75 * (double)(k + 1));
    /* tau 0.5 twice more: 7.75 -> 4.375 -> 2.6875 (x k). */
    nn_soft_update(dst, src, 0.5);
    nn_soft_update(dst, src, 0.5);
    for (size_t k = 0; k < n; k++)
        ck_assert_double_eq(nn_params(dst)[k], 2.6875 * (double)(k + 1));
    /* The source is never touched. */
    for (size_t k = 0; k < n; k++)
        ck_assert_double_eq(nn_params(src)[k], (double)(k + 1));
    nn_copy(dst, src);
    for (size_t k = 0; k < n; k++)
        ck_assert_double_eq(nn_params(dst)[k], (double)(k + 1));
    /* Layer views address the flat layout: W (out x in) then b. */
    ck_assert_ptr_eq(nn_weight(dst, 0), nn_params(dst));
    ck_assert_ptr_eq(nn_bias(dst, 0), nn_params(dst) + 6);
    ck_assert_ptr_eq(nn_weight(dst, 1), nn_params(dst) + 8);
    ck_assert_ptr_eq(nn_bias(dst, 1), nn_params(dst) + 10);
    nn_destroy(src);
    nn_destroy(dst);
}
END_TEST

START_TEST(test_nn_init_ranges)
{
    nn_shape sh[3] = {{.in = 16, .out = 8}, {.in = 4, .out = 8}, {.in = 8, .out = 1}};
    nn_net *net = nn_create(3, sh);
    gsl_rng *r = rng_stream_create(NULL, 3, 0);
    nn_init(net, r, 3e-3);
    for (unsigned l = 0; l < 3; l++) {
        double bound = 1.0 / sqrt((double)sh[l].in), wb = l == 2 ? 3e-3 : bound, wmax = 0;
        for (unsigned i = 0; i < sh[l].in * sh[l].out; i++)
            wmax = fmax(wmax, fabs(nn_weight(net, l)[i]));
        ck_assert_double_le(wmax, (float)wb); /* rounding to float is monotone */
        ck_assert_double_gt(wmax, 0.5 * wb);  /* spread over the range, not all tiny */
        for (unsigned j = 0; j < sh[l].out; j++)
            ck_assert_double_le(fabs(nn_bias(net, l)[j]), (float)bound);
    }
    gsl_rng_free(r);
    nn_destroy(net);
}
END_TEST

/* Whole contents of f from the start, in a malloc'd buffer. */
static char *slurp(FILE *f, size_t *len)
{
    long end = ftell(f);
    ck_assert_int_ge(end, 0);
    *len = (size_t)end;
    char *buf = malloc(*len + 1);
    rewind(f);
    ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
    return buf;
}

START_TEST(test_nn_save_load)
{
    nn_shape sh[2] = {{.in = 3, .out = 4}, {.in = 4, .out = 1}};
    nn_net *a = nn_create(2, sh);
    gsl_rng *r = rng_stream_create(NULL, 5, 0);
    nn_init(a, r, 0.5);
    size_t n = nn_param_count(a);
    for (int step = 0; step < 3; step++) {
        for (size_t k = 0; k < n; k++)
            nn_grads(a)[k] = (float)gsl_ran_flat(r, -1, 1);
        nn_adam_step(a, 0.01);
    }
    FILE *f = tmpfile();
    err e;
    ck_assert_int_eq(nn_save(a, f, &e), 0);
    size_t len;
    char *buf = slurp(f, &len);
    fclose(f);
    ck_assert_uint_eq(len, 12 + 2 * 8 + 8 + 3 * n * sizeof(float));

    FILE *in = fmemopen(buf, len, "rb");
    nn_net *b = nn_load(in, &e);
    fclose(in);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(nn_adam_steps(b), 3);
    ck_assert_int_eq(memcmp(nn_params(a), nn_params(b), n * sizeof(float)), 0);
    /* Same gradients from here on give the same parameters: the moments came back too. */
    for (int step = 0; step < 2; step++) {
        for (size_t k = 0; k < n; k++)
            nn_grads(a)[k] = nn_grads(b)[k] = (float)gsl_ran_flat(r, -1, 1);
        nn_adam_step(a, 0.01);
        nn_adam_step(b, 0.01);
    }
    ck_assert_int_eq(memcmp(nn_params(a), nn_params(b), n * sizeof(float)), 0);

    /* Every truncation is a short read; a wrong magic is bad input. */
    for (size_t cut = 1; cut < len; cut += 7) {
        in = fmemopen(buf, cut, "rb");
        err_clear(&e);
        ck_assert_ptr_null(nn_load(in, &e));
        ck_assert_int_eq(e.code, ERR_IO);
        fclose(in);
    }
    buf[0] ^= 1;
    in = fmemopen(buf, len, "rb");
    ck_assert_ptr_null(nn_load(in, &e));
    ck_assert_int_eq(e.code, ERR_INPUT);
    fclose(in);

    free(buf);
    gsl_rng_free(r);
    nn_destroy(a);
    nn_destroy(b);
}
END_TEST

START_TEST(test_nn_blas_is_openblas)
{
    /* libgslcblas (GSL's reference CBLAS, linked through GSL) exports the same cblas_* names;
     * the link order must let OpenBLAS's win. */
    void *sym = dlsym(RTLD_DEFAULT, "cblas_sgemm");
    ck_assert_ptr_nonnull(sym);
    Dl_info info;
    ck_assert_int_ne(dladdr(sym, &info), 0);
    ck_assert_msg(strstr(info.dli_fname, "openblas") != NULL, "cblas_sgemm comes from %s",
                  info.dli_fname);
    nn_blas_set_threads(1);
    ck_assert_int_eq(nn_blas_threads(), 1);
}
END_TEST

/* ---- the agent on synthetic episodes ---- */

enum { SYN_L = 4, SYN_S = SYN_L + 1 };

/* State of decision t: one-hot of t plus a constant bias feature. */
static void syn_state(unsigned t, double *s)
{
    for (unsigned i = 0; i < SYN_S; i++)
        s[i] = i == t || i == SYN_L ? 1.0 : 0.0;
}

typedef double reward_fn(const double *actions);

static const double syn_targets[SYN_L] = {0.2, 0.8, 0.5, 0.35};

static double reward_targets(const double *a)
{
    double r = 0;
    for (int t = 0; t < SYN_L; t++)
        r -= (a[t] - syn_targets[t]) * (a[t] - syn_targets[t]);
    return r;
}

/* HAQ's mapping of an action to bits, here min 2, max 8: round((8 - 2 + 1) a + 2 - 0.5). */
static int to_bits(double a)
{
    int b = (int)lround(7.0 * a + 1.5);
    return b < 2 ? 2 : b > 8 ? 8 : b;
}

static const int syn_bits[SYN_L] = {3, 7, 5, 4};

/* Peaked at syn_bits, linear in the distance (a squared distance makes the reward's steps next to
 * the optimum small against the far ones, and the agent then often settles one bit off). */
static double reward_bits(const double *a)
{
    double r = 0;
    for (int t = 0; t < SYN_L; t++)
        r -= abs(to_bits(a[t]) - syn_bits[t]) / 8.0;
    return r;
}

/* Episodes [first, first + count) of the synthetic task; the actions taken are appended to log
 * (SYN_L per episode) when log is not NULL. */
static void syn_run(ddpg *d, reward_fn *reward, unsigned first, unsigned count, double *log)
{
    double states[SYN_L * SYN_S], actions[SYN_L];
    for (unsigned ep = first; ep < first + count; ep++) {
        for (unsigned t = 0; t < SYN_L; t++) {
            syn_state(t, states + t * SYN_S);
            actions[t] = ddpg_act(d, states + t * SYN_S, ep);
            ck_assert(actions[t] >= 0.0 && actions[t] <= 1.0);
        }
        if (log)
            memcpy(log + (size_t)(ep - first) * SYN_L, actions, sizeof actions);
        ddpg_observe_episode(d, states, actions, SYN_L, reward(actions), ep);
    }
}

/* The convergence runs. HAQ's settings (tau 0.01, discount 1, replay 128 per decision, warm-up 20,
 * sigma0 0.5) except: hidden 32/32 and batch 16 (speed: the suite also runs under valgrind, which
 * is ~300x slower on OpenBLAS's kernels), both learning rates 1e-3 (HAQ's 1e-4 actor rate is too
 * slow for 600 episodes of 4 decisions), noise decay 0.995 (HAQ's 0.99 leaves sigma < 0.03 from
 * episode ~300, freezing exploration before the flat optimum of a quadratic is pinned down).
 * Measured over seeds 1..128 of this exact run in double: targets within 0.1 for 123 seeds, bits
 * exact for 126; in float (now), over seeds 1..24: 24 and 24. A single run is thus not a sure thing
 * once the BLAS kernel (CPU) changes the rounding, so each test asks for SYN_SEEDS_OK of SYN_SEEDS
 * seeds: a broken learner fails every seed. */
enum { SYN_EPISODES = 600, SYN_WARMUP = 20, SYN_SEEDS = 3, SYN_SEEDS_OK = 2 };

static void syn_config(ddpg_config *c, uint64_t seed)
{
    ddpg_config_default(c, SYN_S);
    c->hidden1 = 32;
    c->hidden2 = 32;
    c->batch = 16;
    c->lr_actor = 1e-3;
    c->lr_critic = 1e-3;
    c->sigma_decay = 0.995;
    c->decisions_per_episode = SYN_L;
    c->warmup = SYN_WARMUP;
    c->seed = seed;
}

/* Train a fresh agent on the task with seed; greedy[t] gets the final greedy actions. */
static void syn_train(reward_fn *reward, uint64_t seed, double *greedy)
{
    ddpg_config c;
    syn_config(&c, seed);
    ddpg *d = ddpg_create(&c);
    syn_run(d, reward, 0, SYN_EPISODES, NULL);
    ck_assert_uint_eq(ddpg_update_count(d), (SYN_EPISODES - SYN_WARMUP) * SYN_L);
    double s[SYN_S];
    for (unsigned t = 0; t < SYN_L; t++) {
        syn_state(t, s);
        greedy[t] = ddpg_act_greedy(d, s);
    }
    ddpg_destroy(d);
}

START_TEST(test_ddpg_learns_targets)
{
    unsigned ok = 0;
    char report[512] = "";
    for (uint64_t seed = 1; seed <= SYN_SEEDS; seed++) {
        double g[SYN_L];
        syn_train(reward_targets, seed, g);
        int all = 1;
        for (unsigned t = 0; t < SYN_L; t++)
            all &= fabs(g[t] - syn_targets[t]) < 0.1;
        ok += (unsigned)all;
        size_t used = strlen(report);
        snprintf(report + used, sizeof report - used, " seed %u: %.3f %.3f %.3f %.3f;",
                 (unsigned)seed, g[0], g[1], g[2], g[3]);
    }
    ck_assert_msg(ok >= SYN_SEEDS_OK, "%u of %d seeds within 0.1 of 0.2 0.8 0.5 0.35:%s", ok,
                  SYN_SEEDS, report);
}
END_TEST

START_TEST(test_ddpg_learns_bits)
{
    unsigned ok = 0;
    char report[512] = "";
    for (uint64_t seed = 1; seed <= SYN_SEEDS; seed++) {
        double g[SYN_L];
        syn_train(reward_bits, seed, g);
        int all = 1;
        for (unsigned t = 0; t < SYN_L; t++)
            all &= to_bits(g[t]) == syn_bits[t];
        ok += (unsigned)all;
        size_t used = strlen(report);
        snprintf(report + used, sizeof report - used, " seed %u: %d %d %d %d;", (unsigned)seed,
                 to_bits(g[0]), to_bits(g[1]), to_bits(g[2]), to_bits(g[3]));
    }
    ck_assert_msg(ok >= SYN_SEEDS_OK, "%u of %d seeds found bits 3 7 5 4:%s", ok, SYN_SEEDS,
                  report);
}
END_TEST

/* Small, quick agents for the bookkeeping, determinism and checkpoint tests. */
static void small_config(ddpg_config *c, uint64_t seed)
{
    ddpg_config_default(c, SYN_S);
    c->hidden1 = 16;
    c->hidden2 = 12;
    c->decisions_per_episode = SYN_L;
    c->replay_per_decision = 8; /* 32 transitions: the ring wraps within the runs */
    c->batch = 16;
    c->warmup = 5;
    c->seed = seed;
}

START_TEST(test_ddpg_episode_bookkeeping)
{
    ddpg_config c;
    small_config(&c, 1);
    ddpg *d = ddpg_create(&c);
    ck_assert_double_eq(ddpg_sigma(d, 4), 0.0);
    ck_assert_double_eq(ddpg_sigma(d, 5), 0.5);
    ck_assert_double_eq_tol(ddpg_sigma(d, 7), 0.5 * 0.99 * 0.99, 1e-15);
    double states[SYN_L * SYN_S] = {0}, actions[SYN_L] = {0.1, 0.2, 0.3, 0.4};
    /* Baseline: the first reward, then b + 0.5 (R - b). */
    ddpg_observe_episode(d, states, actions, SYN_L, -2.0, 0);
    ck_assert_double_eq(ddpg_baseline(d), -2.0);
    ddpg_observe_episode(d, states, actions, SYN_L, -1.0, 1);
    ck_assert_double_eq(ddpg_baseline(d), -1.5);
    ddpg_observe_episode(d, states, actions, SYN_L, -0.5, 2);
    ck_assert_double_eq(ddpg_baseline(d), -1.0);
    ck_assert_uint_eq(ddpg_replay_size(d), 3 * SYN_L);
    ck_assert_uint_eq(ddpg_update_count(d), 0);
    ck_assert_double_eq(ddpg_update_seconds(d), 0.0);
    /* After warm-up: one update per transition; the ring stops at its capacity. */
    for (unsigned ep = 3; ep < 12; ep++)
        ddpg_observe_episode(d, states, actions, SYN_L, -0.5, ep);
    ck_assert_uint_eq(ddpg_replay_size(d), 32);
    ck_assert_uint_eq(ddpg_update_count(d), 7 * SYN_L);
    ck_assert_double_gt(ddpg_update_seconds(d), 0.0);
    ddpg_destroy(d);
}
END_TEST

START_TEST(test_ddpg_batch_baseline)
{
    /* HAQ's form: raw rewards stored; each update folds the sampled batch's mean into the average
     * and subtracts it. With every reward equal to -0.75 every batch mean is -0.75 exactly. */
    ddpg_config c;
    small_config(&c, 1);
    c.baseline_mode = DDPG_BASELINE_BATCH;
    ddpg *d = ddpg_create(&c);
    double states[SYN_L * SYN_S] = {0}, actions[SYN_L] = {0.1, 0.2, 0.3, 0.4};
    for (unsigned ep = 0; ep < 5; ep++)
        ddpg_observe_episode(d, states, actions, SYN_L, -0.75, ep);
    ck_assert_double_eq(ddpg_baseline(d), 0.0); /* warm-up: no update, no average yet */
    ddpg_observe_episode(d, states, actions, SYN_L, -0.75, 5);
    ck_assert_uint_eq(ddpg_update_count(d), SYN_L);
    ck_assert_double_eq(ddpg_baseline(d), -0.75);
    ddpg_destroy(d);
}
END_TEST

START_TEST(test_ddpg_config_check)
{
    ddpg_config c;
    err e;
    ddpg_config_default(&c, 10);
    ck_assert_uint_eq(c.hidden1, 300);
    ck_assert_uint_eq(c.batch, 64);
    ck_assert_uint_eq(c.replay_per_decision, 128);
    ck_assert_int_eq(ddpg_config_check(&c, &e), ERR_INPUT); /* decisions_per_episode unset */
    ck_assert_ptr_nonnull(strstr(e.msg, "decisions_per_episode"));
    c.decisions_per_episode = 40;
    ck_assert_int_eq(ddpg_config_check(&c, &e), 0);
    c.tau = 0;
    ck_assert_int_eq(ddpg_config_check(&c, &e), ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "ddpg.tau"));
}
END_TEST

START_TEST(test_ddpg_deterministic)
{
    enum { EPS = 30 };
    static double log_a[EPS * SYN_L], log_b[EPS * SYN_L], log_c[EPS * SYN_L];
    ddpg_config c;
    small_config(&c, 42);
    ddpg *a = ddpg_create(&c), *b = ddpg_create(&c);
    c.seed = 43;
    ddpg *other = ddpg_create(&c);
    syn_run(a, reward_targets, 0, EPS, log_a);
    syn_run(b, reward_targets, 0, EPS, log_b);
    syn_run(other, reward_targets, 0, EPS, log_c);
    ck_assert_int_eq(memcmp(log_a, log_b, sizeof log_a), 0);
    unsigned differ = 0;
    for (unsigned i = 0; i < EPS * SYN_L; i++)
        differ += log_a[i] != log_c[i];
    ck_assert_uint_eq(differ, EPS * SYN_L);
    ddpg_destroy(a);
    ddpg_destroy(b);
    ddpg_destroy(other);
}
END_TEST

START_TEST(test_ddpg_checkpoint_resume)
{
    enum { K = 12, M = 10 }; /* warm-up 5: updates both before and after the checkpoint */
    static double log_full[(K + M) * SYN_L], log_resumed[(K + M) * SYN_L];
    ddpg_config c;
    small_config(&c, 7);
    err e;

    ddpg *full = ddpg_create(&c);
    syn_run(full, reward_targets, 0, K + M, log_full);

    ddpg *first = ddpg_create(&c);
    syn_run(first, reward_targets, 0, K, log_resumed);
    FILE *f = tmpfile();
    ck_assert_int_eq(ddpg_save(first, f, &e), 0);
    size_t len;
    char *buf = slurp(f, &len);
    fclose(f);
    ddpg_destroy(first);
    FILE *in = fmemopen(buf, len, "rb");
    ddpg *resumed = ddpg_load(in, &e);
    fclose(in);
    ck_assert_msg(resumed != NULL, "%s", e.msg);
    ck_assert_uint_eq(ddpg_update_count(resumed), (K - 5) * SYN_L);
    syn_run(resumed, reward_targets, K, M, log_resumed + K * SYN_L);
    ck_assert_int_eq(memcmp(log_full, log_resumed, sizeof log_full), 0);

    /* Both agents now save to the same bytes: nets, moments, replay, baseline, generator. */
    FILE *fa = tmpfile(), *fb = tmpfile();
    ck_assert_int_eq(ddpg_save(full, fa, &e), 0);
    ck_assert_int_eq(ddpg_save(resumed, fb, &e), 0);
    size_t la, lb;
    char *ba = slurp(fa, &la), *bb = slurp(fb, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(ba, bb, la), 0);
    fclose(fa);
    fclose(fb);
    free(ba);
    free(bb);

    /* A truncated checkpoint is an error, never a crash or a leak. */
    for (size_t cut = 1; cut < len; cut += len / 97 + 1) {
        in = fmemopen(buf, cut, "rb");
        err_clear(&e);
        ck_assert_ptr_null(ddpg_load(in, &e));
        ck_assert_int_eq(e.code, ERR_IO);
        fclose(in);
    }
    buf[0] ^= 1; /* not a checkpoint: bad input, not a short read */
    in = fmemopen(buf, len, "rb");
    ck_assert_ptr_null(ddpg_load(in, &e));
    ck_assert_int_eq(e.code, ERR_INPUT);
    fclose(in);
    free(buf);
    ddpg_destroy(full);
    ddpg_destroy(resumed);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ddpg");
    TCase *grad = tcase_create("gradients");
    tcase_add_test(grad, test_ddpg_actor_gradient);
    tcase_add_test(grad, test_ddpg_actor_policy_gradient);
    tcase_add_test(grad, test_ddpg_critic_gradient);
    suite_add_tcase(s, grad);
    TCase *nn = tcase_create("nn");
    tcase_add_test(nn, test_nn_adam_quadratic);
    tcase_add_test(nn, test_nn_adam_soft_step_equals_separate);
    tcase_add_test(nn, test_nn_soft_update_and_copy);
    tcase_add_test(nn, test_nn_init_ranges);
    tcase_add_test(nn, test_nn_save_load);
    tcase_add_test(nn, test_nn_blas_is_openblas);
    suite_add_tcase(s, nn);
    TCase *agent = tcase_create("agent");
    tcase_set_timeout(agent, 240); /* the convergence runs are slow under valgrind */
    tcase_add_test(agent, test_ddpg_config_check);
    tcase_add_test(agent, test_ddpg_episode_bookkeeping);
    tcase_add_test(agent, test_ddpg_batch_baseline);
    tcase_add_test(agent, test_ddpg_deterministic);
    tcase_add_test(agent, test_ddpg_checkpoint_resume);
    tcase_add_test(agent, test_ddpg_learns_targets);
    tcase_add_test(agent, test_ddpg_learns_bits);
    suite_add_tcase(s, agent);
    return testutil_run(s);
}
