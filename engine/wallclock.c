/* wallclock: CLOCK_MONOTONIC in seconds (wallclock.h). */

#include <time.h>

#include "wallclock.h"

double wallclock_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
