/* tile: the crossbar component (see tile.h). Every duration and energy is taken from cost.c;
 * this file only decides when things happen (a 1-server FIFO resource) and what is counted.
 * Invariant: busy time = sum of the durations of all requests granted (all in the future of
 * their arrival), so static energy at finish sees exactly the time the crossbar was powered on.
 */
#include "tile.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "trace.h"

/* Packing limits of TILE_EV_VMM word 0. */
#define FIELD16_MAX 0xffffu
#define FIELD8_MAX  0xffu

static tile *as_tile(component *c)
{
    assert(c->ops == &tile_ops);
    return (tile *)c;
}

void tile_setup(component *c, const arch *a, const arch_bus *bus_params)
{
    assert(a && !bus_params);
    (void)bus_params;
    tile *t = as_tile(c);
    t->arch = a;
    resource_init(&t->xbar, c->name, 1);
    stats *st = &c->stats;
    t->st_vmms = stats_counter(st, "vmms", "count");
    t->st_dac_convs = stats_counter(st, "dac_conversions", "count");
    t->st_adc_convs = stats_counter(st, "adc_conversions", "count");
    t->st_xbar_reads = stats_counter(st, "xbar_reads", "count");
    t->st_shift_adds = stats_counter(st, "shift_adds", "count");
    t->st_writes = stats_counter(st, "writes", "count");
    t->st_cells_written = stats_counter(st, "cells_written", "count");
    t->st_vmm_pj = stats_accum(st, "vmm_energy_pj", "pJ");
    t->st_write_pj = stats_accum(st, "write_energy_pj", "pJ");
}

/* The class tile_create makes; the registry (chip.c) generates the same one from its row. */
static const component_class tile_class = {.size = sizeof(tile), .ops = &tile_ops};

tile *tile_create(sim *s, const char *name, const arch *a)
{
    component *c = sim_create_component(s, &tile_class, name);
    tile_setup(c, a, NULL);
    return as_tile(c);
}

/* Add the memo's pending VMMs to the statistics and the energy by part. */
static void flush_memo(tile *t)
{
    uint64_t k = t->memo_count;
    if (k == 0)
        return;
    const cost_vmm_counts *n = &t->memo_n;
    stats *st = &t->base.stats;
    stats_add(st, t->st_vmms, k);
    stats_add(st, t->st_dac_convs, n->dac_convs * k);
    stats_add(st, t->st_adc_convs, n->adc_convs * k);
    stats_add(st, t->st_xbar_reads, n->xbar_reads * k);
    stats_add(st, t->st_shift_adds, n->shift_adds * k);
    stats_sample_n(st, t->st_vmm_pj, t->memo_pj, k);
    cost_energy_add(t->vmm_pj, &t->memo_e, (double)k);
    t->memo_count = 0;
}

resource_grant tile_vmm(tile *t, const cost_vmm *v, const part_reply *reply)
{
    assert(!t->leader);
    const arch *a = t->arch;
    sim *s = t->base.sim;
    if (!t->memo_valid || t->memo_v.rows_used != v->rows_used ||
        t->memo_v.cols_used != v->cols_used || t->memo_v.in_bits != v->in_bits ||
        t->memo_v.adc_bits != v->adc_bits) {
        flush_memo(t);
        t->memo_v = *v;
        t->memo_n = cost_vmm_count(a, v);
        t->memo_e = cost_vmm_energy(a, v);
        t->memo_pj = cost_energy_total(&t->memo_e);
        t->memo_ps = cost_vmm_ps(a, v);
        t->memo_valid = true;
    }
    t->memo_count++;
    resource_grant g = resource_request(&t->xbar, sim_now(s), t->memo_ps);
    part_trace_units(&t->base, PART_ACT_VMM, reply, g, t->memo_pj, 1 + t->mirrors);
    part_reply_send(s, t->base.id, reply, g);
    return g;
}

resource_grant tile_write(tile *t, uint64_t cells, const part_reply *reply)
{
    assert(!t->leader);
    const arch *a = t->arch;
    sim *s = t->base.sim;
    double pj = cost_write_energy_pj(a, cells);
    resource_grant g = resource_request(&t->xbar, sim_now(s), cost_write_ps(a));

    stats *st = &t->base.stats;
    stats_add(st, t->st_writes, 1);
    stats_add(st, t->st_cells_written, cells);
    stats_sample(st, t->st_write_pj, pj);
    t->write_pj += pj;

    part_trace(&t->base, PART_ACT_WRITE, reply, g, pj);
    part_reply_send(s, t->base.id, reply, g);
    return g;
}

void tile_mirror(tile *t, tile *leader)
{
    assert(t != leader && !leader->leader && !t->leader);
    assert(t->xbar.served == 0 && leader->xbar.served == 0);
    assert(t->base.id == leader->base.id + leader->mirrors + 1);
    t->leader = leader;
    leader->mirrors++;
}

/* The tile whose crossbar, energy and statistics are t's: t, or its leader. */
static tile *source(tile *t)
{
    return t->leader ? t->leader : t;
}

double tile_dynamic_pj(const tile *t)
{
    t = t->leader ? t->leader : t;
    return cost_dynamic_total(t->vmm_pj) + t->write_pj;
}

void tile_account(component *c, part_account *out)
{
    tile *t = as_tile(c);
    tile *src = source(t);
    out->res = &src->xbar;
    for (int k = 0; k < COST_E_COUNT; k++)
        out->dynamic_pj[k] = src->vmm_pj[k];
    out->dynamic_pj[COST_E_WRITE] += src->write_pj;
    out->static_pj = t->static_pj;
}

event_payload tile_pack_vmm(const cost_vmm *v, const part_reply *reply)
{
    assert(v->rows_used >= 1 && v->rows_used - 1 <= FIELD16_MAX);
    assert(v->cols_used >= 1 && v->cols_used - 1 <= FIELD16_MAX);
    assert(v->in_bits <= FIELD8_MAX && v->adc_bits <= FIELD8_MAX);
    event_payload p;
    p.u[0] = (uint64_t)(v->rows_used - 1) | (uint64_t)(v->cols_used - 1) << 16 |
             (uint64_t)v->in_bits << 32 | (uint64_t)v->adc_bits << 40;
    part_reply_pack(reply, &p);
    return p;
}

event_payload tile_pack_write(uint64_t cells, const part_reply *reply)
{
    event_payload p;
    p.u[0] = cells;
    part_reply_pack(reply, &p);
    return p;
}

cost_vmm tile_unpack_vmm(const event_payload *p)
{
    uint64_t w = p->u[0];
    cost_vmm v;
    v.rows_used = (unsigned)(w & FIELD16_MAX) + 1;
    v.cols_used = (unsigned)(w >> 16 & FIELD16_MAX) + 1;
    v.in_bits = (unsigned)(w >> 32 & FIELD8_MAX);
    v.adc_bits = (unsigned)(w >> 40 & FIELD8_MAX);
    return v;
}

static void tile_handle(component *c, const event *ev)
{
    tile *t = as_tile(c);
    part_reply reply = part_reply_unpack(&ev->payload);
    switch (ev->kind) {
    case TILE_EV_VMM: {
        cost_vmm v = tile_unpack_vmm(&ev->payload);
        tile_vmm(t, &v, &reply);
        break;
    }
    case TILE_EV_WRITE:
        tile_write(t, ev->payload.u[0], &reply);
        break;
    default:
        part_bad_event(c, ev);
    }
}

/* Close the run: busy and total time at now, static energy over it (gated when idle if the
 * arch gates power). Sets rather than adds, so a second finish recomputes the same figures. */
static void tile_finish(component *c)
{
    tile *t = as_tile(c);
    simtime now = sim_now(c->sim);
    flush_memo(t);
    if (t->leader) { /* its leader's requests were its own */
        flush_memo(t->leader);
        stats_copy_numbers(&c->stats, &t->leader->base.stats);
        memcpy(t->vmm_pj, t->leader->vmm_pj, sizeof t->vmm_pj);
        t->write_pj = t->leader->write_pj;
    }
    t->total_ps = now;
    t->busy_ps = resource_busy_ps(&source(t)->xbar, now);
    t->static_pj = cost_tile_static_pj(t->arch, t->busy_ps, t->total_ps);
}

static void tile_report(component *c, stats *st)
{
    tile *t = as_tile(c);
    part_report_resource(st, &source(t)->xbar, t->total_ps);
    stats_set(st, stats_value(st, "total_ps", "ps"), (double)t->total_ps);
    static const cost_category vmm_cats[] = {COST_E_DAC, COST_E_XBAR, COST_E_SAMPLE_HOLD,
                                             COST_E_ADC, COST_E_SHIFT_ADD};
    char name[64]; /* "energy_<category>_pj" */
    for (size_t k = 0; k < sizeof vmm_cats / sizeof vmm_cats[0]; k++) {
        snprintf(name, sizeof name, "energy_%s_pj", cost_category_name(vmm_cats[k]));
        stats_set(st, stats_value(st, name, "pJ"), t->vmm_pj[vmm_cats[k]]);
    }
    stats_set(st, stats_value(st, "energy_write_pj", "pJ"), t->write_pj);
    stats_set(st, stats_value(st, "energy_static_pj", "pJ"), t->static_pj);
    stats_set(st, stats_value(st, "energy_total_pj", "pJ"), tile_dynamic_pj(t) + t->static_pj);
}

static void tile_destroy(component *c)
{
    resource_fini(&as_tile(c)->xbar);
}

const component_ops tile_ops = {
    .kind = "tile",
    .handle = tile_handle,
    .finish = tile_finish,
    .report = tile_report,
    .destroy = tile_destroy,
};
