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
#include "capture/pcapout.h"
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
/* From now on the connection is written to o as packets (capture/pcapout.h): its
 * handshake at once, each chunk sent or received as it happens, the close when c is
 * freed. o must outlive c. Call it once, right after dialling; o NULL does nothing. */
void grpcclient_record(grpcclient *c, pcapout *o);

enum { GRPCCLIENT_MAX_METADATA = 32 };

/* The request headers a client sends with every call (gRPC metadata), owned. */
typedef struct grpc_sendmd {
    char *name[GRPCCLIENT_MAX_METADATA], *value[GRPCCLIENT_MAX_METADATA];
    size_t n;
} grpc_sendmd;
/* Sets name: val (checked as grpcclient_metadata_check does; copied): replacing the
 * header called name when it is set and add is false, else as one more. Returns 0, or
 * -1 with err. */
int grpc_sendmd_set(grpc_sendmd *s, const char *name, const char *val, bool add, char *err, size_t errlen);
/* Frees every header (s itself is the caller's). */
void grpc_sendmd_clear(grpc_sendmd *s);

/* Sends the request header name: val (gRPC metadata) with every later call on c,
 * after the protocol's own headers; a second call with the same name replaces its
 * value. name is lowercase letters, digits, '-', '_' and '.', not one that gRPC or HTTP
 * uses itself (grpc-*, te, content-type, user-agent, host, :pseudo-headers, HTTP/1's
 * connection headers); val is visible ASCII and spaces. A binary key (name ending in
 * -bin) takes its value as base64 text, sent as it is (HTTP/2 carries -bin values in
 * base64). Both are copied. The header goes as a never-indexed literal (RFC 7541
 * 7.1.3), kept out of HPACK's tables as a credential should be.
 * Returns 0, or -1 with err when name or val is unfit or c has
 * GRPCCLIENT_MAX_METADATA others already. */
int grpcclient_set_metadata(grpcclient *c, const char *name, const char *val, char *err, size_t errlen);
/* As grpcclient_set_metadata, but adds another header even when name is set already:
 * a key may carry several values, each in its own header. */
int grpcclient_add_metadata(grpcclient *c, const char *name, const char *val, char *err, size_t errlen);
/* Checks name and val as grpcclient_set_metadata does, without a client. Returns 0, or
 * -1 with the reason in err. */
int grpcclient_metadata_check(const char *name, const char *val, char *err, size_t errlen);
/* Splits "Name: value" (curl's and grpcurl's -H) into a lowercased name (at most ncap-1
 * bytes) and *val, which points into text after the colon and the blanks that follow
 * it. Returns 0, or -1 with err when there is no colon or the name is empty or long. */
int grpcclient_metadata_parse(const char *text, char *name, size_t ncap, const char **val, char *err,
                              size_t errlen);

enum { GRPC_MD_MAX = 64, GRPC_MD_BYTES = 16384, GRPC_DETAILS_MAX = 16384 };

/* The headers or trailers of a reply, as received (pseudo-headers left out), each name
 * and value NUL-terminated in bytes. Pairs past GRPC_MD_MAX, or past GRPC_MD_BYTES in
 * all, are counted in dropped and not kept. Values are the peer's bytes: escape them
 * (base/esc.h) before printing. */
typedef struct grpc_md {
    size_t n, dropped;
    uint16_t off[GRPC_MD_MAX]; /* where pair i's name starts; its value follows its NUL */
    size_t used;
    char bytes[GRPC_MD_BYTES];
} grpc_md;

const char *grpc_md_name(const grpc_md *m, size_t i);
const char *grpc_md_value(const grpc_md *m, size_t i);
/* The value of the first pair named name, or NULL. */
const char *grpc_md_find(const grpc_md *m, const char *name);

/* Takes one reply message as it arrives (its bytes, without gRPC's 5-byte prefix).
 * Returns 0 to go on, or -1 with a reason in err to cancel the call. */
typedef int (*grpc_reply_fn)(const uint8_t *msg, size_t len, void *ud, char *err, size_t errlen);

typedef struct grpc_result {
    int status;        /* grpc-status (GRPC_OK on success); after a failed call, why it failed */
    char message[512]; /* grpc-message, percent-decoded */
    buf *replies;      /* each reply message: a 4-byte big-endian length, then its bytes */
    size_t nreplies;
    /* set by the caller: when on_reply is set, each reply message goes to it, as it
     * arrives, and not into replies (nreplies still counts them) */
    grpc_reply_fn on_reply;
    void *reply_ud;
    /* filled by the call: the response headers (those of a trailers-only reply count
     * as trailers), the trailers, and grpc-status-details-bin decoded from base64
     * (a serialized google.rpc.Status; details_len 0 when none came or it did not fit) */
    grpc_md headers, trailers;
    uint8_t details[GRPC_DETAILS_MAX];
    size_t details_len;
} grpc_result;

/* Appends p[0..n) as one message in the form grpcclient_call takes its requests and
 * gives its replies: a 4-byte big-endian length, then the bytes. Returns 0, or -1 when b
 * is full. */
int grpcclient_put_message(buf *b, const void *p, size_t n);
/* The message at *off of a buffer in that form: its bytes into *msg and *len, and *off
 * past it. False at the end, or where a length runs past the end. */
bool grpcclient_next_message(const buf *b, size_t *off, const uint8_t **msg, size_t *len);

/* Calls path ("/helloworld.Greeter/SayHello") with the request messages in reqs (each
 * a 4-byte big-endian length then the bytes, as in grpc_result.replies), waiting at
 * most timeout_ms (also sent as grpc-timeout). Reply messages are appended to
 * *res->replies. Returns 0 when the server answered with a status (which may be an
 * error), or -1 with err when the call did not complete; res->status then says why:
 * GRPC_DEADLINE_EXCEEDED when no reply came before the deadline, GRPC_UNAVAILABLE when
 * the connection failed, GRPC_INTERNAL when the reply is not gRPC, GRPC_CANCELLED when
 * res->on_reply cancelled it (err then holds its reason). */
int grpcclient_call(grpcclient *c, const char *path, const buf *reqs, int timeout_ms,
                    grpc_result *res, char *err, size_t errlen);

#endif
