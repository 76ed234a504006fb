/* fuzz_weights: libFuzzer entry for the weights-file reader, weights_read_image (an HDF5 file
 * image through HDF5's core driver; search/accuracy/weights.c, see README.md), for a tiny network
 * with a batch-normalised conv and a linear layer. Either every parameter is read and finite, or
 * the error names the origin and the network's parameters and statistics are unchanged.
 */
#include <math.h>

#include "fnet.h"
#include "fuzz.h"
#include "weights.h"

static const char *const tiny_text =
    "network = { name = \"tiny\"; input = { channels = 1; height = 6; width = 6; };\n"
    "  layers = (\n"
    "    { name = \"c1\"; type = \"conv2d\"; in_channels = 1; out_channels = 2; kernel = 3;\n"
    "      batch_norm = true; },\n"
    "    { name = \"r1\"; type = \"relu\"; },\n"
    "    { name = \"flat\"; type = \"flatten\"; },\n"
    "    { name = \"fc\"; type = \"linear\"; in_features = 32; out_features = 3; }\n"
    "  ); };\n";

static network tiny;

/* Parameters, then the running statistics of every batch-normalised layer, in a fresh array. */
static float *state(fnet *f, size_t *count)
{
    size_t np = fnet_param_count(f), n = np;
    const network *net = fnet_network(f);
    float *bn[4];
    for (unsigned k = 0; k < net->n_xbar; k++)
        n += 2 * fnet_batch_norm(f, k, &bn[0], &bn[1], &bn[2], &bn[3]);
    float *s = malloc(n * sizeof *s);
    fuzz_check(s != NULL, "malloc");
    memcpy(s, fnet_params(f), np * sizeof *s);
    size_t at = np;
    for (unsigned k = 0; k < net->n_xbar; k++) {
        size_t c = fnet_batch_norm(f, k, &bn[0], &bn[1], &bn[2], &bn[3]);
        memcpy(s + at, bn[2], c * sizeof *s);
        memcpy(s + at + c, bn[3], c * sizeof *s);
        at += 2 * c;
    }
    *count = n;
    return s;
}

static void write_seed(const char *name, bool fold)
{
    fnet *f;
    err e;
    h5file *h;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", fuzz_seed_dir(), name);
    fuzz_check(fnet_create(&tiny, 7, &f, &e) == 0, "fnet_create");
    if (fold)
        fnet_fold_batch_norm(f);
    weights_meta m = {.source = "fuzz_weights seed", .test_accuracy = 0.5, .policy = ""};
    fuzz_check(h5file_create(path, &h, &e) == 0 && weights_write(h, f, &m, &e) == 0 &&
                   h5file_commit(h, &e) == 0,
               "seed weights file");
    fnet_destroy(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    err e;
    fuzz_check(network_load_string(tiny_text, "tiny", &tiny, &e) == 0, "tiny network");
    if (!fuzz_seed_dir())
        return 0;
    write_seed("tiny.h5", false);
    write_seed("tiny-folded.h5", true);
    exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fnet *f;
    err e;
    fuzz_check(fnet_create(&tiny, 7, &f, &e) == 0, "fnet_create");
    size_t n;
    float *before = state(f, &n);
    double acc = -2.0;
    err_clear(&e);
    int rc = weights_read_image(f, data, size, "fuzz.h5", &acc, &e);
    size_t n_after;
    float *after = state(f, &n_after);
    if (rc == 0) {
        for (size_t i = 0; i < fnet_param_count(f); i++)
            fuzz_check(isfinite(after[i]), "finite parameters");
        fuzz_check(acc != -2.0, "test accuracy set");
    } else {
        fuzz_check_failure(rc, &e, "fuzz.h5");
        fuzz_check(n_after == n && memcmp(before, after, n * sizeof *before) == 0,
                   "network unchanged on error");
        fuzz_check(acc == -2.0, "test accuracy untouched on error");
    }
    free(before);
    free(after);
    fnet_destroy(f);
    return 0;
}
