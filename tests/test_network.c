/* test_network: the network loader -- the built-in networks against published layer counts and
 * weight totals (worked out below from the models' definitions), shapes and the lowered crossbar
 * view of chosen layers, and every class of bad input with its message (file:line, setting path,
 * both layers and both shapes on a mismatch) and an untouched output. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network.h"
#include "testutil.h"

#ifndef XBARSIM_SOURCE_DIR
#define XBARSIM_SOURCE_DIR "."
#endif

/* A small residual CNN; the comment before each entry is its line number (messages are checked
 * against these). Shapes by hand: input 3x8x8; c1 (3x3, pad 1) 4x8x8; c2 4x8x8; sum 4x8x8;
 * p (max 2x2) 4x4x4; dw (3x3 depthwise, no pad) 4x2x2; gap 4x1x1; flat 4x1x1; fc 10x1x1. */
static const char *const cnn_lines[] = {
    /* 1 */ "network = {",
    /* 2 */ "    name = \"t\";",
    /* 3 */ "    input = { channels = 3; height = 8; width = 8; };",
    /* 4 */ "    layers = (",
    /* 5 */
    "        { name = \"c1\"; type = \"conv2d\"; out_channels = 4; kernel = 3; padding = 1; },",
    /* 6 */ "        { name = \"r1\"; type = \"relu\"; },",
    /* 7 */
    ("        { name = \"c2\"; type = \"conv2d\"; in_channels = 4; out_channels = 4; kernel = 3; "
     "padding = 1; },"),
    /* 8 */ "        { name = \"sum\"; type = \"add\"; inputs = [\"c2\", \"r1\"]; },",
    /* 9 */ "        { name = \"p\"; type = \"pool\"; mode = \"max\"; kernel = 2; },",
    /* 10 */
    "        { name = \"dw\"; type = \"conv2d\"; out_channels = 4; kernel = 3; groups = 4; },",
    /* 11 */ "        { name = \"gap\"; type = \"pool\"; mode = \"global_avg\"; },",
    /* 12 */ "        { name = \"flat\"; type = \"flatten\"; },",
    /* 13 */ "        { name = \"fc\"; type = \"linear\"; in_features = 4; out_features = 10; }",
    /* 14 */ "    );",
    /* 15 */ "};",
};

/* A one-block attention network on a token stream of 8 features x 5 tokens, 2 heads of 4:
 * qkv 8 -> 24; q, k, v slices of 8; s = Q.K^T with K stored (rows 4 x cols 5, repeat 2) gives
 * 10x5x1; o = A.V with V stored (rows 5 x cols 4, repeat 2) gives 8x5x1; cls keeps token 0. */
static const char *const attn_lines[] = {
    /* 1 */ "network = {",
    /* 2 */ "    name = \"tt\";",
    /* 3 */ "    input = { features = 8; tokens = 5; };",
    /* 4 */ "    layers = (",
    /* 5 */ "        { name = \"qkv\"; type = \"linear\"; out_features = 24; },",
    /* 6 */ "        { name = \"q\"; type = \"slice\"; start = 0; count = 8; },",
    /* 7 */
    "        { name = \"k\"; type = \"slice\"; inputs = [\"qkv\"]; start = 8; count = 8; },",
    /* 8 */
    "        { name = \"v\"; type = \"slice\"; inputs = [\"qkv\"]; start = 16; count = 8; },",
    /* 9 */
    ("        { name = \"s\"; type = \"matmul\"; inputs = [\"q\", \"k\"]; rows = 4; cols = 5; "
     "repeat = 2; },"),
    /* 10 */ "        { name = \"a\"; type = \"softmax\"; },",
    /* 11 */
    ("        { name = \"o\"; type = \"matmul\"; inputs = [\"a\", \"v\"]; rows = 5; cols = 4; "
     "repeat = 2; },"),
    /* 12 */ "        { name = \"res\"; type = \"add\"; inputs = [\"o\", \"input\"]; },",
    /* 13 */ "        { name = \"cls\"; type = \"slice\"; axis = \"tokens\"; count = 1; },",
    /* 14 */ "        { name = \"head\"; type = \"linear\"; out_features = 3; }",
    /* 15 */ "    );",
    /* 16 */ "};",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The lines joined, with the first occurrence of `find` replaced by `repl` (both NULL:
 * unchanged). Replacing within a line keeps every line number. Caller frees. */
static char *variant(const char *const *lines, size_t n, const char *find, const char *repl)
{
    size_t cap = 8192;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    text[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(text, lines[i]);
        strcat(text, "\n");
    }
    if (!find)
        return text;
    char *at = strstr(text, find);
    ck_assert_msg(at != NULL, "test bug: \"%s\" is not in the base text", find);
    size_t fl = strlen(find), rl = strlen(repl), tl = strlen(text);
    ck_assert_uint_lt(tl - fl + rl, cap);
    memmove(at + rl, at + fl, tl - (size_t)(at - text) - fl + 1);
    memcpy(at, repl, rl);
    return text;
}

/* A bad text must fail with ERR_INPUT and a message holding every non-NULL piece, and must leave
 * the output exactly as it was (filled with a sentinel here). */
static void expect_text_error(const char *text, const char *p1, const char *p2, const char *p3,
                              const char *p4)
{
    network out, sentinel;
    err e;
    memset(&out, 0xA5, sizeof out);
    memcpy(&sentinel, &out, sizeof out);
    err_clear(&e);
    ck_assert_int_eq(network_load_string(text, "bad.cfg", &out, &e), ERR_INPUT);
    ck_assert_int_eq(e.code, ERR_INPUT);
    const char *pieces[] = {p1, p2, p3, p4};
    for (size_t i = 0; i < COUNT(pieces); i++)
        if (pieces[i])
            ck_assert_msg(strstr(e.msg, pieces[i]) != NULL, "message lacks \"%s\": %s", pieces[i],
                          e.msg);
    ck_assert_msg(memcmp(&out, &sentinel, sizeof out) == 0, "output touched after an error");
}

static void expect_cnn_error(const char *find, const char *repl, const char *p1, const char *p2,
                             const char *p3, const char *p4)
{
    char *text = variant(cnn_lines, COUNT(cnn_lines), find, repl);
    expect_text_error(text, p1, p2, p3, p4);
    free(text);
}

static void expect_attn_error(const char *find, const char *repl, const char *p1, const char *p2,
                              const char *p3, const char *p4)
{
    char *text = variant(attn_lines, COUNT(attn_lines), find, repl);
    expect_text_error(text, p1, p2, p3, p4);
    free(text);
}

static void load_lines(const char *const *lines, size_t n, network *net)
{
    err e;
    err_clear(&e);
    char *text = variant(lines, n, NULL, NULL);
    int rc = network_load_string(text, "good.cfg", net, &e);
    free(text);
    ck_assert_msg(rc == 0, "%s", e.msg);
}

static void load_builtin(const char *name, network *net)
{
    char path[512];
    err e;
    err_clear(&e);
    snprintf(path, sizeof path, "%s/configs/net/%s.cfg", XBARSIM_SOURCE_DIR, name);
    int rc = network_load_file(path, net, &e);
    ck_assert_msg(rc == 0, "%s: %s", path, e.msg);
    ck_assert_str_eq(net->origin, path);
}

static const network_layer *layer(const network *net, const char *name)
{
    int i = network_find_layer(net, name);
    ck_assert_msg(i >= 0, "no layer \"%s\" in %s", name, net->name);
    return &net->layers[i];
}

static void assert_shape(network_shape s, unsigned c, unsigned h, unsigned w)
{
    ck_assert_uint_eq(s.channels, c);
    ck_assert_uint_eq(s.height, h);
    ck_assert_uint_eq(s.width, w);
}

/* The lowered view of a crossbar layer: R x N x repeat, P. */
static void assert_xbar(const network_layer *l, uint64_t rows, uint64_t cols, unsigned repeat,
                        uint64_t vectors)
{
    ck_assert_msg(l->xbar_index >= 0, "%s is not a crossbar layer", l->name);
    ck_assert_uint_eq(l->xbar.rows, rows);
    ck_assert_uint_eq(l->xbar.cols, cols);
    ck_assert_uint_eq(l->xbar.repeat, repeat);
    ck_assert_uint_eq(l->xbar.vectors, vectors);
    ck_assert_uint_eq(l->xbar.weights, rows * cols * repeat);
}

static unsigned count_kind(const network *net, network_layer_kind k)
{
    unsigned n = 0;
    for (unsigned i = 0; i < net->n_layers; i++)
        n += net->layers[i].kind == k;
    return n;
}

/* Parameters besides the crossbar weights, as PyTorch counts them: per conv either a folded batch
 * norm (weight and bias: 2 * C_out) or a bias (C_out); per linear a bias (out); per layer norm
 * 2 * features; per tokens layer the learned tokens (prepend * C) and the position embedding
 * (tokens * C, ViT's pos_embedding). Added to network_total_weights this must give torchvision's
 * published num_params, a check of the whole structure against an independent figure. */
static uint64_t other_parameters(const network *net, bool conv_bn)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < net->n_layers; i++) {
        const network_layer *l = &net->layers[i];
        switch (l->kind) {
        case NETWORK_KIND_CONV2D:
            sum += (conv_bn ? 2u : 1u) * (uint64_t)l->conv.out_channels;
            break;
        case NETWORK_KIND_LINEAR:
            sum += l->linear.out_features;
            break;
        case NETWORK_KIND_LAYERNORM:
            sum += 2u * (uint64_t)l->in.channels;
            break;
        case NETWORK_KIND_TOKENS:
            sum += (uint64_t)l->tokens.prepend * l->in.channels + network_shape_elements(l->out);
            break;
        default:
            break;
        }
    }
    return sum;
}

/* ---- small networks by hand ------------------------------------------------------------------
 */

START_TEST(test_network_small_cnn_shapes)
{
    network n;
    load_lines(cnn_lines, COUNT(cnn_lines), &n);
    ck_assert_str_eq(n.name, "t");
    ck_assert_str_eq(n.origin, "good.cfg");
    assert_shape(n.input, 3, 8, 8);
    ck_assert_uint_eq(n.n_layers, 9);
    ck_assert_uint_eq(n.n_xbar, 4); /* c1, c2, dw, fc */
    ck_assert_uint_eq(n.xbar[0], 0);
    ck_assert_uint_eq(n.xbar[1], 2);
    ck_assert_uint_eq(n.xbar[2], 5);
    ck_assert_uint_eq(n.xbar[3], 8);

    const network_layer *c1 = layer(&n, "c1");
    ck_assert_uint_eq(c1->n_inputs, 1);
    ck_assert_int_eq(c1->inputs[0], NETWORK_INPUT); /* the first layer reads the network input */
    ck_assert_uint_eq(c1->line, 5);
    assert_shape(c1->out, 4, 8, 8);
    assert_xbar(c1, 27, 4, 1, 64); /* 3x3x3 rows, 4 columns, 8*8 output pixels */
    ck_assert_int_eq(c1->xbar_index, 0);
    ck_assert(!c1->xbar.dynamic);

    const network_layer *r1 = layer(&n, "r1");
    ck_assert_int_eq(r1->inputs[0], 0); /* default: the previous layer */
    ck_assert_int_eq(r1->xbar_index, -1);
    ck_assert_uint_eq(r1->elements, 256); /* 4*8*8 */
    ck_assert_uint_eq(r1->xbar.weights, 0);

    assert_xbar(layer(&n, "c2"), 36, 4, 1, 64);
    const network_layer *sum = layer(&n, "sum");
    ck_assert_uint_eq(sum->n_inputs, 2);
    ck_assert_int_eq(sum->inputs[0], 2);
    ck_assert_int_eq(sum->inputs[1], 1);
    ck_assert_uint_eq(sum->elements, 512); /* two summands of 256 */

    const network_layer *p = layer(&n, "p");
    ck_assert_int_eq(p->pool.mode, NETWORK_POOL_MAX);
    ck_assert_uint_eq(p->pool.stride_h, 2); /* stride defaults to the kernel */
    assert_shape(p->out, 4, 4, 4);
    ck_assert_uint_eq(p->elements, 256); /* 4*4*4 windows of 2*2 */

    /* depthwise: 4 matrices of 9 x 1, one per channel, over (4 - 3) + 1 = 2 x 2 pixels */
    const network_layer *dw = layer(&n, "dw");
    assert_shape(dw->out, 4, 2, 2);
    assert_xbar(dw, 9, 1, 4, 4);

    const network_layer *gap = layer(&n, "gap");
    assert_shape(gap->out, 4, 1, 1);
    ck_assert_uint_eq(gap->elements, 16);
    assert_shape(layer(&n, "flat")->out, 4, 1, 1);
    ck_assert_uint_eq(layer(&n, "flat")->elements, 0);
    const network_layer *fc = layer(&n, "fc");
    assert_shape(fc->out, 10, 1, 1);
    assert_xbar(fc, 4, 10, 1, 1);
    ck_assert_int_eq(fc->xbar_index, 3);

    ck_assert_uint_eq(network_total_weights(&n), 108 + 144 + 36 + 40);
    ck_assert_uint_eq(network_total_dynamic_weights(&n), 0);
    ck_assert_int_eq(network_find_layer(&n, "nope"), -1);
    ck_assert_int_eq(network_find_layer(&n, "input"), -1);
    network_fini(&n);
    network_fini(&n); /* idempotent */
    network_fini(NULL);
}
END_TEST

START_TEST(test_network_small_attention)
{
    network n;
    load_lines(attn_lines, COUNT(attn_lines), &n);
    assert_shape(n.input, 8, 5, 1);
    ck_assert_uint_eq(n.n_xbar, 4); /* qkv, s, o, head */
    assert_xbar(layer(&n, "qkv"), 8, 24, 1, 5);
    assert_shape(layer(&n, "q")->out, 8, 5, 1);
    assert_shape(layer(&n, "v")->out, 8, 5, 1);
    const network_layer *s = layer(&n, "s");
    assert_xbar(s, 4, 5, 2, 5);
    ck_assert(s->xbar.dynamic);
    ck_assert_uint_eq(s->matmul.invocations, 5);
    assert_shape(s->out, 10, 5, 1); /* 2 heads x 5 keys per token */
    const network_layer *o = layer(&n, "o");
    assert_xbar(o, 5, 4, 2, 5);
    assert_shape(o->out, 8, 5, 1);
    const network_layer *res = layer(&n, "res");
    ck_assert_int_eq(res->inputs[1], NETWORK_INPUT);
    const network_layer *cls = layer(&n, "cls");
    ck_assert_int_eq(cls->slice.axis, NETWORK_AXIS_TOKENS);
    assert_shape(cls->out, 8, 1, 1);
    assert_xbar(layer(&n, "head"), 8, 3, 1, 1);
    ck_assert_uint_eq(network_total_weights(&n), 192 + 24);
    ck_assert_uint_eq(network_total_dynamic_weights(&n), 40 + 40);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_rectangular_windows)
{
    /* dw with kernel [1, 3], stride [1, 2], padding [0, 1] on 4x4x4:
     * height (4 + 0 - 1) / 1 + 1 = 4, width (4 + 2 - 3) / 2 + 1 = 2; depthwise: 4 matrices of
     * 1*3 x 1 over 4*2 pixels */
    network n;
    err e;
    err_clear(&e);
    char *text = variant(cnn_lines, COUNT(cnn_lines), "kernel = 3; groups = 4;",
                         "kernel = [1, 3]; stride = (1, 2); padding = [0, 1]; groups = 4;");
    ck_assert_msg(network_load_string(text, "good.cfg", &n, &e) == 0, "%s", e.msg);
    free(text);
    const network_layer *dw = layer(&n, "dw");
    ck_assert_uint_eq(dw->conv.kernel_h, 1);
    ck_assert_uint_eq(dw->conv.kernel_w, 3);
    ck_assert_uint_eq(dw->conv.stride_w, 2);
    ck_assert_uint_eq(dw->conv.pad_w, 1);
    assert_shape(dw->out, 4, 4, 2);
    assert_xbar(dw, 3, 1, 4, 8);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_pool_ceil_mode)
{
    /* max, kernel 3, stride [2, 3], padding [0, 1] on 2x6x5, by hand:
     *   height: (6 + 0 - 3) / 2 = 1.5 -> floor 1 + 1 = 2; ceil 2 + 1 = 3 windows, the last
     *           starting at row 2*2 = 4 < 6 (inside the input): 3;
     *   width:  (5 + 2 - 3) / 3 = 1.33 -> ceil 2 + 1 = 3, but the third window starts at column
     *           2*3 - 1 = 5, in the right padding (5 >= 5): dropped, 2 (= floor 1 + 1).
     * elements: 2 * 3 * 2 windows of 3*3 = 108. Without ceil_mode: 2x2x2, 72. */
    static const char text[] =
        "network = { name = \"c\"; input = { channels = 2; height = 6; width = 5; };\n"
        "layers = (\n"
        "{ name = \"p\"; type = \"pool\"; mode = \"max\"; kernel = 3; stride = [2, 3];"
        " padding = [0, 1]; ceil_mode = true; },\n"
        "{ name = \"f\"; type = \"pool\"; mode = \"avg\"; kernel = 3; stride = [2, 3];"
        " padding = [0, 1]; inputs = [\"input\"]; }\n"
        "); };\n";
    network n;
    err e;
    err_clear(&e);
    ck_assert_msg(network_load_string(text, "ceil.cfg", &n, &e) == 0, "%s", e.msg);
    const network_layer *p = layer(&n, "p");
    ck_assert(p->pool.ceil_mode);
    assert_shape(p->out, 2, 3, 2);
    ck_assert_uint_eq(p->elements, 108);
    const network_layer *f = layer(&n, "f");
    ck_assert(!f->pool.ceil_mode); /* the default: floor */
    assert_shape(f->out, 2, 2, 2);
    ck_assert_uint_eq(f->elements, 72);
    network_fini(&n);

    expect_cnn_error("kernel = 2; },", "kernel = 2; ceil_mode = 1; },",
                     "bad.cfg:9:", "network.layers.[4].ceil_mode (layer \"p\")",
                     "expected true or false", NULL);
    expect_cnn_error("mode = \"global_avg\";", "mode = \"global_avg\"; ceil_mode = true;",
                     "bad.cfg:11:", "network.layers.[6].ceil_mode (layer \"gap\")", "expected none",
                     NULL);
}
END_TEST

START_TEST(test_network_print_summary)
{
    network n;
    load_lines(cnn_lines, COUNT(cnn_lines), &n);
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(mf);
    network_print_summary(&n, mf);
    fclose(mf);
    ck_assert_ptr_nonnull(strstr(buf, "# network t from good.cfg: input 3x8x8, 9 layers, 4 on"));
    ck_assert_ptr_nonnull(strstr(buf, "dw "));
    ck_assert_ptr_nonnull(strstr(buf, "4x4x4 -> 4x2x2"));
    ck_assert_ptr_nonnull(strstr(buf, "9 x 1 x 4"));
    ck_assert_ptr_nonnull(strstr(buf, "# total: 4 crossbar layers, 328 trained weights"));
    free(buf);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_registries)
{
    network_layer_kind k;
    ck_assert_int_eq(network_layer_kind_parse("matmul", &k), 0);
    ck_assert_int_eq(k, NETWORK_KIND_MATMUL);
    ck_assert(network_layer_kind_on_crossbar(NETWORK_KIND_CONV2D));
    ck_assert(network_layer_kind_on_crossbar(NETWORK_KIND_LINEAR));
    ck_assert(network_layer_kind_on_crossbar(NETWORK_KIND_MATMUL));
    ck_assert(!network_layer_kind_on_crossbar(NETWORK_KIND_POOL));
    ck_assert(!network_layer_kind_on_crossbar(NETWORK_KIND_SOFTMAX));
    ck_assert_str_eq(network_layer_kind_name(NETWORK_KIND_LAYERNORM), "layernorm");
    ck_assert_int_eq(network_layer_kind_parse("Conv2d", &k), -1);
    ck_assert_str_eq(network_pool_mode_name(NETWORK_POOL_GLOBAL_AVG), "global_avg");
    ck_assert_str_eq(network_slice_axis_name(NETWORK_AXIS_TOKENS), "tokens");
}
END_TEST

/* The sign and functional columns, against the ops' definitions: relu(x) >= 0 always; a max, an
 * average or a sum of non-negatives is non-negative; gelu(-1) < 0; a conv of non-negative inputs
 * can be negative (negative weights). */
START_TEST(test_network_kind_properties)
{
    ck_assert(network_layer_kind_output_nonneg(NETWORK_KIND_RELU, false));
    ck_assert(network_layer_kind_output_nonneg(NETWORK_KIND_SOFTMAX, false));
    ck_assert(network_layer_kind_output_nonneg(NETWORK_KIND_POOL, true));
    ck_assert(!network_layer_kind_output_nonneg(NETWORK_KIND_POOL, false));
    ck_assert(network_layer_kind_output_nonneg(NETWORK_KIND_ADD, true));
    ck_assert(!network_layer_kind_output_nonneg(NETWORK_KIND_GELU, true));
    ck_assert(!network_layer_kind_output_nonneg(NETWORK_KIND_CONV2D, true));
    ck_assert_int_eq(network_layer_kind_sign(NETWORK_KIND_FLATTEN), NETWORK_SIGN_KEEP);
    ck_assert(network_layer_kind_functional(NETWORK_KIND_CONV2D));
    ck_assert(!network_layer_kind_functional(NETWORK_KIND_MATMUL));
    ck_assert(!network_layer_kind_functional(NETWORK_KIND_SOFTMAX));
}
END_TEST

/* ---- built-in networks ------------------------------------------------------------------------
 * Totals are weights without biases; each is worked out from the model's definition, and for the
 * torchvision models cross-checked against torchvision's published num_params by adding biases
 * and batch-norm parameters (other_parameters). All numbers were also reproduced by a separate
 * closed-form script while writing this suite.
 */

START_TEST(test_network_mlp_lrmp)
{
    network n;
    load_builtin("mlp-lrmp", &n);
    ck_assert_str_eq(n.name, "mlp-lrmp");
    assert_shape(n.input, 784, 1, 1);
    ck_assert_uint_eq(n.n_xbar, 5);
    static const unsigned dims[] = {784, 1024, 4096, 4096, 1024, 10};
    for (unsigned i = 0; i < 5; i++)
        assert_xbar(&n.layers[n.xbar[i]], dims[i], dims[i + 1], 1, 1);
    /* 802816 + 4194304 + 16777216 + 4194304 + 10240 */
    ck_assert_uint_eq(network_total_weights(&n),
                      784u * 1024 + 1024u * 4096 + 4096u * 4096 + 4096u * 1024 + 1024u * 10);
    ck_assert_uint_eq(network_total_weights(&n), 25978880);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_lenet5)
{
    network n;
    load_builtin("lenet5", &n);
    assert_shape(n.input, 1, 28, 28);
    ck_assert_uint_eq(n.n_xbar, 5);
    /* C1 5x5 pad 2: 28 -> 28; S2: 14; C3 5x5: 10; S4: 5; C5 5x5: 1 */
    assert_shape(layer(&n, "c1")->out, 6, 28, 28);
    assert_xbar(layer(&n, "c1"), 25, 6, 1, 784);
    assert_shape(layer(&n, "s2")->out, 6, 14, 14);
    assert_shape(layer(&n, "c3")->out, 16, 10, 10);
    assert_xbar(layer(&n, "c3"), 150, 16, 1, 100);
    assert_shape(layer(&n, "s4")->out, 16, 5, 5);
    assert_shape(layer(&n, "c5")->out, 120, 1, 1);
    assert_xbar(layer(&n, "c5"), 400, 120, 1, 1);
    assert_xbar(layer(&n, "f6"), 120, 84, 1, 1);
    assert_xbar(layer(&n, "output"), 84, 10, 1, 1);
    /* 25*6 + 150*16 + 400*120 + 120*84 + 84*10 = 150 + 2400 + 48000 + 10080 + 840 */
    ck_assert_uint_eq(network_total_weights(&n), 61470);
    /* with biases 6 + 16 + 120 + 84 + 10: 61 706, the figure usually quoted for this variant */
    ck_assert_uint_eq(network_total_weights(&n) + other_parameters(&n, false), 61706);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_resnet18)
{
    network n;
    load_builtin("resnet18", &n);
    /* conv1 + 2 convs x 8 blocks + 3 downsample convs + fc = 21 weight layers */
    ck_assert_uint_eq(n.n_xbar, 21);
    ck_assert_uint_eq(count_kind(&n, NETWORK_KIND_CONV2D), 20);
    ck_assert_uint_eq(count_kind(&n, NETWORK_KIND_ADD), 8);
    /* 7*7*3*64 + stages (9*64*64*4), (9*64*128 + 9*128*128*3 + 64*128),
     * (9*128*256 + 9*256*256*3 + 128*256), (9*256*512 + 9*512*512*3 + 256*512) + 512*1000
     * = 9408 + 147456 + 525312 + 2099200 + 8392704 + 512000 */
    ck_assert_uint_eq(network_total_weights(&n), 11678912);
    /* + 4800 batch-norm channels x 2 + fc bias 1000 = torchvision's 11 689 512 */
    ck_assert_uint_eq(network_total_weights(&n) + other_parameters(&n, true), 11689512);

    const network_layer *conv1 = layer(&n, "conv1");
    assert_shape(conv1->out, 64, 112, 112); /* (224 + 6 - 7) / 2 + 1 = 112 */
    assert_xbar(conv1, 147, 64, 1, 12544);  /* 7*7*3 rows, 112*112 vectors */
    assert_shape(layer(&n, "maxpool")->out, 64, 56, 56);
    assert_xbar(layer(&n, "layer2.0.downsample.0"), 64, 128, 1, 784);
    assert_xbar(layer(&n, "layer4.1.conv2"), 4608, 512, 1, 49);
    const network_layer *fc = layer(&n, "fc");
    assert_xbar(fc, 512, 1000, 1, 1);
    ck_assert_int_eq(fc->xbar_index, 20);
    /* residual adds: block input, or the downsample output */
    const network_layer *a = layer(&n, "layer1.0.add");
    ck_assert_int_eq(a->inputs[0], network_find_layer(&n, "layer1.0.conv2"));
    ck_assert_int_eq(a->inputs[1], network_find_layer(&n, "maxpool"));
    a = layer(&n, "layer3.0.add");
    ck_assert_int_eq(a->inputs[0], network_find_layer(&n, "layer3.0.conv2"));
    ck_assert_int_eq(a->inputs[1], network_find_layer(&n, "layer3.0.downsample.0"));
    assert_shape(a->out, 256, 14, 14);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_resnet34)
{
    network n;
    load_builtin("resnet34", &n);
    /* conv1 + 2 x (3 + 4 + 6 + 3) convs + 3 downsample + fc = 37 */
    ck_assert_uint_eq(n.n_xbar, 37);
    ck_assert_uint_eq(count_kind(&n, NETWORK_KIND_ADD), 16);
    /* 9408 + 3*73728 (stage 1) + [73728 + 7*147456 + 8192] (stage 2)
     * + [294912 + 11*589824 + 32768] (stage 3) + [1179648 + 5*2359296 + 131072] (stage 4)
     * + 512000 = 9408 + 221184 + 1114112 + 6815744 + 13107200 + 512000 */
    ck_assert_uint_eq(network_total_weights(&n), 21779648);
    /* + 8512 batch-norm channels x 2 + 1000 = torchvision's 21 797 672 */
    ck_assert_uint_eq(network_total_weights(&n) + other_parameters(&n, true), 21797672);
    assert_shape(layer(&n, "layer4.2.relu2")->out, 512, 7, 7);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_resnet50)
{
    network n;
    load_builtin("resnet50", &n);
    /* conv1 + 3 x 16 bottleneck convs + 4 downsample + fc = 54 */
    ck_assert_uint_eq(n.n_xbar, 54);
    ck_assert_uint_eq(count_kind(&n, NETWORK_KIND_ADD), 16);
    /* per stage (width w, blocks b, input c): first block c*w + 9*w*w + 4*w*w + c*4w,
     * others 4w*w + 9*w*w + 4*w*w; stages (64,3,64), (128,4,256), (256,6,512), (512,3,1024);
     * 9408 + 215040 + 1114112 + 7077888 + 14987264 + 2048*1000 */
    ck_assert_uint_eq(network_total_weights(&n), 25502912);
    ck_assert_uint_eq(network_total_weights(&n) + other_parameters(&n, true), 25557032);
    /* v1.5: the stride is on the 3x3 conv */
    assert_xbar(layer(&n, "layer2.0.conv1"), 256, 128, 1, 3136);
    assert_xbar(layer(&n, "layer2.0.conv2"), 1152, 128, 1, 784);
    assert_xbar(layer(&n, "layer1.0.downsample.0"), 64, 256, 1, 3136);
    assert_xbar(layer(&n, "fc"), 2048, 1000, 1, 1);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_vgg)
{
    network n;
    load_builtin("vgg11", &n);
    /* 8 convs + 3 linears; 9*(3*64 + 64*128 + 128*256 + 256*256 + 256*512 + 3*512*512)
     * + 25088*4096 + 4096*4096 + 4096*1000 = 9220480 + 102760448 + 16777216 + 4096000 */
    ck_assert_uint_eq(n.n_xbar, 11);
    ck_assert_uint_eq(network_total_weights(&n), 132851392);
    ck_assert_uint_eq(network_total_weights(&n) + other_parameters(&n, false), 132863336);
    assert_xbar(layer(&n, "classifier.0"), 25088, 4096, 1, 1);
    network_fini(&n);

    load_builtin("vgg16", &n);
    /* 13 convs + 3 linears; convs 14710464 (9 * 1634496) + the same classifier */
    ck_assert_uint_eq(n.n_xbar, 16);
    ck_assert_uint_eq(network_total_weights(&n), 138344128);
    ck_assert_uint_eq(network_total_weights(&n) + other_parameters(&n, false), 138357544);
    assert_xbar(layer(&n, "features.0"), 27, 64, 1, 50176);
    assert_shape(layer(&n, "features.30")->out, 512, 7, 7); /* the fifth max pool */
    network_fini(&n);
}
END_TEST

START_TEST(test_network_vit_b32)
{
    network n;
    load_builtin("vit_b32", &n);
    /* patch embedding + 12 blocks x (QKV, Q.K^T, A.V, out projection, 2 MLP linears) + head */
    ck_assert_uint_eq(n.n_xbar, 1 + 12 * 6 + 1);
    ck_assert_uint_eq(count_kind(&n, NETWORK_KIND_MATMUL), 24);
    const network_layer *pe = layer(&n, "conv_proj");
    assert_shape(pe->out, 768, 7, 7);
    assert_xbar(pe, 3072, 768, 1, 49); /* 32*32*3 rows, 7*7 patches */
    assert_shape(layer(&n, "tokens")->out, 768, 50, 1);
    /* the six crossbar decisions of a block, in order */
    const network_layer *b = layer(&n, "block5.attn.qkv");
    int x = b->xbar_index;
    assert_xbar(b, 768, 2304, 1, 50);
    assert_xbar(&n.layers[n.xbar[x + 1]], 64, 50, 12, 50); /* Q.K^T, K stored */
    assert_xbar(&n.layers[n.xbar[x + 2]], 50, 64, 12, 50); /* A.V, V stored */
    assert_xbar(&n.layers[n.xbar[x + 3]], 768, 768, 1, 50);
    assert_xbar(&n.layers[n.xbar[x + 4]], 768, 3072, 1, 50);
    assert_xbar(&n.layers[n.xbar[x + 5]], 3072, 768, 1, 50);
    ck_assert_str_eq(n.layers[n.xbar[x + 1]].name, "block5.attn.scores");
    ck_assert(n.layers[n.xbar[x + 1]].xbar.dynamic);
    ck_assert_str_eq(n.layers[n.xbar[x + 5]].name, "block5.mlp.3");
    assert_xbar(layer(&n, "heads.head"), 768, 1000, 1, 1);
    /* 3072*768 + 12 * (768*2304 + 768*768 + 2 * 768*3072) + 768*1000
     * = 2359296 + 12 * 7077888 + 768000 */
    ck_assert_uint_eq(network_total_weights(&n), 88061952);
    /* the matmuls' operands: 12 blocks x 2 x 64*50*12 */
    ck_assert_uint_eq(network_total_dynamic_weights(&n), 921600);
    /* + biases 768 + 12 * 6912 + 1000, layer norms 25 * 1536, class token 768 and position
     * embedding 50*768 = 162 280: torchvision's 88 224 232 */
    ck_assert_uint_eq(network_total_weights(&n) + other_parameters(&n, false), 88224232);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_mobilenet_v2)
{
    network n;
    load_builtin("mobilenet_v2", &n);
    /* stem + block 1 (depthwise, project) + 16 blocks x (expand, depthwise, project)
     * + last 1x1 conv + classifier = 1 + 2 + 48 + 1 + 1 */
    ck_assert_uint_eq(n.n_xbar, 53);
    ck_assert_uint_eq(count_kind(&n, NETWORK_KIND_ADD),
                      10); /* 1 + 2 + 3 + 2 + 2 kept-shape blocks */
    unsigned depthwise = 0;
    for (unsigned i = 0; i < n.n_layers; i++) {
        const network_layer *l = &n.layers[i];
        if (l->kind != NETWORK_KIND_CONV2D || l->conv.groups == 1)
            continue;
        depthwise++;
        /* one 9 x 1 matrix per channel */
        ck_assert_uint_eq(l->conv.groups, l->conv.in_channels);
        assert_xbar(l, 9, 1, l->conv.in_channels, (uint64_t)l->out.height * l->out.width);
    }
    ck_assert_uint_eq(depthwise, 17);
    assert_xbar(layer(&n, "features.1.conv.0.0"), 9, 1, 32, 12544);
    assert_xbar(layer(&n, "features.17.conv.1.0"), 9, 1, 960, 49);
    assert_shape(layer(&n, "features.18.0")->out, 1280, 7, 7);
    assert_xbar(layer(&n, "classifier.1"), 1280, 1000, 1, 1);
    ck_assert_uint_eq(network_total_weights(&n), 3469760);
    /* + 17 056 batch-norm channels x 2 + 1000 = torchvision's 3 504 872 */
    ck_assert_uint_eq(network_total_weights(&n) + other_parameters(&n, true), 3504872);
    network_fini(&n);
}
END_TEST

/* ---- bad input --------------------------------------------------------------------------------
 * Messages name a layer's setting as network.layers.[i].key (layer "name"), i from 0.
 */

START_TEST(test_network_syntax_error)
{
    expect_cnn_error("kernel = 2; },", "kernel = = 2; },", "bad.cfg:9: syntax error", NULL, NULL,
                     NULL);
    /* a string where libconfig 1.5 would leak it (the pre-scan cuts the text there) */
    expect_cnn_error("{ name = \"r1\";", "{ name \"r1\";", "bad.cfg:6: syntax error", NULL, NULL,
                     NULL);
    /* an integer libconfig 1.5 would silently truncate */
    expect_cnn_error("out_features = 10;", "out_features = 4294967306;",
                     "bad.cfg:13:", "network.layers.[8].out_features",
                     "found the integer 4294967306, expected -2147483648", NULL);
    expect_cnn_error("network = {", "@include \"x.cfg\"\nnetwork = {", "bad.cfg:1:", "@include",
                     NULL, NULL);
}
END_TEST

START_TEST(test_network_unknown_key)
{
    expect_cnn_error("kernel = 3; padding = 1; },", "kernal = 3; padding = 1; },",
                     "bad.cfg:5:", "network.layers.[0].kernal (layer \"c1\"): found an unknown key",
                     "expected one of: name, type, inputs, in_channels, out_channels, kernel, "
                     "stride, padding, groups",
                     NULL);
    expect_cnn_error("type = \"relu\";", "type = \"relu\"; kernel = 3;",
                     "bad.cfg:6:", "network.layers.[1].kernel (layer \"r1\")",
                     "expected one of: name, type, inputs", NULL);
    expect_cnn_error("name = \"t\";", "name = \"t\"; colour = 1;",
                     "bad.cfg:2:", "network.colour: found an unknown key", "name, input, layers",
                     NULL);
    expect_cnn_error("width = 8;", "width = 8; depth = 2;", "bad.cfg:3:", "network.input.depth",
                     "channels, height, width, features, tokens", NULL);
}
END_TEST

START_TEST(test_network_missing_key)
{
    expect_cnn_error("out_channels = 4; kernel = 3; padding", "kernel = 3; padding",
                     "bad.cfg:5:", "network.layers.[0].out_channels (layer \"c1\"): missing",
                     "expected an integer 1..16777216", NULL);
    expect_cnn_error("name = \"gap\"; ", "", "bad.cfg:11:", "network.layers.[6].name: missing",
                     NULL, NULL);
    expect_cnn_error("type = \"flatten\"; ", "",
                     "bad.cfg:12:", "network.layers.[7].type (layer \"flat\"): missing",
                     "expected a string, one of: conv2d, linear, matmul, pool, add", NULL);
    expect_cnn_error("mode = \"max\"; ", "",
                     "bad.cfg:9:", "network.layers.[4].mode (layer \"p\"): missing",
                     "max, avg, global_avg", NULL);
    expect_cnn_error("height = 8; ", "", "bad.cfg:3:", "network.input.height: missing", NULL, NULL);
    expect_cnn_error("    input = { channels = 3; height = 8; width = 8; };", "",
                     "bad.cfg:1:", "network.input: missing", NULL, NULL);
    expect_text_error("other = 1;\n", "bad.cfg: network: missing", NULL, NULL, NULL);
    expect_text_error("network = { name = \"x\"; input = { features = 4; }; };\n",
                      "bad.cfg:1:", "network.layers: missing", NULL, NULL);
}
END_TEST

START_TEST(test_network_wrong_type)
{
    expect_cnn_error("kernel = 2; },", "kernel = \"2\"; },",
                     "bad.cfg:9:", "network.layers.[4].kernel (layer \"p\")",
                     "found the string \"2\", expected an integer 1..256 or [height, width]", NULL);
    expect_cnn_error("kernel = 2; },", "kernel = [2, 2, 2]; },",
                     "bad.cfg:9:", "network.layers.[4].kernel", "found an array of 3 values", NULL);
    expect_cnn_error("kernel = 2; },", "kernel = [2, 0]; },",
                     "bad.cfg:9:", "network.layers.[4].kernel[1] (layer \"p\")",
                     "found 0, expected an integer 1..256", NULL);
    expect_cnn_error("inputs = [\"c2\", \"r1\"];", "inputs = \"c2\";",
                     "bad.cfg:8:", "network.layers.[3].inputs (layer \"sum\")",
                     "found the string \"c2\", expected an array", NULL);
    expect_cnn_error("inputs = [\"c2\", \"r1\"];", "inputs = (\"c2\", 1);",
                     "bad.cfg:8:", "network.layers.[3].inputs[1] (layer \"sum\")",
                     "found the integer 1", NULL);
    expect_cnn_error("{ name = \"r1\"; type = \"relu\"; },", "3,",
                     "bad.cfg:6:", "network.layers.[1]: found the integer 3, expected a group",
                     NULL, NULL);
    expect_cnn_error("    layers = (", "    layers = {", "bad.cfg:", "syntax error", NULL, NULL);
    expect_text_error("network = { name = \"x\"; input = { features = 4; }; layers = (); };\n",
                      "bad.cfg:1:", "network.layers: found a list of 0 layers",
                      "expected a list ( { ... }, ... ) of 1..16384 layer groups", NULL);
    expect_text_error("network = 3;\n", "bad.cfg:1:", "network: found the integer 3", NULL, NULL);
}
END_TEST

START_TEST(test_network_batch_norm_key)
{
    network n;
    load_lines(cnn_lines, COUNT(cnn_lines), &n);
    ck_assert(!layer(&n, "c1")->conv.batch_norm); /* default */
    network_fini(&n);
    char *text =
        variant(cnn_lines, COUNT(cnn_lines), "groups = 4;", "groups = 4; batch_norm = true;");
    err e;
    ck_assert_int_eq(network_load_string(text, "bn.cfg", &n, &e), 0);
    free(text);
    ck_assert(layer(&n, "dw")->conv.batch_norm);
    ck_assert(!layer(&n, "c2")->conv.batch_norm);
    network_fini(&n);
    expect_cnn_error("groups = 4;", "groups = 4; batch_norm = 1;",
                     "bad.cfg:10:", "network.layers.[5].batch_norm (layer \"dw\")",
                     "found the integer 1, expected true or false", NULL);
}
END_TEST

/* The Fashion-MNIST residual and depthwise networks: layers, lowered shapes and weights by hand. */
START_TEST(test_network_fmnist_resnet8_mobilenet)
{
    network n;
    load_builtin("resnet8-fmnist", &n);
    assert_shape(n.input, 1, 28, 28);
    ck_assert_uint_eq(n.n_xbar, 10); /* conv1, 3 x 2 block convs, 2 downsample, fc */
    assert_xbar(layer(&n, "conv1"), 9, 16, 1, 784);
    assert_xbar(layer(&n, "layer2.0.conv1"), 144, 32, 1, 196); /* 28 -> 14, stride 2 */
    assert_xbar(layer(&n, "layer3.0.downsample.0"), 32, 64, 1, 49);
    assert_xbar(layer(&n, "fc"), 64, 10, 1, 1);
    ck_assert(layer(&n, "layer3.0.conv2")->conv.batch_norm);
    /* 9*16 + 2*144*16 + 144*32 + 288*32 + 16*32 + 288*64 + 576*64 + 32*64 + 64*10 */
    ck_assert_uint_eq(network_total_weights(&n), 77072);
    network_fini(&n);
    load_builtin("mobilenet-fmnist", &n);
    ck_assert_uint_eq(n.n_xbar, 17);
    assert_xbar(layer(&n, "features.1.conv.0.0"), 9, 1, 16, 196); /* depthwise 16, stride 2 */
    assert_xbar(layer(&n, "features.2.conv.1.0"), 9, 1, 64, 196); /* depthwise 64 at 14x14 */
    assert_xbar(layer(&n, "features.5.conv.1.0"), 9, 1, 192, 49); /* depthwise 192 at 7x7 */
    assert_shape(layer(&n, "features.5.add")->out, 48, 7, 7);
    /* 144 + 144 + 256 + 1024 + 576 + 1536 + 2304 + 864 + 2304 + 2304 + 864 + 4608 + 9216 + 1728
     * + 9216 + 6144 + 1280 */
    ck_assert_uint_eq(network_total_weights(&n), 44512);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_out_of_range)
{
    expect_cnn_error("groups = 4;", "groups = 0;",
                     "bad.cfg:10:", "network.layers.[5].groups (layer \"dw\")",
                     "found 0, expected an integer 1..16777216", NULL);
    expect_cnn_error("kernel = 3; groups", "kernel = 3; stride = 0; groups",
                     "bad.cfg:10:", "network.layers.[5].stride",
                     "found 0, expected an integer 1..256", NULL);
    expect_cnn_error("kernel = 3; groups", "kernel = 300; groups",
                     "bad.cfg:10:", "network.layers.[5].kernel", "found 300", NULL);
    expect_cnn_error("channels = 3;", "channels = 16777217;",
                     "bad.cfg:3:", "network.input.channels",
                     "found 16777217, expected an integer 1..16777216", NULL);
    expect_cnn_error("out_features = 10;", "out_features = 10.5;",
                     "bad.cfg:13:", "network.layers.[8].out_features (layer \"fc\")",
                     "found the number 10.5, expected an integer", NULL);
    /* a layer of 2^24 x 2^24 weights exceeds the 2^40 bound */
    expect_text_error("network = { name = \"x\"; input = { features = 16777216; };\n"
                      "layers = ( { name = \"big\"; type = \"linear\"; out_features = 16777216; "
                      "} ); };\n",
                      "bad.cfg:2:", "network.layers.[0] (layer \"big\")",
                      "found 16777216 x 16777216 x 1 weights, expected at most 1099511627776",
                      NULL);
    /* an output of 2^24 features x 65536 tokens exceeds 2^32 elements */
    expect_text_error("network = { name = \"x\"; input = { features = 1; tokens = 65536; };\n"
                      "layers = ( { name = \"wide\"; type = \"linear\"; out_features = 16777216; "
                      "} ); };\n",
                      "bad.cfg:2:", "network.layers.[0] (layer \"wide\")",
                      "found an output of 16777216x65536x1", NULL);
}
END_TEST

START_TEST(test_network_bad_names)
{
    expect_cnn_error("type = \"flatten\";", "type = \"reshape\";",
                     "bad.cfg:12:", "network.layers.[7].type (layer \"flat\")",
                     "found \"reshape\", expected one of: conv2d, linear, matmul, pool, add, relu, "
                     "relu6, gelu, softmax, layernorm, flatten, tokens, slice",
                     NULL);
    expect_cnn_error("mode = \"max\";", "mode = \"min\";",
                     "bad.cfg:9:", "network.layers.[4].mode (layer \"p\")", "found \"min\"", NULL);
    expect_cnn_error("name = \"gap\";", "name = \"has space\";",
                     "bad.cfg:11:", "network.layers.[6].name", "1..64 characters", NULL);
    expect_cnn_error("name = \"gap\";", "name = \"input\";",
                     "bad.cfg:11:", "network.layers.[6].name", "\"input\" names the network input",
                     NULL);
    expect_cnn_error("name = \"t\";", "name = \"\";", "bad.cfg:2:", "network.name",
                     "(0 characters)", NULL);
}
END_TEST

START_TEST(test_network_duplicate_name)
{
    expect_cnn_error("name = \"r1\";", "name = \"c1\";",
                     "bad.cfg:6:", "network.layers.[1].name: found \"c1\"",
                     "already the name of network.layers.[0] (line 5)", NULL);
}
END_TEST

START_TEST(test_network_bad_inputs)
{
    expect_cnn_error("inputs = [\"c2\", \"r1\"];", "inputs = [\"nope\", \"r1\"];",
                     "bad.cfg:8:", "network.layers.[3].inputs[0] (layer \"sum\"): found \"nope\"",
                     "expected the name of an earlier layer or \"input\"", NULL);
    /* a later layer: the file order is the evaluation order */
    expect_cnn_error("inputs = [\"c2\", \"r1\"];", "inputs = [\"c2\", \"gap\"];",
                     "bad.cfg:8:", "network.layers.[3].inputs[1] (layer \"sum\"): found \"gap\"",
                     "network.layers.[6], after this layer", NULL);
    expect_cnn_error("inputs = [\"c2\", \"r1\"];", "inputs = [\"sum\", \"r1\"];",
                     "bad.cfg:8:", "network.layers.[3].inputs[0]", "the layer itself", NULL);
    /* arity */
    expect_cnn_error("inputs = [\"c2\", \"r1\"];", "inputs = [\"c2\"];",
                     "bad.cfg:8:", "network.layers.[3].inputs (layer \"sum\")",
                     "found 1 names, expected 2..8", NULL);
    expect_cnn_error("inputs = [\"c2\", \"r1\"]; ", "",
                     "bad.cfg:8:", "network.layers.[3].inputs (layer \"sum\"): missing", "2..8",
                     NULL);
    expect_cnn_error("type = \"relu\";", "type = \"relu\"; inputs = [\"c1\", \"input\"];",
                     "bad.cfg:6:", "network.layers.[1].inputs (layer \"r1\")",
                     "found 2 names, expected exactly 1", NULL);
}
END_TEST

/* The kinds the ONNX zoo needs: sigmoid, hardsigmoid, hardswish (elementwise), mul (equal shapes
 * or a per-channel scale) and concat (features summed); shapes and elements by hand. */
START_TEST(test_network_zoo_kinds)
{
    static const char text[] =
        "network = { name = \"z\"; input = { channels = 4; height = 3; width = 3; };\n"
        "layers = (\n"
        "{ name = \"c\"; type = \"conv2d\"; in_channels = 4; out_channels = 6; kernel = 1; },\n"
        "{ name = \"s\"; type = \"sigmoid\"; },\n"
        "{ name = \"silu\"; type = \"mul\"; inputs = [\"c\", \"s\"]; },\n"
        "{ name = \"g\"; type = \"pool\"; mode = \"global_avg\"; },\n"
        "{ name = \"h\"; type = \"hardsigmoid\"; },\n"
        "{ name = \"se\"; type = \"mul\"; inputs = [\"silu\", \"h\"]; },\n"
        "{ name = \"cat\"; type = \"concat\"; inputs = [\"se\", \"input\", \"c\"]; },\n"
        "{ name = \"hs\"; type = \"hardswish\"; }\n"
        "); };\n";
    network n;
    err e;
    err_clear(&e);
    ck_assert_msg(network_load_string(text, "zoo.cfg", &n, &e) == 0, "%s", e.msg);
    assert_shape(layer(&n, "s")->out, 6, 3, 3);
    ck_assert_uint_eq(layer(&n, "s")->elements, 54); /* 6*3*3 */
    assert_shape(layer(&n, "silu")->out, 6, 3, 3);
    ck_assert_uint_eq(layer(&n, "silu")->elements, 108); /* two operands of 54 */
    ck_assert_uint_eq(layer(&n, "se")->elements, 60);    /* 54 + one scale per channel, 6 */
    assert_shape(layer(&n, "se")->out, 6, 3, 3);
    assert_shape(layer(&n, "cat")->out, 16, 3, 3);      /* 6 + 4 + 6 channels */
    ck_assert_uint_eq(layer(&n, "cat")->elements, 144); /* 54 + 36 + 54 */
    assert_shape(layer(&n, "hs")->out, 16, 3, 3);
    ck_assert(!network_layer_kind_on_crossbar(NETWORK_KIND_MUL));
    ck_assert_int_eq(network_layer_kind_sign(NETWORK_KIND_SIGMOID), NETWORK_SIGN_NONNEG);
    ck_assert_int_eq(network_layer_kind_sign(NETWORK_KIND_HARDSWISH), NETWORK_SIGN_ANY);
    network_fini(&n);

    /* a scale of another shape, and a concat of different maps, are errors with both shapes */
    static const char bad_mul[] =
        "network = { name = \"z\"; input = { channels = 4; height = 3; width = 3; };\n"
        "layers = (\n"
        "{ name = \"p\"; type = \"pool\"; mode = \"max\"; kernel = 2; stride = 1; },\n"
        "{ name = \"m\"; type = \"mul\"; inputs = [\"input\", \"p\"]; }\n"
        "); };\n";
    expect_text_error(bad_mul, "bad.cfg:4:", "network.layers.[1].inputs (layer \"m\")",
                      "the network input (4x3x3) and layer \"p\" (4x2x2)", "C x 1 x 1");
    static const char bad_cat[] =
        "network = { name = \"z\"; input = { channels = 4; height = 3; width = 3; };\n"
        "layers = (\n"
        "{ name = \"p\"; type = \"pool\"; mode = \"max\"; kernel = 2; stride = 1; },\n"
        "{ name = \"k\"; type = \"concat\"; inputs = [\"input\", \"p\"]; }\n"
        "); };\n";
    expect_text_error(bad_cat, "bad.cfg:4:", "network.layers.[1].inputs (layer \"k\")",
                      "differ in their features (channels) only", NULL);
}
END_TEST

START_TEST(test_network_shape_mismatch)
{
    /* add: both layers and both shapes */
    expect_cnn_error("in_channels = 4; out_channels = 4;", "in_channels = 4; out_channels = 5;",
                     "bad.cfg:8:", "network.layers.[3].inputs (layer \"sum\")",
                     "layer \"c2\" (5x8x8) and layer \"r1\" (4x8x8); expected equal shapes", NULL);
    expect_cnn_error("inputs = [\"c2\", \"r1\"];", "inputs = [\"c2\", \"input\"];",
                     "bad.cfg:8:", "network.layers.[3].inputs (layer \"sum\")",
                     "layer \"c2\" (4x8x8) and the network input (3x8x8)", NULL);
    /* declared input size against the derived one */
    expect_cnn_error(
        "in_channels = 4;", "in_channels = 5;",
        "bad.cfg:7:", "network.layers.[2].in_channels (layer \"c2\"): found 5, expected 4",
        "layer \"c2\" takes 5 channels but its input, layer \"r1\" (4x8x8), gives 4", NULL);
    expect_cnn_error("in_features = 4;", "in_features = 16;", "bad.cfg:13:",
                     "network.layers.[8].in_features (layer \"fc\"): found 16, expected 4",
                     "layer \"flat\" (4x1x1)", NULL);
    /* a linear needs a token stream */
    expect_cnn_error("{ name = \"fc\"; type = \"linear\"; in_features = 4;",
                     "{ name = \"fc\"; type = \"linear\"; inputs = [\"p\"];",
                     "bad.cfg:13:", "network.layers.[8].inputs (layer \"fc\")",
                     "found layer \"p\" (4x4x4), which is not a token stream", NULL);
    /* groups must divide both channel counts */
    expect_cnn_error("groups = 4;", "groups = 3;",
                     "bad.cfg:10:", "network.layers.[5].groups (layer \"dw\"): found 3",
                     "a divisor of both the 4 input channels of layer \"p\" (4x4x4)", NULL);
}
END_TEST

START_TEST(test_network_window_too_large)
{
    /* dw reads 4x4x4 without padding: a 5x5 kernel leaves no output, shown as arithmetic */
    expect_cnn_error("kernel = 3; groups", "kernel = 5; groups",
                     "bad.cfg:10:", "network.layers.[5].kernel (layer \"dw\")",
                     "found an output height of (height + 2*padding - kernel) / stride + 1 = "
                     "(4 + 2*0 - 5) / 1 + 1 < 1",
                     "layer \"p\" (4x4x4)");
    expect_cnn_error("kernel = 2; },", "kernel = [2, 9]; },",
                     "bad.cfg:9:", "network.layers.[4].kernel (layer \"p\")", "output width",
                     "(8 + 2*0 - 9) / 9 + 1 < 1");
    expect_cnn_error("kernel = 2; },", "kernel = 2; padding = 2; },",
                     "bad.cfg:9:", "network.layers.[4].padding (layer \"p\")",
                     "found 2x2, expected at most half the 2x2 kernel", NULL);
    expect_cnn_error("mode = \"global_avg\";", "mode = \"global_avg\"; kernel = 2;",
                     "bad.cfg:11:", "network.layers.[6].kernel (layer \"gap\")", "expected none",
                     NULL);
}
END_TEST

START_TEST(test_network_matmul_checks)
{
    expect_attn_error("rows = 4; cols = 5;", "rows = 3; cols = 5;",
                      "bad.cfg:9:", "network.layers.[4].rows (layer \"s\")",
                      "found rows * repeat = 3 * 2 = 6 features, expected the 8 features of the "
                      "input, layer \"q\" (8x5x1)",
                      NULL);
    expect_attn_error("rows = 4; cols = 5;", "rows = 4; cols = 6;",
                      "bad.cfg:9:", "network.layers.[4].inputs[1] (layer \"s\")",
                      "found the stored operand layer \"k\" (8x5x1) of 40 elements, expected "
                      "rows * cols * repeat = 4 * 6 * 2 = 48 elements",
                      NULL);
    expect_attn_error("rows = 4; cols = 5;", "rows = 4; cols = 5; invocations = 4;", "bad.cfg:9:",
                      "network.layers.[4].invocations (layer \"s\"): found 4, expected 5",
                      "layer \"q\" (8x5x1)", NULL);
    expect_attn_error("inputs = [\"q\", \"k\"];", "inputs = [\"q\", \"k\", \"v\"];",
                      "bad.cfg:9:", "network.layers.[4].inputs", "found 3 names, expected 1..2",
                      NULL);
    expect_attn_error("count = 8; },\n        { name = \"s\"",
                      "count = 9; },\n        { name = \"s\"",
                      "bad.cfg:8:", "network.layers.[3].count (layer \"v\")",
                      "found start + count = 16 + 9 = 25, expected at most the 24 features", NULL);
    expect_attn_error("axis = \"tokens\"; count = 1;", "axis = \"tokens\"; start = 5; count = 1;",
                      "bad.cfg:13:", "network.layers.[8].start (layer \"cls\")",
                      "found 5, expected an integer 0..4", NULL);
    expect_attn_error("features = 8; tokens = 5;", "features = 8; tokens = 5; width = 1;",
                      "bad.cfg:3:", "network.input: found keys of both forms", NULL, NULL);
    /* a single-input matmul holds a trained operand */
    network n;
    err e;
    err_clear(&e);
    char *text = variant(attn_lines, COUNT(attn_lines), "inputs = [\"q\", \"k\"];", "");
    ck_assert_msg(network_load_string(text, "good.cfg", &n, &e) == 0, "%s", e.msg);
    free(text);
    ck_assert(!layer(&n, "s")->xbar.dynamic);
    ck_assert_int_eq(layer(&n, "s")->inputs[0], network_find_layer(&n, "v"));
    ck_assert_uint_eq(network_total_weights(&n), 192 + 40 + 24);
    network_fini(&n);
}
END_TEST

START_TEST(test_network_file_errors)
{
    network n, sentinel;
    err e;
    err_clear(&e);
    memset(&n, 0x5A, sizeof n);
    memcpy(&sentinel, &n, sizeof n);
    ck_assert_int_eq(network_load_file("/nonexistent/net.cfg", &n, &e), ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/net.cfg: cannot read the file"));
    ck_assert(memcmp(&n, &sentinel, sizeof n) == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("network");
    TCase *tc = tcase_create("by_hand");
    tcase_add_test(tc, test_network_small_cnn_shapes);
    tcase_add_test(tc, test_network_small_attention);
    tcase_add_test(tc, test_network_rectangular_windows);
    tcase_add_test(tc, test_network_pool_ceil_mode);
    tcase_add_test(tc, test_network_print_summary);
    tcase_add_test(tc, test_network_registries);
    tcase_add_test(tc, test_network_kind_properties);
    suite_add_tcase(s, tc);

    tc = tcase_create("builtin");
    tcase_add_test(tc, test_network_mlp_lrmp);
    tcase_add_test(tc, test_network_lenet5);
    tcase_add_test(tc, test_network_fmnist_resnet8_mobilenet);
    tcase_add_test(tc, test_network_batch_norm_key);
    tcase_add_test(tc, test_network_resnet18);
    tcase_add_test(tc, test_network_resnet34);
    tcase_add_test(tc, test_network_resnet50);
    tcase_add_test(tc, test_network_vgg);
    tcase_add_test(tc, test_network_vit_b32);
    tcase_add_test(tc, test_network_mobilenet_v2);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input");
    tcase_add_test(tc, test_network_syntax_error);
    tcase_add_test(tc, test_network_unknown_key);
    tcase_add_test(tc, test_network_missing_key);
    tcase_add_test(tc, test_network_wrong_type);
    tcase_add_test(tc, test_network_out_of_range);
    tcase_add_test(tc, test_network_bad_names);
    tcase_add_test(tc, test_network_duplicate_name);
    tcase_add_test(tc, test_network_bad_inputs);
    tcase_add_test(tc, test_network_shape_mismatch);
    tcase_add_test(tc, test_network_zoo_kinds);
    tcase_add_test(tc, test_network_window_too_large);
    tcase_add_test(tc, test_network_matmul_checks);
    tcase_add_test(tc, test_network_file_errors);
    suite_add_tcase(s, tc);
    return testutil_run(s);
}
