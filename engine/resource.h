/* resource: k identical servers with one FIFO queue -- bus lanes, ADC pools, vector lanes.
 * Service durations are known when a request arrives, so a request is granted at once with its
 * start and end times: start = max(arrival, earliest time a server frees up), FIFO in arrival
 * order, ties between servers to the lowest index. Requests must arrive in non-decreasing time
 * (true inside a discrete-event run, where arrival = now). Statistics are exact, not sampled.
 */
#ifndef XBARSIM_ENGINE_RESOURCE_H
#define XBARSIM_ENGINE_RESOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "simtime.h"

typedef struct resource_grant {
    simtime start;   /* service begins, ps */
    simtime end;     /* service ends, ps */
    unsigned server; /* index of the server that serves it */
} resource_grant;

/* One outstanding stretch of service: `count` requests (chunks) that arrived together and run
 * over the same [start, end) on as many servers. */
typedef struct resource_interval {
    simtime start, end; /* ps */
    uint64_t count;     /* requests, count */
    uint64_t before;    /* requests pushed into the ring before this one, count */
} resource_interval;

/* Servers [first, end) that are all free from free_at on. */
typedef struct resource_group {
    simtime free_at;     /* ps; for an idle group the earliest of its servers' */
    unsigned first, end; /* server indices */
} resource_group;

/* A sorted array of disjoint groups in g[head, tail), cap allocated. */
typedef struct resource_group_set {
    resource_group *g;
    size_t head, tail, cap; /* indices and size, groups */
} resource_group_set;

#define RESOURCE_INLINE_SERVERS 2 /* servers up to which the runs live in the struct, count */
#define RESOURCE_INLINE_RING    4 /* their first ring, in the struct too, intervals */

typedef struct resource resource;
struct resource {
    char *name;       /* owned copy */
    unsigned servers; /* k, count */
    /* The servers' state, kept between requests as runs of consecutive servers free at the same
     * time, so that a request spread over many servers costs per run, not per server. */
    resource_group_set busy; /* free_at > last_arrival; by (free_at, first); equal-time neighbours
                                merged */
    resource_group_set idle; /* free_at <= last_arrival; by first; neighbours merged */
    /* Both sets' storage when there are at most RESOURCE_INLINE_SERVERS servers (a tile's
     * crossbar): no allocation, and no cache line away from the resource. */
    resource_group inline_runs[2 * (RESOURCE_INLINE_SERVERS + 1)];
    resource_interval inline_ring[RESOURCE_INLINE_RING];
    simtime last_arrival; /* latest arrival seen, ps (arrivals must not go back) */
    simtime window_start; /* start of the statistics window, ps */
    /* statistics over the window */
    uint64_t served;       /* requests granted, count */
    simtime busy_done_ps;  /* busy time of retired intervals inside the window, ps */
    simtime busy_total_ps; /* busy time of all granted service inside the window, including the
                              part still in the future, ps */
    simtime wait_total_ps; /* sum of (start - arrival) over requests arriving in the window, ps */
    simtime wait_max_ps;   /* largest (start - arrival), ps */
    size_t queue_max;      /* most requests waiting (granted, not started) at once, count */
    /* Outstanding intervals (not yet known to be over), FIFO ring in arrival order; their starts
     * are non-decreasing. An interval is retired from the front once it ends at or before an
     * arrival, so one ending early may sit behind one ending later until that one retires. */
    resource_interval *ring;
    size_t ring_head, ring_len, ring_cap; /* indices and sizes, intervals */
    uint64_t ring_pushed;                 /* requests ever pushed into the ring, count */
};

/* Embedded: init with a name (copied) and k >= 1 servers (asserted); fini frees (NULL: no-op).
 * The statistics window starts at 0. An initialised resource must not be moved (copied by value):
 * with few servers its runs live inside it. */
void resource_init(resource *r, const char *name, unsigned servers);
void resource_fini(resource *r);

/* Grant a request arriving at `now` for `duration` ps. Never fails. Asserted: now is not before
 * the last arrival nor the window start. Allocates only when the interval ring must grow. */
resource_grant resource_request(resource *r, simtime now, simtime duration);

/* Grant n requests arriving together at `now`, request i lasting durations[i] ps, into out[i]:
 * exactly what n calls of resource_request(r, now, durations[i]) in order would grant. */
void resource_request_many(resource *r, simtime now, size_t n, const simtime *durations,
                           resource_grant *out);

/* Spread `units` units of work of unit_ps ps each, arriving at `now`, over the servers: split
 * into c = min(units, servers) chunks as evenly as possible, the larger (ceil) chunks first, and
 * grant them exactly as c calls of resource_request in that order would (statistics included).
 * Returns start = the first chunk's start (the earliest), end = the latest chunk end, server =
 * the first chunk's server. units 0: nothing is requested, start = end = now, server 0. Costs in
 * proportion to the runs of servers free at equal times that it touches (with every server free,
 * a constant), never to the number of servers or units. */
resource_grant resource_request_spread(resource *r, simtime now, uint64_t units, simtime unit_ps);

/* Start a fresh statistics window at t (>= last arrival and >= the current window start):
 * served and wait counters are cleared (they count requests arriving from t on), service before t
 * no longer counts as busy, and queue_max restarts at the number of requests waiting at t. */
void resource_window_begin(resource *r, simtime t);

/* Busy time inside [window start, t], summed over servers, ps. Exact for any t >= last arrival
 * and >= window start (asserted), including service granted into the future. */
simtime resource_busy_ps(resource *r, simtime t);
/* busy / (k * (t - window start)); 0 for an empty window. */
double resource_utilisation(resource *r, simtime t);
/* Earliest time any server is free, ps (the start a request arriving now would get). */
simtime resource_next_free(const resource *r);
/* Requests waiting at time t: granted with arrival <= t < start, count. t >= last arrival
 * (asserted). */
size_t resource_queue_length(resource *r, simtime t);

#endif
