/* gateway_http.c -- what the gateway's routes share: a request's state, JSON replies
 * and errors, a call answered as JSON, the JSON body read against the fields a route
 * takes, and the bearer token checked -- each step that waits for a service continuing
 * in a callback on the loop. */
#include "gateway_http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <cJSON.h>

#include "base/buf.h"
#include "wire/jsonval.h"

#define MAX_TOKEN 128
#define MAX_REPLY (64u << 20)

/* ---- a request's state ---- */

gwreq *gwreq_new(http1_req *rq)
{
    gwreq *g = calloc(1, sizeof *g);
    if (!g) {
        static const char oom[] = "{\"error\":\"out of memory\",\"code\":\"INTERNAL\"}";
        http1_reply(rq, 500, NULL, oom, sizeof oom - 1);
        return NULL;
    }
    g->rq = rq;
    return g;
}

/* Frees g; a sign-up's or login's turn goes to the next one waiting. */
static void gwreq_free(gwreq *g)
{
    bool turn = g->turn;
    value_free(g->arg);
    free(g->login);
    free(g);
    if (turn)
        gateway_turn_end();
}

/* ---- HTTP replies ---- */

/* allow: the Allow header of a 405, or NULL; retry_after: the Retry-After of a 429 in
 * seconds, or 0. */
static void reply_json(http1_req *rq, unsigned status, const char *json, size_t n, const char *allow,
                       int retry_after)
{
    char headers[200] = "";
    size_t at = 0;
    if (allow)
        at += (size_t)snprintf(headers + at, sizeof headers - at, "Allow: %.100s\r\n", allow);
    if (status == 401)
        at += (size_t)snprintf(headers + at, sizeof headers - at, "WWW-Authenticate: Bearer\r\n");
    if (retry_after > 0)
        snprintf(headers + at, sizeof headers - at, "Retry-After: %d\r\n", retry_after);
    http1_reply(rq, status, headers[0] ? headers : NULL, json, n);
}

static void reply_error(http1_req *rq, unsigned status, const char *code, const char *allow, int retry_after,
                        const char *msg)
{
    static const char oom[] = "{\"error\":\"out of memory\",\"code\":\"INTERNAL\"}";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    cJSON_AddStringToObject(o, "code", code);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) {
        reply_json(rq, 500, oom, sizeof oom - 1, NULL, 0);
        return;
    }
    reply_json(rq, status, text, strlen(text), allow, retry_after);
    free(text);
}

void gateway_reply_error(http1_req *rq, unsigned status, const char *code, const char *msg)
{
    reply_error(rq, status, code, NULL, 0, msg);
}

void gateway_answer_error_body(gwreq *g, unsigned status, const char *code, const char *allow, int retry_after,
                               const char *msg)
{
    reply_error(g->rq, status, code, allow, retry_after, msg);
    gwreq_free(g);
}

void gateway_answer_error(gwreq *g, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gateway_answer_error_body(g, status, code, NULL, 0, msg);
}

void gateway_answer_outcome(gwreq *g, const outcome *o)
{
    gateway_answer_error_body(g, o->http, o->code, NULL, o->retry_after, o->msg);
}

void gateway_answer_value(gwreq *g, unsigned status, const value *v)
{
    buf out;
    buf_init(&out, MAX_REPLY);
    if (jsonval_write(v, &out) < 0) {
        buf_done(&out);
        gateway_answer_error(g, 500, "INTERNAL", "the reply is too large");
        return;
    }
    reply_json(g->rq, status, (const char *)buf_data(&out), buf_size(&out), NULL, 0);
    buf_done(&out);
    gwreq_free(g);
}

/* ---- calling the services ---- */

static void reply_call_done(void *ctx, outcome *o)
{
    gwreq *g = ctx;
    if (!o->reply) {
        gateway_answer_outcome(g, o);
        return;
    }
    gateway_answer_value(g, g->ok_status, o->reply);
    value_free(o->reply);
}

void gateway_reply_call(gwreq *g, int svc, const char *method, value *arg, bool idempotent, unsigned ok_status)
{
    g->ok_status = ok_status;
    gateway_call(svc, method, arg, idempotent, reply_call_done, g);
}

/* ---- reading requests ---- */

value *gateway_read_body(gwreq *g, const field_spec *allowed, size_t n)
{
    char err[400];
    size_t len;
    const uint8_t *body = http1_body(g->rq, &len);
    if (len == 0) {
        gateway_answer_error(g, 400, "INVALID_ARGUMENT", "the request has no body: send a JSON object");
        return NULL;
    }
    value *v = jsonval_parse((const char *)body, len, err, sizeof err);
    if (!v) {
        gateway_answer_error(g, 400, "INVALID_ARGUMENT", "the body is not valid JSON: %s", err);
        return NULL;
    }
    if (v->kind != V_MAP) {
        gateway_answer_error(g, 400, "INVALID_ARGUMENT", "the body must be a JSON object, not %s",
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
            gateway_answer_error(g, 400, "INVALID_ARGUMENT", "unknown field \"%.100s\": this route takes %s",
                                       key->u.s.p, names);
            value_free(v);
            return NULL;
        }
        bool good = f->is_int ? val->kind == V_INT || val->kind == V_UINT : val->kind == V_STRING;
        if (!good) {
            gateway_answer_error(g, 400, "INVALID_ARGUMENT", "field \"%s\" must be %s, not %s", f->name,
                                       f->is_int ? "an integer" : "a string", value_kind_name(val->kind));
            value_free(v);
            return NULL;
        }
    }
    for (size_t k = 0; k < n; k++)
        if (!value_get(v, allowed[k].name)) {
            gateway_answer_error(g, 400, "INVALID_ARGUMENT", "missing field \"%s\": this route takes %s",
                                       allowed[k].name, names);
            value_free(v);
            return NULL;
        }
    return v;
}

static void verified(void *ctx, outcome *o)
{
    gwreq *g = ctx;
    if (!o->reply) {
        gateway_answer_outcome(g, o);
        return;
    }
    const value *name = value_get(o->reply, "name");
    snprintf(g->user, sizeof g->user, "%s", name && name->kind == V_STRING ? name->u.s.p : "");
    value_free(o->reply);
    g->next(g);
}

void gateway_authenticate(gwreq *g, gwreq_fn next)
{
    const char *h = http1_header(g->rq, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        gateway_answer_error(g, 401, "UNAUTHENTICATED",
                             "this route needs a token: send Authorization: Bearer TOKEN (POST /user/login gives one)");
        return;
    }
    const char *token = h + 7;
    if (strlen(token) > MAX_TOKEN) {
        gateway_answer_error(g, 401, "UNAUTHENTICATED", "the token is longer than %d characters", MAX_TOKEN);
        return;
    }
    value *arg = value_struct(NULL);
    if (!arg || value_struct_set(arg, "token", value_cstring(token)) < 0) {
        value_free(arg);
        gateway_answer_error(g, 500, "INTERNAL", "out of memory");
        return;
    }
    g->next = next;
    gateway_call(SVC_USER, "/user.User/Verify", arg, true, verified, g);
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

/* A random request id: 32 hex digits. */
static void random_id(char *out, size_t n)
{
    uint8_t rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(out, n, "t%lld.%ld", (long long)ts.tv_sec, ts.tv_nsec);
        return;
    }
    for (size_t i = 0; i < sizeof rnd && 2 * i + 2 < n; i++)
        snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

bool gateway_request_key(gwreq *g, char *out, size_t n)
{
    const char *key = http1_header(g->rq, "Idempotency-Key");
    if (key && (strlen(key) == 0 || strlen(key) > 100)) {
        gateway_answer_error(g, 400, "INVALID_ARGUMENT", "Idempotency-Key must be 1 to 100 characters");
        return false;
    }
    if (key) /* the service scopes it to the user */
        snprintf(out, n, "%s", key);
    else
        random_id(out, n);
    return true;
}

/* gateway_create's step after authentication. */
static void create_authenticated(gwreq *g)
{
    char rid[240];
    value *body = gateway_read_body(g, g->fields, g->nfields);
    if (!body)
        return;
    if (!gateway_request_key(g, rid, sizeof rid)) {
        value_free(body);
        return;
    }
    value *v = value_struct(NULL);
    bool ok = v && value_struct_set(v, "user", value_cstring(g->user)) == 0;
    for (size_t i = 0; ok && i < g->nfields; i++)
        ok = value_struct_set(v, g->fields[i].name, value_clone(value_get(body, g->fields[i].name))) == 0;
    ok = ok && value_struct_set(v, "request_id", value_cstring(rid)) == 0;
    value_free(body);
    if (!ok) {
        value_free(v);
        gateway_answer_error(g, 500, "INTERNAL", "out of memory");
        return;
    }
    gateway_reply_call(g, g->svc, g->method, v, true, 201);
}

void gateway_create(gwreq *g, int svc, const char *method, const field_spec *fields, size_t n)
{
    g->svc = svc, g->method = method, g->fields = fields, g->nfields = n;
    gateway_authenticate(g, create_authenticated);
}
