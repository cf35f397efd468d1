/* clock.c -- the one clock. */
#include "base/clock.h"

#include <errno.h>
#include <stdio.h>

static struct timespec now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts;
}

uint64_t clock_now_ms(void)
{
    struct timespec ts = now(CLOCK_MONOTONIC);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t clock_now_us(void)
{
    struct timespec ts = now(CLOCK_MONOTONIC);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t clock_wall_ms(void)
{
    struct timespec ts = now(CLOCK_REALTIME);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *clock_stamp(char *out, size_t n)
{
    struct timespec ts = now(CLOCK_REALTIME);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    snprintf(out, n, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ts.tv_nsec / 1000000));
    return out;
}

void clock_sleep_us(uint64_t us)
{
    struct timespec left = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000};
    while (nanosleep(&left, &left) < 0 && errno == EINTR)
        ;
}

void clock_sleep_ms(uint64_t ms)
{
    clock_sleep_us(ms * 1000u);
}

struct timespec clock_after(clockid_t id, uint64_t ms)
{
    struct timespec ts = now(id);
    ts.tv_sec += (time_t)(ms / 1000u);
    ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
