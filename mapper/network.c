/* network: loads the `network` group of a libconfig text into a network (see network.h and
 * configs/net/README.md), derives every shape and lowers every crossbar layer to R x N x repeat.
 * Invariant: a load either fills *out completely -- every key known, every value range-checked,
 * every input an earlier layer, every shape consistent -- or leaves *out untouched, owns nothing
 * and sets the err buffer to "file:line: setting.path: found ..., expected ...".
 */
#include "network.h"

#include <assert.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h" /* cfgfile_parse, cfgfile_parse_file: the shared libconfig front end */
#include "mem.h"

/* Sanity bounds: far beyond any real network, small enough that every derived count fits its
 * type without overflow checks (elements * window < 2^64; weights are checked explicitly). */
#define MAX_CHANNELS 16777216u        /* channels, features, matmul rows / cols */
#define MAX_EXTENT   65536u           /* height, width, tokens, heads */
#define MAX_WINDOW   256u             /* kernel, stride, padding, pixels */
#define MAX_ELEMENTS 4294967296ull    /* elements of one tensor */
#define MAX_WEIGHTS  1099511627776ull /* weights of one layer (2^40) */
#define MAX_LAYERS   16384u           /* layers of one network */
#define MAX_NAME     64u              /* characters of a name */
#define PATH_BYTES   320
#define FOUND_BYTES  96
#define SHAPE_BYTES  48
#define SRC_BYTES    (MAX_NAME + SHAPE_BYTES + 32)

/* ---- registries ------------------------------------------------------------------------------ */

static const char *const kind_names[] = {
#define X(id, name, xbar, min_in, max_in, elementwise, sign, vec_op, functional) name,
    NETWORK_LAYER_KIND_MAP(X)
#undef X
};
static const bool kind_on_xbar[] = {
#define X(id, name, xbar, min_in, max_in, elementwise, sign, vec_op, functional) xbar,
    NETWORK_LAYER_KIND_MAP(X)
#undef X
};
static const unsigned kind_min_inputs[] = {
#define X(id, name, xbar, min_in, max_in, elementwise, sign, vec_op, functional) min_in,
    NETWORK_LAYER_KIND_MAP(X)
#undef X
};
static const unsigned kind_max_inputs[] = {
#define X(id, name, xbar, min_in, max_in, elementwise, sign, vec_op, functional) max_in,
    NETWORK_LAYER_KIND_MAP(X)
#undef X
};
static const bool kind_elementwise[] = {
#define X(id, name, xbar, min_in, max_in, elementwise, sign, vec_op, functional) elementwise,
    NETWORK_LAYER_KIND_MAP(X)
#undef X
};
static const network_sign kind_sign[] = {
#define X(id, name, xbar, min_in, max_in, elementwise, sign, vec_op, functional)                   \
    NETWORK_SIGN_##sign,
    NETWORK_LAYER_KIND_MAP(X)
#undef X
};
static const bool kind_functional[] = {
#define X(id, name, xbar, min_in, max_in, elementwise, sign, vec_op, functional) functional,
    NETWORK_LAYER_KIND_MAP(X)
#undef X
};
static const char *const pool_names[] = {
#define X(id, name) name,
    NETWORK_POOL_MODE_MAP(X)
#undef X
};
static const char *const axis_names[] = {
#define X(id, name) name,
    NETWORK_SLICE_AXIS_MAP(X)
#undef X
};

const char *network_layer_kind_name(network_layer_kind k)
{
    assert((unsigned)k < NETWORK_KIND_COUNT);
    return kind_names[k];
}

bool network_layer_kind_on_crossbar(network_layer_kind k)
{
    assert((unsigned)k < NETWORK_KIND_COUNT);
    return kind_on_xbar[k];
}

network_sign network_layer_kind_sign(network_layer_kind k)
{
    assert((unsigned)k < NETWORK_KIND_COUNT);
    return kind_sign[k];
}

bool network_layer_kind_functional(network_layer_kind k)
{
    assert((unsigned)k < NETWORK_KIND_COUNT);
    return kind_functional[k];
}

bool network_layer_kind_output_nonneg(network_layer_kind k, bool all_inputs_nonneg)
{
    network_sign sg = network_layer_kind_sign(k);
    return sg == NETWORK_SIGN_NONNEG || (sg == NETWORK_SIGN_KEEP && all_inputs_nonneg);
}

_Noreturn void network_bad_kind(network_layer_kind k, const char *where)
{
    fprintf(stderr, "xbarsim: bug: %s: layer kind %s (%d) is not handled there\n", where,
            (unsigned)k < NETWORK_KIND_COUNT ? kind_names[k] : "?", (int)k);
    abort();
}

/* Index of name in names[0..count), or -1. */
static int find_name(const char *const *names, unsigned count, const char *name)
{
    for (unsigned i = 0; i < count; i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

int network_layer_kind_parse(const char *name, network_layer_kind *k)
{
    int i = find_name(kind_names, NETWORK_KIND_COUNT, name);
    if (i < 0)
        return -1;
    *k = (network_layer_kind)i;
    return 0;
}

const char *network_pool_mode_name(network_pool_mode m)
{
    assert((unsigned)m < NETWORK_POOL_COUNT);
    return pool_names[m];
}

const char *network_slice_axis_name(network_slice_axis a)
{
    assert((unsigned)a < NETWORK_AXIS_COUNT);
    return axis_names[a];
}

/* ---- queries --------------------------------------------------------------------------------- */

uint64_t network_shape_elements(network_shape s)
{
    return (uint64_t)s.channels * s.height * s.width;
}

int network_find_layer(const network *n, const char *name)
{
    for (unsigned i = 0; i < n->n_layers; i++)
        if (n->layers[i].name && strcmp(n->layers[i].name, name) == 0)
            return (int)i;
    return -1;
}

uint64_t network_total_weights(const network *n)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < n->n_xbar; i++)
        if (!n->layers[n->xbar[i]].xbar.dynamic)
            sum += n->layers[n->xbar[i]].xbar.weights;
    return sum;
}

uint64_t network_total_dynamic_weights(const network *n)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < n->n_xbar; i++)
        if (n->layers[n->xbar[i]].xbar.dynamic)
            sum += n->layers[n->xbar[i]].xbar.weights;
    return sum;
}

void network_fini(network *n)
{
    if (!n)
        return;
    for (unsigned i = 0; n->layers && i < n->n_layers; i++)
        free(n->layers[i].name);
    free(n->layers);
    free(n->xbar);
    free(n->name);
    free(n->origin);
    memset(n, 0, sizeof *n);
}

/* ---- error reporting ------------------------------------------------------------------------- */

typedef struct ctx {
    const char *origin; /* names settings that come from no file (a string) */
    err *e;
} ctx;

/* A group being read: its setting, its path, and the name of the layer it is (NULL for the
 * groups around the layers, or before the layer's name is known). */
typedef struct grp {
    config_setting_t *s;
    char path[PATH_BYTES];
    const char *layer;
} grp;

/* Set "file:line: group.key (layer "name"): <what>" at the location of `at`; key may be NULL
 * (the group itself). Returns ERR_INPUT. */
static int fail(const ctx *c, const config_setting_t *at, const grp *g, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail(const ctx *c, const config_setting_t *at, const grp *g, const char *key,
                const char *fmt, ...)
{
    char what[ERR_MSG_BYTES], where[PATH_BYTES + MAX_NAME + 80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "%s%s%s", g->path, key && g->path[0] ? "." : "", key ? key : "");
    if (g->layer) {
        size_t used = strlen(where);
        snprintf(where + used, sizeof where - used, " (layer \"%s\")", g->layer);
    }
    unsigned line = cfgfile_line_of(at ? at : g->s);
    if (line)
        return err_set(c->e, ERR_INPUT, "%s:%u: %s: %s", cfgfile_file_of(at ? at : g->s, c->origin),
                       line, where, what);
    return err_set(c->e, ERR_INPUT, "%s: %s: %s", cfgfile_file_of(at ? at : g->s, c->origin), where,
                   what);
}

static void shape_str(network_shape s, char *buf)
{
    snprintf(buf, SHAPE_BYTES, "%ux%ux%u", s.channels, s.height, s.width);
}

/* ---- typed getters ---------------------------------------------------------------------------
 * Each reads g.key: a missing optional key yields its default; a missing required key, a wrong
 * type or a value out of range is an error at the key's (or the group's) line.
 */

/* Every key of g must be in keys[0..nkeys). */
static int check_keys(const ctx *c, const grp *g, const char *const *keys, size_t nkeys)
{
    int n = config_setting_length(g->s);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g->s, (unsigned)i);
        const char *name = config_setting_name(s);
        bool known = false;
        for (size_t k = 0; name && k < nkeys && !known; k++)
            known = strcmp(name, keys[k]) == 0;
        if (!known) {
            char valid[512];
            cfgfile_list_names(valid, sizeof valid, keys, nkeys);
            return fail(c, s, g, name ? name : "?", "found an unknown key, expected one of: %s",
                        valid);
        }
    }
    return 0;
}

/* An integer from setting s (named key in g), in min..max. */
static int uint_of(const ctx *c, const grp *g, const config_setting_t *s, const char *key,
                   unsigned min, unsigned max, unsigned *out)
{
    char found[FOUND_BYTES];
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, g, key, "found %s, expected an integer %u..%u", found, min, max);
    }
    long long v = config_setting_get_int64(s);
    if (v < (long long)min || v > (long long)max)
        return fail(c, s, g, key, "found %lld, expected an integer %u..%u", v, min, max);
    *out = (unsigned)v;
    return 0;
}

static int get_uint(const ctx *c, const grp *g, const char *key, unsigned min, unsigned max,
                    bool required, unsigned dflt, unsigned *out)
{
    const config_setting_t *s = config_setting_get_member(g->s, key);
    if (!s) {
        if (required)
            return fail(c, g->s, g, key, "missing, expected an integer %u..%u", min, max);
        *out = dflt;
        return 0;
    }
    return uint_of(c, g, s, key, min, max, out);
}

/* An integer n (both dimensions n) or an array [h, w], each in min..max. */
static int get_pair(const ctx *c, const grp *g, const char *key, unsigned min, unsigned max,
                    bool required, unsigned dflt_h, unsigned dflt_w, unsigned *h, unsigned *w)
{
    char found[FOUND_BYTES], ekey[64];
    const config_setting_t *s = config_setting_get_member(g->s, key);
    if (!s) {
        if (required)
            return fail(c, g->s, g, key, "missing, expected an integer %u..%u or [height, width]",
                        min, max);
        *h = dflt_h;
        *w = dflt_w;
        return 0;
    }
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
        ERR_TRY(uint_of(c, g, s, key, min, max, h));
        *w = *h;
        return 0;
    }
    if ((t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) || config_setting_length(s) != 2) {
        cfgfile_describe(s, found, FOUND_BYTES);
        if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST)
            snprintf(found, sizeof found, "an array of %d values", config_setting_length(s));
        return fail(c, s, g, key, "found %s, expected an integer %u..%u or [height, width]", found,
                    min, max);
    }
    snprintf(ekey, sizeof ekey, "%s[0]", key);
    ERR_TRY(uint_of(c, g, config_setting_get_elem(s, 0), ekey, min, max, h));
    snprintf(ekey, sizeof ekey, "%s[1]", key);
    return uint_of(c, g, config_setting_get_elem(s, 1), ekey, min, max, w);
}

/* A string; required, or NULL when absent. *at receives its setting for later messages. */
static int get_string(const ctx *c, const grp *g, const char *key, bool required, const char *want,
                      const char **out, const config_setting_t **at)
{
    char found[FOUND_BYTES];
    const config_setting_t *s = config_setting_get_member(g->s, key);
    *out = NULL;
    *at = NULL;
    if (!s) {
        if (required)
            return fail(c, g->s, g, key, "missing, expected %s", want);
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, g, key, "found %s, expected %s", found, want);
    }
    *out = config_setting_get_string(s);
    *at = s;
    return 0;
}

/* A string naming one of names[0..count); *index gets its position. dflt < 0: required. */
static int get_choice(const ctx *c, const grp *g, const char *key, const char *const *names,
                      unsigned count, int dflt, int *index)
{
    char valid[256], want[300];
    const char *s;
    const config_setting_t *at;
    cfgfile_list_names(valid, sizeof valid, names, count);
    snprintf(want, sizeof want, "a string, one of: %s", valid);
    ERR_TRY(get_string(c, g, key, dflt < 0, want, &s, &at));
    if (!s) {
        *index = dflt;
        return 0;
    }
    *index = find_name(names, count, s);
    if (*index < 0)
        return fail(c, at, g, key, "found \"%.40s\", expected one of: %s", s, valid);
    return 0;
}

static bool name_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.' || ch == '+';
}

/* A required name: 1..MAX_NAME characters from A-Z a-z 0-9 _ - . + */
static int get_name(const ctx *c, const grp *g, const char *key, const char **out,
                    const config_setting_t **at)
{
    static const char want[] = "a string of 1..64 characters A-Z a-z 0-9 _ - . +";
    ERR_TRY(get_string(c, g, key, true, want, out, at));
    size_t len = strlen(*out);
    bool ok = len >= 1 && len <= MAX_NAME;
    for (size_t i = 0; ok && i < len; i++)
        ok = name_char_ok((*out)[i]);
    if (!ok)
        return fail(c, *at, g, key,
                    "found \"%.40s\"%s (%zu characters), expected 1..64 characters from A-Z a-z "
                    "0-9 _ - . +",
                    *out, len > 40 ? "..." : "", len);
    return 0;
}

/* ---- the network input ----------------------------------------------------------------------- */

static int get_input(const ctx *c, const grp *net, network *n)
{
    static const char *const keys[] = {"channels", "height", "width", "features", "tokens"};
    char found[FOUND_BYTES];
    grp g = {.s = config_setting_get_member(net->s, "input"), .path = "network.input"};
    if (!g.s)
        return fail(c, net->s, net, "input",
                    "missing, expected a group input = { channels = ..; height = ..; width = ..; "
                    "} or input = { features = ..; tokens = ..; }");
    if (config_setting_type(g.s) != CONFIG_TYPE_GROUP) {
        cfgfile_describe(g.s, found, FOUND_BYTES);
        return fail(c, g.s, net, "input", "found %s, expected a group input = { ... }", found);
    }
    ERR_TRY(check_keys(c, &g, keys, sizeof keys / sizeof keys[0]));
    bool map = config_setting_get_member(g.s, "channels") ||
               config_setting_get_member(g.s, "height") || config_setting_get_member(g.s, "width");
    bool stream =
        config_setting_get_member(g.s, "features") || config_setting_get_member(g.s, "tokens");
    if (map && stream)
        return fail(c, NULL, &g, NULL,
                    "found keys of both forms, expected either channels, height, width (a feature "
                    "map) or features, tokens (a token stream)");
    if (stream) {
        ERR_TRY(get_uint(c, &g, "features", 1, MAX_CHANNELS, true, 0, &n->input.channels));
        ERR_TRY(get_uint(c, &g, "tokens", 1, MAX_EXTENT, false, 1, &n->input.height));
        n->input.width = 1;
    } else {
        ERR_TRY(get_uint(c, &g, "channels", 1, MAX_CHANNELS, true, 0, &n->input.channels));
        ERR_TRY(get_uint(c, &g, "height", 1, MAX_EXTENT, true, 0, &n->input.height));
        ERR_TRY(get_uint(c, &g, "width", 1, MAX_EXTENT, true, 0, &n->input.width));
    }
    if (network_shape_elements(n->input) > MAX_ELEMENTS) {
        shape_str(n->input, found);
        return fail(c, NULL, &g, NULL, "found %s = %llu elements, expected at most %llu", found,
                    (unsigned long long)network_shape_elements(n->input), MAX_ELEMENTS);
    }
    return 0;
}

/* ---- layers ---------------------------------------------------------------------------------- */

static network_shape shape_of(const network *n, int index)
{
    return index == NETWORK_INPUT ? n->input : n->layers[index].out;
}

/* "layer "name" (CxHxW)" or "the network input (CxHxW)" */
static void source_str(const network *n, int index, char *buf)
{
    char shape[SHAPE_BYTES];
    shape_str(shape_of(n, index), shape);
    if (index == NETWORK_INPUT)
        snprintf(buf, SRC_BYTES, "the network input (%s)", shape);
    else
        snprintf(buf, SRC_BYTES, "layer \"%s\" (%s)", n->layers[index].name, shape);
}

/* The setting messages about the inputs point at: `inputs`, or the layer when it has none. */
static const config_setting_t *inputs_at(const grp *g)
{
    const config_setting_t *s = config_setting_get_member(g->s, "inputs");
    return s ? s : g->s;
}

/* The name of list element j of layers, when it has a string `name` (for messages). */
static const char *name_at(const config_setting_t *layers, unsigned j)
{
    const config_setting_t *s = config_setting_get_elem(layers, j);
    const char *name = NULL;
    if (s && config_setting_type(s) == CONFIG_TYPE_GROUP)
        config_setting_lookup_string(s, "name", &name);
    return name;
}

/* Resolve `inputs` of layer i (default: the previous layer, or the network input). */
static int get_inputs(const ctx *c, const grp *g, const config_setting_t *layers, network *n,
                      unsigned i)
{
    network_layer *l = &n->layers[i];
    unsigned lo = kind_min_inputs[l->kind], hi = kind_max_inputs[l->kind];
    char found[FOUND_BYTES], ekey[32];
    const config_setting_t *s = config_setting_get_member(g->s, "inputs");
    if (!s) {
        if (lo > 1)
            return fail(c, g->s, g, "inputs",
                        "missing, expected inputs = [\"a\", \"b\", ...] naming %u..%u earlier "
                        "layers (an %s combines several inputs)",
                        lo, hi, kind_names[l->kind]);
        l->n_inputs = 1;
        l->inputs[0] = i == 0 ? NETWORK_INPUT : (int)i - 1;
        return 0;
    }
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, g, "inputs",
                    "found %s, expected an array [\"name\", ...] of earlier layers' names or "
                    "\"input\"",
                    found);
    }
    unsigned count = (unsigned)config_setting_length(s);
    if (count < lo || count > hi) {
        if (lo == hi)
            return fail(c, s, g, "inputs", "found %u names, expected exactly %u (a %s takes %u)",
                        count, lo, kind_names[l->kind], lo);
        return fail(c, s, g, "inputs", "found %u names, expected %u..%u", count, lo, hi);
    }
    for (unsigned k = 0; k < count; k++) {
        const config_setting_t *e = config_setting_get_elem(s, k);
        snprintf(ekey, sizeof ekey, "inputs[%u]", k);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            cfgfile_describe(e, found, FOUND_BYTES);
            return fail(c, e, g, ekey,
                        "found %s, expected the name of an earlier layer or \"input\"", found);
        }
        const char *name = config_setting_get_string(e);
        if (strcmp(name, "input") == 0) {
            l->inputs[k] = NETWORK_INPUT;
            continue;
        }
        int index = network_find_layer(n, name);
        if (index >= 0 && (unsigned)index < i) {
            l->inputs[k] = index;
            continue;
        }
        /* Not an earlier layer: say whether it is this one, a later one, or no layer at all. */
        unsigned total = (unsigned)config_setting_length(layers);
        for (unsigned j = i; j < total; j++) {
            const char *other = name_at(layers, j);
            if (other && strcmp(other, name) == 0) {
                if (j == i)
                    return fail(c, e, g, ekey,
                                "found \"%.64s\", the layer itself, expected an earlier layer",
                                name);
                return fail(c, e, g, ekey,
                            "found \"%.64s\", which is network.layers.[%u], after this layer; "
                            "expected an earlier layer (the file order is the evaluation order)",
                            name, j);
            }
        }
        return fail(c, e, g, ekey,
                    "found \"%.64s\", expected the name of an earlier layer or \"input\" (no "
                    "layer has that name)",
                    name);
    }
    l->n_inputs = count;
    return 0;
}

/* The input must be a token stream (width 1). */
static int want_stream(const ctx *c, const grp *g, const network *n, const network_layer *l)
{
    char src[SRC_BYTES];
    if (l->in.width == 1)
        return 0;
    source_str(n, l->inputs[0], src);
    return fail(c, inputs_at(g), g, "inputs",
                "found %s, which is not a token stream, expected features x tokens x 1 (put a "
                "flatten, tokens or global_avg pool layer before a %s)",
                src, kind_names[l->kind]);
}

/* An optional declared size (key) must equal the derived one; what names the quantity. */
static int check_declared(const ctx *c, const grp *g, const network *n, const network_layer *l,
                          const char *key, unsigned max, unsigned derived, const char *what)
{
    unsigned v = 0;
    char src[SRC_BYTES];
    ERR_TRY(get_uint(c, g, key, 1, max, false, derived, &v));
    if (v == derived)
        return 0;
    source_str(n, l->inputs[0], src);
    return fail(c, config_setting_get_member(g->s, key), g, key,
                "found %u, expected %u: layer \"%s\" takes %u %s but its input, %s, gives %u", v,
                derived, l->name, v, what, src, derived);
}

/* One output dimension of a window: (in + 2 pad - k) / stride + 1, at least 1, rounded down; with
 * ceil rounded up (PyTorch's ceil_mode) less a last window that would start in the right padding
 * (PyTorch's rule: every window starts inside the input or the left padding). */
static int window_out(const ctx *c, const grp *g, const network *n, const network_layer *l,
                      const char *dim, unsigned in, unsigned k, unsigned stride, unsigned pad,
                      bool ceil, unsigned *out)
{
    char src[SRC_BYTES];
    if (in + 2 * pad >= k) {
        unsigned span = in + 2 * pad - k;
        *out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceil && (*out - 1) * stride >= in + pad)
            (*out)--;
        return 0;
    }
    source_str(n, l->inputs[0], src);
    return fail(c, config_setting_get_member(g->s, "kernel"), g, "kernel",
                "found an output %s of (%s + 2*padding - kernel) / stride + 1 = (%u + 2*%u - %u) "
                "/ %u + 1 < 1, expected at least 1: the window is larger than the padded input, "
                "%s",
                dim, dim, in, pad, k, stride, src);
}

/* a * b * c when it stays within max, else false. */
static bool mul3(uint64_t a, uint64_t b, uint64_t c3, uint64_t max, uint64_t *out)
{
    if (a && b > max / a)
        return false;
    uint64_t ab = a * b;
    if (ab && c3 > max / ab)
        return false;
    *out = ab * c3;
    return true;
}

/* Set the lowered view; the weights must stay within MAX_WEIGHTS. */
static int set_xbar(const ctx *c, const grp *g, network_layer *l, uint64_t rows, uint64_t cols,
                    unsigned repeat, uint64_t vectors)
{
    uint64_t w;
    if (!mul3(rows, cols, repeat, MAX_WEIGHTS, &w))
        return fail(c, NULL, g, NULL,
                    "found %llu x %llu x %u weights, expected at most %llu weights in one layer",
                    (unsigned long long)rows, (unsigned long long)cols, repeat, MAX_WEIGHTS);
    l->xbar.rows = rows;
    l->xbar.cols = cols;
    l->xbar.repeat = repeat;
    l->xbar.vectors = vectors;
    l->xbar.weights = w;
    return 0;
}

/* Set the output shape after checking it against the bounds. */
static int set_out(const ctx *c, const grp *g, network_layer *l, uint64_t ch, uint64_t h,
                   uint64_t w)
{
    uint64_t elements;
    if (ch > MAX_CHANNELS || h > MAX_EXTENT || w > MAX_EXTENT ||
        !mul3(ch, h, w, MAX_ELEMENTS, &elements))
        return fail(c, NULL, g, NULL,
                    "found an output of %llux%llux%llu, expected at most %u channels, %u rows, %u "
                    "columns and %llu elements",
                    (unsigned long long)ch, (unsigned long long)h, (unsigned long long)w,
                    MAX_CHANNELS, MAX_EXTENT, MAX_EXTENT, MAX_ELEMENTS);
    l->out.channels = (unsigned)ch;
    l->out.height = (unsigned)h;
    l->out.width = (unsigned)w;
    return 0;
}

/* A boolean g.key, dflt when absent. */
static int get_bool(const ctx *c, const grp *g, const char *key, bool dflt, bool *out)
{
    char found[FOUND_BYTES];
    const config_setting_t *s = config_setting_get_member(g->s, key);
    if (!s) {
        *out = dflt;
        return 0;
    }
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        cfgfile_describe(s, found, FOUND_BYTES);
        return fail(c, s, g, key, "found %s, expected true or false", found);
    }
    *out = config_setting_get_bool(s) != 0;
    return 0;
}

static int get_conv(const ctx *c, const grp *g, const network *n, network_layer *l)
{
    char src[SRC_BYTES];
    unsigned oh = 0, ow = 0;
    ERR_TRY(check_declared(c, g, n, l, "in_channels", MAX_CHANNELS, l->in.channels, "channels"));
    l->conv.in_channels = l->in.channels;
    ERR_TRY(get_uint(c, g, "out_channels", 1, MAX_CHANNELS, true, 0, &l->conv.out_channels));
    ERR_TRY(
        get_pair(c, g, "kernel", 1, MAX_WINDOW, true, 0, 0, &l->conv.kernel_h, &l->conv.kernel_w));
    ERR_TRY(
        get_pair(c, g, "stride", 1, MAX_WINDOW, false, 1, 1, &l->conv.stride_h, &l->conv.stride_w));
    ERR_TRY(get_pair(c, g, "padding", 0, MAX_WINDOW, false, 0, 0, &l->conv.pad_h, &l->conv.pad_w));
    ERR_TRY(get_uint(c, g, "groups", 1, MAX_CHANNELS, false, 1, &l->conv.groups));
    ERR_TRY(get_bool(c, g, "batch_norm", false, &l->conv.batch_norm));
    unsigned gr = l->conv.groups;
    if (l->conv.in_channels % gr || l->conv.out_channels % gr) {
        source_str(n, l->inputs[0], src);
        return fail(c, config_setting_get_member(g->s, "groups"), g, "groups",
                    "found %u, expected a divisor of both the %u input channels of %s and "
                    "out_channels = %u",
                    gr, l->conv.in_channels, src, l->conv.out_channels);
    }
    ERR_TRY(window_out(c, g, n, l, "height", l->in.height, l->conv.kernel_h, l->conv.stride_h,
                       l->conv.pad_h, false, &oh));
    ERR_TRY(window_out(c, g, n, l, "width", l->in.width, l->conv.kernel_w, l->conv.stride_w,
                       l->conv.pad_w, false, &ow));
    ERR_TRY(set_out(c, g, l, l->conv.out_channels, oh, ow));
    return set_xbar(c, g, l,
                    (uint64_t)l->conv.kernel_h * l->conv.kernel_w * (l->conv.in_channels / gr),
                    l->conv.out_channels / gr, gr, (uint64_t)oh * ow);
}

static int get_linear(const ctx *c, const grp *g, const network *n, network_layer *l)
{
    ERR_TRY(want_stream(c, g, n, l));
    ERR_TRY(check_declared(c, g, n, l, "in_features", MAX_CHANNELS, l->in.channels, "features"));
    ERR_TRY(check_declared(c, g, n, l, "tokens", MAX_EXTENT, l->in.height, "tokens"));
    l->linear.in_features = l->in.channels;
    l->linear.tokens = l->in.height;
    ERR_TRY(get_uint(c, g, "out_features", 1, MAX_CHANNELS, true, 0, &l->linear.out_features));
    ERR_TRY(set_out(c, g, l, l->linear.out_features, l->in.height, 1));
    return set_xbar(c, g, l, l->linear.in_features, l->linear.out_features, 1, l->in.height);
}

static int get_matmul(const ctx *c, const grp *g, const network *n, network_layer *l)
{
    char src[SRC_BYTES];
    ERR_TRY(want_stream(c, g, n, l));
    ERR_TRY(get_uint(c, g, "rows", 1, MAX_CHANNELS, true, 0, &l->matmul.rows));
    ERR_TRY(get_uint(c, g, "cols", 1, MAX_CHANNELS, true, 0, &l->matmul.cols));
    ERR_TRY(get_uint(c, g, "repeat", 1, MAX_EXTENT, false, 1, &l->matmul.repeat));
    ERR_TRY(check_declared(c, g, n, l, "invocations", MAX_EXTENT, l->in.height,
                           "input vectors (tokens)"));
    l->matmul.invocations = l->in.height;
    uint64_t rows = (uint64_t)l->matmul.rows * l->matmul.repeat;
    if (rows != l->in.channels) {
        source_str(n, l->inputs[0], src);
        return fail(c, config_setting_get_member(g->s, "rows"), g, "rows",
                    "found rows * repeat = %u * %u = %llu features, expected the %u features of "
                    "the input, %s",
                    l->matmul.rows, l->matmul.repeat, (unsigned long long)rows, l->in.channels,
                    src);
    }
    uint64_t stored = rows * l->matmul.cols;
    if (l->n_inputs == 2) {
        uint64_t got = network_shape_elements(shape_of(n, l->inputs[1]));
        if (got != stored) {
            source_str(n, l->inputs[1], src);
            return fail(c, config_setting_get_elem(inputs_at(g), 1), g, "inputs[1]",
                        "found the stored operand %s of %llu elements, expected rows * cols * "
                        "repeat = %u * %u * %u = %llu elements",
                        src, (unsigned long long)got, l->matmul.rows, l->matmul.cols,
                        l->matmul.repeat, (unsigned long long)stored);
        }
        l->xbar.dynamic = true;
    }
    ERR_TRY(set_out(c, g, l, (uint64_t)l->matmul.cols * l->matmul.repeat, l->in.height, 1));
    return set_xbar(c, g, l, l->matmul.rows, l->matmul.cols, l->matmul.repeat, l->in.height);
}

static int get_pool(const ctx *c, const grp *g, const network *n, network_layer *l)
{
    int mode = 0;
    unsigned oh = 0, ow = 0;
    ERR_TRY(get_choice(c, g, "mode", pool_names, NETWORK_POOL_COUNT, -1, &mode));
    l->pool.mode = (network_pool_mode)mode;
    if (l->pool.mode == NETWORK_POOL_GLOBAL_AVG) {
        static const char *const window[] = {"kernel", "stride", "padding", "ceil_mode"};
        for (size_t k = 0; k < sizeof window / sizeof window[0]; k++) {
            const config_setting_t *s = config_setting_get_member(g->s, window[k]);
            if (s)
                return fail(c, s, g, window[k],
                            "found a window setting with mode \"global_avg\", expected none (a "
                            "global pool averages the whole input)");
        }
        l->pool.kernel_h = l->in.height;
        l->pool.kernel_w = l->in.width;
        l->pool.stride_h = l->pool.stride_w = 1;
        l->elements = network_shape_elements(l->in);
        return set_out(c, g, l, l->in.channels, 1, 1);
    }
    ERR_TRY(
        get_pair(c, g, "kernel", 1, MAX_WINDOW, true, 0, 0, &l->pool.kernel_h, &l->pool.kernel_w));
    ERR_TRY(get_pair(c, g, "stride", 1, MAX_WINDOW, false, l->pool.kernel_h, l->pool.kernel_w,
                     &l->pool.stride_h, &l->pool.stride_w));
    ERR_TRY(get_pair(c, g, "padding", 0, MAX_WINDOW, false, 0, 0, &l->pool.pad_h, &l->pool.pad_w));
    ERR_TRY(get_bool(c, g, "ceil_mode", false, &l->pool.ceil_mode));
    if (2 * l->pool.pad_h > l->pool.kernel_h || 2 * l->pool.pad_w > l->pool.kernel_w)
        return fail(c, config_setting_get_member(g->s, "padding"), g, "padding",
                    "found %ux%u, expected at most half the %ux%u kernel (a window must not lie "
                    "wholly in the padding)",
                    l->pool.pad_h, l->pool.pad_w, l->pool.kernel_h, l->pool.kernel_w);
    ERR_TRY(window_out(c, g, n, l, "height", l->in.height, l->pool.kernel_h, l->pool.stride_h,
                       l->pool.pad_h, l->pool.ceil_mode, &oh));
    ERR_TRY(window_out(c, g, n, l, "width", l->in.width, l->pool.kernel_w, l->pool.stride_w,
                       l->pool.pad_w, l->pool.ceil_mode, &ow));
    ERR_TRY(set_out(c, g, l, l->in.channels, oh, ow));
    l->elements = network_shape_elements(l->out) * l->pool.kernel_h * l->pool.kernel_w;
    return 0;
}

static int get_add(const ctx *c, const grp *g, const network *n, network_layer *l)
{
    char a[SRC_BYTES], b[SRC_BYTES];
    for (unsigned k = 1; k < l->n_inputs; k++) {
        network_shape s = shape_of(n, l->inputs[k]);
        if (s.channels != l->in.channels || s.height != l->in.height || s.width != l->in.width) {
            source_str(n, l->inputs[0], a);
            source_str(n, l->inputs[k], b);
            return fail(c, inputs_at(g), g, "inputs",
                        "found inputs of different shapes, %s and %s; expected equal shapes", a, b);
        }
    }
    l->elements = network_shape_elements(l->in) * l->n_inputs;
    return set_out(c, g, l, l->in.channels, l->in.height, l->in.width);
}

/* x * y elementwise: y of x's shape, or one value per channel (C x 1 x 1: squeeze-and-excitation's
 * scale), broadcast over the positions. */
static int get_mul(const ctx *c, const grp *g, const network *n, network_layer *l)
{
    char a[SRC_BYTES], b[SRC_BYTES];
    network_shape y = shape_of(n, l->inputs[1]);
    bool same = y.channels == l->in.channels && y.height == l->in.height && y.width == l->in.width;
    bool per_channel = y.channels == l->in.channels && y.height == 1 && y.width == 1;
    if (!same && !per_channel) {
        source_str(n, l->inputs[0], a);
        source_str(n, l->inputs[1], b);
        return fail(c, inputs_at(g), g, "inputs",
                    "found %s and %s; expected the second of the first's shape or C x 1 x 1 (one "
                    "value per channel)",
                    a, b);
    }
    l->elements = network_shape_elements(l->in) + network_shape_elements(y);
    return set_out(c, g, l, l->in.channels, l->in.height, l->in.width);
}

/* Inputs stacked along the features (channels): equal tokens x width, channels summed. */
static int get_concat(const ctx *c, const grp *g, const network *n, network_layer *l)
{
    char a[SRC_BYTES], b[SRC_BYTES];
    uint64_t channels = 0, elements = 0;
    for (unsigned k = 0; k < l->n_inputs; k++) {
        network_shape s = shape_of(n, l->inputs[k]);
        if (s.height != l->in.height || s.width != l->in.width) {
            source_str(n, l->inputs[0], a);
            source_str(n, l->inputs[k], b);
            return fail(c, inputs_at(g), g, "inputs",
                        "found %s and %s; expected inputs that differ in their features "
                        "(channels) only",
                        a, b);
        }
        channels += s.channels;
        elements += network_shape_elements(s);
    }
    l->elements = elements;
    return set_out(c, g, l, channels, l->in.height, l->in.width);
}

static int get_slice(const ctx *c, const grp *g, const network *n, network_layer *l)
{
    int axis = 0;
    char src[SRC_BYTES];
    ERR_TRY(get_choice(c, g, "axis", axis_names, NETWORK_AXIS_COUNT, NETWORK_AXIS_FEATURES, &axis));
    l->slice.axis = (network_slice_axis)axis;
    unsigned size = axis == NETWORK_AXIS_FEATURES ? l->in.channels : l->in.height;
    ERR_TRY(get_uint(c, g, "start", 0, size - 1, false, 0, &l->slice.start));
    ERR_TRY(get_uint(c, g, "count", 1, MAX_CHANNELS, true, 0, &l->slice.count));
    if ((uint64_t)l->slice.start + l->slice.count > size) {
        source_str(n, l->inputs[0], src);
        return fail(c, config_setting_get_member(g->s, "count"), g, "count",
                    "found start + count = %u + %u = %llu, expected at most the %u %s of the "
                    "input, %s",
                    l->slice.start, l->slice.count,
                    (unsigned long long)l->slice.start + l->slice.count, size,
                    axis == NETWORK_AXIS_FEATURES ? "features" : "tokens", src);
    }
    if (axis == NETWORK_AXIS_FEATURES)
        return set_out(c, g, l, l->slice.count, l->in.height, l->in.width);
    return set_out(c, g, l, l->in.channels, l->slice.count, l->in.width);
}

/* Keys each kind takes besides name, type and inputs, NULL-terminated; a kind with no list takes
 * none (the elementwise kinds). */
static const char *const conv_keys[] = {"in_channels", "out_channels", "kernel",     "stride",
                                        "padding",     "groups",       "batch_norm", NULL};
static const char *const linear_keys[] = {"in_features", "out_features", "tokens", NULL};
static const char *const matmul_keys[] = {"rows", "cols", "invocations", "repeat", NULL};
static const char *const pool_keys[] = {"mode", "kernel", "stride", "padding", "ceil_mode", NULL};
static const char *const tokens_keys[] = {"prepend", NULL};
static const char *const slice_keys[] = {"axis", "start", "count", NULL};
static const char *const *const kind_extra_keys[NETWORK_KIND_COUNT] = {
    [NETWORK_KIND_CONV2D] = conv_keys,   [NETWORK_KIND_LINEAR] = linear_keys,
    [NETWORK_KIND_MATMUL] = matmul_keys, [NETWORK_KIND_POOL] = pool_keys,
    [NETWORK_KIND_TOKENS] = tokens_keys, [NETWORK_KIND_SLICE] = slice_keys,
};

#define MAX_KEYS 16 /* keys of one layer group, count */

/* keys[0..3) = name, type, inputs; append k's own keys; returns the count. */
static size_t kind_keys(network_layer_kind k, const char **keys)
{
    size_t n = 3;
    for (const char *const *p = kind_extra_keys[k]; p && *p; p++) {
        assert(n < MAX_KEYS);
        keys[n++] = *p;
    }
    return n;
}

/* Fill n->layers[i] from list element i of layers. */
static int get_layer(const ctx *c, const config_setting_t *layers, network *n, unsigned i)
{
    network_layer *l = &n->layers[i];
    char found[FOUND_BYTES];
    grp g = {.s = config_setting_get_elem(layers, i), .layer = NULL};
    snprintf(g.path, sizeof g.path, "network.layers.[%u]", i);
    l->xbar_index = -1;
    if (config_setting_type(g.s) != CONFIG_TYPE_GROUP) {
        cfgfile_describe(g.s, found, FOUND_BYTES);
        return fail(c, g.s, &g, NULL,
                    "found %s, expected a group { name = \"...\"; type = \"...\"; ... }", found);
    }
    l->line = cfgfile_line_of(g.s);

    const char *name;
    const config_setting_t *at;
    ERR_TRY(get_name(c, &g, "name", &name, &at));
    if (strcmp(name, "input") == 0)
        return fail(c, at, &g, "name",
                    "found \"input\", expected another name (\"input\" names the network input)");
    int dup = network_find_layer(n, name);
    if (dup >= 0)
        return fail(c, at, &g, "name",
                    "found \"%s\", already the name of network.layers.[%d] (line %u), expected "
                    "a unique name",
                    name, dup, n->layers[dup].line);
    l->name = mem_strdup(name, "layer name");
    g.layer = l->name;

    int kind = 0;
    ERR_TRY(get_choice(c, &g, "type", kind_names, NETWORK_KIND_COUNT, -1, &kind));
    l->kind = (network_layer_kind)kind;
    const char *keys[MAX_KEYS] = {"name", "type", "inputs"};
    size_t nkeys = kind_keys(l->kind, keys);
    ERR_TRY(check_keys(c, &g, keys, nkeys));
    ERR_TRY(get_inputs(c, &g, layers, n, i));
    l->in = shape_of(n, l->inputs[0]);

    if (kind_elementwise[l->kind]) { /* the shape rule of every elementwise kind */
        l->elements = network_shape_elements(l->in);
        return set_out(c, &g, l, l->in.channels, l->in.height, l->in.width);
    }
    switch (l->kind) { /* the shape rules of the other kinds, one each */
    case NETWORK_KIND_CONV2D:
        return get_conv(c, &g, n, l);
    case NETWORK_KIND_LINEAR:
        return get_linear(c, &g, n, l);
    case NETWORK_KIND_MATMUL:
        return get_matmul(c, &g, n, l);
    case NETWORK_KIND_POOL:
        return get_pool(c, &g, n, l);
    case NETWORK_KIND_ADD:
        return get_add(c, &g, n, l);
    case NETWORK_KIND_FLATTEN:
        return set_out(c, &g, l, network_shape_elements(l->in), 1, 1);
    case NETWORK_KIND_TOKENS:
        ERR_TRY(get_uint(c, &g, "prepend", 0, MAX_EXTENT, false, 0, &l->tokens.prepend));
        l->elements = network_shape_elements(l->in);
        return set_out(c, &g, l, l->in.channels,
                       (uint64_t)l->in.height * l->in.width + l->tokens.prepend, 1);
    case NETWORK_KIND_SLICE:
        return get_slice(c, &g, n, l);
    case NETWORK_KIND_MUL:
        return get_mul(c, &g, n, l);
    case NETWORK_KIND_CONCAT:
        return get_concat(c, &g, n, l);
    default: /* an elementwise kind is handled above; any other needs its rule here */
        network_bad_kind(l->kind, "network: layer shape");
    }
}

/* Fill *n from the root of a parsed config; n owns what it holds even on error. */
static int get_network(const ctx *c, config_setting_t *root, network *n)
{
    static const char *const keys[] = {"name", "input", "layers"};
    char found[FOUND_BYTES];
    grp top = {.s = root, .path = "", .layer = NULL};
    grp g = {.s = config_setting_get_member(root, "network"), .path = "network", .layer = NULL};
    if (!g.s)
        return fail(c, root, &top, "network", "missing, expected a group network = { ... };");
    if (config_setting_type(g.s) != CONFIG_TYPE_GROUP) {
        cfgfile_describe(g.s, found, FOUND_BYTES);
        return fail(c, g.s, &top, "network", "found %s, expected a group network = { ... };",
                    found);
    }
    ERR_TRY(check_keys(c, &g, keys, sizeof keys / sizeof keys[0]));
    const char *name;
    const config_setting_t *at;
    ERR_TRY(get_name(c, &g, "name", &name, &at));
    n->name = mem_strdup(name, "network name");
    ERR_TRY(get_input(c, &g, n));

    config_setting_t *layers = config_setting_get_member(g.s, "layers");
    if (!layers)
        return fail(c, g.s, &g, "layers",
                    "missing, expected a list layers = ( { name = ...; type = ...; }, ... )");
    unsigned count = (unsigned)config_setting_length(layers);
    if (config_setting_type(layers) != CONFIG_TYPE_LIST || count < 1 || count > MAX_LAYERS) {
        cfgfile_describe(layers, found, FOUND_BYTES);
        if (config_setting_type(layers) == CONFIG_TYPE_LIST)
            snprintf(found, sizeof found, "a list of %u layers", count);
        return fail(c, layers, &g, "layers",
                    "found %s, expected a list ( { ... }, ... ) of 1..%u layer groups", found,
                    MAX_LAYERS);
    }
    n->layers = mem_calloc(count, sizeof *n->layers, "network layers");
    n->n_layers = count;
    for (unsigned i = 0; i < count; i++) {
        ERR_TRY(get_layer(c, layers, n, i));
        if (kind_on_xbar[n->layers[i].kind])
            n->layers[i].xbar_index = (int)n->n_xbar++;
    }
    n->xbar = mem_calloc(n->n_xbar, sizeof *n->xbar, "crossbar layer list");
    for (unsigned i = 0; i < count; i++)
        if (n->layers[i].xbar_index >= 0)
            n->xbar[n->layers[i].xbar_index] = i;
    return 0;
}

/* ---- loading --------------------------------------------------------------------------------- */

/* Fill *out from a parsed config (named origin in messages) and destroy the config. */
static int load_config(config_t *cfg, const char *origin, network *out, err *e)
{
    ctx c = {.origin = origin, .e = e};
    network n;
    memset(&n, 0, sizeof n);
    int rc = get_network(&c, config_root_setting(cfg), &n);
    config_destroy(cfg);
    if (rc < 0) {
        network_fini(&n);
        return rc;
    }
    n.origin = mem_strdup(origin, "network origin");
    *out = n;
    return 0;
}

int network_load_string(const char *text, const char *origin, network *out, err *e)
{
    assert(text && out);
    config_t cfg;
    origin = origin ? origin : "(string)";
    ERR_TRY(cfgfile_parse(text, strlen(text), origin, NULL, &cfg, e));
    return load_config(&cfg, origin, out, e);
}

int network_load_file(const char *path, network *out, err *e)
{
    assert(path && out);
    config_t cfg;
    ERR_TRY(cfgfile_parse_file(path, &cfg, e));
    return load_config(&cfg, path, out, e);
}

/* ---- printing -------------------------------------------------------------------------------- */

void network_print_summary(const network *n, FILE *out)
{
    char in[SHAPE_BYTES], o[SHAPE_BYTES], io[2 * SHAPE_BYTES + 8], dims[72];
    shape_str(n->input, in);
    fprintf(out, "# network %s from %s: input %s, %u layers, %u on crossbars\n", n->name,
            n->origin ? n->origin : "(unknown)", in, n->n_layers, n->n_xbar);
    fprintf(out, "%5s  %-24s %-9s %-28s %-20s %8s %11s %11s\n", "#", "name", "kind", "in -> out",
            "R x N x repeat", "P", "weights", "elements");
    for (unsigned i = 0; i < n->n_layers; i++) {
        const network_layer *l = &n->layers[i];
        shape_str(l->in, in);
        shape_str(l->out, o);
        snprintf(io, sizeof io, "%s -> %s", in, o);
        if (l->xbar_index >= 0) {
            snprintf(dims, sizeof dims, "%llu x %llu x %u", (unsigned long long)l->xbar.rows,
                     (unsigned long long)l->xbar.cols, l->xbar.repeat);
            fprintf(out, "%5u  %-24s %-9s %-28s %-20s %8llu %11llu %11s%s\n", i, l->name,
                    kind_names[l->kind], io, dims, (unsigned long long)l->xbar.vectors,
                    (unsigned long long)l->xbar.weights, "-",
                    l->xbar.dynamic ? "  (written per inference)" : "");
        } else {
            fprintf(out, "%5u  %-24s %-9s %-28s %-20s %8s %11s %11llu\n", i, l->name,
                    kind_names[l->kind], io, "-", "-", "-", (unsigned long long)l->elements);
        }
    }
    fprintf(out,
            "# total: %u crossbar layers, %llu trained weights, %llu weights written per "
            "inference\n",
            n->n_xbar, (unsigned long long)network_total_weights(n),
            (unsigned long long)network_total_dynamic_weights(n));
}
