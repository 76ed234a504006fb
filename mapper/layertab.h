/* layertab: a per-layer table of small integers read from a CSV file or a libconfig list -- the
 * common reader of policy files (wb, ab, adc_bits) and replication files (copies).
 * CSV: a header `layer,<col>,...` naming known columns (any order, required ones present), then
 * one row per layer; blank lines and lines starting with # are skipped; an empty field leaves an
 * optional column unset. libconfig: `<group> = ( { layer = "name"; <col> = N; ... }, ... );`.
 * Every row names a crossbar layer of the network, at most once; errors give file:line.
 */
#ifndef XBARSIM_MAPPER_LAYERTAB_H
#define XBARSIM_MAPPER_LAYERTAB_H

#include <stdbool.h>

#include "err.h"
#include "network.h"

#define LAYERTAB_MAX_COLS 4

typedef struct layertab_col {
    const char *name; /* column / key name */
    long lo, hi;      /* accepted range, inclusive */
    bool required;    /* every row must give it */
} layertab_col;

typedef struct layertab_row {
    unsigned xbar;               /* crossbar index of the layer */
    unsigned line;               /* line in the file, 0 when unknown */
    long v[LAYERTAB_MAX_COLS];   /* values by column */
    bool has[LAYERTAB_MAX_COLS]; /* column given in this row */
} layertab_row;

typedef struct layertab {
    unsigned n;         /* rows, count */
    layertab_row *rows; /* owned */
} layertab;

/* Read the table at path (CSV when the name ends in .csv, else the libconfig list `group`) with
 * columns cols[0..ncols) for network n. Returns 0, or a negative status with e set; *out owned by
 * the caller (layertab_fini) on success, untouched on error. */
int layertab_read(const char *path, const char *group, const layertab_col *cols, unsigned ncols,
                  const network *n, layertab *out, err *e);
void layertab_fini(layertab *t);

#endif
