/* cmd_sweep: the `xbarsim sweep` command -- every point of a sweep file evaluated on OpenMP
 * threads, or on MPI ranks fed from a dynamic work queue, or a Slurm shard's share of them; results
 * kept in a journal as they finish and written to HDF5 (sweepout.h). Exit status: 0 every point of
 * the share evaluated (failed points included: they are results); 1 interrupted or the output could
 * not be written (the journal keeps what was done: the same command resumes); 2 bad input.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <omp.h>
#ifdef XBARSIM_MPI
#include <mpi.h>
#endif

#include "cli.h"
#include "jsonw.h"
#include "mem.h"
#include "opt.h"
#include "point.h"
#include "search.h"
#include "sweepcfg.h"
#include "sweepout.h"

typedef struct sweep_opts {
    const char *file;      /* SWEEP.cfg */
    const char *out;       /* results .h5 */
    const char *shard_arg; /* I/N as given */
    long long threads;     /* OpenMP threads, 0: OpenMP's default */
    unsigned shard;        /* this shard */
    unsigned shards;       /* shards in all (1: no sharding) */
    double snapshot_s;     /* rewrite the HDF5 file at most this often while running, s */
    bool list;             /* print the points, run nothing */
    bool estimate;         /* time a sample of points, project the sweep, run nothing else */
    long long sample;      /* --estimate: points timed, count */
    long long task_cores;  /* --estimate: cores of one array task, count */
    double task_hours;     /* --estimate: wall time of one array task, h */
    bool quiet;            /* no summary */
    bool json;             /* the summary as JSON */
} sweep_opts;

/* A running sweep: what every worker thread (or rank 0) records into, under one lock. */
typedef struct runner {
    const sweep_spec *spec;
    sweep_store st;
    sweep_journal j;
    const sweep_opts *o;
    char *command_line;   /* owned */
    char start_time[32];  /* UTC, ISO 8601 */
    double started;       /* wall clock at start, s */
    double last_snapshot; /* wall clock of the last HDF5 write, s */
    uint64_t todo;        /* points to evaluate in this session, count */
    uint64_t done_now;    /* of which finished, count */
    cli_progress bar;     /* on stderr */
    bool io_failed;       /* the journal or the file could not be written: stop */
    err io_err;
} runner;

static volatile sig_atomic_t stop_requested; /* SIGINT / SIGTERM: finish the points in flight */

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

#ifdef XBARSIM_MPI
#define MPI_NOTE "This build: MPI built in.\n"
#else
#define MPI_NOTE "This build: MPI not built in (ranks would each run the whole sweep).\n"
#endif

static const opt_spec sweep_table[] = {
    OPT_STR("-o", "FILE.h5", sweep_opts, out,
            "output (default traces/sweep.h5). While the sweep runs, every finished\n"
            "point is appended to FILE.h5.journal; killed and started again with\n"
            "the same command, it skips the points already done"),
    OPT_INT("-j", "THREADS", sweep_opts, threads, 1, 1024,
            "OpenMP threads evaluating points (default: OMP_NUM_THREADS or the\n"
            "cores; -j2 is -j 2); results do not depend on it"),
    OPT_STR("--shard", "I/N", sweep_opts, shard_arg,
            "evaluate only points k with k mod N = I (0 <= I < N), e.g. one task of\n"
            "a Slurm job array; join the shard files with `xbarsim merge`"),
    OPT_REAL("--snapshot", "S", sweep_opts, snapshot_s, 0.0, 1e9,
             "rewrite FILE.h5 with the points so far at most every S s (default 60;\n"
             "0: only at the end)"),
    OPT_FLAG("--list", sweep_opts, list, "print the points' settings and exit", .group = 1),
    OPT_FLAG("--estimate", sweep_opts, estimate,
             "time a sample of points (--sample, evenly spaced through the\n"
             "sweep, one after the other on one core), print the projected\n"
             "core-hours of the whole sweep (mean s per point x points / 3600)\n"
             "and a Slurm array of ceil(1.25 x core-hours / (C x H)) tasks (at\n"
             "most one per point; 1.25: headroom for the spread between points)\n"
             "for tasks of --task-cores C cores and --task-hours H; writes nothing",
             .group = 1),
    OPT_INT("--sample", "N", sweep_opts, sample, 1, 100000,
            "--estimate: points timed (default 8; all of them in a smaller\n"
            "sweep): point floor((2i + 1) P / 2N) for i = 0 .. N-1 of P"),
    OPT_REAL("--task-hours", "H", sweep_opts, task_hours, 0.001, 10000.0,
             "--estimate: wall time of one array task, h (default 1: the\n"
             "--time of scripts/slurm/sweep_array.sbatch)"),
    OPT_INT("--task-cores", "C", sweep_opts, task_cores, 1, 1024,
            "--estimate: cores of one array task (default 2: the script's\n"
            "--cpus-per-task, its -j)"),
    OPT_FLAG("-q", sweep_opts, quiet, "no summary"),
    OPT_FLAG("--json", sweep_opts, json,
             "the summary as one JSON object (points done and failed, the first\n"
             "failures, axes that change no metric, the output file)"),
};

static const opt_command sweep_command = {
    .name = "sweep",
    .args = "SWEEP.cfg",
    .args_min = 1,
    .args_max = 1,
    .about =
        "Evaluate every point of a parameter sweep: the base settings with one value of each\n"
        "axis (all combinations, or the axes zipped), running the sweep's job at each point --\n"
        "map (analytic model), run (event simulation), replicate (copies under a tile budget)\n"
        "or search (precision search) -- and keep the metrics it names. Results go to\n"
        "/sweep/points of FILE.h5, one row per point (axis values, metrics, status, message,\n"
        "wall time; schema in traces/README.md; scripts/xbarsim_trace.py sweep reads and plots\n"
        "it). A point that fails (say, a combination that does not fit the chip) is recorded\n"
        "with its message and the sweep goes on. Sweep files: configs/sweep/README.md.\n",
    .after =
        "Under `mpirun -n K xbarsim sweep ...` (built with Open MPI) the ranks take points from a\n"
        "dynamic queue that rank 0 serves between its own points; rank 0 writes the file.\n\n"
        "Exit status: 0 every point evaluated (failed points are results); 1 interrupted or the\n"
        "output could not be written (run the same command again to resume); 2 bad "
        "input.\n\n" MPI_NOTE,
    .opts = sweep_table,
    .n_opts = OPT_COUNT(sweep_table),
};

static int parse_args(int argc, char **argv, sweep_opts *o)
{
    int rc = opt_parse_arg(&sweep_command, argc, argv, o, &o->file);
    if (rc == OPT_GO && o->shard_arg &&
        sweep_shard_parse(o->shard_arg, &o->shard, &o->shards) < 0) {
        fprintf(stderr, "xbarsim sweep: --shard: found '%s', expected I/N with 0 <= I < N\n",
                o->shard_arg);
        rc = 2;
    }
    return rc;
}

/* ---- evaluating and recording -------------------------------------------------------------- */

/* A point's error about a value its axis set ("--set PATH=VALUE: ...") is the sweep file's: say
 * so with the axis's file:line, as the load-time errors do. */
static void locate_message(const sweep_spec *s, point_result *res)
{
    if (res->ok || strncmp(res->message, "--set ", 6) != 0)
        return;
    const char *path = res->message + 6, *eq = strchr(path, '=');
    if (!eq)
        return;
    size_t n = (size_t)(eq - path);
    for (unsigned k = 0; k < s->n_axes; k++)
        if (strlen(s->axes[k].path) == n && strncmp(s->axes[k].path, path, n) == 0) {
            char buf[sizeof res->message];
            /* cut to the column's width, as point_eval cuts the message itself */
            if (snprintf(buf, sizeof buf, "%s:%u: sweep.axes.[%u]: %s", s->origin, s->axes[k].line,
                         k, res->message) >= (int)sizeof buf)
                buf[sizeof buf - 1] = '\0';
            memcpy(res->message, buf, sizeof buf);
            return;
        }
}

static void eval_point(const sweep_spec *s, uint64_t k, point_cache *c, point_result *res)
{
    point_setting *set = mem_calloc(s->n_base + s->n_axes + 1, sizeof *set, "point settings");
    unsigned n = sweep_point_settings(s, k, set);
    point_eval(s->job, set, n, s->dir, c, res);
    locate_message(s, res);
    free(set);
}

static void progress(runner *r, bool last)
{
    double t = wallclock_s() - r->started;
    char note[96];
    snprintf(note, sizeof note, "%" PRIu64 "/%" PRIu64 " points  %.1f points/s", r->done_now,
             r->todo, t > 0 ? (double)r->done_now / t : 0.0);
    cli_progress_update(&r->bar, r->done_now, r->todo, note, last);
    if (last)
        cli_progress_end(&r->bar);
}

/* Record point k (called under the lock): memory, journal, a snapshot when one is due. */
static void record(runner *r, uint64_t k, const point_result *res)
{
    if (r->io_failed)
        return;
    sweep_store_add(&r->st, k, res);
    r->done_now++;
    if (sweep_journal_append(&r->j, &r->st, k, res, &r->io_err) < 0) {
        r->io_failed = true;
        return;
    }
    double now = wallclock_s();
    if (r->o->snapshot_s > 0 && now - r->last_snapshot >= r->o->snapshot_s &&
        r->done_now < r->todo) {
        if (sweep_output_write(r->o->out, &r->st, r->command_line, r->start_time, &r->io_err) < 0)
            r->io_failed = true;
        r->last_snapshot = now;
    }
    progress(r, false);
}

static void run_threads(runner *r, const uint64_t *pending, uint64_t n)
{
    int threads = r->o->threads > 0 ? (int)r->o->threads : omp_get_max_threads();
    int64_t count = (int64_t)n;
#pragma omp parallel num_threads(threads)
    {
        point_cache *c = point_cache_create(); /* this thread's */
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < count; i++) {
            bool skip;
#pragma omp atomic read
            skip = r->io_failed;
            if (skip || stop_requested)
                continue;
            point_result res;
            eval_point(r->spec, pending[i], c, &res);
#pragma omp critical(sweep_record)
            record(r, pending[i], &res);
        }
        point_cache_destroy(c);
    }
}

/* ---- MPI: rank 0 serves a queue between its own points -------------------------------------- */

#ifdef XBARSIM_MPI
enum { TAG_ASSIGN = 1, TAG_RESULT = 2 };
/* Points per assignment at most (guided: fewer as the queue empties). A batch's results go back
 * in one message of MPI_CHUNK x ~430 bytes: kept under Open MPI's shared-memory eager limit
 * (4 KiB), so a worker's send never waits for rank 0, which only enters MPI between its own
 * points, to accept a rendezvous (with 32 a batch, 2 ranks ran at 54 % efficiency, not 90 %). */
#define MPI_CHUNK 8

/* An assignment: `count` points (0: nothing more); results come back as `count` wires. */
typedef struct batch {
    uint64_t count;
    uint64_t point[MPI_CHUNK];
} batch;

typedef struct wire {
    uint64_t point; /* index */
    point_result r; /* its result */
} wire;

static bool mpi_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

/* Send worker w its next batch (guided: a quarter of the remaining points per rank, at most
 * MPI_CHUNK), or an empty one when there is nothing left; *qi advances, *out counts the points
 * assigned and not yet returned. */
static void assign(int w, int ranks, const uint64_t *pending, uint64_t n, uint64_t *qi,
                   uint64_t *out)
{
    batch b = {0};
    if (*qi < n && !stop_requested) {
        uint64_t left = n - *qi, size = left / (4 * (uint64_t)ranks);
        size = size < 1 ? 1 : size > MPI_CHUNK ? MPI_CHUNK : size;
        for (b.count = 0; b.count < size; b.count++)
            b.point[b.count] = pending[(*qi)++];
    }
    *out += b.count;
    MPI_Send(&b, (int)(sizeof(uint64_t) * (1 + b.count)), MPI_BYTE, w, TAG_ASSIGN, MPI_COMM_WORLD);
}

/* Take the results waiting (or, with block, wait for one message), record them and send their
 * worker its next batch. */
static void take_results(runner *r, int ranks, const uint64_t *pending, uint64_t n, uint64_t *qi,
                         uint64_t *out, bool block, wire *buf)
{
    int flag = 1;
    MPI_Status s;
    if (!block)
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &s);
    while (flag) {
        MPI_Recv(buf, (int)(sizeof *buf * MPI_CHUNK), MPI_BYTE, MPI_ANY_SOURCE, TAG_RESULT,
                 MPI_COMM_WORLD, &s);
        int bytes;
        MPI_Get_count(&s, MPI_BYTE, &bytes);
        size_t got = (size_t)bytes / sizeof *buf;
        for (size_t i = 0; i < got; i++)
            record(r, buf[i].point, &buf[i].r);
        *out -= got;
        assign(s.MPI_SOURCE, ranks, pending, n, qi, out);
        if (block)
            return;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &s);
    }
}

/* Rank 0: two batches in hand for every worker, then one more per batch of results it gets
 * back; between its own points it serves the queue. */
static void run_rank0(runner *r, const uint64_t *pending, uint64_t n, int ranks)
{
    uint64_t qi = 0, out = 0;
    wire *buf = mem_calloc(MPI_CHUNK, sizeof *buf, "mpi results");
    point_cache *c = point_cache_create();
    for (int w = 1; w < ranks; w++)
        for (int i = 0; i < 2; i++)
            assign(w, ranks, pending, n, &qi, &out);
    while (qi < n && !stop_requested && !r->io_failed) {
        take_results(r, ranks, pending, n, &qi, &out, false, buf);
        if (qi >= n)
            break;
        uint64_t k = pending[qi++];
        point_result res;
        eval_point(r->spec, k, c, &res);
        record(r, k, &res);
    }
    point_cache_destroy(c);
    while (out > 0)
        take_results(r, ranks, pending, n, &qi, &out, true, buf);
    free(buf);
}

/* A worker: evaluate the batches rank 0 assigns (one answer per batch of results sent, plus
 * two at the start) until an empty one comes and none is owed. */
static void run_worker(const sweep_spec *spec)
{
    batch held[2];
    unsigned n_held = 0;
    uint64_t received = 0, sent = 0;
    bool none = false;
    wire *buf = mem_calloc(MPI_CHUNK, sizeof *buf, "mpi results");
    point_cache *c = point_cache_create();
    for (;;) {
        int flag = n_held == 0 && received < 2 + sent; /* nothing to do: wait */
        if (!flag && received < 2 + sent)
            MPI_Iprobe(0, TAG_ASSIGN, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        if (flag) {
            batch b;
            MPI_Recv(&b, (int)sizeof b, MPI_BYTE, 0, TAG_ASSIGN, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            received++;
            if (b.count == 0)
                none = true;
            else
                held[n_held++] = b;
            continue;
        }
        if (n_held == 0) {
            if (none && received == 2 + sent)
                break;
            continue;
        }
        batch b = held[0];
        held[0] = held[1];
        n_held--;
        memset(buf, 0, sizeof *buf * b.count);
        for (uint64_t i = 0; i < b.count; i++) {
            buf[i].point = b.point[i];
            eval_point(spec, b.point[i], c, &buf[i].r);
        }
        MPI_Send(buf, (int)(sizeof *buf * b.count), MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
        sent++;
    }
    point_cache_destroy(c);
    free(buf);
}
#endif

/* ---- the command ---------------------------------------------------------------------------- */

static void list_points(const sweep_spec *s, const sweep_store *st)
{
    printf("# %s: job %s, %" PRIu64 " points (%s), shard %u/%u: %" PRIu64 " points\n", s->origin,
           point_job_name(s->job), s->points, s->combine == SWEEP_ZIP ? "zip" : "product",
           st->shard, st->shards, st->share);
    for (uint64_t k = 0; k < s->points; k++) {
        if (!sweep_store_mine(st, k))
            continue;
        printf("%" PRIu64 ":", k);
        for (unsigned a = 0; a < s->n_axes; a++)
            printf(" %s=%s", s->axes[a].path, s->axes[a].values[sweep_point_value(s, k, a)].text);
        printf("\n");
    }
}

/* ---- --estimate ---------------------------------------------------------------------------- */

/* Headroom of the suggested array over the projection: the sample's mean is an estimate (points
 * differ in cost along the axes) and a task's threads do not scale perfectly (2 threads ran the
 * 2 000-point example at about 90 % efficiency, bench/sweep_bench.sh). An assumption, stated. */
#define ESTIMATE_HEADROOM 1.25
#define SLURM_MAX_ARRAY   1001 /* Slurm's default MaxArraySize (slurm.conf(5)) */

/* Time the sample, one point after the other on one core with one cache (as a worker runs), and
 * print the projection. Nothing is written. */
static void estimate(const sweep_spec *s, const sweep_opts *o)
{
    uint64_t n = (uint64_t)o->sample < s->points ? (uint64_t)o->sample : s->points;
    uint64_t *k = mem_calloc(n, sizeof *k, "estimate sample");
    double *t = mem_calloc(n, sizeof *t, "estimate times");
    point_cache *c = point_cache_create();
    uint64_t failed = 0;
    double total = 0, lo = INFINITY, hi = 0;
    for (uint64_t i = 0; i < n; i++) {
        k[i] = (2 * i + 1) * s->points / (2 * n); /* the middle of the i-th of n equal blocks */
        point_result res;
        double t0 = wallclock_s();
        eval_point(s, k[i], c, &res);
        t[i] = wallclock_s() - t0;
        failed += !res.ok;
        total += t[i];
        lo = t[i] < lo ? t[i] : lo;
        hi = t[i] > hi ? t[i] : hi;
    }
    point_cache_destroy(c);
    double mean = total / (double)n, core_h = mean * (double)s->points / 3600.0;
    double per_task = o->task_hours * (double)o->task_cores; /* core-hours */
    double want = ceil(core_h * ESTIMATE_HEADROOM / per_task);
    uint64_t tasks = want < 1 ? 1 : want > (double)s->points ? s->points : (uint64_t)want;
    uint64_t per = (s->points + tasks - 1) / tasks; /* points of the largest task */
    double task_h = mean * (double)per / (double)o->task_cores / 3600.0;
    if (o->json) {
        jsonw w;
        jsonw_begin(&w, stdout);
        jsonw_object(&w, NULL);
        jsonw_str(&w, "sweep", s->origin);
        jsonw_str(&w, "job", point_job_name(s->job));
        jsonw_u64(&w, "points", s->points);
        jsonw_array(&w, "sample");
        for (uint64_t i = 0; i < n; i++)
            jsonw_u64(&w, NULL, k[i]);
        jsonw_close(&w);
        jsonw_u64(&w, "sample_failed", failed);
        jsonw_num(&w, "sample_wall_s", total);
        jsonw_num(&w, "mean_s_per_point", mean);
        jsonw_num(&w, "core_hours", core_h);
        jsonw_num(&w, "task_hours", o->task_hours);
        jsonw_u64(&w, "task_cores", (uint64_t)o->task_cores);
        jsonw_num(&w, "headroom", ESTIMATE_HEADROOM);
        jsonw_u64(&w, "array_tasks", tasks);
        jsonw_u64(&w, "points_per_task", per);
        jsonw_num(&w, "hours_per_task", task_h);
        jsonw_close(&w);
        jsonw_end(&w);
    } else {
        printf("# xbarsim sweep %s --estimate: job %s, %" PRIu64 " points\n", s->origin,
               point_job_name(s->job), s->points);
        printf("sample: %" PRIu64 " points timed on one core (", n);
        for (uint64_t i = 0; i < n && i < 12; i++)
            printf("%s%" PRIu64, i ? ", " : "", k[i]);
        printf("%s) in %.3f s: %.4g s per point (%.4g .. %.4g)", n > 12 ? ", ..." : "", total, mean,
               lo, hi);
        if (failed)
            printf(", %" PRIu64 " failed (a failed point is usually quick: the projection may be "
                   "low)",
                   failed);
        printf("\nprojected: %.4g core-hours for the %" PRIu64 " points (%.4g s x %" PRIu64 ")\n",
               core_h, s->points, mean, s->points);
        long minutes = (long)ceil(o->task_hours * 60.0 - 1e-9);
        printf("suggested: %" PRIu64 " array task%s of %lld cores and %.4g h (%.2fx headroom): "
               "sbatch --array=0-%" PRIu64 " --cpus-per-task=%lld --time=%ld:%02ld:00 "
               "scripts/slurm/sweep_array.sbatch %s\n",
               tasks, tasks == 1 ? "" : "s", o->task_cores, o->task_hours, ESTIMATE_HEADROOM,
               tasks - 1, o->task_cores, minutes / 60, minutes % 60, s->origin);
        printf("each task: at most %" PRIu64 " points, about %.3g h at the sampled rate\n", per,
               task_h);
        if (tasks > SLURM_MAX_ARRAY)
            printf("note: %" PRIu64 " tasks exceed Slurm's default MaxArraySize (%d): ask for "
                   "longer or wider tasks (--task-hours, --task-cores)\n",
                   tasks, SLURM_MAX_ARRAY);
    }
    free(t);
    free(k);
}

static void summary(const runner *r, double wall_s)
{
    printf("# xbarsim sweep %s: job %s, %" PRIu64 " points in the share %u/%u\n", r->spec->origin,
           point_job_name(r->spec->job), r->st.share, r->st.shard, r->st.shards);
    printf("evaluated %" PRIu64 " now (%" PRIu64 " were done before) in %.3f s: %.1f points/s\n",
           r->done_now, r->st.n - r->done_now, wall_s,
           wall_s > 0 ? (double)r->done_now / wall_s : 0.0);
    printf("%" PRIu64 " of %" PRIu64 " points done, %" PRIu64 " failed\n", r->st.n, r->st.share,
           r->st.failed);
    for (uint64_t i = 0, shown = 0; i < r->st.n && shown < 3; i++)
        if (!r->st.ok[i]) {
            printf("  point %" PRIu64 " failed: %s\n", r->st.point[i], r->st.message[i]);
            shown++;
        }
    bool *inert = mem_calloc(r->spec->n_axes + 1, sizeof *inert, "sweep inert axes");
    if (sweep_inert_axes(&r->st, inert))
        for (unsigned a = 0; a < r->spec->n_axes; a++)
            if (inert[a])
                printf("warning: axis %s (%s:%u) changes no metric: every metric is the same at "
                       "each of its values\n",
                       r->spec->axes[a].path, r->spec->origin, r->spec->axes[a].line);
    free(inert);
}

static void summary_json(const runner *r, double wall_s, bool written)
{
    jsonw w;
    jsonw_begin(&w, stdout);
    jsonw_object(&w, NULL);
    jsonw_str(&w, "sweep", r->spec->origin);
    jsonw_str(&w, "job", point_job_name(r->spec->job));
    jsonw_u64(&w, "shard", r->st.shard);
    jsonw_u64(&w, "shards", r->st.shards);
    jsonw_u64(&w, "points_in_share", r->st.share);
    jsonw_u64(&w, "points_done", r->st.n);
    jsonw_u64(&w, "points_now", r->done_now);
    jsonw_u64(&w, "points_failed", r->st.failed);
    jsonw_num(&w, "wall_s", wall_s);
    jsonw_array(&w, "failures");
    for (uint64_t i = 0, shown = 0; i < r->st.n && shown < 3; i++)
        if (!r->st.ok[i]) {
            jsonw_object(&w, NULL);
            jsonw_u64(&w, "point", r->st.point[i]);
            jsonw_str(&w, "message", r->st.message[i]);
            jsonw_close(&w);
            shown++;
        }
    jsonw_close(&w);
    jsonw_array(&w, "axes_without_effect");
    bool *inert = mem_calloc(r->spec->n_axes + 1, sizeof *inert, "sweep inert axes");
    if (sweep_inert_axes(&r->st, inert))
        for (unsigned a = 0; a < r->spec->n_axes; a++)
            if (inert[a])
                jsonw_str(&w, NULL, r->spec->axes[a].path);
    free(inert);
    jsonw_close(&w);
    if (written)
        jsonw_str(&w, "output", r->o->out);
    jsonw_close(&w);
    jsonw_end(&w);
}

/* Load what is done (output file, then journal); the points still to do into *pending. */
static int prepare(runner *r, uint64_t **pending, uint64_t *n, err *e)
{
    ERR_TRY(sweep_output_load(r->o->out, &r->st, e));
    ERR_TRY(sweep_journal_open(&r->j, r->o->out, &r->st, e));
    *pending = mem_calloc(r->st.share ? r->st.share : 1, sizeof **pending, "pending points");
    *n = 0;
    for (uint64_t k = r->st.shard; k < r->spec->points; k += r->st.shards)
        if (!r->st.done[k])
            (*pending)[(*n)++] = k;
    return 0;
}

static int finish(runner *r)
{
    double wall = wallclock_s() - r->started;
    progress(r, true);
    bool complete = r->st.n == r->st.share;
    int status = 0;
    if (!r->io_failed &&
        sweep_output_write(r->o->out, &r->st, r->command_line, r->start_time, &r->io_err) < 0)
        r->io_failed = true;
    if (r->io_failed) {
        fprintf(stderr, "xbarsim sweep: %s\n", r->io_err.msg);
        status = 1;
    } else if (!complete) {
        fprintf(stderr,
                "xbarsim sweep: interrupted: %" PRIu64 " of %" PRIu64 " points done; the same "
                "command resumes\n",
                r->st.n, r->st.share);
        status = 1;
    }
    sweep_journal_close(&r->j, status == 0 && complete);
    if (!r->o->quiet && r->o->json) {
        summary_json(r, wall, status == 0);
    } else if (!r->o->quiet) {
        summary(r, wall);
        if (status == 0)
            printf("wrote %s\n", r->o->out);
    }
    return status;
}

int cmd_sweep(int argc, char **argv)
{
    sweep_opts o = {.shards = 1,
                    .snapshot_s = 60,
                    .out = "traces/sweep.h5",
                    .sample = 8,
                    .task_cores = 2,
                    .task_hours = 1.0};
    int prc = parse_args(argc, argv, &o);
    if (prc != OPT_GO)
        return prc;
    int rank = 0, ranks = 1;
#ifdef XBARSIM_MPI
    bool mpi = mpi_launched();
    if (mpi) {
        MPI_Init(&argc, &argv);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    }
#endif
    err e;
    err_clear(&e);
    sweep_spec spec;
    int status = 2;
    if (sweep_spec_load(o.file, &spec, &e) < 0) {
        if (rank == 0)
            fprintf(stderr, "xbarsim sweep: %s\n", e.msg);
#ifdef XBARSIM_MPI
        if (mpi)
            MPI_Finalize();
#endif
        return 2;
    }
    nn_blas_set_threads(1); /* points run in parallel; each search's BLAS runs on one thread */
    runner r;
    memset(&r, 0, sizeof r);
    r.spec = &spec;
    r.o = &o;
    sweep_store_init(&r.st, &spec, o.shard, o.shards);
    uint64_t *pending = NULL, n = 0;
    int go = 1;
    if (o.list || o.estimate) {
        if (rank == 0 && o.list)
            list_points(&spec, &r.st);
        else if (rank == 0)
            estimate(&spec, &o);
        status = 0;
        go = 0;
    } else if (rank == 0) {
        if (strcmp(o.out, "traces/sweep.h5") == 0)
            (void)mkdir("traces", 0777);
        if (prepare(&r, &pending, &n, &e) < 0) {
            fprintf(stderr, "xbarsim sweep: %s\n", e.msg);
            status = e.code == ERR_IO ? 1 : 2;
            go = 0;
        }
    }
#ifdef XBARSIM_MPI
    if (mpi && !o.list && !o.estimate) {
        MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
        uint64_t id = spec.id;
        MPI_Bcast(&id, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
        if (go && id != spec.id) {
            fprintf(stderr, "xbarsim sweep: rank %d read another sweep than rank 0\n", rank);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
#endif
    if (go) {
        if (rank == 0) {
            r.command_line = cli_command_line(argc, argv);
            cli_utc_time(r.start_time, sizeof r.start_time);
            r.started = r.last_snapshot = wallclock_s();
            r.todo = n;
            cli_progress_start(&r.bar, isatty(STDERR_FILENO) && !o.quiet);
            signal(SIGINT, on_signal);
            signal(SIGTERM, on_signal);
        }
#ifdef XBARSIM_MPI
        if (mpi && ranks > 1) {
            if (rank == 0)
                run_rank0(&r, pending, n, ranks);
            else
                run_worker(&spec);
        } else
#endif
            run_threads(&r, pending, n);
        if (rank == 0)
            status = finish(&r);
        else
            status = 0;
    }
    free(pending);
    free(r.command_line);
    sweep_store_fini(&r.st);
    sweep_spec_fini(&spec);
#ifdef XBARSIM_MPI
    if (mpi)
        MPI_Finalize();
#endif
    (void)ranks;
    return status;
}
