/* test_evq: every event-queue kind pops in exactly the (time, priority, sequence) order.
 * Each test runs once per kind of EVQ_KIND_MAP. Expected orders come from construction (ties) or
 * from a reference binary heap written here that compares (time, priority, sequence) read from
 * the payload, so it shares no code with engine/evq_*.c nor the packing of event->order.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "evq.h"
#include "testutil.h"

#ifdef XBARSIM_EVENT_MALLOC
#define POOL_MALLOC true
#else
#define POOL_MALLOC false
#endif

#define RANDOM_OPS 1100000 /* push + pop operations per kind in the randomised test */

/* Check logs every passing ck_assert to a file; in hot loops assert only when the test fails,
 * still through ck_assert_*_eq so the message shows both values. Arguments are evaluated twice. */
#define HOT_ASSERT_UINT_EQ(x, y)                                                                   \
    do {                                                                                           \
        if ((x) != (y))                                                                            \
            ck_assert_uint_eq(x, y);                                                               \
    } while (0)
#define HOT_ASSERT_PTR_EQ(x, y)                                                                    \
    do {                                                                                           \
        if ((x) != (y))                                                                            \
            ck_assert_ptr_eq(x, y);                                                                \
    } while (0)

/* ---- deterministic local PRNG (splitmix64) ---------------------------------------------- */

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. The modulo bias (< n / 2^64) is irrelevant here. */
static uint64_t below(uint64_t *s, uint64_t n)
{
    return next_u64(s) % n;
}

/* Uniform in (0, 1]. */
static double unit(uint64_t *s)
{
    return (double)((next_u64(s) >> 11) + 1) * 0x1.0p-53;
}

/* ---- events carrying their own key -------------------------------------------------------- */

/* The payload keeps (priority, sequence) unpacked, for the reference comparison. */
static event *make_event(event_pool *pool, simtime t, unsigned prio, uint64_t seq)
{
    event *ev = event_pool_get(pool);
    memset(ev, 0, sizeof *ev);
    ev->time = t;
    ev->order = event_order_key(prio, seq);
    ev->payload.u[0] = prio;
    ev->payload.u[1] = seq;
    return ev;
}

static bool ref_before(const event *x, const event *y)
{
    if (x->time != y->time)
        return x->time < y->time;
    if (x->payload.u[0] != y->payload.u[0])
        return x->payload.u[0] < y->payload.u[0];
    return x->payload.u[1] < y->payload.u[1];
}

/* ---- reference: a plain binary min-heap of event pointers --------------------------------- */

typedef struct ref_heap {
    event **a;
    size_t n, cap;
} ref_heap;

static void ref_push(ref_heap *h, event *ev)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 1024;
        h->a = realloc(h->a, h->cap * sizeof *h->a);
        ck_assert_ptr_nonnull(h->a);
    }
    size_t i = h->n++;
    while (i > 0 && ref_before(ev, h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = ev;
}

static event *ref_top(const ref_heap *h)
{
    return h->n ? h->a[0] : NULL;
}

static event *ref_pop(ref_heap *h)
{
    if (h->n == 0)
        return NULL;
    event *top = h->a[0];
    event *last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && ref_before(h->a[c + 1], h->a[c]))
            c++;
        if (!ref_before(h->a[c], last))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n)
        h->a[i] = last;
    return top;
}

/* Pop one event from both and require the same pointer (and the same size before and after). */
static void pop_both(evq *q, ref_heap *ref, event_pool *pool, bool peek_first)
{
    HOT_ASSERT_UINT_EQ(evq_size(q), ref->n);
    if (peek_first) {
        event *head = evq_peek(q);
        HOT_ASSERT_PTR_EQ(head, ref_top(ref));
    }
    event *want = ref_pop(ref);
    event *got = evq_pop(q);
    if (got != want && got && want)
        ck_abort_msg("popped (t=%llu, prio=%llu, seq=%llu), expected (t=%llu, prio=%llu, "
                     "seq=%llu)",
                     (unsigned long long)got->time, (unsigned long long)got->payload.u[0],
                     (unsigned long long)got->payload.u[1], (unsigned long long)want->time,
                     (unsigned long long)want->payload.u[0],
                     (unsigned long long)want->payload.u[1]);
    HOT_ASSERT_PTR_EQ(got, want);
    HOT_ASSERT_UINT_EQ(evq_size(q), ref->n);
    if (got)
        event_pool_put(pool, got);
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(test_evq_empty)
{
    evq_kind kind = (evq_kind)_i;
    event_pool pool;
    event_pool_init(&pool, 0, POOL_MALLOC);
    evq *q = evq_create(kind);
    ck_assert_uint_eq(evq_size(q), 0);
    ck_assert_ptr_null(evq_peek(q));
    ck_assert_ptr_null(evq_pop(q));
    ck_assert_uint_eq(evq_size(q), 0);

    event *a = make_event(&pool, 500, 0, 0);
    evq_push(q, a);
    ck_assert_uint_eq(evq_size(q), 1);
    ck_assert_ptr_eq(evq_peek(q), a);
    ck_assert_ptr_eq(evq_pop(q), a);
    ck_assert_ptr_null(evq_peek(q));
    ck_assert_ptr_null(evq_pop(q));

    /* Refill after drain, several rounds, with times below and above the ones already seen and
     * enough events to build a ladder's rungs. */
    uint64_t seq = 1;
    for (int round = 0; round < 4; round++) {
        size_t n = round == 0 ? 3 : (size_t)1000 << round;
        event **ev = malloc(n * sizeof *ev);
        ck_assert_ptr_nonnull(ev);
        simtime base = round % 2 ? 10 : 1000000; /* alternately below and above the last run */
        for (size_t i = 0; i < n; i++)
            ev[i] = make_event(&pool, base + 7 * (simtime)i, 1, seq++);
        for (size_t i = n; i-- > 0;)
            evq_push(q, ev[i]); /* latest first */
        ck_assert_uint_eq(evq_size(q), n);
        for (size_t i = 0; i < n; i++) {
            event *head = evq_peek(q);
            HOT_ASSERT_PTR_EQ(head, ev[i]);
            event *got = evq_pop(q);
            HOT_ASSERT_PTR_EQ(got, ev[i]);
            event_pool_put(&pool, ev[i]);
        }
        ck_assert_uint_eq(evq_size(q), 0);
        ck_assert_ptr_null(evq_pop(q));
        ck_assert_ptr_null(evq_peek(q));
        free(ev);
    }
    event_pool_put(&pool, a);
    evq_destroy(q);
    evq_destroy(NULL);
    ck_assert_uint_eq(pool.in_use, 0);
    event_pool_fini(&pool);
}
END_TEST

/* Equal times pop by priority, then by sequence id: n events at one time (well past any bucket
 * threshold), pushed in a scrambled order, a few earlier and later ones around them. */
START_TEST(test_evq_ties)
{
    evq_kind kind = (evq_kind)_i;
    enum { N = 3000, PRIOS = 4 };
    event_pool pool;
    event_pool_init(&pool, 0, POOL_MALLOC);
    evq *q = evq_create(kind);
    uint64_t rng = 42;

    /* expect[] is in the required order by construction: time 99 first, then time 100 by
     * (priority, sequence), then time 101. Sequence ids are scattered so they are not the index. */
    size_t total = N + 20;
    event **expect = malloc(total * sizeof *expect);
    event **perm = malloc(total * sizeof *perm);
    ck_assert_ptr_nonnull(expect);
    ck_assert_ptr_nonnull(perm);
    size_t k = 0;
    for (unsigned i = 0; i < 10; i++)
        expect[k++] = make_event(&pool, 99, 246 + i, 5000 - i);
    for (unsigned p = 0; p < PRIOS; p++)
        for (uint64_t s = 0; s < N / PRIOS; s++)
            expect[k++] = make_event(&pool, 100, p, 3 * s + (p == 2 ? EVENT_SEQ_MAX / 2 : 0));
    for (unsigned i = 0; i < 10; i++)
        expect[k++] = make_event(&pool, 101, 0, i);
    ck_assert_uint_eq(k, total);

    memcpy(perm, expect, total * sizeof *perm);
    for (size_t i = total - 1; i > 0; i--) {
        size_t j = (size_t)below(&rng, i + 1);
        event *t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < total; i++)
        evq_push(q, perm[i]);
    ck_assert_uint_eq(evq_size(q), total);
    for (size_t i = 0; i < total; i++) {
        event *ev = evq_pop(q);
        if (ev != expect[i]) {
            ck_assert_ptr_nonnull(ev);
            ck_assert_uint_eq(ev->time, expect[i]->time);
            ck_assert_uint_eq(ev->order, expect[i]->order);
            ck_assert_ptr_eq(ev, expect[i]);
        }
        event_pool_put(&pool, ev);
    }
    ck_assert_ptr_null(evq_pop(q));

    /* In a running simulation: pop part of a tie group, then push more events at exactly the time
     * just popped. A more urgent priority must come next; an equal one goes after its peers. */
    uint64_t seq = 0;
    event *grp[200];
    for (unsigned i = 0; i < 200; i++) {
        grp[i] = make_event(&pool, 7000, 5, seq++);
        evq_push(q, grp[i]);
    }
    event *later = make_event(&pool, 7001, 0, seq++);
    evq_push(q, later);
    for (unsigned i = 0; i < 100; i++) {
        ck_assert_ptr_eq(evq_pop(q), grp[i]);
        event_pool_put(&pool, grp[i]);
    }
    event *urgent = make_event(&pool, 7000, 1, seq++);
    event *peer = make_event(&pool, 7000, 5, seq++);
    evq_push(q, peer);
    evq_push(q, urgent);
    ck_assert_ptr_eq(evq_peek(q), urgent);
    ck_assert_ptr_eq(evq_pop(q), urgent);
    for (unsigned i = 100; i < 200; i++) {
        ck_assert_ptr_eq(evq_pop(q), grp[i]);
        event_pool_put(&pool, grp[i]);
    }
    ck_assert_ptr_eq(evq_pop(q), peer);
    ck_assert_ptr_eq(evq_pop(q), later);
    ck_assert_ptr_null(evq_pop(q));
    event_pool_put(&pool, urgent);
    event_pool_put(&pool, peer);
    event_pool_put(&pool, later);

    ck_assert_uint_eq(pool.in_use, 0);
    free(expect);
    free(perm);
    evq_destroy(q);
    event_pool_fini(&pool);
}
END_TEST

/* Time distributions of the randomised test; every pushed time is >= now, the last popped time. */
enum { D_EXP, D_EXP_WIDE, D_TIES, D_NOW, D_UNIFORM, D_HUGE, D_LOG, D_MIX, D_COUNT };

static simtime draw_time(uint64_t *s, int d, simtime now)
{
    if (d == D_MIX)
        d = (int)below(s, D_MIX);
    simtime inc;
    switch (d) {
    case D_EXP: /* exponential, mean 1 ns */
        inc = (simtime)(-1000.0 * log(unit(s)));
        break;
    case D_EXP_WIDE: /* exponential, mean 1 ms */
        inc = (simtime)(-1e9 * log(unit(s)));
        break;
    case D_TIES: /* four times only: many exact ties, a quarter at now itself */
        inc = 5 * below(s, 4);
        break;
    case D_NOW:
        inc = 0;
        break;
    case D_UNIFORM: /* uniform over 1e15 ps */
        inc = below(s, UINT64_C(1000000000000001));
        break;
    case D_HUGE: /* uniform over 1e18 ps, saturating at SIMTIME_MAX */
        inc = below(s, UINT64_C(1000000000000000000));
        break;
    default: /* D_LOG: log-uniform up to 2^40 ps: clustered at every scale */
        inc = next_u64(s) >> (24 + below(s, 40));
        break;
    }
    return inc > SIMTIME_MAX - now ? SIMTIME_MAX : now + inc;
}

static unsigned draw_prio(uint64_t *s)
{
    return below(s, 10) ? (unsigned)below(s, 4) : (unsigned)below(s, 256);
}

/* Over 10^6 mixed operations against the reference heap: segments each pick a time
 * distribution and a target size, then push and pop around it (mostly holds: pop, then push a
 * later event); some segments end by draining the queue, after which time may restart at 0. */
START_TEST(test_evq_random_vs_reference)
{
    static const size_t targets[] = {1, 10, 60, 500, 5000, 50000, 100000};
    evq_kind kind = (evq_kind)_i;
    event_pool pool;
    event_pool_init(&pool, 0, POOL_MALLOC);
    evq *q = evq_create(kind);
    ref_heap ref = {0};
    uint64_t rng = 0x5EED0000 + 17;
    uint64_t seq = 0;
    simtime now = 0;
    long ops = 0;
    while (ops < RANDOM_OPS) {
        int dist = (int)below(&rng, D_COUNT);
        size_t target = targets[below(&rng, sizeof targets / sizeof targets[0])];
        long len = 2000 + (long)below(&rng, 60000) + 3 * (long)target; /* reach the target */
        for (long j = 0; j < len; j++) {
            size_t n = ref.n;
            uint64_t r = below(&rng, 100);
            if (n == 0 || (n < target && r < 70)) {
                event *ev = make_event(&pool, draw_time(&rng, dist, now), draw_prio(&rng), seq++);
                evq_push(q, ev);
                ref_push(&ref, ev);
                ops++;
            } else if (n > target && r < 70) {
                event *want = ref_top(&ref);
                now = want->time;
                pop_both(q, &ref, &pool, r & 1);
                ops++;
            } else { /* hold */
                event *want = ref_top(&ref);
                now = want->time;
                pop_both(q, &ref, &pool, r & 1);
                event *ev = make_event(&pool, draw_time(&rng, dist, now), draw_prio(&rng), seq++);
                evq_push(q, ev);
                ref_push(&ref, ev);
                ops += 2;
            }
            HOT_ASSERT_UINT_EQ(evq_size(q), ref.n);
        }
        if (below(&rng, 4) == 0) {
            while (ref.n) {
                now = ref_top(&ref)->time;
                pop_both(q, &ref, &pool, below(&rng, 2));
                ops++;
            }
            ck_assert_ptr_null(evq_peek(q));
            ck_assert_ptr_null(evq_pop(q));
            if (below(&rng, 2) || now > SIMTIME_MAX / 2)
                now = 0; /* a new run on the emptied queue */
        }
    }
    while (ref.n)
        pop_both(q, &ref, &pool, true);
    ck_assert_ptr_null(evq_pop(q));
    ck_assert_uint_eq(pool.in_use, 0);
    free(ref.a);
    evq_destroy(q);
    event_pool_fini(&pool);
}
END_TEST

/* Not a simulation's pattern but within the evq contract: pushes at any time, also earlier than
 * events already popped, interleaved with pops. */
START_TEST(test_evq_push_before_popped)
{
    evq_kind kind = (evq_kind)_i;
    event_pool pool;
    event_pool_init(&pool, 0, POOL_MALLOC);
    evq *q = evq_create(kind);
    ref_heap ref = {0};
    uint64_t rng = 99;
    uint64_t seq = 0;
    for (long j = 0; j < 200000; j++) {
        uint64_t r = below(&rng, 100);
        if (ref.n == 0 || r < 55) {
            simtime t;
            switch (below(&rng, 4)) {
            case 0:
                t = below(&rng, 1000);
                break;
            case 1:
                t = below(&rng, UINT64_C(1) << 40);
                break;
            case 2:
                t = ref.n ? ref_top(&ref)->time + below(&rng, 3) : 0; /* around the head */
                break;
            default:
                t = next_u64(&rng);
                break;
            }
            event *ev = make_event(&pool, t, draw_prio(&rng), seq++);
            evq_push(q, ev);
            ref_push(&ref, ev);
        } else {
            pop_both(q, &ref, &pool, r & 1);
        }
    }
    while (ref.n)
        pop_both(q, &ref, &pool, false);
    ck_assert_ptr_null(evq_pop(q));
    free(ref.a);
    evq_destroy(q);
    event_pool_fini(&pool);
}
END_TEST

/* Shapes that drive a ladder queue deep: time clusters at every power of two (buckets that split
 * again and again), then a run of ever earlier pushes below everything queued (each batch becomes
 * a new lowest rung until the rung limit, then plain sorted insertion), with pops in between. */
START_TEST(test_evq_deep_ladder)
{
    evq_kind kind = (evq_kind)_i;
    event_pool pool;
    event_pool_init(&pool, 0, POOL_MALLOC);
    evq *q = evq_create(kind);
    ref_heap ref = {0};
    uint64_t rng = 2024;
    uint64_t seq = 0;
    for (int i = 0; i < 20000; i++) {
        simtime t = (UINT64_C(1) << (i % 60)) + below(&rng, 16);
        event *ev = make_event(&pool, t, draw_prio(&rng), seq++);
        evq_push(q, ev);
        ref_push(&ref, ev);
    }
    for (int i = 0; i < 5000; i++)
        pop_both(q, &ref, &pool, i & 1);
    simtime t = ref_top(&ref)->time; /* earlier than everything queued from here on */
    for (int i = 0; i < 3000 && t > 0; i++) {
        t -= 1 + below(&rng, 3);
        event *ev = make_event(&pool, t, draw_prio(&rng), seq++);
        evq_push(q, ev);
        ref_push(&ref, ev);
        if (i % 100 == 99)
            pop_both(q, &ref, &pool, true);
    }
    while (ref.n)
        pop_both(q, &ref, &pool, false);
    ck_assert_ptr_null(evq_pop(q));
    ck_assert_uint_eq(pool.in_use, 0);
    free(ref.a);
    evq_destroy(q);
    event_pool_fini(&pool);
}
END_TEST

/* Times at both ends of the 64-bit range: 0, SIMTIME_MAX and its neighbours, powers of two, and a
 * simulation that runs up against SIMTIME_MAX. */
START_TEST(test_evq_extreme_times)
{
    evq_kind kind = (evq_kind)_i;
    event_pool pool;
    event_pool_init(&pool, 0, POOL_MALLOC);
    evq *q = evq_create(kind);
    ref_heap ref = {0};
    uint64_t rng = 7;
    uint64_t seq = 0;
    static const simtime fixed[] = {0,
                                    1,
                                    2,
                                    UINT64_C(1) << 32,
                                    UINT64_C(1) << 62,
                                    UINT64_C(1) << 63,
                                    (UINT64_C(1) << 63) + 1,
                                    SIMTIME_MAX - 2,
                                    SIMTIME_MAX - 1,
                                    SIMTIME_MAX};
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 400; i++) {
            simtime t = i % 2 ? fixed[below(&rng, 10)] : next_u64(&rng) >> below(&rng, 64);
            event *ev = make_event(&pool, t, draw_prio(&rng), seq++);
            evq_push(q, ev);
            ref_push(&ref, ev);
        }
        while (ref.n)
            pop_both(q, &ref, &pool, round == 1);
    }
    /* Hold model close to the end of time: increments up to 2^60 saturate at SIMTIME_MAX. */
    simtime now = SIMTIME_MAX - (UINT64_C(1) << 56);
    for (int i = 0; i < 1000; i++) {
        event *ev = make_event(&pool, now + below(&rng, 1000), draw_prio(&rng), seq++);
        evq_push(q, ev);
        ref_push(&ref, ev);
    }
    for (int i = 0; i < 50000; i++) {
        now = ref_top(&ref)->time;
        pop_both(q, &ref, &pool, i & 1);
        simtime inc = next_u64(&rng) >> (4 + below(&rng, 60));
        event *ev = make_event(&pool, inc > SIMTIME_MAX - now ? SIMTIME_MAX : now + inc,
                               draw_prio(&rng), seq++);
        evq_push(q, ev);
        ref_push(&ref, ev);
    }
    ck_assert_uint_eq(now, SIMTIME_MAX); /* the run did reach the end of time */
    while (ref.n)
        pop_both(q, &ref, &pool, false);
    ck_assert_ptr_null(evq_pop(q));
    free(ref.a);
    evq_destroy(q);
    event_pool_fini(&pool);
}
END_TEST

START_TEST(test_evq_kind_names)
{
    evq_kind kind = (evq_kind)_i;
    const char *name = evq_kind_name(kind);
    ck_assert_ptr_nonnull(name);
    ck_assert_ptr_nonnull(evq_kind_description(kind));
    ck_assert_uint_gt(strlen(evq_kind_description(kind)), 0);
    evq_kind parsed = EVQ_KIND_COUNT;
    ck_assert_int_eq(evq_kind_parse(name, &parsed), 0);
    ck_assert_int_eq(parsed, kind);
    evq *q = evq_create(kind);
    ck_assert_int_eq(evq_kind_of(q), kind);
    evq_destroy(q);
    /* Names are distinct. */
    for (int k = 0; k < EVQ_KIND_COUNT; k++)
        if (k != _i)
            ck_assert_str_ne(evq_kind_name((evq_kind)k), name);
}
END_TEST

START_TEST(test_evq_kind_unknown)
{
    static const char *bad[] = {"", "bogus", "HEAP2", "heap", "ladder ", " ladder", "heap44"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        evq_kind k = EVQ_HEAP4;
        ck_assert_int_eq(evq_kind_parse(bad[i], &k), -1);
        ck_assert_int_eq(k, EVQ_HEAP4); /* untouched */
    }
    evq_kind k = EVQ_KIND_COUNT;
    ck_assert_int_eq(evq_kind_parse("heap2", &k), 0);
    ck_assert_int_eq(k, EVQ_HEAP2);
    ck_assert_int_eq(evq_kind_parse("heap4", &k), 0);
    ck_assert_int_eq(k, EVQ_HEAP4);
    ck_assert_int_eq(evq_kind_parse("ladder", &k), 0);
    ck_assert_int_eq(k, EVQ_LADDER);
}
END_TEST

static Suite *evq_suite(void)
{
    Suite *s = suite_create("evq");
    TCase *order = tcase_create("order");
    tcase_set_timeout(order, 240); /* the randomised test is slow under valgrind */
    tcase_add_loop_test(order, test_evq_empty, 0, EVQ_KIND_COUNT);
    tcase_add_loop_test(order, test_evq_ties, 0, EVQ_KIND_COUNT);
    tcase_add_loop_test(order, test_evq_random_vs_reference, 0, EVQ_KIND_COUNT);
    tcase_add_loop_test(order, test_evq_push_before_popped, 0, EVQ_KIND_COUNT);
    tcase_add_loop_test(order, test_evq_extreme_times, 0, EVQ_KIND_COUNT);
    tcase_add_loop_test(order, test_evq_deep_ladder, 0, EVQ_KIND_COUNT);
    suite_add_tcase(s, order);
    TCase *names = tcase_create("names");
    tcase_add_loop_test(names, test_evq_kind_names, 0, EVQ_KIND_COUNT);
    tcase_add_test(names, test_evq_kind_unknown);
    suite_add_tcase(s, names);
    return s;
}

int main(void)
{
    return testutil_run(evq_suite());
}
