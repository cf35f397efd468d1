/* hub_cache.c -- the service hub's cache: services and their gRPC instances, fed by a
 * thread that lists and watches the registry. */
#include "hub_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/log.h"
#include "wire/grpc_status.h"

#define POLL_MS 30
#define RELIST_MS 1000
#define RESCAN_MS 2000

typedef struct svc {
    char name[HUB_NAME_MAX];
    char (*addrs)[HUB_NAME_MAX]; /* sorted */
    size_t n, cap;
    unsigned rr;
    bool followed; /* Consul, DNS: the thread lists and watches it */
} svc;

/* One list-and-watch of the thread (only it touches these). */
typedef struct follow {
    char name[HUB_NAME_MAX]; /* "": every service (etcd) */
    registry_watch *watch;
    uint64_t retry_at;
    bool failing;
} follow;

struct hub_cache {
    registry *reg;
    char url[512];
    bool all; /* etcd: one watch of every key */
    pthread_mutex_t mu;
    /* under mu: */
    svc *svcs; /* sorted by name */
    size_t nsvc;
    bool ready, full_said;
    char why[300]; /* why not ready */
    int64_t revision;
    char prefixes[HUB_MAX_PREFIXES][HUB_NAME_MAX];
    size_t nprefix;
    /* the thread's own: */
    follow *follows;
    size_t nfollow;
    bool follows_said;
    uint64_t rescan_at;
    atomic_bool stop;
    pthread_t thread;
};

/* ---- the cache, with mu held ---- */

/* The index where name is in c->svcs (sorted by name), or where it would go. */
static size_t svc_index(const hub_cache *c, const char *name, bool *found)
{
    size_t lo = 0, hi = c->nsvc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(c->svcs[mid].name, name);
        if (d == 0) {
            *found = true;
            return mid;
        }
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* The pointer is good until the next svc_get (which may move the services). */
static svc *svc_find(hub_cache *c, const char *name)
{
    bool found;
    size_t i = svc_index(c, name, &found);
    return found ? &c->svcs[i] : NULL;
}

static svc *svc_get(hub_cache *c, const char *name)
{
    bool found;
    size_t i = svc_index(c, name, &found);
    if (found)
        return &c->svcs[i];
    if (c->nsvc == HUB_MAX_SERVICES) {
        if (!c->full_said)
            log_msg("cache: full at %d services; %s and later ones are left out", HUB_MAX_SERVICES, name);
        c->full_said = true;
        return NULL;
    }
    memmove(&c->svcs[i + 1], &c->svcs[i], (c->nsvc - i) * sizeof c->svcs[0]);
    c->nsvc++;
    svc *s = &c->svcs[i];
    *s = (svc){0};
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

static bool svc_add(svc *s, const char *addr)
{
    size_t i = 0;
    while (i < s->n && strcmp(s->addrs[i], addr) < 0)
        i++;
    if (i < s->n && strcmp(s->addrs[i], addr) == 0)
        return false;
    if (s->n == HUB_MAX_ADDRS)
        return false;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        void *p = realloc(s->addrs, cap * sizeof s->addrs[0]);
        if (!p)
            return false;
        s->addrs = p, s->cap = cap;
    }
    memmove(s->addrs[i + 1], s->addrs[i], (s->n - i) * sizeof s->addrs[0]);
    snprintf(s->addrs[i], sizeof s->addrs[0], "%s", addr);
    s->n++;
    return true;
}

static bool svc_remove(svc *s, const char *addr)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->addrs[i], addr) == 0) {
            memmove(s->addrs[i], s->addrs[i + 1], (s->n - i - 1) * sizeof s->addrs[0]);
            s->n--;
            return true;
        }
    return false;
}

/* What the hub hands out: usable instances that speak gRPC. */
static bool wanted(const registry_instance *in)
{
    return (in->protocol[0] == '\0' || strcmp(in->protocol, "grpc") == 0) && registry_instance_usable(in);
}

/* Applies one watch event; returns whether the cache changed. */
static bool apply(hub_cache *c, const registry_event *ev)
{
    bool changed = false;
    pthread_mutex_lock(&c->mu);
    if (ev->revision > c->revision)
        c->revision = ev->revision;
    if (ev->type == REGISTRY_EV_PUT && wanted(&ev->inst)) {
        svc *s = svc_get(c, ev->inst.service);
        changed = s && svc_add(s, ev->inst.addr);
    } else if (ev->type == REGISTRY_EV_PUT || ev->type == REGISTRY_EV_DELETE) {
        svc *s = svc_find(c, ev->inst.service);
        changed = s && svc_remove(s, ev->inst.addr);
    }
    pthread_mutex_unlock(&c->mu);
    return changed;
}

/* ---- the thread ---- */

/* Lists f's services into the cache (replacing what it held of them) and starts f's
 * watch. Returns 0, or -1 with err. */
static int follow_start(hub_cache *c, follow *f, char *err, size_t errlen)
{
    registry_instance *list = NULL;
    size_t n = 0, have = 0;
    int64_t rev = 0;
    if (registry_list(c->reg, f->name[0] ? f->name : NULL, &list, &n, &rev, err, errlen) < 0)
        return -1;
    if (registry_list_left_out(c->reg))
        log_msg("registry: %zu instances past the %d a listing holds are left out",
                registry_list_left_out(c->reg), REGISTRY_MAX_INSTANCES);
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nsvc; i++)
        if (!f->name[0] || strcmp(c->svcs[i].name, f->name) == 0)
            c->svcs[i].n = 0;
    for (size_t i = 0; i < n; i++) {
        svc *s = wanted(&list[i]) ? svc_get(c, list[i].service) : NULL;
        if (s && svc_add(s, list[i].addr))
            have++;
    }
    if (rev > c->revision)
        c->revision = rev;
    c->ready = true;
    pthread_mutex_unlock(&c->mu);
    free(list);
    if (!(f->watch = registry_watch_start(c->reg, f->name[0] ? f->name : NULL, rev, err, errlen)))
        return -1;
    log_msg("registry: %zu instance(s) of %s listed at revision %lld; following its changes", have,
            f->name[0] ? f->name : "every service", (long long)rev);
    return 0;
}

static void log_event(const registry_event *ev, bool changed)
{
    if (ev->type == REGISTRY_EV_PUT && changed)
        log_msg("registry: %s %s registered", ev->inst.service, ev->inst.addr);
    else if ((ev->type == REGISTRY_EV_DELETE || ev->type == REGISTRY_EV_PUT) && changed)
        log_msg("registry: %s %s removed", ev->inst.service, ev->inst.addr);
    else if (ev->type == REGISTRY_EV_ERROR)
        log_msg("registry: watch: %s (keeping the instances known)", ev->msg);
    else if (ev->type == REGISTRY_EV_RESUMED)
        log_msg("registry: watch: %s", ev->msg[0] ? ev->msg : "connected again");
}

/* Takes f's events, waiting at most wait_ms for the first. */
static void follow_drain(hub_cache *c, follow *f, int wait_ms)
{
    registry_event ev;
    bool got = false, relist = false;
    while (registry_watch_next(f->watch, &ev, got ? 0 : wait_ms) == 1) {
        got = true;
        log_event(&ev, apply(c, &ev));
        if (ev.type == REGISTRY_EV_ERROR && strstr(ev.msg, "list again"))
            relist = true;
    }
    if (relist) { /* history lost: what the cache holds may be stale */
        registry_watch_free(f->watch);
        f->watch = NULL;
        f->retry_at = 0;
    }
}

static void follow_add(hub_cache *c, const char *name)
{
    for (size_t i = 0; i < c->nfollow; i++)
        if (strcmp(c->follows[i].name, name) == 0)
            return;
    if (c->nfollow == HUB_MAX_FOLLOWS) {
        if (!c->follows_said)
            log_msg("registry: already %d services followed, each with its own watch; %s is not", HUB_MAX_FOLLOWS,
                    name);
        c->follows_said = true;
        return;
    }
    follow *f = &c->follows[c->nfollow++];
    *f = (follow){0};
    snprintf(f->name, sizeof f->name, "%s", name);
}

/* Consul, DNS: follows the names asked for, and those under a followed prefix that the
 * registry's list of names shows (every RESCAN_MS, also while it has never answered). */
static void take_wants(hub_cache *c)
{
    char prefixes[HUB_MAX_PREFIXES][HUB_NAME_MAX];
    size_t np = 0;
    bool rescan = false;
    uint64_t now = clock_now_ms();
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nsvc; i++)
        if (!c->svcs[i].followed) {
            c->svcs[i].followed = true;
            follow_add(c, c->svcs[i].name);
        }
    if (now >= c->rescan_at && (c->nprefix > 0 || !c->ready)) {
        c->rescan_at = now + RESCAN_MS;
        rescan = true;
        np = c->nprefix;
        memcpy(prefixes, c->prefixes, np * sizeof prefixes[0]);
    }
    pthread_mutex_unlock(&c->mu);
    if (!rescan)
        return;
    buf names;
    buf_init(&names, 1 << 20);
    char err[300];
    int rc = registry_services(c->reg, &names, err, sizeof err);
    pthread_mutex_lock(&c->mu);
    if (rc == 0 && buf_putc(&names, 0) == 0) {
        for (char *save = NULL, *s = strtok_r((char *)buf_data(&names), "\n", &save); s;
             s = strtok_r(NULL, "\n", &save))
            for (size_t i = 0; i < np; i++)
                if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0) {
                    svc *v = svc_get(c, s);
                    if (v && !v->followed) {
                        v->followed = true;
                        follow_add(c, s);
                    }
                    break;
                }
        c->ready = true;
    } else if (!c->ready) {
        snprintf(c->why, sizeof c->why, "%s", rc == 0 ? "out of memory" : err);
    }
    pthread_mutex_unlock(&c->mu);
    buf_done(&names);
}

/* Each follow without a watch is listed (again, after RELIST_MS when that failed); the
 * others' events are applied. */
static void *feeder_main(void *arg)
{
    hub_cache *c = arg;
    char err[300];
    while (!atomic_load(&c->stop)) {
        if (!c->all)
            take_wants(c);
        bool waited = false;
        for (size_t i = 0; i < c->nfollow && !atomic_load(&c->stop); i++) {
            follow *f = &c->follows[i];
            if (f->watch) {
                follow_drain(c, f, waited ? 0 : POLL_MS);
                waited = true;
                continue;
            }
            uint64_t now = clock_now_ms();
            if (now < f->retry_at)
                continue;
            if (follow_start(c, f, err, sizeof err) == 0) {
                if (f->failing)
                    log_msg("registry: the registry answers again");
                f->failing = false;
                continue;
            }
            if (!f->failing)
                log_msg("registry: cannot list %s in %s (%s); trying again every %d ms",
                        f->name[0] ? f->name : "the services", c->url, err, RELIST_MS);
            f->failing = true;
            f->retry_at = now + RELIST_MS;
            pthread_mutex_lock(&c->mu);
            if (!c->ready)
                snprintf(c->why, sizeof c->why, "%s", err);
            pthread_mutex_unlock(&c->mu);
        }
        if (!waited)
            clock_sleep_ms(POLL_MS);
    }
    return NULL;
}

hub_cache *hub_cache_start(const char *url, const registry_auth *auth, char *err, size_t errlen)
{
    if (strcmp(url, "none") == 0) {
        err_set(err, errlen, "%s", _("the hub answers from a registry: give one, not none"));
        return NULL;
    }
    hub_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->svcs = calloc(HUB_MAX_SERVICES, sizeof *c->svcs)) ||
        !(c->follows = calloc(HUB_MAX_FOLLOWS, sizeof *c->follows))) {
        err_set(err, errlen, "out of memory");
        goto fail;
    }
    if (!(c->reg = registry_new(url, auth, err, errlen)))
        goto fail;
    snprintf(c->url, sizeof c->url, "%s", url);
    snprintf(c->why, sizeof c->why, "its first listing is under way");
    registry_set_cancel(c->reg, &c->stop);
    c->all = registry_get_kind(c->reg) == REGISTRY_ETCD;
    if (c->all)
        c->nfollow = 1; /* "": every key */
    pthread_mutex_init(&c->mu, NULL);
    if (pthread_create(&c->thread, NULL, feeder_main, c) != 0) {
        err_set(err, errlen, "cannot start the registry thread");
        pthread_mutex_destroy(&c->mu);
        goto fail;
    }
    return c;
fail:
    if (c) {
        registry_free(c->reg);
        free(c->svcs);
        free(c->follows);
        free(c);
    }
    return NULL;
}

void hub_cache_stop(hub_cache *c)
{
    if (!c)
        return;
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    for (size_t i = 0; i < c->nfollow; i++)
        registry_watch_free(c->follows[i].watch);
    for (size_t i = 0; i < c->nsvc; i++)
        free(c->svcs[i].addrs);
    registry_free(c->reg);
    pthread_mutex_destroy(&c->mu);
    free(c->svcs);
    free(c->follows);
    free(c);
}

/* ---- the handlers' side ---- */

/* GRPC_OK when the cache can answer (mu held); else the status, with msg. */
static int answerable(hub_cache *c, char *msg, size_t msglen)
{
    if (c->ready)
        return GRPC_OK;
    err_set(msg, msglen, "the hub has not listed the registry %s yet: %s", c->url, c->why);
    return GRPC_UNAVAILABLE;
}

int hub_cache_get(hub_cache *c, const char *name, hub_found *out, char *msg, size_t msglen)
{
    *out = (hub_found){0};
    if (!name[0] || strlen(name) >= HUB_NAME_MAX) {
        err_set(msg, msglen, name[0] ? "the service name is longer than %d bytes"
                                     : "the service name is empty: give it as registered, e.g. user",
                HUB_NAME_MAX - 1);
        return GRPC_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&c->mu);
    svc *s = c->all ? svc_find(c, name) : svc_get(c, name); /* Consul, DNS: follow it */
    int st = answerable(c, msg, msglen);
    if (st == GRPC_OK && (!s || s->n == 0)) {
        err_set(msg, msglen, "no instance of %s is registered in %s (the hub follows the name and knows an "
                "instance as soon as one registers)", name, c->url);
        st = GRPC_NOT_FOUND;
    }
    if (st == GRPC_OK && !(out->addrs = malloc(s->n * sizeof out->addrs[0]))) {
        err_set(msg, msglen, "out of memory");
        st = GRPC_RESOURCE_EXHAUSTED;
    }
    if (st == GRPC_OK) {
        out->n = s->n;
        memcpy(out->addrs, s->addrs, s->n * sizeof s->addrs[0]);
        snprintf(out->addr, sizeof out->addr, "%s", s->addrs[s->rr++ % s->n]);
        out->revision = c->revision;
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

int hub_cache_names(hub_cache *c, const char *prefix, char (**names)[HUB_NAME_MAX], size_t *n, char *msg,
                    size_t msglen)
{
    *names = NULL;
    *n = 0;
    size_t plen = strlen(prefix);
    if (plen >= HUB_NAME_MAX) {
        err_set(msg, msglen, "the prefix is longer than %d bytes", HUB_NAME_MAX - 1);
        return GRPC_INVALID_ARGUMENT;
    }
    pthread_mutex_lock(&c->mu);
    bool known = c->all;
    for (size_t i = 0; i < c->nprefix && !known; i++)
        known = strcmp(c->prefixes[i], prefix) == 0;
    if (!known && c->nprefix < HUB_MAX_PREFIXES) {
        snprintf(c->prefixes[c->nprefix++], HUB_NAME_MAX, "%s", prefix);
        c->rescan_at = 0;
    }
    int st = answerable(c, msg, msglen);
    if (st == GRPC_OK && c->nsvc && !(*names = malloc(c->nsvc * sizeof **names))) {
        err_set(msg, msglen, "out of memory");
        st = GRPC_RESOURCE_EXHAUSTED;
    }
    for (size_t i = 0; st == GRPC_OK && i < c->nsvc; i++)
        if (c->svcs[i].n > 0 && strncmp(c->svcs[i].name, prefix, plen) == 0)
            memcpy((*names)[(*n)++], c->svcs[i].name, HUB_NAME_MAX);
    pthread_mutex_unlock(&c->mu);
    return st;
}
