/* resource: k identical servers, one FIFO queue, service durations known at arrival (see
 * resource.h). Invariants: arrivals never go back; the servers are partitioned into runs of
 * consecutive indices free at one time -- busy runs (free after the last arrival) ordered by
 * (free time, first index), idle runs (free by the last arrival, so all equally ready) ordered by
 * index -- and a request always takes the first server of the first run (idle before busy), which
 * is the soonest start with ties to the lowest index; ring holds the granted intervals not yet
 * retired, in arrival order, with non-decreasing starts; an interval is retired, its busy time
 * clipped to the window added to busy_done_ps, once it ends at or before an arrival, so busy time
 * in [window_start, t] is exact for every query at t >= last_arrival.
 */
#include "resource.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define RING_MIN_CAP 16 /* first ring capacity, intervals */

/* ---- runs of servers ------------------------------------------------------------------------ */

/* storage: servers + 1 runs, or NULL to allocate them. */
static void set_init(resource_group_set *s, unsigned servers, resource_group *storage)
{
    /* At most one run per server, and one slot spare so an insertion always fits. */
    s->cap = (size_t)servers + 1;
    s->g = storage ? storage : mem_calloc(s->cap, sizeof *s->g, "resource server runs");
    s->head = s->tail = 0;
}

static bool set_empty(const resource_group_set *s)
{
    return s->head == s->tail;
}

/* Busy runs are ordered by (free time, first index); idle ones by first index alone. */
static bool run_before(const resource_group *x, const resource_group *y, bool by_time)
{
    if (by_time && x->free_at != y->free_at)
        return x->free_at < y->free_at;
    return x->first < y->first;
}

/* Two runs join when they are adjacent and (busy) free at the same time; idle runs are all ready
 * at once, so only adjacency matters, and the earlier free time is kept (resource_next_free). */
static bool run_joins(const resource_group *x, const resource_group *y, bool by_time)
{
    return x->end == y->first && (!by_time || x->free_at == y->free_at);
}

static void set_remove_at(resource_group_set *s, size_t i)
{
    memmove(s->g + i, s->g + i + 1, (s->tail - i - 1) * sizeof *s->g);
    s->tail--;
}

/* Insert run x (disjoint from every run held), joining it with its neighbours where it can. */
static void set_insert(resource_group_set *s, resource_group x, bool by_time)
{
    if (s->head == s->tail) { /* empty: the usual case with few servers */
        s->head = 0;
        s->tail = 1;
        s->g[0] = x;
        return;
    }
    size_t lo = s->head, hi = s->tail; /* first run not before x */
    if (run_before(&s->g[hi - 1], &x, by_time))
        lo = hi; /* after every run: the usual case for a run freed late */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (run_before(&s->g[mid], &x, by_time))
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t pos = lo;
    if (pos > s->head && run_joins(&s->g[pos - 1], &x, by_time)) {
        resource_group *left = &s->g[pos - 1];
        left->end = x.end;
        left->free_at = x.free_at < left->free_at ? x.free_at : left->free_at;
        if (pos < s->tail && run_joins(left, &s->g[pos], by_time)) {
            left->end = s->g[pos].end;
            left->free_at = s->g[pos].free_at < left->free_at ? s->g[pos].free_at : left->free_at;
            set_remove_at(s, pos);
        }
        return;
    }
    if (pos < s->tail && run_joins(&x, &s->g[pos], by_time)) {
        resource_group *right = &s->g[pos];
        right->first = x.first;
        right->free_at = x.free_at < right->free_at ? x.free_at : right->free_at;
        return;
    }
    if (s->tail == s->cap) { /* compact: the runs fit, as there are fewer than cap of them */
        memmove(s->g, s->g + s->head, (s->tail - s->head) * sizeof *s->g);
        pos -= s->head;
        s->tail -= s->head;
        s->head = 0;
    }
    if (s->head > 0 && pos - s->head < s->tail - pos) {
        memmove(s->g + s->head - 1, s->g + s->head, (pos - s->head) * sizeof *s->g);
        s->head--;
        s->g[pos - 1] = x;
    } else {
        memmove(s->g + pos + 1, s->g + pos, (s->tail - pos) * sizeof *s->g);
        s->tail++;
        s->g[pos] = x;
    }
}

/* ---- the interval ring ---------------------------------------------------------------------- */

void resource_init(resource *r, const char *name, unsigned servers)
{
    assert(r && name && servers >= 1);
    r->name = mem_strdup(name, "resource name");
    r->servers = servers;
    bool inline_runs = servers <= RESOURCE_INLINE_SERVERS;
    set_init(&r->busy, servers, inline_runs ? r->inline_runs : NULL);
    set_init(&r->idle, servers, inline_runs ? r->inline_runs + servers + 1 : NULL);
    r->idle.g[0] = (resource_group){.free_at = 0, .first = 0, .end = servers};
    r->idle.tail = 1;
    r->last_arrival = 0;
    r->window_start = 0;
    r->served = 0;
    r->busy_done_ps = 0;
    r->busy_total_ps = 0;
    r->wait_total_ps = 0;
    r->wait_max_ps = 0;
    r->queue_max = 0;
    /* Room for two intervals per server before the first growth: usually enough for good. */
    if (inline_runs) {
        r->ring_cap = RESOURCE_INLINE_RING;
        r->ring = r->inline_ring;
    } else {
        r->ring_cap = (size_t)servers * 2 > RING_MIN_CAP ? (size_t)servers * 2 : RING_MIN_CAP;
        r->ring = mem_calloc(r->ring_cap, sizeof *r->ring, "resource interval ring");
    }
    r->ring_head = 0;
    r->ring_len = 0;
    r->ring_pushed = 0;
}

void resource_fini(resource *r)
{
    if (!r)
        return;
    free(r->name);
    if (r->servers > RESOURCE_INLINE_SERVERS) {
        free(r->busy.g);
        free(r->idle.g);
    }
    if (r->ring != r->inline_ring)
        free(r->ring);
    r->name = NULL;
    r->busy.g = r->idle.g = NULL;
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
    if (r->ring != r->inline_ring)
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

/* Server-ps of interval iv inside [lo, hi). */
static simtime interval_busy(const resource_interval *iv, simtime lo, simtime hi)
{
    return (simtime)iv->count * clip(iv->start, iv->end, lo, hi);
}

/* Outstanding requests with start > t, count. Starts are non-decreasing along the ring, so these
 * form a suffix, found by binary search. All outstanding intervals arrived at or before
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
    if (lo == r->ring_len)
        return 0;
    return (size_t)(r->ring_pushed - ring_at(r, lo)->before);
}

/* Retire what has ended by now (later queries are at >= now, so its clipped busy time is final)
 * and make the servers free by now idle. Only the ring's front is examined, so an early-ending
 * interval may wait behind a later one; it still counts correctly through the outstanding-interval
 * sum until retired. */
static void arrive(resource *r, simtime now)
{
    assert(now >= r->last_arrival && now >= r->window_start);
    r->last_arrival = now;
    while (r->ring_len > 0 && ring_at(r, 0)->end <= now) {
        r->busy_done_ps += interval_busy(ring_at(r, 0), r->window_start, SIMTIME_MAX);
        ring_pop(r);
    }
    while (!set_empty(&r->busy) && r->busy.g[r->busy.head].free_at <= now) {
        resource_group g = r->busy.g[r->busy.head++];
        set_insert(&r->idle, g, false);
    }
}

/* ---- granting ------------------------------------------------------------------------------- */

/* The run the next request takes from (idle before busy) and the start it gets there. */
static resource_group *first_run(resource *r, simtime now, simtime *start, bool *idle)
{
    *idle = !set_empty(&r->idle);
    resource_group_set *s = *idle ? &r->idle : &r->busy;
    assert(!set_empty(s));
    resource_group *g = &s->g[s->head];
    *start = *idle ? now : g->free_at;
    return g;
}

/* Account for `count` requests arriving at now and served over [start, start + duration). */
static void account(resource *r, simtime now, simtime start, simtime duration, uint64_t count)
{
    assert(duration <= SIMTIME_MAX - start);
    assert(r->ring_len == 0 || ring_at(r, r->ring_len - 1)->start <= start);
    ring_push(
        r, (resource_interval){
               .start = start, .end = start + duration, .count = count, .before = r->ring_pushed});
    r->ring_pushed += count;
    simtime wait = start - now;
    r->served += count;
    /* start >= now >= window_start: all of it is in the window */
    r->busy_total_ps += (simtime)count * duration;
    r->wait_total_ps += (simtime)count * wait;
    if (wait > r->wait_max_ps)
        r->wait_max_ps = wait;
}

/* The queue grows only at arrivals, and within one arrival's requests it only grows (starts are
 * non-decreasing, nothing retires), so its maximum is reached after the last request of one;
 * `last_start` is that request's start, ps. */
static void note_queue(resource *r, simtime now, simtime last_start)
{
    if (last_start > now) {
        size_t q = waiting_after(r, now);
        if (q > r->queue_max)
            r->queue_max = q;
    }
}

/* Give the first m servers of the first run (found by first_run; its start `start`) the next
 * requests, m1 of them lasting d1 ps and the next m - m1 lasting d2 ps (d1, d2 > 0). */
static void take_servers(resource *r, bool idle, simtime now, simtime start, unsigned m,
                         unsigned m1, simtime d1, simtime d2)
{
    resource_group_set *s = idle ? &r->idle : &r->busy;
    resource_group *g = &s->g[s->head];
    unsigned a = g->first;
    assert(m >= 1 && m <= g->end - g->first && m1 <= m && d1 > 0 && d2 > 0);
    g->first += m; /* the rest keep their place: their key only grew past nothing else */
    if (g->first == g->end)
        s->head++;
    if (m1 > 0) {
        set_insert(&r->busy, (resource_group){.free_at = start + d1, .first = a, .end = a + m1},
                   true);
        account(r, now, start, d1, m1);
    }
    if (m > m1) {
        set_insert(&r->busy, (resource_group){.free_at = start + d2, .first = a + m1, .end = a + m},
                   true);
        account(r, now, start, d2, m - m1);
    }
}

/* One request arriving at now (after arrive) for `duration` ps. */
static resource_grant grant_one(resource *r, simtime now, simtime duration)
{
    simtime start;
    bool idle;
    resource_group *g = first_run(r, now, &start, &idle);
    resource_grant out = {.start = start, .end = start + duration, .server = g->first};
    if (duration == 0) /* the server is free again at once: nothing changes */
        account(r, now, start, 0, 1);
    else
        take_servers(r, idle, now, start, 1, 1, duration, duration);
    return out;
}

resource_grant resource_request(resource *r, simtime now, simtime duration)
{
    arrive(r, now);
    resource_grant g = grant_one(r, now, duration);
    note_queue(r, now, g.start);
    return g;
}

void resource_request_many(resource *r, simtime now, size_t n, const simtime *durations,
                           resource_grant *out)
{
    if (n == 0)
        return;
    arrive(r, now);
    for (size_t i = 0; i < n; i++)
        out[i] = grant_one(r, now, durations[i]);
    note_queue(r, now, out[n - 1].start);
}

resource_grant resource_request_spread(resource *r, simtime now, uint64_t units, simtime unit_ps)
{
    resource_grant out = {.start = now, .end = now, .server = 0};
    if (units == 0)
        return out;
    arrive(r, now);
    uint64_t chunks = units < r->servers ? units : r->servers;
    uint64_t base = units / chunks, extra = units % chunks; /* the first `extra` get base + 1 */
    assert(unit_ps == 0 || base + 1 <= SIMTIME_MAX / unit_ps);
    simtime d_floor = base * unit_ps, d_ceil = (base + 1) * unit_ps;
    simtime last_start = now;
    for (uint64_t p = 0; p < chunks;) {
        simtime start;
        bool idle;
        resource_group *g = first_run(r, now, &start, &idle);
        if (p == 0) {
            out.start = start;
            out.server = g->first;
        }
        last_start = start;
        if (unit_ps == 0) { /* every chunk lasts 0 ps: all go to this server, which stays free */
            account(r, now, start, 0, chunks - p);
            out.end = start > out.end ? start : out.end;
            break;
        }
        /* The whole run is taken in index order before anything else: the servers it gives a
         * chunk are free again only after start + a chunk > start, and every other run starts
         * later or at the same time with higher indices. */
        uint64_t avail = g->end - g->first;
        unsigned m = (unsigned)(avail < chunks - p ? avail : chunks - p);
        unsigned m1 = p >= extra ? 0 : (unsigned)(extra - p < m ? extra - p : m);
        simtime end = start + (m1 > 0 ? d_ceil : d_floor);
        out.end = end > out.end ? end : out.end;
        take_servers(r, idle, now, start, m, m1, d_ceil, d_floor);
        p += m;
    }
    note_queue(r, now, last_start);
    return out;
}

/* ---- statistics ----------------------------------------------------------------------------- */

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
    for (size_t i = 0; i < r->ring_len; i++)
        r->busy_total_ps += interval_busy(ring_at(r, i), t, SIMTIME_MAX);
    /* Requests already waiting at t are part of the window's queue. */
    r->queue_max = waiting_after(r, t);
}

simtime resource_busy_ps(resource *r, simtime t)
{
    assert(t >= r->last_arrival && t >= r->window_start);
    simtime busy = r->busy_done_ps;
    for (size_t i = 0; i < r->ring_len; i++)
        busy += interval_busy(ring_at(r, i), r->window_start, t);
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
    if (set_empty(&r->idle))
        return r->busy.g[r->busy.head].free_at;
    simtime m = SIMTIME_MAX;
    for (size_t i = r->idle.head; i < r->idle.tail; i++)
        if (r->idle.g[i].free_at < m)
            m = r->idle.g[i].free_at;
    return m;
}

size_t resource_queue_length(resource *r, simtime t)
{
    assert(t >= r->last_arrival);
    return waiting_after(r, t);
}
