/* registry_watch.c -- a watch's bounded queue of events, between the backend's watch loop
 * that fills it and the reader (the thread itself is started in registry.c). */
#include "registry/registry.h"

#include <stdlib.h>
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

/* An instance list's order by address (the first of equal addresses first), for lookups. */
typedef struct by_addr {
    const registry_instance *in;
    size_t *idx;
    size_t n;
} by_addr;

static _Thread_local const registry_instance *cmp_base; /* qsort has no context argument */

static int cmp_idx(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(cmp_base[i].addr, cmp_base[j].addr);
    return c ? c : i < j ? -1 : i > j;
}

/* Fills o with in's order by address; false when out of memory. */
static bool by_addr_init(by_addr *o, const registry_instance *in, size_t n)
{
    o->in = in;
    o->n = n;
    o->idx = n ? malloc(n * sizeof *o->idx) : NULL;
    if (n && !o->idx)
        return false;
    for (size_t i = 0; i < n; i++)
        o->idx[i] = i;
    cmp_base = in;
    if (n > 1)
        qsort(o->idx, n, sizeof *o->idx, cmp_idx);
    return true;
}

/* The first instance of o with address addr, or NULL: a binary search. */
static const registry_instance *by_addr_find(const by_addr *o, const char *addr)
{
    size_t lo = 0, hi = o->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(o->in[o->idx[mid]].addr, addr) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->n && strcmp(o->in[o->idx[lo]].addr, addr) == 0 ? &o->in[o->idx[lo]] : NULL;
}

/* The lookups of a small list, or of any when memory is short: a scan. */
static const registry_instance *scan_find(const registry_instance *in, size_t n, const char *addr)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].addr, addr) == 0)
            return &in[i];
    return NULL;
}

void registry_watch_diff(registry_watch *w, const registry_instance *known, size_t nknown,
                         const registry_instance *now, size_t nnow, int64_t rev)
{
    /* O((n + m) log(n + m)): each list's order by address, then a binary search per entry */
    by_addr ok = {0}, on = {0};
    bool sorted = by_addr_init(&ok, known, nknown) && by_addr_init(&on, now, nnow);
    for (size_t i = 0; i < nknown; i++) {
        const char *a = known[i].addr;
        if (!(sorted ? by_addr_find(&on, a) : scan_find(now, nnow, a)))
            registry_watch_push(w, &(registry_event){.type = REGISTRY_EV_DELETE, .inst = known[i], .revision = rev});
    }
    for (size_t j = 0; j < nnow; j++) {
        const char *a = now[j].addr;
        const registry_instance *old = sorted ? by_addr_find(&ok, a) : scan_find(known, nknown, a);
        bool same = old && strcmp(old->protocol, now[j].protocol) == 0 && strcmp(old->check, now[j].check) == 0;
        if (same && strcmp(old->status, now[j].status) == 0)
            continue;
        registry_event ev = {.type = REGISTRY_EV_PUT, .inst = now[j], .revision = rev};
        if (same)
            registry_copy(ev.was, sizeof ev.was, old->status);
        registry_watch_push(w, &ev);
    }
    free(ok.idx);
    free(on.idx);
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

uint64_t registry_watch_bytes_read(const registry_watch *w)
{
    return registry_bytes_read(w->r);
}

void registry_watch_cancel(registry_watch *w)
{
    registry_stop_set(&w->stop);
}
