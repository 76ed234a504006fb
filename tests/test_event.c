/* test_event: the event pool and the event ordering key.
 * The pool must reach a steady state (capacity stops growing once the number of outstanding events
 * is bounded), hand out distinct events, track in_use and its peak, and work the same on its
 * malloc path. The key packs (priority, sequence) so that comparing it orders by both.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "testutil.h"

/* Local PRNG (splitmix64): deterministic patterns of get and put. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Write every field, so ASan and valgrind see a use of the whole event. */
static void scribble(event *ev, uint64_t tag)
{
    ev->time = tag;
    ev->order = ~tag;
    ev->next = NULL;
    ev->target = (uint32_t)tag;
    ev->kind = (uint32_t)(tag >> 32);
    for (int w = 0; w < EVENT_PAYLOAD_WORDS; w++)
        ev->payload.u[w] = tag + (uint64_t)w;
}

static int cmp_ptr(const void *a, const void *b)
{
    const event *pa = *(event *const *)a, *pb = *(event *const *)b;
    uintptr_t x = (uintptr_t)pa, y = (uintptr_t)pb;
    return (x > y) - (x < y);
}

/* Random gets and puts keeping between 0 and `bound` events out; checks in_use and the tags. */
static void churn(event_pool *pool, event **out, size_t *n_out, size_t bound, long steps,
                  uint64_t *rng)
{
    for (long s = 0; s < steps; s++) {
        bool get = *n_out == 0 || (*n_out < bound && next_u64(rng) % 2);
        if (get) {
            event *ev = event_pool_get(pool);
            scribble(ev, (uint64_t)(uintptr_t)ev);
            out[(*n_out)++] = ev;
        } else {
            size_t i = (size_t)(next_u64(rng) % *n_out);
            event *ev = out[i];
            if (ev->time != (uint64_t)(uintptr_t)ev) /* nobody else wrote into it */
                ck_assert_uint_eq(ev->time, (uint64_t)(uintptr_t)ev);
            out[i] = out[--*n_out];
            event_pool_put(pool, ev);
        }
        if (pool->in_use != *n_out)
            ck_assert_uint_eq(pool->in_use, *n_out);
    }
}

START_TEST(test_event_pool_reuse)
{
    enum { CHUNK = 64, N = 1000 };
    event_pool pool;
    event_pool_init(&pool, CHUNK, false);
    ck_assert_uint_eq(pool.capacity, 0);
    ck_assert_uint_eq(pool.in_use, 0);

    /* Warm-up: N events out at once. */
    event **out = malloc(N * sizeof *out);
    ck_assert_ptr_nonnull(out);
    for (size_t i = 0; i < N; i++) {
        out[i] = event_pool_get(&pool);
        scribble(out[i], i);
    }
    ck_assert_uint_eq(pool.in_use, N);
    /* Whole chunks: ceil(1000 / 64) = 16 of them. */
    ck_assert_uint_eq(pool.capacity, 16 * CHUNK);
    /* All distinct. */
    qsort(out, N, sizeof *out, cmp_ptr);
    for (size_t i = 1; i < N; i++)
        ck_assert_ptr_ne(out[i - 1], out[i]);
    for (size_t i = 0; i < N; i++)
        event_pool_put(&pool, out[i]);
    ck_assert_uint_eq(pool.in_use, 0);
    size_t cap = pool.capacity;

    /* Steady state: never more than N out, 10^5 random gets and puts: no growth. */
    size_t n_out = 0;
    uint64_t rng = 1;
    churn(&pool, out, &n_out, N, 100000, &rng);
    ck_assert_uint_eq(pool.capacity, cap);
    ck_assert_uint_le(pool.peak_in_use, N);

    /* Get/put of one event in a loop reuses it. */
    while (n_out)
        event_pool_put(&pool, out[--n_out]);
    event *a = event_pool_get(&pool);
    event_pool_put(&pool, a);
    for (int i = 0; i < 1000; i++) {
        event *b = event_pool_get(&pool);
        ck_assert_ptr_eq(b, a);
        event_pool_put(&pool, b);
    }
    ck_assert_uint_eq(pool.capacity, cap);
    ck_assert_uint_eq(pool.in_use, 0);
    free(out);
    event_pool_fini(&pool);
    ck_assert_uint_eq(pool.capacity, 0);
}
END_TEST

START_TEST(test_event_pool_default_chunk)
{
    event_pool pool;
    event_pool_init(&pool, 0, false);
    ck_assert_uint_eq(pool.chunk_events, 4096);
    event *ev = event_pool_get(&pool);
    ck_assert_uint_eq(pool.capacity, 4096);
    event_pool_put(&pool, ev);
    event_pool_fini(&pool);
}
END_TEST

START_TEST(test_event_pool_peak)
{
    event_pool pool;
    event_pool_init(&pool, 8, false);
    event *ev[20];
    for (int i = 0; i < 10; i++)
        ev[i] = event_pool_get(&pool);
    ck_assert_uint_eq(pool.in_use, 10);
    ck_assert_uint_eq(pool.peak_in_use, 10);
    for (int i = 0; i < 5; i++)
        event_pool_put(&pool, ev[i]);
    ck_assert_uint_eq(pool.in_use, 5);
    ck_assert_uint_eq(pool.peak_in_use, 10); /* a high-water mark does not go down */
    for (int i = 0; i < 3; i++)
        ev[i] = event_pool_get(&pool);
    ck_assert_uint_eq(pool.in_use, 8);
    ck_assert_uint_eq(pool.peak_in_use, 10);
    for (int i = 10; i < 18; i++)
        ev[i] = event_pool_get(&pool);
    ck_assert_uint_eq(pool.in_use, 16);
    ck_assert_uint_eq(pool.peak_in_use, 16);
    for (int i = 0; i < 3; i++)
        event_pool_put(&pool, ev[i]);
    for (int i = 5; i < 18; i++)
        event_pool_put(&pool, ev[i]);
    ck_assert_uint_eq(pool.in_use, 0);
    ck_assert_uint_eq(pool.peak_in_use, 16);
    event_pool_fini(&pool);
}
END_TEST

/* The debug path: one malloc per event. No chunks, nothing left over: ASan / valgrind report any
 * leak or misuse here. */
START_TEST(test_event_pool_malloc)
{
    enum { N = 2000 };
    event_pool pool;
    event_pool_init(&pool, 0, true);
    ck_assert(pool.use_malloc);
    event **out = malloc(N * sizeof *out);
    ck_assert_ptr_nonnull(out);
    size_t n_out = 0;
    uint64_t rng = 2;
    churn(&pool, out, &n_out, N, 50000, &rng);
    ck_assert_uint_eq(pool.capacity, 0);
    ck_assert_ptr_null(pool.chunks);
    ck_assert_uint_le(pool.peak_in_use, N);
    ck_assert_uint_gt(pool.peak_in_use, 0);
    while (n_out)
        event_pool_put(&pool, out[--n_out]);
    ck_assert_uint_eq(pool.in_use, 0);
    free(out);
    event_pool_fini(&pool);
}
END_TEST

/* Events still out at fini simply become invalid; fini then init gives a fresh pool. */
START_TEST(test_event_pool_fini_reinit)
{
    event_pool pool;
    event_pool_init(&pool, 16, false);
    for (int i = 0; i < 40; i++)
        scribble(event_pool_get(&pool), (uint64_t)i);
    ck_assert_uint_eq(pool.capacity, 48);
    event_pool_fini(&pool);
    ck_assert_uint_eq(pool.capacity, 0);
    ck_assert_ptr_null(pool.chunks);
    event_pool_init(&pool, 16, false);
    ck_assert_uint_eq(pool.in_use, 0);
    ck_assert_uint_eq(pool.peak_in_use, 0);
    event_pool_put(&pool, event_pool_get(&pool));
    ck_assert_uint_eq(pool.capacity, 16);
    event_pool_fini(&pool);
}
END_TEST

START_TEST(test_event_order_key_round_trip)
{
    static const unsigned prios[] = {0, 1, 2, 127, 128, 254, 255};
    static const uint64_t seqs[] = {
        0, 1, 2, 255, 256, UINT64_C(1) << 32, EVENT_SEQ_MAX - 1, EVENT_SEQ_MAX};
    event ev;
    memset(&ev, 0, sizeof ev);
    for (size_t p = 0; p < sizeof prios / sizeof prios[0]; p++) {
        for (size_t s = 0; s < sizeof seqs / sizeof seqs[0]; s++) {
            ev.order = event_order_key(prios[p], seqs[s]);
            ck_assert_uint_eq(event_priority(&ev), prios[p]);
            ck_assert_uint_eq(event_seq(&ev), seqs[s]);
            /* The packing, worked out by hand: priority in the top 8 bits. */
            ck_assert_uint_eq(ev.order, (uint64_t)prios[p] * (UINT64_C(1) << 56) + seqs[s]);
        }
    }
    uint64_t rng = 3;
    for (int i = 0; i < 10000; i++) {
        unsigned prio = (unsigned)(next_u64(&rng) % 256);
        uint64_t seq = next_u64(&rng) >> 8;
        ev.order = event_order_key(prio, seq);
        if (event_priority(&ev) != prio)
            ck_assert_uint_eq(event_priority(&ev), prio);
        if (event_seq(&ev) != seq)
            ck_assert_uint_eq(event_seq(&ev), seq);
    }
    /* The key orders by priority first, then sequence. */
    ck_assert_uint_lt(event_order_key(0, EVENT_SEQ_MAX), event_order_key(1, 0));
    ck_assert_uint_lt(event_order_key(5, 6), event_order_key(5, 7));
    ck_assert_uint_lt(event_order_key(254, EVENT_SEQ_MAX), event_order_key(255, 0));
}
END_TEST

START_TEST(test_event_before_ties)
{
    event a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    /* Same time: priority decides, lower first. */
    a.time = b.time = 1000;
    a.order = event_order_key(1, 50);
    b.order = event_order_key(2, 10);
    ck_assert(event_before(&a, &b));
    ck_assert(!event_before(&b, &a));
    /* Same time and priority: sequence decides. */
    a.order = event_order_key(3, 11);
    b.order = event_order_key(3, 12);
    ck_assert(event_before(&a, &b));
    ck_assert(!event_before(&b, &a));
    /* Time dominates priority and sequence. */
    a.time = 999;
    a.order = event_order_key(255, EVENT_SEQ_MAX);
    b.order = event_order_key(0, 0);
    ck_assert(event_before(&a, &b));
    ck_assert(!event_before(&b, &a));
    /* Strict: an event is not before itself, nor before an equal key. */
    ck_assert(!event_before(&a, &a));
    b = a;
    ck_assert(!event_before(&a, &b));
    ck_assert(!event_before(&b, &a));
    /* Extremes of time. */
    a.time = 0;
    b.time = SIMTIME_MAX;
    a.order = event_order_key(255, EVENT_SEQ_MAX);
    b.order = 0;
    ck_assert(event_before(&a, &b));
    ck_assert(!event_before(&b, &a));
}
END_TEST

static Suite *event_suite(void)
{
    Suite *s = suite_create("event");
    TCase *pool = tcase_create("pool");
    tcase_set_timeout(pool, 60);
    tcase_add_test(pool, test_event_pool_reuse);
    tcase_add_test(pool, test_event_pool_default_chunk);
    tcase_add_test(pool, test_event_pool_peak);
    tcase_add_test(pool, test_event_pool_malloc);
    tcase_add_test(pool, test_event_pool_fini_reinit);
    suite_add_tcase(s, pool);
    TCase *order = tcase_create("order");
    tcase_add_test(order, test_event_order_key_round_trip);
    tcase_add_test(order, test_event_before_ties);
    suite_add_tcase(s, order);
    return s;
}

int main(void)
{
    return testutil_run(event_suite());
}
