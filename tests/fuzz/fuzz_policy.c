/* fuzz_policy: libFuzzer entry for the policy readers, policy_from_spec (see README.md): every
 * input is read as a CSV file and as a libconfig file (layertab.c) for lenet5 on the lrmp preset,
 * and as a shorthand when it starts with "uniform:". Each read either gives a policy that passes
 * policy_check or fails with a message naming the file (or the shorthand), output untouched.
 */
#include "fuzz.h"
#include "policy.h"

static void read_one(const char *spec, const char *origin)
{
    const network *n = fuzz_lenet5();
    const arch *a = fuzz_lrmp();
    policy p, before;
    err e;
    memset(&p, 0x5A, sizeof p);
    memcpy(&before, &p, sizeof p);
    err_clear(&e);
    int rc = policy_from_spec(spec, n, a, NULL, &p, &e);
    if (rc == 0) {
        err again;
        fuzz_check(p.n == n->n_xbar, "one entry per crossbar layer");
        fuzz_check(policy_check(&p, n, a, NULL, spec, &again) == 0, "a loaded policy checks");
        policy_write_csv(&p, n, fuzz_sink());
        policy_fini(&p);
    } else {
        fuzz_check_failure(rc, &e, origin);
        fuzz_check(memcmp(&p, &before, sizeof p) == 0, "output untouched on error");
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!fuzz_seed_dir())
        return 0;
    char *csv = NULL, *cfg = NULL;
    size_t csv_len = 0, cfg_len = 0;
    FILE *f = open_memstream(&csv, &csv_len);
    policy p;
    policy_uniform(&p, fuzz_lenet5(), 8, 6);
    p.layers[1].adc_bits = 6;
    policy_write_csv(&p, fuzz_lenet5(), f);
    fclose(f);
    f = open_memstream(&cfg, &cfg_len);
    fprintf(f, "# lenet5, mixed precision\npolicy = (\n");
    for (unsigned i = 0; i < p.n; i++)
        fprintf(f, "  { layer = \"%s\"; wb = %u; ab = 8; adc_bits = %u; }%s\n",
                fuzz_lenet5()->layers[fuzz_lenet5()->xbar[i]].name, 2 + i, 4 + i,
                i + 1 < p.n ? "," : "");
    fprintf(f, ");\n");
    fclose(f);
    policy_fini(&p);
    fuzz_layer_table_seeds(csv, csv_len, cfg, cfg_len, "uniform:4,6");
}

static int is_uniform(const char *text)
{
    return strncmp(text, "uniform:", 8) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_layer_table(data, size, read_one, is_uniform, "policy \"");
    return 0;
}
