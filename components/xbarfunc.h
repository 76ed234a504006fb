/* xbarfunc: the bit-accurate functional arithmetic of a tile (Huang et al.'s functional crossbar,
 * REFERENCE §4): signed integer weights sliced into cells under a mapping mode, integer inputs
 * streamed in DAC digits, every column sum of every row group and step through an ADC, slices and
 * steps shift-added, row tiles added digitally. Invariant: with a lossless ADC the result is the
 * exact integer GEMM; every lossy conversion is counted.
 */
#ifndef XBARSIM_COMPONENTS_XBARFUNC_H
#define XBARSIM_COMPONENTS_XBARFUNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "device.h"
#include "err.h"

/* ADC models: X(ID, config name). */
#define XBARFUNC_ADC_MODE_MAP(X)                                                                   \
    X(IDEAL, "ideal")       /* lossless: every column sum read exactly, whatever adc_bits */       \
    X(SATURATE, "saturate") /* reads 0 .. 2^adc_bits - 1, larger sums clamp (Huang et al.) */      \
    X(DROP_LSB, "drop_lsb") /* full range kept, the low (needed - adc_bits) bits dropped (floor)   \
                             */

typedef enum xbarfunc_adc_mode {
#define XBARFUNC_ADC_MODE_ENUM(id, name) XBARFUNC_ADC_##id,
    XBARFUNC_ADC_MODE_MAP(XBARFUNC_ADC_MODE_ENUM)
#undef XBARFUNC_ADC_MODE_ENUM
        XBARFUNC_ADC_MODE_COUNT
} xbarfunc_adc_mode;

/* Config names "ideal", "saturate", "drop_lsb". parse returns 0, or -1 for an unknown name. */
const char *xbarfunc_adc_mode_name(xbarfunc_adc_mode m);
int xbarfunc_adc_mode_parse(const char *name, xbarfunc_adc_mode *m);

/* The tile as the arithmetic sees it. Build with xbarfunc_params_from_arch or by hand (designated
 * initialisers; fields left out are 0). */
typedef struct xbarfunc_params {
    unsigned cell_bits;   /* bits per cell (1..8) */
    arch_mapping mapping; /* how signed weights become non-negative conductances */
    unsigned rows;        /* crossbar rows of one tile, cells: a layer of R rows uses
                             ceil(R * row_factor / rows) row tiles; their partial sums are added
                             digitally (vector module) */
    unsigned rows_active; /* rows driven per conversion within a tile, rows (1..rows) */
    unsigned dac_bits;    /* input bits applied per step, bits (1..8) */
    unsigned adc_bits;    /* ADC resolution, bits (1..ARCH_MAX_ADC_BITS) */
    xbarfunc_adc_mode adc_mode;
    unsigned cols;       /* crossbar columns of one tile, cells; 0: unbounded. Only sets how many
                            reference columns the offset mapping converts (one per column tile), so
                            only the conversion and clip counts, never y (and IR drop's column) */
    device_params dev;   /* cell non-idealities (components/device.h); all off: exact arithmetic */
    uint64_t dev_stream; /* this matrix's GSL stream within the chip sample dev.seed */
} xbarfunc_params;

/* Fill p from arch a (cell_bits, mapping, rows, rows_active, dac bits, cols, device) with the
 * given ADC bits and mode; dev_stream 0. */
void xbarfunc_params_from_arch(const arch *a, unsigned adc_bits, xbarfunc_adc_mode mode,
                               xbarfunc_params *p);

/* A 64-bit FNV-1a digest of every field of p (device effects and seed included), field by field so
 * that padding never counts: equal parameters, equal digests; different ones collide with
 * probability about 2^-64. Keys caches of products computed under p. */
uint64_t xbarfunc_params_digest(const xbarfunc_params *p);

/* 0, or ERR_INPUT with e naming the field, the value found and the range expected. */
int xbarfunc_params_check(const xbarfunc_params *p, err *e);

/* Bits needed for a lossless conversion under p, bits:
 * arch_adc_bits_for(rows_active, cell_bits, dac_bits), the formula arch_adc_bits_needed uses.
 * The ADC of DROP_LSB spans this range. */
unsigned xbarfunc_adc_bits_needed(const xbarfunc_params *p);

/* Mapping models (off = 2^(wb-1) - 1; slices of cell_bits bits, least significant first):
 *  unsigned            cells hold u = w + off in ceil(wb / cell_bits) slices; no reference
 *                      column: the vector module subtracts off * sum_r x_r exactly (it holds the
 *                      inputs), so only the weight columns go through the ADC.
 *  offset              cells hold u = w + off as above; each crossbar has one reference column of
 *                      cells at level 1 (the lowest non-zero conductance), converted like any
 *                      column for every row group and step; off * (its reading) is subtracted
 *                      digitally, so a short ADC makes the reference reading lossy too.
 *  differential_column w+ = max(w, 0) and w- = max(-w, 0), each in ceil((wb - 1) / cell_bits)
 *                      slices in its own column; both converted; w- readings subtracted.
 *  differential_row    w+ and w- in two physical rows (row 2r and 2r + 1 of the layer's 2R
 *                      physical rows; row tile t holds physical rows [t rows, (t + 1) rows)).
 *                      Inputs have one polarity per conversion so every column sum through the
 *                      ADC is non-negative: within a tile the w+ rows are driven rows_active at a
 *                      time, then the w- rows likewise; the w- readings are subtracted.
 * Row groups: within a row tile, rows_active consecutive (same-polarity) rows per conversion,
 * the last group of a tile possibly smaller.
 *
 * Inputs (ab bits): unsigned inputs stream bits 0 .. ab-1 in ceil(ab / dac_bits) steps of
 * dac_bits-bit digits (the last one possibly narrower), step t weighted 2^(t dac_bits). Signed
 * (two's complement) inputs stream the ab - 1 magnitude bits the same way, then the sign bit in a
 * step of its own (a 1-bit digit) whose readings carry weight -2^(ab-1): every DAC level and
 * every column sum stays non-negative. With dac_bits 1 this is Huang et al.'s ab steps.
 */

typedef struct xbarfunc_layer xbarfunc_layer; /* opaque: a weight matrix programmed into cells */

/* Program signed integer weights w[r * N + n] (R rows, N columns, row-major), each in
 * [-(2^(wb-1) - 1), 2^(wb-1) - 1] (symmetric quantisation), wb 2..16 bits, into cells under p.
 * wb == 1 has no non-zero symmetric value and is rejected. Copies what it needs (w stays the
 * caller's). Returns 0 and *out (owned by the caller: xbarfunc_layer_destroy), or ERR_INPUT with e
 * saying which parameter or which weight (row, column, value, range) is wrong. */
int xbarfunc_layer_create(const xbarfunc_params *p, const int32_t *w, size_t R, size_t N,
                          unsigned wb, xbarfunc_layer **out, err *e);
/* Free L; L may be NULL. */
void xbarfunc_layer_destroy(xbarfunc_layer *L);

/* y[b * N + n] = the crossbar's result for sum_r x[b * R + r] * w[r * N + n], b < B.
 * Inputs are ab-bit integers (ab 1..16): unsigned 0..2^ab-1 when !x_signed, else two's complement
 * -2^(ab-1)..2^(ab-1)-1, streamed as described above. With XBARFUNC_ADC_IDEAL, or any mode with
 * adc_bits >= xbarfunc_adc_bits_needed, the result is the exact integer GEMM (computed as one).
 * OpenMP over the batch, deterministic: the same bits whatever the thread count. Inputs out of
 * range are a programming error (assert). Returns the number of ADC conversions that clipped
 * (SATURATE) or lost non-zero bits (DROP_LSB), reference columns included; 0 when lossless. */
uint64_t xbarfunc_layer_forward(const xbarfunc_layer *L, const int32_t *x, size_t B, unsigned ab,
                                bool x_signed, int64_t *y);

/* Device effects (p.dev, any on): the cells hold the conductances device_conductance draws from
 * the stream (dev.seed, dev_stream), one cell at a time in lane-major, group-row order. Each
 * conversion then reads the real column sum sum_i digit_i g_i (times 1 + read noise), and the ADC
 * turns it into a level count: a lossless ADC (ideal, or adc_bits >= needed) passes the real
 * value on; saturate reads max(0, rint(s)) clamped to 2^adc_bits - 1; drop_lsb rint(s) with the
 * low bits dropped. Readings are shift-added as above in double and each output rounded to the
 * nearest integer at the end. Without read noise and with a lossless ADC every step is linear,
 * so xbarfunc_layer_forward computes it as one GEMM of the effective weights (the same result to
 * double rounding); otherwise conversion by conversion. Read noise is drawn by counter (seed, image
 * index within the call, step and group, lane), so any thread count gives the same bits. */

/* Whether xbarfunc_layer_forward takes the exact integer GEMM: a lossless ADC and every device
 * effect off. */
bool xbarfunc_layer_exact(const xbarfunc_layer *L);

/* As xbarfunc_layer_forward but always conversion by conversion (no exact-GEMM shortcut), even for
 * a lossless ADC: the proof that the sliced arithmetic itself is exact. */
uint64_t xbarfunc_layer_forward_sliced(const xbarfunc_layer *L, const int32_t *x, size_t B,
                                       unsigned ab, bool x_signed, int64_t *y);

/* ADC conversions of one input vector of ab bits, count (the denominator of a clip rate):
 * steps x row groups x converted columns, each offset reference column counted once per column
 * tile. */
uint64_t xbarfunc_layer_conversions(const xbarfunc_layer *L, unsigned ab, bool x_signed);

/* Shape of L: logical rows R, columns N, weight bits wb, slices per weight. */
size_t xbarfunc_layer_rows(const xbarfunc_layer *L);
size_t xbarfunc_layer_cols(const xbarfunc_layer *L);
unsigned xbarfunc_layer_weight_bits(const xbarfunc_layer *L);
unsigned xbarfunc_layer_slices(const xbarfunc_layer *L);

#endif
