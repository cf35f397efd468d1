/* registry.c -- service registry client over libcurl: etcd v3 JSON gateway and Consul agent API. */
#include "registry/registry.h"

#include "base/clock.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "base/err.h"
#include "base/log.h"
#include "base/net.h"
#include "wire/jsonscan.h"

enum { MAX_ENDPOINTS = 16, WATCH_QUEUE = 1024, CONSUL_WAIT_S = 10 };

struct registry {
    registry_kind kind;
    char *url;
    char *endpoints[MAX_ENDPOINTS];
    size_t nend, cur;
    char *token, *user;
    char *etcd_token; /* from /v3/auth/authenticate */
    registry_check check;
    bool passing_only;
    const atomic_bool *cancel;
};

/* ======================= small helpers ======================= */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* An int64 member that the gateway sends as a string (or a small number). */
static bool json_int(const cJSON *o, const char *name, int64_t *v)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsString(j) && j->valuestring) {
        char *end;
        errno = 0;
        long long x = strtoll(j->valuestring, &end, 10);
        if (errno || end == j->valuestring || *end)
            return false;
        *v = x;
        return true;
    }
    if (cJSON_IsNumber(j)) {
        *v = (int64_t)j->valuedouble;
        return true;
    }
    return false;
}

static const char *json_str(const cJSON *o, const char *name)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

static cJSON *parse_json(const char *text, size_t len, char *err, size_t errlen)
{
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j)
        err_set(err, errlen, "registry answered with something that is not JSON: %.*s",
                (int)(len > 120 ? 120 : len), text);
    return j;
}

/* etcd's error reply: {"error":"...","message":"...","code":N}. */
static bool etcd_error(const cJSON *root, char *err, size_t errlen)
{
    const char *m = json_str(root, "message");
    if (!m)
        m = json_str(root, "error");
    if (!m)
        return false;
    err_set(err, errlen, "etcd: %s", m);
    return true;
}

static int buf_json(buf *out, cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!s)
        return -1;
    int rc = buf_puts(out, s);
    free(s);
    return rc;
}

/* ======================= base64 ======================= */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int registry_b64_encode(const void *p, size_t n, buf *out)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], i + 1 < n ? B64[(v >> 6) & 63] : '=',
                     i + 2 < n ? B64[v & 63] : '='};
        if (buf_append(out, q, 4) < 0)
            return -1;
    }
    return 0;
}

int registry_b64_decode(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        const char *c = strchr(B64, *s);
        if (!c || !*s)
            return -1;
        acc = (acc << 6) | (uint32_t)(c - B64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap)
                return -1;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (cap == 0)
        return -1;
    out[n] = 0;
    return (int)n;
}

/* ======================= etcd bodies and parsers ======================= */

int registry_etcd_value(const char *addr, const char *protocol, buf *out)
{
    cJSON *j = cJSON_CreateObject(), *md;
    if (!j)
        return -1;
    cJSON_AddNumberToObject(j, "Op", 0);
    cJSON_AddStringToObject(j, "Addr", addr);
    md = cJSON_AddObjectToObject(j, "Metadata");
    if (md)
        cJSON_AddStringToObject(md, "protocol", protocol);
    return buf_json(out, j);
}

static char *b64_of(const char *s, size_t n)
{
    buf b;
    buf_init(&b, 0);
    if (registry_b64_encode(s, n, &b) < 0 || buf_putc(&b, 0) < 0) {
        buf_done(&b);
        return NULL;
    }
    char *r = buf_take(&b);
    buf_done(&b);
    return r;
}

int registry_etcd_put_body(const char *service, const char *addr, const char *protocol,
                           int64_t lease, buf *out)
{
    char key[300], num[32];
    snprintf(key, sizeof key, "%s/%s", service, addr);
    buf v;
    buf_init(&v, 4096);
    char *k64 = b64_of(key, strlen(key)), *v64 = NULL;
    if (registry_etcd_value(addr, protocol, &v) == 0)
        v64 = b64_of((const char *)buf_data(&v), buf_size(&v));
    buf_done(&v);
    int rc = -1;
    cJSON *j = cJSON_CreateObject();
    if (k64 && v64 && j) {
        cJSON_AddStringToObject(j, "key", k64);
        cJSON_AddStringToObject(j, "value", v64);
        snprintf(num, sizeof num, "%" PRId64, lease);
        cJSON_AddStringToObject(j, "lease", num);
        rc = buf_json(out, j);
        j = NULL;
    }
    cJSON_Delete(j);
    free(k64);
    free(v64);
    return rc;
}

int registry_etcd_range_body(const char *service, int64_t start_revision, bool watch, buf *out)
{
    char key[300], end[300];
    size_t kn;
    if (service && *service) {
        snprintf(key, sizeof key, "%s/", service);
        kn = strlen(key);
        memcpy(end, key, kn + 1);
        end[kn - 1] = '/' + 1; /* the prefix's end: "NAME0" */
    } else {
        key[0] = end[0] = 0; /* "\0" to "\0": every key */
        kn = 1;
    }
    char *k64 = b64_of(key, kn), *e64 = b64_of(end, kn);
    cJSON *j = cJSON_CreateObject(), *req = j;
    int rc = -1;
    if (k64 && e64 && j) {
        if (watch)
            req = cJSON_AddObjectToObject(j, "create_request");
        if (req) {
            cJSON_AddStringToObject(req, "key", k64);
            cJSON_AddStringToObject(req, "range_end", e64);
            if (start_revision > 0) {
                char num[32];
                snprintf(num, sizeof num, "%" PRId64, start_revision);
                cJSON_AddStringToObject(req, "start_revision", num);
            }
        }
        rc = buf_json(out, j);
        j = NULL;
    }
    cJSON_Delete(j);
    free(k64);
    free(e64);
    return rc;
}

int registry_etcd_parse_grant(const char *text, size_t len, int64_t *lease, int64_t *ttl,
                              char *err, size_t errlen)
{
    cJSON *j = parse_json(text, len, err, errlen);
    if (!j)
        return -1;
    int rc = -1;
    if (etcd_error(j, err, errlen))
        ;
    else if (json_str(j, "error") || !json_int(j, "ID", lease) || !json_int(j, "TTL", ttl))
        err_set(err, errlen, "etcd: lease grant reply without ID and TTL");
    else
        rc = 0;
    cJSON_Delete(j);
    return rc;
}

int registry_etcd_parse_keepalive(const char *text, size_t len, int64_t *ttl, char *err,
                                  size_t errlen)
{
    cJSON *j = parse_json(text, len, err, errlen);
    if (!j)
        return -1;
    int rc = -1;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result");
    if (cJSON_IsObject(res)) {
        *ttl = 0;
        /* A lost lease comes back without TTL (zero is left out of the JSON). */
        rc = json_int(res, "TTL", ttl) && *ttl > 0 ? 1 : 0;
    } else if (!etcd_error(j, err, errlen) &&
               !etcd_error(cJSON_GetObjectItemCaseSensitive(j, "error"), err, errlen)) {
        err_set(err, errlen, "etcd: keepalive reply without a result");
    }
    cJSON_Delete(j);
    return rc;
}

int registry_etcd_instance(const char *key, const char *value, registry_instance *inst)
{
    memset(inst, 0, sizeof *inst);
    const char *slash = strrchr(key, '/');
    if (!slash)
        return -1;
    snprintf(inst->service, sizeof inst->service, "%.*s", (int)(slash - key), key);
    copy_str(inst->addr, sizeof inst->addr, slash + 1);
    cJSON *j = value ? cJSON_Parse(value) : NULL;
    if (j) {
        const char *a = json_str(j, "Addr");
        if (a && *a)
            copy_str(inst->addr, sizeof inst->addr, a);
        const char *p = json_str(cJSON_GetObjectItemCaseSensitive(j, "Metadata"), "protocol");
        if (p)
            copy_str(inst->protocol, sizeof inst->protocol, p);
        cJSON_Delete(j);
    }
    return 0;
}

/* Decodes a kv object's key and value (base64) into inst, with its lease. */
static int etcd_kv(const cJSON *kv, registry_instance *inst, int64_t *mod_revision)
{
    char k[1024], *v = malloc(65536);
    if (!v)
        return -1;
    const char *k64 = json_str(kv, "key"), *v64 = json_str(kv, "value");
    int rc = -1;
    if (k64 && registry_b64_decode(k64, k, sizeof k) >= 0) {
        if (!v64 || registry_b64_decode(v64, v, 65536) < 0)
            v[0] = 0;
        if (registry_etcd_instance(k, v[0] ? v : NULL, inst) == 0) {
            json_int(kv, "lease", &inst->lease);
            if (mod_revision)
                json_int(kv, "mod_revision", mod_revision);
            rc = 0;
        }
    }
    free(v);
    return rc;
}

int registry_etcd_parse_range(const char *text, size_t len, registry_instance **out, size_t *n,
                              int64_t *revision, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    cJSON *j = parse_json(text, len, err, errlen);
    if (!j)
        return -1;
    if (etcd_error(j, err, errlen)) {
        cJSON_Delete(j);
        return -1;
    }
    if (revision && !json_int(cJSON_GetObjectItemCaseSensitive(j, "header"), "revision", revision))
        *revision = 0;
    const cJSON *kvs = cJSON_GetObjectItemCaseSensitive(j, "kvs"), *kv;
    int count = cJSON_IsArray(kvs) ? cJSON_GetArraySize(kvs) : 0;
    if (count > REGISTRY_MAX_INSTANCES)
        count = REGISTRY_MAX_INSTANCES;
    if (count > 0) {
        *out = calloc((size_t)count, sizeof **out);
        if (!*out) {
            err_set(err, errlen, "out of memory");
            cJSON_Delete(j);
            return -1;
        }
        cJSON_ArrayForEach(kv, kvs)
        {
            if (*n < (size_t)count && etcd_kv(kv, &(*out)[*n], NULL) == 0)
                (*n)++;
        }
    }
    cJSON_Delete(j);
    return 0;
}

/* ======================= etcd watch stream ======================= */

void registry_etcd_stream_init(registry_etcd_stream *s)
{
    memset(s, 0, sizeof *s);
    buf_init(&s->in, REGISTRY_MAX_RESPONSE);
}

void registry_etcd_stream_done(registry_etcd_stream *s)
{
    if (s)
        buf_done(&s->in);
}

static int stream_message(registry_etcd_stream *s, const char *p, size_t n, registry_event_fn fn,
                          void *ctx, char *err, size_t errlen)
{
    cJSON *j = parse_json(p, n, err, errlen);
    if (!j)
        return -1;
    int rc = -1;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result"), *ev;
    if (!cJSON_IsObject(res)) {
        if (!etcd_error(j, err, errlen) &&
            !etcd_error(cJSON_GetObjectItemCaseSensitive(j, "error"), err, errlen))
            err_set(err, errlen, "etcd: watch message without a result");
        goto done;
    }
    int64_t rev = 0;
    if (json_int(cJSON_GetObjectItemCaseSensitive(res, "header"), "revision", &rev) && rev > s->revision)
        s->revision = rev;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "created")))
        s->created = true;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "canceled"))) {
        s->canceled = true;
        json_int(res, "compact_revision", &s->compacted);
        const char *why = json_str(res, "cancel_reason");
        err_set(err, errlen, "etcd cancelled the watch%s%s", why ? ": " : "", why ? why : "");
        goto done;
    }
    cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(res, "events"))
    {
        registry_event e;
        memset(&e, 0, sizeof e);
        const char *type = json_str(ev, "type"); /* PUT is the default, left out */
        e.type = type && strcmp(type, "DELETE") == 0 ? REGISTRY_EV_DELETE : REGISTRY_EV_PUT;
        if (etcd_kv(cJSON_GetObjectItemCaseSensitive(ev, "kv"), &e.inst, &e.revision) < 0)
            continue;
        if (e.revision > s->revision)
            s->revision = e.revision;
        if (fn)
            fn(ctx, &e);
    }
    rc = 0;
done:
    cJSON_Delete(j);
    return rc;
}

int registry_etcd_stream_feed(registry_etcd_stream *s, const char *p, size_t n,
                              registry_event_fn fn, void *ctx, char *err, size_t errlen)
{
    int put = buf_append(&s->in, p, n);
    if (put < 0) {
        if (put == BUF_NO_MEMORY)
            err_set(err, errlen, "etcd: out of memory for a watch message");
        else
            err_set(err, errlen, "etcd: watch message larger than %d bytes", REGISTRY_MAX_RESPONSE);
        return -1;
    }
    for (;;) {
        const char *d = (const char *)buf_data(&s->in);
        size_t len = buf_size(&s->in), start, end;
        char e2[200];
        int r = jsonscan(d, len, 0, &start, &end, NULL, NULL, e2, sizeof e2);
        if (r == 0) {
            /* white space only: drop it */
            size_t i = 0;
            while (i < len && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
                i++;
            if (i == len)
                buf_clear(&s->in);
            return 0;
        }
        if (r < 0) {
            err_set(err, errlen, "etcd: malformed watch stream: %s", e2);
            return -1;
        }
        int rc = stream_message(s, d + start, end - start, fn, ctx, err, errlen);
        buf_consume(&s->in, end);
        if (rc < 0)
            return -1;
    }
}

/* ======================= Consul bodies and parsers ======================= */

static int split_addr(const char *addr, char *host, size_t cap, int *port)
{
    return net_split(addr, host, cap, port, NULL, 0);
}

int registry_consul_register_body(const char *id, const char *service, const char *addr,
                                  const char *protocol, registry_check check, int ttl, buf *out)
{
    char host[256], d[32];
    int port;
    if (split_addr(addr, host, sizeof host, &port) < 0)
        return -1;
    if (check == CHECK_DEFAULT)
        check = strcmp(protocol, "grpc") == 0 ? CHECK_GRPC : CHECK_TCP;
    int interval = ttl / 3 > 1 ? ttl / 3 : 1;
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
        /* Consul's reaper accepts no less than one minute. */
        snprintf(d, sizeof d, "%ds", ttl * 3 > 60 ? ttl * 3 : 60);
        cJSON_AddStringToObject(c, "DeregisterCriticalServiceAfter", d);
    }
    return buf_json(out, j);
}

static int status_rank(const char *s)
{
    return !s ? 0 : strcmp(s, "critical") == 0 ? 3 : strcmp(s, "warning") == 0 ? 2 : 1;
}

int registry_consul_parse_health(const char *text, size_t len, registry_instance **out,
                                 size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    cJSON *j = parse_json(text, len, err, errlen), *e;
    if (!j)
        return -1;
    if (!cJSON_IsArray(j)) {
        err_set(err, errlen, "consul: health reply is not a list");
        cJSON_Delete(j);
        return -1;
    }
    int count = cJSON_GetArraySize(j);
    if (count > REGISTRY_MAX_INSTANCES)
        count = REGISTRY_MAX_INSTANCES;
    if (count > 0 && !(*out = calloc((size_t)count, sizeof **out))) {
        err_set(err, errlen, "out of memory");
        cJSON_Delete(j);
        return -1;
    }
    cJSON_ArrayForEach(e, j)
    {
        if (*n >= (size_t)count)
            break;
        const cJSON *svc = cJSON_GetObjectItemCaseSensitive(e, "Service"), *ck;
        if (!cJSON_IsObject(svc))
            continue;
        registry_instance *in = &(*out)[*n];
        const char *host = json_str(svc, "Address");
        if (!host || !*host)
            host = json_str(cJSON_GetObjectItemCaseSensitive(e, "Node"), "Address");
        int64_t port = 0;
        json_int(svc, "Port", &port);
        copy_str(in->service, sizeof in->service, json_str(svc, "Service"));
        snprintf(in->addr, sizeof in->addr, strchr(host ? host : "", ':') ? "[%s]:%d" : "%s:%d",
                 host ? host : "", (int)port);
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(svc, "Tags");
        const cJSON *t0 = cJSON_IsArray(tags) ? cJSON_GetArrayItem(tags, 0) : NULL;
        const char *proto = json_str(cJSON_GetObjectItemCaseSensitive(svc, "Meta"), "protocol");
        copy_str(in->protocol, sizeof in->protocol, proto ? proto : cJSON_IsString(t0) ? t0->valuestring : "");
        const char *worst = NULL;
        cJSON_ArrayForEach(ck, cJSON_GetObjectItemCaseSensitive(e, "Checks"))
        {
            const char *st = json_str(ck, "Status");
            if (status_rank(st) > status_rank(worst))
                worst = st;
        }
        copy_str(in->status, sizeof in->status, worst ? worst : "passing");
        (*n)++;
    }
    cJSON_Delete(j);
    return 0;
}

int registry_consul_parse_services(const char *text, size_t len, buf *out, char *err, size_t errlen)
{
    cJSON *j = parse_json(text, len, err, errlen), *e;
    if (!j)
        return -1;
    if (!cJSON_IsObject(j)) {
        err_set(err, errlen, "consul: catalog reply is not an object");
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
        err_set(err, errlen, "consul: too many services");
    return rc;
}

/* ======================= HTTP ======================= */

typedef size_t (*write_fn)(char *p, size_t size, size_t n, void *ctx);

typedef struct http_req {
    const char *method, *path, *body;
    write_fn write;
    void *write_ctx;
    long timeout_ms;   /* 0: no total timeout (streams; cancel and TCP keepalive bound them) */
    long status;
    int64_t index;     /* X-Consul-Index */
    bool need_auth;    /* send the etcd token */
} http_req;

static size_t write_buf(char *p, size_t size, size_t n, void *ctx)
{
    return buf_append(ctx, p, size * n) < 0 ? 0 : size * n;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ctx)
{
    http_req *q = ctx;
    size_t len = size * n;
    static const char H[] = "x-consul-index:";
    if (len > sizeof H - 1 && strncasecmp(p, H, sizeof H - 1) == 0)
        q->index = strtoll(p + sizeof H - 1, NULL, 10);
    return len;
}

static int progress_cb(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    const atomic_bool *cancel = ctx;
    return cancel && atomic_load(cancel) ? 1 : 0;
}

/* One request to one endpoint. Returns 0 with q->status set, -1 when the endpoint could
 * not be reached or the transfer failed, -2 when the reply was refused by the writer or
 * the request cancelled (no other endpoint should be tried); reason in err. */
static int http_once(registry *r, const char *endpoint, http_req *q, char *err, size_t errlen)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (!c) {
        err_set(err, errlen, "cannot start libcurl");
        return -1;
    }
    char url[1200], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "http://%s%s", endpoint, q->path);
    struct curl_slist *h = NULL;
    char line[1200];
    if (q->body)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (r->kind == REGISTRY_CONSUL && r->token) {
        snprintf(line, sizeof line, "X-Consul-Token: %s", r->token);
        h = curl_slist_append(h, line);
    }
    if (r->kind == REGISTRY_ETCD && q->need_auth && r->etcd_token) {
        snprintf(line, sizeof line, "Authorization: %s", r->etcd_token);
        h = curl_slist_append(h, line);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    if (q->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
    } else if (strcmp(q->method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)REGISTRY_CONNECT_TIMEOUT_MS);
    if (q->timeout_ms > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, q->timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 5L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 2L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, q->write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, q->write_ctx);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    if (r->cancel) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)r->cancel);
    }
    CURLcode rc = curl_easy_perform(c);
    int ret = 0;
    if (rc == CURLE_WRITE_ERROR) {
        err_set(err, errlen, "%s: reply larger than %d bytes or not understood", endpoint,
                REGISTRY_MAX_RESPONSE);
        ret = -2;
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
        err_set(err, errlen, "cancelled");
        ret = -2;
    } else if (rc != CURLE_OK) {
        err_set(err, errlen, "%s: %s", endpoint, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        ret = -1;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &q->status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return ret;
}

/* Tries each endpoint in turn, starting with the one that answered last. */
static int http_do(registry *r, http_req *q, char *err, size_t errlen)
{
    for (size_t i = 0; i < r->nend; i++) {
        size_t e = (r->cur + i) % r->nend;
        int rc = http_once(r, r->endpoints[e], q, err, errlen);
        if (rc == 0) {
            r->cur = e;
            return 0;
        }
        if (rc == -2 || (r->cancel && atomic_load(r->cancel)))
            return -1;
    }
    return -1;
}

/* A request with its reply into resp (capped). */
static int http_call(registry *r, const char *method, const char *path, const char *body,
                     buf *resp, http_req *out, char *err, size_t errlen)
{
    http_req q = {.method = method, .path = path, .body = body, .write = write_buf,
                  .write_ctx = resp, .timeout_ms = REGISTRY_TIMEOUT_MS, .need_auth = true};
    buf_clear(resp);
    int rc = http_do(r, &q, err, errlen);
    if (out)
        *out = q;
    return rc;
}

/* ======================= etcd requests ======================= */

static int etcd_authenticate(registry *r, char *err, size_t errlen)
{
    const char *colon = strchr(r->user, ':');
    char name[256];
    snprintf(name, sizeof name, "%.*s", colon ? (int)(colon - r->user) : (int)strlen(r->user), r->user);
    cJSON *j = cJSON_CreateObject();
    buf body, resp;
    buf_init(&body, 4096);
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int rc = -1;
    if (j) {
        cJSON_AddStringToObject(j, "name", name);
        cJSON_AddStringToObject(j, "password", colon ? colon + 1 : "");
    }
    if (buf_json(&body, j) < 0 || buf_putc(&body, 0) < 0) {
        err_set(err, errlen, "out of memory");
        goto done;
    }
    http_req q = {.method = "POST", .path = "/v3/auth/authenticate", .body = (const char *)buf_data(&body),
                  .write = write_buf, .write_ctx = &resp, .timeout_ms = REGISTRY_TIMEOUT_MS};
    if (http_do(r, &q, err, errlen) < 0)
        goto done;
    cJSON *a = parse_json((const char *)buf_data(&resp), buf_size(&resp), err, errlen);
    if (!a)
        goto done;
    const char *tok = json_str(a, "token");
    if (etcd_error(a, err, errlen)) {
        size_t l = strlen(err ? err : "");
        if (err && l + 40 < errlen)
            snprintf(err + l, errlen - l, " (authenticating as %s)", name);
    } else if (!tok) {
        err_set(err, errlen, "etcd: authentication reply without a token");
    } else {
        free(r->etcd_token);
        r->etcd_token = strdup(tok);
        rc = r->etcd_token ? 0 : -1;
    }
    cJSON_Delete(a);
done:
    buf_done(&body);
    buf_done(&resp);
    return rc;
}

/* POSTs body to path, authenticating first when a user is set (and once more when the
 * token has expired). Returns 0 with the reply in resp, -1 unreachable, -2 an error reply
 * (etcd's message in err). */
static int etcd_post(registry *r, const char *path, const char *body, buf *resp, char *err,
                     size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (r->user && !r->etcd_token && etcd_authenticate(r, err, errlen) < 0)
            return strstr(err ? err : "", "etcd:") ? -2 : -1;
        http_req q;
        if (http_call(r, "POST", path, body, resp, &q, err, errlen) < 0)
            return -1;
        if (q.status == 200)
            return 0;
        cJSON *j = cJSON_ParseWithLength((const char *)buf_data(resp), buf_size(resp));
        bool known = j && etcd_error(j, err, errlen);
        cJSON_Delete(j);
        if (!known)
            err_set(err, errlen, "etcd: HTTP %ld from %s", q.status, path);
        if (r->user && err && strstr(err, "auth token") && attempt == 0) {
            free(r->etcd_token);
            r->etcd_token = NULL;
            continue;
        }
        return -2;
    }
    return -2;
}

static int etcd_post_str(registry *r, const char *path, buf *body, buf *resp, char *err, size_t errlen)
{
    if (buf_putc(body, 0) < 0) {
        err_set(err, errlen, "out of memory");
        return -2;
    }
    return etcd_post(r, path, (const char *)buf_data(body), resp, err, errlen);
}

/* ======================= the registry object ======================= */

registry *registry_new(const char *url, const registry_auth *auth, char *err, size_t errlen)
{
    registry *r = calloc(1, sizeof *r);
    if (!r) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    r->passing_only = true;
    r->url = xstrdup(url);
    if (auth) {
        r->token = xstrdup(auth->token);
        r->user = xstrdup(auth->user);
    }
    const char *rest;
    if (!url || strcmp(url, "none") == 0 || !*url) {
        r->kind = REGISTRY_NONE;
        return r;
    } else if (strncmp(url, "etcd://", 7) == 0) {
        r->kind = REGISTRY_ETCD;
        rest = url + 7;
    } else if (strncmp(url, "consul://", 9) == 0) {
        r->kind = REGISTRY_CONSUL;
        rest = url + 9;
    } else {
        err_set(err, errlen, "registry URL %s: want etcd://HOST:PORT[,HOST:PORT...], consul://HOST:PORT or none", url);
        goto fail;
    }
    if (r->user && !strchr(r->user, ':')) {
        err_set(err, errlen, "etcd user %s: want NAME:PASSWORD", r->user);
        goto fail;
    }
    char tmp[1024];
    copy_str(tmp, sizeof tmp, rest);
    char *q = strchr(tmp, '?');
    if (q) {
        *q++ = 0;
        if (r->kind != REGISTRY_CONSUL || strncmp(q, "check=", 6) != 0) {
            err_set(err, errlen, "registry URL %s: the only option is ?check=tcp|grpc|ttl (Consul)", url);
            goto fail;
        }
        q += 6;
        r->check = strcmp(q, "tcp") == 0 ? CHECK_TCP : strcmp(q, "grpc") == 0 ? CHECK_GRPC
                 : strcmp(q, "ttl") == 0 ? CHECK_TTL : (registry_check)-1;
        if ((int)r->check < 0) {
            err_set(err, errlen, "registry URL %s: check must be tcp, grpc or ttl", url);
            goto fail;
        }
    }
    char *save = NULL;
    while (*tmp && tmp[strlen(tmp) - 1] == '/')
        tmp[strlen(tmp) - 1] = 0;
    for (char *e = strtok_r(tmp, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        char host[256], e2[200];
        int port;
        if (net_split(e, host, sizeof host, &port, e2, sizeof e2) < 0) {
            err_set(err, errlen, "registry URL %s: %s", url, e2);
            goto fail;
        }
        if (r->nend == MAX_ENDPOINTS || (r->kind == REGISTRY_CONSUL && r->nend == 1)) {
            err_set(err, errlen, "registry URL %s: too many endpoints", url);
            goto fail;
        }
        if (!(r->endpoints[r->nend++] = strdup(e))) {
            err_set(err, errlen, "out of memory");
            goto fail;
        }
    }
    if (r->nend == 0) {
        err_set(err, errlen, "registry URL %s: no HOST:PORT", url);
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

/* ======================= register / keepalive / deregister ======================= */

static int etcd_register(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    buf body, resp;
    buf_init(&body, 65536);
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int rc = -1;
    int64_t lease, ttl;
    buf_printf(&body, "{\"TTL\":\"%d\"}", reg->ttl);
    if (etcd_post_str(r, "/v3/lease/grant", &body, &resp, err, errlen) < 0 ||
        registry_etcd_parse_grant((const char *)buf_data(&resp), buf_size(&resp), &lease, &ttl, err, errlen) < 0)
        goto done;
    buf_clear(&body);
    if (registry_etcd_put_body(reg->service, reg->addr, reg->protocol, lease, &body) < 0) {
        err_set(err, errlen, "out of memory");
        goto done;
    }
    if (etcd_post_str(r, "/v3/kv/put", &body, &resp, err, errlen) < 0)
        goto done;
    reg->lease = lease;
    rc = 0;
done:
    buf_done(&body);
    buf_done(&resp);
    return rc;
}

static int consul_request(registry *r, const char *method, const char *path, const char *body,
                          buf *resp, long *status, int64_t *index, char *err, size_t errlen)
{
    http_req q;
    if (http_call(r, method, path, body, resp, &q, err, errlen) < 0)
        return -1;
    *status = q.status;
    if (index)
        *index = q.index;
    return 0;
}

static void consul_http_error(long status, const buf *resp, const char *what, char *err, size_t errlen)
{
    size_t n = buf_size(resp);
    err_set(err, errlen, "consul: %s: HTTP %ld: %.*s", what, status, (int)(n > 200 ? 200 : n),
            n ? (const char *)buf_data(resp) : "");
    if (err) /* one line */
        for (char *p = err; *p; p++)
            if (*p == '\n')
                *p = ' ';
}

int registry_register(registry *r, const char *service, const char *addr, const char *protocol,
                      int ttl, registry_reg *reg, char *err, size_t errlen)
{
    memset(reg, 0, sizeof *reg);
    if (!service || !*service || strchr(service, '/') || strlen(service) >= sizeof reg->service ||
        !addr || strlen(addr) >= sizeof reg->addr || !protocol || strlen(protocol) >= sizeof reg->protocol) {
        err_set(err, errlen, "registry: bad service name, address or protocol");
        return -1;
    }
    if (ttl < 1) {
        err_set(err, errlen, "registry: the TTL must be at least 1 second");
        return -1;
    }
    copy_str(reg->service, sizeof reg->service, service);
    copy_str(reg->addr, sizeof reg->addr, addr);
    copy_str(reg->protocol, sizeof reg->protocol, protocol);
    reg->ttl = ttl;
    reg->check = r->check;
    if (r->kind == REGISTRY_NONE)
        return 0;
    if (r->kind == REGISTRY_ETCD)
        return etcd_register(r, reg, err, errlen);
    char host[256];
    int port;
    if (net_split(addr, host, sizeof host, &port, err, errlen) < 0)
        return -1;
    snprintf(reg->id, sizeof reg->id, "%s-%s-%d", service, host, port);
    for (char *p = reg->id; *p; p++) /* IDs go into URL paths */
        if (*p == '/' || *p == ':' || *p == '[' || *p == ']' || *p == '?' || *p == '#' || *p == '%')
            *p = '-';
    buf body, resp;
    buf_init(&body, 65536);
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    long status = 0;
    int rc = -1;
    if (registry_consul_register_body(reg->id, service, addr, protocol, reg->check, ttl, &body) < 0 ||
        buf_putc(&body, 0) < 0)
        err_set(err, errlen, "consul: cannot build the registration");
    else if (consul_request(r, "PUT", "/v1/agent/service/register", (const char *)buf_data(&body), &resp,
                            &status, NULL, err, errlen) < 0)
        ;
    else if (status != 200)
        consul_http_error(status, &resp, "register", err, errlen);
    else
        rc = 0;
    if (rc == 0 && reg->check == CHECK_TTL) /* passing from the start */
        rc = registry_keepalive(r, reg, err, errlen) == 1 ? 0 : -1;
    buf_done(&body);
    buf_done(&resp);
    return rc;
}

int registry_keepalive(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    if (r->kind == REGISTRY_NONE)
        return 1;
    buf body, resp;
    buf_init(&body, 4096);
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int rc = -1;
    if (r->kind == REGISTRY_ETCD) {
        int64_t ttl;
        buf_printf(&body, "{\"ID\":\"%" PRId64 "\"}", reg->lease);
        int e = etcd_post_str(r, "/v3/lease/keepalive", &body, &resp, err, errlen);
        if (e == -2 && err && strstr(err, "lease not found"))
            rc = 0;
        else if (e == 0)
            rc = registry_etcd_parse_keepalive((const char *)buf_data(&resp), buf_size(&resp), &ttl, err, errlen);
    } else {
        char path[400];
        long status;
        bool ttlcheck = reg->check == CHECK_TTL;
        if (ttlcheck)
            snprintf(path, sizeof path, "/v1/agent/check/pass/service:%s", reg->id);
        else
            snprintf(path, sizeof path, "/v1/agent/service/%s", reg->id);
        if (consul_request(r, ttlcheck ? "PUT" : "GET", path, NULL, &resp, &status, NULL, err, errlen) == 0) {
            buf_putc(&resp, 0);
            const char *t = (const char *)buf_data(&resp);
            if (status == 200)
                rc = 1;
            else if (status == 404 || (t && (strstr(t, "Unknown check") || strstr(t, "does not exist") ||
                                             strstr(t, "unknown service"))))
                rc = 0;
            else
                consul_http_error(status, &resp, ttlcheck ? "pass check" : "service", err, errlen);
        }
    }
    buf_done(&body);
    buf_done(&resp);
    return rc;
}

int registry_deregister(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    if (r->kind == REGISTRY_NONE)
        return 0;
    buf body, resp;
    buf_init(&body, 4096);
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int rc = -1;
    if (r->kind == REGISTRY_ETCD) {
        buf_printf(&body, "{\"ID\":\"%" PRId64 "\"}", reg->lease);
        int e = etcd_post_str(r, "/v3/lease/revoke", &body, &resp, err, errlen);
        rc = e == 0 || (e == -2 && err && strstr(err, "lease not found")) ? 0 : -1;
    } else {
        char path[400];
        long status;
        snprintf(path, sizeof path, "/v1/agent/service/deregister/%s", reg->id);
        if (consul_request(r, "PUT", path, NULL, &resp, &status, NULL, err, errlen) == 0) {
            if (status == 200 || status == 404)
                rc = 0;
            else
                consul_http_error(status, &resp, "deregister", err, errlen);
        }
    }
    buf_done(&body);
    buf_done(&resp);
    return rc;
}

/* ======================= list ======================= */

static int consul_health(registry *r, const char *service, int64_t index, int wait_s,
                         registry_instance **out, size_t *n, int64_t *revision, char *err, size_t errlen)
{
    pthread_once(&curl_once, curl_init_once);
    char *esc = curl_easy_escape(NULL, service, 0);
    char path[600];
    int len = snprintf(path, sizeof path, "/v1/health/service/%s%s", esc ? esc : service,
                       r->passing_only ? "?passing=1" : "?stale");
    curl_free(esc);
    if (index > 0 && len > 0 && (size_t)len < sizeof path)
        snprintf(path + len, sizeof path - (size_t)len, "&index=%" PRId64 "&wait=%ds", index, wait_s);
    buf resp;
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    http_req q = {.method = "GET", .path = path, .write = write_buf, .write_ctx = &resp,
                  .timeout_ms = index > 0 ? (wait_s + 5) * 1000L : REGISTRY_TIMEOUT_MS};
    int rc = -1;
    if (http_do(r, &q, err, errlen) < 0)
        ;
    else if (q.status != 200)
        consul_http_error(q.status, &resp, "health", err, errlen);
    else if (registry_consul_parse_health((const char *)buf_data(&resp), buf_size(&resp), out, n, err, errlen) == 0) {
        if (revision)
            *revision = q.index;
        rc = 0;
    }
    buf_done(&resp);
    return rc;
}

int registry_list(registry *r, const char *service, registry_instance **out, size_t *n,
                  int64_t *revision, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (revision)
        *revision = 0;
    if (r->kind == REGISTRY_NONE)
        return 0;
    if (r->kind == REGISTRY_CONSUL) {
        if (!service || !*service) {
            err_set(err, errlen, "consul: name a service (registry_services lists them)");
            return -1;
        }
        return consul_health(r, service, 0, 0, out, n, revision, err, errlen);
    }
    buf body, resp;
    buf_init(&body, 4096);
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int rc = -1;
    if (registry_etcd_range_body(service, 0, false, &body) == 0 &&
        etcd_post_str(r, "/v3/kv/range", &body, &resp, err, errlen) == 0)
        rc = registry_etcd_parse_range((const char *)buf_data(&resp), buf_size(&resp), out, n, revision, err, errlen);
    buf_done(&body);
    buf_done(&resp);
    return rc;
}

int registry_services(registry *r, buf *out, char *err, size_t errlen)
{
    if (r->kind == REGISTRY_NONE)
        return 0;
    if (r->kind == REGISTRY_ETCD) {
        registry_instance *in;
        size_t n;
        if (registry_list(r, NULL, &in, &n, NULL, err, errlen) < 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            bool seen = false;
            for (size_t k = 0; k < i && !seen; k++)
                seen = strcmp(in[k].service, in[i].service) == 0;
            if (!seen)
                buf_printf(out, "%s\n", in[i].service);
        }
        free(in);
        return 0;
    }
    buf resp;
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    long status;
    int rc = -1;
    if (consul_request(r, "GET", "/v1/catalog/services", NULL, &resp, &status, NULL, err, errlen) < 0)
        ;
    else if (status != 200)
        consul_http_error(status, &resp, "catalog", err, errlen);
    else
        rc = registry_consul_parse_services((const char *)buf_data(&resp), buf_size(&resp), out, err, errlen);
    buf_done(&resp);
    return rc;
}

int registry_lease_ttl(registry *r, int64_t lease, int64_t *ttl, char *err, size_t errlen)
{
    if (r->kind != REGISTRY_ETCD) {
        err_set(err, errlen, "only etcd has leases");
        return -1;
    }
    buf body, resp;
    buf_init(&body, 4096);
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    buf_printf(&body, "{\"ID\":\"%" PRId64 "\"}", lease);
    int rc = -1;
    if (etcd_post_str(r, "/v3/lease/timetolive", &body, &resp, err, errlen) == 0) {
        cJSON *j = parse_json((const char *)buf_data(&resp), buf_size(&resp), err, errlen);
        if (j) {
            if (!json_int(j, "TTL", ttl))
                *ttl = -1;
            rc = 0;
        }
        cJSON_Delete(j);
    }
    buf_done(&body);
    buf_done(&resp);
    return rc;
}

/* ======================= the keeper ======================= */

struct registry_keeper {
    registry *r;
    registry_reg reg;
    char service[128], addr[128], protocol[16];
    int ttl;
    registry_log_fn log;
    void *log_ctx;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    bool registered;
    int registrations;
    pthread_mutex_t mu;
    pthread_cond_t cv;
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
        k->log(k->log_ctx, wall_ms(), msg);
    else
        log_msg("%s", msg);
}

/* Sleeps ms unless stopped first. Returns true when the keeper should stop. */
static bool keeper_sleep(registry_keeper *k, long ms)
{
    struct timespec ts = clock_after(CLOCK_MONOTONIC, ms > 0 ? (uint64_t)ms : 0);
    pthread_mutex_lock(&k->mu);
    while (!k->stop && pthread_cond_timedwait(&k->cv, &k->mu, &ts) != ETIMEDOUT)
        ;
    bool stop = k->stop;
    pthread_mutex_unlock(&k->mu);
    return stop;
}

static void *keeper_main(void *arg)
{
    registry_keeper *k = arg;
    char err[512];
    long backoff = 250, period = k->ttl * 1000L / 3;
    bool unreachable = false, lost = false;
    if (period < 200)
        period = 200;
    /* Retries never wait longer than a keepalive period, so a lease that survived an
     * etcd restart is renewed before it runs out. */
    long max_backoff = period < 5000 ? period : 5000;
    while (!k->stop) {
        if (!k->registered) {
            registry_reg reg;
            if (registry_register(k->r, k->service, k->addr, k->protocol, k->ttl, &reg, err, sizeof err) == 0) {
                pthread_mutex_lock(&k->mu);
                k->reg = reg;
                k->registered = true;
                k->registrations++;
                int n = k->registrations;
                pthread_mutex_unlock(&k->mu);
                if (k->r->kind == REGISTRY_ETCD)
                    keeper_log(k, "registry: registered%s %s/%s (%s) on lease %016" PRIx64 ", TTL %ds",
                               n > 1 ? " again" : "", k->service, k->addr, k->protocol, (uint64_t)reg.lease, k->ttl);
                else
                    keeper_log(k, "registry: registered%s %s %s (%s), check every %ds",
                               n > 1 ? " again" : "", k->service, reg.id, k->protocol, k->ttl / 3 > 1 ? k->ttl / 3 : 1);
                unreachable = lost = false;
                backoff = 250;
                if (keeper_sleep(k, period))
                    break;
                continue;
            }
            if (k->stop)
                break;
            if (!unreachable)
                keeper_log(k, "registry: %s: %s; retrying with backoff",
                           strncmp(err, "etcd:", 5) == 0 || strncmp(err, "consul:", 7) == 0
                               ? "registry refused the registration" : "registry unreachable", err);
            unreachable = true;
            if (keeper_sleep(k, backoff))
                break;
            backoff = backoff * 2 > max_backoff ? max_backoff : backoff * 2;
            continue;
        }
        int alive = registry_keepalive(k->r, &k->reg, err, sizeof err);
        if (k->stop)
            break;
        if (alive == 1) {
            if (unreachable)
                keeper_log(k, "registry: reachable again, lease still alive");
            unreachable = false;
            backoff = 250;
            if (keeper_sleep(k, period))
                break;
        } else if (alive == 0) {
            if (!lost && k->r->kind == REGISTRY_ETCD)
                keeper_log(k, "registry: lease lost (%s/%s expired, or etcd lost its data); registering again",
                           k->service, k->addr);
            else if (!lost)
                keeper_log(k, "registry: registration lost (the agent forgot %s); registering again", k->reg.id);
            lost = true;
            pthread_mutex_lock(&k->mu);
            k->registered = false;
            pthread_mutex_unlock(&k->mu);
        } else {
            if (!unreachable)
                keeper_log(k, "registry: registry unreachable: %s; retrying with backoff", err);
            unreachable = true;
            if (keeper_sleep(k, backoff))
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
    pthread_mutex_init(&k->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&k->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (!(k->r = registry_new(url, auth, err, errlen)))
        goto fail;
    if (!service || !*service || strchr(service, '/') || strlen(service) >= sizeof k->service ||
        !addr || strlen(addr) >= sizeof k->addr || !protocol || strlen(protocol) >= sizeof k->protocol) {
        err_set(err, errlen, "registry: bad service name, address or protocol");
        goto fail;
    }
    if (ttl < 1) {
        err_set(err, errlen, "registry: the TTL must be at least 1 second");
        goto fail;
    }
    copy_str(k->service, sizeof k->service, service);
    copy_str(k->addr, sizeof k->addr, addr);
    copy_str(k->protocol, sizeof k->protocol, protocol);
    k->ttl = ttl;
    k->log = log;
    k->log_ctx = log_ctx;
    registry_set_cancel(k->r, &k->stop);
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

int registry_keeper_registrations(registry_keeper *k)
{
    pthread_mutex_lock(&k->mu);
    int n = k->registrations;
    pthread_mutex_unlock(&k->mu);
    return n;
}

void registry_keeper_stop(registry_keeper *k, bool deregister)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
    if (k->started)
        pthread_join(k->thread, NULL);
    if (deregister && k->registered && k->r) {
        char err[512];
        registry_set_cancel(k->r, NULL);
        if (registry_deregister(k->r, &k->reg, err, sizeof err) == 0)
            keeper_log(k, "registry: deregistered %s/%s", k->service, k->addr);
        else
            keeper_log(k, "registry: could not deregister %s/%s: %s", k->service, k->addr, err);
    }
    registry_free(k->r);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

/* ======================= the watch ======================= */

struct registry_watch {
    registry *r;
    char service[128];
    int64_t revision; /* last revision seen */
    pthread_t thread;
    bool started;
    atomic_bool cancel;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on push, pop and cancel */
    registry_event *q;
    size_t head, count;
};

static void watch_push(registry_watch *w, const registry_event *ev)
{
    pthread_mutex_lock(&w->mu);
    while (w->count == WATCH_QUEUE && !w->cancel) /* a slow reader holds the watch back */
        pthread_cond_wait(&w->cv, &w->mu);
    if (!w->cancel) {
        w->q[(w->head + w->count) % WATCH_QUEUE] = *ev;
        w->count++;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

static void watch_status(registry_watch *w, registry_event_type t, const char *msg)
{
    registry_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.revision = w->revision;
    snprintf(ev.msg, sizeof ev.msg, "%.*s", (int)sizeof ev.msg - 1, msg);
    watch_push(w, &ev);
}

typedef struct etcd_watch_ctx {
    registry_watch *w;
    registry_etcd_stream s;
    char err[256];
    bool failed, reset, *down;
} etcd_watch_ctx;

static void etcd_watch_event(void *ctx, const registry_event *ev)
{
    etcd_watch_ctx *c = ctx;
    watch_push(c->w, ev);
}

static size_t etcd_watch_write(char *p, size_t size, size_t n, void *ctx)
{
    etcd_watch_ctx *c = ctx;
    if (registry_etcd_stream_feed(&c->s, p, size * n, etcd_watch_event, c, c->err, sizeof c->err) < 0) {
        c->failed = true;
        return 0;
    }
    if (c->s.created && c->s.revision < c->w->revision && !c->reset) {
        /* A new etcd (data lost): its revisions start again below ours. */
        snprintf(c->err, sizeof c->err, "etcd's history restarted (revision %" PRId64 " < %" PRId64
                 "); following it from its start: list again to drop instances it forgot",
                 c->s.revision, c->w->revision);
        c->reset = true;
        return 0;
    }
    if (c->s.revision > c->w->revision)
        c->w->revision = c->s.revision;
    if (c->s.created && *c->down) {
        *c->down = false;
        watch_status(c->w, REGISTRY_EV_RESUMED, "watch connected again");
    }
    return size * n;
}

static bool watch_sleep(registry_watch *w, long ms)
{
    for (long t = 0; t < ms && !w->cancel; t += 50)
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    return w->cancel;
}

static void *etcd_watch_main(void *arg)
{
    registry_watch *w = arg;
    long backoff = 250;
    bool down = false;
    while (!w->cancel) {
        etcd_watch_ctx c = {.w = w, .down = &down};
        registry_etcd_stream_init(&c.s);
        buf body;
        buf_init(&body, 4096);
        char err[512] = "";
        registry_etcd_range_body(w->service, w->revision + 1, true, &body);
        buf_putc(&body, 0);
        if (w->r->user && !w->r->etcd_token)
            etcd_authenticate(w->r, err, sizeof err);
        http_req q = {.method = "POST", .path = "/v3/watch", .body = (const char *)buf_data(&body),
                      .write = etcd_watch_write, .write_ctx = &c, .need_auth = true};
        int rc = http_do(w->r, &q, err, sizeof err);
        bool compacted = c.s.canceled && c.s.compacted > 0;
        if (c.reset) {
            w->revision = 0;
            snprintf(err, sizeof err, "%s", c.err);
            compacted = true; /* report it even when already down, retry at once */
            backoff = 0;
        } else if (compacted) {
            w->revision = c.s.compacted - 1;
            snprintf(err, sizeof err, "etcd compacted its history to revision %" PRId64
                     "; changes before it are lost: list again", c.s.compacted);
        } else if (c.failed) {
            snprintf(err, sizeof err, "%s", c.err);
        } else if (rc == 0 && q.status != 200) {
            snprintf(err, sizeof err, "etcd: HTTP %ld from /v3/watch", q.status);
            if (w->r->user) { /* perhaps the token expired */
                free(w->r->etcd_token);
                w->r->etcd_token = NULL;
            }
        } else if (rc == 0) {
            snprintf(err, sizeof err, "etcd closed the watch stream");
        }
        if (c.s.created && !c.reset)
            backoff = 250;
        registry_etcd_stream_done(&c.s);
        buf_done(&body);
        if (w->cancel)
            break;
        if (!down || compacted) {
            watch_status(w, REGISTRY_EV_ERROR, err);
            down = true;
        }
        if (watch_sleep(w, backoff))
            break;
        backoff = backoff == 0 ? 250 : backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
    return NULL;
}

static void *consul_watch_main(void *arg)
{
    registry_watch *w = arg;
    registry_instance *known = NULL, *now = NULL;
    size_t nknown = 0, nnow = 0;
    int64_t index = 0;
    long backoff = 250;
    bool down = false, first = true;
    while (!w->cancel) {
        char err[512];
        int64_t next = 0;
        if (consul_health(w->r, w->service, index, CONSUL_WAIT_S, &now, &nnow, &next, err, sizeof err) < 0) {
            if (w->cancel)
                break;
            if (!down)
                watch_status(w, REGISTRY_EV_ERROR, err);
            down = true;
            if (watch_sleep(w, backoff))
                break;
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            continue;
        }
        if (down)
            watch_status(w, REGISTRY_EV_RESUMED, "watch connected again");
        down = false;
        backoff = 250;
        /* Consul: an index that goes backwards (agent restarted) starts over. */
        index = next < index || next <= 0 ? 0 : next;
        for (size_t i = 0; i < nknown; i++) {
            bool still = false;
            for (size_t j = 0; j < nnow && !still; j++)
                still = strcmp(known[i].addr, now[j].addr) == 0;
            if (!still) {
                registry_event ev = {.type = REGISTRY_EV_DELETE, .inst = known[i], .revision = next};
                watch_push(w, &ev);
            }
        }
        for (size_t j = 0; j < nnow; j++) {
            bool same = false;
            for (size_t i = 0; i < nknown && !same; i++)
                same = strcmp(known[i].addr, now[j].addr) == 0 && strcmp(known[i].protocol, now[j].protocol) == 0;
            if (!same || first) {
                registry_event ev = {.type = REGISTRY_EV_PUT, .inst = now[j], .revision = next};
                if (!first || next > w->revision || w->revision == 0)
                    watch_push(w, &ev);
            }
        }
        first = false;
        free(known);
        known = now;
        nknown = nnow;
        now = NULL;
        if (index == 0 && watch_sleep(w, 1000))
            break;
    }
    free(known);
    free(now);
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
    if (!w || !(w->q = calloc(WATCH_QUEUE, sizeof *w->q))) {
        free(w);
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    registry_auth auth = {r->token, r->user};
    copy_str(w->service, sizeof w->service, service);
    w->revision = revision;
    if (!(w->r = registry_new(r->url, &auth, err, errlen)))
        goto fail;
    w->r->passing_only = r->passing_only;
    registry_set_cancel(w->r, &w->cancel);
    if (pthread_create(&w->thread, NULL, r->kind == REGISTRY_ETCD ? etcd_watch_main : consul_watch_main, w) != 0) {
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
    struct timespec ts = clock_after(CLOCK_MONOTONIC, timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
    pthread_mutex_lock(&w->mu);
    while (!w->count && !w->cancel && timeout_ms > 0 &&
           pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
        ;
    int rc = 0;
    if (w->cancel) {
        rc = -1;
    } else if (w->count) {
        *ev = w->q[w->head];
        w->head = (w->head + 1) % WATCH_QUEUE;
        w->count--;
        pthread_cond_broadcast(&w->cv);
        rc = 1;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void registry_watch_cancel(registry_watch *w)
{
    pthread_mutex_lock(&w->mu);
    w->cancel = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void registry_watch_free(registry_watch *w)
{
    if (!w)
        return;
    registry_watch_cancel(w);
    if (w->started)
        pthread_join(w->thread, NULL);
    registry_free(w->r);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->q);
    free(w);
}
