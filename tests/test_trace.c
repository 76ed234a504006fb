/* test_trace: level gating, the in-memory sink (ordered copies, every field intact) and the
 * level-name registry. Expected values are the records and names the test itself wrote.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"
#include "testutil.h"

/* No sink: nothing wanted. A sink at NONE wants nothing; at LAYER only layer records; at VECTOR
 * both. A NONE-level record is never wanted (it would mean "always", defeating the switch). */
START_TEST(test_trace_level_gating)
{
    ck_assert(!trace_wants(NULL, TRACE_LAYER));
    ck_assert(!trace_wants(NULL, TRACE_VECTOR));

    trace_sink *none = trace_memory_create(TRACE_NONE);
    trace_sink *layer = trace_memory_create(TRACE_LAYER);
    trace_sink *vector = trace_memory_create(TRACE_VECTOR);
    ck_assert(!trace_wants(none, TRACE_NONE));
    ck_assert(!trace_wants(none, TRACE_LAYER));
    ck_assert(!trace_wants(none, TRACE_VECTOR));
    ck_assert(!trace_wants(layer, TRACE_NONE));
    ck_assert(trace_wants(layer, TRACE_LAYER));
    ck_assert(!trace_wants(layer, TRACE_VECTOR));
    ck_assert(!trace_wants(vector, TRACE_NONE));
    ck_assert(trace_wants(vector, TRACE_LAYER));
    ck_assert(trace_wants(vector, TRACE_VECTOR));
    trace_destroy(none);
    trace_destroy(layer);
    trace_destroy(vector);
}
END_TEST

/* Record i carries values that differ per field and per record, including the -1 "none"
 * markers, extreme times and a negative zero energy, so a swapped, truncated or dropped field
 * shows. The caller's record is overwritten after each send: the sink must have copied it. */
static trace_record make_record(size_t i)
{
    trace_record r;
    memset(&r, 0, sizeof r);
    r.component = (uint32_t)(1000 + i);
    r.kind = (uint32_t)(7 * i + 3);
    r.units = (uint32_t)(i % 5 + 1);
    r.layer = i % 5 == 0 ? -1 : (int32_t)i;
    r.copy = i % 3 == 0 ? -1 : (int32_t)(i / 3);
    r.inference = i % 4 == 0 ? -1 : (int64_t)i * INT64_C(1000000007);
    r.t0 = i == 1 ? 0 : (simtime)i * UINT64_C(1000000000000);
    r.t1 = i == 2 ? SIMTIME_MAX : r.t0 + i + 1;
    r.energy_pj = i == 3 ? -0.0 : 0.125 * (double)i + 1e-9;
    return r;
}

/* trace_record_same compares fields, not bytes: a record built field by field over 0xa5 bytes is
 * the same as make_record's (built over zeros); a change in any one field (units, energy's sign,
 * an end) is seen. */
START_TEST(test_trace_record_same_fields_only)
{
    trace_record a = make_record(3), b, want = make_record(3);
    memset(&b, 0xa5, sizeof b);
    b.component = want.component;
    b.kind = want.kind;
    b.units = want.units;
    b.layer = want.layer;
    b.copy = want.copy;
    b.inference = want.inference;
    b.vector = want.vector;
    b.vectors = want.vectors;
    b.t0 = want.t0;
    b.t1 = want.t1;
    b.energy_pj = want.energy_pj;
    ck_assert(trace_record_same(&a, &b));
    b.units++;
    ck_assert(!trace_record_same(&a, &b));
    b = a;
    b.energy_pj = 0.0; /* make_record(3) has -0.0 */
    ck_assert(!trace_record_same(&a, &b));
    b = a;
    b.t1--;
    ck_assert(!trace_record_same(&a, &b));
}
END_TEST

START_TEST(test_trace_memory_keeps_copies_in_order)
{
    enum { N = 1000 }; /* enough to force the record array to grow several times */
    trace_sink *s = trace_memory_create(TRACE_VECTOR);
    ck_assert_uint_eq(trace_memory_count(s), 0);
    trace_record scratch;
    for (size_t i = 0; i < N; i++) {
        scratch = make_record(i);
        trace_record_send(s, &scratch);
        memset(&scratch, 0xa5, sizeof scratch);
        ck_assert_uint_eq(trace_memory_count(s), i + 1);
    }
    for (size_t i = 0; i < N; i++) {
        trace_record want = make_record(i);
        const trace_record *got = trace_memory_at(s, i);
        ck_assert_uint_eq(got->component, want.component);
        ck_assert_uint_eq(got->kind, want.kind);
        ck_assert_uint_eq(got->units, want.units);
        ck_assert_int_eq(got->layer, want.layer);
        ck_assert_int_eq(got->copy, want.copy);
        ck_assert_int_eq(got->inference, want.inference);
        ck_assert_uint_eq(got->t0, want.t0);
        ck_assert_uint_eq(got->t1, want.t1);
        ck_assert_double_eq(got->energy_pj, want.energy_pj);
        ck_assert_int_eq(signbit(got->energy_pj) != 0, signbit(want.energy_pj) != 0);
    }
    err e;
    err_clear(&e);
    ck_assert_int_eq(trace_flush(s, &e), 0);
    ck_assert_int_eq(e.code, 0);
    ck_assert_uint_eq(trace_memory_count(s), N); /* flushing keeps the records */
    trace_destroy(s);
}
END_TEST

/* Destroying or flushing "no sink" is a no-op. */
START_TEST(test_trace_null_sink_noop)
{
    trace_destroy(NULL);
    ck_assert_int_eq(trace_flush(NULL, NULL), 0);
}
END_TEST

/* Names come from TRACE_LEVEL_MAP: none, layer, vector; each parses back to its level. */
START_TEST(test_trace_level_names_round_trip)
{
    ck_assert_str_eq(trace_level_name(TRACE_NONE), "none");
    ck_assert_str_eq(trace_level_name(TRACE_LAYER), "layer");
    ck_assert_str_eq(trace_level_name(TRACE_VECTOR), "vector");
    for (int i = 0; i < TRACE_LEVEL_COUNT; i++) {
        trace_level level = TRACE_LEVEL_COUNT;
        ck_assert_int_eq(trace_level_parse(trace_level_name((trace_level)i), &level), 0);
        ck_assert_int_eq(level, i);
    }
}
END_TEST

/* Unknown, empty, prefixed and wrongly cased names are rejected and leave *level alone. */
START_TEST(test_trace_level_parse_unknown)
{
    static const char *const bad[] = {"", "full", "layers", "vec", "Layer", "VECTOR", " none"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trace_level level = TRACE_LAYER;
        ck_assert_int_eq(trace_level_parse(bad[i], &level), -1);
        ck_assert_int_eq(level, TRACE_LAYER);
    }
}
END_TEST

static Suite *trace_suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_trace_level_gating);
    tcase_add_test(tc, test_trace_memory_keeps_copies_in_order);
    tcase_add_test(tc, test_trace_record_same_fields_only);
    tcase_add_test(tc, test_trace_null_sink_noop);
    tcase_add_test(tc, test_trace_level_names_round_trip);
    tcase_add_test(tc, test_trace_level_parse_unknown);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(trace_suite());
}
