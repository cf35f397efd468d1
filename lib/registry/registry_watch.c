/* registry_watch.c -- a watch's bounded queue of events, between the backend's watch loop
 * that fills it and the reader (the thread itself is started in registry.c). */
#include "registry/registry.h"

#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "registry/registry_int.h"

void registry_watch_push(registry_watch *w, const registry_event *ev)
{
    pthread_mutex_lock(&w->stop.mu);
    /* A slow reader holds the watch back. */
    while (w->count == REGISTRY_WATCH_QUEUE && registry_stop_wait(&w->stop, NULL))
        ;
    if (!registry_stopped(&w->stop)) {
        w->q[(w->head + w->count) % REGISTRY_WATCH_QUEUE] = *ev;
        w->count++;
        pthread_cond_broadcast(&w->stop.cv);
    }
    pthread_mutex_unlock(&w->stop.mu);
}

void registry_watch_status(registry_watch *w, registry_event_type t, const char *msg)
{
    registry_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.revision = w->revision;
    registry_copy(ev.msg, sizeof ev.msg, msg);
    registry_watch_push(w, &ev);
}

void registry_watch_failed(registry_watch *w, registry_outage *o, const char *err)
{
    char msg[128], line[256];
    int r = registry_outage_fail(o, msg, sizeof msg);
    if (r == 1) {
        registry_watch_status(w, REGISTRY_EV_ERROR, err);
    } else if (r == 2) {
        snprintf(line, sizeof line, "%s (last: %.100s)", msg, err);
        registry_watch_status(w, REGISTRY_EV_ERROR, line);
    }
}

void registry_watch_diff(registry_watch *w, const registry_instance *known, size_t nknown,
                         const registry_instance *now, size_t nnow, int64_t rev)
{
    for (size_t i = 0; i < nknown; i++) {
        bool still = false;
        for (size_t j = 0; j < nnow && !still; j++)
            still = strcmp(known[i].addr, now[j].addr) == 0;
        if (!still)
            registry_watch_push(w, &(registry_event){.type = REGISTRY_EV_DELETE, .inst = known[i], .revision = rev});
    }
    for (size_t j = 0; j < nnow; j++) {
        const registry_instance *old = NULL;
        for (size_t i = 0; i < nknown && !old; i++)
            if (strcmp(known[i].addr, now[j].addr) == 0)
                old = &known[i];
        bool same = old && strcmp(old->protocol, now[j].protocol) == 0 && strcmp(old->check, now[j].check) == 0;
        if (same && strcmp(old->status, now[j].status) == 0)
            continue;
        registry_event ev = {.type = REGISTRY_EV_PUT, .inst = now[j], .revision = rev};
        if (same)
            registry_copy(ev.was, sizeof ev.was, old->status);
        registry_watch_push(w, &ev);
    }
}

bool registry_watch_retry(registry_watch *w, registry_outage *o, const char *err, long *backoff_ms)
{
    if (registry_stopped(&w->stop))
        return true;
    registry_watch_failed(w, o, err);
    if (registry_stop_sleep(&w->stop, (uint64_t)*backoff_ms))
        return true;
    *backoff_ms = *backoff_ms * 2 > 5000 ? 5000 : *backoff_ms * 2;
    return false;
}

void registry_watch_back(registry_watch *w, registry_outage *o)
{
    char back[128], line[200];
    if (registry_outage_end(o, back, sizeof back)) {
        snprintf(line, sizeof line, "watch connected again: %s", back);
        registry_watch_status(w, REGISTRY_EV_RESUMED, line);
    }
}

int registry_watch_next(registry_watch *w, registry_event *ev, int timeout_ms)
{
    struct timespec until = clock_after(CLOCK_MONOTONIC, timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
    pthread_mutex_lock(&w->stop.mu);
    while (!w->count && timeout_ms > 0 && registry_stop_wait(&w->stop, &until))
        ;
    int rc = 0;
    if (registry_stopped(&w->stop)) {
        rc = -1;
    } else if (w->count) {
        *ev = w->q[w->head];
        w->head = (w->head + 1) % REGISTRY_WATCH_QUEUE;
        w->count--;
        pthread_cond_broadcast(&w->stop.cv);
        rc = 1;
    }
    pthread_mutex_unlock(&w->stop.mu);
    return rc;
}

void registry_watch_cancel(registry_watch *w)
{
    registry_stop_set(&w->stop);
}
