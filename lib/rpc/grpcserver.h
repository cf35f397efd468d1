/* grpcserver.h -- gRPC over cleartext HTTP/2 (prior knowledge), as a server_codec.
 *
 * nghttp2 does the HTTP/2; each request stream is one call, dispatched by its :path
 * through one method table. An entry says how its call runs: unary, as a handler of
 * protobuf messages (on the loop or on a worker thread), or streaming, through hooks
 * that get each request message and may reply many times. The server adds its own
 * grpc.health.v1.Health and grpc.reflection.v1alpha.ServerReflection to the table the
 * same way a program adds its methods; grpc-server adds the sample services from the
 * method catalog (Greeter and Arith, run through pbvalue by the same handlers the gob
 * and JSON-RPC servers call) and tally.Tally (one method of each streaming kind).
 * Health and reflection list only what the table holds. Status and message travel in
 * trailers; grpc-timeout deadlines, the --max-message cap (RESOURCE_EXHAUSTED), flow
 * control for large messages, many streams per connection and graceful shutdown
 * (GOAWAY, then in-flight calls finish) are handled.
 *
 * Limits a client cannot talk its way past: 128 concurrent streams per connection, and
 * the 64 KiB header list the server advertises (SETTINGS_MAX_HEADER_LIST_SIZE, each
 * field counted as name + value + 32, after HPACK decoding): a longer list resets its
 * stream (ENHANCE_YOUR_CALM), a second one on the connection sends it away with GOAWAY
 * (ENHANCE_YOUR_CALM). A connection decodes at most 512 KiB of headers per feed; input
 * waits for the next turn, and a client that keeps more than 256 KiB waiting that way
 * is sent away too. */
#ifndef WB_GRPCSERVER_H
#define WB_GRPCSERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "rpc/server.h"
#include "wire/grpc_status.h"

/* The codec grpc-server passes to server_main; default address 127.0.0.1:50051. */
extern const server_codec grpcserver_codec;

/* ---- the method table ---- */

/* One call in progress, as a handler sees it. */
typedef struct grpc_call grpc_call;

/* Handles one unary call; req has the method's input type. On success the handler
 * sends its reply with grpcserver_reply and returns GRPC_OK; otherwise it returns a
 * status and writes a readable reason into msg (which becomes grpc-message). */
typedef int (*grpc_unary_fn)(const ProtobufCMessage *req, grpc_call *call, char *msg,
                             size_t msglen);
/* A streaming method's hook for one request message (of the method's input type; the
 * hook does not keep it). Runs on the server's loop. */
typedef void (*grpc_message_fn)(grpc_call *call, const ProtobufCMessage *req);
/* A streaming method's hook for an event of its call. Runs on the server's loop. */
typedef void (*grpc_event_fn)(grpc_call *call);

typedef struct grpc_method {
    const char *path; /* "/user.User/Login": a method compiled from proto/ (pbcatalog) */
    /* A unary method: runs once the one request has come and the client half-closed. */
    grpc_unary_fn unary;
    /* A slow unary method (a password hash): unary runs on one of the server's worker
     * threads, so the loop serves other calls meanwhile. unary must then be thread-safe. */
    bool on_worker;
    /* A streaming method (unary NULL): gets each request message as it arrives; for a
     * method that takes one request, that one, at once (a server stream need not wait
     * for the client's half-close). The call goes on until a hook finishes it. */
    grpc_message_fn message;
    /* Optional hooks of a streaming method: */
    grpc_event_fn input_done; /* the client half-closed */
    grpc_event_fn more;       /* every reply queued was taken: the client can read more */
    grpc_event_fn shutdown;   /* the server began shutting down while the call goes on */
} grpc_method;

/* Serves the n methods of table on every connection; each entry is copied, what it
 * points to must outlive the server. Call before server_main, from one thread. Returns
 * 0, or -1 with err when a path is not compiled in or already served, when an entry's
 * hooks do not fit its method's kind (unary needs a unary method, message a streaming
 * one) or the table is full; the entries before the faulty one stay served. */
int grpcserver_add_methods(const grpc_method *table, size_t n, char *err, size_t errlen);
/* Serves, as unary methods, the catalog's methods (wire/catalog.h) that have a gRPC path
 * and a handler: the request message becomes a value (pbvalue), catalog_call runs the
 * method, and its reply value becomes the reply message. Methods added to the catalog
 * later are not served. Returns 0, or -1 with err as grpcserver_add_methods. */
int grpcserver_add_catalog(char *err, size_t errlen);
/* tally.Tally, one method of each streaming kind: Count (from the server), Total (from
 * the client) and RunningTotal (both ways). grpc-server serves it. */
extern const grpc_method grpcserver_tally[];
extern const size_t grpcserver_ntally;

/* Takes the gRPC server's own options out of argv (as server_take_option does), before
 * server_main: --stream-timeout SEC (default 30: a stream waiting on its client, for the
 * rest of a request or to take its replies, that long without progress is reset; a
 * connection all of whose streams are reset so is sent away with GOAWAY),
 * --conn-budget BYTES (default 8 MiB: partial requests and unread replies one connection
 * may hold; past it its biggest stream is reset, RESOURCE_EXHAUSTED) and --server-budget
 * BYTES (default 256 MiB: the same over all connections; past three quarters of it new
 * streams are refused with REFUSED_STREAM, past it the biggest stream of the connection
 * adding more is reset). --conn-budget is at least twice --max-message. Returns 0, or -1
 * with err for a bad value. */
int grpcserver_take_options(int *argc, char **argv, char *err, size_t errlen);
/* A program's --help text (about) followed by what grpcserver_take_options takes, ready
 * for server_main. The text lives in one static buffer: call once, at start. */
const char *grpcserver_about(const char *about);

/* The request header a caller secret travels in, and how the grpc-message of a call
 * refused for it begins. */
#define GRPC_CALLER_HEADER "wb-caller-secret"
#define GRPC_CALLER_REFUSED "caller secret "

/* From now on every call must carry the request header GRPC_CALLER_HEADER with
 * exactly secret (copied; compared in constant time), except calls of gRPC's own
 * services (grpc.*: health checking and reflection stay open to probes and tools).
 * Another call is answered UNAUTHENTICATED, its grpc-message beginning
 * GRPC_CALLER_REFUSED, before its request is read; the first on each connection is
 * logged with the peer's address (never the header's value). NULL, the default: no
 * call needs one. Call before server_main. Returns 0, or -1 with err when secret is
 * not visible ASCII or longer than SECRET_MAX - 1 bytes. */
int grpcserver_require_caller(const char *secret, char *err, size_t errlen);

/* Waits for the on_worker calls running to end and drops the ones queued (their
 * clients are gone with the server). Call after server_main, before closing what the
 * handlers use. */
void grpcserver_stop_workers(void);

/* ---- what a handler may do with its call ---- */

/* Queues reply (of the method's output type): a unary call's one reply, or one more
 * message of a streaming call. Returns 0, or -1 when the call has finished or the reply
 * could not be queued (the call then ends with INTERNAL). */
int grpcserver_reply(grpc_call *call, const ProtobufCMessage *reply);
/* Ends a streaming call with status and message (may be NULL), after the replies
 * queued. Only the first end counts. For the hooks of a streaming method; a unary
 * handler returns its status instead. */
void grpcserver_finish(grpc_call *call, int status, const char *message);
/* A streaming call's own memory of size bytes, zeroed when first asked for (every ask
 * of a call gives the same size) and freed when the call ends; NULL when out of memory. */
void *grpcserver_call_state(grpc_call *call, size_t size);
/* The address the server listens on, for replies that say who served them. */
const char *grpcserver_call_local(const grpc_call *call);

#endif
