/* test_resource: k-server FIFO resource against hand-worked schedules and a brute-force stepper.
 * Every expected number is derived in the comments (or by the independent tick-by-tick simulation
 * at the bottom), never copied from the code's output.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "resource.h"
#include "testutil.h"

/* k = 2, arrivals every 3 ps, service 5 ps: each server gets every other request, i.e. one every
 * 6 ps > 5 ps, so nobody waits. Arrivals 0,3,6,9,12,15 -> starts = arrivals, ends 5,8,11,14,17,20,
 * servers 0,1,0,1,0,1 (at 0 both free at 0: tie -> 0; at 3 server 1 free at 0 < 5, and so on).
 * Busy in [0,15]: [0,5)+[3,8)+[6,11)+[9,14) = 20, [12,17) -> 3, [15,20) -> 0: 23 of 2*15 = 30. */
START_TEST(test_resource_no_wait_when_capacity_suffices)
{
    resource r;
    resource_init(&r, "lanes", 2);
    for (unsigned i = 0; i < 6; i++) {
        simtime a = 3 * (simtime)i;
        resource_grant g = resource_request(&r, a, 5);
        ck_assert_uint_eq(g.start, a);
        ck_assert_uint_eq(g.end, a + 5);
        ck_assert_uint_eq(g.server, i % 2);
    }
    ck_assert_uint_eq(r.served, 6);
    ck_assert_uint_eq(r.wait_total_ps, 0);
    ck_assert_uint_eq(r.wait_max_ps, 0);
    ck_assert_uint_eq(r.queue_max, 0);
    ck_assert_uint_eq(resource_busy_ps(&r, 15), 23);
    ck_assert_double_eq_tol(resource_utilisation(&r, 15), 23.0 / 30.0, 1e-12);
    ck_assert_uint_eq(r.busy_total_ps, 30); /* 6 x 5, some of it still ahead */
    resource_fini(&r);
}
END_TEST

/* k = 2, arrivals every 3 ps (request i at 3i), service 7 ps: per server one request every 6 ps
 * but 7 ps of work, so the wait grows by 1 ps every two requests. By hand (free = free_at):
 *   i  arr  free before  server start end  wait  waiting just after arrival
 *   0   0   [0,0]        0      0     7    0    -
 *   1   3   [7,0]        1      3    10    0    -
 *   2   6   [7,10]       0      7    14    1    {2}                = 1
 *   3   9   [14,10]      1     10    17    1    {3}                = 1
 *   4  12   [14,17]      0     14    21    2    {4}                = 1
 *   5  15   [21,17]      1     17    24    2    {5}                = 1
 *   6  18   [21,24]      0     21    28    3    {6}                = 1
 *   7  21   [28,24]      1     24    31    3    {7} (6 starts 21)  = 1
 *   8  24   [28,31]      0     28    35    4    {8} (7 starts 24)  = 1
 *   9  27   [35,31]      1     31    38    4    {8,9}              = 2
 *  10  30   [35,38]      0     35    42    5    {9,10}             = 2
 *  11  33   [42,38]      1     38    45    5    {10,11}            = 2
 * Closed form: start(2m) = 7m, start(2m+1) = 3 + 7m, wait = m. Total wait 2*(0+1+..+5) = 30, max
 * 5, max queue 2. Busy in [0,33]: the 8 intervals ending by 31 give 8*7 = 56, [28,35) -> 5,
 * [31,38) -> 2, later ones 0: 63 of 2*33 = 66. At 45 all 12*7 = 84 of 90. */
START_TEST(test_resource_two_servers_growing_wait)
{
    static const simtime start[12] = {0, 3, 7, 10, 14, 17, 21, 24, 28, 31, 35, 38};
    resource r;
    resource_init(&r, "lanes", 2);
    for (unsigned i = 0; i < 12; i++) {
        resource_grant g = resource_request(&r, 3 * (simtime)i, 7);
        ck_assert_uint_eq(g.start, start[i]);
        ck_assert_uint_eq(g.end, start[i] + 7);
        ck_assert_uint_eq(g.server, i % 2);
    }
    ck_assert_uint_eq(r.served, 12);
    ck_assert_uint_eq(r.wait_total_ps, 30);
    ck_assert_uint_eq(r.wait_max_ps, 5);
    ck_assert_uint_eq(r.queue_max, 2);
    /* at 33: 10 (start 35) and 11 (start 38) wait; at 36 only 11; at 38 none */
    ck_assert_uint_eq(resource_queue_length(&r, 33), 2);
    ck_assert_uint_eq(resource_queue_length(&r, 36), 1);
    ck_assert_uint_eq(resource_queue_length(&r, 38), 0);
    ck_assert_uint_eq(resource_busy_ps(&r, 33), 63);
    ck_assert_double_eq_tol(resource_utilisation(&r, 33), 63.0 / 66.0, 1e-12);
    ck_assert_uint_eq(resource_busy_ps(&r, 45), 84);
    ck_assert_double_eq_tol(resource_utilisation(&r, 45), 84.0 / 90.0, 1e-12);
    ck_assert_uint_eq(resource_next_free(&r), 42); /* free_at = [42, 45] */
    resource_fini(&r);
}
END_TEST

/* k = 1, four requests of 10 ps all arriving at 0: starts 0,10,20,30, waits 0,10,20,30 (total
 * 60, max 30); after the fourth arrival requests 1,2,3 wait at once: max queue 3. The server is
 * busy throughout [0,40]. */
START_TEST(test_resource_single_server_burst)
{
    resource r;
    resource_init(&r, "adc", 1);
    for (unsigned i = 0; i < 4; i++) {
        resource_grant g = resource_request(&r, 0, 10);
        ck_assert_uint_eq(g.start, 10 * (simtime)i);
        ck_assert_uint_eq(g.end, 10 * (simtime)i + 10);
        ck_assert_uint_eq(g.server, 0);
    }
    ck_assert_uint_eq(r.served, 4);
    ck_assert_uint_eq(r.wait_total_ps, 60);
    ck_assert_uint_eq(r.wait_max_ps, 30);
    ck_assert_uint_eq(r.queue_max, 3);
    ck_assert_uint_eq(resource_queue_length(&r, 0), 3);
    ck_assert_uint_eq(resource_queue_length(&r, 10), 2); /* 1 starts at 10: no longer waiting */
    ck_assert_uint_eq(resource_queue_length(&r, 25), 1);
    ck_assert_uint_eq(resource_queue_length(&r, 30), 0);
    ck_assert_uint_eq(resource_busy_ps(&r, 25), 25);
    ck_assert_double_eq_tol(resource_utilisation(&r, 25), 1.0, 1e-12);
    ck_assert_uint_eq(resource_busy_ps(&r, 40), 40);
    ck_assert_uint_eq(resource_busy_ps(&r, 50), 40);
    ck_assert_double_eq_tol(resource_utilisation(&r, 50), 40.0 / 50.0, 1e-12);
    ck_assert_uint_eq(resource_next_free(&r), 40);
    resource_fini(&r);
}
END_TEST

/* Utilisation cut through an in-progress interval, then a window begun mid-run. k = 2:
 *   A: arr 0, 10 ps -> server 0, [0,10)   (tie at 0 -> server 0)
 *   B: arr 0,  4 ps -> server 1, [0,4)
 *   C: arr 6,  8 ps -> server 1 (free 4 < 10), [6,14). At 6 the front A has not ended, so B
 *      (ended at 4) stays queued behind it -- it must still count exactly once.
 * Busy in [0,8]: A 8 + B 4 + C 2 = 14 of 2*8 = 16 -> 0.875.
 * Window from 9: busy at 9 is 0. Then
 *   D: arr 12, 5 ps -> free [10,14] -> server 0, [12,17), wait 0
 *   E: arr 12, 3 ps -> free [17,14] -> server 1, [14,17), wait 2; E waits at 12: max queue 1.
 * Busy in [9,16]: A [9,10) 1 + C [9,14) 5 + D [12,16) 4 + E [14,16) 2 = 12 of 2*7 = 14.
 * Busy in [9,20]: 1 + 5 + 5 + 3 = 14 of 2*11 = 22. */
START_TEST(test_resource_utilisation_cut_and_window)
{
    resource r;
    resource_init(&r, "bus", 2);
    resource_grant a = resource_request(&r, 0, 10);
    resource_grant b = resource_request(&r, 0, 4);
    ck_assert_uint_eq(a.server, 0);
    ck_assert_uint_eq(b.server, 1);
    resource_grant c = resource_request(&r, 6, 8);
    ck_assert_uint_eq(c.server, 1);
    ck_assert_uint_eq(c.start, 6);
    ck_assert_uint_eq(c.end, 14);
    ck_assert_uint_eq(resource_busy_ps(&r, 6), 6 + 4 + 0);
    ck_assert_uint_eq(resource_busy_ps(&r, 8), 14);
    ck_assert_double_eq_tol(resource_utilisation(&r, 8), 0.875, 1e-12);
    ck_assert_uint_eq(r.served, 3);

    resource_window_begin(&r, 9);
    ck_assert_uint_eq(r.served, 0);
    ck_assert_uint_eq(r.wait_total_ps, 0);
    ck_assert_uint_eq(r.queue_max, 0);
    ck_assert_uint_eq(r.busy_total_ps, 1 + 5); /* what is left of A and C after 9 */
    ck_assert_uint_eq(resource_busy_ps(&r, 9), 0);
    ck_assert_double_eq_tol(resource_utilisation(&r, 9), 0.0, 1e-12);

    resource_grant d = resource_request(&r, 12, 5);
    resource_grant e = resource_request(&r, 12, 3);
    ck_assert_uint_eq(d.server, 0);
    ck_assert_uint_eq(d.start, 12);
    ck_assert_uint_eq(e.server, 1);
    ck_assert_uint_eq(e.start, 14);
    ck_assert_uint_eq(e.end, 17);
    ck_assert_uint_eq(r.served, 2);
    ck_assert_uint_eq(r.wait_total_ps, 2);
    ck_assert_uint_eq(r.wait_max_ps, 2);
    ck_assert_uint_eq(r.queue_max, 1);
    ck_assert_uint_eq(resource_busy_ps(&r, 16), 12);
    ck_assert_double_eq_tol(resource_utilisation(&r, 16), 12.0 / 14.0, 1e-12);
    ck_assert_uint_eq(resource_busy_ps(&r, 20), 14);
    ck_assert_double_eq_tol(resource_utilisation(&r, 20), 14.0 / 22.0, 1e-12);
    resource_fini(&r);
}
END_TEST

/* A window begun while requests wait. k = 1, three 10 ps requests at 0: [0,10) [10,20) [20,30).
 * Window from 5: requests 1 and 2 wait at 5, so the window's queue maximum starts at 2; served
 * and waits count only later arrivals. Busy in [5,25] = 20 of 20; in [5,30] = 25 of 25.
 * A request at 30 for 1 ps starts at once: served 1, wait 0. */
START_TEST(test_resource_window_with_waiting_requests)
{
    resource r;
    resource_init(&r, "adc", 1);
    for (unsigned i = 0; i < 3; i++)
        (void)resource_request(&r, 0, 10);
    resource_window_begin(&r, 5);
    ck_assert_uint_eq(r.queue_max, 2);
    ck_assert_uint_eq(r.served, 0);
    ck_assert_uint_eq(r.wait_max_ps, 0);
    ck_assert_uint_eq(resource_queue_length(&r, 5), 2);
    ck_assert_uint_eq(resource_busy_ps(&r, 5), 0);
    ck_assert_uint_eq(resource_busy_ps(&r, 25), 20);
    ck_assert_double_eq_tol(resource_utilisation(&r, 25), 1.0, 1e-12);
    ck_assert_uint_eq(resource_busy_ps(&r, 30), 25);
    resource_grant g = resource_request(&r, 30, 1);
    ck_assert_uint_eq(g.start, 30);
    ck_assert_uint_eq(r.served, 1);
    ck_assert_uint_eq(r.wait_total_ps, 0);
    ck_assert_uint_eq(r.queue_max, 2);
    ck_assert_uint_eq(resource_busy_ps(&r, 31), 26);
    resource_fini(&r);
}
END_TEST

/* Ties go to the lowest index; otherwise the smallest free_at wins. k = 3, all at 0:
 *   5 ps -> server 0 [0,5); 5 ps -> 1 [0,5); 5 ps -> 2 [0,5)   (free [5,5,5], next free 5)
 *   1 ps -> tie at 5 -> server 0, [5,6)                          (free [6,5,5])
 *   1 ps -> 5 on servers 1,2 -> server 1, [5,6)                  (free [6,6,5])
 *   1 ps -> server 2, [5,6)                                      (free [6,6,6])
 * Then at 20 (all idle since 6, tie) -> server 0. With k = 2 and server 0 busy to 3, a request
 * at 10 finds both idle and goes to the lowest index, server 0; one at 2 goes to server 1. */
START_TEST(test_resource_ties_lowest_index)
{
    resource r;
    resource_init(&r, "tiles", 3);
    ck_assert_uint_eq(resource_next_free(&r), 0);
    for (unsigned i = 0; i < 3; i++) {
        resource_grant g = resource_request(&r, 0, 5);
        ck_assert_uint_eq(g.server, i);
        ck_assert_uint_eq(g.start, 0);
    }
    ck_assert_uint_eq(resource_next_free(&r), 5);
    for (unsigned i = 0; i < 3; i++) {
        resource_grant g = resource_request(&r, 0, 1);
        ck_assert_uint_eq(g.server, i);
        ck_assert_uint_eq(g.start, 5);
        ck_assert_uint_eq(g.end, 6);
    }
    ck_assert_uint_eq(r.queue_max, 3);
    ck_assert_uint_eq(resource_next_free(&r), 6);
    ck_assert_uint_eq(resource_request(&r, 20, 1).server, 0);
    resource_fini(&r);

    resource_init(&r, "pair", 2);
    ck_assert_uint_eq(resource_request(&r, 0, 3).server, 0);
    ck_assert_uint_eq(resource_request(&r, 2, 1).server, 1);
    resource_grant g = resource_request(&r, 10, 1);
    ck_assert_uint_eq(g.server, 0);
    ck_assert_uint_eq(g.start, 10);
    resource_fini(&r);
}
END_TEST

/* Zero-length service: k = 1, at 0: 0 ps -> [0,0); 4 ps -> [0,4); 0 ps -> waits to 4, [4,4),
 * wait 4; it waits at 0 together with nobody else (the 4 ps one started): max queue 1. Busy in
 * [0,4] is 4. */
START_TEST(test_resource_zero_duration)
{
    resource r;
    resource_init(&r, "z", 1);
    resource_grant g = resource_request(&r, 0, 0);
    ck_assert_uint_eq(g.start, 0);
    ck_assert_uint_eq(g.end, 0);
    g = resource_request(&r, 0, 4);
    ck_assert_uint_eq(g.start, 0);
    g = resource_request(&r, 0, 0);
    ck_assert_uint_eq(g.start, 4);
    ck_assert_uint_eq(g.end, 4);
    ck_assert_uint_eq(r.wait_total_ps, 4);
    ck_assert_uint_eq(r.queue_max, 1);
    ck_assert_uint_eq(resource_busy_ps(&r, 4), 4);
    resource_fini(&r);
}
END_TEST

/* Ring growth: 1000 requests of 1 ps at 0 on one server. Request i starts at i, waits i: total
 * 0+1+..+999 = 999*1000/2 = 499500, max 999; 999 wait at once. Busy in [0,1000] = 1000; a
 * second burst of 1000 at 1000 repeats the numbers on top (total 999000, busy 2000 at 2000). */
START_TEST(test_resource_ring_growth)
{
    resource r;
    resource_init(&r, "deep", 1);
    for (simtime i = 0; i < 1000; i++)
        ck_assert_uint_eq(resource_request(&r, 0, 1).start, i);
    ck_assert_uint_eq(r.wait_total_ps, 499500);
    ck_assert_uint_eq(r.wait_max_ps, 999);
    ck_assert_uint_eq(r.queue_max, 999);
    ck_assert_uint_eq(resource_queue_length(&r, 500), 499); /* 501..999 */
    ck_assert_uint_eq(resource_busy_ps(&r, 1000), 1000);
    size_t cap = r.ring_cap;
    for (simtime i = 0; i < 1000; i++)
        ck_assert_uint_eq(resource_request(&r, 1000, 1).start, 1000 + i);
    ck_assert_uint_eq(r.ring_cap, cap); /* the first burst retired: no growth needed */
    ck_assert_uint_eq(r.wait_total_ps, 999000);
    ck_assert_uint_eq(resource_busy_ps(&r, 2000), 2000);
    resource_fini(&r);
}
END_TEST

/* ---- brute force: a tick-by-tick simulation of k servers and an explicit FIFO queue ---- */

static uint64_t prng_state;

static uint64_t prng_next(void) /* xorshift64* (Vigna 2016) */
{
    prng_state ^= prng_state >> 12;
    prng_state ^= prng_state << 25;
    prng_state ^= prng_state >> 27;
    return prng_state * UINT64_C(2685821657736338717);
}

static unsigned prng_below(unsigned n)
{
    return (unsigned)(prng_next() % n);
}

typedef struct brute {
    size_t n;          /* requests, count */
    simtime *arrival;  /* per request, ps */
    simtime *duration; /* per request, ps */
    simtime *start;    /* per request, computed, ps */
    size_t *qlen;      /* per tick t: requests waiting at t, count */
    simtime *cum_busy; /* per tick t: server-ps busy in [0,t) */
    simtime *min_free; /* per tick t: earliest start a request arriving at t would get, ps */
    simtime horizon;   /* every service over by then, ps */
} brute;

/* Step t = 0,1,2,...: arrivals at t join the queue in order; then, while the queue is not empty
 * and some server is idle at t (busy_until <= t), the lowest idle server takes the head. A server
 * is busy over [t,t+1) when busy_until > t. */
static void brute_run(brute *b, unsigned k)
{
    simtime horizon = b->arrival[b->n - 1] + 1;
    for (size_t i = 0; i < b->n; i++)
        horizon += b->duration[i]; /* a loose bound: serial service after the last arrival */
    b->horizon = horizon;
    b->qlen = calloc(horizon + 1, sizeof *b->qlen);
    b->cum_busy = calloc(horizon + 2, sizeof *b->cum_busy);
    b->min_free = calloc(horizon + 1, sizeof *b->min_free);
    size_t *queue = calloc(b->n, sizeof *queue);
    simtime *busy_until = calloc(k, sizeof *busy_until);
    ck_assert_ptr_nonnull(b->qlen);
    ck_assert_ptr_nonnull(b->cum_busy);
    ck_assert_ptr_nonnull(b->min_free);
    ck_assert_ptr_nonnull(queue);
    ck_assert_ptr_nonnull(busy_until);
    size_t qhead = 0, qtail = 0, next = 0;
    for (simtime t = 0; t <= horizon; t++) {
        while (next < b->n && b->arrival[next] == t)
            queue[qtail++] = next++;
        for (unsigned s = 0; s < k && qhead < qtail; s++) {
            while (qhead < qtail && busy_until[s] <= t) { /* a 0 ps job leaves s idle */
                size_t j = queue[qhead++];
                b->start[j] = t;
                busy_until[s] = t + b->duration[j];
            }
        }
        b->qlen[t] = qtail - qhead;
        unsigned busy = 0;
        simtime mf = SIMTIME_MAX;
        for (unsigned s = 0; s < k; s++) {
            busy += busy_until[s] > t ? 1u : 0u;
            if (busy_until[s] < mf)
                mf = busy_until[s];
        }
        b->min_free[t] = mf > t ? mf : t;
        b->cum_busy[t + 1] = b->cum_busy[t] + busy;
    }
    ck_assert_uint_eq(next, b->n);
    ck_assert_uint_eq(qhead, b->n);
    free(queue);
    free(busy_until);
}

static void check_random_run(unsigned k, unsigned gap_max, uint64_t seed)
{
    enum { N = 3000 };
    brute b = {.n = N};
    b.arrival = calloc(N, sizeof *b.arrival);
    b.duration = calloc(N, sizeof *b.duration);
    b.start = calloc(N, sizeof *b.start);
    ck_assert_ptr_nonnull(b.arrival);
    ck_assert_ptr_nonnull(b.duration);
    ck_assert_ptr_nonnull(b.start);
    prng_state = seed;
    simtime t = 0;
    for (size_t i = 0; i < N; i++) {
        if (prng_below(8) != 0) /* else a burst: same arrival time */
            t += prng_below(gap_max + 1);
        b.arrival[i] = t;
        /* mostly 0..12 ps, sometimes a long one that blocks the ring's front */
        b.duration[i] = prng_below(25) == 0 ? 40 + prng_below(40) : prng_below(13);
    }
    brute_run(&b, k);

    resource r;
    resource_init(&r, "random", k);
    simtime *server_end = calloc(k, sizeof *server_end);
    ck_assert_ptr_nonnull(server_end);
    size_t mid = N / 2;
    bool windowed = false;
    simtime ws = 0;      /* window start, ps */
    simtime scanned = 0; /* ticks before this are folded into qmax, ps */
    simtime wait_total = 0, wait_max = 0;
    size_t served = 0, qmax = 0;
    for (size_t i = 0; i < N; i++) {
        simtime a = b.arrival[i];
        resource_grant g = resource_request(&r, a, b.duration[i]);
        ck_assert_uint_eq(g.start, b.start[i]);
        ck_assert_uint_eq(g.end, b.start[i] + b.duration[i]);
        ck_assert_uint_lt(g.server, k);
        ck_assert_uint_ge(g.start, server_end[g.server]); /* a server serves one at a time */
        server_end[g.server] = g.end;
        simtime w = b.start[i] - a;
        wait_total += w;
        wait_max = w > wait_max ? w : wait_max;
        served++;

        bool last_at_a = i + 1 == N || b.arrival[i + 1] > a;
        if (!last_at_a)
            continue;
        /* All arrivals at a are in: the queue at a and the running maximum are final. */
        for (; scanned <= a; scanned++)
            qmax = b.qlen[scanned] > qmax ? b.qlen[scanned] : qmax;
        /* With nobody waiting, the start a further arrival at a would get depends only on the
         * services in progress (each busy server holds one), not on which server holds which. */
        if (b.qlen[a] == 0) {
            simtime nf = resource_next_free(&r);
            ck_assert_uint_eq(nf > a ? nf : a, b.min_free[a]);
        }
        ck_assert_uint_eq(r.served, served);
        ck_assert_uint_eq(r.wait_total_ps, wait_total);
        ck_assert_uint_eq(r.wait_max_ps, wait_max);
        ck_assert_uint_eq(r.queue_max, qmax);
        /* A query at a random time before the next arrival (at whose tick the brute force
         * would already hold it). */
        simtime until = i + 1 == N ? b.horizon + 1 : b.arrival[i + 1];
        simtime q = a + prng_below((unsigned)(until - a));
        ck_assert_uint_eq(resource_queue_length(&r, q), b.qlen[q]);
        ck_assert_uint_eq(resource_busy_ps(&r, a), b.cum_busy[a] - b.cum_busy[ws]);
        ck_assert_uint_eq(resource_busy_ps(&r, q), b.cum_busy[q] - b.cum_busy[ws]);
        if (q > ws)
            ck_assert_double_eq_tol(
                resource_utilisation(&r, q),
                (double)(b.cum_busy[q] - b.cum_busy[ws]) / ((double)k * (double)(q - ws)), 1e-12);

        if (i >= mid && !windowed) {
            /* Begin a window after this arrival, before the next; waiting ones carry over. */
            windowed = true;
            ws = q;
            resource_window_begin(&r, ws);
            served = 0;
            wait_total = wait_max = 0;
            qmax = b.qlen[ws];
            scanned = ws + 1;
            ck_assert_uint_eq(r.queue_max, qmax);
            ck_assert_uint_eq(resource_busy_ps(&r, ws), 0);
        }
    }
    ck_assert(windowed);
    /* After the last arrival the queue only drains (checked here), so the maximum stays. */
    for (simtime u = scanned; u <= b.horizon; u++)
        ck_assert_uint_le(b.qlen[u], b.qlen[u - 1]);
    ck_assert_uint_eq(r.queue_max, qmax);
    ck_assert_uint_eq(resource_busy_ps(&r, b.horizon), b.cum_busy[b.horizon] - b.cum_busy[ws]);
    ck_assert_double_eq_tol(resource_utilisation(&r, b.horizon),
                            (double)(b.cum_busy[b.horizon] - b.cum_busy[ws]) /
                                ((double)k * (double)(b.horizon - ws)),
                            1e-12);
    resource_fini(&r);
    free(server_end);
    free(b.arrival);
    free(b.duration);
    free(b.start);
    free(b.qlen);
    free(b.cum_busy);
    free(b.min_free);
}

/* Loads from light to overloaded: mean service 24/25 * 6 + 1/25 * 59.5 = 8.14 ps, mean gap
 * 7/8 * gap_max / 2, so offered load 8.14 / (k * 7/16 * gap_max) runs from about 0.47 to 1.24. */
START_TEST(test_resource_random_vs_brute_force)
{
    static const struct {
        unsigned k, gap_max;
    } cases[] = {{1, 40}, {1, 24}, {1, 16}, {2, 20}, {2, 10},
                 {3, 12}, {3, 6},  {4, 8},  {5, 3},  {8, 4}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            check_random_run(cases[c].k, cases[c].gap_max, seed * UINT64_C(0x9e3779b97f4a7c15));
}
END_TEST

/* A batch granted at one time equals the same requests made one by one, grant for grant and in
 * every statistic, whatever the servers' state: random arrival times, batch sizes (beyond the
 * server count too) and durations (zeros included) on 1..9 servers. */
START_TEST(test_resource_many_equals_sequential)
{
    uint64_t x = 88172645463325252ull; /* xorshift64 */
    for (unsigned k = 1; k <= 9; k++) {
        resource a, b;
        resource_init(&a, "batch", k);
        resource_init(&b, "one by one", k);
        simtime now = 0;
        for (int round = 0; round < 400; round++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            now += x % 7;
            size_t n = (size_t)(x >> 8) % (2 * k + 2);
            simtime dur[32];
            resource_grant ga[32], gb;
            for (size_t i = 0; i < n; i++)
                dur[i] = (x >> (12 + i)) % 9;
            resource_request_many(&a, now, n, dur, ga);
            for (size_t i = 0; i < n; i++) {
                gb = resource_request(&b, now, dur[i]);
                ck_assert_uint_eq(ga[i].server, gb.server);
                ck_assert_uint_eq(ga[i].start, gb.start);
                ck_assert_uint_eq(ga[i].end, gb.end);
            }
            ck_assert_uint_eq(a.served, b.served);
            ck_assert_uint_eq(a.wait_total_ps, b.wait_total_ps);
            ck_assert_uint_eq(a.wait_max_ps, b.wait_max_ps);
            ck_assert_uint_eq(a.queue_max, b.queue_max);
            ck_assert_uint_eq(resource_busy_ps(&a, now), resource_busy_ps(&b, now));
        }
        resource_fini(&a);
        resource_fini(&b);
    }
}
END_TEST

/* A spread equals its chunks requested one by one (ceil chunks first), grant for grant and in
 * every statistic: random arrivals, unit counts below, at and far above the server count, and
 * unit times (0 included), on 1..9 servers and on the 64 and 256 of wide resources, where many
 * copies arrive together as on a shared vector module. */
START_TEST(test_resource_spread_equals_one_by_one)
{
    static const unsigned ks[] = {1, 2, 3, 4, 5, 7, 8, 9, 64, 256};
    uint64_t x = 0x2545f4914f6cdd1dull; /* xorshift64 */
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
        unsigned k = ks[ki];
        resource a, b;
        resource_init(&a, "spread", k);
        resource_init(&b, "one by one", k);
        simtime now = 0;
        int rounds = k >= 64 ? 150 : 600; /* fewer for the wide ones: they cost k x more */
        for (int round = 0; round < rounds; round++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (x % 3 != 0) /* else another copy at the same time */
                now += (x >> 4) % 40;
            uint64_t units = (x >> 10) % 4 == 0 ? (x >> 12) % (k + 1) : (x >> 12) % (8 * k + 3);
            simtime unit = (x >> 30) % 11 == 0 ? 0 : 1 + (x >> 34) % 5;
            resource_grant ga = resource_request_spread(&a, now, units, unit);
            /* The same by hand: min(units, k) chunks, the first units % chunks one unit longer. */
            resource_grant want = {.start = now, .end = now, .server = 0};
            uint64_t chunks = units < k ? units : k;
            for (uint64_t c = 0; c < chunks; c++) {
                uint64_t n = units / chunks + (c < units % chunks);
                resource_grant gb = resource_request(&b, now, n * unit);
                if (c == 0) {
                    want = gb;
                } else {
                    ck_assert_uint_ge(gb.start, want.start);
                    want.end = gb.end > want.end ? gb.end : want.end;
                }
            }
            ck_assert_uint_eq(ga.start, want.start);
            ck_assert_uint_eq(ga.end, want.end);
            ck_assert_uint_eq(ga.server, want.server);
            ck_assert_uint_eq(a.served, b.served);
            ck_assert_uint_eq(a.wait_total_ps, b.wait_total_ps);
            ck_assert_uint_eq(a.wait_max_ps, b.wait_max_ps);
            ck_assert_uint_eq(a.queue_max, b.queue_max);
            ck_assert_uint_eq(a.busy_total_ps, b.busy_total_ps);
            ck_assert_uint_eq(resource_busy_ps(&a, now), resource_busy_ps(&b, now));
            ck_assert_uint_eq(resource_queue_length(&a, now + 7),
                              resource_queue_length(&b, now + 7));
            ck_assert_uint_eq(resource_next_free(&a), resource_next_free(&b));
        }
        resource_fini(&a);
        resource_fini(&b);
    }
}
END_TEST

/* Many copies spreading equal work over 64 servers, faster than it is served: the servers stay in
 * a few runs of equal free time, so a request's cost does not grow with the server count. By
 * hand: 200 units of 3 ps every 20 ps over 64 lanes -> chunks of 4 (8 of them) and 3 (56): a
 * request holds the lanes 9 or 12 ps, one arrives every 20 ps, so every request starts at once:
 * start = now, end = now + 12; the runs are the ceil and floor halves at most, plus idle ones. */
START_TEST(test_resource_spread_stays_in_runs)
{
    resource r;
    resource_init(&r, "vector lanes", 64);
    for (simtime i = 0; i < 1000; i++) {
        simtime now = 20 * i;
        resource_grant g = resource_request_spread(&r, now, 200, 3);
        ck_assert_uint_eq(g.start, now);
        ck_assert_uint_eq(g.end, now + 12);
        ck_assert_uint_eq(g.server, 0);
        ck_assert_uint_le((r.busy.tail - r.busy.head) + (r.idle.tail - r.idle.head), 3);
    }
    ck_assert_uint_eq(r.served, 64 * 1000);
    ck_assert_uint_eq(r.wait_total_ps, 0);
    ck_assert_uint_eq(r.busy_total_ps, 600 * 1000); /* 200 units x 3 ps, each request */
    /* Now 64 copies arrive at once with 64 units each: one unit per lane each, served back to back
     * on the 64 lanes: request j starts at t + 3j, the last ends at t + 192. */
    simtime t = 20 * 1000;
    for (simtime j = 0; j < 64; j++) {
        resource_grant g = resource_request_spread(&r, t, 64, 3);
        ck_assert_uint_eq(g.start, t + 3 * j);
        ck_assert_uint_eq(g.end, t + 3 * j + 3);
        ck_assert_uint_le((r.busy.tail - r.busy.head) + (r.idle.tail - r.idle.head), 2);
    }
    ck_assert_uint_eq(r.queue_max, 63 * 64);
    resource_fini(&r);
}
END_TEST

static Suite *resource_suite(void)
{
    Suite *s = suite_create("resource");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_resource_no_wait_when_capacity_suffices);
    tcase_add_test(tc, test_resource_two_servers_growing_wait);
    tcase_add_test(tc, test_resource_single_server_burst);
    tcase_add_test(tc, test_resource_utilisation_cut_and_window);
    tcase_add_test(tc, test_resource_window_with_waiting_requests);
    tcase_add_test(tc, test_resource_ties_lowest_index);
    tcase_add_test(tc, test_resource_zero_duration);
    tcase_add_test(tc, test_resource_ring_growth);
    tcase_add_test(tc, test_resource_random_vs_brute_force);
    tcase_add_test(tc, test_resource_many_equals_sequential);
    tcase_add_test(tc, test_resource_spread_equals_one_by_one);
    tcase_add_test(tc, test_resource_spread_stays_in_runs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(resource_suite());
}
