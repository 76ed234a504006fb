/* exec: the chip executing a program on the engine -- N inferences streamed through the tiles,
 * buses and vector modules the program uses. One controller component per task (kind "layer",
 * control logic, not hardware) sequences its copies' vectors through four stages: input bus ->
 * every tile of the copy at once -> output bus -> vector module. Every shared part is an engine
 * resource, so contention is real. Invariant: with overlap off every task's time for an inference
 * equals the analytic model's T_l to the tick (see exec_options).
 */
#ifndef XBARSIM_COMPONENTS_EXEC_H
#define XBARSIM_COMPONENTS_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "cost.h"
#include "program.h"
#include "sim.h"

typedef struct exec_options {
    uint64_t inferences; /* inferences streamed, all available at time 0, count >= 1 */
    /* true: vectors pipeline through a copy's stages (one vector per stage, one buffered between
     * stages), layers pipeline across inferences (a layer starts inference i when it has finished
     * i - 1, its producers have delivered i and its consumers have finished i - 2: double-
     * buffered outputs), and copies share their group's buses and vector module.
     * false: the analytic model's schedule -- one inference at a time, one layer at a time in
     * program order, one vector at a time through each copy, and each copy with buses and a vector
     * module of its own (no contention). */
    bool overlap;
} exec_options;

typedef struct exec_task_result {
    uint64_t done;          /* inferences finished, count */
    simtime first_start_ps; /* inference 0 entered the task, ps */
    simtime first_end_ps;   /* inference 0 left it (its last copy finished), ps */
    simtime max_time_ps;    /* largest end - start over the inferences, ps */
    double sum_time_ps;     /* sum of end - start over the inferences, ps */
    simtime busy_tile_ps;   /* tile service (VMMs, writes) it caused, summed over tiles, ps */
    double energy_pj[COST_E_COUNT]; /* dynamic energy per inference by category, pJ */
} exec_task_result;

typedef struct exec exec;

/* Build the chip program p needs on s: its tiles, buses and vector modules (created on first use,
 * named "tile<id>", "g<group>.in_bus", "g<group>.out_bus", "vm<index>"; with overlap off the
 * buses and vector module of each copy are its own, "<layer>.c<copy>.in_bus" ...), and one
 * controller per task ("layer.<name>"). a and p must outlive the exec. Owned by the caller:
 * exec_destroy (the components belong to s). */
exec *exec_create(sim *s, const arch *a, const program *p, const exec_options *o);
void exec_destroy(exec *x);

/* Schedule the first inference's start at now. Then sim_run() runs everything. */
void exec_start(exec *x);

/* Inferences finished by every task, count; all done when it equals the option's count. */
uint64_t exec_inferences_done(const exec *x);
/* Tasks' inference completions so far (progress), count, out of tasks x inferences. */
uint64_t exec_task_completions(const exec *x);

const exec_task_result *exec_task(const exec *x, unsigned task);
/* Per-inference records are kept for the last EXEC_INFERENCE_WINDOW finished inferences only
 * (at least 2 x tasks + 2), so memory does not grow with the inference count. */
#define EXEC_INFERENCE_WINDOW 65536u

/* Inference i, finished and within the window (i >= exec_inference_window_first): its first
 * task's start and its last task's end, ps. */
simtime exec_inference_start(const exec *x, uint64_t i);
simtime exec_inference_end(const exec *x, uint64_t i);
/* The first inference whose record is still kept (0 unless more than the window finished). */
uint64_t exec_inference_window_first(const exec *x);
/* Inference 0's latency (end of its last task - start of its first), and the latest end of any
 * inference (the makespan), ps; kept whatever the window. */
simtime exec_latency0_ps(const exec *x);
simtime exec_makespan_ps(const exec *x);

/* The tile group a component belongs to (-1 for controllers); id from sim_component. */
int64_t exec_component_group(const exec *x, uint32_t id);
/* Tiles the program occupies (weight-stationary: tiles holding weights; reprogram: crossbars
 * used), count. */
uint64_t exec_tiles_used(const exec *x);
/* Busy crossbar time summed over the tiles, ps, in [0, sim_now]; call after sim_finish. */
simtime exec_tile_busy_ps(const exec *x);

/* Dynamic energy of the whole run by category, pJ, after sim_finish: what the chip's components
 * charged (chip_component_account over every component). The static categories are 0: static
 * energy is the chip's, from cost_static_energy over exec_usage and a time base. */
void exec_dynamic_energy(const exec *x, double out[COST_E_COUNT]);

/* The steady-state period, ps, measured over a window that leaves out the pipeline's fill: the
 * completions of inferences first = N/2 (rounded down) .. N-1, from the end of inference first - 1
 * to the end of N - 1, divided by their count (*first set to `first`). With one inference there
 * is no steady state: the latency of inference 0 (*first = 0). After every inference finished. */
double exec_steady_period_ps(const exec *x, uint64_t *first);

/* What the run used, per inference, after sim_finish: the tiles created, the groups holding
 * them, and the crossbar and vector-lane busy times measured over the run divided by the
 * inferences (every inference does the same work). */
cost_usage exec_usage(const exec *x);

#endif
