/* sweepcfg: a sweep file -- the base settings of a study, its axes (setting paths with lists or
 * ranges of values, combined as a product or zipped), the job run at every point and the metrics
 * kept -- parsed from libconfig, and the enumeration of its points. Invariant: point k's settings
 * are a pure function of the file, so every way of running a sweep (threads, MPI ranks, shards)
 * agrees on what point k is; the canonical text (and its 64-bit id) names the sweep in every
 * output.
 */
#ifndef XBARSIM_CLI_SWEEPCFG_H
#define XBARSIM_CLI_SWEEPCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "point.h"

#define SWEEP_MAX_POINTS ((uint64_t)100000000) /* largest sweep accepted, points */
/* Most values one range may give, count: every value is held as text while the sweep loads
 * (about 60 bytes each), so a range of 10^8 would take gigabytes before any check (fuzz_sweep). */
#define SWEEP_MAX_RANGE_VALUES 1000000

typedef enum sweep_combine { SWEEP_PRODUCT, SWEEP_ZIP } sweep_combine;

/* One value of an axis, as a setting's text ("6", "1.5", "resnet50") and, if numeric, its number.
 */
typedef struct sweep_value {
    char *text;   /* owned */
    bool numeric; /* the config gave a number (or bool) */
    double num;   /* its value when numeric */
} sweep_value;

typedef struct sweep_axis {
    char *path;          /* setting path (point.h), owned */
    unsigned n;          /* values, count */
    sweep_value *values; /* [n], owned */
    bool numeric;        /* every value numeric: the results column is float64, else a string */
    bool link;           /* zipped with the axis before it (same length), e.g. tiles.count with
                            vector.count; the product runs over groups of linked axes */
    unsigned line;       /* line of the axis in the sweep file */
} sweep_axis;

typedef struct sweep_spec {
    char *origin;          /* the sweep file's path, owned */
    char *dir;             /* its folder (names resolve there first), owned */
    point_job job;         /* sweep.job */
    sweep_combine combine; /* sweep.combine */
    unsigned n_base;       /* base settings, count */
    point_setting *base;   /* sweep.base flattened to path = text, owned */
    unsigned n_axes;       /* count */
    sweep_axis *axes;      /* owned */
    unsigned n_metrics;    /* count */
    point_metric *metrics; /* kept per point, in the order given, owned */
    uint64_t points;       /* count */
    char *canonical;       /* job, combine, base, axes and metrics as text; owned */
    uint64_t id;           /* FNV-1a 64 of canonical: the sweep's identity */
} sweep_spec;

/* Parse the sweep file at path into *out (the caller sweep_spec_fini()s it). ERR_INPUT with
 * "file:line: sweep.axes.[2].values: found ..., expected ..." for anything out of schema, an
 * unknown setting path or metric, a value its setting cannot take, zipped axes of different
 * lengths or more than SWEEP_MAX_POINTS points; ERR_IO when the file cannot be read. */
int sweep_spec_load(const char *path, sweep_spec *out, err *e);
void sweep_spec_fini(sweep_spec *s);

/* The settings of point k (< s->points): the base, then each axis's value (later wins). out holds
 * s->n_base + s->n_axes entries; its strings point into s. Returns the count written. */
unsigned sweep_point_settings(const sweep_spec *s, uint64_t k, point_setting *out);
/* The index of axis a's value at point k. */
unsigned sweep_point_value(const sweep_spec *s, uint64_t k, unsigned a);

/* "0/1" style shard parsing: "i/N" with 0 <= i < N. 0, or -1. */
int sweep_shard_parse(const char *s, unsigned *i, unsigned *n);

#endif
