/* gateway_routes.c -- the gateway's REST routes: read the JSON body, check the token,
 * make the gRPC call through this thread's balancer, and answer with JSON. */
#include "gateway_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
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

/* {"error":"message","code":"GRPC_NAME"}, with an Allow header when allow is set and a
 * Retry-After when retry_after is positive. */
static enum MHD_Result send_error_body(struct MHD_Connection *c, unsigned status, const char *code,
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

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code,
                                  const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return send_error_body(c, status, code, NULL, 0, msg);
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

typedef struct outcome {
    value *reply;  /* on success */
    unsigned http; /* on failure: the status to answer with */
    const char *code;
    int retry_after; /* seconds, for a 429; 0: no Retry-After */
    char msg[600];
} outcome;

/* Calls method of service svc with arg through this thread's balancer. Returns true with
 * o->reply set, or false with the HTTP error in o. */
static bool call(int svc, const char *method, const value *arg, bool idempotent, outcome *o)
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

static enum MHD_Result send_outcome(struct MHD_Connection *c, outcome *o)
{
    return send_error_body(c, o->http, o->code, NULL, o->retry_after, o->msg);
}

/* One request's state across libmicrohttpd's calls of the access handler. */
typedef struct request {
    buf body;
    bool too_big;
    bool answered; /* a reply was queued before the body was read */
    /* a call handed to a login thread while the connection is suspended */
    bool parked;
    atomic_bool done; /* the call has ended: the fields below are the thread's no more */
    struct MHD_Connection *conn;
    int svc;
    const char *method;
    value *arg;
    bool idempotent;
    unsigned ok_status;
    char *user; /* a login's name, whose budget the call settles; NULL otherwise */
    struct sockaddr_storage addr;
    bool has_addr;
    bool ok;
    outcome out;
} request;

static enum MHD_Result send_value(struct MHD_Connection *c, unsigned status, const value *v)
{
    buf out;
    buf_init(&out, 64u << 20);
    enum MHD_Result ok = jsonval_write(v, &out) < 0
                             ? send_error(c, 500, "INTERNAL", "the reply is too large")
                             : send_json(c, status, (const char *)buf_data(&out), buf_size(&out), NULL, 0);
    buf_done(&out);
    return ok;
}

/* ---- reading requests ---- */

/* The JSON object of the body, with only the fields in allowed (each a string or an
 * integer as the route says). NULL with a 400 already queued. */
typedef struct field_spec {
    const char *name;
    bool is_int;
} field_spec;

static value *read_body(struct MHD_Connection *c, request *rq, const field_spec *allowed, size_t n,
                        enum MHD_Result *sent)
{
    char err[400];
    if (buf_size(&rq->body) == 0) {
        *sent = send_error(c, 400, "INVALID_ARGUMENT", "the request has no body: send a JSON object");
        return NULL;
    }
    value *v = jsonval_parse((const char *)buf_data(&rq->body), buf_size(&rq->body), err, sizeof err);
    if (!v) {
        *sent = send_error(c, 400, "INVALID_ARGUMENT", "the body is not valid JSON: %s", err);
        return NULL;
    }
    if (v->kind != V_MAP) {
        *sent = send_error(c, 400, "INVALID_ARGUMENT", "the body must be a JSON object, not %s",
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
            *sent = send_error(c, 400, "INVALID_ARGUMENT", "unknown field \"%.100s\": this route takes %s",
                               key->u.s.p, names);
            value_free(v);
            return NULL;
        }
        bool good = f->is_int ? val->kind == V_INT || val->kind == V_UINT : val->kind == V_STRING;
        if (!good) {
            *sent = send_error(c, 400, "INVALID_ARGUMENT", "field \"%s\" must be %s, not %s", f->name,
                               f->is_int ? "an integer" : "a string", value_kind_name(val->kind));
            value_free(v);
            return NULL;
        }
    }
    for (size_t k = 0; k < n; k++)
        if (!value_get(v, allowed[k].name)) {
            *sent = send_error(c, 400, "INVALID_ARGUMENT", "missing field \"%s\": this route takes %s",
                               allowed[k].name, names);
            value_free(v);
            return NULL;
        }
    return v;
}

/* Checks the bearer token with the user service. Returns true with the user's name, or
 * false with the error queued. */
static bool authenticate(struct MHD_Connection *c, char *user, size_t n, enum MHD_Result *sent)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        *sent = send_error(c, 401, "UNAUTHENTICATED",
                           "this route needs a token: send Authorization: Bearer TOKEN (POST /user/login gives one)");
        return false;
    }
    const char *token = h + 7;
    if (strlen(token) > MAX_TOKEN) {
        *sent = send_error(c, 401, "UNAUTHENTICATED", "the token is longer than %d characters", MAX_TOKEN);
        return false;
    }
    value *arg = value_struct(NULL);
    if (!arg || value_struct_set(arg, "token", value_cstring(token)) < 0) {
        value_free(arg);
        *sent = send_error(c, 500, "INTERNAL", "out of memory");
        return false;
    }
    outcome o;
    bool ok = call(SVC_USER, "/user.User/Verify", arg, true, &o);
    value_free(arg);
    if (!ok) {
        *sent = send_outcome(c, &o);
        return false;
    }
    const value *name = value_get(o.reply, "name");
    snprintf(user, n, "%s", name && name->kind == V_STRING ? name->u.s.p : "");
    value_free(o.reply);
    return true;
}

/* A strictly decimal int64 (optional minus sign). */
static bool parse_int(const char *s, int64_t *out)
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

/* ---- the routes ---- */

typedef enum MHD_Result (*route_fn)(struct MHD_Connection *c, request *rq, const char *arg);

static enum MHD_Result reply_call(struct MHD_Connection *c, int svc, const char *method, value *arg,
                                  bool idempotent, unsigned ok_status)
{
    outcome o;
    bool ok = call(svc, method, arg, idempotent, &o);
    value_free(arg);
    if (!ok)
        return send_outcome(c, &o);
    enum MHD_Result r = send_value(c, ok_status, o.reply);
    value_free(o.reply);
    return r;
}

/* ---- the calls that hash a password ----
 * They run on the login threads (gateway_throttle.c), not on libmicrohttpd's: the
 * connection is suspended meanwhile, so a flood of logins waits there and every other
 * route keeps its threads. */

static const field_spec credentials[] = {{"name", false}, {"password", false}};

static void too_busy(outcome *o, const char *why)
{
    o->reply = NULL;
    o->http = 429, o->code = "RESOURCE_EXHAUSTED", o->retry_after = 1;
    snprintf(o->msg, sizeof o->msg, "%s: try again in a second", why);
}

/* On a login thread: makes the call, settles a login's budgets, and resumes the
 * connection, after which rq is libmicrohttpd's again. */
static void run_parked(void *p, uint64_t waited_ms, bool cancelled)
{
    request *rq = p;
    if (cancelled) {
        rq->ok = false;
        rq->out = (outcome){.http = 503, .code = "UNAVAILABLE"};
        snprintf(rq->out.msg, sizeof rq->out.msg, "the gateway is stopping");
    } else if (waited_ms > (uint64_t)gw.timeout_ms) {
        rq->ok = false;
        too_busy(&rq->out, "the gateway's login threads were busy for longer than --timeout");
    } else {
        rq->ok = call(rq->svc, rq->method, rq->arg, rq->idempotent, &rq->out);
    }
    value_free(rq->arg);
    rq->arg = NULL;
    if (rq->user && (rq->ok || rq->out.http == 401)) /* else the password was not judged */
        gateway_throttle_settle(rq->user, rq->has_addr ? (struct sockaddr *)&rq->addr : NULL, !rq->ok);
    struct MHD_Connection *c = rq->conn;
    atomic_store(&rq->done, true);
    MHD_resume_connection(c);
}

/* Suspends the connection and queues the call of method with arg (taken) for a login
 * thread; when the queue is full, the answer is a 429 at once. */
static enum MHD_Result park(struct MHD_Connection *c, request *rq, const char *method, value *arg, bool idempotent,
                            unsigned ok_status)
{
    rq->conn = c, rq->svc = SVC_USER, rq->method = method, rq->arg = arg;
    rq->idempotent = idempotent, rq->ok_status = ok_status;
    rq->parked = true;
    MHD_suspend_connection(c);
    if (gateway_throttle_submit(run_parked, rq))
        return MHD_YES;
    value_free(rq->arg);
    rq->arg = NULL;
    rq->ok = false;
    too_busy(&rq->out, "too many sign-ups and logins are waiting");
    atomic_store(&rq->done, true);
    MHD_resume_connection(c);
    return MHD_YES;
}

/* After the connection is resumed: the parked call's answer. */
static enum MHD_Result answer_parked(struct MHD_Connection *c, request *rq)
{
    if (!atomic_load(&rq->done))
        return MHD_YES;
    rq->parked = false;
    if (!rq->ok)
        return send_outcome(c, &rq->out);
    enum MHD_Result r = send_value(c, rq->ok_status, rq->out.reply);
    value_free(rq->out.reply);
    rq->out.reply = NULL;
    return r;
}

static enum MHD_Result user_register(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)arg;
    enum MHD_Result sent;
    value *v = read_body(c, rq, credentials, 2, &sent);
    /* not retried: a sign-up that reached an instance whose reply was lost would be
     * refused as ALREADY_EXISTS the second time */
    return v ? park(c, rq, "/user.User/SignUp", v, false, 201) : sent;
}

static enum MHD_Result user_login(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)arg;
    enum MHD_Result sent;
    value *v = read_body(c, rq, credentials, 2, &sent);
    if (!v)
        return sent;
    const value *name = value_get(v, "name");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        memcpy(&rq->addr, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
        rq->has_addr = true;
    }
    int wait = 0;
    const struct sockaddr *from = rq->has_addr ? (struct sockaddr *)&rq->addr : NULL;
    throttle_verdict tv = gateway_throttle_check(name->u.s.p, from, &wait);
    if (tv != THROTTLE_OK) {
        outcome o = {.http = 429, .code = "RESOURCE_EXHAUSTED", .retry_after = wait};
        if (tv == THROTTLE_USER)
            snprintf(o.msg, sizeof o.msg, "too many failed logins as \"%.100s\": try again in %d s", name->u.s.p, wait);
        else
            snprintf(o.msg, sizeof o.msg, "too many failed logins from your address: try again in %d s", wait);
        value_free(v);
        return send_outcome(c, &o);
    }
    if (!(rq->user = strdup(name->u.s.p))) {
        value_free(v);
        return send_error(c, 500, "INTERNAL", "out of memory");
    }
    return park(c, rq, "/user.User/Login", v, true, 200);
}

/* A random request id, so a Place retried on another instance does not order twice. */
static void request_id(char *out, size_t n)
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

static enum MHD_Result orders_place(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)arg;
    static const field_spec fields[] = {{"item", false}, {"quantity", true}};
    enum MHD_Result sent;
    char user[128], rid[240];
    if (!authenticate(c, user, sizeof user, &sent))
        return sent;
    value *body = read_body(c, rq, fields, 2, &sent);
    if (!body)
        return sent;
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    if (key && (strlen(key) == 0 || strlen(key) > 100)) {
        value_free(body);
        return send_error(c, 400, "INVALID_ARGUMENT", "Idempotency-Key must be 1 to 100 characters");
    }
    if (key) /* the order service scopes it to the user */
        snprintf(rid, sizeof rid, "%s", key);
    else
        request_id(rid, sizeof rid);
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "user", value_cstring(user)) < 0 ||
        value_struct_set(v, "item", value_clone(value_get(body, "item"))) < 0 ||
        value_struct_set(v, "quantity", value_clone(value_get(body, "quantity"))) < 0 ||
        value_struct_set(v, "request_id", value_cstring(rid)) < 0) {
        value_free(v);
        value_free(body);
        return send_error(c, 500, "INTERNAL", "out of memory");
    }
    value_free(body);
    return reply_call(c, SVC_ORDER, "/order.Order/Place", v, true, 201);
}

static enum MHD_Result orders_get(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)rq;
    enum MHD_Result sent;
    char user[128];
    int64_t id;
    if (!parse_int(arg, &id) || id <= 0)
        return send_error(c, 400, "INVALID_ARGUMENT", "the order id must be a positive integer, not \"%.40s\"", arg);
    if (!authenticate(c, user, sizeof user, &sent))
        return sent;
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "id", value_int(id)) < 0 || value_struct_set(v, "user", value_cstring(user)) < 0) {
        value_free(v);
        return send_error(c, 500, "INTERNAL", "out of memory");
    }
    return reply_call(c, SVC_ORDER, "/order.Order/Get", v, true, 200);
}

static enum MHD_Result orders_list(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)rq;
    (void)arg;
    enum MHD_Result sent;
    char user[128];
    if (!authenticate(c, user, sizeof user, &sent))
        return sent;
    const char *who = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "user");
    if (who && strcmp(who, user) != 0)
        return send_error(c, 403, "PERMISSION_DENIED", "the token is %s's: it lists only %s's orders", user, user);
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "user", value_cstring(user)) < 0) {
        value_free(v);
        return send_error(c, 500, "INTERNAL", "out of memory");
    }
    return reply_call(c, SVC_ORDER, "/order.Order/List", v, true, 200);
}

static enum MHD_Result arith_multiply(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)rq;
    (void)arg;
    const char *a = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "a");
    const char *b = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "b");
    int64_t x, y;
    if (!parse_int(a, &x) || !parse_int(b, &y))
        return send_error(c, 400, "INVALID_ARGUMENT", "a and b must be integers: /arith/multiply?a=7&b=8");
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "A", value_int(x)) < 0 || value_struct_set(v, "B", value_int(y)) < 0) {
        value_free(v);
        return send_error(c, 500, "INTERNAL", "out of memory");
    }
    return reply_call(c, SVC_ARITH, "/arith.Arith/Multiply", v, true, 200);
}

static const struct route {
    const char *method;
    const char *path;   /* a trailing '*' matches one more path segment, passed as arg */
    route_fn fn;
} routes[] = {
    {"POST", "/user/register", user_register},
    {"POST", "/user/login", user_login},
    {"POST", "/orders", orders_place},
    {"GET", "/orders", orders_list},
    {"GET", "/orders/*", orders_get},
    {"GET", "/arith/multiply", arith_multiply},
};

/* Whether path matches the route's pattern; *arg is the '*' segment. */
static bool match(const char *pattern, const char *path, const char **arg)
{
    size_t n = strlen(pattern);
    *arg = NULL;
    if (pattern[n - 1] != '*')
        return strcmp(pattern, path) == 0;
    if (strncmp(pattern, path, n - 1) != 0 || !path[n - 1] || strchr(path + n - 1, '/'))
        return false;
    *arg = path + n - 1;
    return true;
}

static bool has_body(const char *method) { return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0; }

static enum MHD_Result dispatch(struct MHD_Connection *c, const char *url, const char *method, request *rq)
{
    char allow[64] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *arg;
        if (!match(routes[i].path, url, &arg))
            continue;
        if (strcmp(routes[i].method, method) == 0)
            return routes[i].fn(c, rq, arg);
        snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", allow[0] ? ", " : "",
                 routes[i].method);
    }
    if (allow[0]) {
        char msg[400];
        snprintf(msg, sizeof msg, "%.16s %.200s is not served; use %s", method, url, allow);
        return send_error_body(c, 405, "UNIMPLEMENTED", allow, 0, msg);
    }
    return send_error(c, 404, "NOT_FOUND",
                      "no route %s %.200s: the routes are POST /user/register, POST /user/login, POST /orders, "
                      "GET /orders/{id}, GET /orders?user=NAME and GET /arith/multiply?a=..&b=..",
                      method, url);
}

/* What the headers say about the body's length, every copy of each header counted. */
typedef struct framing {
    int lengths;          /* Content-Length headers */
    bool lengths_differ;  /* two of them disagree */
    const char *length;   /* the first one */
    bool transfer_coding; /* a Transfer-Encoding header */
} framing;

static enum MHD_Result note_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *val)
{
    (void)kind;
    framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_coding = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->lengths++ == 0)
            f->length = val ? val : "";
        else if (strcmp(f->length, val ? val : "") != 0)
            f->lengths_differ = true;
    }
    return MHD_YES;
}

/* A request whose length two parties could read two ways (RFC 9112 6.3: Content-Length
 * with Transfer-Encoding, or Content-Length values that disagree) is how requests are
 * smuggled past a proxy: it is refused with 400, and its connection is not reused.
 * Returns true with the reply queued. */
static bool refuse_ambiguous_length(struct MHD_Connection *c, enum MHD_Result *sent)
{
    framing f = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, note_framing, &f);
    if (f.transfer_coding && f.lengths)
        *sent = send_error(c, 400, "INVALID_ARGUMENT",
                           "the request has both Content-Length and Transfer-Encoding: send one of them");
    else if (f.lengths_differ)
        *sent = send_error(c, 400, "INVALID_ARGUMENT",
                           "the request has Content-Length headers that disagree: send one");
    else
        return false;
    return true;
}

enum MHD_Result gateway_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **ctx)
{
    (void)cls;
    (void)version;
    request *rq = *ctx;
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq)))
            return MHD_NO;
        buf_init(&rq->body, (size_t)gw.max_body);
        *ctx = rq;
        enum MHD_Result sent;
        if (refuse_ambiguous_length(c, &sent)) {
            rq->answered = true; /* as for a 413: the body is not read, the connection closes */
            return sent;
        }
        const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t n;
        if (len && parse_int(len, &n) && n > gw.max_body) {
            rq->answered = true; /* libmicrohttpd closes the connection instead of reading the body */
            return send_error(c, 413, "RESOURCE_EXHAUSTED", "the body is %" PRId64 " bytes; at most %d",
                              n, gw.max_body);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big && buf_append(&rq->body, upload, *upload_size) < 0) {
            rq->too_big = true;
            buf_done(&rq->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->parked)
        return answer_parked(c, rq);
    if (rq->answered)
        return MHD_YES;
    rq->answered = true;
    if (rq->too_big)
        return send_error(c, 413, "RESOURCE_EXHAUSTED", "the body is larger than %d bytes", gw.max_body);
    if (!has_body(method) && buf_size(&rq->body) > 0)
        return send_error(c, 400, "INVALID_ARGUMENT", "%s takes no body", method);
    return dispatch(c, url, method, rq);
}

void gateway_on_completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)c;
    request *rq = *ctx;
    if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK && why != MHD_REQUEST_TERMINATED_CLIENT_ABORT &&
        why != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
        log_msg("a request ended early (%s)", why == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED
                                                  ? "the client was idle past --idle-timeout"
                                                  : "an error while reading or writing");
    if (rq) {
        buf_done(&rq->body);
        value_free(rq->arg);
        value_free(rq->out.reply);
        free(rq->user);
        free(rq);
    }
    *ctx = NULL;
}
