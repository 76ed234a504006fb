/* test_sim: the kernel -- ordering with ties, run-until and stop, the component registry and its
 * life cycle, pool reuse, the scheduling-in-the-past abort, and run determinism. */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "sim.h"
#include "testutil.h"

/* ---- a recorder: logs (time, kind, payload word 0) of every event it handles ---- */

#define LOG_MAX 64

typedef struct recorder {
    component base;
    size_t n;
    simtime time[LOG_MAX]; /* ps */
    uint32_t kind[LOG_MAX];
    uint64_t word[LOG_MAX];
    int inits, finishes, reports;
    uint32_t stop_on_kind; /* stop the run on this kind (0: never) */
} recorder;

static void recorder_init(component *c)
{
    ((recorder *)c)->inits++;
}

static void recorder_handle(component *c, const event *ev)
{
    recorder *r = (recorder *)c;
    ck_assert_uint_lt(r->n, LOG_MAX);
    r->time[r->n] = ev->time;
    r->kind[r->n] = ev->kind;
    r->word[r->n] = ev->payload.u[0];
    r->n++;
    ck_assert_uint_eq(sim_now(c->sim), ev->time);
    if (r->stop_on_kind && ev->kind == r->stop_on_kind)
        sim_stop(c->sim);
}

static void recorder_finish(component *c)
{
    ((recorder *)c)->finishes++;
}

static void recorder_report(component *c, stats *st)
{
    recorder *r = (recorder *)c;
    r->reports++;
    stats_set(st, stats_value(st, "events", "count"), (double)r->n);
}

static const component_ops recorder_ops = {
    .kind = "recorder",
    .init = recorder_init,
    .handle = recorder_handle,
    .finish = recorder_finish,
    .report = recorder_report,
};

/* ---- a PHOLD-like chatter component for determinism: random delays, random targets ---- */

typedef struct chatter {
    component base;
    uint64_t *hash; /* shared event-log hash */
} chatter;

static uint64_t fnv1a(uint64_t h, uint64_t x)
{
    for (int i = 0; i < 8; i++) {
        h ^= (x >> (8 * i)) & 0xff;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static void chatter_handle(component *c, const event *ev)
{
    chatter *ch = (chatter *)c;
    sim *s = c->sim;
    *ch->hash = fnv1a(fnv1a(fnv1a(*ch->hash, ev->time), c->id), ev->payload.u[0]);
    if (ev->payload.u[0] == 0)
        return; /* hop budget spent */
    gsl_rng *r = component_rng(c);
    /* Coarse delays (multiples of 1000 ps) make equal-time ties frequent. */
    simtime delay = 1000 * (simtime)gsl_rng_uniform_int(r, 4);
    uint32_t to = (uint32_t)gsl_rng_uniform_int(r, sim_component_count(s));
    event_payload p = {.u = {ev->payload.u[0] - 1}};
    sim_schedule_in(s, delay, to, 0, (unsigned)gsl_rng_uniform_int(r, 3), &p);
}

static const component_ops chatter_ops = {.kind = "chatter", .handle = chatter_handle};

/* The registry as layers build it: one X-macro list -> enum and class table. */
#define TEST_COMPONENTS(X)                                                                         \
    X(TEST_RECORDER, recorder, recorder_ops)                                                       \
    X(TEST_CHATTER, chatter, chatter_ops)

enum {
#define TEST_ENUM(id, type, ops) id,
    TEST_COMPONENTS(TEST_ENUM)
#undef TEST_ENUM
};
static const component_class test_classes[] = {TEST_COMPONENTS(COMPONENT_CLASS_ENTRY)};

static uint64_t chatter_run(evq_kind queue, uint64_t seed, uint64_t *handled)
{
    sim_options o;
    sim_options_default(&o);
    o.queue = queue;
    o.seed = seed;
    sim *s = sim_create(&o);
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    for (int i = 0; i < 16; i++) {
        chatter *c = (chatter *)sim_create_component(s, &test_classes[TEST_CHATTER], NULL);
        c->hash = &hash;
    }
    for (uint32_t i = 0; i < 16; i++) {
        event_payload p = {.u = {200}};
        sim_schedule_at(s, 0, i, 0, 0, &p);
    }
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    *handled = sim_events_handled(s);
    sim_destroy(s);
    return hash;
}

START_TEST(test_sim_ties_pop_by_priority_then_insertion)
{
    sim_options o;
    sim_options_default(&o);
    o.queue = (evq_kind)_i;
    sim *s = sim_create(&o);
    recorder *r = (recorder *)sim_create_component(s, &test_classes[TEST_RECORDER], "rec");
    /* At t = 50: kinds 1..4 with priorities 1,0,1,0 -> expected order 2,4,1,3. At t = 10: 5. */
    const unsigned prio[] = {1, 0, 1, 0};
    for (uint32_t k = 1; k <= 4; k++)
        sim_schedule_at(s, 50, r->base.id, k, prio[k - 1], NULL);
    sim_schedule_at(s, 10, r->base.id, 5, 9, NULL);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    const uint32_t want[] = {5, 2, 4, 1, 3};
    ck_assert_uint_eq(r->n, 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(r->kind[i], want[i]);
    ck_assert_uint_eq(sim_now(s), 50);
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_run_until_and_stop)
{
    sim_options o;
    sim_options_default(&o);
    o.queue = (evq_kind)_i;
    sim *s = sim_create(&o);
    recorder *r = (recorder *)sim_create_component(s, &test_classes[TEST_RECORDER], "rec");
    r->stop_on_kind = 7;
    for (uint32_t k = 1; k <= 9; k++) {
        event_payload p = {.u = {k * 11}};
        sim_schedule_at(s, 100 * (simtime)k, r->base.id, k, 0, &p);
    }
    /* Until 350: events at 100, 200, 300; now becomes exactly 350. */
    ck_assert_int_eq(sim_run_until(s, 350), SIM_UNTIL);
    ck_assert_uint_eq(r->n, 3);
    ck_assert_uint_eq(sim_now(s), 350);
    ck_assert_uint_eq(r->word[2], 33);
    /* An event exactly at the end time is included. */
    ck_assert_int_eq(sim_run_until(s, 400), SIM_UNTIL);
    ck_assert_uint_eq(r->n, 4);
    /* Kind 7 stops the run after its handler: events 5, 6, 7 handled, now = 700. */
    ck_assert_int_eq(sim_run(s), SIM_STOPPED);
    ck_assert_uint_eq(r->n, 7);
    ck_assert_uint_eq(sim_now(s), 700);
    ck_assert_uint_eq(sim_events_pending(s), 2);
    /* Resuming runs the rest. */
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(r->n, 9);
    ck_assert_uint_eq(sim_now(s), 900);
    ck_assert_uint_eq(sim_events_handled(s), 9);
    /* run_until on an empty queue reports SIM_EMPTY and leaves now alone. */
    ck_assert_int_eq(sim_run_until(s, 5000), SIM_EMPTY);
    ck_assert_uint_eq(sim_now(s), 900);
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_lifecycle_and_report)
{
    sim *s = sim_create(NULL);
    recorder *a = (recorder *)sim_create_component(s, &test_classes[TEST_RECORDER], "a");
    recorder *b = (recorder *)sim_create_component(s, &test_classes[TEST_RECORDER], NULL);
    ck_assert_uint_eq(a->base.id, 0);
    ck_assert_uint_eq(b->base.id, 1);
    ck_assert_str_eq(b->base.name, "recorder");
    ck_assert_ptr_eq(sim_component(s, 1), &b->base);
    sim_schedule_in(s, 5, 1, 1, 0, NULL);
    sim_run(s);
    sim_run(s); /* init runs once per component, not once per run */
    ck_assert_int_eq(a->inits, 1);
    ck_assert_int_eq(b->inits, 1);
    sim_finish(s);
    ck_assert_int_eq(a->finishes, 1);
    ck_assert_int_eq(b->reports, 1);
    long i = stats_find(&b->base.stats, "events");
    ck_assert_int_ge(i, 0);
    ck_assert_double_eq(stats_at(&b->base.stats, (size_t)i)->sum, 1.0);
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_pool_steady_state)
{
    sim_options o;
    sim_options_default(&o);
    o.event_malloc = false;
    sim *s = sim_create(&o);
    chatter *c = (chatter *)sim_create_component(s, &test_classes[TEST_CHATTER], NULL);
    uint64_t hash = 0;
    c->hash = &hash;
    /* 1000 tokens circulating: pending stays at 1000, so after the first chunk the pool must not
     * grow however many events are handled. */
    for (int i = 0; i < 1000; i++) {
        event_payload p = {.u = {500}};
        sim_schedule_at(s, 0, 0, 0, 0, &p);
    }
    size_t cap0 = sim_pool_capacity(s);
    ck_assert_int_eq(sim_run(s), SIM_EMPTY);
    ck_assert_uint_eq(sim_events_handled(s), 1000 * 501);
    ck_assert_uint_eq(sim_pool_capacity(s), cap0);
    /* The handled event returns to the pool after its handler scheduled the next one. */
    ck_assert_uint_eq(sim_pool_peak(s), 1001);
    sim_destroy(s);
}
END_TEST

/* Components carved from blocks: 3000 of sizes cycling through 72 .. 1143 bytes (several 256 KiB
 * blocks, and sizes that are not multiples of 16) are each zeroed, 16-byte aligned, found by id,
 * and own their bytes: every one filled with its id's byte, then all checked. */
typedef struct blob {
    component base;
    unsigned char bytes[]; /* the rest of the component's size */
} blob;

static void blob_handle(component *c, const event *ev)
{
    (void)c;
    (void)ev;
}

static const component_ops blob_ops = {.kind = "blob", .handle = blob_handle};

START_TEST(test_sim_component_blocks)
{
    enum { N = 3000 };
    sim_options o;
    sim_options_default(&o);
    o.event_malloc = _i == 1; /* also the debug path: one calloc each */
    sim *s = sim_create(&o);
    size_t size[N];
    for (size_t i = 0; i < N; i++) {
        size[i] = sizeof(component) + (i * 37) % 1072; /* 72 .. 1143 bytes */
        component_class cls = {.size = size[i], .ops = &blob_ops};
        blob *b = (blob *)sim_create_component(s, &cls, "b");
        ck_assert_uint_eq((uintptr_t)b % 16, 0);
        ck_assert_uint_eq(b->base.id, i);
        size_t nonzero = 0;
        for (size_t k = 0; k < size[i] - sizeof(component); k++)
            nonzero += b->bytes[k] != 0;
        ck_assert_uint_eq(nonzero, 0);
        memset(b->bytes, (int)(i & 0xff), size[i] - sizeof(component));
    }
    for (size_t i = 0; i < N; i++) {
        blob *b = (blob *)sim_component(s, (uint32_t)i);
        ck_assert_uint_eq(b->base.id, i);
        ck_assert_ptr_eq(b->base.ops, &blob_ops);
        size_t wrong = 0;
        for (size_t k = 0; k < size[i] - sizeof(component); k++)
            wrong += b->bytes[k] != (i & 0xff);
        ck_assert_uint_eq(wrong, 0);
    }
    sim_destroy(s);
}
END_TEST

START_TEST(test_sim_determinism)
{
    uint64_t n1, n2, n3;
    uint64_t h1 = chatter_run(EVQ_HEAP4, 42, &n1);
    uint64_t h2 = chatter_run(EVQ_HEAP4, 42, &n2);
    uint64_t h3 = chatter_run(EVQ_HEAP4, 43, &n3);
    ck_assert_uint_eq(h1, h2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_uint_eq(n1, 16 * 201); /* every token makes 200 hops */
    ck_assert_uint_ne(h1, h3);
    /* The queue implementation changes speed, never results. */
    for (int k = 0; k < EVQ_KIND_COUNT; k++)
        ck_assert_uint_eq(chatter_run((evq_kind)k, 42, &n3), h1);
}
END_TEST

START_TEST(test_sim_schedule_in_past_aborts)
{
    sim *s = sim_create(NULL);
    recorder *r = (recorder *)sim_create_component(s, &test_classes[TEST_RECORDER], "late");
    sim_schedule_at(s, 100, r->base.id, 1, 0, NULL);
    sim_run(s);
    sim_schedule_at(s, 99, r->base.id, 1, 0, NULL); /* now = 100: aborts */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_sim_ties_pop_by_priority_then_insertion, 0, EVQ_KIND_COUNT);
    tcase_add_loop_test(tc, test_sim_run_until_and_stop, 0, EVQ_KIND_COUNT);
    tcase_add_test(tc, test_sim_lifecycle_and_report);
    tcase_add_test(tc, test_sim_pool_steady_state);
    tcase_add_test(tc, test_sim_determinism);
    tcase_add_loop_test(tc, test_sim_component_blocks, 0, 2);
    suite_add_tcase(s, tc);
    /* Aborting tests need Check's fork mode; skip them when it is off (valgrind runs). */
    const char *fork_env = getenv("CK_FORK");
    if (!fork_env || strcmp(fork_env, "no") != 0) {
        TCase *tabort = tcase_create("abort");
        tcase_add_test_raise_signal(tabort, test_sim_schedule_in_past_aborts, SIGABRT);
        suite_add_tcase(s, tabort);
    }
    return testutil_run(s);
}
