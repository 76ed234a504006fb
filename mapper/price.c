/* price: a network mapped without the chip's tile limit and priced on the real chip (price.h).
 * Only the tile count (one chip) or the chip count (a system of chips) differs between the arch
 * the layout is built on and the arch it is priced on, and only in weight-stationary mode.
 */
#include <stdint.h>

#include "price.h"

int price_network(const network *n, const arch *a, const policy *pol, const unsigned *copies,
                  mapping_placement placement, mapping *m, model *mo, err *e)
{
    arch unlimited = *a; /* shallow: only read, never released */
    if (a->mode == ARCH_MODE_WEIGHT_STATIONARY && a->chips == 1)
        unlimited.tiles.count = PRICE_UNLIMITED_TILES;
    else if (a->mode == ARCH_MODE_WEIGHT_STATIONARY) /* chips of the real size, as many as needed */
        unlimited.chips = PRICE_UNLIMITED_TILES / a->tiles.count;
    ERR_TRY(mapping_build(n, &unlimited, pol, copies, placement, m, e));
    model_evaluate(n, a, m, mo);
    return 0;
}
