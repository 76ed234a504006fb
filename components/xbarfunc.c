/* xbarfunc: bit-accurate functional crossbar (see xbarfunc.h for the model of each mapping).
 * A layer is lowered once to converted columns ("lanes") and row groups split into chunks of at
 * most CHUNK_ROWS rows; for each chunk a table holds, per lane, the column sum of every subset of
 * its rows. One conversion's column sum for a DAC digit is then a few table rows shift-added, for
 * LANES lanes at once, before the ADC; the result equals the sum cell by cell exactly.
 */
#include "xbarfunc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "mem.h"

#define LANES      64  /* converted columns per block: a block's tables stay in L2 cache */
#define CHUNK_ROWS 5   /* rows per table chunk: 2^5 table rows per 5 cell rows */
#define MAX_STEPS  17  /* 16 input bits, plus a sign step */
#define IMG_BLOCK  32  /* images per OpenMP work item: tables are reused across them */
#define GEMM_BLOCK 512 /* images per dgemm call of the exact path */
#define MAX_ROWS   (UINT32_C(1) << 22) /* layer rows: exact sums in double need R 2^31 < 2^53 */

/* GCC builds the hot kernels for AVX-512 and AVX2 and picks one at load time (ifunc). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define XF_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define XF_CLONES
#endif

static const char *const mode_names[] = {
#define XF_ADC_MODE_NAME(id, name) name,
    XF_ADC_MODE_MAP(XF_ADC_MODE_NAME)
#undef XF_ADC_MODE_NAME
};

/* What a lane (converted column) reads: the slice of which value of the weight. */
typedef enum lane_part {
    PART_PAD,    /* padding to a whole block: cells 0 */
    PART_OFFSET, /* w + off (unsigned, offset) */
    PART_POS,    /* max(w, 0) (differential_column) */
    PART_NEG,    /* max(-w, 0) (differential_column) */
    PART_ROW,    /* max(pol w, 0), pol the row's polarity (differential_row) */
    PART_REF     /* the offset reference column: level 1 in every row */
} lane_part;

typedef struct lane {
    int32_t n;      /* output column, -1 for the reference and padding */
    unsigned slice; /* slice index k: bits [k cell_bits, (k + 1) cell_bits) */
    lane_part part;
    int64_t coef;  /* digital weight of the lane's readings: +-2^(k cell_bits), or -off */
    uint64_t mult; /* physical columns this lane stands for (reference: column tiles), count */
} lane;

typedef struct group {
    uint32_t chunk0, nchunks; /* chunks [chunk0, chunk0 + nchunks) */
    bool neg;                 /* readings subtracted (differential_row w- rows) */
} group;

typedef struct chunk {
    uint32_t row0, len; /* rows [row0, row0 + len) of the group-ordered row list; len <= 5 */
    size_t entry0;      /* first of its 2^len table entries within a block */
} chunk;

/* One input step: digit bits [lo, lo + width) of the ab-bit pattern, weight coef. */
typedef struct step {
    unsigned lo, width;
    int64_t coef;
} step;

struct xf_layer {
    xf_params p;
    size_t R, N;       /* logical rows and columns */
    unsigned wb;       /* weight bits */
    unsigned slices;   /* slices per weight value, count */
    int64_t off;       /* 2^(wb-1) - 1 for the offset-coded mappings, else 0 */
    int64_t off_dig;   /* off when the vector module subtracts off * sum x (unsigned), else 0 */
    double *wd;        /* R x N weights for the exact path; owned */
    size_t nlanes;     /* converted columns incl. the reference, count */
    size_t nblocks;    /* blocks of LANES lanes, count */
    lane *lanes;       /* nblocks * LANES; owned */
    size_t nrows;      /* physical rows (R x row factor), count */
    uint32_t *prow;    /* logical row of each physical row, in group order; owned */
    int8_t *ppol;      /* polarity (+1 / -1) of each physical row, in group order; owned */
    size_t ngroups;    /* row groups (one conversion per lane and step each), count */
    group *groups;     /* owned */
    size_t nchunks;    /* chunks, count */
    chunk *chunks;     /* owned */
    size_t entries;    /* table entries per block, count */
    unsigned wide;     /* lane width of the tables: 16 or 32 bits */
    void *tab;         /* nblocks x entries x LANES sums (uint16_t or uint32_t); owned */
    unsigned needed;   /* xf_adc_bits_needed, bits */
    uint32_t adc_max;  /* largest reading: 2^adc_bits - 1 (saturate), else the lane maximum */
    uint32_t adc_keep; /* mask of the bits a reading keeps (drop_lsb), else all ones */
    uint32_t flush;    /* conversions a lane accumulator can add without overflow, count */
};

const char *xf_adc_mode_name(xf_adc_mode m)
{
    assert((unsigned)m < XF_ADC_MODE_COUNT);
    return mode_names[m];
}

int xf_adc_mode_parse(const char *name, xf_adc_mode *m)
{
    for (unsigned i = 0; i < XF_ADC_MODE_COUNT; i++)
        if (strcmp(name, mode_names[i]) == 0) {
            *m = (xf_adc_mode)i;
            return 0;
        }
    return -1;
}

void xf_params_from_arch(const arch *a, unsigned adc_bits, xf_adc_mode mode, xf_params *p)
{
    memset(p, 0, sizeof *p);
    p->cell_bits = a->tiles.cell_bits;
    p->mapping = a->tiles.mapping;
    p->rows = a->tiles.rows;
    p->rows_active = a->tiles.rows_active;
    p->dac_bits = a->tiles.dac.bits;
    p->adc_bits = adc_bits;
    p->adc_mode = mode;
    p->cols = a->tiles.cols;
}

static int bad_field(err *e, const char *field, unsigned found, const char *expected)
{
    return err_set(e, ERR_INPUT, "xbarfunc: %s: found %u, expected %s", field, found, expected);
}

int xf_params_check(const xf_params *p, err *e)
{
    if (p->cell_bits < 1 || p->cell_bits > 8)
        return bad_field(e, "cell_bits", p->cell_bits, "1..8");
    if ((unsigned)p->mapping >= ARCH_MAP_COUNT)
        return bad_field(e, "mapping", (unsigned)p->mapping, "an arch_mapping");
    if (p->rows < 1)
        return bad_field(e, "rows", p->rows, "at least 1");
    if (p->rows_active < 1 || p->rows_active > p->rows || p->rows_active > 65536)
        return bad_field(e, "rows_active", p->rows_active, "1..rows (and at most 65536)");
    if (p->dac_bits < 1 || p->dac_bits > 8)
        return bad_field(e, "dac_bits", p->dac_bits, "1..8");
    if (p->adc_bits < 1 || p->adc_bits > ARCH_MAX_ADC_BITS)
        return bad_field(e, "adc_bits", p->adc_bits, "1..16");
    if ((unsigned)p->adc_mode >= XF_ADC_MODE_COUNT)
        return bad_field(e, "adc_mode", (unsigned)p->adc_mode, "ideal, saturate or drop_lsb");
    if (p->mapping == ARCH_MAP_OFFSET && p->cols == 1)
        return bad_field(e, "cols", p->cols,
                         "0 or at least 2 (the offset mapping needs a reference column)");
    return 0;
}

unsigned xf_adc_bits_needed(const xf_params *p)
{
    assert(p->cell_bits >= 1 && p->cell_bits <= 8 && p->dac_bits >= 1 && p->dac_bits <= 8);
    uint64_t max = (uint64_t)p->rows_active * ((UINT64_C(1) << p->cell_bits) - 1) *
                   ((UINT64_C(1) << p->dac_bits) - 1);
    unsigned bits = 0;
    while ((UINT64_C(1) << bits) <= max) /* smallest n with 2^n >= max + 1 */
        bits++;
    return bits;
}

/* ---- lowering: lanes, row groups, chunks, tables --------------------------------------------- */

static unsigned ceil_div(unsigned a, unsigned b)
{
    return (a + b - 1) / b;
}

static void add_lane(xf_layer *L, int32_t n, unsigned k, lane_part part, int64_t coef,
                     uint64_t mult)
{
    L->lanes[L->nlanes++] = (lane){.n = n, .slice = k, .part = part, .coef = coef, .mult = mult};
}

/* Lanes of every output column and slice under the mapping, then the reference column. */
static void build_lanes(xf_layer *L)
{
    const xf_params *p = &L->p;
    bool diff_col = p->mapping == ARCH_MAP_DIFF_COLUMN;
    size_t per_n = (size_t)L->slices * (diff_col ? 2 : 1);
    size_t total = L->N * per_n + (p->mapping == ARCH_MAP_OFFSET);
    L->nblocks = (total + LANES - 1) / LANES;
    L->lanes = mem_calloc(L->nblocks * LANES, sizeof *L->lanes, "xbarfunc lanes");
    L->nlanes = 0;
    for (size_t n = 0; n < L->N; n++)
        for (unsigned k = 0; k < L->slices; k++) {
            int64_t c = INT64_C(1) << (k * p->cell_bits);
            switch (p->mapping) {
            case ARCH_MAP_UNSIGNED:
            case ARCH_MAP_OFFSET:
                add_lane(L, (int32_t)n, k, PART_OFFSET, c, 1);
                break;
            case ARCH_MAP_DIFF_COLUMN:
                add_lane(L, (int32_t)n, k, PART_POS, c, 1);
                add_lane(L, (int32_t)n, k, PART_NEG, -c, 1);
                break;
            case ARCH_MAP_DIFF_ROW:
                add_lane(L, (int32_t)n, k, PART_ROW, c, 1);
                break;
            default:
                assert(0 && "mapping checked");
            }
        }
    if (p->mapping == ARCH_MAP_OFFSET) {
        /* One reference column in each column tile of cols - 1 weight columns. */
        uint64_t wcols = (uint64_t)L->N * L->slices;
        uint64_t tiles = p->cols ? (wcols + p->cols - 2) / (p->cols - 1) : 1;
        add_lane(L, -1, 0, PART_REF, -L->off, tiles);
    }
    for (size_t j = L->nlanes; j < L->nblocks * LANES; j++)
        L->lanes[j] = (lane){.n = -1, .part = PART_PAD};
}

/* Append one row group of len physical rows (logical rows rows[], polarity pol) split into
 * chunks of at most CHUNK_ROWS rows, as even as possible. */
static void add_group(xf_layer *L, const uint32_t *rows, uint32_t len, int pol)
{
    assert(len >= 1);
    uint32_t nch = (len + CHUNK_ROWS - 1) / CHUNK_ROWS;
    group *g = &L->groups[L->ngroups++];
    *g = (group){.chunk0 = (uint32_t)L->nchunks, .nchunks = nch, .neg = pol < 0};
    uint32_t at = 0;
    for (uint32_t c = 0; c < nch; c++) {
        uint32_t clen = len / nch + (c < len % nch);
        L->chunks[L->nchunks++] =
            (chunk){.row0 = (uint32_t)(L->nrows + at), .len = clen, .entry0 = L->entries};
        L->entries += (size_t)1 << clen;
        at += clen;
    }
    for (uint32_t i = 0; i < len; i++) {
        L->prow[L->nrows + i] = rows[i];
        L->ppol[L->nrows + i] = (int8_t)pol;
    }
    L->nrows += len;
}

/* Group the rows of one tile, rows_active at a time: rows[] holds its logical rows. */
static void add_tile_rows(xf_layer *L, const uint32_t *rows, uint32_t len, int pol)
{
    for (uint32_t at = 0; at < len; at += L->p.rows_active) {
        uint32_t g = len - at < L->p.rows_active ? len - at : L->p.rows_active;
        add_group(L, rows + at, g, pol);
    }
}

/* Row tiles of `rows` physical rows each, and their row groups (see xbarfunc.h). */
static void build_groups(xf_layer *L)
{
    const xf_params *p = &L->p;
    bool drow = p->mapping == ARCH_MAP_DIFF_ROW;
    size_t nphys = L->R * (drow ? 2 : 1);
    L->prow = mem_alloc(nphys * sizeof *L->prow, "xbarfunc rows");
    L->ppol = mem_alloc(nphys * sizeof *L->ppol, "xbarfunc row polarity");
    L->groups = mem_alloc(nphys * sizeof *L->groups, "xbarfunc groups");
    L->chunks = mem_alloc(nphys * sizeof *L->chunks, "xbarfunc chunks");
    uint32_t *tmp = mem_alloc(p->rows * sizeof *tmp, "xbarfunc tile rows");
    L->nrows = L->ngroups = L->nchunks = L->entries = 0;
    for (size_t t0 = 0; t0 < nphys; t0 += p->rows) {
        size_t t1 = t0 + p->rows < nphys ? t0 + p->rows : nphys;
        for (int pol = 1; pol >= (drow ? -1 : 1); pol -= 2) {
            uint32_t len = 0;
            for (size_t ph = t0; ph < t1; ph++)
                if (!drow)
                    tmp[len++] = (uint32_t)ph;
                else if ((ph % 2 == 0) == (pol > 0)) /* w+ in even rows, w- in odd rows */
                    tmp[len++] = (uint32_t)(ph / 2);
            if (len > 0)
                add_tile_rows(L, tmp, len, pol);
        }
    }
    assert(L->nrows == nphys);
    free(tmp);
}

/* Cell level of physical row i (group order) in lane j, 0 .. 2^cell_bits - 1. */
static uint32_t cell_level(const xf_layer *L, const int32_t *w, size_t i, const lane *ln)
{
    if (ln->part == PART_PAD)
        return 0;
    if (ln->part == PART_REF)
        return 1;
    int64_t v = w[(size_t)L->prow[i] * L->N + (size_t)ln->n];
    switch (ln->part) {
    case PART_OFFSET:
        v += L->off;
        break;
    case PART_POS:
        v = v > 0 ? v : 0;
        break;
    case PART_NEG:
        v = v < 0 ? -v : 0;
        break;
    default: /* PART_ROW */
        v = L->ppol[i] * v > 0 ? L->ppol[i] * v : 0;
        break;
    }
    assert(v >= 0);
    unsigned cb = L->p.cell_bits;
    return (uint32_t)(((uint64_t)v >> (ln->slice * cb)) & ((UINT64_C(1) << cb) - 1));
}

/* Subset sums: entry e of a chunk holds, per lane, the sum of the levels of the chunk's rows
 * whose bit is set in e (built from e with its lowest bit cleared). */
static void build_tables(xf_layer *L, const int32_t *w)
{
    size_t n = L->nblocks * L->entries * LANES;
    size_t bytes = L->wide == 16 ? sizeof(uint16_t) : sizeof(uint32_t);
    L->tab = mem_alloc(n * bytes, "xbarfunc tables");
    uint32_t *sum = mem_alloc(((size_t)1 << CHUNK_ROWS) * sizeof *sum, "xbarfunc subset sums");
    for (size_t blk = 0; blk < L->nblocks; blk++)
        for (size_t c = 0; c < L->nchunks; c++) {
            const chunk *ch = &L->chunks[c];
            size_t base = (blk * L->entries + ch->entry0) * LANES;
            for (size_t j = 0; j < LANES; j++) {
                const lane *ln = &L->lanes[blk * LANES + j];
                sum[0] = 0;
                for (uint32_t e = 1; e < (UINT32_C(1) << ch->len); e++) {
                    unsigned low = (unsigned)__builtin_ctz(e);
                    sum[e] = sum[e & (e - 1)] + cell_level(L, w, ch->row0 + low, ln);
                }
                for (uint32_t e = 0; e < (UINT32_C(1) << ch->len); e++) {
                    size_t at = base + e * LANES + j;
                    if (L->wide == 16)
                        ((uint16_t *)L->tab)[at] = (uint16_t)sum[e];
                    else
                        ((uint32_t *)L->tab)[at] = sum[e];
                }
            }
        }
    free(sum);
}

/* The ADC as masks: a reading is min(s & keep, max); flush bounds the accumulators. */
static void build_adc(xf_layer *L)
{
    const xf_params *p = &L->p;
    L->needed = xf_adc_bits_needed(p);
    L->wide = L->needed <= 16 ? 16 : 32;
    uint32_t lane_max = L->wide == 16 ? UINT16_MAX : UINT32_MAX;
    uint32_t smax = (uint32_t)((UINT64_C(1) << L->needed) - 1);
    L->adc_max = lane_max;
    L->adc_keep = UINT32_MAX;
    if (p->adc_mode == XF_ADC_SATURATE && p->adc_bits < L->needed)
        L->adc_max = (UINT32_C(1) << p->adc_bits) - 1;
    if (p->adc_mode == XF_ADC_DROP_LSB && p->adc_bits < L->needed)
        L->adc_keep = ~((UINT32_C(1) << (L->needed - p->adc_bits)) - 1);
    uint32_t vmax = smax < L->adc_max ? smax : L->adc_max;
    L->flush = vmax > 0 ? lane_max / vmax : lane_max;
}

static int check_weights(const int32_t *w, size_t R, size_t N, unsigned wb, err *e)
{
    int32_t lim = (INT32_C(1) << (wb - 1)) - 1;
    for (size_t r = 0; r < R; r++)
        for (size_t n = 0; n < N; n++) {
            int32_t v = w[r * N + n];
            if (v < -lim || v > lim)
                return err_set(e, ERR_INPUT,
                               "xbarfunc: weight at row %zu, column %zu: found %d, expected "
                               "%d..%d (%u-bit symmetric)",
                               r, n, (int)v, (int)-lim, (int)lim, wb);
        }
    return 0;
}

int xf_layer_create(const xf_params *p, const int32_t *w, size_t R, size_t N, unsigned wb,
                    xf_layer **out, err *e)
{
    ERR_TRY(xf_params_check(p, e));
    if (wb < 2 || wb > 16)
        return bad_field(e, "weight bits", wb, "2..16 (1 bit has no non-zero symmetric weight)");
    if (R < 1 || R > MAX_ROWS || N < 1 || N > INT32_MAX)
        return err_set(e, ERR_INPUT,
                       "xbarfunc: layer shape: found %zu x %zu, expected 1..%u rows and at "
                       "least 1 column",
                       R, N, (unsigned)MAX_ROWS);
    ERR_TRY(check_weights(w, R, N, wb, e));
    xf_layer *L = mem_calloc(1, sizeof *L, "xbarfunc layer");
    L->p = *p;
    L->R = R;
    L->N = N;
    L->wb = wb;
    bool offset_coded = p->mapping == ARCH_MAP_UNSIGNED || p->mapping == ARCH_MAP_OFFSET;
    unsigned mag_bits = offset_coded ? wb : wb - 1; /* bits of the stored non-negative value */
    L->slices = ceil_div(mag_bits, p->cell_bits);
    L->off = offset_coded ? (INT64_C(1) << (wb - 1)) - 1 : 0;
    L->off_dig = p->mapping == ARCH_MAP_UNSIGNED ? L->off : 0;
    L->wd = mem_alloc(R * N * sizeof *L->wd, "xbarfunc weights");
    for (size_t i = 0; i < R * N; i++)
        L->wd[i] = (double)w[i];
    build_adc(L);
    build_lanes(L);
    build_groups(L);
    build_tables(L, w);
    *out = L;
    return 0;
}

void xf_layer_destroy(xf_layer *L)
{
    if (!L)
        return;
    free(L->wd);
    free(L->lanes);
    free(L->prow);
    free(L->ppol);
    free(L->groups);
    free(L->chunks);
    free(L->tab);
    free(L);
}

size_t xf_layer_rows(const xf_layer *L)
{
    return L->R;
}

size_t xf_layer_cols(const xf_layer *L)
{
    return L->N;
}

unsigned xf_layer_weight_bits(const xf_layer *L)
{
    return L->wb;
}

unsigned xf_layer_slices(const xf_layer *L)
{
    return L->slices;
}

/* ---- forward ----------------------------------------------------------------------------------
 */

/* Steps of an ab-bit input (see xbarfunc.h); returns how many. */
static unsigned build_steps(unsigned ab, bool x_signed, unsigned dac, step *st)
{
    unsigned mag = x_signed ? ab - 1 : ab, n = 0;
    for (unsigned lo = 0; lo < mag; lo += dac)
        st[n++] =
            (step){.lo = lo, .width = mag - lo < dac ? mag - lo : dac, .coef = INT64_C(1) << lo};
    if (x_signed)
        st[n++] = (step){.lo = ab - 1, .width = 1, .coef = -(INT64_C(1) << (ab - 1))};
    assert(n <= MAX_STEPS);
    return n;
}

uint64_t xf_layer_conversions(const xf_layer *L, unsigned ab, bool x_signed)
{
    step st[MAX_STEPS];
    uint64_t per_group = 0;
    for (size_t j = 0; j < L->nlanes; j++)
        per_group += L->lanes[j].mult;
    return build_steps(ab, x_signed, L->p.dac_bits, st) * (uint64_t)L->ngroups * per_group;
}

#ifndef NDEBUG
static bool inputs_in_range(const int32_t *x, size_t n, unsigned ab, bool x_signed)
{
    int64_t lo = x_signed ? -(INT64_C(1) << (ab - 1)) : 0;
    int64_t hi = x_signed ? (INT64_C(1) << (ab - 1)) - 1 : (INT64_C(1) << ab) - 1;
    for (size_t i = 0; i < n; i++)
        if (x[i] < lo || x[i] > hi)
            return false;
    return true;
}
#endif

/* Bit patterns of one image: pat[b * nchunks + c] has bit i set when bit b of the ab-bit
 * pattern of the input on the chunk's row i is set. */
static void build_patterns(const xf_layer *L, const int32_t *x, unsigned ab, uint8_t *pat)
{
    uint32_t mask = (uint32_t)((UINT64_C(1) << ab) - 1);
    memset(pat, 0, (size_t)ab * L->nchunks);
    for (size_t c = 0; c < L->nchunks; c++) {
        const chunk *ch = &L->chunks[c];
        for (uint32_t i = 0; i < ch->len; i++) {
            uint32_t v = (uint32_t)x[L->prow[ch->row0 + i]] & mask;
            for (unsigned b = 0; v != 0; b++, v >>= 1)
                pat[b * L->nchunks + c] |= (uint8_t)((v & 1u) << i);
        }
    }
}

/* Per-lane accumulators of one step, in the table's lane type T: positive and negative readings
 * and lossy conversions since the last flush into tot (int64) and *clips. */
#define DEFINE_KERNEL(NAME, T)                                                                     \
    static void NAME##_flush(const xf_layer *L, const lane *ln, int64_t coef, T *pos, T *neg,      \
                             T *lossy, int64_t *tot, uint64_t *clips)                              \
    {                                                                                              \
        for (size_t j = 0; j < LANES; j++) {                                                       \
            tot[j] += coef * ((int64_t)pos[j] - (int64_t)neg[j]);                                  \
            *clips += lossy[j] * ln[j].mult;                                                       \
            pos[j] = neg[j] = lossy[j] = 0;                                                        \
        }                                                                                          \
        (void)L;                                                                                   \
    }                                                                                              \
    /* One block of lanes for one image: tot[j] = sum over steps and groups of coef x reading. */  \
    XF_CLONES static uint64_t NAME(const xf_layer *L, size_t blk, const uint8_t *pat,              \
                                   const step *st, unsigned nst, int64_t *tot)                     \
    {                                                                                              \
        const T *tab = (const T *)L->tab + blk * L->entries * LANES;                               \
        const lane *ln = L->lanes + blk * LANES;                                                   \
        const T amax = (T)L->adc_max, keep = (T)L->adc_keep;                                       \
        T pos[LANES] = {0}, neg[LANES] = {0}, lossy[LANES] = {0};                                  \
        uint64_t clips = 0;                                                                        \
        for (size_t j = 0; j < LANES; j++)                                                         \
            tot[j] = 0;                                                                            \
        for (unsigned k = 0; k < nst; k++) {                                                       \
            uint32_t since = 0;                                                                    \
            for (size_t g = 0; g < L->ngroups; g++) {                                              \
                const group *G = &L->groups[g];                                                    \
                T s[LANES] = {0};                                                                  \
                for (uint32_t c = G->chunk0; c < G->chunk0 + G->nchunks; c++) {                    \
                    const T *base = tab + L->chunks[c].entry0 * LANES;                             \
                    const T *row = base + (size_t)pat[st[k].lo * L->nchunks + c] * LANES;          \
                    for (size_t j = 0; j < LANES; j++)                                             \
                        s[j] = (T)(s[j] + row[j]);                                                 \
                    for (unsigned q = 1; q < st[k].width; q++) {                                   \
                        row = base + (size_t)pat[(st[k].lo + q) * L->nchunks + c] * LANES;         \
                        for (size_t j = 0; j < LANES; j++)                                         \
                            s[j] = (T)(s[j] + (T)(row[j] << q));                                   \
                    }                                                                              \
                }                                                                                  \
                T *acc = G->neg ? neg : pos;                                                       \
                for (size_t j = 0; j < LANES; j++) {                                               \
                    T v = (T)(s[j] & keep);                                                        \
                    v = v < amax ? v : amax;                                                       \
                    lossy[j] = (T)(lossy[j] + (v != s[j]));                                        \
                    acc[j] = (T)(acc[j] + v);                                                      \
                }                                                                                  \
                if (++since == L->flush) {                                                         \
                    NAME##_flush(L, ln, st[k].coef, pos, neg, lossy, tot, &clips);                 \
                    since = 0;                                                                     \
                }                                                                                  \
            }                                                                                      \
            NAME##_flush(L, ln, st[k].coef, pos, neg, lossy, tot, &clips);                         \
        }                                                                                          \
        return clips;                                                                              \
    }

DEFINE_KERNEL(kernel16, uint16_t)
DEFINE_KERNEL(kernel32, uint32_t)

/* Shift-add the lanes of one block into y (one image); the reference column's share, which
 * every output shares, goes to *common. */
static void combine_block(const xf_layer *L, size_t blk, const int64_t *tot, int64_t *y,
                          int64_t *common)
{
    const lane *ln = L->lanes + blk * LANES;
    for (size_t j = 0; j < LANES; j++) {
        if (ln[j].part == PART_PAD)
            continue;
        if (ln[j].n < 0)
            *common += ln[j].coef * tot[j];
        else
            y[ln[j].n] += ln[j].coef * tot[j];
    }
}

/* The digital remainder of one image: the reference column's share (common to every output)
 * and, for the unsigned mapping, off * sum_r x_r, both subtracted from every output. */
static void finish_image(const xf_layer *L, const int32_t *x, int64_t common, int64_t *y)
{
    if (L->off_dig != 0) {
        int64_t xs = 0;
        for (size_t r = 0; r < L->R; r++)
            xs += x[r];
        common -= L->off_dig * xs;
    }
    for (size_t n = 0; n < L->N; n++)
        y[n] += common;
}

/* nb <= IMG_BLOCK images, block by block so that a block's tables serve every image. */
static uint64_t forward_images(const xf_layer *L, const int32_t *x, size_t nb, const uint8_t *pat,
                               size_t pat_bytes, const step *st, unsigned nst, int64_t *y)
{
    int64_t tot[LANES], common[IMG_BLOCK] = {0};
    uint64_t clips = 0;
    memset(y, 0, nb * L->N * sizeof *y);
    for (size_t blk = 0; blk < L->nblocks; blk++)
        for (size_t i = 0; i < nb; i++) {
            if (L->wide == 16)
                clips += kernel16(L, blk, pat + i * pat_bytes, st, nst, tot);
            else
                clips += kernel32(L, blk, pat + i * pat_bytes, st, nst, tot);
            combine_block(L, blk, tot, y + i * L->N, &common[i]);
        }
    for (size_t i = 0; i < nb; i++)
        finish_image(L, x + i * L->R, common[i], y + i * L->N);
    return clips;
}

uint64_t xf_layer_forward_sliced(const xf_layer *L, const int32_t *x, size_t B, unsigned ab,
                                 bool x_signed, int64_t *y)
{
    assert(ab >= 1 && ab <= 16);
    assert(inputs_in_range(x, B * L->R, ab, x_signed));
    step st[MAX_STEPS];
    unsigned nst = build_steps(ab, x_signed, L->p.dac_bits, st);
    size_t nwork = (B + IMG_BLOCK - 1) / IMG_BLOCK;
    uint64_t clips = 0;
    size_t pat_bytes = (size_t)ab * L->nchunks;
#pragma omp parallel reduction(+ : clips)
    {
        uint8_t *pat = mem_alloc(IMG_BLOCK * pat_bytes, "xbarfunc input patterns");
#pragma omp for schedule(static)
        for (size_t w = 0; w < nwork; w++) {
            size_t b0 = w * IMG_BLOCK, nb = B - b0 < IMG_BLOCK ? B - b0 : IMG_BLOCK;
            for (size_t i = 0; i < nb; i++)
                build_patterns(L, x + (b0 + i) * L->R, ab, pat + i * pat_bytes);
            clips += forward_images(L, x + b0 * L->R, nb, pat, pat_bytes, st, nst, y + b0 * L->N);
        }
        free(pat);
    }
    return clips;
}

/* Lossless: the exact GEMM, in double (every partial sum is an integer below 2^53, so exact and
 * independent of the summation order). */
static void forward_exact(const xf_layer *L, const int32_t *x, size_t B, int64_t *y)
{
    size_t R = L->R, N = L->N;
    double *xd = mem_alloc(GEMM_BLOCK * R * sizeof *xd, "xbarfunc exact inputs");
    double *yd = mem_alloc(GEMM_BLOCK * N * sizeof *yd, "xbarfunc exact outputs");
    for (size_t b0 = 0; b0 < B; b0 += GEMM_BLOCK) {
        size_t nb = B - b0 < GEMM_BLOCK ? B - b0 : GEMM_BLOCK;
        for (size_t i = 0; i < nb * R; i++)
            xd[i] = (double)x[b0 * R + i];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)N, (int)R, 1.0, xd,
                    (int)R, L->wd, (int)N, 0.0, yd, (int)N);
        for (size_t i = 0; i < nb * N; i++)
            y[b0 * N + i] = (int64_t)yd[i];
    }
    free(xd);
    free(yd);
}

uint64_t xf_layer_forward(const xf_layer *L, const int32_t *x, size_t B, unsigned ab, bool x_signed,
                          int64_t *y)
{
    assert(ab >= 1 && ab <= 16);
    assert(inputs_in_range(x, B * L->R, ab, x_signed));
    if (B == 0)
        return 0;
    if (L->p.adc_mode == XF_ADC_IDEAL || L->p.adc_bits >= L->needed) {
        forward_exact(L, x, B, y);
        return 0;
    }
    return xf_layer_forward_sliced(L, x, B, ab, x_signed, y);
}
