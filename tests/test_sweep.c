/* test_sweep: sweep files (ranges, product and zip enumeration, identity, errors with file:line),
 * study points (settings reach the model; every job on many threads gives the same bits as one
 * after the other: no global state), the journal (bit-exact round trip, torn lines cut) and the
 * results file (written and read back).
 */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accuracy.h"
#include "arch.h"
#include "fnet.h"
#include "h5file.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "point.h"
#include "policy.h"
#include "sweepcfg.h"
#include "sweepout.h"
#include "testdata.h"
#include "testload.h"
#include "testutil.h"
#include "weights.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/xbarsim-sweep-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("XBARSIM_DATA", XBARSIM_SOURCE_DIR, 1);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Write text to dir/name; the path into buf. */
static const char *put(const char *name, const char *text, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", dir, name);
    FILE *f = fopen(buf, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return buf;
}

static int load(const char *text, sweep_spec *s, err *e)
{
    char path[128];
    err_clear(e);
    return sweep_spec_load(put("s.cfg", text, path, sizeof path), s, e);
}

#define BASE "base = { arch = \"lrmp\"; network = \"resnet18\"; };\n"

START_TEST(test_sweep_ranges)
{
    sweep_spec s;
    err e;
    /* 1..4 in 7 linear steps, rounded half to even: 1 2 2 2 3 4 4 -> 1 2 3 4. */
    ck_assert_int_eq(load("sweep = { " BASE "axes = ( { path = \"arch.tiles.adc.bits\"; range = "
                          "{ from = 1; to = 4; count = 7; integer = true; }; } ); };",
                          &s, &e),
                     0);
    ck_assert_uint_eq(s.axes[0].n, 4);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_double_eq(s.axes[0].values[i].num, i + 1.0);
    ck_assert_str_eq(s.axes[0].values[3].text, "4");
    sweep_spec_fini(&s);
    /* Log, rounded: 1, 10, 100, 1000. Step: 8, 16, ..., 64. */
    ck_assert_int_eq(
        load("sweep = { " BASE "axes = ( { path = \"arch.tiles.rows_active\"; "
             "range = { from = 1.0; to = 1000.0; count = 4; scale = \"log\"; integer = true; }; },"
             "{ path = \"arch.tiles.cols\"; range = { from = 8; to = 64; step = 8; "
             "}; } ); };",
             &s, &e),
        0);
    ck_assert_uint_eq(s.axes[0].n, 4);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_double_eq(s.axes[0].values[i].num, pow(10.0, i));
    ck_assert_uint_eq(s.axes[1].n, 8);
    ck_assert_double_eq(s.axes[1].values[7].num, 64.0);
    ck_assert_uint_eq(s.points, 32);
    sweep_spec_fini(&s);
    /* A million values, every one kept (fuzz_sweep: one reallocation per value was quadratic, and
     * timed out under ASan). */
    ck_assert_int_eq(load("sweep = { " BASE "axes = ( { path = \"seed\"; range = { from = 1; "
                          "to = 1000000; count = 1000000; integer = true; }; } ); };",
                          &s, &e),
                     0);
    ck_assert_uint_eq(s.axes[0].n, 1000000);
    ck_assert_double_eq(s.axes[0].values[999999].num, 1e6);
    ck_assert_str_eq(s.axes[0].values[499999].text, "500000");
    sweep_spec_fini(&s);
}
END_TEST

START_TEST(test_sweep_product_and_zip)
{
    sweep_spec s;
    err e;
    ck_assert_int_eq(
        load("sweep = { base = { arch = \"lrmp\"; network = \"lenet5\"; policy = "
             "\"uniform:8\"; }; axes = ( { path = \"policy.uniform\"; values = [2, 4, "
             "6]; }, { path = \"network\"; values = [\"resnet18\", \"lenet5\"]; } ); };",
             &s, &e),
        0);
    ck_assert_uint_eq(s.points, 6);
    ck_assert(s.axes[0].numeric);
    ck_assert(!s.axes[1].numeric);
    /* Product, first axis slowest: point 3 = (4, lenet5). */
    point_setting set[8];
    unsigned n = sweep_point_settings(&s, 3, set);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(set[3].path, "policy.uniform");
    ck_assert_str_eq(set[3].text, "4");
    ck_assert_str_eq(set[4].text, "lenet5");
    ck_assert_uint_eq(sweep_point_value(&s, 5, 0), 2);
    ck_assert_uint_eq(sweep_point_value(&s, 5, 1), 1);
    uint64_t id = s.id;
    sweep_spec_fini(&s);
    /* The same sweep written differently has the same id; another value, another id. */
    ck_assert_int_eq(load("sweep = {\n  base = { arch = \"lrmp\";\n network = \"lenet5\";\n "
                          "policy = \"uniform:8\"; };\n axes = ( { path = \"policy.uniform\"; "
                          "values = [2, 4, 6]; },\n { path = \"network\"; values = [\"resnet18\","
                          "\"lenet5\"]; } ); job = \"map\"; };",
                          &s, &e),
                     0);
    ck_assert_uint_eq(s.id, id);
    sweep_spec_fini(&s);
    ck_assert_int_eq(
        load("sweep = { base = { arch = \"lrmp\"; network = \"lenet5\"; policy = "
             "\"uniform:8\"; }; axes = ( { path = \"policy.uniform\"; values = [2, 4, "
             "7]; }, { path = \"network\"; values = [\"resnet18\", \"lenet5\"]; } ); };",
             &s, &e),
        0);
    ck_assert_uint_ne(s.id, id);
    sweep_spec_fini(&s);
    /* A linked axis moves with the axis before it: 3 x 2 points, not 3 x 2 x 2. */
    ck_assert_int_eq(load("sweep = { " BASE "axes = ( { path = \"arch.tiles.adc.bits\"; values = "
                          "[3, 4, 5]; }, { path = \"arch.tiles.count\"; values = [2880, 5760]; }, "
                          "{ path = \"arch.vector.count\"; values = [20, 40]; link = true; } ); };",
                          &s, &e),
                     0);
    ck_assert_uint_eq(s.points, 6);
    for (uint64_t k = 0; k < 6; k++) {
        ck_assert_uint_eq(sweep_point_value(&s, k, 0), k / 2);
        ck_assert_uint_eq(sweep_point_value(&s, k, 1), k % 2);
        ck_assert_uint_eq(sweep_point_value(&s, k, 2), k % 2);
    }
    sweep_spec_fini(&s);
    /* Zip pairs the i-th values. */
    ck_assert_int_eq(load("sweep = { " BASE "combine = \"zip\"; axes = ( { path = "
                          "\"arch.tiles.adc.bits\"; values = [3, 4, 5]; }, { path = "
                          "\"arch.tiles.rows_active\"; values = [4, 9, 18]; } ); };",
                          &s, &e),
                     0);
    ck_assert_uint_eq(s.points, 3);
    n = sweep_point_settings(&s, 2, set);
    ck_assert_str_eq(set[n - 2].text, "5");
    ck_assert_str_eq(set[n - 1].text, "18");
    sweep_spec_fini(&s);
}
END_TEST

/* Each bad file fails with ERR_INPUT and a message holding `want` (and the line when given). */
START_TEST(test_sweep_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"sweep = { " BASE "combine = \"zip\";\naxes = ( { path = \"arch.tiles.adc.bits\"; values "
         "= [3, 4]; },\n{ path = \"arch.tiles.rows_active\"; values = [4, 9, 18]; } ); };",
         "s.cfg:4: sweep.axes.[1]: zipped axes differ in length"},
        {"sweep = { " BASE "\naxes = ( { path = \"arch.tiles.adc.bitz\"; values = [3]; } ); };",
         "arch.tiles.adc.bitz"},
        {"sweep = { " BASE "\naxes = ( { path = \"polcy\"; values = [3]; } ); };",
         "s.cfg:3: sweep.axes.[0].values: polcy: unknown setting path"},
        {"sweep = { " BASE "\naxes = ( { path = \"arch.tiles.adc.bits\"; values = [\"many\"]; } "
         "); };",
         "arch.tiles.adc.bits"},
        {"sweep = { " BASE "\nmetrics = [\"latency_us\", \"events\"]; };",
         "s.cfg:3: sweep.metrics: found 'events', expected one of the map job's:"},
        {"sweep = { " BASE "};", "sweep.axes: found no axis"},
        {"sweep = { " BASE "\naxes = ( { path = \"seed\"; values = [1]; },\n{ path = \"seed\"; "
         "values = [2]; } ); };",
         "s.cfg:4: sweep.axes.[1].path: found \"seed\" again (axis 0, line 3)"},
        {"sweep = { base = { arch = \"lrmp\"; network = \"nosuchnet\"; };\naxes = ( { path = "
         "\"seed\"; values = [1]; } ); };",
         "sweep.base.network: found \"nosuchnet\", expected a network file or a built-in"},
        {"sweep = { " BASE "\naxes = ( { path = \"network\"; values = [\"lenet5\", \"nonet\"]; "
         "} ); };",
         "s.cfg:3: sweep.axes.[0].values: found \"nonet\", expected a network file"},
        {"sweep = { base = { arch = \"lrmp\"; }; };", "sweep.base.network: missing"},
        {"sweep = { " BASE "\njob = \"simulate\"; };", "sweep.job: expected map, run"},
        {"sweep = { " BASE "\naxes = ( { path = \"run.inferences\"; values = [-1]; } ); };",
         "run.inferences: found '-1', expected a non-negative integer"},
        {"sweep = { " BASE "\naxes = ( { path = \"seed\"; range = { from = 1; to = 5; }; } ); };",
         "expected exactly one of count and step"},
        {"sweep = { " BASE
         "\naxes = ( { path = \"seed\"; range = { from = 1; to = 5; count = 2.5; }; "
         "} ); };",
         "count: found 2.5, expected an integer 1..1000000"},
        /* fuzz_sweep: a step that gives 3e7 values took gigabytes and timed out */
        {"sweep = { " BASE "\naxes = ( { path = \"seed\"; range = { from = 7503; to = 2080e8; "
         "step = 6880; }; } ); };",
         "step: found 6880, giving 3.023e+07 values, expected at most 1000000"},
        {"sweep = { " BASE "\naxes = ( { path = \"seed\"; range = { from = 1; to = 2; count = "
         "1000001; }; } ); };",
         "count: found 1000001, expected an integer 1..1000000"},
        {"sweep = { " BASE "\nextra = 1; };", "s.cfg:3: sweep.extra: unknown setting"},
        {"sweeps = { };", "sweep: missing"},
        {"sweep = { " BASE "\naxes = ( { path = \"seed\"; values = [1, 2]; },\n{ path = "
         "\"search.episodes\"; values = [3]; link = true; } ); };",
         "s.cfg:4: sweep.axes.[1]: a linked axis has 1 values, the axis before it 2"},
        /* fuzz_sweep: a preset that cannot be read returned ERR_INPUT with e.code ERR_IO */
        {"sweep = { base = { arch = \"1rmp\"; network = \"resnet18\"; };\naxes = ( { path = "
         "\"seed\"; values = [1]; } ); };",
         "s.cfg: sweep.base.arch: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sweep_spec s;
        err e;
        ck_assert_int_eq(load(cases[i].text, &s, &e), ERR_INPUT);
        ck_assert_int_eq(e.code, ERR_INPUT);
        ck_assert_msg(strstr(e.msg, cases[i].want), "case %zu: '%s' lacks '%s'", i, e.msg,
                      cases[i].want);
    }
}
END_TEST

START_TEST(test_sweep_missing_ranges)
{
    uint8_t have[12] = {1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0};
    char buf[128];
    ck_assert_uint_eq(sweep_missing_ranges(have, 12, buf, sizeof buf, 10), 6);
    ck_assert_str_eq(buf, "1-3, 6, 10-11");
    ck_assert_uint_eq(sweep_missing_ranges(have, 12, buf, sizeof buf, 1), 6);
    ck_assert_str_eq(buf, "1-3, ...");
    memset(have, 1, sizeof have);
    ck_assert_uint_eq(sweep_missing_ranges(have, 12, buf, sizeof buf, 10), 0);
    ck_assert_str_eq(buf, "");
    /* one shard of 3 lost: points 1, 4, 7, 10 are one strided run; two lone points stay two */
    for (unsigned k = 0; k < 12; k++)
        have[k] = k % 3 != 1;
    ck_assert_uint_eq(sweep_missing_ranges(have, 12, buf, sizeof buf, 10), 4);
    ck_assert_str_eq(buf, "1-10 step 3");
    memset(have, 1, sizeof have);
    have[2] = have[7] = 0;
    ck_assert_uint_eq(sweep_missing_ranges(have, 12, buf, sizeof buf, 10), 2);
    ck_assert_str_eq(buf, "2, 7");
    memset(have, 1, sizeof have);
    have[0] = have[5] = have[6] = have[7] = 0;
    ck_assert_uint_eq(sweep_missing_ranges(have, 12, buf, sizeof buf, 10), 4);
    ck_assert_str_eq(buf, "0, 5-7");
}
END_TEST

/* The point's settings reach the model: its latency equals the model of the same mapping built
 * here from an arch with the same override. */
START_TEST(test_sweep_point_reaches_model)
{
    point_setting set[] = {{"arch", "lrmp"},
                           {"network", "resnet18"},
                           {"policy.uniform", "6"},
                           {"arch.tiles.rows_active", "18"},
                           {"arch.tiles.adc.strict_bits", "false"}};
    point_result r;
    point_eval(POINT_JOB_MAP, set, 5, NULL, NULL, &r);
    ck_assert_msg(r.ok, "%s", r.message);
    arch a;
    testload_arch("lrmp", &a);
    a.tiles.rows_active = 18;
    network n;
    testload_net("resnet18", &n);
    policy p;
    policy_uniform(&p, &n, 6, 6);
    mapping m;
    err e;
    ck_assert_int_eq(mapping_build(&n, &a, &p, NULL, MAPPING_PLACE_GROUPS, &m, &e), 0);
    model mo;
    model_evaluate(&n, &a, &m, &mo);
    ck_assert_double_eq(r.metric[POINT_METRIC_LATENCY], simtime_to_us(mo.latency_ps));
    ck_assert_double_eq(r.metric[POINT_METRIC_TILES], (double)mo.tiles_used);
    ck_assert_double_eq(r.metric[POINT_METRIC_ADC_NEEDED], arch_adc_bits_needed(&a));
    ck_assert(isnan(r.metric[POINT_METRIC_EVENTS])); /* not a map metric */
    model_fini(&mo);
    mapping_fini(&m);
    policy_fini(&p);
    network_fini(&n);
    arch_fini(&a);
    /* A combination that does not fit is the point's failure, with the reason. */
    point_setting bad[] = {{"arch", "lrmp"}, {"network", "resnet18"}, {"arch.tiles.count", "10"}};
    point_eval(POINT_JOB_MAP, bad, 3, NULL, NULL, &r);
    ck_assert(!r.ok);
    ck_assert_msg(strstr(r.message, "tiles"), "%s", r.message);
    ck_assert(isnan(r.metric[POINT_METRIC_LATENCY]));
}
END_TEST

/* Points of every job, evaluated one after the other and then on 2 threads at once, several
 * times, without and with per-thread caches: bit-identical metrics. Any hidden global state
 * shared between points (or a cache that changed a result) would show. */
START_TEST(test_sweep_points_parallel_equal_serial)
{
    enum { N = 8 };
    static const point_setting sets[N][4] = {
        {{"arch", "lrmp"}, {"network", "resnet18"}, {"policy.uniform", "4"}, {"seed", "1"}},
        {{"arch", "cimaq"}, {"network", "vgg11"}, {"policy.uniform", "6"}, {"seed", "1"}},
        {{"arch", "lrmp"}, {"network", "lenet5"}, {"run.inferences", "3"}, {"seed", "1"}},
        {{"arch", "chang2022"}, {"network", "lenet5"}, {"run.overlap", "false"}, {"seed", "2"}},
        {{"arch", "lrmp"}, {"network", "resnet18"}, {"replication.budget", "1.5"}, {"seed", "1"}},
        {{"arch", "lrmp"},
         {"network", "mlp-lrmp"},
         {"replication.objective", "throughput"},
         {"seed", "1"}},
        {{"arch", "lrmp"}, {"network", "lenet5"}, {"search.episodes", "4"}, {"seed", "3"}},
        {{"arch", "lrmp"}, {"network", "lenet5"}, {"search.agent", "random"}, {"seed", "4"}},
    };
    static const point_job jobs[N] = {POINT_JOB_MAP,    POINT_JOB_MAP,       POINT_JOB_RUN,
                                      POINT_JOB_RUN,    POINT_JOB_REPLICATE, POINT_JOB_REPLICATE,
                                      POINT_JOB_SEARCH, POINT_JOB_SEARCH};
    point_setting episodes[5];
    static point_result serial[N], parallel[3][N];
    for (int i = 0; i < N; i++) {
        const point_setting *s = sets[i];
        unsigned n = 4;
        if (jobs[i] == POINT_JOB_SEARCH && i == 7) { /* a short random search */
            memcpy(episodes, sets[i], sizeof sets[i]);
            episodes[4] = (point_setting){"search.episodes", "5"};
            s = episodes;
            n = 5;
        }
        point_eval(jobs[i], s, n, NULL, NULL, &serial[i]);
        ck_assert_msg(serial[i].ok, "point %d: %s", i, serial[i].message);
    }
    for (int round = 0; round < 3; round++) {
#pragma omp parallel num_threads(2)
        {
            point_cache *c = round ? point_cache_create() : NULL; /* with and without a cache */
#pragma omp for schedule(dynamic, 1)
            for (int i = 0; i < N; i++) {
                point_setting local[5];
                unsigned n = 4;
                memcpy(local, sets[i], sizeof sets[i]);
                if (i == 7)
                    local[n++] = (point_setting){"search.episodes", "5"};
                point_eval(jobs[i], local, n, NULL, c, &parallel[round][i]);
            }
            point_cache_destroy(c);
        }
        for (int i = 0; i < N; i++) {
            ck_assert_msg(parallel[round][i].ok, "round %d point %d: %s", round, i,
                          parallel[round][i].message);
            ck_assert_msg(
                memcmp(serial[i].metric, parallel[round][i].metric, sizeof serial[i].metric) == 0,
                "round %d point %d: metrics differ (latency %.17g vs %.17g)", round, i,
                serial[i].metric[POINT_METRIC_LATENCY],
                parallel[round][i].metric[POINT_METRIC_LATENCY]);
        }
    }
    /* The jobs gave what they promise. */
    ck_assert(serial[2].metric[POINT_METRIC_EVENTS] > 0);
    ck_assert(serial[4].metric[POINT_METRIC_LATENCY_GAIN] >= 1.0);
    ck_assert(serial[4].metric[POINT_METRIC_TILES] <= serial[4].metric[POINT_METRIC_BUDGET_TILES]);
    ck_assert(!isnan(serial[6].metric[POINT_METRIC_REWARD]));
}
END_TEST

/* accuracy.backend = functional: the point's accuracy is the functional backend's measurement of
 * the same policy on the same chip, made here directly, and says it is not an estimate; the
 * per-thread cache reuses the backend without changing the result. */
START_TEST(test_sweep_point_functional_accuracy)
{
    static const char *const mlp =
        "network = { name = \"m\"; input = { features = 16; tokens = 1; }; layers = (\n"
        "{ name = \"fc1\"; type = \"linear\"; out_features = 12; },\n"
        "{ name = \"relu1\"; type = \"relu\"; },\n"
        "{ name = \"fc2\"; type = \"linear\"; out_features = 10; } ); };\n";
    testdata_write_fmnist(dir, 200);
    char net_path[128], w_path[128];
    put("m.cfg", mlp, net_path, sizeof net_path);
    snprintf(w_path, sizeof w_path, "%s/w.h5", dir);
    err e;
    network net;
    ck_assert_int_eq(network_load_string(mlp, "m.cfg", &net, &e), 0);
    fnet *f;
    ck_assert_int_eq(fnet_create(&net, 5, &f, &e), 0); /* random weights: any accuracy will do */
    h5file *h;
    ck_assert_int_eq(h5file_create(w_path, &h, &e), 0);
    weights_meta meta = {.source = "test_sweep", .test_accuracy = -1};
    ck_assert_int_eq(weights_write(h, f, &meta, &e), 0);
    ck_assert_int_eq(h5file_commit(h, &e), 0);
    fnet_destroy(f);

    point_setting set[] = {{"arch", "lrmp"},
                           {"network", net_path},
                           {"policy.uniform", "3"},
                           {"arch.tiles.adc.strict_bits", "false"},
                           {"arch.tiles.adc.bits", "2"},
                           {"accuracy.backend", "functional"},
                           {"accuracy.weights", w_path},
                           {"accuracy.data", dir},
                           {"accuracy.holdout", "60"}};
    point_cache *c = point_cache_create();
    point_result r1, r2, r3;
    point_eval(POINT_JOB_MAP, set, 9, NULL, c, &r1);
    ck_assert_msg(r1.ok, "%s", r1.message);
    point_eval(POINT_JOB_MAP, set, 9, NULL, c, &r2); /* the cached backend */
    point_eval(POINT_JOB_MAP, set, 9, NULL, NULL, &r3);
    point_cache_destroy(c);
    ck_assert_double_eq(r1.metric[POINT_METRIC_ACCURACY], r2.metric[POINT_METRIC_ACCURACY]);
    ck_assert_double_eq(r1.metric[POINT_METRIC_ACCURACY], r3.metric[POINT_METRIC_ACCURACY]);
    ck_assert_double_eq(r1.metric[POINT_METRIC_ACCURACY_ESTIMATE], 0.0);

    arch a;
    testload_arch("lrmp", &a);
    a.tiles.adc.bits = 2;
    a.tiles.adc.strict_bits = false;
    acc_config ac;
    memset(&ac, 0, sizeof ac);
    ac.functional = (acc_functional_config){
        .net = &net, .weights = w_path, .data = dir, .holdout = 60, .seed = 1};
    acc_backend *b;
    ck_assert_int_eq(acc_create(ACC_BACKEND_FUNCTIONAL, &ac, &b, &e), 0);
    policy p;
    policy_uniform(&p, &net, 3, 3);
    acc_result want;
    ck_assert_int_eq(acc_evaluate(b, &net, &p, &a, &want, &e), 0);
    ck_assert(!want.estimate);
    ck_assert_double_eq(r1.metric[POINT_METRIC_ACCURACY], want.accuracy);
    acc_destroy(b);
    policy_fini(&p);
    arch_fini(&a);
    network_fini(&net);

    /* The proxy (default) says it estimates; functional without weights is the point's error. */
    point_eval(POINT_JOB_MAP, set, 5, NULL, NULL, &r1);
    ck_assert_msg(r1.ok, "%s", r1.message);
    ck_assert_double_eq(r1.metric[POINT_METRIC_ACCURACY_ESTIMATE], 1.0);
    point_setting no_weights[] = {
        {"arch", "lrmp"}, {"network", net_path}, {"accuracy.backend", "functional"}};
    point_eval(POINT_JOB_MAP, no_weights, 3, NULL, NULL, &r1);
    ck_assert(!r1.ok);
    ck_assert_msg(strstr(r1.message, "accuracy.weights: not set"), "%s", r1.message);
}
END_TEST

static sweep_spec journal_spec(err *e)
{
    sweep_spec s;
    ck_assert_int_eq(load("sweep = { " BASE "axes = ( { path = \"arch.tiles.adc.bits\"; values = "
                          "[1, 2, 3, 4, 5]; } ); metrics = [\"latency_us\", \"energy_uj\"]; };",
                          &s, e),
                     0);
    return s;
}

static point_result result(bool ok, double latency, double energy, const char *msg)
{
    point_result r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < POINT_METRIC_COUNT; i++)
        r.metric[i] = NAN;
    r.ok = ok;
    r.metric[POINT_METRIC_LATENCY] = latency;
    r.metric[POINT_METRIC_ENERGY] = energy;
    r.wall_s = 0.1 + latency;
    snprintf(r.message, sizeof r.message, "%s", msg);
    return r;
}

/* Journal lines come back bit for bit (hex floats); a torn last line is cut off and its point
 * runs again; a journal of another sweep is refused. */
START_TEST(test_sweep_journal)
{
    err e;
    sweep_spec s = journal_spec(&e);
    char out[128];
    snprintf(out, sizeof out, "%s/r.h5", dir);
    sweep_store st;
    sweep_store_init(&st, &s, 0, 1);
    sweep_journal j;
    ck_assert_int_eq(sweep_journal_open(&j, out, &st, &e), 0);
    point_result r[3] = {result(true, 1.0 / 3.0, -2.5e-300, ""),
                         result(false, NAN, NAN, "does not fit: 10 tiles"),
                         result(true, 123456.789, 0.1, "")};
    uint64_t k[3] = {4, 1, 2};
    for (int i = 0; i < 3; i++) {
        sweep_store_add(&st, k[i], &r[i]);
        ck_assert_int_eq(sweep_journal_append(&j, &st, k[i], &r[i], &e), 0);
    }
    sweep_journal_close(&j, false);
    sweep_store_fini(&st);
    char path[160];
    snprintf(path, sizeof path, "%s.journal", out);
    FILE *f = fopen(path, "a");
    fputs("3 1 0x1p-3 0x1p+1", f); /* torn: no newline */
    fclose(f);

    sweep_store_init(&st, &s, 0, 1);
    ck_assert_int_eq(sweep_journal_open(&j, out, &st, &e), 0);
    ck_assert_uint_eq(st.n, 3);
    ck_assert(!st.done[3] && st.done[4] && st.done[1] && st.done[2] && !st.done[0]);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(st.point[i], k[i]);
        ck_assert_int_eq(st.ok[i], r[i].ok);
        ck_assert_int_eq(memcmp(&st.metric[2 * i], &r[i].metric[POINT_METRIC_LATENCY], 8), 0);
        ck_assert_int_eq(memcmp(&st.metric[2 * i + 1], &r[i].metric[POINT_METRIC_ENERGY], 8), 0);
        ck_assert_int_eq(memcmp(&st.wall_s[i], &r[i].wall_s, 8), 0);
    }
    ck_assert_str_eq(st.message[1], "does not fit: 10 tiles");
    ck_assert_uint_eq(st.failed, 1);
    /* Appending after the cut gives a clean line. */
    point_result r3 = result(true, 7.0, 8.0, "");
    sweep_store_add(&st, 3, &r3);
    ck_assert_int_eq(sweep_journal_append(&j, &st, 3, &r3, &e), 0);
    sweep_journal_close(&j, false);
    sweep_store_fini(&st);
    sweep_store_init(&st, &s, 0, 1);
    ck_assert_int_eq(sweep_journal_open(&j, out, &st, &e), 0);
    ck_assert_uint_eq(st.n, 4);
    sweep_journal_close(&j, false);
    sweep_store_fini(&st);
    /* Another shard of the same file name: refused, the journal untouched. */
    sweep_store_init(&st, &s, 1, 2);
    ck_assert_int_eq(sweep_journal_open(&j, out, &st, &e), ERR_INPUT);
    ck_assert_msg(strstr(e.msg, "another sweep or shard"), "%s", e.msg);
    sweep_store_fini(&st);
    sweep_spec_fini(&s);
}
END_TEST

/* The results file is read back into the same rows; a shard's file refuses another shard. */
START_TEST(test_sweep_output_roundtrip)
{
    err e;
    sweep_spec s = journal_spec(&e);
    char out[128];
    snprintf(out, sizeof out, "%s/out.h5", dir);
    sweep_store st;
    sweep_store_init(&st, &s, 1, 2); /* points 1 and 3 */
    ck_assert_uint_eq(st.share, 2);
    point_result a = result(true, 5.5, 6.5, ""), b = result(false, NAN, NAN, "why");
    sweep_store_add(&st, 3, &a);
    sweep_store_add(&st, 1, &b);
    ck_assert_int_eq(sweep_output_write(out, &st, "xbarsim test", "2026-01-01T00:00:00Z", &e), 0);
    sweep_store back;
    sweep_store_init(&back, &s, 1, 2);
    ck_assert_int_eq(sweep_output_load(out, &back, &e), 0);
    ck_assert_uint_eq(back.n, 2);
    /* Written sorted by point: point 1 first. */
    ck_assert_uint_eq(back.point[0], 1);
    ck_assert(!back.ok[0]);
    ck_assert_str_eq(back.message[0], "why");
    ck_assert_uint_eq(back.point[1], 3);
    ck_assert_double_eq(back.metric[2], 5.5);
    ck_assert_double_eq(back.metric[3], 6.5);
    sweep_store_fini(&back);
    sweep_store_init(&back, &s, 0, 2);
    ck_assert_int_eq(sweep_output_load(out, &back, &e), ERR_INPUT);
    sweep_store_fini(&back);
    sweep_store_fini(&st);
    sweep_spec_fini(&s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *t = tcase_create("sweep");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 240);
    tcase_add_test(t, test_sweep_ranges);
    tcase_add_test(t, test_sweep_product_and_zip);
    tcase_add_test(t, test_sweep_errors);
    tcase_add_test(t, test_sweep_missing_ranges);
    tcase_add_test(t, test_sweep_point_reaches_model);
    tcase_add_test(t, test_sweep_points_parallel_equal_serial);
    tcase_add_test(t, test_sweep_point_functional_accuracy);
    tcase_add_test(t, test_sweep_journal);
    tcase_add_test(t, test_sweep_output_roundtrip);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return testutil_run(suite());
}
