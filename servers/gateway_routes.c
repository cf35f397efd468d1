/* gateway_routes.c -- the gateway's REST routes: the route table, the user, order and
 * arith routes, and each request's way in from http1 (its body, the turns of sign-ups
 * and logins). */
#include "gateway_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sign-ups and logins: the calls that hash a password ----
 * They take turns (gateway_throttle.c): a flood of them waits there, bounded, and every
 * other route goes on meanwhile. */

static const field_spec credentials[] = {{"name", false}, {"password", false}};

static void login_done(void *ctx, outcome *o)
{
    gwreq *g = ctx;
    if (g->login && (o->reply || o->http == 401)) /* else the password was not judged */
        gateway_throttle_settle(g->login, (const struct sockaddr *)http1_peer(g->rq), !o->reply);
    if (!o->reply) {
        gateway_answer_outcome(g, o);
        return;
    }
    gateway_answer_value(g, g->ok_status, o->reply);
    value_free(o->reply);
}

static void on_turn(void *arg, const outcome *refused)
{
    gwreq *g = arg;
    if (refused) {
        gateway_answer_outcome(g, refused);
        return;
    }
    g->turn = true;
    if (http1_gone(g->rq)) { /* nobody to answer: the turn goes to the next */
        gateway_answer_error(g, 499, "CANCELLED", "the client went away");
        return;
    }
    value *a = g->arg;
    g->arg = NULL;
    gateway_call(SVC_USER, g->method, a, g->idempotent, login_done, g);
}

/* Waits for a turn, then calls method with arg (taken). */
static void take_turn(gwreq *g, const char *method, value *arg, bool idempotent, unsigned ok_status)
{
    g->method = method, g->arg = arg, g->idempotent = idempotent, g->ok_status = ok_status;
    if (!gateway_turn_ask(http1_loop(g->rq), on_turn, g)) {
        outcome o = {.http = 429, .code = "RESOURCE_EXHAUSTED", .retry_after = 1};
        snprintf(o.msg, sizeof o.msg, "too many sign-ups and logins are waiting: try again in a second");
        gateway_answer_outcome(g, &o);
    }
}

static void user_register(gwreq *g, const char *arg)
{
    (void)arg;
    value *v = gateway_read_body(g, credentials, 2);
    /* not retried once sent: a sign-up that reached an instance whose reply was lost
     * would be refused as ALREADY_EXISTS the second time */
    if (v)
        take_turn(g, "/user.User/SignUp", v, false, 201);
}

static void user_login(gwreq *g, const char *arg)
{
    (void)arg;
    value *v = gateway_read_body(g, credentials, 2);
    if (!v)
        return;
    const value *name = value_get(v, "name");
    int wait = 0;
    throttle_verdict tv = gateway_throttle_check(name->u.s.p, (const struct sockaddr *)http1_peer(g->rq), &wait);
    if (tv != THROTTLE_OK) {
        outcome o = {.http = 429, .code = "RESOURCE_EXHAUSTED", .retry_after = wait};
        if (tv == THROTTLE_USER)
            snprintf(o.msg, sizeof o.msg, "too many failed logins as \"%.100s\": try again in %d s", name->u.s.p, wait);
        else
            snprintf(o.msg, sizeof o.msg, "too many failed logins from your address: try again in %d s", wait);
        value_free(v);
        gateway_answer_outcome(g, &o);
        return;
    }
    if (!(g->login = strdup(name->u.s.p))) {
        value_free(v);
        gateway_answer_error(g, 500, "INTERNAL", "out of memory");
        return;
    }
    take_turn(g, "/user.User/Login", v, true, 200);
}

/* ---- orders and arith ---- */

static void orders_place(gwreq *g, const char *arg)
{
    (void)arg;
    static const field_spec fields[] = {{"item", false}, {"quantity", true}};
    gateway_create(g, SVC_ORDER, "/order.Order/Place", fields, 2);
}

static void orders_get_authenticated(gwreq *g)
{
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "id", value_int(g->id)) < 0 || value_struct_set(v, "user", value_cstring(g->user)) < 0) {
        value_free(v);
        gateway_answer_error(g, 500, "INTERNAL", "out of memory");
        return;
    }
    gateway_reply_call(g, SVC_ORDER, "/order.Order/Get", v, true, 200);
}

static void orders_get(gwreq *g, const char *arg)
{
    if (!gateway_parse_int(arg, &g->id) || g->id <= 0) {
        gateway_answer_error(g, 400, "INVALID_ARGUMENT", "the order id must be a positive integer, not \"%.40s\"",
                             arg);
        return;
    }
    gateway_authenticate(g, orders_get_authenticated);
}

static void orders_list_authenticated(gwreq *g)
{
    const char *who = http1_query(g->rq, "user");
    if (who && strcmp(who, g->user) != 0) {
        gateway_answer_error(g, 403, "PERMISSION_DENIED", "the token is %s's: it lists only %s's orders", g->user,
                             g->user);
        return;
    }
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "user", value_cstring(g->user)) < 0) {
        value_free(v);
        gateway_answer_error(g, 500, "INTERNAL", "out of memory");
        return;
    }
    gateway_reply_call(g, SVC_ORDER, "/order.Order/List", v, true, 200);
}

static void orders_list(gwreq *g, const char *arg)
{
    (void)arg;
    gateway_authenticate(g, orders_list_authenticated);
}

static void arith_multiply(gwreq *g, const char *arg)
{
    (void)arg;
    int64_t x, y;
    if (!gateway_parse_int(http1_query(g->rq, "a"), &x) || !gateway_parse_int(http1_query(g->rq, "b"), &y)) {
        gateway_answer_error(g, 400, "INVALID_ARGUMENT", "a and b must be integers: /arith/multiply?a=7&b=8");
        return;
    }
    value *v = value_struct(NULL);
    if (!v || value_struct_set(v, "A", value_int(x)) < 0 || value_struct_set(v, "B", value_int(y)) < 0) {
        value_free(v);
        gateway_answer_error(g, 500, "INTERNAL", "out of memory");
        return;
    }
    gateway_reply_call(g, SVC_ARITH, "/arith.Arith/Multiply", v, true, 200);
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

static void dispatch(gwreq *g, const char *url, const char *method)
{
    char allow[64] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *arg;
        if (!match(routes[i].path, url, &arg))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            routes[i].fn(g, arg);
            return;
        }
        snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", allow[0] ? ", " : "",
                 routes[i].method);
    }
    if (allow[0]) {
        char msg[400];
        snprintf(msg, sizeof msg, "%.16s %.200s is not served; use %s", method, url, allow);
        gateway_answer_error_body(g, 405, "UNIMPLEMENTED", allow, 0, msg);
        return;
    }
    gateway_answer_error(g, 404, "NOT_FOUND",
                         "no route %s %.200s: the routes are POST /user/register, POST /user/login, POST /orders, "
                         "GET /orders/{id}, GET /orders?user=NAME, GET /arith/multiply?a=..&b=.., POST /post, "
                         "GET /post/{id} and GET /post?user=NAME",
                         method, url);
}

void gateway_on_request(http1_req *rq, void *ud)
{
    (void)ud;
    gwreq *g = gwreq_new(rq);
    if (!g)
        return;
    const char *method = http1_method(rq);
    size_t len;
    http1_body(rq, &len);
    if (!has_body(method) && len > 0) {
        gateway_answer_error(g, 400, "INVALID_ARGUMENT", "%s takes no body", method);
        return;
    }
    dispatch(g, http1_path(rq), method);
}

void gateway_on_refused(http1_req *rq, unsigned status, const char *code, const char *msg, void *ud)
{
    (void)ud;
    gateway_reply_error(rq, status, code, msg);
}
