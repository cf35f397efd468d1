/* gateway.c -- REST over HTTP/1.1 (libmicrohttpd) in front of the gRPC services found in the registry. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/net.h"
#include "base/numopt.h"
#include "registry/registry.h"
#include "rpc/balancer.h"
#include "wire/grpc_status.h"
#include "wire/jsonval.h"

#define MAX_MEMBERS 64
#define MAX_TOKEN 128
#define WATCH_POLL_MS 30
#define RELIST_MS 1000
#define SHUTDOWN_GRACE_MS 5000

/* ---- the services the routes call, and who serves them (from the registry) ---- */

enum { SVC_USER, SVC_ORDER, SVC_ARITH, NSVC };

typedef struct directory {
    char name[128];         /* the registry service name */
    pthread_mutex_t mu;
    char addrs[MAX_MEMBERS][128];
    size_t n;
    unsigned gen;           /* bumped on every change */
    registry_watch *watch;  /* only the membership thread touches this */
} directory;

typedef struct gateway {
    char registry_url[512];
    int timeout_ms, max_body;
    bool quiet;
    directory dir[NSVC];
    atomic_bool stop;
    pthread_t members;
    pthread_key_t worker_key;
} gateway;

static gateway gw;

/* Each libmicrohttpd worker thread has its own balancers (a balancer is single-threaded):
 * its own connections to the instances, synced with the directory when it changes. */
typedef struct worker {
    balancer *lb[NSVC];
    unsigned gen[NSVC];
} worker;

static void worker_free(void *p)
{
    worker *w = p;
    for (int i = 0; i < NSVC; i++)
        balancer_free(w->lb[i]);
    free(w);
}

static worker *worker_get(void)
{
    worker *w = pthread_getspecific(gw.worker_key);
    if (w)
        return w;
    if (!(w = calloc(1, sizeof *w)))
        return NULL;
    for (int i = 0; i < NSVC; i++)
        if (!(w->lb[i] = balancer_new(PROTO_GRPC, PICK_ROUND_ROBIN, gw.timeout_ms))) {
            worker_free(w);
            return NULL;
        }
    pthread_setspecific(gw.worker_key, w);
    return w;
}

/* Makes w's balancer for svc list exactly the directory's members. */
static void worker_sync(worker *w, int svc)
{
    directory *d = &gw.dir[svc];
    char addrs[MAX_MEMBERS][128];
    pthread_mutex_lock(&d->mu);
    unsigned gen = d->gen;
    size_t n = d->n;
    memcpy(addrs, d->addrs, n * sizeof addrs[0]);
    pthread_mutex_unlock(&d->mu);
    if (gen == w->gen[svc] && gen != 0 && w->lb[svc])
        return;
    if (!w->lb[svc] && !(w->lb[svc] = balancer_new(PROTO_GRPC, PICK_ROUND_ROBIN, gw.timeout_ms)))
        return;
    w->gen[svc] = gen;
    const char *list[MAX_MEMBERS];
    for (size_t k = 0; k < n; k++)
        list[k] = addrs[k];
    balancer_set_members(w->lb[svc], list, n);
}

static bool speaks_grpc(const registry_instance *in)
{
    return in->protocol[0] == '\0' || strcmp(in->protocol, "grpc") == 0;
}

/* With d->mu held. */
static void dir_put(directory *d, const char *addr)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->addrs[i], addr) == 0)
            return;
    if (d->n == MAX_MEMBERS)
        return;
    snprintf(d->addrs[d->n++], sizeof d->addrs[0], "%s", addr);
    d->gen++;
}

/* With d->mu held. */
static void dir_delete(directory *d, const char *addr)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->addrs[i], addr) == 0) {
            memmove(d->addrs[i], d->addrs[i + 1], (d->n - i - 1) * sizeof d->addrs[0]);
            d->n--;
            d->gen++;
            return;
        }
}

/* Lists the service and starts its watch. Returns 0, or -1 with err (try again later). */
static int dir_start(registry *reg, directory *d, char *err, size_t errlen)
{
    registry_instance *list = NULL;
    size_t n = 0;
    int64_t rev = 0;
    if (registry_list(reg, d->name, &list, &n, &rev, err, errlen) < 0)
        return -1;
    pthread_mutex_lock(&d->mu);
    d->n = 0;
    for (size_t i = 0; i < n; i++)
        if (speaks_grpc(&list[i]))
            dir_put(d, list[i].addr);
    d->gen++;
    size_t have = d->n;
    pthread_mutex_unlock(&d->mu);
    free(list);
    if (!(d->watch = registry_watch_start(reg, d->name, rev, err, errlen)))
        return -1;
    log_msg("registry: %zu instance(s) of %s", have, d->name);
    return 0;
}

/* The membership thread: list each service, then follow its changes. */
static void *members_main(void *arg)
{
    (void)arg;
    char err[512];
    registry *reg = registry_new(gw.registry_url, NULL, err, sizeof err);
    if (!reg) {
        log_msg("registry: %s", err);
        return NULL;
    }
    registry_set_cancel(reg, &gw.stop);
    uint64_t retry_at[NSVC] = {0};
    bool failing[NSVC] = {false}; /* said so once; say again when it works */
    while (!atomic_load(&gw.stop)) {
        bool waited = false;
        for (int s = 0; s < NSVC && !atomic_load(&gw.stop); s++) {
            directory *d = &gw.dir[s];
            if (!d->watch) {
                uint64_t now = clock_now_ms();
                if (now < retry_at[s])
                    continue;
                if (dir_start(reg, d, err, sizeof err) < 0) {
                    if (!failing[s])
                        log_msg("registry: cannot list %s (%s); trying again every %d ms", d->name, err,
                                RELIST_MS);
                    failing[s] = true;
                    retry_at[s] = now + RELIST_MS;
                } else {
                    failing[s] = false;
                }
                continue;
            }
            registry_event ev;
            int r;
            while ((r = registry_watch_next(d->watch, &ev, waited ? 0 : WATCH_POLL_MS)) == 1) {
                waited = true;
                pthread_mutex_lock(&d->mu);
                if (ev.type == REGISTRY_EV_PUT && speaks_grpc(&ev.inst))
                    dir_put(d, ev.inst.addr);
                else if (ev.type == REGISTRY_EV_DELETE)
                    dir_delete(d, ev.inst.addr);
                pthread_mutex_unlock(&d->mu);
                if (ev.type == REGISTRY_EV_PUT)
                    log_msg("registry: %s %s registered", d->name, ev.inst.addr);
                else if (ev.type == REGISTRY_EV_DELETE)
                    log_msg("registry: %s %s removed", d->name, ev.inst.addr);
                else if (ev.type == REGISTRY_EV_ERROR)
                    log_msg("registry: watch of %s: %s (keeping the instances known)", d->name, ev.msg);
            }
            waited = true;
            if (r < 0)
                break;
        }
        if (!waited)
            clock_sleep_us(WATCH_POLL_MS * 1000);
    }
    for (int s = 0; s < NSVC; s++) {
        registry_watch_free(gw.dir[s].watch);
        gw.dir[s].watch = NULL;
    }
    registry_free(reg);
    return NULL;
}

/* ---- HTTP replies ---- */

typedef struct request {
    buf body;
    bool too_big;
    bool answered; /* a reply was queued before the body was read */
} request;

/* allow: the Allow header of a 405, or NULL. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, const char *json, size_t n,
                                 const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)json, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (allow)
        MHD_add_response_header(r, "Allow", allow);
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* {"error":"message","code":"GRPC_NAME"}, with an Allow header when allow is set. */
static enum MHD_Result send_error_body(struct MHD_Connection *c, unsigned status, const char *code,
                                       const char *allow, const char *msg)
{
    static const char oom[] = "{\"error\":\"out of memory\",\"code\":\"INTERNAL\"}";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    cJSON_AddStringToObject(o, "code", code);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return send_json(c, 500, oom, sizeof oom - 1, NULL);
    enum MHD_Result ok = send_json(c, status, text, strlen(text), allow);
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
    return send_error_body(c, status, code, NULL, msg);
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
    char msg[600];
} outcome;

/* Calls method of service svc with arg through this thread's balancer. Returns true with
 * o->reply set, or false with the HTTP error in o. */
static bool call(int svc, const char *method, const value *arg, bool idempotent, outcome *o)
{
    char err[600];
    o->reply = NULL;
    worker *w = worker_get();
    if (!w) {
        o->http = 500, o->code = "INTERNAL";
        snprintf(o->msg, sizeof o->msg, "out of memory");
        return false;
    }
    worker_sync(w, svc);
    if (!w->lb[svc]) {
        o->http = 500, o->code = "INTERNAL";
        snprintf(o->msg, sizeof o->msg, "out of memory");
        return false;
    }
    lb_result res;
    call_status st = balancer_call(w->lb[svc], method, arg, idempotent, &o->reply, &res, err, sizeof err);
    switch (st) {
    case CALL_OK:
        return true;
    case CALL_REMOTE_ERROR: {
        bool known = grpc_status_known(res.status);
        int code = known ? res.status : GRPC_UNKNOWN;
        o->http = http_status(code);
        o->code = grpc_status_name(code);
        snprintf(o->msg, sizeof o->msg, "%s", known ? res.message : err);
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
    return send_error(c, o->http, o->code, "%s", o->msg);
}

static enum MHD_Result send_value(struct MHD_Connection *c, unsigned status, const value *v)
{
    buf out;
    buf_init(&out, 64u << 20);
    enum MHD_Result ok = jsonval_write(v, &out) < 0
                             ? send_error(c, 500, "INTERNAL", "the reply is too large")
                             : send_json(c, status, (const char *)buf_data(&out), buf_size(&out), NULL);
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

static const field_spec credentials[] = {{"name", false}, {"password", false}};

static enum MHD_Result user_register(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)arg;
    enum MHD_Result sent;
    value *v = read_body(c, rq, credentials, 2, &sent);
    /* not retried: a sign-up that reached an instance whose reply was lost would be
     * refused as ALREADY_EXISTS the second time */
    return v ? reply_call(c, SVC_USER, "/user.User/SignUp", v, false, 201) : sent;
}

static enum MHD_Result user_login(struct MHD_Connection *c, request *rq, const char *arg)
{
    (void)arg;
    enum MHD_Result sent;
    value *v = read_body(c, rq, credentials, 2, &sent);
    return v ? reply_call(c, SVC_USER, "/user.User/Login", v, true, 200) : sent;
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
    if (key)
        snprintf(rid, sizeof rid, "%s:%s", user, key);
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
        return send_error_body(c, 405, "UNIMPLEMENTED", allow, msg);
    }
    return send_error(c, 404, "NOT_FOUND",
                      "no route %s %.200s: the routes are POST /user/register, POST /user/login, POST /orders, "
                      "GET /orders/{id}, GET /orders?user=NAME and GET /arith/multiply?a=..&b=..",
                      method, url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
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
    if (rq->answered)
        return MHD_YES;
    rq->answered = true;
    if (rq->too_big)
        return send_error(c, 413, "RESOURCE_EXHAUSTED", "the body is larger than %d bytes", gw.max_body);
    if (!has_body(method) && buf_size(&rq->body) > 0)
        return send_error(c, 400, "INVALID_ARGUMENT", "%s takes no body", method);
    return dispatch(c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode why)
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
        free(rq);
    }
    *ctx = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_msg("libmicrohttpd: %s", line);
}

/* Waits until the connections have finished their requests, at most SHUTDOWN_GRACE_MS
 * (an idle keep-alive connection counts until then). */
static void drain(struct MHD_Daemon *d)
{
    for (int waited = 0; waited < SHUTDOWN_GRACE_MS; waited += 20) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (!info || info->num_connections == 0)
            return;
        clock_sleep_us(20 * 1000);
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: gateway [--listen HOST:PORT] [--registry URL] [options]\n"
            "Serves a REST API (JSON over HTTP/1.1, libmicrohttpd) and turns each request into\n"
            "a gRPC call to a service it finds in the registry, through the client-side\n"
            "balancer (round robin, a failed connection retried once elsewhere, failing\n"
            "instances ejected). No backend address is configured: only service names.\n"
            "\n"
            "Routes:\n"
            "  POST /user/register     {name, password} -> 201 {id, name}         user.User/SignUp\n"
            "  POST /user/login        {name, password} -> {token, expires_at, name} user.User/Login\n"
            "  POST /orders            {item, quantity} -> 201 the order           order.Order/Place\n"
            "  GET  /orders/{id}       -> the order                               order.Order/Get\n"
            "  GET  /orders?user=NAME  -> {orders: [...]}, newest first           order.Order/List\n"
            "  GET  /arith/multiply?a=7&b=8 -> {value: 56}                        arith.Arith/Multiply\n"
            "The order routes need Authorization: Bearer TOKEN (from /user/login); the gateway\n"
            "checks it with user.User/Verify and passes the user on. An Idempotency-Key header\n"
            "on POST /orders makes a repeated request return the first order.\n"
            "\n"
            "Errors are {\"error\": \"why\", \"code\": \"GRPC_STATUS\"}. Bad JSON, INVALID_ARGUMENT,\n"
            "FAILED_PRECONDITION and OUT_OF_RANGE are 400, UNAUTHENTICATED 401, PERMISSION_DENIED\n"
            "403, NOT_FOUND and unknown routes 404, a wrong method 405, ALREADY_EXISTS and ABORTED\n"
            "409, a body over --max-body 413, RESOURCE_EXHAUSTED 429, CANCELLED 499,\n"
            "UNIMPLEMENTED 501, no live instance and UNAVAILABLE 503, DEADLINE_EXCEEDED 504,\n"
            "anything else 500.\n"
            "\n"
            "Options:\n"
            "  -l, --listen HOST:PORT   address to serve on (default 127.0.0.1:8008; port 0\n"
            "                           picks a free port); the first line printed is the address\n"
            "      --registry URL       etcd://HOST:PORT[,...] or consul://HOST:PORT (default\n"
            "                           etcd://127.0.0.1:2379)\n"
            "      --user-service NAME  registry name of the user service (default user)\n"
            "      --order-service NAME registry name of the order service (default order)\n"
            "      --arith-service NAME registry name of the Arith service (default arith)\n"
            "      --timeout MS         deadline of each backend call (default 2000)\n"
            "      --max-body BYTES     largest request body (default 65536)\n"
            "      --threads N          worker threads (default 8)\n"
            "      --idle-timeout SEC   close an idle HTTP connection (default 30)\n"
            "      --service NAME       register the gateway itself in the registry as NAME\n"
            "                           (protocol http), kept alive, removed on SIGTERM;\n"
            "                           default: not registered\n"
            "      --ttl SECONDS        its lease TTL (default 10)\n"
            "  -q, --quiet              do not log registry changes and errors to stderr\n"
            "  -h, --help               show this help\n"
            "SIGTERM or SIGINT stops it: it deregisters, accepts no new connection, and answers\n"
            "the requests in flight (waiting at most 5 s) before it exits.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},        {"registry", required_argument, NULL, 'r'},
        {"user-service", required_argument, NULL, 'U'},  {"order-service", required_argument, NULL, 'O'},
        {"arith-service", required_argument, NULL, 'A'}, {"timeout", required_argument, NULL, 't'},
        {"max-body", required_argument, NULL, 'b'},      {"threads", required_argument, NULL, 'n'},
        {"idle-timeout", required_argument, NULL, 'i'},  {"quiet", no_argument, NULL, 'q'},
        {"service", required_argument, NULL, 'S'},       {"ttl", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0}};
    const char *listen_addr = "127.0.0.1:8008", *names[NSVC] = {"user", "order", "arith"};
    const char *self = NULL;
    int threads = 8, idle = 30, ttl = 10, ch;
    snprintf(gw.registry_url, sizeof gw.registry_url, "etcd://127.0.0.1:2379");
    gw.timeout_ms = 2000;
    gw.max_body = 65536;
    while ((ch = getopt_long(argc, argv, "l:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'l': listen_addr = optarg; break;
        case 'r': snprintf(gw.registry_url, sizeof gw.registry_url, "%s", optarg); break;
        case 'U': names[SVC_USER] = optarg; break;
        case 'O': names[SVC_ORDER] = optarg; break;
        case 'A': names[SVC_ARITH] = optarg; break;
        case 't':
            if (numopt_int(optarg, 1, 3600000, &gw.timeout_ms) < 0)
                gw.timeout_ms = -1; /* refused below */
            break;
        case 'b':
            if (numopt_int(optarg, 1, 1 << 30, &gw.max_body) < 0)
                gw.max_body = -1; /* refused below */
            break;
        case 'n':
            if (numopt_int(optarg, 1, 256, &threads) < 0)
                threads = -1; /* refused below */
            break;
        case 'i':
            if (numopt_int(optarg, 0, 86400, &idle) < 0)
                idle = -1; /* refused below */
            break;
        case 'q': gw.quiet = true; break;
        case 'S': self = optarg; break;
        case 'T':
            if (numopt_int(optarg, 1, 3600, &ttl) < 0)
                ttl = -1; /* refused below */
            break;
        case 'h': usage(stdout); return 0;
        default: fprintf(stderr, "Try 'gateway --help'.\n"); return 2;
        }
    }
    if (optind < argc || gw.timeout_ms <= 0 || gw.max_body <= 0 || threads < 1 || threads > 256 || idle < 0 ||
        ttl < 1 || ttl > 3600) {
        fprintf(stderr, "gateway: %s. Try 'gateway --help'.\n",
                optind < argc ? "unexpected argument" : "--timeout, --max-body, --threads (1..256), --idle-timeout and --ttl (1..3600) want positive numbers");
        return 2;
    }
    if (strcmp(gw.registry_url, "none") == 0) {
        fprintf(stderr, "gateway: --registry is needed: the gateway finds every service there\n");
        return 2;
    }
    char err[512];
    registry *probe = registry_new(gw.registry_url, NULL, err, sizeof err);
    if (!probe) {
        fprintf(stderr, "gateway: --registry: %s\n", err);
        return 2;
    }
    registry_free(probe);
    log_setup("gateway", gw.quiet);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < NSVC; i++) {
        snprintf(gw.dir[i].name, sizeof gw.dir[i].name, "%s", names[i]);
        pthread_mutex_init(&gw.dir[i].mu, NULL);
    }
    int fd = net_listen(listen_addr, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "gateway: %s\n", err);
        return 1;
    }
    char addr[80];
    net_local_addr(fd, addr, sizeof addr);
    pthread_key_create(&gw.worker_key, worker_free);

    /* Signals go to sigwait below, not to the threads about to start. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if (pthread_create(&gw.members, NULL, members_main, NULL) != 0) {
        fprintf(stderr, "gateway: cannot start the registry thread\n");
        close(fd);
        return 1;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)idle, MHD_OPTION_CONNECTION_LIMIT, 4000u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    int rc = 0;
    if (!d) {
        fprintf(stderr, "gateway: libmicrohttpd could not start on %s\n", addr);
        close(fd);
        rc = 1;
    } else {
        printf("%s\n", addr);
        fflush(stdout);
        log_msg("serving REST on http://%s, services from %s", addr, gw.registry_url);
        registry_keeper *keeper = NULL;
        if (self && !(keeper = registry_keeper_start(gw.registry_url, NULL, self, addr, "http", ttl, NULL,
                                                     NULL, err, sizeof err)))
            log_msg("--service: cannot register the gateway: %s", err);
        int sig = 0;
        sigwait(&sigs, &sig);
        log_msg("%s: finishing the requests in flight", strsignal(sig));
        registry_keeper_stop(keeper, true); /* clients stop choosing it first */
        MHD_quiesce_daemon(d);                /* no new connections */
        drain(d);
        MHD_stop_daemon(d);
        close(fd);
    }
    atomic_store(&gw.stop, true); /* the thread sees it within WATCH_POLL_MS */
    pthread_join(gw.members, NULL);
    log_msg("stopped");
    return rc;
}
