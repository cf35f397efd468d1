/* gateway_members.c -- who serves each service the gateway calls: a thread that lists
 * the registry and follows its watch (or asks the hub), and the loop's balancers, synced
 * with what it found. */
#include "gateway_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "registry/registry.h"

#define RELIST_MS 1000

gateway gw;

/* The loop's balancers (a balancer is single-threaded, and so is the loop): synced
 * with the directory when its generation moved. Instances are picked here; the calls
 * and their connections are gateway_calls.c's. */
static struct {
    balancer *lb[NSVC];
    unsigned gen[NSVC];
} loop_lb;

/* Makes the loop's balancer for svc list exactly the directory's members. */
static void sync_members(int svc)
{
    directory *d = &gw.dir[svc];
    static char addrs[MAX_MEMBERS][128]; /* the loop's alone */
    static const char *list[MAX_MEMBERS];
    pthread_mutex_lock(&d->mu);
    unsigned gen = atomic_load(&d->gen);
    size_t n = d->n;
    memcpy(addrs, d->addrs, n * sizeof addrs[0]);
    pthread_mutex_unlock(&d->mu);
    loop_lb.gen[svc] = gen;
    for (size_t k = 0; k < n; k++)
        list[k] = addrs[k];
    balancer_set_members(loop_lb.lb[svc], list, n);
}

balancer *gateway_balancer(int svc)
{
    if (!loop_lb.lb[svc]) {
        if (!(loop_lb.lb[svc] = balancer_new(PROTO_GRPC, PICK_ROUND_ROBIN, gw.timeout_ms)))
            return NULL;
        sync_members(svc);
    } else if (atomic_load_explicit(&gw.dir[svc].gen, memory_order_acquire) != loop_lb.gen[svc]) {
        sync_members(svc);
    }
    return loop_lb.lb[svc];
}

void gateway_balancers_free(void)
{
    for (int i = 0; i < NSVC; i++) {
        balancer_free(loop_lb.lb[i]);
        loop_lb.lb[i] = NULL;
    }
}

static bool speaks_grpc(const registry_instance *in)
{
    return in->protocol[0] == '\0' || strcmp(in->protocol, "grpc") == 0;
}

/* With d->mu held. */
static void dir_put(directory *d, const char *addr)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->addrs[i], addr) == 0)
            return;
    if (d->n == MAX_MEMBERS) {
        log_msg("registry: %s has more than %d instances; %s is left out", d->name, MAX_MEMBERS, addr);
        return;
    }
    snprintf(d->addrs[d->n++], sizeof d->addrs[0], "%s", addr);
    d->gen++;
}

/* With d->mu held. */
static void dir_delete(directory *d, const char *addr)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->addrs[i], addr) == 0) {
            memmove(d->addrs[i], d->addrs[i + 1], (d->n - i - 1) * sizeof d->addrs[0]);
            d->n--;
            d->gen++;
            return;
        }
}

/* Lists the service and starts its watch. Returns 0, or -1 with err (try again later). */
static int dir_start(registry *reg, directory *d, char *err, size_t errlen)
{
    registry_instance *list = NULL;
    size_t n = 0;
    int64_t rev = 0;
    if (registry_list(reg, d->name, &list, &n, &rev, err, errlen) < 0)
        return -1;
    if (registry_list_left_out(reg))
        log_msg("registry: %s has %zu instances more than the %d a listing holds; they are not used", d->name,
                registry_list_left_out(reg), REGISTRY_MAX_INSTANCES);
    pthread_mutex_lock(&d->mu);
    d->n = 0;
    for (size_t i = 0; i < n; i++)
        if (speaks_grpc(&list[i]) && registry_instance_usable(&list[i]))
            dir_put(d, list[i].addr);
    d->gen++;
    size_t have = d->n;
    pthread_mutex_unlock(&d->mu);
    free(list);
    if (!(d->watch = registry_watch_start(reg, d->name, rev, err, errlen)))
        return -1;
    log_msg("registry: %zu instance(s) of %s", have, d->name);
    return 0;
}

/* The membership thread: list each service, then follow its changes. */
static void *members_main(void *arg)
{
    (void)arg;
    if (gw.hub_addr[0]) {
        gateway_hub_follow(gw.hub_addr, gw.dir, NSVC, &gw.stop);
        return NULL;
    }
    char err[512];
    registry *reg = registry_new(gw.registry_url, &gw.auth, err, sizeof err);
    if (!reg) {
        log_msg("registry: %s", err);
        return NULL;
    }
    registry_set_cancel(reg, &gw.stop);
    uint64_t retry_at[NSVC] = {0};
    bool failing[NSVC] = {false}; /* said so once; say again when it works */
    while (!atomic_load(&gw.stop)) {
        bool waited = false;
        for (int s = 0; s < NSVC && !atomic_load(&gw.stop); s++) {
            directory *d = &gw.dir[s];
            if (!d->watch) {
                uint64_t now = clock_now_ms();
                if (now < retry_at[s])
                    continue;
                if (dir_start(reg, d, err, sizeof err) < 0) {
                    if (!failing[s])
                        log_msg("registry: cannot list %s (%s); trying again every %d ms", d->name, err,
                                RELIST_MS);
                    failing[s] = true;
                    retry_at[s] = now + RELIST_MS;
                } else {
                    failing[s] = false;
                }
                continue;
            }
            registry_event ev;
            int r;
            while ((r = registry_watch_next(d->watch, &ev, waited ? 0 : WATCH_POLL_MS)) == 1) {
                waited = true;
                pthread_mutex_lock(&d->mu);
                bool unfit = ev.type == REGISTRY_EV_PUT && !registry_instance_usable(&ev.inst);
                if (ev.type == REGISTRY_EV_PUT && speaks_grpc(&ev.inst) && !unfit)
                    dir_put(d, ev.inst.addr);
                else if (ev.type == REGISTRY_EV_DELETE || unfit)
                    dir_delete(d, ev.inst.addr);
                pthread_mutex_unlock(&d->mu);
                if (unfit)
                    log_msg("registry: %s %s check %s (no calls until it passes)", d->name, ev.inst.addr,
                            ev.inst.status);
                else if (ev.type == REGISTRY_EV_PUT)
                    log_msg("registry: %s %s registered", d->name, ev.inst.addr);
                else if (ev.type == REGISTRY_EV_DELETE)
                    log_msg("registry: %s %s removed", d->name, ev.inst.addr);
                else if (ev.type == REGISTRY_EV_ERROR)
                    log_msg("registry: watch of %s: %s (keeping the instances known)", d->name, ev.msg);
                else if (ev.type == REGISTRY_EV_RESUMED)
                    log_msg("registry: watch of %s: %s", d->name, ev.msg[0] ? ev.msg : "connected again");
            }
            waited = true;
            if (r < 0)
                break;
        }
        if (!waited)
            clock_sleep_ms(WATCH_POLL_MS);
    }
    for (int s = 0; s < NSVC; s++) {
        registry_watch_free(gw.dir[s].watch);
        gw.dir[s].watch = NULL;
    }
    registry_free(reg);
    return NULL;
}

int gateway_members_start(const char *const names[NSVC], char *err, size_t errlen)
{
    for (int i = 0; i < NSVC; i++) {
        snprintf(gw.dir[i].name, sizeof gw.dir[i].name, "%s", names[i]);
        pthread_mutex_init(&gw.dir[i].mu, NULL);
    }
    if (pthread_create(&gw.members, NULL, members_main, NULL) != 0) {
        err_set(err, errlen, "cannot start the registry thread");
        return -1;
    }
    return 0;
}

void gateway_members_stop(void)
{
    atomic_store(&gw.stop, true); /* the thread sees it within WATCH_POLL_MS */
    pthread_join(gw.members, NULL);
}
