/* qcache: the crossbar products of a quantised network's last evaluation, kept per crossbar layer
 * and per pass (chunk of images), so that the next evaluation reuses every layer whose output
 * cannot have changed. Invariant: a layer's product depends only on the bits of the layer itself
 * and of its ancestor crossbar layers (and on the fixed weights, images, arch and chip), so an
 * entry is kept exactly while that key is unchanged; reusing it gives the same bits as computing.
 */
#ifndef XBARSIM_SEARCH_QCACHE_H
#define XBARSIM_SEARCH_QCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "network.h"

typedef struct qcache qcache;

/* An empty cache for network n (borrowed, must outlive the cache): its ancestor sets are worked
 * out here. qcache_destroy frees it (NULL: nothing). */
qcache *qcache_create(const network *n);
void qcache_destroy(qcache *c);

/* Start an evaluation in which crossbar layer k is described by layer_key[k] (its bits, any
 * encoding that differs when they differ; n->n_xbar entries) on the chip `chip` (e.g. its device
 * seed). Every layer whose own or ancestors' key or the chip changed loses its entries. */
void qcache_begin(qcache *c, const uint64_t *layer_key, uint64_t chip);
/* Layer k's stored product of pass `pass`: true with count floats copied to y and the pass's
 * clipped conversions in *clipped, or false (nothing stored, y untouched). */
bool qcache_get(qcache *c, unsigned k, size_t pass, float *y, size_t count, uint64_t *clipped);
/* Store layer k's product of pass `pass` (count floats of y, copied) and its clipped count. */
void qcache_put(qcache *c, unsigned k, size_t pass, const float *y, size_t count, uint64_t clipped);
/* Products served from the cache and computed since creation, counts (c NULL: 0, 0). */
void qcache_counts(const qcache *c, uint64_t *hits, uint64_t *misses);

#endif
