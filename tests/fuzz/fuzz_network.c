/* fuzz_network: libFuzzer entry for the network loader, network_load_string (see README.md).
 * Any input must either load into a network that keeps network.h's invariant (layers in
 * evaluation order, every shape derived and non-empty, the crossbar view consistent) or fail
 * with a "fuzz..." message and the output untouched; never crash, leak or hang.
 */
#include "fuzz.h"

static int shape_ok(network_shape s)
{
    return s.channels >= 1 && s.height >= 1 && s.width >= 1;
}

/* What every loaded network promises (network.h). */
static void check_loaded(const network *n)
{
    fuzz_check(n->origin && strcmp(n->origin, "fuzz") == 0, "origin");
    fuzz_check(n->name != NULL, "name");
    fuzz_check(shape_ok(n->input), "input shape");
    fuzz_check(n->n_layers >= 1, "layers");
    unsigned xi = 0;
    for (unsigned i = 0; i < n->n_layers; i++) {
        const network_layer *l = &n->layers[i];
        fuzz_check(l->name && network_find_layer(n, l->name) == (int)i, "unique layer names");
        fuzz_check(l->n_inputs >= 1 && l->n_inputs <= NETWORK_MAX_INPUTS, "input count");
        for (unsigned k = 0; k < l->n_inputs; k++)
            fuzz_check(l->inputs[k] == NETWORK_INPUT ||
                           (l->inputs[k] >= 0 && l->inputs[k] < (int)i),
                       "inputs come before the layer");
        fuzz_check(shape_ok(l->in) && shape_ok(l->out), "layer shapes");
        if (network_layer_kind_on_crossbar(l->kind)) {
            fuzz_check(l->xbar_index == (int)xi && xi < n->n_xbar && n->xbar[xi] == i,
                       "crossbar index");
            fuzz_check(l->xbar.rows >= 1 && l->xbar.cols >= 1 && l->xbar.vectors >= 1 &&
                           l->xbar.repeat >= 1,
                       "crossbar view");
            fuzz_check(l->xbar.weights == l->xbar.rows * l->xbar.cols * l->xbar.repeat,
                       "crossbar weights");
            xi++;
        } else {
            fuzz_check(l->xbar_index == -1 && l->xbar.weights == 0, "digital layer");
        }
    }
    fuzz_check(xi == n->n_xbar, "crossbar layer count");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    network n, before;
    err e;
    memset(&n, 0x5A, sizeof n);
    memcpy(&before, &n, sizeof n);
    err_clear(&e);
    int rc = network_load_string(text, "fuzz", &n, &e);
    if (rc == 0) {
        check_loaded(&n);
        network_print_summary(&n, fuzz_sink());
        network_fini(&n);
    } else {
        fuzz_check_failure(rc, &e, "fuzz");
        fuzz_check(memcmp(&n, &before, sizeof n) == 0, "output untouched on error");
    }
    free(text);
    return 0;
}
