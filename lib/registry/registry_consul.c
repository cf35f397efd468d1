/* registry_consul.c -- the Consul backend over the agent's HTTP API: the registration
 * body with its health check, the health and catalog parsers, and the watch loop made of
 * blocking queries. */
#include "registry/registry_int.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "base/net.h"
#include "wire/jsonscan.h"

enum {
    CONSUL_WAIT_S = 10,          /* a blocking query's wait */
    CONSUL_MIN_GAP_MS = 100,     /* between two queries, always */
    CONSUL_IDLE_FIRST_MS = 250,  /* after an early answer at the same index, doubling... */
    CONSUL_IDLE_MAX_MS = 5000,   /* ... up to this */
    CONSUL_MAX_HEALTH = 64 << 20, /* bytes of one health reply (read an entry at a time) */
    /* the instances a watch keeps of one reply, to see a change to any of them: about as
     * many as CONSUL_MAX_HEALTH holds (an entry is about 1 KB), 650 B each, twice */
    CONSUL_WATCH_MAX_INSTANCES = 65536,
};

/* ---- bodies and parsers ---- */

static int split_addr(const char *addr, char *host, size_t cap, int *port)
{
    return net_split(addr, host, cap, port, NULL, 0);
}

int registry_consul_register_body(const char *id, const char *service, const char *addr,
                                  const char *protocol, registry_check check, int ttl, buf *out)
{
    return registry_consul_register_body_timed(id, service, addr, protocol, check, ttl, 0, 0, out);
}

int registry_consul_register_body_timed(const char *id, const char *service, const char *addr,
                                        const char *protocol, registry_check check, int ttl, int interval,
                                        int deregister, buf *out)
{
    char host[256], d[32];
    int port;
    if (split_addr(addr, host, sizeof host, &port) < 0)
        return -1;
    if (check == CHECK_DEFAULT)
        check = strcmp(protocol, "grpc") == 0 ? CHECK_GRPC : CHECK_TCP;
    if (interval < 1)
        interval = ttl / 3 > 1 ? ttl / 3 : 1;
    if (deregister < 1)
        deregister = ttl * 3 > REGISTRY_CONSUL_MIN_DEREGISTER_S ? ttl * 3 : REGISTRY_CONSUL_MIN_DEREGISTER_S;
    cJSON *j = cJSON_CreateObject(), *tags, *meta, *c;
    if (!j)
        return -1;
    cJSON_AddStringToObject(j, "ID", id);
    cJSON_AddStringToObject(j, "Name", service);
    if ((tags = cJSON_AddArrayToObject(j, "Tags")))
        cJSON_AddItemToArray(tags, cJSON_CreateString(protocol));
    cJSON_AddStringToObject(j, "Address", host);
    cJSON_AddNumberToObject(j, "Port", port);
    if ((meta = cJSON_AddObjectToObject(j, "Meta")))
        cJSON_AddStringToObject(meta, "protocol", protocol);
    if ((c = cJSON_AddObjectToObject(j, "Check"))) {
        char name[300];
        snprintf(name, sizeof name, "%s %s", service,
                 check == CHECK_TTL ? "TTL" : check == CHECK_GRPC ? "gRPC health" : "TCP");
        cJSON_AddStringToObject(c, "Name", name);
        if (check == CHECK_TTL) {
            snprintf(d, sizeof d, "%ds", ttl);
            cJSON_AddStringToObject(c, "TTL", d);
        } else {
            if (check == CHECK_GRPC) {
                cJSON_AddStringToObject(c, "GRPC", addr);
                cJSON_AddBoolToObject(c, "GRPCUseTLS", 0);
            } else {
                cJSON_AddStringToObject(c, "TCP", addr);
            }
            snprintf(d, sizeof d, "%ds", interval);
            cJSON_AddStringToObject(c, "Interval", d);
            snprintf(d, sizeof d, "%ds", interval < 2 ? interval : 2);
            cJSON_AddStringToObject(c, "Timeout", d);
        }
        /* Consul raises less than a minute to one minute; its reaper looks every 30 s. */
        snprintf(d, sizeof d, "%ds", deregister);
        cJSON_AddStringToObject(c, "DeregisterCriticalServiceAfter", d);
    }
    return registry_json_put(out, j);
}

static int status_rank(const char *s)
{
    return !s ? 0 : strcmp(s, "critical") == 0 ? 3 : strcmp(s, "warning") == 0 ? 2 : 1;
}

/* Fills in from one health entry e (index i); -1 with the reason in err when e is not
 * the shape Consul documents: a Service object with a host and a port. */
static int health_entry(const cJSON *e, int i, registry_instance *in, char *err, size_t errlen)
{
    const cJSON *svc = cJSON_GetObjectItemCaseSensitive(e, "Service"), *ck;
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(e, "Node");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(svc, "Service");
    const cJSON *checks = cJSON_GetObjectItemCaseSensitive(e, "Checks");
    if (!cJSON_IsObject(e) || !cJSON_IsObject(svc)) {
        err_set(err, errlen, _("consul: health reply entry %d has no Service object"), i);
        return -1;
    }
    if (name && !cJSON_IsString(name)) {
        err_set(err, errlen, _("consul: health reply entry %d: Service.Service is not a string"), i);
        return -1;
    }
    if (checks && !cJSON_IsArray(checks) && !cJSON_IsNull(checks)) {
        err_set(err, errlen, _("consul: health reply entry %d: Checks is not a list"), i);
        return -1;
    }
    const char *host = registry_json_str(svc, "Address");
    if (!host || !*host)
        host = cJSON_IsObject(node) ? registry_json_str(node, "Address") : NULL;
    int64_t port = 0;
    if (!host || !*host || !registry_json_int(svc, "Port", &port) || port < 1 || port > 65535) {
        err_set(err, errlen, _("consul: health reply entry %d lacks a valid Address and Port"), i);
        return -1;
    }
    registry_copy(in->service, sizeof in->service, cJSON_IsString(name) ? name->valuestring : "");
    snprintf(in->addr, sizeof in->addr, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, (int)port);
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(svc, "Tags");
    const cJSON *t0 = cJSON_IsArray(tags) ? cJSON_GetArrayItem(tags, 0) : NULL;
    const char *proto = registry_json_str(cJSON_GetObjectItemCaseSensitive(svc, "Meta"), "protocol");
    registry_copy(in->protocol, sizeof in->protocol, proto ? proto : cJSON_IsString(t0) ? t0->valuestring : "");
    const cJSON *shown = NULL; /* the worst check; the service's own among equals */
    cJSON_ArrayForEach(ck, checks)
    {
        const char *st = registry_json_str(ck, "Status"), *sid = registry_json_str(ck, "ServiceID");
        int rank = status_rank(st), best = shown ? status_rank(registry_json_str(shown, "Status")) : 0;
        if (rank > best || (rank == best && sid && *sid))
            shown = ck;
        if (sid && *sid && !in->check[0])
            registry_copy(in->check, sizeof in->check, registry_json_str(ck, "Type"));
    }
    const char *worst = shown ? registry_json_str(shown, "Status") : NULL;
    registry_copy(in->status, sizeof in->status, worst ? worst : "passing");
    registry_copy(in->output, sizeof in->output, shown ? registry_json_str(shown, "Output") : NULL);
    return 0;
}

/* ---- the health reply, read an entry at a time ---- */

/* A health reply is one JSON list of every instance, sent whole on every change. It is
 * read as it arrives: each entry is cut out of the stream (jsonscan), parsed alone and
 * dropped, so reading costs the memory of one entry and of the instances kept, however
 * long the list. Entries past max (a listing's REGISTRY_MAX_INSTANCES, or a watch's
 * CONSUL_WATCH_MAX_INSTANCES) are checked as JSON and counted. */
typedef struct health_reader {
    buf in;                  /* the entry in progress (or a reply that is not a list) */
    jsonscan_state scan;     /* where the scan of that entry stopped */
    enum { HR_START, HR_ENTRY, HR_NEXT, HR_END, HR_RAW, HR_FAILED } state;
    registry_instance *out;  /* entries kept, grown by doubling */
    size_t n, cap, max, left_out, entries;
    uint64_t total;          /* bytes fed */
    char head[200];          /* the reply's first bytes, for messages */
    size_t nhead;
    char err[512];
} health_reader;

static void health_reader_init(health_reader *h, size_t max)
{
    memset(h, 0, sizeof *h);
    h->max = max;
    buf_init(&h->in, REGISTRY_MAX_RESPONSE);
}

static void health_reader_done(health_reader *h)
{
    buf_done(&h->in);
    free(h->out);
}

static void health_fail(health_reader *h, const char *msg)
{
    h->state = HR_FAILED;
    registry_copy(h->err, sizeof h->err, msg);
}

/* The reply is not JSON: the message quotes its start, as registry_json_parse's. */
static void health_not_json(health_reader *h)
{
    char e[512], shown[4 * 120 + 4];
    err_set(e, sizeof e, _("registry answered with something that is not JSON: %s"),
            esc_bytes(shown, sizeof shown, h->head, h->nhead > 120 ? 120 : h->nhead));
    health_fail(h, e);
}

/* One whole entry e[0..len): kept (parsed into an instance) or counted. */
static void health_take(health_reader *h, const char *e, size_t len)
{
    size_t i = h->entries++;
    if (h->n >= h->max) {
        h->left_out++;
        return;
    }
    cJSON *j = cJSON_ParseWithLength(e, len);
    if (!j) {
        health_not_json(h);
        return;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        cap = cap > h->max ? h->max : cap;
        registry_instance *more = realloc(h->out, cap * sizeof *more);
        if (!more) {
            cJSON_Delete(j);
            health_fail(h, _("out of memory"));
            return;
        }
        h->out = more;
        h->cap = cap;
    }
    memset(&h->out[h->n], 0, sizeof h->out[h->n]);
    if (health_entry(j, (int)i, &h->out[h->n], h->err, sizeof h->err) < 0)
        h->state = HR_FAILED;
    else
        h->n++;
    cJSON_Delete(j);
}

/* Whatever of the buffer can be read now. */
static void health_step(health_reader *h)
{
    while (h->state != HR_FAILED && h->state != HR_RAW) {
        const char *d = (const char *)buf_data(&h->in);
        size_t len = buf_size(&h->in), i = 0;
        if (h->state != HR_ENTRY || h->scan.i == 0) { /* between values: white space */
            while (i < len && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
                i++;
            buf_consume(&h->in, i);
            d += i;
            len -= i;
        }
        if (len == 0)
            return;
        if (h->state == HR_START) {
            if (d[0] != '[') { /* an error text, or JSON that is not a list: read it whole */
                h->state = HR_RAW;
                return;
            }
            buf_consume(&h->in, 1);
            h->state = HR_ENTRY;
            jsonscan_init(&h->scan);
        } else if (h->state == HR_ENTRY) {
            if (h->entries == 0 && h->scan.i == 0 && d[0] == ']') {
                buf_consume(&h->in, 1);
                h->state = HR_END;
                continue;
            }
            size_t s0, e0;
            char e2[200];
            int r = jsonscan_resume(&h->scan, d, len, 0, &s0, &e0, NULL, NULL, e2, sizeof e2);
            if (r == 0)
                return;
            if (r < 0) {
                health_not_json(h);
                return;
            }
            health_take(h, d + s0, e0 - s0);
            buf_consume(&h->in, e0);
            if (h->state != HR_FAILED)
                h->state = HR_NEXT;
        } else if (h->state == HR_NEXT) {
            char c = d[0];
            buf_consume(&h->in, 1);
            if (c == ',') {
                h->state = HR_ENTRY;
                jsonscan_init(&h->scan);
            } else if (c == ']') {
                h->state = HR_END;
            } else {
                health_not_json(h);
            }
        } else { /* HR_END: nothing but white space may follow */
            health_not_json(h);
        }
    }
}

/* Feeds n more bytes of the reply. Returns 0, or -1 once it cannot be read (h->err). */
static int health_feed(health_reader *h, const char *p, size_t n)
{
    if (h->state == HR_FAILED)
        return -1;
    size_t k = n < sizeof h->head - h->nhead ? n : sizeof h->head - h->nhead;
    memcpy(h->head + h->nhead, p, k);
    h->nhead += k;
    h->total += n;
    if (h->total > CONSUL_MAX_HEALTH) {
        char e[200];
        err_set(e, sizeof e, _("consul: health reply larger than %d bytes"), CONSUL_MAX_HEALTH);
        health_fail(h, e);
        return -1;
    }
    int put = buf_append(&h->in, p, n);
    if (put < 0) {
        health_fail(h, put == BUF_NO_MEMORY ? _("out of memory") : _("consul: health reply entry too large"));
        return -1;
    }
    health_step(h);
    return h->state == HR_FAILED ? -1 : 0;
}

/* The reply is complete. Returns 0 with the instances in h, or -1 with h->err. */
static int health_finish(health_reader *h)
{
    if (h->state == HR_RAW) { /* JSON that is not a list, or not JSON at all */
        cJSON *j = registry_json_parse((const char *)buf_data(&h->in), buf_size(&h->in), h->err, sizeof h->err);
        if (j)
            health_fail(h, _("consul: health reply is not a list"));
        else
            h->state = HR_FAILED;
        cJSON_Delete(j);
    } else if (h->state != HR_END && h->state != HR_FAILED) {
        health_not_json(h); /* cut short */
    }
    return h->state == HR_END ? 0 : -1;
}

/* Hands h's instances to the caller (*out, *n, *left_out) when finished well; otherwise
 * none, with the error in err. Returns 0 or -1. */
static int health_result(health_reader *h, registry_instance **out, size_t *n, size_t *left_out,
                         char *err, size_t errlen)
{
    int rc = health_finish(h);
    *out = NULL;
    *n = 0;
    if (left_out)
        *left_out = 0;
    if (rc < 0) { /* a reply that is not what Consul sends: none of it is believed */
        err_set(err, errlen, "%s", h->err);
        return -1;
    }
    if (h->n) {
        *out = h->out;
        h->out = NULL;
    }
    *n = h->n;
    if (left_out)
        *left_out = h->left_out;
    return 0;
}

int registry_consul_parse_health(const char *text, size_t len, registry_instance **out,
                                 size_t *n, size_t *left_out, char *err, size_t errlen)
{
    health_reader h;
    health_reader_init(&h, REGISTRY_MAX_INSTANCES);
    /* in pieces, as a reply comes: the buffer holds one entry, not the whole text */
    for (size_t off = 0; off < len && h.state != HR_FAILED;) {
        size_t k = len - off > 16384 ? 16384 : len - off;
        health_feed(&h, text + off, k);
        off += k;
    }
    int rc = health_result(&h, out, n, left_out, err, errlen);
    health_reader_done(&h);
    return rc;
}

int registry_consul_parse_services(const char *text, size_t len, buf *out, char *err, size_t errlen)
{
    cJSON *j = registry_json_parse(text, len, err, errlen), *e;
    if (!j)
        return -1;
    if (!cJSON_IsObject(j)) {
        err_set(err, errlen, _("consul: catalog reply is not an object"));
        cJSON_Delete(j);
        return -1;
    }
    int rc = 0;
    cJSON_ArrayForEach(e, j)
    {
        if (e->string && buf_printf(out, "%s\n", e->string) < 0)
            rc = -1;
    }
    cJSON_Delete(j);
    if (rc < 0)
        err_set(err, errlen, _("consul: too many services"));
    return rc;
}

/* ---- the backend ---- */

static int consul_request(registry *r, const char *method, const char *path, const char *body,
                          buf *resp, long *status, int64_t *index, char *err, size_t errlen)
{
    registry_http_req q;
    if (registry_http_call(r, method, path, body, resp, &q, err, errlen) < 0)
        return -1;
    *status = q.status;
    if (index)
        *index = q.index;
    return 0;
}

static void consul_http_error(long status, const char *body, size_t n, const char *what, char *err,
                              size_t errlen)
{
    char shown[4 * 200 + 4]; /* one line, escaped: it goes to logs and terminals */
    err_set(err, errlen, _("consul: %s: HTTP %ld: %s"), what, status,
            esc_bytes(shown, sizeof shown, n ? body : "", n > 200 ? 200 : n));
}

static void consul_http_error_buf(long status, const buf *resp, const char *what, char *err, size_t errlen)
{
    consul_http_error(status, (const char *)buf_data(resp), buf_size(resp), what, err, errlen);
}

/* The agent's service ID: NAME-HOST-PORT, an IPv6 host's ':' as '-'. It goes into URL
 * paths escaped (consul_id_path), so the name keeps its '/'. */
static int consul_id(registry_reg *reg, char *err, size_t errlen)
{
    char host[sizeof reg->addr];
    int port;
    if (net_split(reg->addr, host, sizeof host, &port, err, errlen) < 0)
        return -1;
    for (char *p = host; *p; p++)
        if (*p == ':')
            *p = '-';
    snprintf(reg->id, sizeof reg->id, "%s-%s-%d", reg->service, host, port);
    return 0;
}

/* path = prefix + the ID escaped for a URL path ('/' as %2F, which Consul decodes back). */
static void consul_id_path(char *path, size_t cap, const char *prefix, const char *id)
{
    char esc[3 * sizeof ((registry_reg *)0)->id + 1];
    registry_http_escape(id, esc, sizeof esc);
    snprintf(path, cap, "%s%s", prefix, esc);
}

/* Consul's HTTP server cleans a request's path after decoding it (Go's ServeMux), so
 * /v1/health/service/%2Fa is answered with a redirect to the service "a": a name that
 * begins with '/' could be registered but never looked up, nor its ID deregistered. */
static int consul_check_name(const char *service, char *err, size_t errlen)
{
    if (service[0] != '/')
        return 0;
    err_set(err, errlen, _("consul: service name \"%s\" begins with '/': Consul's HTTP API cleans the path "
            "/v1/health/service//NAME into another name, so it could never be looked up; with Consul "
            "name it %s"), service, service + 1);
    return -1;
}

/* Passes the TTL check, or (other checks) asks the agent whether it still knows the service. */
static int consul_keepalive(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    char path[1200];
    long status;
    bool ttlcheck = reg->check == CHECK_TTL;
    consul_id_path(path, sizeof path, ttlcheck ? "/v1/agent/check/pass/service:" : "/v1/agent/service/", reg->id);
    buf resp;
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int rc = -1;
    if (consul_request(r, ttlcheck ? "PUT" : "GET", path, NULL, &resp, &status, NULL, err, errlen) == 0) {
        buf_putc(&resp, 0);
        const char *t = (const char *)buf_data(&resp);
        if (status == 200)
            rc = 1;
        else if (status == 404 || (t && (strstr(t, "Unknown check") || strstr(t, "does not exist") ||
                                         strstr(t, "unknown service"))))
            rc = 0;
        else
            consul_http_error_buf(status, &resp, ttlcheck ? "pass check" : "service", err, errlen);
    }
    buf_done(&resp);
    return rc;
}

static int consul_add(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    if (consul_id(reg, err, errlen) < 0)
        return -1;
    buf body, resp;
    buf_init(&body, 65536);
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    long status = 0;
    int rc = -1;
    if (registry_consul_register_body_timed(reg->id, reg->service, reg->addr, reg->protocol, reg->check,
                                            reg->ttl, reg->interval, reg->deregister, &body) < 0 ||
        buf_putc(&body, 0) < 0)
        err_set(err, errlen, _("consul: cannot build the registration"));
    else if (consul_request(r, "PUT", "/v1/agent/service/register", (const char *)buf_data(&body),
                            &resp, &status, NULL, err, errlen) < 0)
        ;
    else if (status != 200)
        consul_http_error_buf(status, &resp, "register", err, errlen);
    else
        rc = 0;
    if (rc == 0 && reg->check == CHECK_TTL) /* passing from the start */
        rc = consul_keepalive(r, reg, err, errlen) == 1 ? 0 : -1;
    buf_done(&body);
    buf_done(&resp);
    return rc;
}

static int consul_deregister(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    char path[1200];
    long status;
    consul_id_path(path, sizeof path, "/v1/agent/service/deregister/", reg->id);
    buf resp;
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int rc = -1;
    if (consul_request(r, "PUT", path, NULL, &resp, &status, NULL, err, errlen) == 0) {
        if (status == 200 || status == 404)
            rc = 0;
        else
            consul_http_error_buf(status, &resp, "deregister", err, errlen);
    }
    buf_done(&resp);
    return rc;
}

static size_t health_write(char *p, size_t size, size_t n, void *ctx)
{
    return health_feed(ctx, p, size * n) < 0 ? 0 : size * n;
}

/* GET /v1/health/service/NAME; a blocking query when index > 0 (waiting at most wait_s
 * for a change past it). The reply, compressed when the agent will, is read an entry at
 * a time (health_reader), its first max instances kept. Its X-Consul-Index goes into
 * *revision. */
static int consul_health(registry *r, const char *service, int64_t index, int wait_s, size_t max,
                         registry_instance **out, size_t *n, int64_t *revision, char *err, size_t errlen)
{
    char esc[600], path[600];
    registry_http_escape(service, esc, sizeof esc);
    int len = snprintf(path, sizeof path, "/v1/health/service/%s%s", esc,
                       r->passing_only ? "?passing=1" : "?stale");
    if (index > 0 && len > 0 && (size_t)len < sizeof path)
        snprintf(path + len, sizeof path - (size_t)len, "&index=%" PRId64 "&wait=%ds", index, wait_s);
    health_reader h;
    health_reader_init(&h, max);
    registry_http_req q = {.method = "GET", .path = path, .write = health_write, .write_ctx = &h,
                           .timeout_ms = index > 0 ? (wait_s + 5) * 1000L : REGISTRY_TIMEOUT_MS,
                           .compressed = true};
    int rc = -1;
    if (registry_http_do(r, &q, err, errlen) < 0) {
        if (h.state == HR_FAILED) /* the reader's reason, not libcurl's */
            err_set(err, errlen, "%s", h.err);
    } else if (q.status != 200) {
        consul_http_error(q.status, h.head, h.nhead, "health", err, errlen);
    } else if (health_result(&h, out, n, &r->list_left_out, err, errlen) == 0) {
        if (revision)
            *revision = q.index;
        rc = 0;
    }
    health_reader_done(&h);
    return rc;
}

static int consul_list(registry *r, const char *service, registry_instance **out, size_t *n,
                       int64_t *revision, char *err, size_t errlen)
{
    if (!service || !*service) {
        err_set(err, errlen, _("consul: name a service (registry_services lists them)"));
        return -1;
    }
    return consul_health(r, service, 0, 0, REGISTRY_MAX_INSTANCES, out, n, revision, err, errlen);
}

static int consul_services(registry *r, buf *out, char *err, size_t errlen)
{
    buf resp;
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    long status;
    int rc = -1;
    if (consul_request(r, "GET", "/v1/catalog/services", NULL, &resp, &status, NULL, err, errlen) < 0)
        ;
    else if (status != 200)
        consul_http_error_buf(status, &resp, "catalog", err, errlen);
    else
        rc = registry_consul_parse_services((const char *)buf_data(&resp), buf_size(&resp), out,
                                            err, errlen);
    buf_done(&resp);
    return rc;
}

/* ---- the watch loop ---- */

/* The index to send next, as Consul asks of its clients: start over (0) when it went
 * backwards or is not positive. */
static int64_t consul_next_index(int64_t index, int64_t next)
{
    return next < index || next <= 0 ? 0 : next;
}

/* How long to wait before the next blocking query. An answer with a new index is followed
 * at once (but never more than ten queries a second); one that came back early with the same
 * index (a misbehaving agent, or an index reset) waits *idle, which doubles each time up to
 * CONSUL_IDLE_MAX_MS and starts again at the next change. */
static uint64_t consul_pause(bool changed, bool early, uint64_t *idle)
{
    if (changed || !early) {
        *idle = 0;
        return CONSUL_MIN_GAP_MS;
    }
    *idle = *idle == 0 ? CONSUL_IDLE_FIRST_MS : *idle * 2 > CONSUL_IDLE_MAX_MS ? CONSUL_IDLE_MAX_MS : *idle * 2;
    return *idle;
}

/* Blocking queries on the service's health, each answer diffed with the one before. A
 * failed query (unreachable agent, an error status, a reply that is not what Consul sends)
 * keeps the instances known. */
static void consul_watch(registry_watch *w)
{
    registry_instance *known = NULL, *now = NULL;
    size_t nknown = 0, nnow = 0;
    int64_t index = 0;
    long backoff = 250;
    uint64_t idle = 0;
    registry_outage out = {0};
    bool first = true;
    while (!registry_stopped(&w->stop)) {
        char err[512];
        int64_t next = 0;
        uint64_t t0 = clock_now_ms();
        if (consul_health(w->r, w->service, index, CONSUL_WAIT_S, CONSUL_WATCH_MAX_INSTANCES, &now, &nnow,
                          &next, err, sizeof err) < 0) {
            if (registry_watch_retry(w, &out, err, &backoff))
                break;
            continue;
        }
        registry_watch_back(w, &out);
        backoff = 250;
        /* A blocking query (index > 0) that returns well before its wait, at the same
         * index, did not wait for anything. */
        bool early = clock_now_ms() - t0 < CONSUL_WAIT_S * 1000 / 2;
        bool changed = index == 0 || next != index;
        index = consul_next_index(index, next);
        /* the first answer is news unless it is what the caller listed at the watch's start */
        if (!first || next > w->revision || w->revision == 0)
            registry_watch_diff(w, known, nknown, now, nnow, next);
        first = false;
        free(known);
        known = now;
        nknown = nnow;
        now = NULL;
        uint64_t pause = index == 0 ? 1000 : consul_pause(changed, early, &idle);
        if (registry_stop_sleep(&w->stop, pause))
            break;
    }
    free(known);
    free(now);
}

const registry_backend registry_consul_backend = {
    .add = consul_add,
    .keepalive = consul_keepalive,
    .deregister = consul_deregister,
    .list = consul_list,
    .services = consul_services,
    .check_name = consul_check_name,
    .watch = consul_watch,
};
