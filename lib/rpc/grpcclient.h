/* grpcclient.h -- a blocking gRPC client over one HTTP/2 connection (nghttp2), with deadlines.
 *
 * Messages go in and come out as serialized protobuf bytes; lib/pbvalue turns them into
 * values. Each call sends its request messages, half-closes, and collects every reply
 * message and the status from the trailers. The bytes sent and received can be kept
 * for the wire explainer. */
#ifndef WB_GRPCCLIENT_H
#define WB_GRPCCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "wire/grpc_status.h"

typedef struct grpcclient grpcclient;

/* Connects to HOST:PORT within timeout_ms and sends the HTTP/2 preface. Returns the
 * client (caller frees), or NULL with a reason in err. */
grpcclient *grpcclient_dial(const char *addr, int timeout_ms, char *err, size_t errlen);
/* Closes the connection. Accepts NULL. */
void grpcclient_free(grpcclient *c);
/* Keep a copy of every byte sent and received from now on. */
void grpcclient_capture(grpcclient *c, bool on);
const buf *grpcclient_sent(const grpcclient *c);
const buf *grpcclient_received(const grpcclient *c);

enum { GRPCCLIENT_MAX_METADATA = 4 };

/* Sends the request header name: val (gRPC metadata) with every later call on c,
 * after the protocol's own headers; a second call with the same name replaces its
 * value. name is lowercase letters, digits, '-', '_' and '.', neither binary (*-bin)
 * nor one that gRPC or HTTP uses itself (grpc-*, te, content-type, user-agent, host);
 * val is visible ASCII and spaces. Both are copied. The header goes as a never-indexed
 * literal (RFC 7541 7.1.3), kept out of HPACK's tables as a credential should be.
 * Returns 0, or -1 with err when name or val is unfit or c has
 * GRPCCLIENT_MAX_METADATA others already. */
int grpcclient_set_metadata(grpcclient *c, const char *name, const char *val, char *err, size_t errlen);

typedef struct grpc_result {
    int status;        /* grpc-status (GRPC_OK on success); after a failed call, why it failed */
    char message[512]; /* grpc-message, percent-decoded */
    buf *replies;      /* each reply message: a 4-byte big-endian length, then its bytes */
    size_t nreplies;
} grpc_result;

/* Calls path ("/helloworld.Greeter/SayHello") with the request messages in reqs (each
 * a 4-byte big-endian length then the bytes, as in grpc_result.replies), waiting at
 * most timeout_ms (also sent as grpc-timeout). Reply messages are appended to
 * *res->replies. Returns 0 when the server answered with a status (which may be an
 * error), or -1 with err when the call did not complete; res->status then says why:
 * GRPC_DEADLINE_EXCEEDED when no reply came before the deadline, GRPC_UNAVAILABLE when
 * the connection failed, GRPC_INTERNAL when the reply is not gRPC. */
int grpcclient_call(grpcclient *c, const char *path, const buf *reqs, int timeout_ms,
                    grpc_result *res, char *err, size_t errlen);

#endif
