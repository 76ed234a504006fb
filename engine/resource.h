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

typedef struct resource_interval {
    simtime arrival, start, end; /* ps */
} resource_interval;

typedef struct resource resource;
struct resource {
    char *name;           /* owned copy */
    unsigned servers;     /* k, count */
    simtime *free_at;     /* per server: time it is next free, ps */
    unsigned *heap;       /* scratch: server indices for resource_request_many */
    simtime latest_free;  /* the largest free_at: every server is idle from then on, ps */
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
};

/* Embedded: init with a name (copied) and k >= 1 servers (asserted); fini frees (NULL: no-op).
 * The statistics window starts at 0. */
void resource_init(resource *r, const char *name, unsigned servers);
void resource_fini(resource *r);

/* Grant a request arriving at `now` for `duration` ps. Never fails. Asserted: now is not before
 * the last arrival nor the window start. Allocates only when the interval ring must grow. */
resource_grant resource_request(resource *r, simtime now, simtime duration);

/* Grant n requests arriving together at `now`, request i lasting durations[i] ps, into out[i]:
 * exactly what n calls of resource_request(r, now, durations[i]) in order would grant, in
 * O(servers + n log servers) instead of O(n x servers). */
void resource_request_many(resource *r, simtime now, size_t n, const simtime *durations,
                           resource_grant *out);

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
