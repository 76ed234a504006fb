/* policy: per-layer precision from a shorthand, a CSV file or a libconfig file (see policy.h).
 * Every source fills a `seen` mark per crossbar layer, so missing and repeated layers are caught
 * the same way; the arch check runs last, on the complete policy. */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

#include "layertab.h"
#include "mem.h"

void policy_fini(policy *p)
{
    if (!p)
        return;
    free(p->layers);
    p->layers = NULL;
    p->n = 0;
}

void policy_uniform(policy *out, const network *n, unsigned wb, unsigned ab)
{
    out->n = n->n_xbar;
    out->layers = mem_calloc(n->n_xbar, sizeof *out->layers, "policy");
    for (unsigned i = 0; i < n->n_xbar; i++)
        out->layers[i] = (policy_layer){.wb = wb, .ab = ab, .adc_bits = 0};
}

unsigned policy_adc_bits(const policy *p, const arch *a, unsigned i)
{
    return p->layers[i].adc_bits ? p->layers[i].adc_bits : a->tiles.adc.bits;
}

static int check_bits(const char *where, const char *layer, const char *what, long v, long lo,
                      long hi, err *e)
{
    if (v < lo || v > hi)
        return err_set(e, ERR_INPUT, "%s: layer \"%s\": %s: found %ld, expected %ld..%ld", where,
                       layer, what, v, lo, hi);
    return 0;
}

int policy_check(const policy *p, const network *n, const arch *a, const policy_rules *rules,
                 const char *origin, err *e)
{
    if (p->n != n->n_xbar)
        return err_set(e, ERR_INPUT, "%s: found %u layers, expected %u (the crossbar layers of %s)",
                       origin, p->n, n->n_xbar, n->name);
    unsigned need = arch_adc_bits_needed(a);
    for (unsigned i = 0; i < p->n; i++) {
        const policy_layer *l = &p->layers[i];
        const char *name = n->layers[n->xbar[i]].name;
        ERR_TRY(check_bits(origin, name, "wb", l->wb, 1, POLICY_MAX_BITS, e));
        ERR_TRY(check_bits(origin, name, "ab", l->ab, 1, POLICY_MAX_BITS, e));
        bool whole = a->tiles.whole_cell_weights || (rules && rules->wb_multiple_of_cell);
        if (whole && l->wb % a->tiles.cell_bits != 0)
            return err_set(e, ERR_INPUT,
                           "%s: layer \"%s\": wb: found %u, expected a multiple of "
                           "arch.tiles.cell_bits = %u (%s)",
                           origin, name, l->wb, a->tiles.cell_bits,
                           a->tiles.whole_cell_weights ? "arch.tiles.whole_cell_weights is on"
                                                       : "the search asks for whole cells");
        if (l->adc_bits == 0)
            continue;
        ERR_TRY(check_bits(origin, name, "adc_bits", l->adc_bits, 1, ARCH_MAX_ADC_BITS, e));
        if (!arch_bits_fn_defined(&a->tiles.adc.time_ns, l->adc_bits) ||
            !arch_bits_fn_defined(&a->tiles.adc.energy_pj, l->adc_bits))
            return err_set(e, ERR_INPUT,
                           "%s: layer \"%s\": adc_bits: found %u, expected a resolution the "
                           "arch's ADC time and energy are given for (arch %s)",
                           origin, name, l->adc_bits, a->name);
        if (a->tiles.adc.strict_bits && l->adc_bits > need)
            return err_set(e, ERR_INPUT,
                           "%s: layer \"%s\": adc_bits: found %u, expected at most %u (a column "
                           "sum needs no more; arch.tiles.adc.strict_bits is on)",
                           origin, name, l->adc_bits, need);
    }
    return 0;
}

/* ---- shorthands ------------------------------------------------------------------------------ */

/* Parse "uniform:B" or "uniform:W,A". 1: it is a shorthand (parsed into *wb, *ab), 0: it is not,
 * negative: a malformed shorthand. */
static int parse_uniform(const char *spec, unsigned *wb, unsigned *ab, err *e)
{
    const char *prefix = "uniform:";
    if (strncmp(spec, prefix, strlen(prefix)) != 0)
        return 0;
    const char *s = spec + strlen(prefix);
    long w = 0, a = 0;
    int used = 0;
    bool ok = false;
    if (sscanf(s, "%ld,%ld%n", &w, &a, &used) == 2 && s[used] == '\0')
        ok = true;
    else if (sscanf(s, "%ld%n", &w, &used) == 1 && s[used] == '\0')
        ok = (a = w, true);
    if (!ok || w < 1 || w > POLICY_MAX_BITS || a < 1 || a > POLICY_MAX_BITS)
        return err_set(e, ERR_INPUT,
                       "policy \"%s\": expected uniform:B or uniform:W,A with bits 1..%d", spec,
                       POLICY_MAX_BITS);
    *wb = (unsigned)w;
    *ab = (unsigned)a;
    return 1;
}

/* ---- files ------------------------------------------------------------------------------- */

static const layertab_col policy_cols[] = {
    {.name = "wb", .lo = 1, .hi = POLICY_MAX_BITS, .required = true},
    {.name = "ab", .lo = 1, .hi = POLICY_MAX_BITS, .required = true},
    {.name = "adc_bits", .lo = 1, .hi = ARCH_MAX_ADC_BITS, .required = false},
};

/* Read a policy file into p->layers (already sized); every crossbar layer must appear. */
static int load_file(const char *path, const network *n, policy *p, err *e)
{
    layertab t;
    ERR_TRY(layertab_read(path, "policy", policy_cols, 3, n, &t, e));
    for (unsigned i = 0; i < t.n; i++) {
        const layertab_row *row = &t.rows[i];
        p->layers[row->xbar] = (policy_layer){.wb = (unsigned)row->v[0],
                                              .ab = (unsigned)row->v[1],
                                              .adc_bits = row->has[2] ? (unsigned)row->v[2] : 0};
    }
    int rc = 0;
    if (t.n < n->n_xbar) {
        bool *seen = mem_calloc(n->n_xbar, sizeof *seen, "policy marks");
        for (unsigned i = 0; i < t.n; i++)
            seen[t.rows[i].xbar] = true;
        unsigned miss = 0;
        while (seen[miss])
            miss++;
        rc = err_set(e, ERR_INPUT,
                     "%s: layer \"%s\" (crossbar layer %u of %s) is missing, expected every "
                     "crossbar layer once (%u of %u given)",
                     path, n->layers[n->xbar[miss]].name, miss, n->name, t.n, n->n_xbar);
        free(seen);
    }
    layertab_fini(&t);
    return rc;
}

int policy_from_spec(const char *spec, const network *n, const arch *a, const policy_rules *rules,
                     policy *out, err *e)
{
    unsigned wb = 0, ab = 0;
    int u = parse_uniform(spec, &wb, &ab, e);
    if (u < 0)
        return u;
    policy p;
    if (u == 1) {
        policy_uniform(&p, n, wb, ab);
    } else {
        p.n = n->n_xbar;
        p.layers = mem_calloc(n->n_xbar, sizeof *p.layers, "policy");
        int rc = load_file(spec, n, &p, e);
        if (rc < 0) {
            policy_fini(&p);
            return rc;
        }
    }
    int rc = policy_check(&p, n, a, rules, spec, e);
    if (rc < 0) {
        policy_fini(&p);
        return rc;
    }
    *out = p;
    return 0;
}

void policy_write_csv(const policy *p, const network *n, FILE *out)
{
    fprintf(out, "layer,wb,ab,adc_bits\n");
    for (unsigned i = 0; i < p->n; i++) {
        const policy_layer *l = &p->layers[i];
        fprintf(out, "%s,%u,%u,", n->layers[n->xbar[i]].name, l->wb, l->ab);
        if (l->adc_bits)
            fprintf(out, "%u", l->adc_bits);
        fputc('\n', out);
    }
}
