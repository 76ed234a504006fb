/* xbarsim.h: the public header of xbarsim's model libraries, as installed (cmake --install).
 * It brings in the architecture loader (arch.h), the timing, energy and area formulas (cost.h),
 * networks (network.h), precision policies (policy.h), copies (replication.h), the mapping
 * (mapping.h) and the analytic model (model.h). Link with `pkg-config --libs xbarsim`;
 * presets and built-in networks are under `pkg-config --variable=datadir xbarsim`.
 */
#ifndef XBARSIM_XBARSIM_H
#define XBARSIM_XBARSIM_H

#include "arch.h"
#include "cost.h"
#include "err.h"
#include "mapping.h"
#include "model.h"
#include "network.h"
#include "policy.h"
#include "replication.h"

#endif
