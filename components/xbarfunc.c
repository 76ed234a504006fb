/* xbarfunc: bit-accurate functional crossbar (see xbarfunc.h for the model of each mapping).
 * A layer is lowered once to converted columns ("lanes") and row groups split into chunks. In
 * general a chunk has at most CHUNK_ROWS rows and a table holds, per lane, the column sum of every
 * subset of its rows: a conversion's column sum for a DAC digit is a few table rows shift-added.
 * With 1-bit cells and a 1-bit DAC a chunk has up to 16 rows and holds, per lane, the cells as a
 * bit mask: the column sum is a popcount of (input bits & mask). Either way LANES lanes at once,
 * then the ADC; the sum equals the cell-by-cell sum exactly.
 */
#include "xbarfunc.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <omp.h>

#include "mem.h"
#include "rng.h"

#define LANES      64  /* converted columns per block: a block's tables stay in L2 cache */
#define CHUNK_ROWS 5   /* rows per table chunk: 2^5 table rows per 5 cell rows */
#define BIT_ROWS   16  /* rows per bit-mask chunk (1-bit cells, 1-bit DAC): one uint16_t */
#define MAX_STEPS  17  /* 16 input bits, plus a sign step */
#define VEC_BYTES  64  /* width of the summing vectors (GCC vector extension), bytes */
#define IMG_BLOCK  64  /* images per OpenMP work item: tables are reused across them */
#define GEMM_BLOCK 512 /* images per dgemm call of the exact path */
#define MAX_ROWS   (UINT32_C(1) << 22) /* layer rows: exact sums in double need R 2^31 < 2^53 */

/* GCC builds the hot kernels for AVX-512 and AVX2 and picks one at load time (ifunc); the
 * popcount kernel also has an AVX-512 BITALG build (vector popcount), picked at run time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define XBARFUNC_CLONES       __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#define XBARFUNC_BITALG       __attribute__((target("avx512bitalg,avx512bw,avx512vl,avx512f")))
#define XBARFUNC_HAS_BITALG() __builtin_cpu_supports("avx512bitalg")
#else
#define XBARFUNC_CLONES
#define XBARFUNC_BITALG
#define XBARFUNC_HAS_BITALG() 0
#endif

/* GCC vectors of VEC_BYTES (one AVX-512 register); a block of LANES lanes is NV(T) of them. */
typedef uint8_t vec8 __attribute__((vector_size(VEC_BYTES)));
typedef uint16_t vec16 __attribute__((vector_size(VEC_BYTES)));
typedef uint32_t vec32 __attribute__((vector_size(VEC_BYTES)));
#define NV(T) (LANES * sizeof(T) / VEC_BYTES)

static const char *const mode_names[] = {
#define XBARFUNC_ADC_MODE_NAME(id, name) name,
    XBARFUNC_ADC_MODE_MAP(XBARFUNC_ADC_MODE_NAME)
#undef XBARFUNC_ADC_MODE_NAME
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
    uint32_t row0, len; /* rows [row0, row0 + len) of the group-ordered row list */
    size_t entry0;      /* its first table entry within a block (2^len entries, or 1 mask) */
} chunk;

/* One input step: digit bits [lo, lo + width) of the ab-bit pattern, weight coef. */
typedef struct step {
    unsigned lo, width;
    int64_t coef;
} step;

struct xbarfunc_layer {
    xbarfunc_params p;
    size_t R, N;         /* logical rows and columns */
    unsigned wb;         /* weight bits */
    unsigned slices;     /* slices per weight value, count */
    int64_t off;         /* 2^(wb-1) - 1 for the offset-coded mappings, else 0 */
    int64_t off_dig;     /* off when the vector module subtracts off * sum x (unsigned), else 0 */
    double *wd;          /* R x N weights for the exact path; owned */
    float *wf;           /* wd in single precision, for inputs small enough (exact_in_float) */
    double col_abs_max;  /* largest sum of |w| down a column of wd */
    size_t nlanes;       /* converted columns incl. the reference, count */
    size_t nblocks;      /* blocks of LANES lanes, count */
    lane *lanes;         /* nblocks * LANES; owned */
    size_t nrows;        /* physical rows (R x row factor), count */
    uint32_t *prow;      /* logical row of each physical row, in group order; owned */
    int8_t *ppol;        /* polarity (+1 / -1) of each physical row, in group order; owned */
    size_t ngroups;      /* row groups (one conversion per lane and step each), count */
    group *groups;       /* owned */
    size_t nchunks;      /* chunks, count */
    chunk *chunks;       /* owned */
    size_t entries;      /* table entries per block, count */
    bool bits;           /* bit-mask chunks and popcounts (1-bit cells, 1-bit DAC), else tables */
    unsigned chunk_rows; /* rows per chunk at most: BIT_ROWS or CHUNK_ROWS */
    unsigned wide;       /* lane width of the tables: 8, 16 or 32 bits */
    void *tab;           /* nblocks x entries x LANES lanes of `wide` bits; owned */
    unsigned needed;     /* xbarfunc_adc_bits_needed, bits */
    uint32_t adc_max;    /* largest reading: 2^adc_bits - 1 (saturate), else the lane maximum */
    uint32_t adc_keep;   /* mask of the bits a reading keeps (drop_lsb), else all ones */
    uint32_t vmax;       /* largest reading, >= 1 */
    float *g;            /* device effects: nrows x nlanes conductances (group-row order, level
                            steps); NULL when every effect is off; owned */
    double *wl;          /* device effects: R x N effective weights of the linear path; owned */
};

const char *xbarfunc_adc_mode_name(xbarfunc_adc_mode m)
{
    assert((unsigned)m < XBARFUNC_ADC_MODE_COUNT);
    return mode_names[m];
}

int xbarfunc_adc_mode_parse(const char *name, xbarfunc_adc_mode *m)
{
    for (unsigned i = 0; i < XBARFUNC_ADC_MODE_COUNT; i++)
        if (strcmp(name, mode_names[i]) == 0) {
            *m = (xbarfunc_adc_mode)i;
            return 0;
        }
    return -1;
}

void xbarfunc_params_from_arch(const arch *a, unsigned adc_bits, xbarfunc_adc_mode mode,
                               xbarfunc_params *p)
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
    p->dev = a->tiles.device;
    p->dev_stream = 0;
}

#define FNV_OFFSET 14695981039346656037ull /* FNV-1a 64-bit offset basis (Fowler, Noll, Vo) */
#define FNV_PRIME  1099511628211ull        /* FNV-1a 64-bit prime */

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * FNV_PRIME;
    return h;
}

#define FNV_FIELD(h, x) fnv(h, &(x), sizeof(x))

uint64_t xbarfunc_params_digest(const xbarfunc_params *p)
{
    uint64_t h = FNV_OFFSET;
    unsigned mapping = (unsigned)p->mapping, mode = (unsigned)p->adc_mode;
    unsigned char absolute = p->dev.absolute;
    h = FNV_FIELD(h, p->cell_bits);
    h = FNV_FIELD(h, mapping);
    h = FNV_FIELD(h, p->rows);
    h = FNV_FIELD(h, p->rows_active);
    h = FNV_FIELD(h, p->dac_bits);
    h = FNV_FIELD(h, p->adc_bits);
    h = FNV_FIELD(h, mode);
    h = FNV_FIELD(h, p->cols);
    h = FNV_FIELD(h, p->dev_stream);
    const device_params *d = &p->dev;
    h = FNV_FIELD(h, d->seed);
    h = FNV_FIELD(h, d->sigma);
    h = FNV_FIELD(h, absolute);
    h = FNV_FIELD(h, d->n_sigma_levels);
    h = fnv(h, d->sigma_per_level, d->n_sigma_levels * sizeof d->sigma_per_level[0]);
    const double rest[] = {d->stuck_off,      d->stuck_on,   d->read_noise, d->drift_nu,
                           d->drift_nu_sigma, d->drift_t0_s, d->time_s,     d->on_off_ratio,
                           d->wire_ohm,       d->g_on_us};
    return fnv(h, rest, sizeof rest);
}

static int bad_field(err *e, const char *field, unsigned found, const char *expected)
{
    return err_set(e, ERR_INPUT, "xbarfunc: %s: found %u, expected %s", field, found, expected);
}

int xbarfunc_params_check(const xbarfunc_params *p, err *e)
{
    if (p->cell_bits < 1 || p->cell_bits > 8)
        return bad_field(e, "cell_bits", p->cell_bits, "1..8");
    if ((unsigned)p->mapping >= ARCH_MAP_COUNT)
        return bad_field(e, "mapping", (unsigned)p->mapping, "an arch_mapping");
    if (p->rows < 1)
        return bad_field(e, "rows", p->rows, "at least 1");
    if (p->rows_active < 1 || p->rows_active > p->rows || p->rows_active > 32768)
        return bad_field(e, "rows_active", p->rows_active, "1..rows (and at most 32768)");
    if (p->dac_bits < 1 || p->dac_bits > 8)
        return bad_field(e, "dac_bits", p->dac_bits, "1..8");
    if (p->adc_bits < 1 || p->adc_bits > ARCH_MAX_ADC_BITS)
        return bad_field(e, "adc_bits", p->adc_bits, "1..16");
    if ((unsigned)p->adc_mode >= XBARFUNC_ADC_MODE_COUNT)
        return bad_field(e, "adc_mode", (unsigned)p->adc_mode, "ideal, saturate or drop_lsb");
    if (p->mapping == ARCH_MAP_OFFSET && p->cols == 1)
        return bad_field(e, "cols", p->cols,
                         "0 or at least 2 (the offset mapping needs a reference column)");
    return 0;
}

unsigned xbarfunc_adc_bits_needed(const xbarfunc_params *p)
{
    return arch_adc_bits_for(p->rows_active, p->cell_bits, p->dac_bits);
}

/* ---- lowering: lanes, row groups, chunks, tables --------------------------------------------- */

static unsigned ceil_div(unsigned a, unsigned b)
{
    return (a + b - 1) / b;
}

static void add_lane(xbarfunc_layer *L, int32_t n, unsigned k, lane_part part, int64_t coef,
                     uint64_t mult)
{
    L->lanes[L->nlanes++] = (lane){.n = n, .slice = k, .part = part, .coef = coef, .mult = mult};
}

/* Lanes of every output column and slice under the mapping, then the reference column. */
static void build_lanes(xbarfunc_layer *L)
{
    const xbarfunc_params *p = &L->p;
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
 * chunks of at most chunk_rows rows, as even as possible. */
static void add_group(xbarfunc_layer *L, const uint32_t *rows, uint32_t len, int pol)
{
    assert(len >= 1);
    uint32_t nch = (len + L->chunk_rows - 1) / L->chunk_rows;
    group *g = &L->groups[L->ngroups++];
    *g = (group){.chunk0 = (uint32_t)L->nchunks, .nchunks = nch, .neg = pol < 0};
    uint32_t at = 0;
    for (uint32_t c = 0; c < nch; c++) {
        uint32_t clen = len / nch + (c < len % nch);
        L->chunks[L->nchunks++] =
            (chunk){.row0 = (uint32_t)(L->nrows + at), .len = clen, .entry0 = L->entries};
        L->entries += L->bits ? 1 : (size_t)1 << clen;
        at += clen;
    }
    for (uint32_t i = 0; i < len; i++) {
        L->prow[L->nrows + i] = rows[i];
        L->ppol[L->nrows + i] = (int8_t)pol;
    }
    L->nrows += len;
}

/* Group the rows of one tile, rows_active at a time: rows[] holds its logical rows. */
static void add_tile_rows(xbarfunc_layer *L, const uint32_t *rows, uint32_t len, int pol)
{
    for (uint32_t at = 0; at < len; at += L->p.rows_active) {
        uint32_t g = len - at < L->p.rows_active ? len - at : L->p.rows_active;
        add_group(L, rows + at, g, pol);
    }
}

/* Row tiles of `rows` physical rows each, and their row groups (see xbarfunc.h). */
static void build_groups(xbarfunc_layer *L)
{
    const xbarfunc_params *p = &L->p;
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
static uint32_t cell_level(const xbarfunc_layer *L, const int32_t *w, size_t i, const lane *ln)
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

static void table_store(xbarfunc_layer *L, size_t at, uint32_t v)
{
    if (L->wide == 8)
        ((uint8_t *)L->tab)[at] = (uint8_t)v;
    else if (L->wide == 16)
        ((uint16_t *)L->tab)[at] = (uint16_t)v;
    else
        ((uint32_t *)L->tab)[at] = v;
}

/* Tables: entry e of a chunk holds, per lane, the sum of the levels of the chunk's rows whose bit
 * is set in e (built from e with its lowest bit cleared). Bit path: the one entry of a chunk
 * holds, per lane, bit i = the level (0 or 1) of the chunk's row i. */
static void build_tables(xbarfunc_layer *L, const int32_t *w)
{
    size_t n = L->nblocks * L->entries * LANES;
    L->tab = mem_alloc(n * (L->wide / 8), "xbarfunc tables");
    uint32_t *sum = mem_alloc(((size_t)1 << CHUNK_ROWS) * sizeof *sum, "xbarfunc subset sums");
    for (size_t blk = 0; blk < L->nblocks; blk++)
        for (size_t c = 0; c < L->nchunks; c++) {
            const chunk *ch = &L->chunks[c];
            size_t base = (blk * L->entries + ch->entry0) * LANES;
            for (size_t j = 0; j < LANES; j++) {
                const lane *ln = &L->lanes[blk * LANES + j];
                if (L->bits) {
                    uint32_t mask = 0;
                    for (uint32_t i = 0; i < ch->len; i++)
                        mask |= cell_level(L, w, ch->row0 + i, ln) << i;
                    table_store(L, base + j, mask);
                    continue;
                }
                sum[0] = 0;
                for (uint32_t e = 1; e < (UINT32_C(1) << ch->len); e++) {
                    unsigned low = (unsigned)__builtin_ctz(e);
                    sum[e] = sum[e & (e - 1)] + cell_level(L, w, ch->row0 + low, ln);
                }
                for (uint32_t e = 0; e < (UINT32_C(1) << ch->len); e++)
                    table_store(L, base + e * LANES + j, sum[e]);
            }
        }
    free(sum);
}

/* The ADC as masks: a reading is min(s & keep, adc_max); vmax bounds the accumulators. */
static void build_adc(xbarfunc_layer *L)
{
    const xbarfunc_params *p = &L->p;
    L->needed = xbarfunc_adc_bits_needed(p);
    /* A column sum fits a lane; the bit path sums popcounts of 16-bit masks. */
    L->wide = L->needed <= 8 && !L->bits ? 8 : L->needed <= 16 ? 16 : 32;
    uint32_t lane_max = L->wide == 8 ? UINT8_MAX : L->wide == 16 ? UINT16_MAX : UINT32_MAX;
    uint32_t smax = (uint32_t)((UINT64_C(1) << L->needed) - 1);
    L->adc_max = lane_max;
    L->adc_keep = UINT32_MAX;
    if (p->adc_mode == XBARFUNC_ADC_SATURATE && p->adc_bits < L->needed)
        L->adc_max = (UINT32_C(1) << p->adc_bits) - 1;
    if (p->adc_mode == XBARFUNC_ADC_DROP_LSB && p->adc_bits < L->needed)
        L->adc_keep = ~((UINT32_C(1) << (L->needed - p->adc_bits)) - 1);
    L->vmax = smax < L->adc_max ? smax : L->adc_max;
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

/* Device effects: every cell's conductance (device.h), lane by lane down its group-ordered
 * rows, and the linear path's effective weights: sum over a logical row's physical rows (sign of
 * their polarity) of the lane coefficients times the conductances, the reference lanes' share
 * going to every column. */
static void build_device(xbarfunc_layer *L, const int32_t *w)
{
    const xbarfunc_params *p = &L->p;
    size_t nl = L->nlanes;
    L->g = mem_calloc(L->nrows * nl, sizeof *L->g, "xbarfunc conductances");
    L->wl = mem_calloc(L->R * L->N, sizeof *L->wl, "xbarfunc effective weights");
    bool drow = p->mapping == ARCH_MAP_DIFF_ROW;
    gsl_rng *rng = rng_stream_create(NULL, p->dev.seed, p->dev_stream);
    for (size_t j = 0; j < nl; j++) {
        const lane *ln = &L->lanes[j];
        for (size_t i = 0; i < L->nrows; i++) {
            size_t phys = drow ? 2 * (size_t)L->prow[i] + (L->ppol[i] < 0) : L->prow[i];
            L->g[i * nl + j] = (float)device_conductance(
                &p->dev, p->cell_bits, cell_level(L, w, i, ln), (unsigned)(phys % p->rows),
                (unsigned)(p->cols ? j % p->cols : j), rng);
        }
    }
    gsl_rng_free(rng);
    for (size_t i = 0; i < L->nrows; i++) {
        double sign = L->ppol[i] < 0 ? -1.0 : 1.0, common = 0.0;
        double *row = L->wl + (size_t)L->prow[i] * L->N;
        for (size_t j = 0; j < nl; j++) {
            double v = sign * (double)L->lanes[j].coef * (double)L->g[i * nl + j];
            if (L->lanes[j].n < 0)
                common += v;
            else
                row[L->lanes[j].n] += v;
        }
        for (size_t n = 0; n < L->N; n++)
            row[n] += common;
    }
    for (size_t r = 0; r < L->R; r++) /* the unsigned mapping's digital offset correction */
        for (size_t n = 0; n < L->N; n++)
            L->wl[r * L->N + n] -= (double)L->off_dig;
}

/* The largest sum of |w| down a column of the R x N weights w. */
static double col_abs_max(const int32_t *w, size_t R, size_t N)
{
    double m = 0.0;
    for (size_t n = 0; n < N; n++) {
        double s = 0.0;
        for (size_t r = 0; r < R; r++)
            s += fabs((double)w[r * N + n]);
        m = s > m ? s : m;
    }
    return m;
}

int xbarfunc_layer_create(const xbarfunc_params *p, const int32_t *w, size_t R, size_t N,
                          unsigned wb, xbarfunc_layer **out, err *e)
{
    ERR_TRY(xbarfunc_params_check(p, e));
    if (wb < 2 || wb > 16)
        return bad_field(e, "weight bits", wb, "2..16 (1 bit has no non-zero symmetric weight)");
    if (R < 1 || R > MAX_ROWS || N < 1 || N > INT32_MAX)
        return err_set(e, ERR_INPUT,
                       "xbarfunc: layer shape: found %zu x %zu, expected 1..%u rows and at "
                       "least 1 column",
                       R, N, (unsigned)MAX_ROWS);
    ERR_TRY(check_weights(w, R, N, wb, e));
    xbarfunc_layer *L = mem_calloc(1, sizeof *L, "xbarfunc layer");
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
    L->wf = mem_alloc(R * N * sizeof *L->wf, "xbarfunc single-precision weights");
    for (size_t i = 0; i < R * N; i++) {
        L->wd[i] = (double)w[i];
        L->wf[i] = (float)w[i]; /* exact: |w| < 2^15 */
    }
    L->col_abs_max = col_abs_max(w, R, N);
    L->bits = p->cell_bits == 1 && p->dac_bits == 1;
    L->chunk_rows = L->bits ? BIT_ROWS : CHUNK_ROWS;
    build_adc(L);
    build_lanes(L);
    build_groups(L);
    build_tables(L, w);
    if (device_any(&p->dev))
        build_device(L, w);
    *out = L;
    return 0;
}

void xbarfunc_layer_destroy(xbarfunc_layer *L)
{
    if (!L)
        return;
    free(L->wd);
    free(L->wf);
    free(L->lanes);
    free(L->prow);
    free(L->ppol);
    free(L->groups);
    free(L->chunks);
    free(L->tab);
    free(L->g);
    free(L->wl);
    free(L);
}

size_t xbarfunc_layer_rows(const xbarfunc_layer *L)
{
    return L->R;
}

size_t xbarfunc_layer_cols(const xbarfunc_layer *L)
{
    return L->N;
}

unsigned xbarfunc_layer_weight_bits(const xbarfunc_layer *L)
{
    return L->wb;
}

unsigned xbarfunc_layer_slices(const xbarfunc_layer *L)
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

uint64_t xbarfunc_layer_conversions(const xbarfunc_layer *L, unsigned ab, bool x_signed)
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
static void build_patterns(const xbarfunc_layer *L, const int32_t *x, unsigned ab, uint16_t *pat)
{
    uint32_t mask = (uint32_t)((UINT64_C(1) << ab) - 1), v[BIT_ROWS];
    for (size_t c = 0; c < L->nchunks; c++) {
        const chunk *ch = &L->chunks[c];
        assert(ch->len <= BIT_ROWS);
        for (uint32_t i = 0; i < ch->len; i++)
            v[i] = (uint32_t)x[L->prow[ch->row0 + i]] & mask;
        for (unsigned b = 0; b < ab; b++) {
            uint32_t m = 0;
            for (uint32_t i = 0; i < ch->len; i++)
                m |= ((v[i] >> b) & 1u) << i;
            pat[b * L->nchunks + c] = (uint16_t)m;
        }
    }
}

/* s = the column sums of one conversion of group G (one image, step sk): the chunks' table rows
 * shift-added. */
#define DEFINE_TABLE_SUM(NAME, T, V)                                                               \
    static inline void NAME(const T *tab, const chunk *ch, group G, const uint16_t *pi, size_t nc, \
                            step sk, V *s)                                                         \
    {                                                                                              \
        for (unsigned u = 0; u < NV(T); u++)                                                       \
            s[u] = (V){0};                                                                         \
        for (uint32_t c = G.chunk0; c < G.chunk0 + G.nchunks; c++) {                               \
            const T *base = tab + ch[c].entry0 * LANES;                                            \
            for (unsigned q = 0; q < sk.width; q++) {                                              \
                const T *row = base + (size_t)pi[(sk.lo + q) * nc + c] * LANES;                    \
                for (unsigned u = 0; u < NV(T); u++) {                                             \
                    V r;                                                                           \
                    memcpy(&r, row + u * (VEC_BYTES / sizeof(T)), sizeof r);                       \
                    s[u] += r << q;                                                                \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

DEFINE_TABLE_SUM(table_sum8, uint8_t, vec8)
DEFINE_TABLE_SUM(table_sum16, uint16_t, vec16)
DEFINE_TABLE_SUM(table_sum32, uint32_t, vec32)

/* The same on the bit path: popcount(input bits & cell mask) per lane (1-bit digits only). */
static inline void bit_sum(const uint16_t *tab, const chunk *ch, group G, const uint16_t *pi,
                           size_t nc, step sk, vec16 *s)
{
    for (unsigned u = 0; u < NV(uint16_t); u++)
        s[u] = (vec16){0};
    for (uint32_t c = G.chunk0; c < G.chunk0 + G.nchunks; c++) {
        const uint16_t *m = tab + ch[c].entry0 * LANES;
        uint16_t x = pi[sk.lo * nc + c], t[LANES];
        for (size_t j = 0; j < LANES; j++) /* a 16-bit popcount: vpopcntw with BITALG */
            t[j] = (uint16_t)__builtin_popcount((uint16_t)(x & m[j]));
        for (unsigned u = 0; u < NV(uint16_t); u++) {
            vec16 r;
            memcpy(&r, t + u * (VEC_BYTES / sizeof(uint16_t)), sizeof r);
            s[u] += r;
        }
    }
}

/* tot += coef (pos - neg); returns the lossy conversions counted in lo (x their columns). */
#define DEFINE_FLUSH(NAME, T, V)                                                                   \
    static inline uint64_t NAME(const V *pos, const V *neg, const V *lo, int64_t coef, int ref,    \
                                uint64_t ref_extra, int64_t *tot)                                  \
    {                                                                                              \
        T p[LANES], n[LANES], l[LANES];                                                            \
        memcpy(p, pos, sizeof p);                                                                  \
        memcpy(n, neg, sizeof n);                                                                  \
        memcpy(l, lo, sizeof l);                                                                   \
        uint64_t clips = 0;                                                                        \
        for (size_t j = 0; j < LANES; j++) {                                                       \
            tot[j] += coef * ((int64_t)p[j] - (int64_t)n[j]);                                      \
            clips += l[j];                                                                         \
        }                                                                                          \
        if (ref >= 0) /* a reference lane stands for several columns */                            \
            clips += l[ref] * ref_extra;                                                           \
        return clips;                                                                              \
    }

DEFINE_FLUSH(flush8, uint8_t, vec8)
DEFINE_FLUSH(flush16, uint16_t, vec16)
DEFINE_FLUSH(flush32, uint32_t, vec32)

/* The kernel of one block of LANES lanes for nb images: lane type T, block vector V, column sums
 * from SUM, flushes by FLUSH, built with ATTR. Row groups are taken `gmax` at a time: per image
 * and step, readings add into register accumulators (w+ and w- groups apart, so they never go
 * negative) and lossy flags into a register count, which gmax x the largest reading cannot
 * overflow; then they go into tot (int64, per image and lane) with the step's weight. The gmax
 * groups' tables serve every image and step of the work item while they are in cache. */
#define DEFINE_KERNEL(NAME, T, V, SUM, FLUSH, ATTR)                                                \
    ATTR static uint64_t NAME(const xbarfunc_layer *L, size_t blk, const uint16_t *pat,            \
                              size_t pat_len, size_t nb, const step *st, unsigned nst,             \
                              size_t gmax, int64_t *tot)                                           \
    {                                                                                              \
        const T *tab = (const T *)L->tab + blk * L->entries * LANES;                               \
        int ref = -1; /* the lane of the block standing for several columns, if any */             \
        uint64_t ref_extra = 0;                                                                    \
        for (size_t j = 0; j < LANES; j++)                                                         \
            if (L->lanes[blk * LANES + j].mult > 1) {                                              \
                ref = (int)j;                                                                      \
                ref_extra = L->lanes[blk * LANES + j].mult - 1;                                    \
            }                                                                                      \
        const V amax = (V){0} + (T)L->adc_max, keep = (V){0} + (T)L->adc_keep;                     \
        enum { NVB = NV(T) };                                                                      \
        uint64_t clips = 0;                                                                        \
        memset(tot, 0, LANES *nb * sizeof *tot);                                                   \
        for (size_t g0 = 0; g0 < L->ngroups; g0 += gmax) {                                         \
            size_t g1 = L->ngroups - g0 < gmax ? L->ngroups : g0 + gmax;                           \
            for (size_t i = 0; i < nb; i++) {                                                      \
                const uint16_t *pi = pat + i * pat_len;                                            \
                for (unsigned k = 0; k < nst; k++) {                                               \
                    V pos[NVB] = {0}, neg[NVB] = {0}, lo[NVB] = {0};                               \
                    for (size_t g = g0; g < g1; g++) {                                             \
                        const group G = L->groups[g];                                              \
                        V s[NVB];                                                                  \
                        SUM(tab, L->chunks, G, pi, L->nchunks, st[k], s);                          \
                        for (unsigned u = 0; u < NVB; u++) {                                       \
                            V v = s[u] & keep;                                                     \
                            V over = (V)(v > amax);                                                \
                            v = (v & ~over) | (amax & over);                                       \
                            lo[u] -= (V)(v != s[u]);                                               \
                            if (G.neg)                                                             \
                                neg[u] += v;                                                       \
                            else                                                                   \
                                pos[u] += v;                                                       \
                        }                                                                          \
                    }                                                                              \
                    clips += FLUSH(pos, neg, lo, st[k].coef, ref, ref_extra, tot + i * LANES);     \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        return clips;                                                                              \
    }

DEFINE_KERNEL(kernel8, uint8_t, vec8, table_sum8, flush8, XBARFUNC_CLONES)
DEFINE_KERNEL(kernel16, uint16_t, vec16, table_sum16, flush16, XBARFUNC_CLONES)
DEFINE_KERNEL(kernel32, uint32_t, vec32, table_sum32, flush32, XBARFUNC_CLONES)
DEFINE_KERNEL(kernel_bits, uint16_t, vec16, bit_sum, flush16, XBARFUNC_CLONES)
DEFINE_KERNEL(kernel_bits_popcnt, uint16_t, vec16, bit_sum, flush16, XBARFUNC_BITALG)

/* Shift-add the lanes of one block into y (one image); the reference column's share, which
 * every output shares, goes to *common. */
static void combine_block(const xbarfunc_layer *L, size_t blk, const int64_t *tot, int64_t *y,
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
static void finish_image(const xbarfunc_layer *L, const int32_t *x, int64_t common, int64_t *y)
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

/* Per-thread buffers of one work item of up to IMG_BLOCK images. */
typedef struct work {
    uint16_t *pat;  /* input bit patterns, IMG_BLOCK x pat_len */
    size_t pat_len; /* patterns of one image: ab x chunks, count */
    bool popcnt;    /* the CPU has a vector popcount (AVX-512 BITALG) */
    int64_t *tot;   /* IMG_BLOCK x LANES */
} work;

/* Groups whose readings a register accumulator holds: gmax x the largest reading (and gmax
 * lossy flags) fit the lane type. */
static size_t register_groups(const xbarfunc_layer *L)
{
    uint32_t lane_max = L->wide == 8 ? UINT8_MAX : L->wide == 16 ? UINT16_MAX : UINT32_MAX;
    return lane_max / L->vmax;
}

/* nb <= IMG_BLOCK images (x, y at their first), block by block. */
static uint64_t forward_images(const xbarfunc_layer *L, const int32_t *x, size_t nb, const step *st,
                               unsigned nst, unsigned ab, work *wk, int64_t *y)
{
    int64_t common[IMG_BLOCK] = {0};
    uint64_t clips = 0;
    size_t gmax = register_groups(L);
    for (size_t i = 0; i < nb; i++)
        build_patterns(L, x + i * L->R, ab, wk->pat + i * wk->pat_len);
    memset(y, 0, nb * L->N * sizeof *y);
    for (size_t blk = 0; blk < L->nblocks; blk++) {
        const uint16_t *pat = wk->pat;
        size_t pl = wk->pat_len;
        if (L->bits && wk->popcnt)
            clips += kernel_bits_popcnt(L, blk, pat, pl, nb, st, nst, gmax, wk->tot);
        else if (L->bits)
            clips += kernel_bits(L, blk, pat, pl, nb, st, nst, gmax, wk->tot);
        else if (L->wide == 8)
            clips += kernel8(L, blk, pat, pl, nb, st, nst, gmax, wk->tot);
        else if (L->wide == 16)
            clips += kernel16(L, blk, pat, pl, nb, st, nst, gmax, wk->tot);
        else
            clips += kernel32(L, blk, pat, pl, nb, st, nst, gmax, wk->tot);
        for (size_t i = 0; i < nb; i++)
            combine_block(L, blk, wk->tot + i * LANES, y + i * L->N, &common[i]);
    }
    for (size_t i = 0; i < nb; i++)
        finish_image(L, x + i * L->R, common[i], y + i * L->N);
    return clips;
}

static bool lossless(const xbarfunc_layer *L)
{
    return L->p.adc_mode == XBARFUNC_ADC_IDEAL || L->p.adc_bits >= L->needed;
}

/* One analog reading through the ADC (see xbarfunc.h); *clip counts a lossy conversion. */
static double adc_read(const xbarfunc_layer *L, double s, uint64_t *clip)
{
    if (lossless(L))
        return s;
    double v = rint(s);
    v = v > 0.0 ? v : 0.0;
    if (L->p.adc_mode == XBARFUNC_ADC_SATURATE) {
        if (v > (double)L->adc_max) {
            ++*clip;
            return (double)L->adc_max;
        }
        return v;
    }
    uint64_t top = (UINT64_C(1) << L->needed) - 1, u = v > (double)top ? top : (uint64_t)v;
    uint64_t kept = u & (uint64_t)L->adc_keep;
    *clip += kept != (uint64_t)v;
    return (double)kept;
}

/* Device effects, conversion by conversion: image b of the call (x, y at it); acc, tot hold
 * nlanes doubles, yd N. */
static uint64_t analog_image(const xbarfunc_layer *L, const int32_t *x, uint64_t b, const step *st,
                             unsigned nst, unsigned ab, double *acc, double *tot, double *yd,
                             int64_t *y)
{
    size_t nl = L->nlanes;
    uint32_t mask = (uint32_t)((UINT64_C(1) << ab) - 1);
    uint64_t clips = 0, seed = L->p.dev.seed ^ (L->p.dev_stream * UINT64_C(0x9E3779B97F4A7C15));
    double rn = L->p.dev.read_noise;
    memset(tot, 0, nl * sizeof *tot);
    for (unsigned t = 0; t < nst; t++) {
        uint32_t dmask = (1u << st[t].width) - 1u;
        for (size_t gi = 0; gi < L->ngroups; gi++) {
            const group *G = &L->groups[gi];
            const chunk *c0 = &L->chunks[G->chunk0], *c1 = &L->chunks[G->chunk0 + G->nchunks - 1];
            memset(acc, 0, nl * sizeof *acc);
            for (uint32_t i = c0->row0; i < c1->row0 + c1->len; i++) {
                uint32_t d = (((uint32_t)x[L->prow[i]] & mask) >> st[t].lo) & dmask;
                if (d == 0)
                    continue;
                const float *gr = L->g + (size_t)i * nl;
                for (size_t j = 0; j < nl; j++)
                    acc[j] += (double)d * (double)gr[j];
            }
            double k = (double)st[t].coef * (G->neg ? -1.0 : 1.0);
            for (size_t j = 0; j < nl; j++) {
                double v = acc[j];
                if (rn > 0.0)
                    v *= 1.0 + rn * device_normal_at(seed, b, (uint64_t)t * L->ngroups + gi, j);
                tot[j] += k * adc_read(L, v, &clips);
            }
        }
    }
    double common = 0.0, xs = 0.0;
    memset(yd, 0, L->N * sizeof *yd);
    for (size_t j = 0; j < nl; j++) {
        if (L->lanes[j].n < 0)
            common += (double)L->lanes[j].coef * tot[j];
        else
            yd[L->lanes[j].n] += (double)L->lanes[j].coef * tot[j];
    }
    for (size_t r = 0; r < L->R; r++)
        xs += x[r];
    common -= (double)L->off_dig * xs;
    for (size_t n = 0; n < L->N; n++)
        y[n] = (int64_t)llrint(yd[n] + common);
    return clips;
}

static uint64_t forward_analog(const xbarfunc_layer *L, const int32_t *x, size_t B, unsigned ab,
                               bool x_signed, int64_t *y)
{
    step st[MAX_STEPS];
    unsigned nst = build_steps(ab, x_signed, L->p.dac_bits, st);
    uint64_t clips = 0;
#pragma omp parallel reduction(+ : clips)
    {
        double *acc = mem_alloc(L->nlanes * sizeof *acc, "xbarfunc analog sums");
        double *tot = mem_alloc(L->nlanes * sizeof *tot, "xbarfunc analog totals");
        double *yd = mem_alloc(L->N * sizeof *yd, "xbarfunc analog outputs");
#pragma omp for schedule(static)
        for (size_t b = 0; b < B; b++)
            clips += analog_image(L, x + b * L->R, b, st, nst, ab, acc, tot, yd, y + b * L->N);
        free(acc);
        free(tot);
        free(yd);
    }
    return clips;
}

/* llrint(v) without the library call where |v| < 2^51: adding and subtracting 1.5 x 2^52 rounds
 * to an integer, half to even, in the default rounding mode; beyond, llrint itself. */
static inline int64_t round_i64(double v)
{
    return fabs(v) < 0x1p51 ? (int64_t)((v + 0x1.8p52) - 0x1.8p52) : (int64_t)llrint(v);
}

/* Rows b0 .. b0 + nb - 1 of y = x W in single precision (Wf: W as floats); xs, ys scratch. */
static void gemm_block_f32(size_t R, size_t N, const float *Wf, const int32_t *x, size_t nb,
                           float *xs, float *ys, int64_t *y)
{
    for (size_t i = 0; i < nb * R; i++)
        xs[i] = (float)x[i];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)N, (int)R, 1.0f, xs,
                (int)R, Wf, (int)N, 0.0f, ys, (int)N);
    for (size_t i = 0; i < nb * N; i++)
        y[i] = round_i64((double)ys[i]);
}

/* The same in double precision. */
static void gemm_block_f64(size_t R, size_t N, const double *W, const int32_t *x, size_t nb,
                           double *xd, double *yd, int64_t *y)
{
    for (size_t i = 0; i < nb * R; i++)
        xd[i] = (double)x[i];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)N, (int)R, 1.0, xd, (int)R,
                W, (int)N, 0.0, yd, (int)N);
    for (size_t i = 0; i < nb * N; i++)
        y[i] = round_i64(yd[i]);
}

/* y = rint(x W), GEMM_BLOCK images at a time; W is R x N, row-major, in double, or with Wf (not
 * NULL) in single precision. The blocks are shared among the OpenMP threads, each calling a
 * one-thread BLAS: BLAS's own threads would busy-wait (sched_yield) on cores the OpenMP threads
 * need. Every element is the same GEMM's dot product of its block whichever thread runs it, so y
 * does not depend on the thread count. */
static void forward_gemm(const xbarfunc_layer *L, const double *W, const float *Wf,
                         const int32_t *x, size_t B, int64_t *y)
{
    size_t R = L->R, N = L->N, nblocks = (B + GEMM_BLOCK - 1) / GEMM_BLOCK;
    int blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel
    {
        double *xd = mem_alloc(GEMM_BLOCK * R * sizeof *xd, "xbarfunc GEMM inputs");
        double *yd = mem_alloc(GEMM_BLOCK * N * sizeof *yd, "xbarfunc GEMM outputs");
#pragma omp for schedule(static)
        for (size_t k = 0; k < nblocks; k++) {
            size_t b0 = k * GEMM_BLOCK, nb = B - b0 < GEMM_BLOCK ? B - b0 : GEMM_BLOCK;
            if (Wf) /* the double buffers hold as many floats */
                gemm_block_f32(R, N, Wf, x + b0 * R, nb, (float *)xd, (float *)yd, y + b0 * N);
            else
                gemm_block_f64(R, N, W, x + b0 * R, nb, xd, yd, y + b0 * N);
        }
        free(xd);
        free(yd);
    }
    openblas_set_num_threads(blas);
}

/* Device effects, linear case: y = rint(x W_eff). */
static void forward_linear(const xbarfunc_layer *L, const int32_t *x, size_t B, int64_t *y)
{
    forward_gemm(L, L->wl, NULL, x, B, y);
}

bool xbarfunc_layer_exact(const xbarfunc_layer *L)
{
    return !L->g && lossless(L);
}

uint64_t xbarfunc_layer_forward_sliced(const xbarfunc_layer *L, const int32_t *x, size_t B,
                                       unsigned ab, bool x_signed, int64_t *y)
{
    assert(ab >= 1 && ab <= 16);
    assert(inputs_in_range(x, B * L->R, ab, x_signed));
    if (B == 0)
        return 0;
    if (L->g)
        return forward_analog(L, x, B, ab, x_signed, y);
    step st[MAX_STEPS];
    unsigned nst = build_steps(ab, x_signed, L->p.dac_bits, st);
    size_t nwork = (B + IMG_BLOCK - 1) / IMG_BLOCK;
    uint64_t clips = 0;
    /* No more threads than work items: a batch of one item stays on the calling thread. */
    int nthreads = omp_get_max_threads();
    if ((size_t)nthreads > nwork)
        nthreads = (int)nwork;
#pragma omp parallel num_threads(nthreads) reduction(+ : clips)
    {
        work wk = {.pat_len = (size_t)ab * L->nchunks, .popcnt = XBARFUNC_HAS_BITALG()};
        wk.pat = mem_alloc(IMG_BLOCK * wk.pat_len * sizeof *wk.pat, "xbarfunc input patterns");
        wk.tot = mem_alloc(IMG_BLOCK * LANES * sizeof *wk.tot, "xbarfunc lane totals");
#pragma omp for schedule(static)
        for (size_t w = 0; w < nwork; w++) {
            size_t b0 = w * IMG_BLOCK, nb = B - b0 < IMG_BLOCK ? B - b0 : IMG_BLOCK;
            clips += forward_images(L, x + b0 * L->R, nb, st, nst, ab, &wk, y + b0 * L->N);
        }
        free(wk.pat);
        free(wk.tot);
    }
    return clips;
}

/* Whether every partial sum of x W is an integer below 2^24 in magnitude, and so exact in single
 * precision whatever the summation order, for inputs of ab bits: |x| <= 2^ab - 1 (signed:
 * 2^(ab-1), the two's-complement range inputs_in_range admits) and a column's sum of |w| at most
 * col_abs_max bound every partial sum. */
static bool exact_in_float(const xbarfunc_layer *L, unsigned ab, bool x_signed)
{
    double xmax = x_signed ? ldexp(1.0, (int)ab - 1) : ldexp(1.0, (int)ab) - 1.0;
    return xmax * L->col_abs_max < 0x1p24;
}

/* Lossless: the exact GEMM (every partial sum is an integer below 2^53, so exact in double and
 * independent of the summation order; the rounding is then the identity), in single precision
 * where exact_in_float proves it exact too: the same integers, half the arithmetic. */
static void forward_exact(const xbarfunc_layer *L, const int32_t *x, size_t B, unsigned ab,
                          bool x_signed, int64_t *y)
{
    forward_gemm(L, L->wd, exact_in_float(L, ab, x_signed) ? L->wf : NULL, x, B, y);
}

uint64_t xbarfunc_layer_forward(const xbarfunc_layer *L, const int32_t *x, size_t B, unsigned ab,
                                bool x_signed, int64_t *y)
{
    assert(ab >= 1 && ab <= 16);
    assert(inputs_in_range(x, B * L->R, ab, x_signed));
    if (B == 0)
        return 0;
    if (xbarfunc_layer_exact(L)) {
        forward_exact(L, x, B, ab, x_signed, y);
        return 0;
    }
    if (L->g && lossless(L) && L->p.dev.read_noise == 0.0) {
        forward_linear(L, x, B, y);
        return 0;
    }
    return xbarfunc_layer_forward_sliced(L, x, B, ab, x_signed, y);
}
