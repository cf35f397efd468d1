/* registry_watch.c -- the watch: a thread that runs the backend's watch loop on its own
 * registry object, and the bounded queue of events between it and the reader. */
#include "registry/registry.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
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

static void *watch_main(void *arg)
{
    registry_watch *w = arg;
    w->r->be->watch(w);
    return NULL;
}

registry_watch *registry_watch_start(registry *r, const char *service, int64_t revision,
                                     char *err, size_t errlen)
{
    if (r->kind == REGISTRY_NONE) {
        err_set(err, errlen, "registry none: nothing to watch");
        return NULL;
    }
    if (r->kind == REGISTRY_CONSUL && (!service || !*service)) {
        err_set(err, errlen, "consul: name the service to watch");
        return NULL;
    }
    registry_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->q = calloc(REGISTRY_WATCH_QUEUE, sizeof *w->q))) {
        free(w);
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    registry_stop_init(&w->stop);
    registry_auth auth = {r->token, r->user};
    registry_copy(w->service, sizeof w->service, service);
    w->revision = revision;
    if (!(w->r = registry_new(r->url, &auth, err, errlen)))
        goto fail;
    w->r->passing_only = r->passing_only;
    registry_set_cancel(w->r, &w->stop.stopped);
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        err_set(err, errlen, "cannot start the watch thread");
        goto fail;
    }
    w->started = true;
    return w;
fail:
    registry_watch_free(w);
    return NULL;
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

void registry_watch_free(registry_watch *w)
{
    if (!w)
        return;
    registry_watch_cancel(w);
    if (w->started)
        pthread_join(w->thread, NULL);
    registry_free(w->r);
    registry_stop_done(&w->stop);
    free(w->q);
    free(w);
}
