/* sweepout: the results of a sweep -- the finished points held in memory, the journal that makes
 * a sweep resumable, and the HDF5 file with /sweep/points (schema in traces/README.md).
 * Invariants: a point is finished once its journal line ends in a newline (a killed sweep loses
 * at most the points in flight); rows are written sorted by point index, so the table is the same
 * whatever order (threads, ranks, shards) the points finished in.
 */
#ifndef XBARSIM_CLI_SWEEPOUT_H
#define XBARSIM_CLI_SWEEPOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "h5file.h"
#include "point.h"
#include "sweepcfg.h"

#define SWEEP_AXIS_TEXT_BYTES 128 /* string axis values in the table, bytes (NUL included) */
#define SWEEP_STATUS_BYTES    8   /* "ok" / "failed", bytes */

/* The finished points of one sweep (or one shard of it). */
typedef struct sweep_store {
    const sweep_spec *spec; /* not owned */
    unsigned shard, shards; /* this file's share: points k with k % shards == shard */
    uint64_t share;         /* points in the share, count */
    uint8_t *done;          /* [spec->points]: 1 when finished */
    uint64_t n, cap;        /* finished rows, count; capacity */
    uint64_t *point;        /* [n] point index */
    uint8_t *ok;            /* [n] 1 ok, 0 failed */
    double *wall_s;         /* [n] evaluation wall time, s */
    double *metric;         /* [n x spec->n_metrics], in the spec's metric order and units */
    char **message;         /* [n] failure message, NULL when ok; owned */
    uint64_t failed;        /* rows not ok, count */
} sweep_store;

void sweep_store_init(sweep_store *st, const sweep_spec *spec, unsigned shard, unsigned shards);
void sweep_store_fini(sweep_store *st);
/* Whether point k belongs to the store's share. */
bool sweep_store_mine(const sweep_store *st, uint64_t k);
/* Record point k's result (k must be in the share and not finished: asserted). */
void sweep_store_add(sweep_store *st, uint64_t k, const point_result *r);

/* Which axes change no metric: inert[a] is set when, among the finished ok points, every two
 * that differ only in axis a (and the axes linked to it) have equal metrics (NaN equal to NaN).
 * Only for product sweeps (zipped axes never move alone); an axis with no two such points, or a
 * linked one, is never inert. inert has spec->n_axes entries. Returns how many are inert. */
unsigned sweep_inert_axes(const sweep_store *st, bool *inert);

/* The journal `<output>.journal`: a header naming the sweep and the shard, then one line per
 * finished point (numbers in C99 hexadecimal floating point, so they come back bit for bit). */
typedef struct sweep_journal {
    FILE *f;
    char *path; /* owned */
} sweep_journal;

/* Open the journal of output, creating it, or reading every complete line of an existing one
 * into st (a torn last line is cut off). ERR_INPUT when it belongs to another sweep or shard
 * (the message says which), ERR_IO when it cannot be read or written. */
int sweep_journal_open(sweep_journal *j, const char *output, sweep_store *st, err *e);
/* Append point k's line and flush it to the kernel. ERR_IO when the write fails. */
int sweep_journal_append(sweep_journal *j, const sweep_store *st, uint64_t k, const point_result *r,
                         err *e);
/* Close; remove the file too when `remove` (the output is complete). */
void sweep_journal_close(sweep_journal *j, bool remove);

/* Finished rows of an existing output file of the same sweep and shard into st. 0 (also when
 * the file does not exist: nothing loaded), or ERR_INPUT when it holds another sweep or shard. */
int sweep_output_load(const char *output, sweep_store *st, err *e);

/* Write st to output (temporary name, renamed when complete): /meta, /sweep attributes and
 * /sweep/points sorted by point. complete says whether every point of the share is there. */
int sweep_output_write(const char *output, const sweep_store *st, const char *command_line,
                       const char *start_time, err *e);

/* The /sweep attributes (traces/README.md) of a results file; strings are the caller's. */
typedef struct sweep_attrs {
    const char *id, *canonical, *job; /* sweep_id (16 hex digits), sweep, job */
    unsigned shard, shards;           /* this file's share I/N */
    uint64_t total, share;            /* points of the sweep and of the share, count */
    uint64_t done, failed;            /* rows, and rows failed, count */
    const char *const *axes;          /* axis paths in column order */
    size_t n_axes;
    const char *const *metrics; /* metric names in column order */
    size_t n_metrics;
} sweep_attrs;
int sweep_attrs_write(h5file *f, const sweep_attrs *a, err *e);

/* Point ranges "0-4, 9, 12-13, 20-32 step 3" of the points of [0, total) not set in have: runs of
 * consecutive points, and runs of a constant step (a missing shard's points), at most `limit`
 * runs, then "..."; into buf. Returns the number of such points. */
uint64_t sweep_missing_ranges(const uint8_t *have, uint64_t total, char *buf, size_t size,
                              unsigned limit);

#endif
