/* registry_etcd.c -- the etcd backend over etcd v3's JSON gateway: request bodies and
 * reply parsers, the incremental watch-stream reader, authentication, leases, and the
 * watch loop that follows /v3/watch. */
#include "registry/registry_int.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/err.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "wire/jsonscan.h"

/* etcd's error reply: {"error":"...","message":"...","code":N}. */
static bool etcd_error(const cJSON *root, char *err, size_t errlen)
{
    const char *m = registry_json_str(root, "message");
    if (!m)
        m = registry_json_str(root, "error");
    if (!m)
        return false;
    char shown[1024]; /* escaped: it goes to logs and terminals */
    err_set(err, errlen, "etcd: %s", esc_str(shown, sizeof shown, m));
    return true;
}

/* ---- bodies and parsers ---- */

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
    return registry_json_put(out, j);
}

int registry_etcd_put_body(const char *service, const char *addr, const char *protocol,
                           int64_t lease, buf *out)
{
    char key[300], num[32];
    snprintf(key, sizeof key, "%s/%s", service, addr);
    buf v;
    buf_init(&v, 4096);
    char *k64 = b64_encode_str(key, strlen(key)), *v64 = NULL;
    if (registry_etcd_value(addr, protocol, &v) == 0)
        v64 = b64_encode_str((const char *)buf_data(&v), buf_size(&v));
    buf_done(&v);
    int rc = -1;
    cJSON *j = cJSON_CreateObject();
    if (k64 && v64 && j) {
        cJSON_AddStringToObject(j, "key", k64);
        cJSON_AddStringToObject(j, "value", v64);
        snprintf(num, sizeof num, "%" PRId64, lease);
        cJSON_AddStringToObject(j, "lease", num);
        rc = registry_json_put(out, j);
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
    char *k64 = b64_encode_str(key, kn), *e64 = b64_encode_str(end, kn);
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
            if (!watch) {
                char num[32];
                snprintf(num, sizeof num, "%d", REGISTRY_MAX_INSTANCES + 1);
                cJSON_AddStringToObject(req, "limit", num);
            }
        }
        rc = registry_json_put(out, j);
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
    cJSON *j = registry_json_parse(text, len, err, errlen);
    if (!j)
        return -1;
    int rc = -1;
    if (etcd_error(j, err, errlen))
        ;
    else if (registry_json_str(j, "error") || !registry_json_int(j, "ID", lease) || !registry_json_int(j, "TTL", ttl))
        err_set(err, errlen, "etcd: lease grant reply without ID and TTL");
    else
        rc = 0;
    cJSON_Delete(j);
    return rc;
}

int registry_etcd_parse_keepalive(const char *text, size_t len, int64_t *ttl, char *err,
                                  size_t errlen)
{
    cJSON *j = registry_json_parse(text, len, err, errlen);
    if (!j)
        return -1;
    int rc = -1;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result");
    if (cJSON_IsObject(res)) {
        *ttl = 0;
        /* A lost lease comes back without TTL (zero is left out of the JSON). */
        rc = registry_json_int(res, "TTL", ttl) && *ttl > 0 ? 1 : 0;
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
    const char *slash = strrchr(key, '/'); /* a name may hold '/', an address never */
    if (!slash || slash == key || !slash[1])
        return -1;
    snprintf(inst->service, sizeof inst->service, "%.*s", (int)(slash - key), key);
    registry_copy(inst->addr, sizeof inst->addr, slash + 1);
    cJSON *j = value ? cJSON_Parse(value) : NULL;
    if (j) {
        const char *a = registry_json_str(j, "Addr");
        if (a && *a)
            registry_copy(inst->addr, sizeof inst->addr, a);
        const char *p = registry_json_str(cJSON_GetObjectItemCaseSensitive(j, "Metadata"), "protocol");
        if (p)
            registry_copy(inst->protocol, sizeof inst->protocol, p);
        cJSON_Delete(j);
    }
    return 0;
}

bool registry_etcd_of_service(const registry_instance *in, const char *service)
{
    return !service || !*service || strcmp(in->service, service) == 0;
}

/* Decodes a kv object's key and value (base64) into inst, with its lease. Returns 0, 1 for
 * a key that names no instance (no '/': not one of ours), or -1 for a kv that is not what
 * etcd sends (not an object, no key, bad base64, a lease that is not a number). */
static int etcd_kv(const cJSON *kv, registry_instance *inst, int64_t *mod_revision)
{
    const char *k64 = registry_json_str(kv, "key"), *v64 = registry_json_str(kv, "value");
    const cJSON *lease = cJSON_GetObjectItemCaseSensitive(kv, "lease");
    char k[1024], *v;
    if (!cJSON_IsObject(kv) || !k64 || b64_decode_str(k64, k, sizeof k) < 0 ||
        (lease && !registry_json_int(kv, "lease", &inst->lease)))
        return -1;
    size_t vcap = v64 ? strlen(v64) / 4 * 3 + 4 : 1; /* what the base64 decodes to, and a NUL */
    if (vcap > 65536)
        vcap = 65536;
    if (!(v = malloc(vcap)))
        return -1;
    if (!v64 || b64_decode_str(v64, v, vcap) < 0)
        v[0] = 0;
    int rc = 1;
    if (registry_etcd_instance(k, v[0] ? v : NULL, inst) == 0) {
        inst->lease = 0;
        registry_json_int(kv, "lease", &inst->lease);
        if (mod_revision)
            registry_json_int(kv, "mod_revision", mod_revision);
        rc = 0;
    }
    free(v);
    return rc;
}

int registry_etcd_parse_range(const char *text, size_t len, registry_instance **out, size_t *n,
                              int64_t *revision, size_t *left_out, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (left_out)
        *left_out = 0;
    cJSON *j = registry_json_parse(text, len, err, errlen);
    if (!j)
        return -1;
    if (etcd_error(j, err, errlen)) {
        cJSON_Delete(j);
        return -1;
    }
    const cJSON *kvs = cJSON_GetObjectItemCaseSensitive(j, "kvs"), *kv;
    int64_t rev = 0;
    /* etcd always sends the header; it leaves kvs out when there are none. */
    if (!registry_json_int(cJSON_GetObjectItemCaseSensitive(j, "header"), "revision", &rev) ||
        (kvs && !cJSON_IsArray(kvs))) {
        err_set(err, errlen, _("etcd: range reply without a header revision or with kvs not a list"));
        cJSON_Delete(j);
        return -1;
    }
    if (revision)
        *revision = rev;
    int count = cJSON_IsArray(kvs) ? cJSON_GetArraySize(kvs) : 0;
    int64_t total = count; /* etcd's count: every key in the range, also past the limit */
    registry_json_int(j, "count", &total);
    if (count > REGISTRY_MAX_INSTANCES)
        count = REGISTRY_MAX_INSTANCES;
    if (left_out && total > count)
        *left_out = (size_t)(total - count);
    if (count > 0) {
        *out = calloc((size_t)count, sizeof **out);
        if (!*out) {
            err_set(err, errlen, _("out of memory"));
            cJSON_Delete(j);
            return -1;
        }
        int i = 0;
        cJSON_ArrayForEach(kv, kvs)
        {
            int r = *n < (size_t)count ? etcd_kv(kv, &(*out)[*n], NULL) : 1;
            if (r < 0) { /* a reply that is not what etcd sends: none of it is believed */
                err_set(err, errlen, _("etcd: range reply entry %d is not a key-value"), i);
                free(*out);
                *out = NULL;
                *n = 0;
                cJSON_Delete(j);
                return -1;
            }
            if (r == 0)
                (*n)++;
            i++;
        }
    }
    cJSON_Delete(j);
    return 0;
}

/* ---- the watch stream ---- */

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
    cJSON *j = registry_json_parse(p, n, err, errlen);
    if (!j)
        return -1;
    int rc = -1;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result"), *ev;
    if (!cJSON_IsObject(res)) {
        if (!etcd_error(j, err, errlen) &&
            !etcd_error(cJSON_GetObjectItemCaseSensitive(j, "error"), err, errlen))
            err_set(err, errlen, _("etcd: watch message without a result"));
        goto done;
    }
    int64_t rev = 0;
    if (registry_json_int(cJSON_GetObjectItemCaseSensitive(res, "header"), "revision", &rev) && rev > s->revision)
        s->revision = rev;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "created")))
        s->created = true;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "canceled"))) {
        s->canceled = true;
        registry_json_int(res, "compact_revision", &s->compacted);
        const char *why = registry_json_str(res, "cancel_reason");
        char shown[1024];
        if (why)
            err_set(err, errlen, _("etcd cancelled the watch: %s"), esc_str(shown, sizeof shown, why));
        else
            err_set(err, errlen, _("etcd cancelled the watch"));
        goto done;
    }
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(res, "events");
    if (events && !cJSON_IsArray(events)) {
        err_set(err, errlen, _("etcd: watch message with events not a list"));
        goto done;
    }
    /* Checked whole before any is delivered: a malformed message changes nothing. */
    cJSON_ArrayForEach(ev, events)
    {
        registry_instance scratch;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
        if (!cJSON_IsObject(ev) || (type && !cJSON_IsString(type)) ||
            etcd_kv(cJSON_GetObjectItemCaseSensitive(ev, "kv"), &scratch, NULL) < 0) {
            err_set(err, errlen, _("etcd: watch message with an event that is not a key-value"));
            goto done;
        }
    }
    cJSON_ArrayForEach(ev, events)
    {
        registry_event e;
        memset(&e, 0, sizeof e);
        const char *type = registry_json_str(ev, "type"); /* PUT is the default, left out */
        e.type = type && strcmp(type, "DELETE") == 0 ? REGISTRY_EV_DELETE : REGISTRY_EV_PUT;
        if (etcd_kv(cJSON_GetObjectItemCaseSensitive(ev, "kv"), &e.inst, &e.revision) != 0)
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
            err_set(err, errlen, _("etcd: out of memory for a watch message"));
        else
            err_set(err, errlen, _("etcd: watch message larger than %d bytes"), REGISTRY_MAX_RESPONSE);
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
            err_set(err, errlen, _("etcd: malformed watch stream: %s"), e2);
            return -1;
        }
        int rc = stream_message(s, d + start, end - start, fn, ctx, err, errlen);
        buf_consume(&s->in, end);
        if (rc < 0)
            return -1;
    }
}

/* ---- requests ---- */

/* Gets a token for r->user into r->etcd_token. Returns 0, or -1 with a reason in err. */
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
    if (registry_json_put(&body, j) < 0 || buf_putc(&body, 0) < 0) {
        err_set(err, errlen, _("out of memory"));
        goto done;
    }
    registry_http_req q = {.method = "POST", .path = "/v3/auth/authenticate",
                           .body = (const char *)buf_data(&body), .write = registry_http_write_buf,
                           .write_ctx = &resp, .timeout_ms = REGISTRY_TIMEOUT_MS};
    if (registry_http_do(r, &q, err, errlen) < 0)
        goto done;
    cJSON *a = registry_json_parse((const char *)buf_data(&resp), buf_size(&resp), err, errlen);
    if (!a)
        goto done;
    const char *tok = registry_json_str(a, "token");
    const char *said = registry_json_str(a, "error");
    if (said && strstr(said, "authentication is not enabled")) {
        free(r->user); /* as etcd's own client does: an etcd without users takes no token */
        r->user = NULL;
        rc = 0;
    } else if (etcd_error(a, err, errlen)) {
        size_t l = strlen(err ? err : "");
        if (err && l + 40 < errlen)
            err_set(err + l, errlen - l, _(" (authenticating as %s)"), name);
    } else if (!tok) {
        err_set(err, errlen, _("etcd: authentication reply without a token"));
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
        registry_http_req q;
        if (registry_http_call(r, "POST", path, body, resp, &q, err, errlen) < 0)
            return -1;
        if (q.status == 200)
            return 0;
        cJSON *j = cJSON_ParseWithLength((const char *)buf_data(resp), buf_size(resp));
        bool known = j && etcd_error(j, err, errlen);
        cJSON_Delete(j);
        if (!known)
            err_set(err, errlen, _("etcd: HTTP %ld from %s"), q.status, path);
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
        err_set(err, errlen, _("out of memory"));
        return -2;
    }
    return etcd_post(r, path, (const char *)buf_data(body), resp, err, errlen);
}

/* ---- the backend ---- */

static int etcd_add(registry *r, registry_reg *reg, char *err, size_t errlen)
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
        err_set(err, errlen, _("out of memory"));
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

/* POSTs {"ID":"lease"} to one of etcd's lease paths; returns as etcd_post. */
static int etcd_lease_post(registry *r, const char *path, int64_t lease, buf *resp, char *err,
                           size_t errlen)
{
    char body[64];
    snprintf(body, sizeof body, "{\"ID\":\"%" PRId64 "\"}", lease);
    return etcd_post(r, path, body, resp, err, errlen);
}

static int etcd_keepalive(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    buf resp;
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int64_t ttl;
    int rc = -1;
    int e = etcd_lease_post(r, "/v3/lease/keepalive", reg->lease, &resp, err, errlen);
    if (e == -2 && err && strstr(err, "lease not found"))
        rc = 0;
    else if (e == 0)
        rc = registry_etcd_parse_keepalive((const char *)buf_data(&resp), buf_size(&resp), &ttl,
                                           err, errlen);
    buf_done(&resp);
    return rc;
}

static int etcd_deregister(registry *r, registry_reg *reg, char *err, size_t errlen)
{
    buf resp;
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int e = etcd_lease_post(r, "/v3/lease/revoke", reg->lease, &resp, err, errlen);
    buf_done(&resp);
    return e == 0 || (e == -2 && err && strstr(err, "lease not found")) ? 0 : -1;
}

static int etcd_list(registry *r, const char *service, registry_instance **out, size_t *n,
                     int64_t *revision, char *err, size_t errlen)
{
    buf body, resp;
    buf_init(&body, 4096);
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int rc = -1;
    if (registry_etcd_range_body(service, 0, false, &body) == 0 &&
        etcd_post_str(r, "/v3/kv/range", &body, &resp, err, errlen) == 0)
        rc = registry_etcd_parse_range((const char *)buf_data(&resp), buf_size(&resp), out, n,
                                       revision, &r->list_left_out, err, errlen);
    if (rc == 0) { /* the prefix NAME/ also holds NAME/more/HOST:PORT: another service's */
        size_t kept = 0;
        for (size_t i = 0; i < *n; i++)
            if (registry_etcd_of_service(&(*out)[i], service))
                (*out)[kept++] = (*out)[i];
        *n = kept;
    }
    buf_done(&body);
    buf_done(&resp);
    return rc;
}

static _Thread_local const registry_instance *svc_base; /* qsort has no context argument */

static int cmp_service(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(svc_base[i].service, svc_base[j].service);
    return c ? c : i < j ? -1 : i > j;
}

/* The distinct key prefixes of every instance, in the order they first come: sorted by
 * name to find the first of each (O(n log n)), then printed in the listing's order. */
static int etcd_services(registry *r, buf *out, char *err, size_t errlen)
{
    registry_instance *in = NULL;
    size_t n = 0, *idx = NULL;
    bool *first = NULL;
    int rc = -1;
    if (etcd_list(r, NULL, &in, &n, NULL, err, errlen) < 0)
        return -1;
    if (n && (!(idx = malloc(n * sizeof *idx)) || !(first = calloc(n, sizeof *first)))) {
        err_set(err, errlen, _("out of memory"));
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    svc_base = in;
    if (n > 1)
        qsort(idx, n, sizeof *idx, cmp_service);
    for (size_t k = 0; k < n; k++)
        first[idx[k]] = k == 0 || strcmp(in[idx[k]].service, in[idx[k - 1]].service) != 0;
    for (size_t i = 0; i < n; i++)
        if (first[i])
            buf_printf(out, "%s\n", in[i].service);
    rc = 0;
done:
    free(idx);
    free(first);
    free(in);
    return rc;
}

static int etcd_lease_ttl(registry *r, int64_t lease, int64_t *ttl, char *err, size_t errlen)
{
    buf resp;
    buf_init(&resp, REGISTRY_MAX_RESPONSE);
    int rc = -1;
    if (etcd_lease_post(r, "/v3/lease/timetolive", lease, &resp, err, errlen) == 0) {
        cJSON *j = registry_json_parse((const char *)buf_data(&resp), buf_size(&resp), err, errlen);
        if (j) {
            if (!registry_json_int(j, "TTL", ttl))
                *ttl = -1;
            rc = 0;
        }
        cJSON_Delete(j);
    }
    buf_done(&resp);
    return rc;
}

/* ---- the watch loop ---- */

typedef struct etcd_watch_ctx {
    registry_watch *w;
    registry_etcd_stream s;
    char err[256];
    bool failed, reset;
    registry_outage *out;
} etcd_watch_ctx;

static void etcd_watch_event(void *ctx, const registry_event *ev)
{
    etcd_watch_ctx *c = ctx;
    if (registry_etcd_of_service(&ev->inst, c->w->service))
        registry_watch_push(c->w, ev);
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
        err_set(c->err, sizeof c->err, _("etcd's history restarted (revision %" PRId64 " < %" PRId64
                  "); following it from its start: list again to drop instances it forgot"),
                c->s.revision, c->w->revision);
        c->reset = true;
        return 0;
    }
    if (c->s.revision > c->w->revision)
        c->w->revision = c->s.revision;
    if (c->s.created)
        registry_watch_back(c->w, c->out);
    return size * n;
}

/* Follows a /v3/watch stream from the last revision seen, opening it again after a failure. */
static void etcd_watch(registry_watch *w)
{
    long backoff = 250;
    registry_outage out = {0};
    while (!registry_stopped(&w->stop)) {
        etcd_watch_ctx c = {.w = w, .out = &out};
        registry_etcd_stream_init(&c.s);
        buf body;
        buf_init(&body, 4096);
        char err[512] = "";
        registry_etcd_range_body(w->service, w->revision + 1, true, &body);
        buf_putc(&body, 0);
        if (w->r->user && !w->r->etcd_token)
            etcd_authenticate(w->r, err, sizeof err);
        registry_http_req q = {.method = "POST", .path = "/v3/watch",
                               .body = (const char *)buf_data(&body), .write = etcd_watch_write,
                               .write_ctx = &c, .need_auth = true};
        int rc = registry_http_do(w->r, &q, err, sizeof err);
        bool compacted = c.s.canceled && c.s.compacted > 0;
        if (c.reset) {
            w->revision = 0;
            err_set(err, sizeof err, "%s", c.err);
            compacted = true; /* report it even when already down, retry at once */
            backoff = 0;
        } else if (compacted) {
            w->revision = c.s.compacted - 1;
            err_set(err, sizeof err, _("etcd compacted its history to revision %" PRId64
                    "; changes before it are lost: list again"), c.s.compacted);
        } else if (c.failed) {
            err_set(err, sizeof err, "%s", c.err);
        } else if (rc == 0 && q.status != 200) {
            err_set(err, sizeof err, _("etcd: HTTP %ld from /v3/watch"), q.status);
            if (w->r->user) { /* perhaps the token expired */
                free(w->r->etcd_token);
                w->r->etcd_token = NULL;
            }
        } else if (rc == 0) {
            err_set(err, sizeof err, _("etcd closed the watch stream"));
        }
        if (c.s.created && !c.reset)
            backoff = 250;
        registry_etcd_stream_done(&c.s);
        buf_done(&body);
        if (registry_stopped(&w->stop))
            break;
        if (compacted) { /* said every time: the caller must list again */
            char unused[128];
            registry_watch_status(w, REGISTRY_EV_ERROR, err);
            registry_outage_fail(&out, unused, sizeof unused);
        } else {
            registry_watch_failed(w, &out, err);
        }
        if (registry_stop_sleep(&w->stop, (uint64_t)backoff))
            break;
        backoff = backoff == 0 ? 250 : backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
}

const registry_backend registry_etcd_backend = {
    .add = etcd_add,
    .keepalive = etcd_keepalive,
    .deregister = etcd_deregister,
    .list = etcd_list,
    .services = etcd_services,
    .lease_ttl = etcd_lease_ttl,
    .watch = etcd_watch,
};
