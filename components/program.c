/* program: the chip program's storage and the two questions every executor asks of a task --
 * how many vectors a copy gets and what shape a tile has (see program.h).
 */
#include "program.h"

#include <assert.h>
#include <stdlib.h>

#include "mem.h"

void program_init(program *p, unsigned n)
{
    p->n = n;
    p->tasks = mem_calloc(n ? n : 1, sizeof *p->tasks, "program tasks");
}

void program_fini(program *p)
{
    if (!p)
        return;
    for (unsigned i = 0; p->tasks && i < p->n; i++) {
        free(p->tasks[i].name);
        free(p->tasks[i].copy_tile);
        free(p->tasks[i].routes);
    }
    free(p->tasks);
    p->tasks = NULL;
    p->n = 0;
}

uint64_t program_copy_vectors(const program_task *t, unsigned c)
{
    assert(t->kind == PROGRAM_CROSSBAR && c < t->copies);
    return t->vectors / t->copies + (c < t->vectors % t->copies);
}

const program_shape *program_tile_shape(const program_task *t, uint64_t i)
{
    assert(i < t->tiles_per_copy);
    for (unsigned k = 0; k < t->n_shapes; k++) {
        if (i < t->shapes[k].count)
            return &t->shapes[k];
        i -= t->shapes[k].count;
    }
    assert(0 && "shapes do not cover the copy's tiles");
    return &t->shapes[0];
}
