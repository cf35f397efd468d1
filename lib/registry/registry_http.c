/* registry_http.c -- the plumbing both backends share: HTTP over libcurl with timeouts,
 * a capped reply, cancelling and endpoint failover, and the JSON helpers for the replies. */
#include "registry/registry_int.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/esc.h"
#include "base/i18n.h"
#include "base/net.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

size_t registry_http_write_buf(char *p, size_t size, size_t n, void *ctx)
{
    return buf_append(ctx, p, size * n) < 0 ? 0 : size * n;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ctx)
{
    registry_http_req *q = ctx;
    size_t len = size * n;
    static const char H[] = "x-consul-index:";
    if (len > sizeof H - 1 && strncasecmp(p, H, sizeof H - 1) == 0)
        q->index = strtoll(p + sizeof H - 1, NULL, 10);
    return len;
}

/* Counts the reply body on its way to the request's own writer. */
typedef struct counted {
    registry *r;
    registry_http_req *q;
    uint64_t seen;
} counted;

static size_t counted_write(char *p, size_t size, size_t n, void *ctx)
{
    counted *c = ctx;
    size_t took = c->q->write(p, size, n, c->q->write_ctx);
    c->seen += took;
    atomic_fetch_add(&c->r->bytes_read, took);
    return took;
}

static int progress_cb(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    const atomic_bool *cancel = ctx;
    return cancel && atomic_load(cancel) ? 1 : 0;
}

/* The request headers: JSON body, Consul ACL token, etcd token. */
static struct curl_slist *headers(const registry *r, const registry_http_req *q)
{
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
    return curl_slist_append(h, "Expect:");
}

/* Whether endpoint (HOST:PORT) is this machine: 127.0.0.0/8, ::1 or localhost. */
static bool on_loopback(const char *endpoint)
{
    char host[256];
    int port;
    if (net_split(endpoint, host, sizeof host, &port, NULL, 0) < 0)
        return false;
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 || strcasecmp(host, "localhost") == 0;
}

/* The common ways a request fails, in words a translation can carry (libcurl's are
 * English only). */
static const char *curl_words(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT: return N_("nothing answers at this address");
    case CURLE_COULDNT_RESOLVE_HOST: return N_("the host name does not resolve");
    case CURLE_OPERATION_TIMEDOUT: return N_("no answer in time");
    case CURLE_GOT_NOTHING: return N_("the connection closed without a reply");
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: return N_("the connection broke");
    default: return NULL;
    }
}

/* One request to one endpoint. Returns 0 with q->status set, -1 when the endpoint could
 * not be reached or the transfer failed, -2 when the reply was refused by the writer or
 * the request cancelled (no other endpoint should be tried); reason in err. */
static int http_once(registry *r, const char *endpoint, registry_http_req *q, char *err,
                     size_t errlen)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (!c) {
        err_set(err, errlen, _("cannot start libcurl"));
        return -1;
    }
    char url[1200], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof url, "http://%s%s", endpoint, q->path);
    struct curl_slist *h = headers(r, q);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    if (q->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
    } else if (strcmp(q->method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (q->compressed && !on_loopback(endpoint))
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)REGISTRY_CONNECT_TIMEOUT_MS);
    if (q->timeout_ms > 0)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, q->timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 5L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 2L);
    counted cw = {r, q, 0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, counted_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &cw);
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
    curl_off_t wire = 0;
    long head = 0;
    /* the body was counted as written (decoded); what came over the wire replaces it */
    if (curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &wire) == CURLE_OK &&
        curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &head) == CURLE_OK)
        atomic_fetch_add(&r->bytes_read, (uint64_t)wire + (uint64_t)head - cw.seen);
    int ret = 0;
    if (rc == CURLE_WRITE_ERROR) {
        err_set(err, errlen, _("%s: reply larger than %d bytes or not understood"), endpoint,
                REGISTRY_MAX_RESPONSE);
        ret = -2;
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
        err_set(err, errlen, _("cancelled"));
        ret = -2;
    } else if (rc != CURLE_OK) {
        const char *said = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        const char *ours = curl_words(rc);
        /* English keeps libcurl's own words; another language puts its own first */
        if (ours && i18n_current() != I18N_EN)
            err_set(err, errlen, _("%s: %s (%s)"), endpoint, _(ours), said);
        else
            err_set(err, errlen, "%s: %s", endpoint, said);
        ret = -1;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &q->status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return ret;
}

int registry_http_do(registry *r, registry_http_req *q, char *err, size_t errlen)
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

uint64_t registry_bytes_read(const registry *r)
{
    return atomic_load(&r->bytes_read);
}

const char *registry_endpoint(const registry *r)
{
    return r->nend ? r->endpoints[r->cur] : "";
}

int registry_http_call(registry *r, const char *method, const char *path, const char *body,
                       buf *resp, registry_http_req *out, char *err, size_t errlen)
{
    registry_http_req q = {.method = method, .path = path, .body = body,
                           .write = registry_http_write_buf, .write_ctx = resp,
                           .timeout_ms = REGISTRY_TIMEOUT_MS, .need_auth = true};
    buf_clear(resp);
    int rc = registry_http_do(r, &q, err, errlen);
    if (out)
        *out = q;
    return rc;
}

void registry_http_escape(const char *s, char *out, size_t cap)
{
    pthread_once(&curl_once, curl_init_once);
    char *esc = curl_easy_escape(NULL, s, 0);
    registry_copy(out, cap, esc ? esc : s);
    curl_free(esc);
}

/* ---- JSON ---- */

cJSON *registry_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j) { /* the reply is quoted escaped: it goes to logs and terminals */
        char shown[4 * 120 + 4];
        err_set(err, errlen, _("registry answered with something that is not JSON: %s"),
                esc_bytes(shown, sizeof shown, text, len > 120 ? 120 : len));
    }
    return j;
}

bool registry_json_int(const cJSON *o, const char *name, int64_t *v)
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

const char *registry_json_str(const cJSON *o, const char *name)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

int registry_json_put(buf *out, cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!s)
        return -1;
    int rc = buf_puts(out, s);
    free(s);
    return rc;
}
