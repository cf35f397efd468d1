/* registry_stop.c -- the one cancellable sleep of the registry's threads: a stop flag
 * guarded by a mutex, with a condition variable on the monotonic clock. */
#include "registry/registry_int.h"

#include <errno.h>

#include "base/clock.h"

void registry_stop_init(registry_stop *s)
{
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&s->stopped, false);
}

void registry_stop_done(registry_stop *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

void registry_stop_set(registry_stop *s)
{
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stopped, true);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

bool registry_stop_wait(registry_stop *s, const struct timespec *until)
{
    if (registry_stopped(s))
        return false;
    int rc = until ? pthread_cond_timedwait(&s->cv, &s->mu, until)
                   : pthread_cond_wait(&s->cv, &s->mu);
    return rc == 0 && !registry_stopped(s);
}

bool registry_stop_sleep(registry_stop *s, uint64_t ms)
{
    struct timespec until = clock_after(CLOCK_MONOTONIC, ms);
    pthread_mutex_lock(&s->mu);
    while (registry_stop_wait(s, &until))
        ;
    bool stopped = registry_stopped(s);
    pthread_mutex_unlock(&s->mu);
    return stopped;
}
