/* stats: a small table of named counters, accumulators and values per component.
 * Registration is a linear search by name (done once, at set-up); updates go by index. */
#include "stats.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void stats_init(stats *st)
{
    st->entries = NULL;
    st->n = 0;
    st->cap = 0;
}

void stats_fini(stats *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->entries[i].name);
        free(st->entries[i].unit);
    }
    free(st->entries);
    stats_init(st);
}

static size_t add(stats *st, const char *name, const char *unit, stats_type type)
{
    long found = stats_find(st, name);
    if (found >= 0) {
        assert(st->entries[found].type == type);
        return (size_t)found;
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 8;
        st->entries = mem_realloc(st->entries, st->cap, sizeof *st->entries, "stats table");
    }
    stats_entry *e = &st->entries[st->n];
    memset(e, 0, sizeof *e);
    e->name = mem_strdup(name, "stats name");
    e->unit = mem_strdup(unit, "stats unit");
    e->type = type;
    return st->n++;
}

size_t stats_counter(stats *st, const char *name, const char *unit)
{
    return add(st, name, unit, STATS_COUNTER);
}

size_t stats_accum(stats *st, const char *name, const char *unit)
{
    return add(st, name, unit, STATS_ACCUM);
}

size_t stats_value(stats *st, const char *name, const char *unit)
{
    return add(st, name, unit, STATS_VALUE);
}

void stats_sample(stats *st, size_t id, double x)
{
    assert(id < st->n && st->entries[id].type == STATS_ACCUM);
    stats_entry *e = &st->entries[id];
    if (e->count == 0 || x < e->min)
        e->min = x;
    if (e->count == 0 || x > e->max)
        e->max = x;
    e->count++;
    e->sum += x;
}

void stats_sample_n(stats *st, size_t id, double x, uint64_t n)
{
    assert(id < st->n && st->entries[id].type == STATS_ACCUM);
    if (n == 0)
        return;
    stats_entry *e = &st->entries[id];
    if (e->count == 0 || x < e->min)
        e->min = x;
    if (e->count == 0 || x > e->max)
        e->max = x;
    e->count += n;
    e->sum += x * (double)n;
}

void stats_set(stats *st, size_t id, double x)
{
    assert(id < st->n && st->entries[id].type == STATS_VALUE);
    st->entries[id].sum = x;
}

size_t stats_size(const stats *st)
{
    return st->n;
}

const stats_entry *stats_at(const stats *st, size_t i)
{
    assert(i < st->n);
    return &st->entries[i];
}

long stats_find(const stats *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->entries[i].name, name) == 0)
            return (long)i;
    return -1;
}

double stats_mean(const stats_entry *e)
{
    return e->count ? e->sum / (double)e->count : 0.0;
}

void stats_reset(stats *st)
{
    for (size_t i = 0; i < st->n; i++) {
        stats_entry *e = &st->entries[i];
        e->count = 0;
        e->sum = 0.0;
        e->min = 0.0;
        e->max = 0.0;
    }
}

void stats_copy_numbers(stats *to, const stats *from)
{
    assert(to->n == from->n);
    for (size_t i = 0; i < to->n; i++) {
        stats_entry *t = &to->entries[i];
        const stats_entry *f = &from->entries[i];
        assert(t->type == f->type && strcmp(t->name, f->name) == 0);
        t->count = f->count;
        t->sum = f->sum;
        t->min = f->min;
        t->max = f->max;
    }
}
