/* gateway_http.h -- what the gateway's route files share: from gateway_http.c, a
 * request's state, JSON replies and errors, the gRPC call with its status mapped to
 * HTTP, the JSON body read against a route's fields, and the bearer token checked with
 * the user service; from gateway_posts.c, the post routes for gateway_routes.c's table. */
#ifndef WB_GATEWAY_HTTP_H
#define WB_GATEWAY_HTTP_H

#include <netinet/in.h>

#include "base/buf.h"
#include "gateway_int.h"
#include "value/value.h"

/* What a call to a service came to. */
typedef struct outcome {
    value *reply;  /* on success */
    unsigned http; /* on failure: the status to answer with */
    const char *code;
    int retry_after; /* seconds, for a 429; 0: no Retry-After */
    char msg[600];
} outcome;

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

/* A route's handler; arg is the path segment its pattern's '*' matched, or NULL. */
typedef enum MHD_Result (*route_fn)(struct MHD_Connection *c, request *rq, const char *arg);

/* A field a route's JSON body may hold: a string, or an integer when is_int. */
typedef struct field_spec {
    const char *name;
    bool is_int;
} field_spec;

/* {"error":"message","code":"GRPC_NAME"}, with an Allow header when allow is set (a
 * 405) and a Retry-After when retry_after is positive (seconds). */
enum MHD_Result gateway_send_error_body(struct MHD_Connection *c, unsigned status, const char *code,
                                        const char *allow, int retry_after, const char *msg);
/* The same with a formatted message, no Allow, no Retry-After. */
enum MHD_Result gateway_send_error(struct MHD_Connection *c, unsigned status, const char *code, const char *fmt,
                                   ...) __attribute__((format(printf, 4, 5)));
/* The error an outcome holds. */
enum MHD_Result gateway_send_outcome(struct MHD_Connection *c, outcome *o);
/* v as JSON with status. */
enum MHD_Result gateway_send_value(struct MHD_Connection *c, unsigned status, const value *v);

/* Calls method of service svc with arg through this thread's balancer, retried once on
 * another instance when idempotent and the connection failed. Returns true with
 * o->reply set (the caller frees it), or false with the HTTP error in o. */
bool gateway_call(int svc, const char *method, const value *arg, bool idempotent, outcome *o);
/* gateway_call, then the reply as JSON with ok_status or the error. Takes arg. */
enum MHD_Result gateway_reply_call(struct MHD_Connection *c, int svc, const char *method, value *arg,
                                   bool idempotent, unsigned ok_status);

/* The JSON object of rq's body, holding exactly the n fields allowed, each of its kind.
 * NULL with a 400 already queued (*sent), saying what is wrong. */
value *gateway_read_body(struct MHD_Connection *c, request *rq, const field_spec *allowed, size_t n,
                         enum MHD_Result *sent);
/* Checks the Authorization: Bearer token with user.User/Verify. Returns true with the
 * user's name in user, or false with the error queued (*sent). */
bool gateway_authenticate(struct MHD_Connection *c, char *user, size_t n, enum MHD_Result *sent);
/* A strictly decimal int64 (optional minus sign); false for NULL. */
bool gateway_parse_int(const char *s, int64_t *out);
/* The request id of a call that creates something, so that the balancer's retry on
 * another instance creates it once: the client's Idempotency-Key header (1..100
 * characters; the service scopes it to the user), else a random one. False with a 400
 * queued (*sent) for a key out of bounds. */
bool gateway_request_key(struct MHD_Connection *c, char *out, size_t n, enum MHD_Result *sent);
/* A route that creates a record for the caller: checks the token, reads the body's n
 * fields, and calls method of svc with them, the caller as "user" and the request key
 * as "request_id" (so a retry on another instance creates it once). 201 the record. */
enum MHD_Result gateway_create(struct MHD_Connection *c, request *rq, int svc, const char *method,
                               const field_spec *fields, size_t n);

/* ---- the post routes (gateway_posts.c) ---- */

/* POST /post: {title, body} with a token -> 201 the post. */
enum MHD_Result gateway_post_create(struct MHD_Connection *c, request *rq, const char *arg);
/* GET /post/{id} -> the post. */
enum MHD_Result gateway_post_get(struct MHD_Connection *c, request *rq, const char *arg);
/* GET /post?user=NAME&limit=N -> {posts: [...]}, newest first. */
enum MHD_Result gateway_post_list(struct MHD_Connection *c, request *rq, const char *arg);

#endif
