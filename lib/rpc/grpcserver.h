/* grpcserver.h -- gRPC over cleartext HTTP/2 (prior knowledge), as a server_codec.
 *
 * nghttp2 does the HTTP/2; each request stream is dispatched by its :path through
 * pbcatalog. Greeter and Arith go through pbvalue to the shared services (the same
 * code the gob and JSON-RPC servers run); tally.Tally (one method of each streaming
 * kind), grpc.health.v1.Health and grpc.reflection.v1alpha.ServerReflection are
 * implemented here. Status and message travel in trailers; grpc-timeout deadlines,
 * the --max-message cap (RESOURCE_EXHAUSTED), flow control for large messages, many
 * streams per connection and graceful shutdown (GOAWAY, then in-flight calls finish)
 * are handled. */
#ifndef WB_GRPCSERVER_H
#define WB_GRPCSERVER_H

#include <protobuf-c/protobuf-c.h>

#include "rpc/server.h"
#include "wire/grpc_status.h"

/* The codec grpc-server passes to server_main; default address 127.0.0.1:50051. */
extern const server_codec grpcserver_codec;

/* ---- methods a program adds: user-server and order-server ---- */

/* One call in progress, as a handler sees it. */
typedef struct grpc_call grpc_call;

/* Handles one unary call; req has the method's input type. On success the handler
 * sends its reply with grpcserver_reply and returns GRPC_OK; otherwise it returns a
 * status and writes a readable reason into msg (which becomes grpc-message). */
typedef int (*grpc_unary_fn)(const ProtobufCMessage *req, grpc_call *call, char *msg,
                             size_t msglen);

typedef struct grpc_unary {
    const char *path; /* "/user.User/Login": a method compiled from proto/ (pbcatalog) */
    grpc_unary_fn fn;
    /* A slow method (a password hash): fn runs on one of the server's worker threads, so
     * the loop serves other calls meanwhile. fn must then be thread-safe. */
    bool on_worker;
} grpc_unary;

/* Serves the methods of table (which must outlive the server) on every connection, in
 * addition to health and reflection. With samples false, Greeter, Arith and Tally are
 * not served, nor listed by reflection or health. Call before server_main. */
void grpcserver_set_methods(const grpc_unary *table, size_t n, bool samples);
/* Waits for the on_worker calls running to end and drops the ones queued (their
 * clients are gone with the server). Call after server_main, before closing what the
 * handlers use. */
void grpcserver_stop_workers(void);
/* Queues reply (of the method's output type) as the call's one reply message. Returns 0,
 * or -1 when it could not be queued (the call then ends with INTERNAL). */
int grpcserver_reply(grpc_call *call, const ProtobufCMessage *reply);
/* The address the server listens on, for replies that say who served them. */
const char *grpcserver_call_local(const grpc_call *call);

#endif
