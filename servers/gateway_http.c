/* gateway_http.c -- what the gateway's routes share: JSON replies and errors, the gRPC
 * call through this thread's balancer with its status mapped to HTTP, the JSON body
 * read against the fields a route takes, and the bearer token checked. */
#include "gateway_http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "rpc/grpcserver.h"
#include "wire/grpc_status.h"
#include "wire/jsonval.h"

#define MAX_TOKEN 128

/* ---- HTTP replies ---- */

/* allow: the Allow header of a 405, or NULL; retry_after: the Retry-After of a 429 in
 * seconds, or 0. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, const char *json, size_t n,
                                 const char *allow, int retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)json, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (allow)
        MHD_add_response_header(r, "Allow", allow);
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    if (retry_after > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result gateway_send_error_body(struct MHD_Connection *c, unsigned status, const char *code,
                                       const char *allow, int retry_after, const char *msg)
{
    static const char oom[] = "{\"error\":\"out of memory\",\"code\":\"INTERNAL\"}";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    cJSON_AddStringToObject(o, "code", code);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return send_json(c, 500, oom, sizeof oom - 1, NULL, 0);
    enum MHD_Result ok = send_json(c, status, text, strlen(text), allow, retry_after);
    free(text);
    return ok;
}

enum MHD_Result gateway_send_error(struct MHD_Connection *c, unsigned status, const char *code,
                                  const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return gateway_send_error_body(c, status, code, NULL, 0, msg);
}

static const struct {
    int code;
    unsigned http;
} status_map[] = {
    {GRPC_INVALID_ARGUMENT, 400}, {GRPC_OUT_OF_RANGE, 400},  {GRPC_FAILED_PRECONDITION, 400},
    {GRPC_UNAUTHENTICATED, 401},  {GRPC_PERMISSION_DENIED, 403}, {GRPC_NOT_FOUND, 404},
    {GRPC_ALREADY_EXISTS, 409},   {GRPC_ABORTED, 409},       {GRPC_RESOURCE_EXHAUSTED, 429},
    {GRPC_CANCELLED, 499},        {GRPC_UNIMPLEMENTED, 501}, {GRPC_UNAVAILABLE, 503},
    {GRPC_DEADLINE_EXCEEDED, 504},
};

static unsigned http_status(int code)
{
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (status_map[i].code == code)
            return status_map[i].http;
    return 500;
}

/* ---- calling the services ---- */

bool gateway_call(int svc, const char *method, const value *arg, bool idempotent, outcome *o)
{
    char err[600];
    o->reply = NULL;
    o->retry_after = 0;
    balancer *lb = gateway_balancer(svc);
    if (!lb) {
        o->http = 500, o->code = "INTERNAL";
        snprintf(o->msg, sizeof o->msg, "out of memory");
        return false;
    }
    lb_result res;
    call_status st = balancer_call(lb, method, arg, idempotent, &o->reply, &res, err, sizeof err);
    switch (st) {
    case CALL_OK:
        return true;
    case CALL_REMOTE_ERROR: {
        bool known = grpc_status_known(res.status);
        int code = known ? res.status : GRPC_UNKNOWN;
        o->http = http_status(code);
        o->code = grpc_status_name(code);
        snprintf(o->msg, sizeof o->msg, "%s", known ? res.message : err);
        if (code == GRPC_UNAUTHENTICATED && strncmp(res.message, GRPC_CALLER_REFUSED, strlen(GRPC_CALLER_REFUSED)) == 0) {
            o->http = 502; /* the service refused the gateway, not the user */
            snprintf(o->msg, sizeof o->msg, "the %s service refused the gateway (%.300s); give the gateway the "
                     "services' --caller-secret-file", gw.dir[svc].name, res.message);
        }
        return false;
    }
    case CALL_BAD_ARGUMENT:
        o->http = 400, o->code = "INVALID_ARGUMENT";
        snprintf(o->msg, sizeof o->msg, "%s", err);
        return false;
    default:
        if (res.instance < 0) {
            o->http = 503, o->code = "UNAVAILABLE";
            snprintf(o->msg, sizeof o->msg, "no live instance of the %s service in the registry",
                     gw.dir[svc].name);
        } else if (res.status == GRPC_DEADLINE_EXCEEDED) {
            o->http = 504, o->code = "DEADLINE_EXCEEDED";
            snprintf(o->msg, sizeof o->msg, "the %s service did not answer within %d ms", gw.dir[svc].name,
                     gw.timeout_ms);
        } else {
            o->http = 503, o->code = "UNAVAILABLE";
            snprintf(o->msg, sizeof o->msg, "the %s service is unavailable: %.400s", gw.dir[svc].name, err);
        }
        return false;
    }
}

enum MHD_Result gateway_send_outcome(struct MHD_Connection *c, outcome *o)
{
    return gateway_send_error_body(c, o->http, o->code, NULL, o->retry_after, o->msg);
}

enum MHD_Result gateway_send_value(struct MHD_Connection *c, unsigned status, const value *v)
{
    buf out;
    buf_init(&out, 64u << 20);
    enum MHD_Result ok = jsonval_write(v, &out) < 0
                             ? gateway_send_error(c, 500, "INTERNAL", "the reply is too large")
                             : send_json(c, status, (const char *)buf_data(&out), buf_size(&out), NULL, 0);
    buf_done(&out);
    return ok;
}

/* ---- reading requests ---- */

value *gateway_read_body(struct MHD_Connection *c, request *rq, const field_spec *allowed, size_t n,
                        enum MHD_Result *sent)
{
    char err[400];
    if (buf_size(&rq->body) == 0) {
        *sent = gateway_send_error(c, 400, "INVALID_ARGUMENT", "the request has no body: send a JSON object");
        return NULL;
    }
    value *v = jsonval_parse((const char *)buf_data(&rq->body), buf_size(&rq->body), err, sizeof err);
    if (!v) {
        *sent = gateway_send_error(c, 400, "INVALID_ARGUMENT", "the body is not valid JSON: %s", err);
        return NULL;
    }
    if (v->kind != V_MAP) {
        *sent = gateway_send_error(c, 400, "INVALID_ARGUMENT", "the body must be a JSON object, not %s",
                                   value_kind_name(v->kind));
        value_free(v);
        return NULL;
    }
    char names[200] = "";
    for (size_t k = 0; k < n; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", allowed[k].name);
    for (size_t i = 0; i < v->u.map.len; i++) {
        const value *key = v->u.map.items[i].k, *val = v->u.map.items[i].v;
        const field_spec *f = NULL;
        for (size_t k = 0; k < n && !f; k++)
            if (strcmp(allowed[k].name, key->u.s.p) == 0)
                f = &allowed[k];
        if (!f) {
            *sent = gateway_send_error(c, 400, "INVALID_ARGUMENT", "unknown field \"%.100s\": this route takes %s",
                                       key->u.s.p, names);
            value_free(v);
            return NULL;
        }
        bool good = f->is_int ? val->kind == V_INT || val->kind == V_UINT : val->kind == V_STRING;
        if (!good) {
            *sent = gateway_send_error(c, 400, "INVALID_ARGUMENT", "field \"%s\" must be %s, not %s", f->name,
                                       f->is_int ? "an integer" : "a string", value_kind_name(val->kind));
            value_free(v);
            return NULL;
        }
    }
    for (size_t k = 0; k < n; k++)
        if (!value_get(v, allowed[k].name)) {
            *sent = gateway_send_error(c, 400, "INVALID_ARGUMENT", "missing field \"%s\": this route takes %s",
                                       allowed[k].name, names);
            value_free(v);
            return NULL;
        }
    return v;
}

bool gateway_authenticate(struct MHD_Connection *c, char *user, size_t n, enum MHD_Result *sent)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        *sent = gateway_send_error(c, 401, "UNAUTHENTICATED",
                                   "this route needs a token: send Authorization: Bearer TOKEN (POST /user/login gives one)");
        return false;
    }
    const char *token = h + 7;
    if (strlen(token) > MAX_TOKEN) {
        *sent = gateway_send_error(c, 401, "UNAUTHENTICATED", "the token is longer than %d characters",
                                   MAX_TOKEN);
        return false;
    }
    value *arg = value_struct(NULL);
    if (!arg || value_struct_set(arg, "token", value_cstring(token)) < 0) {
        value_free(arg);
        *sent = gateway_send_error(c, 500, "INTERNAL", "out of memory");
        return false;
    }
    outcome o;
    bool ok = gateway_call(SVC_USER, "/user.User/Verify", arg, true, &o);
    value_free(arg);
    if (!ok) {
        *sent = gateway_send_outcome(c, &o);
        return false;
    }
    const value *name = value_get(o.reply, "name");
    snprintf(user, n, "%s", name && name->kind == V_STRING ? name->u.s.p : "");
    value_free(o.reply);
    return true;
}

bool gateway_parse_int(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || s[0] == '+' || s[0] == ' ')
        return false;
    *out = v;
    return true;
}

enum MHD_Result gateway_reply_call(struct MHD_Connection *c, int svc, const char *method, value *arg,
                                  bool idempotent, unsigned ok_status)
{
    outcome o;
    bool ok = gateway_call(svc, method, arg, idempotent, &o);
    value_free(arg);
    if (!ok)
        return gateway_send_outcome(c, &o);
    enum MHD_Result r = gateway_send_value(c, ok_status, o.reply);
    value_free(o.reply);
    return r;
}

/* A random request id: 32 hex digits. */
static void random_id(char *out, size_t n)
{
    uint8_t rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(out, n, "t%lld.%ld.%lu", (long long)ts.tv_sec, ts.tv_nsec, (unsigned long)pthread_self());
        return;
    }
    for (size_t i = 0; i < sizeof rnd && 2 * i + 2 < n; i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

bool gateway_request_key(struct MHD_Connection *c, char *out, size_t n, enum MHD_Result *sent)
{
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    if (key && (strlen(key) == 0 || strlen(key) > 100)) {
        *sent = gateway_send_error(c, 400, "INVALID_ARGUMENT", "Idempotency-Key must be 1 to 100 characters");
        return false;
    }
    if (key) /* the service scopes it to the user */
        snprintf(out, n, "%s", key);
    else
        random_id(out, n);
    return true;
}

enum MHD_Result gateway_create(struct MHD_Connection *c, request *rq, int svc, const char *method,
                               const field_spec *fields, size_t n)
{
    enum MHD_Result sent;
    char user[128], rid[240];
    if (!gateway_authenticate(c, user, sizeof user, &sent))
        return sent;
    value *body = gateway_read_body(c, rq, fields, n, &sent);
    if (!body)
        return sent;
    if (!gateway_request_key(c, rid, sizeof rid, &sent)) {
        value_free(body);
        return sent;
    }
    value *v = value_struct(NULL);
    bool ok = v && value_struct_set(v, "user", value_cstring(user)) == 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = value_struct_set(v, fields[i].name, value_clone(value_get(body, fields[i].name))) == 0;
    ok = ok && value_struct_set(v, "request_id", value_cstring(rid)) == 0;
    value_free(body);
    if (!ok) {
        value_free(v);
        return gateway_send_error(c, 500, "INTERNAL", "out of memory");
    }
    return gateway_reply_call(c, svc, method, v, true, 201);
}
