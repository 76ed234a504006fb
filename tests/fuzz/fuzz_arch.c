/* fuzz_arch: libFuzzer entry for the arch loader (not part of CI; see README.md).
 * Any input must either load into an arch that satisfies the loader's invariants or fail with a
 * non-empty "origin..." message; never crash, leak or touch the output on failure.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink(void)
{
    static FILE *null;
    if (!null)
        null = fopen("/dev/null", "w");
    return null;
}

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_arch: invariant broken: %s\n", what);
        abort();
    }
}

/* What every loaded arch promises (arch.h: complete and consistent). */
static void check_loaded(const arch *a)
{
    check(a->origin && strcmp(a->origin, "fuzz") == 0, "origin");
    check(a->name && a->name[0], "name");
    check(a->clock_mhz > 0.0 && a->cycle_ps >= 1, "clock");
    check(a->tiles.rows_active >= 1 && a->tiles.rows_active <= a->tiles.rows, "rows_active");
    check(a->tiles.adc.count >= 1 && a->tiles.adc.count <= a->tiles.cols, "adc.count");
    check(arch_bits_fn_defined(&a->tiles.adc.time_ns, a->tiles.adc.bits), "adc time domain");
    check(arch_bits_fn_defined(&a->tiles.adc.energy_pj, a->tiles.adc.bits), "adc energy domain");
    for (unsigned b = 1; b <= ARCH_MAX_ADC_BITS; b++) {
        if (arch_bits_fn_defined(&a->tiles.adc.time_ns, b)) {
            double t = arch_bits_fn_eval(&a->tiles.adc.time_ns, b);
            check(isfinite(t) && t >= 0.0, "adc time value");
        }
        if (arch_bits_fn_defined(&a->tiles.adc.energy_pj, b)) {
            double en = arch_bits_fn_eval(&a->tiles.adc.energy_pj, b);
            check(isfinite(en) && en >= 0.0, "adc energy value");
        }
    }
    check(!a->tiles.adc.strict_bits || a->tiles.adc.bits <= arch_adc_bits_needed(a), "strict");
    check(a->groups.tiles >= 1 && a->groups.tiles <= a->tiles.count, "groups.tiles");
    check(a->groups.in_bus.lanes >= 1 && a->groups.out_bus.lanes >= 1, "bus lanes");
    check(a->vector.count == (a->tiles.count + a->groups.tiles - 1) / a->groups.tiles, "vectors");
    check(a->mode != ARCH_MODE_REPROGRAM || a->tiles.crossbar.write_ns_per_tile > 0.0, "write");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    arch a, before;
    err e;
    memset(&a, 0x5A, sizeof a);
    memcpy(&before, &a, sizeof a);
    err_clear(&e);
    int rc = arch_load_string(text, "fuzz", &a, &e);
    if (rc == 0) {
        check_loaded(&a);
        if (sink())
            arch_print(&a, sink());
        arch_fini(&a);
    } else {
        check(rc < 0 && e.code == rc, "status");
        check(strncmp(e.msg, "fuzz", 4) == 0, "message starts with the origin");
        check(memcmp(&a, &before, sizeof a) == 0, "output untouched on error");
    }
    free(text);
    return 0;
}
