/* gateway_hub.c -- who serves each service, asked of the service hub (hub-server,
 * discovery.Discovery) instead of the registry: discovery through a service. */
#include "gateway_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "discovery.pb-c.h"
#include "rpc/grpcclient.h"

#define HUB_REFRESH_MS 500
#define HUB_CALL_MS 1000
#define HUB_REPLY_MAX (1 << 20)

/* The membership thread's connection to the hub. */
typedef struct hub {
    const char *addr;
    grpcclient *c;     /* NULL: dial on the next call */
    grpc_result *res;  /* large: on the heap, reused */
    bool down;         /* said so once; say again when it answers */
} hub;

/* Calls path with req and unpacks the reply of type rd into *reply. Returns the gRPC
 * status the hub answered (err: its message), or -1 when the call did not complete (the
 * connection is dropped, to be dialled again). */
static int hub_call(hub *h, const char *path, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd,
                    ProtobufCMessage **reply, char *err, size_t errlen)
{
    *reply = NULL;
    if (!h->c && !(h->c = grpcclient_dial(h->addr, HUB_CALL_MS, err, errlen)))
        return -1;
    size_t n = protobuf_c_message_get_packed_size(req);
    uint8_t *bytes = malloc(n ? n : 1);
    buf reqs, replies;
    buf_init(&reqs, n + 16);
    buf_init(&replies, HUB_REPLY_MAX);
    memset(h->res, 0, sizeof *h->res);
    h->res->replies = &replies;
    int st = -1;
    if (!bytes || grpcclient_put_message(&reqs, bytes, protobuf_c_message_pack(req, bytes)) < 0) {
        err_set(err, errlen, "out of memory");
    } else if (grpcclient_call(h->c, path, &reqs, HUB_CALL_MS, h->res, err, errlen) < 0) {
        grpcclient_free(h->c);
        h->c = NULL;
    } else if ((st = h->res->status) != GRPC_OK) {
        err_set(err, errlen, "%s: %s", grpc_status_name(st), h->res->message);
    } else {
        size_t off = 0, len = 0;
        const uint8_t *msg = NULL;
        if (!grpcclient_next_message(&replies, &off, &msg, &len) ||
            !(*reply = protobuf_c_message_unpack(rd, NULL, len, msg))) {
            err_set(err, errlen, "the hub's reply to %s is not a %s", path, rd->name);
            st = GRPC_INTERNAL;
        }
    }
    free(bytes);
    buf_done(&reqs);
    buf_done(&replies);
    return st;
}

/* The longest prefix the services' names share: "/" for "/user" and "/post". */
static void common_prefix(const directory *dirs, size_t n, char *out, size_t cap)
{
    snprintf(out, cap, "%s", n ? dirs[0].name : "");
    for (size_t i = 1; i < n; i++) {
        size_t k = 0;
        while (out[k] && out[k] == dirs[i].name[k])
            k++;
        out[k] = '\0';
    }
}

/* Asks the hub to follow the services' common prefix; the names it knows under it into
 * *names (the caller frees it with protobuf_c_message_free_unpacked). Logs the names when
 * they changed since *said (a hash of the last ones logged). Returns as hub_call. */
static int hub_watch(hub *h, const directory *dirs, size_t n, Discovery__WatchReply **names, uint64_t *said,
                     char *err, size_t errlen)
{
    char prefix[128];
    common_prefix(dirs, n, prefix, sizeof prefix);
    Discovery__Prefix q = DISCOVERY__PREFIX__INIT;
    q.prefix = prefix;
    ProtobufCMessage *m;
    int st = hub_call(h, "/discovery.Discovery/WatchService", &q.base, &discovery__watch_reply__descriptor, &m, err,
                      errlen);
    *names = (Discovery__WatchReply *)m;
    if (st != GRPC_OK)
        return st;
    char list[512] = "";
    uint64_t hash = 1469598103934665603ull; /* FNV-1a over the names */
    for (size_t i = 0, used = 0; i < (*names)->n_names; i++) {
        for (const char *p = (*names)->names[i]; ; p++) {
            hash = (hash ^ (unsigned char)*p) * 1099511628211ull;
            if (!*p)
                break;
        }
        if (used < sizeof list)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", (*names)->names[i]);
    }
    if (hash != *said)
        log_msg("hub: %s follows the services under \"%s\"; it knows %zu now%s%s", h->addr, prefix,
                (*names)->n_names, (*names)->n_names ? ": " : "", list);
    *said = hash;
    return GRPC_OK;
}

static bool named(const Discovery__WatchReply *names, const char *name)
{
    for (size_t i = 0; i < names->n_names; i++)
        if (strcmp(names->names[i], name) == 0)
            return true;
    return false;
}

/* Makes d list exactly addrs (those that fit); logs a change. */
static void dir_set(directory *d, char *const *addrs, size_t n)
{
    size_t named_n = n;
    if (n > MAX_MEMBERS)
        n = MAX_MEMBERS;
    pthread_mutex_lock(&d->mu);
    bool same = n == d->n;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(d->addrs[i], addrs[i]) == 0;
    if (!same) {
        if (named_n > n)
            log_msg("hub: %s has %zu instances; the gateway calls the first %d", d->name, named_n, MAX_MEMBERS);
        for (size_t i = 0; i < n; i++)
            snprintf(d->addrs[i], sizeof d->addrs[i], "%s", addrs[i]);
        d->n = n;
        d->gen++;
    }
    pthread_mutex_unlock(&d->mu);
    if (!same)
        log_msg("hub: %zu instance(s) of %s%s%s%s", n, d->name, n ? ": " : "", n ? addrs[0] : "",
                n > 1 ? " ..." : "");
}

/* One GetServices for d. Returns as hub_call; NOT_FOUND empties d. */
static int hub_refresh(hub *h, directory *d, bool *said, char *err, size_t errlen)
{
    Discovery__ServiceName q = DISCOVERY__SERVICE_NAME__INIT;
    q.name = d->name;
    ProtobufCMessage *m;
    int st = hub_call(h, "/discovery.Discovery/GetServices", &q.base, &discovery__service_info__descriptor, &m, err,
                      errlen);
    if (st == GRPC_OK) {
        const Discovery__ServiceInfo *r = (const Discovery__ServiceInfo *)m;
        dir_set(d, r->addresses, r->n_addresses);
        protobuf_c_message_free_unpacked(m, NULL);
    } else if (st == GRPC_NOT_FOUND) {
        dir_set(d, NULL, 0);
    }
    if (st == GRPC_OK || st == GRPC_NOT_FOUND)
        *said = false;
    else if (st != GRPC_UNAVAILABLE && st != GRPC_DEADLINE_EXCEEDED && st >= 0 && !*said) {
        log_msg("hub: GetServices %s: %s (keeping the instances known)", d->name, err);
        *said = true;
    }
    return st;
}

/* One round: the names the hub knows under the prefix, then the instances of each of the
 * gateway's services among them (one it does not name has none). Returns the status of
 * the first call that failed for the hub's sake (-1, UNAVAILABLE, DEADLINE_EXCEEDED, or
 * any status of WatchService), else GRPC_OK. */
static int hub_round(hub *h, directory *dirs, size_t n, bool *said, uint64_t *names_said, const atomic_bool *stop,
                     char *err, size_t errlen)
{
    Discovery__WatchReply *names;
    int st = hub_watch(h, dirs, n, &names, names_said, err, errlen);
    for (size_t i = 0; i < n && st == GRPC_OK && !atomic_load(stop); i++) {
        if (!named(names, dirs[i].name)) {
            dir_set(&dirs[i], NULL, 0);
            continue;
        }
        int r = hub_refresh(h, &dirs[i], &said[i], err, errlen);
        if (r < 0 || r == GRPC_UNAVAILABLE || r == GRPC_DEADLINE_EXCEEDED)
            st = r; /* the hub, not the service: try again next round */
    }
    if (names)
        protobuf_c_message_free_unpacked(&names->base, NULL);
    return st;
}

void gateway_hub_follow(const char *addr, directory *dirs, size_t n, const atomic_bool *stop)
{
    hub h = {.addr = addr, .res = malloc(sizeof *h.res)};
    bool *said = calloc(n ? n : 1, sizeof *said);
    uint64_t names_said = 0;
    char err[512];
    if (!h.res || !said) {
        log_msg("hub: out of memory; no services");
        goto done;
    }
    while (!atomic_load(stop)) {
        bool failed = hub_round(&h, dirs, n, said, &names_said, stop, err, sizeof err) != GRPC_OK;
        if (failed && !h.down)
            log_msg("hub: %s: %s; keeping the instances known, asking again every %d ms", addr, err,
                    HUB_REFRESH_MS);
        else if (!failed && h.down)
            log_msg("hub: %s answers again", addr);
        h.down = failed;
        for (int waited = 0; waited < HUB_REFRESH_MS && !atomic_load(stop); waited += WATCH_POLL_MS)
            clock_sleep_ms(WATCH_POLL_MS);
    }
done:
    grpcclient_free(h.c);
    free(h.res);
    free(said);
}
