/* evq_heap: d-ary min-heaps (d = 2 or 4) of (time, order, event*) entries.
 * Keys are stored inline so sifting never dereferences an event; the arity is a power of two
 * so parent/child indices are shifts. Pop moves the hole to a leaf along the smaller children and
 * then sifts the last entry up from there (Floyd's bottom-up variant: fewer comparisons). */
#include <stdint.h>
#include <stdlib.h>

#include "evq_internal.h"
#include "mem.h"

typedef evq__entry entry;

typedef struct heap {
    evq base;
    unsigned shift; /* log2 of the arity */
    size_t cap;     /* allocated entries, count */
    entry *a;       /* a[0] is the minimum */
} heap;

static inline int entry_before(const entry *x, const entry *y)
{
    /* Non-short-circuit form: no branch, so a mispredicted comparison costs nothing. */
    return (x->time < y->time) | ((x->time == y->time) & (x->order < y->order));
}

/* Index of the smallest of the d full children starting at `first` (d = 2 or 4): a tournament of
 * independent comparisons, which the compiler turns into conditional moves. */
static inline size_t min_child(const entry *a, size_t first, size_t d)
{
    size_t x = first + (size_t)entry_before(&a[first + 1], &a[first]);
    if (d == 2)
        return x;
    size_t y = first + 2 + (size_t)entry_before(&a[first + 3], &a[first + 2]);
    return entry_before(&a[y], &a[x]) ? y : x;
}

static heap *as_heap(evq *q)
{
    return (heap *)q; /* base is the first member */
}

static void sift_up(heap *h, size_t i, entry e)
{
    entry *a = h->a;
    while (i > 0) {
        size_t parent = (i - 1) >> h->shift;
        if (!entry_before(&e, &a[parent]))
            break;
        a[i] = a[parent];
        i = parent;
    }
    a[i] = e;
}

static void heap_push(evq *q, event *ev)
{
    heap *h = as_heap(q);
    if (q->size == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 256;
        h->a = mem_realloc(h->a, h->cap, sizeof(entry), "event heap");
    }
    entry e = {.time = ev->time, .order = ev->order, .ev = ev};
    sift_up(h, q->size++, e);
}

static event *heap_pop(evq *q)
{
    heap *h = as_heap(q);
    if (q->size == 0)
        return NULL;
    entry *a = h->a;
    event *top = a[0].ev;
    size_t n = --q->size;
    if (n == 0)
        return top;
    /* Walk the hole from the root down to a leaf, always following the smallest child. */
    size_t d = (size_t)1 << h->shift;
    size_t i = 0;
    for (;;) {
        size_t first = (i << h->shift) + 1;
        if (first >= n)
            break;
        size_t best = first;
        if (first + d <= n) {
            best = min_child(a, first, d);
        } else {
            for (size_t c = first + 1; c < n; c++)
                if (entry_before(&a[c], &a[best]))
                    best = c;
        }
        a[i] = a[best];
        i = best;
    }
    sift_up(h, i, a[n]);
    return top;
}

static event *heap_peek(evq *q)
{
    return q->size ? as_heap(q)->a[0].ev : NULL;
}

static void heap_destroy(evq *q)
{
    heap *h = as_heap(q);
    free(h->a);
    free(h);
}

static const evq_ops heap_ops = {
    .push = heap_push,
    .pop = heap_pop,
    .peek = heap_peek,
    .destroy = heap_destroy,
};

static evq *heap_create(unsigned shift)
{
    heap *h = mem_calloc(1, sizeof *h, "event heap");
    h->base.ops = &heap_ops;
    h->shift = shift;
    return &h->base;
}

evq *evq__heap2_create(void)
{
    return heap_create(1);
}

evq *evq__heap4_create(void)
{
    return heap_create(2);
}
