/* emit: the mapper's last step -- a mapping lowered to the chip program the components execute
 * (components/program.h). Every figure comes from mapping.h (shapes, per-vector traffic) so the
 * program and the analytic model (model.h) describe the same work.
 */
#ifndef XBARSIM_MAPPER_EMIT_H
#define XBARSIM_MAPPER_EMIT_H

#include "arch.h"
#include "mapping.h"
#include "network.h"
#include "program.h"

/* Emit the program of mapping m of network n on arch a into *out (owned by the caller:
 * program_fini). One task per network layer, in the network's order. Digital layers run on the
 * vector module of their first producer's first copy's group (group 0 when fed by the network
 * input). Never fails: the inputs were validated. */
void emit_program(const network *n, const arch *a, const mapping *m, program *out);

/* The group whose buses and vector module serve a tile, index. */
unsigned emit_tile_group(const arch *a, uint64_t tile);

#endif
