/* fuzz_replication: libFuzzer entry for the replication readers, replication_from_spec (see
 * README.md): every input is read as a CSV file and as a libconfig file for lenet5, and as a
 * NAME=K list when it has an '=' and no '/'. Each read either gives one copy count per crossbar
 * layer in 1..its input vectors, or fails with a message naming the file, output untouched.
 */
#include "fuzz.h"
#include "replication.h"

static void read_one(const char *spec, const char *origin)
{
    const network *n = fuzz_lenet5();
    unsigned *copies = (unsigned *)&copies, *before = copies;
    err e;
    err_clear(&e);
    int rc = replication_from_spec(spec, n, &copies, &e);
    if (rc == 0) {
        for (unsigned i = 0; i < n->n_xbar; i++)
            fuzz_check(copies[i] >= 1 && copies[i] <= n->layers[n->xbar[i]].xbar.vectors,
                       "copies in 1..P");
        replication_write_csv(copies, n, fuzz_sink());
        free(copies);
    } else {
        fuzz_check_failure(rc, &e, origin);
        fuzz_check(copies == before, "output untouched on error");
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!fuzz_seed_dir())
        return 0;
    const network *n = fuzz_lenet5();
    unsigned *copies = calloc(n->n_xbar, sizeof *copies);
    for (unsigned i = 0; i < n->n_xbar; i++)
        copies[i] = 1 + (unsigned)(n->layers[n->xbar[i]].xbar.vectors / 4);
    char *csv = NULL, *cfg = NULL;
    size_t csv_len = 0, cfg_len = 0;
    FILE *f = open_memstream(&csv, &csv_len);
    replication_write_csv(copies, n, f);
    fclose(f);
    f = open_memstream(&cfg, &cfg_len);
    fprintf(f, "replication = (\n");
    for (unsigned i = 0; i < n->n_xbar; i++)
        fprintf(f, "  { layer = \"%s\"; copies = %u; }%s\n", n->layers[n->xbar[i]].name, copies[i],
                i + 1 < n->n_xbar ? "," : "");
    fprintf(f, ");\n");
    fclose(f);
    free(copies);
    fuzz_layer_table_seeds(csv, csv_len, cfg, cfg_len, "c1=14,c3=2");
}

static int is_pairs(const char *text)
{
    return strchr(text, '=') != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_layer_table(data, size, read_one, is_pairs, "replication \"");
    return 0;
}
