/* evq_ladder: the ladder queue of Tang, Goh and Thng (ACM TOMACS 15(3), 2005), O(1) amortised.
 * The time axis is cut into regions, latest first: Top (unsorted list), rungs 0..n-1 of buckets
 * (each rung deeper and finer than the one above), Bottom (sorted array). Invariant: every event
 * sits in the region, and in a rung the bucket, that contains its time; so equal times always share
 * a place, and sorting Bottom by (time, order) pops in exactly event_before() order. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evq_internal.h"
#include "mem.h"

/* Regions, as boundaries in ps (all inclusive):
 *   Top       [top_lo, SIMTIME_MAX]         unsorted list; empty range when top_closed
 *   rung 0    [lo_0, top_lo - 1]            buckets of 2^shift_0 ps from start_0
 *   rung r    [lo_r, lo_{r-1} - 1]          r = 1 .. nrungs-1, each spawned from one bucket above
 *   Bottom    [0, lo_{nrungs-1} - 1]        sorted by (time, order); [0, top_lo - 1] if no rung
 * Pop takes Bottom's head; when Bottom is empty it is refilled from the first non-empty bucket of
 * the deepest rung (the earliest times left), which is either sorted into Bottom or, if it holds
 * more than SPAWN_MIN events of distinct times, spread over a new finer rung (a bucket of one time
 * cannot be split by time, so it is always sorted). When no rung is left, Top becomes rung 0.
 * A region's lower bound only moves up past events already taken out of it, so a push -- even one
 * earlier than everything queued -- always finds the one place its time belongs to.
 * Widths are powers of two so a push locates its bucket with a subtraction and a shift. Events are
 * linked through event->next in Top and in buckets; Bottom keeps (time, order, event) entries.
 * Memory grows with the largest queue seen (rung buckets at most RUNG_FANOUT per event, Bottom
 * and sort buffer as large as the largest bucket), never per event. In large queues most time
 * goes to cache misses on events, so from PREFETCH_MIN queued events pushes and refills prefetch
 * (see STAGE, PREFETCH_AHEAD); below it everything is in cache and they do not. */

#define SPAWN_MIN      50   /* a bucket with more events than this becomes a rung, count */
#define BOTTOM_MAX     50   /* Bottom at this size moves to a new rung before an insertion, count */
#define MAX_RUNGS      16   /* rungs at most; past it big buckets are sorted into Bottom instead */
#define SORT_RUN       16   /* insertion-sort runs below this length, entries */
#define RUNG_FANOUT    4    /* buckets per event in a new rung at most */
#define STAGE          8    /* rung pushes held back while their bucket is prefetched; 2^k */
#define PREFETCH_AHEAD 6    /* non-empty buckets ahead whose events a refill prefetches */
#define PREFETCH_SCAN  64   /* buckets ahead a refill looks at for them */
#define PREFETCH_MIN   8192 /* queued events, count, from which prefetching pays */

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p, rw) __builtin_prefetch((p), (rw))
#else
#define PREFETCH(p, rw) ((void)(p))
#endif

typedef evq__entry entry;

typedef struct rung {
    simtime start;   /* time where bucket 0 starts, ps */
    simtime lo;      /* earliest time the rung takes, ps; inside bucket cur */
    simtime hi;      /* latest time the rung takes, ps (inclusive) */
    unsigned shift;  /* bucket width is 2^shift ps */
    size_t cur;      /* first bucket that may hold events */
    size_t nbuckets; /* buckets in use, count */
    size_t count;    /* events in the rung, count */
    size_t cap;      /* buckets allocated, count */
    event **b;       /* list heads; every head is NULL when the rung is not in use */
} rung;

typedef struct ladder {
    evq base; /* first member */
    event *top;
    size_t top_count; /* events in Top, count */
    simtime top_min;  /* earliest time in Top, ps (SIMTIME_MAX when empty) */
    simtime top_max;  /* latest time in Top, ps (0 when empty) */
    simtime top_lo;   /* earliest time Top takes, ps */
    double top_sum;   /* sum over Top of (time - top_lo), ps: gives the mean */
    bool top_closed;  /* the rungs reach SIMTIME_MAX: Top takes nothing */
    unsigned nrungs;
    rung rungs[MAX_RUNGS]; /* rungs[0] is the coarsest, rungs[nrungs - 1] the deepest */
    size_t bot_cap;        /* Bottom is the base's run: sorted entries, bot_cap allocated */
    entry *scratch;        /* merge-sort buffer */
    size_t scratch_cap;
    /* A ring of the last STAGE pushes into rungs: counted in their rung but not yet linked into
     * their bucket, whose head is being prefetched. An entry is linked when the ring comes round
     * to it, or earlier by refill if its bucket is the one taken. NULL: a free entry. */
    event *stage_ev[STAGE];
    size_t stage_idx[STAGE];    /* bucket index */
    unsigned stage_rung[STAGE]; /* rung index; stable, rungs never move while they hold events */
    unsigned stage_pos;         /* next ring entry */
    unsigned stage_n;           /* entries in use, count (refill skips the ring at 0) */
} ladder;

static inline ladder *as_ladder(evq *q)
{
    return (ladder *)q; /* base is the first member */
}

static inline bool entry_before(const entry *x, const entry *y)
{
    return x->time < y->time || (x->time == y->time && x->order < y->order);
}

/* ---- sorting Bottom ---------------------------------------------------------------------- */

static void insertion_sort(entry *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        entry e = a[i];
        size_t j = i;
        while (j > 0 && entry_before(&e, &a[j - 1])) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = e;
    }
}

static void reverse(entry *a, size_t n)
{
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
        entry e = a[i];
        a[i] = a[j];
        a[j] = e;
    }
}

static void merge(const entry *x, size_t nx, const entry *y, size_t ny, entry *out)
{
    size_t i = 0, j = 0, k = 0;
    while (i < nx && j < ny)
        out[k++] = entry_before(&y[j], &x[i]) ? y[j++] : x[i++];
    while (i < nx)
        out[k++] = x[i++];
    while (j < ny)
        out[k++] = y[j++];
}

/* Sort a[0..n) by (time, order). Bucket lists come out newest first, so runs of ties pushed in
 * sequence order arrive reversed: monotone input is detected and costs O(n). */
static void sort_entries(ladder *L, entry *a, size_t n)
{
    if (n <= 2) { /* the usual bucket */
        if (n == 2 && entry_before(&a[1], &a[0])) {
            entry e = a[0];
            a[0] = a[1];
            a[1] = e;
        }
        return;
    }
    if (n <= SORT_RUN) {
        reverse(a, n); /* back to push order, usually sorted among ties: O(n) insertion sort */
        insertion_sort(a, n);
        return;
    }
    size_t up = 1, down = 1;
    for (size_t i = 1; i < n; i++) {
        up += !entry_before(&a[i], &a[i - 1]);
        down += entry_before(&a[i], &a[i - 1]);
    }
    if (up == n)
        return;
    if (down == n) {
        reverse(a, n);
        return;
    }
    if (L->scratch_cap < n) {
        free(L->scratch);
        L->scratch_cap = n + n / 2;
        L->scratch = mem_alloc(L->scratch_cap * sizeof(entry), "ladder queue sort buffer");
    }
    for (size_t i = 0; i < n; i += SORT_RUN)
        insertion_sort(a + i, n - i < SORT_RUN ? n - i : SORT_RUN);
    entry *src = a, *dst = L->scratch;
    for (size_t w = SORT_RUN; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n;
            size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            if (mid == hi || !entry_before(&src[mid], &src[mid - 1]))
                memcpy(dst + lo, src + lo, (hi - lo) * sizeof(entry));
            else
                merge(src + lo, mid - lo, src + mid, hi - mid, dst + lo);
        }
        entry *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof(entry));
}

/* ---- Bottom ------------------------------------------------------------------------------ */

static void bot_grow(ladder *L, size_t need)
{
    size_t cap = L->bot_cap ? L->bot_cap : 64;
    while (cap < need)
        cap *= 2;
    L->base.run = mem_realloc(L->base.run, cap, sizeof(entry), "ladder queue bottom");
    L->bot_cap = cap;
}

/* Copy a bucket list into Bottom (which must be empty), unsorted. Returns the count and the
 * earliest and latest times, ps. */
static size_t collect(ladder *L, event *list, simtime *tmin, simtime *tmax)
{
    simtime mn = SIMTIME_MAX, mx = 0;
    size_t k = 0;
    for (event *ev = list; ev; ev = ev->next) {
        if (k == L->bot_cap)
            bot_grow(L, k + 1);
        L->base.run[k++] = (entry){.time = ev->time, .order = ev->order, .ev = ev};
        if (ev->time < mn)
            mn = ev->time;
        if (ev->time > mx)
            mx = ev->time;
    }
    L->base.run_head = 0;
    L->base.run_tail = k;
    *tmin = mn;
    *tmax = mx;
    return k;
}

/* ---- rungs ------------------------------------------------------------------------------- */

/* The smallest s with (len >> s) < n: 2^s ps buckets cut len ps into at most n pieces. n >= 2. */
static unsigned shift_for(simtime len, simtime n)
{
    unsigned s = 0;
    while ((len >> s) >= n)
        s++;
    return s;
}

/* Prepare rung g to take [start, hi] for n >= 2 events, ps. The bucket width is the smallest power
 * of two that cuts `dense` ps (the extent of the bulk of the events, at most their span) into at
 * most n buckets -- about one event a bucket where they are densest -- but no narrower than needed
 * for the whole range to have at most RUNG_FANOUT * n buckets. */
static void rung_init(rung *g, simtime start, simtime hi, size_t n, simtime dense)
{
    assert(n >= 2 && start <= hi && dense <= hi - start);
    simtime range = hi - start;
    unsigned s = shift_for(dense, n);
    unsigned s_min = shift_for(range, RUNG_FANOUT * (simtime)n);
    if (s < s_min)
        s = s_min;
    size_t nb = (size_t)(range >> s) + 1;
    if (nb > g->cap) {
        /* Not in use, so every head is NULL: nothing to copy. Large arrays get huge pages. */
        size_t cap = nb + nb / 4;
        assert(cap <= SIZE_MAX / sizeof(event *));
        free(g->b);
        g->b = mem_alloc_large(cap * sizeof(event *), "ladder queue rung");
        memset(g->b, 0, cap * sizeof(event *));
        g->cap = cap;
    }
    g->start = start;
    g->lo = start;
    g->hi = hi;
    g->shift = s;
    g->cur = 0;
    g->nbuckets = nb;
    g->count = n;
}

static inline void rung_add(rung *g, event *ev)
{
    size_t i = (size_t)((ev->time - g->start) >> g->shift);
    assert(i >= g->cur && i < g->nbuckets);
    ev->next = g->b[i];
    g->b[i] = ev;
}

/* Spread Bottom's entries [head, tail) over rung g (already initialised) and empty Bottom. */
static void bot_to_rung(ladder *L, rung *g)
{
    for (size_t j = L->base.run_head; j < L->base.run_tail; j++)
        rung_add(g, L->base.run[j].ev);
    L->base.run_head = L->base.run_tail = 0;
}

/* Bottom has grown past BOTTOM_MAX with distinct times: turn it into a new deepest rung over
 * Bottom's whole range, so later insertions into that range cost O(1), not a sorted insertion. */
static void bottom_spawn(ladder *L)
{
    size_t n = L->base.run_tail - L->base.run_head;
    simtime mn = L->base.run[L->base.run_head].time, mx = L->base.run[L->base.run_tail - 1].time;
    simtime hi; /* Bottom's range ends below the deepest rung, or below Top */
    if (L->nrungs > 0)
        hi = L->rungs[L->nrungs - 1].lo - 1; /* lo > mx >= 0 */
    else
        hi = L->top_closed ? SIMTIME_MAX : L->top_lo - 1; /* top_lo > mx >= 0 */
    rung *g = &L->rungs[L->nrungs++];
    rung_init(g, mn, hi, n, mx - mn);
    bot_to_rung(L, g);
}

/* ---- push -------------------------------------------------------------------------------- */

static void place(ladder *L, event *ev);

static void bottom_insert(ladder *L, event *ev)
{
    size_t n = L->base.run_tail - L->base.run_head;
    if (n == 0) {
        L->base.run_head = L->base.run_tail = 0;
    } else if (n >= BOTTOM_MAX && L->nrungs < MAX_RUNGS &&
               L->base.run[L->base.run_head].time != L->base.run[L->base.run_tail - 1].time) {
        bottom_spawn(L);
        place(L, ev); /* Bottom is empty now: no further recursion */
        return;
    }
    if (L->base.run_tail == L->bot_cap) {
        if (L->base.run_head > 0) {
            memmove(L->base.run, L->base.run + L->base.run_head, n * sizeof(entry));
            L->base.run_head = 0;
            L->base.run_tail = n;
        } else {
            bot_grow(L, L->base.run_tail + 1);
        }
    }
    entry e = {.time = ev->time, .order = ev->order, .ev = ev};
    entry *a = L->base.run;
    if (n == 0 || !entry_before(&e, &a[L->base.run_tail - 1])) {
        a[L->base.run_tail++] = e; /* the usual case in a simulation: later than all of Bottom */
        return;
    }
    size_t lo = L->base.run_head,
           hi = L->base.run_tail - 1; /* e goes before a[hi]: find the first such index */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry_before(&e, &a[mid]))
            hi = mid;
        else
            lo = mid + 1;
    }
    if (L->base.run_head > 0 && lo - L->base.run_head <= L->base.run_tail - lo) {
        memmove(a + L->base.run_head - 1, a + L->base.run_head,
                (lo - L->base.run_head) * sizeof(entry));
        L->base.run_head--;
        a[lo - 1] = e;
    } else {
        memmove(a + lo + 1, a + lo, (L->base.run_tail - lo) * sizeof(entry));
        L->base.run_tail++;
        a[lo] = e;
    }
}

static void place(ladder *L, event *ev)
{
    simtime t = ev->time;
    if (t >= L->top_lo && !L->top_closed) {
        ev->next = L->top;
        L->top = ev;
        L->top_count++;
        L->top_sum += (double)(t - L->top_lo);
        if (t < L->top_min)
            L->top_min = t;
        if (t > L->top_max)
            L->top_max = t;
        return;
    }
    for (unsigned r = 0; r < L->nrungs; r++) {
        rung *g = &L->rungs[r];
        if (t >= g->lo) {
            /* In a large queue the bucket head is a cache miss: prefetch it now and link the
             * event only STAGE pushes later. Order is unaffected: a staged event is later than
             * all of Bottom, and refill counts it as in its bucket (and links it if it takes
             * that bucket). */
            size_t i = (size_t)((t - g->start) >> g->shift);
            assert(i >= g->cur && i < g->nbuckets);
            g->count++;
            if (L->base.size < PREFETCH_MIN) { /* all in cache: link it now */
                ev->next = g->b[i];
                g->b[i] = ev;
                return;
            }
            PREFETCH(&g->b[i], 1);
            unsigned k = L->stage_pos;
            L->stage_pos = (k + 1) & (STAGE - 1);
            event *old = L->stage_ev[k];
            if (old) {
                event **head = &L->rungs[L->stage_rung[k]].b[L->stage_idx[k]];
                old->next = *head;
                *head = old;
            } else {
                L->stage_n++;
            }
            L->stage_ev[k] = ev;
            L->stage_idx[k] = i;
            L->stage_rung[k] = r;
            return;
        }
    }
    bottom_insert(L, ev);
}

/* The queue is empty: forget all bounds so new events of any time go to Top. Done at the push
 * into an empty queue rather than at the pop that empties it, so that pops from Bottom stay the
 * few inline instructions of evq__pop_inline. */
static void reset(ladder *L)
{
    L->nrungs = 0; /* each rung is empty, so all its heads are NULL */
    L->base.run_head = L->base.run_tail = 0;
    L->top_lo = 0;
    L->top_sum = 0;
    L->top_closed = false;
}

static void ladder_push(evq *q, event *ev)
{
    ladder *L = as_ladder(q);
    if (q->size == 0)
        reset(L);
    q->size++;
    place(L, ev);
}

/* ---- pop --------------------------------------------------------------------------------- */

/* No rung is left and Bottom is empty: everything queued is in Top. Move it to rung 0, or
 * straight into Bottom when it is small or all one time. */
static void top_to_ladder(ladder *L)
{
    event *list = L->top;
    size_t n = L->top_count;
    simtime mn = L->top_min, mx = L->top_max, lo = L->top_lo;
    double sum = L->top_sum;
    assert(list && n > 0);
    L->top_sum = 0;
    L->top = NULL;
    L->top_count = 0;
    L->top_min = SIMTIME_MAX;
    L->top_max = 0;
    L->top_closed = mx == SIMTIME_MAX;
    L->top_lo = L->top_closed ? SIMTIME_MAX : mx + 1;
    if (n <= SPAWN_MIN || mn == mx) {
        simtime a, b;
        collect(L, list, &a, &b);
        sort_entries(L, L->base.run, n);
        return;
    }
    /* Event times are often skewed: a simulation's pending events thin out with distance from
     * now (exponentially for exponential delays), and later pushes keep the head that dense. So
     * size the buckets on mean - min, not on max - min (the same for uniform times). */
    double mean_off = sum / (double)n - (double)(mn - lo);
    simtime dense = mx - mn;
    if (mean_off >= 0 && mean_off < (double)dense)
        dense = (simtime)mean_off;
    rung *g = &L->rungs[0];
    rung_init(g, mn, mx, n, dense);
    L->nrungs = 1;
    for (event *ev = list, *next; ev; ev = next) {
        next = ev->next;
        rung_add(g, ev);
    }
}

/* Bottom is empty and the queue is not: bring the earliest events into Bottom. */
static void refill(ladder *L)
{
    for (;;) {
        if (L->nrungs == 0) {
            top_to_ladder(L);
            if (L->base.run_tail > L->base.run_head)
                return;
            continue;
        }
        rung *g = &L->rungs[L->nrungs - 1];
        if (g->count == 0) {
            L->nrungs--; /* its range joins Bottom's, which is empty */
            continue;
        }
        /* The first bucket holding events, linked or staged. */
        unsigned r = L->nrungs - 1;
        size_t lim = g->nbuckets;
        for (unsigned k = 0; L->stage_n && k < STAGE; k++)
            if (L->stage_ev[k] && L->stage_rung[k] == r && L->stage_idx[k] < lim)
                lim = L->stage_idx[k];
        size_t i = g->cur;
        while (i < lim && !g->b[i])
            i++;
        assert(i < g->nbuckets);
        for (unsigned k = 0; L->stage_n && k < STAGE; k++) {
            event *ev = L->stage_ev[k];
            if (ev && L->stage_rung[k] == r && L->stage_idx[k] == i) {
                ev->next = g->b[i];
                g->b[i] = ev;
                L->stage_ev[k] = NULL;
                L->stage_n--;
            }
        }
        if (i != g->cur) {
            g->cur = i;
            g->lo = g->start + ((simtime)i << g->shift);
        }
        event *list = g->b[i];
        g->b[i] = NULL;
        /* The next non-empty buckets are taken soon: start loading their events, a software
         * pipeline along their lists. The d-th of them gets its node PREFETCH_AHEAD - d
         * prefetched; the nodes before it were prefetched at earlier refills, when the bucket
         * was further ahead, so the walk to it rarely waits. */
        size_t end = g->nbuckets - i > PREFETCH_SCAN ? i + PREFETCH_SCAN : g->nbuckets;
        if (L->base.size < PREFETCH_MIN)
            end = 0; /* all in cache: the walk would cost more than it saves */
        for (size_t j = i + 1, d = 1; d <= PREFETCH_AHEAD && j < end; j++) {
            event *e = g->b[j];
            if (!e)
                continue;
            for (size_t step = d; e && step < PREFETCH_AHEAD; step++)
                e = e->next;
            if (e)
                PREFETCH(e, 0);
            d++;
        }
        simtime mn, mx;
        size_t k = collect(L, list, &mn, &mx);
        g->count -= k;
        /* Taken out: [lo, mx]. The rung now starts after mx; it is done when mx ends its range. */
        bool last = i + 1 == g->nbuckets;
        simtime bucket_hi = last ? g->hi : g->start + ((simtime)(i + 1) << g->shift) - 1;
        bool done = false;
        if (mx < bucket_hi) {
            g->lo = mx + 1;
        } else if (!last) {
            g->cur = i + 1;
            g->lo = bucket_hi + 1;
        } else {
            assert(g->count == 0);
            done = true;
        }
        if (k > SPAWN_MIN && mn != mx && (done || L->nrungs < MAX_RUNGS)) {
            /* A finer rung for [mn, mx]; when g is done it takes g's slot (same range end). */
            rung *c = done ? g : &L->rungs[L->nrungs++];
            rung_init(c, mn, mx, k, mx - mn);
            bot_to_rung(L, c);
            continue;
        }
        if (done)
            L->nrungs--;
        sort_entries(L, L->base.run, k);
        return;
    }
}

static event *ladder_pop(evq *q)
{
    ladder *L = as_ladder(q);
    if (L->base.run_head == L->base.run_tail) {
        if (q->size == 0)
            return NULL;
        refill(L);
    }
    q->size--;
    return L->base.run[L->base.run_head++].ev;
}

static event *ladder_peek(evq *q)
{
    ladder *L = as_ladder(q);
    if (L->base.run_head == L->base.run_tail) {
        if (q->size == 0)
            return NULL;
        refill(L);
    }
    return L->base.run[L->base.run_head].ev;
}

static void ladder_destroy(evq *q)
{
    ladder *L = as_ladder(q);
    for (unsigned r = 0; r < MAX_RUNGS; r++)
        free(L->rungs[r].b);
    free(L->base.run);
    free(L->scratch);
    free(L);
}

static const evq_ops ladder_ops = {
    .push = ladder_push,
    .pop = ladder_pop,
    .peek = ladder_peek,
    .destroy = ladder_destroy,
};

evq *evq__ladder_create(void)
{
    ladder *L = mem_calloc(1, sizeof *L, "ladder queue");
    L->base.ops = &ladder_ops;
    L->top_min = SIMTIME_MAX;
    L->top_max = 0;
    L->top_lo = 0;
    return &L->base;
}
