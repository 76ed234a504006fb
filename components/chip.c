/* chip: the registry of the chip's parts (see chip.h). Invariant: every table here is generated
 * from CHIP_COMPONENT_MAP, so kinds, names, classes, setup and account hooks cannot fall out of
 * step.
 */
#include "chip.h"

#include <assert.h>
#include <string.h>

#include "bus.h"
#include "noclink.h"
#include "tile.h"
#include "vecmod.h"

#define CHIP_CLASS(id, name, type, ops, setup, account) COMPONENT_CLASS_ENTRY(CHIP_##id, type, ops)
const component_class chip_component_classes[CHIP_COMPONENT_COUNT] = {
    CHIP_COMPONENT_MAP(CHIP_CLASS)};
#undef CHIP_CLASS

typedef void (*setup_fn)(component *c, const arch *a, const arch_bus *bus_params);

static const setup_fn setups[CHIP_COMPONENT_COUNT] = {
#define CHIP_SETUP(id, name, type, ops, setup, account) [CHIP_##id] = setup,
    CHIP_COMPONENT_MAP(CHIP_SETUP)
#undef CHIP_SETUP
};

typedef void (*account_fn)(component *c, part_account *out);

static const account_fn accounts[CHIP_COMPONENT_COUNT] = {
#define CHIP_ACCOUNT(id, name, type, ops, setup, account) [CHIP_##id] = account,
    CHIP_COMPONENT_MAP(CHIP_ACCOUNT)
#undef CHIP_ACCOUNT
};

static const char *const kind_names[CHIP_COMPONENT_COUNT] = {
#define CHIP_NAME(id, name, type, ops, setup, account) [CHIP_##id] = name,
    CHIP_COMPONENT_MAP(CHIP_NAME)
#undef CHIP_NAME
};

component *chip_component_create(sim *s, chip_component_kind kind, const char *name, const arch *a,
                                 const arch_bus *bus_params)
{
    assert(kind < CHIP_COMPONENT_COUNT && a);
    assert((kind == CHIP_BUS) == (bus_params != NULL));
    component *c = sim_create_component(s, &chip_component_classes[kind], name);
    setups[kind](c, a, bus_params);
    return c;
}

bool chip_component_account(component *c, part_account *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned k = 0; k < CHIP_COMPONENT_COUNT; k++)
        if (c->ops == chip_component_classes[k].ops) {
            accounts[k](c, out);
            return true;
        }
    return false;
}

const char *chip_component_name(chip_component_kind kind)
{
    assert(kind < CHIP_COMPONENT_COUNT);
    return kind_names[kind];
}

int chip_component_parse(const char *name, chip_component_kind *kind)
{
    for (unsigned k = 0; k < CHIP_COMPONENT_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *kind = (chip_component_kind)k;
            return 0;
        }
    return -1;
}
