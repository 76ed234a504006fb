/* phold: the PHOLD synthetic benchmark (Fujimoto 1990) on the xbarsim kernel.
 * N logical processes hold E events each; handling an event schedules one more at
 * now + lookahead + Exp(mean 1) time units, to a uniformly random other LP with probability p and
 * to itself otherwise. The pending count stays N*E, so the event rate measures the kernel and its
 * queue at that size. One time unit is 1 us of simulated time (1e6 ps ticks).
 * Draws come from each LP's own inline xoshiro256++ stream kept in the LP (exponential by
 * ziggurat), or, with --draw gsl, from its GSL stream as before (exponential by inversion).
 */
#include <getopt.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rng.h"
#include "sim.h"

#define UNIT_PS 1e6 /* ps per PHOLD time unit */

typedef struct phold_params {
    uint32_t lps;     /* N, count */
    uint32_t events;  /* E per LP, count */
    double remote;    /* p, probability of a remote destination */
    double lookahead; /* minimum increment, time units */
    uint64_t handled; /* events to handle per measured run, count */
    uint64_t seed;
    int repeat;    /* runs per configuration; the median is reported */
    bool draw_gsl; /* draws from the component's GSL stream instead of the inline one */
} phold_params;

typedef struct phold_lp {
    component base;
    const phold_params *prm;
    rng_fast rng; /* own inline stream, seeded for (run seed, component id) */
} phold_lp;

/* An Exp(mean 1) draw by inversion of a GSL uniform on (0, 1): the same distribution as
 * gsl_ran_exponential, whose log1p costs about twice libm's log on this kernel's hot path. */
static inline double exp1(gsl_rng *r)
{
    return -log(gsl_rng_uniform_pos(r));
}

/* Time units to ticks, rounded to nearest (units >= 0). */
static inline simtime units_to_ps(double units)
{
    return (simtime)(units * UNIT_PS + 0.5);
}

/* Remote probability p as a threshold on a 53-bit draw: remote when draw < threshold. */
static inline uint64_t remote_threshold(double p)
{
    return p >= 1.0 ? UINT64_C(1) << 53 : (uint64_t)(p * 0x1.0p53);
}

static void lp_handle_fast(component *c, const event *ev)
{
    (void)ev;
    phold_lp *lp = (phold_lp *)c;
    const phold_params *prm = lp->prm;
    simtime delay = units_to_ps(prm->lookahead + rng_fast_exp1(&lp->rng));
    uint32_t to = c->id;
    if (prm->lps > 1 && (rng_fast_next(&lp->rng) >> 11) < remote_threshold(prm->remote)) {
        to = rng_fast_below(&lp->rng, prm->lps - 1);
        if (to >= c->id)
            to++;
    }
    sim_schedule_in(c->sim, delay, to, 0, 0, NULL);
}

static void lp_handle_gsl(component *c, const event *ev)
{
    (void)ev;
    phold_lp *lp = (phold_lp *)c;
    const phold_params *prm = lp->prm;
    gsl_rng *r = component_rng(c);
    simtime delay = units_to_ps(prm->lookahead + exp1(r));
    uint32_t to = c->id;
    if (prm->lps > 1 && gsl_rng_uniform(r) < prm->remote) {
        to = (uint32_t)gsl_rng_uniform_int(r, prm->lps - 1);
        if (to >= c->id)
            to++;
    }
    sim_schedule_in(c->sim, delay, to, 0, 0, NULL);
}

static const component_ops lp_fast_ops = {.kind = "phold_lp", .handle = lp_handle_fast};
static const component_ops lp_gsl_ops = {.kind = "phold_lp", .handle = lp_handle_gsl};
static const component_class lp_fast_class = {.size = sizeof(phold_lp), .ops = &lp_fast_ops};
static const component_class lp_gsl_class = {.size = sizeof(phold_lp), .ops = &lp_gsl_ops};

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct phold_result {
    double rate;      /* handled events per wall second */
    double cpu_rate;  /* handled events per CPU second of this thread (robust to a loaded host) */
    uint64_t handled; /* events handled in the measured run, count */
    double seconds;   /* wall time of the measured run, s */
    double sim_units; /* simulated time covered, time units */
} phold_result;

static phold_result phold_once(const phold_params *prm, evq_kind queue)
{
    sim_options o;
    sim_options_default(&o);
    o.queue = queue;
    o.seed = prm->seed;
    o.event_malloc = false;
    sim *s = sim_create(&o);
    const component_class *cls = prm->draw_gsl ? &lp_gsl_class : &lp_fast_class;
    for (uint32_t i = 0; i < prm->lps; i++) {
        phold_lp *lp = (phold_lp *)sim_create_component(s, cls, "lp");
        lp->prm = prm;
        rng_fast_seed(&lp->rng, prm->seed, lp->base.id);
    }
    /* Initial events: E per LP at lookahead + Exp(1). */
    for (uint32_t i = 0; i < prm->lps; i++) {
        phold_lp *lp = (phold_lp *)sim_component(s, i);
        for (uint32_t e = 0; e < prm->events; e++) {
            double x = prm->draw_gsl ? exp1(component_rng(&lp->base)) : rng_fast_exp1(&lp->rng);
            sim_schedule_at(s, units_to_ps(prm->lookahead + x), i, 0, 0, NULL);
        }
    }
    /* Each LP handles an event about every (lookahead + 1) / E units: pick the end time that
     * gives roughly the requested number of events. */
    double units = (double)prm->handled * (1.0 + prm->lookahead) / ((double)prm->lps * prm->events);
    simtime end = units_to_ps(units);
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    sim_run_until(s, end);
    double t1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    phold_result res = {
        .handled = sim_events_handled(s),
        .seconds = t1 - t0,
        .sim_units = units,
    };
    res.rate = (double)res.handled / res.seconds;
    res.cpu_rate = (double)res.handled / (c1 - c0);
    sim_destroy(s);
    return res;
}

static int cmp_result(const void *a, const void *b)
{
    double x = ((const phold_result *)a)->rate, y = ((const phold_result *)b)->rate;
    return (x > y) - (x < y);
}

static int cmp_cpu_rate(const void *a, const void *b)
{
    double x = ((const phold_result *)a)->cpu_rate, y = ((const phold_result *)b)->cpu_rate;
    return (x > y) - (x < y);
}

/* The queue a simulator gets by default. */
static evq_kind default_queue(void)
{
    sim_options o;
    sim_options_default(&o);
    return o.queue;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: phold [options]\n"
            "  -n, --lps N          logical processes (default 1024)\n"
            "  -e, --events E       initial events per LP (default 16)\n"
            "  -p, --remote P       probability of a remote destination (default 0.9)\n"
            "  -l, --lookahead L    minimum timestamp increment, time units (default 0.1)\n"
            "  -m, --handled M      events per measured run (default 20000000)\n"
            "  -q, --queue NAME     heap2, heap4, ladder or all (default all)\n"
            "  -r, --repeat K       runs per queue, median reported (default 5)\n"
            "  -s, --seed S         run seed (default 1)\n"
            "  -d, --draw KIND      fast (inline xoshiro256++, ziggurat; default) or gsl (each\n"
            "                       LP's GSL stream, exponential by inversion: the old draws)\n"
            "  -h, --help           this text\n"
            "One time unit is 1 us of simulated time. Output: one line per queue with the median\n"
            "rate (committed events per wall second), its min and max, the median rate per CPU\n"
            "second of the simulating thread (what a loaded host leaves of it), and the\n"
            "parameters; queues run interleaved, and each is compared with heap4.\n");
}

static int parse_args(int argc, char **argv, phold_params *prm, int *queue)
{
    static const struct option longopts[] = {
        {"lps", required_argument, NULL, 'n'},
        {"events", required_argument, NULL, 'e'},
        {"remote", required_argument, NULL, 'p'},
        {"lookahead", required_argument, NULL, 'l'},
        {"handled", required_argument, NULL, 'm'},
        {"queue", required_argument, NULL, 'q'},
        {"repeat", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 's'},
        {"draw", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "n:e:p:l:m:q:r:s:d:h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'n':
            prm->lps = (uint32_t)strtoul(optarg, &end, 10);
            break;
        case 'e':
            prm->events = (uint32_t)strtoul(optarg, &end, 10);
            break;
        case 'p':
            prm->remote = strtod(optarg, &end);
            break;
        case 'l':
            prm->lookahead = strtod(optarg, &end);
            break;
        case 'm':
            prm->handled = strtoull(optarg, &end, 10);
            break;
        case 'r':
            prm->repeat = (int)strtol(optarg, &end, 10);
            break;
        case 's':
            prm->seed = strtoull(optarg, &end, 10);
            break;
        case 'd':
            if (strcmp(optarg, "fast") == 0 || strcmp(optarg, "gsl") == 0) {
                prm->draw_gsl = optarg[0] == 'g';
            } else {
                fprintf(stderr, "phold: --draw: unknown '%s' (expected fast or gsl)\n", optarg);
                return -1;
            }
            break;
        case 'q': {
            evq_kind k;
            if (strcmp(optarg, "all") == 0) {
                *queue = -1;
            } else if (evq_kind_parse(optarg, &k) == 0) {
                *queue = (int)k;
            } else {
                fprintf(stderr,
                        "phold: --queue: unknown queue '%s' (expected heap2, heap4, "
                        "ladder or all)\n",
                        optarg);
                return -1;
            }
            break;
        }
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
        if (end && *end) {
            fprintf(stderr, "phold: -%c: '%s' is not a number\n", c, optarg);
            return -1;
        }
    }
    if (prm->lps < 1 || prm->events < 1 || prm->remote < 0 || prm->remote > 1 ||
        prm->lookahead < 0 || prm->handled < 1 || prm->repeat < 1) {
        fprintf(stderr, "phold: expected N >= 1, E >= 1, 0 <= p <= 1, L >= 0, M >= 1, K >= 1\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    phold_params prm = {.lps = 1024,
                        .events = 16,
                        .remote = 0.9,
                        .lookahead = 0.1,
                        .handled = 20000000,
                        .seed = 1,
                        .repeat = 5};
    int queue = -1;
    if (parse_args(argc, argv, &prm, &queue) != 0)
        return 2;
    printf("phold: N=%u E=%u pending=%llu p=%.3g lookahead=%.3g handled/run~%llu repeat=%d "
           "seed=%llu draw=%s\n",
           prm.lps, prm.events, (unsigned long long)prm.lps * prm.events, prm.remote, prm.lookahead,
           (unsigned long long)prm.handled, prm.repeat, (unsigned long long)prm.seed,
           prm.draw_gsl ? "gsl" : "fast");
    printf("%-7s %14s %14s %14s %15s %12s\n", "queue", "median ev/s", "min ev/s", "max ev/s",
           "median ev/cpu-s", "events/run");
    /* Runs interleave the queues (rep 1 of each, then rep 2, ...) so that a change in the load
     * of the host falls on all of them alike. */
    phold_result *res = calloc((size_t)EVQ_KIND_COUNT * (size_t)prm.repeat, sizeof *res);
    if (!res)
        return 1;
    for (int i = 0; i < prm.repeat; i++)
        for (int k = 0; k < EVQ_KIND_COUNT; k++)
            if (queue < 0 || k == queue)
                res[k * prm.repeat + i] = phold_once(&prm, (evq_kind)k);
    double median[EVQ_KIND_COUNT] = {0};
    for (int k = 0; k < EVQ_KIND_COUNT; k++) {
        if (queue >= 0 && k != queue)
            continue;
        phold_result *r = res + k * prm.repeat;
        qsort(r, (size_t)prm.repeat, sizeof *r, cmp_cpu_rate);
        double cpu = r[prm.repeat / 2].cpu_rate;
        qsort(r, (size_t)prm.repeat, sizeof *r, cmp_result);
        median[k] = r[prm.repeat / 2].rate;
        printf("%-7s %14.4g %14.4g %14.4g %15.4g %12llu%s\n", evq_kind_name((evq_kind)k), median[k],
               r[0].rate, r[prm.repeat - 1].rate, cpu,
               (unsigned long long)r[prm.repeat / 2].handled,
               (evq_kind)k == default_queue() ? "   (default)" : "");
    }
    if (queue < 0)
        for (int k = 0; k < EVQ_KIND_COUNT; k++)
            if ((evq_kind)k != EVQ_HEAP4)
                printf("ratio %s / heap4 (median wall rates): %.2fx\n", evq_kind_name((evq_kind)k),
                       median[k] / median[EVQ_HEAP4]);
    free(res);
    return 0;
}
