/* replication: how many copies of each crossbar layer the chip holds (LRMP's r_l). Copies split
 * the layer's P input vectors, so 1 <= copies <= P. Layers a source does not name keep one copy.
 */
#ifndef XBARSIM_MAPPER_REPLICATION_H
#define XBARSIM_MAPPER_REPLICATION_H

#include <stdio.h>

#include "err.h"
#include "network.h"

/* Copies for network n from spec: "none"; "NAME=K[,NAME=K...]" (e.g. "conv1=14"); a .csv file
 * with header layer,copies; or a libconfig file with `replication = ( { layer = "conv1";
 * copies = 14; }, ... );`. Returns 0 with *copies (n_xbar entries, by crossbar index, owned by the
 * caller: free) or a negative status with e saying where and what. */
int replication_from_spec(const char *spec, const network *n, unsigned **copies, err *e);
/* Write copies as CSV (layer,copies), one row per crossbar layer. */
void replication_write_csv(const unsigned *copies, const network *n, FILE *out);

#endif
