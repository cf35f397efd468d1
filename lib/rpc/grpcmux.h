/* grpcmux.h -- an asynchronous gRPC client on an event loop: many unary calls at once on one
 * HTTP/2 connection (nghttp2), each with its own deadline.
 *
 * It is what a server that calls other servers uses (the gateway): nothing blocks, and
 * the frames of every call started in one turn of the loop go out in one write. Messages
 * go in and come out as serialized protobuf; the caller encodes and decodes them. Calls
 * beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS wait in nghttp2's queue, inside
 * their deadline. Single-threaded: everything happens on the loop's thread. */
#ifndef WB_GRPCMUX_H
#define WB_GRPCMUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/loop.h"
#include "wire/grpc_status.h"

typedef struct grpcmux grpcmux;

/* How one call ended. Valid only during the callback. */
typedef struct grpcmux_reply {
    int status;          /* GRPC_OK, the server's grpc-status, or why the call failed */
    const char *message; /* grpc-message (percent-decoded), or why it failed; "" when none */
    const uint8_t *msg;  /* the reply message (without gRPC's 5-byte prefix) when status is */
    size_t len;          /* GRPC_OK; NULL and 0 otherwise */
    /* The call failed at the connection (refused, reset, closed, GOAWAY before the call
     * was taken, a protocol error) rather than with a status the server sent: another
     * instance may be tried. */
    bool conn_failed;
    /* Not one byte of the call reached the socket: trying it elsewhere cannot repeat
     * it, even for a method that is not idempotent. (Set too when the server said it
     * took none of it: a stream above its GOAWAY's last stream, or REFUSED_STREAM.) */
    bool unsent;
} grpcmux_reply;

/* Called exactly once per call, on the loop's thread, never from inside grpcmux_call
 * itself. ud is the caller's. */
typedef void (*grpcmux_done_fn)(void *ud, const grpcmux_reply *r);

/* Starts connecting to HOST:PORT (non-blocking; the connection must be up within
 * connect_timeout_ms, or the calls waiting for it fail with UNAVAILABLE, conn_failed and
 * unsent set). Calls may be made at once: they wait for the connection. Returns the
 * client, or NULL with a reason in err (an address that does not parse). */
grpcmux *grpcmux_new(loop *l, const char *addr, int connect_timeout_ms, char *err, size_t errlen);
/* Closes the connection. Every call still in flight ends first: its callback runs,
 * before this returns, with GRPC_CANCELLED, message "the client is closing" and
 * conn_failed set. Accepts NULL. */
void grpcmux_free(grpcmux *m);
/* Sends the request header name: val with every later call, as a never-indexed literal
 * (a credential stays out of HPACK's tables); a second call with the same name replaces
 * it. name and val are checked as grpcclient_metadata_check does. Returns 0, or -1 with
 * err. */
int grpcmux_set_metadata(grpcmux *m, const char *name, const char *val, char *err, size_t errlen);
/* Starts a unary call of path ("/arith.Arith/Multiply") with one request message
 * req[0..len) (copied), which must end within timeout_ms (also sent as grpc-timeout):
 * past it the stream is reset (RST_STREAM CANCEL) and the call ends with
 * GRPC_DEADLINE_EXCEEDED. fn(ud, reply) follows, later, exactly once, whatever happens
 * -- also when the call cannot even start (a connection that failed: UNAVAILABLE). */
void grpcmux_call(grpcmux *m, const char *path, const uint8_t *req, size_t len, int timeout_ms,
                  grpcmux_done_fn fn, void *ud);
/* False once the connection failed, was closed, or the server sent GOAWAY: new calls
 * on it would fail, so dial a new one (the calls in flight still end as they should). */
bool grpcmux_usable(const grpcmux *m);
/* Calls started and not yet ended. */
size_t grpcmux_in_flight(const grpcmux *m);
/* The address it was made for, as given. */
const char *grpcmux_addr(const grpcmux *m);

/* What the connection has done so far: frames sent by HTTP/2 frame type (0 DATA,
 * 1 HEADERS, 3 RST_STREAM, 4 SETTINGS, 6 PING, 7 GOAWAY, 8 WINDOW_UPDATE...), the
 * send() and recv() calls that moved bytes, and the bytes. */
typedef struct grpcmux_stats {
    uint64_t frames_sent[10];
    uint64_t writes, reads;
    uint64_t bytes_sent, bytes_received;
} grpcmux_stats;
void grpcmux_get_stats(const grpcmux *m, grpcmux_stats *out);

#endif
