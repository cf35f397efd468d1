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

#include "server.h"

/* gRPC status codes used by the server. */
enum {
    GRPC_OK = 0,
    GRPC_CANCELLED = 1,
    GRPC_UNKNOWN = 2,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
};

/* The codec grpc-server passes to server_main; default address 127.0.0.1:50051. */
extern const server_codec grpcserver_codec;

/* Parses a grpc-timeout header value ("100m", "5S", "1H": at most 8 digits and a unit
 * of H, M, S, m, u or n) into milliseconds, rounded up. Returns 0, or -1 when malformed. */
int grpcserver_parse_timeout(const char *s, uint64_t *ms);

/* Percent-encodes a grpc-message as the gRPC spec asks (bytes outside 0x20..0x7e and
 * '%'), into out (always NUL-terminated, truncated to n bytes). Returns out. */
char *grpcserver_percent_encode(const char *msg, char *out, size_t n);

#endif
