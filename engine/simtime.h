/* simtime: simulated time in integer ticks of 1 ps.
 * A clock period is rounded to whole ticks exactly once, by simtime_period_ps(); the event
 * simulation and the analytic model both use that rounded period, so they agree to the tick.
 */
#ifndef XBARSIM_ENGINE_SIMTIME_H
#define XBARSIM_ENGINE_SIMTIME_H

#include <stdint.h>

typedef uint64_t simtime; /* ticks, ps */

#define SIMTIME_MAX       UINT64_MAX
#define SIMTIME_PS_PER_NS UINT64_C(1000)
#define SIMTIME_PS_PER_US UINT64_C(1000000)
#define SIMTIME_PS_PER_MS UINT64_C(1000000000)
#define SIMTIME_PS_PER_S  UINT64_C(1000000000000)

/* Clock period in ps for a frequency in MHz, rounded to the nearest ps (ties away from zero).
 * Precondition (asserted): 0 < freq_mhz <= 1e6, so the period is at least 1 ps. */
simtime simtime_period_ps(double freq_mhz);

/* Conversions for printing and for config values given in ns/us; rounding to nearest ps. */
simtime simtime_from_ns(double ns);
double simtime_to_ns(simtime t);
double simtime_to_us(simtime t);
double simtime_to_s(simtime t);

#endif
