/* resource: k identical servers, one FIFO queue, service durations known at arrival (see
 * resource.h). Invariants: arrivals never go back; ring holds the granted intervals not yet
 * retired, in arrival order, and their starts are non-decreasing (min free_at only grows); an
 * interval is retired, its busy time clipped to the window added to busy_done_ps, once it ends at
 * or before an arrival, so busy time in [window_start, t] is exact for every query at t >=
 * last_arrival.
 */
#include "resource.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>

#include "mem.h"

#define RING_MIN_CAP 16 /* first ring capacity, intervals */

void resource_init(resource *r, const char *name, unsigned servers)
{
    assert(r && name && servers >= 1);
    r->name = mem_strdup(name, "resource name");
    r->servers = servers;
    r->free_at = mem_calloc(servers, sizeof *r->free_at, "resource server free times");
    r->heap = mem_calloc(servers, sizeof *r->heap, "resource server heap");
    r->last_arrival = 0;
    r->latest_free = 0;
    r->window_start = 0;
    r->served = 0;
    r->busy_done_ps = 0;
    r->busy_total_ps = 0;
    r->wait_total_ps = 0;
    r->wait_max_ps = 0;
    r->queue_max = 0;
    /* Room for two intervals per server before the first growth: usually enough for good. */
    r->ring_cap = (size_t)servers * 2 > RING_MIN_CAP ? (size_t)servers * 2 : RING_MIN_CAP;
    r->ring = mem_calloc(r->ring_cap, sizeof *r->ring, "resource interval ring");
    r->ring_head = 0;
    r->ring_len = 0;
}

void resource_fini(resource *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->free_at);
    free(r->heap);
    free(r->ring);
    r->name = NULL;
    r->free_at = NULL;
    r->ring = NULL;
    r->ring_head = r->ring_len = r->ring_cap = 0;
}

/* The i-th outstanding interval, 0 = oldest. */
static resource_interval *ring_at(const resource *r, size_t i)
{
    assert(i < r->ring_len);
    size_t j = r->ring_head + i;
    if (j >= r->ring_cap)
        j -= r->ring_cap;
    return &r->ring[j];
}

/* Double the ring, unwrapping it so the oldest interval lands at index 0. */
static void ring_grow(resource *r)
{
    size_t cap = r->ring_cap * 2;
    resource_interval *ring = mem_calloc(cap, sizeof *ring, "resource interval ring");
    for (size_t i = 0; i < r->ring_len; i++)
        ring[i] = *ring_at(r, i);
    free(r->ring);
    r->ring = ring;
    r->ring_cap = cap;
    r->ring_head = 0;
}

static void ring_push(resource *r, resource_interval iv)
{
    if (r->ring_len == r->ring_cap)
        ring_grow(r);
    r->ring_len++;
    *ring_at(r, r->ring_len - 1) = iv;
}

static void ring_pop(resource *r)
{
    assert(r->ring_len > 0);
    r->ring_head = r->ring_head + 1 == r->ring_cap ? 0 : r->ring_head + 1;
    r->ring_len--;
}

/* Busy time of [start, end) that falls inside [lo, hi), ps. */
static simtime clip(simtime start, simtime end, simtime lo, simtime hi)
{
    simtime a = start > lo ? start : lo;
    simtime b = end < hi ? end : hi;
    return b > a ? b - a : 0;
}

/* Outstanding intervals with start > t, count. Starts are non-decreasing along the ring, so
 * these form a suffix, found by binary search. All outstanding intervals arrived at or before
 * last_arrival, so for t >= last_arrival this is exactly the number waiting at t. */
static size_t waiting_after(const resource *r, simtime t)
{
    size_t lo = 0, hi = r->ring_len; /* first index with start > t lies in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_at(r, mid)->start > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return r->ring_len - lo;
}

/* Retire what has ended by now: later queries are at >= now, so its clipped busy time is final.
 * Only the front is examined, so an early-ending interval may wait behind a later one; it still
 * counts correctly through the outstanding-interval sum until retired. */
static void arrive(resource *r, simtime now)
{
    assert(now >= r->last_arrival && now >= r->window_start);
    r->last_arrival = now;
    while (r->ring_len > 0 && ring_at(r, 0)->end <= now) {
        const resource_interval *iv = ring_at(r, 0);
        r->busy_done_ps += clip(iv->start, iv->end, r->window_start, SIMTIME_MAX);
        ring_pop(r);
    }
}

/* When server i can start a request arriving now, ps. */
static simtime ready_at(const resource *r, unsigned i, simtime now)
{
    return r->free_at[i] > now ? r->free_at[i] : now;
}

/* Serve a request arriving now for `duration` ps on `server` (the soonest, found by the caller),
 * and account for it. */
static resource_grant grant(resource *r, simtime now, unsigned server, simtime duration)
{
    resource_grant g;
    g.server = server;
    g.start = ready_at(r, server, now);
    assert(duration <= SIMTIME_MAX - g.start);
    g.end = g.start + duration;
    r->free_at[server] = g.end;
    if (g.end > r->latest_free)
        r->latest_free = g.end;

    assert(r->ring_len == 0 || ring_at(r, r->ring_len - 1)->start <= g.start);
    ring_push(r, (resource_interval){.arrival = now, .start = g.start, .end = g.end});

    simtime wait = g.start - now;
    r->served++;
    r->busy_total_ps += duration; /* start >= now >= window_start: all of it is in the window */
    r->wait_total_ps += wait;
    if (wait > r->wait_max_ps)
        r->wait_max_ps = wait;
    /* The queue grows only at arrivals, so its maximum is reached just after one. */
    if (wait > 0) {
        size_t q = waiting_after(r, now);
        if (q > r->queue_max)
            r->queue_max = q;
    }
    return g;
}

resource_grant resource_request(resource *r, simtime now, simtime duration)
{
    arrive(r, now);
    /* The server that can start soonest; among those idle now, the lowest index. */
    unsigned server = 0;
    simtime best = ready_at(r, 0, now);
    for (unsigned i = 1; i < r->servers && best > now; i++) {
        simtime ready = ready_at(r, i, now);
        if (ready < best) {
            best = ready;
            server = i;
        }
    }
    return grant(r, now, server, duration);
}

/* Heap order of servers for a batch arriving at now: soonest start first, then lowest index --
 * the same choice resource_request makes. */
static bool before(const resource *r, unsigned a, unsigned b, simtime now)
{
    simtime ra = ready_at(r, a, now), rb = ready_at(r, b, now);
    return ra < rb || (ra == rb && a < b);
}

static void sift_down(resource *r, size_t i, simtime now)
{
    unsigned *h = r->heap;
    size_t n = r->servers;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && before(r, h[l], h[m], now))
            m = l;
        if (l + 1 < n && before(r, h[l + 1], h[m], now))
            m = l + 1;
        if (m == i)
            return;
        unsigned t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

void resource_request_many(resource *r, simtime now, size_t n, const simtime *durations,
                           resource_grant *out)
{
    if (n < 2 || r->servers == 1) {
        for (size_t i = 0; i < n; i++)
            out[i] = resource_request(r, now, durations[i]);
        return;
    }
    arrive(r, now);
    if (r->latest_free <= now && n <= r->servers) {
        /* Every server idle: request i takes server i unless an earlier one freed a lower server
         * at once (zero duration), which the general path handles. */
        size_t i = 0;
        for (; i < n && (i == 0 || durations[i - 1] > 0); i++)
            out[i] = grant(r, now, (unsigned)i, durations[i]);
        if (i == n)
            return;
        for (; i < n; i++)
            out[i] = resource_request(r, now, durations[i]);
        return;
    }
    for (unsigned i = 0; i < r->servers; i++)
        r->heap[i] = i;
    for (size_t i = r->servers / 2; i-- > 0;)
        sift_down(r, i, now);
    for (size_t i = 0; i < n; i++) {
        out[i] = grant(r, now, r->heap[0], durations[i]); /* the root's key grows: sift it */
        sift_down(r, 0, now);
    }
}

void resource_window_begin(resource *r, simtime t)
{
    assert(t >= r->last_arrival && t >= r->window_start);
    r->window_start = t;
    r->served = 0;
    r->wait_total_ps = 0;
    r->wait_max_ps = 0;
    /* Retired intervals ended by last_arrival <= t: nothing of theirs is left in the window. */
    r->busy_done_ps = 0;
    r->busy_total_ps = 0;
    for (size_t i = 0; i < r->ring_len; i++) {
        const resource_interval *iv = ring_at(r, i);
        r->busy_total_ps += clip(iv->start, iv->end, t, SIMTIME_MAX);
    }
    /* Requests already waiting at t are part of the window's queue. */
    r->queue_max = waiting_after(r, t);
}

simtime resource_busy_ps(resource *r, simtime t)
{
    assert(t >= r->last_arrival && t >= r->window_start);
    simtime busy = r->busy_done_ps;
    for (size_t i = 0; i < r->ring_len; i++) {
        const resource_interval *iv = ring_at(r, i);
        busy += clip(iv->start, iv->end, r->window_start, t);
    }
    return busy;
}

double resource_utilisation(resource *r, simtime t)
{
    simtime busy = resource_busy_ps(r, t);
    if (t == r->window_start)
        return 0.0;
    return (double)busy / ((double)r->servers * (double)(t - r->window_start));
}

simtime resource_next_free(const resource *r)
{
    simtime m = r->free_at[0];
    for (unsigned i = 1; i < r->servers; i++)
        if (r->free_at[i] < m)
            m = r->free_at[i];
    return m;
}

size_t resource_queue_length(resource *r, simtime t)
{
    assert(t >= r->last_arrival);
    return waiting_after(r, t);
}
