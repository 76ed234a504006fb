/* replicate_glpk: the replication MILP on GLPK (glp_intopt, presolve on, relative gap 0).
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

    /* Columns: candidates within the slack, layer by layer; M last. */
    int *first = mem_calloc((size_t)p->n + 1, sizeof *first, "GLPK columns");
    int ncols = 0;
    for (unsigned i = 0; i < p->n; i++) {
        first[i] = ncols + 1;
        const replicate_layer *l = &p->layers[i];
        for (unsigned k = 0; k < l->n_cand && l->cand[k].tiles - l->tiles <= slack; k++)
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
            const replicate_cand *c = &l->cand[j - first[i]];
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

    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_ON;
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
                    r.copies[i] = p->layers[i].cand[j - first[i]].copies;
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
    free(first);
    return result;
}
