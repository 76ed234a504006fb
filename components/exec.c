/* exec: running a chip program (see exec.h). A task's controller keeps, per copy, how many
 * requests of each stage it has issued and seen completed for the running inference; a stage
 * has at most one request in flight per copy, and a request is issued only when its input is
 * there and the buffer it writes is free (ready()). Invariant: every request goes to a component
 * (tile, bus, vector module) at the current time, so their FIFO resources see arrivals in order,
 * and every stage completion comes back as one LAYER_EV_STAGE event to the controller.
 *
 * Reprogram mode: a task's vectors are staged into the crossbars' input buffers first (stage IN,
 * back to back), the tile stage then runs round by round (round k programs the crossbars with
 * logical tiles [k x crossbars, (k + 1) x crossbars) and multiplies every vector), and the outputs
 * leave once the last round has produced them. A task holds the crossbars for its whole tile
 * stage, so two layers never interleave on one crossbar's weights.
 */
#include "exec.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "chip.h"
#include "noclink.h"
#include "mem.h"
#include "tile.h"
#include "topology.h"
#include "trace.h"
#include "vecmod.h"

/* Stages of one vector: input bus, tiles, output bus, vector module, then the output's transfers
 * to consumers in other groups over the on-chip network (NOC; none without routes). */
enum { ST_IN, ST_TILE, ST_OUT, ST_VEC, ST_NOC, ST_COUNT };
/* Tags of the task's off-chip transfers (copy 0), before and after its work. */
enum { IO_FETCH = ST_COUNT, IO_STORE };
enum { LAYER_EV_STAGE = 1, LAYER_EV_START = 2 };
#define TAG_STAGE_BITS 3u
#define NO_OWNER       (-1)

typedef struct copy_run {
    uint64_t n;                /* vectors of this copy per inference, count */
    int64_t first_vector;      /* index of its first vector within the layer, index */
    uint64_t total[ST_COUNT];  /* requests per inference by stage, count */
    uint64_t issued[ST_COUNT]; /* requests issued in the running inference, count */
    uint64_t done[ST_COUNT];   /* requests completed in the running inference, count */
    bus *in_bus, *out_bus;     /* not owned (components of the sim) */
    vecmod *vm;                /* not owned */
    tile **tiles;              /* weight-stationary: the copy's tiles in order; owned array */
    bool mirrored;             /* weight-stationary: shapes led by their first tile */
    simtime start_ps;          /* the running inference entered the copy, ps */
    unsigned route_first;      /* its routes: program routes [route_first, route_end), index */
    unsigned route_end;
    unsigned route, hop; /* the NOC request in flight: its route and hop, index */
    unsigned *hop_start; /* route r's links: links[hop_start[r - route_first] ..
                            hop_start[r - route_first + 1]), index; owned */
    unsigned *links;     /* the routes' links in order (topology ids), owned */
    noclink *stand_in;   /* overlap off: its private network link, not owned */
    double noc_pj;       /* network energy (on chip and between chips) per vector, pJ */
} copy_run;

typedef struct layer_ctl {
    component base; /* first: the engine's view */
    exec *x;
    unsigned task;        /* index in the program */
    bool running;         /* an inference is in progress */
    uint64_t inference;   /* the running inference, or the next to start, index */
    unsigned copies_left; /* copies still working on the running inference, count */
    simtime start_ps;     /* the running inference entered the task, ps */
    unsigned n_copies;    /* count */
    copy_run *copies;     /* owned */
    uint64_t rounds;      /* reprogram: crossbar rounds per inference (weight-stationary: 1) */
    bool queued;          /* reprogram: waiting for the crossbars */
    noclink *io;          /* its off-chip link (shared with overlap, its own without), or NULL
                             when it moves nothing off the chip; not owned */
    unsigned last_copy;   /* the copy that finished last, traced once the store is out */
} layer_ctl;

struct exec {
    sim *s;
    const arch *a;
    arch stand_in;             /* a with no static power: private stand-in vector modules */
    arch_bus stand_in_in_bus;  /* the input bus with no static power: private stand-ins */
    arch_bus stand_in_out_bus; /* the output bus with no static power */
    vecmod **vms;              /* every vector module created (shared or stand-in) */
    size_t n_vms;              /* entries of vms, count */
    const program *p;
    exec_options o;
    bool reprogram;
    layer_ctl **ctl;                     /* by task */
    exec_task_result *res;               /* by task */
    double (*e_vec)[COST_E_COUNT];       /* dynamic energy per vector by task and category, pJ */
    double *write_pj;                    /* reprogram: cell writes per inference by task, pJ */
    cost_vmm (*vmm)[PROGRAM_MAX_SHAPES]; /* the VMM of each shape, by task */
    unsigned *n_consumers;               /* by task, count */
    unsigned **consumers;                /* by task: consumer task indices; owned */
    unsigned n_groups;                   /* tile groups of the chip, count */
    tile **tile_by_id;                   /* created tiles by tile id (reprogram: crossbar index) */
    bus **in_bus, **out_bus;             /* shared buses by group (overlap on) */
    vecmod **vm;                         /* shared vector modules by index (overlap on) */
    int64_t *comp_group;                 /* group by component id; grows */
    size_t comp_cap;                     /* entries of comp_group, count */
    uint64_t tiles_used;                 /* tiles created, count */
    /* Per-inference records in a ring of `ring` slots (inference i in slot i % ring), so memory
     * stays bounded whatever the inference count; the figures the totals need are kept apart. */
    uint64_t ring;                  /* slots, count */
    uint64_t *inf_id;               /* inference held by each slot */
    simtime *inf_start, *inf_end;   /* by slot, ps */
    unsigned *inf_tasks;            /* tasks finished by slot, count */
    uint64_t inf_done;              /* inferences every task finished, count */
    simtime first_start, first_end; /* inference 0, ps */
    simtime mid_end, last_end;      /* ends of inferences N/2 - 1 and N - 1, ps */
    simtime max_end;                /* the latest inference end, ps */
    uint64_t completions;           /* task inference completions, count */
    int xbar_owner;                 /* reprogram: task holding the crossbars, or NO_OWNER */
    unsigned *xbar_wait;            /* reprogram: FIFO of tasks waiting for them */
    unsigned wait_head, wait_len;   /* ring indices into xbar_wait, count */
    noclink **links;                /* shared links by system link id (overlap on) */
    noclink **offchip;              /* shared off-chip link by chip (overlap on) */
    double *noc_pj;                 /* on-chip network energy per inference by task, pJ */
    double *interchip_pj;           /* interchip energy per inference by task, pJ */
};

static const component_ops layer_ops;
static const component_class layer_class = {.size = sizeof(layer_ctl), .ops = &layer_ops};

static layer_ctl *as_ctl(component *c)
{
    assert(c->ops == &layer_ops);
    return (layer_ctl *)c;
}

/* ---- building the chip ----------------------------------------------------------------------- */

static void track(exec *x, const component *c, int64_t group)
{
    if (c->id >= x->comp_cap) {
        size_t cap = x->comp_cap ? x->comp_cap * 2 : 64;
        while (cap <= c->id)
            cap *= 2;
        x->comp_group = mem_realloc(x->comp_group, cap, sizeof *x->comp_group, "exec groups");
        x->comp_cap = cap;
    }
    x->comp_group[c->id] = group;
}

static tile *tile_at(exec *x, uint64_t id)
{
    if (!x->tile_by_id[id]) {
        char name[32];
        snprintf(name, sizeof name, "tile%llu", (unsigned long long)id);
        x->tile_by_id[id] = tile_create(x->s, name, x->a);
        track(x, &x->tile_by_id[id]->base, x->reprogram ? 0 : (int64_t)arch_tile_group(x->a, id));
        x->tiles_used++;
    }
    return x->tile_by_id[id];
}

static bus *make_bus(exec *x, const char *name, const arch_bus *params, int64_t group)
{
    bus *b = bus_create(x->s, name, x->a, params);
    track(x, &b->base, group);
    return b;
}

static vecmod *make_vm(exec *x, const char *name, int64_t group, bool stand_in)
{
    vecmod *m = vecmod_create(x->s, name, stand_in ? &x->stand_in : x->a);
    track(x, &m->base, group);
    x->vms = mem_realloc(x->vms, x->n_vms + 1, sizeof *x->vms, "exec vector module list");
    x->vms[x->n_vms++] = m;
    return m;
}

/* Buses and vector module for a copy served by `group`: the group's shared ones with overlap,
 * private stand-ins named after the copy without (drawing no static power: the chip's parts are
 * counted once, by cost_static_energy). */
static void attach_io(exec *x, copy_run *cr, const program_task *t, unsigned c, unsigned group)
{
    const arch *a = x->a;
    char name[256];
    if (!x->o.overlap) {
        snprintf(name, sizeof name, "%s.c%u.in_bus", t->name, c);
        cr->in_bus = make_bus(x, name, &x->stand_in_in_bus, group);
        snprintf(name, sizeof name, "%s.c%u.out_bus", t->name, c);
        cr->out_bus = make_bus(x, name, &x->stand_in_out_bus, group);
        snprintf(name, sizeof name, "%s.c%u.vm", t->name, c);
        cr->vm = make_vm(x, name, group, true);
        return;
    }
    if (!x->in_bus[group]) {
        snprintf(name, sizeof name, "g%u.in_bus", group);
        x->in_bus[group] = make_bus(x, name, &a->groups.in_bus, group);
        snprintf(name, sizeof name, "g%u.out_bus", group);
        x->out_bus[group] = make_bus(x, name, &a->groups.out_bus, group);
    }
    unsigned v = group; /* one vector module per group (arch.vector.count = groups per chip) */
    if (!x->vm[v]) {
        snprintf(name, sizeof name, "vm%u", v);
        x->vm[v] = make_vm(x, name, group, false);
    }
    cr->in_bus = x->in_bus[group];
    cr->out_bus = x->out_bus[group];
    cr->vm = x->vm[v];
}

/* Per-vector dynamic energy of a task by category, and its per-inference write energy. */
static void price_task(exec *x, unsigned ti)
{
    const arch *a = x->a;
    const program_task *t = &x->p->tasks[ti];
    double *e = x->e_vec[ti];
    e[COST_E_VECTOR] = cost_vector_energy_pj(a, t->lane_ops, 0, 0);
    e[COST_E_SRAM] = cost_vector_energy_pj(a, 0, t->sram_read_bytes, t->sram_write_bytes);
    if (t->kind != PROGRAM_CROSSBAR)
        return;
    uint64_t count[PROGRAM_MAX_SHAPES];
    for (unsigned k = 0; k < t->n_shapes; k++) {
        const program_shape *sh = &t->shapes[k];
        x->vmm[ti][k] = (cost_vmm){.rows_used = sh->rows,
                                   .cols_used = sh->cols,
                                   .in_bits = t->ab,
                                   .adc_bits = t->adc_bits};
        count[k] = sh->count;
        if (x->reprogram)
            x->write_pj[ti] +=
                cost_write_energy_pj(a, (uint64_t)sh->rows * sh->cols) * (double)sh->count;
    }
    cost_vmm_energy_sum(a, x->vmm[ti], count, t->n_shapes, e);
    e[COST_E_BUS] = cost_bus_energy_pj(&a->groups.in_bus, t->in_bits) +
                    cost_bus_energy_pj(&a->groups.out_bus, t->out_bits);
}

/* Copy c's routes (the program lists them copy by copy), its NOC requests (one per vector) and,
 * with overlap off, its private stand-in link; its network energy per vector. */
static void attach_routes(exec *x, copy_run *cr, const program_task *t, unsigned c)
{
    const arch *a = x->a;
    unsigned k = 0;
    while (k < t->n_routes && t->routes[k].copy < c)
        k++;
    cr->route_first = k;
    while (k < t->n_routes && t->routes[k].copy == c)
        k++;
    cr->route_end = k;
    if (cr->route_first == cr->route_end)
        return;
    cr->total[ST_NOC] = cr->n;
    /* Every vector's hops follow these paths: work them out once. */
    unsigned nr = cr->route_end - cr->route_first, mh = topology_system_max_hops(a);
    cr->hop_start = mem_calloc(nr + 1, sizeof *cr->hop_start, "exec route starts");
    cr->links = mem_calloc((size_t)nr * mh + 1, sizeof *cr->links, "exec route links");
    double noc = 0.0, interchip = 0.0;
    for (unsigned r = 0; r < nr; r++) {
        const program_route *rt = &t->routes[cr->route_first + r];
        unsigned hops, chip_hops;
        topology_route(a, rt->src, rt->dst, &hops, &chip_hops);
        unsigned n = topology_system_path(a, rt->src, rt->dst, cr->links + cr->hop_start[r], mh);
        assert(n == hops + chip_hops);
        cr->hop_start[r + 1] = cr->hop_start[r] + n;
        noc += cost_noc_energy_pj(a, rt->bits, hops);
        interchip += cost_xlink_energy_pj(&a->interchip, rt->bits, chip_hops);
    }
    cr->noc_pj = noc + interchip;
    x->noc_pj[t - x->p->tasks] += noc * (double)cr->n;
    x->interchip_pj[t - x->p->tasks] += interchip * (double)cr->n;
    if (!x->o.overlap) {
        char name[256];
        snprintf(name, sizeof name, "%s.c%u.noc", t->name, c);
        cr->stand_in = (noclink *)chip_component_create(x->s, CHIP_LINK, name, a, NULL);
        track(x, &cr->stand_in->base, t->routes[cr->route_first].src);
    }
}

/* The shared link with system link id `id`, created on first use. */
static noclink *link_at(exec *x, unsigned id)
{
    if (!x->links[id]) {
        char name[64];
        topology_system_link_name(x->a, id, name, sizeof name);
        x->links[id] = (noclink *)chip_component_create(x->s, CHIP_LINK, name, x->a, NULL);
        if (topology_is_interchip(x->a, id))
            noclink_set_kind(x->links[id], NOCLINK_INTERCHIP);
        track(x, &x->links[id]->base, -1);
    }
    return x->links[id];
}

/* The off-chip link of a task that moves bits off its chip: its chip's shared one with overlap,
 * a private stand-in (no static power of its own) without. */
static void attach_offchip(exec *x, layer_ctl *l, const program_task *t, unsigned chip)
{
    if (t->fetch_bits + t->store_bits == 0)
        return;
    char name[256];
    if (!x->o.overlap) {
        snprintf(name, sizeof name, "%s.offchip", t->name);
        l->io = (noclink *)chip_component_create(x->s, CHIP_LINK, name, x->a, NULL);
        noclink_set_kind(l->io, NOCLINK_OFFCHIP);
        track(x, &l->io->base, -1);
        return;
    }
    if (!x->offchip[chip]) {
        if (x->a->chips > 1)
            snprintf(name, sizeof name, "chip%u.offchip", chip);
        else
            snprintf(name, sizeof name, "offchip");
        x->offchip[chip] = (noclink *)chip_component_create(x->s, CHIP_LINK, name, x->a, NULL);
        noclink_set_kind(x->offchip[chip], NOCLINK_OFFCHIP);
        track(x, &x->offchip[chip]->base, -1);
    }
    l->io = x->offchip[chip];
}

/* Every vector of a weight-stationary copy goes to all its tiles at once, so the tiles of one
 * shape see the same requests at the same times: the first of each shape leads, the rest mirror
 * it. */
static void mirror_shapes(copy_run *cr, const program_task *t)
{
    uint64_t k = 0;
    for (unsigned sh = 0; sh < t->n_shapes; sh++) {
        tile *leader = cr->tiles[k];
        for (uint64_t i = 1; i < t->shapes[sh].count; i++)
            tile_mirror(cr->tiles[k + i], leader);
        k += t->shapes[sh].count;
    }
    cr->mirrored = true;
}

/* Weight-stationary: mirror the shapes of every copy whose tiles no other copy uses. The mapper
 * gives every copy tiles of its own (mapping.h), so that is every copy; a hand-built program
 * that shares tiles keeps one request per tile for the copies that share. Such a copy's tiles
 * were created in its own loop of build_task, one after the other, so their ids run on. */
static void mirror_copies(exec *x)
{
    const program *p = x->p;
    uint8_t *uses = mem_calloc(arch_system_tiles(x->a), sizeof *uses, "exec tile uses");
    for (unsigned ti = 0; ti < p->n; ti++)
        for (unsigned c = 0; p->tasks[ti].kind == PROGRAM_CROSSBAR && c < p->tasks[ti].copies; c++)
            for (uint64_t k = 0; k < p->tasks[ti].tiles_per_copy; k++) {
                uint8_t *u = &uses[p->tasks[ti].copy_tile[c] + k];
                *u = *u < 2 ? *u + 1 : 2;
            }
    for (unsigned ti = 0; ti < p->n; ti++) {
        const program_task *t = &p->tasks[ti];
        for (unsigned c = 0; t->kind == PROGRAM_CROSSBAR && c < t->copies; c++) {
            bool own = true;
            for (uint64_t k = 0; own && k < t->tiles_per_copy; k++)
                own = uses[t->copy_tile[c] + k] == 1;
            if (own)
                mirror_shapes(&x->ctl[ti]->copies[c], t);
        }
    }
    free(uses);
}

static void build_task(exec *x, unsigned ti)
{
    const arch *a = x->a;
    const program_task *t = &x->p->tasks[ti];
    char name[256];
    snprintf(name, sizeof name, "layer.%s", t->name);
    layer_ctl *l = as_ctl(sim_create_component(x->s, &layer_class, name));
    track(x, &l->base, -1);
    l->x = x;
    l->task = ti;
    l->rounds = 1;
    x->ctl[ti] = l;
    price_task(x, ti);

    if (t->kind == PROGRAM_DIGITAL) {
        l->n_copies = 1;
        l->copies = mem_calloc(1, sizeof *l->copies, "exec copies");
        l->copies[0].n = 1;
        l->copies[0].total[ST_VEC] = 1;
        attach_io(x, &l->copies[0], t, 0, t->group);
        attach_routes(x, &l->copies[0], t, 0);
        attach_offchip(x, l, t, arch_group_chip(a, t->group));
        return;
    }
    l->n_copies = t->copies;
    l->copies = mem_calloc(t->copies, sizeof *l->copies, "exec copies");
    if (x->reprogram)
        l->rounds = (t->tiles_per_copy + a->tiles.count - 1) / a->tiles.count;
    int64_t first = 0;
    for (unsigned c = 0; c < t->copies; c++) {
        copy_run *cr = &l->copies[c];
        cr->n = program_copy_vectors(t, c);
        cr->first_vector = first;
        first += (int64_t)cr->n;
        cr->total[ST_IN] = cr->total[ST_OUT] = cr->total[ST_VEC] = cr->n;
        cr->total[ST_TILE] = cr->n * l->rounds;
        if (x->reprogram) {
            attach_io(x, cr, t, c, 0);
            continue;
        }
        cr->tiles = mem_calloc(t->tiles_per_copy, sizeof *cr->tiles, "exec copy tiles");
        for (uint64_t k = 0; k < t->tiles_per_copy; k++)
            cr->tiles[k] = tile_at(x, t->copy_tile[c] + k);
        attach_io(x, cr, t, c, arch_tile_group(a, t->copy_tile[c]));
        attach_routes(x, cr, t, c);
    }
    attach_offchip(x, l, t, x->reprogram ? 0 : arch_tile_chip(a, t->copy_tile[0]));
}

exec *exec_create(sim *s, const arch *a, const program *p, const exec_options *o)
{
    assert(s && a && p && o && o->inferences >= 1);
    exec *x = mem_calloc(1, sizeof *x, "exec");
    x->s = s;
    x->a = a;
    /* Private stand-ins (overlap off) are bookkeeping, not hardware: they draw no static power,
     * which the chip's parts draw once (cost_static_energy). Shallow: strings stay a's. */
    x->stand_in = *a;
    x->stand_in.vector.lane_static_power_uw = 0.0;
    x->stand_in.vector.sram_leakage_uw_per_kib = 0.0;
    x->stand_in_in_bus = a->groups.in_bus;
    x->stand_in_out_bus = a->groups.out_bus;
    x->stand_in_in_bus.static_power_uw_per_wire = 0.0;
    x->stand_in_out_bus.static_power_uw_per_wire = 0.0;
    x->p = p;
    x->o = *o;
    x->reprogram = a->mode == ARCH_MODE_REPROGRAM;
    x->xbar_owner = NO_OWNER;
    unsigned n = p->n;
    x->ctl = mem_calloc(n, sizeof *x->ctl, "exec controllers");
    x->res = mem_calloc(n, sizeof *x->res, "exec results");
    x->e_vec = mem_calloc(n, sizeof *x->e_vec, "exec energies");
    x->write_pj = mem_calloc(n, sizeof *x->write_pj, "exec write energies");
    x->vmm = mem_calloc(n, sizeof *x->vmm, "exec vmms");
    x->n_consumers = mem_calloc(n, sizeof *x->n_consumers, "exec consumers");
    x->consumers = mem_calloc(n, sizeof *x->consumers, "exec consumer lists");
    x->xbar_wait = mem_calloc(n, sizeof *x->xbar_wait, "exec crossbar queue");
    for (unsigned i = 0; i < n; i++)
        for (unsigned d = 0; d < p->tasks[i].n_deps; d++) {
            unsigned dep = p->tasks[i].deps[d];
            assert(dep < i);
            x->consumers[dep] = mem_realloc(x->consumers[dep], x->n_consumers[dep] + 1,
                                            sizeof **x->consumers, "exec consumer list");
            x->consumers[dep][x->n_consumers[dep]++] = i;
        }
    x->n_groups = arch_groups(a) * a->chips;
    x->tile_by_id = mem_calloc(arch_system_tiles(a), sizeof *x->tile_by_id, "exec tiles");
    x->in_bus = mem_calloc(x->n_groups, sizeof *x->in_bus, "exec in buses");
    x->out_bus = mem_calloc(x->n_groups, sizeof *x->out_bus, "exec out buses");
    x->vm = mem_calloc(x->n_groups, sizeof *x->vm, "exec vector modules");
    x->noc_pj = mem_calloc(n ? n : 1, sizeof *x->noc_pj, "exec network energies");
    x->interchip_pj = mem_calloc(n ? n : 1, sizeof *x->interchip_pj, "exec interchip energies");
    x->links = mem_calloc(topology_system_links(a) + 1, sizeof *x->links, "exec links");
    x->offchip = mem_calloc(a->chips, sizeof *x->offchip, "exec off-chip links");
    /* At most 2 x tasks + 1 inferences are in flight (a task runs at most two inferences ahead
     * of each consumer: double-buffered outputs), so a ring of that many slots would do; keep
     * EXEC_INFERENCE_WINDOW of them so that the recent ones can be read back after the run. */
    uint64_t need = 2 * (uint64_t)n + 2;
    uint64_t want = need > EXEC_INFERENCE_WINDOW ? need : EXEC_INFERENCE_WINDOW;
    x->ring = o->inferences < want ? o->inferences : want;
    x->inf_id = mem_calloc(x->ring, sizeof *x->inf_id, "exec inference ids");
    x->inf_start = mem_calloc(x->ring, sizeof *x->inf_start, "exec inference starts");
    x->inf_end = mem_calloc(x->ring, sizeof *x->inf_end, "exec inference ends");
    x->inf_tasks = mem_calloc(x->ring, sizeof *x->inf_tasks, "exec inference counts");
    for (uint64_t k = 0; k < x->ring; k++) {
        x->inf_id[k] = k;
        x->inf_start[k] = SIMTIME_MAX;
    }
    for (unsigned i = 0; i < n; i++)
        build_task(x, i);
    if (!x->reprogram)
        mirror_copies(x);
    if (x->reprogram) /* the crossbars exist whether or not a layer needs them all */
        for (uint64_t i = 0; i < a->tiles.count; i++)
            tile_at(x, i);
    return x;
}

void exec_destroy(exec *x)
{
    if (!x)
        return;
    for (unsigned i = 0; i < x->p->n; i++)
        free(x->consumers[i]);
    free(x->consumers);
    free(x->n_consumers);
    free(x->ctl); /* the controllers themselves belong to the sim */
    free(x->res);
    free(x->e_vec);
    free(x->write_pj);
    free(x->vmm);
    free(x->xbar_wait);
    free(x->tile_by_id);
    free(x->in_bus);
    free(x->out_bus);
    free(x->vm);
    free(x->vms);
    free(x->links);
    free(x->offchip);
    free(x->noc_pj);
    free(x->interchip_pj);
    free(x->comp_group);
    free(x->inf_id);
    free(x->inf_start);
    free(x->inf_end);
    free(x->inf_tasks);
    free(x);
}

/* ---- running -----------------------------------------------------------------------------------
 */

static void try_start(layer_ctl *l);
static void advance(layer_ctl *l, unsigned c);

/* Reprogram: take the crossbars for task l, or queue for them. True when l holds them. */
static bool acquire_xbars(layer_ctl *l)
{
    exec *x = l->x;
    if (x->xbar_owner == (int)l->task)
        return true;
    if (x->xbar_owner == NO_OWNER) {
        x->xbar_owner = (int)l->task;
        return true;
    }
    if (!l->queued) {
        assert(x->wait_len < x->p->n);
        x->xbar_wait[(x->wait_head + x->wait_len++) % x->p->n] = l->task;
        l->queued = true;
    }
    return false;
}

static void release_xbars(exec *x)
{
    x->xbar_owner = NO_OWNER;
    if (x->wait_len == 0)
        return;
    unsigned next = x->xbar_wait[x->wait_head];
    x->wait_head = (x->wait_head + 1) % x->p->n;
    x->wait_len--;
    layer_ctl *w = x->ctl[next];
    w->queued = false;
    x->xbar_owner = (int)next;
    for (unsigned c = 0; c < w->n_copies; c++)
        advance(w, c);
}

/* May copy c issue its next request of stage s now? */
static bool ready(layer_ctl *l, const copy_run *cr, int s)
{
    uint64_t j = cr->issued[s];
    if (j >= cr->total[s] || cr->done[s] != j) /* all issued, or one in flight */
        return false;
    const program_task *t = &l->x->p->tasks[l->task];
    if (s == ST_NOC) /* the output leaves once the vector module has written it */
        return cr->done[ST_VEC] > j;
    if (t->kind == PROGRAM_DIGITAL)
        return true; /* its one vector-module operation */
    bool overlap = l->x->o.overlap, rp = l->x->reprogram;
    switch (s) {
    case ST_IN:
        if (rp) /* inputs are staged back to back into the crossbars' buffers */
            return true;
        /* overlap off: one vector at a time, all its stages (the last is NOC when it has routes) */
        return overlap ? cr->issued[ST_TILE] >= j
                       : cr->done[ST_VEC] == j && cr->done[ST_NOC] == (cr->total[ST_NOC] ? j : 0);
    case ST_TILE: {
        uint64_t v = j % cr->n;
        if (rp) {
            if (!overlap && cr->done[ST_IN] != cr->n)
                return false;
            return cr->done[ST_IN] > v && acquire_xbars(l);
        }
        return cr->done[ST_IN] > v && (!overlap || cr->issued[ST_OUT] >= j);
    }
    case ST_OUT: {
        uint64_t last = (l->rounds - 1) * cr->n + j; /* the last round's product of vector j */
        if (cr->done[ST_TILE] <= last)
            return false;
        if (!overlap)
            return cr->done[ST_VEC] == j && (!rp || cr->done[ST_TILE] == cr->total[ST_TILE]);
        return cr->issued[ST_VEC] >= j;
    }
    default:
        return cr->done[ST_OUT] > j;
    }
}

static part_reply stage_reply(const layer_ctl *l, const copy_run *cr, unsigned c, int s, uint64_t v)
{
    const program_task *t = &l->x->p->tasks[l->task];
    return (part_reply){.target = l->base.id,
                        .kind = LAYER_EV_STAGE,
                        .tag = (uint64_t)c << TAG_STAGE_BITS | (uint64_t)s,
                        .layer = (int32_t)t->layer,
                        .copy = (int32_t)c,
                        .inference = (int64_t)l->inference,
                        .vector = cr->first_vector + (int64_t)v,
                        .vectors = 1};
}

static inline void prefetch_tile(const tile *tl)
{
#if defined(__GNUC__) || defined(__clang__)
    const char *p = (const char *)tl;
    for (size_t off = 0; off < sizeof *tl; off += 64)
        __builtin_prefetch(p + off);
#else
    (void)tl;
#endif
}

/* Tile stage of request j: every tile of the copy (weight-stationary) or every crossbar of the
 * round (reprogram; the round's first vector programs them first). Completes at the slowest. */
static void issue_tiles(layer_ctl *l, copy_run *cr, unsigned c, uint64_t j)
{
    exec *x = l->x;
    const program_task *t = &x->p->tasks[l->task];
    uint64_t v = j % cr->n;
    part_reply r = stage_reply(l, cr, c, ST_TILE, v);
    r.target = PART_REPLY_NONE; /* the tiles trace with it; the controller is told once below */
    simtime end = sim_now(x->s);
    simtime busy = 0;
    if (cr->mirrored) { /* one request per shape, to its leader */
        uint64_t k = 0;
        for (unsigned sh = 0; sh < t->n_shapes; sh++) {
            uint64_t count = t->shapes[sh].count;
            resource_grant g = tile_vmm(cr->tiles[k], &x->vmm[l->task][sh], &r);
            busy += (g.end - g.start) * count;
            end = g.end > end ? g.end : end;
            k += count;
        }
    } else if (!x->reprogram) {
        uint64_t k = 0, n = t->tiles_per_copy;
        for (unsigned sh = 0; sh < t->n_shapes; sh++)
            for (uint64_t i = 0; i < t->shapes[sh].count; i++, k++) {
                /* A copy's tiles are far apart in memory and each is touched once a vector: start
                 * loading the next ones (the tile, then its statistics) while this one works. */
                if (k + 2 < n)
                    prefetch_tile(cr->tiles[k + 2]);
                resource_grant g = tile_vmm(cr->tiles[k], &x->vmm[l->task][sh], &r);
                busy += g.end - g.start;
                end = g.end > end ? g.end : end;
            }
    } else {
        uint64_t xbars = x->a->tiles.count, round = j / cr->n;
        uint64_t first = round * xbars;
        uint64_t last = first + xbars < t->tiles_per_copy ? first + xbars : t->tiles_per_copy;
        for (uint64_t k = first; k < last; k++) {
            const program_shape *sh = program_tile_shape(t, k);
            tile *tl = tile_at(x, k - first);
            if (v == 0) {
                resource_grant w = tile_write(tl, (uint64_t)sh->rows * sh->cols, &r);
                busy += w.end - w.start;
            }
            resource_grant g = tile_vmm(tl, &x->vmm[l->task][sh - t->shapes], &r);
            busy += g.end - g.start;
            end = g.end > end ? g.end : end;
        }
    }
    x->res[l->task].busy_tile_ps += busy;
    event_payload p = {{0}};
    p.u[PART_REPLY_WORD_TAG] = (uint64_t)c << TAG_STAGE_BITS | ST_TILE;
    p.u[PART_REPLY_WORD_END] = end;
    p.u[PART_REPLY_WORD_START] = sim_now(x->s);
    p.u[PART_REPLY_WORD_SOURCE] = l->base.id;
    sim_schedule_at(x->s, end, l->base.id, LAYER_EV_STAGE, PART_REPLY_PRIO, &p);
}

/* The next hop of the copy's NOC request: hop cr->hop of route cr->route, over the shared link
 * (overlap on), or the route's whole path over the copy's stand-in (overlap off). */
static void issue_hop(layer_ctl *l, copy_run *cr, part_reply *r)
{
    exec *x = l->x;
    const program_task *t = &x->p->tasks[l->task];
    if (t->kind == PROGRAM_DIGITAL) {
        r->vector = -1;
        r->vectors = 0;
    }
    unsigned k = cr->route - cr->route_first;
    unsigned first = cr->hop_start[k], hops = cr->hop_start[k + 1] - first;
    uint64_t bits = t->routes[cr->route].bits;
    if (!x->o.overlap) { /* a route runs on one chip or between chips, never both */
        noclink_kind kind =
            topology_is_interchip(x->a, cr->links[first]) ? NOCLINK_INTERCHIP : NOCLINK_NOC;
        noclink_path(cr->stand_in, kind, bits, hops, r);
        return;
    }
    noclink_hop(link_at(x, cr->links[first + cr->hop]), bits, cr->hop + 1 == hops, r);
}

/* A NOC reply: the next hop or route of the request, or true when the request is complete. */
static bool noc_step(layer_ctl *l, copy_run *cr, unsigned c)
{
    unsigned k = cr->route - cr->route_first;
    unsigned hops = l->x->o.overlap ? cr->hop_start[k + 1] - cr->hop_start[k] : 1;
    if (cr->hop + 1 < hops) {
        cr->hop++;
    } else if (cr->route + 1 < cr->route_end) {
        cr->route++;
        cr->hop = 0;
    } else {
        return true;
    }
    part_reply r = stage_reply(l, cr, c, ST_NOC, (cr->issued[ST_NOC] - 1) % cr->n);
    issue_hop(l, cr, &r);
    return false;
}

static void issue(layer_ctl *l, unsigned c, int s)
{
    copy_run *cr = &l->copies[c];
    const program_task *t = &l->x->p->tasks[l->task];
    uint64_t j = cr->issued[s]++;
    part_reply r = stage_reply(l, cr, c, s, j % cr->n);
    switch (s) {
    case ST_IN:
        bus_transfer(cr->in_bus, t->in_bits, &r);
        break;
    case ST_TILE:
        issue_tiles(l, cr, c, j);
        break;
    case ST_OUT:
        bus_transfer(cr->out_bus, t->out_bits, &r);
        break;
    case ST_NOC:
        cr->route = cr->route_first;
        cr->hop = 0;
        issue_hop(l, cr, &r);
        break;
    default:
        if (t->kind == PROGRAM_DIGITAL) {
            r.vector = -1;
            r.vectors = 0;
        }
        vecmod_op(cr->vm, t->vec_op, t->lane_ops, t->sram_read_bytes, t->sram_write_bytes, &r);
    }
}

/* Issue whatever copy c may issue now, downstream stages first so buffers free up. */
static void advance(layer_ctl *l, unsigned c)
{
    if (!l->running)
        return;
    copy_run *cr = &l->copies[c];
    for (int s = ST_NOC; s >= ST_IN; s--)
        if (ready(l, cr, s))
            issue(l, c, s);
}

static double vector_energy(const exec *x, unsigned task)
{
    double e = 0;
    for (int k = 0; k < COST_E_COUNT; k++)
        e += x->e_vec[task][k];
    return e;
}

/* The energy of a task's off-chip transfers per inference, pJ. */
static double io_energy(const exec *x, unsigned task)
{
    const program_task *t = &x->p->tasks[task];
    return cost_xlink_energy_pj(&x->a->offchip, t->fetch_bits + t->store_bits, 1);
}

/* Copy c's `layer` record of the running inference, from its start to now. The copy that closes
 * the task (`last`) also carries the task's off-chip transfers: its record spans them and holds
 * their energy. */
static void trace_copy(layer_ctl *l, unsigned c, bool last)
{
    trace_sink *sink = component_trace(&l->base);
    if (!trace_wants(sink, TRACE_LAYER))
        return;
    const exec *x = l->x;
    const copy_run *cr = &l->copies[c];
    const program_task *t = &x->p->tasks[l->task];
    bool digital = t->kind == PROGRAM_DIGITAL;
    trace_record rec = {
        .component = l->base.id,
        .kind = PART_ACT_LAYER,
        .units = 1,
        .layer = (int32_t)t->layer,
        .copy = (int32_t)c,
        .inference = (int64_t)l->inference,
        .vector = digital ? -1 : cr->first_vector,
        .vectors = digital ? 0 : cr->n,
        .t0 = cr->start_ps,
        .t1 = sim_now(x->s),
        .energy_pj = (vector_energy(x, l->task) + cr->noc_pj) * (double)cr->n +
                     x->write_pj[l->task] + (last ? io_energy(x, l->task) : 0.0),
    };
    trace_record_send(sink, &rec);
}

static void notify(exec *x, unsigned task)
{
    if (!x->o.overlap) {
        try_start(x->ctl[task + 1 < x->p->n ? task + 1 : 0]);
        return;
    }
    try_start(x->ctl[task]);
    for (unsigned d = 0; d < x->p->tasks[task].n_deps; d++)
        try_start(x->ctl[x->p->tasks[task].deps[d]]);
    for (unsigned k = 0; k < x->n_consumers[task]; k++)
        try_start(x->ctl[x->consumers[task][k]]);
}

/* The ring slot of inference i, taken over from inference i - ring (which must be complete:
 * the in-flight bound makes it so) on first use. */
static uint64_t inference_slot(exec *x, uint64_t i)
{
    uint64_t k = i % x->ring;
    if (x->inf_id[k] != i) {
        assert(x->inf_id[k] + x->ring == i && x->inf_tasks[k] == x->p->n);
        x->inf_id[k] = i;
        x->inf_start[k] = SIMTIME_MAX;
        x->inf_end[k] = 0;
        x->inf_tasks[k] = 0;
    }
    return k;
}

static void task_finished(layer_ctl *l)
{
    exec *x = l->x;
    simtime now = sim_now(x->s);
    uint64_t i = l->inference;
    exec_task_result *r = &x->res[l->task];
    simtime span = now - l->start_ps;
    if (i == 0) {
        r->first_start_ps = l->start_ps;
        r->first_end_ps = now;
    }
    r->max_time_ps = span > r->max_time_ps ? span : r->max_time_ps;
    r->sum_time_ps += (double)span;
    r->done++;
    x->completions++;
    uint64_t k = inference_slot(x, i);
    x->inf_end[k] = now > x->inf_end[k] ? now : x->inf_end[k];
    if (++x->inf_tasks[k] == x->p->n) {
        uint64_t n = x->o.inferences;
        x->inf_done++;
        if (i == 0) {
            x->first_start = x->inf_start[k];
            x->first_end = x->inf_end[k];
        }
        if (n >= 2 && i == n / 2 - 1)
            x->mid_end = x->inf_end[k];
        if (i == n - 1)
            x->last_end = x->inf_end[k];
        x->max_end = x->inf_end[k] > x->max_end ? x->inf_end[k] : x->max_end;
    }
    l->running = false;
    l->inference++;
    notify(x, l->task);
}

/* A reply to one of the task's off-chip transfers is tagged like copy 0's stages. */
static part_reply io_reply(const layer_ctl *l, int tag)
{
    part_reply r = stage_reply(l, &l->copies[0], 0, ST_IN, 0);
    r.tag = (uint64_t)tag; /* copy 0 */
    r.vector = -1;
    r.vectors = 0;
    return r;
}

static void copy_finished(layer_ctl *l, unsigned c)
{
    bool last = --l->copies_left == 0;
    uint64_t store = l->x->p->tasks[l->task].store_bits;
    if (!last || store == 0) {
        trace_copy(l, c, last);
        if (last)
            task_finished(l);
        return;
    }
    l->last_copy = c; /* traced when the store is out */
    part_reply r = io_reply(l, IO_STORE);
    noclink_hop(l->io, store, true, &r);
}

/* Start the copies' stages. */
static void start_copies(layer_ctl *l)
{
    for (unsigned c = 0; c < l->n_copies; c++)
        advance(l, c);
}

static bool can_start(const layer_ctl *l)
{
    const exec *x = l->x;
    uint64_t i = l->inference;
    if (l->running || i >= x->o.inferences)
        return false;
    if (!x->o.overlap) {
        if (l->task == 0)
            return x->res[x->p->n - 1].done == i;
        return x->res[l->task - 1].done > i;
    }
    const program_task *t = &x->p->tasks[l->task];
    for (unsigned d = 0; d < t->n_deps; d++)
        if (x->res[t->deps[d]].done <= i)
            return false;
    for (unsigned k = 0; k < x->n_consumers[l->task]; k++) /* double-buffered outputs */
        if (x->res[x->consumers[l->task][k]].done + 1 < i)
            return false;
    return true;
}

static void try_start(layer_ctl *l)
{
    if (!can_start(l))
        return;
    exec *x = l->x;
    simtime now = sim_now(x->s);
    l->running = true;
    l->start_ps = now;
    l->copies_left = l->n_copies;
    uint64_t k = inference_slot(x, l->inference);
    if (now < x->inf_start[k])
        x->inf_start[k] = now;
    for (unsigned c = 0; c < l->n_copies; c++) {
        copy_run *cr = &l->copies[c];
        memset(cr->issued, 0, sizeof cr->issued);
        memset(cr->done, 0, sizeof cr->done);
        cr->start_ps = now;
    }
    uint64_t fetch = x->p->tasks[l->task].fetch_bits;
    if (fetch == 0) {
        start_copies(l);
        return;
    }
    part_reply r = io_reply(l, IO_FETCH); /* the copies start when it is in */
    noclink_hop(l->io, fetch, true, &r);
}

static void layer_handle(component *c, const event *ev)
{
    layer_ctl *l = as_ctl(c);
    if (ev->kind == LAYER_EV_START) {
        try_start(l);
        return;
    }
    if (ev->kind != LAYER_EV_STAGE)
        part_bad_event(c, ev);
    uint64_t tag = ev->payload.u[PART_REPLY_WORD_TAG];
    unsigned copy = (unsigned)(tag >> TAG_STAGE_BITS);
    int s = (int)(tag & ((1u << TAG_STAGE_BITS) - 1));
    assert(l->running && copy < l->n_copies);
    if (s == IO_FETCH) {
        start_copies(l);
        return;
    }
    if (s == IO_STORE) {
        trace_copy(l, l->last_copy, true);
        task_finished(l);
        return;
    }
    copy_run *cr = &l->copies[copy];
    if (s == ST_NOC && !noc_step(l, cr, copy))
        return; /* the request's next hop or route is under way */
    cr->done[s]++;
    if (s == ST_TILE && l->x->reprogram && cr->done[ST_TILE] == cr->total[ST_TILE])
        release_xbars(l->x);
    if (cr->done[ST_VEC] == cr->total[ST_VEC] && cr->done[ST_NOC] == cr->total[ST_NOC]) {
        copy_finished(l, copy);
        return;
    }
    advance(l, copy);
}

static void layer_destroy(component *c)
{
    layer_ctl *l = as_ctl(c);
    for (unsigned k = 0; k < l->n_copies; k++) {
        free(l->copies[k].tiles);
        free(l->copies[k].hop_start);
        free(l->copies[k].links);
    }
    free(l->copies);
}

static const component_ops layer_ops = {
    .kind = "layer",
    .handle = layer_handle,
    .destroy = layer_destroy,
};

void exec_start(exec *x)
{
    for (unsigned i = 0; i < x->p->n; i++)
        sim_schedule_in(x->s, 0, x->ctl[i]->base.id, LAYER_EV_START, 1, NULL);
}

/* ---- results ------------------------------------------------------------------------------- */

uint64_t exec_inferences_done(const exec *x)
{
    return x->inf_done;
}

uint64_t exec_task_completions(const exec *x)
{
    return x->completions;
}

const exec_task_result *exec_task(const exec *x, unsigned task)
{
    assert(task < x->p->n);
    exec_task_result *r = &x->res[task];
    /* Energy per inference is a property of the work, the same for every inference. */
    for (int k = 0; k < COST_E_COUNT; k++)
        r->energy_pj[k] =
            x->e_vec[task][k] *
            (double)(x->p->tasks[task].kind == PROGRAM_CROSSBAR ? x->p->tasks[task].vectors : 1);
    r->energy_pj[COST_E_WRITE] += x->write_pj[task];
    r->energy_pj[COST_E_NOC] += x->noc_pj[task];
    r->energy_pj[COST_E_INTERCHIP] += x->interchip_pj[task];
    r->energy_pj[COST_E_OFFCHIP] += io_energy(x, task);
    return r;
}

uint64_t exec_inference_window_first(const exec *x)
{
    return x->inf_done > x->ring ? x->inf_done - x->ring : 0;
}

simtime exec_inference_start(const exec *x, uint64_t i)
{
    uint64_t k = i % x->ring;
    assert(i < x->o.inferences && x->inf_id[k] == i && x->inf_tasks[k] == x->p->n);
    return x->inf_start[k];
}

simtime exec_inference_end(const exec *x, uint64_t i)
{
    uint64_t k = i % x->ring;
    assert(i < x->o.inferences && x->inf_id[k] == i && x->inf_tasks[k] == x->p->n);
    return x->inf_end[k];
}

simtime exec_latency0_ps(const exec *x)
{
    assert(x->inf_done >= 1);
    return x->first_end - x->first_start;
}

simtime exec_makespan_ps(const exec *x)
{
    return x->max_end;
}

int64_t exec_component_group(const exec *x, uint32_t id)
{
    assert(id < x->comp_cap);
    return x->comp_group[id];
}

uint64_t exec_tiles_used(const exec *x)
{
    return x->tiles_used;
}

simtime exec_tile_busy_ps(const exec *x)
{
    simtime busy = 0;
    for (uint64_t i = 0; i < arch_system_tiles(x->a); i++)
        if (x->tile_by_id[i])
            busy += x->tile_by_id[i]->busy_ps;
    return busy;
}

void exec_dynamic_energy(const exec *x, double out[COST_E_COUNT])
{
    memset(out, 0, COST_E_COUNT * sizeof *out);
    size_t n = sim_component_count(x->s);
    part_account acc;
    for (uint32_t id = 0; id < n; id++)
        if (chip_component_account(sim_component(x->s, id), &acc))
            for (int c = 0; c < COST_E_COUNT; c++)
                out[c] += acc.dynamic_pj[c];
}

double exec_steady_period_ps(const exec *x, uint64_t *first)
{
    uint64_t n = x->o.inferences;
    assert(x->inf_done == n);
    if (n < 2) {
        *first = 0;
        return (double)(x->first_end - x->first_start);
    }
    *first = n / 2;
    return (double)(x->last_end - x->mid_end) / (double)(n - n / 2);
}

cost_usage exec_usage(const exec *x)
{
    const arch *a = x->a;
    cost_usage u = {.tiles = x->tiles_used, .chips = 1};
    double n = (double)x->o.inferences;
    bool *group_used = mem_calloc(x->n_groups, sizeof *group_used, "exec groups used");
    for (uint64_t i = 0; i < arch_system_tiles(a); i++) {
        const tile *t = x->tile_by_id[i];
        if (!t)
            continue;
        u.tile_busy_ps += (double)t->busy_ps;
        unsigned g = x->reprogram ? 0 : arch_tile_group(a, i);
        if (!group_used[g]) {
            group_used[g] = true;
            u.groups++;
        }
        unsigned chip = x->reprogram ? 0 : arch_tile_chip(a, i);
        u.chips = chip + 1 > u.chips ? chip + 1 : u.chips;
    }
    free(group_used);
    for (size_t k = 0; k < x->n_vms; k++)
        u.lane_busy_ps += (double)resource_busy_ps(&x->vms[k]->lanes, x->vms[k]->total_ps);
    u.tile_busy_ps /= n;
    u.lane_busy_ps /= n;
    return u;
}
