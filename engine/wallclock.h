/* wallclock: the monotonic wall clock every progress line, timing record and benchmark reads.
 * Monotonic: never steps back when the system time is set, so differences are elapsed time.
 * Never the simulated clock (simtime.h), which is integer ps.
 */
#ifndef XBARSIM_ENGINE_WALLCLOCK_H
#define XBARSIM_ENGINE_WALLCLOCK_H

/* Seconds on the monotonic clock since an unspecified start, s. */
double wallclock_s(void);

#endif
