/* chip: the registry of the chip's parts (tile, bus, vector module, network link). One X-macro list
 * generates the kind enum, the config names, the component_class table, the factory and the
 * accounting, so a new part is its own files plus one line here. The registry depends on the parts
 * (chip.c includes them); the parts depend only on what they share (part.h), never on the registry.
 */
#ifndef XBARSIM_COMPONENTS_CHIP_H
#define XBARSIM_COMPONENTS_CHIP_H

#include <stdbool.h>

#include "arch.h"
#include "part.h"
#include "sim.h"

/* X(ID, config name, struct type, ops table, setup function, account function). The types, ops
 * tables, setup and account functions are declared in tile.h, bus.h and vecmod.h; only chip.c
 * needs them complete. */
#define CHIP_COMPONENT_MAP(X)                                                                      \
    X(TILE, "tile", tile, tile_ops, tile_setup, tile_account)                                      \
    X(BUS, "bus", bus, bus_ops, bus_setup, bus_account)                                            \
    X(VECMOD, "vecmod", vecmod, vecmod_ops, vecmod_setup, vecmod_account)                          \
    X(LINK, "link", noclink, noclink_ops, noclink_setup, noclink_account)

typedef enum chip_component_kind {
#define CHIP_KIND_ENUM(id, name, type, ops, setup, account) CHIP_##id,
    CHIP_COMPONENT_MAP(CHIP_KIND_ENUM)
#undef CHIP_KIND_ENUM
        CHIP_COMPONENT_COUNT
} chip_component_kind;

/* One class per kind, indexed by chip_component_kind (COMPONENT_CLASS_ENTRY entries). */
extern const component_class chip_component_classes[CHIP_COMPONENT_COUNT];

/* Create a component of `kind` named `name` (copied; NULL: the kind's name) in s, which owns it,
 * and attach the chip parameters: `a` (not copied: it must outlive s) and, for a bus, `bus_params`
 * -- the lane parameters it models, normally &a->groups.in_bus or &a->groups.out_bus (required for
 * CHIP_BUS, must be NULL for the others: asserted). The component's resource and statistics
 * entries are ready on return, so requests may be made at once. */
component *chip_component_create(sim *s, chip_component_kind kind, const char *name, const arch *a,
                                 const arch_bus *bus_params);

/* Fill *out for a chip component (any kind of the registry) and return true; return false, with
 * *out zeroed, for a component that is not a chip part (a controller). After sim_finish. */
bool chip_component_account(component *c, part_account *out);

/* Config name of a kind ("tile", "bus", "vecmod"); static storage. */
const char *chip_component_name(chip_component_kind kind);
/* 0 and *kind set, or -1 for an unknown name. */
int chip_component_parse(const char *name, chip_component_kind *kind);

#endif
