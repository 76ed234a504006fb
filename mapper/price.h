/* price: the one rule for pricing a network at a policy and copies when the layout may not fit
 * the chip. The mapping is built on the arch with its tile limit lifted, so a network larger than
 * the chip still gets its times and tiles (callers compare mapping.tiles_span with the chip); the
 * model prices it on the real arch, so static energy is the real chip's parts, never a fictitious
 * chip's. On a system of several chips, the chips are lifted instead of the tiles, so layers stay
 * on whole chips of the real size (callers compare with arch_system_tiles). In reprogram mode the
 * tile count is the crossbars the layers share, so it is kept.
 */
#ifndef XBARSIM_MAPPER_PRICE_H
#define XBARSIM_MAPPER_PRICE_H

#include <stdint.h>

#include "arch.h"
#include "err.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"

/* The tile count a weight-stationary layout may use while it is priced, tiles: large enough for
 * any network the mapper accepts, small enough that sums of tile counts never overflow. */
#define PRICE_UNLIMITED_TILES (UINT32_MAX / 2)

/* Map n at pol with copies (NULL: one each; else n->n_xbar counts) and placement on a, without
 * a's tile limit in weight-stationary mode, and price it on a. Returns 0 with *m and *mo owned by
 * the caller (mapping_fini, model_fini), or a negative status with e set (a layer that fits no
 * tile; in reprogram mode, a layer larger than the shared crossbars) and nothing to release. */
int price_network(const network *n, const arch *a, const policy *pol, const unsigned *copies,
                  mapping_placement placement, mapping *m, model *mo, err *e);

#endif
