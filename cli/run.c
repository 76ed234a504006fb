/* run: the reusable part of `xbarsim run` (see run.h) -- a built run_ctx simulated to the end
 * with the progress line, and the network totals of a finished simulation. cmd_run.c (the
 * command) and point.c (sweep points of job run) both call these, so a point's figures are the
 * command's.
 */
#include "run.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static void progress(const run_ctx *r, cli_progress *bar, bool last)
{
    char note[64];
    snprintf(note, sizeof note, "%llu/%llu inferences",
             (unsigned long long)exec_inferences_done(r->x), (unsigned long long)r->inferences);
    cli_progress_update(bar, exec_task_completions(r->x), (uint64_t)r->p.n * r->inferences, note,
                        last);
}

void run_simulate(run_ctx *r, bool show)
{
    double started = wallclock_s();
    cli_progress bar;
    cli_progress_start(&bar, show && r->p.n);
    exec_start(r->x);
    if (!bar.enabled) {
        sim_run(r->s);
    } else {
        simtime step = r->mo.latency_ps / 50 ? r->mo.latency_ps / 50 : 1;
        while (sim_run_until(r->s, sim_now(r->s) + step) == SIM_UNTIL)
            progress(r, &bar, false);
        if (bar.shown)
            progress(r, &bar, true);
        cli_progress_end(&bar);
    }
    r->wall_s = wallclock_s() - started;
    r->events = sim_events_handled(r->s);
    /* The last event's time: sim_run_until may have moved now past it. */
    r->makespan_ps = exec_makespan_ps(r->x);
    sim_finish(r->s);
}

void run_totals_compute(const run_ctx *r, run_totals *t)
{
    memset(t, 0, sizeof *t);
    uint64_t n = r->inferences;
    t->latency_ps = exec_latency0_ps(r->x);
    t->period_ps = exec_steady_period_ps(r->x, &t->window_first);
    t->throughput_per_s = t->period_ps > 0 ? 1e12 / t->period_ps : 0.0;

    double dyn[COST_E_COUNT];
    exec_dynamic_energy(r->x, dyn);
    for (int c = 0; c < COST_E_COUNT; c++)
        dyn[c] /= (double)n;
    t->usage = exec_usage(r->x);
    t->macs = r->mo.macs;
    memcpy(t->energy_single_pj, dyn, sizeof dyn);
    memcpy(t->energy_steady_pj, dyn, sizeof dyn);
    cost_static_energy(&r->a, &t->usage, (double)t->latency_ps, t->energy_single_pj);
    cost_static_energy(&r->a, &t->usage, t->period_ps, t->energy_steady_pj);
    t->energy_single_total_pj = cost_total(t->energy_single_pj);
    t->energy_steady_total_pj = cost_total(t->energy_steady_pj);

    t->tiles_used = exec_tiles_used(r->x);
    double denom = (double)t->tiles_used * (double)r->makespan_ps;
    t->utilisation = denom > 0 ? (double)exec_tile_busy_ps(r->x) / denom : 0.0;
    t->edp_pj_s = t->energy_single_total_pj * simtime_to_s(t->latency_ps);
}
