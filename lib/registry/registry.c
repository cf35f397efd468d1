/* registry.c -- the registry's public face: reads the registry URL, checks arguments, and
 * hands each call to the backend the URL names (etcd, Consul, DNS, mDNS, or none, the static case
 * where nothing is registered and the supervisor tells the balancer its instances). */
#include "registry/registry.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "base/net.h"
#include "registry/registry_int.h"

/* ---- none: registering and listing do nothing ---- */

static int none_reg(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    (void)r, (void)reg, (void)err, (void)errlen;
    return 0;
}

static int none_keepalive(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    (void)r, (void)reg, (void)err, (void)errlen;
    return 1;
}

static int none_list(registry *r, const char *service, registry_instance **out, size_t *n,
                     int64_t *revision, char *err, size_t errlen)
{
    (void)r, (void)service, (void)out, (void)n, (void)revision, (void)err, (void)errlen;
    return 0;
}

static int none_services(registry *r, buf *out, char *err, size_t errlen)
{
    (void)r, (void)out, (void)err, (void)errlen;
    return 0;
}

static const registry_backend none_backend = {
    .add = none_reg,
    .keepalive = none_keepalive,
    .deregister = none_reg,
    .list = none_list,
    .services = none_services,
};

/* ---- the registry object ---- */

static char *dup(const char *s) { return s ? strdup(s) : NULL; }

/* A whole number of seconds from lo to hi in s, into *v. */
static bool seconds(const char *s, int lo, int hi, int *v)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < lo || n > hi)
        return false;
    *v = (int)n;
    return true;
}

/* The URL's options after '?' (Consul's check: check=, interval=, deregister=, joined by
 * '&') into r; q is a copy the parsing may cut. Returns 0, or -1 with a reason in err. */
static int parse_options(registry *r, const char *url, char *q, char *err, size_t errlen)
{
    if (r->kind != REGISTRY_CONSUL) {
        err_set(err, errlen, _("registry URL %s: the options check=, interval= and deregister= are Consul's; "
                "etcd's knob is the lease TTL (--ttl)"), url);
        return -1;
    }
    char *save = NULL;
    for (char *o = strtok_r(q, "&", &save); o; o = strtok_r(NULL, "&", &save)) {
        if (strncmp(o, "check=", 6) == 0) {
            const char *v = o + 6;
            r->check = strcmp(v, "tcp") == 0 ? CHECK_TCP : strcmp(v, "grpc") == 0 ? CHECK_GRPC
                     : strcmp(v, "ttl") == 0 ? CHECK_TTL : (registry_check)-1;
            if ((int)r->check < 0) {
                err_set(err, errlen, _("registry URL %s: check must be tcp, grpc or ttl"), url);
                return -1;
            }
        } else if (strncmp(o, "interval=", 9) == 0) {
            if (!seconds(o + 9, 1, REGISTRY_CONSUL_MAX_S, &r->interval)) {
                err_set(err, errlen, _("registry URL %s: interval=%s: want the seconds between two checks, "
                        "a whole number from 1 to %d"), url, o + 9, REGISTRY_CONSUL_MAX_S);
                return -1;
            }
        } else if (strncmp(o, "deregister=", 11) == 0) {
            if (!seconds(o + 11, REGISTRY_CONSUL_MIN_DEREGISTER_S, REGISTRY_CONSUL_MAX_S, &r->deregister)) {
                err_set(err, errlen, _("registry URL %s: deregister=%s: want whole seconds from %d to %d; "
                        "Consul raises a shorter DeregisterCriticalServiceAfter to its minimum of one "
                        "minute, and its reaper looks every 30 s"), url, o + 11,
                        REGISTRY_CONSUL_MIN_DEREGISTER_S, REGISTRY_CONSUL_MAX_S);
                return -1;
            }
        } else {
            err_set(err, errlen, _("registry URL %s: unknown option \"%s\"; Consul's are check=tcp|grpc|ttl, "
                    "interval=S and deregister=S"), url, o);
            return -1;
        }
    }
    if (r->interval && r->check == CHECK_TTL) {
        err_set(err, errlen, _("registry URL %s: interval= is for the tcp and grpc checks; a ttl check "
                "is passed every TTL/3 (--ttl)"), url);
        return -1;
    }
    return 0;
}

/* mdns, mdns://, mdns://IFACE, each with an optional ?wait=MS (what a list waits for
 * answers), into r. Returns 0, or -1 with a reason in err. */
static int parse_mdns(registry *r, const char *url, char *err, size_t errlen)
{
    char tmp[256];
    registry_copy(tmp, sizeof tmp, strncmp(url, "mdns://", 7) == 0 ? url + 7 : url + 4);
    char *q = strchr(tmp, '?');
    if (q)
        *q++ = 0;
    while (*tmp && tmp[strlen(tmp) - 1] == '/')
        tmp[strlen(tmp) - 1] = 0;
    if (strlen(tmp) >= sizeof r->mdns_iface || strlen(tmp) >= 16 || strpbrk(tmp, "/:@ ")) {
        err_set(err, errlen, _("registry URL %s: want mdns or mdns://IFACE, an interface name such as lo or "
                "eth0"), url);
        return -1;
    }
    if (*tmp && !if_nametoindex(tmp)) { /* a server would otherwise retry it for ever */
        err_set(err, errlen, _("registry URL %s: interface %s: %s (see `ip link`)"), url, tmp, strerror(errno));
        return -1;
    }
    registry_copy(r->mdns_iface, sizeof r->mdns_iface, tmp);
    r->mdns_wait_ms = 1000;
    char *save = NULL;
    for (char *o = q ? strtok_r(q, "&", &save) : NULL; o; o = strtok_r(NULL, "&", &save)) {
        if (strncmp(o, "wait=", 5) != 0 || !seconds(o + 5, 100, 10000, &r->mdns_wait_ms)) {
            err_set(err, errlen, _("registry URL %s: \"%s\": mDNS takes one option, wait=MS, how long a listing "
                    "collects answers (100 to 10000 ms)"), url, o);
            return -1;
        }
    }
    return 0;
}

registry *registry_new(const char *url, const registry_auth *auth, char *err, size_t errlen)
{
    registry *r = calloc(1, sizeof *r);
    if (!r) {
        err_set(err, errlen, _("out of memory"));
        return NULL;
    }
    r->passing_only = true;
    r->url = dup(url);
    if (auth) {
        r->token = dup(auth->token);
        r->user = dup(auth->user);
    }
    const char *rest;
    if (!url || strcmp(url, "none") == 0 || !*url) {
        r->kind = REGISTRY_NONE;
        r->be = &none_backend;
        return r;
    } else if (strcmp(url, "mdns") == 0 || strncmp(url, "mdns://", 7) == 0 || strncmp(url, "mdns?", 5) == 0) {
        r->kind = REGISTRY_MDNS;
        r->be = &registry_mdns_backend;
        if (parse_mdns(r, url, err, errlen) < 0)
            goto fail;
        return r;
    } else if (strncmp(url, "etcd://", 7) == 0) {
        r->kind = REGISTRY_ETCD;
        r->be = &registry_etcd_backend;
        rest = url + 7;
    } else if (strncmp(url, "consul://", 9) == 0) {
        r->kind = REGISTRY_CONSUL;
        r->be = &registry_consul_backend;
        rest = url + 9;
    } else if (strncmp(url, "dns://", 6) == 0) {
        r->kind = REGISTRY_DNS;
        r->be = &registry_dns_backend;
        rest = url + 6;
    } else {
        err_set(err, errlen, _("registry URL %s: want etcd://HOST:PORT[,HOST:PORT...], consul://HOST:PORT, "
                             "dns://HOST:PORT[/NAME.service.consul], mdns[://IFACE] or none"), url);
        goto fail;
    }
    if (r->user && !strchr(r->user, ':')) {
        err_set(err, errlen, _("etcd user %s: want NAME:PASSWORD"), r->user);
        goto fail;
    }
    char tmp[1024];
    registry_copy(tmp, sizeof tmp, rest);
    char *q = r->kind == REGISTRY_DNS ? strchr(tmp, '/') : NULL;
    if (q) /* the name to ask for, which the DNS backend reads from the URL */
        *q = 0;
    if ((q = strchr(tmp, '?'))) {
        *q++ = 0;
        if (parse_options(r, url, q, err, errlen) < 0)
            goto fail;
    }
    char *save = NULL;
    while (*tmp && tmp[strlen(tmp) - 1] == '/')
        tmp[strlen(tmp) - 1] = 0;
    for (char *e = strtok_r(tmp, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        char host[256], e2[200];
        int port;
        if (net_split(e, host, sizeof host, &port, e2, sizeof e2) < 0) {
            err_set(err, errlen, _("registry URL %s: %s"), url, e2);
            goto fail;
        }
        if (r->nend == REGISTRY_MAX_ENDPOINTS || (r->kind != REGISTRY_ETCD && r->nend == 1)) {
            err_set(err, errlen, _("registry URL %s: too many endpoints"), url);
            goto fail;
        }
        if (!(r->endpoints[r->nend++] = strdup(e))) {
            err_set(err, errlen, _("out of memory"));
            goto fail;
        }
    }
    if (r->nend == 0) {
        err_set(err, errlen, _("registry URL %s: no HOST:PORT"), url);
        goto fail;
    }
    return r;
fail:
    registry_free(r);
    return NULL;
}

void registry_free(registry *r)
{
    if (!r)
        return;
    registry_mdns_free(r);
    for (size_t i = 0; i < r->nend; i++)
        free(r->endpoints[i]);
    free(r->url);
    free(r->token);
    free(r->user);
    free(r->etcd_token);
    free(r);
}

registry_kind registry_get_kind(const registry *r) { return r->kind; }

void registry_set_cancel(registry *r, const atomic_bool *flag) { r->cancel = flag; }

void registry_set_passing_only(registry *r, bool passing_only) { r->passing_only = passing_only; }

bool registry_instance_usable(const registry_instance *in)
{
    return !in->status[0] || strcmp(in->status, "passing") == 0;
}

int registry_check_fits(const registry *r, const char *protocol, char *err, size_t errlen)
{
    if (r->kind != REGISTRY_CONSUL || r->check != CHECK_GRPC || (protocol && strcmp(protocol, "grpc") == 0))
        return 0;
    err_set(err, errlen, _("registry URL %s: check=grpc asks the gRPC health service, which a %s server does not "
            "serve (its check would never pass); use check=tcp or check=ttl"), r->url, protocol ? protocol : "?");
    return -1;
}

/* ---- names: the one check of what a registration names ---- */

/* -1 with the reason in err when service breaks the rules about '/': it may begin with
 * '/', but not end with one, and no part between two '/' may be empty, "." or "..". */
static int check_slashes(const char *service, const char *shown, char *err, size_t errlen)
{
    size_t len = strlen(service);
    if (service[len - 1] == '/') {
        err_set(err, errlen, _("service name \"%s\" ends with '/': its etcd key would read %s/HOST:PORT, "
                "where the empty part makes the key ambiguous; drop the last '/'"), shown, shown);
        return -1;
    }
    if (strstr(service, "//")) {
        err_set(err, errlen, _("service name \"%s\" has '//': an empty part between two '/' makes etcd's "
                "keys ambiguous, and HTTP paths (Consul's) fold it into one '/'; write a single '/'"), shown);
        return -1;
    }
    for (const char *p = service; *p;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            err_set(err, errlen, _("service name \"%s\" has the part \"%.*s\" between '/': HTTP paths drop "
                    "\".\" and fold \"..\" (Consul would be asked about another name); use other words"),
                    shown, (int)n, p);
            return -1;
        }
        p += n + (end != NULL);
    }
    return 0;
}

int registry_check_names(const char *service, const char *addr, const char *protocol, char *err, size_t errlen)
{
    char shown[4 * REGISTRY_NAME_MAX + 8];
    if (service) {
        size_t len = strlen(service);
        esc_str(shown, sizeof shown, service);
        if (!len) {
            err_set(err, errlen, _("the service name is empty: give one, e.g. hello or /etcd3_naming/hello"));
            return -1;
        }
        if (len > REGISTRY_NAME_MAX) {
            err_set(err, errlen, _("the service name is %zu bytes long; at most %d fit"), len, REGISTRY_NAME_MAX);
            return -1;
        }
        for (size_t i = 0; i < len;) {
            const unsigned char *u = (const unsigned char *)service + i;
            size_t n = esc_utf8_len(u, len - i);
            if (!n) {
                err_set(err, errlen, _("service name \"%s\" is not valid UTF-8 text (byte %zu)"), shown, i + 1);
                return -1;
            }
            if (u[0] < 0x20 || u[0] == 0x7f || (n == 2 && u[0] == 0xc2 && u[1] < 0xa0)) {
                err_set(err, errlen, _("service name \"%s\" has a control character at byte %zu; a name is "
                        "text that can be printed"), shown, i + 1);
                return -1;
            }
            if (u[0] == ' ') {
                err_set(err, errlen, _("service name \"%s\" has a space at byte %zu; join words with '-' "
                        "or '_'"), shown, i + 1);
                return -1;
            }
            i += n;
        }
        if (check_slashes(service, shown, err, errlen) < 0)
            return -1;
    }
    if (addr) {
        char host[REGISTRY_NAME_MAX + 1], why[300], a[4 * 128 + 8];
        int port;
        esc_str(a, sizeof a, addr);
        if (strlen(addr) >= sizeof ((registry_instance *)0)->addr) {
            err_set(err, errlen, _("address \"%s\" is too long for HOST:PORT"), a);
            return -1;
        }
        if (net_split(addr, host, sizeof host, &port, why, sizeof why) < 0 || port < 1 ||
            strpbrk(addr, "/ ") || !esc_clean(addr, strlen(addr))) {
            err_set(err, errlen, _("address \"%s\" is not HOST:PORT (a host, ':' and a port from 1 to 65535, "
                    "e.g. 127.0.0.1:50051)"), a);
            return -1;
        }
    }
    if (protocol) {
        static const char *const known[] = {"gob", "json", "grpc", "http"};
        for (size_t i = 0; i < sizeof known / sizeof *known; i++)
            if (strcmp(protocol, known[i]) == 0)
                return 0;
        char p[4 * 16 + 8];
        err_set(err, errlen, _("protocol \"%s\" is unknown: want gob, json, grpc or http"),
                esc_bytes(p, sizeof p, protocol, strnlen(protocol, 16)));
        return -1;
    }
    return 0;
}

int registry_check_service(const registry *r, const char *service, char *err, size_t errlen)
{
    if (registry_check_names(service, NULL, NULL, err, errlen) < 0)
        return -1;
    return r->be->check_name ? r->be->check_name(service, err, errlen) : 0;
}

int registry_register(registry *r, const char *service, const char *addr, const char *protocol,
                      int ttl, registry_reg *reg, char *err, size_t errlen)
{
    memset(reg, 0, sizeof *reg);
    if (registry_check_names(service, addr, protocol, err, errlen) < 0 ||
        (r->kind != REGISTRY_DNS && registry_check_service(r, service, err, errlen) < 0))
        return -1; /* DNS refuses every registration, for a reason that comes first */
    if (ttl < 1) {
        err_set(err, errlen, _("registry: the TTL must be at least 1 second"));
        return -1;
    }
    if (registry_check_fits(r, protocol, err, errlen) < 0)
        return -1;
    registry_copy(reg->service, sizeof reg->service, service);
    registry_copy(reg->addr, sizeof reg->addr, addr);
    registry_copy(reg->protocol, sizeof reg->protocol, protocol);
    reg->ttl = ttl;
    reg->check = r->check;
    reg->interval = r->interval;
    reg->deregister = r->deregister;
    return r->be->add(r, reg, err, errlen);
}

int registry_keepalive(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    return r->be->keepalive(r, reg, err, errlen);
}

int registry_deregister(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    return r->be->deregister(r, reg, err, errlen);
}

int registry_list(registry *r, const char *service, registry_instance **out, size_t *n,
                  int64_t *revision, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (revision)
        *revision = 0;
    r->list_left_out = 0;
    if (service && *service && registry_check_service(r, service, err, errlen) < 0)
        return -1;
    return r->be->list(r, service, out, n, revision, err, errlen);
}

size_t registry_list_left_out(const registry *r)
{
    return r->list_left_out;
}

int registry_services(registry *r, buf *out, char *err, size_t errlen)
{
    return r->be->services(r, out, err, errlen);
}

int registry_lease_ttl(registry *r, int64_t lease, int64_t *ttl, char *err, size_t errlen)
{
    if (!r->be->lease_ttl) {
        err_set(err, errlen, _("only etcd has leases"));
        return -1;
    }
    return r->be->lease_ttl(r, lease, ttl, err, errlen);
}

/* ---- a watch: its thread runs the backend's watch loop on a registry of its own ---- */

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
        err_set(err, errlen, _("registry none: nothing to watch"));
        return NULL;
    }
    if (r->kind == REGISTRY_CONSUL && (!service || !*service)) {
        err_set(err, errlen, _("consul: name the service to watch"));
        return NULL;
    }
    if (service && *service && registry_check_service(r, service, err, errlen) < 0)
        return NULL;
    registry_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->q = calloc(REGISTRY_WATCH_QUEUE, sizeof *w->q))) {
        free(w);
        err_set(err, errlen, _("out of memory"));
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
        err_set(err, errlen, _("cannot start the watch thread"));
        goto fail;
    }
    w->started = true;
    return w;
fail:
    registry_watch_free(w);
    return NULL;
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

/* ---- credentials ---- */

int registry_creds_pick(registry_creds *c, const char *token, const char *token_file, const char *user,
                        const char *user_file, char *err, size_t errlen)
{
    char why[400];
    memset(c, 0, sizeof *c);
    int t = secret_pick(token, token_file, "WB_REGISTRY_TOKEN", c->token, sizeof c->token, why, sizeof why);
    if (t < 0) {
        err_set(err, errlen, "--registry-token: %s", why);
        return -1;
    }
    int u = secret_pick(user, user_file, "WB_REGISTRY_USER", c->user, sizeof c->user, why, sizeof why);
    if (u < 0) {
        err_set(err, errlen, "--registry-user: %s", why);
        return -1;
    }
    c->auth.token = t ? c->token : NULL;
    c->auth.user = u ? c->user : NULL;
    return 0;
}

int registry_creds_export(const registry_creds *c)
{
    if (c->auth.token && setenv("WB_REGISTRY_TOKEN", c->auth.token, 1) < 0)
        return -1;
    if (c->auth.user && setenv("WB_REGISTRY_USER", c->auth.user, 1) < 0)
        return -1;
    return 0;
}
