/* qcache: per crossbar layer, the key of the evaluation its entries belong to (its own and its
 * ancestors' layer keys and the chip) and one float array per pass. Ancestor sets come from the
 * network's input lists once, at creation; a layer's key is compared over that set only, so a
 * change in a sibling branch leaves the layer's entries in place.
 */
#include "qcache.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

typedef struct entry {
    float *y;         /* the product; owned, kept when the entry is dropped for reuse */
    size_t count;     /* floats of the product, count */
    size_t cap;       /* floats allocated, count */
    uint64_t clipped; /* conversions that clipped, count */
    bool valid;       /* y holds the product of the slot's key */
} entry;

typedef struct slot {
    uint64_t *key;   /* n_xbar layer keys seen over the ancestor set (others 0) */
    uint64_t chip;   /* chip of the entries */
    bool valid;      /* key and chip describe the entries */
    entry *e;        /* per pass; owned */
    size_t n_passes; /* entries allocated, count */
} slot;

struct qcache {
    unsigned n;      /* crossbar layers, count */
    bool *anc;       /* n x n: anc[k n + j]: j is k or an ancestor of k */
    slot *s;         /* per crossbar layer */
    uint64_t *want;  /* scratch: a layer's key over its ancestor set */
    uint64_t hits;   /* products served, count */
    uint64_t misses; /* products computed, count */
};

/* For every layer of n, the crossbar layers it depends on (itself included when crossbar). */
static void ancestors(const network *n, bool *anc)
{
    unsigned X = n->n_xbar;
    bool *dep = mem_calloc((size_t)n->n_layers * (X ? X : 1), sizeof *dep, "layer ancestors");
    unsigned next = 0;
    for (unsigned i = 0; i < n->n_layers; i++) {
        bool *d = dep + (size_t)i * X;
        const network_layer *L = &n->layers[i];
        for (unsigned m = 0; m < L->n_inputs; m++)
            if (L->inputs[m] != NETWORK_INPUT)
                for (unsigned j = 0; j < X; j++)
                    d[j] = d[j] || dep[(size_t)L->inputs[m] * X + j];
        if (next < X && n->xbar[next] == i) {
            d[next] = true;
            memcpy(anc + (size_t)next * X, d, X * sizeof *d);
            next++;
        }
    }
    assert(next == X);
    free(dep);
}

qcache *qcache_create(const network *n)
{
    qcache *c = mem_calloc(1, sizeof *c, "product cache");
    unsigned X = n->n_xbar ? n->n_xbar : 1;
    c->n = n->n_xbar;
    c->anc = mem_calloc((size_t)X * X, sizeof *c->anc, "product cache ancestors");
    c->s = mem_calloc(X, sizeof *c->s, "product cache slots");
    c->want = mem_calloc(X, sizeof *c->want, "product cache key");
    for (unsigned k = 0; k < c->n; k++)
        c->s[k].key = mem_calloc(X, sizeof *c->s[k].key, "product cache key");
    ancestors(n, c->anc);
    return c;
}

/* Drop the slot's entries, keeping their memory for the next key's products. */
static void slot_clear(slot *s)
{
    for (size_t p = 0; p < s->n_passes; p++)
        s->e[p].valid = false;
    s->valid = false;
}

void qcache_destroy(qcache *c)
{
    if (!c)
        return;
    for (unsigned k = 0; k < c->n; k++) {
        for (size_t p = 0; p < c->s[k].n_passes; p++)
            free(c->s[k].e[p].y);
        free(c->s[k].e);
        free(c->s[k].key);
    }
    free(c->s);
    free(c->anc);
    free(c->want);
    free(c);
}

void qcache_begin(qcache *c, const uint64_t *layer_key, uint64_t chip)
{
    for (unsigned k = 0; k < c->n; k++) {
        slot *s = &c->s[k];
        for (unsigned j = 0; j < c->n; j++)
            c->want[j] = c->anc[(size_t)k * c->n + j] ? layer_key[j] : 0;
        if (s->valid && s->chip == chip && memcmp(s->key, c->want, c->n * sizeof *s->key) == 0)
            continue;
        slot_clear(s);
        memcpy(s->key, c->want, c->n * sizeof *s->key);
        s->chip = chip;
        s->valid = true;
    }
}

bool qcache_get(qcache *c, unsigned k, size_t pass, float *y, size_t count, uint64_t *clipped)
{
    assert(k < c->n);
    const slot *s = &c->s[k];
    if (pass >= s->n_passes || !s->e[pass].valid) {
        c->misses++;
        return false;
    }
    assert(s->e[pass].count == count); /* the same images in the same passes */
    memcpy(y, s->e[pass].y, count * sizeof *y);
    *clipped = s->e[pass].clipped;
    c->hits++;
    return true;
}

void qcache_put(qcache *c, unsigned k, size_t pass, const float *y, size_t count, uint64_t clipped)
{
    assert(k < c->n);
    slot *s = &c->s[k];
    if (pass >= s->n_passes) {
        size_t m = pass + 1;
        s->e = mem_realloc(s->e, m, sizeof *s->e, "cached passes");
        memset(s->e + s->n_passes, 0, (m - s->n_passes) * sizeof *s->e);
        s->n_passes = m;
    }
    entry *en = &s->e[pass];
    if (en->cap < count) {
        free(en->y);
        en->y = mem_alloc(count * sizeof *en->y, "cached product");
        en->cap = count;
    }
    memcpy(en->y, y, count * sizeof *y);
    en->count = count;
    en->clipped = clipped;
    en->valid = true;
}

void qcache_counts(const qcache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = c ? c->hits : 0;
    *misses = c ? c->misses : 0;
}
