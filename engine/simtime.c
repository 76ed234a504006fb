/* simtime: the single place where a frequency or a real-valued duration becomes ticks (ps). */
#include "simtime.h"

#include <assert.h>
#include <math.h>

simtime simtime_period_ps(double freq_mhz)
{
    assert(freq_mhz > 0.0 && freq_mhz <= 1e6);
    double ps = 1e6 / freq_mhz; /* 1 MHz <-> 1e6 ps */
    return (simtime)llround(ps);
}

simtime simtime_from_ns(double ns)
{
    assert(ns >= 0.0 && ns * 1e3 < 9.2e18);
    return (simtime)llround(ns * 1e3);
}

double simtime_to_ns(simtime t)
{
    return (double)t / 1e3;
}

double simtime_to_us(simtime t)
{
    return (double)t / 1e6;
}

double simtime_to_s(simtime t)
{
    return (double)t / 1e12;
}
