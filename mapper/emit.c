/* emit: lowering a mapping to a chip program (see emit.h). Invariant: a crossbar task's shapes,
 * traffic and lane work are exactly mapping_shapes / mapping_layer_traffic of its mapping_layer,
 * and a digital task's lane work is the layer's elements, as in the analytic model.
 */
#include "emit.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

unsigned emit_tile_group(const arch *a, uint64_t tile)
{
    return arch_tile_group(a, tile);
}

/* The vector-module operation a layer is (the vector op column of NETWORK_LAYER_KIND_MAP). */
static const vecmod_op_kind kind_vec_op[NETWORK_KIND_COUNT] = {
#define X(id, name, xbar, min_in, max_in, elementwise, sign, vec_op, functional)                   \
    [NETWORK_KIND_##id] = VECMOD_OP_##vec_op,
    NETWORK_LAYER_KIND_MAP(X)
#undef X
};

static void emit_crossbar(const network *n, const arch *a, const mapping_layer *ml, program_task *t)
{
    mapping_shape shapes[MAPPING_MAX_SHAPES];
    unsigned ns = mapping_shapes(a, ml, shapes);
    assert(ns >= 1 && ns <= PROGRAM_MAX_SHAPES);
    t->kind = PROGRAM_CROSSBAR;
    t->ab = ml->ab;
    t->adc_bits = ml->adc;
    t->vectors = ml->vectors;
    t->tiles_per_copy = ml->tiles_per_copy;
    t->n_shapes = ns;
    for (unsigned k = 0; k < ns; k++)
        t->shapes[k] = (program_shape){shapes[k].rows, shapes[k].cols, shapes[k].count};
    if (a->mode == ARCH_MODE_WEIGHT_STATIONARY) {
        t->copies = ml->copies;
        t->copy_tile = mem_calloc(ml->copies, sizeof *t->copy_tile, "program copy tiles");
        memcpy(t->copy_tile, ml->copy_tile, ml->copies * sizeof *t->copy_tile);
        t->group = emit_tile_group(a, ml->copy_tile[0]);
    } else {
        t->copies = 1; /* time-shared crossbars: copies would only queue for the same ones */
        t->group = 0;
    }
    mapping_traffic tr = mapping_layer_traffic(n, a, ml);
    t->vec_op = VECMOD_OP_COMBINE;
    t->in_bits = tr.in_bits;
    t->out_bits = tr.out_bits;
    t->lane_ops = tr.lane_ops;
    t->sram_read_bytes = tr.sram_read_bytes;
    t->sram_write_bytes = tr.sram_write_bytes;
}

/* The output's transfers over the on-chip network: mapping_layer_routes, as the model prices. */
static void emit_routes(const network *n, const arch *a, const mapping *m, unsigned li,
                        program_task *t)
{
    mapping_route *r;
    t->n_routes = mapping_layer_routes(n, a, m, li, &r);
    if (!t->n_routes)
        return;
    t->routes = mem_calloc(t->n_routes, sizeof *t->routes, "program routes");
    for (unsigned k = 0; k < t->n_routes; k++)
        t->routes[k] =
            (program_route){.copy = r[k].copy, .src = r[k].src, .dst = r[k].dst, .bits = r[k].bits};
    free(r);
}

void emit_program(const network *n, const arch *a, const mapping *m, program *out)
{
    program p;
    program_init(&p, n->n_layers);
    for (unsigned li = 0; li < n->n_layers; li++) {
        const network_layer *nl = &n->layers[li];
        program_task *t = &p.tasks[li];
        t->name = mem_strdup(nl->name, "program task name");
        t->layer = li;
        for (unsigned k = 0; k < nl->n_inputs; k++)
            if (nl->inputs[k] != NETWORK_INPUT)
                t->deps[t->n_deps++] = (uint32_t)nl->inputs[k];
        emit_routes(n, a, m, li, t);
        mapping_layer_offchip(n, a, m, li, &t->fetch_bits, &t->store_bits);
        if (nl->xbar_index >= 0) {
            emit_crossbar(n, a, &m->layers[nl->xbar_index], t);
            continue;
        }
        t->kind = PROGRAM_DIGITAL;
        t->vec_op = kind_vec_op[nl->kind];
        mapping_traffic tr = mapping_digital_traffic(n, li);
        t->lane_ops = tr.lane_ops;
        t->sram_read_bytes = tr.sram_read_bytes;
        t->sram_write_bytes = tr.sram_write_bytes;
        t->group = mapping_layer_group(n, a, m, li, 0);
    }
    *out = p;
}
