/* grpcserver_int.h -- what the gRPC server's files share: a connection, its streams,
 * and the calls each file makes into the ones below it.
 *
 * The files in layers, each calling only the ones below it (a lower one reaches up only
 * through the hooks an upper one hands it):
 *
 *   grpcserver.c          the codec: opens connections with the method table's hooks,
 *                         adds the server's own methods first, serves the catalog's
 *   grpcserver_health.c   grpc.health.v1.Health, built in     (both ask the table
 *   grpcserver_reflect.c  the reflection service, built in     what is served)
 *   grpcserver_tally.c    tally.Tally, one method of each streaming kind
 *   grpcserver_methods.c  the method table: adding, binding a stream, dispatch
 *   grpcserver_call.c     a call as its handler sees it; unary calls on the loop or on
 *                         worker threads
 *   grpcserver_conn.c     connection and streams: nghttp2 callbacks, stream lifetime,
 *                         replies and trailers, deadlines, flow control
 *   grpcserver_guard.c    what a connection may hold and take: the deadlines, the budgets,
 *                         the request messages its methods take per turn
 *
 * Everything here runs on the server's loop thread unless it says otherwise. */
#ifndef WB_GRPCSERVER_INT_H
#define WB_GRPCSERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>
#include <protobuf-c/protobuf-c.h>

#include "base/buf.h"
#include "rpc/grpcserver.h"
#include "rpc/server.h"
#include "wire/pbcatalog.h"

typedef struct gconn gconn;
typedef struct gstream gstream;
typedef struct slow_call slow_call;

/* A handler's view of its call: a stream on the loop, or a unary call on a worker. */
struct grpc_call {
    gstream *s;      /* a call run on the loop */
    slow_call *slow; /* or one on a worker */
};

struct gstream {
    gconn *c;
    int32_t id;
    struct gstream *prev, *next;
    /* request headers */
    char *path;
    char *caller;            /* GRPC_CALLER_HEADER's value, or NULL */
    bool is_post, grpc_content_type, have_timeout, bad_timeout;
    uint64_t timeout_ms;
    char encoding[32];       /* grpc-encoding: "" (identity), "gzip", or one not served */
    /* request */
    const grpc_method *method; /* its entry in the method table */
    const pb_method *m;        /* and its protobuf shape */
    grpc_call call;            /* what its loop-side handlers get: {this stream, NULL} */
    slow_call *slow;         /* its call on a worker thread, until the loop takes the result */
    buf in;                  /* DATA not yet framed into whole messages */
    ProtobufCMessage *req;   /* unary and server-streaming: the one request */
    bool input_done;         /* END_STREAM seen */
    /* response */
    buf out;                 /* framed messages not yet handed to nghttp2 */
    bool headers_sent;       /* response HEADERS submitted (with a data provider) */
    bool finished;           /* the status is decided */
    bool trailers_sent;
    int status;
    char *message;
    void *state;             /* the method's own (grpcserver_call_state), freed with the stream */
    uint64_t deadline_timer;
    uint64_t tick_timer;     /* the method's timer, cancelled when the call finishes */
    uint64_t progress_ms;    /* when request bytes last came or reply bytes were last taken */
    size_t unconsumed;       /* request bytes held back from WINDOW_UPDATE: replies back up */
    bool deferred;           /* whole request messages wait in in (gguard_may_take said no) */
    bool end_seen;           /* END_STREAM came; input_done is set once in holds no message */
};

/* What a connection calls above it, set when it opens: the method table and the
 * worker pool. Each runs on the loop thread. */
typedef struct gconn_hooks {
    /* The request headers are good: find s's method (setting s->method and s->m).
     * Returns true, or false having finished the call. */
    bool (*bind)(gstream *s);
    /* One whole request message of n bytes arrived on a bound stream. */
    void (*message)(gstream *s, const uint8_t *p, size_t n);
    /* The client half-closed (s->input_done is set). */
    void (*input_done)(gstream *s);
    /* Every reply queued on s was taken. */
    void (*more)(gstream *s);
    /* The server began shutting down; called for each stream of the connection. */
    void (*shutdown)(gstream *s);
    /* s finished, or (gone) is being freed: its call on a worker, if any, is dropped. */
    void (*abandon)(gstream *s, bool gone);
} gconn_hooks;

struct gconn {
    server_conn *sc;
    const gconn_hooks *hooks;
    nghttp2_session *h2;
    size_t max_message;
    gstream *streams;
    size_t nstreams;
    bool shutting_down;
    char h2err[256]; /* nghttp2's reason for a connection error */
    buf inflated;    /* the gzip message being handled, inflated */
    /* Header work, each field counted as RFC 9113 6.5.2 does (name + value + 32): */
    size_t hdr_block;      /* of the header block being decoded */
    size_t hdr_turn;       /* decoded in this feed, against the per-turn budget */
    unsigned hdr_strikes;  /* header lists over SETTINGS_MAX_HEADER_LIST_SIZE so far */
    size_t msg_turn;       /* request messages handed to methods in this feed */
    size_t reply_turn;     /* and reply bytes they queued */
    bool calm;             /* GOAWAY (ENHANCE_YOUR_CALM) queued: read nothing more */
    char calm_why[160];    /* and why, for the log */
    size_t held;           /* bytes its streams held when last counted (grpcserver_guard.c) */
    uint64_t sweep_timer;  /* looks for streams past --stream-timeout while any is open */
    uint64_t progress;     /* calls begun, request messages' bytes, replies taken: not PING
                            * nor SETTINGS (server_codec.progress) */
    bool caller_logged;    /* a call without the caller secret was logged */
};

/* ---- grpcserver_conn.c: the codec's connections, and replies on a stream ---- */

/* The codec's open_conn, calling hooks (which must outlive the connection). */
void *gconn_open(server_conn *sc, size_t max_message, const gconn_hooks *hooks);
void gconn_close(void *state);
feed_result gconn_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen);
void gconn_shutdown(void *state);
bool gconn_busy(void *state);
/* server_codec.progress: calls begun, request bytes on them, replies taken (c->progress). */
uint64_t gconn_progress(void *state);

/* Submits the response headers with a data provider that sends s->out, then the
 * trailers. Does nothing the second time. */
void gstream_start_response(gstream *s);
/* Decides the call's status (message may be NULL): before any message a Trailers-Only
 * response, otherwise trailers after the queued messages. Only the first call counts. */
void gstream_finish(gstream *s, int status, const char *message);
/* Queues one reply message. Returns 0, or -1 when the call is finished or the message
 * could not be queued (the call then ends with INTERNAL). */
int gstream_send(gstream *s, const ProtobufCMessage *msg);
/* Ends s at once with RST_STREAM (ENHANCE_YOUR_CALM), dropping the replies queued. */
void gstream_reset(gstream *s);
/* The same with RST_STREAM code (an nghttp2_error_code). */
void gstream_abort(gstream *s, uint32_t code);
/* Queues one reply message as gstream_send does: head's packing followed by the n bytes
 * at tail (its later fields, packed once and kept: see grpcserver_reflect.c). */
int gstream_send_parts(gstream *s, const ProtobufCMessage *head, const uint8_t *tail, size_t n);
/* Appends msg to out with gRPC's 5-byte prefix (uncompressed). Returns 0 or -1.
 * Safe on any thread. */
int gstream_frame(buf *out, const ProtobufCMessage *msg);

/* ---- grpcserver_guard.c: what a connection may hold (policy; grpcserver_conn.c acts) ---- */

/* Parses a grpc-timeout value ("100m", "5S", "1H": at most 8 digits and a unit of H, M,
 * S, m, u or n) into milliseconds, rounded up. Returns 0, or -1 when malformed. */
int gguard_parse_timeout(const char *s, uint64_t *ms);
/* Replies queued on a stream past which its request window stays shut. */
#define GSTREAM_OUT_BACKLOG (256u * 1024)

/* True when s's method may take another request message now: the connection has not
 * used this turn's share (messages, reply bytes), and s's replies do not back up (more
 * queued than the client's windows let through, by a margin, or GSTREAM_OUT_BACKLOG). */
bool gguard_may_take(gstream *s);
/* True when some stream of c has messages waiting that gguard_may_take would let go:
 * the connection wants another turn. */
bool gguard_turn_wanted(gconn *c);
/* s made progress: request bytes came, or the client took reply bytes. */
void gguard_progress(gstream *s);
/* --stream-timeout, in milliseconds. */
uint64_t gguard_stream_timeout(void);
/* True when s waits on its client (for the rest of a request, for it to take replies,
 * or for a unary request) and has made no progress for --stream-timeout; *held gets
 * the bytes s holds. */
bool gguard_stalled(const gstream *s, uint64_t now, size_t *held);
/* Counts what c's streams hold into c->held and the server's total; returns c->held. */
size_t gguard_recount(gconn *c);
/* Counts, then: over --conn-budget (at least twice the connection's max_message), or
 * over --server-budget with c holding some, the biggest stream of c, logged as reset;
 * otherwise NULL. */
gstream *gguard_over_budget(gconn *c);
/* True while the server holds more than 3/4 of --server-budget: new streams are refused. */
bool gguard_refuse(void);
/* c is closing: what it held leaves the server's total. */
void gguard_close(gconn *c);
/* True when some stream of c does not wait on its client (a call being worked on, or
 * one waiting for events of its own, such as a health Watch). */
bool gguard_busy(const gconn *c);

/* ---- grpcserver_call.c: the call, and unary calls ---- */

/* True when s may go on to its method of service ("order.Order"): no caller secret is
 * required (grpcserver_require_caller), the service is one of gRPC's own, or s carried
 * the secret. Otherwise finishes s with UNAUTHENTICATED and returns false. */
bool gcall_admit(gstream *s, const char *service);
/* A streaming method's input_done hook that ends the call with OK. */
void gcall_end_ok(grpc_call *call);

/* Runs s's unary method: on the loop, or queued for a worker thread. */
void gunary_run(gstream *s);
/* s has finished, or (gone) is being freed: its call on a worker, if any, is not
 * begun if not begun yet, and with gone its result will find no stream. */
void gunary_abandon(gstream *s, bool gone);

/* ---- grpcserver_methods.c: the method table and dispatch ---- */

/* Adds the n entries of t, each checked as grpcserver_add_methods says. Returns 0, or -1
 * with err at the first faulty entry (the ones before it stay). */
int gmethods_add(const grpc_method *t, size_t n, char *err, size_t errlen);

/* Finds the method of s->path (setting s->method and s->m). Returns true, or false
 * having finished the call with UNIMPLEMENTED. */
bool gmethods_bind(gstream *s);
/* One whole request message of n bytes arrived. */
void gmethods_message(gstream *s, const uint8_t *p, size_t n);
/* The client half-closed (s->input_done set): answer what waits for the whole request. */
void gmethods_input_done(gstream *s);
/* Every reply queued on s was taken: its method may make more. */
void gmethods_more(gstream *s);
/* The server is shutting down: tells s's method, if its call goes on. */
void gmethods_shutdown(gstream *s);
/* True when some method of service name ("user.User") is served; "" is the server. */
bool gmethods_service_served(const char *name);
/* How many methods the table holds: it only grows, so this tells a change. */
size_t gmethods_count(void);

/* ---- grpcserver_health.c: grpc.health.v1.Health's hooks ---- */

/* Check: the serving status of the service asked about, or NOT_FOUND. */
int ghealth_check(const ProtobufCMessage *req, grpc_call *call, char *msg, size_t msglen);
/* Watch: sends the first status of the watched service; the call goes on. */
void ghealth_watch(grpc_call *call, const ProtobufCMessage *req);
/* Watch, as the server shuts down: tells NOT_SERVING, then ends the call. */
void ghealth_watch_shutdown(grpc_call *call);

/* ---- grpcserver_reflect.c: grpc.reflection.v1 and v1alpha ServerReflection's hook ---- */

/* ServerReflectionInfo's message hook: answers one ServerReflectionRequest. The answers
 * that do not change (the services served, a compiled-in file with its imports) are
 * packed once and kept; only the echo of the request is packed each time. */
void greflect_answer(grpc_call *call, const ProtobufCMessage *req);
/* For tests: how many answers were packed whole (not from what was kept). */
unsigned long greflect_packed(void);

#endif
