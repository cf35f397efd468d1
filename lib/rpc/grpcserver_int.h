/* grpcserver_int.h -- what the gRPC server's files share: a connection, its streams,
 * and the calls each file makes into the others.
 *
 *   grpcserver.c          the public face, method dispatch, Greeter/Arith and Tally
 *   grpcserver_conn.c     connection and streams: nghttp2 callbacks, stream lifetime,
 *                         replies and trailers, deadlines, flow control
 *   grpcserver_pool.c     methods the program added; the slow ones on worker threads
 *   grpcserver_health.c   grpc.health.v1.Health
 *   grpcserver_reflect.c  grpc.reflection.v1alpha.ServerReflection
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
#include "reflection.pb-c.h"
#include "rpc/grpcserver.h"
#include "rpc/server.h"
#include "wire/pbcatalog.h"

typedef enum handler {
    H_SERVICE,      /* Greeter, Arith: unary, through the shared services */
    H_COUNT,        /* server streaming */
    H_TOTAL,        /* client streaming */
    H_RUNNING,      /* bidirectional */
    H_HEALTH_CHECK,
    H_HEALTH_WATCH,
    H_REFLECTION,   /* bidirectional */
    H_EXTRA,        /* unary, a method the program added (grpcserver_set_methods) */
} handler;

typedef struct gconn gconn;
typedef struct slow_call slow_call;

typedef struct gstream {
    gconn *c;
    int32_t id;
    struct gstream *prev, *next;
    /* request headers */
    char *path;
    bool is_post, grpc_content_type, have_timeout, bad_timeout;
    uint64_t timeout_ms;
    char encoding[32];       /* grpc-encoding: "" (identity), "gzip", or one not served */
    /* request */
    const pb_method *m;
    handler h;
    const grpc_unary *extra;
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
    /* state of the streaming methods */
    int64_t sum;
    int64_t count_next, count_to;
    int interval_ms;
    bool counting;
    bool watching;
    uint64_t deadline_timer, tick_timer;
} gstream;

struct gconn {
    server_conn *sc;
    nghttp2_session *h2;
    size_t max_message;
    gstream *streams;
    size_t nstreams;
    bool shutting_down;
    char h2err[256]; /* nghttp2's reason for a connection error */
    buf inflated;    /* the gzip message being handled, inflated */
};

/* ---- grpcserver_conn.c: the codec's hooks, and replies on a stream ---- */

void *gconn_open(server_conn *sc, size_t max_message);
void gconn_close(void *state);
feed_result gconn_feed(void *state, buf *in, buf *out, bool eof, char *err, size_t errlen);
void gconn_shutdown(void *state);
bool gconn_busy(void *state);

/* Submits the response headers with a data provider that sends s->out, then the
 * trailers. Does nothing the second time. */
void gstream_start_response(gstream *s);
/* Decides the call's status (message may be NULL): before any message a Trailers-Only
 * response, otherwise trailers after the queued messages. Only the first call counts. */
void gstream_finish(gstream *s, int status, const char *message);
/* Queues one reply message. Returns 0, or -1 when the call is finished or the message
 * could not be queued (the call then ends with INTERNAL). */
int gstream_send(gstream *s, const ProtobufCMessage *msg);
/* Cancels the stream's deadline and tick timers and stops a Count. */
void gstream_stop_timers(gstream *s);
/* Appends msg to out with gRPC's 5-byte prefix (uncompressed). Returns 0 or -1.
 * Safe on any thread. */
int gstream_frame(buf *out, const ProtobufCMessage *msg);

/* ---- grpcserver.c: dispatch and the sample methods ---- */

/* Finds the method of s->path (setting s->m and s->h). Returns true, or false having
 * finished the call with UNIMPLEMENTED. */
bool gmethods_bind(gstream *s);
/* One whole request message of n bytes arrived. */
void gmethods_message(gstream *s, const uint8_t *p, size_t n);
/* The client half-closed: answer what waits for the whole request. */
void gmethods_input_done(gstream *s);
/* nghttp2 wants more of a Count without interval: makes the next chunk of messages. */
void gmethods_count_more(gstream *s);
/* True when some method of service name ("user.User") is served; "" is the server. */
bool gmethods_service_served(const char *name);

/* ---- grpcserver_pool.c: methods the program added ---- */

/* Runs s's H_EXTRA method: on the loop, or queued for a worker thread. */
void gextra_run(gstream *s);
/* s has finished, or (gone) is being freed: its call on a worker, if any, is not
 * begun if not begun yet, and with gone its result will find no stream. */
void gextra_abandon(gstream *s, bool gone);

/* ---- grpcserver_health.c ---- */

/* Health/Check: answers the one request of s. */
void ghealth_check(gstream *s);
/* Health/Watch: sends the first status of the watched service; the call goes on. */
void ghealth_watch(gstream *s);
/* The server is shutting down: tells c's watches NOT_SERVING, then ends them. */
void ghealth_shutdown(gconn *c);

/* ---- grpcserver_reflect.c ---- */

/* Answers one ServerReflectionRequest on s. */
void greflect_answer(gstream *s, const Grpc__Reflection__V1alpha__ServerReflectionRequest *q);

#endif
