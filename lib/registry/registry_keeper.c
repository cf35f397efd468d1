/* registry_keeper.c -- a registration kept alive by a background thread: registers,
 * renews every TTL/3, registers again after a loss, backs off while the registry is away,
 * and deregisters on a graceful stop; in a lab, each of these goes to the timeline. */
#include "registry/registry.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/eventlog.h"
#include "base/log.h"
#include "registry/registry_int.h"

struct registry_keeper {
    registry *r; /* the keeper's own */
    char service[128], addr[128], protocol[16];
    int ttl;
    registry_log_fn log;
    void *log_ctx;
    pthread_t thread;
    bool started;
    registry_stop stop;
    /* Only the keeper's thread touches these until it is joined. */
    registry_reg reg;
    bool registered;
    int registrations;
    registry_outage out;
    char via[128]; /* the endpoint that answered the keeper last */
};

static void keeper_log(registry_keeper *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void keeper_log(registry_keeper *k, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (k->log)
        k->log(k->log_ctx, clock_wall_ms(), msg);
    else
        log_msg("%s", msg);
}

/* A failed attempt while the registry is away: the first is logged with its reason
 * (why: what failed), then a summary every so often. */
static void keeper_failed(registry_keeper *k, const char *why, const char *err)
{
    char msg[128];
    int r = registry_outage_fail(&k->out, msg, sizeof msg);
    if (r == 1) {
        keeper_log(k, "registry: %s: %s; retrying with backoff", why, err);
        eventlog_say("keepalive", "failed: %s", err);
    }
    else if (r == 2)
        keeper_log(k, "registry: %s: %s (last: %s)", why, msg, err);
}

/* Ends the outage going on, if any: its log line (what ends it in suffix) and "back via E
 * after N s" on the timeline. Returns whether one ended. */
static bool keeper_back(registry_keeper *k, const char *suffix)
{
    char back[128];
    uint64_t since = k->out.since_ms;
    if (!registry_outage_end(&k->out, back, sizeof back))
        return false;
    keeper_log(k, "registry: %s%s", back, suffix);
    eventlog_say("keepalive", "back via %s after %.1f s", registry_endpoint(k->r),
                 (double)(clock_now_ms() - since) / 1000.0);
    return true;
}

/* A keepalive was answered: when another endpoint than last time answered it (and no
 * outage ended with it), the timeline says which one took over. */
static void keeper_answered(registry_keeper *k, bool back)
{
    const char *ep = registry_endpoint(k->r);
    if (!back && k->via[0] && strcmp(ep, k->via) != 0)
        eventlog_say("keepalive", "refreshed via %s (%s did not answer)", ep, k->via);
    registry_copy(k->via, sizeof k->via, ep);
}

static void *keeper_main(void *arg)
{
    registry_keeper *k = arg;
    char err[512];
    long backoff = 250, period = k->ttl * 1000L / 3;
    bool lost = false;
    if (period < 200)
        period = 200;
    /* Retries never wait longer than a keepalive period, so a lease that survived an
     * etcd restart is renewed before it runs out. */
    long max_backoff = period < 5000 ? period : 5000;
    while (!registry_stopped(&k->stop)) {
        if (!k->registered) {
            registry_reg reg;
            if (registry_register(k->r, k->service, k->addr, k->protocol, k->ttl, &reg, err, sizeof err) == 0) {
                keeper_back(k, "");
                registry_copy(k->via, sizeof k->via, registry_endpoint(k->r));
                eventlog_say("keepalive", "registered %s %s via %s", k->service, k->addr, k->via);
                k->reg = reg;
                k->registered = true;
                int n = ++k->registrations;
                if (k->r->kind == REGISTRY_ETCD)
                    keeper_log(k, "registry: registered%s %s/%s (%s) on lease %016" PRIx64 ", TTL %ds",
                               n > 1 ? " again" : "", k->service, k->addr, k->protocol, (uint64_t)reg.lease, k->ttl);
                else if (k->r->kind == REGISTRY_MDNS)
                    keeper_log(k, "registry: registered%s %s as %s on mDNS (%s), answering with TTL %ds",
                               n > 1 ? " again" : "", k->service, reg.id, k->protocol, k->ttl);
                else
                    keeper_log(k, "registry: registered%s %s %s (%s), check every %ds",
                               n > 1 ? " again" : "", k->service, reg.id, k->protocol,
                               reg.interval ? reg.interval : k->ttl / 3 > 1 ? k->ttl / 3 : 1);
                lost = false;
                backoff = 250;
                if (registry_stop_sleep(&k->stop, (uint64_t)period))
                    break;
                continue;
            }
            if (registry_stopped(&k->stop))
                break;
            keeper_failed(k, strncmp(err, "etcd:", 5) == 0 || strncmp(err, "consul:", 7) == 0
                                 ? "registry refused the registration" : "registry unreachable", err);
            if (registry_stop_sleep(&k->stop, (uint64_t)backoff))
                break;
            backoff = backoff * 2 > max_backoff ? max_backoff : backoff * 2;
            continue;
        }
        int alive = registry_keepalive(k->r, &k->reg, err, sizeof err);
        if (registry_stopped(&k->stop))
            break;
        if (alive == 1) {
            keeper_answered(k, keeper_back(k, ", lease still alive"));
            backoff = 250;
            if (registry_stop_sleep(&k->stop, (uint64_t)period))
                break;
        } else if (alive == 0) {
            if (!lost)
                eventlog_say("keepalive", "lease lost; registering again");
            if (!lost && k->r->kind == REGISTRY_ETCD)
                keeper_log(k, "registry: lease lost (%s/%s expired, or etcd lost its data); registering again",
                           k->service, k->addr);
            else if (!lost)
                keeper_log(k, "registry: registration lost (the agent forgot %s); registering again", k->reg.id);
            lost = true;
            k->registered = false;
        } else {
            keeper_failed(k, "registry unreachable", err);
            if (registry_stop_sleep(&k->stop, (uint64_t)backoff))
                break;
            backoff = backoff * 2 > max_backoff ? max_backoff : backoff * 2;
        }
    }
    return NULL;
}

registry_keeper *registry_keeper_start(const char *url, const registry_auth *auth,
                                       const char *service, const char *addr,
                                       const char *protocol, int ttl, registry_log_fn log,
                                       void *log_ctx, char *err, size_t errlen)
{
    registry_keeper *k = calloc(1, sizeof *k);
    if (!k) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    registry_stop_init(&k->stop);
    if (!(k->r = registry_new(url, auth, err, errlen)))
        goto fail;
    if (registry_check_names(service, addr, protocol, err, errlen) < 0 ||
        (k->r->kind != REGISTRY_DNS && registry_check_service(k->r, service, err, errlen) < 0))
        goto fail;
    if (ttl < 1) {
        err_set(err, errlen, _("registry: the TTL must be at least 1 second"));
        goto fail;
    }
    if (registry_check_fits(k->r, protocol, err, errlen) < 0)
        goto fail;
    registry_copy(k->service, sizeof k->service, service);
    registry_copy(k->addr, sizeof k->addr, addr);
    registry_copy(k->protocol, sizeof k->protocol, protocol);
    k->ttl = ttl;
    k->log = log;
    k->log_ctx = log_ctx;
    registry_set_cancel(k->r, &k->stop.stopped);
    if (k->r->kind == REGISTRY_DNS && registry_register(k->r, service, addr, protocol, ttl, &k->reg, err, errlen) < 0)
        goto fail; /* read-only: refused now, not retried for ever */
    if (k->r->kind == REGISTRY_NONE)
        return k;
    if (pthread_create(&k->thread, NULL, keeper_main, k) != 0) {
        err_set(err, errlen, "cannot start the registry thread");
        goto fail;
    }
    k->started = true;
    return k;
fail:
    registry_keeper_stop(k, false);
    return NULL;
}

void registry_keeper_stop(registry_keeper *k, bool deregister)
{
    if (!k)
        return;
    registry_stop_set(&k->stop);
    if (k->started)
        pthread_join(k->thread, NULL);
    if (deregister && k->registered && k->r) {
        char err[512];
        registry_set_cancel(k->r, NULL);
        if (registry_deregister(k->r, &k->reg, err, sizeof err) == 0) {
            keeper_log(k, "registry: deregistered %s/%s", k->service, k->addr);
            eventlog_say("keepalive", "deregistered");
        } else
            keeper_log(k, "registry: could not deregister %s/%s: %s", k->service, k->addr, err);
    }
    registry_free(k->r);
    registry_stop_done(&k->stop);
    free(k);
}

