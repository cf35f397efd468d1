/* rpcclient.h -- a blocking client for one server, in any of the workbench's protocols.
 *
 * URLs name the protocol and the address: json://HOST:PORT (Go's net/rpc/jsonrpc),
 * gob://HOST:PORT (Go's net/rpc default codec) or grpc://HOST:PORT (gRPC over cleartext
 * HTTP/2). Every call has a deadline. The bytes sent and received can be kept for the
 * wire explainer. */
#ifndef WB_RPCCLIENT_H
#define WB_RPCCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "capture/pcapout.h"
#include "rpc/grpcclient.h"
#include "value/value.h"
#include "value/vtype.h"
#include "wire/grpc_status.h"
#include "wire/pbjson.h"
#include "wire/rpc_proto.h"

typedef struct rpcclient rpcclient;

/* Connects within timeout_ms. Returns the client (caller frees it), or NULL with err. */
rpcclient *rpcclient_dial(const char *url, int timeout_ms, char *err, size_t errlen);
/* Closes the connection and frees the client. Accepts NULL. */
void rpcclient_free(rpcclient *c);
/* Keep a copy of every byte sent and received from now on. */
void rpcclient_capture(rpcclient *c, bool on);
const buf *rpcclient_sent(const rpcclient *c);
const buf *rpcclient_received(const rpcclient *c);
/* From now on the connection is written to o as packets a capture would hold
 * (capture/pcapout.h), for Wireshark or tshark: its handshake at once (from the
 * socket's own addresses), each chunk sent or received as it happens with its time,
 * and its close when c is freed. o must outlive c, and may be shared by clients on
 * other threads. Call it once, right after dialling; o NULL does nothing. */
void rpcclient_record(rpcclient *c, pcapout *o);
rpc_proto rpcclient_proto(const rpcclient *c);
/* gRPC: sends the request header name: val with every later call, as
 * grpcclient_set_metadata says. Returns 0, or -1 with err (gob and JSON-RPC carry no
 * metadata). */
int rpcclient_set_metadata(rpcclient *c, const char *name, const char *val, char *err, size_t errlen);
/* The same, adding another header even when name is set already (grpcclient_add_metadata). */
int rpcclient_add_metadata(rpcclient *c, const char *name, const char *val, char *err, size_t errlen);

/* Takes one reply as it arrives. Returns 0 to go on, or -1 with err to cancel the call. */
typedef int (*rpc_reply_hook)(const value *reply, void *ud, char *err, size_t errlen);
/* gRPC: from now on, each reply message of a server-streaming method is decoded and
 * handed to fn (with ud) as it arrives, and not kept: such a call's CALL_OK leaves
 * *reply NULL. A hook that cancels makes the call CALL_FAILED (status GRPC_CANCELLED)
 * with its err. fn NULL goes back to collecting the replies into a list. */
void rpcclient_on_reply(rpcclient *c, rpc_reply_hook fn, void *ud);
/* gRPC: the response headers, trailers, and grpc-status-details-bin (a serialized
 * google.rpc.Status, base64-decoded; *n 0 when none came) of the call in progress
 * (from a reply hook) or the last one. Valid until the next call. NULL (and *n 0)
 * for gob and JSON-RPC. */
const grpc_md *rpcclient_grpc_headers(const rpcclient *c);
const grpc_md *rpcclient_grpc_trailers(const rpcclient *c);
const uint8_t *rpcclient_grpc_details(const rpcclient *c, size_t *n);

/* gob: sends the argument of every later call as a value of type t (borrowed: it must
 * outlive the calls), converted from the JSON value with Go's rules (vtype_coerce);
 * NULL: the catalog's type for a method it knows, else the type inferred from the
 * value (vtype_infer_json). */
void rpcclient_set_gob_type(rpcclient *c, const vtype *t);
/* gob: what the last call's inference changed, for the learner: one line per renamed
 * field ("(field \"name\" sent as \"Name\": ...)"); "" when nothing. Valid until the next
 * call. */
const char *rpcclient_gob_notes(rpcclient *c);

typedef enum call_status {
    CALL_OK = 0,
    CALL_REMOTE_ERROR = 1, /* the server answered with an error: err holds its message */
    CALL_FAILED = -1,      /* the call did not complete: connection, deadline or protocol */
    CALL_BAD_ARGUMENT = -2, /* the argument cannot be sent as the method's type; nothing was sent */
} call_status;

/* Calls method with arg and waits at most timeout_ms for the reply. gob: for a method
 * whose signature is in the catalog (wire/catalog.h) the argument is first converted
 * to its Go type; for others the type is inferred from the value.
 * On CALL_OK *reply is set (caller owns it).
 * gRPC: method is "/pkg.Service/Method", "pkg.Service/Method" or a net/rpc name such as
 * Arith.Multiply (which calls arith.Arith/Multiply); a client-streaming method takes a
 * list of messages, and a server-streaming one replies with the list it received. A
 * non-OK status is CALL_REMOTE_ERROR with err "CODE_NAME: message". */
call_status rpcclient_call(rpcclient *c, const char *name, const value *arg, int timeout_ms,
                           value **reply, char *err, size_t errlen);
/* As rpcclient_call, with the request messages given one by one: msgs is a V_LIST, each
 * item one message (a method that does not stream from the client takes exactly one;
 * gob and JSON-RPC likewise take one, the argument). */
call_status rpcclient_call_messages(rpcclient *c, const char *name, const value *msgs, int timeout_ms,
                                    value **reply, char *err, size_t errlen);
/* gRPC: how the replies of methods outside the workbench's own (those that take
 * proto3's JSON mapping) are written; the default leaves out fields at their zero value. */
void rpcclient_set_json_opts(rpcclient *c, const pbjson_opts *opts);
/* The last call's outcome as a gRPC status code (wire/grpc_status.h), for callers that
 * act on it rather than on err's text: GRPC_OK after CALL_OK; GRPC_INVALID_ARGUMENT
 * after CALL_BAD_ARGUMENT; after CALL_REMOTE_ERROR the server's grpc-status (GRPC_UNKNOWN
 * from a gob or JSON-RPC server, whose errors carry no code); after CALL_FAILED
 * GRPC_DEADLINE_EXCEEDED when no reply came before the deadline, GRPC_INTERNAL for a
 * gRPC reply that breaks the protocol, GRPC_UNAVAILABLE otherwise. */
int rpcclient_status(const rpcclient *c);
/* After CALL_REMOTE_ERROR, the server's own message (err without the code's name);
 * otherwise "". Valid until the next call. */
const char *rpcclient_status_message(const rpcclient *c);

#endif
