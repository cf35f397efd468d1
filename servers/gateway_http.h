/* gateway_http.h -- what the gateway's route files share: from gateway_http.c, a
 * request's state across its calls, JSON replies and errors, the call answered as JSON,
 * the JSON body read against a route's fields, and the bearer token checked with the
 * user service; from gateway_posts.c, the post routes for gateway_routes.c's table.
 *
 * A route starts its work and returns; each step that needs a service continues in a
 * callback, on the loop. Every gateway_answer_* (and every function below that says it
 * answers) ends the request: its gwreq is freed and not to be used after. */
#ifndef WB_GATEWAY_HTTP_H
#define WB_GATEWAY_HTTP_H

#include "gateway_int.h"
#include "rpc/http1.h"
#include "value/value.h"

typedef struct gwreq gwreq;
typedef void (*gwreq_fn)(gwreq *g);

/* A field a route's JSON body may hold: a string, or an integer when is_int. */
typedef struct field_spec {
    const char *name;
    bool is_int;
} field_spec;

/* One request, from the route until its answer. */
struct gwreq {
    http1_req *rq;
    char user[128];   /* the token's user, once gateway_authenticate has checked it */
    gwreq_fn next;    /* what follows gateway_authenticate */
    int64_t id;       /* the record a route names in its path */
    /* the call gateway_create makes, after authentication */
    int svc;
    const char *method;
    const field_spec *fields;
    size_t nfields;
    /* a sign-up or login: its call, waiting for a turn; its name (for the budgets) */
    value *arg;
    bool idempotent;
    unsigned ok_status;
    char *login;
    bool turn; /* holds a turn, given back when its call ends */
};

/* A route's handler; arg is the path segment its pattern's '*' matched, or NULL. */
typedef void (*route_fn)(gwreq *g, const char *arg);

/* A request's state for rq. NULL when memory ran out (rq is then answered). */
gwreq *gwreq_new(http1_req *rq);

/* {"error":"message","code":"GRPC_NAME"}, with an Allow header when allow is set (a
 * 405) and a Retry-After when retry_after is positive (seconds). */
void gateway_answer_error_body(gwreq *g, unsigned status, const char *code, const char *allow, int retry_after,
                               const char *msg);
/* The same with a formatted message, no Allow, no Retry-After. */
void gateway_answer_error(gwreq *g, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The error an outcome holds. */
void gateway_answer_outcome(gwreq *g, const outcome *o);
/* v as JSON with status. */
void gateway_answer_value(gwreq *g, unsigned status, const value *v);
/* The error body for rq itself, for a request that has no gwreq (the codec refused it). */
void gateway_reply_error(http1_req *rq, unsigned status, const char *code, const char *msg);

/* Calls method of service svc with arg (taken), then answers with the reply as JSON and
 * ok_status, or with the error. */
void gateway_reply_call(gwreq *g, int svc, const char *method, value *arg, bool idempotent, unsigned ok_status);

/* The JSON object of the request's body, holding exactly the n fields allowed, each of
 * its kind. NULL after answering 400, saying what is wrong. */
value *gateway_read_body(gwreq *g, const field_spec *allowed, size_t n);
/* Checks the Authorization: Bearer token with user.User/Verify: next(g) follows with
 * g->user set, or the request is answered with the error. */
void gateway_authenticate(gwreq *g, gwreq_fn next);
/* A strictly decimal int64 (optional minus sign); false for NULL. */
bool gateway_parse_int(const char *s, int64_t *out);
/* The request id of a call that creates something, so that a retry on another instance
 * creates it once: the client's Idempotency-Key header (1..100 characters; the service
 * scopes it to the user), else a random one. False after answering 400 for a key out of
 * bounds. */
bool gateway_request_key(gwreq *g, char *out, size_t n);
/* A route that creates a record for the caller: checks the token, reads the body's n
 * fields, and calls method of svc with them, the caller as "user" and the request key
 * as "request_id" (so a retry on another instance creates it once). 201 the record. */
void gateway_create(gwreq *g, int svc, const char *method, const field_spec *fields, size_t n);

/* ---- the post routes (gateway_posts.c) ---- */

/* POST /post: {title, body} with a token -> 201 the post. */
void gateway_post_create(gwreq *g, const char *arg);
/* GET /post/{id} -> the post. */
void gateway_post_get(gwreq *g, const char *arg);
/* GET /post?user=NAME&limit=N -> {posts: [...]}, newest first. */
void gateway_post_list(gwreq *g, const char *arg);

/* ---- the routes (gateway_routes.c) ---- */

/* http1's on_request and on_refused. */
void gateway_on_request(http1_req *rq, void *ud);
void gateway_on_refused(http1_req *rq, unsigned status, const char *code, const char *msg, void *ud);

#endif
