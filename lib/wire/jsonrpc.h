/* jsonrpc.h -- JSON-RPC over a plain TCP stream: Go's net/rpc/jsonrpc (1.0) and JSON-RPC 2.0.
 *
 * Messages are JSON values that follow one another on the stream, with no length
 * prefix; jsonscan finds where each ends. Requests in Go's form are
 * {"method":M,"params":[ARG],"id":ID}; replies are {"id":ID,"result":R,"error":E}.
 * A request carrying "jsonrpc":"2.0" gets a 2.0 reply, with error objects and codes. */
#ifndef WB_JSONRPC_H
#define WB_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "value/value.h"
#include "wire/explain.h"
#include "wire/jsonscan.h"

/* JSON-RPC 2.0 error codes. */
enum {
    JSONRPC_PARSE_ERROR = -32700,
    JSONRPC_INVALID_REQUEST = -32600,
    JSONRPC_METHOD_NOT_FOUND = -32601,
    JSONRPC_INVALID_PARAMS = -32602,
    JSONRPC_INTERNAL_ERROR = -32603,
    JSONRPC_SERVER_ERROR = -32000, /* the method itself failed, e.g. divide by zero */
};

/* Server side: answers every complete request at the front of in (consuming it) by
 * appending replies to out. Methods are those the catalog serves (wire/catalog.h:
 * catalog_find, then catalog_call), so unknown names get Go's net/rpc words. As Go's
 * encoding/json does, invalid UTF-8 in a request is replaced by U+FFFD (an error reply
 * then says so), and every reply is valid JSON; a method name holding a NUL byte matches
 * no method ("rpc: can't find method Arith.Multiply\x00junk"). Returns 0, or -1 when the stream cannot go on (malformed
 * JSON, or a message over max_message): an error reply has been appended and err says
 * why; the connection should be closed after out is sent. eof: no more bytes will come.
 * scan: the connection's scan state (jsonscan_init it when the connection opens), which
 * lets a request that arrives over many calls be scanned once; in must then only be
 * appended to between calls; its `examined` counts the bytes scanned over the connection's
 * life. NULL scans every call's input from its start. */
int jsonrpc_serve(buf *in, buf *out, size_t max_message, bool eof, jsonscan_state *scan,
                  char *err, size_t errlen);

/* Client side: appends a request in Go's form, {"method":M,"params":[ARG],"id":ID}\n. */
int jsonrpc_write_request(buf *out, const char *name, const value *arg, uint64_t id);

typedef struct jsonrpc_reply {
    value *id;     /* as sent back */
    value *result; /* NULL when error is set */
    char *error;   /* NULL on success */
} jsonrpc_reply;
void jsonrpc_reply_done(jsonrpc_reply *r);

/* Reads one reply from p[0..n) (white space before it is skipped). Returns bytes consumed
 * (> 0) with r filled, 0 when more bytes are needed, -1 with err when the bytes are not a
 * JSON-RPC reply or the stream ended (eof) before one. */
long jsonrpc_read_reply(const char *p, size_t n, bool eof, jsonrpc_reply *r, char *err,
                        size_t errlen);

/* Explains a captured stream of requests (response false) or replies (true) into e.
 * Returns 0, or -1 when the bytes are not JSON (an error span says where). */
int jsonrpc_explain(const char *p, size_t n, bool response, explain *e);

#endif
