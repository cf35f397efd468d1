/* mdns_browse.c -- the browser: a one-shot browse for a listing, and continuous querying
 * for a watch (RFC 6762 §5.2): queries at 1, 2, 4... s up to 60 s with known answers,
 * refreshes at 80-95 % of each record's TTL, instances pushed as they come and go. */
#include "registry/mdns_int.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/i18n.h"

enum {
    TICK_MS = 50,               /* how often a wait looks at its cancel flag */
    FIRST_QUERY_MS = 1000, MAX_QUERY_MS = 60000,
    FOLLOW_UP_MS = 1000,        /* questions about incomplete instances, at most this often */
    MAX_ASKS = 32,
};

typedef struct browser {
    int fd;                     /* on port 5353: multicast answers, announcements */
    int ufd;                    /* on a port of its own: unicast answers to legacy queries; -1: none */
    char type[128];             /* "_NAME._tcp.local.", or "" for every service */
    mdns_cache cache;
    uint8_t buf[MDNS_MAX_PACKET];
} browser;

static browser *browser_open(const mdns_if *ifc, const char *service, char *err, size_t errlen)
{
    browser *b = calloc(1, sizeof *b);
    if (!b) {
        err_set(err, errlen, _("out of memory"));
        return NULL;
    }
    if (service && *service)
        mdns_type_name(service, b->type, sizeof b->type);
    mdns_cache_init(&b->cache, (unsigned)clock_now_us());
    if ((b->fd = mdns_sock_open(ifc, true, err, errlen)) < 0) {
        free(b);
        return NULL;
    }
    b->ufd = mdns_sock_open_unicast(ifc, NULL, 0); /* without it, only responders that multicast */
    return b;
}

static void browser_close(browser *b)
{
    if (b) {
        close(b->fd);
        if (b->ufd >= 0)
            close(b->ufd);
        free(b);
    }
}

/* Sends a query for asks from port 5353 and, when legacy_too, the same from the browser's
 * own port (for responders that answer by unicast to the query's source). The legacy copy
 * has an id of its own, not 0 (§6.7: its answer echoes it): a responder that drops a
 * packet equal to the one it just had (python-zeroconf, within 1 s) would take it for the
 * first one again, and answer only the multicast query, as late as its rate limit says. */
static void send_asks(browser *b, const mdns_ask *asks, size_t n, bool legacy_too, uint64_t now)
{
    if (!n)
        return;
    ldns_pkt *p = mdns_cache_query(&b->cache, asks, n, now);
    uint8_t *wire;
    size_t len;
    if (mdns_wire(p, &wire, &len) == 0)
        mdns_sock_send(b->fd, wire, len, NULL, 0);
    free(wire);
    if (legacy_too && b->ufd >= 0) {
        ldns_pkt_set_id(p, (uint16_t)(1 + rand_r(&b->cache.seed) % 65535));
        if (mdns_wire(p, &wire, &len) == 0)
            mdns_sock_send(b->ufd, wire, len, NULL, 0);
        free(wire);
    }
    ldns_pkt_free(p);
}

/* The browse question: PTR of the type, or of the service types (and each type known). */
static void send_browse(browser *b, uint64_t now)
{
    mdns_ask asks[MAX_ASKS];
    size_t n = 0;
    if (b->type[0]) {
        registry_copy(asks[n].name, sizeof asks[n].name, b->type);
        asks[n++].type = LDNS_RR_TYPE_PTR;
    } else {
        char types[MAX_ASKS - 1][128];
        registry_copy(asks[n].name, sizeof asks[n].name, MDNS_SERVICES);
        asks[n++].type = LDNS_RR_TYPE_PTR;
        size_t nt = mdns_cache_types(&b->cache, types, MAX_ASKS - 1);
        for (size_t i = 0; i < nt; i++) {
            snprintf(asks[n].name, sizeof asks[n].name, "%.127s", types[i]);
            asks[n++].type = LDNS_RR_TYPE_PTR;
        }
    }
    send_asks(b, asks, n, true, now);
}

static void send_missing(browser *b, uint64_t now)
{
    mdns_ask asks[MAX_ASKS];
    send_asks(b, asks, mdns_cache_missing(&b->cache, b->type, asks, MAX_ASKS), true, now);
}

/* Waits for packets until `until` (at most TICK_MS at a time, so that cancel is seen);
 * each response goes into the cache. Returns true when the instances may have changed. */
static bool receive(browser *b, uint64_t until)
{
    uint64_t now = clock_now_ms();
    int wait = until > now ? (int)(until - now < TICK_MS ? until - now : TICK_MS) : 0;
    struct pollfd pfd[2] = {{.fd = b->fd, .events = POLLIN}, {.fd = b->ufd, .events = POLLIN}};
    bool changed = false;
    if (poll(pfd, b->ufd >= 0 ? 2 : 1, wait) <= 0)
        return false;
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 64 && (pfd[k].revents & POLLIN); i++) {
            ssize_t got = recv(pfd[k].fd, b->buf, sizeof b->buf, 0);
            if (got < 0)
                break;
            ldns_pkt *p = NULL;
            if (ldns_wire2pkt(&p, b->buf, (size_t)got) == LDNS_STATUS_OK)
                changed |= mdns_cache_packet(&b->cache, p, b->type, k == 1, clock_now_ms());
            ldns_pkt_free(p);
        }
    return changed;
}

static int by_addr(const void *a, const void *b)
{
    const registry_instance *x = a, *y = b;
    int c = strcmp(x->service, y->service);
    return c ? c : strcmp(x->addr, y->addr);
}

/* The instances the cache holds into a new array (sorted), NULL when none. */
static registry_instance *instances(browser *b, size_t *n)
{
    registry_instance *in = calloc(MDNS_CACHE_MAX, sizeof *in);
    *n = in ? mdns_cache_instances(&b->cache, b->type, in, MDNS_CACHE_MAX) : 0;
    if (*n > 1)
        qsort(in, *n, sizeof *in, by_addr);
    return in;
}

int mdns_browse_list(const mdns_if *ifc, const char *service, int wait_ms, const atomic_bool *cancel,
                     registry_instance **out, size_t *n, buf *types, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    browser *b = browser_open(ifc, service, err, errlen);
    if (!b)
        return -1;
    uint64_t start = clock_now_ms(), end = start + (uint64_t)(wait_ms > 0 ? wait_ms : 1000);
    uint64_t follow = start + (end - start) / 3;
    send_browse(b, start);
    for (int step = 0; clock_now_ms() < end;) {
        if (cancel && atomic_load(cancel)) {
            browser_close(b);
            err_set(err, errlen, _("cancelled"));
            return -1;
        }
        if (step < 2 && clock_now_ms() >= follow) { /* what came in so far, completed */
            if (!b->type[0])
                send_browse(b, clock_now_ms());
            send_missing(b, clock_now_ms());
            follow += (end - start) / 3;
            step++;
        }
        receive(b, follow < end ? follow : end);
    }
    *out = instances(b, n);
    if (types) {
        char (*t)[128] = calloc(MDNS_CACHE_MAX, sizeof *t);
        size_t nt = t ? mdns_cache_types(&b->cache, t, MDNS_CACHE_MAX) : 0;
        for (size_t i = 0; i < nt; i++) {
            char svc[64];
            if (mdns_type_service(t[i], svc, sizeof svc))
                buf_printf(types, "%s\n", svc);
        }
        free(t);
    }
    browser_close(b);
    if (!*n) {
        free(*out);
        *out = NULL;
    }
    return 0;
}

/* Pushes what changed between *known and the cache's instances now, which become known. */
static void push_changes(registry_watch *w, browser *b, registry_instance **known, size_t *nknown)
{
    size_t nnow;
    registry_instance *now = instances(b, &nnow);
    if (!now)
        return;
    w->revision++;
    registry_watch_diff(w, *known, *nknown, now, nnow, w->revision);
    free(*known);
    *known = now;
    *nknown = nnow;
}

/* One round of the watch loop at now: the queries due, then packets until the next one.
 * Returns the time of the next browse query. */
static uint64_t watch_round(registry_watch *w, browser *b, uint64_t next_query, uint64_t *interval,
                            uint64_t *next_follow, registry_instance **known, size_t *nknown)
{
    uint64_t now = clock_now_ms();
    mdns_ask asks[MAX_ASKS];
    if (now >= next_query) {
        send_browse(b, now);
        next_query = now + *interval;
        *interval = *interval * 2 > MAX_QUERY_MS ? MAX_QUERY_MS : *interval * 2;
    }
    send_asks(b, asks, mdns_cache_refresh(&b->cache, now, asks, MAX_ASKS), false, now);
    if (now >= *next_follow) {
        send_missing(b, now);
        *next_follow = now + FOLLOW_UP_MS;
    }
    bool changed = mdns_cache_expire(&b->cache, now);
    uint64_t until = next_query, due = mdns_cache_next(&b->cache, now);
    if (due != UINT64_MAX && now + due < until)
        until = now + due;
    changed |= receive(b, until);
    if (changed)
        push_changes(w, b, known, nknown);
    return next_query;
}

void mdns_browse_watch(registry_watch *w)
{
    mdns_if ifc;
    char err[512];
    registry_outage out = {0};
    long backoff = 250;
    browser *b = NULL;
    while (!registry_stopped(&w->stop)) {
        if (mdns_if_pick(w->r->mdns_iface, &ifc, err, sizeof err) == 0 &&
            (b = browser_open(&ifc, w->service, err, sizeof err)))
            break;
        if (registry_watch_retry(w, &out, err, &backoff))
            return;
    }
    if (!b)
        return;
    registry_watch_back(w, &out);
    registry_instance *known = NULL;
    size_t nknown = 0;
    uint64_t interval = FIRST_QUERY_MS, next_query = clock_now_ms(), next_follow = next_query + 200;
    while (!registry_stopped(&w->stop))
        next_query = watch_round(w, b, next_query, &interval, &next_follow, &known, &nknown);
    free(known);
    browser_close(b);
}
