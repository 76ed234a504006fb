/* policy: the per-layer precision of a mapped network -- weight bits, activation (input) bits and
 * optionally ADC bits for every crossbar layer, indexed by the layer's crossbar index.
 * A policy comes from a shorthand (`uniform:8`, `uniform:4,6`), a CSV file (`layer,wb,ab,adc_bits`)
 * or a libconfig file (`policy = ( { layer = "conv1"; wb = 8; ab = 8; }, ... );`), and is checked
 * against the network and the architecture before anyone uses it.
 */
#ifndef XBARSIM_MAPPER_POLICY_H
#define XBARSIM_MAPPER_POLICY_H

#include <stdbool.h>
#include <stdio.h>

#include "arch.h"
#include "err.h"
#include "network.h"

#define POLICY_MAX_BITS 16 /* widest weight or activation the schema accepts, bits */

typedef struct policy_layer {
    unsigned wb;       /* weight bits, 1..POLICY_MAX_BITS */
    unsigned ab;       /* activation (input) bits, 1..POLICY_MAX_BITS */
    unsigned adc_bits; /* ADC resolution, bits; 0: the arch's arch.tiles.adc.bits */
} policy_layer;

typedef struct policy {
    unsigned n;           /* crossbar layers, count (= network n_xbar) */
    policy_layer *layers; /* by crossbar index; owned */
} policy;

/* Options of the check against the arch (the search sets them; the arch can demand the same). */
typedef struct policy_rules {
    bool wb_multiple_of_cell; /* weight bits must be a multiple of arch.tiles.cell_bits, as
                                 when arch.tiles.whole_cell_weights is on */
} policy_rules;

/* Build the policy named by spec for network n on arch a: "uniform:B" (weights and activations
 * B bits), "uniform:W,A", or the path of a .csv file or a libconfig file. Returns 0, or a negative
 * status with e saying where (file:line, layer) and what; *out untouched on error, else owned by
 * the caller (policy_fini). */
int policy_from_spec(const char *spec, const network *n, const arch *a, const policy_rules *rules,
                     policy *out, err *e);

/* Check p against n and a: bits in range, ADC bits where the arch's ADC tables are defined (and
 * within the column-sum need when arch.tiles.adc.strict_bits), rules. `origin` names p in
 * messages. */
int policy_check(const policy *p, const network *n, const arch *a, const policy_rules *rules,
                 const char *origin, err *e);

/* A policy with every layer at (wb, ab) and the arch's ADC bits; owned by the caller. */
void policy_uniform(policy *out, const network *n, unsigned wb, unsigned ab);
/* The ADC bits layer i actually uses (its own, or the arch default). */
unsigned policy_adc_bits(const policy *p, const arch *a, unsigned i);
/* Write p as CSV with a header, one row per crossbar layer. */
void policy_write_csv(const policy *p, const network *n, FILE *out);
void policy_fini(policy *p);

#endif
