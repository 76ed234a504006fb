/* replicate_glpk: the replication MILP on GLPK (glp_simplex, then glp_intopt with cuts, the
 * presolver off and relative gap 0, started from the exact solver's solution).
 * One binary x_{l,k} per layer and candidate that fits the slack, sum_k x_{l,k} = 1 per layer, the
 * tile budget row, and for throughput (and mix) a continuous M >= the slowest digital layer with
 * sum_k T_{l,k} x_{l,k} <= M. Times enter in us (ps / 1e6) for GLPK's scaling; the returned
 * objective is recomputed in integer ps from the chosen copies, never read back from GLPK.
 */
#include <glpk.h>
#include <limits.h>
#include <stdlib.h>

#include "mem.h"
#include "replicate.h"

#define PS_PER_UNIT 1e6 /* GLPK's time unit: us */

/* The incumbent handed to branch and bound at its first heuristic call: x[1..ncols]. */
typedef struct glpk_start {
    const double *x;
    int given;
} glpk_start;

static void start_cb(glp_tree *tree, void *info)
{
    glpk_start *st = info;
    if (glp_ios_reason(tree) == GLP_IHEUR && !st->given) {
        st->given = 1;
        glp_ios_heur_sol(tree, st->x);
    }
}

/* A good feasible start: the exact solver's optimum (latency, throughput), else the better of
 * both exact optima and greedy under the mix. 0 and *out, or -1. */
static int start_solution(const replicate_problem *p, replicate_result *out)
{
    err e;
    if (p->objective != REPLICATE_OBJ_MIX)
        return replicate_solve_exact(p, out, &e) == 0 ? 0 : -1;
    replicate_problem q = *p;
    int have = 0;
    for (int o = 0; o < 3; o++) {
        replicate_result r;
        q.objective = o == 0 ? REPLICATE_OBJ_LATENCY : REPLICATE_OBJ_THROUGHPUT;
        if ((o < 2 ? replicate_solve_exact(&q, &r, &e) : replicate_solve_greedy(&q, &r, &e)) != 0)
            continue;
        replicate_evaluate(p, &r);
        if (have && r.objective >= out->objective) {
            replicate_result_fini(&r);
            continue;
        }
        if (have)
            replicate_result_fini(out);
        *out = r;
        have = 1;
    }
    return have ? 0 : -1;
}

/* Check the start here, from the problem alone: GLPK stays an independent check of the exact
 * solver only if a wrong start can never prune a column. Times and tiles are recomputed. */
static int start_is_feasible(const replicate_problem *p, replicate_result *r)
{
    uint64_t tiles = 0, slowest = p->fixed_max_ps;
    for (unsigned i = 0; i < p->n; i++) {
        const replicate_layer *l = &p->layers[i];
        uint64_t c = r->copies[i];
        if (c < 1 || c > l->vectors)
            return 0;
        tiles += c * l->tiles;
        uint64_t t = (l->vectors / c + (l->vectors % c != 0)) * l->vector_ps;
        if (t > slowest)
            slowest = t;
    }
    if (tiles > p->budget)
        return 0;
    r->slowest_ps = slowest; /* the cutoff below uses this figure, not the solver's */
    return 1;
}

static const char *intopt_error(int rc)
{
    switch (rc) {
    case GLP_EBOUND:
        return "incorrect bounds";
    case GLP_EROOT:
        return "no optimal basis of the root LP";
    case GLP_ENOPFS:
        return "no primal feasible solution";
    case GLP_ENODFS:
        return "no dual feasible solution";
    case GLP_EFAIL:
        return "solver failure";
    case GLP_EMIPGAP:
        return "relative gap tolerance reached";
    case GLP_ETMLIM:
        return "time limit exceeded";
    case GLP_ESTOP:
        return "stopped by the application";
    default:
        return "unknown status";
    }
}

int replicate_solve_glpk(const replicate_problem *p, replicate_result *out, err *e)
{
    uint64_t need = replicate_min_budget(p);
    if (p->budget < need)
        return err_set(e, ERR_INPUT,
                       "budget: found %llu tiles, needs at least %llu tiles for one copy of every "
                       "layer",
                       (unsigned long long)p->budget, (unsigned long long)need);
    uint64_t slack = p->budget - need;
    int want_m = p->objective != REPLICATE_OBJ_LATENCY;
    double w_lat = p->objective == REPLICATE_OBJ_LATENCY      ? 1.0
                   : p->objective == REPLICATE_OBJ_THROUGHPUT ? 0.0
                                                              : p->alpha;
    double w_m = 1.0 - w_lat;

    /* A known solution (the start below). For throughput it is also an objective cutoff: a
     * better solution has every layer within its slowest time, so each layer takes at least its
     * least candidate within that time (lo), and only candidates within the remaining slack can be
     * picked. Columns outside [lo, hi] are fixed at 0 and not built. */
    replicate_result r0;
    int have0 = start_solution(p, &r0) == 0;
    if (have0 && !start_is_feasible(p, &r0)) {
        replicate_result_fini(&r0);
        have0 = 0;
    }
    unsigned *lo = mem_calloc((size_t)p->n + 1, sizeof *lo, "GLPK columns");
    if (have0 && p->objective == REPLICATE_OBJ_THROUGHPUT) {
        uint64_t base = 0;
        for (unsigned i = 0; i < p->n; i++) {
            const replicate_layer *l = &p->layers[i];
            while (lo[i] + 1 < l->n_cand && l->cand[lo[i]].time_ps > r0.slowest_ps)
                lo[i]++;
            base += l->cand[lo[i]].tiles;
        }
        slack = p->budget - base; /* r0 fits: base <= its tiles <= budget */
    }

    /* Columns: candidates within the slack, layer by layer; M last. */
    int *first = mem_calloc((size_t)p->n + 1, sizeof *first, "GLPK columns");
    int ncols = 0;
    for (unsigned i = 0; i < p->n; i++) {
        first[i] = ncols + 1;
        const replicate_layer *l = &p->layers[i];
        uint64_t t_lo = l->cand[lo[i]].tiles;
        for (unsigned k = lo[i]; k < l->n_cand && l->cand[k].tiles - t_lo <= slack; k++)
            ncols++;
    }
    first[p->n] = ncols + 1;
    int col_m = want_m ? ++ncols : 0;

    glp_term_out(GLP_OFF);
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_cols(lp, ncols);
    /* Rows: 1..n one-hot, n+1 budget, n+2..2n+1 M rows. */
    int nrows = (int)p->n + 1 + (want_m ? (int)p->n : 0);
    glp_add_rows(lp, nrows);
    int row_budget = (int)p->n + 1;
    glp_set_row_bnds(lp, row_budget, GLP_UP, 0.0, (double)p->budget);

    size_t nz_cap = (size_t)ncols * 3 + p->n + 1;
    int *ia = mem_alloc(nz_cap * sizeof *ia, "GLPK rows");
    int *ja = mem_alloc(nz_cap * sizeof *ja, "GLPK columns");
    double *ar = mem_alloc(nz_cap * sizeof *ar, "GLPK coefficients");
    int nz = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const replicate_layer *l = &p->layers[i];
        int row = (int)i + 1;
        glp_set_row_bnds(lp, row, GLP_FX, 1.0, 1.0);
        if (want_m)
            glp_set_row_bnds(lp, row_budget + 1 + (int)i, GLP_UP, 0.0, 0.0);
        for (int j = first[i]; j < first[i + 1]; j++) {
            const replicate_cand *c = &l->cand[lo[i] + (unsigned)(j - first[i])];
            double t = (double)c->time_ps / PS_PER_UNIT;
            glp_set_col_kind(lp, j, GLP_BV);
            glp_set_obj_coef(lp, j, w_lat * t);
            ia[++nz] = row, ja[nz] = j, ar[nz] = 1.0;
            ia[++nz] = row_budget, ja[nz] = j, ar[nz] = (double)c->tiles;
            if (want_m)
                ia[++nz] = row_budget + 1 + (int)i, ja[nz] = j, ar[nz] = t;
        }
        if (want_m)
            ia[++nz] = row_budget + 1 + (int)i, ja[nz] = col_m, ar[nz] = -1.0;
    }
    if (want_m) {
        glp_set_col_kind(lp, col_m, GLP_CV);
        glp_set_col_bnds(lp, col_m, GLP_LO, (double)p->fixed_max_ps / PS_PER_UNIT, 0.0);
        glp_set_obj_coef(lp, col_m, w_m);
    }
    glp_load_matrix(lp, nz, ia, ja, ar);
    free(ia);
    free(ja);
    free(ar);

    /* Start: the columns of a known solution, so branch and bound prunes by bound from the first
     * node. The callback sees the columns as built, so the MIP presolver stays off and the root LP
     * is solved here. */
    double *x0 = mem_calloc((size_t)ncols + 1, sizeof *x0, "GLPK start");
    glpk_start st = {.x = x0, .given = !have0};
    if (have0) {
        for (unsigned i = 0; i < p->n; i++)
            for (int j = first[i]; j < first[i + 1]; j++)
                if (p->layers[i].cand[lo[i] + (unsigned)(j - first[i])].copies == r0.copies[i])
                    x0[j] = 1.0;
        if (want_m)
            x0[col_m] = (double)r0.slowest_ps / PS_PER_UNIT;
        replicate_result_fini(&r0);
    }
    glp_smcp sparm;
    glp_init_smcp(&sparm);
    sparm.msg_lev = GLP_MSG_OFF;
    glp_scale_prob(lp, GLP_SF_AUTO);
    if (glp_simplex(lp, &sparm) != 0 || glp_get_status(lp) != GLP_OPT) {
        sparm.presolve = GLP_ON; /* retry from scratch; the postsolved basis is optimal */
        glp_std_basis(lp);
        glp_simplex(lp, &sparm);
    }

    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_OFF;
    parm.cb_func = start_cb;
    parm.cb_info = &st;
    /* Cuts tighten the weak LP bound (measured: most hard instances fall from seconds to tens of
     * ms). */
    parm.gmi_cuts = parm.mir_cuts = parm.cov_cuts = parm.clq_cuts = GLP_ON;
    parm.mip_gap = 0.0;
    parm.msg_lev = GLP_MSG_OFF;
    parm.tm_lim = p->time_limit_ms && p->time_limit_ms < INT_MAX ? (int)p->time_limit_ms : INT_MAX;
    int rc = glp_intopt(lp, &parm);
    int status = glp_mip_status(lp);
    int result = 0;
    if (rc == GLP_ETMLIM) {
        result = err_set(e, ERR_LIMIT,
                         "GLPK stopped at its time limit of %u ms before proving an optimum "
                         "(%s); raise the limit or use --solver exact",
                         p->time_limit_ms,
                         status == GLP_FEAS ? "an integer solution was found" : "no solution yet");
    } else if (rc != 0 || status != GLP_OPT) {
        result = err_set(e, ERR_INPUT, "GLPK: glp_intopt returned %d (%s), MIP status %d", rc,
                         intopt_error(rc), status);
    } else {
        replicate_result r = {0};
        r.copies = mem_calloc(p->n ? p->n : 1, sizeof *r.copies, "replication copies");
        for (unsigned i = 0; i < p->n && result == 0; i++) {
            for (int j = first[i]; j < first[i + 1]; j++)
                if (glp_mip_col_val(lp, j) > 0.5) {
                    r.copies[i] = p->layers[i].cand[lo[i] + (unsigned)(j - first[i])].copies;
                    break;
                }
            if (r.copies[i] == 0)
                result = err_set(e, ERR_INPUT, "GLPK: no copy count chosen for layer %u", i);
        }
        if (result == 0) {
            replicate_evaluate(p, &r);
            if (r.tiles > p->budget)
                result = err_set(e, ERR_INPUT, "GLPK: solution uses %llu tiles, budget %llu",
                                 (unsigned long long)r.tiles, (unsigned long long)p->budget);
        }
        if (result == 0)
            *out = r;
        else
            replicate_result_fini(&r);
    }
    glp_delete_prob(lp);
    free(x0);
    free(first);
    free(lo);
    return result;
}
