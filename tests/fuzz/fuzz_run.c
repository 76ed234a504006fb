/* fuzz_run: libFuzzer entry for the run config of `xbarsim run` (see README.md): the input is
 * CONFIG, parsed, its `run` group read and the inputs it names loaded (arch, network, policy,
 * replication, mapping) as cmd_run does before it simulates. The loader is static in cmd_run.c,
 * so the file is compiled into the harness. Either everything loads, or the error names a file.
 */
#include "fuzz.h"

#include "../../cli/cmd_run.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fuzz_file("run.cfg", data, size, path, sizeof path);
    run_opts o = {.config = path,
                  .inferences = -1,
                  .seed = -1,
                  .placement = -1,
                  .trace = -1,
                  .overlap = -1,
                  .queue = -1};
    err e;
    err_clear(&e);
    config_t cfg;
    int rc = cfgfile_parse_file(path, &cfg, &e);
    if (rc < 0) {
        if (!fuzz_has(data, size, "@include"))
            fuzz_check_failure(rc, &e, path);
        return 0;
    }
    run_ctx r;
    memset(&r, 0, sizeof r);
    rc = read_run_group(&cfg, path, &o, &e);
    if (rc == 0) {
        if (!o.policy)
            o.policy = "uniform:8";
        if (!o.replication)
            o.replication = "none";
        rc = load_inputs(&r, &o, &cfg, &e);
    }
    if (rc == 0) {
        fuzz_check(r.pol.n == r.n.n_xbar && r.copies != NULL, "policy and copies per layer");
        char *text = config_text(&r, &o);
        free(text);
    } else {
        fuzz_check(rc < 0 && e.code == rc && e.msg[0], "a negative status and a message");
        /* the config, a --set it gives, or a preset or built-in network it names */
        bool named = strstr(e.msg, path) != NULL || strncmp(e.msg, "--set ", 6) == 0 ||
                     (rc == ERR_INPUT &&
                      strncmp(e.msg, FUZZ_DATA_DIR "/configs/", strlen(FUZZ_DATA_DIR) + 9) == 0);
        if (!named && !fuzz_has(data, size, "@include")) {
            fprintf(stderr, "fuzz: message: %s\n", e.msg);
            fuzz_check(0, "the message names the config (or the --set it gives)");
        }
    }
    run_fini(&r);
    config_destroy(&cfg);
    return 0;
}
