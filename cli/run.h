/* run: `xbarsim run` -- a mapped network simulated on the chip, its summary on stdout and its
 * HDF5 file (schema in traces/README.md). cmd_run.c loads, maps and prints; run.c simulates and
 * totals (point.c's sweep points too); runout.c writes the file. Invariant: both read the same
 * run_ctx and run_totals, so the printed summary and /summary agree.
 */
#ifndef XBARSIM_CLI_RUN_H
#define XBARSIM_CLI_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "cost.h"
#include "err.h"
#include "exec.h"
#include "h5file.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "program.h"
#include "sim.h"
#include "trace.h"

/* Everything one run loaded, built and measured. */
typedef struct run_ctx {
    /* options, resolved */
    const char *config_path; /* CONFIG, or NULL for the embedded default */
    char *command_line;      /* owned */
    char *config_text;       /* the resolved configuration as text, owned */
    uint64_t inferences;     /* count */
    bool overlap;
    trace_level trace;
    uint64_t seed;
    mapping_placement placement;
    /* inputs */
    arch a;
    network n;
    policy pol;
    unsigned *copies; /* per crossbar layer, owned */
    mapping m;
    model mo;
    program p;
    /* the simulation */
    sim *s;
    exec *x;
    simtime makespan_ps; /* end of the last event, ps */
    double wall_s;       /* wall-clock time of the simulation, s */
    uint64_t events;     /* events handled, count */
    char start_time[32]; /* UTC, ISO 8601 */
} run_ctx;

/* Network figures, simulated and analytic, as printed and as written to /summary/network. */
/* The steady state is measured over a window that leaves out the fill: the completions of
 * inferences N/2 .. N-1 (rounded down), from the end of inference N/2 - 1 to the end of N - 1.
 * With one inference there is no steady state: the period is the latency. */
typedef struct run_totals {
    simtime latency_ps;      /* inference 0, ps */
    double period_ps;        /* steady-state period: window length / inferences in it, ps */
    uint64_t window_first;   /* first inference whose completion the window counts, index */
    double throughput_per_s; /* 1 / period, inferences/s */
    cost_usage usage;        /* tiles, groups and measured busy times per inference */
    uint64_t macs;           /* multiply-accumulates per inference, count */
    /* Energy per inference by category, pJ: dynamic (as the components charged it, / N) plus
     * static power x latency (single) or x period (steady). */
    double energy_single_pj[COST_E_COUNT];
    double energy_steady_pj[COST_E_COUNT];
    double energy_single_total_pj; /* pJ */
    double energy_steady_total_pj; /* pJ */
    uint64_t tiles_used;           /* count */
    double utilisation;            /* busy tile time / (tiles used x makespan), fraction */
    double edp_pj_s;               /* single-inference energy x latency, pJ*s */
} run_totals;

void run_totals_compute(const run_ctx *r, run_totals *t);

/* Simulate r (sim and exec created) to the end, with a progress bar on stderr when bar is true
 * and the run takes over a second; sets wall_s, events and makespan_ps, and finishes the sim. */
void run_simulate(run_ctx *r, bool bar);

/* Write the whole file except the trace (which the trace sink appended during the run): /meta,
 * /mapping/layers, /components, /summary/... Returns 0 or negative with e set. */
int runout_write(h5file *f, const run_ctx *r, const run_totals *t, err *e);

/* Names of the trace's activity kinds (the chip's), for /trace/events' kind_names. */
extern const char *const runout_kind_names[];
extern const size_t runout_kind_count;

#endif
