/* device: the non-idealities of a crossbar's cells (the `arch.tiles.device` group; keys in
 * configs/arch/README.md) -- programming
 * variation, stuck-at faults, read noise, drift, a finite on/off ratio and IR drop -- and how a
 * programmed cell's conductance follows from its level. Each effect is off by default; a sample
 * is deterministic for a seed. Invariant: with every effect off, device_conductance returns the
 * level itself, so the functional crossbar stays exact integer arithmetic.
 *
 * Conductances are in units of one level step d = (G_on - G_off) / L_max, L_max = 2^cell_bits - 1
 * (the unit the ADC's least significant bit stands for). A cell at level L, at row i and column j
 * of its tile, gets (applied in this order):
 *  on/off ratio  g = L + g_off, g_off = L_max / (ratio - 1) (an off cell conducts G_on / ratio,
 *                G_on = L_max d + g_off d); ratio 0 means infinite (g_off = 0). The digital side
 *                does not correct g_off.
 *  stuck-at      with probability stuck_off the cell is g_off, with stuck_on it is L_max + g_off
 *                (drawn uniformly over cells); a stuck cell takes no other effect but IR drop.
 *  variation     relative: g x (1 + s N(0,1)); absolute: g + s N(0,1) levels; s = sigma, or
 *                sigma_per_level[L] when given; clamped at 0.
 *  drift         g x (time / t0)^(-nu), nu ~ N(nu_mean, nu_sigma) per cell, clamped at 0.
 *  IR drop       first order: g / (1 + G R_wire (i + j + 2)), G = g G_on / (L_max + g_off) the
 *                cell's conductance in siemens: the cell's current crosses i + 1 row and j + 1
 *                column wire segments of R_wire each.
 *  read noise    every analog column sum (one conversion) x (1 + read_noise N(0,1)).
 * Typical values (sources; figures for other technologies are marked):
 *  - programming variation 1..10 % relative: NeuroSim (MLP_NeuroSim V3.0 Cell.cpp, device-to-
 *    device and cycle-to-cycle sigma of the conductance) and CrossSim's RRAM programming-error
 *    model after Milo et al., IRPS 2021 (neurosim/MLP_NeuroSim_V3.0, sandialabs/cross-sim).
 *  - stuck-at faults: 9.04 % stuck-at-off (SA0) and 1.75 % stuck-at-on (SA1) measured on an RRAM
 *    chip by Chen et al., IEEE Trans. Computers 64(1), 2015 (the figures fault-tolerance papers
 *    use).
 *  - read noise a few % relative: aihwkit's inference noise models (IBM/aihwkit, PCM-like).
 *  - drift nu ~ 0.06 +- 0.02 with t0 = 20 s: aihwkit's PCMLikeNoiseModel (phase-change memory,
 *    Nandakumar et al. 2019); RRAM drifts far less -- an upper bound here.
 *  - on/off ratio 10..100: NeuroSim's default Ag:a-Si RRAM about 12.5 (MLP_NeuroSim V3.0).
 *  - wire resistance ~ 1..3 ohm per cell segment at 1x..2x nm pitch, G_on ~ 10..100 uS: NeuroSim's
 *    wire model (param.cpp) and typical RRAM; an assumption to vary, not a measurement.
 */
#ifndef XBARSIM_COMPONENTS_DEVICE_H
#define XBARSIM_COMPONENTS_DEVICE_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define DEVICE_MAX_LEVELS 256 /* levels of an 8-bit cell, count */

typedef struct device_params {
    uint64_t seed;           /* seed: the chip sample (the cells' draws) */
    double sigma;            /* variation_sigma: relative (fraction) or absolute (levels) */
    bool absolute;           /* variation_kind "absolute" (levels), else "relative" */
    unsigned n_sigma_levels; /* entries of variation_per_level (0: sigma for all), count */
    double sigma_per_level[DEVICE_MAX_LEVELS]; /* per level L, as sigma */
    double stuck_off;                          /* fraction of cells stuck at G_off, 0..1 */
    double stuck_on;       /* fraction of cells stuck at G_on, 0..1 - stuck_off */
    double read_noise;     /* relative sigma of every analog column sum, >= 0 */
    double drift_nu;       /* mean drift exponent, dimensionless >= 0 */
    double drift_nu_sigma; /* its spread over cells, >= 0 */
    double drift_t0_s;     /* time of the programmed reading, s > 0 */
    double time_s;         /* inference time after programming, s >= drift_t0_s */
    double on_off_ratio;   /* G_on / G_off, > 1; 0: infinite */
    double wire_ohm;       /* wire resistance per cell segment, ohm >= 0 (0: no IR drop) */
    double g_on_us;        /* conductance of the top level G_on, uS > 0 (IR drop) */
} device_params;

/* Every effect off (the default of every key). */
void device_params_ideal(device_params *d);

/* Parse the group s (arch.tiles.device; NULL: absent, every effect off) into *d for cells of
 * cell_bits bits. Returns 0, or ERR_INPUT with e = "file:line: arch.tiles.device.key: found ...,
 * expected ..." (origin names a text that comes from no file). *d is filled only on success. */
int device_parse(const config_setting_t *s, const char *origin, unsigned cell_bits,
                 device_params *d, err *e);

/* Whether some cell effect is on (variation, stuck-at, drift away from t0, on/off ratio, IR
 * drop), whether read noise is on, and whether anything is. */
bool device_static_any(const device_params *d);
bool device_any(const device_params *d);

/* The settings as text for logs ("ideal" when every effect is off), into buf. */
void device_describe(const device_params *d, char *buf, size_t cap);

/* One cell's conductance (level-step units, formula above) at level (0 .. 2^cell_bits - 1), row
 * i and column j of its tile; the random draws come from rng (a gsl_rng *, so the caller owns
 * the stream and its order). */
double device_conductance(const device_params *d, unsigned cell_bits, uint32_t level, unsigned i,
                          unsigned j, void *rng);

#define DEVICE_CHIP_STRIDE 1000003 /* run seeds' distance between chip-seed ranges (a prime) */

/* The device seed of chip k (1..) sampled under run seed S: S x DEVICE_CHIP_STRIDE + k, so the
 * chips of different runs do not overlap for k < DEVICE_CHIP_STRIDE. */
uint64_t device_chip_seed(uint64_t run_seed, uint64_t k);

/* A standard normal from a counter (seed, a, b, c): the same value for the same arguments on
 * every thread (read noise). */
double device_normal_at(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

#endif
