/* stats: named counters and accumulators of one component, read back for summaries.
 * Entries are registered once by name (with a unit) and then updated by index on hot paths.
 * A table is owned by its component; names and units are copied in.
 */
#ifndef XBARSIM_ENGINE_STATS_H
#define XBARSIM_ENGINE_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef enum stats_type {
    STATS_COUNTER, /* uint64 count, incremented */
    STATS_ACCUM,   /* samples of a double: count, sum, min, max, mean */
    STATS_VALUE,   /* one double, set (derived figures published at report time) */
} stats_type;

typedef struct stats_entry {
    char *name; /* e.g. "adc_conversions" */
    char *unit; /* e.g. "count", "pJ", "ps" */
    stats_type type;
    uint64_t count;  /* COUNTER: the count; ACCUM: number of samples */
    double sum;      /* ACCUM: sum of samples; VALUE: the value */
    double min, max; /* ACCUM: extremes (0 when no sample) */
} stats_entry;

typedef struct stats stats;
struct stats {
    stats_entry *entries;
    size_t n, cap;
};

/* Embedded tables: init to empty; fini frees names, units and the array. */
void stats_init(stats *st);
void stats_fini(stats *st);

/* Register (or find, when the name exists with the same type) an entry; returns its index.
 * Registering an existing name with another type is a bug (asserted). */
size_t stats_counter(stats *st, const char *name, const char *unit);
size_t stats_accum(stats *st, const char *name, const char *unit);
size_t stats_value(stats *st, const char *name, const char *unit);

/* Hot-path updates by index. */
static inline void stats_add(stats *st, size_t id, uint64_t n)
{
    st->entries[id].count += n;
}
void stats_sample(stats *st, size_t id, double x);
/* n samples of the same value x at once: count n, sum n x (one product, not n additions). */
void stats_sample_n(stats *st, size_t id, double x, uint64_t n);
void stats_set(stats *st, size_t id, double x);

/* Read back. stats_find returns the index, or -1 when absent. */
size_t stats_size(const stats *st);
const stats_entry *stats_at(const stats *st, size_t i);
long stats_find(const stats *st, const char *name);
/* Mean of an ACCUM entry (0 when it has no sample). */
double stats_mean(const stats_entry *e);
/* Reset every entry's numbers (not its registration) -- e.g. after a warm-up window. */
void stats_reset(stats *st);
/* Set the numbers of every entry of `to` to those of `from`'s entry at the same index; both
 * tables registered the same names in the same order (asserted), as two components of one
 * class do. */
void stats_copy_numbers(stats *to, const stats *from);

#endif
