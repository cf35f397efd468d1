/* gateway_routes.c -- the gateway's REST routes: the route table, the user, order and
 * arith routes, and the request's life in libmicrohttpd (body, framing, parked logins). */
#include "gateway_http.h"

#include <netinet/in.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/log.h"

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
        rq->ok = gateway_call(rq->svc, rq->method, rq->arg, rq->idempotent, &rq->out);
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
        return gateway_send_outcome(c, &rq->out);
    enum MHD_Result r = gateway_send_value(c, rq->ok_status, rq->out.reply);
    value_free(rq->out.reply);
    rq->out.reply = NULL;
    return r;
}

static enum MHD_Result user_register(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)arg;
    enum MHD_Result sent;
    value *v = gateway_read_body(c, rq, credentials, 2, &sent);
    /* not retried: a sign-up that reached an instance whose reply was lost would be
     * refused as ALREADY_EXISTS the second time */
    return v ? park(c, rq, "/user.User/SignUp", v, false, 201) : sent;
}

static enum MHD_Result user_login(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)arg;
    enum MHD_Result sent;
    value *v = gateway_read_body(c, rq, credentials, 2, &sent);
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
        return gateway_send_outcome(c, &o);
    }
    if (!(rq->user = strdup(name->u.s.p))) {
        value_free(v);
        return gateway_send_error(c, 500, "INTERNAL", "out of memory");
    }
    return park(c, rq, "/user.User/Login", v, true, 200);
}

static enum MHD_Result orders_place(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)arg;
    static const field_spec fields[] = {{"item", false}, {"quantity", true}};
    return gateway_create(c, rq, SVC_ORDER, "/order.Order/Place", fields, 2);
}

static enum MHD_Result orders_get(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)rq;
    enum MHD_Result sent;
    char user[128];
    int64_t id;
    if (!gateway_parse_int(arg, &id) || id <= 0)
        return gateway_send_error(c, 400, "INVALID_ARGUMENT", "the order id must be a positive integer, not \"%.40s\"",
                                  arg);
    if (!gateway_authenticate(c, user, sizeof user, &sent))
        return sent;
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "id", value_int(id)) < 0 || value_struct_set(v, "user", value_cstring(user)) < 0) {
        value_free(v);
        return gateway_send_error(c, 500, "INTERNAL", "out of memory");
    }
    return gateway_reply_call(c, SVC_ORDER, "/order.Order/Get", v, true, 200);
}

static enum MHD_Result orders_list(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)rq;
    (void)arg;
    enum MHD_Result sent;
    char user[128];
    if (!gateway_authenticate(c, user, sizeof user, &sent))
        return sent;
    const char *who = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "user");
    if (who && strcmp(who, user) != 0)
        return gateway_send_error(c, 403, "PERMISSION_DENIED", "the token is %s's: it lists only %s's orders", user,
                                  user);
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "user", value_cstring(user)) < 0) {
        value_free(v);
        return gateway_send_error(c, 500, "INTERNAL", "out of memory");
    }
    return gateway_reply_call(c, SVC_ORDER, "/order.Order/List", v, true, 200);
}

static enum MHD_Result arith_multiply(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)rq;
    (void)arg;
    const char *a = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "a");
    const char *b = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "b");
    int64_t x, y;
    if (!gateway_parse_int(a, &x) || !gateway_parse_int(b, &y))
        return gateway_send_error(c, 400, "INVALID_ARGUMENT", "a and b must be integers: /arith/multiply?a=7&b=8");
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "A", value_int(x)) < 0 || value_struct_set(v, "B", value_int(y)) < 0) {
        value_free(v);
        return gateway_send_error(c, 500, "INTERNAL", "out of memory");
    }
    return gateway_reply_call(c, SVC_ARITH, "/arith.Arith/Multiply", v, true, 200);
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
    {"POST", "/post", gateway_post_create},
    {"GET", "/post", gateway_post_list},
    {"GET", "/post/*", gateway_post_get},
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
        return gateway_send_error_body(c, 405, "UNIMPLEMENTED", allow, 0, msg);
    }
    return gateway_send_error(c, 404, "NOT_FOUND",
                              "no route %s %.200s: the routes are POST /user/register, POST /user/login, POST /orders, "
                              "GET /orders/{id}, GET /orders?user=NAME, GET /arith/multiply?a=..&b=.., POST /post, "
                              "GET /post/{id} and GET /post?user=NAME",
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
        *sent = gateway_send_error(c, 400, "INVALID_ARGUMENT",
                                   "the request has both Content-Length and Transfer-Encoding: send one of them");
    else if (f.lengths_differ)
        *sent = gateway_send_error(c, 400, "INVALID_ARGUMENT",
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
        if (len && gateway_parse_int(len, &n) && n > gw.max_body) {
            rq->answered = true; /* libmicrohttpd closes the connection instead of reading the body */
            return gateway_send_error(c, 413, "RESOURCE_EXHAUSTED", "the body is %" PRId64 " bytes; at most %d",
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
        return gateway_send_error(c, 413, "RESOURCE_EXHAUSTED", "the body is larger than %d bytes", gw.max_body);
    if (!has_body(method) && buf_size(&rq->body) > 0)
        return gateway_send_error(c, 400, "INVALID_ARGUMENT", "%s takes no body", method);
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
