/* accuracy: the accuracy backends (see accuracy.h for the proxy's model). One ops table per backend
 * (kind, evaluate, destroy), stored first in its instance; the factory table is generated from
 * ACC_BACKEND_MAP. The external backend runs /bin/sh -c CMD in its own process group, stdout and
 * stderr captured to files, and kills the group on timeout. Invariant: evaluate leaves no child
 * process behind and never reads a result file from an earlier run.
 */
#include "accuracy.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accuracy_internal.h"
#include "mem.h"

extern char **environ;

/* ---------------------------------------------------------------------------------------------
 * Registry and base
 */

static const char *const kind_names[ACC_BACKEND_COUNT] = {
#define ACC_KIND_NAME(id, stem, name) [ACC_BACKEND_##id] = name,
    ACC_BACKEND_MAP(ACC_KIND_NAME)
#undef ACC_KIND_NAME
};

const char *acc_kind_name(acc_kind k)
{
    assert(k < ACC_BACKEND_COUNT);
    return kind_names[k];
}

int acc_kind_parse(const char *name, acc_kind *out)
{
    for (int i = 0; i < ACC_BACKEND_COUNT; i++)
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (acc_kind)i;
            return 0;
        }
    return -1;
}

acc_kind acc_backend_kind(const acc_backend *b)
{
    return b->ops->kind;
}

const char *acc_backend_name(const acc_backend *b)
{
    return acc_kind_name(b->ops->kind);
}

int acc_evaluate(acc_backend *b, const network *n, const policy *p, const arch *a, acc_result *out,
                 err *e)
{
    return b->ops->evaluate(b, n, p, a, out, e);
}

void acc_destroy(acc_backend *b)
{
    if (b)
        b->ops->destroy(b);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int acc__check_policy(const network *n, const policy *p, const arch *a, err *e)
{
    if (p->n != n->n_xbar)
        return err_set(e, ERR_INPUT,
                       "accuracy: policy: found %u layers, expected %u (the crossbar layers of %s)",
                       p->n, n->n_xbar, n->name);
    for (unsigned i = 0; i < p->n; i++) {
        const policy_layer *l = &p->layers[i];
        unsigned adc = policy_adc_bits(p, a, i);
        if (l->wb < 1 || l->wb > POLICY_MAX_BITS || l->ab < 1 || l->ab > POLICY_MAX_BITS ||
            adc < 1 || adc > ARCH_MAX_ADC_BITS)
            return err_set(e, ERR_INPUT,
                           "accuracy: policy: layer \"%s\": found wb %u, ab %u, adc_bits %u, "
                           "expected wb and ab in 1..%d and adc_bits in 1..%d",
                           n->layers[n->xbar[i]].name, l->wb, l->ab, adc, POLICY_MAX_BITS,
                           ARCH_MAX_ADC_BITS);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Proxy: the formulas
 */

/* MSE-optimal clips (units of the Gaussian's standard deviation) of mse_gauss and mse_relu
 * (accuracy.h), indexed by bits; golden-section minimisation to 1e-6, rounded to 4 decimals. */
static const double clip_gauss[POLICY_MAX_BITS + 1] = {
    0.0,    0.8287, 1.4983, 2.0513, 2.5140, 2.9161, 3.2780, 3.6111, 3.9222,
    4.2155, 4.4938, 4.7591, 5.0131, 5.2571, 5.4920, 5.7188, 5.9382,
};
static const double clip_relu[POLICY_MAX_BITS + 1] = {
    0.0,    1.2354, 1.9528, 2.4738, 2.8987, 3.2701, 3.6075, 3.9205, 4.2147,
    4.4934, 4.7589, 5.0130, 5.2570, 5.4920, 5.7188, 5.9382, 6.1509,
};

#define SQRT_2PI 2.50662827463100050242 /* sqrt(2 pi) (M_PI is not C11) */
#define SQRT_2   1.41421356237309504880

static double normal_pdf(double x)
{
    return exp(-0.5 * x * x) / SQRT_2PI;
}

static double normal_tail(double x) /* Q(x) = P(Z > x) */
{
    return 0.5 * erfc(x / SQRT_2);
}

/* E[(Z - z)^2; Z > z] for Z ~ N(0, 1): the one-sided clipping error at z. */
static double clip_error(double z)
{
    return (1.0 + z * z) * normal_tail(z) - z * normal_pdf(z);
}

double acc_proxy_mse(acc_dist d, unsigned bits, double alpha)
{
    assert(bits >= 1 && bits <= POLICY_MAX_BITS && alpha > 0.0);
    double levels = ldexp(1.0, (int)bits); /* 2^b */
    if (d == ACC_DIST_GAUSS) {
        double step = 2.0 * alpha / (levels - 1.0);
        return (1.0 - 2.0 * normal_tail(alpha)) * step * step / 12.0 + 2.0 * clip_error(alpha);
    }
    assert(d == ACC_DIST_RELU);
    double step = alpha / (levels - 1.0);
    return (0.5 - normal_tail(alpha)) * step * step / 12.0 + clip_error(alpha);
}

double acc_proxy_clip(acc_dist d, unsigned bits)
{
    assert(bits >= 1 && bits <= POLICY_MAX_BITS);
    assert(d == ACC_DIST_GAUSS || d == ACC_DIST_RELU);
    return d == ACC_DIST_GAUSS ? clip_gauss[bits] : clip_relu[bits];
}

double acc_proxy_nsr(acc_dist d, unsigned bits)
{
    double signal = d == ACC_DIST_GAUSS ? 1.0 : 0.5; /* E x^2 per unit variance */
    return acc_proxy_mse(d, bits, acc_proxy_clip(d, bits)) / signal;
}

double acc_proxy_adc_nsr(unsigned rows, unsigned cell_bits, unsigned dac_bits, bool nonneg_input,
                         unsigned adc_bits)
{
    assert(rows >= 1 && cell_bits >= 1 && cell_bits <= 8 && dac_bits >= 1 && dac_bits <= 8);
    assert(adc_bits >= 1 && adc_bits <= 63);
    double lc = ldexp(1.0, (int)cell_bits) - 1.0, ld = ldexp(1.0, (int)dac_bits) - 1.0;
    double full = (double)rows * lc * ld, top = ldexp(1.0, (int)adc_bits) - 1.0;
    if (top >= full)
        return 0.0;                       /* the ADC reads every possible sum */
    double nz = nonneg_input ? 0.5 : 1.0; /* probability the digit is drawn at all */
    double ec = lc / 2.0, ec2 = lc * (2.0 * lc + 1.0) / 6.0;
    double ed = nz * ld / 2.0, ed2 = nz * ld * (2.0 * ld + 1.0) / 6.0;
    double mu = (double)rows * ec * ed;
    double var = (double)rows * (ec2 * ed2 - ec * ec * ed * ed);
    return clip_error((top - mu) / sqrt(var));
}

/* Whether each layer's output is non-negative (relu-like), in one forward pass. */
static bool *nonneg_outputs(const network *n)
{
    bool *nn = mem_calloc(n->n_layers, sizeof *nn, "proxy: non-negative layers");
    for (unsigned i = 0; i < n->n_layers; i++) {
        const net_layer *l = &n->layers[i];
        bool all = true;
        for (unsigned k = 0; k < l->n_inputs; k++)
            all = all && l->inputs[k] != NET_INPUT && nn[l->inputs[k]];
        nn[i] = net_layer_kind_output_nonneg(l->kind, all);
    }
    return nn;
}

double acc_proxy_noise(const network *n, const policy *p, const arch *a, acc_layer_noise *layers)
{
    assert(p->n == n->n_xbar);
    bool *nn = nonneg_outputs(n);
    double total = 0.0;
    for (unsigned i = 0; i < p->n; i++) {
        const net_layer *l = &n->layers[n->xbar[i]];
        const policy_layer *pl = &p->layers[i];
        int src = l->inputs[0];
        acc_layer_noise t = {.nonneg_input = src != NET_INPUT && nn[src]};
        t.weight = acc_proxy_nsr(ACC_DIST_GAUSS, pl->wb);
        t.act = acc_proxy_nsr(t.nonneg_input ? ACC_DIST_RELU : ACC_DIST_GAUSS, pl->ab);
        uint64_t rows = l->xbar.rows < a->tiles.rows_active ? l->xbar.rows : a->tiles.rows_active;
        t.adc = acc_proxy_adc_nsr((unsigned)rows, a->tiles.cell_bits, a->tiles.dac.bits,
                                  t.nonneg_input, policy_adc_bits(p, a, i));
        t.total = t.weight + t.act + t.adc;
        total += t.total;
        if (layers)
            layers[i] = t;
    }
    free(nn);
    return total;
}

/* ---------------------------------------------------------------------------------------------
 * Proxy: the backend
 */

typedef struct proxy {
    acc_backend base; /* first */
    acc_proxy_config c;
} proxy;

static const struct {
    const char *name;
    double top1; /* fraction */
} references[] = {
#define ACC_REF_ROW(name, top1) {name, top1},
    ACC_PROXY_REFERENCE_MAP(ACC_REF_ROW)
#undef ACC_REF_ROW
};

/* The reference for n, and whether it is the generic (relative) one. */
static double proxy_reference(const proxy *x, const network *n, bool *generic)
{
    *generic = false;
    if (x->c.reference > 0.0)
        return x->c.reference;
    for (size_t i = 0; i < sizeof references / sizeof references[0]; i++)
        if (strcmp(n->name, references[i].name) == 0)
            return references[i].top1;
    *generic = true;
    return ACC_PROXY_GENERIC_REFERENCE;
}

static double proxy_map(const proxy *x, double ref, double S)
{
    double drop = x->c.drop_max > 0.0 ? x->c.drop_max : ref;
    double s0 = x->c.s0 > 0.0 ? x->c.s0 : ACC_PROXY_S0;
    double acc = ref - drop * -expm1(-S / s0);
    return acc < 0.0 ? 0.0 : acc > 1.0 ? 1.0 : acc;
}

static const acc_ops proxy_ops;

double acc_proxy_accuracy(const acc_backend *b, const network *n, double S, double *reference)
{
    assert(b->ops == &proxy_ops && S >= 0.0);
    const proxy *x = (const proxy *)b;
    bool generic;
    double ref = proxy_reference(x, n, &generic);
    if (reference)
        *reference = ref;
    return proxy_map(x, ref, S);
}

static int proxy_evaluate(acc_backend *b, const network *n, const policy *p, const arch *a,
                          acc_result *out, err *e)
{
    const proxy *x = (const proxy *)b;
    double t0 = now_s();
    ERR_TRY(acc__check_policy(n, p, a, e));
    double S = acc_proxy_noise(n, p, a, NULL);
    bool generic;
    double ref = proxy_reference(x, n, &generic);
    *out = (acc_result){.accuracy = proxy_map(x, ref, S), .reference = ref, .estimate = true};
    snprintf(out->note, sizeof out->note,
             "estimate: quantisation-noise proxy, noise-to-signal S = %.4g over %u layers%s", S,
             p->n, generic ? ", accuracy relative to full precision" : "");
    out->seconds = now_s() - t0;
    return 0;
}

static void proxy_destroy(acc_backend *b)
{
    free(b);
}

static const acc_ops proxy_ops = {
    .kind = ACC_BACKEND_PROXY,
    .evaluate = proxy_evaluate,
    .destroy = proxy_destroy,
};

int acc_proxy_create(const acc_proxy_config *c, acc_backend **out, err *e)
{
    if (!(c->reference == 0.0 || (c->reference > 0.0 && c->reference <= 1.0)))
        return err_set(e, ERR_INPUT,
                       "proxy.reference: found %g, expected a fraction in (0, 1] "
                       "(0: by network name)",
                       c->reference);
    if (!(c->drop_max >= 0.0 && c->drop_max <= 1.0) ||
        (c->reference > 0.0 && c->drop_max > c->reference))
        return err_set(e, ERR_INPUT,
                       "proxy.drop_max: found %g, expected a fraction in [0, %g] "
                       "(at most the reference; 0: the reference)",
                       c->drop_max, c->reference > 0.0 ? c->reference : 1.0);
    if (!(c->s0 >= 0.0 && isfinite(c->s0)))
        return err_set(e, ERR_INPUT, "proxy.s0: found %g, expected a positive noise scale (0: %g)",
                       c->s0, ACC_PROXY_S0);
    if (c->weights)
        return err_set(e, ERR_INPUT,
                       "proxy.weights: found \"%s\", expected none (measured weight "
                       "statistics are not supported yet: the proxy assumes Gaussian weights)",
                       c->weights);
    proxy *x = mem_calloc(1, sizeof *x, "accuracy proxy");
    x->base.ops = &proxy_ops;
    x->c = *c;
    *out = &x->base;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * External
 */

#define GRACE_S    1.0   /* SIGTERM to SIGKILL on timeout, s */
#define TAIL_BYTES 4096  /* read of the end of stdout and stderr, bytes */
#define SHOW_CMD   160   /* command characters quoted in messages */
#define SHOW_ERR   200   /* stderr characters quoted in messages */
#define JSON_MAX   65536 /* result JSON read, bytes */

enum { F_CSV, F_JSON, F_RESULT, F_STDOUT, F_STDERR, F_COUNT };
static const char *const file_names[F_COUNT] = {"policy.csv", "policy.json", "result.json",
                                                "stdout.txt", "stderr.txt"};
static const char *const env_names[] = {"XBARSIM_POLICY_CSV", "XBARSIM_POLICY_JSON",
                                        "XBARSIM_RESULT_JSON"};

typedef struct external {
    acc_backend base; /* first */
    char *command;
    double timeout_s; /* s; 0: none */
    double reference; /* fraction; 0: from the command */
    char *dir;
    bool own_dir; /* made by create: removed by destroy */
    char *path[F_COUNT];
} external;

static char *join_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *s = mem_alloc(len, "accuracy: path");
    snprintf(s, len, "%s/%s", dir, name);
    return s;
}

static void external_destroy(acc_backend *b)
{
    external *x = (external *)b;
    for (int f = 0; f < F_COUNT; f++) {
        if (x->own_dir)
            unlink(x->path[f]);
        free(x->path[f]);
    }
    if (x->own_dir)
        rmdir(x->dir); /* fails, harmlessly, if the command left other files */
    free(x->dir);
    free(x->command);
    free(x);
}

/* A growing string. */
typedef struct sbuf {
    char *s;
    size_t len, cap; /* bytes */
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = mem_realloc(b->s, cap, 1, "accuracy: string");
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* s in single quotes for the shell (' becomes '\''). */
static void sb_shell_quote(sbuf *b, const char *s)
{
    sb_str(b, "'");
    for (; *s; s++)
        if (*s == '\'')
            sb_str(b, "'\\''");
        else
            sb_add(b, s, 1);
    sb_str(b, "'");
}

/* s as a JSON string. */
static void sb_json_string(sbuf *b, const char *s)
{
    sb_str(b, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            sb_add(b, esc, 2);
        } else if (ch < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            sb_str(b, esc);
        } else {
            sb_add(b, s, 1);
        }
    }
    sb_str(b, "\"");
}

/* The command with {csv} {json} {result} {dir} replaced by quoted paths. */
static char *expand_command(const external *x)
{
    static const struct {
        const char *key;
        int file; /* -1: the directory */
    } keys[] = {{"{csv}", F_CSV}, {"{json}", F_JSON}, {"{result}", F_RESULT}, {"{dir}", -1}};
    sbuf b = {0};
    const char *s = x->command;
    while (*s) {
        bool hit = false;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !hit; k++) {
            size_t kl = strlen(keys[k].key);
            if (strncmp(s, keys[k].key, kl) == 0) {
                sb_shell_quote(&b, keys[k].file < 0 ? x->dir : x->path[keys[k].file]);
                s += kl;
                hit = true;
            }
        }
        if (!hit)
            sb_add(&b, s++, 1);
    }
    sb_str(&b, "");
    return b.s;
}

static int write_file(const char *path, const char *text, size_t len, err *e)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return err_set(e, ERR_IO, "external accuracy: %s: cannot write: %s", path, strerror(errno));
    size_t put = fwrite(text, 1, len, f);
    if (fclose(f) != 0 || put != len)
        return err_set(e, ERR_IO, "external accuracy: %s: cannot write: %s", path, strerror(errno));
    return 0;
}

static int write_policy(const external *x, const network *n, const policy *p, const arch *a, err *e)
{
    FILE *f = fopen(x->path[F_CSV], "w");
    if (!f)
        return err_set(e, ERR_IO, "external accuracy: %s: cannot write: %s", x->path[F_CSV],
                       strerror(errno));
    policy_write_csv(p, n, f);
    if (fclose(f) != 0)
        return err_set(e, ERR_IO, "external accuracy: %s: cannot write: %s", x->path[F_CSV],
                       strerror(errno));

    sbuf b = {0};
    char num[96];
    sb_str(&b, "{\"network\": ");
    sb_json_string(&b, n->name);
    sb_str(&b, ", \"arch\": ");
    sb_json_string(&b, a->name);
    sb_str(&b, ", \"layers\": [");
    for (unsigned i = 0; i < p->n; i++) {
        sb_str(&b, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
        sb_json_string(&b, n->layers[n->xbar[i]].name);
        snprintf(num, sizeof num, ", \"wb\": %u, \"ab\": %u, \"adc_bits\": %u}", p->layers[i].wb,
                 p->layers[i].ab, policy_adc_bits(p, a, i));
        sb_str(&b, num);
    }
    sb_str(&b, "\n]}\n");
    int rc = write_file(x->path[F_JSON], b.s, b.len, e);
    free(b.s);
    return rc;
}

/* Up to TAIL_BYTES from the end of the file at path (NUL-terminated; "" if unreadable). */
static void read_tail(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        long from = size > (long)cap - 1 ? size - ((long)cap - 1) : 0;
        if (size >= 0 && fseek(f, from, SEEK_SET) == 0) {
            size_t got = fread(buf, 1, cap - 1, f);
            buf[got] = '\0';
        }
    }
    fclose(f);
}

/* The last `keep` characters of the stderr text on one line: newlines become " / ". */
static void stderr_summary(const char *text, char *out, size_t cap, size_t keep)
{
    size_t len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    size_t from = len > keep ? len - keep : 0;
    size_t o = 0;
    if (from && o + 3 < cap) {
        memcpy(out, "...", 3);
        o = 3;
    }
    for (size_t i = from; i < len && o + 4 < cap; i++) {
        if (text[i] == '\n') {
            memcpy(out + o, " / ", 3);
            o += 3;
        } else if (text[i] != '\r') {
            out[o++] = text[i];
        }
    }
    out[o] = '\0';
}

/* An accuracy as the command may give it: a fraction in [0, 1], a percent in (1, 100], or a
 * percent in [0, 100] with a trailing %, surrounded by optional blanks. */
static int parse_accuracy(const char *s, bool allow_percent_sign, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v))
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    bool percent = false;
    if (allow_percent_sign && *end == '%') {
        percent = true;
        end++;
        while (*end == ' ' || *end == '\t')
            end++;
    }
    if (*end && *end != '\r' && *end != '\n')
        return -1;
    if (percent) {
        if (!(v >= 0.0 && v <= 100.0))
            return -1;
        *out = v / 100.0;
    } else if (v >= 0.0 && v <= 1.0) {
        *out = v;
    } else if (v > 1.0 && v <= 100.0) {
        *out = v / 100.0;
    } else {
        return -1;
    }
    return 0;
}

/* The number after the member "key": in a JSON text; 1 found, 0 absent, -1 not a usable value. */
static int json_member(const char *text, const char *key, double *out)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    for (const char *s = strstr(text, quoted); s; s = strstr(s + 1, quoted)) {
        const char *v = s + strlen(quoted);
        while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
            v++;
        if (*v != ':')
            continue; /* the word inside a string value */
        v++;
        while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
            v++;
        char num[64];
        size_t k = 0;
        while (k + 1 < sizeof num && v[k] && strchr("+-.0123456789eE", v[k]))
            num[k] = v[k], k++;
        num[k] = '\0';
        return parse_accuracy(num, false, out) == 0 ? 1 : -1;
    }
    return 0;
}

/* The environment of the child: ours plus the three paths (replacing any inherited ones), which
 * follow the *inherited entries taken from environ. */
static char **child_env(const external *x, size_t *inherited)
{
    size_t count = 0;
    while (environ[count])
        count++;
    char **env = mem_calloc(count + 4, sizeof *env, "accuracy: environment");
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        bool ours = false;
        for (int v = 0; v < 3; v++) {
            size_t l = strlen(env_names[v]);
            ours = ours || (strncmp(environ[i], env_names[v], l) == 0 && environ[i][l] == '=');
        }
        if (!ours)
            env[k++] = environ[i];
    }
    *inherited = k;
    static const int files[3] = {F_CSV, F_JSON, F_RESULT};
    for (int v = 0; v < 3; v++) {
        size_t len = strlen(env_names[v]) + 1 + strlen(x->path[files[v]]) + 1;
        env[k] = mem_alloc(len, "accuracy: environment");
        snprintf(env[k], len, "%s=%s", env_names[v], x->path[files[v]]);
        k++;
    }
    env[k] = NULL;
    return env;
}

static void sleep_s(double s)
{
    struct timespec t = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* Wait for pid until deadline (0: none); on timeout SIGTERM the group, wait GRACE_S, SIGKILL it.
 * Returns 0 with *status, 1 after a timeout (the child reaped), or -1 with errno when the child
 * cannot be waited for (e.g. the program set SIGCHLD to SIG_IGN). */
static int wait_child(pid_t pid, double deadline, int *status)
{
    double step = 0.001;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR) {
            int saved = errno;
            kill(-pid, SIGKILL);
            errno = saved;
            return -1;
        }
        double now = now_s();
        if (deadline > 0.0 && now >= deadline)
            break;
        double nap = step;
        if (deadline > 0.0 && deadline - now < nap)
            nap = deadline - now;
        sleep_s(nap);
        step = step * 2.0 < 0.02 ? step * 2.0 : 0.02;
    }
    kill(-pid, SIGTERM);
    double until = now_s() + GRACE_S;
    while (now_s() < until) {
        if (waitpid(pid, status, WNOHANG) == pid) {
            kill(-pid, SIGKILL); /* stragglers of the group, if any */
            return 1;
        }
        sleep_s(0.005);
    }
    kill(-pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return 1;
}

/* Start the command with stdin from /dev/null and stdout, stderr into their files. */
static int spawn(const external *x, const char *cmd, pid_t *pid, err *e)
{
    int in = open("/dev/null", O_RDONLY);
    int out = open(x->path[F_STDOUT], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int er = open(x->path[F_STDERR], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || er < 0) {
        int saved = errno;
        if (in >= 0)
            close(in);
        if (out >= 0)
            close(out);
        if (er >= 0)
            close(er);
        return err_set(e, ERR_IO, "external accuracy: %s: cannot open the output files: %s", x->dir,
                       strerror(saved));
    }
    size_t inherited;
    char **env = child_env(x, &inherited);
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    fflush(NULL); /* no buffered output duplicated into the child */
    pid_t p = fork();
    if (p == 0) { /* child: async-signal-safe calls only */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL); /* a mask blocking SIGTERM would outlive exec */
        setpgid(0, 0);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(er, 2) < 0)
            _exit(127);
        close(in);
        close(out);
        close(er);
        execve("/bin/sh", argv, env);
        static const char msg[] = "xbarsim: cannot exec /bin/sh\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    int saved = errno;
    close(in);
    close(out);
    close(er);
    for (size_t v = inherited; v < inherited + 3; v++)
        free(env[v]); /* the three strings child_env made; the rest belong to environ */
    free(env);
    if (p < 0)
        return err_set(e, ERR_IO, "external accuracy: cannot start /bin/sh: %s", strerror(saved));
    setpgid(p, p); /* also here, so the group exists before any kill (EACCES after exec: fine) */
    *pid = p;
    return 0;
}

/* The last non-empty line of text, trimmed, into line. */
static void last_line(const char *text, char *line, size_t cap)
{
    size_t end = strlen(text);
    for (;;) {
        while (end && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ' ||
                       text[end - 1] == '\t'))
            end--;
        size_t start = end;
        while (start && text[start - 1] != '\n')
            start--;
        size_t s = start;
        while (s < end && (text[s] == ' ' || text[s] == '\t'))
            s++;
        if (s < end || start == 0) {
            size_t len = end - s < cap - 1 ? end - s : cap - 1;
            memcpy(line, text + s, len);
            line[len] = '\0';
            return;
        }
        end = start;
    }
}

static int external_evaluate(acc_backend *b, const network *n, const policy *p, const arch *a,
                             acc_result *out, err *e)
{
    external *x = (external *)b;
    double t0 = now_s();
    ERR_TRY(acc__check_policy(n, p, a, e));
    ERR_TRY(write_policy(x, n, p, a, e));
    if (unlink(x->path[F_RESULT]) != 0 && errno != ENOENT)
        return err_set(e, ERR_IO, "external accuracy: %s: cannot remove the old result: %s",
                       x->path[F_RESULT], strerror(errno));

    char *cmd = expand_command(x);
    pid_t pid = 0;
    int rc = spawn(x, cmd, &pid, e);
    free(cmd);
    ERR_TRY(rc);
    int status = 0;
    int timed_out = wait_child(pid, x->timeout_s > 0.0 ? t0 + x->timeout_s : 0.0, &status);
    if (timed_out < 0)
        return err_set(e, ERR_IO, "external accuracy: cannot wait for the command (pid %ld): %s",
                       (long)pid, strerror(errno));

    char show[SHOW_CMD + 4];
    snprintf(show, sizeof show, "%.*s%s", SHOW_CMD, x->command,
             strlen(x->command) > SHOW_CMD ? "..." : "");
    char tail[TAIL_BYTES], errs[SHOW_ERR + 64];
    read_tail(x->path[F_STDERR], tail, sizeof tail);
    stderr_summary(tail, errs, sizeof errs, SHOW_ERR);

    if (timed_out)
        return err_set(e, ERR_LIMIT,
                       "external accuracy command `%s`: found it still running after %g s, "
                       "expected it to finish within external.timeout_s (killed); stderr: %s",
                       show, x->timeout_s, errs[0] ? errs : "(empty)");
    if (WIFSIGNALED(status))
        return err_set(e, ERR_INPUT,
                       "external accuracy command `%s`: killed by signal %d, expected exit "
                       "status 0; stderr: %s",
                       show, WTERMSIG(status), errs[0] ? errs : "(empty)");
    if (WEXITSTATUS(status) != 0)
        return err_set(e, ERR_INPUT,
                       "external accuracy command `%s`: exited with status %d, expected 0; "
                       "stderr: %s",
                       show, WEXITSTATUS(status), errs[0] ? errs : "(empty)");

    double acc = 0.0, ref = x->reference;
    bool from_json = access(x->path[F_RESULT], F_OK) == 0;
    if (from_json) {
        FILE *f = fopen(x->path[F_RESULT], "rb");
        if (!f)
            return err_set(e, ERR_IO, "external accuracy: %s: cannot read: %s", x->path[F_RESULT],
                           strerror(errno));
        char *text = mem_alloc(JSON_MAX + 1, "accuracy: result JSON");
        size_t got = fread(text, 1, JSON_MAX, f);
        fclose(f);
        text[got] = '\0';
        int ra = json_member(text, "accuracy", &acc);
        double jref;
        int rr = json_member(text, "reference", &jref);
        free(text);
        if (ra != 1)
            return err_set(e, ERR_INPUT,
                           "external accuracy command `%s`: %s: found %s, expected "
                           "{\"accuracy\": a fraction in [0, 1] or a percent in (1, 100]}",
                           show, x->path[F_RESULT],
                           ra == 0 ? "no \"accuracy\" member" : "an unusable \"accuracy\"");
        if (rr < 0)
            return err_set(e, ERR_INPUT,
                           "external accuracy command `%s`: %s: found an unusable \"reference\", "
                           "expected a fraction in [0, 1] or a percent in (1, 100]",
                           show, x->path[F_RESULT]);
        if (rr == 1)
            ref = jref;
    } else {
        char text[TAIL_BYTES], line[128];
        read_tail(x->path[F_STDOUT], text, sizeof text);
        last_line(text, line, sizeof line);
        if (parse_accuracy(line, true, &acc) != 0)
            return err_set(e, ERR_INPUT,
                           "external accuracy command `%s`: last line of stdout: found \"%s\", "
                           "expected an accuracy (0.71, 71 or 71%%) or a result in "
                           "$XBARSIM_RESULT_JSON; stderr: %s",
                           show, line, errs[0] ? errs : "(empty)");
    }
    if (!(ref > 0.0))
        return err_set(e, ERR_INPUT,
                       "external accuracy command `%s`: found no reference accuracy, expected "
                       "external.reference or a \"reference\" member in $XBARSIM_RESULT_JSON",
                       show);
    *out = (acc_result){.accuracy = acc, .reference = ref, .estimate = false};
    char nerr[ACC_NOTE_BYTES - 40]; /* what fits after the note's prefix */
    stderr_summary(tail, nerr, sizeof nerr, sizeof nerr - 8);
    snprintf(out->note, sizeof out->note, "external: from %s%s%s",
             from_json ? "result JSON" : "stdout", nerr[0] ? "; stderr: " : "", nerr);
    out->seconds = now_s() - t0;
    return 0;
}

static const acc_ops external_ops = {
    .kind = ACC_BACKEND_EXTERNAL,
    .evaluate = external_evaluate,
    .destroy = external_destroy,
};

int acc_external_create(const acc_external_config *c, acc_backend **out, err *e)
{
    if (!c->command || !c->command[strspn(c->command, " \t\n")])
        return err_set(e, ERR_INPUT,
                       "external.command: found nothing, expected a shell command "
                       "that prints or writes the accuracy of the policy");
    if (!(c->timeout_s >= 0.0 && isfinite(c->timeout_s)))
        return err_set(e, ERR_INPUT,
                       "external.timeout_s: found %g, expected seconds >= 0 "
                       "(0: no limit)",
                       c->timeout_s);
    if (!(c->reference >= 0.0 && c->reference <= 1.0))
        return err_set(e, ERR_INPUT,
                       "external.reference: found %g, expected a fraction in "
                       "(0, 1] (0: the command gives it)",
                       c->reference);
    char *dir;
    bool own = !c->workdir;
    if (own) {
        const char *tmp = getenv("TMPDIR");
        dir = join_path(tmp && *tmp ? tmp : "/tmp", "xbarsim-acc-XXXXXX");
        if (!mkdtemp(dir)) {
            int rc = err_set(e, ERR_IO,
                             "external accuracy: %s: cannot create a work directory: "
                             "%s",
                             dir, strerror(errno));
            free(dir);
            return rc;
        }
    } else {
        struct stat st;
        if (mkdir(c->workdir, 0755) != 0 &&
            !(errno == EEXIST && stat(c->workdir, &st) == 0 && S_ISDIR(st.st_mode)))
            return err_set(e, ERR_IO,
                           "external.workdir: %s: found no usable directory (%s), "
                           "expected a directory or a path where one can be made",
                           c->workdir, strerror(errno));
        dir = mem_strdup(c->workdir, "accuracy: work directory");
    }
    external *x = mem_calloc(1, sizeof *x, "accuracy external");
    x->base.ops = &external_ops;
    x->command = mem_strdup(c->command, "accuracy: command");
    x->timeout_s = c->timeout_s;
    x->reference = c->reference;
    x->dir = dir;
    x->own_dir = own;
    for (int f = 0; f < F_COUNT; f++)
        x->path[f] = join_path(dir, file_names[f]);
    *out = &x->base;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Factory
 */

static int proxy_create(const acc_config *c, acc_backend **out, err *e)
{
    return acc_proxy_create(&c->proxy, out, e);
}

static int external_create(const acc_config *c, acc_backend **out, err *e)
{
    return acc_external_create(&c->external, out, e);
}

static int functional_create(const acc_config *c, acc_backend **out, err *e)
{
    return acc_functional_create(&c->functional, out, e);
}

typedef int (*acc_create_fn)(const acc_config *c, acc_backend **out, err *e);

static const acc_create_fn factories[ACC_BACKEND_COUNT] = {
#define ACC_FACTORY(id, stem, name) [ACC_BACKEND_##id] = stem##_create,
    ACC_BACKEND_MAP(ACC_FACTORY)
#undef ACC_FACTORY
};

int acc_create(acc_kind k, const acc_config *c, acc_backend **out, err *e)
{
    assert(k < ACC_BACKEND_COUNT);
    return factories[k](c, out, e);
}
