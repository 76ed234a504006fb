/* fuzz_sweep: libFuzzer entry for the sweep-file loader, sweep_spec_load (cli/sweepcfg.c; see
 * README.md). Any input must either load into a sweep whose points all exist (>= 1 axis, every
 * axis non-empty, linked and zipped axes of equal length, settings of any point enumerable) or
 * fail with a message naming the file (or a file it includes) and the output released.
 */
#include "fuzz.h"
#include "sweepcfg.h"

static void check_loaded(const sweep_spec *s, const char *path)
{
    fuzz_check(strcmp(s->origin, path) == 0, "origin");
    fuzz_check(s->n_axes >= 1 && s->points >= 1 && s->points <= SWEEP_MAX_POINTS, "points");
    for (unsigned k = 0; k < s->n_axes; k++) {
        const sweep_axis *a = &s->axes[k];
        fuzz_check(a->path && a->n >= 1, "axis values");
        fuzz_check(!a->link || (k > 0 && a->n == s->axes[k - 1].n), "linked axis length");
        fuzz_check(s->combine != SWEEP_ZIP || a->n == s->axes[0].n, "zipped axis length");
    }
    fuzz_check(s->canonical != NULL, "canonical text");
    point_setting *set = calloc(s->n_base + s->n_axes, sizeof *set);
    fuzz_check(set != NULL, "calloc");
    uint64_t step = s->points > 64 ? s->points / 64 : 1;
    for (uint64_t k = 0; k < s->points; k += step) {
        fuzz_check(sweep_point_settings(s, k, set) == s->n_base + s->n_axes, "point settings");
        for (unsigned a = 0; a < s->n_axes; a++)
            fuzz_check(sweep_point_value(s, k, a) < s->axes[a].n, "point value index");
    }
    free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    fuzz_file("s.cfg", data, size, path, sizeof path);
    sweep_spec s;
    err e;
    err_clear(&e);
    int rc = sweep_spec_load(path, &s, &e);
    if (rc == 0) {
        check_loaded(&s, path);
        sweep_spec_fini(&s);
    } else {
        if (!fuzz_has(data, size, "@include"))
            fuzz_check_failure(rc, &e, path);
        fuzz_check(rc < 0 && e.code == rc && e.msg[0], "a negative status and a message");
        static const sweep_spec zero;
        fuzz_check(memcmp(&s, &zero, sizeof s) == 0, "output released on error");
    }
    return 0;
}
