/* replicate_glpk: the replication MILP on GLPK (glp_simplex, then glp_intopt with cuts, the
 * presolver off and relative gap 0, started from the exact solver's solution, which is checked
 * here and only bounds columns). Incremental form: per layer and candidate beyond its first, z = 1
 * when the layer takes at least that candidate, z_k <= z_{k-1}; the tile budget row; for
 * throughput (and mix) a continuous M >= the slowest digital layer and every layer's time.
 * The one-hot form (x_{l,k}, sum_k x = 1) is the same polytope under x_k = z_k - z_{k+1}, so the
 * same LP bound; but branching on z splits a layer's candidates into fewer and more copies, and
 * identical layers (equal P, c, tiles) are aggregated into one class -- an integer z counting how
 * many take at least candidate k (latency), or one shared choice (throughput: some optimum gives
 * them all the least candidate within M) -- which removes the symmetry that left ResNet-50 at
 * 3.5x unproven after 5 s (measured: one-hot with the same pruning > 5 s, incremental 1.0 ms,
 * aggregated 0.7 ms). Columns are pruned by exact bounds first (choose_columns). Times enter in us
 * (ps / 1e6) for GLPK's scaling; the returned objective is recomputed in integer ps from the
 * chosen copies, never read back from GLPK.
 */
#include <assert.h>
#include <glpk.h>
#include <limits.h>
#include <stdlib.h>

#include "mem.h"
#include "replicate_internal.h"

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
    uint64_t tiles = 0, slowest = p->fixed_max_ps, sum = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const replicate_layer *l = &p->layers[i];
        uint64_t c = r->copies[i];
        if (c < 1 || c > l->vectors)
            return 0;
        tiles += c * l->tiles;
        uint64_t t = (l->vectors / c + (l->vectors % c != 0)) * l->vector_ps;
        sum += t;
        if (t > slowest)
            slowest = t;
    }
    if (tiles > p->budget)
        return 0;
    /* the pruning below uses these figures, not the solver's */
    r->slowest_ps = slowest;
    r->latency_ps = p->fixed_ps + sum;
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

/* Which candidates become columns. Every rule keeps an optimum of the full MILP (with r0 a
 * checked feasible solution when have0):
 * - latency: the Lagrangian bound at upper = r0's time (replicate_bound.c) drops the candidates
 *   that are in no solution as good as r0;
 * - throughput: a solution at least as good as r0 has every layer within r0's slowest time, so
 *   the candidates slower than that are dropped;
 * - every objective: a candidate whose extra tiles over the layer's least kept one exceed the
 *   budget left by the other layers' least kept ones is infeasible.
 * Dropping columns only removes solutions none of which is better than every kept one. */
static void choose_columns(const replicate_problem *p, const replicate_result *r0, int have0,
                           replicate__keep *kp)
{
    uint64_t num = 0, den = 1, upper = UINT64_MAX;
    if (have0 && p->objective == REPLICATE_OBJ_LATENCY) {
        unsigned *pick = mem_alloc((p->n ? p->n : 1) * sizeof *pick, "GLPK columns");
        replicate__latency_heuristic(p, pick, &num, &den); /* only for the multiplier */
        free(pick);
        upper = r0->latency_ps - p->fixed_ps;
    }
    replicate__keep_latency(p, upper, num, den, kp); /* upper UINT64_MAX: keep all */
    if (p->no_prune || !have0 || p->objective != REPLICATE_OBJ_THROUGHPUT)
        return;
    for (unsigned i = 0; i < p->n; i++) {
        const replicate_layer *l = &p->layers[i];
        for (unsigned c = 0; c + 1 < l->n_cand && l->cand[c].time_ps > r0->slowest_ps; c++)
            kp->keep[kp->off[i] + c] = 0;
    }
}

/* The model's layout. Layers are grouped in classes: with aggregation, layers of equal P, c and
 * tiles (so equal candidates and equal kept sets) share one class, else every layer is its own.
 * Class c has the layers members[moff[c] .. moff[c + 1]) and the columns candidates
 * cand[coff[c] .. coff[c + 1]) (kept, fitting, by increasing copies); candidate j > coff[c] has
 * column col[j], the incremental variable z_j = how many of the class's layers take at least
 * candidate j (binary, the class as one, when merged). */
typedef struct glpk_model {
    unsigned n_class;
    unsigned *moff, *members; /* n_class + 1 offsets; n layers */
    unsigned *coff, *cand;    /* n_class + 1 offsets; kept candidates */
    int *col;                 /* per kept candidate; 0 for each class's first */
    int merged;               /* 1: a class's layers take one candidate together (throughput) */
    int n_z;                  /* incremental columns, count */
} glpk_model;

static int same_layer(const replicate_problem *p, const replicate__keep *kp, unsigned a, unsigned b)
{
    const replicate_layer *x = &p->layers[a], *y = &p->layers[b];
    if (x->vectors != y->vectors || x->vector_ps != y->vector_ps || x->tiles != y->tiles)
        return 0;
    for (unsigned c = 0; c < x->n_cand; c++)
        if (kp->keep[kp->off[a] + c] != kp->keep[kp->off[b] + c])
            return 0;
    return 1;
}

/* Classes (aggregate: identical layers together) and their columns: the kept candidates whose
 * extra tiles over the layer's least kept one fit the budget left by every layer's least kept one
 * (a candidate needing more is in no solution within budget). */
static void build_model(const replicate_problem *p, const replicate__keep *kp, int aggregate,
                        glpk_model *m)
{
    size_t n1 = (size_t)p->n + 1;
    unsigned *cls = mem_alloc(n1 * sizeof *cls, "GLPK classes");
    unsigned *first = mem_alloc(n1 * sizeof *first, "GLPK classes");
    *m = (glpk_model){.merged = aggregate && p->objective == REPLICATE_OBJ_THROUGHPUT};
    uint64_t base = 0;
    for (unsigned i = 0; i < p->n; i++) {
        first[i] = 0;
        while (!kp->keep[kp->off[i] + first[i]])
            first[i]++;
        base += p->layers[i].cand[first[i]].tiles;
        cls[i] = m->n_class;
        for (unsigned j = 0; aggregate && j < i; j++)
            if (same_layer(p, kp, i, j)) {
                cls[i] = cls[j];
                break;
            }
        if (cls[i] == m->n_class)
            m->n_class++;
    }
    assert(base <= p->budget);
    m->moff = mem_calloc((size_t)m->n_class + 1, sizeof *m->moff, "GLPK classes");
    m->members = mem_alloc(n1 * sizeof *m->members, "GLPK classes");
    m->coff = mem_calloc((size_t)m->n_class + 1, sizeof *m->coff, "GLPK classes");
    m->cand = mem_alloc(((size_t)kp->kept + 1) * sizeof *m->cand, "GLPK columns");
    m->col = mem_calloc((size_t)kp->kept + 1, sizeof *m->col, "GLPK columns");
    for (unsigned i = 0; i < p->n; i++)
        m->moff[cls[i] + 1]++;
    for (unsigned c = 0; c < m->n_class; c++)
        m->moff[c + 1] += m->moff[c];
    unsigned j = 0;
    for (unsigned c = 0; c < m->n_class; c++) {
        unsigned lead = p->n;
        for (unsigned i = 0; i < p->n && lead == p->n; i++)
            if (cls[i] == c)
                lead = i;
        const replicate_layer *l = &p->layers[lead];
        uint64_t t0 = l->cand[first[lead]].tiles;
        m->coff[c] = j;
        for (unsigned k = first[lead]; k < l->n_cand && l->cand[k].tiles - t0 <= p->budget - base;
             k++)
            if (kp->keep[kp->off[lead] + k]) {
                m->col[j] = k == first[lead] ? 0 : ++m->n_z;
                m->cand[j++] = k;
            }
    }
    m->coff[m->n_class] = j;
    for (unsigned c = 0; c < m->n_class; c++)
        first[c] = m->moff[c]; /* from here: the next free slot of each class */
    for (unsigned i = 0; i < p->n; i++)
        m->members[first[cls[i]]++] = i;
    free(first);
    free(cls);
}

static void glpk_model_fini(glpk_model *m)
{
    free(m->moff);
    free(m->members);
    free(m->coff);
    free(m->cand);
    free(m->col);
}

static double time_us(const replicate_layer *l, unsigned k)
{
    return (double)l->cand[k].time_ps / PS_PER_UNIT;
}

/* Load the MILP: z columns (then M), rows 1..n_class the M rows (when wanted), then the ordering
 * rows z_j <= z_{j-1}, then the budget row. Objective and M rows start from every class's first
 * candidate and add the (negative) time step of each z. Every tile coefficient and the slack are
 * in units of g, the gcd of the coefficients: any sum of multiples of g fits the slack S iff it
 * fits g floor(S / g), so the rounded row is valid for every integer point and tighter for the
 * LP. Returns M's column (0 when not wanted). */
static int load_model(glp_prob *lp, const replicate_problem *p, const glpk_model *m)
{
    int want_m = p->objective != REPLICATE_OBJ_LATENCY;
    double w_lat = p->objective == REPLICATE_OBJ_LATENCY      ? 1.0
                   : p->objective == REPLICATE_OBJ_THROUGHPUT ? 0.0
                                                              : p->alpha;
    int col_m = want_m ? m->n_z + 1 : 0, n_cols = m->n_z + (want_m ? 1 : 0);
    int n_order = 0; /* ordering rows: one per z beyond each class's first z */
    for (unsigned c = 0; c < m->n_class; c++)
        if (m->coff[c + 1] - m->coff[c] > 2)
            n_order += (int)(m->coff[c + 1] - m->coff[c] - 2);
    int row_order = want_m ? (int)m->n_class + 1 : 1, row_budget = row_order + n_order;
    /* GLPK refuses a problem without columns: then one column fixed at 0 stands in. */
    glp_add_cols(lp, n_cols > 0 ? n_cols : 1);
    if (n_cols == 0)
        glp_set_col_bnds(lp, 1, GLP_FX, 0.0, 0.0);
    glp_add_rows(lp, row_budget);
    size_t nz_cap = (size_t)m->n_z * 4 + m->n_class + 1;
    int *ia = mem_alloc(nz_cap * sizeof *ia, "GLPK rows");
    int *ja = mem_alloc(nz_cap * sizeof *ja, "GLPK columns");
    double *ar = mem_alloc(nz_cap * sizeof *ar, "GLPK coefficients");
    double constant = 0.0;
    uint64_t base = 0, g = 0;
    int nz = 0, order = row_order;
    for (unsigned c = 0; c < m->n_class; c++) {
        const replicate_layer *l = &p->layers[m->members[m->moff[c]]];
        unsigned size = m->moff[c + 1] - m->moff[c], j0 = m->coff[c];
        double mult = m->merged ? (double)size : 1.0; /* layers a z counts */
        constant += w_lat * (double)size * time_us(l, m->cand[j0]);
        base += size * l->cand[m->cand[j0]].tiles;
        if (want_m) {
            glp_set_row_bnds(lp, (int)c + 1, GLP_UP, 0.0, -time_us(l, m->cand[j0]));
            ia[++nz] = (int)c + 1, ja[nz] = col_m, ar[nz] = -1.0;
        }
        for (unsigned j = j0 + 1; j < m->coff[c + 1]; j++) {
            int z = m->col[j];
            double step = time_us(l, m->cand[j]) - time_us(l, m->cand[j - 1]);
            uint64_t dt = (uint64_t)(m->merged ? size : 1) *
                          (l->cand[m->cand[j]].tiles - l->cand[m->cand[j - 1]].tiles);
            g = replicate__gcd(g, dt);
            if (size == 1 || m->merged) {
                glp_set_col_kind(lp, z, GLP_BV);
            } else {
                glp_set_col_kind(lp, z, GLP_IV);
                glp_set_col_bnds(lp, z, GLP_DB, 0.0, (double)size);
            }
            glp_set_obj_coef(lp, z, w_lat * mult * step);
            if (want_m)
                ia[++nz] = (int)c + 1, ja[nz] = z, ar[nz] = step;
            if (j > j0 + 1) {
                glp_set_row_bnds(lp, order, GLP_UP, 0.0, 0.0);
                ia[++nz] = order, ja[nz] = z, ar[nz] = 1.0;
                ia[++nz] = order++, ja[nz] = m->col[j - 1], ar[nz] = -1.0;
            }
            ia[++nz] = row_budget, ja[nz] = z, ar[nz] = (double)dt; /* scaled by g below */
        }
    }
    assert(base <= p->budget && order == row_budget);
    if (g == 0)
        g = 1;
    for (int k = 1; k <= nz; k++)
        if (ia[k] == row_budget)
            ar[k] /= (double)g;
    glp_set_row_bnds(lp, row_budget, GLP_UP, 0.0, (double)((p->budget - base) / g));
    glp_set_obj_coef(lp, 0, constant);
    if (want_m) {
        glp_set_col_kind(lp, col_m, GLP_CV);
        glp_set_col_bnds(lp, col_m, GLP_LO, (double)p->fixed_max_ps / PS_PER_UNIT, 0.0);
        glp_set_obj_coef(lp, col_m, 1.0 - w_lat);
    }
    glp_load_matrix(lp, nz, ia, ja, ar);
    free(ia);
    free(ja);
    free(ar);
    return col_m;
}

/* Throughput only: with M_lp a lower bound on the optimum M* (the LP relaxation's M, less a
 * relative 1e-6 for GLPK's tolerances), some optimum takes in every layer its least candidate of
 * time <= M* (any optimum can swap to it: no slower, no more tiles), and that candidate is never
 * after one of time <= M_lp <= M*. So the z beyond a class's first candidate of time <= M_lp are
 * fixed at 0. Returns how many were newly fixed. */
static int fix_by_lp_bound(glp_prob *lp, const replicate_problem *p, const glpk_model *m, int col_m)
{
    double m_lp = glp_get_col_prim(lp, col_m) * PS_PER_UNIT * (1.0 - 1e-6);
    int count = 0;
    for (unsigned c = 0; c < m->n_class; c++) {
        const replicate_layer *l = &p->layers[m->members[m->moff[c]]];
        int within = 0;
        for (unsigned j = m->coff[c]; j < m->coff[c + 1]; j++) {
            if (within && glp_get_col_type(lp, m->col[j]) != GLP_FX) {
                glp_set_col_bnds(lp, m->col[j], GLP_FX, 0.0, 0.0);
                count++;
            }
            if ((double)l->cand[m->cand[j]].time_ps <= m_lp)
                within = 1;
        }
    }
    return count;
}

/* The kept-candidate index in class c of copies r, or coff[c + 1] when not a column. */
static unsigned find_cand(const replicate_problem *p, const glpk_model *m, unsigned c, uint64_t r)
{
    const replicate_layer *l = &p->layers[m->members[m->moff[c]]];
    unsigned j = m->coff[c];
    while (j < m->coff[c + 1] && l->cand[m->cand[j]].copies != r)
        j++;
    return j;
}

/* x0[1..] from the solution r0: z_j = how many of the class's layers take candidate j or later
 * (merged: 1 when the class's fewest copies reach j). 0, or -1 when r0 is not in the model. */
static int start_point(const replicate_problem *p, const glpk_model *m, const replicate_result *r0,
                       double *x0)
{
    for (unsigned c = 0; c < m->n_class; c++)
        for (unsigned t = m->moff[c]; t < m->moff[c + 1]; t++) {
            unsigned j = find_cand(p, m, c, r0->copies[m->members[t]]);
            if (j == m->coff[c + 1])
                return -1;
            for (unsigned q = m->coff[c] + 1; q <= j; q++)
                x0[m->col[q]] += 1.0;
        }
    for (unsigned c = 0; m->merged && c < m->n_class; c++) {
        double size = (double)(m->moff[c + 1] - m->moff[c]);
        for (unsigned q = m->coff[c] + 1; q < m->coff[c + 1]; q++)
            x0[m->col[q]] = x0[m->col[q]] == size ? 1.0 : 0.0;
    }
    return 0;
}

/* Solve the LP relaxation, retrying from scratch with the LP presolver if the warm start fails.
 * 0 when optimal. */
static int solve_lp(glp_prob *lp)
{
    glp_smcp sparm;
    glp_init_smcp(&sparm);
    sparm.msg_lev = GLP_MSG_OFF;
    if (glp_simplex(lp, &sparm) == 0 && glp_get_status(lp) == GLP_OPT)
        return 0;
    sparm.presolve = GLP_ON; /* the postsolved basis is optimal */
    glp_std_basis(lp);
    return glp_simplex(lp, &sparm) == 0 && glp_get_status(lp) == GLP_OPT ? 0 : -1;
}

/* Copies from the MILP's z: the t-th layer of a class takes the last candidate j with z_j > t
 * (merged: z_j > 0 for all). */
static void read_copies(glp_prob *lp, const replicate_problem *p, const glpk_model *m,
                        uint64_t *copies)
{
    for (unsigned c = 0; c < m->n_class; c++) {
        const replicate_layer *l = &p->layers[m->members[m->moff[c]]];
        for (unsigned t = 0; t < m->moff[c + 1] - m->moff[c]; t++) {
            unsigned k = m->cand[m->coff[c]];
            for (unsigned j = m->coff[c] + 1; j < m->coff[c + 1]; j++)
                if (glp_mip_col_val(lp, m->col[j]) > (m->merged ? 0.0 : (double)t) + 0.5)
                    k = m->cand[j];
            copies[m->members[m->moff[c] + t]] = l->cand[k].copies;
        }
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
    replicate_result start;
    int have = start_solution(p, &start) == 0;
    int rc = replicate__solve_glpk_from(p, have ? &start : NULL, out, e);
    if (have)
        replicate_result_fini(&start);
    return rc;
}

int replicate__solve_glpk_from(const replicate_problem *p, const replicate_result *start,
                               replicate_result *out, err *e)
{
    assert(p->budget >= replicate_min_budget(p));
    /* The start, checked here; it also bounds the columns. */
    replicate_result r0 = {0};
    int have0 = 0;
    if (start) {
        r0.copies = mem_alloc((p->n ? p->n : 1) * sizeof *r0.copies, "GLPK start");
        for (unsigned i = 0; i < p->n; i++)
            r0.copies[i] = start->copies[i];
        have0 = start_is_feasible(p, &r0);
    }
    replicate__keep kp;
    choose_columns(p, &r0, have0, &kp);
    glpk_model m;
    build_model(p, &kp, !p->no_prune && p->objective != REPLICATE_OBJ_MIX, &m);
    replicate__keep_fini(&kp);

    glp_term_out(GLP_OFF);
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    int col_m = load_model(lp, p, &m);
    int n_cols = glp_get_num_cols(lp);

    /* Start: a known solution, so branch and bound prunes by bound from the first node. The
     * callback sees the columns as built, so the MIP presolver stays off and the root LP is
     * solved here. */
    double *x0 = mem_calloc((size_t)n_cols + 1, sizeof *x0, "GLPK start");
    glpk_start st = {.x = x0, .given = 1};
    if (have0 && start_point(p, &m, &r0, x0) == 0) {
        st.given = 0;
        if (col_m)
            x0[col_m] = (double)r0.slowest_ps / PS_PER_UNIT;
    }
    replicate_result_fini(&r0);
    glp_scale_prob(lp, GLP_SF_AUTO);
    int lp_ok = solve_lp(lp) == 0;
    while (lp_ok && p->objective == REPLICATE_OBJ_THROUGHPUT && !p->no_prune &&
           fix_by_lp_bound(lp, p, &m, col_m) > 0)
        lp_ok = solve_lp(lp) == 0;

    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_OFF;
    parm.cb_func = start_cb;
    parm.cb_info = &st;
    /* Cuts: on or off, each family or all, and other branching or backtracking rules all stay
     * within about 1 ms on bench/replicate_bench now (measured); kept on for harder inputs. */
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
        read_copies(lp, p, &m, r.copies);
        replicate_evaluate(p, &r);
        if (r.tiles > p->budget) {
            result = err_set(e, ERR_INPUT, "GLPK: solution uses %llu tiles, budget %llu",
                             (unsigned long long)r.tiles, (unsigned long long)p->budget);
            replicate_result_fini(&r);
        } else {
            *out = r;
        }
    }
    glp_delete_prob(lp);
    free(x0);
    glpk_model_fini(&m);
    return result;
}
