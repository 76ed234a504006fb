/* fuzz_arch: libFuzzer entry for the arch loader, arch_load_string (see README.md).
 * Any input must either load into an arch that satisfies the loader's invariants or fail with a
 * non-empty "origin..." message; never crash, leak or touch the output on failure.
 */
#include <math.h>

#include "fuzz.h"

/* What every loaded arch promises (arch.h: complete and consistent). */
static void check_loaded(const arch *a)
{
    fuzz_check(a->origin && strcmp(a->origin, "fuzz") == 0, "origin");
    fuzz_check(a->name && a->name[0], "name");
    fuzz_check(a->clock_mhz > 0.0 && a->cycle_ps >= 1, "clock");
    fuzz_check(a->tiles.rows_active >= 1 && a->tiles.rows_active <= a->tiles.rows, "rows_active");
    fuzz_check(a->tiles.adc.count >= 1 && a->tiles.adc.count <= a->tiles.cols, "adc.count");
    fuzz_check(arch_bits_fn_defined(&a->tiles.adc.time_ns, a->tiles.adc.bits), "adc time domain");
    fuzz_check(arch_bits_fn_defined(&a->tiles.adc.energy_pj, a->tiles.adc.bits),
               "adc energy domain");
    for (unsigned b = 1; b <= ARCH_MAX_ADC_BITS; b++) {
        if (arch_bits_fn_defined(&a->tiles.adc.time_ns, b)) {
            double t = arch_bits_fn_eval(&a->tiles.adc.time_ns, b);
            fuzz_check(isfinite(t) && t >= 0.0, "adc time value");
        }
        if (arch_bits_fn_defined(&a->tiles.adc.energy_pj, b)) {
            double en = arch_bits_fn_eval(&a->tiles.adc.energy_pj, b);
            fuzz_check(isfinite(en) && en >= 0.0, "adc energy value");
        }
    }
    fuzz_check(!a->tiles.adc.strict_bits || a->tiles.adc.bits <= arch_adc_bits_needed(a), "strict");
    fuzz_check(a->groups.tiles >= 1 && a->groups.tiles <= a->tiles.count, "groups.tiles");
    fuzz_check(a->groups.in_bus.lanes >= 1 && a->groups.out_bus.lanes >= 1, "bus lanes");
    fuzz_check(a->vector.count == (a->tiles.count + a->groups.tiles - 1) / a->groups.tiles,
               "vectors");
    fuzz_check(a->mode != ARCH_MODE_REPROGRAM || a->tiles.crossbar.write_ns_per_tile > 0.0,
               "write");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);

    arch a, before;
    err e;
    memset(&a, 0x5A, sizeof a);
    memcpy(&before, &a, sizeof a);
    err_clear(&e);
    int rc = arch_load_string(text, "fuzz", &a, &e);
    if (rc == 0) {
        check_loaded(&a);
        arch_print(&a, fuzz_sink());
        arch_fini(&a);
    } else {
        fuzz_check_failure(rc, &e, "fuzz");
        fuzz_check(memcmp(&a, &before, sizeof a) == 0, "output untouched on error");
    }
    free(text);
    return 0;
}
